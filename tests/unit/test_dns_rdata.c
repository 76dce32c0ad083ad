/* SPDX-License-Identifier: ISC */
/*
 * Tests of dns_rdata.c: the RDATA wire formats libunbound hands over
 * (RFC 1035 §3.3, §3.4.1, RFC 3596 §2.2, RFC 6698 §2.1), the name
 * decoder with its \DDD escapes (RFC 1035 §5.1) and every length check,
 * TXT joining (checklist STS-TXT-12), null MX (RFC 7505), the
 * all-or-nothing answer decoder and the query-name check.  Inputs are
 * byte strings with explicit lengths: they hold NULs.
 */
#include <stdint.h>
#include <string.h>

#include "dns_rdata.h"
#include "tap.h"

#define L63  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"
#define L62  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij"
#define L61  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi"
#define W63  "\x3f" L63
#define W62  "\x3e" L62
#define W61  "\x3d" L61
#define S255 L63 L63 L63 L63 "abc" /* 255 octets */

/* Each row: the bytes with their length (sizeof - 1 keeps NULs). */
#define B(s) s, sizeof(s) - 1

/* ---- names ---- */

static const struct name_case {
	const char *name;
	const char *wire;
	size_t len;
	const char *want; /* NULL: an error */
	size_t want_used;
	enum mts_errcode want_code;
	const char *want_msg;
} name_cases[] = {
    {"plain name",
     B("\x03www\x07"
       "example\x04test\x00"),
     "www.example.test", 18, MTS_OK, NULL},
    {"root is the empty string", B("\x00"), "", 1, MTS_OK, NULL},
    {"case kept",
     B("\x03MX1\x07"
       "Example\x00"),
     "MX1.Example", 13, MTS_OK, NULL},
    {"underscore and hyphen kept", B("\x03_25\x04_tcp\x06mx-one\x00"),
     "_25._tcp.mx-one", 17, MTS_OK, NULL},
    {"dot inside a label escaped",
     B("\x03"
       "a.b\x04test\x00"),
     "a\\046b.test", 10, MTS_OK, NULL},
    {"control byte escaped",
     B("\x02"
       "a\x01\x00"),
     "a\\001", 4, MTS_OK, NULL},
    {"NUL octet escaped", B("\x01\x00\x00"), "\\000", 3, MTS_OK, NULL},
    {"backslash and space escaped", B("\x03\\ x\x00"), "\\092\\032x", 5, MTS_OK,
     NULL},
    {"wildcard escaped",
     B("\x01*\x07"
       "example\x00"),
     "\\042.example", 11, MTS_OK, NULL},
    {"octet 255 escaped", B("\x01\xff\x00"), "\\255", 3, MTS_OK, NULL},
    {"octets after the name not taken",
     B("\x01"
       "a\x00XYZ"),
     "a", 3, MTS_OK, NULL},
    {"63-octet label", B(W63 "\x00"), L63, 65, MTS_OK, NULL},
    {"255-octet name", B(W63 W63 W63 W61 "\x00"), L63 "." L63 "." L63 "." L61,
     255, MTS_OK, NULL},
    {"256-octet name", B(W63 W63 W63 W62 "\x00"), NULL, 0, MTS_ERR_SYNTAX,
     "domain name: over 255 octets"},
    {"64-octet label is label type 01", B("\x40" L63 "a\x00"), NULL, 0,
     MTS_ERR_SYNTAX, "domain name: unknown label type"},
    {"label type 10", B("\x80\x00"), NULL, 0, MTS_ERR_SYNTAX,
     "domain name: unknown label type"},
    {"compression pointer", B("\xc0\x0c"), NULL, 0, MTS_ERR_SYNTAX,
     "domain name: compression pointer in uncompressed RDATA"},
    {"pointer after a label", B("\x03www\xc0\x0c"), NULL, 0, MTS_ERR_SYNTAX,
     "domain name: compression pointer in uncompressed RDATA"},
    {"empty input", "", 0, NULL, 0, MTS_ERR_SYNTAX, "domain name: truncated"},
    {"label overruns",
     B("\x05"
       "abc"),
     NULL, 0, MTS_ERR_SYNTAX, "domain name: truncated"},
    {"root label missing",
     B("\x03"
       "abc"),
     NULL, 0, MTS_ERR_SYNTAX, "domain name: truncated"},
};

