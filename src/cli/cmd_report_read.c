/* SPDX-License-Identifier: ISC */
/*
 * mtasts report summary, alert and html: the reading side of the report
 * store (store.h).  summary prints the sessions of the stored reports
 * (RFC 8460 §4.4) grouped by day, domain, organization, MX and result
 * as a table, NDJSON or CSV (RFC 4180); alert prints only the failures
 * and exits 1 when there are any, for cron; html writes one
 * self-contained page (html.c).  The clock is read here and nowhere
 * else: DATE arguments are parsed by the pure when.c.
 *
 * Reports are untrusted (RFC 8460 §7): their strings are escaped for
 * the terminal (text.h), for JSON and CSV, and for HTML (html.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_report.h"
#include "failures.h"
#include "html.h"
#include "store.h"
#include "text.h"
#include "when.h"

/* A table for people is at most this many rows: use --json or --csv. */
#define TABLE_MAX_ROWS  200000u
/*
 * The width of a terminal that does not tell, the least width of a
 * text column shortened to fit, and the width of one never shortened.
 */
#define TABLE_WIDTH     80
#define TABLE_MIN_TEXT  5
#define TABLE_KEEP_TEXT 10
#define TABLE_MAX_COLS  8

enum format { FMT_TABLE, FMT_JSON, FMT_CSV };

/* The options the reading commands share. */
struct read_opts {
	const char *cmd; /* "summary", "alert", "html" */
	const char *url; /* --db */
	char *domain;    /* --domain, as an A-label when it is a name */
	int64_t now;     /* the clock, read once */
	struct store_query q;
	bool by_given;
	size_t width; /* the terminal's columns; 0: shorten nothing */
	enum format format;
	const char *out; /* html --out */
};

/* ---- options ---- */

static const struct {
	const char *name;
	unsigned bit;
} by_names[] = {
    {"day", STORE_BY_DAY},          {"domain", STORE_BY_DOMAIN},
    {"org", STORE_BY_ORG},          {"organization", STORE_BY_ORG},
    {"organisation", STORE_BY_ORG}, {"mx", STORE_BY_MX},
    {"result", STORE_BY_RESULT},
};

/* Adds the keys of a --by argument ("day,mx") to *by; -1 when unknown. */
static int
parse_by(const char *arg, unsigned *by)
{
	const char *p = arg, *end;
	size_t i, len;

	for (;;) {
		end = strchr(p, ',');
		len = end == NULL ? strlen(p) : (size_t)(end - p);
		for (i = 0; i < sizeof(by_names) / sizeof(by_names[0]); i++)
			if (strlen(by_names[i].name) == len &&
			    strncmp(by_names[i].name, p, len) == 0)
				break;
		if (i == sizeof(by_names) / sizeof(by_names[0])) {
			warnx_cli("report: --by %s: keys are day, domain, "
			          "org, mx and result",
			          arg);
			return -1;
		}
		*by |= by_names[i].bit;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static int
parse_date_opt(struct read_opts *o, const char *opt, const char *arg,
               unsigned flags, int64_t *out)
{
	const char *why;

	if (when_parse(arg, o->now, flags, out, &why) == -1) {
		warnx_cli("report %s: %s %s: %s", o->cmd, opt, arg, why);
		return -1;
	}
	return 0;
}

/*
 * The --domain as the store has it: reports carry A-labels, lower case
 * (RFC 8460 §4.4 policy-domain); what is not a name is taken as given.
 */
static int
set_domain(struct read_opts *o, const char *arg)
{
	const char *why;

	free(o->domain);
	if ((o->domain = domain_to_ascii(arg, &why)) == NULL &&
	    (o->domain = strdup(arg)) == NULL) {
		warnx_cli("report %s: out of memory", o->cmd);
		return -1;
	}
	o->q.domain = o->domain;
	return 0;
}

/* The options all three take: 0 taken, 1 not one of them, -1 bad. */
static int
common_opt(struct read_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 'd':
		o->url = arg;
		return 0;
	case 'D':
		return set_domain(o, arg);
	case 's':
		return parse_date_opt(o, "--since", arg, 0, &o->q.since);
	case 'u':
		return parse_date_opt(o, "--until", arg, WHEN_UNTIL,
		                      &o->q.until);
	case 'w':
		o->width = 0;
		return 0;
	default:
		return 1;
	}
}

/*
 * The columns of the terminal on stdout (80 when it does not say), or
 * 0 when stdout is no terminal: a pipe, a file or cron's mail gets
 * every value whole.
 */
static size_t
terminal_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) != 1)
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return TABLE_WIDTH;
}

