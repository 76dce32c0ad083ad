/* SPDX-License-Identifier: ISC */
/*
 * The response parser of the policy fetch: the status line of RFC 9112
 * §4 with the HTTP-version of §2.3, interim 1xx responses (RFC 9110
 * §15.2), field lines of RFC 9112 §5 with the value rules of RFC 9110
 * §5.5 and the list rule of §5.6.1, Content-Type (RFC 9110 §8.3,
 * RFC 6838 §4.2-§4.3), Content-Length (RFC 9110 §8.6), Transfer-Encoding
 * (RFC 9112 §6.1), message body length (§6.3), persistence (§9.3); then
 * the body: identity, chunked (§7.1, trailers of §7.1.2) or until close.
 *
 * The head is parsed in one forward pass over buf[0..min(len,
 * max_head)).  Every decision is taken on octets already seen, never on
 * where the buffer ends, so the caller may parse again from the start
 * as octets arrive.  The body decoder is a byte-driven state machine
 * that keeps no input: any split of the input gives the same result.
 */
#include <stdint.h>
#include <string.h>

#include "http_response.h"

#include "http_cursor.h"
#include "http_token.h"
#include "internal.h"

/* RFC 9112 §7.1 sets no limit; Go's net/http reads chunk lines of 4 KiB. */
#define CHUNK_LINE_MAX   4096
/*
 * Framing may exceed what the data allows by this much before we give
 * up: the rule of Go's net/http (CVE-2023-39326), where each chunk
 * earns 16 octets plus twice its size.  It stops a server from holding
 * the reader with tiny chunks and long extensions the cap never sees.
 */
#define CHUNK_EXCESS_MAX 16384
/* All trailer fields together (§7.1.2); we read none of them. */
#define TRAILER_MAX      8192

/* What one response (interim or final) has said so far. */
struct message {
	struct http_response res;
	struct mts_http_framing fr; /* Transfer-Encoding, Connection */
	bool fold_ok; /* the last field line may be continued (obs-fold) */
};

/*
 * The steps are those of the shared cursor (http_cursor.h); a BAD step
 * of this parser has set p->error.
 */
struct parser {
	struct mts_http_cursor cur; /* over buf[0..min(len, max_head)) */
	enum http_response_error error;
	struct message m;
};

static enum mts_http_step
fail(struct parser *p, enum http_response_error error)
{
	p->error = error;
	return MTS_HTTP_BAD;
}

/* A step of the cursor, whose BAD is `error`. */
static enum mts_http_step
step(struct parser *p, enum mts_http_step s, enum http_response_error error)
{
	return s == MTS_HTTP_BAD ? fail(p, error) : s;
}

