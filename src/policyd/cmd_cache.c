/* SPDX-License-Identifier: ISC */
/*
 * `mtasts policyd cache dump` and `mtasts policyd cache purge`: the
 * persistent policy cache read and trimmed straight through cache.h,
 * whether the daemon runs or not (SQLite in WAL mode lets both at
 * once; each put of the daemon replaces a whole entry).
 *
 * A purge does not reach a running daemon's memory: its entries live
 * there until they expire, or until SIGHUP starts a new worker with an
 * empty memory (mtasts-policyd(8) says so).
 *
 * Run as root on an SQLite store, the command becomes the owner of the
 * store's directory first, so that the -wal and -shm files it may make
 * stay the daemon's.
 */
#define _GNU_SOURCE /* setresuid(2), setresgid(2) */
#include <sys/stat.h>

#include <ctype.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cache.h"
#include "conf.h"
#include "daemon.h"

enum { C_OK = 0, C_MISSING = 1, C_USAGE = 2 };

struct dump {
	char **domains; /* NULL: all */
	int ndomains;
	bool json;
	json_t *array;
	size_t count;
};

static void
usage(void)
{
	fprintf(stderr,
	        "usage: mtasts policyd cache dump [--json] [-f file] "
	        "[--cache url] [domain ...]\n"
	        "       mtasts policyd cache purge [-f file] "
	        "[--cache url] domain ... | --expired | --all\n");
}

static const char *
kind_name(enum pcache_kind k)
{
	switch (k) {
	case PCACHE_POLICY:
		return "policy";
	case PCACHE_NO_POLICY:
		return "no-policy";
	case PCACHE_DANE:
		return "dane";
	}
	return "unknown";
}