static void
opts_init(struct read_opts *o, const char *cmd)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->now = (int64_t)time(NULL);
	o->width = terminal_width();
	o->q.since = INT64_MIN;
	o->q.until = INT64_MAX;
}

/* ---- the store ---- */

/*
 * Opens the store for reading: EXIT_VALID and *out, EXIT_USAGE, or
 * EXIT_TEMPFAIL when it cannot be reached.  A SQLite store that does
 * not exist is not made (store_open() would): a reader finding no file
 * has the wrong path, or nothing was ever ingested.
 */
static int
open_store(const struct read_opts *o, struct store **out)
{
	char default_url[4096], why[STORE_WHY_SIZE];
	const char *url = o->url, *path = NULL;
	struct stat st;

	if (url == NULL) {
		if (store_default_url(default_url, sizeof(default_url)) != 0) {
			warnx_cli("report %s: no default store: give --db",
			          o->cmd);
			return EXIT_USAGE;
		}
		url = default_url;
	}
	if (strncmp(url, "sqlite:", 7) == 0)
		path = url + 7;
	else if (url[0] == '/' || url[0] == '.')
		path = url;
	if (path != NULL && path[0] != '\0' && stat(path, &st) == -1) {
		warnx_cli("report %s: no store at %s: %s", o->cmd, path,
		          strerror(errno));
		return EXIT_TEMPFAIL;
	}
	if (store_open(url, out, why, sizeof(why)) != 0) {
		warnx_cli("report %s: %s", o->cmd, why);
		return EXIT_TEMPFAIL;
	}
	return EXIT_VALID;
}

/*
 * Row callbacks return ROW_STOP when they cannot go on (out of memory,
 * output failed: said already), which is not the store's failure.
 */
#define ROW_STOP 2

/*
 * One summary: EXIT_VALID, EXIT_USAGE when fn stopped it, or
 * EXIT_TEMPFAIL with the store's reason printed.
 */
static int
run_summary(const struct read_opts *o, struct store *store,
            const struct store_query *q, store_row_fn fn, void *ctx)
{
	char why[STORE_WHY_SIZE];
	int rc;

	why[0] = '\0';
	if ((rc = store_summary(store, q, fn, ctx, why, sizeof(why))) == 0)
		return EXIT_VALID;
	if (rc == ROW_STOP)
		return EXIT_USAGE;
	warnx_cli("report %s: %s", o->cmd, why);
	return EXIT_TEMPFAIL;
}

static int
total_row(const struct store_row *row, void *ctx)
{
	*(struct store_row *)ctx = *row;
	return 0;
}

/* The window's totals, each report once (a summary by no key). */
static int
store_total(const struct read_opts *o, struct store *store,
            struct store_row *total)
{
	struct store_query q = o->q;

	q.by = 0;
	memset(total, 0, sizeof(*total));
	return run_summary(o, store, &q, total_row, total);
}

/* ---- escaping ---- */

/* s made safe for a terminal (text.h), or `none` for NULL; malloc'd. */
static char *
esc_dup(const char *s, const char *none)
{
	size_t len, n;
	char *d;

	if (s == NULL)
		return strdup(none);
	len = strlen(s);
	n = text_escaped_len(s, len);
	if ((d = malloc(n + 1)) != NULL)
		text_escape(d, n + 1, s, len);
	return d;
}

/* s as a JSON string (RFC 8259 §7), or null; ill-formed UTF-8 as U+FFFD. */
static void
json_str(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

/* s as one field of RFC 4180 (§2: quoted when it holds , " CR LF). */
static void
csv_field(FILE *fp, const char *s)
{
	const char *p;

	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', fp);
		fputc(*p, fp);
	}
	fputc('"', fp);
}

/* ---- tables for people ---- */

struct table {
	size_t cols;
	const char *const *heads;
	const bool *right; /* right-aligned (numbers) */
	char **cells;      /* rows * cols, row-major */
	size_t rows;
	size_t cap;
	bool nomem;
};

