/* SPDX-License-Identifier: ISC */
/*
 * mtasts policyd: start-up and the parent process (mtasts-policyd(8)).
 *
 * The parent (root) reads policyd.conf, makes the SQLite cache's
 * directory for the user, binds the listeners (unix sockets with their
 * mode and group) and starts the worker (daemon_worker.c) through
 * serve's fork and exec (src/serve/proc.c), handing it the listeners
 * and the configuration text.  The worker answers Postfix.
 *
 * SIGHUP: the file is read again.  A configuration that does not parse,
 * or whose new listeners cannot be bound, is logged and the worker
 * keeps serving.  A good one gets a new worker, with the listeners it
 * names (the ones kept are the same sockets, so no connection is
 * refused); once the new worker says it serves, the old one is told to
 * drain (SIGTERM: it answers what it was asked and exits).  A new
 * worker that dies before it serves leaves the old one in place.
 *
 * A worker that dies is started again, at once the first time, then
 * after 1, 2, 4 ... 30 s while it keeps dying (reset after 60 s of
 * life); one that dies before it ever served is a start-up failure and
 * the parent exits.  SIGTERM and SIGINT stop: the worker drains, the
 * unix sockets are removed, the parent exits 0.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "proc.h"
#include "serve.h"
#include "server.h"

#define CONF_FILE_MAX  (4 * 1024 * 1024)
#define BACKOFF_MAX    30
#define STABLE_SECONDS 60
#define NSIGNALS       4

static const int parent_signals[NSIGNALS] = {SIGHUP, SIGTERM, SIGINT, SIGCHLD};

/* A bound listener the parent holds. */
struct sock {
	struct policyd_listen l;
	int fd;
};

struct worker {
	pid_t pid; /* -1: none */
	int ctl;   /* -1: none */
	struct event *ev;
	bool ready;
	time_t started;
	/* The listeners it was given (the parent's fds). */
	struct sock socks[POLICYD_LISTEN_MAX];
	size_t nsocks;
	struct sock metrics; /* fd -1: none */
	struct policyd_conf conf;
};

struct parent {
	const char *conf_path;
	bool foreground;
	int verbose;
	struct worker cur, next; /* serving; starting after a reload */
	bool served;
	unsigned backoff;
	struct event *restart_ev;
	struct event *sig_ev[NSIGNALS];
	struct event_base *base;
};

static void start_worker(struct parent *p, struct worker *w);

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "usage: mtasts policyd [-dnv] [-f file]\n"
	        "       mtasts policyd cache dump [--json] [-f file] "
	        "[--cache url] [domain ...]\n"
	        "       mtasts policyd cache purge [-f file] [--cache url] "
	        "domain ... | --expired | --all\n\n"
	        "  -f file  configuration, default " POLICYD_CONF_DEFAULT "\n"
	        "  -d       stay in the foreground, log to stderr\n"
	        "  -n       check the configuration, print it, exit\n"
	        "  -v       more verbose logging\n\n"
	        "A Postfix socketmap server for smtp_tls_policy_maps: "
	        "MTA-STS and DANE.\nSIGHUP reloads; see mtasts-policyd(8).\n");
}

/* ---- the configuration ---- */

