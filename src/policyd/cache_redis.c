/* SPDX-License-Identifier: ISC */
/*
 * The Redis engine of the policy cache (redis://HOST[:PORT][/DB],
 * redis+unix:PATH[?db=N]): one cache shared by a fleet of MTAs.
 *
 * One key per policy domain, "mtasts:pcache:v1:" + the domain, holding
 * the whole entry as one binary value (below).  A put is one SET (with
 * EXAT, the entry's `expires`, so Redis drops it when the policy
 * expires, RFC 8461 §5.1's "until max_age", and nobody purges): a
 * value is replaced whole or not at all, never a mix of two puts.  The
 * "v1" in the prefix is the key layout's version; the value carries
 * its own (VALUE_VERSION), and a reader refuses a value of another
 * version, or anything not a value of ours, with an error.
 *
 * The value, big-endian, every length counted and capped:
 *
 *   "MTPC" version:1 kind:1 fetched:8 expires:8 next_check:8
 *   backoff_until:8 domain:2+n id:1+n failure_class:1+n failure:2+n
 *   body:4+n
 *
 * Redis is a server: it may be down, slow or restarted, and the daemon
 * must not wait on it (issue 12: it answers from memory meanwhile).  So
 * every connect and every read or write has a short timeout, a failure
 * drops the connection, and a later call reconnects by itself, at most
 * once a second (the clock read here: this is the I/O adapter).  The
 * password comes from the environment (MTASTS_REDIS_PASSWORD), never
 * from the URL, which shows in `ps` and in logs.
 *
 * hiredis writes with write(2): a write to a connection the server
 * reset raises SIGPIPE, which would kill a daemon that did not ignore
 * it.  Every exchange holds SIGPIPE blocked and discards one it raised.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "cache_int.h"

/*
 * Redis on loopback or a LAN connects and answers in well under a
 * millisecond, an entry of 66 KiB included; 500 ms is hundreds of
 * times that, and still short enough that a lookup missing the
 * daemon's memory is answered (from a fetch) while Postfix waits.
 */
#define CONNECT_TIMEOUT_MS 500
#define COMMAND_TIMEOUT_MS 500
/* A dead Redis costs at most one connect timeout a second. */
#define RECONNECT_MS       1000

#define KEY_PREFIX     "mtasts:pcache:v1:"
#define KEY_PREFIX_LEN (sizeof(KEY_PREFIX) - 1)
#define KEY_PATTERN    "mtasts:pcache:v1:*" /* SCAN MATCH: every key */
#define KEY_MAX        (KEY_PREFIX_LEN + PCACHE_DOMAIN_MAX)

#define VALUE_MAGIC   "MTPC"
#define VALUE_VERSION 1
#define VALUE_FIXED   (4 + 1 + 1 + 4 * 8)
/* The encoding of the largest valid entry: nothing stored is longer. */
#define VALUE_MAX                                                              \
	(VALUE_FIXED + 2 + PCACHE_DOMAIN_MAX + 1 + PCACHE_ID_MAX + 1 +         \
	 PCACHE_CLASS_MAX + 2 + PCACHE_FAILURE_MAX + 4 + PCACHE_BODY_MAX)

/*
 * The walk keeps every domain name in memory to sort them (SCAN's order
 * is the hash table's): at most a million domains and 32 MiB of names
 * (ten times the 100,000 domains issue 12 sizes the daemon for), or
 * the walk fails rather than grow without bound.  The values are read
 * in batches of 128, at most 8.5 MiB of replies at a time.
 */
#define WALK_MAX_DOMAINS 1000000
#define WALK_MAX_NAMES   (32 * 1024 * 1024)
#define WALK_BATCH       128

/* hiredis's socket path buffer is sockaddr_un's. */
#define SOCKET_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct redis_cache {
	struct pcache base;
	redisContext *ctx;          /* NULL while disconnected */
	char host[256];             /* TCP: the host, or "" */
	char path[SOCKET_PATH_MAX]; /* UNIX: the socket, or "" */
	int port;                   /* TCP */
	int db;                     /* SELECTed at each connect */
	char label[256 + 16];       /* "HOST:PORT" or the path */
	int64_t next_try_ms;        /* no reconnect before (monotonic) */
	char last[PCACHE_WHY_SIZE]; /* why the connection was lost */
};

