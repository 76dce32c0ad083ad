/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/serve/server_acme.c, the server process's side of ACME,
 * with real OpenSSL handshakes over a BIO pair through a real set
 * (set.c: the SNI callback and the domain's own certificate):
 *
 *   TLS-ALPN-01 (RFC 8737 §3): a ClientHello offering only acme-tls/1
 *   for a name with a challenge gets the challenge certificate (read
 *   back with acme_alpn_check(): its name and the SHA-256 of the key
 *   authorization) and acme-tls/1 selected, in TLS 1.2 and 1.3, even
 *   for a name the set does not serve yet; offered for a name without
 *   a challenge, or after ALPN-DEL, the handshake fails with
 *   no_application_protocol; without ALPN or with http/1.1 the domain's
 *   own certificate and no protocol, as before.
 *   The messages: each kind applied and refused (malformed, ISSUED, an
 *   unusable challenge pair, the 10,000 cap), HTTP-01 tokens found and
 *   dropped, STATE figures in the /metrics text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "acme_alpn.h"
#include "acme_csr.h"
#include "acme_msg.h"
#include "server_int.h"
#include "tap.h"

#define AUTHZ "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.thumbprint0123"

static struct server srv;
static struct set *set;

/* The text of a memory BIO, NUL-terminated, or NULL. */
static char *
bio_text(BIO *b, size_t *len)
{
	char *data, *s;
	long n = BIO_get_mem_data(b, &data);

	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*len = (size_t)n;
	return s;
}

/* A self-signed certificate for host with a new P-256 key, as PEM. */
static int
make_pair(const char *host, char **cert, size_t *cert_len, char **key,
          size_t *key_len)
{
	EVP_PKEY *k = acme_key_new();
	X509 *x = X509_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	X509_EXTENSION *ext = NULL;
	char san[300];
	int rc = -1;

	snprintf(san, sizeof(san), "DNS:%s", host);
	if (k == NULL || x == NULL || kb == NULL || cb == NULL)
		goto out;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)host, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if ((ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	                               san)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1 || X509_set_pubkey(x, k) != 1 ||
	    X509_sign(x, k, EVP_sha256()) == 0 ||
	    PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cb, x) != 1)
		goto out;
	*key = bio_text(kb, key_len);
	*cert = bio_text(cb, cert_len);
	rc = *key != NULL && *cert != NULL ? 0 : -1;
out:
	X509_EXTENSION_free(ext);
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return rc;
}

/* The set: a.example, served with its own certificate. */
static int
make_set(void)
{
	static char policy[] = "version: STSv1\nmode: testing\nmx: mx.a.example"
			       "\nmax_age: 86400\n";
	struct bundle_domain d = {NULL, policy, sizeof(policy) - 1, 0};
	struct bundle_pair pair;
	struct bundle b;

	memset(&b, 0, sizeof(b));
	if (make_pair("mta-sts.a.example", &pair.cert_pem, &pair.cert_len,
	              &pair.key_pem, &pair.key_len) != 0 ||
	    (d.name = strdup("a.example")) == NULL ||
	    (b.cache_control = strdup("max-age=300")) == NULL ||
	    (b.pairs = malloc(sizeof(pair))) == NULL ||
	    (b.domains = malloc(sizeof(d))) == NULL ||
	    (d.policy = strdup(policy)) == NULL)
		return -1;
	b.pairs[0] = pair;
	b.pair_count = 1;
	b.domains[0] = d;
	b.domain_count = 1;
	b.max_connections = 10;
	b.read_timeout = b.idle_timeout = 10;
	b.generation = 1;
	set = set_new(&b);
	bundle_free(&b);
	return set != NULL ? 0 : -1;
}

/* Applies one encoded message; the FAIL reason, or NULL for OK. */
static const char *
apply(uint8_t *body, size_t len, int enc_rc)
{
	static char why[CTL_REPLY_MAX];

	if (enc_rc != 0)
		return "(cannot encode)";
	why[0] = '\0';
	if (acme_state_apply(&srv.acme, body, len, why, sizeof(why)) == 0) {
		free(body);
		return NULL;
	}
	free(body);
	return why[0] != '\0' ? why : "(no reason)";
}

