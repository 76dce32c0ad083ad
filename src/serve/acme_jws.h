/* SPDX-License-Identifier: ISC */
/*
 * The JSON Web Signature side of ACME (RFC 8555 §6.2) for mtasts serve:
 * base64url without padding (RFC 7515 §2, RFC 4648 §5), the JWK of an
 * EC P-256 public key (RFC 7518 §6.2.1) and its thumbprint (RFC 7638
 * §3), the key authorization of a challenge (RFC 8555 §8.1), and the
 * flattened JWS of every ACME POST, signed ES256 (RFC 7518 §3.4).
 *
 * Pure: keys and strings in, strings out; no I/O, no clock, no globals.
 * The nonce and the URL of a request are the caller's.  Only P-256 keys
 * are taken: ES256 is the one algorithm that every ACME server must
 * accept besides RS256 (RFC 8555 §6.2), and its keys are small.
 * Every function returns 0 or -1 (a wrong key, a malformed input, or
 * memory ran out) and writes its out-params only on success.
 */
#ifndef MTS_SERVE_ACME_JWS_H
#define MTS_SERVE_ACME_JWS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* Characters of the base64url form of n octets, without padding. */
#define ACME_B64URL_LEN(n)   (((n) / 3) * 4 + ((n) % 3 == 0 ? 0 : (n) % 3 + 1))
/* A thumbprint: the base64url of a SHA-256 digest, and its NUL. */
#define ACME_THUMBPRINT_SIZE (ACME_B64URL_LEN(32) + 1)
/* An ES256 signature: r then s, 32 octets each (RFC 7518 §3.4). */
#define ACME_ES256_SIG_LEN   64
/* Cap on a challenge token; the CA's are 43 characters (RFC 8555 §8.3). */
#define ACME_TOKEN_MAX       256

/*
 * Writes the base64url form of in[0..len), no padding (RFC 7515 §2), as
 * a C string in out[0..size).  Returns the number of characters, or -1
 * when size is under ACME_B64URL_LEN(len) + 1 (out untouched).  in may
 * be NULL when len is 0.
 */
int acme_b64url_encode(const uint8_t *in, size_t len, char *out, size_t size);

/*
 * The same in a new string, which the caller frees.  NULL when memory
 * runs out.
 */
char *acme_b64url_new(const uint8_t *in, size_t len);

/*
 * Decodes base64url text s[0..len): the URL-safe alphabet only, no
 * padding, no white space, and the unused low bits of the last
 * character zero (RFC 4648 §3.5), so that each octet string has one
 * form.  On success *out is a new buffer (the caller frees it; one
 * extra NUL octet after the data, so that text can be read as a C
 * string) and *out_len its length.  -1 on any other character, on a
 * length of 1 mod 4, or when memory runs out.
 */
int acme_b64url_decode(const char *s, size_t len, uint8_t **out,
                       size_t *out_len);

/*
 * The JWK of the public half of a P-256 key (RFC 7518 §6.2.1):
 * {"crv":"P-256","kty":"EC","x":X,"y":Y}, the coordinates 32 octets
 * each, left-padded with zeros (§6.2.1.2), in base64url.  Written as a C
 * string in out[0..size); returns its length, or -1 when the key is not
 * P-256 or size is short (out untouched).  The members are in the order
 * of RFC 7638 §3.2 and the text has no white space, so this is also the
 * exact input of the thumbprint.
 */
#define ACME_JWK_SIZE 128
int acme_jwk_format(const EVP_PKEY *key, char *out, size_t size);

/*
 * The RFC 7638 thumbprint of the key's JWK: SHA-256 of the text of
 * acme_jwk_format(), in base64url, as a C string in
 * out[0..ACME_THUMBPRINT_SIZE).  -1 when the key is not P-256.
 */
int acme_jwk_thumbprint(const EVP_PKEY *key, char out[ACME_THUMBPRINT_SIZE]);

/*
 * The key authorization of a challenge (RFC 8555 §8.1):
 * token "." thumbprint, a new string in *out that the caller frees.  The
 * token must be 1 to ACME_TOKEN_MAX base64url characters (RFC 8555 §8.3:
 * a token outside that alphabet is an error), the thumbprint what
 * acme_jwk_thumbprint() wrote.  -1 otherwise or when memory runs out.
 */
int acme_key_authz(const char *token, const char *thumbprint, char **out);

/*
 * Converts OpenSSL's DER ECDSA-Sig-Value (RFC 3279 §2.2.3) into the JWS
 * form r || s, each left-padded to 32 octets (RFC 7518 §3.4).  -1 when
 * der is not one, has trailing octets, or r or s does not fit.
 */
int acme_es256_from_der(const uint8_t *der, size_t len,
                        uint8_t rs[ACME_ES256_SIG_LEN]);

/*
 * The reverse: r || s into a new DER ECDSA-Sig-Value in *der (the
 * caller frees it with OPENSSL_free()), its length in *der_len.
 */
int acme_es256_to_der(const uint8_t rs[ACME_ES256_SIG_LEN], uint8_t **der,
                      size_t *der_len);

/* What one ACME request signs (RFC 8555 §6.2, §6.4, §6.5). */
struct acme_jws_req {
	const char *url;     /* the request's URL: the "url" header */
	const char *nonce;   /* the "nonce" header: a Replay-Nonce; NULL
	                      only for the inner JWS of a key change (§7.3.5) */
	const char *kid;     /* the account URL, or NULL: then the "jwk" of the
	                      key (newAccount, revokeCert by the cert's key) */
	const char *payload; /* the JSON payload; "" (length 0) for
	                         POST-as-GET (§6.3) */
	size_t payload_len;
};

/*
 * Signs req with key (P-256, ES256) and writes the flattened JWS JSON
 * serialization (RFC 7515 §7.2.2, RFC 8555 §6.2) as a new C string in
 * *out, which the caller frees: {"payload":..,"protected":..,
 * "signature":..}, members sorted, no white space.  The protected header
 * holds "alg":"ES256", "nonce", "url" and either "jwk" or "kid".  The
 * key is borrowed.  ECDSA draws its nonce from OpenSSL's RNG, so two
 * signatures of one request differ.  -1 on a wrong key, a missing url,
 * or when memory runs out.
 */
int acme_jws_sign(EVP_PKEY *key, const struct acme_jws_req *req, char **out);

/*
 * Checks a flattened JWS as acme_jws_sign() writes it, for tests and
 * the client's own self-check: the JSON object has the three members,
 * the protected header decodes to a JSON object whose "alg" is "ES256",
 * and the signature (r || s, 64 octets) verifies over
 * protected "." payload with the public half of key (RFC 7515 §5.2).
 * Returns 0 when it does, -1 otherwise.
 */
int acme_jws_verify(EVP_PKEY *key, const char *jws, size_t len);

#endif /* MTS_SERVE_ACME_JWS_H */
