/* SPDX-License-Identifier: ISC */
/*
 * The engine of `mtasts check`.  For each domain, in the order a sender
 * works (RFC 8461 §3, §4, §5; RFC 7672 §2):
 *
 *   DNS      _mta-sts TXT, _smtp._tls TXT, MX, A/AAAA of mta-sts.<domain>
 *            (each with its DNSSEC status)
 *   HTTPS    the policy from each address of the policy host (fetch.c)
 *   policy   lint, then MX coverage both ways, over every MX host
 *   MX       A/AAAA and _25._tcp TLSA of each MX host (of its CNAME
 *            target too: the TLSA base domain is found as RFC 7672 §2.2.2
 *            and §2.2.3 say), then a STARTTLS probe of each address
 *            (probe.c), judged for MTA-STS (Web PKI, DNS-ID) and DANE
 *            (secure TLSA only; why a set fails, and what its publisher
 *            missed, from mts_dane_rrset_fit())
 *   state    with a state directory: a changed policy under an old id
 *
 * "Each" is capped (MAX_MX, MAX_ADDRS), in a stable order, and what a cap
 * leaves out is a finding.  Every step is asynchronous on one event
 * loop; a domain counts its outstanding steps and is judged when the
 * count reaches zero.  At most `concurrency` domains run at once.  What
 * cannot be kept for lack of memory is reported as check-internal and
 * not judged: a verdict from part of an answer would be wrong.
 */
#define _GNU_SOURCE /* asprintf(3) */
#include <sys/queue.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <mtasts/dns.h>

#include "check.h"
#include "fetch.h"
#include "probe.h"

/*
 * Caps on the work one domain makes.  Every MX host counts for policy
 * coverage; the MAX_MX most preferred are looked up and probed, and of
 * each family the first MAX_ADDRS addresses in address order, so that
 * the same ones are chosen in every run whatever order DNS answers in.
 * What a cap leaves out is said in a finding.
 */
#define MAX_MX      16
#define MAX_ADDRS   4
#define EXPIRY_WARN (14 * 86400)
#define POLICY_PATH "/.well-known/mta-sts.txt"

struct mxhost {
	struct dom *dom;
	char *name;
	uint16_t pref;
	struct dane_host dh; /* addresses, TLSA, the DANE decision */
	bool probing, no_sni_started;
	struct probe_result *no_sni; /* a DANE host's handshake without SNI */
	size_t probes;               /* started */
	struct probe_result *results[2 * MAX_ADDRS];
	size_t result_count;
};

struct dom {
	TAILQ_ENTRY(dom) entry;
	struct checker *ck;
	char *name;
	unsigned pending;
	struct mts_diag diag;
	/* records */
	bool sts_valid;
	int sts_missing; /* the rcode of a missing record, or -1 */
	bool host_missing;
	bool null_mx;
	char sts_id[MTS_STS_ID_MAX + 1];
	enum mts_dnssec zone_dnssec;
	bool zone_dnssec_known;
	/* policy host */
	struct rrset host_a, host_aaaa;
	bool host_nomem; /* its addresses could not be kept */
	struct fetch_result *fetches[2 * MAX_ADDRS];
	size_t fetch_count;
	/* the policy, from the first good fetch */
	bool have_policy;
	struct mts_sts_policy policy;
	char *policy_body;
	size_t policy_len;
	/* MX */
	bool mx_done;
	bool mx_nomem; /* the list of MX hosts is not whole */
	enum mts_dnssec mx_dnssec;
	bool mx_implicit;
	struct mxhost **mx; /* every MX host, by preference then name */
	size_t mx_count;
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
	size_t state_errors; /* state files that failed, reported */
};

static void dom_finish(struct dom *d);
static void checker_next(struct checker *ck);

/* ---- small helpers ---- */

#define F(d, code, ...) mts_diag_add_code(&(d)->diag, code, 0, __VA_ARGS__)

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

static void
rrset_reset(struct rrset *r)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		free(r->addr[i]);
	free(r->addr);
	free(r->canonical);
	memset(r, 0, sizeof(*r));
}

/* A copy of s, or NULL; malloc(3) itself, so that a test can fail it. */
static char *
keep_str(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p;

	if ((p = malloc(len)) != NULL)
		memcpy(p, s, len);
	return p;
}

/* An address as bytes (4 or 16 of them, zero-padded); 0 or -1. */
static int
addr_bytes(const char *s, unsigned char out[16])
{
	int af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	memset(out, 0, 16);
	return inet_pton(af, s, out) == 1 ? 0 : -1;
}

/* qsort(3) order of addresses: by their bytes; text that is none last. */
static int
addr_cmp(const void *x, const void *y)
{
	const char *a = *(const char *const *)x, *b = *(const char *const *)y;
	unsigned char ba[16], bb[16];
	int ga = addr_bytes(a, ba), gb = addr_bytes(b, bb);

	if (ga != gb)
		return ga == 0 ? -1 : 1;
	return ga == 0 ? memcmp(ba, bb, sizeof(ba)) : strcmp(a, b);
}

/*
 * Keeps the status and, for A/AAAA, the addresses of an answer, in
 * address order: DNS may answer in any order, and the caps on probes and
 * fetches must choose the same addresses every run.  Returns 0, or -1
 * when memory ran out: then nothing but the status is kept, and the
 * caller must not judge from it.
 */
static int
rrset_keep(struct rrset *r, const struct mts_dns_answer *a)
{
	char **addr = NULL;
	char *canonical = NULL;
	size_t i, n = 0;

	r->done = true;
	r->rcode = a->rcode;
	r->dnssec = a->dnssec;
	if (a->canonical != NULL &&
	    (canonical = keep_str(a->canonical)) == NULL)
		goto fail;
	if (a->addr != NULL && a->count > 0) {
		if ((addr = calloc(a->count, sizeof(*addr))) == NULL)
			goto fail;
		for (n = 0; n < a->count; n++)
			if ((addr[n] = keep_str(a->addr[n])) == NULL)
				goto fail;
		qsort(addr, n, sizeof(*addr), addr_cmp);
	}
	r->canonical = canonical;
	r->addr = addr;
	r->count = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(addr[i]);
	free(addr);
	free(canonical);
	return -1;
}

static const char *
mode_name(const struct dom *d)
{
	return d->have_policy ? mts_sts_mode_name(d->policy.mode) : NULL;
}

/* Notes the DNSSEC status of the domain's own zone once. */
static void
note_zone(struct dom *d, const struct mts_dns_answer *a)
{
	if (d->zone_dnssec_known || a->rcode == MTS_DNS_TIMEOUT ||
	    a->rcode == MTS_DNS_ERROR)
		return;
	d->zone_dnssec_known = true;
	d->zone_dnssec = a->dnssec;
}

/* A failed lookup: bogus or not; true when the answer is unusable. */
static bool
dns_failed(struct dom *d, const struct mts_dns_answer *a)
{
	if (a->dnssec == MTS_DNSSEC_BOGUS) {
		F(d, "check-dns-bogus", "%s %s: %s", a->qname,
		  a->qtype == MTS_DNS_TYPE_TXT ? "TXT" : "query",
		  a->why_bogus != NULL ? a->why_bogus : "bogus");
		return true;
	}
	if (a->rcode == MTS_DNS_SERVFAIL || a->rcode == MTS_DNS_TIMEOUT ||
	    a->rcode == MTS_DNS_ERROR) {
		F(d, "check-dns-failed", "%s: %s%s%s", a->qname,
		  mts_dns_rcode_name(a->rcode), a->why != NULL ? ": " : "",
		  a->why != NULL ? a->why : "");
		return true;
	}
	return false;
}

