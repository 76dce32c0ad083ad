/* SPDX-License-Identifier: ISC */
/*
 * The seccomp sandbox of mtasts serve (src/serve/sandbox_linux.c), for
 * real, in forked children: once in, a process keeps the calls of
 * serving (write to a pipe, getpid, the clock, malloc) and no new
 * privileges; any other call (chdir, mkdir, a setuid) kills it with
 * SIGSYS, the whole process and at once.  The empty chroot needs root:
 * skipped otherwise.  Prints TAP.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "serve.h"
#include "tap.h"

/* Runs fn in a sandboxed child; its wait status. */
static int
in_sandbox(int (*fn)(int), int fd)
{
	int status = -1;
	pid_t pid;

	if ((pid = fork()) == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    sandbox_filter_load() != 0)
			_exit(90);
		_exit(fn(fd));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static bool
exited(int status, int code)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

static bool
killed_by_sigsys(int status)
{
	return status != -1 && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGSYS;
}

/* What serving does: these must go on working. */
static int
serving(int fd)
{
	struct timespec t;
	char *p;

	if (clock_gettime(CLOCK_MONOTONIC, &t) != 0 || getpid() <= 0)
		return 1;
	if ((p = malloc(1 << 20)) == NULL) /* mmap */
		return 2;
	memset(p, 1, 1 << 20);
	free(p);
	if (write(fd, "ok", 2) != 2)
		return 3;
	return 0;
}

static int
no_new_privs(int fd)
{
	char line[256];
	FILE *fp;
	int nnp = -1, seccomp = -1;

	/* Read before: /proc is a file system, and opening it is not a
	   call of serving (fd is the status file, opened by the parent). */
	if ((fp = fdopen(fd, "r")) == NULL)
		return 1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		sscanf(line, "NoNewPrivs: %d", &nnp);
		sscanf(line, "Seccomp: %d", &seccomp);
	}
	return nnp == 1 && seccomp == 2 ? 0 : 2;
}

static int
call_chdir(int fd)
{
	(void)fd;
	return chdir("/") == 0 ? 10 : 11;
}

static int
call_mkdir(int fd)
{
	(void)fd;
	return mkdir("/tmp/mtasts-sandbox-test", 0700) == 0 ? 10 : 11;
}

static int
call_setuid(int fd)
{
	(void)fd;
	return setuid(0) == 0 ? 10 : 11;
}

