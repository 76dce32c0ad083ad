/* SPDX-License-Identifier: ISC */
/*
 * Diagnostics: a bounded list of findings, and the table of the
 * library's finding codes built from the per-module codes_*.def files.
 * The table is the single source of each code's severity and advice, so
 * that `mtasts lint` and the documentation never disagree.  A program
 * with codes of its own (mtasts check, src/check/codes_check.def) keeps
 * its own table and adds its findings with mts_diag_add_rule().
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct mts_diag_rule rules[MTS_D__COUNT] = {
#define MTS_DIAG(id, code, sev, summary, advice)                               \
	[MTS_D_##id] = {code, MTS_SEV_##sev, summary, advice},
#include "codes_sts_record.def"
#include "codes_sts_policy.def"
#include "codes_tlsrpt_record.def"
#include "codes_tlsrpt_report.def"
#include "codes_dane_tlsa.def"
#undef MTS_DIAG
};

void
mts_diag_init(struct mts_diag *diag)
{
	memset(diag, 0, sizeof(*diag));
}

void
mts_diag_reset(struct mts_diag *diag)
{
	if (diag == NULL)
		return;
	free(diag->items);
	mts_diag_init(diag);
}

size_t
mts_diag_count(const struct mts_diag *diag, enum mts_severity severity)
{
	if (diag == NULL || (unsigned)severity > MTS_SEV_ERROR)
		return 0;
	return diag->by_severity[severity];
}

/* Line 0 (no line) sorts after every real line. */
static unsigned
sort_key(const struct mts_finding *f)
{
	return f->line == 0 ? UINT_MAX : f->line;
}

void
mts_diag_sort(struct mts_diag *diag)
{
	struct mts_finding tmp;
	size_t i, j;

	if (diag == NULL)
		return;
	/* Insertion sort: stable, and at most MTS_DIAG_MAX items. */
	for (i = 1; i < diag->count; i++) {
		tmp = diag->items[i];
		for (j = i;
		     j > 0 && sort_key(&diag->items[j - 1]) > sort_key(&tmp);
		     j--)
			diag->items[j] = diag->items[j - 1];
		diag->items[j] = tmp;
	}
}

const char *
mts_severity_name(enum mts_severity severity)
{
	switch (severity) {
	case MTS_SEV_OK:
		return "ok";
	case MTS_SEV_INFO:
		return "info";
	case MTS_SEV_WARNING:
		return "warning";
	case MTS_SEV_ERROR:
		return "error";
	}
	return "unknown";
}

const struct mts_diag_rule *
mts_diag_rule_at(size_t i)
{
	return i < MTS_D__COUNT ? &rules[i] : NULL;
}

const struct mts_diag_rule *
mts_diag_rule_find(const char *code)
{
	size_t i;

	for (i = 0; i < MTS_D__COUNT; i++)
		if (strcmp(rules[i].code, code) == 0)
			return &rules[i];
	return NULL;
}

enum mts_severity
mts_diag_severity(enum mts_diag_id id)
{
	return rules[id].severity;
}

/* Makes room for one more finding; false when full or out of memory. */
static bool
diag_grow(struct mts_diag *diag)
{
	struct mts_finding *items;
	size_t cap;

	if (diag->count < diag->cap)
		return true;
	if (diag->cap >= MTS_DIAG_MAX)
		return false;
	cap = diag->cap == 0 ? 8 : diag->cap * 2;
	if (cap > MTS_DIAG_MAX)
		cap = MTS_DIAG_MAX;
	items = realloc(diag->items, cap * sizeof(*items));
	if (items == NULL)
		return false;
	diag->items = items;
	diag->cap = cap;
	return true;
}

/*
 * The finding a full list gives up for one of severity `sev`: the last
 * of the lowest severity, when that is lower than `sev`; else -1.
 */
static long
diag_victim(const struct mts_diag *diag, enum mts_severity sev)
{
	long victim = -1;
	size_t i;

	for (i = 0; i < diag->count; i++)
		if (diag->items[i].severity < sev &&
		    (victim < 0 ||
		     diag->items[i].severity <= diag->items[victim].severity))
			victim = (long)i;
	return victim;
}

/* Findings are of one code when their code strings are equal. */
static bool
same_code(const char *a, const char *b)
{
	return a == b || strcmp(a, b) == 0;
}

