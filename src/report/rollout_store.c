/* SPDX-License-Identifier: ISC */
/*
 * The store as `mtasts rollout` uses it (rollout_store.h): the policies
 * and failure details (RFC 8460 §4.4) of one policy domain's reports,
 * and the rollout's own tables, rollout_events and mx_changes (schema
 * version 2, store.c).  The SQL is written once, its parameters as ?N
 * (SQLite's numbered form), and given to PostgreSQL with '$' for '?';
 * the engines run it (store_int.h's query).  That at most one MX change
 * of a domain is open is the database's to say: a partial unique index
 * refuses a second one, also when two processes start one at the same
 * moment, and its refusal is ROLLOUT_STORE_EXISTS.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rollout_store.h"
#include "store_int.h"

/* Octets of the longest statement here, rendered, and some room. */
#define SQL_MAX 1024

/*
 * The reports' side, in one join the planners are free to order, and
 * no index on policies.domain (store.c's migrations say why).  SQLite
 * takes the reports of the dates through reports_start, then their
 * policies (and details) through their keys: in the order asked for,
 * no sort.  PostgreSQL does the same when it costs random reads as an
 * SSD's (random_page_cost 1.1: 16 ms for 14 days of 300,000 reports);
 * at its default of 4 it scans the policies once for a window past
 * about 1% of the store (64 ms there), which is also its better plan
 * for a whole history.  Forcing the nested loop (LATERAL ... OFFSET 0)
 * would cost a whole history 4 times as much, and JIT compilation.
 */
static const char policies_sql[] =
    "SELECT r.id, r.range_start, r.org, p.type, p.strings, p.successful, "
    "p.failed FROM reports r JOIN policies p ON p.report = r.id "
    "WHERE r.range_start >= ?1 AND r.range_start < ?2 AND p.domain = ?3 "
    "ORDER BY r.range_start, r.id, p.idx";

static const char failures_sql[] =
    "SELECT r.id, r.range_start, r.org, p.type, p.strings, f.result_type, "
    "f.receiving_mx_hostname, f.receiving_ip, f.failed_sessions "
    "FROM reports r JOIN policies p ON p.report = r.id "
    "JOIN failures f ON f.report = p.report AND f.pidx = p.idx "
    "WHERE r.range_start >= ?1 AND r.range_start < ?2 AND p.domain = ?3 "
    "ORDER BY r.range_start, r.id, p.idx, f.idx";

static const char log_sql[] =
    "INSERT INTO rollout_events (domain, at, action, policy_id, "
    "previous_id, mode, max_age, previous_max_age, mx, policy_file, "
    "sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

static const char events_sql[] =
    "SELECT domain, at, action, policy_id, previous_id, mode, max_age, "
    "previous_max_age, mx, policy_file, sha256 FROM rollout_events "
    "WHERE domain = ?1 ORDER BY at, id";

static const char begin_sql[] =
    "INSERT INTO mx_changes (domain, policy_file, started, cutover_at, "
    "added, removed, transition_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "RETURNING id";

static const char open_sql[] =
    "SELECT id, domain, policy_file, started, cutover_at, added, removed, "
    "transition_id FROM mx_changes WHERE domain = ?1 AND finished IS NULL";

static const char finish_sql[] =
    "UPDATE mx_changes SET finished = ?2, final_id = ?3 "
    "WHERE id = ?1 AND finished IS NULL RETURNING id";

static struct store_cell
int_cell(int64_t v)
{
	return (struct store_cell){STORE_CELL_INT, v, NULL};
}

/* A string, or NULL as NULL. */
static struct store_cell
text_cell(const char *s)
{
	return (struct store_cell){s == NULL ? STORE_CELL_NULL :
	                                       STORE_CELL_TEXT,
	                           0, s};
}

/*
 * Whether a row has the shape `types` says, one letter a column: 'i' an
 * integer, 'u' a non-negative one, 't' a text, 'T' a text or NULL.  A
 * row of another shape is a schema that is not ours.
 */
static bool
shape(const struct store_cell *c, size_t n, const char *types)
{
	size_t i;

	if (n != strlen(types))
		return false;
	for (i = 0; i < n; i++)
		switch (types[i]) {
		case 'i':
			if (c[i].type != STORE_CELL_INT)
				return false;
			break;
		case 'u':
			if (c[i].type != STORE_CELL_INT || c[i].i < 0)
				return false;
			break;
		case 'T':
			if (c[i].type != STORE_CELL_TEXT &&
			    c[i].type != STORE_CELL_NULL)
				return false;
			break;
		default:
			if (c[i].type != STORE_CELL_TEXT)
				return false;
		}
	return true;
}

