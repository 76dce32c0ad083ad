/* SPDX-License-Identifier: ISC */
/*
 * The answers of the server process.  It answers exactly what a sender
 * asks (RFC 8461 §3.3):
 *
 *   GET or HEAD https://mta-sts.<domain>/.well-known/mta-sts.txt -> 200
 *
 * with Content-Type text/plain; every other path is 404, every other
 * method on the policy path 405, a Host naming a configured domain other
 * than the TLS SNI 421 (RFC 9110 §15.5.20).  On an acme-http-listen
 * listener only GET (or HEAD) /.well-known/acme-challenge/TOKEN of a
 * current HTTP-01 challenge is 200 (RFC 8555 §8.3), all else 404.  A request to the report
 * receiver's host and path goes to receive.c (RFC 8460 §5.4).  The
 * metrics listener
 * answers GET /metrics with the counters in the Prometheus text format.
 *
 * A response is written whole into the connection's buffer (inline when
 * it fits): the 200's status line and fixed fields were made with the
 * set, so a request costs a few memcpy()s and the Date field, formatted
 * once a second.  Each answer is a line of the access log, buffered and
 * written once a second (or when the buffer fills).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "server_int.h"

#define POLICY_PATH "/.well-known/mta-sts.txt"
#define ACME_PREFIX "/.well-known/acme-challenge/"

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

void
respond_log_flush(struct server *srv)
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

void
respond_log(struct conn *c, const char *host, size_t host_len,
            const char *method, size_t method_len, const char *target,
            size_t target_len, int status, size_t bytes)
{
	struct server *srv = c->srv;
	char line[768];
	int n;

	if (srv->log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%ld %s %.*s \"%.*s %.*s\" %d %zu\n",
	             (long)srv->date_sec, c->peer,
	             host != NULL ? (int)host_len : 1,
	             host != NULL ? host : "-", (int)method_len, method,
	             (int)(target_len > 256 ? 256 : target_len), target, status,
	             bytes);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (srv->log_len + (size_t)n > LOGBUF_SIZE)
		respond_log_flush(srv);
	memcpy(srv->logbuf + srv->log_len, line, (size_t)n);
	srv->log_len += (size_t)n;
}

static void
access_log(struct conn *c, const struct http_request *req, int status,
           size_t bytes)
{
	respond_log(c, req->host, req->host_len, req->method_name,
	            req->method_len, req->target, req->target_len, status,
	            bytes);
}

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

void
respond_text(struct conn *c, int status, const char *extra, const char *text)
{
	size_t tl = strlen(text), n = tl + strlen(extra) + 256;
	char *p;
	int m;

	if ((p = out_reserve(c, n)) == NULL) {
		c->state = C_CLOSE;
		return;
	}
	m = snprintf(p, n,
	             "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
	             "charset=utf-8\r\nContent-Length: %zu\r\n%s%s%s\r\n%s\n",
	             status, http_reason(status), tl + 1, extra,
	             date_field(c->srv),
	             c->close_after ? "Connection: close\r\n" : "", text);
	c->out_len = m > 0 && (size_t)m < n ? (size_t)m : 0;
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

static int
route(struct conn *c, const struct http_request *req)
{
	const struct domain *d;
	bool is_policy = req->target_len == sizeof(POLICY_PATH) - 1 &&
	    memcmp(req->target, POLICY_PATH, req->target_len) == 0;
	int status;

	if (receive_route(c, req, &status))
		return status;
	if ((d = set_find_host(c->set, req->host, req->host_len)) == NULL) {
		respond_status(c, 404, "", true);
		return 404;
	}
	/* The SNI named a report host, which is no policy host. */
	if ((c->sni != NULL && d != c->sni) || c->sni_report) {
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

/*
 * HTTP-01 (RFC 8555 §8.3): the key authorization as the body, with the
 * Content-Type of RFC 8555 §8.3's example, application/octet-stream.
 * The CA follows no redirect here and sends no other request.
 */
static int
respond_http01(struct conn *c, const struct http_request *req)
{
	const size_t plen = sizeof(ACME_PREFIX) - 1;
	const char *authz = NULL;
	size_t len = 0, n;
	char *p;
	int m;

	if (req->target_len > plen &&
	    memcmp(req->target, ACME_PREFIX, plen) == 0)
		authz = acme_state_http(&c->srv->acme, req->target + plen,
		                        req->target_len - plen, &len);
	if (authz == NULL) {
		respond_status(c, 404, "", true);
		return 404;
	}
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		respond_status(c, 405, "Allow: GET, HEAD\r\n", true);
		return 405;
	}
	n = len + 256;
	if ((p = out_reserve(c, n)) == NULL) {
		c->state = C_CLOSE;
		return 500;
	}
	m = snprintf(p, n,
	             "HTTP/1.1 200 OK\r\nContent-Type: "
	             "application/octet-stream\r\nContent-Length: %zu\r\n"
	             "%s%s\r\n",
	             len, date_field(c->srv),
	             c->close_after ? "Connection: close\r\n" : "");
	if (m <= 0 || (size_t)m + len > n) {
		c->state = C_CLOSE;
		return 500;
	}
	if (req->method == HTTP_METHOD_GET) {
		memcpy(p + m, authz, len);
		m += (int)len;
	}
	c->out_len = (size_t)m;
	c->state = C_WRITE;
	count_status(c->srv, 200);
	c->srv->acme.http_answered++;
	return 200;
}

