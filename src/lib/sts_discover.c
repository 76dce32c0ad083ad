/* SPDX-License-Identifier: ISC */
/*
 * The sender's decision after the _mta-sts TXT lookup (RFC 8461 §3.1,
 * §3.3, §5.1): apply the cached policy, fetch a new one, or deliver as if
 * the domain had no MTA-STS.  Pure: the DNS outcome, the RRset, the
 * cache entry and the time come in as arguments.
 *
 * The rules, in the order they apply:
 * - §3.1: records not beginning "v=STSv1;" are discarded; if not exactly
 *   one remains, or it is invalid, there is no live policy (STS-TXT-10,
 *   STS-TXT-11).  A DNS error is no live policy either (§3.3,
 *   STS-TXT-13 T3, STS-TXT-17).
 * - §3.3: with no live policy, "a valid (non-expired) policy" in the
 *   cache MUST be applied; a missing or broken record never removes it
 *   (§3.1's note, STS-TXT-14).
 * - §3: a live id equal to the cached one means no fetch (STS-CACHE-1);
 *   ids have no order, so any other id means a fetch (STS-TXT-15).
 */
#include <string.h>

#include <mtasts/sts.h>

#include "internal.h"

/*
 * The cache entry applies while the time since the fetch "has not
 * exceeded" max_age (§3.2, §5.1): at fetched + max_age it is still
 * fresh, one second later it is not (STS-CACHE-3).  A max_age of 0 is
 * never served from the cache (§24 A9: it serves only the delivery
 * attempt that fetched it).  A fetch time after `now` (the clock went
 * back) counts as a fetch just now.  The age is computed unsigned, so
 * no pair of int64 times overflows.
 */
bool
mts_sts_cache_fresh(const struct mts_sts_cached *cached, int64_t now)
{
	uint64_t age;

	if (cached == NULL || cached->max_age == 0)
		return false;
	if (now <= cached->fetched)
		return true;
	age = (uint64_t)now - (uint64_t)cached->fetched;
	return age <= cached->max_age;
}

/* The live record's id, or its absence and why (record_err). */
static bool
live_id(enum mts_dns_status status, const char *const *txts, const size_t *lens,
        size_t n, struct mts_sts_discovery *out)
{
	struct mts_sts_record rec;
	struct mts_err err;
	size_t i = 0;

	switch (status) {
	case MTS_DNS_OK:
		break;
	case MTS_DNS_NXDOMAIN:
		out->record_err = MTS_ERR_NOTFOUND;
		return false;
	default: /* MTS_DNS_TEMPFAIL, and any value the adapter invents */
		out->record_err = MTS_ERR_IO;
		return false;
	}
	if (mts_sts_record_select(txts, lens, n, &i, &err) != 0 ||
	    mts_sts_record_parse(txts[i], lens[i], &rec, NULL, &err) != 0) {
		out->record_err = err.code;
		return false;
	}
	memcpy(out->id, rec.id, sizeof(out->id));
	return true;
}

/* Byte-wise (§24 A4: "abc" and "ABC" are different ids), bounded. */
static bool
same_id(const struct mts_sts_cached *cached, const char *id)
{
	if (cached->id == NULL)
		return false;
	return strncmp(cached->id, id, MTS_STS_ID_MAX + 1) == 0;
}

void
mts_sts_discover(enum mts_dns_status status, const char *const *txts,
                 const size_t *lens, size_t n,
                 const struct mts_sts_cached *cached, int64_t now,
                 struct mts_sts_discovery *out)
{
	bool fresh = mts_sts_cache_fresh(cached, now);

	memset(out, 0, sizeof(*out));
	out->record_err = MTS_OK;
	if (!live_id(status, txts, lens, n, out))
		out->action = fresh ? MTS_STS_USE_CACHE : MTS_STS_NO_POLICY;
	else if (fresh && same_id(cached, out->id))
		out->action = MTS_STS_USE_CACHE;
	else
		out->action = MTS_STS_FETCH;
}