static int
hex_value(int c)
{
	if (mts_is_digit(c))
		return c - '0';
	c = mts_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* CRLF, or a bare LF (RFC 9112 §2.2 MAY); anything else is `error`. */
static enum mts_http_step
line_end(struct parser *p, enum http_response_error error)
{
	return step(p, mts_http_line_end(&p->cur), error);
}

/*
 * HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112
 * §2.3).  A minor version above 1 is read as 1.1 (§2.3: process as the
 * highest minor version we conform to); another major is an error.
 */
static enum mts_http_step
version(struct parser *p)
{
	unsigned char c, major, minor;
	enum mts_http_step s;

	if ((s = step(p, mts_http_literal(&p->cur, "HTTP/"),
	              HTTP_RESPONSE_E_STATUS_LINE)) != MTS_HTTP_OK)
		return s;
	if ((s = mts_http_take(&p->cur, &major)) != MTS_HTTP_OK)
		return s;
	if ((s = mts_http_take(&p->cur, &c)) != MTS_HTTP_OK)
		return s;
	if (!mts_is_digit(major) || c != '.')
		return fail(p, HTTP_RESPONSE_E_STATUS_LINE);
	if ((s = mts_http_take(&p->cur, &minor)) != MTS_HTTP_OK)
		return s;
	if (!mts_is_digit(minor))
		return fail(p, HTTP_RESPONSE_E_STATUS_LINE);
	if (major != '1')
		return fail(p, HTTP_RESPONSE_E_VERSION);
	p->m.res.version_minor = minor - '0';
	return MTS_HTTP_OK;
}

/* status-code = 3DIGIT; RFC 9110 §15: only 100..599 are valid. */
static enum mts_http_step
status_code(struct parser *p)
{
	unsigned char c;
	enum mts_http_step s;
	int code = 0;
	size_t i;

	for (i = 0; i < 3; i++) {
		if ((s = mts_http_take(&p->cur, &c)) != MTS_HTTP_OK)
			return s;
		if (!mts_is_digit(c))
			return fail(p, HTTP_RESPONSE_E_STATUS_LINE);
		code = code * 10 + (c - '0');
	}
	if (code < 100 || code > 599)
		return fail(p, HTTP_RESPONSE_E_STATUS);
	p->m.res.status = code;
	return MTS_HTTP_OK;
}

/* reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4). */
static bool
is_reason_char(int c)
{
	return mts_http_is_field_char(c);
}

/*
 * status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC
 * 9112 §4).  The SP before an empty reason is often left out; curl, Go
 * and Python accept that, and a checker that did not would report a
 * failure no sender sees.
 */
static enum mts_http_step
status_line(struct parser *p)
{
	struct http_response *r = &p->m.res;
	unsigned char c;
	enum mts_http_step s;

	if ((s = version(p)) != MTS_HTTP_OK)
		return s;
	if ((s = mts_http_take(&p->cur, &c)) != MTS_HTTP_OK)
		return s;
	if (c != ' ')
		return fail(p, HTTP_RESPONSE_E_STATUS_LINE);
	if ((s = status_code(p)) != MTS_HTTP_OK)
		return s;
	if ((s = mts_http_peek(&p->cur, &c)) != MTS_HTTP_OK)
		return s;
	if (c == ' ') {
		p->cur.pos++;
		r->reason = p->cur.buf + p->cur.pos;
		r->reason_len = mts_http_span(&p->cur, is_reason_char);
	} else {
		r->reason = p->cur.buf + p->cur.pos;
	}
	return line_end(p, HTTP_RESPONSE_E_STATUS_LINE);
}

/*
 * Content-Length (RFC 9110 §8.6): a second field line is refused like a
 * list (RFC 9112 §6.3 item 5), since a cache or proxy in between might
 * have read the other.
 */
static enum mts_http_step
field_length(struct parser *p, const char *v, size_t n)
{
	if (p->m.res.has_length ||
	    !mts_http_content_length(v, n, &p->m.res.content_length))
		return fail(p, HTTP_RESPONSE_E_CONTENT_LENGTH);
	p->m.res.has_length = true;
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
	if (!mts_http_framing_te(&p->m.fr, v, n))
		return fail(p, HTTP_RESPONSE_E_TRANSFER_CODING);
	return MTS_HTTP_OK;
}

/* Connection = #connection-option (RFC 9110 §7.6.1), for §9.3. */
static enum mts_http_step
field_connection(struct parser *p, const char *v, size_t n)
{
	if (!mts_http_framing_connection(&p->m.fr, v, n))
		return fail(p, HTTP_RESPONSE_E_FIELD);
	return MTS_HTTP_OK;
}

/* s[0..n) lower-cased into out, with a NUL. */
static void
lower_copy(char *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (char)mts_lower((unsigned char)s[i]);
	out[n] = '\0';
}

/*
 * A token of at most max octets, lower-cased into out[0..outsz) with a
 * NUL; false if none or too long.
 */
static bool
lower_token(struct mts_http_cursor *v, char *out, size_t outsz, size_t max)
{
	const char *tok = v->buf + v->pos;
	size_t n = mts_http_span(v, mts_http_is_tchar);

	if (n > max || n >= outsz)
		return false;
	lower_copy(out, tok, n);
	return n > 0;
}

/* qdtext and the octet after a "\" (RFC 9110 §5.6.4), obs-text too. */
static bool
is_qdtext(int c)
{
	return c == '\t' || c == ' ' || c == 0x21 ||
	    (c >= 0x23 && c <= 0x7E && c != '\\') || c >= 0x80;
}

static bool
is_quoted_pair_char(int c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7F);
}

