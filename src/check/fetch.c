/* SPDX-License-Identifier: ISC */
/*
 * The policy fetch of `mtasts check` (RFC 8461 §3.3): one HTTPS GET of
 * https://mta-sts.<domain>/.well-known/mta-sts.txt from one address, on
 * a non-blocking socket driven by libevent, as a small state machine:
 *
 *   connect -> TLS handshake -> write the request -> read the head
 *           -> read the body -> done
 *
 * One timer bounds the whole exchange (RFC 8461 §3.3 lets senders
 * impose a timeout on the GET); the response bytes go through the pure
 * parser of http_response.c, whose body decoder enforces the size cap
 * while it reads, whatever the framing (a chunked body too).
 *
 * The handshake runs with SSL_VERIFY_NONE and the certificate is judged
 * afterwards, the way a sender judges it (RFC 8461 §3.3: Web PKI, DNS-ID
 * only, whole-label wildcards): chain and name separately, so that the
 * report can name each fault and still say what the server serves.
 *
 * The program must ignore SIGPIPE (as `mtasts serve` does): OpenSSL
 * writes to the socket with write(2).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fetch.h"
#include "http_response.h"
#include "pkix.h"
#include "text.h"

#include "internal.h"

#define POLICY_PATH      "/.well-known/mta-sts.txt"
#define DOMAIN_MAX       253   /* RFC 1035 §2.3.4, without the root dot */
#define HEAD_MAX         16384 /* all response heads together */
#define READ_SIZE        HEAD_MAX
#define BODY_FIRST       16384 /* the body buffer grows from this size */
#define DEFAULT_TIMEOUT  10000 /* ms; RFC 8461 §3.3 suggests one minute */
#define DEFAULT_MAX_BODY 65536 /* RFC 8461 §3.3: 64 kilobytes suggested */
#define DEFAULT_PORT     443
#define HOST_SIZE        (8 + DOMAIN_MAX + 1)

enum state { S_CONNECT, S_HANDSHAKE, S_WRITE, S_HEAD, S_BODY, S_END };

/* What one SSL_read() gave. */
enum rd {
	RD_DATA,  /* *n > 0 octets */
	RD_CLOSE, /* the server closed; f->clean_close says how */
	RD_WAIT,  /* the event is armed */
	RD_FAIL   /* the result says why; state is S_END */
};

struct fetch {
	struct event_base *base;
	SSL *ssl;
	int fd;
	struct event *io;    /* the socket; re-armed for each wait */
	struct event *timer; /* the deadline of the whole exchange */
	enum state state;
	bool tls_broken;  /* a fatal TLS error: no close_notify */
	bool clean_close; /* the server's close came with close_notify */
	unsigned timeout_ms;
	unsigned port;
	size_t max_body;
	char host[HOST_SIZE]; /* mta-sts.<domain> */
	char req[HOST_SIZE + 128];
	size_t req_len;
	char *in; /* READ_SIZE: the head, then raw body octets */
	size_t in_len;
	struct http_response res; /* borrows in */
	struct http_body body;
	char *out; /* the decoded body, out_cap + 1 for the NUL */
	size_t out_len, out_cap;
	struct fetch_result *result;
	fetch_cb cb;
	void *arg;
};

static void drive(struct fetch *f);
static void on_io(evutil_socket_t fd, short what, void *arg);
static const char *state_doing(enum state s);

/* ---- small helpers ---- */

/* Ends the exchange with a failure; the first one wins. */
static void MTS_PRINTF(3, 4)
    fail(struct fetch *f, enum fetch_stage stage, const char *fmt, ...)
{
	va_list ap;

	if (f->state == S_END)
		return;
	f->result->stage = stage;
	va_start(ap, fmt);
	vsnprintf(f->result->why, sizeof(f->result->why), fmt, ap);
	va_end(ap);
	f->state = S_END;
}

/*
 * A failed TLS call: the reason OpenSSL queued (an alert, a protocol
 * error), else errno, else the close that came instead.
 */
