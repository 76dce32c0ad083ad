/* SPDX-License-Identifier: ISC */
/*
 * The renewal and retry schedule of the ACME client of mtasts serve
 * (acme_sched.h): two thirds of a certificate's lifetime with jitter,
 * the CA's renewal window (RFC 9773 §4.2), the per-domain back-off with
 * the CA's Retry-After (RFC 8555 §6.6), the pacing of orders under the
 * CA's rate limit, and the renewalInfo re-check (RFC 9773 §4.3).  Pure:
 * `now` and the random draws are arguments.
 */
#include <stdbool.h>

#include "acme_sched.h"

#define DAY 86400

/* 0000-01-01 and 10000-01-01 (RFC 3339's years): no sum overflows. */
#define T_MIN (-62167219200LL)
#define T_MAX 253402300800LL

/* More orders per window than any CA allows: a bound for the sums. */
#define PACE_MAX 1000000

static int64_t
clamp_time(int64_t t)
{
	if (t < T_MIN)
		return T_MIN;
	if (t > T_MAX)
		return T_MAX;
	return t;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* A length in seconds from the configuration, within [lo, T_MAX - T_MIN]. */
static int64_t
clamp_span(int64_t v, int64_t lo)
{
	if (v < lo)
		return lo;
	if (v > T_MAX - T_MIN)
		return T_MAX - T_MIN;
	return v;
}

/* floor(draw * span) for a draw in [0, 1); anything else draws 0. */
static int64_t
scaled(double draw, int64_t span)
{
	int64_t v;

	if (!(draw >= 0.0 && draw < 1.0) || span <= 0)
		return 0;
	/* span < 2^39: exact in a double, and the product stays below it. */
	v = (int64_t)(draw * (double)span);
	return v < span ? v : span - 1;
}

void
acme_sched_conf_init(struct acme_sched_conf *conf)
{
	conf->jitter_max = DAY;
	conf->ari_margin_max = 3 * DAY;
	conf->backoff_base = 300;
	conf->backoff_factor = 2;
	conf->backoff_cap = 6 * 3600;
	conf->retry_after_max = 7 * DAY;
	conf->ari_min = 60;
	conf->ari_max = DAY;
	conf->ari_error_retry = 6 * 3600;
	conf->pace_limit = 300;
	conf->pace_window = 3 * 3600;
	conf->pace_burst = 5;
}

/* A time in the window, never after not_after - margin (RFC 9773 §4.2). */
static int64_t
ari_time(const struct acme_sched_conf *conf, int64_t life, int64_t not_after,
         const struct acme_ari_window *ari, double draw)
{
	int64_t start = clamp_time(ari->start), end = clamp_time(ari->end);
	int64_t margin, bound;

	margin = min64(life / 10, clamp_span(conf->ari_margin_max, 0));
	bound = not_after - margin;
	if (end > bound)
		end = bound; /* the CA's window outlives the certificate */
	if (start >= end)
		return end;
	/* §4.2: a time chosen uniformly at random within the window. */
	return start + scaled(draw, end - start);
}

int64_t
acme_sched_renew_at(const struct acme_sched_conf *conf, int64_t not_before,
                    int64_t not_after, const struct acme_ari_window *ari,
                    double draw, int64_t now)
{
	int64_t nb = clamp_time(not_before), na = clamp_time(not_after);
	int64_t life, t, jitter;

	now = clamp_time(now);
	if (na <= nb)
		return now; /* no lifetime to divide: renew */
	life = na - nb;
	/* §4.2: end <= start is invalid and treated as no answer. */
	if (ari != NULL && ari->end > ari->start) {
		t = ari_time(conf, life, na, ari, draw);
	} else {
		/* Two thirds in, without overflow or rounding up. */
		t = nb + life / 3 * 2 + life % 3 * 2 / 3;
		jitter = min64(clamp_span(conf->jitter_max, 0), life / 30);
		t -= scaled(draw, jitter + 1);
	}
	/* §4.2: a chosen time in the past means renew now. */
	return max64(t, now);
}

int64_t
acme_sched_backoff(const struct acme_sched_conf *conf, int64_t failed_at,
                   unsigned failures, int64_t retry_after)
{
	int64_t base = clamp_span(conf->backoff_base, 1);
	int64_t cap = clamp_span(conf->backoff_cap, 1);
	int64_t factor = conf->backoff_factor, delay = base, next, ra;
	unsigned i;

	failed_at = clamp_time(failed_at);
	if (failures == 0)
		failures = 1;
	if (factor < 1)
		factor = 1;
	/* 64 doublings pass any cap: the loop is short whatever failures. */
	for (i = 1; i < failures && i < 64 && delay < cap; i++) {
		if (delay > cap / factor) {
			delay = cap;
			break;
		}
		delay *= factor;
	}
	next = failed_at + min64(delay, cap);
	/* RFC 8555 §6.6: the client SHOULD NOT retry before Retry-After. */
	if (retry_after > next) {
		ra = min64(clamp_time(retry_after),
		           failed_at + clamp_span(conf->retry_after_max, 0));
		next = max64(next, ra);
	}
	return next;
}

int64_t
acme_sched_ari_next(const struct acme_sched_conf *conf, int64_t now,
                    int64_t retry_after_secs)
{
	int64_t lo = clamp_span(conf->ari_min, 1);
	int64_t hi = max64(lo, clamp_span(conf->ari_max, 1));

	now = clamp_time(now);
	/* §4.3.3: no usable Retry-After is a long-term error. */
	if (retry_after_secs < 0)
		return now + clamp_span(conf->ari_error_retry, 1);
	/* §4.3: clients set reasonable bounds on the server's value. */
	return now + min64(max64(retry_after_secs, lo), hi);
}

void
acme_pace_init(struct acme_pace *pace)
{
	pace->tat = T_MIN;
}

/*
 * The generic cell rate algorithm (virtual scheduling): an order may
 * start once the theoretical arrival time, less the burst tolerance, is
 * reached.  With the emission interval s = ceil(W / (L - B + 1)) and a
 * tolerance of (B - 1) * s, a window of W seconds holds at most
 * B + ceil(W / s) - 1 <= L starts.
 */
int64_t
acme_pace_take(struct acme_pace *pace, const struct acme_sched_conf *conf,
               int64_t want)
{
	int64_t limit = conf->pace_limit, burst = conf->pace_burst;
	int64_t window = clamp_span(conf->pace_window, 1);
	int64_t interval, tolerance, start;

	/* Bounded so that the tolerance cannot overflow. */
	limit = min64(max64(limit, 1), PACE_MAX);
	burst = min64(max64(burst, 1), limit);
	interval = (window + (limit - burst + 1) - 1) / (limit - burst + 1);
	tolerance = (burst - 1) * interval;
	want = clamp_time(want);
	start = max64(want, pace->tat - tolerance);
	pace->tat = max64(pace->tat, start) + interval;
	return start;
}

void
acme_pace_plan(const struct acme_sched_conf *conf, const int64_t *due, size_t n,
               int64_t *start)
{
	struct acme_pace pace;
	size_t i;

	acme_pace_init(&pace);
	for (i = 0; i < n; i++)
		start[i] = acme_pace_take(&pace, conf, due[i]);
}
