/* SPDX-License-Identifier: ISC */
/*
 * What the policy fetch (fetch.c) and the MX probe (probe.c) share: the
 * Web PKI judgement of a server's certificate as a sender makes it, and
 * the socket address of a numeric address.  Both handshakes run with
 * SSL_VERIFY_NONE and judge afterwards, so that a bad certificate is
 * reported rather than refused; they must judge alike:
 *
 *   - the chain (RFC 8461 §3.3 for the policy host, §4.2 for MX hosts):
 *     to a trusted root, valid now, verified by OpenSSL as a TLS
 *     client's own verification would be (the context's store, the
 *     chain the server sent as untrusted, the purpose and trust of a
 *     TLS server, the security level of the connection);
 *   - the name apart from the chain: DNS-IDs only (no CN fallback, RFC
 *     6125 §6.4.4), a wildcard only as the whole left-most label (RFC
 *     9525 §6.3; checklist STS-CERT-4, STS-CERT-5, A12);
 *   - the leaf's notAfter and DNS-IDs, for the report.
 */
#ifndef MTS_CHECK_PKIX_H
#define MTS_CHECK_PKIX_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/*
 * Verifies the chain of `leaf` (with the chain the server sent over
 * `ssl`) in the Web PKI, names aside.  Returns X509_V_OK or the
 * X509_V_ERR_* of the first fault, and its text in msg (size octets).
 */
long pkix_verify(SSL *ssl, X509 *leaf, char *msg, size_t size);

/* Whether a DNS-ID of `leaf` covers `host` (a host name). */
bool pkix_name_ok(X509 *leaf, const char *host);

/* The leaf's notAfter in seconds since the epoch; 0 when unreadable. */
int64_t pkix_not_after(X509 *leaf);

/*
 * The leaf's DNS-IDs (subjectAltName dNSName), comma separated, each
 * escaped (text.h): a certificate may hold any octets.  Only whole
 * names; when the next does not fit, "..." says the list goes on.
 */
void pkix_dns_ids(X509 *leaf, char *out, size_t size);

/*
 * A client context for a fetch or a probe: TLS 1.2 or later (RFC 8461
 * §7.2, with RFC 7525), trusting ca_file (PEM) or, when NULL, the
 * system's default store; SSL_VERIFY_NONE, since the certificate is
 * judged after the handshake.  NULL on failure.
 */
SSL_CTX *pkix_ctx_new(const char *ca_file);

/*
 * The first `max` certificates of `chain` (leaf first) as DER: sets *der
 * and *len to arrays the caller frees (each der[i] too) and returns how
 * many were copied whole; the arrays may be set with 0 returned when
 * memory ran out.
 */
size_t pkix_chain_der(STACK_OF(X509) * chain, size_t max, uint8_t ***der,
                      size_t **len);

/*
 * The socket address of a numeric IPv4 or IPv6 address (dotted quad or
 * RFC 4291 text, nothing inet_aton(3) would stretch to fit) and port.
 * 0, or -1 when the text is no such address.
 */
int pkix_sockaddr(const char *address, unsigned port,
                  struct sockaddr_storage *ss, socklen_t *len);

#endif /* MTS_CHECK_PKIX_H */
