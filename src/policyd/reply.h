/* SPDX-License-Identifier: ISC */
/*
 * What mtasts policyd answers Postfix's smtp_tls_policy_maps for one
 * domain, once the resolution has decided (RFC 8461 §4, §5; RFC 8461 §2
 * and RFC 7672 for DANE; RFC 8460 for the TLSRPT attributes of Postfix
 * 3.10).  The text is the socketmap reply without its netstring frame:
 * "OK secure match=... servername=hostname", "OK dane-only", "NOTFOUND "
 * or "TEMP reason".  reply.c says what Postfix makes of each, with the
 * sources.
 *
 * Pure: no I/O, no clock, no globals, no allocation.
 */
#ifndef MTS_POLICYD_REPLY_H
#define MTS_POLICYD_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <mtasts/err.h>
#include <mtasts/sts.h>

/* Postfix refuses socketmap replies over 100,000 octets (dict_sockmap.c). */
#define REPLY_MAX      100000
/* A buffer that holds any reply and its NUL. */
#define REPLY_BUF_SIZE (REPLY_MAX + 1)

/* What the resolution decided for the domain. */
enum reply_kind {
	REPLY_NO_POLICY = 0, /* neither MTA-STS nor DANE: "NOTFOUND " */
	REPLY_STS,           /* an MTA-STS policy, in whatever mode */
	REPLY_DANE, /* usable TLSA records: DANE first (RFC 8461 §2) */
	REPLY_TEMP  /* defer the mail: "TEMP reason" */
};

/* The DANE level answered (RFC 7672 §2.2). */
enum reply_dane {
	REPLY_DANE_ONLY = 0, /* "dane-only": no fallback to other TLS */
	REPLY_DANE_MAY       /* "dane": Postfix may fall back when unusable */
};

/* Which Postfix reads the reply. */
enum reply_compat {
	REPLY_COMPAT_34 = 0, /* Postfix >= 3.4 (servername=), no TLSRPT */
	REPLY_COMPAT_310     /* Postfix >= 3.10: the TLSRPT attributes too */
};

/* How a policy that cannot be applied is answered. */
enum reply_failure {
	REPLY_FAIL_NOTFOUND = 0, /* as if there were no policy */
	REPLY_FAIL_TEMP          /* defer the mail */
};

struct reply_decision {
	enum reply_kind kind;
	/* REPLY_STS: the policy (borrowed) and the policy domain. */
	const struct mts_sts_policy *policy;
	const char *domain;
	/* REPLY_STS: a still-valid cached policy could not be refreshed. */
	bool refresh_failed;
	/* REPLY_DANE */
	enum reply_dane dane;
	/* REPLY_TEMP: a printable reason; NULL for a generic one. */
	const char *reason;
	/*
	 * Optional, REPLY_STS: the domain's current MX host names (absolute
	 * or not); with them each "*." pattern is answered as the names it
	 * covers under §4.1.  NULL (or mx_count 0) when not known.
	 */
	const char *const *mx;
	size_t mx_count;
};

struct reply_conf {
	enum reply_compat compat;
	/* An enforce policy left with no usable mx pattern. */
	enum reply_failure unusable;
	/*
	 * With REPLY_COMPAT_310, answer refresh_failed with
	 * "policy_failure=sts-policy-fetch-error".  Off by default: Postfix
	 * documents that the attribute makes the delivery fail, where RFC
	 * 8461 §5.1 delivers under the still-valid cached policy.
	 */
	bool policy_failure;
};

/* What the reply left out or loosened, for the log and `mtasts fetch`. */
struct reply_info {
	size_t used;             /* mx patterns that made it into the reply */
	size_t dropped;          /* mx patterns left out (address, malformed) */
	const char *dropped_why; /* why the first was left out, constant */
	size_t expanded;         /* MX host names listed for "*." patterns */
	bool loose;              /* a "*." sent as ".domain" without the 3.10
	                            attributes: any depth, looser than §4.1 */
	bool unusable;          /* no usable pattern: conf->unusable answered */
	bool uncovered;         /* no current MX host covered: TEMP (§5) */
	size_t strings_dropped; /* policy_string lines Postfix cannot carry */
	bool policy_failure;    /* policy_failure= was sent */
};

/*
 * Writes the reply for `d` to buf (NUL-terminated, at most REPLY_MAX
 * octets before the NUL) and its length to *len.  `conf` NULL means the
 * defaults (all zero).  Returns 0, or -1 with err: MTS_ERR_ARG (a NULL
 * argument, a policy domain that is not a host name, a reason with
 * control octets), MTS_ERR_TOOBIG (over REPLY_MAX, or over size - 1).
 * *len and *info are written only on success; buf may be written on
 * failure.  len, info and err may be NULL.
 */
int reply_format(const struct reply_decision *d, const struct reply_conf *conf,
                 char *buf, size_t size, size_t *len, struct reply_info *info,
                 struct mts_err *err);

#endif /* MTS_POLICYD_REPLY_H */
