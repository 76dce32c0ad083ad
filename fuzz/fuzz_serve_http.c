/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the request-head parser of the policy server
 * (src/serve/http.c, RFC 9112 §2-§9).  Besides memory errors (ASan) and
 * undefined behaviour (UBSan), it aborts when an invariant breaks:
 * - DONE: head_len <= len and <= max_head, the head ends in LF, every
 *   pointer and length lies inside buf[0..head_len), the version is 1.0
 *   or 1.1, chunked excludes Content-Length, and parsing buf[0..head_len)
 *   alone gives the same request;
 * - the caps are exact: with max_head = head_len the head still parses,
 *   with one byte less it is 414 or 431; with max_headers one below the
 *   field count it is 431;
 * - INCOMPLETE only when len < max_head; ERROR only with a status the
 *   header lists, 414 and 431 only when the cap is what stopped us;
 * - prefixes agree with the whole: a prefix of a DONE head is
 *   INCOMPLETE, and a prefix that fails fails with the same status (the
 *   server re-parses from the start as bytes arrive);
 * - http_reason() knows every status the parser gives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#include "fuzz.h"

#define MAX_HEAD    4096
#define MAX_HEADERS 32

/* p[0..n) lies inside buf[0..len). */
static bool
inside(const char *buf, size_t len, const char *p, size_t n)
{
	return p >= buf && p <= buf + len && n <= len - (size_t)(p - buf);
}

static bool
same_request(const struct http_request *a, const struct http_request *b)
{
	return a->method == b->method && a->method_name == b->method_name &&
	    a->method_len == b->method_len && a->target == b->target &&
	    a->target_len == b->target_len && a->host == b->host &&
	    a->host_len == b->host_len &&
	    a->version_minor == b->version_minor &&
	    a->keep_alive == b->keep_alive && a->chunked == b->chunked &&
	    a->has_length == b->has_length &&
	    a->content_length == b->content_length &&
	    a->header_count == b->header_count && a->head_len == b->head_len;
}

static void
check_done(const char *buf, size_t len, const struct http_request *r)
{
	size_t h = r->head_len;

	CHECK(h >= 4 && h <= len && h <= MAX_HEAD && buf[h - 1] == '\n');
	CHECK(r->method_len > 0 &&
	      inside(buf, h, r->method_name, r->method_len));
	CHECK(r->target_len > 0 && inside(buf, h, r->target, r->target_len));
	CHECK(r->host == NULL || inside(buf, h, r->host, r->host_len));
	CHECK(r->host != NULL || r->version_minor == 0);
	CHECK(r->version_minor <= 1 && r->header_count <= MAX_HEADERS);
	CHECK(!(r->chunked && r->has_length));
	CHECK(r->method != HTTP_METHOD_GET ||
	      (r->method_len == 3 && memcmp(r->method_name, "GET", 3) == 0));
}

/* The same head, cut to head_len or with tighter caps. */
static void
check_caps(const char *buf, const struct http_request *r)
{
	struct http_request r2;
	int status = 0;
	size_t h = r->head_len;

	CHECK(http_parse_request(buf, h, MAX_HEAD, MAX_HEADERS, &r2, &status) ==
	      HTTP_PARSE_DONE);
	CHECK(same_request(r, &r2));
	CHECK(http_parse_request(buf, h, h, MAX_HEADERS, &r2, &status) ==
	      HTTP_PARSE_DONE);
	CHECK(same_request(r, &r2));
	CHECK(http_parse_request(buf, h, h - 1, MAX_HEADERS, &r2, &status) ==
	      HTTP_PARSE_ERROR);
	CHECK(status == 414 || status == 431);
	if (r->header_count > 0) {
		CHECK(http_parse_request(buf, h, MAX_HEAD, r->header_count - 1,
		                         &r2, &status) == HTTP_PARSE_ERROR);
		CHECK(status == 431);
	}
}

/* A prefix of k bytes agrees with the verdict on the whole. */
static void
check_prefix(const char *buf, size_t k, enum http_parse_result whole,
             const struct http_request *r, int whole_status)
{
	enum http_parse_result res;
	struct http_request r2;
	int status = 0;

	res = http_parse_request(buf, k, MAX_HEAD, MAX_HEADERS, &r2, &status);
	if (whole == HTTP_PARSE_DONE) {
		if (k < r->head_len)
			CHECK(res == HTTP_PARSE_INCOMPLETE);
		else
			CHECK(res == HTTP_PARSE_DONE && same_request(r, &r2));
	} else if (res == HTTP_PARSE_ERROR) {
		CHECK(whole == HTTP_PARSE_ERROR && status == whole_status);
	} else {
		CHECK(res == HTTP_PARSE_INCOMPLETE);
	}
}

static bool
known_status(int status)
{
	return status == 400 || status == 414 || status == 431 ||
	    status == 501 || status == 505;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	enum http_parse_result res;
	struct http_request r;
	int status = 0;
	size_t k;

	memset(&r, 0, sizeof(r));
	res = http_parse_request(buf, size, MAX_HEAD, MAX_HEADERS, &r, &status);
	switch (res) {
	case HTTP_PARSE_DONE:
		check_done(buf, size, &r);
		check_caps(buf, &r);
		check_prefix(buf, r.head_len - 1, res, &r, 0);
		break;
	case HTTP_PARSE_INCOMPLETE:
		CHECK(size < MAX_HEAD);
		break;
	case HTTP_PARSE_ERROR:
		CHECK(known_status(status));
		CHECK(status != 414 || size >= MAX_HEAD);
		CHECK(strcmp(http_reason(status), "Unknown") != 0);
		break;
	}
	/* Every prefix of a short input; a few of a long one. */
	if (size <= 256) {
		for (k = 0; k < size; k++)
			check_prefix(buf, k, res, &r, status);
	} else {
		check_prefix(buf, size / 2, res, &r, status);
		check_prefix(buf, size / 3, res, &r, status);
	}
	return 0;
}
