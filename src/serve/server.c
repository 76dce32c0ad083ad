/* SPDX-License-Identifier: ISC */
/*
 * The server process of `mtasts serve`: TLS and HTTP on one libevent
 * loop, for the policy host of RFC 8461 §3.3.  Its parts:
 *
 *   set.c         the configuration set: domains, policies, certificates,
 *                 the lookup of a Host field or SNI name
 *   respond.c     the HTTP answers, the metrics text, the access log
 *   conn.c        each connection's state machine, its socket BIO and
 *                 the deadline queues
 *   server_ctl.c  sets from the parent over the control channel (ctl.h),
 *                 and the channel to the report process
 *   receive.c     TLS-RPT reports POSTed over HTTPS (RFC 8460 §5.4),
 *                 stored by the report process
 *   server.c      the loop: listeners, accept(2) and its back-off, the
 *                 once-a-second tick, signals
 *
 * The configuration set (domains, policies, TLS contexts) is reference
 * counted: a new set from the parent is built whole, then swapped in;
 * connections keep the set they started with until they close.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyproc.h"
#include "sandbox.h"
#include "server_int.h"

#define ACCEPT_BACKOFF_MS 250 /* between accept(2) attempts after EMFILE */
#define ACCEPT_LOG_EVERY  10  /* seconds between log lines about them */

static void accept_pause(struct server *srv);

/* Enables or disables l; false when enabling failed. */
static bool
listener_set(struct evconnlistener *l, bool on)
{
	if (!on)
		return evconnlistener_disable(l) == 0;
	return evconnlistener_enable(l) == 0;
}

/* The back-off after accept(2) failed is accept_error()'s. */
void
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
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
          int salen, void *arg)
{
	struct server *srv = arg;
	bool metrics = l == srv->metrics;
	enum conn_kind kind = metrics ? CONN_METRICS : CONN_TLS;
	struct conn *c;
	size_t i;

	(void)salen;
	if (!metrics && srv->conn_count >= srv->set->max_connections) {
		srv->stats.refused++;
		close(fd);
		listeners_update(srv);
		return;
	}
	srv->stats.connections += metrics ? 0 : 1;
	for (i = srv->http01_first; i < srv->listener_count; i++)
		if (l == srv->listeners[i])
			kind = CONN_HTTP01;
	clock_update(srv);
	/* Out of memory, or libevent cannot watch it: closed, counted. */
	if ((c = conn_new(srv, fd, sa, kind)) == NULL) {
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

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	log_info("signal %d; stopping", (int)sig);
	event_base_loopexit(srv->base, NULL);
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
		respond_log_flush(srv);
	conn_expire(srv, &srv->read_q);
	conn_expire(srv, &srv->idle_q);
	conn_release_buffers(srv);
	receive_tick(srv);
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
	size_t i;

	memset(&srv, 0, sizeof(srv));
	TAILQ_INIT(&srv.conns);
	TAILQ_INIT(&srv.read_q);
	TAILQ_INIT(&srv.idle_q);
	TAILQ_INIT(&srv.busy);
	TAILQ_INIT(&srv.jobs);
	srv.report_fd = -1;
	srv.acme.fd = -1;
	srv.log_fd = log_fd;
	srv.ctl_fd = ctl_fd;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN); /* the parent reloads */
	if (key_fd >= 0)
		keyproc_client_init(key_fd);
	if ((srv.base = event_base_new()) == NULL ||
	    (srv.logbuf = malloc(LOGBUF_SIZE)) == NULL)
		fatalx("out of memory");
	srv.sock_method = conn_sock_method_new();
	if (evutil_make_socket_nonblocking(ctl_fd) != 0)
		fatal("control channel: O_NONBLOCK");
	srv.ctl_ev = event_start(&srv, ctl_fd, EV_READ | EV_PERSIST,
	                         server_ctl_event, NULL, "the control channel");
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
	/* The parent passes the acme-http-listen ones last (bundle.c). */
	srv.http01_first = srv.set->http01_listeners <= nfds ?
	    nfds - srv.set->http01_listeners :
	    nfds;
	if (metrics_fd >= 0)
		srv.metrics = listener_new(&srv, metrics_fd);
	tick = event_start(&srv, -1, EV_PERSIST, tick_cb, &second, "the clock");
	/* Set up, with a set built (OpenSSL has loaded what it loads):
	   from here on only the system calls of serving. */
	if (sandbox_seccomp() != 0)
		fatalx("cannot enter the sandbox");
	if (event_base_dispatch(srv.base) != 0)
		fatalx("the event loop failed");

	conn_free_all(&srv);
	receive_free_all(&srv);
	acme_free_all(&srv);
	while (srv.ctl_nfds > 0)
		close(srv.ctl_fds[--srv.ctl_nfds]);
	if (srv.log_len > 0)
		respond_log_flush(&srv);
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
