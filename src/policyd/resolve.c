/* SPDX-License-Identifier: ISC */
/*
 * The resolution of `mtasts policyd` and `mtasts fetch` (resolve.h): the
 * I/O around the pure decisions of decide.c.  A memory cache (lru.c) of
 * entries, each holding its reply text formatted once; on a miss the
 * store (cache.h), read from the loop, never inside resolver_lookup();
 * then the network: the MX and _mta-sts TXT lookups at once, the DANE
 * lookups of each MX host (dane_host.c, as `mtasts check` makes them),
 * the addresses of mta-sts.DOMAIN and the fetch from them in order
 * (fetch.c), judged as a sender judges it (RFC 8461 §3.3).
 *
 * One resolution per domain at a time (the `inflight` table); lookups
 * that find one wait in its list.  A background resolution (a TXT id
 * re-check, a refresh before expiry, the sweep's) runs while the cached
 * answer is given, and never replaces it with a worse one when it
 * fails.  An entry a resolution holds (`cached`) is reference-counted:
 * evicted meanwhile, it lives until the resolution ends.
 */
#include <sys/queue.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <mtasts/dname.h>
#include <mtasts/dns.h>
#include <mtasts/sts.h>

#include "cache.h"
#include "dane_host.h"
#include "decide.h"
#include "fetch.h"
#include "lru.h"
#include "resolve.h"

#define FETCH_ADDRS    4   /* addresses of the policy host tried */
#define SWEEP_INTERVAL 60  /* s between sweeps */
#define SWEEP_MAX      32  /* refreshes a sweep starts at most */
#define BACKGROUND_MAX 256 /* background resolutions at once */
#define WHY_SIZE       384
#define TRACE_SIZE     640

/*
 * A memory entry: one allocation, the header and then its strings,
 * each NUL-terminated, packed in text[]: the domain (the lru key), the
 * reply, the why, the policy id and, when `have`, the policy body.  The
 * decision (struct decide_entry: 112 octets, its id inline) is kept
 * packed too, unpacked where a decision is taken (entry_d()).  Neither
 * the parsed policy nor the MX host names are kept: the reply is
 * formatted once, when the entry is made (entry_new()), and the body is
 * all that a later resolution keeping the policy (a re-check, a stale
 * answer) needs.  About 1 KiB an entry before, about 450 octets now
 * (issue 12: 100,000 domains within 64 MiB).
 */
struct entry {
	struct lru_node node;
	/* struct decide_entry's times, and its policy's */
	int64_t fetched, expires, next_check, backoff_until, refresh_at;
	int64_t policy_fetched;
	const struct reply_info *info; /* interned (info_get()); NULL: none */
	uint32_t max_age;
	uint32_t reply_len; /* at most REPLY_MAX */
	uint32_t body_len;  /* at most MTS_STS_POLICY_MAX */
	unsigned refs;      /* resolutions holding it */
	uint16_t why_len;   /* below WHY_SIZE */
	uint8_t domain_len; /* at most MTS_DNAME_MAX */
	uint8_t id_len;     /* at most MTS_STS_ID_MAX */
	uint8_t kind;       /* enum decide_kind */
	uint8_t failure;    /* enum resolve_failure */
	uint8_t mode;       /* enum mts_sts_mode */
	uint8_t rkind;      /* enum reply_kind */
	bool have;          /* a policy (and its body) kept */
	bool looked_up;     /* since the last fetch */
	char text[];        /* domain, reply, why, id, body */
};

/* A reply_info shared by every entry with the same one (most entries
   of a daemon have one of a handful): lru key, reference count. */
struct info_node {
	struct lru_node node;
	size_t refs;
	struct reply_info info;
	char key[128];
};

struct resolve_wait {
	TAILQ_ENTRY(resolve_wait) link;
	struct resolution *res;
	resolve_cb cb;
	void *arg;
};
TAILQ_HEAD(wait_list, resolve_wait);

struct resolution {
	struct lru_node node; /* in r->inflight */
	TAILQ_ENTRY(resolution) store_link;
	struct resolver *r;
	char domain[MTS_DNAME_MAX + 1];
	struct wait_list waiters;
	struct entry *cached;   /* referenced, or NULL */
	struct decide_entry cd; /* cached's decision (entry_d()) */
	bool force, background, store_queued;
	unsigned pending;
	/* MX */
	bool mx_done;
	enum mts_dns_rcode mx_rcode;
	enum mts_dnssec mx_dnssec;
	char **mx;
	size_t mx_count;
	struct dane_host *hosts;
	size_t nhosts;
	/* TXT */
	bool txt_done;
	struct decide_txt txt;
	/* the policy host and the fetch */
	struct rrset a, aaaa;
	char addrs[FETCH_ADDRS][46];
	size_t naddrs, next_addr;
	bool fetch_ok;
	char fetch_addr[46];
	struct mts_sts_policy newpol;
	char *newbody;
	size_t newbody_len;
	char why[WHY_SIZE]; /* the last failure */
	bool nomem;
	/* a usable store entry waiting for its MX (store_read()) */
	bool from_store;
	struct decide_entry store_d;
	char *store_body;
	size_t store_body_len;
};
TAILQ_HEAD(res_list, resolution);

struct resolver {
	struct resolve_conf conf;
	struct decide_conf dc;
	struct lru mem;
	struct lru inflight;
	struct lru infos; /* struct info_node */
	struct res_list store_queue;
	struct event *store_ev, *sweep_ev;
	char *scratch; /* REPLY_BUF_SIZE */
	uint32_t rng;
	size_t background;
	bool freed; /* resolver_free() ran with resolutions in flight */
	struct resolver_stats st;
};

static void res_release(struct resolution *res);
static void res_start_net(struct resolution *res);
static void res_finish(struct resolution *res);
static void res_queue(struct resolution *res);

/* ---- small helpers ---- */

static int64_t
now_of(const struct resolver *r)
{
	if (r->conf.now != NULL)
		return r->conf.now(r->conf.now_ctx);
	return (int64_t)time(NULL);
}

