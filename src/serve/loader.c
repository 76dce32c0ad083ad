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

#include "acme_msg.h"
#include "serve.h"

#define PEM_MAX (1024 * 1024) /* cap on a certificate chain or key file */

/*
 * Reads a whole regular file of at most cap bytes into a NUL-terminated
 * copy.  The open cannot block: a FIFO or a device in a file's place
 * would hang the parent in open(2) or read(2), and a hung parent neither
 * reloads nor stops.  So O_NONBLOCK (and O_NOCTTY) to open, then anything
 * but a regular file is refused.  NULL with the reason in *why.
 */
static char *
read_file(const char *path, size_t cap, size_t *lenp, bool *too_big,
          bool secret, const char **why)
{
	size_t len = 0;
	struct stat st;
	ssize_t n = 0;
	char *buf = NULL;
	int fd;

	*too_big = false;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) <
	    0) {
		*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		*why = strerror(errno);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto fail;
	}
	/* A private key that others can read is no longer private: refused,
	   as OpenBSD's httpd refuses it, rather than served. */
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		*why = "readable or writable by group or others (chmod 600 it)";
		goto fail;
	}
	if ((buf = malloc(cap + 2)) == NULL) {
		*why = "out of memory";
		goto fail;
	}
	while (len < cap + 1) {
		n = read(fd, buf + len, cap + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0) {
		*why = strerror(errno);
		goto fail;
	}
	close(fd);
	*too_big = len > cap;
	buf[len] = '\0';
	*lenp = len;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
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
		if (f->count > 1)
			log_warnx("domain %s: %s:%u: %s: %s (%s) [%s] (and "
			          "%zu more like it)",
			          domain, path, f->line,
			          mts_severity_name(f->severity), f->summary,
			          f->message, f->code, f->count - 1);
		else
			log_warnx("domain %s: %s:%u: %s: %s (%s) [%s]", domain,
			          path, f->line, mts_severity_name(f->severity),
			          f->summary, f->message, f->code);
	}
	if (diag.dropped != 0)
		log_warnx("domain %s: %s: %zu more findings not shown", domain,
		          path, diag.dropped);
	mts_diag_reset(&diag);
	if (rc != 0)
		log_warnx("domain %s: %s does not lint; refusing the "
		          "configuration",
		          domain, path);
	return rc == 0;
}

/*
 * A domain with the paths it uses, before dedup of certificate pairs;
 * the report receiver is one more entry, with its host names.
 */
struct entry {
	const char *name;
	const char *policy;
	const char *cert;
	const char *key;
	char *const *hosts; /* the receiver's names; NULL for a domain */
	size_t host_count;
	uint32_t pair; /* set by load_pairs() */
	/* An ACME domain: cert and key both name its state directory file,
	   read and split already (acme_load()); load_pair() takes them. */
	char *acme_path;
	struct bundle_pair acme;
};

static int
entry_cmp_pair(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;
	int c = strcmp(x->cert, y->cert);

	return c != 0 ? c : strcmp(x->key, y->key);
}

/*
 * Checks a chain and key in memory: the leaf in *leaf (the caller frees
 * it), or NULL with the reason in *why (which `which` says is about the
 * certificate, 'c', or the key, 'k').
 */
static int
check_pair(const struct bundle_pair *p, X509 **leaf, bool key_process,
           const char **why, char *which)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	int rc = -1;

	bio = BIO_new_mem_buf(p->cert_pem, (int)p->cert_len);
	*leaf = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	bio = BIO_new_mem_buf(p->key_pem, (int)p->key_len);
	pkey =
	    bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	*which = 'k';
	if (*leaf == NULL) {
		*which = 'c';
		*why = "no PEM certificate";
	} else if (pkey == NULL) {
		*why = "no PEM private key";
	} else if (X509_check_private_key(*leaf, pkey) != 1) {
		*why = "does not match the certificate";
	} else if (key_process && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA &&
	           EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) {
		*why = "the key process signs with RSA and ECDSA keys only "
		       "(or set key-process no)";
	} else {
		rc = 0;
	}
	if (rc != 0) {
		X509_free(*leaf);
		*leaf = NULL;
	}
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* Frees a pair's strings, the key cleared first. */
static void
pair_clear(struct bundle_pair *p)
{
	if (p->key_pem != NULL)
		explicit_bzero(p->key_pem, p->key_len);
	free(p->key_pem);
	free(p->cert_pem);
	memset(p, 0, sizeof(*p));
}

