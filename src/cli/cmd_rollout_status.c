/* SPDX-License-Identifier: ISC */
/*
 * mtasts rollout status: is the policy ready for enforce?  The reports
 * of the domain are read from the store, the policies among them that
 * speak of this policy are kept (RFC 8460 §4.4 policy-string,
 * mts_rollout_policy_shown()), summed by UTC day and judged by
 * mts_rollout_assess(); the failures of the window are listed by type
 * and MX with what to do about each.  The published policy is looked at
 * with mtasts check's engine (DNS, HTTPS, as a sender sees them).
 */
#define _GNU_SOURCE /* asprintf(3) */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <jansson.h>

#include "check.h"
#include "cli.h"
#include "cmd_rollout.h"
#include "facts.h"
#include "rollout_store.h"
#include "store.h"

/* How far back the run is looked for: the longest window, and the lag. */
#define LOOKBACK_DAYS (MTS_ROLLOUT_MIN_DAYS_MAX + MTS_ROLLOUT_LAG_DAYS + 1)
#define SHOWN_CACHE   32

/* ---- reading the reports ---- */

/* A policy-string seen before, and what it showed. */
struct shown_memo {
	char *strings;
	enum mts_rollout_shown shown;
};

/* One counting report of one day, for the reporters of the window. */
struct seen_report {
	int64_t day;
	char *org;
};

struct gather {
	struct rollout *r;
	struct shown_memo memo[SHOWN_CACHE];
	size_t memo_count, memo_next;
	struct mts_rollout_day *days;
	size_t day_count, day_cap;
	struct seen_report *seen;
	size_t seen_count, seen_cap;
	int64_t last_counted; /* report id of the last counted policy */
	int64_t last_other;
	struct rollout_evidence *ev;
	bool nomem;
};

static int64_t
day_of(int64_t t)
{
	int64_t r = t % MTS_ROLLOUT_DAY;

	return t - (r < 0 ? r + MTS_ROLLOUT_DAY : r);
}

/* What a stored policy-string (a JSON array) shows of the policy. */
static enum mts_rollout_shown
shown_of(struct gather *g, const char *strings)
{
	const char **lines = NULL;
	enum mts_rollout_shown shown = MTS_ROLLOUT_SHOWN_OTHER;
	struct shown_memo *m;
	json_t *a, *v;
	size_t i, n;

	for (i = 0; i < g->memo_count; i++)
		if (strcmp(g->memo[i].strings, strings) == 0)
			return g->memo[i].shown;
	a = json_loads(strings, 0, NULL);
	if (a != NULL && json_is_array(a)) {
		n = json_array_size(a);
		if ((lines = calloc(n + 1, sizeof(*lines))) != NULL) {
			json_array_foreach(a, i, v)
			{
				lines[i] = json_is_string(v) ?
				    json_string_value(v) :
				    "";
			}
			shown =
			    mts_rollout_policy_shown(lines, n, &g->r->policy);
			free(lines);
		}
	}
	json_decref(a);
	/* Reports of one reporter repeat their string day after day. */
	m = &g->memo[g->memo_next];
	if (g->memo_count == SHOWN_CACHE)
		free(m->strings);
	else
		g->memo_count++;
	g->memo_next = (g->memo_next + 1) % SHOWN_CACHE;
	if ((m->strings = strdup(strings)) == NULL) {
		/* Drop the slot; the answer stands. */
		g->memo_count--;
		g->memo_next = (g->memo_next + SHOWN_CACHE - 1) % SHOWN_CACHE;
	}
	m->shown = shown;
	return shown;
}

/*
 * The policies that count: sts ones showing this policy or nothing
 * (RFC 8460 §4.4: policy-string is what the sender applied), and tlsa
 * and no-policy-found ones, which have no STS body to compare: their
 * sessions still say whether the MX hosts speak valid TLS.
 */
static bool
counts(struct gather *g, const char *type, const char *strings)
{
	if (strcmp(type, "sts") != 0)
		return true;
	return shown_of(g, strings) != MTS_ROLLOUT_SHOWN_OTHER;
}

