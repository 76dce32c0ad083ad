/* SPDX-License-Identifier: ISC */
/*
 * The engine of `mtasts check`: the scheduling of many domains on one
 * event loop.  For each domain it gathers the facts a sender would
 * gather (facts.h), in a sender's order (RFC 8461 §3, §4, §5; RFC 7672
 * §2):
 *
 *   DNS      _mta-sts TXT, _smtp._tls TXT, MX, A/AAAA of mta-sts.<domain>
 *   HTTPS    the policy from each address of the policy host (fetch.c)
 *   MX       the lookups of each MX host (dane_host.c), then a STARTTLS
 *            probe of each address (probe.c)
 *
 * and when the last step of a domain ends, hands them to the judge
 * (judge.c), with the state of --state (state.c), and the findings to
 * the report callback; then the next queued domain starts.  Every step
 * is asynchronous; a domain counts its outstanding steps.  At most
 * `concurrency` domains run at once.  "Each" is capped (facts.h), in a
 * stable order, so that the same addresses and hosts are chosen in
 * every run.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include <mtasts/dns.h>

#include "check.h"
#include "facts.h"
#include "facts_json.h"
#include "judge.h"
#include "state.h"

struct mxhost;

/* Where a probe's result goes. */
struct probe_slot {
	struct mxhost *m;
	struct probe_fact *p;
};

struct mxhost {
	struct dom *dom;
	struct mx_fact *f; /* in dom->f.hosts */
	bool no_sni_started;
	struct probe_slot slots[CHECK_SLOTS];
	struct probe_slot no_sni;
};

/* Where a fetch's result goes. */
struct fetch_slot {
	struct dom *d;
	struct fetch_fact *p;
};

struct dom {
	TAILQ_ENTRY(dom) entry;
	struct checker *ck;
	unsigned pending;
	struct check_facts f;
	struct fetch_slot fetch_slots[CHECK_SLOTS];
	struct mxhost *mx; /* parallel to f.hosts, the first CHECK_MAX_MX */
};

TAILQ_HEAD(dom_list, dom);

struct checker {
	struct event_base *base;
	struct check_options opt;
	struct mts_dns *dns;
	struct ssl_ctx_st *fetch_ctx;
	struct ssl_ctx_st *probe_ctx;
	check_report_cb cb;
	void *cb_arg;
	struct dom_list queue;
	size_t queued, running;
	struct state_dir state;
	size_t record_errors; /* facts that could not be recorded */
};

static void dom_finish(struct dom *d);
static void checker_next(struct checker *ck);

static void
dom_hold(struct dom *d)
{
	d->pending++;
}

static void
dom_release(struct dom *d)
{
	if (--d->pending == 0)
		dom_finish(d);
}

/*
 * Gives back n holds at once: a loop that starts many lookups counts
 * the ones that failed and gives their holds back after it, never
 * inside it, where the last release would free d under the loop.
 */
static void
dom_release_n(struct dom *d, unsigned n)
{
	if (n == 0)
		return;
	d->pending -= n;
	if (d->pending == 0)
		dom_finish(d);
}

/* Notes the DNSSEC status of the domain's own zone once. */
static void
note_zone(struct dom *d, const struct mts_dns_answer *a)
{
	if (d->f.zone_dnssec_known || a->rcode == MTS_DNS_TIMEOUT ||
	    a->rcode == MTS_DNS_ERROR)
		return;
	d->f.zone_dnssec_known = true;
	d->f.zone_dnssec = a->dnssec;
}

/* Starts a query of the domain; one that cannot start is a fact. */
static int
query(struct dom *d, const char *name, uint16_t type, mts_dns_cb cb,
      struct dns_fact *fact)
{
	struct mts_err err;

	if (mts_dns_query(d->ck->dns, name, type, cb, d, &err) != 0) {
		if (fact != NULL)
			dns_fact_not_started(fact, name, type, err.msg);
		return -1;
	}
	dom_hold(d);
	return 0;
}

/* ---- TXT records ---- */

static void
on_sts_txt(void *arg, const struct mts_dns_answer *a)
{
	struct dom *d = arg;

	note_zone(d, a);
	dns_fact_keep(&d->f.sts, a);
	dom_release(d);
}

static void
on_tlsrpt_txt(void *arg, const struct mts_dns_answer *a)
{
	struct dom *d = arg;

	dns_fact_keep(&d->f.tlsrpt, a);
	dom_release(d);
}

/* ---- the policy host and the fetch ---- */

static void
on_fetch(void *arg, struct fetch_result *r)
{
	struct fetch_slot *s = arg;

	s->p->r = r;
	dom_release(s->d);
}