static void
test_names(void)
{
	char buf[MTS_DNS_NAME_TEXT_MAX];
	size_t i, used;
	int rc;

	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		struct mts_err err = {0};

		used = 9999;
		rc = mts_dns_rdata_name((const uint8_t *)c->wire, c->len, &used,
		                        buf, sizeof(buf), &err);
		if (c->want != NULL)
			tap_ok(rc == 0 && tap_streq(buf, c->want) &&
			           used == c->want_used,
			       "name: %s", c->name);
		else
			tap_ok(rc == -1 && err.code == c->want_code &&
			           tap_streq(err.msg, c->want_msg) &&
			           used == 9999,
			       "name: %s", c->name);
	}
}

/* The longest text: 250 octets that all need \DDD, and 3 dots. */
static void
test_name_sizes(void)
{
	uint8_t wire[MTS_DNS_NAME_WIRE_MAX];
	char buf[MTS_DNS_NAME_TEXT_MAX];
	const uint8_t lens[] = {63, 63, 63, 61};
	struct mts_err err = {0};
	size_t i, off = 0, used;
	int rc;

	for (i = 0; i < sizeof(lens); i++) {
		wire[off++] = lens[i];
		memset(wire + off, '.', lens[i]);
		off += lens[i];
	}
	wire[off++] = 0;
	rc = mts_dns_rdata_name(wire, off, &used, buf, sizeof(buf), &err);
	tap_ok(rc == 0 && strlen(buf) == 1003 && used == 255,
	       "name: the longest text is 1003 characters");
	rc = mts_dns_rdata_name(wire, off, &used, buf, 1003, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG,
	       "name: a buffer one short is too small");
	rc = mts_dns_rdata_name((const uint8_t *)"\x01"
	                                         "a\x00",
	                        3, &used, buf, 2, &err);
	tap_ok(rc == 0 && tap_streq(buf, "a"), "name: exact fit");
	rc = mts_dns_rdata_name((const uint8_t *)"\x01"
	                                         "a\x01"
	                                         "b\x00",
	                        5, &used, buf, 2, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG,
	       "name: no room for the dot");
}

/* ---- TXT ---- */

static const struct txt_case {
	const char *name;
	const char *rdata;
	size_t len;
	const char *want; /* NULL: an error */
	size_t want_len;
	enum mts_errcode want_code;
	const char *want_msg;
} txt_cases[] = {
    {"one string", B("\x0fv=STSv1; id=123"), "v=STSv1; id=123", 15, MTS_OK,
     NULL},
    {"STS-TXT-12 T1: joined without spaces",
     B("\x0ev=STSv1; id=20\x06"
       "190101"),
     "v=STSv1; id=20190101", 20, MTS_OK, NULL},
    {"STS-TXT-12 T2: space kept from the second string",
     B("\x08v=STSv1;\x05 id=1"), "v=STSv1; id=1", 13, MTS_OK, NULL},
    {"STS-TXT-12 T3: no field split or merged",
     B("\x0dv=STSv1; id=1\x09; foo=bar"), "v=STSv1; id=1; foo=bar", 22, MTS_OK,
     NULL},
    {"one empty string", B("\x00"), "", 0, MTS_OK, NULL},
    {"empty strings around one",
     B("\x00\x03"
       "abc\x00"),
     "abc", 3, MTS_OK, NULL},
    {"NUL inside a string kept",
     B("\x03"
       "a\x00"
       "b"),
     "a\0b", 3, MTS_OK, NULL},
    {"255-octet string", B("\xff" S255), S255, 255, MTS_OK, NULL},
    {"empty RDATA", "", 0, NULL, 0, MTS_ERR_SYNTAX, "TXT: no character-string"},
    {"string overruns",
     B("\x05"
       "abc"),
     NULL, 0, MTS_ERR_SYNTAX, "TXT: character-string overruns the record"},
    {"length octet at the end",
     B("\x03"
       "abc\x02"),
     NULL, 0, MTS_ERR_SYNTAX, "TXT: character-string overruns the record"},
};