/* Loads and checks one certificate chain and key; the leaf in *leaf. */
static int
load_pair(struct entry *e, struct bundle_pair *p, X509 **leaf, bool key_process)
{
	const char *why = "larger than 1 MiB";
	char which;
	bool big;

	if (e->acme_path != NULL) {
		/* Checked by acme_load() already: taken as it is. */
		*p = e->acme;
		memset(&e->acme, 0, sizeof(e->acme));
	} else if ((p->cert_pem = read_file(e->cert, PEM_MAX, &p->cert_len,
	                                    &big, false, &why)) == NULL ||
	           big) {
		log_warnx("certificate %s: %s", e->cert, why);
		return -1;
	} else if ((p->key_pem = read_file(e->key, PEM_MAX, &p->key_len, &big,
	                                   true, &why)) == NULL ||
	           big) {
		log_warnx("key %s: %s", e->key, why);
		return -1;
	}
	if (check_pair(p, leaf, key_process, &why, &which) == 0)
		return 0;
	if (which == 'c')
		log_warnx("certificate %s: %s", e->cert, why);
	else
		log_warnx("key %s: %s%s%s", e->key, why,
		          strcmp(why, "does not match the certificate") == 0 ?
		              " " :
		              "",
		          strcmp(why, "does not match the certificate") == 0 ?
		              e->cert :
		              "");
	return -1;
}

/*
 * The pair of an ACME domain: the state directory's file (acme_msg.h:
 * the key, then the chain), read and checked into e->acme.  A domain
 * whose file is not there yet, or is unusable, is no reason to refuse
 * the set: the others are served, and the acme process writes the file
 * (ISSUED) and the parent loads the set again.  So -1 means "leave this
 * domain out", with one warning.
 */
static int
acme_load(struct entry *e, const char *state_dir, bool key_process)
{
	struct bundle_pair pair = {NULL, 0, NULL, 0};
	const char *why = "larger than 1 MiB";
	X509 *leaf = NULL;
	size_t len;
	bool big;
	char *text, which;

	errno = 0;
	text = read_file(e->acme_path, PEM_MAX, &len, &big, true, &why);
	if (text == NULL && errno == ENOENT) {
		if (access(state_dir, F_OK) == 0)
			log_warnx("%s: waiting for its first ACME certificate",
			          e->name);
		else
			log_warnx("%s: waiting for its first ACME certificate "
			          "(no state directory %s yet)",
			          e->name, state_dir);
		return -1;
	}
	if (text != NULL && !big &&
	    acme_pem_split(text, len, &pair.cert_pem, &pair.cert_len,
	                   &pair.key_pem, &pair.key_len) != 0)
		why = "not a private key then a certificate chain in PEM";
	else if (text != NULL && !big &&
	         check_pair(&pair, &leaf, key_process, &why, &which) == 0)
		why = NULL;
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
	if (why != NULL) {
		log_warnx("%s: unusable ACME certificate file %s: %s", e->name,
		          e->acme_path, why);
		pair_clear(&pair);
		return -1;
	}
	X509_free(leaf);
	e->acme = pair;
	return 0;
}

/* Whether leaf covers host: DNS-ID only, a wildcard a whole label. */
static bool
covers(X509 *leaf, const char *host)
{
	return X509_check_host(leaf, host, 0,
	                       X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	                           X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
	                       NULL) == 1;
}

/*
 * Warnings that do not stop serving: name coverage (RFC 8461 §3.3 for
 * the policy host; RFC 8460 §3 lets a report sender ignore certificate
 * errors, but it need not) and expiry.
 */
static void
check_cert_for(const struct entry *e, X509 *leaf)
{
	char host[MTS_DNAME_MAX + 16];
	size_t i;

	if (e->hosts == NULL) {
		snprintf(host, sizeof(host), "mta-sts.%s", e->name);
		if (!covers(leaf, host))
			log_warnx("domain %s: certificate %s does not cover "
			          "%s; senders will not accept the policy",
			          e->name, e->cert, host);
	}
	for (i = 0; e->hosts != NULL && i < e->host_count; i++)
		if (!covers(leaf, e->hosts[i]))
			log_warnx("tlsrpt: certificate %s does not cover %s",
			          e->cert, e->hosts[i]);
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0)
		log_warnx("%s %s: certificate %s has expired",
		          e->hosts == NULL ? "domain" : "tlsrpt", e->name,
		          e->cert);
}

