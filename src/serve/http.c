/* SPDX-License-Identifier: ISC */
/*
 * The request-head parser of the policy server: the request line of
 * RFC 9112 §3 (method, the origin-, absolute- and asterisk-forms of
 * §3.2, HTTP-version of §2.3), field lines of §5 with the value rules of
 * RFC 9110 §5.5 and the list rule of RFC 9110 §5.6.1, Host (RFC 9110
 * §7.2, RFC 9112 §3.2), message body length (RFC 9112 §6.1-§6.3) and
 * persistence (RFC 9112 §9.3).
 *
 * One forward pass over buf[0..min(len, max_head)).  Every decision is
 * taken on bytes already seen, never on where the buffer happens to end:
 * a step that runs out of bytes says "more", so a prefix of a head is
 * either incomplete or already carries the error the whole head would
 * get.  That is what lets the server call us again, from the start, each
 * time bytes arrive.  Nothing is allocated; the result points into buf.
 */
#include <arpa/inet.h>
#include <string.h>

#include "http.h"

#include "http_cursor.h"
#include "http_token.h"
#include "internal.h"

/* RFC 9112 §2.2: a server SHOULD ignore at least one empty line first. */
#define EMPTY_LINES_MAX 4

/*
 * The steps are those of the shared cursor (http_cursor.h); a BAD step
 * of this parser has set p->status, the answer to send.
 */
struct parser {
	struct mts_http_cursor cur; /* over buf[0..min(len, max_head)) */
	size_t max_headers;
	int status;
	struct http_request req;
	unsigned major;
	size_t host_count;
	size_t type_count;
	struct mts_http_framing fr; /* Transfer-Encoding, Connection */
};

static enum mts_http_step
fail(struct parser *p, int status)
{
	p->status = status;
	return MTS_HTTP_BAD;
}

/* A step of the cursor, whose BAD is a malformed request: 400. */
static enum mts_http_step
step(struct parser *p, enum mts_http_step s)
{
	return s == MTS_HTTP_BAD ? fail(p, 400) : s;
}

/*
 * A request-target octet: visible US-ASCII (RFC 9112 §3.2 forbids
 * white space, RFC 3986 anything else unencoded) without "#", since a
 * fragment is never sent (RFC 9110 §7.1).
 */
static bool
is_target_char(int c)
{
	return c > 0x20 && c < 0x7F && c != '#';
}

static bool
is_hex(int c)
{
	return mts_is_digit(c) || (mts_lower(c) >= 'a' && mts_lower(c) <= 'f');
}

/* CRLF, or a bare LF (RFC 9112 §2.2 MAY); a bare CR is an error. */
static enum mts_http_step
line_end(struct parser *p)
{
	return step(p, mts_http_line_end(&p->cur));
}

/* RFC 9112 §2.2: empty lines before the request line, a few at most. */
static enum mts_http_step
skip_empty_lines(struct parser *p)
{
	enum mts_http_step s;
	unsigned char c;
	unsigned n;

	for (n = 0; n < EMPTY_LINES_MAX; n++) {
		if ((s = mts_http_peek(&p->cur, &c)) != MTS_HTTP_OK)
			return s;
		if (c != '\r' && c != '\n')
			break;
		if ((s = line_end(p)) != MTS_HTTP_OK)
			return s;
	}
	return MTS_HTTP_OK;
}

/* The single SP after a non-empty method or target (RFC 9112 §3). */
static enum mts_http_step
one_sp(struct parser *p, size_t before)
{
	enum mts_http_step s;
	unsigned char c;

	if ((s = mts_http_take(&p->cur, &c)) != MTS_HTTP_OK)
		return s;
	if (before == 0 || c != ' ')
		return fail(p, 400);
	return MTS_HTTP_OK;
}

/* RFC 9110 §9.1: method names are case-sensitive. */
static enum http_method
method_of(const char *m, size_t n)
{
	if (n == 3 && memcmp(m, "GET", 3) == 0)
		return HTTP_METHOD_GET;
	if (n == 4 && memcmp(m, "HEAD", 4) == 0)
		return HTTP_METHOD_HEAD;
	if (n == 4 && memcmp(m, "POST", 4) == 0)
		return HTTP_METHOD_POST;
	return HTTP_METHOD_OTHER;
}