/* ALPN-ADD of a fresh challenge certificate for name; NULL for OK. */
/* The encoder runs first (a comma, not argument order), then apply(). */
#define APPLY(call) (enc_rc = (call), apply(body, len, enc_rc))
static int enc_rc;

static const char *
alpn_add(const char *name)
{
	EVP_PKEY *k = acme_key_new();
	char *cert = NULL, *key = NULL;
	size_t cert_len, key_len, len = 0;
	uint8_t *body = NULL;
	int rc = -1;

	if (k != NULL &&
	    acme_alpn_cert(k, name, AUTHZ, time(NULL), 86400, &cert,
	                   &cert_len) == 0 &&
	    acme_key_pem(k, &key, &key_len) == 0)
		rc = acme_msg_alpn_add(name, cert, cert_len, key, key_len,
		                       &body, &len);
	EVP_PKEY_free(k);
	free(cert);
	free(key);
	return apply(body, len, rc);
}

struct result {
	bool ok;               /* both sides finished the handshake */
	char proto[32];        /* the protocol the client sees selected */
	X509 *peer;            /* the certificate the client got */
	unsigned long cli_err; /* the client's first OpenSSL error */
	bool acme;             /* the connection is a TLS-ALPN-01 one */
};

/*
 * A handshake of a client offering alpn (wire format, may be NULL) for
 * sni against the set's context, through a BIO pair.
 */
static void
handshake(const char *sni, const unsigned char *alpn, unsigned alpn_len,
          int max_version, struct result *r)
{
	SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
	SSL *s = NULL, *c = NULL;
	BIO *b1 = NULL, *b2 = NULL;
	struct conn conn;
	char host[256];
	const unsigned char *p;
	unsigned plen = 0;
	int i, rc = 0, rs = 0;

	memset(r, 0, sizeof(*r));
	memset(&conn, 0, sizeof(conn));
	conn.srv = &srv;
	conn.set = set;
	if (cc == NULL || (s = SSL_new(set->ctx)) == NULL ||
	    (c = SSL_new(cc)) == NULL || BIO_new_bio_pair(&b1, 0, &b2, 0) != 1)
		goto out;
	SSL_CTX_set_max_proto_version(cc, max_version);
	SSL_set_app_data(s, &conn);
	SSL_set_bio(s, b1, b1);
	SSL_set_bio(c, b2, b2);
	/* The macro casts its argument to void *: a copy, not const. */
	snprintf(host, sizeof(host), "%s", sni != NULL ? sni : "");
	if (sni != NULL)
		SSL_set_tlsext_host_name(c, host);
	if (alpn != NULL)
		SSL_set_alpn_protos(c, alpn, alpn_len);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < 20 && !(rc == 1 && rs == 1); i++) {
		rc = SSL_do_handshake(c);
		if (rc != 1 && r->cli_err == 0)
			r->cli_err = ERR_peek_error();
		rs = SSL_do_handshake(s);
	}
	r->ok = rc == 1 && rs == 1;
	SSL_get0_alpn_selected(c, &p, &plen);
	if (plen > 0 && plen < sizeof(r->proto))
		memcpy(r->proto, p, plen);
	r->peer = SSL_get1_peer_certificate(c);
	r->acme = conn.acme_alpn;
out:
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(cc);
	ERR_clear_error();
}

