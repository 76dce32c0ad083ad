/* SPDX-License-Identifier: ISC */
/*
 * The messages of mtasts serve's ACME process (issue 13): what the
 * parent, the acme process and the server process say to each other
 * about certificates.  Each message is the body of one ctl.h frame.
 *
 *   parent -> acme    CONF      the ACME configuration and the domains
 *                               that need a certificate (at start and
 *                               on every reload)
 *   parent -> acme    "CHAN"    with a descriptor (SCM_RIGHTS): the acme
 *                               end of a new socketpair to the server
 *                               (at start and for every new server)
 *   parent -> server  "MTSA"    with a descriptor: the server's end
 *   acme -> parent    ISSUED    NAME has a new certificate and key in the
 *                               state directory: the parent rebuilds the
 *                               set (batched) and sends it as on SIGHUP
 *   acme -> server    ALPN-ADD  a TLS-ALPN-01 challenge certificate and
 *                               its throwaway key for the host NAME
 *                               (RFC 8737 §3)
 *                     ALPN-DEL  NAME's challenge is over
 *                     HTTP-ADD  an HTTP-01 token and its key
 *                               authorization (RFC 8555 §8.3)
 *                     HTTP-DEL  TOKEN's challenge is over
 *                     STATE     a domain's certificate state, for
 *                               /metrics
 *   server -> acme    a ctl.h reply ("OK" or "FAIL why") to each message,
 *                     in order: the acme process tells the CA to validate
 *                     only once the server has said OK to the ADD.
 *
 * A body is one line "VERB ARG...\n" of at most ACME_MSG_LINE_MAX octets
 * (printable ASCII, single spaces), then the payload, whose layout the
 * line gives.  Names are host or domain names as acme_name_ok() accepts
 * them (lower case); tokens are base64url (acme_token_valid()).
 *
 * Pure: bytes in, structs out; no I/O.  Decoders check every field and
 * length and borrow blobs from the body; they leave *out untouched on
 * failure.
 */
#ifndef MTS_SERVE_ACME_MSG_H
#define MTS_SERVE_ACME_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACME_MSG_LINE_MAX 512
/* A message but CONF: a challenge certificate and key, well under. */
#define ACME_MSG_MAX      (64u * 1024)
/* A CONF: room for 100,000 domain names and the settings. */
#define ACME_CONF_MAX     (32u * 1024 * 1024)
#define ACME_ERROR_MAX    160 /* last_error of a STATE, octets */

/* The descriptor hand-off frames' bodies (4 octets, no line). */
#define ACME_CHAN_TAG   "CHAN"
#define ACME_SERVER_TAG "MTSA"

enum acme_msg_type {
	ACME_MSG_ISSUED,
	ACME_MSG_ALPN_ADD,
	ACME_MSG_ALPN_DEL,
	ACME_MSG_HTTP_ADD,
	ACME_MSG_HTTP_DEL,
	ACME_MSG_STATE
};

/*
 * A decoded message.  name is the NAME (ISSUED, ALPN-*, STATE) or the
 * TOKEN (HTTP-*); the blobs borrow from the body:
 *   ALPN-ADD  cert = the challenge certificate's PEM, key = its key's PEM
 *   HTTP-ADD  cert = the key authorization (token "." thumbprint)
 *   STATE     cert = last_error (may be empty)
 */
struct acme_msg {
	enum acme_msg_type type;
	char name[257]; /* a name (253) or a token (ACME_TOKEN_MAX 256) */
	const uint8_t *cert;
	size_t cert_len;
	const uint8_t *key;
	size_t key_len;
	/* STATE only, seconds since the epoch (0: unknown / none). */
	int64_t not_after; /* of the certificate served now */
	int64_t renew_at;  /* the next renewal or retry */
	uint32_t failures; /* consecutive failed orders */
};

/*
 * Encoders: a new body in *out (*len octets) that the caller frees (with
 * explicit_bzero first for ALPN-ADD, which holds a private key).  0, or
 * -1 when a field is invalid (a bad name or token, a blob over
 * ACME_MSG_MAX) or memory runs out.
 */
int acme_msg_issued(const char *name, uint8_t **out, size_t *len);
int acme_msg_alpn_add(const char *name, const char *cert_pem, size_t cert_len,
                      const char *key_pem, size_t key_len, uint8_t **out,
                      size_t *len);
