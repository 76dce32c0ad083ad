/* SPDX-License-Identifier: ISC */
/*
 * Tests of sts_rollout.c, the pure core of `mtasts rollout`
 * (include/mtasts/rollout.h): which TLS-RPT reports speak of a policy
 * (RFC 8460 §4.4 policy-string), when a testing policy may be promoted
 * to enforce (RFC 8461 §5), how long a sender may hold an older policy
 * (§3.3, §5.1), the MX change plan (§3.2, §4.1) and new ids (§3.1).
 *
 * Every time is passed in.  The tables are written as short strings so
 * that a row stays one row: dates as "YYYYMMDD" (00:00 UTC of the day)
 * or timestamp ids "YYYYMMDDTHHMMSSZ", turned into seconds with
 * mts_sts_id_parse_timestamp() (tested in test_sts_id); lists of
 * patterns separated by spaces, policy-strings by "|".  The expected
 * days were counted on a calendar (2024 is a leap year, 2023 is not).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/rollout.h>
#include <mtasts/sts.h>

#include "tap.h"

#define DAY MTS_ROLLOUT_DAY

#define T MTS_STS_MODE_TESTING
#define E MTS_STS_MODE_ENFORCE
#define N MTS_STS_MODE_NONE

/* A bug of the test itself: stop. */
static void
bad_table(const char *what, const char *s)
{
	fprintf(stderr, "bad %s in a table: %s\n", what, s);
	abort();
}

/*
 * Seconds of s[0..len): "YYYYMMDD" is 00:00 UTC of the day,
 * "YYYYMMDDTHHMMSSZ" a time of it.
 */
static int64_t
at_n(const char *s, size_t len)
{
	char id[MTS_STS_ID_TIMESTAMP_LEN + 1];
	int64_t t;

	if (len == 8) {
		snprintf(id, sizeof(id), "%.8sT000000Z", s);
		s = id;
		len = MTS_STS_ID_TIMESTAMP_LEN;
	}
	if (!mts_sts_id_parse_timestamp(s, len, &t))
		bad_table("date", s);
	return t;
}

static int64_t
at(const char *s)
{
	return at_n(s, strlen(s));
}

/*
 * Splits spec at each `sep` into *out (copies; free_strings()), and
 * returns their number.  An empty spec is no string at all.
 */
static size_t
split(const char *spec, char sep, char ***out)
{
	const char *p, *q;
	size_t n = 1, i = 0;
	char **v;

	for (p = spec; *p != '\0'; p++)
		n += *p == sep;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		abort();
	for (p = spec; *spec != '\0'; p = q + 1) {
		if ((q = strchr(p, sep)) == NULL)
			q = p + strlen(p);
		if ((v[i] = malloc((size_t)(q - p) + 1)) == NULL)
			abort();
		memcpy(v[i], p, (size_t)(q - p));
		v[i++][q - p] = '\0';
		if (*q == '\0')
			break;
	}
	*out = v;
	return i;
}

static void
free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * True when an out-parameter, filled from a sentinel with memcpy (its
 * padding too), was left alone: every octet compared.
 */
static bool
untouched(const void *out, const void *sentinel, size_t size)
{
	return memcmp(out, sentinel, size) == 0;
}

/* A policy with the patterns of `mx` (space-separated), as written. */
static void
make_policy(enum mts_sts_mode mode, uint32_t max_age, const char *mx,
            struct mts_sts_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	p->max_age = max_age;
	p->mx_count = split(mx, ' ', &p->mx);
}

/* ---- mts_sts_policy_same ---- */

static const struct same_case {
	const char *name;
	enum mts_sts_mode mode_a;
	uint32_t age_a;
	const char *mx_a;
	enum mts_sts_mode mode_b;
	uint32_t age_b;
	const char *mx_b;
	bool want;
} same_cases[] = {
    {"SAME T1: identical", T, 86400, "mx1.example.com *.example.net", T, 86400,
     "mx1.example.com *.example.net", true},
    {"SAME T2: case ignored", T, 86400, "mx1.example.com *.example.net", T,
     86400, "MX1.Example.COM *.EXAMPLE.net", true},
    {"SAME T3: a trailing dot ignored", T, 86400,
     "mx1.example.com *.example.net", T, 86400,
     "mx1.example.com. *.example.net.", true},
    {"SAME T4: order ignored", T, 86400, "a.example.com b.example.com c.ex.com",
     T, 86400, "c.ex.com a.example.com b.example.com", true},
    {"SAME T5: repetition ignored", T, 86400, "a.example.com b.example.com", T,
     86400, "b.example.com A.example.com. a.example.com b.EXAMPLE.com", true},
    {"SAME T6: mode differs", T, 86400, "mx1.example.com", E, 86400,
     "mx1.example.com", false},
    {"SAME T7: max_age differs", E, 604800, "mx1.example.com", E, 604801,
     "mx1.example.com", false},
    {"SAME T8: one pattern more", T, 86400, "a.example.com", T, 86400,
     "a.example.com b.example.com", false},
    {"SAME T9: as many patterns, not the same set", T, 86400,
     "a.example.com b.example.com", T, 86400, "a.example.com a.example.com",
     false},
    {"SAME T10: a wildcard is not the host it covers", T, 86400,
     "*.example.com", T, 86400, "mx.example.com", false},
    {"SAME T11: two trailing dots are not one", T, 86400, "mx.example.com", T,
     86400, "mx.example.com..", false},
    {"SAME T12: a prefix is not the name", T, 86400, "mx.example.co", T, 86400,
     "mx.example.com", false},
    {"SAME T13: mode none without mx, both", N, 86400, "", N, 86400, "", true},
    {"SAME T14: mode none, mx on one side only", N, 86400, "", N, 86400,
     "mx.example.com", false},
    {"SAME T15: sorted apart by case, equal by name", T, 86400,
     "B.example.com a.example.com _.example.com", T, 86400,
     "b.example.com A.example.com _.EXAMPLE.COM", true},
};

static void
test_same(void)
{
	struct mts_sts_policy a, b;
	size_t i;

	for (i = 0; i < sizeof(same_cases) / sizeof(same_cases[0]); i++) {
		const struct same_case *c = &same_cases[i];

		make_policy(c->mode_a, c->age_a, c->mx_a, &a);
		make_policy(c->mode_b, c->age_b, c->mx_b, &b);
		tap_ok(mts_sts_policy_same(&a, &b) == c->want &&
		           mts_sts_policy_same(&b, &a) == c->want,
		       "%s", c->name);
		mts_sts_policy_reset(&a);
		mts_sts_policy_reset(&b);
	}
	make_policy(T, 86400, "mx1.example.com", &a);
	tap_ok(!mts_sts_policy_same(&a, NULL) && !mts_sts_policy_same(NULL, &a),
	       "SAME T20: NULL is no policy");
	tap_ok(mts_sts_policy_same(&a, &a), "SAME T21: a policy is itself");
	mts_sts_policy_reset(&a);
}

/* ---- mts_rollout_policy_shown ---- */