/* Reads and parses the file; 0, or -1 with the reason logged. */
int
policyd_conf_load(const char *path, struct policyd_conf *conf, char **text,
                  size_t *len)
{
	char err[POLICYD_CONF_ERR_SIZE], *buf = NULL;
	size_t n = 0, cap = 0;
	ssize_t r;
	int fd;

	if (path == NULL) { /* -f without a file: getopt never does it */
		log_warnx("no configuration file given");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) <
	    0) {
		log_warn("%s", path);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			char *b;

			cap = cap == 0 ? 4096 : cap * 2;
			if (cap > CONF_FILE_MAX + 1 ||
			    (b = realloc(buf, cap)) == NULL) {
				log_warnx("%s: over %d octets or out of memory",
				          path, CONF_FILE_MAX);
				goto fail;
			}
			buf = b;
		}
		if ((r = read(fd, buf + n, cap - n)) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("%s", path);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	fd = -1;
	if (policyd_conf_parse(buf != NULL ? buf : "", n, path, conf, err) !=
	    0) {
		log_warnx("%s", err);
		goto fail;
	}
	if (text != NULL) {
		*text = buf;
		*len = n;
	} else {
		free(buf);
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return -1;
}

/* ---- listeners ---- */

static int
bind_inet(const struct policyd_listen *l)
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
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, 1024) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Mode and group of a unix socket's path, on binding and on reload. */
static int
unix_perms(const struct policyd_listen *l)
{
	struct group *gr;

	if (l->group[0] != '\0') {
		if ((gr = getgrnam(l->group)) == NULL) {
			log_warnx("listen unix:%s: unknown group %s", l->path,
			          l->group);
			return -1;
		}
		if (chown(l->path, (uid_t)-1, gr->gr_gid) != 0) {
			log_warn("listen unix:%s: chown", l->path);
			return -1;
		}
	}
	if (chmod(l->path, (mode_t)l->mode) != 0) {
		log_warn("listen unix:%s: chmod", l->path);
		return -1;
	}
	return 0;
}

/* A unix socket, a stale one at its path removed first. */
static int
bind_unix(const struct policyd_listen *l)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, l->path, strlen(l->path) + 1);
	if (lstat(l->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("listen unix:%s: exists and is not a socket",
			          l->path);
			return -1;
		}
		(void)unlink(l->path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	old = umask(0177); /* nobody connects before chmod */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(fd, 1024) != 0 || unix_perms(l) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
bind_listener(const struct policyd_listen *l)
{
	char name[POLICYD_PATH_MAX + 16];
	int fd;

	fd = l->kind == POLICYD_LISTEN_UNIX ? bind_unix(l) : bind_inet(l);
	if (fd < 0) {
		policyd_listen_format(l, name, sizeof(name));
		log_warn("listen %s", name);
	}
	return fd;
}

static bool
same_sock(const struct policyd_listen *a, const struct policyd_listen *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == POLICYD_LISTEN_UNIX)
		return strcmp(a->path, b->path) == 0;
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* A socket of `have` for l (its permissions set anew), or a new one. */
static int
take_sock(const struct worker *have, const struct policyd_listen *l,
          bool *fresh)
{
	size_t i;

	*fresh = false;
	for (i = 0; have != NULL && i < have->nsocks; i++)
		if (same_sock(&have->socks[i].l, l)) {
			if (l->kind == POLICYD_LISTEN_UNIX &&
			    unix_perms(l) != 0)
				return -1;
			return have->socks[i].fd;
		}
	if (have != NULL && have->metrics.fd >= 0 &&
	    same_sock(&have->metrics.l, l))
		return have->metrics.fd;
	*fresh = true;
	return bind_listener(l);
}

static bool
in_worker(const struct worker *w, int fd)
{
	size_t i;

	for (i = 0; i < w->nsocks; i++)
		if (w->socks[i].fd == fd)
			return true;
	return w->metrics.fd == fd;
}

/* Closes the sockets of `w` that `keep` (may be NULL) does not hold. */
static void
release_socks(struct worker *w, const struct worker *keep)
{
	size_t i;

	for (i = 0; i < w->nsocks; i++) {
		if (keep != NULL && in_worker(keep, w->socks[i].fd))
			continue;
		close(w->socks[i].fd);
		if (w->socks[i].l.kind == POLICYD_LISTEN_UNIX)
			(void)unlink(w->socks[i].l.path);
	}
	if (w->metrics.fd >= 0 &&
	    (keep == NULL || !in_worker(keep, w->metrics.fd)))
		close(w->metrics.fd);
	w->nsocks = 0;
	w->metrics.fd = -1;
}

/*
 * The sockets of w->conf, reusing those of `have`.  0, or -1 (logged)
 * with every socket made here closed again.
 */
static int
open_socks(struct worker *w, const struct worker *have)
{
	bool fresh[POLICYD_LISTEN_MAX + 1];
	size_t i;

	w->nsocks = 0;
	w->metrics.fd = -1;
	for (i = 0; i < w->conf.listen_count; i++) {
		w->socks[i].l = w->conf.listen[i];
		if ((w->socks[i].fd =
		         take_sock(have, &w->conf.listen[i], &fresh[i])) < 0)
			goto fail;
		w->nsocks++;
	}
	if (w->conf.metrics_set) {
		w->metrics.l = w->conf.metrics;
		if ((w->metrics.fd = take_sock(have, &w->conf.metrics,
		                               &fresh[POLICYD_LISTEN_MAX])) < 0)
			goto fail;
	}
	return 0;
fail:
	for (i = 0; i < w->nsocks; i++)
		if (fresh[i]) {
			close(w->socks[i].fd);
			if (w->socks[i].l.kind == POLICYD_LISTEN_UNIX)
				(void)unlink(w->socks[i].l.path);
		}
	w->nsocks = 0;
	w->metrics.fd = -1;
	return -1;
}

/*
 * The SQLite store's directory, made when missing and given to the
 * worker's user (as systemd's StateDirectory= does), so that SQLite
 * can make its -wal and -shm files there.  An existing one is left as
 * its owner made it.
 */
static void
make_cache_dir(const struct policyd_conf *conf)
{
	char copy[PATH_MAX], *dir;
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (conf->cache == NULL || strncmp(conf->cache, "sqlite:", 7) != 0)
		return;
	snprintf(copy, sizeof(copy), "%s", conf->cache + 7);
	dir = dirname(copy);
	if (stat(dir, &st) == 0 || errno != ENOENT)
		return;
	if (mkdir(dir, 0750) != 0) {
		log_warn("cache directory %s", dir);
		return;
	}
	if (privdrop_ids(conf->user, &uid, &gid) == 0 &&
	    chown(dir, uid, gid) != 0)
		log_warn("cache directory %s: chown", dir);
}

/* ---- the worker ---- */

static time_t
monotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
describe_status(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)",
		         WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d",
		         WEXITSTATUS(status));
	else
		snprintf(buf, size, "ended (wait status %d)", status);
}