static uint32_t
jitter(struct resolver *r)
{
	uint32_t x = r->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	r->rng = x;
	return x;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
trace(struct resolution *res, const char *fmt, ...)
{
	const struct resolve_conf *c = &res->r->conf;
	char line[TRACE_SIZE];
	va_list ap;

	if (c->trace == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->trace(c->trace_ctx, res->domain, line);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
logmsg(struct resolver *r, int prio, const char *fmt, ...)
{
	char line[TRACE_SIZE];
	va_list ap;

	if (r->conf.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->conf.log(r->conf.log_ctx, prio, line);
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

const char *
resolve_failure_name(enum resolve_failure f)
{
	switch (f) {
	case RESOLVE_FAIL_DNS_TEMP:
		return "dns-tempfail";
	case RESOLVE_FAIL_BOGUS:
		return "bogus";
	case RESOLVE_FAIL_FETCH:
		return "fetch-error";
	default:
		return "none";
	}
}

const char *
resolve_via_name(enum resolve_via v)
{
	switch (v) {
	case RESOLVE_VIA_MEMORY:
		return "memory";
	case RESOLVE_VIA_STORE:
		return "store";
	case RESOLVE_VIA_NETWORK:
		return "network";
	case RESOLVE_VIA_STALE:
		return "stale";
	default:
		return "none";
	}
}

static enum resolve_failure
failure_of_name(const char *s)
{
	enum resolve_failure f;

	for (f = RESOLVE_FAIL_DNS_TEMP; f < RESOLVE_FAIL_COUNT; f++)
		if (strcmp(s, resolve_failure_name(f)) == 0)
			return f;
	return RESOLVE_FAIL_NONE;
}

/* ---- entries ---- */

static const char *
entry_domain(const struct entry *e)
{
	return e->text;
}

static const char *
entry_reply(const struct entry *e)
{
	return e->text + e->domain_len + 1;
}

static const char *
entry_why(const struct entry *e)
{
	return entry_reply(e) + e->reply_len + 1;
}

static const char *
entry_id(const struct entry *e)
{
	return entry_why(e) + e->why_len + 1;
}

/* The policy body (NUL-terminated, body_len octets), or NULL. */
static const char *
entry_body(const struct entry *e)
{
	return e->have ? entry_id(e) + e->id_len + 1 : NULL;
}

/* e's decision, unpacked. */
static void
entry_d(const struct entry *e, struct decide_entry *d)
{
	d->kind = (enum decide_kind)e->kind;
	d->failure = (enum resolve_failure)e->failure;
	d->policy.have = e->have;
	d->policy.mode = (enum mts_sts_mode)e->mode;
	d->policy.max_age = e->max_age;
	d->policy.fetched = e->policy_fetched;
	memcpy(d->policy.id, entry_id(e), (size_t)e->id_len + 1);
	d->fetched = e->fetched;
	d->expires = e->expires;
	d->next_check = e->next_check;
	d->backoff_until = e->backoff_until;
	d->refresh_at = e->refresh_at;
}

/* Packs d into e, but the id (fixed when e was made). */
static void
entry_set_d(struct entry *e, const struct decide_entry *d)
{
	e->kind = (uint8_t)d->kind;
	e->failure = (uint8_t)d->failure;
	e->have = d->policy.have;
	e->mode = (uint8_t)d->policy.mode;
	e->max_age = d->policy.max_age;
	e->policy_fetched = d->policy.fetched;
	e->fetched = d->fetched;
	e->expires = d->expires;
	e->next_check = d->next_check;
	e->backoff_until = d->backoff_until;
	e->refresh_at = d->refresh_at;
}

static struct info_node *
info_node_of(const struct reply_info *i)
{
	return (struct info_node *)((char *)(uintptr_t)i -
	                            offsetof(struct info_node, info));
}

/* The shared copy of *i, referenced; NULL when memory ran out. */
static const struct reply_info *
info_get(struct resolver *r, const struct reply_info *i)
{
	struct info_node *in;
	struct lru_node *n;
	char key[sizeof(in->key)];

	snprintf(key, sizeof(key), "%zu %zu %zu %zu %d%d%d%d %p", i->used,
	         i->dropped, i->expanded, i->strings_dropped, i->loose,
	         i->unusable, i->uncovered, i->policy_failure,
	         (const void *)i->dropped_why);
	if ((n = lru_peek(&r->infos, key)) != NULL) {
		in = (struct info_node *)n;
		in->refs++;
		return &in->info;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	memcpy(in->key, key, sizeof(key));
	in->node.key = in->key;
	in->info = *i;
	in->refs = 1;
	lru_insert(&r->infos, &in->node);
	return &in->info;
}

static void
info_put(struct resolver *r, const struct reply_info *i)
{
	struct info_node *in;

	if (i == NULL)
		return;
	in = info_node_of(i);
	if (--in->refs == 0) {
		lru_remove(&r->infos, &in->node);
		free(in);
	}
}

static void
entry_free(struct resolver *r, struct entry *e)
{
	if (e == NULL)
		return;
	info_put(r, e->info);
	free(e);
}

static void
entry_unref(struct resolver *r, struct entry *e)
{
	if (e != NULL && --e->refs == 0 && !e->node.linked)
		entry_free(r, e);
}

/* Drops e from memory; freed unless a resolution holds it. */
static void
entry_unlink(struct resolver *r, struct entry *e)
{
	lru_remove(&r->mem, &e->node);
	if (e->refs == 0)
		entry_free(r, e);
}

/*
 * Formats the reply of an entry (reply_format(), with the MX host
 * names) to r->scratch, *len octets, and its info (*have_info).
 * 0, or -1 when the reply cannot be made (then a TEMP one is made in
 * its place) nor that one.
 */
static int
entry_format(struct resolver *r, const char *domain,
             const struct decide_entry *d, const struct mts_sts_policy *pol,
             const char *const *mx, size_t mx_count, enum reply_kind *kind,
             size_t *len, struct reply_info *info, bool *have_info)
{
	struct reply_decision rd;
	enum reply_failure rf;
	char reason[320];

	memset(&rd, 0, sizeof(rd));
	switch (d->kind) {
	case DECIDE_POLICY:
		rd.kind = REPLY_STS;
		rd.policy = pol;
		rd.domain = domain;
		rd.refresh_failed = d->failure != RESOLVE_FAIL_NONE;
		rd.mx = mx;
		rd.mx_count = mx_count;
		break;
	case DECIDE_DANE:
		rd.kind = REPLY_DANE;
		rd.dane = r->conf.dane == RESOLVE_DANE_MAY ? REPLY_DANE_MAY :
							     REPLY_DANE_ONLY;
		break;
	case DECIDE_FAILED:
		rf = decide_failure_reply(d->failure, r->conf.on_failure);
		if (rf == REPLY_FAIL_TEMP) {
			rd.kind = REPLY_TEMP;
			snprintf(reason, sizeof(reason), "%s for %s",
			         resolve_failure_name(d->failure), domain);
			rd.reason = reason;
		} else {
			rd.kind = REPLY_NO_POLICY;
		}
		break;
	default:
		rd.kind = REPLY_NO_POLICY;
	}
	memset(info, 0, sizeof(*info));
	*len = 0;
	if (reply_format(&rd, &r->conf.reply, r->scratch, REPLY_BUF_SIZE, len,
	                 info, NULL) != 0) {
		rd.kind = REPLY_TEMP;
		rd.reason = "policy reply could not be made";
		if (reply_format(&rd, NULL, r->scratch, REPLY_BUF_SIZE, len,
		                 NULL, NULL) != 0)
			return -1;
		*have_info = false;
	} else {
		*have_info = rd.kind == REPLY_STS;
	}
	*kind = rd.kind;
	return 0;
}

/*
 * A new entry of domain: d, the body (copied, when d->policy.have; it
 * must parse), the reply formatted now with the MX host names mx (none
 * when format is false: an entry a resolution only decides with, never
 * answered), why (NULL: "").  NULL when memory ran out or the body does
 * not parse.
 */
static struct entry *
entry_new(struct resolver *r, const char *domain, const struct decide_entry *d,
          const char *body, size_t body_len, const char *const *mx,
          size_t mx_count, const char *why, bool format)
{
	struct decide_entry dd = *d;
	struct mts_sts_policy pol;
	struct reply_info info;
	enum reply_kind kind = REPLY_NO_POLICY;
	bool have_info = false;
	size_t dlen = strnlen(domain, MTS_DNAME_MAX), wlen, rlen = 0, ilen;
	struct entry *e;
	char *p;

	memset(&pol, 0, sizeof(pol));
	if (!dd.policy.have || body == NULL || body_len > UINT32_MAX) {
		dd.policy.have = false;
		body_len = 0;
	} else if (mts_sts_policy_parse(body, body_len, &pol, NULL, NULL) !=
	           0) {
		return NULL;
	}
	why = why != NULL ? why : "";
	wlen = strnlen(why, WHY_SIZE - 1);
	ilen = strnlen(dd.policy.id, MTS_STS_ID_MAX);
	if (format &&
	    entry_format(r, domain, &dd, &pol, mx, mx_count, &kind, &rlen,
	                 &info, &have_info) != 0) {
		mts_sts_policy_reset(&pol);
		return NULL;
	}
	mts_sts_policy_reset(&pol);
	if ((e = malloc(offsetof(struct entry, text) + dlen + rlen + wlen +
	                ilen + body_len + 5)) == NULL)
		return NULL;
	memset(e, 0, offsetof(struct entry, text));
	entry_set_d(e, &dd);
	if (have_info && (e->info = info_get(r, &info)) == NULL) {
		free(e);
		return NULL;
	}
	e->domain_len = (uint8_t)dlen;
	e->reply_len = (uint32_t)rlen;
	e->why_len = (uint16_t)wlen;
	e->id_len = (uint8_t)ilen;
	e->body_len = (uint32_t)body_len;
	e->rkind = (uint8_t)kind;
	p = e->text;
	memcpy(p, domain, dlen);
	p[dlen] = '\0';
	p += dlen + 1;
	memcpy(p, r->scratch, rlen);
	p[rlen] = '\0';
	p += rlen + 1;
	memcpy(p, why, wlen);
	p[wlen] = '\0';
	p += wlen + 1;
	memcpy(p, dd.policy.id, ilen);
	p[ilen] = '\0';
	p += ilen + 1;
	if (dd.policy.have) {
		memcpy(p, body, body_len);
		p[body_len] = '\0';
	}
	e->node.key = e->text;
	return e;
}

static void
answer_of(const struct entry *e, enum resolve_via via, struct resolve_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->domain = entry_domain(e);
	a->reply = entry_reply(e);
	a->reply_len = e->reply_len;
	a->kind = (enum reply_kind)e->rkind;
	a->via = via;
	a->failure = (enum resolve_failure)e->failure;
	a->why = entry_why(e);
	a->info = e->info;
}

static void
count_answer(struct resolver *r, const struct entry *e)
{
	if (e->rkind < 4)
		r->st.answers[e->rkind]++;
	if (e->kind == DECIDE_FAILED && e->failure < RESOLVE_FAIL_COUNT)
		r->st.failures[e->failure]++;
}

/* ---- the store ---- */

static void
store_result(struct resolver *r, int rc, const char *what, const char *why)
{
	if (rc < 0) {
		r->st.store_errors++;
		if (!r->st.store_down)
			logmsg(r, LOG_WARNING,
			       "cache store: %s failed: %s; answering "
			       "from memory",
			       what, why);
		r->st.store_down = true;
	} else if (r->st.store_down) {
		r->st.store_down = false;
		logmsg(r, LOG_INFO, "cache store: answering again");
	}
}

/* Puts e to the store as cache.h describes its fields. */
static void
store_put(struct resolver *r, struct entry *e)
{
	struct pcache_entry pe;
	struct decide_entry d;
	char why[PCACHE_WHY_SIZE];

	if (r->conf.store == NULL)
		return;
	memset(&pe, 0, sizeof(pe));
	entry_d(e, &d);
	snprintf(pe.domain, sizeof(pe.domain), "%s", entry_domain(e));
	pe.fetched = d.fetched;
	pe.expires = d.expires;
	pe.next_check = d.next_check;
	pe.backoff_until = d.backoff_until;
	switch (d.kind) {
	case DECIDE_POLICY:
		pe.kind = PCACHE_POLICY;
		snprintf(pe.id, sizeof(pe.id), "%s", d.policy.id);
		/* e->text, not entry_body(): pcache_entry's body is not
		   const, pcache_put() only reads it. */
		pe.body = e->text + (entry_body(e) - e->text);
		pe.body_len = e->body_len;
		pe.fetched = d.policy.fetched;
		break;
	case DECIDE_NO_POLICY:
		pe.kind = PCACHE_NO_POLICY;
		break;
	case DECIDE_DANE:
		pe.kind = PCACHE_DANE;
		break;
	case DECIDE_FAILED:
		/* Only the fetch back-off is shared (§3.3): a DNS failure
		   is this process's view of its resolver. */
		if (d.failure != RESOLVE_FAIL_FETCH)
			return;
		pe.kind = PCACHE_NO_POLICY;
		break;
	}
	if (d.failure != RESOLVE_FAIL_NONE) {
		snprintf(pe.failure_class, sizeof(pe.failure_class), "%s",
		         resolve_failure_name(d.failure));
		snprintf(pe.failure, sizeof(pe.failure), "%s", entry_why(e));
	}
	store_result(r, pcache_put(r->conf.store, &pe, why, sizeof(why)), "put",
	             why);
}

/* The decision a store entry holds in *out; -1 when it cannot be used. */
static int
entry_from_store(struct resolver *r, const struct pcache_entry *pe,
                 struct decide_entry *out)
{
	struct mts_sts_policy pol;
	struct decide_entry d;

	memset(&d, 0, sizeof(d));
	d.fetched = pe->fetched;
	d.expires = pe->expires;
	d.next_check = pe->next_check;
	d.backoff_until = pe->backoff_until;
	d.failure = failure_of_name(pe->failure_class);
	switch (pe->kind) {
	case PCACHE_POLICY:
		memset(&pol, 0, sizeof(pol));
		if (pe->body == NULL ||
		    mts_sts_policy_parse(pe->body, pe->body_len, &pol, NULL,
		                         NULL) != 0)
			return -1;
		d.kind = DECIDE_POLICY;
		d.policy.have = true;
		d.policy.mode = pol.mode;
		d.policy.max_age = pol.max_age;
		d.policy.fetched = pe->fetched;
		snprintf(d.policy.id, sizeof(d.policy.id), "%s", pe->id);
		d.expires = pe->fetched + (int64_t)pol.max_age;
		d.refresh_at = decide_refresh_at(pe->fetched, pol.max_age,
		                                 DECIDE_REFRESH_MAX, jitter(r));
		mts_sts_policy_reset(&pol);
		break;
	case PCACHE_NO_POLICY:
		d.kind = d.failure != RESOLVE_FAIL_NONE ? DECIDE_FAILED :
							  DECIDE_NO_POLICY;
		break;
	case PCACHE_DANE:
		d.kind = DECIDE_DANE;
		d.failure = RESOLVE_FAIL_NONE;
		break;
	default:
		return -1;
	}
	if (d.kind != DECIDE_POLICY)
		d.refresh_at = d.fetched >= d.expires ?
		    d.expires :
		    decide_refresh_at(d.fetched,
		                      (uint32_t)(d.expires - d.fetched), 0,
		                      jitter(r));
	if (d.refresh_at < d.backoff_until)
		d.refresh_at = d.backoff_until;
	*out = d;
	return 0;
}

/* ---- resolutions ---- */

static void
res_free(struct resolution *res)
{
	struct resolver *r = res->r;
	struct resolve_wait *w;
	size_t i;

	while ((w = TAILQ_FIRST(&res->waiters)) != NULL) {
		TAILQ_REMOVE(&res->waiters, w, link);
		free(w);
	}
	if (res->node.linked)
		lru_remove(&r->inflight, &res->node);
	if (res->store_queued)
		TAILQ_REMOVE(&r->store_queue, res, store_link);
	if (res->background && r->background > 0)
		r->background--;
	entry_unref(r, res->cached);
	free(res->store_body);
	free_strv(res->mx, res->mx_count);
	for (i = 0; i < res->nhosts; i++)
		dane_host_reset(&res->hosts[i]);
	free(res->hosts);
	rrset_reset(&res->a);
	rrset_reset(&res->aaaa);
	mts_sts_policy_reset(&res->newpol);
	free(res->newbody);
	free(res);
	r->st.in_flight = r->inflight.count;
	if (r->freed && r->inflight.count == 0) {
		lru_reset(&r->inflight);
		lru_reset(&r->infos);
		free(r);
	}
}

static struct resolution *
res_new(struct resolver *r, const char *domain, struct entry *cached)
{
	struct resolution *res;

	if ((res = calloc(1, sizeof(*res))) == NULL)
		return NULL;
	res->r = r;
	snprintf(res->domain, sizeof(res->domain), "%s", domain);
	res->node.key = res->domain;
	TAILQ_INIT(&res->waiters);
	if ((res->cached = cached) != NULL) {
		cached->refs++;
		entry_d(cached, &res->cd);
	}
	lru_insert(&r->inflight, &res->node);
	r->st.in_flight = r->inflight.count;
	return res;
}

static void
res_hold(struct resolution *res)
{
	res->pending++;
}

static void
res_release(struct resolution *res)
{
	if (--res->pending != 0)
		return;
	if (res->r->freed)
		res_free(res);
	else
		res_finish(res);
}

/* The cached policy the resolution decides with (NULL: none). */
static const struct decide_policy *
res_cached_policy(const struct resolution *res)
{
	if (res->cached == NULL || !res->cd.policy.have)
		return NULL;
	return &res->cd.policy;
}

/* Starts a query held by res; false when it could not start. */
static bool
res_query(struct resolution *res, const char *name, uint16_t type,
          mts_dns_cb cb)
{
	struct mts_err err;

	res_hold(res);
	if (mts_dns_query(res->r->conf.dns, name, type, cb, res, &err) != 0) {
		trace(res, "%s: query not started: %s", name, err.msg);
		snprintf(res->why, sizeof(res->why), "%s", err.msg);
		res->pending--;
		return false;
	}
	return true;
}

/* ---- the fetch (RFC 8461 §3.3) ---- */

/*
 * Whether a fetch result is a policy a sender may use: a whole response,
 * a certificate that chains to a trusted root and names mta-sts.DOMAIN
 * (DNS-ID, STS-FETCH-3, STS-FETCH-4), status 200 and nothing else
 * (redirects are not followed, STS-FETCH-7), text/plain (STS-FETCH-9),
 * a body that parses (§3.2).  On false, why says why.
 */
static bool
fetch_usable(struct resolution *res, const struct fetch_result *f)
{
	struct mts_err err;

	if (f->stage != FETCH_DONE) {
		snprintf(res->why, sizeof(res->why), "%s: %s",
		         fetch_stage_name(f->stage), f->why);
		return false;
	}
	if (!f->have_cert || f->verify_error != X509_V_OK) {
		snprintf(res->why, sizeof(res->why), "certificate: %s",
		         f->have_cert ? f->verify_msg : "none");
		return false;
	}
	if (!f->name_ok) {
		snprintf(
		    res->why, sizeof(res->why),
		    "certificate does not name the policy host (it names %.100s)",
		    f->subject_names);
		return false;
	}
	if (f->status != 200) {
		snprintf(res->why, sizeof(res->why), "HTTP status %d",
		         f->status);
		return false;
	}
	if (strcmp(f->content_type, "text/plain") != 0) {
		snprintf(res->why, sizeof(res->why),
		         "media type \"%.64s\", "
		         "not text/plain",
		         f->content_type);
		return false;
	}
	mts_sts_policy_reset(&res->newpol);
	if (mts_sts_policy_parse(f->body, f->body_len, &res->newpol, NULL,
	                         &err) != 0) {
		snprintf(res->why, sizeof(res->why), "policy invalid: %s",
		         err.msg);
		return false;
	}
	return true;
}

static void start_next_fetch(struct resolution *res);

static void
on_fetch(void *arg, struct fetch_result *f)
{
	struct resolution *res = arg;

	if (res->r->freed) {
		fetch_result_free(f);
		res_release(res);
		return;
	}
	if (fetch_usable(res, f)) {
		res->fetch_ok = true;
		snprintf(res->fetch_addr, sizeof(res->fetch_addr), "%s",
		         f->address);
		res->newbody = f->body;
		res->newbody_len = f->body_len;
		f->body = NULL;
		trace(res, "policy from %s: %s, max_age %u, %zu mx", f->address,
		      mts_sts_mode_name(res->newpol.mode), res->newpol.max_age,
		      res->newpol.mx_count);
	} else {
		res->r->st.fetch_failures++;
		trace(res, "policy from %s: %s", f->address, res->why);
		start_next_fetch(res);
	}
	fetch_result_free(f);
	res_release(res);
}

/* The next address of the policy host, in order (at most FETCH_ADDRS). */
static void
start_next_fetch(struct resolution *res)
{
	struct resolver *r = res->r;
	struct fetch_options fo;
	const char *addr;

	memset(&fo, 0, sizeof(fo));
	fo.timeout_ms = r->conf.timeout_ms;
	fo.port = r->conf.fetch_port;
	while (res->next_addr < res->naddrs) {
		addr = res->addrs[res->next_addr++];
		r->st.fetches++;
		res_hold(res);
		if (fetch_policy(r->conf.base, r->conf.ssl, res->domain, addr,
		                 &fo, on_fetch, res) == 0)
			return;
		res->pending--;
		snprintf(res->why, sizeof(res->why),
		         "fetch from %s not started", addr);
		trace(res, "%s", res->why);
	}
}

static void
add_addrs(struct resolution *res, const struct rrset *rs)
{
	size_t i;

	for (i = 0; i < rs->count && res->naddrs < FETCH_ADDRS; i++)
		snprintf(res->addrs[res->naddrs++], sizeof(res->addrs[0]), "%s",
		         rs->addr[i]);
}

static void
on_host_addr(void *arg, const struct mts_dns_answer *a)
{
	struct resolution *res = arg;
	struct rrset *rs = a->qtype == MTS_DNS_TYPE_A ? &res->a : &res->aaaa;

	if (!res->r->freed) {
		if ((dns_answer_failed(a->rcode, a->dnssec) ?
		         rrset_keep_failure(rs, a) :
		         rrset_keep(rs, a)) != 0)
			res->nomem = true;
		trace(res, "%s %s: %s (%s), %zu address%s", a->qname,
		      a->qtype == MTS_DNS_TYPE_A ? "A" : "AAAA",
		      mts_dns_rcode_name(a->rcode), mts_dnssec_name(a->dnssec),
		      rs->count, rs->count == 1 ? "" : "es");
		/* RFC 8461 §3.3: the policy host's CNAME is followed by
		   DNS (libunbound); the certificate must still name
		   mta-sts.DOMAIN (fetch.c). */
		if (res->a.done && res->aaaa.done) {
			add_addrs(res, &res->a);
			add_addrs(res, &res->aaaa);
			if (res->naddrs == 0)
				snprintf(res->why, sizeof(res->why),
				         "mta-sts.%s has no address",
				         res->domain);
			start_next_fetch(res);
		}
	}
	res_release(res);
}

static void
start_fetch(struct resolution *res)
{
	char name[MTS_DNAME_MAX + 16];

	snprintf(name, sizeof(name), "mta-sts.%s", res->domain);
	if (!res_query(res, name, MTS_DNS_TYPE_A, on_host_addr))
		res->a.done = true;
	if (!res_query(res, name, MTS_DNS_TYPE_AAAA, on_host_addr))
		res->aaaa.done = true;
}

/* ---- TXT ---- */

static void
on_txt(void *arg, const struct mts_dns_answer *a)
{
	struct resolution *res = arg;
	struct resolver *r = res->r;
	const struct decide_policy *cp;

	if (r->freed) {
		res_release(res);
		return;
	}
	cp = res_cached_policy(res);
	res->txt_done = true;
	decide_txt(a->rcode, a->dnssec, (const char *const *)a->txt, a->txt_len,
	           a->rcode == MTS_DNS_ANSWER ? a->count : 0, cp,
	           res->cached != NULL ? res->cd.backoff_until : 0, res->force,
	           now_of(r), &res->txt);
	trace(res, "TXT %s: %s (%s)%s%.*s", a->qname,
	      mts_dns_rcode_name(a->rcode), mts_dnssec_name(a->dnssec),
	      a->rcode == MTS_DNS_ANSWER && a->count > 0 ? ": " : "",
	      a->rcode == MTS_DNS_ANSWER && a->count > 0 ?
	          (int)(a->txt_len[0] > 200 ? 200 : a->txt_len[0]) :
	          0,
	      a->rcode == MTS_DNS_ANSWER && a->count > 0 ? a->txt[0] : "");
	if (res->txt.failure != RESOLVE_FAIL_NONE)
		snprintf(res->why, sizeof(res->why), "TXT _mta-sts.%s: %s%s%s",
		         res->domain,
		         a->dnssec == MTS_DNSSEC_BOGUS ?
		             "DNSSEC bogus" :
		             mts_dns_rcode_name(a->rcode),
		         a->why_bogus != NULL ? ": " : "",
		         a->why_bogus != NULL ? a->why_bogus : "");
	if (res->txt.next == DECIDE_TXT_FETCH)
		start_fetch(res);
	else if (res->txt.next == DECIDE_TXT_BACKOFF)
		snprintf(res->why, sizeof(res->why),
		         "a fetch failed less than %u s ago (back-off)",
		         r->dc.backoff);
	res_release(res);
}

/* ---- MX and DANE ---- */

static void
on_dane_host(void *arg, struct dane_host *h)
{
	struct resolution *res = arg;
	char buf[256];
	const char *why;

	if (!res->r->freed) {
		why = dane_host_why_not(h, buf, sizeof(buf));
		if (h->dane == DANE_SECURE && h->dane_at != NULL)
			trace(res, "%s: DANE secure, %zu usable TLSA record%s",
			      h->name, dane_host_usable(h->dane_at),
			      dane_host_usable(h->dane_at) == 1 ? "" : "s");
		else
			trace(res, "%s: DANE %s%s%s", h->name,
			      h->dane == DANE_BOGUS ? "bogus" :
			          h->dane == DANE_LOOKUP_FAILED ?
			                              "lookup failed" :
			          h->dane == DANE_SECURE ? "secure" :
			                                   "does not apply",
			      why != NULL ? ": " : "", why != NULL ? why : "");
	}
	res_release(res);
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct mts_dns_mx *x = *(const struct mts_dns_mx *const *)a;
	const struct mts_dns_mx *y = *(const struct mts_dns_mx *const *)b;

	if (x->preference != y->preference)
		return x->preference < y->preference ? -1 : 1;
	return strcmp(x->host, y->host);
}

/*
 * Keeps the MX host names in preference order (address literals and
 * the null MX "." left out: no host, RFC 7505), or the domain itself
 * when it has no MX records (RFC 5321 §5.1, STS-MX-9).
 */
static int
keep_mx(struct resolution *res, const struct mts_dns_answer *a)
{
	const struct mts_dns_mx **order;
	size_t i, n = 0;

	if (a->rcode == MTS_DNS_NODATA && a->dnssec != MTS_DNSSEC_BOGUS) {
		if ((res->mx = calloc(1, sizeof(*res->mx))) == NULL ||
		    (res->mx[0] = strdup(res->domain)) == NULL)
			return -1;
		res->mx_count = 1;
		return 0;
	}
	if (a->rcode != MTS_DNS_ANSWER || a->dnssec == MTS_DNSSEC_BOGUS ||
	    a->count == 0)
		return 0;
	if ((order = calloc(a->count, sizeof(*order))) == NULL)
		return -1;
	for (i = 0; i < a->count; i++)
		order[i] = &a->mx[i];
	qsort(order, a->count, sizeof(*order), mx_cmp);
	if ((res->mx = calloc(a->count, sizeof(*res->mx))) == NULL) {
		free(order);
		return -1;
	}
	for (i = 0; i < a->count; i++) {
		if (order[i]->host[0] == '\0' ||
		    mts_dname_is_address(order[i]->host,
		                         strlen(order[i]->host)))
			continue;
		if ((res->mx[n] = strdup(order[i]->host)) == NULL)
			break;
		n++;
	}
	res->mx_count = n;
	free(order);
	return i == a->count ? 0 : -1;
}

static void
start_dane(struct resolution *res)
{
	size_t i, n = res->mx_count;

	if (n > RESOLVE_DANE_HOSTS)
		n = RESOLVE_DANE_HOSTS;
	if (n == 0 || (res->hosts = calloc(n, sizeof(*res->hosts))) == NULL)
		return;
	res->nhosts = n;
	for (i = 0; i < n; i++) {
		res_hold(res);
		if (dane_host_start(&res->hosts[i], res->r->conf.dns,
		                    res->mx[i], 25, NULL, on_dane_host,
		                    res) != 0) {
			/* Nothing started: a failed lookup, for DANE. */
			res->hosts[i].dane = DANE_LOOKUP_FAILED;
			res->pending--;
		}
	}
}

static void
on_mx(void *arg, const struct mts_dns_answer *a)
{
	struct resolution *res = arg;
	size_t i;

	if (res->r->freed) {
		res_release(res);
		return;
	}
	res->mx_done = true;
	res->mx_rcode = a->rcode;
	res->mx_dnssec = a->dnssec;
	if (keep_mx(res, a) != 0)
		res->nomem = true;
	trace(res, "MX %s: %s (%s), %zu host%s", a->qname,
	      mts_dns_rcode_name(a->rcode), mts_dnssec_name(a->dnssec),
	      res->mx_count, res->mx_count == 1 ? "" : "s");
	for (i = 0; i < res->mx_count && i < 8; i++)
		trace(res, "MX host %zu: %s", i + 1, res->mx[i]);
	/* RFC 7672 §2.2.1: DANE only below a secure MX RRset. */
	if (!res->from_store && !res->nomem &&
	    res->r->conf.dane != RESOLVE_DANE_OFF &&
	    a->dnssec == MTS_DNSSEC_SECURE &&
	    (a->rcode == MTS_DNS_ANSWER || a->rcode == MTS_DNS_NODATA))
		start_dane(res);
	res_release(res);
}

/* ---- the end of a resolution ---- */

static enum decide_dane
res_dane(const struct resolution *res)
{
	struct decide_dane_host hosts[RESOLVE_DANE_HOSTS];
	size_t i;

	if (!res->mx_done)
		return DECIDE_DANE_TEMP;
	for (i = 0; i < res->nhosts; i++) {
		hosts[i].state = res->hosts[i].dane;
		hosts[i].usable = res->hosts[i].dane == DANE_SECURE &&
			res->hosts[i].dane_at != NULL ?
		    dane_host_usable(res->hosts[i].dane_at) :
		    0;
	}
	/* More MX hosts than were looked up: DANE is not known for all. */
	if (res->mx_dnssec == MTS_DNSSEC_SECURE &&
	    res->mx_count > res->nhosts && res->nhosts > 0)
		return DECIDE_DANE_NO;
	return decide_dane(res->mx_rcode, res->mx_dnssec, hosts, res->nhosts);
}

/* Hands every waiter e's answer, oldest first; a callback may cancel
   waiters still in the list or start lookups. */
static void
answer_waiters(struct resolution *res, struct entry *e, enum resolve_via via)
{
	struct resolve_answer ans;
	struct resolve_wait *w;

	static const char nomem[] = "TEMP out of memory";

	while ((w = TAILQ_FIRST(&res->waiters)) != NULL) {
		TAILQ_REMOVE(&res->waiters, w, link);
		if (e != NULL) {
			answer_of(e, via, &ans);
			count_answer(res->r, e);
		} else {
			memset(&ans, 0, sizeof(ans));
			ans.domain = res->domain;
			ans.reply = nomem;
			ans.reply_len = sizeof(nomem) - 1;
			ans.kind = REPLY_TEMP;
			ans.via = RESOLVE_VIA_NONE;
			ans.why = "out of memory";
			res->r->st.answers[REPLY_TEMP]++;
		}
		if (via == RESOLVE_VIA_STORE)
			res->r->st.store_hits++;
		w->cb(w->arg, &ans);
		free(w);
	}
}

/* Starts res from the loop (on_start_ev): a lookup's callback never
   runs inside resolver_lookup(), and one loop pass reads the store
   for every miss queued meanwhile. */
static void
res_queue(struct resolution *res)
{
	struct resolver *r = res->r;

	TAILQ_INSERT_TAIL(&r->store_queue, res, store_link);
	res->store_queued = true;
	event_active(r->store_ev, EV_TIMEOUT, 0);
}

/* Puts e in memory in place of any entry of its domain. */
static void
mem_install(struct resolver *r, struct entry *e)
{
	struct lru_node *n;

	if ((n = lru_peek(&r->mem, entry_domain(e))) != NULL)
		entry_unlink(r, (struct entry *)n);
	if ((n = lru_insert(&r->mem, &e->node)) != NULL &&
	    ((struct entry *)n)->refs == 0)
		entry_free(r, (struct entry *)n);
	r->st.memory_entries = r->mem.count;
}

/* What the resolution decided: *out, with the policy body *body (NULL:
   none; res's or its cached entry's), *via and why. */
static void
res_decide(struct resolution *res, enum resolve_via *via,
           struct decide_entry *out, const char **body_out,
           size_t *body_len_out, char *why, size_t size)
{
	struct resolver *r = res->r;
	const struct decide_policy *cp = res_cached_policy(res);
	int64_t now = now_of(r);
	enum decide_sts sts = DECIDE_STS_NONE;
	enum resolve_failure sf = RESOLVE_FAIL_NONE;
	enum mts_sts_mode mode = MTS_STS_MODE_NONE;
	enum decide_dane dane = res_dane(res);
	struct decide_final fin;
	struct decide_entry d;
	struct decide_policy kept;
	const char *body = NULL;
	size_t body_len = 0;
	bool stale = false, fresh_policy = false;

	*via = RESOLVE_VIA_NETWORK;
	switch (res->txt.next) {
	case DECIDE_TXT_NO_POLICY:
		break;
	case DECIDE_TXT_USE_CACHE:
		sts = DECIDE_STS_POLICY;
		stale = res->txt.failure != RESOLVE_FAIL_NONE;
		sf = res->txt.failure;
		break;
	case DECIDE_TXT_FETCH:
	case DECIDE_TXT_BACKOFF:
		switch (decide_fetch(res->fetch_ok, cp, now)) {
		case DECIDE_FETCH_NEW:
			sts = DECIDE_STS_POLICY;
			fresh_policy = true;
			break;
		case DECIDE_FETCH_STALE:
			sts = DECIDE_STS_POLICY;
			stale = true;
			sf = RESOLVE_FAIL_FETCH;
			break;
		case DECIDE_FETCH_FAILED:
			sts = DECIDE_STS_FAILED;
			sf = RESOLVE_FAIL_FETCH;
			break;
		}
		break;
	case DECIDE_TXT_FAILED:
		sts = DECIDE_STS_FAILED;
		sf = res->txt.failure;
		break;
	}
	if (fresh_policy)
		mode = res->newpol.mode;
	else if (sts == DECIDE_STS_POLICY && cp != NULL)
		mode = cp->mode;
	decide_answer(dane, r->conf.dane == RESOLVE_DANE_OFF, sts, mode, sf,
	              &fin);
	if (fresh_policy) {
		decide_entry_policy(&r->dc, res->newpol.mode,
		                    res->newpol.max_age, res->txt.id, now,
		                    jitter(r), &d);
		body = res->newbody;
		body_len = res->newbody_len;
	} else if (sts == DECIDE_STS_POLICY && stale) {
		decide_entry_stale(&r->dc, cp, sf, now, &d);
	} else if (sts == DECIDE_STS_POLICY) {
		decide_entry_confirmed(&r->dc, cp, now, jitter(r), &d);
	} else {
		memset(&d, 0, sizeof(d));
	}
	if (!fresh_policy && cp != NULL) {
		body = entry_body(res->cached);
		body_len = res->cached->body_len;
	}
	switch (fin.kind) {
	case DECIDE_POLICY:
		*via = stale ? RESOLVE_VIA_STALE : RESOLVE_VIA_NETWORK;
		if (fresh_policy)
			snprintf(why, size,
			         "policy id %s fetched from %s: %s, "
			         "max_age %u",
			         d.policy.id, res->fetch_addr,
			         mts_sts_mode_name(d.policy.mode),
			         d.policy.max_age);
		else if (stale)
			snprintf(why, size,
			         "cached policy id %s (%s) applied, "
			         "refresh failed (%s): %.250s",
			         d.policy.id, mts_sts_mode_name(d.policy.mode),
			         resolve_failure_name(sf), res->why);
		else
			snprintf(why, size,
			         "cached policy id %s (%s) applies: "
			         "TXT id unchanged",
			         d.policy.id, mts_sts_mode_name(d.policy.mode));
		if (d.policy.mode == MTS_STS_MODE_NONE)
			snprintf(why + strlen(why), size - strlen(why),
			         "; mode none: no policy");
		break;
	case DECIDE_DANE:
		kept = d.policy;
		decide_entry_ttl(&r->dc, DECIDE_DANE,
		                 sts == DECIDE_STS_POLICY ? &kept : NULL, now,
		                 jitter(r), &d);
		snprintf(why, size,
		         "DANE: secure MX RRset, usable TLSA "
		         "records at every MX host (RFC 8461 §2)");
		break;
	case DECIDE_NO_POLICY:
		decide_entry_ttl(&r->dc, DECIDE_NO_POLICY, NULL, now, jitter(r),
		                 &d);
		body = NULL;
		snprintf(why, size, "no MTA-STS policy (%s)",
		         res->txt.record_err == MTS_ERR_NOTFOUND ?
		             "no _mta-sts TXT record" :
		             res->txt.record_err == MTS_ERR_MULTIPLE ?
		             "more than one STSv1 TXT record" :
		             "no valid _mta-sts TXT record");
		break;
	case DECIDE_FAILED:
		kept = d.policy;
		decide_entry_failed(&r->dc, fin.failure,
		                    kept.have ? &kept : NULL, now, &d);
		body = kept.have ? body : NULL;
		if (fin.failure == RESOLVE_FAIL_BOGUS &&
		    dane == DECIDE_DANE_BOGUS)
			snprintf(why, size,
			         "bogus: DNSSEC validation failed for "
			         "the MX RRset or a TLSA lookup");
		else
			snprintf(why, size, "%s: %.300s",
			         resolve_failure_name(fin.failure), res->why);
		break;
	}
	*out = d;
	*body_out = body;
	*body_len_out = body_len;
}

/* Starts a background resolution of e (a re-check or a refresh). */
static void
start_background(struct resolver *r, struct entry *e, bool force)
{
	struct resolution *res;

	if (r->background >= BACKGROUND_MAX ||
	    lru_peek(&r->inflight, entry_domain(e)) != NULL)
		return;
	if ((res = res_new(r, entry_domain(e), e)) == NULL)
		return;
	res->force = force;
	res->background = true;
	r->background++;
	r->st.refreshes++;
	trace(res, "background %s", force ? "refresh" : "re-check of the id");
	res_queue(res);
}

/* The answer to a background resolution that failed where the cached
   answer still holds: keep it, retry after the back-off. */
static bool
keep_cached(struct resolution *res, const struct decide_entry *d, int64_t now)
{
	struct entry *c = res->cached;

	struct decide_entry *cd = &res->cd;

	if (!res->background || c == NULL || d->kind != DECIDE_FAILED ||
	    cd->kind == DECIDE_FAILED ||
	    decide_lookup(cd, now) == DECIDE_RESOLVE)
		return false;
	cd->backoff_until = now + (int64_t)res->r->dc.backoff;
	if (cd->refresh_at < cd->backoff_until)
		cd->refresh_at = cd->backoff_until;
	if (cd->next_check < cd->backoff_until)
		cd->next_check = cd->backoff_until;
	entry_set_d(c, cd);
	return true;
}

static void
res_finish_store(struct resolution *res)
{
	struct resolver *r = res->r;
	const struct decide_entry *d = &res->store_d;
	enum decide_action act;
	char why[WHY_SIZE];
	struct entry *e;

	res->from_store = false;
	snprintf(why, sizeof(why), "from the cache store: %s",
	         d->kind == DECIDE_POLICY ?
	             (d->failure != RESOLVE_FAIL_NONE ?
	                  "a policy applied stale after a failed refresh" :
	                  "a policy") :
	             d->kind == DECIDE_DANE   ? "DANE" :
	             d->kind == DECIDE_FAILED ? "a failure in back-off" :
	                                        "no policy");
	if (d->kind == DECIDE_POLICY)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		         ", id %s, %s", d->policy.id,
		         mts_sts_mode_name(d->policy.mode));
	if ((e = entry_new(r, res->domain, d, res->store_body,
	                   res->store_body_len, (const char *const *)res->mx,
	                   res->mx_count, why, true)) == NULL) {
		answer_waiters(res, NULL, RESOLVE_VIA_NONE);
		return;
	}
	trace(res, "%s", why);
	lru_remove(&r->inflight, &res->node);
	mem_install(r, e);
	answer_waiters(res, e, RESOLVE_VIA_STORE);
	act = decide_lookup(d, now_of(r));
	if (act == DECIDE_ANSWER_RECHECK || act == DECIDE_ANSWER_REFRESH)
		start_background(r, e, act == DECIDE_ANSWER_REFRESH);
}

/* The entry of a resolution that ran out of memory, or NULL. */
static struct entry *
res_nomem_entry(struct resolution *res, char *why, size_t size)
{
	struct resolver *r = res->r;
	struct decide_entry d;

	decide_entry_failed(&r->dc, RESOLVE_FAIL_DNS_TEMP, NULL, now_of(r), &d);
	snprintf(why, size, "out of memory");
	return entry_new(r, res->domain, &d, NULL, 0, NULL, 0, why, true);
}

static void
res_finish(struct resolution *res)
{
	struct resolver *r = res->r;
	enum resolve_via via = RESOLVE_VIA_NONE;
	struct decide_entry d;
	const char *body = NULL;
	size_t body_len = 0;
	char why[WHY_SIZE];
	struct entry *e = NULL;

	if (res->from_store) {
		res_finish_store(res);
		res_free(res);
		return;
	}
	why[0] = '\0';
	if (!res->nomem) {
		res_decide(res, &via, &d, &body, &body_len, why, sizeof(why));
		if (keep_cached(res, &d, now_of(r))) {
			trace(res,
			      "background resolution failed (%s); the cached "
			      "answer stands",
			      why);
			logmsg(r, LOG_WARNING, "%s: refresh failed: %s",
			       res->domain, why);
			lru_remove(&r->inflight, &res->node);
			answer_waiters(res, res->cached, RESOLVE_VIA_STALE);
			res_free(res);
			return;
		}
		e = entry_new(r, res->domain, &d, body, body_len,
		              (const char *const *)res->mx, res->mx_count, why,
		              true);
	}
	if (e == NULL) {
		e = res_nomem_entry(res, why, sizeof(why));
		via = RESOLVE_VIA_NONE;
	}
	if (e == NULL) {
		lru_remove(&r->inflight, &res->node);
		answer_waiters(res, NULL, RESOLVE_VIA_NONE);
		res_free(res);
		return;
	}
	trace(res, "answer: %s (%s)", entry_reply(e), why);
	if (e->failure != RESOLVE_FAIL_NONE)
		logmsg(r, LOG_WARNING, "%s: %s", res->domain, why);
	if (via == RESOLVE_VIA_STALE)
		r->st.stale++;
	lru_remove(&r->inflight, &res->node);
	mem_install(r, e);
	answer_waiters(res, e, via);
	store_put(r, e);
	res_free(res);
}

static void
res_start_net(struct resolution *res)
{
	char name[MTS_DNAME_MAX + 16];

	res->r->st.resolutions++;
	res_hold(res);
	if (!res_query(res, res->domain, MTS_DNS_TYPE_MX, on_mx))
		res->mx_rcode = MTS_DNS_ERROR;
	snprintf(name, sizeof(name), "_mta-sts.%s", res->domain);
	if (!res_query(res, name, MTS_DNS_TYPE_TXT, on_txt)) {
		res->txt_done = true;
		decide_txt(MTS_DNS_ERROR, MTS_DNSSEC_INSECURE, NULL, NULL, 0,
		           res_cached_policy(res), 0, false, now_of(res->r),
		           &res->txt);
	}
	res_release(res);
}

/* ---- the store phase ---- */

static void
store_read(struct resolution *res)
{
	struct resolver *r = res->r;
	struct pcache_entry pe;
	struct decide_entry d;
	char why[PCACHE_WHY_SIZE];
	struct entry *e;
	bool have = false;
	int rc;

	memset(&pe, 0, sizeof(pe));
	rc = pcache_get(r->conf.store, res->domain, &pe, why, sizeof(why));
	store_result(r, rc, "get", why);
	if (rc == 1)
		have = entry_from_store(r, &pe, &d) == 0;
	if (!have || decide_lookup(&d, now_of(r)) == DECIDE_RESOLVE) {
		/* Nothing usable: the network, with what the store knew
		   (an expired policy's id, a back-off). */
		if (have &&
		    (e = entry_new(r, res->domain, &d, pe.body, pe.body_len,
		                   NULL, 0, NULL, false)) != NULL) {
			entry_unref(r, res->cached);
			res->cached = e;
			e->refs = 1;
			entry_d(e, &res->cd);
			trace(res, "cache store: an entry past its time");
		}
		pcache_entry_reset(&pe);
		res_start_net(res);
		return;
	}
	/* Usable: the reply needs the current MX host names (reply.h). */
	res->from_store = true;
	res->store_d = d;
	res->store_body = pe.body; /* ours now */
	res->store_body_len = pe.body_len;
	pe.body = NULL;
	pcache_entry_reset(&pe);
	res_hold(res);
	if (d.kind == DECIDE_POLICY)
		res_query(res, res->domain, MTS_DNS_TYPE_MX, on_mx);
	res_release(res);
}

static void
on_store_ev(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;
	struct resolution *res;

	while ((res = TAILQ_FIRST(&r->store_queue)) != NULL) {
		TAILQ_REMOVE(&r->store_queue, res, store_link);
		res->store_queued = false;
		if (res->background || r->conf.store == NULL ||
		    res->cached != NULL)
			res_start_net(res);
		else
			store_read(res);
	}
}

/* ---- the sweep ---- */

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;
	struct lru_node *n, *next;
	struct decide_entry d;
	struct entry *e;
	int64_t now = now_of(r);
	size_t started = 0;

	for (n = lru_oldest(&r->mem); n != NULL && started < SWEEP_MAX;
	     n = next) {
		next = lru_newer(&r->mem, n);
		e = (struct entry *)n;
		entry_d(e, &d);
		if (!decide_sweep(&d, e->looked_up, now, SWEEP_INTERVAL) ||
		    lru_peek(&r->inflight, entry_domain(e)) != NULL)
			continue;
		start_background(r, e, e->kind == DECIDE_POLICY);
		started++;
	}
}

/* ---- the interface ---- */

struct resolver *
resolver_new(const struct resolve_conf *conf)
{
	struct timeval tv = {SWEEP_INTERVAL, 0};
	struct resolver *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->conf = *conf;
	decide_conf_init(&r->dc, conf->negative_ttl, conf->dane_ttl,
	                 conf->recheck, conf->backoff);
	if (r->conf.memory_max == 0)
		r->conf.memory_max = 200000;
	r->rng = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^
	    (uint32_t)(uintptr_t)r;
	if (r->rng == 0)
		r->rng = 1;
	TAILQ_INIT(&r->store_queue);
	if (lru_init(&r->mem, r->conf.memory_max) != 0 ||
	    lru_init(&r->inflight, 0) != 0 || lru_init(&r->infos, 0) != 0 ||
	    (r->scratch = malloc(REPLY_BUF_SIZE)) == NULL ||
	    (r->store_ev = event_new(conf->base, -1, 0, on_store_ev, r)) ==
	        NULL ||
	    (r->sweep_ev =
	         event_new(conf->base, -1, EV_PERSIST, on_sweep, r)) == NULL ||
	    event_add(r->sweep_ev, &tv) != 0)
		goto fail;
	return r;
fail:
	resolver_free(r);
	return NULL;
}

void
resolver_free(struct resolver *r)
{
	struct lru_node *n;
	struct resolution *res;
	struct resolve_wait *w;

	if (r == NULL)
		return;
	if (r->store_ev != NULL)
		event_free(r->store_ev);
	if (r->sweep_ev != NULL)
		event_free(r->sweep_ev);
	r->store_ev = r->sweep_ev = NULL;
	while ((n = lru_oldest(&r->mem)) != NULL)
		entry_unlink(r, (struct entry *)n);
	lru_reset(&r->mem);
	free(r->scratch);
	r->scratch = NULL;
	/* Resolutions waiting for the store have no query out: free. */
	while ((res = TAILQ_FIRST(&r->store_queue)) != NULL) {
		TAILQ_REMOVE(&r->store_queue, res, store_link);
		res->store_queued = false;
		res_free(res);
	}
	if (r->inflight.buckets == NULL || r->inflight.count == 0) {
		lru_reset(&r->inflight);
		lru_reset(&r->infos);
		free(r);
		return;
	}
	/* The others have queries or fetches out, which cannot be taken
	   back: their waiters go, and the last to end frees r. */
	r->freed = true;
	for (n = lru_oldest(&r->inflight); n != NULL;
	     n = lru_newer(&r->inflight, n)) {
		res = (struct resolution *)((char *)n -
		                            offsetof(struct resolution, node));
		while ((w = TAILQ_FIRST(&res->waiters)) != NULL) {
			TAILQ_REMOVE(&res->waiters, w, link);
			free(w);
		}
	}
}

static enum resolve_status
answer_now(struct resolver *r, struct entry *e, struct resolve_answer *answer)
{
	e->looked_up = true;
	r->st.memory_hits++;
	count_answer(r, e);
	if (answer != NULL)
		answer_of(e, RESOLVE_VIA_MEMORY, answer);
	return RESOLVE_DONE;
}

enum resolve_status
resolver_lookup(struct resolver *r, const char *domain, resolve_cb cb,
                void *arg, struct resolve_answer *answer,
                struct resolve_wait **wait)
{
	struct resolution *res;
	struct resolve_wait *w;
	struct lru_node *n;
	struct entry *e = NULL;
	struct decide_entry d;
	enum decide_action act;

	r->st.lookups++;
	if ((n = lru_get(&r->mem, domain)) != NULL) {
		e = (struct entry *)n;
		entry_d(e, &d);
		act = decide_lookup(&d, now_of(r));
		if (act == DECIDE_ANSWER || act == DECIDE_BACKOFF)
			return answer_now(r, e, answer);
		if (act != DECIDE_RESOLVE) {
			start_background(r, e, act == DECIDE_ANSWER_REFRESH);
			return answer_now(r, e, answer);
		}
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return RESOLVE_ERROR;
	w->cb = cb;
	w->arg = arg;
	n = lru_peek(&r->inflight, domain);
	if (n != NULL) {
		res = (struct resolution *)((char *)n -
		                            offsetof(struct resolution, node));
		r->st.coalesced++;
	} else if ((res = res_new(r, domain, e)) == NULL) {
		free(w);
		return RESOLVE_ERROR;
	} else {
		res_queue(res);
	}
	w->res = res;
	TAILQ_INSERT_TAIL(&res->waiters, w, link);
	if (wait != NULL)
		*wait = w;
	return RESOLVE_PENDING;
}

void
resolver_cancel(struct resolver *r, struct resolve_wait *wait)
{
	if (r == NULL || wait == NULL)
		return;
	TAILQ_REMOVE(&wait->res->waiters, wait, link);
	free(wait);
}

void
resolver_forget(struct resolver *r, const char *domain)
{
	struct lru_node *n;

	if ((n = lru_peek(&r->mem, domain)) != NULL)
		entry_unlink(r, (struct entry *)n);
	r->st.memory_entries = r->mem.count;
}

void
resolver_stats(const struct resolver *r, struct resolver_stats *out)
{
	*out = r->st;
	out->memory_entries = r->mem.count;
	out->in_flight = r->inflight.count;
}
