/* SPDX-License-Identifier: ISC */
/*
 * Putting an SQLite file in WAL mode when several processes may open it
 * at once, shared by the report store (src/report/store_sqlite.c) and
 * the policy cache of mtasts policyd (src/policyd/cache_sqlite.c).
 * Header-only, as the other pieces of src/common: each user is a static
 * library of the program's own.
 */
#ifndef MTS_SQLITE_WAL_H
#define MTS_SQLITE_WAL_H

#include <sqlite3.h>
#include <time.h>

/*
 * Switches db to WAL mode.  The switch takes an exclusive lock, and
 * SQLite returns SQLITE_BUSY at once, without its busy handler, when
 * another process holds the file (two processes creating one file at
 * the same moment): so it is retried every 10 ms for up to busy_ms.  A
 * file already in WAL mode answers without a lock.  Returns SQLite's
 * result code (SQLITE_OK on success; sqlite3_errmsg(db) says why not).
 */
static inline int
mts_sqlite_wal(sqlite3 *db, int busy_ms)
{
	const struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
	int waited_ms, rc = SQLITE_BUSY;

	for (waited_ms = 0; waited_ms <= busy_ms; waited_ms += 10) {
		rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL,
		                  NULL);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		(void)nanosleep(&pause, NULL);
	}
	return rc;
}

#endif /* MTS_SQLITE_WAL_H */
