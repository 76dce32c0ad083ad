/* SPDX-License-Identifier: ISC */
/*
 * The report store: one small interface, two engines chosen by URL.
 *
 *   sqlite:PATH              SQLite, embedded, WAL (the default)
 *   postgresql://... (or postgres://...)  PostgreSQL through libpq, for
 *                            many ingesters writing one store
 *
 * One schema for both, versioned: store_open() creates it or migrates an
 * older one forward, and refuses a newer one.  Each report is stored in
 * one transaction, so a process killed mid-ingest leaves no partial
 * report; a report already stored (same organization-name and
 * report-id, RFC 8460 §5.3) is not stored again.  What cannot be parsed
 * goes to the quarantine with its reason, so nothing is lost.
 */
#ifndef MTS_REPORT_STORE_H
#define MTS_REPORT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <mtasts/tlsrpt_report.h>

struct store;

#define STORE_WHY_SIZE 256

/*
 * The URL used when none is given: $MTASTS_REPORT_DB when set, else
 * sqlite:/var/lib/mtasts/reports.db for root and
 * sqlite:$XDG_DATA_HOME/mtasts/reports.db (~/.local/share/...) for
 * others.  Writes it to buf; returns 0, or -1 when it does not fit.
 */
int store_default_url(char *buf, size_t size);

/* Opens (creating, migrating) the store at `url`.  0, or -1 with why. */
int store_open(const char *url, struct store **out, char *why, size_t why_size);
void store_close(struct store *store);

enum store_result {
	STORE_ADDED = 0, /* stored now */
	STORE_KNOWN,     /* already there: nothing written */
	STORE_FAILED     /* the engine failed: nothing written; retry later */
};

/*
 * Stores one parsed report with the codes of its deviations (the
 * warnings of its parse, may be NULL), where it came from, and when it
 * was received (seconds since the epoch).
 */
enum store_result store_put_report(struct store *store,
                                   const struct mts_tlsrpt_report *report,
                                   const struct mts_diag *deviations,
                                   const char *origin, int64_t received,
                                   char *why, size_t why_size);

/* Puts an input that is not a report, with the reason, in quarantine. */
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

struct store_query {
	const char *domain; /* NULL: every domain */
	int64_t since;      /* date-range start >= since; INT64_MIN: all */
	int64_t until;      /* date-range start < until; INT64_MAX: all */
	unsigned by;        /* STORE_BY_* */
};

/*
 * One row of a summary.  Grouped by MX or result, `failed` sums the
 * failure details' failed-session-count and `successful` is what the
 * reports say of the sessions with no failure of that key (see the
 * implementation's comment for the exact rule).
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

typedef int (*store_row_fn)(const struct store_row *row, void *ctx);

/*
 * Calls `fn` for each row, in key order; a non-zero return stops the
 * walk and is returned.  -1 with why when the engine failed.
 */
int store_summary(struct store *store, const struct store_query *query,
                  store_row_fn fn, void *ctx, char *why, size_t why_size);

#endif /* MTS_REPORT_STORE_H */
