/* SPDX-License-Identifier: ISC */
/*
 * The facts of one domain that `mtasts check` judges: what its DNS
 * answers said (with their DNSSEC status), what each policy fetch and
 * each MX probe saw, and the time of the check.  The engine (check.c)
 * gathers them on the network; the judge (judge.c) turns them into
 * findings without any I/O, so that facts recorded once
 * (`mtasts check --record-facts`, facts_json.c) give the same verdicts
 * again in a unit test (tests/unit/test_check_judge.c).
 *
 * Caps: the CHECK_MAX_MX most preferred MX hosts are looked up and
 * probed, and of each address family the first CHECK_MAX_ADDRS
 * addresses in address order, so that the same ones are chosen in
 * every run whatever order DNS answers in; the judge says what a cap
 * left out.
 */
#ifndef MTS_CHECK_FACTS_H
#define MTS_CHECK_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/dane.h>
#include <mtasts/dns.h>

#include "dane_host.h"
#include "fetch.h"
#include "probe.h"

#define CHECK_MAX_MX    16
#define CHECK_MAX_ADDRS 4
#define CHECK_SLOTS     (2 * CHECK_MAX_ADDRS) /* IPv4 and IPv6 */

/* One TXT or MX answer of the domain's own, kept whole. */
struct dns_fact {
	bool done;        /* answered, or the query could not start */
	bool not_started; /* why says why */
	bool nomem;       /* the answer came and could not be kept */
	char *qname;
	uint16_t qtype;
	enum mts_dns_rcode rcode;
	enum mts_dnssec dnssec;
	char *why; /* a failure's reason (libunbound's for bogus), or NULL */
	size_t count;
	char **txt;            /* TXT: each record's strings joined */
	size_t *txt_len;       /* their lengths */
	struct mts_dns_mx *mx; /* MX, in answer order */
};

/* One policy fetch, in the order the fetches were started. */
struct fetch_fact {
	char address[46];
	bool started;           /* false: fetch_policy() could not start */
	struct fetch_result *r; /* owned; NULL when not started */
};

/* One MX probe. */
struct probe_fact {
	char address[46];
	bool started;           /* false: probe_mx() could not start */
	struct probe_result *r; /* owned; NULL when not started; its chain
				   is not recorded, fit stands for it */
	/* How the host's secure TLSA RRset fits the chain presented
	   (mts_dane_rrset_fit()), when DANE applied and TLS was set up. */
	bool have_fit;
	struct mts_dane_rrset_fit fit;
};

/* One MX host: its lookups (the DANE view) and probes. */
struct mx_fact {
	char *name;
	uint16_t pref;
	bool ready; /* every lookup of the host is in */
	struct dane_host dh;
	struct probe_fact probes[CHECK_SLOTS]; /* in address order */
	size_t probe_count;
	struct probe_fact no_sni; /* RFC 7672 §8.1, a DANE host's first
				     address without SNI (r NULL: none) */
};

/* The last id and policy digest seen, from the --state directory. */
struct state_fact {
	bool enabled; /* a state directory was given */
	bool have_old;
	char old_id[64];
	char old_digest[80];
};

struct check_facts {
	char *domain;
	int64_t now;  /* the time findings are judged at */
	bool no_smtp; /* the MX probes were skipped (--no-smtp) */
	struct dns_fact sts, tlsrpt, mx;
	/* The DNSSEC status of the domain's own zone: that of the first
	   answer of _mta-sts TXT and MX to come. */
	bool zone_dnssec_known;
	enum mts_dnssec zone_dnssec;
	/* mta-sts.<domain> and the fetches from its addresses */
	struct rrset host_a, host_aaaa;
	bool host_nomem; /* its addresses could not be kept */
	struct fetch_fact fetches[CHECK_SLOTS];
	size_t fetch_count;
	/* Every MX host (address literals aside), by preference then
	   name; the first CHECK_MAX_MX are looked up and probed. */
	bool mx_nomem; /* the list is not whole */
	struct mx_fact **hosts;
	size_t host_count;
	struct state_fact state;
};

/* Zeroes f for domain (copied); 0, or -1 when memory ran out. */
int facts_init(struct check_facts *f, const char *domain, int64_t now);

/* Frees everything f owns; NULL-safe fields. */
void facts_reset(struct check_facts *f);

/*
 * Keeps answer `a` whole in d (strings, TXT and MX records).  On running
 * out of memory, d says so (nomem) and keeps only the status.
 */
void dns_fact_keep(struct dns_fact *d, const struct mts_dns_answer *a);

/* A query that could not start: name, type and reason. */
void dns_fact_not_started(struct dns_fact *d, const char *name, uint16_t type,
                          const char *why);

/* No MX records: the domain itself is the MX host (RFC 5321 §5.1). */
bool facts_mx_implicit(const struct check_facts *f);

/* A null MX, "MX 0 ." (RFC 7505). */
bool facts_null_mx(const struct check_facts *f);

/*
 * qsort(3) order of pointers to MX records: RFC 5321 §5.1, the most
 * preferred (lowest preference value) first; ties by name, so that the
 * hosts chosen for probing, and the order they are reported in, do not
 * change with the order of the DNS answer.
 */
int facts_mx_cmp(const void *x, const void *y);

/* Adds an MX host (not started) to the list; -1: out of memory. */
int facts_add_host(struct check_facts *f, const char *name, uint16_t pref);

/* Frees one MX host's facts. */
void mx_fact_free(struct mx_fact *m);

#endif /* MTS_CHECK_FACTS_H */
