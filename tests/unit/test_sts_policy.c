/* SPDX-License-Identifier: ISC */
/*
 * Tests of sts_policy.c: the policy body grammar of RFC 8461 §3.2
 * (checklist §2, STS-POL-1..21, and the §24 positions A1, A5, A6, A7),
 * the lint findings, format() and its round trip through parse(), and
 * the per-MX verdicts of §4, §5 and §8.4 (checklist §6: STS-MX-1, -7,
 * -9, -10).
 *
 * Each row of the main table gives the body, the verdict, the parsed
 * values and *every* finding the parser emits, in order, as "code@line"
 * with the "policy-" prefix left out: a new, lost or moved finding is a
 * test failure, so the lint output is specified here as much as the
 * verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/sts.h>

#include "tap.h"

#define V     "version: STSv1\n"
#define ME    "mode: enforce\n"
#define MT    "mode: testing\n"
#define MN    "mode: none\n"
#define MX    "mx: mail.example.com\n"
#define AGE_D "max_age: 86400\n"
#define AGE_W "max_age: 604800\n"
#define P1    V ME MX AGE_D /* STS-POL-1 T1 */
#define PW    V ME MX AGE_W /* the same, with no advice findings */
#define BOM   "\xEF\xBB\xBF"
#define L63   "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"
#define K32   "abcdefghijklmnopqrstuvwxyzabcdef"

/* Non-ASCII bytes as macros, so that no hex escape swallows a letter. */
#define U_UUML   "\xC3\xBC"         /* u with diaeresis */
#define U_OSTR   "\xC3\xB8"         /* o with stroke */
#define U_EACU   "\xC3\xA9"         /* e with acute */
#define U_C1NEL  "\xC2\x85"         /* U+0085, a C1 control */
#define U_EMOJI  "\xF0\x9F\x98\x80" /* U+1F600 */
#define U_MAX    "\xF4\x8F\xBF\xBF" /* U+10FFFF */
#define B_OVER2  "\xC0\xAF"         /* overlong "/" */
#define B_OVER3  "\xE0\x80\xAF"     /* overlong "/" */
#define B_SURR   "\xED\xA0\x80"     /* U+D800 */
#define B_TOOBIG "\xF4\x90\x80\x80" /* U+110000 */
#define B_FF     "\xFF"
#define B_DEL    "\x7F"

#define OK  MTS_OK
#define SYN MTS_ERR_SYNTAX
#define INV MTS_ERR_INVALID
#define NON MTS_STS_MODE_NONE
#define TST MTS_STS_MODE_TESTING
#define ENF MTS_STS_MODE_ENFORCE

