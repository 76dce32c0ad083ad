/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the response parser of the policy fetch
 * (src/check/http_response.c; RFC 9112 §4-§7, RFC 9110 §8.3, §15,
 * RFC 8461 §3.3).  The input is a response as the server sent it; its
 * head is parsed and its body decoded under the head's framing, and the
 * whole input is also decoded as a chunked body on its own, so that the
 * decoder is reached without a valid head first.  Besides memory errors
 * (ASan) and undefined behaviour (UBSan), it aborts when an invariant
 * breaks:
 * - DONE: head_len <= len and <= max_head, the head ends in LF, reason
 *   and Location lie inside the head, the status is final (or 101), the
 *   framing agrees with the status and the fields, a Content-Type is
 *   lower case with charset a token, and "" unless OK;
 * - the head cap is exact: with max_head = head_len the head parses the
 *   same, with one octet less it is too big;
 * - prefixes agree with the whole: a prefix of a DONE head is
 *   INCOMPLETE, a prefix that fails fails the same way;
 * - INCOMPLETE only when len < max_head, too big only when len >= it;
 * - a body decoded at once, octet by octet with one octet of room, and
 *   in pieces gives the same verdict, error, octets consumed and body;
 *   it never passes the cap, nor consumes more than it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_response.h"

#include "fuzz.h"

#define MAX_HEAD 4096
#define BODY_CAP 1024

/* p[0..n) lies inside buf[0..len). */
static bool
inside(const char *buf, size_t len, const char *p, size_t n)
{
	return p >= buf && p <= buf + len && n <= len - (size_t)(p - buf);
}

static bool
same_head(const struct http_response *a, const struct http_response *b)
{
	return a->version_minor == b->version_minor && a->status == b->status &&
	    a->reason == b->reason && a->reason_len == b->reason_len &&
	    a->interim == b->interim && a->ctype == b->ctype &&
	    strcmp(a->content_type, b->content_type) == 0 &&
	    strcmp(a->charset, b->charset) == 0 && a->framing == b->framing &&
	    a->has_length == b->has_length &&
	    a->content_length == b->content_length &&
	    a->chunked == b->chunked && a->location == b->location &&
	    a->location_len == b->location_len &&
	    a->keep_alive == b->keep_alive && a->obs_fold == b->obs_fold &&
	    a->header_count == b->header_count && a->head_len == b->head_len;
}

static bool
lower_ascii(const char *s, bool slash)
{
	size_t slashes = 0;

	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			return false;
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7F)
			return false;
		slashes += *s == '/';
	}
	return !slash || slashes == 1;
}

static void
check_ctype(const struct http_response *r)
{
	if (r->ctype != HTTP_CTYPE_OK) {
		CHECK(r->content_type[0] == '\0' && r->charset[0] == '\0');
		return;
	}
	CHECK(lower_ascii(r->content_type, true));
	CHECK(r->content_type[0] != '/');
	CHECK(r->content_type[strlen(r->content_type) - 1] != '/');
	CHECK(lower_ascii(r->charset, false));
	CHECK(strlen(r->charset) <= HTTP_CHARSET_MAX);
}

static void
check_done(const char *buf, size_t len, const struct http_response *r)
{
	size_t h = r->head_len;
	bool no_body;

	CHECK(h >= 11 && h <= len && h <= MAX_HEAD && buf[h - 1] == '\n');
	CHECK(r->reason_len == 0 || inside(buf, h, r->reason, r->reason_len));
	CHECK(r->location == NULL ||
	      inside(buf, h, r->location, r->location_len));
	CHECK(r->status == 101 || (r->status >= 200 && r->status <= 599));
	CHECK(r->version_minor <= 9);
	CHECK(!(r->chunked && r->has_length));
	CHECK(!r->chunked || r->version_minor >= 1);
	no_body = r->status == 101 || r->status == 204 || r->status == 304;
	CHECK(no_body == (r->framing == HTTP_FRAMING_NONE));
	if (!no_body) {
		CHECK(r->chunked == (r->framing == HTTP_FRAMING_CHUNKED));
		CHECK((r->has_length && !r->chunked) ==
		      (r->framing == HTTP_FRAMING_LENGTH));
	}
	CHECK(!r->keep_alive || r->framing != HTTP_FRAMING_CLOSE);
	check_ctype(r);
}

static void
check_caps(const char *buf, const struct http_response *r)
{
	enum http_response_error e = HTTP_RESPONSE_E_NONE;
	struct http_response r2;
	size_t h = r->head_len;

	CHECK(http_response_head(buf, h, MAX_HEAD, &r2, &e) ==
	      HTTP_RESPONSE_DONE);
	CHECK(same_head(r, &r2));
	CHECK(http_response_head(buf, h, h, &r2, &e) == HTTP_RESPONSE_DONE);
	CHECK(same_head(r, &r2));
	CHECK(http_response_head(buf, h, h - 1, &r2, &e) ==
	      HTTP_RESPONSE_ERROR);
	CHECK(e == HTTP_RESPONSE_E_HEAD_TOO_BIG);
}