static struct redis_cache *
red(struct pcache *c)
{
	return (struct redis_cache *)c;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- URLs --- */

/* Decimal digits at *s, at most `max`: the value, or -1. */
static long
number(const char **s, long max)
{
	long v = 0;
	int n = 0;

	while (**s >= '0' && **s <= '9' && n < 9) {
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	return n == 0 || v > max || (**s >= '0' && **s <= '9') ? -1 : v;
}

/* redis://HOST[:PORT][/DB]; HOST may be an IPv6 address in brackets. */
static int
parse_tcp(struct redis_cache *r, const char *s, char *why, size_t why_size)
{
	const char *end;
	size_t n;
	long v;

	if (strchr(s, '@') != NULL) {
		pcache_why(why, why_size,
		           "redis: no user or password in the URL (it would "
		           "show in ps and logs): set MTASTS_REDIS_PASSWORD");
		return -1;
	}
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		s++;
		n = (size_t)(end - s);
		end++;
	} else {
		n = strcspn(s, ":/");
		end = s + n;
	}
	if (n == 0 || n >= sizeof(r->host))
		return -1;
	memcpy(r->host, s, n);
	r->host[n] = '\0';
	r->port = 6379;
	if (*end == ':') {
		end++;
		if ((v = number(&end, 65535)) < 1)
			return -1;
		r->port = (int)v;
	}
	if (*end == '/') {
		end++;
		if ((v = number(&end, INT_MAX)) < 0)
			return -1;
		r->db = (int)v;
	}
	return *end == '\0' ? 0 : -1;
}

/* redis+unix:PATH[?db=N]; redis+unix:///PATH is taken too. */
static int
parse_unix(struct redis_cache *r, const char *s)
{
	size_t n;
	long v;

	if (strncmp(s, "///", 3) == 0)
		s += 2;
	n = strcspn(s, "?");
	if (s[0] != '/' || n >= sizeof(r->path))
		return -1;
	memcpy(r->path, s, n);
	r->path[n] = '\0';
	s += n;
	if (*s == '\0')
		return 0;
	if (strncmp(s, "?db=", 4) != 0)
		return -1;
	s += 4;
	if ((v = number(&s, INT_MAX)) < 0 || *s != '\0')
		return -1;
	r->db = (int)v;
	return 0;
}

static int
parse_url(struct redis_cache *r, const char *url, char *why, size_t why_size)
{
	int rc = -1;

	why[0] = '\0';
	if (strncmp(url, "redis://", 8) == 0)
		rc = parse_tcp(r, url + 8, why, why_size);
	else if (strncmp(url, "redis+unix:", 11) == 0)
		rc = parse_unix(r, url + 11);
	if (rc == -1) {
		if (why[0] == '\0')
			pcache_why(why, why_size,
			           "%s: not a Redis URL (redis://HOST[:PORT]"
			           "[/DB] or redis+unix:PATH[?db=N])",
			           url);
		return -1;
	}
	if (r->path[0] != '\0')
		(void)snprintf(r->label, sizeof(r->label), "%s", r->path);
	else if (strchr(r->host, ':') != NULL)
		(void)snprintf(r->label, sizeof(r->label), "[%s]:%d", r->host,
		               r->port);
	else
		(void)snprintf(r->label, sizeof(r->label), "%s:%d", r->host,
		               r->port);
	return 0;
}

/* --- SIGPIPE --- */

struct nosigpipe {
	sigset_t old;
	bool blocked;
	bool was_pending;
};

static void
sigpipe_hold(struct nosigpipe *g)
{
	sigset_t set, pending;

	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGPIPE);
	g->blocked = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
	g->was_pending =
	    sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

/* Discards a SIGPIPE the exchange raised, then unblocks it. */
static void
sigpipe_release(struct nosigpipe *g)
{
	const struct timespec none = {0};
	sigset_t set, pending;

	if (!g->blocked)
		return;
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGPIPE);
	if (!g->was_pending && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE) == 1)
		(void)sigtimedwait(&set, NULL, &none);
	(void)pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* --- The connection --- */

