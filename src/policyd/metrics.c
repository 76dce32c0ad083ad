/* SPDX-License-Identifier: ISC */
/*
 * The Prometheus listener of the policyd worker: plain HTTP/1.1, GET
 * /metrics answered with the text format (version 0.0.4), one request
 * per connection, as mtasts serve's metrics listener does (names
 * mtasts_policyd_*, counters with _total, labels for classes).  The
 * request head is read with serve's strict parser (src/serve/http.c);
 * a listener for a scraper on loopback, not for the internet: a few
 * connections at a time, each closed after its answer or after 5 s.
 */
#define _GNU_SOURCE /* accept4(2) */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "http.h"
#include "resolve.h"
#include "serve.h"
#include "server.h"

#define HEAD_MAX    4096
#define BODY_MAX    8192
#define CONNS_MAX   8
#define TIMEOUT_SEC 5

struct mconn {
	struct pd_metrics *m;
	struct mconn *next;
	int fd;
	struct event *ev;
	char in[HEAD_MAX];
	size_t len;
};

struct pd_metrics {
	struct event_base *base;
	const struct pd_server *srv;
	const struct resolver *resolver;
	int fd;
	struct event *ev;
	struct mconn *conns;
	size_t count;
};

/* One counter or gauge with its TYPE line; false when out of room. */
#define PUT(...)                                                               \
	do {                                                                   \
		int n_ = snprintf(buf + off, size - off, __VA_ARGS__);         \
		if (n_ < 0 || (size_t)n_ >= size - off)                        \
			return 0;                                              \
		off += (size_t)n_;                                             \
	} while (0)

static size_t
resolver_text(char *buf, size_t size, const struct resolver_stats *rs)
{
	static const char *const kinds[] = {"no_policy", "sts", "dane", "temp"};
	size_t off = 0, i;

	PUT("# TYPE mtasts_policyd_lookups_total counter\n"
	    "mtasts_policyd_lookups_total %llu\n"
	    "# TYPE mtasts_policyd_hits_total counter\n"
	    "mtasts_policyd_hits_total{cache=\"memory\"} %llu\n"
	    "mtasts_policyd_hits_total{cache=\"store\"} %llu\n"
	    "# TYPE mtasts_policyd_coalesced_total counter\n"
	    "mtasts_policyd_coalesced_total %llu\n"
	    "# TYPE mtasts_policyd_resolutions_total counter\n"
	    "mtasts_policyd_resolutions_total %llu\n"
	    "# TYPE mtasts_policyd_fetches_total counter\n"
	    "mtasts_policyd_fetches_total %llu\n"
	    "# TYPE mtasts_policyd_fetch_failures_total counter\n"
	    "mtasts_policyd_fetch_failures_total %llu\n"
	    "# TYPE mtasts_policyd_refreshes_total counter\n"
	    "mtasts_policyd_refreshes_total %llu\n"
	    "# TYPE mtasts_policyd_stale_total counter\n"
	    "mtasts_policyd_stale_total %llu\n"
	    "# TYPE mtasts_policyd_store_errors_total counter\n"
	    "mtasts_policyd_store_errors_total %llu\n"
	    "# TYPE mtasts_policyd_store_down gauge\n"
	    "mtasts_policyd_store_down %d\n"
	    "# TYPE mtasts_policyd_memory_entries gauge\n"
	    "mtasts_policyd_memory_entries %zu\n"
	    "# TYPE mtasts_policyd_in_flight gauge\n"
	    "mtasts_policyd_in_flight %zu\n"
	    "# TYPE mtasts_policyd_failures_total counter\n",
	    (unsigned long long)rs->lookups,
	    (unsigned long long)rs->memory_hits,
	    (unsigned long long)rs->store_hits,
	    (unsigned long long)rs->coalesced,
	    (unsigned long long)rs->resolutions,
	    (unsigned long long)rs->fetches,
	    (unsigned long long)rs->fetch_failures,
	    (unsigned long long)rs->refreshes, (unsigned long long)rs->stale,
	    (unsigned long long)rs->store_errors, rs->store_down ? 1 : 0,
	    rs->memory_entries, rs->in_flight);
	for (i = 1; i < RESOLVE_FAIL_COUNT; i++)
		PUT("mtasts_policyd_failures_total{class=\"%s\"} %llu\n",
		    resolve_failure_name((enum resolve_failure)i),
		    (unsigned long long)rs->failures[i]);
	PUT("# TYPE mtasts_policyd_answers_total counter\n");
	for (i = 0; i < 4; i++)
		PUT("mtasts_policyd_answers_total{kind=\"%s\"} %llu\n",
		    kinds[i], (unsigned long long)rs->answers[i]);
	return off;
}

