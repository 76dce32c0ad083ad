/* SPDX-License-Identifier: ISC */
/*
 * Rolling an MTA-STS policy out (`mtasts rollout`): the decisions, as
 * pure functions of what the caller passes in (include/mtasts/rollout.h).
 *
 *   - Which TLS-RPT reports (RFC 8460 §4.4) speak of the policy: their
 *     policy-string is compared, as a policy, with the file's.
 *   - Whether the reports show that the policy can leave testing for
 *     enforce (RFC 8461 §5: testing exists to find out, before senders
 *     refuse to deliver): enough consecutive recent UTC days of reports,
 *     and no failed session in the last of them.
 *   - How to change the MX hosts without a sender refusing the new ones
 *     under a cached enforce policy (§3.3, §4.1, §5.1): a transition
 *     policy listing both, a cut-over no earlier than the last moment a
 *     sender may still hold an older policy, then the final policy.
 *   - Which id to give each new body (§3.1: senders refetch on a new id).
 *
 * Days are handled as day numbers (seconds / 86400, rounded down), so
 * that no sum or difference of days can overflow whatever `now` is; they
 * are turned back into seconds only for the caller, with saturation.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/rollout.h>
#include <mtasts/sts.h>

#include "internal.h"

/* ---- which reports speak of the policy ---- */

/* A pattern's length without one trailing dot (mts_dname_equal's view). */
static size_t
name_len(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

/*
 * Orders patterns as DNS names: ASCII case ignored (RFC 4343 §3), one
 * trailing dot ignored.  Equal under this order exactly when
 * mts_dname_equal() says so.
 */
static int
pattern_cmp(const void *a, const void *b)
{
	const char *s = *(const char *const *)a;
	const char *t = *(const char *const *)b;
	size_t sn = name_len(s), tn = name_len(t), i;
	int d;

	for (i = 0; i < sn && i < tn; i++)
		if ((d = mts_lower((unsigned char)s[i]) -
		         mts_lower((unsigned char)t[i])) != 0)
			return d;
	return sn < tn ? -1 : sn > tn;
}

/* True when `pattern` is in v[0..n), compared as a DNS name. */
static bool
pattern_in(const char *pattern, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pattern_cmp(&pattern, &v[i]) == 0)
			return true;
	return false;
}

/* The same set, without memory: n * m comparisons each way. */
static bool
same_set_slow(const struct mts_sts_policy *a, const struct mts_sts_policy *b)
{
	size_t i;

	for (i = 0; i < a->mx_count; i++)
		if (!pattern_in(a->mx[i], b->mx, b->mx_count))
			return false;
	for (i = 0; i < b->mx_count; i++)
		if (!pattern_in(b->mx[i], a->mx, a->mx_count))
			return false;
	return true;
}

/* Sorts a copy of the patterns; NULL when out of memory. */
static const char **
sorted_patterns(const struct mts_sts_policy *p)
{
	const char **v;

	if ((v = calloc(p->mx_count, sizeof(*v))) == NULL)
		return NULL;
	memcpy(v, p->mx, p->mx_count * sizeof(*v));
	qsort(v, p->mx_count, sizeof(*v), pattern_cmp);
	return v;
}

/* Skips from v[i] past every pattern equal to it; returns the next. */
static size_t
skip_equal(const char **v, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && pattern_cmp(&v[i], &v[j]) == 0)
		j++;
	return j;
}

/*
 * The two sorted lists, repetitions skipped, walked side by side: a body
 * from a report may hold thousands of mx lines (64 KiB), so n log n.
 */
static bool
same_set(const struct mts_sts_policy *a, const struct mts_sts_policy *b)
{
	const char **x, **y = NULL;
	size_t i = 0, j = 0;
	bool same = false;

	if ((x = sorted_patterns(a)) == NULL ||
	    (y = sorted_patterns(b)) == NULL) {
		free(x);
		return same_set_slow(a, b);
	}
	while (i < a->mx_count && j < b->mx_count) {
		if (pattern_cmp(&x[i], &y[j]) != 0)
			goto out;
		i = skip_equal(x, a->mx_count, i);
		j = skip_equal(y, b->mx_count, j);
	}
	same = i == a->mx_count && j == b->mx_count;
out:
	free(x);
	free(y);
	return same;
}

