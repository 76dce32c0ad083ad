/* SPDX-License-Identifier: ISC */
/*
 * The server process's sandbox on Linux, as OpenBSD's httpd and relayd
 * have pledge(2) and unveil(2): once its listeners, its log socket and
 * OpenSSL are set up, the process that speaks to the internet
 *
 *   - sees no file system: it is chrooted into an empty directory that
 *     is removed before it enters it, so nothing can be created there
 *     either (sandbox_chroot_empty(), root only, before the uid changes);
 *   - cannot gain privileges again, through set-id programs or file
 *     capabilities (PR_SET_NO_NEW_PRIVS);
 *   - may make only the system calls it is seen to make (a seccomp
 *     filter built with libseccomp): any other call kills it with
 *     SIGSYS, which the parent logs before it starts a new one.
 *
 * What the allowlist holds and why: epoll and accept4 for the event
 * loop; read/write/recv/send on sockets; malloc's brk, mmap, munmap,
 * mremap, madvise and mprotect; the clocks; signal handling; getrandom
 * for OpenSSL's DRBG.
 *
 * Sanitizer builds (the tests' ASan+UBSan stage) keep the file system
 * and load no filter, only PR_SET_NO_NEW_PRIVS: LeakSanitizer checks at
 * exit from a tracer that reads /proc and ptraces the process, which is
 * what the sandbox exists to forbid.  The plain build's tests check the
 * sandbox of the running server; test_serve_sandbox checks the filter
 * itself in both builds (sandbox_filter_load()).
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
#include <unistd.h>

#include "serve.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) ||                                        \
    __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

bool
sandbox_sanitized(void)
{
	return SANITIZED != 0;
}

int
sandbox_chroot_empty(void)
{
	char dir[] = "/tmp/mtasts-empty.XXXXXX";
	int fd, saved;

	if (SANITIZED) {
		log_debug("sanitizer build: no chroot (LSan reads /proc)");
		return 0;
	}
	if (mkdtemp(dir) == NULL) {
		log_warn("sandbox: mkdtemp %s", dir);
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		saved = errno;
		(void)rmdir(dir);
		errno = saved;
		log_warn("sandbox: open %s", dir);
		return -1;
	}
	/*
	 * Removed before it is entered: a deleted directory can hold no
	 * new entry, so the root stays empty whatever the process does.
	 */
	if (rmdir(dir) != 0 || fchdir(fd) != 0 || chroot(".") != 0 ||
	    chdir("/") != 0) {
		log_warn("sandbox: chroot into an empty directory");
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	return 0;
}

int
sandbox_chroot_dir(const char *dir)
{
	if (SANITIZED) {
		log_debug("sanitizer build: no chroot (LSan reads /proc)");
		return 0;
	}
	if (chdir(dir) != 0 || chroot(".") != 0 || chdir("/") != 0) {
		log_warn("sandbox: chroot %s", dir);
		return -1;
	}
	return 0;
}

/* The system calls of the server process after start-up (strace -f). */
static const int allowed[] = {
    /* the event loop and its sockets */
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(accept4),
    SCMP_SYS(accept),
    SCMP_SYS(read),
    SCMP_SYS(readv),
    SCMP_SYS(write),
    SCMP_SYS(writev),
    SCMP_SYS(recvfrom),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendto),
    SCMP_SYS(sendmsg),
    SCMP_SYS(close),
    SCMP_SYS(shutdown),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(fcntl),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    /* syslog(3) reconnects when syslogd restarts; in the chroot the
     * connect fails with ENOENT and the line is lost, not the process */
    SCMP_SYS(socket),
    SCMP_SYS(connect),
    /* memory */
    SCMP_SYS(brk),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(mprotect),
    /* time, randomness, identity (OpenSSL asks for getuid and friends) */
    SCMP_SYS(clock_gettime),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(getrandom),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(sysinfo),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(lseek),
    /* threads' locks, signals, and the way out (abort() included) */
    SCMP_SYS(futex),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(tgkill),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(sched_yield),
};

/*
 * What the report process adds for an SQLite store in its chroot (its
 * own directory): the database, its -wal, -shm and -journal files, made,
 * locked (fcntl), read, written, synced and removed; the path's parts
 * looked at (SQLite resolves symbolic links).
 */
