/* SPDX-License-Identifier: ISC */
/*
 * The worker process of `mtasts policyd`, started by the parent
 * (daemon.c) through serve's fork and exec (src/serve/proc.c) with its
 * listeners at fixed descriptors and the configuration text on its
 * control channel (one frame, src/serve/ctl.h), which it parses again
 * with the same pure parser.
 *
 * Everything that reads a file happens first, as root: libunbound
 * reads resolv.conf and the trust anchor (mts_dns_new() forces it) and
 * starts its thread on a first query answered locally (mtasts.invalid,
 * RFC 6761 §6.4); OpenSSL loads its CA file whole (the default file of
 * the system when ca-file is unset, never the lazily read hashed
 * directory, which the chroot hides).  Then privdrop_into() (serve's
 * privdrop.c): a chroot into the directory of the SQLite store or of
 * the Redis UNIX socket, or an empty one for another store or none, and
 * the user; the store is opened there; then the seccomp filter (sandbox_linux.c), on every thread.
 * Only then does it tell the parent "OK" and serve.
 *
 * SIGTERM drains: the listeners close, each connection is closed once
 * it owes no answer, and the process exits (server.c).  A control
 * channel that closes (the parent died) drains too.
 */
#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <mtasts/dns.h>
#include <mtasts/err.h>

#include "cache.h"
#include "conf.h"
#include "ctl.h"
#include "fetch.h"
#include "proc.h"
#include "resolve.h"
#include "sandbox.h"
#include "serve.h"
#include "server.h"

#define CONF_FRAME_MAX (4 * 1024 * 1024)
#define WARMUP_SECS    5

struct worker {
	struct policyd_conf conf;
	struct event_base *base;
	struct mts_dns *dns;
	struct ssl_ctx_st *ssl;
	struct pcache *store;
	struct resolver *resolver;
	struct pd_server *srv;
	struct pd_metrics *metrics;
	struct event *sig_term, *sig_int, *sig_hup, *ctl_ev;
	bool draining;
};

