/* SPDX-License-Identifier: ISC */
/*
 * The processes of mtasts serve, started fresh by fork and exec (proc.c).
 */
#ifndef MTS_SERVE_PROC_H
#define MTS_SERVE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Where a started process finds its descriptors. */
#define PROC_FD_CTL     3 /* the parent's control channel */
#define PROC_FD_SIGN    4 /* server <-> key or report process */
#define PROC_FD_LOG     5 /* the access log */
#define PROC_FD_METRICS 6
#define PROC_FD_LISTEN0 7 /* the listeners, in order */

/* The descriptors handed to a new process; -1: none. */
struct proc_fds {
	int ctl;
	int sign;
	int log;
	int metrics;
	const int *listen;
	size_t nlisten;
};

/*
 * Starts `role` ("server", "keys" or "report") as a new program with these
 * descriptors, as `user` (NULL: the default, see privdrop()).  Its pid,
 * or -1 (logged).  The caller's descriptors stay open in the caller.
 */
pid_t proc_spawn(const char *role, const struct proc_fds *fds, const char *user,
                 bool foreground, int verbose);

/* proc_spawn() of another subcommand: `mtasts COMMAND --process ROLE
   ...` (mtasts policyd's worker). */
pid_t proc_spawn_cmd(const char *command, const char *role,
                     const struct proc_fds *fds, const char *user,
                     bool foreground, int verbose);

/* Reads a --layout "L,M,G,K" (proc.c); 0, or -1 when malformed. */
int proc_layout_parse(const char *s, size_t *nlisten, bool *metrics, bool *log,
                      bool *sign);

/* The new program's side: `mtasts serve --process ROLE --layout ...`. */
int proc_main(const char *role, const char *layout, const char *user,
              bool foreground, int verbose);

#endif
