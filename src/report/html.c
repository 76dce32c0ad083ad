/* SPDX-License-Identifier: ISC */
/*
 * The page of `mtasts report html` (html.h): one HTML document, its
 * style inline, its charts inline SVG, no script and nothing to fetch.
 *
 * The charts are small multiples, one per policy-domain (RFC 8460 §4.4
 * "policy-domain"), sharing one time axis: per UTC day (§4.1: reports
 * cover UTC days) a green bar of total-successful-session-count and a
 * red one of total-failure-session-count, summed over the day's
 * reports.  The vertical scale is logarithmic so that 1 failed session
 * beside 10^9 successful ones still shows: height is log10(1 + n) over
 * log10(1 + 10^k), 10^k the first power of ten at or above the largest
 * count of the domain (a "symlog" scale: 0 sits on the axis, 1 just
 * above it).  A day of no report for the domain is a grey band, so it
 * is not mistaken for a day of zero sessions reported.
 *
 * What reports say is untrusted (§7): every string of theirs goes
 * through html_escape(), and the page's Content-Security-Policy
 * refuses scripts and fetches, should an escape ever be missed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "failures.h"
#include "html.h"
#include "when.h"

#define DAY 86400

/* The chart's frame, in SVG user units. */
#define CHART_W 800
#define CHART_H 250
#define PLOT_L  64
#define PLOT_R  12
#define PLOT_T  36
#define PLOT_B  46
#define PLOT_W  (CHART_W - PLOT_L - PLOT_R)
#define PLOT_H  (CHART_H - PLOT_T - PLOT_B)

static const char page_css[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;"
    "background:#fff}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}"
    "h3{font-size:1em;margin:1.2em 0 .2em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left;"
    "vertical-align:top}"
    "th{background:#f0f0f0}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    "td{white-space:nowrap}td.orgs{white-space:normal;min-width:12em}"
    "td.none{color:#777;font-style:italic}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font-size:11px;fill:#333}"
    ".ok{fill:#2e7d32}.ko{fill:#c62828}.gap{fill:#e4e4e4}"
    ".grid{stroke:#ddd;stroke-width:1}.axis{stroke:#333;stroke-width:1}"
    "p.note{color:#555}";

void
html_page_init(struct html_page *page)
{
	memset(page, 0, sizeof(*page));
	page->since = INT64_MIN;
	page->until = INT64_MAX;
}

void
html_page_reset(struct html_page *page)
{
	size_t i;

	if (page == NULL)
		return;
	for (i = 0; i < page->day_count; i++)
		free(page->days[i].domain);
	free(page->days);
	html_page_init(page);
}

int
html_page_add_day(struct html_page *page, const struct store_row *row,
                  char *why, size_t why_size)
{
	struct html_day *d;

	if (page->day_count == page->day_cap) {
		size_t cap = page->day_cap == 0 ? 64 : page->day_cap * 2;

		if (page->day_count >= HTML_MAX_ROWS) {
			(void)snprintf(why, why_size, "too many days");
			return -1;
		}
		if (cap > HTML_MAX_ROWS)
			cap = HTML_MAX_ROWS;
		if ((d = realloc(page->days, cap * sizeof(*d))) == NULL)
			goto nomem;
		page->days = d;
		page->day_cap = cap;
	}
	d = &page->days[page->day_count];
	d->day = row->day;
	d->successful = row->successful;
	d->failed = row->failed;
	d->reports = row->reports;
	d->domain = NULL;
	if (row->domain != NULL && (d->domain = strdup(row->domain)) == NULL)
		goto nomem;
	page->day_count++;
	return 0;
nomem:
	(void)snprintf(why, why_size, "out of memory");
	return -1;
}

/* ---- escaping ---- */

/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629 §4) that
 * is not a control (C1: U+0080..U+009F), or 0.
 */
static size_t
utf8_ok(const unsigned char *s)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0xC2 || s[0] > 0xF4)
		return 0;
	n = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
	c = s[0] & (0x7F >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0; /* also the NUL: never read past it */
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF || c < 0xA0)
		return 0;
	return n;
}

