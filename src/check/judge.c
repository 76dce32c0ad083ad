/* SPDX-License-Identifier: ISC */
/*
 * The judge of `mtasts check` (judge.h).  In the order a sender works:
 *
 *   records  _mta-sts and _smtp._tls TXT (RFC 8461 §3.1, RFC 8460 §3)
 *   MX       the MX records, and what caps left out
 *   host     mta-sts.<domain> and the fetches from its addresses
 *   MX hosts their lookups, and the probes that could not start
 *   absent   a record or policy host missing (not for a null MX)
 *   policy   each fetch, then the policy of the first good one, linted,
 *            and its MX coverage both ways over every MX host (§4.1)
 *   probes   each probe: SMTP, the Web PKI (§4.2), DANE (RFC 7672 §2.2,
 *            §3; why a set fails from mts_dane_rrset_fit())
 *   state    with --state: a changed policy under an old id (§3.1)
 *   DNSSEC   of the domain's zone
 *
 * A fact that could not be kept whole for lack of memory is said as
 * check-internal and not judged: a verdict from part of an answer
 * would be wrong.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include "codes.h"
#include "judge.h"

#define EXPIRY_WARN (14 * 86400)

/*
 * A finding of the program's code `id` (codes.h): an id not in
 * codes_check.def does not build.  The report of a domain has no lines.
 */
#define F(j, id, ...)                                                          \
	mts_diag_add_rule(&(j)->diag, check_rule(id), 0, __VA_ARGS__)

/*
 * Moves a lint's findings into the judgement, with the counts of folded
 * ones and those the lint dropped.  The report of a domain shows no line
 * numbers, so findings that differ only in their line are one (10,000
 * "mx: a" lines, one "single label" finding).
 */
static void
copy_findings(struct check_judgement *j, struct mts_diag *from)
{
	size_t i;

	for (i = 0; i < from->count; i++)
		from->items[i].line = 0;
	mts_diag_merge(&j->diag, from);
}

/*
 * A lookup that failed, said as check-dns-bogus or check-dns-failed;
 * true when its answer is unusable.
 */
static bool
lookup_failed(struct check_judgement *j, const char *qname, uint16_t qtype,
              enum mts_dns_rcode rcode, enum mts_dnssec dnssec, const char *why)
{
	if (dnssec == MTS_DNSSEC_BOGUS) {
		F(j, CHECK_DNS_BOGUS, "%s %s: %s", qname,
		  qtype == MTS_DNS_TYPE_TXT ? "TXT" : "query",
		  why != NULL ? why : "bogus");
		return true;
	}
	if (rcode == MTS_DNS_SERVFAIL || rcode == MTS_DNS_TIMEOUT ||
	    rcode == MTS_DNS_ERROR) {
		F(j, CHECK_DNS_FAILED, "%s: %s%s%s", qname,
		  mts_dns_rcode_name(rcode), why != NULL ? ": " : "",
		  why != NULL ? why : "");
		return true;
	}
	return false;
}

/* A TXT or MX answer that is no answer; true when it is unusable. */
static bool
fact_failed(struct check_judgement *j, const struct dns_fact *d)
{
	if (!d->done)
		return true;
	if (d->not_started) {
		F(j, CHECK_DNS_FAILED, "%s: %s", d->qname, d->why);
		return true;
	}
	if (lookup_failed(j, d->qname, d->qtype, d->rcode, d->dnssec, d->why))
		return true;
	if (d->nomem) {
		F(j, CHECK_INTERNAL, "%s: the answer could not be kept",
		  d->qname);
		return true;
	}
	return false;
}

/* ---- TXT records ---- */