static const struct policy_case {
	const char *name;
	const char *body;
	size_t len;           /* 0: strlen(body) */
	enum mts_errcode err; /* MTS_OK: valid */
	enum mts_sts_mode mode;
	uint32_t max_age;
	const char *mx;       /* the patterns joined by " " */
	const char *findings; /* "code@line ..." without "policy-" */
} cases[] = {
    /* STS-POL-1: complete policies */
    {"STS-POL-1 T1: minimal policy", P1, 0, OK, ENF, 86400, "mail.example.com",
     "max-age-advice@4"},
    {"STS-POL-1 T2: the §3.2 example",
     V ME "mx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\n"
          "max_age: 604800",
     0, OK, ENF, 604800, "mail.example.com *.example.net backupmx.example.com",
     "mx-wildcard@4"},
    {"STS-POL-1 T3: the Appendix A example",
     V MT "mx: mx1.example.com\nmx: mx2.example.com\n"
          "mx: mx.backup-example.com\nmax_age: 1296000\n",
     0, OK, TST, 1296000,
     "mx1.example.com mx2.example.com mx.backup-example.com",
     "mode-testing@2 max-age-advice@6"},

    /* STS-POL-2: field order */
    {"STS-POL-2 T1: version last",
     "max_age: 86400\nmx: mail.example.com\nmode: enforce\nversion: STSv1", 0,
     OK, ENF, 86400, "mail.example.com", "max-age-advice@1"},

    /* STS-POL-3, §24 A1: line ends */
    {"STS-POL-3 T1: all CRLF",
     "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
     "max_age: 604800\r\n",
     0, OK, ENF, 604800, "mail.example.com", ""},
    {"STS-POL-3 T2: all LF", PW, 0, OK, ENF, 604800, "mail.example.com", ""},
    {"STS-POL-3 T3: LF and CRLF mixed (A1)",
     "version: STSv1\r\nmode: testing\nmx: a.example\r\nmax_age: 1\r\n", 0, OK,
     TST, 1, "a.example", "mixed-line-ends@2 mode-testing@2"},
    {"STS-POL-3 T4: bare CR line ends",
     "version: STSv1\rmode: testing\rmx: a.example\rmax_age: 1\r", 0, SYN, 0, 0,
     NULL, "bare-cr@1 bare-cr@2 bare-cr@3 bare-cr@4 mode-testing@2"},
    {"STS-POL-3 T5: bare CR inside a line",
     V ME "mx: mail.example.com\rx\n" AGE_W, 0, SYN, 0, 0, NULL,
     "bare-cr@3 line-syntax@4"},
    {"STS-POL-3 T6: bare CR after the last line", V ME MX "max_age: 604800\r",
     0, SYN, 0, 0, NULL, "bare-cr@4"},

    /* STS-POL-4, §24 A5: empty lines */
    {"STS-POL-4 T1: no final line end", V ME MX "max_age: 86400", 0, OK, ENF,
     86400, "mail.example.com", "max-age-advice@4"},
    {"STS-POL-4 T2: one final LF", P1, 0, OK, ENF, 86400, "mail.example.com",
     "max-age-advice@4"},
    {"STS-POL-4 T3: trailing empty line tolerated (A5)", P1 "\n", 0, OK, ENF,
     86400, "mail.example.com", "trailing-blank-lines@5 max-age-advice@4"},
    {"STS-POL-4 T4: empty line in the middle (A5)", V "\n" ME MX AGE_D, 0, SYN,
     0, 0, NULL, "blank-line@2 max-age-advice@5"},
    {"STS-POL-4 T5: trailing white-space-only lines (A5)", P1 " \t\n\n", 0, OK,
     ENF, 86400, "mail.example.com", "trailing-blank-lines@5 max-age-advice@4"},
    {"STS-POL-4 T6: empty first line (A5)", "\n" P1, 0, SYN, 0, 0, NULL,
     "blank-line@1 max-age-advice@5"},
    {"STS-POL-4 T7: trailing CRLF empty lines (A5)",
     "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
     "max_age: 604800\r\n\r\n\r\n",
     0, OK, ENF, 604800, "mail.example.com", "trailing-blank-lines@5"},
    {"STS-POL-4 T8: white-space-only line in the middle (A5)",
     V "  \n" ME MX AGE_W, 0, SYN, 0, 0, NULL, "blank-line@2"},

    /* STS-POL-5, §24 A5: leading white space and BOM */
    {"STS-POL-5 T1: leading space", " " P1, 0, SYN, 0, 0, NULL,
     "leading-space@1 max-age-advice@4"},
    {"STS-POL-5 T2: UTF-8 BOM (A5)", BOM P1, 0, SYN, 0, 0, NULL,
     "bom@1 max-age-advice@4"},
    {"STS-POL-5 T3: leading HTAB", V "\tmode: enforce\n" MX AGE_W, 0, SYN, 0, 0,
     NULL, "leading-space@2"},
    {"STS-POL-5 T4: a BOM alone", BOM, 0, SYN, 0, 0, NULL, "bom@1 empty@0"},

    /* STS-POL-6: the delimiter */
    {"STS-POL-6 T1: no space after the colon", V "mode:enforce\n" MX AGE_W, 0,
     OK, ENF, 604800, "mail.example.com", ""},
    {"STS-POL-6 T2: HTAB after the colon", V "mode:\tenforce\n" MX AGE_W, 0, OK,
     ENF, 604800, "mail.example.com", ""},
    {"STS-POL-6 T3: spaces after the colon", V "mode:   enforce\n" MX AGE_W, 0,
     OK, ENF, 604800, "mail.example.com", ""},
    {"STS-POL-6 T4: space before the colon", V "mode : enforce\n" MX AGE_W, 0,
     SYN, 0, 0, NULL, "line-syntax@2"},
    {"STS-POL-6 T5: = for :", V "mode=enforce\n" MX AGE_W, 0, SYN, 0, 0, NULL,
     "line-syntax@2 mode-missing@0"},
    {"STS-POL-6 T6: HTAB before the colon", V "mode\t:enforce\n" MX AGE_W, 0,
     SYN, 0, 0, NULL, "line-syntax@2"},
    {"STS-POL-6 T7: no colon", "version: STSv1\nmode none", 0, SYN, 0, 0, NULL,
     "line-syntax@2 mode-missing@0 max-age-missing@0"},

    /* STS-POL-7: trailing WSP */
    {"STS-POL-7 T1: SP HTAB after the mode", V "mode: enforce \t\n" MX AGE_W, 0,
     OK, ENF, 604800, "mail.example.com", ""},
    {"STS-POL-7 T2: spaces after the mx",
     V ME "mx: mail.example.com  \r\n" AGE_W, 0, OK, ENF, 604800,
     "mail.example.com", "mixed-line-ends@3"},
    {"STS-POL-7 T3: space after max_age", V ME MX "max_age: 604800 \n", 0, OK,
     ENF, 604800, "mail.example.com", ""},

    /* STS-POL-8: version */
    {"STS-POL-8 T1: STSv2", "version: STSv2\n" ME MX AGE_W, 0, SYN, 0, 0, NULL,
     "version-invalid@1"},
    {"STS-POL-8 T2: stsv1", "version: stsv1\n" ME MX AGE_W, 0, SYN, 0, 0, NULL,
     "version-invalid@1"},
    {"STS-POL-8 T3: STSv1 and a space", "version: STSv1 \n" ME MX AGE_W, 0, OK,
     ENF, 604800, "mail.example.com", ""},
    {"STS-POL-8 T4: STSv10", "version: STSv10\n" ME MX AGE_W, 0, SYN, 0, 0,
     NULL, "version-invalid@1"},

    /* STS-POL-9: mode */
    {"STS-POL-9 T1: Enforce", V "mode: Enforce\n" MX AGE_W, 0, SYN, 0, 0, NULL,
     "mode-invalid@2"},
    {"STS-POL-9 T2: report (old draft)", V "mode: report\n" MX AGE_W, 0, SYN, 0,
     0, NULL, "mode-invalid@2"},
    {"STS-POL-9 T3: enforced", V "mode: enforced\n" MX AGE_W, 0, SYN, 0, 0,
     NULL, "mode-invalid@2"},
    {"STS-POL-9 T4: empty mode", V "mode:\n" MX AGE_W, 0, SYN, 0, 0, NULL,
     "mode-invalid@2"},

    /* STS-POL-10: required fields */
    {"STS-POL-10 T1: no max_age", V ME MX, 0, INV, 0, 0, NULL,
     "max-age-missing@0"},
    {"STS-POL-10 T2: no mode", V MX AGE_D, 0, INV, 0, 0, NULL,
     "mode-missing@0"},
    {"STS-POL-10 T3: no version", ME MX AGE_D, 0, INV, 0, 0, NULL,
     "version-missing@0 max-age-advice@3"},
    {"STS-POL-10 T4: empty body", "", 0, SYN, 0, 0, NULL, "empty@0"},
    {"STS-POL-10 T5: one empty line", "\n", 0, SYN, 0, 0, NULL,
     "trailing-blank-lines@1 empty@0"},

    /* STS-POL-11: mx required unless mode none */
    {"STS-POL-11 T1: enforce without mx", V ME AGE_D, 0, INV, 0, 0, NULL,
     "mx-missing@2 max-age-advice@3"},
    {"STS-POL-11 T2: testing without mx", V MT AGE_D, 0, INV, 0, 0, NULL,
     "mx-missing@2 mode-testing@2"},
    {"STS-POL-11 T3: none without mx", V MN AGE_D, 0, OK, NON, 86400, "",
     "mode-none@2"},
    {"STS-POL-11 T4: none with mx", V MN MX AGE_D, 0, OK, NON, 86400,
     "mail.example.com", "mode-none@2 mx-in-none@3"},

    /* STS-POL-12, §24 A6: duplicates */
    {"STS-POL-12 T1: first mode wins",
     V MT "mx: a.example.com\nmax_age: 86400\nmode: enforce\n", 0, OK, TST,
     86400, "a.example.com", "duplicate-key@5 mode-testing@2"},
    {"STS-POL-12 T2: first max_age wins",
     V ME MX "max_age: 100\nmax_age: 200\n", 0, OK, ENF, 100,
     "mail.example.com", "duplicate-key@5 max-age-short@4"},
    {"STS-POL-12 T3: version twice", V V ME MX AGE_W, 0, OK, ENF, 604800,
     "mail.example.com", "duplicate-key@2"},
    {"STS-POL-12 T4: malformed second max_age is an error (A6)",
     P1 "max_age: 1d\n", 0, SYN, 0, 0, NULL,
     "max-age-syntax@5 max-age-advice@4"},
    {"STS-POL-12 T5: malformed second mode is an error (A6)",
     V MT "mode: bogus\nmx: a.example.com\nmax_age: 3600\n", 0, SYN, 0, 0, NULL,
     "mode-invalid@3 mode-testing@2"},
    {"STS-POL-12 T6: malformed second version is an error (A6)",
     V "version: STSv2\n" ME MX AGE_W, 0, SYN, 0, 0, NULL, "version-invalid@2"},

    /* STS-POL-13: one mx a line */
    {"STS-POL-13 T1: two mx lines",
     V ME "mx: a.example.com\nmx: b.example.com\n" AGE_W, 0, OK, ENF, 604800,
     "a.example.com b.example.com", ""},
    {"STS-POL-13 T2: comma list",
     V ME "mx: a.example.com, b.example.com\n" AGE_W, 0, SYN, 0, 0, NULL,
     "mx-list@3"},
    {"STS-POL-13 T3: space list",
     V ME "mx: a.example.com b.example.com\n" AGE_W, 0, SYN, 0, 0, NULL,
     "mx-list@3"},
    {"STS-POL-13 T4: stray comma", V ME "mx: a.example.com,\n" AGE_W, 0, SYN, 0,
     0, NULL, "mx-invalid@3"},
    {"STS-POL-13 T5: HTAB list",
     V ME "mx: a.example.com\tb.example.com\n" AGE_W, 0, SYN, 0, 0, NULL,
     "mx-list@3"},

    /* STS-POL-14: mx patterns in a policy */
    {"STS-POL-14 T1: kept as written", V ME "mx: MAIL.Example.COM\n" AGE_W, 0,
     OK, ENF, 604800, "MAIL.Example.COM", ""},
    {"STS-POL-14 T2: single label", V ME "mx: mx1\n" AGE_W, 0, OK, ENF, 604800,
     "mx1", "mx-single-label@3"},
    {"STS-POL-14 T3: label begins with a digit", V ME "mx: 1mx.example\n" AGE_W,
     0, OK, ENF, 604800, "1mx.example", ""},
    {"STS-POL-14 T4: dotted quad is valid, with a warning",
     V ME "mx: 1.2.3.4\n" AGE_W, 0, OK, ENF, 604800, "1.2.3.4", "mx-address@3"},
    {"STS-POL-14 T5: wildcard over a dotted quad", V ME "mx: *.1.2.3.4\n" AGE_W,
     0, OK, ENF, 604800, "*.1.2.3.4", "mx-address@3 mx-wildcard@3"},
    {"STS-POL-14 T6: *example.com", V ME "mx: *example.com\n" AGE_W, 0, SYN, 0,
     0, NULL, "mx-invalid@3"},
    {"STS-POL-14 T7: .example.com", V ME "mx: .example.com\n" AGE_W, 0, SYN, 0,
     0, NULL, "mx-invalid@3"},
    {"STS-POL-14 T8: *.*.example.com", V ME "mx: *.*.example.com\n" AGE_W, 0,
     SYN, 0, 0, NULL, "mx-invalid@3"},
    {"STS-POL-14 T9: mail.*.example.com", V ME "mx: mail.*.example.com\n" AGE_W,
     0, SYN, 0, 0, NULL, "mx-invalid@3"},
    {"STS-POL-14 T10: *", V ME "mx: *\n" AGE_W, 0, SYN, 0, 0, NULL,
     "mx-invalid@3"},
    {"STS-POL-14 T11: *.", V ME "mx: *.\n" AGE_W, 0, SYN, 0, 0, NULL,
     "mx-invalid@3"},
    {"STS-POL-14 T12: trailing dot", V ME "mx: mail.example.com.\n" AGE_W, 0,
     SYN, 0, 0, NULL, "mx-invalid@3"},
    {"STS-POL-14 T13: leading hyphen", V ME "mx: -mx.example.com\n" AGE_W, 0,
     SYN, 0, 0, NULL, "mx-invalid@3"},
    {"STS-POL-14 T14: trailing hyphen", V ME "mx: mx-.example.com\n" AGE_W, 0,
     SYN, 0, 0, NULL, "mx-invalid@3"},
    {"STS-POL-14 T15: underscore", V ME "mx: mx_1.example.com\n" AGE_W, 0, SYN,
     0, 0, NULL, "mx-invalid@3"},
    {"STS-POL-14 T16: address literal", V ME "mx: [192.0.2.1]\n" AGE_W, 0, SYN,
     0, 0, NULL, "mx-invalid@3"},
    {"STS-POL-14 T17: empty mx", V ME "mx:\n" AGE_W, 0, SYN, 0, 0, NULL,
     "mx-invalid@3"},

    /* STS-POL-15: A-labels */
    {"STS-POL-15 T1: A-label", V ME "mx: xn--bcher-kva.example\n" AGE_W, 0, OK,
     ENF, 604800, "xn--bcher-kva.example", ""},
    {"STS-POL-15 T2: U-label", V ME "mx: b" U_UUML "cher.example\n" AGE_W, 0,
     SYN, 0, 0, NULL, "mx-ulabel@3"},
    {"STS-POL-15 T3: U-label in mode none is still an error (A6)",
     "version:STSv1\nmode:none\nmax_age:0\nmx: m" U_OSTR "x.example", 0, SYN, 0,
     0, NULL, "mx-ulabel@4 mode-none@2"},

    /* STS-POL-16, §24 A7: max_age */
    {"STS-POL-16 T1: 0", V MN "max_age: 0\n", 0, OK, NON, 0, "", "mode-none@2"},
    {"STS-POL-16 T2: 1", V MN "max_age: 1\n", 0, OK, NON, 1, "", "mode-none@2"},
    {"STS-POL-16 T3: 86400", V MN "max_age: 86400\n", 0, OK, NON, 86400, "",
     "mode-none@2"},
    {"STS-POL-16 T4: 31557600", V MN "max_age: 31557600\n", 0, OK, NON,
     31557600, "", "mode-none@2"},
    {"STS-POL-16 T5: ten digits with leading zeros",
     V MN "max_age: 0000086400\n", 0, OK, NON, 86400, "", "mode-none@2"},
    {"STS-POL-16 T6: empty", V MN "max_age:\n", 0, SYN, 0, 0, NULL,
     "max-age-syntax@3 mode-none@2"},
    {"STS-POL-16 T7: -1", V MN "max_age: -1\n", 0, SYN, 0, 0, NULL,
     "max-age-syntax@3 mode-none@2"},
    {"STS-POL-16 T8: +86400", V MN "max_age: +86400\n", 0, SYN, 0, 0, NULL,
     "max-age-syntax@3 mode-none@2"},
    {"STS-POL-16 T9: 86400s", V MN "max_age: 86400s\n", 0, SYN, 0, 0, NULL,
     "max-age-syntax@3 mode-none@2"},
    {"STS-POL-16 T10: 1.5", V MN "max_age: 1.5\n", 0, SYN, 0, 0, NULL,
     "max-age-syntax@3 mode-none@2"},
    {"STS-POL-16 T11: 1e5", V MN "max_age: 1e5\n", 0, SYN, 0, 0, NULL,
     "max-age-syntax@3 mode-none@2"},
    {"STS-POL-16 T12: 86 400", V MN "max_age: 86 400\n", 0, SYN, 0, 0, NULL,
     "max-age-syntax@3 mode-none@2"},
    {"STS-POL-16 T13: 11 digits", V MN "max_age: 12345678901\n", 0, SYN, 0, 0,
     NULL, "max-age-syntax@3 mode-none@2"},
    {"STS-POL-16 T14: 11 digits with a leading zero",
     V MN "max_age: 01234567890\n", 0, SYN, 0, 0, NULL,
     "max-age-syntax@3 mode-none@2"},
    {"STS-POL-16 T15: 31557601 clamped (A7)", V MN "max_age: 31557601\n", 0, OK,
     NON, 31557600, "", "max-age-range@3 mode-none@2"},
    {"STS-POL-16 T16: 9999999999 clamped (A7)", V MN "max_age: 9999999999\n", 0,
     OK, NON, 31557600, "", "max-age-range@3 mode-none@2"},
    {"STS-POL-16 T17: 2^32 does not wrap (A7)", V MN "max_age: 4294967296\n", 0,
     OK, NON, 31557600, "", "max-age-range@3 mode-none@2"},
    {"STS-POL-16 T18: 2^32 + 1 does not wrap (A7)",
     V MN "max_age: 4294967297\n", 0, OK, NON, 31557600, "",
     "max-age-range@3 mode-none@2"},

    /* STS-POL-17: extension fields */
    {"STS-POL-17 T1: unknown field ignored", PW "foo: bar baz\n", 0, OK, ENF,
     604800, "mail.example.com", "extension@5"},
    {"STS-POL-17 T2: UTF-8 value", PW "note: caf" U_EACU "\n", 0, OK, ENF,
     604800, "mail.example.com", "extension@5"},
    {"STS-POL-17 T3: empty value", PW "foo:\n", 0, SYN, 0, 0, NULL,
     "extension-syntax@5"},
    {"STS-POL-17 T4: HTAB inside the value", PW "foo: a\tb\n", 0, SYN, 0, 0,
     NULL, "extension-syntax@5"},
    {"STS-POL-17 T5: name begins with _", PW "_foo: bar\n", 0, SYN, 0, 0, NULL,
     "extension-syntax@5"},
    {"STS-POL-17 T6: 33-character name", PW K32 "g: bar\n", 0, SYN, 0, 0, NULL,
     "extension-syntax@5"},
    {"STS-POL-17 T7: truncated UTF-8", PW "foo: \xC3\n", 0, SYN, 0, 0, NULL,
     "extension-syntax@5"},
    {"STS-POL-17 T8: 32-character name", PW K32 ": bar\n", 0, OK, ENF, 604800,
     "mail.example.com", "extension@5"},
    {"STS-POL-17 T9: overlong 2-byte form", PW "foo: a" B_OVER2 "\n", 0, SYN, 0,
     0, NULL, "extension-syntax@5"},
    {"STS-POL-17 T10: overlong 3-byte form", PW "foo: a" B_OVER3 "\n", 0, SYN,
     0, 0, NULL, "extension-syntax@5"},
    {"STS-POL-17 T11: UTF-16 surrogate", PW "foo: a" B_SURR "\n", 0, SYN, 0, 0,
     NULL, "extension-syntax@5"},
    {"STS-POL-17 T12: above U+10FFFF", PW "foo: a" B_TOOBIG "\n", 0, SYN, 0, 0,
     NULL, "extension-syntax@5"},
    {"STS-POL-17 T13: U+10FFFF", PW "foo: a" U_MAX "\n", 0, OK, ENF, 604800,
     "mail.example.com", "extension@5"},
    {"STS-POL-17 T14: four-byte UTF-8", PW "foo: " U_EMOJI "\n", 0, OK, ENF,
     604800, "mail.example.com", "extension@5"},
    {"STS-POL-17 T15: byte 0xFF (postfix-tlspol:244)",
     PW "comment: ok" B_FF "bad\n", 0, SYN, 0, 0, NULL, "extension-syntax@5"},
    {"STS-POL-17 T16: DEL", PW "x-report: ok" B_DEL "bad\n", 0, SYN, 0, 0, NULL,
     "extension-syntax@5"},
    {"STS-POL-17 T17: inner _ - . in the name", PW "x-report.v_2: ok\n", 0, OK,
     ENF, 604800, "mail.example.com", "extension@5"},
    {"STS-POL-17 T18: name begins with a digit", PW "1st: ok\n", 0, OK, ENF,
     604800, "mail.example.com", "extension@5"},
    {"STS-POL-17 T19: name begins with -", PW "-comment: ok\n", 0, SYN, 0, 0,
     NULL, "extension-syntax@5"},
    {"STS-POL-17 T20: name begins with .", PW ".comment: ok\n", 0, SYN, 0, 0,
     NULL, "extension-syntax@5"},
    {"STS-POL-17 T21: C1 control is UTF8-2, not a CTL",
     PW "foo: a" U_C1NEL "\n", 0, OK, ENF, 604800, "mail.example.com",
     "extension@5"},
    {"STS-POL-17 T22: inner runs of spaces", PW "more:ext e  ns ion", 0, OK,
     ENF, 604800, "mail.example.com", "extension@5"},
    {"STS-POL-17 T23: non-ASCII name", PW "caf" U_EACU ": ok\n", 0, SYN, 0, 0,
     NULL, "extension-syntax@5"},
    {"STS-POL-17 T24: truncated 4-byte UTF-8 at the end",
     PW "foo: \xF0\x9F\x98", 0, SYN, 0, 0, NULL, "extension-syntax@5"},
    {"STS-POL-17 T25: NUL in a value (postfix-tlspol:204)",
     PW "x-report: ok\0bad\n", sizeof(PW "x-report: ok\0bad\n") - 1, SYN, 0, 0,
     NULL, "nul@5"},

    /* STS-POL-18: keys are case-sensitive */
    {"STS-POL-18 T1: Version",
     "Version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1", 0, INV, 0, 0,
     NULL, "key-case@1 version-missing@0 max-age-short@4"},
    {"STS-POL-18 T2: MX",
     "version: STSv1\nmode: enforce\nMX: a.example\nmax_age: 1", 0, INV, 0, 0,
     NULL, "key-case@3 mx-missing@2 max-age-short@4"},
    {"STS-POL-18 T3: MODE and Max_Age", V "MODE: enforce\n" MX "Max_Age: 1\n",
     0, INV, 0, 0, NULL,
     "key-case@2 key-case@4 mode-missing@0 max-age-missing@0"},

    /* STS-POL-19: the whole body must match */
    {"STS-POL-19 T1: a garbage line", P1 "garbage\n", 0, SYN, 0, 0, NULL,
     "line-syntax@5 max-age-advice@4"},
    {"STS-POL-19 T2: NUL byte", P1 "x-note: a\0b\n",
     sizeof(P1 "x-note: a\0b\n") - 1, SYN, 0, 0, NULL,
     "nul@5 max-age-advice@4"},
    {"STS-POL-19 T3: not a policy", "bogus", 0, SYN, 0, 0, NULL,
     "line-syntax@1 version-missing@0 mode-missing@0 max-age-missing@0"},
    {"STS-POL-19 T4: empty key", "version: STSv1\n: 8600", 0, SYN, 0, 0, NULL,
     "line-syntax@2 mode-missing@0 max-age-missing@0"},
    {"STS-POL-19 T5: NUL bytes only", "\0\0\0\0\0\0\0\0", 8, SYN, 0, 0, NULL,
     "nul@1 version-missing@0 mode-missing@0 max-age-missing@0"},

    /* STS-POL-21: DNS limits */
    {"STS-POL-21 T1: 64-octet mx label",
     V ME "mx: " L63 "x.example.com\n" AGE_W, 0, SYN, 0, 0, NULL,
     "mx-invalid@3"},
    {"STS-POL-21 T2: 63-octet mx label", V ME "mx: " L63 ".example.com\n" AGE_W,
     0, OK, ENF, 604800, L63 ".example.com", ""},

    /* lint findings, never errors (checklist §10: STS-OPS-5, -6) */
    {"STS-POL-13 T6: duplicate mx, compared as DNS names",
     V ME "mx: a.example.com\nmx: b.example.com\nmx: A.Example.COM\n" AGE_W, 0,
     OK, ENF, 604800, "a.example.com b.example.com A.Example.COM",
     "mx-duplicate@5"},
    {"STS-OPS-6 T1: wildcard mx, listed twice",
     V ME "mx: *.example.com\nmx: *.example.com\n" AGE_W, 0, OK, ENF, 604800,
     "*.example.com *.example.com",
     "mx-wildcard@3 mx-wildcard@4 mx-duplicate@4"},
    {"STS-OPS-5 T1: enforce, just under a day", V ME MX "max_age: 86399\n", 0,
     OK, ENF, 86399, "mail.example.com", "max-age-short@4"},
    {"STS-OPS-5 T2: enforce, just under a week", V ME MX "max_age: 604799\n", 0,
     OK, ENF, 604799, "mail.example.com", "max-age-advice@4"},
    {"STS-OPS-5 T3: testing, a day", V MT MX AGE_D, 0, OK, TST, 86400,
     "mail.example.com", "mode-testing@2"},
    {"STS-OPS-5 T4: testing, over a day", V MT MX "max_age: 86401\n", 0, OK,
     TST, 86401, "mail.example.com", "mode-testing@2 max-age-advice@4"},
    {"STS-OPS-5 T5: enforce, a year", V ME MX "max_age: 31557600\n", 0, OK, ENF,
     31557600, "mail.example.com", ""},
};

