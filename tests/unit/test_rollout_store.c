/* SPDX-License-Identifier: ISC */
/*
 * The store as mtasts rollout uses it (src/report/rollout_store.h)
 * against a real engine: the URL comes from MTS_STORE_URL
 * (tests/e2e/store_pg.sh gives a PostgreSQL it started); without it,
 * SQLite files in a temporary directory.  The same checks run on both:
 * a domain's policies and failure details (RFC 8460 §4.4) by date range
 * from reports parsed from JSON here, other domains and dates left out,
 * their order; the events in the order written; an MX change begun,
 * refused while one is open (also to the second of two processes
 * starting one at once), read, finished once (also under a race);
 * both-or-neither of a change and its event; and a version 1 store
 * migrated to version 2 with its reports.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include <mtasts/tlsrpt_report.h>

#include "rollout_store.h"
#include "tap.h"

#define DAY0 INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define DAY  INT64_C(86400)

static char base_url[1024]; /* MTS_STORE_URL, or "" for SQLite */
static char tmpdir[256];
static bool is_pg;

/* ---- the database behind the store's back ---- */

static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * Runs sql (one or more statements) and gives the first column of the
 * first row as an integer: 0 for no row, -1 on an error, -2 for NULL.
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
		else if (PQresultStatus(r) == PGRES_COMMAND_OK ||
		         PQresultStatus(r) == PGRES_TUPLES_OK)
			v = 0;
		PQclear(r);
		PQfinish(c);
		return v;
	}
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *tail = sql;
	int rc;

	if (sqlite3_open(url + strlen("sqlite:"), &db) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 10000) != SQLITE_OK)
		goto fail;
	/* Each statement in turn; the value is the last one's. */
	v = 0;
	while (*tail != '\0') {
		sqlite3_finalize(st);
		st = NULL;
		if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK)
			goto fail;
		if (st == NULL)
			break; /* only blanks left */
		if ((rc = sqlite3_step(st)) == SQLITE_DONE)
			v = 0;
		else if (rc != SQLITE_ROW)
			goto fail;
		else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			v = -2;
		else
			v = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
fail:
	tap_diag("sql: %s", db != NULL ? sqlite3_errmsg(db) : "no memory");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return -1;
}

/* A URL of a new, empty store named `name`. */
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
	            "quarantine, schema_version, rollout_events, "
	            "rollout_events_away, mx_changes CASCADE") != 0)
		tap_diag("could not empty the database");
	return url;
}

static struct store *
open_store(const char *url)
{
	char why[STORE_WHY_SIZE] = "";
	struct store *s = NULL;

	if (store_open(url, &s, why, sizeof(why)) == -1) {
		tap_diag("store_open %s: %s", url, why);
		return NULL;
	}
	return s;
}

/* The first line of why (PostgreSQL's messages go on with context). */
static const char *
line1(char *why)
{
	why[strcspn(why, "\n")] = '\0';
	return why;
}

/* ---- reports, as JSON ---- */

#define POLICY(type, domain, more, ok, ko, details)                            \
	"{\"policy\":{\"policy-type\":\"" type "\"," more                      \
	"\"policy-domain\":\"" domain "\"},"                                   \
	"\"summary\":{\"total-successful-session-count\":" #ok                 \
	",\"total-failure-session-count\":" #ko "},"                           \
	"\"failure-details\":[" details "]}"
#define STS_STRINGS                                                            \
	"\"policy-string\":[\"version: STSv1\",\"mode: testing\","             \
	"\"mx: mx1.example.com\",\"max_age: 86400\"],"                         \
	"\"mx-host\":[\"mx1.example.com\"],"
#define STS_STRINGS_JSON                                                       \
	"[\"version: STSv1\",\"mode: testing\",\"mx: mx1.example.com\","       \
	"\"max_age: 86400\"]"
#define DETAIL(result, where, n)                                               \
	"{\"result-type\":\"" result                                           \
	"\",\"sending-mta-ip\":\"198.51.100.1\"," where                        \
	"\"failed-session-count\":" #n "}"
#define AT_MX(i)                                                               \
	"\"receiving-mx-hostname\":\"mx" #i ".example.com\","                  \
	"\"receiving-ip\":\"192.0.2." #i "\","

struct report {
	const char *org;
	const char *id;
	const char *day; /* YYYY-MM-DD, the date range's */
	const char *policies;
};

