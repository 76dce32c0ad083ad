/* SPDX-License-Identifier: ISC */
/*
 * Tests of sts_discover.c: what a sender does with the _mta-sts TXT
 * answer (RFC 8461 §3.1, §3.3, §5.1) and when a cached policy is fresh.
 * The DNS outcome is given as the I/O adapter would report it: CNAME
 * chains are already followed (STS-TXT-13), a CNAME loop or SERVFAIL is
 * MTS_DNS_TEMPFAIL.  Rows cite checklist section 1 (STS-TXT-10..17) and
 * section 4 (STS-CACHE-1..10).
 */
#include <stdint.h>

#include <mtasts/sts.h>

#include "tap.h"

#define T0  INT64_C(1700000000)
#define DAY 86400u

static const struct disc_case {
	const char *name;
	enum mts_dns_status status;
	const char *rrset;     /* records separated by "\n"; NULL: none */
	const char *cached_id; /* NULL: no cache entry */
	int64_t fetched;
	uint32_t max_age;
	int64_t now;
	enum mts_sts_action want_action;
	const char *want_id; /* "" when no record was valid */
	enum mts_errcode want_err;
} cases[] = {
    /* STS-TXT-10: exactly one record beginning v=STSv1; */
    {"STS-TXT-10 T1: one STS record among others, fetch", MTS_DNS_OK,
     "v=STSv1; id=1\ngoogle-site-verification=xyz", NULL, 0, 0, T0,
     MTS_STS_FETCH, "1", MTS_OK},
    {"STS-TXT-10 T2: two STS records, no policy", MTS_DNS_OK,
     "v=STSv1; id=1\nv=STSv1; id=2", NULL, 0, 0, T0, MTS_STS_NO_POLICY, "",
     MTS_ERR_MULTIPLE},
    {"STS-TXT-10 T2: two STS records, the cache applies", MTS_DNS_OK,
     "v=STSv1; id=1\nv=STSv1; id=2", "1", T0, DAY, T0 + 60, MTS_STS_USE_CACHE,
     "", MTS_ERR_MULTIPLE},
    {"STS-TXT-10 T3: no STS record, no policy", MTS_DNS_OK, "hello", NULL, 0, 0,
     T0, MTS_STS_NO_POLICY, "", MTS_ERR_NOTFOUND},
    {"STS-TXT-10 T4: v=STSv1 ; beside spf (A2: tolerant filter), fetch",
     MTS_DNS_OK, "v=STSv1 ; id=1\nspf stuff", NULL, 0, 0, T0, MTS_STS_FETCH,
     "1", MTS_OK},
    {"STS-TXT-10: an empty answer is no record", MTS_DNS_OK, NULL, NULL, 0, 0,
     T0, MTS_STS_NO_POLICY, "", MTS_ERR_NOTFOUND},

    /* STS-TXT-11: the one record is invalid: stop, no fetch. */
    {"STS-TXT-11 T1: id=bad-id, no policy and no fetch", MTS_DNS_OK,
     "v=STSv1; id=bad-id", NULL, 0, 0, T0, MTS_STS_NO_POLICY, "",
     MTS_ERR_SYNTAX},
    {"STS-TXT-11: a record without id, no policy", MTS_DNS_OK,
     "v=STSv1; foo=bar", NULL, 0, 0, T0, MTS_STS_NO_POLICY, "",
     MTS_ERR_INVALID},
    {"STS-TXT-11: an invalid record with a cache, the cache applies",
     MTS_DNS_OK, "v=STSv1; id=bad-id", "1", T0, DAY, T0 + 60, MTS_STS_USE_CACHE,
     "", MTS_ERR_SYNTAX},

    /* STS-TXT-12: a record the adapter joined from two strings. */
    {"STS-TXT-12 T1: joined strings v=STSv1; id=20 + 190101", MTS_DNS_OK,
     "v=STSv1; id=20190101", NULL, 0, 0, T0, MTS_STS_FETCH, "20190101", MTS_OK},

    /* STS-TXT-13: CNAMEs are followed by the adapter. */
    {"STS-TXT-13 T1: the RRset behind one CNAME", MTS_DNS_OK, "v=STSv1; id=p1",
     NULL, 0, 0, T0, MTS_STS_FETCH, "p1", MTS_OK},
    {"STS-TXT-13 T2: the RRset behind a chain of two CNAMEs", MTS_DNS_OK,
     "v=STSv1; id=p1", "p1", T0, DAY, T0 + 60, MTS_STS_USE_CACHE, "p1", MTS_OK},
    {"STS-TXT-13 T3: a CNAME loop (TEMPFAIL), no cache, no policy",
     MTS_DNS_TEMPFAIL, NULL, NULL, 0, 0, T0, MTS_STS_NO_POLICY, "", MTS_ERR_IO},
    {"STS-TXT-13 T3: a CNAME loop (TEMPFAIL), the cache applies",
     MTS_DNS_TEMPFAIL, NULL, "p1", T0, DAY, T0 + 60, MTS_STS_USE_CACHE, "",
     MTS_ERR_IO},

    /* STS-TXT-14: a missing or broken record keeps the cache. */
    {"STS-TXT-14 T1: NXDOMAIN, the cached policy applies", MTS_DNS_NXDOMAIN,
     NULL, "1", T0, DAY, T0 + 3600, MTS_STS_USE_CACHE, "", MTS_ERR_NOTFOUND},
    {"STS-TXT-14 T2: v=STSv1 (no candidate), the cache applies", MTS_DNS_OK,
     "v=STSv1", "1", T0, DAY, T0 + 3600, MTS_STS_USE_CACHE, "",
     MTS_ERR_NOTFOUND},
    {"STS-TXT-14 T2: v=STSv1; (invalid), the cache applies", MTS_DNS_OK,
     "v=STSv1;", "1", T0, DAY, T0 + 3600, MTS_STS_USE_CACHE, "",
     MTS_ERR_SYNTAX},

    /* STS-TXT-15 (§24 A4): ids compare byte-wise, no order. */
    {"STS-TXT-15 T1: an older-looking id is a change, fetch", MTS_DNS_OK,
     "v=STSv1; id=20190101", "20190102", T0, DAY, T0 + 60, MTS_STS_FETCH,
     "20190101", MTS_OK},
    {"STS-TXT-15 T2: abc and ABC differ, fetch", MTS_DNS_OK, "v=STSv1; id=ABC",
     "abc", T0, DAY, T0 + 60, MTS_STS_FETCH, "ABC", MTS_OK},
    {"STS-TXT-15: a cached id that only prefixes the new one, fetch",
     MTS_DNS_OK, "v=STSv1; id=abc1", "abc", T0, DAY, T0 + 60, MTS_STS_FETCH,
     "abc1", MTS_OK},

    /* STS-TXT-16 (§24 A24): the first id wins. */
    {"STS-TXT-16 T1: id=1; id=2 matches a cached 1", MTS_DNS_OK,
     "v=STSv1; id=1; id=2", "1", T0, DAY, T0 + 60, MTS_STS_USE_CACHE, "1",
     MTS_OK},

    /* STS-TXT-17: a temporary DNS failure is no live policy. */
    {"STS-TXT-17 T1: SERVFAIL, the cached policy applies", MTS_DNS_TEMPFAIL,
     NULL, "1", T0, DAY, T0 + 60, MTS_STS_USE_CACHE, "", MTS_ERR_IO},
    {"STS-TXT-17 T2: SERVFAIL without cache, no policy", MTS_DNS_TEMPFAIL, NULL,
     NULL, 0, 0, T0, MTS_STS_NO_POLICY, "", MTS_ERR_IO},
    {"STS-TXT-17: SERVFAIL ignores the records passed", MTS_DNS_TEMPFAIL,
     "v=STSv1; id=2", NULL, 0, 0, T0, MTS_STS_NO_POLICY, "", MTS_ERR_IO},
    {"STS-TXT-17: an unknown DNS status is a temporary failure",
     (enum mts_dns_status)42, "v=STSv1; id=2", "1", T0, DAY, T0 + 60,
     MTS_STS_USE_CACHE, "", MTS_ERR_IO},

    /* STS-CACHE: the id and the cache lifetime. */
    {"STS-CACHE-1 T1: same id within max_age, no fetch", MTS_DNS_OK,
     "v=STSv1; id=1", "1", T0, DAY, T0 + 3600, MTS_STS_USE_CACHE, "1", MTS_OK},
    {"STS-CACHE-2 T1: a new id, fetch", MTS_DNS_OK, "v=STSv1; id=2", "1", T0,
     DAY, T0 + 3600, MTS_STS_FETCH, "2", MTS_OK},
    {"STS-CACHE-3 T1: at fetched + max_age the cache is still valid",
     MTS_DNS_OK, "v=STSv1; id=1", "1", T0, DAY, T0 + DAY, MTS_STS_USE_CACHE,
     "1", MTS_OK},
    {"STS-CACHE-3 T1: one second later it has expired, fetch", MTS_DNS_OK,
     "v=STSv1; id=1", "1", T0, DAY, T0 + DAY + 1, MTS_STS_FETCH, "1", MTS_OK},
    {"STS-CACHE-4 T1: NXDOMAIN and a cached policy, apply it", MTS_DNS_NXDOMAIN,
     NULL, "1", T0, DAY, T0 + DAY, MTS_STS_USE_CACHE, "", MTS_ERR_NOTFOUND},
    {"STS-CACHE-5 T1: expired and the record gone, no policy", MTS_DNS_NXDOMAIN,
     NULL, "1", T0, DAY, T0 + DAY + 1, MTS_STS_NO_POLICY, "", MTS_ERR_NOTFOUND},
    {"STS-CACHE-9 T1: max_age 0 is never served from the cache (A9)",
     MTS_DNS_NXDOMAIN, NULL, "1", T0, 0, T0, MTS_STS_NO_POLICY, "",
     MTS_ERR_NOTFOUND},
    {"STS-CACHE-9 T1: max_age 0, same id, fetch again", MTS_DNS_OK,
     "v=STSv1; id=1", "1", T0, 0, T0, MTS_STS_FETCH, "1", MTS_OK},
    {"STS-CACHE-10 T1: a new id replaces a long-lived policy", MTS_DNS_OK,
     "v=STSv1; id=good", "evil", T0, MTS_STS_MAX_AGE_MAX, T0 + 60,
     MTS_STS_FETCH, "good", MTS_OK},
};

