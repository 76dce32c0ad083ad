/* SPDX-License-Identifier: ISC */
/*
 * The renewal and retry schedule of the ACME client (src/serve/
 * acme_sched.c), table by table with `now` and the random draws passed
 * in: the 2/3 rule for 90-day, 6-day and 5-year certificates and its
 * jitter, ARI windows (RFC 9773 §4.2) in the future, in the past and
 * clamped, the back-off's growth and cap with the CA's Retry-After
 * (RFC 8555 §6.6), the renewalInfo re-check (RFC 9773 §4.3), and the
 * pacing of 1000 domains at start-up under a rate limit.
 */
#include <math.h>
#include <stdlib.h>

#include "acme_sched.h"
#include "tap.h"

#define T0   1700000000LL
#define DAY  86400LL
#define HOUR 3600LL

static struct acme_sched_conf conf;

static void
test_renew_at(void)
{
	static const struct {
		const char *name;
		int64_t life;      /* not_before = T0, not_after = T0 + life */
		int ari;           /* 1: a window [ari_start, ari_end) */
		int64_t ari_start; /* relative to T0 */
		int64_t ari_end;
		double draw;
		int64_t now;  /* relative to T0 */
		int64_t want; /* relative to T0 */
	} cases[] = {
	    {"90 days: renewed at 60 days", 90 * DAY, 0, 0, 0, 0.0, 0,
	     60 * DAY},
	    {"90 days: a draw of 0.5 is half a day earlier", 90 * DAY, 0, 0, 0,
	     0.5, 0, 60 * DAY - DAY / 2},
	    {"90 days: the largest draw is one day earlier (jitter_max)",
	     90 * DAY, 0, 0, 0, 0.9999999, 0, 59 * DAY},
	    {"5 years (pebble): renewed at 1216.67 days", 1825 * DAY, 0, 0, 0,
	     0.0, 0, 105120000},
	    {"5 years: jitter still capped at one day", 1825 * DAY, 0, 0, 0,
	     0.9999999, 0, 105120000 - DAY},
	    {"6 days: renewed at 4 days", 6 * DAY, 0, 0, 0, 0.0, 0, 4 * DAY},
	    {"6 days: jitter at most lifetime / 30 (4.8 h)", 6 * DAY, 0, 0, 0,
	     0.9999999, 0, 4 * DAY - 17280},
	    {"10 s: two thirds rounded down", 10, 0, 0, 0, 0.9, 0, 6},
	    {"past two thirds: renew now", 90 * DAY, 0, 0, 0, 0.0, 70 * DAY,
	     70 * DAY},
	    {"expired: renew now", 90 * DAY, 0, 0, 0, 0.0, 100 * DAY,
	     100 * DAY},
	    {"no lifetime (notAfter <= notBefore): renew now", 0, 0, 0, 0, 0.0,
	     5, 5},
	    {"a NaN draw counts as 0", 90 * DAY, 0, 0, 0, NAN, 0, 60 * DAY},
	    {"a draw of 1 counts as 0", 90 * DAY, 0, 0, 0, 1.0, 0, 60 * DAY},
	    {"a negative draw counts as 0", 90 * DAY, 0, 0, 0, -0.5, 0,
	     60 * DAY},
	    {"ARI window in the future: its start for draw 0", 90 * DAY, 1,
	     50 * DAY, 52 * DAY, 0.0, 0, 50 * DAY},
	    {"ARI window: draw 0.5 is its middle", 90 * DAY, 1, 50 * DAY,
	     52 * DAY, 0.5, 0, 51 * DAY},
	    {"ARI window: the largest draw is before its end", 90 * DAY, 1,
	     50 * DAY, 52 * DAY, 0.9999999, 0, 52 * DAY - 1},
	    {"ARI window earlier than 2/3 wins (CA asks early)", 90 * DAY, 1,
	     10 * DAY, 11 * DAY, 0.0, 0, 10 * DAY},
	    {"ARI window in the past: renew now", 90 * DAY, 1, DAY, 2 * DAY,
	     0.5, 10 * DAY, 10 * DAY},
	    {"ARI window ending after notAfter: clamped to notAfter - 3 d",
	     90 * DAY, 1, 80 * DAY, 100 * DAY, 0.5, 0, 80 * DAY + 7 * DAY / 2},
	    {"ARI window wholly after the margin: notAfter - 3 d", 90 * DAY, 1,
	     88 * DAY, 95 * DAY, 0.3, 0, 87 * DAY},
	    {"ARI margin for 6 days is lifetime / 10", 6 * DAY, 1, 11 * DAY / 2,
	     7 * DAY, 0.0, 0, 6 * DAY - 6 * DAY / 10},
	    {"ARI end == start is invalid: the 2/3 rule", 90 * DAY, 1, 50 * DAY,
	     50 * DAY, 0.0, 0, 60 * DAY},
	    {"ARI end before start is invalid: the 2/3 rule", 90 * DAY, 1,
	     50 * DAY, 40 * DAY, 0.0, 0, 60 * DAY},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acme_ari_window w = {T0 + cases[i].ari_start,
		                            T0 + cases[i].ari_end};
		int64_t got =
		    acme_sched_renew_at(&conf, T0, T0 + cases[i].life,
		                        cases[i].ari ? &w : NULL, cases[i].draw,
		                        T0 + cases[i].now);

		if (!tap_ok(got == T0 + cases[i].want, "renew_at: %s",
		            cases[i].name))
			tap_diag("got T0%+lld, want T0%+lld",
			         (long long)(got - T0),
			         (long long)cases[i].want);
	}
}

