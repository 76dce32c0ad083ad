/* SPDX-License-Identifier: ISC */
/*
 * The PostgreSQL engine of the report store (postgresql://...), through
 * libpq.
 *
 * A report is one statement, prepared once per connection: a chain of
 * data-modifying WITH queries inserts the report, then its policies and
 * their failure details from arrays (one round trip, whatever the
 * report's size; the foreign keys are checked at the statement's end,
 * when all three are in).  One statement is one transaction, so a client killed
 * mid-report leaves nothing of it.  The report row is inserted with ON
 * CONFLICT DO NOTHING on (org, report_id): when several ingesters store
 * the same report at once, PostgreSQL makes all but the first wait for
 * it and then insert nothing, so one is told STORE_ADDED and the others
 * STORE_KNOWN, never a unique_violation.  A connection lost (a server
 * restarted) fails the report in hand; the next call reconnects.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_int.h"

/* The advisory lock of a migration: "mtst". */
#define MIGRATION_LOCK 0x6d747374

/* The arrays of one report's policies and details. */
enum {
	A_PTYPE,
	A_PDOMAIN,
	A_PSTRINGS,
	A_PMX,
	A_POK,
	A_PKO,
	A_PKD,
	A_FPOLICY,
	A_FIDX,
	A_FRESULT,
	A_FSIP,
	A_FMX,
	A_FHELO,
	A_FRIP,
	A_FINFO,
	A_FCODE,
	A_FCOUNT,
	A_COUNT
};

/* The parameters of the report statement: 11 scalars, then arrays. */
#define P_SCALARS 11
#define P_COUNT   (P_SCALARS + A_COUNT)

static const char put_report_sql[] =
    "WITH r AS (INSERT INTO reports (org, report_id, range_start, "
    "range_end, contact, received, origin, deviations, policies, "
    "successful, failed) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT (org, report_id) DO NOTHING RETURNING id), "
    "p AS (INSERT INTO policies (report, idx, type, domain, strings, "
    "mx_hosts, successful, failed, detail_failed) "
    "SELECT r.id, u.n - 1, u.type, u.domain, u.strings, u.mx, u.ok, u.ko, "
    "u.kd FROM r, unnest($12::text[], $13::text[], $14::text[], "
    "$15::text[], $16::bigint[], $17::bigint[], $18::bigint[]) "
    "WITH ORDINALITY AS u (type, domain, strings, mx, ok, ko, kd, n)), "
    "f AS (INSERT INTO failures (report, pidx, idx, result_type, "
    "sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, "
    "receiving_ip, additional_information, failure_reason_code, "
    "failed_sessions) "
    "SELECT r.id, u.pidx, u.idx, u.rt, u.sip, u.mx, u.helo, u.rip, u.info, "
    "u.code, u.cnt FROM r, unnest($19::int[], $20::int[], $21::text[], "
    "$22::text[], $23::text[], $24::text[], $25::text[], $26::text[], "
    "$27::text[], $28::bigint[]) "
    "AS u (pidx, idx, rt, sip, mx, helo, rip, info, code, cnt)) "
    "SELECT count(*) FROM r";

static const char put_quarantine_sql[] =
    "INSERT INTO quarantine (received, origin, reason, raw, raw_size) "
    "VALUES ($1, $2, $3, $4, $5)";

/* A text buffer reused from report to report. */
struct tbuf {
	char *p;
	size_t len;
	size_t cap;
};

struct pg_store {
	struct store base;
	PGconn *conn;
	bool prepared;
	bool failed; /* a tbuf could not grow */
	bool in_tx;  /* between tx_begin and its end */
	struct tbuf arrays[A_COUNT];
};

static struct pg_store *
pgs(struct store *s)
{
	return (struct pg_store *)s;
}

/* Copies libpq's message, its trailing newline cut. */
static void
why_pg(const char *what, const char *msg, char *why, size_t why_size)
{
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	store_why(why, why_size, "postgresql: %s: %.*s", what, (int)n, msg);
}

static void
why_conn(PGconn *conn, const char *what, char *why, size_t why_size)
{
	why_pg(what, PQerrorMessage(conn), why, why_size);
}