static int
query(struct dom *d, const char *name, uint16_t type, mts_dns_cb cb, void *arg)
{
	struct mts_err err;

	if (mts_dns_query(d->ck->dns, name, type, cb, arg, &err) != 0) {
		F(d, "check-dns-failed", "%s: %s", name, err.msg);
		return -1;
	}
	dom_hold(d);
	return 0;
}

/* ---- TXT records ---- */

/*
 * Moves a record's lint findings into the domain's findings, with the
 * counts of folded ones and those the lint dropped.  The report of a
 * domain shows no line numbers, so findings that differ only in their
 * line are one (10,000 "mx: a" lines, one "single label" finding).
 */
static void
copy_findings(struct dom *d, struct mts_diag *from)
{
	size_t i;

	for (i = 0; i < from->count; i++)
		from->items[i].line = 0;
	mts_diag_merge(&d->diag, from);
}

static void
on_sts_txt(void *arg, const struct mts_dns_answer *a)
{
	const char *const *txts = (const char *const *)a->txt;
	struct mts_sts_record rec;
	struct mts_diag lint;
	struct dom *d = arg;
	struct mts_err err;
	size_t idx;

	note_zone(d, a);
	if (dns_failed(d, a))
		goto out;
	if (a->rcode != MTS_DNS_ANSWER ||
	    mts_sts_record_select(txts, a->txt_len, a->count, &idx, &err) !=
	        0) {
		if (a->rcode == MTS_DNS_ANSWER && err.code == MTS_ERR_MULTIPLE)
			F(d, "check-sts-record-multiple", "_mta-sts.%s",
			  d->name);
		else
			d->sts_missing = a->rcode; /* judged at the end */
		goto out;
	}
	mts_diag_init(&lint);
	if (mts_sts_record_parse(a->txt[idx], a->txt_len[idx], &rec, &lint,
	                         NULL) == 0) {
		d->sts_valid = true;
		memcpy(d->sts_id, rec.id, sizeof(d->sts_id));
		F(d, "check-sts-record-ok", "v=STSv1; id=%s (%s)", rec.id,
		  mts_dnssec_name(a->dnssec));
	} else {
		F(d, "check-sts-record-invalid", "\"%.200s\"", a->txt[idx]);
	}
	copy_findings(d, &lint);
	mts_diag_reset(&lint);
out:
	dom_release(d);
}

static void
on_tlsrpt_txt(void *arg, const struct mts_dns_answer *a)
{
	const char *const *txts = (const char *const *)a->txt;
	struct mts_tlsrpt_record rec;
	struct mts_diag lint;
	struct dom *d = arg;
	struct mts_err err;
	size_t idx;

	if (dns_failed(d, a))
		goto out;
	if (a->rcode != MTS_DNS_ANSWER ||
	    mts_tlsrpt_record_select(txts, a->txt_len, a->count, &idx, &err) !=
	        0) {
		if (a->rcode == MTS_DNS_ANSWER && err.code == MTS_ERR_MULTIPLE)
			F(d, "check-tlsrpt-record-multiple", "_smtp._tls.%s",
			  d->name);
		else
			F(d, "check-tlsrpt-record-missing", "_smtp._tls.%s",
			  d->name);
		goto out;
	}
	mts_diag_init(&lint);
	if (mts_tlsrpt_record_parse(a->txt[idx], a->txt_len[idx], &rec, &lint,
	                            NULL) == 0) {
		F(d, "check-tlsrpt-record-ok", "%zu destination%s",
		  rec.rua_count, rec.rua_count == 1 ? "" : "s");
		mts_tlsrpt_record_reset(&rec);
	} else {
		F(d, "check-tlsrpt-record-invalid", "\"%.200s\"", a->txt[idx]);
	}
	copy_findings(d, &lint);
	mts_diag_reset(&lint);
out:
	dom_release(d);
}

/* ---- the policy host and the fetch ---- */

static void
on_fetch(void *arg, struct fetch_result *r)
{
	struct dom *d = arg;

	if (d->fetch_count < sizeof(d->fetches) / sizeof(d->fetches[0]))
		d->fetches[d->fetch_count++] = r;
	else
		fetch_result_free(r);
	dom_release(d);
}

/*
 * The addresses of r past the first MAX_ADDRS, as a list for a finding
 * ("192.0.2.5, 192.0.2.6"); cut with "..." when it does not fit.
 */
static void
skipped_list(const struct rrset *r, char *buf, size_t size)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = MAX_ADDRS; i < r->count; i++) {
		n = snprintf(buf + off, size - off, "%s%s",
		             i == MAX_ADDRS ? "" : ", ", r->addr[i]);
		if (n < 0 || (size_t)n >= size - off) {
			if (size > 4)
				memcpy(buf + size - 4, "...", 4);
			return;
		}
		off += (size_t)n;
	}
}

static void
start_fetches(struct dom *d, const struct rrset *r)
{
	struct fetch_options fo;
	char skipped[160];
	size_t i;

	memset(&fo, 0, sizeof(fo));
	fo.timeout_ms = d->ck->opt.timeout_ms;
	fo.port = d->ck->opt.https_port;
	for (i = 0; i < r->count && i < MAX_ADDRS; i++) {
		dom_hold(d);
		if (fetch_policy(d->ck->base, d->ck->fetch_ctx, d->name,
		                 r->addr[i], &fo, on_fetch, d) != 0) {
			F(d, "check-fetch-connect", "%s: cannot start",
			  r->addr[i]);
			dom_release(d);
		}
	}
	if (r->count > MAX_ADDRS) {
		skipped_list(r, skipped, sizeof(skipped));
		F(d, "check-policy-host-addr-capped",
		  "mta-sts.%s: %zu addresses, fetched from the first %d; not "
		  "tried: %s",
		  d->name, r->count, MAX_ADDRS, skipped);
	}
}

/* Both address lookups of the policy host are in: fetch from each. */
static void
policy_host_done(struct dom *d)
{
	const char *alias = d->host_a.canonical != NULL ?
	    d->host_a.canonical :
	    d->host_aaaa.canonical;

	if (!d->host_a.done || !d->host_aaaa.done)
		return;
	if (d->host_nomem) {
		F(d, "check-internal",
		  "mta-sts.%s: its addresses could not be kept; no fetch",
		  d->name);
		return;
	}
	if (d->host_a.count + d->host_aaaa.count == 0) {
		d->host_missing = true; /* judged at the end */
		return;
	}
	if (alias != NULL)
		F(d, "check-policy-host-cname", "mta-sts.%s is an alias of %s",
		  d->name, alias);
	F(d, "check-policy-host-ok", "mta-sts.%s: %zu IPv4, %zu IPv6 address%s",
	  d->name, d->host_a.count, d->host_aaaa.count,
	  d->host_a.count + d->host_aaaa.count == 1 ? "" : "es");
	start_fetches(d, &d->host_a);
	start_fetches(d, &d->host_aaaa);
}

