/* SPDX-License-Identifier: ISC */
/*
 * The policy cache of mtasts policyd (src/policyd/cache.h), the same
 * checks on each engine: SQLite in files of a temporary directory (by
 * default), or the Redis of MTS_CACHE_URL (redis://127.0.0.1:PORT or
 * redis+unix:PATH, no database part: each group of checks takes a
 * database of its own and empties it first), which tests/e2e/
 * cache_redis.sh starts for the test.  Every field of an entry
 * round-trips, a put replaces, delete and purge_expired remove what
 * they say, the walk is in domain order, the body cap is RFC 8461
 * §3.3's 64 KiB to the octet, two processes share one store and see
 * each other's puts, a writer killed (SIGKILL) in a loop of puts leaves
 * whole entries holding every put that returned, and a store of a
 * newer version is refused.  Redis only: entries expire with the
 * policy, foreign values under the prefix are errors, and a Redis
 * stopped, killed and restarted under an open handle (through
 * MTS_REDIS_PIDFILE and MTS_REDIS_CONF) makes calls fail fast with why,
 * then work again on the same handle; a wrong password, or none, is
 * refused.  On every run (no server needed): the Redis URLs, and the
 * Redis engine against a scripted peer answering replies of the wrong
 * type or shape (-1 with why, no crash, the connection kept in step).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <hiredis/hiredis.h>
#include <sqlite3.h>

#include "cache.h"
#include "tap.h"

static char tmpdir[256];
static const char *redis_url; /* MTS_CACHE_URL, or NULL for SQLite */
static int64_t t0;            /* the entries' times start here */

/* Each group of checks has a store: a file, or a Redis database. */
static const char *const stores[] = {
    "",       "round", "replace", "walk",    "cap",  "shared",
    "killed", "newer", "see",     "garbage", "down",
};

static int
db_of(const char *name)
{
	size_t i;

	for (i = 1; i < sizeof(stores) / sizeof(stores[0]); i++)
		if (strcmp(stores[i], name) == 0)
			return (int)i;
	printf("Bail out! no store %s\n", name);
	exit(1);
}

static const char *
url_of(const char *name)
{
	static char url[1024];

	if (redis_url == NULL)
		(void)snprintf(url, sizeof(url), "sqlite:%s/%s.db", tmpdir,
		               name);
	else if (strncmp(redis_url, "redis+unix:", 11) == 0)
		(void)snprintf(url, sizeof(url), "%s?db=%d", redis_url,
		               db_of(name));
	else
		(void)snprintf(url, sizeof(url), "%s/%d", redis_url,
		               db_of(name));
	return url;
}

/* A connection of the test's own to the Redis, past the cache. */
static redisContext *
raw_open(const char *name)
{
	const char *pass = getenv("MTASTS_REDIS_PASSWORD");
	redisContext *c;
	redisReply *rep;
	char host[64];
	int port;

	if (strncmp(redis_url, "redis+unix:", 11) == 0)
		c = redisConnectUnix(redis_url + 11);
	else if (sscanf(redis_url, "redis://%63[^:]:%d", host, &port) == 2)
		c = redisConnect(host, port);
	else
		c = NULL;
	if (c == NULL || c->err != 0) {
		printf("Bail out! raw connection to %s: %s\n", redis_url,
		       c == NULL ? "?" : c->errstr);
		exit(1);
	}
	if (pass != NULL && pass[0] != '\0') {
		rep = redisCommand(c, "AUTH %s", pass);
		freeReplyObject(rep);
	}
	rep = redisCommand(c, "SELECT %d", db_of(name));
	if (rep == NULL || rep->type != REDIS_REPLY_STATUS) {
		printf("Bail out! SELECT: %s\n",
		       rep == NULL ? c->errstr : rep->str);
		exit(1);
	}
	freeReplyObject(rep);
	return c;
}

/* The store of `name` as new: its Redis database emptied. */
static const char *
fresh_url(const char *name)
{
	if (redis_url != NULL) {
		redisContext *c = raw_open(name);

		freeReplyObject(redisCommand(c, "FLUSHDB"));
		redisFree(c);
	}
	return url_of(name);
}

static struct pcache *
open_or_die(const char *url)
{
	char why[PCACHE_WHY_SIZE] = "";
	struct pcache *c = NULL;

	if (pcache_open(url, &c, why, sizeof(why)) == -1) {
		printf("Bail out! open %s: %s\n", url, why);
		exit(1);
	}
	return c;
}

/* An entry of every field set, all of them derived from n. */
static void
make_entry(struct pcache_entry *e, const char *domain, unsigned n, char *body,
           size_t body_len)
{
	size_t i;

	*e = (struct pcache_entry){0};
	(void)snprintf(e->domain, sizeof(e->domain), "%s", domain);
	e->kind = (enum pcache_kind)(PCACHE_POLICY + n % 3);
	(void)snprintf(e->id, sizeof(e->id), "id%u", n);
	for (i = 0; i < body_len; i++)
		body[i] = (char)('a' + (n + i) % 26);
	e->body = body_len == 0 ? NULL : body;
	e->body_len = body_len;
	e->fetched = t0 + n;
	e->expires = e->fetched + 86400 + n;
	e->next_check = e->fetched + 3600;
	e->backoff_until = e->fetched + 300;
	(void)snprintf(e->failure_class, sizeof(e->failure_class), "class%u",
	               n);
	(void)snprintf(e->failure, sizeof(e->failure), "failure text %u", n);
}

static bool
same(const struct pcache_entry *a, const struct pcache_entry *b)
{
	return strcmp(a->domain, b->domain) == 0 && a->kind == b->kind &&
	    strcmp(a->id, b->id) == 0 && a->body_len == b->body_len &&
	    (a->body_len == 0 || memcmp(a->body, b->body, a->body_len) == 0) &&
	    a->fetched == b->fetched && a->expires == b->expires &&
	    a->next_check == b->next_check &&
	    a->backoff_until == b->backoff_until &&
	    strcmp(a->failure_class, b->failure_class) == 0 &&
	    strcmp(a->failure, b->failure) == 0;
}

