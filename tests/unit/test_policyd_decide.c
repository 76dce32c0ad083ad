/* SPDX-License-Identifier: ISC */
/*
 * The pure decisions of the resolution of mtasts policyd
 * (src/policyd/decide.c), table by table, the time passed in: a cached
 * entry at `now` (RFC 8461 §3.3, §5.1), the refresh time and its
 * jitter, the sweep, DANE first (RFC 8461 §2, RFC 7672 §2.2), the TXT
 * answer (§3.1), a fetch (§3.3) and the answer.  Row names cite the
 * checklist ids of /work/shared/conformance/rfc-checklist.md.
 */
#include <string.h>

#include "decide.h"
#include "tap.h"

#define T0 1000000

static struct decide_conf conf;

/* ---- entries at `now` ---- */

enum mk {
	MK_NONE,
	MK_POLICY,       /* enforce fetched at T0 with max_age, jitter */
	MK_STALE,        /* enforce fetched at T0, refresh failed at T0+at */
	MK_CONFIRMED,    /* enforce fetched at T0, id confirmed at T0+at */
	MK_NEGATIVE,     /* no policy at T0 */
	MK_DANE,         /* DANE at T0 */
	MK_FAILED_FETCH, /* fetch-error at T0 */
	MK_FAILED_DNS    /* dns-tempfail at T0 */
};

static void
make(enum mk mk, uint32_t max_age, uint32_t jit, int64_t at,
     struct decide_entry *e)
{
	struct decide_entry p;

	decide_entry_policy(&conf, MTS_STS_MODE_ENFORCE, max_age, "id1", T0,
	                    jit, &p);
	switch (mk) {
	case MK_POLICY:
		*e = p;
		break;
	case MK_STALE:
		decide_entry_stale(&conf, &p.policy, RESOLVE_FAIL_FETCH,
		                   T0 + at, e);
		break;
	case MK_CONFIRMED:
		decide_entry_confirmed(&conf, &p.policy, T0 + at, jit, e);
		break;
	case MK_NEGATIVE:
		decide_entry_ttl(&conf, DECIDE_NO_POLICY, NULL, T0, jit, e);
		break;
	case MK_DANE:
		decide_entry_ttl(&conf, DECIDE_DANE, &p.policy, T0, jit, e);
		break;
	case MK_FAILED_FETCH:
		decide_entry_failed(&conf, RESOLVE_FAIL_FETCH, NULL, T0, e);
		break;
	case MK_FAILED_DNS:
		decide_entry_failed(&conf, RESOLVE_FAIL_DNS_TEMP, NULL, T0, e);
		break;
	case MK_NONE:
		break;
	}
}

