/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/policyd/socketmap.c, the Postfix socketmap protocol of
 * mtasts policyd (socketmap_table(5)) and the smtp_tls_policy_maps keys
 * (RFC 8461 §3.4).  Tables, one line per case: the netstring decoder
 * (strict lengths, the caps to the octet), the encoder, requests, keys
 * (ours, then those of postfix-mta-sts-resolver's tests), replies.  Then
 * what a table cannot show: pipelined requests taken one after another
 * from one buffer, and a two-request stream split at every offset gives
 * the same two requests.  Every decode reads a heap copy of exactly the
 * input, so that ASan catches a read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socketmap.h"
#include "tap.h"

#define MORE SOCKETMAP_NEED_MORE
#define OK   SOCKETMAP_OK
#define ERR  SOCKETMAP_ERROR
#define QMAX SOCKETMAP_QUERY_MAX
#define RMAX SOCKETMAP_REPLY_MAX

/* A heap copy of exactly n octets (never NULL for n == 0). */
static char *
dup_exact(const char *s, size_t n)
{
	char *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
		abort();
	if (n > 0)
		memcpy(p, s, n);
	return p;
}

/* ---- decoder ---- */

/*
 * Rows: the input (sized, so a NUL can be in it), the cap, the result,
 * and for OK the payload and the octets consumed; for ERROR a word the
 * reason must contain.
 */
#define D_OK(n, s, cap, pay, used)                                             \
	{                                                                      \
		n, s, sizeof(s) - 1, cap, OK, pay, sizeof(pay) - 1, used, NULL \
	}
#define D_MORE(n, s, cap)                                                      \
	{                                                                      \
		n, s, sizeof(s) - 1, cap, MORE, NULL, 0, 0, NULL               \
	}
#define D_ERR(n, s, cap, w)                                                    \
	{                                                                      \
		n, s, sizeof(s) - 1, cap, ERR, NULL, 0, 0, w                   \
	}

static const struct decode_case {
	const char *name;
	const char *in;
	size_t len;
	size_t cap;
	enum socketmap_decode_result want;
	const char *payload; /* OK */
	size_t payload_len;  /* OK */
	size_t consumed;     /* OK */
	const char *why;     /* ERROR: a part of the reason */
} decode_cases[] = {
    D_OK("empty payload 0:,", "0:,", QMAX, "", 3),
    D_OK("one octet", "1:X,", QMAX, "X", 4),
    D_OK("request", "17:postfix gmail.com,", QMAX, "postfix gmail.com", 21),
    D_OK("nested netstring is data", "17:5:Hello,6:World!,,", QMAX,
         "5:Hello,6:World!,", 21),
    D_OK("first of two", "1:a,1:b,", QMAX, "a", 4),
    D_OK("trailing garbage is the next request's", "1:a,xyz", QMAX, "a", 4),
    D_OK("payload with ':' and ','", "3:,:,,", QMAX, ",:,", 6),
    D_OK("payload with NUL (request_parse refuses it)", "3:a\0b,", QMAX, "a\0b",
         6),
    D_OK("cap 0 takes 0:,", "0:,", 0, "", 3),
    D_MORE("nothing yet", "", QMAX),
    D_MORE("a digit", "1", QMAX),
    D_MORE("a zero", "0", QMAX),
    D_MORE("zero and colon", "0:", QMAX),
    D_MORE("length and colon", "5:", QMAX),
    D_MORE("part of the payload", "5:abc", QMAX),
    D_MORE("payload without ','", "5:abcde", QMAX),
    D_MORE("10000 digits, not more", "10000", QMAX),
    D_MORE("10000: waits for its data", "10000:", QMAX),
    D_MORE("1000 may still grow to 10000", "1000", QMAX),
    D_MORE("100000 within the reply cap", "100000", RMAX),
    D_ERR("leading zero 00:,", "00:,", QMAX, "leading zero"),
    D_ERR("leading zero 01:X,", "01:X,", QMAX, "leading zero"),
    D_ERR("leading zero seen at once", "00", QMAX, "leading zero"),
    D_ERR("empty length :,", ":,", QMAX, "not a digit"),
    D_ERR("letters aaa:aaa", "aaa:aaa", QMAX, "not a digit"),
    D_ERR("sign +1:X,", "+1:X,", QMAX, "not a digit"),
    D_ERR("sign -1:X,", "-1:X,", QMAX, "not a digit"),
    D_ERR("space before the length", " 1:X,", QMAX, "not a digit"),
    D_ERR("space after the length", "1 :X,", QMAX, "':'"),
    D_ERR("letter after the length", "1x", QMAX, "':'"),
    D_ERR("bad terminator 0:_", "0:_", QMAX, "','"),
    D_ERR("bad terminator 3:aaa_", "3:aaa_", QMAX, "','"),
    D_ERR("payload longer than said", "1:ab,", QMAX, "','"),
    D_ERR("10001 over the query cap, no data needed", "10001", QMAX, "cap"),
    D_ERR("10001: over the query cap", "10001:", QMAX, "cap"),
    D_ERR("20000 over the cap", "20000", QMAX, "cap"),
    D_ERR("six digits over the query cap", "100000", QMAX, "cap"),
    D_ERR("99999 over the query cap", "99999", QMAX, "cap"),
    D_ERR("100001 over the reply cap", "100001", RMAX, "cap"),
    D_ERR("a huge length", "99999999999999999999999", RMAX, "cap"),
    D_ERR("cap 5 refuses 6:123456,", "6:123456,", 5, "cap"),
    D_ERR("cap 1024 refuses 9999:aaa", "9999:aaa", 1024, "cap"),
    D_ERR("cap 1024 refuses 9999", "9999", 1024, "cap"),
    D_ERR("cap 0 refuses 1", "1", 0, "cap"),
};

static void
test_decode_table(void)
{
	const struct decode_case *c;
	struct socketmap_frame f, sentinel;
	enum socketmap_decode_result got;
	const char *why;
	char *buf;
	size_t i;
	bool good;

	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		c = &decode_cases[i];
		buf = dup_exact(c->in, c->len);
		memset(&f, 0xa5, sizeof(f));
		memcpy(&sentinel, &f, sizeof(f));
		why = NULL;
		got = socketmap_decode(buf, c->len, c->cap, &f, &why);
		good = got == c->want;
		if (good && got == OK)
			good = f.len == c->payload_len &&
			    f.consumed == c->consumed &&
			    memcmp(buf + f.off, c->payload, f.len) == 0;
		if (good && got != OK)
			good = memcmp(&f, &sentinel, sizeof(f)) == 0;
		if (good && got == ERR)
			good = why != NULL && strstr(why, c->why) != NULL;
		if (good && got == MORE)
			good = why == NULL;
		tap_ok(good, "decode: %s", c->name);
		free(buf);
	}
}

