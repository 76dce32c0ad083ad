/* SPDX-License-Identifier: ISC */
/*
 * The report store's speed: store_put_report() of generated reports
 * (1-5 policies, 0-3 failure details, one transaction each), then,
 * with -s, the time of a summary by day over the whole store.
 *
 *   build/bench/bench_store_put -n 100000 sqlite:/tmp/b.db
 *   build/bench/bench_store_put -n 1000000 -s sqlite:/tmp/b.db
 *   . tests/e2e/pg.sh; pg_start /tmp/pgb; \
 *       build/bench/bench_store_put -n 20000 -s "$PG_URL"; pg_stop
 *
 * -w spreads each report's policies over random domains and its days
 * over the year (every index then takes inserts all over).  Only the
 * calls are timed, not the making of the reports.  Report ids
 * carry the process id and the time, so runs add to one store.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

/* CPU seconds of this process, user and system. */
static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: fast, and the same reports for the same seed. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static char *results[] = {"starttls-not-supported", "certificate-expired",
                          "validation-failure", "sts-policy-fetch-error"};
static char *strings[] = {"version: STSv1", "mode: enforce",
                          "mx: mx1.example.net", "max_age: 604800"};

struct gen {
	char id[64];
	char domains[5][32];
	char mx[3][32];
	char *mxp[5][1];
	struct mts_tlsrpt_failure failures[3];
	struct mts_tlsrpt_policy policies[5];
	struct mts_tlsrpt_report report;
};

/*
 * Report i of n.  As real reports come: one policy domain per report
 * (RFC 8460 §3: a report goes to the domain's own rua; its policies are
 * that domain's STS and TLSA ones), days in the order they arrive.
 * With `spread`, the costly way: a random domain per policy and days
 * cycling, so that every index takes inserts all over.
 */
static void
generate(struct gen *g, uint64_t *seed, uint64_t i, uint64_t n, bool spread,
         const char *run)
{
	int64_t day = spread ? (int64_t)(i % 365) : (int64_t)(i * 365 / n);
	unsigned domain = (unsigned)(rnd(seed) % 1000);
	static char *orgs[] = {"google.com", "microsoft.com", "yahoo.com",
	                       "comcast.net", "mail.ru"};
	size_t np = 1 + rnd(seed) % 5, nf = rnd(seed) % 4, k;

	memset(&g->policies, 0, sizeof(g->policies));
	memset(&g->failures, 0, sizeof(g->failures));
	(void)snprintf(g->id, sizeof(g->id), "%s-%" PRIu64, run, i);
	g->report =
	    (struct mts_tlsrpt_report){.organization_name = orgs[rnd(seed) % 5],
	                               .report_id = g->id,
	                               .contact_info = "tlsrpt@example.org",
	                               .start = 1767225600 + day * 86400,
	                               .policies = g->policies,
	                               .policy_count = np};
	g->report.end = g->report.start + 86399;
	for (k = 0; k < 3; k++)
		(void)snprintf(g->mx[k], sizeof(g->mx[k]), "mx%u.example.net",
		               (unsigned)(rnd(seed) % 50));
	for (k = 0; k < np; k++) {
		struct mts_tlsrpt_policy *p = &g->policies[k];

		if (spread)
			domain = (unsigned)(rnd(seed) % 1000);
		(void)snprintf(g->domains[k], sizeof(g->domains[k]),
		               "d%u.example", domain);
		g->mxp[k][0] = g->mx[k % 3];
		p->policy_type = "sts";
		p->policy_domain = g->domains[k];
		p->policy_strings = strings;
		p->policy_string_count = 4;
		p->mx_hosts = g->mxp[k];
		p->mx_host_count = 1;
		p->successful = rnd(seed) % 10000;
	}
	/* The details go to the first policy: they must be contiguous. */
	for (k = 0; k < nf; k++) {
		struct mts_tlsrpt_failure *f = &g->failures[k];

		f->result_type = results[rnd(seed) % 4];
		f->sending_mta_ip = "192.0.2.1";
		f->receiving_mx_hostname = g->mx[k];
		f->receiving_ip = "198.51.100.7";
		f->failed_session_count = 1 + rnd(seed) % 100;
		g->policies[0].failed += f->failed_session_count;
	}
	g->policies[0].failures = nf != 0 ? g->failures : NULL;
	g->policies[0].failure_count = nf;
}

static int
count_row(const struct store_row *row, void *ctx)
{
	(*(size_t *)ctx)++;
	(void)row;
	return 0;
}

int
main(int argc, char **argv)
{
	struct store_query q = {NULL, INT64_MIN, INT64_MAX, STORE_BY_DAY};
	char why[STORE_WHY_SIZE], run[32];
	uint64_t n = 20000, i, seed = 0x9e3779b97f4a7c15ull, added = 0;
	struct store *store;
	struct gen g;
	double t, spent = 0, c0;
	size_t rows = 0;
	int ch, sum = 0;
	bool spread = false;

	while ((ch = getopt(argc, argv, "n:sw")) != -1) {
		if (ch == 'n')
			n = strtoull(optarg, NULL, 10);
		else if (ch == 's')
			sum = 1;
		else if (ch == 'w')
			spread = true;
		else
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	if (store_open(argv[optind], &store, why, sizeof(why)) == -1) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	(void)snprintf(run, sizeof(run), "b%ld-%ld", (long)getpid(),
	               (long)time(NULL));
	c0 = cpu();
	for (i = 0; i < n; i++) {
		generate(&g, &seed, i, n, spread, run);
		t = now();
		if (store_put_report(store, &g.report, NULL, "bench", 0, why,
		                     sizeof(why)) == STORE_ADDED)
			added++;
		else
			fprintf(stderr, "%s\n", why);
		spent += now() - t;
	}
	c0 = cpu() - c0;
	printf("puts %" PRIu64 " added %" PRIu64 " in %.2f s: %.0f reports/s, "
	       "%.0f reports/cpu-s of this process\n",
	       n, added, spent, spent > 0 ? (double)n / spent : 0,
	       c0 > 0 ? (double)n / c0 : 0);
	if (sum) {
		t = now();
		if (store_summary(store, &q, count_row, &rows, why,
		                  sizeof(why)) != 0)
			fprintf(stderr, "%s\n", why);
		printf("summary --by day: %zu rows in %.3f s\n", rows,
		       now() - t);
		q.by = STORE_BY_DAY | STORE_BY_MX;
		rows = 0;
		t = now();
		if (store_summary(store, &q, count_row, &rows, why,
		                  sizeof(why)) != 0)
			fprintf(stderr, "%s\n", why);
		printf("summary --by day,mx: %zu rows in %.3f s\n", rows,
		       now() - t);
	}
	store_close(store);
	return 0;
usage:
	fprintf(stderr, "usage: bench_store_put [-sw] [-n count] url\n");
	return 2;
}
