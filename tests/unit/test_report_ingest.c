/* SPDX-License-Identifier: ISC */
/*
 * The one path from an input to the store (src/report/ingest.h), in
 * turn (ingest_source_fn) and pipelined (ingest_pipe_*), on SQLite
 * stores in a temporary directory: both store the same rows, quarantine
 * the same inputs with the same reasons and octets, count alike and
 * note every item in the order given (RFC 8460 §5.3: idempotent by
 * organization-name and report-id); after a store failure, both stop
 * and store nothing more, so a retry finds the rest.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ingest.h"
#include "source.h"
#include "store.h"
#include "tap.h"

#define NREPORTS 150 /* more than the pipe's queue */

static char tmpdir[256];

/* Runs sql on a SQLite file; the first column of the first row. */
static int64_t
sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int
write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	int rc = 0;

	if (fp == NULL)
		return -1;
	if (fwrite(data, 1, len, fp) != len)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

/* Report i as JSON: 1 to 3 policies, a deviation in some. */
static int
report_json(char *buf, size_t size, int i)
{
	return snprintf(
	    buf, size,
	    "{\"organization-name\":\"Org %d\",\"date-range\":{"
	    "\"start-datetime\":\"2026-01-%02dT00:00:00%s\","
	    "\"end-datetime\":\"2026-01-%02dT23:59:59Z\"},"
	    "\"contact-info\":\"tlsrpt@example.org\",\"report-id\":\"r-%d\","
	    "\"policies\":[{\"policy\":{\"policy-type\":\"sts\","
	    "\"policy-string\":[\"version: STSv1\",\"mode: enforce\"],"
	    "\"policy-domain\":\"d%d.example\",\"mx-host\":[\"mx.d%d.example\"]},"
	    "\"summary\":{\"total-successful-session-count\":%d,"
	    "\"total-failure-session-count\":%d},\"failure-details\":["
	    "{\"result-type\":\"certificate-expired\","
	    "\"sending-mta-ip\":\"192.0.2.%d\",\"receiving-mx-hostname\":"
	    "\"mx.d%d.example\",\"failed-session-count\":%d}]}]}",
	    i % 7, 1 + i % 28, i % 5 == 0 ? "" : "Z", 1 + i % 28, i, i % 9,
	    i % 9, i * 3, 1 + i % 4, 1 + i % 250, i % 9, 1 + i % 4);
}

/*
 * The inputs, in name order: reports, one of them twice (known the
 * second time), a report that is no report, garbage, and one input of
 * 1.5 MiB of garbage whose first MiB goes to the quarantine.
 */
static int
make_inputs(const char *dir)
{
	char path[512], json[2048];
	char *big;
	int i, n;

	if (mkdir(dir, 0700) == -1)
		return -1;
	for (i = 0; i < NREPORTS; i++) {
		n = report_json(json, sizeof(json), i);
		(void)snprintf(path, sizeof(path), "%s/r%04d.json", dir, i);
		if (write_file(path, json, (size_t)n) == -1)
			return -1;
	}
	n = report_json(json, sizeof(json), 17);
	(void)snprintf(path, sizeof(path), "%s/r0017b.json", dir);
	if (write_file(path, json, (size_t)n) == -1)
		return -1;
	(void)snprintf(path, sizeof(path), "%s/r0050b.json", dir);
	if (write_file(path, "{\"organization-name\": 1}", 24) == -1)
		return -1;
	(void)snprintf(path, sizeof(path), "%s/r0100b.txt", dir);
	if (write_file(path, "not a report\n", 13) == -1)
		return -1;
	if ((big = malloc(1536 * 1024)) == NULL)
		return -1;
	memset(big, 'x', 1536 * 1024);
	memcpy(big, "{garbage", 8);
	(void)snprintf(path, sizeof(path), "%s/r0120b.json", dir);
	n = write_file(path, big, 1536 * 1024);
	free(big);
	return n;
}

/* What the note callback saw. */
struct notes {
	char order[NREPORTS + 8][64]; /* "file outcome" */
	size_t n;
	bool bad_item; /* an item field that must be gone was set */
};