static void
test_txt(void)
{
	size_t i, len;
	char *s;
	int rc;

	for (i = 0; i < sizeof(txt_cases) / sizeof(txt_cases[0]); i++) {
		const struct txt_case *c = &txt_cases[i];
		struct mts_err err = {0};

		s = NULL;
		len = 0;
		rc = mts_dns_rdata_txt((const uint8_t *)c->rdata, c->len, &s,
		                       &len, &err);
		if (c->want != NULL)
			tap_ok(rc == 0 && len == c->want_len && s != NULL &&
			           memcmp(s, c->want, len) == 0 &&
			           s[len] == '\0',
			       "TXT: %s", c->name);
		else
			tap_ok(rc == -1 && s == NULL &&
			           err.code == c->want_code &&
			           tap_streq(err.msg, c->want_msg),
			       "TXT: %s", c->name);
		free(s);
	}
}

/* n strings of 255 octets. */
static int
txt_of_strings(size_t n, char **s, size_t *len, struct mts_err *err)
{
	uint8_t *rdata;
	size_t i;
	int rc;

	if ((rdata = malloc(n * 256)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		rdata[i * 256] = 255;
		memset(rdata + i * 256 + 1, 'x', 255);
	}
	rc = mts_dns_rdata_txt(rdata, n * 256, s, len, err);
	free(rdata);
	return rc;
}

static void
test_txt_cap(void)
{
	struct mts_err err = {0};
	char *s = NULL;
	size_t len = 0;
	int rc;

	/* 64 x 255 = 16320 octets: under the cap. */
	rc = txt_of_strings(64, &s, &len, &err);
	tap_ok(rc == 0 && len == 16320, "TXT: 64 strings of 255 octets");
	free(s);
	s = NULL;
	rc = txt_of_strings(65, &s, &len, &err);
	tap_ok(rc == -1 && s == NULL && err.code == MTS_ERR_TOOBIG,
	       "TXT: over %u octets is too big", MTS_DNS_TXT_MAX);
}

/* ---- MX and CNAME ---- */

static const struct mx_case {
	const char *name;
	const char *rdata;
	size_t len;
	int want_rc;
	unsigned want_pref;
	const char *want; /* host, or the error message */
} mx_cases[] = {
    {"MX 10 mx1.example.test",
     B("\x00\x0a\x03mx1\x07"
       "example\x04test\x00"),
     0, 10, "mx1.example.test"},
    {"null MX (RFC 7505)", B("\x00\x00\x00"), 0, 0, ""},
    {"preference 65535", B("\xff\xff\x02mx\x00"), 0, 65535, "mx"},
    {"preference 258", B("\x01\x02\x02mx\x00"), 0, 258, "mx"},
    {"a dot smuggled in a label",
     B("\x00\x0a\x08mx1.evil\x07"
       "example\x00"),
     0, 10, "mx1\\046evil.example"},
    {"two octets", B("\x00\x0a"), -1, 0, "MX: shorter than 3 octets"},
    {"empty", "", 0, -1, 0, "MX: shorter than 3 octets"},
    {"octets after the name", B("\x00\x0a\x02mx\x00\x00"), -1, 0,
     "MX: octets after the name"},
    {"truncated name", B("\x00\x0a\x03mx"), -1, 0, "domain name: truncated"},
    {"compression pointer", B("\x00\x0a\xc0\x0c"), -1, 0,
     "domain name: compression pointer in uncompressed RDATA"},
};

static void
test_mx(void)
{
	struct mts_dns_mx mx;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(mx_cases) / sizeof(mx_cases[0]); i++) {
		const struct mx_case *c = &mx_cases[i];
		struct mts_err err = {0};

		memset(&mx, 0, sizeof(mx));
		rc = mts_dns_rdata_mx((const uint8_t *)c->rdata, c->len, &mx,
		                      &err);
		if (c->want_rc == 0)
			tap_ok(rc == 0 && mx.preference == c->want_pref &&
			           tap_streq(mx.host, c->want),
			       "MX: %s", c->name);
		else
			tap_ok(rc == -1 && mx.host == NULL &&
			           err.code == MTS_ERR_SYNTAX &&
			           tap_streq(err.msg, c->want),
			       "MX: %s", c->name);
		free(mx.host);
	}
}

