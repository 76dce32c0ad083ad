/* SPDX-License-Identifier: ISC */
/*
 * The decisions of the resolution of `mtasts policyd` and `mtasts fetch`
 * (resolve.h), taken apart from the I/O so that a table test can drive
 * each with the time passed in: what to do with a cached entry at `now`
 * (RFC 8461 §3.3, §5.1), whether DANE applies to a domain (RFC 8461 §2,
 * RFC 7672 §2.2), what the _mta-sts TXT answer means (§3.1, through
 * mts_sts_discover()), what a fetch leaves (§3.3, §5.1) and how the
 * parts make one answer.
 *
 * Pure: no I/O, no clock, no randomness (a jitter is a number passed
 * in), no globals, no allocation.
 */
#ifndef MTS_POLICYD_DECIDE_H
#define MTS_POLICYD_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/dns.h>
#include <mtasts/sts.h>

#include "dane_host.h"
#include "resolve.h"

/* The defaults of struct resolve_conf's zeros (resolve.h). */
#define DECIDE_DEF_NEGATIVE_TTL 3600
#define DECIDE_DEF_DANE_TTL     600
#define DECIDE_DEF_RECHECK      3600
#define DECIDE_DEF_BACKOFF      300 /* RFC 8461 §3.3: "at least five minutes" */
/* A DNS failure (dns-tempfail, bogus) is answered from memory this long
   (at most `backoff`): a broken domain is not resolved at every lookup. */
#define DECIDE_DNS_HOLD         60
/* A policy is refetched at least this often when looked up (§3.3:
   "suggested check interval is daily"), whatever its max_age. */
#define DECIDE_REFRESH_MAX      86400

/* The times of struct resolve_conf with the defaults applied. */
struct decide_conf {
	uint32_t negative_ttl, dane_ttl, recheck, backoff;
};

/* Fills *c from the seconds of a resolve_conf, 0 meaning the default. */
void decide_conf_init(struct decide_conf *c, uint32_t negative_ttl,
                      uint32_t dane_ttl, uint32_t recheck, uint32_t backoff);

/* What an entry answers. */
enum decide_kind {
	DECIDE_POLICY = 1, /* an MTA-STS policy (any mode) */
	DECIDE_NO_POLICY,  /* no MTA-STS record: a negative entry */
	DECIDE_DANE,       /* DANE applies (RFC 8461 §2) */
	DECIDE_FAILED      /* a failure class, answered until `expires` */
};

/* The policy an entry keeps, whatever it answers (a DANE entry keeps the
   domain's policy too, so that its id need not be fetched again). */
struct decide_policy {
	bool have;
	enum mts_sts_mode mode;
	uint32_t max_age;
	int64_t fetched;             /* the last successful fetch */
	char id[MTS_STS_ID_MAX + 1]; /* the TXT id it was fetched under */
};

/* The times and kind of a cached entry (memory or store). */
struct decide_entry {
	enum decide_kind kind;
	/* FAILED: the class answered.  POLICY: the class of the last
	   refresh that failed (the policy is applied stale), or NONE. */
	enum resolve_failure failure;
	struct decide_policy policy;
	int64_t fetched;       /* when the answer was learned */
	int64_t expires;       /* POLICY: policy.fetched + max_age; else
	                          the end of its TTL */
	int64_t next_check;    /* POLICY: when the TXT id is re-checked */
	int64_t backoff_until; /* no fetch before then */
	int64_t refresh_at;    /* proactive refresh from then (jittered) */
};

/* What a lookup does with the entry it found (or did not). */
enum decide_action {
	DECIDE_RESOLVE = 0,    /* nothing usable: resolve and wait */
	DECIDE_ANSWER,         /* answer it */
	DECIDE_ANSWER_RECHECK, /* answer it, re-check the TXT id behind */
	DECIDE_ANSWER_REFRESH, /* answer it, refetch behind: expiry near */
	DECIDE_BACKOFF         /* answer the failure kept: back-off active */
};

/*
 * What a lookup at `now` does with entry `e` (NULL: none).  A policy is
 * applied while the time since its fetch has not exceeded max_age
 * (§3.2, §5.1; max_age 0 never, checklist A9), even while a refresh
 * fails (§3.3); during a back-off nothing is fetched; a policy past
 * refresh_at is refetched, one past next_check has its id re-checked,
 * in the background, the cached answer given meanwhile (§5.1:
 * "perhaps asynchronously").
 */
enum decide_action decide_lookup(const struct decide_entry *e, int64_t now);

/*
 * When an answer learned at `fetched` that lives `lifetime` seconds is
 * refreshed: in the last eighth of its life, no earlier than 15/16 of it
 * minus a jitter of up to a sixteenth (`jitter` is any number: the
 * caller's random draw), so that domains learned together are not
 * refreshed together; a policy (cap DECIDE_REFRESH_MAX, 0 for none) at
 * least daily (§3.3).
 */
int64_t decide_refresh_at(int64_t fetched, uint32_t lifetime, uint32_t cap,
                          uint32_t jitter);

/*
 * Whether the sweep (every `interval` seconds) refreshes `e` now: it was
 * looked up since its last fetch, no back-off holds, and its refresh
 * time falls before the next sweep.
 */
bool decide_sweep(const struct decide_entry *e, bool looked_up, int64_t now,
                  uint32_t interval);

/* ---- DANE first (RFC 8461 §2, RFC 7672 §2.2) ---- */

enum decide_dane {
	DECIDE_DANE_NO = 0, /* MTA-STS decides */
	DECIDE_DANE_YES,    /* answer dane-only (or dane) */
	DECIDE_DANE_BOGUS,  /* the "bogus" class, unless a policy applies */
	DECIDE_DANE_TEMP    /* the MX lookup failed: unknown */
};

