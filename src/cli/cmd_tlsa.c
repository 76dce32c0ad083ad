/* SPDX-License-Identifier: ISC */
/*
 * mtasts tlsa gen: the TLSA record (RFC 6698 §2) of a certificate or key,
 * as a zone-file line.  The defaults are the record RFC 7672 §3.1
 * recommends first for SMTP: 3 1 1 (DANE-EE, SubjectPublicKeyInfo,
 * SHA2-256), owner _25._tcp.<host>.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cli.h"

#define PEM_CAP (1024 * 1024)

struct tlsa_opts {
	unsigned usage, selector, mtype, port;
	const char *name;
	bool json;
};

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s tlsa gen [--usage U] [--selector S] [--mtype M]\n"
	    "       [--name HOST] [--port PORT] [--json] CERT|KEY\n\n"
	    "Prints the TLSA record of a PEM certificate (chain) or key:\n"
	    "  --usage U     3 DANE-EE (default) or 2 DANE-TA\n"
	    "  --selector S  1 public key (default) or 0 whole certificate\n"
	    "  --mtype M     1 SHA2-256 (default), 2 SHA2-512, 0 full data\n"
	    "  --name HOST   the MX host; default: the certificate's first\n"
	    "                DNS name\n"
	    "  --port PORT   default 25\n\n"
	    "Usage 3 takes the first certificate of a chain file, usage 2 the\n"
	    "last (the trust anchor of fullchain.pem).  A key file allows\n"
	    "selector 1 only: publish the next key's record before a rollover\n"
	    "(RFC 7671 §8.1).\n",
	    progname);
}

/* Every certificate of a PEM file; NULL when it holds none. */
static STACK_OF(X509) * read_certs(const char *pem, size_t len)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x;

	while (certs != NULL && bio != NULL &&
	       (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(certs, x) == 0)
			X509_free(x);
	BIO_free(bio);
	ERR_clear_error();
	if (certs != NULL && sk_X509_num(certs) == 0) {
		sk_X509_free(certs);
		certs = NULL;
	}
	return certs;
}

/* A public key from a PEM public or private key. */
static EVP_PKEY *
read_key(const char *pem, size_t len)
{
	EVP_PKEY *k;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (k == NULL) {
		(void)BIO_reset(bio);
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	}
	BIO_free(bio);
	ERR_clear_error();
	return k;
}

/* The first DNS name of the certificate's subjectAltName, or NULL. */
static char *
first_dns_name(X509 *x)
{
	GENERAL_NAMES *names =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const GENERAL_NAME *gn;
	char *name = NULL;
	int i;

	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type == GEN_DNS) {
			name =
			    strndup((const char *)ASN1_STRING_get0_data(
					gn->d.dNSName),
			            (size_t)ASN1_STRING_length(gn->d.dNSName));
			break;
		}
	}
	GENERAL_NAMES_free(names);
	return name;
}

static int
tlsa_of_cert(STACK_OF(X509) * certs, const struct tlsa_opts *o,
             struct mts_dane_tlsa *t, char **name)
{
	X509 *x = o->usage == MTS_TLSA_USAGE_DANE_TA ?
	    sk_X509_value(certs, sk_X509_num(certs) - 1) :
	    sk_X509_value(certs, 0);
	unsigned char *der = NULL;
	struct mts_err err;
	int n, rc;

	if ((n = i2d_X509(x, &der)) <= 0)
		return -1;
	rc = mts_dane_tlsa_from_cert(der, (size_t)n, (uint8_t)o->usage,
	                             (uint8_t)o->selector, (uint8_t)o->mtype, t,
	                             &err);
	OPENSSL_free(der);
	if (rc != 0)
		warnx_cli("tlsa: %s", err.msg);
	else if (o->name == NULL)
		*name = first_dns_name(sk_X509_value(certs, 0));
	return rc;
}