static void
on_host_addr(void *arg, const struct mts_dns_answer *a)
{
	struct dom *d = arg;
	struct rrset *r =
	    a->qtype == MTS_DNS_TYPE_A ? &d->host_a : &d->host_aaaa;

	if (dns_failed(d, a))
		r->done = true;
	else if (rrset_keep(r, a) != 0)
		d->host_nomem = true;
	policy_host_done(d);
	dom_release(d);
}

/* ---- the DANE view of one host (check.h; tlsa check uses it too) ---- */

/* A lookup error: the answer says nothing about the records. */
static bool
answer_failed(const struct mts_dns_answer *a)
{
	return a->dnssec == MTS_DNSSEC_BOGUS || a->rcode == MTS_DNS_SERVFAIL ||
	    a->rcode == MTS_DNS_TIMEOUT || a->rcode == MTS_DNS_ERROR;
}

/*
 * RFC 7672 §2.2.2: DANE applies to a host only when its address records
 * are secure; through a CNAME, when the first CNAME is secure.  Every
 * address RRset that has records must be secure.
 */
bool
dane_host_addresses_secure(const struct dane_host *h)
{
	bool any = false;

	if (h->a.count > 0) {
		if (h->a.dnssec != MTS_DNSSEC_SECURE)
			return false;
		any = true;
	}
	if (h->aaaa.count > 0) {
		if (h->aaaa.dnssec != MTS_DNSSEC_SECURE)
			return false;
		any = true;
	}
	return any;
}

const char *
dane_host_expanded(const struct dane_host *h)
{
	const char *c =
	    h->a.canonical != NULL ? h->a.canonical : h->aaaa.canonical;

	return c != NULL &&
		!mts_dname_equal(c, strlen(c), h->name, strlen(h->name)) ?
	    c :
	    NULL;
}

static bool
lookup_failed(const struct tlsa_lookup *t)
{
	return t->rcode == MTS_DNS_SERVFAIL || t->rcode == MTS_DNS_TIMEOUT ||
	    t->rcode == MTS_DNS_ERROR;
}

size_t
dane_host_usable(const struct tlsa_lookup *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->count; i++)
		n += mts_dane_tlsa_usable(&t->tlsa[i], 0, NULL) == 0;
	return n;
}

/*
 * The TLSA base domain as a DANE sender finds it (RFC 7672 §2.2.2,
 * §2.2.3): the candidates are the CNAME-expanded name, then the host
 * name, when the whole chain is secure; only the host name when just
 * its first CNAME is; none when the addresses are insecure.  The first
 * candidate with a secure TLSA RRset is the base domain; a lookup error
 * or a bogus answer on the way makes the host unreachable for DANE
 * senders (§2.1.1, §2.1.2).  TLSA records senders would not look at are
 * remembered too, to tell the admin they are ignored.
 */
static void
decide_dane(struct dane_host *h)
{
	const struct tlsa_lookup *cand[2];
	const struct tlsa_lookup *t;
	size_t n = 0, i;

	if (dane_host_expanded(h) == NULL) {
		if (dane_host_addresses_secure(h))
			cand[n++] = &h->tlsa[0];
	} else if (dane_host_addresses_secure(h)) {
		cand[n++] = &h->tlsa[1];
		cand[n++] = &h->tlsa[0];
	} else if (h->cname.rcode == MTS_DNS_ANSWER &&
	           h->cname.dnssec == MTS_DNSSEC_SECURE) {
		cand[n++] = &h->tlsa[0];
	}
	h->candidates = n;
	h->dane = DANE_NONE;
	h->dane_at = NULL;
	for (i = 0; i < n; i++) {
		t = cand[i];
		h->dane_at = t;
		if (t->dnssec == MTS_DNSSEC_BOGUS) {
			h->dane = DANE_BOGUS;
			return;
		}
		if (lookup_failed(t)) {
			h->dane = DANE_LOOKUP_FAILED;
			return;
		}
		if (t->rcode == MTS_DNS_ANSWER && t->records > 0) {
			if (t->dnssec == MTS_DNSSEC_SECURE) {
				h->dane = DANE_SECURE;
				return;
			}
			h->dane = DANE_INSECURE; /* the next may be secure */
		}
	}
	if (n > 0 || h->tlsa[0].rcode != MTS_DNS_ANSWER ||
	    h->tlsa[0].records == 0)
		return;
	h->dane_at = &h->tlsa[0];
	h->dane = h->tlsa[0].dnssec == MTS_DNSSEC_SECURE ? DANE_IGNORED :
	    h->tlsa[0].dnssec == MTS_DNSSEC_BOGUS        ? DANE_NONE :
							   DANE_INSECURE;
}

void
dane_host_names(struct dane_host *h, const char *next_hop)
{
	size_t n = 0;

	if (h->dane_at == &h->tlsa[1])
		h->names[n++] = h->name;
	if (next_hop != NULL)
		h->names[n++] = next_hop;
	h->names[n] = NULL;
}

const struct tlsa_lookup *
dane_host_probe(const struct dane_host *h, struct probe_options *po)
{
	if (h->dane != DANE_SECURE)
		return NULL;
	po->dane_base = h->dane_at->base;
	po->dane_names = h->names;
	return h->dane_at;
}

/* Starts one query of the host; one that cannot start is an answer. */
static int
dane_query(struct dane_host *h, const char *name, uint16_t type, mts_dns_cb cb,
           void *arg)
{
	struct mts_dns_answer fail;
	struct mts_err err;

	if (mts_dns_query(h->dns, name, type, cb, arg, &err) == 0) {
		h->pending++;
		return 0;
	}
	if (h->answer_cb != NULL) {
		memset(&fail, 0, sizeof(fail));
		fail.qname = name;
		fail.qtype = type;
		fail.rcode = MTS_DNS_ERROR;
		fail.why = err.msg;
		h->answer_cb(h->arg, &fail);
	}
	return -1;
}

static void on_dane_tlsa(void *arg, const struct mts_dns_answer *a);
static void on_dane_cname(void *arg, const struct mts_dns_answer *a);

static void
start_tlsa(struct dane_host *h, struct tlsa_lookup *t, const char *base)
{
	char owner[MTS_DNAME_MAX + 32];

	t->host = h;
	t->started = true;
	if ((t->base = keep_str(base)) == NULL) {
		h->nomem = true; /* not a lookup failure: say nothing of it */
		t->done = true;
		return;
	}
	if (mts_dane_tlsa_owner(base, h->port, owner, sizeof(owner), NULL) !=
	        0 ||
	    dane_query(h, owner, MTS_DNS_TYPE_TLSA, on_dane_tlsa, t) != 0) {
		t->done = true;
		t->rcode = MTS_DNS_ERROR;
	}
}

/*
 * The address lookups went through a CNAME (RFC 7672 §2.2.2): a secure
 * chain adds the expanded name as a TLSA candidate; an insecure one
 * needs the security of the first CNAME alone.
 */