/* Terminal columns of UTF-8 text: one per character. */
static size_t
text_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Adds a row of cols cells (taken over, freed here on failure). */
static int
table_add(struct table *t, char **cells)
{
	size_t i;
	char **p;

	for (i = 0; i < t->cols; i++)
		if (cells[i] == NULL)
			goto fail;
	if (t->rows == t->cap) {
		size_t cap = t->cap == 0 ? 64 : t->cap * 2;

		if (t->rows >= TABLE_MAX_ROWS) {
			warnx_cli("report: more than %u rows: use --json or "
			          "--csv",
			          TABLE_MAX_ROWS);
			goto fail;
		}
		if ((p = realloc(t->cells, cap * t->cols * sizeof(*p))) == NULL)
			goto fail;
		t->cells = p;
		t->cap = cap;
	}
	memcpy(&t->cells[t->rows * t->cols], cells, t->cols * sizeof(*cells));
	t->rows++;
	return 0;
fail:
	for (i = 0; i < t->cols; i++)
		free(cells[i]);
	t->nomem = true;
	return -1;
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/*
 * Column widths: numbers get what they need; with a `width` (not 0),
 * the text columns share what is left of it, the narrow ones whole
 * first, then the rest evenly (never under TABLE_MIN_TEXT), so that a
 * table fits the terminal; a longer value, or head, is shortened in
 * its middle (table_put()).
 */
static void
table_widths(const struct table *t, const char *const *extra, size_t width,
             size_t *w)
{
	size_t i, r, need, used = 0, left_cols = 0, avail;
	bool done[TABLE_MAX_COLS] = {false};

	for (i = 0; i < t->cols; i++) {
		w[i] = text_width(t->heads[i]);
		for (r = 0; r < t->rows; r++)
			if ((need = text_width(t->cells[r * t->cols + i])) >
			    w[i])
				w[i] = need;
		if (extra != NULL && extra[i] != NULL &&
		    text_width(extra[i]) > w[i])
			w[i] = text_width(extra[i]);
		used += w[i] + (i > 0 ? 2 : 0);
		/* numbers, and texts as short as a day, stay whole */
		done[i] = t->right[i] || w[i] <= TABLE_KEEP_TEXT;
		left_cols += !done[i];
	}
	if (width == 0 || used <= width)
		return;
	avail = width > 2 * (t->cols - 1) ? width - 2 * (t->cols - 1) : 0;
	for (i = 0; i < t->cols; i++)
		if (done[i])
			avail = avail > w[i] ? avail - w[i] : 0;
	while (left_cols > 0) {
		size_t min = 0, share = avail / left_cols;
		bool found = false;

		for (i = 0; i < t->cols; i++)
			if (!done[i] && (!found || w[i] < w[min])) {
				min = i;
				found = true;
			}
		if (w[min] > share)
			break;
		done[min] = true;
		avail -= w[min];
		left_cols--;
	}
	for (i = 0; i < t->cols; i++)
		if (!done[i]) {
			size_t share = avail / left_cols;

			if (share < TABLE_MIN_TEXT)
				share = TABLE_MIN_TEXT;
			if (w[i] > share)
				w[i] = share;
		}
}

/* The octets of the first n characters of UTF-8 text s. */
static size_t
text_prefix(const char *s, size_t n)
{
	size_t i = 0;

	for (; s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 && n-- == 0)
			break;
	return i;
}

/*
 * Puts c in a column of width w: padded (left or right), or, when
 * longer, its start and end around an ellipsis, so that both a name's
 * first label and its domain stay in sight.
 */
static void
table_put(FILE *fp, const char *c, size_t w, bool right, bool pad)
{
	size_t n = text_width(c), head, tail;

	if (n > w) {
		head = (w - 1) / 2;
		tail = w - 1 - head;
		fwrite(c, 1, text_prefix(c, head), fp);
		fputs("\u2026", fp);
		fputs(c + text_prefix(c, n - tail), fp);
		return;
	}
	if (right)
		fprintf(fp, "%*s", (int)(w - n), "");
	fputs(c, fp);
	if (!right && pad)
		fprintf(fp, "%*s", (int)(w - n), "");
}

static void
table_line(FILE *fp, const struct table *t, const size_t *w,
           const char *const *cells)
{
	size_t i;

	for (i = 0; i < t->cols; i++) {
		if (i > 0)
			fputs("  ", fp);
		/* the last column gets no trailing blanks */
		table_put(fp, cells[i] == NULL ? "" : cells[i], w[i],
		          t->right[i], i + 1 < t->cols);
	}
	fputc('\n', fp);
}

/* The head, the rows, and a total line when total is not NULL. */
static void
table_print(FILE *fp, const struct table *t, const char *const *total,
            size_t width)
{
	size_t w[TABLE_MAX_COLS], r;

	table_widths(t, total, width, w);
	table_line(fp, t, w, t->heads);
	for (r = 0; r < t->rows; r++)
		table_line(fp, t, w,
		           (const char *const *)&t->cells[r * t->cols]);
	if (total != NULL)
		table_line(fp, t, w, total);
}

/* A number as a new string. */
static char *
num_dup(uint64_t n)
{
	char buf[24];

	(void)snprintf(buf, sizeof(buf), "%" PRIu64, n);
	return strdup(buf);
}

/* ---- summary ---- */

/* The columns of a summary, in the store's key order. */
static const struct {
	unsigned bit;
	const char *head;
	const char *json;
} key_cols[] = {
    {STORE_BY_DAY, "DAY", "day"},
    {STORE_BY_DOMAIN, "DOMAIN", "domain"},
    {STORE_BY_ORG, "ORGANIZATION", "organization"},
    {STORE_BY_MX, "MX", "mx"},
    {STORE_BY_RESULT, "RESULT", "result"},
};
#define NKEYS (sizeof(key_cols) / sizeof(key_cols[0]))

struct summary_run {
	unsigned by;
	enum format format;
	struct table table;
	const char *heads[NKEYS + 3];
	bool right[NKEYS + 3];
	struct store_row sum; /* the rows summed, for the total line */
	bool sum_over;        /* past 2^64-1 */
};

/* a += b, or *over when that does not fit. */
static void
add_u64(uint64_t *a, uint64_t b, bool *over)
{
	if (b > UINT64_MAX - *a)
		*over = true;
	else
		*a += b;
}

/* The key of a row for column k: the string, or the day formatted. */
static const char *
row_key(const struct store_row *row, unsigned bit, char day[WHEN_DAY_SIZE])
{
	switch (bit) {
	case STORE_BY_DAY:
		when_format_day(row->day, day);
		return day;
	case STORE_BY_DOMAIN:
		return row->domain;
	case STORE_BY_ORG:
		return row->org;
	case STORE_BY_MX:
		return row->mx;
	default:
		return row->result;
	}
}

static int
summary_json_row(const struct summary_run *run, const struct store_row *row)
{
	char day[WHEN_DAY_SIZE];
	size_t k;

	fputc('{', stdout);
	for (k = 0; k < NKEYS; k++)
		if ((run->by & key_cols[k].bit) != 0) {
			fprintf(stdout, "\"%s\":", key_cols[k].json);
			json_str(stdout, row_key(row, key_cols[k].bit, day));
			fputc(',', stdout);
		}
	fprintf(stdout,
	        "\"reports\":%" PRIu64 ",\"successful\":%" PRIu64
	        ",\"failed\":%" PRIu64 "}\n",
	        row->reports, row->successful, row->failed);
	return ferror(stdout) ? -1 : 0;
}

static int
summary_csv_row(const struct summary_run *run, const struct store_row *row)
{
	char day[WHEN_DAY_SIZE];
	size_t k;

	for (k = 0; k < NKEYS; k++)
		if ((run->by & key_cols[k].bit) != 0) {
			csv_field(stdout, row_key(row, key_cols[k].bit, day));
			fputc(',', stdout);
		}
	/* RFC 4180 §2: each record ends with CRLF */
	fprintf(stdout, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\r\n", row->reports,
	        row->successful, row->failed);
	return ferror(stdout) ? -1 : 0;
}

static int
summary_table_row(struct summary_run *run, const struct store_row *row)
{
	char *cells[NKEYS + 3], day[WHEN_DAY_SIZE];
	size_t k, n = 0;

	for (k = 0; k < NKEYS; k++)
		if ((run->by & key_cols[k].bit) != 0)
			cells[n++] =
			    esc_dup(row_key(row, key_cols[k].bit, day), "-");
	cells[n++] = num_dup(row->reports);
	cells[n++] = num_dup(row->successful);
	cells[n++] = num_dup(row->failed);
	add_u64(&run->sum.reports, row->reports, &run->sum_over);
	add_u64(&run->sum.successful, row->successful, &run->sum_over);
	add_u64(&run->sum.failed, row->failed, &run->sum_over);
	return table_add(&run->table, cells);
}

static int
summary_row(const struct store_row *row, void *ctx)
{
	struct summary_run *run = ctx;
	int rc;

	switch (run->format) {
	case FMT_JSON:
		rc = summary_json_row(run, row);
		break;
	case FMT_CSV:
		rc = summary_csv_row(run, row);
		break;
	default:
		rc = summary_table_row(run, row);
		break;
	}
	if (rc == -1 && run->format != FMT_TABLE)
		warnx_cli("report summary: cannot write the output");
	return rc == -1 ? ROW_STOP : 0;
}

static void
summary_heads(struct summary_run *run)
{
	size_t k, n = 0;

	for (k = 0; k < NKEYS; k++)
		if ((run->by & key_cols[k].bit) != 0)
			run->heads[n++] = key_cols[k].head;
	run->heads[n] = "REPORTS";
	run->heads[n + 1] = "SUCCESSFUL";
	run->heads[n + 2] = "FAILED";
	run->right[n] = run->right[n + 1] = run->right[n + 2] = true;
	run->table.cols = n + 3;
	run->table.heads = run->heads;
	run->table.right = run->right;
	if (run->format == FMT_CSV) {
		for (k = 0; k < NKEYS; k++)
			if ((run->by & key_cols[k].bit) != 0)
				printf("%s,", key_cols[k].json);
		printf("reports,successful,failed\r\n");
	}
}

/*
 * The table, its total line from the reports' own sums.  By day and
 * organization only, each report is in one row with all its policies
 * (RFC 8460 §4.1: one date-range, one organization-name): the rows add
 * up to the total and the store is not read again (a million reports
 * by day: half the time).
 */
static int
summary_table(const struct read_opts *o, struct store *store,
              struct summary_run *run)
{
	struct store_row total = run->sum;
	char r[24], s[24], f[24];
	const char *line[NKEYS + 3] = {"total"};
	size_t n = run->table.cols - 3;
	int rc;

	if (((run->by & ~(STORE_BY_DAY | STORE_BY_ORG)) != 0 ||
	     run->sum_over) &&
	    (rc = store_total(o, store, &total)) != EXIT_VALID)
		return rc;
	if (run->table.rows == 0) {
		warnx_cli("report summary: no report in this window");
		return EXIT_VALID;
	}
	(void)snprintf(r, sizeof(r), "%" PRIu64, total.reports);
	(void)snprintf(s, sizeof(s), "%" PRIu64, total.successful);
	(void)snprintf(f, sizeof(f), "%" PRIu64, total.failed);
	line[n] = r;
	line[n + 1] = s;
	line[n + 2] = f;
	table_print(stdout, &run->table, line, o->width);
	return EXIT_VALID;
}

static void
summary_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s report summary [-jw] [--csv] [--db URL] [--domain D]\n"
	    "           [--since DATE] [--until DATE] [-b KEY[,KEY...]]\n\n"
	    "  -b, --by KEYS    group by day, domain, org, mx, result\n"
	    "                   (repeatable or a comma list; default\n"
	    "                   day,domain)\n"
	    "  -d, --db URL     the store (sqlite:PATH, postgresql://...)\n"
	    "      --domain D   only the policies of policy-domain D\n"
	    "      --since DATE reports whose date range began at or after\n"
	    "      --until DATE ... and before DATE\n"
	    "  -j, --json       one JSON object per row (NDJSON)\n"
	    "      --csv        CSV (RFC 4180)\n"
	    "  -w, --wide       no value shortened to fit the terminal\n\n"
	    "DATE is 2026-12-01, 2026-12-01T06:00:00Z, or 24h, 7d, 90m\n"
	    "before now; by default every report is summed.  Exit status:\n"
	    "0 done, 2 usage or output error, 75 the store failed.\n",
	    progname);
}

