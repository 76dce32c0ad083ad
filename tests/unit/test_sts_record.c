/* SPDX-License-Identifier: ISC */
/*
 * Tests of sts_record.c and tagval.c: the _mta-sts TXT record of RFC 8461
 * §3.1 (checklist section 1, STS-TXT-1..12 and 16; the DNS and cache
 * items 13..15 and 17 are in test_sts_discover.c).  Each row names the
 * checklist id and test input it covers; the positions on the ambiguous
 * items (§24 A2, A3, A24) are asserted with their finding codes.
 */
#include <stdint.h>

#include <mtasts/sts.h>

#include "tap.h"

/* Tell a string's length from the literal, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1

static const struct rec_case {
	const char *name;
	const char *input;
	size_t len;
	const char *part2; /* a second TXT string the caller appends */
	int want_rc;
	const char *want_id;       /* on success */
	enum mts_errcode want_err; /* on failure */
	unsigned want_col;         /* err->column; 0: not checked */
	const char *want_code;     /* a finding that must be present */
	const char *want_code2;    /* another one, or NULL */
} cases[] = {
    /* STS-TXT-2: the record begins with the case-sensitive v=STSv1. */
    {"STS-TXT-2 T1: the basic record", S("v=STSv1; id=abc123"), NULL, 0,
     "abc123", MTS_OK, 0, "sts-record-id-not-timestamp", NULL},
    {"STS-TXT-2 T2: version not first", S("id=abc123; v=STSv1"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 1, "sts-record-version", NULL},
    {"STS-TXT-2 T3: V=STSv1 (upper-case v)", S("V=STSv1; id=1"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 1, "sts-record-version", NULL},
    {"STS-TXT-2 T3: v=stsv1 (lower case)", S("v=stsv1; id=1"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 1, "sts-record-version", NULL},
    {"STS-TXT-2 T3: v=STSV1 (upper-case V)", S("v=STSV1; id=1"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 1, "sts-record-version", NULL},
    {"STS-TXT-2 T4: v=STSv10 is not v=STSv1", S("v=STSv10; id=1"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 8, "sts-record-version", NULL},
    {"STS-TXT-2 T4: v=STSv1 followed by text", S("v=STSv1 x; id=1"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 9, "sts-record-version", NULL},
    {"STS-TXT-2: the empty record", S(""), NULL, -1, NULL, MTS_ERR_SYNTAX, 1,
     "sts-record-version", NULL},
    {"STS-TXT-2: v=STSv2", S("v=STSv2;id=foo;include=foo.com"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 1, "sts-record-version", NULL},

    /* STS-TXT-3: at least one field follows; id is required. */
    {"STS-TXT-3 T1: v=STSv1 alone", S("v=STSv1"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 8, "sts-record-no-fields", NULL},
    {"STS-TXT-3 T2: v=STSv1; alone", S("v=STSv1;"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 8, "sts-record-no-fields", NULL},
    {"STS-TXT-3 T2: v=STSv1 ;  (WSP both sides)", S("v=STSv1 ;  "), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 0, "sts-record-no-fields", NULL},
    {"STS-TXT-3 T3: no id", S("v=STSv1; foo=bar"), NULL, -1, NULL,
     MTS_ERR_INVALID, 0, "sts-record-id-missing", "sts-record-extension"},
    {"STS-TXT-3 T3: ID= is not id= (case-sensitive)", S("v=STSv1; ID=1"), NULL,
     -1, NULL, MTS_ERR_INVALID, 0, "sts-record-id-missing",
     "sts-record-extension"},

    /* STS-TXT-4: id = 1*32(ALPHA / DIGIT). */
    {"STS-TXT-4 T1: the RFC example", S("v=STSv1; id=20160831085700Z;"), NULL,
     0, "20160831085700Z", MTS_OK, 0, "sts-record-id-not-timestamp", NULL},
    {"STS-TXT-4 T2: 32-character id",
     S("v=STSv1; id=abcdefghijABCDEFGHIJ0123456789xy"), NULL, 0,
     "abcdefghijABCDEFGHIJ0123456789xy", MTS_OK, 0, NULL, NULL},
    {"STS-TXT-4 T3: 33-character id",
     S("v=STSv1; id=012345678901234567890123456789012"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 13, "sts-record-id-syntax", NULL},
    {"STS-TXT-4 T4: empty id", S("v=STSv1; id="), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 13, "sts-record-id-syntax", NULL},
    {"STS-TXT-4 T5: dashes in the id", S("v=STSv1; id=2016-08-31"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 13, "sts-record-id-syntax", NULL},
    {"STS-TXT-4 T5: underscore in the id", S("v=STSv1; id=a_b"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 13, "sts-record-id-syntax", NULL},
    {"STS-TXT-4 T5: dot in the id", S("v=STSv1; id=a.b"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 13, "sts-record-id-syntax", NULL},
    {"STS-TXT-4: a timestamp id gives no info",
     S("v=STSv1; id=20260101T000000Z"), NULL, 0, "20260101T000000Z", MTS_OK, 0,
     NULL, NULL},

    /* STS-TXT-5: field-delim = *WSP ";" *WSP, one trailing delimiter. */
    {"STS-TXT-5 T1: no WSP", S("v=STSv1;id=1"), NULL, 0, "1", MTS_OK, 0, NULL,
     NULL},
    {"STS-TXT-5 T2: HTAB after the delimiter", S("v=STSv1;\tid=1"), NULL, 0,
     "1", MTS_OK, 0, NULL, NULL},
    {"STS-TXT-5 T3: trailing delimiter with WSP", S("v=STSv1; id=1 ;  "), NULL,
     0, "1", MTS_OK, 0, NULL, NULL},
    {"STS-TXT-5 T3: WSP and HTAB around delimiters",
     S("v=STSv1; \t id=20160831085700Z  \t;"), NULL, 0, "20160831085700Z",
     MTS_OK, 0, NULL, NULL},
    {"STS-TXT-5 T4: empty field after the trailing delimiter",
     S("v=STSv1; id=1;;"), NULL, -1, NULL, MTS_ERR_SYNTAX, 15,
     "sts-record-empty-field", NULL},
    {"STS-TXT-5 T4: three delimiters", S("v=STSv1; id=20160831085700Z;;;"),
     NULL, -1, NULL, MTS_ERR_SYNTAX, 29, "sts-record-empty-field", NULL},
    {"STS-TXT-5 T5: empty field after the version", S("v=STSv1;; id=1"), NULL,
     -1, NULL, MTS_ERR_SYNTAX, 9, "sts-record-empty-field", NULL},
    {"STS-TXT-5 T5: empty field of WSP", S("v=STSv1; id=1; ; x=y"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 16, "sts-record-empty-field", NULL},
    {"STS-TXT-5 T6: WSP before the first ; (A2: valid, warned)",
     S("v=STSv1 ; id=1"), NULL, 0, "1", MTS_OK, 0,
     "sts-record-space-before-delim", NULL},
    {"STS-TXT-5 T6: WSP and HTAB before the first ; (A2)",
     S("v=STSv1 \t; \tid=policy1 \t;"), NULL, 0, "policy1", MTS_OK, 0,
     "sts-record-space-before-delim", NULL},

    /* STS-TXT-6: no WSP around "=", before v=, or trailing without ;. */
    {"STS-TXT-6 T1: WSP around = in the version", S("v = STSv1; id=1"), NULL,
     -1, NULL, MTS_ERR_SYNTAX, 1, "sts-record-version", NULL},
    {"STS-TXT-6 T1: WSP around = in the id", S("v=STSv1; id = 1"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 10, "sts-record-field-syntax", NULL},
    {"STS-TXT-6 T2: leading SP", S(" v=STSv1; id=1"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 1, "sts-record-version", NULL},
    {"STS-TXT-6 T3: trailing SP trimmed (A3: valid, warned)",
     S("v=STSv1; id=1 "), NULL, 0, "1", MTS_OK, 0, "sts-record-trailing-space",
     NULL},
    {"STS-TXT-6 T3: trailing SP and HTAB trimmed (A3)",
     S("v=STSv1;        id=20160831085700Z  \t "), NULL, 0, "20160831085700Z",
     MTS_OK, 0, "sts-record-trailing-space", NULL},
    {"STS-TXT-6: WSP only", S("   "), NULL, -1, NULL, MTS_ERR_SYNTAX, 1,
     "sts-record-version", NULL},
    {"STS-TXT-6: delimiters only", S(" ;   ;  "), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 1, "sts-record-version", NULL},

    /* STS-TXT-7: extensions, ignored when well-formed. */
    {"STS-TXT-7 T1: unknown field ignored", S("v=STSv1; id=1; foo=bar"), NULL,
     0, "1", MTS_OK, 0, "sts-record-extension", NULL},
    {"STS-TXT-7 T2: name with . - _", S("v=STSv1; id=1; a.b-c_d=x"), NULL, 0,
     "1", MTS_OK, 0, "sts-record-extension", NULL},
    {"STS-TXT-7 T3: name starting with _", S("v=STSv1; id=1; _foo=x"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 16, "sts-record-field-syntax", NULL},
    {"STS-TXT-7 T4: 33-character name",
     S("v=STSv1; id=a; a12345678901234567890123456789012=1"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 16, "sts-record-field-syntax", NULL},
    {"STS-TXT-7 T4: 32-character name",
     S("v=STSv1; id=a; a1234567890123456789012345678901=1"), NULL, 0, "a",
     MTS_OK, 0, "sts-record-extension", NULL},
    {"STS-TXT-7 T5: empty value", S("v=STSv1; id=1; foo="), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 16, "sts-record-field-syntax", NULL},
    {"STS-TXT-7 T6: = in the value", S("v=STSv1; id=1; foo=a=b"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 16, "sts-record-field-syntax", NULL},
    {"STS-TXT-7 T7: SP in the value", S("v=STSv1; id=1; foo=a b"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 16, "sts-record-field-syntax", NULL},
    {"STS-TXT-7 T7: SP inside the id field",
     S("v=STSv1;    id=foo include=foo.com"), NULL, -1, NULL, MTS_ERR_SYNTAX,
     13, "sts-record-field-syntax", NULL},
    {"STS-TXT-7: field without =", S("v=STSv1; bogus"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 10, "sts-record-field-syntax", NULL},
    {"STS-TXT-7: % in a name", S("v=STSv1; id=a; 1%=a"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 16, "sts-record-field-syntax", NULL},

    /* STS-TXT-8: only the version's place is fixed. */
    {"STS-TXT-8 T1: id after an extension", S("v=STSv1; foo=bar; id=42"), NULL,
     0, "42", MTS_OK, 0, "sts-record-extension", NULL},

    /* STS-TXT-9: US-ASCII only. */
    {"STS-TXT-9 T1: UTF-8 in a value", S("v=STSv1; id=1; n=caf\xC3\xA9"), NULL,
     -1, NULL, MTS_ERR_SYNTAX, 21, "sts-record-not-ascii", NULL},
    {"STS-TXT-9 T2: DEL in the id", S("v=STSv1; id=1\x7F"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 14, "sts-record-not-ascii", NULL},
    {"STS-TXT-9: NUL inside the length", S("v=STSv1; id=1\0x"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 14, "sts-record-not-ascii", NULL},
    {"STS-TXT-9: NUL after a valid record", S("v=STSv1; id=1\0"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 14, "sts-record-not-ascii", NULL},
    {"STS-TXT-9: CR at the end", S("v=STSv1; id=1\r"), NULL, -1, NULL,
     MTS_ERR_SYNTAX, 14, "sts-record-not-ascii", NULL},

    /* STS-TXT-12: the caller joins the strings of one RR, no spaces. */
    {"STS-TXT-12 T1: id split over two strings", S("v=STSv1; id=20"), "190101",
     0, "20190101", MTS_OK, 0, NULL, NULL},
    {"STS-TXT-12 T2: the second string begins with SP", S("v=STSv1;"), " id=1",
     0, "1", MTS_OK, 0, NULL, NULL},
    {"STS-TXT-12 T3: the second string begins with ;", S("v=STSv1; id=1"),
     "; foo=bar", 0, "1", MTS_OK, 0, "sts-record-extension", NULL},
    {"STS-TXT-12: id= and its value in two strings", S("v=STSv1; id="),
     "policy1;", 0, "policy1", MTS_OK, 0, NULL, NULL},

    /* STS-TXT-16 (§24 A24): a duplicated id, the first wins. */
    {"STS-TXT-16 T1: the first id wins", S("v=STSv1; id=1; id=2"), NULL, 0, "1",
     MTS_OK, 0, "sts-record-id-duplicate", NULL},
    {"STS-TXT-16: a malformed second id is an error (A6)",
     S("v=STSv1; id=1; id=b-2"), NULL, -1, NULL, MTS_ERR_SYNTAX, 19,
     "sts-record-id-syntax", NULL},

    /* The first error sets err; every error is a finding. */
    {"STS-TXT-5: two errors, the first in err", S("v=STSv1;; id=a b"), NULL, -1,
     NULL, MTS_ERR_SYNTAX, 9, "sts-record-empty-field",
     "sts-record-field-syntax"},
};

/* True when diag holds a finding with this code. */
static bool
has_code(const struct mts_diag *diag, const char *code)
{
	size_t i;

	for (i = 0; i < diag->count; i++)
		if (strcmp(diag->items[i].code, code) == 0)
			return true;
	return false;
}

static void
run_case(const struct rec_case *c)
{
	char buf[256];
	const char *txt = c->input;
	size_t len = c->len;
	struct mts_sts_record rec, before;
	struct mts_diag diag;
	struct mts_err err;
	int rc, rc2;

	if (c->part2 != NULL) {
		len = (size_t)snprintf(buf, sizeof(buf), "%s%s", c->input,
		                       c->part2);
		txt = buf;
	}
	memset(&rec, 'X', sizeof(rec));
	before = rec;
	memset(&err, 0, sizeof(err));
	mts_diag_init(&diag);
	rc = mts_sts_record_parse(txt, len, &rec, &diag, &err);
	rc2 = mts_sts_record_parse(txt, len, &rec, NULL, NULL);
	if (c->want_rc == 0)
		tap_ok(rc == 0 && rc2 == 0 && tap_streq(rec.id, c->want_id) &&
		           mts_diag_count(&diag, MTS_SEV_ERROR) == 0,
		       "%s: valid, id %s", c->name, c->want_id);
	else
		tap_ok(rc == -1 && rc2 == -1 && err.code == c->want_err &&
		           err.line == 0 && err.msg != NULL &&
		           (c->want_col == 0 || err.column == c->want_col) &&
		           mts_diag_count(&diag, MTS_SEV_ERROR) >= 1 &&
		           memcmp(&rec, &before, sizeof(rec)) == 0,
		       "%s: invalid (%s, column %u), out untouched", c->name,
		       mts_strerror(err.code), err.column);
	if (c->want_code != NULL)
		tap_ok(has_code(&diag, c->want_code), "%s: finding %s", c->name,
		       c->want_code);
	if (c->want_code2 != NULL)
		tap_ok(has_code(&diag, c->want_code2), "%s: finding %s",
		       c->name, c->want_code2);
	mts_diag_reset(&diag);
}

/* Findings a record must not have: a clean record is silent. */
static void
test_clean(void)
{
	struct mts_sts_record rec;
	struct mts_diag diag;

	mts_diag_init(&diag);
	tap_ok(mts_sts_record_parse(S("v=STSv1; id=20260101T000000Z;"), &rec,
	                            &diag, NULL) == 0 &&
	           diag.count == 0,
	       "STS-TXT-4 T1: a timestamp id with a trailing ; has no finding");
	mts_diag_reset(&diag);
	tap_ok(mts_sts_record_parse(S("v=STSv1; id=1 ;  "), &rec, &diag,
	                            NULL) == 0 &&
	           !has_code(&diag, "sts-record-trailing-space"),
	       "STS-TXT-5 T3: WSP after the trailing ; is no A3 warning");
	mts_diag_reset(&diag);
}

/* The MTS_STS_RECORD_MAX cap: the length, not the content, decides. */
static void
test_cap(void)
{
	static char big[MTS_STS_RECORD_MAX + 2];
	struct mts_sts_record rec;
	struct mts_diag diag;
	struct mts_err err;
	size_t n = MTS_STS_RECORD_MAX;

	memcpy(big, "v=STSv1; id=1; x=", 17);
	memset(big + 17, 'a', sizeof(big) - 17);
	mts_diag_init(&diag);
	tap_ok(mts_sts_record_parse(big, n, &rec, &diag, &err) == 0 &&
	           strcmp(rec.id, "1") == 0,
	       "STS-TXT-2: a record of exactly %zu octets is valid", n);
	tap_ok(mts_sts_record_parse(big, n + 1, &rec, &diag, &err) == -1 &&
	           err.code == MTS_ERR_TOOBIG &&
	           has_code(&diag, "sts-record-too-long"),
	       "STS-TXT-2: %zu octets is over the cap (sts-record-too-long)",
	       n + 1);
	mts_diag_reset(&diag);
	tap_ok(mts_sts_record_parse(NULL, 1, &rec, NULL, &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "STS-TXT-2: NULL record with a length is MTS_ERR_ARG");
	tap_ok(mts_sts_record_parse(NULL, 0, &rec, NULL, &err) == -1 &&
	           err.code == MTS_ERR_SYNTAX,
	       "STS-TXT-2: NULL empty record is the empty record");
}

static const struct cand_case {
	const char *name;
	const char *input;
	size_t len;
	bool want;
} cand_cases[] = {
    {"STS-TXT-10: v=STSv1; is a candidate", S("v=STSv1;id=1"), true},
    {"STS-TXT-10: v=STSv1 ; is a candidate (A2, tolerant filter)",
     S("v=STSv1 ; id=1"), true},
    {"STS-TXT-10: v=STSv1<HTAB>; is a candidate (A2)", S("v=STSv1\t;"), true},
    {"STS-TXT-10: v=STSv10; is not (A2: never v=STSv10)", S("v=STSv10; id=1"),
     false},
    {"STS-TXT-10: v=STSv1 without ; is not", S("v=STSv1"), false},
    {"STS-TXT-10: v=STSv1 and WSP only is not", S("v=STSv1  "), false},
    {"STS-TXT-10: v=stsv1; is not (case-sensitive)", S("v=stsv1; id=1"), false},
    {"STS-TXT-10: leading SP is not", S(" v=STSv1; id=1"), false},
    {"STS-TXT-10: spf is not", S("v=spf1 -all"), false},
    {"STS-TXT-10: a truncated prefix is not", S("v=STS"), false},
};

static void
test_candidates(void)
{
	size_t i;

	for (i = 0; i < sizeof(cand_cases) / sizeof(cand_cases[0]); i++) {
		const struct cand_case *c = &cand_cases[i];

		tap_ok(mts_sts_record_is_candidate(c->input, c->len) == c->want,
		       "%s", c->name);
	}
	tap_ok(!mts_sts_record_is_candidate(NULL, 0),
	       "STS-TXT-10: NULL is no candidate");
}

static const struct select_case {
	const char *name;
	const char *rrset; /* records separated by "\n"; NULL: none */
	int want_rc;
	size_t want_index;
	enum mts_errcode want_err;
} select_cases[] = {
    {"STS-TXT-10 T1: one STS record among others",
     "v=STSv1; id=1\ngoogle-site-verification=xyz", 0, 0, MTS_OK},
    {"STS-TXT-10 T1: the STS record second",
     "verification=abc\nv=STSv1; id=policy1;", 0, 1, MTS_OK},
    {"STS-TXT-10 T2: two STS records, neither is picked",
     "v=STSv1; id=1\nv=STSv1; id=2", -1, 0, MTS_ERR_MULTIPLE},
    {"STS-TXT-10 T2: two STS records among three",
     "v=STSv1; id=1\nx\nv=STSv1 ; id=2", -1, 0, MTS_ERR_MULTIPLE},
    {"STS-TXT-10 T3: no STS record", "hello", -1, 0, MTS_ERR_NOTFOUND},
    {"STS-TXT-10 T3: no STS record among two", "bogus\nmore", -1, 0,
     MTS_ERR_NOTFOUND},
    {"STS-TXT-10 T4: v=STSv1 ; beside spf (A2: tolerant, kept)",
     "v=STSv1 ; id=1\nspf stuff", 0, 0, MTS_OK},
    {"STS-TXT-10: v=STSv10 is filtered out", "v=STSv10; id=1", -1, 0,
     MTS_ERR_NOTFOUND},
    {"STS-TXT-10: an invalid candidate still counts",
     "v=STSv1; id=1\nv=STSv1;;", -1, 0, MTS_ERR_MULTIPLE},
    {"STS-TXT-10: the empty RRset", NULL, -1, 0, MTS_ERR_NOTFOUND},
};

/*
 * Splits an RRset written as one string, its records separated by "\n"
 * (NULL: an empty answer), into the arrays the selection takes.
 */
static size_t
rrset(const char *s, const char **txts, size_t *lens, size_t max)
{
	size_t n = 0;

	while (s != NULL && n < max) {
		const char *nl = strchr(s, '\n');

		txts[n] = s;
		lens[n] = nl != NULL ? (size_t)(nl - s) : strlen(s);
		n++;
		s = nl != NULL ? nl + 1 : NULL;
	}
	return n;
}

static void
test_select(void)
{
	size_t i;

	for (i = 0; i < sizeof(select_cases) / sizeof(select_cases[0]); i++) {
		const struct select_case *c = &select_cases[i];
		const char *txts[4];
		size_t lens[4], n, index = 99;
		struct mts_err err;
		int rc;

		n = rrset(c->rrset, txts, lens, 4);
		memset(&err, 0, sizeof(err));
		rc = mts_sts_record_select(txts, lens, n, &index, &err);
		if (c->want_rc == 0)
			tap_ok(rc == 0 && index == c->want_index,
			       "%s: record %zu", c->name, c->want_index);
		else
			tap_ok(rc == -1 && err.code == c->want_err &&
			           index == 99 && err.msg != NULL,
			       "%s: %s", c->name, mts_strerror(c->want_err));
	}
	tap_ok(mts_sts_record_select(NULL, NULL, 1, NULL, NULL) == -1,
	       "STS-TXT-10: NULL RRset with n > 0 fails");
}

static const struct qname_case {
	const char *name;
	const char *domain;
	size_t size;
	const char *want; /* NULL: fails with want_err */
	enum mts_errcode want_err;
} qname_cases[] = {
    {"STS-TXT-1 T1: _mta-sts.example.com", "example.com", 64,
     "_mta-sts.example.com", MTS_OK},
    {"STS-TXT-1 T2: Example.COM. lower-cased, no double dot", "Example.COM.",
     64, "_mta-sts.example.com", MTS_OK},
    {"STS-TXT-1: a single-label domain", "example", 64, "_mta-sts.example",
     MTS_OK},
    {"STS-TXT-1: buffer exactly large enough", "example.com", 21,
     "_mta-sts.example.com", MTS_OK},
    {"STS-TXT-1: buffer one byte short", "example.com", 20, NULL,
     MTS_ERR_TOOBIG},
    {"STS-TXT-1: empty domain", "", 64, NULL, MTS_ERR_ARG},
    {"STS-TXT-1: the root", ".", 64, NULL, MTS_ERR_ARG},
    {"STS-TXT-1: two trailing dots", "example.com..", 64, NULL, MTS_ERR_ARG},
    {"STS-TXT-1: empty label", "example..com", 64, NULL, MTS_ERR_ARG},
    {"STS-TXT-1: a U-label",
     "b\xC3\xBC"
     "cher.example",
     64, NULL, MTS_ERR_ARG},
    {"STS-TXT-1: a space", "exa mple.com", 64, NULL, MTS_ERR_ARG},
    {"STS-TXT-1: NULL domain", NULL, 64, NULL, MTS_ERR_ARG},
};

static void
test_qname(void)
{
	size_t i;

	for (i = 0; i < sizeof(qname_cases) / sizeof(qname_cases[0]); i++) {
		const struct qname_case *c = &qname_cases[i];
		char buf[64];
		struct mts_err err;
		int rc;

		memset(buf, 'X', sizeof(buf));
		memset(&err, 0, sizeof(err));
		rc = mts_sts_record_qname(c->domain, buf, c->size, &err);
		if (c->want != NULL)
			tap_ok(rc == 0 && strcmp(buf, c->want) == 0, "%s",
			       c->name);
		else
			tap_ok(rc == -1 && err.code == c->want_err &&
			           buf[0] == 'X',
			       "%s: %s, buf untouched", c->name,
			       mts_strerror(c->want_err));
	}
}

/* The query name stays within the 253 octets of a DNS name. */
static void
test_qname_long(void)
{
	char domain[256], buf[300];
	struct mts_err err;
	size_t i;

	/* 244 octets: labels of 61 octets and dots: _mta-sts. adds 9. */
	for (i = 0; i < 244; i++)
		domain[i] = (i % 62 == 61) ? '.' : 'a';
	domain[244] = '\0';
	tap_ok(mts_sts_record_qname(domain, buf, sizeof(buf), &err) == 0 &&
	           strlen(buf) == 253,
	       "STS-TXT-1: a 244-octet domain gives a 253-octet name");
	domain[244] = 'a';
	domain[245] = '\0';
	tap_ok(mts_sts_record_qname(domain, buf, sizeof(buf), &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "STS-TXT-1: a 245-octet domain gives no query name");
	tap_ok(mts_sts_record_qname("example.com", NULL, 0, &err) == -1 &&
	           err.code == MTS_ERR_TOOBIG,
	       "STS-TXT-1: no buffer is MTS_ERR_TOOBIG");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_clean();
	test_cap();
	test_candidates();
	test_select();
	test_qname();
	test_qname_long();
	return tap_done();
}
