/* SPDX-License-Identifier: ISC */
/*
 * The page of `mtasts report html`: one self-contained HTML document
 * (inline CSS and SVG, no script, nothing fetched: a Content-Security-
 * Policy of default-src 'none' says so to the browser too) with, per
 * policy-domain, a chart of the daily successful and failed sessions,
 * the totals per domain, and the failure table (failures.h).
 *
 * Every string from a report is untrusted (RFC 8460 §7) and is written
 * HTML-escaped (& < > " '), with control characters and ill-formed
 * UTF-8 replaced by U+FFFD, in text and attributes alike.
 *
 * Pure: the caller gives the rows and the time the page is made for,
 * and a FILE * to write to (open_memstream() for a buffer).
 */
#ifndef MTS_REPORT_HTML_H
#define MTS_REPORT_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "failures.h"
#include "store.h"

/* A chart spans at most this many days: the last ones of the window. */
#define HTML_MAX_DAYS   731
/* At most this many domains are charted; the tables hold them all. */
#define HTML_MAX_CHARTS 100
/* At most this many (day, domain) rows are taken in. */
#define HTML_MAX_ROWS   2000000u

struct html_day {
	int64_t day;  /* 00:00 UTC */
	char *domain; /* NULL: the reports' policies had no policy-domain */
	uint64_t successful;
	uint64_t failed;
	uint64_t reports;
};

/* Owned by the caller; html_page_init() before use, _reset() after. */
struct html_page {
	int64_t generated; /* when the page is made (seconds) */
	int64_t since;     /* the window, as in struct store_query */
	int64_t until;
	const char *domain; /* the --domain filter, or NULL; borrowed */
	/* the window's totals, each report counted once (by = 0) */
	uint64_t reports;
	uint64_t successful;
	uint64_t failed;
	const struct failures *failures; /* finished; borrowed; may be NULL */
	struct html_day *days;           /* html_page_add_day()'s */
	size_t day_count;
	size_t day_cap;
};

void html_page_init(struct html_page *page);

/* Frees the days taken in. */
void html_page_reset(struct html_page *page);

/*
 * Takes in one row of a summary by STORE_BY_DAY | STORE_BY_DOMAIN
 * (its domain is copied).  0, or -1 with why (out of memory, more than
 * HTML_MAX_ROWS rows).
 */
int html_page_add_day(struct html_page *page, const struct store_row *row,
                      char *why, size_t why_size);

/*
 * Writes the page to fp (reordering page->days).  0, or -1 when
 * writing failed (fp's error indicator tells).
 */
int html_page_write(struct html_page *page, FILE *fp);

/* Writes s HTML-escaped as above; for the tests and the page. */
void html_escape(FILE *fp, const char *s);

#endif /* MTS_REPORT_HTML_H */
