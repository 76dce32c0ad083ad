/* SPDX-License-Identifier: ISC */
/*
 * The report process of mtasts serve: it stores the TLS-RPT reports
 * POSTed to the server (RFC 8460 §5.4) through src/report/ingest.c, the
 * path `mtasts report ingest` takes, so that the server process, which
 * speaks to the internet from an empty chroot, never touches the store,
 * and a slow store never holds up its event loop: the server hands each
 * body over a socketpair (report_msg.h) and answers the POST when the
 * reply comes.
 *
 * The parent starts it (proc.c) with two descriptors: its control
 * channel, on which it first sends the configuration (a ctl.h frame of
 * "MTSQ" u32:max-body store-URL: the URL may hold a password, so it is
 * never on a command line), and the socket to the server.  As root it
 * then leaves the file system for the store's directory (sqlite:) or
 * keeps it (postgresql://, for libpq's files and sockets), drops to the
 * user, and enters its seccomp sandbox.
 */
#ifndef MTS_SERVE_REPORTPROC_H
#define MTS_SERVE_REPORTPROC_H

#include <stddef.h>
#include <stdint.h>

/*
 * The configuration frame for the report process, in a new buffer
 * (*out, *len) the caller frees.  0, or -1 (out of memory, a URL over
 * 4096 octets).
 */
int reportproc_conf_encode(const char *url, uint32_t max_body, uint8_t **out,
                           size_t *len);

/*
 * The report process: reads its configuration on ctl_fd, sets up its
 * sandbox as `user` (privdrop()), then stores what arrives on peer_fd
 * until the parent or the server closes its end.  Returns the exit
 * status.
 */
int reportproc_main(int ctl_fd, int peer_fd, const char *user);

#endif
