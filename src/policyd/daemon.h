/* SPDX-License-Identifier: ISC */
/*
 * `mtasts policyd`: the entry point of the subcommand (daemon.c) and of
 * `mtasts policyd cache` (cmd_cache.c).
 */
#ifndef MTS_POLICYD_DAEMON_H
#define MTS_POLICYD_DAEMON_H

#include <stddef.h>

struct policyd_conf;

/* `mtasts policyd ...`: an exit status (mtasts-policyd(8)). */
int policyd_main(int argc, char **argv);

/* `mtasts policyd cache dump|purge ...` (argv[0] is "cache"). */
int policyd_cache_main(int argc, char **argv);

/*
 * Reads the configuration file at path (at most 4 MiB) and parses it
 * into *conf; when text is not NULL, the file's text is kept there (a
 * new allocation) with its length in *len.  0, or -1 with the reason
 * logged (serve's log.c).
 */
int policyd_conf_load(const char *path, struct policyd_conf *conf, char **text,
                      size_t *len);

#endif /* MTS_POLICYD_DAEMON_H */
