/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/serve/http.c, the request-head parser (RFC 9112 §2-§9,
 * RFC 9110 §5-§7).  One table of heads with the verdict and every parsed
 * value; then properties no table row can show: every split point of a
 * few requests gives INCOMPLETE until the last byte and then the same
 * result, a prefix carries the error of the whole, and the caps hold to
 * the byte.  Every parse reads a heap copy of exactly the input length,
 * so that ASan or valgrind catch a read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tap.h"

#define MAX_HEAD    8192
#define MAX_HEADERS 16

#define CRLF "\r\n"
#define GET  "GET /.well-known/mta-sts.txt HTTP/1.1" CRLF
#define HOST "Host: mta-sts.example.com" CRLF
#define H11  GET HOST

#define DONE HTTP_PARSE_DONE
#define MORE HTTP_PARSE_INCOMPLETE
#define FAIL HTTP_PARSE_ERROR

/*
 * Rows: REQ for a request parsed, with its method, target, host, minor
 * version, flags, Content-Length, field count and head_len (0: all of
 * the input); BAD for an error (BADN: with a NUL, so sized); PART for an
 * incomplete head.
 */
#define REQ(n, s, m, t, h, v, f, l, nf, hl)                                    \
	{                                                                      \
		.name = n, .in = s, .want = DONE, .method = m, .target = t,    \
		.host = h, .minor = v, .flags = f, .length = l, .fields = nf,  \
		.head_len = hl                                                 \
	}
#define BAD(n, s, st)                                                          \
	{                                                                      \
		.name = n, .in = s, .want = FAIL, .status = st                 \
	}
#define BADN(n, s, st)                                                         \
	{                                                                      \
		.name = n, .in = s, .len = sizeof(s) - 1, .want = FAIL,        \
		.status = st                                                   \
	}
#define PART(n, s)                                                             \
	{                                                                      \
		.name = n, .in = s, .want = MORE                               \
	}

#define KA 1u /* keep_alive */
#define CH 2u /* chunked */
#define CL 4u /* has_length */

#define M_GET   HTTP_METHOD_GET
#define M_HEAD  HTTP_METHOD_HEAD
#define M_POST  HTTP_METHOD_POST
#define M_OTHER HTTP_METHOD_OTHER

#define WK "/.well-known/mta-sts.txt"
#define EX "mta-sts.example.com"

