/* SPDX-License-Identifier: ISC */
/*
 * A minimal TAP (Test Anything Protocol) producer for the unit tests.
 * Each check prints "ok N - name" or "not ok N - name"; tap_done()
 * prints the plan and returns the exit status.  Test names cite the
 * checklist id they cover ("STS-POL-12 T1: first mode wins").
 */
#ifndef MTS_TAP_H
#define MTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned tap_count;
static unsigned tap_failed;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline bool(tap_ok)(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %u - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/*
 * A check whose condition is constantly true (tap_ok(true, ...)) cannot
 * fail and would count a pass for nothing: refused at compile time.
 * Check the state the call leaves instead, or count nothing; a check
 * not made is tap_skip().  TAP_CONSTANT_TRUE(x) is 1 when x is a true
 * integer constant expression: only then is the cast a null pointer
 * constant and the conditional an int * (C11 6.3.2.3, 6.5.15p6),
 * whatever the optimiser knows.  tap_ok(false, ...) stays: it fails.
 */
#define TAP_CONSTANT_TRUE(x)                                                   \
	_Generic((1 ? (int *)0 : (void *)((x) ? 0l : 1l)), int * : 1,          \
	         default : 0)
#define tap_ok(cond, ...)                                                      \
	((void)sizeof(struct {                                                 \
		 _Static_assert(!TAP_CONSTANT_TRUE(cond),                      \
		                "tap_ok: a constant condition cannot fail");   \
		 int unused;                                                   \
	 }),                                                                   \
	 (tap_ok)((cond), __VA_ARGS__))

/* A check not made here, and why: "ok N - name # SKIP why". */
static inline void
tap_skip(const char *name, const char *why)
{
	printf("ok %u - %s # SKIP %s\n", ++tap_count, name, why);
	fflush(stdout);
}

/* A diagnostic line; shown by TAP harnesses, ignored in the counts. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static inline void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Compares two strings; NULL equals only NULL. */
static inline bool
tap_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline int
tap_done(void)
{
	printf("1..%u\n", tap_count);
	if (tap_failed != 0)
		tap_diag("%u of %u checks failed", tap_failed, tap_count);
	return tap_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* MTS_TAP_H */