/* "code@line ..." of every finding, without the "policy-" prefix. */
static void
findings_string(const struct mts_diag *d, char *buf, size_t size)
{
	size_t i, off = 0;
	const char *code;

	buf[0] = '\0';
	for (i = 0; i < d->count && off < size; i++) {
		code = d->items[i].code;
		if (strncmp(code, "policy-", 7) == 0)
			code += 7;
		off +=
		    (size_t)snprintf(buf + off, size - off, "%s%s@%u",
		                     i == 0 ? "" : " ", code, d->items[i].line);
	}
}

/* The mx patterns joined by " ". */
static void
mx_string(const struct mts_sts_policy *p, char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < p->mx_count && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
		                        i == 0 ? "" : " ", p->mx[i]);
}

/* The line of the first error finding: what err->line must say. */
static unsigned
first_error_line(const struct mts_diag *d)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		if (d->items[i].severity == MTS_SEV_ERROR)
			return d->items[i].line;
	return 0;
}

static bool
check_verdict(const struct policy_case *c, int rc, const struct mts_err *err,
              const struct mts_sts_policy *p)
{
	char mx[1024];

	if (c->err != MTS_OK) {
		if (rc != -1 || err->code != c->err) {
			tap_diag("got rc %d err %s", rc,
			         rc == 0 ? "none" : mts_strerror(err->code));
			return false;
		}
		return true;
	}
	if (rc != 0) {
		tap_diag("got err %s: %s (line %u)", mts_strerror(err->code),
		         err->msg, err->line);
		return false;
	}
	mx_string(p, mx, sizeof(mx));
	if (p->mode != c->mode || p->max_age != c->max_age ||
	    strcmp(mx, c->mx) != 0) {
		tap_diag("got mode %s max_age %u mx \"%s\"",
		         mts_sts_mode_name(p->mode), p->max_age, mx);
		return false;
	}
	return true;
}