static void
worker_reset(struct worker *w)
{
	if (w->ev != NULL)
		event_free(w->ev);
	w->ev = NULL;
	if (w->ctl >= 0)
		close(w->ctl);
	w->ctl = -1;
	w->pid = -1;
	w->ready = false;
}

/* The new worker serves: the old one drains, its sockets go. */
static void
promote(struct parent *p)
{
	if (p->cur.pid > 0) {
		log_info("worker %ld serves; worker %ld drains",
		         (long)p->next.pid, (long)p->cur.pid);
		kill(p->cur.pid, SIGTERM);
	}
	/* The old worker's ctl closes: it drains if SIGTERM was missed. */
	worker_reset(&p->cur);
	release_socks(&p->cur, &p->next);
	policyd_conf_free(&p->cur.conf);
	p->cur = p->next;
	memset(&p->next, 0, sizeof(p->next));
	p->next.pid = -1;
	p->next.ctl = -1;
	p->next.metrics.fd = -1;
}

static void
worker_ctl(evutil_socket_t fd, short what, void *arg)
{
	struct parent *p = arg;
	struct worker *w = fd == p->next.ctl ? &p->next : &p->cur;
	uint8_t buf[CTL_REPLY_FRAME];
	struct ctl_frame f;
	char why[CTL_REPLY_MAX + 1];
	bool ok = false;
	ssize_t n;

	(void)what;
	n = recv(fd, buf, sizeof(buf), MSG_PEEK);
	if (n <= 0) {
		event_del(w->ev); /* SIGCHLD tells the rest */
		return;
	}
	if (ctl_frame_decode(buf, (size_t)n, CTL_REPLY_MAX, &f) != CTL_FRAME)
		return;
	(void)recv(fd, buf, f.size, 0);
	if (ctl_reply_parse(f.body, f.len, &ok, why, sizeof(why)) != 0 || !ok) {
		log_warnx("worker %ld: %s", (long)w->pid, why);
		return;
	}
	w->ready = true;
	p->served = true;
	if (w == &p->next)
		promote(p);
	else
		log_info("worker %ld serves", (long)w->pid);
}