/*
 * parameter-value = token / quoted-string (RFC 9110 §5.6.6), unquoted
 * into out (lower-cased, NUL-terminated) when out is not NULL.  The
 * unquoted value must be a token of at most max octets (a charset name,
 * RFC 2978 §2.3) when stored.
 */
static bool
param_value(struct mts_http_cursor *v, char *out, size_t max)
{
	const char *tok;
	unsigned char c;
	size_t n = 0;

	if (mts_http_peek(v, &c) != MTS_HTTP_OK)
		return false;
	if (c != '"') {
		tok = v->buf + v->pos;
		n = mts_http_span(v, mts_http_is_tchar);
		if (out != NULL && n > max)
			return false;
		if (out != NULL)
			lower_copy(out, tok, n);
		return n > 0;
	}
	v->pos++; /* the opening DQUOTE */
	while (mts_http_take(v, &c) == MTS_HTTP_OK) {
		if (c == '"') {
			if (out != NULL)
				out[n] = '\0';
			return out == NULL || n > 0;
		}
		if (c == '\\' && v->pos < v->end &&
		    is_quoted_pair_char((unsigned char)v->buf[v->pos]))
			c = (unsigned char)v->buf[v->pos++];
		else if (!is_qdtext(c))
			return false;
		if (out == NULL)
			continue;
		if (n == max || !mts_http_is_tchar(c))
			return false;
		out[n++] = (char)mts_lower(c);
	}
	return false; /* no closing DQUOTE */
}

/* parameter = parameter-name "=" parameter-value (no white space). */
static bool
parameter(struct mts_http_cursor *v, struct http_response *r,
          bool *charset_seen)
{
	const char *name = v->buf + v->pos;
	size_t nlen = mts_http_span(v, mts_http_is_tchar);
	unsigned char c;

	if (nlen == 0 || mts_http_take(v, &c) != MTS_HTTP_OK || c != '=')
		return false;
	if (!mts_http_name_is(name, nlen, "charset"))
		return param_value(v, NULL, 0);
	/* RFC 6838 §4.3: a parameter given twice is an error. */
	if (*charset_seen)
		return false;
	*charset_seen = true;
	return param_value(v, r->charset, HTTP_CHARSET_MAX);
}

/*
 * media-type = type "/" subtype parameters, parameters = *( OWS ";" OWS
 * [ parameter ] ) (RFC 9110 §8.3.1, §5.6.6); names compare without case
 * and are stored lower-cased.
 */
static bool
media_type(const char *s, size_t n, struct http_response *r)
{
	struct mts_http_cursor v;
	bool charset_seen = false;
	unsigned char c;
	size_t tlen;

	mts_http_cursor_init(&v, s, n);
	if (!lower_token(&v, r->content_type, sizeof(r->content_type), 127))
		return false;
	tlen = strlen(r->content_type);
	if (mts_http_take(&v, &c) != MTS_HTTP_OK || c != '/')
		return false;
	if (!lower_token(&v, r->content_type + tlen + 1,
	                 sizeof(r->content_type) - tlen - 1, 127))
		return false;
	r->content_type[tlen] = '/';
	for (;;) {
		mts_http_skip_ows(&v);
		if (mts_http_take(&v, &c) != MTS_HTTP_OK)
			return true;
		if (c != ';')
			return false;
		mts_http_skip_ows(&v);
		if (mts_http_peek(&v, &c) != MTS_HTTP_OK || c == ';')
			continue;
		if (!parameter(&v, r, &charset_seen))
			return false;
	}
}