/* The caps to the octet, with real payloads of 10000 and 10001 octets. */
static void
test_decode_caps(void)
{
	struct socketmap_frame f;
	size_t n, len;
	char *buf;
	const char *why = NULL;

	buf = malloc(RMAX + 16);
	if (buf == NULL)
		abort();
	memcpy(buf, "10000:", 6);
	memset(buf + 6, 'k', QMAX);
	buf[6 + QMAX] = ',';
	len = 6 + QMAX + 1;
	tap_ok(socketmap_decode(buf, len, QMAX, &f, &why) == OK && f.off == 6 &&
	           f.len == QMAX && f.consumed == len,
	       "caps: a query of 10000 octets is taken");
	for (n = 0; n < len; n++)
		if (socketmap_decode(buf, n, QMAX, &f, &why) != MORE)
			break;
	tap_ok(n == len, "caps: every prefix of the 10000-octet query waits");
	memcpy(buf, "10001:", 6);
	memset(buf + 6, 'k', QMAX + 1);
	buf[6 + QMAX + 1] = ',';
	tap_ok(socketmap_decode(buf, 6 + QMAX + 2, QMAX, &f, &why) == ERR,
	       "caps: a query of 10001 octets is refused");
	tap_ok(socketmap_decode(buf, 6 + QMAX + 2, QMAX + 1, &f, &why) == OK &&
	           f.len == QMAX + 1,
	       "caps: the same 10001 octets under a cap of 10001");
	memcpy(buf, "100000:", 7);
	memset(buf + 7, 'r', RMAX);
	buf[7 + RMAX] = ',';
	tap_ok(socketmap_decode(buf, 7 + RMAX + 1, RMAX, &f, &why) == OK &&
	           f.len == RMAX && f.consumed == 7 + RMAX + 1,
	       "caps: a reply of 100000 octets is taken");
	tap_ok(socketmap_decode(buf, 7 + RMAX + 1, QMAX, &f, &why) == ERR,
	       "caps: the same reply is over the query cap");
	free(buf);
}

