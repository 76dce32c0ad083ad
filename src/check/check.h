/* SPDX-License-Identifier: ISC */
/*
 * The engine of `mtasts check`: checks many domains at once on one event
 * loop, as senders would see them (RFC 8461, RFC 8460, RFC 7672).  Every
 * domain's DNS lookups, policy fetches and MX probes run asynchronously;
 * when the last one of a domain ends, its findings are judged and
 * handed to the report callback, and the next queued domain starts.
 * Below the checker: the DANE view of one host (struct dane_host), which
 * `mtasts tlsa check` shares.
 */
#ifndef MTS_CHECK_CHECK_H
#define MTS_CHECK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/dns.h>
#include <mtasts/mtasts.h>

struct event_base;
struct checker;

struct check_options {
	const char *resolver;     /* --resolver; NULL: /etc/resolv.conf */
	const char *trust_anchor; /* --trust-anchor; NULL: the system's */
	const char *ca_file;      /* --ca-file; NULL: the system store */
	const char *state_dir;    /* --state; NULL: no memory of ids */
	unsigned concurrency;     /* domains at once; 0: 20 */
	unsigned timeout_ms;      /* per fetch or probe; 0: their defaults */
	unsigned https_port;      /* 0: 443 (tests only) */
	unsigned smtp_port;       /* 0: 25 (tests only) */
	bool no_smtp;             /* skip the MX probes */
	int64_t now;              /* the time findings are judged at */
};

/* The result for one domain, valid during the callback. */
struct check_report {
	const char *domain;
	const struct mts_diag *diag; /* every finding, in check order */
	enum mts_severity verdict;   /* the worst severity */
	const char *mode;            /* the policy's mode, or NULL */
	const char *id;              /* the record's id, or NULL */
};

typedef void (*check_report_cb)(void *arg, const struct check_report *r);

/* A checker on `base`; NULL with a message printed on failure. */
struct checker *checker_new(struct event_base *base,
                            const struct check_options *options,
                            check_report_cb cb, void *arg);

/* Queues a domain (copied); it starts when a slot is free. 0 or -1. */
int checker_add(struct checker *ck, const char *domain);

/* Domains queued or running. */
size_t checker_busy(const struct checker *ck);

/*
 * State files (--state) that could not be read or written so far; each
 * was reported on stderr with its path and the reason.
 */
size_t checker_state_errors(const struct checker *ck);

void checker_free(struct checker *ck);

/*
 * ---- The DANE view of one SMTP server host ----
 *
 * Shared by `mtasts check` (each MX host) and `mtasts tlsa check`: the
 * lookups a DANE sender makes for a host and what it makes of them
 * (RFC 7672 §2.2).  The A, AAAA and TLSA lookups of the host start at
 * once; when the addresses came through a CNAME, a secure chain adds a
 * TLSA lookup at the expanded name, an insecure one a CNAME lookup of
 * the host (is its first CNAME secure?, §2.2.2).  When every lookup is
 * in, the TLSA base domain is decided (§2.2.3) and the done callback
 * runs, once.
 */

struct probe_options;

/* What is kept of a DNS answer after its callback. */
struct rrset {
	bool done;
	enum mts_dns_rcode rcode;
	enum mts_dnssec dnssec;
	char *canonical; /* the name after CNAMEs, or NULL */
	size_t count;    /* addresses kept in addr */
	char **addr;     /* A/AAAA */
};

struct dane_host;

/* A TLSA lookup at one candidate TLSA base domain (RFC 7672 §2.2.3). */
struct tlsa_lookup {
	struct dane_host *host;
	bool started, done;
	char *base; /* the candidate TLSA base domain */
	enum mts_dns_rcode rcode;
	enum mts_dnssec dnssec;
	size_t records;             /* TLSA records in the answer */
	struct mts_dane_tlsa *tlsa; /* those records, secure or not */
	size_t count;               /* records kept in tlsa */
};

/* What a DANE sender makes of a host's lookups (RFC 7672 §2.2). */
enum dane_state {
	DANE_NONE,          /* no TLSA records: pre-DANE opportunistic TLS */
	DANE_INSECURE,      /* records, not secure: ignored */
	DANE_IGNORED,       /* secure records behind insecure addresses */
	DANE_BOGUS,         /* the host is unreachable for DANE senders */
	DANE_LOOKUP_FAILED, /* likewise */
	DANE_SECURE         /* a secure RRset: TLS is mandatory */
};

/*
 * Called for every answer of a host's lookups before it is kept, and for
 * a query that could not start (rcode MTS_DNS_ERROR, `why` the reason).
 */
typedef void (*dane_host_answer_cb)(void *arg, const struct mts_dns_answer *a);

/* Called once when every lookup of the host is in and DANE is decided. */
typedef void (*dane_host_done_cb)(void *arg, struct dane_host *h);

/* Caller-embedded; zero it, then dane_host_start(), dane_host_reset(). */
struct dane_host {
	const char *name; /* borrowed: outlives the struct */
	unsigned port;    /* of the TLSA owner _PORT._tcp */
	struct mts_dns *dns;
	dane_host_answer_cb answer_cb; /* may be NULL */
	dane_host_done_cb done_cb;
	void *arg;
	unsigned pending; /* queries started and not yet answered */
	struct rrset a, aaaa, cname;
	bool cname_followed, cname_started;
	bool nomem; /* an answer could not be kept whole: judge nothing */
	struct tlsa_lookup tlsa[2]; /* at the host, at its CNAME target */
	/* The decision, when done_cb runs. */
	enum dane_state dane;
	/* The lookup that decided, the one whose records are ignored, or
	   for DANE_NONE the last candidate tried (NULL: none). */
	const struct tlsa_lookup *dane_at;
	size_t candidates;    /* TLSA base domains a sender would try */
	const char *names[3]; /* more DANE-TA reference identifiers */
};

/*
 * Starts the lookups of host `name` (borrowed) with TLSA owners
 * _`port`._tcp.  done_cb runs once, later, from the event loop.  Returns
 * 0, or -1 when no query could be started (answer_cb has been told
 * why; done_cb never runs).
 */
int dane_host_start(struct dane_host *h, struct mts_dns *dns, const char *name,
                    unsigned port, dane_host_answer_cb answer_cb,
                    dane_host_done_cb done_cb, void *arg);

/* Frees what the lookups kept; the struct may be started again. */
void dane_host_reset(struct dane_host *h);

/* The name the address lookups ended at when a CNAME led elsewhere. */
const char *dane_host_expanded(const struct dane_host *h);

/* Every address RRset with records is secure (RFC 7672 §2.2.2). */
bool dane_host_addresses_secure(const struct dane_host *h);

/* Usable TLSA records of a lookup (RFC 7672 §3.1). */
size_t dane_host_usable(const struct tlsa_lookup *t);

/*
 * Sets h->names, the DANE-TA reference identifiers beyond the base
 * domain (RFC 7672 §3.2.2): the host when the base domain is its CNAME
 * target, and `next_hop` (borrowed; NULL for none), the domain of a
 * secure MX lookup.
 */
void dane_host_names(struct dane_host *h, const char *next_hop);

/*
 * When DANE applies (a secure TLSA RRset decided), sets the DANE fields
 * of `po` (the base domain for SNI, h->names) and returns the RRset to
 * give probe_mx(); else NULL, and `po` is not changed.
 */
const struct tlsa_lookup *dane_host_probe(const struct dane_host *h,
                                          struct probe_options *po);

#endif /* MTS_CHECK_CHECK_H */