static struct mts_rollout_day *
day_slot(struct gather *g, int64_t day)
{
	struct mts_rollout_day *d;
	size_t cap;

	/* Rows come by date: the day is the last one, or a new one. */
	if (g->day_count > 0 && g->days[g->day_count - 1].day == day)
		return &g->days[g->day_count - 1];
	if (g->day_count == g->day_cap) {
		cap = g->day_cap == 0 ? 64 : g->day_cap * 2;
		if ((d = reallocarray(g->days, cap, sizeof(*d))) == NULL)
			return NULL;
		g->days = d;
		g->day_cap = cap;
	}
	d = &g->days[g->day_count++];
	memset(d, 0, sizeof(*d));
	d->day = day;
	return d;
}

static int
add_seen(struct gather *g, int64_t day, const char *org)
{
	struct seen_report *s;
	size_t cap;

	if (g->seen_count == g->seen_cap) {
		cap = g->seen_cap == 0 ? 256 : g->seen_cap * 2;
		if ((s = reallocarray(g->seen, cap, sizeof(*s))) == NULL)
			return -1;
		g->seen = s;
		g->seen_cap = cap;
	}
	if ((g->seen[g->seen_count].org = strdup(org)) == NULL)
		return -1;
	g->seen[g->seen_count++].day = day;
	return 0;
}

static int
on_policy(const struct rollout_policy_row *row, void *ctx)
{
	struct gather *g = ctx;
	struct mts_rollout_day *d;
	int64_t day = day_of(row->range_start);

	if (!counts(g, row->type, row->strings)) {
		if (row->report != g->last_other)
			g->ev->other_reports++;
		g->last_other = row->report;
		g->ev->other_successful += row->successful;
		g->ev->other_failed += row->failed;
		return 0;
	}
	if ((d = day_slot(g, day)) == NULL)
		goto nomem;
	if (row->report != g->last_counted) {
		d->reports++;
		if (add_seen(g, day, row->org) == -1)
			goto nomem;
	}
	g->last_counted = row->report;
	/* Sums past 2^64 do not happen in a year of any domain's reports;
	   saturate rather than wrap if they did. */
	d->successful = d->successful + row->successful < d->successful ?
	    UINT64_MAX :
	    d->successful + row->successful;
	d->failed = d->failed + row->failed < d->failed ?
	    UINT64_MAX :
	    d->failed + row->failed;
	return 0;
nomem:
	g->nomem = true;
	return 1;
}

static int
org_cmp(const void *a, const void *b)
{
	const struct rollout_org *x = a, *y = b;

	if (x->reports != y->reports)
		return x->reports > y->reports ? -1 : 1;
	return strcmp(x->org, y->org);
}

/* The reporters of the window, by reports, most first. */
static int
window_orgs(struct gather *g)
{
	struct rollout_evidence *ev = g->ev;
	struct rollout_org *o;
	size_t i, j;

	if (ev->rd.run_days == 0)
		return 0;
	for (i = 0; i < g->seen_count; i++) {
		if (g->seen[i].day < ev->rd.window_first ||
		    g->seen[i].day > ev->rd.window_last)
			continue;
		for (j = 0; j < ev->org_count; j++)
			if (strcmp(ev->orgs[j].org, g->seen[i].org) == 0)
				break;
		if (j == ev->org_count) {
			o = reallocarray(ev->orgs, j + 1, sizeof(*o));
			if (o == NULL)
				return -1;
			ev->orgs = o;
			if ((o[j].org = strdup(g->seen[i].org)) == NULL)
				return -1;
			o[j].reports = 0;
			ev->org_count++;
		}
		ev->orgs[j].reports++;
	}
	qsort(ev->orgs, ev->org_count, sizeof(*ev->orgs), org_cmp);
	return 0;
}

