/* SPDX-License-Identifier: ISC */
/*
 * The receiver of TLS-RPT reports by HTTPS in the server process
 * (RFC 8460 §3, §5.4): a sender POSTs a report to the rua's https URI,
 * gzip as application/tlsrpt+gzip, plain as application/tlsrpt+json
 * (§6.3, §6.4), and takes any 2xx as delivered.
 *
 * On a report host and its path:
 *
 *   POST, +gzip or +json, body up to max-body  -> read, then stored
 *        201 Created (stored), 200 OK (known before, §5.3),
 *        400 with the reason (not a report; kept in the quarantine),
 *        503 with Retry-After (the store failed: the sender retries,
 *        §5.5)
 *   another method           405, Allow: POST
 *   another Content-Type     415
 *   no length, no chunked    411
 *   a body over max-body     413 (at once by its Content-Length, or as
 *                            soon as the chunks pass it)
 *   the report process down, or `queue` reports already read or stored
 *                            503, Retry-After
 *
 * Nothing is redirected (RFC 8460 leaves redirects of a POST unsaid;
 * RPT-HTTP-6: a sender should not follow them).
 *
 * The store is never touched here: the server process has no file
 * system and a seccomp filter.  The body goes to the report process
 * (reportproc.c) over a socketpair in a ctl.h frame (report_msg.h),
 * written as the socket takes it, never blocking the event loop, and the
 * POST is answered when the reply comes, so policy answers on other
 * connections never wait for the store.  The queue is bounded: at most
 * `queue` reports are read or stored at once, so the memory of bodies is
 * at most queue x max-body.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_int.h"

#define RETRY_AFTER "Retry-After: 60\r\n"
#define REPORT_WAIT 30 /* seconds a report may take to be stored */
#define BODY_START  (64u * 1024)
#define ALLOW_POST  "Allow: POST\r\n"

static const char *const outcome_names[] = {"added", "known", "quarantined",
                                            "failed"};

/* Whether a and b name one host: port, final dot and case ignored. */
static bool
same_host(const char *a, size_t an, const char *b, size_t bn)
{
	const char *colon;
	size_t i;

	if ((colon = memchr(a, ':', an)) != NULL && a[0] != '[')
		an = (size_t)(colon - a);
	if (an > 0 && a[an - 1] == '.')
		an--;
	if (bn > 0 && b[bn - 1] == '.')
		bn--;
	if (an != bn)
		return false;
	for (i = 0; i < an; i++)
		if ((a[i] | 0x20) != (b[i] | 0x20))
			return false;
	return true;
}

/* The path of the target, without its query: the rua's may carry one. */
static bool
is_report_path(const struct set *set, const struct http_request *req)
{
	const char *q = memchr(req->target, '?', req->target_len);
	size_t n = q != NULL ? (size_t)(q - req->target) : req->target_len;

	return n == set->report_path_len &&
	    memcmp(req->target, set->report_path, n) == 0;
}

/* An answer to a POST to the receiver, logged; its status. */
static int
answer(struct conn *c, int status, const char *extra, const char *text,
       const char *what, const char *detail)
{
	respond_text(c, status, extra, text);
	log_info("tlsrpt: POST from %s: %d %s%s%s", c->peer, status, what,
	         detail != NULL ? ": " : "", detail != NULL ? detail : "");
	return status;
}

/* A POST refused before its body is read: answered, then closed. */
static int
refuse(struct conn *c, int status, const char *extra, const char *text)
{
	c->close_after = true;
	c->srv->stats.reports_refused++;
	return answer(c, status, extra, text, "refused", text);
}

static void submit(struct conn *c);

static void
job_free(struct report_job *job)
{
	if (job == NULL)
		return;
	free(job->buf);
	free(job);
}

/* A job for c's body of at most `size` octets (grown when chunked). */
static struct report_job *
job_new(struct conn *c, enum report_kind kind, uint64_t size)
{
	struct report_job *job;
	uint8_t head[REPORT_REQ_HEAD];

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return NULL;
	job->c = c;
	job->id = ++c->srv->report_seq;
	job->kind = kind;
	job->head = report_req_head(job->id, kind, c->peer, 0, head);
	job->cap = job->head + (size_t)size;
	if ((job->buf = malloc(job->cap)) == NULL) {
		free(job);
		return NULL;
	}
	job->len = job->head;
	return job;
}