/*
 * Content-Type (RFC 9110 §8.3): never a framing error, since the body
 * is read all the same; the checker reports what it got.  A second
 * field line makes the type unknowable (§5.3: not a list).
 */
static enum mts_http_step
field_ctype(struct parser *p, const char *v, size_t n)
{
	struct http_response *r = &p->m.res;

	r->content_type[0] = '\0';
	r->charset[0] = '\0';
	if (r->ctype != HTTP_CTYPE_ABSENT)
		r->ctype = HTTP_CTYPE_REPEATED;
	else if (media_type(v, n, r))
		r->ctype = HTTP_CTYPE_OK;
	else
		r->ctype = HTTP_CTYPE_MALFORMED;
	if (r->ctype != HTTP_CTYPE_OK) {
		r->content_type[0] = '\0';
		r->charset[0] = '\0';
	}
	return MTS_HTTP_OK;
}

/* Location (RFC 9110 §10.2.2): kept for the report, never followed. */
static enum mts_http_step
field_location(struct parser *p, const char *v, size_t n)
{
	if (p->m.res.location == NULL) {
		p->m.res.location = v;
		p->m.res.location_len = n;
	}
	return MTS_HTTP_OK;
}

/*
 * The fields we read; *known says whether this is one of them, since a
 * folded one could not be read as it was meant.
 */
static enum mts_http_step
field(struct parser *p, const char *name, size_t nlen, const char *v,
      size_t vlen, bool *known)
{
	*known = true;
	if (mts_http_name_is(name, nlen, "content-length"))
		return field_length(p, v, vlen);
	if (mts_http_name_is(name, nlen, "transfer-encoding"))
		return field_te(p, v, vlen);
	if (mts_http_name_is(name, nlen, "connection"))
		return field_connection(p, v, vlen);
	if (mts_http_name_is(name, nlen, "content-type"))
		return field_ctype(p, v, vlen);
	if (mts_http_name_is(name, nlen, "location"))
		return field_location(p, v, vlen);
	*known = false;
	return MTS_HTTP_OK;
}

/*
 * obs-fold (RFC 9112 §5.2): a user agent MUST unfold it into SP.  For a
 * field we do not read, that changes nothing, so the line is skipped
 * and flagged; a fold in a field we read is an error of its own, since
 * its value would span lines we do not join.
 */
static enum mts_http_step
continuation(struct parser *p)
{
	if (!p->m.fold_ok)
		return fail(p,
		            p->m.res.header_count == 0 ?
		                HTTP_RESPONSE_E_FIELD :
		                HTTP_RESPONSE_E_OBS_FOLD);
	mts_http_span(&p->cur, mts_http_is_field_char);
	p->m.res.obs_fold = true;
	return line_end(p, HTTP_RESPONSE_E_FIELD);
}

/*
 * field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), an
 * obs-fold continuation, or the empty line that ends the head (*last).
 */
static enum mts_http_step
field_line(struct parser *p, bool *last)
{
	struct mts_http_field f;
	enum mts_http_step s;
	unsigned char c;
	bool known;

	if ((s = mts_http_peek(&p->cur, &c)) != MTS_HTTP_OK)
		return s;
	if (c == '\r' || c == '\n') {
		*last = true;
		return line_end(p, HTTP_RESPONSE_E_FIELD);
	}
	/* obs-fold, or white space after the status line (§2.2). */
	if (mts_is_wsp(c))
		return continuation(p);
	/* §5.1 white space before the colon, RFC 9110 §5.5 CTLs: malformed. */
	if ((s = step(p, mts_http_field_line(&p->cur, &f),
	              HTTP_RESPONSE_E_FIELD)) != MTS_HTTP_OK)
		return s;
	p->m.res.header_count++;
	s = field(p, f.name, f.name_len, f.value, f.value_len, &known);
	p->m.fold_ok = !known;
	return s;
}

