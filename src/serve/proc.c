/* SPDX-License-Identifier: ISC */
/*
 * The processes the parent of mtasts serve starts, each fresh: fork, then
 * exec of this same program (/proc/self/exe), as OpenBSD's daemons start
 * theirs.  A forked child would inherit the parent's heap, and with it
 * every private key the parent has read; an exec'd one starts with
 * nothing but what it is handed.  What it is handed are descriptors at
 * fixed numbers (PROC_FD_*), described by `--layout`:
 *
 *   mtasts serve --process server|keys|report|acme --layout L,M,G,K [--user U]
 *       [-d] [-v]
 *
 *   L  listeners, at PROC_FD_LISTEN0 and up     M  1: metrics listener
 *   G  1: access log                            K  1: the key or report
 *                                                  process's socket to
 *                                                  the server
 *
 * These options are internal: the parent passes them, people do not.
 *
 * The server process (server.c) speaks TLS and HTTP; the key process
 * (keyproc.c) holds the private keys and signs for it; the report
 * process (reportproc.c) stores the TLS-RPT reports POSTed to it.  Each
 * drops to its user in an empty chroot (the report process: its store's
 * directory, or none for PostgreSQL; privdrop.c), then enters its
 * seccomp sandbox (sandbox_linux.c).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "acme_proc.h"
#include "keyproc.h"
#include "proc.h"
#include "reportproc.h"
#include "sandbox.h"
#include "serve.h"

/* Above every fixed number: where descriptors wait while they move. */
#define FD_PARK (PROC_FD_LISTEN0 + CONF_LISTEN_MAX)

/* The new process's copy of its descriptors, in the fixed places. */
static void
place_fds(const struct proc_fds *f)
{
	int src[PROC_FD_LISTEN0 + CONF_LISTEN_MAX],
	    dst[PROC_FD_LISTEN0 + CONF_LISTEN_MAX];
	size_t i, n = 0;

	src[n] = f->ctl, dst[n++] = PROC_FD_CTL;
	if (f->sign >= 0)
		src[n] = f->sign, dst[n++] = PROC_FD_SIGN;
	if (f->log >= 0)
		src[n] = f->log, dst[n++] = PROC_FD_LOG;
	if (f->metrics >= 0)
		src[n] = f->metrics, dst[n++] = PROC_FD_METRICS;
	for (i = 0; i < f->nlisten; i++)
		src[n] = f->listen[i], dst[n++] = PROC_FD_LISTEN0 + (int)i;
	/* Two steps, so that no move overwrites a descriptor not yet
	   moved: all to FD_PARK and above, then down to their places (dup2
	   clears close-on-exec). */
	for (i = 0; i < n; i++)
		if ((src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, FD_PARK)) < 0)
			_exit(127);
	for (i = 0; i < n; i++)
		if (dup2(src[i], dst[i]) < 0)
			_exit(127);
	close_fds_except(dst, n);
}

pid_t
proc_spawn(const char *role, const struct proc_fds *f, const char *user,
           bool foreground, int verbose)
{
	return proc_spawn_cmd("serve", role, f, user, foreground, verbose);
}

pid_t
proc_spawn_cmd(const char *command, const char *role, const struct proc_fds *f,
               const char *user, bool foreground, int verbose)
{
	char layout[64], verbosity[8] = "-v", rolebuf[16], userbuf[128],
			 cmdbuf[16];
	char *argv[12];
	sigset_t all, old;
	size_t n = 0;
	pid_t pid;

	snprintf(layout, sizeof(layout), "%zu,%d,%d,%d", f->nlisten,
	         f->metrics >= 0, f->log >= 0, f->sign >= 0);
	argv[n++] = (char *)"mtasts";
	snprintf(cmdbuf, sizeof(cmdbuf), "%s", command);
	argv[n++] = cmdbuf;
	argv[n++] = (char *)"--process";
	snprintf(rolebuf, sizeof(rolebuf), "%s", role);
	argv[n++] = rolebuf;
	argv[n++] = (char *)"--layout";
	argv[n++] = layout;
	if (user != NULL) {
		argv[n++] = (char *)"--user";
		snprintf(userbuf, sizeof(userbuf), "%s", user);
		argv[n++] = userbuf;
	}
	if (foreground)
		argv[n++] = (char *)"-d";
	if (verbose > 0) {
		snprintf(verbosity, sizeof(verbosity), "-%.*s",
		         verbose > 5 ? 5 : verbose, "vvvvv");
		argv[n++] = verbosity;
	}
	argv[n] = NULL;
	/* Signals wait until the new program has its own handlers. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0) {
		place_fds(f);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		log_warn("fork of the %s process", role);
	return pid;
}

/* One number of the layout, up to max, then `end`; -1 if not. */
static int
layout_field(const char **s, unsigned max, char end, unsigned *out)
{
	char *stop;
	unsigned long v;

	if (**s < '0' || **s > '9')
		return -1;
	errno = 0;
	v = strtoul(*s, &stop, 10);
	if (errno != 0 || v > max || *stop != end)
		return -1;
	*out = (unsigned)v;
	*s = stop + (end != '\0');
	return 0;
}

int
proc_layout_parse(const char *s, size_t *nlisten, bool *metrics, bool *log,
                  bool *sign)
{
	unsigned l, m, g, k;

	if (s == NULL || layout_field(&s, CONF_LISTEN_MAX, ',', &l) != 0 ||
	    layout_field(&s, 1, ',', &m) != 0 ||
	    layout_field(&s, 1, ',', &g) != 0 ||
	    layout_field(&s, 1, '\0', &k) != 0)
		return -1;
	*nlisten = l;
	*metrics = m == 1;
	*log = g == 1;
	*sign = k == 1;
	return 0;
}

int
proc_main(const char *role, const char *layout, const char *user,
          bool foreground, int verbose)
{
	int fds[CONF_LISTEN_MAX];
	bool metrics, log, sign;
	size_t i, n;

	if (proc_layout_parse(layout, &n, &metrics, &log, &sign) != 0) {
		fprintf(stderr,
		        "mtasts serve: --process is internal: the "
		        "parent starts its processes itself\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* OpenSSL reads its configuration file now, while there is one. */
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
	if (strcmp(role, "keys") == 0) {
		log_init(foreground, verbose, "serve[keys]");
		privdrop(user, "key");
		if (sandbox_seccomp() != 0)
			fatalx("the key process cannot enter its sandbox");
		return keyproc_main(PROC_FD_CTL, PROC_FD_SIGN);
	}
	if (strcmp(role, "report") == 0) {
		log_init(foreground, verbose, "serve[report]");
		if (!sign)
			return 2;
		return reportproc_main(PROC_FD_CTL, PROC_FD_SIGN, user);
	}
	if (strcmp(role, "acme") == 0) {
		/* It keeps its uid and file system: it writes the state
		   directory and resolves the CA's name (acme_proc.h). */
		log_init(foreground, verbose, "serve[acme]");
		return acmeproc_main(PROC_FD_CTL, user);
	}
	if (strcmp(role, "server") != 0)
		return 2;
	log_init(foreground, verbose, "serve");
	privdrop(user, "server");
	for (i = 0; i < n; i++)
		fds[i] = PROC_FD_LISTEN0 + (int)i;
	return server_run(fds, n, metrics ? PROC_FD_METRICS : -1,
	                  log ? PROC_FD_LOG : -1, PROC_FD_CTL,
	                  sign ? PROC_FD_SIGN : -1);
}
