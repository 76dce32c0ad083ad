/* SPDX-License-Identifier: ISC */
/*
 * A TLSA RRset against a presented chain, as its publisher should judge
 * it: which records match, whether digest agility hides the match
 * (RFC 7671 §9), and which published combination matches nothing (RFC
 * 7671 §8.1).  `mtasts check` says with it *why* DANE senders fail and
 * what a key rollover forgot; the pass or fail of a handshake itself is
 * OpenSSL's DANE code, with path and name checks this file does not do.
 *
 * Pure: OpenSSL only decodes DER, hashes and checks one signature, on
 * memory.
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <mtasts/dane.h>

/* The public key of a full-data DANE-TA record (certificate or SPKI). */
static EVP_PKEY *
ta_key(const struct mts_dane_tlsa *t)
{
	const unsigned char *p = t->data;
	EVP_PKEY *pkey = NULL;
	X509 *x;

	if (t->data_len > LONG_MAX)
		return NULL;
	if (t->selector == MTS_TLSA_SELECTOR_SPKI)
		return d2i_PUBKEY(NULL, &p, (long)t->data_len);
	if ((x = d2i_X509(NULL, &p, (long)t->data_len)) != NULL)
		pkey = X509_get_pubkey(x);
	X509_free(x);
	return pkey;
}

/*
 * RFC 7671 §5.2.2, §5.2.3: a trust anchor published whole need not be
 * sent; it anchors the chain when it signed the topmost certificate.
 */
static bool
ta_signed_top(const struct mts_dane_tlsa *t, const struct mts_dane_chain *c)
{
	const unsigned char *p = c->der[c->count - 1];
	size_t len = c->len[c->count - 1];
	EVP_PKEY *pkey;
	X509 *top = NULL;
	bool ok = false;

	if (len > LONG_MAX)
		return false;
	ERR_set_mark();
	if ((pkey = ta_key(t)) != NULL &&
	    (top = d2i_X509(NULL, &p, (long)len)) != NULL)
		ok = X509_verify(top, pkey) == 1;
	X509_free(top);
	EVP_PKEY_free(pkey);
	ERR_pop_to_mark();
	return ok;
}

/*
 * RFC 7672 §3.1.1: DANE-EE is the leaf; §3.1.2: DANE-TA is a certificate
 * the server sends above the leaf, or a whole TA that signed its top.
 * The PKIX usages, when the flags make them usable, likewise (RFC 6698
 * §2.1.1).
 */
static bool
record_matches(const struct mts_dane_tlsa *t, const struct mts_dane_chain *c)
{
	size_t i;

	if (c == NULL || c->count == 0)
		return false;
	if (t->usage == MTS_TLSA_USAGE_DANE_EE ||
	    t->usage == MTS_TLSA_USAGE_PKIX_EE)
		return mts_dane_tlsa_match_cert(t, c->der[0], c->len[0]);
	for (i = 1; i < c->count; i++)
		if (mts_dane_tlsa_match_cert(t, c->der[i], c->len[i]))
			return true;
	return t->mtype == MTS_TLSA_MTYPE_FULL && ta_signed_top(t, c);
}

/* RFC 7671 §9: the digest a client prefers; full data ranks lowest. */
static int
digest_rank(uint8_t mtype)
{
	return mtype == MTS_TLSA_MTYPE_SHA512 ? 2 :
	    mtype == MTS_TLSA_MTYPE_SHA256    ? 1 :
						0;
}

/*
 * Whether digest agility keeps record i: full data always, a digest only
 * when no usable record of its usage and selector has a stronger one.
 */
static bool
agility_keeps(const struct mts_dane_tlsa *set, const bool *usable, size_t n,
              size_t i)
{
	int rank = digest_rank(set[i].mtype);
	size_t j;

	if (set[i].mtype == MTS_TLSA_MTYPE_FULL)
		return true;
	for (j = 0; j < n; j++)
		if (usable[j] && set[j].usage == set[i].usage &&
		    set[j].selector == set[i].selector &&
		    digest_rank(set[j].mtype) > rank)
			return false;
	return true;
}

/* The first usable combination none of whose records match. */
static void
find_unmatched_combo(const struct mts_dane_tlsa *set, const bool *usable,
                     const bool *match, size_t n,
                     struct mts_dane_rrset_fit *out)
{
	size_t i, j;
	bool any;

	for (i = 0; i < n; i++) {
		if (!usable[i])
			continue;
		for (any = false, j = 0; j < n && !any; j++)
			any = usable[j] && match[j] &&
			    set[j].usage == set[i].usage &&
			    set[j].selector == set[i].selector &&
			    set[j].mtype == set[i].mtype;
		if (!any) {
			out->combo_unmatched = true;
			out->combo_usage = set[i].usage;
			out->combo_selector = set[i].selector;
			out->combo_mtype = set[i].mtype;
			return;
		}
	}
}

/* Records judged at once; a larger RRset is judged by its first ones. */
#define FIT_MAX 64

void
mts_dane_rrset_fit(const struct mts_dane_tlsa *set, size_t n,
                   const struct mts_dane_chain *chain, unsigned flags,
                   struct mts_dane_rrset_fit *out)
{
	bool usable[FIT_MAX], match[FIT_MAX], kept_match = false;
	size_t i;

	if (out == NULL)
		return;
	memset(out, 0, sizeof(*out));
	if (set == NULL)
		n = 0;
	if (n > FIT_MAX)
		n = FIT_MAX;
	for (i = 0; i < n; i++) {
		usable[i] = mts_dane_tlsa_usable(&set[i], flags, NULL) == 0;
		match[i] = usable[i] && record_matches(&set[i], chain);
		out->usable += usable[i];
		out->matching += match[i];
	}
	for (i = 0; i < n; i++)
		if (match[i] && agility_keeps(set, usable, n, i))
			kept_match = true;
	find_unmatched_combo(set, usable, match, n, out);
	out->fit = out->usable == 0 ? MTS_DANE_FIT_UNUSABLE :
	    kept_match              ? MTS_DANE_FIT_MATCH :
	    out->matching > 0       ? MTS_DANE_FIT_AGILITY :
				      MTS_DANE_FIT_NO_MATCH;
}
