/* SPDX-License-Identifier: ISC */
/*
 * Maildir and mbox mailboxes of TLS-RPT report mails (RFC 8460 §5.3),
 * read message by message: an mbox of several GiB is streamed through a
 * 64 KiB buffer and one message (at most input_max octets) at a time.
 *
 * The mbox format is mboxrd (as written by mutt, Dovecot and Python's
 * mailbox module): a message begins with a "From " line at the start of
 * the file or after a blank line; that envelope line and the blank line
 * before it are not part of a message; a body line ">From ", ">>From "...
 * was quoted by the writer and loses one '>'.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailbox.h"
#include "mime.h"

int
mailbox_in_fd(struct mailbox_in *in, int fd)
{
	memset(in, 0, sizeof(*in));
	if ((in->own = malloc(MAILBOX_IN_CHUNK)) == NULL)
		return -1;
	in->fd = fd;
	in->data = in->own;
	in->size = MAILBOX_IN_CHUNK;
	return 0;
}

void
mailbox_in_mem(struct mailbox_in *in, const char *buf, size_t len)
{
	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->data = buf;
	in->size = len;
	in->len = len;
	in->eof = true;
}

void
mailbox_in_close(struct mailbox_in *in)
{
	free(in->own);
	memset(in, 0, sizeof(*in));
	in->fd = -1;
}

/* Moves the unread bytes to the front and reads more after them. */
static int
fill(struct mailbox_in *in)
{
	ssize_t n;

	if (in->eof)
		return 0;
	if (in->error != 0)
		return -1;
	if (in->pos != 0) {
		memmove(in->own, in->own + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	do
		n = read(in->fd, in->own + in->len, in->size - in->len);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		in->error = errno;
		return -1;
	}
	if (n == 0)
		in->eof = true;
	in->len += (size_t)n;
	return 0;
}

ssize_t
mailbox_in_peek(struct mailbox_in *in, size_t want, const char **p)
{
	if (want > in->size)
		want = in->size;
	while (in->len - in->pos < want && !in->eof)
		if (fill(in) == -1)
			return -1;
	*p = in->data + in->pos;
	return (ssize_t)(in->len - in->pos);
}

/* The next capacity for `want` octets: doubled, at most `limit`. */
static size_t
grow(size_t cap, size_t want, size_t limit)
{
	size_t ncap = cap > limit / 2 ? limit : cap * 2;

	if (ncap < want)
		ncap = want;
	return ncap > limit ? limit : ncap;
}

int
mailbox_in_slurp(struct mailbox_in *in, size_t max, char **out, size_t *len)
{
	size_t have = 0, cap = 0, n, limit = max < SIZE_MAX ? max + 1 : max;
	char *buf = NULL, *nbuf;

	for (;;) {
		n = in->len - in->pos;
		if (n > max - have) {
			free(buf);
			return 1;
		}
		if (have + n >= cap) {
			cap = grow(cap, have + n + 1, limit);
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nbuf;
		}
		memcpy(buf + have, in->data + in->pos, n);
		have += n;
		in->pos += n;
		if (in->eof)
			break;
		if (fill(in) == -1) {
			errno = in->error;
			goto fail;
		}
	}
	buf[have] = '\0';
	*out = buf;
	*len = have;
	return 0;
fail:
	free(buf);
	return -1;
}

/*
 * The next line, or as much of it as the buffer holds: sets *p and
 * *complete (the line's end, or the input's, is included) and returns
 * its length, 0 at the end of the input, -1 on a read error.
 */
static ssize_t
next_line(struct mailbox_in *in, const char **p, bool *complete)
{
	const char *nl;
	size_t n;

	for (;;) {
		nl = memchr(in->data + in->pos, '\n', in->len - in->pos);
		if (nl != NULL) {
			n = (size_t)(nl - (in->data + in->pos)) + 1;
			*complete = true;
			break;
		}
		if (in->eof || (in->pos == 0 && in->len == in->size)) {
			n = in->len - in->pos;
			*complete = in->eof;
			break;
		}
		if (fill(in) == -1)
			return -1;
	}
	*p = in->data + in->pos;
	in->pos += n;
	return (ssize_t)n;
}

/* The mbox being read and the message being gathered. */
struct mbox {
	const char *origin;
	const struct source_limits *lim;
	source_item_fn fn;
	void *ctx;
	char *msg; /* the message so far, at most lim->input_max octets */
	size_t len, cap;
	size_t over;   /* octets of an over-cap message; 0 otherwise */
	size_t count;  /* messages begun */
	char blank[2]; /* a blank line held back: it may end the message */
	size_t blank_len;
};

static void
append(struct mbox *mb, const char *p, size_t n)
{
	size_t cap;
	char *nmsg;

	if (mb->over != 0 || n > mb->lim->input_max - mb->len) {
		/* Refused, not cut: the rest is only counted. */
		mb->over = (mb->over != 0 ? mb->over : mb->len) + n;
		free(mb->msg);
		mb->msg = NULL;
		mb->len = mb->cap = 0;
		return;
	}
	if (mb->len + n > mb->cap) {
		cap = mb->cap == 0 ? 4096 : mb->cap;
		while (cap < mb->len + n)
			cap = cap > mb->lim->input_max / 2 ?
			    mb->lim->input_max :
			    cap * 2;
		if ((nmsg = realloc(mb->msg, cap + 1)) == NULL) {
			/* Treated as over the cap: no memory to hold it. */
			mb->over = mb->len + n;
			free(mb->msg);
			mb->msg = NULL;
			mb->len = mb->cap = 0;
			return;
		}
		mb->msg = nmsg;
		mb->cap = cap;
	}
	memcpy(mb->msg + mb->len, p, n);
	mb->len += n;
}

static enum source_verdict emit_error(const char *origin, const char *raw,
                                      size_t raw_len, source_item_fn fn,
                                      void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static enum source_verdict
emit_error(const char *origin, const char *raw, size_t raw_len,
           source_item_fn fn, void *ctx, const char *fmt, ...)
{
	struct source_item item = {0};
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	item.origin = origin;
	item.kind = SOURCE_MAIL;
	item.error = why;
	item.raw = raw;
	item.raw_len = raw_len;
	return fn(&item, ctx);
}

/* "ORIGIN#N" in a new string, or NULL. */
static char *
numbered(const char *origin, size_t n)
{
	size_t size = strlen(origin) + 24;
	char *s;

	if ((s = malloc(size)) != NULL)
		(void)snprintf(s, size, "%s#%zu", origin, n);
	return s;
}

/* Hands the gathered message on and starts the next one empty. */
static int
finish(struct mbox *mb, char *why, size_t why_size)
{
	char *origin;
	int rc;

	mb->blank_len = 0; /* the separator's blank line is not the message's */
	if ((origin = numbered(mb->origin, mb->count)) == NULL) {
		(void)snprintf(why, why_size, "out of memory");
		return -1;
	}
	if (mb->over != 0)
		rc = emit_error(origin, NULL, 0, mb->fn, mb->ctx,
		                "message of %zu octets or more passes the cap "
		                "of %zu",
		                mb->over, mb->lim->input_max) == SOURCE_STOP;
	else
		rc = mime_read_message(mb->msg != NULL ? mb->msg : "", mb->len,
		                       origin, mb->lim, mb->fn, mb->ctx);
	free(origin);
	mb->len = 0;
	mb->over = 0;
	return rc;
}

static bool
is_blank(const char *p, size_t n)
{
	return (n == 1 && p[0] == '\n') ||
	    (n == 2 && p[0] == '\r' && p[1] == '\n');
}

/* ">From ", ">>From "...: a body line the writer quoted (mboxrd). */
static bool
is_quoted_from(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] == '>')
		i++;
	return i != 0 && n - i >= 5 && memcmp(p + i, "From ", 5) == 0;
}