static void
run_case(const struct policy_case *c)
{
	struct mts_sts_policy p;
	struct mts_err err, err2;
	struct mts_diag diag;
	size_t len = c->len != 0 ? c->len : strlen(c->body);
	char got[2048];
	int rc, rc2;
	bool ok;

	memset(&p, 0, sizeof(p));
	memset(&err, 0, sizeof(err));
	memset(&err2, 0, sizeof(err2));
	mts_diag_init(&diag);
	rc = mts_sts_policy_parse(c->body, len, &p, &diag, &err);
	tap_ok(check_verdict(c, rc, &err, &p), "%s: %s", c->name,
	       c->err == MTS_OK ? "valid" : mts_strerror(c->err));
	findings_string(&diag, got, sizeof(got));
	ok = strcmp(got, c->findings) == 0;
	if (!ok)
		tap_diag("got findings \"%s\"", got);
	tap_ok(ok, "%s: findings [%s]", c->name, c->findings);
	/* the same verdict without diag; err points at the first error */
	mts_sts_policy_reset(&p);
	rc2 = mts_sts_policy_parse(c->body, len, &p, NULL, &err2);
	tap_ok(rc2 == rc &&
	           (rc == 0 ||
	            (err2.code == err.code && err.msg != NULL &&
	             err.line == first_error_line(&diag))),
	       "%s: same verdict without diag, err at line %u", c->name,
	       err.line);
	mts_sts_policy_reset(&p);
	mts_diag_reset(&diag);
}