/* In the order stored: z-org's r3 before b-org's r2, of the same day. */
static const struct report reports[] = {
    {"b-org", "old", "2025-12-31",
     POLICY("sts", "example.com", STS_STRINGS, 1, 0, "")},
    {"a-org", "r1", "2026-01-03",
     POLICY("sts", "example.com", STS_STRINGS, 10, 5,
            DETAIL("certificate-expired", AT_MX(1),
                   2) "," DETAIL("starttls-not-supported", AT_MX(2),
                                 3)) "," POLICY("tlsa",
                                                "other."
                                                "example",
                                                "", 5, 0, "")},
    {"z-org", "r3", "2026-01-02",
     POLICY("sts", "example.com", STS_STRINGS, 4, 0, "")},
    {"b-org", "r2", "2026-01-02",
     POLICY("sts", "example.com", "", 7, 0,
            "") "," POLICY("no-policy-found", "example.com", "", 1, 1,
                           DETAIL("validation-failure", "", 1))},
    {"c-org", "edge", "2026-01-10", POLICY("sts", "example.com", "", 9, 0, "")},
    {"c-org", "org", "2026-01-04",
     POLICY("sts", "example.org", "", 9, 9,
            DETAIL("certificate-expired", AT_MX(3), 9))},
    {"c-org", "caps", "2026-01-05",
     POLICY("sts", "EXAMPLE.COM", "", 9, 9,
            DETAIL("certificate-expired", AT_MX(3), 9))},
    {"c-org", "first", "2026-01-01",
     POLICY("sts", "example.com", "", 3, 0, "")},
};

static int
put_json(struct store *s, const struct report *r)
{
	char json[4096], why[STORE_WHY_SIZE] = "";
	struct mts_tlsrpt_report rep;
	struct mts_diag diag;
	struct mts_err err;
	int n, rc = -1;

	n = snprintf(json, sizeof(json),
	             "{\"organization-name\":\"%s\",\"date-range\":{"
	             "\"start-datetime\":\"%sT00:00:00Z\","
	             "\"end-datetime\":\"%sT23:59:59Z\"},"
	             "\"contact-info\":\"tlsrpt@%s.example\","
	             "\"report-id\":\"%s\",\"policies\":[%s]}",
	             r->org, r->day, r->day, r->org, r->id, r->policies);
	if (n < 0 || (size_t)n >= sizeof(json))
		return -1;
	mts_diag_init(&diag);
	memset(&err, 0, sizeof(err));
	if (mts_tlsrpt_report_parse(json, (size_t)n, 0, &rep, &diag, &err) ==
	    -1) {
		tap_diag("report %s: does not parse", r->id);
		mts_diag_reset(&diag);
		return -1;
	}
	if (store_put_report(s, &rep, &diag, "test", DAY0, why, sizeof(why)) ==
	    STORE_ADDED)
		rc = 0;
	else
		tap_diag("report %s: %s", r->id, why);
	mts_tlsrpt_report_reset(&rep);
	mts_diag_reset(&diag);
	return rc;
}

/* ---- rows seen ---- */

#define ROWS_MAX 16

/* A row of either walk, its strings copied. */
struct seen {
	int64_t report;
	int64_t start;
	char *org, *type, *strings, *result, *mx, *ip;
	uint64_t ok, ko;
};

struct rows {
	struct seen r[ROWS_MAX];
	size_t n;
	int stop_at; /* return 7 at this row (1-based); 0: never */
};

static char *
copy(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

static void
rows_free(struct rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++) {
		free(rows->r[i].org);
		free(rows->r[i].type);
		free(rows->r[i].strings);
		free(rows->r[i].result);
		free(rows->r[i].mx);
		free(rows->r[i].ip);
	}
	memset(rows, 0, sizeof(*rows));
}

static int
on_policy(const struct rollout_policy_row *row, void *ctx)
{
	struct rows *rows = ctx;
	struct seen *s;

	if (rows->n == ROWS_MAX)
		return -1;
	s = &rows->r[rows->n++];
	*s = (struct seen){row->report,
	                   row->range_start,
	                   copy(row->org),
	                   copy(row->type),
	                   copy(row->strings),
	                   NULL,
	                   NULL,
	                   NULL,
	                   row->successful,
	                   row->failed};
	return rows->stop_at == (int)rows->n ? 7 : 0;
}

static int
on_failure(const struct rollout_failure_row *row, void *ctx)
{
	struct rows *rows = ctx;
	struct seen *s;

	if (rows->n == ROWS_MAX)
		return -1;
	s = &rows->r[rows->n++];
	*s = (struct seen){row->report,
	                   row->range_start,
	                   copy(row->org),
	                   copy(row->type),
	                   copy(row->strings),
	                   copy(row->result),
	                   copy(row->mx),
	                   copy(row->ip),
	                   0,
	                   row->failed};
	return rows->stop_at == (int)rows->n ? 7 : 0;
}

/* A row wanted; `group` tells the report: equal groups, equal ids. */
struct want {
	int group;
	int64_t start;
	const char *org, *type, *strings, *result, *mx, *ip;
	uint64_t ok, ko;
};

