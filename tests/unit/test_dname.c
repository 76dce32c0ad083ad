/* SPDX-License-Identifier: ISC */
/*
 * Tests of dname.c: the RFC 5321 §4.1.2 `Domain` rule with the DNS
 * limits of RFC 1035 §2.3.4 (checklist STS-POL-14, STS-POL-15,
 * STS-POL-21), case-insensitive name equality (RFC 4343) and the
 * address-literal detector the policy linter uses.  Each check row names
 * the exact constant message, so a change of wording is a visible change.
 */
#include <string.h>

#include <mtasts/dname.h>

#include "tap.h"

#define L63  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"
#define L64  L63 "l"
#define L61  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi"
#define N253 L63 "." L63 "." L63 "." L61 /* 3 x 63 + 61 + 3 dots */
#define N254 N253 "j"
#define N255 L63 "." L63 "." L63 "." L63

/* Non-ASCII bytes as macros: "\xBC" "cher" must not become "\xBCc". */
#define U_UUML "\xC3\xBC" /* u with diaeresis */
#define U_NTIL "\xC3\xB1" /* n with tilde */
#define U_NTIU "\xC3\x91" /* N with tilde */

#define ALLOW MTS_DNAME_ALLOW_TRAILING_DOT
#define DOT   MTS_DNAME_REQUIRE_DOT

static const struct check_case {
	const char *name;
	const char *input;
	size_t len; /* 0: strlen(input) */
	unsigned flags;
	const char *want_msg; /* NULL: valid */
	unsigned want_column;
} check_cases[] = {
    {"STS-POL-14 T1: mail.example.com", "mail.example.com", 0, 0, NULL, 0},
    {"STS-POL-14 T2: mixed case", "MAIL.Example.COM", 0, 0, NULL, 0},
    {"STS-POL-14 T3: one label", "mx1", 0, 0, NULL, 0},
    {"STS-POL-14 T4: label begins with a digit", "1mx.example", 0, 0, NULL, 0},
    {"STS-POL-14 T5: A-label", "xn--bcher-kva.example", 0, 0, NULL, 0},
    {"STS-POL-14 T6: all-digit labels are Domain", "1.2.3.4", 0, 0, NULL, 0},
    {"STS-POL-14 T7: inner hyphens", "a-b--c.example", 0, 0, NULL, 0},
    {"STS-POL-14 T8: empty", "", 0, 0, "empty name", 0},
    {"STS-POL-14 T9: leading dot", ".example.com", 0, 0, "empty label", 1},
    {"STS-POL-14 T10: double dot", "a..example", 0, 0, "empty label", 3},
    {"STS-POL-14 T11: trailing dot", "mail.example.com.", 0, 0,
     "name ends with a dot", 17},
    {"STS-POL-14 T12: trailing dot allowed by flag", "mail.example.com.", 0,
     ALLOW, NULL, 0},
    {"STS-POL-14 T13: root alone with flag", ".", 0, ALLOW, "empty name", 0},
    {"STS-POL-14 T14: two trailing dots with flag", "a.example..", 0, ALLOW,
     "name ends with a dot", 10},
    {"STS-POL-14 T15: leading hyphen", "-mx.example.com", 0, 0,
     "label begins with a hyphen", 1},
    {"STS-POL-14 T16: trailing hyphen", "mx-.example.com", 0, 0,
     "label ends with a hyphen", 3},
    {"STS-POL-14 T17: trailing hyphen last label", "test.example-", 0, 0,
     "label ends with a hyphen", 13},
    {"STS-POL-14 T18: underscore", "mx_1.example.com", 0, 0,
     "bad character: only letters, digits, hyphens and dots", 3},
    {"STS-POL-14 T19: address literal", "[192.0.2.1]", 0, 0,
     "bad character: only letters, digits, hyphens and dots", 1},
    {"STS-POL-14 T20: wildcard is not a Domain", "*.example.com", 0, 0,
     "bad character: only letters, digits, hyphens and dots", 1},
    {"STS-POL-14 T21: space", "a b.example", 0, 0,
     "bad character: only letters, digits, hyphens and dots", 2},
    {"STS-POL-14 T22: NUL inside the length", "a\0b.example", 11, 0,
     "bad character: only letters, digits, hyphens and dots", 2},
    {"STS-POL-15 T2: U-label", "b" U_UUML "cher.example", 0, 0,
     "not ASCII: use the A-label (xn--...)", 2},
    {"STS-POL-15 T3: byte 0xFF", "a\xFF.example", 0, 0,
     "not ASCII: use the A-label (xn--...)", 2},
    {"STS-POL-21 T1: 63-octet label", L63 ".example", 0, 0, NULL, 0},
    {"STS-POL-21 T2: 64-octet label", L64 ".example", 0, 0,
     "label over 63 octets", 1},
    {"STS-POL-21 T3: 253-octet name", N253, 0, 0, NULL, 0},
    {"STS-POL-21 T4: 254-octet name", N254, 0, 0, "name over 253 octets", 0},
    {"STS-POL-21 T5: 253 octets plus the root dot", N253 ".", 0, ALLOW, NULL,
     0},
    {"STS-POL-21 T6: 254 octets plus the root dot", N254 ".", 0, ALLOW,
     "name over 253 octets", 0},
    {"STS-POL-21 T7: 255-octet name", N255, 0, 0, "name over 253 octets", 0},
    {"DNAME T1: single label refused with REQUIRE_DOT", "localhost", 0, DOT,
     "single label: a host name needs a dot", 0},
    {"DNAME T2: two labels with REQUIRE_DOT", "example.com", 0, DOT, NULL, 0},
    {"DNAME T3: length shorter than the string", "example.com.evil", 11, 0,
     NULL, 0},
};

