/* SPDX-License-Identifier: ISC */
/*
 * mtasts tlsa gen: the TLSA record (RFC 6698 §2) of a certificate or key,
 * as a zone-file line.  The defaults are the record RFC 7672 §3.1
 * recommends first for SMTP: 3 1 1 (DANE-EE, SubjectPublicKeyInfo,
 * SHA2-256), owner _25._tcp.<host>.
 *
 * mtasts tlsa check: the TLSA records of one host as a DANE sender finds
 * them (RFC 7672 §2.2: secure addresses, for an alias the CNAME target
 * first, then the host; the lookups and the decision are
 * src/check/dane_host.c's struct dane_host), then STARTTLS with every address, and which record
 * matches which certificate of the chain.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <mtasts/dns.h>

#include "cli.h"
#include "dane_host.h"
#include "probe.h"

#define PEM_CAP (1024 * 1024)

struct tlsa_opts {
	unsigned usage, selector, mtype, port, timeout_ms;
	const char *name;
	const char *resolver, *trust_anchor, *ca_file;
	bool json;
};

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s tlsa gen [--usage U] [--selector S] [--mtype M]\n"
	    "       [--name HOST] [--port PORT] [--json] CERT|KEY\n"
	    "       %s tlsa check [--port PORT] [--resolver ADDR]\n"
	    "       [--trust-anchor FILE] [--ca-file FILE] [--timeout MS] HOST\n\n"
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
	    "(RFC 7671 §8.1).\n\n"
	    "tlsa check finds the TLSA records of HOST as a DANE sender does\n"
	    "(behind DNSSEC-secure addresses only; for an alias at its CNAME\n"
	    "target first, then at HOST), does STARTTLS with HOST on every\n"
	    "address and says which records match which certificate.  Exit 0\n"
	    "when DANE authenticates every address.\n",
	    progname, progname);
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

/* ---- tlsa check ---- */

/*
 * The host's lookups and the DANE decision are dane_host.c's (struct
 * dane_host), so that tlsa check finds the TLSA base domain exactly as
 * mtasts check and a DANE sender do (RFC 7672 §2.2).
 */

#define CHECK_ADDRS 4 /* addresses probed per address family */

struct tlsa_check {
	const struct tlsa_opts *o;
	const char *host;
	struct event_base *base;
	struct mts_dns *dns;
	SSL_CTX *ctx;
	unsigned pending; /* the lookups, then each probe */
	struct dane_host dh;
	const struct tlsa_lookup *shown; /* whose records are matched */
	size_t dane_ok, probed;
	int failed;
};

static void
tlsa_check_release(struct tlsa_check *tc)
{
	if (--tc->pending == 0)
		event_base_loopexit(tc->base, NULL);
}

/* Which certificate of the presented chain each record matches. */
static void
print_matches(const struct tlsa_check *tc, const struct probe_result *r)
{
	const struct tlsa_lookup *t = tc->shown;
	size_t i, d;
	char *text;
	bool any;

	for (i = 0; t != NULL && i < t->count; i++) {
		text = mts_dane_tlsa_format(&t->tlsa[i]);
		printf("    %.60s%s: ", text != NULL ? text : "?",
		       text != NULL && strlen(text) > 60 ? "..." : "");
		free(text);
		if (mts_dane_tlsa_usable(&t->tlsa[i], 0, NULL) != 0) {
			puts("unusable for SMTP");
			continue;
		}
		for (any = false, d = 0; d < r->chain_count; d++)
			if (mts_dane_tlsa_match_cert(&t->tlsa[i],
			                             r->chain_der[d],
			                             r->chain_len[d])) {
				printf("%smatches the certificate at depth %zu",
				       any ? ", " : "", d);
				any = true;
			}
		puts(any ? "" : "matches nothing presented");
	}
}

static void
on_tlsa_probe(void *arg, struct probe_result *r)
{
	struct tlsa_check *tc = arg;

	tc->probed++;
	if (r->stage != PROBE_DONE) {
		printf("%s [%s]: %s: %s\n", tc->host, r->address,
		       probe_stage_name(r->stage), r->why);
		tc->failed++;
	} else {
		printf("%s [%s]: %s, DANE %s", tc->host, r->address,
		       r->tls_version,
		       !r->dane_checked ?
		           "not checked (no usable secure record)" :
		           r->dane_ok ? "ok" :
		                        "FAILED");
		if (r->dane_ok)
			printf(" (usage %d, depth %d)", r->dane_usage,
			       r->dane_depth);
		printf(", Web PKI %s\n",
		       r->verify_error == 0 && r->name_ok ? "ok" : "not valid");
		print_matches(tc, r);
		if (r->dane_ok)
			tc->dane_ok++;
	}
	probe_result_free(r);
	tlsa_check_release(tc);
}

/* An address or CNAME lookup's outcome: its rcode, or "bogus". */
static const char *
rrset_status(const struct rrset *r)
{
	return r->dnssec == MTS_DNSSEC_BOGUS ? "bogus" :
					       mts_dns_rcode_name(r->rcode);
}

