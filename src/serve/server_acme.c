/* SPDX-License-Identifier: ISC */
/*
 * The server process's side of ACME (issue 13): the channel from the
 * acme process (acme_msg.h), the challenges it installs, and the
 * certificate figures it reports for /metrics.
 *
 *   TLS-ALPN-01 (RFC 8737 §3)  ALPN-ADD keeps a self-signed challenge
 *       certificate and its throwaway key for a host name.  A ClientHello
 *       that offers the "acme-tls/1" protocol (RFC 8737 §6.2) for that
 *       name (SNI) gets that certificate and the protocol, and the
 *       connection ends after the handshake, with no HTTP (§3: "the ACME
 *       server ... closes the connection").  Offered for a name without
 *       a challenge, the handshake fails with no_application_protocol
 *       (RFC 7301 §3.2).  A ClientHello that does not offer it is served
 *       as it always was: the callback looks at the ALPN extension only.
 *   HTTP-01 (RFC 8555 §8.3)    HTTP-ADD keeps a token's key
 *       authorization; on the plain acme-http-listen listeners a GET of
 *       /.well-known/acme-challenge/TOKEN answers it (respond.c).
 *   STATE                      a domain's notAfter, next renewal and
 *       failures, for /metrics.
 *
 * Each frame is answered "OK" or "FAIL why" (ctl.h), in order: the acme
 * process tells the CA to validate only once the server has said OK.
 * The only private keys here are those throwaway challenge keys; the
 * account key and the certificate keys stay in the acme process and the
 * key process.  Every table has a cap, and a channel that breaks (or
 * sends a malformed frame) is closed and its challenges forgotten: the
 * acme process gets a new channel from the parent and sets them again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "acme_msg.h"
#include "ctl.h"
#include "server_int.h"

#define ALPN_PROTO     "acme-tls/1"
#define ALPN_PROTO_LEN 10
#define IN_CAP         (CTL_FRAME_HDR + ACME_MSG_MAX)
#define BUCKETS_MIN    64

/* ---- the tables: name -> item, chained, doubling at load 1 ---- */

struct acme_item {
	struct acme_item *next;
	char name[257];
	struct tls_cert *cert; /* ALPN */
	char *authz;           /* HTTP: the key authorization */
	size_t authz_len;
	int64_t not_after, renew_at; /* STATE */
	uint32_t failures;
};

static size_t
item_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static struct acme_item **
table_slot(const struct acme_table *t, const char *name, size_t n)
{
	struct acme_item **pp;

	if (t->size == 0)
		return NULL;
	for (pp = &t->buckets[item_hash(name, n) & (t->size - 1)]; *pp != NULL;
	     pp = &(*pp)->next)
		if (strlen((*pp)->name) == n &&
		    memcmp((*pp)->name, name, n) == 0)
			return pp;
	return NULL;
}

static struct acme_item *
table_find(const struct acme_table *t, const char *name, size_t n)
{
	struct acme_item **pp = table_slot(t, name, n);

	return pp != NULL ? *pp : NULL;
}

static void
item_free(struct acme_item *it)
{
	tls_cert_free(it->cert);
	free(it->authz);
	free(it);
}

static int
table_grow(struct acme_table *t)
{
	struct acme_item **b, *it, *next;
	size_t size = t->size == 0 ? BUCKETS_MIN : t->size * 2, i, k;

	if ((b = calloc(size, sizeof(*b))) == NULL)
		return -1;
	for (i = 0; i < t->size; i++)
		for (it = t->buckets[i]; it != NULL; it = next) {
			next = it->next;
			k = item_hash(it->name, strlen(it->name)) & (size - 1);
			it->next = b[k];
			b[k] = it;
		}
	free(t->buckets);
	t->buckets = b;
	t->size = size;
	return 0;
}

