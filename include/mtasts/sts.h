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

#define MTS_STS_ID_MAX	   32	/* sts-id = 1*32(ALPHA / DIGIT) */
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
    struct mts_sts_record *out, struct mts_diag *diag, struct mts_err *err);

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

/* ---- policy body (RFC 8461 §3.2) ---- */

/* Senders stop reading a policy body past 64 KiB (§3.3 suggests it). */
#define MTS_STS_POLICY_MAX (64 * 1024)
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
	char **mx;	  /* owned; mx_count patterns as written, e.g.
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
    struct mts_sts_policy *out, struct mts_diag *diag, struct mts_err *err);

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
MTS_API bool mts_sts_id_parse_timestamp(const char *id, size_t len,
    int64_t *t);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_STS_H */
