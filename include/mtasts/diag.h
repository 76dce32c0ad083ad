/* SPDX-License-Identifier: ISC */
/*
 * Diagnostics: the findings of a parser or checker.
 *
 * Every finding has a stable code ("policy-mx-invalid"), a severity, a
 * message naming the offending text, the 1-based line it applies to (0
 * when the input has no lines) and advice.  The library's codes,
 * severities and advice come from one table (src/lib/codes_*.def) so
 * that they stay stable for scripts and are documented in one place;
 * mts_diag_rule_at() walks that table.  A program with findings of its
 * own keeps its own table of struct mts_diag_rule and adds them with
 * mts_diag_add_rule(), to the same lists.
 *
 * A struct mts_diag is caller-embedded: mts_diag_init() it, pass it to
 * parsers, read it, mts_diag_reset() it.  It holds at most MTS_DIAG_MAX
 * findings (an input made of 64 KiB of garbage must not cost megabytes
 * of findings), and keeps the ones that matter in them:
 *
 *   - a code repeats: a finding with the code, line and message of one
 *     held is folded into it, whose `count` says how many it stands for
 *     (10,000 stale "mx: a" patterns are one line, not 100); past
 *     MTS_DIAG_FOLD findings of one code, the next ones are folded into
 *     the last of them;
 *   - the list is full: a finding of a code already held is folded into
 *     it; one of a new code takes the place of a finding of lower
 *     severity (the last one stored), so no warning ever pushes out an
 *     error; only when there is none is the new finding dropped.
 *
 * Whatever is pushed out or dropped is counted in `dropped`, to be said.
 */
#ifndef MTASTS_DIAG_H
#define MTASTS_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include <mtasts/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ordered by weight: a check's verdict is its worst finding. */
enum mts_severity {
	MTS_SEV_OK = 0, /* a check passed (used by `mtasts check`) */
	MTS_SEV_INFO,
	MTS_SEV_WARNING,
	MTS_SEV_ERROR
};

#define MTS_DIAG_MAX         100
#define MTS_DIAG_FOLD        10 /* findings of one code before folding */
#define MTS_FINDING_MSG_SIZE 256

struct mts_finding {
	const char *code; /* stable code from the rule; the rule's storage */
	enum mts_severity severity;
	unsigned line;       /* 1-based, 0 when not tied to a line */
	const char *summary; /* what the code means; the rule's storage */
	char message[MTS_FINDING_MSG_SIZE]; /* the specifics: the text
					       at fault, its column */
	const char *advice; /* the rule's storage; may be "" but never
			       NULL */
	size_t count;       /* findings this one stands for: 1, more when
			       later ones of its code were folded into it */
};

struct mts_diag {
	struct mts_finding *items; /* owned */
	size_t count;
	size_t cap;
	size_t dropped;        /* findings not held, folded ones aside:
				      pushed out or dropped when full, or
				      an allocation failed */
	size_t by_severity[4]; /* counts including folded and dropped
				  findings */
};

/*
 * One row of a code table: the library's, or a program's own (see
 * mts_diag_add_rule()).  A code names one rule: findings are of one code
 * when their code strings are equal.
 */
struct mts_diag_rule {
	const char *code;
	enum mts_severity severity;
	const char *summary; /* one line: what the finding means */
	const char *advice;
};

MTS_API void mts_diag_init(struct mts_diag *diag);

/* Frees the findings; the struct can be used again.  NULL-safe. */
MTS_API void mts_diag_reset(struct mts_diag *diag);

/* Number of findings of a severity, folded and dropped ones included. */
MTS_API size_t mts_diag_count(const struct mts_diag *diag,
                              enum mts_severity severity);

/*
 * Orders the findings by line, stable, findings not tied to a line
 * last: the order people read a file in.
 */
MTS_API void mts_diag_sort(struct mts_diag *diag);

/* "ok", "info", "warning" or "error". */
MTS_API const char *mts_severity_name(enum mts_severity severity);

/*
 * The library's code table, for documentation and `mtasts lint
 * --list-codes`: returns row i, or NULL past the end.
 */
MTS_API const struct mts_diag_rule *mts_diag_rule_at(size_t i);

/*
 * Adds a finding under a rule the caller owns, for a program with codes
 * of its own (mtasts check has its table): code, severity, summary and
 * advice come from *rule, the message from fmt; it is folded, pushed out
 * or dropped as the library's findings are.  The finding keeps pointers
 * to the rule's strings, not copies: they must outlive every list the
 * finding is in (a static table does).  Returns 0, or -1 when rule is
 * NULL, one of its strings is NULL or its severity is not one of enum
 * mts_severity (nothing added).  A NULL diag is a no-op returning 0
 * for a good rule: a checker can add findings unconditionally.
 */
MTS_API int mts_diag_add_rule(struct mts_diag *diag,
                              const struct mts_diag_rule *rule, unsigned line,
                              const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/*
 * Adds every finding of `from` to `to` (folding, pushing out and dropping
 * as mts_diag_add_rule() does), with their counts, and the findings
 * `from` dropped to `to`'s counts and `dropped`: for a program that
 * collects a parser's findings into its own list.  The findings of `to`
 * point to the same rule strings as those of `from`.  NULL-safe.
 */
MTS_API void mts_diag_merge(struct mts_diag *to, const struct mts_diag *from);

/* The library's table row of a code string, or NULL. */
MTS_API const struct mts_diag_rule *mts_diag_rule_find(const char *code);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_DIAG_H */
