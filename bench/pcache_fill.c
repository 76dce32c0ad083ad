/* SPDX-License-Identifier: ISC */
/*
 * bench_pcache_fill: fills a policy cache store (src/policyd/cache.h)
 * with N enforce policies, for the memory figure of bench/policyd.sh
 * (peak RSS of `mtasts policyd` with 100,000 cached domains): a world of
 * 100,000 signed zones would take longer to start than the figure is
 * worth, and a store filled this way holds what fetches would have put
 * there, through the same pcache_put().
 *
 *   bench_pcache_fill URL N [PREFIX]
 *
 * Domains are PREFIX%06u.test (PREFIX default "rss"), each policy
 * "mx: mx1.DOMAIN" and "mx: *.mx.DOMAIN", max_age 604800, fetched now,
 * next re-check in a day.  Prints the count and the seconds taken.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"

#define MAX_AGE  604800
#define RECHECK  86400
#define MAX_FILL 10000000UL

static int
fill_one(struct pcache *cache, const char *prefix, unsigned long i, int64_t now)
{
	struct pcache_entry e;
	char body[512], why[PCACHE_WHY_SIZE];
	int n;

	memset(&e, 0, sizeof(e));
	n = snprintf(e.domain, sizeof(e.domain), "%s%06lu.test", prefix, i);
	if (n < 0 || (size_t)n >= sizeof(e.domain))
		return -1;
	n = snprintf(body, sizeof(body),
	             "version: STSv1\r\nmode: enforce\r\nmx: mx1.%s\r\n"
	             "mx: *.mx.%s\r\nmax_age: %d\r\n",
	             e.domain, e.domain, MAX_AGE);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -1;
	e.kind = PCACHE_POLICY;
	(void)snprintf(e.id, sizeof(e.id), "20261207T000000");
	e.body = body;
	e.body_len = (size_t)n;
	e.fetched = now;
	e.expires = now + MAX_AGE;
	e.next_check = now + RECHECK;
	if (pcache_put(cache, &e, why, sizeof(why)) != 0) {
		fprintf(stderr, "bench_pcache_fill: %s: %s\n", e.domain, why);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct pcache *cache = NULL;
	char why[PCACHE_WHY_SIZE], *end = NULL;
	const char *prefix = argc > 3 ? argv[3] : "rss";
	unsigned long n, i;
	struct timespec t0, t1;
	int64_t now;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: bench_pcache_fill URL N [PREFIX]\n");
		return 2;
	}
	n = strtoul(argv[2], &end, 10);
	if (end == argv[2] || *end != '\0' || n == 0 || n > MAX_FILL ||
	    strlen(prefix) > 32) {
		fprintf(stderr,
		        "bench_pcache_fill: N is 1 to %lu, PREFIX at "
		        "most 32 octets\n",
		        MAX_FILL);
		return 2;
	}
	if (pcache_open(argv[1], &cache, why, sizeof(why)) != 0) {
		fprintf(stderr, "bench_pcache_fill: %s\n", why);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	now = (int64_t)time(NULL);
	for (i = 1; i <= n; i++) {
		if (fill_one(cache, prefix, i, now) != 0) {
			pcache_close(cache);
			return 1;
		}
	}
	pcache_close(cache);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("filled=%lu seconds=%.2f\n", n,
	       (double)(t1.tv_sec - t0.tv_sec) +
	           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
