/* SPDX-License-Identifier: ISC */
/*
 * The key process of mtasts serve (STYLE.md rule 11; relayd's ca.c):
 * the only process that holds the private keys of the policy hosts.
 * The server process, which speaks to the internet, holds each key's
 * public half only, with an OpenSSL method that forwards the one
 * private-key operation of a handshake (the signature of TLS 1.3's
 * CertificateVerify or TLS 1.2's ServerKeyExchange) over a
 * SOCK_SEQPACKET socketpair and waits for the answer.  A server process
 * taken over by an attacker can have things signed while it lives, but
 * cannot take a key away: the key that stands between an attacker and a
 * forged policy stays where the attack is not.
 *
 * Keys: RSA (any padding the handshake asks for) and ECDSA.  Other key
 * types (Ed25519, Ed448) have no method to forward through: the loader
 * refuses them unless `key-process no`.
 */
#ifndef MTS_SERVE_KEYPROC_H
#define MTS_SERVE_KEYPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct bundle;

/* The largest signature or decryption: an RSA key of 16,384 bits. */
#define KEYPROC_MAX_OUT    2048
/* The largest input: a digest, or an RSA block of 16,384 bits. */
#define KEYPROC_MAX_IN     2048
/* How long a handshake waits for the key process, in milliseconds. */
#define KEYPROC_TIMEOUT_MS 2000

/* ---- the key process ---- */

/*
 * The key process's loop: reads key sets from the parent on ctl_fd
 * (frames as the parent sends the server its sets: 8-byte big-endian
 * length, then a bundle), answers each with one byte (1 kept, 0 refused),
 * and answers the server's requests on sign_fd.  Keeps the newest two
 * generations, so a handshake begun before a reload still finds its key.
 * Returns the process's exit status when the parent closes ctl_fd.
 */
int keyproc_main(int ctl_fd, int sign_fd);

/* ---- the server's side ---- */

/* The socket every forwarded operation goes through.  Once, at start. */
void keyproc_client_init(int sign_fd);

/*
 * A key for SSL_use_cert_and_key(): the public key of `leaf`, whose
 * private operations are forwarded to the key process as key `pair` of
 * set `generation`.  NULL (logged) for a key type that cannot be
 * forwarded or when memory runs out.  The caller frees it.
 */
EVP_PKEY *keyproc_remote_key(X509 *leaf, uint32_t generation, uint32_t pair);

/* Operations forwarded, and how many failed, for the metrics. */
void keyproc_client_stats(uint64_t *ops, uint64_t *failures);

#endif
