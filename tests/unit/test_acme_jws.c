/* SPDX-License-Identifier: ISC */
/*
 * ACME's JWS pieces (src/serve/acme_jws.c): base64url against the
 * vectors of RFC 4648 §10 and RFC 7515 Appendix C, in the URL-safe
 * alphabet without padding, and the strict decoder; the JWK and RFC 7638
 * thumbprint of two fixed P-256 keys (one whose x begins with a zero
 * octet, so the left-padding of RFC 7518 §6.2.1.2 shows); the key
 * authorization (RFC 8555 §8.1); the DER to r || s conversion with short
 * r and s (RFC 7518 §3.4); a flattened JWS signed, its protected header
 * read back, its signature checked with OpenSSL directly, and refused
 * once tampered with.  Prints TAP.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "acme_jws.h"
#include "tap.h"

/*
 * Two fixed P-256 keys, made once with
 *   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256
 * (the second one drawn until its x began with 0x00).  Their JWK text
 * and thumbprint were computed apart from this code with the openssl
 * tool:
 *   openssl pkey -in k.pem -pubout -outform DER | tail -c 64 > xy.bin
 *   b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
 *   X=$(head -c 32 xy.bin | b64u); Y=$(tail -c 32 xy.bin | b64u)
 *   J="{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"$X\",\"y\":\"$Y\"}"
 *   printf %s "$J" | openssl dgst -sha256 -binary | b64u
 * (the last 64 octets of the SubjectPublicKeyInfo are x then y of the
 * uncompressed point).
 */
static const char key1_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYfH/aOwe0ceWulE7\n"
    "pMeUyH3wLCA455VTFHWBTwYtujmhRANCAASOJc5OtFn5fVUyeSkgWpQSDsWoH7+N\n"
    "b8QRJ+oLPnujXBnWKR3VBLlKzfp9y8lhyhi/GBvgBDjx1m/181/mzIzq\n"
    "-----END PRIVATE KEY-----\n";
static const char key1_jwk[] =
    "{\"crv\":\"P-256\",\"kty\":\"EC\","
    "\"x\":\"jiXOTrRZ-X1VMnkpIFqUEg7FqB-_jW_EESfqCz57o1w\","
    "\"y\":\"GdYpHdUEuUrN-n3LyWHKGL8YG-AEOPHWb_XzX-bMjOo\"}";
static const char key1_thumb[] = "0pyYUzNixFZvdOU5Mq1K5nMKXE5qW6f3hpxV5pXEDRU";

static const char key2_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghTk7npMFojHNoQmu\n"
    "0phvAi/7oPDoM0FDwFFew9n0QquhRANCAAQAqIPlKsui3arU3VIGn9yRsNEPIZPJ\n"
    "jR5gVCVHbMdrZeIS26nQePNMCxFVswoRPINIWBvEwDTFbfoQxR1aEZTR\n"
    "-----END PRIVATE KEY-----\n";
static const char key2_jwk[] =
    "{\"crv\":\"P-256\",\"kty\":\"EC\","
    "\"x\":\"AKiD5SrLot2q1N1SBp_ckbDRDyGTyY0eYFQlR2zHa2U\","
    "\"y\":\"4hLbqdB480wLEVWzChE8g0hYG8TANMVt-hDFHVoRlNE\"}";
static const char key2_thumb[] = "etUIhx7N-nWfd4z4fbSSgZfWACKikp_NAwEH6loHkEQ";

static EVP_PKEY *
load_key(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

	BIO_free(bio);
	return key;
}

/* ---- base64url ---- */

