/* SPDX-License-Identifier: ISC */
/*
 * Tests of dane_tlsa.c against checklist sections 19 (DANE-REC-1..13:
 * the TLSA record, RFC 6698 §2, §3, §4.1, §6, §7, RFC 7218, RFC 7671 §2,
 * §4, §5.2.1, §10.1.2, RFC 7672 §2.2.3, §3.1) and 23 (DANE-UNUS-*, the
 * parts decidable on one record).
 *
 * Table-driven: presentation and wire parsing, usability, lint, owner
 * names.  Certificate matching uses a test PKI made here at run time
 * with OpenSSL (Postfix tls_dane.sh does the same with the CLI): an EC
 * P-256 key and a self-signed certificate with a SAN, whose association
 * data is also computed on an independent path (i2d_PUBKEY of the key,
 * EVP_Q_digest by name) to check the library's own.
 */
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <mtasts/dane.h>

#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The RFC 6698 §2.3 example digest, and variants of the wrong length. */
#define D32  "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"
#define D32L "0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"
#define D31  "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3"
#define D33  D32 "00"
#define D64  D32 D32

/* ---- helpers ---- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes even-length hex written by the tests into out; the length. */
static size_t
unhex(const char *hex, uint8_t *out, size_t size)
{
	size_t i, n = strlen(hex) / 2;
	int hi, lo;

	if (n > size)
		abort();
	for (i = 0; i < n; i++) {
		if ((hi = hexval(hex[2 * i])) < 0 ||
		    (lo = hexval(hex[2 * i + 1])) < 0)
			abort();
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return n;
}

/* "U S M HEX" as the format function should write it. */
static void
canonical(char *buf, size_t size, unsigned u, unsigned s, unsigned m,
          const uint8_t *data, size_t len)
{
	size_t i, n;

	n = (size_t)snprintf(buf, size, "%u %u %u ", u, s, m);
	for (i = 0; i < len && n + 3 <= size; i++, n += 2)
		snprintf(buf + n, size - n, "%02X", data[i]);
}

static bool
diag_has(const struct mts_diag *d, const char *code)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		if (tap_streq(d->items[i].code, code))
			return true;
	return false;
}

/* Parses text that a test knows to be well-formed; aborts otherwise. */
static void
must_parse(const char *text, struct mts_dane_tlsa *t)
{
	if (mts_dane_tlsa_parse(text, strlen(text), t, NULL, NULL) != 0) {
		tap_diag("cannot parse \"%s\"", text);
		abort();
	}
}

/* ---- presentation format (DANE-REC-5, DANE-REC-6, DANE-REC-1) ---- */