static int
tlsa_of_key(EVP_PKEY *k, const struct tlsa_opts *o, struct mts_dane_tlsa *t)
{
	unsigned char *der = NULL;
	struct mts_err err;
	int n, rc;

	if (o->selector != MTS_TLSA_SELECTOR_SPKI) {
		warnx_cli("tlsa: a key has no certificate: use --selector 1");
		return -1;
	}
	if ((n = i2d_PUBKEY(k, &der)) <= 0)
		return -1;
	rc = mts_dane_tlsa_from_spki(der, (size_t)n, (uint8_t)o->usage,
	                             (uint8_t)o->mtype, t, &err);
	OPENSSL_free(der);
	if (rc != 0)
		warnx_cli("tlsa: %s", err.msg);
	return rc;
}

static int
print_record(const struct mts_dane_tlsa *t, const char *host,
             const struct tlsa_opts *o)
{
	char owner[MTS_DNAME_MAX + 32] = "";
	struct mts_err err;
	char *rdata;
	json_t *j;

	if (host != NULL &&
	    mts_dane_tlsa_owner(host, o->port, owner, sizeof(owner), &err) !=
	        0) {
		warnx_cli("tlsa: --name '%s': %s", host, err.msg);
		return EXIT_INVALID;
	}
	if ((rdata = mts_dane_tlsa_format(t)) == NULL)
		return EXIT_USAGE;
	if (o->json) {
		j = json_pack("{s:s?, s:i, s:i, s:i, s:s}", "owner",
		              owner[0] != '\0' ? owner : NULL, "usage",
		              t->usage, "selector", t->selector, "mtype",
		              t->mtype, "rdata", rdata);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else if (owner[0] != '\0') {
		printf("%s. IN TLSA %s\n", owner, rdata);
	} else {
		printf("%s\n", rdata);
	}
	free(rdata);
	return EXIT_VALID;
}

static int
tlsa_gen(const char *path, const struct tlsa_opts *o)
{
	struct mts_dane_tlsa t = {0, 0, 0, 0, NULL};
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	char *pem, *name = NULL;
	size_t len;
	int rc = EXIT_INVALID;

	if (read_capped(path, PEM_CAP, &pem, &len) != 0)
		return EXIT_USAGE;
	if (len > PEM_CAP) {
		warnx_cli("tlsa: %s: larger than %d bytes", path, PEM_CAP);
		free(pem);
		return EXIT_USAGE;
	}
	if ((certs = read_certs(pem, len)) != NULL) {
		if (tlsa_of_cert(certs, o, &t, &name) != 0)
			goto out;
	} else if ((key = read_key(pem, len)) != NULL) {
		if (tlsa_of_key(key, o, &t) != 0)
			goto out;
	} else {
		warnx_cli("tlsa: %s: no PEM certificate or key", path);
		goto out;
	}
	rc = print_record(&t, o->name != NULL ? o->name : name, o);
out:
	mts_dane_tlsa_reset(&t);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	free(name);
	free(pem);
	return rc;
}

static int
parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
cmd_tlsa(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"mtype", required_argument, NULL, 'm'},
	    {"name", required_argument, NULL, 'n'},
	    {"port", required_argument, NULL, 'p'},
	    {"selector", required_argument, NULL, 's'},
	    {"usage", required_argument, NULL, 'u'},
	    {NULL, 0, NULL, 0},
	};
	struct tlsa_opts o = {3, 1, 1, 25, NULL, false};
	int ch, bad = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hjm:n:p:s:u:", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return EXIT_VALID;
		case 'j':
			o.json = true;
			break;
		case 'm':
			bad |= parse_uint(optarg, 2, &o.mtype);
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'p':
			bad |= parse_uint(optarg, 65535, &o.port) != 0 ||
			    o.port == 0;
			break;
		case 's':
			bad |= parse_uint(optarg, 1, &o.selector);
			break;
		case 'u':
			bad |=
			    parse_uint(optarg, 3, &o.usage) != 0 || o.usage < 2;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (bad != 0 || argc - optind != 2 ||
	    strcmp(argv[optind], "gen") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return tlsa_gen(argv[optind + 1], &o);
}
