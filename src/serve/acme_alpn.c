/* SPDX-License-Identifier: ISC */
/*
 * The TLS-ALPN-01 challenge certificate (RFC 8737 §3, §6.1): made with
 * OpenSSL 3's X509 interfaces, and read back as a validating CA reads
 * it.  See acme_alpn.h.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_alpn.h"
#include "acme_csr.h"

/* Bounds on the lifetime: the CA validates within minutes. */
#define LIFETIME_MIN  1L
#define LIFETIME_MAX  (30L * 86400)
/* The extension's value: DER OCTET STRING, tag 04, length 32, digest. */
#define EXT_VALUE_LEN (2 + ACME_ALPN_DIGEST_LEN)
/* Octets of the serial number, taken from the digest. */
#define SERIAL_LEN    16
/* The subject of a name too long to be a commonName. */
#define FALLBACK_CN   ACME_ALPN_PROTO
/* Cap on a certificate read back. */
#define CERT_PEM_MAX  65536

/*
 * The critical id-pe-acmeIdentifier extension with SHA-256(key_authz)
 * (RFC 8737 §3): its extnValue holds the DER encoding of
 * Authorization ::= OCTET STRING (SIZE (32)), written here by hand.
 */
static X509_EXTENSION *
acme_identifier_ext(const uint8_t digest[ACME_ALPN_DIGEST_LEN])
{
	ASN1_OBJECT *oid;
	ASN1_OCTET_STRING *value;
	X509_EXTENSION *ext = NULL;
	uint8_t der[EXT_VALUE_LEN];

	der[0] = V_ASN1_OCTET_STRING;
	der[1] = ACME_ALPN_DIGEST_LEN;
	memcpy(der + 2, digest, ACME_ALPN_DIGEST_LEN);
	/* OpenSSL 3.0 has no NID for the OID: the numeric form (no_name). */
	if ((oid = OBJ_txt2obj(ACME_ALPN_OID, 1)) == NULL)
		return NULL;
	if ((value = ASN1_OCTET_STRING_new()) != NULL &&
	    ASN1_OCTET_STRING_set(value, der, sizeof(der)) == 1)
		ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value);
	ASN1_OCTET_STRING_free(value);
	ASN1_OBJECT_free(oid);
	return ext;
}

/* CN=name, or CN=acme-tls/1 for a name longer than a CN may be. */
static int
set_names(X509 *x, const char *name)
{
	X509_NAME *n;
	const char *cn = strlen(name) <= ACME_CN_MAX ? name : FALLBACK_CN;
	int rc = -1;

	if ((n = X509_NAME_new()) == NULL)
		return -1;
	if (X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_ASC,
	                               (const unsigned char *)cn, -1, -1,
	                               0) == 1 &&
	    X509_set_subject_name(x, n) == 1 && X509_set_issuer_name(x, n) == 1)
		rc = 0;
	X509_NAME_free(n);
	return rc;
}

/* A positive serial number from the digest: no randomness needed, and
   each key authorization gets its own (RFC 5280 §4.1.2.2). */
