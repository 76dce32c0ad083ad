/* SPDX-License-Identifier: ISC */
/*
 * An item of a source, parsed and stored or quarantined (ingest.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/*
 * One item between its parse and its store.  In the pipe, a slot of its
 * queue: `buf` keeps the copies of what the item borrowed (its origin,
 * and the input's first octets for the quarantine), and is kept from
 * one item to the next.
 */
struct job {
	struct source_item item; /* origin, kind, part; raw when refused */
	bool parsed;             /* a report: else the quarantine */
	bool nomem;              /* the copies could not be made */
	struct mts_tlsrpt_report report;
	struct mts_diag diag;
	char reason[MTS_FINDING_MSG_SIZE * 2 + 32]; /* why refused */
	char *buf;
	size_t buf_size;
};

/* The reason an item goes to the quarantine, with its part in a mail. */
static void
set_reason(struct job *job, const char *reason)
{
	/* A mail's other parts may be stored: say which one is not. */
	if (job->item.part > 0)
		snprintf(job->reason, sizeof(job->reason), "report part %u: %s",
		         job->item.part, reason);
	else
		snprintf(job->reason, sizeof(job->reason), "%s", reason);
}

/* Parses an item into a job; the job borrows what the item holds. */
static void
prepare(const struct ingest *in, const struct source_item *item,
        struct job *job)
{
	char reason[MTS_FINDING_MSG_SIZE * 2];
	struct mts_err err;

	job->item = *item;
	job->parsed = false;
	job->nomem = false;
	if (item->json == NULL) {
		set_reason(job,
		           item->error != NULL ? item->error :
		                                 "no report found");
		return;
	}
	mts_diag_init(&job->diag);
	memset(&err, 0, sizeof(err));
	if (mts_tlsrpt_report_parse(item->json, item->json_len, in->parse_flags,
	                            &job->report, &job->diag, &err) != 0) {
		refusal_reason(&job->diag, &err, reason, sizeof(reason));
		mts_diag_reset(&job->diag);
		set_reason(job, reason);
		return;
	}
	job->parsed = true;
}

/* Frees what a job owns but its buffer (kept for the next item). */
static void
job_clear(struct job *job)
{
	if (job->parsed) {
		mts_tlsrpt_report_reset(&job->report);
		mts_diag_reset(&job->diag);
		job->parsed = false;
	}
}

static enum ingest_outcome
count_note(struct ingest *in, const struct job *job,
           enum ingest_outcome outcome, const char *detail)
{
	switch (outcome) {
	case INGEST_ADDED:
		in->stats.added++;
		break;
	case INGEST_KNOWN:
		in->stats.known++;
		break;
	case INGEST_QUARANTINED:
		in->stats.quarantined++;
		break;
	case INGEST_FAILED:
		in->stats.failed++;
		break;
	}
	if (in->note != NULL)
		in->note(&job->item, outcome, detail, in->note_ctx);
	return outcome;
}

static enum ingest_outcome
quarantine(struct ingest *in, const struct job *job)
{
	const struct source_item *item = &job->item;

	switch (store_put_quarantine(in->store, item->raw, item->raw_len,
	                             item->origin, job->reason, in->received,
	                             in->why, sizeof(in->why))) {
	case STORE_ADDED:
	case STORE_KNOWN:
		return count_note(in, job, INGEST_QUARANTINED, job->reason);
	case STORE_FAILED:
	default:
		break;
	}
	return count_note(in, job, INGEST_FAILED, in->why);
}

/* Stores a prepared job, counts it and notes it; clears it. */
static enum ingest_outcome
store_job(struct ingest *in, struct job *job)
{
	enum ingest_outcome outcome;

	if (job->nomem) {
		snprintf(in->why, sizeof(in->why), "out of memory");
		return count_note(in, job, INGEST_FAILED, in->why);
	}
	if (!job->parsed)
		return quarantine(in, job);
	switch (store_put_report(in->store, &job->report, &job->diag,
	                         job->item.origin, in->received, in->why,
	                         sizeof(in->why))) {
	case STORE_ADDED:
		outcome = INGEST_ADDED;
		break;
	case STORE_KNOWN:
		outcome = INGEST_KNOWN;
		break;
	case STORE_FAILED:
	default:
		outcome = INGEST_FAILED;
		break;
	}
	count_note(in, job, outcome,
	           outcome == INGEST_FAILED ? in->why : job->report.report_id);
	job_clear(job);
	return outcome;
}

