/* SPDX-License-Identifier: ISC */
/*
 * The socketmap connections of the policyd worker: many connections on
 * one libevent loop, each with its own read buffer decoded by
 * socketmap_decode() (socketmap_table(5): strict netstrings, a query
 * capped at 10,000 octets; a protocol error closes that connection and
 * no other), its requests answered strictly in the order they came
 * (Postfix pipelines and reads the replies in order).
 *
 * The hot path is a batch: one read(2) brings many requests; each is
 * parsed, its key sorted (socketmap_key_classify()), and a domain in
 * the resolver's memory is answered at once, its reply appended to the
 * connection's output; the batch ends with one write(2).  No
 * allocation happens there: the slot a lookup would wait in is
 * allocated ahead and kept when the answer comes at once.
 *
 * A lookup that must wait (store, DNS, HTTPS) takes its slot in the
 * connection's queue, and every reply after it waits behind it in the
 * queue, so that order holds while other connections, and other
 * domains, go on.  When a connection closes with lookups waiting, they
 * are cancelled (resolver_cancel()); the resolutions go on and fill the
 * cache.
 *
 * Limits: max_connections (one more is closed at once), an idle
 * timeout, and backpressure: a connection whose unsent output passes
 * OUT_HIGH, or with QUEUE_HIGH lookups waiting, is not read until it
 * falls back under the low marks.
 */
#define _GNU_SOURCE /* accept4(2) */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <idn2.h>

#include "resolve.h"
#include "serve.h"
#include "server.h"
#include "socketmap.h"

/* A read buffer holds a whole query netstring (10000 + 7) and more. */
#define IN_SIZE     16384
#define OUT_HIGH    (256 * 1024) /* stop reading above this unsent */
#define OUT_LOW     (64 * 1024)
#define QUEUE_HIGH  4096 /* stop reading with this many replies queued */
#define QUEUE_LOW   1024
#define REPLY_EXTRA 16 /* "100000:" + "," around a reply */
#define LISTEN_MAX  16
#define DRAIN_SECS  30

enum reply_word { RW_OK, RW_NOTFOUND, RW_TEMP, RW_TIMEOUT, RW_PERM };

struct conn;

/* A reply in its place in the queue: waiting, or made and not yet sent. */
struct slot {
	struct slot *next;
	struct conn *c;
	struct resolve_wait *wait; /* non-NULL while the lookup waits */
	char *wire;                /* the netstring, once made */
	size_t len;
};

struct conn {
	struct pd_server *srv;
	struct conn *prev, *next;
	int fd;
	struct event *rev, *wev;
	bool reading; /* rev is added */
	bool eof;     /* the client closed its side: finish, then close */
	char in[IN_SIZE];
	size_t in_len;
	char *out;
	size_t out_off, out_len, out_cap;
	struct slot *head, *tail; /* replies held back, in order */
	size_t queued;
	struct slot *spare; /* allocated ahead for the next lookup */
};

struct pd_server {
	struct event_base *base;
	struct resolver *resolver;
	struct pd_server_conf conf;
	size_t map_len;
	struct event *lev[LISTEN_MAX];
	int lfd[LISTEN_MAX];
	size_t nlisten;
	struct conn *conns;
	struct pd_server_stats stats;
	bool draining;
	void (*drain_done)(void *);
	void *drain_arg;
	struct event *drain_ev;
};

static void conn_close(struct conn *c);
static void conn_flush(struct conn *c);
static void conn_read_cb(evutil_socket_t fd, short what, void *arg);

/* ---- output ---- */

/* Room for n more octets of output; NULL when memory runs out. */
static char *
out_reserve(struct conn *c, size_t n)
{
	size_t cap;
	char *p;

	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_cap - c->out_len >= n)
		return c->out + c->out_len;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_cap - c->out_len >= n)
			return c->out + c->out_len;
	}
	cap = c->out_cap == 0 ? 4096 : c->out_cap;
	while (cap - c->out_len < n)
		cap *= 2;
	if ((p = realloc(c->out, cap)) == NULL)
		return NULL;
	c->out = p;
	c->out_cap = cap;
	return c->out + c->out_len;
}

static enum reply_word
word_of(const char *data, size_t len)
{
	if (len >= 2 && memcmp(data, "OK", 2) == 0)
		return RW_OK;
	if (len >= 8 && memcmp(data, "NOTFOUND", 8) == 0)
		return RW_NOTFOUND;
	if (len >= 7 && memcmp(data, "TIMEOUT", 7) == 0)
		return RW_TIMEOUT;
	if (len >= 4 && memcmp(data, "PERM", 4) == 0)
		return RW_PERM;
	return RW_TEMP;
}