static int
set_serial(X509 *x, const uint8_t digest[ACME_ALPN_DIGEST_LEN])
{
	uint8_t bin[SERIAL_LEN];
	BIGNUM *bn;
	ASN1_INTEGER *serial = NULL;
	int rc = -1;

	memcpy(bin, digest, sizeof(bin));
	bin[0] = (uint8_t)((bin[0] & 0x7f) | 0x40); /* positive, non-zero */
	if ((bn = BN_bin2bn(bin, sizeof(bin), NULL)) == NULL)
		return -1;
	if ((serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	    X509_set_serialNumber(x, serial) == 1)
		rc = 0;
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return rc;
}

/* Adds ext to x and frees it. */
static int
add_ext(X509 *x, X509_EXTENSION *ext)
{
	int rc;

	if (ext == NULL)
		return -1;
	rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

/* The certificate, signed. */
static X509 *
cert_new(EVP_PKEY *key, const char *name,
         const uint8_t digest[ACME_ALPN_DIGEST_LEN], time_t now, long lifetime)
{
	X509 *x;

	if ((x = X509_new()) == NULL)
		return NULL;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    set_serial(x, digest) != 0 || set_names(x, name) != 0 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, lifetime, &now) ==
	        NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    add_ext(x, acme_san_ext(name)) != 0 ||
	    add_ext(x, acme_identifier_ext(digest)) != 0 ||
	    X509_sign(x, key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int
acme_alpn_cert(EVP_PKEY *key, const char *name, const char *key_authz,
               time_t now, long lifetime, char **pem, size_t *len)
{
	uint8_t digest[ACME_ALPN_DIGEST_LEN];
	unsigned int dlen = 0;
	X509 *x = NULL;
	BIO *bio = NULL;
	char *data = NULL, *copy;
	long n;
	int rc = -1;

	if (key == NULL || !acme_name_ok(name) || key_authz == NULL ||
	    key_authz[0] == '\0' || lifetime < LIFETIME_MIN ||
	    lifetime > LIFETIME_MAX)
		return -1;
	/* RFC 8737 §3: the SHA-256 digest of the key authorization. */
	if (EVP_Digest(key_authz, strlen(key_authz), digest, &dlen,
	               EVP_sha256(), NULL) != 1 ||
	    dlen != sizeof(digest))
		return -1;
	if ((x = cert_new(key, name, digest, now, lifetime)) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, x) != 1 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (copy = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(copy, data, (size_t)n);
	copy[n] = '\0';
	*pem = copy;
	*len = (size_t)n;
	rc = 0;
out:
	BIO_free(bio);
	X509_free(x);
	return rc;
}

/* Whether the only subjectAltName entry of x is the dNSName name. */
static bool
san_is_only(X509 *x, const char *name)
{
	GENERAL_NAMES *names;
	const GENERAL_NAME *gn;
	const ASN1_IA5STRING *dns;
	int crit = 0, type;
	bool ok = false;

	/* NULL when absent, unreadable or present twice (crit -2). */
	if ((names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL)) ==
	    NULL)
		return false;
	if (sk_GENERAL_NAME_num(names) == 1) {
		gn = sk_GENERAL_NAME_value(names, 0);
		dns = GENERAL_NAME_get0_value(gn, &type);
		ok = type == GEN_DNS &&
		    (size_t)ASN1_STRING_length(dns) == strlen(name) &&
		    strncasecmp((const char *)ASN1_STRING_get0_data(dns), name,
		                strlen(name)) == 0;
	}
	GENERAL_NAMES_free(names);
	return ok;
}

/* The digest of the one critical acmeIdentifier extension of x. */
static int
identifier_digest(X509 *x, uint8_t digest[ACME_ALPN_DIGEST_LEN])
{
	ASN1_OBJECT *oid;
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *v;
	const unsigned char *p;
	int idx, rc = -1;

	if ((oid = OBJ_txt2obj(ACME_ALPN_OID, 1)) == NULL)
		return -1;
	idx = X509_get_ext_by_OBJ(x, oid, -1);
	/* Present exactly once (RFC 5280 §4.2: no extension twice). */
	if (idx < 0 || X509_get_ext_by_OBJ(x, oid, idx) >= 0)
		goto out;
	ext = X509_get_ext(x, idx);
	v = X509_EXTENSION_get_data(ext);
	if (X509_EXTENSION_get_critical(ext) != 1 ||
	    ASN1_STRING_length(v) != EXT_VALUE_LEN)
		goto out;
	p = ASN1_STRING_get0_data(v);
	if (p[0] != V_ASN1_OCTET_STRING || p[1] != ACME_ALPN_DIGEST_LEN)
		goto out;
	memcpy(digest, p + 2, ACME_ALPN_DIGEST_LEN);
	rc = 0;
out:
	ASN1_OBJECT_free(oid);
	return rc;
}

int
acme_alpn_check(const char *pem, size_t len, const char *name,
                uint8_t digest[ACME_ALPN_DIGEST_LEN])
{
	BIO *bio;
	X509 *x;
	uint8_t tmp[ACME_ALPN_DIGEST_LEN];
	int rc = -1;

	if (pem == NULL || len == 0 || len > CERT_PEM_MAX || name == NULL)
		return -1;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return -1;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL)
		return -1;
	if (san_is_only(x, name) && identifier_digest(x, tmp) == 0) {
		memcpy(digest, tmp, sizeof(tmp));
		rc = 0;
	}
	X509_free(x);
	return rc;
}