/* Reads n octets from the blocking descriptor fd; 0 or -1. */
static int
read_full(int fd, void *buf, size_t n)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = read(fd, (char *)buf + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* The configuration the parent checked, parsed again here. */
static void
read_conf(struct worker *w)
{
	uint8_t hdr[CTL_FRAME_HDR];
	char err[POLICYD_CONF_ERR_SIZE], *text;
	size_t len;

	if (read_full(PROC_FD_CTL, hdr, sizeof(hdr)) != 0 ||
	    ctl_header_decode(hdr, CONF_FRAME_MAX, &len) != 0)
		fatalx("no configuration from the parent");
	if ((text = malloc(len + 1)) == NULL)
		fatalx("out of memory");
	if (read_full(PROC_FD_CTL, text, len) != 0)
		fatalx("no configuration from the parent");
	if (policyd_conf_parse(text, len, "policyd.conf", &w->conf, err) != 0)
		fatalx("%s", err);
	free(text);
}

static void
warmup_cb(void *arg, const struct mts_dns_answer *answer)
{
	(void)answer;
	*(bool *)arg = true;
}

static void
warmup_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* The resolver, its files read and its thread started. */
static void
dns_setup(struct worker *w)
{
	struct timeval tv = {WARMUP_SECS, 0};
	struct mts_dns_options o;
	struct mts_err err;
	struct event *timer;
	bool done = false, late = false;

	memset(&o, 0, sizeof(o));
	memset(&err, 0, sizeof(err));
	o.resolver = w->conf.resolver;
	o.trust_anchor = w->conf.trust_anchor;
	o.timeout_ms = w->conf.timeout * 1000;
	if ((w->dns = mts_dns_new(w->base, &o, &err)) == NULL)
		fatalx("resolver: %s", err.msg);
	/* RFC 6761 §6.4: libunbound answers .invalid itself. */
	if ((timer = evtimer_new(w->base, warmup_timeout, &late)) == NULL ||
	    evtimer_add(timer, &tv) != 0 ||
	    mts_dns_query(w->dns, "mtasts.invalid", 16, warmup_cb, &done,
	                  &err) != 0)
		fatalx("resolver: %s", err.msg != NULL ? err.msg : "timer");
	while (!done && !late)
		event_base_loop(w->base, EVLOOP_ONCE);
	event_free(timer);
	if (!done)
		log_warnx("the resolver did not answer mtasts.invalid in %d s",
		          WARMUP_SECS);
}

/* The CA file read whole: the default file when none is configured. */
static void
ssl_setup(struct worker *w)
{
	const char *file = w->conf.ca_file, *env;
	struct stat st;

	if (file == NULL) {
		env = getenv(X509_get_default_cert_file_env());
		file = env != NULL ? env : X509_get_default_cert_file();
		if (stat(file, &st) != 0) {
			log_warnx("no CA file %s: fetches will not verify; "
			          "set ca-file",
			          file);
			file = NULL;
		}
	}
	if ((w->ssl = fetch_ctx_new(file)) == NULL)
		fatalx("cannot load the CA file %s",
		       file != NULL ? file : "(default)");
}

/*
 * Leaves the file system for the directory of the store's file (the
 * SQLite database, or the UNIX socket of a redis+unix: URL, whose
 * query part is kept), or for an empty root, becomes the user, and
 * opens the store there.
 */
static void
store_setup(struct worker *w)
{
	char path[PATH_MAX], dir[PATH_MAX], url[PATH_MAX + 32],
	    why[PCACHE_WHY_SIZE];
	const char *cache = w->conf.cache, *scheme = NULL, *query = "";
	size_t skip = 0;
	bool sqlite = cache != NULL && strncmp(cache, "sqlite:", 7) == 0;

	if (sqlite) {
		scheme = "sqlite:";
		skip = 7;
	} else if (cache != NULL && strncmp(cache, "redis+unix:", 11) == 0) {
		scheme = "redis+unix:";
		skip = 11;
	}
	if (scheme == NULL) {
		privdrop_into(w->conf.user, "worker", NULL);
	} else {
		snprintf(path, sizeof(path), "%s", cache + skip);
		if (!sqlite && strchr(path, '?') != NULL) {
			query = cache + skip + (strchr(path, '?') - path);
			*strchr(path, '?') = '\0';
		}
		snprintf(dir, sizeof(dir), "%s", path);
		if (geteuid() == 0 && !sandbox_sanitized()) {
			/* Inside the chroot the file is its base name. */
			snprintf(url, sizeof(url), "%s/%s%s", scheme,
			         basename(path), query);
			cache = url;
		}
		privdrop_into(w->conf.user, "worker", dirname(dir));
	}
	if (cache != NULL &&
	    pcache_open(cache, &w->store, why, sizeof(why)) != 0)
		fatalx("cache %s: %s", w->conf.cache, why);
	if (sandbox_seccomp_policyd(sqlite) != 0)
		fatalx("the worker cannot enter its sandbox");
}

static void
resolver_log(void *ctx, int priority, const char *line)
{
	(void)ctx;
	if (priority <= 4) /* LOG_WARNING and worse */
		log_warnx("%s", line);
	else if (priority <= 6)
		log_info("%s", line);
	else
		log_debug("%s", line);
}

static void
resolver_trace(void *ctx, const char *domain, const char *line)
{
	(void)ctx;
	log_debug("%s: %s", domain, line);
}

static void
drained(void *arg)
{
	struct worker *w = arg;

	event_base_loopexit(w->base, NULL);
}

static void
drain(struct worker *w, const char *why)
{
	if (w->draining)
		return;
	w->draining = true;
	log_info("%s: draining %s", why, "connections");
	pd_server_drain(w->srv, drained, w);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	if (sig == SIGHUP)
		return; /* the parent's: it starts a new worker */
	drain(arg, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void
ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[64];
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof(buf));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		event_del(((struct worker *)arg)->ctl_ev);
		drain(arg, "the parent is gone");
	}
}

