/* SPDX-License-Identifier: ISC */
/*
 * The server process of `mtasts serve`: TLS and HTTP on one libevent
 * loop.  It answers exactly what a sender asks (RFC 8461 §3.3):
 *
 *   GET or HEAD https://mta-sts.<domain>/.well-known/mta-sts.txt -> 200
 *
 * with Content-Type text/plain; every other path is 404, every other
 * method on the policy path 405, a Host naming a configured domain other
 * than the TLS SNI 421 (RFC 9110 §15.5.20).
 *
 * Each connection is a small state machine (handshake, read, write,
 * close) over a non-blocking SSL.  Its memory is bounded: a 1 KiB input
 * buffer that grows to at most MAX_HEAD, one response at a time, and
 * OpenSSL's record buffers, released once it has waited for its client
 * through a tick of the clock.  A deadline, not a per-read timeout,
 * bounds how long a request head may take, so a client that trickles one
 * byte at a time (slowloris) is cut off.
 *
 * The per-request path is kept to a read(2), a write(2) and a share of
 * an epoll_wait(2): each connection has one edge-triggered event for
 * both directions, registered once, and no timer; deadlines sit in two
 * queues sorted by time that a once-a-second tick looks at, and record
 * buffers stay allocated while a connection is busy.
 *
 * The configuration set (domains, policies, TLS contexts) is reference
 * counted: a new set from the parent is built whole, then swapped in;
 * connections keep the set they started with until they close.
 */
#define _GNU_SOURCE /* asprintf(3) */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <mtasts/mtasts.h>

#include "http.h"
#include "keyproc.h"
#include "sandbox.h"
#include "serve.h"

#define POLICY_PATH       "/.well-known/mta-sts.txt"
#define MAX_HEAD          8192 /* request line and fields (431 beyond) */
#define MAX_HEADERS       64
#define INLINE_IN         1024
#define INLINE_OUT        1024
#define LOGBUF_SIZE       65536
#define CTL_FRAME_HDR     8
#define ACCEPT_BACKOFF_MS 250 /* between accept(2) attempts after EMFILE */
#define ACCEPT_LOG_EVERY  10  /* seconds between log lines about them */

/* ---- the configuration set ---- */

struct domain {
	char *name; /* policy domain */
	size_t name_len;
	const struct tls_cert *cert; /* borrowed from the set's certs */
	char *head; /* status line and fixed fields of the 200 */
	size_t head_len;
	char *body;
	size_t body_len;
};

struct set {
	unsigned refs;
	uint32_t generation;
	char *cache_control;
	unsigned max_connections, idle_timeout, read_timeout;
	SSL_CTX *ctx; /* presents certs[0]; SNI switches (sni_callback()) */
	struct tls_cert **certs;
	size_t cert_count;
	struct domain *domains;
	size_t domain_count;
	struct domain **table; /* open addressing on the name */
	size_t table_mask;
};

/* ---- counters for the metrics listener ---- */

struct stats {
	uint64_t connections;
	uint64_t handshake_failures;
	uint64_t timeouts;
	uint64_t requests;
	uint64_t by_status[6]; /* 2xx .. 5xx by first digit; [0] other */
	uint64_t reloads;
	uint64_t reload_failures;
	uint64_t refused; /* over max-connections, out of fds or memory */
};

enum conn_state { C_HANDSHAKE, C_READ, C_WRITE, C_CLOSE };

struct server;
struct conn;
TAILQ_HEAD(conn_list, conn);

struct conn {
	TAILQ_ENTRY(conn) entry;
	TAILQ_ENTRY(conn) queue_entry; /* on its deadline queue */
	TAILQ_ENTRY(conn) busy_entry;  /* on srv->busy */
	struct server *srv;
	struct set *set;          /* held reference */
	const struct domain *sni; /* chosen at the handshake */
	int fd;
	SSL *ssl; /* NULL on the metrics listener */
	bool metrics;
	struct event *ev; /* edge-triggered, read and write, always added */
	short want;       /* EV_READ or EV_WRITE: what it waits for */
	bool drained;     /* no bytes in the socket since the last read */
	bool busy;        /* on srv->busy: may hold record buffers */
	enum conn_state state;
	struct conn_list *queue; /* srv->read_q or srv->idle_q */
	time_t deadline;         /* closed once the clock is past it */
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	bool close_after;
	bool nodelay; /* TCP_NODELAY set */
	char peer[INET6_ADDRSTRLEN];
	char in_inline[INLINE_IN];
	char out_inline[INLINE_OUT];
};

struct server {
	struct event_base *base;
	struct evconnlistener **listeners;
	size_t listener_count;
	struct evconnlistener *metrics;
	bool paused;         /* the TLS listeners are disabled */
	bool metrics_paused; /* the metrics listener is */
	bool accept_backoff; /* accept(2) failed: wait for accept_ev */
	struct event *accept_ev;
	time_t accept_logged;     /* when an accept failure was last logged */
	uint64_t accept_errors;   /* since then */
	unsigned fit_connections; /* max-connections RLIMIT_NOFILE fits */
	struct set *set;
	struct conn_list conns;
	size_t conn_count;
	/* Deadline queues, each sorted by deadline (conn_deadline()). */
	struct conn_list read_q; /* handshakes and request heads */
	struct conn_list idle_q; /* keep-alive connections between requests */
	struct conn_list busy;   /* TLS connections active since the tick */
	time_t now;              /* the loop's cached clock, in seconds */
	BIO_METHOD *sock_method; /* the BIO under every SSL (sock_read()) */
	struct stats stats;
	int log_fd;
	char *logbuf;
	size_t log_len;
	int ctl_fd;
	struct event *ctl_ev;
	uint8_t *ctl_buf;
	size_t ctl_len, ctl_cap;
	time_t date_sec;
	char date[64]; /* "Date: ...\r\n" of date_sec */
};

