/* SPDX-License-Identifier: ISC */
/*
 * The configuration sets of the server process.  A set is built whole
 * from a bundle the parent sent (its domains, their policies and fixed
 * response heads, one TLS context and the certificates), then swapped in;
 * it is reference counted, so connections keep the set they started with
 * until they close.  Names are found in an open-addressing table, for
 * the Host field of each request and for the TLS SNI, which picks the
 * certificate (RFC 8461 §3.3).
 */
#define _GNU_SOURCE /* asprintf(3) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <mtasts/mtasts.h>

#include "server_int.h"

static uint64_t
name_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static const struct domain *
set_lookup(const struct set *set, const char *name, size_t n)
{
	size_t i = (size_t)name_hash(name, n) & set->table_mask;
	const struct domain *d;

	while ((d = set->table[i]) != NULL) {
		if (d->name_len == n && memcmp(d->name, name, n) == 0)
			return d;
		i = (i + 1) & set->table_mask;
	}
	return NULL;
}

/* The Host field or SNI names mta-sts.<domain>. */
const struct domain *
set_find_host(const struct set *set, const char *host, size_t n)
{
	char name[MTS_DNAME_MAX + 16];
	const char *colon;
	size_t i;

	if (host == NULL || host[0] == '[')
		return NULL;
	if ((colon = memchr(host, ':', n)) != NULL)
		n = (size_t)(colon - host);
	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n <= 8 || n >= sizeof(name))
		return NULL;
	for (i = 0; i < n; i++)
		name[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ?
		                     host[i] - 'A' + 'a' :
		                     host[i]);
	if (memcmp(name, "mta-sts.", 8) != 0)
		return NULL;
	return set_lookup(set, name + 8, n - 8);
}

const struct report_host *
set_find_report_host(const struct set *set, const char *host, size_t n)
{
	const char *colon;
	size_t i, k;

	if (host == NULL || host[0] == '[')
		return NULL;
	if ((colon = memchr(host, ':', n)) != NULL)
		n = (size_t)(colon - host);
	if (n > 0 && host[n - 1] == '.')
		n--;
	for (i = 0; i < set->report_host_count; i++) {
		const struct report_host *r = &set->report_hosts[i];

		if (r->name_len != n)
			continue;
		for (k = 0; k < n; k++)
			if ((host[k] >= 'A' && host[k] <= 'Z' ?
			         host[k] - 'A' + 'a' :
			         host[k]) != r->name[k])
				break;
		if (k == n)
			return r;
	}
	return NULL;
}