static void
test_round_trip(void)
{
	struct pcache *c = open_or_die(fresh_url("round"));
	struct pcache_entry in, out = {0};
	char body[100], why[PCACHE_WHY_SIZE] = "";
	unsigned n;

	for (n = 0; n < 3; n++) {
		char d[64];

		(void)snprintf(d, sizeof(d), "k%u.example.com", n);
		make_entry(&in, d, n, body, sizeof(body));
		tap_ok(pcache_put(c, &in, why, sizeof(why)) == 0,
		       "put of kind %d: %s", (int)in.kind, why);
		tap_ok(pcache_get(c, d, &out, why, sizeof(why)) == 1 &&
		           same(&in, &out),
		       "every field of a kind-%d entry round-trips",
		       (int)in.kind);
		pcache_entry_reset(&out);
	}
	/* Extremes: an empty body and id, negative and maximal times. */
	make_entry(&in, "e.example", 0, body, 0);
	in.id[0] = '\0';
	in.failure_class[0] = '\0';
	in.failure[0] = '\0';
	in.fetched = INT64_MIN;
	in.expires = INT64_MAX;
	in.next_check = -1;
	in.backoff_until = 0;
	tap_ok(pcache_put(c, &in, why, sizeof(why)) == 0 &&
	           pcache_get(c, "e.example", &out, why, sizeof(why)) == 1 &&
	           same(&in, &out) && out.body == NULL,
	       "an empty body, empty strings and extreme times round-trip");
	pcache_entry_reset(&out);
	out.kind = PCACHE_DANE;
	tap_ok(pcache_get(c, "none.example", &out, why, sizeof(why)) == 0 &&
	           out.kind == PCACHE_DANE,
	       "get of a domain not stored: 0, the entry untouched");
	tap_ok(pcache_get(c, "Upper.Example", &out, why, sizeof(why)) == -1,
	       "get of a key not in lower case is refused: %s", why);
	make_entry(&in, "Upper.example", 1, body, 10);
	tap_ok(pcache_put(c, &in, why, sizeof(why)) == -1,
	       "put of a domain not in lower case is refused: %s", why);
	make_entry(&in, "bad.example", 1, body, 10);
	in.kind = (enum pcache_kind)7;
	tap_ok(pcache_put(c, &in, why, sizeof(why)) == -1,
	       "put of an unknown kind is refused: %s", why);
	tap_ok(pcache_get(c, "bad.example", &out, why, sizeof(why)) == 0,
	       "a refused put wrote nothing");
	pcache_close(c);
}

static void
test_replace_delete(void)
{
	struct pcache *c = open_or_die(fresh_url("replace"));
	struct pcache_entry a, b, out = {0};
	char ba[300], bb[20], why[PCACHE_WHY_SIZE] = "";

	make_entry(&a, "r.example", 0, ba, sizeof(ba));
	make_entry(&b, "r.example", 4, bb, sizeof(bb));
	tap_ok(pcache_put(c, &a, why, sizeof(why)) == 0 &&
	           pcache_put(c, &b, why, sizeof(why)) == 0 &&
	           pcache_get(c, "r.example", &out, why, sizeof(why)) == 1 &&
	           same(&b, &out),
	       "a put replaces the whole entry (a shorter body too)");
	pcache_entry_reset(&out);
	tap_ok(pcache_delete(c, "r.example", why, sizeof(why)) == 1,
	       "delete of a stored domain: 1");
	tap_ok(pcache_get(c, "r.example", &out, why, sizeof(why)) == 0,
	       "a deleted domain is gone");
	tap_ok(pcache_delete(c, "r.example", why, sizeof(why)) == 0,
	       "delete of a domain not stored: 0");
	pcache_close(c);
	c = open_or_die(url_of("replace"));
	tap_ok(pcache_get(c, "r.example", &out, why, sizeof(why)) == 0,
	       "the delete holds after reopening");
	pcache_close(c);
}

struct walked {
	char names[16][PCACHE_DOMAIN_MAX + 1];
	size_t n;
	size_t stop_at; /* 0: never */
};

static int
walk_fn(const struct pcache_entry *e, void *ctx)
{
	struct walked *w = ctx;

	if (w->n < 16)
		(void)snprintf(w->names[w->n], sizeof(w->names[0]), "%s",
		               e->domain);
	w->n++;
	return w->stop_at != 0 && w->n == w->stop_at ? 42 : 0;
}

/* pcache_get()'s return for domain, the entry dropped. */
static int
get_rc(struct pcache *c, const char *domain)
{
	struct pcache_entry out = {0};
	char why[PCACHE_WHY_SIZE] = "";
	int rc = pcache_get(c, domain, &out, why, sizeof(why));

	if (rc == -1)
		tap_diag("get %s: %s", domain, why);
	pcache_entry_reset(&out);
	return rc;
}

