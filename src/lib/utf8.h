/* SPDX-License-Identifier: ISC */
/*
 * Well-formed UTF-8 (RFC 3629 §4), header-only: the policy parser
 * (sts_policy.c) quotes what it finds with it, and mtasts check escapes
 * network text with it (src/check/text.c).  Pure.
 */
#ifndef MTS_UTF8_H
#define MTS_UTF8_H

#include <stddef.h>

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) (n > 0), or 0.
 * The ranges of the second byte are those of RFC 3629 §4: they exclude
 * overlong forms (E0 80..9F, F0 80..8F), UTF-16 surrogates (ED A0..BF)
 * and code points above U+10FFFF (F4 90.., F5..FF); C0 and C1 are never
 * leads.
 */
static inline size_t
mts_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

#endif
