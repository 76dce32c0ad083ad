/* SPDX-License-Identifier: ISC */
/*
 * Tests of sts_match.c: the mx pattern syntax `["*."] Domain` of RFC 8461
 * §3.2 (checklist STS-POL-14, -15, -21) and the matching rule of §4.1
 * (STS-MX-2..6, -8), plus a property test against the `policyMatches`
 * pseudocode of Appendix B as an oracle (STS-MX-11).
 */
#include <stdint.h>
#include <string.h>

#include <mtasts/sts.h>

#include "tap.h"

#define L63    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"
#define U_UUML "\xC3\xBC" /* u with diaeresis */
#define U_NTIL "\xC3\xB1" /* n with tilde */
#define U_NTIU "\xC3\x91" /* N with tilde */

#define MSG_CHAR "bad character: only letters, digits, hyphens and dots"
#define MSG_STAR "a wildcard must be the whole leftmost label, \"*.\""

static const struct pattern_case {
	const char *name;
	const char *pattern;
	const char *want_msg; /* NULL: valid */
} pattern_cases[] = {
    {"STS-POL-14 T1: host name", "mail.example.com", NULL},
    {"STS-POL-14 T2: wildcard", "*.example.net", NULL},
    {"STS-POL-14 T3: mixed case", "MAIL.Example.COM", NULL},
    {"STS-POL-14 T4: one label", "mx1", NULL},
    {"STS-POL-14 T5: label begins with a digit", "1mx.example", NULL},
    {"STS-POL-14 T6: A-label", "xn--bcher-kva.example", NULL},
    {"STS-POL-14 T7: wildcard over one label", "*.com", NULL},
    {"STS-POL-14 T8: dotted quad is Domain", "1.2.3.4", NULL},
    {"STS-POL-14 T9: *example.com", "*example.com", MSG_STAR},
    {"STS-POL-14 T10: leading dot of old drafts", ".example.com",
     "empty label"},
    {"STS-POL-14 T11: *.*.example.com", "*.*.example.com", MSG_STAR},
    {"STS-POL-14 T12: inner wildcard", "mail.*.example.com", MSG_STAR},
    {"STS-POL-14 T13: lone *", "*", MSG_STAR},
    {"STS-POL-14 T14: *. without a domain", "*.", "empty name"},
    {"STS-POL-14 T15: trailing dot", "mail.example.com.",
     "name ends with a dot"},
    {"STS-POL-14 T16: leading hyphen", "-mx.example.com",
     "label begins with a hyphen"},
    {"STS-POL-14 T17: trailing hyphen", "mx-.example.com",
     "label ends with a hyphen"},
    {"STS-POL-14 T18: underscore", "mx_1.example.com", MSG_CHAR},
    {"STS-POL-14 T19: address literal", "[192.0.2.1]", MSG_CHAR},
    {"STS-POL-14 T20: empty", "", "empty name"},
    {"STS-POL-14 T21: **.example", "**.example", MSG_STAR},
    {"STS-POL-14 T22: wildcard with hyphen-ended label", "*.example-",
     "label ends with a hyphen"},
    {"STS-POL-14 T23: partial-label wildcard", "m*.example.com", MSG_STAR},
    {"STS-POL-14 T24: wildcard then empty label", "*..example", "empty label"},
    {"STS-POL-15 T1: A-label wildcard", "*.xn--bcher-kva.example", NULL},
    {"STS-POL-15 T2: U-label", "b" U_UUML "cher.example",
     "not ASCII: use the A-label (xn--...)"},
    {"STS-POL-21 T1: 63-octet label", L63 ".example", NULL},
    {"STS-POL-21 T2: 64-octet label", L63 "x.example", "label over 63 octets"},
    {"STS-POL-21 T3: 64-octet label after *.", "*." L63 "x.example",
     "label over 63 octets"},
};

static void
test_pattern_check(void)
{
	struct mts_err err;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(pattern_cases) / sizeof(pattern_cases[0]); i++) {
		const struct pattern_case *c = &pattern_cases[i];

		memset(&err, 0, sizeof(err));
		rc = mts_sts_match_pattern_check(c->pattern, &err);
		if (c->want_msg == NULL)
			tap_ok(rc == 0, "%s: valid", c->name);
		else
			tap_ok(rc == -1 && err.code == MTS_ERR_SYNTAX &&
			           tap_streq(err.msg, c->want_msg),
			       "%s: %s", c->name, c->want_msg);
	}
	memset(&err, 0, sizeof(err));
	tap_ok(mts_sts_match_pattern_check("*.a_b.example", &err) == -1 &&
	           err.column == 4,
	       "STS-POL-14 T25: column counts the \"*.\" (%u)", err.column);
	tap_ok(mts_sts_match_pattern_check(NULL, &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "STS-POL-14 T26: NULL pattern is an argument error");
}

