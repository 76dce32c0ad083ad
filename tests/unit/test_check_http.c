/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/check/http_response.c, the response parser of the policy
 * fetch (RFC 8461 §3.3; RFC 9112 §4-§7, RFC 9110 §8.3, §15).  Tables of
 * heads by concern (status line, fields, framing, Content-Type), a table
 * of chunked bodies, then properties no row can show: every split point
 * of whole responses gives the same head and body, the cap holds to the
 * octet under every framing (STS-POL-20), a prefix of a head carries the
 * error of the whole.  Inputs are heap copies of exactly their length,
 * outputs heap buffers of exactly the cap, so that ASan catches a read
 * or a write past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_response.h"
#include "tap.h"

#define CRLF        "\r\n"
#define S200        "HTTP/1.1 200 OK" CRLF
#define CL0         "Content-Length: 0" CRLF
#define TEXT        "Content-Type: text/plain" CRLF
#define CHUNKED     "Transfer-Encoding: chunked" CRLF
#define HEAD_MAX    8192
#define KIB64       65536u
#define TRAILER_MAX 8192

#define DONE HTTP_RESPONSE_DONE
#define MORE HTTP_RESPONSE_INCOMPLETE
#define FAIL HTTP_RESPONSE_ERROR

#define F_NONE    HTTP_FRAMING_NONE
#define F_LENGTH  HTTP_FRAMING_LENGTH
#define F_CHUNKED HTTP_FRAMING_CHUNKED
#define F_CLOSE   HTTP_FRAMING_CLOSE

static char *
copy_of(const char *s, size_t len)
{
	char *c;

	if ((c = malloc(len == 0 ? 1 : len)) == NULL)
		abort();
	memcpy(c, s, len);
	return c;
}

/* Parses a heap copy of exactly len octets; *copy is the caller's. */
static enum http_response_result
head(const char *in, size_t len, size_t max, struct http_response *r,
     enum http_response_error *e, char **copy)
{
	*copy = copy_of(in, len);
	memset(r, 0, sizeof(*r));
	*e = HTTP_RESPONSE_E_NONE;
	return http_response_head(*copy, len, max, r, e);
}

static enum http_response_result
head1(const char *in, size_t len, size_t max, struct http_response *r,
      enum http_response_error *e)
{
	enum http_response_result res;
	char *copy;

	res = head(in, len, max, r, e, &copy);
	free(copy);
	return res;
}

/* p[0..n) is inside buf[0..len) and spells want (NULL: p is NULL). */
static bool
span_is(const char *buf, size_t len, const char *p, size_t n, const char *want)
{
	if (want == NULL)
		return p == NULL;
	return p != NULL && p >= buf && p <= buf + len &&
	    n <= len - (size_t)(p - buf) && n == strlen(want) &&
	    memcmp(p, want, n) == 0;
}

/*
 * Status lines and interim responses (RFC 9112 §4, RFC 9110 §15).
 * STS-FETCH-7: a 3xx is a response like any other, with its status for
 * the report; STS-FETCH-8: so is a 304.
 */
/* Rows: ST for a head parsed, SPART incomplete, SBAD an error. */
#define ST(n, s, st, re, mi, im)                                               \
	{                                                                      \
		.name = n, .in = s, .want = DONE, .status = st, .reason = re,  \
		.minor = mi, .interim = im                                     \
	}
#define SPART(n, s)                                                            \
	{                                                                      \
		.name = n, .in = s, .want = MORE                               \
	}
#define SBAD(n, s, e)                                                          \
	{                                                                      \
		.name = n, .in = s, .want = FAIL, .error = e                   \
	}