/* What a POST to the receiver must be, before its body is read. */
static int
admit(struct conn *c, const struct http_request *req)
{
	const struct set *set = c->set;
	struct http_response framing;
	enum http_report_type type;
	struct server *srv = c->srv;
	enum http_body_result br;
	uint64_t size;

	if (req->method != HTTP_METHOD_POST)
		return refuse(c, 405, ALLOW_POST, "POST reports here");
	type = http_report_type(req->content_type, req->content_type_len);
	if (type == HTTP_REPORT_OTHER)
		return refuse(c, 415, "",
		              "Content-Type must be application/tlsrpt+gzip "
		              "or application/tlsrpt+json");
	if (!req->chunked && !req->has_length)
		return refuse(c, 411, "", "Content-Length or chunked required");
	if (req->has_length && req->content_length > set->report_max_body)
		return refuse(c, 413, "", "the report is over the size cap");
	if (srv->report_fd < 0)
		return refuse(c, 503, RETRY_AFTER, "the report store is down");
	if (srv->report_busy >= set->report_queue)
		return refuse(c, 503, RETRY_AFTER, "too many reports at once");
	memset(&framing, 0, sizeof(framing));
	framing.framing =
	    req->chunked ? HTTP_FRAMING_CHUNKED : HTTP_FRAMING_LENGTH;
	framing.has_length = req->has_length;
	framing.content_length = req->content_length;
	framing.chunked = req->chunked;
	if ((br = http_body_init(&c->body, &framing, set->report_max_body)) ==
	    HTTP_BODY_ERROR)
		return refuse(c, 413, "", "the report is over the size cap");
	size = req->chunked ?
	    (set->report_max_body < BODY_START ? set->report_max_body :
	                                         BODY_START) :
	    req->content_length;
	if ((c->job = job_new(c,
	                      type == HTTP_REPORT_GZIP ? REPORT_KIND_GZIP :
	                                                 REPORT_KIND_JSON,
	                      size)) == NULL)
		return refuse(c, 503, RETRY_AFTER, "out of memory");
	srv->report_busy++;
	/* The body is read: the connection may stay open after it. */
	c->close_after = !req->keep_alive;
	conn_deadline_read(c);
	if (br == HTTP_BODY_DONE) {
		submit(c); /* Content-Length: 0, quarantined as empty */
	} else if (req->expect_continue) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		memcpy(c->out_inline, cont, sizeof(cont) - 1);
		c->out = c->out_inline;
		c->out_len = sizeof(cont) - 1;
		c->out_off = 0;
		c->then_body = true;
		c->state = C_WRITE;
	} else {
		c->state = C_BODY;
	}
	return 0;
}

bool
receive_route(struct conn *c, const struct http_request *req, int *status)
{
	const struct set *set = c->set;
	const struct report_host *rh;
	const char *sni;

	if (set->report_path == NULL ||
	    (rh = set_find_report_host(set, req->host, req->host_len)) == NULL)
		return false;
	if (!is_report_path(set, req)) {
		/* A policy host may be a report host too: its policy. */
		if (set_find_host(set, req->host, req->host_len) != NULL)
			return false;
		*status =
		    answer(c, 404, "", http_reason(404), "no such path", NULL);
		return true;
	}
	/* RFC 9110 §15.5.20: a Host other than the name of the TLS SNI. */
	sni = c->ssl != NULL ?
	    SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) :
	    NULL;
	if (sni != NULL &&
	    !same_host(req->host, req->host_len, sni, strlen(sni))) {
		*status = refuse(c, 421, "", http_reason(421));
		return true;
	}
	(void)rh;
	*status = admit(c, req);
	return true;
}

/* The answer to a stored (or not) report; c leaves C_WAIT. */
static void
deliver(struct conn *c, enum report_outcome outcome, const char *detail)
{
	struct server *srv = c->srv;
	char text[REPORT_DETAIL_MAX + 64];
	int status;

	c->job = NULL;
	srv->stats.reports[outcome]++;
	switch (outcome) {
	case REPORT_ADDED:
		snprintf(text, sizeof(text), "stored: %s", detail);
		status = answer(c, 201, "", text, "added", detail);
		break;
	case REPORT_KNOWN:
		snprintf(text, sizeof(text), "already stored: %s", detail);
		status = answer(c, 200, "", text, "known", detail);
		break;
	case REPORT_QUARANTINED:
		snprintf(text, sizeof(text), "not a TLS-RPT report: %s",
		         detail);
		status = answer(c, 400, "", text, "quarantined", detail);
		break;
	case REPORT_FAILED:
	default:
		status = answer(c, 503, RETRY_AFTER,
		                "the report store failed; retry later",
		                outcome_names[REPORT_FAILED], detail);
		break;
	}
	respond_log(c, NULL, 0, "POST", 4, c->set->report_path,
	            c->set->report_path_len, status, c->out_len);
	/* The answer must go out within read-timeout, like a request. */
	conn_deadline_read(c);
	conn_drive(c);
}

