/* SPDX-License-Identifier: ISC */
/*
 * The SQLite engine of the policy cache (sqlite:PATH).
 *
 * One table, one row per policy domain, keyed by the domain (a WITHOUT
 * ROWID table: the row lives in the key's B-tree, so a get is one
 * search).  A put is one statement, so one transaction: a row is
 * replaced whole or not at all.  WAL with synchronous=FULL: a commit
 * syncs the WAL before it returns, so a put that returned survives a
 * kill -9 (which WAL alone gives) and a power loss (which the sync
 * adds).  The sync costs a put one disk flush: measured on this kind
 * of machine (ext4 on a virtual disk, rows of 2 KiB, Python's sqlite3)
 * ~0.2 ms a put, against ~0.035 ms with NORMAL.  Puts are one per
 * fetch, and the daemon serves lookups from memory, so durability
 * wins.  A busy timeout lets
 * several processes (two daemons, or `mtasts policyd cache purge`
 * beside one) share the file.
 *
 * The schema has a version table and a list of migrations, as the
 * report store's (src/report/store.c): opening runs, in one
 * transaction, the migrations above the file's version, and refuses a
 * file of a newer version.  That driver is bound to the report store's
 * handle and its list; so are its WAL switch and directory maker
 * (static in src/report/store_sqlite.c): the few lines of each that
 * this needs are written here rather than widening the report store's
 * internal interface from this branch.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cache_int.h"
#include "sqlite_wal.h"

/* Long enough for another process's put, purge or checkpoint. */
#define BUSY_TIMEOUT_MS 15000

/*
 * The schema, one entry per version, never edited once released: a
 * change is one more entry (and PCACHE_SCHEMA_VERSION raised).
 * expires is indexed for purge_expired(): an index costs each put a
 * page, and puts are rare.
 */
struct migration {
	int version;
	const char *sql;
};

static const struct migration migrations[] = {
    {1,
     "CREATE TABLE entries ("
     " domain TEXT PRIMARY KEY NOT NULL," /* lower-case A-labels */
     " kind TEXT NOT NULL CHECK (kind IN ('policy', 'no-policy', 'dane')),"
     " id TEXT NOT NULL,"   /* the TXT id, RFC 8461 §3.1 */
     " body BLOB NOT NULL," /* the policy, RFC 8461 §3.2 */
     " fetched INTEGER NOT NULL,"
     " expires INTEGER NOT NULL,"
     " next_check INTEGER NOT NULL,"
     " backoff_until INTEGER NOT NULL,"
     " failure_class TEXT NOT NULL,"
     " failure TEXT NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX entries_expires ON entries (expires);"},
};

#define PCACHE_SCHEMA_VERSION 1

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
                   PCACHE_SCHEMA_VERSION,
               "one migration per schema version");

struct sqlite_cache {
	struct pcache base;
	sqlite3 *db;
	sqlite3_stmt *get;
	sqlite3_stmt *put;
	sqlite3_stmt *del;
	sqlite3_stmt *walk;
	sqlite3_stmt *purge;
};

/* The kinds as stored: readable in `sqlite3 policyd.db`. */
static const char *const kind_names[] = {
    [PCACHE_POLICY] = "policy",
    [PCACHE_NO_POLICY] = "no-policy",
    [PCACHE_DANE] = "dane",
};

static struct sqlite_cache *
lite(struct pcache *c)
{
	return (struct sqlite_cache *)c;
}

