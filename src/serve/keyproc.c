/* SPDX-License-Identifier: ISC */
/*
 * The key process and the server's side of it (keyproc.h says why).
 *
 * The server's side plugs into OpenSSL through the legacy RSA_METHOD and
 * EC_KEY_METHOD, which OpenSSL 3 still honours for a key that carries
 * one (a "foreign" key goes through the legacy signing path): a provider
 * would do the same in several hundred lines more.  Their only use here
 * is to forward the private operation; the deprecation warnings are
 * silenced for this file alone.
 *
 * Messages on the SOCK_SEQPACKET socketpair, one datagram each, in this
 * machine's byte order (both ends are this program):
 *
 *   request  seq u32, generation u32, pair u32, op u8, padding u8,
 *            length u16, then `length` octets (a digest or an RSA block)
 *   reply    seq u32, length i32 (-1: refused), then `length` octets
 *
 * The server waits for the reply to its own seq, at most
 * KEYPROC_TIMEOUT_MS; a late reply to an abandoned request is skipped.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "ctl.h"
#include "keyproc.h"
#include "serve.h"

enum kp_op {
	KP_EC_SIGN = 1, /* digest -> DER ECDSA signature */
	KP_RSA_PRIV_ENC = 2,
	KP_RSA_PRIV_DEC = 3,
};

struct kp_req_hdr {
	uint32_t seq;
	uint32_t generation;
	uint32_t pair;
	uint8_t op;
	uint8_t padding;
	uint16_t len;
};

struct kp_rep_hdr {
	uint32_t seq;
	int32_t len;
};

#define REQ_MAX (sizeof(struct kp_req_hdr) + KEYPROC_MAX_IN)
#define REP_MAX (sizeof(struct kp_rep_hdr) + KEYPROC_MAX_OUT)

/* ================= the key process ================= */

struct keyset {
	uint32_t generation;
	EVP_PKEY **keys;
	size_t count;
};

struct keyproc {
	struct keyset sets[2]; /* [0] newest */
};

static void
keyset_free(struct keyset *s)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		EVP_PKEY_free(s->keys[i]);
	free(s->keys);
	memset(s, 0, sizeof(*s));
}

static EVP_PKEY *
key_from_pem(const char *pem, size_t len)
{
	EVP_PKEY *key;
	BIO *bio;

	if (len > INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return key;
}

/* The keys of a decoded set; 0, or -1 when one cannot be read. */
static int
keyset_build(struct keyset *s, const struct bundle *b)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->generation = b->generation;
	if (b->pair_count == 0)
		return 0;
	if ((s->keys = calloc(b->pair_count, sizeof(*s->keys))) == NULL)
		return -1;
	s->count = b->pair_count;
	for (i = 0; i < b->pair_count; i++) {
		s->keys[i] =
		    key_from_pem(b->pairs[i].key_pem, b->pairs[i].key_len);
		if (s->keys[i] == NULL) {
			log_warnx("key process: key %zu of set %u cannot be "
			          "read",
			          i, b->generation);
			keyset_free(s);
			ERR_clear_error();
			return -1;
		}
	}
	return 0;
}

/* Reads exactly len octets; 1 done, 0 end of file, -1 error. */
static int
read_full(int fd, uint8_t *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = read(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return off == 0 ? 0 : -1;
		off += (size_t)n;
	}
	return 1;
}

/*
 * One frame (ctl.h) from the parent: a set to keep (answered 1) or not
 * (0); the parent sends the key process no empty frames.  Returns 1
 * after a frame, 0 when the parent is gone, -1 on error.
 */