int
report_summary_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"by", required_argument, NULL, 'b'},
	    {"csv", no_argument, NULL, 'C'},
	    {"db", required_argument, NULL, 'd'},
	    {"domain", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {"wide", no_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	struct summary_run run;
	struct read_opts o;
	struct store *store = NULL;
	int ch, rc;

	opts_init(&o, "summary");
	memset(&run, 0, sizeof(run));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "b:d:hjw", longopts, NULL)) !=
	       -1) {
		if ((rc = common_opt(&o, ch, optarg)) == 0)
			continue;
		if (rc == -1)
			goto usage;
		switch (ch) {
		case 'b':
			o.by_given = true;
			if (parse_by(optarg, &o.q.by) == -1)
				goto usage;
			break;
		case 'C':
			o.format = FMT_CSV;
			break;
		case 'h':
			summary_usage(stdout);
			free(o.domain);
			return EXIT_VALID;
		case 'j':
			o.format = FMT_JSON;
			break;
		default:
			summary_usage(stderr);
			goto usage;
		}
	}
	if (optind != argc) {
		summary_usage(stderr);
		goto usage;
	}
	if (!o.by_given)
		o.q.by = STORE_BY_DAY | STORE_BY_DOMAIN;
	if ((rc = open_store(&o, &store)) != EXIT_VALID)
		goto out;
	run.by = o.q.by;
	run.format = o.format;
	summary_heads(&run);
	rc = run_summary(&o, store, &o.q, summary_row, &run);
	if (rc == EXIT_VALID && run.table.nomem)
		rc = EXIT_USAGE;
	else if (rc == EXIT_VALID && o.format == FMT_TABLE)
		rc = summary_table(&o, store, &run);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warnx_cli("report summary: cannot write the output");
		rc = EXIT_USAGE;
	}