/*
 * §3.2 gives the mx lines no order and a sender applies them as a set
 * (§4.1: any one pattern that matches), so two bodies that list the same
 * names in another order, case or repetition are one policy for every
 * sender.  Extensions are not compared: a sender ignores them.
 */
bool
mts_sts_policy_same(const struct mts_sts_policy *a,
                    const struct mts_sts_policy *b)
{
	if (a == NULL || b == NULL)
		return false;
	if (a->mode != b->mode || a->max_age != b->max_age)
		return false;
	if ((a->mx_count != 0 && a->mx == NULL) ||
	    (b->mx_count != 0 && b->mx == NULL))
		return false;
	if (a->mx_count == 0 || b->mx_count == 0)
		return a->mx_count == b->mx_count;
	return same_set(a, b);
}

/* The length of s without one trailing CRLF, LF or CR. */
static size_t
line_len(const char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '\n')
		n--;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	return n;
}

/*
 * The size of the joined body, or SIZE_MAX when a string is NULL (not a
 * line of any body) or the size passes MTS_STS_POLICY_MAX (counted no
 * further: a sender would not read such a body, §3.3).
 */
static size_t
joined_size(const char *const *strings, size_t n)
{
	size_t i, len, total = 0;
	bool first = true;

	for (i = 0; i < n; i++) {
		if (strings[i] == NULL)
			return SIZE_MAX;
		if ((len = line_len(strings[i])) == 0)
			continue;
		total += len + (first ? 0 : 2);
		first = false;
		if (total > MTS_STS_POLICY_MAX)
			return SIZE_MAX;
	}
	return total;
}

/* Writes the joined body into buf, which holds joined_size() octets. */
static void
join(char *buf, const char *const *strings, size_t n)
{
	size_t i, len, off = 0;

	for (i = 0; i < n; i++) {
		if ((len = line_len(strings[i])) == 0)
			continue;
		if (off != 0) {
			memcpy(buf + off, "\r\n", 2);
			off += 2;
		}
		memcpy(buf + off, strings[i], len);
		off += len;
	}
}

/*
 * RFC 8460 §4.4: policy-string is "an encoding of the applied policy as
 * a JSON array of strings", one per line of the policy for sts.  Line
 * ends inside the strings are not specified, so one of each string is
 * dropped and CRLF (the "CRLF-separated" of RFC 8461 §3.2) put back.
 */
enum mts_rollout_shown
mts_rollout_policy_shown(const char *const *strings, size_t n,
                         const struct mts_sts_policy *policy)
{
	enum mts_rollout_shown shown = MTS_ROLLOUT_SHOWN_OTHER;
	struct mts_sts_policy seen;
	size_t size;
	char *body;

	if (n == 0)
		return MTS_ROLLOUT_SHOWN_NONE;
	if (strings == NULL || policy == NULL)
		return MTS_ROLLOUT_SHOWN_OTHER;
	if ((size = joined_size(strings, n)) == SIZE_MAX || size == 0)
		return MTS_ROLLOUT_SHOWN_OTHER;
	if ((body = malloc(size)) == NULL)
		return MTS_ROLLOUT_SHOWN_OTHER;
	join(body, strings, n);
	memset(&seen, 0, sizeof(seen));
	if (mts_sts_policy_parse(body, size, &seen, NULL, NULL) == 0) {
		if (mts_sts_policy_same(&seen, policy))
			shown = MTS_ROLLOUT_SHOWN_SAME;
		mts_sts_policy_reset(&seen);
	}
	free(body);
	return shown;
}

/* ---- ready to enforce? ---- */