static void
when(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool
wanted(const struct dump *d, const char *domain)
{
	int i;

	if (d->ndomains == 0)
		return true;
	for (i = 0; i < d->ndomains; i++)
		if (strcmp(d->domains[i], domain) == 0)
			return true;
	return false;
}

static int
dump_json(struct dump *d, const struct pcache_entry *e)
{
	char f[32], x[32], n[32], b[32];
	json_t *o;

	when(e->fetched, f, sizeof(f));
	when(e->expires, x, sizeof(x));
	when(e->next_check, n, sizeof(n));
	when(e->backoff_until, b, sizeof(b));
	o = json_pack("{s:s, s:s, s:s, s:s#, s:s, s:s, s:s, s:s, s:s, s:s}",
	              "domain", e->domain, "kind", kind_name(e->kind), "id",
	              e->id, "policy", e->body != NULL ? e->body : "",
	              e->body_len, "fetched", f, "expires", x, "next_check", n,
	              "backoff_until", b, "failure_class", e->failure_class,
	              "failure", e->failure);
	if (o == NULL || json_array_append_new(d->array, o) != 0)
		return -1;
	return 0;
}

static int
dump_one(const struct pcache_entry *e, void *ctx)
{
	struct dump *d = ctx;
	char f[32], x[32];
	size_t i, start;

	if (!wanted(d, e->domain))
		return 0;
	d->count++;
	if (d->json)
		return dump_json(d, e) != 0 ? 1 : 0;
	when(e->fetched, f, sizeof(f));
	when(e->expires, x, sizeof(x));
	printf("%s %s id=%s fetched=%s expires=%s", e->domain,
	       kind_name(e->kind), e->id[0] != '\0' ? e->id : "-", f, x);
	if (e->failure_class[0] != '\0')
		printf(" failure=%s (%s)", e->failure_class, e->failure);
	printf("\n");
	/* The policy's lines, indented, as the text of its fetch. */
	for (i = start = 0; e->body != NULL && i <= e->body_len; i++)
		if (i == e->body_len || e->body[i] == '\n') {
			if (i > start)
				printf("    %.*s\n", (int)(i - start),
				       e->body + start);
			start = i + 1;
		}
	return 0;
}

/* A domain as the store keys it: lower case, no trailing dot. */
static void
normalise(char *s)
{
	size_t n = strlen(s);

	if (n > 1 && s[n - 1] == '.')
		s[n - 1] = '\0';
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Root on SQLite: the owner of the store's directory. */
static int
become_owner(const char *url)
{
	char copy[PATH_MAX];
	struct stat st;

	if (geteuid() != 0 || strncmp(url, "sqlite:", 7) != 0)
		return 0;
	snprintf(copy, sizeof(copy), "%s", url + 7);
	if (stat(dirname(copy), &st) != 0 || st.st_uid == 0)
		return 0;
	if (setgroups(1, &st.st_gid) != 0 ||
	    setresgid(st.st_gid, st.st_gid, st.st_gid) != 0 ||
	    setresuid(st.st_uid, st.st_uid, st.st_uid) != 0) {
		perror("mtasts policyd cache: cannot become the store's owner");
		return -1;
	}
	return 0;
}

/* The store URL: --cache, else the configuration's. */
static int
store_url(const char *conf_path, bool conf_given, const char *cache, char **out)
{
	struct policyd_conf conf;

	if (cache != NULL) {
		*out = strdup(cache);
		return *out != NULL ? 0 : -1;
	}
	if (!conf_given && access(conf_path, F_OK) != 0) {
		*out = strdup(POLICYD_DEFAULT_CACHE);
		return *out != NULL ? 0 : -1;
	}
	if (policyd_conf_load(conf_path, &conf, NULL, NULL) != 0)
		return -1;
	if (conf.cache == NULL) {
		fprintf(stderr, "mtasts policyd cache: %s: cache none\n",
		        conf_path);
		policyd_conf_free(&conf);
		return -1;
	}
	*out = conf.cache;
	conf.cache = NULL;
	policyd_conf_free(&conf);
	return 0;
}

static int
do_dump(struct pcache *store, struct dump *d)
{
	char why[PCACHE_WHY_SIZE];
	int rc;

	if (d->json && (d->array = json_array()) == NULL)
		return C_USAGE;
	rc = pcache_walk(store, dump_one, d, why, sizeof(why));
	if (rc < 0)
		fprintf(stderr, "mtasts policyd cache dump: %s\n", why);
	if (rc == 0 && d->json) {
		json_dumpf(d->array, stdout, JSON_INDENT(2));
		printf("\n");
	}
	json_decref(d->array);
	if (rc != 0)
		return C_USAGE;
	return d->ndomains > 0 && d->count < (size_t)d->ndomains ? C_MISSING :
								   C_OK;
}

/* The domains of every entry, for --all: the walk may not delete. */
struct names {
	char **v;
	size_t n, cap;
};

static int
collect(const struct pcache_entry *e, void *ctx)
{
	struct names *ns = ctx;
	char **v;

	if (ns->n == ns->cap) {
		ns->cap = ns->cap == 0 ? 64 : ns->cap * 2;
		if ((v = realloc(ns->v, ns->cap * sizeof(*v))) == NULL)
			return 1;
		ns->v = v;
	}
	if ((ns->v[ns->n] = strdup(e->domain)) == NULL)
		return 1;
	ns->n++;
	return 0;
}

/*
 * --all: every entry deleted one by one (not pcache_purge_expired() with
 * a far time: an engine that expires entries itself purges none that
 * way).
 */
static int
purge_all(struct pcache *store)
{
	char why[PCACHE_WHY_SIZE];
	struct names ns = {NULL, 0, 0};
	size_t i, count = 0;
	int rc;

	if ((rc = pcache_walk(store, collect, &ns, why, sizeof(why))) != 0)
		fprintf(stderr, "mtasts policyd cache purge: %s\n",
		        rc < 0 ? why : "out of memory");
	for (i = 0; rc == 0 && i < ns.n; i++) {
		if (pcache_delete(store, ns.v[i], why, sizeof(why)) < 0) {
			fprintf(stderr, "mtasts policyd cache purge: %s: %s\n",
			        ns.v[i], why);
			rc = -1;
		} else {
			count++;
		}
	}
	for (i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	printf("%zu entries purged\n", count);
	return rc == 0 ? C_OK : C_USAGE;
}

static int
do_purge(struct pcache *store, char **domains, int n, bool expired, bool all)
{
	char why[PCACHE_WHY_SIZE];
	size_t count = 0;
	int i, rc, status = C_OK;

	if (all)
		return purge_all(store);
	if (expired) {
		if (pcache_purge_expired(store, (int64_t)time(NULL), &count,
		                         why, sizeof(why)) != 0) {
			fprintf(stderr, "mtasts policyd cache purge: %s\n",
			        why);
			return C_USAGE;
		}
		printf("%zu expired entries purged\n", count);
		return C_OK;
	}
	for (i = 0; i < n; i++) {
		if ((rc = pcache_delete(store, domains[i], why, sizeof(why))) <
		    0) {
			fprintf(stderr, "mtasts policyd cache purge: %s: %s\n",
			        domains[i], why);
			return C_USAGE;
		}
		printf("%s: %s\n", domains[i],
		       rc == 1 ? "purged" : "not cached");
		if (rc == 0)
			status = C_MISSING;
	}
	return status;
}

int
policyd_cache_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"cache", required_argument, NULL, 'c'},
	    {"expired", no_argument, NULL, 'e'},
	    {"all", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf_path = POLICYD_CONF_DEFAULT, *cache = NULL, *verb;
	bool conf_given = false, json = false, expired = false, all = false;
	char why[PCACHE_WHY_SIZE], *url = NULL;
	struct pcache *store = NULL;
	struct dump d;
	int ch, i, rc;

	if (argc < 2) {
		usage();
		return C_USAGE;
	}
	verb = argv[1];
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "f:", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'f':
			conf_path = optarg;
			conf_given = true;
			break;
		case 'j':
			json = true;
			break;
		case 'c':
			cache = optarg;
			break;
		case 'e':
			expired = true;
			break;
		case 'a':
			all = true;
			break;
		default:
			usage();
			return C_USAGE;
		}
	}
	argc -= optind + 1;
	argv += optind + 1;
	if ((strcmp(verb, "dump") == 0 && (expired || all)) ||
	    (strcmp(verb, "purge") == 0 &&
	     (json || (int)expired + (int)all + (argc > 0) != 1)) ||
	    (strcmp(verb, "dump") != 0 && strcmp(verb, "purge") != 0)) {
		usage();
		return C_USAGE;
	}
	for (i = 0; i < argc; i++)
		normalise(argv[i]);
	if (store_url(conf_path, conf_given, cache, &url) != 0)
		return C_USAGE;
	if (become_owner(url) != 0 ||
	    pcache_open(url, &store, why, sizeof(why)) != 0) {
		fprintf(stderr, "mtasts policyd cache: %s: %s\n", url,
		        store == NULL ? why : "");
		free(url);
		return C_USAGE;
	}
	memset(&d, 0, sizeof(d));
	d.domains = argv;
	d.ndomains = argc;
	d.json = json;
	if (strcmp(verb, "dump") == 0)
		rc = do_dump(store, &d);
	else
		rc = do_purge(store, argv, argc, expired, all);
	pcache_close(store);
	free(url);
	return rc;
}
