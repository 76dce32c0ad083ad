/* SPDX-License-Identifier: ISC */
/*
 * Shared declarations of the mtasts command-line program: the
 * subcommands, their exit statuses, and the output of findings.
 */
#ifndef MTS_CLI_H
#define MTS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <mtasts/mtasts.h>

/* Exit statuses shared by every subcommand (mtasts(1) EXIT STATUS). */
enum {
	EXIT_VALID = 0,   /* valid, matched, done */
	EXIT_INVALID = 1, /* invalid, no match, refused */
	EXIT_USAGE = 2    /* usage or I/O error */
};

int cmd_check(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_rollout(int argc, char **argv);
int cmd_tlsa(int argc, char **argv);

/* The program name for messages ("mtasts"). */
extern const char *progname;

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* "mtasts: message" on stderr. */
void warnx_cli(const char *fmt, ...) CLI_PRINTF(1, 2);

/*
 * An option's decimal number: digits only (no sign, space or prefix),
 * at most max.  0 with *out set, or -1 (*out untouched).
 */
int cli_parse_unsigned(const char *s, unsigned max, unsigned *out);

/* True when colour may be used on `fp` (a terminal, NO_COLOR unset). */
bool use_colour(FILE *fp);

/*
 * Prints the findings of one linted input for people: one
 * "SOURCE:LINE: severity: message [code]" line per finding, its advice
 * indented below unless `brief`, then a verdict line.
 */
void print_findings_text(FILE *fp, const char *source,
                         const struct mts_diag *diag, bool valid, bool brief);

/*
 * Prints {"valid": ..., "findings": [...]} and, when `extra` is not
 * NULL, its members merged in.  Takes ownership of `extra` (a jansson
 * json_t *, passed as void * to keep jansson out of this header).
 */
int print_findings_json(FILE *fp, const struct mts_diag *diag, bool valid,
                        void *extra);

/*
 * Reads at most `cap` + 1 bytes of a file ("-" is stdin) into a new
 * buffer, so that callers can tell an over-long input from one at the
 * cap.  Returns 0, or -1 with a message printed.
 */
int read_capped(const char *path, size_t cap, char **buf, size_t *len);

/*
 * Converts a domain name given by a person to its ASCII form: U-labels to
 * A-labels (IDNA2008 with UTS #46 mapping), one trailing dot dropped,
 * lower-cased.  Returns a new string, or NULL with *why set.
 */
char *domain_to_ascii(const char *name, const char **why);

#endif /* MTS_CLI_H */
