/* SPDX-License-Identifier: ISC */
/*
 * The DANE view of one SMTP server host (dane_host.h): its lookups, on
 * mts_dns, and the decision a DANE sender makes from them (RFC 7672
 * §2.2), kept apart so that the decision can be replayed from recorded
 * answers.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/dns.h>

#include "dane_host.h"
#include "probe.h"

/* ---- what is kept of an answer ---- */

void
rrset_reset(struct rrset *r)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		free(r->addr[i]);
	free(r->addr);
	free(r->canonical);
	free(r->why);
	memset(r, 0, sizeof(*r));
}

/* A copy of s, or NULL; malloc(3) itself, so that a test can fail it. */
char *
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

/* The reason of a failed answer, as the checker quotes it. */
static const char *
why_of(const struct mts_dns_answer *a)
{
	return a->dnssec == MTS_DNSSEC_BOGUS ? a->why_bogus : a->why;
}

int
rrset_keep_failure(struct rrset *r, const struct mts_dns_answer *a)
{
	r->done = true;
	r->rcode = a->rcode;
	r->dnssec = a->dnssec;
	if (why_of(a) != NULL && (r->why = keep_str(why_of(a))) == NULL)
		return -1;
	return 0;
}

int
rrset_keep(struct rrset *r, const struct mts_dns_answer *a)
{
	char **addr = NULL;
	char *canonical = NULL;
	size_t i, n = 0;

	if (rrset_keep_failure(r, a) != 0)
		return -1;
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

/* ---- the decision (pure) ---- */

bool
dns_answer_failed(enum mts_dns_rcode rcode, enum mts_dnssec dnssec)
{
	return dnssec == MTS_DNSSEC_BOGUS || rcode == MTS_DNS_SERVFAIL ||
	    rcode == MTS_DNS_TIMEOUT || rcode == MTS_DNS_ERROR;
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
void
dane_decide(struct dane_host *h)
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

const char *
dane_host_why_not(const struct dane_host *h, char *buf, size_t size)
{
	const char *expanded = dane_host_expanded(h);

	if (h->dane != DANE_NONE && h->dane != DANE_INSECURE &&
	    h->dane != DANE_IGNORED)
		return NULL;
	if (h->candidates == 0 && expanded == NULL)
		snprintf(buf, size,
		         "the addresses of %s are not DNSSEC-secure (RFC 7672 "
		         "§2.2.2)",
		         h->name);
	else if (h->candidates == 0)
		snprintf(buf, size,
		         "the addresses of %s (an alias of %s) are not "
		         "DNSSEC-secure, nor is its CNAME (RFC 7672 §2.2.2)",
		         h->name, expanded);
	else if (h->dane == DANE_INSECURE)
		snprintf(buf, size,
		         "no DNSSEC-secure TLSA records (RFC 7672 §2.2)");
	else
		snprintf(buf, size, "no TLSA records (RFC 7672 §2.2)");
	return buf;
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

/*
 * Starts one query of the host; one that cannot start is an answer,
 * kept in r (when not NULL) as a failed lookup.
 */
static int
dane_query(struct dane_host *h, const char *name, uint16_t type, mts_dns_cb cb,
           void *arg, struct rrset *r)
{
	struct mts_dns_answer fail;
	struct mts_err err;

	if (mts_dns_query(h->dns, name, type, cb, arg, &err) == 0) {
		h->pending++;
		return 0;
	}
	memset(&fail, 0, sizeof(fail));
	fail.qname = name;
	fail.qtype = type;
	fail.rcode = MTS_DNS_ERROR;
	fail.why = err.msg;
	if (h->answer_cb != NULL)
		h->answer_cb(h->arg, &fail);
	if (r != NULL && rrset_keep_failure(r, &fail) != 0)
		h->nomem = true;
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
	    dane_query(h, owner, MTS_DNS_TYPE_TLSA, on_dane_tlsa, t, NULL) !=
	        0) {
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
	else if (dane_query(h, h->name, MTS_DNS_TYPE_CNAME, on_dane_cname, h,
	                    NULL) == 0)
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
	dane_decide(h);
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
	if ((!dns_answer_failed(a->rcode, a->dnssec) ?
	         rrset_keep(r, a) :
	         rrset_keep_failure(r, a)) != 0)
		h->nomem = true;
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
	(void)dane_query(h, name, MTS_DNS_TYPE_A, on_dane_addr, h, &h->a);
	(void)dane_query(h, name, MTS_DNS_TYPE_AAAA, on_dane_addr, h, &h->aaaa);
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