static void
test_lookup(void)
{
	static const struct {
		const char *name;
		enum mk mk;
		uint32_t max_age, jitter;
		int64_t at, now;
		enum decide_action want;
	} cases[] = {
	    {"no entry: resolve and wait", MK_NONE, 0, 0, 0, 0, DECIDE_RESOLVE},
	    {"STS-CACHE-3: a policy just fetched is answered", MK_POLICY, 86400,
	     0, 0, 0, DECIDE_ANSWER},
	    {"STS-CACHE-1: before the re-check, no DNS, no fetch", MK_POLICY,
	     86400, 0, 0, 3599, DECIDE_ANSWER},
	    {"STS-CACHE-1/2: at `recheck` the TXT id is re-checked behind",
	     MK_POLICY, 86400, 0, 0, 3600, DECIDE_ANSWER_RECHECK},
	    {"STS-CACHE-6: in the last eighth, refetched behind", MK_POLICY,
	     86400, 0, 0, 75600, DECIDE_ANSWER_REFRESH},
	    {"STS-CACHE-6: one second before the window, a re-check", MK_POLICY,
	     86400, 0, 0, 75599, DECIDE_ANSWER_RECHECK},
	    {"STS-CACHE-3: at fetched + max_age still applied", MK_POLICY,
	     86400, 0, 0, 86400, DECIDE_ANSWER_REFRESH},
	    {"STS-CACHE-5: one second later expired: resolve", MK_POLICY, 86400,
	     0, 0, 86401, DECIDE_RESOLVE},
	    {"STS-CACHE-9 (A9): max_age 0 is never served from the cache",
	     MK_POLICY, 0, 0, 0, 0, DECIDE_RESOLVE},
	    {"a clock gone back: the policy counts as just fetched", MK_POLICY,
	     86400, 0, 0, -100, DECIDE_ANSWER},
	    {"STS-FETCH-15: after a failed refresh the policy applies",
	     MK_STALE, 86400, 0, 1000, 1000, DECIDE_ANSWER},
	    {"STS-FETCH-13: no fetch within the back-off", MK_STALE, 86400, 0,
	     1000, 1299, DECIDE_ANSWER},
	    {"STS-FETCH-13: after the back-off, retried behind", MK_STALE,
	     86400, 0, 1000, 1300, DECIDE_ANSWER_REFRESH},
	    {"STS-CACHE-5: a stale policy still expires", MK_STALE, 86400, 0,
	     1000, 86401, DECIDE_RESOLVE},
	    {"STS-CACHE-4: stale near expiry: still applied", MK_STALE, 86400,
	     0, 86300, 86400, DECIDE_ANSWER},
	    {"STS-CACHE-1: a confirmed id moves the re-check on", MK_CONFIRMED,
	     86400, 0, 3600, 7199, DECIDE_ANSWER},
	    {"STS-CACHE-1: ... to recheck seconds later", MK_CONFIRMED, 86400,
	     0, 3600, 7200, DECIDE_ANSWER_RECHECK},
	    {"STS-CACHE-3: a confirmation does not restart the lifetime",
	     MK_CONFIRMED, 86400, 0, 3600, 86401, DECIDE_RESOLVE},
	    {"negative TTL: answered", MK_NEGATIVE, 0, 0, 0, 3149,
	     DECIDE_ANSWER},
	    {"negative TTL: refreshed behind in its last eighth", MK_NEGATIVE,
	     0, 0, 0, 3150, DECIDE_ANSWER_REFRESH},
	    {"negative TTL: over after 3600 s", MK_NEGATIVE, 0, 0, 0, 3600,
	     DECIDE_RESOLVE},
	    {"dane TTL: answered", MK_DANE, 86400, 0, 0, 524, DECIDE_ANSWER},
	    {"dane TTL: refreshed behind", MK_DANE, 86400, 0, 0, 525,
	     DECIDE_ANSWER_REFRESH},
	    {"dane TTL: over after 600 s", MK_DANE, 86400, 0, 0, 600,
	     DECIDE_RESOLVE},
	    {"STS-FETCH-13: fetch-error held for the back-off", MK_FAILED_FETCH,
	     0, 0, 0, 299, DECIDE_BACKOFF},
	    {"STS-FETCH-13: five minutes later resolved again", MK_FAILED_FETCH,
	     0, 0, 0, 300, DECIDE_RESOLVE},
	    {"dns-tempfail held a minute", MK_FAILED_DNS, 0, 0, 0, 59,
	     DECIDE_BACKOFF},
	    {"dns-tempfail: a minute later resolved again", MK_FAILED_DNS, 0, 0,
	     0, 60, DECIDE_RESOLVE},
	};
	struct decide_entry e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		make(cases[i].mk, cases[i].max_age, cases[i].jitter,
		     cases[i].at, &e);
		tap_ok(decide_lookup(cases[i].mk == MK_NONE ? NULL : &e,
		                     T0 + cases[i].now) == cases[i].want,
		       "lookup: %s", cases[i].name);
	}
}

