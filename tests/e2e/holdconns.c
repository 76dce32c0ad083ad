/* SPDX-License-Identifier: ISC */
/*
 * holdconns: opens N TCP connections to ADDR:PORT and holds them for
 * SECONDS, to test that idle and slow clients cannot starve a server.
 *
 *   holdconns ADDR PORT N SECONDS [idle|slow]
 *
 * idle: connect and send nothing (a client that never starts TLS).
 * slow: send one byte of a TLS ClientHello-looking record every second
 * (slowloris).  Prints how many connections were open at the start and
 * how many the server had closed by the end.  Test tool; not installed.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
connect_one(const struct sockaddr_in *sin)
{
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) != 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* True when the server has closed the connection (EOF or reset). */
static int
closed_by_peer(int fd)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	int *fds, n, secs, i, s, open_n = 0, closed = 0, slow;
	char byte = 0x16; /* a TLS handshake record starts so */

	if (argc < 5) {
		fprintf(stderr,
		        "usage: holdconns ADDR PORT N SECONDS "
		        "[idle|slow]\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	n = atoi(argv[3]);
	secs = atoi(argv[4]);
	slow = argc > 5 && strcmp(argv[5], "slow") == 0;
	if (n <= 0 || (fds = calloc((size_t)n, sizeof(*fds))) == NULL)
		return 2;
	for (i = 0; i < n; i++)
		if ((fds[i] = connect_one(&sin)) >= 0)
			open_n++;
	printf("open %d\n", open_n);
	fflush(stdout);
	for (s = 0; s < secs; s++) {
		sleep(1);
		for (i = 0; slow && i < n; i++)
			if (fds[i] >= 0)
				(void)send(fds[i], &byte, 1, MSG_NOSIGNAL);
	}
	for (i = 0; i < n; i++)
		if (fds[i] >= 0) {
			closed += closed_by_peer(fds[i]);
			close(fds[i]);
		}
	printf("closed-by-server %d\n", closed);
	free(fds);
	return 0;
}
