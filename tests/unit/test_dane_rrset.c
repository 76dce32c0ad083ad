/* SPDX-License-Identifier: ISC */
/*
 * Tests of dane_rrset.c: a TLSA RRset against a presented chain, the
 * publisher's view (checklist sections 22 and 23: DANE-AUTH-1, -2, -7,
 * -10, -11, -16, -21; DANE-UNUS-1, -2, -3, -5).
 *
 * A test PKI made here at run time: a CA (self-signed, CA:TRUE), a
 * leaf it signs, another CA and another key (a rollover's next key).
 * Records are built from them with mts_dane_tlsa_from_cert() and
 * mts_dane_tlsa_from_spki() (themselves checked against an independent
 * path in test_dane_tlsa.c), or are digests of the right length that
 * match nothing.
 */
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <mtasts/dane.h>

#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct der {
	uint8_t *p;
	size_t len;
};

static struct der
cert_der(X509 *x)
{
	unsigned char *p = NULL;
	struct der d;
	int n;

	if ((n = i2d_X509(x, &p)) <= 0)
		abort();
	d.p = p;
	d.len = (size_t)n;
	return d;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509_EXTENSION *ext;
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1)
		abort();
	X509_EXTENSION_free(ext);
}

/* A certificate for `cn` with `key`, signed by `issuer` (NULL: self). */
static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
          bool ca)
{
	X509_NAME *name;
	X509 *x;

	if ((x = X509_new()) == NULL)
		abort();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x,
	                     issuer != NULL ? X509_get_subject_name(issuer) :
	                                      name);
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
	        ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) ==
	    0)
		abort();
	return x;
}

static EVP_PKEY *
new_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (k == NULL)
		abort();
	return k;
}

/* What a record is made of. */
enum src {
	LEAF,    /* the leaf the server sends */
	CA,      /* the CA that signed it */
	OTHER,   /* another CA (a future trust anchor) */
	NEXT,    /* the next key of a rollover: SPKI only */
	WRONG,   /* a digest of the right length matching nothing */
	SHORT31, /* 31 octets: a malformed SHA2-256 */
	LEN32    /* 32 octets whatever the matching type */
};

static struct der pki[4]; /* LEAF, CA, OTHER certificates; NEXT SPKI */

static void
pki_init(void)
{
	EVP_PKEY *ca_key = new_key(), *leaf_key = new_key();
	EVP_PKEY *other_key = new_key(), *next_key = new_key();
	unsigned char *p = NULL;
	X509 *ca, *leaf, *other;
	int n;

	ca = make_cert("test CA", ca_key, NULL, NULL, true);
	leaf = make_cert("mx.example.com", leaf_key, ca, ca_key, false);
	other = make_cert("other CA", other_key, NULL, NULL, true);
	pki[LEAF] = cert_der(leaf);
	pki[CA] = cert_der(ca);
	pki[OTHER] = cert_der(other);
	if ((n = i2d_PUBKEY(next_key, &p)) <= 0)
		abort();
	pki[NEXT].p = p;
	pki[NEXT].len = (size_t)n;
	X509_free(ca);
	X509_free(leaf);
	X509_free(other);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(next_key);
}

struct rec {
	uint8_t usage, selector, mtype;
	enum src src;
};

static void
make_record(const struct rec *r, struct mts_dane_tlsa *out)
{
	static const uint8_t filler[64] = {0x77};

	if (r->src == WRONG || r->src == SHORT31 || r->src == LEN32) {
		out->usage = r->usage;
		out->selector = r->selector;
		out->mtype = r->mtype;
		out->data_len = r->src == SHORT31                        ? 31 :
		    r->src == WRONG && r->mtype == MTS_TLSA_MTYPE_SHA512 ? 64 :
									   32;
		if ((out->data = malloc(out->data_len)) == NULL)
			abort();
		memcpy(out->data, filler, out->data_len);
		return;
	}
	if (r->src == NEXT) {
		if (mts_dane_tlsa_from_spki(pki[NEXT].p, pki[NEXT].len,
		                            r->usage, r->mtype, out, NULL) != 0)
			abort();
		return;
	}
	if (mts_dane_tlsa_from_cert(pki[r->src].p, pki[r->src].len, r->usage,
	                            r->selector, r->mtype, out, NULL) != 0)
		abort();
}