/* Day numbers: floor(t / MTS_ROLLOUT_DAY), exact for every int64_t. */
static int64_t
day_of(int64_t t)
{
	int64_t d = t / MTS_ROLLOUT_DAY;

	return t % MTS_ROLLOUT_DAY < 0 ? d - 1 : d;
}

/*
 * 00:00 UTC of day number d, saturated at INT64_MAX: only the ready_on
 * of a `now` within a year of INT64_MAX gets there.  Never below
 * INT64_MIN, since the days converted are those of the input or after
 * today.
 */
static int64_t
day_start(int64_t d)
{
	if (d > INT64_MAX / MTS_ROLLOUT_DAY)
		return INT64_MAX;
	return d * MTS_ROLLOUT_DAY;
}

static int
day_cmp(const void *a, const void *b)
{
	const struct mts_rollout_day *x = a, *y = b;

	return x->day < y->day ? -1 : x->day > y->day;
}

/*
 * Sorts a copy of the days and checks them: each at 00:00 UTC (the
 * date-range start of a daily report, RFC 8460 §4.4, is a day's start;
 * a caller passing another time has mixed units), no day twice (the
 * caller sums a day's reports).  Returns the copy, which the caller
 * frees, or NULL with err set.
 */
static struct mts_rollout_day *
sorted_days(const struct mts_rollout_day *days, size_t n, struct mts_err *err)
{
	struct mts_rollout_day *v;
	size_t i;

	for (i = 0; i < n; i++)
		if (days[i].day % MTS_ROLLOUT_DAY != 0) {
			mts_err_set(err, MTS_ERR_ARG, 0, 0,
			            "a day is not at 00:00 UTC");
			return NULL;
		}
	if ((v = calloc(n != 0 ? n : 1, sizeof(*v))) == NULL) {
		mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
		return NULL;
	}
	if (n != 0)
		memcpy(v, days, n * sizeof(*v));
	qsort(v, n, sizeof(*v), day_cmp);
	for (i = 1; i < n; i++)
		if (v[i].day == v[i - 1].day) {
			free(v);
			mts_err_set(err, MTS_ERR_ARG, 0, 0,
			            "a day is given twice");
			return NULL;
		}
	return v;
}

/*
 * Finds the run in the sorted days: the newest day with reports that is
 * not after today, and the consecutive days before it.  A day without
 * reports (reports == 0, which the caller should not pass) breaks the
 * run like a missing one.  Returns false when there is no such day;
 * else [*first, *last] are indexes into v.
 */
static bool
find_run(const struct mts_rollout_day *v, size_t n, int64_t today,
         size_t *first, size_t *last)
{
	size_t i = n, j;

	/* Days after today are a skewed reporter's clock: ignored. */
	while (i > 0 && (day_of(v[i - 1].day) > today || v[i - 1].reports == 0))
		i--;
	if (i == 0)
		return false;
	j = --i;
	while (j > 0 && v[j - 1].reports != 0 &&
	       day_of(v[j - 1].day) == day_of(v[j].day) - 1)
		j--;
	*first = j;
	*last = i;
	return true;
}

/*
 * a + b, saturated: the counts come from reporters' JSON, and a sum
 * that wrapped to 0 failures would read as a clean window.
 */