/* Reports are data, not news: the server's notices are not printed. */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Runs sql; 0 when the result has `want` status, else -1 with why. */
static int
pg_run(PGconn *conn, const char *sql, ExecStatusType want, char *why,
       size_t why_size)
{
	PGresult *res = PQexec(conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != want) {
		why_pg("query",
		       res != NULL ? PQresultErrorMessage(res) :
		                     PQerrorMessage(conn),
		       why, why_size);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/*
 * The session's settings.  synchronous_commit = off is the SQLite
 * engine's synchronous = NORMAL: a commit does not wait for its WAL
 * flush, so a crash of the server (not of the client) may lose the
 * last fraction of a second of reports, never leave part of one.  It
 * doubles the rate of an ingester.
 */
static int
session(PGconn *conn, char *why, size_t why_size)
{
	return pg_run(conn, "SET synchronous_commit = off", PGRES_COMMAND_OK,
	              why, why_size);
}

static void
pg_close(struct store *s)
{
	struct pg_store *p = pgs(s);
	size_t i;

	PQfinish(p->conn);
	for (i = 0; i < A_COUNT; i++)
		free(p->arrays[i].p);
	free(p);
}

static int
pg_open(const char *url, struct store **out, char *why, size_t why_size)
{
	struct pg_store *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		store_why(why, why_size, "out of memory");
		return -1;
	}
	p->base.engine = &store_engine_pg;
	p->conn = PQconnectdb(url);
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		if (p->conn == NULL)
			store_why(why, why_size, "postgresql: out of memory");
		else
			why_conn(p->conn, "connecting", why, why_size);
		pg_close(&p->base);
		return -1;
	}
	PQsetNoticeProcessor(p->conn, quiet, NULL);
	if (session(p->conn, why, why_size) == -1) {
		pg_close(&p->base);
		return -1;
	}
	*out = &p->base;
	return 0;
}

static void
unlock_migration(PGconn *conn)
{
	char sql[64];

	(void)snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d)",
	               MIGRATION_LOCK);
	(void)pg_run(conn, sql, PGRES_TUPLES_OK, NULL, 0);
}

static int
pg_exec(struct store *s, const char *sql, char *why, size_t why_size)
{
	return pg_run(pgs(s)->conn, sql, PGRES_COMMAND_OK, why, why_size);
}

static int
pg_read_version(struct store *s, int *version, char *why, size_t why_size)
{
	PGconn *conn = pgs(s)->conn;
	PGresult *res;
	int v = -1;

	res = PQexec(conn,
	             "SELECT CASE WHEN to_regclass('schema_version') "
	             "IS NULL THEN 0 ELSE -1 END");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	else
		goto fail;
	PQclear(res);
	res = NULL;
	if (v == -1) {
		res = PQexec(conn,
		             "SELECT coalesce(max(version), 0) "
		             "FROM schema_version");
		if (PQresultStatus(res) != PGRES_TUPLES_OK ||
		    PQntuples(res) != 1)
			goto fail;
		v = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	*version = v;
	return 0;
fail:
	why_pg("reading the schema version",
	       res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn),
	       why, why_size);
	PQclear(res);
	return -1;
}

/*
 * A migration holds a session lock taken before its transaction
 * begins: two first opens must not both create the schema, and the
 * second, once it has the lock, must see the first's tables, which a
 * transaction begun before the first committed might not (its catalog
 * snapshot can be older than the lock).
 */
static int
pg_begin_migration(struct store *s, char *why, size_t why_size)
{
	PGconn *conn = pgs(s)->conn;
	char sql[64];

	(void)snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d)",
	               MIGRATION_LOCK);
	if (pg_run(conn, sql, PGRES_TUPLES_OK, why, why_size) == -1)
		return -1;
	if (pg_run(conn, "BEGIN", PGRES_COMMAND_OK, why, why_size) == -1) {
		unlock_migration(conn);
		return -1;
	}
	return 0;
}

static int
pg_commit(struct store *s, char *why, size_t why_size)
{
	int rc = pg_exec(s, "COMMIT", why, why_size);

	unlock_migration(pgs(s)->conn);
	return rc;
}

static void
pg_rollback(struct store *s)
{
	(void)pg_exec(s, "ROLLBACK", NULL, 0);
	unlock_migration(pgs(s)->conn);
}

