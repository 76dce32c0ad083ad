/* SPDX-License-Identifier: ISC */
/*
 * The facts of one domain (facts.h): keeping DNS answers whole after
 * their callback, the list of MX hosts, and freeing it all.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "facts.h"

int
facts_init(struct check_facts *f, const char *domain, int64_t now)
{
	memset(f, 0, sizeof(*f));
	if ((f->domain = keep_str(domain)) == NULL)
		return -1;
	f->now = now;
	return 0;
}

static void
dns_fact_reset(struct dns_fact *d)
{
	size_t i;

	for (i = 0; d->txt != NULL && i < d->count; i++)
		free(d->txt[i]);
	for (i = 0; d->mx != NULL && i < d->count; i++)
		free(d->mx[i].host);
	free(d->txt);
	free(d->txt_len);
	free(d->mx);
	free(d->qname);
	free(d->why);
	memset(d, 0, sizeof(*d));
}

/* A copy of n octets and a NUL; NULL when memory ran out. */
static char *
keep_bytes(const char *s, size_t n)
{
	char *p;

	if ((p = malloc(n + 1)) != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int
keep_records(struct dns_fact *d, const struct mts_dns_answer *a)
{
	size_t i;

	if (a->count == 0)
		return 0;
	if (a->qtype == MTS_DNS_TYPE_TXT && a->txt != NULL) {
		if ((d->txt = calloc(a->count, sizeof(*d->txt))) == NULL ||
		    (d->txt_len = calloc(a->count, sizeof(*d->txt_len))) ==
		        NULL)
			return -1;
		d->count = a->count;
		for (i = 0; i < a->count; i++) {
			d->txt_len[i] = a->txt_len[i];
			if ((d->txt[i] =
			         keep_bytes(a->txt[i], a->txt_len[i])) == NULL)
				return -1;
		}
	} else if (a->qtype == MTS_DNS_TYPE_MX && a->mx != NULL) {
		if ((d->mx = calloc(a->count, sizeof(*d->mx))) == NULL)
			return -1;
		d->count = a->count;
		for (i = 0; i < a->count; i++) {
			d->mx[i].preference = a->mx[i].preference;
			if ((d->mx[i].host = keep_str(a->mx[i].host)) == NULL)
				return -1;
		}
	}
	return 0;
}

void
dns_fact_keep(struct dns_fact *d, const struct mts_dns_answer *a)
{
	const char *why = a->dnssec == MTS_DNSSEC_BOGUS ? a->why_bogus : a->why;

	dns_fact_reset(d);
	d->done = true;
	d->qtype = a->qtype;
	d->rcode = a->rcode;
	d->dnssec = a->dnssec;
	if ((d->qname = keep_str(a->qname)) == NULL ||
	    (why != NULL && (d->why = keep_str(why)) == NULL) ||
	    keep_records(d, a) != 0) {
		/* Judging from part of an answer would be wrong. */
		dns_fact_reset(d);
		d->done = d->nomem = true;
		d->qtype = a->qtype;
		d->rcode = a->rcode;
		d->dnssec = a->dnssec;
	}
}

void
dns_fact_not_started(struct dns_fact *d, const char *name, uint16_t type,
                     const char *why)
{
	dns_fact_reset(d);
	d->done = d->not_started = true;
	d->qtype = type;
	d->rcode = MTS_DNS_ERROR;
	d->qname = keep_str(name);
	d->why = keep_str(why);
	if (d->qname == NULL || d->why == NULL)
		d->nomem = true;
}

bool
facts_mx_implicit(const struct check_facts *f)
{
	return f->mx.done && !f->mx.not_started && !f->mx.nomem &&
	    !dns_answer_failed(f->mx.rcode, f->mx.dnssec) &&
	    (f->mx.rcode != MTS_DNS_ANSWER || f->mx.count == 0);
}

bool
facts_null_mx(const struct check_facts *f)
{
	return f->mx.done && !f->mx.nomem && f->mx.rcode == MTS_DNS_ANSWER &&
	    f->mx.count == 1 && f->mx.mx != NULL && f->mx.mx[0].host[0] == '\0';
}

int
facts_add_host(struct check_facts *f, const char *name, uint16_t pref)
{
	struct mx_fact **hosts, *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	if ((m->name = keep_str(name)) == NULL ||
	    (hosts = realloc(f->hosts, (f->host_count + 1) * sizeof(*hosts))) ==
	        NULL) {
		free(m->name);
		free(m);
		return -1;
	}
	m->pref = pref;
	hosts[f->host_count++] = m;
	f->hosts = hosts;
	return 0;
}

static void
probe_fact_reset(struct probe_fact *p)
{
	probe_result_free(p->r);
	memset(p, 0, sizeof(*p));
}

void
mx_fact_free(struct mx_fact *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->probe_count; i++)
		probe_fact_reset(&m->probes[i]);
	probe_fact_reset(&m->no_sni);
	dane_host_reset(&m->dh);
	free(m->name);
	free(m);
}

void
facts_reset(struct check_facts *f)
{
	size_t i;

	dns_fact_reset(&f->sts);
	dns_fact_reset(&f->tlsrpt);
	dns_fact_reset(&f->mx);
	rrset_reset(&f->host_a);
	rrset_reset(&f->host_aaaa);
	for (i = 0; i < f->fetch_count; i++) {
		fetch_result_free(f->fetches[i].r);
	}
	for (i = 0; i < f->host_count; i++)
		mx_fact_free(f->hosts[i]);
	free(f->hosts);
	free(f->domain);
	memset(f, 0, sizeof(*f));
}

int
facts_mx_cmp(const void *x, const void *y)
{
	const struct mts_dns_mx *a = *(const struct mts_dns_mx *const *)x;
	const struct mts_dns_mx *b = *(const struct mts_dns_mx *const *)y;

	if (a->preference != b->preference)
		return a->preference < b->preference ? -1 : 1;
	return strcasecmp(a->host, b->host);
}
