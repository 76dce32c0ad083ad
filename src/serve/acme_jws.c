/* SPDX-License-Identifier: ISC */
/*
 * ACME's JSON Web Signatures (RFC 8555 §6.2): base64url (RFC 7515 §2,
 * RFC 4648 §5), the P-256 JWK (RFC 7518 §6.2.1), its thumbprint
 * (RFC 7638 §3), the key authorization (RFC 8555 §8.1) and the flattened
 * JWS signed ES256 (RFC 7518 §3.4).  OpenSSL 3's EVP interfaces for the
 * key and the signature, jansson for the JSON.  See acme_jws.h.
 */
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "acme_jws.h"

/* P-256's coordinates and scalars are 32 octets (RFC 7518 §6.2.1.2). */
#define COORD_LEN   32
/* The largest payload signed: a CSR is under 1 KiB. */
#define PAYLOAD_MAX 65536
/* The largest JWS that acme_jws_verify() reads. */
#define JWS_MAX     (4 * PAYLOAD_MAX)

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
acme_b64url_encode(const uint8_t *in, size_t len, char *out, size_t size)
{
	size_t i, o = 0;
	uint32_t v;

	if (len > INT_MAX / 2 || size < ACME_B64URL_LEN(len) + 1)
		return -1;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64url_alphabet[v >> 18 & 0x3f];
		out[o++] = b64url_alphabet[v >> 12 & 0x3f];
		out[o++] = b64url_alphabet[v >> 6 & 0x3f];
		out[o++] = b64url_alphabet[v & 0x3f];
	}
	/* The last one or two octets, without the "=" padding (RFC 7515 §2). */
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64url_alphabet[v >> 18 & 0x3f];
		out[o++] = b64url_alphabet[v >> 12 & 0x3f];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url_alphabet[v >> 18 & 0x3f];
		out[o++] = b64url_alphabet[v >> 12 & 0x3f];
		out[o++] = b64url_alphabet[v >> 6 & 0x3f];
	}
	out[o] = '\0';
	return (int)o;
}

char *
acme_b64url_new(const uint8_t *in, size_t len)
{
	char *s;
	size_t size;

	if (len > INT_MAX / 2)
		return NULL;
	size = ACME_B64URL_LEN(len) + 1;
	if ((s = malloc(size)) == NULL)
		return NULL;
	if (acme_b64url_encode(in, len, s, size) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The value of a base64url character, or -1. */
static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
acme_b64url_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *buf;
	uint32_t acc = 0;
	size_t i, o = 0, bits = 0;
	int v;

	/* One character left over carries 6 bits: no octet (RFC 4648 §4). */
	if (len % 4 == 1 || len > INT_MAX / 2)
		return -1;
	if ((buf = malloc(len / 4 * 3 + 3)) == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64url_value(s[i])) < 0)
			goto fail;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* The pad bits must be zero, or two texts would give one octet
	   string (RFC 4648 §3.5). */
	if ((acc & ((1u << bits) - 1)) != 0)
		goto fail;
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	return 0;
fail:
	free(buf);
	return -1;
}

/* Whether key is an EC key on P-256 (prime256v1, RFC 7518 §6.2.1.1). */
static bool
is_p256(const EVP_PKEY *key)
{
	char group[64];
	size_t len = 0;

	if (key == NULL || !EVP_PKEY_is_a(key, "EC"))
		return false;
	if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1)
		return false;
	return strcmp(group, SN_X9_62_prime256v1) == 0;
}

/* One coordinate of the public point, left-padded (RFC 7518 §6.2.1.2). */
static int
coordinate(const EVP_PKEY *key, const char *param, char *out, size_t size)
{
	BIGNUM *bn = NULL;
	uint8_t bin[COORD_LEN];
	int rc = -1;

	if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
		return -1;
	if (BN_bn2binpad(bn, bin, sizeof(bin)) == COORD_LEN &&
	    acme_b64url_encode(bin, sizeof(bin), out, size) > 0)
		rc = 0;
	BN_free(bn);
	return rc;
}

int
acme_jwk_format(const EVP_PKEY *key, char *out, size_t size)
{
	char x[ACME_B64URL_LEN(COORD_LEN) + 1], y[sizeof(x)];
	int n;

	if (!is_p256(key) ||
	    coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X, x, sizeof(x)) != 0 ||
	    coordinate(key, OSSL_PKEY_PARAM_EC_PUB_Y, y, sizeof(y)) != 0)
		return -1;
	/* The required members only, in lexicographic order, no white space
	   (RFC 7638 §3.2, §3.3): the thumbprint hashes exactly this. */
	n = snprintf(
	    NULL, 0,
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
	    y);
	if (n < 0 || (size_t)n >= size)
		return -1;
	(void)snprintf(
	    out, size,
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
	    y);
	return n;
}