static const struct parse_case {
	const char *name;
	const char *text;
	size_t len;            /* 0: strlen(text) */
	enum mts_errcode code; /* MTS_OK: parses */
	uint8_t usage, selector, mtype;
	const char *hex;       /* the data, on success */
	const char *finding;   /* a finding the parse reports; NULL: none */
	unsigned line, column; /* of the error, when not 0 */
} parse_cases[] = {
    {"DANE-REC-5 T1: RFC 6698 example with parentheses",
     "3 1 1 ( 0C72AC70B745AC19998811B131D662C9 "
     "AC69DBDBE7CB23E5B514B56664C5D3D6 )",
     0, MTS_OK, 3, 1, 1, D32, NULL, 0, 0},
    {"DANE-REC-5 T1: across lines inside parentheses",
     "3 1 1 (\n\t0C72AC70B745AC19998811B131D662C9\r\n"
     "\tAC69DBDBE7CB23E5B514B56664C5D3D6 )\n",
     0, MTS_OK, 3, 1, 1, D32, NULL, 0, 0},
    {"DANE-REC-5 T1: tabs between fields", "3\t1\t1\t" D32, 0, MTS_OK, 3, 1, 1,
     D32, NULL, 0, 0},
    {"DANE-REC-5 T1: whitespace inside an octet", "3 1 1 0C7 2", 0, MTS_OK, 3,
     1, 1, "0C72", "tlsa-data-length", 0, 0},
    {"DANE-REC-5 T1: parentheses inside the hex",
     "3 1 1 0C72AC70B745AC19998811B131D662C9(AC69DBDBE7CB23E5B514B56664C5D3"
     "D6)",
     0, MTS_OK, 3, 1, 1, D32, NULL, 0, 0},
    {"DANE-REC-5 T1: trailing comment and line break", "3 1 1 " D32 " ; mx1\n",
     0, MTS_OK, 3, 1, 1, D32, NULL, 0, 0},
    {"DANE-REC-5 T1: blank lines before the record", "\n\r\n  3 1 1 " D32, 0,
     MTS_OK, 3, 1, 1, D32, NULL, 0, 0},
    {"DANE-REC-5 T1: comment lines before the record",
     "; TLSA for mx1\n3 1 1 " D32, 0, MTS_OK, 3, 1, 1, D32, NULL, 0, 0},
    {"DANE-REC-5 T1: leading zeros in a field", "003 01 1 " D32, 0, MTS_OK, 3,
     1, 1, D32, NULL, 0, 0},
    {"DANE-REC-5 T1: 255 is the largest field", "255 255 255 00", 0, MTS_OK,
     255, 255, 255, "00", "tlsa-usage-unknown", 0, 0},
    {"DANE-REC-5 T1: owner, TTL, class and type are skipped",
     "_25._tcp.mx.example.com. 3600 IN TLSA 3 1 1 " D32, 0, MTS_OK, 3, 1, 1,
     D32, NULL, 0, 0},
    {"DANE-REC-5 T1: class before TTL, BIND TTL units",
     "_25._tcp.mx.example.com. in 1h30m tlsa 3 1 1 " D32, 0, MTS_OK, 3, 1, 1,
     D32, NULL, 0, 0},
    {"DANE-REC-5 T1: type alone", "TLSA 3 1 1 " D32, 0, MTS_OK, 3, 1, 1, D32,
     NULL, 0, 0},
    {"DANE-REC-5 T1: dig output line",
     "_25._tcp.mx.example.com. 300\tIN\tTLSA\t3 1 1 " D32L "\n", 0, MTS_OK, 3,
     1, 1, D32, NULL, 0, 0},
    {"DANE-REC-5 T2: usage 256 is invalid", "256 1 1 00", 0, MTS_ERR_SYNTAX, 0,
     0, 0, NULL, "tlsa-syntax", 1, 1},
    {"DANE-REC-5 T2: selector 256 is invalid", "3 256 1 00", 0, MTS_ERR_SYNTAX,
     0, 0, 0, NULL, "tlsa-syntax", 1, 3},
    {"DANE-REC-5 T2: matching type 1000 is invalid", "3 1 1000 00", 0,
     MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 1, 5},
    {"DANE-REC-5 T2: no sign", "+3 1 1 " D32, 0, MTS_ERR_SYNTAX, 0, 0, 0, NULL,
     "tlsa-syntax", 1, 1},
    {"DANE-REC-5 T2: no negative numbers", "3 -1 1 " D32, 0, MTS_ERR_SYNTAX, 0,
     0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T2: no hex fields", "0x3 1 1 " D32, 0, MTS_ERR_SYNTAX, 0, 0, 0,
     NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T2: a 20-digit usage does not wrap",
     "18446744073709551619 1 1 " D32, 0, MTS_ERR_SYNTAX, 0, 0, 0, NULL,
     "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T3: odd-length hex", "3 1 1 0C7", 0, MTS_ERR_SYNTAX, 0, 0, 0,
     NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T3: odd-length hex split in groups", "3 1 1 ( 0C 7 )", 0,
     MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T4: non-hex data", "3 1 1 zz" D32, 0, MTS_ERR_SYNTAX, 0, 0, 0,
     NULL, "tlsa-syntax", 1, 7},
    {"DANE-REC-5 T4: non-hex in a later line, position reported",
     "3 1 1 (\n 0C7Z )", 0, MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 2, 5},
    {"DANE-REC-5 T4: 0x prefix in the data", "3 1 1 0x0C", 0, MTS_ERR_SYNTAX, 0,
     0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T4: NUL byte in the data", "3 1 1 00\0 11", 11, MTS_ERR_SYNTAX,
     0, 0, 0, NULL, "tlsa-syntax", 1, 9},
    {"DANE-REC-5 T5: unclosed parenthesis", "3 1 1 ( " D32, 0, MTS_ERR_SYNTAX,
     0, 0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T5: \")\" without \"(\"", "3 1 1 " D32 " )", 0, MTS_ERR_SYNTAX,
     0, 0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T5: nested parentheses", "3 1 1 ( ( " D32 " ) )", 0,
     MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T6: a line break outside parentheses ends the record",
     "3 1 1 0C72AC70B745AC19998811B131D662C9\n"
     "AC69DBDBE7CB23E5B514B56664C5D3D6",
     0, MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 2, 1},
    {"DANE-REC-5 T6: two records are not read as one",
     "3 1 1 " D32 "\n3 1 1 " D32, 0, MTS_ERR_SYNTAX, 0, 0, 0, NULL,
     "tlsa-syntax", 2, 1},
    {"DANE-REC-5 T7: another record type", "_25._tcp.mx. IN TXT 3 1 1 00", 0,
     MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-5 T7: junk between owner and type",
     "_25._tcp.mx. junk IN TLSA 3 1 1 " D32, 0, MTS_ERR_SYNTAX, 0, 0, 0, NULL,
     "tlsa-syntax", 1, 14},
    {"DANE-REC-1 T3: no association data", "3 1 1", 0, MTS_ERR_SYNTAX, 0, 0, 0,
     NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-1 T3: only parentheses for data", "3 1 1 ( )", 0, MTS_ERR_SYNTAX,
     0, 0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-1 T2: two fields", "3 1", 0, MTS_ERR_SYNTAX, 0, 0, 0, NULL,
     "tlsa-syntax", 0, 0},
    {"DANE-REC-1 T2: empty text", "", 0, MTS_ERR_SYNTAX, 0, 0, 0, NULL,
     "tlsa-syntax", 0, 0},
    {"DANE-REC-1 T2: owner and type only", "_25._tcp.mx. IN TLSA", 0,
     MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-6 T1: upper-case acronyms", "DANE-EE SPKI SHA2-256 " D32, 0,
     MTS_OK, 3, 1, 1, D32, NULL, 0, 0},
    {"DANE-REC-6 T1: lower-case acronyms", "dane-ee spki sha2-256 " D32, 0,
     MTS_OK, 3, 1, 1, D32, NULL, 0, 0},
    {"DANE-REC-6 T1: mixed-case acronyms", "DaNe-Ta cErT Sha2-512 " D64, 0,
     MTS_OK, 2, 0, 2, D64, "tlsa-unusual-params", 0, 0},
    {"DANE-REC-6 T1: PKIX acronyms", "PKIX-TA Cert SHA2-256 " D32, 0, MTS_OK, 0,
     0, 1, D32, "tlsa-usage-pkix", 0, 0},
    {"DANE-REC-6 T1: PKIX-EE", "pkix-ee SPKI sha2-256 " D32, 0, MTS_OK, 1, 1, 1,
     D32, "tlsa-usage-pkix", 0, 0},
    {"DANE-REC-6 T1: private-use acronyms", "PrivCert PrivSel PrivMatch 00", 0,
     MTS_OK, 255, 255, 255, "00", "tlsa-usage-unknown", 0, 0},
    {"DANE-REC-6 T1: Full", "DANE-TA Cert Full 00", 0, MTS_OK, 2, 0, 0, "00",
     "tlsa-full-match", 0, 0},
    {"DANE-REC-6 T1: numbers and acronyms mixed", "3 SPKI 1 " D32, 0, MTS_OK, 3,
     1, 1, D32, NULL, 0, 0},
    {"DANE-REC-6 T2: acronym in the wrong field", "SPKI DANE-EE 1 " D32, 0,
     MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 1, 1},
    {"DANE-REC-6 T2: underscore for hyphen", "DANE_EE SPKI SHA2-256 " D32, 0,
     MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-6 T2: SHA256 is not an RFC 7218 acronym",
     "DANE-EE SPKI SHA256 " D32, 0, MTS_ERR_SYNTAX, 0, 0, 0, NULL,
     "tlsa-syntax", 1, 14},
    {"DANE-REC-6 T2: acronym prefix", "DANE-E SPKI SHA2-256 " D32, 0,
     MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 0, 0},
    {"DANE-REC-6 T2: acronym with a suffix", "DANE-EEE SPKI SHA2-256 " D32, 0,
     MTS_ERR_SYNTAX, 0, 0, 0, NULL, "tlsa-syntax", 0, 0},
};

static void
check_parse_ok(const struct parse_case *c, const struct mts_dane_tlsa *t,
               const struct mts_diag *d)
{
	uint8_t want[256];
	char fmt[600];
	char *got;
	size_t n = unhex(c->hex, want, sizeof(want));
	bool findings =
	    c->finding != NULL ? diag_has(d, c->finding) : d->count == 0;

	tap_ok(t->usage == c->usage && t->selector == c->selector &&
	           t->mtype == c->mtype && t->data_len == n &&
	           memcmp(t->data, want, n) == 0 && findings,
	       "%s", c->name);
	canonical(fmt, sizeof(fmt), c->usage, c->selector, c->mtype, want, n);
	got = mts_dane_tlsa_format(t);
	tap_ok(tap_streq(got, fmt), "%s (formats as \"%.24s...\")", c->name,
	       fmt);
	free(got);
}

static void
test_parse(void)
{
	const struct parse_case *c;
	struct mts_dane_tlsa t;
	struct mts_diag d;
	struct mts_err err;
	size_t len;
	int rc;

	for (c = parse_cases; c < parse_cases + NELEM(parse_cases); c++) {
		len = c->len != 0 ? c->len : strlen(c->text);
		memset(&t, 0xa5, sizeof(t));
		memset(&err, 0, sizeof(err));
		mts_diag_init(&d);
		rc = mts_dane_tlsa_parse(c->text, len, &t, &d, &err);
		if (c->code == MTS_OK) {
			if (rc == 0)
				check_parse_ok(c, &t, &d);
			else
				tap_ok(false, "%s: failed: %s", c->name,
				       err.msg);
			mts_dane_tlsa_reset(&t);
		} else {
			tap_ok(rc == -1 && err.code == c->code &&
			           err.msg != NULL &&
			           diag_has(&d, c->finding) &&
			           t.usage == 0xa5 &&
			           (c->line == 0 ||
			            (err.line == c->line &&
			             err.column == c->column)),
			       "%s (%s at %u:%u)", c->name,
			       err.msg != NULL ? err.msg : "no error", err.line,
			       err.column);
		}
		mts_diag_reset(&d);
	}
}

