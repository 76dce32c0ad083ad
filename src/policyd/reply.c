/* SPDX-License-Identifier: ISC */
/*
 * The reply of mtasts policyd to Postfix's smtp_tls_policy_maps (RFC 8461
 * §4, §5; RFC 8460 for the TLSRPT attributes).  Pure: text in a caller's
 * buffer, no allocation.
 *
 * What Postfix does with a reply, and where that is written:
 *
 * - Syntax.  The value is a security level followed by attributes,
 *   split at commas and whitespace; "{" and "}" group a token so that
 *   `{ name = value }` keeps whitespace in the value, which Postfix
 *   strips at both ends and normalises inside (smtp_tls_policy.c,
 *   tls_policy_lookup_one(): mystrtokq(CHARS_COMMA_SP, CHARS_BRACE) and
 *   extpar(EXTPAR_FLAG_STRIP | EXTPAR_FLAG_NORMAL_WS); TLSRPT_README
 *   "MTA-STS Support via smtp_tls_policy_maps").  There is no escape: a
 *   value with an unbalanced brace breaks the token, so such text is
 *   never sent.  Any malformed attribute makes the level "invalid" and
 *   the mail is deferred ("4.7.5 client TLS configuration problem"):
 *   one bad octet costs delivery, hence the checks here.
 * - `match=`: at "secure" (and "verify") its value is split at ":"
 *   (argv_split(val, ":")); an empty value is "attribute has empty
 *   value" and invalid (the `nmx:` typo of the peers' users: a policy
 *   with no mx left gave `secure match=` and deferred all its mail).
 *   "example.com" matches that name in the certificate; ".example.com"
 *   matches "a non-zero number of labels followed by .example.com"
 *   (postconf.5 smtp_tls_verify_cert_match, referenced from
 *   smtp_tls_secure_cert_match), i.e. any depth, where RFC 8461 §4.1
 *   lets "*.example.com" stand for exactly one label.  `match=` is
 *   invalid at "may" and below.
 * - `servername=hostname` sends the MX host name as SNI (postconf.5
 *   smtp_tls_servername: Postfix 3.4 and later; older Postfix rejects
 *   the attribute, hence compat 3.4 as the floor).
 * - `dane-only` / `dane`: DANE levels (TLS_README "dane"); "dane" falls
 *   back to "may"/"encrypt" where TLSA records are missing or unusable,
 *   "dane-only" defers instead (smtp_tls_policy.c dane_incompat()).
 * - TLSRPT attributes, Postfix 3.10 and later (TLSRPT_README, same
 *   section): `policy_type=sts` (or `no-policy-found`),
 *   `policy_domain=NAME` (must pass valid_hostname()), `policy_ttl=N`,
 *   one `{ policy_string = ... }` per line of the policy (its example:
 *   `{ policy_string = version: STSv1 } { policy_string = mode:
 *   enforce } ...`), one `mx_host_pattern=P` per "mx:" line
 *   (`mx_host_pattern=*.example.net`), and `policy_failure=TYPE` with
 *   TYPE sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid
 *   or validation-failure, which "forces MTA-STS policy enforcement to
 *   fail with the indicated error".  Older Postfix rejects the names
 *   ("invalid attribute name"); 3.10 rejects them without policy_type
 *   ("built-in policy has unexpected attribute").  Postfix 3.10's
 *   smtp_tlsrpt.c reads ext_policy_strings->argv and
 *   ext_mx_host_patterns->argv for policy_type=sts without a NULL
 *   check: a reply with policy_type=sts always carries at least one of
 *   each here.
 * - Postfix >= 3.10.5, smtp_tls_enforce_sts_mx_patterns = yes (the
 *   default): from those attributes it connects only to MX hosts whose
 *   name matches an mx_host_pattern and checks the certificate against
 *   the MX host name (Wietse Venema, postfix-mta-sts-resolver issue
 *   #116 and postfix-tlspol issue #91, quoting postconf.5): the §4.1
 *   match, done by Postfix.  Before that, `secure match=` only checks
 *   certificate names; which MX hosts are tried is not checked.
 *
 * The peers: postfix-mta-sts-resolver (responder.py) answers enforce
 * with "secure match=" + the mx values with the "*" stripped (so
 * "*.example.com" becomes ".example.com"), adds " servername=hostname"
 * (require_sni, default on) and, with `tlsrpt: true`, "policy_type=sts
 * policy_domain=D" and "mx_host_pattern=P" per mx, no policy_string;
 * testing and none (unless strict_testing) and any failure are
 * NOTFOUND.  It asserts that the mx list is not empty.  postfix-tlspol
 * (internal/mta-sts.go) sends "secure match=A:.B servername=hostname"
 * for enforce with at least one mx and, with TLSRPT on, "policy_type=sts
 * policy_domain=D mx_host_pattern=P ... { policy_string = key: value }"
 * for each line; testing and none are NOTFOUND; it drops cached entries
 * holding "mx_host_pattern=." or "match= " (its own past bugs).
 *
 * What this file answers:
 * - enforce: "OK secure match=LIST servername=hostname", LIST built only
 *   from patterns that pass mts_sts_match_pattern_check() and are not
 *   address literals.  Exact names go as they are.  A "*." pattern goes
 *   as the current MX host names it covers under §4.1 (mts_sts_match())
 *   when the caller knows them, which closes the any-depth gap: a host
 *   two labels down is in no list.  Without the MX names it goes as
 *   ".domain", looser than §4.1, and info->loose says so (with compat
 *   3.10, Postfix >= 3.10.5 then does the strict match from the
 *   mx_host_pattern attributes).  With no usable pattern the answer is
 *   conf->unusable (never "secure match=" empty); with usable "*."
 *   patterns that cover none of the MX hosts, TEMP: enforce refuses
 *   every MX host (§5), so the mail waits.
 * - compat 3.10 adds "policy_type=sts policy_domain=D", one
 *   mx_host_pattern per usable pattern, the policy_string lines
 *   (version, mode, each mx, max_age: the order of §3.2's example and
 *   mts_sts_policy_format()), and policy_failure only when the caller
 *   asks (see struct reply_conf).
 * - testing: "NOTFOUND " (deliver, §5), or with compat 3.10 "OK may"
 *   and the attributes, so that Postfix reports to the domain without
 *   enforcing: "may" is the level that does not enforce and accepts
 *   attributes (below "may" they are ignored with a warning).  Note
 *   that "OK may" overrides a stricter smtp_tls_security_level for the
 *   domain, as any answer does.
 * - none, no policy: "NOTFOUND "; DANE: "OK dane-only" or "OK dane";
 *   TEMP: "TEMP reason".
 */