/* RFC 9112 §6.3 item 1: these never have a body, whatever the fields. */
static bool
status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

/* Checks that need the whole head, then the framing (RFC 9112 §6.3). */
static enum mts_http_step
head_done(struct parser *p)
{
	struct message *m = &p->m;
	struct http_response *r = &m->res;

	if (m->fr.te_seen) {
		/* §6.3 item 3: "ought to be handled as an error". */
		if (r->has_length || r->version_minor == 0)
			return fail(p, HTTP_RESPONSE_E_FRAMING);
		/*
		 * §6.1: chunked once and last; we cannot undo other codings
		 * (§6.3 item 4 would read until close and keep them).
		 */
		if (m->fr.te_unknown || m->fr.te_chunked != 1 ||
		    !m->fr.te_last_chunked)
			return fail(p, HTTP_RESPONSE_E_TRANSFER_CODING);
		r->chunked = true;
	}
	if (!status_has_body(r->status))
		r->framing = HTTP_FRAMING_NONE;
	else if (r->chunked)
		r->framing = HTTP_FRAMING_CHUNKED;
	else if (r->has_length)
		r->framing = HTTP_FRAMING_LENGTH;
	else
		r->framing = HTTP_FRAMING_CLOSE;
	/* §9.3; a close-delimited body, or a 101, ends the connection. */
	r->keep_alive = !m->fr.conn_close &&
	    (r->version_minor >= 1 || m->fr.conn_keep_alive) &&
	    r->framing != HTTP_FRAMING_CLOSE && r->status != 101;
	r->head_len = p->cur.pos;
	return MTS_HTTP_OK;
}

/* One response head: status line, fields, empty line. */
static enum mts_http_step
one_head(struct parser *p)
{
	bool last = false;
	enum mts_http_step s;

	if ((s = status_line(p)) != MTS_HTTP_OK)
		return s;
	do {
		s = field_line(p, &last);
	} while (s == MTS_HTTP_OK && !last);
	return s;
}

/* RFC 9110 §15.2: skip interim responses; 101 is the last HTTP said. */
static enum mts_http_step
parse(struct parser *p)
{
	size_t interim = 0;
	enum mts_http_step s;

	for (;;) {
		memset(&p->m, 0, sizeof(p->m));
		p->m.res.interim = interim;
		if ((s = one_head(p)) != MTS_HTTP_OK)
			return s;
		if (p->m.res.status >= 200 || p->m.res.status == 101)
			return head_done(p);
		interim++;
	}
}

enum http_response_result
http_response_head(const char *buf, size_t len, size_t max_head,
                   struct http_response *r, enum http_response_error *error)
{
	struct parser p;

	memset(&p, 0, sizeof(p));
	mts_http_cursor_init(&p.cur, buf, len < max_head ? len : max_head);
	switch (parse(&p)) {
	case MTS_HTTP_OK:
		*r = p.m.res;
		return HTTP_RESPONSE_DONE;
	case MTS_HTTP_MORE:
		if (len < max_head)
			return HTTP_RESPONSE_INCOMPLETE;
		p.error = HTTP_RESPONSE_E_HEAD_TOO_BIG;
		break;
	case MTS_HTTP_BAD:
		break;
	}
	if (error != NULL)
		*error = p.error;
	return HTTP_RESPONSE_ERROR;
}