static int
read_set(struct keyproc *kp, int ctl_fd)
{
	uint8_t hdr[CTL_FRAME_HDR], ack = 0, *buf = NULL;
	struct bundle b;
	struct keyset s;
	size_t need;
	int rc;

	if ((rc = read_full(ctl_fd, hdr, sizeof(hdr))) <= 0)
		return rc;
	if (ctl_header_decode(hdr, BUNDLE_MAX, &need) != 0 || need == 0)
		return -1;
	if ((buf = malloc(need)) == NULL)
		return -1;
	if (read_full(ctl_fd, buf, need) != 1) {
		free(buf);
		return -1;
	}
	memset(&b, 0, sizeof(b));
	if (bundle_decode(buf, need, &b) == 0 && keyset_build(&s, &b) == 0) {
		keyset_free(&kp->sets[1]);
		kp->sets[1] = kp->sets[0];
		kp->sets[0] = s;
		ack = 1;
		log_debug("key process: set %u, %zu keys", s.generation,
		          s.count);
	}
	bundle_free(&b);
	explicit_bzero(buf, need); /* it held private keys */
	free(buf);
	return write(ctl_fd, &ack, 1) == 1 ? 1 : -1;
}

static EVP_PKEY *
find_key(const struct keyproc *kp, uint32_t generation, uint32_t pair)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (kp->sets[i].keys != NULL &&
		    kp->sets[i].generation == generation &&
		    pair < kp->sets[i].count)
			return kp->sets[i].keys[pair];
	return NULL;
}

/* Performs one request; the length of the result, or -1. */
static int
perform(EVP_PKEY *key, const struct kp_req_hdr *h, const uint8_t *in,
        uint8_t *out)
{
	unsigned int siglen = 0;
	EC_KEY *ec = NULL;
	RSA *rsa = NULL;
	int n = -1;

	switch (h->op) {
	case KP_EC_SIGN:
		if ((ec = EVP_PKEY_get1_EC_KEY(key)) != NULL &&
		    (size_t)ECDSA_size(ec) <= KEYPROC_MAX_OUT &&
		    ECDSA_sign(0, in, h->len, out, &siglen, ec) == 1)
			n = (int)siglen;
		break;
	case KP_RSA_PRIV_ENC:
	case KP_RSA_PRIV_DEC:
		if ((rsa = EVP_PKEY_get1_RSA(key)) == NULL ||
		    (size_t)RSA_size(rsa) > KEYPROC_MAX_OUT ||
		    h->len > RSA_size(rsa))
			break;
		n = h->op == KP_RSA_PRIV_ENC ?
		    RSA_private_encrypt(h->len, in, out, rsa, h->padding) :
		    RSA_private_decrypt(h->len, in, out, rsa, h->padding);
		break;
	default:
		break;
	}
	EC_KEY_free(ec);
	RSA_free(rsa);
	return n;
}

/* One request from the server.  0, or -1 when the server is gone. */
static int
answer(struct keyproc *kp, int sign_fd)
{
	uint8_t req[REQ_MAX], rep[REP_MAX];
	struct kp_req_hdr h;
	struct kp_rep_hdr r;
	EVP_PKEY *key;
	ssize_t n;

	n = recv(sign_fd, req, sizeof(req), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	r.len = -1;
	memset(&h, 0, sizeof(h));
	if ((size_t)n >= sizeof(h))
		memcpy(&h, req, sizeof(h));
	r.seq = h.seq;
	if ((size_t)n == sizeof(h) + h.len && h.len <= KEYPROC_MAX_IN &&
	    (key = find_key(kp, h.generation, h.pair)) != NULL) {
		r.len = perform(key, &h, req + sizeof(h), rep + sizeof(r));
		if (r.len < 0)
			r.len = -1;
	}
	if (r.len < 0) {
		log_warnx("key process: refused operation %u on key %u of "
		          "set %u",
		          h.op, h.pair, h.generation);
		ERR_clear_error();
	}
	memcpy(rep, &r, sizeof(r));
	n = send(sign_fd, rep, sizeof(r) + (r.len > 0 ? (size_t)r.len : 0),
	         MSG_NOSIGNAL);
	explicit_bzero(rep, sizeof(rep)); /* an RSA decryption result */
	return n < 0 && errno != EINTR && errno != EAGAIN ? -1 : 0;
}

int
keyproc_main(int ctl_fd, int sign_fd)
{
	struct pollfd pfd[2];
	struct keyproc kp;
	int rc = 0;

	memset(&kp, 0, sizeof(kp));
	pfd[0].fd = ctl_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sign_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("key process: poll");
			rc = 1;
			break;
		}
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
			if ((rc = read_set(&kp, ctl_fd)) <= 0) {
				if (rc < 0)
					log_warnx(
					    "key process: control channel "
					    "broken");
				rc = rc < 0 ? 1 : 0;
				break;
			}
			rc = 0;
		}
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
		    answer(&kp, sign_fd) != 0) {
			log_debug("key process: the server is gone");
			break;
		}
	}
	keyset_free(&kp.sets[0]);
	keyset_free(&kp.sets[1]);
	return rc;
}