static bool
rows_match(const struct rows *rows, const struct want *w, size_t n,
           bool failures)
{
	size_t i, j;

	if (rows->n != n) {
		tap_diag("%zu rows, %zu wanted", rows->n, n);
		return false;
	}
	for (i = 0; i < n; i++) {
		const struct seen *s = &rows->r[i];

		if (s->start != w[i].start || !tap_streq(s->org, w[i].org) ||
		    !tap_streq(s->type, w[i].type) ||
		    !tap_streq(s->strings, w[i].strings) ||
		    (!failures && s->ok != w[i].ok) || s->ko != w[i].ko ||
		    (failures &&
		     (!tap_streq(s->result, w[i].result) ||
		      !tap_streq(s->mx, w[i].mx) ||
		      !tap_streq(s->ip, w[i].ip)))) {
			tap_diag("row %zu: %" PRId64
			         " %s %s %s %s %s %s %" PRIu64 " %" PRIu64,
			         i, s->start, s->org, s->type, s->strings,
			         s->result ? s->result : "-",
			         s->mx ? s->mx : "-", s->ip ? s->ip : "-",
			         s->ok, s->ko);
			return false;
		}
		for (j = 0; j < i; j++)
			if ((w[i].group == w[j].group) !=
			    (s->report == rows->r[j].report)) {
				tap_diag("rows %zu and %zu: report ids %" PRId64
				         " and %" PRId64,
				         j, i, rows->r[j].report, s->report);
				return false;
			}
	}
	return true;
}

static void
test_reports(void)
{
	static const struct want policies[] = {
	    {1, DAY0, "c-org", "sts", "[]", NULL, NULL, NULL, 3, 0},
	    {2, DAY0 + DAY, "z-org", "sts", STS_STRINGS_JSON, NULL, NULL, NULL,
	     4, 0},
	    {3, DAY0 + DAY, "b-org", "sts", "[]", NULL, NULL, NULL, 7, 0},
	    {3, DAY0 + DAY, "b-org", "no-policy-found", "[]", NULL, NULL, NULL,
	     1, 1},
	    {4, DAY0 + 2 * DAY, "a-org", "sts", STS_STRINGS_JSON, NULL, NULL,
	     NULL, 10, 5},
	};
	static const struct want failures[] = {
	    {3, DAY0 + DAY, "b-org", "no-policy-found", "[]",
	     "validation-failure", NULL, NULL, 0, 1},
	    {4, DAY0 + 2 * DAY, "a-org", "sts", STS_STRINGS_JSON,
	     "certificate-expired", "mx1.example.com", "192.0.2.1", 0, 2},
	    {4, DAY0 + 2 * DAY, "a-org", "sts", STS_STRINGS_JSON,
	     "starttls-not-supported", "mx2.example.com", "192.0.2.2", 0, 3},
	};
	char why[STORE_WHY_SIZE] = "";
	const char *url = fresh("reports");
	struct rows rows = {0};
	struct store *s;
	size_t i;
	int rc;

	if ((s = open_store(url)) == NULL) {
		tap_ok(false, "store_open");
		return;
	}
	for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
		if (put_json(s, &reports[i]) == -1)
			break;
	tap_ok(i == sizeof(reports) / sizeof(reports[0]),
	       "%zu reports parsed and stored", i);

	rc = rollout_store_policies(s, "example.com", DAY0, DAY0 + 9 * DAY,
	                            on_policy, &rows, why, sizeof(why));
	tap_ok(rc == 0 && rows_match(&rows, policies, 5, false),
	       "policies of example.com in [01-01, 01-10): by start, then "
	       "report as stored (not org, not report-id), then place; the "
	       "bounds, example.org and EXAMPLE.COM left out (%s)",
	       line1(why));
	rows_free(&rows);
	rc = rollout_store_failures(s, "example.com", DAY0, DAY0 + 9 * DAY,
	                            on_failure, &rows, why, sizeof(why));
	tap_ok(rc == 0 && rows_match(&rows, failures, 3, true),
	       "failure details of example.com: in order, a detail without "
	       "receiving-mx-hostname with a NULL mx and ip (%s)",
	       line1(why));
	rows_free(&rows);
	rc =
	    rollout_store_policies(s, "example.com", DAY0 + DAY, DAY0 + 2 * DAY,
	                           on_policy, &rows, why, sizeof(why));
	tap_ok(rc == 0 && rows_match(&rows, policies + 1, 3, false),
	       "one day: that day's policies only");
	rows_free(&rows);
	rc = rollout_store_policies(s, "EXAMPLE.COM", INT64_MIN, INT64_MAX,
	                            on_policy, &rows, why, sizeof(why));
	tap_ok(rc == 0 && rows.n == 1 && rows.r[0].ok == 9,
	       "the domain is compared octet for octet: EXAMPLE.COM's own");
	rows_free(&rows);
	rc = rollout_store_failures(s, "other.example", INT64_MIN, INT64_MAX,
	                            on_failure, &rows, why, sizeof(why));
	tap_ok(rc == 0 && rows.n == 0,
	       "a domain of policies without details: no failure rows");
	rows_free(&rows);
	rc = rollout_store_policies(s, "nowhere.example", INT64_MIN, INT64_MAX,
	                            on_policy, &rows, why, sizeof(why));
	tap_ok(rc == 0 && rows.n == 0, "an unknown domain: no rows");
	rows_free(&rows);
	rows.stop_at = 2;
	rc = rollout_store_policies(s, "example.com", DAY0, DAY0 + 9 * DAY,
	                            on_policy, &rows, why, sizeof(why));
	tap_ok(rc == 7 && rows.n == 2,
	       "a callback's non-zero return stops the walk and is returned "
	       "(%d, %zu rows)",
	       rc, rows.n);
	rows_free(&rows);
	rows.stop_at = 1;
	rc = rollout_store_failures(s, "example.com", DAY0, DAY0 + 9 * DAY,
	                            on_failure, &rows, why, sizeof(why));
	tap_ok(rc == 7 && rows.n == 1, "the same for the failure details");
	rows_free(&rows);
	store_close(s);
}

