/* SPDX-License-Identifier: ISC */
/*
 * mtasts serve: start-up and the privileged parent process.
 *
 * The parent loads and checks the configuration (loader.c), binds the
 * listeners as root, forks the server process, which drops to the
 * configured user, and hands it the checked set.  On SIGHUP the parent
 * loads everything again; only a set that passes every check is sent,
 * so a broken reload is logged and the old set keeps serving.
 *
 * The parent keeps the listeners, the access log and the last good set,
 * so that a server process that dies (a crash, the OOM killer, kill -9)
 * is replaced at once by a new one on the same sockets: the queued
 * connections wait, none is refused.  One that keeps dying is restarted
 * after 1, 2, 4 ... 30 seconds; one that dies before it ever served is a
 * start-up failure, and the parent exits.
 *
 * With a tlsrpt block, the parent also starts the report process
 * (reportproc.c), which stores the reports POSTed to the server, and
 * hands the server its end of their socketpair over the control
 * channel.  A report process that dies is replaced alone, with the same
 * back-off, and the server gets the new channel: policies keep being
 * served meanwhile, and POSTs are answered 503 until it is back.  A new
 * server process gets a new report process.
 *
 * When a domain uses ACME, the parent also runs the acme process
 * (parent_acme.c): it wires it to each server process, reloads the set
 * when it has issued a certificate, and binds the acme-http-listen
 * sockets, passed to the server after the TLS listeners.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ctl.h"
#include "parent_acme.h"
#include "parent_io.h"
#include "proc.h"
#include "reportproc.h"
#include "serve.h"
#include "serve_main.h"

#define DEFAULT_CONF   "/etc/mtasts/mtasts.conf"
#define BACKOFF_MAX    30 /* seconds between restarts, at most */
#define STABLE_SECONDS 60 /* a server that ran this long resets the back-off */
#define PARENT_SIGNALS 4

static const int parent_signals[PARENT_SIGNALS] = {SIGHUP, SIGTERM, SIGINT,
                                                   SIGCHLD};

struct parent {
	const char *conf_path;
	bool foreground;
	int verbose;
	struct serve_conf conf;
	char *user;           /* of the configuration at start (see reload) */
	struct bundle bundle; /* the last good set, sent to every new server */
	uint32_t generation;
	int fds[CONF_LISTEN_MAX];
	size_t nfds;
	int metrics_fd, log_fd;
	pid_t child;      /* -1: none */
	pid_t keys;       /* the key process; -1: none */
	int keys_fd;      /* its control channel; -1: none */
	bool key_process; /* of the configuration at start, like user */
	time_t child_started;
	bool served;      /* a server process has taken a set */
	unsigned backoff; /* seconds before the next restart */
	int ctl_fd;       /* -1: none */
	struct event *ctl_ev;
	uint8_t ctl_in[CTL_REPLY_FRAME]; /* replies read, not yet whole */
	size_t ctl_in_len;
	struct event *restart_ev;
	struct event *sig_ev[PARENT_SIGNALS];
	struct event_base *base;
	pid_t report;         /* the report process; -1: none */
	int report_ctl;       /* its control channel; -1: none */
	char *report_store;   /* the store URL it was started with */
	uint32_t report_body; /* and its max-body */
	time_t report_started;
	unsigned report_backoff;
	struct event *report_ev; /* its restart timer */
	struct parent_acme acme; /* the acme process (parent_acme.c) */
	uint32_t http01;         /* acme-http-listen sockets, last in fds */
};

static void start_child(struct parent *p);
static void describe_status(int status, char *buf, size_t size);

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "usage: mtasts serve [-dnv] [-c file]\n\n"
	        "  -c file  configuration, default " DEFAULT_CONF "\n"
	        "  -d       stay in the foreground, log to stderr\n"
	        "  -n       check the configuration and everything it names, "
	        "then exit\n"
	        "  -v       more verbose logging\n\n"
	        "SIGHUP reloads the configuration, policies and certificates;\n"
	        "see mtasts-serve(8) and mtasts.conf(5).\n");
}

