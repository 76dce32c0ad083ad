/* SPDX-License-Identifier: ISC */
/*
 * Rolling a policy out (`mtasts rollout`): the decisions, without I/O.
 *
 * Two moments of an MTA-STS deployment lose mail when done from memory:
 *
 *   - switching a policy from testing to enforce before the TLS-RPT
 *     reports (RFC 8460) have shown, for long enough, that senders reach
 *     every MX over valid TLS (RFC 8461 §5: testing exists for this);
 *   - changing the MX hosts while senders still hold a cached enforce
 *     policy that does not list the new ones (RFC 8461 §3.3, §5.1: a
 *     sender may keep a policy for max_age seconds, and in enforce mode
 *     refuses an MX the policy does not cover, §4.1, §5).
 *
 * Here are the rules of both, as pure functions of what the caller
 * passes in, the time included: no clock, no store, no network.  The
 * command (src/cli/cmd_rollout.c) gathers the days from the report
 * store and the policies from files and the network.
 */
#ifndef MTASTS_ROLLOUT_H
#define MTASTS_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/err.h>
#include <mtasts/sts.h>
#include <mtasts/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTS_ROLLOUT_DAY 86400

/* The default of --min-days: the "two weeks of testing mode with clean
 * TLS-RPT reports" of the setup guide. */
#define MTS_ROLLOUT_MIN_DAYS_DEFAULT 14
#define MTS_ROLLOUT_MIN_DAYS_MAX     366

/*
 * How many days the newest report may lag behind the day of `now` and
 * still count as recent.  Reports cover a UTC day (RFC 8460 §4.4
 * date-range) and are sent after it ends, so at noon the newest one is
 * yesterday's as a rule, and a slow reporter's may be of the day
 * before: today - 1 and today - 2 are recent, today - 3 is not.
 */
#define MTS_ROLLOUT_LAG_DAYS 2

/* ---- which reports speak of the policy ---- */

/*
 * True when two policies are the same policy: same mode, same max_age,
 * and the same set of mx patterns, compared case-insensitively, a
 * trailing dot ignored, order and repetition ignored (§3.2 gives the mx
 * lines no order).
 */
MTS_API bool mts_sts_policy_same(const struct mts_sts_policy *a,
                                 const struct mts_sts_policy *b);

enum mts_rollout_shown {
	MTS_ROLLOUT_SHOWN_NONE = 0, /* no policy-string: counts */
	MTS_ROLLOUT_SHOWN_SAME,     /* it shows `policy`: counts */
	MTS_ROLLOUT_SHOWN_OTHER     /* another body, or none that parses:
				       does not count */
};

/*
 * What the policy-string of an "sts" policy in a TLS-RPT report
 * (RFC 8460 §4.4: the policy as the sender saw it, one string per line)
 * shows, compared with `policy`.  The strings are joined with CRLF and
 * parsed with mts_sts_policy_parse(); reporters differ in how they cut
 * the body into strings (one per line, with or without line ends, or
 * the whole body in one), so a string's own trailing CR, LF or CRLF is
 * dropped before joining, and empty strings are skipped.  A body that
 * does not parse, or whose joined size is over MTS_STS_POLICY_MAX, is
 * OTHER.  n == 0 is NONE.  Never fails: on running out of memory the
 * answer is OTHER (the report does not count, which is the cautious
 * side).
 */
MTS_API enum mts_rollout_shown
mts_rollout_policy_shown(const char *const *strings, size_t n,
                         const struct mts_sts_policy *policy);

/* ---- ready to enforce? ---- */

/*
 * The reports of one UTC day for the policy domain, as the caller
 * gathered them: only the policies that count (the sts policies whose
 * policy-string shows the policy or is absent, and the tlsa and
 * no-policy-found ones, which have no STS body to compare).
 */
struct mts_rollout_day {
	int64_t day;         /* seconds, 00:00 UTC of the date-range start */
	uint64_t reports;    /* distinct reports, > 0 */
	uint64_t successful; /* total-successful-session-count, summed */
	uint64_t failed;     /* total-failure-session-count, summed */
};

enum mts_rollout_reason {
	MTS_ROLLOUT_READY = 0,       /* promote */
	MTS_ROLLOUT_ALREADY_ENFORCE, /* mode enforce: nothing to promote */
	MTS_ROLLOUT_MODE_NONE,       /* mode none: go to testing first */
	MTS_ROLLOUT_NO_REPORTS,      /* no day has reports */
	MTS_ROLLOUT_STALE,           /* the newest day is older than
				        today - MTS_ROLLOUT_LAG_DAYS */
	MTS_ROLLOUT_TOO_FEW_DAYS,    /* the run is shorter than min_days */
	MTS_ROLLOUT_FAILURES         /* failed sessions in the window */
};

