/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/serve/ctl.c, the frames of mtasts serve's control
 * channels.  A table of byte streams as a read(2) might return them
 * (partial headers, partial bodies, several frames in one read, empty
 * frames, lengths at and over the cap), each decoded as the server does
 * it: frame after frame until the decoder wants more or refuses; then
 * every split of a stream of three frames gives the same frames; the
 * header's byte order; and a table of replies, encoded and parsed.
 * Every decode reads a heap copy of exactly the input, so that ASan
 * catches a read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "serve.h"
#include "tap.h"

/* An 8-byte header: separate literals, so "\x05" "abc" stays 5, "abc". */
#define H(n)   "\0\0\0\0\0\0\0" n
#define MAXF   4 /* frames a row may hold */
#define NEED   CTL_NEED_MORE
#define BROKEN CTL_MALFORMED

static const struct frame_case {
	const char *name;
	const char *in;
	size_t len;
	size_t max;
	size_t nframes;
	const char *frames[MAXF]; /* the bodies, as C strings */
	enum ctl_result end;      /* NEED or BROKEN after the frames */
	size_t left;              /* bytes not consumed */
} frame_cases[] = {
#define ROW(n, s, m, end, left, nf, ...)                                       \
	{                                                                      \
		n, s, sizeof(s) - 1, m, nf, {__VA_ARGS__}, end, left           \
	}
    ROW("nothing read", "", BUNDLE_MAX, NEED, 0, 0, NULL),
    ROW("partial header: 1 byte", "\0", BUNDLE_MAX, NEED, 1, 0, NULL),
    ROW("partial header: 7 bytes", "\0\0\0\0\0\0\0", BUNDLE_MAX, NEED, 7, 0,
        NULL),
    ROW("zero-length frame", H("\0"), BUNDLE_MAX, NEED, 0, 1, ""),
    ROW("header, body not yet read", H("\x05"), BUNDLE_MAX, NEED, 8, 0, NULL),
    ROW("partial body", H("\x05") "abc", BUNDLE_MAX, NEED, 11, 0, NULL),
    ROW("whole frame", H("\x05") "hello", BUNDLE_MAX, NEED, 0, 1, "hello"),
    ROW("two frames in one read", H("\x02") "ab" H("\x03") "cde", BUNDLE_MAX,
        NEED, 0, 2, "ab", "cde"),
    ROW("a frame and a partial header", H("\x02") "ab\0\0\0", BUNDLE_MAX, NEED,
        3, 1, "ab"),
    ROW("a frame and a partial body", H("\x02") "ab" H("\x04") "xy", BUNDLE_MAX,
        NEED, 10, 1, "ab"),
    ROW("empty frame, then a frame", H("\0") H("\x01") "x", BUNDLE_MAX, NEED, 0,
        2, "", "x"),
    ROW("three empty frames", H("\0") H("\0") H("\0"), BUNDLE_MAX, NEED, 0, 3,
        "", "", ""),
    ROW("length at the cap", H("\x04") "abcd", 4, NEED, 0, 1, "abcd"),
    ROW("one over the cap", H("\x05") "abcde", 4, BROKEN, 13, 0, NULL),
    ROW("over the cap: refused before the body", H("\x05"), 4, BROKEN, 8, 0,
        NULL),
    ROW("over the cap after a frame", H("\x01") "a" H("\x09") "z", 4, BROKEN, 9,
        1, "a"),
    ROW("BUNDLE_MAX: waits for the body", "\0\0\0\0\x40\0\0\0", BUNDLE_MAX,
        NEED, 8, 0, NULL),
    ROW("BUNDLE_MAX + 1", "\0\0\0\0\x40\0\0\x01", BUNDLE_MAX, BROKEN, 8, 0,
        NULL),
    ROW("2^32 + 1: not cut to 32 bits",
        "\0\0\0\x01\0\0\0\x01"
        "a",
        BUNDLE_MAX, BROKEN, 9, 0, NULL),
    ROW("top bit set",
        "\x80\0\0\0\0\0\0\x01"
        "a",
        BUNDLE_MAX, BROKEN, 9, 0, NULL),
    ROW("2^64 - 1", "\xff\xff\xff\xff\xff\xff\xff\xff", BUNDLE_MAX, BROKEN, 8,
        0, NULL),
    ROW("reply cap", H("\x02") "OK", CTL_REPLY_MAX, NEED, 0, 1, "OK"),
#undef ROW
};

