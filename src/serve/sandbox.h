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
 * PR_SET_NO_NEW_PRIVS, then the seccomp filter: any system call outside
 * the allowlist kills the process (SIGSYS).  Last thing before serving.
 * 0, or -1 logged.  A sanitizer build stops after PR_SET_NO_NEW_PRIVS
 * (LeakSanitizer ptraces the process at exit).
 */
int sandbox_seccomp(void);

/* The filter alone, in every build (for its test); 0, or -1 logged. */
int sandbox_filter_load(void);

/* Whether this is a sanitizer build (its sandbox is wider; see above). */
bool sandbox_sanitized(void);

#endif
