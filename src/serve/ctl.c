/* SPDX-License-Identifier: ISC */
/*
 * The frames of mtasts serve's control channels (ctl.h says what they
 * hold).  A stream socket gives bytes as they come, so the decoder takes
 * what has been read so far and says whether a whole frame is there; the
 * length is checked against the caller's cap as soon as its eight octets
 * are, before the body is waited for or room made for it.
 */
#include <string.h>

#include "ctl.h"

#define REPLY_OK   "OK"
#define REPLY_FAIL "FAIL "

void
ctl_header_encode(uint64_t len, uint8_t hdr[CTL_FRAME_HDR])
{
	size_t i;

	for (i = 0; i < CTL_FRAME_HDR; i++)
		hdr[i] = (uint8_t)(len >> (8 * (CTL_FRAME_HDR - 1 - i)));
}

int
ctl_header_decode(const uint8_t hdr[CTL_FRAME_HDR], size_t max, size_t *len)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < CTL_FRAME_HDR; i++)
		n = n << 8 | hdr[i];
	if (n > max)
		return -1;
	*len = (size_t)n;
	return 0;
}

enum ctl_result
ctl_frame_decode(const uint8_t *buf, size_t len, size_t max,
                 struct ctl_frame *f)
{
	size_t body;

	if (len < CTL_FRAME_HDR)
		return CTL_NEED_MORE;
	if (ctl_header_decode(buf, max, &body) != 0)
		return CTL_MALFORMED;
	if (len - CTL_FRAME_HDR < body)
		return CTL_NEED_MORE;
	f->body = buf + CTL_FRAME_HDR;
	f->len = body;
	f->size = CTL_FRAME_HDR + body;
	return CTL_FRAME;
}

size_t
ctl_reply_encode(bool ok, const char *why, uint8_t out[CTL_REPLY_FRAME])
{
	uint8_t *body = out + CTL_FRAME_HDR;
	size_t n, room = CTL_REPLY_MAX - (sizeof(REPLY_FAIL) - 1);

	if (ok) {
		n = sizeof(REPLY_OK) - 1;
		memcpy(body, REPLY_OK, n);
	} else {
		n = why != NULL ? strnlen(why, room) : 0;
		memcpy(body, REPLY_FAIL, sizeof(REPLY_FAIL) - 1);
		if (n > 0)
			memcpy(body + sizeof(REPLY_FAIL) - 1, why, n);
		n += sizeof(REPLY_FAIL) - 1;
	}
	ctl_header_encode(n, out);
	return CTL_FRAME_HDR + n;
}

int
ctl_reply_parse(const uint8_t *body, size_t len, bool *ok, char *why,
                size_t size)
{
	const size_t skip = sizeof(REPLY_FAIL) - 1;
	size_t i, n;

	if (size == 0)
		return -1;
	if (len == sizeof(REPLY_OK) - 1 && memcmp(body, REPLY_OK, len) == 0) {
		why[0] = '\0';
		*ok = true;
		return 0;
	}
	if (len < skip || memcmp(body, REPLY_FAIL, skip) != 0)
		return -1;
	n = len - skip < size - 1 ? len - skip : size - 1;
	/* The reason goes to a log line: no control bytes in it. */
	for (i = 0; i < n; i++)
		why[i] = body[skip + i] < 0x20 || body[skip + i] == 0x7F ?
		    '?' :
		    (char)body[skip + i];
	why[n] = '\0';
	*ok = false;
	return 0;
}