/* Binds one listening TCP socket; fatal on failure (start-up only). */
static int
bind_listener(const struct conf_listen *l)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, l->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)l->port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, l->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)l->port);
		len = sizeof(*sin6);
	} else {
		fatalx("listen %s: not a numeric address", l->host);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		fatal("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		fatal("listen %s port %u", l->host, l->port);
	if (listen(fd, 1024) != 0)
		fatal("listen %s port %u", l->host, l->port);
	return fd;
}

/*
 * Writes a whole frame (ctl.h) of the bundle; without its private keys unless with_keys (the server's copy when a
 * key process holds them).
 */
static int
send_bundle(int fd, const struct bundle *b, bool with_keys)
{
	struct bundle_pair *pairs = NULL;
	struct bundle copy;
	uint8_t hdr[CTL_FRAME_HDR], *buf;
	size_t len, off = 0, i;
	ssize_t n;
	int rc = 0;

	if (!with_keys) {
		/* The same set with each pair's key left out (NULL, 0). */
		copy = *b;
		if (b->pair_count != 0 &&
		    (pairs = calloc(b->pair_count, sizeof(*pairs))) == NULL) {
			log_warnx("out of memory");
			return -1;
		}
		for (i = 0; i < b->pair_count; i++) {
			pairs[i].cert_pem = b->pairs[i].cert_pem;
			pairs[i].cert_len = b->pairs[i].cert_len;
		}
		copy.pairs = pairs;
		b = &copy;
	}
	rc = bundle_encode(b, &buf, &len);
	free(pairs);
	if (rc != 0) {
		log_warnx("cannot encode the configuration set");
		return -1;
	}
	ctl_header_encode(len, hdr);
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		rc = -1;
	while (rc == 0 && off < len) {
		n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = -1;
		else
			off += (size_t)n;
	}
	explicit_bzero(buf, len); /* it may hold private keys */
	free(buf);
	if (rc != 0)
		log_warn("cannot send the configuration set to the %s process",
		         with_keys ? "key" : "server");
	return rc;
}

/*
 * The key process gets the set (its keys) first and says it has them,
 * so that the server never asks for a key of a set the key process does
 * not yet hold.  0, or -1 when it did not take it.
 */
static int
send_keys(struct parent *p)
{
	struct pollfd pfd = {p->keys_fd, POLLIN, 0};
	uint8_t ack = 0;

	if (p->keys_fd < 0)
		return 0;
	if (send_bundle(p->keys_fd, &p->bundle, true) != 0)
		return -1;
	/* Decoding thousands of keys takes a while; a minute is plenty. */
	if (poll(&pfd, 1, 60000) != 1 || read(p->keys_fd, &ack, 1) != 1 ||
	    ack != 1) {
		log_warnx("the key process did not take set %u",
		          p->bundle.generation);
		return -1;
	}
	return 0;
}

/* Stops the key process (its end of the socketpairs goes with it). */
static void
keys_stop(struct parent *p)
{
	if (p->keys_fd >= 0)
		close(p->keys_fd);
	p->keys_fd = -1;
	if (p->keys > 0)
		kill(p->keys, SIGKILL); /* its SIGCHLD matches no pid then */
	p->keys = -1;
}

/* ---- the report process (reportproc.c) ---- */

/* Stops the report process; the server sees its channel close. */
static void
report_stop(struct parent *p)
{
	if (p->report_ctl >= 0)
		close(p->report_ctl);
	p->report_ctl = -1;
	if (p->report > 0)
		kill(p->report, SIGKILL); /* its SIGCHLD matches no pid then */
	p->report = -1;
	free(p->report_store);
	p->report_store = NULL;
}

/*
 * Starts the report process when the configuration has a tlsrpt block
 * and a server process runs, sends it its configuration and hands the
 * server its channel.  0, or -1 (logged; the caller retries).
 */
static int
report_start(struct parent *p)
{
	struct proc_fds f = {-1, -1, -1, -1, NULL, 0};
	const struct conf_tlsrpt *t = &p->conf.tlsrpt;
	int ctl[2] = {-1, -1}, peer[2] = {-1, -1};
	uint8_t *conf = NULL;
	size_t len;

	if (!t->enabled || p->ctl_fd < 0 || p->report > 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, peer) != 0) {
		log_warn("socketpair");
		goto fail;
	}
	f.ctl = ctl[1];
	f.sign = peer[1];
	if ((p->report = proc_spawn("report", &f, p->user, p->foreground,
	                            p->verbose)) < 0)
		goto fail;
	close(ctl[1]);
	close(peer[1]);
	ctl[1] = peer[1] = -1;
	p->report_ctl = ctl[0];
	ctl[0] = -1;
	p->report_started = parent_monotime();
	if ((p->report_store = strdup(t->store)) == NULL ||
	    reportproc_conf_encode(t->store, t->max_body, &conf, &len) != 0 ||
	    parent_write_all(p->report_ctl, conf, len) != 0 ||
	    parent_send_fd(p->ctl_fd, "MTSR", peer[0]) != 0) {
		log_warnx("cannot set up the report process");
		free(conf);
		report_stop(p);
		goto fail;
	}
	p->report_body = t->max_body;
	free(conf);
	close(peer[0]);
	log_info("report process %ld started", (long)p->report);
	return 0;
fail:
	if (p->report < 0)
		p->report = -1;
	for (len = 0; len < 2; len++) {
		if (ctl[len] >= 0)
			close(ctl[len]);
		if (peer[len] >= 0)
			close(peer[len]);
	}
	return -1;
}