static const struct match_case {
	const char *name;
	const char *pattern;
	const char *host;
	bool want;
} match_cases[] = {
    {"STS-MX-2 T1: case-insensitive", "mail.example.com", "MAIL.Example.COM",
     true},
    {"STS-MX-2 T2: case-insensitive pattern", "MAIL.Example.COM",
     "mail.example.com", true},
    {"STS-MX-3 T1: MX target with root dot", "mail.example.com",
     "mail.example.com.", true},
    {"STS-MX-3 T2: wildcard and root dot", "*.example.com", "mail.example.com.",
     true},
    {"STS-MX-3 T3: two root dots are malformed", "mail.example.com",
     "mail.example.com..", false},
    {"STS-MX-4 T1: one label", "*.example.com", "mail.example.com", true},
    {"STS-MX-4 T2: no label", "*.example.com", "example.com", false},
    {"STS-MX-4 T3: two labels", "*.example.com", "foo.bar.example.com", false},
    {"STS-MX-4 T4: suffix attack", "*.example.com", "mail.example.com.evil.net",
     false},
    {"STS-MX-4 T5: no dot boundary", "*.example.com", "xexample.com", false},
    {"STS-MX-4 T6: empty leftmost label", "*.example.com", ".example.com",
     false},
    {"STS-MX-4 T7: single-label host", "*.example.org", "without-dots", false},
    {"STS-MX-4 T8: wildcard case-insensitive", "*.Example.COM",
     "MX1.example.com", true},
    {"STS-MX-4 T9: host that is the literal *.", "*.example.com",
     "*.example.com", false},
    {"STS-MX-5 T1: no subdomain without wildcard", "example.com",
     "mail.example.com", false},
    {"STS-MX-5 T2: no parent either", "mail.example.com", "example.com", false},
    {"STS-MX-6 T1: A-label exact", "xn--bcher-kva.example",
     "xn--bcher-kva.example", true},
    {"STS-MX-6 T2: A-label wildcard, upper-case host",
     "*.xn--bcher-kva.example", "mx.XN--BCHER-KVA.example", true},
    {"STS-MX-6 T3: U-label host never matches its A-label", "x.xn--aca-6ma.com",
     "x." U_NTIL "aca.com", false},
    {"STS-MX-6 T4: U-label pattern never matches", U_NTIL "aca.com",
     U_NTIL "aca.com", false},
    {"STS-MX-6 T5: no non-ASCII case folding", U_NTIL "aca.com",
     U_NTIU "aca.com", false},
    {"STS-MX-6 T6: ASCII look-alike of an A-label", "x.xn--aca-6ma.com",
     "x.naca.com", false},
    {"STS-MX-8 T1: the MX name as published", "mx.example.com",
     "mx.example.com", true},
    {"STS-MX-8 T2: the CNAME target is not the MX name", "in.provider.net",
     "mx.example.com", false},
    {"STS-POL-14 T27: malformed pattern never matches", "*.*.example.com",
     "a.b.example.com", false},
    {"STS-POL-14 T28: pattern with root dot never matches", "mail.example.com.",
     "mail.example.com", false},
    {"STS-POL-14 T29: malformed host never matches", "*.example.com",
     "a_b.example.com", false},
    {"STS-POL-14 T30: empty host", "example.com", "", false},
    {"STS-POL-14 T31: empty pattern", "", "", false},
    {"STS-POL-21 T4: host with a 64-octet label", L63 "x.example",
     L63 "x.example", false},
};

static void
test_match(void)
{
	size_t i;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];

		tap_ok(mts_sts_match(c->pattern, c->host) == c->want, "%s: %s",
		       c->name, c->want ? "match" : "no match");
	}
	tap_ok(!mts_sts_match(NULL, "a.example") &&
	           !mts_sts_match("a.example", NULL),
	       "STS-MX-4 T10: NULL never matches");
}

/* ---- STS-MX-11: Appendix B as an oracle ---- */

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t
rnd(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 2685821657736338717ULL;
}

static unsigned
rnd_below(uint64_t *state, unsigned n)
{
	return (unsigned)(rnd(state) >> 33) % n;
}

