/* SPDX-License-Identifier: ISC */
/*
 * MTA-STS (RFC 8461): the _mta-sts TXT record (§3.1), the policy body
 * (§3.2), MX pattern matching (§4.1) and policy ids.
 *
 * All functions are pure: no I/O, no clock (time is an argument), no
 * globals.  Parsers take (buffer, length) and need no NUL terminator.
 */
#ifndef MTASTS_STS_H
#define MTASTS_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/diag.h>
#include <mtasts/err.h>
#include <mtasts/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- _mta-sts TXT record (RFC 8461 §3.1) ---- */

#define MTS_STS_ID_MAX     32   /* sts-id = 1*32(ALPHA / DIGIT) */
#define MTS_STS_RECORD_MAX 4096 /* cap on one concatenated TXT record */

struct mts_sts_record {
	char id[MTS_STS_ID_MAX + 1]; /* NUL-terminated */
};

/*
 * Parses one TXT record (its strings already concatenated without spaces,
 * §3.1).  Returns 0 when the record is valid: it begins with "v=STSv1",
 * matches the ABNF and has an id.  Returns -1 otherwise, with err set
 * (MTS_ERR_SYNTAX, MTS_ERR_INVALID, MTS_ERR_TOOBIG).  `out` is written
 * only on success.  Every finding, warnings and infos included, goes to
 * `diag` when it is not NULL; `diag` and `err` may be NULL.
 *
 * Positions on the ambiguous points (docs/conformance.md): trailing SP or
 * HTAB is trimmed with a warning (A3); WSP before the first ";" is
 * accepted with a warning (A2); a duplicated id: the first wins (A24).
 */
MTS_API int mts_sts_record_parse(const char *txt, size_t len,
                                 struct mts_sts_record *out,
                                 struct mts_diag *diag, struct mts_err *err);

/*
 * True when a TXT record is a candidate MTA-STS record for the selection
 * of §3.1: it begins with "v=STSv1" followed by optional WSP and ";".
 * "v=STSv10" is not a candidate.
 */
MTS_API bool mts_sts_record_is_candidate(const char *txt, size_t len);

/*
 * Selects the MTA-STS record among the TXT RRset at _mta-sts.<domain>
 * (§3.1): discards records that are not candidates; exactly one must
 * remain.  On success writes its position to *index and returns 0; else
 * -1 with MTS_ERR_NOTFOUND (none) or MTS_ERR_MULTIPLE (more than one).
 * The caller then parses the selected record.
 */
MTS_API int mts_sts_record_select(const char *const *txts, const size_t *lens,
                                  size_t n, size_t *index, struct mts_err *err);

/*
 * Writes the query name "_mta-sts.<domain>" (§3.1) to buf: the domain
 * lower-cased, one trailing dot dropped, no trailing dot added.  The
 * domain must be an ASCII (A-label) name.  Returns 0, or -1 (MTS_ERR_ARG
 * for a malformed domain, MTS_ERR_TOOBIG when buf is too small).
 */
MTS_API int mts_sts_record_qname(const char *domain, char *buf, size_t size,
                                 struct mts_err *err);

/* ---- discovery: what a sender does with the TXT answer (§3.1, §5.1) ---- */

/* The outcome of a DNS lookup, as the I/O adapter reports it. */
enum mts_dns_status {
	MTS_DNS_OK = 0,   /* an answer: the TXT RRset (CNAMEs followed) */
	MTS_DNS_NXDOMAIN, /* the name or the TXT type does not exist */
	MTS_DNS_TEMPFAIL  /* SERVFAIL, timeout, CNAME loop, bogus */
};

/* A cached policy, as far as discovery needs it. */
struct mts_sts_cached {
	const char *id;   /* the record id the policy was fetched under */
	int64_t fetched;  /* time of the last successful fetch */
	uint32_t max_age; /* of the cached policy */
};

enum mts_sts_action {
	MTS_STS_NO_POLICY = 0, /* deliver as if the domain had no MTA-STS */
	MTS_STS_USE_CACHE,     /* apply the cached policy */
	MTS_STS_FETCH          /* fetch the policy for the new id */
};

struct mts_sts_discovery {
	enum mts_sts_action action;
	char id[MTS_STS_ID_MAX + 1]; /* the record's id, when one was valid */
	enum mts_errcode record_err; /* why no record was usable, or MTS_OK */
};

/*
 * Decides, at time `now`, what a sender does with the answer to the TXT
 * query (§3.1, §3.3, §5.1): a missing, unusable or temporarily failing
 * record never removes an unexpired cached policy; a valid record whose
 * id equals the cached one (byte-wise: ids have no order) needs no fetch;
 * any other valid record means a fetch.  `cached` may be NULL.  Always
 * succeeds and fills *out.
 */
MTS_API void mts_sts_discover(enum mts_dns_status status,
                              const char *const *txts, const size_t *lens,
                              size_t n, const struct mts_sts_cached *cached,
                              int64_t now, struct mts_sts_discovery *out);

/* True when a cached policy fetched at `fetched` is still valid at `now`
 * (§3.2, §5.1: time since fetch has not exceeded max_age). */
