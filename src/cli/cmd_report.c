/* SPDX-License-Identifier: ISC */
/*
 * mtasts report: TLS-RPT reports (RFC 8460) received, parsed, stored,
 * summarised and alerted on.  This file holds the dispatch of the
 * report subcommands and `report parse`; the others are in
 * cmd_report_*.c.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <mtasts/tlsrpt_report.h>

#include "cli.h"
#include "cmd_report.h"
#include "report_json.h"
#include "source.h"

struct report_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct report_command report_commands[] = {
    {"parse", report_parse_main, "print a report as normalised JSON"},
    {"ingest", report_ingest_main, "store reports from files, mail or IMAP"},
    {"summary", report_summary_main,
     "sessions by day, domain, org, MX, result"},
    {"alert", report_alert_main, "print the failures; exit 1 when any"},
    {"html", report_html_main, "write a page of charts and failures"},
};

static void
report_usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: %s report command [options] [args]\n\ncommands:\n",
	        progname);
	for (i = 0; i < sizeof(report_commands) / sizeof(report_commands[0]);
	     i++)
		fprintf(fp, "  %-8s %s\n", report_commands[i].name,
		        report_commands[i].summary);
	fprintf(fp,
	        "\n'%s report COMMAND --help' tells more; see "
	        "mtasts-report(1).\n",
	        progname);
}

int
cmd_report(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		report_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		report_usage(stdout);
		return EXIT_VALID;
	}
	for (i = 0; i < sizeof(report_commands) / sizeof(report_commands[0]);
	     i++)
		if (strcmp(report_commands[i].name, argv[1]) == 0)
			return report_commands[i].run(argc - 1, argv + 1);
	warnx_cli("report: unknown command '%s'", argv[1]);
	report_usage(stderr);
	return EXIT_USAGE;
}

/* ---- report parse ---- */

struct parse_run {
	unsigned flags;
	size_t json_flags;
	size_t parsed;
	size_t refused;
	bool nomem;
};

static void
parse_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s report parse [-c] [--strict] FILE|-\n\n"
	    "  -c, --compact  one report per line (NDJSON)\n"
	    "      --strict   refuse the deviations real senders make\n\n"
	    "FILE is a report (.json or .json.gz), a whole report mail, an\n"
	    "mbox or a maildir; \"-\" reads stdin.  Each report is printed\n"
	    "as RFC 8460 JSON, normalised, with its totals and the\n"
	    "deviations found.  Exit status: 0 every input was a report,\n"
	    "1 one was not (the reason on stderr), 2 usage or I/O error.\n",
	    progname);
}

/* Prints why an item is not a report, one line per error finding. */
static void
print_refusal(const struct source_item *item, const struct mts_diag *diag,
              const struct mts_err *err)
{
	size_t i, n = 0;

	for (i = 0; diag != NULL && i < diag->count; i++) {
		const struct mts_finding *f = &diag->items[i];

		if (f->severity != MTS_SEV_ERROR)
			continue;
		warnx_cli("%s: not a report: %s%s%s [%s]", item->origin,
		          f->summary, f->message[0] != '\0' ? ": " : "",
		          f->message, f->code);
		n++;
	}
	if (n == 0)
		warnx_cli("%s: not a report: %s", item->origin,
		          item->error != NULL  ? item->error :
		              err->msg != NULL ? err->msg :
		                                 "unknown reason");
}

static enum source_verdict
parse_item(const struct source_item *item, void *ctx)
{
	struct parse_run *run = ctx;
	struct mts_tlsrpt_report report;
	struct mts_diag diag;
	struct mts_err err;
	json_t *doc;

	memset(&err, 0, sizeof(err));
	if (item->json == NULL) {
		print_refusal(item, NULL, &err);
		run->refused++;
		return SOURCE_NEXT;
	}
	mts_diag_init(&diag);
	if (mts_tlsrpt_report_parse(item->json, item->json_len, run->flags,
	                            &report, &diag, &err) != 0) {
		if (err.code == MTS_ERR_NOMEM)
			run->nomem = true;
		print_refusal(item, &diag, &err);
		mts_diag_reset(&diag);
		run->refused++;
		return run->nomem ? SOURCE_STOP : SOURCE_NEXT;
	}
	doc = report_json(&report, &diag);
	if (doc == NULL || json_dumpf(doc, stdout, run->json_flags) != 0) {
		warnx_cli("%s: cannot print the report", item->origin);
		run->nomem = true;
	} else {
		putchar('\n');
		run->parsed++;
	}
	json_decref(doc);
	mts_tlsrpt_report_reset(&report);
	mts_diag_reset(&diag);
	return run->nomem ? SOURCE_STOP : SOURCE_NEXT;
}

int
report_parse_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"compact", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"strict", no_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	struct parse_run run = {.json_flags =
	                            JSON_INDENT(2) | JSON_PRESERVE_ORDER};
	struct source_limits lim;
	char why[256];
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "ch", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			run.json_flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
			break;
		case 'h':
			parse_usage(stdout);
			return EXIT_VALID;
		case 'S':
			run.flags |= MTS_TLSRPT_STRICT;
			break;
		default:
			parse_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		parse_usage(stderr);
		return EXIT_USAGE;
	}
	source_limits_default(&lim);
	rc = source_read_path(argv[optind], &lim, parse_item, &run, why,
	                      sizeof(why));
	if (fflush(stdout) != 0) {
		warnx_cli("report parse: cannot write the output");
		return EXIT_USAGE;
	}
	if (rc < 0) {
		warnx_cli("report parse: %s", why);
		return EXIT_USAGE;
	}
	if (run.nomem)
		return EXIT_USAGE;
	if (run.refused > 0 || run.parsed == 0) {
		if (run.refused == 0)
			warnx_cli("report parse: %s: no report found",
			          argv[optind]);
		return EXIT_INVALID;
	}
	return EXIT_VALID;
}