void
html_escape(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	for (; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", fp);
			continue;
		case '<':
			fputs("&lt;", fp);
			continue;
		case '>':
			fputs("&gt;", fp);
			continue;
		case '"':
			fputs("&quot;", fp);
			continue;
		case '\'':
			fputs("&#39;", fp);
			continue;
		default:
			break;
		}
		if (*p >= 0x20 && *p < 0x7F) {
			fputc(*p, fp);
		} else if ((n = utf8_ok(p)) > 0) {
			fwrite(p, 1, n, fp);
			p += n - 1;
		} else {
			fputs("\xEF\xBF\xBD", fp); /* U+FFFD */
		}
	}
}

/* A domain as shown: escaped, or a note for reports without one. */
static void
put_domain(FILE *fp, const char *domain)
{
	if (domain == NULL)
		fputs("(no policy-domain)", fp);
	else
		html_escape(fp, domain);
}

/* ---- the chart ---- */

static int
cmp_domain_day(const void *va, const void *vb)
{
	const struct html_day *a = va, *b = vb;
	int c = failures_key_cmp(a->domain, b->domain);

	if (c != 0)
		return c;
	return (a->day > b->day) - (a->day < b->day);
}

/* The days the charts span: [*lo, *hi], whole days; false: none. */
static bool
chart_span(const struct html_page *page, int64_t *lo, int64_t *hi, bool *cut)
{
	int64_t min = INT64_MAX, max = INT64_MIN;
	size_t i;

	for (i = 0; i < page->day_count; i++) {
		if (page->days[i].day < min)
			min = page->days[i].day;
		if (page->days[i].day > max)
			max = page->days[i].day;
	}
	if (page->day_count == 0)
		return false;
	/* The window asked for, as far as it holds reports or reaches now. */
	*lo = page->since != INT64_MIN ? when_day_start(page->since) : min;
	*hi = max;
	if (page->until != INT64_MAX) {
		int64_t end = when_day_start(page->until - 1);
		int64_t now = when_day_start(page->generated);

		*hi = end < (max > now ? max : now) ? end :
						      (max > now ? max : now);
	}
	if (*lo > min)
		*lo = min; /* not expected: the store filtered by since */
	if (*hi < max)
		*hi = max;
	*cut = (*hi - *lo) / DAY + 1 > HTML_MAX_DAYS;
	if (*cut)
		*lo = *hi - (int64_t)(HTML_MAX_DAYS - 1) * DAY;
	return true;
}

/* "1", "10", ..., "100k", "1M", ... "100E": 10^j in SI prefixes. */
static void
power_label(int j, char *buf, size_t size)
{
	static const char prefix[] = " kMGTPE";
	static const char *const ones[] = {"1", "10", "100"};

	(void)snprintf(buf, size, "%s%c", ones[j % 3], prefix[j / 3]);
	if (buf[strlen(buf) - 1] == ' ')
		buf[strlen(buf) - 1] = '\0';
}

/* The height of v on a symlog scale of top decade k, 0..PLOT_H. */
static double
scale(double v, int k)
{
	return PLOT_H * log10(1.0 + v) / log10(1.0 + pow(10.0, k));
}

static double
bar_height(uint64_t n, int k)
{
	return scale((double)n, k);
}

