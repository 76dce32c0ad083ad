/* SPDX-License-Identifier: ISC */
/*
 * The report parts of a report mail (RFC 8460 §5.3, checklist §15),
 * with GMime 3.  A report mail is multipart/report; report-type=tlsrpt
 * with a human-readable part and the report as application/tlsrpt+gzip
 * or application/tlsrpt+json (RPT-MAIL-1, -2); the receiver takes the
 * report part and ignores the rest (RPT-MAIL-13).  Real mail differs, so
 * this looks for report parts anywhere in the tree: in nested
 * multiparts (a multipart/mixed around the report, a signed multipart)
 * and in attached messages (a forwarded report), up to parts_max MIME
 * objects in all.
 *
 * The media type says which parts are reports; the content says how to
 * read them: a part that begins with the gzip magic 1f 8b (§6.3) is
 * inflated whatever its label, and a gzip label on plain JSON is read as
 * JSON, each leniency noted in the item.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "inflate.h"
#include "mime.h"

static bool gmime_ready, gmime_done;

/* What a report part's label promised. */
enum label { LABEL_JSON = 1, LABEL_GZIP };

struct found {
	GMimePart *part;   /* borrowed from the message */
	GMimeMessage *msg; /* the innermost message holding it */
	enum label label;
};

struct walk {
	const struct source_limits *lim;
	size_t seen;       /* MIME objects looked at */
	bool over;         /* more than lim->parts_max of them */
	GArray *hits;      /* struct found */
	GMimeMessage *msg; /* the message being walked */
};

/* What every item of one message shares. */
struct mail {
	const char *buf;
	size_t len;
	const char *origin;
	const struct source_limits *lim;
	source_item_fn fn;
	void *ctx;
	/* Of the message holding the part at hand (RFC 8460 §5.3). */
	GMimeMessage *msg;
	char *domain; /* TLS-Report-Domain, trimmed */
	char *submitter;
	char *report_id;
};

static void
ensure_init(void)
{
	if (!gmime_ready) {
		g_mime_init();
		gmime_ready = true;
	}
}

void
mime_shutdown(void)
{
	if (gmime_ready) {
		g_mime_shutdown();
		gmime_ready = false;
	}
	gmime_done = true;
}

static bool
ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && g_ascii_strcasecmp(s + n - m, suffix) == 0;
}

/*
 * Whether a leaf part is a report, and what its label promises.  The
 * registered types (RFC 8460 §6.3, §6.4) always are.  Real senders also
 * use generic types; of those, only application/gzip, application/x-gzip,
 * application/octet-stream and application/json are taken, and only
 * with a file name ending as §5.1's extension says (".json.gz" or
 * ".json"): the name is what a sender that did not use the registered
 * type still gets right, and without it an attachment of a generic type
 * may be anything (a forwarded archive, a log).
 */
static bool
report_label(GMimePart *part, enum label *label)
{
	GMimeContentType *ct =
	    g_mime_object_get_content_type(GMIME_OBJECT(part));
	const char *name;

	if (ct == NULL)
		return false;
	if (g_mime_content_type_is_type(ct, "application", "tlsrpt+gzip")) {
		*label = LABEL_GZIP;
		return true;
	}
	if (g_mime_content_type_is_type(ct, "application", "tlsrpt+json")) {
		*label = LABEL_JSON;
		return true;
	}
	if (!g_mime_content_type_is_type(ct, "application", "gzip") &&
	    !g_mime_content_type_is_type(ct, "application", "x-gzip") &&
	    !g_mime_content_type_is_type(ct, "application", "octet-stream") &&
	    !g_mime_content_type_is_type(ct, "application", "json"))
		return false;
	if ((name = g_mime_part_get_filename(part)) == NULL)
		return false;
	if (ends_with_ci(name, ".json.gz")) {
		*label = LABEL_GZIP;
		return true;
	}
	if (ends_with_ci(name, ".json")) {
		*label = LABEL_JSON;
		return true;
	}
	return false;
}

