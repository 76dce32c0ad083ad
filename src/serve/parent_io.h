/* SPDX-License-Identifier: ISC */
/*
 * The small I/O of mtasts serve's parent that main.c (the server, key
 * and report processes) and parent_acme.c (the acme process) share:
 * whole writes on a control channel, a descriptor handed over with a
 * 4-octet frame, and the monotonic clock of the restart back-offs.
 */
#ifndef MTS_SERVE_PARENT_IO_H
#define MTS_SERVE_PARENT_IO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Writes all of buf[0..len) to fd, through EINTR; 0 or -1. */
int parent_write_all(int fd, const uint8_t *buf, size_t len);

/*
 * Sends on channel ch the ctl.h frame whose 4-octet body is `tag`
 * ("MTSR", "MTSA", "CHAN"), with descriptor fd on its first octet
 * (SCM_RIGHTS).  0, or -1 (logged with the tag).
 */
int parent_send_fd(int ch, const char tag[4], int fd);

/* Seconds of CLOCK_MONOTONIC: how long a process ran. */
time_t parent_monotime(void);

#endif /* MTS_SERVE_PARENT_IO_H */