/* The policy the shown cases compare with. */
#define SHOWN_MX "mx1.example.com *.example.net"

#define SAME  MTS_ROLLOUT_SHOWN_SAME
#define OTHER MTS_ROLLOUT_SHOWN_OTHER

static const struct shown_case {
	const char *name;
	const char *strings; /* separated by "|" */
	enum mts_rollout_shown want;
} shown_cases[] = {
    {"SHOWN T1: one string a line, no line ends",
     "version: STSv1|mode: testing|mx: mx1.example.com|mx: *.example.net|"
     "max_age: 86400",
     SAME},
    {"SHOWN T2: one string a line, CRLF ends",
     "version: STSv1\r\n|mode: testing\r\n|mx: mx1.example.com\r\n|"
     "mx: *.example.net\r\n|max_age: 86400\r\n",
     SAME},
    {"SHOWN T3: one string a line, LF ends",
     "version: STSv1\n|mode: testing\n|mx: mx1.example.com\n|"
     "mx: *.example.net\n|max_age: 86400\n",
     SAME},
    {"SHOWN T4: one string a line, bare CR ends",
     "version: STSv1\r|mode: testing\r|mx: mx1.example.com\r|"
     "mx: *.example.net\r|max_age: 86400\r",
     SAME},
    {"SHOWN T5: the whole body in one string, CRLF",
     "version: STSv1\r\nmode: testing\r\nmx: mx1.example.com\r\n"
     "mx: *.example.net\r\nmax_age: 86400\r\n",
     SAME},
    {"SHOWN T6: the whole body in one string, LF, no last line end",
     "version: STSv1\nmode: testing\nmx: mx1.example.com\n"
     "mx: *.example.net\nmax_age: 86400",
     SAME},
    {"SHOWN T7: the body cut in two strings",
     "version: STSv1\nmode: testing\n|"
     "mx: mx1.example.com\nmx: *.example.net\nmax_age: 86400\n",
     SAME},
    {"SHOWN T8: empty strings and line ends alone are skipped",
     "|version: STSv1|\r\n|mode: testing||\n|mx: mx1.example.com|"
     "mx: *.example.net|max_age: 86400|",
     SAME},
    {"SHOWN T9: mx in another order and case, repeated",
     "version: STSv1|mode: testing|mx: *.EXAMPLE.net|mx: MX1.example.com|"
     "mx: mx1.example.com|max_age: 86400",
     SAME},
    {"SHOWN T10: an extension is not compared",
     "version: STSv1|mode: testing|mx: mx1.example.com|mx: *.example.net|"
     "max_age: 86400|x-note: hello",
     SAME},
    {"SHOWN T11: mode enforce is another policy",
     "version: STSv1|mode: enforce|mx: mx1.example.com|mx: *.example.net|"
     "max_age: 86400",
     OTHER},
    {"SHOWN T12: another max_age is another policy",
     "version: STSv1|mode: testing|mx: mx1.example.com|mx: *.example.net|"
     "max_age: 604800",
     OTHER},
    {"SHOWN T13: another mx is another policy",
     "version: STSv1|mode: testing|mx: mx2.example.com|mx: *.example.net|"
     "max_age: 86400",
     OTHER},
    {"SHOWN T14: one mx missing is another policy",
     "version: STSv1|mode: testing|mx: mx1.example.com|max_age: 86400", OTHER},
    {"SHOWN T15: one mx more is another policy",
     "version: STSv1|mode: testing|mx: mx1.example.com|mx: *.example.net|"
     "mx: mx3.example.org|max_age: 86400",
     OTHER},
    {"SHOWN T16: max_age missing: does not parse",
     "version: STSv1|mode: testing|mx: mx1.example.com|mx: *.example.net",
     OTHER},
    {"SHOWN T17: not a policy at all", "{\"hello\": 1}", OTHER},
    {"SHOWN T18: one line end a string is dropped, not two: a blank line",
     "version: STSv1\r\n\r\n|mode: testing|mx: mx1.example.com|"
     "mx: *.example.net|max_age: 86400",
     OTHER},
    {"SHOWN T19: the strings are joined with CRLF, not concatenated",
     "version: STSv1|mode: testing|mx: mx1.example.com|mx: *.example.net|"
     "max_age: 86|400",
     OTHER},
    {"SHOWN T20: only empty strings", "|\r\n|\n", OTHER},
};

/*
 * A body of exactly `size` octets in strings without line ends: the
 * five lines of the policy, then repeated mx lines of one of its
 * patterns (a duplicate is a warning, not an error), then an extension
 * line (not compared) of the length that makes the joined size (CRLF
 * between strings) exact.  Returns the number of strings.
 */
static size_t
big_body(size_t size, char ***out)
{
	const char *line = "mx: *.example.net";
	size_t n, cap = size / 10 + 16, total = 0, i, len, pad;
	char **head, **v;

	n = split("version: STSv1|mode: testing|mx: mx1.example.com|"
	          "mx: *.example.net|max_age: 86400",
	          '|', &head);
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		v[i] = head[i];
		total += strlen(v[i]) + (i != 0 ? 2 : 0);
	}
	free(head);
	/* Whole mx lines while a last line of 20 octets still fits. */
	while (total + 2 + strlen(line) + 2 + 20 <= size) {
		if ((v[n++] = strdup(line)) == NULL)
			abort();
		total += 2 + strlen(line);
	}
	len = size - total - 2;
	pad = len - strlen("x-pad: ");
	if ((v[n] = malloc(len + 1)) == NULL)
		abort();
	memcpy(v[n], "x-pad: ", 7);
	memset(v[n] + 7, 'x', pad);
	v[n][len] = '\0';
	*out = v;
	return n + 1;
}

static void
test_shown_size(const struct mts_sts_policy *p)
{
	size_t n, i, total;
	char **v;

	n = big_body(MTS_STS_POLICY_MAX, &v);
	for (i = 0, total = 0; i < n; i++)
		total += strlen(v[i]) + (i != 0 ? 2 : 0);
	tap_ok(total == MTS_STS_POLICY_MAX &&
	           mts_rollout_policy_shown((const char *const *)v, n, p) ==
	               SAME,
	       "SHOWN T30: a body of exactly 64 KiB is read (%zu octets)",
	       total);
	free_strings(v, n);
	n = big_body(MTS_STS_POLICY_MAX + 1, &v);
	tap_ok(mts_rollout_policy_shown((const char *const *)v, n, p) == OTHER,
	       "SHOWN T31: one octet over 64 KiB is OTHER");
	free_strings(v, n);
}

