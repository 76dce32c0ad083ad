/* SPDX-License-Identifier: ISC */
/*
 * The normalised TLS-RPT report as JSON (report_json.h): the member
 * names of RFC 8460 §4.4 (RPT-JSON-3), dates in UTC, every list an
 * array (mx-host included, RPT-JSON-15), the totals, and the deviations
 * the parser accepted.  Any allocation that fails fails the whole: the
 * caller gets the complete JSON or NULL.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "report_json.h"

/* Sets o[key] = v (its reference taken); a NULL v fails the whole. */
static void
put(json_t *o, const char *key, json_t *v, bool *bad)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*bad = true;
}

/* Appends v to the array a (its reference taken). */
static void
push(json_t *a, json_t *v, bool *bad)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		*bad = true;
}

/* A string, or null for NULL. */
static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* Sets o[key] when s is not NULL: the optional members of a detail. */
static void
put_optional(json_t *o, const char *key, const char *s, bool *bad)
{
	if (s != NULL)
		put(o, key, json_string(s), bad);
}

/* The counts are at most INT64_MAX (the parser's contract): json_int_t
 * (long long) holds them. */
static json_t *
count_json(uint64_t n)
{
	return json_integer(n > INT64_MAX ? INT64_MAX : (json_int_t)n);
}

/* Days since 1970-01-01 as y-m-d (H. Hinnant's civil_from_days). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Seconds since the epoch as RFC 3339 date-time in UTC, "...Z". */
static json_t *
date_json(int64_t t)
{
	int64_t days = t / 86400, sec = t % 86400, y;
	unsigned m, d;
	char buf[64];

	if (sec < 0) {
		sec += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, sizeof(buf), "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y,
	         m, d, (unsigned)(sec / 3600), (unsigned)(sec / 60 % 60),
	         (unsigned)(sec % 60));
	return json_string(buf);
}

static json_t *
strings_json(char *const *list, size_t n)
{
	json_t *a = json_array();
	bool bad = a == NULL;
	size_t i;

	for (i = 0; !bad && i < n; i++)
		push(a, json_string(list[i]), &bad);
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* One failure-details item, members in the order of RFC 8460 §4.4. */
static json_t *
failure_json(const struct mts_tlsrpt_failure *f)
{
	json_t *o = json_object();
	bool bad = o == NULL;

	if (bad)
		return NULL;
	put(o, "result-type", json_string(f->result_type), &bad);
	put_optional(o, "sending-mta-ip", f->sending_mta_ip, &bad);
	put_optional(o, "receiving-mx-hostname", f->receiving_mx_hostname,
	             &bad);
	put_optional(o, "receiving-mx-helo", f->receiving_mx_helo, &bad);
	put_optional(o, "receiving-ip", f->receiving_ip, &bad);
	put(o, "failed-session-count", count_json(f->failed_session_count),
	    &bad);
	put_optional(o, "additional-information", f->additional_information,
	             &bad);
	put_optional(o, "failure-reason-code", f->failure_reason_code, &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* {"policy": ..., "summary": ..., "failure-details": [...]} */
static json_t *
policy_json(const struct mts_tlsrpt_policy *pol)
{
	json_t *o = json_object(), *desc = json_object(), *sum = json_object();
	json_t *details = json_array();
	bool bad = false;
	size_t i;

	if (o == NULL || desc == NULL || sum == NULL || details == NULL) {
		bad = true;
		goto out;
	}
	put(desc, "policy-type", json_string(pol->policy_type), &bad);
	put(desc, "policy-string",
	    strings_json(pol->policy_strings, pol->policy_string_count), &bad);
	put(desc, "policy-domain", str_or_null(pol->policy_domain), &bad);
	put(desc, "mx-host", strings_json(pol->mx_hosts, pol->mx_host_count),
	    &bad);
	put(sum, "total-successful-session-count", count_json(pol->successful),
	    &bad);
	put(sum, "total-failure-session-count", count_json(pol->failed), &bad);
	for (i = 0; !bad && i < pol->failure_count; i++)
		push(details, failure_json(&pol->failures[i]), &bad);
out:
	/* put() takes each reference, even when it fails. */
	put(o, "policy", desc, &bad);
	put(o, "summary", sum, &bad);
	put(o, "failure-details", details, &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* One deviation: a warning finding of the parse. */
static json_t *
deviation_json(const struct mts_finding *f)
{
	char msg[MTS_FINDING_MSG_SIZE + 48];
	json_t *o = json_object();
	bool bad = o == NULL;

	if (bad)
		return NULL;
	if (f->count > 1)
		snprintf(msg, sizeof(msg), "%s (and %zu more like it)",
		         f->message, f->count - 1);
	else
		snprintf(msg, sizeof(msg), "%s", f->message);
	put(o, "code", json_string(f->code), &bad);
	put(o, "message", json_string(msg), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
deviations_json(const struct mts_diag *diag)
{
	json_t *a = json_array();
	bool bad = a == NULL;
	size_t i;

	for (i = 0; !bad && diag != NULL && i < diag->count; i++)
		if (diag->items[i].severity == MTS_SEV_WARNING)
			push(a, deviation_json(&diag->items[i]), &bad);
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

json_t *
report_json(const struct mts_tlsrpt_report *r, const struct mts_diag *diag)
{
	json_t *o = json_object(), *range = json_object(),
	       *policies = json_array();
	bool bad = o == NULL;
	size_t i;

	if (bad) {
		json_decref(range);
		json_decref(policies);
		return NULL;
	}
	put(o, "organization-name", json_string(r->organization_name), &bad);
	if (range != NULL) {
		put(range, "start-datetime", date_json(r->start), &bad);
		put(range, "end-datetime", date_json(r->end), &bad);
	}
	put(o, "date-range", range, &bad);
	put(o, "contact-info", str_or_null(r->contact_info), &bad);
	put(o, "report-id", json_string(r->report_id), &bad);
	for (i = 0; policies != NULL && !bad && i < r->policy_count; i++)
		push(policies, policy_json(&r->policies[i]), &bad);
	put(o, "policies", policies, &bad);
	put(o, "total-successful-session-count",
	    count_json(r->total_successful), &bad);
	put(o, "total-failure-session-count", count_json(r->total_failed),
	    &bad);
	put(o, "deviations", deviations_json(diag), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