/*
 * The netstring of reply data[0..len) into dst[0..size): its length, or
 * a TEMP in its place when the reply cannot be framed (over
 * SOCKETMAP_REPLY_MAX): Postfix would refuse it whole.
 */
static size_t
frame(struct pd_server *srv, const char *data, size_t len, char *dst,
      size_t size)
{
	const char *why;
	size_t n;

	if (socketmap_encode(data, len, dst, size, &n, &why) == 0) {
		srv->stats.replies[word_of(data, len)]++;
		return n;
	}
	log_warnx("a reply of %zu octets: %s", len, why);
	if (socketmap_reply_failure(SOCKETMAP_TEMP, "reply too long", dst, size,
	                            &n, &why) != 0)
		return 0;
	srv->stats.replies[RW_TEMP]++;
	return n;
}

/*
 * A reply made now: straight to the output when nothing is held back,
 * else a slot at the end of the queue.  -1 when memory runs out (the
 * connection is closed by the caller).
 */
static int
emit(struct conn *c, const char *data, size_t len)
{
	struct slot *s;
	char *p;
	size_t n;

	if (c->head == NULL) {
		if ((p = out_reserve(c, len + REPLY_EXTRA)) == NULL)
			return -1;
		n = frame(c->srv, data, len, p, len + REPLY_EXTRA);
		c->out_len += n;
		return n != 0 ? 0 : -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->wire = malloc(len + REPLY_EXTRA)) == NULL) {
		free(s);
		return -1;
	}
	s->c = c;
	s->len = frame(c->srv, data, len, s->wire, len + REPLY_EXTRA);
	c->tail->next = s;
	c->tail = s;
	c->queued++;
	return 0;
}

static int
emit_failure(struct conn *c, enum socketmap_failure type, const char *reason)
{
	char buf[SOCKETMAP_REASON_MAX + 16];
	struct socketmap_frame f;
	size_t n;

	if (socketmap_reply_failure(type, reason, buf, sizeof(buf), &n, NULL) !=
	        0 ||
	    socketmap_decode(buf, n, sizeof(buf), &f, NULL) != SOCKETMAP_OK)
		return -1;
	return emit(c, buf + f.off, f.len);
}

/* Moves the replies made at the head of the queue to the output. */
static int
advance(struct conn *c)
{
	struct slot *s;
	char *p;

	while ((s = c->head) != NULL && s->wait == NULL) {
		if ((p = out_reserve(c, s->len)) == NULL)
			return -1;
		memcpy(p, s->wire, s->len);
		c->out_len += s->len;
		c->head = s->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->queued--;
		free(s->wire);
		free(s);
	}
	return 0;
}

/* ---- lookups ---- */

static void
lookup_done(void *arg, const struct resolve_answer *a)
{
	struct slot *s = arg;
	struct conn *c = s->c;

	s->wait = NULL;
	c->srv->stats.waiting--;
	if ((s->wire = malloc(a->reply_len + REPLY_EXTRA)) == NULL) {
		log_warnx("out of memory for a reply; closing a connection");
		conn_close(c);
		return;
	}
	s->len = frame(c->srv, a->reply, a->reply_len, s->wire,
	               a->reply_len + REPLY_EXTRA);
	if (s == c->head) {
		if (advance(c) != 0) {
			conn_close(c);
			return;
		}
		conn_flush(c);
	}
}

