/* SPDX-License-Identifier: ISC */
/*
 * Tests of diag.c and err.c: the finding-code table that every parser
 * shares (codes are a stable interface for scripts, so each must be
 * unique and well-formed and carry a summary and advice), the bounded
 * list of findings, findings under a program's own rules
 * (mts_diag_add_rule(); mtasts check has its table, tested in
 * test_check_codes.c), and the error-code names.
 */
#include <stdint.h>

#include <mtasts/diag.h>
#include <mtasts/err.h>

#include "internal.h"
#include "tap.h"

/*
 * A program's own rules, as mtasts check has its table: codes the
 * library's table does not hold, a pass among them.
 */
static const struct mts_diag_rule prog_rules[] = {
    {"prog-pattern-stale", MTS_SEV_WARNING, "a pattern covers no MX host",
     "Remove the pattern."},
    {"prog-connect", MTS_SEV_ERROR, "an MX host refused the connection",
     "Open port 25."},
    {"prog-dns-failed", MTS_SEV_ERROR, "a DNS lookup failed", "Fix the DNS."},
    {"prog-policy-ok", MTS_SEV_OK, "the policy is valid", ""},
};
#define STALE (&prog_rules[0])
#define CONN  (&prog_rules[1])
#define DNSF  (&prog_rules[2])
#define PASS  (&prog_rules[3])

/* Lower-case kebab-case: [a-z0-9]+ joined by single hyphens. */
static bool
is_kebab(const char *s)
{
	const char *p;

	if (*s == '\0' || *s == '-')
		return false;
	for (p = s; *p != '\0'; p++) {
		if (*p == '-') {
			if (p[1] == '-' || p[1] == '\0')
				return false;
		} else if (!(*p >= 'a' && *p <= 'z') && !mts_is_digit(*p)) {
			return false;
		}
	}
	return true;
}

static void
test_table(void)
{
	const struct mts_diag_rule *r, *s;
	size_t i, j, n, dup = 0, bad = 0, empty = 0, sev = 0, unfound = 0;
	size_t foreign = 0;

	for (n = 0; mts_diag_rule_at(n) != NULL; n++)
		;
	tap_ok(n == MTS_D__COUNT, "DIAG T1: the table has %zu rows", n);
	for (i = 0; i < n; i++) {
		r = mts_diag_rule_at(i);
		if (r->code == NULL || !is_kebab(r->code)) {
			bad++;
			tap_diag("row %zu: bad code", i);
			continue;
		}
		/* Every problem needs advice. */
		if (r->summary == NULL || r->summary[0] == '\0' ||
		    r->advice == NULL || r->advice[0] == '\0') {
			empty++;
			tap_diag("%s: empty summary or advice", r->code);
		}
		/* Only mtasts check reports passes (severity ok), from its
		   own table. */
		if (r->severity > MTS_SEV_ERROR || r->severity == MTS_SEV_OK) {
			sev++;
			tap_diag("%s: severity %d", r->code, (int)r->severity);
		}
		/* The codes of mtasts check are the program's (issue 9). */
		if (strncmp(r->code, "check-", 6) == 0) {
			foreign++;
			tap_diag("%s: a code of mtasts check", r->code);
		}
		for (j = 0; j < i; j++) {
			s = mts_diag_rule_at(j);
			if (s->code != NULL && strcmp(s->code, r->code) == 0) {
				dup++;
				tap_diag("duplicate code %s", r->code);
			}
		}
		if (mts_diag_rule_find(r->code) != r)
			unfound++;
	}
	tap_ok(bad == 0, "DIAG T2: every code is lower-case kebab-case");
	tap_ok(dup == 0, "DIAG T3: every code is unique");
	tap_ok(empty == 0,
	       "DIAG T4: every row has a summary, every problem advice");
	tap_ok(sev == 0,
	       "DIAG T5: severities in range; no pass (ok) in the library");
	tap_ok(foreign == 0,
	       "DIAG T5a: no code of mtasts check in the library's table");
	tap_ok(unfound == 0, "DIAG T6: mts_diag_rule_find finds every row");
	tap_ok(mts_diag_rule_at(n) == NULL &&
	           mts_diag_rule_at(SIZE_MAX) == NULL,
	       "DIAG T7: rows past the end are NULL");
	tap_ok(mts_diag_rule_find("no-such-code") == NULL &&
	           mts_diag_rule_find("") == NULL,
	       "DIAG T8: unknown codes are not found");
	tap_ok(mts_diag_rule_find("TLSA-SYNTAX") == NULL,
	       "DIAG T9: codes are matched case-sensitively");
	r = mts_diag_rule_find("tlsa-syntax");
	tap_ok(r != NULL && r == mts_diag_rule_at(MTS_D_TLSA_SYNTAX) &&
	           r->severity == mts_diag_severity(MTS_D_TLSA_SYNTAX),
	       "DIAG T10: find, at and severity agree on a row");
}

