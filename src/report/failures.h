/* SPDX-License-Identifier: ISC */
/*
 * The failures of a report store, as `mtasts report alert` and the
 * failure table of `mtasts report html` show them: one entry per
 * policy-domain, result-type and receiving-mx-hostname (RFC 8460 §4.4
 * "failure-details"), with its failed sessions and the organizations
 * that reported them.  (Not how many reports: the row of failures
 * without detail also counts the reports of that organization that
 * had successful sessions only, store.h.)  Pure: it is fed the rows of
 * a store summary by STORE_BY_DOMAIN | STORE_BY_ORG | STORE_BY_MX |
 * STORE_BY_RESULT (store.h) and merges the organizations.
 */
#ifndef MTS_REPORT_FAILURES_H
#define MTS_REPORT_FAILURES_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Compares two keys of store rows in their order (store.h): octet order,
 * NULL (a key the report did not give) first.
 */
int failures_key_cmp(const char *a, const char *b);

/* The keys failures_add() wants its rows grouped by. */
#define FAILURES_BY                                                            \
	(STORE_BY_DOMAIN | STORE_BY_ORG | STORE_BY_MX | STORE_BY_RESULT)

/* At most this many rows are taken in: a bound on memory. */
#define FAILURES_MAX_ROWS 1000000u

struct failure {
	const char *domain; /* policy-domain; NULL when the reports lack it */
	const char *result; /* result-type; NULL: failures without detail */
	const char *mx;     /* receiving-mx-hostname; NULL when not given */
	uint64_t failed;    /* failed sessions */
	const char **orgs;  /* organization-name, octet order; NULL first */
	size_t org_count;
};

/* Owned by the caller; failures_init() before use, failures_reset() after. */
struct failures {
	struct failure *items; /* after failures_finish(), in order */
	size_t count;
	struct failure_row *rows; /* what failures_add() took in */
	size_t row_count;
	size_t row_cap;
};

void failures_init(struct failures *f);

/* Frees what f holds (the strings of its items too); f may be reused. */
void failures_reset(struct failures *f);

/*
 * Takes in one summary row (its strings are copied); a row of no failed
 * session is skipped.  0, or -1 with why (out of memory, more than
 * FAILURES_MAX_ROWS rows).
 */
int failures_add(struct failures *f, const struct store_row *row, char *why,
                 size_t why_size);

/*
 * Merges the rows into f->items: by domain (octet order, NULL first),
 * then most failed sessions first, then result-type and MX.  0, or -1
 * with why (out of memory, a sum past 2^64-1).
 */
int failures_finish(struct failures *f, char *why, size_t why_size);

#endif /* MTS_REPORT_FAILURES_H */