MTS_API bool mts_sts_cache_fresh(const struct mts_sts_cached *cached,
                                 int64_t now);

/* ---- policy body (RFC 8461 §3.2) ---- */

/* Senders stop reading a policy body past 64 KiB (§3.3 suggests it). */
#define MTS_STS_POLICY_MAX  (64 * 1024)
/* The largest max_age the RFC allows (§3.2): about one year. */
#define MTS_STS_MAX_AGE_MAX 31557600u

enum mts_sts_mode {
	MTS_STS_MODE_NONE = 0,
	MTS_STS_MODE_TESTING,
	MTS_STS_MODE_ENFORCE
};

struct mts_sts_policy {
	enum mts_sts_mode mode;
	uint32_t max_age; /* seconds, clamped to MTS_STS_MAX_AGE_MAX */
	size_t mx_count;
	char **mx; /* owned; mx_count patterns as written, e.g.
			     "*.example.net" */
};

/*
 * Parses a policy body.  Returns 0 when it is valid under the grammar and
 * the rules of §3.2 (warnings allowed); -1 otherwise (err: MTS_ERR_SYNTAX,
 * MTS_ERR_INVALID, MTS_ERR_TOOBIG over MTS_STS_POLICY_MAX, MTS_ERR_NOMEM).
 * On success `out` owns its strings (release with mts_sts_policy_reset());
 * on failure `out` is untouched.  All findings go to `diag` if not NULL.
 */
MTS_API int mts_sts_policy_parse(const char *body, size_t len,
                                 struct mts_sts_policy *out,
                                 struct mts_diag *diag, struct mts_err *err);

/* Frees what a parsed policy owns and zeroes it.  NULL-safe. */
MTS_API void mts_sts_policy_reset(struct mts_sts_policy *policy);

/*
 * Formats a policy as a body with CRLF line ends (the "CRLF-separated"
 * of §3.2), fields in the order version, mode, mx..., max_age.  Returns a
 * NUL-terminated string the caller frees, or NULL (err MTS_ERR_NOMEM,
 * MTS_ERR_TOOBIG).
 */
MTS_API char *mts_sts_policy_format(const struct mts_sts_policy *policy,
                                    struct mts_err *err);

/* "none", "testing", "enforce". */
MTS_API const char *mts_sts_mode_name(enum mts_sts_mode mode);

/*
 * True when at least one mx pattern of the policy covers `host`
 * (§4: one matching pattern is enough).
 */
MTS_API bool mts_sts_policy_match(const struct mts_sts_policy *policy,
                                  const char *host);

/* What a sender does with one MX host under a policy (§4, §5, §8.4). */
enum mts_sts_mx_verdict {
	MTS_STS_MX_ALLOWED = 0,    /* covered, or mode none */
	MTS_STS_MX_ALLOWED_REPORT, /* not covered, mode testing: deliver and
				      report the failure */
	MTS_STS_MX_REFUSED         /* not covered, mode enforce: treat the host
				      as unreachable and go on down the MX list */
};

MTS_API enum mts_sts_mx_verdict
mts_sts_policy_check_mx(const struct mts_sts_policy *policy, const char *host);

/* ---- MX pattern matching (RFC 8461 §4.1) ---- */

/*
 * Checks an mx pattern against `["*."] Domain` (§3.2, RFC 5321 §4.1.2)
 * with the DNS limits of 63 octets a label and 253 a name.  Returns 0 or
 * -1 with err (MTS_ERR_SYNTAX) and a constant message saying why.
 */
MTS_API int mts_sts_match_pattern_check(const char *pattern,
                                        struct mts_err *err);

/*
 * True when `pattern` covers `host` under §4.1: case-insensitive, the
 * host's trailing dot ignored, "*." stands for exactly one whole leftmost
 * label.  A malformed pattern or host name never matches.
 */
MTS_API bool mts_sts_match(const char *pattern, const char *host);

/* ---- policy ids ---- */

#define MTS_STS_ID_TIMESTAMP_LEN 16 /* YYYYMMDDTHHMMSSZ */

/*
 * Writes the UTC timestamp id "YYYYMMDDTHHMMSSZ" of `t` (seconds since
 * the epoch) to buf, which must hold MTS_STS_ID_TIMESTAMP_LEN + 1 bytes.
 * Returns 0, or -1 (MTS_ERR_ARG) when size is too small or t is outside
 * the years 0000..9999.  The RFC allows only ALPHA/DIGIT in ids, so the
 * ISO 8601 basic format is used without separators.
 */
MTS_API int mts_sts_id_format(int64_t t, char *buf, size_t size,
                              struct mts_err *err);

/*
 * True when `id` is a valid sts-id (1..32 ALPHA/DIGIT, §3.1).
 */
MTS_API bool mts_sts_id_valid(const char *id, size_t len);

/*
 * True when `id` is a UTC timestamp id "YYYYMMDDTHHMMSSZ" naming a real
 * date and time; on success writes the time to *t when t is not NULL.
 */
MTS_API bool mts_sts_id_parse_timestamp(const char *id, size_t len, int64_t *t);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_STS_H */