/* Gives every entry a pair index; one pair per distinct cert+key. */
static int
load_pairs(struct entry *entries, size_t n, struct bundle *b, bool key_process)
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
			if (load_pair(order[i], &b->pairs[k], &leaf,
			              key_process) != 0) {
				b->pair_count = k + 1;
				goto fail;
			}
			k++;
		}
		order[i]->pair = (uint32_t)(k - 1);
		check_cert_for(order[i], leaf);
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
	const char *why;
	char *shrunk;
	bool big;

	if ((d->name = strdup(e->name)) == NULL)
		return -1;
	d->policy = read_file(e->policy, MTS_STS_POLICY_MAX, &d->policy_len,
	                      &big, false, &why);
	if (d->policy == NULL) {
		log_warnx("domain %s: policy %s: %s", e->name, e->policy, why);
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

/* A path under a domains-dir entry; NULL when it does not fit. */
static char *
entry_path(char *buf, size_t size, const char *dir, const char *entry,
           const char *file)
{
	int n = snprintf(buf, size, "%s/%s%s%s", dir, entry,
	                 file != NULL ? "/" : "", file != NULL ? file : "");

	return n > 0 && (size_t)n < size ? buf : NULL;
}

/* Whether path exists; -1 (logged) when stat(2) fails otherwise. */
static int
exists(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	log_warn("%s", path);
	return -1;
}

/*
 * Fills d from the domains-dir entry dir/entry, which holds mta-sts.txt
 * (so every path made here fits: none is longer than that one's).
 * The entry's name is the domain, by the rules of a domain block's name
 * (conf_domain_name()): a name that breaks them is refused, not skipped,
 * since a directory with a policy in it is meant to be served.
 */
static int
dir_domain(const char *dir, const char *entry, struct conf_domain *d)
{
	char why[CONF_ERR_SIZE], path[4096];
	int cert, key;

	if (conf_domain_name(entry, &d->name, why, sizeof(why)) != 0) {
		log_warnx("%s/%s: %s", dir, entry, why);
		return -1;
	}
	if ((cert = exists(
		 entry_path(path, sizeof(path), dir, entry, "cert.pem"))) < 0 ||
	    (key = exists(
		 entry_path(path, sizeof(path), dir, entry, "key.pem"))) < 0)
		return -1;
	if (cert != key) {
		log_warnx("%s/%s: %s without %s", dir, entry,
		          cert != 0 ? "cert.pem" : "key.pem",
		          cert != 0 ? "key.pem" : "cert.pem");
		return -1;
	}
	if ((d->source = strdup(
		 entry_path(path, sizeof(path), dir, entry, NULL))) == NULL ||
	    (d->policy = strdup(entry_path(path, sizeof(path), dir, entry,
	                                   "mta-sts.txt"))) == NULL)
		return -1;
	if (cert != 0 &&
	    ((d->certificate = strdup(entry_path(path, sizeof(path), dir, entry,
	                                         "cert.pem"))) == NULL ||
	     (d->key = strdup(entry_path(path, sizeof(path), dir, entry,
	                                 "key.pem"))) == NULL))
		return -1;
	return 0;
}

/*
 * Adds the domains of a domains-dir: every subdirectory that holds
 * mta-sts.txt, and optionally cert.pem and key.pem, named after its
 * domain.  Hidden entries and those without mta-sts.txt are skipped.
 */
static int
scan_dir(const char *dir, struct serve_conf *conf)
{
	struct conf_domain *d, *grown;
	struct dirent *de;
	char path[4096];
	DIR *dp;
	int rc = 0, has;

	if ((dp = opendir(dir)) == NULL) {
		log_warn("domains-dir %s", dir);
		return -1;
	}
	while (rc == 0 && (de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (entry_path(path, sizeof(path), dir, de->d_name,
		               "mta-sts.txt") == NULL) {
			log_warnx("domains-dir %s: path too long", dir);
			rc = -1;
			break;
		}
		if ((has = exists(path)) <= 0) {
			rc = has;
			continue;
		}
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
		d->acme = -1; /* an entry has no block: the global acme */
		rc = dir_domain(dir, de->d_name, d);
	}
	closedir(dp);
	return rc;
}

/* The receiver's entry (RFC 8460 §5.4) after the domains' ones. */
static int
report_entry(const struct serve_conf *conf, struct entry *e)
{
	const struct conf_tlsrpt *t = &conf->tlsrpt;

	e->name = t->hosts[0];
	e->hosts = t->hosts;
	e->host_count = t->host_count;
	e->cert = t->certificate != NULL ? t->certificate : conf->certificate;
	e->key = t->key != NULL ? t->key : conf->key;
	if (e->cert == NULL || e->key == NULL) {
		log_warnx("tlsrpt: no certificate and key");
		return -1;
	}
	return 0;
}

/* The receiver's part of the bundle; the pairs are already loaded. */
static int
report_bundle(const struct conf_tlsrpt *t, uint32_t pair, struct bundle *b)
{
	size_t i;

	if ((b->report_path = strdup(t->path)) == NULL ||
	    (b->report_hosts =
	         calloc(t->host_count, sizeof(*b->report_hosts))) == NULL)
		return -1;
	b->report_max_body = t->max_body;
	b->report_queue = t->queue;
	for (i = 0; i < t->host_count; i++, b->report_host_count++) {
		if ((b->report_hosts[i].name = strdup(t->hosts[i])) == NULL)
			return -1;
		b->report_hosts[i].pair = pair;
	}
	return 0;
}

/* An ACME domain's entry; 1 when its pair is not there (left out). */
static int
acme_entry(const struct serve_conf *conf, struct entry *e)
{
	char path[4096];

	if (acme_cert_path(conf->acme.state_dir, e->name, path, sizeof(path)) !=
	    0) {
		log_warnx("domain %s: acme-state-dir %s: path too long",
		          e->name, conf->acme.state_dir);
		return -1;
	}
	if ((e->acme_path = strdup(path)) == NULL)
		return -1;
	e->cert = e->key = e->acme_path;
	if (acme_load(e, conf->acme.state_dir, conf->key_process) != 0) {
		free(e->acme_path);
		memset(e, 0, sizeof(*e));
		return 1;
	}
	return 0;
}

/*
 * The entries of the domains, in e[0 .. *count): those of ACME domains
 * without a usable pair yet are left out.  The receiver's entry, if any,
 * follows at e[*count].
 */
static int
build_entries(const struct serve_conf *conf, struct entry *e, size_t *count)
{
	const struct conf_domain *d;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < conf->domain_count; i++) {
		d = &conf->domains[i];
		e[n].name = d->name;
		e[n].policy = d->policy;
		if (conf_domain_acme(conf, d)) {
			if ((rc = acme_entry(conf, &e[n])) < 0)
				return -1;
			n += rc == 0;
			continue;
		}
		e[n].cert =
		    d->certificate != NULL ? d->certificate : conf->certificate;
		e[n].key = d->key != NULL ? d->key : conf->key;
		if (e[n].cert == NULL || e[n].key == NULL) {
			log_warnx("domain %s: no certificate and key", d->name);
			return -1;
		}
		n++;
	}
	*count = n;
	if (conf->tlsrpt.enabled && report_entry(conf, &e[n]) != 0)
		return -1;
	return 0;
}

/* Frees what the entries own: ACME paths and pairs not taken. */
static void
free_entries(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; e != NULL && i < n; i++) {
		free(e[i].acme_path);
		pair_clear(&e[i].acme);
	}
	free(e);
}

