/* SPDX-License-Identifier: ISC */
/*
 * mtasts init: writes a domain's MTA-STS policy (RFC 8461 §3.2) and the
 * zone-file lines of its _mta-sts (§3.1) and _smtp._tls (RFC 8460 §3)
 * records.  Every input is checked before anything is written, and the
 * results are checked again with the same parsers senders' rules are
 * encoded in, so init never writes what lint would reject.  The two
 * files appear whole or not at all: temporary files are renamed into
 * place, and a failed second rename undoes the first.
 */
#define _GNU_SOURCE /* asprintf(3) */
#include <errno.h>
#include <fcntl.h> /* AT_FDCWD */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

#define INIT_MX_MAX  64
#define INIT_RUA_MAX MTS_TLSRPT_RUA_MAX
#define TXT_CHUNK    255 /* a TXT character-string holds 255 octets */

struct init_opts {
	const char *domain_arg;
	const char *out_dir;
	const char *id_arg;
	const char *mx_args[INIT_MX_MAX];
	size_t mx_count;
	const char *rua_args[INIT_RUA_MAX];
	size_t rua_count;
	enum mts_sts_mode mode;
	long long max_age; /* -1: the default of the mode */
	bool force;
	bool json;
};

/* What init makes; every string owned. */
struct init_result {
	char *domain;
	char id[MTS_STS_ID_MAX + 1];
	struct mts_sts_policy policy;
	char *policy_text;
	char *sts_txt;
	char *tlsrpt_txt; /* NULL without --rua */
	char *zone_text;
};

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s init DOMAIN --mx HOST [--mx HOST ...] --out DIR\n"
	    "       [--mode testing|enforce|none] [--max-age SECONDS]\n"
	    "       [--rua URI ...] [--id ID] [--force] [--json]\n\n"
	    "Writes DIR/mta-sts.txt (the policy to serve at\n"
	    "https://mta-sts.DOMAIN/.well-known/mta-sts.txt) and DIR/dns.zone\n"
	    "(the _mta-sts and _smtp._tls TXT records).\n\n"
	    "  --mx HOST        an MX host name or *.domain pattern; repeat\n"
	    "  --mode MODE      testing (default), enforce or none\n"
	    "  --max-age N      seconds senders cache the policy; default\n"
	    "                   86400 in testing and none, 604800 in enforce\n"
	    "  --rua URI        TLS-RPT destination, mailto: or https:; repeat\n"
	    "  --id ID          policy id; default: the UTC time, "
	    "YYYYMMDDTHHMMSSZ\n"
	    "  --out DIR        where to write; made if missing\n"
	    "  --force          replace existing files\n"
	    "  --json           describe what was written as JSON\n",
	    progname);
}

static void
init_result_reset(struct init_result *r)
{
	free(r->domain);
	mts_sts_policy_reset(&r->policy);
	free(r->policy_text);
	free(r->sts_txt);
	free(r->tlsrpt_txt);
	free(r->zone_text);
	memset(r, 0, sizeof(*r));
}

/*
 * The policy domain: A-labels, at least two labels, not an address.
 */
static char *
check_domain(const char *arg)
{
	const char *why = NULL;
	struct mts_err err;
	char *d;

	if (mts_dname_is_address(arg, strlen(arg))) {
		warnx_cli("init: '%s' is an IP address, not a domain", arg);
		return NULL;
	}
	if ((d = domain_to_ascii(arg, &why)) == NULL) {
		warnx_cli("init: malformed domain '%s': %s", arg, why);
		return NULL;
	}
	if (mts_dname_check(d, strlen(d), MTS_DNAME_REQUIRE_DOT, &err) != 0) {
		warnx_cli("init: malformed domain '%s': %s", arg, err.msg);
		free(d);
		return NULL;
	}
	return d;
}

/*
 * One --mx value to an mx pattern: a trailing dot (pasted from an MX
 * record) dropped, U-labels converted, "*." kept.  Addresses are refused:
 * an mx value names a host and an address can never match one (§4.1).
 */
