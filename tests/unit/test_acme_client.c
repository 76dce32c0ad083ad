/* SPDX-License-Identifier: ISC */
/*
 * The pure helpers of serve's ACME client (src/serve/acme_client.c):
 * the Retry-After value (RFC 9110 §10.2.3: delay-seconds and the three
 * HTTP-date forms of §5.6.7; RFC 8555 §6.6) and the certID of RFC 9773
 * §4.1 with its Appendix A example, from the octets and from a
 * certificate.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "acme_client.h"
#include "tap.h"

#define NOW 1445412000 /* 2015-10-21T07:20:00Z */

static const struct retry_case {
	const char *name;
	const char *value;
	int rc;
	int64_t want;
} retry_cases[] = {
    {"delay-seconds", "120", 0, NOW + 120},
    {"zero seconds", "0", 0, NOW},
    {"IMF-fixdate", "Wed, 21 Oct 2015 07:28:00 GMT", 0, 1445412480},
    {"RFC 850 date", "Wednesday, 21-Oct-15 07:28:00 GMT", 0, 1445412480},
    {"asctime date", "Wed Oct 21 07:28:00 2015", 0, 1445412480},
    {"a date already past gives now", "Wed, 21 Oct 2015 07:00:00 GMT", 0, NOW},
    {"empty", "", -1, 0},
    {"digits then letters", "12a", -1, 0},
    {"a sign", "-5", -1, 0},
    {"a fraction", "1.5", -1, 0},
    {"over ten years of seconds", "999999999999", -1, 0},
    {"not a date", "soon", -1, 0},
};

static void
test_retry_after(void)
{
	size_t i;

	for (i = 0; i < sizeof(retry_cases) / sizeof(retry_cases[0]); i++) {
		const struct retry_case *c = &retry_cases[i];
		int64_t out = -7;
		int rc = acme_retry_after_parse(c->value, NOW, &out);

		tap_ok(rc == c->rc && (rc != 0 || out == c->want) &&
		           (rc == 0 || out == -7),
		       "ACME-RETRY: %s (\"%s\": rc %d, %lld)", c->name,
		       c->value, rc, (long long)out);
	}
	tap_ok(acme_retry_after_parse(NULL, NOW, NULL) == -1,
	       "ACME-RETRY: NULL is refused");
}

/* RFC 9773 Appendix A: keyIdentifier 69:88:5B:...:C8:D4, serial
   0x87654321 (DER 00 87 65 43 21: a positive number whose top bit is
   set keeps its leading zero). */
static const uint8_t aki_a[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40,
                                0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0,
                                0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
static const uint8_t serial_a[] = {0x00, 0x87, 0x65, 0x43, 0x21};
#define CERTID_A "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"

/* A certificate with that serial and, when aki, that keyIdentifier. */
static X509 *
make_cert(long serial, bool aki)
{
	AUTHORITY_KEYID *akid = NULL;
	EVP_PKEY *key = NULL;
	X509 *x = X509_new();

	if (x == NULL ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial) != 1)
		goto fail;
	if (aki) {
		if ((akid = AUTHORITY_KEYID_new()) == NULL ||
		    (akid->keyid = ASN1_OCTET_STRING_new()) == NULL ||
		    ASN1_OCTET_STRING_set(akid->keyid, aki_a,
		                          (int)sizeof(aki_a)) != 1 ||
		    X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0,
		                      0) != 1)
			goto fail;
		AUTHORITY_KEYID_free(akid);
		akid = NULL;
	}
	/* OpenSSL reads the extensions of a whole, signed certificate. */
	if ((key = EVP_EC_gen("P-256")) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) == NULL ||
	    X509_sign(x, key, EVP_sha256()) == 0)
		goto fail;
	EVP_PKEY_free(key);
	return x;
fail:
	EVP_PKEY_free(key);
	AUTHORITY_KEYID_free(akid);
	X509_free(x);
	return NULL;
}