/* Schedules a report process after its back-off. */
static void
report_retry(struct parent *p)
{
	struct timeval tv = {p->report_backoff, 0};

	if (event_add(p->report_ev, &tv) != 0)
		log_warnx("cannot schedule a restart of the report process");
	p->report_backoff = p->report_backoff == 0 ? 1 : p->report_backoff * 2;
	if (p->report_backoff > BACKOFF_MAX)
		p->report_backoff = BACKOFF_MAX;
}

static void
report_restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct parent *p = arg;

	(void)fd;
	(void)what;
	if (report_start(p) != 0)
		report_retry(p);
}

/*
 * The report process has ended: started again after a back-off that
 * doubles while it keeps dying (once at once), the server keeps serving
 * policies and answers POSTs 503 meanwhile.
 */
static void
report_ended(struct parent *p, int status)
{
	time_t ran = parent_monotime() - p->report_started;
	char why[128];

	describe_status(status, why, sizeof(why));
	if (ran >= STABLE_SECONDS)
		p->report_backoff = 0;
	log_warnx("report process %ld %s after %lld s; restarting in %u s",
	          (long)p->report, why, (long long)ran, p->report_backoff);
	p->report = -1;
	report_stop(p);
	report_retry(p);
}

/* After a reload: a report process that runs with what is configured. */
static void
report_sync(struct parent *p)
{
	const struct conf_tlsrpt *t = &p->conf.tlsrpt;

	if (p->report > 0 &&
	    (!t->enabled || strcmp(p->report_store, t->store) != 0 ||
	     p->report_body != t->max_body)) {
		log_info("tlsrpt changed: a new report process");
		report_stop(p);
	}
	if (t->enabled && p->report < 0 && report_start(p) != 0)
		report_retry(p);
}

/* An empty frame: the server counts the refused reload in its metrics. */
static void
notify_refused(int fd)
{
	uint8_t empty[CTL_FRAME_HDR];

	ctl_header_encode(0, empty);
	if (write(fd, empty, sizeof(empty)) != (ssize_t)sizeof(empty))
		log_warn("control channel");
}