/* Why the last exchange on c failed, errno as saved right after it. */
static void
why_io(const struct redis_cache *r, const redisContext *c, int saved, char *why,
       size_t why_size)
{
	if (c->err == REDIS_ERR_IO &&
	    (saved == EAGAIN || saved == EWOULDBLOCK || saved == ETIMEDOUT))
		pcache_why(why, why_size, "redis %s: no answer within %d ms",
		           r->label, COMMAND_TIMEOUT_MS);
	else
		pcache_why(why, why_size, "redis %s: %s", r->label,
		           c->errstr[0] != '\0' ? c->errstr : "I/O error");
}

/* Drops the connection after a failure whose message is in msg. */
static void
drop(struct redis_cache *r, const char *msg)
{
	redisFree(r->ctx);
	r->ctx = NULL;
	r->next_try_ms = mono_ms() + RECONNECT_MS;
	(void)snprintf(r->last, sizeof(r->last), "%s", msg);
}

/*
 * Sends what was appended on r->ctx and reads n replies into rep[]:
 * 0, or -1 with why, the connection dropped (a reply lost midway leaves
 * the protocol out of step) and rep[] freed.
 */
static int
exchange(struct redis_cache *r, redisReply **rep, size_t n, char *why,
         size_t why_size)
{
	struct nosigpipe g;
	size_t i;
	void *p;
	int saved = 0, rc = 0;

	sigpipe_hold(&g);
	for (i = 0; i < n; i++) {
		p = NULL;
		if (redisGetReply(r->ctx, &p) != REDIS_OK || p == NULL) {
			saved = errno;
			rc = -1;
			break;
		}
		rep[i] = p;
	}
	sigpipe_release(&g);
	if (rc == -1) {
		why_io(r, r->ctx, saved, why, why_size);
		drop(r, why);
		while (i > 0)
			freeReplyObject(rep[--i]);
	}
	return rc;
}

/* One command, its reply in *rep: 0, or -1 with why. */
static int
command(struct redis_cache *r, int argc, const char **argv,
        const size_t *argvlen, redisReply **rep, char *why, size_t why_size)
{
	if (redisAppendCommandArgv(r->ctx, argc, argv, argvlen) != REDIS_OK) {
		pcache_why(why, why_size, "redis %s: out of memory", r->label);
		return -1;
	}
	return exchange(r, rep, 1, why, why_size);
}

/* Whether rep is the status `want` ("OK"); else why. */
static bool
status_is(const struct redis_cache *r, const redisReply *rep, const char *want,
          const char *what, char *why, size_t why_size)
{
	if (rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, want) == 0)
		return true;
	if (rep->type == REDIS_REPLY_ERROR)
		pcache_why(why, why_size, "redis %s: %s: %s", r->label, what,
		           rep->str);
	else
		pcache_why(why, why_size,
		           "redis %s: %s: an unexpected reply (type %d)",
		           r->label, what, rep->type);
	return false;
}

/* One command answered by the status `want`: 0, or -1 with why. */
static int
command_status(struct redis_cache *r, int argc, const char **argv,
               const char *want, const char *what, char *why, size_t why_size)
{
	redisReply *rep = NULL;
	bool ok;

	if (command(r, argc, argv, NULL, &rep, why, why_size) == -1)
		return -1;
	ok = status_is(r, rep, want, what, why, why_size);
	freeReplyObject(rep);
	return ok ? 0 : -1;
}

/* AUTH (never with the password in a message), SELECT, PING. */
static int
hello(struct redis_cache *r, char *why, size_t why_size)
{
	const char *pass = getenv("MTASTS_REDIS_PASSWORD");
	const char *auth[] = {"AUTH", pass};
	const char *ping[] = {"PING"};
	char db[16];
	const char *sel[] = {"SELECT", db};

	if (pass != NULL && pass[0] != '\0' &&
	    command_status(r, 2, auth, "OK", "AUTH", why, why_size) == -1)
		return -1;
	(void)snprintf(db, sizeof(db), "%d", r->db);
	if (r->db != 0 &&
	    command_status(r, 2, sel, "OK", "SELECT", why, why_size) == -1)
		return -1;
	return command_status(r, 1, ping, "PONG", "PING", why, why_size);
}

