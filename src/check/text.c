/* SPDX-License-Identifier: ISC */
/*
 * Text from the network made safe to show (text.h): valid UTF-8 with
 * no control characters, every other octet a visible escape.  The
 * rules are those of the finding messages of the policy parser
 * (src/lib/sts_policy.c), except that a backslash and a quote stay as
 * they are, so that escaping twice is escaping once.
 */
#include <string.h>

#include "text.h"
#include "utf8.h"

/* The longest rendering of one character: "\xHH" or 4 UTF-8 octets. */
#define CHAR_MAX_LEN 4

/*
 * Renders the character at s[0..n) (n > 0) into out (CHAR_MAX_LEN
 * octets, not terminated); sets *step to the input octets it used and
 * returns the octets written.
 */
static size_t
render(char *out, const unsigned char *s, size_t n, size_t *step)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len;

	*step = 1;
	if (s[0] >= 0x20 && s[0] < 0x7F) {
		out[0] = (char)s[0];
		return 1;
	}
	if (s[0] == '\t' || s[0] == '\r' || s[0] == '\n') {
		out[0] = '\\';
		out[1] = s[0] == '\t' ? 't' : s[0] == '\r' ? 'r' : 'n';
		return 2;
	}
	/* U+0080..U+009F (C2 80..C2 9F) are the C1 controls. */
	if (s[0] >= 0x80 && (len = mts_utf8_len(s, n)) != 0 &&
	    !(s[0] == 0xC2 && s[1] < 0xA0)) {
		memcpy(out, s, len);
		*step = len;
		return len;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[s[0] >> 4];
	out[3] = hex[s[0] & 0x0F];
	return 4;
}

size_t
text_escape(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	char one[CHAR_MAX_LEN];
	size_t i = 0, o = 0, n, step;

	while (i < len) {
		n = render(one, s + i, len - i, &step);
		if (o + n + 1 > size)
			break;
		memcpy(dst + o, one, n);
		o += n;
		i += step;
	}
	dst[o] = '\0';
	return o;
}

size_t
text_escaped_len(const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	char one[CHAR_MAX_LEN];
	size_t i = 0, o = 0, step;

	while (i < len) {
		o += render(one, s + i, len - i, &step);
		i += step;
	}
	return o;
}

bool
text_is_word(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7F)
			return false;
	return true;
}