/* The report process is gone, or spoke out of turn: 503 to all. */
static void
channel_lost(struct server *srv, const char *why)
{
	struct report_job *job;
	struct conn *c;

	log_warnx("tlsrpt: the channel to the report process: %s", why);
	if (srv->report_ev != NULL)
		event_free(srv->report_ev);
	srv->report_ev = NULL;
	if (srv->report_fd >= 0)
		close(srv->report_fd);
	srv->report_fd = -1;
	srv->report_in_len = 0;
	while ((job = TAILQ_FIRST(&srv->jobs)) != NULL) {
		TAILQ_REMOVE(&srv->jobs, job, entry);
		srv->report_busy--;
		c = job->c;
		job_free(job);
		if (c != NULL)
			deliver(c, REPORT_FAILED, "the report process is gone");
	}
}

/* Writes queued frames as far as the socket takes them. */
static void
report_flush(struct server *srv)
{
	struct report_job *job;
	ssize_t n;

	TAILQ_FOREACH (job, &srv->jobs, entry) {
		while (job->off < job->len) {
			n = send(srv->report_fd, job->buf + job->off,
			         job->len - job->off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				return; /* the next EV_WRITE edge */
			if (n <= 0) {
				channel_lost(srv, strerror(errno));
				return;
			}
			job->off += (size_t)n;
		}
	}
}

/* One reply: for the oldest report, which must be written whole. */
static int
report_reply(struct server *srv, const uint8_t *body, size_t len)
{
	struct report_job *job = TAILQ_FIRST(&srv->jobs);
	struct report_rep rep;
	bool job_answered;
	struct conn *c;

	/*
	 * The analyzer loses TAILQ_REMOVE's write of the head through
	 * tqe_prev when the job removed at the last reply was the only one,
	 * and takes the freed job for the first: a known false positive of
	 * <sys/queue.h> lists.
	 */
	if (report_rep_parse(body, len, &rep) != 0 || job == NULL ||
	    job->off < job->len || /* NOLINT(clang-analyzer-unix.Malloc) */
	    rep.id != job->id)
		return -1;
	TAILQ_REMOVE(&srv->jobs, job, entry);
	srv->report_busy--;
	c = job->c;
	job_answered = job->answered;
	job_free(job);
	if (c != NULL)
		deliver(c, rep.outcome, rep.detail);
	else if (!job_answered)
		srv->stats.reports[rep.outcome]++;
	return 0;
}

/* Reads replies until the socket is empty (the event is edge-triggered). */
static void
report_read(struct server *srv)
{
	struct ctl_frame f;
	enum ctl_result r;
	size_t off;
	ssize_t n;

	while (srv->report_fd >= 0) {
		n = recv(srv->report_fd, srv->report_in + srv->report_in_len,
		         sizeof(srv->report_in) - srv->report_in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			channel_lost(srv, n == 0 ? "closed" : strerror(errno));
			return;
		}
		srv->report_in_len += (size_t)n;
		off = 0;
		while ((r = ctl_frame_decode(srv->report_in + off,
		                             srv->report_in_len - off,
		                             REPORT_REP_MAX, &f)) ==
		       CTL_FRAME) {
			if (report_reply(srv, f.body, f.len) != 0) {
				channel_lost(srv, "a reply out of turn");
				return;
			}
			off += f.size;
			if (srv->report_fd < 0)
				return;
		}
		if (r == CTL_MALFORMED) {
			channel_lost(srv, "a malformed reply");
			return;
		}
		memmove(srv->report_in, srv->report_in + off,
		        srv->report_in_len - off);
		srv->report_in_len -= off;
	}
}

static void
report_event(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	clock_update(srv);
	if ((what & EV_READ) != 0)
		report_read(srv);
	if ((what & EV_WRITE) != 0 && srv->report_fd >= 0)
		report_flush(srv);
}

void
receive_channel(struct server *srv, int fd)
{
	if (srv->report_fd >= 0)
		channel_lost(srv, "replaced by a new report process");
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    (srv->report_ev = event_new(srv->base, fd,
	                                EV_READ | EV_WRITE | EV_ET | EV_PERSIST,
	                                report_event, srv)) == NULL ||
	    event_add(srv->report_ev, NULL) != 0) {
		log_warnx("tlsrpt: cannot watch the report process's channel");
		if (srv->report_ev != NULL)
			event_free(srv->report_ev);
		srv->report_ev = NULL;
		close(fd);
		return;
	}
	srv->report_fd = fd;
	log_debug("tlsrpt: a channel to the report process");
}