#include <stdio.h>
#include <string.h>

#include <mtasts/dname.h>
#include <mtasts/sts.h>

#include "reply.h"

/* A capped writer with a sticky overflow flag, checked once at the end. */
struct out {
	char *buf;
	size_t cap; /* octets available before the NUL */
	size_t len;
	bool toobig;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->toobig || n > o->cap - o->len) {
		o->toobig = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static int
fail(struct mts_err *err, enum mts_errcode code, const char *msg)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		err->code = code;
		err->msg = msg;
	}
	return -1;
}

/* Printable ASCII only: what every Postfix table accepts as is. */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Text Postfix can carry inside `{ policy_string = ... }`: no brace. */
static bool
string_safe(const char *s)
{
	return printable(s) && strpbrk(s, "{}") == NULL;
}

static bool
is_wildcard(const char *p)
{
	return p[0] == '*' && p[1] == '.';
}

/*
 * Why a pattern cannot go into match=, or NULL when it can.  An address
 * passes the Domain syntax ("192.0.2.1") but names no MX host (§4.1
 * matches host names); an empty or malformed pattern would make the
 * whole reply invalid to Postfix.
 */
static const char *
pattern_unusable(const char *p)
{
	const char *name;

	if (p == NULL || p[0] == '\0')
		return "empty mx pattern";
	if (mts_sts_match_pattern_check(p, NULL) == -1)
		return "malformed mx pattern";
	name = is_wildcard(p) ? p + 2 : p;
	if (mts_dname_is_address(name, strlen(name)))
		return "mx pattern is an IP address";
	return NULL;
}

/* The MX host name without its trailing dot, or 0 when it is no name. */
static size_t
host_len(const char *h)
{
	size_t n;

	if (h == NULL)
		return 0;
	n = strlen(h);
	if (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 0 || mts_dname_check(h, n, 0, NULL) == -1)
		return 0;
	return n;
}

/* True when an exact usable pattern of the policy equals the host. */
static bool
listed_exact(const struct mts_sts_policy *pol, const char *h, size_t n)
{
	size_t i;

	for (i = 0; i < pol->mx_count; i++)
		if (!is_wildcard(pol->mx[i]) &&
		    pattern_unusable(pol->mx[i]) == NULL &&
		    mts_dname_equal(pol->mx[i], strlen(pol->mx[i]), h, n))
			return true;
	return false;
}

/* True when a usable "*." pattern covers the host (§4.1). */
static bool
covered_by_wildcard(const struct mts_sts_policy *pol, const char *h)
{
	size_t i;

	for (i = 0; i < pol->mx_count; i++)
		if (is_wildcard(pol->mx[i]) &&
		    pattern_unusable(pol->mx[i]) == NULL &&
		    mts_sts_match(pol->mx[i], h))
			return true;
	return false;
}

