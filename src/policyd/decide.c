/* SPDX-License-Identifier: ISC */
/*
 * The pure decisions of the resolution of `mtasts policyd` (decide.h):
 * the cache's times (RFC 8461 §3.3, §5.1), DANE first (RFC 8461 §2,
 * RFC 7672 §2.2), the TXT answer (§3.1) and the fetch (§3.3).  Each
 * rule cites its section and, where one applies, the id of
 * /work/shared/conformance/rfc-checklist.md; docs/conformance.md
 * ("Positions taken by `mtasts policyd`") lists the choices made where
 * the RFCs leave room.
 */
#include <string.h>

#include "decide.h"

static uint32_t
or_default(uint32_t v, uint32_t def)
{
	return v != 0 ? v : def;
}

void
decide_conf_init(struct decide_conf *c, uint32_t negative_ttl,
                 uint32_t dane_ttl, uint32_t recheck, uint32_t backoff)
{
	c->negative_ttl = or_default(negative_ttl, DECIDE_DEF_NEGATIVE_TTL);
	c->dane_ttl = or_default(dane_ttl, DECIDE_DEF_DANE_TTL);
	c->recheck = or_default(recheck, DECIDE_DEF_RECHECK);
	c->backoff = or_default(backoff, DECIDE_DEF_BACKOFF);
}

/* The policy is applied while its age has not exceeded max_age (§3.2,
   §5.1, STS-CACHE-3; max_age 0 never from the cache, A9/STS-CACHE-9). */
static bool
policy_fresh(const struct decide_policy *p, int64_t now)
{
	struct mts_sts_cached c;

	if (p == NULL || !p->have)
		return false;
	c.id = p->id;
	c.fetched = p->fetched;
	c.max_age = p->max_age;
	return mts_sts_cache_fresh(&c, now);
}

enum decide_action
decide_lookup(const struct decide_entry *e, int64_t now)
{
	if (e == NULL)
		return DECIDE_RESOLVE;
	switch (e->kind) {
	case DECIDE_POLICY:
		/* An expired policy is not applied (§3.3, STS-CACHE-5). */
		if (!policy_fresh(&e->policy, now))
			return DECIDE_RESOLVE;
		/* After a failed refresh the policy still applies (§3.3,
		   STS-CACHE-4, STS-FETCH-15); no fetch during the back-off
		   (STS-FETCH-13). */
		if (now < e->backoff_until)
			return DECIDE_ANSWER;
		/* §3.3: refresh before expiry (STS-CACHE-6). */
		if (now >= e->refresh_at)
			return DECIDE_ANSWER_REFRESH;
		/* §3, §5.1: re-check the id to pick up a new policy
		   (STS-CACHE-1, STS-CACHE-2). */
		if (now >= e->next_check)
			return DECIDE_ANSWER_RECHECK;
		return DECIDE_ANSWER;
	case DECIDE_NO_POLICY:
	case DECIDE_DANE:
		if (now >= e->expires)
			return DECIDE_RESOLVE;
		if (now >= e->refresh_at && now >= e->backoff_until)
			return DECIDE_ANSWER_REFRESH;
		return DECIDE_ANSWER;
	case DECIDE_FAILED:
		return now < e->expires ? DECIDE_BACKOFF : DECIDE_RESOLVE;
	}
	return DECIDE_RESOLVE;
}

int64_t
decide_refresh_at(int64_t fetched, uint32_t lifetime, uint32_t cap,
                  uint32_t jitter)
{
	uint32_t span = lifetime;

	if (cap != 0 && span > cap)
		span = cap;
	return fetched + (int64_t)(span - span / 8) +
	    (int64_t)(jitter % (span / 16 + 1));
}

bool
decide_sweep(const struct decide_entry *e, bool looked_up, int64_t now,
             uint32_t interval)
{
	if (e == NULL || !looked_up || e->kind == DECIDE_FAILED)
		return false;
	if (now < e->backoff_until)
		return false;
	return now + (int64_t)interval >= e->refresh_at;
}