static void
test_shown(void)
{
	const char *with_null[] = {"version: STSv1", NULL, "mode: testing"};
	struct mts_sts_policy p;
	enum mts_rollout_shown got;
	size_t i, n;
	char **v;

	make_policy(T, 86400, SHOWN_MX, &p);
	for (i = 0; i < sizeof(shown_cases) / sizeof(shown_cases[0]); i++) {
		const struct shown_case *c = &shown_cases[i];

		n = split(c->strings, '|', &v);
		got = mts_rollout_policy_shown((const char *const *)v, n, &p);
		tap_ok(got == c->want, "%s (got %d)", c->name, (int)got);
		free_strings(v, n);
	}
	n = split("version: STSv1", '|', &v);
	tap_ok(mts_rollout_policy_shown((const char *const *)v, 0, &p) ==
	           MTS_ROLLOUT_SHOWN_NONE,
	       "SHOWN T21: n == 0: no policy-string, NONE");
	free_strings(v, n);
	tap_ok(mts_rollout_policy_shown(NULL, 0, &p) == MTS_ROLLOUT_SHOWN_NONE,
	       "SHOWN T22: NULL strings, n == 0: NONE");
	tap_ok(mts_rollout_policy_shown(NULL, 2, &p) == OTHER,
	       "SHOWN T23: NULL strings, n == 2: OTHER");
	tap_ok(mts_rollout_policy_shown(with_null, 3, &p) == OTHER,
	       "SHOWN T24: a NULL string: OTHER");
	test_shown_size(&p);
	mts_sts_policy_reset(&p);
}

/* ---- mts_rollout_assess ---- */

/*
 * A case: the days as "FIRST[-LAST]:REPORTS/SUCCESSFUL/FAILED ...", each
 * item one day or a stretch of days with the same counts; the result
 * as "REASON RUN_FIRST..RUN_LAST/RUN_DAYS WINDOW_FIRST..WINDOW_LAST
 * REPORTS/SUCCESSFUL/FAILED LAST_FAILURE READY_ON", "-" for -1, or
 * "error" for -1 with MTS_ERR_ARG.  The reasons are named as the JSON
 * of `mtasts rollout status` names them.
 */
struct assess_case {
	const char *name;
	enum mts_sts_mode mode;
	const char *days;
	bool shuffle; /* pass the days out of order */
	const char *now;
	unsigned min_days;
	const char *want;
};

/* Noon of 2024-03-15: today is 2024-03-15; 2024-02-29 exists. */
#define NOW "20240315T120000Z"