/*
 * Runs `sql` (written with ?N) on the store's engine, in its dialect:
 * store.c's way, '?' for SQLite and '$' for PostgreSQL.  The engine's
 * query's return.
 */
static int
run(struct store *s, const char *sql, const struct store_cell *params, size_t n,
    store_cells_fn fn, void *ctx, char *why, size_t why_size)
{
	char buf[SQL_MAX];
	size_t i, len = strlen(sql);

	if (len >= sizeof(buf)) {
		store_why(why, why_size, "rollout store: a statement too long");
		return -1;
	}
	for (i = 0; i <= len; i++)
		buf[i] = sql[i] == '?' && s->engine->dialect == STORE_PG ?
		    '$' :
		    sql[i];
	return s->engine->query(s, buf, params, n, fn, ctx, why, why_size);
}

/*
 * The walk of rows handed to a caller's callback.  The row callbacks
 * return 1 to the engine to stop it (the caller's own value is kept
 * here, so that no value of the caller's is taken for the engine's);
 * `bad` marks a row not of the schema's shape.
 */
struct walk {
	union {
		rollout_policy_fn policy;
		rollout_failure_fn failure;
		rollout_event_fn event;
		rollout_mx_fn mx;
	} fn;
	void *ctx;
	int stop;
	bool bad;
};

/* After run(): -1, 0 or the caller's value, with why for a bad row. */
static int
walk_end(const struct walk *w, int rc, char *why, size_t why_size)
{
	if (rc == 0)
		return 0;
	if (rc == 1 && !w->bad)
		return w->stop;
	if (rc == 1)
		store_why(why, why_size,
		          "rollout store: a row not of the schema's shape");
	return -1;
}

static int
policy_cells(const struct store_cell *c, size_t n, void *arg)
{
	struct walk *w = arg;
	struct rollout_policy_row row;

	if (!shape(c, n, "iitttuu")) {
		w->bad = true;
		return 1;
	}
	row.report = c[0].i;
	row.range_start = c[1].i;
	row.org = c[2].s;
	row.type = c[3].s;
	row.strings = c[4].s;
	row.successful = (uint64_t)c[5].i;
	row.failed = (uint64_t)c[6].i;
	w->stop = w->fn.policy(&row, w->ctx);
	return w->stop != 0 ? 1 : 0;
}

static int
failure_cells(const struct store_cell *c, size_t n, void *arg)
{
	struct walk *w = arg;
	struct rollout_failure_row row;

	if (!shape(c, n, "iittttTTu")) {
		w->bad = true;
		return 1;
	}
	row.report = c[0].i;
	row.range_start = c[1].i;
	row.org = c[2].s;
	row.type = c[3].s;
	row.strings = c[4].s;
	row.result = c[5].s;
	row.mx = c[6].s;
	row.ip = c[7].s;
	row.failed = (uint64_t)c[8].i;
	w->stop = w->fn.failure(&row, w->ctx);
	return w->stop != 0 ? 1 : 0;
}

/* The walk w of a domain's policies or failure details. */
static int
domain_walk(struct store *store, const char *sql, store_cells_fn cells,
            const char *domain, int64_t since, int64_t until, struct walk *w,
            char *why, size_t why_size)
{
	struct store_cell p[3];

	if (store == NULL || domain == NULL) {
		store_why(why, why_size, "rollout store: no store or domain");
		return -1;
	}
	p[0] = int_cell(since);
	p[1] = int_cell(until);
	p[2] = text_cell(domain);
	return walk_end(w, run(store, sql, p, 3, cells, w, why, why_size), why,
	                why_size);
}

int
rollout_store_policies(struct store *store, const char *domain, int64_t since,
                       int64_t until, rollout_policy_fn fn, void *ctx,
                       char *why, size_t why_size)
{
	struct walk w = {.fn.policy = fn, .ctx = ctx};

	if (fn == NULL) {
		store_why(why, why_size, "rollout store: no callback");
		return -1;
	}
	return domain_walk(store, policies_sql, policy_cells, domain, since,
	                   until, &w, why, why_size);
}

int
rollout_store_failures(struct store *store, const char *domain, int64_t since,
                       int64_t until, rollout_failure_fn fn, void *ctx,
                       char *why, size_t why_size)
{
	struct walk w = {.fn.failure = fn, .ctx = ctx};

	if (fn == NULL) {
		store_why(why, why_size, "rollout store: no callback");
		return -1;
	}
	return domain_walk(store, failures_sql, failure_cells, domain, since,
	                   until, &w, why, why_size);
}

