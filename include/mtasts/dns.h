/* SPDX-License-Identifier: ISC */
/*
 * Asynchronous DNS with DNSSEC status, for `mtasts check` and the sender
 * side: an I/O adapter over libunbound, driven by a libevent loop.
 *
 * Many queries run at once on one thread: mts_dns_query() returns at
 * once and the callback runs later from the event loop, exactly once per
 * successful query call (never from inside mts_dns_query(), never after
 * mts_dns_free()).  Answers carry the DNSSEC status of the whole chain as
 * libunbound's validator saw it (RFC 4035 §4.3): secure, insecure or
 * bogus.
 */
#ifndef MTASTS_DNS_H
#define MTASTS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/dane.h>
#include <mtasts/err.h>
#include <mtasts/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
struct mts_dns;

enum {
	MTS_DNS_TYPE_A = 1,
	MTS_DNS_TYPE_CNAME = 5,
	MTS_DNS_TYPE_MX = 15,
	MTS_DNS_TYPE_TXT = 16,
	MTS_DNS_TYPE_AAAA = 28,
	MTS_DNS_TYPE_TLSA = 52
};

enum mts_dns_rcode {
	MTS_DNS_ANSWER = 0, /* records of the type were found */
	MTS_DNS_NODATA,     /* the name exists, without records of the type */
	MTS_DNS_NAME_ERROR, /* NXDOMAIN */
	MTS_DNS_SERVFAIL,   /* the server failed, or validation failed */
	MTS_DNS_TIMEOUT,    /* no answer in time */
	MTS_DNS_ERROR       /* a local error (see why) */
};

enum mts_dnssec {
	MTS_DNSSEC_INSECURE = 0, /* no chain of trust: an unsigned zone */
	MTS_DNSSEC_SECURE,       /* validated */
	MTS_DNSSEC_BOGUS         /* a chain of trust that fails */
};

struct mts_dns_mx {
	uint16_t preference;
	char *host; /* presentation form, no trailing dot */
};

/* One answer; everything owned by the answer, valid during the callback. */
struct mts_dns_answer {
	const char *qname; /* as asked */
	uint16_t qtype;
	enum mts_dns_rcode rcode;
	enum mts_dnssec dnssec;
	const char *why_bogus;      /* libunbound's reason, or NULL */
	const char *canonical;      /* the name after CNAMEs, or NULL if none */
	const char *why;            /* for MTS_DNS_ERROR and MTS_DNS_TIMEOUT */
	size_t count;               /* records of qtype in the answer */
	char **txt;                 /* TXT: strings of each record joined
				      without spaces (RFC 8461 §3.1) */
	size_t *txt_len;            /* their lengths (TXT may hold NULs) */
	struct mts_dns_mx *mx;      /* MX, in answer order */
	char **addr;                /* A and AAAA: presentation form */
	struct mts_dane_tlsa *tlsa; /* TLSA, wire-parsed; unusable ones too */
};

typedef void (*mts_dns_cb)(void *arg, const struct mts_dns_answer *answer);

struct mts_dns_options {
	/*
	 * Where to send queries: NULL uses /etc/resolv.conf; otherwise an
	 * address ("127.0.0.1", "::1", "127.0.0.1@5353") of a recursive
	 * resolver used as forwarder.  libunbound validates the answers
	 * itself either way.
	 */
	const char *resolver;
	/* A trust anchor file (DS or DNSKEY records, zone-file format);
	 * NULL: the root anchor of the system (dns-root-data or
	 * unbound-anchor's), when one exists, else no validation. */
	const char *trust_anchor;
	unsigned timeout_ms; /* per query; 0: 5000 */
};

/*
 * Makes a resolver on `base`.  Returns NULL on failure with err set
 * (MTS_ERR_ARG for a bad resolver address or unreadable trust anchor,
 * MTS_ERR_NOMEM, MTS_ERR_IO).
 */
MTS_API struct mts_dns *mts_dns_new(struct event_base *base,
                                    const struct mts_dns_options *options,
                                    struct mts_err *err);

/*
 * Starts a query of `name` (A-labels; a trailing dot is optional) for
 * `type`.  The callback gets the answer later.  Returns 0, or -1 with err
 * set, in which case the callback is never called.
 */
MTS_API int mts_dns_query(struct mts_dns *dns, const char *name, uint16_t type,
                          mts_dns_cb cb, void *arg, struct mts_err *err);

/* The number of queries started and not yet answered. */
MTS_API size_t mts_dns_pending(const struct mts_dns *dns);

/*
 * Cancels every pending query (their callbacks are not called) and frees
 * the resolver.  NULL-safe.
 */
MTS_API void mts_dns_free(struct mts_dns *dns);

/* "secure", "insecure", "bogus". */
MTS_API const char *mts_dnssec_name(enum mts_dnssec status);

/* "answer", "nodata", "nxdomain", "servfail", "timeout", "error". */
MTS_API const char *mts_dns_rcode_name(enum mts_dns_rcode rcode);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_DNS_H */
