/* SPDX-License-Identifier: ISC */
/*
 * The MX probe of `mtasts check` and `mtasts tlsa check`: connects to one
 * address of an MX host on port 25, reads the banner, says EHLO, asks for
 * STARTTLS (RFC 3207) and completes the TLS handshake with SNI = the MX
 * host, then judges the certificate both ways a sender may:
 *
 *   - MTA-STS (RFC 8461 §4.2): chain valid in the Web PKI, the MX host
 *     name among the DNS-IDs (no CN fallback), not expired;
 *   - DANE (RFC 7672 §3): with the TLSA records given, OpenSSL's DANE
 *     verification (SSL_dane_enable, SSL_dane_tlsa_add): DANE-EE matches
 *     the leaf ignoring names and expiry, DANE-TA anchors the chain and
 *     checks the name.
 *
 * Then QUIT.  An I/O adapter on libevent and OpenSSL; SMTP bytes are
 * parsed by the pure smtp_reply.c.  It reports what it saw, not a
 * verdict.
 */
#ifndef MTS_CHECK_PROBE_H
#define MTS_CHECK_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/dane.h>

struct event_base;
struct ssl_ctx_st;

enum probe_stage {
	PROBE_DONE = 0,         /* TLS was established and judged */
	PROBE_CONNECT,          /* TCP connect failed, or the connection
				   was reset or closed after the greeting,
				   before TLS (`why` says which) */
	PROBE_BANNER,           /* no 220 greeting (or a 554) */
	PROBE_EHLO,             /* EHLO refused */
	PROBE_NO_STARTTLS,      /* STARTTLS not offered in the EHLO reply */
	PROBE_STARTTLS_REFUSED, /* STARTTLS answered other than 220 */
	PROBE_TLS,              /* the handshake failed */
	PROBE_PROTOCOL,         /* a malformed SMTP reply */
	PROBE_TIMEOUT           /* the deadline passed */
};

struct probe_result {
	enum probe_stage stage;
	char why[256]; /* for every stage but DONE; the server's
				     reply text where there is one */
	char address[46];
	char banner_host[256]; /* first word of the 220 greeting */
	int banner_code;
	/* TLS */
	char tls_version[16];
	char cipher[64];
	/* Web PKI (MTA-STS) */
	bool have_cert;
	long verify_error; /* X509_V_OK or X509_V_ERR_* */
	char verify_msg[128];
	bool name_ok;            /* a DNS-ID matches the MX host */
	int64_t not_after;       /* the leaf's expiry */
	char subject_names[256]; /* the leaf's DNS-IDs, comma separated */
	/* DANE, when TLSA records were given */
	bool dane_checked;  /* at least one usable record was given */
	bool dane_ok;       /* OpenSSL's DANE verification passed */
	int dane_usage;     /* usage of the matching record, -1 none */
	int dane_depth;     /* chain depth it matched at, -1 none */
	char dane_msg[128]; /* why it failed */
	/* The presented chain, leaf first, DER, owned: for `tlsa check`
	   to say which records match which certificate. */
	size_t chain_count;
	uint8_t **chain_der;
	size_t *chain_len;
};

struct probe_options {
	unsigned timeout_ms; /* whole exchange; 0: 30000 */
	unsigned port;       /* 0: 25; tests may change it */
	const char *helo;    /* EHLO name; NULL: "mtasts.invalid" */
	/*
	 * DANE, when usable TLSA records are given.  dane_base: the TLSA
	 * base domain (NULL: the MX host), sent as SNI and checked first
	 * (RFC 7672 §3.2.2, §8.1); it differs from the MX host when the
	 * records came from the host's CNAME target.  dane_names: more
	 * reference identifiers for DANE-TA (NULL-terminated, may be NULL),
	 * such as the next-hop domain of a secure MX lookup.
	 */
	const char *dane_base;
	const char *const *dane_names;
	/* Send no SNI: whether the server needs it (RFC 7672 §8.1). */
	bool no_sni;
};

typedef void (*probe_cb)(void *arg, struct probe_result *result);

/*
 * A client TLS context for probes: TLS 1.2 minimum, DANE enabled
 * (SSL_CTX_dane_enable), trusting ca_file or the system store.
 */
struct ssl_ctx_st *probe_ctx_new(const char *ca_file);

/*
 * Starts a probe of `mx_host` (A-labels, as the MX record names it) at
 * `address`.  `tlsa` (n records, may be 0) are the DNSSEC-secure TLSA
 * records of the host; unusable ones are skipped.  The callback runs
 * exactly once, later, from the event loop; release the result with
 * probe_result_free().  Returns 0, or -1 when nothing was started.
 */
int probe_mx(struct event_base *base, struct ssl_ctx_st *ctx,
             const char *mx_host, const char *address,
             const struct mts_dane_tlsa *tlsa, size_t n,
             const struct probe_options *options, probe_cb cb, void *arg);

void probe_result_free(struct probe_result *result);

const char *probe_stage_name(enum probe_stage stage);

#endif /* MTS_CHECK_PROBE_H */