static void conn_drive(struct conn *c);
static void conn_event(evutil_socket_t fd, short what, void *arg);
static void conn_free(struct conn *c);

/* ---- sets ---- */

static uint64_t
name_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static const struct domain *
set_lookup(const struct set *set, const char *name, size_t n)
{
	size_t i = (size_t)name_hash(name, n) & set->table_mask;
	const struct domain *d;

	while ((d = set->table[i]) != NULL) {
		if (d->name_len == n && memcmp(d->name, name, n) == 0)
			return d;
		i = (i + 1) & set->table_mask;
	}
	return NULL;
}

static void
set_unref(struct set *set)
{
	size_t i;

	if (set == NULL || --set->refs > 0)
		return;
	for (i = 0; i < set->domain_count; i++) {
		free(set->domains[i].name);
		free(set->domains[i].head);
		free(set->domains[i].body);
	}
	tls_ctx_free(set->ctx);
	for (i = 0; i < set->cert_count; i++)
		tls_cert_free(set->certs[i]);
	free(set->certs);
	free(set->domains);
	free(set->table);
	free(set->cache_control);
	free(set);
}

static int sni_callback(SSL *ssl, int *alert, void *arg);

static int
set_add_domain(struct set *set, struct bundle_domain *bd, size_t k)
{
	struct domain *d = &set->domains[k];
	size_t i;

	d->name = bd->name;
	d->name_len = strlen(bd->name);
	bd->name = NULL;
	d->body = bd->policy;
	d->body_len = bd->policy_len;
	bd->policy = NULL;
	d->cert = set->certs[bd->pair];
	if (asprintf(&d->head,
	             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	             "Content-Length: %zu\r\nCache-Control: %s\r\n",
	             d->body_len, set->cache_control) < 0) {
		d->head = NULL;
		return -1;
	}
	d->head_len = strlen(d->head);
	i = (size_t)name_hash(d->name, d->name_len) & set->table_mask;
	while (set->table[i] != NULL)
		i = (i + 1) & set->table_mask;
	set->table[i] = d;
	return 0;
}

/* Builds a set from a decoded bundle; takes its strings. */
static struct set *
set_new(struct bundle *b)
{
	struct set *set;
	size_t i, size = 16;
	char what[64];

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return NULL;
	set->refs = 1;
	set->generation = b->generation;
	set->cache_control = b->cache_control;
	b->cache_control = NULL;
	set->max_connections = b->max_connections;
	set->idle_timeout = b->idle_timeout;
	set->read_timeout = b->read_timeout;
	while (size < b->domain_count * 2)
		size *= 2;
	set->table_mask = size - 1;
	if ((set->certs = calloc(b->pair_count, sizeof(*set->certs))) == NULL ||
	    (set->domains = calloc(b->domain_count, sizeof(*set->domains))) ==
	        NULL ||
	    (set->table = calloc(size, sizeof(*set->table))) == NULL)
		goto fail;
	for (i = 0; i < b->pair_count; i++, set->cert_count++) {
		snprintf(what, sizeof(what), "certificate %zu", i);
		if ((set->certs[i] = tls_cert_new(&b->pairs[i], b->generation,
		                                  (uint32_t)i, what)) == NULL)
			goto fail;
	}
	if ((set->ctx = tls_ctx_new(set->cert_count > 0 ? set->certs[0] : NULL,
	                            "the TLS context")) == NULL)
		goto fail;
	SSL_CTX_set_tlsext_servername_callback(set->ctx, sni_callback);
	for (i = 0; i < b->domain_count; i++, set->domain_count++)
		if (set_add_domain(set, &b->domains[i], i) != 0)
			goto fail;
	return set;
fail:
	set_unref(set);
	return NULL;
}

/* ---- small helpers ---- */

/* Reads the loop's cached clock (no syscall) into srv->now. */
static void
clock_update(struct server *srv)
{
	struct timeval tv;

	event_base_gettimeofday_cached(srv->base, &tv);
	srv->now = tv.tv_sec;
}

/*
 * Puts c on queue q with a deadline `seconds` from now.  Each queue stays
 * sorted by deadline, so the tick needs to look only at its head.  A new
 * deadline is nearly always the queue's latest and the walk from the tail
 * stops at once; only a reload that shortens a timeout makes it go on.
 */
static void
conn_deadline(struct conn *c, struct conn_list *q, unsigned seconds)
{
	struct conn *p;

	if (c->queue != NULL)
		TAILQ_REMOVE(c->queue, c, queue_entry);
	c->queue = q;
	c->deadline = c->srv->now + (time_t)seconds;
	p = TAILQ_LAST(q, conn_list);
	while (p != NULL && p->deadline > c->deadline)
		p = TAILQ_PREV(p, conn_list, queue_entry);
	if (p == NULL)
		TAILQ_INSERT_HEAD(q, c, queue_entry);
	else
		TAILQ_INSERT_AFTER(q, p, c, queue_entry);
}

