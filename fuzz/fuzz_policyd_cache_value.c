/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the values the Redis engine of policyd's cache
 * reads back (src/policyd/cache_redis.c): whatever sits under a key of
 * the prefix, another program's, a damaged or a hostile value.  Besides
 * memory errors, leaks and undefined behaviour, it aborts when:
 * - a value decodes into an entry that pcache_entry_valid() refuses, or
 *   under another domain than its key's;
 * - a decoded entry encodes to other octets than the value (the
 *   encoding is canonical: every field counted, nothing left over), or
 *   the encoding of an entry does not decode back to it;
 * - a refused value has no reason.
 * The input is capped at a little over the largest value (64 KiB of
 * body and the fields), as the engine caps what it reads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_int.h"

#include "fuzz.h"

#define DOMAIN    "example.com"
#define INPUT_MAX (PCACHE_BODY_MAX + 2048)

static void
check_same(const struct pcache_entry *a, const struct pcache_entry *b)
{
	CHECK(a->kind == b->kind && a->fetched == b->fetched &&
	      a->expires == b->expires && a->next_check == b->next_check &&
	      a->backoff_until == b->backoff_until);
	CHECK(strcmp(a->domain, b->domain) == 0 && strcmp(a->id, b->id) == 0);
	CHECK(strcmp(a->failure_class, b->failure_class) == 0 &&
	      strcmp(a->failure, b->failure) == 0);
	CHECK(a->body_len == b->body_len &&
	      (a->body_len == 0 || memcmp(a->body, b->body, a->body_len) == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcache_entry e, again;
	char why[PCACHE_WHY_SIZE];
	unsigned char *enc;
	size_t len = 0;

	if (size > INPUT_MAX)
		return 0;
	memset(&e, 0, sizeof(e));
	why[0] = '\0';
	if (pcache_redis_decode("fuzz", DOMAIN, (const char *)data, size, &e,
	                        why, sizeof(why)) != 0) {
		CHECK(why[0] != '\0');
		return 0;
	}
	CHECK(pcache_entry_valid(&e, NULL, 0));
	CHECK(strcmp(e.domain, DOMAIN) == 0);
	if ((enc = pcache_redis_encode(&e, &len)) != NULL) {
		CHECK(len == size && memcmp(enc, data, size) == 0);
		memset(&again, 0, sizeof(again));
		CHECK(pcache_redis_decode("fuzz", DOMAIN, (const char *)enc,
		                          len, &again, why, sizeof(why)) == 0);
		check_same(&e, &again);
		pcache_entry_reset(&again);
		free(enc);
	}
	pcache_entry_reset(&e);
	return 0;
}
