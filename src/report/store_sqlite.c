/* SPDX-License-Identifier: ISC */
/*
 * The SQLite engine of the report store (sqlite:PATH).
 *
 * WAL with synchronous=NORMAL: a commit appends to the log without an
 * fsync, and a crash (of the machine, not only of the process) may lose
 * the last commits but never leaves a partial one.  A busy timeout lets
 * several ingesters share one file: a writer waits for the others'
 * short transactions instead of failing.  Every statement of the put
 * paths is prepared once at open; a report is one BEGIN IMMEDIATE ...
 * COMMIT (taking the write lock up front, so a transaction never has to
 * upgrade a read lock, which WAL cannot wait for).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlite_wal.h"
#include "store_int.h"

/* Long enough for any other ingester's transaction, or a checkpoint. */
#define BUSY_TIMEOUT_MS 15000

/*
 * Checkpoints (https://sqlite.org/wal.html#ckpt).  Once the WAL holds
 * CKPT_PAGES frames, its pages are copied back into the database; with
 * synchronous=NORMAL each checkpoint syncs the WAL and then the
 * database, and those waits on the disk, not the copying, were most of
 * what a checkpoint cost the store: 0.5 s of 1.8 for 20,000 reports.
 * So the copying and the syncs run in a thread of the store, on a
 * connection of its own, beside the commits (a PASSIVE checkpoint takes
 * no lock a writer waits for), and the store's connection then
 * checkpoints only the few frames committed meanwhile (CKPT_REST at
 * most, after up to CKPT_PASSES passes of the thread), which lets the
 * next transaction start the WAL over from its beginning.  Without the
 * thread (none could be made), the store checkpoints as SQLite's own
 * wal_autocheckpoint would.  20,000 pages of 2 KiB: a WAL of 40 MiB.
 */
#define CKPT_PAGES  20000
#define CKPT_REST   512
#define CKPT_PASSES 4

enum ckpt_state {
	CKPT_IDLE = 0,
	CKPT_WANTED,  /* the store asked for one */
	CKPT_RUNNING, /* the thread's passes run */
	CKPT_FINISHED /* they ended: the store checkpoints the rest */
};

struct ckpt {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	const char *path; /* the database's: the store's */
	enum ckpt_state state;
	bool ending;
};

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	char *path;
	struct ckpt *ckpt; /* the checkpointing thread, NULL until needed */
	bool no_ckpt;      /* it could not be made: checkpoint inline */
	sqlite3_stmt *begin;
	sqlite3_stmt *commit;
	sqlite3_stmt *rollback;
	sqlite3_stmt *report;
	sqlite3_stmt *policy;
	sqlite3_stmt *failure;
	sqlite3_stmt *quarantine;
};

/*
 * The WAL writer.  SQLite writes each WAL frame as two write(2) calls,
 * its 24-octet header and its page, so a report touching 8 pages costs
 * 16 system calls, a good part of its time on a virtual machine.  This
 * VFS, over the default one, gathers the contiguous writes of a WAL
 * file and hands them on as one write once the commit frame has had its
 * page written.  The commit frame is the one whose header's second
 * word, the database size after the commit, is not zero (SQLite's file
 * format, https://sqlite.org/fileformat2.html, "WAL File Format").  So
 * the frames are in the file before SQLite publishes the commit in the
 * WAL index (other connections never read a frame not yet written),
 * and a failed write (a full disk) fails the commit from within the
 * xWrite() of its last page, as SQLite's own failed write would.
 * Whatever else looks at the file (a read, its size, a sync, a
 * truncation, a file control, closing it) writes out what is gathered
 * first.  A process killed with frames gathered had not committed them:
 * the same as being killed between two of SQLite's own writes.  Other
 * files go to the default VFS untouched.  +40% reports per CPU-second
 * (bench/store_put.c).
 */
#define WAL_VFS_NAME  "mtasts-wal"
/*
 * Octets gathered at most: a commit of ~15 pages of 4 KiB in one write.
 * Under 128 KiB: the unix VFS writes at most 0x1ffff octets a call (its
 * seekAndWriteFd() masks the length).
 */
#define WAL_GATHER    (64 * 1024)
#define WAL_FRAME_HDR 24

