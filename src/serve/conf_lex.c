/* SPDX-License-Identifier: ISC */
/*
 * The tokenizer of mtasts.conf(5), the one the parser's keywords
 * (conf.c) read statements from.  Two layers: conf_check_text() vets the
 * raw bytes (size cap, line cap, no NUL or other control bytes, CR only
 * before LF); the tokenizer turns a line into words, quoted strings,
 * `{`, `}` and line ends, skipping # comments, and conf_read_stmt()
 * gathers one line into a keyword and its arguments.  Pure: text in,
 * statements out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

enum tok {
	TOK_EOF,
	TOK_NEWLINE,
	TOK_WORD,
	TOK_STRING,
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_ERROR
};

int
conf_fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err == NULL)
		return -1;
	n = snprintf(p->err, CONF_ERR_SIZE, "%s:%u: ", p->file, line);
	if (n < 0 || n >= CONF_ERR_SIZE)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, CONF_ERR_SIZE - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

unsigned
conf_last_line(const struct parser *p)
{
	if (p->len > 0 && p->buf[p->len - 1] == '\n' && p->line > 1)
		return p->line - 1;
	return p->line;
}

/* A NUL would end a C string early; a lone CR would move the line. */
int
conf_check_text(struct parser *p)
{
	const char *b = p->buf;
	unsigned line = 1;
	size_t i, start = 0;

	for (i = 0; i < p->len; i++) {
		unsigned char c = (unsigned char)b[i];

		if (i == CONF_MAX_SIZE)
			return conf_fail(p, line, "file over %d bytes",
			                 CONF_MAX_SIZE);
		if (c == '\n') {
			line++;
			start = i + 1;
			continue;
		}
		if (i - start >= CONF_LINE_MAX)
			return conf_fail(p, line, "line over %d bytes",
			                 CONF_LINE_MAX);
		if (c == '\0')
			return conf_fail(p, line, "NUL byte");
		if (c == '\r' && (i + 1 == p->len || b[i + 1] != '\n'))
			return conf_fail(p, line,
			                 "carriage return without a line feed");
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F)
			return conf_fail(p, line, "control character 0x%02x",
			                 c);
	}
	return 0;
}

/* White space between tokens; conf_check_text() let CR through only in CRLF. */
static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* What may follow a token: white space, a line end, a brace, a comment. */
static bool
is_separator(char c)
{
	return is_blank(c) || c == '\n' || c == '{' || c == '}' || c == '#';
}

/*
 * A quoted string: \" and \\ are the only escapes, and it ends on its
 * own line.  The opening quote has been read.
 */
static enum tok
lex_string(struct parser *p, char *out, size_t size, size_t *n)
{
	size_t k = 0;
	char c;

	for (;;) {
		if (p->pos == p->len || p->buf[p->pos] == '\n') {
			conf_fail(p, p->line, "unterminated string");
			return TOK_ERROR;
		}
		if ((c = p->buf[p->pos++]) == '"')
			break;
		if (c == '\\') {
			if (p->pos == p->len ||
			    (p->buf[p->pos] != '"' && p->buf[p->pos] != '\\')) {
				conf_fail(
				    p, p->line,
				    "bad escape in string: only \\\" and \\\\");
				return TOK_ERROR;
			}
			c = p->buf[p->pos++];
		}
		if (k + 1 >= size) {
			conf_fail(p, p->line, "line too long");
			return TOK_ERROR;
		}
		out[k++] = c;
	}
	if (p->pos < p->len && !is_separator(p->buf[p->pos])) {
		conf_fail(p, p->line, "white space expected after a string");
		return TOK_ERROR;
	}
	out[k] = '\0';
	*n = k;
	return TOK_STRING;
}

/*
 * A word runs to white space, a line end or a brace.  A '#' inside a
 * word is part of it (only one at the start of a token opens a comment),
 * so that a path with '#' is not cut short without a word.
 */