out:
	table_free(&run.table);
	store_close(store);
	free(o.domain);
	return rc;
usage:
	free(o.domain);
	return EXIT_USAGE;
}

/* ---- alert ---- */

static int
failures_row(const struct store_row *row, void *ctx)
{
	char why[STORE_WHY_SIZE];

	if (failures_add(ctx, row, why, sizeof(why)) == -1) {
		warnx_cli("report: %s", why);
		return ROW_STOP;
	}
	return 0;
}

/* The failures of the window, merged; EXIT_* as run_summary(). */
static int
load_failures(const struct read_opts *o, struct store *store,
              struct failures *f)
{
	struct store_query q = o->q;
	char why[STORE_WHY_SIZE];
	int rc;

	q.by = FAILURES_BY;
	why[0] = '\0';
	if ((rc = run_summary(o, store, &q, failures_row, f)) != EXIT_VALID)
		return rc;
	if (failures_finish(f, why, sizeof(why)) == -1) {
		warnx_cli("report %s: %s", o->cmd, why);
		return EXIT_USAGE;
	}
	return EXIT_VALID;
}

static void
alert_json(const struct failures *f)
{
	size_t i, j;

	for (i = 0; i < f->count; i++) {
		const struct failure *it = &f->items[i];

		fputs("{\"domain\":", stdout);
		json_str(stdout, it->domain);
		fputs(",\"result\":", stdout);
		json_str(stdout, it->result);
		fputs(",\"mx\":", stdout);
		json_str(stdout, it->mx);
		printf(",\"failed\":%" PRIu64 ",\"organizations\":[",
		       it->failed);
		for (j = 0; j < it->org_count; j++) {
			if (j > 0)
				fputc(',', stdout);
			json_str(stdout, it->orgs[j]);
		}
		fputs("]}\n", stdout);
	}
}

