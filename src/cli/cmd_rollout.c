/* SPDX-License-Identifier: ISC */
/*
 * mtasts rollout: from testing to enforce, and MX changes without losing
 * mail (mtasts-rollout(1)).  This file holds the dispatch and options,
 * and the I/O every subcommand shares: the policy file, read whole and
 * replaced atomically (a temporary file beside it, renamed over it only
 * when nothing edited it meanwhile), the policy domain, the store, and
 * the reload of the mtasts serve that serves the file.
 */
#define _GNU_SOURCE /* asprintf(3) */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cmd_rollout.h"
#include "conf.h"
#include "rollout_store.h"
#include "store.h"

/* mtasts serve's default configuration (src/serve/main.c). */
#define SERVE_DEFAULT_CONF "/etc/mtasts/mtasts.conf"
#define DNS_ZONE_MAX       (64 * 1024)
#define CMDLINE_MAX        8192

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s rollout status --policy FILE [--min-days N] "
	    "[--no-fetch]\n"
	    "       %s rollout promote --policy FILE [--max-age N] [--force] "
	    "[--reload]\n"
	    "       %s rollout mx-change --policy FILE [--add HOST]... "
	    "[--remove HOST]...\n"
	    "       %s rollout mx-change --policy FILE --finish [--force] "
	    "[--reload] [--no-fetch]\n\n"
	    "  --policy FILE      the policy file served "
	    "(mtasts init's mta-sts.txt)\n"
	    "  --domain DOMAIN    the policy domain; default: from FILE's "
	    "dns.zone\n"
	    "                     or the name of FILE's directory\n"
	    "  --db URL           the report store (default "
	    "$MTASTS_REPORT_DB, else\n"
	    "                     sqlite:/var/lib/mtasts/reports.db for "
	    "root)\n"
	    "  --min-days N       days of clean reports before enforce "
	    "(default 14)\n"
	    "  --max-age N        promote: the enforce policy's max_age "
	    "(default 604800)\n"
	    "  --force            promote or finish although not ready or "
	    "not safe\n"
	    "  --reload           signal the mtasts serve that serves FILE\n"
	    "  --add HOST, --remove HOST   mx-change: the MX patterns "
	    "changed\n"
	    "  --finish           mx-change: drop the removed hosts after "
	    "the cut-over\n"
	    "  --no-fetch         status: do not look at the published "
	    "policy;\n"
	    "                     --finish: do not look at the MX records\n"
	    "  --resolver ADDR, --trust-anchor FILE, --ca-file FILE\n"
	    "                     status, --finish: as for mtasts check\n"
	    "  --json             one JSON object for scripts\n\n"
	    "Exit status: 0 ready or done, 3 not ready or refused (the file "
	    "untouched),\n"
	    "1 error, 2 usage.  See mtasts-rollout(1).\n",
	    progname, progname, progname, progname);
}

/* ---- times ---- */

static void
utc(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, tm) == NULL)
		memset(tm, 0, sizeof(*tm));
}

void
rollout_day_text(int64_t t, char buf[16])
{
	struct tm tm;

	utc(t, &tm);
	(void)strftime(buf, 16, "%Y-%m-%d", &tm);
}

