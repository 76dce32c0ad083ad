/* SPDX-License-Identifier: ISC */
/*
 * The resolution of `mtasts policyd` and `mtasts fetch`: what a sending
 * MTA applies to one recipient domain, decided the way RFC 8461 (§3-§5)
 * and RFC 7672 (§2.2) ask, DANE first (RFC 8461 §2), with a cache in
 * memory and in a persistent store (cache.h) as §5.1 asks.  An I/O
 * adapter on one libevent loop; every decision it makes is taken by pure
 * functions (decide.h) that the unit tests drive with the time passed in.
 *
 * For each domain:
 *   1. The memory cache (an LRU of entries, bounded): a fresh entry is
 *      answered synchronously, with its reply text formatted once when
 *      the entry was made (the hot path: no allocation, no system call).
 *   2. On a miss, the store (pcache_get); then, if needed, the network:
 *      the MX lookup and the TXT lookup of _mta-sts.DOMAIN start at once.
 *   3. DANE first: when the MX answer is DNSSEC-secure and every MX host
 *      (up to RESOLVE_DANE_HOSTS) is DANE_SECURE with usable TLSA records,
 *      decided by src/check/dane_host.c (the code `mtasts check` uses, not
 *      a copy), the answer is `dane-only` (or `dane`, configurable).
 *   4. MTA-STS: mts_sts_discover() on the TXT answer and the cached entry;
 *      a fetch (src/check/fetch.c: fetch_policy) from the addresses of
 *      mta-sts.DOMAIN when the id is new or nothing is cached, the
 *      certificate judged as a sender does (verify_error X509_V_OK and
 *      name_ok), status 200, the body parsed (mts_sts_policy_parse).
 *   5. The entry is kept in memory and put to the store; the reply is
 *      formatted by reply_format() (reply.h) with the MX host names.
 *
 * Lookups of a domain whose resolution is in flight wait for it
 * (coalesced); no lookup blocks another.  An unexpired policy is applied
 * even when DNS or HTTPS fail, an enforce policy is never downgraded that
 * way (§5.1); the TXT id is re-checked every `recheck` seconds in the
 * background while the cached answer is given; a failed fetch backs off
 * `backoff` seconds; a policy is refetched in the background before it
 * expires (jittered); "no policy" is cached for `negative_ttl`.
 *
 * Not thread-safe: one resolver per event loop.
 */
#ifndef MTS_POLICYD_RESOLVE_H
#define MTS_POLICYD_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reply.h"

struct event_base;
struct mts_dns;
struct pcache;
struct ssl_ctx_st;

/* MX hosts whose TLSA records are looked up for the DANE decision. */
#define RESOLVE_DANE_HOSTS 16

/* What the daemon does with a domain that has usable TLSA records. */
enum resolve_dane {
	RESOLVE_DANE_ONLY = 0, /* answer "dane-only" (the default) */
	RESOLVE_DANE_MAY,      /* answer "dane" */
	RESOLVE_DANE_OFF       /* never look: MTA-STS only */
};

/*
 * The classes of failure that can leave a domain without a usable
 * answer; each is answered NOTFOUND or TEMP by configuration.  With an
 * unexpired cached policy none of them matters: the policy applies.
 */
enum resolve_failure {
	RESOLVE_FAIL_NONE = 0,
	RESOLVE_FAIL_DNS_TEMP, /* "dns-tempfail": SERVFAIL, timeout */
	RESOLVE_FAIL_BOGUS,    /* "bogus": DNSSEC validation failed */
	RESOLVE_FAIL_FETCH,    /* "fetch-error": TXT record, no policy
	                           could be fetched, nothing cached */
	RESOLVE_FAIL_COUNT
};

/* Where an answer came from, for the counters, the log and fetch. */
enum resolve_via {
	RESOLVE_VIA_MEMORY = 0, /* the memory cache */
	RESOLVE_VIA_STORE,      /* the persistent store (after a miss) */
	RESOLVE_VIA_NETWORK,    /* a resolution just finished */
	RESOLVE_VIA_STALE,      /* a cached policy applied after the
	                           resolution failed (§5.1) */
	RESOLVE_VIA_NONE        /* no lookup: a failure answered at once */
};