/* The organizations of a failure, escaped, comma-separated. */
static char *
orgs_dup(const struct failure *it)
{
	size_t i, len = 1, at = 0, n;
	char **e, *s = NULL;

	if ((e = calloc(it->org_count + 1, sizeof(*e))) == NULL)
		return NULL;
	for (i = 0; i < it->org_count; i++) {
		if ((e[i] = esc_dup(it->orgs[i], "-")) == NULL)
			goto out;
		len += strlen(e[i]) + 2;
	}
	if ((s = malloc(len)) == NULL)
		goto out;
	for (i = 0; i < it->org_count; i++) {
		if (i > 0) {
			memcpy(s + at, ", ", 2);
			at += 2;
		}
		n = strlen(e[i]);
		memcpy(s + at, e[i], n); /* len counted each, and 2 more */
		at += n;
	}
	s[at] = '\0';
out:
	for (i = 0; i < it->org_count; i++)
		free(e[i]);
	free(e);
	return s;
}

static int
alert_table(const struct read_opts *o, const struct failures *f)
{
	static const char *const heads[] = {"DOMAIN", "RESULT", "MX", "FAILED",
	                                    "REPORTED BY"};
	static const bool right[] = {false, false, false, true, false};
	struct table t = {.cols = 5, .heads = heads, .right = right};
	char since[WHEN_TIME_SIZE], *cells[5];
	size_t i;
	int rc = EXIT_VALID;

	for (i = 0; i < f->count; i++) {
		const struct failure *it = &f->items[i];

		cells[0] = esc_dup(it->domain, "(no policy-domain)");
		cells[1] = esc_dup(it->result, "(no details)");
		cells[2] = esc_dup(it->mx, "-");
		cells[3] = num_dup(it->failed);
		cells[4] = orgs_dup(it);
		if (table_add(&t, cells) == -1) {
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (o->q.since == INT64_MIN)
		printf("TLS-RPT failures in every stored report:\n\n");
	else {
		when_format_time(o->q.since, since);
		printf("TLS-RPT failures since %s (date-range start):\n\n",
		       since);
	}
	table_print(stdout, &t, NULL, o->width);
out:
	table_free(&t);
	return rc;
}

static void
alert_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s report alert [-jw] [--db URL] [--domain D] "
	    "[--since DATE]\n"
	    "           [--until DATE]\n\n"
	    "  -d, --db URL     the store (sqlite:PATH, postgresql://...)\n"
	    "      --domain D   only the failures of policy-domain D\n"
	    "      --since DATE reports whose date range began at or after\n"
	    "                   DATE (default 48h: yesterday's reports)\n"
	    "      --until DATE ... and before DATE\n"
	    "  -j, --json       one JSON object per failure (NDJSON)\n"
	    "  -w, --wide       no value shortened to fit the terminal\n\n"
	    "Prints the failed sessions by domain, result type and MX,\n"
	    "with who reported them, and nothing at all when there is\n"
	    "none.  Exit status: 0 no failure, 1 failures, 2 usage or\n"
	    "output error, 75 the store failed.\n",
	    progname);
}