/* Whether cert is the challenge of name for AUTHZ (RFC 8737 §3). */
static bool
is_challenge(X509 *cert, const char *name)
{
	uint8_t want[ACME_ALPN_DIGEST_LEN], got[ACME_ALPN_DIGEST_LEN];
	unsigned n = 0;
	size_t len;
	char *pem;
	BIO *b = BIO_new(BIO_s_mem());
	bool ok = false;

	if (cert == NULL || b == NULL || PEM_write_bio_X509(b, cert) != 1 ||
	    (pem = bio_text(b, &len)) == NULL) {
		BIO_free(b);
		return false;
	}
	EVP_Digest(AUTHZ, strlen(AUTHZ), want, &n, EVP_sha256(), NULL);
	ok = acme_alpn_check(pem, len, name, got) == 0 &&
	    memcmp(got, want, sizeof(want)) == 0;
	free(pem);
	BIO_free(b);
	return ok;
}

/*
 * Whether cert is the domain's own: it covers the name and has one
 * extension, its subjectAltName (make_pair()), so no acmeIdentifier.
 */
static bool
is_own(X509 *cert, const char *host)
{
	return cert != NULL && X509_check_host(cert, host, 0, 0, NULL) == 1 &&
	    X509_get_ext_count(cert) == 1;
}

static const unsigned char only_acme[] = "\012acme-tls/1";
static const unsigned char only_http[] = "\010http/1.1";
static const unsigned char h2_http[] = "\002h2\010http/1.1";

static void
check_alpn(void)
{
	static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
	const char *e;
	struct result r;
	size_t i;

	e = alpn_add("mta-sts.a.example");
	tap_ok(e == NULL, "ALPN-ADD mta-sts.a.example: OK (%s)",
	       e != NULL ? e : "");
	e = alpn_add("mta-sts.new.example");
	tap_ok(e == NULL, "ALPN-ADD for a domain not served yet: OK (%s)",
	       e != NULL ? e : "");
	for (i = 0; i < 2; i++) {
		const char *v = i == 0 ? "TLS 1.2" : "TLS 1.3";

		handshake("mta-sts.a.example", only_acme, sizeof(only_acme) - 1,
		          versions[i], &r);
		tap_ok(r.ok && strcmp(r.proto, "acme-tls/1") == 0 && r.acme &&
		           is_challenge(r.peer, "mta-sts.a.example"),
		       "%s: acme-tls/1 for a served name: the challenge "
		       "certificate (name, digest), acme-tls/1 selected",
		       v);
		X509_free(r.peer);
		handshake("mta-sts.new.example", only_acme,
		          sizeof(only_acme) - 1, versions[i], &r);
		tap_ok(r.ok && strcmp(r.proto, "acme-tls/1") == 0 && r.acme &&
		           is_challenge(r.peer, "mta-sts.new.example"),
		       "%s: acme-tls/1 for a name not served yet: its "
		       "challenge certificate",
		       v);
		X509_free(r.peer);
		handshake("MTA-STS.New.Example.", only_acme,
		          sizeof(only_acme) - 1, versions[i], &r);
		tap_ok(r.ok && r.acme &&
		           is_challenge(r.peer, "mta-sts.new.example"),
		       "%s: the SNI's case and final dot ignored", v);
		X509_free(r.peer);
		handshake("mta-sts.b.example", only_acme, sizeof(only_acme) - 1,
		          versions[i], &r);
		tap_ok(!r.ok && !r.acme && r.peer == NULL &&
		           ERR_GET_REASON(r.cli_err) ==
		               SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL,
		       "%s: acme-tls/1 for a name without a challenge: "
		       "no_application_protocol",
		       v);
		X509_free(r.peer);
		handshake(NULL, only_acme, sizeof(only_acme) - 1, versions[i],
		          &r);
		tap_ok(!r.ok && !r.acme &&
		           ERR_GET_REASON(r.cli_err) ==
		               SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL,
		       "%s: acme-tls/1 without SNI: no_application_protocol",
		       v);
		X509_free(r.peer);
		handshake("mta-sts.a.example", NULL, 0, versions[i], &r);
		tap_ok(r.ok && r.proto[0] == '\0' && !r.acme &&
		           is_own(r.peer, "mta-sts.a.example"),
		       "%s: no ALPN: the domain's own certificate, no "
		       "protocol",
		       v);
		X509_free(r.peer);
		handshake("mta-sts.a.example", only_http, sizeof(only_http) - 1,
		          versions[i], &r);
		tap_ok(r.ok && r.proto[0] == '\0' && !r.acme &&
		           is_own(r.peer, "mta-sts.a.example"),
		       "%s: http/1.1: the domain's own certificate, no "
		       "protocol selected (as before)",
		       v);
		X509_free(r.peer);
		handshake("mta-sts.a.example", h2_http, sizeof(h2_http) - 1,
		          versions[i], &r);
		tap_ok(r.ok && r.proto[0] == '\0' && !r.acme &&
		           is_own(r.peer, "mta-sts.a.example"),
		       "%s: h2 and http/1.1: the domain's own certificate", v);
		X509_free(r.peer);
		handshake("mta-sts.new.example", NULL, 0, versions[i], &r);
		tap_ok(!r.ok && !r.acme,
		       "%s: no ALPN for a name not served: refused as "
		       "before (unrecognized_name)",
		       v);
		X509_free(r.peer);
	}
}

