/* SPDX-License-Identifier: ISC */
/*
 * The TLS-ALPN-01 challenge certificate (src/serve/acme_alpn.c, RFC 8737
 * §3): parsed back with OpenSSL, it carries the id-pe-acmeIdentifier
 * extension, critical, whose extnValue is 04 20 and SHA-256 of the key
 * authorization (computed here apart); its validity is the `now` and
 * lifetime passed in; it is self-signed by the key given; its only SAN
 * is the name, which X509_check_host() accepts.  Then acme_alpn_check()
 * against certificates made by hand that a CA must refuse: the
 * extension not critical, absent, of the wrong length, a second SAN.
 * Prints TAP.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_alpn.h"
#include "acme_csr.h"
#include "acme_jws.h"
#include "tap.h"

static const char name[] = "mta-sts.example.com";
/* 2023-11-14T22:13:20Z: any fixed instant does. */
static const time_t now = 1700000000;

static X509 *
parse(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	return x;
}

static void
sha256(const char *s, uint8_t md[32])
{
	unsigned int n = 0;

	memset(md, 0, 32);
	if (s != NULL)
		EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
}

static void
test_cert(EVP_PKEY *key, const char *authz)
{
	char *pem = NULL;
	size_t len = 0;
	uint8_t md[32], want[34], got[32];
	X509 *x;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *v;
	BIGNUM *serial;
	int idx;

	sha256(authz, md);
	want[0] = 0x04;
	want[1] = 0x20;
	memcpy(want + 2, md, 32);

	if (!tap_ok(acme_alpn_cert(key, name, authz, now, 3600, &pem, &len) ==
	                    0 &&
	                pem != NULL && len == strlen(pem),
	            "challenge certificate made"))
		return;
	if (!tap_ok((x = parse(pem, len)) != NULL, "its PEM parses")) {
		free(pem);
		return;
	}
	idx = X509_get_ext_by_OBJ(x, oid, -1);
	ext = idx >= 0 ? X509_get_ext(x, idx) : NULL;
	tap_ok(ext != NULL, "id-pe-acmeIdentifier present");
	tap_ok(ext != NULL && X509_EXTENSION_get_critical(ext) == 1,
	       "id-pe-acmeIdentifier critical");
	v = ext != NULL ? X509_EXTENSION_get_data(ext) : NULL;
	tap_ok(v != NULL && ASN1_STRING_length(v) == 34 &&
	           memcmp(ASN1_STRING_get0_data(v), want, 34) == 0,
	       "extnValue is 04 20 || SHA-256(key authorization)");
	tap_ok(idx >= 0 && X509_get_ext_by_OBJ(x, oid, idx) < 0,
	       "id-pe-acmeIdentifier once");
	memset(got, 0, sizeof(got));
	tap_ok(acme_alpn_check(pem, len, name, got) == 0 &&
	           memcmp(got, md, 32) == 0,
	       "acme_alpn_check returns the digest");
	tap_ok(acme_alpn_check(pem, len, "mta-sts.example.net", got) == -1,
	       "acme_alpn_check refuses another name");

	tap_ok(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), now) == 0,
	       "notBefore is now");
	tap_ok(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), now + 3600) == 0,
	       "notAfter is now + lifetime");
	tap_ok(X509_check_host(x, name, 0, 0, NULL) == 1,
	       "X509_check_host accepts %s", name);
	tap_ok(X509_check_host(x, "www.example.com", 0, 0, NULL) != 1,
	       "X509_check_host refuses www.example.com");
	tap_ok(X509_verify(x, key) == 1 &&
	           X509_NAME_cmp(X509_get_subject_name(x),
	                         X509_get_issuer_name(x)) == 0,
	       "self-signed by the key given");
	tap_ok(X509_get_version(x) == X509_VERSION_3 &&
	           X509_get_signature_nid(x) == NID_ecdsa_with_SHA256,
	       "version 3, ecdsa-with-SHA256");
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	tap_ok(serial != NULL && !BN_is_zero(serial) && !BN_is_negative(serial),
	       "serial number positive");
	BN_free(serial);
	X509_free(x);
	free(pem);
	ASN1_OBJECT_free(oid);
}