static void
follow_cname(struct dane_host *h)
{
	const char *expanded = dane_host_expanded(h);

	if (expanded == NULL || h->cname_followed)
		return;
	h->cname_followed = true;
	if (dane_host_addresses_secure(h))
		start_tlsa(h, &h->tlsa[1], expanded);
	else if (dane_query(h, h->name, MTS_DNS_TYPE_CNAME, on_dane_cname, h) ==
	         0)
		h->cname_started = true;
}

/*
 * After each answer: once both address lookups are in, the lookups an
 * alias needs; once every lookup is in, the decision and the callback.
 */
static void
dane_step(struct dane_host *h)
{
	if (h->a.done && h->aaaa.done && h->a.count + h->aaaa.count > 0)
		follow_cname(h);
	if (h->pending > 0)
		return;
	decide_dane(h);
	h->done_cb(h->arg, h);
}

static void
on_dane_addr(void *arg, const struct mts_dns_answer *a)
{
	struct dane_host *h = arg;
	struct rrset *r = a->qtype == MTS_DNS_TYPE_A ? &h->a : &h->aaaa;

	h->pending--;
	if (h->answer_cb != NULL)
		h->answer_cb(h->arg, a);
	if (!answer_failed(a)) {
		if (rrset_keep(r, a) != 0)
			h->nomem = true;
	} else {
		r->done = true;
		r->rcode = a->rcode;
		r->dnssec = a->dnssec;
	}
	dane_step(h);
}

static void
on_dane_cname(void *arg, const struct mts_dns_answer *a)
{
	struct dane_host *h = arg;

	h->pending--;
	if (h->answer_cb != NULL)
		h->answer_cb(h->arg, a);
	if (rrset_keep(&h->cname, a) != 0)
		h->nomem = true;
	dane_step(h);
}

/*
 * Keeps the TLSA records of an answer, secure or not: all of them, or
 * none and -1 when memory ran out (a set missing a record would be
 * judged as if the zone lacked it: unusable, or a mismatch).
 */
static int
keep_tlsa(struct tlsa_lookup *t, const struct mts_dns_answer *a)
{
	struct mts_dane_tlsa *tlsa;
	size_t i, n;

	if (a->rcode != MTS_DNS_ANSWER || a->count == 0)
		return 0;
	if ((tlsa = calloc(a->count, sizeof(*tlsa))) == NULL)
		return -1;
	for (n = 0; n < a->count; n++) {
		tlsa[n] = a->tlsa[n];
		/* One byte more: malloc(0) may be NULL for an empty field. */
		if ((tlsa[n].data = malloc(a->tlsa[n].data_len + 1)) == NULL)
			goto fail;
		memcpy(tlsa[n].data, a->tlsa[n].data, a->tlsa[n].data_len);
	}
	t->tlsa = tlsa;
	t->count = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(tlsa[i].data);
	free(tlsa);
	return -1;
}

static void
on_dane_tlsa(void *arg, const struct mts_dns_answer *a)
{
	struct tlsa_lookup *t = arg;
	struct dane_host *h = t->host;

	h->pending--;
	if (h->answer_cb != NULL)
		h->answer_cb(h->arg, a);
	t->done = true;
	t->rcode = a->rcode;
	t->dnssec = a->dnssec;
	t->records = a->count;
	if (keep_tlsa(t, a) != 0)
		h->nomem = true;
	dane_step(h);
}

int
dane_host_start(struct dane_host *h, struct mts_dns *dns, const char *name,
                unsigned port, dane_host_answer_cb answer_cb,
                dane_host_done_cb done_cb, void *arg)
{
	h->name = name;
	h->port = port;
	h->dns = dns;
	h->answer_cb = answer_cb;
	h->done_cb = done_cb;
	h->arg = arg;
	h->tlsa[0].host = h->tlsa[1].host = h;
	if (dane_query(h, name, MTS_DNS_TYPE_A, on_dane_addr, h) != 0) {
		h->a.done = true;
		h->a.rcode = MTS_DNS_ERROR;
	}
	if (dane_query(h, name, MTS_DNS_TYPE_AAAA, on_dane_addr, h) != 0) {
		h->aaaa.done = true;
		h->aaaa.rcode = MTS_DNS_ERROR;
	}
	start_tlsa(h, &h->tlsa[0], name);
	return h->pending > 0 ? 0 : -1;
}

static void
tlsa_lookup_reset(struct tlsa_lookup *t)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		free(t->tlsa[i].data);
	free(t->tlsa);
	free(t->base);
}

void
dane_host_reset(struct dane_host *h)
{
	tlsa_lookup_reset(&h->tlsa[0]);
	tlsa_lookup_reset(&h->tlsa[1]);
	rrset_reset(&h->a);
	rrset_reset(&h->aaaa);
	rrset_reset(&h->cname);
	memset(h, 0, sizeof(*h));
}

/* ---- MX hosts ---- */

static void
on_probe(void *arg, struct probe_result *r)
{
	struct mxhost *m = arg;

	if (m->result_count < sizeof(m->results) / sizeof(m->results[0]))
		m->results[m->result_count++] = r;
	else
		probe_result_free(r);
	dom_release(m->dom);
}

static void
on_probe_no_sni(void *arg, struct probe_result *r)
{
	struct mxhost *m = arg;

	probe_result_free(m->no_sni);
	m->no_sni = r;
	dom_release(m->dom);
}

/*
 * RFC 7672 §8.1: a DANE server must not need SNI; without it, it must
 * still present a chain its TLSA records match.  One more handshake,
 * at the host's first address, tells.
 */
static void
probe_without_sni(struct mxhost *m, const char *address,
                  const struct probe_options *with_sni)
{
	const struct tlsa_lookup *t = m->dh.dane_at;
	struct probe_options po = *with_sni;

	po.no_sni = true;
	dom_hold(m->dom);
	if (probe_mx(m->dom->ck->base, m->dom->ck->probe_ctx, m->name, address,
	             t->tlsa, t->count, &po, on_probe_no_sni, m) != 0)
		dom_release(m->dom);
}