int
acme_jwk_thumbprint(const EVP_PKEY *key, char out[ACME_THUMBPRINT_SIZE])
{
	char jwk[ACME_JWK_SIZE];
	uint8_t md[32];
	unsigned int md_len = 0;
	int n;

	if ((n = acme_jwk_format(key, jwk, sizeof(jwk))) < 0)
		return -1;
	if (EVP_Digest(jwk, (size_t)n, md, &md_len, EVP_sha256(), NULL) != 1 ||
	    md_len != sizeof(md))
		return -1;
	return acme_b64url_encode(md, sizeof(md), out, ACME_THUMBPRINT_SIZE) <
		0 ?
	    -1 :
	    0;
}

/* Whether s is 1 to max base64url characters. */
static bool
is_b64url_text(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || b64url_value(s[i]) < 0)
			return false;
	return i > 0;
}

int
acme_key_authz(const char *token, const char *thumbprint, char **out)
{
	size_t tlen, plen;
	char *s;

	/* RFC 8555 §8.3: a token with characters outside the base64url
	   alphabet MUST make the client reject the challenge. */
	if (token == NULL || thumbprint == NULL ||
	    !is_b64url_text(token, ACME_TOKEN_MAX) ||
	    !is_b64url_text(thumbprint, ACME_THUMBPRINT_SIZE - 1))
		return -1;
	tlen = strlen(token);
	plen = strlen(thumbprint);
	if ((s = malloc(tlen + 1 + plen + 1)) == NULL)
		return -1;
	memcpy(s, token, tlen);
	s[tlen] = '.';
	memcpy(s + tlen + 1, thumbprint, plen + 1);
	*out = s;
	return 0;
}

int
acme_es256_from_der(const uint8_t *der, size_t len,
                    uint8_t rs[ACME_ES256_SIG_LEN])
{
	const unsigned char *p = der;
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *sig;
	uint8_t tmp[ACME_ES256_SIG_LEN];
	int rc = -1;

	if (der == NULL || len == 0 || len > LONG_MAX)
		return -1;
	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return -1;
	/* Trailing octets would be signed-over data no verifier reads. */
	if (p != der + len)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	/* BN_bn2binpad() left-pads a short r or s with zeros and refuses
	   one that needs more than 32 octets (RFC 7518 §3.4). */
	if (BN_is_negative(r) || BN_is_negative(s) ||
	    BN_bn2binpad(r, tmp, COORD_LEN) != COORD_LEN ||
	    BN_bn2binpad(s, tmp + COORD_LEN, COORD_LEN) != COORD_LEN)
		goto out;
	memcpy(rs, tmp, sizeof(tmp));
	rc = 0;
out:
	ECDSA_SIG_free(sig);
	return rc;
}

int
acme_es256_to_der(const uint8_t rs[ACME_ES256_SIG_LEN], uint8_t **der,
                  size_t *der_len)
{
	ECDSA_SIG *sig;
	BIGNUM *r, *s;
	unsigned char *buf = NULL;
	int n;

	if ((sig = ECDSA_SIG_new()) == NULL)
		return -1;
	r = BN_bin2bn(rs, COORD_LEN, NULL);
	s = BN_bin2bn(rs + COORD_LEN, COORD_LEN, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return -1;
	}
	n = i2d_ECDSA_SIG(sig, &buf);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return -1;
	*der = buf;
	*der_len = (size_t)n;
	return 0;
}

/* The protected header of req (RFC 8555 §6.2), serialised compactly. */
static char *
protected_header(const EVP_PKEY *key, const struct acme_jws_req *req)
{
	json_t *h, *jwk;
	char text[ACME_JWK_SIZE];
	char *s = NULL;
	int n;

	if ((h = json_pack("{s:s, s:s}", "alg", "ES256", "url", req->url)) ==
	    NULL)
		return NULL;
	if (req->nonce != NULL &&
	    json_object_set_new(h, "nonce", json_string(req->nonce)) != 0)
		goto out;
	if (req->kid != NULL) {
		/* "jwk" and "kid" are mutually exclusive (RFC 8555 §6.2). */
		if (json_object_set_new(h, "kid", json_string(req->kid)) != 0)
			goto out;
	} else {
		if ((n = acme_jwk_format(key, text, sizeof(text))) < 0 ||
		    (jwk = json_loadb(text, (size_t)n, 0, NULL)) == NULL)
			goto out;
		if (json_object_set_new(h, "jwk", jwk) != 0)
			goto out;
	}
	s = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
out:
	json_decref(h);
	return s;
}