/* The Date field (RFC 9110 §6.6.1), formatted once per second. */
static const char *
date_field(struct server *srv)
{
	struct tm tm;

	if (srv->now != srv->date_sec) {
		srv->date_sec = srv->now;
		gmtime_r(&srv->date_sec, &tm);
		strftime(srv->date, sizeof(srv->date),
		         "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	}
	return srv->date;
}

static void
log_flush(struct server *srv)
{
	size_t off = 0;
	ssize_t n;

	while (off < srv->log_len) {
		n = write(srv->log_fd, srv->logbuf + off, srv->log_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a full disk must not stop the server */
		off += (size_t)n;
	}
	srv->log_len = 0;
}

static void
access_log(struct conn *c, const struct http_request *req, int status,
           size_t bytes)
{
	struct server *srv = c->srv;
	char line[768];
	int n;

	if (srv->log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%ld %s %.*s \"%.*s %.*s\" %d %zu\n",
	             (long)srv->date_sec, c->peer,
	             req->host != NULL ? (int)req->host_len : 1,
	             req->host != NULL ? req->host : "-", (int)req->method_len,
	             req->method_name,
	             (int)(req->target_len > 256 ? 256 : req->target_len),
	             req->target, status, bytes);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (srv->log_len + (size_t)n > LOGBUF_SIZE)
		log_flush(srv);
	memcpy(srv->logbuf + srv->log_len, line, (size_t)n);
	srv->log_len += (size_t)n;
}

/* ---- responses ---- */

/* Room for a response of n bytes, inline when it fits. */
static char *
out_reserve(struct conn *c, size_t n)
{
	if (n <= sizeof(c->out_inline)) {
		c->out = c->out_inline;
		return c->out;
	}
	c->out = malloc(n);
	return c->out;
}

static void
out_release(struct conn *c)
{
	if (c->out != NULL && c->out != c->out_inline)
		free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

static void
count_status(struct server *srv, int status)
{
	int k = status / 100;

	srv->stats.requests++;
	srv->stats.by_status[k >= 2 && k <= 5 ? k : 0]++;
}

/* A short error or status answer with a text body. */
static void
respond_status(struct conn *c, int status, const char *extra, bool body)
{
	const char *reason = http_reason(status);
	char *p;
	int n;

	if ((p = out_reserve(c, INLINE_OUT)) == NULL) {
		c->state = C_CLOSE;
		return;
	}
	n = snprintf(p, INLINE_OUT,
	             "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
	             "Content-Length: %zu\r\n%s%s%s\r\n%s%s",
	             status, reason, strlen(reason) + 1, extra,
	             date_field(c->srv),
	             c->close_after ? "Connection: close\r\n" : "",
	             body ? reason : "", body ? "\n" : "");
	c->out_len = n > 0 && n < INLINE_OUT ? (size_t)n : 0;
	c->state = c->out_len > 0 ? C_WRITE : C_CLOSE;
	count_status(c->srv, status);
}

static void
respond_policy(struct conn *c, const struct domain *d, bool body)
{
	const char *date = date_field(c->srv);
	const char *conn = c->close_after ? "Connection: close\r\n" : "";
	size_t dl = strlen(date), cl = strlen(conn);
	size_t n = d->head_len + dl + cl + 2 + (body ? d->body_len : 0);
	char *p;

	if ((p = out_reserve(c, n)) == NULL) {
		c->state = C_CLOSE;
		return;
	}
	memcpy(p, d->head, d->head_len);
	p += d->head_len;
	memcpy(p, date, dl);
	p += dl;
	memcpy(p, conn, cl);
	p += cl;
	memcpy(p, "\r\n", 2);
	p += 2;
	if (body)
		memcpy(p, d->body, d->body_len);
	c->out_len = n;
	c->state = C_WRITE;
	count_status(c->srv, 200);
}

/*
 * The Host field names mta-sts.<domain>: returns the domain, or NULL.
 * The port, a trailing dot and case are ignored.
 */
static const struct domain *
host_domain(const struct set *set, const char *host, size_t n)
{
	char name[MTS_DNAME_MAX + 16];
	const char *colon;
	size_t i;

	if (host == NULL || host[0] == '[')
		return NULL;
	if ((colon = memchr(host, ':', n)) != NULL)
		n = (size_t)(colon - host);
	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n <= 8 || n >= sizeof(name))
		return NULL;
	for (i = 0; i < n; i++)
		name[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ?
		                     host[i] - 'A' + 'a' :
		                     host[i]);
	if (memcmp(name, "mta-sts.", 8) != 0)
		return NULL;
	return set_lookup(set, name + 8, n - 8);
}

static int
route(struct conn *c, const struct http_request *req)
{
	const struct domain *d;
	bool is_policy = req->target_len == sizeof(POLICY_PATH) - 1 &&
	    memcmp(req->target, POLICY_PATH, req->target_len) == 0;

	if ((d = host_domain(c->set, req->host, req->host_len)) == NULL) {
		respond_status(c, 404, "", true);
		return 404;
	}
	if (c->sni != NULL && d != c->sni) {
		respond_status(c, 421, "", true);
		return 421;
	}
	if (!is_policy) {
		respond_status(c, 404, "", true);
		return 404;
	}
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		respond_status(c, 405, "Allow: GET, HEAD\r\n", true);
		return 405;
	}
	respond_policy(c, d, req->method == HTTP_METHOD_GET);
	return 200;
}

static void
respond_metrics(struct conn *c, const struct http_request *req)
{
	const struct stats *s = &c->srv->stats;
	char body[2048], *p;
	int n, m;

	if (req->target_len != 8 || memcmp(req->target, "/metrics", 8) != 0) {
		respond_status(c, 404, "", true);
		return;
	}
	n = snprintf(body, sizeof(body),
	             "# TYPE mtasts_serve_connections_total counter\n"
	             "mtasts_serve_connections_total %llu\n"
	             "# TYPE mtasts_serve_connections_open gauge\n"
	             "mtasts_serve_connections_open %zu\n"
	             "# TYPE mtasts_serve_connections_refused_total counter\n"
	             "mtasts_serve_connections_refused_total %llu\n"
	             "# TYPE mtasts_serve_handshake_failures_total counter\n"
	             "mtasts_serve_handshake_failures_total %llu\n"
	             "# TYPE mtasts_serve_timeouts_total counter\n"
	             "mtasts_serve_timeouts_total %llu\n"
	             "# TYPE mtasts_serve_responses_total counter\n"
	             "mtasts_serve_responses_total{code=\"2xx\"} %llu\n"
	             "mtasts_serve_responses_total{code=\"3xx\"} %llu\n"
	             "mtasts_serve_responses_total{code=\"4xx\"} %llu\n"
	             "mtasts_serve_responses_total{code=\"5xx\"} %llu\n"
	             "# TYPE mtasts_serve_reloads_total counter\n"
	             "mtasts_serve_reloads_total %llu\n"
	             "# TYPE mtasts_serve_reload_failures_total counter\n"
	             "mtasts_serve_reload_failures_total %llu\n"
	             "# TYPE mtasts_serve_domains gauge\n"
	             "mtasts_serve_domains %zu\n"
	             "# TYPE mtasts_serve_generation gauge\n"
	             "mtasts_serve_generation %u\n",
	             (unsigned long long)s->connections, c->srv->conn_count,
	             (unsigned long long)s->refused,
	             (unsigned long long)s->handshake_failures,
	             (unsigned long long)s->timeouts,
	             (unsigned long long)s->by_status[2],
	             (unsigned long long)s->by_status[3],
	             (unsigned long long)s->by_status[4],
	             (unsigned long long)s->by_status[5],
	             (unsigned long long)s->reloads,
	             (unsigned long long)s->reload_failures,
	             c->srv->set->domain_count, c->srv->set->generation);
	if (n <= 0 || (size_t)n >= sizeof(body) ||
	    (p = out_reserve(c, (size_t)n + 256)) == NULL) {
		c->state = C_CLOSE;
		return;
	}
	m = snprintf(
	    p, 256,
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n",
	    n);
	memcpy(p + m, body, (size_t)n);
	c->out_len = (size_t)(m + n);
	c->close_after = true;
	c->state = C_WRITE;
}

/*
 * RFC 9112 §3.2.2: a request with an absolute-form target
 * ("https://mta-sts.example.com/.well-known/mta-sts.txt") names its host
 * in the target, and the Host field is then ignored.
 */
static void
use_absolute_form(struct http_request *req)
{
	const char *t = req->target, *end = t + req->target_len, *slash;
	size_t skip;

	if (req->target_len == 0 || t[0] == '/')
		return; /* origin-form, as nearly every request */
	if (req->target_len >= 8 && strncasecmp(t, "https://", 8) == 0)
		skip = 8;
	else if (req->target_len >= 7 && strncasecmp(t, "http://", 7) == 0)
		skip = 7;
	else
		return;
	t += skip;
	if ((slash = memchr(t, '/', (size_t)(end - t))) == NULL)
		slash = end;
	req->host = t;
	req->host_len = (size_t)(slash - t);
	req->target = slash;
	req->target_len = (size_t)(end - slash);
}

/* Parses what is buffered; on a whole head, prepares the answer. */
static bool
handle_input(struct conn *c)
{
	struct http_request req;
	int status = 0;
	enum http_parse_result r;

	r = http_parse_request(c->in, c->in_len, MAX_HEAD, MAX_HEADERS, &req,
	                       &status);
	if (r == HTTP_PARSE_INCOMPLETE)
		return false;
	if (r == HTTP_PARSE_ERROR) {
		c->close_after = true;
		respond_status(c, status, "", true);
		c->in_len = 0;
		return true;
	}
	/* A request body is never read: answer, then close. */
	c->close_after = !req.keep_alive || req.chunked ||
	    (req.has_length && req.content_length > 0) || c->metrics;
	use_absolute_form(&req);
	if (c->metrics) {
		respond_metrics(c, &req);
		status = 200;
	} else {
		status = route(c, &req);
	}
	access_log(c, &req, status, c->out_len);
	/* Keep pipelined bytes after this head for the next request. */
	memmove(c->in, c->in + req.head_len, c->in_len - req.head_len);
	c->in_len -= req.head_len;
	return true;
}

/* ---- connection I/O ---- */

/*
 * Waits for the socket to become readable or writable.  The event is
 * edge-triggered and stays registered for both directions, so this only
 * notes which edge wakes the connection: no epoll_ctl(2), no timer.  An
 * edge is sent only when new bytes or new room arrive, so the caller
 * must have seen the socket empty (EV_READ: a read came back short or
 * with EAGAIN, as OpenSSL's SSL_ERROR_WANT_READ says) or full (EV_WRITE:
 * a write came back with EAGAIN).
 */
static void
conn_wait(struct conn *c, short what)
{
	c->want = what;
}

/*
 * The socket BIO under each SSL: OpenSSL's BIO_s_socket() but for
 * c->drained, which says whether the last read emptied the socket.  A
 * read(2) that returns less than it asked for, or EAGAIN, has taken all
 * TCP had queued, and whatever comes later raises a new edge.  (A BIO
 * callback on OpenSSL's own BIO could watch its reads, but it runs on
 * every BIO call, and OpenSSL makes several per request.)
 */
static bool
sock_retry(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

static int
sock_read(BIO *b, char *buf, int len)
{
	struct conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = read(c->fd, buf, (size_t)len);
	c->drained = n >= 0 ? n < len : errno == EAGAIN || errno == EWOULDBLOCK;
	if (n == 0)
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
	else if (n < 0 && sock_retry(errno))
		BIO_set_retry_read(b);
	return (int)n;
}

static int
sock_write(BIO *b, const char *buf, int len)
{
	struct conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(c->fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && sock_retry(errno))
		BIO_set_retry_write(b);
	return (int)n;
}

/* What OpenSSL asks of a plain socket BIO; kernel TLS is not offered. */
static long
sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	default:
		return 0;
	}
}

static int
sock_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* The BIO_METHOD of sock_read() and sock_write(); fatal on failure. */
static BIO_METHOD *
sock_method_new(void)
{
	BIO_METHOD *m;

	if ((m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	                      "mtasts socket")) == NULL ||
	    BIO_meth_set_read(m, sock_read) != 1 ||
	    BIO_meth_set_write(m, sock_write) != 1 ||
	    BIO_meth_set_ctrl(m, sock_ctrl) != 1 ||
	    BIO_meth_set_create(m, sock_create) != 1)
		fatalx("cannot make the socket BIO");
	return m;
}

