/* SPDX-License-Identifier: ISC */
/*
 * The key process of mtasts serve (src/serve/keyproc.c), for real: a
 * forked key process holds the keys of a set, and TLS handshakes over a
 * BIO pair sign through it with nothing but the certificate's public
 * key on this side: ECDSA and RSA, TLS 1.3 and 1.2.  Then what must not
 * happen: a key of an unknown set, a request cut short, garbage, a
 * wrong padding, and a key process that is gone (the handshake fails
 * within the time-out, it does not hang).  Keys and certificates are
 * made at run time.  Prints TAP.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "keyproc.h"
#include "serve.h"
#include "tap.h"

struct pem {
	char *cert, *key;
	size_t cert_len, key_len;
	X509 *leaf;
};

static char *
bio_text(BIO *bio, size_t *len)
{
	char *data, *copy;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0 || (copy = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(copy, data, (size_t)n);
	copy[n] = '\0';
	*len = (size_t)n;
	return copy;
}

/* A self-signed certificate for mta-sts.a.test with a new key. */
static int
make_pair(const char *type, struct pem *p)
{
	EVP_PKEY *key = strcmp(type, "EC") == 0 ?
	    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	X509 *x = X509_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	X509_NAME *name;
	int rc = -1;

	if (key == NULL || x == NULL || kb == NULL || cb == NULL)
		goto out;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                           (const unsigned char *)"mta-sts.a.test", -1,
	                           -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_set_pubkey(x, key) != 1 ||
	    X509_sign(x, key, EVP_sha256()) == 0 ||
	    PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cb, x) != 1)
		goto out;
	p->key = bio_text(kb, &p->key_len);
	p->cert = bio_text(cb, &p->cert_len);
	p->leaf = x;
	x = NULL;
	rc = p->key != NULL && p->cert != NULL ? 0 : -1;
out:
	EVP_PKEY_free(key);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return rc;
}

/* Sends one set (as the parent frames it) and reads the answer. */
static int
send_set(int fd, struct pem *pairs, size_t n, uint32_t generation)
{
	struct bundle b;
	struct bundle_pair bp[4];
	uint8_t hdr[8], *buf, ack = 0;
	size_t len, i;

	memset(&b, 0, sizeof(b));
	memset(bp, 0, sizeof(bp));
	for (i = 0; i < n; i++) {
		bp[i].cert_pem = pairs[i].cert;
		bp[i].cert_len = pairs[i].cert_len;
		bp[i].key_pem = pairs[i].key;
		bp[i].key_len = pairs[i].key_len;
	}
	b.pairs = bp;
	b.pair_count = n;
	b.generation = generation;
	b.cache_control = (char *)"max-age=60";
	if (bundle_encode(&b, &buf, &len) != 0)
		return -1;
	for (i = 0; i < 8; i++)
		hdr[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	if (write(fd, hdr, 8) != 8 || write(fd, buf, len) != (ssize_t)len ||
	    read(fd, &ack, 1) != 1)
		ack = 0;
	free(buf);
	return ack == 1 ? 0 : -1;
}

/* A handshake against a server presenting `leaf` with `key`. */
static bool
handshake(X509 *leaf, EVP_PKEY *key, int max_version)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
	SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
	SSL *s = NULL, *c = NULL;
	BIO *b1 = NULL, *b2 = NULL;
	bool done = false;
	int i, rc, rs;

	if (sc == NULL || cc == NULL)
		goto out;
	SSL_CTX_set_max_proto_version(cc, max_version);
	if ((s = SSL_new(sc)) == NULL || (c = SSL_new(cc)) == NULL ||
	    SSL_use_cert_and_key(s, leaf, key, NULL, 1) != 1 ||
	    BIO_new_bio_pair(&b1, 0, &b2, 0) != 1)
		goto out;
	SSL_set_bio(s, b1, b1);
	SSL_set_bio(c, b2, b2);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < 20 && !done; i++) {
		rc = SSL_do_handshake(c);
		rs = SSL_do_handshake(s);
		done = rc == 1 && rs == 1;
	}
out:
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
	ERR_clear_error();
	return done;
}

static bool
handshake_with(struct pem *p, uint32_t generation, uint32_t pair,
               int max_version)
{
	EVP_PKEY *key = keyproc_remote_key(p->leaf, generation, pair);
	bool ok;

	if (key == NULL)
		return false;
	ok = handshake(p->leaf, key, max_version);
	EVP_PKEY_free(key);
	return ok;
}