static char *
check_mx(const char *arg)
{
	const char *why = NULL, *name = arg;
	bool wildcard = strncmp(arg, "*.", 2) == 0;
	struct mts_err err;
	char *ascii, *pat;

	if (wildcard)
		name += 2;
	if (mts_dname_is_address(name, strlen(name))) {
		warnx_cli("init: --mx '%s' is an IP address; give the MX host "
		          "name",
		          arg);
		return NULL;
	}
	if ((ascii = domain_to_ascii(name, &why)) == NULL) {
		warnx_cli("init: malformed --mx '%s': %s", arg, why);
		return NULL;
	}
	if (asprintf(&pat, "%s%s", wildcard ? "*." : "", ascii) < 0)
		pat = NULL;
	free(ascii);
	if (pat == NULL)
		return NULL;
	if (mts_sts_match_pattern_check(pat, &err) != 0 ||
	    mts_dname_check(pat + (wildcard ? 2 : 0),
	                    strlen(pat) - (wildcard ? 2 : 0),
	                    MTS_DNAME_REQUIRE_DOT, &err) != 0) {
		warnx_cli("init: malformed --mx '%s': %s", arg, err.msg);
		free(pat);
		return NULL;
	}
	return pat;
}

/*
 * A --rua URI must make a TLSRPT record on its own without any finding
 * of warning or error weight: a destination the parser would drop (an
 * http: URI, an unencoded "!") is refused rather than published.
 */
static int
check_rua(const char *uri)
{
	struct mts_tlsrpt_record rec;
	struct mts_diag diag;
	char *txt;
	int rc = -1;

	if (strpbrk(uri, ",; \t\"\\") != NULL) {
		warnx_cli("init: --rua '%s': one URI per --rua, with ',' ';' "
		          "and spaces percent-encoded",
		          uri);
		return -1;
	}
	if (asprintf(&txt, "v=TLSRPTv1; rua=%s", uri) < 0)
		return -1;
	mts_diag_init(&diag);
	/* The parser writes rec only on success: only then is it reset. */
	if (mts_tlsrpt_record_parse(txt, strlen(txt), &rec, &diag, NULL) == 0) {
		mts_tlsrpt_record_reset(&rec);
		if (mts_diag_count(&diag, MTS_SEV_WARNING) == 0)
			rc = 0;
	}
	if (rc != 0 && diag.count > 0)
		warnx_cli("init: --rua '%s': %s", uri, diag.items[0].message);
	else if (rc != 0)
		warnx_cli("init: --rua '%s' is not a mailto: or https: URI",
		          uri);
	mts_diag_reset(&diag);
	free(txt);
	return rc;
}

/* id holds MTS_STS_ID_MAX + 1 bytes. */
static int
make_id(const struct init_opts *o, char *id)
{
	size_t len;

	if (o->id_arg != NULL) {
		len = strlen(o->id_arg);
		if (!mts_sts_id_valid(o->id_arg, len) || len > MTS_STS_ID_MAX) {
			warnx_cli("init: --id '%s': 1 to 32 letters and digits "
			          "(RFC 8461 §3.1)",
			          o->id_arg);
			return -1;
		}
		memcpy(id, o->id_arg, len + 1);
		return 0;
	}
	return mts_sts_id_format((int64_t)time(NULL), id, MTS_STS_ID_MAX + 1,
	                         NULL);
}

static uint32_t
default_max_age(enum mts_sts_mode mode)
{
	/* About a day while testing, a week in enforce (seed guide). */
	return mode == MTS_STS_MODE_ENFORCE ? 604800 : 86400;
}

static int
make_policy(const struct init_opts *o, struct mts_sts_policy *p)
{
	size_t i;

	p->mode = o->mode;
	p->max_age =
	    o->max_age < 0 ? default_max_age(o->mode) : (uint32_t)o->max_age;
	if ((p->mx = calloc(o->mx_count + 1, sizeof(*p->mx))) == NULL)
		return -1;
	for (i = 0; i < o->mx_count; i++) {
		if ((p->mx[i] = check_mx(o->mx_args[i])) == NULL)
			return -1;
		p->mx_count++;
	}
	return 0;
}

/* Appends `s` to a zone line as quoted strings of at most 255 octets. */
static int
append_txt(char **zone, const char *owner, const char *txt)
{
	size_t len = strlen(txt), off;
	char *line, *next;

	if (asprintf(&line, "%s IN TXT", owner) < 0)
		return -1;
	for (off = 0; off < len; off += TXT_CHUNK) {
		if (asprintf(&next, "%s \"%.*s\"", line,
		             (int)(len - off < TXT_CHUNK ? len - off :
		                                           TXT_CHUNK),
		             txt + off) < 0) {
			free(line);
			return -1;
		}
		free(line);
		line = next;
	}
	if (asprintf(&next, "%s%s\n", *zone, line) < 0) {
		free(line);
		return -1;
	}
	free(line);
	free(*zone);
	*zone = next;
	return 0;
}