static int
pg_prepare(struct store *s, char *why, size_t why_size)
{
	PGconn *conn = pgs(s)->conn;
	PGresult *res;

	res = PQprepare(conn, "mts_put_report", put_report_sql, 0, NULL);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		res = PQprepare(conn, "mts_put_quarantine", put_quarantine_sql,
		                0, NULL);
	}
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		why_pg("preparing",
		       res != NULL ? PQresultErrorMessage(res) :
		                     PQerrorMessage(conn),
		       why, why_size);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	pgs(s)->prepared = true;
	return 0;
}

/*
 * Makes sure the connection is up and its statements prepared: after a
 * lost connection (the server restarted, an administrator ended the
 * session) the store reconnects once per call rather than failing for
 * ever.
 */
static int
ready(struct pg_store *p, char *why, size_t why_size)
{
	if (PQstatus(p->conn) != CONNECTION_OK) {
		p->prepared = false;
		PQreset(p->conn);
		if (PQstatus(p->conn) != CONNECTION_OK) {
			why_conn(p->conn, "reconnecting", why, why_size);
			return -1;
		}
		if (session(p->conn, why, why_size) == -1)
			return -1;
	}
	if (!p->prepared)
		return pg_prepare(&p->base, why, why_size);
	return 0;
}

static void
tb_add(struct pg_store *p, struct tbuf *tb, const char *s, size_t n)
{
	size_t cap;
	char *q;

	if (p->failed)
		return;
	if (tb->len + n + 1 > tb->cap) {
		cap = tb->cap == 0 ? 256 : tb->cap;
		while (cap < tb->len + n + 1)
			cap *= 2;
		if ((q = realloc(tb->p, cap)) == NULL) {
			p->failed = true;
			return;
		}
		tb->p = q;
		tb->cap = cap;
	}
	memcpy(tb->p + tb->len, s, n);
	tb->len += n;
	tb->p[tb->len] = '\0';
}

/* Starts element i of an array literal ('{' or ','). */
static void
tb_sep(struct pg_store *p, struct tbuf *tb, size_t i)
{
	tb_add(p, tb, i == 0 ? "{" : ",", 1);
}

/* Adds a text element: quoted, '"' and '\' escaped, or NULL. */
static void
tb_text(struct pg_store *p, struct tbuf *tb, size_t i, const char *s)
{
	const char *run;

	tb_sep(p, tb, i);
	if (s == NULL) {
		tb_add(p, tb, "NULL", 4);
		return;
	}
	tb_add(p, tb, "\"", 1);
	for (run = s; *s != '\0'; s++)
		if (*s == '"' || *s == '\\') {
			tb_add(p, tb, run, (size_t)(s - run));
			tb_add(p, tb, "\\", 1);
			run = s;
		}
	tb_add(p, tb, run, (size_t)(s - run));
	tb_add(p, tb, "\"", 1);
}

static void
tb_int(struct pg_store *p, struct tbuf *tb, size_t i, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	tb_sep(p, tb, i);
	tb_add(p, tb, num, (size_t)n);
}

/* Closes an array literal; an array of no element is "{}". */
static void
tb_end(struct pg_store *p, struct tbuf *tb, size_t count)
{
	tb_add(p, tb, count == 0 ? "{}" : "}", count == 0 ? 2 : 1);
}