/* Sends raw bytes as a request and reads the reply's length field. */
static int
raw_request(int fd, const void *req, size_t len)
{
	uint8_t rep[64];
	int32_t n;
	struct pollfd pfd = {fd, POLLIN, 0};

	if (send(fd, req, len, 0) != (ssize_t)len || poll(&pfd, 1, 2000) != 1 ||
	    recv(fd, rep, sizeof(rep), 0) < 8)
		return -2;
	memcpy(&n, rep + 4, sizeof(n));
	return n;
}

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000 + (double)t.tv_nsec / 1e6;
}

int
main(void)
{
	struct pem pairs[2];
	uint64_t ops, failures;
	int ctl[2], sign[2], status;
	uint8_t garbage[40];
	double t0;
	pid_t pid;

	memset(pairs, 0, sizeof(pairs));
	log_init(true, 0, "test");
	if (make_pair("EC", &pairs[0]) != 0 ||
	    make_pair("RSA", &pairs[1]) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sign) != 0) {
		printf("Bail out! cannot make keys or sockets\n");
		return 1;
	}
	if ((pid = fork()) == 0) {
		close(ctl[0]);
		close(sign[0]);
		_exit(keyproc_main(ctl[1], sign[1]));
	}
	close(ctl[1]);
	close(sign[1]);
	keyproc_client_init(sign[0]);

	tap_ok(send_set(ctl[0], pairs, 2, 7) == 0,
	       "the key process keeps set 7 (an EC and an RSA key)");
	tap_ok(handshake_with(&pairs[0], 7, 0, TLS1_3_VERSION),
	       "ECDSA, TLS 1.3: CertificateVerify signed by the key process");
	tap_ok(handshake_with(&pairs[0], 7, 0, TLS1_2_VERSION),
	       "ECDSA, TLS 1.2: ServerKeyExchange signed by the key process");
	tap_ok(handshake_with(&pairs[1], 7, 1, TLS1_3_VERSION),
	       "RSA-PSS, TLS 1.3, through the key process");
	tap_ok(handshake_with(&pairs[1], 7, 1, TLS1_2_VERSION),
	       "RSA, TLS 1.2, through the key process");
	keyproc_client_stats(&ops, &failures);
	tap_ok(ops == 4 && failures == 0,
	       "four operations forwarded, none failed (%llu, %llu)",
	       (unsigned long long)ops, (unsigned long long)failures);

	tap_ok(!handshake_with(&pairs[0], 8, 0, TLS1_3_VERSION),
	       "a set the key process does not have: the handshake fails");
	tap_ok(!handshake_with(&pairs[1], 7, 0, TLS1_3_VERSION),
	       "the wrong key for the certificate: the handshake fails");
	tap_ok(send_set(ctl[0], pairs, 1, 8) == 0 &&
	           handshake_with(&pairs[0], 8, 0, TLS1_3_VERSION) &&
	           handshake_with(&pairs[1], 7, 1, TLS1_3_VERSION),
	       "after a reload, the new set and the one before both sign");
	tap_ok(send_set(ctl[0], pairs, 1, 9) == 0 &&
	           !handshake_with(&pairs[1], 7, 1, TLS1_3_VERSION),
	       "two reloads later, set 7 is gone");

	memset(garbage, 0xA5, sizeof(garbage));
	tap_ok(raw_request(sign[0], garbage, 5) == -1,
	       "a request shorter than its header is refused");
	tap_ok(raw_request(sign[0], garbage, sizeof(garbage)) == -1,
	       "garbage is refused");
	tap_ok(handshake_with(&pairs[0], 9, 0, TLS1_3_VERSION),
	       "and the key process still signs");

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	t0 = now_ms();
	tap_ok(!handshake_with(&pairs[0], 9, 0, TLS1_3_VERSION),
	       "a key process that is gone: the handshake fails");
	tap_ok(now_ms() - t0 < KEYPROC_TIMEOUT_MS + 1000,
	       "at once, or within the time-out (%.0f ms)", now_ms() - t0);

	free(pairs[0].cert);
	free(pairs[0].key);
	free(pairs[1].cert);
	free(pairs[1].key);
	X509_free(pairs[0].leaf);
	X509_free(pairs[1].leaf);
	return tap_done();
}
