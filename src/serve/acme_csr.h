/* SPDX-License-Identifier: ISC */
/*
 * The certificate key and the certificate signing request of an ACME
 * order (RFC 8555 §7.4) for mtasts serve: a new ECDSA P-256 key, its
 * PKCS#8 PEM for the state directory, and a DER CSR for one DNS name
 * (mta-sts.DOMAIN), in base64url for the finalize request's "csr".
 *
 * Pure: no I/O, no clock, no globals.  Key generation draws from
 * OpenSSL's RNG.  Functions return 0 or -1 (a bad name or key, or memory
 * ran out) and write their out-params only on success.
 */
#ifndef MTS_SERVE_ACME_CSR_H
#define MTS_SERVE_ACME_CSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* The longest DNS name, in text without the final dot (RFC 1035 §2.3.4). */
#define ACME_NAME_MAX 253
/* The longest commonName (RFC 5280 Appendix A, ub-common-name). */
#define ACME_CN_MAX   64

/*
 * A new ECDSA key on P-256 (the certificate's or the account's, RFC 8555
 * §6.2's ES256).  The caller frees it with EVP_PKEY_free().  NULL when
 * OpenSSL fails.
 */
EVP_PKEY *acme_key_new(void);

/*
 * The private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY", RFC
 * 5958, RFC 7468 §10): a new C string in *pem, its length in *len.  The
 * caller clears it with explicit_bzero() and frees it (STYLE.md rule 11).
 */
int acme_key_pem(EVP_PKEY *key, char **pem, size_t *len);

/*
 * Reads a private key from PEM pem[0..len) (PKCS#8, or the "EC PRIVATE
 * KEY" form), for the state directory's files.  Only P-256 is taken.
 * The caller frees the key.  NULL otherwise.
 */
EVP_PKEY *acme_key_from_pem(const char *pem, size_t len);

/*
 * Whether name is a host name a certificate can be ordered for: 1 to
 * ACME_NAME_MAX characters, dot-separated labels of 1 to 63 letters,
 * digits and hyphens, none beginning or ending with a hyphen (RFC 1123
 * §2.1, RFC 8555 §7.1.4 "dns" identifiers), no final dot.
 */
bool acme_name_ok(const char *name);

/*
 * A subjectAltName extension with the one dNSName name (RFC 5280
 * §4.2.1.6), not critical; shared by the CSR and the challenge
 * certificate.  The caller frees it with X509_EXTENSION_free().
 */
X509_EXTENSION *acme_san_ext(const char *name);

/*
 * A DER PKCS#10 CSR (RFC 2986) for name, signed SHA-256 with key
 * (borrowed): version 1, subject CN=name when it fits ACME_CN_MAX (else
 * empty), and an extensionRequest with the subjectAltName dNSName=name,
 * which is what the CA reads (RFC 8555 §7.4).  A new buffer in *der
 * (the caller frees it with OPENSSL_free()), its length in *len.  -1
 * when name fails acme_name_ok() or OpenSSL fails.
 */
int acme_csr_der(EVP_PKEY *key, const char *name, uint8_t **der, size_t *len);

/*
 * The same CSR as base64url without padding, the "csr" member of a
 * finalize request (RFC 8555 §7.4): a new C string in *out, which the
 * caller frees.
 */
int acme_csr_b64url(EVP_PKEY *key, const char *name, char **out);

#endif /* MTS_SERVE_ACME_CSR_H */
