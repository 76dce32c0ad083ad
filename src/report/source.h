/* SPDX-License-Identifier: ISC */
/*
 * Where TLS-RPT reports come from: a file (.json, .json.gz, a whole
 * report mail), a directory of them, a maildir, an mbox, stdin, or the
 * bytes of one message fetched over IMAP or POSTed over HTTPS.  Every
 * input is turned into items: the JSON text of one report each, or the
 * reason none could be had, with the input's own bytes so that a caller
 * can quarantine it (nothing is silently lost).
 *
 * The reading is bounded: a file, a message, a MIME part and an inflated
 * report each have a cap (struct source_limits), and a gzip bomb is
 * refused as soon as its inflated size passes the cap, never inflated
 * whole.
 */
#ifndef MTS_REPORT_SOURCE_H
#define MTS_REPORT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

struct source_limits {
	size_t input_max;    /* octets of one file or message as read */
	size_t inflated_max; /* octets of one report's JSON */
	size_t parts_max;    /* MIME parts looked at in one message */
	size_t messages_max; /* messages of one mbox, 0: no cap */
};

/* Defaults: 10 MiB read, 10 MiB JSON (RFC 8460 §7), 64 parts. */
void source_limits_default(struct source_limits *lim);

enum source_kind {
	SOURCE_JSON = 1, /* plain JSON (application/tlsrpt+json, .json) */
	SOURCE_GZIP,     /* gzip (application/tlsrpt+gzip, .json.gz) */
	SOURCE_MAIL      /* an RFC 5322 message carrying a report part */
};

/*
 * One item.  Pointers are valid only during the callback.  When `json`
 * is NULL, `error` says why no report could be had (not gzip, over a
 * cap, a mail without a report part...), and the item is the input's to
 * quarantine.  `raw` is always the input's bytes as received: the whole
 * file or message, so a stored report can be traced to what carried it.
 */
struct source_item {
	const char *origin; /* "PATH", "PATH#3" (message 3 of an mbox),
	                       "imap://host/INBOX;UID=12", "-" */
	enum source_kind kind;
	const char *json; /* the report's JSON text, or NULL */
	size_t json_len;
	const char *error; /* why json is NULL; NULL otherwise */
	const char *raw;
	size_t raw_len;
	unsigned part; /* 1-based report part in a mail; 0 otherwise */
};

/*
 * What the callback did with an item; the walk stops at SOURCE_STOP (a
 * failed store: the caller exits with EX_TEMPFAIL and the MTA retries).
 */
enum source_verdict { SOURCE_NEXT = 0, SOURCE_STOP };
typedef enum source_verdict (*source_item_fn)(const struct source_item *item,
                                              void *ctx);

/*
 * Reads a path: "-" (stdin), a file, a maildir (cur/ and new/), an mbox,
 * or a directory (its regular files, in name order, not recursing).
 * Calls `fn` for every item.  Returns 0 when the walk ended, 1 when `fn`
 * stopped it, -1 on an I/O error that stopped the walk (`why` says
 * which; items already given stay given).
 */
int source_read_path(const char *path, const struct source_limits *lim,
                     source_item_fn fn, void *ctx, char *why, size_t why_size);

/*
 * Reads the bytes of one input already in memory (a message fetched
 * over IMAP, a POST body): sniffs gzip, JSON or a mail, and calls `fn`
 * for each item.  `content_type` (NULL when unknown) is an HTTP
 * Content-Type to honour.  Returns as source_read_path().
 */
int source_read_buffer(const char *buf, size_t len, const char *origin,
                       const char *content_type,
                       const struct source_limits *lim, source_item_fn fn,
                       void *ctx, char *why, size_t why_size);

#endif /* MTS_REPORT_SOURCE_H */
