/* SPDX-License-Identifier: ISC */
/*
 * failevent: an LD_PRELOAD shim that makes libevent's event_add() fail
 * for chosen events, to test that `mtasts serve` checks it.
 *
 *   MTS_FAIL_EVENT=signal               every signal event
 *   MTS_FAIL_EVENT=conn MTS_FAIL_PORT=N edge-triggered socket events
 *                                       (connections) on local port N
 *
 * Other calls go to the real event_add().  Test tool; not installed.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <sys/socket.h>

#include <dlfcn.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

static bool
local_port_is(evutil_socket_t fd, const char *want)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	unsigned port;

	if (want == NULL || fd < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return false;
	return port == (unsigned)atoi(want);
}

static bool
must_fail(struct event *ev)
{
	const char *what = getenv("MTS_FAIL_EVENT");
	short events = event_get_events(ev);

	if (what == NULL)
		return false;
	if (strcmp(what, "signal") == 0)
		return (events & EV_SIGNAL) != 0;
	if (strcmp(what, "conn") == 0)
		return (events & EV_ET) != 0 &&
		    local_port_is(event_get_fd(ev), getenv("MTS_FAIL_PORT"));
	return false;
}

int
event_add(struct event *ev, const struct timeval *tv)
{
	int (*real)(struct event *, const struct timeval *);

	if (must_fail(ev))
		return -1;
	*(void **)&real = dlsym(RTLD_NEXT, "event_add");
	if (real == NULL)
		abort();
	return real(ev, tv);
}
