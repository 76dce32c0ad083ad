/* SPDX-License-Identifier: ISC */
/*
 * The parts of the server process (server.c says what it does) and what
 * they share: the configuration set and its domains (set.c), the
 * responses and the access log (respond.c), the connections with their
 * socket BIO and deadline queues (conn.c), the control channel from the
 * parent (server_ctl.c), the receiver of TLS-RPT reports and its
 * channel to the report process (receive.c), and the loop with its
 * listeners (server.c).  Private to them.
 */
#ifndef MTS_SERVE_SERVER_INT_H
#define MTS_SERVE_SERVER_INT_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "http.h"
#include "http_response.h"
#include "report_msg.h"
#include "serve.h"

#define MAX_HEAD    8192 /* request line and fields (431 beyond) */
#define MAX_HEADERS 64
#define INLINE_IN   1024
#define INLINE_OUT  1024
#define LOGBUF_SIZE 65536

/* ---- the configuration set (set.c) ---- */

struct domain {
	char *name; /* policy domain */
	size_t name_len;
	const struct tls_cert *cert; /* borrowed from the set's certs */
	char *head; /* status line and fixed fields of the 200 */
	size_t head_len;
	char *body;
	size_t body_len;
};

/* A name the report receiver answers on (RFC 8460 §5.4). */
struct report_host {
	char *name; /* lower case, no trailing dot */
	size_t name_len;
	const struct tls_cert *cert; /* borrowed from the set's certs */
};

struct set {
	unsigned refs;
	uint32_t generation;
	char *cache_control;
	unsigned max_connections, idle_timeout, read_timeout;
	SSL_CTX *ctx; /* presents certs[0]; SNI switches (set.c) */
	struct tls_cert **certs;
	size_t cert_count;
	struct domain *domains;
	size_t domain_count;
	struct domain **table; /* open addressing on the name */
	size_t table_mask;
	/* The report receiver; report_path NULL when there is none. */
	char *report_path;
	size_t report_path_len;
	unsigned report_max_body, report_queue;
	struct report_host *report_hosts;
	size_t report_host_count;
	uint32_t http01_listeners; /* the last listeners are HTTP-01 ones */
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
	/* POSTed reports by what became of them: added, known,
	   quarantined, failed (enum report_outcome); refused before the
	   store saw them (405, 411, 413, 415, 503 of a full queue). */
	uint64_t reports[4];
	uint64_t reports_refused;
};

/* ---- ACME: challenges and certificate figures (server_acme.c) ---- */

#define ACME_CHALLENGES_MAX 10000  /* of each kind at once */
#define ACME_STATES_MAX     100000 /* domains with figures */

struct acme_item;

/* Names (or tokens) to items: chained, the bucket count a power of 2. */
struct acme_table {
	struct acme_item **buckets;
	size_t size; /* 0: none yet */
	size_t count;
};

/* What the acme process told the server, and its channel. */
struct acme_state {
	int fd; /* -1: none */
	struct event *ev;
	uint8_t *in; /* frames read, not yet whole */
	size_t in_len;
	struct acme_table alpn;   /* host name -> challenge certificate */
	struct acme_table http;   /* token -> key authorization */
	struct acme_table states; /* domain -> STATE figures */
	uint64_t alpn_answered, http_answered;
};

/* ---- connections (conn.c) ---- */

/*
 * C_BODY reads the body of a POSTed report, C_WAIT waits for the report
 * process to store it (receive.c).
 */
enum conn_state { C_HANDSHAKE, C_READ, C_BODY, C_WAIT, C_WRITE, C_CLOSE };

struct server;
struct conn;
TAILQ_HEAD(conn_list, conn);

/*
 * A POSTed report: its frame to the report process (report_msg.h),
 * built as the body arrives, then queued, written and answered in
 * order.  It outlives a client that goes away while it is stored.
 */