int
report_alert_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"domain", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {"wide", no_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	struct failures f;
	struct read_opts o;
	struct store *store = NULL;
	int ch, rc;

	opts_init(&o, "alert");
	failures_init(&f);
	/*
	 * A report covers a UTC day and comes after it ends (RFC 8460
	 * §4.1): the reports of the last 48 hours by date-range start are
	 * yesterday's (and today's, none yet), so that a daily job sees each
	 * day's reports once.
	 */
	o.q.since = o.now - 2 * 86400;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:hjw", longopts, NULL)) != -1) {
		if ((rc = common_opt(&o, ch, optarg)) == 0)
			continue;
		if (rc == -1)
			goto usage;
		switch (ch) {
		case 'h':
			alert_usage(stdout);
			free(o.domain);
			return EXIT_VALID;
		case 'j':
			o.format = FMT_JSON;
			break;
		default:
			alert_usage(stderr);
			goto usage;
		}
	}
	if (optind != argc) {
		alert_usage(stderr);
		goto usage;
	}
	if ((rc = open_store(&o, &store)) != EXIT_VALID)
		goto out;
	if ((rc = load_failures(&o, store, &f)) != EXIT_VALID)
		goto out;
	if (f.count == 0)
		goto out; /* nothing to say: say nothing */
	if (o.format == FMT_JSON)
		alert_json(&f);
	else if ((rc = alert_table(&o, &f)) != EXIT_VALID)
		goto out;
	rc = EXIT_INVALID;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warnx_cli("report alert: cannot write the output");
		rc = EXIT_USAGE;
	}
out:
	failures_reset(&f);
	store_close(store);
	free(o.domain);
	return rc;
usage:
	free(o.domain);
	return EXIT_USAGE;
}

/* ---- html ---- */

static int
page_row(const struct store_row *row, void *ctx)
{
	char why[STORE_WHY_SIZE];

	if (html_page_add_day(ctx, row, why, sizeof(why)) == -1) {
		warnx_cli("report html: %s", why);
		return ROW_STOP;
	}
	return 0;
}

