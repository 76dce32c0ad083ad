/* SPDX-License-Identifier: ISC */
/*
 * Inside the policy cache: what cache.c (the URL, the checks of an
 * entry) shares with its engines (cache_sqlite.c, cache_redis.c).  An
 * engine only talks to its database; every entry it is given has
 * passed pcache_entry_valid().
 */
#ifndef MTS_POLICYD_CACHE_INT_H
#define MTS_POLICYD_CACHE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"

struct pcache_engine;

/* Every engine's handle starts with this. */
struct pcache {
	const struct pcache_engine *engine;
};

/* The operations of cache.h, with the same contracts. */
struct pcache_engine {
	const char *name;
	int (*open)(const char *url, struct pcache **out, char *why,
	            size_t why_size);
	void (*close)(struct pcache *cache);
	int (*get)(struct pcache *cache, const char *domain,
	           struct pcache_entry *entry, char *why, size_t why_size);
	int (*put)(struct pcache *cache, const struct pcache_entry *entry,
	           char *why, size_t why_size);
	int (*del)(struct pcache *cache, const char *domain, char *why,
	           size_t why_size);
	int (*walk)(struct pcache *cache, pcache_walk_fn fn, void *ctx,
	            char *why, size_t why_size);
	int (*purge_expired)(struct pcache *cache, int64_t now, size_t *count,
	                     char *why, size_t why_size);
};

extern const struct pcache_engine pcache_engine_sqlite;
extern const struct pcache_engine pcache_engine_redis;

/* Writes a message to why (NUL-terminated, cut to fit); why may be NULL. */
void pcache_why(char *why, size_t why_size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Copies the NUL-terminated s into dst[size] if it fits: 0, else -1. */
int pcache_copy(char *dst, size_t size, const char *s);

/*
 * The Redis engine's value of one entry (cache_redis.c), exposed for its
 * fuzz target: a versioned, length-prefixed encoding of the whole entry.
 * encode: a new allocation of *len octets for a valid entry, or NULL.
 * decode: the value v[len] read under `domain` into *out (its body a
 * new allocation, NULL when empty), 0; or -1 with why, naming the store
 * `label`, for anything encode would not have written there.
 */
unsigned char *pcache_redis_encode(const struct pcache_entry *e, size_t *len);
int pcache_redis_decode(const char *label, const char *domain, const char *v,
                        size_t len, struct pcache_entry *out, char *why,
                        size_t why_size);

#endif /* MTS_POLICYD_CACHE_INT_H */
