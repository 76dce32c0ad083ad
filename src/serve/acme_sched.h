/* SPDX-License-Identifier: ISC */
/*
 * When the ACME client of mtasts serve renews a certificate and when it
 * tries again: the renewal time of one certificate (two thirds of its
 * lifetime, or a time in the CA's ACME Renewal Information window,
 * RFC 9773 §4.2), the exponential back-off of one domain after a failed
 * attempt (with the CA's Retry-After, RFC 8555 §6.6), the pacing of the
 * orders of many domains under the CA's rate limit, and when to fetch a
 * certificate's renewalInfo again (RFC 9773 §4.3).
 *
 * Pure: no clock, no randomness, no I/O, no globals.  Times are seconds
 * since the epoch (UTC) passed in as `now`; a random draw is a number in
 * [0, 1) passed in as `draw`, so tables can pin every outcome.  Times
 * given in are clamped to the years 0000-9999, so no sum overflows.
 */
#ifndef MTS_SERVE_ACME_SCHED_H
#define MTS_SERVE_ACME_SCHED_H

#include <stddef.h>
#include <stdint.h>

/*
 * The knobs, all in seconds but the counts; acme_sched_conf_init() sets
 * the defaults below, which the comments justify.
 */
struct acme_sched_conf {
	/* The 2/3 rule renews up to jitter_max earlier (never later), at
	   most lifetime / 30: 1 day for a 90-day certificate, 5.3 hours
	   for a 6-day one. */
	int64_t jitter_max;
	/* An ARI choice is never after notAfter minus the margin, which is
	   lifetime / 10 capped at ari_margin_max (3 days): room for the
	   back-off's retries before the certificate expires. */
	int64_t ari_margin_max;
	/* Back-off after the n-th consecutive failure: base * factor^(n-1),
	   at most cap.  Let's Encrypt allows 5 authorization failures per
	   identifier per account per hour: with a base of 300 s at most 4
	   attempts fall in any hour. */
	int64_t backoff_base;
	unsigned backoff_factor;
	int64_t backoff_cap;
	/* A CA's Retry-After later than the back-off is honoured up to this
	   far ahead (7 days, Let's Encrypt's longest window), so a bogus
	   value cannot stop renewals for good. */
	int64_t retry_after_max;
	/* The renewalInfo Retry-After is clamped to [ari_min, ari_max]
	   (RFC 9773 §4.3: under one minute counts as one minute, over one
	   day as one day); without a usable one, ari_error_retry (six
	   hours, RFC 9773 §4.3.3 for long-term errors). */
	int64_t ari_min, ari_max, ari_error_retry;
	/* Pacing: at most pace_limit orders in any pace_window seconds, of
	   which pace_burst may start together.  Let's Encrypt's "New Orders
	   per Account" limit is 300 per 3 hours, a token bucket refilled at
	   one order every 36 s (https://letsencrypt.org/docs/rate-limits/);
	   the default keeps to it with a burst of 5, so that a few domains
	   start at once and thousands are spread one every 37 s. */
	unsigned pace_limit;
	int64_t pace_window;
	unsigned pace_burst;
};

/* The defaults described above. */
void acme_sched_conf_init(struct acme_sched_conf *conf);

/* A CA's suggested renewal window (RFC 9773 §4.2), start < end. */
struct acme_ari_window {
	int64_t start, end;
};

/*
 * When to renew a certificate valid from not_before to not_after, as
 * seen at `now`: never before now (a time already past means "now").
 *
 * With ari == NULL (or an invalid window, end <= start, which RFC 9773
 * §4.2 says to treat as no answer): not_before + 2/3 of the lifetime,
 * minus draw * min(jitter_max, lifetime / 30).
 * With a window: start + draw * (end - start), the window's end first
 * clamped to not_after - margin (see ari_margin_max); a window wholly
 * after that bound gives the bound.  A window in the past gives now
 * (RFC 9773 §4.2: a chosen time in the past means renew now).
 * A certificate whose not_after <= not_before is renewed now.
 * draw is in [0, 1); a value outside (or NaN) counts as 0.
 */
int64_t acme_sched_renew_at(const struct acme_sched_conf *conf,
                            int64_t not_before, int64_t not_after,
                            const struct acme_ari_window *ari, double draw,
                            int64_t now);

/*
 * When to try a domain again after its `failures`-th consecutive failed
 * attempt (0 counts as 1), which ended at failed_at: failed_at +
 * min(backoff_cap, backoff_base * backoff_factor^(failures - 1)), or
 * retry_after (an absolute time the caller took from the CA's
 * Retry-After, seconds or HTTP-date; 0 for none) when that is later, at
 * most failed_at + retry_after_max.
 */
int64_t acme_sched_backoff(const struct acme_sched_conf *conf,
                           int64_t failed_at, unsigned failures,
                           int64_t retry_after);

/*
 * When to fetch a certificate's renewalInfo again, asked at `now`:
 * now + retry_after_secs clamped to [ari_min, ari_max]; with
 * retry_after_secs < 0 (absent or not parseable: a long-term error of
 * RFC 9773 §4.3.3) now + ari_error_retry.
 */
int64_t acme_sched_ari_next(const struct acme_sched_conf *conf, int64_t now,
                            int64_t retry_after_secs);

/*
 * The pacing state of one CA account: a token bucket kept as the
 * generic cell rate algorithm's "theoretical arrival time";
 * acme_pace_init() makes it a full bucket.
 */
struct acme_pace {
	int64_t tat; /* when the bucket is full again */
};

void acme_pace_init(struct acme_pace *pace);

/*
 * Books the start of one order that wants to start at `want`; returns
 * the time it may start (>= want).  Orders booked one after another
 * never put more than pace_limit starts in any pace_window (a limit of
 * 0 is taken as 1, one over 1,000,000 as 1,000,000, a burst over the
 * limit as the limit).
 */
int64_t acme_pace_take(struct acme_pace *pace,
                       const struct acme_sched_conf *conf, int64_t want);

/*
 * Paces a queue: start[i] for the order of due[i], booked in queue order
 * on a fresh bucket.  start and due may be the same array.
 */
void acme_pace_plan(const struct acme_sched_conf *conf, const int64_t *due,
                    size_t n, int64_t *start);

#endif /* MTS_SERVE_ACME_SCHED_H */