/* The item called name, made when new (under cap); NULL: over the cap. */
static struct acme_item *
table_get(struct acme_table *t, const char *name, size_t cap, bool *made)
{
	struct acme_item *it;
	size_t k, n = strlen(name);

	*made = false;
	if ((it = table_find(t, name, n)) != NULL)
		return it;
	if (t->count >= cap || (t->count >= t->size && table_grow(t) != 0) ||
	    (it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	memcpy(it->name, name, n + 1);
	k = item_hash(name, n) & (t->size - 1);
	it->next = t->buckets[k];
	t->buckets[k] = it;
	t->count++;
	*made = true;
	return it;
}

/* Drops name's item; false when there is none. */
static bool
table_del(struct acme_table *t, const char *name)
{
	struct acme_item **pp = table_slot(t, name, strlen(name)), *it;

	if (pp == NULL)
		return false;
	it = *pp;
	*pp = it->next;
	item_free(it);
	t->count--;
	return true;
}

static void
table_clear(struct acme_table *t)
{
	struct acme_item *it, *next;
	size_t i;

	for (i = 0; i < t->size; i++)
		for (it = t->buckets[i]; it != NULL; it = next) {
			next = it->next;
			item_free(it);
		}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* ---- the messages ---- */

static int
fail(char *why, size_t size, const char *text)
{
	snprintf(why, size, "%s", text);
	return -1;
}

static int
alpn_add(struct acme_state *a, const struct acme_msg *m, char *why, size_t size)
{
	struct bundle_pair pair;
	struct acme_item *it;
	struct tls_cert *cert;
	bool made;

	/* tls_cert_new() copies what it reads; the key stays in the frame
	   buffer, which the caller clears. */
	pair.cert_pem = (char *)(uintptr_t)m->cert;
	pair.cert_len = m->cert_len;
	pair.key_pem = (char *)(uintptr_t)m->key;
	pair.key_len = m->key_len;
	if ((cert = tls_cert_new(&pair, 0, 0, "ALPN-ADD")) == NULL)
		return fail(why, size, "unusable challenge certificate or key");
	if ((it = table_get(&a->alpn, m->name, ACME_CHALLENGES_MAX, &made)) ==
	    NULL) {
		tls_cert_free(cert);
		return fail(why, size, "too many TLS-ALPN-01 challenges");
	}
	tls_cert_free(it->cert); /* a newer challenge for the same name */
	it->cert = cert;
	return 0;
}

static int
http_add(struct acme_state *a, const struct acme_msg *m, char *why, size_t size)
{
	struct acme_item *it;
	char *authz;
	bool made;

	if ((authz = malloc(m->cert_len + 1)) == NULL)
		return fail(why, size, "out of memory");
	memcpy(authz, m->cert, m->cert_len);
	authz[m->cert_len] = '\0';
	if ((it = table_get(&a->http, m->name, ACME_CHALLENGES_MAX, &made)) ==
	    NULL) {
		free(authz);
		return fail(why, size, "too many HTTP-01 challenges");
	}
	free(it->authz);
	it->authz = authz;
	it->authz_len = m->cert_len;
	return 0;
}

static int
state_set(struct acme_state *a, const struct acme_msg *m, char *why,
          size_t size)
{
	struct acme_item *it;
	bool made;

	if ((it = table_get(&a->states, m->name, ACME_STATES_MAX, &made)) ==
	    NULL)
		return fail(why, size, "too many domains");
	it->not_after = m->not_after;
	it->renew_at = m->renew_at;
	it->failures = m->failures;
	return 0;
}

int
acme_state_apply(struct acme_state *a, const uint8_t *body, size_t len,
                 char *why, size_t size)
{
	struct acme_msg m;

	if (acme_msg_decode(body, len, &m) != 0)
		return fail(why, size, "malformed message");
	switch (m.type) {
	case ACME_MSG_ALPN_ADD:
		return alpn_add(a, &m, why, size);
	case ACME_MSG_ALPN_DEL:
		table_del(&a->alpn, m.name); /* gone already is fine */
		return 0;
	case ACME_MSG_HTTP_ADD:
		return http_add(a, &m, why, size);
	case ACME_MSG_HTTP_DEL:
		table_del(&a->http, m.name);
		return 0;
	case ACME_MSG_STATE:
		return state_set(a, &m, why, size);
	case ACME_MSG_ISSUED:
		break;
	}
	return fail(why, size, "ISSUED is for the parent");
}

void
acme_state_forget_challenges(struct acme_state *a)
{
	table_clear(&a->alpn);
	table_clear(&a->http);
}

void
acme_state_free(struct acme_state *a)
{
	acme_state_forget_challenges(a);
	table_clear(&a->states);
}

const char *
acme_state_http(const struct acme_state *a, const char *token, size_t n,
                size_t *len)
{
	const struct acme_item *it;

	if (n == 0 || n > 256 || (it = table_find(&a->http, token, n)) == NULL)
		return NULL;
	*len = it->authz_len;
	return it->authz;
}

/* ---- TLS-ALPN-01 in the handshake ---- */

/* Whether the ALPN extension's protocol list offers acme-tls/1. */
static bool
offers_acme(const unsigned char *ext, size_t len)
{
	size_t i, n;

	/* The list's length must be the rest of the extension. */
	if (len < 2 || ((size_t)ext[0] << 8 | ext[1]) != len - 2)
		return false;
	for (i = 2; i < len; i += n) {
		n = ext[i++];
		if (n == 0 || n > len - i)
			return false;
		if (n == ALPN_PROTO_LEN && memcmp(ext + i, ALPN_PROTO, n) == 0)
			return true;
	}
	return false;
}

/*
 * The host_name of a server_name extension (RFC 6066 §3): its list
 * holds one name of type 0.  False when there is none or it is
 * malformed.
 */
static bool
sni_host(const unsigned char *ext, size_t len, const char **name, size_t *n)
{
	size_t k;

	if (len < 5 || ((size_t)ext[0] << 8 | ext[1]) != len - 2 || ext[2] != 0)
		return false;
	k = (size_t)ext[3] << 8 | ext[4];
	if (k == 0 || k > len - 5)
		return false;
	*name = (const char *)ext + 5;
	*n = k;
	return true;
}

/* The challenge of the SNI name (case and a final dot ignored). */
static const struct tls_cert *
challenge_for(const struct acme_state *a, const char *name, size_t n)
{
	char low[254];
	size_t i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(low))
		return NULL;
	for (i = 0; i < n; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
		                    name[i] - 'A' + 'a' :
		                    name[i]);
	const struct acme_item *it = table_find(&a->alpn, low, n);

	return it != NULL ? it->cert : NULL;
}

int
acme_client_hello(SSL *ssl, int *alert, void *arg)
{
	struct conn *c = SSL_get_app_data(ssl);
	const unsigned char *ext;
	const struct tls_cert *cert;
	const char *name;
	size_t len, n;

	(void)arg;
	/* The common path: no ALPN, or ALPN without acme-tls/1. */
	if (SSL_client_hello_get0_ext(
		ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
		&len) != 1 ||
	    !offers_acme(ext, len))
		return SSL_CLIENT_HELLO_SUCCESS;
	if (c == NULL)
		return SSL_CLIENT_HELLO_ERROR;
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext,
	                              &len) != 1 ||
	    !sni_host(ext, len, &name, &n) ||
	    (cert = challenge_for(&c->srv->acme, name, n)) == NULL ||
	    tls_use_cert(ssl, cert) != 0) {
		ERR_clear_error();
		*alert = SSL_AD_NO_APPLICATION_PROTOCOL;
		return SSL_CLIENT_HELLO_ERROR;
	}
	c->acme_alpn = true;
	return SSL_CLIENT_HELLO_SUCCESS;
}

