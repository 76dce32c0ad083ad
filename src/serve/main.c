/* SPDX-License-Identifier: ISC */
/*
 * mtasts serve: start-up and the privileged parent process.
 *
 * The parent loads and checks the configuration (loader.c), binds the
 * listeners as root, forks the server process, which drops to the
 * configured user, and hands it the checked set.  On SIGHUP the parent
 * loads everything again; only a set that passes every check is sent,
 * so a broken reload is logged and the old set keeps serving.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "serve.h"
#include "serve_main.h"

#define DEFAULT_CONF "/etc/mtasts/mtasts.conf"

struct parent {
	const char *conf_path;
	struct serve_conf conf;
	uint32_t generation;
	pid_t child;
	int ctl_fd;
	struct event_base *base;
};

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

/* Writes a whole frame: 8-byte big-endian length, then the bundle. */
static int
send_bundle(int fd, const struct bundle *b)
{
	uint8_t hdr[8], *buf;
	size_t len, off = 0;
	ssize_t n;
	int i, rc = 0;

	if (bundle_encode(b, &buf, &len) != 0) {
		log_warnx("cannot encode the configuration set");
		return -1;
	}
	for (i = 0; i < 8; i++)
		hdr[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
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
	explicit_bzero(buf, len); /* it holds private keys */
	free(buf);
	if (rc != 0)
		log_warn("cannot send the configuration set to the server");
	return rc;
}

/* An empty frame: the server counts the refused reload in its metrics. */
static void
notify_refused(int fd)
{
	static const uint8_t empty[8];

	if (write(fd, empty, sizeof(empty)) != (ssize_t)sizeof(empty))
		log_warn("control channel");
}

static bool
same_listeners(const struct serve_conf *a, const struct serve_conf *b)
{
	size_t i;

	if (a->listen_count != b->listen_count ||
	    a->metrics.port != b->metrics.port ||
	    strcmp(a->metrics.host, b->metrics.host) != 0)
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
		notify_refused(p->ctl_fd);
		return;
	}
	if (!same_listeners(&p->conf, &conf))
		log_warnx(
		    "listen and metrics addresses change only on restart");
	b.generation = p->generation + 1;
	if (send_bundle(p->ctl_fd, &b) == 0)
		p->generation++;
	bundle_free(&b);
	conf_free(&p->conf);
	p->conf = conf;
}

static void
parent_signal(evutil_socket_t sig, short what, void *arg)
{
	struct parent *p = arg;
	int status;

	(void)what;
	switch (sig) {
	case SIGHUP:
		reload(p);
		break;
	case SIGCHLD:
		if (waitpid(p->child, &status, WNOHANG) == p->child) {
			log_warnx("server process ended (status %d)", status);
			exit(1);
		}
		break;
	default:
		log_info("signal %d; stopping", (int)sig);
		kill(p->child, SIGTERM);
		waitpid(p->child, &status, 0);
		exit(0);
	}
}

/* Replies of the server process to each set: "OK" or "FAIL why". */
static void
parent_ctl(evutil_socket_t fd, short what, void *arg)
{
	struct parent *p = arg;
	char buf[512];
	ssize_t n;

	(void)what;
	if ((n = read(fd, buf, sizeof(buf) - 1)) <= 0) {
		if (n < 0 && errno == EINTR)
			return;
		log_warnx("server process closed the control channel");
		event_base_loopexit(p->base, NULL);
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strncmp(buf, "OK", 2) == 0)
		log_info("server runs generation %u", p->generation);
	else
		log_warnx("server kept its old set: %s", buf);
}

static int
parent_run(struct parent *p)
{
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT, SIGCHLD};
	struct event *ev[5];
	size_t i;

	if ((p->base = event_base_new()) == NULL)
		fatalx("out of memory");
	for (i = 0; i < 4; i++) {
		ev[i] = evsignal_new(p->base, sigs[i], parent_signal, p);
		event_add(ev[i], NULL);
	}
	ev[4] =
	    event_new(p->base, p->ctl_fd, EV_READ | EV_PERSIST, parent_ctl, p);
	event_add(ev[4], NULL);
	event_base_dispatch(p->base);
	kill(p->child, SIGTERM);
	return 1;
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
open_log(const char *path)
{
	int fd;

	if (path == NULL)
		return -1;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) <
	    0)
		fatal("access-log %s", path);
	return fd;
}

static void
start_server(struct parent *p, bool foreground, int verbose)
{
	int sp[2], fds[CONF_LISTEN_MAX], metrics_fd = -1, log_fd;
	size_t i, n = p->conf.listen_count;

	for (i = 0; i < n; i++)
		fds[i] = bind_listener(&p->conf.listen[i]);
	if (p->conf.metrics.port != 0)
		metrics_fd = bind_listener(&p->conf.metrics);
	log_fd = open_log(p->conf.access_log);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		fatal("socketpair");
	if ((p->child = fork()) < 0)
		fatal("fork");
	if (p->child == 0) {
		close(sp[0]);
		log_init(foreground, verbose, "serve");
		privdrop(p->conf.user);
		exit(server_run(fds, n, metrics_fd, log_fd, sp[1]));
	}
	close(sp[1]);
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (metrics_fd >= 0)
		close(metrics_fd);
	if (log_fd >= 0)
		close(log_fd);
	p->ctl_fd = sp[0];
}

int
serve_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool foreground = false, test_only = false;
	struct parent p;
	struct bundle b;
	int ch, verbose = 0;

	memset(&p, 0, sizeof(p));
	p.conf_path = DEFAULT_CONF;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:dhnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			p.conf_path = optarg;
			break;
		case 'd':
			foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			test_only = true;
			break;
		case 'v':
			verbose++;
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
	log_init(true, verbose, "serve");
	if (loader_load(p.conf_path, &p.conf, &b) != 0)
		return 1;
	if (test_only) {
		printf("%s: configuration OK, %zu domains\n", p.conf_path,
		       b.domain_count);
		bundle_free(&b);
		conf_free(&p.conf);
		return 0;
	}
	if (!foreground) {
		daemonize();
		log_init(false, verbose, "serve");
	}
	signal(SIGPIPE, SIG_IGN);
	start_server(&p, foreground, verbose);
	log_init(foreground, verbose, "serve[parent]");
	p.generation = b.generation = 1;
	if (send_bundle(p.ctl_fd, &b) != 0)
		fatalx("cannot start the server process");
	bundle_free(&b);
	log_info("started: %zu listeners, server pid %ld", p.conf.listen_count,
	         (long)p.child);
	return parent_run(&p);
}
