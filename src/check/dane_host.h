/* SPDX-License-Identifier: ISC */
/*
 * The DANE view of one SMTP server host, shared by `mtasts check` (each
 * MX host) and `mtasts tlsa check`: the lookups a DANE sender makes for
 * a host and what it makes of them (RFC 7672 §2.2).  The A, AAAA and
 * TLSA lookups of the host start at once; when the addresses came
 * through a CNAME, a secure chain adds a TLSA lookup at the expanded
 * name, an insecure one a CNAME lookup of the host (is its first CNAME
 * secure?, §2.2.2).  When every lookup is in, dane_decide() finds the
 * TLSA base domain (§2.2.3) and the done callback runs, once.
 *
 * dane_decide() and the helpers below it are pure: they read the answers
 * kept in the struct, so that the judge of `mtasts check` can run on
 * answers recorded earlier (tests/unit/test_check_judge.c).  Why DANE
 * does not apply to a host is said once, by dane_host_why_not().
 */
#ifndef MTS_CHECK_DANE_HOST_H
#define MTS_CHECK_DANE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/dns.h>
#include <mtasts/mtasts.h>

struct probe_options;

/* What is kept of a DNS answer after its callback. */
struct rrset {
	bool done;
	bool not_started; /* the query could not start (why says why) */
	enum mts_dns_rcode rcode;
	enum mts_dnssec dnssec;
	char *why;       /* a failed lookup's reason (libunbound's for a
			    bogus one), or NULL */
	char *canonical; /* the name after CNAMEs, or NULL */
	size_t count;    /* addresses kept in addr */
	char **addr;     /* A/AAAA, in address order */
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
	/* The decision, when done_cb runs (dane_decide()). */
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

/*
 * The decision (RFC 7672 §2.2.2, §2.2.3) from the answers kept in h:
 * sets h->dane, h->dane_at and h->candidates.  Pure; dane_host_start()
 * calls it when every lookup is in, a replay of recorded answers calls
 * it itself.
 */
void dane_decide(struct dane_host *h);

/* The name the address lookups ended at when a CNAME led elsewhere. */
const char *dane_host_expanded(const struct dane_host *h);

/* Every address RRset with records is secure (RFC 7672 §2.2.2). */
bool dane_host_addresses_secure(const struct dane_host *h);

/* Usable TLSA records of a lookup (RFC 7672 §3.1). */
size_t dane_host_usable(const struct tlsa_lookup *t);

/*
 * Why DANE does not apply to a decided host that has addresses (DANE
 * none, insecure or ignored), as a clause for a sentence: "the addresses
 * of mx.example are not DNSSEC-secure".  NULL for the other states.
 */
const char *dane_host_why_not(const struct dane_host *h, char *buf,
                              size_t size);

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

/*
 * Keeps the status, the reason of a failure, the canonical name and the
 * addresses of answer `a` in r, the addresses in address order (DNS may
 * answer in any order, and the caps on probes and fetches must choose
 * the same ones every run).  Returns 0, or -1 when memory ran out: then
 * only the status is kept, and the caller must not judge from it.
 */
int rrset_keep(struct rrset *r, const struct mts_dns_answer *a);

/* Keeps only the status and the reason of a failed answer; 0 or -1. */
int rrset_keep_failure(struct rrset *r, const struct mts_dns_answer *a);

/* Frees what r keeps and zeroes it. */
void rrset_reset(struct rrset *r);

/* A lookup error or a bogus answer: it says nothing about the records. */
bool dns_answer_failed(enum mts_dns_rcode rcode, enum mts_dnssec dnssec);

/* A copy of s, or NULL; malloc(3) itself, so that a test can fail it. */
char *keep_str(const char *s);

#endif /* MTS_CHECK_DANE_HOST_H */
