/* SPDX-License-Identifier: ISC */
/*
 * The small I/O of mtasts serve's parent: see parent_io.h.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "parent_io.h"
#include "serve.h"

int
parent_write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int
parent_send_fd(int ch, const char tag[4], int fd)
{
	uint8_t frame[CTL_FRAME_HDR + 4];
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct iovec iov = {frame, sizeof(frame)};
	struct cmsghdr *cm;
	struct msghdr msg;

	ctl_header_encode(4, frame);
	memcpy(frame + CTL_FRAME_HDR, tag, 4);
	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(ch, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof(frame)) {
		log_warn("cannot hand over a %.4s channel", tag);
		return -1;
	}
	return 0;
}

time_t
parent_monotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}
