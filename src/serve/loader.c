/* SPDX-License-Identifier: ISC */
/*
 * The parent's loader: reads mtasts.conf and every file it names, checks
 * the whole set and turns it into a bundle for the server process.
 *
 * A set is all or nothing.  A policy that does not lint (RFC 8461 §3.2)
 * is refused with the linter's findings: publishing it would make senders
 * treat the domain as having no policy.  A certificate that does not load
 * or does not match its key is refused.  A certificate that does not
 * cover mta-sts.<domain> (§3.3: senders validate that name) or has expired
 * is served with a warning, since that is a deployment state the operator
 * may be in the middle of fixing and `mtasts check` reports.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <mtasts/mtasts.h>

#include "serve.h"

#define PEM_MAX (1024 * 1024) /* cap on a certificate chain or key file */

/* Reads a whole file of at most cap bytes; NUL-terminated copy. */
static char *
read_file(const char *path, size_t cap, size_t *lenp, bool *too_big)
{
	size_t len = 0;
	ssize_t n;
	char *buf;
	int fd;

	*too_big = false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if ((buf = malloc(cap + 2)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < cap + 1) {
		n = read(fd, buf + len, cap + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	*too_big = len > cap;
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Logs every finding of a policy; returns true when it is valid. */
static bool
lint_policy(const char *domain, const char *path, const char *body, size_t len)
{
	const struct mts_finding *f;
	struct mts_diag diag;
	size_t i;
	int rc;

	mts_diag_init(&diag);
	rc = mts_sts_policy_parse(body, len, NULL, &diag, NULL);
	mts_diag_sort(&diag);
	for (i = 0; i < diag.count; i++) {
		f = &diag.items[i];
		if (f->severity == MTS_SEV_INFO)
			continue;
		log_warnx("domain %s: %s:%u: %s: %s (%s) [%s]", domain, path,
		          f->line, mts_severity_name(f->severity), f->summary,
		          f->message, f->code);
	}
	mts_diag_reset(&diag);
	if (rc != 0)
		log_warnx("domain %s: %s does not lint; refusing the "
		          "configuration",
		          domain, path);
	return rc == 0;
}

/* A domain with the paths it uses, before dedup of certificate pairs. */
struct entry {
	const char *name;
	const char *policy;
	const char *cert;
	const char *key;
};

static int
entry_cmp_pair(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;
	int c = strcmp(x->cert, y->cert);

	return c != 0 ? c : strcmp(x->key, y->key);
}

/* Loads and checks one certificate chain and key; the leaf in *leaf. */
static int
load_pair(const char *cert_path, const char *key_path, struct bundle_pair *p,
          X509 **leaf)
{
	EVP_PKEY *pkey = NULL;
	bool big;
	BIO *bio;
	int rc = -1;

	if ((p->cert_pem = read_file(cert_path, PEM_MAX, &p->cert_len, &big)) ==
	        NULL ||
	    big) {
		log_warn("certificate %s", cert_path);
		return -1;
	}
	if ((p->key_pem = read_file(key_path, PEM_MAX, &p->key_len, &big)) ==
	        NULL ||
	    big) {
		log_warn("key %s", key_path);
		return -1;
	}
	bio = BIO_new_mem_buf(p->cert_pem, (int)p->cert_len);
	*leaf = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	bio = BIO_new_mem_buf(p->key_pem, (int)p->key_len);
	pkey =
	    bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (*leaf == NULL)
		log_warnx("certificate %s: no PEM certificate", cert_path);
	else if (pkey == NULL)
		log_warnx("key %s: no PEM private key", key_path);
	else if (X509_check_private_key(*leaf, pkey) != 1)
		log_warnx("key %s does not match certificate %s", key_path,
		          cert_path);
	else
		rc = 0;
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* Warnings that do not stop serving: name coverage and expiry. */
static void
check_cert_for(const char *domain, const char *cert_path, X509 *leaf)
{
	char host[MTS_DNAME_MAX + 16];

	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	/* RFC 8461 §3.3: DNS-ID only, wildcard as a whole leftmost label. */
	if (X509_check_host(leaf, host, 0,
	                    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
	                    NULL) != 1)
		log_warnx("domain %s: certificate %s does not cover %s; "
		          "senders will not accept the policy",
		          domain, cert_path, host);
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0)
		log_warnx("domain %s: certificate %s has expired", domain,
		          cert_path);
}

/* Gives every entry a pair index; one pair per distinct cert+key. */
static int
load_pairs(struct entry *entries, size_t n, struct bundle *b)
{
	struct entry **order;
	X509 *leaf = NULL;
	size_t i, k = 0;
	int rc = -1;

	if ((order = calloc(n, sizeof(*order))) == NULL ||
	    (b->pairs = calloc(n, sizeof(*b->pairs))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		order[i] = &entries[i];
	qsort(order, n, sizeof(*order), entry_cmp_pair);
	for (i = 0; i < n; i++) {
		if (i == 0 || entry_cmp_pair(&order[i - 1], &order[i]) != 0) {
			X509_free(leaf);
			leaf = NULL;
			if (load_pair(order[i]->cert, order[i]->key,
			              &b->pairs[k], &leaf) != 0) {
				b->pair_count = k + 1;
				goto fail;
			}
			k++;
		}
		b->domains[order[i] - entries].pair = (uint32_t)(k - 1);
		check_cert_for(order[i]->name, order[i]->cert, leaf);
	}
	b->pair_count = k;
	rc = 0;
fail:
	X509_free(leaf);
	free(order);
	return rc;
}

static int
load_domain(const struct entry *e, struct bundle_domain *d)
{
	char *shrunk;
	bool big;

	if ((d->name = strdup(e->name)) == NULL)
		return -1;
	d->policy =
	    read_file(e->policy, MTS_STS_POLICY_MAX, &d->policy_len, &big);
	if (d->policy == NULL) {
		log_warn("domain %s: policy %s", e->name, e->policy);
		return -1;
	}
	/* read_file() reserved the 64 KiB cap: keep only what the policy
	   needs, since the server process inherits this heap. */
	if (!big && (shrunk = realloc(d->policy, d->policy_len + 1)) != NULL)
		d->policy = shrunk;
	/* An over-long body is linted too: the linter says why. */
	return lint_policy(e->name, e->policy, d->policy,
	                   big ? MTS_STS_POLICY_MAX + 1 : d->policy_len) ?
	    0 :
	    -1;
}

/*
 * Adds the domains of a domains-dir: every subdirectory named like a
 * domain, holding mta-sts.txt and optionally cert.pem and key.pem.
 */
static int
scan_dir(const char *dir, struct serve_conf *conf)
{
	struct conf_domain *d, *grown;
	struct dirent *de;
	char path[4096];
	struct stat st;
	DIR *dp;
	int rc = 0;

	if ((dp = opendir(dir)) == NULL) {
		log_warn("domains-dir %s", dir);
		return -1;
	}
	while (rc == 0 && (de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.' ||
		    mts_dname_check(de->d_name, strlen(de->d_name),
		                    MTS_DNAME_REQUIRE_DOT, NULL) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/mta-sts.txt", dir,
		         de->d_name);
		if (stat(path, &st) != 0)
			continue;
		grown =
		    realloc(conf->domains,
		            (conf->domain_count + 1) * sizeof(*conf->domains));
		if (grown == NULL) {
			rc = -1;
			break;
		}
		conf->domains = grown;
		d = &conf->domains[conf->domain_count++];
		memset(d, 0, sizeof(*d));
		d->name = strdup(de->d_name);
		d->policy = strdup(path);
		snprintf(path, sizeof(path), "%s/%s/cert.pem", dir, de->d_name);
		if (stat(path, &st) == 0) {
			d->certificate = strdup(path);
			snprintf(path, sizeof(path), "%s/%s/key.pem", dir,
			         de->d_name);
			d->key = strdup(path);
		}
		if (d->name == NULL || d->policy == NULL)
			rc = -1;
	}
	closedir(dp);
	return rc;
}

static int
domain_cmp_name(const void *a, const void *b)
{
	const struct conf_domain *x = *(const struct conf_domain *const *)a;
	const struct conf_domain *y = *(const struct conf_domain *const *)b;

	return strcmp(x->name, y->name);
}

/* A domains-dir may name a domain that is also configured by hand. */
static int
check_unique(const struct serve_conf *conf)
{
	const struct conf_domain **sorted;
	size_t i;
	int rc = 0;

	if (conf->domain_count < 2)
		return 0;
	if ((sorted = calloc(conf->domain_count, sizeof(*sorted))) == NULL)
		return -1;
	for (i = 0; i < conf->domain_count; i++)
		sorted[i] = &conf->domains[i];
	qsort(sorted, conf->domain_count, sizeof(*sorted), domain_cmp_name);
	for (i = 1; i < conf->domain_count; i++)
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
			log_warnx("domain %s is configured twice",
			          sorted[i]->name);
			rc = -1;
		}
	free(sorted);
	return rc;
}

static int
build_entries(const struct serve_conf *conf, struct entry *e)
{
	const struct conf_domain *d;
	size_t i;

	for (i = 0; i < conf->domain_count; i++) {
		d = &conf->domains[i];
		e[i].name = d->name;
		e[i].policy = d->policy;
		e[i].cert =
		    d->certificate != NULL ? d->certificate : conf->certificate;
		e[i].key = d->key != NULL ? d->key : conf->key;
		if (e[i].cert == NULL || e[i].key == NULL) {
			log_warnx("domain %s: no certificate and key", d->name);
			return -1;
		}
	}
	return 0;
}

static int
load_all(struct serve_conf *conf, struct bundle *b)
{
	struct entry *entries = NULL;
	size_t i;
	int rc = -1;

	for (i = 0; i < conf->domains_dir_count; i++)
		if (scan_dir(conf->domains_dirs[i], conf) != 0)
			return -1;
	if (conf->domain_count == 0) {
		log_warnx("no domains configured");
		return -1;
	}
	if (check_unique(conf) != 0)
		return -1;
	if ((entries = calloc(conf->domain_count, sizeof(*entries))) == NULL ||
	    (b->domains = calloc(conf->domain_count, sizeof(*b->domains))) ==
	        NULL)
		goto fail;
	b->domain_count = conf->domain_count;
	if (build_entries(conf, entries) != 0)
		goto fail;
	for (i = 0; i < conf->domain_count; i++)
		if (load_domain(&entries[i], &b->domains[i]) != 0)
			goto fail;
	if (load_pairs(entries, conf->domain_count, b) != 0)
		goto fail;
	if ((b->cache_control = strdup(conf->cache_control)) == NULL)
		goto fail;
	b->max_connections = conf->max_connections;
	b->idle_timeout = conf->idle_timeout;
	b->read_timeout = conf->read_timeout;
	rc = 0;
fail:
	free(entries);
	return rc;
}

int
loader_load(const char *path, struct serve_conf *conf, struct bundle *b)
{
	char err[CONF_ERR_SIZE];
	size_t len;
	bool big;
	char *text;

	memset(b, 0, sizeof(*b));
	if ((text = read_file(path, CONF_MAX_SIZE, &len, &big)) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	if (big) {
		log_warnx("%s: larger than %d bytes", path, CONF_MAX_SIZE);
		free(text);
		return -1;
	}
	if (conf_parse(text, len, path, conf, err) != 0) {
		log_warnx("%s", err);
		free(text);
		return -1;
	}
	free(text);
	if (load_all(conf, b) != 0) {
		bundle_free(b);
		conf_free(conf);
		return -1;
	}
	return 0;
}
