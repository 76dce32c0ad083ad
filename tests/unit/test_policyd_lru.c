/* SPDX-License-Identifier: ISC */
/*
 * The memory cache's table of mtasts policyd (src/policyd/lru.c): hits
 * find their node and make it the most recent, inserts past the cap
 * evict the least recently used one (and only it), the count never
 * grows past the cap, removal from the middle keeps the list and the
 * chains whole, and many keys share few buckets without loss.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"
#include "tap.h"

struct item {
	struct lru_node node;
	char key[32];
};

/* The item of key PREFIX<i>SUFFIX. */
static struct item *
item_new(const char *prefix, int i, const char *suffix)
{
	struct item *it = calloc(1, sizeof(*it));

	if (it == NULL)
		abort();
	snprintf(it->key, sizeof(it->key), "%s%d%s", prefix, i, suffix);
	it->node.key = it->key;
	return it;
}

/* The keys from the least to the most recent, joined by ' '. */
static void
order(const struct lru *l, char *buf, size_t size)
{
	const struct lru_node *n;
	size_t len = 0;

	buf[0] = '\0';
	for (n = lru_oldest(l); n != NULL; n = lru_newer(l, n))
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		                        len > 0 ? " " : "", n->key);
}

static void
test_order(void)
{
	struct item *it[4];
	struct lru_node *ev;
	struct lru l;
	char buf[256];
	int i;

	tap_ok(lru_init(&l, 3) == 0, "init with a cap of 3");
	for (i = 0; i < 3; i++) {
		it[i] = item_new("d", i, ".test");
		ev = lru_insert(&l, &it[i]->node);
		tap_ok(ev == NULL, "insert %d under the cap evicts nothing", i);
	}
	order(&l, buf, sizeof(buf));
	tap_ok(strcmp(buf, "d0.test d1.test d2.test") == 0,
	       "inserts: oldest first (%s)", buf);
	tap_ok(lru_get(&l, "d0.test") == &it[0]->node, "a hit finds its node");
	order(&l, buf, sizeof(buf));
	tap_ok(strcmp(buf, "d1.test d2.test d0.test") == 0,
	       "a hit makes the node the most recent (%s)", buf);
	tap_ok(lru_peek(&l, "d1.test") == &it[1]->node,
	       "a peek finds its node");
	order(&l, buf, sizeof(buf));
	tap_ok(strcmp(buf, "d1.test d2.test d0.test") == 0,
	       "a peek leaves the order (%s)", buf);
	it[3] = item_new("d", 3, ".test");
	ev = lru_insert(&l, &it[3]->node);
	tap_ok(ev == &it[1]->node && !it[1]->node.linked,
	       "over the cap, the least recently used is evicted");
	tap_ok(l.count == 3, "the count stays at the cap");
	tap_ok(lru_get(&l, "d1.test") == NULL, "the evicted key is gone");
	free(it[1]);
	lru_remove(&l, &it[2]->node);
	order(&l, buf, sizeof(buf));
	tap_ok(strcmp(buf, "d0.test d3.test") == 0 && l.count == 2,
	       "a removal from the middle keeps the list (%s)", buf);
	tap_ok(lru_get(&l, "d2.test") == NULL && lru_get(&l, "d0.test") != NULL,
	       "a removed key is gone, the others stay");
	tap_ok(lru_get(&l, "nope.test") == NULL, "a miss is NULL");
	free(it[2]);
	while ((ev = lru_oldest(&l)) != NULL) {
		lru_remove(&l, ev);
		free(ev);
	}
	tap_ok(l.count == 0 && lru_oldest(&l) == NULL, "emptied");
	lru_reset(&l);
}

static void
test_many(void)
{
	enum { CAP = 5000, N = 20000 };
	struct lru_node *ev;
	struct item *it;
	struct lru l;
	size_t max = 0, evicted = 0, found = 0, bad = 0;
	char key[32];
	int i;

	tap_ok(lru_init(&l, CAP) == 0, "init with a cap of %d", CAP);
	for (i = 0; i < N; i++) {
		it = item_new("host", i, ".example.test");
		if ((ev = lru_insert(&l, &it->node)) != NULL) {
			/* The oldest: the one CAP inserts back. */
			snprintf(key, sizeof(key), "host%d.example.test",
			         i - CAP);
			if (strcmp(ev->key, key) != 0)
				bad++;
			evicted++;
			free(ev);
		}
		if (l.count > max)
			max = l.count;
	}
	tap_ok(max == CAP && l.count == CAP, "no growth past the cap (%zu)",
	       max);
	tap_ok(evicted == N - CAP && bad == 0,
	       "every insert past the cap evicted the oldest, in order");
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "host%d.example.test", i);
		found += lru_peek(&l, key) != NULL;
	}
	snprintf(key, sizeof(key), "host%d.example.test", N - CAP);
	tap_ok(found == CAP && lru_peek(&l, key) != NULL &&
	           strcmp(lru_oldest(&l)->key, key) == 0,
	       "the %d most recent keys are the ones kept, in order", CAP);
	while ((ev = lru_oldest(&l)) != NULL) {
		lru_remove(&l, ev);
		free(ev);
	}
	lru_reset(&l);
	tap_ok(lru_init(&l, 0) == 0 && l.max == 0, "a table without cap");
	evicted = 0;
	for (i = 0; i < 3000; i++)
		evicted +=
		    lru_insert(&l, &item_new("u", i, ".test")->node) != NULL;
	tap_ok(evicted == 0 && l.count == 3000,
	       "3000 inserts without cap evict nothing");
	while ((ev = lru_oldest(&l)) != NULL) {
		lru_remove(&l, ev);
		free(ev);
	}
	lru_reset(&l);
}

int
main(void)
{
	test_order();
	test_many();
	return tap_done();
}
