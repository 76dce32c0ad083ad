/* SPDX-License-Identifier: ISC */
/*
 * Output and input helpers of the mtasts program: findings for people
 * and for scripts (JSON), bounded reads of files and stdin, and the
 * conversion of names people type (maybe U-labels) to A-labels.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <idn2.h>
#include <jansson.h>

#include "cli.h"
#include "text.h"

/* Room for a finding message and a path escaped: 4 octets a character. */
#define ESC_SIZE      (4 * MTS_FINDING_MSG_SIZE + 1)
#define ESC_PATH_SIZE (4 * 4096 + 1)

void
warnx_cli(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool
use_colour(FILE *fp)
{
	const char *term = getenv("TERM"), *no_colour = getenv("NO_COLOR");

	if (no_colour != NULL && no_colour[0] != '\0')
		return false;
	if (term == NULL || strcmp(term, "dumb") == 0)
		return false;
	return isatty(fileno(fp)) == 1;
}

static const char *
severity_colour(enum mts_severity sev)
{
	switch (sev) {
	case MTS_SEV_ERROR:
		return "\033[1;31m";
	case MTS_SEV_WARNING:
		return "\033[1;33m";
	case MTS_SEV_INFO:
		return "\033[1;36m";
	case MTS_SEV_OK:
		return "\033[1;32m";
	}
	return "";
}

static void
print_counts(FILE *fp, const struct mts_diag *diag)
{
	size_t e = mts_diag_count(diag, MTS_SEV_ERROR);
	size_t w = mts_diag_count(diag, MTS_SEV_WARNING);
	size_t n = mts_diag_count(diag, MTS_SEV_INFO);

	fprintf(fp, "%zu error%s, %zu warning%s, %zu note%s", e,
	        e == 1 ? "" : "s", w, w == 1 ? "" : "s", n, n == 1 ? "" : "s");
}

/*
 * s as text safe for a terminal and for JSON (text.h), in buf (size
 * octets): what is shown may hold octets of any input.
 */
static const char *
esc(char *buf, size_t size, const char *s)
{
	text_escape(buf, size, s, strlen(s));
	return buf;
}

void
print_findings_text(FILE *fp, const char *source, const struct mts_diag *diag,
                    bool valid, bool brief)
{
	bool colour = use_colour(fp);
	const struct mts_finding *f;
	char src[ESC_PATH_SIZE], msg[ESC_SIZE];
	size_t i;

	source = esc(src, sizeof(src), source);
	for (i = 0; i < diag->count; i++) {
		f = &diag->items[i];
		if (f->line != 0)
			fprintf(fp, "%s:%u: ", source, f->line);
		else
			fprintf(fp, "%s: ", source);
		fprintf(fp, "%s%s%s: %s (%s) [%s]",
		        colour ? severity_colour(f->severity) : "",
		        mts_severity_name(f->severity), colour ? "\033[0m" : "",
		        f->summary, esc(msg, sizeof(msg), f->message), f->code);
		if (f->count > 1)
			fprintf(fp, " (and %zu more like it)", f->count - 1);
		fputc('\n', fp);
		if (!brief && f->advice[0] != '\0')
			fprintf(fp, "    %s\n", f->advice);
	}
	if (diag->dropped != 0)
		fprintf(fp, "%s: %zu more findings not shown\n", source,
		        diag->dropped);
	fprintf(fp, "%s: %s%s%s (", source,
	        colour ? severity_colour(valid ? MTS_SEV_OK : MTS_SEV_ERROR) :
	                 "",
	        valid ? "valid" : "invalid", colour ? "\033[0m" : "");
	print_counts(fp, diag);
	fputs(")\n", fp);
}

/*
 * "message" is the meaning of the code with the specifics in brackets,
 * readable on its own; "detail" is the specifics alone.
 */
static json_t *
finding_json(const struct mts_finding *f)
{
	char detail[ESC_SIZE];
	json_t *msg = json_sprintf("%s (%s)", f->summary,
	                           esc(detail, sizeof(detail), f->message));

	return json_pack("{s:s, s:s, s:o, s:s, s:o, s:s, s:I}", "code", f->code,
	                 "severity", mts_severity_name(f->severity), "message",
	                 msg, "detail", detail, "line",
	                 f->line != 0 ? json_integer(f->line) : json_null(),
	                 "advice", f->advice, "count", (json_int_t)f->count);
}

int
print_findings_json(FILE *fp, const struct mts_diag *diag, bool valid,
                    void *extra)
{
	json_t *root, *list, *taken;
	size_t i;
	int rc = -1;

	root = json_object();
	list = json_array();
	if (root == NULL || list == NULL)
		goto fail;
	for (i = 0; i < diag->count; i++)
		if (json_array_append_new(list,
		                          finding_json(&diag->items[i])) != 0)
			goto fail;
	if (json_object_set_new(root, "valid", json_boolean(valid)) != 0)
		goto fail;
	/* json_object_set_new() takes list, even when it fails. */
	taken = list;
	list = NULL;
	if (json_object_set_new(root, "findings", taken) != 0)
		goto fail;
	if (json_object_set_new(root, "dropped",
	                        json_integer((json_int_t)diag->dropped)) != 0)
		goto fail;
	if (extra != NULL && json_object_update(root, extra) != 0)
		goto fail;
	if (json_dumpf(root, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		goto fail;
	fputc('\n', fp);
	rc = 0;
fail:
	json_decref(extra);
	json_decref(list);
	json_decref(root);
	if (rc != 0)
		warnx_cli("cannot write JSON output");
	return rc;
}

/* Reads from fd until EOF or cap + 1 bytes. */
static int
read_fd_capped(int fd, size_t cap, char *buf, size_t *len)
{
	size_t have = 0;
	ssize_t n;

	while (have < cap + 1) {
		n = read(fd, buf + have, cap + 1 - have);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		have += (size_t)n;
	}
	*len = have;
	return 0;
}

int
read_capped(const char *path, size_t cap, char **bufp, size_t *lenp)
{
	bool is_stdin = strcmp(path, "-") == 0;
	char *buf;
	int fd;

	if ((buf = malloc(cap + 1)) == NULL) {
		warnx_cli("out of memory");
		return -1;
	}
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read_fd_capped(fd, cap, buf, lenp) != 0) {
		warnx_cli("%s: %s", is_stdin ? "stdin" : path, strerror(errno));
		if (fd >= 0 && !is_stdin)
			close(fd);
		free(buf);
		return -1;
	}
	if (!is_stdin)
		close(fd);
	*bufp = buf;
	return 0;
}

char *
domain_to_ascii(const char *name, const char **why)
{
	char *ascii = NULL, *p;
	size_t len = strlen(name);
	int rc;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if ((p = strndup(name, len)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	rc = idn2_to_ascii_8z(p, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	free(p);
	if (rc != IDN2_OK) {
		*why = idn2_strerror(rc);
		return NULL;
	}
	for (p = ascii; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return ascii;
}

int
cli_parse_unsigned(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}