/* Writes the report's policies and details as array literals. */
static int
arrays(struct pg_store *p, const struct store_report_rec *rec)
{
	struct tbuf *a = p->arrays;
	size_t i, j, k = 0, np = rec->report->policy_count;

	p->failed = false;
	for (i = 0; i < A_COUNT; i++)
		a[i].len = 0;
	for (i = 0; i < np; i++) {
		const struct store_policy_rec *pr = &rec->policies[i];
		const struct mts_tlsrpt_policy *pol = pr->policy;

		tb_text(p, &a[A_PTYPE], i, pol->policy_type);
		tb_text(p, &a[A_PDOMAIN], i, pol->policy_domain);
		tb_text(p, &a[A_PSTRINGS], i, pr->strings_json);
		tb_text(p, &a[A_PMX], i, pr->mx_json);
		tb_int(p, &a[A_POK], i, (int64_t)pol->successful);
		tb_int(p, &a[A_PKO], i, (int64_t)pol->failed);
		tb_int(p, &a[A_PKD], i, pr->detail_failed);
		for (j = 0; j < pol->failure_count; j++, k++) {
			const struct mts_tlsrpt_failure *f = &pol->failures[j];

			tb_int(p, &a[A_FPOLICY], k, (int64_t)i);
			tb_int(p, &a[A_FIDX], k, (int64_t)j);
			tb_text(p, &a[A_FRESULT], k, f->result_type);
			tb_text(p, &a[A_FSIP], k, f->sending_mta_ip);
			tb_text(p, &a[A_FMX], k, f->receiving_mx_hostname);
			tb_text(p, &a[A_FHELO], k, f->receiving_mx_helo);
			tb_text(p, &a[A_FRIP], k, f->receiving_ip);
			tb_text(p, &a[A_FINFO], k, f->additional_information);
			tb_text(p, &a[A_FCODE], k, f->failure_reason_code);
			tb_int(p, &a[A_FCOUNT], k,
			       (int64_t)f->failed_session_count);
		}
	}
	for (i = A_PTYPE; i <= A_PKD; i++)
		tb_end(p, &a[i], np);
	for (i = A_FPOLICY; i < A_COUNT; i++)
		tb_end(p, &a[i], k);
	return p->failed ? -1 : 0;
}

static enum store_result
pg_put_report(struct store *s, const struct store_report_rec *rec, char *why,
              size_t why_size)
{
	struct pg_store *p = pgs(s);
	const struct mts_tlsrpt_report *r = rec->report;
	char nums[6][24];
	const char *values[P_COUNT];
	enum store_result res = STORE_FAILED;
	PGresult *pr;
	size_t i;

	if (ready(p, why, why_size) == -1)
		return STORE_FAILED;
	if (arrays(p, rec) == -1) {
		store_why(why, why_size, "out of memory");
		return STORE_FAILED;
	}
	(void)snprintf(nums[0], sizeof(nums[0]), "%" PRId64, r->start);
	(void)snprintf(nums[1], sizeof(nums[1]), "%" PRId64, r->end);
	(void)snprintf(nums[2], sizeof(nums[2]), "%" PRId64, rec->received);
	(void)snprintf(nums[3], sizeof(nums[3]), "%" PRId64, rec->successful);
	(void)snprintf(nums[4], sizeof(nums[4]), "%" PRId64, rec->failed);
	(void)snprintf(nums[5], sizeof(nums[5]), "%zu", r->policy_count);
	values[0] = r->organization_name;
	values[1] = r->report_id;
	values[2] = nums[0];
	values[3] = nums[1];
	values[4] = r->contact_info;
	values[5] = nums[2];
	values[6] = rec->origin;
	values[7] = rec->deviations_json;
	values[8] = nums[5];
	values[9] = nums[3];
	values[10] = nums[4];
	for (i = 0; i < A_COUNT; i++)
		values[P_SCALARS + i] = p->arrays[i].p;
	pr = PQexecPrepared(p->conn, "mts_put_report", P_COUNT, values, NULL,
	                    NULL, 0);
	if (PQresultStatus(pr) == PGRES_TUPLES_OK && PQntuples(pr) == 1)
		res = strcmp(PQgetvalue(pr, 0, 0), "1") == 0 ? STORE_ADDED :
							       STORE_KNOWN;
	else
		why_pg("storing a report",
		       pr != NULL ? PQresultErrorMessage(pr) :
		                    PQerrorMessage(p->conn),
		       why, why_size);
	PQclear(pr);
	return res;
}

static enum store_result
pg_put_quarantine(struct store *s, const char *raw, size_t raw_len,
                  int64_t raw_size, const char *origin, const char *reason,
                  int64_t received, char *why, size_t why_size)
{
	struct pg_store *p = pgs(s);
	char when[24], size[24];
	const char *values[5] = {when, origin, reason, raw, size};
	const int lengths[5] = {0, 0, 0, (int)raw_len, 0};
	const int formats[5] = {0, 0, 0, 1, 0}; /* raw goes as binary */
	enum store_result res = STORE_ADDED;
	PGresult *pr;

	if (ready(p, why, why_size) == -1)
		return STORE_FAILED;
	(void)snprintf(when, sizeof(when), "%" PRId64, received);
	(void)snprintf(size, sizeof(size), "%" PRId64, raw_size);
	pr = PQexecPrepared(p->conn, "mts_put_quarantine", 5, values, lengths,
	                    formats, 0);
	if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
		why_pg("quarantining",
		       pr != NULL ? PQresultErrorMessage(pr) :
		                    PQerrorMessage(p->conn),
		       why, why_size);
		res = STORE_FAILED;
	}
	PQclear(pr);
	return res;
}