static void
serve_setup(struct worker *w, size_t nlisten, bool metrics)
{
	struct pd_server_conf sc;
	struct resolve_conf rc;
	size_t i;

	policyd_conf_resolve(&w->conf, &rc);
	rc.base = w->base;
	rc.dns = w->dns;
	rc.ssl = w->ssl;
	rc.store = w->store;
	rc.log = resolver_log;
	rc.trace = resolver_trace;
	if ((w->resolver = resolver_new(&rc)) == NULL)
		fatalx("out of memory");
	memset(&sc, 0, sizeof(sc));
	sc.map_name = w->conf.map_name;
	sc.max_connections = w->conf.max_connections;
	sc.idle_timeout = w->conf.idle_timeout;
	sc.drain_timeout = w->conf.timeout + 5;
	if ((w->srv = pd_server_new(w->base, w->resolver, &sc)) == NULL)
		fatalx("out of memory");
	for (i = 0; i < nlisten; i++)
		if (pd_server_listen(w->srv, PROC_FD_LISTEN0 + (int)i) != 0)
			fatalx("cannot listen");
	if (metrics &&
	    (w->metrics = pd_metrics_new(w->base, PROC_FD_METRICS, w->srv,
	                                 w->resolver)) == NULL)
		fatalx("cannot serve metrics");
	w->sig_term = evsignal_new(w->base, SIGTERM, signal_cb, w);
	w->sig_int = evsignal_new(w->base, SIGINT, signal_cb, w);
	w->sig_hup = evsignal_new(w->base, SIGHUP, signal_cb, w);
	w->ctl_ev =
	    event_new(w->base, PROC_FD_CTL, EV_READ | EV_PERSIST, ctl_cb, w);
	if (w->sig_term == NULL || w->sig_int == NULL || w->sig_hup == NULL ||
	    w->ctl_ev == NULL || event_add(w->sig_term, NULL) != 0 ||
	    event_add(w->sig_int, NULL) != 0 ||
	    event_add(w->sig_hup, NULL) != 0 || event_add(w->ctl_ev, NULL) != 0)
		fatalx("cannot watch signals");
}

static void
worker_free(struct worker *w)
{
	pd_metrics_free(w->metrics);
	pd_server_free(w->srv);
	resolver_free(w->resolver);
	if (w->sig_term != NULL)
		event_free(w->sig_term);
	if (w->sig_int != NULL)
		event_free(w->sig_int);
	if (w->sig_hup != NULL)
		event_free(w->sig_hup);
	if (w->ctl_ev != NULL)
		event_free(w->ctl_ev);
	pcache_close(w->store);
	mts_dns_free(w->dns);
	SSL_CTX_free(w->ssl);
	event_base_free(w->base);
	policyd_conf_free(&w->conf);
}

int
policyd_worker_main(const char *layout, const char *user, bool foreground,
                    int verbose)
{
	uint8_t ok[CTL_REPLY_FRAME];
	struct worker w;
	bool metrics, log, sign;
	size_t nlisten, n;

	(void)user; /* the configuration's */
	if (proc_layout_parse(layout, &nlisten, &metrics, &log, &sign) != 0) {
		fprintf(stderr,
		        "mtasts policyd: --process is internal: the "
		        "parent starts its processes itself\n");
		return 2;
	}
	memset(&w, 0, sizeof(w));
	signal(SIGPIPE, SIG_IGN);
	log_init(foreground, verbose, "policyd[worker]");
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
	read_conf(&w);
	if ((w.base = event_base_new()) == NULL)
		fatalx("cannot make the event loop");
	dns_setup(&w);
	ssl_setup(&w);
	fd_limit_fit(w.conf.max_connections, true);
	store_setup(&w);
	serve_setup(&w, nlisten, metrics);
	n = ctl_reply_encode(true, NULL, ok);
	if (write(PROC_FD_CTL, ok, n) != (ssize_t)n)
		fatal("control channel");
	log_info("serving on %zu listeners", nlisten);
	event_base_dispatch(w.base);
	log_info("drained; exiting");
	worker_free(&w);
	return 0;
}