static bool
same_mx(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

static int
on_failure(const struct rollout_failure_row *row, void *ctx)
{
	struct gather *g = ctx;
	struct rollout_evidence *ev = g->ev;
	int64_t day = day_of(row->range_start);
	struct rollout_fail *f;
	size_t i;

	if (ev->rd.run_days == 0 || !counts(g, row->type, row->strings))
		return 0;
	if (day < ev->rd.window_first) {
		ev->failed_before += row->failed;
		return 0;
	}
	if (day > ev->rd.window_last)
		return 0;
	for (i = 0; i < ev->fail_count; i++)
		if (strcmp(ev->fails[i].result, row->result) == 0 &&
		    same_mx(ev->fails[i].mx, row->mx))
			break;
	if (i == ev->fail_count) {
		if ((f = reallocarray(ev->fails, i + 1, sizeof(*f))) == NULL)
			goto nomem;
		ev->fails = f;
		memset(&f[i], 0, sizeof(f[i]));
		f[i].first = day;
		if ((f[i].result = strdup(row->result)) == NULL ||
		    (row->mx != NULL && (f[i].mx = strdup(row->mx)) == NULL)) {
			free(f[i].result);
			goto nomem;
		}
		ev->fail_count++;
	}
	f = &ev->fails[i];
	f->sessions += row->failed;
	f->last = day;
	return 0;
nomem:
	g->nomem = true;
	return 1;
}

static void
gather_free(struct gather *g)
{
	size_t i;

	for (i = 0; i < g->memo_count; i++)
		free(g->memo[i].strings);
	for (i = 0; i < g->seen_count; i++)
		free(g->seen[i].org);
	free(g->seen);
	free(g->days);
}

int
rollout_gather(struct rollout *r, unsigned min_days,
               struct rollout_evidence *ev)
{
	int64_t since =
	    day_of(r->now) - (int64_t)LOOKBACK_DAYS * MTS_ROLLOUT_DAY;
	char why[STORE_WHY_SIZE];
	struct mts_err err;
	struct gather g;
	int rc;

	memset(ev, 0, sizeof(*ev));
	memset(&g, 0, sizeof(g));
	g.r = r;
	g.ev = ev;
	g.last_counted = g.last_other = -1;
	rc = rollout_store_policies(r->store, r->domain, since, INT64_MAX,
	                            on_policy, &g, why, sizeof(why));
	if (rc == -1 || g.nomem)
		goto fail;
	if (mts_rollout_assess(r->policy.mode, g.days, g.day_count, r->now,
	                       min_days, &ev->rd, &err) != 0) {
		(void)snprintf(why, sizeof(why), "%s", err.msg);
		goto fail;
	}
	if (window_orgs(&g) == -1) {
		g.nomem = true;
		goto fail;
	}
	rc = rollout_store_failures(r->store, r->domain, since, INT64_MAX,
	                            on_failure, &g, why, sizeof(why));
	if (rc == -1 || g.nomem)
		goto fail;
	gather_free(&g);
	return EXIT_VALID;
fail:
	warnx_cli("rollout: reading the reports of %s: %s", r->domain,
	          g.nomem ? "out of memory" : why);
	gather_free(&g);
	rollout_evidence_free(ev);
	return EXIT_ERROR;
}

void
rollout_evidence_free(struct rollout_evidence *ev)
{
	size_t i;

	for (i = 0; i < ev->org_count; i++)
		free(ev->orgs[i].org);
	for (i = 0; i < ev->fail_count; i++) {
		free(ev->fails[i].result);
		free(ev->fails[i].mx);
	}
	free(ev->orgs);
	free(ev->fails);
	memset(ev, 0, sizeof(*ev));
}

/* ---- words for a mail admin ---- */

/* What a result type (RFC 8460 §4.3) asks the admin to do. */
static const char *
failure_hint(const char *result)
{
	static const struct {
		const char *result;
		const char *hint;
	} hints[] = {
	    {"starttls-not-supported",
	     "the MX does not offer STARTTLS to every sender: enable it"},
	    {"certificate-host-mismatch",
	     "the MX's certificate does not name the MX host: add it to the "
	     "certificate's names"},
	    {"certificate-expired", "the MX's certificate expired: renew it"},
	    {"certificate-not-trusted",
	     "senders do not trust the MX's certificate: use one from a public "
	     "CA and send the whole chain"},
	    {"validation-failure",
	     "the MX's certificate failed validation: check the chain with "
	     "mtasts check"},
	    {"sts-policy-fetch-error",
	     "senders could not fetch the policy: check mta-sts.DOMAIN with "
	     "mtasts check"},
	    {"sts-policy-invalid",
	     "senders read the policy as invalid: run "
	     "mtasts lint on it"},
	    {"sts-webpki-invalid",
	     "the policy host's certificate is not valid for senders: renew "
	     "or fix it"},
	    {"tlsa-invalid",
	     "the MX's TLSA records do not match its "
	     "certificate: update them (mtasts tlsa)"},
	    {"dnssec-invalid",
	     "DNSSEC validation of the domain fails: check "
	     "the zone's signatures and DS"},
	    {"dane-required",
	     "DANE was required and failed: check the TLSA "
	     "records"},
	};
	size_t i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(hints[i].result, result) == 0)
			return hints[i].hint;
	return "see the failure details with mtasts report alert";
}

