/* SPDX-License-Identifier: ISC */
/*
 * The persistent policy cache of `mtasts policyd`: what RFC 8461 §5.1
 * asks a sender to keep of each policy domain (the policy, its id and
 * its expiry, so that an unexpired policy still applies when DNS or
 * HTTPS fail, §3.3), plus the daemon's own bookkeeping of refreshes
 * (when the TXT id is re-checked, the back-off after a failed fetch,
 * the last failure) and its negative answers.  One small interface,
 * the engine chosen by URL: `sqlite:PATH` (cache_sqlite.c), or Redis
 * (cache_redis.c) for a fleet of MTAs sharing one cache:
 *
 *   redis://HOST[:PORT][/DB]   TCP; port 6379 and database 0 by
 *                              default; an IPv6 HOST in brackets
 *   redis+unix:PATH[?db=N]     a UNIX socket (PATH absolute;
 *                              redis+unix:///PATH is the same)
 *
 * A Redis URL holds no password (it would show in `ps` and in logs):
 * when the environment has MTASTS_REDIS_PASSWORD, it is sent with AUTH
 * at each connect.  HOST is best an address: a name is resolved by the
 * system's resolver at each connect, which the timeouts below do not
 * bound.  Redis 6.2 or later (SET ... EXAT).
 *
 * On Redis, each entry is one key, "mtasts:pcache:v1:" + the domain,
 * whose value is a versioned binary encoding of the whole entry (a
 * value of another version, or not ours, is an error on get and
 * walk).  The key expires at the entry's `expires` (EXAT), by Redis's
 * clock; a put of an entry whose `expires` has passed (by that clock;
 * or is 0 or less) deletes the domain's entry and returns 0; an
 * `expires` past Redis's range (over INT64_MAX / 1000) is kept without
 * an expiry.  Every connect, read and write gives up after 500 ms; a
 * call that fails drops the connection and returns -1 with why
 * ("redis 127.0.0.1:6379: Connection refused"), and a later call
 * reconnects by itself, at most once a second (calls in between fail
 * at once, with the last why).  A put survives the process being
 * killed once it returned; it survives Redis's own restart only as far
 * as that Redis persists (its `appendonly`/`save` settings).
 *
 * The interface is shaped so that a key-value store with per-key
 * expiry fits it as well as SQLite: an entry is a whole value under
 * its domain (get, put and delete touch one key each, no transaction
 * spans two entries), an entry may vanish on its own once `expires`
 * has passed (Redis: SET key value EXAT expires; then purge_expired
 * has nothing to do), and only dump (walk) and purge_expired look at
 * more than one key, never the hot path.
 *
 * The hot path is not here: the daemon answers lookups from its
 * memory (an LRU over these entries) and reads the store only on a
 * miss, at start, and writes it once per fetch or failed refresh.  So
 * a put may cost a disk sync: it is made durable before it returns
 * (see pcache_put()).
 *
 * Not thread-safe: one handle per thread (or process).  Several
 * processes may share one store; each of their puts replaces the
 * whole entry (the last put wins).
 */
#ifndef MTS_POLICYD_CACHE_H
#define MTS_POLICYD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A domain name in text, at most 253 octets (RFC 1035 §2.3.4). */
#define PCACHE_DOMAIN_MAX  253
/* RFC 8461 §3.1: id = 1*32(ALPHA / DIGIT). */
#define PCACHE_ID_MAX      32
/*
 * RFC 8461 §3.3: senders may refuse a policy body over 64 KiB; the
 * fetch refuses it, so the store never holds one (a put of one fails).
 */
#define PCACHE_BODY_MAX    65536
/* A failure class, such as "dns-tempfail", "bogus", "fetch-error". */
#define PCACHE_CLASS_MAX   31
/* The text of the last refresh failure, cut to fit by the caller. */
#define PCACHE_FAILURE_MAX 255
/* A message of why an operation failed fits in this. */
#define PCACHE_WHY_SIZE    512

enum pcache_kind {
	PCACHE_POLICY = 1, /* a policy fetched and parsed: body is its text */
	PCACHE_NO_POLICY,  /* no policy (no TXT record): a negative entry */
	PCACHE_DANE        /* DANE applies (RFC 8461 §2): no STS answer */
};

/*
 * One entry.  Times are seconds since the epoch (the caller's clock;
 * the store never reads one).  The strings are NUL-terminated; the
 * body is counted octets (not NUL-terminated).
 */
