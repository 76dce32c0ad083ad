/* SPDX-License-Identifier: ISC */
/*
 * The worker of `mtasts policyd`: its socketmap connections (server.c),
 * its Prometheus listener (metrics.c), and the process around them
 * (daemon_worker.c).  Internal to src/policyd.
 */
#ifndef MTS_POLICYD_SERVER_H
#define MTS_POLICYD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct resolver;
struct resolver_stats;

/* ---- the socketmap connections (server.c) ---- */

struct pd_server_conf {
	const char *map_name;     /* NULL: any map name; borrowed */
	unsigned max_connections; /* beyond it a connection is closed at once */
	unsigned idle_timeout;    /* s without a request: closed */
	unsigned drain_timeout;   /* s a drain waits for answers; 0: 30 */
};

struct pd_server_stats {
	uint64_t connections;     /* accepted */
	uint64_t refused;         /* over max_connections */
	uint64_t requests;        /* requests read */
	uint64_t protocol_errors; /* connections closed on a bad netstring */
	uint64_t idle_closed;     /* connections closed for idling */
	uint64_t immediate;       /* keys answered without a lookup */
	uint64_t replies[5];      /* OK, NOTFOUND, TEMP, TIMEOUT, PERM */
	uint64_t paused;          /* reads stopped for unsent output */
	size_t open;              /* connections open now */
	size_t waiting;           /* lookups waiting for a resolution */
};

struct pd_server;

/*
 * A server on `base` answering with `resolver` (both borrowed).  NULL
 * when memory runs out.  conf is copied (map_name stays borrowed).
 */
struct pd_server *pd_server_new(struct event_base *base,
                                struct resolver *resolver,
                                const struct pd_server_conf *conf);

/* Accepts connections on the listening socket fd (made non-blocking;
   owned from now on).  0, or -1 (logged). */
int pd_server_listen(struct pd_server *srv, int fd);

/*
 * Stops accepting (the listeners are closed), closes every connection
 * that waits for nothing and each other once its answers are written,
 * and calls done(arg) once none is left or drain_timeout has passed.
 */
void pd_server_drain(struct pd_server *srv, void (*done)(void *), void *arg);

/* Closes everything (waiting lookups cancelled).  NULL-safe. */
void pd_server_free(struct pd_server *srv);

void pd_server_stats(const struct pd_server *srv, struct pd_server_stats *out);

/* ---- the metrics listener (metrics.c) ---- */

/*
 * Writes the Prometheus text (version 0.0.4) of the counters into
 * buf[0..size): its length, or 0 when it does not fit.  rs may be NULL
 * (no resolver).  Pure.
 */
size_t pd_metrics_format(char *buf, size_t size,
                         const struct resolver_stats *rs,
                         const struct pd_server_stats *ss);

struct pd_metrics;

/*
 * Answers GET /metrics on the listening socket fd (owned) with the
 * counters of srv and resolver (borrowed), in plain HTTP/1.1, one
 * request per connection.  NULL (logged) on failure.
 */
struct pd_metrics *pd_metrics_new(struct event_base *base, int fd,
                                  const struct pd_server *srv,
                                  const struct resolver *resolver);
void pd_metrics_free(struct pd_metrics *m);

/* ---- the worker process (daemon_worker.c) ---- */

/* `mtasts policyd --process worker --layout L,M,0,0`: exit status. */
int policyd_worker_main(const char *layout, const char *user, bool foreground,
                        int verbose);

#endif /* MTS_POLICYD_SERVER_H */