static void
test_walk_purge(void)
{
	static const char *const put_order[] = {"b.example", "a.example",
	                                        "a-b.example", "c.example",
	                                        "a.example.com"};
	static const char *const sorted[] = {"a-b.example", "a.example",
	                                     "a.example.com", "b.example",
	                                     "c.example"};
	struct pcache *c = open_or_die(fresh_url("walk"));
	struct pcache_entry e;
	struct walked w = {0};
	char body[8], why[PCACHE_WHY_SIZE] = "";
	size_t i, want, count = 99;
	bool ok = true;
	int rc;

	for (i = 0; i < 5; i++) {
		make_entry(&e, put_order[i], (unsigned)i, body, sizeof(body));
		e.expires = t0 + 1000 + (int64_t)i; /* b +1000, a +1001 */
		ok = ok && pcache_put(c, &e, why, sizeof(why)) == 0;
	}
	tap_ok(ok, "five puts: %s", why);
	rc = pcache_walk(c, walk_fn, &w, why, sizeof(why));
	tap_ok(rc == 0 && w.n == 5, "walk sees every entry (%zu)", w.n);
	for (i = 0, ok = true; i < 5 && i < w.n; i++)
		ok = ok && strcmp(w.names[i], sorted[i]) == 0;
	tap_ok(ok, "walk goes in octet order of the domain");
	w = (struct walked){.stop_at = 2};
	tap_ok(pcache_walk(c, walk_fn, &w, why, sizeof(why)) == 42 && w.n == 2,
	       "walk stops at fn's non-zero return and returns it");
	rc = pcache_purge_expired(c, t0 + 1001, &count, why, sizeof(why));
	/* Redis expires its keys itself, by its clock: purge deletes none. */
	want = redis_url == NULL ? 2 : 0;
	tap_ok(rc == 0 && count == want,
	       "purge_expired(+1001) deletes the %zu entries it should "
	       "(%zu)",
	       want, count);
	tap_ok(get_rc(c, "b.example") == (redis_url == NULL ? 0 : 1) &&
	           get_rc(c, "a.example") == (redis_url == NULL ? 0 : 1) &&
	           get_rc(c, "a-b.example") == 1,
	       "the purged ones are gone, the others stay");
	tap_ok(pcache_purge_expired(c, t0 + 999, &count, why, sizeof(why)) ==
	               0 &&
	           count == 0,
	       "purge_expired before any expiry deletes none");
	pcache_close(c);
}