/* Pipelined requests in one buffer, taken one after another. */
static void
test_pipeline(void)
{
	static const char stream[] = "17:postfix gmail.com,"
				     "0:,"
				     "24:postfix [mx.example.net],"
				     "20:postfix .example.com,";
	static const char *const want[] = {"postfix gmail.com", "",
	                                   "postfix [mx.example.net]",
	                                   "postfix .example.com"};
	struct socketmap_frame f;
	size_t pos = 0, k = 0, len = sizeof(stream) - 1;
	char *buf = dup_exact(stream, len);
	bool good = true;

	while (pos < len && k < 4) {
		if (socketmap_decode(buf + pos, len - pos, QMAX, &f, NULL) !=
		    OK) {
			good = false;
			break;
		}
		good = good && f.len == strlen(want[k]) &&
		    memcmp(buf + pos + f.off, want[k], f.len) == 0;
		pos += f.consumed;
		k++;
	}
	tap_ok(good && k == 4 && pos == len,
	       "pipeline: four requests out of one buffer, in order");
	tap_ok(socketmap_decode(buf + len, 0, QMAX, &f, NULL) == MORE,
	       "pipeline: the drained buffer waits for more");
	free(buf);
}

/*
 * Takes every complete netstring off the front of buf[0..*len), moving
 * the rest down as a connection's buffer would, and appends each
 * payload to out (separated by '|').  Returns false on an error.
 */
static bool
drain(char *buf, size_t *len, char *out, size_t outsize, size_t *outlen)
{
	struct socketmap_frame f;
	enum socketmap_decode_result r;

	while ((r = socketmap_decode(buf, *len, QMAX, &f, NULL)) == OK) {
		if (*outlen + f.len + 1 > outsize)
			return false;
		memcpy(out + *outlen, buf + f.off, f.len);
		*outlen += f.len;
		out[(*outlen)++] = '|';
		memmove(buf, buf + f.consumed, *len - f.consumed);
		*len -= f.consumed;
	}
	return r == MORE;
}

/* A two-request stream split at every offset gives the same requests. */
static void
test_split(void)
{
	static const char stream[] = "24:postfix [mx.example.net],"
				     "31:postfix [relay.example.net]:587,";
	static const char want[] = "postfix [mx.example.net]|"
				   "postfix [relay.example.net]:587|";
	char buf[sizeof(stream)], out[sizeof(want) + 8];
	size_t k, len, outlen, bad = 0, total = sizeof(stream) - 1;

	for (k = 0; k <= total; k++) {
		outlen = 0;
		len = k;
		memcpy(buf, stream, k);
		if (!drain(buf, &len, out, sizeof(out), &outlen)) {
			bad++;
			continue;
		}
		memcpy(buf + len, stream + k, total - k);
		len += total - k;
		if (!drain(buf, &len, out, sizeof(out), &outlen) || len != 0 ||
		    outlen != sizeof(want) - 1 ||
		    memcmp(out, want, outlen) != 0)
			bad++;
	}
	tap_ok(bad == 0,
	       "split: all %zu split points give the same two "
	       "requests (%zu differ)",
	       total + 1, bad);
}

/* ---- encoder ---- */

static const struct encode_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
} encode_cases[] = {
    {"empty", "", 0, "0:,"},
    {"one octet", "X", 1, "1:X,"},
    {"ten octets", "0123456789", 10, "10:0123456789,"},
    {"NOTFOUND with its space", "NOTFOUND ", 9, "9:NOTFOUND ,"},
};