/* Looks up a policy domain; the reply is made now or held in order. */
static int
lookup(struct conn *c, const char *domain)
{
	struct pd_server *srv = c->srv;
	struct resolve_answer a;
	struct resolve_wait *wait = NULL;
	struct slot *s;

	if (c->spare == NULL && (c->spare = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s = c->spare;
	switch (
	    resolver_lookup(srv->resolver, domain, lookup_done, s, &a, &wait)) {
	case RESOLVE_DONE:
		return emit(c, a.reply, a.reply_len);
	case RESOLVE_PENDING:
		c->spare = NULL;
		s->c = c;
		s->wait = wait;
		if (c->tail != NULL)
			c->tail->next = s;
		else
			c->head = s;
		c->tail = s;
		c->queued++;
		srv->stats.waiting++;
		return 0;
	case RESOLVE_ERROR:
	default:
		return emit_failure(c, SOCKETMAP_TEMP, "out of memory");
	}
}

/*
 * A non-ASCII key (an SMTPUTF8 domain, RFC 6531): its host converted to
 * A-labels (IDNA2008, RFC 5891, as RFC 8461 §3.2 asks for the policy
 * domain), the brackets and port put back, and sorted again.  False
 * when it does not convert.
 */
static bool
utf8_key(const struct socketmap_key *k, struct socketmap_key *out)
{
	char host[SOCKETMAP_UTF8_MAX + 1], key[MTS_DNAME_MAX + 64];
	char *ascii = NULL;
	int n;

	if (k->host == NULL || k->host_len > SOCKETMAP_UTF8_MAX)
		return false;
	memcpy(host, k->host, k->host_len);
	host[k->host_len] = '\0';
	if (idn2_to_ascii_8z(host, &ascii,
	                     IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK)
		return false;
	n = snprintf(key, sizeof(key), "%s%s%s%s%.*s", k->bracketed ? "[" : "",
	             ascii, k->bracketed ? "]" : "", k->port != NULL ? ":" : "",
	             k->port != NULL ? (int)k->port_len : 0,
	             k->port != NULL ? k->port : "");
	idn2_free(ascii);
	if (n < 0 || (size_t)n >= sizeof(key))
		return false;
	socketmap_key_classify(key, (size_t)n, out);
	return out->kind == SOCKETMAP_KEY_DOMAIN ||
	    out->kind == SOCKETMAP_KEY_NEXTHOP;
}

/* One request payload p[0..len): its reply, made or held in order. */
static int
request(struct conn *c, const char *p, size_t len)
{
	struct pd_server *srv = c->srv;
	struct socketmap_request req;
	struct socketmap_key k, k2;
	const char *why;

	srv->stats.requests++;
	if (socketmap_request_parse(p, len, &req, &why) != 0)
		return emit_failure(c, SOCKETMAP_PERM, why);
	if (srv->conf.map_name != NULL &&
	    (req.name_len != srv->map_len ||
	     memcmp(req.name, srv->conf.map_name, req.name_len) != 0))
		return emit_failure(c, SOCKETMAP_PERM, "unknown map");
	switch (socketmap_key_classify(req.key, req.key_len, &k)) {
	case SOCKETMAP_KEY_DOMAIN:
	case SOCKETMAP_KEY_NEXTHOP:
		return lookup(c, k.domain);
	case SOCKETMAP_KEY_UTF8:
		if (utf8_key(&k, &k2))
			return lookup(c, k2.domain);
		break;
	default:
		break;
	}
	/* RFC 8461 §3.4: no policy for a parent, an address, a non-name. */
	srv->stats.immediate++;
	return emit(c, "NOTFOUND ", 9);
}

/* ---- the connection ---- */

static bool
drained(const struct conn *c)
{
	return c->head == NULL && c->out_off == c->out_len;
}

/* Reads when there is room for more answers, not otherwise. */
static void
read_control(struct conn *c)
{
	struct timeval tv = {c->srv->conf.idle_timeout, 0};
	size_t unsent = c->out_len - c->out_off;
	bool want;

	if (c->eof || c->srv->draining)
		want = false;
	else if (c->reading)
		want = unsent <= OUT_HIGH && c->queued < QUEUE_HIGH;
	else
		want = unsent <= OUT_LOW && c->queued < QUEUE_LOW;
	if (want == c->reading)
		return;
	if (want)
		event_add(c->rev, &tv);
	else {
		event_del(c->rev);
		if (!c->eof && !c->srv->draining)
			c->srv->stats.paused++;
	}
	c->reading = want;
}

/*
 * Writes what is unsent, once: what a batch made goes in one write(2);
 * the rest waits for the socket.  Closes a connection that is done.
 */
static void
conn_flush(struct conn *c)
{
	ssize_t n;

	if (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		         MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			conn_close(c);
			return;
		}
		if (n > 0)
			c->out_off += (size_t)n;
		if (c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
	}
	if (c->out_off < c->out_len)
		event_add(c->wev, NULL);
	else
		event_del(c->wev);
	if ((c->eof || c->srv->draining) && drained(c)) {
		conn_close(c);
		return;
	}
	read_control(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_flush(arg);
}

/* Decodes and answers every whole request in the buffer. */
static int
conn_parse(struct conn *c)
{
	struct socketmap_frame f;
	enum socketmap_decode_result r;
	const char *why;
	size_t off = 0;

	while ((r = socketmap_decode(c->in + off, c->in_len - off,
	                             SOCKETMAP_QUERY_MAX, &f, &why)) ==
	       SOCKETMAP_OK) {
		if (request(c, c->in + off + f.off, f.len) != 0) {
			log_warnx("out of memory; closing a connection");
			return -1;
		}
		off += f.consumed;
	}
	if (r == SOCKETMAP_ERROR) {
		/* The stream cannot be trusted past it: what came before
		   is answered, nothing after is read. */
		c->srv->stats.protocol_errors++;
		log_debug("socketmap protocol error: %s; closing", why);
		c->eof = true;
		c->in_len = 0;
		return 0;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	if ((what & EV_TIMEOUT) != 0) {
		if (drained(c)) {
			c->srv->stats.idle_closed++;
			conn_close(c);
		}
		return;
	}
	n = recv(fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	if (n == 0) {
		c->eof = true; /* answer what was asked, then close */
		conn_flush(c);
		return;
	}
	c->in_len += (size_t)n;
	if (conn_parse(c) != 0) {
		conn_close(c);
		return;
	}
	conn_flush(c);
}

static void
conn_free_queue(struct conn *c)
{
	struct slot *s, *next;

	for (s = c->head; s != NULL; s = next) {
		next = s->next;
		if (s->wait != NULL) {
			resolver_cancel(c->srv->resolver, s->wait);
			c->srv->stats.waiting--;
		}
		free(s->wire);
		free(s);
	}
	c->head = c->tail = NULL;
	free(c->spare);
	c->spare = NULL;
}

static void drain_check(struct pd_server *srv);

static void
conn_close(struct conn *c)
{
	struct pd_server *srv = c->srv;

	conn_free_queue(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	event_free(c->rev);
	event_free(c->wev);
	close(c->fd);
	free(c->out);
	free(c);
	srv->stats.open--;
	if (srv->draining)
		drain_check(srv);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct pd_server *srv = arg;
	struct conn *c;
	int fd;

	(void)what;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return; /* EAGAIN, or a connection reset before accept */
	if (srv->stats.open >= srv->conf.max_connections) {
		srv->stats.refused++;
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->rev =
	    event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev =
	    event_new(srv->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	if (c->rev == NULL || c->wev == NULL) {
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->wev != NULL)
			event_free(c->wev);
		close(fd);
		free(c);
		return;
	}
	if ((c->next = srv->conns) != NULL)
		c->next->prev = c;
	srv->conns = c;
	srv->stats.open++;
	srv->stats.connections++;
	read_control(c);
}

/* ---- the server ---- */

struct pd_server *
pd_server_new(struct event_base *base, struct resolver *resolver,
              const struct pd_server_conf *conf)
{
	struct pd_server *srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->base = base;
	srv->resolver = resolver;
	srv->conf = *conf;
	if (srv->conf.drain_timeout == 0)
		srv->conf.drain_timeout = DRAIN_SECS;
	if (conf->map_name != NULL)
		srv->map_len = strlen(conf->map_name);
	return srv;
}

int
pd_server_listen(struct pd_server *srv, int fd)
{
	struct event *ev;
	int flags;

	if (srv->nlisten == LISTEN_MAX) {
		log_warnx("more than %d listeners", LISTEN_MAX);
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		log_warn("listener %d", fd);
		return -1;
	}
	if ((ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, accept_cb,
	                    srv)) == NULL ||
	    event_add(ev, NULL) != 0) {
		log_warnx("cannot watch listener %d", fd);
		if (ev != NULL)
			event_free(ev);
		return -1;
	}
	srv->lev[srv->nlisten] = ev;
	srv->lfd[srv->nlisten++] = fd;
	return 0;
}

static void
close_listeners(struct pd_server *srv)
{
	size_t i;

	for (i = 0; i < srv->nlisten; i++) {
		event_free(srv->lev[i]);
		close(srv->lfd[i]);
	}
	srv->nlisten = 0;
}

static void
drain_check(struct pd_server *srv)
{
	void (*done)(void *) = srv->drain_done;

	if (srv->conns != NULL || done == NULL)
		return;
	srv->drain_done = NULL;
	done(srv->drain_arg);
}

static void
drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd_server *srv = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	log_info("drain: %zu connections still open after %u s; closing",
	         srv->stats.open, srv->conf.drain_timeout);
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next; /* conn_close() unlinks c only */
		conn_close(c);
	}
	drain_check(srv);
}

void
pd_server_drain(struct pd_server *srv, void (*done)(void *), void *arg)
{
	struct timeval tv = {srv->conf.drain_timeout, 0};
	struct conn *c, *next;

	srv->draining = true;
	srv->drain_done = done;
	srv->drain_arg = arg;
	close_listeners(srv);
	if ((srv->drain_ev = evtimer_new(srv->base, drain_timeout_cb, srv)) !=
	    NULL)
		evtimer_add(srv->drain_ev, &tv);
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		conn_flush(c); /* closes it once it owes nothing */
	}
	drain_check(srv);
}

void
pd_server_free(struct pd_server *srv)
{
	struct conn *c, *next;

	if (srv == NULL)
		return;
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next; /* conn_close() unlinks c only */
		conn_close(c);
	}
	close_listeners(srv);
	if (srv->drain_ev != NULL)
		event_free(srv->drain_ev);
	free(srv);
}

void
pd_server_stats(const struct pd_server *srv, struct pd_server_stats *out)
{
	*out = srv->stats;
}