static void
test_cname(void)
{
	struct mts_err err = {0};
	char *t = NULL;
	int rc;

	rc = mts_dns_rdata_cname((const uint8_t
	                              *)"\x08_mta-sts\x08provider\x04test\x00",
	                         24, &t, &err);
	tap_ok(rc == 0 && tap_streq(t, "_mta-sts.provider.test"),
	       "CNAME: STS-TXT-13 target");
	free(t);
	t = NULL;
	rc = mts_dns_rdata_cname((const uint8_t *)"\x01"
	                                          "a\x00\x01",
	                         4, &t, &err);
	tap_ok(rc == -1 && t == NULL &&
	           tap_streq(err.msg, "CNAME: octets after the name"),
	       "CNAME: octets after the name");
	rc = mts_dns_rdata_cname((const uint8_t *)"\x00", 1, &t, &err);
	tap_ok(rc == 0 && tap_streq(t, ""), "CNAME: to the root");
	free(t);
}

/* ---- A and AAAA ---- */

static const struct addr_case {
	const char *name;
	uint16_t type;
	const char *rdata;
	size_t len;
	const char *want; /* NULL: an error */
	enum mts_errcode want_code;
} addr_cases[] = {
    {"A 127.0.25.1", MTS_DNS_TYPE_A, B("\x7f\x00\x19\x01"), "127.0.25.1",
     MTS_OK},
    {"A 255.255.255.255", MTS_DNS_TYPE_A, B("\xff\xff\xff\xff"),
     "255.255.255.255", MTS_OK},
    {"A of 3 octets", MTS_DNS_TYPE_A, B("\x7f\x00\x01"), NULL, MTS_ERR_SYNTAX},
    {"A of 5 octets", MTS_DNS_TYPE_A, B("\x7f\x00\x00\x01\x00"), NULL,
     MTS_ERR_SYNTAX},
    {"AAAA fd6d:7473::25:1", MTS_DNS_TYPE_AAAA,
     B("\xfd\x6d\x74\x73\x00\x00\x00\x00\x00\x00\x00\x00\x00\x25\x00\x01"),
     "fd6d:7473::25:1", MTS_OK},
    {"AAAA ::", MTS_DNS_TYPE_AAAA,
     B("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
     "::", MTS_OK},
    {"AAAA of 15 octets", MTS_DNS_TYPE_AAAA,
     B("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), NULL,
     MTS_ERR_SYNTAX},
    {"AAAA of 4 octets", MTS_DNS_TYPE_AAAA, B("\x7f\x00\x00\x01"), NULL,
     MTS_ERR_SYNTAX},
    {"not an address type", MTS_DNS_TYPE_MX, B("\x7f\x00\x00\x01"), NULL,
     MTS_ERR_ARG},
};

static void
test_addr(void)
{
	size_t i;
	char *s;
	int rc;

	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const struct addr_case *c = &addr_cases[i];
		struct mts_err err = {0};

		s = NULL;
		rc = mts_dns_rdata_addr(c->type, (const uint8_t *)c->rdata,
		                        c->len, &s, &err);
		if (c->want != NULL)
			tap_ok(rc == 0 && tap_streq(s, c->want), "%s", c->name);
		else
			tap_ok(rc == -1 && s == NULL &&
			           err.code == c->want_code,
			       "%s", c->name);
		free(s);
	}
}

/* ---- whole answers ---- */

#define TLSA311                                                                \
	"\x03\x01\x01"                                                         \
	"0123456789abcdef0123456789abcdef"

static void
test_records(void)
{
	char txt1[] = "\x0ev=STSv1; id=20\x06"
		      "190101";
	char txt2[] = "\x05hello";
	char mx1[] = "\x00\x14\x02mx\x00";
	char mx2[] = "\x00\x0a\x03mx1\x00";
	char tlsa[] = TLSA311;
	char tlsa_short[] = "\x03\x01\x01";
	char a[] = "\xc0\x00\x02\x01";
	char cname1[] = "\x01"
			"b\x00";
	char cname2[] = "\x01"
			"c\x00";
	char bad_txt[] = "\x09short";
	char *txts[] = {txt1, txt2, NULL};
	int txt_lens[] = {22, 6};
	char *mxs[] = {mx1, mx2, NULL};
	int mx_lens[] = {6, 7};
	char *tlsas[] = {tlsa, NULL};
	int tlsa_lens[] = {35};
	char *shorts[] = {tlsa, tlsa_short, NULL};
	int short_lens[] = {35, 3};
	char *as[] = {a, NULL};
	int a_lens[] = {4};
	char *cnames[] = {cname1, cname2, NULL};
	int cname_lens[] = {3, 3};
	char *mixed[] = {txt1, bad_txt, NULL};
	int mixed_lens[] = {22, 6};
	char *none[] = {NULL};
	int negative[] = {-1};
	struct mts_dns_records r;
	struct mts_err err = {0};
	int rc;

	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_TXT, txts, txt_lens, &err);
	tap_ok(rc == 0 && r.count == 2 && r.txt_len[0] == 20 &&
	           tap_streq(r.txt[0], "v=STSv1; id=20190101") &&
	           tap_streq(r.txt[1], "hello") && r.mx == NULL,
	       "records: two TXT, the first of two strings (STS-TXT-12 T1)");
	mts_dns_records_reset(&r);
	tap_ok(r.count == 0 && r.txt == NULL, "records: reset zeroes");

	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_MX, mxs, mx_lens, &err);
	tap_ok(rc == 0 && r.count == 2 && r.mx[0].preference == 20 &&
	           tap_streq(r.mx[0].host, "mx") && r.mx[1].preference == 10 &&
	           tap_streq(r.mx[1].host, "mx1"),
	       "records: MX in answer order");
	mts_dns_records_reset(&r);

	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_TLSA, tlsas, tlsa_lens,
	                            &err);
	tap_ok(rc == 0 && r.count == 1 && r.tlsa[0].usage == 3 &&
	           r.tlsa[0].selector == 1 && r.tlsa[0].mtype == 1 &&
	           r.tlsa[0].data_len == 32 &&
	           memcmp(r.tlsa[0].data, "0123", 4) == 0,
	       "records: TLSA 3 1 1");
	mts_dns_records_reset(&r);

	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_TLSA, shorts, short_lens,
	                            &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_SYNTAX && r.count == 0 &&
	           r.tlsa == NULL,
	       "records: a TLSA of 3 octets fails the answer");

	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_A, as, a_lens, &err);
	tap_ok(rc == 0 && r.count == 1 && tap_streq(r.addr[0], "192.0.2.1"),
	       "records: A");
	mts_dns_records_reset(&r);

	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_AAAA, as, a_lens, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_SYNTAX && r.addr == NULL,
	       "records: 4 octets as AAAA fail");

	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_CNAME, cnames, cname_lens,
	                            &err);
	tap_ok(rc == 0 && r.count == 2 && tap_streq(r.target, "b"),
	       "records: CNAME, the first target kept");
	mts_dns_records_reset(&r);

	rc = mts_dns_records_decode(&r, 99, txts, txt_lens, &err);
	tap_ok(rc == 0 && r.count == 2 && r.txt == NULL && r.target == NULL,
	       "records: another type is only counted");
	mts_dns_records_reset(&r);

	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_TXT, mixed, mixed_lens,
	                            &err);
	tap_ok(rc == -1 && r.count == 0 && r.txt == NULL &&
	           tap_streq(err.msg,
	                     "TXT: character-string overruns the record"),
	       "records: one bad record fails the whole answer");

	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_TXT, none, NULL, &err);
	tap_ok(rc == 0 && r.count == 0, "records: none");
	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_TXT, NULL, NULL, &err);
	tap_ok(rc == 0 && r.count == 0, "records: NULL list");
	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_TXT, txts, negative, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_ARG && r.count == 0,
	       "records: negative length");
	mts_dns_records_reset(&r);
	mts_dns_records_reset(&r);
	tap_ok(r.count == 0 && r.txt == NULL && r.txt_len == NULL &&
	           r.mx == NULL && r.addr == NULL && r.tlsa == NULL &&
	           r.target == NULL,
	       "records: a second reset leaves the records empty");
	/* Nothing to look at after reset(NULL): not counted (a crash
	   still fails the program). */
	mts_dns_records_reset(NULL);
}