static enum tok
lex_word(struct parser *p, char *out, size_t size, size_t *n)
{
	size_t start = p->pos, k;

	while (p->pos < p->len && !is_blank(p->buf[p->pos]) &&
	       strchr("\n{}\"", p->buf[p->pos]) == NULL)
		p->pos++;
	if (p->pos < p->len && p->buf[p->pos] == '"') {
		conf_fail(p, p->line, "quote inside a word");
		return TOK_ERROR;
	}
	if ((k = p->pos - start) + 1 > size) {
		conf_fail(p, p->line, "line too long");
		return TOK_ERROR;
	}
	memcpy(out, p->buf + start, k);
	out[k] = '\0';
	*n = k;
	return TOK_WORD;
}

/* Skips white space and a comment, up to the line end or a token. */
static void
skip_space(struct parser *p)
{
	while (p->pos < p->len && is_blank(p->buf[p->pos]))
		p->pos++;
	if (p->pos < p->len && p->buf[p->pos] == '#')
		while (p->pos < p->len && p->buf[p->pos] != '\n')
			p->pos++;
}

/* The next token; words and strings are copied into out[0..size). */
static enum tok
lex_next(struct parser *p, char *out, size_t size, size_t *n)
{
	skip_space(p);
	if (p->pos == p->len)
		return TOK_EOF;
	switch (p->buf[p->pos++]) {
	case '\n':
		p->line++;
		return TOK_NEWLINE;
	case '{':
		return TOK_LBRACE;
	case '}':
		return TOK_RBRACE;
	case '"':
		return lex_string(p, out, size, n);
	default:
		p->pos--;
		return lex_word(p, out, size, n);
	}
}

/* After a brace only a comment may follow on the line. */
static enum stmt_result
end_of_line(struct parser *p, const char *after)
{
	skip_space(p);
	if (p->pos == p->len)
		return STMT_OK;
	if (p->buf[p->pos] == '\n') {
		p->pos++;
		p->line++;
		return STMT_OK;
	}
	conf_fail(p, p->line, "end of line expected after %s", after);
	return STMT_ERR;
}

/* The arguments of a statement, up to the line end or a '{'. */
static enum stmt_result
read_args(struct parser *p, struct stmt *st, size_t used)
{
	size_t n;

	for (;;) {
		switch (
		    lex_next(p, st->text + used, sizeof(st->text) - used, &n)) {
		case TOK_NEWLINE:
		case TOK_EOF:
			return STMT_OK;
		case TOK_ERROR:
			return STMT_ERR;
		case TOK_RBRACE:
			conf_fail(p, st->line,
			          "'}' must be on a line of its own");
			return STMT_ERR;
		case TOK_LBRACE:
			st->block = true;
			return end_of_line(p, "'{'");
		case TOK_WORD:
		case TOK_STRING:
			break;
		}
		if (st->argc == (p->args_max != 0 ? p->args_max : ARGS_MAX)) {
			conf_fail(p, st->line, "%s: too many arguments",
			          st->kw);
			return STMT_ERR;
		}
		st->argv[st->argc++] = st->text + used;
		used += n + 1;
	}
}

enum stmt_result
conf_read_stmt(struct parser *p, struct stmt *st)
{
	enum tok t;
	size_t n;

	while ((t = lex_next(p, st->text, sizeof(st->text), &n)) == TOK_NEWLINE)
		continue;
	st->line = p->line;
	st->argc = 0;
	st->block = false;
	switch (t) {
	case TOK_EOF:
		return STMT_EOF;
	case TOK_ERROR:
		return STMT_ERR;
	case TOK_RBRACE:
		return end_of_line(p, "'}'") == STMT_OK ? STMT_CLOSE : STMT_ERR;
	case TOK_LBRACE:
		conf_fail(p, st->line, "unexpected '{'");
		return STMT_ERR;
	case TOK_STRING:
		conf_fail(p, st->line, "a keyword expected, not a string");
		return STMT_ERR;
	default:
		break;
	}
	st->kw = st->text;
	return read_args(p, st, n + 1);
}