static void
judge_sts_record(struct check_judgement *j, const struct check_facts *f,
                 int *missing)
{
	const struct dns_fact *d = &f->sts;
	struct mts_sts_record rec;
	struct mts_diag lint;
	struct mts_err err;
	size_t idx;

	if (fact_failed(j, d))
		return;
	if (d->rcode != MTS_DNS_ANSWER ||
	    mts_sts_record_select((const char *const *)d->txt, d->txt_len,
	                          d->count, &idx, &err) != 0) {
		if (d->rcode == MTS_DNS_ANSWER && err.code == MTS_ERR_MULTIPLE)
			F(j, CHECK_STS_RECORD_MULTIPLE, "_mta-sts.%s",
			  f->domain);
		else
			*missing = (int)d->rcode; /* judged with the rest */
		return;
	}
	mts_diag_init(&lint);
	if (mts_sts_record_parse(d->txt[idx], d->txt_len[idx], &rec, &lint,
	                         NULL) == 0) {
		memcpy(j->sts_id, rec.id, sizeof(j->sts_id));
		j->id = j->sts_id;
		F(j, CHECK_STS_RECORD_OK, "v=STSv1; id=%s (%s)", rec.id,
		  mts_dnssec_name(d->dnssec));
	} else {
		F(j, CHECK_STS_RECORD_INVALID, "\"%.200s\"", d->txt[idx]);
	}
	copy_findings(j, &lint);
	mts_diag_reset(&lint);
}

static void
judge_tlsrpt_record(struct check_judgement *j, const struct check_facts *f)
{
	const struct dns_fact *d = &f->tlsrpt;
	struct mts_tlsrpt_record rec;
	struct mts_diag lint;
	struct mts_err err;
	size_t idx;

	if (fact_failed(j, d))
		return;
	if (d->rcode != MTS_DNS_ANSWER ||
	    mts_tlsrpt_record_select((const char *const *)d->txt, d->txt_len,
	                             d->count, &idx, &err) != 0) {
		if (d->rcode == MTS_DNS_ANSWER && err.code == MTS_ERR_MULTIPLE)
			F(j, CHECK_TLSRPT_RECORD_MULTIPLE, "_smtp._tls.%s",
			  f->domain);
		else
			F(j, CHECK_TLSRPT_RECORD_MISSING, "_smtp._tls.%s",
			  f->domain);
		return;
	}
	mts_diag_init(&lint);
	if (mts_tlsrpt_record_parse(d->txt[idx], d->txt_len[idx], &rec, &lint,
	                            NULL) == 0) {
		F(j, CHECK_TLSRPT_RECORD_OK, "%zu destination%s", rec.rua_count,
		  rec.rua_count == 1 ? "" : "s");
		mts_tlsrpt_record_reset(&rec);
	} else {
		F(j, CHECK_TLSRPT_RECORD_INVALID, "\"%.200s\"", d->txt[idx]);
	}
	copy_findings(j, &lint);
	mts_diag_reset(&lint);
}

/* ---- the MX records ---- */

/* Says which MX hosts the cap left out: the least preferred ones. */
static void
note_mx_capped(struct check_judgement *j, const struct check_facts *f)
{
	char list[200];
	size_t i, off = 0;
	int n;

	if (f->host_count <= CHECK_MAX_MX)
		return;
	list[0] = '\0';
	for (i = CHECK_MAX_MX; i < f->host_count; i++) {
		n = snprintf(list + off, sizeof(list) - off, "%s%u %s",
		             i == CHECK_MAX_MX ? "" : ", ", f->hosts[i]->pref,
		             f->hosts[i]->name);
		if (n < 0 || (size_t)n >= sizeof(list) - off) {
			memcpy(list + sizeof(list) - 4, "...", 4);
			break;
		}
		off += (size_t)n;
	}
	F(j, CHECK_MX_PROBE_CAPPED,
	  "%zu MX hosts, the %d most preferred probed; %zu not: %s",
	  f->host_count, CHECK_MAX_MX, f->host_count - CHECK_MAX_MX, list);
}

