/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/check/codes.c, the table of the finding codes of `mtasts
 * check` (codes_check.def).  The codes belong to the program, not to
 * libmtasts (issue 9), and are a stable interface for scripts: each is
 * unique, here and among the library's codes (`mtasts lint
 * --list-codes` lists both tables), well-formed, with a summary, and
 * advice for every problem; a pass has none.
 */
#include <string.h>

#include <mtasts/diag.h>

#include "codes.h"
#include "tap.h"

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
		} else if (!(*p >= 'a' && *p <= 'z') &&
		           !(*p >= '0' && *p <= '9')) {
			return false;
		}
	}
	return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A pass (ok) has no advice and a code that says so. */
static bool
pass_ok(const struct mts_diag_rule *r)
{
	return r->advice[0] == '\0' &&
	    (ends_with(r->code, "-ok") || ends_with(r->code, "-secure"));
}

static void
test_table(void)
{
	const struct mts_diag_rule *r, *s;
	size_t i, j, n, bad = 0, dup = 0, lib = 0, empty = 0, sev = 0;
	size_t ids = 0;

	for (n = 0; check_rule_at(n) != NULL; n++)
		;
	tap_ok(n == CHECK__COUNT && n > 0, "CODES T1: the table has %zu rows",
	       n);
	for (i = 0; i < n; i++) {
		r = check_rule_at(i);
		if (check_rule((enum check_code)i) != r)
			ids++;
		if (r->code == NULL || !is_kebab(r->code) ||
		    strncmp(r->code, "check-", 6) != 0) {
			bad++;
			tap_diag("row %zu: bad code", i);
			continue;
		}
		for (j = 0; j < i; j++) {
			s = check_rule_at(j);
			if (s->code != NULL && strcmp(s->code, r->code) == 0) {
				dup++;
				tap_diag("duplicate code %s", r->code);
			}
		}
		if (mts_diag_rule_find(r->code) != NULL) {
			lib++;
			tap_diag("%s: in the library's table too", r->code);
		}
		if (r->summary == NULL || r->summary[0] == '\0' ||
		    r->advice == NULL ||
		    (r->severity != MTS_SEV_OK && r->advice[0] == '\0')) {
			empty++;
			tap_diag("%s: empty summary or advice", r->code);
			continue;
		}
		if (r->severity > MTS_SEV_ERROR ||
		    (r->severity == MTS_SEV_OK && !pass_ok(r))) {
			sev++;
			tap_diag("%s: severity %d", r->code, (int)r->severity);
		}
	}
	tap_ok(ids == 0, "CODES T2: check_rule(id) is row id");
	tap_ok(bad == 0, "CODES T3: every code is check-, in kebab-case");
	tap_ok(dup == 0, "CODES T4: every code is unique");
	tap_ok(lib == 0, "CODES T5: no code is also one of the library's");
	tap_ok(empty == 0,
	       "CODES T6: every row has a summary, every problem advice");
	tap_ok(sev == 0,
	       "CODES T7: severities in range; a pass (ok) has no "
	       "advice and a code ending -ok or -secure");
	tap_ok(check_rule_at(n) == NULL && check_rule_at((size_t)-1) == NULL,
	       "CODES T8: rows past the end are NULL");
	r = check_rule(CHECK_INTERNAL);
	tap_ok(tap_streq(r->code, "check-internal") &&
	           r->severity == MTS_SEV_ERROR,
	       "CODES T9: check-internal, the fallback, is an error");
}

/* Every row makes a finding through the library, which keeps its rule. */
static void
test_findings(void)
{
	const struct mts_diag_rule *r;
	struct mts_diag d;
	size_t i, refused = 0, wrong = 0;

	for (i = 0; (r = check_rule_at(i)) != NULL; i++) {
		mts_diag_init(&d);
		if (mts_diag_add_rule(&d, r, 0, "row %zu", i) != 0)
			refused++;
		else if (d.count != 1 || d.items[0].code != r->code ||
		         d.items[0].severity != r->severity ||
		         d.items[0].summary != r->summary ||
		         d.items[0].advice != r->advice)
			wrong++;
		mts_diag_reset(&d);
	}
	tap_ok(refused == 0 && wrong == 0,
	       "CODES T10: every row is a rule the library takes, and its "
	       "findings point into the table (%zu refused, %zu wrong)",
	       refused, wrong);
}

int
main(void)
{
	test_table();
	test_findings();
	return tap_done();
}