static bool
grow_input(struct conn *c)
{
	char *p;

	if (c->in_cap >= MAX_HEAD)
		return false;
	if ((p = malloc(MAX_HEAD)) == NULL)
		return false;
	memcpy(p, c->in, c->in_len);
	c->in = p;
	c->in_cap = MAX_HEAD;
	return true;
}

/*
 * The first bytes of a request start its deadline: an idle keep-alive
 * connection waits up to idle-timeout, but once a request begins its
 * whole head must arrive within read-timeout.
 */
static void
got_bytes(struct conn *c, size_t n)
{
	if (c->in_len == 0)
		conn_deadline(c, &c->srv->read_q, c->set->read_timeout);
	c->in_len += n;
}

/* Reads what is there; returns an SSL_ERROR_* style outcome. */
static int
conn_read(struct conn *c)
{
	ssize_t n;
	int r;

	if (c->in_len == c->in_cap && !grow_input(c))
		return SSL_ERROR_SSL;
	if (c->ssl == NULL) {
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		c->drained = n < 0 || (size_t)n < c->in_cap - c->in_len;
		if (n > 0) {
			got_bytes(c, (size_t)n);
			return SSL_ERROR_NONE;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return SSL_ERROR_WANT_READ;
		return SSL_ERROR_ZERO_RETURN;
	}
	r = SSL_read(c->ssl, c->in + c->in_len, (int)(c->in_cap - c->in_len));
	if (r > 0) {
		got_bytes(c, (size_t)r);
		return SSL_ERROR_NONE;
	}
	return SSL_get_error(c->ssl, r);
}

static int
conn_write(struct conn *c)
{
	size_t left = c->out_len - c->out_off;
	ssize_t n;
	int r;

	if (c->ssl == NULL) {
		n = send(c->fd, c->out + c->out_off, left, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			return SSL_ERROR_NONE;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return SSL_ERROR_WANT_WRITE;
		return SSL_ERROR_SYSCALL;
	}
	r = SSL_write(c->ssl, c->out + c->out_off, (int)left);
	if (r > 0) {
		c->out_off += (size_t)r;
		return SSL_ERROR_NONE;
	}
	return SSL_get_error(c->ssl, r);
}

/*
 * After an I/O call: go on when it moved, wait for the descriptor when
 * OpenSSL wants I/O, close on anything else.  False when it must wait.
 */
static bool
after_io(struct conn *c, int e)
{
	if (e == SSL_ERROR_NONE)
		return true;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		conn_wait(c, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
		return false;
	}
	c->state = C_CLOSE;
	return true;
}

static bool
step_handshake(struct conn *c)
{
	int r, e;

	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		c->state = C_READ;
		return true;
	}
	e = SSL_get_error(c->ssl, r);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		c->srv->stats.handshake_failures++;
		ERR_clear_error();
	}
	return after_io(c, e);
}