/* 1000 draws spread over [0, 1): every time within the bounds, both
   ends reached. */
static void
test_jitter_bounds(void)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, t;
	struct acme_ari_window w = {T0 + 50 * DAY, T0 + 52 * DAY};
	int i, outside = 0;

	for (i = 0; i < 1000; i++) {
		t = acme_sched_renew_at(&conf, T0, T0 + 90 * DAY, NULL,
		                        i / 1000.0, T0);
		if (t < T0 + 59 * DAY || t > T0 + 60 * DAY)
			outside++;
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
	}
	tap_ok(outside == 0, "jitter: 1000 draws within [59 d, 60 d]");
	tap_ok(hi == T0 + 60 * DAY && lo <= T0 + 59 * DAY + 100,
	       "jitter: the draws span the whole day (lo T0%+lld, hi T0%+lld)",
	       (long long)(lo - T0), (long long)(hi - T0));

	lo = INT64_MAX;
	hi = INT64_MIN;
	outside = 0;
	for (i = 0; i < 1000; i++) {
		t = acme_sched_renew_at(&conf, T0, T0 + 90 * DAY, &w,
		                        i / 1000.0, T0);
		if (t < w.start || t >= w.end)
			outside++;
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
	}
	tap_ok(outside == 0 && lo == w.start && hi >= w.end - 200,
	       "ARI: 1000 draws within the window, spanning it");
}

static void
test_backoff(void)
{
	static const struct {
		const char *name;
		unsigned failures;
		int64_t retry_after; /* relative to T0; 0: none */
		int64_t want;        /* relative to T0 */
	} cases[] = {
	    {"0 failures counts as 1: the base", 0, 0, 300},
	    {"1st failure: the base (300 s)", 1, 0, 300},
	    {"2nd: doubled", 2, 0, 600},
	    {"3rd: doubled again", 3, 0, 1200},
	    {"7th: 19200 s", 7, 0, 19200},
	    {"8th: the cap (6 h)", 8, 0, 6 * HOUR},
	    {"100th: still the cap", 100, 0, 6 * HOUR},
	    {"UINT_MAX failures: the cap, no overflow", 4294967295u, 0,
	     6 * HOUR},
	    {"Retry-After later than the back-off is honoured", 1, HOUR, HOUR},
	    {"Retry-After earlier than the back-off is not", 3, 100, 1200},
	    {"Retry-After a month ahead is cut to 7 days", 1, 30 * DAY,
	     7 * DAY},
	    {"Retry-After later than the cap is honoured", 100, DAY, DAY},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ra =
		    cases[i].retry_after != 0 ? T0 + cases[i].retry_after : 0;
		int64_t got =
		    acme_sched_backoff(&conf, T0, cases[i].failures, ra);

		if (!tap_ok(got == T0 + cases[i].want, "backoff: %s",
		            cases[i].name))
			tap_diag("got T0%+lld, want T0%+lld",
			         (long long)(got - T0),
			         (long long)cases[i].want);
	}
}

/* Let's Encrypt allows 5 failed validations per identifier per hour:
   the default back-off never makes more than 4 attempts in an hour. */
static void
test_backoff_hourly(void)
{
	int64_t t[20];
	int i, j, most = 0, n;

	t[0] = T0;
	for (i = 1; i < 20; i++)
		t[i] = acme_sched_backoff(&conf, t[i - 1], (unsigned)i, 0);
	for (i = 0; i < 20; i++) {
		for (n = 0, j = i; j < 20 && t[j] < t[i] + HOUR; j++)
			n++;
		most = n > most ? n : most;
	}
	tap_ok(most == 4, "backoff: at most 4 attempts in any hour (got %d)",
	       most);
}