/*
 * One line (or a piece of one) of the mbox.  Returns 0 to go on, 1
 * when the callback stopped the walk, 2 when a message past
 * messages_max begins, -1 on an error.
 */
static int
line(struct mbox *mb, const char *p, size_t n, bool at_start, bool sep_allowed,
     bool *skip, char *why, size_t why_size)
{
	int rc;

	if (!at_start) {
		if (!*skip)
			append(mb, p, n);
		return 0;
	}
	*skip = false;
	if (sep_allowed && n >= 5 && memcmp(p, "From ", 5) == 0) {
		if (mb->count != 0 && (rc = finish(mb, why, why_size)) != 0)
			return rc;
		if (mb->lim->messages_max != 0 &&
		    mb->count == mb->lim->messages_max)
			return 2;
		mb->count++;
		*skip = true; /* the envelope line, all its pieces */
		return 0;
	}
	if (mb->count == 0)
		mb->count = 1; /* text before any "From ": a message too */
	if (mb->blank_len != 0) {
		append(mb, mb->blank, mb->blank_len);
		mb->blank_len = 0;
	}
	if (is_blank(p, n)) {
		memcpy(mb->blank, p, n);
		mb->blank_len = n;
		return 0;
	}
	if (is_quoted_from(p, n)) {
		p++;
		n--;
	}
	append(mb, p, n);
	return 0;
}

static int
over_messages(struct mbox *mb)
{
	char *origin;
	enum source_verdict v;

	if ((origin = numbered(mb->origin, mb->count + 1)) == NULL)
		return -1;
	v = emit_error(origin, NULL, 0, mb->fn, mb->ctx,
	               "the mbox holds more than %zu messages: the rest is "
	               "not read",
	               mb->lim->messages_max);
	free(origin);
	return v == SOURCE_STOP ? 1 : 0;
}