/*
 * A connection that stays open for more requests gets TCP_NODELAY, so
 * that a response is never held back by Nagle behind the previous one's
 * ACK; one that closes after its answer never needs the syscall (as
 * nginx does it).
 */
static void
keepalive_nodelay(struct conn *c)
{
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->nodelay = true;
}

static bool
step_write(struct conn *c)
{
	int e = conn_write(c);

	if (e == SSL_ERROR_NONE && c->out_off == c->out_len) {
		out_release(c);
		c->state = c->close_after ? C_CLOSE : C_READ;
		if (c->state == C_READ && !c->nodelay)
			keepalive_nodelay(c);
		conn_deadline(c, &c->srv->idle_q, c->set->idle_timeout);
		/*
		 * Nothing buffered here, in OpenSSL or in the socket: the
		 * next request has not arrived, so wait for it rather than
		 * spend a read(2) to learn it.
		 */
		if (c->state == C_READ && c->in_len == 0 && c->drained &&
		    (c->ssl == NULL || SSL_has_pending(c->ssl) == 0)) {
			conn_wait(c, EV_READ);
			return false;
		}
	}
	return after_io(c, e);
}

/* One step of the state machine; false when it must wait. */
static bool
conn_step(struct conn *c)
{
	switch (c->state) {
	case C_HANDSHAKE:
		return step_handshake(c);
	case C_READ:
		if (c->in_len > 0 && handle_input(c))
			return true;
		return after_io(c, conn_read(c));
	case C_WRITE:
		return step_write(c);
	case C_CLOSE:
		break;
	}
	return false;
}

/* Counts c among the connections whose record buffers the tick checks. */
static void
mark_busy(struct conn *c)
{
	if (c->busy || c->ssl == NULL)
		return;
	TAILQ_INSERT_TAIL(&c->srv->busy, c, busy_entry);
	c->busy = true;
}