static const struct assess_case assess_cases[] = {
    /* The mode comes first. */
    {"ASSESS T1: enforce: nothing to promote, the run still told", E,
     "20240301-20240314:2/100/0", false, NOW, 14,
     "already-enforce 20240301..20240314/14 20240301..20240314 28/1400/0 - "
     "-"},
    {"ASSESS T2: mode none", N, "20240301-20240314:2/100/0", false, NOW, 14,
     "mode-none 20240301..20240314/14 20240301..20240314 28/1400/0 - -"},
    {"ASSESS T3: enforce without reports", E, "", false, NOW, 14,
     "already-enforce -..-/0 -..- 0/0/0 - -"},
    /* No reports. */
    {"ASSESS T4: no days", T, "", false, NOW, 14,
     "no-reports -..-/0 -..- 0/0/0 - 20240329"},
    {"ASSESS T5: days after today only are ignored", T,
     "20240316-20240320:1/10/0", false, NOW, 14,
     "no-reports -..-/0 -..- 0/0/0 - 20240329"},
    {"ASSESS T6: no reports, min_days 1: ready tomorrow", T, "", false, NOW, 1,
     "no-reports -..-/0 -..- 0/0/0 - 20240316"},
    /* How recent the newest day is. */
    {"ASSESS T7: newest day today", T, "20240302-20240315:1/10/0", false, NOW,
     14, "ready 20240302..20240315/14 20240302..20240315 14/140/0 - -"},
    {"ASSESS T8: newest day today-1", T, "20240301-20240314:1/10/0", false, NOW,
     14, "ready 20240301..20240314/14 20240301..20240314 14/140/0 - -"},
    {"ASSESS T9: newest day today-2, the run over 2024-02-29", T,
     "20240229-20240313:1/10/0", false, NOW, 14,
     "ready 20240229..20240313/14 20240229..20240313 14/140/0 - -"},
    {"ASSESS T10: newest day today-3: stale", T, "20240228-20240312:1/10/0",
     false, NOW, 14,
     "stale 20240228..20240312/14 20240228..20240312 14/140/0 - 20240329"},
    {"ASSESS T11: stale comes before failures", T, "20240201-20240312:1/10/5",
     false, NOW, 14,
     "stale 20240201..20240312/41 20240228..20240312 14/140/70 20240312 "
     "20240329"},
    {"ASSESS T12: a day after today does not hide staleness", T,
     "20240228-20240312:1/10/0 20240316:1/10/0", false, NOW, 14,
     "stale 20240228..20240312/14 20240228..20240312 14/140/0 - 20240329"},
    /* The length of the run. */
    {"ASSESS T13: 13 days: too few", T, "20240302-20240314:1/10/0", false, NOW,
     14,
     "too-few-days 20240302..20240314/13 20240302..20240314 13/130/0 - "
     "20240316"},
    {"ASSESS T14: too few comes before failures", T, "20240305-20240314:1/10/1",
     false, NOW, 14,
     "too-few-days 20240305..20240314/10 20240305..20240314 10/100/10 "
     "20240314 20240329"},
    {"ASSESS T14b: too few, failures early in the run: the later day", T,
     "20240305-20240306:1/10/1 20240307-20240314:1/10/0", false, NOW, 14,
     "too-few-days 20240305..20240314/10 20240305..20240314 10/100/2 "
     "20240306 20240321"},
    {"ASSESS T14c: too few, failures on the first day: a day after run_first + 14",
     T, "20240305:1/10/1 20240306-20240314:1/10/0", false, NOW, 14,
     "too-few-days 20240305..20240314/10 20240305..20240314 10/100/1 "
     "20240305 20240320"},
    {"ASSESS T15: a gap ends the run", T,
     "20240201-20240305:3/30/0 20240307-20240314:1/10/0", false, NOW, 14,
     "too-few-days 20240307..20240314/8 20240307..20240314 8/80/0 - "
     "20240321"},
    {"ASSESS T16: the run after a gap is long enough", T,
     "20240201-20240228:3/30/9 20240301-20240314:1/10/0", false, NOW, 14,
     "ready 20240301..20240314/14 20240301..20240314 14/140/0 - -"},
    {"ASSESS T17: a day with 0 reports breaks the run", T,
     "20240225-20240307:1/10/0 20240308:0/0/0 20240309-20240314:1/10/0", false,
     NOW, 14,
     "too-few-days 20240309..20240314/6 20240309..20240314 6/60/0 - "
     "20240323"},
    /* Failures. */
    {"ASSESS T18: a failure inside the window", T,
     "20240224-20240309:2/50/0 20240310:2/40/3 20240311-20240314:2/50/0", false,
     NOW, 14,
     "failures 20240224..20240314/20 20240301..20240314 28/690/3 20240310 "
     "20240325"},
    {"ASSESS T19: a failure before the window does not count", T,
     "20240224-20240228:2/50/0 20240229:2/40/3 20240301-20240314:2/50/0", false,
     NOW, 14, "ready 20240224..20240314/20 20240301..20240314 28/700/0 - -"},
    {"ASSESS T20: failures on the window's first and last days", T,
     "20240301:1/10/1 20240302-20240313:1/10/0 20240314:1/10/2", false, NOW, 14,
     "failures 20240301..20240314/14 20240301..20240314 14/140/3 20240314 "
     "20240329"},
    {"ASSESS T21: a failure after today does not count", T,
     "20240301-20240314:1/10/0 20240316:1/10/7", false, NOW, 14,
     "ready 20240301..20240314/14 20240301..20240314 14/140/0 - -"},
    /* min_days at its ends. */
    {"ASSESS T22: min_days 1, one clean day", T, "20240314:1/10/0", false, NOW,
     1, "ready 20240314..20240314/1 20240314..20240314 1/10/0 - -"},
    {"ASSESS T23: min_days 1, a failure the day before is outside", T,
     "20240313:1/10/4 20240314:1/10/0", false, NOW, 1,
     "ready 20240313..20240314/2 20240314..20240314 1/10/0 - -"},
    {"ASSESS T24: min_days 1, a failure on the one day", T,
     "20240313:1/10/0 20240314:1/10/4", false, NOW, 1,
     "failures 20240313..20240314/2 20240314..20240314 1/10/4 20240314 "
     "20240316"},
    {"ASSESS T25: min_days 366 over a leap year's 366 days", T,
     "20230315-20240314:1/1/0", false, NOW, MTS_ROLLOUT_MIN_DAYS_MAX,
     "ready 20230315..20240314/366 20230315..20240314 366/366/0 - -"},
    {"ASSESS T26: min_days 366, 365 days", T, "20230316-20240314:1/1/0", false,
     NOW, MTS_ROLLOUT_MIN_DAYS_MAX,
     "too-few-days 20230316..20240314/365 20230316..20240314 365/365/0 - "
     "20240316"},
    {"ASSESS T27: min_days 0", T, "", false, NOW, 0, "error"},
    {"ASSESS T28: min_days 367", T, "", false, NOW,
     MTS_ROLLOUT_MIN_DAYS_MAX + 1, "error"},
    {"ASSESS T29: min_days 0, enforce", E, "", false, NOW, 0, "error"},
    /* The input. */
    {"ASSESS T30: days out of order", T,
     "20240224-20240309:2/50/0 20240310:2/40/3 20240311-20240314:2/50/0 "
     "20240316:1/1/1",
     true, NOW, 14,
     "failures 20240224..20240314/20 20240301..20240314 28/690/3 20240310 "
     "20240325"},
    {"ASSESS T31: a gap, out of order", T,
     "20240201-20240305:3/30/0 20240307-20240314:1/10/0", true, NOW, 14,
     "too-few-days 20240307..20240314/8 20240307..20240314 8/80/0 - "
     "20240321"},
    {"ASSESS T32: a day twice", T, "20240301-20240314:1/10/0 20240307:1/10/0",
     false, NOW, 14, "error"},
    {"ASSESS T33: a day twice after today", T,
     "20240316:1/10/0 20240316:1/10/0", false, NOW, 14, "error"},
    {"ASSESS T34: a day twice, enforce too", E,
     "20240301-20240314:1/10/0 20240301:1/10/0", true, NOW, 14, "error"},
    {"ASSESS T35: a day at 12:00", T, "20240314T120000Z:1/10/0", false, NOW, 14,
     "error"},
    {"ASSESS T36: a day at 00:00:01, enforce too", E,
     "20240301-20240313:1/10/0 20240314T000001Z:1/10/0", false, NOW, 14,
     "error"},
    {"ASSESS T37: a day before 1970 not at 00:00", T, "19691231T010000Z:1/10/0",
     false, NOW, 14, "error"},
    /* The calendar. */
    {"ASSESS T38: over a year's end, 13 days", T, "20231220-20240101:1/10/0",
     false, "20240102T080000Z", 14,
     "too-few-days 20231220..20240101/13 20231220..20240101 13/130/0 - "
     "20240103"},
    {"ASSESS T39: over a year's end, 14 days", T, "20231219-20240101:1/10/0",
     false, "20240102T080000Z", 14,
     "ready 20231219..20240101/14 20231219..20240101 14/140/0 - -"},
    {"ASSESS T40: now at 00:00 exactly is that day", T,
     "20240216-20240229:1/10/0", false, "20240301T000000Z", 14,
     "ready 20240216..20240229/14 20240216..20240229 14/140/0 - -"},
    {"ASSESS T41: one second before 00:00 of the day it would be stale", T,
     "20240216-20240229:1/10/0", false, "20240302T235959Z", 14,
     "ready 20240216..20240229/14 20240216..20240229 14/140/0 - -"},
    {"ASSESS T42: one second later it is stale", T, "20240216-20240229:1/10/0",
     false, "20240303T000000Z", 14,
     "stale 20240216..20240229/14 20240216..20240229 14/140/0 - 20240317"},
    {"ASSESS T43: ready_on over 2024-02-29", T, "20240220-20240229:1/10/0",
     false, "20240301T060000Z", 14,
     "too-few-days 20240220..20240229/10 20240220..20240229 10/100/0 - "
     "20240305"},
    {"ASSESS T44: ready_on over 2023-02-28 (no leap day)", T,
     "20230220-20230228:1/10/0", false, "20230301T060000Z", 14,
     "too-few-days 20230220..20230228/9 20230220..20230228 9/90/0 - "
     "20230306"},
    {"ASSESS T45: stale, ready_on over 2024-02-29", T,
     "20240201-20240224:1/10/0", false, "20240227T120000Z", 14,
     "stale 20240201..20240224/24 20240211..20240224 14/140/0 - 20240312"},
    {"ASSESS T46: failures, ready_on over a year's end", T,
     "20231201-20231225:1/10/0 20231226:1/10/1 20231227-20231231:1/10/0", false,
     "20240101T100000Z", 14,
     "failures 20231201..20231231/31 20231218..20231231 14/140/1 20231226 "
     "20240110"},
    {"ASSESS T47: days before 1970", T, "19691218-19691231:1/10/0", false,
     "19700101T060000Z", 14,
     "ready 19691218..19691231/14 19691218..19691231 14/140/0 - -"},
    {"ASSESS T48: before 1970, now too", T, "19691201-19691210:1/10/0", false,
     "19691211T230000Z", 14,
     "too-few-days 19691201..19691210/10 19691201..19691210 10/100/0 - "
     "19691215"},
    {"ASSESS T49: before 1970, today is the day of now, not the next", T, "",
     false, "19691211T230000Z", 14, "no-reports -..-/0 -..- 0/0/0 - 19691225"},
    {"ASSESS T50: before 1970, the newest day today-2", T,
     "19691126-19691209:1/10/0", false, "19691211T230000Z", 14,
     "ready 19691126..19691209/14 19691126..19691209 14/140/0 - -"},
};

