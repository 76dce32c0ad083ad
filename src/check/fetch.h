/* SPDX-License-Identifier: ISC */
/*
 * The policy fetch of `mtasts check`, exactly as a conformant sender does
 * it (RFC 8461 §3.3): HTTPS GET of https://mta-sts.<domain>/.well-known/
 * mta-sts.txt on port 443 of one given address, SNI and Web PKI
 * validation for mta-sts.<domain> (DNS-ID only, RFC 6125 with whole-label
 * wildcards), TLS 1.2 or later, no redirects followed, only 200 counts, a
 * body cap enforced while reading (a chunked body too), a deadline for the
 * whole exchange.  An I/O adapter on libevent and OpenSSL; the HTTP bytes
 * are parsed by the pure http_response.c.
 *
 * The fetch reports what it saw rather than a verdict, so the checker can
 * name each fault: where it stopped, the certificate's problems, the
 * status, Location, media type and body.
 */
#ifndef MTS_CHECK_FETCH_H
#define MTS_CHECK_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ssl_ctx_st;

enum fetch_stage {
	FETCH_DONE = 0,  /* a whole response arrived (any status) */
	FETCH_CONNECT,   /* TCP connect failed */
	FETCH_TLS,       /* the handshake failed (alert, protocol) */
	FETCH_HTTP,      /* the response was malformed or truncated */
	FETCH_TOO_LARGE, /* the body went over max_body */
	FETCH_TIMEOUT    /* the deadline passed */
};

struct fetch_result {
	enum fetch_stage stage;
	char why[256];    /* for every stage but DONE */
	char address[46]; /* the address connected to */
	/* TLS, when the handshake completed. */
	char tls_version[16]; /* "TLSv1.3" */
	char cipher[64];
	/* The certificate, judged as a sender judges it (even when the
	   handshake itself succeeded: the fetch uses VERIFY_NONE and checks
	   after, so that a bad certificate is reported, not just refused). */
	bool have_cert;
	long verify_error;       /* X509_V_OK or X509_V_ERR_* (chain,
					 expiry, ...) for the Web PKI */
	char verify_msg[128];    /* X509_verify_cert_error_string */
	bool name_ok;            /* a DNS-ID covers mta-sts.<domain> */
	int64_t not_after;       /* the leaf's expiry, seconds since epoch */
	char subject_names[256]; /* the leaf's DNS-IDs, comma separated */
	/* HTTP, when stage is DONE (or TOO_LARGE: status and fields). */
	int status;
	char content_type[256]; /* lower case, without parameters */
	char charset[48];
	bool content_type_present;
	char location[512]; /* of a 3xx; never followed */
	bool chunked;
	char *body; /* owned; NUL-terminated for convenience */
	size_t body_len;
};

struct fetch_options {
	unsigned timeout_ms; /* whole exchange; 0: 10000 */
	size_t max_body;     /* 0: 65536 (RFC 8461 §3.3) */
	unsigned port;       /* 0: 443; tests only may change it */
};

typedef void (*fetch_cb)(void *arg, struct fetch_result *result);

/*
 * A client TLS context for fetches: TLS 1.2 minimum, trusting ca_file
 * (PEM) or, when NULL, the system's default store.  NULL on failure.
 */
struct ssl_ctx_st *fetch_ctx_new(const char *ca_file);

/*
 * Starts the fetch of the policy of `domain` (A-labels) from `address`
 * (numeric IPv4 or IPv6).  The callback runs exactly once, later, from
 * the event loop, with a result it must release with fetch_result_free().
 * Returns 0, or -1 when nothing could be started (callback never runs).
 */
int fetch_policy(struct event_base *base, struct ssl_ctx_st *ctx,
                 const char *domain, const char *address,
                 const struct fetch_options *options, fetch_cb cb, void *arg);

void fetch_result_free(struct fetch_result *result);

const char *fetch_stage_name(enum fetch_stage stage);

#endif /* MTS_CHECK_FETCH_H */