/*
 * Fetches from the first CHECK_MAX_ADDRS addresses of r, a hold on d for
 * each.  Returns how many failed to start: the caller gives their holds
 * back with its own, so that d cannot finish under its feet.
 */
static unsigned
start_fetches(struct dom *d, const struct rrset *r)
{
	struct fetch_options fo;
	struct fetch_slot *s;
	unsigned failed = 0;
	size_t i;

	memset(&fo, 0, sizeof(fo));
	fo.timeout_ms = d->ck->opt.timeout_ms;
	fo.port = d->ck->opt.https_port;
	for (i = 0; i < r->count && i < CHECK_MAX_ADDRS; i++) {
		s = &d->fetch_slots[d->f.fetch_count];
		s->d = d;
		s->p = &d->f.fetches[d->f.fetch_count++];
		snprintf(s->p->address, sizeof(s->p->address), "%s",
		         r->addr[i]);
		dom_hold(d);
		s->p->started =
		    fetch_policy(d->ck->base, d->ck->fetch_ctx, d->f.domain,
		                 r->addr[i], &fo, on_fetch, s) == 0;
		if (!s->p->started)
			failed++;
	}
	return failed;
}

static void
on_host_addr(void *arg, const struct mts_dns_answer *a)
{
	struct dom *d = arg;
	struct rrset *r =
	    a->qtype == MTS_DNS_TYPE_A ? &d->f.host_a : &d->f.host_aaaa;
	const struct rrset *a4 = &d->f.host_a, *a6 = &d->f.host_aaaa;
	unsigned failed = 0;

	if ((dns_answer_failed(a->rcode, a->dnssec) ? rrset_keep_failure(r, a) :
	                                              rrset_keep(r, a)) != 0)
		d->f.host_nomem = true;
	/* Both address lookups are in: fetch from each address. */
	if (a4->done && a6->done && !d->f.host_nomem) {
		failed += start_fetches(d, a4);
		failed += start_fetches(d, a6);
	}
	dom_release_n(d, 1 + failed);
}

/* ---- MX hosts ---- */

static void
on_probe(void *arg, struct probe_result *r)
{
	struct probe_slot *s = arg;
	const struct tlsa_lookup *t = s->m->f->dh.dane_at;
	struct mts_dane_chain chain;

	s->p->r = r;
	/* How the secure TLSA RRset fits the chain: kept, the chain not. */
	if (s->m->f->dh.dane == DANE_SECURE && r->stage == PROBE_DONE) {
		chain.der = (const uint8_t *const *)r->chain_der;
		chain.len = r->chain_len;
		chain.count = r->chain_count;
		mts_dane_rrset_fit(t->tlsa, t->count, &chain, 0, &s->p->fit);
		s->p->have_fit = true;
	}
	dom_release(s->m->dom);
}

/* Starts one probe into slot s; false when it could not start. */
static bool
start_probe(struct probe_slot *s, const char *address,
            const struct tlsa_lookup *t, const struct probe_options *po)
{
	struct checker *ck = s->m->dom->ck;

	snprintf(s->p->address, sizeof(s->p->address), "%s", address);
	dom_hold(s->m->dom);
	s->p->started =
	    probe_mx(ck->base, ck->probe_ctx, s->m->f->name, address,
	             t != NULL ? t->tlsa : NULL, t != NULL ? t->count : 0, po,
	             on_probe, s) == 0;
	if (!s->p->started)
		dom_release(s->m->dom);
	return s->p->started;
}

static void
probe_addrs(struct mxhost *m, const struct rrset *r)
{
	const struct check_options *o = &m->dom->ck->opt;
	const struct tlsa_lookup *t;
	struct probe_options po;
	struct probe_slot *s;
	size_t i;

	memset(&po, 0, sizeof(po));
	po.timeout_ms = o->timeout_ms;
	po.port = o->smtp_port;
	t = dane_host_probe(&m->f->dh, &po);
	for (i = 0; i < r->count && i < CHECK_MAX_ADDRS; i++) {
		s = &m->slots[m->f->probe_count];
		s->m = m;
		s->p = &m->f->probes[m->f->probe_count++];
		(void)start_probe(s, r->addr[i], t, &po);
	}
	/*
	 * RFC 7672 §8.1: a DANE server must not need SNI; without it, it
	 * must still present a chain its TLSA records match.  One more
	 * handshake, at the host's first address, tells.
	 */
	if (t != NULL && r->count > 0 && !m->no_sni_started &&
	    dane_host_usable(t) > 0) {
		m->no_sni_started = true;
		po.no_sni = true;
		m->no_sni.m = m;
		m->no_sni.p = &m->f->no_sni;
		(void)start_probe(&m->no_sni, r->addr[0], t, &po);
	}
}