static int
make_zone(struct init_result *r)
{
	char owner[MTS_DNAME_MAX + 32];
	char *zone;

	if (asprintf(
		&zone,
		"; MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) records for %s,\n"
		"; made by mtasts %s.\n"
		";\n"
		"; 1. Serve mta-sts.txt at exactly\n"
		";      https://mta-sts.%s/.well-known/mta-sts.txt\n"
		";    as text/plain, with a certificate for mta-sts.%s that\n"
		";    senders trust (Web PKI, RFC 8461 §3.3), e.g. with mtasts "
		"serve.\n"
		";    mta-sts.%s needs an A/AAAA record or a CNAME to that "
		"server.\n"
		"; 2. Then publish the record below.  Change its id whenever\n"
		";    mta-sts.txt changes: senders refetch only on a new id.\n",
		r->domain, mts_version(), r->domain, r->domain, r->domain) < 0)
		return -1;
	snprintf(owner, sizeof(owner), "_mta-sts.%s.", r->domain);
	if (append_txt(&zone, owner, r->sts_txt) != 0)
		goto fail;
	if (r->tlsrpt_txt != NULL) {
		snprintf(owner, sizeof(owner), "_smtp._tls.%s.", r->domain);
		if (append_txt(&zone, owner, r->tlsrpt_txt) != 0)
			goto fail;
	}
	r->zone_text = zone;
	return 0;
fail:
	free(zone);
	return -1;
}

static char *
make_tlsrpt_txt(const struct init_opts *o)
{
	char *txt, *next;
	size_t i;

	if (asprintf(&txt, "v=TLSRPTv1; rua=%s", o->rua_args[0]) < 0)
		return NULL;
	for (i = 1; i < o->rua_count; i++) {
		if (asprintf(&next, "%s,%s", txt, o->rua_args[i]) < 0) {
			free(txt);
			return NULL;
		}
		free(txt);
		txt = next;
	}
	return txt;
}

/*
 * Parses what was made with the library's own parsers: a record or
 * policy that would not lint is a bug here, never something to write.
 */
static int
verify(const struct init_result *r)
{
	struct mts_sts_policy p;
	struct mts_sts_record rec;
	struct mts_tlsrpt_record rpt;

	if (mts_sts_policy_parse(r->policy_text, strlen(r->policy_text), &p,
	                         NULL, NULL) != 0 ||
	    mts_sts_record_parse(r->sts_txt, strlen(r->sts_txt), &rec, NULL,
	                         NULL) != 0)
		return -1;
	mts_sts_policy_reset(&p);
	if (r->tlsrpt_txt == NULL)
		return 0;
	if (mts_tlsrpt_record_parse(r->tlsrpt_txt, strlen(r->tlsrpt_txt), &rpt,
	                            NULL, NULL) != 0)
		return -1;
	mts_tlsrpt_record_reset(&rpt);
	return 0;
}

static int
make_all(const struct init_opts *o, struct init_result *r)
{
	size_t i;

	if ((r->domain = check_domain(o->domain_arg)) == NULL)
		return -1;
	for (i = 0; i < o->rua_count; i++)
		if (check_rua(o->rua_args[i]) != 0)
			return -1;
	if (make_id(o, r->id) != 0 || make_policy(o, &r->policy) != 0)
		return -1;
	if ((r->policy_text = mts_sts_policy_format(&r->policy, NULL)) ==
	        NULL ||
	    asprintf(&r->sts_txt, "v=STSv1; id=%s", r->id) < 0) {
		r->sts_txt = NULL;
		warnx_cli("init: out of memory");
		return -1;
	}
	if (o->rua_count > 0 && (r->tlsrpt_txt = make_tlsrpt_txt(o)) == NULL)
		return -1;
	if (make_zone(r) != 0)
		return -1;
	if (verify(r) != 0) {
		warnx_cli("init: internal error: the result does not lint");
		return -1;
	}
	return 0;
}