/* Row k (from 0) of the table among those of severity sev, or NULL. */
static const struct mts_diag_rule *
rule_of(enum mts_severity sev, size_t k)
{
	const struct mts_diag_rule *r;
	size_t i;

	for (i = 0; (r = mts_diag_rule_at(i)) != NULL; i++)
		if (r->severity == sev && k-- == 0)
			return r;
	return NULL;
}

/*
 * Adds `codes` codes of severity sev (from the k0-th of the table) with
 * `msgs` different messages each: codes * msgs findings that no rule
 * folds into fewer than codes * min(msgs, MTS_DIAG_FOLD) entries.
 */
static void
add_distinct(struct mts_diag *d, enum mts_severity sev, size_t k0, size_t codes,
             size_t msgs)
{
	size_t c, m;

	for (c = 0; c < codes; c++)
		for (m = 0; m < msgs; m++)
			mts_diag_add_rule(d, rule_of(sev, k0 + c),
			                  (unsigned)(c * msgs + m + 1),
			                  "%s %zu", mts_severity_name(sev),
			                  c * msgs + m);
}

/* Entries of code `code`, and the sum of their counts. */
static size_t
held(const struct mts_diag *d, const char *code, size_t *sum)
{
	size_t i, n = 0;

	*sum = 0;
	for (i = 0; i < d->count; i++)
		if (tap_streq(d->items[i].code, code)) {
			n++;
			*sum += d->items[i].count;
		}
	return n;
}

/* Every finding is held, folded or dropped: the counts add up. */
static bool
sums_up(const struct mts_diag *d)
{
	size_t i, held_n = 0, total = 0;

	for (i = 0; i < d->count; i++)
		held_n += d->items[i].count;
	for (i = MTS_SEV_OK; i <= MTS_SEV_ERROR; i++)
		total += mts_diag_count(d, (enum mts_severity)i);
	return held_n + d->dropped == total;
}

