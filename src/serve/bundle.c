/* SPDX-License-Identifier: ISC */
/*
 * The bundle: the checked configuration set the privileged parent hands
 * to the server process, as one self-delimiting byte string.
 *
 *   "MTSB" u32:version
 *   str:cache-control u32:max-connections u32:idle u32:read u32:generation
 *   u32:pairs   { str:cert-pem str:key-pem }...
 *   u32:domains { str:name str:policy u32:pair }...
 *
 * Version 2 is version 1 with the report receiver after the domains,
 * written only when there is one (so a set without it is the same bytes
 * as before):
 *
 *   str:report-path u32:max-body u32:queue
 *   u32:hosts { str:name u32:pair }...
 *
 * Version 3 adds the plain HTTP-01 listeners (RFC 8555 §8.3) of the
 * acme-http-listen lines, written only when there are some: the last
 * `http01` of the listeners the server process was started with.  The
 * listeners are fixed at start, but the server learns their kinds from
 * its first set, before it makes any listener:
 *
 *   ... domains u32:report(0|1) [the report receiver] u32:http01
 *
 * Integers are big-endian; str is u32 length + bytes.  The decoder trusts
 * nothing: the whole is capped at BUNDLE_MAX, as the encoder caps it,
 * every length is checked against what is left and every pair index
 * against the pair count, with a sticky error (unpack_dns.c style)
 * checked once at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "serve.h"

#define BUNDLE_MAGIC   "MTSB"
#define BUNDLE_VERSION 1u
#define BUNDLE_REPORT  2u /* the version with a report receiver */
#define BUNDLE_HTTP01  3u /* with HTTP-01 listeners */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void
put(struct wbuf *w, const void *data, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (w->failed)
		return;
	if (n > BUNDLE_MAX - w->len) {
		w->failed = true;
		return;
	}
	if (w->len + n > w->cap) {
		cap = w->cap == 0 ? 4096 : w->cap;
		while (cap < w->len + n)
			cap *= 2;
		if ((p = realloc(w->p, cap)) == NULL) {
			w->failed = true;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	if (n != 0) /* a key left out is (NULL, 0) */
		memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void
put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	                (uint8_t)(v >> 8), (uint8_t)v};

	put(w, b, sizeof(b));
}

static void
put_str(struct wbuf *w, const char *s, size_t n)
{
	if (n > UINT32_MAX) {
		w->failed = true;
		return;
	}
	put_u32(w, (uint32_t)n);
	put(w, s, n);
}

int
bundle_encode(const struct bundle *b, uint8_t **out, size_t *len)
{
	struct wbuf w = {NULL, 0, 0, false};
	size_t i;

	put(&w, BUNDLE_MAGIC, 4);
	if (b->http01_listeners != 0)
		put_u32(&w, BUNDLE_HTTP01);
	else
		put_u32(&w,
		        b->report_path != NULL ? BUNDLE_REPORT :
		                                 BUNDLE_VERSION);
	put_str(&w, b->cache_control, strlen(b->cache_control));
	put_u32(&w, b->max_connections);
	put_u32(&w, b->idle_timeout);
	put_u32(&w, b->read_timeout);
	put_u32(&w, b->generation);
	put_u32(&w, (uint32_t)b->pair_count);
	for (i = 0; i < b->pair_count; i++) {
		put_str(&w, b->pairs[i].cert_pem, b->pairs[i].cert_len);
		put_str(&w, b->pairs[i].key_pem, b->pairs[i].key_len);
	}
	put_u32(&w, (uint32_t)b->domain_count);
	for (i = 0; i < b->domain_count; i++) {
		put_str(&w, b->domains[i].name, strlen(b->domains[i].name));
		put_str(&w, b->domains[i].policy, b->domains[i].policy_len);
		put_u32(&w, b->domains[i].pair);
	}
	if (b->http01_listeners != 0)
		put_u32(&w, b->report_path != NULL);
	if (b->report_path != NULL) {
		put_str(&w, b->report_path, strlen(b->report_path));
		put_u32(&w, b->report_max_body);
		put_u32(&w, b->report_queue);
		put_u32(&w, (uint32_t)b->report_host_count);
		for (i = 0; i < b->report_host_count; i++) {
			put_str(&w, b->report_hosts[i].name,
			        strlen(b->report_hosts[i].name));
			put_u32(&w, b->report_hosts[i].pair);
		}
	}
	if (b->http01_listeners != 0)
		put_u32(&w, b->http01_listeners);
	if (w.failed) {
		free(w.p);
		return -1;
	}
	*out = w.p;
	*len = w.len;
	return 0;
}

struct rbuf {
	const uint8_t *p;
	size_t left;
	bool failed;
};

static const uint8_t *
take(struct rbuf *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->failed || n > r->left) {
		r->failed = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint32_t
get_u32(struct rbuf *r)
{
	const uint8_t *b = take(r, 4);

	if (b == NULL)
		return 0;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* A NUL-terminated copy of the next str, its length in *n. */
static char *
get_str(struct rbuf *r, size_t *n)
{
	uint32_t len = get_u32(r);
	const uint8_t *s = take(r, len);
	char *copy;

	if (s == NULL)
		return NULL;
	if ((copy = malloc((size_t)len + 1)) == NULL) {
		r->failed = true;
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	if (n != NULL)
		*n = len;
	return copy;
}

/*
 * A string used as a C string (a domain name, the Cache-Control value):
 * a NUL inside would cut it short and let two encodings mean one set.
 */
static char *
get_text(struct rbuf *r)
{
	size_t len = 0;
	char *s = get_str(r, &len);

	if (s != NULL && memchr(s, '\0', len) != NULL) {
		free(s);
		r->failed = true;
		return NULL;
	}
	return s;
}

/* A count of items of at least `min_size` octets each that can fit. */
static size_t
get_count(struct rbuf *r, size_t min_size)
{
	uint32_t n = get_u32(r);

	if (r->failed || n > r->left / min_size) {
		r->failed = true;
		return 0;
	}
	return n;
}

static void
decode_pairs(struct rbuf *r, struct bundle *b)
{
	size_t i, n = get_count(r, 8);

	if (n == 0 || (b->pairs = calloc(n, sizeof(*b->pairs))) == NULL) {
		r->failed = r->failed || n != 0;
		return;
	}
	b->pair_count = n;
	for (i = 0; i < n && !r->failed; i++) {
		b->pairs[i].cert_pem = get_str(r, &b->pairs[i].cert_len);
		b->pairs[i].key_pem = get_str(r, &b->pairs[i].key_len);
	}
}

static void
decode_domains(struct rbuf *r, struct bundle *b)
{
	size_t i, n = get_count(r, 12);

	if (n == 0 || (b->domains = calloc(n, sizeof(*b->domains))) == NULL) {
		r->failed = r->failed || n != 0;
		return;
	}
	b->domain_count = n;
	for (i = 0; i < n && !r->failed; i++) {
		b->domains[i].name = get_text(r);
		b->domains[i].policy = get_str(r, &b->domains[i].policy_len);
		b->domains[i].pair = get_u32(r);
		if (b->domains[i].pair >= b->pair_count)
			r->failed = true;
	}
}

static void
decode_report(struct rbuf *r, struct bundle *b)
{
	size_t i, n;

	b->report_path = get_text(r);
	b->report_max_body = get_u32(r);
	b->report_queue = get_u32(r);
	n = get_count(r, 8);
	if (r->failed || n == 0 ||
	    (b->report_hosts = calloc(n, sizeof(*b->report_hosts))) == NULL) {
		r->failed = true; /* a receiver answers on some name */
		return;
	}
	b->report_host_count = n;
	for (i = 0; i < n && !r->failed; i++) {
		b->report_hosts[i].name = get_text(r);
		b->report_hosts[i].pair = get_u32(r);
		if (b->report_hosts[i].pair >= b->pair_count)
			r->failed = true;
	}
}

/* Version 3's tail: the receiver if its flag says so, the listeners. */
static void
decode_http01(struct rbuf *r, struct bundle *b)
{
	uint32_t report = get_u32(r);

	if (report > 1)
		r->failed = true;
	if (report == 1)
		decode_report(r, b);
	b->http01_listeners = get_u32(r);
	if (b->http01_listeners == 0 ||
	    b->http01_listeners > CONF_ACME_HTTP_MAX)
		r->failed = true;
}

int
bundle_decode(const uint8_t *buf, size_t len, struct bundle *b)
{
	struct rbuf r = {buf, len, false};
	const uint8_t *magic;
	uint32_t version;

	memset(b, 0, sizeof(*b));
	if (len > BUNDLE_MAX)
		return -1;
	magic = take(&r, 4);
	if (magic == NULL || memcmp(magic, BUNDLE_MAGIC, 4) != 0)
		return -1;
	version = get_u32(&r);
	if (version != BUNDLE_VERSION && version != BUNDLE_REPORT &&
	    version != BUNDLE_HTTP01)
		return -1;
	b->cache_control = get_text(&r);
	b->max_connections = get_u32(&r);
	b->idle_timeout = get_u32(&r);
	b->read_timeout = get_u32(&r);
	b->generation = get_u32(&r);
	decode_pairs(&r, b);
	decode_domains(&r, b);
	if (version == BUNDLE_REPORT)
		decode_report(&r, b);
	if (version == BUNDLE_HTTP01)
		decode_http01(&r, b);
	if (r.failed || r.left != 0) {
		bundle_free(b);
		return -1;
	}
	return 0;
}

void
bundle_free(struct bundle *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->pair_count; i++) {
		free(b->pairs[i].cert_pem);
		if (b->pairs[i].key_pem != NULL)
			explicit_bzero(b->pairs[i].key_pem,
			               b->pairs[i].key_len);
		free(b->pairs[i].key_pem);
	}
	for (i = 0; i < b->domain_count; i++) {
		free(b->domains[i].name);
		free(b->domains[i].policy);
	}
	for (i = 0; i < b->report_host_count; i++)
		free(b->report_hosts[i].name);
	free(b->report_hosts);
	free(b->report_path);
	free(b->pairs);
	free(b->domains);
	free(b->cache_control);
	memset(b, 0, sizeof(*b));
}