static void
check_alpn_del(void)
{
	struct result r;
	uint8_t *body = NULL;
	size_t len = 0;
	const char *e;

	e = APPLY(acme_msg_alpn_del("mta-sts.a.example", &body, &len));
	tap_ok(e == NULL, "ALPN-DEL: OK");
	handshake("mta-sts.a.example", only_acme, sizeof(only_acme) - 1,
	          TLS1_3_VERSION, &r);
	tap_ok(!r.ok && !r.acme &&
	           ERR_GET_REASON(r.cli_err) ==
	               SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL,
	       "after ALPN-DEL: acme-tls/1 refused");
	X509_free(r.peer);
	handshake("mta-sts.a.example", NULL, 0, TLS1_3_VERSION, &r);
	tap_ok(r.ok && is_own(r.peer, "mta-sts.a.example"),
	       "after ALPN-DEL: the domain is served as before");
	X509_free(r.peer);
	body = NULL;
	e = APPLY(acme_msg_alpn_del("mta-sts.gone.example", &body, &len));
	tap_ok(e == NULL, "ALPN-DEL of a name without a challenge: OK");
	e = alpn_add("mta-sts.a.example");
	e = alpn_add("mta-sts.a.example");
	tap_ok(e == NULL && srv.acme.alpn.count == 2,
	       "ALPN-ADD twice for one name: one challenge, the newer");
	acme_state_forget_challenges(&srv.acme);
	handshake("mta-sts.a.example", only_acme, sizeof(only_acme) - 1,
	          TLS1_3_VERSION, &r);
	tap_ok(!r.ok && srv.acme.alpn.count == 0,
	       "a broken channel's challenges are forgotten");
	X509_free(r.peer);
}