static void
why_db(sqlite3 *db, const char *what, char *why, size_t why_size)
{
	pcache_why(why, why_size, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

static int
exec(sqlite3 *db, const char *sql, char *why, size_t why_size)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pcache_why(why, why_size, "sqlite: %s",
		           msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void
lite_close(struct pcache *c)
{
	struct sqlite_cache *l = lite(c);

	sqlite3_finalize(l->get);
	sqlite3_finalize(l->put);
	sqlite3_finalize(l->del);
	sqlite3_finalize(l->walk);
	sqlite3_finalize(l->purge);
	sqlite3_close(l->db);
	free(l);
}

/* Puts a new file in WAL mode (sqlite_wal.h: retried while busy). */
static int
set_wal(sqlite3 *db, char *why, size_t why_size)
{
	if (mts_sqlite_wal(db, BUSY_TIMEOUT_MS) != SQLITE_OK) {
		why_db(db, "setting WAL mode", why, why_size);
		return -1;
	}
	return 0;
}

/* The file's schema version; 0 for a new file. */
static int
read_version(sqlite3 *db, int *version, char *why, size_t why_size)
{
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
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		why_db(db, "reading the schema version", why, why_size);
		return -1;
	}
	*version = v;
	return 0;
}

static int
refuse_newer(int version, char *why, size_t why_size)
{
	pcache_why(why, why_size,
	           "the policy cache's schema is at version %d, newer than "
	           "this program's %d: upgrade mtasts",
	           version, PCACHE_SCHEMA_VERSION);
	return -1;
}

/* Runs the migrations above `version`, inside the migration's lock. */
static int
run_migrations(sqlite3 *db, int version, char *why, size_t why_size)
{
	char msg[PCACHE_WHY_SIZE], step[64];
	size_t i;

	if (exec(db,
	         "CREATE TABLE IF NOT EXISTS schema_version "
	         "(version INTEGER NOT NULL);"
	         "INSERT INTO schema_version (version) SELECT 0 WHERE NOT "
	         "EXISTS (SELECT 1 FROM schema_version)",
	         why, why_size) == -1)
		return -1;
	for (i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		if (migrations[i].version <= version)
			continue;
		(void)snprintf(step, sizeof(step),
		               "UPDATE schema_version SET version = %d",
		               migrations[i].version);
		if (exec(db, migrations[i].sql, msg, sizeof(msg)) == -1 ||
		    exec(db, step, msg, sizeof(msg)) == -1) {
			pcache_why(
			    why, why_size,
			    "migrating the policy cache to version %d: %s",
			    migrations[i].version, msg);
			return -1;
		}
	}
	return 0;
}

/*
 * Brings the schema to PCACHE_SCHEMA_VERSION.  The version is read
 * first without a lock, so the common case takes no write lock; a
 * migration re-reads it under BEGIN IMMEDIATE, since another process
 * may have migrated meanwhile.
 */
static int
migrate(sqlite3 *db, char *why, size_t why_size)
{
	int version;

	if (read_version(db, &version, why, why_size) == -1)
		return -1;
	if (version == PCACHE_SCHEMA_VERSION)
		return 0;
	if (version > PCACHE_SCHEMA_VERSION)
		return refuse_newer(version, why, why_size);
	if (exec(db, "BEGIN IMMEDIATE", why, why_size) == -1)
		return -1;
	if (read_version(db, &version, why, why_size) == -1)
		goto fail;
	if (version > PCACHE_SCHEMA_VERSION) {
		refuse_newer(version, why, why_size);
		goto fail;
	}
	if (run_migrations(db, version, why, why_size) == -1)
		goto fail;
	return exec(db, "COMMIT", why, why_size);
fail:
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
prepare(struct sqlite_cache *l, char *why, size_t why_size)
{
	const struct {
		sqlite3_stmt **st;
		const char *sql;
	} stmts[] = {
	    {&l->get,
	     "SELECT domain, kind, id, body, fetched, expires, next_check, "
	     "backoff_until, failure_class, failure FROM entries "
	     "WHERE domain = ?1"},
	    {&l->put,
	     "INSERT OR REPLACE INTO entries (domain, kind, id, body, "
	     "fetched, expires, next_check, backoff_until, failure_class, "
	     "failure) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
	    {&l->del, "DELETE FROM entries WHERE domain = ?1"},
	    /* The primary key's order: BINARY collation, octets. */
	    {&l->walk,
	     "SELECT domain, kind, id, body, fetched, expires, next_check, "
	     "backoff_until, failure_class, failure FROM entries "
	     "ORDER BY domain"},
	    {&l->purge, "DELETE FROM entries WHERE expires <= ?1"},
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

static int
lite_open(const char *url, struct pcache **out, char *why, size_t why_size)
{
	const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
	struct sqlite_cache *l;

	if (path[0] == '\0') {
		pcache_why(why, why_size, "sqlite: no file name in %s", url);
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		pcache_why(why, why_size, "out of memory");
		return -1;
	}
	l->base.engine = &pcache_engine_sqlite;
	if (sqlite3_open_v2(path, &l->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                        SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		pcache_why(why, why_size, "sqlite: %s: %s", path,
		           l->db == NULL ? "out of memory" :
		                           sqlite3_errmsg(l->db));
		goto fail;
	}
	sqlite3_extended_result_codes(l->db, 1);
	sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
	/* Connection settings, not part of the schema (see the top). */
	if (set_wal(l->db, why, why_size) == -1 ||
	    exec(l->db, "PRAGMA synchronous = FULL", why, why_size) == -1 ||
	    migrate(l->db, why, why_size) == -1 ||
	    prepare(l, why, why_size) == -1)
		goto fail;
	*out = &l->base;
	return 0;
fail:
	lite_close(&l->base);
	return -1;
}

/* Copies a TEXT column into dst[size]: -1 when NULL or too long. */
static int
column_copy(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	if (s == NULL || n >= size || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static enum pcache_kind
kind_of(const unsigned char *s)
{
	size_t k;

	for (k = PCACHE_POLICY; k <= PCACHE_DANE; k++)
		if (s != NULL && strcmp((const char *)s, kind_names[k]) == 0)
			return (enum pcache_kind)k;
	return (enum pcache_kind)0;
}

/*
 * The row st is on as an entry, its body a new allocation (NULL when
 * empty) for pcache_entry_reset(): 0, or -1 with why, also for a row
 * this program would not have written (a file edited by hand).
 */
static int
row_entry(sqlite3_stmt *st, struct pcache_entry *e, char *why, size_t why_size)
{
	const void *blob;
	size_t len;

	*e = (struct pcache_entry){0};
	if (column_copy(st, 0, e->domain, sizeof(e->domain)) == -1 ||
	    column_copy(st, 2, e->id, sizeof(e->id)) == -1 ||
	    column_copy(st, 8, e->failure_class, sizeof(e->failure_class)) ==
	        -1 ||
	    column_copy(st, 9, e->failure, sizeof(e->failure)) == -1 ||
	    (e->kind = kind_of(sqlite3_column_text(st, 1))) == 0) {
		pcache_why(why, why_size, "sqlite: %s: a damaged entry",
		           e->domain);
		return -1;
	}
	blob = sqlite3_column_blob(st, 3);
	len = (size_t)sqlite3_column_bytes(st, 3);
	if (len > PCACHE_BODY_MAX) {
		pcache_why(why, why_size, "sqlite: %s: a body over %d octets",
		           e->domain, PCACHE_BODY_MAX);
		return -1;
	}
	if (len != 0) {
		if ((e->body = malloc(len)) == NULL) {
			pcache_why(why, why_size, "out of memory");
			return -1;
		}
		memcpy(e->body, blob, len);
		e->body_len = len;
	}
	e->fetched = sqlite3_column_int64(st, 4);
	e->expires = sqlite3_column_int64(st, 5);
	e->next_check = sqlite3_column_int64(st, 6);
	e->backoff_until = sqlite3_column_int64(st, 7);
	return 0;
}

static int
lite_get(struct pcache *c, const char *domain, struct pcache_entry *entry,
         char *why, size_t why_size)
{
	struct sqlite_cache *l = lite(c);
	struct pcache_entry e;
	int rc, res = -1;

	if (sqlite3_bind_text(l->get, 1, domain, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		why_db(l->db, "get", why, why_size);
		goto out;
	}
	rc = sqlite3_step(l->get);
	if (rc == SQLITE_DONE)
		res = 0;
	else if (rc != SQLITE_ROW)
		why_db(l->db, "get", why, why_size);
	else if (row_entry(l->get, &e, why, why_size) == 0) {
		*entry = e;
		res = 1;
	}
out:
	sqlite3_reset(l->get);
	sqlite3_clear_bindings(l->get);
	return res;
}

static int
lite_put(struct pcache *c, const struct pcache_entry *e, char *why,
         size_t why_size)
{
	struct sqlite_cache *l = lite(c);
	sqlite3_stmt *st = l->put;
	int rc;

	/* An empty body is a zero-length blob, not NULL (NOT NULL). */
	rc = sqlite3_bind_text(st, 1, e->domain, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(st, 2, kind_names[e->kind], -1, SQLITE_STATIC) |
	    sqlite3_bind_text(st, 3, e->id, -1, SQLITE_STATIC) |
	    sqlite3_bind_blob(st, 4, e->body == NULL ? "" : e->body,
	                      (int)e->body_len, SQLITE_STATIC) |
	    sqlite3_bind_int64(st, 5, e->fetched) |
	    sqlite3_bind_int64(st, 6, e->expires) |
	    sqlite3_bind_int64(st, 7, e->next_check) |
	    sqlite3_bind_int64(st, 8, e->backoff_until) |
	    sqlite3_bind_text(st, 9, e->failure_class, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(st, 10, e->failure, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		why_db(l->db, "put", why, why_size);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
lite_del(struct pcache *c, const char *domain, char *why, size_t why_size)
{
	struct sqlite_cache *l = lite(c);
	int rc;

	rc = sqlite3_bind_text(l->del, 1, domain, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(l->del);
	sqlite3_reset(l->del);
	sqlite3_clear_bindings(l->del);
	if (rc != SQLITE_DONE) {
		why_db(l->db, "delete", why, why_size);
		return -1;
	}
	return sqlite3_changes(l->db) != 0 ? 1 : 0;
}

static int
lite_walk(struct pcache *c, pcache_walk_fn fn, void *ctx, char *why,
          size_t why_size)
{
	struct sqlite_cache *l = lite(c);
	struct pcache_entry e;
	int rc, res = 0;

	while ((rc = sqlite3_step(l->walk)) == SQLITE_ROW) {
		if (row_entry(l->walk, &e, why, why_size) == -1) {
			res = -1;
			break;
		}
		res = fn(&e, ctx);
		pcache_entry_reset(&e);
		if (res != 0)
			break;
	}
	if (res == 0 && rc != SQLITE_DONE) {
		why_db(l->db, "walk", why, why_size);
		res = -1;
	}
	sqlite3_reset(l->walk);
	return res;
}

static int
lite_purge_expired(struct pcache *c, int64_t now, size_t *count, char *why,
                   size_t why_size)
{
	struct sqlite_cache *l = lite(c);
	int rc;

	rc = sqlite3_bind_int64(l->purge, 1, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(l->purge);
	sqlite3_reset(l->purge);
	if (rc != SQLITE_DONE) {
		why_db(l->db, "purge", why, why_size);
		return -1;
	}
	if (count != NULL)
		*count = (size_t)sqlite3_changes(l->db);
	return 0;
}

const struct pcache_engine pcache_engine_sqlite = {
    .name = "sqlite",
    .open = lite_open,
    .close = lite_close,
    .get = lite_get,
    .put = lite_put,
    .del = lite_del,
    .walk = lite_walk,
    .purge_expired = lite_purge_expired,
};