/* Parses one item "FIRST[-LAST]:R/S/F" of a days spec into v at *k. */
static void
add_days(const char *item, struct mts_rollout_day *v, size_t cap, size_t *k)
{
	const char *colon = strchr(item, ':'), *dash;
	uint64_t r, s, f;
	int64_t d, last;
	char *end;

	if (colon == NULL)
		bad_table("days", item);
	r = strtoull(colon + 1, &end, 10);
	s = *end == '/' ? strtoull(end + 1, &end, 10) : 0;
	f = *end == '/' ? strtoull(end + 1, &end, 10) : 0;
	if (*end != '\0')
		bad_table("days", item);
	dash = memchr(item, '-', (size_t)(colon - item));
	d = at_n(item, (size_t)((dash != NULL ? dash : colon) - item));
	last = dash != NULL ? at_n(dash + 1, (size_t)(colon - dash - 1)) : d;
	for (; d <= last; d += DAY) {
		if (*k == cap)
			bad_table("days (too many)", item);
		v[*k].day = d;
		v[*k].reports = r;
		v[*k].successful = s;
		v[*k].failed = f;
		(*k)++;
	}
}

/* Reversed, then neighbours swapped: no order left. */
static void
shuffle(struct mts_rollout_day *v, size_t n)
{
	struct mts_rollout_day tmp;
	size_t i, j;

	for (i = 0, j = n; i + 1 < j; i++, j--) {
		tmp = v[i];
		v[i] = v[j - 1];
		v[j - 1] = tmp;
	}
	for (i = 0; i + 1 < n; i += 2) {
		tmp = v[i];
		v[i] = v[i + 1];
		v[i + 1] = tmp;
	}
}

#define DAYS_CAP 800

/* The days of a case; *n set.  Free the result. */
static struct mts_rollout_day *
make_days(const struct assess_case *c, size_t *n)
{
	struct mts_rollout_day *v;
	size_t k = 0, m, i;
	char **items;

	if ((v = calloc(DAYS_CAP, sizeof(*v))) == NULL)
		abort();
	m = split(c->days, ' ', &items);
	for (i = 0; i < m; i++)
		add_days(items[i], v, DAYS_CAP, &k);
	free_strings(items, m);
	if (c->shuffle)
		shuffle(v, k);
	*n = k;
	return v;
}

/* A day of the result as the tables write it. */
static const char *
day_text(char *buf, size_t size, int64_t t)
{
	char id[MTS_STS_ID_TIMESTAMP_LEN + 1];

	if (t == -1)
		snprintf(buf, size, "-");
	else if (mts_sts_id_format(t, id, sizeof(id), NULL) == -1)
		snprintf(buf, size, "@%" PRId64, t);
	else if (t % DAY == 0)
		snprintf(buf, size, "%.8s", id);
	else
		snprintf(buf, size, "%s", id);
	return buf;
}

static const char *
reason_key(enum mts_rollout_reason r)
{
	static const char *const keys[] = {
	    [MTS_ROLLOUT_READY] = "ready",
	    [MTS_ROLLOUT_ALREADY_ENFORCE] = "already-enforce",
	    [MTS_ROLLOUT_MODE_NONE] = "mode-none",
	    [MTS_ROLLOUT_NO_REPORTS] = "no-reports",
	    [MTS_ROLLOUT_STALE] = "stale",
	    [MTS_ROLLOUT_TOO_FEW_DAYS] = "too-few-days",
	    [MTS_ROLLOUT_FAILURES] = "failures",
	};

	if ((unsigned)r >= sizeof(keys) / sizeof(keys[0]))
		return "?";
	return keys[r];
}

/* The readiness as the tables write it. */
static void
readiness_text(char *buf, size_t size, const struct mts_rollout_readiness *r)
{
	char d[6][32];

	snprintf(buf, size,
	         "%s %s..%s/%u %s..%s %" PRIu64 "/%" PRIu64 "/%" PRIu64
	         " %s %s",
	         reason_key(r->reason),
	         day_text(d[0], sizeof(d[0]), r->run_first),
	         day_text(d[1], sizeof(d[1]), r->run_last), r->run_days,
	         day_text(d[2], sizeof(d[2]), r->window_first),
	         day_text(d[3], sizeof(d[3]), r->window_last),
	         r->window_reports, r->window_successful, r->window_failed,
	         day_text(d[4], sizeof(d[4]), r->last_failure_day),
	         day_text(d[5], sizeof(d[5]), r->ready_on));
}

static void
test_assess_case(const struct assess_case *c)
{
	struct mts_rollout_readiness r, sentinel;
	struct mts_rollout_day *days;
	struct mts_err err;
	char got[300];
	size_t n;
	int rc;

	memset(&sentinel, 0x5A, sizeof(sentinel));
	memcpy(&r, &sentinel, sizeof(r)); /* padding too */
	memset(&err, 0, sizeof(err));
	days = make_days(c, &n);
	rc = mts_rollout_assess(c->mode, days, n, at(c->now), c->min_days, &r,
	                        &err);
	free(days);
	if (rc == -1) {
		snprintf(got, sizeof(got), "%s",
		         err.code == MTS_ERR_ARG && err.msg != NULL &&
		                 untouched(&r, &sentinel, sizeof(r)) ?
		             "error" :
		             "error, but not MTS_ERR_ARG with out untouched");
	} else {
		readiness_text(got, sizeof(got), &r);
		if (r.ready != (r.reason == MTS_ROLLOUT_READY))
			snprintf(got, sizeof(got), "ready is not reason READY");
	}
	if (!tap_ok(strcmp(got, c->want) == 0, "%s", c->name)) {
		tap_diag("want %s", c->want);
		tap_diag("got  %s", got);
	}
}

