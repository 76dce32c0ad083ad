/* SPDX-License-Identifier: ISC */
/*
 * Tests of tlsrpt_report.c, the TLS-RPT aggregate report parser (RFC
 * 8460 §4; checklist section 13, ids 135-162, and 174), and of
 * report_json.c, the normalised report as JSON:
 * - every sample of tests/data/tlsrpt/ parses with the totals, dates and
 *   deviations of the table (the totals computed with jq, not by the
 *   parser), is refused in strict mode exactly when it deviates, reads
 *   the same through a reader giving one octet at a time, and comes back
 *   the same from its own JSON;
 * - a table of small reports, one row per rule, each naming the
 *   checklist id (running number) and test input it covers: deviations
 *   warned when lenient and refused when strict, errors refused in both;
 * - the caps (MTS_ERR_TOOBIG), the reader's contract, the arguments;
 * - golden JSON for three samples (tests/data/tlsrpt/NAME.expected.json);
 * - with ld --wrap (tests/meson.build), every allocation of a parse and
 *   of report_json failed in turn: MTS_ERR_NOMEM (NULL), nothing leaked.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <mtasts/mtasts.h>

#include "report_json.h"
#include "tap.h"

/* ---- the allocator, counted and failed on demand ---- */

#ifdef TEST_WRAP_ALLOC
#define HAVE_HEAP true
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
#else
#define HAVE_HEAP false
#endif

/*
 * What the allocator saw while `on`, since heap_begin(): the library's
 * own allocations (--wrap) and jansson's (its hooks, below) counted
 * apart, so that either can be failed.
 */
static struct {
	bool on;
	unsigned calls;    /* the library's allocations asked for */
	unsigned fail_at;  /* the one (from 1) that returns NULL; 0: none */
	unsigned jcalls;   /* jansson's */
	unsigned jfail_at; /* the one of jansson's that returns NULL */
	long live;         /* blocks allocated minus blocks freed */
} heap;

static void
heap_begin(unsigned fail_at, unsigned jfail_at)
{
	heap.calls = 0;
	heap.fail_at = fail_at;
	heap.jcalls = 0;
	heap.jfail_at = jfail_at;
	heap.live = 0;
	heap.on = true;
}

#ifdef TEST_WRAP_ALLOC
static bool
heap_request(void)
{
	if (!heap.on)
		return true;
	return ++heap.calls != heap.fail_at;
}

void *
__wrap_malloc(size_t n)
{
	void *p;

	if (!heap_request())
		return NULL;
	if ((p = __real_malloc(n)) != NULL && heap.on)
		heap.live++;
	return p;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (!heap_request())
		return NULL;
	if ((p = __real_calloc(n, size)) != NULL && heap.on)
		heap.live++;
	return p;
}

void *
__wrap_realloc(void *old, size_t n)
{
	void *p;

	if (!heap_request())
		return NULL;
	if ((p = __real_realloc(old, n)) != NULL && old == NULL && heap.on)
		heap.live++;
	return p;
}

void
__wrap_free(void *p)
{
	if (p == NULL)
		return;
	if (heap.on)
		heap.live--;
	__real_free(p);
}

/*
 * jansson's allocator (json_set_alloc_funcs()): jansson is a shared
 * library, out of --wrap's reach.  Its lexer drops what it cannot
 * append to a token (lex_save() ignores strbuffer_append_byte()'s
 * failure, jansson 2.14 src/load.c), so failing any of its allocations
 * while it reads can truncate a string silently or run past its buffer:
 * the parse is failed only at jansson's first allocation (lex_init(),
 * which it reports), the JSON writer at each.
 */
static void *
jansson_malloc(size_t n)
{
	void *p;

	if (heap.on && ++heap.jcalls == heap.jfail_at)
		return NULL;
	if ((p = __real_malloc(n)) != NULL && heap.on)
		heap.live++;
	return p;
}

static void
jansson_free(void *p)
{
	if (p == NULL)
		return;
	if (heap.on)
		heap.live--;
	__real_free(p);
}
#endif

/* ---- helpers ---- */

/* $MTS_TEST_DATA/tlsrpt/name, whole; NULL when it cannot be read. */
static char *
slurp(const char *name, size_t *len)
{
	const char *dir = getenv("MTS_TEST_DATA");
	char path[1024], *buf = NULL;
	size_t cap = 0, n;
	FILE *f;

	*len = 0;
	if (dir == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/tlsrpt/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (*len == cap) {
			char *nb = realloc(buf, cap = cap * 2 + 4096);

			if (nb == NULL)
				abort();
			buf = nb;
		}
		if ((n = fread(buf + *len, 1, cap - *len, f)) == 0)
			break;
		*len += n;
	}
	fclose(f);
	return buf;
}

/* True when diag holds a finding of `code` with severity `sev`. */
static bool
has_finding(const struct mts_diag *d, const char *code, enum mts_severity sev)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		if (strcmp(d->items[i].code, code) == 0 &&
		    d->items[i].severity == sev)
			return true;
	return false;
}

/* The distinct codes of severity `sev` in diag. */
static size_t
distinct_codes(const struct mts_diag *d, enum mts_severity sev)
{
	size_t i, j, n = 0;

	for (i = 0; i < d->count; i++) {
		if (d->items[i].severity != sev)
			continue;
		for (j = 0; j < i; j++)
			if (d->items[j].severity == sev &&
			    strcmp(d->items[j].code, d->items[i].code) == 0)
				break;
		if (j == i)
			n++;
	}
	return n;
}

/* Each space-separated code of `want` is in diag as `sev`, and no other
 * code of `sev` is. */
static bool
exactly_codes(const struct mts_diag *d, const char *want, enum mts_severity sev)
{
	char buf[512], *tok, *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", want);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		if (!has_finding(d, tok, sev))
			return false;
		n++;
	}
	return distinct_codes(d, sev) == n;
}

/* Prints the findings, for a failing check. */
static void
show(const struct mts_diag *d)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		tap_diag("  %s %s: %s", mts_severity_name(d->items[i].severity),
		         d->items[i].code, d->items[i].message);
}

/* A copy of s with every ' made ": the tables write JSON with '. */
static char *
dq(const char *s)
{
	char *t = strdup(s), *c;

	if (t == NULL)
		abort();
	for (c = t; *c != '\0'; c++)
		if (*c == '\'')
			*c = '"';
	return t;
}

/* A reader over a buffer, `step` octets a call at most. */
struct mem_reader {
	const char *buf;
	size_t len, pos, step;
	bool ended;               /* it returned 0 */
	unsigned calls_after_end; /* calls after that */
	size_t fail_after;        /* returns (size_t)-1 past this; 0: never */
	bool overfill;            /* returns size + 1 once */
	size_t asked;             /* octets asked for in all */
};

static size_t
mem_read(void *out, size_t size, void *ctx)
{
	struct mem_reader *m = ctx;
	size_t n = m->len - m->pos;

	m->asked += size;
	if (m->fail_after != 0 && m->pos >= m->fail_after)
		return (size_t)-1;
	if (m->overfill)
		return size + 1;
	if (m->ended)
		m->calls_after_end++;
	if (n == 0) {
		m->ended = true;
		return 0;
	}
	if (n > m->step)
		n = m->step;
	if (n > size)
		n = size;
	memcpy(out, m->buf + m->pos, n);
	m->pos += n;
	return n;
}

static int
parse_cb_step(const char *buf, size_t len, size_t step, unsigned flags,
              struct mts_tlsrpt_report *out, struct mts_diag *diag,
              struct mts_err *err)
{
	struct mem_reader m;

	memset(&m, 0, sizeof(m));
	m.buf = buf;
	m.len = len;
	m.step = step;
	return mts_tlsrpt_report_parse_cb(mem_read, &m, flags, out, diag, err);
}

/* report_json without "deviations", as text: to compare two reports. */
static char *
content_text(const struct mts_tlsrpt_report *r)
{
	json_t *j = report_json(r, NULL);
	char *s;

	if (j == NULL)
		return NULL;
	json_object_del(j, "deviations");
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	return s;
}

/* ---- the samples ---- */

/*
 * Totals, policies and failure details computed with jq, not by the
 * parser:
 *   jq '[.policies[].summary."total-successful-session-count"]|add'
 *   jq '[.policies[].summary."total-failure-session-count"]|add'
 *   jq '.policies|length'   jq '[.policies[]."failure-details"//[]|length]|add'
 * and the dates with date -u -d ... +%s (no zone taken as UTC).
 */