/* Writes `text` to a new temporary file in dir; its name to tmp. */
static int
write_temp(const char *dir, const char *text, char *tmp, size_t size)
{
	size_t len = strlen(text), off = 0;
	ssize_t n;
	int fd;

	snprintf(tmp, size, "%s/.mtasts-init.XXXXXX", dir);
	if ((fd = mkstemp(tmp)) < 0)
		return -1;
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
		goto fail;
	return close(fd);
fail:
	close(fd);
	unlink(tmp);
	return -1;
}

/*
 * Keeps the file at path, if there is one, as a second hard link named
 * in old, so that install_pair() can put it back; *kept says whether
 * there was one.  A directory there is refused at once: no rename can
 * replace it (EISDIR).
 */
static int
keep_old(const char *dir, const char *path, char *old, size_t size, bool *kept)
{
	struct stat st;
	int fd;

	*kept = false;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	/* mkstemp() picks a free name; linkat() needs it free again. */
	snprintf(old, size, "%s/.mtasts-init.XXXXXX", dir);
	if ((fd = mkstemp(old)) < 0)
		return -1;
	close(fd);
	unlink(old);
	/* Flags 0: a symbolic link is kept as itself, not its target. */
	if (linkat(AT_FDCWD, path, AT_FDCWD, old, 0) != 0)
		return -1;
	*kept = true;
	return 0;
}

/*
 * Renames tmp1 to path1 and tmp2 to path2 as one step: when the second
 * rename fails the first is undone (the file it replaced renamed back,
 * or the new one removed), so the two files appear whole or not at
 * all.  The temporaries are gone either way; on failure *failed names
 * the path that could not be written.
 */
static int
install_pair(const char *dir, const char *tmp1, const char *path1,
             const char *tmp2, const char *path2, const char **failed)
{
	char old[PATH_MAX];
	bool kept = false, done1 = false;
	int saved;

	*failed = path1;
	if (keep_old(dir, path1, old, sizeof(old), &kept) != 0 ||
	    rename(tmp1, path1) != 0)
		goto fail;
	done1 = true;
	*failed = path2;
	if (rename(tmp2, path2) != 0)
		goto fail;
	if (kept)
		unlink(old);
	return 0;
fail:
	saved = errno;
	if (!done1)
		unlink(tmp1);
	unlink(tmp2);
	if (done1 && kept && rename(old, path1) != 0)
		warnx_cli("init: cannot put the old %s back from %s: %s", path1,
		          old, strerror(errno));
	else if (done1 && !kept && unlink(path1) != 0)
		warnx_cli("init: cannot remove the new %s: %s", path1,
		          strerror(errno));
	else if (kept && !done1)
		unlink(old);
	errno = saved;
	return -1;
}

/*
 * Writes DIR/mta-sts.txt and DIR/dns.zone.  Returns EXIT_VALID,
 * EXIT_INVALID when they exist without --force (nothing touched), or
 * EXIT_USAGE on an I/O error (message printed, neither file changed).
 */
static int
write_files(const struct init_opts *o, const struct init_result *r,
            char *policy_path, char *zone_path, size_t size)
{
	char tmp1[PATH_MAX], tmp2[PATH_MAX];
	const char *failed = o->out_dir;
	int saved;

	snprintf(policy_path, size, "%s/mta-sts.txt", o->out_dir);
	snprintf(zone_path, size, "%s/dns.zone", o->out_dir);
	if (!o->force &&
	    (access(policy_path, F_OK) == 0 || access(zone_path, F_OK) == 0)) {
		warnx_cli("init: %s already holds mta-sts.txt or dns.zone; "
		          "--force replaces them",
		          o->out_dir);
		return EXIT_INVALID;
	}
	if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST)
		goto fail;
	if (write_temp(o->out_dir, r->policy_text, tmp1, sizeof(tmp1)) != 0)
		goto fail;
	if (write_temp(o->out_dir, r->zone_text, tmp2, sizeof(tmp2)) != 0) {
		saved = errno;
		unlink(tmp1);
		errno = saved;
		goto fail;
	}
	if (install_pair(o->out_dir, tmp1, policy_path, tmp2, zone_path,
	                 &failed) != 0)
		goto fail;
	return EXIT_VALID;
fail:
	warnx_cli("init: cannot write %s: %s", failed, strerror(errno));
	return EXIT_USAGE;
}