static void
tls_fail(struct fetch *f, enum fetch_stage stage, int e, int saved_errno,
         const char *what)
{
	unsigned long err = ERR_peek_error();
	const char *reason = err != 0 ? ERR_reason_error_string(err) : NULL;

	f->tls_broken = true;
	if (e == SSL_ERROR_SSL && reason != NULL)
		fail(f, stage, "%s: %s", what, reason);
	else if (e == SSL_ERROR_SYSCALL && saved_errno != 0)
		fail(f, stage, "%s: %s", what, strerror(saved_errno));
	else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
		fail(f, stage, "%s: the server closed the connection", what);
	else
		fail(f, stage, "%s: TLS error %d", what, e);
	ERR_clear_error();
}

/*
 * Waits for the socket; the deadline is the timer's.  When libevent
 * cannot (out of memory), the fetch ends with that said: a wait never
 * armed would leave the callback to the timer, or to nothing.
 */
static void
wait_io(struct fetch *f, short what)
{
	event_del(f->io);
	if (event_assign(f->io, f->base, f->fd, what, on_io, f) != 0 ||
	    event_add(f->io, NULL) != 0)
		fail(f, FETCH_CONNECT,
		     "internal error: cannot wait for the socket (%s)",
		     state_doing(f->state));
}

/* ---- the certificate, judged as a sender judges it (§3.3) ---- */

/* Fills the TLS and certificate part of the result. */
static void
judge_tls(struct fetch *f)
{
	struct fetch_result *r = f->result;
	X509 *leaf;

	snprintf(r->tls_version, sizeof(r->tls_version), "%s",
	         SSL_get_version(f->ssl));
	snprintf(r->cipher, sizeof(r->cipher), "%s",
	         SSL_get_cipher_name(f->ssl));
	if ((leaf = SSL_get0_peer_certificate(f->ssl)) == NULL) {
		r->verify_error = X509_V_ERR_UNSPECIFIED;
		snprintf(r->verify_msg, sizeof(r->verify_msg),
		         "no certificate");
		return;
	}
	r->have_cert = true;
	r->verify_error =
	    pkix_verify(f->ssl, leaf, r->verify_msg, sizeof(r->verify_msg));
	r->name_ok = pkix_name_ok(leaf, f->host);
	r->not_after = pkix_not_after(leaf);
	pkix_dns_ids(leaf, r->subject_names, sizeof(r->subject_names));
	ERR_clear_error();
}

/* ---- the body ---- */

/* Hands the body to the result: NUL-terminated, "" when empty. */
static void
complete(struct fetch *f)
{
	struct fetch_result *r = f->result;

	if (f->out == NULL && (f->out = malloc(1)) == NULL) {
		fail(f, FETCH_HTTP, "out of memory");
		return;
	}
	f->out[f->out_len] = '\0';
	r->body = f->out;
	r->body_len = f->out_len;
	f->out = NULL;
	r->stage = FETCH_DONE;
	f->state = S_END;
}

/*
 * Room for more body: doubles the buffer up to the cap (a declared
 * Content-Length is allocated at once).  False when it is at the cap,
 * where the decoder refuses the next octet by itself.
 */
static bool
grow_body(struct fetch *f)
{
	size_t cap;
	char *p;

	if (f->out_cap == f->max_body)
		return false;
	if (f->out_cap == 0 && f->res.framing == HTTP_FRAMING_LENGTH)
		cap = (size_t)f->res.content_length;
	else if (f->out_cap == 0)
		cap = BODY_FIRST;
	else
		cap =
		    f->out_cap > f->max_body / 2 ? f->max_body : f->out_cap * 2;
	if (cap > f->max_body)
		cap = f->max_body;
	if ((p = realloc(f->out, cap + 1)) == NULL) {
		fail(f, FETCH_HTTP, "out of memory");
		return false;
	}
	f->out = p;
	f->out_cap = cap;
	return true;
}

static void
body_error(struct fetch *f)
{
	if (f->body.error == HTTP_BODY_E_TOO_BIG)
		fail(f, FETCH_TOO_LARGE, "body larger than %zu octets",
		     f->max_body);
	else
		fail(f, FETCH_HTTP, "%s", http_body_strerror(f->body.error));
}

/*
 * Feeds raw octets after the head to the decoder.  It stops at the
 * first octet past the cap (RFC 8461 §3.3: a limit on the size of the
 * response body), so a server cannot make us read more than that.
 */
