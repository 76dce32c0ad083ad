/* SPDX-License-Identifier: ISC */
/*
 * Fault injection for the e2e probe programs (mx_probe, fetch_probe):
 * where the linker has --wrap, tests/meson.build links them with
 * --wrap=event_add and defines TEST_WRAP_EVENT.  Then, with
 * FAIL_EVENT_ADD=N in the environment, the Nth call of event_add()
 * (evtimer_add() is a macro of it) made from the program's own objects
 * (src/check/fetch.c, probe.c) fails, as it does when libevent runs out
 * of memory; calls inside libevent are not counted.  With the variable
 * set (0: fail none), wrap_event_report() prints "event_add_calls=N",
 * so that a script can fail each call in turn and check that the
 * callback still comes exactly once.  Include in one file of a program.
 */
#ifndef MTS_TEST_WRAP_EVENT_H
#define MTS_TEST_WRAP_EVENT_H

#ifdef TEST_WRAP_EVENT
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

int __real_event_add(struct event *ev, const struct timeval *tv);
int __wrap_event_add(struct event *ev, const struct timeval *tv);

static unsigned wrap_event_calls;
static bool wrap_event_paused; /* the program's own calls */

int
__wrap_event_add(struct event *ev, const struct timeval *tv)
{
	const char *n = getenv("FAIL_EVENT_ADD");

	if (wrap_event_paused)
		return __real_event_add(ev, tv);
	wrap_event_calls++;
	if (n != NULL && strtoul(n, NULL, 10) == wrap_event_calls)
		return -1;
	return __real_event_add(ev, tv);
}

/* Only when asked: the programs' output is otherwise unchanged. */
static void
wrap_event_report(void)
{
	if (getenv("FAIL_EVENT_ADD") != NULL)
		printf("event_add_calls=%u\n", wrap_event_calls);
}

#define WRAP_EVENT_PAUSE(on) (wrap_event_paused = (on))
#else
#define wrap_event_report()  ((void)0)
#define WRAP_EVENT_PAUSE(on) ((void)0)
#endif

#endif /* MTS_TEST_WRAP_EVENT_H */