static void
conn_drive(struct conn *c)
{
	mark_busy(c);
	while (c->state != C_CLOSE && conn_step(c))
		;
	if (c->state == C_CLOSE) {
		if (c->ssl != NULL)
			SSL_shutdown(c->ssl); /* one close_notify, no wait */
		ERR_clear_error();
		conn_free(c);
	}
}

static void
conn_event(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	if ((what & EV_READ) != 0)
		c->drained = false;
	clock_update(c->srv);
	if (c->srv->now > c->deadline) {
		c->srv->stats.timeouts++;
		conn_free(c); /* no close_notify to a stalled peer */
		return;
	}
	/*
	 * An edge in the other direction (room to write while waiting for
	 * a request, say) changes nothing for this connection.
	 */
	if ((what & c->want) != 0)
		conn_drive(c);
}

/* Enables or disables l; false when enabling failed. */
static bool
listener_set(struct evconnlistener *l, bool on)
{
	if (!on)
		return evconnlistener_disable(l) == 0;
	return evconnlistener_enable(l) == 0;
}

static void accept_pause(struct server *srv);

/*
 * Accepts on the TLS listeners only under max-connections, and on none
 * while backing off after accept(2) failed (accept_error()).
 */
static void
listeners_update(struct server *srv)
{
	bool on =
	    !srv->accept_backoff && srv->conn_count < srv->set->max_connections;
	bool ok = true;
	size_t i;

	if (srv->paused == on) {
		srv->paused = !on;
		for (i = 0; i < srv->listener_count; i++)
			ok = listener_set(srv->listeners[i], on) && ok;
	}
	on = !srv->accept_backoff;
	if (srv->metrics != NULL && srv->metrics_paused == on) {
		srv->metrics_paused = !on;
		ok = listener_set(srv->metrics, on) && ok;
	}
	if (!ok && !srv->accept_backoff) {
		/* Not deaf for good: try again after the back-off. */
		log_warnx("cannot enable or disable a listener; trying again");
		accept_pause(srv);
	}
}

static void
conn_free(struct conn *c)
{
	struct server *srv = c->srv;

	if (c->ev != NULL)
		event_free(c->ev);
	SSL_free(c->ssl);
	close(c->fd);
	out_release(c);
	if (c->in != c->in_inline)
		free(c->in);
	set_unref(c->set);
	TAILQ_REMOVE(&srv->conns, c, entry);
	if (c->queue != NULL)
		TAILQ_REMOVE(c->queue, c, queue_entry);
	if (c->busy)
		TAILQ_REMOVE(&srv->busy, c, busy_entry);
	srv->conn_count--;
	free(c);
	/* A descriptor is free again: no need to wait for accept_ev. */
	srv->accept_backoff = false;
	if (srv->paused || srv->metrics_paused)
		listeners_update(srv);
}

/*
 * SNI picks the certificate of mta-sts.<domain> (RFC 8461 §3.3: senders
 * send SNI).  Unknown names end the handshake with unrecognized_name; a
 * client without SNI gets the only domain when there is just one.
 */
