/* SPDX-License-Identifier: ISC */
/*
 * An item of a source, parsed and stored or quarantined (ingest.h).
 */
#include <stdio.h>
#include <string.h>

#include <mtasts/tlsrpt_report.h>

#include "ingest.h"

/*
 * Says why a report was refused in one line: its first error finding
 * (the parser's reason), else the error's own message.
 */
static void
refusal_reason(const struct mts_diag *diag, const struct mts_err *err,
               char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < diag->count; i++) {
		const struct mts_finding *f = &diag->items[i];

		if (f->severity != MTS_SEV_ERROR)
			continue;
		snprintf(buf, size, "%s: %s%s%s", f->code, f->summary,
		         f->message[0] != '\0' ? ": " : "", f->message);
		return;
	}
	snprintf(buf, size, "%s", err->msg != NULL ? err->msg : "not a report");
}

static enum ingest_outcome
quarantine(struct ingest *in, const struct source_item *item,
           const char *reason)
{
	char detail[MTS_FINDING_MSG_SIZE * 2 + 32];

	if (item->part > 0) {
		/* A mail's other parts may be stored: say which one is not. */
		snprintf(detail, sizeof(detail), "report part %u: %s",
		         item->part, reason);
		reason = detail;
	}
	switch (store_put_quarantine(in->store, item->raw, item->raw_len,
	                             item->origin, reason, in->received,
	                             in->why, sizeof(in->why))) {
	case STORE_ADDED:
	case STORE_KNOWN:
		in->stats.quarantined++;
		if (in->note != NULL)
			in->note(item, INGEST_QUARANTINED, reason,
			         in->note_ctx);
		return INGEST_QUARANTINED;
	case STORE_FAILED:
	default:
		break;
	}
	in->stats.failed++;
	if (in->note != NULL)
		in->note(item, INGEST_FAILED, in->why, in->note_ctx);
	return INGEST_FAILED;
}

enum ingest_outcome
ingest_item(struct ingest *in, const struct source_item *item)
{
	struct mts_tlsrpt_report report;
	struct mts_diag diag;
	struct mts_err err;
	char reason[MTS_FINDING_MSG_SIZE * 2];
	enum ingest_outcome outcome;

	if (item->json == NULL)
		return quarantine(in, item,
		                  item->error != NULL ? item->error :
		                                        "no report found");
	mts_diag_init(&diag);
	memset(&err, 0, sizeof(err));
	if (mts_tlsrpt_report_parse(item->json, item->json_len, in->parse_flags,
	                            &report, &diag, &err) != 0) {
		refusal_reason(&diag, &err, reason, sizeof(reason));
		mts_diag_reset(&diag);
		return quarantine(in, item, reason);
	}
	switch (store_put_report(in->store, &report, &diag, item->origin,
	                         in->received, in->why, sizeof(in->why))) {
	case STORE_ADDED:
		in->stats.added++;
		outcome = INGEST_ADDED;
		break;
	case STORE_KNOWN:
		in->stats.known++;
		outcome = INGEST_KNOWN;
		break;
	case STORE_FAILED:
	default:
		in->stats.failed++;
		outcome = INGEST_FAILED;
		break;
	}
	if (in->note != NULL)
		in->note(item, outcome,
		         outcome == INGEST_FAILED ? in->why : report.report_id,
		         in->note_ctx);
	mts_tlsrpt_report_reset(&report);
	mts_diag_reset(&diag);
	return outcome;
}

enum source_verdict
ingest_source_fn(const struct source_item *item, void *ctx)
{
	struct ingest *in = ctx;

	return ingest_item(in, item) == INGEST_FAILED ? SOURCE_STOP :
							SOURCE_NEXT;
}

enum ingest_outcome
ingest_worst(const struct ingest_stats *stats)
{
	if (stats->failed > 0)
		return INGEST_FAILED;
	if (stats->quarantined > 0)
		return INGEST_QUARANTINED;
	if (stats->added > 0)
		return INGEST_ADDED;
	return INGEST_KNOWN;
}

const char *
ingest_outcome_name(enum ingest_outcome outcome)
{
	switch (outcome) {
	case INGEST_ADDED:
		return "added";
	case INGEST_KNOWN:
		return "known";
	case INGEST_QUARANTINED:
		return "quarantined";
	case INGEST_FAILED:
		return "failed";
	}
	return "failed";
}