void
rollout_advice(const struct rollout *r, const struct rollout_evidence *ev,
               unsigned min_days, char *buf, size_t size)
{
	const struct mts_rollout_readiness *rd = &ev->rd;
	char first[16], last[16], on[16];
	uint64_t lag;

	rollout_day_text(rd->run_first, first);
	rollout_day_text(rd->run_last, last);
	rollout_day_text(rd->ready_on, on);
	switch (rd->reason) {
	case MTS_ROLLOUT_READY:
		rollout_day_text(rd->window_first, first);
		rollout_day_text(rd->window_last, last);
		(void)snprintf(buf, size,
		               "ready to enforce: %u days of reports without a "
		               "failed session (%s to %s); run mtasts rollout "
		               "promote --policy %s",
		               min_days, first, last, r->o->policy_path);
		return;
	case MTS_ROLLOUT_ALREADY_ENFORCE:
		(void)snprintf(buf, size,
		               "the policy is already in enforce mode: nothing "
		               "to promote");
		return;
	case MTS_ROLLOUT_MODE_NONE:
		(void)
		    snprintf(buf, size,
		             "mode none tells senders to drop the policy: set "
		             "mode: testing, publish it with a new id, and "
		             "collect %u days of clean reports first",
		             min_days);
		return;
	case MTS_ROLLOUT_NO_REPORTS:
		(void)
		    snprintf(buf, size,
		             "no TLS-RPT report of %s for this policy in the "
		             "store: check that _smtp._tls.%s names where "
		             "reports go (mtasts check %s) and that they are "
		             "ingested (mtasts report ingest); ready on %s at "
		             "the earliest",
		             r->domain, r->domain, r->domain, on);
		return;
	case MTS_ROLLOUT_STALE:
		lag = (uint64_t)((day_of(r->now) - rd->run_last) /
		                 MTS_ROLLOUT_DAY);
		(void)snprintf(buf, size,
		               "the newest report is of %s, %" PRIu64
		               " days ago: reports stopped coming; check the "
		               "_smtp._tls record and the ingest (mail pipe, "
		               "IMAP); ready on %s at the earliest",
		               last, lag, on);
		return;
	case MTS_ROLLOUT_TOO_FEW_DAYS:
		(void)snprintf(buf, size,
		               "reports for %u consecutive day%s only (%s to "
		               "%s), %u needed: ready on %s at the earliest if "
		               "they stay clean",
		               rd->run_days, rd->run_days == 1 ? "" : "s",
		               first, last, min_days, on);
		return;
	case MTS_ROLLOUT_FAILURES:
		(void)snprintf(
		    buf, size,
		    "%" PRIu64 " failed session%s in the last %u days "
		    "of reports: fix the causes below; with clean "
		    "reports from then on, ready on %s at the earliest",
		    rd->window_failed, rd->window_failed == 1 ? "" : "s",
		    rd->run_days < min_days ? rd->run_days : min_days, on);
		return;
	}
	(void)snprintf(buf, size, "%s", mts_rollout_reason_name(rd->reason));
}

static void
print_policy_line(const struct rollout *r)
{
	size_t i;

	printf("%s: %s, mode %s, max_age %" PRIu32 ", mx", r->domain,
	       r->o->policy_path, mts_sts_mode_name(r->policy.mode),
	       r->policy.max_age);
	for (i = 0; i < r->policy.mx_count; i++)
		printf(" %s", r->policy.mx[i]);
	printf("\n");
}

