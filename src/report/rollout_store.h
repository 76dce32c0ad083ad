/* SPDX-License-Identifier: ISC */
/*
 * The store as `mtasts rollout` uses it: the reports of one policy
 * domain, and the rollout's own memory, in the same database as the
 * reports (one URL, one schema version: store.c's migrations; version 2
 * adds the rollout's tables).  A struct store from store_open(), used
 * from one thread at a time, as store.h says.
 *
 *   rollout_events   every policy body mtasts rollout wrote: when, what
 *                    (promote, mx-change, mx-finish), the id it issued
 *                    and the one before, mode, max_age, MX patterns,
 *                    the file and the body's SHA-256.  Status shows the
 *                    last; the MX change plan reads the earlier ones
 *                    (a sender may still hold a policy they replaced).
 *   mx_changes       an MX change from its transition policy to its
 *                    finish: at most one open per domain, which the
 *                    database itself enforces (a unique index on the
 *                    domain of the open ones), so two admins or two
 *                    scripts cannot start two at once.
 *
 * Strings handed to callbacks are valid only during the call.  Every
 * function returns -1 with why (STORE_WHY_SIZE is enough) when the
 * engine fails; a lost PostgreSQL connection is retried on the next
 * call, as store.h says.
 */
#ifndef MTS_REPORT_ROLLOUT_STORE_H
#define MTS_REPORT_ROLLOUT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* ---- the reports of a domain ---- */

/*
 * One policy (RFC 8460 §4.4 "policies" entry) of a stored report whose
 * policy-domain is the domain asked for.
 */
struct rollout_policy_row {
	int64_t report;      /* the report's row id: equal ids, one report */
	int64_t range_start; /* date-range start, seconds */
	const char *org;     /* organization-name */
	const char *type;    /* policy-type: "sts", "tlsa", ... */
	const char *strings; /* policy-string as stored: a JSON array of
				  strings ("[]" when absent) */
	uint64_t successful; /* total-successful-session-count */
	uint64_t failed;     /* total-failure-session-count */
};

typedef int (*rollout_policy_fn)(const struct rollout_policy_row *row,
                                 void *ctx);

/*
 * Calls fn for each policy of `domain` (octet for octet, as the report
 * wrote it: the caller passes the lower-case A-label form) in reports
 * whose date-range start is in [since, until), ordered by range_start
 * then report then the policy's place.  A non-zero return of fn stops
 * the walk and is returned.
 */
int rollout_store_policies(struct store *store, const char *domain,
                           int64_t since, int64_t until, rollout_policy_fn fn,
                           void *ctx, char *why, size_t why_size);

/* One failure detail (§4.4 "failure-details") of such a policy. */
struct rollout_failure_row {
	int64_t report;
	int64_t range_start;
	const char *org;
	const char *type;    /* the policy's policy-type */
	const char *strings; /* the policy's policy-string, JSON array */
	const char *result;  /* result-type */
	const char *mx;      /* receiving-mx-hostname, NULL when absent */
	const char *ip;      /* receiving-ip, NULL when absent */
	uint64_t failed;     /* failed-session-count */
};

typedef int (*rollout_failure_fn)(const struct rollout_failure_row *row,
                                  void *ctx);

/* As rollout_store_policies(), for the failure details of the policies. */
int rollout_store_failures(struct store *store, const char *domain,
                           int64_t since, int64_t until, rollout_failure_fn fn,
                           void *ctx, char *why, size_t why_size);

/* ---- what rollout wrote ---- */

struct rollout_event {
	const char *domain;      /* lower-case A-labels */
	int64_t at;              /* when it was written */
	const char *action;      /* "promote", "mx-change", "mx-finish" */
	const char *policy_id;   /* the id issued with it */
	const char *previous_id; /* the id it replaced; NULL: unknown */
	const char *mode;        /* "testing", "enforce", "none" */
	uint32_t max_age;
	uint32_t previous_max_age; /* of the policy it replaced */
	const char *mx;            /* its mx patterns, a JSON array */
	const char *policy_file;   /* the path written */
	const char *sha256;        /* of the body written, lower-case hex */
};

/* Adds one event.  0 or -1. */
int rollout_store_log(struct store *store, const struct rollout_event *ev,
                      char *why, size_t why_size);

typedef int (*rollout_event_fn)(const struct rollout_event *ev, void *ctx);

/* Calls fn for each event of `domain`, oldest first (by at, then by
 * the order they were added). */
int rollout_store_events(struct store *store, const char *domain,
                         rollout_event_fn fn, void *ctx, char *why,
                         size_t why_size);

/* ---- MX changes ---- */

struct rollout_mx_change {
	int64_t id; /* its row id; set by rollout_store_mx_begin */
	const char *domain;
	const char *policy_file;
	int64_t started;
	int64_t cutover_at;  /* when the DNS MX records may change */
	const char *added;   /* JSON array of patterns */
	const char *removed; /* JSON array of patterns */
	const char *transition_id;
	int64_t finished;     /* -1 while open */
	const char *final_id; /* NULL while open */
};

#define ROLLOUT_STORE_EXISTS 1 /* an open change of the domain exists */
#define ROLLOUT_STORE_GONE   1 /* the change is no longer open */

/*
 * Starts an MX change (c->finished must be -1) and logs its event `ev`
 * (the transition policy written) in one transaction: both or neither.
 * 0 (c->id set), ROLLOUT_STORE_EXISTS when the domain has an open
 * change (nothing written; also when another process started one a
 * moment before), or -1.
 */
int rollout_store_mx_begin(struct store *store, struct rollout_mx_change *c,
                           const struct rollout_event *ev, char *why,
                           size_t why_size);

typedef int (*rollout_mx_fn)(const struct rollout_mx_change *c, void *ctx);

/*
 * Calls fn for the open change of `domain`, if there is one, and
 * returns fn's value; 0 when there is none (fn not called).  -1 on
 * failure.
 */
int rollout_store_mx_open(struct store *store, const char *domain,
                          rollout_mx_fn fn, void *ctx, char *why,
                          size_t why_size);

/*
 * Finishes the open change `id` at `finished` with the final policy's id
 * and logs `ev` (the final policy written), in one transaction.  0,
 * ROLLOUT_STORE_GONE when change `id` is not open any more (finished by
 * another process: nothing written), or -1.
 */
int rollout_store_mx_finish(struct store *store, int64_t id, int64_t finished,
                            const char *final_id,
                            const struct rollout_event *ev, char *why,
                            size_t why_size);

#endif /* MTS_REPORT_ROLLOUT_STORE_H */