/*
 * The data cap applies to presentation text: 16384 octets parse, one
 * more is MTS_ERR_TOOBIG with its own finding.
 */
static void
test_parse_cap(void)
{
	size_t n = 2 * ((size_t)MTS_TLSA_DATA_MAX + 1);
	struct mts_dane_tlsa t = {0, 0, 0, 0, NULL};
	struct mts_diag d;
	struct mts_err err;
	char *text;
	int rc;

	if ((text = malloc(6 + n + 1)) == NULL)
		abort();
	memcpy(text, "3 0 1 ", 6);
	memset(text + 6, 'A', n);
	text[6 + n] = '\0';
	mts_diag_init(&d);
	rc = mts_dane_tlsa_parse(text, 6 + n - 2, &t, &d, &err);
	tap_ok(rc == 0 && t.data_len == MTS_TLSA_DATA_MAX,
	       "DANE-REC-5 T8: %d octets of data parse", MTS_TLSA_DATA_MAX);
	mts_dane_tlsa_reset(&t);
	mts_diag_reset(&d);
	rc = mts_dane_tlsa_parse(text, 6 + n, &t, &d, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG &&
	           diag_has(&d, "tlsa-data-too-big"),
	       "DANE-REC-5 T8: %d octets are over the cap",
	       MTS_TLSA_DATA_MAX + 1);
	mts_diag_reset(&d);
	free(text);

	rc = mts_dane_tlsa_parse(NULL, 0, &t, NULL, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_SYNTAX,
	       "DANE-REC-1 T2: NULL text of length 0 is a syntax error");
	rc = mts_dane_tlsa_parse("3 1 1 00", 8, NULL, NULL, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_ARG,
	       "DANE-REC-1 T2: NULL output is a caller error");
}

/* Findings of a parse carry the line of the record's first field. */
static void
test_parse_lines(void)
{
	const char *text = "_25._tcp.mx.example.com. IN TLSA (\n"
			   "  3 0 1   ; DANE-EE Cert SHA2-256\n"
			   "  " D32 " )\n";
	struct mts_dane_tlsa t;
	struct mts_diag d;

	mts_diag_init(&d);
	if (mts_dane_tlsa_parse(text, strlen(text), &t, &d, NULL) == 0) {
		tap_ok(d.count == 1 && d.items[0].line == 2 &&
		           tap_streq(d.items[0].code, "tlsa-unusual-params"),
		       "DANE-REC-12 T2: a parse finding names the line of the "
		       "fields");
		mts_dane_tlsa_reset(&t);
	} else {
		tap_ok(false, "DANE-REC-12 T2: multi-line record parses");
	}
	mts_diag_reset(&d);
}

/*
 * A syntax finding quotes the offending token, cut to 32 bytes and with
 * control and non-ASCII bytes masked, so that it is safe to print.
 */
static void
test_parse_quote(void)
{
	const char *text = "3 1 1 \x1b[31m\xc3\xa9"
			   "0123456789012345678901234567890123456789";
	struct mts_dane_tlsa t;
	struct mts_diag d;
	const char *m;
	bool clean = true;

	mts_diag_init(&d);
	if (mts_dane_tlsa_parse(text, strlen(text), &t, &d, NULL) == 0)
		mts_dane_tlsa_reset(&t);
	m = d.count == 1 ? d.items[0].message : "";
	for (; *m != '\0'; m++)
		if ((unsigned char)*m < 0x20 || (unsigned char)*m > 0x7e)
			clean = false;
	tap_ok(d.count == 1 && clean &&
	           strstr(d.items[0].message, "\"?[31m??0123") != NULL &&
	           strstr(d.items[0].message, "...\"") != NULL,
	       "DANE-REC-5 T4: the finding quotes the token printably (%s)",
	       d.count == 1 ? d.items[0].message : "none");
	mts_diag_reset(&d);
}

/* ---- wire format (DANE-REC-1) ---- */

static const struct rdata_case {
	const char *name;
	const char *hex;
	enum mts_errcode code;
	uint8_t usage, selector, mtype;
	size_t data_len;
} rdata_cases[] = {
    {"DANE-REC-1 T1: 03 01 01 + 32 octets", "030101" D32, MTS_OK, 3, 1, 1, 32},
    {"DANE-REC-1 T1: fields are octets, 255 included", "FFFFFF00", MTS_OK, 255,
     255, 255, 1},
    {"DANE-REC-1 T1: one octet of data", "02000101", MTS_OK, 2, 0, 1, 1},
    {"DANE-REC-1 T2: two octets", "0301", MTS_ERR_SYNTAX, 0, 0, 0, 0},
    {"DANE-REC-1 T2: one octet", "03", MTS_ERR_SYNTAX, 0, 0, 0, 0},
    {"DANE-REC-1 T2: empty RDATA", "", MTS_ERR_SYNTAX, 0, 0, 0, 0},
    {"DANE-REC-1 T3: 03 01 01 and no data", "030101", MTS_ERR_SYNTAX, 0, 0, 0,
     0},
};

static void
test_rdata(void)
{
	const struct rdata_case *c;
	struct mts_dane_tlsa t;
	struct mts_err err;
	uint8_t rdata[64];
	size_t n;
	int rc;

	for (c = rdata_cases; c < rdata_cases + NELEM(rdata_cases); c++) {
		n = unhex(c->hex, rdata, sizeof(rdata));
		memset(&t, 0xa5, sizeof(t));
		rc = mts_dane_tlsa_parse_rdata(n == 0 ? NULL : rdata, n, &t,
		                               &err);
		if (c->code == MTS_OK) {
			tap_ok(rc == 0 && t.usage == c->usage &&
			           t.selector == c->selector &&
			           t.mtype == c->mtype &&
			           t.data_len == c->data_len &&
			           memcmp(t.data, rdata + 3, n - 3) == 0,
			       "%s", c->name);
			mts_dane_tlsa_reset(&t);
		} else {
			tap_ok(rc == -1 && err.code == c->code &&
			           t.usage == 0xa5,
			       "%s: rejected, output untouched", c->name);
		}
	}
}