/* The MX records in preference order, and the address literals. */
static void
judge_mx_list(struct check_judgement *j, const struct check_facts *f)
{
	const struct dns_fact *d = &f->mx;
	const struct mts_dns_mx *order[256];
	char list[512] = "";
	size_t i, n = d->count < 256 ? d->count : 256, off = 0;

	for (i = 0; i < n; i++)
		order[i] = &d->mx[i];
	qsort(order, n, sizeof(*order), facts_mx_cmp);
	for (i = 0; i < n; i++) {
		off += (size_t)snprintf(list + off, sizeof(list) - off,
		                        "%s%u %s", i == 0 ? "" : ", ",
		                        order[i]->preference, order[i]->host);
		if (off >= sizeof(list))
			off = sizeof(list) - 1;
	}
	F(j, CHECK_MX_OK, "%s (%s)", list, mts_dnssec_name(d->dnssec));
	/* RFC 7672 §2.2: an MX naming an address literal is no host. */
	for (i = 0; i < n; i++)
		if (mts_dname_is_address(order[i]->host,
		                         strlen(order[i]->host)))
			F(j, CHECK_MX_IP_LITERAL, "MX %u %s",
			  order[i]->preference, order[i]->host);
}

static void
judge_mx_records(struct check_judgement *j, const struct check_facts *f)
{
	const struct dns_fact *d = &f->mx;

	if (fact_failed(j, d))
		return;
	if (facts_mx_implicit(f)) {
		/* RFC 5321 §5.1: the domain itself (STS-MX-9). */
		F(j, CHECK_MX_NONE, "%s: %s", f->domain,
		  mts_dns_rcode_name(d->rcode));
		if (f->mx_nomem)
			F(j, CHECK_INTERNAL, "%s: out of memory", f->domain);
		return;
	}
	if (facts_null_mx(f)) {
		F(j, CHECK_MX_NULL, "%s: MX 0 .", f->domain);
		return;
	}
	judge_mx_list(j, f);
	if (f->mx_nomem) {
		/* Judging coverage from a part of the list would be wrong. */
		F(j, CHECK_INTERNAL, "%s: the MX records could not be kept",
		  f->domain);
		return;
	}
	note_mx_capped(j, f);
}

/* ---- the policy host, MX hosts: lookups and starts ---- */

static bool
rrset_failed(struct check_judgement *j, const char *qname, uint16_t qtype,
             const struct rrset *r)
{
	if (!r->done)
		return false;
	if (r->not_started) {
		F(j, CHECK_DNS_FAILED, "%s: %s", qname, r->why);
		return true;
	}
	return lookup_failed(j, qname, qtype, r->rcode, r->dnssec, r->why);
}

/*
 * The addresses of r past the first CHECK_MAX_ADDRS, as a list for a
 * finding ("192.0.2.5, 192.0.2.6"); cut with "..." when it does not fit.
 */
static void
skipped_list(const struct rrset *r, char *buf, size_t size)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = CHECK_MAX_ADDRS; i < r->count; i++) {
		n = snprintf(buf + off, size - off, "%s%s",
		             i == CHECK_MAX_ADDRS ? "" : ", ", r->addr[i]);
		if (n < 0 || (size_t)n >= size - off) {
			if (size > 4)
				memcpy(buf + size - 4, "...", 4);
			return;
		}
		off += (size_t)n;
	}
}

static void
judge_policy_host(struct check_judgement *j, const struct check_facts *f,
                  bool *missing)
{
	const struct rrset *a = &f->host_a, *aaaa = &f->host_aaaa;
	const char *alias =
	    a->canonical != NULL ? a->canonical : aaaa->canonical;
	char qname[MTS_DNAME_MAX + 16], skipped[160];
	size_t i;

	snprintf(qname, sizeof(qname), "mta-sts.%s", f->domain);
	rrset_failed(j, qname, MTS_DNS_TYPE_A, a);
	rrset_failed(j, qname, MTS_DNS_TYPE_AAAA, aaaa);
	if (!a->done || !aaaa->done || (a->not_started && aaaa->not_started))
		return;
	if (f->host_nomem) {
		F(j, CHECK_INTERNAL,
		  "mta-sts.%s: its addresses could not be kept; no fetch",
		  f->domain);
		return;
	}
	if (a->count + aaaa->count == 0) {
		*missing = true; /* judged with the rest */
		return;
	}
	if (alias != NULL)
		F(j, CHECK_POLICY_HOST_CNAME, "mta-sts.%s is an alias of %s",
		  f->domain, alias);
	F(j, CHECK_POLICY_HOST_OK, "mta-sts.%s: %zu IPv4, %zu IPv6 address%s",
	  f->domain, a->count, aaaa->count,
	  a->count + aaaa->count == 1 ? "" : "es");
	for (i = 0; i < f->fetch_count; i++)
		if (!f->fetches[i].started)
			F(j, CHECK_FETCH_CONNECT, "%s: cannot start",
			  f->fetches[i].address);
	for (a = &f->host_a; a != NULL; a = a == &f->host_a ? aaaa : NULL) {
		if (a->count <= CHECK_MAX_ADDRS)
			continue;
		skipped_list(a, skipped, sizeof(skipped));
		F(j, CHECK_POLICY_HOST_ADDR_CAPPED,
		  "mta-sts.%s: %zu addresses, fetched from the first %d; not "
		  "tried: %s",
		  f->domain, a->count, CHECK_MAX_ADDRS, skipped);
	}
}