/* ================= the server's side ================= */

struct keyref {
	uint32_t generation;
	uint32_t pair;
};

/* The server process has one key process: its socket and methods. */
static struct {
	int fd;
	uint32_t seq;
	uint64_t ops, failures;
	int ec_index, rsa_index;
	EC_KEY_METHOD *ec_meth;
	RSA_METHOD *rsa_meth;
} client = {-1, 0, 0, 0, -1, -1, NULL, NULL};

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Waits for the reply to seq; its length, or -1. */
static int
await_reply(uint32_t seq, uint8_t *out, size_t cap)
{
	uint8_t rep[REP_MAX];
	struct kp_rep_hdr r;
	struct timespec t0;
	struct pollfd pfd;
	long left;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = client.fd;
	pfd.events = POLLIN;
	while ((left = KEYPROC_TIMEOUT_MS - ms_since(&t0)) > 0) {
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = recv(client.fd, rep, sizeof(rep), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(r))
			return -1; /* the key process is gone */
		memcpy(&r, rep, sizeof(r));
		if (r.seq != seq)
			continue; /* the late answer to an abandoned request */
		if (r.len < 0 || (size_t)r.len > cap ||
		    (size_t)n != sizeof(r) + (size_t)r.len)
			return -1;
		memcpy(out, rep + sizeof(r), (size_t)r.len);
		explicit_bzero(rep, sizeof(rep));
		return r.len;
	}
	log_warnx("the key process did not answer in %d ms",
	          KEYPROC_TIMEOUT_MS);
	return -1;
}

/* Forwards one operation; the length of its result, or -1 (counted). */
static int
forward(const struct keyref *ref, enum kp_op op, int padding, const uint8_t *in,
        size_t inlen, uint8_t *out, size_t cap)
{
	uint8_t req[REQ_MAX];
	struct kp_req_hdr h;
	int n = -1;

	client.ops++;
	if (ref != NULL && client.fd >= 0 && inlen <= KEYPROC_MAX_IN &&
	    padding >= 0 && padding <= UINT8_MAX) {
		memset(&h, 0, sizeof(h));
		h.seq = ++client.seq;
		h.generation = ref->generation;
		h.pair = ref->pair;
		h.op = (uint8_t)op;
		h.padding = (uint8_t)padding;
		h.len = (uint16_t)inlen;
		memcpy(req, &h, sizeof(h));
		memcpy(req + sizeof(h), in, inlen);
		if (send(client.fd, req, sizeof(h) + inlen, MSG_NOSIGNAL) ==
		    (ssize_t)(sizeof(h) + inlen))
			n = await_reply(h.seq, out, cap);
	}
	if (n < 0)
		client.failures++;
	return n;
}

static int
ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
        unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	const struct keyref *ref = EC_KEY_get_ex_data(ec, client.ec_index);
	int n;

	if (dlen < 0 || ECDSA_size(ec) <= 0)
		return 0;
	n = forward(ref, KP_EC_SIGN, 0, dgst, (size_t)dlen, sig,
	            (size_t)ECDSA_size(ec));
	if (n < 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

static ECDSA_SIG *
ec_do_sign(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
           const BIGNUM *r, EC_KEY *ec)
{
	unsigned char der[KEYPROC_MAX_OUT];
	const unsigned char *p = der;
	unsigned int len = 0;

	if (ECDSA_size(ec) > (int)sizeof(der) ||
	    ec_sign(0, dgst, dlen, der, &len, kinv, r, ec) != 1)
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, (long)len);
}

static int
rsa_op(enum kp_op op, int flen, const unsigned char *from, unsigned char *to,
       RSA *rsa, int padding)
{
	const struct keyref *ref = RSA_get_ex_data(rsa, client.rsa_index);

	if (flen < 0)
		return -1;
	return forward(ref, op, padding, from, (size_t)flen, to,
	               (size_t)RSA_size(rsa));
}