struct report_job {
	TAILQ_ENTRY(report_job) entry;
	struct conn *c; /* NULL once the client has gone or had its answer */
	uint32_t id;
	enum report_kind kind;
	uint8_t *buf;  /* the frame: head, then the body */
	size_t head;   /* octets of the head */
	size_t len;    /* of buf in use */
	size_t cap;    /* of buf */
	size_t off;    /* written to the report process */
	bool queued;   /* on srv->jobs */
	bool answered; /* its client was told 503 before the reply */
	time_t sent;   /* when it was queued */
};
TAILQ_HEAD(job_list, report_job);

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
	bool nodelay;           /* TCP_NODELAY set */
	bool sni_report;        /* the SNI named a report host */
	bool http01;            /* on an acme-http-listen listener */
	bool acme_alpn;         /* a TLS-ALPN-01 validation (RFC 8737) */
	bool then_body;         /* after this write (100 Continue), C_BODY */
	struct report_job *job; /* a POST being read or stored */
	struct http_body body;  /* its decoder */
	char peer[INET6_ADDRSTRLEN];
	char in_inline[INLINE_IN];
	char out_inline[INLINE_OUT];
};

/* ---- the server (server.c) ---- */

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
	/* Deadline queues, each sorted by deadline (conn.c). */
	struct conn_list read_q; /* handshakes and request heads */
	struct conn_list idle_q; /* keep-alive connections between requests */
	struct conn_list busy;   /* TLS connections active since the tick */
	time_t now;              /* the loop's cached clock, in seconds */
	BIO_METHOD *sock_method; /* the BIO under every SSL (conn.c) */
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
	/* The channel to the report process (receive.c); -1: none. */
	int report_fd;
	struct event *report_ev;
	struct job_list jobs; /* queued, in the order sent */
	unsigned report_busy; /* jobs, queued or still reading a body */
	uint32_t report_seq;
	uint8_t report_in[REPORT_REP_FRAME * 2]; /* replies read */
	size_t report_in_len;
	int ctl_fds[4]; /* descriptors received with the control channel */
	size_t ctl_nfds;
	struct acme_state acme;
	size_t http01_first; /* listeners from here on are HTTP-01 ones */
};

/* Reads the loop's cached clock (no syscall) into srv->now. */
static inline void
clock_update(struct server *srv)
{
	struct timeval tv;

	event_base_gettimeofday_cached(srv->base, &tv);
	srv->now = tv.tv_sec;
}

/*
 * Accepts on the TLS listeners only under max-connections, and on none
 * while backing off after accept(2) failed.  Call it when either changes.
 */
void listeners_update(struct server *srv);

/* ---- set.c ---- */

/* The report host named by host[0..n) (port, final dot, case ignored). */
const struct report_host *set_find_report_host(const struct set *set,
                                               const char *host, size_t n);

/*
 * Builds a set, with one reference, from a decoded bundle whose strings
 * it takes (b is still bundle_free()d by the caller); NULL when a
 * certificate or memory fails (logged by tls.c).
 */
struct set *set_new(struct bundle *b);

/* Drops a reference; the last frees the set.  NULL-safe. */
void set_unref(struct set *set);

/*
 * The domain of the host name mta-sts.<domain> in host[0..n), or NULL.
 * The port, a trailing dot and case are ignored.
 */
const struct domain *set_find_host(const struct set *set, const char *host,
                                   size_t n);

/* ---- respond.c ---- */

/*
 * Parses what c has buffered: on a whole request head, prepares the
 * answer in c->out (state C_WRITE, or C_CLOSE when it cannot) and logs
 * it.  False when the head is not whole yet.
 */
bool respond_input(struct conn *c);