static const int allowed_sqlite[] = {
    SCMP_SYS(openat),    SCMP_SYS(open),      SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),  SCMP_SYS(fsync),     SCMP_SYS(fdatasync),
    SCMP_SYS(ftruncate), SCMP_SYS(unlink),    SCMP_SYS(unlinkat),
    SCMP_SYS(stat),      SCMP_SYS(lstat),     SCMP_SYS(statx),
    SCMP_SYS(getcwd),    SCMP_SYS(readlink),  SCMP_SYS(readlinkat),
    SCMP_SYS(access),    SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
    SCMP_SYS(fchown),    SCMP_SYS(fchmod),    SCMP_SYS(mkdir),
    SCMP_SYS(mkdirat),   SCMP_SYS(geteuid),
};

/*
 * What it adds for PostgreSQL: libpq's connection (a socket, TCP or
 * unix), the files it reads (/etc/hosts, /etc/services, ~/.pgpass, its
 * TLS files) and, for a host name, the resolver's.
 */
static const int allowed_pg[] = {
    SCMP_SYS(openat),    SCMP_SYS(open),       SCMP_SYS(stat),
    SCMP_SYS(lstat),     SCMP_SYS(statx),      SCMP_SYS(access),
    SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
    SCMP_SYS(uname),     SCMP_SYS(ioctl),      SCMP_SYS(bind),
    SCMP_SYS(pread64),   SCMP_SYS(getcwd),     SCMP_SYS(getdents64),
};

/*
 * What the worker of mtasts policyd adds: its DNS client (libunbound's
 * thread, started before the filter, binds a random source port and
 * talks to it over a pipe), its HTTPS fetches (non-blocking connect),
 * and the file calls of SQLite in its chroot (allowed_sqlite) or of
 * nothing in its empty one (an open there finds nothing: OpenSSL's
 * lookups of a CA directory fail instead of killing the process).
 * The Redis engine (cache_redis.c) holds SIGPIPE off around each
 * exchange and takes back one it caused: sigpending, sigtimedwait.
 */
static const int allowed_policyd[] = {
    SCMP_SYS(bind),
    SCMP_SYS(pipe2),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(select),
    SCMP_SYS(pselect6),
    SCMP_SYS(ioctl),
    SCMP_SYS(openat),
    SCMP_SYS(open),
    SCMP_SYS(eventfd2),
    SCMP_SYS(uname),
    SCMP_SYS(getsockopt),
    SCMP_SYS(socketpair),
    SCMP_SYS(recvmmsg),
    SCMP_SYS(sendmmsg),
    SCMP_SYS(getdents64),
    SCMP_SYS(rt_sigpending),
    SCMP_SYS(rt_sigtimedwait),
};

/*
 * What the acme process adds (acme_proc.c), which keeps the file system
 * and its uid (acme_proc.h):
 *   - its state directory's atomic writes (acme_state.c): a temporary
 *     file made, fchmod, written, fsync'd, renamed, the directory
 *     fsync'd; orders' files removed; the directories made at start;
 *   - the files it reads: acme-ca-file, /etc/ssl/certs (OpenSSL's
 *     lookups by hash), and glibc's resolver's /etc/hosts,
 *     /etc/resolv.conf, /etc/nsswitch.conf and gai.conf;
 *   - libcurl's threaded resolver: a thread per look-up (clone, clone3,
 *     set_robust_list, rseq) woken through a socketpair; getaddrinfo's
 *     DNS over UDP (sendmmsg for A and AAAA at once) and its look at the
 *     interfaces' addresses (a netlink socket, bound to the kernel's
 *     port: the one bind(2) it makes);
 *   - NSS modules dlopen'd on first use (openat, mmap, pread64).
 * Not there: execve, ptrace, the setuid family, mount, chroot, listen,
 * accept (it has no listener: bind is for netlink; a socket bound by a
 * taken-over process still could not accept), ioctl but FIONREAD.
 */
static const int allowed_acme[] = {
    /* files */
    SCMP_SYS(openat),
    SCMP_SYS(open),
    SCMP_SYS(pread64),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(rename),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(mkdir),
    SCMP_SYS(mkdirat),
    SCMP_SYS(fchmod),
    SCMP_SYS(stat),
    SCMP_SYS(lstat),
    SCMP_SYS(statx),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(getdents64),
    /* the resolver reads the host name when it reads resolv.conf */
    SCMP_SYS(uname),
    /* libcurl's resolver threads */
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(socketpair),
    /* libcurl wakes a transfer through one of these, by version */
    SCMP_SYS(pipe2),
    SCMP_SYS(eventfd2),
    /* getaddrinfo(3) */
    SCMP_SYS(bind),
    SCMP_SYS(sendmmsg),
};

static int
add_rules(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		/* A call this architecture lacks (negative pseudo number)
		 * is skipped: libseccomp cannot match it anyway. */
		if (calls[i] < 0)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0)) !=
		    0) {
			errno = -rc;
			return -1;
		}
	}
	return 0;
}

