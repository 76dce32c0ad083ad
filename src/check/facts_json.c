/* SPDX-License-Identifier: ISC */
/*
 * The facts of one domain as JSON (facts_json.h), with jansson.  Every
 * field the judge reads is written; what it does not read (ciphers,
 * certificate chains, the TLSA lookups' own callbacks) is not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "facts_json.h"

#define FACTS_VERSION 1

/* ---- writing ---- */

/* Octets as a JSON string, or {"hex": ...} when they are not UTF-8. */
static json_t *
bytes_json(const char *s, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	json_t *v = NULL;
	char *hex;
	size_t i;

	if (memchr(s, '\0', len) == NULL && (v = json_stringn(s, len)) != NULL)
		return v;
	if ((hex = malloc(2 * len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[(unsigned char)s[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)s[i] & 0x0f];
	}
	hex[2 * len] = '\0';
	v = json_pack("{s:s}", "hex", hex);
	free(hex);
	return v;
}

static json_t *
str_json(const char *s)
{
	return s != NULL ? bytes_json(s, strlen(s)) : json_null();
}

/* Sets o[key] = v; a NULL v (out of memory) fails the whole. */
static void
put(json_t *o, const char *key, json_t *v, int *bad)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*bad = 1;
}

static json_t *
dns_fact_json(const struct dns_fact *d)
{
	json_t *o = json_object(), *list = json_array();
	size_t i;
	int bad = o == NULL || list == NULL;

	for (i = 0; !bad && d->txt != NULL && i < d->count; i++)
		bad |= json_array_append_new(list,
		                             bytes_json(d->txt[i],
		                                        d->txt_len[i])) != 0;
	for (i = 0; !bad && d->mx != NULL && i < d->count; i++)
		bad |=
		    json_array_append_new(list,
		                          json_pack("[i,o]",
		                                    d->mx[i].preference,
		                                    str_json(d->mx[i].host))) !=
		    0;
	put(o, "done", json_boolean(d->done), &bad);
	put(o, "not_started", json_boolean(d->not_started), &bad);
	put(o, "nomem", json_boolean(d->nomem), &bad);
	put(o, "qname", str_json(d->qname), &bad);
	put(o, "qtype", json_integer(d->qtype), &bad);
	put(o, "rcode", json_string(mts_dns_rcode_name(d->rcode)), &bad);
	put(o, "dnssec", json_string(mts_dnssec_name(d->dnssec)), &bad);
	put(o, "why", str_json(d->why), &bad);
	put(o, "records", list, &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
rrset_json(const struct rrset *r)
{
	json_t *o = json_object(), *list = json_array();
	size_t i;
	int bad = o == NULL || list == NULL;

	for (i = 0; !bad && i < r->count; i++)
		bad |= json_array_append_new(list, str_json(r->addr[i])) != 0;
	put(o, "done", json_boolean(r->done), &bad);
	put(o, "not_started", json_boolean(r->not_started), &bad);
	put(o, "rcode", json_string(mts_dns_rcode_name(r->rcode)), &bad);
	put(o, "dnssec", json_string(mts_dnssec_name(r->dnssec)), &bad);
	put(o, "why", str_json(r->why), &bad);
	put(o, "canonical", str_json(r->canonical), &bad);
	put(o, "addr", list, &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
tlsa_json(const struct tlsa_lookup *t)
{
	json_t *o = json_object(), *list = json_array();
	const struct mts_dane_tlsa *r;
	char *hex;
	size_t i, k;
	int bad = o == NULL || list == NULL;

	for (i = 0; !bad && i < t->count; i++) {
		r = &t->tlsa[i];
		if ((hex = malloc(2 * r->data_len + 1)) == NULL) {
			bad = 1;
			break;
		}
		for (k = 0; k < r->data_len; k++)
			snprintf(hex + 2 * k, 3, "%02x", r->data[k]);
		hex[2 * r->data_len] = '\0';
		bad |= json_array_append_new(list,
		                             json_pack("[i,i,i,s]", r->usage,
		                                       r->selector, r->mtype,
		                                       hex)) != 0;
		free(hex);
	}
	put(o, "started", json_boolean(t->started), &bad);
	put(o, "done", json_boolean(t->done), &bad);
	put(o, "base", str_json(t->base), &bad);
	put(o, "rcode", json_string(mts_dns_rcode_name(t->rcode)), &bad);
	put(o, "dnssec", json_string(mts_dnssec_name(t->dnssec)), &bad);
	put(o, "records", json_integer((json_int_t)t->records), &bad);
	put(o, "tlsa", list, &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
fetch_json(const struct fetch_fact *p)
{
	const struct fetch_result *r = p->r;
	json_t *o = json_object(), *res;
	int bad = o == NULL;

	put(o, "address", str_json(p->address), &bad);
	put(o, "started", json_boolean(p->started), &bad);
	if (r == NULL || bad)
		goto out;
	res = json_object();
	put(o, "result", res, &bad);
	if (bad)
		goto out;
	put(res, "stage", json_string(fetch_stage_name(r->stage)), &bad);
	put(res, "why", str_json(r->why), &bad);
	put(res, "address", str_json(r->address), &bad);
	put(res, "tls_version", str_json(r->tls_version), &bad);
	put(res, "have_cert", json_boolean(r->have_cert), &bad);
	put(res, "verify_error", json_integer(r->verify_error), &bad);
	put(res, "verify_msg", str_json(r->verify_msg), &bad);
	put(res, "name_ok", json_boolean(r->name_ok), &bad);
	put(res, "not_after", json_integer(r->not_after), &bad);
	put(res, "subject_names", str_json(r->subject_names), &bad);
	put(res, "status", json_integer(r->status), &bad);
	put(res, "content_type_present", json_boolean(r->content_type_present),
	    &bad);
	put(res, "content_type", str_json(r->content_type), &bad);
	put(res, "location", str_json(r->location), &bad);
	put(res, "body",
	    r->body != NULL ? bytes_json(r->body, r->body_len) : json_null(),
	    &bad);
out:
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
probe_json(const struct probe_fact *p)
{
	const struct probe_result *r = p->r;
	json_t *o = json_object(), *res;
	int bad = o == NULL;

	put(o, "address", str_json(p->address), &bad);
	put(o, "started", json_boolean(p->started), &bad);
	if (p->have_fit)
		put(o, "fit",
		    json_pack("{s:i,s:I,s:I,s:b,s:i,s:i,s:i}", "fit",
		              p->fit.fit, "usable", (json_int_t)p->fit.usable,
		              "matching", (json_int_t)p->fit.matching,
		              "combo_unmatched", p->fit.combo_unmatched,
		              "combo_usage", p->fit.combo_usage,
		              "combo_selector", p->fit.combo_selector,
		              "combo_mtype", p->fit.combo_mtype),
		    &bad);
	if (r == NULL || bad)
		goto out;
	res = json_object();
	put(o, "result", res, &bad);
	if (bad)
		goto out;
	put(res, "stage", json_string(probe_stage_name(r->stage)), &bad);
	put(res, "why", str_json(r->why), &bad);
	put(res, "address", str_json(r->address), &bad);
	put(res, "banner_host", str_json(r->banner_host), &bad);
	put(res, "tls_version", str_json(r->tls_version), &bad);
	put(res, "have_cert", json_boolean(r->have_cert), &bad);
	put(res, "verify_error", json_integer(r->verify_error), &bad);
	put(res, "verify_msg", str_json(r->verify_msg), &bad);
	put(res, "name_ok", json_boolean(r->name_ok), &bad);
	put(res, "not_after", json_integer(r->not_after), &bad);
	put(res, "subject_names", str_json(r->subject_names), &bad);
	put(res, "dane_checked", json_boolean(r->dane_checked), &bad);
	put(res, "dane_ok", json_boolean(r->dane_ok), &bad);
	put(res, "dane_usage", json_integer(r->dane_usage), &bad);
	put(res, "dane_depth", json_integer(r->dane_depth), &bad);
	put(res, "dane_msg", str_json(r->dane_msg), &bad);
out:
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
host_json(const struct mx_fact *m)
{
	const struct dane_host *h = &m->dh;
	json_t *o = json_object(), *probes = json_array();
	size_t i;
	int bad = o == NULL || probes == NULL;

	for (i = 0; !bad && i < m->probe_count; i++)
		bad |= json_array_append_new(probes,
		                             probe_json(&m->probes[i])) != 0;
	put(o, "name", str_json(m->name), &bad);
	put(o, "pref", json_integer(m->pref), &bad);
	put(o, "ready", json_boolean(m->ready), &bad);
	put(o, "nomem", json_boolean(h->nomem), &bad);
	put(o, "a", rrset_json(&h->a), &bad);
	put(o, "aaaa", rrset_json(&h->aaaa), &bad);
	put(o, "cname", rrset_json(&h->cname), &bad);
	put(o, "cname_started", json_boolean(h->cname_started), &bad);
	put(o, "tlsa",
	    json_pack("[o,o]", tlsa_json(&h->tlsa[0]), tlsa_json(&h->tlsa[1])),
	    &bad);
	put(o, "probes", probes, &bad);
	put(o, "no_sni",
	    m->no_sni.started || m->no_sni.r != NULL ? probe_json(&m->no_sni) :
	                                               json_null(),
	    &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
facts_json(const struct check_facts *f)
{
	json_t *o = json_object(), *fetches = json_array(),
	       *hosts = json_array();
	size_t i;
	int bad = o == NULL || fetches == NULL || hosts == NULL;

	for (i = 0; !bad && i < f->fetch_count; i++)
		bad |= json_array_append_new(fetches,
		                             fetch_json(&f->fetches[i])) != 0;
	for (i = 0; !bad && i < f->host_count; i++)
		bad |=
		    json_array_append_new(hosts, host_json(f->hosts[i])) != 0;
	put(o, "version", json_integer(FACTS_VERSION), &bad);
	put(o, "domain", str_json(f->domain), &bad);
	put(o, "now", json_integer(f->now), &bad);
	put(o, "no_smtp", json_boolean(f->no_smtp), &bad);
	put(o, "sts", dns_fact_json(&f->sts), &bad);
	put(o, "tlsrpt", dns_fact_json(&f->tlsrpt), &bad);
	put(o, "mx", dns_fact_json(&f->mx), &bad);
	put(o, "zone_dnssec",
	    f->zone_dnssec_known ?
	        json_string(mts_dnssec_name(f->zone_dnssec)) :
	        json_null(),
	    &bad);
	put(o, "host_a", rrset_json(&f->host_a), &bad);
	put(o, "host_aaaa", rrset_json(&f->host_aaaa), &bad);
	put(o, "host_nomem", json_boolean(f->host_nomem), &bad);
	put(o, "fetches", fetches, &bad);
	put(o, "mx_nomem", json_boolean(f->mx_nomem), &bad);
	put(o, "hosts", hosts, &bad);
	if (f->state.enabled)
		put(o, "state",
		    json_pack("{s:b,s:s,s:s}", "have_old", f->state.have_old,
		              "old_id", f->state.old_id, "old_digest",
		              f->state.old_digest),
		    &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
facts_json_save(const struct check_facts *f, const char *dir)
{
	char path[4096], tmp[4200];
	json_t *o;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s.json", dir, f->domain);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((o = facts_json(f)) == NULL) {
		fprintf(stderr, "mtasts: check: facts of %s: out of memory\n",
		        f->domain);
		return -1;
	}
	if (json_dump_file(o, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
	    rename(tmp, path) != 0)
		fprintf(stderr, "mtasts: check: cannot write %s: %s\n", path,
		        strerror(errno));
	else
		rc = 0;
	json_decref(o);
	return rc;
}

/* ---- reading ---- */

struct reader {
	char *why;
	size_t size;
	int bad;
};

static void
rd_fail(struct reader *rd, const char *what)
{
	if (!rd->bad)
		snprintf(rd->why, rd->size, "bad or missing %s", what);
	rd->bad = 1;
}

static int
hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Hex text as octets into out (room for len / 2); 0 or -1. */
static int
unhex(const char *s, size_t len, uint8_t *out)
{
	size_t i;
	int hi, lo;

	if (len % 2 != 0)
		return -1;
	for (i = 0; i < len / 2; i++) {
		if ((hi = hex_val(s[2 * i])) < 0 ||
		    (lo = hex_val(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * A string or {"hex": ...} as allocated octets with a NUL after them;
 * NULL for JSON null (and, with rd->bad set, on failure).
 */
static char *
get_bytes(struct reader *rd, json_t *v, size_t *len, const char *what)
{
	json_t *hex = json_is_object(v) ? json_object_get(v, "hex") : NULL;
	const char *s;
	char *out;
	size_t n;

	*len = 0;
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(hex != NULL ? hex : v)) {
		rd_fail(rd, what);
		return NULL;
	}
	s = json_string_value(hex != NULL ? hex : v);
	n = json_string_length(hex != NULL ? hex : v);
	if ((out = malloc(n + 1)) == NULL) {
		rd_fail(rd, "memory");
		return NULL;
	}
	if (hex == NULL) {
		memcpy(out, s, n);
	} else if (unhex(s, n, (uint8_t *)out) == 0) {
		n /= 2;
	} else {
		free(out);
		rd_fail(rd, what);
		return NULL;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

static char *
get_str(struct reader *rd, json_t *o, const char *key)
{
	size_t len;

	return get_bytes(rd, json_object_get(o, key), &len, key);
}

/* A text field of a result, cut to its array. */
static void
get_text(struct reader *rd, json_t *o, const char *key, char *buf, size_t size)
{
	char *s = get_str(rd, o, key);

	snprintf(buf, size, "%s", s != NULL ? s : "");
	free(s);
}

static bool
get_bool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static json_int_t
get_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* An enum by the name its _name() function gives; -1: none. */
static int
get_enum(struct reader *rd, json_t *o, const char *key,
         const char *(*name)(int), int max)
{
	const char *s = json_string_value(json_object_get(o, key));
	int i;

	for (i = 0; s != NULL && i <= max; i++)
		if (strcmp(s, name(i)) == 0)
			return i;
	rd_fail(rd, key);
	return 0;
}

static const char *
rcode_name(int i)
{
	return mts_dns_rcode_name((enum mts_dns_rcode)i);
}

static const char *
dnssec_name(int i)
{
	return mts_dnssec_name((enum mts_dnssec)i);
}

static const char *
fetch_name(int i)
{
	return fetch_stage_name((enum fetch_stage)i);
}

static const char *
probe_name(int i)
{
	return probe_stage_name((enum probe_stage)i);
}

#define RCODE(rd, o)                                                           \
	((enum mts_dns_rcode)get_enum(rd, o, "rcode", rcode_name, 5))
#define DNSSEC(rd, o)                                                          \
	((enum mts_dnssec)get_enum(rd, o, "dnssec", dnssec_name, 2))

static void
load_dns_fact(struct reader *rd, json_t *o, struct dns_fact *d)
{
	json_t *list = json_object_get(o, "records"), *v;
	size_t i, n = json_array_size(list), len;
	bool is_txt;

	if (!json_is_object(o) || !json_is_array(list)) {
		rd_fail(rd, "DNS answer");
		return;
	}
	d->done = get_bool(o, "done");
	d->not_started = get_bool(o, "not_started");
	d->nomem = get_bool(o, "nomem");
	d->qname = get_str(rd, o, "qname");
	d->qtype = (uint16_t)get_int(o, "qtype");
	d->rcode = RCODE(rd, o);
	d->dnssec = DNSSEC(rd, o);
	d->why = get_str(rd, o, "why");
	if (n == 0 || rd->bad)
		return;
	is_txt = d->qtype == MTS_DNS_TYPE_TXT;
	if (is_txt) {
		d->txt = calloc(n, sizeof(*d->txt));
		d->txt_len = calloc(n, sizeof(*d->txt_len));
	} else {
		d->mx = calloc(n, sizeof(*d->mx));
	}
	if (is_txt ? d->txt == NULL || d->txt_len == NULL : d->mx == NULL) {
		rd_fail(rd, "memory");
		return;
	}
	d->count = n;
	for (i = 0; i < n; i++) {
		v = json_array_get(list, i);
		if (is_txt) {
			d->txt[i] = get_bytes(rd, v, &len, "TXT record");
			d->txt_len[i] = len;
		} else {
			d->mx[i].preference =
			    (uint16_t)json_integer_value(json_array_get(v, 0));
			d->mx[i].host = get_bytes(rd, json_array_get(v, 1),
			                          &len, "MX record");
		}
		if ((is_txt ? d->txt[i] : d->mx[i].host) == NULL)
			rd_fail(rd, "record");
	}
}

static void
load_rrset(struct reader *rd, json_t *o, struct rrset *r)
{
	json_t *list = json_object_get(o, "addr");
	size_t i, n = json_array_size(list), len;

	if (!json_is_object(o) || !json_is_array(list)) {
		rd_fail(rd, "address answer");
		return;
	}
	r->done = get_bool(o, "done");
	r->not_started = get_bool(o, "not_started");
	r->rcode = RCODE(rd, o);
	r->dnssec = DNSSEC(rd, o);
	r->why = get_str(rd, o, "why");
	r->canonical = get_str(rd, o, "canonical");
	if (n == 0)
		return;
	if ((r->addr = calloc(n, sizeof(*r->addr))) == NULL) {
		rd_fail(rd, "memory");
		return;
	}
	for (i = 0; i < n; i++, r->count++)
		if ((r->addr[i] = get_bytes(rd, json_array_get(list, i), &len,
		                            "address")) == NULL)
			rd_fail(rd, "address");
}

static void
load_tlsa(struct reader *rd, json_t *o, struct dane_host *h,
          struct tlsa_lookup *t)
{
	json_t *list = json_object_get(o, "tlsa"), *v;
	struct mts_dane_tlsa *r;
	const char *hex;
	size_t i, n = json_array_size(list);

	if (!json_is_object(o) || !json_is_array(list)) {
		rd_fail(rd, "TLSA answer");
		return;
	}
	t->host = h;
	t->started = get_bool(o, "started");
	t->done = get_bool(o, "done");
	t->base = get_str(rd, o, "base");
	t->rcode = RCODE(rd, o);
	t->dnssec = DNSSEC(rd, o);
	t->records = (size_t)get_int(o, "records");
	if (n == 0)
		return;
	if ((t->tlsa = calloc(n, sizeof(*t->tlsa))) == NULL) {
		rd_fail(rd, "memory");
		return;
	}
	for (i = 0; i < n; i++, t->count++) {
		v = json_array_get(list, i);
		r = &t->tlsa[i];
		r->usage = (uint8_t)json_integer_value(json_array_get(v, 0));
		r->selector = (uint8_t)json_integer_value(json_array_get(v, 1));
		r->mtype = (uint8_t)json_integer_value(json_array_get(v, 2));
		hex = json_string_value(json_array_get(v, 3));
		r->data_len = hex != NULL ? strlen(hex) / 2 : 0;
		if (hex == NULL ||
		    (r->data = malloc(r->data_len + 1)) == NULL ||
		    unhex(hex, strlen(hex), r->data) != 0)
			rd_fail(rd, "TLSA record");
	}
}

static struct fetch_result *
load_fetch(struct reader *rd, json_t *o)
{
	struct fetch_result *r;
	size_t len;

	if (!json_is_object(o))
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rd_fail(rd, "memory");
		return NULL;
	}
	r->stage = (enum fetch_stage)get_enum(rd, o, "stage", fetch_name,
	                                      FETCH_TIMEOUT);
	get_text(rd, o, "why", r->why, sizeof(r->why));
	get_text(rd, o, "address", r->address, sizeof(r->address));
	get_text(rd, o, "tls_version", r->tls_version, sizeof(r->tls_version));
	r->have_cert = get_bool(o, "have_cert");
	r->verify_error = (long)get_int(o, "verify_error");
	get_text(rd, o, "verify_msg", r->verify_msg, sizeof(r->verify_msg));
	r->name_ok = get_bool(o, "name_ok");
	r->not_after = get_int(o, "not_after");
	get_text(rd, o, "subject_names", r->subject_names,
	         sizeof(r->subject_names));
	r->status = (int)get_int(o, "status");
	r->content_type_present = get_bool(o, "content_type_present");
	get_text(rd, o, "content_type", r->content_type,
	         sizeof(r->content_type));
	get_text(rd, o, "location", r->location, sizeof(r->location));
	r->body = get_bytes(rd, json_object_get(o, "body"), &len, "body");
	r->body_len = len;
	return r;
}

static void
load_probe(struct reader *rd, json_t *o, struct probe_fact *p)
{
	json_t *res = json_object_get(o, "result"), *fit;
	struct probe_result *r;

	get_text(rd, o, "address", p->address, sizeof(p->address));
	p->started = get_bool(o, "started");
	if ((fit = json_object_get(o, "fit")) != NULL) {
		p->have_fit = true;
		p->fit.fit = (enum mts_dane_fit)get_int(fit, "fit");
		p->fit.usable = (size_t)get_int(fit, "usable");
		p->fit.matching = (size_t)get_int(fit, "matching");
		p->fit.combo_unmatched = get_bool(fit, "combo_unmatched");
		p->fit.combo_usage = (uint8_t)get_int(fit, "combo_usage");
		p->fit.combo_selector = (uint8_t)get_int(fit, "combo_selector");
		p->fit.combo_mtype = (uint8_t)get_int(fit, "combo_mtype");
	}
	if (!json_is_object(res))
		return;
	if ((r = p->r = calloc(1, sizeof(*r))) == NULL) {
		rd_fail(rd, "memory");
		return;
	}
	r->stage = (enum probe_stage)get_enum(rd, res, "stage", probe_name,
	                                      PROBE_TIMEOUT);
	get_text(rd, res, "why", r->why, sizeof(r->why));
	get_text(rd, res, "address", r->address, sizeof(r->address));
	get_text(rd, res, "banner_host", r->banner_host,
	         sizeof(r->banner_host));
	get_text(rd, res, "tls_version", r->tls_version,
	         sizeof(r->tls_version));
	r->have_cert = get_bool(res, "have_cert");
	r->verify_error = (long)get_int(res, "verify_error");
	get_text(rd, res, "verify_msg", r->verify_msg, sizeof(r->verify_msg));
	r->name_ok = get_bool(res, "name_ok");
	r->not_after = get_int(res, "not_after");
	get_text(rd, res, "subject_names", r->subject_names,
	         sizeof(r->subject_names));
	r->dane_checked = get_bool(res, "dane_checked");
	r->dane_ok = get_bool(res, "dane_ok");
	r->dane_usage = (int)get_int(res, "dane_usage");
	r->dane_depth = (int)get_int(res, "dane_depth");
	get_text(rd, res, "dane_msg", r->dane_msg, sizeof(r->dane_msg));
}

static void
load_host(struct reader *rd, json_t *o, struct mx_fact *m)
{
	json_t *probes = json_object_get(o, "probes");
	json_t *tlsa = json_object_get(o, "tlsa");
	struct dane_host *h = &m->dh;
	size_t i;

	m->pref = (uint16_t)get_int(o, "pref");
	m->ready = get_bool(o, "ready");
	h->name = m->name;
	h->port = 25;
	h->nomem = get_bool(o, "nomem");
	h->cname_started = get_bool(o, "cname_started");
	load_rrset(rd, json_object_get(o, "a"), &h->a);
	load_rrset(rd, json_object_get(o, "aaaa"), &h->aaaa);
	load_rrset(rd, json_object_get(o, "cname"), &h->cname);
	load_tlsa(rd, json_array_get(tlsa, 0), h, &h->tlsa[0]);
	load_tlsa(rd, json_array_get(tlsa, 1), h, &h->tlsa[1]);
	for (i = 0; i < json_array_size(probes) && i < CHECK_SLOTS; i++)
		load_probe(rd, json_array_get(probes, i),
		           &m->probes[m->probe_count++]);
	if (json_is_object(json_object_get(o, "no_sni")))
		load_probe(rd, json_object_get(o, "no_sni"), &m->no_sni);
	if (m->ready && !rd->bad)
		dane_decide(h);
}

static void
load_facts(struct reader *rd, json_t *o, struct check_facts *f)
{
	json_t *fetches = json_object_get(o, "fetches");
	json_t *hosts = json_object_get(o, "hosts"), *v, *st;
	struct fetch_fact *p;
	char *name;
	size_t i;

	f->now = get_int(o, "now");
	f->no_smtp = get_bool(o, "no_smtp");
	load_dns_fact(rd, json_object_get(o, "sts"), &f->sts);
	load_dns_fact(rd, json_object_get(o, "tlsrpt"), &f->tlsrpt);
	load_dns_fact(rd, json_object_get(o, "mx"), &f->mx);
	if (json_is_string(json_object_get(o, "zone_dnssec"))) {
		f->zone_dnssec_known = true;
		f->zone_dnssec =
		    (enum mts_dnssec)get_enum(rd, o, "zone_dnssec", dnssec_name,
		                              MTS_DNSSEC_BOGUS);
	}
	load_rrset(rd, json_object_get(o, "host_a"), &f->host_a);
	load_rrset(rd, json_object_get(o, "host_aaaa"), &f->host_aaaa);
	f->host_nomem = get_bool(o, "host_nomem");
	for (i = 0; i < json_array_size(fetches) && i < CHECK_SLOTS; i++) {
		v = json_array_get(fetches, i);
		p = &f->fetches[f->fetch_count++];
		get_text(rd, v, "address", p->address, sizeof(p->address));
		p->started = get_bool(v, "started");
		p->r = load_fetch(rd, json_object_get(v, "result"));
	}
	f->mx_nomem = get_bool(o, "mx_nomem");
	for (i = 0; i < json_array_size(hosts) && !rd->bad; i++) {
		v = json_array_get(hosts, i);
		if ((name = get_str(rd, v, "name")) == NULL ||
		    facts_add_host(f, name, 0) != 0)
			rd_fail(rd, "MX host");
		else
			load_host(rd, v, f->hosts[f->host_count - 1]);
		free(name);
	}
	if ((st = json_object_get(o, "state")) != NULL) {
		f->state.enabled = true;
		f->state.have_old = get_bool(st, "have_old");
		get_text(rd, st, "old_id", f->state.old_id,
		         sizeof(f->state.old_id));
		get_text(rd, st, "old_digest", f->state.old_digest,
		         sizeof(f->state.old_digest));
	}
}

int
facts_json_load(const char *path, struct check_facts *f, char *why, size_t size)
{
	struct reader rd = {why, size, 0};
	json_error_t err;
	json_t *o;
	char *domain;

	memset(f, 0, sizeof(*f));
	if ((o = json_load_file(path, 0, &err)) == NULL) {
		snprintf(why, size, "line %d: %s", err.line, err.text);
		return -1;
	}
	if (get_int(o, "version") != FACTS_VERSION ||
	    (domain = get_str(&rd, o, "domain")) == NULL) {
		snprintf(why, size, "not facts of version %d", FACTS_VERSION);
		json_decref(o);
		return -1;
	}
	if (facts_init(f, domain, 0) != 0)
		rd_fail(&rd, "memory");
	free(domain);
	if (!rd.bad)
		load_facts(&rd, o, f);
	json_decref(o);
	return rd.bad ? -1 : 0;
}