static const struct http_case {
	const char *name;
	const char *in;
	enum http_parse_result want;
	int status; /* of an error */
	/* The request, for DONE rows. */
	enum http_method method;
	const char *target;
	const char *host; /* NULL: absent */
	unsigned minor;
	unsigned flags; /* KA, CH, CL */
	uint64_t length;
	size_t fields;
	size_t head_len; /* 0: the whole input */
	size_t len;      /* 0: strlen(in) */
} cases[] = {
    /* Valid requests. */
    REQ("GET, HTTP/1.1", H11 CRLF, M_GET, WK, EX, 1, KA, 0, 1, 0),
    REQ("HEAD", "HEAD / HTTP/1.1" CRLF HOST CRLF, M_HEAD, "/", EX, 1, KA, 0, 1,
        0),
    REQ("POST with Content-Length",
        "POST /report HTTP/1.1" CRLF HOST "Content-Length: 42" CRLF CRLF,
        M_POST, "/report", EX, 1, KA | CL, 42, 2, 0),
    REQ("POST chunked",
        "POST /r HTTP/1.1" CRLF HOST "Transfer-Encoding: chunked" CRLF CRLF,
        M_POST, "/r", EX, 1, KA | CH, 0, 2, 0),
    REQ("chunked in any case, OWS and empty list elements",
        "POST /r HTTP/1.1" CRLF HOST
        "Transfer-Encoding: , ChUnKeD ,\t" CRLF CRLF,
        M_POST, "/r", EX, 1, KA | CH, 0, 2, 0),
    REQ("other method is a token", "DELETE / HTTP/1.1" CRLF HOST CRLF, M_OTHER,
        "/", EX, 1, KA, 0, 1, 0),
    REQ("method names are case-sensitive", "get / HTTP/1.1" CRLF HOST CRLF,
        M_OTHER, "/", EX, 1, KA, 0, 1, 0),
    REQ("OPTIONS *", "OPTIONS * HTTP/1.1" CRLF HOST CRLF, M_OTHER, "*", EX, 1,
        KA, 0, 1, 0),
    REQ("absolute-form", "GET https://" EX WK " HTTP/1.1" CRLF HOST CRLF, M_GET,
        "https://" EX WK, EX, 1, KA, 0, 1, 0),
    REQ("query in the target", "GET /a?b=c&d HTTP/1.1" CRLF HOST CRLF, M_GET,
        "/a?b=c&d", EX, 1, KA, 0, 1, 0),
    REQ("Host with a port", GET "Host: " EX ":443" CRLF CRLF, M_GET, WK,
        EX ":443", 1, KA, 0, 1, 0),
    REQ("Host with an empty port", GET "Host: " EX ":" CRLF CRLF, M_GET, WK,
        EX ":", 1, KA, 0, 1, 0),
    REQ("Host IPv6 literal", GET "Host: [2001:db8::1]:8443" CRLF CRLF, M_GET,
        WK, "[2001:db8::1]:8443", 1, KA, 0, 1, 0),
    REQ("Host IPv6 literal, no port", GET "Host: [::1]" CRLF CRLF, M_GET, WK,
        "[::1]", 1, KA, 0, 1, 0),
    REQ("Host IPv4", GET "Host: 192.0.2.1" CRLF CRLF, M_GET, WK, "192.0.2.1", 1,
        KA, 0, 1, 0),
    REQ("Host empty (RFC 9112 §3.2)", GET "Host:" CRLF CRLF, M_GET, WK, "", 1,
        KA, 0, 1, 0),
    REQ("Host pct-encoded reg-name", GET "Host: a%2Db.example" CRLF CRLF, M_GET,
        WK, "a%2Db.example", 1, KA, 0, 1, 0),
    REQ("field name case-insensitive, value trimmed",
        GET "hOsT: \t " EX " \t" CRLF CRLF, M_GET, WK, EX, 1, KA, 0, 1, 0),
    REQ("other fields counted, obs-text allowed",
        H11 "User-Agent: x\x80\xff y" CRLF "Accept: */*" CRLF
            "X-Empty:" CRLF CRLF,
        M_GET, WK, EX, 1, KA, 0, 4, 0),
    REQ("Content-Length 0", H11 "Content-Length: 0" CRLF CRLF, M_GET, WK, EX, 1,
        KA | CL, 0, 2, 0),
    REQ("Content-Length 2^64-1",
        H11 "Content-Length: 18446744073709551615" CRLF CRLF, M_GET, WK, EX, 1,
        KA | CL, UINT64_MAX, 2, 0),
    REQ("Content-Length leading zeros", H11 "Content-Length: 007" CRLF CRLF,
        M_GET, WK, EX, 1, KA | CL, 7, 2, 0),

    /* Persistence, RFC 9112 §9.3. */
    REQ("1.1 close", H11 "Connection: close" CRLF CRLF, M_GET, WK, EX, 1, 0, 0,
        2, 0),
    REQ("1.1 close among other options", H11 "Connection: TE, Close" CRLF CRLF,
        M_GET, WK, EX, 1, 0, 0, 2, 0),
    REQ("1.1 close on a second line",
        H11 "Connection: keep-alive" CRLF "Connection: close" CRLF CRLF, M_GET,
        WK, EX, 1, 0, 0, 3, 0),
    REQ("1.0 without Host, closes", "GET / HTTP/1.0" CRLF CRLF, M_GET, "/",
        NULL, 0, 0, 0, 0, 0),
    REQ("1.0 keep-alive",
        "GET / HTTP/1.0" CRLF "Connection: Keep-Alive" CRLF CRLF, M_GET, "/",
        NULL, 0, KA, 0, 1, 0),
    REQ("1.0 keep-alive and close",
        "GET / HTTP/1.0" CRLF "Connection: keep-alive, close" CRLF CRLF, M_GET,
        "/", NULL, 0, 0, 0, 1, 0),
    REQ("1.0 with Host", "GET / HTTP/1.0" CRLF HOST CRLF, M_GET, "/", EX, 0, 0,
        0, 1, 0),

    /* Line ends, RFC 9112 §2.2. */
    REQ("bare LF throughout", "GET / HTTP/1.1\nHost: " EX "\n\n", M_GET, "/",
        EX, 1, KA, 0, 1, 0),
    REQ("LF and CRLF mixed", "GET / HTTP/1.1\r\nHost: " EX "\n\r\n", M_GET, "/",
        EX, 1, KA, 0, 1, 0),
    REQ("leading CRLF ignored", CRLF CRLF H11 CRLF, M_GET, WK, EX, 1, KA, 0, 1,
        0),
    REQ("four leading empty lines", "\n" CRLF "\n" CRLF H11 CRLF, M_GET, WK, EX,
        1, KA, 0, 1, 0),
    BAD("five leading empty lines", CRLF CRLF CRLF CRLF CRLF H11 CRLF, 400),
    REQ("pipelined: head_len stops at the first",
        H11 CRLF "GET /2 HTTP/1.1" CRLF HOST CRLF, M_GET, WK, EX, 1, KA, 0, 1,
        sizeof(H11 CRLF) - 1),
    REQ("body bytes after the head",
        "POST /r HTTP/1.1" CRLF HOST "Content-Length: 3" CRLF CRLF "abc",
        M_POST, "/r", EX, 1, KA | CL, 3, 2,
        sizeof("POST /r HTTP/1.1" CRLF HOST "Content-Length: 3" CRLF CRLF) - 1),

    /* Incomplete heads. */
    PART("empty", ""),
    PART("no final empty line", H11),
    PART("CR of the final CRLF only", H11 "\r"),
    PART("request line only", GET),
    PART("half a version", "GET / HTTP/1"),
    PART("leading CRLF only", CRLF CRLF),

    /* Request line errors: 400. */
    BAD("two SP after the method", "GET  / HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("two SP before the version", "GET /  HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("HTAB for SP", "GET\t/ HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("leading SP", " GET / HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("trailing SP", "GET / HTTP/1.1 " CRLF HOST CRLF, 400),
    BAD("no target", "GET HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("no version", "GET /" CRLF HOST CRLF, 400),
    BAD("HTTP/0.9 simple request", "GET /" CRLF, 400),
    BAD("method not a token", "G(T / HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("fragment in the target", "GET /a#b HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("DEL in the target", "GET /a\x7f HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("non-ASCII in the target", "GET /\xc3\xa9 HTTP/1.1" CRLF HOST CRLF,
        400),
    BADN("NUL in the target", "GET /\0 HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("relative target", "GET a/b HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("authority-form", "CONNECT " EX ":443 HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("* without OPTIONS", "GET * HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("absolute-form, other scheme",
        "GET ftp://" EX "/ HTTP/1.1" CRLF HOST CRLF, 400),
    BAD("absolute-form, empty host", "GET http:/// HTTP/1.1" CRLF HOST CRLF,
        400),
    BAD("lower-case version", "GET / http/1.1" CRLF HOST CRLF, 400),
    BAD("version garbage", "GET / HTTP/1.1x" CRLF HOST CRLF, 400),
    BAD("version two-digit minor", "GET / HTTP/1.10" CRLF HOST CRLF, 400),
    BAD("version HTTP/1", "GET / HTTP/1" CRLF HOST CRLF, 400),
    BAD("version HTTP/x.1", "GET / HTTP/x.1" CRLF HOST CRLF, 400),
    BAD("bare CR ends the request line", "GET / HTTP/1.1\rHost: a" CRLF CRLF,
        400),
    BAD("garbage is seen early", "GET / HTTQ", 400),

    /* Versions we do not speak: 505. */
    BAD("HTTP/2.0", "GET / HTTP/2.0" CRLF HOST CRLF, 505),
    BAD("HTTP/1.2", "GET / HTTP/1.2" CRLF HOST CRLF, 505),
    BAD("HTTP/0.9", "GET / HTTP/0.9" CRLF CRLF, 505),
    BAD("HTTP/3.0, no more bytes needed", "GET / HTTP/3.0" CRLF, 505),

    /* Field line errors: 400. */
    BAD("1.1 without Host", GET CRLF, 400),
    BAD("two Host fields", H11 HOST CRLF, 400),
    BAD("two Host fields, different", H11 "Host: evil.example" CRLF CRLF, 400),
    BAD("Host list", GET "Host: a.example, b.example" CRLF CRLF, 400),
    BAD("Host with userinfo", GET "Host: u@" EX CRLF CRLF, 400),
    BAD("Host with a path", GET "Host: " EX "/x" CRLF CRLF, 400),
    BAD("Host port not digits", GET "Host: " EX ":https" CRLF CRLF, 400),
    BAD("Host port over 65535", GET "Host: " EX ":65536" CRLF CRLF, 400),
    BAD("Host bad pct-encoding", GET "Host: a%2x.example" CRLF CRLF, 400),
    BAD("Host unbracketed IPv6", GET "Host: ::1" CRLF CRLF, 400),
    BAD("Host bad IPv6 literal", GET "Host: [::g]" CRLF CRLF, 400),
    BAD("Host IPv6 zone id", GET "Host: [fe80::1%25eth0]" CRLF CRLF, 400),
    BAD("Host unclosed bracket", GET "Host: [::1" CRLF CRLF, 400),
    BAD("Host junk after literal", GET "Host: [::1]x" CRLF CRLF, 400),
    BAD("Host with a space inside", GET "Host: a b.example" CRLF CRLF, 400),
    BAD("space before the colon", GET "Host : " EX CRLF CRLF, 400),
    BAD("HTAB before the colon", H11 "Accept\t: */*" CRLF CRLF, 400),
    BAD("no colon", H11 "Accept" CRLF CRLF, 400),
    BAD("empty name", H11 ": x" CRLF CRLF, 400),
    BAD("name not a token", H11 "Acc(ept: x" CRLF CRLF, 400),
    BAD("obs-fold", H11 "X-A: a" CRLF " b" CRLF CRLF, 400),
    BAD("obs-fold with HTAB", H11 "X-A: a" CRLF "\tb" CRLF CRLF, 400),
    BAD("white space before the first field", GET " Host: " EX CRLF HOST CRLF,
        400),
    BADN("NUL in a value", H11 "X-A: a\0b" CRLF CRLF, 400),
    BAD("CR inside a value", H11 "X-A: a\rb" CRLF CRLF, 400),
    BAD("other CTL in a value", H11 "X-A: a\x01" CRLF CRLF, 400),
    BAD("DEL in a value", H11 "X-A: a\x7f" CRLF CRLF, 400),
    BAD("bare CR as the final line", H11 "\rX", 400),
    BAD("error seen before the head ends", H11 "Bad Name: x" CRLF, 400),

    /* Framing and smuggling (RFC 9112 §6). */
    BAD("Content-Length twice, equal",
        H11 "Content-Length: 5" CRLF "Content-Length: 5" CRLF CRLF, 400),
    BAD("Content-Length list", H11 "Content-Length: 5, 5" CRLF CRLF, 400),
    BAD("Content-Length empty", H11 "Content-Length:" CRLF CRLF, 400),
    BAD("Content-Length sign", H11 "Content-Length: +5" CRLF CRLF, 400),
    BAD("Content-Length negative", H11 "Content-Length: -1" CRLF CRLF, 400),
    BAD("Content-Length hex", H11 "Content-Length: 0x10" CRLF CRLF, 400),
    BAD("Content-Length inner space", H11 "Content-Length: 1 0" CRLF CRLF, 400),
    BAD("Content-Length 2^64 overflows",
        H11 "Content-Length: 18446744073709551616" CRLF CRLF, 400),
    BAD("Content-Length and Transfer-Encoding",
        H11 "Content-Length: 5" CRLF "Transfer-Encoding: chunked" CRLF CRLF,
        400),
    BAD("Transfer-Encoding and Content-Length",
        H11 "Transfer-Encoding: chunked" CRLF "Content-Length: 5" CRLF CRLF,
        400),
    BAD("chunked, identity: chunked not last",
        H11 "Transfer-Encoding: chunked, identity" CRLF CRLF, 400),
    BAD("identity alone: chunked not last",
        H11 "Transfer-Encoding: identity" CRLF CRLF, 400),
    BAD("gzip alone: chunked not last", H11 "Transfer-Encoding: gzip" CRLF CRLF,
        400),
    BAD("chunked twice", H11 "Transfer-Encoding: chunked, chunked" CRLF CRLF,
        400),
    BAD("chunked on two lines",
        H11 "Transfer-Encoding: chunked" CRLF
            "Transfer-Encoding: chunked" CRLF CRLF,
        400),
    BAD("chunked then gzip on another line",
        H11 "Transfer-Encoding: chunked" CRLF
            "Transfer-Encoding: gzip" CRLF CRLF,
        400),
    BAD("Transfer-Encoding empty", H11 "Transfer-Encoding:" CRLF CRLF, 400),
    BAD("Transfer-Encoding with a parameter",
        H11 "Transfer-Encoding: chunked;x=1" CRLF CRLF, 400),
    BAD("Transfer-Encoding space list",
        H11 "Transfer-Encoding: gzip chunked" CRLF CRLF, 400),
    BAD("Transfer-Encoding in HTTP/1.0",
        "POST / HTTP/1.0" CRLF "Transfer-Encoding: chunked" CRLF CRLF, 400),
    BAD("Transfer-Encoding with a vertical tab",
        H11 "Transfer-Encoding:\x0b"
            "chunked" CRLF CRLF,
        400),
    BAD("Connection not a token list", H11 "Connection: close;x" CRLF CRLF,
        400),

    /* Codings we do not know: 501. */
    BAD("gzip, chunked", H11 "Transfer-Encoding: gzip, chunked" CRLF CRLF, 501),
    BAD("gzip then chunked on two lines",
        H11 "Transfer-Encoding: gzip" CRLF
            "Transfer-Encoding: chunked" CRLF CRLF,
        501),
};

/*
 * Parses a heap copy of exactly len bytes, which *copy keeps for the
 * caller to compare pointers against and free.
 */
static enum http_parse_result
parse(const char *in, size_t len, size_t max_head, size_t max_headers,
      struct http_request *req, int *status, char **copy)
{
	if ((*copy = malloc(len + 1)) == NULL)
		abort();
	memcpy(*copy, in, len);
	memset(req, 0, sizeof(*req));
	*status = 0;
	return http_parse_request(*copy, len, max_head, max_headers, req,
	                          status);
}

/* Parses and frees the copy, for checks that need no pointers. */
static enum http_parse_result
parse1(const char *in, size_t len, size_t max_head, size_t max_headers,
       struct http_request *req, int *status)
{
	enum http_parse_result res;
	char *copy;

	res = parse(in, len, max_head, max_headers, req, status, &copy);
	free(copy);
	return res;
}

/* p[0..n) is inside buf[0..len) and spells `want` (NULL: p is NULL). */
static bool
span_is(const char *buf, size_t len, const char *p, size_t n, const char *want)
{
	if (want == NULL)
		return p == NULL;
	return p != NULL && p >= buf && n <= len - (size_t)(p - buf) &&
	    n == strlen(want) && memcmp(p, want, n) == 0;
}

static bool
same_request(const struct http_case *c, const char *buf, size_t len,
             const struct http_request *r)
{
	const char *m = buf + strspn(buf, "\r\n");

	/* The method is the first token of the request line. */
	return r->method == c->method && r->method_name == m &&
	    r->method_len == strcspn(m, " ") &&
	    span_is(buf, len, r->target, r->target_len, c->target) &&
	    span_is(buf, len, r->host, r->host_len, c->host) &&
	    r->version_minor == c->minor &&
	    r->keep_alive == ((c->flags & KA) != 0) &&
	    r->chunked == ((c->flags & CH) != 0) &&
	    r->has_length == ((c->flags & CL) != 0) &&
	    r->content_length == c->length && r->header_count == c->fields &&
	    r->head_len == (c->head_len != 0 ? c->head_len : len);
}

static void
check_case(const struct http_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	enum http_parse_result res;
	struct http_request r;
	char *buf;
	int status;
	bool ok;

	res = parse(c->in, len, MAX_HEAD, MAX_HEADERS, &r, &status, &buf);
	ok = res == c->want;
	if (ok && c->want == FAIL)
		ok = status == c->status;
	if (ok && c->want == DONE)
		ok = same_request(c, buf, len, &r);
	if (!tap_ok(ok, "%s", c->name))
		tap_diag("got result %d, status %d, head_len %zu", (int)res,
		         status, r.head_len);
	free(buf);
}

/*
 * Every split point: INCOMPLETE for each proper prefix, and the whole
 * gives the same as at once.  For an error row, a prefix may already
 * give the error, but never another one, and never DONE.
 */
static void
check_splits(const struct http_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in), k, head;
	struct http_request r;
	int status;
	bool ok = true;
	enum http_parse_result res;

	head = c->want == DONE ? (c->head_len != 0 ? c->head_len : len) : len;
	for (k = 0; k < head && ok; k++) {
		res = parse1(c->in, k, MAX_HEAD, MAX_HEADERS, &r, &status);
		if (c->want == FAIL)
			ok =
			    res == MORE || (res == FAIL && status == c->status);
		else
			ok = res == MORE;
		if (!ok)
			tap_diag("split at %zu: result %d status %d", k,
			         (int)res, status);
	}
	tap_ok(ok, "splits: %s", c->name);
}

/* A head of exactly n bytes: the request line, Host, X-Pad to fill. */
static char *
head_of(size_t n)
{
	static const char pre[] = H11 "X-Pad: ";
	char *h;
	size_t pad;

	if (n < sizeof(pre) - 1 + 4 || (h = malloc(n + 1)) == NULL)
		abort();
	pad = n - (sizeof(pre) - 1) - 4;
	memcpy(h, pre, sizeof(pre) - 1);
	memset(h + sizeof(pre) - 1, 'x', pad);
	memcpy(h + n - 4, CRLF CRLF, 4);
	h[n] = '\0';
	return h;
}

static void
check_caps(void)
{
	struct http_request r;
	char *h, *line;
	int status;
	enum http_parse_result res;
	size_t n = 200;

	h = head_of(n);
	res = parse1(h, n, n, MAX_HEADERS, &r, &status);
	tap_ok(res == DONE && r.head_len == n, "cap: head of exactly max_head");
	free(h);
	h = head_of(n + 1);
	res = parse1(h, n + 1, n, MAX_HEADERS, &r, &status);
	tap_ok(res == FAIL && status == 431, "cap: one byte over gives 431");
	res = parse1(h, n, n, MAX_HEADERS, &r, &status);
	tap_ok(res == FAIL && status == 431,
	       "cap: max_head bytes, no end, 431");
	res = parse1(h, n - 1, n, MAX_HEADERS, &r, &status);
	tap_ok(res == MORE, "cap: max_head - 1 bytes, no end, INCOMPLETE");
	free(h);

	if ((line = malloc(n + 32)) == NULL)
		abort();
	memcpy(line, "GET /", 5);
	memset(line + 5, 'a', n + 26);
	line[n + 31] = '\0';
	res = parse1(line, n + 31, n, MAX_HEADERS, &r, &status);
	tap_ok(res == FAIL && status == 414,
	       "cap: long request line gives 414");
	res = parse1(line, n - 1, n, MAX_HEADERS, &r, &status);
	tap_ok(res == MORE,
	       "cap: long request line, under the cap, INCOMPLETE");
	free(line);

	res = parse1(GET, sizeof(GET) - 1, sizeof(GET) - 2, MAX_HEADERS, &r,
	             &status);
	tap_ok(res == FAIL && status == 414,
	       "cap: CRLF past the cap gives 414");
	res = parse1(GET "\r", sizeof(GET), sizeof(GET) - 1, MAX_HEADERS, &r,
	             &status);
	tap_ok(res == FAIL && status == 431,
	       "cap: request line fits, nothing else: 431");
}

static void
check_max_headers(void)
{
	static const char three[] = H11 "A: 1" CRLF "B: 2" CRLF CRLF;
	struct http_request r;
	int status;
	enum http_parse_result res;

	res = parse1(three, sizeof(three) - 1, MAX_HEAD, 3, &r, &status);
	tap_ok(res == DONE && r.header_count == 3, "max_headers: exactly");
	res = parse1(three, sizeof(three) - 1, MAX_HEAD, 2, &r, &status);
	tap_ok(res == FAIL && status == 431, "max_headers: one over gives 431");
	res = parse1(three, sizeof(H11), MAX_HEAD, 1, &r, &status);
	tap_ok(res == FAIL && status == 431,
	       "max_headers: seen at the first byte of the field too many");
	res = parse1(GET CRLF, sizeof(GET CRLF) - 1, MAX_HEAD, 0, &r, &status);
	tap_ok(res == FAIL && status == 400,
	       "max_headers 0: the empty line is not a field");
}

static void
check_reasons(void)
{
	static const struct {
		int status;
		const char *text;
	} want[] = {
	    {200, "OK"},
	    {400, "Bad Request"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {414, "URI Too Long"},
	    {421, "Misdirected Request"},
	    {431, "Request Header Fields Too Large"},
	    {501, "Not Implemented"},
	    {503, "Service Unavailable"},
	    {505, "HTTP Version Not Supported"},
	    {299, "Unknown"},
	    {-1, "Unknown"},
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		tap_ok(tap_streq(http_reason(want[i].status), want[i].text),
		       "reason %d: %s", want[i].status, want[i].text);
	tap_ok(strcmp(http_reason(413), "Unknown") != 0 &&
	           strcmp(http_reason(500), "Unknown") != 0 &&
	           strcmp(http_reason(204), "Unknown") != 0,
	       "reason: 204, 413, 500 known");
}

/* On an error or INCOMPLETE, *req is not written (STYLE 7). */
static void
check_untouched(void)
{
	struct http_request r, sentinel;
	int status = 0;

	memset(&sentinel, 0x5A, sizeof(sentinel));
	r = sentinel;
	(void)http_parse_request(H11, sizeof(H11) - 1, MAX_HEAD, MAX_HEADERS,
	                         &r, &status);
	tap_ok(memcmp(&r, &sentinel, sizeof(r)) == 0 && status == 0,
	       "INCOMPLETE leaves req and status alone");
	(void)http_parse_request("GET  /", 6, MAX_HEAD, MAX_HEADERS, &r,
	                         &status);
	tap_ok(memcmp(&r, &sentinel, sizeof(r)) == 0 && status == 400,
	       "ERROR leaves req alone");
}

/*
 * What a POSTed report needs of its head (RFC 8460 §5.4): the
 * Content-Type field, once only (RFC 9110 §8.3), and Expect:
 * 100-continue (RFC 9110 §10.1.1); the media types a report may have
 * (§6.3, §6.4).
 */
static const struct report_case {
	const char *name;
	const char *in;
	int status;              /* 0: parsed */
	const char *type;        /* the Content-Type value, or NULL */
	bool expect;             /* expect_continue */
	enum http_report_type t; /* http_report_type() of it */
} report_cases[] = {
#define POSTR "POST /tlsrpt HTTP/1.1" CRLF "Host: r.example" CRLF
    {"+json", POSTR "Content-Type: application/tlsrpt+json" CRLF CRLF, 0,
     "application/tlsrpt+json", false, HTTP_REPORT_JSON},
    {"+gzip, white space trimmed",
     POSTR "Content-Type:   application/tlsrpt+gzip \t" CRLF CRLF, 0,
     "application/tlsrpt+gzip", false, HTTP_REPORT_GZIP},
    {"case and a parameter",
     POSTR "content-type: Application/TLSRPT+Gzip; x=1" CRLF CRLF, 0,
     "Application/TLSRPT+Gzip; x=1", false, HTTP_REPORT_GZIP},
    {"a space before the parameter",
     POSTR "Content-Type: application/tlsrpt+json ;charset=utf-8" CRLF CRLF, 0,
     "application/tlsrpt+json ;charset=utf-8", false, HTTP_REPORT_JSON},
    {"application/json is not a report type",
     POSTR "Content-Type: application/json" CRLF CRLF, 0, "application/json",
     false, HTTP_REPORT_OTHER},
    {"a prefix of the type",
     POSTR "Content-Type: application/tlsrpt+jso" CRLF CRLF, 0,
     "application/tlsrpt+jso", false, HTTP_REPORT_OTHER},
    {"the type and more",
     POSTR "Content-Type: application/tlsrpt+jsonx" CRLF CRLF, 0,
     "application/tlsrpt+jsonx", false, HTTP_REPORT_OTHER},
    {"no Content-Type", POSTR CRLF, 0, NULL, false, HTTP_REPORT_OTHER},
    {"an empty Content-Type", POSTR "Content-Type:" CRLF CRLF, 0, "", false,
     HTTP_REPORT_OTHER},
    {"two Content-Type fields",
     POSTR "Content-Type: application/tlsrpt+json" CRLF
           "Content-Type: application/tlsrpt+json" CRLF CRLF,
     400, NULL, false, HTTP_REPORT_OTHER},
    {"Expect: 100-continue", POSTR "Expect: 100-Continue" CRLF CRLF, 0, NULL,
     true, HTTP_REPORT_OTHER},
    {"another Expect is ignored", POSTR "Expect: 200-ok" CRLF CRLF, 0, NULL,
     false, HTTP_REPORT_OTHER},
#undef POSTR
};

static void
check_report_fields(void)
{
	const struct report_case *c;
	struct http_request r;
	size_t i, len;
	char *buf;
	int status;
	bool ok;

	for (i = 0; i < sizeof(report_cases) / sizeof(report_cases[0]); i++) {
		c = &report_cases[i];
		len = strlen(c->in);
		if (parse(c->in, len, MAX_HEAD, MAX_HEADERS, &r, &status,
		          &buf) != DONE)
			ok = c->status != 0 && status == c->status;
		else
			ok = c->status == 0 &&
			    span_is(buf, len, r.content_type,
			            r.content_type_len, c->type) &&
			    r.expect_continue == c->expect &&
			    http_report_type(r.content_type,
			                     r.content_type_len) == c->t;
		tap_ok(ok, "report head: %s", c->name);
		free(buf);
	}
	tap_ok(http_report_type(NULL, 0) == HTTP_REPORT_OTHER &&
	           http_report_type("  ;application/tlsrpt+json", 26) ==
	               HTTP_REPORT_OTHER,
	       "report type: NULL, or the type after a ';', is no report type");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].want != MORE)
			check_splits(&cases[i]);
	check_caps();
	check_max_headers();
	check_reasons();
	check_untouched();
	check_report_fields();
	return tap_done();
}
