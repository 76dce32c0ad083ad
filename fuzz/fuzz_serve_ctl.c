/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the control-channel frames of mtasts serve
 * (src/serve/ctl.c): what the server reads from the parent, and the
 * parent from the server.  The first byte picks the cap (a set's
 * BUNDLE_MAX, a reply's CTL_REPLY_MAX, or a small one so that bodies
 * reach it) and where the rest is split in two reads; the rest is the
 * stream.  Besides memory errors (ASan: the decoder must not read past
 * what it is given) and undefined behaviour (UBSan), it aborts when an
 * invariant breaks:
 * - each frame lies within the input, its size is the header and its
 *   body, and its body is within the cap;
 * - the decoder stops only wanting more (less than a header, or a body
 *   not whole, left) or on a length over the cap;
 * - the stream read in two parts, as a socket may give it, yields the
 *   same frames and the same end;
 * - each frame's header re-encodes to the bytes read;
 * - a body that parses as a reply re-encodes to a reply that parses
 *   the same (its reason cut to what a reply holds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "serve.h"

#include "fuzz.h"

#define SMALL_MAX 16

struct outcome {
	size_t frames;
	size_t consumed;
	enum ctl_result end;
	uint64_t sum; /* of the bodies' lengths and first bytes */
};

static void
check_reply(const struct ctl_frame *f)
{
	char why[CTL_REPLY_MAX + 1], why2[CTL_REPLY_MAX + 1];
	uint8_t out[CTL_REPLY_FRAME];
	struct ctl_frame g;
	bool ok, ok2;
	size_t n, cut;

	if (ctl_reply_parse(f->body, f->len, &ok, why, sizeof(why)) != 0)
		return;
	CHECK(strlen(why) < sizeof(why));
	n = ctl_reply_encode(ok, why, out);
	CHECK(n <= sizeof(out));
	CHECK(ctl_frame_decode(out, n, CTL_REPLY_MAX, &g) == CTL_FRAME);
	CHECK(g.size == n);
	CHECK(ctl_reply_parse(g.body, g.len, &ok2, why2, sizeof(why2)) == 0);
	CHECK(ok2 == ok);
	cut = strlen(why2);
	CHECK(cut <= strlen(why) && memcmp(why, why2, cut) == 0);
	CHECK(cut == strlen(why) || cut == CTL_REPLY_MAX - 5);
}

/* Decodes buf[0..len) frame after frame; the end state in *o. */
static void
decode_all(const uint8_t *buf, size_t len, size_t max, struct outcome *o,
           bool deep)
{
	struct ctl_frame f;
	uint8_t hdr[CTL_FRAME_HDR];
	size_t off = 0, body;

	memset(o, 0, sizeof(*o));
	while ((o->end = ctl_frame_decode(buf + off, len - off, max, &f)) ==
	       CTL_FRAME) {
		CHECK(f.body == buf + off + CTL_FRAME_HDR);
		CHECK(f.size == CTL_FRAME_HDR + f.len);
		CHECK(f.len <= max && f.size <= len - off);
		if (deep) {
			ctl_header_encode(f.len, hdr);
			CHECK(memcmp(hdr, buf + off, CTL_FRAME_HDR) == 0);
			check_reply(&f);
		}
		o->frames++;
		o->sum += f.len + (f.len > 0 ? f.body[0] : 0);
		off += f.size;
	}
	o->consumed = off;
	if (o->end == CTL_NEED_MORE) {
		CHECK(len - off < CTL_FRAME_HDR ||
		      (ctl_header_decode(buf + off, max, &body) == 0 &&
		       len - off - CTL_FRAME_HDR < body));
	} else {
		CHECK(o->end == CTL_MALFORMED);
		CHECK(len - off >= CTL_FRAME_HDR &&
		      ctl_header_decode(buf + off, max, &body) == -1);
	}
}

/* The stream as two reads: what the first holds, then the rest. */
static void
decode_split(const uint8_t *buf, size_t len, size_t split, size_t max,
             struct outcome *o)
{
	uint8_t *acc = malloc(len > 0 ? len : 1);
	struct outcome a, b;
	size_t kept;

	CHECK(acc != NULL);
	memcpy(acc, buf, split);
	decode_all(acc, split, max, &a, false);
	if (a.end == CTL_MALFORMED) {
		*o = a;
		free(acc);
		return;
	}
	/* What the first read left waits, as the server keeps it. */
	kept = split - a.consumed;
	memmove(acc, acc + a.consumed, kept);
	memcpy(acc + kept, buf + split, len - split);
	decode_all(acc, kept + len - split, max, &b, false);
	o->frames = a.frames + b.frames;
	o->consumed = a.consumed + b.consumed;
	o->end = b.end;
	o->sum = a.sum + b.sum;
	free(acc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {BUNDLE_MAX, CTL_REPLY_MAX, SMALL_MAX, 0};
	struct outcome whole, parts;
	uint8_t *buf;
	size_t max, split, len;

	if (size < 1)
		return 0;
	max = caps[data[0] & 3];
	len = size - 1;
	split = len > 0 ? (size_t)(data[0] >> 2) % (len + 1) : 0;
	/* An exact copy: ASan sees a read past the end. */
	buf = malloc(len > 0 ? len : 1);
	CHECK(buf != NULL);
	memcpy(buf, data + 1, len);
	decode_all(buf, len, max, &whole, true);
	decode_split(buf, len, split, max, &parts);
	CHECK(parts.end == whole.end);
	CHECK(parts.frames == whole.frames);
	CHECK(parts.consumed == whole.consumed);
	CHECK(parts.sum == whole.sum);
	free(buf);
	return 0;
}