static void
test_encode(void)
{
	const struct encode_case *c;
	struct socketmap_frame f;
	char out[64], *big, *wire;
	size_t i, outlen, n;
	const char *why = NULL;

	for (i = 0; i < sizeof(encode_cases) / sizeof(encode_cases[0]); i++) {
		c = &encode_cases[i];
		outlen = 0;
		tap_ok(socketmap_encode(c->in, c->len, out, sizeof(out),
		                        &outlen, NULL) == 0 &&
		           outlen == strlen(c->want) &&
		           memcmp(out, c->want, outlen) == 0 &&
		           socketmap_decode(out, outlen, RMAX, &f, NULL) ==
		               OK &&
		           f.len == c->len && f.consumed == outlen,
		       "encode: %s", c->name);
	}
	/* The buffer must hold all of it, and is untouched when not. */
	memset(out, '#', sizeof(out));
	outlen = 77;
	tap_ok(socketmap_encode("0123456789", 10, out, 13, &outlen, &why) ==
	               -1 &&
	           outlen == 77 && out[0] == '#' && why != NULL,
	       "encode: 14 octets refused in 13, nothing written");
	tap_ok(socketmap_encode("0123456789", 10, out, 14, &outlen, NULL) ==
	               0 &&
	           outlen == 14,
	       "encode: 14 octets fit in 14");
	big = malloc(RMAX + 1);
	wire = malloc(SOCKETMAP_REPLY_WIRE_MAX + 16);
	if (big == NULL || wire == NULL)
		abort();
	memset(big, 'p', RMAX + 1);
	n = 0;
	tap_ok(socketmap_encode(big, RMAX, wire, SOCKETMAP_REPLY_WIRE_MAX, &n,
	                        NULL) == 0 &&
	           n == SOCKETMAP_REPLY_WIRE_MAX &&
	           socketmap_decode(wire, n, RMAX, &f, NULL) == OK &&
	           f.len == RMAX && memcmp(wire + f.off, big, RMAX) == 0,
	       "encode: 100000 octets, the wire maximum, decoded back");
	why = NULL;
	tap_ok(socketmap_encode(big, RMAX + 1, wire,
	                        SOCKETMAP_REPLY_WIRE_MAX + 16, &n,
	                        &why) == -1 &&
	           why != NULL && strstr(why, "100000") != NULL,
	       "encode: 100001 octets refused");
	free(big);
	free(wire);
}

/* ---- requests ---- */

#define R_OK(n, s, nm, k)                                                      \
	{                                                                      \
		n, s, sizeof(s) - 1, 0, nm, k, NULL                            \
	}
#define R_BAD(n, s, w)                                                         \
	{                                                                      \
		n, s, sizeof(s) - 1, -1, NULL, NULL, w                         \
	}

static const struct request_case {
	const char *name;
	const char *in;
	size_t len;
	int want;
	const char *map; /* want 0 */
	const char *key; /* want 0 */
	const char *why; /* want -1: a part of the reason */
} request_cases[] = {
    R_OK("plain", "postfix gmail.com", "postfix", "gmail.com"),
    R_OK("map name with _ - . and digits", "tls_policy-2.v4 example.com",
         "tls_policy-2.v4", "example.com"),
    R_OK("one-letter name and key", "a b", "a", "b"),
    R_OK("key is all after the first space", "postfix a b", "postfix", "a b"),
    R_OK("key may start with a space", "postfix  x", "postfix", " x"),
    R_OK("bracketed key", "postfix [relay.example.net]:587", "postfix",
         "[relay.example.net]:587"),
    R_OK("UTF-8 key",
         "postfix b\xc3\xbc"
         "cher.example",
         "postfix",
         "b\xc3\xbc"
         "cher.example"),
    R_BAD("empty", "", "empty"),
    R_BAD("no space", "postfix", "space"),
    R_BAD("empty name", " gmail.com", "name"),
    R_BAD("empty key", "postfix ", "key"),
    R_BAD("colon in the name", "inet:postfix gmail.com", "name"),
    R_BAD("slash in the name", "a/b gmail.com", "name"),
    R_BAD("non-ASCII name", "p\xc3\xa9 gmail.com", "name"),
    R_BAD("NUL in the key", "postfix gmail\0.com", "control"),
    R_BAD("NUL in the name", "post\0fix gmail.com", "control"),
    R_BAD("CR LF in the key", "postfix gmail.com\r\n", "control"),
    R_BAD("tab as separator", "postfix\tgmail.com", "control"),
    R_BAD("DEL in the key", "postfix gmail.com\x7f", "control"),
};

