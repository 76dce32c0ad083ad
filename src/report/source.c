/* SPDX-License-Identifier: ISC */
/*
 * Where TLS-RPT reports come from (see source.h): a path or bytes in
 * memory, sniffed and turned into items of report JSON.  RFC 8460 §5.2
 * and §6.3: a report is plain JSON (application/tlsrpt+json) or gzip
 * (application/tlsrpt+gzip, magic 1f 8b); by email (§5.3) it is a part
 * of a report mail; a mailbox holds many such mails.
 *
 * What a file is, is sniffed from its first octets, not its name: 1f 8b
 * is gzip, "{" (after white space) is JSON, "From " begins an mbox, and
 * anything else is read as a mail, which says when it holds no report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mtasts/tlsrpt_report.h>

#include "inflate.h"
#include "mailbox.h"
#include "mime.h"
#include "source.h"

/* What a label (a Content-Type) promises about the bytes. */
enum promise { PROMISE_NONE = 0, PROMISE_JSON, PROMISE_GZIP, PROMISE_MAIL };

/* One input's shared item fields. */
struct input {
	const char *buf;
	size_t len;
	const char *origin;
	const struct source_limits *lim;
	source_item_fn fn;
	void *ctx;
};

void
source_limits_default(struct source_limits *lim)
{
	lim->input_max = 10u * 1024 * 1024;
	lim->inflated_max = MTS_TLSRPT_REPORT_MAX; /* RFC 8460 §7: 10 MB */
	lim->parts_max = 64;
	lim->messages_max = 0;
}

static int
emit(const struct input *in, struct source_item *item)
{
	item->origin = in->origin;
	item->raw = in->buf;
	item->raw_len = in->len;
	return in->fn(item, in->ctx) == SOURCE_STOP ? 1 : 0;
}

static int emit_error(const struct input *in, enum source_kind kind,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
emit_error(const struct input *in, enum source_kind kind, const char *fmt, ...)
{
	struct source_item item = {0};
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	item.kind = kind;
	item.error = why;
	return emit(in, &item);
}

/* JSON's insignificant white space (RFC 8259 §2), and a UTF-8 BOM. */
static size_t
skip_space(const unsigned char *p, size_t len)
{
	size_t i = 0;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < len &&
	       (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

static bool
looks_like_json(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = skip_space(p, len);

	return i < len && (p[i] == '{' || p[i] == '[');
}

static bool
is_mbox(const char *buf, size_t len)
{
	return len >= 5 && memcmp(buf, "From ", 5) == 0;
}

static int
read_gzip(const struct input *in, bool labelled_json)
{
	struct source_item item = {0};
	char why[256], *json;
	size_t len;
	int rc;

	if (inflate_gzip(in->buf, in->len, in->lim->inflated_max, &json, &len,
	                 why, sizeof(why)) == -1)
		return emit_error(in, SOURCE_GZIP, "%s", why);
	item.kind = SOURCE_GZIP;
	item.json = json;
	item.json_len = len;
	if (labelled_json)
		item.note = "labelled JSON but gzip: inflated";
	rc = emit(in, &item);
	free(json);
	return rc;
}

static int
read_json(const struct input *in, bool labelled_gzip)
{
	struct source_item item = {0};

	if (in->len > in->lim->inflated_max)
		return emit_error(in, SOURCE_JSON,
		                  "%zu octets of JSON pass the cap of %zu",
		                  in->len, in->lim->inflated_max);
	item.kind = SOURCE_JSON;
	item.json = in->buf;
	item.json_len = in->len;
	if (labelled_gzip)
		item.note = "labelled gzip but plain JSON";
	return emit(in, &item);
}

static int
read_mbox(const struct input *in, char *why, size_t why_size)
{
	struct mailbox_in mb;

	mailbox_in_mem(&mb, in->buf, in->len);
	return mailbox_read_mbox(&mb, in->origin, in->lim, in->fn, in->ctx, why,
	                         why_size);
}

/*
 * The media type of an HTTP Content-Type (RFC 9110 §8.3), without its
 * parameters, matched case-insensitively.  The content still wins where
 * it is unambiguous: gzip labelled JSON is inflated (senders mislabel
 * it), and JSON labelled gzip read as JSON, each noted in the item.
 */
static enum promise
promise_of(const char *content_type)
{
	static const struct {
		const char *type;
		enum promise promise;
	} types[] = {
	    {"application/tlsrpt+json", PROMISE_JSON}, /* RFC 8460 §6.4 */
	    {"application/json", PROMISE_JSON},
	    {"application/tlsrpt+gzip", PROMISE_GZIP}, /* RFC 8460 §6.3 */
	    {"application/gzip", PROMISE_GZIP},
	    {"application/x-gzip", PROMISE_GZIP},
	    {"message/rfc822", PROMISE_MAIL},
	};
	size_t i, n;

	if (content_type == NULL)
		return PROMISE_NONE;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	n = strcspn(content_type, "; \t");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].type) == n &&
		    strncasecmp(content_type, types[i].type, n) == 0)
			return types[i].promise;
	return PROMISE_NONE;
}