static int
load_all(const char *path, struct serve_conf *conf, struct bundle *b)
{
	char err[CONF_ERR_SIZE];
	struct entry *entries = NULL;
	size_t i, n, cap = 0, count = 0;
	int rc = -1;

	for (i = 0; i < conf->domains_dir_count; i++)
		if (scan_dir(conf->domains_dirs[i], conf) != 0)
			return -1;
	if (conf->domain_count == 0) {
		log_warnx("no domains configured");
		return -1;
	}
	if (conf_check_unique(conf, path, err) != 0) {
		log_warnx("%s", err);
		return -1;
	}
	cap = conf->domain_count + (conf->tlsrpt.enabled ? 1 : 0);
	if ((entries = calloc(cap, sizeof(*entries))) == NULL ||
	    (b->domains = calloc(conf->domain_count, sizeof(*b->domains))) ==
	        NULL)
		goto fail;
	if (build_entries(conf, entries, &count) != 0)
		goto fail;
	/* Every domain may wait for ACME: the server then answers only the
	   challenges that get them their certificates. */
	b->domain_count = count;
	n = count + (conf->tlsrpt.enabled ? 1 : 0);
	for (i = 0; i < count; i++)
		if (load_domain(&entries[i], &b->domains[i]) != 0)
			goto fail;
	if (n > 0 && load_pairs(entries, n, b, conf->key_process) != 0)
		goto fail;
	for (i = 0; i < count; i++)
		b->domains[i].pair = entries[i].pair;
	if (conf->tlsrpt.enabled &&
	    report_bundle(&conf->tlsrpt, entries[count].pair, b) != 0)
		goto fail;
	if ((b->cache_control = strdup(conf->cache_control)) == NULL)
		goto fail;
	b->max_connections = conf->max_connections;
	b->idle_timeout = conf->idle_timeout;
	b->read_timeout = conf->read_timeout;
	rc = 0;
fail:
	free_entries(entries, cap);
	return rc;
}

int
loader_load(const char *path, struct serve_conf *conf, struct bundle *b)
{
	char err[CONF_ERR_SIZE];
	const char *why;
	size_t len;
	bool big;
	char *text;

	memset(b, 0, sizeof(*b));
	if ((text = read_file(path, CONF_MAX_SIZE, &len, &big, false, &why)) ==
	    NULL) {
		log_warnx("%s: %s", path, why);
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
	if (load_all(path, conf, b) != 0) {
		bundle_free(b);
		conf_free(conf);
		return -1;
	}
	return 0;
}