/* A host's lookups, and what could not be started for it. */
static void
judge_mx_host_lookups(struct check_judgement *j, const struct check_facts *f,
                      const struct mx_fact *m)
{
	const struct rrset *r;
	char skipped[160];
	size_t i;

	if (!m->ready)
		return;
	rrset_failed(j, m->name, MTS_DNS_TYPE_A, &m->dh.a);
	rrset_failed(j, m->name, MTS_DNS_TYPE_AAAA, &m->dh.aaaa);
	if (m->dh.nomem) {
		F(j, CHECK_INTERNAL,
		  "%s: its DNS answers could not be kept; not judged", m->name);
		return;
	}
	if (m->dh.a.count + m->dh.aaaa.count == 0) {
		F(j, CHECK_MX_NO_ADDRESS, "%s", m->name);
		return;
	}
	if (f->no_smtp)
		return;
	for (i = 0; i < m->probe_count; i++)
		if (!m->probes[i].started)
			F(j, CHECK_SMTP_CONNECT, "%s [%s]: cannot start",
			  m->name, m->probes[i].address);
	for (r = &m->dh.a; r != NULL; r = r == &m->dh.a ? &m->dh.aaaa : NULL) {
		if (r->count <= CHECK_MAX_ADDRS)
			continue;
		skipped_list(r, skipped, sizeof(skipped));
		F(j, CHECK_MX_ADDR_CAPPED,
		  "%s: %zu addresses, probed the first %d; not probed: %s",
		  m->name, r->count, CHECK_MAX_ADDRS, skipped);
	}
}

/* An MX host is probed when its lookups gave addresses to probe. */
static bool
probing(const struct mx_fact *m)
{
	return m->ready && !m->dh.nomem && m->dh.a.count + m->dh.aaaa.count > 0;
}

/*
 * A domain with a null MX (RFC 7505) receives no mail: that it has no
 * MTA-STS record or policy host is as it should be, not an error.
 */
static void
judge_absent(struct check_judgement *j, const struct check_facts *f,
             int sts_missing, bool host_missing)
{
	const struct rrset *r = &f->host_a;

	if (facts_null_mx(f))
		return;
	if (sts_missing >= 0)
		F(j, CHECK_STS_RECORD_MISSING, "_mta-sts.%s: %s", f->domain,
		  mts_dns_rcode_name((enum mts_dns_rcode)sts_missing));
	/* The A lookup's outcome, or the AAAA one's when A failed. */
	if (r->not_started || dns_answer_failed(r->rcode, r->dnssec))
		r = &f->host_aaaa;
	if (host_missing)
		F(j, CHECK_POLICY_HOST_MISSING, "mta-sts.%s: %s", f->domain,
		  mts_dns_rcode_name(r->rcode));
}

/* ---- the policy ---- */

static bool
is_expired(long verify_error)
{
	return verify_error == X509_V_ERR_CERT_HAS_EXPIRED;
}

