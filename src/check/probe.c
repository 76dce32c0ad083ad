/* SPDX-License-Identifier: ISC */
/*
 * The MX probe (probe.h): one SMTP session up to the end of the TLS
 * handshake, on a non-blocking socket driven by libevent, opened the
 * way a sending MTA opens it:
 *
 *   connect, the 220 greeting (RFC 5321 §3.1, §4.2), EHLO (§4.1.1.1),
 *   STARTTLS (RFC 3207 §4) and its 220, the TLS handshake with SNI =
 *   the MX host (RFC 8461 §7.1, RFC 7672 §8.1), then QUIT (§4.1.1.10).
 *
 * The handshake runs with SSL_VERIFY_NONE, so that a bad certificate is
 * seen and reported rather than refused; the judgement comes after it,
 * both ways a sender may judge:
 *
 *   - the Web PKI of MTA-STS (RFC 8461 §4.2), as the policy fetch
 *     judges it (pkix.c), the MX host the only reference identifier;
 *   - DANE (RFC 7672 §3) by OpenSSL's own DANE code on the connection
 *     itself: SSL_dane_enable() with the MX host as the TLSA base
 *     domain, the usable TLSA records added, the outcome read from
 *     SSL_get_verify_result(), which with DANE enabled is DANE's.
 *
 * One deadline bounds the whole exchange.  The QUIT after the handshake
 * (or after a refusal the server sent in words) waits at most
 * QUIT_WAIT_MS for the 221 and never changes the result.  The result is
 * handed over by a timer event, so the callback runs from the loop,
 * never from inside probe_mx().
 *
 * TLS writes may raise SIGPIPE on a connection the server closed: the
 * program ignores SIGPIPE, as every network program here does.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pkix.h"
#include "probe.h"
#include "smtp_reply.h"
#include "text.h"

#include "internal.h"

#define DEFAULT_TIMEOUT_MS 30000u
#define DEFAULT_PORT       25u
#define DEFAULT_HELO       "mtasts.invalid"
#define QUIT_WAIT_MS       1000u /* for the 221 after QUIT */
#define HOST_MAX           253   /* a domain name, no final dot */
#define IN_SIZE            4096  /* one read from the server */
#define OUT_SIZE           512   /* a command line (RFC 5321 §4.5.3.1.4) */
#define CHAIN_MAX          16    /* certificates copied into the result */

enum step {
	ST_CONNECT,
	ST_BANNER,
	ST_EHLO,
	ST_STARTTLS,
	ST_HANDSHAKE,
	ST_QUIT, /* the result is known; saying goodbye */
	ST_DONE  /* the result waits for the timer to deliver it */
};

struct probe {
	struct event_base *base;
	struct event *ev;      /* the socket, with the deadline */
	struct event *done_ev; /* hands the result over from the loop */
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	bool tls; /* I/O goes through ssl */
	enum step step;
	struct timeval deadline;
	unsigned timeout_ms;
	char host[HOST_MAX + 1];
	char dane_base[HOST_MAX + 1]; /* SNI when DANE applies */
	char helo[HOST_MAX + 1];
	probe_cb cb;
	void *arg;
	struct probe_result *res;
	char out[OUT_SIZE];
	size_t out_len, out_off;
	char in[IN_SIZE];
	size_t in_len;
	struct smtp_reply reply;
	/* The current step: when it began, the octets read in it (before
	   TLS), to tell a server that trickles from a silent one. */
	struct timeval step_start;
	size_t step_in;
};

static void drive(struct probe *p);
static void fail(struct probe *p, enum probe_stage stage, bool quit,
                 const char *fmt, ...) MTS_PRINTF(4, 5);

/* What each step waits for, for timeout and error messages. */
static const char *
step_what(enum step step)
{
	switch (step) {
	case ST_CONNECT:
		return "connecting";
	case ST_BANNER:
		return "waiting for the greeting";
	case ST_EHLO:
		return "after EHLO";
	case ST_STARTTLS:
		return "after STARTTLS";
	case ST_HANDSHAKE:
		return "in the TLS handshake";
	case ST_QUIT:
	case ST_DONE:
		break;
	}
	return "after QUIT";
}