/* Collects the report parts under `obj`, in document order. */
static void
walk(struct walk *w, GMimeObject *obj)
{
	GMimeMessage *inner, *outer;
	struct found f;
	int i, n;

	if (obj == NULL || w->over)
		return;
	if (++w->seen > w->lim->parts_max) {
		w->over = true;
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		inner =
		    g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (inner != NULL) {
			outer = w->msg;
			w->msg = inner;
			walk(w, g_mime_message_get_mime_part(inner));
			w->msg = outer;
		}
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < n && !w->over; i++)
			walk(w,
			     g_mime_multipart_get_part(GMIME_MULTIPART(obj),
			                               i));
		return;
	}
	if (GMIME_IS_PART(obj) && report_label(GMIME_PART(obj), &f.label)) {
		f.part = GMIME_PART(obj);
		f.msg = w->msg;
		g_array_append_val(w->hits, f);
	}
}

/* A header field's value, trimmed, or NULL; the caller g_free()s it. */
static char *
header(GMimeMessage *msg, const char *name)
{
	const char *v = g_mime_object_get_header(GMIME_OBJECT(msg), name);

	return v == NULL ? NULL : g_strstrip(g_strdup(v));
}

/*
 * The id of the Subject's "Report-ID: <id>" (RFC 8460 §5.3's
 * tlsrpt-subject), without the angle brackets, or NULL.  Only a help
 * to callers: the report's own report-id is what identifies it.
 */
static char *
subject_report_id(GMimeMessage *msg)
{
	const char *s = g_mime_message_get_subject(msg), *p, *end;

	if (s == NULL || (p = strstr(s, "Report-ID:")) == NULL)
		return NULL;
	p += strlen("Report-ID:");
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p != '<' || (end = strchr(p, '>')) == NULL || end == p + 1)
		return NULL;
	return g_strndup(p + 1, (gsize)(end - p - 1));
}

static int
emit(const struct mail *m, struct source_item *item)
{
	item->origin = m->origin;
	item->kind = SOURCE_MAIL;
	item->raw = m->buf;
	item->raw_len = m->len;
	item->report_domain = m->domain;
	item->report_submitter = m->submitter;
	item->report_id = m->report_id;
	return m->fn(item, m->ctx) == SOURCE_STOP ? 1 : 0;
}