static void
test_ari_next(void)
{
	static const struct {
		const char *name;
		int64_t retry_after, want;
	} cases[] = {
	    {"Retry-After 3600 s: an hour", 3600, 3600},
	    {"Retry-After 10 s: one minute", 10, 60},
	    {"Retry-After 0: one minute", 0, 60},
	    {"Retry-After 100000 s: one day", 100000, DAY},
	    {"Retry-After exactly one day", DAY, DAY},
	    {"no Retry-After: six hours", -1, 6 * HOUR},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got =
		    acme_sched_ari_next(&conf, T0, cases[i].retry_after);

		tap_ok(got == T0 + cases[i].want, "ari_next: %s (got T0%+lld)",
		       cases[i].name, (long long)(got - T0));
	}
}

/* The most starts of a sorted schedule in any window [t, t + w). */
static size_t
most_in_window(const int64_t *s, size_t n, int64_t w)
{
	size_t i, j = 0, most = 0;

	for (i = 0; i < n; i++) {
		while (j < n && s[j] < s[i] + w)
			j++;
		if (j - i > most)
			most = j - i;
	}
	return most;
}

static void
test_pace(void)
{
	static const struct {
		const char *name;
		unsigned limit, burst;
		int64_t window;
		size_t n;
		int64_t spacing; /* of the due times */
		size_t want_most;
		int64_t want_last; /* relative to T0 */
	} cases[] = {
	    {"1000 at start, Let's Encrypt defaults: 5 at once, then every "
	     "37 s",
	     300, 5, 3 * HOUR, 1000, 0, 296, 995 * 37},
	    {"1000 at start, burst 1: one every 36 s", 300, 1, 3 * HOUR, 1000,
	     0, 300, 999 * 36},
	    {"1000 at start, 10 per minute, burst 10", 10, 10, 60, 1000, 0, 10,
	     990 * 60},
	    {"1000 at start, 1 per hour", 1, 1, HOUR, 1000, 0, 1, 999 * HOUR},
	    {"1000 at start, a burst over the limit is the limit", 10, 50, 60,
	     1000, 0, 10, 990 * 60},
	    {"1000 at start, limit 0 is 1", 0, 0, 60, 1000, 0, 1, 999 * 60},
	    {"due slower than the limit: no delay", 300, 5, 3 * HOUR, 1000, 100,
	     108, 999 * 100},
	    {"due a little faster than the limit: delayed", 300, 5, 3 * HOUR,
	     1000, 30, 296, 995 * 37},
	};
	static int64_t due[1000], start[1000];
	struct acme_sched_conf c = conf;
	size_t i, k, late, decreasing;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c.pace_limit = cases[i].limit;
		c.pace_burst = cases[i].burst;
		c.pace_window = cases[i].window;
		for (k = 0; k < cases[i].n; k++)
			due[k] = T0 + (int64_t)k * cases[i].spacing;
		acme_pace_plan(&c, due, cases[i].n, start);
		late = decreasing = 0;
		for (k = 0; k < cases[i].n; k++) {
			late += start[k] < due[k];
			decreasing += k > 0 && start[k] < start[k - 1];
		}
		tap_ok(late == 0 && decreasing == 0,
		       "pace: %s: in order, none before due", cases[i].name);
		k = most_in_window(start, cases[i].n, cases[i].window);
		tap_ok(k == cases[i].want_most &&
		           k <= (cases[i].limit == 0 ? 1 : cases[i].limit),
		       "pace: %s: at most %zu in a window (got %zu)",
		       cases[i].name, cases[i].want_most, k);
		tap_ok(start[cases[i].n - 1] == T0 + cases[i].want_last,
		       "pace: %s: the last starts at T0%+lld (got T0%+lld)",
		       cases[i].name, (long long)cases[i].want_last,
		       (long long)(start[cases[i].n - 1] - T0));
	}
}

/* The bucket refills: after a pause a new burst may start at once. */
static void
test_pace_refill(void)
{
	struct acme_pace p;
	int64_t t[12];
	int i;

	acme_pace_init(&p);
	for (i = 0; i < 6; i++)
		t[i] = acme_pace_take(&p, &conf, T0);
	for (i = 6; i < 12; i++)
		t[i] = acme_pace_take(&p, &conf, T0 + DAY);
	tap_ok(t[4] == T0 && t[5] == T0 + 37,
	       "pace: 5 start at once, the 6th 37 s later");
	tap_ok(t[10] == T0 + DAY && t[11] == T0 + DAY + 37,
	       "pace: after a day idle, a full burst again");
}

int
main(void)
{
	acme_sched_conf_init(&conf);
	test_renew_at();
	test_jitter_bounds();
	test_backoff();
	test_backoff_hourly();
	test_ari_next();
	test_pace();
	test_pace_refill();
	return tap_done();
}
