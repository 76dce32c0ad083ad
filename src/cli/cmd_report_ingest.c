/* SPDX-License-Identifier: ISC */
/*
 * mtasts report ingest: reports from files, directories, mailboxes or
 * stdin (an MTA's pipe) into the store, idempotent by (organization,
 * report-id) (RFC 8460 §5.3).  Exit 0 when every report was stored or
 * known, 1 when some input went to the quarantine, 75 (EX_TEMPFAIL) when
 * the store failed, so that an MTA keeps the mail and retries later.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_report.h"
#include "ingest.h"
#include "source.h"
#include "store.h"

enum verbosity { QUIET, NORMAL, VERBOSE };

struct ingest_cli {
	enum verbosity verbosity;
	bool json;
};

/* One run of `report ingest`: what every input goes through. */
struct ingest_run {
	struct ingest in;
	struct ingest_pipe *pipe; /* NULL: parse and store in turn */
	struct source_limits lim;
};

static void
ingest_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s report ingest [-jqv] [--db URL] [--strict] "
	    "FILE...|DIR|-\n"
	    "       %s report ingest [-jqv] [--db URL] [--strict] "
	    "--imap imaps://USER@HOST/MAILBOX\n"
	    "           [--password-file FILE] [--move-to FOLDER] "
	    "[--imap-ca FILE]\n\n"
	    "  -d, --db URL   the store: sqlite:PATH (the default is\n"
	    "                 $MTASTS_REPORT_DB, else a file under\n"
	    "                 /var/lib/mtasts or ~/.local/share/mtasts)\n"
	    "                 or postgresql://...\n"
	    "  -j, --json     print the counts as one JSON object\n"
	    "  -q, --quiet    print nothing but errors\n"
	    "  -v, --verbose  print one line per report\n"
	    "      --strict   quarantine reports with deviations\n"
	    "      --imap URL           read the report mails of an IMAP\n"
	    "                           mailbox (TLS always, verified)\n"
	    "      --password-file FILE its password (mode 0600), else\n"
	    "                           $MTASTS_IMAP_PASSWORD\n"
	    "      --move-to FOLDER     move each mail there once what it\n"
	    "                           carried is in the store\n"
	    "      --imap-ca FILE       CA certificates for the server\n\n"
	    "Each FILE is a report (.json, .json.gz), a report mail, an\n"
	    "mbox or a maildir; a DIR's files are read in name order; \"-\"\n"
	    "reads one mail or report from stdin (for an MTA's pipe).  A\n"
	    "report already stored is not stored again; what is not a\n"
	    "report is kept in the quarantine with its reason.\n"
	    "Exit status: 0 all stored or known, 1 some quarantined,\n"
	    "2 usage or a file unreadable, 75 the store or the IMAP\n"
	    "server failed (retry).\n",
	    progname, progname);
}

static void
note_item(const struct source_item *item, enum ingest_outcome outcome,
          const char *detail, void *ctx)
{
	const struct ingest_cli *cli = ctx;

	if (outcome == INGEST_FAILED || outcome == INGEST_QUARANTINED) {
		if (cli->verbosity != QUIET)
			warnx_cli("%s: %s: %s", item->origin,
			          ingest_outcome_name(outcome), detail);
		return;
	}
	if (cli->verbosity == VERBOSE)
		fprintf(stderr, "%s: %s: %s\n", item->origin,
		        ingest_outcome_name(outcome), detail);
}

/*
 * Ingests one path (a file, a directory, a mailbox, "-").  Returns as
 * source_read_path(): 0, 1 when the store failed (the rest waits), -1
 * when the path could not be read (why says so; the notes of the items
 * before it are out first).
 */
static int
ingest_path(struct ingest_run *run, const char *path, char *why,
            size_t why_size)
{
	int rc;

	if (run->pipe == NULL)
		return source_read_path(path, &run->lim, ingest_source_fn,
		                        &run->in, why, why_size);
	rc = source_read_path(path, &run->lim, ingest_pipe_fn, run->pipe, why,
	                      why_size);
	if (rc == -1)
		ingest_pipe_sync(run->pipe);
	return rc;
}