#define CHAIN_LEAF_CA 0 /* leaf and CA, as most servers send */
#define CHAIN_LEAF    1 /* the leaf alone */

static const struct fit_case {
	const char *name;
	struct rec recs[4];
	size_t n;
	int chain;
	enum mts_dane_fit fit;
	bool combo; /* a combination matches nothing */
	uint8_t combo_u, combo_s, combo_m;
} cases[] = {
    {"DANE-AUTH-1 T1: 3 1 1 of another key only: no match",
     {{3, 1, 1, WRONG}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_NO_MATCH,
     true,
     3,
     1,
     1},
    {"DANE-AUTH-2 T1: {3 1 1 wrong, 3 1 1 right}: one match is enough",
     {{3, 1, 1, WRONG}, {3, 1, 1, LEAF}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-AUTH-3: 3 0 1 of the leaf matches",
     {{3, 0, 1, LEAF}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-AUTH-3: DANE-EE matches the leaf only, not the CA",
     {{3, 1, 1, CA}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_NO_MATCH,
     true,
     3,
     1,
     1},
    {"DANE-AUTH-7 T1: 2 0 1 of the CA in the chain matches",
     {{2, 0, 1, CA}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-AUTH-7: 2 1 2 of the CA's key matches",
     {{2, 1, 2, CA}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-AUTH-7 T3: 2 0 1 of a CA the server does not send: no match",
     {{2, 0, 1, CA}},
     1,
     CHAIN_LEAF,
     MTS_DANE_FIT_NO_MATCH,
     true,
     2,
     0,
     1},
    {"DANE-AUTH-7: a DANE-TA digest never matches the leaf itself",
     {{2, 0, 1, LEAF}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_NO_MATCH,
     true,
     2,
     0,
     1},
    {"DANE-AUTH-10 T1: 2 0 0 (the whole CA) anchors a chain without it",
     {{2, 0, 0, CA}},
     1,
     CHAIN_LEAF,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-AUTH-10: 2 0 0 of a CA that signed nothing sent: no match",
     {{2, 0, 0, OTHER}},
     1,
     CHAIN_LEAF,
     MTS_DANE_FIT_NO_MATCH,
     true,
     2,
     0,
     0},
    {"DANE-AUTH-11 T1: 2 1 0 (the CA's bare key) signed the top: match",
     {{2, 1, 0, CA}},
     1,
     CHAIN_LEAF,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-AUTH-16 T1: {3 1 1 match, 3 1 2 no}: agility keeps the "
     "SHA2-512 only",
     {{3, 1, 1, LEAF}, {3, 1, 2, WRONG}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_AGILITY,
     true,
     3,
     1,
     2},
    {"DANE-AUTH-16 T2: {3 1 1 no, 3 1 2 match}: authenticated",
     {{3, 1, 1, WRONG}, {3, 1, 2, LEAF}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     true,
     3,
     1,
     1},
    {"DANE-AUTH-16 T3: {3 1 1 match, 3 1 2 of 31 octets}: the malformed "
     "one is dropped first",
     {{3, 1, 1, LEAF}, {3, 1, 2, SHORT31}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-AUTH-16 T4: {3 1 0 match, 3 1 2 no}: full data always counts",
     {{3, 1, 0, LEAF}, {3, 1, 2, WRONG}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     true,
     3,
     1,
     2},
    {"DANE-AUTH-16: agility is per usage and selector: {3 1 1 match, "
     "3 0 2 no}",
     {{3, 1, 1, LEAF}, {3, 0, 2, WRONG}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     true,
     3,
     0,
     2},
    {"DANE-AUTH-21 T1: only the next key's 3 1 1 is published: no match",
     {{3, 1, 1, NEXT}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_NO_MATCH,
     true,
     3,
     1,
     1},
    {"DANE-AUTH-21: the current and the next key: a rollover done right",
     {{3, 1, 1, LEAF}, {3, 1, 1, NEXT}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-AUTH-21 T2: {3 1 1 current, 2 0 1 a future TA}: 2 0 1 "
     "matches nothing",
     {{3, 1, 1, LEAF}, {2, 0, 1, OTHER}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     true,
     2,
     0,
     1},
    {"DANE-UNUS-1 T1: 4 1 1 is unusable",
     {{4, 1, 1, WRONG}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_UNUSABLE,
     false,
     0,
     0,
     0},
    {"DANE-UNUS-1 T1: 3 2 1 is unusable",
     {{3, 2, 1, WRONG}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_UNUSABLE,
     false,
     0,
     0,
     0},
    {"DANE-UNUS-1 T1, DANE-UNUS-2 T1: {3 1 3} alone: all unusable",
     {{3, 1, 3, WRONG}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_UNUSABLE,
     false,
     0,
     0,
     0},
    {"DANE-UNUS-1 T1: 3 1 1 of 31 octets is unusable",
     {{3, 1, 1, SHORT31}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_UNUSABLE,
     false,
     0,
     0,
     0},
    {"DANE-UNUS-1 T1: 3 1 2 of 32 octets is unusable",
     {{3, 1, 2, LEN32}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_UNUSABLE,
     false,
     0,
     0,
     0},
    {"DANE-UNUS-3 T1: {3 1 3, 3 1 1 match}: the usable one authenticates",
     {{3, 1, 3, WRONG}, {3, 1, 1, LEAF}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-UNUS-3 T2: {3 1 3, 3 1 1 no}: a failure, not all-unusable",
     {{3, 1, 3, WRONG}, {3, 1, 1, WRONG}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_NO_MATCH,
     true,
     3,
     1,
     1},
    {"DANE-UNUS-5 T1: {1 1 1 match} alone: unusable for SMTP",
     {{1, 1, 1, LEAF}},
     1,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_UNUSABLE,
     false,
     0,
     0,
     0},
    {"DANE-UNUS-5 T2: {3 1 1 match, 0 0 1 anything}: PKIX ignored",
     {{3, 1, 1, LEAF}, {0, 0, 1, WRONG}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_MATCH,
     false,
     0,
     0,
     0},
    {"DANE-UNUS-5 T3: {3 1 1 no, 1 1 1 match}: the PKIX-EE match does not "
     "count",
     {{3, 1, 1, WRONG}, {1, 1, 1, LEAF}},
     2,
     CHAIN_LEAF_CA,
     MTS_DANE_FIT_NO_MATCH,
     true,
     3,
     1,
     1},
};

static void
run_case(const struct fit_case *c)
{
	const uint8_t *der[2] = {pki[LEAF].p, pki[CA].p};
	size_t len[2] = {pki[LEAF].len, pki[CA].len};
	struct mts_dane_chain chain = {der, len,
	                               c->chain == CHAIN_LEAF ? 1 : 2};
	struct mts_dane_tlsa set[4];
	struct mts_dane_rrset_fit fit;
	size_t i, n = c->n;

	for (i = 0; i < n; i++)
		make_record(&c->recs[i], &set[i]);
	memset(&fit, 0xA5, sizeof(fit));
	mts_dane_rrset_fit(set, n, &chain, 0, &fit);
	tap_ok(fit.fit == c->fit && fit.combo_unmatched == c->combo &&
	           (!c->combo ||
	            (fit.combo_usage == c->combo_u &&
	             fit.combo_selector == c->combo_s &&
	             fit.combo_mtype == c->combo_m)),
	       "%s", c->name);
	if (fit.fit != c->fit || fit.combo_unmatched != c->combo)
		tap_diag("fit %d (want %d), combo %d %u %u %u", (int)fit.fit,
		         (int)c->fit, fit.combo_unmatched, fit.combo_usage,
		         fit.combo_selector, fit.combo_mtype);
	for (i = 0; i < n; i++)
		mts_dane_tlsa_reset(&set[i]);
}

/* Counting: usable and matching records. */
static void
test_counts(void)
{
	const uint8_t *der[2] = {pki[LEAF].p, pki[CA].p};
	size_t len[2] = {pki[LEAF].len, pki[CA].len};
	struct mts_dane_chain chain = {der, len, 2};
	static const struct rec recs[] = {{3, 1, 1, LEAF},
	                                  {2, 0, 1, CA},
	                                  {3, 1, 3, WRONG},
	                                  {0, 0, 1, CA}};
	struct mts_dane_tlsa set[NELEM(recs)];
	struct mts_dane_rrset_fit fit;
	size_t i;

	for (i = 0; i < NELEM(recs); i++)
		make_record(&recs[i], &set[i]);
	mts_dane_rrset_fit(set, NELEM(recs), &chain, 0, &fit);
	tap_ok(fit.usable == 2 && fit.matching == 2,
	       "DANE-UNUS-1: 2 of 4 usable (3 1 3 and PKIX-TA dropped), "
	       "both match");
	mts_dane_rrset_fit(set, NELEM(recs), &chain, MTS_DANE_ALLOW_PKIX, &fit);
	tap_ok(fit.usable == 3 && fit.matching == 3,
	       "DANE-UNUS-5: with PKIX allowed, 0 0 1 of the CA counts too");
	mts_dane_rrset_fit(set, NELEM(recs), NULL, 0, &fit);
	tap_ok(fit.fit == MTS_DANE_FIT_NO_MATCH && fit.matching == 0,
	       "no chain: nothing matches");
	mts_dane_rrset_fit(NULL, 3, &chain, 0, &fit);
	tap_ok(fit.fit == MTS_DANE_FIT_UNUSABLE && fit.usable == 0,
	       "no records: unusable, no crash");
	mts_dane_rrset_fit(set, 1, &chain, MTS_DANE_DISABLE_SHA256, &fit);
	tap_ok(fit.fit == MTS_DANE_FIT_UNUSABLE,
	       "DANE-UNUS-1: a digest local policy disables is unusable");
	/* A NULL result is ignored: nothing to look at, so not counted (a
	   crash still fails the program). */
	mts_dane_rrset_fit(set, 1, &chain, 0, NULL);
	for (i = 0; i < NELEM(recs); i++)
		mts_dane_tlsa_reset(&set[i]);
}

/* Garbage in the chain or the records matches nothing and never fails. */
static void
test_garbage(void)
{
	static uint8_t junk[] = {0x30, 0x82, 0xff, 0xff, 0x01};
	const uint8_t *der[2] = {pki[LEAF].p, junk};
	size_t len[2] = {pki[LEAF].len, sizeof(junk)};
	struct mts_dane_chain chain = {der, len, 2};
	struct mts_dane_tlsa t = {2, 0, 0, sizeof(junk), junk};
	struct mts_dane_rrset_fit fit;
	struct rec r = {3, 1, 1, LEAF};
	struct mts_dane_tlsa ee;

	mts_dane_rrset_fit(&t, 1, &chain, 0, &fit);
	tap_ok(fit.fit == MTS_DANE_FIT_UNUSABLE,
	       "2 0 0 with undecodable data is unusable");
	make_record(&r, &ee);
	mts_dane_rrset_fit(&ee, 1, &chain, 0, &fit);
	tap_ok(fit.fit == MTS_DANE_FIT_MATCH,
	       "DANE-AUTH-5 T1: a matching leaf with a garbage certificate "
	       "above it");
	mts_dane_tlsa_reset(&ee);
}

int
main(void)
{
	size_t i;

	pki_init();
	for (i = 0; i < NELEM(cases); i++)
		run_case(&cases[i]);
	test_counts();
	test_garbage();
	for (i = 0; i < NELEM(pki); i++)
		OPENSSL_free(pki[i].p);
	return tap_done();
}