/* ---- events ---- */

/* Every member but previous_id is required (the columns' NOT NULL). */
static int
check_event(const struct rollout_event *ev, char *why, size_t why_size)
{
	const char *missing = NULL;

	if (ev == NULL)
		missing = "the event";
	else if (ev->domain == NULL)
		missing = "domain";
	else if (ev->action == NULL)
		missing = "action";
	else if (ev->policy_id == NULL)
		missing = "policy_id";
	else if (ev->mode == NULL)
		missing = "mode";
	else if (ev->mx == NULL)
		missing = "mx";
	else if (ev->policy_file == NULL)
		missing = "policy_file";
	else if (ev->sha256 == NULL)
		missing = "sha256";
	if (missing == NULL)
		return 0;
	store_why(why, why_size, "rollout store: an event without %s", missing);
	return -1;
}

static int
log_event(struct store *store, const struct rollout_event *ev, char *why,
          size_t why_size)
{
	struct store_cell p[11];

	p[0] = text_cell(ev->domain);
	p[1] = int_cell(ev->at);
	p[2] = text_cell(ev->action);
	p[3] = text_cell(ev->policy_id);
	p[4] = text_cell(ev->previous_id);
	p[5] = text_cell(ev->mode);
	p[6] = int_cell(ev->max_age);
	p[7] = int_cell(ev->previous_max_age);
	p[8] = text_cell(ev->mx);
	p[9] = text_cell(ev->policy_file);
	p[10] = text_cell(ev->sha256);
	return run(store, log_sql, p, 11, NULL, NULL, why, why_size) == 0 ? 0 :
									    -1;
}

int
rollout_store_log(struct store *store, const struct rollout_event *ev,
                  char *why, size_t why_size)
{
	if (store == NULL) {
		store_why(why, why_size, "rollout store: no store");
		return -1;
	}
	if (check_event(ev, why, why_size) == -1)
		return -1;
	/* One statement outside a transaction is one. */
	return log_event(store, ev, why, why_size);
}

static int
event_cells(const struct store_cell *c, size_t n, void *arg)
{
	struct walk *w = arg;
	struct rollout_event ev;

	if (!shape(c, n, "tittTtuuttt") || c[6].i > UINT32_MAX ||
	    c[7].i > UINT32_MAX) {
		w->bad = true;
		return 1;
	}
	ev.domain = c[0].s;
	ev.at = c[1].i;
	ev.action = c[2].s;
	ev.policy_id = c[3].s;
	ev.previous_id = c[4].s;
	ev.mode = c[5].s;
	ev.max_age = (uint32_t)c[6].i;
	ev.previous_max_age = (uint32_t)c[7].i;
	ev.mx = c[8].s;
	ev.policy_file = c[9].s;
	ev.sha256 = c[10].s;
	w->stop = w->fn.event(&ev, w->ctx);
	return w->stop != 0 ? 1 : 0;
}

int
rollout_store_events(struct store *store, const char *domain,
                     rollout_event_fn fn, void *ctx, char *why, size_t why_size)
{
	struct walk w = {.fn.event = fn, .ctx = ctx};
	struct store_cell p[1];

	if (store == NULL || domain == NULL || fn == NULL) {
		store_why(why, why_size, "rollout store: no store or domain");
		return -1;
	}
	p[0] = text_cell(domain);
	return walk_end(&w,
	                run(store, events_sql, p, 1, event_cells, &w, why,
	                    why_size),
	                why, why_size);
}

/* ---- MX changes ---- */

/* The id of the one row of an INSERT or UPDATE ... RETURNING id. */
static int
id_cells(const struct store_cell *c, size_t n, void *arg)
{
	int64_t *id = arg;

	if (!shape(c, n, "u"))
		return 1;
	*id = c[0].i;
	return 0;
}

static int
check_change(const struct rollout_mx_change *c, char *why, size_t why_size)
{
	if (c == NULL || c->domain == NULL || c->policy_file == NULL ||
	    c->added == NULL || c->removed == NULL ||
	    c->transition_id == NULL) {
		store_why(why, why_size,
		          "rollout store: an MX change without domain, "
		          "policy_file, added, removed or transition_id");
		return -1;
	}
	if (c->finished != -1) {
		store_why(why, why_size,
		          "rollout store: an MX change begun finished");
		return -1;
	}
	return 0;
}