static const struct b64_case {
	const char *name;
	const uint8_t *in;
	size_t len;
	const char *want;
} b64_cases[] = {
    /* RFC 4648 §10, padding dropped (RFC 7515 §2). */
    {"RFC 4648 §10 empty", (const uint8_t *)"", 0, ""},
    {"RFC 4648 §10 f", (const uint8_t *)"f", 1, "Zg"},
    {"RFC 4648 §10 fo", (const uint8_t *)"fo", 2, "Zm8"},
    {"RFC 4648 §10 foo", (const uint8_t *)"foo", 3, "Zm9v"},
    {"RFC 4648 §10 foob", (const uint8_t *)"foob", 4, "Zm9vYg"},
    {"RFC 4648 §10 fooba", (const uint8_t *)"fooba", 5, "Zm9vYmE"},
    {"RFC 4648 §10 foobar", (const uint8_t *)"foobar", 6, "Zm9vYmFy"},
    /* RFC 7515 Appendix C: octets 3 236 255 224 193. */
    {"RFC 7515 App. C", (const uint8_t *)"\x03\xec\xff\xe0\xc1", 5, "A-z_4ME"},
    /* The two characters that differ from base64 (RFC 4648 §5). */
    {"62 and 63 are - and _", (const uint8_t *)"\xfb\xff", 2, "-_8"},
    {"all ones", (const uint8_t *)"\xff\xff\xff", 3, "____"},
    {"zero octets", (const uint8_t *)"\0\0", 2, "AAA"},
};

static void
test_b64_encode(void)
{
	size_t i;
	char out[64], *s;
	int n;

	for (i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
		const struct b64_case *c = &b64_cases[i];

		n = acme_b64url_encode(c->in, c->len, out, sizeof(out));
		tap_ok(n == (int)strlen(c->want) && tap_streq(out, c->want),
		       "b64url encode: %s -> \"%s\" (got \"%s\")", c->name,
		       c->want, n >= 0 ? out : "(error)");
		tap_ok(ACME_B64URL_LEN(c->len) == strlen(c->want),
		       "b64url length macro: %s", c->name);
		s = acme_b64url_new(c->in, c->len);
		tap_ok(tap_streq(s, c->want), "b64url new: %s", c->name);
		free(s);
	}
	/* A buffer one short: refused, untouched. */
	memset(out, 'X', sizeof(out));
	n = acme_b64url_encode((const uint8_t *)"foobar", 6, out, 8);
	tap_ok(n == -1 && out[0] == 'X',
	       "b64url encode: 8 characters and NUL do not fit in 8");
	n = acme_b64url_encode((const uint8_t *)"foobar", 6, out, 9);
	tap_ok(n == 8 && tap_streq(out, "Zm9vYmFy"),
	       "b64url encode: they fit in 9");
}

static void
test_b64_decode(void)
{
	static const struct {
		const char *in;
		const char *why;
	} bad[] = {
	    {"Zg==", "padding"},         {"Zm9v+", "+ of base64"},
	    {"Zm9v/", "/ of base64"},    {"Z", "1 mod 4 characters"},
	    {"Zh", "non-zero pad bits"}, {"Zm9", "non-zero pad bits (2)"},
	    {"Zm 9", "white space"},     {"Zm9v\nZm8", "a newline"},
	    {"Zm9v=", "a lone ="},
	};
	size_t i, len = 99;
	uint8_t *out = NULL;

	for (i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
		const struct b64_case *c = &b64_cases[i];
		int rc =
		    acme_b64url_decode(c->want, strlen(c->want), &out, &len);

		tap_ok(rc == 0 && len == c->len &&
		           memcmp(out, c->in, c->len) == 0 && out[len] == '\0',
		       "b64url decode: %s", c->name);
		if (rc == 0)
			free(out);
		out = NULL;
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		out = NULL;
		len = 99;
		rc = acme_b64url_decode(bad[i].in, strlen(bad[i].in), &out,
		                        &len);
		tap_ok(rc == -1 && out == NULL && len == 99,
		       "b64url decode refuses %s", bad[i].why);
		if (rc == 0)
			free(out);
	}
}

/* ---- JWK, thumbprint, key authorization ---- */