/* Writes the configuration frame; 0 or -1. */
static int
send_conf(int fd, const char *text, size_t len)
{
	uint8_t hdr[CTL_FRAME_HDR];
	size_t off = 0;
	ssize_t n;

	ctl_header_encode(len, hdr);
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		return -1;
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Starts w with its sockets and configuration; pid -1 on failure. */
static void
spawn(struct parent *p, struct worker *w, const char *text, size_t len)
{
	struct proc_fds f = {-1, -1, -1, -1, NULL, 0};
	int fds[POLICYD_LISTEN_MAX], sp[2];
	size_t i;

	w->pid = -1;
	w->ctl = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		log_warn("socketpair");
		return;
	}
	for (i = 0; i < w->nsocks; i++)
		fds[i] = w->socks[i].fd;
	f.ctl = sp[1];
	f.metrics = w->metrics.fd;
	f.listen = fds;
	f.nlisten = w->nsocks;
	w->pid = proc_spawn_cmd("policyd", "worker", &f, NULL, p->foreground,
	                        p->verbose);
	close(sp[1]);
	w->ctl = sp[0];
	w->started = monotime();
	if (w->pid < 0 || send_conf(w->ctl, text, len) != 0) {
		if (w->pid > 0)
			kill(w->pid, SIGKILL); /* SIGCHLD follows */
		return;
	}
	if ((w->ev = event_new(p->base, w->ctl, EV_READ | EV_PERSIST,
	                       worker_ctl, p)) == NULL ||
	    event_add(w->ev, NULL) != 0)
		log_warnx("cannot watch worker %ld", (long)w->pid);
}

/* The text of the configuration a worker is started with. */
static char *conf_text;
static size_t conf_len;

static void
start_worker(struct parent *p, struct worker *w)
{
	spawn(p, w, conf_text, conf_len);
	if (w->pid < 0 && !p->served)
		fatalx("cannot start the worker");
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct parent *p = arg;

	(void)fd;
	(void)what;
	if (p->cur.pid < 0)
		start_worker(p, &p->cur);
}

static void
worker_ended(struct parent *p, struct worker *w, int status)
{
	struct timeval tv = {0, 0};
	time_t ran = monotime() - w->started;
	char why[128];

	describe_status(status, why, sizeof(why));
	if (w == &p->next) {
		log_warnx("reload failed: the new worker %ld %s before it "
		          "served; worker %ld keeps serving",
		          (long)w->pid, why, (long)p->cur.pid);
		worker_reset(w);
		release_socks(w, &p->cur);
		policyd_conf_free(&w->conf);
		return;
	}
	if (!p->served)
		fatalx("worker %ld %s before it served; stopping", (long)w->pid,
		       why);
	if (ran >= STABLE_SECONDS)
		p->backoff = 0;
	log_warnx("worker %ld %s after %lld s; restarting in %u s",
	          (long)w->pid, why, (long long)ran, p->backoff);
	worker_reset(w);
	tv.tv_sec = p->backoff;
	if (event_add(p->restart_ev, &tv) != 0)
		fatalx("cannot schedule a restart of the worker");
	p->backoff = p->backoff == 0 ? 1 : p->backoff * 2;
	if (p->backoff > BACKOFF_MAX)
		p->backoff = BACKOFF_MAX;
}

