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
#include <stdint.h>
#include <string.h>

#include "http.h"

#include "http_token.h"
#include "internal.h"

/* RFC 9112 §2.2: a server SHOULD ignore at least one empty line first. */
#define EMPTY_LINES_MAX 4

enum step {
	STEP_OK,   /* done with this part; go on */
	STEP_MORE, /* ran out of bytes */
	STEP_FAIL  /* p->status says what to answer */
};

struct parser {
	const char *buf;
	size_t pos;
	size_t end; /* min(len, max_head): the bytes we may look at */
	size_t max_headers;
	int status;
	struct http_request req;
	unsigned major;
	size_t host_count;
	bool te_seen;         /* a Transfer-Encoding field line was given */
	size_t te_chunked;    /* how often "chunked" is in the list */
	bool te_last_chunked; /* "chunked" is the last coding so far */
	bool te_unknown;      /* a coding other than "chunked" */
	bool conn_close;
	bool conn_keep_alive;
};

static enum step
fail(struct parser *p, int status)
{
	p->status = status;
	return STEP_FAIL;
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
is_ows(int c)
{
	return mts_is_wsp(c);
}

static bool
is_hex(int c)
{
	return mts_is_digit(c) || (mts_lower(c) >= 'a' && mts_lower(c) <= 'f');
}

/* Advances over bytes of class `cls`; returns how many. */
static size_t
span(struct parser *p, bool (*cls)(int))
{
	size_t start = p->pos;

	while (p->pos < p->end && cls((unsigned char)p->buf[p->pos]))
		p->pos++;
	return p->pos - start;
}

static enum step
take(struct parser *p, unsigned char *c)
{
	if (p->pos == p->end)
		return STEP_MORE;
	*c = (unsigned char)p->buf[p->pos++];
	return STEP_OK;
}

/* CRLF, or a bare LF (RFC 9112 §2.2 MAY); a bare CR is an error. */
static enum step
line_end(struct parser *p)
{
	if (p->pos == p->end)
		return STEP_MORE;
	if (p->buf[p->pos] == '\n') {
		p->pos++;
		return STEP_OK;
	}
	if (p->buf[p->pos] != '\r')
		return fail(p, 400);
	if (p->pos + 1 == p->end)
		return STEP_MORE;
	if (p->buf[p->pos + 1] != '\n')
		return fail(p, 400);
	p->pos += 2;
	return STEP_OK;
}

/* RFC 9112 §2.2: empty lines before the request line, a few at most. */
static enum step
skip_empty_lines(struct parser *p)
{
	enum step s;
	unsigned n;

	for (n = 0; n < EMPTY_LINES_MAX; n++) {
		if (p->pos == p->end)
			return STEP_MORE;
		if (p->buf[p->pos] != '\r' && p->buf[p->pos] != '\n')
			break;
		if ((s = line_end(p)) != STEP_OK)
			return s;
	}
	return STEP_OK;
}

/* The single SP after a non-empty method or target (RFC 9112 §3). */
static enum step
one_sp(struct parser *p, size_t before)
{
	if (p->pos == p->end)
		return STEP_MORE;
	if (before == 0 || p->buf[p->pos] != ' ')
		return fail(p, 400);
	p->pos++;
	return STEP_OK;
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
static enum step
version(struct parser *p)
{
	static const char name[] = "HTTP/";
	unsigned char c, minor;
	enum step s;
	size_t i;

	for (i = 0; i < sizeof(name) - 1; i++) {
		if ((s = take(p, &c)) != STEP_OK)
			return s;
		if (c != (unsigned char)name[i])
			return fail(p, 400);
	}
	if ((s = take(p, &c)) != STEP_OK)
		return s;
	if (!mts_is_digit(c))
		return fail(p, 400);
	p->major = c - '0';
	if ((s = take(p, &c)) != STEP_OK)
		return s;
	if (c != '.')
		return fail(p, 400);
	if ((s = take(p, &minor)) != STEP_OK)
		return s;
	if (!mts_is_digit(minor))
		return fail(p, 400);
	p->req.version_minor = minor - '0';
	return STEP_OK;
}

/* request-line = method SP request-target SP HTTP-version (§3). */
static enum step
request_line(struct parser *p)
{
	struct http_request *r = &p->req;
	enum step s;

	r->method_name = p->buf + p->pos;
	r->method_len = span(p, mts_http_is_tchar);
	if ((s = one_sp(p, r->method_len)) != STEP_OK)
		return s;
	r->method = method_of(r->method_name, r->method_len);
	r->target = p->buf + p->pos;
	r->target_len = span(p, is_target_char);
	if ((s = one_sp(p, r->target_len)) != STEP_OK)
		return s;
	if (!target_form_ok(r))
		return fail(p, 400);
	if ((s = version(p)) != STEP_OK || (s = line_end(p)) != STEP_OK)
		return s;
	/* RFC 9112 §2.3 would take 1.2 as 1.1; we answer 1.0 and 1.1 only. */
	if (p->major != 1 || r->version_minor > 1)
		return fail(p, 505);
	return STEP_OK;
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

static enum step
field_host(struct parser *p, const char *v, size_t n)
{
	/* RFC 9112 §3.2: MUST answer 400 to more than one Host or a bad one. */
	if (++p->host_count > 1 || !host_ok(v, n))
		return fail(p, 400);
	p->req.host = v;
	p->req.host_len = n;
	return STEP_OK;
}

/*
 * Content-Length = 1*DIGIT (RFC 9110 §8.6).  A list, even of equal
 * values, and a second field line are refused (RFC 9112 §6.3 item 5
 * lets a recipient reject them; a proxy in front might pick the other).
 */
static enum step
field_length(struct parser *p, const char *v, size_t n)
{
	uint64_t len = 0;
	size_t i;

	if (p->req.has_length || n == 0)
		return fail(p, 400);
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)v[i] - '0';

		if (!mts_is_digit((unsigned char)v[i]) ||
		    len > (UINT64_MAX - d) / 10)
			return fail(p, 400);
		len = len * 10 + d;
	}
	p->req.has_length = true;
	p->req.content_length = len;
	return STEP_OK;
}

/*
 * Transfer-Encoding (RFC 9112 §6.1): the codings of every field line in
 * order.  Judged once the head is complete (head_done()), since a later
 * line can change the verdict.  Parameters are refused with the rest.
 */
static enum step
field_te(struct parser *p, const char *v, size_t n)
{
	const char *end = v + n, *tok;
	size_t len;
	int rc;

	p->te_seen = true;
	while ((rc = mts_http_list_next(&v, end, &tok, &len)) == 1) {
		p->te_last_chunked = mts_http_name_is(tok, len, "chunked");
		if (p->te_last_chunked)
			p->te_chunked++;
		else
			p->te_unknown = true;
	}
	return rc == 0 ? STEP_OK : fail(p, 400);
}

/* Connection = #connection-option (RFC 9110 §7.6.1), for §9.3. */
static enum step
field_connection(struct parser *p, const char *v, size_t n)
{
	const char *end = v + n, *tok;
	size_t len;
	int rc;

	while ((rc = mts_http_list_next(&v, end, &tok, &len)) == 1) {
		if (mts_http_name_is(tok, len, "close"))
			p->conn_close = true;
		else if (mts_http_name_is(tok, len, "keep-alive"))
			p->conn_keep_alive = true;
	}
	return rc == 0 ? STEP_OK : fail(p, 400);
}

/* The fields that frame the request or route it; others pass through. */
static enum step
field(struct parser *p, const char *name, size_t nlen, const char *v,
      size_t vlen)
{
	if (mts_http_name_is(name, nlen, "host"))
		return field_host(p, v, vlen);
	if (mts_http_name_is(name, nlen, "content-length"))
		return field_length(p, v, vlen);
	if (mts_http_name_is(name, nlen, "transfer-encoding"))
		return field_te(p, v, vlen);
	if (mts_http_name_is(name, nlen, "connection"))
		return field_connection(p, v, vlen);
	return STEP_OK;
}

/*
 * field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), or the
 * empty line that ends the head (*last set).
 */
static enum step
field_line(struct parser *p, bool *last)
{
	const char *name;
	size_t name_len, vstart, vend;
	unsigned char c;
	enum step s;

	if (p->pos == p->end)
		return STEP_MORE;
	c = (unsigned char)p->buf[p->pos];
	if (c == '\r' || c == '\n') {
		*last = true;
		return line_end(p);
	}
	/* obs-fold (§5.2), or white space after the start line (§2.2). */
	if (mts_is_wsp(c))
		return fail(p, 400);
	if (p->req.header_count == p->max_headers)
		return fail(p, 431);
	name = p->buf + p->pos;
	name_len = span(p, mts_http_is_tchar);
	if (p->pos == p->end)
		return STEP_MORE;
	/* §5.1: no white space between the name and the colon, MUST 400. */
	if (name_len == 0 || p->buf[p->pos] != ':')
		return fail(p, 400);
	p->pos++;
	span(p, is_ows);
	vstart = p->pos;
	span(p, mts_http_is_field_char);
	vend = p->pos;
	while (vend > vstart && mts_is_wsp(p->buf[vend - 1]))
		vend--;
	if ((s = line_end(p)) != STEP_OK)
		return s;
	p->req.header_count++;
	return field(p, name, name_len, p->buf + vstart, vend - vstart);
}

/* Checks that need the whole head, then fills in the derived values. */
static enum step
head_done(struct parser *p)
{
	struct http_request *r = &p->req;

	/* RFC 9112 §3.2: MUST answer 400 to HTTP/1.1 without Host. */
	if (r->version_minor == 1 && p->host_count == 0)
		return fail(p, 400);
	if (p->te_seen) {
		/* §6.1: both is smuggling; we may reject rather than pick. */
		if (r->has_length)
			return fail(p, 400);
		/* §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing. */
		if (r->version_minor == 0)
			return fail(p, 400);
		/* §6.3 item 4: chunked not last, MUST 400; §6.1: only once. */
		if (p->te_chunked != 1 || !p->te_last_chunked)
			return fail(p, 400);
		/* §6.1: a coding we do not know, SHOULD 501. */
		if (p->te_unknown)
			return fail(p, 501);
		r->chunked = true;
	}
	/* §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
	r->keep_alive =
	    !p->conn_close && (r->version_minor == 1 || p->conn_keep_alive);
	r->head_len = p->pos;
	return STEP_OK;
}

static enum step
parse(struct parser *p, bool *in_request_line)
{
	bool last = false;
	enum step s;

	*in_request_line = true;
	if ((s = skip_empty_lines(p)) != STEP_OK ||
	    (s = request_line(p)) != STEP_OK)
		return s;
	*in_request_line = false;
	while ((s = field_line(p, &last)) == STEP_OK && !last)
		continue;
	if (s != STEP_OK)
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
	p.buf = buf;
	p.end = len < max_head ? len : max_head;
	p.max_headers = max_headers;
	switch (parse(&p, &in_request_line)) {
	case STEP_OK:
		*req = p.req;
		return HTTP_PARSE_DONE;
	case STEP_MORE:
		if (len < max_head)
			return HTTP_PARSE_INCOMPLETE;
		*status = in_request_line ? 414 : 431;
		return HTTP_PARSE_ERROR;
	case STEP_FAIL:
		break;
	}
	*status = p.status;
	return HTTP_PARSE_ERROR;
}

/* RFC 9110 §15 reason phrases of the codes the server sends. */
static const struct reason {
	int status;
	const char *text;
} reasons[] = {
    {200, "OK"},
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
