/* SPDX-License-Identifier: ISC */
/*
 * The one path from an input to the store, shared by `mtasts report
 * ingest` (files, mailboxes, stdin from an MTA), its --imap mode and the
 * HTTPS POST receiver of `mtasts serve` (RFC 8460 §5.3, §5.4): an item
 * of a source is parsed and stored, or put in the quarantine with the
 * reason it is not a report, so nothing received is silently lost.
 */
#ifndef MTS_REPORT_INGEST_H
#define MTS_REPORT_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"
#include "store.h"

enum ingest_outcome {
	INGEST_ADDED = 0,   /* a report stored now */
	INGEST_KNOWN,       /* a report stored before (RFC 8460 §5.3) */
	INGEST_QUARANTINED, /* not a report: kept in the quarantine */
	INGEST_FAILED       /* the store failed: nothing kept; retry */
};

struct ingest_stats {
	size_t added;
	size_t known;
	size_t quarantined;
	size_t failed;
};

/* Called once per item, for the log or the terminal; may be NULL. */
typedef void (*ingest_note_fn)(const struct source_item *item,
                               enum ingest_outcome outcome, const char *detail,
                               void *ctx);

struct ingest {
	struct store *store;  /* borrowed */
	unsigned parse_flags; /* MTS_TLSRPT_STRICT */
	int64_t received;     /* seconds since the epoch: the caller's clock */
	ingest_note_fn note;
	void *note_ctx;
	struct ingest_stats stats;
	char why[STORE_WHY_SIZE]; /* the store's last failure */
};

/* Parses and stores one item (or quarantines it); counts it. */
enum ingest_outcome ingest_item(struct ingest *in,
                                const struct source_item *item);

/*
 * ingest_item() as a source_item_fn: `ctx` is the struct ingest.  The
 * walk stops at the first store failure, so that the caller can exit
 * EX_TEMPFAIL and the sender (or the MTA) retries the rest.
 */
enum source_verdict ingest_source_fn(const struct source_item *item, void *ctx);

/*
 * The pipelined form, for many items (`mtasts report ingest` of a
 * directory or a mailbox): the caller's thread reads (and inflates)
 * each item and gives it to the pipe (ingest_pipe_fn() as the source
 * callback), a thread of the pipe parses it and another stores it, in
 * the order given, each report in its own transaction as ingest_item()
 * stores it.  The three stages cost about as much as each other; on two
 * cores they keep both busy (bench/report.sh).  An item waits in the
 * pipe at most PIPE_WAIT_MS (20 ms) for others to come.
 *
 * While the pipe runs, its store's thread alone uses in->store and
 * writes in->stats and in->why, and it calls in->note with an item
 * holding only origin, kind, part and, for an input quarantined, raw
 * (its first STORE_QUARANTINE_MAX octets; the rest is NULL or 0: the
 * input is gone by then).  After the first store failure the pipe
 * stores nothing more: ingest_pipe_fn() answers SOURCE_STOP, and the
 * items read meanwhile are dropped uncounted, as if never read, so the
 * outcome is ingest_source_fn()'s.
 */
struct ingest_pipe;

/*
 * Starts the pipe's threads.  0 and *out, or -1 when they could not be
 * made (then ingest_source_fn() does the same work in one thread).
 */
int ingest_pipe_start(struct ingest *in, struct ingest_pipe **out);

/*
 * ingest_item() as a source_item_fn, pipelined: `ctx` is the pipe.
 * Copies the item into the pipe, and waits only when the pipe is full.
 */
enum source_verdict ingest_pipe_fn(const struct source_item *item, void *ctx);

/*
 * Waits until every item queued is stored (or dropped), so that what the
 * caller prints next comes after the notes of the items before it.
 */
void ingest_pipe_sync(struct ingest_pipe *pipe);

/*
 * Waits for the queue, ends the threads and frees the pipe (NULL-safe).
 * After it, in->stats count every item given and in->store is the
 * caller's again.
 */
void ingest_pipe_end(struct ingest_pipe *pipe);

/* The worst outcome so far: FAILED, then QUARANTINED, then ADDED. */
enum ingest_outcome ingest_worst(const struct ingest_stats *stats);

/* "added", "known", "quarantined" or "failed". */
const char *ingest_outcome_name(enum ingest_outcome outcome);

#endif /* MTS_REPORT_INGEST_H */
