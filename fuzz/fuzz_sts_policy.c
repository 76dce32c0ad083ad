/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the MTA-STS policy body (RFC 8461 §3.2): the
 * parser with and without a diag, the formatter and the §4.1 matcher,
 * fed the same bytes.  Besides memory errors and leaks (ASan) and
 * undefined behaviour (UBSan), it aborts when an invariant breaks:
 * - the verdict and the policy do not depend on whether a diag is passed;
 * - a valid policy has a known mode, max_age <= 31557600, an mx pattern
 *   when the mode is not none, only patterns that pass
 *   mts_sts_match_pattern_check(), and no error finding;
 * - every pattern covers a host built from it ("*" made a label), so
 *   mts_sts_policy_check_mx() allows that host;
 * - format() gives a body that parses back to the same policy, with no
 *   finding about the body's form (line ends, blank lines, duplicate or
 *   unknown keys, the max_age range): it writes only what the grammar
 *   wants;
 * - an invalid policy leaves out untouched, sets err, and has at least one
 *   error finding, on a line that exists in the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/mtasts.h>

#include "fuzz.h"

static bool
same_policy(const struct mts_sts_policy *a, const struct mts_sts_policy *b)
{
	size_t i;

	if (a->mode != b->mode || a->max_age != b->max_age ||
	    a->mx_count != b->mx_count)
		return false;
	for (i = 0; i < a->mx_count; i++)
		if (strcmp(a->mx[i], b->mx[i]) != 0)
			return false;
	return true;
}

/* Lines in the input: line ends (LF, CRLF or bare CR) plus one. */
static unsigned
count_lines(const char *body, size_t size)
{
	unsigned n = 1;
	size_t i;

	for (i = 0; i < size; i++)
		if (body[i] == '\n' ||
		    (body[i] == '\r' && (i + 1 == size || body[i + 1] != '\n')))
			n++;
	return n;
}

static void
check_findings(const struct mts_diag *diag, unsigned lines)
{
	size_t i;

	for (i = 0; i < diag->count; i++) {
		const struct mts_finding *f = &diag->items[i];

		CHECK(mts_diag_rule_find(f->code) != NULL);
		CHECK(strncmp(f->code, "policy-", 7) == 0);
		CHECK(memchr(f->message, '\0', sizeof(f->message)) != NULL);
		CHECK(f->advice != NULL && f->line <= lines);
	}
}

/* Each pattern covers a host made from it: "*.d" covers "a.d". */
static void
check_patterns(const struct mts_sts_policy *p)
{
	char host[MTS_DNAME_MAX + 2];
	size_t i, n;

	for (i = 0; i < p->mx_count; i++) {
		CHECK(mts_sts_match_pattern_check(p->mx[i], NULL) == 0);
		n = strlen(p->mx[i]);
		CHECK(n <= MTS_DNAME_MAX + 2);
		memcpy(host, p->mx[i], n + 1);
		if (host[0] == '*')
			host[0] = 'a';
		CHECK(mts_sts_match(p->mx[i], host));
		CHECK(mts_sts_policy_match(p, host));
		CHECK(mts_sts_policy_check_mx(p, host) == MTS_STS_MX_ALLOWED);
	}
}

static bool
has_code(const struct mts_diag *diag, const char *code)
{
	size_t i;

	for (i = 0; i < diag->count; i++)
		if (strcmp(diag->items[i].code, code) == 0)
			return true;
	return false;
}

/* format() output parses back to the same policy, without warnings. */
static void
check_round_trip(const struct mts_sts_policy *p)
{
	struct mts_sts_policy q;
	struct mts_diag diag;
	char *text;

	if ((text = mts_sts_policy_format(p, NULL)) == NULL)
		return; /* only for lack of memory: p is valid */
	mts_diag_init(&diag);
	memset(&q, 0, sizeof(q));
	CHECK(mts_sts_policy_parse(text, strlen(text), &q, &diag, NULL) == 0);
	CHECK(same_policy(p, &q));
	CHECK(mts_diag_count(&diag, MTS_SEV_ERROR) == 0);
	CHECK(!has_code(&diag, "policy-mixed-line-ends"));
	CHECK(!has_code(&diag, "policy-trailing-blank-lines"));
	CHECK(!has_code(&diag, "policy-duplicate-key"));
	CHECK(!has_code(&diag, "policy-key-case"));
	CHECK(!has_code(&diag, "policy-extension"));
	CHECK(!has_code(&diag, "policy-max-age-range"));
	mts_sts_policy_reset(&q);
	mts_diag_reset(&diag);
	free(text);
}

static void
check_valid(const struct mts_sts_policy *p, const struct mts_diag *diag)
{
	CHECK((unsigned)p->mode <= MTS_STS_MODE_ENFORCE);
	CHECK(p->max_age <= MTS_STS_MAX_AGE_MAX);
	CHECK(p->mode == MTS_STS_MODE_NONE || p->mx_count >= 1);
	CHECK(p->mx_count == 0 || p->mx != NULL);
	CHECK(mts_diag_count(diag, MTS_SEV_ERROR) == 0);
	check_patterns(p);
	check_round_trip(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct mts_sts_policy p, p2, sentinel;
	struct mts_diag diag;
	struct mts_err err;
	int rc, rc2;

	memset(&sentinel, 0x5A, sizeof(sentinel));
	p = p2 = sentinel;
	mts_diag_init(&diag);
	rc = mts_sts_policy_parse(body, size, &p, &diag, &err);
	rc2 = mts_sts_policy_parse(body, size, &p2, NULL, NULL);
	CHECK(rc == rc2);
	check_findings(&diag, count_lines(body, size));
	if (rc == 0) {
		CHECK(same_policy(&p, &p2));
		check_valid(&p, &diag);
		mts_sts_policy_reset(&p);
		mts_sts_policy_reset(&p2);
	} else {
		CHECK(memcmp(&p, &sentinel, sizeof(p)) == 0);
		CHECK(memcmp(&p2, &sentinel, sizeof(p2)) == 0);
		CHECK(err.code != MTS_OK && err.msg != NULL);
		CHECK(err.line <= count_lines(body, size));
		CHECK(err.code == MTS_ERR_NOMEM ||
		      mts_diag_count(&diag, MTS_SEV_ERROR) >= 1);
	}
	mts_diag_reset(&diag);
	return 0;
}