static void
test_bounded(void)
{
	struct mts_diag d;
	size_t i;
	bool lines = true;

	mts_diag_init(&d);
	tap_ok(d.count == 0 && d.items == NULL && d.dropped == 0,
	       "DIAG T11: init gives an empty list");
	/* 150 findings that fold into nothing: 15 codes, 10 messages each. */
	add_distinct(&d, MTS_SEV_WARNING, 0, 15, MTS_DIAG_FOLD);
	tap_ok(d.count == MTS_DIAG_MAX, "DIAG T12: count stops at %d (%zu)",
	       MTS_DIAG_MAX, d.count);
	tap_ok(d.cap <= MTS_DIAG_MAX, "DIAG T13: capacity stays bounded");
	tap_ok(d.dropped == 50, "DIAG T14: 50 findings dropped (%zu)",
	       d.dropped);
	tap_ok(mts_diag_count(&d, MTS_SEV_WARNING) == 150 &&
	           mts_diag_count(&d, MTS_SEV_ERROR) == 0 &&
	           mts_diag_count(&d, MTS_SEV_INFO) == 0 &&
	           mts_diag_count(&d, MTS_SEV_OK) == 0,
	       "DIAG T15: by-severity counts include the dropped findings");
	for (i = 0; i < d.count; i++)
		if (d.items[i].line != i + 1 || d.items[i].count != 1)
			lines = false;
	tap_ok(lines, "DIAG T16: stored findings keep their order and lines");
	mts_diag_reset(&d);
	mts_diag_add(&d, MTS_D_TLSA_SYNTAX, 4, "finding %d", 0);
	tap_ok(tap_streq(d.items[0].code, "tlsa-syntax") &&
	           d.items[0].severity == MTS_SEV_ERROR &&
	           tap_streq(d.items[0].message, "finding 0") &&
	           d.items[0].line == 4 && d.items[0].count == 1 &&
	           d.items[0].advice != NULL && d.items[0].advice[0] != '\0',
	       "DIAG T17: a finding carries code, severity, message, advice, "
	       "a count of 1");
	tap_ok(mts_diag_count(&d, (enum mts_severity)7) == 0 &&
	           mts_diag_count(NULL, MTS_SEV_ERROR) == 0,
	       "DIAG T18: count of a bad severity or NULL diag is 0");
	mts_diag_reset(&d);
	tap_ok(d.count == 0 && d.items == NULL && d.dropped == 0 &&
	           mts_diag_count(&d, MTS_SEV_ERROR) == 0,
	       "DIAG T19: reset empties the list");
	mts_diag_add(&d, MTS_D_TLSA_FULL_MATCH, 0, "again");
	tap_ok(d.count == 1 && mts_diag_count(&d, MTS_SEV_WARNING) == 1,
	       "DIAG T20: the list is usable after reset");
	mts_diag_reset(&d);
	mts_diag_reset(NULL);
	mts_diag_add(NULL, MTS_D_TLSA_SYNTAX, 1, "ignored %d", 1);
	mts_diag_merge(NULL, &d);
	mts_diag_merge(&d, NULL);
	tap_ok(mts_diag_add_rule(NULL, mts_diag_rule_at(MTS_D_TLSA_SYNTAX), 1,
	                         "x") == 0 &&
	           d.count == 0 && d.dropped == 0,
	       "DIAG T21: NULL diag is a no-op for add, merge and reset");
}

/*
 * Issue 9: a policy of 10,000 "mx:a" lines made 10,099 warnings, kept
 * the first 100 findings and lost the error that came after them.
 * Repeated findings fold into one with a count; past MTS_DIAG_FOLD
 * findings of one code with different messages, into the last of them;
 * a full list gives up a lower-severity finding for an error.
 */