static void
test_entries(void)
{
	struct decide_entry p, e;
	struct decide_conf c;

	decide_entry_policy(&conf, MTS_STS_MODE_ENFORCE, 86400, "id1", T0, 0,
	                    &p);
	tap_ok(p.expires == T0 + 86400,
	       "STS-CACHE-3: expiry is the fetch time + max_age");
	decide_entry_stale(&conf, &p.policy, RESOLVE_FAIL_FETCH, T0 + 10, &e);
	tap_ok(e.kind == DECIDE_POLICY &&
	           e.policy.mode == MTS_STS_MODE_ENFORCE &&
	           strcmp(e.policy.id, "id1") == 0 && e.expires == T0 + 86400,
	       "STS-CACHE-11, §5.1: a failed refresh keeps the enforce policy "
	       "and its id (never downgraded)");
	tap_ok(e.failure == RESOLVE_FAIL_FETCH && e.backoff_until == T0 + 310,
	       "STS-FETCH-13: a failed refresh backs off 300 s");
	decide_entry_failed(&conf, RESOLVE_FAIL_FETCH, NULL, T0, &e);
	tap_ok(e.kind == DECIDE_FAILED && e.backoff_until == T0 + 300 &&
	           e.expires == T0 + 300,
	       "STS-FETCH-13/14: a fetch-error entry holds the back-off");
	decide_conf_init(&c, 0, 0, 0, 30);
	decide_entry_failed(&c, RESOLVE_FAIL_BOGUS, NULL, T0, &e);
	tap_ok(e.expires == T0 + 30 && e.backoff_until == 0,
	       "a DNS failure is held at most the back-off, fetches allowed");
	decide_conf_init(&c, 0, 0, 0, 0);
	tap_ok(c.negative_ttl == 3600 && c.dane_ttl == 600 &&
	           c.recheck == 3600 && c.backoff == 300,
	       "defaults: negative 3600, dane 600, recheck 3600, backoff 300");
	decide_conf_init(&c, 60, 30, 10, 5);
	tap_ok(c.negative_ttl == 60 && c.dane_ttl == 30 && c.recheck == 10 &&
	           c.backoff == 5,
	       "configured times are kept");
	decide_entry_ttl(&conf, DECIDE_DANE, &p.policy, T0, 0, &e);
	tap_ok(e.policy.have && strcmp(e.policy.id, "id1") == 0,
	       "a DANE entry keeps the domain's policy and id");
}