void
rollout_print_evidence(const struct rollout *r,
                       const struct rollout_evidence *ev, unsigned min_days)
{
	const struct mts_rollout_readiness *rd = &ev->rd;
	char a[16], b[16], advice[1024];
	size_t i;

	print_policy_line(r);
	if (rd->run_days > 0) {
		rollout_day_text(rd->run_first, a);
		rollout_day_text(rd->run_last, b);
		printf("reports: %u consecutive day%s, %s to %s\n",
		       rd->run_days, rd->run_days == 1 ? "" : "s", a, b);
		rollout_day_text(rd->window_first, a);
		rollout_day_text(rd->window_last, b);
		printf("window %s to %s: %" PRIu64 " reports, %" PRIu64
		       " sessions successful, %" PRIu64 " failed\n",
		       a, b, rd->window_reports, rd->window_successful,
		       rd->window_failed);
	}
	if (ev->org_count > 0) {
		printf("reporters:");
		for (i = 0; i < ev->org_count; i++)
			printf("%s %s (%" PRIu64 ")", i > 0 ? "," : "",
			       ev->orgs[i].org, ev->orgs[i].reports);
		printf("\n");
	}
	for (i = 0; i < ev->fail_count; i++) {
		rollout_day_text(ev->fails[i].first, a);
		rollout_day_text(ev->fails[i].last, b);
		printf("failure: %s at %s: %" PRIu64 " session%s, %s to %s\n"
		       "  %s\n",
		       ev->fails[i].result,
		       ev->fails[i].mx != NULL ? ev->fails[i].mx :
		                                 "(no MX named)",
		       ev->fails[i].sessions,
		       ev->fails[i].sessions == 1 ? "" : "s", a, b,
		       failure_hint(ev->fails[i].result));
	}
	if (ev->failed_before > 0)
		printf("before the window: %" PRIu64 " failed sessions (not "
		       "counted)\n",
		       ev->failed_before);
	if (ev->other_reports > 0)
		printf("not counted: %" PRIu64 " report%s showing another "
		       "policy body (%" PRIu64 " sessions successful, %" PRIu64
		       " failed)\n",
		       ev->other_reports, ev->other_reports == 1 ? "" : "s",
		       ev->other_successful, ev->other_failed);
	rollout_advice(r, ev, min_days, advice, sizeof(advice));
	printf("%s: %s\n",
	       rd->ready                                     ? "READY" :
	           rd->reason == MTS_ROLLOUT_ALREADY_ENFORCE ? "ENFORCED" :
	                                                       "NOT READY",
	       advice);
}

/* ---- what rollout wrote, and the change under way ---- */

struct last_event {
	bool have;
	int64_t at;
	char action[32];
	char id[MTS_STS_ID_MAX + 1];
	char mode[16];
	uint32_t max_age;
};

static int
keep_last(const struct rollout_event *e, void *ctx)
{
	struct last_event *l = ctx;

	l->have = true;
	l->at = e->at;
	(void)snprintf(l->action, sizeof(l->action), "%s", e->action);
	(void)snprintf(l->id, sizeof(l->id), "%s", e->policy_id);
	(void)snprintf(l->mode, sizeof(l->mode), "%s", e->mode);
	l->max_age = e->max_age;
	return 0;
}

/* ---- the published policy ---- */

struct live {
	bool done;
	bool have_id, have_body;
	char id[MTS_STS_ID_MAX + 1];
	bool body_same;
	json_t *problems;
	const struct rollout *r;
	const char *last_issued;    /* "" when rollout issued none */
	struct rollout_mx_seen *mx; /* NULL: not wanted */
};

static void problem(struct live *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct live *l, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0) {
		(void)json_array_append_new(l->problems, json_string(s));
		free(s);
	}
	va_end(ap);
}

/* The first policy any address served with 200. */
static const struct fetch_result *
served(const struct check_facts *f)
{
	size_t i;

	for (i = 0; i < f->fetch_count; i++)
		if (f->fetches[i].r != NULL &&
		    f->fetches[i].r->stage == FETCH_DONE &&
		    f->fetches[i].r->status == 200 &&
		    f->fetches[i].r->body != NULL)
			return f->fetches[i].r;
	return NULL;
}

static int
add_mx_host(struct rollout_mx_seen *m, const char *host)
{
	char **h;

	if ((h = reallocarray(m->hosts, m->count + 1, sizeof(*h))) == NULL)
		return -1;
	m->hosts = h;
	if ((h[m->count] = strdup(host)) == NULL)
		return -1;
	m->count++;
	return 0;
}

/*
 * The MX hosts of the answer; with no MX records, the domain itself
 * (RFC 5321 §5.1, the implicit MX).  A null MX ("." , RFC 7505) is a
 * host no policy covers.
 */