static void
test_jwk(EVP_PKEY *k1, EVP_PKEY *k2)
{
	char jwk[ACME_JWK_SIZE], thumb[ACME_THUMBPRINT_SIZE];
	EVP_PKEY *p384;
	int n;

	n = acme_jwk_format(k1, jwk, sizeof(jwk));
	tap_ok(n == (int)strlen(key1_jwk) && tap_streq(jwk, key1_jwk),
	       "JWK of key 1 is the RFC 7638 §3.2 text (got %s)", jwk);
	n = acme_jwk_format(k2, jwk, sizeof(jwk));
	tap_ok(n == (int)strlen(key2_jwk) && tap_streq(jwk, key2_jwk),
	       "JWK of key 2: x left-padded, begins AA (got %s)", jwk);
	tap_ok(acme_jwk_format(k1, jwk, strlen(key1_jwk)) == -1,
	       "JWK: a buffer without room for the NUL is refused");
	tap_ok(acme_jwk_thumbprint(k1, thumb) == 0 &&
	           tap_streq(thumb, key1_thumb),
	       "thumbprint of key 1 (got %s)", thumb);
	tap_ok(acme_jwk_thumbprint(k2, thumb) == 0 &&
	           tap_streq(thumb, key2_thumb),
	       "thumbprint of key 2 (got %s)", thumb);

	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	tap_ok(p384 != NULL && acme_jwk_format(p384, jwk, sizeof(jwk)) == -1 &&
	           acme_jwk_thumbprint(p384, thumb) == -1,
	       "a P-384 key has no ES256 JWK");
	EVP_PKEY_free(p384);
}

static void
test_key_authz(void)
{
	static const char token[] =
	    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
	static const char *const bad[] = {"",    "a.b", "a=b",
	                                  "a b", "a/b", "a+b"};
	char long_token[ACME_TOKEN_MAX + 2], *s = NULL;
	size_t i;

	tap_ok(acme_key_authz(token, key1_thumb, &s) == 0 &&
	           tap_streq(s,
	                     "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
	                     "0pyYUzNixFZvdOU5Mq1K5nMKXE5qW6f3hpxV5pXEDRU"),
	       "key authorization is token \".\" thumbprint");
	free(s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = NULL;
		tap_ok(acme_key_authz(bad[i], key1_thumb, &s) == -1 &&
		           s == NULL,
		       "key authorization refuses token \"%s\"", bad[i]);
	}
	memset(long_token, 'a', sizeof(long_token) - 1);
	long_token[ACME_TOKEN_MAX] = '\0';
	tap_ok(acme_key_authz(long_token, key1_thumb, &s) == 0,
	       "a token of ACME_TOKEN_MAX characters is taken");
	free(s);
	s = NULL;
	long_token[ACME_TOKEN_MAX] = 'a';
	long_token[ACME_TOKEN_MAX + 1] = '\0';
	tap_ok(acme_key_authz(long_token, key1_thumb, &s) == -1 && s == NULL,
	       "a token of ACME_TOKEN_MAX + 1 characters is refused");
	tap_ok(acme_key_authz(token, "not.a.thumbprint", &s) == -1,
	       "a thumbprint with dots is refused");
}

/* ---- DER ECDSA-Sig-Value to r || s ---- */

/* DER of an ECDSA_SIG with r and s given as big-endian octets. */
static size_t
make_der(const uint8_t *r, size_t rlen, const uint8_t *s, size_t slen,
         uint8_t **der)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(r, (int)rlen, NULL);
	BIGNUM *bs = BN_bin2bn(s, (int)slen, NULL);
	int n;

	*der = NULL;
	ECDSA_SIG_set0(sig, br, bs);
	n = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	return n > 0 ? (size_t)n : 0;
}