static void
test_request(void)
{
	const struct request_case *c;
	struct socketmap_request r, sentinel;
	const char *why;
	char *buf;
	size_t i;
	bool good;

	for (i = 0; i < sizeof(request_cases) / sizeof(request_cases[0]); i++) {
		c = &request_cases[i];
		buf = dup_exact(c->in, c->len);
		memset(&r, 0x5a, sizeof(r));
		memcpy(&sentinel, &r, sizeof(r));
		why = NULL;
		good =
		    socketmap_request_parse(buf, c->len, &r, &why) == c->want;
		if (good && c->want == 0)
			good = r.name == buf && r.name_len == strlen(c->map) &&
			    memcmp(r.name, c->map, r.name_len) == 0 &&
			    r.key_len == strlen(c->key) &&
			    memcmp(r.key, c->key, r.key_len) == 0 &&
			    r.key + r.key_len == buf + c->len;
		if (good && c->want == -1)
			good = memcmp(&r, &sentinel, sizeof(r)) == 0 &&
			    why != NULL && strstr(why, c->why) != NULL;
		tap_ok(good, "request: %s", c->name);
		free(buf);
	}
}

/* ---- keys ---- */

#define MAL  SOCKETMAP_KEY_MALFORMED
#define DOM  SOCKETMAP_KEY_DOMAIN
#define HOP  SOCKETMAP_KEY_NEXTHOP
#define U8   SOCKETMAP_KEY_UTF8
#define PAR  SOCKETMAP_KEY_PARENT
#define ADDR SOCKETMAP_KEY_ADDRESS

/*
 * Rows: the key, its kind, the policy domain (DOMAIN, NEXTHOP) or the
 * host part (UTF8), the port (NULL: none).
 */
/* Labels of 63 and 57 octets, for names of 253 octets and one more. */
#define L57 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz12345"
#define L63 L57 "678901"

#define K(n, k, kind)                                                          \
	{                                                                      \
		n, k, kind, NULL, NULL                                         \
	}
#define KD(n, k, kind, d)                                                      \
	{                                                                      \
		n, k, kind, d, NULL                                            \
	}
#define KP(n, k, kind, d, p)                                                   \
	{                                                                      \
		n, k, kind, d, p                                               \
	}