static void
keep_mx(struct rollout_mx_seen *m, const struct check_facts *f,
        const char *domain)
{
	const struct dns_fact *d = &f->mx;
	size_t i;

	if (!d->done || d->nomem) {
		(void)snprintf(m->why, sizeof(m->why), "no answer kept");
		return;
	}
	switch (d->rcode) {
	case MTS_DNS_ANSWER:
		for (i = 0; i < d->count; i++)
			if (add_mx_host(m,
			                d->mx[i].host[0] != '\0' ?
			                    d->mx[i].host :
			                    ".") == -1)
				goto nomem;
		m->known = true;
		return;
	case MTS_DNS_NODATA:
		if (add_mx_host(m, domain) == -1)
			goto nomem;
		m->known = true;
		return;
	case MTS_DNS_NAME_ERROR:
		(void)snprintf(m->why, sizeof(m->why), "%s does not exist",
		               domain);
		return;
	case MTS_DNS_SERVFAIL:
	case MTS_DNS_TIMEOUT:
	case MTS_DNS_ERROR:
		break;
	}
	(void)snprintf(m->why, sizeof(m->why), "%s",
	               d->why != NULL ? d->why : "the lookup failed");
	return;
nomem:
	(void)snprintf(m->why, sizeof(m->why), "out of memory");
	m->known = false;
}

static void
on_check(void *arg, const struct check_report *rep)
{
	struct live *l = arg;
	const struct rollout *r = l->r;
	const struct fetch_result *got;
	struct mts_sts_policy p;

	l->done = true;
	if (l->mx != NULL && rep->facts != NULL)
		keep_mx(l->mx, rep->facts, r->domain);
	if (rep->id != NULL) {
		l->have_id = true;
		(void)snprintf(l->id, sizeof(l->id), "%s", rep->id);
	} else {
		problem(l,
		        "no valid _mta-sts.%s TXT record: publish the "
		        "record",
		        r->domain);
	}
	got = rep->facts != NULL ? served(rep->facts) : NULL;
	if (got == NULL) {
		problem(l,
		        "no policy could be fetched from "
		        "https://mta-sts.%s/.well-known/mta-sts.txt "
		        "(mtasts check %s tells why)",
		        r->domain, r->domain);
	} else {
		memset(&p, 0, sizeof(p));
		l->have_body = true;
		if (mts_sts_policy_parse(got->body, got->body_len, &p, NULL,
		                         NULL) == 0) {
			l->body_same = mts_sts_policy_same(&p, &r->policy);
			mts_sts_policy_reset(&p);
		}
		if (!l->body_same)
			problem(
			    l,
			    "the policy served at https://mta-sts.%s/ differs "
			    "from %s: publish %s (or reload mtasts serve), "
			    "then a record with a new id",
			    r->domain, r->o->policy_path, r->o->policy_path);
	}
	if (l->have_id && l->last_issued[0] != '\0' &&
	    strcmp(l->id, l->last_issued) != 0)
		problem(l,
		        "the _mta-sts record has id %s, but the last policy "
		        "mtasts rollout wrote has id %s: publish the record "
		        "\"v=STSv1; id=%s\" (senders refetch only on a new id, "
		        "RFC 8461 §3.1)",
		        l->id, l->last_issued, l->last_issued);
}

/* Looks at the published record and policy, as mtasts check does. */
static int
look_live(const struct rollout *r, struct live *l)
{
	struct check_options co;
	struct event_base *base;
	struct checker *ck;

	memset(&co, 0, sizeof(co));
	co.resolver = r->o->resolver;
	co.trust_anchor = r->o->trust_anchor;
	co.ca_file = r->o->ca_file;
	co.https_port = r->o->https_port;
	co.no_smtp = true;
	co.concurrency = 1;
	co.now = r->now;
	if ((base = event_base_new()) == NULL)
		return -1;
	if ((ck = checker_new(base, &co, on_check, l)) == NULL) {
		event_base_free(base);
		return -1;
	}
	if (checker_add(ck, r->domain) == 0)
		event_base_dispatch(base);
	checker_free(ck);
	event_base_free(base);
	return l->done ? 0 : -1;
}

int
rollout_look_mx(const struct rollout *r, struct rollout_mx_seen *out)
{
	struct live l;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	l.r = r;
	l.last_issued = "";
	l.mx = out;
	if ((l.problems = json_array()) == NULL)
		return -1;
	rc = look_live(r, &l);
	json_decref(l.problems);
	if (rc != 0 && out->why[0] == '\0')
		(void)snprintf(out->why, sizeof(out->why),
		               "the lookup could not be made");
	return out->known ? 0 : -1;
}