/* ---- events ---- */

struct events {
	struct rollout_event e[8];
	char *text[8][8];
	size_t n;
};

static int
on_event(const struct rollout_event *ev, void *ctx)
{
	struct events *evs = ctx;
	struct rollout_event *e;
	char **t;

	if (evs->n == 8)
		return -1;
	t = evs->text[evs->n];
	e = &evs->e[evs->n++];
	*e = *ev;
	e->domain = t[0] = copy(ev->domain);
	e->action = t[1] = copy(ev->action);
	e->policy_id = t[2] = copy(ev->policy_id);
	e->previous_id = t[3] = copy(ev->previous_id);
	e->mode = t[4] = copy(ev->mode);
	e->mx = t[5] = copy(ev->mx);
	e->policy_file = t[6] = copy(ev->policy_file);
	e->sha256 = t[7] = copy(ev->sha256);
	return 0;
}

static void
events_free(struct events *evs)
{
	size_t i, j;

	for (i = 0; i < evs->n; i++)
		for (j = 0; j < 8; j++)
			free(evs->text[i][j]);
	memset(evs, 0, sizeof(*evs));
}

static bool
event_eq(const struct rollout_event *a, const struct rollout_event *b)
{
	return tap_streq(a->domain, b->domain) && a->at == b->at &&
	    tap_streq(a->action, b->action) &&
	    tap_streq(a->policy_id, b->policy_id) &&
	    tap_streq(a->previous_id, b->previous_id) &&
	    tap_streq(a->mode, b->mode) && a->max_age == b->max_age &&
	    a->previous_max_age == b->previous_max_age &&
	    tap_streq(a->mx, b->mx) &&
	    tap_streq(a->policy_file, b->policy_file) &&
	    tap_streq(a->sha256, b->sha256);
}

#define SHA_A "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct rollout_event events[] = {
    {"example.com", 100, "promote", "20260101T000000", NULL, "enforce", 604800,
     86400, "[\"mx1.example.com\"]", "/srv/a/mta-sts.txt", SHA_A},
    {"example.com", 300, "mx-change", "20260103T000000", "20260101T000000",
     "enforce", UINT32_MAX, 604800, "[\"mx1.example.com\",\"mx2.example.com\"]",
     "/srv/a/mta-sts.txt", SHA_A},
    {"example.org", 150, "promote", "1", "0", "enforce", 1, 2, "[]",
     "/srv/b/mta-sts.txt", SHA_A},
    {"example.com", 200, "promote", "x\"y\\z é", "w", "testing", 0, 0,
     "[\"*.example.com\"]", "/srv/a/mta-sts.txt", SHA_A},
    {"example.com", 300, "mx-finish", "20260103T000001", "20260103T000000",
     "enforce", 604800, UINT32_MAX, "[\"mx2.example.com\"]",
     "/srv/a/mta-sts.txt", SHA_A},
};