static void
test_records_cap(void)
{
	char rec[] = "\x01x";
	char *data[MTS_DNS_RECORDS_MAX + 2];
	int lens[MTS_DNS_RECORDS_MAX + 1];
	struct mts_dns_records r;
	struct mts_err err = {0};
	size_t i;
	int rc;

	for (i = 0; i <= MTS_DNS_RECORDS_MAX; i++) {
		data[i] = rec;
		lens[i] = 2;
	}
	data[MTS_DNS_RECORDS_MAX] = NULL;
	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_TXT, data, lens, &err);
	tap_ok(rc == 0 && r.count == MTS_DNS_RECORDS_MAX, "records: %u records",
	       MTS_DNS_RECORDS_MAX);
	mts_dns_records_reset(&r);
	data[MTS_DNS_RECORDS_MAX] = rec;
	data[MTS_DNS_RECORDS_MAX + 1] = NULL;
	rc = mts_dns_records_decode(&r, MTS_DNS_TYPE_TXT, data, lens, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG && r.count == 0,
	       "records: one more is too many");
}

/* ---- canonical names from libunbound ---- */

static const struct canon_case {
	const char *name;
	const char *canonname;
	const char *qname;
	const char *want; /* NULL: no canonical name */
} canon_cases[] = {
    {"none reported", NULL, "example.test", NULL},
    {"the name asked", "example.test.", "example.test", NULL},
    {"the name asked, in other case, both with dots", "EXAMPLE.test.",
     "example.TEST.", NULL},
    {"a CNAME target", "_mta-sts.example.test.", "_mta-sts.cname.test",
     "_mta-sts.example.test"},
    {"no final dot", "mx1.example.test", "mx.cname.test", "mx1.example.test"},
    {"the root is the empty string", ".", "example.test", ""},
    {"the root asked", ".", ".", NULL},
    {"a wildcard is escaped", "*.example.test.", "a.test",
     "\\042.example.test"},
    {"libunbound's '?' is escaped", "a?b.example.", "a.test",
     "a\\063b.example"},
};