/*
 * Every lookup of the host is in and DANE is decided: probe every
 * address, with the DANE-TA names of RFC 7672 §3.2.2 (the next-hop
 * domain too when the MX lookup was secure).
 */
static void
mxhost_ready(struct mxhost *m)
{
	const struct check_facts *f = &m->dom->f;
	struct dane_host *h = &m->f->dh;

	m->f->ready = true;
	if (h->nomem || h->a.count + h->aaaa.count == 0)
		return;
	dane_host_names(h,
	                f->mx.dnssec == MTS_DNSSEC_SECURE &&
	                        !facts_mx_implicit(f) ?
	                    f->domain :
	                    NULL);
	if (m->dom->ck->opt.no_smtp)
		return;
	probe_addrs(m, &h->a);
	probe_addrs(m, &h->aaaa);
}

static void
on_mx_lookups(void *arg, struct dane_host *h)
{
	struct mxhost *m = arg;
	struct dom *d = m->dom;

	mxhost_ready(m);
	dom_release(d);
}

/*
 * Starts the lookups of the first CHECK_MAX_MX hosts, a hold on d for
 * each; returns how many failed to start (see start_fetches()).
 */
static unsigned
start_mxhosts(struct dom *d)
{
	size_t i,
	    n = d->f.host_count < CHECK_MAX_MX ? d->f.host_count : CHECK_MAX_MX;
	unsigned failed = 0;
	struct mxhost *m;

	if (n == 0)
		return 0;
	if ((d->mx = calloc(n, sizeof(*d->mx))) == NULL) {
		d->f.mx_nomem = true;
		return 0;
	}
	for (i = 0; i < n; i++) {
		m = &d->mx[i];
		m->dom = d;
		m->f = d->f.hosts[i];
		dom_hold(d); /* until every lookup of the host is in */
		if (dane_host_start(&m->f->dh, d->ck->dns, m->f->name, 25, NULL,
		                    on_mx_lookups, m) != 0) {
			mxhost_ready(m);
			failed++;
		}
	}
	return failed;
}

/*
 * Every MX host in preference order (all count for policy coverage),
 * address literals aside (RFC 7672 §2.2: no host); -1: out of memory.
 */
static int
add_mxhosts(struct dom *d)
{
	const struct dns_fact *mx = &d->f.mx;
	const struct mts_dns_mx **order;
	size_t i;
	int rc = 0;

	if ((order = calloc(mx->count, sizeof(*order))) == NULL)
		return -1;
	for (i = 0; i < mx->count; i++)
		order[i] = &mx->mx[i];
	qsort(order, mx->count, sizeof(*order), facts_mx_cmp);
	for (i = 0; i < mx->count && rc == 0; i++)
		if (!mts_dname_is_address(order[i]->host,
		                          strlen(order[i]->host)))
			rc = facts_add_host(&d->f, order[i]->host,
			                    order[i]->preference);
	free(order);
	return rc;
}

static void
on_mx(void *arg, const struct mts_dns_answer *a)
{
	struct dom *d = arg;
	unsigned failed = 0;

	note_zone(d, a);
	dns_fact_keep(&d->f.mx, a);
	if (facts_mx_implicit(&d->f)) {
		/* RFC 5321 §5.1: the domain itself (STS-MX-9). */
		if (facts_add_host(&d->f, d->f.domain, 0) != 0)
			d->f.mx_nomem = true;
	} else if (d->f.mx.done && !d->f.mx.nomem &&
	           !dns_answer_failed(a->rcode, a->dnssec) &&
	           !facts_null_mx(&d->f) && add_mxhosts(d) != 0) {
		d->f.mx_nomem = true;
	}
	if (!d->f.mx_nomem)
		failed = start_mxhosts(d);
	dom_release_n(d, 1 + failed);
}

/* ---- the end of a domain ---- */

static void
dom_free(struct dom *d)
{
	facts_reset(&d->f);
	free(d->mx);
	free(d);
}

static void
dom_finish(struct dom *d)
{
	struct checker *ck = d->ck;
	struct check_judgement j;
	struct check_report rep;
	int state_err;

	state_load(&ck->state, d->f.domain, &d->f.state, &state_err);
	check_judge(&d->f, &j);
	if (j.save_state)
		state_save(&ck->state, d->f.domain, j.id, j.digest, state_err);
	if (ck->opt.record_dir != NULL &&
	    facts_json_save(&d->f, ck->opt.record_dir) != 0)
		ck->record_errors++;
	rep.domain = d->f.domain;
	rep.diag = &j.diag;
	rep.verdict = j.verdict;
	rep.mode = j.mode;
	rep.id = j.id;
	rep.facts = &d->f;
	ck->cb(ck->cb_arg, &rep);
	check_judgement_reset(&j);
	dom_free(d);
	ck->running--;
	checker_next(ck);
}