/*
 * Splits an RRset written as one string, its records separated by "\n"
 * (NULL: an empty answer), into the arrays the selection takes.
 */
static size_t
rrset(const char *s, const char **txts, size_t *lens, size_t max)
{
	size_t n = 0;

	while (s != NULL && n < max) {
		const char *nl = strchr(s, '\n');

		txts[n] = s;
		lens[n] = nl != NULL ? (size_t)(nl - s) : strlen(s);
		n++;
		s = nl != NULL ? nl + 1 : NULL;
	}
	return n;
}

static void
run_case(const struct disc_case *c)
{
	struct mts_sts_cached cached;
	struct mts_sts_discovery out;
	const char *txts[4];
	size_t lens[4], n;

	n = rrset(c->rrset, txts, lens, 4);
	cached.id = c->cached_id;
	cached.fetched = c->fetched;
	cached.max_age = c->max_age;
	memset(&out, 0xA5, sizeof(out));
	mts_sts_discover(c->status, txts, lens, n,
	                 c->cached_id != NULL ? &cached : NULL, c->now, &out);
	tap_ok(out.action == c->want_action &&
	           strcmp(out.id, c->want_id) == 0 &&
	           out.record_err == c->want_err,
	       "%s (action %d, id \"%s\", %s)", c->name, (int)out.action,
	       c->want_id, mts_strerror(out.record_err));
}