static void
test_events(void)
{
	/* Oldest first; the two at 300 in the order they were added. */
	static const size_t order[] = {0, 3, 1, 4};
	char why[STORE_WHY_SIZE] = "";
	const char *url = fresh("events");
	struct events evs = {0};
	struct rollout_event bad;
	struct store *s;
	size_t i;
	bool same;
	int rc = 0;

	if ((s = open_store(url)) == NULL) {
		tap_ok(false, "store_open");
		return;
	}
	rc = rollout_store_events(s, "example.com", on_event, &evs, why,
	                          sizeof(why));
	tap_ok(rc == 0 && evs.n == 0, "no events at first");
	for (i = 0; i < sizeof(events) / sizeof(events[0]) && rc == 0; i++)
		rc = rollout_store_log(s, &events[i], why, sizeof(why));
	tap_ok(rc == 0, "five events logged (%s)", line1(why));
	rc = rollout_store_events(s, "example.com", on_event, &evs, why,
	                          sizeof(why));
	same = rc == 0 && evs.n == 4;
	for (i = 0; same && i < 4; i++)
		same = event_eq(&evs.e[i], &events[order[i]]);
	tap_ok(same,
	       "example.com's four events come back whole, by time then as "
	       "added; a NULL previous_id NULL, max_age 2^32-1 kept (%s)",
	       line1(why));
	events_free(&evs);
	rc = rollout_store_events(s, "example.org", on_event, &evs, why,
	                          sizeof(why));
	tap_ok(rc == 0 && evs.n == 1 && event_eq(&evs.e[0], &events[2]),
	       "example.org's one event");
	events_free(&evs);
	bad = events[0];
	bad.sha256 = NULL;
	why[0] = '\0';
	tap_ok(rollout_store_log(s, &bad, why, sizeof(why)) == -1 &&
	           strstr(why, "sha256") != NULL,
	       "an event without sha256 is refused: %s", line1(why));
	rc = rollout_store_events(s, "example.com", on_event, &evs, why,
	                          sizeof(why));
	tap_ok(rc == 0 && evs.n == 4, "and not logged");
	events_free(&evs);
	store_close(s);
}

/* ---- MX changes ---- */

struct open_seen {
	int calls;
	int64_t id;
	bool same; /* as `want` */
	const struct rollout_mx_change *want;
	int ret;
};

static int
on_open(const struct rollout_mx_change *c, void *ctx)
{
	struct open_seen *o = ctx;
	const struct rollout_mx_change *w = o->want;

	o->calls++;
	o->id = c->id;
	o->same = w != NULL && c->id == w->id &&
	    tap_streq(c->domain, w->domain) &&
	    tap_streq(c->policy_file, w->policy_file) &&
	    c->started == w->started && c->cutover_at == w->cutover_at &&
	    tap_streq(c->added, w->added) &&
	    tap_streq(c->removed, w->removed) &&
	    tap_streq(c->transition_id, w->transition_id) &&
	    c->finished == -1 && c->final_id == NULL;
	return o->ret;
}

/* A change of `domain` begun at `t`, and its event. */
static void
change_of(const char *domain, int64_t t, struct rollout_mx_change *c,
          struct rollout_event *ev)
{
	*c = (struct rollout_mx_change){-1,
	                                domain,
	                                "/srv/a/mta-sts.txt",
	                                t,
	                                t + 604800,
	                                "[\"mx2.example.com\"]",
	                                "[\"mx1.example.com\"]",
	                                "20260105T000000",
	                                -1,
	                                NULL};
	*ev =
	    (struct rollout_event){domain,
	                           t,
	                           "mx-change",
	                           "20260105T000000",
	                           "20260101T000000",
	                           "enforce",
	                           604800,
	                           604800,
	                           "[\"mx1.example.com\",\"mx2.example.com\"]",
	                           "/srv/a/mta-sts.txt",
	                           SHA_A};
}

static int64_t
count_where(const char *url, const char *table, const char *domain)
{
	char sql[256];

	(void)snprintf(sql, sizeof(sql),
	               "SELECT count(*) FROM %s WHERE domain = '%s'", table,
	               domain);
	return sql_int(url, sql);
}

