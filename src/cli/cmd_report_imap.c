/* SPDX-License-Identifier: ISC */
/*
 * mtasts report ingest --imap: the report mails of an IMAP mailbox,
 * each read as a file would be (src/report/source.c), stored or
 * quarantined, and moved to --move-to only once all it carried is in the
 * store, so that a crash or a failed store never loses a report: what
 * was not stored is still in the mailbox for the next run.
 */
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "cmd_report.h"
#include "imap.h"
#include "ingest.h"

struct imap_run {
	struct ingest *in;
	const struct source_limits *lim;
	char why[STORE_WHY_SIZE];
};

/* A message over the cap: never fetched; its refusal is kept. */
static enum imap_verdict
quarantine_unread(struct imap_run *run, const struct imap_message *msg)
{
	struct source_item item = {
	    .origin = msg->origin,
	    .kind = SOURCE_MAIL,
	    .error = msg->error,
	};

	return ingest_item(run->in, &item) == INGEST_FAILED ? IMAP_STOP :
							      IMAP_MOVE;
}

static enum imap_verdict
ingest_message(const struct imap_message *msg, void *ctx)
{
	struct imap_run *run = ctx;
	size_t failed = run->in->stats.failed;
	int rc;

	if (msg->data == NULL)
		return quarantine_unread(run, msg);
	rc = source_read_buffer(msg->data, msg->len, msg->origin, NULL,
	                        run->lim, ingest_source_fn, run->in, run->why,
	                        sizeof(run->why));
	if (rc != 0 || run->in->stats.failed != failed)
		return IMAP_STOP; /* left in the mailbox for the next run */
	return IMAP_MOVE;
}

int
report_imap_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		warnx_cli("report ingest: libcurl cannot start");
		return -1;
	}
	return 0;
}

void
report_imap_cleanup(void)
{
	curl_global_cleanup();
}

int
report_ingest_imap(struct ingest *in, const struct source_limits *lim,
                   const struct report_imap_args *args)
{
	struct imap_opts opts;
	struct imap_run run = {.in = in, .lim = lim};
	char *password = NULL;
	char why[IMAP_WHY_SIZE];
	int rc, status = EXIT_VALID;

	if (imap_password_from(args->password_file, &password, why,
	                       sizeof(why)) != 0) {
		warnx_cli("report ingest: %s", why);
		return EXIT_USAGE;
	}
	memset(&opts, 0, sizeof(opts));
	opts.url = args->url;
	opts.password = password;
	opts.move_to = args->move_to;
	opts.ca_file = args->ca_file;
	opts.message_max = lim->input_max;
	rc = imap_walk(&opts, ingest_message, &run, why, sizeof(why));
	imap_password_free(password);
	if (rc < 0) {
		/* The server or the network: the next run (cron) retries. */
		warnx_cli("report ingest: %s", why);
		status = EXIT_TEMPFAIL;
	} else if (rc == 1 && run.why[0] != '\0') {
		warnx_cli("report ingest: %s", run.why);
	}
	return status;
}
