/* SPDX-License-Identifier: ISC */
/*
 * TLS contexts of the policy server: one SSL_CTX per distinct certificate
 * and key, built from PEM in memory (the server reads no files).
 *
 * Senders must use TLS 1.2 or later (RFC 8461 §7.2 with RFC 7525), so
 * nothing older is offered.  Session resumption is off: a sender fetches
 * a policy about once per max_age, and without tickets or a session cache
 * there are no ticket keys to rotate or leak.
 *
 * Record buffers (about 17 KiB each way) stay with a connection while it
 * is busy; the server releases them once it idles (tls_release_buffers()
 * from its tick).  OpenSSL's SSL_MODE_RELEASE_BUFFERS would instead free
 * and re-allocate both on every request.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "keyproc.h"
#include "serve.h"

/* TLS 1.2 suites: forward secret AEAD only (RFC 7525 §4.2). */
#define CIPHERS_TLS12                                                          \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"           \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/*
 * TLS 1.3 suites, the server's order: AES-128-GCM first, as RFC 7525
 * §4.2 recommends; with SHA-256 its key schedule is also the cheapest.
 */
#define CIPHERS_TLS13                                                          \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"                       \
	"TLS_CHACHA20_POLY1305_SHA256"

/*
 * SSL_free_buffers() before OpenSSL 3.0.14, 3.1.6, 3.2.2 and 3.3.1 frees
 * the read buffer even when it holds a record whose header has arrived
 * but not its body, and OpenSSL later reads into freed memory
 * (CVE-2024-4741).  With those libraries OpenSSL releases the buffers
 * itself whenever they run empty (SSL_MODE_RELEASE_BUFFERS).
 */
static bool
free_buffers_is_safe(void)
{
	unsigned long v = OpenSSL_version_num();
	unsigned long major = v >> 28, minor = (v >> 20) & 0xff;
	unsigned long patch = (v >> 4) & 0xff;
	static const unsigned long fixed[] = {14, 6, 2, 1}; /* 3.0 .. 3.3 */

	if (major != 3)
		return major > 3;
	if (minor >= sizeof(fixed) / sizeof(fixed[0]))
		return true;
	return patch >= fixed[minor];
}

static SSL_CTX *
ctx_base(void)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, CIPHERS_TLS12) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, CIPHERS_TLS13) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx,
	                    SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                        SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (!free_buffers_is_safe())
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* One read(2) per record rather than one for its header and one
	   for its body. */
	SSL_CTX_set_read_ahead(ctx, 1);
	return ctx;
}

struct tls_cert {
	X509 *leaf;
	STACK_OF(X509) * chain; /* what follows the leaf */
	EVP_PKEY *key;
};

/* Reads the leaf and the chain after it from PEM in memory. */
static int
read_chain(struct tls_cert *c, const struct bundle_pair *pair)
{
	X509 *x;
	BIO *bio;
	int rc = -1;

	if ((bio = BIO_new_mem_buf(pair->cert_pem, (int)pair->cert_len)) ==
	        NULL ||
	    (c->chain = sk_X509_new_null()) == NULL ||
	    (c->leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(c->chain, x) == 0) {
			X509_free(x);
			goto out;
		}
	}
	rc = 0;
out:
	BIO_free(bio);
	ERR_clear_error(); /* the end of the chain reads as an error */
	return rc;
}

static int
read_key(struct tls_cert *c, const struct bundle_pair *pair)
{
	BIO *bio;

	if ((bio = BIO_new_mem_buf(pair->key_pem, (int)pair->key_len)) == NULL)
		return -1;
	c->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return c->key != NULL && X509_check_private_key(c->leaf, c->key) == 1 ?
	    0 :
	    -1;
}

struct tls_cert *
tls_cert_new(const struct bundle_pair *pair, uint32_t generation,
             uint32_t index, const char *what)
{
	struct tls_cert *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("%s: out of memory", what);
		return NULL;
	}
	if (read_chain(c, pair) != 0 ||
	    (pair->key_len == 0 ?
	         (c->key = keyproc_remote_key(c->leaf, generation, index)) ==
	             NULL :
	         read_key(c, pair) != 0)) {
		log_warnx("%s: cannot load the certificate and key", what);
		tls_cert_free(c);
		ERR_clear_error();
		return NULL;
	}
	return c;
}

void
tls_cert_free(struct tls_cert *c)
{
	if (c == NULL)
		return;
	X509_free(c->leaf);
	sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_free(c->key);
	free(c);
}

int
tls_use_cert(SSL *ssl, const struct tls_cert *c)
{
	/* override 1: replace what the context presents (and check the key
	   against the leaf once more, cheaply: a public key comparison). */
	return SSL_use_cert_and_key(ssl, c->leaf, c->key, c->chain, 1) == 1 ?
	    0 :
	    -1;
}

void *
tls_ctx_new(const struct tls_cert *cert, const char *what)
{
	SSL_CTX *ctx;

	if ((ctx = ctx_base()) == NULL) {
		log_warnx("%s: cannot make a TLS context", what);
		return NULL;
	}
	if (cert != NULL &&
	    SSL_CTX_use_cert_and_key(ctx, cert->leaf, cert->key, cert->chain,
	                             1) != 1) {
		log_warnx("%s: cannot load the certificate and key", what);
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

void
tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

bool
tls_release_buffers(SSL *ssl)
{
	if ((SSL_get_mode(ssl) & SSL_MODE_RELEASE_BUFFERS) != 0)
		return true; /* OpenSSL does it (free_buffers_is_safe()) */
	return SSL_free_buffers(ssl) == 1;
}