static void
test_cert_id(void)
{
	char *id = NULL;
	X509 *x;
	int rc;

	rc = acme_cert_id_raw(aki_a, sizeof(aki_a), serial_a, sizeof(serial_a),
	                      &id);
	tap_ok(rc == 0 && id != NULL && strcmp(id, CERTID_A) == 0,
	       "ACME-ARI: RFC 9773 Appendix A certID from its octets (%s)",
	       id != NULL ? id : "none");
	free(id);
	id = NULL;
	tap_ok(acme_cert_id_raw(aki_a, 0, serial_a, sizeof(serial_a), &id) ==
	               -1 &&
	           id == NULL,
	       "ACME-ARI: no keyIdentifier, no certID");

	x = make_cert(0x87654321L, true);
	rc = acme_cert_id(x, &id);
	tap_ok(x != NULL && rc == 0 && id != NULL && strcmp(id, CERTID_A) == 0,
	       "ACME-ARI: the same certID read from a certificate, the "
	       "serial's leading zero kept (%s)",
	       id != NULL ? id : "none");
	free(id);
	id = NULL;
	X509_free(x);

	x = make_cert(1, true);
	rc = acme_cert_id(x, &id);
	tap_ok(x != NULL && rc == 0 && id != NULL &&
	           strcmp(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AQ") == 0,
	       "ACME-ARI: serial 1 is the one octet 01 (%s)",
	       id != NULL ? id : "none");
	free(id);
	id = NULL;
	X509_free(x);

	x = make_cert(0x7f, true);
	rc = acme_cert_id(x, &id);
	tap_ok(x != NULL && rc == 0 && id != NULL &&
	           strcmp(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.fw") == 0,
	       "ACME-ARI: serial 0x7f needs no leading zero (%s)",
	       id != NULL ? id : "none");
	free(id);
	id = NULL;
	X509_free(x);

	x = make_cert(0x87654321L, false);
	tap_ok(x != NULL && acme_cert_id(x, &id) == -1 && id == NULL,
	       "ACME-ARI: a certificate without an Authority Key Identifier "
	       "has no certID");
	X509_free(x);
	tap_ok(acme_cert_id(NULL, &id) == -1, "ACME-ARI: NULL has no certID");
}

/*
 * acme_header_value(): a header line as libcurl hands it (with its
 * CRLF).  A value with a NUL, a CR or a LF inside (RFC 9110 §5.5) is
 * refused: before, a NUL cut the value short ("abc\0xyz" gave "abc").
 */
/* A row: the line, its length (NULs inside), what is taken. */
#define ROW(line, want)                                                        \
	{                                                                      \
		line, sizeof(line) - 1, want                                   \
	}

static void
test_header_value(void)
{
	static const struct {
		const char *line;
		size_t len;
		const char *want; /* NULL: refused */
	} rows[] = {
	    ROW("Retry-After: 120\r\n", "120"),
	    ROW("retry-after:\t 120 \t\r\n", "120"),
	    ROW("Retry-After:\r\n", ""),
	    ROW("Retry-After 120\r\n", NULL),
	    ROW("Retry-Afte: 120\r\n", NULL),
	    ROW("Retry-After: 1\0 20\r\n", NULL),
	    ROW("Retry-After: 12\r0\r\n", NULL),
	    ROW("Retry-After: 12\n0\r\n", NULL),
	    ROW("Retry-After: 0123456789\r\n", NULL), /* over size 8 */
	};
	char out[8];
	size_t i;
	bool got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(out, 'x', sizeof(out));
		got = acme_header_value(rows[i].line, rows[i].len,
		                        "Retry-After", out, sizeof(out));
		tap_ok(rows[i].want == NULL ?
		           !got :
		           got && strcmp(out, rows[i].want) == 0,
		       "header value, row %zu: %s", i,
		       rows[i].want == NULL ? "refused" : rows[i].want);
	}
}

int
main(void)
{
	test_retry_after();
	test_cert_id();
	test_header_value();
	return tap_done();
}
