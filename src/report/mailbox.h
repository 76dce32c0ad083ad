/* SPDX-License-Identifier: ISC */
/*
 * Mailboxes of report mails: maildir (cur/ and new/) and mbox (mboxrd),
 * read message by message with a cap on each, never whole; and the
 * buffered, capped input that the sources read files and stdin with.
 */
#ifndef MTS_REPORT_MAILBOX_H
#define MTS_REPORT_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "source.h"

/*
 * A buffered input: a file descriptor read in chunks of
 * MAILBOX_IN_CHUNK octets, or bytes already in memory.  The caller owns
 * (and closes) the descriptor and keeps the bytes alive.
 */
#define MAILBOX_IN_CHUNK (64u * 1024)

struct mailbox_in {
	int fd;           /* -1: the bytes are in memory */
	const char *data; /* the buffered bytes are data[pos..len) */
	char *own;        /* our buffer when reading a descriptor */
	size_t size, pos, len;
	bool eof;
	int error; /* errno of a failed read; sticky */
};

/* Reads `fd` through a new buffer; returns 0, or -1 when out of memory. */
int mailbox_in_fd(struct mailbox_in *in, int fd);

/* Reads buf[0..len), borrowed. */
void mailbox_in_mem(struct mailbox_in *in, const char *buf, size_t len);

/* Frees the buffer (not the descriptor).  Safe on a zeroed input. */
void mailbox_in_close(struct mailbox_in *in);

/*
 * Makes at least `want` octets available unless the input ends first;
 * sets *p to them and returns how many there are, or -1 on a read
 * error (in->error).
 */
ssize_t mailbox_in_peek(struct mailbox_in *in, size_t want, const char **p);

/*
 * Reads the rest of the input into a new NUL-terminated buffer of at
 * most `max` octets.  Returns 0 with *out (the caller frees it) and
 * *len; 1 when the input is longer than `max` (refused, not cut: the
 * out-params untouched, the rest not read); -1 on a read error or when
 * out of memory (errno).
 */
int mailbox_in_slurp(struct mailbox_in *in, size_t max, char **out,
                     size_t *len);

/*
 * Reads an mbox from `in` (mboxrd: messages begin with a "From " line
 * at the start of the input or after a blank line; ">From " lines lose
 * one '>'), one message at a time, each held to lim->input_max and
 * handed to the report mail reader with origin "ORIGIN#N" (N from 1).
 * An over-cap message is one item with an error and no raw bytes; past
 * lim->messages_max messages (when not 0), one item says so and the
 * rest is not read.  Returns as source_read_path().
 */
int mailbox_read_mbox(struct mailbox_in *in, const char *origin,
                      const struct source_limits *lim, source_item_fn fn,
                      void *ctx, char *why, size_t why_size);

/* True when `dir` has a cur/ or a new/ directory: a maildir. */
bool mailbox_is_maildir(const char *dir);

/*
 * Reads a maildir: the messages of cur/ then of new/, each in name
 * order, skipping names that begin with '.' and anything not a regular
 * file; tmp/ (messages still being delivered) is never read.  Each
 * message is read whole, up to lim->input_max, as a report mail with
 * origin "DIR/cur/NAME".  Returns as source_read_path().
 */
int mailbox_read_maildir(const char *dir, const struct source_limits *lim,
                         source_item_fn fn, void *ctx, char *why,
                         size_t why_size);

/*
 * The names of the regular files (symbolic links followed) in `dir`
 * that do not begin with '.', sorted bytewise.  Returns 0 with *names
 * (free with mailbox_list_free()) and *count, or -1 with why.
 */
int mailbox_list(const char *dir, char ***names, size_t *count, char *why,
                 size_t why_size);
void mailbox_list_free(char **names, size_t count);

#endif /* MTS_REPORT_MAILBOX_H */
