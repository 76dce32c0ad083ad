/* SPDX-License-Identifier: ISC */
/*
 * The memory cache's table (lru.h): chained hashing over a power-of-two
 * table sized once for `max` nodes (a load of at most one), and a
 * doubly linked use list with a sentinel.
 */
#include <stdlib.h>
#include <string.h>

#include "lru.h"

uint32_t
lru_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++) {
		h ^= (uint8_t)*key;
		h *= 16777619u;
	}
	return h;
}

int
lru_init(struct lru *l, size_t max)
{
	size_t n = 1024;

	memset(l, 0, sizeof(*l));
	while (max != 0 && n < max && n < ((size_t)1 << 30))
		n <<= 1;
	if ((l->buckets = calloc(n, sizeof(*l->buckets))) == NULL)
		return -1;
	l->mask = n - 1;
	l->max = max;
	l->head.next = l->head.prev = &l->head;
	return 0;
}

void
lru_reset(struct lru *l)
{
	if (l == NULL)
		return;
	free(l->buckets);
	memset(l, 0, sizeof(*l));
}

static void
list_unlink(struct lru_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

static void
list_front(struct lru *l, struct lru_node *n)
{
	n->next = l->head.next;
	n->prev = &l->head;
	l->head.next->prev = n;
	l->head.next = n;
}

struct lru_node *
lru_peek(const struct lru *l, const char *key)
{
	uint32_t h = lru_hash(key);
	struct lru_node *n;

	for (n = l->buckets[h & l->mask]; n != NULL; n = n->hnext)
		if (n->hash == h && strcmp(n->key, key) == 0)
			return n;
	return NULL;
}

struct lru_node *
lru_get(struct lru *l, const char *key)
{
	struct lru_node *n = lru_peek(l, key);

	if (n != NULL && l->head.next != n) {
		list_unlink(n);
		list_front(l, n);
	}
	return n;
}

struct lru_node *
lru_insert(struct lru *l, struct lru_node *n)
{
	struct lru_node **b;
	struct lru_node *old;

	n->hash = lru_hash(n->key);
	b = &l->buckets[n->hash & l->mask];
	n->hnext = *b;
	*b = n;
	list_front(l, n);
	n->linked = true;
	l->count++;
	if (l->max == 0 || l->count <= l->max)
		return NULL;
	old = l->head.prev;
	lru_remove(l, old);
	return old;
}

void
lru_remove(struct lru *l, struct lru_node *n)
{
	struct lru_node **p = &l->buckets[n->hash & l->mask];

	while (*p != NULL && *p != n)
		p = &(*p)->hnext;
	if (*p == n)
		*p = n->hnext;
	list_unlink(n);
	n->hnext = n->prev = n->next = NULL;
	n->linked = false;
	l->count--;
}

struct lru_node *
lru_oldest(const struct lru *l)
{
	return l->head.prev != &l->head ? l->head.prev : NULL;
}

struct lru_node *
lru_newer(const struct lru *l, const struct lru_node *n)
{
	return n->prev != &l->head ? n->prev : NULL;
}