int
rollout_store_mx_begin(struct store *store, struct rollout_mx_change *c,
                       const struct rollout_event *ev, char *why,
                       size_t why_size)
{
	struct store_cell p[7];
	int64_t id = -1;
	int rc;

	if (store == NULL) {
		store_why(why, why_size, "rollout store: no store");
		return -1;
	}
	if (check_change(c, why, why_size) == -1 ||
	    check_event(ev, why, why_size) == -1)
		return -1;
	p[0] = text_cell(c->domain);
	p[1] = text_cell(c->policy_file);
	p[2] = int_cell(c->started);
	p[3] = int_cell(c->cutover_at);
	p[4] = text_cell(c->added);
	p[5] = text_cell(c->removed);
	p[6] = text_cell(c->transition_id);
	if (store->engine->tx_begin(store, why, why_size) == -1)
		return -1;
	rc = run(store, begin_sql, p, 7, id_cells, &id, why, why_size);
	if (rc == STORE_UNIQUE) {
		/* The unique index of the open changes refused it. */
		store->engine->tx_rollback(store);
		store_why(why, why_size,
		          "an MX change of %s is already under way", c->domain);
		return ROLLOUT_STORE_EXISTS;
	}
	if (rc != 0 || id < 0) {
		if (rc == 1 || (rc == 0 && id < 0))
			store_why(why, why_size,
			          "rollout store: no id for the MX change");
		goto fail;
	}
	if (log_event(store, ev, why, why_size) == -1 ||
	    store->engine->tx_commit(store, why, why_size) == -1)
		goto fail;
	c->id = id;
	return 0;
fail:
	store->engine->tx_rollback(store);
	return -1;
}

static int
open_cells(const struct store_cell *c, size_t n, void *arg)
{
	struct walk *w = arg;
	struct rollout_mx_change ch;

	if (!shape(c, n, "ittiittt")) {
		w->bad = true;
		return 1;
	}
	ch.id = c[0].i;
	ch.domain = c[1].s;
	ch.policy_file = c[2].s;
	ch.started = c[3].i;
	ch.cutover_at = c[4].i;
	ch.added = c[5].s;
	ch.removed = c[6].s;
	ch.transition_id = c[7].s;
	ch.finished = -1;
	ch.final_id = NULL;
	w->stop = w->fn.mx(&ch, w->ctx);
	return w->stop != 0 ? 1 : 0;
}

int
rollout_store_mx_open(struct store *store, const char *domain, rollout_mx_fn fn,
                      void *ctx, char *why, size_t why_size)
{
	struct walk w = {.fn.mx = fn, .ctx = ctx};
	struct store_cell p[1];

	if (store == NULL || domain == NULL || fn == NULL) {
		store_why(why, why_size, "rollout store: no store or domain");
		return -1;
	}
	p[0] = text_cell(domain);
	/* The unique index of the open changes: one row at most. */
	return walk_end(&w,
	                run(store, open_sql, p, 1, open_cells, &w, why,
	                    why_size),
	                why, why_size);
}

int
rollout_store_mx_finish(struct store *store, int64_t id, int64_t finished,
                        const char *final_id, const struct rollout_event *ev,
                        char *why, size_t why_size)
{
	struct store_cell p[3];
	int64_t updated = -1;
	int rc;

	if (store == NULL || final_id == NULL || finished < 0) {
		store_why(why, why_size,
		          "rollout store: no store, no final id, or a finish "
		          "time before 1970");
		return -1;
	}
	if (check_event(ev, why, why_size) == -1)
		return -1;
	p[0] = int_cell(id);
	p[1] = int_cell(finished);
	p[2] = text_cell(final_id);
	if (store->engine->tx_begin(store, why, why_size) == -1)
		return -1;
	/*
	 * Only an open change is finished: another process's finish
	 * (PostgreSQL: waited for, then the row read again) leaves none.
	 */
	rc = run(store, finish_sql, p, 3, id_cells, &updated, why, why_size);
	if (rc != 0) {
		if (rc == 1)
			store_why(why, why_size,
			          "rollout store: no id for the MX change");
		goto fail;
	}
	if (updated != id) {
		store->engine->tx_rollback(store);
		store_why(why, why_size, "MX change %" PRId64 " is not open",
		          id);
		return ROLLOUT_STORE_GONE;
	}
	if (log_event(store, ev, why, why_size) == -1 ||
	    store->engine->tx_commit(store, why, why_size) == -1)
		goto fail;
	return 0;
fail:
	store->engine->tx_rollback(store);
	return -1;
}