static const struct key_case {
	const char *name;
	const char *key;
	enum socketmap_key_kind kind;
	const char *domain;
	const char *port;
} key_cases[] = {
    /* STS-DOM-1: the next-hop domain, normally the recipient's. */
    KD("STS-DOM-1: recipient domain", "example.com", DOM, "example.com"),
    KD("lower-cased", "ExAmPle.COM", DOM, "example.com"),
    KD("trailing dot dropped", "example.com.", DOM, "example.com"),
    KD("subdomain", "mail.example.co.uk", DOM, "mail.example.co.uk"),
    KD("A-label as given", "xn--bcher-kva.example", DOM,
       "xn--bcher-kva.example"),
    KD("digits in labels", "1und1.de", DOM, "1und1.de"),
    KD("hyphen inside", "my-domain.example", DOM, "my-domain.example"),
    KP("domain with port (MX lookup kept)", "example.com:587", DOM,
       "example.com", "587"),
    KP("domain with service", "example.com:submission", DOM, "example.com",
       "submission"),
    KD("63-octet label",
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
       DOM,
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"),
    K("64-octet label",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
      MAL),
    KD("253 octets", L63 "." L63 "." L63 "." L57 ".com", DOM,
       L63 "." L63 "." L63 "." L57 ".com"),
    K("254 octets", L63 "." L63 "." L63 "." L57 "x.com", MAL),
    KD("253 octets and the root dot", L63 "." L63 "." L63 "." L57 ".com.", DOM,
       L63 "." L63 "." L63 "." L57 ".com"),
    /* STS-DOM-2 (checklist A10): the smart host's own name. */
    KD("STS-DOM-2: [relay] is the policy domain", "[smtp.relay.example]", HOP,
       "smtp.relay.example"),
    KP("[host]:port", "[relay.example.net]:587", HOP, "relay.example.net",
       "587"),
    KP("[host]:service", "[relay.example.net]:smtps", HOP, "relay.example.net",
       "smtps"),
    KD("[host.] lower-cased", "[MX.Example.NET.]", HOP, "mx.example.net"),
    KP("[host]:65535", "[mx.example.net]:65535", HOP, "mx.example.net",
       "65535"),
    K("[host]:65536", "[mx.example.net]:65536", MAL),
    K("[host]:0", "[mx.example.net]:0", MAL),
    K("[host]:025", "[mx.example.net]:025", MAL),
    K("[host]: empty port", "[mx.example.net]:", MAL),
    K("[host]:port:port", "[mx.example.net]:25:25", MAL),
    K("[host]x", "[mx.example.net]x", MAL),
    K("[host without ]", "[mx.example.net", MAL),
    K("[]", "[]", MAL),
    K("[[host]]", "[[mx.example.net]]", MAL),
    K("host]", "mx.example.net]", MAL),
    K("[single-label]", "[relay]", MAL),
    /* STS-DOM-3: parents are never asked for a policy. */
    K("STS-DOM-3: parent key", ".example.com", PAR),
    K("parent key of a TLD", ".com", PAR),
    K("parent key, upper case", ".EXAMPLE.com.", PAR),
    K("parent key in UTF-8",
      ".b\xc3\xbc"
      "cher.example",
      PAR),
    K("a lone dot", ".", MAL),
    K("two leading dots", "..example.com", MAL),
    K("parent key with a bad label", ".exa_mple.com", MAL),
    /* STS-DOM-4: address literals are not covered. */
    K("STS-DOM-4: [IPv4]", "[192.0.2.1]", ADDR),
    K("[IPv4]:port", "[192.0.2.1]:25", ADDR),
    K("[ipv6:...]", "[ipv6:2001:db8::1]", ADDR),
    K("[IPv6:...] any case", "[IPv6:2001:DB8::1]:587", ADDR),
    K("[IPv6:IPv4-embedded]", "[ipv6:::ffff:192.0.2.1]", ADDR),
    K("bare IPv4", "192.0.2.1", ADDR),
    K("bare IPv4 with port", "192.0.2.1:25", ADDR),
    K("bare IPv6", "2001:db8::1", ADDR),
    K("[ipv6:] not an address", "[ipv6:mx.example]", MAL),
    K("[host:name] not an address", "[mx:example.net]", MAL),
    K("numeric top-level label", "192.0.2", MAL),
    K("five numbers", "192.0.2.1.5", MAL),
    /* STS-DOM-5: a UTF-8 domain is converted by the I/O layer. */
    KD("STS-DOM-5: UTF-8 domain",
       "b\xc3\xbc"
       "cher.example",
       U8,
       "b\xc3\xbc"
       "cher.example"),
    KD("UTF-8 with trailing dot",
       "b\xc3\xbc"
       "cher.example.",
       U8,
       "b\xc3\xbc"
       "cher.example"),
    KP("[UTF-8]:port",
       "[m\xc3\xbc"
       "x.example]:25",
       U8,
       "m\xc3\xbc"
       "x.example",
       "25"),
    KD("UTF-8 single label", "\xe4\xbe\x8b\xe5\xad\x90", U8,
       "\xe4\xbe\x8b\xe5\xad\x90"),
    K("latin-1, not UTF-8",
      "b\xfc"
      "cher.example",
      MAL),
    K("overlong UTF-8", "\xc0\xaf.example", MAL),
    K("truncated UTF-8", "b\xc3", MAL),
    K("UTF-8 with empty label", "b\xc3\xbc..example", MAL),
    K("UTF-8 with underscore", "b\xc3\xbc_x.example", MAL),
    /* Malformed: NOTFOUND at once. */
    K("empty", "", MAL),
    K("single label", "localhost", MAL),
    K("two trailing dots", "example.com..", MAL),
    K("empty label", "example..com", MAL),
    K("leading hyphen", "-example.com", MAL),
    K("trailing hyphen in a label", "example-.com", MAL),
    K("underscore", "_mta-sts.example.com", MAL),
    K("space inside", "example .com", MAL),
    K("tab", "example.com\t", MAL),
    K("an address as user@domain", "user@example.com", MAL),
    K("bad port on a domain", "example.com:x!", MAL),
    K("empty host before a port", ":25", MAL),
};

/*
 * The keys of postfix-mta-sts-resolver's response tables
 * (github.com/Snawoot/postfix-mta-sts-resolver, tests/refdata.tsv,
 * tests/refdata_strict.tsv and tests/refdata_nosni.tsv: request
 * "test KEY", then the reply), those that concern the shape of a key.
 * The peer answers each key below from the policy of the domain given
 * here, or NOTFOUND without a lookup; where we differ it says so.  The
 * replies themselves need its DNS and HTTPS world: a later test.
 */
static const struct key_case peer_cases[] = {
    KD("refdata: good.loc", "good.loc", DOM, "good.loc"),
    KD("refdata: good.loc.", "good.loc.", DOM, "good.loc"),
    K("refdata: .good.loc (NOTFOUND)", ".good.loc", PAR),
    K("refdata: .no-record.loc (NOTFOUND)", ".no-record.loc", PAR),
    KD("refdata: valid-none.loc", "valid-none.loc", DOM, "valid-none.loc"),
    KD("refdata: bad-policy1.loc", "bad-policy1.loc", DOM, "bad-policy1.loc"),
    KD("refdata_strict: [good.loc]", "[good.loc]", HOP, "good.loc"),
    KP("refdata_strict: [good.loc]:123", "[good.loc]:123", HOP, "good.loc",
       "123"),
    KP("refdata_strict: good.loc:123", "good.loc:123", DOM, "good.loc", "123"),
    KD("refdata_strict: [no-record.loc]", "[no-record.loc]", HOP,
       "no-record.loc"),
    K("refdata_strict: [1.2.3.4] (NOTFOUND)", "[1.2.3.4]", ADDR),
    /* The peer writes IPv6 without Postfix's "ipv6:" tag: taken too. */
    K("refdata_strict: [a:bb:ccc::dddd]:123 (NOTFOUND)", "[a:bb:ccc::dddd]:123",
      ADDR),
};

static bool
key_matches(const struct key_case *c, const char *buf,
            const struct socketmap_key *k)
{
	bool has_host;

	if (k->kind != c->kind || k->why == NULL)
		return false;
	has_host = c->kind == DOM || c->kind == HOP || c->kind == U8;
	if (!has_host)
		return k->host == NULL && k->domain_len == 0 &&
		    k->domain[0] == '\0';
	if (c->kind == U8 &&
	    (k->domain_len != 0 || k->host_len == 0 ||
	     k->host_len != strlen(c->domain) ||
	     memcmp(k->host, c->domain, k->host_len) != 0))
		return false;
	if (c->kind != U8 &&
	    (k->domain_len != strlen(c->domain) ||
	     strcmp(k->domain, c->domain) != 0 || k->host_len != k->domain_len))
		return false;
	if (k->host < buf || k->host > buf + strlen(c->key))
		return false;
	if (k->bracketed != (c->key[0] == '['))
		return false;
	if (c->port == NULL)
		return k->port == NULL && k->port_len == 0;
	return k->port != NULL && k->port_len == strlen(c->port) &&
	    memcmp(k->port, c->port, k->port_len) == 0;
}

static void
run_keys(const char *what, const struct key_case *cases, size_t n)
{
	struct socketmap_key k;
	enum socketmap_key_kind got;
	char *buf;
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(cases[i].key);
		buf = dup_exact(cases[i].key, len);
		memset(&k, 0x33, sizeof(k));
		got = socketmap_key_classify(buf, len, &k);
		tap_ok(got == k.kind && key_matches(&cases[i], buf, &k),
		       "%s: %s", what, cases[i].name);
		if (got != cases[i].kind)
			tap_diag("kind %d, want %d (%s)", (int)got,
			         (int)cases[i].kind, k.why);
		free(buf);
	}
}

