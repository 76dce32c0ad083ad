/* SPDX-License-Identifier: ISC */
/*
 * The memory of `mtasts check --state DIR`: for each domain, the id and
 * SHA-256 of the last policy seen, in DIR/<domain>.state ("id ID sha256
 * HEX"), so that a policy changed under an old id is caught on the next
 * run (RFC 8461 §3.1: senders keep a cached policy while its id stays).
 * The comparison is the judge's (judge.c); here are the files.
 *
 * A state file that cannot be read or written is said on stderr with
 * its path and the reason, and counted: mtasts check then exits 2,
 * since the next run would miss a changed policy without a word.
 */
#ifndef MTS_CHECK_STATE_H
#define MTS_CHECK_STATE_H

#include <stddef.h>

#include "facts.h"

struct state_dir {
	const char *dir; /* borrowed; NULL: no state */
	size_t errors;   /* files that failed, reported */
};

/*
 * The directory must be one before any domain is checked: a path that
 * cannot be one fails at once, not after the whole run.  0, or -1 with
 * the reason on stderr.
 */
int state_dir_check(const char *dir);

/*
 * Reads the state of `domain` into s (enabled when sd has a directory).
 * A missing file is the first run; any other failure is kept in *err
 * (an errno, 0 for none) for state_save() to report: it matters only
 * when there is something to remember.
 */
void state_load(const struct state_dir *sd, const char *domain,
                struct state_fact *s, int *err);

/*
 * Reports the load error `err`, if any, then writes the id and digest
 * of `domain` through a temporary file.
 */
void state_save(struct state_dir *sd, const char *domain, const char *id,
                const char *digest, int err);

#endif /* MTS_CHECK_STATE_H */