/* Connects, with the timeouts of the top: 0, or -1 with why. */
static int
connect_now(struct redis_cache *r, char *why, size_t why_size)
{
	const struct timeval ct = {.tv_usec = CONNECT_TIMEOUT_MS * 1000};
	const struct timeval cmd = {.tv_usec = COMMAND_TIMEOUT_MS * 1000};
	struct nosigpipe g;
	redisContext *c;

	sigpipe_hold(&g);
	c = r->path[0] != '\0' ? redisConnectUnixWithTimeout(r->path, ct) :
				 redisConnectWithTimeout(r->host, r->port, ct);
	sigpipe_release(&g);
	if (c == NULL || c->err != 0 || redisSetTimeout(c, cmd) != REDIS_OK) {
		pcache_why(why, why_size, "redis %s: %s", r->label,
		           c == NULL ? "out of memory" : c->errstr);
		redisFree(c);
		r->next_try_ms = mono_ms() + RECONNECT_MS;
		(void)snprintf(r->last, sizeof(r->last), "%s", why);
		return -1;
	}
	r->ctx = c;
	if (hello(r, why, why_size) == -1) {
		if (r->ctx != NULL)
			drop(r, why);
		return -1;
	}
	return 0;
}

/*
 * A connection for the next exchange: the one there is, or a new one
 * unless the last failure was under RECONNECT_MS ago (then its why).
 */
static int
ready(struct redis_cache *r, char *why, size_t why_size)
{
	if (r->ctx != NULL)
		return 0;
	if (mono_ms() < r->next_try_ms) {
		pcache_why(why, why_size, "%s (no new connection before %d ms)",
		           r->last, RECONNECT_MS);
		return -1;
	}
	return connect_now(r, why, why_size);
}

/* --- Values --- */

static unsigned char *
put_be(unsigned char *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = n; i > 0; i--) {
		p[i - 1] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	return p + n;
}

static unsigned char *
put_str(unsigned char *p, const void *s, size_t len, size_t lenbytes)
{
	p = put_be(p, len, lenbytes);
	if (len != 0)
		memcpy(p, s, len);
	return p + len;
}

/* The value of e (valid): a new allocation of *len octets, or NULL. */
unsigned char *
pcache_redis_encode(const struct pcache_entry *e, size_t *len)
{
	size_t n = VALUE_FIXED + 2 + strlen(e->domain) + 1 + strlen(e->id) + 1 +
	    strlen(e->failure_class) + 2 + strlen(e->failure) + 4 + e->body_len;
	unsigned char *v, *p;

	if ((v = malloc(n)) == NULL)
		return NULL;
	memcpy(v, VALUE_MAGIC, 4);
	p = put_be(v + 4, VALUE_VERSION, 1);
	p = put_be(p, (uint64_t)e->kind, 1);
	p = put_be(p, (uint64_t)e->fetched, 8);
	p = put_be(p, (uint64_t)e->expires, 8);
	p = put_be(p, (uint64_t)e->next_check, 8);
	p = put_be(p, (uint64_t)e->backoff_until, 8);
	p = put_str(p, e->domain, strlen(e->domain), 2);
	p = put_str(p, e->id, strlen(e->id), 1);
	p = put_str(p, e->failure_class, strlen(e->failure_class), 1);
	p = put_str(p, e->failure, strlen(e->failure), 2);
	(void)put_str(p, e->body, e->body_len, 4);
	*len = n;
	return v;
}

/* A reader of a value with a sticky error, checked once at the end. */
struct reader {
	const unsigned char *p;
	size_t len;
	bool bad;
};

static uint64_t
get_be(struct reader *rd, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (rd->bad || rd->len < n) {
		rd->bad = true;
		return 0;
	}
	for (i = 0; i < n; i++)
		v = v << 8 | rd->p[i];
	rd->p += n;
	rd->len -= n;
	return v;
}

static int64_t
get_i64(struct reader *rd)
{
	uint64_t u = get_be(rd, 8);
	int64_t v;

	/* Two's complement back from its octets, without overflow. */
	memcpy(&v, &u, sizeof(v));
	return v;
}

/* A counted string into dst[size], NUL-terminated; no NUL inside. */
static void
get_str(struct reader *rd, size_t lenbytes, char *dst, size_t size)
{
	size_t n = (size_t)get_be(rd, lenbytes);

	if (rd->bad || n >= size || n > rd->len ||
	    memchr(rd->p, '\0', n) != NULL) {
		rd->bad = true;
		return;
	}
	memcpy(dst, rd->p, n);
	dst[n] = '\0';
	rd->p += n;
	rd->len -= n;
}

