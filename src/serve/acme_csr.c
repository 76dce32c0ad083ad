/* SPDX-License-Identifier: ISC */
/*
 * The certificate key and CSR of an ACME order (RFC 8555 §7.4; PKCS#10,
 * RFC 2986; the extensionRequest attribute of RFC 2985 §5.4.2): OpenSSL
 * 3's EVP and X509_REQ interfaces.  See acme_csr.h.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_csr.h"
#include "acme_jws.h"

/* The longest label of a DNS name (RFC 1035 §2.3.4). */
#define LABEL_MAX   63
/* Cap on a PEM private key read back: a P-256 key is about 250 octets. */
#define KEY_PEM_MAX 16384

EVP_PKEY *
acme_key_new(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

int
acme_key_pem(EVP_PKEY *key, char **pem, size_t *len)
{
	BIO *bio;
	char *data = NULL, *copy;
	long n;
	int rc = -1;

	if (key == NULL || (bio = BIO_new(BIO_s_secmem())) == NULL)
		return -1;
	/* PEM_write_bio_PrivateKey() writes PKCS#8 in OpenSSL 3. */
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) !=
	        1 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0)
		goto out;
	if ((copy = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(copy, data, (size_t)n);
	copy[n] = '\0';
	*pem = copy;
	*len = (size_t)n;
	rc = 0;
out:
	/* A secure-memory BIO clears what it held when freed. */
	BIO_free(bio);
	return rc;
}

EVP_PKEY *
acme_key_from_pem(const char *pem, size_t len)
{
	BIO *bio;
	EVP_PKEY *key;
	char group[64];
	size_t glen = 0;

	if (pem == NULL || len == 0 || len > KEY_PEM_MAX)
		return NULL;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL)
		return NULL;
	if (!EVP_PKEY_is_a(key, "EC") ||
	    EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) != 1 ||
	    strcmp(group, SN_X9_62_prime256v1) != 0) {
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

static bool
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

bool
acme_name_ok(const char *name)
{
	size_t i, label = 0;

	if (name == NULL || name[0] == '\0')
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= ACME_NAME_MAX)
			return false;
		if (name[i] == '.') {
			/* An empty label, or one ending with a hyphen. */
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_ldh(name[i]) || ++label > LABEL_MAX ||
		    (label == 1 && name[i] == '-'))
			return false;
	}
	return label != 0 && name[i - 1] != '-';
}

X509_EXTENSION *
acme_san_ext(const char *name)
{
	GENERAL_NAMES *names;
	GENERAL_NAME *gn;
	ASN1_IA5STRING *ia5;
	X509_EXTENSION *ext = NULL;

	if (!acme_name_ok(name) || (names = GENERAL_NAMES_new()) == NULL)
		return NULL;
	if ((gn = GENERAL_NAME_new()) == NULL)
		goto out;
	if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(ia5, name, (int)strlen(name)) != 1) {
		ASN1_IA5STRING_free(ia5);
		GENERAL_NAME_free(gn);
		goto out;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	if (sk_GENERAL_NAME_push(names, gn) <= 0) {
		GENERAL_NAME_free(gn);
		goto out;
	}
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names);
out:
	GENERAL_NAMES_free(names);
	return ext;
}

/* The subject CN=name, or an empty name when it is too long for a CN
   (the CA reads the subjectAltName in any case, RFC 8555 §7.4). */
static X509_NAME *
subject_name(const char *name)
{
	X509_NAME *subj;

	if ((subj = X509_NAME_new()) == NULL)
		return NULL;
	if (strlen(name) <= ACME_CN_MAX &&
	    X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_ASC,
	                               (const unsigned char *)name, -1, -1,
	                               0) != 1) {
		X509_NAME_free(subj);
		return NULL;
	}
	return subj;
}

/* The signed request for name. */
static X509_REQ *
csr_new(EVP_PKEY *key, const char *name)
{
	X509_REQ *req;
	X509_NAME *subj = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *san = NULL;

	if ((req = X509_REQ_new()) == NULL)
		return NULL;
	if ((subj = subject_name(name)) == NULL ||
	    (san = acme_san_ext(name)) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    sk_X509_EXTENSION_push(exts, san) <= 0)
		goto fail;
	san = NULL; /* now owned by exts */
	if (X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, subj) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto fail;
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(subj);
	return req;
fail:
	X509_EXTENSION_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(subj);
	X509_REQ_free(req);
	return NULL;
}

int
acme_csr_der(EVP_PKEY *key, const char *name, uint8_t **der, size_t *len)
{
	X509_REQ *req;
	unsigned char *buf = NULL;
	int n;

	if (key == NULL || !acme_name_ok(name))
		return -1;
	if ((req = csr_new(key, name)) == NULL)
		return -1;
	n = i2d_X509_REQ(req, &buf);
	X509_REQ_free(req);
	if (n <= 0)
		return -1;
	*der = buf;
	*len = (size_t)n;
	return 0;
}

int
acme_csr_b64url(EVP_PKEY *key, const char *name, char **out)
{
	uint8_t *der = NULL;
	size_t len = 0;
	char *s;

	if (acme_csr_der(key, name, &der, &len) != 0)
		return -1;
	s = acme_b64url_new(der, len);
	OPENSSL_free(der);
	if (s == NULL)
		return -1;
	*out = s;
	return 0;
}