/*
 * absolute-form (RFC 9112 §3.2.2) for the only schemes a policy server
 * can be asked about: "http" or "https" "://" and a non-empty authority
 * (RFC 9110 §4.2.1, §4.2.2 forbid an empty host).  The server must use
 * this authority rather than Host; that is its business, not ours.
 */
static bool
is_absolute_form(const char *t, size_t n)
{
	size_t s;

	if (n > 7 && mts_http_name_is(t, 7, "http://"))
		s = 7;
	else if (n > 8 && mts_http_name_is(t, 8, "https://"))
		s = 8;
	else
		return false;
	return t[s] != '/' && t[s] != '?';
}

/*
 * RFC 9112 §3.2: origin-form, absolute-form, or asterisk-form for
 * OPTIONS only (§3.2.4).  authority-form is for CONNECT (§3.2.3), which
 * is not served here.
 */
static bool
target_form_ok(const struct http_request *r)
{
	if (r->target[0] == '/')
		return true;
	if (r->target_len == 1 && r->target[0] == '*')
		return r->method_len == 7 &&
		    memcmp(r->method_name, "OPTIONS", 7) == 0;
	return is_absolute_form(r->target, r->target_len);
}

/*
 * HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112
 * §2.3).  Anything else is not HTTP/1.x at all: 400, not 505.
 */
static enum mts_http_step
version(struct parser *p)
{
	unsigned char c, minor;
	enum mts_http_step s;

	if ((s = step(p, mts_http_literal(&p->cur, "HTTP/"))) != MTS_HTTP_OK)
		return s;
	if ((s = mts_http_take(&p->cur, &c)) != MTS_HTTP_OK)
		return s;
	if (!mts_is_digit(c))
		return fail(p, 400);
	p->major = c - '0';
	if ((s = mts_http_take(&p->cur, &c)) != MTS_HTTP_OK)
		return s;
	if (c != '.')
		return fail(p, 400);
	if ((s = mts_http_take(&p->cur, &minor)) != MTS_HTTP_OK)
		return s;
	if (!mts_is_digit(minor))
		return fail(p, 400);
	p->req.version_minor = minor - '0';
	return MTS_HTTP_OK;
}

/* request-line = method SP request-target SP HTTP-version (§3). */
static enum mts_http_step
request_line(struct parser *p)
{
	struct http_request *r = &p->req;
	enum mts_http_step s;

	r->method_name = p->cur.buf + p->cur.pos;
	r->method_len = mts_http_span(&p->cur, mts_http_is_tchar);
	if ((s = one_sp(p, r->method_len)) != MTS_HTTP_OK)
		return s;
	r->method = method_of(r->method_name, r->method_len);
	r->target = p->cur.buf + p->cur.pos;
	r->target_len = mts_http_span(&p->cur, is_target_char);
	if ((s = one_sp(p, r->target_len)) != MTS_HTTP_OK)
		return s;
	if (!target_form_ok(r))
		return fail(p, 400);
	if ((s = version(p)) != MTS_HTTP_OK || (s = line_end(p)) != MTS_HTTP_OK)
		return s;
	/* RFC 9112 §2.3 would take 1.2 as 1.1; we answer 1.0 and 1.1 only. */
	if (p->major != 1 || r->version_minor > 1)
		return fail(p, 505);
	return MTS_HTTP_OK;
}

/* unreserved (RFC 3986 §2.3) or sub-delims (§2.2) */
static bool
is_reg_name_char(int c)
{
	switch (c) {
	case '-':
	case '.':
	case '_':
	case '~':
	case '!':
	case '$':
	case '&':
	case '\'':
	case '(':
	case ')':
	case '*':
	case '+':
	case ',':
	case ';':
	case '=':
		return true;
	default:
		return mts_is_alnum(c);
	}
}

/* reg-name (RFC 3986 §3.2.2): unreserved / pct-encoded / sub-delims. */
static bool
reg_name_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (n - i < 3 || !is_hex((unsigned char)s[i + 1]) ||
			    !is_hex((unsigned char)s[i + 2]))
				return false;
			i += 2;
		} else if (!is_reg_name_char(c))
			return false;
	}
	return true;
}

/* An IPv6address in an IP-literal; IPvFuture and zone ids are refused. */
static bool
ipv6_ok(const char *s, size_t n)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char addr[16];

	if (n == 0 || n >= sizeof(text))
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	return inet_pton(AF_INET6, text, addr) == 1;
}

