/* SPDX-License-Identifier: ISC */
/*
 * mtasts check: verifies domains' whole MTA-STS, TLS-RPT and DANE setup
 * (src/check/check.c) and reports per domain, for people (grouped, a
 * verdict line, colour on a terminal) or for scripts (one JSON object
 * per domain per line).  Exit 0 no errors, 1 errors found, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "check.h"
#include "cli.h"
#include "text.h"

#define DOMAINS_FILE_MAX (64 * 1024 * 1024)
/* Room for any finding message escaped: at most 4 octets a character. */
#define ESC_SIZE         (4 * MTS_FINDING_MSG_SIZE + 1)

struct check_cli {
	bool json, quiet, brief, progress;
	size_t total, done, with_errors;
	size_t output_errors; /* reports that could not be written whole */
};

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s check [options] DOMAIN...\n"
	    "       %s check [options] -f FILE\n\n"
	    "  -f, --file FILE        domains, one per line ('-': stdin)\n"
	    "  -j, --json             one JSON object per domain and line\n"
	    "  -q, --quiet            verdict lines only\n"
	    "  -b, --brief            no advice\n"
	    "  -c, --concurrency N    domains at once (default 20)\n"
	    "      --resolver ADDR    DNS resolver (default /etc/resolv.conf)\n"
	    "      --trust-anchor F   DNSSEC trust anchor file\n"
	    "      --ca-file F        CA certificates (PEM) for HTTPS and "
	    "SMTP\n"
	    "      --state DIR        remember ids and policies between runs\n"
	    "      --timeout MS       per fetch or SMTP probe\n"
	    "      --no-smtp          skip the MX probes\n"
	    "      --https-port N, --smtp-port N   for test setups only\n\n"
	    "Exit status: 0 no errors, 1 errors found, 2 usage error.\n",
	    progname, progname);
}

static const char *
colour_of(enum mts_severity s)
{
	switch (s) {
	case MTS_SEV_ERROR:
		return "\033[1;31m";
	case MTS_SEV_WARNING:
		return "\033[1;33m";
	case MTS_SEV_INFO:
		return "\033[1;36m";
	case MTS_SEV_OK:
		return "\033[1;32m";
	}
	return "";
}

/*
 * s as text safe for a terminal and for JSON (text.h), in buf
 * (ESC_SIZE): findings quote what remote servers sent, in any octets.
 */
static const char *
esc(char *buf, const char *s)
{
	text_escape(buf, ESC_SIZE, s, strlen(s));
	return buf;
}

static void
print_text(const struct check_cli *c, const struct check_report *r)
{
	bool col = use_colour(stdout);
	const struct mts_finding *f;
	char buf[ESC_SIZE];
	size_t i;
	size_t e = mts_diag_count(r->diag, MTS_SEV_ERROR);
	size_t w = mts_diag_count(r->diag, MTS_SEV_WARNING);

	printf("%s: %s%s%s (%zu error%s, %zu warning%s", esc(buf, r->domain),
	       col ? colour_of(r->verdict) : "",
	       r->verdict == MTS_SEV_OK ? "ok" : mts_severity_name(r->verdict),
	       col ? "\033[0m" : "", e, e == 1 ? "" : "s", w,
	       w == 1 ? "" : "s");
	if (r->mode != NULL)
		printf(", mode %s", esc(buf, r->mode));
	if (r->id != NULL)
		printf(", id %s", esc(buf, r->id));
	fputs(")\n", stdout);
	for (i = 0; !c->quiet && i < r->diag->count; i++) {
		f = &r->diag->items[i];
		printf("  %s%-7s%s %s (%s) [%s]",
		       col ? colour_of(f->severity) : "",
		       mts_severity_name(f->severity), col ? "\033[0m" : "",
		       f->summary, esc(buf, f->message), f->code);
		if (f->count > 1)
			printf(" (and %zu more like it)", f->count - 1);
		putchar('\n');
		if (!c->brief && f->severity > MTS_SEV_INFO &&
		    f->advice[0] != '\0')
			printf("          %s\n", f->advice);
	}
	if (!c->quiet && r->diag->dropped > 0)
		printf("  %zu more finding%s not shown (the list is full)\n",
		       r->diag->dropped, r->diag->dropped == 1 ? "" : "s");
}

/* One finding; NULL when jansson fails (out of memory). */
static json_t *
finding_json(const struct mts_finding *f)
{
	char detail[ESC_SIZE];

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "code", f->code,
	                 "severity", mts_severity_name(f->severity), "message",
	                 f->summary, "detail", esc(detail, f->message),
	                 "advice", f->advice, "count", (json_int_t)f->count);
}