/*
 * The value v[len] stored under `domain` as an entry, its body a new
 * allocation (NULL when empty): 0, or -1 with why (naming the store
 * `label`) for anything this program would not have written there.
 */
int
pcache_redis_decode(const char *label, const char *domain, const char *v,
                    size_t len, struct pcache_entry *out, char *why,
                    size_t why_size)
{
	struct reader rd = {(const unsigned char *)v, len, false};
	struct pcache_entry e = {0};
	unsigned version;
	size_t n;

	if (len < VALUE_FIXED || memcmp(v, VALUE_MAGIC, 4) != 0) {
		pcache_why(why, why_size,
		           "redis %s: %s: not a policy cache entry", label,
		           domain);
		return -1;
	}
	rd.p += 4;
	rd.len -= 4;
	if ((version = (unsigned)get_be(&rd, 1)) != VALUE_VERSION) {
		pcache_why(why, why_size,
		           "redis %s: %s: an entry of version %u, not %d: "
		           "another mtasts wrote it",
		           label, domain, version, VALUE_VERSION);
		return -1;
	}
	e.kind = (enum pcache_kind)get_be(&rd, 1);
	e.fetched = get_i64(&rd);
	e.expires = get_i64(&rd);
	e.next_check = get_i64(&rd);
	e.backoff_until = get_i64(&rd);
	get_str(&rd, 2, e.domain, sizeof(e.domain));
	get_str(&rd, 1, e.id, sizeof(e.id));
	get_str(&rd, 1, e.failure_class, sizeof(e.failure_class));
	get_str(&rd, 2, e.failure, sizeof(e.failure));
	n = (size_t)get_be(&rd, 4);
	/* The checks of a put (the body only counted: any pointer). */
	e.body_len = n;
	e.body = n == 0 ? NULL : (char *)(uintptr_t)v;
	if (rd.bad || n != rd.len || strcmp(e.domain, domain) != 0 ||
	    !pcache_entry_valid(&e, NULL, 0)) {
		pcache_why(why, why_size, "redis %s: %s: a damaged entry",
		           label, domain);
		return -1;
	}
	e.body = NULL;
	if (n != 0) {
		if ((e.body = malloc(n)) == NULL) {
			pcache_why(why, why_size, "out of memory");
			return -1;
		}
		memcpy(e.body, rd.p, n);
	}
	*out = e;
	return 0;
}

/* --- Reading entries --- */

static void
make_key(char key[KEY_MAX + 1], const char *domain)
{
	(void)snprintf(key, KEY_MAX + 1, "%s%s", KEY_PREFIX, domain);
}

/*
 * Appends the reading of one key: its type and at most VALUE_MAX + 1
 * octets of its value, in one transaction (so both see the same
 * value), without reading a foreign value of any size into memory.
 */
static int
append_read(redisContext *c, const char *key)
{
	const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
	const char *type[] = {"TYPE", key};
	char end[16];
	/* Up to one octet over the cap: enough to see a value too long. */
	const char *range[] = {"GETRANGE", key, "0", end};

	(void)snprintf(end, sizeof(end), "%d", VALUE_MAX);

	if (redisAppendCommandArgv(c, 1, multi, NULL) != REDIS_OK ||
	    redisAppendCommandArgv(c, 2, type, NULL) != REDIS_OK ||
	    redisAppendCommandArgv(c, 4, range, NULL) != REDIS_OK ||
	    redisAppendCommandArgv(c, 1, exec, NULL) != REDIS_OK)
		return -1;
	return 0;
}

#define READ_REPLIES 4

/*
 * The entry in the READ_REPLIES replies of append_read(): 1 with *e
 * set, 0 when the key is gone, -1 with why.
 */