/* ---- STS-POL-20: the size cap ---- */

/* A valid body of exactly `size` bytes: P1, then extension lines. */
static char *
padded_body(size_t size)
{
	size_t off, line;
	char *b;

	if ((b = malloc(size)) == NULL)
		return NULL;
	memcpy(b, P1, strlen(P1));
	for (off = strlen(P1); off < size; off += line) {
		line = size - off >= 200 ? 100 : size - off;
		memcpy(b + off, "x: ", 3);
		memset(b + off + 3, 'a', line - 4);
		b[off + line - 1] = '\n';
	}
	return b;
}

static void
test_size_cap(void)
{
	struct mts_sts_policy p, sentinel;
	struct mts_diag diag;
	struct mts_err err;
	char *b;
	int rc;

	memset(&sentinel, 0xA5, sizeof(sentinel));
	if ((b = padded_body(MTS_STS_POLICY_MAX)) == NULL) {
		tap_ok(false, "STS-POL-20: out of memory");
		return;
	}
	mts_diag_init(&diag);
	rc = mts_sts_policy_parse(b, MTS_STS_POLICY_MAX, &p, &diag, &err);
	free(b);
	tap_ok(rc == 0 && p.max_age == 86400 && p.mx_count == 1 &&
	           mts_diag_count(&diag, MTS_SEV_ERROR) == 0,
	       "STS-POL-20 T1: a 65,536-byte body is valid");
	/* Bounded: repeated findings fold (include/mtasts/diag.h). */
	tap_ok(diag.count > 0 && diag.count < MTS_DIAG_MAX && diag.dropped == 0,
	       "STS-POL-20 T1: findings are folded under %d (%zu dropped)",
	       MTS_DIAG_MAX, diag.dropped);
	mts_sts_policy_reset(&p);
	mts_diag_reset(&diag);

	if ((b = padded_body(1024 * 1024)) == NULL) {
		tap_ok(false, "STS-POL-20: out of memory");
		return;
	}
	p = sentinel;
	rc = mts_sts_policy_parse(b, 1024 * 1024, &p, &diag, &err);
	tap_ok(
	    rc == -1 && err.code == MTS_ERR_TOOBIG && diag.count == 1 &&
		tap_streq(diag.items[0].code, "policy-too-large") &&
		memcmp(&p, &sentinel, sizeof(p)) == 0,
	    "STS-POL-20 T2, STS-OPS-8 T1: a 1 MiB body is too large, out untouched");
	mts_diag_reset(&diag);

	rc = mts_sts_policy_parse(b, MTS_STS_POLICY_MAX + 1, &p, NULL, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG,
	       "STS-POL-20 T3: 65,537 bytes are too large");

	/* mox mtasts_test.go:228: 65,538 NUL bytes */
	memset(b, 0, MTS_STS_POLICY_MAX + 2);
	rc = mts_sts_policy_parse(b, MTS_STS_POLICY_MAX + 2, &p, NULL, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG,
	       "STS-POL-20 T4: 65,538 NUL bytes are refused unread");
	rc = mts_sts_policy_parse(b, MTS_STS_POLICY_MAX, &p, NULL, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_SYNTAX && err.line == 1,
	       "STS-POL-19 T6: 65,536 NUL bytes are a syntax error on line 1");
	free(b);
}