struct wal_file {
	sqlite3_file base;
	sqlite3_file *real; /* the default VFS's file, after this struct */
	char *buf;          /* gathered octets, written at `off` */
	size_t len;
	sqlite3_int64 off;
	sqlite3_int64 end;     /* the furthest a write reached in this WAL */
	unsigned char salt[8]; /* of this WAL, as its frame headers give it */
	bool commit;           /* the last write was a commit frame's header */
};

static sqlite3_vfs wal_vfs;

#define REAL_OFFSET ((sizeof(struct wal_file) + 15) & ~(size_t)15)

static int
wal_flush(struct wal_file *w)
{
	int rc;

	if (w->len == 0)
		return SQLITE_OK;
	rc = w->real->pMethods->xWrite(w->real, w->buf, (int)w->len, w->off);
	w->len = 0;
	return rc;
}

static int
wal_close(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = wal_flush(w), rc2;

	rc2 = w->real->pMethods->xClose(w->real);
	free(w->buf);
	w->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
wal_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	if ((rc = wal_flush(w)) != SQLITE_OK)
		return rc;
	return w->real->pMethods->xRead(w->real, p, n, off);
}

/*
 * Only appends are gathered.  SQLite also writes behind the end of the
 * WAL: a transaction that spilled pages to the WAL before its commit
 * (a cache too small for it) and changed them again has them rewritten
 * in place, and then the checksums of its frames, the commit frame's
 * last of all, after the commit frame's page (sqlite3WalFrames(),
 * walRewriteChecksums()).  Gathered, that last header would wait here
 * past the commit, and a process killed then would lose the commit
 * (the frame's checksum on disk no longer matching).  So a write that
 * does not reach past the furthest one is made at once; but for a WAL
 * started over from its beginning (by this process: its header at
 * offset 0; by another: frame headers of new salts).
 */
static int
wal_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	static const unsigned char zero_salt[8];
	struct wal_file *w = (struct wal_file *)f;
	const unsigned char *u = p;
	bool commit_page = w->commit;
	bool behind = off < w->end && off != 0;
	int rc;

	/*
	 * A frame header's salts are the WAL's (SQLite zeroes them, and
	 * the checksum, in frames appended while a rewrite is due).
	 */
	if (n == WAL_FRAME_HDR && memcmp(u + 8, w->salt, 8) != 0 &&
	    memcmp(u + 8, zero_salt, 8) != 0) {
		memcpy(w->salt, u + 8, 8); /* salt-1, salt-2 */
		behind = false;
	}
	w->commit = n == WAL_FRAME_HDR &&
	    (u[4] | u[5] | u[6] | u[7]) != 0; /* db size: a commit */
	if (off == 0 || !behind || off + n > w->end)
		w->end = off + n;
	if (w->len != 0 &&
	    (off != w->off + (sqlite3_int64)w->len ||
	     w->len + (size_t)n > WAL_GATHER) &&
	    (rc = wal_flush(w)) != SQLITE_OK)
		return rc;
	if (behind || (size_t)n > WAL_GATHER)
		return w->real->pMethods->xWrite(w->real, p, n, off);
	if (w->buf == NULL && (w->buf = malloc(WAL_GATHER)) == NULL)
		return SQLITE_IOERR_NOMEM;
	if (w->len == 0)
		w->off = off;
	memcpy(w->buf + w->len, p, (size_t)n);
	w->len += (size_t)n;
	return commit_page ? wal_flush(w) : SQLITE_OK;
}

static int
wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	if ((rc = wal_flush(w)) != SQLITE_OK)
		return rc;
	if (w->end > size)
		w->end = size;
	return w->real->pMethods->xTruncate(w->real, size);
}

static int
wal_sync(sqlite3_file *f, int flags)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	if ((rc = wal_flush(w)) != SQLITE_OK)
		return rc;
	return w->real->pMethods->xSync(w->real, flags);
}

static int
wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	if ((rc = wal_flush(w)) != SQLITE_OK)
		return rc;
	return w->real->pMethods->xFileSize(w->real, size);
}

static int
wal_lock(sqlite3_file *f, int level)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xLock(w->real, level);
}

static int
wal_unlock(sqlite3_file *f, int level)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xUnlock(w->real, level);
}

static int
wal_check_reserved(sqlite3_file *f, int *out)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xCheckReservedLock(w->real, out);
}

static int
wal_file_control(sqlite3_file *f, int op, void *arg)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	if ((rc = wal_flush(w)) != SQLITE_OK)
		return rc;
	return w->real->pMethods->xFileControl(w->real, op, arg);
}

