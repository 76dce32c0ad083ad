/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the TLSA parsers of dane_tlsa.c: the RDATA wire
 * format (RFC 6698 §2.1) and the presentation format (§2.2, RFC 7218
 * acronyms).  The first input byte chooses the parser (bit 0: wire) and
 * the usability flags (bits 1-3); the rest is the record.
 *
 * Beyond "no crash, no leak", every parsed record is checked against
 * invariants: it formats and re-parses to the same record (RFC 8460
 * §4.5 reports carry the formatted form); usable() with PKIX allowed
 * agrees with lint() finding no error; and matching against a fixed
 * certificate agrees with a record built from that certificate by
 * mts_dane_tlsa_from_cert(); and the record set judgement of
 * dane_rrset.c agrees with both on a set of one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/dane.h>

/*
 * A self-signed EC P-256 certificate for mx.example.com with a SAN
 * (made once with `openssl req -x509`; 355 octets of DER).
 */
static const uint8_t cert[] =
    {0x30, 0x82, 0x01, 0x5f, 0x30, 0x82, 0x01, 0x05, 0xa0, 0x03, 0x02, 0x01,
     0x02, 0x02, 0x01, 0x01, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
     0x3d, 0x04, 0x03, 0x02, 0x30, 0x19, 0x31, 0x17, 0x30, 0x15, 0x06, 0x03,
     0x55, 0x04, 0x03, 0x0c, 0x0e, 0x6d, 0x78, 0x2e, 0x65, 0x78, 0x61, 0x6d,
     0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x30, 0x20, 0x17, 0x0d, 0x32,
     0x36, 0x31, 0x31, 0x32, 0x39, 0x30, 0x31, 0x35, 0x38, 0x34, 0x35, 0x5a,
     0x18, 0x0f, 0x32, 0x31, 0x32, 0x36, 0x31, 0x31, 0x30, 0x35, 0x30, 0x31,
     0x35, 0x38, 0x34, 0x35, 0x5a, 0x30, 0x19, 0x31, 0x17, 0x30, 0x15, 0x06,
     0x03, 0x55, 0x04, 0x03, 0x0c, 0x0e, 0x6d, 0x78, 0x2e, 0x65, 0x78, 0x61,
     0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x30, 0x59, 0x30, 0x13,
     0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
     0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x08,
     0x03, 0xe8, 0xf6, 0x0b, 0xce, 0x51, 0x11, 0x44, 0x5e, 0xd5, 0xf7, 0xa9,
     0x38, 0xe1, 0x3a, 0x37, 0x21, 0xec, 0x99, 0xad, 0xe5, 0x61, 0x0a, 0x75,
     0xc9, 0x40, 0xe3, 0x87, 0xbe, 0xbe, 0xaa, 0xab, 0xa0, 0x8f, 0x7b, 0x79,
     0x0c, 0x1c, 0xd3, 0xd7, 0xe2, 0x19, 0xea, 0xcb, 0x94, 0x78, 0x9f, 0x69,
     0xc7, 0x04, 0x54, 0xcc, 0x5c, 0x47, 0xfa, 0x0c, 0x4b, 0xf2, 0xa1, 0xd3,
     0x4a, 0xf3, 0x11, 0xa3, 0x3c, 0x30, 0x3a, 0x30, 0x19, 0x06, 0x03, 0x55,
     0x1d, 0x11, 0x04, 0x12, 0x30, 0x10, 0x82, 0x0e, 0x6d, 0x78, 0x2e, 0x65,
     0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x30, 0x1d,
     0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0xc1, 0x3c, 0x8f,
     0xc4, 0x13, 0xdb, 0x89, 0x8a, 0x50, 0x10, 0xe4, 0x95, 0x9c, 0x8b, 0x35,
     0xde, 0x1f, 0x01, 0x6c, 0xdc, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
     0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48, 0x00, 0x30, 0x45, 0x02, 0x21,
     0x00, 0xaf, 0xdf, 0xb6, 0xe0, 0x58, 0x23, 0x00, 0x51, 0x29, 0x72, 0x3a,
     0x1c, 0xbd, 0x0e, 0x34, 0x46, 0xd4, 0x17, 0xb9, 0xbb, 0xb3, 0x86, 0x1e,
     0xe7, 0x7c, 0xa2, 0x52, 0xb6, 0xd1, 0x97, 0xab, 0x0c, 0x02, 0x20, 0x3a,
     0x71, 0xc8, 0x6f, 0x43, 0x13, 0xb0, 0x08, 0x87, 0xdc, 0x35, 0x96, 0xb3,
     0xeb, 0x59, 0xd8, 0x4c, 0xe1, 0x5d, 0x52, 0x48, 0x42, 0xf0, 0x7b, 0x7c,
     0x9c, 0x5f, 0xa0, 0x81, 0x54, 0xfe, 0xd4};

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static bool
same_record(const struct mts_dane_tlsa *a, const struct mts_dane_tlsa *b)
{
	return a->usage == b->usage && a->selector == b->selector &&
	    a->mtype == b->mtype && a->data_len == b->data_len &&
	    memcmp(a->data, b->data, a->data_len) == 0;
}