void
rollout_time_text(int64_t t, char buf[32])
{
	struct tm tm;

	utc(t, &tm);
	(void)strftime(buf, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void
rollout_time_iso(int64_t t, char buf[32])
{
	struct tm tm;

	utc(t, &tm);
	(void)strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *
rollout_reason_key(enum mts_rollout_reason reason)
{
	switch (reason) {
	case MTS_ROLLOUT_READY:
		return "ready";
	case MTS_ROLLOUT_ALREADY_ENFORCE:
		return "already-enforce";
	case MTS_ROLLOUT_MODE_NONE:
		return "mode-none";
	case MTS_ROLLOUT_NO_REPORTS:
		return "no-reports";
	case MTS_ROLLOUT_STALE:
		return "stale";
	case MTS_ROLLOUT_TOO_FEW_DAYS:
		return "too-few-days";
	case MTS_ROLLOUT_FAILURES:
		return "failures";
	}
	return "unknown";
}

void
rollout_sha256(const char *buf, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	out[0] = '\0';
	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return;
	for (i = 0; i < mdlen; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- the policy domain ---- */

/*
 * The owner of the `_mta-sts.` line of a zone file written by mtasts
 * init, and that line's id: the domain is "DOMAIN" of
 * "_mta-sts.DOMAIN. IN TXT ...".  0 when found.
 */
static int
zone_sts_line(const char *zone, size_t len, char *domain, size_t dsize,
              char *id, size_t isize)
{
	const char *p = zone, *end = zone + len, *eol, *q, *s;
	size_t n;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) < 9 || strncmp(p, "_mta-sts.", 9) != 0)
			continue;
		for (q = p + 9; q < eol && !isspace((unsigned char)*q); q++)
			;
		n = (size_t)(q - (p + 9));
		if (n > 0 && p[9 + n - 1] == '.')
			n--;
		if (n == 0 || n >= dsize)
			return -1;
		memcpy(domain, p + 9, n);
		domain[n] = '\0';
		id[0] = '\0';
		if ((s = memmem(q, (size_t)(eol - q), "id=", 3)) != NULL) {
			s += 3;
			for (n = 0; s + n < eol &&
			     isalnum((unsigned char)s[n]) && n + 1 < isize;
			     n++)
				id[n] = s[n];
			id[n] = '\0';
		}
		return 0;
	}
	return -1;
}

/* At most cap + 1 octets of path, NUL-terminated; NULL on any failure. */
static char *
read_quietly(const char *path, size_t cap, size_t *len)
{
	char *buf;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL)
		return NULL;
	if ((buf = malloc(cap + 2)) != NULL) {
		*len = fread(buf, 1, cap + 1, fp);
		if (ferror(fp)) {
			free(buf);
			buf = NULL;
		} else {
			buf[*len] = '\0';
		}
	}
	fclose(fp);
	return buf;
}

/* FILE's directory's dns.zone, its first DNS_ZONE_MAX octets (NULL when
   there is none). */
static char *
read_dns_zone(const char *policy_path, size_t *len)
{
	char *copy, *path = NULL, *buf;

	if ((copy = strdup(policy_path)) == NULL)
		return NULL;
	if (asprintf(&path, "%s/dns.zone", dirname(copy)) < 0)
		path = NULL;
	free(copy);
	if (path == NULL)
		return NULL;
	buf = read_quietly(path, DNS_ZONE_MAX, len);
	free(path);
	if (buf != NULL && *len > DNS_ZONE_MAX)
		buf[ *len = DNS_ZONE_MAX] = '\0';
	return buf;
}

/*
 * The domain: --domain; else mtasts init's dns.zone beside FILE; else
 * FILE's directory, named after the domain as in a domains-dir
 * (mtasts.conf(5)).
 */
static int
find_domain(struct rollout *r)
{
	char name[MTS_DNAME_MAX + 2], id[MTS_STS_ID_MAX + 1], why[256];
	const char *given = r->o->domain_arg, *err;
	char *zone, *copy, *dir;
	size_t len = 0;

	name[0] = '\0';
	if (given == NULL && (zone = read_dns_zone(r->o->policy_path, &len))) {
		if (zone_sts_line(zone, len, name, sizeof(name), id,
		                  sizeof(id)) == 0)
			given = name;
		free(zone);
	}
	if (given == NULL) {
		if ((copy = strdup(r->o->policy_path)) == NULL)
			return EXIT_ERROR;
		dir = basename(dirname(copy));
		if (conf_domain_name(dir, &r->domain, why, sizeof(why)) != 0)
			r->domain = NULL;
		free(copy);
		if (r->domain == NULL) {
			warnx_cli("rollout: cannot tell the policy domain of "
			          "%s: give --domain",
			          r->o->policy_path);
			return EXIT_USAGE;
		}
		return EXIT_VALID;
	}
	if ((r->domain = domain_to_ascii(given, &err)) == NULL) {
		warnx_cli("rollout: %s: %s", given, err);
		return EXIT_USAGE;
	}
	return EXIT_VALID;
}

/* ---- the policy file ---- */

int
rollout_load(struct rollout *r, const struct rollout_opts *o)
{
	struct mts_diag diag;
	struct mts_err err;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	r->o = o;
	r->now = (int64_t)time(NULL);
	if ((fd = open(o->policy_path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &r->st) == -1) {
		warnx_cli("rollout: %s: %s", o->policy_path, strerror(errno));
		if (fd != -1)
			close(fd);
		return EXIT_ERROR;
	}
	close(fd);
	if (!S_ISREG(r->st.st_mode)) {
		warnx_cli("rollout: %s: not a regular file", o->policy_path);
		return EXIT_ERROR;
	}
	if (read_capped(o->policy_path, MTS_STS_POLICY_MAX, &r->body,
	                &r->body_len) != 0)
		return EXIT_ERROR;
	if (r->body_len > MTS_STS_POLICY_MAX) {
		warnx_cli("rollout: %s: over %u octets, no sender reads it "
		          "(RFC 8461 §3.3)",
		          o->policy_path, MTS_STS_POLICY_MAX);
		return EXIT_ERROR;
	}
	mts_diag_init(&diag);
	rc =
	    mts_sts_policy_parse(r->body, r->body_len, &r->policy, &diag, &err);
	if (rc != 0) {
		print_findings_text(stderr, o->policy_path, &diag, false, true);
		warnx_cli("rollout: %s is not a valid policy: fix it first "
		          "(mtasts lint %s)",
		          o->policy_path, o->policy_path);
		mts_diag_reset(&diag);
		return EXIT_ERROR;
	}
	mts_diag_reset(&diag);
	return find_domain(r);
}

void
rollout_free(struct rollout *r)
{
	store_close(r->store);
	mts_sts_policy_reset(&r->policy);
	free(r->body);
	free(r->domain);
	memset(r, 0, sizeof(*r));
}

int
rollout_open_store(struct rollout *r, bool create)
{
	char default_url[4096], why[STORE_WHY_SIZE];
	const char *url = r->o->db_url, *path = NULL;
	struct stat st;

	if (url == NULL) {
		if (store_default_url(default_url, sizeof(default_url)) != 0) {
			warnx_cli("rollout: no default store: give --db");
			return EXIT_USAGE;
		}
		url = default_url;
	}
	if (strncmp(url, "sqlite:", 7) == 0)
		path = url + 7;
	else if (url[0] == '/' || url[0] == '.')
		path = url;
	if (!create && path != NULL && path[0] != '\0' &&
	    stat(path, &st) == -1) {
		warnx_cli("rollout: no report store at %s (%s): ingest reports "
		          "with mtasts report ingest, or give --db",
		          path, strerror(errno));
		return EXIT_ERROR;
	}
	if (store_open(url, &r->store, why, sizeof(why)) != 0) {
		warnx_cli("rollout: %s", why);
		return EXIT_ERROR;
	}
	return EXIT_VALID;
}

struct last_id {
	char *id;
	size_t size;
};

static int
keep_last_id(const struct rollout_event *ev, void *ctx)
{
	struct last_id *l = ctx;

	(void)snprintf(l->id, l->size, "%s", ev->policy_id);
	return 0;
}

int
rollout_previous_id(struct rollout *r, char *buf, size_t size)
{
	char name[MTS_DNAME_MAX + 2], why[STORE_WHY_SIZE], *zone;
	struct last_id l = {buf, size};
	size_t len = 0;

	buf[0] = '\0';
	if (rollout_store_events(r->store, r->domain, keep_last_id, &l, why,
	                         sizeof(why)) == -1) {
		warnx_cli("rollout: %s", why);
		return EXIT_ERROR;
	}
	if (buf[0] == '\0' &&
	    (zone = read_dns_zone(r->o->policy_path, &len)) != NULL) {
		if (zone_sts_line(zone, len, name, sizeof(name), buf, size) !=
		        0 ||
		    strcmp(name, r->domain) != 0)
			buf[0] = '\0';
		free(zone);
	}
	return EXIT_VALID;
}

static int
keep_change(const struct rollout_mx_change *c, void *ctx)
{
	struct rollout_open_change *o = ctx;

	o->have = true;
	o->id = c->id;
	o->started = c->started;
	o->cutover_at = c->cutover_at;
	o->added = json_loads(c->added, 0, NULL);
	o->removed = json_loads(c->removed, 0, NULL);
	(void)snprintf(o->transition_id, sizeof(o->transition_id), "%s",
	               c->transition_id);
	return 0;
}

int
rollout_open_change(const struct rollout *r, struct rollout_open_change *c)
{
	char why[STORE_WHY_SIZE];

	memset(c, 0, sizeof(*c));
	if (rollout_store_mx_open(r->store, r->domain, keep_change, c, why,
	                          sizeof(why)) == -1) {
		warnx_cli("rollout: %s", why);
		return EXIT_ERROR;
	}
	return EXIT_VALID;
}

void
rollout_open_change_free(struct rollout_open_change *c)
{
	json_decref(c->added);
	json_decref(c->removed);
	memset(c, 0, sizeof(*c));
}

/* ---- writing the file ---- */

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
rollout_write_prepare(const struct rollout *r, const char *body,
                      struct rollout_pending *p)
{
	const char *path = r->o->policy_path;
	int fd;

	p->tmp = NULL;
	if (asprintf(&p->tmp, "%s.rollout.XXXXXX", path) < 0) {
		p->tmp = NULL;
		warnx_cli("out of memory");
		return EXIT_ERROR;
	}
	if ((fd = mkstemp(p->tmp)) == -1) {
		warnx_cli("rollout: %s: %s", p->tmp, strerror(errno));
		free(p->tmp);
		p->tmp = NULL;
		return EXIT_ERROR;
	}
	/* The new file is served like the old one: same mode and owner
	   (a server reading it as another user must still read it). */
	if (fchmod(fd, r->st.st_mode & 07777) == -1 ||
	    (fchown(fd, r->st.st_uid, r->st.st_gid) == -1 && errno != EPERM) ||
	    write_all(fd, body, strlen(body)) == -1 || fsync(fd) == -1) {
		warnx_cli("rollout: %s: %s", p->tmp, strerror(errno));
		close(fd);
		rollout_write_abort(p);
		return EXIT_ERROR;
	}
	if (close(fd) == -1) {
		warnx_cli("rollout: %s: %s", p->tmp, strerror(errno));
		rollout_write_abort(p);
		return EXIT_ERROR;
	}
	return EXIT_VALID;
}

/* Syncs the directory of path, so that the rename survives a crash. */
static void
sync_dir_of(const char *path)
{
	char *copy;
	int fd;

	if ((copy = strdup(path)) == NULL)
		return;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

int
rollout_write_commit(const struct rollout *r, struct rollout_pending *p)
{
	const char *path = r->o->policy_path;
	struct stat st;

	/*
	 * Somebody may have edited FILE since it was read: replacing it
	 * would throw the edit away without a word.  (A window remains
	 * between this stat and the rename; an editor saving in it is a
	 * race no lock file would close, since editors take none.)
	 */
	if (stat(path, &st) == -1 || st.st_ino != r->st.st_ino ||
	    st.st_dev != r->st.st_dev || st.st_size != r->st.st_size ||
	    st.st_mtim.tv_sec != r->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != r->st.st_mtim.tv_nsec) {
		warnx_cli("rollout: %s changed while rollout ran: not "
		          "replaced; run it again",
		          path);
		rollout_write_abort(p);
		return EXIT_ERROR;
	}
	if (rename(p->tmp, path) == -1) {
		warnx_cli("rollout: %s: %s", path, strerror(errno));
		rollout_write_abort(p);
		return EXIT_ERROR;
	}
	free(p->tmp);
	p->tmp = NULL;
	sync_dir_of(path);
	return EXIT_VALID;
}

void
rollout_write_abort(struct rollout_pending *p)
{
	if (p == NULL || p->tmp == NULL)
		return;
	(void)unlink(p->tmp);
	free(p->tmp);
	p->tmp = NULL;
}

/* ---- the mtasts serve that serves FILE ---- */

struct proc_file {
	dev_t dev;
	ino_t ino;
};

/*
 * path as process pid sees it: through /proc/PID/root when absolute,
 * /proc/PID/cwd when relative (a daemon's root or working directory
 * need not be ours).
 */
static int
proc_path(pid_t pid, const char *path, char *buf, size_t size)
{
	int n = snprintf(buf, size, "/proc/%ld/%s/%s", (long)pid,
	                 path[0] == '/' ? "root" : "cwd", path);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static bool
same_file(pid_t pid, const char *path, const struct proc_file *want)
{
	char full[PATH_MAX + 64];
	struct stat st;

	return proc_path(pid, path, full, sizeof(full)) == 0 &&
	    stat(full, &st) == 0 && st.st_dev == want->dev &&
	    st.st_ino == want->ino;
}

/*
 * True when the configuration `conf_path` of mtasts serve pid names the
 * policy file: as a domain's policy, or as DIR/NAME/mta-sts.txt of a
 * domains-dir (`name` is FILE's directory's name).
 */
static bool
conf_serves(pid_t pid, const char *conf_path, const struct proc_file *want,
            const char *name)
{
	char full[PATH_MAX + 64], err[CONF_ERR_SIZE], *buf, *entry;
	struct serve_conf conf;
	bool found = false;
	size_t len, i;

	/* Quietly: a configuration we may not read is not ours to judge. */
	if (proc_path(pid, conf_path, full, sizeof(full)) != 0 ||
	    (buf = read_quietly(full, CONF_MAX_SIZE, &len)) == NULL)
		return false;
	if (len > CONF_MAX_SIZE ||
	    conf_parse(buf, len, conf_path, &conf, err) != 0) {
		free(buf);
		return false;
	}
	free(buf);
	for (i = 0; i < conf.domain_count && !found; i++)
		found = same_file(pid, conf.domains[i].policy, want);
	for (i = 0; i < conf.domains_dir_count && !found; i++) {
		if (asprintf(&entry, "%s/%s/mta-sts.txt", conf.domains_dirs[i],
		             name) < 0)
			continue;
		found = same_file(pid, entry, want);
		free(entry);
	}
	conf_free(&conf);
	return found;
}

/*
 * The configuration path of a `mtasts serve` parent from its argv
 * (NUL-separated), or NULL when the process is not one: argv[0] named
 * mtasts, argv[1] "serve", and no --process (the children the parent
 * starts, which do not reload).
 */
static const char *
serve_conf_of(const char *argv, size_t len)
{
	const char *arg = argv, *end = argv + len, *conf = SERVE_DEFAULT_CONF;
	const char *base, *c;
	bool want_conf = false;
	size_t i = 0;

	for (; arg < end; arg += strlen(arg) + 1, i++) {
		if (i == 0) {
			base = strrchr(arg, '/');
			base = base != NULL ? base + 1 : arg;
			if (strcmp(base, "mtasts") != 0)
				return NULL;
		} else if (i == 1) {
			if (strcmp(arg, "serve") != 0)
				return NULL;
		} else if (want_conf) {
			conf = arg;
			want_conf = false;
		} else if (strncmp(arg, "--process", 9) == 0) {
			return NULL;
		} else if (arg[0] == '-' && arg[1] != '-' &&
		           (c = strchr(arg + 1, 'c')) != NULL) {
			/* getopt's "c:" in a cluster: "-c F", "-cF", "-dc F" */
			if (c[1] != '\0')
				conf = c + 1;
			else
				want_conf = true;
		}
	}
	return i >= 2 ? conf : NULL;
}

size_t
rollout_find_serve(const char *policy_path, pid_t *pids, size_t max)
{
	char path[64], argv[CMDLINE_MAX + 1], *copy, *name;
	struct proc_file want;
	struct dirent *de;
	const char *conf;
	struct stat st;
	size_t n = 0, len;
	char *end;
	long pid;
	DIR *dir;
	FILE *fp;

	if (stat(policy_path, &st) == -1 ||
	    (copy = strdup(policy_path)) == NULL)
		return 0;
	want.dev = st.st_dev;
	want.ino = st.st_ino;
	name = basename(dirname(copy));
	if ((dir = opendir("/proc")) == NULL) {
		free(copy);
		return 0;
	}
	while (n < max && (de = readdir(dir)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		if ((fp = fopen(path, "re")) == NULL)
			continue;
		len = fread(argv, 1, CMDLINE_MAX, fp);
		fclose(fp);
		argv[len] = '\0';
		if ((conf = serve_conf_of(argv, len)) != NULL &&
		    conf_serves((pid_t)pid, conf, &want, name))
			pids[n++] = (pid_t)pid;
	}
	closedir(dir);
	free(copy);
	return n;
}

int
rollout_reload(const pid_t *pids, size_t n, const char *policy_path)
{
	int status = EXIT_VALID;
	size_t i;

	if (n == 0) {
		warnx_cli("rollout: no running mtasts serve serves %s: reload "
		          "the server that does yourself",
		          policy_path);
		return EXIT_ERROR;
	}
	for (i = 0; i < n; i++) {
		if (kill(pids[i], SIGHUP) == -1) {
			warnx_cli("rollout: mtasts serve (pid %ld): %s",
			          (long)pids[i], strerror(errno));
			status = EXIT_ERROR;
		}
	}
	return status;
}

/* ---- options and dispatch ---- */

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_DOMAIN = 256,
	OPT_DB,
	OPT_MIN_DAYS,
	OPT_MAX_AGE,
	OPT_FORCE,
	OPT_RELOAD,
	OPT_ADD,
	OPT_REMOVE,
	OPT_FINISH,
	OPT_NO_FETCH,
	OPT_RESOLVER,
	OPT_TRUST_ANCHOR,
	OPT_CA_FILE,
	OPT_HTTPS_PORT
};

static int
parse_opt(struct rollout_opts *o, int ch, const char *arg)
{
	unsigned long v;

	switch (ch) {
	case 'p':
		o->policy_path = arg;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	case OPT_DOMAIN:
		o->domain_arg = arg;
		return 0;
	case OPT_DB:
		o->db_url = arg;
		return 0;
	case OPT_MIN_DAYS:
		if (parse_uint(arg, MTS_ROLLOUT_MIN_DAYS_MAX, &v) != 0 ||
		    v == 0)
			return -1;
		o->min_days = (unsigned)v;
		return 0;
	case OPT_MAX_AGE:
		if (parse_uint(arg, MTS_STS_MAX_AGE_MAX, &v) != 0)
			return -1;
		o->max_age = (uint32_t)v;
		return 0;
	case OPT_FORCE:
		o->force = true;
		return 0;
	case OPT_RELOAD:
		o->reload = true;
		return 0;
	case OPT_ADD:
		if (o->add_count == ROLLOUT_MX_ARGS)
			return -1;
		o->add[o->add_count++] = arg;
		return 0;
	case OPT_REMOVE:
		if (o->remove_count == ROLLOUT_MX_ARGS)
			return -1;
		o->remove[o->remove_count++] = arg;
		return 0;
	case OPT_FINISH:
		o->finish = true;
		return 0;
	case OPT_NO_FETCH:
		o->no_fetch = true;
		return 0;
	case OPT_RESOLVER:
		o->resolver = arg;
		return 0;
	case OPT_TRUST_ANCHOR:
		o->trust_anchor = arg;
		return 0;
	case OPT_CA_FILE:
		o->ca_file = arg;
		return 0;
	case OPT_HTTPS_PORT:
		if (parse_uint(arg, 65535, &v) != 0 || v == 0)
			return -1;
		o->https_port = (unsigned)v;
		return 0;
	default:
		return -1;
	}
}

/* The options a subcommand does not take are usage errors. */
static bool
opts_fit(const struct rollout_opts *o, const char *cmd)
{
	bool status = strcmp(cmd, "status") == 0;
	bool promote = strcmp(cmd, "promote") == 0;
	bool mx = strcmp(cmd, "mx-change") == 0;
	bool fetchy = o->no_fetch || o->resolver != NULL ||
	    o->trust_anchor != NULL || o->ca_file != NULL || o->https_port != 0;

	if (o->policy_path == NULL)
		return false;
	if (fetchy && !status && !(mx && o->finish))
		return false;
	if ((o->max_age != UINT32_MAX && !promote) || (o->min_days != 0 && mx))
		return false;
	if ((o->force || o->reload) && status)
		return false;
	if (o->force && mx && !o->finish)
		return false;
	if ((o->add_count > 0 || o->remove_count > 0 || o->finish) && !mx)
		return false;
	if (mx && o->finish == (o->add_count + o->remove_count > 0))
		return false;
	return true;
}

int
cmd_rollout(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"domain", required_argument, NULL, OPT_DOMAIN},
	    {"db", required_argument, NULL, OPT_DB},
	    {"min-days", required_argument, NULL, OPT_MIN_DAYS},
	    {"max-age", required_argument, NULL, OPT_MAX_AGE},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"reload", no_argument, NULL, OPT_RELOAD},
	    {"add", required_argument, NULL, OPT_ADD},
	    {"remove", required_argument, NULL, OPT_REMOVE},
	    {"finish", no_argument, NULL, OPT_FINISH},
	    {"no-fetch", no_argument, NULL, OPT_NO_FETCH},
	    {"resolver", required_argument, NULL, OPT_RESOLVER},
	    {"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
	    {"ca-file", required_argument, NULL, OPT_CA_FILE},
	    {"https-port", required_argument, NULL, OPT_HTTPS_PORT},
	    {NULL, 0, NULL, 0},
	};
	struct rollout_opts o;
	const char *cmd;
	int ch;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return EXIT_VALID;
	}
	memset(&o, 0, sizeof(o));
	o.cmd = cmd;
	o.max_age = UINT32_MAX; /* not given */
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "hjp:", longopts, NULL)) !=
	       -1) {
		if (ch == 'h') {
			usage(stdout);
			return EXIT_VALID;
		}
		if (parse_opt(&o, ch, optarg) != 0) {
			if (ch != '?')
				warnx_cli("rollout %s: bad value '%s'", cmd,
				          optarg != NULL ? optarg : "");
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !opts_fit(&o, cmd)) {
		if (strcmp(cmd, "status") != 0 && strcmp(cmd, "promote") != 0 &&
		    strcmp(cmd, "mx-change") != 0)
			warnx_cli("rollout: unknown command '%s'", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.min_days == 0)
		o.min_days = MTS_ROLLOUT_MIN_DAYS_DEFAULT;
	if (strcmp(cmd, "status") == 0)
		return rollout_status_main(&o);
	if (strcmp(cmd, "promote") == 0) {
		if (o.max_age == UINT32_MAX)
			o.max_age = 604800;
		return rollout_promote_main(&o);
	}
	return rollout_mx_change_main(&o);
}