/* True when MX host k repeats an earlier one of the list. */
static bool
host_repeated(const struct reply_decision *d, size_t k, size_t n)
{
	size_t j;

	for (j = 0; j < k; j++)
		if (mts_dname_equal(d->mx[j], host_len(d->mx[j]), d->mx[k], n))
			return true;
	return false;
}

static void
add_match(struct out *o, size_t *entries, const char *s, size_t n)
{
	put(o, *entries == 0 ? "" : ":", *entries == 0 ? 0 : 1);
	put(o, s, n);
	(*entries)++;
}

/*
 * The current MX host names a "*." pattern covers, each once, leaving
 * out those an exact pattern lists already.
 */
static void
add_expanded(struct out *o, const struct reply_decision *d, size_t *entries,
             struct reply_info *info)
{
	size_t k, n;

	for (k = 0; k < d->mx_count; k++) {
		if ((n = host_len(d->mx[k])) == 0 || host_repeated(d, k, n))
			continue;
		if (listed_exact(d->policy, d->mx[k], n))
			continue;
		/* mts_sts_match() ignores the host's trailing dot. */
		if (!covered_by_wildcard(d->policy, d->mx[k]))
			continue;
		add_match(o, entries, d->mx[k], n);
		info->expanded++;
	}
}

/*
 * The entries of match=: the usable exact patterns, then each "*."
 * pattern as the MX hosts it covers when they are known, else as
 * ".domain" (info->loose without the 3.10 attributes).  Returns the number of entries written.
 */
static size_t
add_match_list(struct out *o, const struct reply_decision *d,
               const struct reply_conf *conf, struct reply_info *info)
{
	const struct mts_sts_policy *pol = d->policy;
	bool expand = d->mx != NULL && d->mx_count != 0;
	const char *why;
	size_t i, entries = 0;

	for (i = 0; i < pol->mx_count; i++) {
		if ((why = pattern_unusable(pol->mx[i])) != NULL) {
			if (info->dropped++ == 0)
				info->dropped_why = why;
			continue;
		}
		info->used++;
		if (!is_wildcard(pol->mx[i]))
			add_match(o, &entries, pol->mx[i], strlen(pol->mx[i]));
		else if (!expand) {
			/* Postfix's ".domain": any depth, not one label. */
			add_match(o, &entries, pol->mx[i] + 1,
			          strlen(pol->mx[i] + 1));
			/* Postfix >= 3.10.5 matches mx_host_pattern itself. */
			if (conf->compat != REPLY_COMPAT_310)
				info->loose = true;
		}
	}
	if (expand)
		add_expanded(o, d, &entries, info);
	return entries;
}

static void
add_policy_string(struct out *o, const char *key, const char *value,
                  struct reply_info *info)
{
	if (!string_safe(value)) {
		info->strings_dropped++;
		return;
	}
	puts_(o, " { policy_string = ");
	puts_(o, key);
	puts_(o, ": ");
	puts_(o, value);
	puts_(o, " }");
}

/*
 * The TLSRPT attributes of Postfix 3.10 (TLSRPT_README): the policy
 * type and domain, one mx_host_pattern per usable mx line, one
 * policy_string per line of the policy (RFC 8460 §4.4 "policy-string").
 */
static void
add_tlsrpt(struct out *o, const struct reply_decision *d, size_t dlen,
           struct reply_info *info)
{
	const struct mts_sts_policy *pol = d->policy;
	char num[16];
	size_t i;

	puts_(o, " policy_type=sts policy_domain=");
	put(o, d->domain, dlen);
	for (i = 0; i < pol->mx_count; i++)
		if (pattern_unusable(pol->mx[i]) == NULL) {
			puts_(o, " mx_host_pattern=");
			puts_(o, pol->mx[i]);
		}
	add_policy_string(o, "version", "STSv1", info);
	add_policy_string(o, "mode", mts_sts_mode_name(pol->mode), info);
	for (i = 0; i < pol->mx_count; i++)
		add_policy_string(o, "mx", pol->mx[i] != NULL ? pol->mx[i] : "",
		                  info);
	(void)snprintf(num, sizeof(num), "%u", (unsigned)pol->max_age);
	add_policy_string(o, "max_age", num, info);
}

static void
add_failure(struct out *o, enum reply_failure f)
{
	if (f == REPLY_FAIL_TEMP)
		puts_(o, "TEMP MTA-STS policy has no usable mx pattern");
	else
		puts_(o, "NOTFOUND ");
}

