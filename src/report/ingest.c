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

/* Parses the job's item; the job borrows what the item holds. */
static void
parse_job(const struct ingest *in, struct job *job)
{
	const struct source_item *item = &job->item;
	char reason[MTS_FINDING_MSG_SIZE * 2];
	struct mts_err err;

	job->parsed = false;
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

/*
 * Stores a prepared job, counts it and notes it.  The job keeps its
 * report until job_clear(): in the pipe, the parser's thread frees it
 * before it parses the next report into the slot, so that what a
 * thread allocated is freed by that thread (glibc frees another
 * thread's memory into that thread's arena, under its lock).
 */
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
	return outcome;
}

enum ingest_outcome
ingest_item(struct ingest *in, const struct source_item *item)
{
	enum ingest_outcome outcome;
	struct job job;

	memset(&job, 0, sizeof(job));
	job.item = *item;
	parse_job(in, &job);
	outcome = store_job(in, &job);
	job_clear(&job);
	return outcome;
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
 * The pipe is a ring of jobs in the order given, in three stages: the
 * reader (the caller's thread) copies an item into the slot after the
 * last job; the parser's thread parses the oldest job not yet parsed;
 * the store's thread stores the oldest job, once parsed, and frees its
 * slot.  One thread a stage keeps the order.  Reading and inflating,
 * parsing, and storing cost about as much as each other, so on two
 * cores the three threads keep both busy where two left one waiting.
 *
 * PIPE_DEPTH jobs are enough to ride out the store's checkpoints (a few
 * milliseconds).  The threads wake each other by the batch, not by the
 * job: a thread that ran out of work sleeps until PIPE_BATCH jobs wait
 * for it (or PIPE_WAIT_MS passed with some waiting, for a slow source,
 * or the end or a sync came), and a reader that filled the ring sleeps
 * until PIPE_BATCH slots are free.  Waking a thread costs the waker a
 * system call and both a context switch: once per job, it was 5% of
 * the reader's time.
 */
#define PIPE_DEPTH   64
#define PIPE_BATCH   16
#define PIPE_WAIT_MS 20

/* A slot's buffer bigger than this is freed once its job is stored. */
#define PIPE_BUF_KEEP (256u * 1024)

struct ingest_pipe {
	struct ingest *in;
	pthread_t parser;
	pthread_t storer;
	bool parser_started;
	bool storer_started;
	pthread_mutex_t lock;
	pthread_cond_t to_parse; /* jobs read, the end, or a sync */
	pthread_cond_t to_store; /* jobs parsed, the end, or a sync */
	pthread_cond_t room;     /* slots freed, or the ring emptied */
	size_t head;             /* the oldest job: the next to store */
	size_t count;            /* jobs in the ring */
	size_t parsed;           /* of them, from head on, parsed */
	bool ending;
	bool flush;        /* ingest_pipe_sync() waits for the ring */
	bool failed;       /* the store failed: the rest is dropped */
	bool parser_waits; /* on to_parse */
	bool storer_waits; /* on to_store */
	bool reader_waits; /* on room */
	struct job jobs[PIPE_DEPTH];
};

/*
 * Copies an item into a slot: the item's pointers are valid only during
 * the callback.  Its origin and JSON whole, and the input's octets the
 * store keeps should it go to the quarantine (STORE_QUARANTINE_MAX at
 * most; raw_len stays the input's whole size, which the store records).
 * The fields the store and the note do not use are left out.  When the
 * copy cannot be made, the job fails the store ("out of memory").
 */
static void
job_copy(struct job *job, const struct source_item *from)
{
	struct source_item *item = &job->item;
	size_t olen = from->origin != NULL ? strlen(from->origin) + 1 : 0;
	size_t jlen = from->json != NULL ? from->json_len + 1 : 0;
	size_t rlen = 0, need;
	char *p;

	if (from->raw != NULL)
		rlen = from->raw_len < STORE_QUARANTINE_MAX ?
		    from->raw_len :
		    STORE_QUARANTINE_MAX;
	memset(item, 0, sizeof(*item));
	item->kind = from->kind;
	item->part = from->part;
	item->raw_len = from->raw_len;
	job->nomem = false;
	need = olen + jlen + rlen + 1; /* never 0: realloc(p, 0) frees */
	if (need > job->buf_size) {
		if ((p = realloc(job->buf, need)) == NULL) {
			job->nomem = true;
			item->origin = "(out of memory)";
			item->raw_len = 0;
			return;
		}
		job->buf = p;
		job->buf_size = need;
	}
	p = job->buf;
	if (olen != 0) {
		memcpy(p, from->origin, olen);
		item->origin = p;
		p += olen;
	}
	if (jlen != 0) {
		memcpy(p, from->json, jlen - 1);
		p[jlen - 1] = '\0';
		item->json = p;
		item->json_len = from->json_len;
		p += jlen;
	}
	if (rlen != 0) {
		memcpy(p, from->raw, rlen);
		item->raw = p;
	} else {
		item->raw_len = 0;
	}
	/* Kept as a quarantine reason: copied into job->reason. */
	if (from->json == NULL)
		set_reason(job,
		           from->error != NULL ? from->error :
		                                 "no report found");
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

enum stage { STAGE_PARSE, STAGE_STORE };

/* The jobs waiting for a stage's thread. */
static size_t
waiting(const struct ingest_pipe *p, enum stage stage)
{
	return stage == STAGE_PARSE ? p->count - p->parsed : p->parsed;
}

/* Whether a stage's thread, out of work, is to go on now. */
static bool
go_on(const struct ingest_pipe *p, enum stage stage)
{
	size_t n = waiting(p, stage);

	if (n >= PIPE_BATCH || (n > 0 && (p->ending || p->flush)))
		return true;
	/* The end, and nothing left for this stage or any before it. */
	return p->ending && (stage == STAGE_PARSE ? n == 0 : p->count == 0);
}

/*
 * Sleeps until go_on(); or, once some jobs wait, PIPE_WAIT_MS at most.
 * An idle thread wakes every PIPE_WAIT_MS.
 */
static void
await_batch(struct ingest_pipe *p, enum stage stage)
{
	pthread_cond_t *cond =
	    stage == STAGE_PARSE ? &p->to_parse : &p->to_store;
	bool *flag = stage == STAGE_PARSE ? &p->parser_waits : &p->storer_waits;
	struct timespec until;

	*flag = true;
	deadline(&until);
	while (!go_on(p, stage))
		if (pthread_cond_timedwait(cond, &p->lock, &until) ==
		    ETIMEDOUT) {
			if (waiting(p, stage) > 0)
				break;
			deadline(&until);
		}
	*flag = false;
}

/* Whether a thread waiting for `n` jobs is to be woken now. */
static bool
wake_for(const struct ingest_pipe *p, size_t n)
{
	return n >= PIPE_BATCH || p->ending || p->flush;
}

static void *
parser_main(void *arg)
{
	struct ingest_pipe *p = arg;
	struct job *job;
	bool drop;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (waiting(p, STAGE_PARSE) == 0)
			await_batch(p, STAGE_PARSE);
		if (waiting(p, STAGE_PARSE) == 0) {
			if (p->ending)
				break;
			continue;
		}
		job = &p->jobs[(p->head + p->parsed) % PIPE_DEPTH];
		drop = p->failed;
		pthread_mutex_unlock(&p->lock);
		job_clear(job); /* the report stored last in this slot */
		if (!drop && !job->nomem && job->item.json != NULL)
			parse_job(p->in, job);
		/* What the store and the note no longer need. */
		job->item.json = NULL;
		job->item.json_len = 0;
		if (job->parsed) {
			job->item.raw = NULL;
			job->item.raw_len = 0;
		}
		pthread_mutex_lock(&p->lock);
		p->parsed++;
		if (p->storer_waits && wake_for(p, p->parsed))
			pthread_cond_signal(&p->to_store);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void *
storer_main(void *arg)
{
	struct ingest_pipe *p = arg;
	struct job *job;
	bool drop;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->parsed == 0)
			await_batch(p, STAGE_STORE);
		if (p->parsed == 0) {
			if (p->ending && p->count == 0)
				break;
			continue;
		}
		job = &p->jobs[p->head];
		drop = p->failed;
		pthread_mutex_unlock(&p->lock);
		if (!drop && store_job(p->in, job) == INGEST_FAILED)
			drop = true;
		if (job->buf_size > PIPE_BUF_KEEP) {
			free(job->buf);
			job->buf = NULL;
			job->buf_size = 0;
		}
		pthread_mutex_lock(&p->lock);
		p->failed = drop;
		p->head = (p->head + 1) % PIPE_DEPTH;
		p->count--;
		p->parsed--;
		if (p->reader_waits &&
		    (p->failed || p->count + PIPE_BATCH <= PIPE_DEPTH ||
		     p->count == 0))
			pthread_cond_signal(&p->room);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Starts a thread with every signal blocked: they stay the caller's. */
static int
start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

static int
timed_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return -1;
	/* Timed waits on the monotonic clock: await_batch(). */
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}

int
ingest_pipe_start(struct ingest *in, struct ingest_pipe **out)
{
	struct ingest_pipe *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->in = in;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto fail_lock;
	if (timed_cond_init(&p->to_parse) == -1)
		goto fail_parse;
	if (timed_cond_init(&p->to_store) == -1)
		goto fail_store;
	if (pthread_cond_init(&p->room, NULL) != 0)
		goto fail_room;
	if (start_thread(&p->parser, parser_main, p) == -1)
		goto fail_thread;
	p->parser_started = true;
	if (start_thread(&p->storer, storer_main, p) == -1)
		goto fail_thread;
	p->storer_started = true;
	*out = p;
	return 0;
fail_thread:
	ingest_pipe_end(p);
	return -1;
fail_room:
	pthread_cond_destroy(&p->to_store);
fail_store:
	pthread_cond_destroy(&p->to_parse);
fail_parse:
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
		p->reader_waits = true;
		while (p->count + PIPE_BATCH > PIPE_DEPTH && !p->failed)
			pthread_cond_wait(&p->room, &p->lock);
		p->reader_waits = false;
	}
	failed = p->failed;
	/* Not in the ring: the other threads leave it alone. */
	job = &p->jobs[(p->head + p->count) % PIPE_DEPTH];
	pthread_mutex_unlock(&p->lock);
	if (failed)
		return SOURCE_STOP;
	job_copy(job, item);
	pthread_mutex_lock(&p->lock);
	p->count++;
	failed = p->failed;
	if (p->parser_waits && wake_for(p, p->count - p->parsed))
		pthread_cond_signal(&p->to_parse);
	pthread_mutex_unlock(&p->lock);
	return failed ? SOURCE_STOP : SOURCE_NEXT;
}

void
ingest_pipe_sync(struct ingest_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->flush = true;
	pthread_cond_signal(&p->to_parse);
	pthread_cond_signal(&p->to_store);
	p->reader_waits = true;
	while (p->count != 0)
		pthread_cond_wait(&p->room, &p->lock);
	p->reader_waits = false;
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
	pthread_cond_signal(&p->to_parse);
	pthread_cond_signal(&p->to_store);
	pthread_mutex_unlock(&p->lock);
	if (p->parser_started)
		pthread_join(p->parser, NULL);
	if (p->storer_started)
		pthread_join(p->storer, NULL);
	for (i = 0; i < PIPE_DEPTH; i++) {
		job_clear(&p->jobs[i]);
		free(p->jobs[i].buf);
	}
	pthread_cond_destroy(&p->room);
	pthread_cond_destroy(&p->to_store);
	pthread_cond_destroy(&p->to_parse);
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
