/* SPDX-License-Identifier: ISC */
/*
 * The TLS-ALPN-01 challenge certificate (RFC 8737 §3) for mtasts serve:
 * the self-signed certificate that the server presents to a CA's
 * validation connection offering the "acme-tls/1" protocol, for the one
 * name being validated.  It carries a subjectAltName with exactly that
 * dNSName and the critical id-pe-acmeIdentifier extension (OID
 * 1.3.6.1.5.5.7.1.31, RFC 8737 §6.1) whose value is the DER OCTET
 * STRING of SHA-256 of the key authorization (RFC 8555 §8.1).
 *
 * Pure: the validity comes from the `now` passed in; the serial number
 * is derived from the digest, so the same inputs give the same
 * certificate up to the signature.  Functions return 0 or -1 and write
 * their out-params only on success.
 */
#ifndef MTS_SERVE_ACME_ALPN_H
#define MTS_SERVE_ACME_ALPN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

/* The ALPN protocol ID of the challenge (RFC 8737 §6.2). */
#define ACME_ALPN_PROTO      "acme-tls/1"
/* The OID of id-pe-acmeIdentifier (RFC 8737 §6.1). */
#define ACME_ALPN_OID        "1.3.6.1.5.5.7.1.31"
/* The SHA-256 digest the extension carries. */
#define ACME_ALPN_DIGEST_LEN 32

/*
 * The challenge certificate for name (acme_name_ok()) and the key
 * authorization key_authz (acme_key_authz()), self-signed SHA-256 with
 * key (borrowed; a throwaway P-256 key from acme_key_new(), or any key
 * OpenSSL signs with), valid from now to now + lifetime seconds
 * (lifetime 1 to 30 days: the CA validates within minutes).  Subject
 * and issuer CN=name when it fits ACME_CN_MAX, else CN=acme-tls/1.
 * Writes a new PEM C string in *pem (the caller frees it) and its
 * length in *len.  -1 on a bad name, key or lifetime, or when OpenSSL
 * fails.
 */
int acme_alpn_cert(EVP_PKEY *key, const char *name, const char *key_authz,
                   time_t now, long lifetime, char **pem, size_t *len);

/*
 * Reads a PEM certificate pem[0..len) as a validating CA would (RFC 8737
 * §3): it must carry the id-pe-acmeIdentifier extension exactly once,
 * marked critical, its value the DER OCTET STRING of 32 octets (04 20
 * then the digest, nothing after), and a subjectAltName whose only
 * entry is the dNSName name (compared without regard to case).  0 with
 * the digest in digest[], or -1 (digest untouched).  For the tests and
 * the server's self-check; it does not verify the signature.
 */
int acme_alpn_check(const char *pem, size_t len, const char *name,
                    uint8_t digest[ACME_ALPN_DIGEST_LEN]);

#endif /* MTS_SERVE_ACME_ALPN_H */
