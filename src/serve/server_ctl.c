/* SPDX-License-Identifier: ISC */
/*
 * The server process's end of the control channel: frames (ctl.h) from
 * the parent, each a set to build and swap in, or empty for a reload the
 * parent refused; each set is answered with a framed "OK" or "FAIL why".
 * A failed set leaves the old one serving.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "server_int.h"

#define CTL_BUF_START 65536 /* the first read buffer; it doubles as needed */

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
	n = read(fd, srv->ctl_buf + srv->ctl_len, srv->ctl_cap - srv->ctl_len);
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
