/* SPDX-License-Identifier: ISC */
/*
 * The server process's sandbox (sandbox_linux.c): no file system, no new
 * privileges, a seccomp allowlist of system calls.
 */
#ifndef MTS_SERVE_SANDBOX_H
#define MTS_SERVE_SANDBOX_H

#include <stdbool.h>

/*
 * Chroots into an empty directory that no longer exists, then "/".  Root
 * only, so before the uid changes.  0, or -1 logged.  A sanitizer build
 * keeps the file system (LeakSanitizer reads /proc) and returns 0.
 */
int sandbox_chroot_empty(void);

/*
 * Chroots into dir, then "/" (the report process on SQLite: the store's
 * directory).  Root only.  0, or -1 logged; a sanitizer build keeps the
 * file system and returns 0.
 */
int sandbox_chroot_dir(const char *dir);

/*
 * PR_SET_NO_NEW_PRIVS, then the seccomp filter: any system call outside
 * the allowlist kills the process (SIGSYS).  Last thing before serving.
 * 0, or -1 logged.  A sanitizer build stops after PR_SET_NO_NEW_PRIVS
 * (LeakSanitizer ptraces the process at exit).
 */
int sandbox_seccomp(void);

/* The filter alone, in every build (for its test); 0, or -1 logged. */
int sandbox_filter_load(void);

/* The report process's sandbox: its store's engine, its system calls. */
enum sandbox_store { SANDBOX_SQLITE, SANDBOX_PG };

/*
 * sandbox_seccomp() for the report process: the server's calls and
 * those of a store: files in its chroot for SQLite (open, pread, pwrite,
 * fsync, locks, unlink), and the network and the configuration files
 * libpq reads for PostgreSQL.  0, or -1 logged.
 */
int sandbox_seccomp_report(enum sandbox_store store);

/* Its filter alone, in every build (for its test); 0, or -1 logged. */
int sandbox_filter_load_report(enum sandbox_store store);

/*
 * sandbox_seccomp() for the worker of mtasts policyd: the server's calls,
 * those of its DNS and HTTPS clients, and, when sqlite, those of an
 * SQLite store in its chroot.  The filter is put on every thread (the
 * resolver's too).  0, or -1 logged.
 */
int sandbox_seccomp_policyd(bool sqlite);

/* Its filter alone, in every build (for its test); 0, or -1 logged. */
int sandbox_filter_load_policyd(bool sqlite);

/*
 * sandbox_seccomp() for the acme process, which keeps its uid and the
 * file system: the server's calls, its state directory's atomic writes,
 * the files it reads (acme-ca-file, the trust store, the resolver's),
 * libcurl's resolver threads and getaddrinfo(3)'s DNS.  No execve, no
 * setuid family, no mount or chroot, no listen or accept.  On every
 * thread.  0, or -1 logged.
 */
int sandbox_seccomp_acme(void);

/* Its filter alone, in every build (for its test); 0, or -1 logged. */
int sandbox_filter_load_acme(void);

/* Whether this is a sanitizer build (its sandbox is wider; see above). */
bool sandbox_sanitized(void);

#endif
