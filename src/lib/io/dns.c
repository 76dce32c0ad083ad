/* SPDX-License-Identifier: ISC */
/*
 * The DNS adapter: libunbound's asynchronous API driven by the caller's
 * libevent loop.  libunbound resolves in a thread of its own and writes
 * each answer to a pipe; a persistent read event on that pipe (ub_fd())
 * runs ub_process(), whose callbacks only move the answered query to a
 * list; the user's callbacks run from that list once ub_process() has
 * returned, so that a callback may start queries or free the resolver.
 * libunbound has no per-query timeout: a libevent timer per query
 * cancels it (ub_cancel()) and answers MTS_DNS_TIMEOUT.
 *
 * libunbound validates every answer itself (RFC 4035 §4.3, RFC 7672
 * §2.1.1): it is a validating stub behind the configured resolver, never
 * relying on that resolver's AD bit.  A bogus answer becomes SERVFAIL
 * with status bogus; what is a lookup error and what means "no records"
 * is the caller's decision (checklist DANE-DNS-4, DANE-DNS-5).
 *
 * All decoding of the records is in dns_rdata.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <unbound.h>

#include <mtasts/dns.h>

#include "../dns_rdata.h"
#include "../internal.h"

#define DEFAULT_TIMEOUT_MS 5000u

/* RFC 1035 §4.1.1 RCODEs libunbound reports. */
#define RCODE_NOERROR  0
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3
#define CLASS_IN       1

/*
 * Root trust anchors of the system, in order: dns-root-data's (updated
 * by the package), then the one unbound-anchor maintains.  Both are read
 * as plain anchor files: RFC 5011 updates are their owners' business.
 */
static const char *const system_anchors[] = {
    "/usr/share/dns/root.key",
    "/var/lib/unbound/root.key",
};

struct query {
	struct mts_dns *dns;
	struct query *prev, *next; /* in dns->asked or dns->answered */
	struct event *timer;
	int async_id;
	int ub_err;               /* from libunbound's callback */
	struct ub_result *result; /* owned once answered */
	mts_dns_cb cb;
	void *arg;
	uint16_t qtype;
	char qname[];
};

struct query_list {
	struct query *head, *tail;
};

struct mts_dns {
	struct event_base *base;
	struct ub_ctx *ub;
	struct event *readable; /* ub_fd() */
	struct timeval timeout;
	struct query_list asked;    /* waiting for libunbound */
	struct query_list answered; /* waiting for the user's callback */
	size_t pending;             /* queries on both lists */
	unsigned depth;             /* our event callbacks on the stack */
	bool freed;                 /* mts_dns_free() ran inside one */
};

/* ---- lists ---- */

static void
list_append(struct query_list *l, struct query *q)
{
	q->next = NULL;
	q->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
}

static void
list_remove(struct query_list *l, struct query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		l->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		l->tail = q->prev;
	q->prev = q->next = NULL;
}

static void
query_free(struct query *q)
{
	if (q->timer != NULL)
		event_free(q->timer);
	ub_resolve_free(q->result);
	free(q);
}

/* Takes the first query off l, or NULL. */
static struct query *
list_pop(struct query_list *l)
{
	struct query *q = l->head;

	/* The analyzer loses the list across deliver()'s callback and takes
	 * the freed query for the head again; deliver() frees only a query
	 * it was handed off the list. */
	if (q != NULL)
		list_remove(l, q); /* NOLINT(clang-analyzer-unix.Malloc) */
	return q;
}

/* Frees every query of l (their callbacks are not called). */
static void
list_free(struct query_list *l)
{
	struct query *q, *next;

	for (q = l->head; q != NULL; q = next) {
		next = q->next;
		query_free(q);
	}
	l->head = l->tail = NULL;
}

/* ---- answers ---- */

/*
 * Fills *a from libunbound's result (RFC 1035 §4.1.1 RCODEs, RFC 2308
 * §2.2 NODATA); the records go to *r and the canonical name to *canon,
 * which the caller frees after the callback.
 */
static void
fill_answer(const struct query *q, struct mts_dns_answer *a,
            struct mts_dns_records *r, char **canon)
{
	const struct ub_result *res = q->result;
	struct mts_err err = {0};

