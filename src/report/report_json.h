/* SPDX-License-Identifier: ISC */
/*
 * The normalised TLS-RPT report (include/mtasts/tlsrpt_report.h) as
 * JSON, with jansson: what `mtasts report` prints and stores, whatever
 * its sender wrote.
 *
 * The members are those of RFC 8460 §4.4, by their member names
 * (RPT-JSON-3): "organization-name", "date-range" {"start-datetime",
 * "end-datetime"} as RFC 3339 UTC ("2016-04-01T00:00:00Z"),
 * "contact-info" (null when the sender gave none), "report-id",
 * "policies" [{"policy" {"policy-type", "policy-string" (always an
 * array), "policy-domain" (null when absent), "mx-host" (always an
 * array)}, "summary" {the two counts}, "failure-details" (always an
 * array; a detail's optional members only when present)}].  Beside them:
 * "total-successful-session-count" and "total-failure-session-count"
 * summed over the policies, and "deviations": [{"code", "message"}] from
 * the warning findings of the parse.
 */
#ifndef MTS_REPORT_JSON_H
#define MTS_REPORT_JSON_H

#include <jansson.h>

#include <mtasts/diag.h>
#include <mtasts/tlsrpt_report.h>

/*
 * Returns a new reference to the JSON of `r`, or NULL when memory runs
 * out or a string of `r` is not UTF-8 (never so for a parsed report).
 * "deviations" holds one entry per warning finding of `diag` (NULL: no
 * deviations); a finding folded from several says so in its message.
 * The caller owns the result (json_decref()).
 */
json_t *report_json(const struct mts_tlsrpt_report *r,
                    const struct mts_diag *diag);

#endif /* MTS_REPORT_JSON_H */