/*
 * Stores `n` findings of table row `rule` with one message: folded into
 * a held finding of the code, line and message, or into the last
 * held one of the code when MTS_DIAG_FOLD of them are held; else in a
 * new slot, made when the list is full by pushing out a finding of lower
 * severity.  With no room to be made, they fold into the last held one
 * of the code, or are dropped.
 */
static void
diag_put(struct mts_diag *diag, const struct mts_diag_rule *rule, unsigned line,
         const char *message, size_t n)
{
	struct mts_finding *f;
	size_t i, same = 0, last = 0;
	long victim;

	diag->by_severity[rule->severity] += n;
	for (i = 0; i < diag->count; i++) {
		if (!same_code(diag->items[i].code, rule->code))
			continue;
		if (diag->items[i].line == line &&
		    strcmp(diag->items[i].message, message) == 0) {
			diag->items[i].count += n;
			return;
		}
		same++;
		last = i;
	}
	if (same >= MTS_DIAG_FOLD) {
		diag->items[last].count += n;
		return;
	}
	if (!diag_grow(diag)) {
		if ((victim = diag_victim(diag, rule->severity)) < 0) {
			if (same > 0)
				diag->items[last].count += n;
			else
				diag->dropped += n;
			return;
		}
		/* Out with the victim, keeping the order of the rest. */
		diag->dropped += diag->items[victim].count;
		memmove(&diag->items[victim], &diag->items[victim + 1],
		        (diag->count - (size_t)victim - 1) * sizeof(*f));
		diag->count--;
	}
	f = &diag->items[diag->count++];
	f->code = rule->code;
	f->severity = rule->severity;
	f->line = line;
	f->summary = rule->summary;
	f->advice = rule->advice;
	f->count = n;
	snprintf(f->message, sizeof(f->message), "%s", message);
}

static void diag_vadd(struct mts_diag *diag, const struct mts_diag_rule *rule,
                      unsigned line, const char *fmt, va_list ap)
    MTS_PRINTF(4, 0);

/* Stores one finding of `rule` with a formatted message. */
static void
diag_vadd(struct mts_diag *diag, const struct mts_diag_rule *rule,
          unsigned line, const char *fmt, va_list ap)
{
	char message[MTS_FINDING_MSG_SIZE];

	vsnprintf(message, sizeof(message), fmt, ap);
	diag_put(diag, rule, line, message, 1);
}

void
mts_diag_add(struct mts_diag *diag, enum mts_diag_id id, unsigned line,
             const char *fmt, ...)
{
	va_list ap;

	if (diag == NULL)
		return;
	va_start(ap, fmt);
	diag_vadd(diag, &rules[id], line, fmt, ap);
	va_end(ap);
}

/*
 * A rule a finding can be made of: every string set (a finding's advice
 * may be "" but never NULL) and a severity that has a count.
 */
static bool
rule_valid(const struct mts_diag_rule *rule)
{
	return rule != NULL && rule->code != NULL && rule->summary != NULL &&
	    rule->advice != NULL && (unsigned)rule->severity <= MTS_SEV_ERROR;
}

int
mts_diag_add_rule(struct mts_diag *diag, const struct mts_diag_rule *rule,
                  unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (!rule_valid(rule))
		return -1;
	if (diag == NULL)
		return 0;
	va_start(ap, fmt);
	diag_vadd(diag, rule, line, fmt, ap);
	va_end(ap);
	return 0;
}

void
mts_diag_merge(struct mts_diag *to, const struct mts_diag *from)
{
	struct mts_diag_rule rule;
	const struct mts_finding *f;
	size_t held[4] = {0, 0, 0, 0};
	size_t i;

	if (to == NULL || from == NULL)
		return;
	for (i = 0; i < from->count; i++) {
		f = &from->items[i];
		held[f->severity] += f->count;
		/* A finding carries all of its rule: a program's own codes
		   merge as the library's do, with no table to look in. */
		rule.code = f->code;
		rule.severity = f->severity;
		rule.summary = f->summary;
		rule.advice = f->advice;
		diag_put(to, &rule, f->line, f->message, f->count);
	}
	/* What `from` dropped is in its counts, not in its items. */
	for (i = 0; i < 4; i++)
		if (from->by_severity[i] > held[i])
			to->by_severity[i] += from->by_severity[i] - held[i];
	to->dropped += from->dropped;
}