static const struct sample {
	const char *file;
	uint64_t successful, failed;
	size_t policies, details;
	int64_t start, end;
	const char *deviations; /* the warning codes, space-separated */
} samples[] = {
    {"contact-info-null-mxhost-prefix-2026.json", 1, 0, 1, 0, 1768089600,
     1768176000, "tlsrpt-report-contact-missing"},
    {"google-no-policy-found-2024.decoded.json", 48, 0, 1, 0, 1725321600,
     1725407999, ""},
    {"google-sts-two-mx-2026.decoded.json", 1, 0, 1, 0, 1778457600, 1778543999,
     ""},
    {"google-sts-wildcard-2025.json", 1, 0, 1, 0, 1747872000, 1747958399, ""},
    {"mailru-sts-policy-fetch-error-2024.json", 0, 1, 1, 2, 1708560000,
     1708646400,
     "tlsrpt-report-detail-no-sending-ip "
     "tlsrpt-report-detail-no-mx-hostname"},
    {"microsoft-no-timezone-2023.decoded.json", 2, 0, 1, 0, 1673308800,
     1673395199, "tlsrpt-report-date-no-zone"},
    {"microsoft-no-timezone-2024.json", 7, 0, 1, 0, 1711411200, 1711497599,
     "tlsrpt-report-date-no-zone"},
    {"microsoft-sts-policy-fetch-error-no-ip-2025.json", 0, 3, 1, 1, 1749859200,
     1749945599,
     "tlsrpt-report-detail-no-sending-ip "
     "tlsrpt-report-detail-no-mx-hostname"},
    {"microsoft-sts-tlsa-2025.json", 4, 0, 2, 0, 1747958400, 1748044799,
     "tlsrpt-report-tlsa-string-array"},
    {"rfc8460-example-errata6241-mxhost-array.json", 5326, 303, 1, 3,
     1459468800, 1459555199, ""},
    {"rfc8460-example-mxhost-string.json", 5326, 303, 1, 3, 1459468800,
     1459555199, "tlsrpt-report-mx-host-string"},
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static bool
sample_matches(const struct sample *s, const struct mts_tlsrpt_report *r)
{
	uint64_t succ = 0, fail = 0;
	size_t i, details = 0;

	for (i = 0; i < r->policy_count; i++) {
		succ += r->policies[i].successful;
		fail += r->policies[i].failed;
		details += r->policies[i].failure_count;
	}
	return r->total_successful == s->successful &&
	    r->total_failed == s->failed && succ == s->successful &&
	    fail == s->failed && r->policy_count == s->policies &&
	    details == s->details && r->start == s->start && r->end == s->end;
}

/* Strict: refused exactly when the sample deviates, each deviation an
 * error of its code. */
static void
check_sample_strict(const struct sample *s, const char *buf, size_t len)
{
	struct mts_tlsrpt_report r;
	struct mts_diag d;
	struct mts_err err;
	int rc;

	mts_diag_init(&d);
	rc = mts_tlsrpt_report_parse(buf, len, MTS_TLSRPT_STRICT, &r, &d, &err);
	if (s->deviations[0] == '\0')
		tap_ok(rc == 0 && mts_diag_count(&d, MTS_SEV_ERROR) == 0,
		       "%s: strict mode accepts it (no deviation)", s->file);
	else
		tap_ok(rc == -1 && err.code == MTS_ERR_INVALID &&
		           exactly_codes(&d, s->deviations, MTS_SEV_ERROR) &&
		           mts_diag_count(&d, MTS_SEV_WARNING) == 0,
		       "%s: strict mode refuses it, its deviations errors",
		       s->file);
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	mts_diag_reset(&d);
}

/* One octet at a time through parse_cb: the same report and findings. */
static void
check_sample_cb(const struct sample *s, const char *buf, size_t len,
                const char *want)
{
	struct mts_tlsrpt_report r;
	struct mts_diag d;
	char *got = NULL;
	int rc;

	mts_diag_init(&d);
	rc = parse_cb_step(buf, len, 1, 0, &r, &d, NULL);
	if (rc == 0)
		got = content_text(&r);
	tap_ok(rc == 0 && got != NULL && strcmp(got, want) == 0 &&
	           exactly_codes(&d, s->deviations, MTS_SEV_WARNING),
	       "%s: parse_cb one octet at a time gives the same report",
	       s->file);
	free(got);
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	mts_diag_reset(&d);
}

/* Its own JSON parses back into the same report. */
static void
check_sample_roundtrip(const struct sample *s, const char *want)
{
	struct mts_tlsrpt_report r;
	char *got = NULL;
	int rc;

	rc = mts_tlsrpt_report_parse(want, strlen(want), 0, &r, NULL, NULL);
	if (rc == 0)
		got = content_text(&r);
	tap_ok(rc == 0 && got != NULL && strcmp(got, want) == 0,
	       "%s: report_json parses back into the same report", s->file);
	free(got);
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
}

static void
check_samples(void)
{
	struct mts_tlsrpt_report r;
	struct mts_diag d;
	struct mts_err err;
	const struct sample *s;
	char *buf, *text;
	size_t i, len;
	int rc;

	for (i = 0; i < NSAMPLES; i++) {
		s = &samples[i];
		if ((buf = slurp(s->file, &len)) == NULL) {
			tap_ok(false, "%s: cannot be read", s->file);
			continue;
		}
		mts_diag_init(&d);
		rc = mts_tlsrpt_report_parse(buf, len, 0, &r, &d, &err);
		if (!tap_ok(rc == 0 && sample_matches(s, &r) &&
		                exactly_codes(&d, s->deviations,
		                              MTS_SEV_WARNING) &&
		                mts_diag_count(&d, MTS_SEV_ERROR) == 0,
		            "RPT-JSON-17 (151): %s parses: %" PRIu64
		            " successful, %" PRIu64 " failed, deviations [%s]",
		            s->file, s->successful, s->failed, s->deviations)) {
			tap_diag("rc %d (%s), %" PRIu64 "/%" PRIu64, rc,
			         rc != 0 ? err.msg : "-", r.total_successful,
			         r.total_failed);
			show(&d);
		}
		mts_diag_reset(&d);
		if (rc != 0) {
			free(buf);
			continue;
		}
		text = content_text(&r);
		mts_tlsrpt_report_reset(&r);
		check_sample_strict(s, buf, len);
		if (text != NULL) {
			check_sample_cb(s, buf, len, text);
			check_sample_roundtrip(s, text);
		} else {
			tap_ok(false, "%s: report_json", s->file);
		}
		free(text);
		free(buf);
	}
}

/* ---- the table ---- */

/* The rows write JSON with ' for ", made " by dq(). */
#define ORG "'organization-name':'Company-X',"
#define RANGE                                                                  \
	"'date-range':{'start-datetime':'2016-04-01T00:00:00Z','end-datetime':'2016-04-01T23:59:59Z'},"
#define RANGE_OF(s, e)                                                         \
	"'date-range':{'start-datetime':'" s "','end-datetime':'" e "'},"
#define CONTACT "'contact-info':'sts-reporting@company-x.example',"
#define RID     "'report-id':'r-1',"
#define HEAD    ORG RANGE CONTACT RID
#define STS_STRINGS                                                            \
	"'policy-string':['version: STSv1','mode: enforce','mx: "              \
	"mx.example.com','max_age: 86400']"
#define STS_DESC                                                               \
	"'policy-type':'sts'," STS_STRINGS ",'policy-domain':'example.com',"   \
	"'mx-host':['mx.example.com']"
#define SUM(s, f)                                                              \
	"'summary':{'total-successful-session-count':" s                       \
	",'total-failure-session-count':" f "}"
#define POLICY(desc)   "{'policy':{" desc "}," SUM("10", "1") "}"
#define GOOD           POLICY(STS_DESC)
#define POLICIES(p)    "'policies':[" p "]"
#define REPORT(m)      "{" m "}"
#define WITH_SUM(s, f) "{'policy':{" STS_DESC "}," SUM(s, f) "}"
#define WITH_DETAILS(d)                                                        \
	"{'policy':{" STS_DESC "}," SUM("10", "1") ",'failure-details':[" d "]}"
#define DETAIL(extra)                                                             \
	"{'result-type':'certificate-expired','sending-mta-ip':'192.0.2.1',"      \
	"'receiving-mx-hostname':'mx.example.com','failed-session-count':1" extra \
	"}"
#define DETAIL_BARE(rt, n)                                                     \
	"{'result-type':'" rt "','failed-session-count':" n "}"
#define TLSA(strings)                                                          \
	POLICY("'policy-type':'tlsa','policy-string':" strings                 \
	       ",'policy-domain':'mx.example.com'")
#define ON_GOOD(m)   REPORT(HEAD POLICIES(GOOD) "," m)
#define ON_POLICY(p) REPORT(HEAD POLICIES(p))

enum kind {
	OK,   /* parses in both modes, no warning, no error */
	DEV,  /* lenient: parses, `code` a warning; strict: refused, an error */
	ERR,  /* refused in both modes with `err` and `code` an error */
	INFO, /* parses in both modes with `code` an info */
};

struct rcase {
	const char *name;
	const char *json;
	enum kind kind;
	const char *code;     /* the finding the kind speaks of */
	enum mts_errcode err; /* ERR: the error */
	bool (*check)(const struct mts_tlsrpt_report *r); /* or NULL */
};

static bool
check_good(const struct mts_tlsrpt_report *r)
{
	const struct mts_tlsrpt_policy *p = &r->policies[0];

	return tap_streq(r->organization_name, "Company-X") &&
	    tap_streq(r->report_id, "r-1") &&
	    tap_streq(r->contact_info, "sts-reporting@company-x.example") &&
	    r->start == 1459468800 && r->end == 1459555199 &&
	    r->policy_count == 1 && tap_streq(p->policy_type, "sts") &&
	    tap_streq(p->policy_domain, "example.com") &&
	    p->policy_string_count == 4 &&
	    tap_streq(p->policy_strings[2], "mx: mx.example.com") &&
	    p->mx_host_count == 1 &&
	    tap_streq(p->mx_hosts[0], "mx.example.com") &&
	    p->successful == 10 && p->failed == 1 && p->failure_count == 0 &&
	    p->failures == NULL && r->total_successful == 10 &&
	    r->total_failed == 1;
}

static bool
check_offset(const struct mts_tlsrpt_report *r)
{
	/* 2016-04-01T02:00:00+02:00 is 2016-04-01T00:00:00Z. */
	return r->start == 1459468800 && r->end == 1459555199;
}

static bool
check_fraction(const struct mts_tlsrpt_report *r)
{
	return r->start == 1459468800 && r->end == 1459555199;
}

static bool
check_leap(const struct mts_tlsrpt_report *r)
{
	/* 2016-12-31T23:59:60Z, a leap second, counts as the next one. */
	return r->start == 1483228800 - 86400 && r->end == 1483228800;
}

static bool
check_contact_null(const struct mts_tlsrpt_report *r)
{
	return r->contact_info == NULL;
}

static bool
check_contact_kept(const struct mts_tlsrpt_report *r)
{
	return tap_streq(r->contact_info, "Company X <x@example.com>");
}

static bool
check_domain_null(const struct mts_tlsrpt_report *r)
{
	return r->policies[0].policy_domain == NULL;
}

static bool
check_mx_one(const struct mts_tlsrpt_report *r)
{
	return r->policies[0].mx_host_count == 1 &&
	    tap_streq(r->policies[0].mx_hosts[0], "*.mail.example.com");
}

static bool
check_empty_lists(const struct mts_tlsrpt_report *r)
{
	const struct mts_tlsrpt_policy *p = &r->policies[0];

	return p->policy_string_count == 0 && p->policy_strings == NULL &&
	    p->mx_host_count == 0 && p->mx_hosts == NULL &&
	    p->failure_count == 0 &&
	    tap_streq(p->policy_type, "no-policy-found");
}

static bool
check_sts_five(const struct mts_tlsrpt_report *r)
{
	const struct mts_tlsrpt_policy *p = &r->policies[0];

	return p->policy_string_count == 5 &&
	    tap_streq(p->policy_strings[3], "mx: mx2.example.com");
}

static bool
check_tlsa_two(const struct mts_tlsrpt_report *r)
{
	const struct mts_tlsrpt_policy *p = &r->policies[0];

	return p->policy_string_count == 2 &&
	    tap_streq(p->policy_strings[0], "3 1 1 AB") &&
	    tap_streq(p->policy_strings[1], "3 1 1 CD");
}

static bool
check_tlsa_kept(const struct mts_tlsrpt_report *r)
{
	const struct mts_tlsrpt_policy *p = &r->policies[0];

	return p->policy_string_count == 1 &&
	    tap_streq(p->policy_strings[0], "[3 1 1 AB");
}

static bool
check_sts_bracket_kept(const struct mts_tlsrpt_report *r)
{
	const struct mts_tlsrpt_policy *p = &r->policies[0];

	return p->policy_string_count == 1 &&
	    tap_streq(p->policy_strings[0], "[\"a\"]");
}

static bool
check_ten(const struct mts_tlsrpt_report *r)
{
	return r->policies[0].successful == 10 && r->total_successful == 10;
}

static bool
check_int64_max(const struct mts_tlsrpt_report *r)
{
	return r->total_successful == INT64_MAX && r->policies[0].failed == 0;
}

static bool
check_two_policies(const struct mts_tlsrpt_report *r)
{
	return r->policy_count == 2 && r->total_successful == 30 &&
	    r->total_failed == 3;
}

static bool
check_nonexclusive(const struct mts_tlsrpt_report *r)
{
	const struct mts_tlsrpt_policy *p = &r->policies[0];

	return p->failed == 1 && p->failure_count == 2 &&
	    p->failures[0].failed_session_count == 1 &&
	    p->failures[1].failed_session_count == 1;
}

static bool
check_detail_bare(const struct mts_tlsrpt_report *r)
{
	const struct mts_tlsrpt_failure *f = &r->policies[0].failures[0];

	return r->policies[0].failure_count == 1 &&
	    tap_streq(f->result_type, "sts-policy-fetch-error") &&
	    f->sending_mta_ip == NULL && f->receiving_mx_hostname == NULL &&
	    f->receiving_mx_helo == NULL && f->receiving_ip == NULL &&
	    f->additional_information == NULL &&
	    f->failure_reason_code == NULL && f->failed_session_count == 3;
}

static bool
check_detail_full(const struct mts_tlsrpt_report *r)
{
	const struct mts_tlsrpt_failure *f = &r->policies[0].failures[0];

	return tap_streq(f->sending_mta_ip, "203.0.113.056") &&
	    tap_streq(f->receiving_mx_hostname, "mx.example.com") &&
	    tap_streq(f->receiving_mx_helo, "mx1.example.com") &&
	    tap_streq(f->receiving_ip, "2001:DB8::1") &&
	    tap_streq(f->additional_information, "https://r.example/a b") &&
	    tap_streq(f->failure_reason_code, "X509_V_ERR_X");
}

static bool
check_future_type(const struct mts_tlsrpt_report *r)
{
	return tap_streq(r->policies[0].failures[0].result_type,
	                 "some-future-type");
}

static bool
check_zero_failed(const struct mts_tlsrpt_report *r)
{
	return r->policies[0].failures[0].failed_session_count == 0;
}

static const struct rcase cases[] = {
    /* 135 RPT-JSON-1: I-JSON. */
    {"RPT-JSON-1 (135) T1: a repeated report-id",
     REPORT(HEAD "'report-id':'r-2'," POLICIES(GOOD)), ERR,
     "tlsrpt-report-json", MTS_ERR_SYNTAX, NULL},
    {"RPT-JSON-1 (135) T1: a repeated member deep inside",
     ON_POLICY(POLICY("'policy-type':'sts','policy-type':'sts'")), ERR,
     "tlsrpt-report-json", MTS_ERR_SYNTAX, NULL},
    {"RPT-JSON-1 (135) T2: invalid UTF-8 in organization-name",
     REPORT(
	 "'organization-name':'Company\xff'," RANGE CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-json", MTS_ERR_SYNTAX, NULL},
    {"RPT-JSON-1 (135): an overlong UTF-8 form",
     REPORT("'organization-name':'\xc0\xaf'," RANGE CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-json", MTS_ERR_SYNTAX, NULL},
    {"RPT-JSON-1 (135): \\u0000 in a string",
     REPORT(
	 "'organization-name':'a\\u0000b'," RANGE CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-json", MTS_ERR_SYNTAX, NULL},
    {"RPT-JSON-1 (135): a lone surrogate",
     REPORT("'organization-name':'\\ud800'," RANGE CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-json", MTS_ERR_SYNTAX, NULL},
    {"RPT-JSON-1 (135): text after the report",
     REPORT(HEAD POLICIES(GOOD)) " {}", ERR, "tlsrpt-report-json",
     MTS_ERR_SYNTAX, NULL},
    {"RPT-JSON-1 (135): the empty text", "", ERR, "tlsrpt-report-json",
     MTS_ERR_SYNTAX, NULL},
    {"RPT-JSON-1 (135): a cut report", "{'organization-name':'X',", ERR,
     "tlsrpt-report-json", MTS_ERR_SYNTAX, NULL},
    {"RPT-JSON-1 (135): an integer past INT64_MAX in an unknown member",
     ON_GOOD("'x':9223372036854775808"), ERR, "tlsrpt-report-count",
     MTS_ERR_INVALID, NULL},

    /* 136 RPT-JSON-2: the five top-level members. */
    {"RPT-JSON-2 (136) T1: a complete report", REPORT(HEAD POLICIES(GOOD)), OK,
     NULL, MTS_OK, check_good},
    {"RPT-JSON-2 (136) T2: no report-id, refused even when lenient",
     REPORT(ORG RANGE CONTACT POLICIES(GOOD)), ERR,
     "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-2 (136): no organization-name",
     REPORT(RANGE CONTACT RID POLICIES(GOOD)), ERR,
     "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-2 (136): no date-range", REPORT(ORG CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-2 (136): no end-datetime",
     REPORT(ORG
            "'date-range':{'start-datetime':'2016-04-01T00:00:00Z'}," CONTACT
                RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-2 (136): no policies",
     REPORT(ORG RANGE CONTACT "'report-id':'r'"), ERR,
     "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-2 (136): not an object", "[]", ERR, "tlsrpt-report-not-object",
     MTS_ERR_INVALID, NULL},
    {"RPT-JSON-2 (136): date-range an array",
     REPORT(ORG "'date-range':[]," CONTACT RID POLICIES(GOOD)), ERR,
     "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},

    /* 137 RPT-JSON-3: the member names (golden files, below). */

    /* 138 RPT-JSON-4: organization-name is a string. */
    {"RPT-JSON-4 (138) T1: organization-name a number",
     REPORT("'organization-name':42," RANGE CONTACT RID POLICIES(GOOD)), ERR,
     "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-4 (138): organization-name empty",
     REPORT("'organization-name':''," RANGE CONTACT RID POLICIES(GOOD)), ERR,
     "tlsrpt-report-member-empty", MTS_ERR_INVALID, NULL},

    /* 139 RPT-JSON-5: RFC 3339 date-time. */
    {"RPT-JSON-5 (139) T2: a space for the T",
     REPORT(ORG RANGE_OF("2016-04-01 00:00:00", "2016-04-01T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-syntax", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139) T2: a date alone",
     REPORT(ORG RANGE_OF("2016-04-01", "2016-04-01T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-syntax", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139) T2: epoch seconds in a string",
     REPORT(ORG RANGE_OF("1459468800", "2016-04-01T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-syntax", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139): epoch seconds as a number",
     REPORT(ORG "'date-range':{'start-datetime':1459468800,'end-datetime':"
                "'2016-04-01T23:59:59Z'}," CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139) T3: +02:00 is valid, taken to UTC",
     REPORT(
	 ORG RANGE_OF("2016-04-01T02:00:00+02:00", "2016-04-02T01:59:59+02:00")
	     CONTACT RID POLICIES(GOOD)),
     OK, NULL, MTS_OK, check_offset},
    {"RPT-JSON-5 (139): -05:30 is valid; not a UTC day (RPT-JSON-6)",
     REPORT(
	 ORG RANGE_OF("2016-04-01T00:00:00-05:30", "2016-04-01T23:59:59-05:30")
	     CONTACT RID POLICIES(GOOD)),
     INFO, "tlsrpt-report-date-not-day", MTS_OK, NULL},
    {"RPT-JSON-5 (139): lower-case t and z, fractional seconds",
     REPORT(ORG RANGE_OF("2016-04-01t00:00:00.000z", "2016-04-01T23:59:59.999Z")
                CONTACT RID POLICIES(GOOD)),
     OK, NULL, MTS_OK, check_fraction},
    {"RPT-JSON-5 (139): a leap second",
     REPORT(ORG RANGE_OF("2016-12-31T00:00:00Z", "2016-12-31T23:59:60Z")
                CONTACT RID POLICIES(GOOD)),
     OK, NULL, MTS_OK, check_leap},
    {"RPT-JSON-5 (139): 2016-02-30",
     REPORT(ORG RANGE_OF("2016-02-30T00:00:00Z", "2016-04-01T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-syntax", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139): 2015-02-29 (not a leap year)",
     REPORT(ORG RANGE_OF("2015-02-29T00:00:00Z", "2016-04-01T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-syntax", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139): 24:00:00",
     REPORT(ORG RANGE_OF("2016-04-01T00:00:00Z", "2016-04-01T24:00:00Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-syntax", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139): offset +24:00",
     REPORT(ORG RANGE_OF("2016-04-01T00:00:00+24:00", "2016-04-01T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-syntax", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139): offset without a colon",
     REPORT(ORG RANGE_OF("2016-04-01T00:00:00+0200", "2016-04-01T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-syntax", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139): an empty fraction",
     REPORT(ORG RANGE_OF("2016-04-01T00:00:00.Z", "2016-04-01T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-syntax", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-5 (139): no time zone (Microsoft), taken as UTC",
     REPORT(ORG RANGE_OF("2016-04-01T00:00:00", "2016-04-01T23:59:59")
                CONTACT RID POLICIES(GOOD)),
     DEV, "tlsrpt-report-date-no-zone", MTS_OK, check_fraction},
    {"RPT-JSON-5 (139): end before start",
     REPORT(ORG RANGE_OF("2016-04-02T00:00:00Z", "2016-04-01T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     ERR, "tlsrpt-report-date-order", MTS_ERR_INVALID, NULL},

    /* 140 RPT-JSON-6: a full UTC day (SHOULD). */
    {"RPT-JSON-6 (140) T1: end at the next 00:00:00Z (A17)",
     REPORT(ORG RANGE_OF("2016-04-01T00:00:00Z", "2016-04-02T00:00:00Z")
                CONTACT RID POLICIES(GOOD)),
     OK, NULL, MTS_OK, NULL},
    {"RPT-JSON-6 (140): start at 01:00, an info only",
     REPORT(ORG RANGE_OF("2016-04-01T01:00:00Z", "2016-04-02T00:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     INFO, "tlsrpt-report-date-not-day", MTS_OK, NULL},
    {"RPT-JSON-6 (140): two days, an info only",
     REPORT(ORG RANGE_OF("2016-04-01T00:00:00Z", "2016-04-02T23:59:59Z")
                CONTACT RID POLICIES(GOOD)),
     INFO, "tlsrpt-report-date-not-day", MTS_OK, NULL},

    /* 141 RPT-JSON-7: contact-info, an addr-spec. */
    {"RPT-JSON-7 (141) T2: a name-addr, kept with a deviation",
     REPORT(ORG RANGE
            "'contact-info':'Company X <x@example.com>'," RID POLICIES(GOOD)),
     DEV, "tlsrpt-report-contact-syntax", MTS_OK, check_contact_kept},
    {"RPT-JSON-7 (141): contact-info null (cry-inc #71)",
     REPORT(ORG RANGE "'contact-info':null," RID POLICIES(GOOD)), DEV,
     "tlsrpt-report-contact-missing", MTS_OK, check_contact_null},
    {"RPT-JSON-7 (141): contact-info absent",
     REPORT(ORG RANGE RID POLICIES(GOOD)), DEV, "tlsrpt-report-contact-missing",
     MTS_OK, check_contact_null},
    {"RPT-JSON-7 (141): contact-info empty",
     REPORT(ORG RANGE "'contact-info':''," RID POLICIES(GOOD)), DEV,
     "tlsrpt-report-contact-missing", MTS_OK, check_contact_null},
    {"RPT-JSON-7 (141): contact-info a number",
     REPORT(ORG RANGE "'contact-info':1," RID POLICIES(GOOD)), ERR,
     "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},

    /* 142 RPT-JSON-8: report-id. */
    {"RPT-JSON-8 (142): report-id empty",
     REPORT(ORG RANGE CONTACT "'report-id':''," POLICIES(GOOD)), ERR,
     "tlsrpt-report-member-empty", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-8 (142): report-id a number",
     REPORT(ORG RANGE CONTACT "'report-id':5065427," POLICIES(GOOD)), ERR,
     "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},

    /* 143 RPT-JSON-9: policies is an array. */
    {"RPT-JSON-9 (143) T1: policies an object", REPORT(HEAD "'policies':" GOOD),
     ERR, "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-9 (143): policies empty", REPORT(HEAD POLICIES("")), ERR,
     "tlsrpt-report-policies-empty", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-9 (143): a policies item not an object",
     REPORT(HEAD POLICIES(GOOD ",[]")), ERR, "tlsrpt-report-member-type",
     MTS_ERR_INVALID, NULL},
    {"RPT-JSON-9 (143): an item without policy",
     ON_POLICY("{" SUM("1", "0") "}"), ERR, "tlsrpt-report-member-missing",
     MTS_ERR_INVALID, NULL},
    {"RPT-JSON-9 (143): an item without summary",
     ON_POLICY("{'policy':{" STS_DESC "}}"), ERR,
     "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},

    /* 144 RPT-JSON-10: policy-type. */
    {"RPT-JSON-10 (144) T2: STS in upper case",
     ON_POLICY(POLICY("'policy-type':'STS','policy-domain':'example.com'")),
     ERR, "tlsrpt-report-policy-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-10 (144) T2: dane",
     ON_POLICY(POLICY("'policy-type':'dane','policy-domain':'example.com'")),
     ERR, "tlsrpt-report-policy-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-10 (144) T2: none",
     ON_POLICY(POLICY("'policy-type':'none','policy-domain':'example.com'")),
     ERR, "tlsrpt-report-policy-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-10 (144): No-Policy-Found",
     ON_POLICY(POLICY(
	 "'policy-type':'No-Policy-Found','policy-domain':'example.com'")),
     ERR, "tlsrpt-report-policy-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-10 (144): no policy-type",
     ON_POLICY(POLICY("'policy-domain':'example.com'")), ERR,
     "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-10 (144): policy-type empty",
     ON_POLICY(POLICY("'policy-type':'','policy-domain':'example.com'")), ERR,
     "tlsrpt-report-member-empty", MTS_ERR_INVALID, NULL},

    /* 145 RPT-JSON-11: policy-string, an array of strings. */
    {"RPT-JSON-11 (145) T1: one string per line, each mx its own",
     ON_POLICY(POLICY(
	 "'policy-type':'sts','policy-string':['version: STSv1','mode: "
	 "testing','mx: mx1.example.com','mx: mx2.example.com','max_age: "
	 "604800'],'policy-domain':'example.com','mx-host':['mx1.example.com',"
	 "'mx2.example.com']")),
     OK, NULL, MTS_OK, check_sts_five},
    {"RPT-JSON-11 (145) T2: policy-string a string",
     ON_POLICY(POLICY("'policy-type':'sts','policy-string':'version: "
                      "STSv1','policy-domain':'example.com'")),
     ERR, "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-11 (145) T3: a nested array",
     ON_POLICY(
	 POLICY("'policy-type':'sts','policy-string':['version: "
                "STSv1',['mx: a','mx: b']],'policy-domain':'example.com'")),
     ERR, "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-11 (145): an sts line that looks like JSON is kept",
     ON_POLICY(POLICY("'policy-type':'sts','policy-string':['[\\'a\\']'],"
                      "'policy-domain':'example.com'")),
     OK, NULL, MTS_OK, check_sts_bracket_kept},

    /* 146 RPT-JSON-12: tlsa policy-string, one RR a string. */
    {"RPT-JSON-12 (146) T4: two RRs, two strings",
     ON_POLICY(TLSA("['3 1 1 AB','3 1 1 CD']")), OK, NULL, MTS_OK,
     check_tlsa_two},
    {"RPT-JSON-12 (146): Microsoft's array in one string, unpacked",
     ON_POLICY(TLSA("['[\\'3 1 1 AB\\',\\'3 1 1 CD\\']']")), DEV,
     "tlsrpt-report-tlsa-string-array", MTS_OK, check_tlsa_two},
    {"RPT-JSON-12 (146): one string that is not JSON, kept",
     ON_POLICY(TLSA("['[3 1 1 AB']")), OK, NULL, MTS_OK, check_tlsa_kept},

    /* 147 RPT-JSON-13: no-policy-found without strings. */
    {"RPT-JSON-13 (147): no-policy-found without policy-string or mx-host",
     ON_POLICY(POLICY(
	 "'policy-type':'no-policy-found','policy-domain':'example.com'")),
     OK, NULL, MTS_OK, check_empty_lists},
    {"RPT-JSON-13 (147): mx-host null",
     ON_POLICY(POLICY("'policy-type':'no-policy-found','policy-domain':"
                      "'example.com','mx-host':null")),
     DEV, "tlsrpt-report-null-member", MTS_OK, check_empty_lists},

    /* 148 RPT-JSON-14: policy-domain in A-labels. */
    {"RPT-JSON-14 (148) T1: a U-label, kept with a deviation",
     ON_POLICY(POLICY("'policy-type':'sts','policy-domain':'b\xc3\xbc"
                      "cher.example'")),
     DEV, "tlsrpt-report-domain-syntax", MTS_OK, NULL},
    {"RPT-JSON-14 (148) T1: an A-label",
     ON_POLICY(
	 POLICY("'policy-type':'sts','policy-domain':'xn--bcher-kva.example'")),
     OK, NULL, MTS_OK, NULL},
    {"RPT-JSON-14 (148): policy-domain missing",
     ON_POLICY(POLICY("'policy-type':'sts'")), DEV,
     "tlsrpt-report-domain-missing", MTS_OK, check_domain_null},
    {"RPT-JSON-14 (148): policy-domain null",
     ON_POLICY(POLICY("'policy-type':'sts','policy-domain':null")), DEV,
     "tlsrpt-report-domain-missing", MTS_OK, check_domain_null},
    {"RPT-JSON-14 (148): policy-domain a number",
     ON_POLICY(POLICY("'policy-type':'sts','policy-domain':7")), ERR,
     "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},

    /* 149 RPT-JSON-15: mx-host, an array. */
    {"RPT-JSON-15 (149) T2: a bare string made a list of one",
     ON_POLICY(POLICY("'policy-type':'sts','policy-domain':'example.com',"
                      "'mx-host':'*.mail.example.com'")),
     DEV, "tlsrpt-report-mx-host-string", MTS_OK, check_mx_one},
    {"RPT-JSON-15 (149) T1: an array of one",
     ON_POLICY(POLICY("'policy-type':'sts','policy-domain':'example.com',"
                      "'mx-host':['*.mail.example.com']")),
     OK, NULL, MTS_OK, check_mx_one},
    {"RPT-JSON-15 (149): mx-host a number",
     ON_POLICY(POLICY(
	 "'policy-type':'sts','policy-domain':'example.com','mx-host':1")),
     ERR, "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-15 (149): a number in mx-host",
     ON_POLICY(POLICY(
	 "'policy-type':'sts','policy-domain':'example.com','mx-host':[1]")),
     ERR, "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},

    /* 150 RPT-JSON-16: total-successful-session-count, an integer. */
    {"RPT-JSON-16 (150) T2: a string", ON_POLICY(WITH_SUM("'10'", "0")), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-16 (150) T3: 10.0, taken as 10",
     ON_POLICY(WITH_SUM("10.0", "1")), DEV, "tlsrpt-report-count-real", MTS_OK,
     check_ten},
    {"RPT-JSON-16 (150) T3: 1e1, taken as 10", ON_POLICY(WITH_SUM("1e1", "1")),
     DEV, "tlsrpt-report-count-real", MTS_OK, check_ten},
    {"RPT-JSON-16 (150): 10.5", ON_POLICY(WITH_SUM("10.5", "0")), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-16 (150): -1", ON_POLICY(WITH_SUM("-1", "0")), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-16 (150): -1.0", ON_POLICY(WITH_SUM("-1.0", "0")), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-16 (150): a real past 2^53",
     ON_POLICY(WITH_SUM("9007199254740994.0", "0")), ERR, "tlsrpt-report-count",
     MTS_ERR_INVALID, NULL},
    {"RPT-JSON-16 (150): 1e300", ON_POLICY(WITH_SUM("1e300", "0")), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-16 (150): true", ON_POLICY(WITH_SUM("true", "0")), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-16 (150): null", ON_POLICY(WITH_SUM("null", "0")), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-16 (150): INT64_MAX, a 64-bit count",
     ON_POLICY(WITH_SUM("9223372036854775807", "0")), OK, NULL, MTS_OK,
     check_int64_max},
    {"RPT-JSON-16 (150): INT64_MAX + 1",
     ON_POLICY(WITH_SUM("9223372036854775808", "0")), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-16 (150): missing from the summary",
     ON_POLICY("{'policy':{" STS_DESC
               "},'summary':{'total-failure-session-count':0}}"),
     ERR, "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},

    /* 151 RPT-JSON-17: total-failure-session-count. */
    {"RPT-JSON-17 (151): a string", ON_POLICY(WITH_SUM("10", "'3'")), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},

    /* 152 RPT-JSON-18: non-exclusive failure types. */
    {"RPT-JSON-18 (152) T1: one session, two detail entries",
     ON_POLICY(
	 "{'policy':{" STS_DESC
	 "}," SUM("0", "1") ",'failure-details':[" DETAIL(
	     "") ",{'result-type':'"
		 "certificate-host-mismatch','sending-mta-ip':'192.0.2.1',"
		 "'receiving-mx-hostname':'mx.example.com','failed-session-"
		 "count':1}]}"),
     OK, NULL, MTS_OK, check_nonexclusive},

    /* 154 RPT-JSON-20: addresses are kept as received. */
    {"RPT-JSON-20 (154) T2, T4: addresses and the rest kept as received",
     ON_POLICY(WITH_DETAILS(
	 "{'result-type':'validation-failure','sending-mta-ip':'203.0.113."
	 "056','receiving-mx-hostname':'mx.example.com','receiving-mx-helo':"
	 "'mx1.example.com','receiving-ip':'2001:DB8::1','failed-session-"
	 "count':1,'additional-information':'https://r.example/a b',"
	 "'failure-reason-code':'X509_V_ERR_X'}")),
     OK, NULL, MTS_OK, check_detail_full},

    /* 155 RPT-JSON-21: receiving-mx-hostname. */
    {"RPT-JSON-21 (155): receiving-mx-hostname missing",
     ON_POLICY(WITH_DETAILS(
	 "{'result-type':'certificate-expired','sending-mta-ip':'192.0.2.1',"
	 "'failed-session-count':1}")),
     DEV, "tlsrpt-report-detail-no-mx-hostname", MTS_OK, NULL},
    {"RPT-JSON-21 (155): receiving-mx-hostname null",
     ON_POLICY(WITH_DETAILS(
	 "{'result-type':'certificate-expired','sending-mta-ip':'192.0.2.1',"
	 "'receiving-mx-hostname':null,'failed-session-count':1}")),
     DEV, "tlsrpt-report-detail-no-mx-hostname", MTS_OK, NULL},
    {"RPT-JSON-21 (155): sending-mta-ip missing",
     ON_POLICY(WITH_DETAILS(
	 "{'result-type':'certificate-expired','receiving-mx-hostname':"
	 "'mx.example.com','failed-session-count':1}")),
     DEV, "tlsrpt-report-detail-no-sending-ip", MTS_OK, NULL},
    {"RPT-JSON-21 (155): receiving-mx-hostname a number",
     ON_POLICY(WITH_DETAILS(
	 "{'result-type':'certificate-expired','sending-mta-ip':'192.0.2.1',"
	 "'receiving-mx-hostname':1,'failed-session-count':1}")),
     ERR, "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},

    /* 156 RPT-JSON-22: receiving-mx-helo, optional. */
    {"RPT-JSON-22 (156) T2: receiving-mx-helo omitted",
     ON_POLICY(WITH_DETAILS(DETAIL(""))), OK, NULL, MTS_OK, NULL},
    {"RPT-JSON-22 (156): receiving-mx-helo null",
     ON_POLICY(WITH_DETAILS(DETAIL(",'receiving-mx-helo':null"))), DEV,
     "tlsrpt-report-null-member", MTS_OK, NULL},

    /* 159 RPT-JSON-25: failed-session-count, an integer >= 1. */
    {"RPT-JSON-25 (159) T2: a string",
     ON_POLICY(WITH_DETAILS(DETAIL_BARE("certificate-expired", "'3'"))), ERR,
     "tlsrpt-report-count", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-25 (159) T1: 0 is accepted",
     ON_POLICY(WITH_DETAILS(
	 "{'result-type':'certificate-expired','sending-mta-ip':'192.0.2.1',"
	 "'receiving-mx-hostname':'mx.example.com','failed-session-count':0}")),
     OK, NULL, MTS_OK, check_zero_failed},
    {"RPT-JSON-25 (159): missing",
     ON_POLICY(WITH_DETAILS(
	 "{'result-type':'certificate-expired','sending-mta-ip':'192.0.2.1',"
	 "'receiving-mx-hostname':'mx.example.com'}")),
     ERR, "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},

    /* 160 RPT-JSON-26: only result-type and failed-session-count. */
    {"RPT-JSON-26 (160): a detail of result-type and count alone",
     ON_POLICY(WITH_DETAILS(DETAIL_BARE("sts-policy-fetch-error", "3"))), DEV,
     "tlsrpt-report-detail-no-sending-ip", MTS_OK, check_detail_bare},
    {"RPT-JSON-26 (160): no result-type",
     ON_POLICY(WITH_DETAILS("{'failed-session-count':3}")), ERR,
     "tlsrpt-report-member-missing", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-26 (160): failure-details an object",
     ON_POLICY("{'policy':{" STS_DESC
               "}," SUM("1", "0") ",'failure-details':{}}"),
     ERR, "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},
    {"RPT-JSON-26 (160): a detail not an object",
     ON_POLICY(WITH_DETAILS("'x'")), ERR, "tlsrpt-report-member-type",
     MTS_ERR_INVALID, NULL},

    /* 161 RPT-JSON-27: several policies, totals summed. */
    {"RPT-JSON-27 (161): two policies, totals summed",
     REPORT(HEAD POLICIES(GOOD "," WITH_SUM("20", "2"))), OK, NULL, MTS_OK,
     check_two_policies},
    {"RPT-JSON-27 (161): totals past INT64_MAX",
     REPORT(HEAD POLICIES(WITH_SUM("9223372036854775807", "0") "," GOOD)), ERR,
     "tlsrpt-report-count-overflow", MTS_ERR_INVALID, NULL},

    /* 162 RPT-JSON-28: unknown members ignored. */
    {"RPT-JSON-28 (162) T1: x-vendor at every level",
     REPORT(HEAD "'x-vendor':1," POLICIES(
	 "{'x':[],'policy':{'x':{}," STS_DESC "},'summary':{'x':null,"
	 "'total-successful-session-count':10,'total-failure-session-"
	 "count':1},'failure-details':[{'x':true,'result-type':'certificate-"
	 "expired','sending-mta-ip':'192.0.2.1','receiving-mx-hostname':"
	 "'mx.example.com','failed-session-count':1}]}")),
     OK, NULL, MTS_OK, NULL},

    /* 174 RPT-RES-12: unknown result types kept. */
    {"RPT-RES-12 (174) T1: some-future-type kept, an info only",
     ON_POLICY(WITH_DETAILS(
	 "{'result-type':'some-future-type','sending-mta-ip':'192.0.2.1',"
	 "'receiving-mx-hostname':'mx.example.com','failed-session-count':1}")),
     INFO, "tlsrpt-report-result-type-unknown", MTS_OK, check_future_type},
    {"RPT-RES-12 (174): result-type a number",
     ON_POLICY(WITH_DETAILS("{'result-type':5,'failed-session-count':1}")), ERR,
     "tlsrpt-report-member-type", MTS_ERR_INVALID, NULL},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* True when the n octets at p are all 0xA5: an out never written. */
static bool
untouched(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] != 0xA5)
			return false;
	return true;
}

/* One parse of a row; the findings in *d. */
static int
run_case(const struct rcase *c, const char *json, unsigned flags,
         struct mts_tlsrpt_report *r, struct mts_diag *d, struct mts_err *e)
{
	memset(r, 0xA5, sizeof(*r));
	memset(e, 0, sizeof(*e));
	mts_diag_init(d);
	return mts_tlsrpt_report_parse(json, strlen(json), flags, r, d, e);
}

/* The lenient parse of a row as its kind says. */
static bool
lenient_ok(const struct rcase *c, int rc, const struct mts_tlsrpt_report *r,
           const struct mts_diag *d, const struct mts_err *e)
{
	switch (c->kind) {
	case OK:
		return rc == 0 && d->count == 0;
	case DEV:
		return rc == 0 && has_finding(d, c->code, MTS_SEV_WARNING) &&
		    mts_diag_count(d, MTS_SEV_ERROR) == 0;
	case INFO:
		return rc == 0 && has_finding(d, c->code, MTS_SEV_INFO) &&
		    mts_diag_count(d, MTS_SEV_ERROR) == 0 &&
		    mts_diag_count(d, MTS_SEV_WARNING) == 0;
	case ERR:
		return rc == -1 && e->code == c->err && e->msg != NULL &&
		    has_finding(d, c->code, MTS_SEV_ERROR) &&
		    untouched(r, sizeof(*r));
	}
	return false;
}

/* The strict parse: deviations refused, the rest as when lenient. */
static bool
strict_ok(const struct rcase *c, int rc, const struct mts_tlsrpt_report *r,
          const struct mts_diag *d, const struct mts_err *e)
{
	if (c->kind != DEV)
		return c->kind == ERR ? rc == -1 && e->code == c->err : rc == 0;
	return rc == -1 && e->code == MTS_ERR_INVALID &&
	    has_finding(d, c->code, MTS_SEV_ERROR) &&
	    mts_diag_count(d, MTS_SEV_WARNING) == 0 && untouched(r, sizeof(*r));
}

static void
check_case(const struct rcase *c)
{
	struct mts_tlsrpt_report r, r2;
	struct mts_diag d;
	struct mts_err e;
	char *json = dq(c->json);
	bool ok;
	int rc, rc2;

	rc = run_case(c, json, 0, &r, &d, &e);
	ok = lenient_ok(c, rc, &r, &d, &e) &&
	    (rc != 0 || c->check == NULL || c->check(&r));
	/* The verdict does not depend on the diag (nor on err). */
	memset(&r2, 0xA5, sizeof(r2));
	rc2 = mts_tlsrpt_report_parse(json, strlen(json), 0, &r2, NULL, NULL);
	ok = ok && rc2 == rc;
	if (!tap_ok(ok, "%s", c->name)) {
		tap_diag("rc %d (%s), without diag %d", rc,
		         rc != 0 ? mts_strerror(e.code) : "-", rc2);
		show(&d);
	}
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	if (rc2 == 0)
		mts_tlsrpt_report_reset(&r2);
	mts_diag_reset(&d);

	rc = run_case(c, json, MTS_TLSRPT_STRICT, &r, &d, &e);
	if (!tap_ok(strict_ok(c, rc, &r, &d, &e), "%s: strict: %s", c->name,
	            c->kind == DEV ? "refused" : "the same")) {
		tap_diag("rc %d", rc);
		show(&d);
	}
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	mts_diag_reset(&d);
	free(json);
}

/* ---- caps ---- */

/* A report with `n` policies, `m` details in the first, and `k`
 * policy-string items in the first. */
static char *
big_report(size_t n, size_t m, size_t k, size_t *len)
{
	size_t cap = 4096 + n * 256 + m * 128 + k * 4, i;
	char *s = malloc(cap), *p;

	if (s == NULL)
		abort();
	p = s +
	    sprintf(s,
	            "{\"organization-name\":\"X\",\"date-range\":{"
	            "\"start-datetime\":\"2016-04-01T00:00:00Z\","
	            "\"end-datetime\":\"2016-04-01T23:59:59Z\"},"
	            "\"contact-info\":\"a@x.example\",\"report-id\":"
	            "\"r\",\"policies\":[");
	for (i = 0; i < n; i++) {
		size_t j;

		p += sprintf(p,
		             "%s{\"policy\":{\"policy-type\":\"sts\","
		             "\"policy-domain\":\"example.com\","
		             "\"policy-string\":[",
		             i == 0 ? "" : ",");
		for (j = 0; i == 0 && j < k; j++)
			p += sprintf(p, "%s\"\"", j == 0 ? "" : ",");
		p += sprintf(p,
		             "]},\"summary\":{\"total-successful-session-"
		             "count\":1,\"total-failure-session-count\":0},"
		             "\"failure-details\":[");
		for (j = 0; i == 0 && j < m; j++)
			p += sprintf(p,
			             "%s{\"result-type\":\"a\","
			             "\"sending-mta-ip\":\"b\","
			             "\"receiving-mx-hostname\":\"c\","
			             "\"failed-session-count\":1}",
			             j == 0 ? "" : ",");
		p += sprintf(p, "]}");
	}
	p += sprintf(p, "]}");
	*len = (size_t)(p - s);
	return s;
}

static void
check_cap(const char *name, size_t n, size_t m, size_t k, int want_rc)
{
	struct mts_tlsrpt_report r;
	struct mts_diag d;
	struct mts_err e;
	size_t len;
	char *s = big_report(n, m, k, &len);
	int rc;

	mts_diag_init(&d);
	rc = mts_tlsrpt_report_parse(s, len, 0, &r, &d, &e);
	if (want_rc == 0)
		tap_ok(rc == 0 && r.policy_count == n &&
		           r.policies[0].failure_count == m &&
		           r.policies[0].policy_string_count == k,
		       "%s: accepted", name);
	else
		tap_ok(rc == -1 && e.code == MTS_ERR_TOOBIG &&
		           has_finding(&d, "tlsrpt-report-too-big",
		                       MTS_SEV_ERROR),
		       "%s: refused, MTS_ERR_TOOBIG", name);
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	mts_diag_reset(&d);
	free(s);
}

/* A report whose organization-name is `n` octets of "a". */
static void
check_field_cap(size_t n, int want_rc)
{
	static const char head[] = "{\"organization-name\":\"";
	static const char tail[] =
	    "\",\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\","
	    "\"end-datetime\":\"2016-04-01T23:59:59Z\"},\"contact-info\":"
	    "\"a@x.example\",\"report-id\":\"r\",\"policies\":[{\"policy\":{"
	    "\"policy-type\":\"sts\",\"policy-domain\":\"x.example\"},"
	    "\"summary\":{\"total-successful-session-count\":1,"
	    "\"total-failure-session-count\":0}}]}";
	struct mts_tlsrpt_report r;
	struct mts_err e;
	size_t len = sizeof(head) - 1 + n + sizeof(tail) - 1;
	char *s = malloc(len);
	int rc;

	if (s == NULL)
		abort();
	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, 'a', n);
	memcpy(s + sizeof(head) - 1 + n, tail, sizeof(tail) - 1);
	rc = mts_tlsrpt_report_parse(s, len, 0, &r, NULL, &e);
	if (want_rc == 0)
		tap_ok(rc == 0 && strlen(r.organization_name) == n,
		       "caps: a string of %zu octets is accepted", n);
	else
		tap_ok(rc == -1 && e.code == MTS_ERR_TOOBIG,
		       "caps: a string of %zu octets is refused", n);
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	free(s);
}

/* A good report padded with spaces to `len` octets. */
static char *
padded(size_t len)
{
	static const char good[] =
	    "{\"organization-name\":\"X\",\"date-range\":{\"start-datetime\":"
	    "\"2016-04-01T00:00:00Z\",\"end-datetime\":\"2016-04-01T23:59:59Z\""
	    "},\"contact-info\":\"a@x.example\",\"report-id\":\"r\","
	    "\"policies\":[{\"policy\":{\"policy-type\":\"sts\","
	    "\"policy-domain\":\"x.example\"},\"summary\":{\"total-successful-"
	    "session-count\":1,\"total-failure-session-count\":0}}]}";
	char *s = malloc(len);

	if (s == NULL)
		abort();
	memset(s, ' ', len);
	memcpy(s, good, sizeof(good) - 1);
	return s;
}

static void
check_size_cap(void)
{
	struct mts_tlsrpt_report r;
	struct mts_diag d;
	struct mts_err e;
	struct mem_reader m;
	char *s = padded(MTS_TLSRPT_REPORT_MAX + 1);
	int rc;

	rc = mts_tlsrpt_report_parse(s, MTS_TLSRPT_REPORT_MAX, 0, &r, NULL, &e);
	tap_ok(rc == 0, "caps: a report of exactly 10 MiB is accepted");
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	mts_diag_init(&d);
	rc = mts_tlsrpt_report_parse(s, MTS_TLSRPT_REPORT_MAX + 1, 0, &r, &d,
	                             &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_TOOBIG &&
	           has_finding(&d, "tlsrpt-report-too-big", MTS_SEV_ERROR),
	       "caps: one octet more is refused, MTS_ERR_TOOBIG");
	mts_diag_reset(&d);

	rc = parse_cb_step(s, MTS_TLSRPT_REPORT_MAX, 65536, 0, &r, NULL, &e);
	tap_ok(rc == 0, "caps: parse_cb accepts exactly 10 MiB");
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	/* The reader has an endless supply: asked for one octet past the
	 * cap at most. */
	memset(&m, 0, sizeof(m));
	m.buf = s;
	m.len = MTS_TLSRPT_REPORT_MAX + 1;
	m.step = 65536;
	mts_diag_init(&d);
	rc = mts_tlsrpt_report_parse_cb(mem_read, &m, 0, &r, &d, &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_TOOBIG &&
	           m.pos == MTS_TLSRPT_REPORT_MAX + 1 &&
	           has_finding(&d, "tlsrpt-report-too-big", MTS_SEV_ERROR),
	       "caps: parse_cb refuses one octet more, having read %zu", m.pos);
	mts_diag_reset(&d);
	free(s);
}

/* Arrays nested past jansson's depth: refused, not a crash. */
static void
check_depth(void)
{
	size_t n = 100000, i;
	char *s = malloc(2 * n);
	struct mts_tlsrpt_report r;
	struct mts_err e;
	int rc;

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++) {
		s[i] = '[';
		s[2 * n - 1 - i] = ']';
	}
	rc = mts_tlsrpt_report_parse(s, 2 * n, 0, &r, NULL, &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_TOOBIG,
	       "caps: 100,000 nested arrays are refused, MTS_ERR_TOOBIG");
	free(s);
}

static void
check_caps(void)
{
	check_cap("caps: 4096 policies", MTS_TLSRPT_POLICIES_MAX, 0, 0, 0);
	check_cap("caps: 4097 policies", MTS_TLSRPT_POLICIES_MAX + 1, 0, 0, -1);
	check_cap("caps: 65536 failure details", 1, MTS_TLSRPT_DETAILS_MAX, 0,
	          0);
	check_cap("caps: 65537 failure details", 1, MTS_TLSRPT_DETAILS_MAX + 1,
	          0, -1);
	check_cap("caps: 65536 policy strings", 1, 0, MTS_TLSRPT_STRINGS_MAX,
	          0);
	check_cap("caps: 65537 policy strings", 1, 0,
	          MTS_TLSRPT_STRINGS_MAX + 1, -1);
	check_field_cap(MTS_TLSRPT_FIELD_MAX, 0);
	check_field_cap(MTS_TLSRPT_FIELD_MAX + 1, -1);
	check_size_cap();
	check_depth();
}

/* ---- the reader and the arguments ---- */

static void
check_reader(void)
{
	static const char good[] =
	    "{\"organization-name\":\"X\",\"date-range\":{\"start-datetime\":"
	    "\"2016-04-01T00:00:00Z\",\"end-datetime\":\"2016-04-01T23:59:59Z\""
	    "},\"report-id\":\"r\",\"policies\":[{\"policy\":{\"policy-type\":"
	    "\"sts\",\"policy-domain\":\"x.example\"},\"summary\":{\"total-"
	    "successful-session-count\":1,\"total-failure-session-count\":0}}]"
	    "}";
	struct mts_tlsrpt_report r;
	struct mts_err e;
	struct mem_reader m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.buf = good;
	m.len = sizeof(good) - 1;
	m.step = 7;
	m.fail_after = 40;
	memset(&r, 0xA5, sizeof(r));
	rc = mts_tlsrpt_report_parse_cb(mem_read, &m, 0, &r, NULL, &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_IO && untouched(&r, sizeof(r)),
	       "reader: its failure is MTS_ERR_IO, out untouched");

	memset(&m, 0, sizeof(m));
	m.buf = good;
	m.len = sizeof(good) - 1;
	m.step = 7;
	m.overfill = true;
	rc = mts_tlsrpt_report_parse_cb(mem_read, &m, 0, &r, NULL, &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_IO,
	       "reader: more than it was asked for is MTS_ERR_IO");

	memset(&m, 0, sizeof(m));
	m.buf = good;
	m.len = sizeof(good) - 1;
	m.step = 3;
	rc = mts_tlsrpt_report_parse_cb(mem_read, &m, 0, &r, NULL, &e);
	tap_ok(rc == 0 && m.ended && m.calls_after_end == 0 &&
	           r.total_successful == 1,
	       "reader: read to its end, not called again after it");
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);

	rc = parse_cb_step(good, 30, 1, 0, &r, NULL, &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_SYNTAX,
	       "reader: a cut report is MTS_ERR_SYNTAX");

	rc = mts_tlsrpt_report_parse_cb(NULL, NULL, 0, &r, NULL, &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_ARG, "arguments: no reader");
	rc = mts_tlsrpt_report_parse(good, sizeof(good) - 1, 0, NULL, NULL, &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_ARG, "arguments: no out");
	rc = mts_tlsrpt_report_parse(NULL, 3, 0, &r, NULL, &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_ARG, "arguments: NULL text");
	rc = mts_tlsrpt_report_parse(NULL, 0, 0, &r, NULL, &e);
	tap_ok(rc == -1 && e.code == MTS_ERR_SYNTAX,
	       "arguments: NULL, 0 is the empty text");

	rc = mts_tlsrpt_report_parse(good, sizeof(good) - 1, 0, &r, NULL, &e);
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	mts_tlsrpt_report_reset(NULL);
	tap_ok(rc == 0 && r.organization_name == NULL && r.policies == NULL &&
	           r.policy_count == 0 && r.total_successful == 0,
	       "reset: zeroes what it frees; NULL is a no-op");
}

/* The findings quote input as printable ASCII: a message is never cut
 * inside a UTF-8 sequence and always goes into JSON. */
static void
check_messages_ascii(void)
{
	char *json = dq(REPORT(HEAD POLICIES(POLICY(
	    "'policy-type':'\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9',"
	    "'policy-domain':'example.com'"))));
	struct mts_tlsrpt_report r;
	struct mts_diag d;
	const unsigned char *c;
	bool ascii = true;
	size_t i;
	int rc;

	mts_diag_init(&d);
	rc = mts_tlsrpt_report_parse(json, strlen(json), 0, &r, &d, NULL);
	for (i = 0; i < d.count; i++)
		for (c = (const unsigned char *)d.items[i].message; *c != 0;
		     c++)
			if (*c < 0x20 || *c > 0x7e)
				ascii = false;
	tap_ok(rc == -1 && d.count == 1 && ascii &&
	           strstr(d.items[0].message, "\\xC3\\xA9") != NULL,
	       "findings: input quoted as printable ASCII");
	mts_diag_reset(&d);
	free(json);
}

/* ---- report_json ---- */

/* report_json of a sample against its .expected.json. */
static void
check_golden(const char *file, const char *expected)
{
	struct mts_tlsrpt_report r;
	struct mts_diag d;
	json_t *got = NULL, *want = NULL;
	json_error_t jerr;
	char *buf, *wbuf, *text = NULL;
	size_t len, wlen;
	int rc = -1;

	mts_diag_init(&d);
	buf = slurp(file, &len);
	wbuf = slurp(expected, &wlen);
	if (buf != NULL && wbuf != NULL) {
		rc = mts_tlsrpt_report_parse(buf, len, 0, &r, &d, NULL);
		want = json_loadb(wbuf, wlen, JSON_REJECT_DUPLICATES, &jerr);
	}
	if (rc == 0) {
		got = report_json(&r, &d);
		mts_tlsrpt_report_reset(&r);
	}
	if (!tap_ok(got != NULL && want != NULL && json_equal(got, want),
	            "RPT-JSON-3 (137): report_json of %s is %s", file,
	            expected) &&
	    got != NULL) {
		text = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
		tap_diag("got %s", text != NULL ? text : "?");
		free(text);
	}
	json_decref(got);
	json_decref(want);
	mts_diag_reset(&d);
	free(buf);
	free(wbuf);
}

/* The member names of RFC 8460 §4.4, whatever the sender wrote. */
static void
check_json_names(void)
{
	char *json = dq(REPORT(
	    ORG RANGE_OF("2016-04-01T02:00:00+02:00", "2016-04-01T23:59:59")
		RID POLICIES(POLICY("'policy-type':'sts','mx-host':"
	                            "'mx.example.com'"))));
	struct mts_tlsrpt_report r;
	struct mts_diag d;
	json_t *j = NULL, *pol, *dev;
	int rc;

	mts_diag_init(&d);
	rc = mts_tlsrpt_report_parse(json, strlen(json), 0, &r, &d, NULL);
	if (rc == 0) {
		j = report_json(&r, &d);
		mts_tlsrpt_report_reset(&r);
	}
	pol = json_object_get(json_array_get(json_object_get(j, "policies"), 0),
	                      "policy");
	dev = json_object_get(j, "deviations");
	tap_ok(
	    j != NULL && json_is_null(json_object_get(j, "contact-info")) &&
		json_is_null(json_object_get(pol, "policy-domain")) &&
		json_is_array(json_object_get(pol, "mx-host")) &&
		json_array_size(json_object_get(pol, "policy-string")) == 0 &&
		tap_streq(json_string_value(
			      json_object_get(json_object_get(j, "date-range"),
	                                      "start-datetime")),
	                  "2016-04-01T00:00:00Z") &&
		json_array_size(dev) == 4 &&
		json_object_size(json_array_get(dev, 0)) == 2 &&
		json_is_string(
		    json_object_get(json_array_get(dev, 0), "code")) &&
		json_is_string(
		    json_object_get(json_array_get(dev, 0), "message")),
	    "RPT-JSON-2 (136) T1, RPT-JSON-15 (149) T1: all five members, "
	    "null for the absent, mx-host an array, UTC dates, 4 deviations");
	json_decref(j);
	mts_diag_reset(&d);
	free(json);
}

/* ---- out of memory ---- */

#ifdef TEST_WRAP_ALLOC
/* Parses with the library's fail_at-th allocation or jansson's
 * jfail_at-th failing; true when that is MTS_ERR_NOMEM with nothing
 * left allocated and out untouched. */
static bool
parse_fails_cleanly(const char *buf, size_t len, unsigned fail_at,
                    unsigned jfail_at, bool cb)
{
	struct mts_tlsrpt_report r;
	struct mts_err e;
	int rc;

	memset(&r, 0xA5, sizeof(r));
	heap_begin(fail_at, jfail_at);
	rc = cb ? parse_cb_step(buf, len, 4096, 0, &r, NULL, &e) :
		  mts_tlsrpt_report_parse(buf, len, 0, &r, NULL, &e);
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	heap.on = false;
	if (rc == 0 || e.code != MTS_ERR_NOMEM || heap.live != 0 ||
	    !untouched(&r, sizeof(r))) {
		tap_diag("allocation %u (jansson's %u): rc %d, %s, %ld blocks "
		         "left",
		         fail_at, jfail_at, rc, mts_strerror(e.code),
		         heap.live);
		return false;
	}
	return true;
}

/*
 * Every allocation of the library's in a parse of `file` failed in turn;
 * and jansson's first, of the report and (`inner`) of the JSON array
 * inside a tlsa policy-string.  The diag is NULL: a finding it has no
 * room for is dropped, not a failure.
 */
static void
check_oom_file(const char *file, bool cb, bool inner)
{
	struct mts_tlsrpt_report r;
	json_error_t jerr;
	json_t *j;
	char *buf;
	size_t len;
	unsigned i, n, jn;
	bool ok;
	int rc;

	if ((buf = slurp(file, &len)) == NULL) {
		tap_ok(false, "oom: %s cannot be read", file);
		return;
	}
	heap_begin(0, 0);
	rc = cb ? parse_cb_step(buf, len, 4096, 0, &r, NULL, NULL) :
		  mts_tlsrpt_report_parse(buf, len, 0, &r, NULL, NULL);
	if (rc == 0)
		mts_tlsrpt_report_reset(&r);
	heap.on = false;
	n = heap.calls;
	ok = rc == 0 && heap.live == 0;
	for (i = 1; ok && i <= n; i++)
		ok = parse_fails_cleanly(buf, len, i, 0, cb);
	tap_ok(ok && n > 10, "oom: %s%s fails at each of its %u allocations",
	       cb ? "parse_cb of " : "", file, n);
	tap_ok(parse_fails_cleanly(buf, len, 0, 1, cb),
	       "oom: %s%s fails at jansson's first allocation",
	       cb ? "parse_cb of " : "", file);
	if (inner) {
		/* jansson's allocations of the report itself, then the
		 * tlsa string's JSON array's first. */
		heap_begin(0, 0);
		j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
		json_decref(j);
		heap.on = false;
		jn = heap.jcalls;
		tap_ok(j != NULL &&
		           parse_fails_cleanly(buf, len, 0, jn + 1, cb),
		       "oom: %s fails at the first allocation of its tlsa "
		       "string's array",
		       file);
	}
	free(buf);
}

/* report_json: every allocation (all jansson's) failed in turn. */
static void
check_oom_json(const char *file)
{
	struct mts_tlsrpt_report r;
	struct mts_diag d;
	json_t *j;
	char *buf;
	size_t len;
	unsigned i, n;
	bool ok = true;

	mts_diag_init(&d);
	if ((buf = slurp(file, &len)) == NULL ||
	    mts_tlsrpt_report_parse(buf, len, 0, &r, &d, NULL) != 0) {
		tap_ok(false, "oom: %s", file);
		free(buf);
		return;
	}
	heap_begin(0, 0);
	j = report_json(&r, &d);
	json_decref(j);
	heap.on = false;
	n = heap.jcalls;
	ok = j != NULL && heap.live == 0 && heap.calls == 0;
	for (i = 1; ok && i <= n; i++) {
		heap_begin(0, i);
		j = report_json(&r, &d);
		json_decref(j);
		heap.on = false;
		ok = j == NULL && heap.live == 0;
		if (!ok)
			tap_diag("allocation %u of %u", i, n);
	}
	tap_ok(ok && n > 20,
	       "oom: report_json of %s fails at each of its %u allocations",
	       file, n);
	mts_tlsrpt_report_reset(&r);
	mts_diag_reset(&d);
	free(buf);
}
#endif

static void
check_oom(void)
{
#ifdef TEST_WRAP_ALLOC
	json_set_alloc_funcs(jansson_malloc, jansson_free);
	check_oom_file("rfc8460-example-mxhost-string.json", false, false);
	check_oom_file("microsoft-sts-tlsa-2025.json", false, true);
	check_oom_file("mailru-sts-policy-fetch-error-2024.json", false, false);
	check_oom_file("microsoft-sts-tlsa-2025.json", true, true);
	check_oom_json("rfc8460-example-mxhost-string.json");
	check_oom_json("microsoft-sts-tlsa-2025.json");
	json_set_alloc_funcs(malloc, free);
#else
	tap_skip("oom: the parser", "no ld --wrap");
	tap_skip("oom: report_json", "no ld --wrap");
#endif
}

int
main(void)
{
	size_t i;

	check_samples();
	for (i = 0; i < NCASES; i++)
		check_case(&cases[i]);
	check_caps();
	check_reader();
	check_messages_ascii();
	check_golden("rfc8460-example-mxhost-string.json",
	             "rfc8460-example-mxhost-string.expected.json");
	check_golden("microsoft-sts-tlsa-2025.json",
	             "microsoft-sts-tlsa-2025.expected.json");
	check_golden("mailru-sts-policy-fetch-error-2024.json",
	             "mailru-sts-policy-fetch-error-2024.expected.json");
	check_json_names();
	check_oom();
	return tap_done();
}