int
acme_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                 const unsigned char *in, unsigned int inlen, void *arg)
{
	struct conn *c = SSL_get_app_data(ssl);
	unsigned int i;

	(void)arg;
	/* Other clients get no ALPN answer, as before there was ACME. */
	if (c == NULL || !c->acme_alpn)
		return SSL_TLSEXT_ERR_NOACK;
	for (i = 0; i < inlen; i += 1u + in[i])
		if (in[i] == ALPN_PROTO_LEN && i + 1u + in[i] <= inlen &&
		    memcmp(in + i + 1, ALPN_PROTO, ALPN_PROTO_LEN) == 0) {
			*out = in + i + 1;
			*outlen = ALPN_PROTO_LEN;
			return SSL_TLSEXT_ERR_OK;
		}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void
acme_tls_setup(SSL_CTX *ctx)
{
	SSL_CTX_set_client_hello_cb(ctx, acme_client_hello, NULL);
	SSL_CTX_set_alpn_select_cb(ctx, acme_alpn_select, NULL);
}

/* ---- /metrics ---- */

/* Appends to a growing buffer; false once it failed. */
static bool append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool
append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	char *p;
	int n;

	for (;;) {
		room = *cap - *len;
		va_start(ap, fmt);
		n = vsnprintf(*buf != NULL ? *buf + *len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return false;
		if ((size_t)n < room) {
			*len += (size_t)n;
			return true;
		}
		if ((p = realloc(*buf, *cap * 2 + (size_t)n + 1)) == NULL)
			return false;
		*buf = p;
		*cap = *cap * 2 + (size_t)n + 1;
	}
}

/* The lines of one gauge for every domain, as `which` picks the value. */
static bool
gauge(const struct acme_state *a, char **buf, size_t *len, size_t *cap,
      const char *metric, int which)
{
	const struct acme_item *it;
	size_t i;
	bool ok = append(buf, len, cap, "# TYPE %s gauge\n", metric);

	for (i = 0; ok && i < a->states.size; i++)
		for (it = a->states.buckets[i]; ok && it != NULL; it = it->next)
			ok = append(buf, len, cap, "%s{domain=\"%s\"} %lld\n",
			            metric, it->name,
			            which == 0     ? (long long)it->not_after :
			                which == 1 ? (long long)it->renew_at :
			                             (long long)it->failures);
	return ok;
}

char *
acme_state_metrics(const struct acme_state *a, size_t *len)
{
	size_t cap = 1024;
	char *buf;

	*len = 0;
	if ((buf = malloc(cap)) == NULL)
		return NULL;
	if (!append(
		&buf, len, &cap,
		"# TYPE mtasts_acme_challenges_answered_total counter\n"
		"mtasts_acme_challenges_answered_total{type=\"tls-alpn-01\"} "
		"%llu\n"
		"mtasts_acme_challenges_answered_total{type=\"http-01\"} "
		"%llu\n"
		"# TYPE mtasts_acme_challenges_pending gauge\n"
		"mtasts_acme_challenges_pending{type=\"tls-alpn-01\"} %zu\n"
		"mtasts_acme_challenges_pending{type=\"http-01\"} %zu\n",
		(unsigned long long)a->alpn_answered,
		(unsigned long long)a->http_answered, a->alpn.count,
		a->http.count) ||
	    !gauge(a, &buf, len, &cap,
	           "mtasts_acme_certificate_not_after_seconds", 0) ||
	    !gauge(a, &buf, len, &cap, "mtasts_acme_next_renewal_seconds", 1) ||
	    !gauge(a, &buf, len, &cap, "mtasts_acme_failures", 2)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- the channel ---- */

static void
channel_close(struct server *srv)
{
	struct acme_state *a = &srv->acme;

	if (a->ev != NULL)
		event_free(a->ev);
	a->ev = NULL;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->in != NULL) {
		explicit_bzero(a->in, a->in_len); /* challenge keys */
		free(a->in);
	}
	a->in = NULL;
	a->in_len = 0;
	/* The acme process sets them again over its next channel. */
	acme_state_forget_challenges(a);
}

/* Answers one frame; false when the reply cannot be written. */
static bool
answer(struct server *srv, const struct ctl_frame *f)
{
	uint8_t frame[CTL_REPLY_FRAME];
	char why[CTL_REPLY_MAX];
	size_t n;
	int rc;

	rc = acme_state_apply(&srv->acme, f->body, f->len, why, sizeof(why));
	if (rc != 0)
		log_warnx("acme channel: refused: %s", why);
	n = ctl_reply_encode(rc == 0, why, frame);
	return write(srv->acme.fd, frame, n) == (ssize_t)n;
}

static void
channel_event(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct acme_state *a = &srv->acme;
	struct ctl_frame f;
	enum ctl_result r;
	size_t off = 0;
	ssize_t n;

	(void)what;
	n = read(fd, a->in + a->in_len, IN_CAP - a->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_info("acme channel closed; challenges dropped");
		channel_close(srv);
		return;
	}
	a->in_len += (size_t)n;
	while ((r = ctl_frame_decode(a->in + off, a->in_len - off, ACME_MSG_MAX,
	                             &f)) == CTL_FRAME) {
		if (!answer(srv, &f)) {
			log_warn("acme channel: reply");
			channel_close(srv);
			return;
		}
		off += f.size;
	}
	if (r == CTL_MALFORMED) {
		log_warnx("acme channel: frame over %u octets; closed",
		          ACME_MSG_MAX);
		channel_close(srv);
		return;
	}
	memmove(a->in, a->in + off, a->in_len - off);
	explicit_bzero(a->in + a->in_len - off, off);
	a->in_len -= off;
}

void
acme_channel(struct server *srv, int fd)
{
	struct acme_state *a = &srv->acme;

	channel_close(srv); /* a new acme process: the old one's are gone */
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    (a->in = malloc(IN_CAP)) == NULL ||
	    (a->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST,
	                       channel_event, srv)) == NULL ||
	    event_add(a->ev, NULL) != 0) {
		log_warnx("cannot watch the acme channel");
		a->fd = fd;
		channel_close(srv);
		return;
	}
	a->fd = fd;
	log_debug("acme channel %d", fd);
}

void
acme_free_all(struct server *srv)
{
	channel_close(srv);
	acme_state_free(&srv->acme);
}