struct mts_rollout_readiness {
	enum mts_rollout_reason reason;
	bool ready; /* reason is READY */
	/*
	 * The run: the longest stretch of consecutive UTC days with
	 * reports that ends at the newest day with reports (0 days and
	 * -1 days when there is none).
	 */
	int64_t run_first, run_last;
	unsigned run_days;
	/*
	 * The window judged: the last min_days days of the run (the whole
	 * run when it is shorter), and its sums.
	 */
	int64_t window_first, window_last;
	uint64_t window_reports, window_successful, window_failed;
	int64_t last_failure_day; /* the window's last day with failed
				     sessions, -1 when none */
	/*
	 * The first day (00:00 UTC) on which the policy can be ready if
	 * every day from now on brings clean reports: for TOO_FEW_DAYS
	 * run_first + min_days days, or, when the run has failed sessions,
	 * the FAILURES day if later; for FAILURES last_failure_day + 1 +
	 * min_days days; for NO_REPORTS and STALE today + min_days days
	 * (a new run starting today).  The day after the last day needed,
	 * since a day's reports arrive after it ends.  -1 for READY,
	 * ALREADY_ENFORCE and MODE_NONE.
	 */
	int64_t ready_on;
};

/*
 * Judges readiness at `now` (seconds since the epoch) for a policy of
 * `mode`, from its days (any order, no duplicates; days after today are
 * ignored, as a clock-skewed reporter's) and min_days (1 ..
 * MTS_ROLLOUT_MIN_DAYS_MAX).  The mode is judged first (enforce, none),
 * then the reports in the order of the reasons above.  0, or -1 (err
 * MTS_ERR_ARG: min_days out of range, a day not at 00:00 UTC, a
 * duplicated day, NULL days with n > 0), *out written only on success.
 */
MTS_API int mts_rollout_assess(enum mts_sts_mode mode,
                               const struct mts_rollout_day *days, size_t n,
                               int64_t now, unsigned min_days,
                               struct mts_rollout_readiness *out,
                               struct mts_err *err);

/* A constant English phrase for a reason ("ready to enforce", ...). */
MTS_API const char *mts_rollout_reason_name(enum mts_rollout_reason reason);

/* ---- changing the MX hosts ---- */

/*
 * A policy the domain published before, which a sender may still hold:
 * published at `superseded` it stopped being served, and a sender that
 * fetched it just before may keep it until superseded + max_age.
 */
struct mts_rollout_published {
	int64_t superseded;
	uint32_t max_age;
};

/*
 * The time until which some sender may still apply a policy older than
 * the one published at `now`: the latest of now + current_max_age (the
 * policy being replaced now, fetched a moment ago) and, for each earlier
 * policy, superseded + max_age.  Saturates at INT64_MAX.
 */
MTS_API int64_t
mts_rollout_cached_until(int64_t now, uint32_t current_max_age,
                         const struct mts_rollout_published *earlier, size_t n);

struct mts_rollout_mx_plan {
	/* What to publish now: the old patterns, then the added ones. */
	struct mts_sts_policy transition;
	/* What to publish after the DNS cut-over: the old patterns but the
	   removed ones, then the added ones. */
	struct mts_sts_policy final;
	/*
	 * When the DNS MX records may be changed: the cached_until passed
	 * in.  Before it, a sender may still refuse a new host under an
	 * older enforce policy.
	 */
	int64_t cutover_at;
};

/*
 * Plans an MX change of `old` (mode, max_age and patterns kept): adds
 * the `add` patterns and, in the final policy, drops the `remove` ones.
 * Every pattern is checked with mts_sts_match_pattern_check().  -1 with
 * err MTS_ERR_INVALID and a constant message when:
 *   - nothing is added or removed;
 *   - a pattern to add is malformed, or is already listed
 *     (case-insensitively), or is given twice;
 *   - a pattern to remove is not listed, or is given twice, or is also
 *     added;
 *   - the final policy would list no pattern (§3.2: mx is required in
 *     testing and enforce), or more than MTS_ROLLOUT_MX_MAX.
 * MTS_ERR_NOMEM when memory runs out.  On success *out owns its two
 * policies (release with mts_rollout_mx_plan_reset()); on failure *out
 * is untouched.
 */
#define MTS_ROLLOUT_MX_MAX 64
MTS_API int mts_rollout_mx_plan(const struct mts_sts_policy *old,
                                const char *const *add, size_t add_count,
                                const char *const *remove, size_t remove_count,
                                int64_t cutover_at,
                                struct mts_rollout_mx_plan *out,
                                struct mts_err *err);

MTS_API void mts_rollout_mx_plan_reset(struct mts_rollout_mx_plan *plan);

/*
 * A new policy id at `now` that differs from `previous` (may be NULL):
 * the timestamp id of now (mts_sts_id_format()), or, when that is not
 * after a timestamp id `previous` (a clock behind, two changes in one
 * second), the timestamp id of one second after previous.  Senders
 * refetch on any change of id (§3.1); a later id keeps the ids sorted
 * by time for people.  buf holds MTS_STS_ID_TIMESTAMP_LEN + 1 octets.
 * 0, or -1 (MTS_ERR_ARG).
 */
MTS_API int mts_rollout_next_id(int64_t now, const char *previous, char *buf,
                                size_t size, struct mts_err *err);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_ROLLOUT_H */
