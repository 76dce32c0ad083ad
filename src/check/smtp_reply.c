/* SPDX-License-Identifier: ISC */
/*
 * The SMTP reply parser: reply lines of RFC 5321 §4.2 (the code of
 * §4.2 and §4.2.1, the same on every line of a multiline reply, the
 * hyphen of every line but the last), the line length of §4.5.3.1.5,
 * EHLO keywords of §4.1.1.1 and the enhanced status codes of RFC 3463
 * §2 placed as RFC 2034 §4 says, at the start of the text.
 *
 * A byte-driven state machine: each octet is looked at once, whatever
 * the split of the input, and the text of each line is copied into the
 * struct so that nothing points into the caller's buffers.  The text
 * store cannot overflow: every octet stored, text or the NUL that ends
 * a line, stands for a distinct octet read (the NUL for the line's LF),
 * and no more than SMTP_REPLY_MAX octets are read.
 */
#include <stdio.h>
#include <string.h>

#include "smtp_reply.h"
#include "text.h"

#include "internal.h"

enum state {
	S_CODE = 0, /* the three digits; line_len says which one */
	S_SEP,      /* "-", SP, or the end of a code-only line */
	S_TEXT,     /* textstring up to CR or LF */
	S_LF,       /* CR seen: LF must follow */
	S_DONE,
	S_ERROR
};

static void
fail(struct smtp_reply *r, enum smtp_reply_error error)
{
	r->state = S_ERROR;
	r->error = error;
}

void
smtp_reply_init(struct smtp_reply *r)
{
	/* The text store need not be cleared: only written parts are read. */
	memset(r, 0, offsetof(struct smtp_reply, text));
	r->state = S_CODE;
}

/*
 * RFC 3463 §2: status-code = class "." subject "." detail, class = "2"
 * / "4" / "5", subject and detail 1*3digit; RFC 2034 §4 puts it first
 * in the text, followed by SP.  Its class must be that of the reply
 * code, or it is text that only looks like one.
 */
static void
enhanced_code(struct smtp_reply *r)
{
	const char *t = r->text + r->off[0];
	int class = '0' + r->code / 100;
	size_t i, part, n;

	if (class == '3' || t[0] != class || t[1] != '.')
		return;
	for (i = 2, part = 0; part < 2; part++) {
		for (n = 0; n < 3 && mts_is_digit((unsigned char)t[i]); n++)
			i++;
		if (n == 0 || (part == 0 && t[i] != '.'))
			return;
		if (part == 0)
			i++;
	}
	if (t[i] != '\0' && t[i] != ' ')
		return;
	memcpy(r->enhanced, t, i);
	r->enhanced[i] = '\0';
}

/* The LF that ends a line. */
static void
end_line(struct smtp_reply *r)
{
	r->text[r->text_len++] = '\0';
	if (r->line_len > SMTP_REPLY_LINE_RFC)
		r->flags |= SMTP_REPLY_LONG_LINE;
	r->nlines++;
	if (r->last) {
		r->state = S_DONE;
		enhanced_code(r);
		return;
	}
	r->state = S_CODE;
	r->line_len = 0;
	r->line_code = 0;
}

/*
 * Reply-code = %x32-35 %x30-35 %x30-39 (RFC 5321 §4.2).  §4.2.1: every
 * line of a multiline reply carries the code of the reply.
 */
static void
code_digit(struct smtp_reply *r, int c)
{
	static const char lo[] = "200", hi[] = "559";
	size_t i = r->line_len - 1;

	if (i == 0 && r->nlines == SMTP_REPLY_LINES_MAX) {
		fail(r, SMTP_REPLY_E_TOO_MANY_LINES);
		return;
	}
	if (!mts_is_digit(c)) {
		fail(r, SMTP_REPLY_E_SYNTAX);
		return;
	}
	if (c < lo[i] || c > hi[i]) {
		fail(r, SMTP_REPLY_E_CODE);
		return;
	}
	r->line_code = r->line_code * 10 + (c - '0');
	if (i < 2)
		return;
	if (r->nlines > 0 && r->line_code != r->code) {
		fail(r, SMTP_REPLY_E_CODE_MISMATCH);
		return;
	}
	r->code = r->line_code;
	r->state = S_SEP;
}

/* After the code: "-" goes on, SP or the line end is the last line. */
static void
separator(struct smtp_reply *r, int c)
{
	if (c != '-' && c != ' ' && c != '\r' && c != '\n') {
		fail(r, SMTP_REPLY_E_SYNTAX);
		return;
	}
	r->last = c != '-';
	r->off[r->nlines] = r->text_len;
	r->state = c == '\r' ? S_LF : S_TEXT;
	if (c == '\n') {
		r->flags |= SMTP_REPLY_BARE_LF;
		end_line(r);
	}
}

/*
 * textstring = 1*( %d09 / %d32-126 ).  Octets above 126 are kept and
 * flagged: servers send UTF-8 (RFC 6531 allows it after SMTPUTF8).  A
 * bare LF ends the line, as Postfix and most senders read it.
 */
