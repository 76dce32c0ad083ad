/* SPDX-License-Identifier: ISC */
/*
 * Inside the report store: what store.c shares with its engines
 * (store_sqlite.c, store_pg.c).  store.c parses the URL, checks and
 * prepares each report once (its lists as JSON text, the sums the
 * summary needs), writes the SQL of the migrations and the summaries,
 * and drives the migrations; an engine only talks to its database.
 */
#ifndef MTS_REPORT_STORE_INT_H
#define MTS_REPORT_STORE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct store_engine;

/* Every engine's handle starts with this. */
struct store {
	const struct store_engine *engine;
};

/* One policy of a report as stored: the report's, plus text and sums. */
struct store_policy_rec {
	const struct mts_tlsrpt_policy *policy;
	char *strings_json;    /* policy-string as a JSON array; owned */
	char *mx_json;         /* mx-host as a JSON array; owned */
	int64_t detail_failed; /* sum of the details' counts, at most
	                          INT64_MAX */
};

/* One report as stored. */
struct store_report_rec {
	const struct mts_tlsrpt_report *report;
	char *deviations_json; /* distinct finding codes; owned */
	const char *origin;    /* may be NULL */
	int64_t received;
	int64_t successful; /* summed over the policies, at most INT64_MAX */
	int64_t failed;
	struct store_policy_rec *policies; /* report->policy_count; owned */
	size_t failure_count;              /* over all policies */
};

/* What the engines need to run a summary: SQL made by store.c. */
struct store_summary_sql {
	const char *sql;    /* parameters 1 since, 2 until, 3 domain */
	const char *domain; /* NULL: parameter 3 is not in sql */
	int64_t since;
	int64_t until;
};

/* The dialects the SQL of store.c is written for. */
enum store_dialect { STORE_SQLITE, STORE_PG };

/*
 * A parameter of a query, or a cell of one of its rows.  Integer
 * columns (SQLite INTEGER, PostgreSQL bigint, integer, smallint) come
 * as STORE_CELL_INT, NULL as STORE_CELL_NULL, any other value as its
 * text.
 */
enum store_cell_type { STORE_CELL_NULL, STORE_CELL_INT, STORE_CELL_TEXT };

struct store_cell {
	enum store_cell_type type;
	int64_t i;     /* STORE_CELL_INT */
	const char *s; /* STORE_CELL_TEXT; borrowed */
};

/* Columns of a row at most, and parameters of a query at most. */
#define STORE_CELLS_MAX 16

/* One row: `n` cells, valid only during the call. */
typedef int (*store_cells_fn)(const struct store_cell *cells, size_t n,
                              void *ctx);

/* What a query returns when a unique constraint refused its row. */
#define STORE_UNIQUE (-2)

struct store_engine {
	const char *name;
	enum store_dialect dialect;
	/* Connects to `url` (the whole URL); no schema work. */
	int (*open)(const char *url, struct store **out, char *why,
	            size_t why_size);
	void (*close)(struct store *store);
	/*
	 * The schema version of the database, 0 when it has no
	 * schema_version table (a new database).
	 */
	int (*read_version)(struct store *store, int *version, char *why,
	                    size_t why_size);
	/*
	 * Starts the migration transaction, holding a lock no other
	 * migrating process can hold at the same time.
	 */
	int (*begin_migration)(struct store *store, char *why, size_t why_size);
	/* Runs SQL of one or more statements, no parameters, no rows. */
	int (*exec)(struct store *store, const char *sql, char *why,
	            size_t why_size);
	int (*commit)(struct store *store, char *why, size_t why_size);
	void (*rollback)(struct store *store);
	/* Prepares the statements of the put paths, once, after the schema. */
	int (*prepare)(struct store *store, char *why, size_t why_size);
	enum store_result (*put_report)(struct store *store,
	                                const struct store_report_rec *rec,
	                                char *why, size_t why_size);
	enum store_result (*put_quarantine)(
	    struct store *store, const char *raw, size_t raw_len,
	    int64_t raw_size, const char *origin, const char *reason,
	    int64_t received, char *why, size_t why_size);
	int (*summary)(struct store *store, const struct store_summary_sql *q,
	               store_row_fn fn, void *ctx, char *why, size_t why_size);
	/*
	 * Runs one statement of `sql` in the engine's dialect, its
	 * parameters numbered (?1 in SQLite, $1 in PostgreSQL: store.c's
	 * way), with `n` parameters (at most STORE_CELLS_MAX), and calls
	 * fn (may be NULL) for each row of at most STORE_CELLS_MAX
	 * columns.  0 once every row is seen; fn's non-zero return, which
	 * stops the walk; STORE_UNIQUE when a unique constraint refused a
	 * row (SQLITE_CONSTRAINT_UNIQUE, SQLSTATE 23505), with why; or -1
	 * with why.  Outside a transaction the statement is one.
	 */
	int (*query)(struct store *store, const char *sql,
	             const struct store_cell *params, size_t n,
	             store_cells_fn fn, void *ctx, char *why, size_t why_size);
	/*
	 * A transaction of queries: begun holding the right to write (so
	 * SQLite's never has to upgrade a read lock, as put_report), then
	 * committed, or rolled back (also after a failed query; harmless
	 * when none is open).  Not for migrations, which have their own.
	 * A PostgreSQL connection lost inside one fails it: the store does
	 * not reconnect before the transaction has ended.
	 */
	int (*tx_begin)(struct store *store, char *why, size_t why_size);
	int (*tx_commit)(struct store *store, char *why, size_t why_size);
	void (*tx_rollback)(struct store *store);
};

extern const struct store_engine store_engine_sqlite;
extern const struct store_engine store_engine_pg;

/* Writes a message to why (NUL-terminated, cut to fit); why may be NULL. */
void store_why(char *why, size_t why_size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* MTS_REPORT_STORE_INT_H */
