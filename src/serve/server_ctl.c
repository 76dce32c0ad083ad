/* SPDX-License-Identifier: ISC */
/*
 * The server process's end of the control channel: frames (ctl.h) from
 * the parent, each a set to build and swap in, or empty for a reload the
 * parent refused; each set is answered with a framed "OK" or "FAIL why".
 * A failed set leaves the old one serving.
 *
 * A frame "MTSR" comes with a descriptor (SCM_RIGHTS on its first
 * octet): the server's end of a socketpair to a new report process
 * (receive.c), at start and whenever the parent has replaced one that
 * died, so the server process never restarts for it.  A frame "MTSA"
 * likewise hands over a channel to the acme process (server_acme.c).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "server_int.h"

#define CTL_BUF_START 65536 /* the first read buffer; it doubles as needed */
#define REPORT_FRAME  "MTSR"
#define ACME_FRAME    "MTSA" /* ACME_SERVER_TAG (acme_msg.h) */
#define FDS_MAX       (sizeof(((struct server *)0)->ctl_fds) / sizeof(int))

static void
ctl_reply(struct server *srv, bool ok, const char *why)
{
	uint8_t frame[CTL_REPLY_FRAME];
	size_t len = ctl_reply_encode(ok, why, frame);

	if (write(srv->ctl_fd, frame, len) != (ssize_t)len)
		log_warn("control channel");
}

static void
install_bundle(struct server *srv, const uint8_t *buf, size_t len)
{
	struct bundle b;
	struct set *set;

	srv->stats.reloads++;
	if (bundle_decode(buf, len, &b) != 0) {
		srv->stats.reload_failures++;
		log_warnx("malformed configuration set from the parent");
		ctl_reply(srv, false, "malformed set");
		return;
	}
	set = set_new(&b);
	bundle_free(&b);
	if (set == NULL) {
		srv->stats.reload_failures++;
		ctl_reply(srv, false, "cannot build the set; old set kept");
		return;
	}
	set_unref(srv->set);
	srv->set = set;
	log_info("serving %zu domains (generation %u)", set->domain_count,
	         set->generation);
	/* The parent fitted its limit (inherited) to the set it started
	   with, and logged what was short; a reload may ask for more. */
	if (set->max_connections > srv->fit_connections) {
		if (srv->fit_connections != 0)
			fd_limit_fit(set->max_connections, true);
		srv->fit_connections = set->max_connections;
	}
	ctl_reply(srv, true, NULL);
	if (srv->listener_count > 0)
		listeners_update(srv);
}

/*
 * The oldest descriptor received, which came with the first octet of
 * this frame: the parent sends one with each "MTSR" (report) and "MTSA"
 * (acme) frame only.
 */
static void
take_channel_fd(struct server *srv, bool acme)
{
	size_t i;

	if (srv->ctl_nfds == 0) {
		log_warnx("a %s channel frame without its descriptor",
		          acme ? "acme" : "report");
		return;
	}
	if (acme)
		acme_channel(srv, srv->ctl_fds[0]);
	else
		receive_channel(srv, srv->ctl_fds[0]);
	for (i = 1; i < srv->ctl_nfds; i++)
		srv->ctl_fds[i - 1] = srv->ctl_fds[i];
	srv->ctl_nfds--;
}

/* Keeps the descriptors of a message (each is closed if there is no room). */
static void
keep_fds(struct server *srv, struct msghdr *msg)
{
	struct cmsghdr *cm;
	size_t i, n;
	int fd;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
			if (srv->ctl_nfds < FDS_MAX)
				srv->ctl_fds[srv->ctl_nfds++] = fd;
			else
				close(fd);
		}
	}
}

/* read(2) of the control channel, and the descriptors it carries. */
static ssize_t
ctl_recv(struct server *srv, int fd, uint8_t *buf, size_t len)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	struct iovec iov = {buf, len};
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	if ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) > 0)
		keep_fds(srv, &msg);
	return n;
}

/* Acts on each whole frame read, and keeps the rest for the next read. */
static void
ctl_consume(struct server *srv)
{
	struct ctl_frame f;
	size_t off = 0;
	enum ctl_result r;

	while ((r = ctl_frame_decode(srv->ctl_buf + off, srv->ctl_len - off,
	                             BUNDLE_MAX, &f)) == CTL_FRAME) {
		if (f.len == 0) {
			/* The parent refused a reload: only counted here. */
			srv->stats.reloads++;
			srv->stats.reload_failures++;
		} else if (f.len == 4 && memcmp(f.body, REPORT_FRAME, 4) == 0) {
			take_channel_fd(srv, false);
		} else if (f.len == 4 && memcmp(f.body, ACME_FRAME, 4) == 0) {
			take_channel_fd(srv, true);
		} else {
			install_bundle(srv, f.body, f.len);
		}
		off += f.size;
	}
	if (r == CTL_MALFORMED)
		fatalx("control frame over %u bytes", BUNDLE_MAX);
	memmove(srv->ctl_buf, srv->ctl_buf + off, srv->ctl_len - off);
	srv->ctl_len -= off;
}

void
server_ctl_event(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	size_t cap;
	uint8_t *p;
	ssize_t n;

	(void)what;
	if (srv->ctl_len == srv->ctl_cap) {
		/* Doubling, but up to the largest frame exactly: a set near
		   BUNDLE_MAX must still fit. */
		cap = srv->ctl_cap == 0 ? CTL_BUF_START : srv->ctl_cap * 2;
		if (cap > BUNDLE_MAX + CTL_FRAME_HDR)
			cap = BUNDLE_MAX + CTL_FRAME_HDR;
		if (cap == srv->ctl_cap ||
		    (p = realloc(srv->ctl_buf, cap)) == NULL)
			fatalx("control channel: out of memory");
		srv->ctl_buf = p;
		srv->ctl_cap = cap;
	}
	n = ctl_recv(srv, fd, srv->ctl_buf + srv->ctl_len,
	             srv->ctl_cap - srv->ctl_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_info("parent gone; stopping");
		event_base_loopexit(srv->base, NULL);
		return;
	}
	srv->ctl_len += (size_t)n;
	ctl_consume(srv);
}