static void
test_body_cap(void)
{
	struct pcache *c = open_or_die(fresh_url("cap"));
	struct pcache_entry e, out = {0};
	char why[PCACHE_WHY_SIZE] = "";
	char *body = malloc(PCACHE_BODY_MAX + 1);

	if (body == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	make_entry(&e, "cap.example", 0, body, PCACHE_BODY_MAX);
	tap_ok(pcache_put(c, &e, why, sizeof(why)) == 0 &&
	           pcache_get(c, "cap.example", &out, why, sizeof(why)) == 1 &&
	           same(&e, &out),
	       "a body of 65,536 octets is stored and read back whole");
	pcache_entry_reset(&out);
	make_entry(&e, "over.example", 0, body, PCACHE_BODY_MAX + 1);
	tap_ok(pcache_put(c, &e, why, sizeof(why)) == -1 &&
	           strstr(why, "65537") != NULL,
	       "a body of 65,537 octets is refused: %s", why);
	tap_ok(pcache_get(c, "over.example", &out, why, sizeof(why)) == 0,
	       "and nothing is stored");
	free(body);
	pcache_close(c);
}

/* Puts n entries "<prefix>-<i>.example" and checks the other's. */
static int
share_side(const char *url, const char *mine, const char *theirs, int n)
{
	struct pcache *c = open_or_die(url);
	struct pcache_entry e, out = {0};
	char d[64], body[64], why[PCACHE_WHY_SIZE];
	int i, seen = 0;

	for (i = 0; i < n; i++) {
		(void)snprintf(d, sizeof(d), "%s-%d.example", mine, i);
		make_entry(&e, d, (unsigned)i, body, sizeof(body));
		if (pcache_put(c, &e, why, sizeof(why)) == -1) {
			printf("# put %s: %s\n", d, why);
			pcache_close(c);
			return -1;
		}
		(void)snprintf(d, sizeof(d), "%s-%d.example", theirs, i);
		if (pcache_get(c, d, &out, why, sizeof(why)) == 1)
			seen++;
		pcache_entry_reset(&out);
	}
	pcache_close(c);
	return seen;
}

static int
count_fn(const struct pcache_entry *e, void *ctx)
{
	(void)e;
	(*(size_t *)ctx)++;
	return 0;
}

static void
test_two_processes(void)
{
	const char *url = fresh_url("shared");
	char why[PCACHE_WHY_SIZE] = "";
	struct pcache *c;
	size_t n = 0;
	int rc, status = 0;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		printf("Bail out! fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0)
		_exit(share_side(url, "child", "parent", 200) < 0 ? 1 : 0);
	tap_ok(share_side(url, "parent", "child", 200) >= 0,
	       "the parent's 200 puts, beside the child's, all succeed");
	tap_ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	           WEXITSTATUS(status) == 0,
	       "the child's 200 puts, beside the parent's, all succeed");
	c = open_or_die(url);
	rc = pcache_walk(c, count_fn, &n, why, sizeof(why));
	tap_ok(rc == 0 && n == 400,
	       "one file holds both processes' entries (%zu of 400)", n);
	pcache_close(c);
}

/*
 * The writer: puts entries of ever larger bodies (so each spans more
 * pages than the last) and writes each index to the pipe once its put
 * returned; never ends on its own.
 */
static void
killed_writer(const char *url, int fd)
{
	struct pcache *c = open_or_die(url);
	struct pcache_entry e;
	char d[64], why[PCACHE_WHY_SIZE];
	static char body[PCACHE_BODY_MAX];
	unsigned i;

	for (i = 0;; i++) {
		(void)snprintf(d, sizeof(d), "w%u.example", i % 50);
		make_entry(&e, d, i, body, (i * 997) % PCACHE_BODY_MAX);
		if (pcache_put(c, &e, why, sizeof(why)) == -1)
			_exit(2);
		if (write(fd, &i, sizeof(i)) != (ssize_t)sizeof(i))
			_exit(3);
	}
}

struct whole {
	size_t n;
	size_t bad;
	unsigned last_done; /* the last put the writer saw return */
	bool last_found;
};

/* An entry is whole when every field agrees with its id's n. */
static int
whole_fn(const struct pcache_entry *e, void *ctx)
{
	static char body[PCACHE_BODY_MAX];
	struct whole *w = ctx;
	struct pcache_entry want;
	unsigned n;

	w->n++;
	if (sscanf(e->id, "id%u", &n) != 1) {
		w->bad++;
		return 0;
	}
	make_entry(&want, e->domain, n, body, (n * 997) % PCACHE_BODY_MAX);
	if (!same(e, &want))
		w->bad++;
	if (n == w->last_done)
		w->last_found = true;
	return 0;
}

static void
test_kill_writer(void)
{
	const char *url = fresh_url("killed");
	char why[PCACHE_WHY_SIZE] = "";
	unsigned round, got, last;
	bool readable = true, whole = true, durable = true;
	struct pcache *c;

	for (round = 0; round < 10; round++) {
		struct timespec ts = {.tv_nsec = (20 + round * 7) * 1000000L};
		struct whole w = {0};
		int fds[2], status;
		pid_t pid;
		bool any = false;

		if (pipe(fds) == -1) {
			printf("Bail out! pipe: %s\n", strerror(errno));
			exit(1);
		}
		fflush(stdout);
		if ((pid = fork()) == -1) {
			printf("Bail out! fork: %s\n", strerror(errno));
			exit(1);
		}
		if (pid == 0) {
			close(fds[0]);
			killed_writer(url, fds[1]);
		}
		close(fds[1]);
		(void)nanosleep(&ts, NULL);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		/* The last index whose put returned before the kill. */
		last = 0;
		while (read(fds[0], &got, sizeof(got)) ==
		       (ssize_t)sizeof(got)) {
			last = got;
			any = true;
		}
		close(fds[0]);
		if (pcache_open(url, &c, why, sizeof(why)) == -1) {
			readable = false;
			tap_diag("round %u: open: %s", round, why);
			continue;
		}
		w.last_done = last;
		if (pcache_walk(c, whole_fn, &w, why, sizeof(why)) != 0) {
			readable = false;
			tap_diag("round %u: walk: %s", round, why);
		}
		whole = whole && w.bad == 0;
		/* The last put that returned is there, unless a later one
		   (in a later round, or after it) replaced its domain. */
		if (any && !w.last_found) {
			struct pcache_entry e = {0};
			char d[64];
			unsigned n = 0;

			(void)snprintf(d, sizeof(d), "w%u.example", last % 50);
			if (pcache_get(c, d, &e, why, sizeof(why)) != 1 ||
			    sscanf(e.id, "id%u", &n) != 1 || n < last)
				durable = false;
			pcache_entry_reset(&e);
		}
		tap_diag("round %u: %zu entries, last put returned: %u", round,
		         w.n, last);
		pcache_close(c);
	}
	tap_ok(readable,
	       "after 10 writers killed mid-puts the file opens and "
	       "walks");
	tap_ok(whole,
	       "every entry in it is whole (each field agrees with "
	       "its put)");
	tap_ok(durable, "the last put that returned before each kill is in it");
}

/* Redis: the raw value of domain's key, or NULL. */
static redisReply *
raw_get(redisContext *r, const char *domain)
{
	redisReply *rep = redisCommand(r, "GET mtasts:pcache:v1:%s", domain);

	if (rep != NULL && rep->type != REDIS_REPLY_STRING) {
		freeReplyObject(rep);
		return NULL;
	}
	return rep;
}

/* Redis: sets domain's key to v[len]: whether Redis said OK. */
static bool
raw_set(redisContext *r, const char *domain, const char *v, size_t len)
{
	redisReply *rep =
	    redisCommand(r, "SET mtasts:pcache:v1:%s %b", domain, v, len);
	bool ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;

	freeReplyObject(rep);
	return ok;
}

static void
test_newer_schema(void)
{
	const char *url = fresh_url("newer");
	char why[PCACHE_WHY_SIZE] = "";
	struct pcache *c = open_or_die(url);
	int rc;

	if (redis_url == NULL) {
		sqlite3 *db = NULL;

		pcache_close(c);
		rc = sqlite3_open(url + strlen("sqlite:"), &db);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(
			    db, "UPDATE schema_version SET version = 99", NULL,
			    NULL, NULL);
		sqlite3_close(db);
		tap_ok(rc == SQLITE_OK, "the file is set to schema version 99");
		c = NULL;
		tap_ok(pcache_open(url, &c, why, sizeof(why)) == -1 &&
		           c == NULL && strstr(why, "version 99") != NULL,
		       "a store of a newer schema is refused: %s", why);
	} else {
		/* An entry as written, its version octet (after "MTPC")
		   raised to 99: what a newer mtasts might write. */
		redisContext *r = raw_open("newer");
		struct pcache_entry e, out = {0};
		char body[10];
		redisReply *v;
		bool set = false;

		make_entry(&e, "v.example", 1, body, sizeof(body));
		if (pcache_put(c, &e, why, sizeof(why)) == 0 &&
		    (v = raw_get(r, "v.example")) != NULL) {
			if (v->len > 4) {
				v->str[4] = 99;
				set = raw_set(r, "v.example", v->str, v->len);
			}
			freeReplyObject(v);
		}
		tap_ok(set, "the entry's value is set to version 99");
		out.kind = PCACHE_DANE;
		tap_ok(pcache_get(c, "v.example", &out, why, sizeof(why)) ==
		               -1 &&
		           strstr(why, "version 99") != NULL &&
		           out.kind == PCACHE_DANE,
		       "a value of a newer version is refused: %s", why);
		redisFree(r);
		pcache_close(c);
	}
	tap_ok(pcache_open("memcached://localhost", &c, why, sizeof(why)) == -1,
	       "a URL of no engine is refused: %s", why);
}

/*
 * Two processes, each with its own handle opened before the other's
 * put, see each other's puts: nothing is cached in a handle.
 */
static void
test_see_each_other(void)
{
	const char *url = fresh_url("see");
	struct pcache *c = open_or_die(url);
	struct pcache_entry e, out = {0};
	char body[16], why[PCACHE_WHY_SIZE] = "";
	int to_child[2], rc, status = 0;
	pid_t pid;
	char go;

	if (pipe(to_child) == -1) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		exit(1);
	}
	fflush(stdout);
	if ((pid = fork()) == -1) {
		printf("Bail out! fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		/* The child: its own handle; a put; then, once the parent
		   put, it must see the parent's. */
		struct pcache *k = open_or_die(url);
		int seen;

		close(to_child[1]);
		make_entry(&e, "child.example", 5, body, sizeof(body));
		if (pcache_put(k, &e, why, sizeof(why)) == -1)
			_exit(2);
		if (read(to_child[0], &go, 1) != 1)
			_exit(3);
		seen = pcache_get(k, "parent.example", &out, why, sizeof(why));
		make_entry(&e, "parent.example", 6, body, sizeof(body));
		_exit(seen == 1 && same(&e, &out) ? 0 : 4);
	}
	close(to_child[0]);
	/* Wait for the child's entry (it puts at once). */
	for (int i = 0; i < 500 && get_rc(c, "child.example") != 1; i++)
		(void)nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
	make_entry(&e, "child.example", 5, body, sizeof(body));
	tap_ok(pcache_get(c, "child.example", &out, why, sizeof(why)) == 1 &&
	           same(&e, &out),
	       "a handle sees another process's put, whole");
	pcache_entry_reset(&out);
	make_entry(&e, "parent.example", 6, body, sizeof(body));
	rc = pcache_put(c, &e, why, sizeof(why));
	tap_ok(rc == 0 && write(to_child[1], "g", 1) == 1,
	       "the parent puts its entry: %s", why);
	close(to_child[1]);
	tap_ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	           WEXITSTATUS(status) == 0,
	       "the other process's open handle sees it, whole (status %d)",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	pcache_close(c);
}

/* The Redis URLs, refused before any connection or by it. */
static void
test_urls(void)
{
	static const struct {
		const char *url;
		const char *why; /* a part of the message */
	} bad[] = {
	    {"redis://u:secret@127.0.0.1", "MTASTS_REDIS_PASSWORD"},
	    {"redis://:secret@127.0.0.1:6379/0", "MTASTS_REDIS_PASSWORD"},
	    {"redis://", "not a Redis URL"},
	    {"redis://:6379", "not a Redis URL"},
	    {"redis://127.0.0.1:0", "not a Redis URL"},
	    {"redis://127.0.0.1:65536", "not a Redis URL"},
	    {"redis://127.0.0.1:63x", "not a Redis URL"},
	    {"redis://127.0.0.1/x", "not a Redis URL"},
	    {"redis://127.0.0.1/", "not a Redis URL"},
	    {"redis://127.0.0.1/1/2", "not a Redis URL"},
	    {"redis://[::1", "not a Redis URL"},
	    {"redis+unix:relative.sock", "not a Redis URL"},
	    {"redis+unix:", "not a Redis URL"},
	    {"redis+unix:/tmp/r.sock?db=", "not a Redis URL"},
	    {"redis+unix:/tmp/r.sock?database=1", "not a Redis URL"},
	    /* Port 1 of loopback: nothing listens (tcpmux is long gone). */
	    {"redis://127.0.0.1:1", "redis 127.0.0.1:1: Connection refused"},
	    {"redis://[::1]:1/3", "redis [::1]:1: "},
	    {"redis+unix:/nonexistent/redis.sock",
	     "redis /nonexistent/redis.sock: No such file or directory"},
	    {"redis+unix:///nonexistent/r.sock?db=2",
	     "redis /nonexistent/r.sock: No such file or directory"},
	};
	char why[PCACHE_WHY_SIZE];
	struct pcache *c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		why[0] = '\0';
		tap_ok(pcache_open(bad[i].url, &c, why, sizeof(why)) == -1 &&
		           c == NULL && strstr(why, bad[i].why) != NULL &&
		           strstr(why, "secret") == NULL,
		       "open %s: -1: %s", bad[i].url, why);
	}
}