/* 64 KiB of garbage lines: every error counted, few stored (folded). */
static void
test_finding_cap(void)
{
	struct mts_diag diag;
	char *b;
	size_t i, n = MTS_STS_POLICY_MAX / 8;
	int rc;

	if ((b = malloc(n * 8)) == NULL)
		return;
	for (i = 0; i < n; i++)
		memcpy(b + i * 8, "garbage\n", 8);
	mts_diag_init(&diag);
	rc = mts_sts_policy_parse(b, n * 8, NULL, &diag, NULL);
	tap_ok(rc == -1 && diag.count < MTS_DIAG_MAX &&
	           mts_diag_count(&diag, MTS_SEV_ERROR) == n + 3,
	       "STS-POL-19 T7: %zu garbage lines: %zu errors counted, %zu kept",
	       n, mts_diag_count(&diag, MTS_SEV_ERROR), diag.count);
	mts_diag_reset(&diag);
	free(b);
}

/* Failure leaves out untouched; success hands over owned strings. */
static void
test_ownership(void)
{
	struct mts_sts_policy p, sentinel;
	struct mts_err err;

	memset(&sentinel, 0x5A, sizeof(sentinel));
	p = sentinel;
	tap_ok(mts_sts_policy_parse(V ME AGE_D, strlen(V ME AGE_D), &p, NULL,
	                            &err) == -1 &&
	           memcmp(&p, &sentinel, sizeof(p)) == 0,
	       "STS-POL-11 T5: an invalid policy leaves out untouched");
	tap_ok(mts_sts_policy_parse(NULL, 1, &p, NULL, &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "STS-POL-19 T8: NULL body with a length is an argument error");
	tap_ok(mts_sts_policy_parse(P1, strlen(P1), NULL, NULL, NULL) == 0,
	       "STS-POL-1 T4: out may be NULL to validate only");
	mts_sts_policy_reset(NULL);
	memset(&p, 0, sizeof(p));
	mts_sts_policy_parse(P1, strlen(P1), &p, NULL, NULL);
	mts_sts_policy_reset(&p);
	tap_ok(p.mx == NULL && p.mx_count == 0 && p.max_age == 0,
	       "STS-POL-1 T5: reset frees and zeroes (and takes NULL)");
}

/* ---- format ---- */

static const struct format_case {
	const char *name;
	const char *body;
	const char *want;
} format_cases[] = {
    {"STS-POL-1 T6: format the §3.2 example",
     V ME "mx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\n"
          "max_age: 604800",
     "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
     "mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n"},
    {"STS-POL-2 T2: format puts the fields in order",
     "max_age: 86400\nmx: a.example\nmode: testing\nversion: STSv1",
     "version: STSv1\r\nmode: testing\r\nmx: a.example\r\nmax_age: 86400\r\n"},
    {"STS-POL-11 T6: format mode none without mx", V MN "max_age: 0\n",
     "version: STSv1\r\nmode: none\r\nmax_age: 0\r\n"},
    {"STS-POL-11 T7: format mode none with mx", V MN MX AGE_D,
     "version: STSv1\r\nmode: none\r\nmx: mail.example.com\r\n"
     "max_age: 86400\r\n"},
    {"STS-POL-16 T19: format the clamped max_age", V MN "max_age: 9999999999\n",
     "version: STSv1\r\nmode: none\r\nmax_age: 31557600\r\n"},
};

static bool
same_policy(const struct mts_sts_policy *a, const struct mts_sts_policy *b)
{
	size_t i;

	if (a->mode != b->mode || a->max_age != b->max_age ||
	    a->mx_count != b->mx_count)
		return false;
	for (i = 0; i < a->mx_count; i++)
		if (strcmp(a->mx[i], b->mx[i]) != 0)
			return false;
	return true;
}

static void
test_format(void)
{
	struct mts_sts_policy p, q;
	size_t i;
	char *text;

	for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
		const struct format_case *c = &format_cases[i];

		memset(&p, 0, sizeof(p));
		memset(&q, 0, sizeof(q));
		text = NULL;
		if (mts_sts_policy_parse(c->body, strlen(c->body), &p, NULL,
		                         NULL) == 0)
			text = mts_sts_policy_format(&p, NULL);
		tap_ok(tap_streq(text, c->want), "%s: text", c->name);
		tap_ok(text != NULL &&
		           mts_sts_policy_parse(text, strlen(text), &q, NULL,
		                                NULL) == 0 &&
		           same_policy(&p, &q),
		       "%s: round trip", c->name);
		free(text);
		mts_sts_policy_reset(&p);
		mts_sts_policy_reset(&q);
	}
}