const char *
http_response_strerror(enum http_response_error error)
{
	switch (error) {
	case HTTP_RESPONSE_E_NONE:
		return "no error";
	case HTTP_RESPONSE_E_HEAD_TOO_BIG:
		return "response head too large";
	case HTTP_RESPONSE_E_STATUS_LINE:
		return "malformed status line";
	case HTTP_RESPONSE_E_VERSION:
		return "not an HTTP/1.x response";
	case HTTP_RESPONSE_E_STATUS:
		return "status code out of range";
	case HTTP_RESPONSE_E_FIELD:
		return "malformed header field";
	case HTTP_RESPONSE_E_OBS_FOLD:
		return "folded header field";
	case HTTP_RESPONSE_E_CONTENT_LENGTH:
		return "invalid or repeated Content-Length";
	case HTTP_RESPONSE_E_TRANSFER_CODING:
		return "unsupported Transfer-Encoding";
	case HTTP_RESPONSE_E_FRAMING:
		return "ambiguous message framing";
	}
	return "unknown error";
}

/*
 * The body decoder.  States of the chunked coding follow its grammar
 * (RFC 9112 §7.1):
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS val ] )
 */
enum body_state {
	B_DONE = 0,
	B_ERROR,
	B_IDENTITY, /* left octets of a Content-Length body */
	B_CLOSE,    /* everything until the close */
	B_SIZE,     /* chunk-size; line_len octets of the line so far */
	B_SIZE_BWS, /* white space after the size: ";" must come */
	B_EXT,      /* skipping chunk-ext up to CR */
	B_SIZE_LF,  /* CR of the chunk line seen */
	B_DATA,     /* left octets of chunk-data */
	B_DATA_CR,  /* CRLF after chunk-data */
	B_DATA_LF,  /* CR after chunk-data seen */
	B_TRAILER,  /* the start of a trailer line, or the final CRLF */
	B_TRAILER_NAME,
	B_TRAILER_VALUE,
	B_TRAILER_LF, /* CR of a trailer line seen */
	B_END_LF      /* CR of the final empty line seen */
};

/* Input and output of one http_body_feed() call. */
struct io {
	const unsigned char *in;
	size_t inlen;
	size_t ipos;
	char *out;
	size_t outcap;
	size_t opos;
};

static void
body_fail(struct http_body *b, enum http_body_error error)
{
	b->state = B_ERROR;
	b->error = error;
}

enum http_body_result
http_body_init(struct http_body *b, const struct http_response *r, uint64_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
	switch (r->framing) {
	case HTTP_FRAMING_NONE:
		b->state = B_DONE;
		break;
	case HTTP_FRAMING_LENGTH:
		/* Refused before a single octet is read. */
		if (r->content_length > cap)
			body_fail(b, HTTP_BODY_E_TOO_BIG);
		else
			b->state = r->content_length == 0 ? B_DONE : B_IDENTITY;
		b->left = r->content_length;
		break;
	case HTTP_FRAMING_CHUNKED:
		b->state = B_SIZE;
		break;
	case HTTP_FRAMING_CLOSE:
		b->state = B_CLOSE;
		break;
	}
	if (b->state == B_ERROR)
		return HTTP_BODY_ERROR;
	return b->state == B_DONE ? HTTP_BODY_DONE : HTTP_BODY_MORE;
}

/*
 * Copies up to b->left octets (up to the cap when until_close) from the
 * input to the output; true when it moved any or failed.  Until the
 * close, an octet that arrives when the cap is reached is an error.
 */
static bool
copy_data(struct http_body *b, struct io *io, bool until_close)
{
	uint64_t limit = until_close ? b->cap - b->total : b->left;
	size_t n = io->inlen - io->ipos;

	if (limit == 0) {
		body_fail(b, HTTP_BODY_E_TOO_BIG);
		return true;
	}
	if (n > limit)
		n = (size_t)limit;
	if (n > io->outcap - io->opos)
		n = io->outcap - io->opos;
	if (n == 0)
		return false;
	memcpy(io->out + io->opos, io->in + io->ipos, n);
	io->ipos += n;
	io->opos += n;
	b->total += n;
	if (!until_close)
		b->left -= n;
	return true;
}