static bool
same_listeners(const struct serve_conf *a, const struct serve_conf *b)
{
	size_t i;

	if (a->listen_count != b->listen_count ||
	    a->metrics.port != b->metrics.port ||
	    strcmp(a->metrics.host, b->metrics.host) != 0 ||
	    a->acme.http_count != b->acme.http_count)
		return false;
	for (i = 0; i < a->acme.http_count; i++)
		if (a->acme.http[i].port != b->acme.http[i].port ||
		    strcmp(a->acme.http[i].host, b->acme.http[i].host) != 0)
			return false;
	for (i = 0; i < a->listen_count; i++)
		if (a->listen[i].port != b->listen[i].port ||
		    strcmp(a->listen[i].host, b->listen[i].host) != 0)
			return false;
	return true;
}

static void
reload(struct parent *p)
{
	struct serve_conf conf;
	struct bundle b;

	memset(&conf, 0, sizeof(conf));
	log_info("reloading %s", p->conf_path);
	if (loader_load(p->conf_path, &conf, &b) != 0) {
		log_warnx("reload refused; still serving generation %u",
		          p->generation);
		if (p->ctl_fd >= 0)
			notify_refused(p->ctl_fd);
		return;
	}
	if (!same_listeners(&p->conf, &conf))
		log_warnx("listen, metrics and acme-http-listen addresses "
		          "change only on restart");
	if (conf.key_process != p->key_process)
		log_warnx("key-process changes only on restart");
	fd_limit_fit(conf.max_connections, false);
	b.generation = ++p->generation;
	b.http01_listeners = p->http01;
	bundle_free(&p->bundle);
	p->bundle = b;
	conf_free(&p->conf);
	p->conf = conf;
	/* Without a server process (between restarts), the next one gets
	   it.  One that did not get all of it would wait for the rest: it
	   is replaced by one that starts with it. */
	if (p->ctl_fd >= 0 &&
	    (send_keys(p) != 0 ||
	     send_bundle(p->ctl_fd, &p->bundle, p->keys_fd < 0) != 0)) {
		kill(p->child, SIGKILL);
		pacme_sync(&p->acme, &p->conf);
		return;
	}
	report_sync(p);
	pacme_sync(&p->acme, &p->conf);
}

/* A reload for a certificate the acme process has issued. */
static void
reload_issued(void *arg)
{
	reload(arg);
}

/* The control channel to a server process that has gone. */
static void
ctl_close(struct parent *p)
{
	if (p->ctl_ev != NULL)
		event_free(p->ctl_ev);
	p->ctl_ev = NULL;
	if (p->ctl_fd >= 0)
		close(p->ctl_fd);
	p->ctl_fd = -1;
	p->ctl_in_len = 0;
}

/* One reply of the server to a set; -1 when it is neither kind. */
static int
ctl_reply(struct parent *p, const struct ctl_frame *f)
{
	char why[CTL_REPLY_MAX + 1];
	bool ok;

	if (ctl_reply_parse(f->body, f->len, &ok, why, sizeof(why)) != 0)
		return -1;
	if (ok) {
		p->served = true;
		log_info("server runs generation %u", p->generation);
	} else {
		log_warnx("server kept its old set: %s", why);
	}
	return 0;
}

/*
 * Reads the server's replies to each set, frames (ctl.h) of "OK" or
 * "FAIL why", and acts on the whole ones.  1 when it read some, 0 when
 * there are none yet, -1 when the channel is closed or broken.
 */
static int
ctl_read(struct parent *p, int flags)
{
	struct ctl_frame f;
	enum ctl_result r;
	size_t off = 0;
	ssize_t n;

	/* A partial reply is shorter than a whole one: there is room. */
	n = recv(p->ctl_fd, p->ctl_in + p->ctl_in_len,
	         sizeof(p->ctl_in) - p->ctl_in_len, flags);
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		return -1;
	}
	p->ctl_in_len += (size_t)n;
	while ((r = ctl_frame_decode(p->ctl_in + off, p->ctl_in_len - off,
	                             CTL_REPLY_MAX, &f)) == CTL_FRAME) {
		if (ctl_reply(p, &f) != 0)
			break;
		off += f.size;
	}
	if (r != CTL_NEED_MORE) {
		log_warnx("malformed reply from the server process");
		return -1;
	}
	memmove(p->ctl_in, p->ctl_in + off, p->ctl_in_len - off);
	p->ctl_in_len -= off;
	return 1;
}