static void
feed_body(struct fetch *f, const char *p, size_t n)
{
	enum http_body_result br;
	size_t used, made;

	while (n > 0 && f->state != S_END) {
		if (f->out_len == f->out_cap && !grow_body(f) &&
		    f->state == S_END)
			return;
		br = http_body_feed(&f->body, p, n, f->out + f->out_len,
		                    f->out_cap - f->out_len, &used, &made);
		f->out_len += made;
		p += used;
		n -= used;
		if (br == HTTP_BODY_DONE)
			complete(f);
		else if (br == HTTP_BODY_ERROR)
			body_error(f);
		else if (used == 0 && made == 0 && f->out_len == f->out_cap &&
		         f->out_cap == f->max_body)
			/* Not reached: the decoder refuses first. */
			fail(f, FETCH_TOO_LARGE, "body larger than %zu octets",
			     f->max_body);
	}
}

/* ---- the head ---- */

/*
 * Records what the head says: the status (any status ends the fetch as
 * DONE; the checker judges it: only 200 counts, RFC 8461 §3.3), the
 * media type (§3.2: text/plain), the Location of a redirect, which is
 * never followed (§3.3).  Then the body, capped from its first octet: a
 * Content-Length over the cap is refused before any of it is read.
 */
static void
head_done(struct fetch *f)
{
	struct fetch_result *r = f->result;
	const struct http_response *h = &f->res;

	r->status = h->status;
	r->content_type_present = h->ctype != HTTP_CTYPE_ABSENT;
	snprintf(r->content_type, sizeof(r->content_type), "%s",
	         h->content_type);
	snprintf(r->charset, sizeof(r->charset), "%s", h->charset);
	r->chunked = h->chunked;
	/* Any octets the server chose, escaped (text.h). */
	if (h->location != NULL)
		text_escape(r->location, sizeof(r->location), h->location,
		            h->location_len);
	switch (http_body_init(&f->body, h, f->max_body)) {
	case HTTP_BODY_DONE:
		complete(f);
		return;
	case HTTP_BODY_ERROR:
		fail(f, FETCH_TOO_LARGE,
		     "Content-Length %llu is over the limit of %zu octets",
		     (unsigned long long)h->content_length, f->max_body);
		return;
	case HTTP_BODY_MORE:
		break;
	}
	f->state = S_BODY;
	feed_body(f, f->in + h->head_len, f->in_len - h->head_len);
}

/* Parses the head again from its start with the new octets. */
static void
parse_head(struct fetch *f)
{
	enum http_response_error err = HTTP_RESPONSE_E_NONE;

	switch (http_response_head(f->in, f->in_len, HEAD_MAX, &f->res, &err)) {
	case HTTP_RESPONSE_DONE:
		head_done(f);
		break;
	case HTTP_RESPONSE_INCOMPLETE:
		break;
	case HTTP_RESPONSE_ERROR:
		fail(f, FETCH_HTTP, "%s", http_response_strerror(err));
		break;
	}
}

/* ---- the steps ---- */

/*
 * The server closed the TCP connection without close_notify: OpenSSL 3
 * says so with a reason, OpenSSL 1.1 with a bare SYSCALL error.
 */
static bool
eof_without_notify(int e, unsigned long err, int saved_errno)
{
	if (e == SSL_ERROR_SSL)
		return ERR_GET_REASON(err) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING;
	return e == SSL_ERROR_SYSCALL && err == 0 && saved_errno == 0;
}

/*
 * One SSL_read().  A close is clean only with the server's close_notify
 * (SSL_ERROR_ZERO_RETURN): without it a body read until the close could
 * be cut short by anyone on the path (RFC 8446 §6.1).
 */
static enum rd
tls_read(struct fetch *f, char *buf, size_t cap, size_t *n)
{
	int r, e, saved;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_read(f->ssl, buf, (int)cap)) > 0) {
		*n = (size_t)r;
		return RD_DATA;
	}
	saved = errno;
	e = SSL_get_error(f->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		wait_io(f, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
		return RD_WAIT;
	}
	if (e == SSL_ERROR_ZERO_RETURN) {
		f->clean_close = true;
		return RD_CLOSE;
	}
	if (eof_without_notify(e, ERR_peek_error(), saved)) {
		f->tls_broken = true;
		ERR_clear_error();
		return RD_CLOSE;
	}
	tls_fail(f, e == SSL_ERROR_SSL ? FETCH_TLS : FETCH_HTTP, e, saved,
	         "reading the response");
	return RD_FAIL;
}