enum ingest_outcome
ingest_item(struct ingest *in, const struct source_item *item)
{
	struct job job;

	memset(&job, 0, sizeof(job));
	prepare(in, item, &job);
	return store_job(in, &job);
}

enum source_verdict
ingest_source_fn(const struct source_item *item, void *ctx)
{
	struct ingest *in = ctx;

	return ingest_item(in, item) == INGEST_FAILED ? SOURCE_STOP :
							SOURCE_NEXT;
}

/* ---- the pipe ---- */

/*
 * Jobs parsed ahead of the store.  Enough to ride out the store's
 * checkpoints (a few milliseconds); each holds one parsed report.
 *
 * The two threads wake each other by the batch, not by the job: a
 * store that emptied the queue sleeps until PIPE_BATCH jobs are queued
 * (or PIPE_WAIT_MS passed, for a slow source, or the reader waits for
 * it), and a reader that filled it sleeps until PIPE_BATCH slots are
 * free.  Waking a thread costs the waker a system call and both a
 * context switch: once per job, it was 5% of the reader's time.
 */
#define PIPE_DEPTH   64
#define PIPE_BATCH   16
#define PIPE_WAIT_MS 20

struct ingest_pipe {
	struct ingest *in;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t ready; /* jobs queued, the end, or a sync */
	pthread_cond_t room;  /* slots freed, or the queue emptied */
	size_t head;          /* the next job to store */
	size_t count;         /* jobs queued and not yet stored */
	bool ending;
	bool flush;       /* ingest_pipe_sync() waits for the queue */
	bool failed;      /* the store failed: the rest is dropped */
	bool store_waits; /* the store's thread sleeps on `ready` */
	bool read_waits;  /* the reader sleeps on `room` */
	struct job jobs[PIPE_DEPTH];
};

/*
 * Makes the job own what it borrows from the item that is gone once the
 * callback returns: the origin, and for the quarantine the input's
 * octets the store keeps (STORE_QUARANTINE_MAX at most; raw_len stays
 * the input's whole size, which the store records).
 */
static void
job_own(struct job *job)
{
	struct source_item *item = &job->item;
	size_t olen = item->origin != NULL ? strlen(item->origin) + 1 : 0;
	size_t rlen = 0;
	char *p;

	if (!job->parsed && item->raw != NULL)
		rlen = item->raw_len < STORE_QUARANTINE_MAX ?
		    item->raw_len :
		    STORE_QUARANTINE_MAX;
	/* Gone with the input: not given to the store or to note. */
	item->json = NULL;
	item->json_len = 0;
	item->error = NULL;
	item->note = NULL;
	item->report_domain = NULL;
	item->report_submitter = NULL;
	item->report_id = NULL;
	item->filename = NULL;
	if (rlen == 0) {
		item->raw = NULL;
		item->raw_len = 0;
	}
	if (olen + rlen > job->buf_size) {
		if ((p = realloc(job->buf, olen + rlen)) == NULL) {
			job_clear(job);
			job->nomem = true;
			item->origin = "(out of memory)";
			item->raw = NULL;
			item->raw_len = 0;
			return;
		}
		job->buf = p;
		job->buf_size = olen + rlen;
	}
	if (olen != 0) {
		memcpy(job->buf, item->origin, olen);
		item->origin = job->buf;
	}
	if (rlen != 0) {
		memcpy(job->buf + olen, item->raw, rlen);
		item->raw = job->buf + olen;
	}
}

/* PIPE_WAIT_MS from now, on the clock of the pipe's conditions. */
static void
deadline(struct timespec *until)
{
	clock_gettime(CLOCK_MONOTONIC, until);
	until->tv_nsec += PIPE_WAIT_MS * 1000000L;
	if (until->tv_nsec >= 1000000000L) {
		until->tv_sec++;
		until->tv_nsec -= 1000000000L;
	}
}

