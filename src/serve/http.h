/* SPDX-License-Identifier: ISC */
/*
 * A strict, bounded HTTP/1.1 request-head parser (RFC 9112 §2-§7,
 * RFC 9110) for the policy server.  Pure: (buffer, length) in, a parsed
 * request with pointers into that buffer out; no allocation, no I/O.
 *
 * The server only ever answers tiny GET/HEAD requests and POSTs of
 * TLS-RPT reports (RFC 8460 §5.4), so the parser rejects what a general
 * proxy might tolerate: obs-fold, white space before a colon, duplicate
 * Host, Content-Length or Content-Type, Content-Length with
 * Transfer-Encoding (request smuggling), control bytes.  A bare LF ends a line (RFC 9112 §2.2 MAY).
 */
#ifndef MTS_SERVE_HTTP_H
#define MTS_SERVE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_method {
	HTTP_METHOD_OTHER = 0, /* a well-formed token we do not serve */
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST
};

/* The two media types a report is POSTed as (RFC 8460 §6.3, §6.4). */
enum http_report_type {
	HTTP_REPORT_OTHER = 0, /* absent, or another type */
	HTTP_REPORT_JSON,      /* application/tlsrpt+json */
	HTTP_REPORT_GZIP       /* application/tlsrpt+gzip */
};

/*
 * The report type that a Content-Type value names: the media type before
 * any parameter, white space around it ignored, compared without regard
 * to case (RFC 9110 §8.3.1).  v may be NULL.
 */
enum http_report_type http_report_type(const char *v, size_t n);

struct http_request {
	enum http_method method;
	const char *method_name; /* the token as sent (points into buf) */
	size_t method_len;
	const char
	    *target; /* request-target as sent, e.g. "/.well-known/..." */
	size_t target_len;
	const char *host; /* Host field value, trimmed; NULL if absent */
	size_t host_len;
	unsigned version_minor; /* HTTP/1.<minor>: 0 or 1 */
	bool keep_alive;        /* HTTP/1.1 unless "close"; 1.0 only with
				   "keep-alive" */
	bool chunked;           /* Transfer-Encoding: chunked */
	bool has_length;        /* a Content-Length was given */
	uint64_t content_length;
	/* The Content-Type field value, trimmed (RFC 9110 §8.3), for a
	   POSTed report; NULL when absent. */
	const char *content_type;
	size_t content_type_len;
	bool expect_continue; /* Expect: 100-continue (RFC 9110 §10.1.1) */
	size_t header_count;
	size_t head_len; /* octets of the head, final empty line included */
};

enum http_parse_result {
	HTTP_PARSE_DONE = 0,   /* *req filled; the body starts at head_len */
	HTTP_PARSE_INCOMPLETE, /* need more bytes (and len < max_head) */
	HTTP_PARSE_ERROR       /* *status says which error to answer */
};

/*
 * Parses the request head at the start of buf[0..len).  max_head caps the
 * whole head (request line and fields): when no complete head fits in it
 * the result is an error with status 431 (or 414 when the request line
 * alone is over the cap).  Errors set *status to 400 (malformed), 414,
 * 431, 501 (a Transfer-Encoding other than chunked) or 505 (not
 * HTTP/1.x).  max_headers caps the number of fields (431 beyond).
 */
enum http_parse_result http_parse_request(const char *buf, size_t len,
                                          size_t max_head, size_t max_headers,
                                          struct http_request *req,
                                          int *status);

/* The reason phrase of a status code ("Not Found"), or "Unknown". */
const char *http_reason(int status);

#endif /* MTS_SERVE_HTTP_H */