static uint64_t
sum(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Fills the run and the window (its last min_days days) into *r. */
static void
judge_run(const struct mts_rollout_day *v, size_t first, size_t last,
          unsigned min_days, struct mts_rollout_readiness *r)
{
	size_t i, w;

	r->run_first = v[first].day;
	r->run_last = v[last].day;
	/* n days fit in size_t; a run longer than UINT_MAX days (past
	 * year 11 million) is counted as UINT_MAX. */
	r->run_days = last - first + 1 > UINT_MAX ?
	    UINT_MAX :
	    (unsigned)(last - first + 1);
	w = last - first + 1 > min_days ? last + 1 - min_days : first;
	r->window_first = v[w].day;
	r->window_last = v[last].day;
	for (i = w; i <= last; i++) {
		r->window_reports = sum(r->window_reports, v[i].reports);
		r->window_successful =
		    sum(r->window_successful, v[i].successful);
		r->window_failed = sum(r->window_failed, v[i].failed);
		if (v[i].failed != 0)
			r->last_failure_day = v[i].day;
	}
}

/*
 * The first reason that holds, in the order of the enum: the mode
 * first (enforce has nothing to promote; none means senders ignore the
 * policy, §5, so its reports say nothing of it), then the reports.
 * Sets ready_on: the day after the last day a clean run still needs,
 * as a day's reports arrive after it ends (RFC 8460 §4.4 daily reports).
 */
static void
judge_reason(enum mts_sts_mode mode, bool have_run, int64_t today,
             unsigned min_days, struct mts_rollout_readiness *r)
{
	r->ready_on = -1;
	if (mode == MTS_STS_MODE_ENFORCE)
		r->reason = MTS_ROLLOUT_ALREADY_ENFORCE;
	else if (mode == MTS_STS_MODE_NONE)
		r->reason = MTS_ROLLOUT_MODE_NONE;
	else if (!have_run ||
	         day_of(r->run_last) < today - MTS_ROLLOUT_LAG_DAYS) {
		r->reason =
		    have_run ? MTS_ROLLOUT_STALE : MTS_ROLLOUT_NO_REPORTS;
		r->ready_on = day_start(today + min_days);
	} else if (r->run_days < min_days) {
		r->reason = MTS_ROLLOUT_TOO_FEW_DAYS;
		r->ready_on = day_start(day_of(r->run_first) + min_days);
		/* Failures in a short run move the day too: the window
		   must end clean whatever its length. */
		if (r->window_failed != 0 &&
		    day_start(day_of(r->last_failure_day) + 1 + min_days) >
		        r->ready_on)
			r->ready_on = day_start(day_of(r->last_failure_day) +
			                        1 + min_days);
	} else if (r->window_failed != 0) {
		r->reason = MTS_ROLLOUT_FAILURES;
		r->ready_on =
		    day_start(day_of(r->last_failure_day) + 1 + min_days);
	} else
		r->reason = MTS_ROLLOUT_READY;
	r->ready = r->reason == MTS_ROLLOUT_READY;
}

int
mts_rollout_assess(enum mts_sts_mode mode, const struct mts_rollout_day *days,
                   size_t n, int64_t now, unsigned min_days,
                   struct mts_rollout_readiness *out, struct mts_err *err)
{
	struct mts_rollout_readiness r;
	struct mts_rollout_day *v;
	size_t first = 0, last = 0;
	bool have_run;

	if (out == NULL || (days == NULL && n != 0))
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "days is NULL");
	if ((unsigned)mode > MTS_STS_MODE_ENFORCE)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "unknown mode");
	if (min_days < 1 || min_days > MTS_ROLLOUT_MIN_DAYS_MAX)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "min_days is not 1 to 366");
	if ((v = sorted_days(days, n, err)) == NULL)
		return -1;
	memset(&r, 0, sizeof(r));
	r.run_first = r.run_last = -1;
	r.window_first = r.window_last = -1;
	r.last_failure_day = -1;
	if ((have_run = find_run(v, n, day_of(now), &first, &last)))
		judge_run(v, first, last, min_days, &r);
	judge_reason(mode, have_run, day_of(now), min_days, &r);
	free(v);
	*out = r;
	return 0;
}

const char *
mts_rollout_reason_name(enum mts_rollout_reason reason)
{
	switch (reason) {
	case MTS_ROLLOUT_READY:
		return "ready to enforce";
	case MTS_ROLLOUT_ALREADY_ENFORCE:
		return "already in mode enforce";
	case MTS_ROLLOUT_MODE_NONE:
		return "in mode none";
	case MTS_ROLLOUT_NO_REPORTS:
		return "no reports";
	case MTS_ROLLOUT_STALE:
		return "no recent reports";
	case MTS_ROLLOUT_TOO_FEW_DAYS:
		return "too few days of reports";
	case MTS_ROLLOUT_FAILURES:
		return "failed sessions";
	}
	return "unknown reason";
}