static void
test_mx(void)
{
	char why[STORE_WHY_SIZE] = "";
	const char *url = fresh("mx");
	struct rollout_mx_change c, c2, other;
	struct rollout_event ev, ev2, fin;
	struct open_seen o = {0};
	struct store *s;
	int rc;

	if ((s = open_store(url)) == NULL) {
		tap_ok(false, "store_open");
		return;
	}
	rc = rollout_store_mx_open(s, "example.com", on_open, &o, why,
	                           sizeof(why));
	tap_ok(rc == 0 && o.calls == 0, "no open change: 0, fn not called");
	change_of("example.com", DAY0, &c, &ev);
	rc = rollout_store_mx_begin(s, &c, &ev, why, sizeof(why));
	tap_ok(rc == 0 && c.id >= 0, "a change begun: 0, id %" PRId64 " (%s)",
	       c.id, line1(why));
	tap_ok(count_where(url, "rollout_events", "example.com") == 1,
	       "and its event logged with it");
	o = (struct open_seen){.want = &c, .ret = 5};
	rc = rollout_store_mx_open(s, "example.com", on_open, &o, why,
	                           sizeof(why));
	tap_ok(rc == 5 && o.calls == 1 && o.same,
	       "the open change read back whole, fn's value returned");
	change_of("example.com", DAY0 + DAY, &c2, &ev2);
	c2.id = 12345;
	rc = rollout_store_mx_begin(s, &c2, &ev2, why, sizeof(why));
	tap_ok(rc == ROLLOUT_STORE_EXISTS && c2.id == 12345,
	       "a second change of the domain: EXISTS, id untouched (%s)",
	       line1(why));
	tap_ok(count_where(url, "rollout_events", "example.com") == 1 &&
	           count_where(url, "mx_changes", "example.com") == 1,
	       "and nothing of it written");
	change_of("example.org", DAY0, &other, &ev2);
	rc = rollout_store_mx_begin(s, &other, &ev2, why, sizeof(why));
	tap_ok(rc == 0 && other.id != c.id,
	       "another domain's change meanwhile: 0");
	c2.finished = DAY0;
	rc = rollout_store_mx_begin(s, &c2, &ev2, why, sizeof(why));
	tap_ok(rc == -1, "a change begun finished is refused: %s", line1(why));

	/* Both or neither: its event cannot be written, nor the change. */
	change_of("example.net", DAY0, &c2, &ev2);
	sql_int(url,
	        "ALTER TABLE rollout_events RENAME TO rollout_events_away");
	rc = rollout_store_mx_begin(s, &c2, &ev2, why, sizeof(why));
	sql_int(url,
	        "ALTER TABLE rollout_events_away RENAME TO rollout_events");
	tap_ok(rc == -1 && count_where(url, "mx_changes", "example.net") == 0,
	       "a change whose event fails is not begun: %s", line1(why));

	fin = ev;
	fin.action = "mx-finish";
	fin.at = DAY0 + 8 * DAY;
	fin.policy_id = "20260109T000000";
	sql_int(url,
	        "ALTER TABLE rollout_events RENAME TO rollout_events_away");
	rc = rollout_store_mx_finish(s, c.id, DAY0 + 8 * DAY, "20260109T000000",
	                             &fin, why, sizeof(why));
	sql_int(url,
	        "ALTER TABLE rollout_events_away RENAME TO rollout_events");
	o = (struct open_seen){.want = &c};
	tap_ok(rc == -1 &&
	           rollout_store_mx_open(s, "example.com", on_open, &o, why,
	                                 sizeof(why)) == 0 &&
	           o.calls == 1 && o.same,
	       "a finish whose event fails leaves the change open");
	why[0] = '\0';
	rc = rollout_store_mx_finish(s, c.id, DAY0 + 8 * DAY, "20260109T000000",
	                             &fin, why, sizeof(why));
	tap_ok(rc == 0, "the change finished: 0 (%s)", line1(why));
	o = (struct open_seen){0};
	rc = rollout_store_mx_open(s, "example.com", on_open, &o, why,
	                           sizeof(why));
	tap_ok(rc == 0 && o.calls == 0 &&
	           count_where(url, "rollout_events", "example.com") == 2 &&
	           sql_int(url,
	                   "SELECT count(*) FROM mx_changes WHERE "
	                   "finished = 1767916800 AND "
	                   "final_id = '20260109T000000'") == 1,
	       "no open change any more; its finish and event are stored");
	rc = rollout_store_mx_finish(s, c.id, DAY0 + 9 * DAY, "again", &fin,
	                             why, sizeof(why));
	tap_ok(rc == ROLLOUT_STORE_GONE &&
	           count_where(url, "rollout_events", "example.com") == 2,
	       "finishing it again: GONE, nothing written (%s)", line1(why));
	rc = rollout_store_mx_finish(s, 999999, DAY0 + 9 * DAY, "none", &fin,
	                             why, sizeof(why));
	tap_ok(rc == ROLLOUT_STORE_GONE, "finishing no such change: GONE");
	change_of("example.com", DAY0 + 10 * DAY, &c2, &ev2);
	why[0] = '\0';
	rc = rollout_store_mx_begin(s, &c2, &ev2, why, sizeof(why));
	tap_ok(rc == 0 && c2.id != c.id,
	       "after the finish a new change of the domain begins (%s)",
	       line1(why));
	store_close(s);
}

/* ---- two processes at once ---- */

enum race_what { RACE_BEGIN, RACE_FINISH };

struct race {
	const char *url;
	enum race_what what;
	const char *domain;
	int64_t id; /* RACE_FINISH */
};

/* A child's part: opens its own store, waits for the start, acts. */
static void
racer(const struct race *r, int go)
{
	char why[STORE_WHY_SIZE], c;
	struct rollout_mx_change ch;
	struct rollout_event ev;
	struct store *s = NULL;
	int rc;

	if (store_open(r->url, &s, why, sizeof(why)) == -1)
		_exit(3);
	/* The parent closes its end: both read EOF at once. */
	while (read(go, &c, 1) > 0)
		;
	change_of(r->domain, DAY0, &ch, &ev);
	if (r->what == RACE_BEGIN) {
		rc = rollout_store_mx_begin(s, &ch, &ev, why, sizeof(why));
	} else {
		ev.action = "mx-finish";
		rc = rollout_store_mx_finish(s, r->id, DAY0 + DAY, "final", &ev,
		                             why, sizeof(why));
	}
	if (rc == -1)
		fprintf(stderr, "racer: %s\n", why);
	store_close(s);
	_exit(rc == 0 ? 0 : rc == 1 ? 1 : 2);
}