/*
 * Sleeps until a batch is queued, the end or a sync; or, when some jobs
 * are queued, PIPE_WAIT_MS at most (a slow source: a mailbox over the
 * network).  An idle store's thread wakes every PIPE_WAIT_MS.
 */
static void
await_batch(struct ingest_pipe *p)
{
	struct timespec until;

	p->store_waits = true;
	deadline(&until);
	while (p->count < PIPE_BATCH && !p->ending && !p->flush)
		if (pthread_cond_timedwait(&p->ready, &p->lock, &until) ==
		    ETIMEDOUT) {
			if (p->count > 0)
				break;
			deadline(&until);
		}
	p->store_waits = false;
}

static void *
pipe_main(void *arg)
{
	struct ingest_pipe *p = arg;
	struct job *job;
	bool drop;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->count == 0 && !p->ending)
			await_batch(p);
		if (p->count == 0) {
			if (p->ending)
				break;
			continue;
		}
		job = &p->jobs[p->head];
		drop = p->failed;
		pthread_mutex_unlock(&p->lock);
		if (drop)
			job_clear(job);
		else if (store_job(p->in, job) == INGEST_FAILED)
			drop = true;
		pthread_mutex_lock(&p->lock);
		p->failed = drop;
		p->head = (p->head + 1) % PIPE_DEPTH;
		p->count--;
		if (p->read_waits &&
		    (p->failed || p->count + PIPE_BATCH <= PIPE_DEPTH ||
		     p->count == 0))
			pthread_cond_signal(&p->room);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int
ingest_pipe_start(struct ingest *in, struct ingest_pipe **out)
{
	struct ingest_pipe *p;
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->in = in;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto fail_lock;
	if (pthread_condattr_init(&attr) != 0)
		goto fail_ready;
	/* Timed waits on the monotonic clock: await_batch(). */
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&p->ready, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0)
		goto fail_ready;
	if (pthread_cond_init(&p->room, NULL) != 0)
		goto fail_room;
	/* Signals stay the caller's thread's, as without the pipe. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->thread, NULL, pipe_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		goto fail_thread;
	*out = p;
	return 0;
fail_thread:
	pthread_cond_destroy(&p->room);
fail_room:
	pthread_cond_destroy(&p->ready);
fail_ready:
	pthread_mutex_destroy(&p->lock);
fail_lock:
	free(p);
	return -1;
}

enum source_verdict
ingest_pipe_fn(const struct source_item *item, void *ctx)
{
	struct ingest_pipe *p = ctx;
	struct job *job;
	bool failed;

	pthread_mutex_lock(&p->lock);
	if (p->count == PIPE_DEPTH) {
		p->read_waits = true;
		while (p->count + PIPE_BATCH > PIPE_DEPTH && !p->failed)
			pthread_cond_wait(&p->room, &p->lock);
		p->read_waits = false;
	}
	failed = p->failed;
	/* Not in the queue: the store's thread leaves it alone. */
	job = &p->jobs[(p->head + p->count) % PIPE_DEPTH];
	pthread_mutex_unlock(&p->lock);
	if (failed)
		return SOURCE_STOP;
	prepare(p->in, item, job);
	job_own(job);
	pthread_mutex_lock(&p->lock);
	p->count++;
	failed = p->failed;
	if (p->store_waits && p->count >= PIPE_BATCH)
		pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->lock);
	return failed ? SOURCE_STOP : SOURCE_NEXT;
}

void
ingest_pipe_sync(struct ingest_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->flush = true;
	pthread_cond_signal(&p->ready);
	p->read_waits = true;
	while (p->count != 0)
		pthread_cond_wait(&p->room, &p->lock);
	p->read_waits = false;
	p->flush = false;
	pthread_mutex_unlock(&p->lock);
}

void
ingest_pipe_end(struct ingest_pipe *p)
{
	size_t i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->ending = true;
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	for (i = 0; i < PIPE_DEPTH; i++)
		free(p->jobs[i].buf);
	pthread_cond_destroy(&p->room);
	pthread_cond_destroy(&p->ready);
	pthread_mutex_destroy(&p->lock);
	free(p);
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