static void
test_refused(EVP_PKEY *key, const char *authz)
{
	char *pem = NULL;
	size_t len = 0;
	long bad_life[] = {0, -1, 30L * 86400 + 1};
	size_t i;

	for (i = 0; i < sizeof(bad_life) / sizeof(bad_life[0]); i++)
		tap_ok(acme_alpn_cert(key, name, authz, now, bad_life[i], &pem,
		                      &len) == -1 &&
		           pem == NULL,
		       "lifetime %ld refused", bad_life[i]);
	tap_ok(acme_alpn_cert(key, "a..b", authz, now, 60, &pem, &len) == -1 &&
	           pem == NULL,
	       "a bad name refused");
	tap_ok(acme_alpn_cert(key, name, "", now, 60, &pem, &len) == -1 &&
	           pem == NULL,
	       "an empty key authorization refused");
	tap_ok(acme_alpn_cert(NULL, name, authz, now, 60, &pem, &len) == -1 &&
	           pem == NULL,
	       "no key refused");
}

/* A certificate made here, to show what acme_alpn_check() refuses:
   ext_len octets of extnValue (04 len-2 then 0x11s), critical or not,
   with a second SAN entry or not. */
static char *
hand_cert(EVP_PKEY *key, int ext_len, int critical, bool two_sans, size_t *len)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	uint8_t val[64];
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *copy;
	long n;

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 60);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
	                        two_sans ?
	                            "DNS:mta-sts.example.com,DNS:x.test" :
	                            "DNS:mta-sts.example.com");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (ext_len > 0) {
		memset(val, 0x11, sizeof(val));
		val[0] = 0x04;
		val[1] = (uint8_t)(ext_len - 2);
		ASN1_OCTET_STRING_set(v, val, ext_len);
		e = X509_EXTENSION_create_by_OBJ(NULL, oid, critical, v);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, key, EVP_sha256());
	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &data);
	copy = malloc((size_t)n + 1);
	memcpy(copy, data, (size_t)n);
	copy[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	ASN1_OCTET_STRING_free(v);
	ASN1_OBJECT_free(oid);
	X509_free(x);
	return copy;
}

static void
test_check(EVP_PKEY *key)
{
	static const struct {
		const char *what;
		int ext_len, critical;
		bool two_sans;
		int want;
	} cases[] = {
	    {"the hand-made control (critical, 34 octets)", 34, 1, false, 0},
	    {"not critical", 34, 0, false, -1},
	    {"absent", 0, 1, false, -1},
	    {"a 31-octet digest", 33, 1, false, -1},
	    {"a 33-octet digest", 35, 1, false, -1},
	    {"a second SAN entry", 34, 1, true, -1},
	};
	uint8_t got[32], all11[32];
	size_t i, len;
	char *pem;
	int rc;

	memset(all11, 0x11, sizeof(all11));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pem = hand_cert(key, cases[i].ext_len, cases[i].critical,
		                cases[i].two_sans, &len);
		memset(got, 0, sizeof(got));
		rc = acme_alpn_check(pem, len, name, got);
		tap_ok(rc == cases[i].want &&
		           (rc != 0 || memcmp(got, all11, 32) == 0),
		       "acme_alpn_check: %s -> %d", cases[i].what,
		       cases[i].want);
		free(pem);
	}
}

int
main(void)
{
	EVP_PKEY *key = acme_key_new(), *acct = acme_key_new();
	char thumb[ACME_THUMBPRINT_SIZE], *authz = NULL;

	if (!tap_ok(key != NULL && acct != NULL &&
	                acme_jwk_thumbprint(acct, thumb) == 0 &&
	                acme_key_authz(
			    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
			    thumb, &authz) == 0,
	            "keys and a key authorization"))
		return tap_done();
	test_cert(key, authz);
	test_refused(key, authz);
	test_check(key);
	free(authz);
	EVP_PKEY_free(key);
	EVP_PKEY_free(acct);
	return tap_done();
}