static void
print_tlsa_lookup(const struct tlsa_check *tc, const struct tlsa_lookup *t)
{
	printf("_%u._tcp.%s: %zu TLSA record%s (%s, %s)\n", tc->o->port,
	       t->base, t->records, t->records == 1 ? "" : "s",
	       mts_dns_rcode_name(t->rcode), mts_dnssec_name(t->dnssec));
	if (t->records > 0 && t->dnssec != MTS_DNSSEC_SECURE)
		puts("  not DNSSEC-secure: senders ignore these records "
		     "(RFC 7672 §2.1)");
}

/*
 * Why this TLSA base domain (RFC 7672 §2.2.2, §2.2.3), and the SNI and
 * reference identifiers it gives (§3.2.2), for an alias; a plain host
 * is its own base domain, as the lookup line shows.
 */
static void
print_base(const struct tlsa_check *tc)
{
	const struct dane_host *h = &tc->dh;
	const struct tlsa_lookup *t = h->dane_at;
	const char *expanded = dane_host_expanded(h);
	size_t i;

	if (expanded == NULL)
		return;
	printf("TLSA at _%u._tcp.%s ", tc->o->port, t->base);
	if (t == &h->tlsa[1])
		printf("(CNAME target of %s)\n", tc->host);
	else if (h->tlsa[1].started)
		printf("(%s itself: its CNAME target %s has %s)\n", tc->host,
		       expanded,
		       h->tlsa[1].records > 0 ? "only insecure TLSA records" :
		                                "no TLSA records");
	else
		printf("(%s itself: the addresses of its CNAME target %s are "
		       "not DNSSEC-secure, its first CNAME is)\n",
		       tc->host, expanded);
	if (dane_host_usable(t) > 0) {
		printf("  SNI %s, DANE-TA names %s", t->base, t->base);
		for (i = 0; h->names[i] != NULL; i++)
			printf(", %s", h->names[i]);
		puts(" (RFC 7672 §3.2.2)");
	}
	if (t == &h->tlsa[1] && h->tlsa[0].records > 0)
		printf("  the records at _%u._tcp.%s are not used: the CNAME "
		       "target's come first (RFC 7672 §2.2.3)\n",
		       tc->o->port, tc->host);
}

/* What a DANE sender makes of the lookups, when not DANE (§2.2). */
static void
print_no_dane(const struct tlsa_check *tc)
{
	const struct dane_host *h = &tc->dh;
	const struct tlsa_lookup *t = h->dane_at;
	char why[2 * MTS_DNAME_MAX + 128];

	switch (h->dane) {
	case DANE_SECURE:
		return;
	case DANE_BOGUS:
	case DANE_LOOKUP_FAILED:
		printf("DANE senders treat %s as unreachable and send it no "
		       "mail: the TLSA lookup at _%u._tcp.%s %s (RFC 7672 "
		       "§2.1.1)\n",
		       tc->host, tc->o->port, t->base,
		       h->dane == DANE_BOGUS ? "is bogus" : "failed");
		return;
	case DANE_NONE:
	case DANE_INSECURE:
	case DANE_IGNORED:
		break;
	}
	printf("DANE does not apply: %s\n",
	       dane_host_why_not(h, why, sizeof(why)));
}

/* The lookups and the decision, in the order a DANE sender takes them. */
static void
print_lookups(const struct tlsa_check *tc)
{
	const struct dane_host *h = &tc->dh;
	const char *expanded = dane_host_expanded(h);

	if (expanded != NULL)
		printf("%s is an alias of %s (addresses %s%s%s)\n", tc->host,
		       expanded,
		       dane_host_addresses_secure(h) ? "secure" : "insecure",
		       h->cname_started ? ", first CNAME " : "",
		       !h->cname_started ? "" :
		           h->cname.rcode == MTS_DNS_ANSWER ?
		                           mts_dnssec_name(h->cname.dnssec) :
		                           rrset_status(&h->cname));
	if (h->tlsa[1].started)
		print_tlsa_lookup(tc, &h->tlsa[1]);
	print_tlsa_lookup(tc, &h->tlsa[0]);
	if (h->a.count + h->aaaa.count == 0) {
		printf("%s: no address (A %s, AAAA %s)\n", tc->host,
		       rrset_status(&h->a), rrset_status(&h->aaaa));
		return;
	}
	if (h->dane == DANE_SECURE)
		print_base(tc);
	else
		print_no_dane(tc);
}

static void
probe_addrs(struct tlsa_check *tc, const struct rrset *r)
{
	const struct tlsa_lookup *t;
	struct probe_options po;
	size_t i;

	memset(&po, 0, sizeof(po));
	po.port = tc->o->port;
	po.timeout_ms = tc->o->timeout_ms;
	t = dane_host_probe(&tc->dh, &po);
	for (i = 0; i < r->count && i < CHECK_ADDRS; i++) {
		tc->pending++;
		if (probe_mx(tc->base, tc->ctx, tc->host, r->addr[i],
		             t != NULL ? t->tlsa : NULL,
		             t != NULL ? t->count : 0, &po, on_tlsa_probe,
		             tc) != 0) {
			tc->pending--;
			tc->failed++;
		}
	}
}