	memset(a, 0, sizeof(*a));
	memset(r, 0, sizeof(*r));
	*canon = NULL;
	a->qname = q->qname;
	a->qtype = q->qtype;
	a->dnssec = MTS_DNSSEC_INSECURE;
	if (q->ub_err != 0 || res == NULL) {
		a->rcode = MTS_DNS_ERROR;
		a->why = ub_strerror(q->ub_err);
		return;
	}
	/* Bogus data are not data: SERVFAIL, as a validating resolver
	 * answers its clients (RFC 4035 §5.5). */
	if (res->bogus) {
		a->rcode = MTS_DNS_SERVFAIL;
		a->dnssec = MTS_DNSSEC_BOGUS;
		a->why_bogus = res->why_bogus;
		a->why = "DNSSEC validation failed";
		return;
	}
	if (res->secure)
		a->dnssec = MTS_DNSSEC_SECURE;
	switch (res->rcode) {
	case RCODE_NOERROR:
		a->rcode = res->havedata ? MTS_DNS_ANSWER : MTS_DNS_NODATA;
		break;
	case RCODE_NXDOMAIN:
		a->rcode = MTS_DNS_NAME_ERROR;
		break;
	case RCODE_SERVFAIL:
		a->rcode = MTS_DNS_SERVFAIL;
		a->why = "SERVFAIL";
		break;
	default:
		/* REFUSED, FORMERR, NOTIMP...: the server failed us. */
		a->rcode = MTS_DNS_SERVFAIL;
		a->why = "the server refused or did not understand the query";
		break;
	}
	if (mts_dns_canonical(res->canonname, q->qname, canon, &err) == -1) {
		a->rcode = MTS_DNS_ERROR;
		a->why = err.msg;
		return;
	}
	a->canonical = *canon;
	if (a->rcode != MTS_DNS_ANSWER)
		return;
	/* Malformed records are a lookup error (RFC 7672 §2.1.1). */
	if (mts_dns_records_decode(r, q->qtype, res->data, res->len, &err) ==
	    -1) {
		a->rcode = MTS_DNS_ERROR;
		a->why = err.msg;
		return;
	}
	a->count = r->count;
	a->txt = r->txt;
	a->txt_len = r->txt_len;
	a->mx = r->mx;
	a->addr = r->addr;
	a->tlsa = r->tlsa;
	/* A CNAME query: its target is "the name after the CNAME". */
	if (r->target != NULL)
		a->canonical = r->target;
}

/* Runs the callback of q, which is on no list, and frees q. */
static void
deliver(struct query *q)
{
	struct mts_dns_answer a;
	struct mts_dns_records r;
	char *canon;

	fill_answer(q, &a, &r, &canon);
	q->cb(q->arg, &a);
	mts_dns_records_reset(&r);
	free(canon);
	query_free(q);
}

static void
deliver_timeout(struct query *q)
{
	struct mts_dns_answer a;

	memset(&a, 0, sizeof(a));
	a.qname = q->qname;
	a.qtype = q->qtype;
	a.rcode = MTS_DNS_TIMEOUT;
	a.dnssec = MTS_DNSSEC_INSECURE;
	a.why = "no answer in time";
	q->cb(q->arg, &a);
	query_free(q);
}

/* Leaving one of our event callbacks: free what mts_dns_free() left. */
static void
leave(struct mts_dns *dns)
{
	dns->depth--;
	if (dns->freed && dns->depth == 0)
		free(dns);
}

/* ---- event callbacks ---- */

/* From inside ub_process(): only bookkeeping, no user code. */
static void
on_answer(void *arg, int err, struct ub_result *result)
{
	struct query *q = arg;
	struct mts_dns *dns = q->dns;

	evtimer_del(q->timer);
	q->ub_err = err;
	q->result = result;
	list_remove(&dns->asked, q);
	list_append(&dns->answered, q);
}

/* libunbound's pipe failed: its thread is gone, so is every answer. */
static void
fail_asked(struct mts_dns *dns, int err)
{
	struct query *q;

	while ((q = list_pop(&dns->asked)) != NULL) {
		evtimer_del(q->timer);
		q->ub_err = err;
		list_append(&dns->answered, q);
	}
	event_del(dns->readable);
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct mts_dns *dns = arg;
	struct query *q;
	int rc;

	dns->depth++;
	if ((rc = ub_process(dns->ub)) != 0)
		fail_asked(dns, rc);
	/* A callback may free dns: then `freed` is set and lists empty. */
	while (!dns->freed && (q = list_pop(&dns->answered)) != NULL) {
		dns->pending--;
		deliver(q);
	}
	leave(dns);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct query *q = arg;
	struct mts_dns *dns = q->dns;

	/* Its answer, if one comes, is dropped by libunbound. */
	(void)ub_cancel(dns->ub, q->async_id);
	list_remove(&dns->asked, q);
	dns->pending--;
	dns->depth++;
	deliver_timeout(q);
	leave(dns);
}

/* ---- set-up ---- */