static void
test_fold(void)
{
	const char *stale = STALE->code;
	const char *conn = CONN->code;
	struct mts_diag d;
	size_t i, n, sum;
	bool ok;

	mts_diag_init(&d);
	for (i = 0; i < 10000; i++)
		mts_diag_add_rule(&d, STALE, 0, "mx: a");
	tap_ok(d.count == 1 && d.items[0].count == 10000 && d.dropped == 0 &&
	           mts_diag_count(&d, MTS_SEV_WARNING) == 10000,
	       "DIAG-FOLD T1: 10,000 equal findings are one, count 10000 "
	       "(%zu entries)",
	       d.count);
	mts_diag_add_rule(&d, CONN, 0, "mx1 [192.0.2.1]: refused");
	tap_ok(d.count == 2 && tap_streq(d.items[1].code, conn) &&
	           mts_diag_count(&d, MTS_SEV_ERROR) == 1,
	       "DIAG-FOLD T2: the error after them is listed");
	mts_diag_reset(&d);

	for (i = 0; i < 25; i++)
		mts_diag_add_rule(&d, STALE, 0, "mx: a%zu", i);
	n = held(&d, stale, &sum);
	tap_ok(n == MTS_DIAG_FOLD && sum == 25 &&
	           d.items[MTS_DIAG_FOLD - 1].count == 25 - MTS_DIAG_FOLD + 1 &&
	           tap_streq(d.items[MTS_DIAG_FOLD - 1].message, "mx: a9"),
	       "DIAG-FOLD T3: 25 different messages of a code: %d entries, "
	       "the last standing for 16 (%zu, %zu)",
	       MTS_DIAG_FOLD, n, sum);
	mts_diag_add_rule(&d, STALE, 0, "mx: a3");
	tap_ok(d.items[3].count == 2 && d.count == MTS_DIAG_FOLD,
	       "DIAG-FOLD T4: a repeated message folds into its own entry");
	mts_diag_reset(&d);
	/* lint: the same message on another line is another finding */
	mts_diag_add(&d, MTS_D_TLSA_FULL_MATCH, 3, "same");
	mts_diag_add(&d, MTS_D_TLSA_FULL_MATCH, 4, "same");
	mts_diag_add(&d, MTS_D_TLSA_FULL_MATCH, 3, "same");
	tap_ok(d.count == 2 && d.items[0].count == 2 && d.items[1].line == 4,
	       "DIAG-FOLD T4a: equal messages fold only on the same line");
	mts_diag_reset(&d);

	/* Full of warnings: an error of a new code takes a warning's place. */
	add_distinct(&d, MTS_SEV_WARNING, 0, 10, MTS_DIAG_FOLD);
	add_distinct(&d, MTS_SEV_INFO, 0, 1, 5);
	tap_ok(d.count == MTS_DIAG_MAX && d.dropped == 5,
	       "DIAG-FOLD T5: a full list of warnings drops infos (%zu, %zu)",
	       d.count, d.dropped);
	mts_diag_add_rule(&d, CONN, 0, "mx1 [192.0.2.1]: refused");
	n = held(&d, conn, &sum);
	tap_ok(d.count == MTS_DIAG_MAX && n == 1 &&
	           tap_streq(d.items[MTS_DIAG_MAX - 1].code, conn) &&
	           d.dropped == 6 && mts_diag_count(&d, MTS_SEV_ERROR) == 1,
	       "DIAG-FOLD T6: an error pushes out a warning, never the "
	       "reverse (dropped %zu)",
	       d.dropped);
	ok = tap_streq(d.items[MTS_DIAG_MAX - 2].message, "warning 98") &&
	    d.items[0].line == 1;
	tap_ok(ok, "DIAG-FOLD T7: the last warning went, the order stays");
	for (i = 0; i < 200; i++)
		mts_diag_add_rule(&d, DNSF, 0, "q%zu", i);
	n = held(&d, DNSF->code, &sum);
	tap_ok(n == MTS_DIAG_FOLD && sum == 200 && d.count == MTS_DIAG_MAX &&
	           mts_diag_count(&d, MTS_SEV_WARNING) == 100 &&
	           mts_diag_count(&d, MTS_SEV_ERROR) == 201,
	       "DIAG-FOLD T8: 200 errors of a new code take %d places and "
	       "fold the rest (%zu, %zu)",
	       MTS_DIAG_FOLD, n, sum);
	mts_diag_reset(&d);

	/* Full of errors: a warning is dropped, and said. */
	add_distinct(&d, MTS_SEV_ERROR, 0, 10, MTS_DIAG_FOLD);
	mts_diag_add_rule(&d, STALE, 0, "mx: a");
	tap_ok(d.count == MTS_DIAG_MAX && held(&d, stale, &sum) == 0 &&
	           d.dropped == 1 && mts_diag_count(&d, MTS_SEV_WARNING) == 1,
	       "DIAG-FOLD T9: a warning never pushes out an error; it is "
	       "counted as dropped");
	mts_diag_add_rule(&d, rule_of(MTS_SEV_ERROR, 3), 0, "new");
	tap_ok(d.count == MTS_DIAG_MAX && d.dropped == 1 &&
	           d.items[4 * MTS_DIAG_FOLD - 1].count == 2,
	       "DIAG-FOLD T10: a full list folds a finding of a code it "
	       "holds");
	tap_ok(sums_up(&d),
	       "DIAG-FOLD T11: held, folded and dropped "
	       "findings add up to the counts");
	mts_diag_reset(&d);
}