static int
sni_callback(SSL *ssl, int *alert, void *arg)
{
	struct conn *c = SSL_get_app_data(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct domain *d;

	(void)arg;
	if (c == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	if (name == NULL) {
		if (c->set->domain_count == 1)
			return SSL_TLSEXT_ERR_OK;
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if ((d = host_domain(c->set, name, strlen(name))) == NULL) {
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	c->sni = d;
	if (d->cert != c->set->certs[0] && tls_use_cert(ssl, d->cert) != 0) {
		ERR_clear_error();
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

static void
peer_name(const struct sockaddr *sa, char *buf, size_t size)
{
	const void *addr = sa->sa_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (inet_ntop(sa->sa_family, addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
}

/* The SSL of a TLS connection, over a BIO of sock_method_new(). */
static int
conn_tls(struct conn *c)
{
	BIO *bio;

	if ((c->ssl = SSL_new(c->set->ctx)) == NULL ||
	    (bio = BIO_new(c->srv->sock_method)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	BIO_set_data(bio, c);
	SSL_set_bio(c->ssl, bio, bio); /* one reference for both */
	SSL_set_app_data(c->ssl, c);
	SSL_set_accept_state(c->ssl);
	return 0;
}

/* A new connection on fd, or NULL with fd closed. */
static struct conn *
conn_new(struct server *srv, int fd, const struct sockaddr *sa, bool metrics)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	c->srv = srv;
	c->fd = fd;
	c->metrics = metrics;
	c->set = srv->set;
	c->set->refs++;
	c->in = c->in_inline;
	c->in_cap = sizeof(c->in_inline);
	peer_name(sa, c->peer, sizeof(c->peer));
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->conn_count++;
	conn_deadline(c, &srv->read_q, c->set->read_timeout);
	c->state = metrics ? C_READ : C_HANDSHAKE;
	c->want = EV_READ;
	if (!metrics && conn_tls(c) != 0) {
		conn_free(c);
		return NULL;
	}
	if ((c->ev = event_new(srv->base, fd,
	                       EV_READ | EV_WRITE | EV_ET | EV_PERSIST,
	                       conn_event, c)) == NULL ||
	    event_add(c->ev, NULL) != 0) {
		conn_free(c);
		return NULL;
	}
	return c;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
          int salen, void *arg)
{
	struct server *srv = arg;
	bool metrics = l == srv->metrics;
	struct conn *c;

	(void)salen;
	if (!metrics && srv->conn_count >= srv->set->max_connections) {
		srv->stats.refused++;
		close(fd);
		listeners_update(srv);
		return;
	}
	srv->stats.connections += metrics ? 0 : 1;
	clock_update(srv);
	/* Out of memory, or libevent cannot watch it: closed, counted. */
	if ((c = conn_new(srv, fd, sa, metrics)) == NULL) {
		srv->stats.refused++;
		return;
	}
	conn_drive(c);
}

/*
 * Stops accepting until accept_ev fires or a connection closes.  A
 * timer that cannot be set would leave the listeners off for good, so
 * then they stay on (and a failing accept(2) spins) rather than deaf.
 */
static void
accept_pause(struct server *srv)
{
	static const struct timeval wait = {0, ACCEPT_BACKOFF_MS * 1000};

	if (event_add(srv->accept_ev, &wait) != 0) {
		log_warnx("cannot set the accept timer");
		return;
	}
	srv->accept_backoff = true;
	listeners_update(srv);
}

static void
accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	srv->accept_backoff = false;
	listeners_update(srv);
}

/*
 * accept(2) failed.  For want of a descriptor or of memory (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM) the connection stays queued and the listener
 * readable, and libevent would call accept(2) again at once, for ever:
 * a whole core and a log line each time.  So the listeners rest for
 * ACCEPT_BACKOFF_MS (or until a connection closes and frees a
 * descriptor), the failure is counted as a refused connection, and it
 * is logged once per ACCEPT_LOG_EVERY seconds with the count.
 */
static void
accept_error(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	srv->stats.refused++;
	srv->accept_errors++;
	clock_update(srv);
	if (srv->accept_logged == 0 ||
	    srv->now - srv->accept_logged >= ACCEPT_LOG_EVERY) {
		log_warnx("cannot accept connections: %s (failures: %llu); "
		          "pausing %d ms at a time",
		          evutil_socket_error_to_string(err),
		          (unsigned long long)srv->accept_errors,
		          ACCEPT_BACKOFF_MS);
		srv->accept_logged = srv->now;
		srv->accept_errors = 0;
	}
	accept_pause(srv);
}

/* ---- the control channel: bundles from the parent ---- */

static void
ctl_reply(struct server *srv, const char *msg)
{
	size_t len = strlen(msg);

	if (write(srv->ctl_fd, msg, len) != (ssize_t)len)
		log_warn("control channel");
}

static void
install_bundle(struct server *srv, const uint8_t *buf, size_t len)
{
	struct bundle b;
	struct set *set;

	srv->stats.reloads++;
	if (bundle_decode(buf, len, &b) != 0) {
		srv->stats.reload_failures++;
		log_warnx("malformed configuration set from the parent");
		ctl_reply(srv, "FAIL malformed set\n");
		return;
	}
	set = set_new(&b);
	bundle_free(&b);
	if (set == NULL) {
		srv->stats.reload_failures++;
		ctl_reply(srv, "FAIL cannot build the set; old set kept\n");
		return;
	}
	set_unref(srv->set);
	srv->set = set;
	log_info("serving %zu domains (generation %u)", set->domain_count,
	         set->generation);
	/* The parent fitted its limit (inherited) to the set it started
	   with, and logged what was short; a reload may ask for more. */
	if (set->max_connections > srv->fit_connections) {
		if (srv->fit_connections != 0)
			fd_limit_fit(set->max_connections, true);
		srv->fit_connections = set->max_connections;
	}
	ctl_reply(srv, "OK\n");
	if (srv->listener_count > 0)
		listeners_update(srv);
}

/*
 * Frames: 8-byte big-endian length, then the bundle; an empty frame says
 * the parent refused a reload (for the metrics).
 */
static void
ctl_consume(struct server *srv)
{
	uint64_t need = 0;
	size_t i;

	while (srv->ctl_len >= CTL_FRAME_HDR) {
		for (i = 0; i < CTL_FRAME_HDR; i++)
			need = need << 8 | srv->ctl_buf[i];
		if (need > BUNDLE_MAX)
			fatalx("control frame of %llu bytes",
			       (unsigned long long)need);
		if (srv->ctl_len - CTL_FRAME_HDR < need)
			return;
		if (need == 0) {
			/* The parent refused a reload: only counted here. */
			srv->stats.reloads++;
			srv->stats.reload_failures++;
		} else {
			install_bundle(srv, srv->ctl_buf + CTL_FRAME_HDR, need);
		}
		memmove(srv->ctl_buf, srv->ctl_buf + CTL_FRAME_HDR + need,
		        srv->ctl_len - CTL_FRAME_HDR - need);
		srv->ctl_len -= CTL_FRAME_HDR + need;
		need = 0;
	}
}

static void
ctl_event(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	size_t cap;
	uint8_t *p;
	ssize_t n;

	(void)what;
	if (srv->ctl_len == srv->ctl_cap) {
		/* Doubling, but up to the largest frame exactly: a set near
		   BUNDLE_MAX must still fit. */
		cap = srv->ctl_cap == 0 ? 65536 : srv->ctl_cap * 2;
		if (cap > BUNDLE_MAX + CTL_FRAME_HDR)
			cap = BUNDLE_MAX + CTL_FRAME_HDR;
		if (cap == srv->ctl_cap ||
		    (p = realloc(srv->ctl_buf, cap)) == NULL)
			fatalx("control channel: out of memory");
		srv->ctl_buf = p;
		srv->ctl_cap = cap;
	}
	n = read(fd, srv->ctl_buf + srv->ctl_len, srv->ctl_cap - srv->ctl_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_info("parent gone; stopping");
		event_base_loopexit(srv->base, NULL);
		return;
	}
	srv->ctl_len += (size_t)n;
	ctl_consume(srv);
}

/* ---- the loop ---- */

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	log_info("signal %d; stopping", (int)sig);
	event_base_loopexit(srv->base, NULL);
}

/* Closes the connections of q whose deadline has passed. */
static void
expire(struct server *srv, struct conn_list *q)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(q)) != NULL && srv->now > c->deadline) {
		srv->stats.timeouts++;
		conn_free(c); /* no close_notify to a stalled peer */
	}
}

/*
 * Releases the record buffers of the connections that have run since
 * the last tick and now wait for their client, so an idle connection
 * holds them for a second at most.  One busy all the time gives them up
 * once a second, not twice per request.
 */
static void
release_buffers(struct server *srv)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&srv->busy); c != NULL; c = next) {
		next = TAILQ_NEXT(c, busy_entry);
		if (c->want == EV_READ && tls_release_buffers(c->ssl)) {
			TAILQ_REMOVE(&srv->busy, c, busy_entry);
			c->busy = false;
		}
	}
}

/*
 * Once a second: flushes the access log, enforces the deadlines and
 * releases idle buffers.  Deadlines are whole seconds and a connection
 * may outlive its own by up to a tick.
 */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	clock_update(srv);
	if (srv->log_len > 0)
		log_flush(srv);
	expire(srv, &srv->read_q);
	expire(srv, &srv->idle_q);
	release_buffers(srv);
}