/* A number of the summary (a bigint or numeric with no fraction). */
static int
number(const PGresult *res, int row, int col, uint64_t *out)
{
	const char *s = PQgetvalue(res, row, col);
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] == '-' || end == s || *end != '\0' || errno == ERANGE)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static const char *
text_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int
walk(const PGresult *res, store_row_fn fn, void *ctx, char *why,
     size_t why_size)
{
	struct store_row row;
	int i, n = PQntuples(res), stop;

	for (i = 0; i < n; i++) {
		row.day = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		row.domain = text_or_null(res, i, 1);
		row.org = text_or_null(res, i, 2);
		row.mx = text_or_null(res, i, 3);
		row.result = text_or_null(res, i, 4);
		if (number(res, i, 7, &row.reports) == -1)
			goto bad;
		if (row.reports == 0)
			continue; /* no report: the one row of an empty sum */
		if (number(res, i, 5, &row.successful) == -1 ||
		    number(res, i, 6, &row.failed) == -1)
			goto bad;
		if ((stop = fn(&row, ctx)) != 0)
			return stop;
	}
	return 0;
bad:
	store_why(why, why_size, "postgresql: summary: a sum past 2^64-1");
	return -1;
}

static int
pg_summary(struct store *s, const struct store_summary_sql *q, store_row_fn fn,
           void *ctx, char *why, size_t why_size)
{
	struct pg_store *p = pgs(s);
	char since[24], until[24];
	const char *values[3] = {since, until, q->domain};
	PGresult *res;
	int rc;

	if (ready(p, why, why_size) == -1)
		return -1;
	(void)snprintf(since, sizeof(since), "%" PRId64, q->since);
	(void)snprintf(until, sizeof(until), "%" PRId64, q->until);
	res = PQexecParams(p->conn, q->sql, q->domain != NULL ? 3 : 2, NULL,
	                   values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		why_pg("summary",
		       res != NULL ? PQresultErrorMessage(res) :
		                     PQerrorMessage(p->conn),
		       why, why_size);
		PQclear(res);
		return -1;
	}
	rc = walk(res, fn, ctx, why, why_size);
	PQclear(res);
	return rc;
}

/* The type OIDs of the integer columns (catalog/pg_type.dat). */
#define INT8_OID 20
#define INT2_OID 21
#define INT4_OID 23

/*
 * Inside a transaction a lost connection fails it: reconnecting there
 * would run the rest of it on its own, outside the transaction.
 */
static int
usable(struct pg_store *p, char *why, size_t why_size)
{
	if (!p->in_tx)
		return ready(p, why, why_size);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		why_conn(p->conn, "the connection was lost in a transaction",
		         why, why_size);
		return -1;
	}
	return 0;
}

/* The cells of row `row`: integer columns as numbers, others as text. */
static int
row_cells(const PGresult *res, int row, struct store_cell *cells)
{
	int i, n = PQnfields(res);
	Oid type;
	char *end;

	for (i = 0; i < n; i++) {
		if (PQgetisnull(res, row, i)) {
			cells[i] =
			    (struct store_cell){STORE_CELL_NULL, 0, NULL};
			continue;
		}
		type = PQftype(res, i);
		cells[i] = (struct store_cell){STORE_CELL_TEXT, 0,
		                               PQgetvalue(res, row, i)};
		if (type != INT8_OID && type != INT4_OID && type != INT2_OID)
			continue;
		errno = 0;
		cells[i].type = STORE_CELL_INT;
		cells[i].i = strtoll(cells[i].s, &end, 10);
		if (errno != 0 || end == cells[i].s || *end != '\0')
			return -1;
		cells[i].s = NULL;
	}
	return 0;
}