/* "192.0.2.1", "2001:db8::1", optionally "@port" (1-65535). */
static bool
resolver_ok(const char *s)
{
	char host[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	struct in_addr a4;
	const char *at = strchr(s, '@');
	size_t len = at != NULL ? (size_t)(at - s) : strlen(s);
	unsigned long port = 0;
	const char *p;

	if (len == 0 || len >= sizeof(host))
		return false;
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, &a4) != 1 &&
	    inet_pton(AF_INET6, host, &a6) != 1)
		return false;
	if (at == NULL)
		return true;
	for (p = at + 1; *p != '\0'; p++) {
		if (!mts_is_digit(*p))
			return false;
		port = port * 10 + (unsigned long)(*p - '0');
		if (port > 65535)
			return false;
	}
	return port != 0;
}

static bool
readable(const char *path)
{
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return false;
	fclose(f);
	return true;
}

static int
ub_fail(struct mts_err *err, int rc, const char *msg)
{
	return mts_err_set(err, rc == UB_NOMEM ? MTS_ERR_NOMEM : MTS_ERR_IO, 0,
	                   0, msg);
}

static int
set_resolver(struct ub_ctx *ub, const char *resolver, struct mts_err *err)
{
	int rc;

	if (resolver == NULL) {
		if ((rc = ub_ctx_resolvconf(ub, NULL)) != 0)
			return ub_fail(err, rc, "cannot use /etc/resolv.conf");
		return 0;
	}
	if (!resolver_ok(resolver))
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "resolver is not an IP address "
		                   "(with an optional @port)");
	if ((rc = ub_ctx_set_fwd(ub, resolver)) != 0)
		return rc == UB_SYNTAX ?
		    mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                "resolver address rejected") :
		    ub_fail(err, rc, "cannot set resolver");
	return 0;
}

static int
set_trust_anchor(struct ub_ctx *ub, const char *file, struct mts_err *err)
{
	size_t i;
	int rc;

	if (file == NULL) {
		/* No anchor of the system: no validation, all insecure. */
		for (i = 0;
		     i < sizeof(system_anchors) / sizeof(*system_anchors); i++)
			if (readable(system_anchors[i])) {
				file = system_anchors[i];
				break;
			}
		if (file == NULL)
			return 0;
	} else if (!readable(file)) {
		rc = errno;
		mts_err_set(err, MTS_ERR_ARG, 0, 0,
		            "cannot read the trust anchor file");
		if (err != NULL)
			err->sys_errno = rc;
		return -1;
	}
	if ((rc = ub_ctx_add_ta_file(ub, file)) != 0)
		return ub_fail(err, rc, "cannot add the trust anchor");
	return 0;
}

static int
configure(struct ub_ctx *ub, const struct mts_dns_options *options,
          struct mts_err *err)
{
	static const char *const settings[][2] = {
	    /* A resolver on a loopback address is the usual case (the
	     * library's default, said again). */
	    {"do-not-query-localhost:", "no"},
	    /*
	     * libunbound answers names under test. itself, NXDOMAIN, as
	     * RFC 6761 §6.2 allows a resolver to.  Behind a configured
	     * resolver that is the resolver's decision: test setups
	     * (tests/world) serve signed zones under test.  Elsewhere the
	     * root's secure NXDOMAIN says the same.
	     */
	    {"local-zone:", "test. transparent"},
	};
	size_t i;
	int rc;

	/* A thread rather than a forked process: nothing of the caller
	 * (descriptors, privileges) is duplicated. */
	if ((rc = ub_ctx_async(ub, 1)) != 0)
		return ub_fail(err, rc, "libunbound: no asynchronous mode");
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if ((rc = ub_ctx_set_option(ub, settings[i][0],
		                            settings[i][1])) != 0)
			return ub_fail(err, rc, "libunbound: option rejected");
	if (set_resolver(ub, options->resolver, err) == -1 ||
	    set_trust_anchor(ub, options->trust_anchor, err) == -1)
		return -1;
	/*
	 * libunbound reads its configuration and anchors at the first
	 * query; a call that does that and nothing else (removing data
	 * from a name that has none) makes a bad anchor file an error of
	 * mts_dns_new() rather than of the first query.
	 */
	if ((rc = ub_ctx_data_remove(ub, "mtasts.invalid.")) != 0)
		return mts_err_set(err,
		                   rc == UB_NOMEM ? MTS_ERR_NOMEM : MTS_ERR_ARG,
		                   0, 0,
		                   "libunbound rejects the configuration "
		                   "or the trust anchor");
	return 0;
}

/* ---- API ---- */

