/* SPDX-License-Identifier: ISC */
/*
 * The report store: one small interface, two engines chosen by URL.
 *
 *   sqlite:PATH              SQLite, embedded, WAL (the default); a bare
 *                            path starting with '/' or '.' is taken as
 *                            sqlite:PATH
 *   postgresql://... (or postgres://...)  PostgreSQL through libpq, for
 *                            many ingesters writing one store; any libpq
 *                            connection URI
 *
 * One schema for both, versioned: store_open() creates it or migrates an
 * older one forward, and refuses a newer one.  Each report is stored in
 * one transaction, so a process killed mid-ingest leaves no partial
 * report; a report already stored (same organization-name and
 * report-id, RFC 8460 §5.3) is not stored again, also when several
 * processes store it at once (one gets STORE_ADDED, the others
 * STORE_KNOWN).  What cannot be parsed goes to the quarantine with its
 * reason, so nothing is lost.
 *
 * A struct store is one connection: use it from one thread at a time.
 * Several processes may each open the same store.
 */
#ifndef MTS_REPORT_STORE_H
#define MTS_REPORT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <mtasts/tlsrpt_report.h>

struct store;

#define STORE_WHY_SIZE 256

/* The schema version this program writes (see store.c's migrations). */
#define STORE_SCHEMA_VERSION 2

/*
 * Octets of a quarantined input kept; the rest is dropped and the
 * input's whole size recorded beside it.  1 MiB is far more than any
 * real report mail, and bounds what garbage can cost.
 */
#define STORE_QUARANTINE_MAX (1024u * 1024)

/*
 * The URL used when none is given: $MTASTS_REPORT_DB when set and not
 * empty, else sqlite:/var/lib/mtasts/reports.db for root and
 * sqlite:$XDG_DATA_HOME/mtasts/reports.db (~/.local/share/... when
 * XDG_DATA_HOME is unset or not absolute) for others.  Writes it to
 * buf; returns 0, or -1 when it does not fit or there is no HOME.
 */
int store_default_url(char *buf, size_t size);

/*
 * Opens (creating, migrating) the store at `url`.  For SQLite, the
 * file's directory is made when missing (0700, 0750 for root; its
 * parents too).  0 and *out, or -1 with why: a URL of no known scheme,
 * the engine refusing the connection, a schema newer than
 * STORE_SCHEMA_VERSION ("... upgrade mtasts"), a failed migration
 * (nothing of it kept).  Release the store with store_close().
 */
int store_open(const char *url, struct store **out, char *why, size_t why_size);

/* Closes the connection and frees the store.  NULL-safe. */
void store_close(struct store *store);

enum store_result {
	STORE_ADDED = 0, /* stored now */
	STORE_KNOWN,     /* already there: nothing written */
	STORE_FAILED     /* the engine failed: nothing written; retry later */
};

/*
 * Stores one parsed report with the codes of its deviations (the
 * warnings of its parse, may be NULL: each distinct finding code is
 * kept), where it came from (may be NULL), and when it was received
 * (seconds since the epoch).  Strings are copied; nothing is kept of
 * the arguments.  Counts must be at most INT64_MAX (the parser caps
 * them there; a larger one is refused with STORE_FAILED and a why).
 * After STORE_FAILED on a lost PostgreSQL connection the next call
 * reconnects.
 */
enum store_result store_put_report(struct store *store,
                                   const struct mts_tlsrpt_report *report,
                                   const struct mts_diag *deviations,
                                   const char *origin, int64_t received,
                                   char *why, size_t why_size);

/*
 * Puts an input that is not a report, with the reason, in quarantine:
 * its first STORE_QUARANTINE_MAX octets and its whole size.  Every call
 * adds a row (STORE_ADDED) or fails (STORE_FAILED).
 */
enum store_result store_put_quarantine(struct store *store, const char *raw,
                                       size_t raw_len, const char *origin,
                                       const char *reason, int64_t received,
                                       char *why, size_t why_size);

/* Keys a summary groups by; a row's other keys are NULL (or -1). */
#define STORE_BY_DAY    0x01u /* UTC day of the date-range start */
#define STORE_BY_DOMAIN 0x02u /* policy-domain */
#define STORE_BY_ORG    0x04u /* organization-name */
#define STORE_BY_MX     0x08u /* receiving-mx-hostname of the failures */
#define STORE_BY_RESULT 0x10u /* result-type of the failures */
#define STORE_BY_ALL    0x1fu

struct store_query {
	const char *domain; /* NULL: every domain; else policy-domain equal
	                       to it, octet for octet */
	int64_t since;      /* date-range start >= since; INT64_MIN: all */
	int64_t until;      /* date-range start < until; INT64_MAX: all */
	unsigned by;        /* STORE_BY_* */
};

/*
 * One row of a summary: what the policies (RFC 8460 §4.4 "policies")
 * of the reports in the query say, summed over the row's keys.
 *
 * Without STORE_BY_MX and STORE_BY_RESULT, each policy counts once:
 * `successful` sums total-successful-session-count, `failed`
 * total-failure-session-count.
 *
 * With STORE_BY_MX or STORE_BY_RESULT (or both), the sessions are split
 * by what the failure details say of them (§4.4 "failure-details"):
 *   - each failure detail counts in the row of its receiving-mx-hostname
 *     and result-type: `failed` sums its failed-session-count and
 *     `successful` is 0 (a detail describes failed sessions only);
 *   - each policy also counts in the row whose MX and result keys are
 *     NULL: `successful` is its total-successful-session-count and
 *     `failed` the failures its details do not account for,
 *     total-failure-session-count minus the sum of its details'
 *     failed-session-count (0 when the details sum to more); a policy
 *     adding 0 and 0 there is left out of that row.
 * So the NULL row holds the sessions that cannot be put on an MX or a
 * result: the successful ones and the failures reported without detail
 * (a detail without receiving-mx-hostname, a deviation, also lands in
 * the NULL MX of its result), and summed over all rows of a summary
 * `successful` is the same as without MX and result, and `failed` too
 * when the reports' details never sum to more than their totals.
 *
 * `reports` counts the distinct reports that added to the row.  A key
 * is also NULL when the reports lack it (a policy without
 * policy-domain).  Rows come in key order: day, domain, organization,
 * MX, result; strings in octet order (C collation), NULL first.  Rows
 * with no report are not given.  Sums past UINT64_MAX (SQLite: past
 * INT64_MAX) fail the summary rather than wrap.
 */
struct store_row {
	int64_t day;        /* seconds, 00:00 UTC; -1 when not grouped */
	const char *domain; /* NULL when not grouped */
	const char *org;
	const char *mx;
	const char *result;
	uint64_t successful;
	uint64_t failed;
	uint64_t reports; /* reports the row is made of */
};

/* The row and its strings are valid only during the call. */
typedef int (*store_row_fn)(const struct store_row *row, void *ctx);

/*
 * Calls `fn` for each row, in key order; a non-zero return stops the
 * walk and is returned.  -1 with why when the engine failed (then `fn`
 * may have seen some rows).
 */
int store_summary(struct store *store, const struct store_query *query,
                  store_row_fn fn, void *ctx, char *why, size_t why_size);

#endif /* MTS_REPORT_STORE_H */