static void
test_canonical(void)
{
	char unset[] = "unset";
	size_t i;
	char *s;
	int rc;

	for (i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]); i++) {
		const struct canon_case *c = &canon_cases[i];
		struct mts_err err = {0};

		s = unset;
		rc = mts_dns_canonical(c->canonname, c->qname, &s, &err);
		tap_ok(rc == 0 && tap_streq(s, c->want), "canonical: %s",
		       c->name);
		if (rc == 0 && s != unset)
			free(s);
	}
}

/* ---- query names ---- */

static const struct qname_case {
	const char *name;
	const char *input;
	const char *want_msg; /* NULL: accepted */
} qname_cases[] = {
    {"plain", "example.test", NULL},
    {"trailing dot", "example.test.", NULL},
    {"owner with underscores", "_25._tcp.mx1.example.test", NULL},
    {"policy record owner", "_mta-sts.example.test", NULL},
    {"the root", ".", NULL},
    {"one label", "test", NULL},
    {"253 octets", L63 "." L63 "." L63 "." L61, NULL},
    {"253 octets and the dot", L63 "." L63 "." L63 "." L61 ".", NULL},
    {"254 octets", L63 "." L63 "." L63 "." L62, "name over 253 octets"},
    {"255 octets and the dot", L63 "." L63 "." L63 "." L63 ".",
     "name over 253 octets"},
    {"empty", "", "empty name"},
    {"two dots", "..", "empty label"},
    {"leading dot", ".example.test", "empty label"},
    {"double dot", "a..test", "empty label"},
    {"64-octet label", L63 "a.test", "label over 63 octets"},
    {"space", "a b.test",
     "bad character in name: letters, digits, '-', '_' and dots only"},
    {"escape", "a\\046b.test",
     "bad character in name: letters, digits, '-', '_' and dots only"},
    {"U-label",
     "b\xc3\xbc"
     "cher.test",
     "bad character in name: letters, digits, '-', '_' and dots only"},
    {"wildcard", "*.example.test",
     "bad character in name: letters, digits, '-', '_' and dots only"},
};

static void
test_qnames(void)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(qname_cases) / sizeof(qname_cases[0]); i++) {
		const struct qname_case *c = &qname_cases[i];
		struct mts_err err = {0};

		rc = mts_dns_qname_check(c->input, &err);
		if (c->want_msg == NULL)
			tap_ok(rc == 0, "qname: %s", c->name);
		else
			tap_ok(rc == -1 && err.code == MTS_ERR_ARG &&
			           tap_streq(err.msg, c->want_msg),
			       "qname: %s", c->name);
	}
	tap_ok(mts_dns_qname_check(NULL, NULL) == -1, "qname: NULL");
}

int
main(void)
{
	test_names();
	test_name_sizes();
	test_txt();
	test_txt_cap();
	test_mx();
	test_cname();
	test_addr();
	test_records();
	test_records_cap();
	test_canonical();
	test_qnames();
	return tap_done();
}