static void
test_check(void)
{
	struct mts_err err;
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];

		len = c->len != 0 ? c->len : strlen(c->input);
		memset(&err, 0, sizeof(err));
		rc = mts_dname_check(c->input, len, c->flags, &err);
		if (c->want_msg == NULL) {
			tap_ok(rc == 0, "%s: valid", c->name);
			continue;
		}
		tap_ok(rc == -1 && err.code == MTS_ERR_SYNTAX &&
		           tap_streq(err.msg, c->want_msg) &&
		           err.column == c->want_column,
		       "%s: \"%s\" at column %u", c->name, c->want_msg,
		       c->want_column);
	}
}

/* Callers may pass no err, and NULL for the empty name. */
static void
test_check_no_err(void)
{
	tap_ok(mts_dname_check("-bad", 4, 0, NULL) == -1,
	       "DNAME T4: a NULL err is allowed");
	tap_ok(mts_dname_check(NULL, 0, 0, NULL) == -1,
	       "DNAME T5: NULL, length 0 is the empty name");
}

static const struct equal_case {
	const char *name;
	const char *a;
	const char *b;
	bool want;
} equal_cases[] = {
    {"STS-MX-2 T1: case-insensitive", "mail.example.com", "MAIL.Example.COM",
     true},
    {"STS-MX-3 T1: trailing dot on one side", "mail.example.com.",
     "mail.example.com", true},
    {"STS-MX-3 T2: trailing dot on both sides", "a.example.", "a.example.",
     true},
    {"STS-MX-3 T3: only one trailing dot is dropped", "a.example..",
     "a.example", false},
    {"STS-MX-5 T1: a subdomain is another name", "mail.example.com",
     "example.com", false},
    {"STS-MX-6 T1: A-labels compare as ASCII", "XN--BCHER-KVA.example",
     "xn--bcher-kva.example", true},
    {"DNAME T6: different lengths", "a.example", "ab.example", false},
    {"DNAME T7: non-ASCII bytes are compared exactly", U_NTIL "a.example",
     U_NTIU "a.example", false},
    {"DNAME T8: both empty", "", "", true},
};

static void
test_equal(void)
{
	size_t i;

	for (i = 0; i < sizeof(equal_cases) / sizeof(equal_cases[0]); i++) {
		const struct equal_case *c = &equal_cases[i];

		tap_ok(mts_dname_equal(c->a, strlen(c->a), c->b,
		                       strlen(c->b)) == c->want,
		       "%s: %s", c->name, c->want ? "equal" : "different");
	}
}

static const struct address_case {
	const char *name;
	const char *input;
	bool want;
} address_cases[] = {
    {"STS-POL-14 T30: dotted quad", "192.0.2.1", true},
    {"STS-POL-14 T31: loopback", "127.0.0.1", true},
    {"STS-POL-14 T32: leading zeros still look like one", "010.0.0.1", true},
    {"STS-POL-14 T33: address literal", "[192.0.2.1]", true},
    {"STS-POL-14 T34: IPv6 literal", "[IPv6:2001:db8::1]", true},
    {"STS-POL-14 T35: IPv6 text", "2001:db8::1", true},
    {"STS-POL-14 T36: IPv4-mapped IPv6", "::ffff:192.0.2.1", true},
    {"STS-POL-14 T37: dotted quad with root dot", "192.0.2.1.", true},
    {"STS-POL-14 T38: three parts", "1.2.3", false},
    {"STS-POL-14 T39: five parts", "1.2.3.4.5", false},
    {"STS-POL-14 T40: part over 255", "256.1.1.1", false},
    {"STS-POL-14 T41: four-digit part", "0001.1.1.1", false},
    {"STS-POL-14 T42: host name", "mail.example.com", false},
    {"STS-POL-14 T43: hex-looking host name", "dead.beef", false},
    {"STS-POL-14 T44: one colon", "a:b", false},
    {"STS-POL-14 T45: empty", "", false},
    {"STS-POL-14 T46: empty part", "1..2.3", false},
};

static void
test_address(void)
{
	size_t i;

	for (i = 0; i < sizeof(address_cases) / sizeof(address_cases[0]); i++) {
		const struct address_case *c = &address_cases[i];

		tap_ok(mts_dname_is_address(c->input, strlen(c->input)) ==
		           c->want,
		       "%s: %s", c->name,
		       c->want ? "address" : "not an address");
	}
	tap_ok(!mts_dname_is_address(NULL, 0), "DNAME T9: NULL is no address");
}

int
main(void)
{
	test_check();
	test_check_no_err();
	test_equal();
	test_address();
	return tap_done();
}