static void
probe_addrs(struct mxhost *m, const struct rrset *r)
{
	const struct check_options *o = &m->dom->ck->opt;
	const struct tlsa_lookup *t;
	struct probe_options po;
	char skipped[160];
	size_t i;

	memset(&po, 0, sizeof(po));
	po.timeout_ms = o->timeout_ms;
	po.port = o->smtp_port;
	t = dane_host_probe(&m->dh, &po);
	for (i = 0; i < r->count && i < MAX_ADDRS; i++) {
		dom_hold(m->dom);
		m->probes++;
		if (probe_mx(m->dom->ck->base, m->dom->ck->probe_ctx, m->name,
		             r->addr[i], t != NULL ? t->tlsa : NULL,
		             t != NULL ? t->count : 0, &po, on_probe, m) != 0) {
			F(m->dom, "check-smtp-connect", "%s [%s]: cannot start",
			  m->name, r->addr[i]);
			dom_release(m->dom);
		}
	}
	if (r->count > MAX_ADDRS) {
		skipped_list(r, skipped, sizeof(skipped));
		F(m->dom, "check-mx-addr-capped",
		  "%s: %zu addresses, probed the first %d; not probed: %s",
		  m->name, r->count, MAX_ADDRS, skipped);
	}
	if (t != NULL && r->count > 0 && !m->no_sni_started &&
	    dane_host_usable(t) > 0) {
		m->no_sni_started = true;
		probe_without_sni(m, r->addr[0], &po);
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
	const struct dom *d = m->dom;

	if (m->dh.nomem) {
		F(m->dom, "check-internal",
		  "%s: its DNS answers could not be kept; not judged", m->name);
		return;
	}
	if (m->dh.a.count + m->dh.aaaa.count == 0) {
		F(m->dom, "check-mx-no-address", "%s", m->name);
		return;
	}
	m->probing = true;
	dane_host_names(&m->dh,
	                d->mx_dnssec == MTS_DNSSEC_SECURE && !d->mx_implicit ?
	                    d->name :
	                    NULL);
	if (d->ck->opt.no_smtp)
		return;
	probe_addrs(m, &m->dh.a);
	probe_addrs(m, &m->dh.aaaa);
}

/* A failed address lookup is a finding of the domain. */
static void
on_mx_answer(void *arg, const struct mts_dns_answer *a)
{
	struct mxhost *m = arg;

	if (a->qtype == MTS_DNS_TYPE_A || a->qtype == MTS_DNS_TYPE_AAAA)
		(void)dns_failed(m->dom, a);
}

static void
on_mx_lookups(void *arg, struct dane_host *h)
{
	struct mxhost *m = arg;
	struct dom *d = m->dom;

	mxhost_ready(m);
	dom_release(d);
}

/* Starts the lookups of an MX host; mxhost_ready() runs when all are in. */
static void
start_mxhost(struct mxhost *m)
{
	struct dom *d = m->dom;

	dom_hold(d); /* until every lookup of the host is in */
	if (dane_host_start(&m->dh, d->ck->dns, m->name, 25, on_mx_answer,
	                    on_mx_lookups, m) != 0) {
		mxhost_ready(m);
		dom_release(d);
	}
}

/* Adds an MX host to the domain's list (not started); -1: no memory. */
static int
add_mxhost(struct dom *d, const char *name, uint16_t pref)
{
	struct mxhost *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	if ((m->name = keep_str(name)) == NULL) {
		free(m);
		return -1;
	}
	m->dom = d;
	m->pref = pref;
	d->mx[d->mx_count++] = m;
	return 0;
}

/*
 * RFC 5321 §5.1: the most preferred host is the one of the lowest
 * preference value.  Ties are broken by name, so that the hosts chosen
 * for probing (and the order they are reported in) do not change with
 * the order of the DNS answer.
 */
static int
mx_cmp(const void *x, const void *y)
{
	const struct mts_dns_mx *a = *(const struct mts_dns_mx *const *)x;
	const struct mts_dns_mx *b = *(const struct mts_dns_mx *const *)y;

	if (a->preference != b->preference)
		return a->preference < b->preference ? -1 : 1;
	return strcasecmp(a->host, b->host);
}

/* Says which MX hosts the cap left out: the least preferred ones. */
static void
note_mx_capped(struct dom *d)
{
	char list[200];
	size_t i, off = 0;
	int n;

	if (d->mx_count <= MAX_MX)
		return;
	list[0] = '\0';
	for (i = MAX_MX; i < d->mx_count; i++) {
		n = snprintf(list + off, sizeof(list) - off, "%s%u %s",
		             i == MAX_MX ? "" : ", ", d->mx[i]->pref,
		             d->mx[i]->name);
		if (n < 0 || (size_t)n >= sizeof(list) - off) {
			memcpy(list + sizeof(list) - 4, "...", 4);
			break;
		}
		off += (size_t)n;
	}
	F(d, "check-mx-probe-capped",
	  "%zu MX hosts, the %d most preferred probed; %zu not: %s",
	  d->mx_count, MAX_MX, d->mx_count - MAX_MX, list);
}

/*
 * The MX records in preference order: reported, and every host put in
 * the list (all count for policy coverage); the MAX_MX most preferred
 * are looked up and probed.
 */
static void
add_mxhosts(struct dom *d, const struct mts_dns_answer *a)
{
	const struct mts_dns_mx **order;
	char list[512] = "";
	size_t i, off = 0;

	order = calloc(a->count, sizeof(*order));
	if (order == NULL || (d->mx = calloc(a->count, sizeof(*d->mx))) == NULL)
		goto nomem;
	for (i = 0; i < a->count; i++)
		order[i] = &a->mx[i];
	qsort(order, a->count, sizeof(*order), mx_cmp);
	for (i = 0; i < a->count; i++) {
		off += (size_t)snprintf(list + off, sizeof(list) - off,
		                        "%s%u %s", i == 0 ? "" : ", ",
		                        order[i]->preference, order[i]->host);
		if (off >= sizeof(list))
			off = sizeof(list) - 1;
	}
	F(d, "check-mx-ok", "%s (%s)", list, mts_dnssec_name(a->dnssec));
	for (i = 0; i < a->count; i++) {
		/* RFC 7672 §2.2: an MX naming an address literal is no
		   host. */
		if (mts_dname_is_address(order[i]->host,
		                         strlen(order[i]->host))) {
			F(d, "check-mx-ip-literal", "MX %u %s",
			  order[i]->preference, order[i]->host);
			continue;
		}
		if (add_mxhost(d, order[i]->host, order[i]->preference) != 0)
			goto nomem;
	}
	free(order);
	note_mx_capped(d);
	for (i = 0; i < d->mx_count && i < MAX_MX; i++)
		start_mxhost(d->mx[i]);
	return;
nomem:
	/* Judging coverage from a part of the list would be wrong. */
	free(order);
	F(d, "check-internal", "%s: the MX records could not be kept", d->name);
	d->mx_nomem = true;
}

static void
on_mx(void *arg, const struct mts_dns_answer *a)
{
	struct dom *d = arg;

	note_zone(d, a);
	d->mx_done = true;
	d->mx_dnssec = a->dnssec;
	if (dns_failed(d, a))
		goto out;
	if (a->rcode != MTS_DNS_ANSWER || a->count == 0) {
		/* RFC 5321 §5.1: the domain itself (STS-MX-9). */
		F(d, "check-mx-none", "%s: %s", d->name,
		  mts_dns_rcode_name(a->rcode));
		d->mx_implicit = true;
		if ((d->mx = calloc(1, sizeof(*d->mx))) == NULL ||
		    add_mxhost(d, d->name, 0) != 0) {
			F(d, "check-internal", "%s: out of memory", d->name);
			d->mx_nomem = true;
			goto out;
		}
		start_mxhost(d->mx[0]);
		goto out;
	}
	if (a->count == 1 && a->mx[0].host[0] == '\0') {
		F(d, "check-mx-null", "%s: MX 0 .", d->name);
		d->null_mx = true;
		goto out;
	}
	add_mxhosts(d, a);
out:
	dom_release(d);
}

/* ---- judging ---- */

static bool
is_expired(long verify_error)
{
	return verify_error == X509_V_ERR_CERT_HAS_EXPIRED;
}

/* Findings for one fetch; true when it gave a usable policy body. */
static bool
judge_fetch(struct dom *d, const struct fetch_result *r)
{
	const char *a = r->address;
	bool good = true;

	switch (r->stage) {
	case FETCH_CONNECT:
		F(d, "check-fetch-connect", "[%s]: %s", a, r->why);
		return false;
	case FETCH_TLS:
		F(d, "check-fetch-tls", "[%s]: %s", a, r->why);
		return false;
	case FETCH_TIMEOUT:
		F(d, "check-fetch-timeout", "[%s]: %s", a, r->why);
		return false;
	case FETCH_HTTP:
		F(d, "check-fetch-malformed", "[%s]: %s", a, r->why);
		return false;
	case FETCH_TOO_LARGE:
		F(d, "check-fetch-too-large", "[%s]: %s", a, r->why);
		return false;
	case FETCH_DONE:
		break;
	}
	if (r->have_cert && is_expired(r->verify_error)) {
		F(d, "check-fetch-cert-expired", "[%s]: %s", a, r->verify_msg);
		good = false;
	} else if (r->have_cert && r->verify_error != 0) {
		F(d, "check-fetch-cert-untrusted", "[%s]: %s", a,
		  r->verify_msg);
		good = false;
	}
	if (r->have_cert && !r->name_ok) {
		F(d, "check-fetch-cert-name", "[%s]: mta-sts.%s not in {%s}", a,
		  d->name, r->subject_names);
		good = false;
	}
	if (r->have_cert && r->not_after - d->ck->opt.now < EXPIRY_WARN &&
	    r->not_after > d->ck->opt.now)
		F(d, "check-fetch-cert-expiring", "[%s]: %lld days left", a,
		  (long long)((r->not_after - d->ck->opt.now) / 86400));
	if (r->status >= 300 && r->status < 400) {
		F(d, "check-fetch-redirect", "[%s]: %d to %s", a, r->status,
		  r->location[0] != '\0' ? r->location : "(no Location)");
		return false;
	}
	if (r->status != 200) {
		F(d, "check-fetch-status", "[%s]: %d", a, r->status);
		return false;
	}
	if (!r->content_type_present ||
	    strcmp(r->content_type, "text/plain") != 0) {
		F(d, "check-fetch-content-type", "[%s]: %s", a,
		  r->content_type_present ? r->content_type : "none");
		good = false;
	}
	if (good)
		F(d, "check-fetch-ok", "[%s]: 200 text/plain, %zu bytes, %s", a,
		  r->body_len, r->tls_version);
	return good;
}

/* The policy of the first good fetch, linted into the findings. */
static void
judge_policy(struct dom *d)
{
	struct fetch_result *r = NULL;
	struct mts_diag lint;
	size_t i;

	for (i = 0; i < d->fetch_count; i++)
		if (judge_fetch(d, d->fetches[i]) && r == NULL)
			r = d->fetches[i];
	if (r == NULL)
		return;
	mts_diag_init(&lint);
	if (mts_sts_policy_parse(r->body, r->body_len, &d->policy, &lint,
	                         NULL) == 0) {
		d->have_policy = true;
		d->policy_body = r->body;
		d->policy_len = r->body_len;
		F(d, "check-policy-ok", "mode %s, max_age %u, %zu mx",
		  mts_sts_mode_name(d->policy.mode), d->policy.max_age,
		  d->policy.mx_count);
	} else {
		F(d, "check-policy-invalid", "%s%s", "https://mta-sts.",
		  d->name);
	}
	copy_findings(d, &lint);
	mts_diag_reset(&lint);
}

/* RFC 8461 §4.1 both ways: every MX covered, every pattern used. */
static void
judge_coverage(struct dom *d)
{
	const struct mts_sts_policy *p = &d->policy;
	bool used;
	size_t i, j;

	if (!d->have_policy || p->mode == MTS_STS_MODE_NONE || d->mx_nomem)
		return;
	for (i = 0; i < d->mx_count; i++) {
		if (mts_sts_policy_match(p, d->mx[i]->name))
			continue;
		F(d,
		  p->mode == MTS_STS_MODE_ENFORCE ?
		      "check-mx-not-covered" :
		      "check-mx-not-covered-testing",
		  "%s%s", d->mx[i]->name,
		  d->mx_implicit ? " (implicit MX)" : "");
	}
	for (j = 0; j < p->mx_count && d->mx_count > 0; j++) {
		for (used = false, i = 0; i < d->mx_count && !used; i++)
			used = mts_sts_match(p->mx[j], d->mx[i]->name);
		if (!used)
			F(d, "check-policy-pattern-stale", "mx: %s", p->mx[j]);
	}
}

static const char *
probe_code(enum probe_stage s)
{
	switch (s) {
	case PROBE_CONNECT:
		return "check-smtp-connect";
	case PROBE_TIMEOUT:
		return "check-smtp-timeout";
	case PROBE_BANNER:
		return "check-smtp-banner";
	case PROBE_EHLO:
		return "check-smtp-ehlo";
	case PROBE_PROTOCOL:
		return "check-smtp-protocol";
	case PROBE_NO_STARTTLS:
		return "check-smtp-no-starttls";
	case PROBE_STARTTLS_REFUSED:
		return "check-smtp-starttls-refused";
	case PROBE_TLS:
		return "check-smtp-tls";
	case PROBE_DONE:
		break;
	}
	return NULL;
}

/*
 * The certificate of one probe.  Web PKI problems block MTA-STS senders;
 * when DANE authenticates the host and no MTA-STS policy applies they
 * matter to nobody, which is said as information (RFC 7672 §3.1.1).
 */
static void
judge_cert(struct dom *d, const struct mxhost *m, const struct probe_result *r)
{
	bool sts = d->have_policy && d->policy.mode != MTS_STS_MODE_NONE;
	bool pkix_ok = r->verify_error == 0 && r->name_ok;
	int64_t left = r->not_after - d->ck->opt.now;

	if (!pkix_ok && r->dane_ok && !sts) {
		F(d, "check-smtp-pkix-ignored", "%s [%s]: %s", m->name,
		  r->address,
		  r->verify_error != 0 ? r->verify_msg : "name mismatch");
		return;
	}
	if (is_expired(r->verify_error))
		F(d, "check-smtp-cert-expired", "%s [%s]", m->name, r->address);
	else if (r->verify_error != 0)
		F(d, "check-smtp-cert-untrusted", "%s [%s]: %s", m->name,
		  r->address, r->verify_msg);
	if (!r->name_ok)
		F(d, "check-smtp-cert-name", "%s [%s]: not in {%s}", m->name,
		  r->address, r->subject_names);
	if (left > 0 && left < EXPIRY_WARN)
		F(d, "check-smtp-cert-expiring", "%s [%s]: %lld days left",
		  m->name, r->address, (long long)(left / 86400));
	if (pkix_ok)
		F(d, "check-smtp-ok", "%s [%s]: %s, %s", m->name, r->address,
		  r->tls_version, r->banner_host);
}

/* How the host's TLSA RRset fits the chain one probe saw. */
static void
fit_of(const struct mxhost *m, const struct probe_result *r,
       struct mts_dane_rrset_fit *fit)
{
	const struct tlsa_lookup *t = m->dh.dane_at;
	struct mts_dane_chain chain;

	chain.der = (const uint8_t *const *)r->chain_der;
	chain.len = r->chain_len;
	chain.count = r->chain_count;
	mts_dane_rrset_fit(t->tlsa, t->count, &chain, 0, fit);
}

/*
 * One handshake that DANE did not authenticate: why, as the publisher
 * should hear it.  Digest agility (RFC 7671 §9) fails a set in which a
 * weaker digest matches; otherwise nothing matched (RFC 7672 §3.2).
 */
static void
judge_dane_failure(struct dom *d, const struct mxhost *m,
                   const struct probe_result *r)
{
	const struct tlsa_lookup *t = m->dh.dane_at;
	struct mts_dane_rrset_fit fit;

	fit_of(m, r, &fit);
	if (fit.fit == MTS_DANE_FIT_AGILITY)
		F(d, "check-dane-digest-agility",
		  "%s [%s]: a weaker digest of _25._tcp.%s matches", m->name,
		  r->address, t->base);
	else
		F(d, "check-dane-mismatch", "%s [%s]: %s", m->name, r->address,
		  r->dane_msg);
}

/* What a client without SNI gets from a DANE host (RFC 7672 §8.1). */
static void
judge_dane_no_sni(struct dom *d, const struct mxhost *m)
{
	const struct probe_result *r = m->no_sni;

	if (r == NULL)
		return;
	if (r->stage != PROBE_DONE)
		F(d, "check-dane-sni-required", "%s [%s]: without SNI: %s",
		  m->name, r->address, r->why);
	else if (!r->dane_ok)
		F(d, "check-dane-sni-required",
		  "%s [%s]: without SNI the server presents a chain no TLSA "
		  "record matches (%s)",
		  m->name, r->address, r->dane_msg);
}

/*
 * An authenticated host: every published combination should still
 * match the chain (RFC 7671 §8), or senders that support only that one
 * fail.
 */
static void
judge_dane_success(struct dom *d, const struct mxhost *m,
                   const struct probe_result *r)
{
	const struct tlsa_lookup *t = m->dh.dane_at;
	struct mts_dane_rrset_fit fit;

	fit_of(m, r, &fit);
	judge_dane_no_sni(d, m);
	if (fit.combo_unmatched)
		F(d, "check-dane-combination",
		  "_25._tcp.%s: %u %u %u matches nothing %s presents", t->base,
		  fit.combo_usage, fit.combo_selector, fit.combo_mtype,
		  m->name);
	F(d, "check-dane-ok", "%s: usage %d%s%s", m->name, r->dane_usage,
	  t == &m->dh.tlsa[1] ? ", TLSA base domain " : "",
	  t == &m->dh.tlsa[1] ? t->base : "");
}

/*
 * The host answers SMTP but offers no TLS.  (A failed handshake is not
 * counted: it may be this probe's TLS 1.2 minimum, where DANE senders
 * may go lower, RFC 7671 §3; an unreachable host fails everyone alike.)
 */
static bool
offers_no_tls(enum probe_stage stage)
{
	return stage == PROBE_NO_STARTTLS || stage == PROBE_STARTTLS_REFUSED ||
	    stage == PROBE_EHLO;
}

/*
 * A secure TLSA RRset (RFC 7672 §2.2): TLS is mandatory for DANE senders
 * whether or not a record is usable; with usable records every address
 * must authenticate by them.
 */
static void
judge_dane_secure(struct dom *d, const struct mxhost *m)
{
	const struct tlsa_lookup *t = m->dh.dane_at;
	const struct probe_result *r, *first = NULL;
	size_t i, matched = 0, judged = 0;
	struct mts_diag lint;

	mts_diag_init(&lint);
	for (i = 0; i < t->count; i++)
		mts_dane_tlsa_lint(&t->tlsa[i], &lint);
	copy_findings(d, &lint);
	mts_diag_reset(&lint);
	if (d->mx_dnssec != MTS_DNSSEC_SECURE && !d->mx_implicit)
		F(d, "check-dane-mx-insecure", "%s (MX records %s)", m->name,
		  mts_dnssec_name(d->mx_dnssec));
	for (i = 0; i < m->result_count; i++)
		if (offers_no_tls(m->results[i]->stage))
			F(d, "check-dane-tls-required",
			  "%s [%s]: %s, with %zu TLSA record%s at %s", m->name,
			  m->results[i]->address,
			  probe_stage_name(m->results[i]->stage), t->records,
			  t->records == 1 ? "" : "s", t->base);
	if (dane_host_usable(t) == 0) {
		F(d, "check-dane-unusable", "_25._tcp.%s", t->base);
		return;
	}
	for (i = 0; i < m->result_count; i++) {
		r = m->results[i];
		if (r->stage != PROBE_DONE)
			continue;
		judged++;
		if (!r->dane_ok)
			judge_dane_failure(d, m, r);
		else if (matched++ == 0)
			first = r;
	}
	if (judged > 0 && matched == judged)
		judge_dane_success(d, m, first);
}

/* DANE for one host (RFC 7672 §2.2, §3; checklist §20-§23). */
static void
judge_dane(struct dom *d, const struct mxhost *m)
{
	const struct tlsa_lookup *t = m->dh.dane_at;

	if (!m->probing)
		return; /* no address: nothing to connect to */
	switch (m->dh.dane) {
	case DANE_NONE:
		F(d, "check-dane-none", "_25._tcp.%s", m->name);
		break;
	case DANE_INSECURE:
		F(d, "check-dane-insecure", "_25._tcp.%s: %zu record%s",
		  t->base, t->records, t->records == 1 ? "" : "s");
		break;
	case DANE_IGNORED:
		F(d, "check-dane-ignored",
		  "_25._tcp.%s: the addresses of %s "
		  "are %s",
		  t->base, m->name,
		  dane_host_expanded(&m->dh) != NULL ?
		      "behind an insecure CNAME" :
		      "insecure");
		break;
	case DANE_BOGUS:
		F(d, "check-dane-bogus", "_25._tcp.%s", t->base);
		break;
	case DANE_LOOKUP_FAILED:
		F(d, "check-dane-lookup-failed", "_25._tcp.%s: %s", t->base,
		  mts_dns_rcode_name(t->rcode));
		break;
	case DANE_SECURE:
		judge_dane_secure(d, m);
		break;
	}
}

static void
judge_mx(struct dom *d)
{
	const struct probe_result *r;
	const struct mxhost *m;
	size_t i, j;

	for (i = 0; i < d->mx_count; i++) {
		m = d->mx[i];
		for (j = 0; j < m->result_count; j++) {
			r = m->results[j];
			if (r->stage != PROBE_DONE)
				F(d, probe_code(r->stage), "%s [%s]: %s",
				  m->name, r->address, r->why);
			else
				judge_cert(d, m, r);
		}
		judge_dane(d, m);
	}
}

/* ---- state: the id and digest of the last policy seen ---- */

/*
 * A state file that cannot be read or written is said on stderr with its
 * path and the reason, and counted: mtasts check then exits 2, since the
 * next run would miss a changed policy (RFC 8461 §3.1) without a word.
 */
static void
state_error(struct checker *ck, const char *path, const char *what, int err)
{
	fprintf(stderr, "mtasts: check: state %s: %s: %s\n", path, what,
	        strerror(err));
	ck->state_errors++;
}

/* The SHA-256 of the body in hex (65 bytes with the NUL); 0 or -1. */
static int
digest_hex(const char *body, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t i;

	if (EVP_Digest(body, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[2 * n] = '\0';
	return 0;
}

/* Compares the last id and digest seen, if any, with these. */
static void
state_read(struct dom *d, const char *path, const char *dg)
{
	char old_id[64], old_dg[80];
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno != ENOENT) /* none yet is the first run */
			state_error(d->ck, path, "cannot read", errno);
		return;
	}
	if (fscanf(fp, "id %63s sha256 %79s", old_id, old_dg) == 2) {
		if (strcmp(old_id, d->sts_id) == 0 && strcmp(old_dg, dg) != 0)
			F(d, "check-policy-same-id",
			  "id %s: the body changed since the last check",
			  d->sts_id);
		else if (strcmp(old_id, d->sts_id) != 0)
			F(d, "check-policy-id-changed", "%s -> %s", old_id,
			  d->sts_id);
	}
	fclose(fp);
}

/* Writes the id and digest to path, through a temporary file. */
static void
state_write(struct dom *d, const char *path, const char *dg)
{
	char tmp[4200];
	FILE *fp;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		state_error(d->ck, path, "cannot write", ENAMETOOLONG);
		return;
	}
	if ((fp = fopen(tmp, "w")) == NULL) {
		state_error(d->ck, tmp, "cannot write", errno);
		return;
	}
	n = fprintf(fp, "id %s sha256 %s\n", d->sts_id, dg);
	if (n < 0 || fflush(fp) != 0 || ferror(fp)) {
		state_error(d->ck, tmp, "cannot write", errno);
		fclose(fp);
		unlink(tmp);
		return;
	}
	if (fclose(fp) != 0) {
		state_error(d->ck, tmp, "cannot write", errno);
		unlink(tmp);
		return;
	}
	if (rename(tmp, path) != 0) {
		state_error(d->ck, path, "cannot replace", errno);
		unlink(tmp);
	}
}