struct decide_dane_host {
	enum dane_state state; /* dane_host.c's decision */
	size_t usable;         /* usable TLSA records (RFC 7672 §3.1) */
};

/* The DANE decision for a domain; see decide.c for the rule. */
enum decide_dane decide_dane(enum mts_dns_rcode mx_rcode,
                             enum mts_dnssec mx_dnssec,
                             const struct decide_dane_host *hosts, size_t n);

/* ---- the TXT answer (RFC 8461 §3.1, §3.3) ---- */

enum decide_txt_next {
	DECIDE_TXT_NO_POLICY = 0, /* no record, nothing cached: no policy */
	DECIDE_TXT_USE_CACHE,     /* the cached policy applies (same id, or a
	                             DNS failure over a valid cache) */
	DECIDE_TXT_FETCH,         /* a new id, or nothing valid cached */
	DECIDE_TXT_FAILED,        /* a DNS failure, nothing valid cached */
	DECIDE_TXT_BACKOFF        /* a fetch is due, but a back-off holds:
	                             as a failed fetch (decide_fetch()) */
};

struct decide_txt {
	enum decide_txt_next next;
	enum resolve_failure failure; /* the DNS failure seen, or NONE */
	char id[MTS_STS_ID_MAX + 1];  /* the record's id, when valid */
	enum mts_errcode record_err;  /* why no record was usable */
};

/*
 * What the TXT answer (rcode, dnssec, the RRset) means at `now` with
 * the cached policy `cached` (NULL or !have: none), by
 * mts_sts_discover().  A bogus answer is the "bogus" class, SERVFAIL,
 * a timeout or a local error "dns-tempfail"; NODATA and NXDOMAIN are no
 * record.  USE_CACHE with a failure set means the cache was applied
 * because DNS failed (§3.3).  `force` (a proactive refresh, §3.3:
 * "whatever the TXT says") fetches even when the cached id is current
 * or the record is gone, never over a DNS failure.  A fetch is refused
 * before `backoff_until` (§3.3, STS-FETCH-13): DECIDE_TXT_BACKOFF.
 */
void decide_txt(enum mts_dns_rcode rcode, enum mts_dnssec dnssec,
                const char *const *txts, const size_t *lens, size_t n,
                const struct decide_policy *cached, int64_t backoff_until,
                bool force, int64_t now, struct decide_txt *out);

/* ---- after a fetch (RFC 8461 §3.3, §5.1) ---- */

enum decide_fetch {
	DECIDE_FETCH_NEW = 0, /* the fetched policy replaces any cached */
	DECIDE_FETCH_STALE,   /* failed: the valid cached policy applies */
	DECIDE_FETCH_FAILED   /* failed, nothing valid cached */
};

/* What a fetch that succeeded (ok) or not leaves at `now`. */
enum decide_fetch decide_fetch(bool ok, const struct decide_policy *cached,
                               int64_t now);

/* ---- the answer ---- */

enum decide_sts {
	DECIDE_STS_NONE = 0, /* no policy (none found, or mode none) */
	DECIDE_STS_POLICY,   /* a valid policy, testing or enforce */
	DECIDE_STS_FAILED    /* a failure of the given class */
};

struct decide_final {
	enum decide_kind kind;        /* POLICY, NO_POLICY, DANE or FAILED */
	enum resolve_failure failure; /* FAILED: the class */
};

/*
 * The answer from the DANE decision and the MTA-STS outcome (the
 * policy's mode for DECIDE_STS_POLICY, the failure class for
 * DECIDE_STS_FAILED; `dane_off` when DANE is not looked at).  DANE
 * first (RFC 8461 §2); else a valid policy; else a failure; else no
 * policy.  See decide.c.
 */
void decide_answer(enum decide_dane dane, bool dane_off, enum decide_sts sts,
                   enum mts_sts_mode mode, enum resolve_failure sts_failure,
                   struct decide_final *out);

/* ---- entries ---- */

/* A new policy fetched at `now` under `id`: a POLICY entry. */
void decide_entry_policy(const struct decide_conf *c, enum mts_sts_mode mode,
                         uint32_t max_age, const char *id, int64_t now,
                         uint32_t jitter, struct decide_entry *out);

/* A NO_POLICY or DANE entry at `now`, keeping `policy` (may be NULL). */
void decide_entry_ttl(const struct decide_conf *c, enum decide_kind kind,
                      const struct decide_policy *policy, int64_t now,
                      uint32_t jitter, struct decide_entry *out);

/* A FAILED entry of class f at `now`: held `backoff` seconds for a fetch
   error, at most DECIDE_DNS_HOLD for a DNS one.  Keeps `policy`. */
void decide_entry_failed(const struct decide_conf *c, enum resolve_failure f,
                         const struct decide_policy *policy, int64_t now,
                         struct decide_entry *out);

/*
 * The cached policy applied after a failed refresh of class f at `now`
 * (§3.3, §5.1): the policy's times unchanged, a back-off of `backoff`
 * seconds, then a retry.
 */
void decide_entry_stale(const struct decide_conf *c,
                        const struct decide_policy *p, enum resolve_failure f,
                        int64_t now, struct decide_entry *out);

/* The cached policy confirmed at `now` (same id): the next re-check
   moves on; its lifetime does not (§3.3: only a fetch restarts it). */
void decide_entry_confirmed(const struct decide_conf *c,
                            const struct decide_policy *p, int64_t now,
                            uint32_t jitter, struct decide_entry *out);

/* TEMP or NOTFOUND for class f (on_failure of resolve_conf). */
enum reply_failure
decide_failure_reply(enum resolve_failure f,
                     const enum reply_failure on_failure[RESOLVE_FAIL_COUNT]);

#endif /* MTS_POLICYD_DECIDE_H */