/* Every lookup is in and DANE is decided: say so, probe each address. */
static void
on_lookups(void *arg, struct dane_host *h)
{
	struct tlsa_check *tc = arg;

	/* An answer that could not be kept whole judges nothing: a record
	   left out would turn into a false mismatch. */
	if (h->nomem) {
		warnx_cli("tlsa: %s: out of memory while keeping the DNS "
		          "answers; nothing judged",
		          tc->host);
		tc->failed++;
		tlsa_check_release(tc);
		return;
	}
	tc->shown = h->dane_at != NULL && h->dane_at->count > 0 ? h->dane_at :
	    h->tlsa[0].count > 0                                ? &h->tlsa[0] :
								  NULL;
	dane_host_names(h, NULL);
	print_lookups(tc);
	probe_addrs(tc, &h->a);
	probe_addrs(tc, &h->aaaa);
	tlsa_check_release(tc);
}

static int
tlsa_check(const char *host, const struct tlsa_opts *o)
{
	struct mts_dns_options dopt = {o->resolver, o->trust_anchor, 0};
	struct tlsa_check tc;
	char owner[MTS_DNAME_MAX + 32];
	struct mts_err err;
	int rc = EXIT_USAGE;

	memset(&tc, 0, sizeof(tc));
	tc.o = o;
	tc.host = host;
	signal(SIGPIPE, SIG_IGN);
	if (mts_dane_tlsa_owner(host, o->port, owner, sizeof(owner), &err) !=
	    0) {
		warnx_cli("tlsa: '%s': %s", host, err.msg);
		return EXIT_USAGE;
	}
	/* Each step its own message: err is written by mts_dns_new() only. */
	if ((tc.base = event_base_new()) == NULL) {
		warnx_cli("tlsa: cannot start: no event loop (libevent)");
		goto out;
	}
	if ((tc.dns = mts_dns_new(tc.base, &dopt, &err)) == NULL) {
		warnx_cli("tlsa: cannot start: %s", err.msg);
		goto out;
	}
	if ((tc.ctx = probe_ctx_new(o->ca_file)) == NULL) {
		warnx_cli("tlsa: cannot start: TLS context");
		goto out;
	}
	tc.pending = 1; /* until the lookups are in */
	if (dane_host_start(&tc.dh, tc.dns, host, o->port, NULL, on_lookups,
	                    &tc) != 0) {
		warnx_cli("tlsa: cannot query %s", host);
		goto out;
	}
	if (event_base_dispatch(tc.base) == -1) {
		warnx_cli("tlsa: the event loop failed");
		goto out;
	}
	if (tc.shown != NULL)
		puts("advice: before a key rollover, publish the next key's "
		     "record (mtasts tlsa gen NEXT-KEY.pem) beside these, wait "
		     "for the TTL, then switch keys (RFC 7671 §8.1).");
	rc = tc.failed == 0 && tc.probed > 0 && tc.dane_ok == tc.probed ?
	    EXIT_VALID :
	    EXIT_INVALID;
out:
	mts_dns_free(tc.dns);
	SSL_CTX_free(tc.ctx);
	dane_host_reset(&tc.dh);
	if (tc.base != NULL)
		event_base_free(tc.base);
	return rc;
}

int
cmd_tlsa(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"ca-file", required_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"mtype", required_argument, NULL, 'm'},
	    {"name", required_argument, NULL, 'n'},
	    {"port", required_argument, NULL, 'p'},
	    {"resolver", required_argument, NULL, 'R'},
	    {"selector", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"trust-anchor", required_argument, NULL, 'A'},
	    {"usage", required_argument, NULL, 'u'},
	    {NULL, 0, NULL, 0},
	};
	struct tlsa_opts o = {3, 1, 1, 25, 0, NULL, NULL, NULL, NULL, false};
	int ch, bad = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hjm:n:p:s:u:A:C:R:T:", longopts,
	                         NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return EXIT_VALID;
		case 'j':
			o.json = true;
			break;
		case 'm':
			bad |= cli_parse_unsigned(optarg, 2, &o.mtype);
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'p':
			bad |=
			    cli_parse_unsigned(optarg, 65535, &o.port) != 0 ||
			    o.port == 0;
			break;
		case 's':
			bad |= cli_parse_unsigned(optarg, 1, &o.selector);
			break;
		case 'u':
			bad |= cli_parse_unsigned(optarg, 3, &o.usage) != 0 ||
			    o.usage < 2;
			break;
		case 'A':
			o.trust_anchor = optarg;
			break;
		case 'C':
			o.ca_file = optarg;
			break;
		case 'R':
			o.resolver = optarg;
			break;
		case 'T':
			bad |=
			    cli_parse_unsigned(optarg, 600000, &o.timeout_ms);
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (bad != 0 || argc - optind != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "gen") == 0)
		return tlsa_gen(argv[optind + 1], &o);
	if (strcmp(argv[optind], "check") == 0)
		return tlsa_check(argv[optind + 1], &o);
	usage(stderr);
	return EXIT_USAGE;
}