/* The certificate of one fetch; true when it is good (RFC 8461 §3.3). */
static bool
judge_fetch_cert(struct check_judgement *j, const struct check_facts *f,
                 const struct fetch_result *r)
{
	const char *a = r->address;
	bool good = true;

	if (!r->have_cert)
		return true;
	if (is_expired(r->verify_error)) {
		F(j, CHECK_FETCH_CERT_EXPIRED, "[%s]: %s", a, r->verify_msg);
		good = false;
	} else if (r->verify_error != 0) {
		F(j, CHECK_FETCH_CERT_UNTRUSTED, "[%s]: %s", a, r->verify_msg);
		good = false;
	}
	if (!r->name_ok) {
		F(j, CHECK_FETCH_CERT_NAME, "[%s]: mta-sts.%s not in {%s}", a,
		  f->domain, r->subject_names);
		good = false;
	}
	if (r->not_after - f->now < EXPIRY_WARN && r->not_after > f->now)
		F(j, CHECK_FETCH_CERT_EXPIRING, "[%s]: %lld days left", a,
		  (long long)((r->not_after - f->now) / 86400));
	return good;
}

/* The code of a fetch that failed at stage s. */
static enum check_code
fetch_code(enum fetch_stage s)
{
	switch (s) {
	case FETCH_CONNECT:
		return CHECK_FETCH_CONNECT;
	case FETCH_TLS:
		return CHECK_FETCH_TLS;
	case FETCH_HTTP:
		return CHECK_FETCH_MALFORMED;
	case FETCH_TOO_LARGE:
		return CHECK_FETCH_TOO_LARGE;
	case FETCH_TIMEOUT:
		return CHECK_FETCH_TIMEOUT;
	case FETCH_DONE:
		break;
	}
	/* Not a failure: a caller's bug, said rather than lost. */
	return CHECK_INTERNAL;
}

/* Findings for one fetch; true when it gave a usable policy body. */
static bool
judge_fetch(struct check_judgement *j, const struct check_facts *f,
            const struct fetch_result *r)
{
	const char *a = r->address;
	bool good;

	if (r->stage != FETCH_DONE) {
		F(j, fetch_code(r->stage), "[%s]: %s", a, r->why);
		return false;
	}
	good = judge_fetch_cert(j, f, r);
	if (r->status >= 300 && r->status < 400) {
		F(j, CHECK_FETCH_REDIRECT, "[%s]: %d to %s", a, r->status,
		  r->location[0] != '\0' ? r->location : "(no Location)");
		return false;
	}
	if (r->status != 200) {
		F(j, CHECK_FETCH_STATUS, "[%s]: %d", a, r->status);
		return false;
	}
	if (!r->content_type_present ||
	    strcmp(r->content_type, "text/plain") != 0) {
		F(j, CHECK_FETCH_CONTENT_TYPE, "[%s]: %s", a,
		  r->content_type_present ? r->content_type : "none");
		good = false;
	}
	if (good)
		F(j, CHECK_FETCH_OK, "[%s]: 200 text/plain, %zu bytes, %s", a,
		  r->body_len, r->tls_version);
	return good;
}

/* The policy of the first good fetch, linted; that fetch, or NULL. */
static const struct fetch_result *
judge_policy(struct check_judgement *j, const struct check_facts *f)
{
	const struct fetch_result *r = NULL;
	struct mts_diag lint;
	size_t i;

	for (i = 0; i < f->fetch_count; i++)
		if (f->fetches[i].r != NULL &&
		    judge_fetch(j, f, f->fetches[i].r) && r == NULL)
			r = f->fetches[i].r;
	if (r == NULL)
		return NULL;
	mts_diag_init(&lint);
	if (mts_sts_policy_parse(r->body, r->body_len, &j->policy, &lint,
	                         NULL) == 0) {
		j->have_policy = true;
		F(j, CHECK_POLICY_OK, "mode %s, max_age %u, %zu mx",
		  mts_sts_mode_name(j->policy.mode), j->policy.max_age,
		  j->policy.mx_count);
	} else {
		F(j, CHECK_POLICY_INVALID, "%s%s", "https://mta-sts.",
		  f->domain);
	}
	copy_findings(j, &lint);
	mts_diag_reset(&lint);
	return r;
}