/*
 * DANE first.  RFC 8461 §2: "senders who implement MTA-STS validation
 * MUST NOT allow MTA-STS Policy validation to override a failing DANE
 * validation" and DANE, where DNSSEC-validated TLSA records exist,
 * takes precedence.  RFC 7672 §2.2: a sender uses DANE for a next hop
 * only when its MX RRset is DNSSEC-secure (§2.2.1: an insecure MX
 * RRset leaves the hosts unauthenticated, DANE does not apply); each
 * host with a secure TLSA RRset of usable records must then be
 * authenticated by them (§2.2.3, §3.1), and a host whose TLSA lookup is
 * bogus or fails is unreachable for a DANE sender (§2.1.1, §2.1.2).
 *
 * policyd answers for the whole domain, and "dane-only" makes Postfix
 * insist on DANE for every host, so:
 *
 *   - the MX RRset bogus: "bogus" (a DANE sender cannot trust the host
 *     names, §2.1.1);
 *   - the MX lookup failed otherwise: unknown ("dns-tempfail" when no
 *     policy applies either);
 *   - not secure, or no host (null MX, RFC 7505): MTA-STS decides;
 *   - secure, some host DANE_BOGUS or DANE_LOOKUP_FAILED: "bogus" --
 *     unless a valid MTA-STS policy applies (decide_answer()): RFC
 *     8461 §2 leaves a domain with both to DANE only where DANE
 *     validates, and a DANE sender would skip that host anyway;
 *   - secure, every host DANE_SECURE with at least one usable record:
 *     DANE (dane-only, or dane by configuration);
 *   - any other mix (a host without TLSA records, insecure or ignored
 *     ones, a secure RRset of unusable records): MTA-STS decides, and
 *     Postfix's own DANE setting, if any, still applies per host.
 */
enum decide_dane
decide_dane(enum mts_dns_rcode mx_rcode, enum mts_dnssec mx_dnssec,
            const struct decide_dane_host *hosts, size_t n)
{
	bool all = true;
	size_t i;

	if (mx_dnssec == MTS_DNSSEC_BOGUS)
		return DECIDE_DANE_BOGUS;
	if (mx_rcode == MTS_DNS_SERVFAIL || mx_rcode == MTS_DNS_TIMEOUT ||
	    mx_rcode == MTS_DNS_ERROR)
		return DECIDE_DANE_TEMP;
	if (mx_dnssec != MTS_DNSSEC_SECURE || n == 0 || hosts == NULL)
		return DECIDE_DANE_NO;
	for (i = 0; i < n; i++) {
		if (hosts[i].state == DANE_BOGUS ||
		    hosts[i].state == DANE_LOOKUP_FAILED)
			return DECIDE_DANE_BOGUS;
		if (hosts[i].state != DANE_SECURE || hosts[i].usable == 0)
			all = false;
	}
	return all ? DECIDE_DANE_YES : DECIDE_DANE_NO;
}

/* The TXT outcome for mts_sts_discover(), and the failure class seen. */
static enum mts_dns_status
txt_status(enum mts_dns_rcode rcode, enum mts_dnssec dnssec,
           enum resolve_failure *f)
{
	*f = RESOLVE_FAIL_NONE;
	if (dnssec == MTS_DNSSEC_BOGUS) {
		*f = RESOLVE_FAIL_BOGUS;
		return MTS_DNS_TEMPFAIL;
	}
	switch (rcode) {
	case MTS_DNS_ANSWER:
		return MTS_DNS_OK;
	case MTS_DNS_NODATA:
	case MTS_DNS_NAME_ERROR:
		return MTS_DNS_NXDOMAIN;
	default: /* SERVFAIL, TIMEOUT, ERROR: STS-TXT-13, STS-TXT-17 */
		*f = RESOLVE_FAIL_DNS_TEMP;
		return MTS_DNS_TEMPFAIL;
	}
}