/* Runs r in two processes at once; 0 and their exit statuses, or -1. */
static int
race(const struct race *r, int status[2])
{
	const struct timespec settle = {.tv_nsec = 200 * 1000 * 1000};
	pid_t pid[2];
	int go[2], i, st;

	if (pipe(go) == -1)
		return -1;
	fflush(stdout);
	for (i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == -1)
			return -1;
		if (pid[i] == 0) {
			close(go[1]);
			racer(r, go[0]);
		}
	}
	close(go[0]);
	(void)nanosleep(&settle, NULL); /* both connected, waiting */
	close(go[1]);
	for (i = 0; i < 2; i++) {
		if (waitpid(pid[i], &st, 0) == -1 || !WIFEXITED(st))
			return -1;
		status[i] = WEXITSTATUS(st);
	}
	return 0;
}

static int
on_id(const struct rollout_mx_change *c, void *ctx)
{
	*(int64_t *)ctx = c->id;
	return 0;
}

static void
test_race(void)
{
	char why[STORE_WHY_SIZE] = "", domain[64];
	const char *url = fresh("race");
	struct store *s;
	bool begin_ok = true, finish_ok = true;
	int64_t id;
	int round, st[2];

	/* The schema made before the race: the race is of the changes. */
	if ((s = open_store(url)) == NULL) {
		tap_ok(false, "store_open");
		return;
	}
	store_close(s);
	for (round = 0; round < 4; round++) {
		struct race r = {url, RACE_BEGIN, domain, -1};

		(void)snprintf(domain, sizeof(domain), "race%d.example", round);
		if (race(&r, st) == -1 || st[0] + st[1] != 1 ||
		    count_where(url, "mx_changes", domain) != 1 ||
		    count_where(url, "rollout_events", domain) != 1) {
			tap_diag("round %d: begin: exit statuses %d and %d",
			         round, st[0], st[1]);
			begin_ok = false;
		}
		id = -1;
		if ((s = open_store(url)) == NULL ||
		    rollout_store_mx_open(s, domain, on_id, &id, why,
		                          sizeof(why)) != 0)
			id = -1;
		store_close(s);
		r.what = RACE_FINISH;
		r.id = id;
		if (id < 0 || race(&r, st) == -1 || st[0] + st[1] != 1 ||
		    count_where(url, "rollout_events", domain) != 2) {
			tap_diag("round %d: finish: exit statuses %d and %d",
			         round, st[0], st[1]);
			finish_ok = false;
		}
	}
	tap_ok(begin_ok,
	       "two processes beginning a change of one domain at once: one "
	       "0, one EXISTS, one change and one event, 4 rounds");
	tap_ok(finish_ok,
	       "two processes finishing it at once: one 0, one GONE, one "
	       "event more, 4 rounds");
}

/* ---- version 1 ---- */

/*
 * The schema of version 1, as store.c's first migration wrote it (its
 * tokens rendered by v1_schema()).
 */
static const char v1_sql[] =
    "CREATE TABLE reports ("
    " id %ID%, org TEXT NOT NULL, report_id TEXT NOT NULL,"
    " range_start BIGINT NOT NULL, range_end BIGINT NOT NULL,"
    " contact TEXT, received BIGINT NOT NULL, origin TEXT,"
    " deviations TEXT NOT NULL, policies INTEGER NOT NULL,"
    " successful BIGINT NOT NULL, failed BIGINT NOT NULL,"
    " UNIQUE (org, report_id));"
    "CREATE INDEX reports_start ON reports (range_start);"
    "CREATE TABLE policies ("
    " report BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL, type TEXT NOT NULL, domain TEXT,"
    " strings TEXT NOT NULL, mx_hosts TEXT NOT NULL,"
    " successful BIGINT NOT NULL, failed BIGINT NOT NULL,"
    " detail_failed BIGINT NOT NULL,"
    " PRIMARY KEY (report, idx))%CLUSTERED%;"
    "CREATE TABLE failures ("
    " report BIGINT NOT NULL, pidx INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " result_type TEXT NOT NULL, sending_mta_ip TEXT,"
    " receiving_mx_hostname TEXT, receiving_mx_helo TEXT,"
    " receiving_ip TEXT, additional_information TEXT,"
    " failure_reason_code TEXT, failed_sessions BIGINT NOT NULL,"
    " PRIMARY KEY (report, pidx, idx),"
    " FOREIGN KEY (report, pidx) REFERENCES policies (report, idx)"
    " ON DELETE CASCADE)%CLUSTERED%;"
    "CREATE TABLE quarantine ("
    " id %ID%, received BIGINT NOT NULL, origin TEXT,"
    " reason TEXT NOT NULL, raw %BLOB% NOT NULL,"
    " raw_size BIGINT NOT NULL);"
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES (1);"
    "INSERT INTO reports (id, org, report_id, range_start, range_end,"
    " received, deviations, policies, successful, failed) VALUES"
    " (1, 'old-org', 'v1', 1767312000, 1767398399, 1767398400, '[]', 1,"
    " 6, 2);"
    "INSERT INTO policies VALUES (1, 0, 'sts', 'example.com', '[]', '[]',"
    " 6, 2, 2);"
    "INSERT INTO failures (report, pidx, idx, result_type,"
    " receiving_mx_hostname, failed_sessions) VALUES"
    " (1, 0, 0, 'sts-webpki-invalid', 'mx1.example.com', 2);";