static void
text_octet(struct smtp_reply *r, int c)
{
	if (c == '\r') {
		r->state = S_LF;
	} else if (c == '\n') {
		r->flags |= SMTP_REPLY_BARE_LF;
		end_line(r);
	} else if (c == '\t' || (c >= 0x20 && c != 0x7F)) {
		if (c >= 0x80)
			r->flags |= SMTP_REPLY_8BIT;
		r->text[r->text_len++] = (char)c;
	} else {
		fail(r, SMTP_REPLY_E_CTL);
	}
}

static void
octet(struct smtp_reply *r, int c)
{
	r->len++;
	r->line_len++;
	if (r->len > SMTP_REPLY_MAX) {
		fail(r, SMTP_REPLY_E_TOO_BIG);
		return;
	}
	if (r->line_len > SMTP_REPLY_LINE_MAX) {
		fail(r, SMTP_REPLY_E_LINE_TOO_LONG);
		return;
	}
	switch (r->state) {
	case S_CODE:
		code_digit(r, c);
		break;
	case S_SEP:
		separator(r, c);
		break;
	case S_TEXT:
		text_octet(r, c);
		break;
	case S_LF:
		if (c == '\n')
			end_line(r);
		else
			fail(r, SMTP_REPLY_E_CTL);
		break;
	}
}

enum smtp_reply_result
smtp_reply_feed(struct smtp_reply *r, const char *in, size_t len,
                size_t *consumed)
{
	size_t i = 0;

	while (i < len && r->state != S_DONE && r->state != S_ERROR)
		octet(r, (unsigned char)in[i++]);
	*consumed = i;
	if (r->state == S_DONE)
		return SMTP_REPLY_DONE;
	return r->state == S_ERROR ? SMTP_REPLY_ERROR : SMTP_REPLY_MORE;
}

const char *
smtp_reply_line(const struct smtp_reply *r, size_t i)
{
	if (r->state != S_DONE || i >= r->nlines)
		return NULL;
	return r->text + r->off[i];
}

/* The length of the first word of t, up to SP or HTAB. */
static size_t
word_len(const char *t)
{
	return strcspn(t, " \t");
}

/* s[0..n) equals the NUL-terminated `kw`, ignoring ASCII case. */
static bool
same_word(const char *s, size_t n, const char *kw)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kw[i] == '\0' ||
		    mts_lower((unsigned char)s[i]) !=
		        mts_lower((unsigned char)kw[i]))
			return false;
	return kw[n] == '\0';
}

const char *
smtp_reply_keyword(const struct smtp_reply *r, const char *keyword)
{
	const char *t;
	size_t i, n;

	if (r->state != S_DONE || r->code != 250 || keyword[0] == '\0')
		return NULL;
	for (i = 1; i < r->nlines; i++) {
		t = r->text + r->off[i];
		n = word_len(t);
		if (same_word(t, n, keyword))
			return t[n] == '\0' ? t + n : t + n + 1;
	}
	return NULL;
}

bool
smtp_reply_has_keyword(const struct smtp_reply *r, const char *keyword)
{
	return smtp_reply_keyword(r, keyword) != NULL;
}

const char *
smtp_reply_banner_host(const struct smtp_reply *r, size_t *len)
{
	const char *t;
	size_t n;

	if (r->state != S_DONE || r->nlines == 0)
		return NULL;
	t = r->text + r->off[0];
	if ((n = word_len(t)) == 0)
		return NULL;
	*len = n;
	return t;
}

const char *
smtp_reply_strerror(enum smtp_reply_error error)
{
	switch (error) {
	case SMTP_REPLY_E_NONE:
		return "no error";
	case SMTP_REPLY_E_SYNTAX:
		return "malformed reply line";
	case SMTP_REPLY_E_CODE:
		return "reply code out of range";
	case SMTP_REPLY_E_CODE_MISMATCH:
		return "reply code changes within a multiline reply";
	case SMTP_REPLY_E_CTL:
		return "control character in a reply";
	case SMTP_REPLY_E_LINE_TOO_LONG:
		return "reply line too long";
	case SMTP_REPLY_E_TOO_MANY_LINES:
		return "too many reply lines";
	case SMTP_REPLY_E_TOO_BIG:
		return "reply too large";
	}
	return "unknown error";
}

void
smtp_reply_text(const struct smtp_reply *r, char *buf, size_t size)
{
	const char *line;
	size_t i, off;
	int n;

	n = snprintf(buf, size, "%d", r->code);
	off = n > 0 && (size_t)n < size ? (size_t)n : 0;
	for (i = 0; i < r->nlines && off + 1 < size; i++) {
		line = smtp_reply_line(r, i);
		buf[off++] = ' ';
		off += text_escape(buf + off, size - off, line, strlen(line));
	}
	buf[off] = '\0';
}