/* Legend, grid lines and the labels of the vertical axis. */
static void
chart_frame(FILE *fp, int k)
{
	double y, last = 1e9;
	char label[16];
	int j;

	fprintf(fp,
	        "<rect x=\"%d\" y=\"10\" width=\"12\" height=\"12\" "
	        "class=\"ok\"/><text x=\"%d\" y=\"20\">successful "
	        "sessions</text>"
	        "<rect x=\"%d\" y=\"10\" width=\"12\" height=\"12\" "
	        "class=\"ko\"/><text x=\"%d\" y=\"20\">failed sessions</text>"
	        "<rect x=\"%d\" y=\"10\" width=\"12\" height=\"12\" "
	        "class=\"gap\"/><text x=\"%d\" y=\"20\">no report that "
	        "day</text>\n",
	        PLOT_L, PLOT_L + 16, PLOT_L + 160, PLOT_L + 176, PLOT_L + 300,
	        PLOT_L + 316);
	/* 0 on the axis, then each power of ten, unless labels collide. */
	for (j = -1; j <= k; j++) {
		y = PLOT_T + PLOT_H - (j < 0 ? 0 : scale(pow(10.0, j), k));
		if (last - y < 12)
			continue;
		last = y;
		if (j < 0)
			(void)snprintf(label, sizeof(label), "0");
		else
			power_label(j, label, sizeof(label));
		fprintf(fp,
		        "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
		        "y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\" "
		        "text-anchor=\"end\">%s</text>\n",
		        PLOT_L, PLOT_L + PLOT_W, y, y, PLOT_L - 6, y + 4,
		        label);
	}
	fprintf(fp,
	        "<text transform=\"translate(14 %d) rotate(-90)\" "
	        "text-anchor=\"middle\">sessions (log)</text>\n",
	        PLOT_T + PLOT_H / 2);
}

/* The grey band of n days from `from` with no report, from x. */
static void
chart_gap(FILE *fp, int64_t from, size_t n, double x, double gw)
{
	char a[WHEN_DAY_SIZE], b[WHEN_DAY_SIZE];

	when_format_day(from, a);
	when_format_day(from + (int64_t)(n - 1) * DAY, b);
	fprintf(fp,
	        "<rect class=\"gap\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
	        "height=\"%d\"><title>%s%s%s: no report</title></rect>\n",
	        x, PLOT_T, gw * (double)n, PLOT_H, a, n > 1 ? " to " : "",
	        n > 1 ? b : "");
}

/* One day's two bars. */
static void
chart_day(FILE *fp, const struct html_day *d, double x, double gw, int k)
{
	char date[WHEN_DAY_SIZE];
	double bw = gw * 0.4 > 40 ? 40 : gw * 0.4, cx = x + gw / 2, h;

	when_format_day(d->day, date);
	h = bar_height(d->successful, k);
	fprintf(fp,
	        "<rect class=\"ok\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
	        "height=\"%.2f\"><title>%s: %" PRIu64
	        " successful sessions</title></rect>\n",
	        cx - bw, PLOT_T + PLOT_H - h, bw, h, date, d->successful);
	h = bar_height(d->failed, k);
	fprintf(fp,
	        "<rect class=\"ko\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
	        "height=\"%.2f\"><title>%s: %" PRIu64
	        " failed sessions</title></rect>\n",
	        cx, PLOT_T + PLOT_H - h, bw, h, date, d->failed);
}

/* The axes and about eight dates under the horizontal one. */
static void
chart_axes(FILE *fp, int64_t lo, size_t n)
{
	char date[WHEN_DAY_SIZE];
	double gw = (double)PLOT_W / (double)n;
	size_t i, step = (n + 7) / 8;

	fprintf(fp,
	        "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" "
	        "y2=\"%d\"/><line class=\"axis\" x1=\"%d\" x2=\"%d\" "
	        "y1=\"%d\" y2=\"%d\"/>\n",
	        PLOT_L, PLOT_L + PLOT_W, PLOT_T + PLOT_H, PLOT_T + PLOT_H,
	        PLOT_L, PLOT_L, PLOT_T, PLOT_T + PLOT_H);
	for (i = 0; i < n; i += step) {
		when_format_day(lo + (int64_t)i * DAY, date);
		fprintf(
		    fp,
		    "<line class=\"axis\" x1=\"%.2f\" x2=\"%.2f\" y1=\"%d\" "
		    "y2=\"%d\"/><text x=\"%.2f\" y=\"%d\" "
		    "text-anchor=\"middle\">%s</text>\n",
		    PLOT_L + gw * ((double)i + 0.5),
		    PLOT_L + gw * ((double)i + 0.5), PLOT_T + PLOT_H,
		    PLOT_T + PLOT_H + 4, PLOT_L + gw * ((double)i + 0.5),
		    PLOT_T + PLOT_H + 17, date);
	}
	fprintf(fp,
	        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">day "
	        "(UTC)</text>\n",
	        PLOT_L + PLOT_W / 2, CHART_H - 8);
}