/*
 * A chunk-size digit.  The size grows with every digit, so once it
 * would take the body past the cap it is refused right there, before
 * the line ends: the report can say "larger than the cap" exactly.
 */
static void
size_digit(struct http_body *b, int d)
{
	if (b->left > (UINT64_MAX >> 4)) {
		body_fail(b, HTTP_BODY_E_CHUNK_SIZE);
		return;
	}
	b->left = (b->left << 4) | (uint64_t)d;
	if (b->left > b->cap - b->total)
		body_fail(b, HTTP_BODY_E_TOO_BIG);
}

/*
 * The end of a chunk line: account for its framing (see
 * CHUNK_EXCESS_MAX), then the data or, after the last chunk, trailers.
 */
static void
chunk_line_done(struct http_body *b)
{
	uint64_t allowance = UINT64_MAX;

	if (b->left <= (UINT64_MAX - 16) / 2)
		allowance = 16 + 2 * b->left;
	b->excess += b->line_len;
	b->excess = b->excess > allowance ? b->excess - allowance : 0;
	if (b->excess > CHUNK_EXCESS_MAX) {
		body_fail(b, HTTP_BODY_E_CHUNK_OVERHEAD);
		return;
	}
	b->line_len = 0;
	b->state = b->left == 0 ? B_TRAILER : B_DATA;
}

/* chunk-size [ chunk-ext ] CRLF, one octet at a time. */
static void
chunk_line(struct http_body *b, int c)
{
	int d;

	if (++b->line_len > CHUNK_LINE_MAX) {
		body_fail(b, HTTP_BODY_E_CHUNK_OVERHEAD);
		return;
	}
	switch (b->state) {
	case B_SIZE:
		if ((d = hex_value(c)) >= 0)
			size_digit(b, d);
		else if (b->line_len == 1)
			body_fail(b, HTTP_BODY_E_CHUNK_SIZE);
		else if (c == ';')
			b->state = B_EXT;
		else if (mts_is_wsp(c))
			b->state = B_SIZE_BWS;
		else if (c == '\r')
			b->state = B_SIZE_LF;
		else
			body_fail(b,
			          c == '\n' ? HTTP_BODY_E_CHUNK_CRLF :
			                      HTTP_BODY_E_CHUNK_SIZE);
		break;
	case B_SIZE_BWS:
		if (c == ';')
			b->state = B_EXT;
		else if (!mts_is_wsp(c))
			body_fail(b, HTTP_BODY_E_CHUNK_EXT);
		break;
	case B_EXT:
		/*
		 * Extensions are not parsed (we use none; §7.1.1 says to
		 * ignore unknown ones), but CR may only end the line.
		 */
		if (c == '\r')
			b->state = B_SIZE_LF;
		else if (c == '\n')
			body_fail(b, HTTP_BODY_E_CHUNK_CRLF);
		else if (!mts_http_is_field_char(c))
			body_fail(b, HTTP_BODY_E_CHUNK_EXT);
		break;
	case B_SIZE_LF:
		if (c == '\n')
			chunk_line_done(b);
		else
			body_fail(b, HTTP_BODY_E_CHUNK_CRLF);
		break;
	}
}

/* The CRLF after chunk-data. */
static void
data_end(struct http_body *b, int c)
{
	if (b->state == B_DATA_CR && c == '\r') {
		b->state = B_DATA_LF;
	} else if (b->state == B_DATA_LF && c == '\n') {
		b->state = B_SIZE;
		b->left = 0;
	} else {
		body_fail(b, HTTP_BODY_E_CHUNK_CRLF);
	}
}

/*
 * trailer-section = *( field-line CRLF ) (RFC 9112 §7.1.2), then the
 * final CRLF: the state after octet c, or B_ERROR.  Each line is checked
 * as a field line of the head, but with CRLF only, and dropped (§7.1.2:
 * a recipient MAY discard them).
 */
