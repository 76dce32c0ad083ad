/* SPDX-License-Identifier: ISC */
/*
 * mtasts: one program for MTA-STS (RFC 8461), TLS-RPT (RFC 8460) and DANE
 * (RFC 7672).  main() only finds the subcommand in the dispatch table and
 * hands it the rest of the command line; each cmd_<name>.c parses its
 * own options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "serve_main.h"

const char *progname = "mtasts";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"check", cmd_check, "verify domains' MTA-STS, TLS-RPT and DANE setup"},
    {"fetch", cmd_fetch, "print what mtasts policyd answers for domains"},
    {"init", cmd_init, "write a policy and its DNS records for a domain"},
    {"lint", cmd_lint, "check a policy, TXT record or TLSA record"},
    {"match", cmd_match, "test whether an mx pattern covers a host name"},
    {"policyd", policyd_main, "answer Postfix's TLS policy lookups"},
    {"report", cmd_report, "receive, store and summarise TLS-RPT reports"},
    {"rollout", cmd_rollout, "move to enforce, change MX hosts safely"},
    {"serve", serve_main, "publish MTA-STS policies over HTTPS"},
    {"tlsa", cmd_tlsa, "make the TLSA record of a certificate or key"},
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
	        "usage: %s command [options] [args]\n"
	        "       %s --help | --version\n\ncommands:\n",
	        progname, progname);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(fp, "  %-8s %s\n", commands[i].name,
		        commands[i].summary);
	fprintf(fp, "\n'%s COMMAND --help' tells more; see mtasts(1).\n",
	        progname);
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static char help_opt[] = "--help";
	const struct command *cmd;
	char *help_argv[3];

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_VALID;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("mtasts %s\n", mts_version());
		return EXIT_VALID;
	}
	/* "mtasts help lint" is "mtasts lint --help". */
	if (strcmp(argv[1], "help") == 0 && argc == 3 &&
	    (cmd = find_command(argv[2])) != NULL) {
		help_argv[0] = argv[2];
		help_argv[1] = help_opt;
		help_argv[2] = NULL;
		return cmd->run(2, help_argv);
	}
	if ((cmd = find_command(argv[1])) == NULL) {
		warnx_cli("unknown command '%s'", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