/*
 * One JSON object on one line.  Every string is valid UTF-8 (escaped),
 * so only memory can fail; a finding that cannot be encoded is said on
 * stderr, never left out in silence.  0, or -1 when the report was not
 * written whole.
 */
static int
print_json(const struct check_report *r)
{
	char dom[ESC_SIZE], mode[ESC_SIZE], id[ESC_SIZE];
	json_t *o = NULL, *list, *item;
	size_t i;
	int rc = 0;

	if ((list = json_array()) == NULL)
		rc = -1;
	for (i = 0; list != NULL && i < r->diag->count; i++) {
		item = finding_json(&r->diag->items[i]);
		if (item == NULL || json_array_append_new(list, item) != 0) {
			warnx_cli("check: %s: cannot encode finding %s as "
			          "JSON",
			          esc(dom, r->domain), r->diag->items[i].code);
			rc = -1;
		}
	}
	o = json_pack("{s:s, s:s, s:I, s:I, s:s?, s:s?}", "domain",
	              esc(dom, r->domain), "verdict",
	              r->verdict == MTS_SEV_OK ? "ok" :
	                                         mts_severity_name(r->verdict),
	              "errors",
	              (json_int_t)mts_diag_count(r->diag, MTS_SEV_ERROR),
	              "warnings",
	              (json_int_t)mts_diag_count(r->diag, MTS_SEV_WARNING),
	              "mode", r->mode != NULL ? esc(mode, r->mode) : NULL, "id",
	              r->id != NULL ? esc(id, r->id) : NULL);
	/* json_object_set_new() takes list, even when it fails. */
	if (o == NULL || list == NULL ||
	    json_object_set_new(o, "findings", list) != 0 ||
	    json_object_set_new(o, "dropped",
	                        json_integer((json_int_t)r->diag->dropped)) !=
	        0 ||
	    json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) {
		if (o == NULL)
			json_decref(list);
		warnx_cli("check: %s: cannot write the report as JSON",
		          esc(dom, r->domain));
		rc = -1;
	} else {
		putchar('\n');
	}
	json_decref(o);
	return rc;
}

static void
on_report(void *arg, const struct check_report *r)
{
	struct check_cli *c = arg;

	c->done++;
	if (r->verdict == MTS_SEV_ERROR)
		c->with_errors++;
	if (c->progress)
		fputs("\r\033[K", stderr);
	if (c->json && print_json(r) != 0)
		c->output_errors++;
	else if (!c->json)
		print_text(c, r);
	fflush(stdout);
	if (c->progress)
		fprintf(stderr, "checked %zu/%zu", c->done, c->total);
}

/* A domain as given to a clean A-label name; NULL with a message. */
static char *
clean_domain(const char *arg)
{
	const char *why = NULL;
	struct mts_err err;
	char *d;

	if ((d = domain_to_ascii(arg, &why)) == NULL) {
		warnx_cli("check: '%s': %s", arg, why);
		return NULL;
	}
	if (mts_dname_check(d, strlen(d), MTS_DNAME_REQUIRE_DOT, &err) != 0) {
		warnx_cli("check: '%s': %s", arg, err.msg);
		free(d);
		return NULL;
	}
	return d;
}

static int
add_one(struct checker *ck, struct check_cli *c, const char *arg)
{
	char *d;
	int rc;

	if ((d = clean_domain(arg)) == NULL)
		return -1;
	rc = checker_add(ck, d);
	free(d);
	c->total++;
	return rc;
}

/* Domains from a file, one per line; '#' comments and blanks skipped. */
static int
add_file(struct checker *ck, struct check_cli *c, const char *path)
{
	char *buf, *line, *save = NULL;
	size_t len;
	int bad = 0;

	if (read_capped(path, DOMAINS_FILE_MAX, &buf, &len) != 0)
		return -1;
	buf[len < DOMAINS_FILE_MAX ? len : DOMAINS_FILE_MAX] = '\0';
	for (line = strtok_r(buf, "\r\n", &save); line != NULL;
	     line = strtok_r(NULL, "\r\n", &save)) {
		line += strspn(line, " \t");
		line[strcspn(line, " \t#")] = '\0';
		if (*line != '\0' && add_one(ck, c, line) != 0)
			bad++;
	}
	free(buf);
	return bad == 0 ? 0 : -1;
}