static void
check_prefix(const char *buf, size_t k, enum http_response_result whole,
             const struct http_response *r, enum http_response_error we)
{
	enum http_response_error e = HTTP_RESPONSE_E_NONE;
	enum http_response_result res;
	struct http_response r2;

	res = http_response_head(buf, k, MAX_HEAD, &r2, &e);
	if (whole == HTTP_RESPONSE_DONE) {
		if (k < r->head_len)
			CHECK(res == HTTP_RESPONSE_INCOMPLETE);
		else
			CHECK(res == HTTP_RESPONSE_DONE && same_head(r, &r2));
	} else if (res == HTTP_RESPONSE_ERROR) {
		CHECK(whole == HTTP_RESPONSE_ERROR && e == we);
	} else {
		CHECK(res == HTTP_RESPONSE_INCOMPLETE);
	}
}

/* One decoding of a body. */
struct run {
	enum http_body_result res;
	enum http_body_error error;
	size_t consumed;
	size_t outlen;
	char out[BODY_CAP];
};

/*
 * Feeds in[0..len) in pieces of step octets with room octets of output
 * at a time (0: as much as there is); closes when all was consumed.
 */
static void
decode(const char *in, size_t len, const struct http_response *r, size_t step,
       size_t room, struct run *run)
{
	struct http_body b;
	size_t n, o, c, p;

	run->consumed = run->outlen = 0;
	run->res = http_body_init(&b, r, BODY_CAP);
	while (run->res == HTTP_BODY_MORE && run->consumed < len) {
		n = len - run->consumed;
		if (step != 0 && n > step)
			n = step;
		o = BODY_CAP - run->outlen;
		if (room != 0 && o > room)
			o = room;
		run->res = http_body_feed(&b, in + run->consumed, n,
		                          run->out + run->outlen, o, &c, &p);
		CHECK(c <= n && p <= o);
		run->consumed += c;
		run->outlen += p;
		/* No progress is only allowed for want of room. */
		CHECK(c != 0 || p != 0 || run->res != HTTP_BODY_MORE || o == 0);
		if (c == 0 && p == 0 && run->res == HTTP_BODY_MORE)
			break;
	}
	if (run->res == HTTP_BODY_MORE && run->consumed == len)
		run->res = http_body_eof(&b);
	run->error = b.error;
	CHECK(b.total == run->outlen && run->outlen <= BODY_CAP);
	CHECK((run->res == HTTP_BODY_ERROR) ==
	      (run->error != HTTP_BODY_E_NONE));
	if (r->framing == HTTP_FRAMING_LENGTH && run->res == HTTP_BODY_DONE)
		CHECK(run->outlen == r->content_length &&
		      run->consumed == run->outlen);
}

static void
same_run(const struct run *a, const struct run *b)
{
	CHECK(a->res == b->res && a->error == b->error);
	CHECK(a->consumed == b->consumed && a->outlen == b->outlen);
	CHECK(memcmp(a->out, b->out, a->outlen) == 0);
}

/* The body at once, octet by octet, and in pieces of a size from in. */
static void
check_body(const char *in, size_t len, const struct http_response *r)
{
	static struct run whole, part;
	size_t step = 2 + len % 13;

	decode(in, len, r, 0, 0, &whole);
	decode(in, len, r, step, 0, &part);
	same_run(&whole, &part);
	if (len <= 4096) {
		decode(in, len, r, 1, 1, &part);
		same_run(&whole, &part);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	enum http_response_error e = HTTP_RESPONSE_E_NONE;
	enum http_response_result res;
	struct http_response r, chunked;
	size_t k;

	memset(&r, 0, sizeof(r));
	res = http_response_head(buf, size, MAX_HEAD, &r, &e);
	switch (res) {
	case HTTP_RESPONSE_DONE:
		check_done(buf, size, &r);
		check_caps(buf, &r);
		check_body(buf + r.head_len, size - r.head_len, &r);
		break;
	case HTTP_RESPONSE_INCOMPLETE:
		CHECK(size < MAX_HEAD);
		break;
	case HTTP_RESPONSE_ERROR:
		CHECK(e > HTTP_RESPONSE_E_NONE && e <= HTTP_RESPONSE_E_FRAMING);
		CHECK(e != HTTP_RESPONSE_E_HEAD_TOO_BIG || size >= MAX_HEAD);
		CHECK(strcmp(http_response_strerror(e), "unknown error") != 0);
		break;
	}
	if (size <= 256) {
		for (k = 0; k < size; k++)
			check_prefix(buf, k, res, &r, e);
	} else {
		check_prefix(buf, size / 2, res, &r, e);
		check_prefix(buf, size / 3, res, &r, e);
	}

	memset(&chunked, 0, sizeof(chunked));
	chunked.framing = HTTP_FRAMING_CHUNKED;
	chunked.chunked = true;
	check_body(buf, size, &chunked);
	return 0;
}