int acme_msg_alpn_del(const char *name, uint8_t **out, size_t *len);
int acme_msg_http_add(const char *token, const char *key_authz, uint8_t **out,
                      size_t *len);
int acme_msg_http_del(const char *token, uint8_t **out, size_t *len);
/* last_error NULL or "" for none; cut to ACME_ERROR_MAX, control bytes
   replaced by '?'. */
int acme_msg_state(const char *name, int64_t not_after, int64_t renew_at,
                   uint32_t failures, const char *last_error, uint8_t **out,
                   size_t *len);

/* Decodes a body of any type above; 0, or -1 when malformed. */
int acme_msg_decode(const uint8_t *body, size_t len, struct acme_msg *out);

/* The type's verb ("ISSUED", "ALPN-ADD", ...). */
const char *acme_msg_verb(enum acme_msg_type type);

/*
 * The ACME configuration the parent sends the acme process (mtasts.conf(5)
 * "acme-*" keys), and the domains whose mta-sts host it must keep a
 * certificate for.
 */
struct acme_proc_conf {
	char *directory; /* the ACME directory URL */
	char *contact;   /* "mailto:..." or NULL */
	char *ca_file;   /* extra trust for the directory's TLS, or NULL */
	char *state_dir;
	uint32_t rate_orders; /* at most this many new orders ... */
	uint32_t rate_window; /* ... in this many seconds */
	uint32_t burst;       /* of which this many at once */
	uint32_t renew_age;   /* renew at this age (seconds); 0: 2/3 or ARI */
	bool http01;          /* an acme-http-listen exists */
	bool prefer_http01;   /* acme-challenge http-01: answer http-01 when
	                         offered, tls-alpn-01 only when it is not */
	char **names;         /* policy domains, lower case, sorted, unique */
	size_t name_count;
};

/*
 * The CONF body: the line "CONF\n", then "key value\n" lines (directory,
 * contact, ca-file, state-dir, rate, window, burst, renew-age, http01,
 * challenge) and one "domain NAME\n" per name.  challenge is
 * "tls-alpn-01" or "http-01" (prefer_http01; absent: tls-alpn-01), and
 * http-01 only with http01 1.  Values may not hold control bytes.
 * A new body in *out; 0, or -1 (invalid field, over ACME_CONF_MAX, out
 * of memory).
 */
int acme_conf_encode(const struct acme_proc_conf *conf, uint8_t **out,
                     size_t *len);
/*
 * Decodes a CONF body into *out (allocated; acme_conf_free() it).  0, or
 * -1 when malformed (unknown key, a required key missing: directory and
 * state-dir; a bad name; a number out of range; challenge http-01
 * without http01 1), *out untouched.
 */
int acme_conf_decode(const uint8_t *body, size_t len,
                     struct acme_proc_conf *out);
void acme_conf_free(struct acme_proc_conf *conf);

/*
 * The state directory's certificate file of a policy domain:
 * "STATE_DIR/certs/DOMAIN.pem", 0600, written atomically by the acme
 * process: the private key (PKCS#8 PEM) then the chain, leaf first.
 * 0, or -1 when it does not fit size or the domain is not a name.
 */
int acme_cert_path(const char *state_dir, const char *domain, char *buf,
                   size_t size);

/*
 * Beside it, "STATE_DIR/certs/DOMAIN.state" (0644, written atomically by
 * the acme process whenever it changes) holds exactly a STATE message's
 * body (acme_msg_state()): what `mtasts serve -n` shows for the domain.
 */
int acme_state_path(const char *state_dir, const char *domain, char *buf,
                    size_t size);

/*
 * Splits such a file's text into the chain (every CERTIFICATE block, in
 * order) and the key (the one PRIVATE KEY block), each a new
 * NUL-terminated string (the key's cleared before it is freed: the caller
 * does the same).  0, or -1 when the text holds a NUL, there is no
 * certificate, not exactly one key, a block is unterminated, or memory runs out (nothing allocated).
 */
int acme_pem_split(const char *pem, size_t len, char **chain, size_t *chain_len,
                   char **key, size_t *key_len);

#endif /* MTS_SERVE_ACME_MSG_H */