static void
check_messages(void)
{
	static const char bad_pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
				      "-----END CERTIFICATE-----\n";
	uint8_t *body = NULL;
	size_t len = 0, n = 0, i;
	const char *e, *authz;
	char token[64], *m;
	bool ok = true;

	e = APPLY(acme_msg_http_add("tok-EN_1", "tok-EN_1.thumb", &body, &len));
	tap_ok(e == NULL, "HTTP-ADD: OK");
	authz = acme_state_http(&srv.acme, "tok-EN_1", 8, &n);
	tap_ok(authz != NULL && n == 14 &&
	           memcmp(authz, "tok-EN_1.thumb", 14) == 0,
	       "HTTP-01: the token's key authorization");
	tap_ok(acme_state_http(&srv.acme, "tok-EN_", 7, &n) == NULL &&
	           acme_state_http(&srv.acme, "tok-EN_12", 9, &n) == NULL &&
	           acme_state_http(&srv.acme, "", 0, &n) == NULL,
	       "HTTP-01: a prefix, a longer token, none: not found");
	body = NULL;
	e = APPLY(acme_msg_http_del("tok-EN_1", &body, &len));
	tap_ok(e == NULL &&
	           acme_state_http(&srv.acme, "tok-EN_1", 8, &n) == NULL,
	       "HTTP-DEL: the token is gone");

	body = NULL;
	e = APPLY(acme_msg_issued("a.example", &body, &len));
	tap_ok(e != NULL && strstr(e, "ISSUED is for the parent") != NULL,
	       "ISSUED: FAIL (%s)", e != NULL ? e : "OK");
	body = (uint8_t *)strdup("ALPN-ADD mta-sts.a.example 3\nabc");
	e = apply(body, strlen((char *)body), 0);
	tap_ok(e != NULL && strstr(e, "malformed") != NULL,
	       "a malformed message: FAIL (%s)", e != NULL ? e : "OK");
	body = NULL;
	e = APPLY(acme_msg_alpn_add("mta-sts.a.example", bad_pem,
	                            sizeof(bad_pem) - 1, bad_pem,
	                            sizeof(bad_pem) - 1, &body, &len));
	tap_ok(e != NULL && strstr(e, "unusable challenge") != NULL &&
	           srv.acme.alpn.count == 0,
	       "ALPN-ADD of an unusable pair: FAIL, nothing kept (%s)",
	       e != NULL ? e : "OK");

	for (i = 0; ok && i < ACME_CHALLENGES_MAX; i++) {
		snprintf(token, sizeof(token), "t%zu", i);
		body = NULL;
		ok =
		    APPLY(acme_msg_http_add(token, "x.y", &body, &len)) == NULL;
	}
	tap_ok(ok && srv.acme.http.count == ACME_CHALLENGES_MAX,
	       "HTTP-ADD: %d tokens kept", ACME_CHALLENGES_MAX);
	body = NULL;
	e = APPLY(acme_msg_http_add("one-more", "x.y", &body, &len));
	tap_ok(e != NULL && strstr(e, "too many HTTP-01") != NULL &&
	           srv.acme.http.count == ACME_CHALLENGES_MAX,
	       "HTTP-ADD one over the cap: FAIL (%s)", e != NULL ? e : "OK");
	body = NULL;
	e = APPLY(acme_msg_http_add("t17", "t17.new", &body, &len));
	authz = acme_state_http(&srv.acme, "t17", 3, &n);
	tap_ok(e == NULL && authz != NULL && n == 7 &&
	           memcmp(authz, "t17.new", 7) == 0,
	       "HTTP-ADD of a known token at the cap: replaced");
	acme_state_forget_challenges(&srv.acme);

	body = NULL;
	e = APPLY(acme_msg_state("a.example", 1900000000, 1890000000, 3,
	                         "urn:ietf:params:acme:error:rateLimited",
	                         &body, &len));
	tap_ok(e == NULL, "STATE: OK");
	m = acme_state_metrics(&srv.acme, &n);
	tap_ok(m != NULL && strlen(m) == n &&
	           strstr(m,
	                  "mtasts_acme_certificate_not_after_seconds{"
	                  "domain=\"a.example\"} 1900000000\n") != NULL &&
	           strstr(m,
	                  "mtasts_acme_next_renewal_seconds{domain=\"a."
	                  "example\"} 1890000000\n") != NULL &&
	           strstr(m,
	                  "mtasts_acme_failures{domain=\"a.example\"} 3\n") !=
	               NULL,
	       "/metrics: the domain's notAfter, next renewal and failures");
	tap_ok(m != NULL &&
	           strstr(m,
	                  "mtasts_acme_challenges_answered_total{type=\"tls-"
	                  "alpn-01\"} 0\n") != NULL,
	       "/metrics: the challenges answered");
	free(m);
}

int
main(void)
{
	memset(&srv, 0, sizeof(srv));
	srv.acme.fd = -1;
	log_init(true, 0, "test");
	if (!tap_ok(make_set() == 0, "a set with a.example"))
		return tap_done();
	check_alpn();
	check_alpn_del();
	check_messages();
	acme_state_free(&srv.acme);
	set_unref(set);
	return tap_done();
}
