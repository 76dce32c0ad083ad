/* SPDX-License-Identifier: ISC */
/*
 * The memory cache of `mtasts policyd`: a hash table of nodes keyed by
 * domain name, and a list of them from the most to the least recently
 * used, bounded by a count.  Intrusive: the caller embeds a struct
 * lru_node in its own entry and owns the memory; the table only links.
 * A hit (lru_get) is a hash, a short chain walk and four pointer moves:
 * no allocation, no system call.
 *
 * Not thread-safe.
 */
#ifndef MTS_POLICYD_LRU_H
#define MTS_POLICYD_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lru_node {
	struct lru_node *hnext;       /* the hash chain */
	struct lru_node *prev, *next; /* the use list */
	const char *key; /* borrowed from the entry: NUL-terminated */
	uint32_t hash;
	bool linked;
};

struct lru {
	struct lru_node **buckets;
	size_t mask;          /* buckets - 1, a power of two minus one */
	size_t count;         /* nodes linked */
	size_t max;           /* nodes kept at most (lru_insert() evicts) */
	struct lru_node head; /* sentinel: head.next the most recent */
};

/* The hash of a NUL-terminated key (FNV-1a). */
uint32_t lru_hash(const char *key);

/*
 * Prepares l for at most max nodes (0: unbounded), with a table sized
 * for them up front so that it never grows.  Returns 0, or -1 when
 * memory ran out.
 */
int lru_init(struct lru *l, size_t max);

/* Frees the table (not the nodes: the caller's).  NULL-safe. */
void lru_reset(struct lru *l);

/* The node of key, moved to the front; NULL when none. */
struct lru_node *lru_get(struct lru *l, const char *key);

/* The node of key, its place unchanged; NULL when none. */
struct lru_node *lru_peek(const struct lru *l, const char *key);

/*
 * Links n (key set, not linked, no other node with its key) at the
 * front.  When that makes count exceed max, unlinks the least recently
 * used node and returns it for the caller to free; else NULL.
 */
struct lru_node *lru_insert(struct lru *l, struct lru_node *n);

/* Unlinks n (linked). */
void lru_remove(struct lru *l, struct lru_node *n);

/* The least recently used node, or NULL; the list goes on with
   lru_newer() (NULL past the most recent). */
struct lru_node *lru_oldest(const struct lru *l);
struct lru_node *lru_newer(const struct lru *l, const struct lru_node *n);

#endif /* MTS_POLICYD_LRU_H */
