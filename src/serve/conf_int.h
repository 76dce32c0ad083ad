/* SPDX-License-Identifier: ISC */
/*
 * What the two halves of the mtasts.conf(5) parser share: the parser's
 * state and one statement, which the tokenizer (conf_lex.c) fills and
 * the keywords (conf.c) read.  Private to them; conf.h is the API.
 */
#ifndef MTS_SERVE_CONF_INT_H
#define MTS_SERVE_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define ARGS_MAX         4 /* arguments kept per statement; none needs more */
/* Room for arguments in a statement: another parser on this tokenizer
   (policyd.conf's `listen unix:PATH mode M group G`) may raise its cap
   up to it with parser.args_max. */
#define ARGS_ROOM        6
#define TOP_KEYWORDS_MAX 24 /* room in parser.first[] */

enum stmt_result { STMT_EOF, STMT_OK, STMT_CLOSE, STMT_ERR };

/* One line: a keyword, its arguments, and whether it opened a block. */
struct stmt {
	unsigned line;
	const char *kw;
	const char *argv[ARGS_ROOM];
	size_t argc;
	bool block;
	/* The unescaped tokens, NUL-terminated; a line never needs more. */
	char text[CONF_LINE_MAX + 1];
};

/* Domain names seen so far: open addressing over conf->domains. */
struct name_index {
	size_t *slots; /* 1 + index into conf->domains; 0: empty */
	size_t size;   /* a power of two, or 0 */
};

struct parser {
	const char *buf;
	size_t len;
	size_t pos;
	unsigned line;
	const char *file;
	char *err;
	struct serve_conf *conf;
	struct name_index names;
	size_t domain_cap;
	size_t dir_cap;
	unsigned listen_line[CONF_LISTEN_MAX];
	unsigned metrics_line;
	unsigned cert_line; /* of the default certificate, 0: none */
	unsigned key_line;
	unsigned acme_http_line[CONF_ACME_HTTP_MAX]; /* of each listener */
	unsigned acme_burst_line;
	unsigned first[TOP_KEYWORDS_MAX]; /* line of each top_keywords[] */
	size_t args_max; /* arguments per statement; 0: ARGS_MAX */
};

/*
 * Sets the parse error, "file:line: message", unless p->err is NULL.
 * Always returns -1, for `return conf_fail(...)`.
 */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int
conf_fail(struct parser *p, unsigned line, const char *fmt, ...);

/* The number of the last line, for errors found at the end. */
unsigned conf_last_line(const struct parser *p);

/*
 * The byte-level rules, before any token: the size and line caps, no
 * NUL, no control byte but HTAB, CR only in a CRLF line end.  0 or -1
 * with the error set.
 */
int conf_check_text(struct parser *p);

/*
 * The next statement, skipping empty lines: STMT_OK with st filled,
 * STMT_CLOSE for a '}' line, STMT_EOF, or STMT_ERR with the error set.
 */
enum stmt_result conf_read_stmt(struct parser *p, struct stmt *st);

#endif /* MTS_SERVE_CONF_INT_H */