/*
 * The stage a failure of the connection during `step` is reported as.
 * A reset or a close after the greeting is no refusal (RFC 5321 §3.8:
 * a server refuses in words, with a reply): the host was lost, as an
 * unreachable one is, whatever the command it was answering.
 */
static enum probe_stage
step_stage(enum step step)
{
	switch (step) {
	case ST_CONNECT:
		return PROBE_CONNECT;
	case ST_BANNER:
		return PROBE_BANNER;
	case ST_EHLO:
	case ST_STARTTLS:
		return PROBE_CONNECT;
	case ST_HANDSHAKE:
	case ST_QUIT:
	case ST_DONE:
		break;
	}
	return PROBE_TLS;
}

/* The next step begins: its clock and its count of octets. */
static void
begin_step(struct probe *p, enum step step)
{
	p->step = step;
	p->step_in = 0;
	event_base_gettimeofday_cached(p->base, &p->step_start);
}

/* ---- the end: delivering the result ---- */

static void
probe_free(struct probe *p)
{
	if (p->ev != NULL)
		event_free(p->ev);
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	SSL_free(p->ssl);
	if (p->fd >= 0)
		close(p->fd);
	ERR_clear_error();
	free(p);
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct probe_result *res = p->res;
	probe_cb cb = p->cb;
	void *cb_arg = p->arg;

	(void)fd;
	(void)what;
	/* The callback may free the base or start other probes: this
	   probe is done with the loop before it runs. */
	probe_free(p);
	cb(cb_arg, res);
}

/*
 * Closes the connection and schedules the callback.  The event was made
 * at the start and event_active() cannot fail (evtimer_add() can), so
 * the callback runs exactly once, from the loop, even when this runs
 * inside probe_mx().
 */
static void
deliver(struct probe *p)
{
	p->step = ST_DONE;
	event_del(p->ev);
	SSL_free(p->ssl);
	p->ssl = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	ERR_clear_error();
	event_active(p->done_ev, EV_TIMEOUT, 1);
}

/*
 * Says goodbye (RFC 5321 §4.1.1.10) on a session the server still
 * speaks on: after the handshake, or after a refusal it gave in words
 * (§3.1: after a 554 greeting the server waits for QUIT).  At most
 * QUIT_WAIT_MS, within the deadline; any answer or none will do.
 */
static void
start_quit(struct probe *p)
{
	struct timeval now,
	    wait = {QUIT_WAIT_MS / 1000, (QUIT_WAIT_MS % 1000) * 1000}, end;

	event_base_gettimeofday_cached(p->base, &now);
	timeradd(&now, &wait, &end);
	if (timercmp(&end, &p->deadline, <))
		p->deadline = end;
	memcpy(p->out, "QUIT\r\n", 6);
	p->out_len = 6;
	p->out_off = 0;
	p->in_len = 0;
	smtp_reply_init(&p->reply);
	begin_step(p, ST_QUIT);
}

/*
 * Records a failure at `stage` with a message, then says QUIT when the
 * server is still speaking SMTP (`quit`), or delivers at once.
 */
static void
fail(struct probe *p, enum probe_stage stage, bool quit, const char *fmt, ...)
{
	va_list ap;

	p->res->stage = stage;
	va_start(ap, fmt);
	vsnprintf(p->res->why, sizeof(p->res->why), fmt, ap);
	va_end(ap);
	if (quit)
		start_quit(p);
	else
		deliver(p);
}

/* A refusal the server gave in words: its reply is the why. */
static void
refused(struct probe *p, enum probe_stage stage)
{
	smtp_reply_text(&p->reply, p->res->why, sizeof(p->res->why));
	p->res->stage = stage;
	start_quit(p);
}

/* ---- waiting ---- */