/* v1_sql for the engine under test, in buf. */
static const char *
v1_schema(char *buf, size_t size)
{
	static const struct {
		const char *token, *sqlite, *pg;
	} tokens[] = {
	    {"%ID%", "INTEGER PRIMARY KEY",
	     "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
	    {"%CLUSTERED%", " WITHOUT ROWID", ""},
	    {"%BLOB%", "BLOB", "BYTEA"},
	};
	const char *p = v1_sql;
	size_t len = 0, i, n;

	while (*p != '\0' && len + 64 < size) {
		for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
			if (strncmp(p, tokens[i].token,
			            strlen(tokens[i].token)) == 0)
				break;
		if (i == sizeof(tokens) / sizeof(tokens[0])) {
			buf[len++] = *p++;
			continue;
		}
		n = (size_t)snprintf(buf + len, size - len, "%s",
		                     is_pg ? tokens[i].pg : tokens[i].sqlite);
		len += n;
		p += strlen(tokens[i].token);
	}
	buf[len] = '\0';
	return *p == '\0' ? buf : NULL;
}

static void
test_v1(void)
{
	char sql[4096], why[STORE_WHY_SIZE] = "";
	const char *url = fresh("v1");
	struct rollout_mx_change c;
	struct rollout_event ev;
	struct rows rows = {0};
	struct store *s = NULL;
	int rc;

	if (v1_schema(sql, sizeof(sql)) == NULL || sql_int(url, sql) != 0) {
		tap_ok(false, "a version 1 store made by hand");
		return;
	}
	tap_ok(sql_int(url, "SELECT max(version) FROM schema_version") == 1 &&
	           sql_int(url, "SELECT count(*) FROM rollout_events") == -1,
	       "a version 1 store, with a report, no rollout tables");
	if ((s = open_store(url)) == NULL) {
		tap_ok(false, "store_open migrates version 1");
		return;
	}
	tap_ok(sql_int(url, "SELECT max(version) FROM schema_version") == 2 &&
	           sql_int(url, "SELECT count(*) FROM schema_version") == 1,
	       "store_open migrated it to version 2");
	rc = rollout_store_failures(s, "example.com", INT64_MIN, INT64_MAX,
	                            on_failure, &rows, why, sizeof(why));
	tap_ok(rc == 0 && rows.n == 1 && rows.r[0].start == DAY0 + DAY &&
	           tap_streq(rows.r[0].org, "old-org") &&
	           tap_streq(rows.r[0].mx, "mx1.example.com") &&
	           rows.r[0].ko == 2,
	       "its report kept, read through the rollout store (%s)",
	       line1(why));
	rows_free(&rows);
	change_of("example.com", DAY0, &c, &ev);
	rc = rollout_store_mx_begin(s, &c, &ev, why, sizeof(why));
	if (rc == 0)
		rc = rollout_store_mx_begin(s, &c, &ev, why, sizeof(why)) ==
			ROLLOUT_STORE_EXISTS ?
		    0 :
		    -1;
	tap_ok(rc == 0,
	       "the migrated store's rollout tables work, unique index "
	       "included (%s)",
	       line1(why));
	store_close(s);

	/* A migration to 2 that fails leaves version 1 as it was. */
	url = fresh("v1clash");
	if (v1_schema(sql, sizeof(sql)) == NULL || sql_int(url, sql) != 0 ||
	    sql_int(url, "CREATE TABLE mx_changes (x INTEGER)") != 0) {
		tap_ok(false,
		       "a version 1 store with an mx_changes of its own");
		return;
	}
	s = NULL;
	why[0] = '\0';
	rc = store_open(url, &s, why, sizeof(why));
	tap_ok(rc == -1 && s == NULL && strstr(why, "version 2") != NULL,
	       "a migration to version 2 that fails is refused: %s",
	       line1(why));
	tap_ok(sql_int(url, "SELECT max(version) FROM schema_version") == 1 &&
	           sql_int(url, "SELECT count(*) FROM rollout_events") == -1 &&
	           sql_int(url, "SELECT count(*) FROM reports") == 1,
	       "and leaves version 1 with its report, no rollout_events");
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
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/mts-rollout-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tap_diag("engine: %s", is_pg ? "postgresql" : "sqlite");
	test_reports();
	test_events();
	test_mx();
	test_race();
	test_v1();
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
