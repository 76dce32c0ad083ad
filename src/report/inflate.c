/* SPDX-License-Identifier: ISC */
/*
 * Streaming, capped gzip inflation of TLS-RPT reports with zlib (RFC
 * 8460 §5.2, §6.3, §7).  One gzip member per report; everything else is
 * an error with its own message (see inflate.h).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "inflate.h"

/* zlib's windowBits: 15 (32 KiB window) + 16 for the gzip wrapper only. */
#define GZIP_WBITS (15 + 16)

/* The buffered form starts here and doubles, never past the cap. */
#define GROW_FIRST (64u * 1024)

enum reader_state {
	R_RUNNING = 0,
	R_ENDED, /* the member's trailer checked; what follows it not yet */
	R_DONE,
	R_FAILED
};

struct inflate_reader {
	z_stream zs;
	const unsigned char *in; /* the input not yet given to zlib */
	size_t in_left;
	size_t max;   /* cap on the output */
	size_t total; /* output so far */
	enum reader_state state;
	char why[128];
};

bool
inflate_is_gzip(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* Records why the reader failed; the failure sticks. */
static size_t fail(struct inflate_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
fail(struct inflate_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->state = R_FAILED;
	return (size_t)-1;
}

struct inflate_reader *
inflate_reader_new(const void *in, size_t in_len, size_t max)
{
	struct inflate_reader *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->in = in;
	r->in_left = in_len;
	r->max = max;
	if (inflateInit2(&r->zs, GZIP_WBITS) != Z_OK) {
		free(r);
		return NULL;
	}
	/* Checked here rather than by zlib so the message says what it is. */
	if (!inflate_is_gzip(in, in_len))
		(void)fail(r, "not gzip (no 1f 8b magic)");
	return r;
}

/* zlib counts in uInt: the input is fed in slices of at most UINT_MAX. */
static void
feed(struct inflate_reader *r)
{
	uInt n;

	if (r->zs.avail_in != 0 || r->in_left == 0)
		return;
	n = r->in_left > UINT_MAX ? UINT_MAX : (uInt)r->in_left;
	r->zs.next_in = (Bytef *)(uintptr_t)r->in; /* zlib's API is not const */
	r->zs.avail_in = n;
	r->in += n;
	r->in_left -= n;
}

/*
 * After the first member's trailer: anything left is a second member
 * (RFC 1952 §2.2 allows them; a report is one) or garbage.
 */
static size_t
finish(struct inflate_reader *r)
{
	size_t left = r->zs.avail_in + r->in_left;
	const unsigned char *rest = r->zs.next_in;

	if (left == 0) {
		r->state = R_DONE;
		return 0;
	}
	if (r->zs.avail_in == 0)
		rest = r->in;
	if (inflate_is_gzip(rest, r->zs.avail_in != 0 ? r->zs.avail_in : left))
		return fail(r,
		            "a second gzip member follows the first "
		            "(%zu octets): one report is one member",
		            left);
	return fail(r, "%zu octets of trailing garbage after the gzip stream",
	            left);
}

/* Turns a zlib error into a message; Z_DATA_ERROR covers the checks. */
static size_t
zfail(struct inflate_reader *r, int zrc)
{
	const char *msg = r->zs.msg;

	if (zrc == Z_MEM_ERROR)
		return fail(r, "out of memory inflating");
	if (msg != NULL && strcmp(msg, "incorrect data check") == 0)
		return fail(r,
		            "CRC-32 mismatch: the gzip data is corrupt "
		            "(after %zu octets)",
		            r->total);
	if (msg != NULL && strcmp(msg, "incorrect length check") == 0)
		return fail(r,
		            "ISIZE mismatch: the gzip trailer says otherwise "
		            "(%zu octets inflated)",
		            r->total);
	return fail(r, "corrupt gzip data after %zu octets: %s", r->total,
	            msg != NULL ? msg : "zlib error");
}

size_t
inflate_reader_read(void *buf, size_t size, void *ctx)
{
	struct inflate_reader *r = ctx;
	size_t want, got;
	int zrc;

	if (r->state == R_FAILED)
		return (size_t)-1;
	if (r->state == R_DONE || size == 0)
		return 0;
	if (r->state == R_ENDED)
		return finish(r);
	/*
	 * Ask for at most one octet past the cap: producing it proves the
	 * stream is over the cap without inflating any more of it.
	 */
	want = r->max - r->total < size ? r->max - r->total + 1 : size;
	if (want > UINT_MAX)
		want = UINT_MAX;
	r->zs.next_out = buf;
	r->zs.avail_out = (uInt)want;
	do {
		feed(r);
		zrc = inflate(&r->zs, Z_NO_FLUSH);
		got = want - r->zs.avail_out;
	} while (
	    got == 0 &&
	    (zrc == Z_OK ||
	     (zrc == Z_BUF_ERROR && r->zs.avail_in == 0 && r->in_left != 0)));
	if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
		r->total += got; /* at most one past the cap: for the message */
		return zfail(r, zrc);
	}
	if (r->max - r->total < got)
		return fail(r,
		            "the inflated report passes the cap of %zu octets",
		            r->max);
	r->total += got;
	/* Z_STREAM_END: the trailer's CRC-32 and ISIZE were checked. */
	if (zrc == Z_STREAM_END)
		r->state = R_ENDED;
	if (got != 0)
		return got;
	if (zrc == Z_STREAM_END)
		return finish(r);
	return fail(r,
	            "truncated gzip stream: it ends before its trailer "
	            "(%zu octets inflated)",
	            r->total);
}

const char *
inflate_reader_error(const struct inflate_reader *r)
{
	return r->state == R_FAILED ? r->why : NULL;
}

size_t
inflate_reader_total(const struct inflate_reader *r)
{
	return r->total;
}

void
inflate_reader_free(struct inflate_reader *r)
{
	if (r == NULL)
		return;
	(void)inflateEnd(&r->zs);
	free(r);
}

/*
 * The first capacity of the buffered form.  The trailer's ISIZE (RFC
 * 1952 §2.3.1: the length modulo 2^32) is only a hint, and one that a
 * bomb may lie in; but a report that tells the truth is inflated into
 * one allocation of its size, plus the octet that proves its end.
 */
static size_t
first_cap(const unsigned char *in, size_t in_len, size_t max)
{
	size_t isize;

	if (in_len < 18)
		return 0;
	in += in_len - 4;
	isize = (size_t)in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16 |
	    (size_t)in[3] << 24;
	return isize <= max ? isize + 1 : 0;
}

/* The next capacity of the buffered form: doubled, at most max + 1. */
static size_t
grow_to(size_t cap, size_t max)
{
	size_t limit = max == SIZE_MAX ? SIZE_MAX - 1 : max + 1;

	if (cap == 0)
		return GROW_FIRST < limit ? GROW_FIRST : limit;
	return cap > limit / 2 ? limit : cap * 2;
}

int
inflate_gzip(const void *in, size_t in_len, size_t max, char **out,
             size_t *out_len, char *why, size_t why_size)
{
	struct inflate_reader *r;
	char *buf = NULL, *nbuf;
	size_t cap = 0, len = 0, n;

	if ((r = inflate_reader_new(in, in_len, max)) == NULL) {
		(void)snprintf(why, why_size, "out of memory inflating");
		return -1;
	}
	for (;;) {
		if (len == cap) {
			n = cap == 0 ? first_cap(in, in_len, max) : 0;
			if (n == 0)
				n = grow_to(cap, max);
			if (n == cap || (nbuf = realloc(buf, n + 1)) == NULL) {
				(void)snprintf(why, why_size,
				               "out of memory inflating");
				goto fail;
			}
			buf = nbuf;
			cap = n;
		}
		n = inflate_reader_read(buf + len, cap - len, r);
		if (n == (size_t)-1) {
			(void)snprintf(why, why_size, "%s",
			               inflate_reader_error(r));
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	inflate_reader_free(r);
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
fail:
	inflate_reader_free(r);
	free(buf);
	return -1;
}