static void
test_assess_edges(void)
{
	struct mts_rollout_readiness r, sentinel;
	struct mts_rollout_day d[2];
	struct mts_err err;
	int rc;

	memset(&sentinel, 0x5A, sizeof(sentinel));
	memset(d, 0, sizeof(d));
	memcpy(&r, &sentinel, sizeof(r)); /* padding too */
	rc = mts_rollout_assess(T, NULL, 1, at(NOW), 14, &r, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_ARG &&
	           untouched(&r, &sentinel, sizeof(r)),
	       "ASSESS T60: NULL days with n > 0");
	rc = mts_rollout_assess(T, NULL, 0, at(NOW), 14, &r, &err);
	tap_ok(rc == 0 && r.reason == MTS_ROLLOUT_NO_REPORTS,
	       "ASSESS T61: NULL days with n == 0: no reports");

	/* A sum that wrapped would read as 0 failures: saturated. */
	d[0].day = at("20240314");
	d[0].reports = 1;
	d[0].failed = UINT64_MAX / 2 + 1;
	d[1] = d[0];
	d[1].day = at("20240313");
	rc = mts_rollout_assess(T, d, 2, at(NOW), 2, &r, &err);
	tap_ok(rc == 0 && r.reason == MTS_ROLLOUT_FAILURES &&
	           r.window_failed == UINT64_MAX,
	       "ASSESS T62: failed counts saturate, never wrap to 0");

	/* The ends of time: ready_on saturates, nothing overflows. */
	rc = mts_rollout_assess(T, NULL, 0, INT64_MAX, 14, &r, &err);
	tap_ok(rc == 0 && r.reason == MTS_ROLLOUT_NO_REPORTS &&
	           r.ready_on == INT64_MAX,
	       "ASSESS T63: now INT64_MAX: ready_on saturates");
	rc = mts_rollout_assess(T, NULL, 0, INT64_MIN, 14, &r, &err);
	tap_ok(rc == 0 && r.reason == MTS_ROLLOUT_NO_REPORTS &&
	           r.ready_on > INT64_MIN && r.ready_on % DAY == 0,
	       "ASSESS T64: now INT64_MIN: no overflow");
	d[0].day = INT64_MAX - INT64_MAX % DAY;
	d[0].failed = 0;
	rc = mts_rollout_assess(T, d, 1, INT64_MAX, 14, &r, &err);
	tap_ok(rc == 0 && r.reason == MTS_ROLLOUT_TOO_FEW_DAYS &&
	           r.run_days == 1 && r.ready_on == INT64_MAX,
	       "ASSESS T65: the last day of time");
	d[0].day = INT64_MIN - INT64_MIN % DAY; /* the % is negative */
	rc = mts_rollout_assess(T, d, 1, d[0].day, 14, &r, &err);
	tap_ok(rc == 0 && r.reason == MTS_ROLLOUT_TOO_FEW_DAYS &&
	           r.run_first == d[0].day && r.ready_on == d[0].day + 14 * DAY,
	       "ASSESS T66: the first day of time");
	rc = mts_rollout_assess((enum mts_sts_mode)7, NULL, 0, 0, 14, &r, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_ARG, "ASSESS T67: unknown mode");
}

static void
test_assess(void)
{
	size_t i;

	for (i = 0; i < sizeof(assess_cases) / sizeof(assess_cases[0]); i++)
		test_assess_case(&assess_cases[i]);
	test_assess_edges();
}

