/* SPDX-License-Identifier: ISC */
/*
 * The SQLite engine of the report store (sqlite:PATH).
 *
 * WAL with synchronous=NORMAL: a commit appends to the log without an
 * fsync, and a crash (of the machine, not only of the process) may lose
 * the last commits but never leaves a partial one.  A busy timeout lets
 * several ingesters share one file: a writer waits for the others'
 * short transactions instead of failing.  Every statement of the put
 * paths is prepared once at open; a report is one BEGIN IMMEDIATE ...
 * COMMIT (taking the write lock up front, so a transaction never has to
 * upgrade a read lock, which WAL cannot wait for).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_int.h"

/* Long enough for any other ingester's transaction, or a checkpoint. */
#define BUSY_TIMEOUT_MS 15000

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *begin;
	sqlite3_stmt *commit;
	sqlite3_stmt *rollback;
	sqlite3_stmt *report;
	sqlite3_stmt *policy;
	sqlite3_stmt *failure;
	sqlite3_stmt *quarantine;
};

static struct sqlite_store *
lite(struct store *s)
{
	return (struct sqlite_store *)s;
}

static void
why_db(sqlite3 *db, const char *what, char *why, size_t why_size)
{
	store_why(why, why_size, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

/*
 * Makes the directories leading to path, each missing one with `mode`:
 * a store's directory holds reports only its owner (and, for root's
 * /var/lib/mtasts, its group) should read.
 */
static int
make_parents(const char *path, mode_t mode, char *why, size_t why_size)
{
	char *dir, *p;
	int rc = 0;

	if ((dir = strdup(path)) == NULL) {
		store_why(why, why_size, "out of memory");
		return -1;
	}
	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, mode) == -1 && errno != EEXIST) {
			store_why(why, why_size, "sqlite: mkdir %s: %s", dir,
			          strerror(errno));
			rc = -1;
			break;
		}
		*p = '/';
	}
	free(dir);
	return rc;
}

