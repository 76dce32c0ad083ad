/* SPDX-License-Identifier: ISC */
/*
 * SMTP TLS Reporting (RFC 8460): the aggregate report (§4), parsed into
 * one normalised form whatever its sender wrote.
 *
 * Real senders break the schema in known ways (Microsoft's dates without
 * a time zone, `mx-host` as a string as in the RFC's own example,
 * `contact-info: null`, failure details without `sending-mta-ip`, a TLSA
 * `policy-string` holding a JSON array inside one string, a missing
 * `policy-domain`).  By default the parser accepts each, normalises it,
 * and notes it as a warning finding ("deviation") in the caller's diag;
 * with MTS_TLSRPT_STRICT each is an error and the report is refused.
 * Anything else that breaks the schema is an error finding and refuses
 * the report: a report is stored whole or not at all.
 *
 * The deviations, each a warning of its own code (src/lib/
 * codes_tlsrpt_report.def; libmtasts(3) lists them):
 *   tlsrpt-report-date-no-zone       a date-time without a zone: UTC
 *   tlsrpt-report-mx-host-string     mx-host a string: a list of one
 *                                    (RFC 8460 erratum 6241)
 *   tlsrpt-report-contact-missing    contact-info null, absent or "":
 *                                    contact_info NULL
 *   tlsrpt-report-contact-syntax     contact-info not local@domain: kept
 *   tlsrpt-report-domain-missing     policy-domain absent or null: NULL
 *   tlsrpt-report-domain-syntax      policy-domain not an A-label
 *                                    domain name: kept
 *   tlsrpt-report-detail-no-sending-ip, tlsrpt-report-detail-no-mx-hostname
 *                                    a failure detail without them: NULL
 *   tlsrpt-report-tlsa-string-array  a tlsa policy-string of one string
 *                                    holding a JSON array of strings:
 *                                    unpacked into them
 *   tlsrpt-report-count-real         a count written as an integral real
 *                                    (10.0, 1e1) up to 2^53: the integer
 *   tlsrpt-report-null-member        another optional member null: absent
 * With MTS_TLSRPT_STRICT each comes as an error finding of the same code
 * and the parse fails with MTS_ERR_INVALID.
 *
 * Errors in both modes: not an object; organization-name, report-id,
 * date-range, its two date-times, policies, policy, policy-type,
 * summary, its two counts, result-type or failed-session-count missing
 * or of the wrong type; organization-name, report-id, policy-type or
 * result-type empty; policies not an array (RPT-JSON-9) or empty; a date
 * that is not RFC 3339 (a date alone, a space for the "T"); end before
 * start; a policy-type other than "sts", "tlsa" and "no-policy-found",
 * case variants ("STS") included (RPT-JSON-10); a count negative,
 * fractional, a string, a real past 2^53 or an integer past INT64_MAX;
 * totals that add up past INT64_MAX.  A missing report-id is an error
 * even when lenient: a report is stored under (organization-name,
 * report-id) and one without an id could be neither told from a resent
 * copy nor stored twice safely (RPT-JSON-8).
 *
 * Neither deviations nor errors: unknown members (ignored, RPT-JSON-28);
 * absent policy-string, mx-host and failure-details (empty lists,
 * RPT-JSON-13); an unknown result-type (kept, RPT-RES-12; an info
 * finding); detail counts adding up to more or less than
 * total-failure-session-count (RPT-JSON-18); a date-range that is not
 * one UTC day (an info finding, RPT-JSON-6); end-datetime 23:59:59Z or
 * the next 00:00:00Z (§24 A17).  Strings are kept as received: the
 * lines of an sts policy-string "including any errors" (RFC 8460 §4.5),
 * mx-host patterns, IP addresses and URIs are not checked.
 *
 * The parser is pure: it reads bytes the caller gives it, from a buffer
 * or a callback (so an inflating reader can feed it without holding the
 * whole inflated text), and never does I/O of its own.
 */
#ifndef MTASTS_TLSRPT_REPORT_H
#define MTASTS_TLSRPT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <mtasts/diag.h>
#include <mtasts/err.h>
#include <mtasts/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Caps: a report over them is refused (MTS_ERR_TOOBIG), never cut.  RFC
 * 8460 §7 notes 10 MB as a commonly observed receiver limit; real daily
 * reports are a few KiB.
 */