/* Status of a child that checks its own /proc/self/status from inside. */
static int
status_in_sandbox(void)
{
	int status = -1, fd;
	pid_t pid;

	if ((pid = fork()) == 0) {
		/* The file of this very process, opened before entering. */
		if ((fd = open("/proc/self/status", O_RDONLY)) < 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    sandbox_filter_load() != 0)
			_exit(90);
		_exit(no_new_privs(fd));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static int
chroot_child(int fd)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	(void)fd;
	if (sandbox_chroot_empty() != 0)
		return 1;
	if ((d = opendir("/")) == NULL)
		return 2;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	if (n != 0)
		return 3;
	if (access("/etc/passwd", F_OK) == 0 || access("/proc", F_OK) == 0)
		return 4;
	/* Nothing can be made in a directory that is gone. */
	if (mkdir("/x", 0700) == 0 || open("/y", O_CREAT | O_WRONLY, 0600) >= 0)
		return 5;
	return 0;
}

/* ---- the report process's filters (RFC 8460 §5.4's store) ---- */

/* Runs fn in a child under the report filter for store; its status. */
static int
in_report_sandbox(enum sandbox_store store, int (*fn)(int), int fd)
{
	int status = -1;
	pid_t pid;

	if ((pid = fork()) == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    sandbox_filter_load_report(store) != 0)
			_exit(90);
		_exit(fn(fd));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* What SQLite does with its files: make, lock, write, sync, remove. */
static int
sqlite_files(int fd)
{
	static const char path[] = "/tmp/mtasts-sandbox-test.db";
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct stat st;
	int f;

	(void)fd;
	if ((f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return 1;
	if (fcntl(f, F_SETLK, &lk) != 0 || pwrite(f, "page", 4, 0) != 4 ||
	    fdatasync(f) != 0 || fsync(f) != 0 || ftruncate(f, 2) != 0 ||
	    fstat(f, &st) != 0 || stat(path, &st) != 0)
		return 2;
	close(f);
	return unlink(path) == 0 ? 0 : 3;
}

/* What libpq does: a TCP socket, a connection (refused here), a file. */
static int
pg_network(int fd)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(1)};
	int s, f;

	(void)fd;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 1;
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return 2; /* nothing listens on port 1 */
	close(s);
	if ((f = open("/etc/hosts", O_RDONLY | O_CLOEXEC)) < 0)
		return 3;
	close(f);
	return 0;
}

static int
call_execve(int fd)
{
	char *argv[] = {(char *)"true", NULL};

	(void)fd;
	execve("/bin/true", argv, argv + 1);
	return 11;
}

static void
check_report_filters(void)
{
	tap_ok(exited(in_report_sandbox(SANDBOX_SQLITE, sqlite_files, -1), 0),
	       "report process, SQLite: its files are made, locked, "
	       "written, synced and removed");
	tap_ok(exited(in_report_sandbox(SANDBOX_PG, pg_network, -1), 0),
	       "report process, PostgreSQL: a TCP connection and a file "
	       "to read");
	tap_ok(killed_by_sigsys(
		   in_report_sandbox(SANDBOX_SQLITE, call_execve, -1)) &&
	           killed_by_sigsys(
		       in_report_sandbox(SANDBOX_PG, call_execve, -1)),
	       "report process: execve(2) killed by SIGSYS, either store");
	tap_ok(killed_by_sigsys(
		   in_report_sandbox(SANDBOX_SQLITE, call_setuid, -1)) &&
	           killed_by_sigsys(
		       in_report_sandbox(SANDBOX_PG, call_setuid, -1)),
	       "report process: setuid(2) killed by SIGSYS, either store");
	tap_ok(killed_by_sigsys(in_report_sandbox(SANDBOX_PG, call_mkdir, -1)),
	       "report process, PostgreSQL: mkdir(2) killed by SIGSYS");
	rmdir("/tmp/mtasts-sandbox-test");
	tap_ok(killed_by_sigsys(
		   in_report_sandbox(SANDBOX_SQLITE, call_chdir, -1)),
	       "report process, SQLite: chdir(2) killed by SIGSYS");
}

/* ---- the acme process's filter ---- */

static int
in_acme_sandbox(int (*fn)(int), int fd)
{
	int status = -1;
	pid_t pid;

	if ((pid = fork()) == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    sandbox_filter_load_acme() != 0)
			_exit(90);
		_exit(fn(fd));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* What acme_state.c does: a directory made, a file written atomically
   (temporary, fchmod, write, fsync, rename, the directory synced), the
   directory listed, the file removed (never a directory). */
static int
acme_state_files(int fd)
{
	static const char dir[] = "/tmp/mtasts-sandbox-acme";
	DIR *d;
	int f, n = 0;

	(void)fd;
	if (mkdir(dir, 0700) != 0)
		return 1;
	if ((f = open("/tmp/mtasts-sandbox-acme/x.tmp",
	              O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return 2;
	if (fchmod(f, 0644) != 0 || write(f, "state", 5) != 5 ||
	    fsync(f) != 0 || fdatasync(f) != 0 || close(f) != 0)
		return 3;
	if (rename("/tmp/mtasts-sandbox-acme/x.tmp",
	           "/tmp/mtasts-sandbox-acme/x") != 0)
		return 4;
	if ((f = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(f) != 0 || close(f) != 0)
		return 5;
	if ((d = opendir(dir)) == NULL)
		return 6;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	if (n != 3)
		return 7;
	if (unlink("/tmp/mtasts-sandbox-acme/x") != 0)
		return 8;
	return 0;
}

/* glibc's resolver: ioctl(FIONREAD) on its UDP socket. */
static int
acme_fionread(int fd)
{
	int s, avail = -1;

	(void)fd;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 1;
	if (ioctl(s, FIONREAD, &avail) != 0 || avail != 0)
		return 2;
	close(s);
	return 0;
}

/* Any other ioctl(2) request. */
static int
acme_other_ioctl(int fd)
{
	int flags = 0;

	(void)fd;
	return ioctl(1, FIONBIO, &flags) == 0 ? 10 : 11;
}

/* A listener: bind is allowed (netlink), listen is not. */
static int
acme_listen(int fd)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int s;

	(void)fd;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return 1;
	return listen(s, 1) == 0 ? 10 : 11;
}

static int
call_chroot(int fd)
{
	(void)fd;
	return chroot("/") == 0 ? 10 : 11;
}

static void
check_acme_filter(void)
{
	int status;

	status = in_acme_sandbox(acme_state_files, -1);
	tap_ok(exited(status, 0),
	       "acme process: its state directory's atomic writes, listing "
	       "and removals (status %d)",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	(void)unlink("/tmp/mtasts-sandbox-acme/x.tmp");
	(void)unlink("/tmp/mtasts-sandbox-acme/x");
	(void)rmdir("/tmp/mtasts-sandbox-acme");
	tap_ok(exited(in_acme_sandbox(acme_fionread, -1), 0),
	       "acme process: ioctl(FIONREAD) on a socket (glibc's resolver)");
	tap_ok(killed_by_sigsys(in_acme_sandbox(acme_other_ioctl, -1)),
	       "acme process: ioctl(FIONBIO) killed by SIGSYS");
	tap_ok(killed_by_sigsys(in_acme_sandbox(acme_listen, -1)),
	       "acme process: bind(2) allowed, listen(2) killed by SIGSYS");
	tap_ok(killed_by_sigsys(in_acme_sandbox(call_execve, -1)),
	       "acme process: execve(2) killed by SIGSYS");
	tap_ok(killed_by_sigsys(in_acme_sandbox(call_setuid, -1)),
	       "acme process: setuid(2) killed by SIGSYS");
	tap_ok(killed_by_sigsys(in_acme_sandbox(call_chroot, -1)),
	       "acme process: chroot(2) killed by SIGSYS");
}

int
main(void)
{
	int p[2], status;
	char buf[4] = "";
	pid_t pid;

	log_init(true, 0, "test");
	if (pipe(p) != 0) {
		printf("Bail out! pipe\n");
		return 1;
	}
	status = in_sandbox(serving, p[1]);
	tap_ok(exited(status, 0) && read(p[0], buf, 2) == 2 &&
	           memcmp(buf, "ok", 2) == 0,
	       "in the sandbox: the clock, getpid, malloc and write work");
	tap_ok(exited(status_in_sandbox(), 0),
	       "in the sandbox: NoNewPrivs 1 and Seccomp 2 (filter)");
	tap_ok(killed_by_sigsys(in_sandbox(call_chdir, -1)),
	       "chdir(2), not a call of serving: killed by SIGSYS");
	tap_ok(killed_by_sigsys(in_sandbox(call_mkdir, -1)),
	       "mkdir(2): killed by SIGSYS, nothing made");
	rmdir("/tmp/mtasts-sandbox-test");
	tap_ok(killed_by_sigsys(in_sandbox(call_setuid, -1)),
	       "setuid(2): killed by SIGSYS");
	if (geteuid() != 0 || sandbox_sanitized()) {
		tap_skip("the empty chroot",
		         geteuid() != 0 ? "needs root" :
		                          "a sanitizer build keeps the "
		                          "file system");
	} else {
		if ((pid = fork()) == 0)
			_exit(chroot_child(-1));
		status = -1;
		if (pid > 0)
			waitpid(pid, &status, 0);
		tap_ok(exited(status, 0),
		       "the chroot: an empty root, no /etc, no /proc, "
		       "nothing can be made (status %d)",
		       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	check_report_filters();
	check_acme_filter();
	return tap_done();
}