static void
judge_state(struct dom *d)
{
	const char *dir = d->ck->opt.state_dir;
	char path[4096], dg[65];
	int n;

	if (dir == NULL || !d->have_policy || !d->sts_valid)
		return;
	n = snprintf(path, sizeof(path), "%s/%s.state", dir, d->name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		state_error(d->ck, dir, d->name, ENAMETOOLONG);
		return;
	}
	if (digest_hex(d->policy_body, d->policy_len, dg) != 0) {
		F(d, "check-internal",
		  "%s: no SHA-256 of the policy for --state", d->name);
		return;
	}
	state_read(d, path, dg);
	state_write(d, path, dg);
}

/*
 * A domain with a null MX (RFC 7505) receives no mail: that it has no
 * MTA-STS record or policy host is as it should be, not an error.
 */
static void
judge_absent(struct dom *d)
{
	if (d->null_mx)
		return;
	if (d->sts_missing >= 0)
		F(d, "check-sts-record-missing", "_mta-sts.%s: %s", d->name,
		  mts_dns_rcode_name((enum mts_dns_rcode)d->sts_missing));
	if (d->host_missing)
		F(d, "check-policy-host-missing", "mta-sts.%s: %s", d->name,
		  mts_dns_rcode_name(d->host_a.rcode));
}