static void
test_reason_names(void)
{
	const char *names[MTS_ROLLOUT_FAILURES + 1];
	unsigned i, j;
	bool ok = true;

	for (i = 0; i <= MTS_ROLLOUT_FAILURES; i++) {
		names[i] = mts_rollout_reason_name((enum mts_rollout_reason)i);
		if (names[i] == NULL || names[i][0] == '\0')
			ok = false;
		for (j = 0; ok && j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				ok = false;
	}
	tap_ok(ok, "REASON T1: every reason has its own phrase");
	tap_ok(tap_streq(mts_rollout_reason_name(MTS_ROLLOUT_READY),
	                 "ready to enforce"),
	       "REASON T2: READY is \"ready to enforce\"");
	tap_ok(mts_rollout_reason_name((enum mts_rollout_reason)99) != NULL,
	       "REASON T3: an unknown reason has a phrase");
}

/* ---- mts_rollout_cached_until ---- */

static const struct cached_case {
	const char *name;
	int64_t now;
	uint32_t max_age;
	const char *earlier; /* "SUPERSEDED+MAX_AGE ..." */
	int64_t want;
} cached_cases[] = {
    {"CACHED T1: no earlier policy", 1000000, 604800, "", 1604800},
    {"CACHED T2: earlier policies that ended before", 1000000, 604800,
     "900000+86400 990000+604800", 1604800},
    {"CACHED T3: an earlier policy with a longer max_age outlasts", 1000000,
     86400, "500000+86400 900000+31557600", 32457600},
    {"CACHED T4: the latest of several, in any order", 1000000, 3600,
     "950000+604800 960000+604800 100+604800", 1564800},
    {"CACHED T5: now + max_age saturates", INT64_MAX - 10, 100, "", INT64_MAX},
    {"CACHED T6: an earlier policy's end saturates", 0, 100,
     "9223372036854775806+31557600", INT64_MAX},
    {"CACHED T7: before 1970", -1000000, 86400, "-2000000+604800", -913600},
    {"CACHED T8: max_age 0", 5000, 0, "4000+500", 5000},
    {"CACHED T9: a max_age of UINT32_MAX stays positive", 0, UINT32_MAX, "",
     4294967295LL},
};

static void
test_cached(void)
{
	struct mts_rollout_published e[8];
	size_t i, j, n;
	int64_t got;
	char **v, *end;

	for (i = 0; i < sizeof(cached_cases) / sizeof(cached_cases[0]); i++) {
		const struct cached_case *c = &cached_cases[i];

		n = split(c->earlier, ' ', &v);
		for (j = 0; j < n; j++) {
			if (j == 8)
				bad_table("earlier (too many)", v[j]);
			e[j].superseded = strtoll(v[j], &end, 10);
			if (*end != '+')
				bad_table("earlier", v[j]);
			e[j].max_age = (uint32_t)strtoul(end + 1, &end, 10);
			if (*end != '\0')
				bad_table("earlier", v[j]);
		}
		free_strings(v, n);
		got = mts_rollout_cached_until(c->now, c->max_age, e, n);
		tap_ok(got == c->want, "%s (got %" PRId64 ")", c->name, got);
	}
	tap_ok(mts_rollout_cached_until(100, 50, NULL, 3) == 150,
	       "CACHED T10: NULL earlier is none");
}

/* ---- mts_rollout_mx_plan ---- */

/* The old policy of the plan cases: mode, max_age and patterns kept. */
static const struct plan_case {
	const char *name;
	enum mts_sts_mode mode;
	const char *old, *add, *remove; /* patterns, space-separated */
	const char *want; /* "TRANSITION / FINAL", or the refusal */
} plan_cases[] = {
    {"PLAN T1: add one", E, "mx1.example.com *.example.net", "mx2.example.org",
     "",
     "mx1.example.com *.example.net mx2.example.org / mx1.example.com "
     "*.example.net mx2.example.org"},
    {"PLAN T2: replace one", E, "mx1.example.com *.example.net",
     "mx2.example.org", "mx1.example.com",
     "mx1.example.com *.example.net mx2.example.org / *.example.net "
     "mx2.example.org"},
    {"PLAN T3: remove only, case-insensitively; old spellings kept", T,
     "MX1.Example.com mx2.example.com mx3.example.com", "", "mx1.EXAMPLE.com",
     "MX1.Example.com mx2.example.com mx3.example.com / mx2.example.com "
     "mx3.example.com"},
    {"PLAN T4: added patterns keep their order, after the old ones", E,
     "mx1.example.com", "z.example.org a.example.org m.example.org", "",
     "mx1.example.com z.example.org a.example.org m.example.org / "
     "mx1.example.com z.example.org a.example.org m.example.org"},
    {"PLAN T5: wildcards added and removed", E, "*.example.net mx1.example.com",
     "*.mail.example.org", "*.example.net",
     "*.example.net mx1.example.com *.mail.example.org / mx1.example.com "
     "*.mail.example.org"},
    {"PLAN T6: a host under a listed wildcard is not listed", E,
     "*.example.net", "mx.example.net", "",
     "*.example.net mx.example.net / *.example.net mx.example.net"},
    {"PLAN T7: a repeated old pattern is removed everywhere", E,
     "mx1.example.com mx2.example.com MX1.example.com", "", "mx1.example.com",
     "mx1.example.com mx2.example.com MX1.example.com / mx2.example.com"},
    {"PLAN T8: move everything", E, "a.example.com b.example.com",
     "c.example.org d.example.org", "b.example.com a.example.com",
     "a.example.com b.example.com c.example.org d.example.org / "
     "c.example.org d.example.org"},
    {"PLAN T9: mode none keeps its mode", N, "mx1.example.com",
     "mx2.example.com", "mx1.example.com",
     "mx1.example.com mx2.example.com / mx2.example.com"},
    /* Refusals. */
    {"PLAN T10: nothing to do", E, "mx1.example.com", "", "",
     "nothing is added or removed"},
    {"PLAN T11: a malformed pattern to add", E, "mx1.example.com",
     "mx..example.com", "", "a pattern to add is malformed"},
    {"PLAN T12: a pattern to add with a trailing dot", E, "mx1.example.com",
     "mx2.example.com.", "", "a pattern to add is malformed"},
    {"PLAN T13: a partial wildcard to add", E, "mx1.example.com",
     "*.*.example.com", "", "a pattern to add is malformed"},
    {"PLAN T14: an address to add", E, "mx1.example.com", "mx.example.com:25",
     "", "a pattern to add is malformed"},
    {"PLAN T15: a pattern to add already listed, other case", E,
     "mx1.example.com *.example.net", "*.EXAMPLE.NET", "",
     "a pattern to add is already listed"},
    {"PLAN T16: a pattern to add given twice, other case", E, "mx1.example.com",
     "mx2.example.com MX2.example.com", "", "a pattern to add is given twice"},
    {"PLAN T17: a malformed pattern to remove", E,
     "mx1.example.com mx2.example.com", "", "mx1.example.com.",
     "a pattern to remove is malformed"},
    {"PLAN T18: a pattern to remove not listed", E,
     "mx1.example.com mx2.example.com", "", "mx3.example.com",
     "a pattern to remove is not listed"},
    {"PLAN T19: a wildcard does not list a host it covers", E,
     "*.example.com mx2.example.org", "", "mx1.example.com",
     "a pattern to remove is not listed"},
    {"PLAN T20: a pattern to remove given twice", E,
     "mx1.example.com mx2.example.com", "", "mx1.example.com Mx1.Example.Com",
     "a pattern to remove is given twice"},
    {"PLAN T21: a pattern both added and removed", E, "mx1.example.com",
     "mx2.example.com", "MX2.example.com", "a pattern to remove is also added"},
    {"PLAN T22: the final policy would be empty", E, "mx1.example.com", "",
     "mx1.example.com", "the final policy would list no mx pattern"},
    {"PLAN T23: every pattern removed, one repeated", T,
     "mx1.example.com *.example.net MX1.example.com", "",
     "*.example.net mx1.example.com",
     "the final policy would list no mx pattern"},
    {"PLAN T24: the patterns to add are judged first", E, "mx1.example.com",
     "mx1.example.com", "nope.example.com",
     "a pattern to add is already listed"},
};

/* The patterns of p, space-separated, appended to buf. */
static void
patterns_text(char *buf, size_t size, const struct mts_sts_policy *p)
{
	size_t i, off;

	for (i = 0; i < p->mx_count; i++) {
		off = strlen(buf);
		snprintf(buf + off, size - off, "%s%s", i != 0 ? " " : "",
		         p->mx[i]);
	}
}

static void
test_plan_case(const struct plan_case *c)
{
	struct mts_rollout_mx_plan plan, sentinel;
	struct mts_sts_policy old;
	size_t n_add, n_remove;
	char **add, **remove;
	struct mts_err err;
	char got[600];
	int rc;

	make_policy(c->mode, 604800, c->old, &old);
	n_add = split(c->add, ' ', &add);
	n_remove = split(c->remove, ' ', &remove);
	memset(&sentinel, 0x5A, sizeof(sentinel));
	memcpy(&plan, &sentinel, sizeof(plan));
	memset(&err, 0, sizeof(err));
	rc = mts_rollout_mx_plan(&old, (const char *const *)add, n_add,
	                         (const char *const *)remove, n_remove,
	                         1718000000, &plan, &err);
	got[0] = '\0';
	if (rc == -1 && err.code == MTS_ERR_INVALID &&
	    untouched(&plan, &sentinel, sizeof(plan)))
		snprintf(got, sizeof(got), "%s", err.msg);
	else if (rc == -1)
		snprintf(got, sizeof(got), "an error, not INVALID, or out set");
	else if (plan.cutover_at != 1718000000 ||
	         plan.transition.mode != c->mode ||
	         plan.final.mode != c->mode ||
	         plan.transition.max_age != 604800 ||
	         plan.final.max_age != 604800)
		snprintf(got, sizeof(got), "cutover_at, mode or max_age lost");
	else {
		patterns_text(got, sizeof(got), &plan.transition);
		snprintf(got + strlen(got), sizeof(got) - strlen(got), " / ");
		patterns_text(got, sizeof(got), &plan.final);
	}
	if (!tap_ok(strcmp(got, c->want) == 0, "%s", c->name))
		tap_diag("got %s", got);
	if (rc == 0)
		mts_rollout_mx_plan_reset(&plan);
	free_strings(add, n_add);
	free_strings(remove, n_remove);
	mts_sts_policy_reset(&old);
}

/* "<prefix><i>.<domain>", allocated. */
static char *
host_name(const char *prefix, size_t i, const char *domain)
{
	char buf[64], *s;

	snprintf(buf, sizeof(buf), "%s%zu.%s", prefix, i, domain);
	if ((s = strdup(buf)) == NULL)
		abort();
	return s;
}

/*
 * A plan from an old policy of n_old patterns mI.example.com, adding
 * n_add nI.example.org and removing the first n_remove old ones.
 */
static int
plan_sized(size_t n_old, size_t n_add, size_t n_remove,
           struct mts_rollout_mx_plan *plan, struct mts_err *err)
{
	struct mts_sts_policy old;
	char **add, **remove;
	size_t i;
	int rc;

	memset(&old, 0, sizeof(old));
	old.mode = E;
	old.max_age = 604800;
	old.mx_count = n_old;
	add = calloc(n_add + 1, sizeof(*add));
	remove = calloc(n_remove + 1, sizeof(*remove));
	old.mx = calloc(n_old + 1, sizeof(*old.mx));
	if (add == NULL || remove == NULL || old.mx == NULL)
		abort();
	for (i = 0; i < n_old; i++)
		old.mx[i] = host_name("m", i, "example.com");
	for (i = 0; i < n_add; i++)
		add[i] = host_name("n", i, "example.org");
	for (i = 0; i < n_remove; i++)
		remove[i] = host_name("m", i, "example.com");
	rc = mts_rollout_mx_plan(&old, (const char *const *)add, n_add,
	                         (const char *const *)remove, n_remove, 0, plan,
	                         err);
	mts_sts_policy_reset(&old);
	free_strings(add, n_add);
	free_strings(remove, n_remove);
	return rc;
}

static void
test_plan_sizes(void)
{
	struct mts_rollout_mx_plan plan;
	struct mts_err err;
	int rc;

	rc = plan_sized(60, 4, 0, &plan, &err);
	tap_ok(rc == 0 && plan.final.mx_count == MTS_ROLLOUT_MX_MAX &&
	           plan.transition.mx_count == MTS_ROLLOUT_MX_MAX,
	       "PLAN T30: a final policy of 64 patterns");
	if (rc == 0)
		mts_rollout_mx_plan_reset(&plan);
	rc = plan_sized(60, 5, 0, &plan, &err);
	tap_ok(
	    rc == -1 && err.code == MTS_ERR_INVALID &&
		tap_streq(err.msg,
	                  "the final policy would list too many mx patterns"),
	    "PLAN T31: a final policy of 65 patterns is refused");
	/* The transition lists old and new at once, 70 here: only the
	 * final policy is held to MTS_ROLLOUT_MX_MAX (rollout.h). */
	rc = plan_sized(60, 10, 6, &plan, &err);
	tap_ok(rc == 0 && plan.transition.mx_count == 70 &&
	           plan.final.mx_count == 64,
	       "PLAN T32: 60 - 6 + 10 = 64 in the final policy");
	if (rc == 0)
		mts_rollout_mx_plan_reset(&plan);
	rc = plan_sized(70, 0, 7, &plan, &err);
	tap_ok(rc == 0 && plan.transition.mx_count == 70 &&
	           plan.final.mx_count == 63,
	       "PLAN T33: an old policy over 64 patterns brought under");
	if (rc == 0)
		mts_rollout_mx_plan_reset(&plan);
}

static void
test_plan(void)
{
	const char *add[] = {"mx2.example.com"}, *empty[] = {""};
	struct mts_rollout_mx_plan plan;
	struct mts_sts_policy old;
	struct mts_err err;
	size_t i;

	for (i = 0; i < sizeof(plan_cases) / sizeof(plan_cases[0]); i++)
		test_plan_case(&plan_cases[i]);
	test_plan_sizes();
	make_policy(E, 604800, "mx1.example.com", &old);
	tap_ok(mts_rollout_mx_plan(&old, empty, 1, NULL, 0, 0, &plan, &err) ==
	               -1 &&
	           err.code == MTS_ERR_INVALID,
	       "PLAN T40: an empty pattern to add");
	tap_ok(mts_rollout_mx_plan(&old, NULL, 1, NULL, 0, 0, &plan, &err) ==
	               -1 &&
	           err.code == MTS_ERR_ARG,
	       "PLAN T41: NULL add with a count");
	tap_ok(mts_rollout_mx_plan(&old, add, 1, NULL, 2, 0, &plan, &err) ==
	               -1 &&
	           err.code == MTS_ERR_ARG,
	       "PLAN T42: NULL remove with a count");
	tap_ok(mts_rollout_mx_plan(NULL, add, 1, NULL, 0, 0, &plan, &err) ==
	               -1 &&
	           err.code == MTS_ERR_ARG,
	       "PLAN T43: NULL old");
	tap_ok(mts_rollout_mx_plan(&old, add, 1, NULL, 0, 0, NULL, &err) ==
	               -1 &&
	           err.code == MTS_ERR_ARG,
	       "PLAN T44: NULL out");
	mts_sts_policy_reset(&old);
	mts_rollout_mx_plan_reset(NULL);
	memset(&plan, 0, sizeof(plan));
	mts_rollout_mx_plan_reset(&plan);
	tap_ok(plan.transition.mx == NULL && plan.final.mx_count == 0,
	       "PLAN T45: reset of an empty plan, and of NULL");
}

/* ---- mts_rollout_next_id ---- */

static const struct next_case {
	const char *name;
	const char *now;
	const char *previous;
	const char *want; /* NULL: MTS_ERR_ARG */
} next_cases[] = {
    {"NEXT T1: no previous id", NOW, NULL, "20240315T120000Z"},
    {"NEXT T2: a previous id that is not a timestamp", NOW, "abc123",
     "20240315T120000Z"},
    {"NEXT T3: a previous id in lower case is not a timestamp", NOW,
     "20250101t000000z", "20240315T120000Z"},
    {"NEXT T4: a timestamp with more after it is not a timestamp", NOW,
     "20250101T000000Z1", "20240315T120000Z"},
    {"NEXT T5: an earlier previous id", NOW, "20240301T000000Z",
     "20240315T120000Z"},
    {"NEXT T6: previous equal to now's id: one second after", NOW,
     "20240315T120000Z", "20240315T120001Z"},
    {"NEXT T7: previous one second before now", NOW, "20240315T115959Z",
     "20240315T120000Z"},
    {"NEXT T8: previous in the future (a clock behind)", NOW,
     "20240316T235959Z", "20240317T000000Z"},
    {"NEXT T9: the second after 2024-02-28T23:59:59Z", "20240201T000000Z",
     "20240228T235959Z", "20240229T000000Z"},
    {"NEXT T10: the second after a year's last", "20231231T000000Z",
     "20231231T235959Z", "20240101T000000Z"},
    {"NEXT T11: no timestamp id after the last there is", NOW,
     "99991231T235959Z", NULL},
};

static void
test_next(void)
{
	char buf[MTS_STS_ID_TIMESTAMP_LEN + 1];
	struct mts_err err;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++) {
		const struct next_case *c = &next_cases[i];

		memset(buf, 'X', sizeof(buf));
		rc = mts_rollout_next_id(at(c->now), c->previous, buf,
		                         sizeof(buf), &err);
		if (c->want == NULL)
			tap_ok(rc == -1 && err.code == MTS_ERR_ARG &&
			           buf[0] == 'X',
			       "%s: MTS_ERR_ARG, buf untouched", c->name);
		else
			tap_ok(rc == 0 && tap_streq(buf, c->want) &&
			           !tap_streq(buf, c->previous),
			       "%s (got %.16s)", c->name, buf);
	}
	memset(buf, 'X', sizeof(buf));
	rc = mts_rollout_next_id(0, NULL, buf, sizeof(buf) - 1, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_ARG && buf[0] == 'X',
	       "NEXT T20: a buffer of 16 octets is too small");
	rc = mts_rollout_next_id(0, NULL, NULL, sizeof(buf), &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_ARG, "NEXT T21: NULL buf");
	rc = mts_rollout_next_id(253402300800LL, NULL, buf, sizeof(buf), &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_ARG,
	       "NEXT T22: now after the year 9999");
}

int
main(void)
{
	test_same();
	test_shown();
	test_assess();
	test_reason_names();
	test_cached();
	test_plan();
	test_next();
	return tap_done();
}