/* The chart of days[0..n), one domain's, sorted by day. */
static void
chart(FILE *fp, const struct html_day *days, size_t count, int64_t lo,
      int64_t hi, size_t id)
{
	size_t n = (size_t)((hi - lo) / DAY) + 1, i, j = 0, gap = 0, first;
	double gw = (double)PLOT_W / (double)n;
	uint64_t max = 0;
	int k = 1;

	for (i = 0; i < count; i++) {
		if (days[i].successful > max)
			max = days[i].successful;
		if (days[i].failed > max)
			max = days[i].failed;
	}
	while (k < 20 && pow(10.0, k) < (double)max)
		k++;
	fputs("<h3>", fp);
	put_domain(fp, days[0].domain);
	fprintf(fp,
	        "</h3>\n<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	        "role=\"img\" aria-labelledby=\"chart%zu\">"
	        "<title id=\"chart%zu\">Daily sessions of ",
	        CHART_W, CHART_H, CHART_W, CHART_H, id, id);
	put_domain(fp, days[0].domain);
	fputs("</title>\n", fp);
	while (j < count && days[j].day < lo)
		j++; /* before a cut window */
	first = j;
	/* the grey bands under the grid lines, the bars above them */
	for (i = 0; i < n; i++)
		if (j < count && days[j].day == lo + (int64_t)i * DAY) {
			if (gap < i)
				chart_gap(fp, lo + (int64_t)gap * DAY, i - gap,
				          PLOT_L + gw * (double)gap, gw);
			j++;
			gap = i + 1;
		}
	if (gap < n)
		chart_gap(fp, lo + (int64_t)gap * DAY, n - gap,
		          PLOT_L + gw * (double)gap, gw);
	chart_frame(fp, k);
	for (j = first; j < count; j++) {
		int64_t i_day = (days[j].day - lo) / DAY; /* whole days */

		chart_day(fp, &days[j], PLOT_L + gw * (double)i_day, gw, k);
	}
	chart_axes(fp, lo, n);
	fputs("</svg>\n", fp);
}

/* ---- the page ---- */

static void
head(FILE *fp, const struct html_page *page)
{
	char a[WHEN_TIME_SIZE], b[WHEN_TIME_SIZE];

	fprintf(fp,
	        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	        "<meta charset=\"utf-8\">\n"
	        "<meta http-equiv=\"Content-Security-Policy\" "
	        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width\">\n"
	        "<title>TLS-RPT reports</title>\n<style>%s</style>\n"
	        "</head>\n<body>\n<h1>TLS-RPT reports",
	        page_css);
	if (page->domain != NULL) {
		fputs(" of ", fp);
		html_escape(fp, page->domain);
	}
	fputs("</h1>\n<p>Reports whose date range began ", fp);
	when_format_time(page->since, a);
	when_format_time(page->until, b);
	if (page->since == INT64_MIN && page->until == INT64_MAX)
		fputs("at any time", fp);
	else if (page->until == INT64_MAX)
		fprintf(fp, "at or after %s", a);
	else if (page->since == INT64_MIN)
		fprintf(fp, "before %s", b);
	else
		fprintf(fp, "from %s until %s", a, b);
	when_format_time(page->generated, a);
	fprintf(fp,
	        "; made at %s.</p>\n<p>%" PRIu64 " report%s, %" PRIu64
	        " successful and %" PRIu64 " failed sessions.</p>\n",
	        a, page->reports, page->reports == 1 ? "" : "s",
	        page->successful, page->failed);
}

static void
domain_totals(FILE *fp, const struct html_day *days, size_t count)
{
	uint64_t s = 0, f = 0, r = 0;
	size_t i;

	for (i = 0; i < count; i++) {
		/* 2^64 sessions will not be reported; saturate if they are */
		s = s + days[i].successful < s ? UINT64_MAX :
						 s + days[i].successful;
		f = f + days[i].failed < f ? UINT64_MAX : f + days[i].failed;
		r = r + days[i].reports < r ? UINT64_MAX : r + days[i].reports;
	}
	fputs("<tr><td>", fp);
	put_domain(fp, days[0].domain);
	fprintf(fp,
	        "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
	        "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%.2f"
	        "</td></tr>\n",
	        r, s, f,
	        s + f == 0 ? 0.0 : 100.0 * (double)f / ((double)s + (double)f));
}

