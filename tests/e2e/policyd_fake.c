/* SPDX-License-Identifier: ISC */
/*
 * policyd_fake: `mtasts policyd` (the real parent, worker, connections,
 * metrics and sandbox of src/policyd) over a fake resolver that
 * implements resolve.h with scripted answers, so that tests/e2e/
 * policyd.sh can hold lookups pending for as long as it likes without
 * a DNS world:
 *
 *   slowN.*     answered after N ms (no digits: 300 ms), from the loop;
 *               lookups of one domain in flight share one resolution
 *   nopolicy.*  NOTFOUND, at once
 *   temp.*      TEMP, at once
 *   error.*     RESOLVE_ERROR (the server answers TEMP itself)
 *   huge.*      an OK reply of 150,000 octets (over the socketmap cap)
 *   anything    "OK secure match=DOMAIN servername=hostname", at once
 *
 * Run as `policyd_fake policyd [options]`: the parent execs
 * /proc/self/exe as `... policyd --process worker`, which comes back
 * here.  serve's proc.c names the process mains of mtasts serve; they
 * are never called here and are stubbed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon.h"
#include "resolve.h"

#define HUGE_REPLY 150000

struct resolve_wait {
	struct resolve_wait *next;
	resolve_cb cb;
	void *arg;
};

struct pending {
	struct pending *next;
	struct resolver *r;
	struct event *timer;
	struct resolve_wait *waits;
	char domain[256];
};

struct resolver {
	struct event_base *base;
	struct pending *pending;
	struct resolver_stats stats;
	char reply[HUGE_REPLY + 64];
};

struct resolver *
resolver_new(const struct resolve_conf *conf)
{
	struct resolver *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->base = conf->base;
	return r;
}

static void
pending_free(struct pending *p)
{
	struct resolve_wait *w, *next;

	for (w = p->waits; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	event_free(p->timer);
	free(p);
}

void
resolver_free(struct resolver *r)
{
	struct pending *p, *next;

	if (r == NULL)
		return;
	for (p = r->pending; p != NULL; p = next) {
		next = p->next;
		pending_free(p);
	}
	free(r);
}

static void
answer_of(struct resolver *r, const char *domain, struct resolve_answer *a)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->domain = domain;
	a->via = RESOLVE_VIA_MEMORY;
	if (strncmp(domain, "nopolicy.", 9) == 0) {
		a->reply = "NOTFOUND ";
		a->kind = REPLY_NO_POLICY;
	} else if (strncmp(domain, "temp.", 5) == 0) {
		a->reply = "TEMP fake failure";
		a->kind = REPLY_TEMP;
	} else if (strncmp(domain, "huge.", 5) == 0) {
		memcpy(r->reply, "OK secure match=", 16);
		memset(r->reply + 16, 'a', HUGE_REPLY - 16);
		r->reply[HUGE_REPLY] = '\0';
		a->reply = r->reply;
		a->kind = REPLY_STS;
	} else {
		n = snprintf(r->reply, sizeof(r->reply),
		             "OK secure match=%s servername=hostname", domain);
		(void)n;
		a->reply = r->reply;
		a->kind = REPLY_STS;
	}
	a->reply_len = strlen(a->reply);
	r->stats.answers[a->kind]++;
}

static void
resolved(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg, **pp;
	struct resolver *r = p->r;
	struct resolve_answer a;
	struct resolve_wait *w;

	(void)fd;
	(void)what;
	for (pp = &r->pending; *pp != p; pp = &(*pp)->next)
		continue;
	*pp = p->next;
	r->stats.in_flight--;
	while ((w = p->waits) != NULL) {
		p->waits = w->next;
		answer_of(r, p->domain, &a);
		a.via = RESOLVE_VIA_NETWORK;
		w->cb(w->arg, &a);
		free(w);
	}
	pending_free(p);
}

enum resolve_status
resolver_lookup(struct resolver *r, const char *domain, resolve_cb cb,
                void *arg, struct resolve_answer *answer,
                struct resolve_wait **wait)
{
	struct timeval tv = {0, 300000};
	struct resolve_wait *w;
	struct pending *p;
	long ms;

	r->stats.lookups++;
	if (strncmp(domain, "error.", 6) == 0)
		return RESOLVE_ERROR;
	if (strncmp(domain, "slow", 4) != 0) {
		r->stats.memory_hits++;
		answer_of(r, domain, answer);
		return RESOLVE_DONE;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return RESOLVE_ERROR;
	w->cb = cb;
	w->arg = arg;
	for (p = r->pending; p != NULL; p = p->next)
		if (strcmp(p->domain, domain) == 0)
			break;
	if (p != NULL) {
		r->stats.coalesced++;
	} else {
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			free(w);
			return RESOLVE_ERROR;
		}
		p->r = r;
		snprintf(p->domain, sizeof(p->domain), "%s", domain);
		if ((ms = strtol(domain + 4, NULL, 10)) > 0) {
			tv.tv_sec = ms / 1000;
			tv.tv_usec = (ms % 1000) * 1000;
		}
		p->timer = evtimer_new(r->base, resolved, p);
		evtimer_add(p->timer, &tv);
		p->next = r->pending;
		r->pending = p;
		r->stats.resolutions++;
		r->stats.in_flight++;
	}
	w->next = p->waits;
	p->waits = w;
	if (wait != NULL)
		*wait = w;
	return RESOLVE_PENDING;
}

void
resolver_cancel(struct resolver *r, struct resolve_wait *wait)
{
	struct resolve_wait **pw;
	struct pending *p;

	for (p = r->pending; p != NULL; p = p->next)
		for (pw = &p->waits; *pw != NULL; pw = &(*pw)->next)
			if (*pw == wait) {
				*pw = wait->next;
				free(wait);
				return;
			}
}

void
resolver_forget(struct resolver *r, const char *domain)
{
	(void)r;
	(void)domain;
}

void
resolver_stats(const struct resolver *r, struct resolver_stats *out)
{
	*out = r->stats;
}

const char *
resolve_failure_name(enum resolve_failure f)
{
	static const char *const names[] = {"none", "dns-tempfail", "bogus",
	                                    "fetch-error"};

	return (unsigned)f < RESOLVE_FAIL_COUNT ? names[f] : "none";
}

const char *
resolve_via_name(enum resolve_via v)
{
	static const char *const names[] = {"memory", "store", "network",
	                                    "stale", "none"};

	return (unsigned)v <= RESOLVE_VIA_NONE ? names[v] : "none";
}

/* mtasts serve's process mains, which proc.c names; never called. */
int keyproc_main(int ctl_fd, int sign_fd);
int reportproc_main(int ctl_fd, int peer_fd, const char *user);
int acmeproc_main(int ctl_fd, const char *user);
int server_run(const int *fds, size_t nfds, int metrics_fd, int log_fd,
               int ctl_fd, int key_fd);

int
keyproc_main(int ctl_fd, int sign_fd)
{
	(void)ctl_fd;
	(void)sign_fd;
	abort();
}

int
reportproc_main(int ctl_fd, int peer_fd, const char *user)
{
	(void)ctl_fd;
	(void)peer_fd;
	(void)user;
	abort();
}

int
acmeproc_main(int ctl_fd, const char *user)
{
	(void)ctl_fd;
	(void)user;
	abort();
}

int
server_run(const int *fds, size_t nfds, int metrics_fd, int log_fd, int ctl_fd,
           int key_fd)
{
	(void)fds;
	(void)nfds;
	(void)metrics_fd;
	(void)log_fd;
	(void)ctl_fd;
	(void)key_fd;
	abort();
}

int
main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "policyd") != 0) {
		fprintf(stderr, "usage: policyd_fake policyd [options]\n");
		return 2;
	}
	return policyd_main(argc - 1, argv + 1);
}