static void
reload(struct parent *p)
{
	struct worker *w = &p->next;
	char *text;
	size_t len;

	log_info("reloading %s", p->conf_path);
	if (w->pid > 0) {
		log_warnx("reload refused: worker %ld is still starting",
		          (long)w->pid);
		return;
	}
	memset(w, 0, sizeof(*w));
	w->pid = -1;
	w->ctl = -1;
	w->metrics.fd = -1;
	if (policyd_conf_load(p->conf_path, &w->conf, &text, &len) != 0) {
		log_warnx("reload refused; worker %ld keeps serving",
		          (long)p->cur.pid);
		return;
	}
	if (open_socks(w, &p->cur) != 0) {
		log_warnx("reload refused: a listener cannot be bound; "
		          "worker %ld keeps serving",
		          (long)p->cur.pid);
		policyd_conf_free(&w->conf);
		free(text);
		return;
	}
	make_cache_dir(&w->conf);
	fd_limit_fit(w->conf.max_connections, false);
	free(conf_text);
	conf_text = text;
	conf_len = len;
	spawn(p, w, text, len);
	if (w->pid < 0) {
		release_socks(w, &p->cur);
		policyd_conf_free(&w->conf);
	}
}

static void
stop(struct parent *p, int sig)
{
	int status;

	log_info("signal %d; stopping", sig);
	if (p->next.pid > 0)
		kill(p->next.pid, SIGKILL);
	if (p->cur.pid > 0) {
		kill(p->cur.pid, SIGTERM);
		waitpid(p->cur.pid, &status, 0);
	}
	release_socks(&p->cur, NULL);
	exit(0);
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
			if (pid == p->cur.pid)
				worker_ended(p, &p->cur, status);
			else if (pid == p->next.pid)
				worker_ended(p, &p->next, status);
			else
				log_info("worker %ld has drained", (long)pid);
		break;
	default:
		stop(p, (int)sig);
	}
}

static void
parent_events(struct parent *p)
{
	struct event *ev;
	size_t i;

	if ((p->base = event_base_new()) == NULL)
		fatalx("cannot make the event loop");
	for (i = 0; i < NSIGNALS; i++) {
		ev = evsignal_new(p->base, parent_signals[i], parent_signal, p);
		p->sig_ev[i] = ev;
		if (ev == NULL || event_add(ev, NULL) != 0)
			fatalx("cannot watch signal %d", parent_signals[i]);
	}
	if ((p->restart_ev = evtimer_new(p->base, restart_cb, p)) == NULL)
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

static int
run(struct parent *p, bool test_only)
{
	struct worker *w = &p->cur;

	log_init(true, p->verbose, "policyd");
	if (policyd_conf_load(p->conf_path, &w->conf, &conf_text, &conf_len) !=
	    0)
		return 1;
	if (test_only) {
		policyd_conf_print(stdout, &w->conf);
		policyd_conf_free(&w->conf);
		free(conf_text);
		return 0;
	}
	if (!p->foreground) {
		daemonize();
		log_init(false, p->verbose, "policyd");
	}
	signal(SIGPIPE, SIG_IGN);
	fd_limit_fit(w->conf.max_connections, false);
	if (open_socks(w, NULL) != 0)
		fatalx("cannot bind the listeners");
	make_cache_dir(&w->conf);
	parent_events(p);
	start_worker(p, w);
	log_init(p->foreground, p->verbose, "policyd[parent]");
	log_info("started: %zu listeners, worker pid %ld", w->nsocks,
	         (long)w->pid);
	event_base_dispatch(p->base);
	fatalx("the event loop ended");
}

int
policyd_main(int argc, char **argv)
{
	/* --process, --layout and --user are the parent's, for the worker
	   it starts (serve's proc.c); not for people. */
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

	if (argc > 1 && strcmp(argv[1], "cache") == 0)
		return policyd_cache_main(argc - 1, argv + 1);
	memset(&p, 0, sizeof(p));
	p.conf_path = POLICYD_CONF_DEFAULT;
	p.cur.pid = p.next.pid = -1;
	p.cur.ctl = p.next.ctl = -1;
	p.cur.metrics.fd = p.next.metrics.fd = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "df:hnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			p.foreground = true;
			break;
		case 'f':
			p.conf_path = optarg;
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
		return strcmp(role, "worker") == 0 ?
		    policyd_worker_main(layout, user, p.foreground, p.verbose) :
		    2;
	close_fds_except(NULL, 0);
	return run(&p, test_only);
}
