/* SPDX-License-Identifier: ISC */
/*
 * Token-level rules of HTTP fields (RFC 9110 §5.5, §5.6) and the values
 * of the fields that frame a message (Content-Length, Transfer-Encoding,
 * Connection), shared by the server's request parser (src/serve/http.c)
 * and the checker's response parser (src/check/http_response.c).
 * Header-only and pure: both parsers are linked beside the shared
 * library, whose internal symbols are hidden; this is program code, not
 * library code, so it lives in src/common beside its users' builds.
 */
#ifndef MTS_HTTP_TOKEN_H
#define MTS_HTTP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

/*
 * tchar of RFC 9110 §5.6.2: ALPHA, DIGIT and "!#$%&'*+-.^_`|~", the
 * characters of a token.  A table of every octet, the rows below and 0
 * elsewhere: the parsers test every byte of every method and field name,
 * and a byte indexes it with no range test.
 */
static inline bool
mts_http_is_tchar(int c)
{
	static const bool tchar[256] = {
	    [0x20] = 0, 1, 0, 1, 1, 1, 1, 1, /*  !"#$%&' */
	    [0x28] = 0, 0, 1, 1, 0, 1, 1, 0, /* ()*+,-./ */
	    [0x30] = 1, 1, 1, 1, 1, 1, 1, 1, /* 01234567 */
	    [0x38] = 1, 1, 0, 0, 0, 0, 0, 0, /* 89:;<=>? */
	    [0x40] = 0, 1, 1, 1, 1, 1, 1, 1, /* @ABCDEFG */
	    [0x48] = 1, 1, 1, 1, 1, 1, 1, 1, /* HIJKLMNO */
	    [0x50] = 1, 1, 1, 1, 1, 1, 1, 1, /* PQRSTUVW */
	    [0x58] = 1, 1, 1, 0, 0, 0, 1, 1, /* XYZ[\]^_ */
	    [0x60] = 1, 1, 1, 1, 1, 1, 1, 1, /* `abcdefg */
	    [0x68] = 1, 1, 1, 1, 1, 1, 1, 1, /* hijklmno */
	    [0x70] = 1, 1, 1, 1, 1, 1, 1, 1, /* pqrstuvw */
	    [0x78] = 1, 1, 1, 0, 1, 0, 1, 0, /* xyz{|}~ DEL */
	};

	return (unsigned)c < sizeof(tchar) && tchar[c];
}

/* field-vchar / SP / HTAB (RFC 9110 §5.5): no CTL but HTAB, no DEL. */
static inline bool
mts_http_is_field_char(int c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7F);
}

/* Equal to the lower-case `lit`, ignoring ASCII case. */
static inline bool
mts_http_name_is(const char *s, size_t n, const char *lit)
{
	size_t i;

	if (n != strlen(lit))
		return false;
	for (i = 0; i < n; i++)
		if (mts_lower((unsigned char)s[i]) != lit[i])
			return false;
	return true;
}

/*
 * The next element of a #token list (RFC 9110 §5.6.1): 1 and the token,
 * 0 at the end, -1 when an element is not a single token.  Empty
 * elements are skipped, as §5.6.1 requires of recipients.
 */
static inline int
mts_http_list_next(const char **v, const char *end, const char **tok,
                   size_t *len)
{
	const char *s = *v;

	while (s < end && (mts_is_wsp(*s) || *s == ','))
		s++;
	if (s == end)
		return 0;
	*tok = s;
	while (s < end && mts_http_is_tchar((unsigned char)*s))
		s++;
	*len = (size_t)(s - *tok);
	while (s < end && mts_is_wsp(*s))
		s++;
	if (*len == 0 || (s < end && *s != ','))
		return -1;
	*v = s;
	return 1;
}

/*
 * Content-Length = 1*DIGIT (RFC 9110 §8.6) into *len.  False for an
 * empty value, a value over UINT64_MAX and any other octet: a list,
 * even of equal values, is refused too (RFC 9112 §6.3 item 5 lets a
 * recipient reject it; a proxy in front might have read another).
 */
static inline bool
mts_http_content_length(const char *v, size_t n, uint64_t *len)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)v[i] - '0';

		if (!mts_is_digit((unsigned char)v[i]) ||
		    x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*len = x;
	return true;
}

/*
 * What the Transfer-Encoding and Connection field lines of one message
 * have said so far, in order.  Each parser judges it once the head is
 * complete, since a later line can change the verdict, and by its own
 * rules: the two sides of RFC 9112 §6.1, §6.3 and §9.3 differ.
 */
struct mts_http_framing {
	bool te_seen;         /* a Transfer-Encoding field line was given */
	size_t te_chunked;    /* how often "chunked" is in the list */
	bool te_last_chunked; /* "chunked" is the last coding so far */
	bool te_unknown;      /* a coding other than "chunked" */
	bool conn_close;      /* Connection: close */
	bool conn_keep_alive; /* Connection: keep-alive */
};

/*
 * Transfer-Encoding = #transfer-coding (RFC 9112 §6.1): adds the codings
 * of one field line.  False when an element is not a single token:
 * transfer parameters are refused with the rest, since chunked has none.
 */
static inline bool
mts_http_framing_te(struct mts_http_framing *f, const char *v, size_t n)
{
	const char *end = v + n, *tok;
	size_t len;
	int rc;

	f->te_seen = true;
	while ((rc = mts_http_list_next(&v, end, &tok, &len)) == 1) {
		f->te_last_chunked = mts_http_name_is(tok, len, "chunked");
		if (f->te_last_chunked)
			f->te_chunked++;
		else
			f->te_unknown = true;
	}
	return rc == 0;
}

/*
 * Connection = #connection-option (RFC 9110 §7.6.1): notes "close" and
 * "keep-alive", the options of persistence (RFC 9112 §9.3).  False when
 * an element is not a single token.
 */
static inline bool
mts_http_framing_connection(struct mts_http_framing *f, const char *v, size_t n)
{
	const char *end = v + n, *tok;
	size_t len;
	int rc;

	while ((rc = mts_http_list_next(&v, end, &tok, &len)) == 1) {
		if (mts_http_name_is(tok, len, "close"))
			f->conn_close = true;
		else if (mts_http_name_is(tok, len, "keep-alive"))
			f->conn_keep_alive = true;
	}
	return rc == 0;
}

#endif /* MTS_HTTP_TOKEN_H */