/* ---- changing the MX hosts ---- */

/* t + age, saturated at INT64_MAX. */
static int64_t
add_age(int64_t t, uint32_t age)
{
	return t > INT64_MAX - (int64_t)age ? INT64_MAX : t + (int64_t)age;
}

/*
 * §5.1: a sender keeps a policy for max_age seconds after its last
 * fetch; the latest fetch of a superseded policy is just before it was
 * superseded.  So the newest of every superseded + max_age bounds the
 * time during which an older policy may still be applied somewhere: a
 * long max_age of an earlier policy can outlast a short one of the
 * policy being replaced (why the old policy's max_age, not the new).
 */
int64_t
mts_rollout_cached_until(int64_t now, uint32_t current_max_age,
                         const struct mts_rollout_published *earlier, size_t n)
{
	int64_t until = add_age(now, current_max_age), t;
	size_t i;

	if (earlier == NULL)
		return until;
	for (i = 0; i < n; i++)
		if ((t = add_age(earlier[i].superseded, earlier[i].max_age)) >
		    until)
			until = t;
	return until;
}

/* How many of v[0..n) are `pattern`, as DNS names. */
static size_t
count_in(const char *pattern, const char *const *v, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (pattern_cmp(&pattern, &v[i]) == 0)
			c++;
	return c;
}

/* The refusal of a pattern to add, or NULL. */
static const char *
add_error(const struct mts_sts_policy *old, const char *const *add, size_t i)
{
	if (add[i] == NULL || mts_sts_match_pattern_check(add[i], NULL) == -1)
		return "a pattern to add is malformed";
	if (count_in(add[i], (const char *const *)old->mx, old->mx_count) != 0)
		return "a pattern to add is already listed";
	if (count_in(add[i], add, i) != 0)
		return "a pattern to add is given twice";
	return NULL;
}

/* The refusal of a pattern to remove, or NULL. */
static const char *
remove_error(const struct mts_sts_policy *old, const char *const *add,
             size_t add_count, const char *const *remove, size_t i)
{
	if (remove[i] == NULL ||
	    mts_sts_match_pattern_check(remove[i], NULL) == -1)
		return "a pattern to remove is malformed";
	/* Before "not listed": a listed pattern to add was refused already,
	 * so a pattern both added and removed is never listed. */
	if (count_in(remove[i], add, add_count) != 0)
		return "a pattern to remove is also added";
	if (count_in(remove[i], (const char *const *)old->mx, old->mx_count) ==
	    0)
		return "a pattern to remove is not listed";
	if (count_in(remove[i], remove, i) != 0)
		return "a pattern to remove is given twice";
	return NULL;
}

/* The number of patterns of the final policy: old less removed, plus added. */
static size_t
final_count(const struct mts_sts_policy *old, size_t add_count,
            const char *const *remove, size_t remove_count)
{
	size_t i, n = add_count;

	for (i = 0; i < old->mx_count; i++)
		if (count_in(old->mx[i], remove, remove_count) == 0)
			n++;
	return n;
}

/* Checks the change; the refusal's message, or NULL. */
static const char *
plan_error(const struct mts_sts_policy *old, const char *const *add,
           size_t add_count, const char *const *remove, size_t remove_count)
{
	const char *msg;
	size_t i, n;

	if (add_count == 0 && remove_count == 0)
		return "nothing is added or removed";
	for (i = 0; i < add_count; i++)
		if ((msg = add_error(old, add, i)) != NULL)
			return msg;
	for (i = 0; i < remove_count; i++)
		if ((msg = remove_error(old, add, add_count, remove, i)) !=
		    NULL)
			return msg;
	n = final_count(old, add_count, remove, remove_count);
	/* §3.2: mx is required unless the mode is none; a policy that
	 * lists no host would refuse every MX under enforce. */
	if (n == 0)
		return "the final policy would list no mx pattern";
	if (n > MTS_ROLLOUT_MX_MAX)
		return "the final policy would list too many mx patterns";
	return NULL;
}

