/* SPDX-License-Identifier: ISC */
/*
 * Token-level rules of HTTP fields (RFC 9110 §5.5, §5.6), shared by the
 * server's request parser (src/serve/http.c) and the checker's response
 * parser (src/check/http_response.c).  Header-only and pure: both parsers
 * are linked beside the shared library, whose internal symbols are
 * hidden.
 */
#ifndef MTS_HTTP_TOKEN_H
#define MTS_HTTP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"

/*
 * tchar of RFC 9110 §5.6.2: ALPHA, DIGIT and "!#$%&'*+-.^_`|~", the
 * characters of a token.  A table of 0x20-0x7F (nothing else is tchar):
 * the parsers test every byte of every method and field name.
 */
static inline bool
mts_http_is_tchar(int c)
{
	static const bool tchar[0x60] = {
	    0, 1, 0, 1, 1, 1, 1, 1, /*  !"#$%&' */
	    0, 0, 1, 1, 0, 1, 1, 0, /* ()*+,-./ */
	    1, 1, 1, 1, 1, 1, 1, 1, /* 01234567 */
	    1, 1, 0, 0, 0, 0, 0, 0, /* 89:;<=>? */
	    0, 1, 1, 1, 1, 1, 1, 1, /* @ABCDEFG */
	    1, 1, 1, 1, 1, 1, 1, 1, /* HIJKLMNO */
	    1, 1, 1, 1, 1, 1, 1, 1, /* PQRSTUVW */
	    1, 1, 1, 0, 0, 0, 1, 1, /* XYZ[\]^_ */
	    1, 1, 1, 1, 1, 1, 1, 1, /* `abcdefg */
	    1, 1, 1, 1, 1, 1, 1, 1, /* hijklmno */
	    1, 1, 1, 1, 1, 1, 1, 1, /* pqrstuvw */
	    1, 1, 1, 0, 1, 0, 1, 0, /* xyz{|}~ DEL */
	};

	return c >= 0x20 && c < 0x80 && tchar[c - 0x20];
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

#endif /* MTS_HTTP_TOKEN_H */
