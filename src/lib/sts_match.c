/* SPDX-License-Identifier: ISC */
/*
 * MX pattern matching for MTA-STS (RFC 8461 §4.1).
 *
 * A pattern is `["*."] Domain` (§3.2).  It covers an MX host when the two
 * names are equal, compared case-insensitively, or when the pattern is
 * "*." plus a domain and the host is exactly one label more than that
 * domain: "*.example.com" covers "mx1.example.com" but neither
 * "example.com" nor "a.b.example.com" (§4.1, and the `policyMatches`
 * pseudocode of Appendix B).  The host is an absolute DNS name from an MX
 * record, so its trailing dot is ignored (§4.1 "normalized"); a pattern
 * with a trailing dot is not `Domain` and is invalid.
 *
 * Both sides are checked before comparing: a malformed pattern or host
 * never matches, so that no input the parser would reject (a U-label, an
 * empty label, "*.*.example") can let a host through by accident.
 */
#include <string.h>

#include <mtasts/dname.h>
#include <mtasts/sts.h>

#include "internal.h"

/* True when the pattern starts with the wildcard label "*." (§4.1). */
static bool
is_wildcard(const char *pattern)
{
	return pattern[0] == '*' && pattern[1] == '.';
}

int
mts_sts_match_pattern_check(const char *pattern, struct mts_err *err)
{
	const char *domain = pattern;
	unsigned skip = 0;

	if (pattern == NULL)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "pattern is NULL");
	if (is_wildcard(pattern)) {
		domain = pattern + 2;
		skip = 2;
	}
	/*
	 * Any other "*" is malformed: "*", "*example.com", "*.*.example",
	 * "mail.*.example" (checklist STS-POL-14).  Said apart from "bad
	 * character" because partial wildcards exist in certificates.
	 */
	if (strchr(domain, '*') != NULL)
		return mts_err_set(
		    err, MTS_ERR_SYNTAX, 0,
		    (unsigned)(strchr(domain, '*') - pattern) + 1,
		    "a wildcard must be the whole leftmost label, \"*.\"");
	if (mts_dname_check(domain, strlen(domain), 0, err) == -1) {
		if (err != NULL && err->column != 0)
			err->column += skip;
		return -1;
	}
	return 0;
}

bool
mts_sts_match(const char *pattern, const char *host)
{
	const char *dot;
	size_t hlen;

	if (pattern == NULL || host == NULL)
		return false;
	hlen = strlen(host);
	if (mts_sts_match_pattern_check(pattern, NULL) == -1 ||
	    mts_dname_check(host, hlen, MTS_DNAME_ALLOW_TRAILING_DOT, NULL) ==
	        -1)
		return false;
	if (!is_wildcard(pattern))
		return mts_dname_equal(pattern, strlen(pattern), host, hlen);
	/*
	 * "*." stands for the host's whole first label, which the check
	 * above has made non-empty; the rest must equal the pattern's
	 * domain (Appendix B: split the host at its first ".").
	 */
	if ((dot = memchr(host, '.', hlen)) == NULL)
		return false;
	dot++;
	return mts_dname_equal(pattern + 2, strlen(pattern + 2), dot,
	                       hlen - (size_t)(dot - host));
}