/* A NUL in the key (length-counted) is malformed, not cut short. */
static void
test_key_nul(void)
{
	struct socketmap_key k;

	tap_ok(socketmap_key_classify("example.com\0x", 13, &k) == MAL,
	       "key: NUL inside is malformed");
	tap_ok(socketmap_key_classify(NULL, 0, &k) == MAL && k.why != NULL,
	       "key: NULL, 0 is malformed");
}

/* ---- replies ---- */

static void
test_replies(void)
{
	char out[512], reason[400];
	size_t n = 0;
	const char *why = NULL;
	struct socketmap_frame f;

	tap_ok(socketmap_reply_notfound(out, sizeof(out), &n, NULL) == 0 &&
	           n == 12 && memcmp(out, "9:NOTFOUND ,", 12) == 0,
	       "reply: NOTFOUND with its space");
	tap_ok(socketmap_reply_ok("dane-only", 9, out, sizeof(out), &n, NULL) ==
	               0 &&
	           n == 16 && memcmp(out, "12:OK dane-only,", 16) == 0,
	       "reply: OK dane-only");
	tap_ok(socketmap_reply_ok("secure match=mx1.example.com:"
	                          "mx2.example.com servername=hostname",
	                          64, out, sizeof(out), &n, NULL) == 0 &&
	           n == 71 &&
	           memcmp(out,
	                  "67:OK secure match=mx1.example.com:"
	                  "mx2.example.com servername=hostname,",
	                  71) == 0,
	       "reply: OK secure match=... servername=hostname");
	tap_ok(socketmap_reply_ok("", 0, out, sizeof(out), &n, &why) == -1 &&
	           why != NULL,
	       "reply: empty OK refused");
	tap_ok(socketmap_reply_ok("secure\nmatch=x", 14, out, sizeof(out), &n,
	                          NULL) == -1,
	       "reply: OK with a newline refused");
	tap_ok(socketmap_reply_ok("secure\0x", 8, out, sizeof(out), &n, NULL) ==
	           -1,
	       "reply: OK with a NUL refused");
	tap_ok(socketmap_reply_ok("dane", 4, out, 9, &n, NULL) == -1,
	       "reply: OK that does not fit refused");
	tap_ok(socketmap_reply_failure(SOCKETMAP_TEMP, "dns: SERVFAIL", out,
	                               sizeof(out), &n, NULL) == 0 &&
	           n == 22 && memcmp(out, "18:TEMP dns: SERVFAIL,", 22) == 0,
	       "reply: TEMP reason");
	tap_ok(socketmap_reply_failure(SOCKETMAP_PERM, "bad map name", out,
	                               sizeof(out), &n, NULL) == 0 &&
	           n == 21 && memcmp(out, "17:PERM bad map name,", 21) == 0,
	       "reply: PERM reason");
	tap_ok(socketmap_reply_failure(SOCKETMAP_TIMEOUT, "fetch", out,
	                               sizeof(out), &n, NULL) == 0 &&
	           n == 17 && memcmp(out, "13:TIMEOUT fetch,", 17) == 0,
	       "reply: TIMEOUT reason");
	tap_ok(socketmap_reply_failure(SOCKETMAP_TEMP, NULL, out, sizeof(out),
	                               &n, NULL) == 0 &&
	           n == 8 && memcmp(out, "5:TEMP ,", 8) == 0,
	       "reply: TEMP without a reason");
	tap_ok(socketmap_reply_failure(SOCKETMAP_TEMP,
	                               "a\r\nb\x1b[1m\x7f\xc3\xa9", out,
	                               sizeof(out), &n, NULL) == 0 &&
	           n == 20 && memcmp(out, "16:TEMP a??b?[1m???,", 20) == 0,
	       "reply: reason sanitised as Postfix's printable()");
	memset(reason, 'z', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	tap_ok(socketmap_reply_failure(SOCKETMAP_PERM, reason, out, sizeof(out),
	                               &n, NULL) == 0 &&
	           socketmap_decode(out, n, RMAX, &f, NULL) == OK &&
	           f.len == 5 + SOCKETMAP_REASON_MAX,
	       "reply: reason cut to %d octets", SOCKETMAP_REASON_MAX);
	n = 99;
	tap_ok(socketmap_reply_failure(SOCKETMAP_PERM, reason, out,
	                               5 + SOCKETMAP_REASON_MAX, &n,
	                               &why) == -1 &&
	           n == 99,
	       "reply: failure that does not fit refused, *outlen untouched");
	tap_ok(socketmap_reply_failure((enum socketmap_failure)7, "x", out,
	                               sizeof(out), &n, NULL) == -1,
	       "reply: unknown type refused");
}

int
main(void)
{
	test_decode_table();
	test_decode_caps();
	test_pipeline();
	test_split();
	test_encode();
	test_request();
	run_keys("key", key_cases, sizeof(key_cases) / sizeof(key_cases[0]));
	run_keys("peer key", peer_cases,
	         sizeof(peer_cases) / sizeof(peer_cases[0]));
	test_key_nul();
	test_replies();
	return tap_done();
}
