/* SPDX-License-Identifier: ISC */
/*
 * The connections of the server process.  Each is a small state machine
 * (handshake, read, write, close) over a non-blocking SSL.  Its memory
 * is bounded: a 1 KiB input buffer that grows to at most MAX_HEAD, one
 * response at a time, and OpenSSL's record buffers, released once it
 * has waited for its client through a tick of the clock.  A deadline,
 * not a per-read timeout, bounds how long a request head may take, so a
 * client that trickles one byte at a time (slowloris) is cut off.
 *
 * The per-request path is kept to a read(2), a write(2) and a share of
 * an epoll_wait(2): each connection has one edge-triggered event for
 * both directions, registered once, and no timer; deadlines sit in two
 * queues sorted by time that a once-a-second tick looks at, and record
 * buffers stay allocated while a connection is busy.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "server_int.h"

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

void
conn_deadline_read(struct conn *c)
{
	conn_deadline(c, &c->srv->read_q, c->set->read_timeout);
}

void
conn_wait_report(struct conn *c, unsigned seconds)
{
	if (c->queue != NULL)
		TAILQ_REMOVE(c->queue, c, queue_entry);
	c->queue = NULL;
	c->deadline = c->srv->now + (time_t)seconds;
	c->want = 0;
}

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

/* The BIO_METHOD of sock_read() and sock_write(). */
BIO_METHOD *
conn_sock_method_new(void)
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
	/* A body's bytes keep the deadline its head set (receive.c). */
	if (c->in_len == 0 && c->state == C_READ)
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
		/* A TLS-ALPN-01 validation wants the handshake only (RFC
		   8737 §3): no HTTP follows. */
		if (c->acme_alpn) {
			c->srv->acme.alpn_answered++;
			c->state = C_CLOSE;
		}
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

	if (e == SSL_ERROR_NONE && c->out_off == c->out_len && c->then_body) {
		/* "100 Continue" sent: now the body (RFC 9110 §10.1.1). */
		respond_release(c);
		c->then_body = false;
		c->state = C_BODY;
		return true;
	}
	if (e == SSL_ERROR_NONE && c->out_off == c->out_len) {
		respond_release(c);
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
		if (c->in_len > 0 && respond_input(c))
			return true;
		return after_io(c, conn_read(c));
	case C_BODY:
		if (c->in_len > 0 && receive_body(c))
			return true;
		return after_io(c, conn_read(c));
	case C_WAIT:
		return false; /* the report process answers (receive.c) */
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

void
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

void
conn_free(struct conn *c)
{
	struct server *srv = c->srv;

	if (c->job != NULL)
		receive_conn_gone(c);
	if (c->ev != NULL)
		event_free(c->ev);
	SSL_free(c->ssl);
	close(c->fd);
	respond_release(c);
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

static void
peer_name(const struct sockaddr *sa, char *buf, size_t size)
{
	const void *addr = sa->sa_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (inet_ntop(sa->sa_family, addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
}

/* The SSL of a TLS connection, over a BIO of conn_sock_method_new(). */
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

struct conn *
conn_new(struct server *srv, int fd, const struct sockaddr *sa,
         enum conn_kind kind)
{
	bool plain = kind != CONN_TLS;

	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	c->srv = srv;
	c->fd = fd;
	c->metrics = kind == CONN_METRICS;
	c->http01 = kind == CONN_HTTP01;
	c->set = srv->set;
	c->set->refs++;
	c->in = c->in_inline;
	c->in_cap = sizeof(c->in_inline);
	peer_name(sa, c->peer, sizeof(c->peer));
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->conn_count++;
	conn_deadline(c, &srv->read_q, c->set->read_timeout);
	c->state = plain ? C_READ : C_HANDSHAKE;
	c->want = EV_READ;
	if (!plain && conn_tls(c) != 0) {
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

/*
 * q is sorted by deadline: the walk stops at the first one still due.
 * The next is taken before conn_free() takes c off q.
 */
void
conn_expire(struct server *srv, struct conn_list *q)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(q); c != NULL && srv->now > c->deadline;
	     c = next) {
		next = TAILQ_NEXT(c, queue_entry);
		srv->stats.timeouts++;
		conn_free(c); /* no close_notify to a stalled peer */
	}
}

void
conn_free_all(struct server *srv)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_free(c);
	}
}

/*
 * Releases the record buffers of the connections that have run since
 * the last tick and now wait for their client, so an idle connection
 * holds them for a second at most.  One busy all the time gives them up
 * once a second, not twice per request.
 */
void
conn_release_buffers(struct server *srv)
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