static void
respond_metrics(struct conn *c, const struct http_request *req)
{
	const struct stats *s = &c->srv->stats;
	char body[4096], *p, *acme;
	size_t acme_len;
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
	             "mtasts_serve_generation %u\n"
	             "# TYPE mtasts_serve_reports_total counter\n"
	             "mtasts_serve_reports_total{outcome=\"added\"} %llu\n"
	             "mtasts_serve_reports_total{outcome=\"known\"} %llu\n"
	             "mtasts_serve_reports_total{outcome=\"quarantined\"} "
	             "%llu\n"
	             "mtasts_serve_reports_total{outcome=\"failed\"} %llu\n"
	             "mtasts_serve_reports_total{outcome=\"refused\"} %llu\n"
	             "# TYPE mtasts_serve_reports_pending gauge\n"
	             "mtasts_serve_reports_pending %u\n",
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
	             c->srv->set->domain_count, c->srv->set->generation,
	             (unsigned long long)s->reports[REPORT_ADDED],
	             (unsigned long long)s->reports[REPORT_KNOWN],
	             (unsigned long long)s->reports[REPORT_QUARANTINED],
	             (unsigned long long)s->reports[REPORT_FAILED],
	             (unsigned long long)s->reports_refused,
	             c->srv->report_busy);
	/* The ACME figures: a line or three per domain, so allocated. */
	acme = acme_state_metrics(&c->srv->acme, &acme_len);
	if (n <= 0 || (size_t)n >= sizeof(body) || acme == NULL ||
	    (p = out_reserve(c, (size_t)n + acme_len + 256)) == NULL) {
		free(acme);
		c->state = C_CLOSE;
		return;
	}
	m = snprintf(
	    p, 256,
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    (size_t)n + acme_len);
	memcpy(p + m, body, (size_t)n);
	memcpy(p + m + n, acme, acme_len);
	free(acme);
	c->out_len = (size_t)m + (size_t)n + acme_len;
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

bool
respond_input(struct conn *c)
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
	} else if (c->http01) {
		status = respond_http01(c, &req);
	} else {
		status = route(c, &req);
	}
	/* A report being read and stored is logged once answered. */
	if (status != 0)
		access_log(c, &req, status, c->out_len);
	/* Keep pipelined bytes after this head for the next request. */
	memmove(c->in, c->in + req.head_len, c->in_len - req.head_len);
	c->in_len -= req.head_len;
	return true;
}