/* Calls fn for each domain's run of page->days, sorted by domain. */
static void
each_domain(FILE *fp, const struct html_page *page,
            void (*fn)(FILE *, const struct html_day *, size_t, void *),
            void *ctx)
{
	size_t i, j;

	for (i = 0; i < page->day_count; i = j) {
		for (j = i + 1; j < page->day_count; j++)
			if (failures_key_cmp(page->days[i].domain,
			                     page->days[j].domain) != 0)
				break;
		fn(fp, &page->days[i], j - i, ctx);
	}
}

struct charts {
	int64_t lo;
	int64_t hi;
	size_t drawn;
	size_t left;
};

static void
chart_fn(FILE *fp, const struct html_day *days, size_t count, void *ctx)
{
	struct charts *c = ctx;

	if (c->drawn == HTML_MAX_CHARTS) {
		c->left++;
		return;
	}
	chart(fp, days, count, c->lo, c->hi, c->drawn++);
}

static void
totals_fn(FILE *fp, const struct html_day *days, size_t count, void *ctx)
{
	domain_totals(fp, days, count);
}

static void
failure_table(FILE *fp, const struct failures *f)
{
	size_t i, j;

	fputs("<h2>Failures</h2>\n", fp);
	if (f == NULL || f->count == 0) {
		fputs("<p>No failed session reported.</p>\n", fp);
		return;
	}
	fputs("<table>\n<tr><th>Domain</th><th>Result</th><th>Receiving "
	      "MX</th><th>Failed sessions</th>"
	      "<th>Reported by</th></tr>\n",
	      fp);
	for (i = 0; i < f->count; i++) {
		const struct failure *it = &f->items[i];

		fputs("<tr><td>", fp);
		put_domain(fp, it->domain);
		if (it->result == NULL)
			fputs("</td><td class=\"none\">no failure details", fp);
		else {
			fputs("</td><td>", fp);
			html_escape(fp, it->result);
		}
		if (it->mx == NULL)
			fputs("</td><td class=\"none\">not given", fp);
		else {
			fputs("</td><td>", fp);
			html_escape(fp, it->mx);
		}
		fprintf(fp,
		        "</td><td class=\"n\">%" PRIu64
		        "</td><td class=\"orgs\">",
		        it->failed);
		for (j = 0; j < it->org_count; j++) {
			if (j > 0)
				fputs(", ", fp);
			html_escape(fp, it->orgs[j] == NULL ? "" : it->orgs[j]);
		}
		fputs("</td></tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

int
html_page_write(struct html_page *page, FILE *fp)
{
	struct charts c = {0};
	bool cut = false;

	qsort(page->days, page->day_count, sizeof(*page->days), cmp_domain_day);
	head(fp, page);
	fputs("<h2>Daily sessions per domain</h2>\n", fp);
	if (!chart_span(page, &c.lo, &c.hi, &cut)) {
		fputs("<p>No report in this window.</p>\n", fp);
	} else {
		if (cut)
			fprintf(fp,
			        "<p class=\"note\">The charts show the last %d "
			        "days of the window.</p>\n",
			        HTML_MAX_DAYS);
		each_domain(fp, page, chart_fn, &c);
		if (c.left > 0)
			fprintf(fp,
			        "<p class=\"note\">%zu more domains are not "
			        "charted (see the table below, or "
			        "--domain).</p>\n",
			        c.left);
		fputs("<h2>Totals per domain</h2>\n<table>\n<tr><th>Domain"
		      "</th><th>Reports</th><th>Successful sessions</th>"
		      "<th>Failed sessions</th><th>Failed %</th></tr>\n",
		      fp);
		each_domain(fp, page, totals_fn, NULL);
		fputs("</table>\n", fp);
	}
	failure_table(fp, page->failures);
	fputs("</body>\n</html>\n", fp);
	return ferror(fp) ? -1 : 0;
}
