/* SPDX-License-Identifier: ISC */
/*
 * The state directory of serve's ACME client (acme-state-dir): what
 * survives the acme process, so that a new one resumes where the last
 * stopped.
 *
 *   DIR/               0700
 *   DIR/account.key    the account key, P-256 PKCS#8 PEM, 0600, made once
 *   DIR/account        "DIRECTORY-URL\nACCOUNT-URL\n": the account and the
 *                      CA it belongs to (another CA: a new account)
 *   DIR/certs/         0700
 *   certs/D.pem        the key then the chain (acme_msg.h), 0600
 *   certs/D.state      a STATE body (acme_msg.h), 0644
 *   certs/D.order      "ORDER-URL\n" of the order in progress, written
 *                      before anything else is done with it
 *   certs/D.key        the key of that order's CSR, 0600, written before
 *                      the CSR is sent, so that a resumed order that was
 *                      finalized gets a certificate for a key it has
 *
 * Every file is written atomically: a temporary file in the same
 * directory, fsync, rename, fsync of the directory.  Functions return 0
 * or -1 with errno set (ENOENT: the file is not there) and write their
 * out-params only on success.
 */
#ifndef MTS_SERVE_ACME_STATE_H
#define MTS_SERVE_ACME_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "acme_msg.h"

#define ACME_STATE_FILE_MAX (1024 * 1024) /* any state file, octets */

/* Makes DIR and DIR/certs (0700) when missing; 0 or -1. */
int acme_state_init(const char *dir);

/* Writes buf[0..len) to path atomically with mode; 0 or -1. */
int acme_state_write(const char *path, const void *buf, size_t len,
                     mode_t mode);

/* Reads a file of at most max octets into a new NUL-terminated *buf
   (the caller frees it) and *len; -1 (ENOENT, EFBIG, ...). */
int acme_state_read(const char *path, size_t max, char **buf, size_t *len);

/* The path DIR/certs/DOMAIN.suffix in buf[0..size); 0 or -1. */
int acme_state_path_of(const char *dir, const char *domain, const char *suffix,
                       char *buf, size_t size);

/* The account key: read, or made and written (0600) when missing.  The
   caller frees it.  NULL when it cannot be read or made. */
EVP_PKEY *acme_state_account_key(const char *dir);

/* The account URL kept for the CA at directory: 0 and a new *url, or -1
   (none, or one of another CA). */
int acme_state_account_get(const char *dir, const char *directory, char **url);
int acme_state_account_put(const char *dir, const char *directory,
                           const char *url);

/* What the acme process remembers of one domain besides its certificate. */
struct acme_dom_state {
	int64_t not_after; /* of the certificate served; 0: none */
	int64_t renew_at;  /* the next renewal or retry; 0: unknown */
	uint32_t failures;
	char last_error[ACME_ERROR_MAX + 1];
};

/* Reads certs/DOMAIN.state; 0, or -1 when missing or malformed. */
int acme_state_dom_get(const char *dir, const char *domain,
                       struct acme_dom_state *out);
/* Writes it (0644) and returns the same STATE body in a new *body (the
   caller frees it), for the server.  0 or -1. */
int acme_state_dom_put(const char *dir, const char *domain,
                       const struct acme_dom_state *st, uint8_t **body,
                       size_t *len);

/*
 * The certificate in certs/DOMAIN.pem: its leaf (the caller frees it,
 * or NULL not wanted) and its validity in seconds since the epoch.  -1
 * when missing or unreadable.
 */
int acme_state_cert_get(const char *dir, const char *domain, X509 **leaf,
                        int64_t *not_before, int64_t *not_after);
/* Writes certs/DOMAIN.pem (0600): key_pem then chain; 0 or -1. */
int acme_state_cert_put(const char *dir, const char *domain,
                        const char *key_pem, size_t key_len, const char *chain,
                        size_t chain_len);

/* The order in progress: its URL (a new string), written, forgotten
   (with its key). */
int acme_state_order_get(const char *dir, const char *domain, char **url);
int acme_state_order_put(const char *dir, const char *domain, const char *url);
void acme_state_order_clear(const char *dir, const char *domain);

/* The order's CSR key: read (NULL when missing), written (0600). */
EVP_PKEY *acme_state_order_key_get(const char *dir, const char *domain);
int acme_state_order_key_put(const char *dir, const char *domain,
                             EVP_PKEY *key);

/*
 * The parsers of the files above, pure, for the tests and fuzz_acme_state:
 * buf[0..len) is a file's content (buf[len] == '\0' for the certificate,
 * as acme_state_read() leaves it).  A URL read back is held to what the
 * CA's documents are (https, printable ASCII without space, at most
 * ACME_URL_MAX octets) and ended by a newline.  0 with the out-params
 * written, or -1.
 */
int acme_state_account_parse(const char *buf, size_t len, const char *directory,
                             char **url);
int acme_state_order_parse(const char *buf, size_t len, char **url);
int acme_state_dom_parse(const uint8_t *buf, size_t len, const char *domain,
                         struct acme_dom_state *out);
int acme_state_cert_parse(const char *buf, size_t len, X509 **leaf,
                          int64_t *not_before, int64_t *not_after);

/* A certificate's notBefore or notAfter as seconds since the epoch. */
int acme_asn1_time(const ASN1_TIME *t, int64_t *out);

#endif /* MTS_SERVE_ACME_STATE_H */