/* mode: enforce (§5): secure, or a failure when nothing is usable. */
static void
add_enforce(struct out *o, const struct reply_decision *d, size_t dlen,
            const struct reply_conf *conf, struct reply_info *info)
{
	puts_(o, "OK secure match=");
	if (add_match_list(o, d, conf, info) == 0) {
		/* Never "secure match=" empty: Postfix defers on it. */
		o->len = 0;
		o->toobig = false;
		if (info->used == 0) {
			info->unusable = true;
			add_failure(o, conf->unusable);
		} else {
			info->uncovered = true;
			puts_(o,
			      "TEMP no MX host is covered by the "
			      "MTA-STS policy");
		}
		return;
	}
	puts_(o, " servername=hostname");
	if (conf->compat == REPLY_COMPAT_310) {
		add_tlsrpt(o, d, dlen, info);
		if (d->refresh_failed && conf->policy_failure) {
			puts_(o, " policy_failure=sts-policy-fetch-error");
			info->policy_failure = true;
		}
	}
}

/* mode: testing (§5): deliver; with compat 3.10, report without enforcing. */
static void
add_testing(struct out *o, const struct reply_decision *d, size_t dlen,
            const struct reply_conf *conf, struct reply_info *info)
{
	size_t i;

	for (i = 0; i < d->policy->mx_count; i++) {
		const char *why = pattern_unusable(d->policy->mx[i]);

		if (why == NULL)
			info->used++;
		else if (info->dropped++ == 0)
			info->dropped_why = why;
	}
	/* policy_type=sts needs an mx_host_pattern (see the top). */
	if (conf->compat != REPLY_COMPAT_310 || info->used == 0) {
		puts_(o, "NOTFOUND ");
		return;
	}
	puts_(o, "OK may");
	add_tlsrpt(o, d, dlen, info);
}

/* The policy domain as Postfix's valid_hostname() wants it, or 0. */
static size_t
domain_len(const char *domain)
{
	return host_len(domain);
}

static int
format_sts(struct out *o, const struct reply_decision *d,
           const struct reply_conf *conf, struct reply_info *info,
           struct mts_err *err)
{
	size_t dlen;

	if (d->policy == NULL ||
	    (d->policy->mx_count != 0 && d->policy->mx == NULL))
		return fail(err, MTS_ERR_ARG, "no policy");
	if ((dlen = domain_len(d->domain)) == 0)
		return fail(err, MTS_ERR_ARG,
		            "policy domain is not a host name");
	switch (d->policy->mode) {
	case MTS_STS_MODE_ENFORCE:
		add_enforce(o, d, dlen, conf, info);
		break;
	case MTS_STS_MODE_TESTING:
		add_testing(o, d, dlen, conf, info);
		break;
	default:
		/* none: as if the domain had no policy (§5). */
		puts_(o, "NOTFOUND ");
		break;
	}
	return 0;
}

static int
format_kind(struct out *o, const struct reply_decision *d,
            const struct reply_conf *conf, struct reply_info *info,
            struct mts_err *err)
{
	switch (d->kind) {
	case REPLY_NO_POLICY:
		puts_(o, "NOTFOUND ");
		return 0;
	case REPLY_STS:
		return format_sts(o, d, conf, info, err);
	case REPLY_DANE:
		puts_(o,
		      d->dane == REPLY_DANE_MAY ? "OK dane" : "OK dane-only");
		return 0;
	case REPLY_TEMP:
		if (d->reason != NULL && !printable(d->reason))
			return fail(err, MTS_ERR_ARG,
			            "reason has a control or non-ASCII octet");
		puts_(o, "TEMP ");
		puts_(o,
		      d->reason != NULL ? d->reason : "policy lookup failed");
		return 0;
	}
	return fail(err, MTS_ERR_ARG, "unknown decision");
}

int
reply_format(const struct reply_decision *d, const struct reply_conf *conf,
             char *buf, size_t size, size_t *len, struct reply_info *info,
             struct mts_err *err)
{
	static const struct reply_conf defaults;
	struct reply_info ri;
	struct out o;

	if (d == NULL || buf == NULL || size == 0)
		return fail(err, MTS_ERR_ARG, "NULL argument or empty buffer");
	memset(&ri, 0, sizeof(ri));
	o.buf = buf;
	o.cap = size - 1 < REPLY_MAX ? size - 1 : REPLY_MAX;
	o.len = 0;
	o.toobig = false;
	if (format_kind(&o, d, conf != NULL ? conf : &defaults, &ri, err) == -1)
		return -1;
	if (o.toobig)
		return fail(err, MTS_ERR_TOOBIG,
		            "reply over 100000 octets or the buffer");
	buf[o.len] = '\0';
	if (len != NULL)
		*len = o.len;
	if (info != NULL)
		*info = ri;
	return 0;
}