static int
lite_exec(struct store *s, const char *sql, char *why, size_t why_size)
{
	char *msg = NULL;

	if (sqlite3_exec(lite(s)->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_why(why, why_size, "sqlite: %s",
		          msg != NULL ? msg : sqlite3_errmsg(lite(s)->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void
lite_close(struct store *s)
{
	struct sqlite_store *l = lite(s);

	sqlite3_finalize(l->begin);
	sqlite3_finalize(l->commit);
	sqlite3_finalize(l->rollback);
	sqlite3_finalize(l->report);
	sqlite3_finalize(l->policy);
	sqlite3_finalize(l->failure);
	sqlite3_finalize(l->quarantine);
	sqlite3_close(l->db);
	free(l);
}

static int
lite_open(const char *url, struct store **out, char *why, size_t why_size)
{
	const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
	struct sqlite_store *l;

	if (path[0] == '\0') {
		store_why(why, why_size, "sqlite: no file name in %s", url);
		return -1;
	}
	if (make_parents(path, geteuid() == 0 ? 0750 : 0700, why, why_size) ==
	    -1)
		return -1;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		store_why(why, why_size, "out of memory");
		return -1;
	}
	l->base.engine = &store_engine_sqlite;
	if (sqlite3_open_v2(path, &l->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                        SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		store_why(why, why_size, "sqlite: %s: %s", path,
		          l->db == NULL ? "out of memory" :
		                          sqlite3_errmsg(l->db));
		goto fail;
	}
	sqlite3_extended_result_codes(l->db, 1);
	sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
	/*
	 * Connection settings, once: they are not part of the schema.  A
	 * file system without shared memory keeps its rollback journal;
	 * then journal_mode answers what it kept, and that still works.
	 */
	if (lite_exec(&l->base,
	              "PRAGMA journal_mode = WAL;"
	              "PRAGMA synchronous = NORMAL;"
	              "PRAGMA foreign_keys = ON;"
	              "PRAGMA wal_autocheckpoint = 10000;",
	              why, why_size) == -1)
		goto fail;
	*out = &l->base;
	return 0;
fail:
	lite_close(&l->base);
	return -1;
}

static int
lite_read_version(struct store *s, int *version, char *why, size_t why_size)
{
	sqlite3 *db = lite(s)->db;
	sqlite3_stmt *st = NULL;
	int rc, v = 0;

	rc = sqlite3_prepare_v2(db,
	                        "SELECT count(*) FROM sqlite_master WHERE "
	                        "type = 'table' AND name = 'schema_version'",
	                        -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_int(st, 0) == 1) {
		sqlite3_finalize(st);
		st = NULL;
		rc = sqlite3_prepare_v2(db,
		                        "SELECT coalesce(max(version), 0) "
		                        "FROM schema_version",
		                        -1, &st, NULL);
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
	}
	if (rc != SQLITE_ROW) {
		why_db(db, "reading the schema version", why, why_size);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	*version = v;
	return 0;
}

static int
lite_begin_migration(struct store *s, char *why, size_t why_size)
{
	return lite_exec(s, "BEGIN IMMEDIATE", why, why_size);
}

static int
lite_commit(struct store *s, char *why, size_t why_size)
{
	return lite_exec(s, "COMMIT", why, why_size);
}

static void
lite_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(lite(s)->db) == 0)
		(void)sqlite3_exec(lite(s)->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
lite_prepare(struct store *s, char *why, size_t why_size)
{
	struct sqlite_store *l = lite(s);
	const struct {
		sqlite3_stmt **st;
		const char *sql;
	} stmts[] = {
	    {&l->begin, "BEGIN IMMEDIATE"},
	    {&l->commit, "COMMIT"},
	    {&l->rollback, "ROLLBACK"},
	    {&l->report,
	     "INSERT INTO reports (org, report_id, range_start, range_end, "
	     "contact, received, origin, deviations, successful, failed) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	     "ON CONFLICT (org, report_id) DO NOTHING"},
	    {&l->policy,
	     "INSERT INTO policies (report, idx, type, domain, strings, "
	     "mx_hosts, successful, failed, detail_failed) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
	    {&l->failure,
	     "INSERT INTO failures (report, pidx, idx, result_type, "
	     "sending_mta_ip, "
	     "receiving_mx_hostname, receiving_mx_helo, receiving_ip, "
	     "additional_information, failure_reason_code, failed_sessions) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
	    {&l->quarantine,
	     "INSERT INTO quarantine (received, origin, reason, raw, raw_size) "
	     "VALUES (?, ?, ?, ?, ?)"},
	};
	size_t i;

	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		if (sqlite3_prepare_v3(l->db, stmts[i].sql, -1,
		                       SQLITE_PREPARE_PERSISTENT, stmts[i].st,
		                       NULL) != SQLITE_OK) {
			why_db(l->db, "preparing", why, why_size);
			return -1;
		}
	return 0;
}

/* Binds a string that outlives the statement's step, or NULL. */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Steps a statement that returns no rows; resets it. */
static int
run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
put_failures(struct sqlite_store *l, const struct mts_tlsrpt_policy *p,
             sqlite3_int64 report_id, size_t pidx)
{
	sqlite3_stmt *st = l->failure;
	size_t i;

	for (i = 0; i < p->failure_count; i++) {
		const struct mts_tlsrpt_failure *f = &p->failures[i];

		sqlite3_bind_int64(st, 1, report_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)pidx);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		bind_text(st, 4, f->result_type);
		bind_text(st, 5, f->sending_mta_ip);
		bind_text(st, 6, f->receiving_mx_hostname);
		bind_text(st, 7, f->receiving_mx_helo);
		bind_text(st, 8, f->receiving_ip);
		bind_text(st, 9, f->additional_information);
		bind_text(st, 10, f->failure_reason_code);
		sqlite3_bind_int64(st, 11,
		                   (sqlite3_int64)f->failed_session_count);
		if (run(st) == -1)
			return -1;
	}
	return 0;
}

static int
put_policies(struct sqlite_store *l, const struct store_report_rec *rec,
             sqlite3_int64 report_id)
{
	sqlite3_stmt *st = l->policy;
	size_t i;

	for (i = 0; i < rec->report->policy_count; i++) {
		const struct store_policy_rec *pr = &rec->policies[i];
		const struct mts_tlsrpt_policy *p = pr->policy;

		sqlite3_bind_int64(st, 1, report_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_text(st, 3, p->policy_type);
		bind_text(st, 4, p->policy_domain);
		bind_text(st, 5, pr->strings_json);
		bind_text(st, 6, pr->mx_json);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)p->successful);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)p->failed);
		sqlite3_bind_int64(st, 9, pr->detail_failed);
		if (run(st) == -1 || put_failures(l, p, report_id, i) == -1)
			return -1;
	}
	return 0;
}

static enum store_result
lite_put_report(struct store *s, const struct store_report_rec *rec, char *why,
                size_t why_size)
{
	struct sqlite_store *l = lite(s);
	const struct mts_tlsrpt_report *r = rec->report;
	sqlite3_stmt *st = l->report;

	if (run(l->begin) == -1) {
		why_db(l->db, "BEGIN", why, why_size);
		return STORE_FAILED;
	}
	bind_text(st, 1, r->organization_name);
	bind_text(st, 2, r->report_id);
	sqlite3_bind_int64(st, 3, r->start);
	sqlite3_bind_int64(st, 4, r->end);
	bind_text(st, 5, r->contact_info);
	sqlite3_bind_int64(st, 6, rec->received);
	bind_text(st, 7, rec->origin);
	bind_text(st, 8, rec->deviations_json);
	sqlite3_bind_int64(st, 9, rec->successful);
	sqlite3_bind_int64(st, 10, rec->failed);
	if (run(st) == -1)
		goto fail;
	/* ON CONFLICT DO NOTHING changed no row: the report is known. */
	if (sqlite3_changes(l->db) == 0) {
		(void)run(l->rollback);
		return STORE_KNOWN;
	}
	if (put_policies(l, rec, sqlite3_last_insert_rowid(l->db)) == -1 ||
	    run(l->commit) == -1)
		goto fail;
	return STORE_ADDED;
fail:
	why_db(l->db, "storing a report", why, why_size);
	lite_rollback(s);
	return STORE_FAILED;
}

static enum store_result
lite_put_quarantine(struct store *s, const char *raw, size_t raw_len,
                    int64_t raw_size, const char *origin, const char *reason,
                    int64_t received, char *why, size_t why_size)
{
	struct sqlite_store *l = lite(s);
	sqlite3_stmt *st = l->quarantine;

	/* One statement in autocommit mode is one transaction. */
	sqlite3_bind_int64(st, 1, received);
	bind_text(st, 2, origin);
	bind_text(st, 3, reason);
	sqlite3_bind_blob64(st, 4, raw, raw_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, raw_size);
	if (run(st) == -1) {
		why_db(l->db, "quarantining", why, why_size);
		return STORE_FAILED;
	}
	return STORE_ADDED;
}

static const char *
column_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int
lite_summary(struct store *s, const struct store_summary_sql *q,
             store_row_fn fn, void *ctx, char *why, size_t why_size)
{
	sqlite3 *db = lite(s)->db;
	struct store_row row;
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK) {
		why_db(db, "summary", why, why_size);
		return -1;
	}
	sqlite3_bind_int64(st, 1, q->since);
	sqlite3_bind_int64(st, 2, q->until);
	if (q->domain != NULL)
		sqlite3_bind_text(st, 3, q->domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.day = sqlite3_column_int64(st, 0);
		row.domain = column_text(st, 1);
		row.org = column_text(st, 2);
		row.mx = column_text(st, 3);
		row.result = column_text(st, 4);
		row.successful = (uint64_t)sqlite3_column_int64(st, 5);
		row.failed = (uint64_t)sqlite3_column_int64(st, 6);
		row.reports = (uint64_t)sqlite3_column_int64(st, 7);
		if (row.reports == 0)
			continue; /* no report: the one row of an empty sum */
		if ((stop = fn(&row, ctx)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		why_db(db, "summary", why, why_size);
		stop = -1;
	}
	sqlite3_finalize(st);
	return stop;
}

const struct store_engine store_engine_sqlite = {
    .name = "sqlite",
    .dialect = STORE_SQLITE,
    .open = lite_open,
    .close = lite_close,
    .read_version = lite_read_version,
    .begin_migration = lite_begin_migration,
    .exec = lite_exec,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .prepare = lite_prepare,
    .put_report = lite_put_report,
    .put_quarantine = lite_put_quarantine,
    .summary = lite_summary,
};