static void
test_rdata_cap(void)
{
	size_t n = 3 + MTS_TLSA_DATA_MAX + 1;
	struct mts_dane_tlsa t;
	struct mts_err err;
	uint8_t *rdata;
	int rc;

	if ((rdata = calloc(1, n)) == NULL)
		abort();
	rdata[0] = 3;
	rc = mts_dane_tlsa_parse_rdata(rdata, n - 1, &t, &err);
	tap_ok(rc == 0 && t.data_len == MTS_TLSA_DATA_MAX,
	       "DANE-REC-1 T4: RDATA with %d octets of data parses",
	       MTS_TLSA_DATA_MAX);
	mts_dane_tlsa_reset(&t);
	rc = mts_dane_tlsa_parse_rdata(rdata, n, &t, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG,
	       "DANE-REC-1 T4: one octet more is over the cap");
	free(rdata);
	tap_ok(mts_dane_tlsa_parse_rdata(NULL, 4, &t, &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "DANE-REC-1 T4: NULL RDATA with a length is a caller error");
}

/* ---- usability (DANE-REC-2, -3, -4, -10, -11; DANE-UNUS-1, -5) ---- */

static const struct usable_case {
	const char *name;
	const char *text;
	unsigned flags;
	bool usable;
} usable_cases[] = {
    {"DANE-REC-2 T1: usage 4 is unassigned", "4 1 1 " D32, 0, false},
    {"DANE-REC-2 T1: usage 254 is unassigned", "254 1 1 " D32,
     MTS_DANE_ALLOW_PKIX, false},
    {"DANE-REC-2 T2: selector 2 is unassigned", "3 2 1 " D32, 0, false},
    {"DANE-REC-2 T2: selector 255 (PrivSel)", "3 255 1 " D32, 0, false},
    {"DANE-REC-2 T3: matching type 3 is unassigned", "3 1 3 " D32, 0, false},
    {"DANE-REC-2 T3: matching type 255 (PrivMatch)", "3 1 255 " D32, 0, false},
    {"DANE-REC-2 T4: usage 255 (PrivCert)", "255 1 1 " D32, 0, false},
    {"DANE-REC-2 T4: PrivCert even when PKIX is allowed", "255 1 1 " D32,
     MTS_DANE_ALLOW_PKIX, false},
    {"DANE-REC-3 T1: SHA2-256 with 31 octets", "3 1 1 " D31, 0, false},
    {"DANE-REC-3 T1: SHA2-256 with 33 octets", "3 1 1 " D33, 0, false},
    {"DANE-REC-3 T2: SHA2-512 with 32 octets", "3 1 2 " D32, 0, false},
    {"DANE-REC-3 T2: SHA2-512 with 64 octets", "3 1 2 " D64, 0, true},
    {"DANE-REC-3 T3: 3 0 0 whose data is not DER", "3 0 0 " D32, 0, false},
    {"DANE-REC-3 T3: 3 0 0 with an empty SEQUENCE", "3 0 0 3000", 0, false},
    {"DANE-REC-3 T4: 3 1 0 whose data is not DER", "3 1 0 " D32, 0, false},
    {"DANE-REC-3 T4: 3 1 0 with a truncated SEQUENCE", "3 1 0 3082", 0, false},
    {"DANE-REC-4 T1: SHA2-256 disabled, 3 1 1", "3 1 1 " D32,
     MTS_DANE_DISABLE_SHA256, false},
    {"DANE-REC-4 T1: SHA2-256 disabled, 2 0 1", "2 0 1 " D32,
     MTS_DANE_DISABLE_SHA256, false},
    {"DANE-REC-4 T1: SHA2-256 disabled, SHA2-512 still usable", "3 1 2 " D64,
     MTS_DANE_DISABLE_SHA256, true},
    {"DANE-REC-4 T1: SHA2-512 disabled, 3 1 2", "3 1 2 " D64,
     MTS_DANE_DISABLE_SHA512, false},
    {"DANE-REC-4 T1: SHA2-512 disabled, SHA2-256 still usable", "3 1 1 " D32,
     MTS_DANE_DISABLE_SHA512, true},
    {"DANE-REC-10 T1: PKIX-TA unusable by default", "0 0 1 " D32, 0, false},
    {"DANE-REC-10 T1: PKIX-EE unusable by default", "1 1 1 " D32, 0, false},
    {"DANE-REC-10 T1: PKIX-TA usable when allowed", "0 0 1 " D32,
     MTS_DANE_ALLOW_PKIX, true},
    {"DANE-REC-10 T1: PKIX-EE usable when allowed", "1 1 1 " D32,
     MTS_DANE_ALLOW_PKIX, true},
    {"DANE-REC-11 T1: DANE-EE 3 1 1", "3 1 1 " D32, 0, true},
    {"DANE-REC-11 T1: DANE-TA 2 0 1", "2 0 1 " D32, 0, true},
    {"DANE-REC-11 T1: DANE-TA 2 1 1", "2 1 1 " D32, 0, true},
    {"DANE-REC-11 T1: DANE-EE 3 0 2", "3 0 2 " D64, 0, true},
    {"DANE-REC-11 T1: PKIX-TA not supported by default", "0 1 1 " D32, 0,
     false},
    {"DANE-REC-11 T1: PKIX-EE not supported by default", "1 0 2 " D64, 0,
     false},
    {"DANE-UNUS-1 T1: 4 1 1", "4 1 1 " D32, 0, false},
    {"DANE-UNUS-1 T1: 3 2 1", "3 2 1 " D32, 0, false},
    {"DANE-UNUS-1 T1: 3 1 3", "3 1 3 " D32, 0, false},
    {"DANE-UNUS-1 T1: 3 1 1 with 31 octets", "3 1 1 " D31, 0, false},
    {"DANE-UNUS-1 T1: 3 1 2 with 32 octets", "3 1 2 " D32, 0, false},
    {"DANE-UNUS-1 T1: weak by local policy", "3 1 1 " D32,
     MTS_DANE_DISABLE_SHA256 | MTS_DANE_DISABLE_SHA512, false},
    {"DANE-UNUS-5 T1: 1 1 1 alone is unusable", "1 1 1 " D32, 0, false},
    {"DANE-UNUS-5 T2: 0 0 1 is unusable", "0 0 1 " D32, 0, false},
};

static void
test_usable(void)
{
	const struct usable_case *c;
	struct mts_dane_tlsa t;
	struct mts_err err;
	int rc;

	for (c = usable_cases; c < usable_cases + NELEM(usable_cases); c++) {
		must_parse(c->text, &t);
		memset(&err, 0, sizeof(err));
		rc = mts_dane_tlsa_usable(&t, c->flags, &err);
		if (c->usable)
			tap_ok(rc == 0, "%s: usable", c->name);
		else
			tap_ok(rc == -1 && err.code == MTS_ERR_UNUSABLE &&
			           err.msg != NULL,
			       "%s: unusable (%s)", c->name,
			       err.msg != NULL ? err.msg : "?");
		mts_dane_tlsa_reset(&t);
	}
	tap_ok(mts_dane_tlsa_usable(NULL, 0, &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "DANE-UNUS-1 T2: NULL record is a caller error");
}

/*
 * A record built by hand with a NULL data pointer (never the parser's
 * output) must not be dereferenced.
 */
static void
test_usable_no_data(void)
{
	struct mts_dane_tlsa t = {3, 1, 1, 32, NULL};
	struct mts_dane_tlsa f = {3, 0, 0, 0, NULL};

	tap_ok(mts_dane_tlsa_usable(&t, 0, NULL) == -1 &&
	           mts_dane_tlsa_usable(&f, 0, NULL) == -1,
	       "DANE-REC-3 T5: records without data are unusable");
	tap_ok(!mts_dane_tlsa_match_cert(&t, NULL, 0),
	       "DANE-REC-3 T5: and match nothing");
}

/* ---- lint (DANE-REC-10, -12, -13) ---- */

static const struct lint_case {
	const char *name;
	const char *text;
	size_t errors;
	const char *codes[4]; /* in order; NULL-terminated */
} lint_cases[] = {
    {"DANE-REC-12 T1: 3 1 1 is the first choice", "3 1 1 " D32, 0, {NULL}},
    {"DANE-REC-12 T1: 2 0 1 is the second choice", "2 0 1 " D32, 0, {NULL}},
    {"DANE-REC-12 T1: 3 0 1 is noted",
     "3 0 1 " D32,
     0,
     {"tlsa-unusual-params", NULL}},
    {"DANE-REC-12 T1: 2 1 1 is noted",
     "2 1 1 " D32,
     0,
     {"tlsa-unusual-params", NULL}},
    {"DANE-REC-12 T1: 3 1 2 is noted",
     "3 1 2 " D64,
     0,
     {"tlsa-unusual-params", NULL}},
    {"DANE-REC-12 T1: 2 0 2 is noted",
     "2 0 2 " D64,
     0,
     {"tlsa-unusual-params", NULL}},
    {"DANE-REC-13 T1: 3 0 0 with malformed data",
     "3 0 0 " D32,
     1,
     {"tlsa-full-match", "tlsa-data-malformed", NULL}},
    {"DANE-REC-13 T1: 3 1 0 with malformed data",
     "3 1 0 " D32,
     1,
     {"tlsa-full-match", "tlsa-data-malformed", NULL}},
    {"DANE-REC-10 T2: PKIX-TA is a warning",
     "0 0 1 " D32,
     0,
     {"tlsa-usage-pkix", NULL}},
    {"DANE-REC-10 T2: PKIX-EE is a warning",
     "1 1 1 " D32,
     0,
     {"tlsa-usage-pkix", NULL}},
    {"DANE-REC-10 T2: PKIX with full data",
     "0 0 0 " D32,
     1,
     {"tlsa-usage-pkix", "tlsa-full-match", "tlsa-data-malformed", NULL}},
    {"DANE-REC-2 T5: unassigned usage is an error",
     "4 1 1 " D32,
     1,
     {"tlsa-usage-unknown", NULL}},
    {"DANE-REC-2 T5: PrivCert is an error",
     "255 1 1 " D32,
     1,
     {"tlsa-usage-unknown", NULL}},
    {"DANE-REC-2 T5: unassigned selector is an error",
     "3 2 1 " D32,
     1,
     {"tlsa-selector-unknown", NULL}},
    {"DANE-REC-2 T5: unknown selector with full data",
     "3 2 0 " D32,
     1,
     {"tlsa-selector-unknown", NULL}},
    {"DANE-REC-2 T5: unassigned matching type is an error",
     "3 1 3 " D32,
     1,
     {"tlsa-mtype-unknown", NULL}},
    {"DANE-REC-2 T5: all three private",
     "255 255 255 00",
     3,
     {"tlsa-usage-unknown", "tlsa-selector-unknown", "tlsa-mtype-unknown",
      NULL}},
    {"DANE-REC-3 T6: SHA2-256 with 31 octets",
     "3 1 1 " D31,
     1,
     {"tlsa-data-length", NULL}},
    {"DANE-REC-3 T6: SHA2-512 with 32 octets",
     "3 1 2 " D32,
     1,
     {"tlsa-data-length", NULL}},
};

/* Whether the findings are exactly `codes`, in order. */
static bool
codes_are(const struct mts_diag *d, const char *const *codes)
{
	size_t i;

	for (i = 0; codes[i] != NULL; i++)
		if (i >= d->count || !tap_streq(d->items[i].code, codes[i]))
			return false;
	return i == d->count;
}

static void
test_lint(void)
{
	const struct lint_case *c;
	struct mts_dane_tlsa t;
	struct mts_diag d;
	size_t errors;

	for (c = lint_cases; c < lint_cases + NELEM(lint_cases); c++) {
		must_parse(c->text, &t);
		mts_diag_init(&d);
		errors = mts_dane_tlsa_lint(&t, &d);
		tap_ok(errors == c->errors && codes_are(&d, c->codes) &&
		           mts_diag_count(&d, MTS_SEV_ERROR) == c->errors,
		       "%s: %zu error(s), %zu finding(s)", c->name, errors,
		       d.count);
		mts_diag_reset(&d);
		mts_diag_init(&d);
		mts_dane_tlsa_reset(&t);
		/* The parser reports the same findings. */
		if (mts_dane_tlsa_parse(c->text, strlen(c->text), &t, &d,
		                        NULL) == 0)
			tap_ok(codes_are(&d, c->codes),
			       "%s: the parser reports the same", c->name);
		mts_dane_tlsa_reset(&t);
		mts_diag_reset(&d);
	}
	tap_ok(mts_dane_tlsa_lint(NULL, NULL) == 0,
	       "DANE-REC-12 T3: NULL record has no findings");
	must_parse("4 1 1 " D32, &t);
	tap_ok(mts_dane_tlsa_lint(&t, NULL) == 1,
	       "DANE-REC-12 T3: errors are counted without a diag");
	mts_dane_tlsa_reset(&t);
}

/* ---- owner names (DANE-REC-7) ---- */

static const struct owner_case {
	const char *name;
	const char *host;
	unsigned port;
	enum mts_errcode code;
	const char *want;
} owner_cases[] = {
    {"DANE-REC-7 T1: MX host, port 25", "mx.example.com", 25, MTS_OK,
     "_25._tcp.mx.example.com"},
    {"DANE-REC-7 T1: trailing dot dropped, lower-cased", "MX.Example.COM.", 25,
     MTS_OK, "_25._tcp.mx.example.com"},
    {"DANE-REC-7 T1: single-label host", "mx", 25, MTS_OK, "_25._tcp.mx"},
    {"DANE-REC-7 T2: custom route to port 2525", "mx.example.com", 2525, MTS_OK,
     "_2525._tcp.mx.example.com"},
    {"DANE-REC-7 T2: port 1", "mx.example.com", 1, MTS_OK,
     "_1._tcp.mx.example.com"},
    {"DANE-REC-7 T2: port 65535", "mx.example.com", 65535, MTS_OK,
     "_65535._tcp.mx.example.com"},
    {"DANE-REC-7 T3: port 25 is _25, never _025", "mx.example.com", 25, MTS_OK,
     "_25._tcp.mx.example.com"},
    {"DANE-REC-7 T3: no leading zeros, port 587", "mx.example.com", 587, MTS_OK,
     "_587._tcp.mx.example.com"},
    {"DANE-REC-7 T3: port 0", "mx.example.com", 0, MTS_ERR_ARG, NULL},
    {"DANE-REC-7 T3: port 65536", "mx.example.com", 65536, MTS_ERR_ARG, NULL},
    {"DANE-REC-7 T4: A-label host", "mx.XN--bcher-kva.example", 25, MTS_OK,
     "_25._tcp.mx.xn--bcher-kva.example"},
    {"DANE-REC-7 T4: U-label host is rejected",
     "mx.b\xc3\xbc"
     "cher.example",
     25, MTS_ERR_ARG, NULL},
    {"DANE-REC-7 T5: empty host", "", 25, MTS_ERR_ARG, NULL},
    {"DANE-REC-7 T5: root only", ".", 25, MTS_ERR_ARG, NULL},
    {"DANE-REC-7 T5: empty label", "mx..example.com", 25, MTS_ERR_ARG, NULL},
    {"DANE-REC-7 T5: space in the host", "mx example.com", 25, MTS_ERR_ARG,
     NULL},
    {"DANE-REC-7 T5: leading hyphen", "-mx.example.com", 25, MTS_ERR_ARG, NULL},
    {"DANE-REC-7 T5: underscore", "_25._tcp.mx.example.com", 25, MTS_ERR_ARG,
     NULL},
};

static void
test_owner(void)
{
	const struct owner_case *c;
	char buf[300], host[260];
	struct mts_err err;
	int rc;

	for (c = owner_cases; c < owner_cases + NELEM(owner_cases); c++) {
		memset(buf, 'x', sizeof(buf));
		memset(&err, 0, sizeof(err));
		rc = mts_dane_tlsa_owner(c->host, c->port, buf, sizeof(buf),
		                         &err);
		if (c->code == MTS_OK)
			tap_ok(rc == 0 && tap_streq(buf, c->want), "%s: %s",
			       c->name, c->want);
		else
			tap_ok(rc == -1 && err.code == c->code &&
			           err.msg != NULL && buf[0] == 'x',
			       "%s: rejected (%s)", c->name,
			       err.msg != NULL ? err.msg : "?");
	}

	rc = mts_dane_tlsa_owner("mx.example.com", 25, buf,
	                         sizeof("_25._tcp.mx.example.com"), &err);
	tap_ok(rc == 0, "DANE-REC-7 T6: a buffer of exactly the size");
	rc = mts_dane_tlsa_owner("mx.example.com", 25, buf,
	                         sizeof("_25._tcp.mx.example.com") - 1, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG,
	       "DANE-REC-7 T6: one byte less is too small");

	/* 4 labels of 60 + "." = 244 octets: with "_25._tcp." 253. */
	memset(host, 'a', 244);
	host[60] = host[121] = host[182] = '.';
	host[244] = '\0';
	rc = mts_dane_tlsa_owner(host, 25, buf, sizeof(buf), &err);
	tap_ok(rc == 0 && strlen(buf) == 253,
	       "DANE-REC-7 T7: owner name of 253 octets");
	rc = mts_dane_tlsa_owner(host, 250, buf, sizeof(buf), &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_ARG,
	       "DANE-REC-7 T7: owner name of 254 octets is rejected");
	tap_ok(mts_dane_tlsa_owner(NULL, 25, buf, sizeof(buf), &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "DANE-REC-7 T8: NULL host is a caller error");
}

/* ---- format and reset ---- */

static void
test_format(void)
{
	struct mts_dane_tlsa t = {3, 1, 1, 0, NULL};
	char *s;

	s = mts_dane_tlsa_format(&t);
	tap_ok(tap_streq(s, "3 1 1"), "DANE-REC-5 T9: no data, no hex field");
	free(s);
	tap_ok(mts_dane_tlsa_format(NULL) == NULL,
	       "DANE-REC-5 T9: NULL record formats as NULL");
	must_parse("3 1 1 " D32L, &t);
	s = mts_dane_tlsa_format(&t);
	tap_ok(tap_streq(s, "3 1 1 " D32),
	       "DANE-REC-5 T9: lower-case hex is formatted upper-case");
	free(s);
	mts_dane_tlsa_reset(&t);
	tap_ok(t.data == NULL && t.data_len == 0 && t.usage == 0,
	       "DANE-REC-5 T10: reset zeroes the record");
	mts_dane_tlsa_reset(&t);
	tap_ok(t.data == NULL && t.data_len == 0 && t.usage == 0,
	       "DANE-REC-5 T10: a second reset leaves the record zeroed");
	/* Nothing to look at after reset(NULL): not counted (a crash
	   still fails the program). */
	mts_dane_tlsa_reset(NULL);
}

/* ---- a test PKI (DANE-REC-3, -8, -9, -13; DANE-UNUS-3, -5) ---- */

struct der {
	uint8_t *p;
	size_t len;
};

struct pki {
	struct der cert;  /* C: self-signed, EC P-256, SAN mx.example.com */
	struct der spki;  /* SPKI(C), from the key: i2d_PUBKEY */
	struct der other; /* a second certificate with another key */
	struct der assoc[2][3]; /* [selector][mtype], computed here */
};

/* Self-signed X.509v3 certificate for `host` with its own P-256 key. */
static X509 *
make_cert(const char *host, EVP_PKEY **keyp)
{
	char san[300];
	X509_EXTENSION *ext;
	X509_NAME *name;
	X509V3_CTX ctx;
	EVP_PKEY *key;
	X509 *x;

	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (x = X509_new()) == NULL)
		abort();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                           (const unsigned char *)host, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s", host);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
	                               san)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1 ||
	    X509_sign(x, key, EVP_sha256()) == 0)
		abort();
	X509_EXTENSION_free(ext);
	*keyp = key;
	return x;
}