static void
print_counts(const struct ingest_cli *cli, const struct ingest_stats *s)
{
	if (cli->json) {
		printf("{\"added\": %zu, \"known\": %zu, \"quarantined\": %zu, "
		       "\"failed\": %zu}\n",
		       s->added, s->known, s->quarantined, s->failed);
		return;
	}
	if (cli->verbosity != QUIET)
		fprintf(stderr,
		        "%s: report ingest: %zu added, %zu known, "
		        "%zu quarantined%s\n",
		        progname, s->added, s->known, s->quarantined,
		        s->failed > 0 ? ", store failed" : "");
}

int
report_ingest_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"imap", required_argument, NULL, 'I'},
	    {"imap-ca", required_argument, NULL, 'C'},
	    {"json", no_argument, NULL, 'j'},
	    {"move-to", required_argument, NULL, 'M'},
	    {"password-file", required_argument, NULL, 'P'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"strict", no_argument, NULL, 'S'},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	struct ingest_cli cli = {.verbosity = NORMAL};
	struct report_imap_args imap = {0};
	struct ingest_run run;
	struct ingest *in = &run.in;
	struct store *store = NULL;
	const char *url = NULL;
	char default_url[4096], why[STORE_WHY_SIZE];
	int ch, i, rc, status = EXIT_VALID;

	memset(&run, 0, sizeof(run));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:hjqv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			url = optarg;
			break;
		case 'h':
			ingest_usage(stdout);
			return EXIT_VALID;
		case 'I':
			imap.url = optarg;
			break;
		case 'C':
			imap.ca_file = optarg;
			break;
		case 'M':
			imap.move_to = optarg;
			break;
		case 'P':
			imap.password_file = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'q':
			cli.verbosity = QUIET;
			break;
		case 'S':
			in->parse_flags |= MTS_TLSRPT_STRICT;
			break;
		case 'v':
			cli.verbosity = VERBOSE;
			break;
		default:
			ingest_usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* Files or a mailbox; the mailbox's options only with it. */
	if ((optind >= argc) == (imap.url == NULL) ||
	    (imap.url == NULL &&
	     (imap.move_to != NULL || imap.password_file != NULL ||
	      imap.ca_file != NULL))) {
		ingest_usage(stderr);
		return EXIT_USAGE;
	}
	if (url == NULL) {
		if (store_default_url(default_url, sizeof(default_url)) != 0) {
			warnx_cli("report ingest: no default store: give --db");
			return EXIT_USAGE;
		}
		url = default_url;
	}
	if (imap.url != NULL && report_imap_init() != 0)
		return EXIT_TEMPFAIL;
	if (store_open(url, &store, why, sizeof(why)) != 0) {
		/* The store may be back later: the MTA retries. */
		warnx_cli("report ingest: %s", why);
		if (imap.url != NULL)
			report_imap_cleanup();
		return EXIT_TEMPFAIL;
	}
	in->store = store;
	in->received = (int64_t)time(NULL);
	in->note = note_item;
	in->note_ctx = &cli;
	source_limits_default(&run.lim);
	/*
	 * Reading in this thread, parsing and storing in the pipe's (about
	 * a third of the work each); without threads, all in this one.
	 */
	if (imap.url != NULL) {
		/*
		 * A mailbox: each message in turn, stored before the next,
		 * since it is moved only once what it carried is stored.
		 */
		run.pipe = NULL;
		status = report_ingest_imap(in, &run.lim, &imap);
	} else if (ingest_pipe_start(in, &run.pipe) == -1) {
		run.pipe = NULL;
	}
	for (i = optind; i < argc; i++) {
		rc = ingest_path(&run, argv[i], why, sizeof(why));
		if (rc == 1)
			break; /* the store failed: the rest waits */
		if (rc < 0) {
			warnx_cli("report ingest: %s", why);
			/* An MTA's pipe that broke: let the MTA retry. */
			status = strcmp(argv[i], "-") == 0 ? EXIT_TEMPFAIL :
							     EXIT_USAGE;
		}
	}
	ingest_pipe_end(run.pipe);
	store_close(store);
	if (imap.url != NULL)
		report_imap_cleanup();
	print_counts(&cli, &in->stats);
	switch (ingest_worst(&in->stats)) {
	case INGEST_FAILED:
		return EXIT_TEMPFAIL;
	case INGEST_QUARANTINED:
		return status != EXIT_VALID ? status : EXIT_INVALID;
	case INGEST_ADDED:
	case INGEST_KNOWN:
		break;
	}
	return status;
}