size_t
pd_metrics_format(char *buf, size_t size, const struct resolver_stats *rs,
                  const struct pd_server_stats *ss)
{
	static const char *const words[] = {"ok", "notfound", "temp", "timeout",
	                                    "perm"};
	size_t off = 0, i, n;

	PUT("# TYPE mtasts_policyd_connections_total counter\n"
	    "mtasts_policyd_connections_total %llu\n"
	    "# TYPE mtasts_policyd_connections_open gauge\n"
	    "mtasts_policyd_connections_open %zu\n"
	    "# TYPE mtasts_policyd_connections_refused_total counter\n"
	    "mtasts_policyd_connections_refused_total %llu\n"
	    "# TYPE mtasts_policyd_protocol_errors_total counter\n"
	    "mtasts_policyd_protocol_errors_total %llu\n"
	    "# TYPE mtasts_policyd_idle_closed_total counter\n"
	    "mtasts_policyd_idle_closed_total %llu\n"
	    "# TYPE mtasts_policyd_paused_total counter\n"
	    "mtasts_policyd_paused_total %llu\n"
	    "# TYPE mtasts_policyd_requests_total counter\n"
	    "mtasts_policyd_requests_total %llu\n"
	    "# TYPE mtasts_policyd_immediate_total counter\n"
	    "mtasts_policyd_immediate_total %llu\n"
	    "# TYPE mtasts_policyd_waiting gauge\n"
	    "mtasts_policyd_waiting %zu\n"
	    "# TYPE mtasts_policyd_replies_total counter\n",
	    (unsigned long long)ss->connections, ss->open,
	    (unsigned long long)ss->refused,
	    (unsigned long long)ss->protocol_errors,
	    (unsigned long long)ss->idle_closed, (unsigned long long)ss->paused,
	    (unsigned long long)ss->requests, (unsigned long long)ss->immediate,
	    ss->waiting);
	for (i = 0; i < 5; i++)
		PUT("mtasts_policyd_replies_total{reply=\"%s\"} %llu\n",
		    words[i], (unsigned long long)ss->replies[i]);
	if (rs != NULL) {
		if ((n = resolver_text(buf + off, size - off, rs)) == 0)
			return 0;
		off += n;
	}
	return off;
}

static void
mconn_close(struct mconn *c)
{
	struct pd_metrics *m = c->m;
	struct mconn **pp;

	for (pp = &m->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	event_free(c->ev);
	close(c->fd);
	free(c);
	m->count--;
}

/* Writes all of a short answer; the socket is fresh, so it fits. */
static void
answer(struct mconn *c, int status, const char *body, size_t len)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
	             "version=0.0.4\r\nContent-Length: %zu\r\n"
	             "Connection: close\r\n\r\n",
	             status, http_reason(status), len);
	if (n > 0 && send(c->fd, head, (size_t)n, MSG_NOSIGNAL) == n && len > 0)
		(void)send(c->fd, body, len, MSG_NOSIGNAL);
}

static void
mconn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mconn *c = arg;
	struct http_request req;
	struct resolver_stats rs;
	struct pd_server_stats ss;
	char body[BODY_MAX];
	ssize_t n;
	size_t len;
	int status;

	if ((what & EV_TIMEOUT) != 0) {
		mconn_close(c);
		return;
	}
	n = recv(fd, c->in + c->len, sizeof(c->in) - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		mconn_close(c);
		return;
	}
	c->len += (size_t)n;
	switch (http_parse_request(c->in, c->len, sizeof(c->in), 32, &req,
	                           &status)) {
	case HTTP_PARSE_INCOMPLETE:
		return;
	case HTTP_PARSE_ERROR:
		answer(c, status, "", 0);
		break;
	case HTTP_PARSE_DONE:
		if (req.method != HTTP_METHOD_GET) {
			answer(c, 405, "", 0);
			break;
		}
		if (req.target_len != 8 ||
		    memcmp(req.target, "/metrics", 8) != 0) {
			answer(c, 404, "", 0);
			break;
		}
		pd_server_stats(c->m->srv, &ss);
		if (c->m->resolver != NULL)
			resolver_stats(c->m->resolver, &rs);
		len =
		    pd_metrics_format(body, sizeof(body),
		                      c->m->resolver != NULL ? &rs : NULL, &ss);
		if (len == 0)
			answer(c, 500, "", 0);
		else
			answer(c, 200, body, len);
		break;
	}
	mconn_close(c);
}

static void
maccept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct timeval tv = {TIMEOUT_SEC, 0};
	struct pd_metrics *m = arg;
	struct mconn *c;
	int fd;

	(void)what;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return;
	if (m->count >= CONNS_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->m = m;
	c->fd = fd;
	if ((c->ev = event_new(m->base, fd, EV_READ | EV_PERSIST, mconn_cb,
	                       c)) == NULL ||
	    event_add(c->ev, &tv) != 0) {
		if (c->ev != NULL)
			event_free(c->ev);
		close(fd);
		free(c);
		return;
	}
	c->next = m->conns;
	m->conns = c;
	m->count++;
}

struct pd_metrics *
pd_metrics_new(struct event_base *base, int fd, const struct pd_server *srv,
               const struct resolver *resolver)
{
	struct pd_metrics *m;
	int flags;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->base = base;
	m->srv = srv;
	m->resolver = resolver;
	m->fd = fd;
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
	    (m->ev = event_new(base, fd, EV_READ | EV_PERSIST, maccept_cb,
	                       m)) == NULL ||
	    event_add(m->ev, NULL) != 0) {
		log_warnx("cannot watch the metrics listener");
		if (m->ev != NULL)
			event_free(m->ev);
		free(m);
		return NULL;
	}
	return m;
}

void
pd_metrics_free(struct pd_metrics *m)
{
	struct mconn *c, *next;

	if (m == NULL)
		return;
	for (c = m->conns; c != NULL; c = next) {
		next = c->next; /* mconn_close() unlinks c only */
		mconn_close(c);
	}
	event_free(m->ev);
	close(m->fd);
	free(m);
}