/* RFC 8461 §4.1 both ways: every MX covered, every pattern used. */
static void
judge_coverage(struct check_judgement *j, const struct check_facts *f)
{
	const struct mts_sts_policy *p = &j->policy;
	bool used, implicit = facts_mx_implicit(f);
	size_t i, k;

	if (!j->have_policy || p->mode == MTS_STS_MODE_NONE || f->mx_nomem)
		return;
	for (i = 0; i < f->host_count; i++) {
		if (mts_sts_policy_match(p, f->hosts[i]->name))
			continue;
		F(j,
		  p->mode == MTS_STS_MODE_ENFORCE ?
		      CHECK_MX_NOT_COVERED :
		      CHECK_MX_NOT_COVERED_TESTING,
		  "%s%s", f->hosts[i]->name, implicit ? " (implicit MX)" : "");
	}
	for (k = 0; k < p->mx_count && f->host_count > 0; k++) {
		for (used = false, i = 0; i < f->host_count && !used; i++)
			used = mts_sts_match(p->mx[k], f->hosts[i]->name);
		if (!used)
			F(j, CHECK_POLICY_PATTERN_STALE, "mx: %s", p->mx[k]);
	}
}

/* ---- the probes ---- */

/* The code of a probe that failed at stage s. */
static enum check_code
probe_code(enum probe_stage s)
{
	switch (s) {
	case PROBE_CONNECT:
		return CHECK_SMTP_CONNECT;
	case PROBE_TIMEOUT:
		return CHECK_SMTP_TIMEOUT;
	case PROBE_BANNER:
		return CHECK_SMTP_BANNER;
	case PROBE_EHLO:
		return CHECK_SMTP_EHLO;
	case PROBE_PROTOCOL:
		return CHECK_SMTP_PROTOCOL;
	case PROBE_NO_STARTTLS:
		return CHECK_SMTP_NO_STARTTLS;
	case PROBE_STARTTLS_REFUSED:
		return CHECK_SMTP_STARTTLS_REFUSED;
	case PROBE_TLS:
		return CHECK_SMTP_TLS;
	case PROBE_DONE:
		break;
	}
	/* Not a failure: a caller's bug, said rather than lost. */
	return CHECK_INTERNAL;
}

/*
 * The certificate of one probe.  Web PKI problems block MTA-STS senders;
 * when DANE authenticates the host and no MTA-STS policy applies they
 * matter to nobody, which is said as information (RFC 7672 §3.1.1).
 */
static void
judge_cert(struct check_judgement *j, const struct check_facts *f,
           const struct mx_fact *m, const struct probe_result *r)
{
	bool sts = j->have_policy && j->policy.mode != MTS_STS_MODE_NONE;
	bool pkix_ok = r->verify_error == 0 && r->name_ok;
	int64_t left = r->not_after - f->now;

	if (!pkix_ok && r->dane_ok && !sts) {
		F(j, CHECK_SMTP_PKIX_IGNORED, "%s [%s]: %s", m->name,
		  r->address,
		  r->verify_error != 0 ? r->verify_msg : "name mismatch");
		return;
	}
	if (is_expired(r->verify_error))
		F(j, CHECK_SMTP_CERT_EXPIRED, "%s [%s]", m->name, r->address);
	else if (r->verify_error != 0)
		F(j, CHECK_SMTP_CERT_UNTRUSTED, "%s [%s]: %s", m->name,
		  r->address, r->verify_msg);
	if (!r->name_ok)
		F(j, CHECK_SMTP_CERT_NAME, "%s [%s]: not in {%s}", m->name,
		  r->address, r->subject_names);
	if (left > 0 && left < EXPIRY_WARN)
		F(j, CHECK_SMTP_CERT_EXPIRING, "%s [%s]: %lld days left",
		  m->name, r->address, (long long)(left / 86400));
	if (pkix_ok)
		F(j, CHECK_SMTP_OK, "%s [%s]: %s, %s", m->name, r->address,
		  r->tls_version, r->banner_host);
}

/*
 * One handshake that DANE did not authenticate: why, as the publisher
 * should hear it.  Digest agility (RFC 7671 §9) fails a set in which a
 * weaker digest matches; otherwise nothing matched (RFC 7672 §3.2).
 */