static struct der
cert_der(X509 *x)
{
	struct der d = {NULL, 0};
	unsigned char *p = NULL;
	int n;

	if ((n = i2d_X509(x, &p)) <= 0)
		abort();
	d.p = p;
	d.len = (size_t)n;
	return d;
}

/* The association data, by a path independent of the library's. */
static struct der
digest_by_name(const char *md, const struct der *in)
{
	struct der d;
	size_t n;

	d.p = OPENSSL_malloc(EVP_MAX_MD_SIZE);
	if (d.p == NULL ||
	    EVP_Q_digest(NULL, md, NULL, in->p, in->len, d.p, &n) != 1)
		abort();
	d.len = n;
	return d;
}

static struct der
copy_der(const struct der *in)
{
	struct der d = {OPENSSL_memdup(in->p, in->len), in->len};

	if (d.p == NULL)
		abort();
	return d;
}

static void
pki_init(struct pki *k)
{
	EVP_PKEY *key, *key2;
	unsigned char *p = NULL;
	X509 *x, *x2;
	int n, s;

	x = make_cert("mx.example.com", &key);
	x2 = make_cert("mx.example.com", &key2);
	k->cert = cert_der(x);
	k->other = cert_der(x2);
	if ((n = i2d_PUBKEY(key, &p)) <= 0)
		abort();
	k->spki.p = p;
	k->spki.len = (size_t)n;
	for (s = 0; s < 2; s++) {
		const struct der *sel = s == 0 ? &k->cert : &k->spki;

		k->assoc[s][0] = copy_der(sel);
		k->assoc[s][1] = digest_by_name("SHA2-256", sel);
		k->assoc[s][2] = digest_by_name("SHA2-512", sel);
	}
	X509_free(x);
	X509_free(x2);
	EVP_PKEY_free(key);
	EVP_PKEY_free(key2);
}

