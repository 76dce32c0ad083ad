/* SPDX-License-Identifier: ISC */
/*
 * mtasts lint: checks a policy body (RFC 8461 §3.2), an _mta-sts TXT
 * record (RFC 8461 §3.1), an _smtp._tls TXT record (RFC 8460 §3) or a
 * TLSA record (RFC 6698 §2.2, RFC 7672 §3.1) and prints every finding
 * with its advice.  Exit 0 valid (warnings allowed), 1 invalid, 2 usage
 * or I/O error.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "codes.h"

struct lint_opts {
	bool json;
	bool quiet;
	bool brief;
};

/* A kind of input: how to get it and how to parse it. */
struct lint_kind {
	const char *name;
	bool from_file; /* FILE|- argument rather than the text itself */
	size_t cap;     /* bytes read at most (+1 to detect over-long) */
	bool (*lint)(const char *buf, size_t len, struct mts_diag *diag,
	             json_t **parsed);
};

static json_t *
string_array(char *const *strs, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(strs[i]));
	return a;
}

static bool
lint_policy(const char *buf, size_t len, struct mts_diag *diag, json_t **parsed)
{
	struct mts_sts_policy p;

	if (mts_sts_policy_parse(buf, len, &p, diag, NULL) != 0)
		return false;
	*parsed = json_pack("{s:{s:s, s:I, s:o}}", "policy", "mode",
	                    mts_sts_mode_name(p.mode), "max_age",
	                    (json_int_t)p.max_age, "mx",
	                    string_array(p.mx, p.mx_count));
	mts_sts_policy_reset(&p);
	return true;
}

static bool
lint_sts_record(const char *buf, size_t len, struct mts_diag *diag,
                json_t **parsed)
{
	struct mts_sts_record r;

	if (mts_sts_record_parse(buf, len, &r, diag, NULL) != 0)
		return false;
	*parsed = json_pack("{s:{s:s}}", "record", "id", r.id);
	return true;
}

static bool
lint_tlsrpt_record(const char *buf, size_t len, struct mts_diag *diag,
                   json_t **parsed)
{
	struct mts_tlsrpt_record r;
	json_t *rua;
	size_t i;

	if (mts_tlsrpt_record_parse(buf, len, &r, diag, NULL) != 0)
		return false;
	rua = json_array();
	for (i = 0; rua != NULL && i < r.rua_count; i++)
		json_array_append_new(rua, json_string(r.rua[i].uri));
	*parsed = json_pack("{s:{s:o}}", "record", "rua", rua);
	mts_tlsrpt_record_reset(&r);
	return true;
}

/* The presentation parser adds the record's lint findings itself. */
static bool
lint_tlsa(const char *buf, size_t len, struct mts_diag *diag, json_t **parsed)
{
	struct mts_dane_tlsa t;
	char *text;

	if (mts_dane_tlsa_parse(buf, len, &t, diag, NULL) != 0)
		return false;
	if ((text = mts_dane_tlsa_format(&t)) != NULL)
		*parsed = json_pack("{s:{s:i, s:i, s:i, s:s}}", "tlsa", "usage",
		                    t.usage, "selector", t.selector, "mtype",
		                    t.mtype, "text", text);
	free(text);
	mts_dane_tlsa_reset(&t);
	return mts_diag_count(diag, MTS_SEV_ERROR) == 0;
}

static const struct lint_kind kinds[] = {
    {"policy", true, MTS_STS_POLICY_MAX, lint_policy},
    {"sts-record", false, MTS_STS_RECORD_MAX, lint_sts_record},
    {"tlsrpt-record", false, MTS_TLSRPT_RECORD_MAX, lint_tlsrpt_record},
    {"tlsa", false, MTS_TLSA_DATA_MAX * 3, lint_tlsa},
};

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s lint [-bjq] policy FILE|-\n"
	    "       %s lint [-bjq] sts-record 'TXT'|-\n"
	    "       %s lint [-bjq] tlsrpt-record 'TXT'|-\n"
	    "       %s lint [-bjq] tlsa 'TLSA'|-\n"
	    "       %s lint --list-codes [-j]\n\n"
	    "  -b, --brief       findings without advice\n"
	    "  -j, --json        print {\"valid\", \"findings\"} as JSON\n"
	    "  -q, --quiet       print nothing; the exit status tells\n"
	    "      --list-codes  print every finding code\n\n"
	    "A TXT record may be given as in a zone file, in quoted strings\n"
	    "(\"v=STSv1; id=20\" \"190101\"): they are joined without spaces.\n"
	    "Exit status: 0 valid, 1 invalid, 2 usage or I/O error.\n",
	    progname, progname, progname, progname, progname);
}