/* Waits for the first set: nothing can be served before it. */
static void
await_first_set(struct server *srv)
{
	while (srv->set == NULL) {
		if (event_base_loop(srv->base, EVLOOP_ONCE) != 0 ||
		    event_base_got_exit(srv->base))
			fatalx("no configuration set from the parent");
	}
}

static struct evconnlistener *
listener_new(struct server *srv, int fd)
{
	struct evconnlistener *l;

	/* accept4() runs in a loop until EAGAIN: it must not block.  The
	   parent made it listen with its backlog; -1 here would listen(2)
	   again with libevent's 128. */
	if (evutil_make_socket_nonblocking(fd) != 0)
		fatal("listener %d: O_NONBLOCK", fd);
	l = evconnlistener_new(srv->base, accept_cb, srv,
	                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
	                       fd);
	if (l == NULL)
		fatalx("cannot listen on descriptor %d", fd);
	evconnlistener_set_error_cb(l, accept_error);
	return l;
}

/* A persistent event, added; fatal (start-up only) when it cannot be. */
static struct event *
event_start(struct server *srv, evutil_socket_t fd, short what,
            event_callback_fn cb, const struct timeval *tv, const char *name)
{
	struct event *ev;

	if ((ev = event_new(srv->base, fd, what, cb, srv)) == NULL ||
	    event_add(ev, tv) != 0)
		fatalx("cannot watch %s", name);
	return ev;
}

int
server_run(const int *fds, size_t nfds, int metrics_fd, int log_fd, int ctl_fd,
           int key_fd)
{
	struct event *sigs[2], *tick;
	struct timeval second = {1, 0};
	struct server srv;
	struct conn *c;
	size_t i;

	memset(&srv, 0, sizeof(srv));
	TAILQ_INIT(&srv.conns);
	TAILQ_INIT(&srv.read_q);
	TAILQ_INIT(&srv.idle_q);
	TAILQ_INIT(&srv.busy);
	srv.log_fd = log_fd;
	srv.ctl_fd = ctl_fd;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN); /* the parent reloads */
	if (key_fd >= 0)
		keyproc_client_init(key_fd);
	if ((srv.base = event_base_new()) == NULL ||
	    (srv.logbuf = malloc(LOGBUF_SIZE)) == NULL)
		fatalx("out of memory");
	srv.sock_method = sock_method_new();
	if (evutil_make_socket_nonblocking(ctl_fd) != 0)
		fatal("control channel: O_NONBLOCK");
	srv.ctl_ev = event_start(&srv, ctl_fd, EV_READ | EV_PERSIST, ctl_event,
	                         NULL, "the control channel");
	sigs[0] = event_start(&srv, SIGTERM, EV_SIGNAL | EV_PERSIST, signal_cb,
	                      NULL, "signal SIGTERM");
	sigs[1] = event_start(&srv, SIGINT, EV_SIGNAL | EV_PERSIST, signal_cb,
	                      NULL, "signal SIGINT");
	if ((srv.accept_ev = evtimer_new(srv.base, accept_resume, &srv)) ==
	    NULL)
		fatalx("cannot make the accept timer");
	await_first_set(&srv);
	if ((srv.listeners = calloc(nfds, sizeof(*srv.listeners))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < nfds; i++)
		srv.listeners[srv.listener_count++] =
		    listener_new(&srv, fds[i]);
	if (metrics_fd >= 0)
		srv.metrics = listener_new(&srv, metrics_fd);
	tick = event_start(&srv, -1, EV_PERSIST, tick_cb, &second, "the clock");
	/* Set up, with a set built (OpenSSL has loaded what it loads):
	   from here on only the system calls of serving. */
	if (sandbox_seccomp() != 0)
		fatalx("cannot enter the sandbox");
	if (event_base_dispatch(srv.base) != 0)
		fatalx("the event loop failed");

	while ((c = TAILQ_FIRST(&srv.conns)) != NULL)
		conn_free(c);
	if (srv.log_len > 0)
		log_flush(&srv);
	for (i = 0; i < srv.listener_count; i++)
		evconnlistener_free(srv.listeners[i]);
	if (srv.metrics != NULL)
		evconnlistener_free(srv.metrics);
	event_free(sigs[0]);
	event_free(sigs[1]);
	event_free(tick);
	event_free(srv.accept_ev);
	event_free(srv.ctl_ev);
	set_unref(srv.set);
	free(srv.listeners);
	free(srv.ctl_buf);
	free(srv.logbuf);
	BIO_meth_free(srv.sock_method);
	event_base_free(srv.base);
	return 0;
}