/* mts_diag_merge(): what a parser found, into a program's list. */
static void
test_merge(void)
{
	struct mts_diag lint, d;
	size_t i, sum;

	mts_diag_init(&lint);
	mts_diag_init(&d);
	for (i = 0; i < 10000; i++)
		mts_diag_add(&lint, MTS_D_TLSA_FULL_MATCH, 7, "same");
	mts_diag_add(&lint, MTS_D_TLSA_SYNTAX, 0, "bad");
	mts_diag_add_rule(&d, PASS, 0, "policy");
	mts_diag_merge(&d, &lint);
	tap_ok(d.count == 3 && held(&d, "tlsa-full-match", &sum) == 1 &&
	           sum == 10000 && d.items[1].line == 7 &&
	           mts_diag_count(&d, MTS_SEV_WARNING) == 10000 &&
	           mts_diag_count(&d, MTS_SEV_ERROR) == 1 &&
	           mts_diag_count(&d, MTS_SEV_OK) == 1 && d.dropped == 0,
	       "DIAG-MERGE T1: folded findings keep their count and line");
	mts_diag_reset(&lint);
	mts_diag_reset(&d);

	/* lint: full of errors, one warning dropped */
	add_distinct(&lint, MTS_SEV_ERROR, 0, 10, MTS_DIAG_FOLD);
	mts_diag_add(&lint, MTS_D_TLSA_FULL_MATCH, 1, "dropped");
	mts_diag_add_rule(&d, PASS, 0, "policy");
	mts_diag_merge(&d, &lint);
	tap_ok(lint.dropped == 1 && d.count == MTS_DIAG_MAX &&
	           mts_diag_count(&d, MTS_SEV_WARNING) == 1 &&
	           mts_diag_count(&d, MTS_SEV_ERROR) == 100 &&
	           mts_diag_count(&d, MTS_SEV_OK) == 1 && d.dropped == 2,
	       "DIAG-MERGE T2: counts add up, the dropped ones too (dropped "
	       "%zu)",
	       d.dropped);
	tap_ok(!tap_streq(d.items[0].code, PASS->code),
	       "DIAG-MERGE T3: the pass made way for an error");
	tap_ok(sums_up(&d), "DIAG-MERGE T4: the counts add up after a merge");
	mts_diag_reset(&lint);
	mts_diag_reset(&d);
}

/*
 * mts_diag_add_rule(): a finding under a rule the caller owns (issue 9:
 * the codes of mtasts check are the program's, not the library's).
 */