/*
 * Appends a copy of pattern to p, whose mx array has room.  False when
 * out of memory.
 */
static bool
push(struct mts_sts_policy *p, const char *pattern)
{
	if ((p->mx[p->mx_count] = mts_strndup(pattern, strlen(pattern))) ==
	    NULL)
		return false;
	p->mx_count++;
	return true;
}

/*
 * Fills one policy of the plan: old's mode and max_age, old's patterns
 * but those in drop[0..drop_count), then the added ones, each copied.
 */
static bool
build(struct mts_sts_policy *p, const struct mts_sts_policy *old,
      const char *const *add, size_t add_count, const char *const *drop,
      size_t drop_count)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->mode = old->mode;
	p->max_age = old->max_age;
	if ((p->mx = calloc(old->mx_count + add_count, sizeof(*p->mx))) == NULL)
		return false;
	for (i = 0; i < old->mx_count; i++)
		if (count_in(old->mx[i], drop, drop_count) == 0 &&
		    !push(p, old->mx[i]))
			return false;
	for (i = 0; i < add_count; i++)
		if (!push(p, add[i]))
			return false;
	return true;
}

/*
 * §3.3, §5.1: a sender may hold the old policy until cutover_at, and
 * under enforce it refuses an MX host the policy does not list (§4.1,
 * §5).  So the transition lists old and new hosts while the DNS still
 * points at the old ones; only after cutover_at are the MX records
 * changed, and then the removed hosts dropped from the policy.
 */
int
mts_rollout_mx_plan(const struct mts_sts_policy *old, const char *const *add,
                    size_t add_count, const char *const *remove,
                    size_t remove_count, int64_t cutover_at,
                    struct mts_rollout_mx_plan *out, struct mts_err *err)
{
	struct mts_rollout_mx_plan plan;
	const char *msg;

	if (old == NULL || out == NULL ||
	    (old->mx_count != 0 && old->mx == NULL) ||
	    (add == NULL && add_count != 0) ||
	    (remove == NULL && remove_count != 0))
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "a NULL argument");
	if ((msg = plan_error(old, add, add_count, remove, remove_count)) !=
	    NULL)
		return mts_err_set(err, MTS_ERR_INVALID, 0, 0, msg);
	memset(&plan, 0, sizeof(plan));
	if (!build(&plan.transition, old, add, add_count, NULL, 0) ||
	    !build(&plan.final, old, add, add_count, remove, remove_count)) {
		mts_rollout_mx_plan_reset(&plan);
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	}
	plan.cutover_at = cutover_at;
	*out = plan;
	return 0;
}

void
mts_rollout_mx_plan_reset(struct mts_rollout_mx_plan *plan)
{
	if (plan == NULL)
		return;
	mts_sts_policy_reset(&plan->transition);
	mts_sts_policy_reset(&plan->final);
	plan->cutover_at = 0;
}

/*
 * §3.1: senders refetch the policy whenever the id changes, whatever
 * the new id is; a timestamp that grows keeps the ids in order for the
 * people reading them, even when the clock went back or two changes
 * fall within one second.
 */
int
mts_rollout_next_id(int64_t now, const char *previous, char *buf, size_t size,
                    struct mts_err *err)
{
	char id[MTS_STS_ID_TIMESTAMP_LEN + 1];
	int64_t t = now, prev;

	if (buf == NULL || size < sizeof(id))
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "buffer too small for a timestamp id");
	/* prev is at most 9999-12-31T23:59:59Z: prev + 1 does not
	 * overflow, and mts_sts_id_format() refuses it (MTS_ERR_ARG). */
	if (previous != NULL &&
	    mts_sts_id_parse_timestamp(previous, strlen(previous), &prev) &&
	    now <= prev)
		t = prev + 1;
	if (mts_sts_id_format(t, id, sizeof(id), err) == -1)
		return -1;
	memcpy(buf, id, sizeof(id));
	return 0;
}