static bool
step_connect(struct fetch *f)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		fail(f, FETCH_CONNECT, "connect to %s port %u: %s",
		     f->result->address, f->port, strerror(err));
		return true;
	}
	f->state = S_HANDSHAKE;
	return true;
}

/* RFC 8461 §3.3 and §7.1: SNI names the policy host. */
static bool
step_handshake(struct fetch *f)
{
	int r, e, saved;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_connect(f->ssl)) == 1) {
		judge_tls(f);
		f->state = S_WRITE;
		return true;
	}
	saved = errno;
	e = SSL_get_error(f->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		wait_io(f, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
		return false;
	}
	tls_fail(f, FETCH_TLS, e, saved, "TLS handshake");
	return true;
}

/* The request fits one record; SSL_write() sends it whole or not. */
static bool
step_write(struct fetch *f)
{
	int r, e, saved;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_write(f->ssl, f->req, (int)f->req_len)) > 0) {
		f->state = S_HEAD;
		return true;
	}
	saved = errno;
	e = SSL_get_error(f->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		wait_io(f, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
		return false;
	}
	tls_fail(f, e == SSL_ERROR_SSL ? FETCH_TLS : FETCH_HTTP, e, saved,
	         "sending the request");
	return true;
}

static bool
step_head(struct fetch *f)
{
	size_t n = 0;

	switch (tls_read(f, f->in + f->in_len, HEAD_MAX - f->in_len, &n)) {
	case RD_DATA:
		f->in_len += n;
		parse_head(f);
		return true;
	case RD_CLOSE:
		fail(f, FETCH_HTTP, "%s%s",
		     f->in_len == 0 ? "no response: the connection closed" :
		                      "the connection closed in the response "
		                      "head",
		     f->clean_close ? "" : " (no TLS close_notify)");
		return true;
	case RD_WAIT:
		return false;
	case RD_FAIL:
		break;
	}
	return true;
}

/*
 * A body read until the close (RFC 9112 §6.3 item 8) is whole only at a
 * clean TLS close; any other close before the end is a truncation.
 */
static bool
step_body(struct fetch *f)
{
	size_t n = 0;

	switch (tls_read(f, f->in, READ_SIZE, &n)) {
	case RD_DATA:
		feed_body(f, f->in, n);
		return true;
	case RD_CLOSE:
		if (!f->clean_close)
			fail(f, FETCH_HTTP,
			     "truncated: the connection closed without a TLS "
			     "close_notify");
		else if (http_body_eof(&f->body) == HTTP_BODY_DONE)
			complete(f);
		else
			fail(f, FETCH_HTTP, "truncated: %s",
			     http_body_strerror(f->body.error));
		return true;
	case RD_WAIT:
		return false;
	case RD_FAIL:
		break;
	}
	return true;
}

/* One step of the state machine; false when it must wait. */
static bool
step(struct fetch *f)
{
	switch (f->state) {
	case S_CONNECT:
		return step_connect(f);
	case S_HANDSHAKE:
		return step_handshake(f);
	case S_WRITE:
		return step_write(f);
	case S_HEAD:
		return step_head(f);
	case S_BODY:
		return step_body(f);
	case S_END:
		break;
	}
	return false;
}

/* ---- start and end ---- */

static void
fetch_free(struct fetch *f)
{
	if (f->io != NULL)
		event_free(f->io);
	if (f->timer != NULL)
		event_free(f->timer);
	SSL_free(f->ssl);
	if (f->fd != -1)
		evutil_closesocket(f->fd);
	free(f->in);
	free(f->out);
	fetch_result_free(f->result);
	free(f);
}

/*
 * Frees everything, then calls back: the fetch touches nothing after
 * the callback, which may free the event base or start a new fetch.
 */
static void
finish(struct fetch *f)
{
	struct fetch_result *r = f->result;
	fetch_cb cb = f->cb;
	void *arg = f->arg;

	/* One close_notify, no wait, unless TLS itself failed. */
	if (f->ssl != NULL && SSL_is_init_finished(f->ssl) && !f->tls_broken)
		SSL_shutdown(f->ssl);
	ERR_clear_error();
	f->result = NULL;
	fetch_free(f);
	cb(arg, r);
}