static void
test_format_errors(void)
{
	char *good[] = {"a.example"}, *bad[] = {"a..example"}, *none[] = {NULL};
	const struct {
		const char *name;
		struct mts_sts_policy p;
	} rows[] = {
	    {"FORMAT T1: mode out of range",
	     {(enum mts_sts_mode)7, 1, 1, good}},
	    {"FORMAT T2: max_age over the maximum",
	     {MTS_STS_MODE_ENFORCE, 31557601, 1, good}},
	    {"FORMAT T3: enforce without mx",
	     {MTS_STS_MODE_ENFORCE, 1, 0, NULL}},
	    {"FORMAT T4: malformed pattern", {MTS_STS_MODE_TESTING, 1, 1, bad}},
	    {"FORMAT T5: NULL pattern", {MTS_STS_MODE_TESTING, 1, 1, none}},
	    {"FORMAT T6: mx NULL with a count",
	     {MTS_STS_MODE_TESTING, 1, 1, NULL}},
	};
	struct mts_err err;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&err, 0, sizeof(err));
		tap_ok(mts_sts_policy_format(&rows[i].p, &err) == NULL &&
		           err.code == MTS_ERR_ARG,
		       "%s: refused", rows[i].name);
	}
	tap_ok(mts_sts_policy_format(NULL, &err) == NULL &&
	           err.code == MTS_ERR_ARG,
	       "FORMAT T7: NULL policy refused");
	tap_ok(tap_streq(mts_sts_mode_name(MTS_STS_MODE_NONE), "none") &&
	           tap_streq(mts_sts_mode_name(MTS_STS_MODE_TESTING),
	                     "testing") &&
	           tap_streq(mts_sts_mode_name(MTS_STS_MODE_ENFORCE),
	                     "enforce") &&
	           tap_streq(mts_sts_mode_name((enum mts_sts_mode)9),
	                     "unknown"),
	       "STS-POL-9 T5: mode names");
}

/* ---- applying the policy: checklist §6 ---- */

#define VERDICT_OK     MTS_STS_MX_ALLOWED
#define VERDICT_REPORT MTS_STS_MX_ALLOWED_REPORT
#define VERDICT_REFUSE MTS_STS_MX_REFUSED