static void
note(const struct source_item *item, enum ingest_outcome outcome,
     const char *detail, void *ctx)
{
	struct notes *nt = ctx;
	const char *base = strrchr(item->origin, '/');

	if (item->json != NULL ||
	    (outcome != INGEST_QUARANTINED && outcome != INGEST_FAILED &&
	     detail == NULL))
		nt->bad_item = true;
	if (nt->n < sizeof(nt->order) / sizeof(nt->order[0]))
		(void)snprintf(nt->order[nt->n], sizeof(nt->order[0]), "%s %s",
		               base != NULL ? base + 1 : item->origin,
		               ingest_outcome_name(outcome));
	nt->n++;
}

/*
 * Ingests dir into a new store at db, in turn or pipelined; sets *rc to
 * what source_read_path returned.  `sabotage`: a trigger makes the
 * store of report-id r-<sabotage> fail (-1: none).
 */
static struct ingest_stats
run(const char *dir, const char *db, bool piped, int sabotage, struct notes *nt,
    int *rc)
{
	struct ingest in;
	struct ingest_pipe *pipe = NULL;
	struct source_limits lim;
	struct store *store;
	char url[600], why[STORE_WHY_SIZE], sql[256];
	sqlite3 *raw;

	memset(&in, 0, sizeof(in));
	memset(nt, 0, sizeof(*nt));
	*rc = -2;
	(void)snprintf(url, sizeof(url), "sqlite:%s", db);
	if (store_open(url, &store, why, sizeof(why)) == -1) {
		tap_diag("%s", why);
		return in.stats;
	}
	if (sabotage >= 0 && sqlite3_open(db, &raw) == SQLITE_OK) {
		(void)snprintf(sql, sizeof(sql),
		               "CREATE TRIGGER sabotage BEFORE INSERT ON "
		               "reports WHEN NEW.report_id = 'r-%d' BEGIN "
		               "SELECT RAISE(ABORT, 'sabotage'); END",
		               sabotage);
		if (sqlite3_exec(raw, sql, NULL, NULL, NULL) != SQLITE_OK)
			tap_diag("trigger: %s", sqlite3_errmsg(raw));
		sqlite3_close(raw);
	}
	in.store = store;
	in.received = 1767225600;
	in.note = note;
	in.note_ctx = nt;
	source_limits_default(&lim);
	if (piped && ingest_pipe_start(&in, &pipe) == -1) {
		tap_diag("no pipe");
		store_close(store);
		return in.stats;
	}
	if (piped)
		*rc = source_read_path(dir, &lim, ingest_pipe_fn, pipe, why,
		                       sizeof(why));
	else
		*rc = source_read_path(dir, &lim, ingest_source_fn, &in, why,
		                       sizeof(why));
	ingest_pipe_end(pipe);
	store_close(store);
	return in.stats;
}

static bool
same_stats(const struct ingest_stats *a, const struct ingest_stats *b)
{
	return a->added == b->added && a->known == b->known &&
	    a->quarantined == b->quarantined && a->failed == b->failed;
}

