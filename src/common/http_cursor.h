/* SPDX-License-Identifier: ISC */
/*
 * A forward cursor over an HTTP/1.1 message head, shared by the server's
 * request parser (src/serve/http.c) and the checker's response parser
 * (src/check/http_response.c): the steps both take byte by byte, so that
 * the two read line ends (RFC 9112 §2.2) and field lines (RFC 9112 §5,
 * RFC 9110 §5.5) by the same rules.  Header-only, static inline and
 * pure, like http_token.h: the request parser runs on every request,
 * and its steps must compile to the loops they were in each parser.
 *
 * A step looks only at buf[pos..end).  When it runs out of bytes before
 * it can decide it says MORE, never deciding on where the buffer ends:
 * so a caller can parse again from the start as bytes arrive, and a
 * prefix of a head is incomplete or already carries the error of the
 * whole.  BAD says only that the bytes break the rule; which error that
 * is (a status code, an error enum) is the caller's to say.
 */
#ifndef MTS_HTTP_CURSOR_H
#define MTS_HTTP_CURSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "http_token.h"
#include "internal.h"

enum mts_http_step {
	MTS_HTTP_OK,   /* done with this part; go on */
	MTS_HTTP_MORE, /* ran out of bytes */
	MTS_HTTP_BAD   /* the bytes break the rule */
};

/* Caller-owned; buf is borrowed and must outlive the cursor. */
struct mts_http_cursor {
	const char *buf;
	size_t pos; /* the next byte */
	size_t end; /* the bytes we may look at: buf[0..end) */
};

/* A field line as sent (RFC 9112 §5); both strings point into buf. */
struct mts_http_field {
	const char *name;
	size_t name_len;
	const char *value; /* without the OWS around it */
	size_t value_len;
};

/* Looks at buf[0..len) from its start. */
static inline void
mts_http_cursor_init(struct mts_http_cursor *c, const char *buf, size_t len)
{
	c->buf = buf;
	c->pos = 0;
	c->end = len;
}

/* Advances over bytes of class `cls`; returns how many. */
static inline size_t
mts_http_span(struct mts_http_cursor *c, bool (*cls)(int))
{
	size_t start = c->pos;

	while (c->pos < c->end && cls((unsigned char)c->buf[c->pos]))
		c->pos++;
	return c->pos - start;
}

/* OWS = *( SP / HTAB ) (RFC 9110 §5.6.3). */
static inline void
mts_http_skip_ows(struct mts_http_cursor *c)
{
	mts_http_span(c, mts_is_wsp);
}

/* The next byte into *ch, left in place. */
static inline enum mts_http_step
mts_http_peek(const struct mts_http_cursor *c, unsigned char *ch)
{
	if (c->pos == c->end)
		return MTS_HTTP_MORE;
	*ch = (unsigned char)c->buf[c->pos];
	return MTS_HTTP_OK;
}

/* The next byte into *ch, consumed. */
static inline enum mts_http_step
mts_http_take(struct mts_http_cursor *c, unsigned char *ch)
{
	if (mts_http_peek(c, ch) != MTS_HTTP_OK)
		return MTS_HTTP_MORE;
	c->pos++;
	return MTS_HTTP_OK;
}

/*
 * The bytes of `lit`, case-sensitive ("HTTP/" of RFC 9112 §2.3): BAD at
 * the first one that differs, even before the rest has arrived.
 */
static inline enum mts_http_step
mts_http_literal(struct mts_http_cursor *c, const char *lit)
{
	unsigned char ch;

	for (; *lit != '\0'; lit++) {
		if (mts_http_take(c, &ch) != MTS_HTTP_OK)
			return MTS_HTTP_MORE;
		if (ch != (unsigned char)*lit)
			return MTS_HTTP_BAD;
	}
	return MTS_HTTP_OK;
}

/*
 * CRLF, or a bare LF (RFC 9112 §2.2: a recipient MAY take it for a line
 * end).  A CR not followed by LF (§2.2: a bare CR is invalid), or any
 * other byte, is BAD.
 */
static inline enum mts_http_step
mts_http_line_end(struct mts_http_cursor *c)
{
	if (c->pos == c->end)
		return MTS_HTTP_MORE;
	if (c->buf[c->pos] == '\n') {
		c->pos++;
		return MTS_HTTP_OK;
	}
	if (c->buf[c->pos] != '\r')
		return MTS_HTTP_BAD;
	if (c->pos + 1 == c->end)
		return MTS_HTTP_MORE;
	if (c->buf[c->pos + 1] != '\n')
		return MTS_HTTP_BAD;
	c->pos += 2;
	return MTS_HTTP_OK;
}

/*
 * field-line = field-name ":" OWS field-value OWS (RFC 9112 §5) and its
 * line end, from the first byte of the name.  A line that starts with a
 * line end (the end of the head) or with white space (obs-fold, §5.2)
 * means something different to each parser: the caller looks first.
 *
 * BAD for an empty name, anything but ":" after it (§5.1: white space
 * before the colon MUST be rejected by a server, and a client cannot
 * tell which field was meant either), and, in the value, any byte that
 * is neither field-vchar, SP nor HTAB (RFC 9110 §5.5: NUL, a bare CR,
 * other CTLs) and does not end the line.  *f is written on OK only.
 */
static inline enum mts_http_step
mts_http_field_line(struct mts_http_cursor *c, struct mts_http_field *f)
{
	size_t name, name_len, vstart, vend;
	enum mts_http_step s;

	name = c->pos;
	name_len = mts_http_span(c, mts_http_is_tchar);
	if (c->pos == c->end)
		return MTS_HTTP_MORE;
	if (name_len == 0 || c->buf[c->pos] != ':')
		return MTS_HTTP_BAD;
	c->pos++;
	mts_http_skip_ows(c);
	vstart = c->pos;
	mts_http_span(c, mts_http_is_field_char);
	/* The OWS after the value is not part of it (§5). */
	vend = c->pos;
	while (vend > vstart && mts_is_wsp(c->buf[vend - 1]))
		vend--;
	if ((s = mts_http_line_end(c)) != MTS_HTTP_OK)
		return s;
	f->name = c->buf + name;
	f->name_len = name_len;
	f->value = c->buf + vstart;
	f->value_len = vend - vstart;
	return MTS_HTTP_OK;
}

#endif /* MTS_HTTP_CURSOR_H */