void
rollout_mx_seen_free(struct rollout_mx_seen *m)
{
	size_t i;

	for (i = 0; i < m->count; i++)
		free(m->hosts[i]);
	free(m->hosts);
	memset(m, 0, sizeof(*m));
}

/* ---- status ---- */

static json_t *
day_json(int64_t day)
{
	char buf[16];

	if (day < 0)
		return json_null();
	rollout_day_text(day, buf);
	return json_string(buf);
}

static json_t *
evidence_json(const struct rollout *r, const struct rollout_evidence *ev,
              unsigned min_days)
{
	const struct mts_rollout_readiness *rd = &ev->rd;
	json_t *o, *mx, *orgs, *fails, *f;
	char advice[1024];
	size_t i;

	rollout_advice(r, ev, min_days, advice, sizeof(advice));
	mx = json_array();
	for (i = 0; i < r->policy.mx_count; i++)
		json_array_append_new(mx, json_string(r->policy.mx[i]));
	orgs = json_array();
	for (i = 0; i < ev->org_count; i++)
		json_array_append_new(orgs,
		                      json_pack("{s:s, s:I}", "org",
		                                ev->orgs[i].org, "reports",
		                                (json_int_t)ev->orgs[i]
		                                    .reports));
	fails = json_array();
	for (i = 0; i < ev->fail_count; i++) {
		f = json_pack("{s:s, s:s?, s:I, s:o, s:o}", "result",
		              ev->fails[i].result, "mx", ev->fails[i].mx,
		              "sessions", (json_int_t)ev->fails[i].sessions,
		              "first", day_json(ev->fails[i].first), "last",
		              day_json(ev->fails[i].last));
		json_array_append_new(fails, f);
	}
	o = json_pack(
	    "{s:s, s:s, s:s, s:I, s:o, s:I, s:b, s:s, s:s,"
	    " s:{s:o, s:o, s:I}, s:{s:o, s:o, s:I, s:I, s:I}, s:o, s:o, s:o,"
	    " s:I, s:{s:I, s:I, s:I}}",
	    "domain", r->domain, "policy_file", r->o->policy_path, "mode",
	    mts_sts_mode_name(r->policy.mode), "max_age",
	    (json_int_t)r->policy.max_age, "mx", mx, "min_days",
	    (json_int_t)min_days, "ready", rd->ready, "reason",
	    rollout_reason_key(rd->reason), "advice", advice, "run", "first",
	    day_json(rd->run_days > 0 ? rd->run_first : -1), "last",
	    day_json(rd->run_days > 0 ? rd->run_last : -1), "days",
	    (json_int_t)rd->run_days, "window", "first",
	    day_json(rd->run_days > 0 ? rd->window_first : -1), "last",
	    day_json(rd->run_days > 0 ? rd->window_last : -1), "reports",
	    (json_int_t)rd->window_reports, "successful",
	    (json_int_t)rd->window_successful, "failed",
	    (json_int_t)rd->window_failed, "ready_on", day_json(rd->ready_on),
	    "reporters", orgs, "failures", fails, "failed_before_window",
	    (json_int_t)ev->failed_before, "other_body", "reports",
	    (json_int_t)ev->other_reports, "successful",
	    (json_int_t)ev->other_successful, "failed",
	    (json_int_t)ev->other_failed);
	return o;
}

static json_t *
change_json(const struct rollout_open_change *c, int64_t now)
{
	char started[32], cut[32];

	if (!c->have)
		return json_null();
	rollout_time_iso(c->started, started);
	rollout_time_iso(c->cutover_at, cut);
	return json_pack("{s:s, s:s, s:b, s:O?, s:O?, s:s}", "started", started,
	                 "cutover_at", cut, "cutover_safe",
	                 now >= c->cutover_at, "added", c->added, "removed",
	                 c->removed, "transition_id", c->transition_id);
}