int
mailbox_read_mbox(struct mailbox_in *in, const char *origin,
                  const struct source_limits *lim, source_item_fn fn, void *ctx,
                  char *why, size_t why_size)
{
	struct mbox mb = {.origin = origin, .lim = lim, .fn = fn, .ctx = ctx};
	bool at_start = true, sep_allowed = true, skip = false, complete;
	const char *p;
	ssize_t n;
	int rc = 0;

	while ((n = next_line(in, &p, &complete)) > 0) {
		rc = line(&mb, p, (size_t)n, at_start, sep_allowed, &skip, why,
		          why_size);
		if (rc != 0)
			break;
		if (at_start)
			sep_allowed = complete && is_blank(p, (size_t)n);
		at_start = complete;
	}
	if (n == -1) {
		(void)snprintf(why, why_size, "%s: %s", origin,
		               strerror(in->error));
		rc = -1;
	} else if (rc == 2) {
		rc = over_messages(&mb);
		if (rc == -1)
			(void)snprintf(why, why_size, "out of memory");
	} else if (rc == 0 && mb.count != 0)
		rc = finish(&mb, why, why_size);
	free(mb.msg);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
mailbox_list_free(char **names, size_t count)
{
	size_t i;

	for (i = 0; names != NULL && i < count; i++)
		free(names[i]);
	free(names);
}

/* Whether `name` in `dir` is (or links to) a regular file. */
static bool
is_regular(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

int
mailbox_list(const char *dir, char ***names, size_t *count, char *why,
             size_t why_size)
{
	char **v = NULL, **nv;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		(void)snprintf(why, why_size, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
		if (de->d_name[0] == '.' || !is_regular(dirfd(d), de->d_name))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	if (errno != 0) {
		(void)snprintf(why, why_size, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	(void)closedir(d);
	if (n != 0)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	*count = n;
	return 0;
nomem:
	(void)snprintf(why, why_size, "%s: out of memory", dir);
fail:
	(void)closedir(d);
	mailbox_list_free(v, n);
	return -1;
}

static bool
is_dir(const char *dir, const char *sub)
{
	char path[4096];
	struct stat st;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, sub);
	return n > 0 && (size_t)n < sizeof(path) && stat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode);
}

bool
mailbox_is_maildir(const char *dir)
{
	return is_dir(dir, "cur") || is_dir(dir, "new");
}

/* Reads one maildir message whole (capped) as a report mail. */
static int
read_message(const char *path, const struct source_limits *lim,
             source_item_fn fn, void *ctx, char *why, size_t why_size)
{
	struct mailbox_in in;
	char *buf;
	size_t len;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (mailbox_in_fd(&in, fd) == -1) {
		(void)close(fd);
		(void)snprintf(why, why_size, "out of memory");
		return -1;
	}
	rc = mailbox_in_slurp(&in, lim->input_max, &buf, &len);
	if (rc == -1)
		(void)snprintf(why, why_size, "%s: %s", path, strerror(errno));
	mailbox_in_close(&in);
	(void)close(fd);
	if (rc == 1)
		return emit_error(path, NULL, 0, fn, ctx,
		                  "message passes the cap of %zu octets",
		                  lim->input_max) == SOURCE_STOP;
	if (rc == -1)
		return -1;
	rc = mime_read_message(buf, len, path, lim, fn, ctx);
	free(buf);
	return rc;
}

/* The messages of DIR/SUB in name order. */
static int
read_sub(const char *dir, const char *sub, const struct source_limits *lim,
         source_item_fn fn, void *ctx, char *why, size_t why_size)
{
	char sdir[4096], path[4096], **names;
	size_t count, i;
	int n, rc = 0;

	if (!is_dir(dir, sub))
		return 0;
	n = snprintf(sdir, sizeof(sdir), "%s/%s", dir, sub);
	if (n < 0 || (size_t)n >= sizeof(sdir)) {
		(void)snprintf(why, why_size, "%s: path too long", dir);
		return -1;
	}
	if (mailbox_list(sdir, &names, &count, why, why_size) == -1)
		return -1;
	for (i = 0; rc == 0 && i < count; i++) {
		n = snprintf(path, sizeof(path), "%s/%s", sdir, names[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			(void)snprintf(why, why_size, "%s: path too long",
			               sdir);
			rc = -1;
			break;
		}
		rc = read_message(path, lim, fn, ctx, why, why_size);
	}
	mailbox_list_free(names, count);
	return rc;
}

int
mailbox_read_maildir(const char *dir, const struct source_limits *lim,
                     source_item_fn fn, void *ctx, char *why, size_t why_size)
{
	int rc;

	/* cur/ holds the messages already seen, new/ those not yet. */
	if ((rc = read_sub(dir, "cur", lim, fn, ctx, why, why_size)) != 0)
		return rc;
	return read_sub(dir, "new", lim, fn, ctx, why, why_size);
}
