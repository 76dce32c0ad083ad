/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the _mta-sts TXT record (RFC 8461 §3.1): the
 * parser, the candidate filter, the RRset selection, the discovery
 * decision and the query name, fed the same bytes.  Besides memory
 * errors (ASan) and undefined behaviour (UBSan), it aborts when an
 * invariant breaks:
 * - the verdict does not depend on whether a diag is passed;
 * - a valid record yields a NUL-terminated id that is an sts-id, occurs
 *   in the input, and the record is a candidate with no error finding;
 * - an invalid record leaves out untouched, sets err and has at least one
 *   error finding, and its column lies within the input;
 * - discovery agrees with the parser: a valid record is fetched, an
 *   invalid one falls back to the fresh cache;
 * - a query name, when one is made, is "_mta-sts." plus a lower-case
 *   name of at most 253 octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/mtasts.h>

#include "fuzz.h"

/* True when needle[0..nlen) occurs in hay[0..hlen). */
static int
contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	size_t i;

	for (i = 0; nlen <= hlen && i <= hlen - nlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return 1;
	return 0;
}

static void
check_findings(const struct mts_diag *diag)
{
	size_t i;

	for (i = 0; i < diag->count; i++) {
		const struct mts_finding *f = &diag->items[i];

		CHECK(mts_diag_rule_find(f->code) != NULL);
		CHECK(memchr(f->message, '\0', sizeof(f->message)) != NULL);
		CHECK(f->advice != NULL && f->line == 0);
	}
}

static void
check_parse(const char *txt, size_t size)
{
	struct mts_sts_record rec, rec2, sentinel;
	struct mts_diag diag;
	struct mts_err err;
	size_t n;
	int rc, rc2;

	memset(&sentinel, 0x5A, sizeof(sentinel));
	rec = rec2 = sentinel;
	mts_diag_init(&diag);
	rc = mts_sts_record_parse(txt, size, &rec, &diag, &err);
	rc2 = mts_sts_record_parse(txt, size, &rec2, NULL, NULL);
	CHECK(rc == rc2);
	check_findings(&diag);
	if (rc == 0) {
		n = strnlen(rec.id, sizeof(rec.id));
		CHECK(n < sizeof(rec.id) && mts_sts_id_valid(rec.id, n));
		CHECK(strcmp(rec.id, rec2.id) == 0);
		CHECK(contains(txt, size, rec.id, n));
		CHECK(mts_sts_record_is_candidate(txt, size));
		CHECK(mts_diag_count(&diag, MTS_SEV_ERROR) == 0);
	} else {
		CHECK(memcmp(&rec, &sentinel, sizeof(rec)) == 0);
		CHECK(memcmp(&rec2, &sentinel, sizeof(rec2)) == 0);
		CHECK(err.code != MTS_OK && err.msg != NULL && err.line == 0);
		CHECK(err.column <= size + 1);
		CHECK(mts_diag_count(&diag, MTS_SEV_ERROR) >= 1);
	}
	mts_diag_reset(&diag);
}

/* One-record RRset: selection follows the filter, discovery the parse. */
static void
check_discover(const char *txt, size_t size)
{
	const char *txts[2] = {txt, txt};
	size_t lens[2] = {size, size}, index = 7;
	struct mts_sts_record rec;
	struct mts_sts_cached cached = {"cachedid", 1000, 86400};
	struct mts_sts_discovery out;
	bool cand = mts_sts_record_is_candidate(txt, size);
	int valid;

	CHECK((mts_sts_record_select(txts, lens, 1, &index, NULL) == 0) ==
	      cand);
	CHECK(!cand || index == 0);
	/* The same record twice is never one record (§3.1). */
	CHECK(mts_sts_record_select(txts, lens, 2, NULL, NULL) == -1);
	valid = mts_sts_record_parse(txt, size, &rec, NULL, NULL) == 0;
	mts_sts_discover(MTS_DNS_OK, txts, lens, 1, &cached, 2000, &out);
	if (valid && cand)
		CHECK(strcmp(out.id, rec.id) == 0 && out.record_err == MTS_OK &&
		      out.action ==
		          (strcmp(rec.id, "cachedid") == 0 ? MTS_STS_USE_CACHE :
		                                             MTS_STS_FETCH));
	else
		CHECK(out.action == MTS_STS_USE_CACHE && out.id[0] == '\0' &&
		      out.record_err != MTS_OK);
}

static void
check_qname(const char *txt, size_t size)
{
	char *domain, buf[300];
	size_t i, n;

	if ((domain = malloc(size + 1)) == NULL)
		return;
	memcpy(domain, txt, size);
	domain[size] = '\0';
	if (mts_sts_record_qname(domain, buf, sizeof(buf), NULL) == 0) {
		n = strlen(buf);
		CHECK(n <= MTS_DNAME_MAX && strncmp(buf, "_mta-sts.", 9) == 0);
		for (i = 0; i < n; i++)
			CHECK(!(buf[i] >= 'A' && buf[i] <= 'Z'));
		CHECK(buf[n - 1] != '.');
	}
	free(domain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *txt = (const char *)data;

	check_parse(txt, size);
	check_discover(txt, size);
	check_qname(txt, size);
	return 0;
}