static void
test_refresh_at(void)
{
	static const struct {
		const char *name;
		uint32_t lifetime, cap, jitter;
		int64_t want; /* after T0 */
	} cases[] = {
	    {"a day: the last eighth, jitter 0", 86400, 86400, 0, 75600},
	    {"a day: jitter up to a sixteenth", 86400, 86400, 5400, 81000},
	    {"a day: the jitter wraps", 86400, 86400, 5401, 75600},
	    {"a day: any draw stays in the window", 86400, 86400, 4294967295u,
	     75600 + 4294967295u % 5401},
	    {"STS-CACHE-6: a year's max_age refreshed daily", 31557600, 86400,
	     0, 75600},
	    {"a negative TTL, no cap", 3600, 0, 0, 3150},
	    {"a lifetime of 0: at once", 0, 0, 12345, 0},
	    {"a lifetime of 1 s", 1, 0, 7, 1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(decide_refresh_at(T0, cases[i].lifetime, cases[i].cap,
		                         cases[i].jitter) == T0 + cases[i].want,
		       "refresh_at: %s", cases[i].name);
}

static void
test_sweep(void)
{
	struct decide_entry p, s, f;

	decide_entry_policy(&conf, MTS_STS_MODE_ENFORCE, 86400, "id1", T0, 0,
	                    &p);
	decide_entry_stale(&conf, &p.policy, RESOLVE_FAIL_FETCH, T0 + 75000,
	                   &s);
	decide_entry_failed(&conf, RESOLVE_FAIL_FETCH, NULL, T0, &f);
	tap_ok(!decide_sweep(&p, false, T0 + 75600, 60),
	       "sweep: not looked up since the fetch: left to expire");
	tap_ok(!decide_sweep(&p, true, T0 + 75539, 60),
	       "sweep: the window opens after the next sweep: not yet");
	tap_ok(decide_sweep(&p, true, T0 + 75540, 60),
	       "sweep: the window opens before the next sweep: refresh");
	tap_ok(!decide_sweep(&s, true, T0 + 75100, 60),
	       "sweep: STS-FETCH-13: not during a back-off");
	tap_ok(decide_sweep(&s, true, T0 + 75300, 60),
	       "sweep: after the back-off: retried");
	tap_ok(!decide_sweep(&f, true, T0 + 1000, 60),
	       "sweep: a failure is never swept");
	tap_ok(!decide_sweep(NULL, true, T0, 60), "sweep: no entry");
}

static void
test_dane(void)
{
	static const struct {
		const char *name;
		enum mts_dns_rcode rcode;
		enum mts_dnssec dnssec;
		size_t n;
		struct decide_dane_host h[3];
		enum decide_dane want;
	} cases[] = {
	    {"RFC 7672 §2.1.1: a bogus MX RRset is bogus",
	     MTS_DNS_SERVFAIL,
	     MTS_DNSSEC_BOGUS,
	     0,
	     {{DANE_NONE, 0}},
	     DECIDE_DANE_BOGUS},
	    {"an MX SERVFAIL: unknown (dns-tempfail)",
	     MTS_DNS_SERVFAIL,
	     MTS_DNSSEC_INSECURE,
	     0,
	     {{DANE_NONE, 0}},
	     DECIDE_DANE_TEMP},
	    {"an MX timeout: unknown",
	     MTS_DNS_TIMEOUT,
	     MTS_DNSSEC_INSECURE,
	     0,
	     {{DANE_NONE, 0}},
	     DECIDE_DANE_TEMP},
	    {"RFC 7672 §2.2.1: an insecure MX RRset: no DANE",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_INSECURE,
	     1,
	     {{DANE_SECURE, 1}},
	     DECIDE_DANE_NO},
	    {"RFC 7505: a null MX (no host): no DANE",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     0,
	     {{DANE_NONE, 0}},
	     DECIDE_DANE_NO},
	    {"RFC 8461 §2: secure MX, one host with usable TLSA: DANE",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     1,
	     {{DANE_SECURE, 1}},
	     DECIDE_DANE_YES},
	    {"secure MX, every host usable: DANE",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     3,
	     {{DANE_SECURE, 1}, {DANE_SECURE, 2}, {DANE_SECURE, 1}},
	     DECIDE_DANE_YES},
	    {"RFC 5321 §5.1: secure NODATA, the implicit MX usable: DANE",
	     MTS_DNS_NODATA,
	     MTS_DNSSEC_SECURE,
	     1,
	     {{DANE_SECURE, 1}},
	     DECIDE_DANE_YES},
	    {"one host without TLSA: MTA-STS decides",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     2,
	     {{DANE_SECURE, 1}, {DANE_NONE, 0}},
	     DECIDE_DANE_NO},
	    {"RFC 7672 §3.1: a secure RRset of unusable records: no DANE",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     1,
	     {{DANE_SECURE, 0}},
	     DECIDE_DANE_NO},
	    {"insecure TLSA records are ignored",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     1,
	     {{DANE_INSECURE, 0}},
	     DECIDE_DANE_NO},
	    {"RFC 7672 §2.2.2: TLSA behind insecure addresses ignored",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     1,
	     {{DANE_IGNORED, 0}},
	     DECIDE_DANE_NO},
	    {"RFC 7672 §2.1.1: a bogus TLSA answer: bogus",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     1,
	     {{DANE_BOGUS, 0}},
	     DECIDE_DANE_BOGUS},
	    {"RFC 7672 §2.1.2: a failed TLSA lookup: bogus class",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     1,
	     {{DANE_LOOKUP_FAILED, 0}},
	     DECIDE_DANE_BOGUS},
	    {"one bogus host among usable ones: bogus",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     2,
	     {{DANE_SECURE, 1}, {DANE_BOGUS, 0}},
	     DECIDE_DANE_BOGUS},
	    {"a bogus TLSA under an insecure MX: no DANE at all",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_INSECURE,
	     1,
	     {{DANE_BOGUS, 0}},
	     DECIDE_DANE_NO},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(decide_dane(cases[i].rcode, cases[i].dnssec, cases[i].h,
		                   cases[i].n) == cases[i].want,
		       "dane: %s", cases[i].name);
}

enum cache_kind { C_NONE, C_FRESH, C_EXPIRED };

static void
test_txt(void)
{
	static const struct {
		const char *name;
		enum mts_dns_rcode rcode;
		enum mts_dnssec dnssec;
		const char *txt[2];
		size_t n;
		enum cache_kind cache;
		int64_t backoff; /* after T0 + 100 (now) */
		bool force;
		enum decide_txt_next want;
		enum resolve_failure failure;
	} cases[] = {
	    {"STS-CACHE-2: a valid record, nothing cached: fetch",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=id2"},
	     1,
	     C_NONE,
	     0,
	     false,
	     DECIDE_TXT_FETCH,
	     RESOLVE_FAIL_NONE},
	    {"STS-CACHE-1: the cached id: no fetch",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=id1"},
	     1,
	     C_FRESH,
	     0,
	     false,
	     DECIDE_TXT_USE_CACHE,
	     RESOLVE_FAIL_NONE},
	    {"STS-TXT-15: another id (no order): fetch",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=id0"},
	     1,
	     C_FRESH,
	     0,
	     false,
	     DECIDE_TXT_FETCH,
	     RESOLVE_FAIL_NONE},
	    {"STS-CACHE-5: the cached id but expired: fetch",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=id1"},
	     1,
	     C_EXPIRED,
	     0,
	     false,
	     DECIDE_TXT_FETCH,
	     RESOLVE_FAIL_NONE},
	    {"STS-TXT-13: no record, nothing cached: no policy",
	     MTS_DNS_NAME_ERROR,
	     MTS_DNSSEC_SECURE,
	     {NULL},
	     0,
	     C_NONE,
	     0,
	     false,
	     DECIDE_TXT_NO_POLICY,
	     RESOLVE_FAIL_NONE},
	    {"NODATA, nothing cached: no policy",
	     MTS_DNS_NODATA,
	     MTS_DNSSEC_INSECURE,
	     {NULL},
	     0,
	     C_NONE,
	     0,
	     false,
	     DECIDE_TXT_NO_POLICY,
	     RESOLVE_FAIL_NONE},
	    {"STS-TXT-14: a record removed never removes the cache",
	     MTS_DNS_NAME_ERROR,
	     MTS_DNSSEC_SECURE,
	     {NULL},
	     0,
	     C_FRESH,
	     0,
	     false,
	     DECIDE_TXT_USE_CACHE,
	     RESOLVE_FAIL_NONE},
	    {"STS-TXT-17: SERVFAIL, nothing cached: dns-tempfail",
	     MTS_DNS_SERVFAIL,
	     MTS_DNSSEC_INSECURE,
	     {NULL},
	     0,
	     C_NONE,
	     0,
	     false,
	     DECIDE_TXT_FAILED,
	     RESOLVE_FAIL_DNS_TEMP},
	    {"a timeout, nothing cached: dns-tempfail",
	     MTS_DNS_TIMEOUT,
	     MTS_DNSSEC_INSECURE,
	     {NULL},
	     0,
	     C_NONE,
	     0,
	     false,
	     DECIDE_TXT_FAILED,
	     RESOLVE_FAIL_DNS_TEMP},
	    {"STS-CACHE-4: SERVFAIL over a valid cache: applied",
	     MTS_DNS_SERVFAIL,
	     MTS_DNSSEC_INSECURE,
	     {NULL},
	     0,
	     C_FRESH,
	     0,
	     false,
	     DECIDE_TXT_USE_CACHE,
	     RESOLVE_FAIL_DNS_TEMP},
	    {"SERVFAIL over an expired cache: dns-tempfail",
	     MTS_DNS_SERVFAIL,
	     MTS_DNSSEC_INSECURE,
	     {NULL},
	     0,
	     C_EXPIRED,
	     0,
	     false,
	     DECIDE_TXT_FAILED,
	     RESOLVE_FAIL_DNS_TEMP},
	    {"a bogus answer, nothing cached: bogus",
	     MTS_DNS_SERVFAIL,
	     MTS_DNSSEC_BOGUS,
	     {NULL},
	     0,
	     C_NONE,
	     0,
	     false,
	     DECIDE_TXT_FAILED,
	     RESOLVE_FAIL_BOGUS},
	    {"STS-CACHE-4: a bogus answer over a valid cache: applied",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_BOGUS,
	     {"v=STSv1; id=id9"},
	     1,
	     C_FRESH,
	     0,
	     false,
	     DECIDE_TXT_USE_CACHE,
	     RESOLVE_FAIL_BOGUS},
	    {"STS-TXT-11: two STSv1 records: no policy",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=a", "v=STSv1; id=b"},
	     2,
	     C_NONE,
	     0,
	     false,
	     DECIDE_TXT_NO_POLICY,
	     RESOLVE_FAIL_NONE},
	    {"STS-TXT-10: v=STSv10 is no candidate: no policy",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv10; id=a"},
	     1,
	     C_NONE,
	     0,
	     false,
	     DECIDE_TXT_NO_POLICY,
	     RESOLVE_FAIL_NONE},
	    {"STS-TXT-14: an invalid record over a valid cache: applied",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=a-b"},
	     1,
	     C_FRESH,
	     0,
	     false,
	     DECIDE_TXT_USE_CACHE,
	     RESOLVE_FAIL_NONE},
	    {"STS-FETCH-13: a new id within the back-off: no fetch",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=id2"},
	     1,
	     C_FRESH,
	     1,
	     false,
	     DECIDE_TXT_BACKOFF,
	     RESOLVE_FAIL_NONE},
	    {"STS-FETCH-13: the back-off over: fetch",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=id2"},
	     1,
	     C_FRESH,
	     0,
	     false,
	     DECIDE_TXT_FETCH,
	     RESOLVE_FAIL_NONE},
	    {"STS-CACHE-6: a refresh fetches under the same id",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=id1"},
	     1,
	     C_FRESH,
	     0,
	     true,
	     DECIDE_TXT_FETCH,
	     RESOLVE_FAIL_NONE},
	    {"STS-CACHE-6: a refresh fetches with the record gone",
	     MTS_DNS_NAME_ERROR,
	     MTS_DNSSEC_SECURE,
	     {NULL},
	     0,
	     C_FRESH,
	     0,
	     true,
	     DECIDE_TXT_FETCH,
	     RESOLVE_FAIL_NONE},
	    {"a refresh never fetches into a DNS failure",
	     MTS_DNS_SERVFAIL,
	     MTS_DNSSEC_INSECURE,
	     {NULL},
	     0,
	     C_FRESH,
	     0,
	     true,
	     DECIDE_TXT_USE_CACHE,
	     RESOLVE_FAIL_DNS_TEMP},
	    {"a refresh within the back-off: no fetch",
	     MTS_DNS_ANSWER,
	     MTS_DNSSEC_SECURE,
	     {"v=STSv1; id=id1"},
	     1,
	     C_FRESH,
	     1,
	     true,
	     DECIDE_TXT_BACKOFF,
	     RESOLVE_FAIL_NONE},
	};
	struct decide_policy p;
	struct decide_txt out;
	size_t lens[2];
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.have = cases[i].cache != C_NONE;
		p.mode = MTS_STS_MODE_ENFORCE;
		p.max_age = 86400;
		p.fetched = cases[i].cache == C_EXPIRED ? T0 - 90000 : T0;
		strcpy(p.id, "id1");
		for (j = 0; j < cases[i].n; j++)
			lens[j] = strlen(cases[i].txt[j]);
		decide_txt(cases[i].rcode, cases[i].dnssec, cases[i].txt, lens,
		           cases[i].n, &p,
		           cases[i].backoff != 0 ? T0 + 100 + cases[i].backoff :
		                                   0,
		           cases[i].force, T0 + 100, &out);
		tap_ok(out.next == cases[i].want &&
		           out.failure == cases[i].failure,
		       "txt: %s", cases[i].name);
	}
	decide_txt(MTS_DNS_ANSWER, MTS_DNSSEC_SECURE,
	           (const char *const[]){"v=STSv1; id=abc"},
	           (const size_t[]){15}, 1, NULL, 0, false, T0, &out);
	tap_ok(strcmp(out.id, "abc") == 0 && out.next == DECIDE_TXT_FETCH,
	       "txt: STS-CACHE-12: the id seen in DNS is kept for the fetch");
}

static void
test_fetch(void)
{
	static const struct {
		const char *name;
		bool ok;
		enum cache_kind cache;
		uint32_t max_age;
		enum decide_fetch want;
	} cases[] = {
	    {"STS-CACHE-2: a fetched policy is new", true, C_NONE, 86400,
	     DECIDE_FETCH_NEW},
	    {"STS-CACHE-8/10: a new policy replaces a valid cached one", true,
	     C_FRESH, 86400, DECIDE_FETCH_NEW},
	    {"STS-FETCH-15, STS-CACHE-11: a failure keeps a valid cache", false,
	     C_FRESH, 86400, DECIDE_FETCH_STALE},
	    {"STS-FETCH-14: a failure over an expired cache", false, C_EXPIRED,
	     86400, DECIDE_FETCH_FAILED},
	    {"STS-FETCH-14: a failure, nothing cached", false, C_NONE, 86400,
	     DECIDE_FETCH_FAILED},
	    {"STS-CACHE-9: a cached max_age 0 never applies", false, C_FRESH, 0,
	     DECIDE_FETCH_FAILED},
	};
	struct decide_policy p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.have = cases[i].cache != C_NONE;
		p.max_age = cases[i].max_age;
		p.fetched = cases[i].cache == C_EXPIRED ? T0 - 90000 : T0;
		tap_ok(decide_fetch(cases[i].ok, &p, T0 + 100) == cases[i].want,
		       "fetch: %s", cases[i].name);
	}
}

static void
test_answer(void)
{
	static const struct {
		const char *name;
		enum decide_dane dane;
		bool off;
		enum decide_sts sts;
		enum mts_sts_mode mode;
		enum resolve_failure f;
		enum decide_kind want;
		enum resolve_failure want_f;
	} cases[] = {
	    {"RFC 8461 §2: DANE first over an enforce policy", DECIDE_DANE_YES,
	     false, DECIDE_STS_POLICY, MTS_STS_MODE_ENFORCE, 0, DECIDE_DANE, 0},
	    {"DANE over a failed fetch", DECIDE_DANE_YES, false,
	     DECIDE_STS_FAILED, 0, RESOLVE_FAIL_FETCH, DECIDE_DANE, 0},
	    {"dane off: the policy", DECIDE_DANE_YES, true, DECIDE_STS_POLICY,
	     MTS_STS_MODE_ENFORCE, 0, DECIDE_POLICY, 0},
	    {"no DANE: the policy", DECIDE_DANE_NO, false, DECIDE_STS_POLICY,
	     MTS_STS_MODE_ENFORCE, 0, DECIDE_POLICY, 0},
	    {"a DANE bogus host under an enforce policy: the policy",
	     DECIDE_DANE_BOGUS, false, DECIDE_STS_POLICY, MTS_STS_MODE_ENFORCE,
	     0, DECIDE_POLICY, 0},
	    {"a DANE bogus host under a testing policy: the policy",
	     DECIDE_DANE_BOGUS, false, DECIDE_STS_POLICY, MTS_STS_MODE_TESTING,
	     0, DECIDE_POLICY, 0},
	    {"STS-CACHE-8: mode none is no policy: bogus speaks",
	     DECIDE_DANE_BOGUS, false, DECIDE_STS_POLICY, MTS_STS_MODE_NONE, 0,
	     DECIDE_FAILED, RESOLVE_FAIL_BOGUS},
	    {"bogus, no policy: bogus", DECIDE_DANE_BOGUS, false,
	     DECIDE_STS_NONE, 0, 0, DECIDE_FAILED, RESOLVE_FAIL_BOGUS},
	    {"bogus with dane off: no policy", DECIDE_DANE_BOGUS, true,
	     DECIDE_STS_NONE, 0, 0, DECIDE_NO_POLICY, 0},
	    {"bogus over a bogus TXT: bogus", DECIDE_DANE_BOGUS, false,
	     DECIDE_STS_FAILED, 0, RESOLVE_FAIL_BOGUS, DECIDE_FAILED,
	     RESOLVE_FAIL_BOGUS},
	    {"STS-FETCH-14: a failed fetch, nothing cached: fetch-error",
	     DECIDE_DANE_NO, false, DECIDE_STS_FAILED, 0, RESOLVE_FAIL_FETCH,
	     DECIDE_FAILED, RESOLVE_FAIL_FETCH},
	    {"a failed TXT lookup: dns-tempfail", DECIDE_DANE_NO, false,
	     DECIDE_STS_FAILED, 0, RESOLVE_FAIL_DNS_TEMP, DECIDE_FAILED,
	     RESOLVE_FAIL_DNS_TEMP},
	    {"an MX failure, no policy: dns-tempfail", DECIDE_DANE_TEMP, false,
	     DECIDE_STS_NONE, 0, 0, DECIDE_FAILED, RESOLVE_FAIL_DNS_TEMP},
	    {"an MX failure under a policy: the policy", DECIDE_DANE_TEMP,
	     false, DECIDE_STS_POLICY, MTS_STS_MODE_ENFORCE, 0, DECIDE_POLICY,
	     0},
	    {"an MX failure, dane off, no policy: no policy", DECIDE_DANE_TEMP,
	     true, DECIDE_STS_NONE, 0, 0, DECIDE_NO_POLICY, 0},
	    {"nothing: no policy", DECIDE_DANE_NO, false, DECIDE_STS_NONE, 0, 0,
	     DECIDE_NO_POLICY, 0},
	    {"mode none, no DANE: the policy entry (answered NOTFOUND)",
	     DECIDE_DANE_NO, false, DECIDE_STS_POLICY, MTS_STS_MODE_NONE, 0,
	     DECIDE_POLICY, 0},
	};
	struct decide_final out;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		decide_answer(cases[i].dane, cases[i].off, cases[i].sts,
		              cases[i].mode, cases[i].f, &out);
		tap_ok(out.kind == cases[i].want &&
		           out.failure == cases[i].want_f,
		       "answer: %s", cases[i].name);
	}
}