static int
walk_cells(const PGresult *res, store_cells_fn fn, void *ctx, char *why,
           size_t why_size)
{
	struct store_cell cells[STORE_CELLS_MAX];
	int i, rows = PQntuples(res), stop;

	if (PQnfields(res) > STORE_CELLS_MAX) {
		store_why(why, why_size, "postgresql: query: a row too wide");
		return -1;
	}
	for (i = 0; i < rows; i++) {
		if (row_cells(res, i, cells) == -1) {
			store_why(why, why_size,
			          "postgresql: query: an integer out of range");
			return -1;
		}
		if (fn != NULL &&
		    (stop = fn(cells, (size_t)PQnfields(res), ctx)) != 0)
			return stop;
	}
	return 0;
}

static int
pg_query(struct store *s, const char *sql, const struct store_cell *params,
         size_t n, store_cells_fn fn, void *ctx, char *why, size_t why_size)
{
	struct pg_store *p = pgs(s);
	char nums[STORE_CELLS_MAX][24];
	const char *values[STORE_CELLS_MAX];
	const char *state;
	PGresult *res;
	size_t i;
	int rc;

	if (n > STORE_CELLS_MAX) {
		store_why(why, why_size,
		          "postgresql: query: too many parameters");
		return -1;
	}
	if (usable(p, why, why_size) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		values[i] =
		    params[i].type == STORE_CELL_TEXT ? params[i].s : NULL;
		if (params[i].type == STORE_CELL_INT) {
			(void)snprintf(nums[i], sizeof(nums[i]), "%" PRId64,
			               params[i].i);
			values[i] = nums[i];
		}
	}
	res = PQexecParams(p->conn, sql, (int)n, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK) {
		why_pg("query",
		       res != NULL ? PQresultErrorMessage(res) :
		                     PQerrorMessage(p->conn),
		       why, why_size);
		/* 23505: unique_violation (PostgreSQL's Appendix A). */
		state = res != NULL ?
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) :
		    NULL;
		rc = state != NULL && strcmp(state, "23505") == 0 ?
		    STORE_UNIQUE :
		    -1;
		PQclear(res);
		return rc;
	}
	rc = walk_cells(res, fn, ctx, why, why_size);
	PQclear(res);
	return rc;
}

/*
 * A transaction of READ COMMITTED, PostgreSQL's default: a unique index
 * makes a second writer of the same key wait for the first one's end,
 * then fail (unique_violation) when the first committed, and an UPDATE
 * waiting for a row re-reads it once the other transaction has ended.
 */
static int
pg_tx_begin(struct store *s, char *why, size_t why_size)
{
	struct pg_store *p = pgs(s);

	if (ready(p, why, why_size) == -1 ||
	    pg_exec(s, "BEGIN", why, why_size) == -1)
		return -1;
	p->in_tx = true;
	return 0;
}

/*
 * COMMIT of a transaction in which a statement failed answers ROLLBACK
 * (and no error): that is a failure here.
 */
static int
pg_tx_commit(struct store *s, char *why, size_t why_size)
{
	struct pg_store *p = pgs(s);
	PGresult *res = PQexec(p->conn, "COMMIT");
	int rc = 0;

	p->in_tx = false;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		why_pg("commit",
		       res != NULL ? PQresultErrorMessage(res) :
		                     PQerrorMessage(p->conn),
		       why, why_size);
		rc = -1;
	} else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		store_why(why, why_size,
		          "postgresql: commit: the transaction was rolled "
		          "back");
		rc = -1;
	}
	PQclear(res);
	return rc;
}

static void
pg_tx_rollback(struct store *s)
{
	struct pg_store *p = pgs(s);

	if (!p->in_tx)
		return;
	p->in_tx = false;
	(void)pg_exec(s, "ROLLBACK", NULL, 0);
}

const struct store_engine store_engine_pg = {
    .name = "postgresql",
    .dialect = STORE_PG,
    .open = pg_open,
    .close = pg_close,
    .read_version = pg_read_version,
    .begin_migration = pg_begin_migration,
    .exec = pg_exec,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .prepare = pg_prepare,
    .put_report = pg_put_report,
    .put_quarantine = pg_put_quarantine,
    .summary = pg_summary,
    .query = pg_query,
    .tx_begin = pg_tx_begin,
    .tx_commit = pg_tx_commit,
    .tx_rollback = pg_tx_rollback,
};