static void
parent_ctl(evutil_socket_t fd, short what, void *arg)
{
	struct parent *p = arg;

	(void)fd;
	(void)what;
	if (ctl_read(p, 0) < 0)
		ctl_close(p); /* SIGCHLD tells the rest */
}

/* Why a process ended, from its wait status, for the log. */
static void
describe_status(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)%s",
		         WTERMSIG(status), strsignal(WTERMSIG(status)),
		         WCOREDUMP(status) ? ", core dumped" : "");
	else if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d",
		         WEXITSTATUS(status));
	else
		snprintf(buf, size, "ended (wait status %d)", status);
}

/*
 * The server process has ended: restart it, at once the first time, then
 * after a back-off that doubles up to BACKOFF_MAX seconds while it keeps
 * dying, and resets once one has run for STABLE_SECONDS.
 */
static void
child_ended(struct parent *p, int status)
{
	struct timeval tv = {0, 0};
	time_t ran = parent_monotime() - p->child_started;
	char why[128];

	/* Replies it sent before it died: did it ever serve? */
	while (p->ctl_fd >= 0 && ctl_read(p, MSG_DONTWAIT) > 0)
		continue;
	ctl_close(p);
	keys_stop(p);   /* a new server gets a new key process */
	report_stop(p); /* and a new report process */
	describe_status(status, why, sizeof(why));
	if (!p->served)
		fatalx("server process %ld %s before it served; stopping",
		       (long)p->child, why);
	if (ran >= STABLE_SECONDS)
		p->backoff = 0;
	log_warnx("server process %ld %s after %lld s; restarting in %u s",
	          (long)p->child, why, (long long)ran, p->backoff);
	p->child = -1;
	tv.tv_sec = p->backoff;
	if (event_add(p->restart_ev, &tv) != 0)
		fatalx("cannot schedule a restart of the server process");
	p->backoff = p->backoff == 0 ? 1 : p->backoff * 2;
	if (p->backoff > BACKOFF_MAX)
		p->backoff = BACKOFF_MAX;
}

/*
 * The key process has ended: its server can sign nothing more, so it
 * goes too, and child_ended() starts the two anew.
 */
static void
keys_ended(struct parent *p, int status)
{
	char why[128];

	describe_status(status, why, sizeof(why));
	log_warnx("key process %ld %s", (long)p->keys, why);
	p->keys = -1;
	keys_stop(p);
	if (p->child > 0)
		kill(p->child, SIGKILL);
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_child(arg);
}

static void
parent_signal(evutil_socket_t sig, short what, void *arg)
{
	struct parent *p = arg;
	pid_t pid;
	int status;

	(void)what;
	switch (sig) {
	case SIGHUP:
		reload(p);
		break;
	case SIGCHLD:
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (pid == p->child)
				child_ended(p, status);
			else if (pid == p->keys)
				keys_ended(p, status);
			else if (pid == p->report)
				report_ended(p, status);
			else
				pacme_reaped(&p->acme, pid, status);
		break;
	default:
		log_info("signal %d; stopping", (int)sig);
		keys_stop(p);
		report_stop(p);
		pacme_stop(&p->acme);
		if (p->child > 0) {
			kill(p->child, SIGTERM);
			waitpid(p->child, &status, 0);
		}
		exit(0);
	}
}