/* A few real-looking labels so that patterns and hosts meet often. */
static const char *const pool[] = {
    "a", "b", "mx", "mx1", "mail", "example", "com", "net", "xn--bcher-kva",
};

/* Appends a random lower-case LDH label to buf. */
static void
add_label(uint64_t *st, char *buf, size_t size)
{
	static const char ldh[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t len = strlen(buf);
	unsigned i, n;

	if (len != 0 && len + 1 < size) {
		buf[len++] = '.';
		buf[len] = '\0';
	}
	if (rnd_below(st, 3) != 0) {
		strncat(buf, pool[rnd_below(st, sizeof(pool) / sizeof(*pool))],
		        size - len - 1);
		return;
	}
	n = 1 + rnd_below(st, 5);
	for (i = 0; i < n && len + 1 < size; i++) {
		buf[len++] = ldh[rnd_below(st, sizeof(ldh) - 1)];
		/* an inner hyphen now and then (never first or last) */
		if (i + 1 < n && len + 2 < size && rnd_below(st, 8) == 0)
			buf[len++] = '-';
	}
	buf[len] = '\0';
}

static void
random_name(uint64_t *st, char *buf, size_t size)
{
	unsigned i, labels = 1 + rnd_below(st, 4);

	buf[0] = '\0';
	for (i = 0; i < labels; i++)
		add_label(st, buf, size);
}

/*
 * The pattern: often built from the host (the host itself, its parent
 * under "*.", the host under "*."), else a random name or wildcard.
 */
static void
random_pattern(uint64_t *st, const char *host, char *buf, size_t size)
{
	const char *dot = strchr(host, '.');

	switch (rnd_below(st, 5)) {
	case 0:
		snprintf(buf, size, "%s", host);
		break;
	case 1:
		snprintf(buf, size, "*.%s", dot != NULL ? dot + 1 : host);
		break;
	case 2:
		snprintf(buf, size, "*.%s", host);
		break;
	case 3:
		random_name(st, buf, size);
		break;
	default:
		strcpy(buf, "*.");
		random_name(st, buf + 2, size - 2);
		break;
	}
}

/*
 * policyMatches of RFC 8461 Appendix B for one mx, on normalised (lower-
 * case, no root dot) names: a literal compare, or for "*" patterns split
 * the candidate at its first "." and compare the rest to mx[2:].
 */
static bool
oracle(const char *mx, const char *candidate)
{
	const char *dot;

	if (strcmp(mx, candidate) == 0)
		return true;
	if (mx[0] == '*') {
		dot = strchr(candidate, '.');
		if (dot != NULL && strcmp(dot + 1, mx + 2) == 0)
			return true;
	}
	return false;
}

/* Spells the host as DNS may hand it over: some upper case, a root dot. */
static void
denormalise(uint64_t *st, const char *host, char *buf, size_t size)
{
	size_t i;

	for (i = 0; host[i] != '\0' && i + 2 < size; i++)
		buf[i] =
		    rnd_below(st, 4) == 0 && host[i] >= 'a' && host[i] <= 'z' ?
		    (char)(host[i] - 'a' + 'A') :
		    host[i];
	if (rnd_below(st, 2) == 0)
		buf[i++] = '.';
	buf[i] = '\0';
}

static void
test_oracle(void)
{
	char host[128], spelled[130], pattern[132];
	unsigned i, runs = 5000, agree = 0, matches = 0, wild = 0;
	uint64_t st = 0x9E3779B97F4A7C15ULL;
	bool want, got;

	for (i = 0; i < runs; i++) {
		random_name(&st, host, sizeof(host));
		random_pattern(&st, host, pattern, sizeof(pattern));
		denormalise(&st, host, spelled, sizeof(spelled));
		want = oracle(pattern, host);
		got = mts_sts_match(pattern, spelled);
		if (want == got)
			agree++;
		else
			tap_diag("disagree: pattern %s host %s: oracle %d",
			         pattern, spelled, want);
		matches += want;
		wild += want && pattern[0] == '*';
	}
	tap_ok(
	    agree == runs,
	    "STS-MX-11 T1: matcher agrees with App. B on %u random names (%u)",
	    runs, agree);
	tap_ok(matches > runs / 10 && wild > runs / 20,
	       "STS-MX-11 T2: the sample holds matches (%u) and wildcard "
	       "matches (%u)",
	       matches, wild);
}

int
main(void)
{
	test_pattern_check();
	test_match();
	test_oracle();
	return tap_done();
}