void
decide_txt(enum mts_dns_rcode rcode, enum mts_dnssec dnssec,
           const char *const *txts, const size_t *lens, size_t n,
           const struct decide_policy *cached, int64_t backoff_until,
           bool force, int64_t now, struct decide_txt *out)
{
	struct mts_sts_discovery d;
	struct mts_sts_cached c, *cp = NULL;
	enum mts_dns_status st;

	memset(out, 0, sizeof(*out));
	st = txt_status(rcode, dnssec, &out->failure);
	if (cached != NULL && cached->have) {
		c.id = cached->id;
		c.fetched = cached->fetched;
		c.max_age = cached->max_age;
		cp = &c;
	}
	mts_sts_discover(st, txts, lens, n, cp, now, &d);
	memcpy(out->id, d.id, sizeof(out->id));
	out->record_err = d.record_err;
	switch (d.action) {
	case MTS_STS_USE_CACHE:
		/* §3.3 "whatever the TXT says": a proactive refresh
		   fetches, but not into a DNS failure. */
		out->next = force && out->failure == RESOLVE_FAIL_NONE ?
		    DECIDE_TXT_FETCH :
		    DECIDE_TXT_USE_CACHE;
		break;
	case MTS_STS_FETCH:
		out->next = DECIDE_TXT_FETCH;
		break;
	case MTS_STS_NO_POLICY:
	default:
		out->next = out->failure != RESOLVE_FAIL_NONE ?
		    DECIDE_TXT_FAILED :
		    DECIDE_TXT_NO_POLICY;
		break;
	}
	/* §3.3 SHOULD: no new GET within five minutes of a failed one
	   (STS-FETCH-13). */
	if (out->next == DECIDE_TXT_FETCH && now < backoff_until)
		out->next = DECIDE_TXT_BACKOFF;
}

enum decide_fetch
decide_fetch(bool ok, const struct decide_policy *cached, int64_t now)
{
	/* A new valid policy replaces the cached one whatever its mode
	   or max_age (STS-CACHE-2, STS-CACHE-8, STS-CACHE-10). */
	if (ok)
		return DECIDE_FETCH_NEW;
	/* A failed or invalid fetch never overwrites a valid cache, so an
	   enforce policy is never downgraded by it (§3.3, §5.1,
	   STS-CACHE-4, STS-CACHE-11, STS-FETCH-15). */
	if (policy_fresh(cached, now))
		return DECIDE_FETCH_STALE;
	/* §3.3: deliver as if there were no policy (STS-FETCH-14): the
	   "fetch-error" class, NOTFOUND by default. */
	return DECIDE_FETCH_FAILED;
}

/*
 * DANE first (RFC 8461 §2); then a valid MTA-STS policy, which also
 * stands over a DANE "bogus" (the domain owner published a policy that
 * validates, and a DANE sender would skip the bogus host anyway) unless
 * its mode is none (no policy: the DANE failure speaks); then the
 * failures; then no policy.  An MX lookup that failed says nothing
 * about DANE: "dns-tempfail" only when nothing else answers.
 */
void
decide_answer(enum decide_dane dane, bool dane_off, enum decide_sts sts,
              enum mts_sts_mode mode, enum resolve_failure sts_failure,
              struct decide_final *out)
{
	out->failure = RESOLVE_FAIL_NONE;
	if (dane_off)
		dane = DECIDE_DANE_NO;
	if (dane == DECIDE_DANE_YES) {
		out->kind = DECIDE_DANE;
		return;
	}
	if (sts == DECIDE_STS_POLICY &&
	    (mode != MTS_STS_MODE_NONE || dane != DECIDE_DANE_BOGUS)) {
		out->kind = DECIDE_POLICY;
		return;
	}
	out->kind = DECIDE_FAILED;
	if (dane == DECIDE_DANE_BOGUS)
		out->failure = RESOLVE_FAIL_BOGUS;
	else if (sts == DECIDE_STS_FAILED)
		out->failure = sts_failure;
	else if (dane == DECIDE_DANE_TEMP && sts == DECIDE_STS_NONE)
		out->failure = RESOLVE_FAIL_DNS_TEMP;
	else
		out->kind =
		    sts == DECIDE_STS_POLICY ? DECIDE_POLICY : DECIDE_NO_POLICY;
}