static void
test_der_conversion(void)
{
	uint8_t r[33], s[32], rs[ACME_ES256_SIG_LEN], want[ACME_ES256_SIG_LEN];
	uint8_t *der = NULL, *back = NULL, *bigger;
	size_t len, back_len = 0;

	memset(s, 0xa5, sizeof(s));
	/* r = 1: 31 zero octets of padding. */
	r[0] = 1;
	len = make_der(r, 1, s, sizeof(s), &der);
	memset(want, 0, sizeof(want));
	want[31] = 1;
	memcpy(want + 32, s, 32);
	memset(rs, 0xee, sizeof(rs));
	tap_ok(len != 0 && acme_es256_from_der(der, len, rs) == 0 &&
	           memcmp(rs, want, sizeof(want)) == 0,
	       "DER -> r||s: r of 1 octet is left-padded to 32");
	tap_ok(acme_es256_to_der(rs, &back, &back_len) == 0 &&
	           back_len == len && memcmp(back, der, len) == 0,
	       "r||s -> DER: the same DER back (minimal INTEGER)");
	OPENSSL_free(back);
	back = NULL;

	/* Trailing octets after the SEQUENCE. */
	bigger = malloc(len + 1);
	memcpy(bigger, der, len);
	bigger[len] = 0;
	tap_ok(acme_es256_from_der(bigger, len + 1, rs) == -1,
	       "DER -> r||s: a trailing octet is refused");
	tap_ok(acme_es256_from_der(der, len - 1, rs) == -1,
	       "DER -> r||s: a truncated SEQUENCE is refused");
	free(bigger);
	OPENSSL_free(der);

	/* s of 31 octets (a high zero octet), r with its top bit set: DER
	   puts a 00 before r, which must not end up in r||s. */
	memset(r, 0xff, 32);
	len = make_der(r, 32, s, 31, &der);
	memcpy(want, r, 32);
	want[32] = 0;
	memcpy(want + 33, s, 31);
	tap_ok(len != 0 && acme_es256_from_der(der, len, rs) == 0 &&
	           memcmp(rs, want, sizeof(want)) == 0,
	       "DER -> r||s: r with the sign octet, s of 31 octets");
	OPENSSL_free(der);

	/* r of 33 octets does not fit ES256. */
	memset(r, 0x01, sizeof(r));
	len = make_der(r, sizeof(r), s, sizeof(s), &der);
	tap_ok(len != 0 && acme_es256_from_der(der, len, rs) == -1,
	       "DER -> r||s: r of 33 octets is refused");
	OPENSSL_free(der);
}

/* ---- the JWS ---- */

/* The decoded base64url member m of the JWS text j, as a string. */
static char *
member(const char *j, const char *m)
{
	json_t *o = json_loads(j, 0, NULL);
	const char *v = json_string_value(json_object_get(o, m));
	uint8_t *out = NULL;
	size_t len;

	if (v == NULL || acme_b64url_decode(v, strlen(v), &out, &len) != 0)
		out = NULL;
	json_decref(o);
	return (char *)out;
}

/* Checks the signature of jws with OpenSSL directly: r and s read from
   the 64 octets by hand, not by acme_es256_to_der(). */
static bool
openssl_verifies(EVP_PKEY *key, const char *jws)
{
	json_t *o = json_loads(jws, 0, NULL);
	const char *p = json_string_value(json_object_get(o, "protected"));
	const char *y = json_string_value(json_object_get(o, "payload"));
	const char *g = json_string_value(json_object_get(o, "signature"));
	uint8_t *sig = NULL, *der = NULL;
	size_t sig_len = 0;
	char input[4096];
	ECDSA_SIG *es = ECDSA_SIG_new();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = false;
	int n;

	if (p != NULL && y != NULL && g != NULL &&
	    acme_b64url_decode(g, strlen(g), &sig, &sig_len) == 0 &&
	    sig_len == 64 &&
	    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
	                   BN_bin2bn(sig + 32, 32, NULL)) == 1 &&
	    (n = i2d_ECDSA_SIG(es, &der)) > 0) {
		(void)snprintf(input, sizeof(input), "%s.%s", p, y);
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) ==
			1 &&
		    EVP_DigestVerify(ctx, der, (size_t)n,
		                     (const unsigned char *)input,
		                     strlen(input)) == 1;
	}
	OPENSSL_free(der);
	free(sig);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	json_decref(o);
	return ok;
}