static uint8_t *
copy(const void *p, size_t n)
{
	uint8_t *q = malloc(n > 0 ? n : 1);

	if (q == NULL)
		abort();
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

/* Decodes frame after frame, as the server does; checks the row. */
static void
frame_case(const struct frame_case *c)
{
	uint8_t *buf = copy(c->in, c->len);
	struct ctl_frame f, untouched;
	enum ctl_result r;
	size_t off = 0, n = 0;
	bool ok = true;

	for (;;) {
		memset(&f, 0x5A, sizeof(f));
		untouched = f;
		r = ctl_frame_decode(buf + off, c->len - off, c->max, &f);
		if (r != CTL_FRAME)
			break;
		ok = ok && n < c->nframes && f.body == buf + off + 8 &&
		    f.size == 8 + f.len && f.len == strlen(c->frames[n]) &&
		    memcmp(f.body, c->frames[n], f.len) == 0;
		n++;
		off += f.size;
	}
	ok = ok && n == c->nframes && r == c->end && c->len - off == c->left &&
	    memcmp(&f, &untouched, sizeof(f)) == 0;
	tap_ok(ok, "frames: %s", c->name);
	free(buf);
}

/*
 * A stream of three frames read in two parts, split at every byte: the
 * first part gives the frames it holds whole, what is left waits for
 * the second, and the two give the three frames.
 */
static void
every_split(void)
{
	static const char stream[] = H("\x03") "one" H("\0") H("\x05") "three";
	static const char *const want[] = {"one", "", "three"};
	const size_t len = sizeof(stream) - 1;
	uint8_t *buf = copy(stream, len), *acc = malloc(len);
	struct ctl_frame f;
	size_t split, have, off, n;
	bool ok = acc != NULL;

	for (split = 0; ok && split <= len; split++) {
		have = off = n = 0;
		while (have < len) {
			size_t part = have < split ? split - have : len - have;

			memcpy(acc + have, buf + have, part);
			have += part;
			while (ctl_frame_decode(acc + off, have - off,
			                        BUNDLE_MAX, &f) == CTL_FRAME) {
				ok = ok && n < 3 && f.len == strlen(want[n]) &&
				    memcmp(f.body, want[n], f.len) == 0;
				n++;
				off += f.size;
			}
		}
		ok = ok && n == 3 && off == len;
	}
	tap_ok(ok, "frames: every split of a stream of three gives the same");
	free(buf);
	free(acc);
}

static void
headers(void)
{
	static const uint8_t want[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const uint64_t lens[] = {0, 1, 255, 256, 65536, BUNDLE_MAX};
	uint8_t hdr[8];
	size_t i, len;
	bool ok = true;

	ctl_header_encode(0x0102030405060708ull, hdr);
	tap_ok(memcmp(hdr, want, 8) == 0, "header: big-endian, 8 bytes");
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ctl_header_encode(lens[i], hdr);
		ok = ok && ctl_header_decode(hdr, BUNDLE_MAX, &len) == 0 &&
		    len == lens[i];
	}
	tap_ok(ok, "header: what is encoded decodes, up to BUNDLE_MAX");
	len = 777;
	ctl_header_encode(BUNDLE_MAX + 1ull, hdr);
	tap_ok(ctl_header_decode(hdr, BUNDLE_MAX, &len) == -1 && len == 777,
	       "header: over the cap refused, length untouched");
	ctl_header_encode(CTL_REPLY_MAX, hdr);
	tap_ok(ctl_header_decode(hdr, CTL_REPLY_MAX, &len) == 0 &&
	           len == CTL_REPLY_MAX &&
	           ctl_header_decode(hdr, CTL_REPLY_MAX - 1, &len) == -1,
	       "header: the cap is inclusive");
}

/* Encoded replies, byte for byte. */
static const struct encode_case {
	const char *name;
	bool ok;
	const char *why;
	const char *want; /* the whole frame */
	size_t len;
} encode_cases[] = {
#define ENC(n, ok, why, s)                                                     \
	{                                                                      \
		n, ok, why, s, sizeof(s) - 1                                   \
	}
    ENC("OK", true, "ignored", H("\x02") "OK"),
    ENC("FAIL with a reason", false, "malformed set",
        H("\x12") "FAIL malformed set"),
    ENC("FAIL without a reason", false, NULL, H("\x05") "FAIL "),
    ENC("FAIL with an empty reason", false, "", H("\x05") "FAIL "),
#undef ENC
};

/* Parsed reply bodies. */
static const struct parse_case {
	const char *name;
	const char *in;
	size_t len;
	size_t size; /* of why[] */
	int rc;
	bool ok;
	const char *why;
} parse_cases[] = {
#define PARSE(n, s, size, rc, ok, why)                                         \
	{                                                                      \
		n, s, sizeof(s) - 1, size, rc, ok, why                         \
	}
    PARSE("OK", "OK", 64, 0, true, ""),
    PARSE("FAIL why", "FAIL cannot build the set; old set kept", 64, 0, false,
          "cannot build the set; old set kept"),
    PARSE("FAIL, empty reason", "FAIL ", 64, 0, false, ""),
    PARSE("FAIL, reason cut to why[]", "FAIL abcdef", 4, 0, false, "abc"),
    PARSE("FAIL, control bytes shown as ?", "FAIL a\nb\0c\x7f", 64, 0, false,
          "a?b?c?"),
    PARSE("OK with a newline (the old text form)", "OK\n", 64, -1, false, NULL),
    PARSE("FAIL without its space", "FAIL", 64, -1, false, NULL),
    PARSE("lower case", "ok", 64, -1, false, NULL),
    PARSE("empty body", "", 64, -1, false, NULL),
    PARSE("something else", "MAYBE", 64, -1, false, NULL),
    PARSE("no room at all", "OK", 0, -1, false, NULL),
#undef PARSE
};

static void
replies(void)
{
	uint8_t out[CTL_REPLY_FRAME + 16], *in;
	char why[64], longwhy[400];
	struct ctl_frame f;
	size_t i, n;
	bool ok;
	int rc;

	for (i = 0; i < sizeof(encode_cases) / sizeof(encode_cases[0]); i++) {
		const struct encode_case *c = &encode_cases[i];

		n = ctl_reply_encode(c->ok, c->why, out);
		tap_ok(n == c->len && memcmp(out, c->want, n) == 0,
		       "reply encode: %s", c->name);
	}
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];

		in = copy(c->in, c->len);
		memset(why, 'X', sizeof(why));
		ok = !c->ok;
		rc = ctl_reply_parse(in, c->len, &ok, why, c->size);
		tap_ok(rc == c->rc &&
		           (rc == 0 ? ok == c->ok && strcmp(why, c->why) == 0 :
		                      ok == !c->ok && why[0] == 'X'),
		       "reply parse: %s", c->name);
		free(in);
	}
	/* A long reason is cut so that the frame stays under the cap. */
	memset(longwhy, 'w', sizeof(longwhy) - 1);
	longwhy[sizeof(longwhy) - 1] = '\0';
	memset(out, 0xEE, sizeof(out));
	n = ctl_reply_encode(false, longwhy, out);
	tap_ok(n == CTL_REPLY_FRAME && out[CTL_REPLY_FRAME] == 0xEE &&
	           ctl_frame_decode(out, n, CTL_REPLY_MAX, &f) == CTL_FRAME &&
	           f.len == CTL_REPLY_MAX &&
	           ctl_reply_parse(f.body, f.len, &ok, why, sizeof(why)) == 0 &&
	           !ok && strlen(why) == sizeof(why) - 1,
	       "reply encode: a long reason is cut to CTL_REPLY_MAX");
	/* What the server sends, the parent reads. */
	n = ctl_reply_encode(false, "malformed set", out);
	tap_ok(ctl_frame_decode(out, n, CTL_REPLY_MAX, &f) == CTL_FRAME &&
	           f.size == n &&
	           ctl_reply_parse(f.body, f.len, &ok, why, sizeof(why)) == 0 &&
	           !ok && strcmp(why, "malformed set") == 0,
	       "reply: encoded, framed, parsed back");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++)
		frame_case(&frame_cases[i]);
	every_split();
	headers();
	replies();
	return tap_done();
}