static void
drive(struct fetch *f)
{
	while (f->state != S_END && step(f))
		;
	if (f->state == S_END)
		finish(f);
}

static void
on_io(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drive(arg);
}

static const char *
state_doing(enum state s)
{
	switch (s) {
	case S_CONNECT:
		return "connecting";
	case S_HANDSHAKE:
		return "in the TLS handshake";
	case S_WRITE:
		return "sending the request";
	case S_HEAD:
		return "waiting for the response head";
	case S_BODY:
		return "reading the body";
	case S_END:
		break;
	}
	return "done";
}

/* RFC 8461 §3.3: a timeout on the whole GET, connect included. */
static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;

	(void)fd;
	(void)what;
	fail(f, FETCH_TIMEOUT, "no complete response within %u ms (%s)",
	     f->timeout_ms, state_doing(f->state));
	finish(f);
}

/* A failure found in fetch_policy() itself, reported from the loop. */
static void
on_deferred(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg);
}

/*
 * mta-sts.<domain> (RFC 8461 §3.2), lower case, without a final dot.
 * Only characters of host names: the name goes into the request.
 */
static int
policy_host(const char *domain, char *host, size_t size)
{
	size_t n = strlen(domain), i;
	int c;

	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n > DOMAIN_MAX || 8 + n + 1 > size)
		return -1;
	memcpy(host, "mta-sts.", 8);
	for (i = 0; i < n; i++) {
		c = (unsigned char)domain[i];
		if (!mts_is_alnum(c) && c != '-' && c != '.' && c != '_')
			return -1;
		host[8 + i] = (char)mts_lower(c);
	}
	host[8 + n] = '\0';
	return 0;
}

/* A numeric IPv4 or IPv6 address and the port; its canonical text. */
static int
socket_address(const char *address, unsigned port, struct sockaddr_storage *ss,
               socklen_t *len, char *text, size_t size)
{
	const void *addr;

	if (pkix_sockaddr(address, port, ss, len) != 0)
		return -1;
	addr = ss->ss_family == AF_INET ?
	    (const void *)&((struct sockaddr_in *)ss)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)ss)->sin6_addr;
	return inet_ntop(ss->ss_family, addr, text, (socklen_t)size) == NULL ?
	    -1 :
	    0;
}

/*
 * RFC 8461 §3.3: a plain GET, no conditional fields (no HTTP caching:
 * no If-None-Match, no If-Modified-Since), and Connection: close, since
 * the connection serves this one request.
 */
static int
build_request(struct fetch *f)
{
	int n = snprintf(f->req, sizeof(f->req),
	                 "GET " POLICY_PATH " HTTP/1.1\r\n"
	                 "Host: %s\r\n"
	                 "User-Agent: mtasts-check\r\n"
	                 "Accept: text/plain\r\n"
	                 "Connection: close\r\n\r\n",
	                 f->host);

	if (n <= 0 || (size_t)n >= sizeof(f->req))
		return -1;
	f->req_len = (size_t)n;
	return 0;
}