static const struct fresh_case {
	const char *name;
	int64_t fetched;
	uint32_t max_age;
	int64_t now;
	bool want;
} fresh_cases[] = {
    {"STS-CACHE-3 T1: at the fetch", T0, DAY, T0, true},
    {"STS-CACHE-3 T1: at T+86400, not exceeded", T0, DAY, T0 + DAY, true},
    {"STS-CACHE-3 T1: at T+86401, expired", T0, DAY, T0 + DAY + 1, false},
    {"STS-CACHE-3: the largest max_age, last second", T0, MTS_STS_MAX_AGE_MAX,
     T0 + MTS_STS_MAX_AGE_MAX, true},
    {"STS-CACHE-3: max_age UINT32_MAX, no overflow", T0, UINT32_MAX,
     T0 + UINT32_MAX, true},
    {"STS-CACHE-3: fetched in the future (clock went back)", T0, DAY, T0 - 10,
     true},
    {"STS-CACHE-9: max_age 0 is never fresh (A9)", T0, 0, T0, false},
    {"STS-CACHE-3: INT64_MIN fetch, INT64_MAX now, no overflow", INT64_MIN,
     UINT32_MAX, INT64_MAX, false},
    {"STS-CACHE-3: INT64_MAX fetch and now", INT64_MAX, 1, INT64_MAX, true},
    {"STS-CACHE-3: negative times", -100, 50, -50, true},
    {"STS-CACHE-3: negative times, expired", -100, 50, -49, false},
};

static void
test_fresh(void)
{
	struct mts_sts_cached cached;
	size_t i;

	for (i = 0; i < sizeof(fresh_cases) / sizeof(fresh_cases[0]); i++) {
		const struct fresh_case *c = &fresh_cases[i];

		cached.id = "1";
		cached.fetched = c->fetched;
		cached.max_age = c->max_age;
		tap_ok(mts_sts_cache_fresh(&cached, c->now) == c->want, "%s",
		       c->name);
	}
	tap_ok(!mts_sts_cache_fresh(NULL, T0), "STS-CACHE-3: no cache entry");
}

/* A cache entry without an id is fresh but matches no record. */
static void
test_cached_without_id(void)
{
	static const char *const txts[] = {"v=STSv1; id=1"};
	const size_t lens[] = {13};
	struct mts_sts_cached cached = {NULL, T0, DAY};
	struct mts_sts_discovery out;

	mts_sts_discover(MTS_DNS_OK, txts, lens, 1, &cached, T0 + 1, &out);
	tap_ok(out.action == MTS_STS_FETCH && strcmp(out.id, "1") == 0,
	       "STS-CACHE-1: a cache entry without id never matches, fetch");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_fresh();
	test_cached_without_id();
	return tap_done();
}