/*
 * ioctl(2) for FIONREAD alone (glibc's resolver sizes a UDP answer with
 * it); any other request kills the process like any call not allowed.
 */
static int
allow_fionread(scmp_filter_ctx ctx)
{
	/* Spelt out: SCMP_A1() leaves datum_b to the compiler (clang's
	   -Wmissing-field-initializers). */
	const struct scmp_arg_cmp cmp = {.arg = 1,
	                                 .op = SCMP_CMP_EQ,
	                                 .datum_a = FIONREAD,
	                                 .datum_b = 0};
	int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	                                &cmp);

	if (rc != 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/*
 * Loads the allowlist and, when extra is not NULL, n_extra more (and
 * extra2's n_extra2).  tsync: on every thread of the process (the
 * policyd worker's libunbound thread), not only the caller.  fionread:
 * ioctl(FIONREAD) too.
 */
static int
filter_load_ex(const int *extra, size_t n_extra, const int *extra2,
               size_t n_extra2, bool tsync, bool fionread)
{
	scmp_filter_ctx ctx;
	int rc;

	/* SCMP_ACT_KILL_PROCESS: the whole process, not one thread. */
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		log_warnx("sandbox: seccomp_init failed");
		return -1;
	}
	if (tsync &&
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0) {
		errno = -rc;
		log_warn("sandbox: seccomp thread synchronisation");
		seccomp_release(ctx);
		return -1;
	}
	if (add_rules(ctx, allowed, sizeof(allowed) / sizeof(allowed[0])) !=
	        0 ||
	    (extra != NULL && add_rules(ctx, extra, n_extra) != 0) ||
	    (extra2 != NULL && add_rules(ctx, extra2, n_extra2) != 0) ||
	    (fionread && allow_fionread(ctx) != 0)) {
		log_warn("sandbox: seccomp_rule_add");
		seccomp_release(ctx);
		return -1;
	}
	if ((rc = seccomp_load(ctx)) != 0) {
		errno = -rc;
		log_warn("sandbox: seccomp_load");
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}

static int
filter_load(const int *extra, size_t n_extra)
{
	return filter_load_ex(extra, n_extra, NULL, 0, false, false);
}

int
sandbox_filter_load(void)
{
	return filter_load(NULL, 0);
}

int
sandbox_filter_load_report(enum sandbox_store store)
{
	if (store == SANDBOX_PG)
		return filter_load(allowed_pg,
		                   sizeof(allowed_pg) / sizeof(allowed_pg[0]));
	return filter_load(allowed_sqlite,
	                   sizeof(allowed_sqlite) / sizeof(allowed_sqlite[0]));
}

/* PR_SET_NO_NEW_PRIVS: 0, 1 when a sanitizer build stops there, -1. */
static int
no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_warn("sandbox: PR_SET_NO_NEW_PRIVS");
		return -1;
	}
	if (SANITIZED) {
		log_debug("sanitizer build: no seccomp filter (LSan ptraces)");
		return 1;
	}
	return 0;
}

int
sandbox_seccomp(void)
{
	int rc = no_new_privs();

	return rc != 0 ? (rc < 0 ? -1 : 0) : sandbox_filter_load();
}

int
sandbox_seccomp_report(enum sandbox_store store)
{
	int rc = no_new_privs();

	return rc != 0 ? (rc < 0 ? -1 : 0) : sandbox_filter_load_report(store);
}

int
sandbox_filter_load_policyd(bool sqlite)
{
	return filter_load_ex(allowed_policyd,
	                      sizeof(allowed_policyd) /
	                          sizeof(allowed_policyd[0]),
	                      sqlite ? allowed_sqlite : NULL,
	                      sqlite ? sizeof(allowed_sqlite) /
	                              sizeof(allowed_sqlite[0]) :
	                               0,
	                      true, false);
}

int
sandbox_seccomp_policyd(bool sqlite)
{
	int rc = no_new_privs();

	return rc != 0 ? (rc < 0 ? -1 : 0) :
			 sandbox_filter_load_policyd(sqlite);
}

int
sandbox_filter_load_acme(void)
{
	return filter_load_ex(allowed_acme,
	                      sizeof(allowed_acme) / sizeof(allowed_acme[0]),
	                      NULL, 0, true, true);
}

int
sandbox_seccomp_acme(void)
{
	int rc = no_new_privs();

	return rc != 0 ? (rc < 0 ? -1 : 0) : sandbox_filter_load_acme();
}