static void
pki_free(struct pki *k)
{
	int s, m;

	OPENSSL_free(k->cert.p);
	OPENSSL_free(k->spki.p);
	OPENSSL_free(k->other.p);
	for (s = 0; s < 2; s++)
		for (m = 0; m < 3; m++)
			OPENSSL_free(k->assoc[s][m].p);
}

/* A record viewing test data; never reset (the data is not its own). */
static struct mts_dane_tlsa
view(uint8_t u, uint8_t s, uint8_t m, const struct der *d)
{
	struct mts_dane_tlsa t = {u, s, m, d->len, d->p};

	return t;
}

/* DANE-REC-8 T1, literally. */
static void
test_match_rec8(const struct pki *k)
{
	static const struct {
		const char *name;
		uint8_t selector, mtype;
		int data_sel, data_mtype;
		bool match;
	} cases[] = {
	    {"DANE-REC-8 T1: 3 1 1 SHA256(SPKI(C)) matches", 1, 1, 1, 1, true},
	    {"DANE-REC-8 T1: 3 0 1 SHA256(SPKI(C)) does not", 0, 1, 1, 1,
	     false},
	    {"DANE-REC-8 T1: 3 0 1 SHA256(DER(C)) matches", 0, 1, 0, 1, true},
	    {"DANE-REC-8 T1: 3 1 2 SHA512(SPKI(C)) matches", 1, 2, 1, 2, true},
	    {"DANE-REC-8 T1: 3 1 0 SPKI(C) matches", 1, 0, 1, 0, true},
	    {"DANE-REC-8 T1: 3 1 1 SHA256(DER(C)) does not", 1, 1, 0, 1, false},
	    {"DANE-REC-8 T1: 3 0 0 SPKI(C) does not", 0, 0, 1, 0, false},
	    {"DANE-REC-8 T1: 3 1 0 DER(C) does not", 1, 0, 0, 0, false},
	};
	struct mts_dane_tlsa t;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		t = view(3, cases[i].selector, cases[i].mtype,
		         &k->assoc[cases[i].data_sel][cases[i].data_mtype]);
		tap_ok(mts_dane_tlsa_match_cert(&t, k->cert.p, k->cert.len) ==
		           cases[i].match,
		       "%s", cases[i].name);
	}
}