enum {
	OPT_RESOLVER = 256,
	OPT_TA,
	OPT_CA,
	OPT_STATE,
	OPT_TIMEOUT,
	OPT_NO_SMTP,
	OPT_HTTPS_PORT,
	OPT_SMTP_PORT,
	OPT_RECORD_FACTS
};

static int
parse_opts(int argc, char **argv, struct check_options *o, struct check_cli *c,
           const char **file)
{
	static const struct option longopts[] = {
	    {"brief", no_argument, NULL, 'b'},
	    {"ca-file", required_argument, NULL, OPT_CA},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"file", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"https-port", required_argument, NULL, OPT_HTTPS_PORT},
	    {"json", no_argument, NULL, 'j'},
	    {"no-smtp", no_argument, NULL, OPT_NO_SMTP},
	    {"quiet", no_argument, NULL, 'q'},
	    {"record-facts", required_argument, NULL, OPT_RECORD_FACTS},
	    {"resolver", required_argument, NULL, OPT_RESOLVER},
	    {"smtp-port", required_argument, NULL, OPT_SMTP_PORT},
	    {"state", required_argument, NULL, OPT_STATE},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"trust-anchor", required_argument, NULL, OPT_TA},
	    {NULL, 0, NULL, 0},
	};
	int ch, bad = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "bc:f:hjq", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'b':
			c->brief = true;
			break;
		case 'c':
			bad |= cli_parse_unsigned(optarg, 100000,
			                          &o->concurrency) != 0 ||
			    o->concurrency == 0;
			break;
		case 'f':
			*file = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_VALID);
		case 'j':
			c->json = true;
			break;
		case 'q':
			c->quiet = true;
			break;
		case OPT_RESOLVER:
			o->resolver = optarg;
			break;
		case OPT_TA:
			o->trust_anchor = optarg;
			break;
		case OPT_CA:
			o->ca_file = optarg;
			break;
		case OPT_STATE:
			o->state_dir = optarg;
			break;
		case OPT_TIMEOUT:
			bad |=
			    cli_parse_unsigned(optarg, 600000, &o->timeout_ms);
			break;
		case OPT_NO_SMTP:
			o->no_smtp = true;
			break;
		case OPT_HTTPS_PORT:
			bad |=
			    cli_parse_unsigned(optarg, 65535, &o->https_port);
			break;
		case OPT_SMTP_PORT:
			bad |= cli_parse_unsigned(optarg, 65535, &o->smtp_port);
			break;
		case OPT_RECORD_FACTS: /* tests only: tests/data/check-facts */
			o->record_dir = optarg;
			break;
		default:
			bad = 1;
		}
	}
	if (bad != 0 || (*file == NULL && optind == argc) ||
	    (*file != NULL && optind != argc)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int
cmd_check(int argc, char **argv)
{
	struct check_cli c = {false, false, false, false, 0, 0, 0, 0};
	const char *file = NULL;
	struct check_options o;
	struct event_base *base;
	struct checker *ck;
	int i, rc = EXIT_USAGE;

	memset(&o, 0, sizeof(o));
	if (parse_opts(argc, argv, &o, &c, &file) != 0)
		return EXIT_USAGE;
	o.now = (int64_t)time(NULL);
	/* A peer that closes mid-write must not kill the whole check. */
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		return EXIT_USAGE;
	if ((ck = checker_new(base, &o, on_report, &c)) == NULL)
		goto out;
	if (file != NULL) {
		if (add_file(ck, &c, file) != 0)
			goto out;
	} else {
		for (i = optind; i < argc; i++)
			if (add_one(ck, &c, argv[i]) != 0)
				goto out;
	}
	c.progress = c.total > 1 && !c.json && isatty(STDERR_FILENO) == 1;
	event_base_dispatch(base);
	if (c.progress)
		fputs("\r\033[K", stderr);
	rc = c.with_errors > 0 ? EXIT_INVALID : EXIT_VALID;
	/* A state or facts file that failed (said on stderr) is an I/O
	   error. */
	if (checker_state_errors(ck) > 0)
		rc = EXIT_USAGE;
	/* A report not written whole is an I/O error (mtasts(1)). */
	if (c.output_errors > 0) {
		warnx_cli("check: %zu report%s not written whole",
		          c.output_errors, c.output_errors == 1 ? "" : "s");
		rc = EXIT_USAGE;
	}
	if (fflush(stdout) != 0 || ferror(stdout) != 0) {
		warnx_cli("check: cannot write the output");
		rc = EXIT_USAGE;
	}
out:
	checker_free(ck);
	event_base_free(base);
	return rc;
}