static void
judge_dnssec(struct dom *d)
{
	if (!d->zone_dnssec_known || d->zone_dnssec == MTS_DNSSEC_BOGUS)
		return;
	if (d->zone_dnssec == MTS_DNSSEC_SECURE)
		F(d, "check-dnssec-secure", "%s", d->name);
	else
		F(d, "check-dnssec-insecure", "%s", d->name);
}

/* Errors and warnings decide; notes alone leave a domain ok. */
static enum mts_severity
verdict_of(const struct mts_diag *diag)
{
	if (mts_diag_count(diag, MTS_SEV_ERROR) > 0)
		return MTS_SEV_ERROR;
	if (mts_diag_count(diag, MTS_SEV_WARNING) > 0)
		return MTS_SEV_WARNING;
	return MTS_SEV_OK;
}

static void
dom_free(struct dom *d)
{
	struct mxhost *m;
	size_t i, j;

	for (i = 0; i < d->fetch_count; i++)
		fetch_result_free(d->fetches[i]);
	for (i = 0; i < d->mx_count; i++) {
		m = d->mx[i];
		for (j = 0; j < m->result_count; j++)
			probe_result_free(m->results[j]);
		probe_result_free(m->no_sni);
		dane_host_reset(&m->dh);
		free(m->name);
		free(m);
	}
	free(d->mx);
	rrset_reset(&d->host_a);
	rrset_reset(&d->host_aaaa);
	mts_sts_policy_reset(&d->policy);
	mts_diag_reset(&d->diag);
	free(d->name);
	free(d);
}

