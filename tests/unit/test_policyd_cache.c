/* SPDX-License-Identifier: ISC */
/*
 * The policy cache of mtasts policyd (src/policyd/cache.h) on its SQLite
 * engine, in files of a temporary directory: every field of an entry
 * round-trips, a put replaces, delete and purge_expired remove what
 * they say, the walk is in domain order, the body cap is RFC 8461
 * §3.3's 64 KiB to the octet, two processes share one file, a writer
 * killed (SIGKILL) in a loop of puts leaves a readable file of whole
 * entries holding every put that returned, and a file of a newer
 * schema is refused.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cache.h"
#include "tap.h"

static char tmpdir[256];

static const char *
url_of(const char *name)
{
	static char url[512];

	(void)snprintf(url, sizeof(url), "sqlite:%s/%s.db", tmpdir, name);
	return url;
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
	e->fetched = INT64_C(1767225600) + n;
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
	struct pcache *c = open_or_die(url_of("round"));
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
	struct pcache *c = open_or_die(url_of("replace"));
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

static void
test_walk_purge(void)
{
	static const char *const put_order[] = {"b.example", "a.example",
	                                        "a-b.example", "c.example",
	                                        "a.example.com"};
	static const char *const sorted[] = {"a-b.example", "a.example",
	                                     "a.example.com", "b.example",
	                                     "c.example"};
	struct pcache *c = open_or_die(url_of("walk"));
	struct pcache_entry e, out = {0};
	struct walked w = {0};
	char body[8], why[PCACHE_WHY_SIZE] = "";
	size_t i, count = 99;
	bool ok = true;
	int rc;

	for (i = 0; i < 5; i++) {
		make_entry(&e, put_order[i], (unsigned)i, body, sizeof(body));
		e.expires = 1000 + (int64_t)i; /* b 1000, a 1001, ... */
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
	rc = pcache_purge_expired(c, 1001, &count, why, sizeof(why));
	tap_ok(rc == 0 && count == 2,
	       "purge_expired(1001) deletes the two entries expiring at or "
	       "before it (%zu)",
	       count);
	tap_ok(pcache_get(c, "b.example", &out, why, sizeof(why)) == 0 &&
	           pcache_get(c, "a.example", &out, why, sizeof(why)) == 0 &&
	           pcache_get(c, "a-b.example", &out, why, sizeof(why)) == 1,
	       "the expired ones are gone, the others stay");
	pcache_entry_reset(&out);
	tap_ok(pcache_purge_expired(c, 999, &count, why, sizeof(why)) == 0 &&
	           count == 0,
	       "purge_expired before any expiry deletes none");
	pcache_close(c);
}

static void
test_body_cap(void)
{
	struct pcache *c = open_or_die(url_of("cap"));
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
	const char *url = url_of("shared");
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
	const char *url = url_of("killed");
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

static void
test_newer_schema(void)
{
	const char *url = url_of("newer");
	char why[PCACHE_WHY_SIZE] = "";
	struct pcache *c = open_or_die(url);
	sqlite3 *db = NULL;
	int rc;

	pcache_close(c);
	rc = sqlite3_open(url + strlen("sqlite:"), &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "UPDATE schema_version SET version = 99",
		                  NULL, NULL, NULL);
	sqlite3_close(db);
	tap_ok(rc == SQLITE_OK, "the file is set to schema version 99");
	c = NULL;
	tap_ok(pcache_open(url, &c, why, sizeof(why)) == -1 && c == NULL &&
	           strstr(why, "version 99") != NULL,
	       "a store of a newer schema is refused: %s", why);
	tap_ok(pcache_open("redis://localhost", &c, why, sizeof(why)) == -1,
	       "a URL of no engine yet is refused: %s", why);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

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
	{
		char cmd[300];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", tmpdir);
	}
	return tap_done();
}