static int
wal_sector_size(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xSectorSize(w->real);
}

static int
wal_device(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;

	return w->real->pMethods->xDeviceCharacteristics(w->real);
}

/* Version 1 methods: SQLite asks a WAL file for nothing more. */
static const sqlite3_io_methods wal_methods = {
    .iVersion = 1,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device,
};

static int
wal_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
         int *out_flags)
{
	sqlite3_vfs *real = vfs->pAppData;
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	/* Any other file is the default VFS's own, in our larger slot. */
	if ((flags & SQLITE_OPEN_WAL) == 0)
		return real->xOpen(real, name, f, flags, out_flags);
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)((char *)f + REAL_OFFSET);
	rc = real->xOpen(real, name, w->real, flags, out_flags);
	w->base.pMethods = rc == SQLITE_OK ? &wal_methods : NULL;
	if (rc != SQLITE_OK && w->real->pMethods != NULL)
		w->real->pMethods->xClose(w->real);
	return rc;
}

static const char *wal_vfs_registered; /* its name, or NULL */

/*
 * Registers the VFS, as a copy of the default one whose xOpen is ours
 * (the unix VFS's other methods use nothing of their sqlite3_vfs but
 * its fields, copied).  Only over the unix VFS: another default is used
 * as it is.
 */
static void
wal_vfs_register(void)
{
	sqlite3_vfs *real;

	if ((real = sqlite3_vfs_find(NULL)) == NULL ||
	    strcmp(real->zName, "unix") != 0)
		return;
	wal_vfs = *real;
	wal_vfs.pNext = NULL;
	wal_vfs.zName = WAL_VFS_NAME;
	wal_vfs.pAppData = real;
	wal_vfs.szOsFile = (int)(REAL_OFFSET + (size_t)real->szOsFile);
	wal_vfs.xOpen = wal_open;
	if (sqlite3_vfs_register(&wal_vfs, 0) == SQLITE_OK)
		wal_vfs_registered = WAL_VFS_NAME;
}

/* The VFS to open a store with: ours, or NULL for the default. */
static const char *
wal_vfs_name(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, wal_vfs_register);
	return wal_vfs_registered;
}

static struct sqlite_store *
lite(struct store *s)
{
	return (struct sqlite_store *)s;
}

static void
why_db(sqlite3 *db, const char *what, char *why, size_t why_size)
{
	store_why(why, why_size, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

/*
 * Makes the directories leading to path, each missing one with `mode`:
 * a store's directory holds reports only its owner (and, for root's
 * /var/lib/mtasts, its group) should read.
 */
static int
make_parents(const char *path, mode_t mode, char *why, size_t why_size)
{
	char *dir, *p;
	int rc = 0;

	if ((dir = strdup(path)) == NULL) {
		store_why(why, why_size, "out of memory");
		return -1;
	}
	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, mode) == -1 && errno != EEXIST) {
			store_why(why, why_size, "sqlite: mkdir %s: %s", dir,
			          strerror(errno));
			rc = -1;
			break;
		}
		*p = '/';
	}
	free(dir);
	return rc;
}

/*
 * The checkpointing thread's connection: the same file through the same
 * VFS, synchronous=NORMAL so that its checkpoints sync as the store's
 * would, and a first read so that it has the WAL open.  NULL when it
 * cannot be had: then the store checkpoints alone.
 */
static sqlite3 *
ckpt_connect(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                    wal_vfs_name()) != SQLITE_OK ||
	    sqlite3_exec(db,
	                 "PRAGMA synchronous = NORMAL;"
	                 "SELECT count(*) FROM sqlite_master",
	                 NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* PASSIVE checkpoints when the store wants one, until it closes. */
static void *
ckpt_main(void *arg)
{
	struct ckpt *c = arg;
	sqlite3 *db = ckpt_connect(c->path);
	int pass, log, done;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (c->state != CKPT_WANTED && !c->ending)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->ending)
			break;
		c->state = CKPT_RUNNING;
		pthread_mutex_unlock(&c->lock);
		/* Again while the commits meanwhile left much to copy. */
		for (pass = 0; db != NULL && pass < CKPT_PASSES; pass++)
			if (sqlite3_wal_checkpoint_v2(db, "main",
			                              SQLITE_CHECKPOINT_PASSIVE,
			                              &log,
			                              &done) != SQLITE_OK ||
			    log - done <= CKPT_REST)
				break;
		pthread_mutex_lock(&c->lock);
		c->state = CKPT_FINISHED;
	}
	pthread_mutex_unlock(&c->lock);
	sqlite3_close(db);
	return NULL;
}

