/* SPDX-License-Identifier: ISC */
/*
 * The report store (src/report/store.h) against a real engine: the URL
 * comes from MTS_STORE_URL (tests/e2e/store_pg.sh gives a PostgreSQL it
 * started); without it, SQLite files in a temporary directory.  The
 * same checks run on both engines: idempotence by (organization-name,
 * report-id) (RFC 8460 §5.3), the quarantine, every summary grouping
 * and filter against rows computed here, the schema's migrations, a
 * process killed mid-report (SIGKILL) leaving the whole report or none
 * of it, two processes storing at once, and an engine failing under the
 * store.  Reports are built by hand: the parser is not needed here.
 */
#define _GNU_SOURCE /* unshare(2) */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store.h"
#include "tap.h"

#define DAY0 INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define DAY  INT64_C(86400)

static char base_url[1024]; /* MTS_STORE_URL, or "" for SQLite */
static char tmpdir[256];
static bool is_pg;

/* ---- the engines, directly ---- */

/* The server's notices ("table ... does not exist, skipping"). */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* A URL of a new, empty store named `name`. */
static const char *fresh(const char *name);

/* The SQLite file of a sqlite: URL. */
static const char *
lite_path(const char *url)
{
	return url + strlen("sqlite:");
}

/*
 * Runs sql on the store's database behind the store's back, and gives
 * the first column of the first row as an integer (-1 on an error, or
 * no row; -2 when the value is NULL).
 */
