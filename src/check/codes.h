/* SPDX-License-Identifier: ISC */
/*
 * The finding codes of `mtasts check` (codes_check.def): the program's
 * own table, beside the library's codes that its lints add.  Each code
 * has an id, so that a finding of a code not in the table does not
 * build.  The table is static: findings made of it (mts_diag_add_rule())
 * may point into it for as long as the program runs.
 */
#ifndef MTS_CHECK_CODES_H
#define MTS_CHECK_CODES_H

#include <stddef.h>

#include <mtasts/diag.h>

enum check_code {
#define MTS_DIAG(id, code, sev, summary, advice) id,
#include "codes_check.def"
#undef MTS_DIAG
	CHECK__COUNT
};

/*
 * The row of id.  An id out of range is a bug: it asserts, and without
 * assertions gives the row of CHECK_INTERNAL, so that the finding is
 * said, not lost.
 */
const struct mts_diag_rule *check_rule(enum check_code id);

/*
 * Row i of the table in its order, or NULL past the end: for `mtasts
 * lint --list-codes` and the tests.
 */
const struct mts_diag_rule *check_rule_at(size_t i);

#endif /* MTS_CHECK_CODES_H */