/* The parent's loop: signals, the restart timer; fatal when unset. */
static void
parent_events(struct parent *p)
{
	struct event *ev;
	size_t i;

	if ((p->base = event_base_new()) == NULL)
		fatalx("cannot make the event loop");
	for (i = 0; i < PARENT_SIGNALS; i++) {
		ev = evsignal_new(p->base, parent_signals[i], parent_signal, p);
		p->sig_ev[i] = ev;
		if (ev == NULL || event_add(ev, NULL) != 0)
			fatalx("cannot watch signal %d (%s)", parent_signals[i],
			       strsignal(parent_signals[i]));
	}
	if ((p->restart_ev = evtimer_new(p->base, restart_cb, p)) == NULL ||
	    (p->report_ev = evtimer_new(p->base, report_restart_cb, p)) == NULL)
		fatalx("cannot make the restart timer");
}

static void
daemonize(void)
{
	int fd;

	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() < 0)
		fatal("setsid");
	if (chdir("/") != 0)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/*
 * The access log, opened once by the parent.  Like every file the
 * configuration names it is opened so that it cannot block (a FIFO with
 * no reader would) and must be a regular file.
 */
static int
open_log(const char *path)
{
	struct stat st;
	int fd;

	if (path == NULL)
		return -1;
	if ((fd = open(path,
	               O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK |
	                   O_NOCTTY,
	               0640)) < 0)
		fatal("access-log %s", path);
	if (fstat(fd, &st) != 0)
		fatal("access-log %s", path);
	if (!S_ISREG(st.st_mode))
		fatalx("access-log %s: not a regular file", path);
	return fd;
}

/* Binds the listeners and opens the access log, kept for every restart. */
static void
open_sockets(struct parent *p)
{
	size_t i;

	for (i = 0; i < p->conf.listen_count; i++)
		p->fds[p->nfds++] = bind_listener(&p->conf.listen[i]);
	/* After the TLS ones (conf.c caps the two together): the server
	   learns how many are plain HTTP-01 ones from the set. */
	for (i = 0; i < p->conf.acme.http_count; i++)
		p->fds[p->nfds++] = bind_listener(&p->conf.acme.http[i]);
	p->http01 = (uint32_t)p->conf.acme.http_count;
	p->bundle.http01_listeners = p->http01;
	p->metrics_fd =
	    p->conf.metrics.port != 0 ? bind_listener(&p->conf.metrics) : -1;
	p->log_fd = open_log(p->conf.access_log);
}

/*
 * Starts the key process with its two channels: to the parent (sets of
 * keys) and to the server (signatures).  The server's end in *sign_fd.
 * 0, or -1 (logged).
 */
static int
start_keys(struct parent *p, int *sign_fd)
{
	struct proc_fds f = {-1, -1, -1, -1, NULL, 0};
	int ctl[2], sign[2];

	*sign_fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) != 0) {
		log_warn("socketpair");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sign) != 0) {
		log_warn("socketpair");
		close(ctl[0]);
		close(ctl[1]);
		return -1;
	}
	f.ctl = ctl[1];
	f.sign = sign[1];
	p->keys = proc_spawn("keys", &f, p->user, p->foreground, p->verbose);
	close(ctl[1]);
	close(sign[1]);
	p->keys_fd = ctl[0];
	if (p->keys < 0 || send_keys(p) != 0) {
		close(sign[0]);
		keys_stop(p);
		return -1;
	}
	*sign_fd = sign[0];
	return 0;
}

/*
 * Starts the key process (unless `key-process no`) and a server process,
 * and sends them the current set.  A failure here after start-up (out of
 * processes or descriptors) is retried like a server that died.
 */