/* port = *DIGIT (RFC 3986 §3.2.3), and a TCP port when not empty. */
static bool
port_ok(const char *s, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (n > 5)
		return false;
	for (i = 0; i < n; i++) {
		if (!mts_is_digit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535;
}

/*
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2), uri-host being an
 * IP-literal in brackets or a reg-name (an IPv4 address is one).  An
 * empty value is allowed (RFC 9112 §3.2); the server answers it.
 */
static bool
host_ok(const char *v, size_t n)
{
	const char *colon, *close;
	size_t host_len;

	if (n > 0 && v[0] == '[') {
		if ((close = memchr(v, ']', n)) == NULL ||
		    !ipv6_ok(v + 1, (size_t)(close - v) - 1))
			return false;
		host_len = (size_t)(close - v) + 1;
	} else {
		colon = memchr(v, ':', n);
		host_len = colon == NULL ? n : (size_t)(colon - v);
		if (!reg_name_ok(v, host_len))
			return false;
	}
	if (host_len == n)
		return true;
	if (v[host_len] != ':')
		return false;
	return port_ok(v + host_len + 1, n - host_len - 1);
}

static enum mts_http_step
field_host(struct parser *p, const char *v, size_t n)
{
	/* RFC 9112 §3.2: MUST answer 400 to more than one Host or a bad one. */
	if (++p->host_count > 1 || !host_ok(v, n))
		return fail(p, 400);
	p->req.host = v;
	p->req.host_len = n;
	return MTS_HTTP_OK;
}

/*
 * Content-Length (RFC 9110 §8.6): a second field line is refused like a
 * list (RFC 9112 §6.3 item 5; a proxy in front might pick the other).
 */
static enum mts_http_step
field_length(struct parser *p, const char *v, size_t n)
{
	if (p->req.has_length ||
	    !mts_http_content_length(v, n, &p->req.content_length))
		return fail(p, 400);
	p->req.has_length = true;
	return MTS_HTTP_OK;
}

/*
 * Transfer-Encoding (RFC 9112 §6.1): the codings of every field line in
 * order, judged once the head is complete (head_done()), since a later
 * line can change the verdict.
 */
static enum mts_http_step
field_te(struct parser *p, const char *v, size_t n)
{
	if (!mts_http_framing_te(&p->fr, v, n))
		return fail(p, 400);
	return MTS_HTTP_OK;
}

/* Connection = #connection-option (RFC 9110 §7.6.1), for §9.3. */
static enum mts_http_step
field_connection(struct parser *p, const char *v, size_t n)
{
	if (!mts_http_framing_connection(&p->fr, v, n))
		return fail(p, 400);
	return MTS_HTTP_OK;
}

/* RFC 9110 §8.3: one Content-Type; a second one is refused, not picked. */
static enum mts_http_step
field_type(struct parser *p, const char *v, size_t n)
{
	if (++p->type_count > 1)
		return fail(p, 400);
	p->req.content_type = v;
	p->req.content_type_len = n;
	return MTS_HTTP_OK;
}

/* RFC 9110 §10.1.1: only 100-continue is defined; others are ignored. */
static enum mts_http_step
field_expect(struct parser *p, const char *v, size_t n)
{
	if (mts_http_name_is(v, n, "100-continue"))
		p->req.expect_continue = true;
	return MTS_HTTP_OK;
}

/* The fields that frame the request or route it; others pass through. */
static enum mts_http_step
field(struct parser *p, const char *name, size_t nlen, const char *v,
      size_t vlen)
{
	if (mts_http_name_is(name, nlen, "content-type"))
		return field_type(p, v, vlen);
	if (mts_http_name_is(name, nlen, "expect"))
		return field_expect(p, v, vlen);
	if (mts_http_name_is(name, nlen, "host"))
		return field_host(p, v, vlen);
	if (mts_http_name_is(name, nlen, "content-length"))
		return field_length(p, v, vlen);
	if (mts_http_name_is(name, nlen, "transfer-encoding"))
		return field_te(p, v, vlen);
	if (mts_http_name_is(name, nlen, "connection"))
		return field_connection(p, v, vlen);
	return MTS_HTTP_OK;
}

/*
 * field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), or the
 * empty line that ends the head (*last set).  A malformed line is 400:
 * §5.1 makes white space before the colon a MUST.
 */
static enum mts_http_step
field_line(struct parser *p, bool *last)
{
	struct mts_http_field f;
	enum mts_http_step s;
	unsigned char c;

	if ((s = mts_http_peek(&p->cur, &c)) != MTS_HTTP_OK)
		return s;
	if (c == '\r' || c == '\n') {
		*last = true;
		return line_end(p);
	}
	/* obs-fold (§5.2), or white space after the start line (§2.2). */
	if (mts_is_wsp(c))
		return fail(p, 400);
	if (p->req.header_count == p->max_headers)
		return fail(p, 431);
	if ((s = step(p, mts_http_field_line(&p->cur, &f))) != MTS_HTTP_OK)
		return s;
	p->req.header_count++;
	return field(p, f.name, f.name_len, f.value, f.value_len);
}

/* Checks that need the whole head, then fills in the derived values. */
static enum mts_http_step
head_done(struct parser *p)
{
	struct http_request *r = &p->req;

	/* RFC 9112 §3.2: MUST answer 400 to HTTP/1.1 without Host. */
	if (r->version_minor == 1 && p->host_count == 0)
		return fail(p, 400);
	if (p->fr.te_seen) {
		/* §6.1: both is smuggling; we may reject rather than pick. */
		if (r->has_length)
			return fail(p, 400);
		/* §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing. */
		if (r->version_minor == 0)
			return fail(p, 400);
		/* §6.3 item 4: chunked not last, MUST 400; §6.1: only once. */
		if (p->fr.te_chunked != 1 || !p->fr.te_last_chunked)
			return fail(p, 400);
		/* §6.1: a coding we do not know, SHOULD 501. */
		if (p->fr.te_unknown)
			return fail(p, 501);
		r->chunked = true;
	}
	/* §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
	r->keep_alive = !p->fr.conn_close &&
	    (r->version_minor == 1 || p->fr.conn_keep_alive);
	r->head_len = p->cur.pos;
	return MTS_HTTP_OK;
}

static enum mts_http_step
parse(struct parser *p, bool *in_request_line)
{
	bool last = false;
	enum mts_http_step s;

	*in_request_line = true;
	if ((s = skip_empty_lines(p)) != MTS_HTTP_OK ||
	    (s = request_line(p)) != MTS_HTTP_OK)
		return s;
	*in_request_line = false;
	while ((s = field_line(p, &last)) == MTS_HTTP_OK && !last)
		continue;
	if (s != MTS_HTTP_OK)
		return s;
	return head_done(p);
}

enum http_parse_result
http_parse_request(const char *buf, size_t len, size_t max_head,
                   size_t max_headers, struct http_request *req, int *status)
{
	struct parser p;
	bool in_request_line;

	memset(&p, 0, sizeof(p));
	mts_http_cursor_init(&p.cur, buf, len < max_head ? len : max_head);
	p.max_headers = max_headers;
	switch (parse(&p, &in_request_line)) {
	case MTS_HTTP_OK:
		*req = p.req;
		return HTTP_PARSE_DONE;
	case MTS_HTTP_MORE:
		if (len < max_head)
			return HTTP_PARSE_INCOMPLETE;
		*status = in_request_line ? 414 : 431;
		return HTTP_PARSE_ERROR;
	case MTS_HTTP_BAD:
		break;
	}
	*status = p.status;
	return HTTP_PARSE_ERROR;
}

enum http_report_type
http_report_type(const char *v, size_t n)
{
	static const char json[] = "application/tlsrpt+json";
	static const char gzip[] = "application/tlsrpt+gzip";
	const char *semi;

	if (v == NULL)
		return HTTP_REPORT_OTHER;
	if ((semi = memchr(v, ';', n)) != NULL)
		n = (size_t)(semi - v);
	while (n > 0 && mts_is_wsp((unsigned char)*v))
		v++, n--;
	while (n > 0 && mts_is_wsp((unsigned char)v[n - 1]))
		n--;
	if (n == sizeof(json) - 1 && mts_http_name_is(v, n, json))
		return HTTP_REPORT_JSON;
	if (n == sizeof(gzip) - 1 && mts_http_name_is(v, n, gzip))
		return HTTP_REPORT_GZIP;
	return HTTP_REPORT_OTHER;
}

/* RFC 9110 §15 reason phrases of the codes the server sends. */
static const struct reason {
	int status;
	const char *text;
} reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {411, "Length Required"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {421, "Misdirected Request"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
};

const char *
http_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Unknown";
}