struct mts_dns *
mts_dns_new(struct event_base *base, const struct mts_dns_options *options,
            struct mts_err *err)
{
	static const struct mts_dns_options defaults = {NULL, NULL, 0};
	struct mts_dns *dns;
	unsigned ms;

	if (base == NULL) {
		mts_err_set(err, MTS_ERR_ARG, 0, 0, "no event base");
		return NULL;
	}
	if (options == NULL)
		options = &defaults;
	if ((dns = calloc(1, sizeof(*dns))) == NULL) {
		mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
		return NULL;
	}
	dns->base = base;
	ms =
	    options->timeout_ms != 0 ? options->timeout_ms : DEFAULT_TIMEOUT_MS;
	dns->timeout.tv_sec = (time_t)(ms / 1000);
	dns->timeout.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if ((dns->ub = ub_ctx_create()) == NULL) {
		mts_err_set(err, MTS_ERR_NOMEM, 0, 0,
		            "cannot create a libunbound context");
		goto fail;
	}
	if (configure(dns->ub, options, err) == -1)
		goto fail;
	if ((dns->readable =
	         event_new(base, ub_fd(dns->ub), EV_READ | EV_PERSIST,
	                   on_readable, dns)) == NULL ||
	    event_add(dns->readable, NULL) == -1) {
		mts_err_set(err, MTS_ERR_IO, 0, 0,
		            "cannot add a libevent event");
		goto fail;
	}
	return dns;
fail:
	if (dns->readable != NULL)
		event_free(dns->readable);
	if (dns->ub != NULL)
		ub_ctx_delete(dns->ub);
	free(dns);
	return NULL;
}

int
mts_dns_query(struct mts_dns *dns, const char *name, uint16_t type,
              mts_dns_cb cb, void *arg, struct mts_err *err)
{
	struct query *q;
	size_t len;
	int rc;

	if (dns == NULL || cb == NULL || type == 0)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "no resolver, callback or type");
	if (mts_dns_qname_check(name, err) == -1)
		return -1;
	len = strlen(name);
	if ((q = calloc(1, sizeof(*q) + len + 1)) == NULL)
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	memcpy(q->qname, name, len + 1);
	q->dns = dns;
	q->cb = cb;
	q->arg = arg;
	q->qtype = type;
	if ((q->timer = evtimer_new(dns->base, on_timeout, q)) == NULL) {
		free(q);
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	}
	/* Never calls on_answer() from here: answers come through the
	 * pipe, to ub_process(). */
	if ((rc = ub_resolve_async(dns->ub, name, type, CLASS_IN, q, on_answer,
	                           &q->async_id)) != 0) {
		query_free(q);
		return ub_fail(err, rc, "libunbound cannot start the query");
	}
	if (evtimer_add(q->timer, &dns->timeout) == -1) {
		(void)ub_cancel(dns->ub, q->async_id);
		query_free(q);
		return mts_err_set(err, MTS_ERR_IO, 0, 0,
		                   "cannot add a libevent timer");
	}
	list_append(&dns->asked, q);
	dns->pending++;
	return 0;
}

size_t
mts_dns_pending(const struct mts_dns *dns)
{
	return dns != NULL ? dns->pending : 0;
}

void
mts_dns_free(struct mts_dns *dns)
{
	if (dns == NULL)
		return;
	/* Stops libunbound's thread and drops its unread answers: no
	 * on_answer() can run after this. */
	ub_ctx_delete(dns->ub);
	dns->ub = NULL;
	event_free(dns->readable);
	dns->readable = NULL;
	list_free(&dns->asked);
	list_free(&dns->answered);
	dns->pending = 0;
	/* Called from a callback: on_readable() or on_timeout() is still
	 * on the stack and frees dns on its way out. */
	if (dns->depth > 0) {
		dns->freed = true;
		return;
	}
	free(dns);
}

const char *
mts_dnssec_name(enum mts_dnssec status)
{
	switch (status) {
	case MTS_DNSSEC_INSECURE:
		return "insecure";
	case MTS_DNSSEC_SECURE:
		return "secure";
	case MTS_DNSSEC_BOGUS:
		return "bogus";
	}
	return "unknown";
}

const char *
mts_dns_rcode_name(enum mts_dns_rcode rcode)
{
	switch (rcode) {
	case MTS_DNS_ANSWER:
		return "answer";
	case MTS_DNS_NODATA:
		return "nodata";
	case MTS_DNS_NAME_ERROR:
		return "nxdomain";
	case MTS_DNS_SERVFAIL:
		return "servfail";
	case MTS_DNS_TIMEOUT:
		return "timeout";
	case MTS_DNS_ERROR:
		return "error";
	}
	return "unknown";
}
