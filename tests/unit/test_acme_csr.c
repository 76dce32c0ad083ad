/* SPDX-License-Identifier: ISC */
/*
 * The certificate key and CSR of an ACME order (src/serve/acme_csr.c,
 * RFC 8555 §7.4): a new P-256 key, its PKCS#8 PEM read back to the same
 * key, and a CSR parsed back with d2i_X509_REQ(): signed SHA-256 by that
 * key (and by no other), version 1, CN=name, one extension, the
 * subjectAltName with exactly dNSName=name; the same through base64url;
 * and the names that may and may not be ordered.  Prints TAP.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_csr.h"
#include "acme_jws.h"
#include "tap.h"

static const struct name_case {
	const char *name;
	bool ok;
} name_cases[] = {
    {"mta-sts.example.com", true},
    {"a", true},
    {"x-1.y2", true},
    {"MTA-STS.Example.COM", true},
    {"", false},
    {".", false},
    {"a..b", false},
    {".a.b", false},
    {"a.b.", false},
    {"-a.b", false},
    {"a-.b", false},
    {"a.b-", false},
    {"a_b.c", false},
    {"a b.c", false},
    {"*.example.com", false},
    {"a.\xc3\xa9.com", false},
};

/* A name of n characters: labels of 63 'a' joined by dots. */
static char *
long_name(size_t n)
{
	char *s = malloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = (i % 64 == 63) ? '.' : 'a';
	s[n] = '\0';
	return s;
}

static void
test_names(void)
{
	size_t i;
	char *s, label[66];

	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++)
		tap_ok(acme_name_ok(name_cases[i].name) == name_cases[i].ok,
		       "name \"%s\" %s", name_cases[i].name,
		       name_cases[i].ok ? "taken" : "refused");
	s = long_name(ACME_NAME_MAX);
	tap_ok(acme_name_ok(s), "a name of 253 characters is taken");
	free(s);
	s = long_name(ACME_NAME_MAX + 2);
	tap_ok(!acme_name_ok(s), "a name of 255 characters is refused");
	free(s);
	memset(label, 'a', 63);
	memcpy(label + 63, ".b", 3);
	tap_ok(acme_name_ok(label), "a label of 63 characters is taken");
	memset(label, 'a', 64);
	memcpy(label + 64, ".", 2);
	label[64] = '\0';
	tap_ok(!acme_name_ok(label), "a label of 64 characters is refused");
}

static void
test_key(void)
{
	EVP_PKEY *key = acme_key_new(), *back = NULL, *p384;
	char *pem = NULL, group[64];
	size_t len = 0, glen = 0;
	BIO *bio;
	char *data;
	long n;

	tap_ok(key != NULL && EVP_PKEY_is_a(key, "EC") &&
	           EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) ==
	               1 &&
	           strcmp(group, "prime256v1") == 0,
	       "a new key is EC on P-256");
	tap_ok(acme_key_pem(key, &pem, &len) == 0 && len == strlen(pem) &&
	           strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0,
	       "its PEM is PKCS#8 (BEGIN PRIVATE KEY)");
	back = acme_key_from_pem(pem, len);
	tap_ok(back != NULL && EVP_PKEY_eq(key, back) == 1,
	       "the PEM reads back to the same key");
	EVP_PKEY_free(back);
	back = acme_key_from_pem(pem, len - 30);
	tap_ok(back == NULL, "a cut PEM is refused");
	free(pem);

	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, p384, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &data);
	back = acme_key_from_pem(data, (size_t)n);
	tap_ok(n > 0 && back == NULL, "a P-384 PEM is refused");
	EVP_PKEY_free(back);
	BIO_free(bio);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(key);
}

/* The CN of req, or NULL. */
static char *
subject_cn(X509_REQ *req)
{
	static char cn[128];
	X509_NAME *subj = X509_REQ_get_subject_name(req);

	if (X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn)) < 0)
		return NULL;
	return cn;
}

