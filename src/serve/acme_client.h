/* SPDX-License-Identifier: ISC */
/*
 * The HTTP side of the ACME client of mtasts serve (RFC 8555 §6): one
 * libcurl easy handle that fetches the directory (§7.1.1), keeps the
 * latest Replay-Nonce (§6.5, §7.2), signs every POST and POST-as-GET
 * (§6.2, §6.3) with the account key, retries a badNonce with the fresh
 * nonce (§6.5), reads Retry-After (§6.6, RFC 9110 §10.2.3), turns problem
 * documents (§6.7) into one line for the log, creates or finds the
 * account (§7.3, §7.3.1) and asks for a certificate's renewalInfo
 * (RFC 9773 §4.1).
 *
 * Every request is bounded in time (ACME_HTTP_TIMEOUT, connect
 * ACME_HTTP_CONNECT_TIMEOUT) and size (ACME_JSON_MAX_DOC for JSON,
 * ACME_CHAIN_MAX for a PEM chain), so one CA or one domain that hangs
 * never holds the process for long.  Only https is spoken; the CA's
 * certificate is checked against the system's trust store and, with
 * acme-ca-file, that file's too.
 *
 * The client never logs: a failed call leaves one line in c->why (the
 * CA's problem type and detail when there is one) and the CA's
 * Retry-After in c->retry_after, for the caller's log and back-off.
 *
 * acme_retry_after_parse(), acme_cert_id() and acme_header_value() are
 * pure, for the tests and fuzz_acme_client.
 */
#ifndef MTS_SERVE_ACME_CLIENT_H
#define MTS_SERVE_ACME_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "acme_json.h"

#define ACME_HTTP_TIMEOUT         30L /* seconds, a whole request */
#define ACME_HTTP_CONNECT_TIMEOUT 10L
#define ACME_CHAIN_MAX            (1024 * 1024) /* a PEM chain, octets */
#define ACME_NONCE_MAX            256
/* RFC 8555 §6.5: a badNonce is retried with the fresh nonce; 16 tries,
   so that a CA rejecting half the good nonces (pebble's
   PEBBLE_WFE_NONCEREJECT=50) fails one request in 65536. */
#define ACME_BADNONCE_TRIES       16
#define ACME_CLIENT_WHY           320

/* One HTTP response, owned by the caller: acme_resp_free(). */
struct acme_resp {
	long status;         /* HTTP status */
	char *body;          /* NUL-terminated, len octets; never NULL */
	size_t len;          /* after a successful call */
	char *location;      /* the Location header, or NULL */
	int64_t retry_after; /* absolute time, 0 when absent */
};

void acme_resp_free(struct acme_resp *r);

struct acme_client {
	CURL *curl;
	char *dir_url;
	char *ca_file;
	struct acme_directory dir;
	bool have_dir;
	char nonce[ACME_NONCE_MAX + 1]; /* "" when none is kept */
	EVP_PKEY *key;                  /* the account key, borrowed */
	char *kid;                      /* the account URL, or NULL */
	/* Of the last failed call. */
	char why[ACME_CLIENT_WHY];
	enum acme_problem_type problem;
	int64_t retry_after; /* absolute time, 0 when none */
	/* Counters, for the log and the tests. */
	unsigned long requests, bad_nonces;
};

/*
 * Makes the client for the directory at dir_url (https), with ca_file
 * (or NULL) as extra trust and key (P-256, borrowed, kept alive by the
 * caller) as the account key.  0, or -1 (out of memory, no curl handle).
 * Needs curl_global_init() done.
 */
int acme_client_init(struct acme_client *c, const char *dir_url,
                     const char *ca_file, EVP_PKEY *key);
void acme_client_free(struct acme_client *c);

/* Fetches the directory once (again after acme_client_forget()). */
int acme_client_directory(struct acme_client *c, int64_t now);

/* Drops the directory and the nonce, so that the next call starts over
   (after a failure that may be the CA's restart). */
void acme_client_forget(struct acme_client *c);

/*
 * Finds or creates the account (RFC 8555 §7.3: newAccount with
 * termsOfServiceAgreed and contact, NULL for none; a key that has an
 * account gets 200 and its URL, §7.3.1) and sets c->kid.  0 or -1.
 */
int acme_client_account(struct acme_client *c, const char *contact,
                        int64_t now);

/*
 * A signed POST of payload (a JSON text; "" for POST-as-GET, §6.3) to
 * url, with kid when the account is known (else the jwk).  accept is
 * the Accept header or NULL; cap the largest body taken.  Retries a
 * badNonce up to ACME_BADNONCE_TRIES times.  0 with *r filled on a 2xx
 * status; -1 otherwise (c->why, c->problem, c->retry_after set, *r
 * untouched).
 */
int acme_client_post(struct acme_client *c, const char *url,
                     const char *payload, const char *accept, size_t cap,
                     int64_t now, struct acme_resp *r);

/*
 * The renewalInfo of a certificate (RFC 9773 §4.1): a GET of the
 * directory's renewalInfo URL "/" certID.  0 with the window in *out
 * (acme_renewal_info_free() it) and the Retry-After in seconds in
 * *retry_secs (-1 when absent); -1 when the directory has none or it
 * fails.
 */
int acme_client_renewal_info(struct acme_client *c, X509 *cert, int64_t now,
                             struct acme_renewal_info *out,
                             int64_t *retry_secs);

/*
 * The value of the header line h[0..n) (as libcurl hands it, with its
 * CRLF) when its field name is `name` (case-insensitive), without the
 * blanks around it, in out[0..size) NUL-terminated; false when the line
 * is another header or the value does not fit.  Pure, for the tests.
 */
bool acme_header_value(const char *h, size_t n, const char *name, char *out,
                       size_t size);

/*
 * A Retry-After value (RFC 9110 §10.2.3): delay-seconds or an
 * HTTP-date, as an absolute time seen at `now`.  0 and *out, or -1
 * (*out untouched) when it is neither.  A date already past means now
 * (the CA's clock may differ from ours); a delay over ten years is
 * refused.
 */
int acme_retry_after_parse(const char *value, int64_t now, int64_t *out);

/*
 * The certID of RFC 9773 §4.1: base64url(the keyIdentifier of the
 * certificate's Authority Key Identifier) "." base64url(the DER content
 * octets of its serial number, with the leading zero a positive number
 * needs).  acme_cert_id_raw() takes those two octet strings; both write
 * a new string in *out that the caller frees.  -1 when the certificate
 * has no keyIdentifier, or memory runs out.
 */
int acme_cert_id_raw(const uint8_t *aki, size_t aki_len, const uint8_t *serial,
                     size_t serial_len, char **out);
int acme_cert_id(X509 *cert, char **out);

#endif /* MTS_SERVE_ACME_CLIENT_H */