static void
test_rule(void)
{
	static const struct mts_diag_rule bad[] = {
	    {NULL, MTS_SEV_ERROR, "summary", "advice"},
	    {"prog-bad", MTS_SEV_ERROR, NULL, "advice"},
	    {"prog-bad", MTS_SEV_ERROR, "summary", NULL},
	    {"prog-bad", (enum mts_severity)4, "summary", "advice"},
	    {"prog-bad", (enum mts_severity) - 1, "summary", "advice"},
	};
	/* Equal codes in storage of their own: one code all the same. */
	static char code_a[] = "prog-twice", code_b[] = "prog-twice";
	const struct mts_diag_rule twice_a = {code_a, MTS_SEV_INFO, "a", "b"};
	const struct mts_diag_rule twice_b = {code_b, MTS_SEV_INFO, "a", "b"};
	struct mts_diag d, from;
	size_t i, refused = 0, total = 0;
	int rc;

	mts_diag_init(&d);
	rc = mts_diag_add_rule(&d, CONN, 12, "mx%d [%s]: %s", 1, "192.0.2.1",
	                       "refused");
	tap_ok(rc == 0 && d.count == 1 && d.items[0].code == CONN->code &&
	           d.items[0].summary == CONN->summary &&
	           d.items[0].advice == CONN->advice &&
	           d.items[0].severity == MTS_SEV_ERROR &&
	           d.items[0].line == 12 && d.items[0].count == 1 &&
	           tap_streq(d.items[0].message, "mx1 [192.0.2.1]: refused") &&
	           mts_diag_count(&d, MTS_SEV_ERROR) == 1,
	       "DIAG-RULE T1: a finding carries its rule's strings, the "
	       "line and the formatted message");
	tap_ok(mts_diag_rule_find(CONN->code) == NULL,
	       "DIAG-RULE T2: the rule needs no row in the library's table");
	tap_ok(mts_diag_add_rule(&d, PASS, 0, "policy") == 0 && d.count == 2 &&
	           mts_diag_count(&d, MTS_SEV_OK) == 1 &&
	           tap_streq(d.items[1].advice, ""),
	       "DIAG-RULE T3: a pass (ok, no advice) is a finding too");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mts_diag_add_rule(&d, &bad[i], 1, "x") == -1)
			refused++;
		if (mts_diag_add_rule(NULL, &bad[i], 1, "x") == -1)
			refused++;
	}
	if (mts_diag_add_rule(&d, NULL, 1, "x") == -1)
		refused++;
	for (i = MTS_SEV_OK; i <= MTS_SEV_ERROR; i++)
		total += mts_diag_count(&d, (enum mts_severity)i);
	tap_ok(refused == 2 * (sizeof(bad) / sizeof(bad[0])) + 1 &&
	           d.count == 2 && total == 2 && d.dropped == 0,
	       "DIAG-RULE T4: a NULL rule, a NULL string or a severity out "
	       "of range is refused (-1), nothing added (%zu)",
	       refused);
	mts_diag_reset(&d);

	mts_diag_add_rule(&d, &twice_a, 0, "same");
	mts_diag_add_rule(&d, &twice_b, 0, "same");
	tap_ok(d.count == 1 && d.items[0].count == 2,
	       "DIAG-RULE T5: findings are of one code when their code "
	       "strings are equal");
	mts_diag_reset(&d);

	/* What a program found, merged: no table is looked in. */
	mts_diag_init(&from);
	for (i = 0; i < 3; i++)
		mts_diag_add_rule(&from, CONN, 0, "refused");
	mts_diag_add_rule(&from, PASS, 0, "policy");
	mts_diag_add_rule(&d, CONN, 0, "refused");
	mts_diag_merge(&d, &from);
	tap_ok(d.count == 2 && d.items[0].code == CONN->code &&
	           d.items[0].count == 4 && d.items[1].code == PASS->code &&
	           d.items[1].summary == PASS->summary &&
	           d.items[1].severity == MTS_SEV_OK &&
	           mts_diag_count(&d, MTS_SEV_ERROR) == 4 &&
	           mts_diag_count(&d, MTS_SEV_OK) == 1 && d.dropped == 0,
	       "DIAG-RULE T6: a program's findings merge, fold and keep "
	       "their rule");
	mts_diag_reset(&from);
	mts_diag_reset(&d);
}

static void
test_message(void)
{
	char longmsg[MTS_FINDING_MSG_SIZE * 2];
	struct mts_diag d;
	size_t len;

	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	mts_diag_init(&d);
	mts_diag_add(&d, MTS_D_TLSA_SYNTAX, 3, "%s", longmsg);
	len = strlen(d.items[0].message);
	tap_ok(len == MTS_FINDING_MSG_SIZE - 1,
	       "DIAG T22: a long message is cut at %d bytes (%zu)",
	       MTS_FINDING_MSG_SIZE - 1, len);
	mts_diag_add(&d, MTS_D_TLSA_SYNTAX, 3, "%s=%d", "x", 42);
	tap_ok(tap_streq(d.items[1].message, "x=42"),
	       "DIAG T23: the message is formatted");
	mts_diag_reset(&d);
}

