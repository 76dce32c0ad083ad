/* SPDX-License-Identifier: ISC */
/*
 * The control channel of mtasts serve: the one frame definition that the
 * parent, the server process and the key process share.
 *
 * A frame is an 8-byte big-endian length, then that many octets of body.
 * The parent sends each set as a frame whose body is a bundle
 * (bundle.c); to the server an empty frame says a reload was refused,
 * which the server only counts.  The server answers each non-empty frame
 * with a reply frame whose body is the text "OK", or "FAIL " and why.
 *
 * Pure: bytes in, lengths and results out; no I/O, no allocation.  The
 * caller names the largest body it takes (BUNDLE_MAX for sets,
 * CTL_REPLY_MAX for replies), so a corrupt or hostile length is refused
 * before anything is allocated for it.
 */
#ifndef MTS_SERVE_CTL_H
#define MTS_SERVE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_FRAME_HDR   8   /* the big-endian length before each body */
#define CTL_REPLY_MAX   256 /* cap on the body of a reply */
/* Room for a whole reply frame. */
#define CTL_REPLY_FRAME (CTL_FRAME_HDR + CTL_REPLY_MAX)

enum ctl_result {
	CTL_NEED_MORE, /* a frame has begun but not ended: read on */
	CTL_FRAME,     /* a whole frame */
	CTL_MALFORMED  /* the length is over the cap: the channel is broken */
};

/* What ctl_frame_decode() found: the body borrows from its buffer. */
struct ctl_frame {
	const uint8_t *body;
	size_t len;  /* of the body */
	size_t size; /* of the frame, header and body: what to consume */
};

/* Writes the header of a frame with a body of len octets. */
void ctl_header_encode(uint64_t len, uint8_t hdr[CTL_FRAME_HDR]);

/*
 * Reads a header: 0 with the body's length in *len, or -1 when it is over
 * max (*len untouched).
 */
int ctl_header_decode(const uint8_t hdr[CTL_FRAME_HDR], size_t max,
                      size_t *len);

/*
 * Looks for the first frame in buf[0..len), bytes as they were read
 * (several frames, or part of one).  CTL_FRAME fills *f, borrowing from
 * buf; the caller consumes f->size octets and calls again for the next.
 * CTL_NEED_MORE and CTL_MALFORMED leave *f untouched.
 */
enum ctl_result ctl_frame_decode(const uint8_t *buf, size_t len, size_t max,
                                 struct ctl_frame *f);

/*
 * A whole reply frame in out[0..CTL_REPLY_FRAME): "OK" when ok, else
 * "FAIL why", why cut to fit CTL_REPLY_MAX.  Returns the frame's size.
 */
size_t ctl_reply_encode(bool ok, const char *why, uint8_t out[CTL_REPLY_FRAME]);

/*
 * Reads the body of a reply: 0 with *ok and, as a C string in
 * why[0..size), a FAIL's reason (cut to fit; control bytes shown as
 * '?') or "" for OK; -1 when the body is neither or size is 0 (nothing
 * written).
 */
int ctl_reply_parse(const uint8_t *body, size_t len, bool *ok, char *why,
                    size_t size);

#endif /* MTS_SERVE_CTL_H */