struct resolve_conf {
	struct event_base *base; /* borrowed */
	struct mts_dns *dns;     /* borrowed: validating (trust anchor) */
	struct ssl_ctx_st *ssl;  /* borrowed: fetch_ctx_new(ca_file) */
	struct pcache *store;    /* borrowed; NULL: memory only */
	struct reply_conf reply; /* how replies are written */
	enum resolve_dane dane;
	/* TEMP or NOTFOUND for each failure class; all NOTFOUND by default,
	   so that mail to domains without a policy is never deferred. */
	enum reply_failure on_failure[RESOLVE_FAIL_COUNT];
	uint32_t negative_ttl; /* s a "no policy" is kept; 0: 3600 */
	uint32_t dane_ttl;     /* s a DANE decision is kept; 0: 600 */
	uint32_t recheck;      /* s between TXT id re-checks; 0: 3600 */
	uint32_t backoff;      /* s without fetch after a failure; 0: 300 */
	unsigned timeout_ms;   /* one fetch; 0: 10000 */
	unsigned fetch_port;   /* 0: 443 (tests only change it) */
	size_t memory_max;     /* entries kept in memory; 0: 200000 */
	/* The clock: seconds since the epoch.  NULL: time(NULL). */
	int64_t (*now)(void *ctx);
	void *now_ctx;
	/*
	 * Optional: each step of a resolution as one line of text ("TXT
	 * _mta-sts.example.com: v=STSv1; id=20260101", "mx1.example.com:
	 * DANE secure, 1 usable TLSA record", "policy from 192.0.2.80:
	 * enforce, max_age 604800, 2 mx") for `mtasts fetch` and the
	 * daemon's debug log.  NULL: none.
	 */
	void (*trace)(void *ctx, const char *domain, const char *line);
	void *trace_ctx;
	/*
	 * Optional: the log (priority as syslog's LOG_WARNING, LOG_INFO,
	 * ...).  The resolver logs a store that stops answering once, and
	 * once again when it answers again (the daemon keeps answering from
	 * memory meanwhile), and each failed fetch.  NULL: none.
	 */
	void (*log)(void *ctx, int priority, const char *line);
	void *log_ctx;
};

/* One answer.  Everything is borrowed, valid during the callback, or for
   a synchronous answer until control returns to the event loop. */
struct resolve_answer {
	const char *domain;
	/* The socketmap reply without its netstring frame, as reply_format()
	   wrote it: "OK secure match=...", "OK dane-only", "NOTFOUND ",
	   "TEMP reason". */
	const char *reply;
	size_t reply_len;
	enum reply_kind kind;
	enum resolve_via via;
	enum resolve_failure failure;  /* why, when a failure was answered or
	                                 a stale policy applied */
	const char *why;               /* one line: why this answer */
	const struct reply_info *info; /* what the reply left out; may be
	                                  NULL for NOTFOUND and TEMP */
};

typedef void (*resolve_cb)(void *arg, const struct resolve_answer *answer);

struct resolver;
struct resolve_wait; /* a lookup waiting for a resolution */

/* A resolver on conf's loop; NULL when memory ran out.  conf is copied. */
struct resolver *resolver_new(const struct resolve_conf *conf);

/*
 * Cancels every waiting lookup (callbacks not called), stops every
 * resolution and timer, frees the memory cache.  NULL-safe.  The store,
 * DNS and SSL context stay the caller's.
 */
void resolver_free(struct resolver *r);

enum resolve_status {
	RESOLVE_DONE = 0, /* answered now: *answer filled, cb never runs */
	RESOLVE_PENDING,  /* cb runs once, later, from the loop */
	RESOLVE_ERROR     /* out of memory: answer TEMP yourself */
};

/*
 * Looks up `domain` (lower-case A-labels, no trailing dot: a
 * socketmap_key's domain).  A fresh memory entry is answered at once
 * (RESOLVE_DONE, *answer filled, `*wait` untouched); otherwise the
 * lookup waits for the store or a resolution (coalesced with any other
 * for the same domain) and *wait (when wait is not NULL) is a handle for
 * resolver_cancel() until cb runs.
 */
enum resolve_status resolver_lookup(struct resolver *r, const char *domain,
                                    resolve_cb cb, void *arg,
                                    struct resolve_answer *answer,
                                    struct resolve_wait **wait);

/* Forgets a waiting lookup (its client went away): cb will not run.  The
   resolution itself goes on and fills the cache. */
void resolver_cancel(struct resolver *r, struct resolve_wait *wait);

/*
 * Drops `domain` from memory (the store is the caller's: pcache_delete),
 * so that its next lookup reads the store or resolves.  For `mtasts
 * policyd cache purge` through the daemon and for tests.
 */
void resolver_forget(struct resolver *r, const char *domain);

/* Counters since resolver_new(), for the Prometheus listener. */
struct resolver_stats {
	uint64_t lookups;     /* resolver_lookup() calls */
	uint64_t memory_hits; /* answered from memory */
	uint64_t store_hits;  /* answered from the store after a miss */
	uint64_t coalesced;   /* lookups that joined a resolution */
	uint64_t resolutions; /* resolutions started (DNS) */
	uint64_t fetches;     /* policy fetches started */
	uint64_t fetch_failures;
	uint64_t refreshes; /* background re-checks and refetches */
	uint64_t failures[RESOLVE_FAIL_COUNT]; /* answers per failure class */
	uint64_t stale;      /* cached policy applied after a failure */
	uint64_t answers[4]; /* by enum reply_kind */
	uint64_t store_errors;
	bool store_down; /* the last store call failed */
	size_t memory_entries;
	size_t in_flight; /* resolutions running now */
};
void resolver_stats(const struct resolver *r, struct resolver_stats *out);

/* "dns-tempfail", "bogus", "fetch-error"; "none" for RESOLVE_FAIL_NONE. */
const char *resolve_failure_name(enum resolve_failure f);
/* "memory", "store", "network", "stale", "none". */
const char *resolve_via_name(enum resolve_via v);

#endif /* MTS_POLICYD_RESOLVE_H */