static const struct mx_case {
	const char *name;
	const char *body;
	const char *host;
	enum mts_sts_mx_verdict want;
} mx_cases[] = {
    {"STS-MX-1 T1: enforce, host not in the policy",
     V ME "mx: mx1.example.com\n" AGE_W, "mx2.example.com", VERDICT_REFUSE},
    {"STS-MX-1 T2: enforce, host in the policy",
     V ME "mx: mx1.example.com\n" AGE_W, "mx1.example.com", VERDICT_OK},
    {"STS-MX-1 T3, STS-APPLY-4: testing, host not in the policy",
     V MT "mx: mx1.example.com\n" AGE_D, "mx2.example.com", VERDICT_REPORT},
    {"STS-MX-1 T4: none, host not in the policy",
     V MN "mx: mx1.example.com\n" AGE_D, "mx2.example.com", VERDICT_OK},
    {"STS-MX-1 T5: enforce, trailing dot of the MX target",
     V ME "mx: mx1.example.com\n" AGE_W, "MX1.example.com.", VERDICT_OK},
    {"STS-MX-7 T1: one matching pattern is enough",
     V ME "mx: a.example\nmx: *.b.example\n" AGE_W, "x.b.example", VERDICT_OK},
    {"STS-MX-7 T2: none of two patterns",
     V ME "mx: a.example\nmx: *.b.example\n" AGE_W, "y.x.b.example",
     VERDICT_REFUSE},
    {"STS-MX-9 T1: implicit MX: the domain itself is the host",
     V ME "mx: mail.example.com\n" AGE_W, "example.com", VERDICT_REFUSE},
    {"STS-MX-9 T2: implicit MX covered by the policy",
     V ME "mx: example.com\n" AGE_W, "example.com", VERDICT_OK},
};

static const char *
verdict_name(enum mts_sts_mx_verdict v)
{
	return v == VERDICT_OK  ? "allowed" :
	    v == VERDICT_REPORT ? "allowed, report" :
				  "refused";
}

static void
test_check_mx(void)
{
	struct mts_sts_policy p;
	size_t i;

	for (i = 0; i < sizeof(mx_cases) / sizeof(mx_cases[0]); i++) {
		const struct mx_case *c = &mx_cases[i];

		memset(&p, 0, sizeof(p));
		tap_ok(mts_sts_policy_parse(c->body, strlen(c->body), &p, NULL,
		                            NULL) == 0 &&
		           mts_sts_policy_check_mx(&p, c->host) == c->want &&
		           mts_sts_policy_match(&p, c->host) ==
		               (c->want == VERDICT_OK &&
		                p.mode != MTS_STS_MODE_NONE),
		       "%s: %s", c->name, verdict_name(c->want));
		mts_sts_policy_reset(&p);
	}
	tap_ok(mts_sts_policy_check_mx(NULL, "a.example") == VERDICT_OK &&
	           !mts_sts_policy_match(NULL, "a.example"),
	       "STS-MX-1 T6: no policy allows every host");
}

/*
 * STS-MX-10 (§8.4): a sender walks the MX list in preference order and
 * treats a host the policy refuses as unreachable, without filtering the
 * list first.  `walk` stands in for that sender: it returns the host it
 * delivers to (or NULL: defer) and counts the hosts it contacted.
 */
struct mx_rr {
	unsigned pref;
	const char *host;
	bool reachable;
};

static int
rr_cmp(const void *a, const void *b)
{
	const struct mx_rr *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

static const char *
walk(const struct mts_sts_policy *p, struct mx_rr *rrs, size_t n,
     bool *reported, unsigned *contacted)
{
	enum mts_sts_mx_verdict v;
	size_t i;

	*reported = false;
	*contacted = 0;
	qsort(rrs, n, sizeof(*rrs), rr_cmp);
	for (i = 0; i < n; i++) {
		v = mts_sts_policy_check_mx(p, rrs[i].host);
		if (v == MTS_STS_MX_REFUSED)
			continue; /* as if unreachable */
		(*contacted)++;
		if (!rrs[i].reachable)
			continue;
		*reported = v == MTS_STS_MX_ALLOWED_REPORT;
		return rrs[i].host;
	}
	return NULL;
}

static const struct walk_case {
	const char *name;
	const char *body;
	struct mx_rr rrs[3];
	size_t n;
	const char *want; /* NULL: defer */
	bool reported;
	unsigned contacted;
} walk_cases[] = {
    {"STS-MX-10 T1: enforce skips the uncovered best MX",
     V ME "mx: good.example\n" AGE_W,
     {{20, "good.example", true}, {10, "bad.example", true}},
     2,
     "good.example",
     false,
     1},
    {"STS-MX-10 T2: testing delivers to it and reports",
     V MT "mx: good.example\n" AGE_D,
     {{20, "good.example", true}, {10, "bad.example", true}},
     2,
     "bad.example",
     true,
     1},
    {"STS-MX-10 T3: a bad backup MX is never contacted",
     V ME "mx: good.example\n" AGE_W,
     {{20, "bad.example", true}, {10, "good.example", true}},
     2,
     "good.example",
     false,
     1},
    {"STS-MX-10 T4: an unreachable covered MX falls back to the next",
     V ME "mx: *.example\n" AGE_W,
     {{10, "a.example", false}, {20, "b.example", true}},
     2,
     "b.example",
     false,
     2},
    {"STS-MX-10 T5: enforce with no covered MX defers",
     V ME "mx: good.example\n" AGE_W,
     {{10, "bad.example", true}, {20, "worse.example", true}},
     2,
     NULL,
     false,
     0},
    {"STS-MX-10 T6: mode none uses the best MX",
     V MN "mx: good.example\n" AGE_W,
     {{20, "good.example", true}, {10, "bad.example", true}},
     2,
     "bad.example",
     false,
     1},
};

static void
test_walk(void)
{
	struct mts_sts_policy p;
	struct mx_rr rrs[3];
	const char *got;
	unsigned contacted;
	bool reported;
	size_t i;

	for (i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		const struct walk_case *c = &walk_cases[i];

		memset(&p, 0, sizeof(p));
		memcpy(rrs, c->rrs, sizeof(rrs));
		got = NULL;
		reported = false;
		contacted = 0;
		if (mts_sts_policy_parse(c->body, strlen(c->body), &p, NULL,
		                         NULL) == 0)
			got = walk(&p, rrs, c->n, &reported, &contacted);
		tap_ok(tap_streq(got, c->want) && reported == c->reported &&
		           contacted == c->contacted,
		       "%s: %s", c->name, c->want != NULL ? c->want : "defer");
		mts_sts_policy_reset(&p);
	}
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_size_cap();
	test_finding_cap();
	test_ownership();
	test_format();
	test_format_errors();
	test_check_mx();
	test_walk();
	return tap_done();
}