static void
judge_dane_failure(struct check_judgement *j, const struct mx_fact *m,
                   const struct probe_fact *p)
{
	const struct tlsa_lookup *t = m->dh.dane_at;

	if (p->have_fit && p->fit.fit == MTS_DANE_FIT_AGILITY)
		F(j, CHECK_DANE_DIGEST_AGILITY,
		  "%s [%s]: a weaker digest of _25._tcp.%s matches", m->name,
		  p->r->address, t->base);
	else
		F(j, CHECK_DANE_MISMATCH, "%s [%s]: %s", m->name, p->r->address,
		  p->r->dane_msg);
}

/* What a client without SNI gets from a DANE host (RFC 7672 §8.1). */
static void
judge_dane_no_sni(struct check_judgement *j, const struct mx_fact *m)
{
	const struct probe_result *r = m->no_sni.r;

	if (r == NULL)
		return;
	if (r->stage != PROBE_DONE)
		F(j, CHECK_DANE_SNI_REQUIRED, "%s [%s]: without SNI: %s",
		  m->name, r->address, r->why);
	else if (!r->dane_ok)
		F(j, CHECK_DANE_SNI_REQUIRED,
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
judge_dane_success(struct check_judgement *j, const struct mx_fact *m,
                   const struct probe_fact *p)
{
	const struct tlsa_lookup *t = m->dh.dane_at;

	judge_dane_no_sni(j, m);
	if (p->have_fit && p->fit.combo_unmatched)
		F(j, CHECK_DANE_COMBINATION,
		  "_25._tcp.%s: %u %u %u matches nothing %s presents", t->base,
		  p->fit.combo_usage, p->fit.combo_selector, p->fit.combo_mtype,
		  m->name);
	F(j, CHECK_DANE_OK, "%s: usage %d%s%s", m->name, p->r->dane_usage,
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
judge_dane_secure(struct check_judgement *j, const struct check_facts *f,
                  const struct mx_fact *m)
{
	const struct tlsa_lookup *t = m->dh.dane_at;
	const struct probe_fact *p, *first = NULL;
	size_t i, matched = 0, judged = 0;
	struct mts_diag lint;

	mts_diag_init(&lint);
	for (i = 0; i < t->count; i++)
		mts_dane_tlsa_lint(&t->tlsa[i], &lint);
	copy_findings(j, &lint);
	mts_diag_reset(&lint);
	if (f->mx.dnssec != MTS_DNSSEC_SECURE && !facts_mx_implicit(f))
		F(j, CHECK_DANE_MX_INSECURE, "%s (MX records %s)", m->name,
		  mts_dnssec_name(f->mx.dnssec));
	for (i = 0; i < m->probe_count; i++)
		if ((p = &m->probes[i])->r != NULL &&
		    offers_no_tls(p->r->stage))
			F(j, CHECK_DANE_TLS_REQUIRED,
			  "%s [%s]: %s, with %zu TLSA record%s at %s", m->name,
			  p->r->address, probe_stage_name(p->r->stage),
			  t->records, t->records == 1 ? "" : "s", t->base);
	if (dane_host_usable(t) == 0) {
		F(j, CHECK_DANE_UNUSABLE, "_25._tcp.%s", t->base);
		return;
	}
	for (i = 0; i < m->probe_count; i++) {
		p = &m->probes[i];
		if (p->r == NULL || p->r->stage != PROBE_DONE)
			continue;
		judged++;
		if (!p->r->dane_ok)
			judge_dane_failure(j, m, p);
		else if (matched++ == 0)
			first = p;
	}
	if (judged > 0 && matched == judged)
		judge_dane_success(j, m, first);
}

/* DANE for one host (RFC 7672 §2.2, §3; checklist §20-§23). */
static void
judge_dane(struct check_judgement *j, const struct check_facts *f,
           const struct mx_fact *m)
{
	const struct tlsa_lookup *t = m->dh.dane_at;
	char why[MTS_DNAME_MAX * 2 + 128];

	switch (m->dh.dane) {
	case DANE_NONE:
		F(j, CHECK_DANE_NONE, "_25._tcp.%s", m->name);
		break;
	case DANE_INSECURE:
		F(j, CHECK_DANE_INSECURE, "_25._tcp.%s: %zu record%s", t->base,
		  t->records, t->records == 1 ? "" : "s");
		break;
	case DANE_IGNORED:
		F(j, CHECK_DANE_IGNORED, "_25._tcp.%s: %s", t->base,
		  dane_host_why_not(&m->dh, why, sizeof(why)));
		break;
	case DANE_BOGUS:
		F(j, CHECK_DANE_BOGUS, "_25._tcp.%s", t->base);
		break;
	case DANE_LOOKUP_FAILED:
		F(j, CHECK_DANE_LOOKUP_FAILED, "_25._tcp.%s: %s", t->base,
		  mts_dns_rcode_name(t->rcode));
		break;
	case DANE_SECURE:
		judge_dane_secure(j, f, m);
		break;
	}
}

/* The probes of one MX host, then DANE. */
static void
judge_mx_host(struct check_judgement *j, const struct check_facts *f,
              const struct mx_fact *m)
{
	const struct probe_result *r;
	size_t i;

	for (i = 0; i < m->probe_count; i++) {
		if ((r = m->probes[i].r) == NULL)
			continue;
		if (r->stage != PROBE_DONE)
			F(j, probe_code(r->stage), "%s [%s]: %s", m->name,
			  r->address, r->why);
		else
			judge_cert(j, f, m, r);
	}
	if (probing(m))
		judge_dane(j, f, m);
}

/* ---- state: the id and digest of the last policy seen ---- */

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

/* RFC 8461 §3.1: a new policy must come with a new id. */
static void
judge_state(struct check_judgement *j, const struct check_facts *f,
            const struct fetch_result *policy)
{
	const struct state_fact *s = &f->state;

	if (!s->enabled || !j->have_policy || j->id == NULL)
		return;
	if (digest_hex(policy->body, policy->body_len, j->digest) != 0) {
		F(j, CHECK_INTERNAL, "%s: no SHA-256 of the policy for --state",
		  f->domain);
		return;
	}
	j->save_state = true;
	if (!s->have_old)
		return;
	if (strcmp(s->old_id, j->id) == 0 &&
	    strcmp(s->old_digest, j->digest) != 0)
		F(j, CHECK_POLICY_SAME_ID,
		  "id %s: the body changed since the last check", j->id);
	else if (strcmp(s->old_id, j->id) != 0)
		F(j, CHECK_POLICY_ID_CHANGED, "%s -> %s", s->old_id, j->id);
}

static void
judge_dnssec(struct check_judgement *j, const struct check_facts *f)
{
	if (!f->zone_dnssec_known || f->zone_dnssec == MTS_DNSSEC_BOGUS)
		return;
	if (f->zone_dnssec == MTS_DNSSEC_SECURE)
		F(j, CHECK_DNSSEC_SECURE, "%s", f->domain);
	else
		F(j, CHECK_DNSSEC_INSECURE, "%s", f->domain);
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

void
check_judge(const struct check_facts *f, struct check_judgement *j)
{
	const struct fetch_result *policy;
	bool host_missing = false;
	int sts_missing = -1;
	size_t i;

	memset(j, 0, sizeof(*j));
	mts_diag_init(&j->diag);
	judge_sts_record(j, f, &sts_missing);
	judge_tlsrpt_record(j, f);
	judge_mx_records(j, f);
	judge_policy_host(j, f, &host_missing);
	for (i = 0; i < f->host_count && i < CHECK_MAX_MX; i++)
		judge_mx_host_lookups(j, f, f->hosts[i]);
	judge_absent(j, f, sts_missing, host_missing);
	policy = judge_policy(j, f);
	judge_coverage(j, f);
	for (i = 0; i < f->host_count; i++)
		judge_mx_host(j, f, f->hosts[i]);
	judge_state(j, f, policy);
	judge_dnssec(j, f);
	j->verdict = verdict_of(&j->diag);
	j->mode = j->have_policy ? mts_sts_mode_name(j->policy.mode) : NULL;
}

void
check_judgement_reset(struct check_judgement *j)
{
	mts_diag_reset(&j->diag);
	mts_sts_policy_reset(&j->policy);
}
