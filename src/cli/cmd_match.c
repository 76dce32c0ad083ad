/* SPDX-License-Identifier: ISC */
/*
 * mtasts match: tells whether a policy's mx pattern covers an MX host
 * name under RFC 8461 §4.1.  Exit 0 match, 1 no match, 2 a malformed
 * pattern or name (or usage).
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s match [-jq] PATTERN HOSTNAME\n\n"
	    "  -j, --json   print {\"match\": bool, \"pattern\", \"host\"}\n"
	    "  -q, --quiet  print nothing; the exit status tells\n\n"
	    "PATTERN is an mx value of a policy: a host name, or \"*.\" and a\n"
	    "domain, which covers exactly one more leftmost label.  The\n"
	    "comparison ignores case and the host's trailing dot.\n"
	    "Exit status: 0 match, 1 no match, 2 malformed pattern or name.\n",
	    progname);
}

int
cmd_match(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false, quiet = false, match;
	struct mts_err err;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hjq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return EXIT_VALID;
		case 'j':
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (mts_sts_match_pattern_check(argv[0], &err) != 0) {
		warnx_cli("match: malformed pattern '%s': %s", argv[0],
		          err.msg);
		return EXIT_USAGE;
	}
	if (mts_dname_check(argv[1], strlen(argv[1]),
	                    MTS_DNAME_ALLOW_TRAILING_DOT, &err) != 0) {
		warnx_cli("match: malformed host name '%s': %s", argv[1],
		          err.msg);
		return EXIT_USAGE;
	}
	match = mts_sts_match(argv[0], argv[1]);
	if (json)
		/* Both were checked above: LDH names, nothing to escape. */
		printf(
		    "{\"match\": %s, \"pattern\": \"%s\", \"host\": \"%s\"}\n",
		    match ? "true" : "false", argv[0], argv[1]);
	else if (!quiet)
		printf("%s %s %s\n", argv[0],
		       match ? "covers" : "does not cover", argv[1]);
	return match ? EXIT_VALID : EXIT_INVALID;
}