static struct fetch *
fetch_new(struct event_base *base, SSL_CTX *ctx, const char *domain,
          const struct fetch_options *options)
{
	struct fetch *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->fd = -1;
	f->base = base;
	f->timeout_ms = DEFAULT_TIMEOUT;
	f->max_body = DEFAULT_MAX_BODY;
	f->port = DEFAULT_PORT;
	if (options != NULL && options->timeout_ms != 0)
		f->timeout_ms = options->timeout_ms;
	if (options != NULL && options->max_body != 0)
		f->max_body = options->max_body;
	if (options != NULL && options->port != 0)
		f->port = options->port;
	if (f->port > 65535 ||
	    policy_host(domain, f->host, sizeof(f->host)) != 0 ||
	    build_request(f) != 0 ||
	    (f->result = calloc(1, sizeof(*f->result))) == NULL ||
	    (f->in = malloc(READ_SIZE)) == NULL ||
	    (f->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_tlsext_host_name(f->ssl, f->host) != 1 ||
	    (f->io = event_new(base, -1, 0, on_io, f)) == NULL ||
	    (f->timer = evtimer_new(base, on_timeout, f)) == NULL) {
		ERR_clear_error();
		fetch_free(f);
		return NULL;
	}
	/* The certificate is judged after the handshake (judge_tls). */
	SSL_set_verify(f->ssl, SSL_VERIFY_NONE, NULL);
	SSL_set_connect_state(f->ssl);
	f->result->verify_error = X509_V_ERR_UNSPECIFIED;
	snprintf(f->result->verify_msg, sizeof(f->result->verify_msg),
	         "no certificate");
	return f;
}

/*
 * A non-blocking connect; 0 when it is under way, -1 when it failed at
 * once (the result says why).
 */
static int
start_connect(struct fetch *f, const struct sockaddr *sa, socklen_t len)
{
	int one = 1;

	if ((f->fd = socket(sa->sa_family, SOCK_STREAM, 0)) == -1) {
		fail(f, FETCH_CONNECT, "socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * The request follows the client's TLS Finished at once; without
	 * TCP_NODELAY Nagle holds it until the server acknowledges the
	 * Finished, which a server that sends no session ticket delays by
	 * its delayed-ACK timer (40 ms on Linux).
	 */
	setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (evutil_make_socket_nonblocking(f->fd) != 0 ||
	    evutil_make_socket_closeonexec(f->fd) != 0) {
		fail(f, FETCH_CONNECT, "socket options: %s", strerror(errno));
		return -1;
	}
	if (connect(f->fd, sa, len) != 0 && errno != EINPROGRESS &&
	    errno != EINTR) {
		fail(f, FETCH_CONNECT, "connect to %s port %u: %s",
		     f->result->address, f->port, strerror(errno));
		return -1;
	}
	if (SSL_set_fd(f->ssl, f->fd) != 1) {
		ERR_clear_error();
		fail(f, FETCH_CONNECT, "cannot attach TLS to the socket");
		return -1;
	}
	return 0;
}

int
fetch_policy(struct event_base *base, struct ssl_ctx_st *ctx,
             const char *domain, const char *address,
             const struct fetch_options *options, fetch_cb cb, void *arg)
{
	struct timeval zero = {0, 0}, tv;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct fetch *f;

	if (base == NULL || ctx == NULL || domain == NULL || address == NULL ||
	    cb == NULL || (f = fetch_new(base, ctx, domain, options)) == NULL)
		return -1;
	f->cb = cb;
	f->arg = arg;
	if (socket_address(address, f->port, &ss, &sslen, f->result->address,
	                   sizeof(f->result->address)) != 0)
		goto fail;
	tv.tv_sec = f->timeout_ms / 1000;
	tv.tv_usec = (f->timeout_ms % 1000) * 1000;
	if (start_connect(f, (struct sockaddr *)&ss, sslen) == 0 &&
	    evtimer_add(f->timer, &tv) != 0)
		fail(f, FETCH_CONNECT,
		     "internal error: cannot start the timer");
	if (f->state != S_END)
		wait_io(f, EV_WRITE);
	if (f->state != S_END)
		return 0;
	/* The callback never runs inside fetch_policy(): the failure is
	   handed over from the loop, or, when not even that can be had,
	   the fetch was never started. */
	event_del(f->timer);
	if (event_base_once(base, -1, EV_TIMEOUT, on_deferred, f, &zero) != 0)
		goto fail;
	return 0;
fail:
	fetch_free(f);
	return -1;
}

void
fetch_result_free(struct fetch_result *result)
{
	if (result == NULL)
		return;
	free(result->body);
	free(result);
}

/*
 * A client context: TLS 1.2 or later (RFC 8461 §7.2, with RFC 7525),
 * the CA file or the system's store.  Verification is done by hand
 * after the handshake (judge_tls), so the mode is VERIFY_NONE.
 */
struct ssl_ctx_st *
fetch_ctx_new(const char *ca_file)
{
	SSL_CTX *ctx;

	if ((ctx = pkix_ctx_new(ca_file)) != NULL)
		SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

const char *
fetch_stage_name(enum fetch_stage stage)
{
	switch (stage) {
	case FETCH_DONE:
		return "done";
	case FETCH_CONNECT:
		return "connect";
	case FETCH_TLS:
		return "tls";
	case FETCH_HTTP:
		return "http";
	case FETCH_TOO_LARGE:
		return "too_large";
	case FETCH_TIMEOUT:
		return "timeout";
	}
	return "unknown";
}