/* Whether req's only extension is a SAN whose only entry is dNSName name. */
static bool
only_san(X509_REQ *req, const char *name)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *names = NULL;
	const GENERAL_NAME *gn;
	const ASN1_STRING *dns;
	int type;
	bool ok = false;

	if (exts == NULL || sk_X509_EXTENSION_num(exts) != 1)
		goto out;
	if (OBJ_obj2nid(X509_EXTENSION_get_object(
		sk_X509_EXTENSION_value(exts, 0))) != NID_subject_alt_name)
		goto out;
	names = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	if (names == NULL || sk_GENERAL_NAME_num(names) != 1)
		goto out;
	gn = sk_GENERAL_NAME_value(names, 0);
	dns = GENERAL_NAME_get0_value(gn, &type);
	ok = type == GEN_DNS &&
	    (size_t)ASN1_STRING_length(dns) == strlen(name) &&
	    memcmp(ASN1_STRING_get0_data(dns), name, strlen(name)) == 0;
out:
	GENERAL_NAMES_free(names);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return ok;
}

/* Checks one CSR in DER for name, signed by key; other is another key. */
static void
check_csr(const uint8_t *der, size_t len, const char *name, EVP_PKEY *key,
          EVP_PKEY *other, const char *want_cn, const char *what)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	EVP_PKEY *pub;
	const char *cn;

	if (!tap_ok(req != NULL && p == der + len,
	            "%s: CSR parses with d2i_X509_REQ, whole", what))
		return;
	tap_ok(X509_REQ_verify(req, key) == 1, "%s: CSR verifies with its key",
	       what);
	tap_ok(X509_REQ_verify(req, other) != 1,
	       "%s: CSR does not verify with another key", what);
	pub = X509_REQ_get0_pubkey(req);
	tap_ok(pub != NULL && EVP_PKEY_eq(pub, key) == 1,
	       "%s: CSR carries the key's public half", what);
	tap_ok(X509_REQ_get_signature_nid(req) == NID_ecdsa_with_SHA256,
	       "%s: CSR signed ecdsa-with-SHA256", what);
	tap_ok(X509_REQ_get_version(req) == X509_REQ_VERSION_1,
	       "%s: CSR version 1 (0)", what);
	cn = subject_cn(req);
	tap_ok(tap_streq(cn, want_cn), "%s: subject CN %s (got %s)", what,
	       want_cn != NULL ? want_cn : "absent", cn != NULL ? cn : "none");
	tap_ok(only_san(req, name),
	       "%s: one extension, SAN with exactly dNSName=%s", what, name);
	X509_REQ_free(req);
}

static void
test_csr(void)
{
	static const char name[] = "mta-sts.example.com";
	EVP_PKEY *key = acme_key_new(), *other = acme_key_new();
	uint8_t *der = NULL, *raw = NULL;
	size_t len = 0, raw_len = 0;
	char *b64 = NULL, *ln;

	tap_ok(acme_csr_der(key, name, &der, &len) == 0 && der != NULL,
	       "CSR made");
	if (der != NULL)
		check_csr(der, len, name, key, other, name, "DER");
	OPENSSL_free(der);

	tap_ok(acme_csr_b64url(key, name, &b64) == 0 && b64 != NULL &&
	           strpbrk(b64, "+/=") == NULL &&
	           acme_b64url_decode(b64, strlen(b64), &raw, &raw_len) == 0,
	       "CSR in base64url, no + / or =");
	if (raw != NULL)
		check_csr(raw, raw_len, name, key, other, name, "base64url");
	free(raw);
	free(b64);

	/* Too long for a CN (ub-common-name 64): the subject is empty. */
	ln = long_name(100);
	der = NULL;
	tap_ok(acme_csr_der(key, ln, &der, &len) == 0,
	       "CSR for 100 characters");
	if (der != NULL)
		check_csr(der, len, ln, key, other, NULL, "long name");
	OPENSSL_free(der);
	free(ln);

	der = NULL;
	len = 77;
	tap_ok(acme_csr_der(key, "a..b", &der, &len) == -1 && der == NULL &&
	           len == 77,
	       "CSR for a bad name refused, out-params untouched");
	tap_ok(acme_csr_der(NULL, name, &der, &len) == -1 && der == NULL,
	       "CSR without a key refused");
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

int
main(void)
{
	test_names();
	test_key();
	test_csr();
	return tap_done();
}