/* The body is whole: its frame goes to the report process. */
static void
submit(struct conn *c)
{
	struct server *srv = c->srv;
	struct report_job *job = c->job;
	uint8_t head[REPORT_REQ_HEAD];

	if (srv->report_fd < 0) {
		job_free(job);
		srv->report_busy--;
		deliver(c, REPORT_FAILED, "the report process is gone");
		return;
	}
	report_req_head(job->id, job->kind, c->peer, job->len - job->head,
	                head);
	memcpy(job->buf, head, job->head);
	job->queued = true;
	job->sent = srv->now;
	TAILQ_INSERT_TAIL(&srv->jobs, job, entry);
	c->state = C_WAIT;
	conn_wait_report(c, REPORT_WAIT + 5);
	report_flush(srv);
}

/* Room for more of a chunked body, up to max-body; false when none. */
static bool
job_grow(struct report_job *job, size_t max_body)
{
	size_t cap = job->cap * 2, max = job->head + max_body;
	uint8_t *p;

	if (job->cap >= max)
		return false;
	if (cap > max)
		cap = max;
	if ((p = realloc(job->buf, cap)) == NULL)
		return false;
	job->buf = p;
	job->cap = cap;
	return true;
}

/* A body refused while it is read: the job goes, the client is told. */
static bool
body_refused(struct conn *c, int status, const char *text)
{
	job_free(c->job);
	c->job = NULL;
	c->srv->report_busy--;
	c->in_len = 0;
	refuse(c, status, "", text);
	respond_log(c, NULL, 0, "POST", 4, c->set->report_path,
	            c->set->report_path_len, status, c->out_len);
	return true;
}

bool
receive_body(struct conn *c)
{
	struct report_job *job = c->job;
	size_t used = 0, consumed, produced;
	enum http_body_result r = HTTP_BODY_MORE;

	while (used < c->in_len) {
		if (job->len == job->cap &&
		    !job_grow(job, c->set->report_max_body))
			return body_refused(c, 413,
			                    "the report is over the size cap");
		r = http_body_feed(&c->body, c->in + used, c->in_len - used,
		                   (char *)job->buf + job->len,
		                   job->cap - job->len, &consumed, &produced);
		used += consumed;
		job->len += produced;
		if (r != HTTP_BODY_MORE)
			break;
	}
	/* Bytes after the body are the next request's. */
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	if (r == HTTP_BODY_ERROR)
		return body_refused(c,
		                    c->body.error == HTTP_BODY_E_TOO_BIG ? 413 :
		                                                           400,
		                    http_body_strerror(c->body.error));
	if (r == HTTP_BODY_DONE) {
		submit(c);
		return true;
	}
	return false;
}

void
receive_conn_gone(struct conn *c)
{
	struct report_job *job = c->job;

	c->job = NULL;
	if (job->queued) {
		job->c = NULL; /* stored all the same; the reply is dropped */
		return;
	}
	job_free(job);
	c->srv->report_busy--;
}

void
receive_tick(struct server *srv)
{
	struct report_job *job;
	struct conn *c;

	TAILQ_FOREACH (job, &srv->jobs, entry) {
		if (srv->now - job->sent <= REPORT_WAIT)
			break; /* queued in order: the rest are younger */
		if ((c = job->c) == NULL)
			continue;
		job->c = NULL;
		job->answered = true; /* counted now, not again at its reply */
		deliver(c, REPORT_FAILED, "the store did not answer in time");
	}
}

void
receive_free_all(struct server *srv)
{
	struct report_job *job;

	while ((job = TAILQ_FIRST(&srv->jobs)) != NULL) {
		TAILQ_REMOVE(&srv->jobs, job, entry);
		job_free(job);
	}
	if (srv->report_ev != NULL)
		event_free(srv->report_ev);
	srv->report_ev = NULL;
	if (srv->report_fd >= 0)
		close(srv->report_fd);
	srv->report_fd = -1;
}