static int
read_entry(const struct redis_cache *r, const char *domain,
           redisReply *const *rep, struct pcache_entry *e, char *why,
           size_t why_size)
{
	const redisReply *t, *v;

	if (!status_is(r, rep[0], "OK", "MULTI", why, why_size) ||
	    !status_is(r, rep[1], "QUEUED", "TYPE", why, why_size) ||
	    !status_is(r, rep[2], "QUEUED", "GETRANGE", why, why_size))
		return -1;
	if (rep[3]->type != REDIS_REPLY_ARRAY || rep[3]->elements != 2 ||
	    (t = rep[3]->element[0])->type != REDIS_REPLY_STATUS) {
		pcache_why(why, why_size,
		           "redis %s: get %s: an unexpected reply", r->label,
		           domain);
		return -1;
	}
	if (strcmp(t->str, "none") == 0)
		return 0;
	v = rep[3]->element[1];
	if (strcmp(t->str, "string") != 0) {
		pcache_why(why, why_size,
		           "redis %s: %s: holds a %s, not an entry", r->label,
		           domain, t->str);
		return -1;
	}
	if (v->type != REDIS_REPLY_STRING) {
		pcache_why(why, why_size,
		           "redis %s: get %s: an unexpected reply (type %d)",
		           r->label, domain, v->type);
		return -1;
	}
	if (v->len > VALUE_MAX) {
		pcache_why(why, why_size,
		           "redis %s: %s: a value over %d octets, more than "
		           "any entry",
		           r->label, domain, VALUE_MAX);
		return -1;
	}
	return pcache_redis_decode(r->label, domain, v->str, v->len, e, why,
	                           why_size) == 0 ?
	    1 :
	    -1;
}

static void
free_replies(redisReply **rep, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		freeReplyObject(rep[i]);
}

static int
red_get(struct pcache *c, const char *domain, struct pcache_entry *entry,
        char *why, size_t why_size)
{
	struct redis_cache *r = red(c);
	redisReply *rep[READ_REPLIES];
	char key[KEY_MAX + 1];
	int rc;

	make_key(key, domain);
	if (ready(r, why, why_size) == -1)
		return -1;
	if (append_read(r->ctx, key) == -1) {
		drop(r, "out of memory");
		pcache_why(why, why_size, "out of memory");
		return -1;
	}
	if (exchange(r, rep, READ_REPLIES, why, why_size) == -1)
		return -1;
	rc = read_entry(r, domain, rep, entry, why, why_size);
	free_replies(rep, READ_REPLIES);
	return rc;
}

/* --- Writing --- */

static int
red_del(struct pcache *c, const char *domain, char *why, size_t why_size)
{
	struct redis_cache *r = red(c);
	char key[KEY_MAX + 1];
	const char *argv[] = {"DEL", key};
	redisReply *rep = NULL;
	int rc = -1;

	make_key(key, domain);
	if (ready(r, why, why_size) == -1 ||
	    command(r, 2, argv, NULL, &rep, why, why_size) == -1)
		return -1;
	if (rep->type == REDIS_REPLY_INTEGER &&
	    (rep->integer == 0 || rep->integer == 1))
		rc = (int)rep->integer;
	else if (rep->type == REDIS_REPLY_ERROR)
		pcache_why(why, why_size, "redis %s: delete: %s", r->label,
		           rep->str);
	else
		pcache_why(why, why_size,
		           "redis %s: delete: an unexpected reply (type %d)",
		           r->label, rep->type);
	freeReplyObject(rep);
	return rc;
}

/*
 * SET replaces the value and its expiry in one command.  expires is
 * the key's EXAT; Redis drops a key whose EXAT has passed at once, and
 * refuses an EXAT of 0 or less or over LLONG_MAX / 1000: an entry
 * expired before 1970 is deleted instead, one expiring after that
 * (hundreds of millions of years) is kept without an expiry.
 */
static int
red_put(struct pcache *c, const struct pcache_entry *e, char *why,
        size_t why_size)
{
	struct redis_cache *r = red(c);
	char key[KEY_MAX + 1], exat[24];
	const char *argv[5] = {"SET", key, NULL, "EXAT", exat};
	size_t argvlen[5], len = 0, i;
	redisReply *rep = NULL;
	unsigned char *v;
	int rc = -1;

	make_key(key, e->domain);
	if (e->expires <= 0)
		return red_del(c, e->domain, why, why_size) == -1 ? -1 : 0;
	if (ready(r, why, why_size) == -1)
		return -1;
	if ((v = pcache_redis_encode(e, &len)) == NULL) {
		pcache_why(why, why_size, "out of memory");
		return -1;
	}
	(void)snprintf(exat, sizeof(exat), "%lld", (long long)e->expires);
	argv[2] = (const char *)v;
	for (i = 0; i < 5; i++)
		argvlen[i] = i == 2 ? len : strlen(argv[i]);
	if (command(r, e->expires > LLONG_MAX / 1000 ? 3 : 5, argv, argvlen,
	            &rep, why, why_size) == 0) {
		if (status_is(r, rep, "OK", "put", why, why_size))
			rc = 0;
		freeReplyObject(rep);
	}
	free(v);
	return rc;
}

