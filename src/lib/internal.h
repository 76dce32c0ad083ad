/* SPDX-License-Identifier: ISC */
/*
 * Internal helpers shared by the core modules; not installed.  Symbols
 * here are prefixed mts_ but not exported (hidden visibility).
 */
#ifndef MTS_INTERNAL_H
#define MTS_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <mtasts/diag.h>
#include <mtasts/err.h>

#if defined(__GNUC__)
#define MTS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MTS_PRINTF(f, a)
#endif

/* Every finding code of the library, from the per-module tables. */
enum mts_diag_id {
#define MTS_DIAG(id, code, sev, summary, advice) MTS_D_##id,
#include "codes_sts_record.def"
#include "codes_sts_policy.def"
#include "codes_tlsrpt_record.def"
#include "codes_tlsrpt_report.def"
#include "codes_dane_tlsa.def"
#undef MTS_DIAG
	MTS_D__COUNT
};

/*
 * Adds a finding with the code, severity and advice of table row `id`
 * and a message formatted from fmt.  A NULL diag is a no-op; so the
 * parsers call it unconditionally and keep their own error count.
 */
void mts_diag_add(struct mts_diag *diag, enum mts_diag_id id, unsigned line,
                  const char *fmt, ...) MTS_PRINTF(4, 5);

/* The severity of table row `id`. */
enum mts_severity mts_diag_severity(enum mts_diag_id id);

/* Fills *err (when not NULL) and returns -1, for `return mts_err_set(...)`. */
int mts_err_set(struct mts_err *err, enum mts_errcode code, unsigned line,
                unsigned column, const char *msg);

/* ASCII-only character classes: the core never depends on the locale. */
static inline bool
mts_is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline bool
mts_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool
mts_is_alnum(int c)
{
	return mts_is_alpha(c) || mts_is_digit(c);
}

static inline bool
mts_is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static inline int
mts_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Copies s[0..n) into a new NUL-terminated string; NULL on failure. */
char *mts_strndup(const char *s, size_t n);

#endif /* MTS_INTERNAL_H */