/* Frees c's response, if it was not inline (once per request: inline). */
static inline void
respond_release(struct conn *c)
{
	if (c->out != NULL && c->out != c->out_inline)
		free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

/* Writes the buffered access log lines out. */
void respond_log_flush(struct server *srv);

/*
 * An answer with a text/plain body of `text` and a newline, and `extra`
 * header lines ("Name: value\r\n"...); state C_WRITE (C_CLOSE when out
 * of memory).  Counted in the metrics.
 */
void respond_text(struct conn *c, int status, const char *extra,
                  const char *text);

/* A line of the access log. */
void respond_log(struct conn *c, const char *host, size_t host_len,
                 const char *method, size_t method_len, const char *target,
                 size_t target_len, int status, size_t bytes);

/* ---- conn.c ---- */

/* The BIO_METHOD under every SSL (conn.c says why); fatal on failure. */
BIO_METHOD *conn_sock_method_new(void);

/* What a listener speaks: TLS, or plain HTTP for metrics or HTTP-01. */
enum conn_kind { CONN_TLS, CONN_METRICS, CONN_HTTP01 };

/*
 * A new connection on fd, with a reference to the current set, its
 * event added; NULL with fd closed.
 */
struct conn *conn_new(struct server *srv, int fd, const struct sockaddr *sa,
                      enum conn_kind kind);

/* Runs c's state machine until it must wait; frees it once closed. */
void conn_drive(struct conn *c);

/* Frees c and closes its socket (no close_notify). */
void conn_free(struct conn *c);

/* Frees every connection, at the end. */
void conn_free_all(struct server *srv);

/*
 * Gives c read-timeout from now, on the read queue: for the body of a
 * POSTed report and for the answer to it.
 */
void conn_deadline_read(struct conn *c);

/*
 * Takes c off the deadline queues while the report process stores its
 * report (receive_tick() bounds that); its deadline `seconds` away.
 */
void conn_wait_report(struct conn *c, unsigned seconds);

/* Closes the connections of q whose deadline has passed. */
void conn_expire(struct server *srv, struct conn_list *q);

/* Releases the record buffers of the connections waiting for clients. */
void conn_release_buffers(struct server *srv);

/* ---- receive.c: TLS-RPT reports by HTTPS POST (RFC 8460 §5.4) ---- */

/*
 * Routes a request to the report receiver when its Host is a report
 * host and its path the report path (or the host is a report host only):
 * answers it (405, 411, 413, 415, 421, 503, 404) or starts reading its
 * body (C_BODY).  False when the request is not the receiver's.  *status
 * is the answer, or 0 while the report is being read and stored.
 */
bool receive_route(struct conn *c, const struct http_request *req, int *status);

/*
 * Reads what c has buffered into its report's body.  True when c's
 * state moved on (the body is whole and queued, or refused), false when
 * it needs more bytes.
 */
bool receive_body(struct conn *c);

/* c is being freed: its report, if any, forgets it. */
void receive_conn_gone(struct conn *c);

/* A new channel to the report process (from the parent); takes fd. */
void receive_channel(struct server *srv, int fd);

/* Once a second: answers 503 to reports waiting too long. */
void receive_tick(struct server *srv);

/* At the end: the channel closed, every report freed. */
void receive_free_all(struct server *srv);

/* ---- server_acme.c: ACME challenges (RFC 8737, RFC 8555 §8.3) ---- */

/*
 * Applies one message of the acme process (acme_msg.h body) to a: 0, or
 * -1 with why[0..size) for the FAIL reply (malformed, over a cap, an
 * unusable challenge certificate, a message that is not the server's).
 */
int acme_state_apply(struct acme_state *a, const uint8_t *body, size_t len,
                     char *why, size_t size);

/* The key authorization of token[0..n) (borrowed, *len octets), or NULL. */
const char *acme_state_http(const struct acme_state *a, const char *token,
                            size_t n, size_t *len);

/* Drops every challenge (a broken channel); the figures stay. */
void acme_state_forget_challenges(struct acme_state *a);

/* Frees every table of a. */
void acme_state_free(struct acme_state *a);

/*
 * The /metrics lines of a: challenges answered and pending, and per
 * domain its notAfter, next renewal and failures.  A new string (*len
 * octets) or NULL when out of memory.
 */
char *acme_state_metrics(const struct acme_state *a, size_t *len);

/*
 * The TLS-ALPN-01 hooks of a set's context: the ClientHello callback
 * picks the challenge certificate for an "acme-tls/1" ClientHello (or
 * fails it), the ALPN callback selects the protocol for it alone.
 */
void acme_tls_setup(SSL_CTX *ctx);
int acme_client_hello(SSL *ssl, int *alert, void *arg);
int acme_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                     const unsigned char *in, unsigned int inlen, void *arg);

/* A new channel to the acme process (from the parent); takes fd. */
void acme_channel(struct server *srv, int fd);

/* At the end: the channel closed, the tables freed. */
void acme_free_all(struct server *srv);

/* ---- server_ctl.c ---- */

/* The control channel is readable: sets (or refusals) from the parent. */
void server_ctl_event(evutil_socket_t fd, short what, void *arg);

#endif /* MTS_SERVE_SERVER_INT_H */
