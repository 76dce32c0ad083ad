/* SPDX-License-Identifier: ISC */
/*
 * Domain names as MTA-STS uses them.  RFC 8461 §3.2 writes an mx value as
 * `["*."] Domain`, the RFC 5321 §4.1.2 rule:
 *
 *     Domain     = sub-domain *("." sub-domain)
 *     sub-domain = Let-dig [Ldh-str]
 *     Let-dig    = ALPHA / DIGIT
 *     Ldh-str    = *( ALPHA / DIGIT / "-" ) Let-dig
 *
 * so a label is letters, digits and inner hyphens.  The grammar has no
 * length limits; we add those of DNS (RFC 1035 §2.3.4: 63 octets a label,
 * 255 a wire-format name, i.e. 253 in presentation form without the root
 * dot), since a longer name can never be an MX host (checklist
 * STS-POL-21).  Internationalised names must appear as A-labels (RFC 8461
 * §3.2, RFC 5890 §2.3.2.1), so a non-ASCII byte gets its own message.
 *
 * Everything here works on (pointer, length) and the ASCII classes of
 * internal.h: no locale, no NUL terminator needed.
 */
#include <string.h>

#include <mtasts/dname.h>

#include "internal.h"

/* Drops one trailing dot, the root label of an absolute name. */
static size_t
strip_root(const char *name, size_t len)
{
	if (len > 0 && name[len - 1] == '.')
		return len - 1;
	return len;
}

/* Offset of the first byte outside US-ASCII, or len. */
static size_t
find_non_ascii(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] >= 0x80)
			break;
	return i;
}

/*
 * Checks one label name[start..end) against sub-domain (RFC 5321 §4.1.2)
 * and the 63-octet DNS limit.  `name` is the whole name, so that the
 * error column points into it.
 */
static int
check_label(const char *name, size_t start, size_t end, struct mts_err *err)
{
	size_t i;

	if (start == end)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, (unsigned)start + 1,
		                   "empty label");
	if (end - start > MTS_DNAME_LABEL_MAX)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, (unsigned)start + 1,
		                   "label over 63 octets");
	for (i = start; i < end; i++)
		if (!mts_is_alnum(name[i]) && name[i] != '-')
			return mts_err_set(err, MTS_ERR_SYNTAX, 0,
			                   (unsigned)i + 1,
			                   "bad character: only letters, "
			                   "digits, hyphens and dots");
	/* Let-dig at both ends: hyphens are inner characters only. */
	if (name[start] == '-')
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, (unsigned)start + 1,
		                   "label begins with a hyphen");
	if (name[end - 1] == '-')
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, (unsigned)end,
		                   "label ends with a hyphen");
	return 0;
}

int
mts_dname_check(const char *name, size_t len, unsigned flags,
                struct mts_err *err)
{
	size_t i, start, bad;

	if (name == NULL && len != 0)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "name is NULL");
	if ((flags & MTS_DNAME_ALLOW_TRAILING_DOT) != 0)
		len = strip_root(name, len);
	if (len == 0)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0, "empty name");
	/* A U-label is the likeliest non-ASCII input: say what to do. */
	if ((bad = find_non_ascii(name, len)) < len)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, (unsigned)bad + 1,
		                   "not ASCII: use the A-label (xn--...)");
	if (len > MTS_DNAME_MAX)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
		                   "name over 253 octets");
	/* Said apart from "empty label": it is the usual mistake. */
	if (name[len - 1] == '.')
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, (unsigned)len,
		                   "name ends with a dot");
	for (start = 0, i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		if (check_label(name, start, i, err) == -1)
			return -1;
		start = i + 1;
	}
	if ((flags & MTS_DNAME_REQUIRE_DOT) != 0 &&
	    memchr(name, '.', len) == NULL)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
		                   "single label: a host name needs a dot");
	return 0;
}

bool
mts_dname_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	alen = strip_root(a, alen);
	blen = strip_root(b, blen);
	if (alen != blen)
		return false;
	/* DNS compares ASCII case-insensitively (RFC 4343 §3). */
	for (i = 0; i < alen; i++)
		if (mts_lower((unsigned char)a[i]) !=
		    mts_lower((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * Dotted-decimal IPv4: four parts of one to three digits, each at most
 * 255.  Leading zeros are accepted: "010.0.0.1" still looks like an
 * address to a reader, which is what the linter warns about.
 */
static bool
is_ipv4(const char *s, size_t len)
{
	unsigned parts = 0, value = 0, digits = 0;
	size_t i;

	for (i = 0; i <= len; i++) {
		if (i < len && mts_is_digit(s[i])) {
			if (++digits > 3)
				return false;
			value = value * 10 + (unsigned)(s[i] - '0');
			continue;
		}
		if (digits == 0 || value > 255 || (i < len && s[i] != '.'))
			return false;
		parts++;
		digits = 0;
		value = 0;
	}
	return parts == 4;
}

/*
 * IPv6 text (RFC 4291 §2.2), checked only for shape: hex digits, colons
 * and, for the embedded IPv4 form, dots; at least two colons.  No domain
 * name has a colon, so the shape suffices to tell the two apart.
 */
static bool
is_ipv6(const char *s, size_t len)
{
	unsigned colons = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			colons++;
		else if (!mts_is_digit(s[i]) && s[i] != '.' &&
		         !(mts_lower((unsigned char)s[i]) >= 'a' &&
		           mts_lower((unsigned char)s[i]) <= 'f'))
			return false;
	}
	return colons >= 2;
}

bool
mts_dname_is_address(const char *name, size_t len)
{
	if (name == NULL)
		return false;
	len = strip_root(name, len);
	/* RFC 5321 §4.1.3 address-literal: "[192.0.2.1]", "[IPv6:...]". */
	if (len >= 2 && name[0] == '[' && name[len - 1] == ']')
		return true;
	return is_ipv4(name, len) || is_ipv6(name, len);
}