static void
print_result(const struct init_opts *o, const struct init_result *r,
             const char *policy_path, const char *zone_path)
{
	json_t *j;

	if (!o->json) {
		printf("wrote %s (mode %s, max_age %u)\nwrote %s\n"
		       "next: serve the policy at "
		       "https://mta-sts.%s/.well-known/mta-sts.txt,\n"
		       "      then publish the records of %s\n",
		       policy_path, mts_sts_mode_name(r->policy.mode),
		       (unsigned)r->policy.max_age, zone_path, r->domain,
		       zone_path);
		return;
	}
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?}", "domain",
	              r->domain, "id", r->id, "policy_file", policy_path,
	              "zone_file", zone_path, "policy", r->policy_text,
	              "sts_record", r->sts_txt, "tlsrpt_record", r->tlsrpt_txt);
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(j);
}

static int
parse_mode(const char *s, enum mts_sts_mode *mode)
{
	if (strcmp(s, "testing") == 0)
		*mode = MTS_STS_MODE_TESTING;
	else if (strcmp(s, "enforce") == 0)
		*mode = MTS_STS_MODE_ENFORCE;
	else if (strcmp(s, "none") == 0)
		*mode = MTS_STS_MODE_NONE;
	else
		return -1;
	return 0;
}

static int
parse_max_age(const char *s, long long *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > (long long)MTS_STS_MAX_AGE_MAX)
		return -1;
	*out = v;
	return 0;
}

/* Parses options into o; returns -1 for usage errors (message printed). */
static int
parse_args(int argc, char **argv, struct init_opts *o)
{
	static const struct option longopts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"id", required_argument, NULL, 'i'},
	    {"json", no_argument, NULL, 'j'},
	    {"max-age", required_argument, NULL, 'a'},
	    {"mode", required_argument, NULL, 'm'},
	    {"mx", required_argument, NULL, 'x'},
	    {"out", required_argument, NULL, 'o'},
	    {"rua", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "fhi:ja:m:x:o:r:", longopts,
	                         NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->force = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_VALID);
		case 'i':
			o->id_arg = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'a':
			if (parse_max_age(optarg, &o->max_age) != 0) {
				warnx_cli("init: --max-age '%s': seconds from "
				          "0 to %u (RFC 8461 §3.2)",
				          optarg, MTS_STS_MAX_AGE_MAX);
				return -1;
			}
			break;
		case 'm':
			if (parse_mode(optarg, &o->mode) != 0) {
				warnx_cli("init: --mode '%s': testing, enforce "
				          "or none",
				          optarg);
				return -1;
			}
			break;
		case 'x':
			if (o->mx_count == INIT_MX_MAX) {
				warnx_cli("init: at most %d --mx", INIT_MX_MAX);
				return -1;
			}
			o->mx_args[o->mx_count++] = optarg;
			break;
		case 'o':
			o->out_dir = optarg;
			break;
		case 'r':
			if (o->rua_count == INIT_RUA_MAX) {
				warnx_cli("init: at most %d --rua",
				          INIT_RUA_MAX);
				return -1;
			}
			o->rua_args[o->rua_count++] = optarg;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return -1;
	}
	o->domain_arg = argv[optind];
	if (o->out_dir == NULL) {
		warnx_cli("init: --out DIR is required");
		return -1;
	}
	if (o->mx_count == 0 && o->mode != MTS_STS_MODE_NONE) {
		warnx_cli("init: mode %s needs at least one --mx",
		          mts_sts_mode_name(o->mode));
		return -1;
	}
	return 0;
}

int
cmd_init(int argc, char **argv)
{
	struct init_opts o;
	struct init_result r;
	char policy_path[PATH_MAX], zone_path[PATH_MAX];
	int rc = EXIT_INVALID;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	o.mode = MTS_STS_MODE_TESTING;
	o.max_age = -1;
	if (parse_args(argc, argv, &o) != 0)
		return EXIT_USAGE;
	if (make_all(&o, &r) != 0)
		goto out;
	if ((rc = write_files(&o, &r, policy_path, zone_path,
	                      sizeof(policy_path))) != EXIT_VALID)
		goto out;
	print_result(&o, &r, policy_path, zone_path);
	rc = EXIT_VALID;
out:
	init_result_reset(&r);
	return rc;
}