/*
 * Writes the page to a new file beside `out` and renames it over out,
 * so that a reader (a web server) sees the old page or the new one,
 * never half of one; mode 0644, whatever the umask.
 */
static int
write_atomic(const char *out, struct html_page *page)
{
	size_t len = strlen(out);
	char *tmp;
	FILE *fp = NULL;
	int fd = -1, rc = -1;

	if ((tmp = malloc(len + 8)) == NULL)
		return -1;
	(void)snprintf(tmp, len + 8, "%s.XXXXXX", out);
	if ((fd = mkstemp(tmp)) == -1) {
		warnx_cli("report html: %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0644) == -1 || (fp = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1; /* fp owns it */
	if (html_page_write(page, fp) == -1 || fflush(fp) != 0 ||
	    fsync(fileno(fp)) == -1)
		goto fail;
	if (fclose(fp) != 0) {
		fp = NULL;
		goto fail;
	}
	fp = NULL;
	if (rename(tmp, out) == -1)
		goto fail;
	rc = 0;
fail:
	if (rc == -1) {
		warnx_cli("report html: %s: %s", out, strerror(errno));
		if (fp != NULL)
			(void)fclose(fp);
		if (fd != -1)
			(void)close(fd);
		(void)unlink(tmp);
	}
	free(tmp);
	return rc;
}

static int
html_load(const struct read_opts *o, struct store *store,
          struct html_page *page, struct failures *f)
{
	struct store_query q = o->q;
	struct store_row total;
	int rc;

	q.by = STORE_BY_DAY | STORE_BY_DOMAIN;
	if ((rc = run_summary(o, store, &q, page_row, page)) != EXIT_VALID)
		return rc;
	if ((rc = load_failures(o, store, f)) != EXIT_VALID ||
	    (rc = store_total(o, store, &total)) != EXIT_VALID)
		return rc;
	page->reports = total.reports;
	page->successful = total.successful;
	page->failed = total.failed;
	page->failures = f;
	return EXIT_VALID;
}

static void
html_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: %s report html -o FILE [--db URL] [--domain D]\n"
	    "           [--since DATE] [--until DATE]\n\n"
	    "  -o, --out FILE   the page to write (replaced atomically)\n"
	    "  -d, --db URL     the store (sqlite:PATH, postgresql://...)\n"
	    "      --domain D   only policy-domain D\n"
	    "      --since DATE reports whose date range began at or after\n"
	    "      --until DATE ... and before DATE\n\n"
	    "Writes one self-contained HTML page: a chart of the daily\n"
	    "sessions of each domain, the totals and the failures.\n"
	    "Exit status: 0 written, 2 usage or I/O error, 75 the store\n"
	    "failed.\n",
	    progname);
}

int
report_html_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"domain", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {"out", required_argument, NULL, 'o'},
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {NULL, 0, NULL, 0},
	};
	struct html_page page;
	struct failures f;
	struct read_opts o;
	struct store *store = NULL;
	int ch, rc;

	opts_init(&o, "html");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:ho:", longopts, NULL)) != -1) {
		if ((rc = common_opt(&o, ch, optarg)) == 0)
			continue;
		if (rc == -1)
			goto usage;
		switch (ch) {
		case 'h':
			html_usage(stdout);
			free(o.domain);
			return EXIT_VALID;
		case 'o':
			o.out = optarg;
			break;
		default:
			html_usage(stderr);
			goto usage;
		}
	}
	if (optind != argc || o.out == NULL || o.out[0] == '\0') {
		html_usage(stderr);
		goto usage;
	}
	html_page_init(&page);
	failures_init(&f);
	page.generated = o.now;
	page.since = o.q.since;
	page.until = o.q.until;
	page.domain = o.domain;
	if ((rc = open_store(&o, &store)) == EXIT_VALID &&
	    (rc = html_load(&o, store, &page, &f)) == EXIT_VALID &&
	    write_atomic(o.out, &page) == -1)
		rc = EXIT_USAGE;
	html_page_reset(&page);
	failures_reset(&f);
	store_close(store);
	free(o.domain);
	return rc;
usage:
	free(o.domain);
	return EXIT_USAGE;
}