/* Every row of both stores, but the ids, is the same. */
static int64_t
rows_differing(const char *a, const char *b)
{
	char sql[2048];

	(void)snprintf(
	    sql, sizeof(sql),
	    "SELECT (SELECT count(*) FROM (SELECT org, report_id, "
	    "range_start, deviations, successful, failed, origin FROM "
	    "reports EXCEPT SELECT org, report_id, range_start, deviations, "
	    "successful, failed, origin FROM o.reports)) + (SELECT count(*) "
	    "FROM (SELECT origin, reason, raw, raw_size FROM quarantine "
	    "EXCEPT SELECT origin, reason, raw, raw_size FROM o.quarantine))"
	    " + (SELECT count(*) FROM (SELECT domain, strings, successful "
	    "FROM policies EXCEPT SELECT domain, strings, successful FROM "
	    "o.policies)) + (SELECT count(*) FROM (SELECT result_type, "
	    "sending_mta_ip, failed_sessions FROM failures EXCEPT SELECT "
	    "result_type, sending_mta_ip, failed_sessions FROM o.failures))");
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		char attach[600];
		int64_t v = -1;

		(void)snprintf(attach, sizeof(attach), "ATTACH '%s' AS o", b);
		if (sqlite3_open(a, &db) == SQLITE_OK &&
		    sqlite3_exec(db, attach, NULL, NULL, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
		return v;
	}
}

static void
test_same_work(const char *dir)
{
	static struct notes n1, n2;
	struct ingest_stats s1, s2;
	char db1[300], db2[300];
	size_t i;
	int rc1, rc2;
	bool same_order = true;

	(void)snprintf(db1, sizeof(db1), "%s/turn.db", tmpdir);
	(void)snprintf(db2, sizeof(db2), "%s/pipe.db", tmpdir);
	s1 = run(dir, db1, false, -1, &n1, &rc1);
	s2 = run(dir, db2, true, -1, &n2, &rc2);
	tap_ok(rc1 == 0 && rc2 == 0, "both walks end (%d, %d)", rc1, rc2);
	tap_ok(s1.added == NREPORTS && s1.known == 1 && s1.quarantined == 3 &&
	           s1.failed == 0,
	       "in turn: %zu added, %zu known, %zu quarantined, %zu failed",
	       s1.added, s1.known, s1.quarantined, s1.failed);
	tap_ok(same_stats(&s1, &s2),
	       "pipelined: the same counts (%zu, %zu, %zu, %zu)", s2.added,
	       s2.known, s2.quarantined, s2.failed);
	for (i = 0; i < n1.n && i < n2.n; i++)
		if (strcmp(n1.order[i], n2.order[i]) != 0) {
			tap_diag("note %zu: %s / %s", i, n1.order[i],
			         n2.order[i]);
			same_order = false;
			break;
		}
	tap_ok(n1.n == NREPORTS + 4 && n2.n == n1.n && same_order,
	       "every item noted once, in the order given, with its origin "
	       "(%zu, %zu)",
	       n1.n, n2.n);
	tap_ok(!n2.bad_item,
	       "the pipe's notes hold no pointer into the "
	       "input");
	tap_ok(rows_differing(db1, db2) == 0 &&
	           sql_int(db2, "SELECT count(*) FROM reports") == NREPORTS &&
	           sql_int(db2, "SELECT count(*) FROM quarantine") == 3,
	       "the same rows in both stores");
	tap_ok(sql_int(db2,
	               "SELECT length(raw) FROM quarantine WHERE "
	               "origin LIKE '%r0120b.json'") == 1024 * 1024 &&
	           sql_int(db2,
	                   "SELECT raw_size FROM quarantine WHERE "
	                   "origin LIKE '%r0120b.json'") == 1536 * 1024,
	       "pipelined: the first MiB of a big input is quarantined, its "
	       "whole size recorded");
	tap_ok(sql_int(db2,
	               "SELECT count(*) FROM quarantine WHERE origin "
	               "LIKE '%r0100b.txt' AND raw = "
	               "CAST('not a report' || char(10) AS BLOB)") == 1,
	       "pipelined: a quarantined input's octets are kept whole");
}

static void
test_store_failure(const char *dir)
{
	static struct notes n1, n2;
	struct ingest_stats s1, s2;
	char db1[300], db2[300];
	int rc1, rc2;

	(void)snprintf(db1, sizeof(db1), "%s/fail-turn.db", tmpdir);
	(void)snprintf(db2, sizeof(db2), "%s/fail-pipe.db", tmpdir);
	/* r-30 is the 32nd input, after r0000-r0029 and r0017b (known). */
	s1 = run(dir, db1, false, 30, &n1, &rc1);
	s2 = run(dir, db2, true, 30, &n2, &rc2);
	tap_ok(rc1 == 1 && rc2 == 1, "a failed store stops both walks (%d, %d)",
	       rc1, rc2);
	tap_ok(s1.added == 30 && s1.known == 1 && s1.quarantined == 0 &&
	           s1.failed == 1,
	       "in turn: 30 added, 1 known, then 1 failed (%zu, %zu, %zu, "
	       "%zu)",
	       s1.added, s1.known, s1.quarantined, s1.failed);
	tap_ok(same_stats(&s1, &s2),
	       "pipelined: the same counts, what was parsed ahead dropped "
	       "(%zu, %zu, %zu, %zu)",
	       s2.added, s2.known, s2.quarantined, s2.failed);
	tap_ok(sql_int(db2, "SELECT count(*) FROM reports") == 30 &&
	           sql_int(db2, "SELECT count(*) FROM quarantine") == 0 &&
	           n2.n == 32,
	       "pipelined: nothing stored or noted after the failure (%zu "
	       "notes)",
	       n2.n);
}

/*
 * A long ingest into one store: the WAL is checkpointed beside the
 * commits (store_sqlite.c, CKPT_PAGES) and must still start over, not
 * grow with everything written; nothing is lost on the way.
 */
static void
test_long_ingest(void)
{
	struct ingest in;
	struct source_item item;
	struct store *store;
	struct stat st;
	char db[300], wal[310], url[320], why[STORE_WHY_SIZE], json[2048];
	off_t wal_max = 0;
	int i, n, bad = 0;

	(void)snprintf(db, sizeof(db), "%s/long.db", tmpdir);
	(void)snprintf(wal, sizeof(wal), "%s-wal", db);
	(void)snprintf(url, sizeof(url), "sqlite:%s", db);
	memset(&in, 0, sizeof(in));
	if (store_open(url, &store, why, sizeof(why)) == -1) {
		tap_ok(false, "long ingest: %s", why);
		return;
	}
	in.store = store;
	for (i = 0; i < 6000; i++) {
		n = report_json(json, sizeof(json), 1000 + i);
		memset(&item, 0, sizeof(item));
		item.origin = "long";
		item.kind = SOURCE_JSON;
		item.json = json;
		item.json_len = (size_t)n;
		item.raw = json;
		item.raw_len = (size_t)n;
		if (ingest_item(&in, &item) != INGEST_ADDED)
			bad++;
		if (i % 100 == 0 && stat(wal, &st) == 0 && st.st_size > wal_max)
			wal_max = st.st_size;
	}
	tap_ok(bad == 0 && in.stats.added == 6000, "long ingest: 6000 added");
	/* 6000 reports write about 120 MB of WAL frames in all. */
	tap_ok(wal_max > 0 && wal_max < (off_t)20000 * 4120,
	       "long ingest: the WAL starts over (at most %lld octets)",
	       (long long)wal_max);
	store_close(store);
	tap_ok(sql_int(db, "SELECT count(*) FROM reports") == 6000 &&
	           sql_int(db, "SELECT count(*) FROM failures") == 6000,
	       "long ingest: every report and detail is in the store");
}

/*
 * A slow source (a mailbox over the network): an item queued alone is
 * stored without waiting for the batch the pipe's threads wake for.
 */
static void
test_lone_item(void)
{
	struct ingest in;
	struct ingest_pipe *pipe = NULL;
	struct source_item item;
	struct store *store;
	char db[300], url[320], why[STORE_WHY_SIZE], json[2048];
	int n, waited;
	int64_t stored = 0;

	(void)snprintf(db, sizeof(db), "%s/lone.db", tmpdir);
	(void)snprintf(url, sizeof(url), "sqlite:%s", db);
	memset(&in, 0, sizeof(in));
	if (store_open(url, &store, why, sizeof(why)) == -1 ||
	    (in.store = store, ingest_pipe_start(&in, &pipe)) == -1) {
		tap_ok(false, "lone item: no store or no pipe");
		return;
	}
	n = report_json(json, sizeof(json), 7);
	memset(&item, 0, sizeof(item));
	item.origin = "lone";
	item.kind = SOURCE_JSON;
	item.json = json;
	item.json_len = (size_t)n;
	(void)ingest_pipe_fn(&item, pipe);
	/* Another connection sees it once committed (2 s at most). */
	for (waited = 0; waited < 2000 && stored != 1; waited += 10) {
		usleep(10000);
		stored = sql_int(db, "SELECT count(*) FROM reports");
	}
	tap_ok(stored == 1,
	       "a lone item in the pipe is stored without "
	       "more coming (after %d ms)",
	       waited);
	ingest_pipe_end(pipe);
	store_close(store);
	tap_ok(in.stats.added == 1, "lone item: counted once");
}

/*
 * The WAL writer of store_sqlite.c (the VFS "mtasts-wal") gathers a
 * commit's frames into one write.  A transaction that spills pages to
 * the WAL before its commit and changes them again has them rewritten
 * in place, and the checksums of its frames rewritten after the commit
 * frame (sqlite3WalFrames, walRewriteChecksums).  Once COMMIT returned,
 * a process killed at once (SIGKILL) must leave the transaction in the
 * WAL whole: nothing of it may wait in the writer.  The store's own
 * transactions are too small to spill: a connection of the test's, on
 * the store's VFS with a cache of 10 pages, makes one.
 */
static void
test_spilled_commit(void)
{
	static const char *const steps[] = {
	    "PRAGMA synchronous = NORMAL",
	    "PRAGMA cache_size = 10",
	    "PRAGMA wal_autocheckpoint = 0",
	    "CREATE TABLE t (x INTEGER PRIMARY KEY, y BLOB)",
	    "BEGIN",
	    ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	     "WHERE i < 2000) INSERT INTO t SELECT i, zeroblob(900) FROM n"),
	    "UPDATE t SET y = randomblob(900) WHERE x <= 100",
	    "COMMIT",
	};
	struct store *store;
	char db[300], url[320], why[STORE_WHY_SIZE], byte = 0;
	int fds[2], status;
	pid_t pid;
	size_t i;

	(void)snprintf(db, sizeof(db), "%s/spill.db", tmpdir);
	(void)snprintf(url, sizeof(url), "sqlite:%s", db);
	if (pipe(fds) == -1 || (pid = fork()) == -1) {
		tap_ok(false, "spilled commit: no pipe or no fork");
		return;
	}
	if (pid == 0) {
		sqlite3 *c = NULL;

		close(fds[0]);
		byte = 'A';
		/* The store registers its VFS and makes the file WAL. */
		if (store_open(url, &store, why, sizeof(why)) == -1)
			byte = 'O';
		else
			store_close(store);
		if (byte == 'A' &&
		    sqlite3_open_v2(db, &c, SQLITE_OPEN_READWRITE,
		                    "mtasts-wal") != SQLITE_OK)
			byte = 'V';
		for (i = 0; byte == 'A' && i < sizeof(steps) / sizeof(steps[0]);
		     i++)
			if (sqlite3_exec(c, steps[i], NULL, NULL, NULL) !=
			    SQLITE_OK)
				byte = (char)('0' + i);
		/* Killed here, the connection open, as by kill -9. */
		if (write(fds[1], &byte, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	if (read(fds[0], &byte, 1) != 1)
		byte = 0;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);
	tap_ok(byte == 'A' && sql_int(db, "SELECT count(*) FROM t") == 2000 &&
	           sql_int(db,
	                   "SELECT count(*) FROM t WHERE x <= 100 AND "
	                   "y = zeroblob(900)") == 0,
	       "a transaction that spilled is whole after a SIGKILL right "
	       "after its COMMIT (%c)",
	       byte != 0 ? byte : '-');
}

int
main(void)
{
	char dir[300];
	const char *t = getenv("TMPDIR");

	(void)snprintf(tmpdir, sizeof(tmpdir), "%s/mts-ingest-XXXXXX",
	               t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	(void)snprintf(dir, sizeof(dir), "%s/in", tmpdir);
	if (make_inputs(dir) == -1) {
		printf("Bail out! cannot write the inputs\n");
		return 1;
	}
	test_same_work(dir);
	test_store_failure(dir);
	test_long_ingest();
	test_lone_item();
	test_spilled_commit();
	{
		char cmd[400];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", tmpdir);
	}
	return tap_done();
}