static int
dispatch(const struct input *in, enum promise promise, char *why,
         size_t why_size)
{
	bool gzip = inflate_is_gzip(in->buf, in->len);

	switch (promise) {
	case PROMISE_JSON:
		return gzip ? read_gzip(in, true) : read_json(in, false);
	case PROMISE_GZIP:
		if (gzip)
			return read_gzip(in, false);
		if (looks_like_json(in->buf, in->len))
			return read_json(in, true);
		return emit_error(
		    in, SOURCE_GZIP,
		    "labelled gzip but not gzip (no 1f 8b magic)");
	case PROMISE_MAIL:
		return mime_read_message(in->buf, in->len, in->origin, in->lim,
		                         in->fn, in->ctx);
	case PROMISE_NONE:
		break;
	}
	if (gzip)
		return read_gzip(in, false);
	if (looks_like_json(in->buf, in->len))
		return read_json(in, false);
	if (is_mbox(in->buf, in->len))
		return read_mbox(in, why, why_size);
	return mime_read_message(in->buf, in->len, in->origin, in->lim, in->fn,
	                         in->ctx);
}

int
source_read_buffer(const char *buf, size_t len, const char *origin,
                   const char *content_type, const struct source_limits *lim,
                   source_item_fn fn, void *ctx, char *why, size_t why_size)
{
	struct input in = {buf, len, origin, lim, fn, ctx};

	if (len > lim->input_max)
		return emit_error(&in, SOURCE_MAIL,
		                  "%zu octets pass the input cap of %zu", len,
		                  lim->input_max);
	return dispatch(&in, promise_of(content_type), why, why_size);
}

/* What an input that is too big to read seems to be, from its start. */
static enum source_kind
kind_of(const char *p, size_t n)
{
	if (inflate_is_gzip(p, n))
		return SOURCE_GZIP;
	if (looks_like_json(p, n))
		return SOURCE_JSON;
	return SOURCE_MAIL;
}

/*
 * Reads a descriptor: an mbox streamed message by message, anything
 * else read whole up to input_max (refused, not cut, when longer).
 */
static int
read_fd(int fd, const char *origin, const struct source_limits *lim,
        source_item_fn fn, void *ctx, char *why, size_t why_size)
{
	struct input in = {NULL, 0, origin, lim, fn, ctx};
	struct mailbox_in mb;
	enum source_kind kind;
	const char *head;
	char *buf;
	ssize_t n;
	int rc;

	if (mailbox_in_fd(&mb, fd) == -1) {
		(void)snprintf(why, why_size, "%s: out of memory", origin);
		return -1;
	}
	if ((n = mailbox_in_peek(&mb, 64, &head)) == -1)
		goto fail;
	if (is_mbox(head, (size_t)n)) {
		rc =
		    mailbox_read_mbox(&mb, origin, lim, fn, ctx, why, why_size);
		mailbox_in_close(&mb);
		return rc;
	}
	kind = kind_of(head, (size_t)n);
	switch (mailbox_in_slurp(&mb, lim->input_max, &buf, &in.len)) {
	case 0:
		in.buf = buf;
		rc = dispatch(&in, PROMISE_NONE, why, why_size);
		free(buf);
		break;
	case 1:
		rc = emit_error(&in, kind, "passes the input cap of %zu octets",
		                lim->input_max);
		break;
	default:
		goto fail;
	}
	mailbox_in_close(&mb);
	return rc;
fail:
	(void)snprintf(why, why_size, "%s: %s", origin,
	               mb.error != 0 ? strerror(mb.error) : "out of memory");
	mailbox_in_close(&mb);
	return -1;
}

static int
read_file(const char *path, const struct source_limits *lim, source_item_fn fn,
          void *ctx, char *why, size_t why_size)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = read_fd(fd, path, lim, fn, ctx, why, why_size);
	(void)close(fd);
	return rc;
}

/* A plain directory: its regular files in name order, not recursing. */
static int
read_dir(const char *dir, const struct source_limits *lim, source_item_fn fn,
         void *ctx, char *why, size_t why_size)
{
	char path[4096], **names;
	size_t count, i;
	int n, rc = 0;

	if (mailbox_list(dir, &names, &count, why, why_size) == -1)
		return -1;
	for (i = 0; rc == 0 && i < count; i++) {
		n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			(void)snprintf(why, why_size, "%s: path too long", dir);
			rc = -1;
			break;
		}
		rc = read_file(path, lim, fn, ctx, why, why_size);
	}
	mailbox_list_free(names, count);
	return rc;
}

int
source_read_path(const char *path, const struct source_limits *lim,
                 source_item_fn fn, void *ctx, char *why, size_t why_size)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return read_fd(STDIN_FILENO, "-", lim, fn, ctx, why, why_size);
	if (stat(path, &st) == -1) {
		(void)snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return read_file(path, lim, fn, ctx, why, why_size);
	if (mailbox_is_maildir(path))
		return mailbox_read_maildir(path, lim, fn, ctx, why, why_size);
	return read_dir(path, lim, fn, ctx, why, why_size);
}