#define MTS_TLSRPT_REPORT_MAX   (10u * 1024 * 1024) /* JSON octets */
#define MTS_TLSRPT_POLICIES_MAX 4096  /* policies[] of one report */
#define MTS_TLSRPT_DETAILS_MAX  65536 /* failure-details[], all policies */
#define MTS_TLSRPT_STRINGS_MAX  65536 /* policy-string + mx-host items */
#define MTS_TLSRPT_FIELD_MAX    4096  /* octets of one string member */

/* Flags of the parsers. */
#define MTS_TLSRPT_STRICT 0x1u /* deviations are errors */

struct mts_tlsrpt_failure {
	char *result_type;    /* §4.3; unknown types kept as given (§6.6) */
	char *sending_mta_ip; /* NULL when absent */
	char *receiving_mx_hostname;  /* NULL when absent */
	char *receiving_mx_helo;      /* NULL when absent */
	char *receiving_ip;           /* NULL when absent */
	char *additional_information; /* NULL when absent */
	char *failure_reason_code;    /* NULL when absent */
	uint64_t failed_session_count;
};

struct mts_tlsrpt_policy {
	char *policy_type;     /* "sts", "tlsa" or "no-policy-found" */
	char *policy_domain;   /* NULL when absent (a deviation) */
	char **policy_strings; /* one per line or TLSA RR, as received */
	size_t policy_string_count;
	char **mx_hosts; /* the mx patterns; a bare string made a list */
	size_t mx_host_count;
	uint64_t successful; /* total-successful-session-count */
	uint64_t failed;     /* total-failure-session-count */
	struct mts_tlsrpt_failure *failures;
	size_t failure_count;
};

struct mts_tlsrpt_report {
	char *organization_name;
	char *report_id;    /* with organization_name, the report's identity */
	char *contact_info; /* NULL when null or absent (a deviation) */
	int64_t start;      /* date-range, seconds since the epoch, UTC */
	int64_t end;
	struct mts_tlsrpt_policy *policies;
	size_t policy_count;
	uint64_t total_successful; /* summed over the policies */
	uint64_t total_failed;
};

/*
 * Parses one report from `len` octets of JSON.  Returns 0 and fills
 * `out` when it is a report (deviations noted as warnings in `diag`), or
 * -1: MTS_ERR_SYNTAX (not JSON, not I-JSON: invalid UTF-8, a duplicate
 * member), MTS_ERR_INVALID (JSON but not a report; the reasons are error
 * findings in `diag`), MTS_ERR_TOOBIG (over a cap), MTS_ERR_NOMEM.
 * `out` is written only on success; release it with
 * mts_tlsrpt_report_reset().  `json` need not be NUL-terminated; a NUL
 * inside it is a syntax error.  `diag` may be NULL.  Every count of
 * `out` (totals included) is at most INT64_MAX.  jansson does not tell
 * every failed allocation of its own apart: a string it could not
 * allocate reads as MTS_ERR_SYNTAX.
 */
MTS_API int mts_tlsrpt_report_parse(const char *json, size_t len,
                                    unsigned flags,
                                    struct mts_tlsrpt_report *out,
                                    struct mts_diag *diag, struct mts_err *err);

/*
 * As mts_tlsrpt_report_parse(), reading the JSON from `read`: it writes
 * at most `size` octets to `buf` and returns how many, 0 at the end, or
 * (size_t)-1 on an error of its own (then the parse fails with
 * MTS_ERR_IO).  More than MTS_TLSRPT_REPORT_MAX octets fail with
 * MTS_ERR_TOOBIG as soon as they are read: `read` is asked for at most
 * MTS_TLSRPT_REPORT_MAX + 1 octets in all, the last one only to tell
 * the end from one octet too many.  It is not called again once it has
 * returned 0 or (size_t)-1, nor after the parse returns; returning more
 * than `size` is an MTS_ERR_IO.
 */
typedef size_t (*mts_tlsrpt_read_fn)(void *buf, size_t size, void *ctx);
MTS_API int mts_tlsrpt_report_parse_cb(mts_tlsrpt_read_fn read, void *ctx,
                                       unsigned flags,
                                       struct mts_tlsrpt_report *out,
                                       struct mts_diag *diag,
                                       struct mts_err *err);

/* Frees what a parsed report owns and zeroes it.  NULL-safe. */
MTS_API void mts_tlsrpt_report_reset(struct mts_tlsrpt_report *report);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_TLSRPT_REPORT_H */