static const struct status_case {
	const char *name;
	const char *in;
	enum http_response_result want;
	enum http_response_error error;
	int status;
	const char *reason;
	unsigned minor;
	size_t interim;
} status_cases[] = {
    ST("STS-FETCH-7 T1: 200 OK", S200 CL0 CRLF, 200, "OK", 1, 0),
    ST("HTTP/1.0 200", "HTTP/1.0 200 OK" CRLF CL0 CRLF, 200, "OK", 0, 0),
    ST("STS-FETCH-7 T2: 301", "HTTP/1.1 301 Moved Permanently" CRLF CL0 CRLF,
       301, "Moved Permanently", 1, 0),
    ST("STS-FETCH-7 T3: 204", "HTTP/1.1 204 No Content" CRLF CRLF, 204,
       "No Content", 1, 0),
    ST("STS-FETCH-7 T4: 404", "HTTP/1.1 404 Not Found" CRLF CL0 CRLF, 404,
       "Not Found", 1, 0),
    ST("STS-FETCH-7 T4: 503", "HTTP/1.1 503 x" CRLF CL0 CRLF, 503, "x", 1, 0),
    ST("STS-FETCH-8 T2: 304", "HTTP/1.1 304 Not Modified" CRLF CRLF, 304,
       "Not Modified", 1, 0),
    ST("empty reason", "HTTP/1.1 200 " CRLF CL0 CRLF, 200, "", 1, 0),
    ST("no SP before an empty reason", "HTTP/1.1 200" CRLF CL0 CRLF, 200, "", 1,
       0),
    ST("reason with HTAB, SP and obs-text",
       "HTTP/1.1 200 O\tK \xc3\xa9" CRLF CL0 CRLF, 200, "O\tK \xc3\xa9", 1, 0),
    ST("HTTP/1.2 read as 1.x (RFC 9112 §2.3)", "HTTP/1.2 200 OK" CRLF CL0 CRLF,
       200, "OK", 2, 0),
    ST("bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 200, "OK",
       1, 0),
    ST("100 Continue skipped", "HTTP/1.1 100 Continue" CRLF CRLF S200 CL0 CRLF,
       200, "OK", 1, 1),
    ST("103 Early Hints with fields skipped",
       "HTTP/1.1 103 Early Hints" CRLF "Link: </s.css>; rel=preload" CRLF CRLF
       "HTTP/1.1 102 P" CRLF CRLF S200 CL0 CRLF,
       200, "OK", 1, 2),
    ST("101 is final", "HTTP/1.1 101 Switching Protocols" CRLF CRLF, 101,
       "Switching Protocols", 1, 0),
    ST("599 is valid", "HTTP/1.1 599 x" CRLF CRLF, 599, "x", 1, 0),
    SPART("empty", ""),
    SPART("half a status line", "HTTP/1.1 20"),
    SPART("no empty line", S200 CL0),
    SPART("only a 100", "HTTP/1.1 100 Continue" CRLF CRLF),
    SBAD("HTTP/2.0", "HTTP/2.0 200 OK" CRLF CRLF, HTTP_RESPONSE_E_VERSION),
    SBAD("HTTP/0.9", "HTTP/0.9 200 OK" CRLF CRLF, HTTP_RESPONSE_E_VERSION),
    SBAD("HTTP/0.9 simple response: no status line", "version: STSv1\n",
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("lower-case http", "http/1.1 200 OK" CRLF CRLF,
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("HTTP/2 without minor", "HTTP/2 200" CRLF CRLF,
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("two-digit minor", "HTTP/1.10 200 OK" CRLF CRLF,
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("two SP after the version", "HTTP/1.1  200 OK" CRLF CRLF,
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("two-digit status", "HTTP/1.1 20 OK" CRLF CRLF,
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("four-digit status", "HTTP/1.1 2000 OK" CRLF CRLF,
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("status not digits", "HTTP/1.1 2x0 OK" CRLF CRLF,
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("status 099", "HTTP/1.1 099 x" CRLF CRLF, HTTP_RESPONSE_E_STATUS),
    SBAD("status 600", "HTTP/1.1 600 x" CRLF CRLF, HTTP_RESPONSE_E_STATUS),
    SBAD("status range seen before the line ends", "HTTP/1.1 999",
         HTTP_RESPONSE_E_STATUS),
    SBAD("CTL in the reason", "HTTP/1.1 200 O\x01K" CRLF CRLF,
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("bare CR after the status line", "HTTP/1.1 200 OK\rX: y" CRLF CRLF,
         HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("leading CRLF", CRLF S200 CRLF, HTTP_RESPONSE_E_STATUS_LINE),
    SBAD("garbage in a 1xx", "HTTP/1.1 100 Continue" CRLF "x" CRLF CRLF,
         HTTP_RESPONSE_E_FIELD),
};

static void
check_status(const struct status_case *c)
{
	size_t len = strlen(c->in);
	enum http_response_error e;
	enum http_response_result res;
	struct http_response r;
	char *buf;
	bool ok;

	res = head(c->in, len, HEAD_MAX, &r, &e, &buf);
	ok = res == c->want;
	if (ok && res == FAIL)
		ok = e == c->error;
	if (ok && res == DONE)
		ok = r.status == c->status && r.version_minor == c->minor &&
		    r.interim == c->interim && r.head_len == len &&
		    span_is(buf, len, r.reason, r.reason_len, c->reason);
	if (!tap_ok(ok, "status: %s", c->name))
		tap_diag("result %d error %d status %d", (int)res, (int)e,
		         r.status);
	free(buf);
}

/*
 * Field lines (RFC 9112 §5, RFC 9110 §5.5), Location and obs-fold.
 * STS-FETCH-7 T2: the Location of a 3xx is kept for the report.
 */
/* Rows: FOK parsed; FBAD an error (FBADN: with a NUL, so sized). */
#define FOK(n, s, nf, loc, fold)                                               \
	{                                                                      \
		.name = n, .in = s, .fields = nf, .location = loc,             \
		.obs_fold = fold                                               \
	}
#define FBAD(n, s, e)                                                          \
	{                                                                      \
		.name = n, .in = s, .error = e                                 \
	}
#define FBADN(n, s, e)                                                         \
	{                                                                      \
		.name = n, .in = s, .len = sizeof(s) - 1, .error = e           \
	}

static const struct field_case {
	const char *name;
	const char *in;
	size_t len;                     /* 0: strlen(in) */
	enum http_response_error error; /* 0: DONE */
	size_t fields;
	const char *location;
	bool obs_fold;
} field_cases[] = {
    FOK("STS-FETCH-7 T2: 302 Location kept",
        "HTTP/1.1 302 Found" CRLF
        "Location: https://elsewhere.example/p" CRLF CL0 CRLF,
        2, "https://elsewhere.example/p", false),
    FOK("first Location wins",
        "HTTP/1.1 307 T" CRLF "Location: /a" CRLF "Location: /b" CRLF CL0 CRLF,
        3, "/a", false),
    FOK("Location value trimmed, may be empty",
        "HTTP/1.1 308 P" CRLF "location: \t " CRLF CL0 CRLF, 2, "", false),
    FOK("obs-text in a value", S200 "Server: caf\xc3\xa9" CRLF CL0 CRLF, 2,
        NULL, false),
    FOK("empty value", S200 "X-Empty:" CRLF CL0 CRLF, 2, NULL, false),
    FOK("obs-fold in a field we ignore: unfolded (RFC 9112 §5.2)",
        S200 "X-Long: a" CRLF " b" CRLF "\tc" CRLF CL0 CRLF, 2, NULL, true),
    FBAD("obs-fold in Content-Type",
         S200 "Content-Type: text/plain;" CRLF " charset=utf-8" CRLF CL0 CRLF,
         HTTP_RESPONSE_E_OBS_FOLD),
    FBAD("obs-fold in Content-Length",
         S200 "Content-Length: 1" CRLF " 0" CRLF CRLF,
         HTTP_RESPONSE_E_OBS_FOLD),
    FBAD("white space after the status line", S200 " X: y" CRLF CL0 CRLF,
         HTTP_RESPONSE_E_FIELD),
    FBAD("space before the colon", S200 "Content-Length : 0" CRLF CRLF,
         HTTP_RESPONSE_E_FIELD),
    FBAD("no colon", S200 "Content-Length" CRLF CRLF, HTTP_RESPONSE_E_FIELD),
    FBAD("empty name", S200 ": x" CRLF CRLF, HTTP_RESPONSE_E_FIELD),
    FBAD("name not a token", S200 "X(y): z" CRLF CRLF, HTTP_RESPONSE_E_FIELD),
    FBAD("CTL in a value",
         S200 "X: a\x01"
              "b" CRLF CRLF,
         HTTP_RESPONSE_E_FIELD),
    FBAD("DEL in a value", S200 "X: a\x7f" CRLF CRLF, HTTP_RESPONSE_E_FIELD),
    FBADN("NUL in a value", S200 "X: a\0b" CRLF CRLF, HTTP_RESPONSE_E_FIELD),
    FBAD("bare CR in a value", S200 "X: a\rb" CRLF CRLF, HTTP_RESPONSE_E_FIELD),
    FBAD("malformed Connection", S200 "Connection: close;x" CRLF CL0 CRLF,
         HTTP_RESPONSE_E_FIELD),
};

static void
check_field(const struct field_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	enum http_response_error e;
	enum http_response_result res;
	struct http_response r;
	char *buf;
	bool ok;

	res = head(c->in, len, HEAD_MAX, &r, &e, &buf);
	if (c->error != 0)
		ok = res == FAIL && e == c->error;
	else
		ok = res == DONE && r.header_count == c->fields &&
		    r.obs_fold == c->obs_fold &&
		    span_is(buf, len, r.location, r.location_len, c->location);
	if (!tap_ok(ok, "fields: %s", c->name))
		tap_diag("result %d error %d", (int)res, (int)e);
	free(buf);
}

/* Message body length (RFC 9112 §6.3) and persistence (§9.3). */
/* Rows: FR with the framing found, FRBAD with an error. */
#define FR(n, s, f, hl, l, ka)                                                 \
	{                                                                      \
		.name = n, .in = s, .framing = f, .has_length = hl,            \
		.length = l, .keep_alive = ka                                  \
	}
#define FRBAD(n, s, e)                                                         \
	{                                                                      \
		.name = n, .in = s, .error = e                                 \
	}

static const struct framing_case {
	const char *name;
	const char *in;
	enum http_response_error error; /* 0: DONE */
	enum http_framing framing;
	bool has_length;
	uint64_t length;
	bool keep_alive;
} framing_cases[] = {
    FR("Content-Length", S200 "Content-Length: 42" CRLF CRLF, F_LENGTH, true,
       42, true),
    FR("Content-Length 0", S200 CL0 CRLF, F_LENGTH, true, 0, true),
    FR("Content-Length leading zeros", S200 "Content-Length: 007" CRLF CRLF,
       F_LENGTH, true, 7, true),
    FR("Content-Length 2^64-1",
       S200 "Content-Length: 18446744073709551615" CRLF CRLF, F_LENGTH, true,
       UINT64_MAX, true),
    FR("chunked", S200 CHUNKED CRLF, F_CHUNKED, false, 0, true),
    FR("chunked in any case, empty list elements",
       S200 "Transfer-Encoding: , ChUnKeD ," CRLF CRLF, F_CHUNKED, false, 0,
       true),
    FR("until close", S200 CRLF, F_CLOSE, false, 0, false),
    FR("until close, HTTP/1.0", "HTTP/1.0 200 OK" CRLF CRLF, F_CLOSE, false, 0,
       false),
    FR("Connection: close", S200 "Connection: close" CRLF CL0 CRLF, F_LENGTH,
       true, 0, false),
    FR("Connection: Keep-Alive, close",
       S200 "Connection: Keep-Alive, Close" CRLF CL0 CRLF, F_LENGTH, true, 0,
       false),
    FR("HTTP/1.0 keep-alive",
       "HTTP/1.0 200 OK" CRLF "Connection: keep-alive" CRLF CL0 CRLF, F_LENGTH,
       true, 0, true),
    FR("HTTP/1.0 with a length closes", "HTTP/1.0 200 OK" CRLF CL0 CRLF,
       F_LENGTH, true, 0, false),
    FR("STS-FETCH-8 T2: 304 has no body, whatever its length",
       "HTTP/1.1 304 Not Modified" CRLF "Content-Length: 99" CRLF CRLF, F_NONE,
       true, 99, true),
    FR("204 has no body", "HTTP/1.1 204 No Content" CRLF CRLF, F_NONE, false, 0,
       true),
    FR("101 has no body and ends HTTP", "HTTP/1.1 101 S" CRLF CRLF, F_NONE,
       false, 0, false),
    FR("404 with a body",
       "HTTP/1.1 404 Not Found" CRLF "Content-Length: 9" CRLF CRLF, F_LENGTH,
       true, 9, true),
    FRBAD("Content-Length twice, equal", S200 CL0 CL0 CRLF,
          HTTP_RESPONSE_E_CONTENT_LENGTH),
    FRBAD("Content-Length list", S200 "Content-Length: 5, 5" CRLF CRLF,
          HTTP_RESPONSE_E_CONTENT_LENGTH),
    FRBAD("Content-Length empty", S200 "Content-Length:" CRLF CRLF,
          HTTP_RESPONSE_E_CONTENT_LENGTH),
    FRBAD("Content-Length signed", S200 "Content-Length: +5" CRLF CRLF,
          HTTP_RESPONSE_E_CONTENT_LENGTH),
    FRBAD("Content-Length hex", S200 "Content-Length: 0x10" CRLF CRLF,
          HTTP_RESPONSE_E_CONTENT_LENGTH),
    FRBAD("Content-Length 2^64",
          S200 "Content-Length: 18446744073709551616" CRLF CRLF,
          HTTP_RESPONSE_E_CONTENT_LENGTH),
    FRBAD("Content-Length inner space", S200 "Content-Length: 1 0" CRLF CRLF,
          HTTP_RESPONSE_E_CONTENT_LENGTH),
    FRBAD("Transfer-Encoding with Content-Length", S200 CHUNKED CL0 CRLF,
          HTTP_RESPONSE_E_FRAMING),
    FRBAD("Transfer-Encoding in HTTP/1.0", "HTTP/1.0 200 OK" CRLF CHUNKED CRLF,
          HTTP_RESPONSE_E_FRAMING),
    FRBAD("gzip, chunked", S200 "Transfer-Encoding: gzip, chunked" CRLF CRLF,
          HTTP_RESPONSE_E_TRANSFER_CODING),
    FRBAD("chunked, gzip", S200 "Transfer-Encoding: chunked, gzip" CRLF CRLF,
          HTTP_RESPONSE_E_TRANSFER_CODING),
    FRBAD("chunked twice", S200 CHUNKED CHUNKED CRLF,
          HTTP_RESPONSE_E_TRANSFER_CODING),
    FRBAD("identity", S200 "Transfer-Encoding: identity" CRLF CRLF,
          HTTP_RESPONSE_E_TRANSFER_CODING),
    FRBAD("Transfer-Encoding empty", S200 "Transfer-Encoding:" CRLF CRLF,
          HTTP_RESPONSE_E_TRANSFER_CODING),
    FRBAD("Transfer-Encoding parameter",
          S200 "Transfer-Encoding: chunked;q=1" CRLF CRLF,
          HTTP_RESPONSE_E_TRANSFER_CODING),
};

static void
check_framing(const struct framing_case *c)
{
	enum http_response_error e;
	enum http_response_result res;
	struct http_response r;
	bool ok;

	res = head1(c->in, strlen(c->in), HEAD_MAX, &r, &e);
	if (c->error != 0)
		ok = res == FAIL && e == c->error;
	else
		ok = res == DONE && r.framing == c->framing &&
		    r.has_length == c->has_length &&
		    r.content_length == c->length &&
		    r.keep_alive == c->keep_alive &&
		    r.chunked == (c->framing == F_CHUNKED);
	if (!tap_ok(ok, "framing: %s", c->name))
		tap_diag("result %d error %d framing %d", (int)res, (int)e,
		         (int)r.framing);
}

#define CT_ABSENT    HTTP_CTYPE_ABSENT
#define CT_OK        HTTP_CTYPE_OK
#define CT_MALFORMED HTTP_CTYPE_MALFORMED
#define CT_REPEATED  HTTP_CTYPE_REPEATED

#define X127                                                                   \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"      \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define C40 "cccccccccccccccccccccccccccccccccccccccc"
_Static_assert(sizeof(X127) == 128, "X127 is 127 octets");
_Static_assert(sizeof(C40) == 41, "C40 is 40 octets");

/*
 * Content-Type (RFC 9110 §8.3), STS-FETCH-9: the media type and its
 * charset, for the checker to judge (checklist §24 A8).  A NULL value
 * means no field; the head is S200 [Content-Type: value] CL0.
 */
static const struct ctype_case {
	const char *name;
	const char *value;
	enum http_ctype ctype;
	const char *type;
	const char *charset;
} ctype_cases[] = {
    {"STS-FETCH-9 T1: text/plain", "text/plain", CT_OK, "text/plain", ""},
    {"STS-FETCH-9 T2: text/plain; charset=utf-8", "text/plain; charset=utf-8",
     CT_OK, "text/plain", "utf-8"},
    {"STS-FETCH-9 T3: Text/Plain; Charset=UTF-8", "Text/Plain; Charset=UTF-8",
     CT_OK, "text/plain", "utf-8"},
    {"STS-FETCH-9 T4: text/html", "text/html; charset=UTF-8", CT_OK,
     "text/html", "utf-8"},
    {"STS-FETCH-9 T5: missing", NULL, CT_ABSENT, "", ""},
    {"STS-FETCH-9 T6: charset=iso-8859-1", "text/plain; charset=ISO-8859-1",
     CT_OK, "text/plain", "iso-8859-1"},
    {"charset quoted", "text/plain;charset=\"us-ascii\"", CT_OK, "text/plain",
     "us-ascii"},
    {"charset quoted-pair", "text/plain;charset=\"utf\\-8\"", CT_OK,
     "text/plain", "utf-8"},
    {"other parameters ignored",
     "text/plain; format=flowed; charset=utf-8; x=\"a b;c\"", CT_OK,
     "text/plain", "utf-8"},
    {"empty parameters", "text/plain;;  ; charset=utf-8 ;", CT_OK, "text/plain",
     "utf-8"},
    {"OWS around the semicolon", "text/plain \t;\t charset=utf-8", CT_OK,
     "text/plain", "utf-8"},
    {"type of 127", X127 "/" X127, CT_OK, X127 "/" X127, ""},
    {"charset of 40", "text/plain; charset=" C40, CT_OK, "text/plain", C40},
    {"empty quoted other parameter", "text/plain; a=\"\"", CT_OK, "text/plain",
     ""},

    {"type of 128", X127 "x/plain", CT_MALFORMED, "", ""},
    {"subtype of 128", "text/" X127 "x", CT_MALFORMED, "", ""},
    {"charset of 41", "text/plain; charset=" C40 "c", CT_MALFORMED, "", ""},
    {"charset twice", "text/plain; charset=utf-8; CHARSET=utf-8", CT_MALFORMED,
     "", ""},
    {"charset empty quoted", "text/plain; charset=\"\"", CT_MALFORMED, "", ""},
    {"charset not a token", "text/plain; charset=\"utf 8\"", CT_MALFORMED, "",
     ""},
    {"empty value", "", CT_MALFORMED, "", ""},
    {"no subtype", "text", CT_MALFORMED, "", ""},
    {"empty subtype", "text/", CT_MALFORMED, "", ""},
    {"space in the type", "text /plain", CT_MALFORMED, "", ""},
    {"space around =", "text/plain; charset = utf-8", CT_MALFORMED, "", ""},
    {"parameter without =", "text/plain; charset", CT_MALFORMED, "", ""},
    {"parameter without value", "text/plain; charset=", CT_MALFORMED, "", ""},
    {"unterminated quote", "text/plain; a=\"b", CT_MALFORMED, "", ""},
    {"junk after the type", "text/plain x", CT_MALFORMED, "", ""},
    {"comma list", "text/plain, text/html", CT_MALFORMED, "", ""},
    {"two field lines", "text/plain" CRLF "Content-Type: text/plain",
     CT_REPEATED, "", ""},
};

static void
check_ctype(const struct ctype_case *c)
{
	char in[1024];
	enum http_response_error e;
	enum http_response_result res;
	struct http_response r;
	int n;
	bool ok;

	if (c->value == NULL)
		n = snprintf(in, sizeof(in), "%s%s\r\n", S200, CL0);
	else
		n = snprintf(in, sizeof(in), "%sContent-Type: %s\r\n%s\r\n",
		             S200, c->value, CL0);
	if (n < 0 || (size_t)n >= sizeof(in))
		abort();
	res = head1(in, (size_t)n, HEAD_MAX, &r, &e);
	ok = res == DONE && r.ctype == c->ctype &&
	    strcmp(r.content_type, c->type) == 0 &&
	    strcmp(r.charset, c->charset) == 0;
	if (!tap_ok(ok, "content-type: %s", c->name))
		tap_diag("result %d ctype %d type \"%s\" charset \"%s\"",
		         (int)res, (int)r.ctype, r.content_type, r.charset);
}

/* A prefix of an error head is INCOMPLETE or fails the same way. */
static void
check_prefixes(const char *name, const char *in, size_t len)
{
	enum http_response_error e, e_whole;
	enum http_response_result res, whole;
	struct http_response r;
	bool ok = true;
	size_t k;

	whole = head1(in, len, HEAD_MAX, &r, &e_whole);
	for (k = 0; k < len && ok; k++) {
		res = head1(in, k, HEAD_MAX, &r, &e);
		if (whole == DONE && k < r.head_len)
			ok = res == MORE;
		else if (res == FAIL)
			ok = whole == FAIL && e == e_whole;
		else
			ok = res == MORE || whole == DONE;
		if (!ok)
			tap_diag("prefix %zu: result %d error %d", k, (int)res,
			         (int)e);
	}
	tap_ok(ok, "prefixes: %s", name);
}

/* The whole decoding of one body, in pieces of `step` (0: at once). */
struct run {
	enum http_body_result res;
	enum http_body_error error;
	size_t consumed; /* input octets consumed */
	size_t outlen;
	char *out; /* heap buffer of exactly cap octets */
	bool stalled;
};

static void
run_body(const char *in, size_t len, const struct http_response *r,
         uint64_t cap, size_t step, size_t outstep, bool eof, struct run *run)
{
	struct http_body b;
	char *buf = copy_of(in, len);
	size_t n, room, c, p;

	memset(run, 0, sizeof(*run));
	run->out = malloc(cap == 0 ? 1 : (size_t)cap);
	if (run->out == NULL)
		abort();
	run->res = http_body_init(&b, r, cap);
	while (run->res == HTTP_BODY_MORE && run->consumed < len) {
		n = len - run->consumed;
		if (step != 0 && n > step)
			n = step;
		room = (size_t)cap - run->outlen;
		if (outstep != 0 && room > outstep)
			room = outstep;
		run->res = http_body_feed(&b, buf + run->consumed, n,
		                          run->out + run->outlen, room, &c, &p);
		run->consumed += c;
		run->outlen += p;
		if (c == 0 && p == 0 && run->res == HTTP_BODY_MORE) {
			run->stalled = true;
			break;
		}
	}
	if (eof && run->res == HTTP_BODY_MORE && !run->stalled)
		run->res = http_body_eof(&b);
	run->error = b.error;
	if (run->outlen != b.total)
		run->stalled = true;
	free(buf);
}

static bool
same_run(const struct run *a, const struct run *b)
{
	return a->res == b->res && a->error == b->error &&
	    a->consumed == b->consumed && a->outlen == b->outlen &&
	    memcmp(a->out, b->out, a->outlen) == 0 && !a->stalled &&
	    !b->stalled;
}

static struct http_response
framed(enum http_framing f, uint64_t length)
{
	struct http_response r;

	memset(&r, 0, sizeof(r));
	r.framing = f;
	r.has_length = f == F_LENGTH;
	r.content_length = length;
	r.chunked = f == F_CHUNKED;
	return r;
}

#define B_MORE  HTTP_BODY_MORE
#define B_DONE  HTTP_BODY_DONE
#define B_ERROR HTTP_BODY_ERROR

/*
 * Chunked bodies (RFC 9112 §7.1), decoded with a cap of 64 octets and no
 * close: `rest` octets are left after the body (the next response).
 */
/*
 * Rows: CK decoded to body with `rest` octets left; CKPART waiting for
 * more; CKBAD an error (CKBADN: with a NUL, so sized).
 */
#define CK(n, s, bd, r)                                                        \
	{                                                                      \
		.name = n, .in = s, .want = B_DONE, .body = bd, .rest = r      \
	}
#define CKPART(n, s)                                                           \
	{                                                                      \
		.name = n, .in = s, .want = B_MORE                             \
	}
#define CKBAD(n, s, e)                                                         \
	{                                                                      \
		.name = n, .in = s, .want = B_ERROR, .error = e                \
	}
#define CKBADN(n, s, e)                                                        \
	{                                                                      \
		.name = n, .in = s, .len = sizeof(s) - 1, .want = B_ERROR,     \
		.error = e                                                     \
	}

static const struct chunk_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	enum http_body_result want;
	enum http_body_error error;
	const char *body; /* for DONE */
	size_t rest;
} chunk_cases[] = {
    CK("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", 0),
    CK("two chunks", "3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", "hello", 0),
    CK("empty body", "0\r\n\r\n", "", 0),
    CK("upper and lower hex", "a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n",
       "01234567890123456789", 0),
    CK("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", 0),
    CK("extensions skipped",
       "5;name=value;q=\"a;b\"\r\nhello\r\n0;last\r\n\r\n", "hello", 0),
    CK("BWS before an extension", "5 \t;x\r\nhello\r\n0 ;y\r\n\r\n", "hello",
       0),
    CK("trailer fields skipped",
       "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:\r\n\r\n", "hello", 0),
    CK("next response left alone", "1\r\nx\r\n0\r\n\r\nHTTP/1.1", "x", 8),
    CK("STS-POL-20: 64 octets, exactly the cap",
       "40\r\n0123456789012345678901234567890123456789012345678901234567890123"
       "\r\n0\r\n\r\n",
       "0123456789012345678901234567890123456789012345678901234567890123", 0),
    CKPART("truncated in data", "5\r\nhel"),
    CKPART("truncated before trailers end", "5\r\nhello\r\n0\r\n"),
    CKBAD("STS-POL-20: 65 octets announced", "41\r\n", HTTP_BODY_E_TOO_BIG),
    CKBAD("STS-POL-20: over the cap across chunks",
          "20\r\n01234567890123456789012345678901\r\n21\r\n",
          HTTP_BODY_E_TOO_BIG),
    CKBAD("STS-POL-20: huge size refused at its second digit", "fff",
          HTTP_BODY_E_TOO_BIG),
    CKBAD("no size", "\r\n", HTTP_BODY_E_CHUNK_SIZE),
    CKBAD("bad hex", "5g\r\nhello\r\n0\r\n\r\n", HTTP_BODY_E_CHUNK_SIZE),
    CKBAD("sign", "+5\r\nhello\r\n0\r\n\r\n", HTTP_BODY_E_CHUNK_SIZE),
    CKBAD("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", HTTP_BODY_E_CHUNK_SIZE),
    CKBAD("white space before the size", " 5\r\nhello\r\n0\r\n\r\n",
          HTTP_BODY_E_CHUNK_SIZE),
    CKBAD("white space, no extension", "5 \r\nhello\r\n0\r\n\r\n",
          HTTP_BODY_E_CHUNK_EXT),
    CKBAD("CTL in an extension", "5;a\x01\r\nhello\r\n0\r\n\r\n",
          HTTP_BODY_E_CHUNK_EXT),
    CKBAD("bare LF after the size", "5\nhello\r\n0\r\n\r\n",
          HTTP_BODY_E_CHUNK_CRLF),
    CKBAD("bare LF in an extension", "5;x\nhello\r\n0\r\n\r\n",
          HTTP_BODY_E_CHUNK_CRLF),
    CKBAD("bare CR after the size", "5\rhello\r\n0\r\n\r\n",
          HTTP_BODY_E_CHUNK_CRLF),
    CKBAD("data longer than its size", "5\r\nhello!\r\n0\r\n\r\n",
          HTTP_BODY_E_CHUNK_CRLF),
    CKBAD("data shorter than its size", "5\r\nhell\r\n0\r\n\r\n",
          HTTP_BODY_E_CHUNK_CRLF),
    CKBAD("bare LF after data", "5\r\nhello\n0\r\n\r\n",
          HTTP_BODY_E_CHUNK_CRLF),
    CKBAD("no CRLF after data", "5\r\nhello0\r\n\r\n", HTTP_BODY_E_CHUNK_CRLF),
    CKBADN("NUL in a size", "5\0\r\nhello\r\n0\r\n\r\n",
           HTTP_BODY_E_CHUNK_SIZE),
    CKBAD("bare LF ends trailers", "0\r\n\n", HTTP_BODY_E_TRAILER),
    CKBAD("trailer without colon", "0\r\nX\r\n\r\n", HTTP_BODY_E_TRAILER),
    CKBAD("trailer space before colon", "0\r\nX :y\r\n\r\n",
          HTTP_BODY_E_TRAILER),
    CKBAD("trailer obs-fold", "0\r\nX: y\r\n z\r\n\r\n", HTTP_BODY_E_TRAILER),
    CKBAD("trailer CTL", "0\r\nX: \x01\r\n\r\n", HTTP_BODY_E_TRAILER),
    CKBAD("trailer bare LF", "0\r\nX: y\n\r\n", HTTP_BODY_E_TRAILER),
    CKBAD("final CR then junk", "0\r\n\rx", HTTP_BODY_E_TRAILER),
};

static void
check_chunks(const struct chunk_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in), k;
	struct http_response r = framed(F_CHUNKED, 0);
	struct run whole, part;
	bool ok;

	run_body(c->in, len, &r, 64, 0, 0, false, &whole);
	ok = whole.res == c->want && !whole.stalled;
	if (ok && c->want == B_ERROR)
		ok = whole.error == c->error;
	if (ok && c->want == B_DONE)
		ok = whole.consumed == len - c->rest &&
		    whole.outlen == strlen(c->body) &&
		    memcmp(whole.out, c->body, whole.outlen) == 0;
	if (!tap_ok(ok, "chunked: %s", c->name))
		tap_diag("result %d error %d consumed %zu out %zu",
		         (int)whole.res, (int)whole.error, whole.consumed,
		         whole.outlen);
	/* Byte by byte, a byte of output at a time, then every split. */
	run_body(c->in, len, &r, 64, 1, 1, false, &part);
	ok = same_run(&whole, &part);
	free(part.out);
	for (k = 2; k < len && ok; k++) {
		run_body(c->in, len, &r, 64, k, 0, false, &part);
		ok = same_run(&whole, &part);
		free(part.out);
	}
	tap_ok(ok, "chunked splits: %s", c->name);
	free(whole.out);
}

/* Size overflow needs a cap the size cannot pass first. */
static void
check_chunk_overflow(void)
{
	struct http_response r = framed(F_CHUNKED, 0);
	struct http_body b;
	size_t c, p;
	char out[1];

	http_body_init(&b, &r, UINT64_MAX);
	tap_ok(http_body_feed(&b, "ffffffffffffffff", 16, out, 0, &c, &p) ==
	               B_MORE &&
	           c == 16,
	       "chunked: 16 hex digits fit in 64 bits");
	tap_ok(http_body_feed(&b, "0", 1, out, 0, &c, &p) == B_ERROR &&
	           b.error == HTTP_BODY_E_CHUNK_SIZE && c == 1,
	       "chunked: the 17th significant digit overflows");
	http_body_init(&b, &r, UINT64_MAX);
	tap_ok(http_body_feed(&b, "00000000000000000001", 20, out, 0, &c, &p) ==
	           B_MORE,
	       "chunked: leading zeros do not overflow");
}

/* A chunk line of n octets, CRLF included: "1;xxx...\r\n". */
static char *
long_chunk_line(size_t n)
{
	char *s;

	if (n < 5 || (s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, "1;", 2);
	memset(s + 2, 'x', n - 4);
	memcpy(s + n - 2, CRLF, 3);
	return s;
}

/* The last chunk, then a trailer section of n octets: "X:yyy\r\n\r\n". */
static char *
trailer_of(size_t n)
{
	char *s;

	if (n < 6 || (s = malloc(3 + n + 1)) == NULL)
		abort();
	memcpy(s, "0\r\nX:", 5);
	memset(s + 5, 'y', n - 6);
	memcpy(s + 3 + n - 4, CRLF CRLF, 5);
	return s;
}

/* The framing caps (see CHUNK_LINE_MAX, CHUNK_EXCESS_MAX, TRAILER_MAX). */
static void
check_chunk_caps(void)
{
	struct http_response r = framed(F_CHUNKED, 0);
	struct http_body b;
	size_t c, p, i;
	char out[64], *line;
	enum http_body_result res = B_MORE;

	line = long_chunk_line(4096);
	http_body_init(&b, &r, 64);
	tap_ok(http_body_feed(&b, line, 4096, out, 64, &c, &p) == B_MORE &&
	           c == 4096,
	       "chunk line of 4096 octets");
	free(line);
	line = long_chunk_line(4097);
	http_body_init(&b, &r, 64);
	tap_ok(http_body_feed(&b, line, 4097, out, 64, &c, &p) == B_ERROR &&
	           b.error == HTTP_BODY_E_CHUNK_OVERHEAD && c == 4097,
	       "chunk line of 4097 octets: too much framing");
	free(line);

	/* 1-octet chunks with 1 KiB extensions: framing, not data. */
	line = long_chunk_line(1024 + 2);
	http_body_init(&b, &r, 64);
	for (i = 0; i < 64 && res == B_MORE; i++) {
		res = http_body_feed(&b, line, strlen(line), out, 64, &c, &p);
		if (res == B_MORE)
			res = http_body_feed(&b, "x\r\n", 3, out, 64, &c, &p);
	}
	tap_ok(res == B_ERROR && b.error == HTTP_BODY_E_CHUNK_OVERHEAD &&
	           i == 17,
	       "long extensions on tiny chunks: stopped after 16 KiB");
	free(line);

	/* 1-octet chunks without extensions are fine up to the cap. */
	http_body_init(&b, &r, 64);
	for (i = 0, res = B_MORE; i < 64 && res == B_MORE; i++)
		res = http_body_feed(&b, "1\r\nx\r\n", 6, out + i, 1, &c, &p);
	res = http_body_feed(&b, "0\r\n\r\n", 5, out, 0, &c, &p);
	tap_ok(res == B_DONE && b.total == 64,
	       "64 chunks of one octet: no overhead error");

	line = trailer_of(TRAILER_MAX);
	http_body_init(&b, &r, 64);
	tap_ok(http_body_feed(&b, line, 3 + TRAILER_MAX, out, 64, &c, &p) ==
	           B_DONE,
	       "trailer section of 8192 octets");
	free(line);
	line = trailer_of(TRAILER_MAX + 1);
	http_body_init(&b, &r, 64);
	tap_ok(http_body_feed(&b, line, 3 + TRAILER_MAX + 1, out, 64, &c, &p) ==
	               B_ERROR &&
	           b.error == HTTP_BODY_E_TRAILER && c == 3 + TRAILER_MAX + 1,
	       "trailer section of 8193 octets");
	free(line);
}

/* A body of n octets of a filler that varies, so that splits show. */
static char *
filler(size_t n)
{
	char *s;
	size_t i;

	if ((s = malloc(n + 1)) == NULL)
		abort();
	for (i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	s[n] = '\0';
	return s;
}

/* data as a chunked body in chunks of `size` octets (the last shorter). */
static char *
chunk_up(const char *data, size_t n, size_t size, size_t *outlen)
{
	size_t cap = n + (n / size + 2) * 16 + 8, len = 0, i, k;
	char *s;

	if ((s = malloc(cap)) == NULL)
		abort();
	for (i = 0; i < n; i += k) {
		k = n - i < size ? n - i : size;
		len += (size_t)snprintf(s + len, cap - len, "%zx\r\n", k);
		memcpy(s + len, data + i, k);
		len += k;
		memcpy(s + len, CRLF, 2);
		len += 2;
	}
	memcpy(s + len, "0\r\n\r\n", 5);
	*outlen = len + 5;
	return s;
}

/*
 * STS-POL-20: a 64 KiB cap, inclusive, under every framing; the octet
 * past it is refused as soon as it is announced or arrives.
 */
static void
check_cap(void)
{
	char *data = filler(KIB64 + 1), *ch;
	struct http_response r;
	struct run run;
	size_t chlen;

	r = framed(F_LENGTH, KIB64);
	run_body(data, KIB64, &r, KIB64, 0, 0, false, &run);
	tap_ok(run.res == B_DONE && run.outlen == KIB64 &&
	           memcmp(run.out, data, KIB64) == 0,
	       "STS-POL-20 T1: Content-Length 65536 read whole");
	free(run.out);
	r = framed(F_LENGTH, KIB64 + 1);
	run_body(data, KIB64 + 1, &r, KIB64, 0, 0, false, &run);
	tap_ok(run.res == B_ERROR && run.error == HTTP_BODY_E_TOO_BIG &&
	           run.consumed == 0,
	       "STS-POL-20: Content-Length 65537 refused before reading");
	free(run.out);
	r = framed(F_LENGTH, UINT64_MAX);
	run_body(data, 1, &r, KIB64, 0, 0, false, &run);
	tap_ok(run.res == B_ERROR && run.error == HTTP_BODY_E_TOO_BIG,
	       "STS-POL-20 T2: Content-Length 2^64-1 refused at once");
	free(run.out);

	r = framed(F_CLOSE, 0);
	run_body(data, KIB64, &r, KIB64, 1000, 0, true, &run);
	tap_ok(run.res == B_DONE && run.outlen == KIB64 &&
	           memcmp(run.out, data, KIB64) == 0,
	       "STS-POL-20: 65536 octets until close");
	free(run.out);
	run_body(data, KIB64 + 1, &r, KIB64, 1000, 0, true, &run);
	tap_ok(run.res == B_ERROR && run.error == HTTP_BODY_E_TOO_BIG &&
	           run.outlen == KIB64 && run.consumed == KIB64,
	       "STS-POL-20: 65537th octet until close refused on arrival");
	free(run.out);

	r = framed(F_CHUNKED, 0);
	ch = chunk_up(data, KIB64, 4096, &chlen);
	run_body(ch, chlen, &r, KIB64, 0, 0, false, &run);
	tap_ok(run.res == B_DONE && run.outlen == KIB64 &&
	           memcmp(run.out, data, KIB64) == 0 && run.consumed == chlen,
	       "STS-POL-20: chunked 65536 octets in 16 chunks");
	free(run.out);
	free(ch);
	ch = chunk_up(data, KIB64 + 1, 4096, &chlen);
	run_body(ch, chlen, &r, KIB64, 777, 0, false, &run);
	/* 16 chunks of "1000\r\n" + 4096 + CRLF, then "1" is one too many. */
	tap_ok(run.res == B_ERROR && run.error == HTTP_BODY_E_TOO_BIG &&
	           run.consumed == 16 * (6 + 4096 + 2) + 1 &&
	           run.outlen == KIB64,
	       "STS-POL-20: chunked 65537th octet refused at its chunk size");
	free(run.out);
	free(ch);
	ch = chunk_up(data, KIB64 + 1, KIB64 + 1, &chlen);
	run_body(ch, chlen, &r, KIB64, 0, 0, false, &run);
	tap_ok(run.res == B_ERROR && run.error == HTTP_BODY_E_TOO_BIG &&
	           run.consumed == 5 && run.outlen == 0,
	       "STS-POL-20: one chunk of 0x10001 refused at its 5th digit");
	free(run.out);
	free(ch);
	free(data);
}

/* Identity and close-delimited bodies, and the end of the connection. */
static void
check_identity(void)
{
	struct http_response r;
	struct http_body b;
	struct run run;
	size_t c, p;
	char out[8];

	r = framed(F_LENGTH, 5);
	run_body("helloHTTP", 9, &r, 64, 0, 0, false, &run);
	tap_ok(run.res == B_DONE && run.consumed == 5 && run.outlen == 5 &&
	           memcmp(run.out, "hello", 5) == 0,
	       "identity: stops at Content-Length");
	free(run.out);
	run_body("hel", 3, &r, 64, 0, 0, true, &run);
	tap_ok(run.res == B_ERROR && run.error == HTTP_BODY_E_TRUNCATED,
	       "identity: close before the end is truncation");
	free(run.out);
	r = framed(F_CHUNKED, 0);
	run_body("5\r\nhello\r\n", 10, &r, 64, 0, 0, true, &run);
	tap_ok(run.res == B_ERROR && run.error == HTTP_BODY_E_TRUNCATED,
	       "chunked: close before the last chunk is truncation");
	free(run.out);
	r = framed(F_CLOSE, 0);
	run_body("", 0, &r, 64, 0, 0, true, &run);
	tap_ok(run.res == B_DONE && run.outlen == 0, "until close: empty body");
	free(run.out);
	r = framed(F_LENGTH, 0);
	tap_ok(http_body_init(&b, &r, 0) == B_DONE,
	       "Content-Length 0 is done at once, even with cap 0");
	r = framed(F_NONE, 0);
	tap_ok(http_body_init(&b, &r, 64) == B_DONE &&
	           http_body_feed(&b, "x", 1, out, 8, &c, &p) == B_DONE &&
	           c == 0 && p == 0 && http_body_eof(&b) == B_DONE,
	       "no body: done, consumes nothing");
	r = framed(F_LENGTH, 4);
	http_body_init(&b, &r, 64);
	tap_ok(http_body_feed(&b, "abcd", 4, out, 0, &c, &p) == B_MORE &&
	           c == 0 && p == 0,
	       "identity: no room, no progress, MORE");
	tap_ok(http_body_feed(&b, "abcd", 4, out, 3, &c, &p) == B_MORE &&
	           c == 3 && p == 3 &&
	           http_body_feed(&b, "d", 1, out + 3, 5, &c, &p) == B_DONE &&
	           c == 1 && memcmp(out, "abcd", 4) == 0,
	       "identity: output room limits input");
	r = framed(F_CHUNKED, 0);
	http_body_init(&b, &r, 64);
	(void)http_body_feed(&b, "x", 1, out, 8, &c, &p);
	tap_ok(http_body_feed(&b, "0\r\n\r\n", 5, out, 8, &c, &p) == B_ERROR &&
	           c == 0 && http_body_eof(&b) == B_ERROR &&
	           b.error == HTTP_BODY_E_CHUNK_SIZE,
	       "errors are sticky");
}

/*
 * Whole responses cut at every point, as a client reading a socket:
 * parse the head on what it has; once DONE, feed the rest of the first
 * read, then the second.  Every cut gives the same head and body.
 */
static const struct whole_case {
	const char *name;
	const char *in;
	int status;
	const char *body;
	bool eof; /* the server closes after it */
} whole_cases[] = {
    {"identity", S200 TEXT "Content-Length: 14" CRLF CRLF "version: STSv1", 200,
     "version: STSv1", false},
    {"chunked with extension and trailer",
     S200 TEXT CHUNKED CRLF "8;a=b\r\nversion:\r\n6\r\n STSv1\r\n0\r\nX: y"
                            "\r\n\r\n",
     200, "version: STSv1", false},
    {"100 Continue, then chunked",
     "HTTP/1.1 100 Continue" CRLF CRLF S200 CHUNKED CRLF
     "e\r\nversion: STSv1\r\n0\r\n\r\n",
     200, "version: STSv1", false},
    {"until close", "HTTP/1.0 200 OK\nContent-Type: text/plain\n\nmode: none",
     200, "mode: none", true},
    {"STS-FETCH-7 T2: redirect with a body",
     "HTTP/1.1 301 Moved" CRLF "Location: https://x.example/" CRLF
     "Content-Length: 3" CRLF CRLF "abc",
     301, "abc", false},
};

static bool
client(const struct whole_case *c, size_t cut)
{
	size_t len = strlen(c->in), have = cut;
	enum http_response_error e;
	struct http_response r;
	struct http_body b;
	char out[64], *buf = copy_of(c->in, len);
	size_t n = 0, used, k, p;
	enum http_body_result res;
	bool ok;

	if (http_response_head(buf, have, HEAD_MAX, &r, &e) != DONE) {
		have = len;
		if (http_response_head(buf, have, HEAD_MAX, &r, &e) != DONE) {
			free(buf);
			return false;
		}
	}
	res = http_body_init(&b, &r, sizeof(out));
	for (used = r.head_len; res == B_MORE && used < len; used += k) {
		if (have == used)
			have = len;
		res = http_body_feed(&b, buf + used, have - used, out + n,
		                     sizeof(out) - n, &k, &p);
		n += p;
	}
	if (c->eof && res == B_MORE)
		res = http_body_eof(&b);
	ok = res == B_DONE && r.status == c->status && n == strlen(c->body) &&
	    memcmp(out, c->body, n) == 0;
	free(buf);
	return ok;
}

static void
check_whole(const struct whole_case *c)
{
	size_t len = strlen(c->in), cut;
	bool ok = true;

	for (cut = 0; cut <= len && ok; cut++)
		if (!(ok = client(c, cut)))
			tap_diag("cut at %zu", cut);
	tap_ok(ok, "every split point: %s", c->name);
	check_prefixes(c->name, c->in, len);
}

/* A head of exactly n octets: S200, X-Pad to fill, CL0, CRLF. */
static char *
head_of(size_t n)
{
	static const char pre[] = S200 "X-Pad: ";
	size_t fixed = sizeof(pre) - 1 + 2 + sizeof(CL0) - 1 + 2;
	char *h;

	if (n < fixed || (h = malloc(n + 1)) == NULL)
		abort();
	memcpy(h, pre, sizeof(pre) - 1);
	memset(h + sizeof(pre) - 1, 'x', n - fixed);
	memcpy(h + n - (fixed - (sizeof(pre) - 1)), CRLF CL0 CRLF,
	       fixed - (sizeof(pre) - 1));
	h[n] = '\0';
	return h;
}

static void
check_head_cap(void)
{
	enum http_response_error e;
	struct http_response r;
	size_t n = 300;
	char *h = head_of(n);

	tap_ok(head1(h, n, n, &r, &e) == DONE && r.head_len == n,
	       "head cap: exactly max_head");
	tap_ok(head1(h, n, n - 1, &r, &e) == FAIL &&
	           e == HTTP_RESPONSE_E_HEAD_TOO_BIG,
	       "head cap: one octet over");
	tap_ok(head1(h, n - 2, n - 1, &r, &e) == MORE,
	       "head cap: under the cap, INCOMPLETE");
	tap_ok(head1(h, n - 1, n - 1, &r, &e) == FAIL &&
	           e == HTTP_RESPONSE_E_HEAD_TOO_BIG,
	       "head cap: max_head octets without an end");
	free(h);
	tap_ok(head1("HTTP/1.1 100 Go" CRLF CRLF, 19, 19, &r, &e) == FAIL &&
	           e == HTTP_RESPONSE_E_HEAD_TOO_BIG,
	       "head cap: interim responses count");
}

/* On INCOMPLETE and ERROR neither *r nor *error is written (STYLE 7). */
static void
check_untouched(void)
{
	struct http_response r, sentinel;
	enum http_response_error e = HTTP_RESPONSE_E_NONE;

	memset(&sentinel, 0x5A, sizeof(sentinel));
	r = sentinel;
	(void)http_response_head(S200, sizeof(S200) - 1, HEAD_MAX, &r, &e);
	tap_ok(memcmp(&r, &sentinel, sizeof(r)) == 0 &&
	           e == HTTP_RESPONSE_E_NONE,
	       "INCOMPLETE writes nothing");
	(void)http_response_head("HTTP/3 200", 10, HEAD_MAX, &r, &e);
	tap_ok(memcmp(&r, &sentinel, sizeof(r)) == 0 &&
	           e == HTTP_RESPONSE_E_STATUS_LINE,
	       "ERROR writes only the error");
	tap_ok(http_response_head("HTTP/3 200", 10, HEAD_MAX, &r, NULL) == FAIL,
	       "error may be NULL");
}

static void
check_messages(void)
{
	int i;
	bool ok = true;

	for (i = HTTP_RESPONSE_E_NONE; i <= HTTP_RESPONSE_E_FRAMING; i++)
		ok = ok &&
		    strcmp(http_response_strerror((enum http_response_error)i),
		           "unknown error") != 0;
	for (i = HTTP_BODY_E_NONE; i <= HTTP_BODY_E_TRUNCATED; i++)
		ok = ok &&
		    strcmp(http_body_strerror((enum http_body_error)i),
		           "unknown error") != 0;
	tap_ok(ok, "every error has a message");
	tap_ok(strcmp(http_body_strerror(HTTP_BODY_E_TOO_BIG),
	              "body larger than the limit") == 0,
	       "too big message");
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
main(void)
{
	size_t i;

	for (i = 0; i < NELEM(status_cases); i++)
		check_status(&status_cases[i]);
	for (i = 0; i < NELEM(status_cases); i++)
		check_prefixes(status_cases[i].name, status_cases[i].in,
		               strlen(status_cases[i].in));
	for (i = 0; i < NELEM(field_cases); i++)
		check_field(&field_cases[i]);
	for (i = 0; i < NELEM(framing_cases); i++)
		check_framing(&framing_cases[i]);
	for (i = 0; i < NELEM(ctype_cases); i++)
		check_ctype(&ctype_cases[i]);
	for (i = 0; i < NELEM(chunk_cases); i++)
		check_chunks(&chunk_cases[i]);
	for (i = 0; i < NELEM(whole_cases); i++)
		check_whole(&whole_cases[i]);
	check_chunk_overflow();
	check_chunk_caps();
	check_cap();
	check_identity();
	check_head_cap();
	check_untouched();
	check_messages();
	return tap_done();
}