/*
 * DANE-REC-9 T1: every mandatory and recommended combination is usable,
 * matches C, not another certificate, and no record built from another
 * combination's data; from_cert() builds the same record.
 */
static void
test_match_rec9(const struct pki *k)
{
	struct mts_dane_tlsa t, u, g;
	unsigned s, m, s2, m2, wrong;
	bool same;
	int rc;

	for (s = 0; s < 2; s++) {
		for (m = 0; m < 3; m++) {
			t = view(3, (uint8_t)s, (uint8_t)m, &k->assoc[s][m]);
			tap_ok(mts_dane_tlsa_usable(&t, 0, NULL) == 0 &&
			           mts_dane_tlsa_match_cert(&t, k->cert.p,
			                                    k->cert.len) &&
			           !mts_dane_tlsa_match_cert(&t, k->other.p,
			                                     k->other.len),
			       "DANE-REC-9 T1: 3 %u %u is usable, matches C "
			       "only",
			       s, m);
			wrong = 0;
			for (s2 = 0; s2 < 2; s2++)
				for (m2 = 0; m2 < 3; m2++) {
					if (s2 == s && m2 == m)
						continue;
					u = view(3, (uint8_t)s2, (uint8_t)m2,
					         &k->assoc[s][m]);
					if (mts_dane_tlsa_match_cert(&u,
					                             k->cert.p,
					                             k->cert
					                                 .len))
						wrong++;
				}
			tap_ok(wrong == 0,
			       "DANE-REC-9 T2: data of 3 %u %u matches under "
			       "no other selector/type",
			       s, m);
			rc = mts_dane_tlsa_from_cert(k->cert.p, k->cert.len, 3,
			                             (uint8_t)s, (uint8_t)m, &g,
			                             NULL);
			same = rc == 0 && g.usage == 3 && g.selector == s &&
			    g.mtype == m && g.data_len == t.data_len &&
			    memcmp(g.data, t.data, t.data_len) == 0;
			tap_ok(same,
			       "DANE-REC-9 T3: from_cert 3 %u %u equals the "
			       "independent computation",
			       s, m);
			if (rc == 0)
				mts_dane_tlsa_reset(&g);
		}
	}
}