/*
 * mts_diag_sort(): by line, stable among equal lines, findings without a
 * line (0) last; every finding carries its row's summary.
 */
static void
test_sort(void)
{
	static const struct {
		unsigned line;
		const char *msg;
	} in[] = {{0, "a"}, {3, "b"}, {1, "c"}, {3, "d"}, {0, "e"}, {2, "f"}};
	static const char want[] = "cfbdae";
	const struct mts_diag_rule *r = mts_diag_rule_at(MTS_D_TLSA_SYNTAX);
	char got[sizeof(want)] = "";
	struct mts_diag d;
	bool summaries = true;
	size_t i;

	mts_diag_init(&d);
	mts_diag_sort(&d);
	tap_ok(d.count == 0, "DIAG T25: sorting an empty list");
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		mts_diag_add(&d, MTS_D_TLSA_SYNTAX, in[i].line, "%s",
		             in[i].msg);
	mts_diag_sort(&d);
	for (i = 0; i < d.count && i < sizeof(got) - 1; i++) {
		got[i] = d.items[i].message[0];
		if (d.items[i].summary != r->summary)
			summaries = false;
	}
	got[i] = '\0';
	tap_ok(tap_streq(got, want),
	       "DIAG T26: sorted by line, stable, line 0 last (%s)", got);
	tap_ok(summaries, "DIAG T27: findings carry their row's summary");
	mts_diag_reset(&d);
}

static void
test_names(void)
{
	const char *seen[MTS_ERR__COUNT];
	unsigned code;
	size_t j;
	bool ok = true;

	for (code = 0; code < MTS_ERR__COUNT; code++) {
		seen[code] = mts_strerror((enum mts_errcode)code);
		if (seen[code] == NULL || seen[code][0] == '\0' ||
		    tap_streq(seen[code], "unknown error"))
			ok = false;
		for (j = 0; j < code; j++)
			if (tap_streq(seen[j], seen[code]))
				ok = false;
	}
	tap_ok(ok, "ERR T1: every error code has its own name");
	tap_ok(tap_streq(mts_strerror(MTS_OK), "success"),
	       "ERR T2: MTS_OK is \"success\"");
	tap_ok(tap_streq(mts_strerror(MTS_ERR__COUNT), "unknown error") &&
	           tap_streq(mts_strerror((enum mts_errcode) - 1),
	                     "unknown error"),
	       "ERR T3: out-of-range codes are \"unknown error\"");
	tap_ok(tap_streq(mts_severity_name(MTS_SEV_OK), "ok") &&
	           tap_streq(mts_severity_name(MTS_SEV_INFO), "info") &&
	           tap_streq(mts_severity_name(MTS_SEV_WARNING), "warning") &&
	           tap_streq(mts_severity_name(MTS_SEV_ERROR), "error") &&
	           tap_streq(mts_severity_name((enum mts_severity)9),
	                     "unknown"),
	       "DIAG T24: severity names");
}

static void
test_err_set(void)
{
	struct mts_err err = {MTS_OK, 0, 0, NULL, 5};
	int rc;

	rc = mts_err_set(&err, MTS_ERR_SYNTAX, 2, 7, "bad thing");
	tap_ok(rc == -1 && err.code == MTS_ERR_SYNTAX && err.line == 2 &&
	           err.column == 7 && tap_streq(err.msg, "bad thing") &&
	           err.sys_errno == 0,
	       "ERR T4: mts_err_set fills every field and returns -1");
	mts_err_set(&err, MTS_ERR_NOMEM, 0, 0, NULL);
	tap_ok(tap_streq(err.msg, "out of memory"),
	       "ERR T5: a NULL message becomes the code's name");
	tap_ok(mts_err_set(NULL, MTS_ERR_ARG, 0, 0, "x") == -1,
	       "ERR T6: a NULL err is allowed");
}

int
main(void)
{
	test_table();
	test_bounded();
	test_fold();
	test_merge();
	test_rule();
	test_message();
	test_sort();
	test_names();
	test_err_set();
	return tap_done();
}