static int64_t
sql_int(const char *url, const char *sql)
{
	int64_t v = -1;

	if (is_pg) {
		PGconn *c = PQconnectdb(url);
		PGresult *r;

		PQsetNoticeProcessor(c, quiet, NULL);
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
			v = PQgetisnull(r, 0, 0) ?
			    -2 :
			    strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		else if (PQresultStatus(r) == PGRES_COMMAND_OK)
			v = 0;
		else
			tap_diag("sql: %s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
	} else {
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		int rc;

		if (sqlite3_open(lite_path(url), &db) == SQLITE_OK &&
		    sqlite3_busy_timeout(db, 10000) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				v = sqlite3_column_type(st, 0) == SQLITE_NULL ?
				    -2 :
				    sqlite3_column_int64(st, 0);
			else if (rc == SQLITE_DONE)
				v = 0;
		}
		if (v == -1)
			tap_diag("sql: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	return v;
}

/* The same, giving the text of the first column (static storage). */
static const char *
sql_text(const char *url, const char *sql)
{
	static char buf[4096];
	const char *v = NULL;

	buf[0] = '\0';
	if (is_pg) {
		PGconn *c = PQconnectdb(url);
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
		    !PQgetisnull(r, 0, 0)) {
			(void)snprintf(buf, sizeof(buf), "%s",
			               PQgetvalue(r, 0, 0));
			v = buf;
		}
		PQclear(r);
		PQfinish(c);
	} else {
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;

		if (sqlite3_open(lite_path(url), &db) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL) {
			(void)snprintf(buf, sizeof(buf), "%s",
			               (const char *)sqlite3_column_text(st,
			                                                 0));
			v = buf;
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	return v;
}

static const char *
fresh(const char *name)
{
	static char url[1200];

	if (!is_pg) {
		(void)snprintf(url, sizeof(url), "sqlite:%s/%s.db", tmpdir,
		               name);
		return url;
	}
	(void)snprintf(url, sizeof(url), "%s", base_url);
	if (sql_int(url,
	            "DROP TABLE IF EXISTS failures, policies, reports, "
	            "quarantine, schema_version, rollout_events, mx_changes "
	            "CASCADE") != 0)
		tap_diag("could not empty the database");
	return url;
}

/* ---- reports built by hand ---- */

struct fdesc {
	const char *mx;
	const char *result;
	uint64_t n;
};

struct pdesc {
	const char *domain;
	uint64_t ok, ko;
	size_t nf;
	struct fdesc f[3];
};

struct rdesc {
	const char *org;
	const char *id;
	int64_t start;
	size_t np;
	struct pdesc p[3];
};

/* A report and the storage it points into. */
struct built {
	struct mts_tlsrpt_report r;
	struct mts_tlsrpt_policy p[3];
	struct mts_tlsrpt_failure f[3][3];
	char *strings[2];
	char *mx[1];
};

/* The report's strings are not const; the test's are never written. */
static char *
unconst(const char *s)
{
	return (char *)(uintptr_t)s;
}

static void
build(struct built *b, const struct rdesc *d)
{
	size_t i, j;

	memset(b, 0, sizeof(*b));
	b->strings[0] = "version: STSv1";
	b->strings[1] = "mode: \"enforce\"\\";
	b->mx[0] = "*.example.net";
	b->r.organization_name = unconst(d->org);
	b->r.report_id = unconst(d->id);
	b->r.contact_info = "tlsrpt@example.org";
	b->r.start = d->start;
	b->r.end = d->start + DAY - 1;
	b->r.policies = b->p;
	b->r.policy_count = d->np;
	for (i = 0; i < d->np; i++) {
		b->p[i].policy_type = "sts";
		b->p[i].policy_domain = unconst(d->p[i].domain);
		b->p[i].policy_strings = b->strings;
		b->p[i].policy_string_count = 2;
		b->p[i].mx_hosts = b->mx;
		b->p[i].mx_host_count = 1;
		b->p[i].successful = d->p[i].ok;
		b->p[i].failed = d->p[i].ko;
		b->p[i].failures = b->f[i];
		b->p[i].failure_count = d->p[i].nf;
		b->r.total_successful += d->p[i].ok;
		b->r.total_failed += d->p[i].ko;
		for (j = 0; j < d->p[i].nf; j++) {
			b->f[i][j].result_type = unconst(d->p[i].f[j].result);
			b->f[i][j].receiving_mx_hostname =
			    unconst(d->p[i].f[j].mx);
			b->f[i][j].sending_mta_ip = "192.0.2.1";
			b->f[i][j].failed_session_count = d->p[i].f[j].n;
		}
	}
}

static enum store_result
put(struct store *s, const struct rdesc *d, char *why)
{
	struct built b;

	build(&b, d);
	return store_put_report(s, &b.r, NULL, "test", DAY0, why,
	                        STORE_WHY_SIZE);
}

static struct store *
open_or_diag(const char *url)
{
	char why[STORE_WHY_SIZE] = "";
	struct store *s = NULL;

	if (store_open(url, &s, why, sizeof(why)) == -1) {
		tap_diag("store_open %s: %s", url, why);
		return NULL;
	}
	return s;
}

/* ---- idempotence, fields, quarantine ---- */

static void
test_idempotence(void)
{
	static const struct rdesc r =
	    {"google.com",
	     "2026-01-01T00:00:00Z_example.com",
	     DAY0,
	     2,
	     {{"example.com",
	       10,
	       3,
	       2,
	       {{"mx1.example.com", "starttls-not-supported", 1},
	        {"mx2.example.com", "certificate-expired", 2}}},
	      {"example.org", 5, 0, 0, {{0}}}}};
	struct rdesc other = r;
	char why[STORE_WHY_SIZE] = "";
	const char *url = fresh("idem");
	struct store *s;

	if ((s = open_or_diag(url)) == NULL) {
		tap_ok(false, "store_open a new store");
		return;
	}
	tap_ok(sql_int(url, "SELECT max(version) FROM schema_version") ==
	           STORE_SCHEMA_VERSION,
	       "a new store is at schema version %d", STORE_SCHEMA_VERSION);
	tap_ok(put(s, &r, why) == STORE_ADDED, "first put: ADDED (%s)", why);
	tap_ok(put(s, &r, why) == STORE_KNOWN,
	       "the same report again: KNOWN (%s)", why);
	tap_ok(sql_int(url, "SELECT count(*) FROM reports") == 1 &&
	           sql_int(url, "SELECT count(*) FROM policies") == 2 &&
	           sql_int(url, "SELECT count(*) FROM failures") == 2,
	       "stored once: 1 report, 2 policies, 2 failure details");
	other.org = "microsoft.com";
	tap_ok(put(s, &other, why) == STORE_ADDED,
	       "the same report-id from another organization: ADDED");
	tap_ok(sql_int(url,
	               "SELECT count(*) FROM reports WHERE report_id = "
	               "'2026-01-01T00:00:00Z_example.com'") == 2,
	       "both organizations' reports are stored");
	tap_ok(tap_streq(sql_text(url,
	                          "SELECT strings FROM policies "
	                          "WHERE idx = 0 LIMIT 1"),
	                 "[\"version: STSv1\",\"mode: \\\"enforce\\\"\\\\\"]"),
	       "policy-string kept as a JSON array, quotes escaped");
	tap_ok(sql_int(url,
	               "SELECT detail_failed FROM policies WHERE idx = 0 "
	               "LIMIT 1") == 3,
	       "the policy's details' counts summed at store time");
	store_close(s);
}

static void
test_fields(void)
{
	static struct mts_finding findings[3] =
	    {{.code = "report-date-no-zone"},
	     {.code = "report-contact-null"},
	     {.code = "report-date-no-zone"}};
	struct mts_diag diag = {.items = findings, .count = 3, .cap = 3};
	static const struct rdesc r = {"org",
	                               "id",
	                               DAY0,
	                               1,
	                               {{NULL, 1, 1, 1, {{NULL, "x", 1}}}}};
	char why[STORE_WHY_SIZE] = "";
	const char *url = fresh("fields");
	struct store *s;
	struct built b;

	if ((s = open_or_diag(url)) == NULL) {
		tap_ok(false, "store_open");
		return;
	}
	build(&b, &r);
	b.r.contact_info = NULL;
	tap_ok(store_put_report(s, &b.r, &diag, NULL, 42, why, sizeof(why)) ==
	           STORE_ADDED,
	       "a report without contact, domain, MX or origin: ADDED (%s)",
	       why);
	tap_ok(tap_streq(sql_text(url, "SELECT deviations FROM reports"),
	                 "[\"report-date-no-zone\",\"report-contact-null\"]"),
	       "deviation codes kept once each, in order");
	tap_ok(sql_int(url, "SELECT contact FROM reports") == -2 &&
	           sql_int(url, "SELECT origin FROM reports") == -2 &&
	           sql_int(url, "SELECT domain FROM policies") == -2 &&
	           sql_int(url, "SELECT receiving_mx_hostname FROM failures") ==
	               -2 &&
	           sql_int(url, "SELECT received FROM reports") == 42,
	       "absent members stored as NULL");
	/* Counts go as signed 64-bit integers: the parser caps them. */
	b.r.report_id = "big";
	b.p[0].successful = INT64_MAX;
	tap_ok(store_put_report(s, &b.r, NULL, NULL, 0, why, sizeof(why)) ==
	           STORE_ADDED,
	       "a count of INT64_MAX is stored (%s)", why);
	tap_ok(sql_int(url,
	               "SELECT p.successful FROM policies p JOIN reports r "
	               "ON r.id = p.report WHERE r.report_id = 'big'") ==
	           INT64_MAX,
	       "and read back as INT64_MAX");
	b.r.report_id = "bigger";
	b.p[0].successful = (uint64_t)INT64_MAX + 1;
	why[0] = '\0';
	tap_ok(store_put_report(s, &b.r, NULL, NULL, 0, why, sizeof(why)) ==
	               STORE_FAILED &&
	           strstr(why, "2^63") != NULL,
	       "a count past INT64_MAX is refused, not wrapped: %s", why);
	tap_ok(sql_int(url,
	               "SELECT count(*) FROM reports WHERE report_id = "
	               "'bigger'") == 0,
	       "and nothing of it is stored");
	store_close(s);
}

static void
test_quarantine(void)
{
	char why[STORE_WHY_SIZE] = "", *big;
	const char *url = fresh("quarantine");
	struct store *s;

	if ((s = open_or_diag(url)) == NULL) {
		tap_ok(false, "store_open");
		return;
	}
	tap_ok(store_put_quarantine(s, "not json\0here", 13, "a.json",
	                            "not JSON", 100, why,
	                            sizeof(why)) == STORE_ADDED,
	       "quarantine: ADDED (%s)", why);
	big = malloc(STORE_QUARANTINE_MAX + 10);
	memset(big, 'x', STORE_QUARANTINE_MAX + 10);
	tap_ok(store_put_quarantine(s, big, STORE_QUARANTINE_MAX + 10,
	                            "b.json.gz", "inflated past the cap", 101,
	                            why, sizeof(why)) == STORE_ADDED,
	       "quarantine of an input over the cap: ADDED (%s)", why);
	free(big);
	tap_ok(tap_streq(sql_text(url,
	                          "SELECT reason FROM quarantine WHERE "
	                          "origin = 'a.json'"),
	                 "not JSON") &&
	           tap_streq(sql_text(url,
	                              "SELECT reason FROM quarantine "
	                              "WHERE received = 101"),
	                     "inflated past the cap"),
	       "each row has its reason");
	tap_ok(sql_int(url,
	               "SELECT length(raw) FROM quarantine WHERE origin "
	               "= 'a.json'") == 13,
	       "raw octets kept, a NUL included");
	tap_ok(sql_int(url,
	               "SELECT length(raw) FROM quarantine WHERE "
	               "received = 101") == STORE_QUARANTINE_MAX &&
	           sql_int(url,
	                   "SELECT raw_size FROM quarantine WHERE "
	                   "received = 101") == STORE_QUARANTINE_MAX + 10,
	       "raw capped at STORE_QUARANTINE_MAX, whole size recorded");
	store_close(s);
}

/* ---- summaries against rows computed here ---- */

static const struct rdesc sample[] = {
    {"google.com",
     "r1",
     DAY0 + 3600,
     2,
     {{"a.example",
       100,
       5,
       2,
       {{"mx1.a.example", "starttls-not-supported", 3},
        {"mx2.a.example", "certificate-expired", 2}}},
      {"b.example", 50, 0, 0, {{0}}}}},
    {"google.com",
     "r2",
     DAY0 + DAY + 10,
     1,
     {{"a.example", 10, 7, 1, {{"mx1.a.example", "validation-failure", 2}}}}},
    {"microsoft.com",
     "r1",
     DAY0 + 100,
     2,
     {{"a.example", 0, 4, 1, {{NULL, "certificate-expired", 4}}},
      {NULL, 3, 0, 0, {{0}}}}},
    {"yahoo.com",
     "y",
     DAY0 + 2 * DAY,
     1,
     {{"b.example",
       7,
       1,
       1,
       {{"mx3.b.example", "starttls-not-supported", 5}}}}},
    {"yahoo.com", "z", -DAY + 5, 1, {{"c.example", 1, 0, 0, {{0}}}}},
    {"microsoft.com",
     "m0",
     DAY0 + 2 * DAY + 1,
     1,
     {{"c.example", 0, 0, 0, {{0}}}}},
    {"comcast.net",
     "c",
     DAY0 + DAY,
     2,
     {{"a.example",
       5,
       9,
       3,
       {{"mx2.a.example", "sts-policy-fetch-error", 1},
        {"mx2.a.example", "sts-policy-fetch-error", 2},
        {"mx1.a.example", "certificate-expired", 6}}},
      {"B.example", 2, 2, 1, {{"MX.B.example", "tlsa-invalid", 2}}}}},
    /* No policy: in no row, whichever way the rows are made. */
    {"empty.org", "e", DAY0 + 5, 0, {{0}}},
};
#define NSAMPLE (sizeof(sample) / sizeof(sample[0]))

/* One contribution to a row: the oracle's unit. */
struct contrib {
	int64_t day;
	const char *key[4]; /* domain, org, mx, result */
	uint64_t ok, ko;
	size_t report;
};

struct rows {
	struct store_row r[256];
	char text[256][4][64];
	size_t n;
	bool overflow;
};

static int
cmp_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL); /* NULL first */
	return strcmp(a, b);                      /* octet order */
}

static int
cmp_contrib(const void *va, const void *vb)
{
	const struct contrib *a = va, *b = vb;
	int c, i;

	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	for (i = 0; i < 4; i++)
		if ((c = cmp_str(a->key[i], b->key[i])) != 0)
			return c;
	return 0;
}

static int64_t
day_of(int64_t t)
{
	return t - (((t % DAY) + DAY) % DAY);
}

static void
add_row(struct rows *out, const struct contrib *c, size_t n)
{
	struct store_row *r = &out->r[out->n];
	bool seen[NSAMPLE] = {false};
	size_t i;

	memset(r, 0, sizeof(*r));
	r->day = c[0].day;
	r->domain = c[0].key[0];
	r->org = c[0].key[1];
	r->mx = c[0].key[2];
	r->result = c[0].key[3];
	for (i = 0; i < n; i++) {
		r->successful += c[i].ok;
		r->failed += c[i].ko;
		if (!seen[c[i].report])
			r->reports++;
		seen[c[i].report] = true;
	}
	if (r->reports != 0)
		out->n++;
}

/* The rows of store.h's rule, from the sample, the plain way. */
static void
expect(const struct store_query *q, struct rows *out)
{
	bool mx_form = (q->by & (STORE_BY_MX | STORE_BY_RESULT)) != 0;
	static struct contrib c[128];
	size_t n = 0, i, j, k, start;

	out->n = 0;
	for (i = 0; i < NSAMPLE; i++) {
		const struct rdesc *r = &sample[i];

		if (r->start < q->since || r->start >= q->until)
			continue;
		for (j = 0; j < r->np; j++) {
			const struct pdesc *p = &r->p[j];
			struct contrib base = {day_of(r->start),
			                       {p->domain, r->org, NULL, NULL},
			                       0,
			                       0,
			                       i};
			uint64_t detail = 0;

			if (q->domain != NULL &&
			    cmp_str(q->domain, p->domain) != 0)
				continue;
			if (!mx_form) {
				c[n] = base;
				c[n].ok = p->ok;
				c[n++].ko = p->ko;
				continue;
			}
			for (k = 0; k < p->nf; k++) {
				c[n] = base;
				c[n].key[2] = p->f[k].mx;
				c[n].key[3] = p->f[k].result;
				c[n++].ko = p->f[k].n;
				detail += p->f[k].n;
			}
			if (p->ok > 0 || p->ko > detail) {
				c[n] = base;
				c[n].ok = p->ok;
				c[n++].ko = p->ko > detail ? p->ko - detail : 0;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if ((q->by & STORE_BY_DAY) == 0)
			c[i].day = -1;
		if ((q->by & STORE_BY_DOMAIN) == 0)
			c[i].key[0] = NULL;
		if ((q->by & STORE_BY_ORG) == 0)
			c[i].key[1] = NULL;
		if ((q->by & STORE_BY_MX) == 0)
			c[i].key[2] = NULL;
		if ((q->by & STORE_BY_RESULT) == 0)
			c[i].key[3] = NULL;
	}
	qsort(c, n, sizeof(c[0]), cmp_contrib);
	for (start = 0, i = 1; i <= n; i++)
		if (i == n || cmp_contrib(&c[start], &c[i]) != 0) {
			add_row(out, &c[start], i - start);
			start = i;
		}
}

static const char *
keep(struct rows *rows, int k, const char *s)
{
	if (s == NULL)
		return NULL;
	(void)snprintf(rows->text[rows->n][k], sizeof(rows->text[0][0]), "%s",
	               s);
	return rows->text[rows->n][k];
}

static int
collect(const struct store_row *row, void *ctx)
{
	struct rows *rows = ctx;

	if (rows->n == sizeof(rows->r) / sizeof(rows->r[0])) {
		rows->overflow = true;
		return 1;
	}
	rows->r[rows->n] = *row;
	rows->r[rows->n].domain = keep(rows, 0, row->domain);
	rows->r[rows->n].org = keep(rows, 1, row->org);
	rows->r[rows->n].mx = keep(rows, 2, row->mx);
	rows->r[rows->n].result = keep(rows, 3, row->result);
	rows->n++;
	return 0;
}

static bool
row_eq(const struct store_row *a, const struct store_row *b)
{
	return a->day == b->day && tap_streq(a->domain, b->domain) &&
	    tap_streq(a->org, b->org) && tap_streq(a->mx, b->mx) &&
	    tap_streq(a->result, b->result) && a->successful == b->successful &&
	    a->failed == b->failed && a->reports == b->reports;
}

static void
diag_row(const char *what, const struct store_row *r)
{
	tap_diag("%s: day %" PRId64 " %s %s %s %s ok %" PRIu64 " ko %" PRIu64
	         " reports %" PRIu64,
	         what, r->day, r->domain ? r->domain : "-",
	         r->org ? r->org : "-", r->mx ? r->mx : "-",
	         r->result ? r->result : "-", r->successful, r->failed,
	         r->reports);
}

static bool
same_rows(const struct rows *got, const struct rows *want)
{
	size_t i;

	if (!got->overflow && got->n == want->n) {
		for (i = 0; i < got->n; i++)
			if (!row_eq(&got->r[i], &want->r[i]))
				break;
		if (i == got->n)
			return true;
	}
	for (i = 0; i < got->n; i++)
		diag_row("got ", &got->r[i]);
	for (i = 0; i < want->n; i++)
		diag_row("want", &want->r[i]);
	return false;
}

static int
stop_at_first(const struct store_row *row, void *ctx)
{
	(*(int *)ctx)++;
	(void)row;
	return 7;
}

static void
test_summary(void)
{
	static const struct {
		const char *name;
		const char *domain;
		int64_t since, until;
	} filters[] = {
	    {"all", NULL, INT64_MIN, INT64_MAX},
	    {"domain a.example", "a.example", INT64_MIN, INT64_MAX},
	    {"days 2-3", NULL, DAY0 + DAY, DAY0 + 2 * DAY + 1},
	    {"since day 1, b.example", "b.example", DAY0, INT64_MAX},
	    {"before 2026", NULL, INT64_MIN, DAY0},
	    {"no such domain", "nowhere.example", INT64_MIN, INT64_MAX},
	};
	static struct rows got, want;
	char why[STORE_WHY_SIZE] = "";
	const char *url = fresh("summary");
	struct store_query q;
	struct store *s;
	size_t i, bad;
	unsigned by;
	int calls = 0, rc;

	if ((s = open_or_diag(url)) == NULL) {
		tap_ok(false, "store_open");
		return;
	}
	for (bad = 0, i = 0; i < NSAMPLE; i++)
		if (put(s, &sample[i], why) != STORE_ADDED)
			bad++;
	tap_ok(bad == 0, "the summary sample is stored (%s)", why);
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		for (by = 0; by <= STORE_BY_ALL; by++) {
			q.domain = filters[i].domain;
			q.since = filters[i].since;
			q.until = filters[i].until;
			q.by = by;
			expect(&q, &want);
			got.n = 0;
			got.overflow = false;
			rc = store_summary(s, &q, collect, &got, why,
			                   sizeof(why));
			tap_ok(rc == 0 && same_rows(&got, &want),
			       "summary by%s%s%s%s%s, %s: %zu rows (%s)",
			       by & STORE_BY_DAY ? " day" : "",
			       by & STORE_BY_DOMAIN ? " domain" : "",
			       by & STORE_BY_ORG ? " org" : "",
			       by & STORE_BY_MX ? " mx" : "",
			       by & STORE_BY_RESULT ? " result" : "",
			       filters[i].name, want.n, rc == 0 ? "" : why);
		}
	q = (struct store_query){NULL, INT64_MIN, INT64_MAX, STORE_BY_ORG};
	tap_ok(store_summary(s, &q, stop_at_first, &calls, why, sizeof(why)) ==
	               7 &&
	           calls == 1,
	       "a callback's non-zero return stops the walk and is returned");
	q.by = 0x20;
	tap_ok(store_summary(s, &q, collect, &got, why, sizeof(why)) == -1,
	       "an unknown key is refused: %s", why);
	store_close(s);
}

/* ---- migrations ---- */

static void
test_migrations(void)
{
	static const struct rdesc r = {"org",
	                               "kept",
	                               DAY0,
	                               1,
	                               {{"a.example", 1, 0, 0, {{0}}}}};
	char why[STORE_WHY_SIZE] = "";
	const char *url = fresh("migrate");
	struct store *s = NULL;

	/* Version 0: a schema_version table saying 0, nothing else. */
	sql_int(url, "CREATE TABLE schema_version (version INTEGER NOT NULL)");
	sql_int(url, "INSERT INTO schema_version VALUES (0)");
	tap_ok(sql_int(url, "SELECT max(version) FROM schema_version") == 0,
	       "a database at version 0");
	if ((s = open_or_diag(url)) == NULL) {
		tap_ok(false, "store_open migrates version 0");
		return;
	}
	tap_ok(sql_int(url, "SELECT max(version) FROM schema_version") ==
	               STORE_SCHEMA_VERSION &&
	           sql_int(url, "SELECT count(*) FROM schema_version") == 1,
	       "version 0 migrated to %d, one version row",
	       STORE_SCHEMA_VERSION);
	tap_ok(put(s, &r, why) == STORE_ADDED, "the migrated store stores");
	store_close(s);
	s = open_or_diag(url);
	tap_ok(s != NULL && put(s, &r, why) == STORE_KNOWN,
	       "a store at version %d reopened keeps its reports",
	       STORE_SCHEMA_VERSION);
	store_close(s);
	s = NULL;
	sql_int(url, "UPDATE schema_version SET version = 99");
	why[0] = '\0';
	tap_ok(store_open(url, &s, why, sizeof(why)) == -1 && s == NULL &&
	           strstr(why, "99") != NULL && strstr(why, "newer") != NULL,
	       "a store from a newer program is refused: %s", why);
	tap_ok(sql_int(url, "SELECT count(*) FROM reports") == 1,
	       "and left as it was");
	/* A half-made schema: the migration fails whole. */
	url = fresh("clash");
	sql_int(url, "CREATE TABLE quarantine (x INTEGER)");
	why[0] = '\0';
	tap_ok(store_open(url, &s, why, sizeof(why)) == -1 &&
	           strstr(why, "version 1") != NULL,
	       "a migration that fails is refused: %s", why);
	tap_ok(sql_int(url, "SELECT count(*) FROM reports") == -1,
	       "and leaves nothing of itself (no reports table)");
}

static void
test_urls(void)
{
	char why[STORE_WHY_SIZE] = "", buf[512];
	struct store *s = NULL;

	tap_ok(store_open("mysql://x/y", &s, why, sizeof(why)) == -1 &&
	           s == NULL && strstr(why, "mysql://x/y") != NULL,
	       "an unknown scheme is refused: %s", why);
	tap_ok(store_open("sqlite:", &s, why, sizeof(why)) == -1 && s == NULL,
	       "sqlite: without a file is refused: %s", why);
	setenv("MTASTS_REPORT_DB", "postgresql://db/reports", 1);
	tap_ok(store_default_url(buf, sizeof(buf)) == 0 &&
	           strcmp(buf, "postgresql://db/reports") == 0,
	       "MTASTS_REPORT_DB is the default URL");
	unsetenv("MTASTS_REPORT_DB");
	setenv("XDG_DATA_HOME", "/xdg", 1);
	if (geteuid() == 0)
		tap_ok(store_default_url(buf, sizeof(buf)) == 0 &&
		           strcmp(buf, "sqlite:/var/lib/mtasts/reports.db") ==
		               0,
		       "root's default: %s", buf);
	else
		tap_ok(store_default_url(buf, sizeof(buf)) == 0 &&
		           strcmp(buf, "sqlite:/xdg/mtasts/reports.db") == 0,
		       "a user's default under XDG_DATA_HOME: %s", buf);
	tap_ok(store_default_url(buf, 10) == -1, "a URL that does not fit");
	unsetenv("XDG_DATA_HOME");
	/* The directory of a new SQLite store is made, private. */
	if (!is_pg) {
		struct stat st;

		(void)snprintf(buf, sizeof(buf), "sqlite:%s/new/dir/x.db",
		               tmpdir);
		s = open_or_diag(buf);
		(void)snprintf(buf, sizeof(buf), "%s/new/dir", tmpdir);
		tap_ok(s != NULL && stat(buf, &st) == 0 &&
		           (st.st_mode & 07777) ==
		               (geteuid() == 0 ? 0750u : 0700u),
		       "a missing directory is made with mode %o",
		       geteuid() == 0 ? 0750u : 0700u);
		store_close(s);
	}
}

/* ---- SIGKILL mid-report ---- */

#define BIG_DETAILS 60000

/* Stores reports of BIG_DETAILS details until killed. */
static void
big_writer(const char *url, int round)
{
	static struct mts_tlsrpt_failure f[BIG_DETAILS];
	struct mts_tlsrpt_policy p = {0};
	struct mts_tlsrpt_report r = {0};
	char why[STORE_WHY_SIZE], id[64];
	struct store *s;
	size_t i;

	if ((s = open_or_diag(url)) == NULL)
		_exit(3);
	for (i = 0; i < BIG_DETAILS; i++) {
		f[i].result_type = "certificate-expired";
		f[i].receiving_mx_hostname = "mx.example";
		f[i].failed_session_count = 1;
	}
	p.policy_type = "sts";
	p.policy_domain = "big.example";
	p.failures = f;
	p.failure_count = BIG_DETAILS;
	p.failed = BIG_DETAILS;
	r.organization_name = "killer";
	r.policies = &p;
	r.policy_count = 1;
	for (i = 0;; i++) {
		(void)snprintf(id, sizeof(id), "big-%d-%zu", round, i);
		r.report_id = id;
		r.start = DAY0;
		if (store_put_report(s, &r, NULL, NULL, 0, why, sizeof(why)) !=
		    STORE_ADDED) {
			fprintf(stderr, "big_writer: %s\n", why);
			_exit(4);
		}
	}
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Waits until the store holds more than `before` reports or the writer
 * has ended, polling for at most 60 s.  The kills below come this long
 * after the writer's first report: a fixed delay from its start alone
 * fell before its first commit when a loaded machine ran the sanitizer
 * build, and nothing was left to check.
 */
static void
wait_for_report(const char *url, int64_t before, pid_t pid)
{
	siginfo_t info;
	int i;

	for (i = 0; i < 3000; i++) {
		if (sql_int(url, "SELECT count(*) FROM reports") > before)
			return;
		/* Ended (not reaped: test_kill's waitpid says how). */
		info.si_pid = 0;
		if (waitid(P_PID, (id_t)pid, &info,
		           WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    info.si_pid != 0)
			return;
		sleep_ms(20);
	}
}

static void
test_kill(void)
{
	static const long delays[] = {15, 60, 110, 170, 240, 330, 420, 530};
	char why[STORE_WHY_SIZE] = "";
	const char *url = fresh("kill");
	struct store *s;
	size_t i, killed = 0;
	int64_t before;
	int status;
	pid_t pid;

	/* The schema exists before the first writer starts. */
	if ((s = open_or_diag(url)) == NULL) {
		tap_ok(false, "store_open");
		return;
	}
	store_close(s);
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		before = sql_int(url, "SELECT count(*) FROM reports");
		fflush(stdout);
		if ((pid = fork()) == 0)
			big_writer(url, (int)i);
		wait_for_report(url, before, pid);
		sleep_ms(delays[i]);
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL)
			killed++;
		else
			tap_diag("writer %zu ended on its own: status %d", i,
			         status);
	}
	tap_ok(killed == sizeof(delays) / sizeof(delays[0]),
	       "%zu writers of %d-detail reports killed mid-run", killed,
	       BIG_DETAILS);
	tap_diag("reports stored whole by the killed writers: %" PRId64,
	         sql_int(url, "SELECT count(*) FROM reports"));
	tap_ok(sql_int(url, "SELECT count(*) FROM reports") > 0,
	       "some reports were stored before the kills");
	tap_ok(sql_int(url,
	               "SELECT count(*) FROM reports r WHERE (SELECT "
	               "count(*) FROM failures f WHERE f.report = r.id) "
	               "<> 60000 OR (SELECT count(*) FROM policies p "
	               "WHERE p.report = r.id) <> 1") == 0,
	       "every stored report has its 1 policy and 60000 details");
	tap_ok(sql_int(url,
	               "SELECT count(*) FROM failures f WHERE NOT EXISTS "
	               "(SELECT 1 FROM reports r WHERE r.id = f.report)") ==
	               0 &&
	           sql_int(url,
	                   "SELECT count(*) FROM policies p WHERE NOT "
	                   "EXISTS (SELECT 1 FROM reports r WHERE r.id = "
	                   "p.report)") == 0,
	       "no detail or policy of a report that is not stored");
	s = open_or_diag(url);
	tap_ok(s != NULL && put(s, &sample[0], why) == STORE_ADDED,
	       "the store takes reports after the kills (%s)", why);
	store_close(s);
}

/* ---- two processes at once ---- */

#define OWN    1500
#define SHARED 300

struct tally {
	unsigned added, known, failed;
	char why[STORE_WHY_SIZE];
};

static void
ingester(const char *url, int who, int fd)
{
	struct tally t = {0};
	char why[STORE_WHY_SIZE], id[32];
	struct rdesc r = sample[0];
	struct store *s;
	enum store_result res;
	int i;

	if ((s = open_or_diag(url)) == NULL) {
		t.failed = 1;
		(void)snprintf(t.why, sizeof(t.why), "store_open failed");
	}
	/* Own reports and shared ones, interleaved. */
	for (i = 0; s != NULL && i < OWN + SHARED; i++) {
		if (i % 6 == 0 && i / 6 < SHARED) {
			(void)snprintf(id, sizeof(id), "shared-%d", i / 6);
			r.org = "both";
		} else {
			(void)snprintf(id, sizeof(id), "own-%d-%d", who, i);
			r.org = "one";
		}
		r.id = id;
		res = put(s, &r, why);
		if (r.org[0] == 'b' && res == STORE_ADDED)
			t.added++;
		else if (res == STORE_KNOWN)
			t.known++;
		else if (res == STORE_FAILED) {
			if (t.failed++ == 0)
				memcpy(t.why, why, sizeof(t.why));
		}
	}
	store_close(s);
	fflush(stdout);
	if (write(fd, &t, sizeof(t)) != (ssize_t)sizeof(t))
		_exit(2);
	_exit(0);
}

static void
test_concurrent(void)
{
	struct tally t[2];
	const char *url = fresh("concurrent");
	int fds[2][2], i, ok = 0;
	pid_t pid[2];

	/* The store does not exist yet: both create it at once too. */
	for (i = 0; i < 2; i++) {
		if (pipe(fds[i]) == -1)
			return;
		fflush(stdout);
		if ((pid[i] = fork()) == 0)
			ingester(url, i, fds[i][1]);
		close(fds[i][1]);
	}
	for (i = 0; i < 2; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		if (read(fds[i][0], &t[i], sizeof(t[i])) == sizeof(t[i]))
			ok++;
		close(fds[i][0]);
		waitpid(pid[i], NULL, 0);
	}
	tap_ok(ok == 2 && t[0].failed == 0 && t[1].failed == 0,
	       "two processes storing at once: none FAILED (%s%s)", t[0].why,
	       t[1].why);
	tap_ok(t[0].added + t[1].added == SHARED &&
	           t[0].known + t[1].known == SHARED,
	       "each shared report ADDED once and KNOWN once (%u+%u added, "
	       "%u+%u known)",
	       t[0].added, t[1].added, t[0].known, t[1].known);
	tap_ok(sql_int(url, "SELECT count(*) FROM reports") ==
	           2 * (OWN + SHARED) - SHARED,
	       "all %d reports stored", 2 * (OWN + SHARED) - SHARED);
}

/* ---- the engine failing under the store ---- */

/*
 * SQLite: the disk fills up.  In a child, in a private mount namespace,
 * on a small tmpfs (root only): reports go in until the engine fails,
 * which must be STORE_FAILED with a why, and leave only whole reports.
 */
static int
disk_full_child(void)
{
	char why[STORE_WHY_SIZE] = "", dir[300], url[400], id[32];
	struct rdesc r = sample[6];
	unsigned added = 0;
	struct store *s;
	int i, res = 0;

	(void)snprintf(dir, sizeof(dir), "%s/full", tmpdir);
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mkdir(dir, 0700) == -1 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=256k") == -1)
		return 10;
	(void)snprintf(url, sizeof(url), "sqlite:%s/s.db", dir);
	if ((s = open_or_diag(url)) == NULL)
		return 11;
	for (i = 0; i < 100000; i++) {
		(void)snprintf(id, sizeof(id), "fill-%d", i);
		r.id = id;
		res = put(s, &r, why);
		if (res != STORE_ADDED)
			break;
		added++;
	}
	printf("# disk full after %u reports: %s\n", added, why);
	fflush(stdout);
	if (res != STORE_FAILED || strstr(why, "full") == NULL)
		return 12;
	/* What was ADDED is there, whole; the failed one is not. */
	store_close(s);
	if (sql_int(url, "SELECT count(*) FROM reports") != (int64_t)added)
		return 13;
	if (sql_int(url, "SELECT count(*) FROM failures") != (int64_t)added * 4)
		return 14;
	return 0;
}

static void
test_engine_failure_sqlite(void)
{
	int status = -1;
	pid_t pid;

	if (geteuid() != 0) {
		tap_skip("a full disk fails a put with a why",
		         "needs root for a private tmpfs");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(disk_full_child());
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "a full disk: STORE_FAILED with a why, no crash, only whole "
	       "reports kept (child status %d)",
	       status);
}

/* PostgreSQL: the server ends the store's session under it. */
static void
test_engine_failure_pg(void)
{
	char why[STORE_WHY_SIZE] = "";
	const char *url = fresh("pgfail");
	struct store *s;
	struct rdesc r = sample[0];

	if ((s = open_or_diag(url)) == NULL) {
		tap_ok(false, "store_open");
		return;
	}
	tap_ok(put(s, &r, why) == STORE_ADDED, "a put before the failure");
	sql_int(url,
	        "SELECT count(pg_terminate_backend(pid)) FROM "
	        "pg_stat_activity WHERE datname = current_database() "
	        "AND pid <> pg_backend_pid()");
	r.id = "after";
	why[0] = '\0';
	tap_ok(put(s, &r, why) == STORE_FAILED && why[0] != '\0',
	       "the session ended by the server: STORE_FAILED: %s", why);
	tap_ok(put(s, &r, why) == STORE_ADDED,
	       "the next put reconnects and stores (%s)", why);
	tap_ok(sql_int(url, "SELECT count(*) FROM reports") == 2,
	       "two reports stored, none twice");
	store_close(s);
}

int
main(void)
{
	const char *env = getenv("MTS_STORE_URL");
	char cmd[300];

	if (env != NULL && env[0] != '\0') {
		(void)snprintf(base_url, sizeof(base_url), "%s", env);
		is_pg = strncmp(env, "postgres", 8) == 0;
	}
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/mts-store-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tap_diag("engine: %s", is_pg ? "postgresql" : "sqlite");
	test_idempotence();
	test_fields();
	test_quarantine();
	test_summary();
	test_migrations();
	test_urls();
	test_kill();
	test_concurrent();
	if (is_pg)
		test_engine_failure_pg();
	else
		test_engine_failure_sqlite();
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