/* DANE-REC-8 T2: hex case is presentation only; digests are bytes. */
static void
test_match_hex_case(const struct pki *k)
{
	struct mts_dane_tlsa t = view(3, 1, 1, &k->assoc[1][1]), a, b;
	char *upper, *lower, *p;

	upper = mts_dane_tlsa_format(&t);
	lower = mts_dane_tlsa_format(&t);
	if (upper == NULL || lower == NULL)
		abort();
	for (p = lower; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	must_parse(upper, &a);
	must_parse(lower, &b);
	tap_ok(strcmp(upper, lower) != 0 &&
	           mts_dane_tlsa_match_cert(&a, k->cert.p, k->cert.len) &&
	           mts_dane_tlsa_match_cert(&b, k->cert.p, k->cert.len),
	       "DANE-REC-8 T2: upper- and lower-case hex both match");
	mts_dane_tlsa_reset(&a);
	mts_dane_tlsa_reset(&b);
	free(upper);
	free(lower);
}

/* DANE-REC-3 T3/T4 and DANE-REC-13 with real DER. */
static void
test_full_data(const struct pki *k)
{
	struct der trail = {malloc(k->cert.len + 1), k->cert.len + 1};
	struct der cut = {k->cert.p, k->cert.len - 1};
	struct mts_dane_tlsa t;
	struct mts_diag d;

	if (trail.p == NULL)
		abort();
	memcpy(trail.p, k->cert.p, k->cert.len);
	trail.p[k->cert.len] = 0;

	t = view(3, 0, 0, &k->cert);
	tap_ok(mts_dane_tlsa_usable(&t, 0, NULL) == 0,
	       "DANE-REC-3 T3: 3 0 0 DER(C) is usable");
	t = view(3, 0, 0, &trail);
	tap_ok(mts_dane_tlsa_usable(&t, 0, NULL) == -1,
	       "DANE-REC-3 T3: 3 0 0 with a byte after the certificate");
	t = view(3, 0, 0, &cut);
	tap_ok(mts_dane_tlsa_usable(&t, 0, NULL) == -1,
	       "DANE-REC-3 T3: 3 0 0 with a truncated certificate");
	t = view(3, 0, 0, &k->spki);
	tap_ok(mts_dane_tlsa_usable(&t, 0, NULL) == -1,
	       "DANE-REC-3 T3: 3 0 0 with an SPKI is not a certificate");
	t = view(3, 1, 0, &k->spki);
	tap_ok(mts_dane_tlsa_usable(&t, 0, NULL) == 0,
	       "DANE-REC-3 T4: 3 1 0 SPKI(C) is usable");
	t = view(3, 1, 0, &k->cert);
	tap_ok(mts_dane_tlsa_usable(&t, 0, NULL) == -1,
	       "DANE-REC-3 T4: 3 1 0 with a certificate is not an SPKI");

	mts_diag_init(&d);
	t = view(3, 0, 0, &k->cert);
	tap_ok(mts_dane_tlsa_lint(&t, &d) == 0 && d.count == 1 &&
	           tap_streq(d.items[0].code, "tlsa-full-match") &&
	           d.items[0].severity == MTS_SEV_WARNING,
	       "DANE-REC-13 T1: 3 0 0 DER(C) is a warning");
	mts_diag_reset(&d);
	t = view(2, 1, 0, &k->spki);
	tap_ok(mts_dane_tlsa_lint(&t, &d) == 0 && d.count == 1 &&
	           tap_streq(d.items[0].code, "tlsa-full-match"),
	       "DANE-REC-13 T1: 2 1 0 SPKI(C) is a warning too");
	mts_diag_reset(&d);
	free(trail.p);
}

/* Certificates that do not decode never match. */
static void
test_match_bad_cert(const struct pki *k)
{
	struct mts_dane_tlsa t = view(3, 0, 1, &k->assoc[0][1]);
	uint8_t *trail = malloc(k->cert.len + 1);

	if (trail == NULL)
		abort();
	memcpy(trail, k->cert.p, k->cert.len);
	trail[k->cert.len] = 0;
	tap_ok(!mts_dane_tlsa_match_cert(&t, trail, k->cert.len + 1),
	       "DANE-REC-8 T3: a certificate with trailing bytes never "
	       "matches");
	tap_ok(!mts_dane_tlsa_match_cert(&t, k->cert.p, k->cert.len - 1),
	       "DANE-REC-8 T3: a truncated certificate never matches");
	tap_ok(!mts_dane_tlsa_match_cert(&t, NULL, 0) &&
	           !mts_dane_tlsa_match_cert(NULL, k->cert.p, k->cert.len),
	       "DANE-REC-8 T3: NULL certificate or record never matches");
	free(trail);
}

static void
test_from_cert(const struct pki *k)
{
	struct mts_dane_tlsa g;
	struct mts_err err;
	char want[200], *s;
	uint8_t junk[4] = {0x30, 0x02, 0x05, 0x00};

	tap_ok(mts_dane_tlsa_from_cert(k->cert.p, k->cert.len, 4, 1, 1, &g,
	                               &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "DANE-REC-9 T4: from_cert rejects usage 4");
	tap_ok(mts_dane_tlsa_from_cert(k->cert.p, k->cert.len, 3, 2, 1, &g,
	                               &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "DANE-REC-9 T4: from_cert rejects selector 2");
	tap_ok(mts_dane_tlsa_from_cert(k->cert.p, k->cert.len, 3, 1, 3, &g,
	                               &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "DANE-REC-9 T4: from_cert rejects matching type 3");
	tap_ok(mts_dane_tlsa_from_cert(junk, sizeof(junk), 3, 1, 1, &g, &err) ==
	               -1 &&
	           err.code == MTS_ERR_SYNTAX,
	       "DANE-REC-9 T4: from_cert rejects a non-certificate");
	tap_ok(mts_dane_tlsa_from_cert(NULL, 0, 3, 1, 1, &g, &err) == -1 &&
	           err.code == MTS_ERR_SYNTAX,
	       "DANE-REC-9 T4: from_cert rejects no certificate");
	if (mts_dane_tlsa_from_cert(k->cert.p, k->cert.len, 3, 1, 1, &g,
	                            &err) != 0)
		abort();
	s = mts_dane_tlsa_format(&g);
	canonical(want, sizeof(want), 3, 1, 1, k->assoc[1][1].p,
	          k->assoc[1][1].len);
	tap_ok(tap_streq(s, want),
	       "DANE-REC-9 T5: `tlsa gen` output is \"3 1 1 <SHA2-256 of "
	       "SPKI>\"");
	free(s);
	mts_dane_tlsa_reset(&g);
}

/*
 * DANE-UNUS-3 and -5 as far as one record decides them: a verifier drops
 * what mts_dane_tlsa_usable() rejects and authenticates with what is
 * left (RFC 6698 App. B.2).  The RRset logic itself, and the TLS and
 * delivery consequences (DANE-UNUS-2, -4, -6), belong to the verifier's
 * and the SMTP client's tests.
 */
enum verdict { AUTHENTICATED, NO_MATCH, ALL_UNUSABLE };

static enum verdict
rrset_verdict(const struct mts_dane_tlsa *rrs, size_t n, const struct der *c)
{
	size_t i, usable = 0;

	for (i = 0; i < n; i++) {
		if (mts_dane_tlsa_usable(&rrs[i], 0, NULL) != 0)
			continue;
		usable++;
		if (mts_dane_tlsa_match_cert(&rrs[i], c->p, c->len))
			return AUTHENTICATED;
	}
	return usable == 0 ? ALL_UNUSABLE : NO_MATCH;
}

static void
test_unusable_sets(const struct pki *k)
{
	static uint8_t junk32[32] = {1};
	const struct der junk = {junk32, sizeof(junk32)};
	const struct der *good = &k->assoc[1][1];
	struct mts_dane_tlsa rr[2];

	rr[0] = view(3, 1, 3, &junk);
	rr[1] = view(3, 1, 1, good);
	tap_ok(rrset_verdict(rr, 2, &k->cert) == AUTHENTICATED,
	       "DANE-UNUS-3 T1: {3 1 3, 3 1 1 <match>} authenticates");
	rr[1] = view(3, 1, 1, &junk);
	tap_ok(rrset_verdict(rr, 2, &k->cert) == NO_MATCH,
	       "DANE-UNUS-3 T2: {3 1 3, 3 1 1 <no match>} fails, "
	       "not all-unusable");
	rr[0] = view(1, 1, 1, good);
	tap_ok(rrset_verdict(rr, 1, &k->cert) == ALL_UNUSABLE &&
	           mts_dane_tlsa_match_cert(&rr[0], k->cert.p, k->cert.len),
	       "DANE-UNUS-5 T1: {1 1 1 <match>} is all-unusable although "
	       "the digest matches");
	rr[0] = view(3, 1, 1, good);
	rr[1] = view(0, 0, 1, &junk);
	tap_ok(rrset_verdict(rr, 2, &k->cert) == AUTHENTICATED,
	       "DANE-UNUS-5 T2: {3 1 1 <match>, 0 0 1 <any>} authenticates "
	       "by DANE-EE");
	rr[0] = view(3, 1, 1, &junk);
	rr[1] = view(1, 1, 1, good);
	tap_ok(rrset_verdict(rr, 2, &k->cert) == NO_MATCH,
	       "DANE-UNUS-5 T3: {3 1 1 <no match>, 1 1 1 <match>} fails");
	rr[0] = view(3, 1, 3, &junk);
	tap_ok(rrset_verdict(rr, 1, &k->cert) == ALL_UNUSABLE,
	       "DANE-UNUS-1 T3: {3 1 3} alone is all-unusable");
}

static void
test_pki(void)
{
	struct pki k;

	memset(&k, 0, sizeof(k));
	pki_init(&k);
	tap_diag("test certificate: %zu octets, SPKI %zu octets", k.cert.len,
	         k.spki.len);
	test_match_rec8(&k);
	test_match_rec9(&k);
	test_match_hex_case(&k);
	test_match_bad_cert(&k);
	test_full_data(&k);
	test_from_cert(&k);
	test_unusable_sets(&k);
	pki_free(&k);
}

int
main(void)
{
	test_parse();
	test_parse_cap();
	test_parse_lines();
	test_parse_quote();
	test_rdata();
	test_rdata_cap();
	test_usable();
	test_usable_no_data();
	test_lint();
	test_owner();
	test_format();
	test_pki();
	return tap_done();
}