static void
test_failure_reply(void)
{
	enum reply_failure none[RESOLVE_FAIL_COUNT] = {0};
	enum reply_failure temp[RESOLVE_FAIL_COUNT] = {REPLY_FAIL_TEMP,
	                                               REPLY_FAIL_NOTFOUND,
	                                               REPLY_FAIL_TEMP,
	                                               REPLY_FAIL_NOTFOUND};
	enum resolve_failure f;

	for (f = RESOLVE_FAIL_DNS_TEMP; f < RESOLVE_FAIL_COUNT; f++)
		tap_ok(decide_failure_reply(f, none) == REPLY_FAIL_NOTFOUND,
		       "on_failure: class %d is NOTFOUND by default (no mail "
		       "to a domain without policy is deferred)",
		       (int)f);
	tap_ok(decide_failure_reply(RESOLVE_FAIL_BOGUS, temp) ==
	           REPLY_FAIL_TEMP,
	       "on_failure: bogus configured TEMP");
	tap_ok(decide_failure_reply(RESOLVE_FAIL_DNS_TEMP, temp) ==
	           REPLY_FAIL_NOTFOUND,
	       "on_failure: each class on its own");
	tap_ok(decide_failure_reply(RESOLVE_FAIL_NONE, temp) ==
	           REPLY_FAIL_NOTFOUND,
	       "on_failure: no failure is never TEMP");
	tap_ok(decide_failure_reply(RESOLVE_FAIL_FETCH, NULL) ==
	           REPLY_FAIL_NOTFOUND,
	       "on_failure: no table: NOTFOUND");
}

int
main(void)
{
	decide_conf_init(&conf, 0, 0, 0, 0);
	test_lookup();
	test_entries();
	test_refresh_at();
	test_sweep();
	test_dane();
	test_txt();
	test_fetch();
	test_answer();
	test_failure_reply();
	return tap_done();
}