static int emit_error(const struct mail *m, unsigned part, const char *filename,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
emit_error(const struct mail *m, unsigned part, const char *filename,
           const char *fmt, ...)
{
	struct source_item item = {0};
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	item.error = why;
	item.part = part;
	item.filename = filename;
	return emit(m, &item);
}

/* Skips JSON's insignificant white space (RFC 8259 §2). */
static bool
looks_like_json(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len &&
	       (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < len && p[i] == '{';
}

/* Gives the JSON of one decoded report part, inflating it when gzip. */
static int
emit_content(const struct mail *m, unsigned part, const char *filename,
             enum label label, const unsigned char *data, size_t len)
{
	struct source_item item = {0};
	char why[256], *json = NULL;
	size_t json_len;
	int rc;

	item.part = part;
	item.filename = filename;
	if (inflate_is_gzip(data, len)) {
		if (inflate_gzip(data, len, m->lim->inflated_max, &json,
		                 &json_len, why, sizeof(why)) == -1)
			return emit_error(m, part, filename,
			                  "report part %u: %s", part, why);
		item.json = json;
		item.json_len = json_len;
		if (label == LABEL_JSON)
			item.note = "a report part labelled JSON holds gzip: "
				    "inflated";
		rc = emit(m, &item);
		free(json);
		return rc;
	}
	if (label == LABEL_GZIP && !looks_like_json(data, len))
		return emit_error(m, part, filename,
		                  "report part %u is labelled gzip but is not "
		                  "gzip (no 1f 8b magic)",
		                  part);
	if (len > m->lim->inflated_max)
		return emit_error(m, part, filename,
		                  "report part %u: its %zu octets of JSON pass "
		                  "the cap of %zu",
		                  part, len, m->lim->inflated_max);
	if (label == LABEL_GZIP)
		item.note = "a report part labelled gzip holds plain JSON";
	item.json = (const char *)data;
	item.json_len = len;
	return emit(m, &item);
}

/*
 * Decodes one report part's transfer encoding into memory.  Decoding
 * base64, quoted-printable or uuencode never makes more octets than it
 * reads, so the part is at most the message's size; the check against
 * input_max holds it to that whatever GMime does.
 */
static int
emit_part(const struct mail *m, unsigned part, const struct found *f)
{
	const char *filename = g_mime_part_get_filename(f->part);
	GMimeDataWrapper *content = g_mime_part_get_content(f->part);
	GMimeStream *out;
	GByteArray *bytes;
	int rc;

	if (content == NULL)
		return emit_error(m, part, filename, "report part %u is empty",
		                  part);
	out = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(content, out) < 0) {
		g_object_unref(out);
		return emit_error(m, part, filename,
		                  "report part %u cannot be decoded", part);
	}
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	if (bytes->len > m->lim->input_max)
		rc =
		    emit_error(m, part, filename,
		               "report part %u: %u decoded octets pass the cap "
		               "of %zu",
		               part, bytes->len, m->lim->input_max);
	else if (bytes->len == 0)
		rc = emit_error(m, part, filename, "report part %u is empty",
		                part);
	else
		rc = emit_content(m, part, filename, f->label, bytes->data,
		                  bytes->len);
	g_object_unref(out);
	return rc;
}

/*
 * The header fields of the message holding the part at hand: a
 * forwarded report's are those of the report mail, not the forward's.
 */
static void
set_headers(struct mail *m, GMimeMessage *msg)
{
	if (m->msg == msg)
		return;
	g_free(m->domain);
	g_free(m->submitter);
	g_free(m->report_id);
	m->msg = msg;
	m->domain = msg != NULL ? header(msg, "TLS-Report-Domain") : NULL;
	m->submitter = msg != NULL ? header(msg, "TLS-Report-Submitter") : NULL;
	m->report_id = msg != NULL ? subject_report_id(msg) : NULL;
}

static int
emit_parts(struct mail *m, GMimeMessage *msg)
{
	struct walk w = {m->lim, 0, false, NULL, msg};
	const struct found *f;
	guint i;
	int rc = 0;

	w.hits = g_array_new(FALSE, FALSE, sizeof(struct found));
	walk(&w, g_mime_message_get_mime_part(msg));
	if (w.over)
		rc = emit_error(m, 0, NULL,
		                "the message has more than %zu MIME parts",
		                m->lim->parts_max);
	else if (w.hits->len == 0)
		rc = emit_error(
		    m, 0, NULL,
		    "no TLS-RPT report part (application/tlsrpt+gzip "
		    "or application/tlsrpt+json) in the message "
		    "(%zu MIME parts)",
		    w.seen);
	for (i = 0; !w.over && rc == 0 && i < w.hits->len; i++) {
		f = &g_array_index(w.hits, struct found, i);
		set_headers(m, f->msg);
		rc = emit_part(m, i + 1, f);
	}
	g_array_free(w.hits, TRUE);
	return rc;
}

int
mime_read_message(const char *buf, size_t len, const char *origin,
                  const struct source_limits *lim, source_item_fn fn, void *ctx)
{
	struct mail m = {buf, len,  origin, lim,  fn,
	                 ctx, NULL, NULL,   NULL, NULL};
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	int rc;

	if (gmime_done)
		return emit_error(&m, 0, NULL,
		                  "cannot read mail: GMime was shut down");
	ensure_init();
	/* GMime copies the bytes; its parts are slices of that copy. */
	stream = g_mime_stream_mem_new_with_buffer(buf, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		return emit_error(&m, 0, NULL, "not a mail message");
	set_headers(&m, msg);
	rc = emit_parts(&m, msg);
	set_headers(&m, NULL);
	g_object_unref(msg);
	return rc;
}
