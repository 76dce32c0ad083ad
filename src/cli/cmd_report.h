/* SPDX-License-Identifier: ISC */
/* The subcommands of `mtasts report` (mtasts-report(1)). */
#ifndef MTS_CLI_CMD_REPORT_H
#define MTS_CLI_CMD_REPORT_H

/* EX_TEMPFAIL of sysexits(3): the MTA keeps the mail and retries. */
#define EXIT_TEMPFAIL 75

struct ingest;
struct source_limits;

/* The IMAP mailbox of `report ingest --imap` (src/report/imap.h). */
struct report_imap_args {
	const char *url;           /* imaps://user@host/MAILBOX */
	const char *password_file; /* NULL: $MTASTS_IMAP_PASSWORD */
	const char *move_to;       /* NULL: messages stay */
	const char *ca_file;       /* NULL: the system's CAs */
};

/*
 * Ingests the report mails of the mailbox; returns EXIT_VALID, or the
 * status the command exits with because of the mailbox (EXIT_USAGE: no
 * password; EXIT_TEMPFAIL: the server or the network failed).  The
 * counts are in in->stats.
 */
int report_ingest_imap(struct ingest *in, const struct source_limits *lim,
                       const struct report_imap_args *args);

/*
 * libcurl's global state, set up before any thread of the process
 * exists (curl_global_init(3) is not thread-safe; the SQLite store
 * starts a checkpointing thread), and released at the end.
 */
int report_imap_init(void);
void report_imap_cleanup(void);

int report_parse_main(int argc, char **argv);
int report_ingest_main(int argc, char **argv);
int report_summary_main(int argc, char **argv);
int report_alert_main(int argc, char **argv);
int report_html_main(int argc, char **argv);

#endif /* MTS_CLI_CMD_REPORT_H */