void
decide_entry_policy(const struct decide_conf *c, enum mts_sts_mode mode,
                    uint32_t max_age, const char *id, int64_t now,
                    uint32_t jitter, struct decide_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = DECIDE_POLICY;
	out->policy.have = true;
	out->policy.mode = mode;
	out->policy.max_age = max_age;
	out->policy.fetched = now;
	if (id != NULL)
		strncpy(out->policy.id, id, MTS_STS_ID_MAX);
	out->fetched = now;
	/* Lifetime = fetch time + max_age (§3.2, §5.1, STS-CACHE-3). */
	out->expires = now + (int64_t)max_age;
	out->next_check = now + (int64_t)c->recheck;
	out->refresh_at =
	    decide_refresh_at(now, max_age, DECIDE_REFRESH_MAX, jitter);
}

void
decide_entry_ttl(const struct decide_conf *c, enum decide_kind kind,
                 const struct decide_policy *policy, int64_t now,
                 uint32_t jitter, struct decide_entry *out)
{
	uint32_t ttl = kind == DECIDE_DANE ? c->dane_ttl : c->negative_ttl;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	if (policy != NULL)
		out->policy = *policy;
	out->fetched = now;
	out->expires = now + (int64_t)ttl;
	out->next_check = out->expires;
	out->refresh_at = decide_refresh_at(now, ttl, 0, jitter);
}

void
decide_entry_failed(const struct decide_conf *c, enum resolve_failure f,
                    const struct decide_policy *policy, int64_t now,
                    struct decide_entry *out)
{
	uint32_t hold = c->backoff;

	memset(out, 0, sizeof(*out));
	out->kind = DECIDE_FAILED;
	out->failure = f;
	if (policy != NULL)
		out->policy = *policy;
	if (f != RESOLVE_FAIL_FETCH && hold > DECIDE_DNS_HOLD)
		hold = DECIDE_DNS_HOLD;
	out->fetched = now;
	out->expires = now + (int64_t)hold;
	out->next_check = out->expires;
	out->refresh_at = out->expires;
	/* §3.3: five minutes without a GET after a failed one. */
	if (f == RESOLVE_FAIL_FETCH)
		out->backoff_until = now + (int64_t)c->backoff;
}

void
decide_entry_stale(const struct decide_conf *c, const struct decide_policy *p,
                   enum resolve_failure f, int64_t now,
                   struct decide_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = DECIDE_POLICY;
	out->failure = f;
	out->policy = *p;
	out->fetched = p->fetched;
	out->expires = p->fetched + (int64_t)p->max_age;
	/* Retried after the back-off, in the background (STS-FETCH-13). */
	out->backoff_until = now + (int64_t)c->backoff;
	out->next_check = out->backoff_until;
	out->refresh_at = out->backoff_until;
}

void
decide_entry_confirmed(const struct decide_conf *c,
                       const struct decide_policy *p, int64_t now,
                       uint32_t jitter, struct decide_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = DECIDE_POLICY;
	out->policy = *p;
	out->fetched = p->fetched;
	out->expires = p->fetched + (int64_t)p->max_age;
	out->next_check = now + (int64_t)c->recheck;
	out->refresh_at = decide_refresh_at(p->fetched, p->max_age,
	                                    DECIDE_REFRESH_MAX, jitter);
}

enum reply_failure
decide_failure_reply(enum resolve_failure f,
                     const enum reply_failure on_failure[RESOLVE_FAIL_COUNT])
{
	if (on_failure == NULL || f <= RESOLVE_FAIL_NONE ||
	    f >= RESOLVE_FAIL_COUNT)
		return REPLY_FAIL_NOTFOUND;
	return on_failure[f] == REPLY_FAIL_TEMP ? REPLY_FAIL_TEMP :
						  REPLY_FAIL_NOTFOUND;
}