static int
ckpt_start(struct sqlite_store *l)
{
	struct ckpt *c;
	sigset_t all, old;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->path = l->path;
	if (pthread_mutex_init(&c->lock, NULL) != 0)
		goto fail_lock;
	if (pthread_cond_init(&c->wake, NULL) != 0)
		goto fail_wake;
	/* Signals stay the caller's threads'. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&c->thread, NULL, ckpt_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		goto fail_thread;
	l->ckpt = c;
	return 0;
fail_thread:
	pthread_cond_destroy(&c->wake);
fail_wake:
	pthread_mutex_destroy(&c->lock);
fail_lock:
	free(c);
	return -1;
}

/* Ends the thread (after the pass it may be in); NULL-safe. */
static void
ckpt_stop(struct ckpt *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->ending = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/*
 * SQLite's hook after each commit, once the write lock is released
 * (where wal_autocheckpoint checkpoints): `frames` is the WAL's length.
 * Wakes the thread at CKPT_PAGES, and when its passes have ended,
 * checkpoints the rest here (see CKPT_PAGES).
 */
static int
lite_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sqlite_store *l = arg;
	bool here = false;

	if (frames < CKPT_PAGES)
		return SQLITE_OK;
	if (l->ckpt == NULL && !l->no_ckpt && ckpt_start(l) == -1)
		l->no_ckpt = true;
	if (l->ckpt == NULL) {
		here = true;
	} else {
		pthread_mutex_lock(&l->ckpt->lock);
		if (l->ckpt->state == CKPT_IDLE) {
			l->ckpt->state = CKPT_WANTED;
			pthread_cond_signal(&l->ckpt->wake);
		} else if (l->ckpt->state == CKPT_FINISHED) {
			l->ckpt->state = CKPT_IDLE;
			here = true;
		}
		pthread_mutex_unlock(&l->ckpt->lock);
	}
	if (here)
		(void)sqlite3_wal_checkpoint_v2(db, name,
		                                SQLITE_CHECKPOINT_PASSIVE, NULL,
		                                NULL);
	return SQLITE_OK;
}

static int
lite_exec(struct store *s, const char *sql, char *why, size_t why_size)
{
	char *msg = NULL;

	if (sqlite3_exec(lite(s)->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_why(why, why_size, "sqlite: %s",
		          msg != NULL ? msg : sqlite3_errmsg(lite(s)->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void
lite_close(struct store *s)
{
	struct sqlite_store *l = lite(s);

	/* Its connection first: the store's, the last, may end the WAL. */
	ckpt_stop(l->ckpt);
	sqlite3_finalize(l->begin);
	sqlite3_finalize(l->commit);
	sqlite3_finalize(l->rollback);
	sqlite3_finalize(l->report);
	sqlite3_finalize(l->policy);
	sqlite3_finalize(l->failure);
	sqlite3_finalize(l->quarantine);
	sqlite3_close(l->db);
	free(l->path);
	free(l);
}

/* Puts a new file in WAL mode (sqlite_wal.h: retried while busy). */
static int
lite_wal(sqlite3 *db, char *why, size_t why_size)
{
	if (mts_sqlite_wal(db, BUSY_TIMEOUT_MS) != SQLITE_OK) {
		why_db(db, "setting WAL mode", why, why_size);
		return -1;
	}
	return 0;
}

static int
lite_open(const char *url, struct store **out, char *why, size_t why_size)
{
	const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
	struct sqlite_store *l;

	if (path[0] == '\0') {
		store_why(why, why_size, "sqlite: no file name in %s", url);
		return -1;
	}
	if (make_parents(path, geteuid() == 0 ? 0750 : 0700, why, why_size) ==
	    -1)
		return -1;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		store_why(why, why_size, "out of memory");
		return -1;
	}
	l->base.engine = &store_engine_sqlite;
	if ((l->path = strdup(path)) == NULL) {
		store_why(why, why_size, "out of memory");
		goto fail;
	}
	if (sqlite3_open_v2(path, &l->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                        SQLITE_OPEN_NOMUTEX,
	                    wal_vfs_name()) != SQLITE_OK) {
		store_why(why, why_size, "sqlite: %s: %s", path,
		          l->db == NULL ? "out of memory" :
		                          sqlite3_errmsg(l->db));
		goto fail;
	}
	sqlite3_extended_result_codes(l->db, 1);
	sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
	/*
	 * Connection settings, once: they are not part of the schema.  A
	 * file system without shared memory keeps its rollback journal;
	 * then journal_mode answers what it kept, and that still works.
	 * The page size counts only in a new file, before WAL mode makes
	 * it: 2 KiB rather than 4 halves what each commit writes (about 8
	 * pages a report, each written to the WAL and again at the
	 * checkpoint) for 25% more pages: -9% CPU time per report
	 * (bench/report.sh).  Rows stay well within a page (a
	 * WITHOUT ROWID row of 2 KiB pages keeps 488 octets in its page).
	 */
	if (lite_exec(&l->base, "PRAGMA page_size = 2048", why, why_size) ==
	        -1 ||
	    lite_wal(l->db, why, why_size) == -1 ||
	    lite_exec(&l->base,
	              "PRAGMA synchronous = NORMAL;"
	              "PRAGMA foreign_keys = ON;",
	              why, why_size) == -1)
		goto fail;
	/* In place of wal_autocheckpoint (see CKPT_PAGES). */
	sqlite3_wal_hook(l->db, lite_wal_hook, l);
	*out = &l->base;
	return 0;
fail:
	lite_close(&l->base);
	return -1;
}

static int
lite_read_version(struct store *s, int *version, char *why, size_t why_size)
{
	sqlite3 *db = lite(s)->db;
	sqlite3_stmt *st = NULL;
	int rc, v = 0;

	rc = sqlite3_prepare_v2(db,
	                        "SELECT count(*) FROM sqlite_master WHERE "
	                        "type = 'table' AND name = 'schema_version'",
	                        -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_int(st, 0) == 1) {
		sqlite3_finalize(st);
		st = NULL;
		rc = sqlite3_prepare_v2(db,
		                        "SELECT coalesce(max(version), 0) "
		                        "FROM schema_version",
		                        -1, &st, NULL);
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
	}
	if (rc != SQLITE_ROW) {
		why_db(db, "reading the schema version", why, why_size);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	*version = v;
	return 0;
}

static int
lite_begin_migration(struct store *s, char *why, size_t why_size)
{
	return lite_exec(s, "BEGIN IMMEDIATE", why, why_size);
}

static int
lite_commit(struct store *s, char *why, size_t why_size)
{
	return lite_exec(s, "COMMIT", why, why_size);
}

static void
lite_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(lite(s)->db) == 0)
		(void)sqlite3_exec(lite(s)->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
lite_prepare(struct store *s, char *why, size_t why_size)
{
	struct sqlite_store *l = lite(s);
	const struct {
		sqlite3_stmt **st;
		const char *sql;
	} stmts[] = {
	    {&l->begin, "BEGIN IMMEDIATE"},
	    {&l->commit, "COMMIT"},
	    {&l->rollback, "ROLLBACK"},
	    {&l->report,
	     "INSERT INTO reports (org, report_id, range_start, range_end, "
	     "contact, received, origin, deviations, policies, successful, "
	     "failed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	     "ON CONFLICT (org, report_id) DO NOTHING"},
	    {&l->policy,
	     "INSERT INTO policies (report, idx, type, domain, strings, "
	     "mx_hosts, successful, failed, detail_failed) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
	    {&l->failure,
	     "INSERT INTO failures (report, pidx, idx, result_type, "
	     "sending_mta_ip, "
	     "receiving_mx_hostname, receiving_mx_helo, receiving_ip, "
	     "additional_information, failure_reason_code, failed_sessions) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
	    {&l->quarantine,
	     "INSERT INTO quarantine (received, origin, reason, raw, raw_size) "
	     "VALUES (?, ?, ?, ?, ?)"},
	};
	size_t i;

	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		if (sqlite3_prepare_v3(l->db, stmts[i].sql, -1,
		                       SQLITE_PREPARE_PERSISTENT, stmts[i].st,
		                       NULL) != SQLITE_OK) {
			why_db(l->db, "preparing", why, why_size);
			return -1;
		}
	return 0;
}

/* Binds a string that outlives the statement's step, or NULL. */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Steps a statement that returns no rows; resets it. */
static int
run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
put_failures(struct sqlite_store *l, const struct mts_tlsrpt_policy *p,
             sqlite3_int64 report_id, size_t pidx)
{
	sqlite3_stmt *st = l->failure;
	size_t i;

	for (i = 0; i < p->failure_count; i++) {
		const struct mts_tlsrpt_failure *f = &p->failures[i];

		sqlite3_bind_int64(st, 1, report_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)pidx);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		bind_text(st, 4, f->result_type);
		bind_text(st, 5, f->sending_mta_ip);
		bind_text(st, 6, f->receiving_mx_hostname);
		bind_text(st, 7, f->receiving_mx_helo);
		bind_text(st, 8, f->receiving_ip);
		bind_text(st, 9, f->additional_information);
		bind_text(st, 10, f->failure_reason_code);
		sqlite3_bind_int64(st, 11,
		                   (sqlite3_int64)f->failed_session_count);
		if (run(st) == -1)
			return -1;
	}
	return 0;
}

static int
put_policies(struct sqlite_store *l, const struct store_report_rec *rec,
             sqlite3_int64 report_id)
{
	sqlite3_stmt *st = l->policy;
	size_t i;

	for (i = 0; i < rec->report->policy_count; i++) {
		const struct store_policy_rec *pr = &rec->policies[i];
		const struct mts_tlsrpt_policy *p = pr->policy;

		sqlite3_bind_int64(st, 1, report_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_text(st, 3, p->policy_type);
		bind_text(st, 4, p->policy_domain);
		bind_text(st, 5, pr->strings_json);
		bind_text(st, 6, pr->mx_json);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)p->successful);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)p->failed);
		sqlite3_bind_int64(st, 9, pr->detail_failed);
		if (run(st) == -1 || put_failures(l, p, report_id, i) == -1)
			return -1;
	}
	return 0;
}

static enum store_result
lite_put_report(struct store *s, const struct store_report_rec *rec, char *why,
                size_t why_size)
{
	struct sqlite_store *l = lite(s);
	const struct mts_tlsrpt_report *r = rec->report;
	sqlite3_stmt *st = l->report;

	if (run(l->begin) == -1) {
		why_db(l->db, "BEGIN", why, why_size);
		return STORE_FAILED;
	}
	bind_text(st, 1, r->organization_name);
	bind_text(st, 2, r->report_id);
	sqlite3_bind_int64(st, 3, r->start);
	sqlite3_bind_int64(st, 4, r->end);
	bind_text(st, 5, r->contact_info);
	sqlite3_bind_int64(st, 6, rec->received);
	bind_text(st, 7, rec->origin);
	bind_text(st, 8, rec->deviations_json);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)r->policy_count);
	sqlite3_bind_int64(st, 10, rec->successful);
	sqlite3_bind_int64(st, 11, rec->failed);
	if (run(st) == -1)
		goto fail;
	/* ON CONFLICT DO NOTHING changed no row: the report is known. */
	if (sqlite3_changes(l->db) == 0) {
		(void)run(l->rollback);
		return STORE_KNOWN;
	}
	if (put_policies(l, rec, sqlite3_last_insert_rowid(l->db)) == -1 ||
	    run(l->commit) == -1)
		goto fail;
	return STORE_ADDED;
fail:
	why_db(l->db, "storing a report", why, why_size);
	lite_rollback(s);
	return STORE_FAILED;
}

static enum store_result
lite_put_quarantine(struct store *s, const char *raw, size_t raw_len,
                    int64_t raw_size, const char *origin, const char *reason,
                    int64_t received, char *why, size_t why_size)
{
	struct sqlite_store *l = lite(s);
	sqlite3_stmt *st = l->quarantine;

	/* One statement in autocommit mode is one transaction. */
	sqlite3_bind_int64(st, 1, received);
	bind_text(st, 2, origin);
	bind_text(st, 3, reason);
	sqlite3_bind_blob64(st, 4, raw, raw_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, raw_size);
	if (run(st) == -1) {
		why_db(l->db, "quarantining", why, why_size);
		return STORE_FAILED;
	}
	return STORE_ADDED;
}

static const char *
column_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int
lite_summary(struct store *s, const struct store_summary_sql *q,
             store_row_fn fn, void *ctx, char *why, size_t why_size)
{
	sqlite3 *db = lite(s)->db;
	struct store_row row;
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK) {
		why_db(db, "summary", why, why_size);
		return -1;
	}
	sqlite3_bind_int64(st, 1, q->since);
	sqlite3_bind_int64(st, 2, q->until);
	if (q->domain != NULL)
		sqlite3_bind_text(st, 3, q->domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.day = sqlite3_column_int64(st, 0);
		row.domain = column_text(st, 1);
		row.org = column_text(st, 2);
		row.mx = column_text(st, 3);
		row.result = column_text(st, 4);
		row.successful = (uint64_t)sqlite3_column_int64(st, 5);
		row.failed = (uint64_t)sqlite3_column_int64(st, 6);
		row.reports = (uint64_t)sqlite3_column_int64(st, 7);
		if (row.reports == 0)
			continue; /* no report: the one row of an empty sum */
		if ((stop = fn(&row, ctx)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		why_db(db, "summary", why, why_size);
		stop = -1;
	}
	sqlite3_finalize(st);
	return stop;
}

/* The cells of the statement's current row. */
static int
row_cells(sqlite3_stmt *st, struct store_cell *cells, size_t *n)
{
	int i, count = sqlite3_column_count(st);

	if (count > STORE_CELLS_MAX)
		return -1;
	for (i = 0; i < count; i++) {
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL:
			cells[i] =
			    (struct store_cell){STORE_CELL_NULL, 0, NULL};
			break;
		case SQLITE_INTEGER:
			cells[i] =
			    (struct store_cell){STORE_CELL_INT,
			                        sqlite3_column_int64(st, i),
			                        NULL};
			break;
		default:
			cells[i] = (struct store_cell){STORE_CELL_TEXT, 0,
			                               column_text(st, i)};
			if (cells[i].s == NULL)
				return -1; /* out of memory */
		}
	}
	*n = (size_t)count;
	return 0;
}

static int
bind_cells(sqlite3_stmt *st, const struct store_cell *params, size_t n)
{
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < n && rc == SQLITE_OK; i++)
		switch (params[i].type) {
		case STORE_CELL_NULL:
			rc = sqlite3_bind_null(st, (int)i + 1);
			break;
		case STORE_CELL_INT:
			rc = sqlite3_bind_int64(st, (int)i + 1, params[i].i);
			break;
		default:
			rc = bind_text(st, (int)i + 1, params[i].s);
		}
	return rc == SQLITE_OK ? 0 : -1;
}

static int
lite_query(struct store *s, const char *sql, const struct store_cell *params,
           size_t n, store_cells_fn fn, void *ctx, char *why, size_t why_size)
{
	sqlite3 *db = lite(s)->db;
	struct store_cell cells[STORE_CELLS_MAX];
	sqlite3_stmt *st = NULL;
	size_t count;
	int rc, stop = 0;

	if (n > STORE_CELLS_MAX) {
		store_why(why, why_size, "sqlite: query: too many parameters");
		return -1;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    bind_cells(st, params, n) == -1) {
		why_db(db, "query", why, why_size);
		sqlite3_finalize(st);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row_cells(st, cells, &count) == -1) {
			store_why(why, why_size,
			          "sqlite: query: a row too wide, or out of "
			          "memory");
			stop = -1;
			break;
		}
		if (fn != NULL && (stop = fn(cells, count, ctx)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		why_db(db, "query", why, why_size);
		stop =
		    sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE ?
		    STORE_UNIQUE :
		    -1;
	}
	sqlite3_finalize(st);
	return stop;
}

/* BEGIN IMMEDIATE: the write lock up front, waiting the busy timeout. */
static int
lite_tx_begin(struct store *s, char *why, size_t why_size)
{
	return lite_exec(s, "BEGIN IMMEDIATE", why, why_size);
}

const struct store_engine store_engine_sqlite = {
    .name = "sqlite",
    .dialect = STORE_SQLITE,
    .open = lite_open,
    .close = lite_close,
    .read_version = lite_read_version,
    .begin_migration = lite_begin_migration,
    .exec = lite_exec,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .prepare = lite_prepare,
    .put_report = lite_put_report,
    .put_quarantine = lite_put_quarantine,
    .summary = lite_summary,
    .query = lite_query,
    .tx_begin = lite_tx_begin,
    .tx_commit = lite_commit,
    .tx_rollback = lite_rollback,
};