static void
start_child(struct parent *p)
{
	static const struct timeval second = {1, 0};
	struct proc_fds f;
	int sp[2], sign_fd = -1;
	pid_t pid;

	p->bundle.generation = p->generation;
	if (p->key_process && start_keys(p, &sign_fd) != 0)
		goto retry;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		log_warn("socketpair");
		goto retry;
	}
	f.ctl = sp[1];
	f.sign = sign_fd;
	f.log = p->log_fd;
	f.metrics = p->metrics_fd;
	f.listen = p->fds;
	f.nlisten = p->nfds;
	pid = proc_spawn("server", &f, p->user, p->foreground, p->verbose);
	close(sp[1]);
	if (sign_fd >= 0)
		close(sign_fd);
	sign_fd = -1;
	if (pid < 0) {
		close(sp[0]);
		goto retry;
	}
	p->child = pid;
	p->child_started = parent_monotime();
	p->ctl_fd = sp[0];
	if ((p->ctl_ev = event_new(p->base, p->ctl_fd, EV_READ | EV_PERSIST,
	                           parent_ctl, p)) == NULL ||
	    event_add(p->ctl_ev, NULL) != 0) {
		/* Deaf to its replies but it serves; a reload still goes. */
		log_warnx("cannot watch the control channel of server %ld",
		          (long)pid);
	}
	if (send_bundle(p->ctl_fd, &p->bundle, !p->key_process) != 0) {
		kill(pid,
		     SIGKILL); /* it would wait for ever; SIGCHLD follows */
		return;
	}
	if (report_start(p) != 0)
		report_retry(p);
	pacme_server_started(&p->acme);
	return;
retry:
	if (sign_fd >= 0)
		close(sign_fd);
	keys_stop(p);
	if (!p->served)
		fatalx("cannot start the server process");
	if (event_add(p->restart_ev, &second) != 0)
		fatalx("cannot schedule a restart of the server process");
}

int
serve_main(int argc, char **argv)
{
	/* --process, --layout and --user are the parent's, for the
	   processes it starts (proc.c); not for people. */
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"process", required_argument, NULL, 'P'},
	    {"layout", required_argument, NULL, 'L'},
	    {"user", required_argument, NULL, 'U'},
	    {NULL, 0, NULL, 0},
	};
	const char *role = NULL, *layout = NULL, *user = NULL;
	bool test_only = false;
	struct parent p;
	int ch;

	memset(&p, 0, sizeof(p));
	p.conf_path = DEFAULT_CONF;
	p.child = -1;
	p.keys = -1;
	p.keys_fd = -1;
	p.ctl_fd = -1;
	p.report = -1;
	p.report_ctl = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:dhnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			p.conf_path = optarg;
			break;
		case 'd':
			p.foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			test_only = true;
			break;
		case 'v':
			p.verbose++;
			break;
		case 'P':
			role = optarg;
			break;
		case 'L':
			layout = optarg;
			break;
		case 'U':
			user = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (role != NULL)
		return proc_main(role, layout, user, p.foreground, p.verbose);
	/* What the shell or supervisor left open is not ours to keep. */
	close_fds_except(NULL, 0);
	log_init(true, p.verbose, "serve");
	if (loader_load(p.conf_path, &p.conf, &p.bundle) != 0)
		return 1;
	fd_limit_fit(p.conf.max_connections, false);
	if (test_only) {
		printf("%s: configuration OK, %zu domains\n", p.conf_path,
		       p.bundle.domain_count);
		pacme_print(&p.conf, stdout);
		bundle_free(&p.bundle);
		conf_free(&p.conf);
		return 0;
	}
	if (!p.foreground) {
		daemonize();
		log_init(false, p.verbose, "serve");
	}
	signal(SIGPIPE, SIG_IGN);
	/* Like the listeners, the user changes only on restart. */
	if (p.conf.user != NULL && (p.user = strdup(p.conf.user)) == NULL)
		fatalx("out of memory");
	p.key_process = p.conf.key_process;
	open_sockets(&p);
	parent_limit();
	parent_events(&p);
	pacme_init(&p.acme, p.base, p.user, p.foreground, p.verbose, &p.ctl_fd,
	           reload_issued, &p);
	p.acme.http01_bound = p.http01;
	p.generation = 1;
	start_child(&p);
	pacme_sync(&p.acme, &p.conf);
	log_init(p.foreground, p.verbose, "serve[parent]");
	log_info("started: %zu listeners, server pid %ld", p.nfds,
	         (long)p.child);
	event_base_dispatch(p.base);
	fatalx("the event loop ended");
}