/* The octets the server sent in the current step, TLS records included. */
static size_t
step_octets(const struct probe *p)
{
	BIO *rbio;

	if (p->step == ST_HANDSHAKE && p->ssl != NULL &&
	    (rbio = SSL_get_rbio(p->ssl)) != NULL)
		return (size_t)BIO_number_read(rbio);
	return p->step_in;
}

/*
 * The deadline passed: a server that said nothing in this step is
 * stalled; one that kept sending, too slowly to finish, is said to be
 * so (it passes any idle timeout of a sender, not a total one).
 */
static void
timed_out(struct probe *p, const struct timeval *now)
{
	struct timeval took;
	size_t n = step_octets(p);

	if (n == 0) {
		fail(p, PROBE_TIMEOUT, false, "no progress within %u ms (%s)",
		     p->timeout_ms, step_what(p->step));
		return;
	}
	timersub(now, &p->step_start, &took);
	fail(p, PROBE_TIMEOUT, false,
	     "the MX host sent %zu octet%s in %lld.%03ld s, too slowly to "
	     "finish before the timeout of %u ms (%s)",
	     n, n == 1 ? "" : "s", (long long)took.tv_sec,
	     (long)took.tv_usec / 1000, p->timeout_ms, step_what(p->step));
}

static void
on_event(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct timeval now;

	(void)fd;
	event_base_gettimeofday_cached(p->base, &now);
	/* The deadline, not the event, decides: a server that trickles
	   an octet at a time must not keep the probe alive. */
	if ((what & EV_TIMEOUT) != 0 || timercmp(&now, &p->deadline, >)) {
		if (p->step == ST_QUIT)
			deliver(p);
		else
			timed_out(p, &now);
		return;
	}
	drive(p);
}

/*
 * Waits for the socket to be readable or writable, until the deadline.
 * When libevent cannot (out of memory), the probe ends with that said:
 * a wait never armed would leave the callback never called.
 */
static void
wait_for(struct probe *p, short what)
{
	struct timeval now, left;

	event_base_gettimeofday_cached(p->base, &now);
	timersub(&p->deadline, &now, &left);
	if (left.tv_sec < 0)
		left.tv_sec = left.tv_usec = 0;
	event_del(p->ev);
	if (event_assign(p->ev, p->base, p->fd, what, on_event, p) == 0 &&
	    event_add(p->ev, &left) == 0)
		return;
	if (p->step == ST_QUIT)
		deliver(p); /* the result stands */
	else
		fail(p, step_stage(p->step), false,
		     "internal error: cannot wait for the socket (%s)",
		     step_what(p->step));
}

/* ---- I/O, in the clear or through TLS, as SSL_ERROR_* outcomes ---- */

