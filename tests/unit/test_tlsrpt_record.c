/* SPDX-License-Identifier: ISC */
/*
 * Tests of tlsrpt_record.c: the _smtp._tls TXT record of RFC 8460 §3
 * (checklist section 12, RPT-TXT-1..14), the RFC 3986 URI check of the
 * rua destinations, the positions on §24 A2, A3 and A15, and the
 * ownership of the parsed record.  Each row names the checklist id and
 * test input it covers.
 */
#include <mtasts/tlsrpt.h>

#include "tap.h"

/* Tell a string's length from the literal, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1

static const struct rec_case {
	const char *name;
	const char *input;
	size_t len;
	const char *part2; /* a second TXT string the caller appends */
	int want_rc;
	const char *want_rua; /* on success: the URIs in order, SP-separated */
	enum mts_tlsrpt_scheme want_scheme; /* of the first destination */
	enum mts_errcode want_err;          /* on failure */
	unsigned want_col;                  /* err->column; 0: not checked */
	const char *want_code;              /* a finding that must be present */
	const char *want_code2;             /* another one, or NULL */
} cases[] = {
    /* RPT-TXT-2: begins with the case-sensitive v=TLSRPTv1. */
    {"RPT-TXT-2 T1: the RFC example",
     S("v=TLSRPTv1;rua=mailto:reports@example.com"), NULL, 0,
     "mailto:reports@example.com", MTS_TLSRPT_MAILTO, MTS_OK, 0, NULL, NULL},
    {"RPT-TXT-2 T2: an https destination",
     S("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt"), NULL, 0,
     "https://reporting.example.com/v1/tlsrpt", MTS_TLSRPT_HTTPS, MTS_OK, 0,
     NULL, NULL},
    {"RPT-TXT-2 T3: lower-case version",
     S("v=tlsrptv1; rua=mailto:a@example.com"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 1, "tlsrpt-record-version", NULL},
    {"RPT-TXT-2 T3: version not first",
     S("rua=mailto:a@example.com; v=TLSRPTv1"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 1, "tlsrpt-record-version", NULL},
    {"RPT-TXT-2 T3: v=TLSRPTv2", S("v=TLSRPTv2; rua=mailto:a@example.com"),
     NULL, -1, NULL, 0, MTS_ERR_SYNTAX, 1, "tlsrpt-record-version", NULL},
    {"RPT-TXT-2: v=TLSRPTv10 is not v=TLSRPTv1",
     S("v=TLSRPTv10; rua=mailto:a@example.com"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 11, "tlsrpt-record-version", NULL},
    {"RPT-TXT-2: the empty record", S(""), NULL, -1, NULL, 0, MTS_ERR_SYNTAX, 1,
     "tlsrpt-record-version", NULL},
    {"RPT-TXT-2: WSP before the first ; (A2: valid, warned)",
     S("v=TLSRPTv1 ; rua=mailto:a@example.com"), NULL, 0,
     "mailto:a@example.com", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     "tlsrpt-record-space-before-delim", NULL},
    {"RPT-TXT-2: trailing WSP trimmed (A3: valid, warned)",
     S("v=TLSRPTv1; rua=mailto:a@example.com \t"), NULL, 0,
     "mailto:a@example.com", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     "tlsrpt-record-trailing-space", NULL},
    {"RPT-TXT-2: trailing delimiter",
     S("v=TLSRPTv1; rua=mailto:a@example.com;"), NULL, 0,
     "mailto:a@example.com", MTS_TLSRPT_MAILTO, MTS_OK, 0, NULL, NULL},
    {"RPT-TXT-2: UTF-8 in the record",
     S("v=TLSRPTv1; rua=mailto:r\xC3\xA9@example.com"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 25, "tlsrpt-record-not-ascii", NULL},
    {"RPT-TXT-2: NUL inside the length",
     S("v=TLSRPTv1; rua=mailto:a@example.com\0"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 37, "tlsrpt-record-not-ascii", NULL},

    /* RPT-TXT-3: at least one field after the version. */
    {"RPT-TXT-3 T1: v=TLSRPTv1 alone", S("v=TLSRPTv1"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 0, "tlsrpt-record-no-fields", NULL},
    {"RPT-TXT-3 T1: v=TLSRPTv1; alone", S("v=TLSRPTv1;"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 0, "tlsrpt-record-no-fields", NULL},
    {"RPT-TXT-3: empty field", S("v=TLSRPTv1;; rua=mailto:a@example.com"), NULL,
     -1, NULL, 0, MTS_ERR_SYNTAX, 12, "tlsrpt-record-empty-field", NULL},

    /* RPT-TXT-4: rua is required (§24 A15). */
    {"RPT-TXT-4 T1: no rua", S("v=TLSRPTv1; foo=bar"), NULL, -1, NULL, 0,
     MTS_ERR_INVALID, 0, "tlsrpt-record-rua-missing",
     "tlsrpt-record-extension"},

    /* RPT-TXT-5: a comma-separated URI list, WSP around the commas. */
    {"RPT-TXT-5 T1: two destinations, SP after the comma",
     S("v=TLSRPTv1; rua=mailto:a@example.com, https://r.example/v1"), NULL, 0,
     "mailto:a@example.com https://r.example/v1", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     NULL, NULL},
    {"RPT-TXT-5 T2: two mailto destinations",
     S("v=TLSRPTv1; rua=mailto:a@example.com,mailto:b@example.com"), NULL, 0,
     "mailto:a@example.com mailto:b@example.com", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     NULL, NULL},
    {"RPT-TXT-5: HTAB and SP on both sides of the comma",
     S("v=TLSRPTv1; rua=mailto:a@example.com \t,\t https://r.example/"), NULL,
     0, "mailto:a@example.com https://r.example/", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     NULL, NULL},
    {"RPT-TXT-5 T3: empty URI after the comma",
     S("v=TLSRPTv1; rua=mailto:a@example.com ,"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 39, "tlsrpt-record-rua-empty", NULL},
    {"RPT-TXT-5: empty URI between commas",
     S("v=TLSRPTv1; rua=mailto:a@example.com,,mailto:b@example.com"), NULL, -1,
     NULL, 0, MTS_ERR_SYNTAX, 38, "tlsrpt-record-rua-empty", NULL},
    {"RPT-TXT-5: empty rua", S("v=TLSRPTv1; rua="), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 17, "tlsrpt-record-rua-empty", NULL},
    {"RPT-TXT-5: WSP after rua=", S("v=TLSRPTv1; rua= mailto:a@example.com"),
     NULL, -1, NULL, 0, MTS_ERR_SYNTAX, 17, "tlsrpt-record-uri-syntax", NULL},
    {"RPT-TXT-5: SP inside a URI", S("v=TLSRPTv1; rua=mailto:a b@example.com"),
     NULL, -1, NULL, 0, MTS_ERR_SYNTAX, 17, "tlsrpt-record-uri-syntax", NULL},
    {"RPT-TXT-5: a URI without a scheme", S("v=TLSRPTv1; rua=a@example.com"),
     NULL, -1, NULL, 0, MTS_ERR_SYNTAX, 17, "tlsrpt-record-uri-syntax", NULL},
    {"RPT-TXT-5: a repeated URI is kept once (A15)",
     S("v=TLSRPTv1; rua=mailto:a@example.com,MAILTO:a@example.com"), NULL, 0,
     "mailto:a@example.com", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     "tlsrpt-record-uri-repeated", NULL},

    /* RPT-TXT-6: several rua fields are merged (§24 A15). */
    {"RPT-TXT-6 T1: two rua fields, union of destinations",
     S("v=TLSRPTv1; rua=mailto:a@x.example; rua=https://r.example/"), NULL, 0,
     "mailto:a@x.example https://r.example/", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     "tlsrpt-record-rua-duplicate", NULL},
    {"RPT-TXT-6: the same URI in two rua fields",
     S("v=TLSRPTv1; rua=mailto:a@x.example; rua=mailto:a@x.example"), NULL, 0,
     "mailto:a@x.example", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     "tlsrpt-record-rua-duplicate", "tlsrpt-record-uri-repeated"},

    /* RPT-TXT-7: ",", "!" and ";" are percent-encoded in URIs. */
    {"RPT-TXT-7 T1: an encoded comma",
     S("v=TLSRPTv1; rua=https://r.example/a%2Cb"), NULL, 0,
     "https://r.example/a%2Cb", MTS_TLSRPT_HTTPS, MTS_OK, 0, NULL, NULL},
    {"RPT-TXT-7 T2: an unencoded ; ends the field",
     S("v=TLSRPTv1; rua=https://r.example/x;y"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 37, "tlsrpt-record-field-syntax", NULL},
    {"RPT-TXT-7 T3: a DMARC size suffix ! drops the URI",
     S("v=TLSRPTv1; rua=mailto:reports@example.com!10m"), NULL, -1, NULL, 0,
     MTS_ERR_INVALID, 0, "tlsrpt-record-uri-unencoded",
     "tlsrpt-record-no-usable-rua"},
    {"RPT-TXT-7 T3: the other destination stays",
     S("v=TLSRPTv1; rua=mailto:a@example.com!10m,https://r.example/"), NULL, 0,
     "https://r.example/", MTS_TLSRPT_HTTPS, MTS_OK, 0,
     "tlsrpt-record-uri-unencoded", NULL},
    {"RPT-TXT-7: an unencoded comma splits the URI",
     S("v=TLSRPTv1; rua=https://r.example/a,b"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 37, "tlsrpt-record-uri-syntax", NULL},
    {"RPT-TXT-7: an encoded ! is fine",
     S("v=TLSRPTv1; rua=https://r.example/a%21b"), NULL, 0,
     "https://r.example/a%21b", MTS_TLSRPT_HTTPS, MTS_OK, 0, NULL, NULL},

    /* RPT-TXT-8: only mailto and https. */
    {"RPT-TXT-8 T1: http is dropped, none left",
     S("v=TLSRPTv1; rua=http://r.example/"), NULL, -1, NULL, 0, MTS_ERR_INVALID,
     0, "tlsrpt-record-uri-scheme", "tlsrpt-record-no-usable-rua"},
    {"RPT-TXT-8 T1: http is dropped, mailto stays",
     S("v=TLSRPTv1; rua=http://r.example/,mailto:a@example.com"), NULL, 0,
     "mailto:a@example.com", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     "tlsrpt-record-uri-scheme", NULL},
    {"RPT-TXT-8 T2: ftp is dropped", S("v=TLSRPTv1; rua=ftp://r.example/x"),
     NULL, -1, NULL, 0, MTS_ERR_INVALID, 0, "tlsrpt-record-uri-scheme",
     "tlsrpt-record-no-usable-rua"},
    {"RPT-TXT-8 T3: MAILTO: is mailto (kept as written)",
     S("v=TLSRPTv1; rua=MAILTO:a@example.com"), NULL, 0, "MAILTO:a@example.com",
     MTS_TLSRPT_MAILTO, MTS_OK, 0, NULL, NULL},
    {"RPT-TXT-8: HTTPS: is https", S("v=TLSRPTv1; rua=HTTPS://r.example/"),
     NULL, 0, "HTTPS://r.example/", MTS_TLSRPT_HTTPS, MTS_OK, 0, NULL, NULL},
    {"RPT-TXT-8: mailto without @",
     S("v=TLSRPTv1; rua=mailto:reports.example.com"), NULL, -1, NULL, 0,
     MTS_ERR_INVALID, 0, "tlsrpt-record-uri-unusable",
     "tlsrpt-record-no-usable-rua"},
    {"RPT-TXT-8: mailto without local part",
     S("v=TLSRPTv1; rua=mailto:@example.com"), NULL, -1, NULL, 0,
     MTS_ERR_INVALID, 0, "tlsrpt-record-uri-unusable", NULL},
    {"RPT-TXT-8: mailto with an empty domain", S("v=TLSRPTv1; rua=mailto:a@"),
     NULL, -1, NULL, 0, MTS_ERR_INVALID, 0, "tlsrpt-record-uri-unusable", NULL},
    {"RPT-TXT-8: mailto with hfields",
     S("v=TLSRPTv1; rua=mailto:a@example.com?subject=tlsrpt"), NULL, 0,
     "mailto:a@example.com?subject=tlsrpt", MTS_TLSRPT_MAILTO, MTS_OK, 0, NULL,
     NULL},
    {"RPT-TXT-8: mailto with two encoded-comma addresses",
     S("v=TLSRPTv1; rua=mailto:a@example.com%2cb@example.net"), NULL, 0,
     "mailto:a@example.com%2cb@example.net", MTS_TLSRPT_MAILTO, MTS_OK, 0, NULL,
     NULL},
    {"RPT-TXT-8: mailto, the second address has no domain",
     S("v=TLSRPTv1; rua=mailto:a@example.com%2Cb"), NULL, -1, NULL, 0,
     MTS_ERR_INVALID, 0, "tlsrpt-record-uri-unusable", NULL},
    {"RPT-TXT-8: mailto://", S("v=TLSRPTv1; rua=mailto://a@example.com"), NULL,
     -1, NULL, 0, MTS_ERR_INVALID, 0, "tlsrpt-record-uri-unusable", NULL},
    {"RPT-TXT-8: https without authority",
     S("v=TLSRPTv1; rua=https:r.example/x"), NULL, -1, NULL, 0, MTS_ERR_INVALID,
     0, "tlsrpt-record-uri-unusable", NULL},
    {"RPT-TXT-8: https with an empty host", S("v=TLSRPTv1; rua=https:///x"),
     NULL, -1, NULL, 0, MTS_ERR_INVALID, 0, "tlsrpt-record-uri-unusable", NULL},
    {"RPT-TXT-8: https host with a bad label",
     S("v=TLSRPTv1; rua=https://-r.example/"), NULL, -1, NULL, 0,
     MTS_ERR_INVALID, 0, "tlsrpt-record-uri-unusable", NULL},
    {"RPT-TXT-8: https with userinfo, port, query, fragment",
     S("v=TLSRPTv1; rua=https://u:p@r.example:8443/a/b?c=d&e#f"), NULL, 0,
     "https://u:p@r.example:8443/a/b?c=d&e#f", MTS_TLSRPT_HTTPS, MTS_OK, 0,
     NULL, NULL},
    {"RPT-TXT-8: https to an IPv6 literal",
     S("v=TLSRPTv1; rua=https://[2001:db8::1]/tlsrpt"), NULL, 0,
     "https://[2001:db8::1]/tlsrpt", MTS_TLSRPT_HTTPS, MTS_OK, 0, NULL, NULL},
    {"RPT-TXT-8: https to an IPv4 address",
     S("v=TLSRPTv1; rua=https://192.0.2.1/"), NULL, 0, "https://192.0.2.1/",
     MTS_TLSRPT_HTTPS, MTS_OK, 0, NULL, NULL},

    /* RPT-TXT-10: the caller joins the strings of one RR, no spaces. */
    {"RPT-TXT-10 T1: a URI split over two strings",
     S("v=TLSRPTv1; rua=mailto:rep"), "orts@example.com", 0,
     "mailto:reports@example.com", MTS_TLSRPT_MAILTO, MTS_OK, 0, NULL, NULL},

    /* RPT-TXT-11: unknown extensions are ignored when well-formed. */
    {"RPT-TXT-11 T1: x-foo=1 ignored",
     S("v=TLSRPTv1; rua=mailto:a@example.com; x-foo=1"), NULL, 0,
     "mailto:a@example.com", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     "tlsrpt-record-extension", NULL},
    {"RPT-TXT-11 T2: x foo=1 is no field",
     S("v=TLSRPTv1; rua=mailto:a@example.com; x foo=1"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 39, "tlsrpt-record-field-syntax", NULL},
    {"RPT-TXT-11: an extension with SP in the value",
     S("v=TLSRPTv1; rua=mailto:a@example.com; x=a b"), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 39, "tlsrpt-record-field-syntax", NULL},
    {"RPT-TXT-11: an extension with an empty value",
     S("v=TLSRPTv1; rua=mailto:a@example.com; x="), NULL, -1, NULL, 0,
     MTS_ERR_SYNTAX, 39, "tlsrpt-record-field-syntax", NULL},

    /* RPT-TXT-12: %s"rua=": case-sensitive, no WSP around "=". */
    {"RPT-TXT-12 T1: RUA= is an extension, so no rua",
     S("v=TLSRPTv1; RUA=mailto:a@example.com"), NULL, -1, NULL, 0,
     MTS_ERR_INVALID, 0, "tlsrpt-record-extension",
     "tlsrpt-record-rua-missing"},
    {"RPT-TXT-12 T2: WSP around =", S("v=TLSRPTv1; rua = mailto:a@example.com"),
     NULL, -1, NULL, 0, MTS_ERR_SYNTAX, 13, "tlsrpt-record-field-syntax", NULL},

    /* RPT-TXT-14: a destination outside the Policy Domain is fine. */
    {"RPT-TXT-14 T1: a third-party rua is kept",
     S("v=TLSRPTv1; rua=mailto:tls@reports.thirdparty.example"), NULL, 0,
     "mailto:tls@reports.thirdparty.example", MTS_TLSRPT_MAILTO, MTS_OK, 0,
     NULL, NULL},
};

/* RFC 3986 URI syntax, through https destinations. */
static const struct uri_case {
	const char *name;
	const char *uri;
	bool valid; /* grammatical: else tlsrpt-record-uri-syntax */
} uri_cases[] = {
    {"RPT-TXT-5 URI: IPv6 loopback", "https://[::1]/", true},
    {"RPT-TXT-5 URI: IPv6 unspecified", "https://[::]/", true},
    {"RPT-TXT-5 URI: IPv6 full", "https://[1:2:3:4:5:6:7:8]/", true},
    {"RPT-TXT-5 URI: IPv6 trailing ::", "https://[1::]/", true},
    {"RPT-TXT-5 URI: IPv6 with IPv4 tail", "https://[::ffff:192.0.2.1]/", true},
    {"RPT-TXT-5 URI: IPv6 6 groups + IPv4", "https://[1:2:3:4:5:6:1.2.3.4]/",
     true},
    {"RPT-TXT-5 URI: IPvFuture", "https://[v1.fe80::a+b]/", true},
    {"RPT-TXT-5 URI: IPv6 with a port", "https://[::1]:443/", true},
    {"RPT-TXT-5 URI: empty port", "https://r.example:/", true},
    {"RPT-TXT-5 URI: pct-encoded path", "https://r.example/%7Ea%20b", true},
    {"RPT-TXT-5 URI: sub-delims in the path",
     "https://r.example/$&'()*+=", true},
    {"RPT-TXT-5 URI: IPv6 nine groups", "https://[1:2:3:4:5:6:7:8:9]/", false},
    {"RPT-TXT-5 URI: IPv6 seven groups, no ::", "https://[1:2:3:4:5:6:7]/",
     false},
    {"RPT-TXT-5 URI: IPv6 two ::", "https://[1::2::3]/", false},
    {"RPT-TXT-5 URI: IPv6 :::", "https://[1:::2]/", false},
    {"RPT-TXT-5 URI: IPv6 leading single :", "https://[:1::2]/", false},
    {"RPT-TXT-5 URI: IPv6 trailing single :", "https://[1::2:]/", false},
    {"RPT-TXT-5 URI: IPv6 group of 5 digits", "https://[12345::1]/", false},
    {"RPT-TXT-5 URI: IPv6 non-hex", "https://[2001:db8::g]/", false},
    {"RPT-TXT-5 URI: IPv4 tail over 255", "https://[::ffff:192.0.2.256]/",
     false},
    {"RPT-TXT-5 URI: IPv4 tail with a leading zero",
     "https://[::ffff:192.0.2.01]/", false},
    {"RPT-TXT-5 URI: IPv4 tail not last", "https://[::1.2.3.4:1]/", false},
    {"RPT-TXT-5 URI: zone id (RFC 6874, not RFC 3986)",
     "https://[fe80::1%25eth0]/", false},
    {"RPT-TXT-5 URI: empty brackets", "https://[]/", false},
    {"RPT-TXT-5 URI: unclosed bracket", "https://[::1/", false},
    {"RPT-TXT-5 URI: text after ]", "https://[::1]x/", false},
    {"RPT-TXT-5 URI: bad port", "https://r.example:84a/", false},
    {"RPT-TXT-5 URI: bad percent-encoding", "https://r.example/%zz", false},
    {"RPT-TXT-5 URI: truncated percent-encoding", "https://r.example/%2",
     false},
    {"RPT-TXT-5 URI: [ in the path", "https://r.example/[x]", false},
    {"RPT-TXT-5 URI: \" in the query", "https://r.example/?\"", false},
    {"RPT-TXT-5 URI: two #", "https://r.example/#a#b", false},
    {"RPT-TXT-5 URI: scheme starting with a digit", "1https://r.example/",
     false},
    {"RPT-TXT-5 URI: empty scheme", "://r.example/", false},
    {"RPT-TXT-5 URI: @ in the host", "https://a@b@r.example/", false},
    {"RPT-TXT-5 URI: backslash", "https://r.example\\x/", false},
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

/* True when the record's URIs are, in order, the SP-separated want. */
static bool
rua_equal(const struct mts_tlsrpt_record *r, const char *want)
{
	size_t i, n;

	for (i = 0; i < r->rua_count; i++) {
		if (want == NULL)
			return false;
		n = strcspn(want, " ");
		if (strlen(r->rua[i].uri) != n ||
		    memcmp(r->rua[i].uri, want, n) != 0)
			return false;
		want = want[n] == ' ' ? want + n + 1 : NULL;
	}
	return want == NULL;
}

static void
run_case(const struct rec_case *c)
{
	char buf[256];
	const char *txt = c->input;
	size_t len = c->len;
	struct mts_tlsrpt_record rec, before, rec2;
	struct mts_diag diag;
	struct mts_err err;
	int rc, rc2;

	if (c->part2 != NULL) {
		len = (size_t)snprintf(buf, sizeof(buf), "%s%s", c->input,
		                       c->part2);
		txt = buf;
	}
	memset(&rec, 0xA5, sizeof(rec));
	before = rec;
	memset(&rec2, 0, sizeof(rec2));
	memset(&err, 0, sizeof(err));
	mts_diag_init(&diag);
	rc = mts_tlsrpt_record_parse(txt, len, &rec, &diag, &err);
	rc2 = mts_tlsrpt_record_parse(txt, len, &rec2, NULL, NULL);
	if (c->want_rc == 0) {
		tap_ok(rc == 0 && rc2 == 0 && rua_equal(&rec, c->want_rua) &&
		           rec.rua[0].scheme == c->want_scheme &&
		           rec2.rua_count == rec.rua_count &&
		           mts_diag_count(&diag, MTS_SEV_ERROR) == 0,
		       "%s: valid, %zu destination(s)", c->name,
		       rc == 0 ? rec.rua_count : 0);
		if (rc == 0)
			mts_tlsrpt_record_reset(&rec);
		tap_ok(rc == 0 && rec.rua == NULL && rec.rua_count == 0,
		       "%s: reset zeroes the record", c->name);
	} else {
		tap_ok(rc == -1 && rc2 == -1 && err.code == c->want_err &&
		           err.line == 0 && err.msg != NULL &&
		           (c->want_col == 0 || err.column == c->want_col) &&
		           mts_diag_count(&diag, MTS_SEV_ERROR) >= 1 &&
		           memcmp(&rec, &before, sizeof(rec)) == 0,
		       "%s: invalid (%s, column %u), out untouched", c->name,
		       mts_strerror(err.code), err.column);
	}
	mts_tlsrpt_record_reset(&rec2);
	if (c->want_code != NULL)
		tap_ok(has_code(&diag, c->want_code), "%s: finding %s", c->name,
		       c->want_code);
	if (c->want_code2 != NULL)
		tap_ok(has_code(&diag, c->want_code2), "%s: finding %s",
		       c->name, c->want_code2);
	mts_diag_reset(&diag);
}

static void
run_uri_case(const struct uri_case *c)
{
	char txt[256];
	struct mts_tlsrpt_record rec = {0};
	struct mts_diag diag;
	int n, rc;

	/* A second, valid destination keeps the record usable whatever the
	 * scheme checks say; only the grammar can fail it. */
	n = snprintf(txt, sizeof(txt), "v=TLSRPTv1; rua=%s,mailto:a@b.example",
	             c->uri);
	mts_diag_init(&diag);
	rc = mts_tlsrpt_record_parse(txt, (size_t)n, &rec, &diag, NULL);
	if (c->valid)
		tap_ok(rc == 0 && rec.rua_count == 2 &&
		           strcmp(rec.rua[0].uri, c->uri) == 0,
		       "%s: %s is a URI", c->name, c->uri);
	else
		tap_ok(rc == -1 && has_code(&diag, "tlsrpt-record-uri-syntax"),
		       "%s: %s is not a URI", c->name, c->uri);
	mts_tlsrpt_record_reset(&rec);
	mts_diag_reset(&diag);
}

/* MTS_TLSRPT_RUA_MAX destinations are kept, the rest dropped. */
static void
test_rua_cap(void)
{
	char txt[1024];
	struct mts_tlsrpt_record rec = {0};
	struct mts_diag diag;
	size_t i, n;

	n = (size_t)snprintf(txt, sizeof(txt), "v=TLSRPTv1; rua=");
	for (i = 0; i <= MTS_TLSRPT_RUA_MAX; i++)
		n += (size_t)snprintf(txt + n, sizeof(txt) - n,
		                      "%smailto:r%zu@example.com",
		                      i == 0 ? "" : ",", i);
	mts_diag_init(&diag);
	tap_ok(mts_tlsrpt_record_parse(txt, n, &rec, &diag, NULL) == 0 &&
	           rec.rua_count == MTS_TLSRPT_RUA_MAX &&
	           strcmp(rec.rua[MTS_TLSRPT_RUA_MAX - 1].uri,
	                  "mailto:r15@example.com") == 0 &&
	           has_code(&diag, "tlsrpt-record-too-many-rua"),
	       "RPT-TXT-5: %d destinations kept of %d, too-many-rua",
	       MTS_TLSRPT_RUA_MAX, MTS_TLSRPT_RUA_MAX + 1);
	mts_tlsrpt_record_reset(&rec);
	mts_diag_reset(&diag);
}

/* The MTS_TLSRPT_RECORD_MAX cap: the length, not the content, decides. */
static void
test_cap(void)
{
	static char big[MTS_TLSRPT_RECORD_MAX + 2];
	static const char head[] = "v=TLSRPTv1; rua=mailto:a@example.com; x=";
	struct mts_tlsrpt_record rec = {0};
	struct mts_diag diag;
	struct mts_err err;
	size_t n = MTS_TLSRPT_RECORD_MAX;

	memcpy(big, head, sizeof(head) - 1);
	memset(big + sizeof(head) - 1, 'a', sizeof(big) - sizeof(head) + 1);
	mts_diag_init(&diag);
	tap_ok(mts_tlsrpt_record_parse(big, n, &rec, &diag, &err) == 0 &&
	           rec.rua_count == 1,
	       "RPT-TXT-2: a record of exactly %zu octets is valid", n);
	mts_tlsrpt_record_reset(&rec);
	tap_ok(mts_tlsrpt_record_parse(big, n + 1, &rec, &diag, &err) == -1 &&
	           err.code == MTS_ERR_TOOBIG &&
	           has_code(&diag, "tlsrpt-record-too-long") && rec.rua == NULL,
	       "RPT-TXT-2: %zu octets is over the cap (too-long)", n + 1);
	mts_diag_reset(&diag);
	tap_ok(mts_tlsrpt_record_parse(NULL, 3, &rec, NULL, &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "RPT-TXT-2: NULL record with a length is MTS_ERR_ARG");
	mts_tlsrpt_record_reset(&rec);
	tap_ok(rec.rua == NULL && rec.rua_count == 0,
	       "RPT-TXT-2: a second reset leaves the record empty");
	/* Nothing to look at after reset(NULL): not counted (a crash
	   still fails the program). */
	mts_tlsrpt_record_reset(NULL);
}

static const struct cand_case {
	const char *name;
	const char *input;
	size_t len;
	bool want;
} cand_cases[] = {
    {"RPT-TXT-9: v=TLSRPTv1; is a candidate", S("v=TLSRPTv1;rua=x"), true},
    {"RPT-TXT-9: v=TLSRPTv1 ; is a candidate (A2, tolerant)",
     S("v=TLSRPTv1 ; rua=x"), true},
    {"RPT-TXT-9: v=TLSRPTv10; is not", S("v=TLSRPTv10;"), false},
    {"RPT-TXT-9: v=TLSRPTv1 without ; is not", S("v=TLSRPTv1"), false},
    {"RPT-TXT-9: v=tlsrptv1; is not", S("v=tlsrptv1;"), false},
    {"RPT-TXT-9: an STS record is not", S("v=STSv1; id=1"), false},
};

static const struct select_case {
	const char *name;
	const char *rrset; /* records separated by "\n"; NULL: none */
	int want_rc;
	size_t want_index;
	enum mts_errcode want_err;
} select_cases[] = {
    {"RPT-TXT-9 T1: TLSRPT beside SPF, the first is used",
     "v=TLSRPTv1; rua=mailto:a@example.com\nv=spf1 -all", 0, 0, MTS_OK},
    {"RPT-TXT-9 T1: TLSRPT second", "v=spf1 -all\nv=TLSRPTv1;rua=x", 0, 1,
     MTS_OK},
    {"RPT-TXT-9 T2: two TLSRPT records, no TLSRPT",
     "v=TLSRPTv1; rua=mailto:a@example.com\nv=TLSRPTv1; rua=mailto:b@example.com",
     -1, 0, MTS_ERR_MULTIPLE},
    {"RPT-TXT-9 T3: v=TLSRPTv1 ; beside x (A2: tolerant, kept)",
     "v=TLSRPTv1 ; rua=mailto:a@example.com\nx", 0, 0, MTS_OK},
    {"RPT-TXT-9: no TLSRPT record", "x\nv=STSv1; id=1", -1, 0,
     MTS_ERR_NOTFOUND},
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

	for (i = 0; i < sizeof(cand_cases) / sizeof(cand_cases[0]); i++)
		tap_ok(mts_tlsrpt_record_is_candidate(cand_cases[i].input,
		                                      cand_cases[i].len) ==
		           cand_cases[i].want,
		       "%s", cand_cases[i].name);
	for (i = 0; i < sizeof(select_cases) / sizeof(select_cases[0]); i++) {
		const struct select_case *c = &select_cases[i];
		const char *txts[4];
		size_t lens[4], n, index = 99;
		struct mts_err err;
		int rc;

		n = rrset(c->rrset, txts, lens, 4);
		memset(&err, 0, sizeof(err));
		rc = mts_tlsrpt_record_select(txts, lens, n, &index, &err);
		if (c->want_rc == 0)
			tap_ok(rc == 0 && index == c->want_index,
			       "%s: record %zu", c->name, c->want_index);
		else
			tap_ok(rc == -1 && err.code == c->want_err &&
			           index == 99,
			       "%s: %s", c->name, mts_strerror(c->want_err));
	}
}

static const struct qname_case {
	const char *name;
	const char *domain;
	const char *want; /* NULL: fails with MTS_ERR_ARG */
} qname_cases[] = {
    {"RPT-TXT-1 T1: _smtp._tls.example.com", "example.com",
     "_smtp._tls.example.com"},
    {"RPT-TXT-1 T1: upper case and trailing dot", "EXAMPLE.com.",
     "_smtp._tls.example.com"},
    {"RPT-TXT-13 T1: the recipient domain, not the MX host", "example.com",
     "_smtp._tls.example.com"},
    {"RPT-TXT-13: the MX host has its own name", "mx.provider.net",
     "_smtp._tls.mx.provider.net"},
    {"RPT-TXT-1: empty label", "a..example", NULL},
    {"RPT-TXT-1: underscore", "_x.example", NULL},
};

static void
test_qname(void)
{
	char buf[64];
	struct mts_err err;
	size_t i;

	for (i = 0; i < sizeof(qname_cases) / sizeof(qname_cases[0]); i++) {
		const struct qname_case *c = &qname_cases[i];
		int rc;

		memset(&err, 0, sizeof(err));
		rc = mts_tlsrpt_record_qname(c->domain, buf, sizeof(buf), &err);
		if (c->want != NULL)
			tap_ok(rc == 0 && strcmp(buf, c->want) == 0, "%s",
			       c->name);
		else
			tap_ok(rc == -1 && err.code == MTS_ERR_ARG,
			       "%s: MTS_ERR_ARG", c->name);
	}
	mts_tlsrpt_record_qname("example.com", buf, sizeof(buf), NULL);
	tap_ok(strcmp(buf, "_smtp._tcp.example.com") != 0 &&
	           strcmp(buf, "_tlsrpt.example.com") != 0,
	       "RPT-TXT-1 T2: neither _smtp._tcp nor _tlsrpt");
	tap_ok(mts_tlsrpt_record_qname("example.com", buf, 22, &err) == -1 &&
	           err.code == MTS_ERR_TOOBIG,
	       "RPT-TXT-1: buffer one byte short is MTS_ERR_TOOBIG");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	for (i = 0; i < sizeof(uri_cases) / sizeof(uri_cases[0]); i++)
		run_uri_case(&uri_cases[i]);
	test_rua_cap();
	test_cap();
	test_select();
	test_qname();
	return tap_done();
}