/* ES256 over in[0..len): r || s in rs (RFC 7518 §3.4). */
static int
es256_sign(EVP_PKEY *key, const char *in, size_t len,
           uint8_t rs[ACME_ES256_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	uint8_t der[128];
	size_t der_len = sizeof(der);
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, key, NULL) ==
	        1 &&
	    EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)in,
	                   len) == 1 &&
	    acme_es256_from_der(der, der_len, rs) == 0)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
acme_jws_sign(EVP_PKEY *key, const struct acme_jws_req *req, char **out)
{
	char *prot = NULL, *prot64 = NULL, *pay64 = NULL, *input = NULL;
	char sig64[ACME_B64URL_LEN(ACME_ES256_SIG_LEN) + 1];
	uint8_t rs[ACME_ES256_SIG_LEN];
	json_t *jws = NULL;
	size_t plen, len;
	int rc = -1;

	if (!is_p256(key) || req == NULL || req->url == NULL ||
	    (req->payload == NULL && req->payload_len != 0) ||
	    req->payload_len > PAYLOAD_MAX)
		return -1;
	if ((prot = protected_header(key, req)) == NULL ||
	    (prot64 = acme_b64url_new((const uint8_t *)prot, strlen(prot))) ==
	        NULL ||
	    (pay64 = acme_b64url_new((const uint8_t *)req->payload,
	                             req->payload_len)) == NULL)
		goto fail;
	/* The signing input: protected "." payload (RFC 7515 §5.1). */
	plen = strlen(prot64);
	len = plen + 1 + strlen(pay64);
	if ((input = malloc(len + 1)) == NULL)
		goto fail;
	memcpy(input, prot64, plen);
	input[plen] = '.';
	memcpy(input + plen + 1, pay64, len - plen);
	if (es256_sign(key, input, len, rs) != 0 ||
	    acme_b64url_encode(rs, sizeof(rs), sig64, sizeof(sig64)) < 0)
		goto fail;
	if ((jws = json_pack("{s:s, s:s, s:s}", "protected", prot64, "payload",
	                     pay64, "signature", sig64)) == NULL ||
	    (*out = json_dumps(jws, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto fail;
	rc = 0;
fail:
	json_decref(jws);
	free(input);
	free(pay64);
	free(prot64);
	free(prot);
	return rc;
}

/* Whether the base64url protected header is a JSON object with "alg"
   "ES256" (RFC 7518 §3.1). */
static bool
header_is_es256(const char *prot64)
{
	uint8_t *text = NULL;
	size_t len = 0;
	json_t *h;
	const char *alg;
	bool ok = false;

	if (acme_b64url_decode(prot64, strlen(prot64), &text, &len) != 0)
		return false;
	if ((h = json_loadb((const char *)text, len, 0, NULL)) != NULL &&
	    json_is_object(h) &&
	    (alg = json_string_value(json_object_get(h, "alg"))) != NULL)
		ok = strcmp(alg, "ES256") == 0;
	json_decref(h);
	free(text);
	return ok;
}

/* ES256 verification of rs over in[0..len) with key's public half. */
static int
es256_verify(EVP_PKEY *key, const char *in, size_t len,
             const uint8_t rs[ACME_ES256_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc = -1;

	if (acme_es256_to_der(rs, &der, &der_len) != 0)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, key,
	                            NULL) == 1 &&
	    EVP_DigestVerify(ctx, der, der_len, (const unsigned char *)in,
	                     len) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

int
acme_jws_verify(EVP_PKEY *key, const char *jws, size_t len)
{
	json_t *j;
	const char *prot64, *pay64, *sig64;
	uint8_t *sig = NULL;
	size_t sig_len = 0, plen, ilen;
	char *input = NULL;
	int rc = -1;

	if (!is_p256(key) || jws == NULL || len > JWS_MAX)
		return -1;
	if ((j = json_loadb(jws, len, 0, NULL)) == NULL)
		return -1;
	prot64 = json_string_value(json_object_get(j, "protected"));
	pay64 = json_string_value(json_object_get(j, "payload"));
	sig64 = json_string_value(json_object_get(j, "signature"));
	if (prot64 == NULL || pay64 == NULL || sig64 == NULL ||
	    !header_is_es256(prot64) ||
	    acme_b64url_decode(sig64, strlen(sig64), &sig, &sig_len) != 0 ||
	    sig_len != ACME_ES256_SIG_LEN)
		goto out;
	plen = strlen(prot64);
	ilen = plen + 1 + strlen(pay64);
	if ((input = malloc(ilen + 1)) == NULL)
		goto out;
	memcpy(input, prot64, plen);
	input[plen] = '.';
	memcpy(input + plen + 1, pay64, ilen - plen);
	rc = es256_verify(key, input, ilen, sig);
out:
	free(input);
	free(sig);
	json_decref(j);
	return rc;
}