/* jws with member m replaced by value. */
static char *
replace(const char *jws, const char *m, const char *value)
{
	json_t *o = json_loads(jws, 0, NULL);
	char *s;

	json_object_set_new(o, m, json_string(value));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* A JWS of the protected header prot, signed ES256 by key here, not by
   acme_jws_sign(): for headers that acme_jws_sign() never writes. */
static char *
hand_jws(EVP_PKEY *key, const char *prot)
{
	char *p64 = acme_b64url_new((const uint8_t *)prot, strlen(prot));
	char input[1024], sig64[128], *out = NULL;
	uint8_t der[128], rs[64];
	size_t der_len = sizeof(der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	json_t *o;

	(void)snprintf(input, sizeof(input), "%s.", p64);
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)input,
	                   strlen(input)) == 1 &&
	    acme_es256_from_der(der, der_len, rs) == 0 &&
	    acme_b64url_encode(rs, sizeof(rs), sig64, sizeof(sig64)) > 0) {
		o = json_pack("{s:s, s:s, s:s}", "protected", p64, "payload",
		              "", "signature", sig64);
		out = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	EVP_MD_CTX_free(ctx);
	free(p64);
	return out;
}

static void
test_jws(EVP_PKEY *k1, EVP_PKEY *k2)
{
	static const char payload[] = "{\"termsOfServiceAgreed\":true}";
	struct acme_jws_req req = {
	    .url = "https://ca.test/acme/new-account",
	    .nonce = "6S8IqOGY7eL2lsGoTZYifg",
	    .payload = payload,
	    .payload_len = sizeof(payload) - 1,
	};
	char want[512], *jws = NULL, *t, *prot, *pay, *jws2 = NULL;
	json_t *o;

	tap_ok(acme_jws_sign(k1, &req, &jws) == 0 && jws != NULL,
	       "JWS with jwk signed");
	o = json_loads(jws, 0, NULL);
	tap_ok(json_is_object(o) && json_object_size(o) == 3 &&
	           json_is_string(json_object_get(o, "protected")) &&
	           json_is_string(json_object_get(o, "payload")) &&
	           json_is_string(json_object_get(o, "signature")),
	       "JWS is a flattened JSON object of three members (%s)", jws);
	json_decref(o);
	(void)snprintf(want, sizeof(want),
	               "{\"alg\":\"ES256\",\"jwk\":%s,\"nonce\":"
	               "\"6S8IqOGY7eL2lsGoTZYifg\",\"url\":"
	               "\"https://ca.test/acme/new-account\"}",
	               key1_jwk);
	prot = member(jws, "protected");
	tap_ok(tap_streq(prot, want), "protected header with jwk (got %s)",
	       prot);
	free(prot);
	pay = member(jws, "payload");
	tap_ok(tap_streq(pay, payload), "payload round-trips");
	free(pay);
	tap_ok(acme_jws_verify(k1, jws, strlen(jws)) == 0,
	       "JWS verifies with its key");
	tap_ok(openssl_verifies(k1, jws),
	       "JWS signature (r||s) verifies with OpenSSL directly");
	tap_ok(acme_jws_verify(k2, jws, strlen(jws)) == -1,
	       "JWS does not verify with another key");

	t = replace(jws, "payload", "eyJ0ZXJtc09mU2VydmljZUFncmVlZCI6ZmFsc2V9");
	tap_ok(acme_jws_verify(k1, t, strlen(t)) == -1,
	       "JWS with a tampered payload is refused");
	free(t);
	jws2 = strdup(jws);
	t = strstr(jws2, "\"signature\":\"") + strlen("\"signature\":\"");
	*t = *t == 'A' ? 'B' : 'A';
	tap_ok(acme_jws_verify(k1, jws2, strlen(jws2)) == -1,
	       "JWS with a tampered signature is refused");
	free(jws2);
	t = hand_jws(k1, "{\"alg\":\"ES256\",\"url\":\"u\"}");
	tap_ok(t != NULL && acme_jws_verify(k1, t, strlen(t)) == 0,
	       "a JWS signed by hand with alg ES256 verifies");
	free(t);
	t = hand_jws(k1, "{\"alg\":\"none\",\"url\":\"u\"}");
	tap_ok(t != NULL && acme_jws_verify(k1, t, strlen(t)) == -1,
	       "the same with alg none is refused, its signature valid");
	free(t);
	t = hand_jws(k1, "[\"alg\",\"ES256\"]");
	tap_ok(t != NULL && acme_jws_verify(k1, t, strlen(t)) == -1,
	       "a protected header that is not an object is refused");
	free(t);
	free(jws);

	/* POST-as-GET with the account URL (RFC 8555 §6.3). */
	req.url = "https://ca.test/acme/order/1";
	req.kid = "https://ca.test/acme/acct/7";
	req.payload = "";
	req.payload_len = 0;
	jws = NULL;
	tap_ok(acme_jws_sign(k2, &req, &jws) == 0, "POST-as-GET signed");
	prot = member(jws, "protected");
	tap_ok(tap_streq(prot,
	                 "{\"alg\":\"ES256\",\"kid\":"
	                 "\"https://ca.test/acme/acct/7\",\"nonce\":"
	                 "\"6S8IqOGY7eL2lsGoTZYifg\",\"url\":"
	                 "\"https://ca.test/acme/order/1\"}"),
	       "protected header with kid and no jwk (got %s)", prot);
	free(prot);
	tap_ok(jws != NULL && strstr(jws, "\"payload\":\"\"") != NULL,
	       "POST-as-GET payload is the empty string");
	tap_ok(acme_jws_verify(k2, jws, strlen(jws)) == 0 &&
	           openssl_verifies(k2, jws),
	       "POST-as-GET verifies");
	free(jws);

	/* The inner JWS of a key change has no nonce (RFC 8555 §7.3.5). */
	req.nonce = NULL;
	jws = NULL;
	tap_ok(acme_jws_sign(k2, &req, &jws) == 0, "JWS without a nonce");
	prot = member(jws, "protected");
	tap_ok(tap_streq(prot,
	                 "{\"alg\":\"ES256\",\"kid\":"
	                 "\"https://ca.test/acme/acct/7\",\"url\":"
	                 "\"https://ca.test/acme/order/1\"}"),
	       "its protected header has no nonce (got %s)", prot);
	free(prot);
	free(jws);
	tap_ok(acme_jws_verify(k2, "{\"protected\":", 13) == -1 &&
	           acme_jws_verify(k2, "[]", 2) == -1,
	       "JWS text that is not a JSON object is refused");

	req.url = NULL;
	jws = NULL;
	tap_ok(acme_jws_sign(k2, &req, &jws) == -1 && jws == NULL,
	       "a request without a URL is refused");
}

