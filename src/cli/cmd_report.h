/* SPDX-License-Identifier: ISC */
/* The subcommands of `mtasts report` (mtasts-report(1)). */
#ifndef MTS_CLI_CMD_REPORT_H
#define MTS_CLI_CMD_REPORT_H

/* EX_TEMPFAIL of sysexits(3): the MTA keeps the mail and retries. */
#define EXIT_TEMPFAIL 75

int report_parse_main(int argc, char **argv);
int report_ingest_main(int argc, char **argv);
int report_summary_main(int argc, char **argv);
int report_alert_main(int argc, char **argv);
int report_html_main(int argc, char **argv);

#endif /* MTS_CLI_CMD_REPORT_H */
