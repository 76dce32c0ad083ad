/* SPDX-License-Identifier: ISC */
/*
 * The table of the finding codes of `mtasts check` (codes.h), built from
 * codes_check.def as the library builds its own from src/lib/codes_*.def.
 */
#include <assert.h>

#include "codes.h"

static const struct mts_diag_rule rules[CHECK__COUNT] = {
#define MTS_DIAG(id, code, sev, summary, advice)                               \
	[id] = {code, MTS_SEV_##sev, summary, advice},
#include "codes_check.def"
#undef MTS_DIAG
};

const struct mts_diag_rule *
check_rule(enum check_code id)
{
	assert((unsigned)id < CHECK__COUNT);
	if ((unsigned)id >= CHECK__COUNT)
		return &rules[CHECK_INTERNAL];
	return &rules[id];
}

const struct mts_diag_rule *
check_rule_at(size_t i)
{
	return i < CHECK__COUNT ? &rules[i] : NULL;
}