/* format() -> parse() gives the record back, with the same findings. */
static void
check_round_trip(const struct mts_dane_tlsa *t)
{
	struct mts_dane_tlsa again;
	char *s;

	CHECK((s = mts_dane_tlsa_format(t)) != NULL);
	CHECK(mts_dane_tlsa_parse(s, strlen(s), &again, NULL, NULL) == 0);
	CHECK(same_record(t, &again));
	mts_dane_tlsa_reset(&again);
	free(s);
}

/*
 * RFC 6698 §4.1 as usable() applies it and as lint() reports it must
 * agree: with PKIX usages allowed, a record is usable exactly when the
 * linter finds no error.
 */
static void
check_usable_vs_lint(const struct mts_dane_tlsa *t, unsigned flags)
{
	struct mts_diag d;
	size_t errors;
	int rc;

	mts_diag_init(&d);
	errors = mts_dane_tlsa_lint(t, &d);
	CHECK(errors == mts_diag_count(&d, MTS_SEV_ERROR));
	rc = mts_dane_tlsa_usable(t, MTS_DANE_ALLOW_PKIX, NULL);
	CHECK((rc == 0) == (errors == 0));
	(void)mts_dane_tlsa_usable(t, flags, NULL);
	mts_diag_reset(&d);
}

/*
 * A record matches the certificate exactly when its data equals what
 * from_cert() builds for the same selector and matching type.
 */
static void
check_match(const struct mts_dane_tlsa *t)
{
	struct mts_dane_tlsa built;
	bool match = mts_dane_tlsa_match_cert(t, cert, sizeof(cert));

	if (t->selector > MTS_TLSA_SELECTOR_SPKI ||
	    t->mtype > MTS_TLSA_MTYPE_SHA512) {
		CHECK(!match);
		return;
	}
	CHECK(mts_dane_tlsa_from_cert(cert, sizeof(cert),
	                              MTS_TLSA_USAGE_DANE_EE, t->selector,
	                              t->mtype, &built, NULL) == 0);
	CHECK(mts_dane_tlsa_match_cert(&built, cert, sizeof(cert)));
	built.usage = t->usage;
	CHECK(match == same_record(t, &built));
	mts_dane_tlsa_reset(&built);
}

/*
 * mts_dane_rrset_fit() (dane_rrset.c) with the record alone, against the
 * fixed certificate and the raw input as a certificate above it: the
 * input reaches the DER decoder as a chain element.  A lone record is
 * usable exactly when usable() says so, and a DANE-EE one fits exactly
 * when it matches the leaf.
 */
static void
check_fit(const struct mts_dane_tlsa *t, const uint8_t *raw, size_t len)
{
	const uint8_t *der[2] = {cert, raw};
	size_t lens[2] = {sizeof(cert), len};
	struct mts_dane_chain chain = {der, lens, 2};
	struct mts_dane_rrset_fit fit;
	bool usable = mts_dane_tlsa_usable(t, 0, NULL) == 0;

	mts_dane_rrset_fit(t, 1, &chain, 0, &fit);
	CHECK(fit.usable == (usable ? 1u : 0u));
	CHECK((fit.fit == MTS_DANE_FIT_UNUSABLE) == !usable);
	CHECK(fit.fit != MTS_DANE_FIT_AGILITY); /* one record: no agility */
	if (usable && t->usage == MTS_TLSA_USAGE_DANE_EE)
		CHECK((fit.fit == MTS_DANE_FIT_MATCH) ==
		      mts_dane_tlsa_match_cert(t, cert, sizeof(cert)));
	CHECK(fit.combo_unmatched == (fit.fit == MTS_DANE_FIT_NO_MATCH));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mts_dane_tlsa t;
	struct mts_diag d;
	unsigned mode;
	int rc;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	mts_diag_init(&d);
	if ((mode & 1) != 0)
		rc = mts_dane_tlsa_parse_rdata(data, size, &t, NULL);
	else
		rc =
		    mts_dane_tlsa_parse((const char *)data, size, &t, &d, NULL);
	mts_diag_reset(&d);
	if (rc != 0)
		return 0;
	check_round_trip(&t);
	check_usable_vs_lint(&t, (mode >> 1) & 7);
	check_match(&t);
	check_fit(&t, data, size);
	mts_dane_tlsa_reset(&t);
	return 0;
}