static int
io_write(struct probe *p)
{
	size_t left = p->out_len - p->out_off;
	ssize_t n;
	int r;

	if (p->tls) {
		if ((r = SSL_write(p->ssl, p->out + p->out_off, (int)left)) >
		    0) {
			p->out_off += (size_t)r;
			return SSL_ERROR_NONE;
		}
		return SSL_get_error(p->ssl, r);
	}
	if ((n = send(p->fd, p->out + p->out_off, left, MSG_NOSIGNAL)) >= 0) {
		p->out_off += (size_t)n;
		return SSL_ERROR_NONE;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return SSL_ERROR_WANT_WRITE;
	return SSL_ERROR_SYSCALL;
}

static int
io_read(struct probe *p)
{
	size_t room = sizeof(p->in) - p->in_len;
	ssize_t n;
	int r;

	if (p->tls) {
		if ((r = SSL_read(p->ssl, p->in + p->in_len, (int)room)) > 0) {
			p->in_len += (size_t)r;
			return SSL_ERROR_NONE;
		}
		return SSL_get_error(p->ssl, r);
	}
	if ((n = recv(p->fd, p->in + p->in_len, room, 0)) > 0) {
		p->in_len += (size_t)n;
		p->step_in += (size_t)n;
		return SSL_ERROR_NONE;
	}
	if (n == 0)
		return SSL_ERROR_ZERO_RETURN;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return SSL_ERROR_WANT_READ;
	return SSL_ERROR_SYSCALL;
}

/* Why an I/O call failed, in words (errno is still that of the call). */
static const char *
io_error(int e, char *buf, size_t size)
{
	unsigned long code;

	if (e == SSL_ERROR_ZERO_RETURN)
		return "the server closed the connection";
	if ((code = ERR_get_error()) != 0) {
		ERR_error_string_n(code, buf, size);
		return buf;
	}
	if (e == SSL_ERROR_SYSCALL && errno != 0)
		return strerror(errno);
	return "the server closed the connection";
}

/* When in the SMTP dialogue the connection went, for messages. */
static const char *
lost_when(const struct probe *p)
{
	switch (p->step) {
	case ST_BANNER:
		return p->step_in == 0 ? "before its greeting" :
					 "in the middle of its greeting";
	case ST_EHLO:
		return p->step_in == 0 ?
		    "after its greeting, in answer to EHLO" :
		    "in the middle of its reply to EHLO";
	case ST_STARTTLS:
		return p->step_in == 0 ?
		    "in answer to STARTTLS" :
		    "in the middle of its reply to STARTTLS";
	case ST_CONNECT:
	case ST_HANDSHAKE:
	case ST_QUIT:
	case ST_DONE:
		break;
	}
	return "";
}

/*
 * The connection failed in the SMTP dialogue (before TLS): said as what
 * happened, a reset, a close or another error, and when.  errno is
 * still that of the failed call.
 */
static void
lost(struct probe *p, int e)
{
	int saved = errno;

	if (e == SSL_ERROR_SYSCALL && saved == ECONNRESET)
		fail(p, step_stage(p->step), false,
		     "the connection was reset by the MX host %s",
		     lost_when(p));
	else if (e == SSL_ERROR_ZERO_RETURN ||
	         (e == SSL_ERROR_SYSCALL && (saved == 0 || saved == EPIPE)))
		fail(p, step_stage(p->step), false,
		     "the MX host closed the connection %s", lost_when(p));
	else
		fail(p, step_stage(p->step), false, "%s: %s",
		     step_what(p->step),
		     e == SSL_ERROR_SYSCALL ? strerror(saved) :
		                              "unexpected I/O error");
}

/*
 * After an I/O call: true to go on, false to wait for the socket.  A
 * failure ends the probe at the stage of the current step; during the
 * QUIT it only ends the goodbye.
 */
static bool
after_io(struct probe *p, int e)
{
	char buf[160];

	switch (e) {
	case SSL_ERROR_NONE:
		return true;
	case SSL_ERROR_WANT_READ:
		wait_for(p, EV_READ);
		return false;
	case SSL_ERROR_WANT_WRITE:
		wait_for(p, EV_WRITE);
		return false;
	}
	if (p->step == ST_QUIT)
		deliver(p);
	else if (p->step == ST_HANDSHAKE)
		fail(p, PROBE_TLS, false, "%s: %s", step_what(p->step),
		     io_error(e, buf, sizeof(buf)));
	else
		lost(p, e);
	return true;
}

/* ---- the certificate judgement ---- */

/*
 * RFC 7672 §3: OpenSSL's DANE verification ran during the handshake
 * (SSL_dane_enable() in probe_mx()); its verdict is the SSL's verify
 * result, the matching record that of SSL_get0_dane_tlsa().
 */
static void
judge_dane(struct probe *p)
{
	struct probe_result *res = p->res;
	uint8_t usage = 0;
	long v;

	if (!res->dane_checked)
		return;
	v = SSL_get_verify_result(p->ssl);
	res->dane_depth = SSL_get0_dane_authority(p->ssl, NULL, NULL);
	if (res->dane_depth >= 0 &&
	    SSL_get0_dane_tlsa(p->ssl, &usage, NULL, NULL, NULL, NULL) >= 0)
		res->dane_usage = usage;
	res->dane_ok = v == X509_V_OK && res->dane_depth >= 0;
	if (!res->dane_ok) {
		snprintf(res->dane_msg, sizeof(res->dane_msg), "%s",
		         v != X509_V_OK ? X509_verify_cert_error_string(v) :
		                          "no TLSA record matched");
		res->dane_usage = res->dane_depth = -1;
	}
}

static void
judge(struct probe *p)
{
	struct probe_result *res = p->res;
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(p->ssl);
	X509 *leaf = SSL_get0_peer_certificate(p->ssl);

	snprintf(res->tls_version, sizeof(res->tls_version), "%s",
	         SSL_get_version(p->ssl));
	snprintf(res->cipher, sizeof(res->cipher), "%s",
	         SSL_get_cipher_name(p->ssl));
	judge_dane(p);
	if (leaf == NULL) {
		/* No certificate at all (an anonymous suite): nothing can
		   be authenticated either way (RFC 7672 §8.2). */
		res->verify_error = X509_V_ERR_UNSPECIFIED;
		snprintf(res->verify_msg, sizeof(res->verify_msg),
		         "no certificate");
		return;
	}
	res->have_cert = true;
	/* RFC 8461 §4.2, with a store context of its own: the SSL's verify
	   result is DANE's once DANE is enabled. */
	res->verify_error =
	    pkix_verify(p->ssl, leaf, res->verify_msg, sizeof(res->verify_msg));
	res->name_ok = pkix_name_ok(leaf, p->host);
	res->not_after = pkix_not_after(leaf);
	pkix_dns_ids(leaf, res->subject_names, sizeof(res->subject_names));
	/* For `mtasts tlsa check`: which record matches what. */
	res->chain_count =
	    pkix_chain_der(chain, CHAIN_MAX, &res->chain_der, &res->chain_len);
	ERR_clear_error(); /* whatever the decoders left */
}

/* ---- the SMTP dialogue ---- */

/* Queues a command line and moves to the step that reads its reply. */
static void
send_command(struct probe *p, enum step next, const char *line)
{
	int n = snprintf(p->out, sizeof(p->out), "%s\r\n", line);

	p->out_len = n > 0 && (size_t)n < sizeof(p->out) ? (size_t)n : 0;
	p->out_off = 0;
	begin_step(p, next);
	smtp_reply_init(&p->reply);
}

/* RFC 5321 §4.2, §3.1: 220 opens the session; 554 (or else) refuses. */
static void
got_banner(struct probe *p)
{
	const struct smtp_reply *r = &p->reply;
	struct probe_result *res = p->res;
	char line[sizeof("EHLO ") + HOST_MAX];
	const char *host;
	size_t len;

	res->banner_code = r->code;
	/* The name a 554 carries may be an enhanced code or the client's:
	   only a 220 names the server (RFC 5321 §4.2, "Greeting"). */
	if (r->code == 220 && (host = smtp_reply_banner_host(r, &len)) != NULL)
		text_escape(res->banner_host, sizeof(res->banner_host), host,
		            len);
	if (r->code != 220) {
		refused(p, PROBE_BANNER);
		return;
	}
	snprintf(line, sizeof(line), "EHLO %s", p->helo);
	send_command(p, ST_EHLO, line);
}

/* RFC 3207 §4: STARTTLS must be among the EHLO keywords. */
static void
got_ehlo(struct probe *p)
{
	const struct smtp_reply *r = &p->reply;

	if (r->code != 250)
		refused(p, PROBE_EHLO);
	else if (!smtp_reply_has_keyword(r, "STARTTLS"))
		fail(p, PROBE_NO_STARTTLS, true,
		     "STARTTLS is not offered in the EHLO reply");
	else
		send_command(p, ST_STARTTLS, "STARTTLS");
}

/*
 * RFC 3207 §4: 220 starts TLS; 454 (or else) refuses it.  Octets after
 * the 220 came before TLS and would be read as if they came through it:
 * §4.2 makes the client discard all it learned in the clear, and a
 * server that sends them is broken or attacked (response injection).
 */
static void
got_starttls(struct probe *p)
{
	if (p->reply.code != 220) {
		refused(p, PROBE_STARTTLS_REFUSED);
		return;
	}
	if (p->in_len > 0) {
		fail(p, PROBE_PROTOCOL, false,
		     "%zu octets after the 220 to STARTTLS, before TLS",
		     p->in_len);
		return;
	}
	if (SSL_set_fd(p->ssl, p->fd) != 1) {
		fail(p, PROBE_TLS, false, "out of memory");
		return;
	}
	SSL_set_connect_state(p->ssl);
	p->tls = true;
	begin_step(p, ST_HANDSHAKE);
}

static void
got_reply(struct probe *p)
{
	switch (p->step) {
	case ST_BANNER:
		got_banner(p);
		break;
	case ST_EHLO:
		got_ehlo(p);
		break;
	case ST_STARTTLS:
		got_starttls(p);
		break;
	case ST_QUIT:
		if (p->tls)
			SSL_shutdown(p->ssl); /* one close_notify, no wait */
		deliver(p);
		break;
	case ST_CONNECT:
	case ST_HANDSHAKE:
	case ST_DONE:
		break;
	}
}

/*
 * One turn of a command and its reply: write what is queued, then feed
 * what was read to the reply parser, reading more while it wants more.
 * Octets after the end of a reply stay buffered for the next one.
 */
static bool
step_exchange(struct probe *p)
{
	enum smtp_reply_result r;
	size_t used;

	if (p->out_off < p->out_len)
		return after_io(p, io_write(p));
	r = smtp_reply_feed(&p->reply, p->in, p->in_len, &used);
	memmove(p->in, p->in + used, p->in_len - used);
	p->in_len -= used;
	if (r == SMTP_REPLY_DONE) {
		got_reply(p);
		return true;
	}
	if (r == SMTP_REPLY_ERROR) {
		if (p->step == ST_QUIT)
			deliver(p);
		else
			fail(p, PROBE_PROTOCOL, false, "%s: %s",
			     step_what(p->step),
			     smtp_reply_strerror(p->reply.error));
		return true;
	}
	return after_io(p, io_read(p));
}

static bool
step_connect(struct probe *p)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		fail(p, PROBE_CONNECT, false, "connect: %s", strerror(err));
		return true;
	}
	begin_step(p, ST_BANNER);
	smtp_reply_init(&p->reply);
	return true;
}