/*
 * A record pasted from a zone file is one or more quoted strings; DNS
 * joins them without adding spaces (RFC 8461 §3.1, RFC 8460 §3).  Text
 * that does not begin with '"' is taken as it is.  Returns the new length
 * or -1 on unbalanced quotes.
 */
static long
unquote_txt(char *buf, size_t len)
{
	size_t i = 0, out = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	if (i == len || buf[i] != '"')
		return (long)len;
	while (i < len) {
		if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n') {
			i++;
			continue;
		}
		if (buf[i++] != '"')
			return -1;
		while (i < len && buf[i] != '"') {
			if (buf[i] == '\\' && i + 1 < len)
				i++;
			buf[out++] = buf[i++];
		}
		if (i++ == len)
			return -1;
	}
	return (long)out;
}

static int
get_input(const struct lint_kind *kind, const char *arg, char **buf,
          size_t *len)
{
	long n;

	if (kind->from_file || strcmp(arg, "-") == 0) {
		if (read_capped(arg, kind->cap, buf, len) != 0)
			return -1;
	} else {
		*len = strlen(arg);
		if ((*buf = strdup(arg)) == NULL)
			return -1;
	}
	if (kind->from_file)
		return 0;
	/* One record from stdin: drop the line end an editor adds. */
	while (*len > 0 &&
	       ((*buf)[*len - 1] == '\n' || (*buf)[*len - 1] == '\r'))
		(*len)--;
	if ((n = unquote_txt(*buf, *len)) < 0) {
		warnx_cli("unbalanced quotes in the %s", kind->name);
		free(*buf);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

/* One row of a code table, as text or into the JSON list. */
static void
list_rule(const struct mts_diag_rule *r, bool json, json_t *list)
{
	if (!json) {
		printf("%-34s %-8s %s\n", r->code,
		       mts_severity_name(r->severity), r->summary);
		return;
	}
	json_array_append_new(list,
	                      json_pack("{s:s, s:s, s:s, s:s}", "code", r->code,
	                                "severity",
	                                mts_severity_name(r->severity),
	                                "summary", r->summary, "advice",
	                                r->advice));
}

/*
 * Every finding code: the library's (those of lint), then those of
 * `mtasts check`, which reports both.
 */
static int
list_codes(bool json)
{
	const struct mts_diag_rule *r;
	json_t *list = json_array();
	size_t i;

	for (i = 0; (r = mts_diag_rule_at(i)) != NULL; i++)
		list_rule(r, json, list);
	for (i = 0; (r = check_rule_at(i)) != NULL; i++)
		list_rule(r, json, list);
	if (json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(list);
	return EXIT_VALID;
}

static int
run_lint(const struct lint_kind *kind, const char *arg,
         const struct lint_opts *o)
{
	struct mts_diag diag;
	json_t *parsed = NULL;
	const char *source;
	size_t len;
	char *buf;
	bool valid;

	if (get_input(kind, arg, &buf, &len) != 0)
		return EXIT_USAGE;
	mts_diag_init(&diag);
	valid = kind->lint(buf, len, &diag, &parsed);
	mts_diag_sort(&diag);
	source = kind->from_file ? (strcmp(arg, "-") == 0 ? "stdin" : arg) :
				   kind->name;
	if (o->json) {
		if (print_findings_json(stdout, &diag, valid, parsed) != 0)
			valid = false;
		parsed = NULL;
	} else if (!o->quiet) {
		print_findings_text(stdout, source, &diag, valid, o->brief);
	}
	json_decref(parsed);
	mts_diag_reset(&diag);
	free(buf);
	return valid ? EXIT_VALID : EXIT_INVALID;
}

int
cmd_lint(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"brief", no_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"list-codes", no_argument, NULL, 'L'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	struct lint_opts o = {false, false, false};
	bool list = false;
	size_t i;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "bhjq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			o.brief = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_VALID;
		case 'j':
			o.json = true;
			break;
		case 'L':
			list = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (list)
		return list_codes(o.json);
	if (argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(argv[0], kinds[i].name) == 0)
			return run_lint(&kinds[i], argv[1], &o);
	warnx_cli("lint: unknown kind '%s' (policy, sts-record, "
	          "tlsrpt-record, tlsa)",
	          argv[0]);
	return EXIT_USAGE;
}