/* An r or s below 2^248 comes about once in 256 signatures: sign until
   both a short r and a short s have been seen, and check each verifies
   (the conversion pads, not shifts). */
static void
test_short_signatures(EVP_PKEY *k)
{
	struct acme_jws_req req = {.url = "https://ca.test/x",
	                           .nonce = "n",
	                           .payload = "",
	                           .payload_len = 0};
	bool short_r = false, short_s = false, all_ok = true;
	char *jws, *sig;
	int i;

	for (i = 0; i < 4000 && !(short_r && short_s); i++) {
		jws = NULL;
		if (acme_jws_sign(k, &req, &jws) != 0) {
			all_ok = false;
			break;
		}
		sig = member(jws, "signature");
		if (sig != NULL && (sig[0] == 0 || sig[32] == 0)) {
			short_r = short_r || sig[0] == 0;
			short_s = short_s || sig[32] == 0;
			all_ok = all_ok && openssl_verifies(k, jws) &&
			    acme_jws_verify(k, jws, strlen(jws)) == 0;
		}
		free(sig);
		free(jws);
	}
	tap_ok(short_r && short_s && all_ok,
	       "signatures with r and s of under 32 octets verify (%d signed)",
	       i);
}

int
main(void)
{
	EVP_PKEY *k1 = load_key(key1_pem), *k2 = load_key(key2_pem);

	if (!tap_ok(k1 != NULL && k2 != NULL, "fixed keys load"))
		return tap_done();
	test_b64_encode();
	test_b64_decode();
	test_jwk(k1, k2);
	test_key_authz();
	test_der_conversion();
	test_jws(k1, k2);
	test_short_signatures(k1);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	return tap_done();
}