struct pcache_entry {
	char domain[PCACHE_DOMAIN_MAX + 1]; /* the key: lower-case A-labels,
	                                       no trailing dot */
	enum pcache_kind kind;
	char id[PCACHE_ID_MAX + 1]; /* the TXT record's id; may be "" */
	char *body;                 /* the policy (PCACHE_POLICY); see the
	                               operations for who owns it */
	size_t body_len;            /* at most PCACHE_BODY_MAX */
	int64_t fetched;            /* when the policy (or its absence) was
	                               learned */
	int64_t expires;       /* fetched + max_age (a policy, §3.2), or the
	                          end of the negative TTL; the store may drop
	                          the entry from then on */
	int64_t next_check;    /* when the TXT id is re-checked (§5.1) */
	int64_t backoff_until; /* no fetch before then (after a failure) */
	char failure_class[PCACHE_CLASS_MAX + 1]; /* of the last refresh
	                                             failure; "" if none */
	char failure[PCACHE_FAILURE_MAX + 1];     /* its text; "" if none */
};

struct pcache;

/*
 * Opens the store of `url` (`sqlite:PATH`; a bare path starting with
 * '/' or '.' is taken as one) and brings its schema to this program's
 * version, refusing a store of a newer one (an older program never
 * writes rows it does not understand).  The SQLite file is created if
 * missing, its directory is not: the daemon's parent makes it before
 * dropping privileges.  A Redis URL (above) is connected to at once: a
 * Redis that cannot be reached, or refuses the password or database,
 * fails the open (so a wrong URL shows at start); one lost later is
 * reconnected by the calls.  On success *out is a handle for
 * pcache_close(); on failure -1, with why (may be NULL) saying why and
 * *out untouched.
 */
int pcache_open(const char *url, struct pcache **out, char *why,
                size_t why_size);

/* Closes the store; NULL-safe.  Every put that returned is kept. */
void pcache_close(struct pcache *cache);

/*
 * Reads the entry of `domain` into *entry: 1 when there is one, 0 when
 * there is none (or it was dropped after its expiry; an expired entry
 * the engine still holds is returned: whether to use it is the
 * caller's decision, RFC 8461 §5.1), -1 on error with why.  On 1,
 * entry->body is a new allocation (NULL when body_len is 0) for
 * pcache_entry_reset(); on 0 or -1, *entry is untouched.
 */
int pcache_get(struct pcache *cache, const char *domain,
               struct pcache_entry *entry, char *why, size_t why_size);

/*
 * Stores *entry, replacing any entry of its domain whole (never a mix
 * of two puts).  Refused (-1, nothing written) when the domain is
 * empty, not lower-case or too long, the kind unknown, or the body
 * over PCACHE_BODY_MAX.  entry->body is borrowed.  Once it returned 0
 * the entry survives the process being killed (kill -9) and, with
 * SQLite, the machine losing power: each put is one transaction synced
 * to the disk.  A put is one per fetch, so its sync costs nothing the
 * lookups would see.
 */
int pcache_put(struct pcache *cache, const struct pcache_entry *entry,
               char *why, size_t why_size);

/*
 * Deletes the entry of `domain` (a purge: the next lookup fetches):
 * 1 when there was one, 0 when there was none, -1 on error with why.
 */
int pcache_delete(struct pcache *cache, const char *domain, char *why,
                  size_t why_size);

/*
 * Calls fn for each entry in octet order of the domain (a dump: the
 * same order from every engine).  The entry and its body are borrowed
 * for the call only; fn must not call the store.  fn's non-zero return
 * stops the walk and is returned; 0 once every entry was seen; -1 on
 * error with why, also on an entry that cannot be read (an error, not
 * skipped, on every engine).  Redis: the keys are listed with SCAN
 * (never KEYS, which stalls the server) and sorted here, at most
 * 1,000,000 domains and 32 MiB of names (else -1); an entry deleted or
 * expired between the listing and its reading is passed over.
 */
typedef int (*pcache_walk_fn)(const struct pcache_entry *entry, void *ctx);
int pcache_walk(struct pcache *cache, pcache_walk_fn fn, void *ctx, char *why,
                size_t why_size);

/*
 * Deletes every entry whose `expires` is at or before `now`, and
 * writes how many to *count (may be NULL): 0, or -1 on error with why.
 * Engines that expire entries themselves (Redis) delete none.
 */
int pcache_purge_expired(struct pcache *cache, int64_t now, size_t *count,
                         char *why, size_t why_size);

/* Frees what pcache_get() allocated in *entry; the entry is zeroed. */
void pcache_entry_reset(struct pcache_entry *entry);

/*
 * Whether `entry` can be stored: the checks of pcache_put(), with why.
 * The engines rely on it; a caller may use it to check an entry early.
 */
bool pcache_entry_valid(const struct pcache_entry *entry, char *why,
                        size_t why_size);

#endif /* MTS_POLICYD_CACHE_H */