/* Presents cert on ssl unless it is the context's own; 0 or an alert. */
static int
sni_use(SSL *ssl, const struct set *set, const struct tls_cert *cert,
        int *alert)
{
	if (cert != set->certs[0] && tls_use_cert(ssl, cert) != 0) {
		ERR_clear_error();
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

/*
 * SNI picks the certificate of mta-sts.<domain> (RFC 8461 §3.3: senders
 * send SNI), or of a host of the report receiver (RFC 8460 §5.4).
 * Unknown names end the handshake with unrecognized_name; a client
 * without SNI gets the only domain when there is just one.
 */
static int
sni_callback(SSL *ssl, int *alert, void *arg)
{
	struct conn *c = SSL_get_app_data(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct report_host *r;
	const struct domain *d;

	(void)arg;
	if (c == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	/* The challenge certificate is chosen (server_acme.c), for a name
	   that may not be served yet: its first certificate. */
	if (c->acme_alpn)
		return SSL_TLSEXT_ERR_OK;
	if (name == NULL) {
		if (c->set->domain_count == 1)
			return SSL_TLSEXT_ERR_OK;
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if ((d = set_find_host(c->set, name, strlen(name))) == NULL) {
		if ((r = set_find_report_host(c->set, name, strlen(name))) !=
		    NULL) {
			c->sni_report = true;
			return sni_use(ssl, c->set, r->cert, alert);
		}
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	c->sni = d;
	return sni_use(ssl, c->set, d->cert, alert);
}

void
set_unref(struct set *set)
{
	size_t i;

	if (set == NULL || --set->refs > 0)
		return;
	for (i = 0; i < set->domain_count; i++) {
		free(set->domains[i].name);
		free(set->domains[i].head);
		free(set->domains[i].body);
	}
	tls_ctx_free(set->ctx);
	for (i = 0; i < set->cert_count; i++)
		tls_cert_free(set->certs[i]);
	free(set->certs);
	free(set->domains);
	free(set->table);
	free(set->cache_control);
	for (i = 0; i < set->report_host_count; i++)
		free(set->report_hosts[i].name);
	free(set->report_hosts);
	free(set->report_path);
	free(set);
}

static int
set_add_domain(struct set *set, struct bundle_domain *bd, size_t k)
{
	struct domain *d = &set->domains[k];
	size_t i;

	d->name = bd->name;
	d->name_len = strlen(bd->name);
	bd->name = NULL;
	d->body = bd->policy;
	d->body_len = bd->policy_len;
	bd->policy = NULL;
	d->cert = set->certs[bd->pair];
	if (asprintf(&d->head,
	             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	             "Content-Length: %zu\r\nCache-Control: %s\r\n",
	             d->body_len, set->cache_control) < 0) {
		d->head = NULL;
		return -1;
	}
	d->head_len = strlen(d->head);
	i = (size_t)name_hash(d->name, d->name_len) & set->table_mask;
	while (set->table[i] != NULL)
		i = (i + 1) & set->table_mask;
	set->table[i] = d;
	return 0;
}

/* The report receiver's part of a set; takes b's strings. */
static int
set_add_report(struct set *set, struct bundle *b)
{
	size_t i;

	if (b->report_path == NULL)
		return 0;
	if ((set->report_hosts = calloc(b->report_host_count,
	                                sizeof(*set->report_hosts))) == NULL)
		return -1;
	set->report_path = b->report_path;
	set->report_path_len = strlen(b->report_path);
	b->report_path = NULL;
	set->report_max_body = b->report_max_body;
	set->report_queue = b->report_queue;
	for (i = 0; i < b->report_host_count; i++, set->report_host_count++) {
		struct report_host *r = &set->report_hosts[i];

		r->name = b->report_hosts[i].name;
		b->report_hosts[i].name = NULL;
		r->name_len = strlen(r->name);
		r->cert = set->certs[b->report_hosts[i].pair];
	}
	return 0;
}

struct set *
set_new(struct bundle *b)
{
	struct set *set;
	size_t i, size = 16;
	char what[64];

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return NULL;
	set->refs = 1;
	set->generation = b->generation;
	set->cache_control = b->cache_control;
	b->cache_control = NULL;
	set->max_connections = b->max_connections;
	set->idle_timeout = b->idle_timeout;
	set->read_timeout = b->read_timeout;
	while (size < b->domain_count * 2)
		size *= 2;
	set->table_mask = size - 1;
	if ((set->certs = calloc(b->pair_count, sizeof(*set->certs))) == NULL ||
	    (set->domains = calloc(b->domain_count, sizeof(*set->domains))) ==
	        NULL ||
	    (set->table = calloc(size, sizeof(*set->table))) == NULL)
		goto fail;
	for (i = 0; i < b->pair_count; i++, set->cert_count++) {
		snprintf(what, sizeof(what), "certificate %zu", i);
		if ((set->certs[i] = tls_cert_new(&b->pairs[i], b->generation,
		                                  (uint32_t)i, what)) == NULL)
			goto fail;
	}
	if ((set->ctx = tls_ctx_new(set->cert_count > 0 ? set->certs[0] : NULL,
	                            "the TLS context")) == NULL)
		goto fail;
	SSL_CTX_set_tlsext_servername_callback(set->ctx, sni_callback);
	acme_tls_setup(set->ctx);
	set->http01_listeners = b->http01_listeners;
	for (i = 0; i < b->domain_count; i++, set->domain_count++)
		if (set_add_domain(set, &b->domains[i], i) != 0)
			goto fail;
	if (set_add_report(set, b) != 0)
		goto fail;
	return set;
fail:
	set_unref(set);
	return NULL;
}
