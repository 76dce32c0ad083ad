/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the _smtp._tls TXT record (RFC 8460 §3): the
 * parser with its RFC 3986 URI checks, the candidate filter, the RRset
 * selection and the query name.  Besides memory errors and leaks (ASan)
 * and undefined behaviour (UBSan), it aborts when an invariant breaks:
 * - the verdict and the destinations do not depend on the diag;
 * - a valid record holds 1..MTS_TLSRPT_RUA_MAX distinct destinations,
 *   each a mailto: or https: URI (its scheme matching the enum) that
 *   occurs in the input and holds no "!", ",", ";", WSP or CTL;
 * - a valid record is a candidate with no error finding;
 * - an invalid record leaves out untouched and sets err;
 * - reset frees everything (ASan's leak check) and zeroes the record.
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

/* Case-insensitive prefix test of an ASCII scheme. */
static int
has_scheme(const char *uri, const char *scheme)
{
	size_t i;

	for (i = 0; scheme[i] != '\0'; i++) {
		char c = uri[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != scheme[i])
			return 0;
	}
	return 1;
}

static void
check_rua(const struct mts_tlsrpt_rua *rua, const char *txt, size_t size)
{
	size_t i, n = strlen(rua->uri);

	CHECK(contains(txt, size, rua->uri, n));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)rua->uri[i];

		CHECK(c > 0x20 && c < 0x7f && c != '!' && c != ',' && c != ';');
	}
	if (rua->scheme == MTS_TLSRPT_MAILTO)
		CHECK(has_scheme(rua->uri, "mailto:"));
	else
		CHECK(rua->scheme == MTS_TLSRPT_HTTPS &&
		      has_scheme(rua->uri, "https://"));
}

static void
check_valid(const struct mts_tlsrpt_record *rec,
            const struct mts_tlsrpt_record *rec2, const char *txt, size_t size)
{
	size_t i, j;

	CHECK(rec->rua_count >= 1 && rec->rua_count <= MTS_TLSRPT_RUA_MAX);
	CHECK(rec2->rua_count == rec->rua_count);
	for (i = 0; i < rec->rua_count; i++) {
		check_rua(&rec->rua[i], txt, size);
		CHECK(strcmp(rec->rua[i].uri, rec2->rua[i].uri) == 0);
		for (j = 0; j < i; j++)
			CHECK(strcmp(rec->rua[i].uri, rec->rua[j].uri) != 0);
	}
	CHECK(mts_tlsrpt_record_is_candidate(txt, size));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *txt = (const char *)data;
	const char *txts[1] = {txt};
	struct mts_tlsrpt_record rec = {0}, rec2 = {0};
	struct mts_diag diag;
	struct mts_err err;
	size_t lens[1] = {size}, index;
	int rc, rc2;

	mts_diag_init(&diag);
	rc = mts_tlsrpt_record_parse(txt, size, &rec, &diag, &err);
	rc2 = mts_tlsrpt_record_parse(txt, size, &rec2, NULL, NULL);
	CHECK(rc == rc2);
	if (rc == 0) {
		check_valid(&rec, &rec2, txt, size);
		CHECK(mts_diag_count(&diag, MTS_SEV_ERROR) == 0);
	} else {
		CHECK(rec.rua == NULL && rec.rua_count == 0);
		CHECK(rec2.rua == NULL && rec2.rua_count == 0);
		CHECK(err.code != MTS_OK && err.msg != NULL);
		CHECK(err.code == MTS_ERR_NOMEM ||
		      mts_diag_count(&diag, MTS_SEV_ERROR) >= 1);
	}
	mts_tlsrpt_record_reset(&rec);
	mts_tlsrpt_record_reset(&rec2);
	CHECK(rec.rua == NULL && rec.rua_count == 0);
	mts_diag_reset(&diag);

	CHECK((mts_tlsrpt_record_select(txts, lens, 1, &index, NULL) == 0) ==
	      mts_tlsrpt_record_is_candidate(txt, size));
	return 0;
}