/* ---- the checker ---- */

static void
dom_start(struct dom *d)
{
	char name[MTS_DNAME_MAX + 32];

	dom_hold(d); /* until every query is started */
	snprintf(name, sizeof(name), "_mta-sts.%s", d->f.domain);
	query(d, name, MTS_DNS_TYPE_TXT, on_sts_txt, &d->f.sts);
	snprintf(name, sizeof(name), "_smtp._tls.%s", d->f.domain);
	query(d, name, MTS_DNS_TYPE_TXT, on_tlsrpt_txt, &d->f.tlsrpt);
	query(d, d->f.domain, MTS_DNS_TYPE_MX, on_mx, &d->f.mx);
	snprintf(name, sizeof(name), "mta-sts.%s", d->f.domain);
	if (query(d, name, MTS_DNS_TYPE_A, on_host_addr, NULL) != 0)
		d->f.host_a.done = d->f.host_a.not_started = true;
	if (query(d, name, MTS_DNS_TYPE_AAAA, on_host_addr, NULL) != 0)
		d->f.host_aaaa.done = d->f.host_aaaa.not_started = true;
	dom_release(d);
}

static void
checker_next(struct checker *ck)
{
	struct dom *d;

	while (ck->running < ck->opt.concurrency &&
	       (d = TAILQ_FIRST(&ck->queue)) != NULL) {
		TAILQ_REMOVE(&ck->queue, d, entry);
		ck->queued--;
		ck->running++;
		dom_start(d);
	}
	/* The resolver keeps an event registered: say when all is done. */
	if (ck->running == 0 && ck->queued == 0)
		event_base_loopexit(ck->base, NULL);
}

int
checker_add(struct checker *ck, const char *domain)
{
	struct dom *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	if (facts_init(&d->f, domain, ck->opt.now) != 0) {
		free(d);
		return -1;
	}
	d->ck = ck;
	d->f.no_smtp = ck->opt.no_smtp;
	TAILQ_INSERT_TAIL(&ck->queue, d, entry);
	ck->queued++;
	checker_next(ck);
	return 0;
}

size_t
checker_busy(const struct checker *ck)
{
	return ck->queued + ck->running;
}

size_t
checker_state_errors(const struct checker *ck)
{
	return ck->state.errors + ck->record_errors;
}

struct checker *
checker_new(struct event_base *base, const struct check_options *options,
            check_report_cb cb, void *arg)
{
	struct mts_dns_options dopt;
	struct checker *ck;
	struct mts_err err;

	if (options->state_dir != NULL &&
	    state_dir_check(options->state_dir) != 0)
		return NULL;
	if ((ck = calloc(1, sizeof(*ck))) == NULL)
		return NULL;
	ck->base = base;
	ck->opt = *options;
	if (ck->opt.concurrency == 0)
		ck->opt.concurrency = 20;
	ck->cb = cb;
	ck->cb_arg = arg;
	ck->state.dir = options->state_dir;
	TAILQ_INIT(&ck->queue);
	memset(&dopt, 0, sizeof(dopt));
	dopt.resolver = options->resolver;
	dopt.trust_anchor = options->trust_anchor;
	if ((ck->dns = mts_dns_new(base, &dopt, &err)) == NULL) {
		fprintf(stderr, "mtasts: check: DNS: %s\n", err.msg);
		goto fail;
	}
	if ((ck->fetch_ctx = fetch_ctx_new(options->ca_file)) == NULL ||
	    (ck->probe_ctx = probe_ctx_new(options->ca_file)) == NULL) {
		fprintf(stderr, "mtasts: check: cannot load the CA file %s\n",
		        options->ca_file != NULL ? options->ca_file :
		                                   "(default)");
		goto fail;
	}
	return ck;
fail:
	checker_free(ck);
	return NULL;
}

void
checker_free(struct checker *ck)
{
	struct dom *d;

	if (ck == NULL)
		return;
	while ((d = TAILQ_FIRST(&ck->queue)) != NULL) {
		TAILQ_REMOVE(&ck->queue, d, entry);
		dom_free(d);
	}
	mts_dns_free(ck->dns);
	SSL_CTX_free(ck->fetch_ctx);
	SSL_CTX_free(ck->probe_ctx);
	free(ck);
}