static void
print_change(const struct rollout *r, const struct rollout_open_change *c)
{
	char started[32], cut[32];
	size_t i;
	json_t *v;

	rollout_time_text(c->started, started);
	rollout_time_text(c->cutover_at, cut);
	printf("MX change under way since %s (id %s):", started,
	       c->transition_id);
	json_array_foreach(c->added, i, v) printf(" +%s", json_string_value(v));
	json_array_foreach(c->removed, i, v)
	    printf(" -%s", json_string_value(v));
	printf("\n");
	if (r->now >= c->cutover_at)
		printf("  the DNS MX records may change now (safe since %s); "
		       "after the cut-over: mtasts rollout mx-change --policy "
		       "%s --finish\n",
		       cut, r->o->policy_path);
	else
		printf(
		    "  do not change the DNS MX records before %s (in %" PRId64
		    " h %" PRId64 " min): a sender may still hold a policy "
		    "without the new hosts\n",
		    cut, (c->cutover_at - r->now) / 3600,
		    (c->cutover_at - r->now) % 3600 / 60);
}

int
rollout_status_main(const struct rollout_opts *o)
{
	struct rollout_open_change change;
	struct last_event last;
	struct rollout_evidence ev;
	char why[STORE_WHY_SIZE], at[32];
	struct live live;
	struct rollout r;
	json_t *out;
	int status;

	memset(&change, 0, sizeof(change));
	memset(&last, 0, sizeof(last));
	memset(&live, 0, sizeof(live));
	if ((status = rollout_load(&r, o)) != EXIT_VALID ||
	    (status = rollout_open_store(&r, false)) != EXIT_VALID ||
	    (status = rollout_gather(&r, o->min_days, &ev)) != EXIT_VALID) {
		rollout_free(&r);
		return status;
	}
	if (rollout_store_events(r.store, r.domain, keep_last, &last, why,
	                         sizeof(why)) == -1) {
		warnx_cli("rollout: %s", why);
		status = EXIT_ERROR;
		goto done;
	}
	if ((status = rollout_open_change(&r, &change)) != EXIT_VALID)
		goto done;
	live.r = &r;
	live.last_issued = last.have ? last.id : "";
	live.problems = json_array();
	if (!o->no_fetch && look_live(&r, &live) != 0)
		problem(&live, "the published policy could not be looked at");
	status = ev.rd.ready || ev.rd.reason == MTS_ROLLOUT_ALREADY_ENFORCE ?
	    EXIT_VALID :
	    EXIT_NOT_READY;
	if (o->json) {
		out = evidence_json(&r, &ev, o->min_days);
		json_object_set_new(out, "mx_change",
		                    change_json(&change, r.now));
		rollout_time_iso(last.at, at);
		json_object_set_new(out, "last_change",
		                    last.have ?
		                        json_pack("{s:s, s:s, s:s, s:s, s:I}",
		                                  "at", at, "action",
		                                  last.action, "id", last.id,
		                                  "mode", last.mode, "max_age",
		                                  (json_int_t)last.max_age) :
		                        json_null());
		json_object_set_new(
		    out, "published",
		    o->no_fetch ?
			json_null() :
			json_pack("{s:s?, s:b, s:b, s:O}", "id",
		                  live.have_id ? live.id : NULL, "body_same",
		                  live.body_same, "record_current",
		                  live.have_id &&
		                      (live.last_issued[0] == '\0' ||
		                       strcmp(live.id, live.last_issued) == 0),
		                  "problems", live.problems));
		if (out == NULL || json_dumpf(out, stdout, JSON_COMPACT) != 0 ||
		    putchar('\n') == EOF) {
			warnx_cli("rollout: cannot write the JSON");
			status = EXIT_ERROR;
		}
		json_decref(out);
	} else {
		rollout_print_evidence(&r, &ev, o->min_days);
		if (change.have)
			print_change(&r, &change);
		if (last.have) {
			rollout_time_text(last.at, at);
			printf(
			    "last change by mtasts rollout: %s on %s, id %s\n",
			    last.action, at, last.id);
		}
		if (!o->no_fetch && json_array_size(live.problems) == 0)
			printf("published: the served policy is %s, record id "
			       "%s\n",
			       o->policy_path, live.id);
		for (size_t i = 0; i < json_array_size(live.problems); i++)
			printf("published: %s\n",
			       json_string_value(
				   json_array_get(live.problems, i)));
	}
done:
	json_decref(live.problems);
	rollout_open_change_free(&change);
	rollout_evidence_free(&ev);
	rollout_free(&r);
	return status;
}