static void
dom_finish(struct dom *d)
{
	struct checker *ck = d->ck;
	struct check_report rep;

	judge_absent(d);
	judge_policy(d);
	judge_coverage(d);
	judge_mx(d);
	judge_state(d);
	judge_dnssec(d);
	rep.domain = d->name;
	rep.diag = &d->diag;
	rep.verdict = verdict_of(&d->diag);
	rep.mode = mode_name(d);
	rep.id = d->sts_valid ? d->sts_id : NULL;
	ck->cb(ck->cb_arg, &rep);
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
	snprintf(name, sizeof(name), "_mta-sts.%s", d->name);
	query(d, name, MTS_DNS_TYPE_TXT, on_sts_txt, d);
	snprintf(name, sizeof(name), "_smtp._tls.%s", d->name);
	query(d, name, MTS_DNS_TYPE_TXT, on_tlsrpt_txt, d);
	query(d, d->name, MTS_DNS_TYPE_MX, on_mx, d);
	snprintf(name, sizeof(name), "mta-sts.%s", d->name);
	if (query(d, name, MTS_DNS_TYPE_A, on_host_addr, d) != 0)
		d->host_a.done = true;
	if (query(d, name, MTS_DNS_TYPE_AAAA, on_host_addr, d) != 0)
		d->host_aaaa.done = true;
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

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->name = strdup(domain)) == NULL) {
		free(d);
		return -1;
	}
	d->ck = ck;
	d->sts_missing = -1;
	mts_diag_init(&d->diag);
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
	return ck->state_errors;
}

/*
 * The state directory must be a directory before any domain is checked:
 * a path that cannot be one fails at once, not after the whole run.
 */
static int
state_dir_ok(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		fprintf(stderr, "mtasts: check: state %s: %s\n", dir,
		        strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "mtasts: check: state %s: %s\n", dir,
		        strerror(ENOTDIR));
		return -1;
	}
	return 0;
}

struct checker *
checker_new(struct event_base *base, const struct check_options *options,
            check_report_cb cb, void *arg)
{
	struct mts_dns_options dopt;
	struct checker *ck;
	struct mts_err err;

	if (options->state_dir != NULL && state_dir_ok(options->state_dir) != 0)
		return NULL;
	if ((ck = calloc(1, sizeof(*ck))) == NULL)
		return NULL;
	ck->base = base;
	ck->opt = *options;
	if (ck->opt.concurrency == 0)
		ck->opt.concurrency = 20;
	ck->cb = cb;
	ck->cb_arg = arg;
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