/* Redis: values under the prefix that this program did not write. */
static void
test_garbage(void)
{
	struct pcache *c = open_or_die(fresh_url("garbage"));
	redisContext *r = raw_open("garbage");
	struct pcache_entry e, out = {0};
	char body[20], why[PCACHE_WHY_SIZE] = "";
	size_t n = 0;
	redisReply *v;
	int rc;
	static const struct {
		const char *domain;
		const char *cmd; /* the foreign value, %s: the key */
		const char *why;
	} bad[] = {
	    {"text.example", "SET %s hello", "not a policy cache entry"},
	    {"empty.example", "SET %s %s", "not a policy cache entry"},
	    {"hash.example", "HSET %s kind policy", "holds a hash"},
	    {"list.example", "RPUSH %s a", "holds a list"},
	    /* One octet over the largest entry's encoding. */
	    {"big.example", "SETRANGE %s 66155 x", "a value over 66155"},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char key[300];
		redisReply *rep;

		(void)snprintf(key, sizeof(key), "mtasts:pcache:v1:%s",
		               bad[i].domain);
		rep = strstr(bad[i].cmd, "%s %s") != NULL ?
		    redisCommand(r, bad[i].cmd, key, "") :
		    redisCommand(r, bad[i].cmd, key);
		freeReplyObject(rep);
		out.kind = PCACHE_DANE;
		tap_ok(pcache_get(c, bad[i].domain, &out, why, sizeof(why)) ==
		               -1 &&
		           strstr(why, bad[i].why) != NULL &&
		           out.kind == PCACHE_DANE,
		       "get of a foreign value (%s): -1: %s", bad[i].cmd, why);
	}
	/* A whole entry of ours, under another domain's key or cut. */
	make_entry(&e, "ours.example", 2, body, sizeof(body));
	if (pcache_put(c, &e, why, sizeof(why)) == 0 &&
	    (v = raw_get(r, "ours.example")) != NULL) {
		(void)raw_set(r, "moved.example", v->str, v->len);
		(void)raw_set(r, "cut.example", v->str, v->len - 1);
		freeReplyObject(v);
	}
	tap_ok(pcache_get(c, "moved.example", &out, why, sizeof(why)) == -1 &&
	           strstr(why, "damaged") != NULL,
	       "get of an entry under another domain's key: -1: %s", why);
	tap_ok(pcache_get(c, "cut.example", &out, why, sizeof(why)) == -1 &&
	           strstr(why, "damaged") != NULL,
	       "get of an entry cut by an octet: -1: %s", why);
	tap_ok(pcache_get(c, "ours.example", &out, why, sizeof(why)) == 1 &&
	           same(&e, &out),
	       "the handle still reads a good entry after them");
	pcache_entry_reset(&out);
	tap_ok(pcache_walk(c, count_fn, &n, why, sizeof(why)) == -1 &&
	           strstr(why, "redis ") != NULL,
	       "walk over foreign values: -1 (an error, not skipped): %s", why);
	/* Keys outside the prefix are not ours: the walk passes them. */
	freeReplyObject(redisCommand(r, "FLUSHDB"));
	freeReplyObject(redisCommand(r, "SET other:key hello"));
	freeReplyObject(redisCommand(r, "SET mtasts:pcache:v2:x.example y"));
	n = 0;
	rc = pcache_put(c, &e, why, sizeof(why));
	if (rc == 0)
		rc = pcache_walk(c, count_fn, &n, why, sizeof(why));
	tap_ok(rc == 0 && n == 1,
	       "walk sees only the keys of its prefix (%zu of 1)", n);
	redisFree(r);
	pcache_close(c);
}
/*
 * A scripted peer in place of Redis: the length of the one whole
 * command (a RESP array of bulk strings) at the start of b[n], or 0.
 */
