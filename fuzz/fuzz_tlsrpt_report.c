/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the TLS-RPT aggregate report parser (RFC 8460
 * §4): mts_tlsrpt_report_parse() and _parse_cb(), lenient and strict.
 * Besides memory errors and leaks (ASan) and undefined behaviour
 * (UBSan), it aborts when an invariant breaks:
 * - the verdict does not depend on the diag or err;
 * - the reader, giving 1 to 8 octets a call as the input says, yields
 *   the verdict, error and report of the buffer;
 * - strict accepts a report only when lenient does, with no deviation,
 *   into the same report; lenient accepts without a warning only what
 *   strict accepts;
 * - a report holds what the header promises: its identity and types
 *   set, lists whose counts match their pointers, every count and total
 *   at most INT64_MAX with the totals the sums of the policies', end not
 *   before start, caps kept, no error finding;
 * - a refusal leaves out untouched, sets err and (but for running out
 *   of memory) has an error finding;
 * - every finding's message is printable ASCII;
 * - reset frees everything (ASan's leak check) and zeroes the report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/mtasts.h>

#include "fuzz.h"

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
same_list(char *const *a, size_t an, char *const *b, size_t bn)
{
	size_t i;

	if (an != bn)
		return false;
	for (i = 0; i < an; i++)
		if (!same_str(a[i], b[i]))
			return false;
	return true;
}

static bool
same_failure(const struct mts_tlsrpt_failure *a,
             const struct mts_tlsrpt_failure *b)
{
	return same_str(a->result_type, b->result_type) &&
	    same_str(a->sending_mta_ip, b->sending_mta_ip) &&
	    same_str(a->receiving_mx_hostname, b->receiving_mx_hostname) &&
	    same_str(a->receiving_mx_helo, b->receiving_mx_helo) &&
	    same_str(a->receiving_ip, b->receiving_ip) &&
	    same_str(a->additional_information, b->additional_information) &&
	    same_str(a->failure_reason_code, b->failure_reason_code) &&
	    a->failed_session_count == b->failed_session_count;
}

static bool
same_policy(const struct mts_tlsrpt_policy *a,
            const struct mts_tlsrpt_policy *b)
{
	size_t i;

	if (!same_str(a->policy_type, b->policy_type) ||
	    !same_str(a->policy_domain, b->policy_domain) ||
	    !same_list(a->policy_strings, a->policy_string_count,
	               b->policy_strings, b->policy_string_count) ||
	    !same_list(a->mx_hosts, a->mx_host_count, b->mx_hosts,
	               b->mx_host_count) ||
	    a->successful != b->successful || a->failed != b->failed ||
	    a->failure_count != b->failure_count)
		return false;
	for (i = 0; i < a->failure_count; i++)
		if (!same_failure(&a->failures[i], &b->failures[i]))
			return false;
	return true;
}

static bool
same_report(const struct mts_tlsrpt_report *a,
            const struct mts_tlsrpt_report *b)
{
	size_t i;

	if (!same_str(a->organization_name, b->organization_name) ||
	    !same_str(a->report_id, b->report_id) ||
	    !same_str(a->contact_info, b->contact_info) ||
	    a->start != b->start || a->end != b->end ||
	    a->policy_count != b->policy_count ||
	    a->total_successful != b->total_successful ||
	    a->total_failed != b->total_failed)
		return false;
	for (i = 0; i < a->policy_count; i++)
		if (!same_policy(&a->policies[i], &b->policies[i]))
			return false;
	return true;
}

/* A list: count and pointer agree, every item set and within the cap. */
static size_t
check_list(char *const *list, size_t n)
{
	size_t i;

	CHECK((n == 0) == (list == NULL));
	for (i = 0; i < n; i++)
		CHECK(list[i] != NULL &&
		      strlen(list[i]) <= MTS_TLSRPT_FIELD_MAX);
	return n;
}

static void
check_valid(const struct mts_tlsrpt_report *r)
{
	uint64_t succ = 0, fail = 0;
	size_t i, j, strings = 0, details = 0;

	CHECK(r->organization_name != NULL && r->organization_name[0] != 0);
	CHECK(r->report_id != NULL && r->report_id[0] != '\0');
	CHECK(r->contact_info == NULL || r->contact_info[0] != '\0');
	CHECK(r->end >= r->start);
	CHECK(r->policy_count >= 1 &&
	      r->policy_count <= MTS_TLSRPT_POLICIES_MAX);
	for (i = 0; i < r->policy_count; i++) {
		const struct mts_tlsrpt_policy *p = &r->policies[i];

		CHECK(same_str(p->policy_type, "sts") ||
		      same_str(p->policy_type, "tlsa") ||
		      same_str(p->policy_type, "no-policy-found"));
		strings +=
		    check_list(p->policy_strings, p->policy_string_count);
		strings += check_list(p->mx_hosts, p->mx_host_count);
		CHECK(p->successful <= INT64_MAX && p->failed <= INT64_MAX);
		CHECK((p->failure_count == 0) == (p->failures == NULL));
		for (j = 0; j < p->failure_count; j++) {
			CHECK(p->failures[j].result_type != NULL &&
			      p->failures[j].result_type[0] != '\0');
			CHECK(p->failures[j].failed_session_count <= INT64_MAX);
		}
		details += p->failure_count;
		succ += p->successful;
		fail += p->failed;
		CHECK(succ <= INT64_MAX && fail <= INT64_MAX);
	}
	CHECK(strings <= MTS_TLSRPT_STRINGS_MAX);
	CHECK(details <= MTS_TLSRPT_DETAILS_MAX);
	CHECK(r->total_successful == succ && r->total_failed == fail);
}

static void
check_messages(const struct mts_diag *d)
{
	const unsigned char *c;
	size_t i;

	for (i = 0; i < d->count; i++)
		for (c = (const unsigned char *)d->items[i].message; *c != 0;
		     c++)
			CHECK(*c >= 0x20 && *c < 0x7f);
}

/* The input through a reader, in chunks of 1 to 8 octets, the sizes
 * taken from the input's own octets. */
struct chunks {
	const uint8_t *data;
	size_t size, pos;
	bool ended;
};

static size_t
chunk_read(void *buf, size_t size, void *ctx)
{
	struct chunks *c = ctx;
	size_t n;

	CHECK(!c->ended); /* never called after the end */
	if (c->pos == c->size) {
		c->ended = true;
		return 0;
	}
	n = (size_t)(c->data[c->pos] & 7) + 1;
	if (n > c->size - c->pos)
		n = c->size - c->pos;
	if (n > size)
		n = size;
	memcpy(buf, c->data + c->pos, n);
	c->pos += n;
	return n;
}

static bool
untouched(const struct mts_tlsrpt_report *r)
{
	const unsigned char *c = (const unsigned char *)r;
	size_t i;

	for (i = 0; i < sizeof(*r); i++)
		if (c[i] != 0x5A)
			return false;
	return true;
}

/* One mode: buffer with and without diag, and the reader. */
static int
parse_mode(const uint8_t *data, size_t size, unsigned flags,
           struct mts_tlsrpt_report *r, struct mts_diag *d)
{
	struct mts_tlsrpt_report r2, r3;
	struct mts_err err, err3;
	struct chunks c = {data, size, 0, false};
	int rc, rc2, rc3;

	memset(r, 0x5A, sizeof(*r));
	memset(&r2, 0x5A, sizeof(r2));
	memset(&r3, 0x5A, sizeof(r3));
	rc = mts_tlsrpt_report_parse((const char *)data, size, flags, r, d,
	                             &err);
	rc2 = mts_tlsrpt_report_parse((const char *)data, size, flags, &r2,
	                              NULL, NULL);
	rc3 =
	    mts_tlsrpt_report_parse_cb(chunk_read, &c, flags, &r3, NULL, &err3);
	CHECK(rc == rc2 && rc == rc3);
	check_messages(d);
	if (rc == 0) {
		check_valid(r);
		CHECK(same_report(r, &r2) && same_report(r, &r3));
		CHECK(mts_diag_count(d, MTS_SEV_ERROR) == 0);
		mts_tlsrpt_report_reset(&r2);
		mts_tlsrpt_report_reset(&r3);
	} else {
		CHECK(untouched(r) && untouched(&r2) && untouched(&r3));
		CHECK(err.code != MTS_OK && err.msg != NULL);
		CHECK(err.code == err3.code);
		CHECK(err.code == MTS_ERR_NOMEM ||
		      mts_diag_count(d, MTS_SEV_ERROR) >= 1);
	}
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mts_tlsrpt_report lenient, strict;
	struct mts_diag dl, ds;
	int rl, rs;

	mts_diag_init(&dl);
	mts_diag_init(&ds);
	rl = parse_mode(data, size, 0, &lenient, &dl);
	rs = parse_mode(data, size, MTS_TLSRPT_STRICT, &strict, &ds);
	if (rs == 0) {
		CHECK(rl == 0 && same_report(&lenient, &strict));
		CHECK(mts_diag_count(&ds, MTS_SEV_WARNING) == 0);
		CHECK(mts_diag_count(&dl, MTS_SEV_WARNING) == 0);
	}
	if (rl == 0 && mts_diag_count(&dl, MTS_SEV_WARNING) == 0)
		CHECK(rs == 0);
	if (rl == 0) {
		mts_tlsrpt_report_reset(&lenient);
		CHECK(lenient.policies == NULL && lenient.policy_count == 0 &&
		      lenient.organization_name == NULL);
	}
	if (rs == 0)
		mts_tlsrpt_report_reset(&strict);
	mts_diag_reset(&dl);
	mts_diag_reset(&ds);
	return 0;
}