static int
trailer_next(int state, int c)
{
	switch (state) {
	case B_TRAILER:
		if (c == '\r')
			return B_END_LF;
		return mts_http_is_tchar(c) ? B_TRAILER_NAME : B_ERROR;
	case B_TRAILER_NAME:
		if (c == ':')
			return B_TRAILER_VALUE;
		return mts_http_is_tchar(c) ? B_TRAILER_NAME : B_ERROR;
	case B_TRAILER_VALUE:
		if (c == '\r')
			return B_TRAILER_LF;
		return mts_http_is_field_char(c) ? B_TRAILER_VALUE : B_ERROR;
	case B_TRAILER_LF:
		return c == '\n' ? B_TRAILER : B_ERROR;
	case B_END_LF:
		return c == '\n' ? B_DONE : B_ERROR;
	}
	return B_ERROR;
}

static void
trailer(struct http_body *b, int c)
{
	int next;

	if (++b->line_len > TRAILER_MAX ||
	    (next = trailer_next(b->state, c)) == B_ERROR)
		body_fail(b, HTTP_BODY_E_TRAILER);
	else
		b->state = next;
}

/* One octet of framing; the state says which part it belongs to. */
static void
framing_octet(struct http_body *b, int c)
{
	switch (b->state) {
	case B_SIZE:
	case B_SIZE_BWS:
	case B_EXT:
	case B_SIZE_LF:
		chunk_line(b, c);
		break;
	case B_DATA_CR:
	case B_DATA_LF:
		data_end(b, c);
		break;
	default:
		trailer(b, c);
		break;
	}
}

static enum http_body_result
body_result(const struct http_body *b)
{
	if (b->state == B_DONE)
		return HTTP_BODY_DONE;
	return b->state == B_ERROR ? HTTP_BODY_ERROR : HTTP_BODY_MORE;
}

enum http_body_result
http_body_feed(struct http_body *b, const char *in, size_t inlen, char *out,
               size_t outcap, size_t *consumed, size_t *produced)
{
	struct io io = {(const unsigned char *)in, inlen, 0, out, outcap, 0};

	while (io.ipos < io.inlen && b->state != B_DONE &&
	       b->state != B_ERROR) {
		if (b->state == B_IDENTITY || b->state == B_DATA ||
		    b->state == B_CLOSE) {
			if (!copy_data(b, &io, b->state == B_CLOSE))
				break; /* out is full */
			if (b->state == B_IDENTITY && b->left == 0)
				b->state = B_DONE;
			else if (b->state == B_DATA && b->left == 0)
				b->state = B_DATA_CR;
		} else {
			framing_octet(b, io.in[io.ipos++]);
		}
	}
	*consumed = io.ipos;
	*produced = io.opos;
	return body_result(b);
}

enum http_body_result
http_body_eof(struct http_body *b)
{
	if (b->state == B_CLOSE)
		b->state = B_DONE;
	else if (b->state != B_DONE && b->state != B_ERROR)
		body_fail(b, HTTP_BODY_E_TRUNCATED);
	return body_result(b);
}

const char *
http_body_strerror(enum http_body_error error)
{
	switch (error) {
	case HTTP_BODY_E_NONE:
		return "no error";
	case HTTP_BODY_E_TOO_BIG:
		return "body larger than the limit";
	case HTTP_BODY_E_CHUNK_SIZE:
		return "malformed chunk size";
	case HTTP_BODY_E_CHUNK_EXT:
		return "malformed chunk extension";
	case HTTP_BODY_E_CHUNK_CRLF:
		return "chunk not ended by CRLF";
	case HTTP_BODY_E_CHUNK_OVERHEAD:
		return "too much chunk framing";
	case HTTP_BODY_E_TRAILER:
		return "malformed trailer section";
	case HTTP_BODY_E_TRUNCATED:
		return "connection closed before the end of the body";
	}
	return "unknown error";
}