static size_t
command_len(const char *b, size_t n)
{
	const char *p = b, *end = b + n, *nl;
	long args, len;

	if (n == 0 || *p != '*' || (nl = memchr(p, '\n', n)) == NULL)
		return 0;
	args = strtol(p + 1, NULL, 10);
	p = nl + 1;
	while (args-- > 0) {
		if (p >= end || *p != '$' ||
		    (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return 0;
		len = strtol(p + 1, NULL, 10);
		p = nl + 1;
		if (end - p < len + 2)
			return 0;
		p += len + 2;
	}
	return (size_t)(p - b);
}

/* Answers each command on fd with the next reply of script[]. */
static void
scripted_peer(int fd, const char *const *script)
{
	static char buf[1 << 17];
	size_t have = 0, n;
	ssize_t got;

	while (*script != NULL) {
		while ((n = command_len(buf, have)) == 0) {
			got = read(fd, buf + have, sizeof(buf) - have);
			if (got <= 0)
				_exit(0);
			have += (size_t)got;
		}
		memmove(buf, buf + n, have - n);
		have -= n;
		if (write(fd, *script, strlen(*script)) < 0)
			_exit(1);
		script++;
	}
	_exit(0);
}

static int
walk_nothing(const struct pcache_entry *e, void *ctx)
{
	(void)e;
	(void)ctx;
	return 0;
}

/*
 * The Redis engine against a peer answering with replies of the wrong
 * type or shape: each call fails with -1 and why, nothing crashes, and
 * the connection stays in step (the last get reads a well-formed
 * answer).  No Redis needed: run on every engine's run.
 */
static void
test_odd_replies(void)
{
	static const char *const script[] = {
	    "+PONG\r\n", /* open */
	    /* get: integers for every reply */
	    ":1\r\n",
	    ":2\r\n",
	    ":3\r\n",
	    ":4\r\n",
	    /* get: EXEC's array with TYPE an integer */
	    "+OK\r\n",
	    "+QUEUED\r\n",
	    "+QUEUED\r\n",
	    "*2\r\n:1\r\n:2\r\n",
	    /* get: a string said, an integer given */
	    "+OK\r\n",
	    "+QUEUED\r\n",
	    "+QUEUED\r\n",
	    "*2\r\n+string\r\n:7\r\n",
	    /* get: EXEC's array too short */
	    "+OK\r\n",
	    "+QUEUED\r\n",
	    "+QUEUED\r\n",
	    "*1\r\n+string\r\n",
	    "$2\r\nhi\r\n",                  /* put: a string, not OK */
	    "+OK\r\n",                       /* delete: not an integer */
	    ":7\r\n",                        /* delete: not 0 or 1 */
	    "*2\r\n$1\r\n0\r\n:5\r\n",       /* walk: keys not an array */
	    "*2\r\n$1\r\n0\r\n*1\r\n:5\r\n", /* walk: a key not a string */
	    "*3\r\n$1\r\n0\r\n*0\r\n*0\r\n", /* walk: three elements */
	    "*2\r\n$1\r\n0\r\n*1\r\n$20\r\nmtasts:pcache:v1:a.b\r\n",
	    "-ERR x\r\n",
	    "-ERR x\r\n",
	    "-ERR x\r\n",
	    "-ERR x\r\n",
	    /* get: a well-formed "none" */
	    "+OK\r\n",
	    "+QUEUED\r\n",
	    "+QUEUED\r\n",
	    "*2\r\n+none\r\n$0\r\n\r\n",
	    NULL,
	};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	struct pcache *c = NULL;
	struct pcache_entry e, out = {0};
	char url[64], body[4], why[PCACHE_WHY_SIZE] = "", *pass;
	int lfd, fd, i, rc, status;
	pid_t pid;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1) {
		printf("Bail out! a listening socket: %s\n", strerror(errno));
		exit(1);
	}
	fflush(stdout);
	if ((pid = fork()) == -1) {
		printf("Bail out! fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			_exit(1);
		scripted_peer(fd, script);
	}
	close(lfd);
	(void)snprintf(url, sizeof(url), "redis://127.0.0.1:%d",
	               (int)ntohs(sin.sin_port));
	/* The peer's script has no AUTH: no password for this open. */
	if ((pass = getenv("MTASTS_REDIS_PASSWORD")) != NULL &&
	    (pass = strdup(pass)) == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	(void)unsetenv("MTASTS_REDIS_PASSWORD");
	rc = pcache_open(url, &c, why, sizeof(why));
	if (pass != NULL)
		(void)setenv("MTASTS_REDIS_PASSWORD", pass, 1);
	free(pass);
	tap_ok(rc == 0, "open on a scripted peer: %s", why);
	if (c == NULL)
		goto out;
	for (i = 0; i < 4; i++) {
		out.kind = PCACHE_DANE;
		rc = pcache_get(c, "a.example", &out, why, sizeof(why));
		tap_ok(rc == -1 && out.kind == PCACHE_DANE,
		       "get, odd answer %d: -1: %s", i + 1, why);
	}
	make_entry(&e, "a.example", 1, body, sizeof(body));
	rc = pcache_put(c, &e, why, sizeof(why));
	tap_ok(rc == -1, "put answered by a string: -1: %s", why);
	rc = pcache_delete(c, "a.example", why, sizeof(why));
	tap_ok(rc == -1, "delete answered by a status: -1: %s", why);
	rc = pcache_delete(c, "a.example", why, sizeof(why));
	tap_ok(rc == -1, "delete answered by 7: -1: %s", why);
	for (i = 0; i < 4; i++) {
		rc = pcache_walk(c, walk_nothing, NULL, why, sizeof(why));
		tap_ok(rc == -1, "walk, odd answer %d: -1: %s", i + 1, why);
	}
	rc = pcache_get(c, "a.example", &out, why, sizeof(why));
	tap_ok(rc == 0, "the connection stayed in step: a get reads none");
	pcache_close(c);
out:
	tap_ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	           WEXITSTATUS(status) == 0,
	       "the scripted peer saw every command it expected");
}

/*
 * Redis with a password (the unix run): a wrong one, or none, fails
 * the open with Redis's why, never showing the password.
 */
static void
test_auth(void)
{
	const char *env = getenv("MTASTS_REDIS_PASSWORD");
	char why[PCACHE_WHY_SIZE] = "", *pass;
	struct pcache *c = NULL;
	int rc;

	if (env == NULL || env[0] == '\0') {
		tap_skip("a wrong password or none is refused",
		         "this Redis has no password");
		return;
	}
	if ((pass = strdup(env)) == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	(void)setenv("MTASTS_REDIS_PASSWORD", "not-the-password", 1);
	rc = pcache_open(url_of("see"), &c, why, sizeof(why));
	tap_ok(rc == -1 && c == NULL && strstr(why, "AUTH: WRONGPASS") &&
	           strstr(why, "not-the-password") == NULL,
	       "a wrong password fails the open: %s", why);
	(void)unsetenv("MTASTS_REDIS_PASSWORD");
	rc = pcache_open(url_of("see"), &c, why, sizeof(why));
	tap_ok(rc == -1 && c == NULL && strstr(why, "NOAUTH") != NULL,
	       "no password fails the open: %s", why);
	(void)setenv("MTASTS_REDIS_PASSWORD", pass, 1);
	rc = pcache_open(url_of("see"), &c, why, sizeof(why));
	tap_ok(rc == 0 && strstr(why, pass) == NULL, "the right one opens it");
	pcache_close(c);
	free(pass);
}

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	(void)clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until the clock id reads at least `until`. */
static void
sleep_until(clockid_t id, double until)
{
	double left;

	while ((left = until - clock_s(id)) > 0) {
		struct timespec ts = {.tv_sec = (time_t)left,
		                      .tv_nsec =
		                          (long)((left - (double)(time_t)left) *
		                                 1e9)};

		(void)nanosleep(&ts, NULL);
	}
}

/* The pid of the test's Redis, from MTS_REDIS_PIDFILE, or -1. */
static pid_t
redis_pid(const char *pidfile)
{
	FILE *f = fopen(pidfile, "r");
	long pid = -1;

	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	return pid > 1 ? (pid_t)pid : -1;
}

/* Whether pid has exited (gone, or a zombie nobody reaped yet). */
static bool
exited(pid_t pid)
{
	char path[64], line[128];
	bool gone = true;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return true;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "State:", 6) == 0)
			gone = strchr(line, 'Z') != NULL;
	fclose(f);
	return gone;
}

/* Whether the Redis answers PING, tried for up to 5 s. */
static bool
redis_answers(void)
{
	const char *pass = getenv("MTASTS_REDIS_PASSWORD");
	int i;

	for (i = 0; i < 100; i++) {
		redisContext *r;
		redisReply *rep = NULL;
		char host[64];
		int port = 0;
		bool up;

		if (strncmp(redis_url, "redis+unix:", 11) == 0)
			r = redisConnectUnix(redis_url + 11);
		else {
			(void)sscanf(redis_url, "redis://%63[^:]:%d", host,
			             &port);
			r = redisConnect(host, port);
		}
		if (r != NULL && r->err == 0 && pass != NULL && pass[0] != 0)
			freeReplyObject(redisCommand(r, "AUTH %s", pass));
		if (r != NULL && r->err == 0)
			rep = redisCommand(r, "PING");
		up = rep != NULL && rep->type == REDIS_REPLY_STATUS &&
		    strcmp(rep->str, "PONG") == 0;
		freeReplyObject(rep);
		redisFree(r);
		if (up)
			return true;
		(void)nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
	}
	return false;
}

/* The key's absolute expiry as Redis holds it (EXPIRETIME), or -3. */
static long long
raw_expiretime(const char *domain)
{
	redisContext *r = raw_open("down");
	redisReply *rep =
	    redisCommand(r, "EXPIRETIME mtasts:pcache:v1:%s", domain);
	long long t = -3;

	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		t = rep->integer;
	freeReplyObject(rep);
	redisFree(r);
	return t;
}

/*
 * Redis: entries expire with their policy, and a Redis stopped
 * (SIGSTOP: connections open, no answer), then killed, then started
 * again under one open handle.  The waits overlap: the entry expiring
 * in 1-2 s is checked after the second the handle waits before it
 * reconnects; about 3 s of sleep in all.
 */
static void
test_expiry_down(void)
{
	const char *pidfile = getenv("MTS_REDIS_PIDFILE");
	const char *conf = getenv("MTS_REDIS_CONF");
	struct pcache *c;
	struct pcache_entry e, out = {0};
	char body[10], cmd[1200], why[PCACHE_WHY_SIZE] = "";
	double t, el, failed;
	int64_t soon;
	pid_t pid;
	int rc;

	if (pidfile == NULL || conf == NULL ||
	    (pid = redis_pid(pidfile)) == -1) {
		tap_skip("a Redis stopped, killed and restarted",
		         "no MTS_REDIS_PIDFILE and MTS_REDIS_CONF");
		return;
	}
	c = open_or_die(fresh_url("down"));
	/* Expiry: the key's EXAT is the entry's expires. */
	soon = (int64_t)clock_s(CLOCK_REALTIME) + 2;
	make_entry(&e, "soon.example", 1, body, sizeof(body));
	e.expires = soon;
	tap_ok(pcache_put(c, &e, why, sizeof(why)) == 0 &&
	           get_rc(c, "soon.example") == 1 &&
	           raw_expiretime("soon.example") == soon,
	       "an entry expiring in 1-2 s is there, its key expiring at "
	       "its expires: %s",
	       why);
	make_entry(&e, "never.example", 2, body, sizeof(body));
	e.expires = INT64_MAX;
	tap_ok(pcache_put(c, &e, why, sizeof(why)) == 0 &&
	           raw_expiretime("never.example") == -1,
	       "an entry expiring past Redis's range is kept without "
	       "expiry");
	make_entry(&e, "past.example", 3, body, sizeof(body));
	rc = pcache_put(c, &e, why, sizeof(why));
	e.expires = (int64_t)clock_s(CLOCK_REALTIME) - 10;
	rc |= pcache_put(c, &e, why, sizeof(why));
	tap_ok(rc == 0 && get_rc(c, "past.example") == 0,
	       "a put of an entry already expired deletes the domain's "
	       "entry: %s",
	       why);
	make_entry(&e, "past.example", 3, body, sizeof(body));
	rc = pcache_put(c, &e, why, sizeof(why));
	e.expires = INT64_MIN;
	rc |= pcache_put(c, &e, why, sizeof(why));
	tap_ok(rc == 0 && get_rc(c, "past.example") == 0,
	       "so does one of an expiry before 1970: %s", why);

	/* Stopped: the connection is open, nothing answers. */
	(void)kill(pid, SIGSTOP);
	t = clock_s(CLOCK_MONOTONIC);
	rc = pcache_get(c, "never.example", &out, why, sizeof(why));
	failed = clock_s(CLOCK_MONOTONIC);
	el = failed - t;
	(void)kill(pid, SIGCONT);
	tap_ok(rc == -1 && el < 1.5 && strstr(why, "redis ") == why &&
	           strstr(why, "no answer within 500 ms") != NULL,
	       "a stopped Redis: get fails after %.2f s: %s", el, why);
	t = clock_s(CLOCK_MONOTONIC);
	rc = pcache_put(c, &e, why, sizeof(why));
	el = clock_s(CLOCK_MONOTONIC) - t;
	tap_ok(rc == -1 && el < 0.25 && strstr(why, "no new connection"),
	       "within the second after, a call fails at once (%.3f s), "
	       "without a new try: %s",
	       el, why);
	sleep_until(CLOCK_MONOTONIC, failed + 1.05);
	why[0] = '\0';
	rc = pcache_get(c, "never.example", &out, why, sizeof(why));
	tap_ok(rc == 1,
	       "a second later the same handle reconnects by "
	       "itself and reads: %s",
	       why);
	pcache_entry_reset(&out);
	sleep_until(CLOCK_REALTIME, (double)soon + 0.1);
	tap_ok(get_rc(c, "soon.example") == 0,
	       "the entry is gone once its expires passed");

	/* Killed: the kernel closes its sockets; a write may SIGPIPE. */
	(void)kill(pid, SIGKILL);
	for (int i = 0; i < 200 && !exited(pid); i++)
		(void)nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
	t = clock_s(CLOCK_MONOTONIC);
	rc = pcache_get(c, "never.example", &out, why, sizeof(why));
	failed = clock_s(CLOCK_MONOTONIC);
	el = failed - t;
	tap_ok(rc == -1 && el < 0.6 && strstr(why, "redis ") == why,
	       "a killed Redis: get fails at once (%.3f s), saying why: %s", el,
	       why);
	t = clock_s(CLOCK_MONOTONIC);
	e.expires = INT64_MAX;
	rc = pcache_put(c, &e, why, sizeof(why));
	el = clock_s(CLOCK_MONOTONIC) - t;
	tap_ok(rc == -1 && el < 0.25 && strstr(why, "redis ") == why,
	       "and so does a put (%.3f s): %s", el, why);
	(void)snprintf(cmd, sizeof(cmd), "redis-server '%s' >/dev/null 2>&1",
	               conf);
	tap_ok(system(cmd) == 0 && redis_answers(), "Redis is started again");
	sleep_until(CLOCK_MONOTONIC, failed + 1.05);
	why[0] = '\0';
	rc = get_rc(c, "never.example") == 0 ? 0 : -1;
	if (rc == 0)
		rc = pcache_put(c, &e, why, sizeof(why));
	tap_ok(rc == 0 && get_rc(c, "past.example") == 1,
	       "the same handle works on the restarted Redis (which kept "
	       "nothing): %s",
	       why);
	pcache_close(c);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	/* A library write to a closed socket must not kill the caller. */
	(void)signal(SIGPIPE, SIG_DFL);
	redis_url = getenv("MTS_CACHE_URL");
	if (redis_url != NULL && redis_url[0] == '\0')
		redis_url = NULL;
	t0 = (int64_t)time(NULL);
	tap_diag("engine: %s", redis_url == NULL ? "sqlite" : redis_url);

	(void)snprintf(tmpdir, sizeof(tmpdir), "%s/test_policyd_cache.XXXXXX",
	               t != NULL && t[0] == '/' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_round_trip();
	test_replace_delete();
	test_walk_purge();
	test_body_cap();
	test_two_processes();
	test_kill_writer();
	test_newer_schema();
	test_see_each_other();
	test_urls();
	test_odd_replies();
	if (redis_url != NULL) {
		test_garbage();
		test_auth();
		test_expiry_down();
	}
	{
		char cmd[300];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", tmpdir);
	}
	return tap_done();
}