static bool
step_handshake(struct probe *p)
{
	char buf[160];
	int r, e;

	if ((r = SSL_do_handshake(p->ssl)) == 1) {
		judge(p);
		p->res->stage = PROBE_DONE;
		start_quit(p);
		return true;
	}
	e = SSL_get_error(p->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return after_io(p, e);
	fail(p, PROBE_TLS, false, "TLS handshake: %s",
	     io_error(e, buf, sizeof(buf)));
	return true;
}

/* Runs the steps until one must wait or the probe is over. */
static void
drive(struct probe *p)
{
	bool go = true;

	while (go && p->step != ST_DONE) {
		switch (p->step) {
		case ST_CONNECT:
			go = step_connect(p);
			break;
		case ST_HANDSHAKE:
			go = step_handshake(p);
			break;
		case ST_BANNER:
		case ST_EHLO:
		case ST_STARTTLS:
		case ST_QUIT:
			go = step_exchange(p);
			break;
		case ST_DONE:
			break;
		}
	}
}

/* ---- starting ---- */

/*
 * RFC 7672 §3.1.3, §2.2: only the records mts_dane_tlsa_usable() accepts
 * (DANE-TA and DANE-EE; the PKIX usages are unusable for SMTP) go to
 * OpenSSL.  DANE-EE authenticates the key alone: no name checks
 * (§3.1.1, DANE_FLAG_NO_DANE_EE_NAMECHECKS), and OpenSSL skips the
 * validity dates of a DANE-EE match by itself.  DANE-TA checks the
 * name against the TLSA base domain, here the MX host (§3.2.2), with
 * whole-label wildcards only (§3.2.3).  Returns -1 on an OpenSSL error.
 */
static int
dane_setup(struct probe *p, const struct mts_dane_tlsa *tlsa, size_t n,
           const char *const *names)
{
	size_t i, added = 0;
	int r;

	if (SSL_dane_enable(p->ssl, p->dane_base) <= 0)
		return -1;
	SSL_dane_set_flags(p->ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; names != NULL && names[i] != NULL; i++)
		if (SSL_add1_host(p->ssl, names[i]) != 1)
			return -1;
	for (i = 0; i < n; i++) {
		if (mts_dane_tlsa_usable(&tlsa[i], 0, NULL) != 0)
			continue;
		r = SSL_dane_tlsa_add(p->ssl, tlsa[i].usage, tlsa[i].selector,
		                      tlsa[i].mtype, tlsa[i].data,
		                      tlsa[i].data_len);
		if (r < 0)
			return -1;
		added += r > 0; /* 0: OpenSSL finds it unusable too */
	}
	p->res->dane_checked = added > 0;
	return 0;
}

/*
 * The SSL of the connection: SNI, name check flags, DANE.  With usable
 * TLSA records SNI carries the TLSA base domain (RFC 7672 §8.1), else
 * the MX host as MTA-STS senders send it (RFC 8461 §4.2); none when
 * asked, to see what a client without SNI gets.
 */
static int
tls_setup(struct probe *p, const struct mts_dane_tlsa *tlsa, size_t n,
          const char *const *names, bool no_sni)
{
	char *sni; /* not const: OpenSSL's macro casts it to void * */
	size_t i, usable = 0;

	for (i = 0; i < n; i++)
		if (mts_dane_tlsa_usable(&tlsa[i], 0, NULL) == 0)
			usable++;
	sni = usable > 0 ? p->dane_base : p->host;
	if ((p->ssl = SSL_new(p->ctx)) == NULL ||
	    (!no_sni && SSL_set_tlsext_host_name(p->ssl, sni) != 1))
		return -1;
	SSL_set_hostflags(p->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	/* No usable record: no DANE, the handshake is plain STARTTLS. */
	if (usable > 0 && dane_setup(p, tlsa, n, names) != 0)
		return -1;
	/* SSL_dane_enable() sets SNI to the base domain when none is. */
	if (no_sni && SSL_set_tlsext_host_name(p->ssl, NULL) != 1)
		return -1;
	return 0;
}

/*
 * Opens the non-blocking connection.  Returns -1 when the address is
 * not numeric or no socket can be had (nothing started); a connect()
 * that fails at once is a PROBE_CONNECT result, delivered later.
 */
static int
tcp_start(struct probe *p, const char *address, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	if (pkix_sockaddr(address, port, &ss, &len) != 0)
		return -1;
	p->fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (p->fd < 0 || fcntl(p->fd, F_SETFD, FD_CLOEXEC) != 0 ||
	    evutil_make_socket_nonblocking(p->fd) != 0)
		return -1;
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(p->fd, (struct sockaddr *)&ss, len) != 0 &&
	    errno != EINPROGRESS)
		fail(p, PROBE_CONNECT, false, "connect: %s", strerror(errno));
	else
		wait_for(p, EV_WRITE);
	return 0;
}

/* A host name's length without its final dot: SNI carries none (RFC
   6066 §3). */
static size_t
host_len(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && name[len - 1] == '.' ? len - 1 : len;
}

/* The probe with its options checked and its result allocated. */
static struct probe *
probe_new(struct event_base *base, SSL_CTX *ctx, const char *mx_host,
          const char *address, const struct probe_options *o)
{
	const char *helo = o->helo != NULL ? o->helo : DEFAULT_HELO;
	const char *base_name = o->dane_base != NULL ? o->dane_base : mx_host;
	size_t hlen = host_len(mx_host), blen = host_len(base_name);
	struct probe *p;
	struct timeval now, span;

	/* Neither SNI nor the EHLO line may carry anything else (a CRLF
	   would inject a command). */
	if (!text_is_word(mx_host, hlen, HOST_MAX) ||
	    !text_is_word(base_name, blen, HOST_MAX) ||
	    !text_is_word(helo, strlen(helo), HOST_MAX) ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->fd = -1;
	p->base = base;
	p->ctx = ctx;
	memcpy(p->host, mx_host, hlen);
	memcpy(p->dane_base, base_name, blen);
	p->timeout_ms = o->timeout_ms != 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	event_base_gettimeofday_cached(base, &now);
	span.tv_sec = p->timeout_ms / 1000;
	span.tv_usec = (p->timeout_ms % 1000) * 1000;
	timeradd(&now, &span, &p->deadline);
	p->step_start = now;
	snprintf(p->helo, sizeof(p->helo), "%s", helo);
	if ((p->res = calloc(1, sizeof(*p->res))) == NULL ||
	    (p->ev = event_new(base, -1, 0, on_event, p)) == NULL ||
	    (p->done_ev = evtimer_new(base, on_done, p)) == NULL) {
		free(p->res);
		probe_free(p);
		return NULL;
	}
	snprintf(p->res->address, sizeof(p->res->address), "%s", address);
	p->res->dane_usage = p->res->dane_depth = -1;
	/* Until a certificate is judged, nothing is "ok". */
	p->res->verify_error = X509_V_ERR_UNSPECIFIED;
	snprintf(p->res->verify_msg, sizeof(p->res->verify_msg), "not checked");
	return p;
}

int
probe_mx(struct event_base *base, struct ssl_ctx_st *ctx, const char *mx_host,
         const char *address, const struct mts_dane_tlsa *tlsa, size_t n,
         const struct probe_options *options, probe_cb cb, void *arg)
{
	static const struct probe_options defaults;
	const struct probe_options *o = options != NULL ? options : &defaults;
	struct probe *p;

	if (base == NULL || ctx == NULL || mx_host == NULL || address == NULL ||
	    cb == NULL || (n > 0 && tlsa == NULL) || o->port > 65535 ||
	    (p = probe_new(base, ctx, mx_host, address, o)) == NULL)
		return -1;
	p->cb = cb;
	p->arg = arg;
	if (tls_setup(p, tlsa, n, o->dane_names, o->no_sni) != 0 ||
	    tcp_start(p, address, o->port != 0 ? o->port : DEFAULT_PORT) != 0) {
		probe_result_free(p->res);
		probe_free(p);
		return -1;
	}
	/* SSL_get_error() wants an empty queue: other probes share it. */
	ERR_clear_error();
	return 0;
}

void
probe_result_free(struct probe_result *result)
{
	size_t i;

	if (result == NULL)
		return;
	for (i = 0; i < result->chain_count; i++)
		free(result->chain_der[i]);
	free(result->chain_der);
	free(result->chain_len);
	free(result);
}

/*
 * A client context for probes.  TLS 1.2 at least (RFC 8461 §7.2; RFC
 * 7671 §3 lets DANE clients go lower, but a checker should flag what
 * MTA-STS senders refuse).  VERIFY_NONE: the handshake must complete
 * whatever the certificate, for judge() to say what is wrong with it.
 */
struct ssl_ctx_st *
probe_ctx_new(const char *ca_file)
{
	SSL_CTX *ctx;

	if ((ctx = pkix_ctx_new(ca_file)) != NULL &&
	    SSL_CTX_dane_enable(ctx) <= 0) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

const char *
probe_stage_name(enum probe_stage stage)
{
	switch (stage) {
	case PROBE_DONE:
		return "done";
	case PROBE_CONNECT:
		return "connect";
	case PROBE_BANNER:
		return "banner";
	case PROBE_EHLO:
		return "ehlo";
	case PROBE_NO_STARTTLS:
		return "no-starttls";
	case PROBE_STARTTLS_REFUSED:
		return "starttls-refused";
	case PROBE_TLS:
		return "tls";
	case PROBE_PROTOCOL:
		return "protocol";
	case PROBE_TIMEOUT:
		return "timeout";
	}
	return "unknown";
}
