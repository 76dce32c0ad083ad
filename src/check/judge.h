/* SPDX-License-Identifier: ISC */
/*
 * The judge of `mtasts check`: findings from the facts of one domain
 * (facts.h), as a sender would see the domain (RFC 8461 §3, §4, §5;
 * RFC 8460 §3; RFC 7672 §2, §3).  Pure: no network, no files, no
 * clock (the facts carry the time); the same facts give the same
 * findings, in the same order.
 */
#ifndef MTS_CHECK_JUDGE_H
#define MTS_CHECK_JUDGE_H

#include <stdbool.h>

#include <mtasts/mtasts.h>

#include "facts.h"

struct check_judgement {
	struct mts_diag diag;      /* every finding, in check order */
	enum mts_severity verdict; /* the worst severity that decides */
	const char *mode;          /* the policy's mode (static), or NULL */
	const char *id;            /* the record's id (in the judgement) */
	/* --state: the id and policy digest to remember for next time. */
	bool save_state;
	char digest[65];
	/* private */
	char sts_id[MTS_STS_ID_MAX + 1];
	bool have_policy;
	struct mts_sts_policy policy;
};

/*
 * Judges f into j (caller-owned, need not be initialised); release it
 * with check_judgement_reset().  What could not be judged for lack of
 * memory is a check-internal finding.
 */
void check_judge(const struct check_facts *f, struct check_judgement *j);

void check_judgement_reset(struct check_judgement *j);

#endif /* MTS_CHECK_JUDGE_H */