static int
rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
             int padding)
{
	return rsa_op(KP_RSA_PRIV_ENC, flen, from, to, rsa, padding);
}

static int
rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
             int padding)
{
	return rsa_op(KP_RSA_PRIV_DEC, flen, from, to, rsa, padding);
}

static void
free_ref(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
         void *argp)
{
	free(ptr);
}

void
keyproc_client_init(int sign_fd)
{
	client.fd = sign_fd;
	client.ec_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_EC_KEY, 0,
	                                          NULL, NULL, NULL, free_ref);
	client.rsa_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_RSA, 0, NULL,
	                                           NULL, NULL, free_ref);
	client.ec_meth = EC_KEY_METHOD_new(EC_KEY_get_default_method());
	client.rsa_meth = RSA_meth_dup(RSA_get_default_method());
	if (client.ec_index < 0 || client.rsa_index < 0 ||
	    client.ec_meth == NULL || client.rsa_meth == NULL)
		fatalx("cannot set up the key process's methods");
	EC_KEY_METHOD_set_sign(client.ec_meth, ec_sign, NULL, ec_do_sign);
	if (RSA_meth_set1_name(client.rsa_meth, "mtasts key process") != 1 ||
	    RSA_meth_set_priv_enc(client.rsa_meth, rsa_priv_enc) != 1 ||
	    RSA_meth_set_priv_dec(client.rsa_meth, rsa_priv_dec) != 1)
		fatalx("cannot set up the key process's RSA method");
}

static struct keyref *
ref_new(uint32_t generation, uint32_t pair)
{
	struct keyref *ref = malloc(sizeof(*ref));

	if (ref != NULL) {
		ref->generation = generation;
		ref->pair = pair;
	}
	return ref;
}

static EVP_PKEY *
remote_ec(const EC_KEY *pub, struct keyref *ref)
{
	EVP_PKEY *key = NULL;
	EC_KEY *ec;

	if ((ec = EC_KEY_dup(pub)) == NULL)
		goto fail;
	if (EC_KEY_set_method(ec, client.ec_meth) != 1 ||
	    EC_KEY_set_ex_data(ec, client.ec_index, ref) != 1)
		goto fail;
	ref = NULL; /* the key owns it (free_ref) */
	if ((key = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_assign_EC_KEY(key, ec) != 1)
		goto fail;
	return key;
fail:
	EVP_PKEY_free(key);
	EC_KEY_free(ec);
	free(ref);
	return NULL;
}

static EVP_PKEY *
remote_rsa(const RSA *pub, struct keyref *ref)
{
	EVP_PKEY *key = NULL;
	RSA *rsa;

	if ((rsa = RSAPublicKey_dup(pub)) == NULL)
		goto fail;
	if (RSA_set_method(rsa, client.rsa_meth) != 1 ||
	    RSA_set_ex_data(rsa, client.rsa_index, ref) != 1)
		goto fail;
	ref = NULL;
	if ((key = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_assign_RSA(key, rsa) != 1)
		goto fail;
	return key;
fail:
	EVP_PKEY_free(key);
	RSA_free(rsa);
	free(ref);
	return NULL;
}

EVP_PKEY *
keyproc_remote_key(X509 *leaf, uint32_t generation, uint32_t pair)
{
	EVP_PKEY *pub = X509_get0_pubkey(leaf), *key = NULL;
	struct keyref *ref;

	if (pub == NULL || client.ec_meth == NULL ||
	    (ref = ref_new(generation, pair)) == NULL)
		return NULL;
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_EC:
		key = remote_ec(EVP_PKEY_get0_EC_KEY(pub), ref);
		break;
	case EVP_PKEY_RSA:
		key = remote_rsa(EVP_PKEY_get0_RSA(pub), ref);
		break;
	default:
		free(ref);
		log_warnx("key %u: only RSA and ECDSA keys can be kept in the "
		          "key process",
		          pair);
		break;
	}
	return key;
}

void
keyproc_client_stats(uint64_t *ops, uint64_t *failures)
{
	*ops = client.ops;
	*failures = client.failures;
}