/* --- The walk --- */

/* The domains SCAN found, in one arena of NUL-terminated names. */
struct names {
	char *arena;
	size_t used, cap;
	size_t *off;
	size_t n, cap_n;
};

static int
names_add(struct names *nm, const char *s, size_t len)
{
	size_t cap;
	void *p;

	if (nm->n == nm->cap_n) {
		cap = nm->cap_n == 0 ? 1024 : nm->cap_n * 2;
		if ((p = realloc(nm->off, cap * sizeof(*nm->off))) == NULL)
			return -1;
		nm->off = p;
		nm->cap_n = cap;
	}
	if (nm->cap - nm->used < len + 1) {
		cap = nm->cap == 0 ? 65536 : nm->cap * 2;
		while (cap - nm->used < len + 1)
			cap *= 2;
		if ((p = realloc(nm->arena, cap)) == NULL)
			return -1;
		nm->arena = p;
		nm->cap = cap;
	}
	memcpy(nm->arena + nm->used, s, len);
	nm->arena[nm->used + len] = '\0';
	nm->off[nm->n++] = nm->used;
	nm->used += len + 1;
	return 0;
}

/* The domains of one SCAN reply's keys: 0, or -1 with why. */
static int
scan_keys(const struct redis_cache *r, const redisReply *keys, struct names *nm,
          char *why, size_t why_size)
{
	const redisReply *k;
	size_t i;

	for (i = 0; i < keys->elements; i++) {
		k = keys->element[i];
		if (k->type != REDIS_REPLY_STRING || k->len <= KEY_PREFIX_LEN ||
		    k->len > KEY_MAX ||
		    memcmp(k->str, KEY_PREFIX, KEY_PREFIX_LEN) != 0 ||
		    memchr(k->str, '\0', k->len) != NULL) {
			pcache_why(why, why_size,
			           "redis %s: walk: a key that is no domain's",
			           r->label);
			return -1;
		}
		if (nm->n >= WALK_MAX_DOMAINS ||
		    nm->used + k->len > WALK_MAX_NAMES) {
			pcache_why(why, why_size,
			           "redis %s: walk: over %d domains or %d MiB "
			           "of names",
			           r->label, WALK_MAX_DOMAINS,
			           WALK_MAX_NAMES / (1024 * 1024));
			return -1;
		}
		if (names_add(nm, k->str + KEY_PREFIX_LEN,
		              k->len - KEY_PREFIX_LEN) == -1) {
			pcache_why(why, why_size, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* Every domain under the prefix, by SCAN (KEYS would stall Redis). */
static int
scan_all(struct redis_cache *r, struct names *nm, char *why, size_t why_size)
{
	char cursor[32] = "0";
	const char *argv[] = {"SCAN",      cursor,  "MATCH",
	                      KEY_PATTERN, "COUNT", "1000"};
	const redisReply *cur, *keys;
	redisReply *rep;
	int rc;

	do {
		if (command(r, 6, argv, NULL, &rep, why, why_size) == -1)
			return -1;
		rc = -1;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    (cur = rep->element[0])->type != REDIS_REPLY_STRING ||
		    cur->len == 0 || cur->len >= sizeof(cursor) ||
		    (keys = rep->element[1])->type != REDIS_REPLY_ARRAY)
			pcache_why(
			    why, why_size,
			    "redis %s: walk: an unexpected reply to SCAN",
			    r->label);
		else if (scan_keys(r, keys, nm, why, why_size) == 0) {
			memcpy(cursor, cur->str, cur->len);
			cursor[cur->len] = '\0';
			rc = 0;
		}
		freeReplyObject(rep);
		if (rc == -1)
			return -1;
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: octet order (C11 7.24.4). */
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names sorted, each once (SCAN may return a key twice), or NULL. */
static char **
sorted_names(const struct names *nm, size_t *count)
{
	char **v;
	size_t i, n = 0;

	if ((v = malloc((nm->n == 0 ? 1 : nm->n) * sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < nm->n; i++)
		v[i] = nm->arena + nm->off[i];
	qsort(v, nm->n, sizeof(*v), cmp_names);
	for (i = 0; i < nm->n; i++)
		if (n == 0 || strcmp(v[n - 1], v[i]) != 0)
			v[n++] = v[i];
	*count = n;
	return v;
}

/*
 * Reads the entries of d[n] (n <= WALK_BATCH) in one round trip and
 * calls fn for each still there: 0, fn's non-zero return, or -1.
 */
static int
walk_batch(struct redis_cache *r, char *const *d, size_t n, pcache_walk_fn fn,
           void *ctx, char *why, size_t why_size)
{
	redisReply *rep[WALK_BATCH * READ_REPLIES];
	struct pcache_entry e;
	char key[KEY_MAX + 1];
	size_t i;
	int rc = 0, got;

	if (ready(r, why, why_size) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		make_key(key, d[i]);
		if (append_read(r->ctx, key) == -1) {
			drop(r, "out of memory");
			pcache_why(why, why_size, "out of memory");
			return -1;
		}
	}
	if (exchange(r, rep, n * READ_REPLIES, why, why_size) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		/* 0: deleted or expired since the SCAN. */
		got = read_entry(r, d[i], rep + i * READ_REPLIES, &e, why,
		                 why_size);
		if (got == -1)
			rc = -1;
		else if (got == 1) {
			rc = fn(&e, ctx);
			pcache_entry_reset(&e);
		}
	}
	free_replies(rep, n * READ_REPLIES);
	return rc;
}

static int
red_walk(struct pcache *c, pcache_walk_fn fn, void *ctx, char *why,
         size_t why_size)
{
	struct redis_cache *r = red(c);
	struct names nm = {0};
	char **d = NULL;
	size_t i, n = 0;
	int rc = -1;

	if (ready(r, why, why_size) == -1 ||
	    scan_all(r, &nm, why, why_size) == -1)
		goto out;
	if ((d = sorted_names(&nm, &n)) == NULL) {
		pcache_why(why, why_size, "out of memory");
		goto out;
	}
	rc = 0;
	for (i = 0; i < n && rc == 0; i += WALK_BATCH)
		rc = walk_batch(r, d + i,
		                n - i < WALK_BATCH ? n - i : WALK_BATCH, fn,
		                ctx, why, why_size);
out:
	free(d);
	free(nm.off);
	free(nm.arena);
	return rc;
}

/* Redis expires the keys itself (EXAT): nothing to do, nothing read. */
static int
red_purge_expired(struct pcache *c, int64_t now, size_t *count, char *why,
                  size_t why_size)
{
	(void)c;
	(void)now;
	(void)why;
	(void)why_size;
	if (count != NULL)
		*count = 0;
	return 0;
}

/* --- Open and close --- */

static void
red_close(struct pcache *c)
{
	struct redis_cache *r = red(c);

	redisFree(r->ctx);
	free(r);
}

/*
 * Parses the URL and connects: a store that cannot be reached at open
 * is an error (a wrong URL or password shows at start, in `-n`); one
 * lost later is reconnected by the calls.
 */
static int
red_open(const char *url, struct pcache **out, char *why, size_t why_size)
{
	struct redis_cache *r;
	char msg[PCACHE_WHY_SIZE];

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		pcache_why(why, why_size, "out of memory");
		return -1;
	}
	r->base.engine = &pcache_engine_redis;
	if (parse_url(r, url, msg, sizeof(msg)) == -1 ||
	    connect_now(r, msg, sizeof(msg)) == -1) {
		pcache_why(why, why_size, "%s", msg);
		red_close(&r->base);
		return -1;
	}
	*out = &r->base;
	return 0;
}

const struct pcache_engine pcache_engine_redis = {
    .name = "redis",
    .open = red_open,
    .close = red_close,
    .get = red_get,
    .put = red_put,
    .del = red_del,
    .walk = red_walk,
    .purge_expired = red_purge_expired,
};
