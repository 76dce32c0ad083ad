/* SPDX-License-Identifier: ISC */
/*
 * The parser of mtasts.conf(5), the configuration of `mtasts serve`.
 *
 * Three layers, each small: check_text() vets the raw bytes (size cap,
 * line cap, no NUL or other control bytes, CR only before LF); the
 * tokenizer turns a line into words, quoted strings, `{`, `}` and line
 * ends, skipping # comments; read_stmt() gathers one line into a keyword
 * and its arguments, and a keyword table dispatches it.  The only block
 * is `domain NAME { ... }`.  The first error stops the parse and is
 * reported as "file:line: message".
 *
 * Domain names are the policy domains of RFC 8461 §3 in the RFC 5321
 * §4.1.2 `Domain` form with A-labels (RFC 8461 §3.2, RFC 5890): the
 * server answers for "mta-sts." + domain (RFC 8461 §3.3), so a name
 * given with that label already is a mistake we name.  Addresses are
 * numeric only (inet_pton, no resolution), which keeps this module pure:
 * text in, struct out, no I/O.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/dname.h>

#include "conf.h"

#include "internal.h"

#define ARGS_MAX         4  /* arguments kept per statement; none needs more */
#define USER_MAX         32 /* useradd(8)'s limit on a user name */
#define DEFAULT_PORT     443
#define TOP_KEYWORDS_MAX 16 /* room in parser.first[] */

enum tok {
	TOK_EOF,
	TOK_NEWLINE,
	TOK_WORD,
	TOK_STRING,
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_ERROR
};

enum stmt_result { STMT_EOF, STMT_OK, STMT_CLOSE, STMT_ERR };

/* One line: a keyword, its arguments, and whether it opened a block. */
struct stmt {
	unsigned line;
	const char *kw;
	const char *argv[ARGS_MAX];
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
	unsigned first[TOP_KEYWORDS_MAX]; /* line of each top_keywords[] */
};

struct keyword {
	const char *name;
	bool repeatable;
	bool block; /* takes a { } block */
	int (*fn)(struct parser *, const struct stmt *);
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(struct parser *p, unsigned line, const char *fmt, ...)
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

/* The number of the last line, for errors found at the end. */
static unsigned
last_line(const struct parser *p)
{
	if (p->len > 0 && p->buf[p->len - 1] == '\n' && p->line > 1)
		return p->line - 1;
	return p->line;
}

/*
 * The byte-level rules, before any token: the size and line caps, no NUL
 * (a C string would end there), no control byte but HTAB, and CR only in
 * a CRLF line end.
 */
static int
check_text(struct parser *p)
{
	const char *b = p->buf;
	unsigned line = 1;
	size_t i, start = 0;

	for (i = 0; i < p->len; i++) {
		unsigned char c = (unsigned char)b[i];

		if (i == CONF_MAX_SIZE)
			return fail(p, line, "file over %d bytes",
			            CONF_MAX_SIZE);
		if (c == '\n') {
			line++;
			start = i + 1;
			continue;
		}
		if (i - start >= CONF_LINE_MAX)
			return fail(p, line, "line over %d bytes",
			            CONF_LINE_MAX);
		if (c == '\0')
			return fail(p, line, "NUL byte");
		if (c == '\r' && (i + 1 == p->len || b[i + 1] != '\n'))
			return fail(p, line,
			            "carriage return without a line feed");
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F)
			return fail(p, line, "control character 0x%02x", c);
	}
	return 0;
}

/* White space between tokens; check_text() let CR through only in CRLF. */
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
			fail(p, p->line, "unterminated string");
			return TOK_ERROR;
		}
		if ((c = p->buf[p->pos++]) == '"')
			break;
		if (c == '\\') {
			if (p->pos == p->len ||
			    (p->buf[p->pos] != '"' && p->buf[p->pos] != '\\')) {
				fail(
				    p, p->line,
				    "bad escape in string: only \\\" and \\\\");
				return TOK_ERROR;
			}
			c = p->buf[p->pos++];
		}
		if (k + 1 >= size) {
			fail(p, p->line, "line too long");
			return TOK_ERROR;
		}
		out[k++] = c;
	}
	if (p->pos < p->len && !is_separator(p->buf[p->pos])) {
		fail(p, p->line, "white space expected after a string");
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
		fail(p, p->line, "quote inside a word");
		return TOK_ERROR;
	}
	if ((k = p->pos - start) + 1 > size) {
		fail(p, p->line, "line too long");
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
	fail(p, p->line, "end of line expected after %s", after);
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
			fail(p, st->line, "'}' must be on a line of its own");
			return STMT_ERR;
		case TOK_LBRACE:
			st->block = true;
			return end_of_line(p, "'{'");
		case TOK_WORD:
		case TOK_STRING:
			break;
		}
		if (st->argc == ARGS_MAX) {
			fail(p, st->line, "%s: too many arguments", st->kw);
			return STMT_ERR;
		}
		st->argv[st->argc++] = st->text + used;
		used += n + 1;
	}
}

/*
 * The next statement, skipping empty lines: STMT_OK with st filled,
 * STMT_CLOSE for a '}' line, STMT_EOF, or STMT_ERR with the error set.
 */
static enum stmt_result
read_stmt(struct parser *p, struct stmt *st)
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
		fail(p, st->line, "unexpected '{'");
		return STMT_ERR;
	case TOK_STRING:
		fail(p, st->line, "a keyword expected, not a string");
		return STMT_ERR;
	default:
		break;
	}
	st->kw = st->text;
	return read_args(p, st, n + 1);
}

/* Decimal digits only, no sign or space; saturates above 2^32. */
static bool
parse_number(const char *s, unsigned long long *v)
{
	if (*s == '\0')
		return false;
	for (*v = 0; *s != '\0'; s++) {
		if (!mts_is_digit((unsigned char)*s))
			return false;
		if (*v <= UINT32_MAX)
			*v = *v * 10 + (unsigned)(*s - '0');
	}
	return true;
}

static int
number(struct parser *p, const struct stmt *st, unsigned min, unsigned max,
       unsigned *out)
{
	unsigned long long v;

	if (!parse_number(st->argv[0], &v))
		return fail(p, st->line, "%s: '%s' is not a number", st->kw,
		            st->argv[0]);
	if (v < min || v > max)
		return fail(p, st->line, "%s: %s out of range (%u..%u)", st->kw,
		            st->argv[0], min, max);
	*out = (unsigned)v;
	return 0;
}

/* A string argument, copied into *dst; empty ones are refused. */
static int
string(struct parser *p, const struct stmt *st, char **dst)
{
	if (st->argv[0][0] == '\0')
		return fail(p, st->line, "%s: empty argument", st->kw);
	if ((*dst = strdup(st->argv[0])) == NULL)
		return fail(p, st->line, "out of memory");
	return 0;
}

/*
 * The host part of ADDR[:PORT]: "*" (all IPv4 addresses), a dotted quad,
 * or an IPv6 address, stored in canonical form.
 */
static int
parse_host(struct parser *p, const struct stmt *st, const char *host,
           size_t len, int af, struct conf_listen *out)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];

	if (af == AF_INET && len == 1 && host[0] == '*') {
		host = "0.0.0.0";
		len = 7;
	}
	if (len == 0 || len >= sizeof(text))
		return fail(p, st->line, "%s: bad address '%s'", st->kw,
		            st->argv[0]);
	memcpy(text, host, len);
	text[len] = '\0';
	if (inet_pton(af, text, bin) != 1)
		return fail(p, st->line,
		            "%s: '%s' is not a numeric IPv%c address "
		            "(names are not resolved)",
		            st->kw, text, af == AF_INET ? '4' : '6');
	if (inet_ntop(af, bin, out->host, sizeof(out->host)) == NULL)
		return fail(p, st->line, "%s: bad address '%s'", st->kw, text);
	return 0;
}

static int
parse_port(struct parser *p, const struct stmt *st, const char *port,
           bool required, struct conf_listen *out)
{
	unsigned long long v;

	if (port == NULL) {
		if (required)
			return fail(p, st->line,
			            "%s: port required, as in 127.0.0.1:9461",
			            st->kw);
		out->port = DEFAULT_PORT;
		return 0;
	}
	if (!parse_number(port, &v))
		return fail(p, st->line, "%s: bad port '%s'", st->kw, port);
	if (v < 1 || v > 65535)
		return fail(p, st->line, "%s: port %s out of range", st->kw,
		            port);
	out->port = (unsigned)v;
	return 0;
}

/*
 * ADDR[:PORT] (mtasts.conf(5)): "1.2.3.4", "1.2.3.4:443", "[::1]",
 * "[::1]:443", "*", "*:443".  Numeric only: no name resolution.
 */
static int
parse_addr(struct parser *p, const struct stmt *st, bool port_required,
           struct conf_listen *out)
{
	const char *s = st->argv[0], *close, *colon, *port = NULL;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL)
			return fail(p, st->line, "%s: missing ']' in '%s'",
			            st->kw, s);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return fail(p, st->line, "%s: bad address '%s'", st->kw,
			            s);
		if (parse_host(p, st, s + 1, (size_t)(close - s) - 1, AF_INET6,
		               out) == -1)
			return -1;
	} else {
		if ((colon = strchr(s, ':')) != NULL &&
		    strchr(colon + 1, ':') != NULL)
			return fail(p, st->line,
			            "%s: put an IPv6 address in brackets, "
			            "as in [::1]:443",
			            st->kw);
		if (colon != NULL)
			port = colon + 1;
		if (parse_host(p, st, s,
		               colon != NULL ? (size_t)(colon - s) : strlen(s),
		               AF_INET, out) == -1)
			return -1;
	}
	return parse_port(p, st, port, port_required, out);
}

static bool
same_addr(const struct conf_listen *a, const struct conf_listen *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

static int
kw_listen(struct parser *p, const struct stmt *st)
{
	struct serve_conf *c = p->conf;
	struct conf_listen l;
	size_t i;

	if (parse_addr(p, st, false, &l) == -1)
		return -1;
	for (i = 0; i < c->listen_count; i++)
		if (same_addr(&l, &c->listen[i]))
			return fail(p, st->line,
			            "listen %s given twice (first at line %u)",
			            st->argv[0], p->listen_line[i]);
	if (c->listen_count == CONF_LISTEN_MAX)
		return fail(p, st->line, "listen: more than %d addresses",
		            CONF_LISTEN_MAX);
	p->listen_line[c->listen_count] = st->line;
	c->listen[c->listen_count++] = l;
	return 0;
}

static int
kw_metrics(struct parser *p, const struct stmt *st)
{
	p->metrics_line = st->line;
	return parse_addr(p, st, true, &p->conf->metrics);
}

/*
 * A portable user name (POSIX.1-2008 §3.431, §3.282): letters, digits,
 * '.', '_', '-', not starting with '-'.
 */
static int
kw_user(struct parser *p, const struct stmt *st)
{
	const char *s = st->argv[0];
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if (!mts_is_alnum((unsigned char)s[i]) &&
		    strchr("._-", s[i]) == NULL)
			break;
	if (n == 0 || n > USER_MAX || i < n || s[0] == '-')
		return fail(p, st->line, "user: bad user name '%s'", s);
	return string(p, st, &p->conf->user);
}

/* It is sent as a field value (RFC 9110 §5.5): printable ASCII only. */
static int
kw_cache_control(struct parser *p, const struct stmt *st)
{
	const char *s = st->argv[0];
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
			return fail(
			    p, st->line,
			    "cache-control: only printable ASCII is allowed");
	if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
		return fail(p, st->line,
		            "cache-control: leading or trailing space");
	return string(p, st, &p->conf->cache_control);
}

/* "key-process no" keeps the keys in the server process. */
static int
kw_key_process(struct parser *p, const struct stmt *st)
{
	if (strcmp(st->argv[0], "yes") == 0)
		p->conf->key_process = true;
	else if (strcmp(st->argv[0], "no") == 0)
		p->conf->key_process = false;
	else
		return fail(p, st->line, "key-process: yes or no, not '%s'",
		            st->argv[0]);
	return 0;
}

static int
kw_max_connections(struct parser *p, const struct stmt *st)
{
	return number(p, st, 1, 1000000, &p->conf->max_connections);
}

static int
kw_idle_timeout(struct parser *p, const struct stmt *st)
{
	return number(p, st, 1, 3600, &p->conf->idle_timeout);
}

static int
kw_read_timeout(struct parser *p, const struct stmt *st)
{
	return number(p, st, 1, 600, &p->conf->read_timeout);
}

static int
kw_access_log(struct parser *p, const struct stmt *st)
{
	return string(p, st, &p->conf->access_log);
}

static int
kw_certificate(struct parser *p, const struct stmt *st)
{
	p->cert_line = st->line;
	return string(p, st, &p->conf->certificate);
}

static int
kw_key(struct parser *p, const struct stmt *st)
{
	p->key_line = st->line;
	return string(p, st, &p->conf->key);
}

static int
kw_domains_dir(struct parser *p, const struct stmt *st)
{
	struct serve_conf *c = p->conf;
	char **dirs;
	size_t i;

	for (i = 0; i < c->domains_dir_count; i++)
		if (strcmp(c->domains_dirs[i], st->argv[0]) == 0)
			return fail(p, st->line, "domains-dir %s given twice",
			            st->argv[0]);
	if (c->domains_dir_count == p->dir_cap) {
		p->dir_cap = p->dir_cap == 0 ? 4 : p->dir_cap * 2;
		dirs = realloc(c->domains_dirs, p->dir_cap * sizeof(*dirs));
		if (dirs == NULL)
			return fail(p, st->line, "out of memory");
		c->domains_dirs = dirs;
	}
	if (string(p, st, &c->domains_dirs[c->domains_dir_count]) == -1)
		return -1;
	c->domains_dir_count++;
	return 0;
}

/* FNV-1a: the names are ours and few enough that this is plenty. */
static size_t
hash_name(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The index + 1 of the domain called `name`, or 0. */
static size_t
index_find(const struct name_index *ix, const struct conf_domain *d,
           const char *name)
{
	size_t i;

	if (ix->size == 0)
		return 0;
	for (i = hash_name(name) & (ix->size - 1); ix->slots[i] != 0;
	     i = (i + 1) & (ix->size - 1))
		if (strcmp(d[ix->slots[i] - 1].name, name) == 0)
			return ix->slots[i];
	return 0;
}

static void
index_put(struct name_index *ix, const struct conf_domain *d, size_t n)
{
	size_t i;

	for (i = hash_name(d[n].name) & (ix->size - 1); ix->slots[i] != 0;
	     i = (i + 1) & (ix->size - 1))
		continue;
	ix->slots[i] = n + 1;
}

/* Adds d[count - 1], rebuilding at half load. */
static int
index_add(struct name_index *ix, const struct conf_domain *d, size_t count)
{
	size_t i, size;
	size_t *slots;

	if (count * 2 > ix->size) {
		size = ix->size == 0 ? 64 : ix->size * 2;
		if ((slots = calloc(size, sizeof(*slots))) == NULL)
			return -1;
		free(ix->slots);
		ix->slots = slots;
		ix->size = size;
		for (i = 0; i + 1 < count; i++)
			index_put(ix, d, i);
	}
	index_put(ix, d, count - 1);
	return 0;
}

/*
 * A policy domain name: one trailing dot dropped, an RFC 5321 `Domain` of
 * at least two labels, not an address, lower-cased.  "mta-sts.example.com"
 * is refused: the server itself is that host (RFC 8461 §3.3), the
 * configuration names the policy domain.  Only a name with a dot after
 * "mta-sts." is so refused: "mta-sts.com" would be the policy domain of
 * the host "mta-sts.mta-sts.com".
 */
int
conf_domain_name(const char *s, char **out, char *why, size_t size)
{
	size_t i, n = strlen(s);
	struct mts_err e;
	char *name;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (mts_dname_check(s, n, MTS_DNAME_REQUIRE_DOT, &e) == -1) {
		snprintf(why, size, "%s", e.msg);
		return -1;
	}
	if (mts_dname_is_address(s, n)) {
		snprintf(why, size, "an address, not a domain name");
		return -1;
	}
	if ((name = strndup(s, n)) == NULL) {
		snprintf(why, size, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		name[i] = (char)mts_lower((unsigned char)name[i]);
	if (strncmp(name, "mta-sts.", 8) == 0 &&
	    strchr(name + 8, '.') != NULL) {
		snprintf(why, size,
		         "name the policy domain (%s), not its mta-sts host",
		         name + 8);
		free(name);
		return -1;
	}
	*out = name;
	return 0;
}

/* The name argument of a domain block. */
static int
domain_name(struct parser *p, const struct stmt *st, char **out)
{
	char why[CONF_ERR_SIZE];

	if (conf_domain_name(st->argv[0], out, why, sizeof(why)) == -1)
		return fail(p, st->line, "domain %s: %s", st->argv[0], why);
	return 0;
}

/* Appends a domain that owns `name` (freed here on failure). */
static struct conf_domain *
add_domain(struct parser *p, char *name, unsigned line)
{
	struct serve_conf *c = p->conf;
	struct conf_domain *d;

	if (c->domain_count == p->domain_cap) {
		p->domain_cap = p->domain_cap == 0 ? 16 : p->domain_cap * 2;
		if ((d = realloc(c->domains, p->domain_cap * sizeof(*d))) ==
		    NULL) {
			free(name);
			return NULL;
		}
		c->domains = d;
	}
	d = &c->domains[c->domain_count++];
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->line = line;
	if (index_add(&p->names, c->domains, c->domain_count) == -1)
		return NULL;
	return d;
}

static const char *const domain_keywords[] = {"policy", "certificate", "key"};

static char **
domain_field(struct conf_domain *d, size_t i)
{
	switch (i) {
	case 0:
		return &d->policy;
	case 1:
		return &d->certificate;
	default:
		return &d->key;
	}
}

static const struct keyword *find_top(const char *name, size_t *i);

/* The error for a keyword that is not one of the domain block's. */
static int
not_in_block(struct parser *p, const struct stmt *st,
             const struct conf_domain *d)
{
	size_t i;

	if (strcmp(st->kw, "domain") == 0)
		return fail(p, st->line,
		            "domain inside a domain block: "
		            "missing '}' for domain opened at line %u",
		            d->line);
	if (find_top(st->kw, &i) != NULL)
		return fail(p, st->line, "%s is not allowed in a domain block",
		            st->kw);
	return fail(p, st->line, "unknown keyword '%s'", st->kw);
}

/* One `policy|certificate|key PATH` line of a domain block. */
static int
domain_stmt(struct parser *p, const struct stmt *st, struct conf_domain *d,
            unsigned first[3])
{
	size_t i;
	char **field;

	for (i = 0; i < 3; i++)
		if (strcmp(st->kw, domain_keywords[i]) == 0)
			break;
	if (i == 3)
		return not_in_block(p, st, d);
	if (first[i] != 0)
		return fail(p, st->line,
		            "domain %s: %s given twice (first at line %u)",
		            d->name, st->kw, first[i]);
	if (st->block)
		return fail(p, st->line, "unexpected '{'");
	if (st->argc != 1)
		return fail(p, st->line, "%s: one argument expected", st->kw);
	first[i] = st->line;
	field = domain_field(d, i);
	return string(p, st, field);
}

/* The lines of a domain block, up to its '}'. */
static int
domain_block(struct parser *p, struct conf_domain *d)
{
	unsigned first[3] = {0, 0, 0};
	struct stmt st;

	for (;;) {
		switch (read_stmt(p, &st)) {
		case STMT_OK:
			if (domain_stmt(p, &st, d, first) == -1)
				return -1;
			break;
		case STMT_CLOSE:
			return 0;
		case STMT_EOF:
			return fail(p, last_line(p),
			            "missing '}' for domain opened at line %u",
			            d->line);
		case STMT_ERR:
			return -1;
		}
	}
}

static int
kw_domain(struct parser *p, const struct stmt *st)
{
	struct conf_domain *d;
	char *name = NULL;
	size_t k;

	if (domain_name(p, st, &name) == -1)
		return -1;
	if ((k = index_find(&p->names, p->conf->domains, name)) != 0) {
		fail(p, st->line,
		     "domain %s configured twice (first at line %u)", name,
		     p->conf->domains[k - 1].line);
		free(name);
		return -1;
	}
	if ((d = add_domain(p, name, st->line)) == NULL)
		return fail(p, st->line, "out of memory");
	if (domain_block(p, d) == -1)
		return -1;
	if (d->policy == NULL)
		return fail(p, d->line, "domain %s: no policy", d->name);
	if ((d->certificate == NULL) != (d->key == NULL))
		return fail(p, d->line, "domain %s: %s without %s", d->name,
		            d->key == NULL ? "certificate" : "key",
		            d->key == NULL ? "key" : "certificate");
	return 0;
}

static const struct keyword top_keywords[] = {
    {"access-log", false, false, kw_access_log},
    {"cache-control", false, false, kw_cache_control},
    {"certificate", false, false, kw_certificate},
    {"domain", true, true, kw_domain},
    {"domains-dir", true, false, kw_domains_dir},
    {"idle-timeout", false, false, kw_idle_timeout},
    {"key", false, false, kw_key},
    {"key-process", false, false, kw_key_process},
    {"listen", true, false, kw_listen},
    {"max-connections", false, false, kw_max_connections},
    {"metrics", false, false, kw_metrics},
    {"read-timeout", false, false, kw_read_timeout},
    {"user", false, false, kw_user},
};

#define TOP_KEYWORDS (sizeof(top_keywords) / sizeof(top_keywords[0]))
_Static_assert(TOP_KEYWORDS <= TOP_KEYWORDS_MAX, "parser.first[] too small");

static const struct keyword *
find_top(const char *name, size_t *i)
{
	for (*i = 0; *i < TOP_KEYWORDS; (*i)++)
		if (strcmp(top_keywords[*i].name, name) == 0)
			return &top_keywords[*i];
	return NULL;
}

static int
top_stmt(struct parser *p, const struct stmt *st)
{
	const struct keyword *kw;
	size_t i;

	if ((kw = find_top(st->kw, &i)) == NULL) {
		if (strcmp(st->kw, "policy") == 0)
			return fail(p, st->line,
			            "policy belongs in a domain block");
		return fail(p, st->line, "unknown keyword '%s'", st->kw);
	}
	if (!kw->repeatable && p->first[i] != 0)
		return fail(p, st->line, "%s given twice (first at line %u)",
		            kw->name, p->first[i]);
	if (p->first[i] == 0)
		p->first[i] = st->line;
	if (st->argc == 0)
		return fail(p, st->line, "%s: argument missing", kw->name);
	if (st->argc > 1)
		return fail(p, st->line, "%s: one argument expected", kw->name);
	if (kw->block && !st->block)
		return fail(p, st->line,
		            "%s %s: '{' expected at the end of the line",
		            kw->name, st->argv[0]);
	if (!kw->block && st->block)
		return fail(p, st->line, "%s: unexpected '{'", kw->name);
	return kw->fn(p, st);
}

/* Checks that need the whole file, then the defaults. */
static int
finish(struct parser *p)
{
	struct serve_conf *c = p->conf;
	unsigned end = last_line(p);
	size_t i;

	if (c->listen_count == 0)
		return fail(p, end, "no listen address");
	if (c->certificate != NULL && c->key == NULL)
		return fail(p, p->cert_line, "certificate without key");
	if (c->key != NULL && c->certificate == NULL)
		return fail(p, p->key_line, "key without certificate");
	if (c->domain_count == 0 && c->domains_dir_count == 0)
		return fail(p, end,
		            "no domain and no domains-dir: nothing to serve");
	for (i = 0; i < c->domain_count; i++)
		if (c->domains[i].certificate == NULL && c->certificate == NULL)
			return fail(p, c->domains[i].line,
			            "domain %s: no certificate and key, "
			            "and no default ones",
			            c->domains[i].name);
	for (i = 0; c->metrics.port != 0 && i < c->listen_count; i++)
		if (same_addr(&c->metrics, &c->listen[i]))
			return fail(
			    p, p->metrics_line,
			    "metrics: %s port %u is also a listen address",
			    c->metrics.host, c->metrics.port);
	if (c->cache_control == NULL &&
	    (c->cache_control = strdup("max-age=300")) == NULL)
		return fail(p, end, "out of memory");
	return 0;
}

static int
parse(struct parser *p)
{
	struct stmt st;

	if (check_text(p) == -1)
		return -1;
	for (;;) {
		switch (read_stmt(p, &st)) {
		case STMT_OK:
			if (top_stmt(p, &st) == -1)
				return -1;
			break;
		case STMT_CLOSE:
			return fail(p, st.line, "'}' without a domain block");
		case STMT_EOF:
			return finish(p);
		case STMT_ERR:
			return -1;
		}
	}
}

int
conf_parse(const char *buf, size_t len, const char *file,
           struct serve_conf *conf, char *err)
{
	struct parser p;
	struct serve_conf c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.max_connections = 10000;
	c.key_process = true;
	c.idle_timeout = 60;
	c.read_timeout = 10;
	memset(&p, 0, sizeof(p));
	p.buf = buf;
	p.len = buf == NULL ? 0 : len;
	p.line = 1;
	p.file = file != NULL ? file : "(config)";
	p.err = err;
	p.conf = &c;
	if (err != NULL)
		err[0] = '\0';
	rc = parse(&p);
	free(p.names.slots);
	if (rc == -1) {
		conf_free(&c);
		memset(conf, 0, sizeof(*conf));
		return -1;
	}
	*conf = c;
	return 0;
}

/* Blocks first (by line), then domains-dir entries (by path). */
static int
domain_cmp(const void *a, const void *b)
{
	const struct conf_domain *x = *(const struct conf_domain *const *)a;
	const struct conf_domain *y = *(const struct conf_domain *const *)b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	if ((x->source == NULL) != (y->source == NULL))
		return x->source == NULL ? -1 : 1;
	if (x->source == NULL)
		return x->line < y->line ? -1 : x->line > y->line;
	return strcmp(x->source, y->source);
}

int
conf_check_unique(const struct serve_conf *conf, const char *file, char *err)
{
	const struct conf_domain **sorted, *a, *b;
	size_t i;

	if (conf->domain_count < 2)
		return 0;
	if ((sorted = calloc(conf->domain_count, sizeof(*sorted))) == NULL) {
		snprintf(err, CONF_ERR_SIZE, "out of memory");
		return -1;
	}
	for (i = 0; i < conf->domain_count; i++)
		sorted[i] = &conf->domains[i];
	qsort(sorted, conf->domain_count, sizeof(*sorted), domain_cmp);
	for (i = 1; i < conf->domain_count; i++)
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
			break;
	if (i == conf->domain_count) {
		free(sorted);
		return 0;
	}
	/* A block sorts first and is named first, as file:line; of two
	   entries, the later one is.  (conf_parse() refuses two blocks.) */
	a = sorted[i - 1];
	b = sorted[i];
	if (b->source == NULL)
		snprintf(err, CONF_ERR_SIZE,
		         "%s:%u: domain %s configured twice (first at line %u)",
		         file, b->line, b->name, a->line);
	else if (a->source == NULL)
		snprintf(err, CONF_ERR_SIZE,
		         "%s:%u: domain %s configured twice (also %s)", file,
		         a->line, a->name, b->source);
	else
		snprintf(err, CONF_ERR_SIZE,
		         "%s: domain %s configured twice (also %s)", b->source,
		         b->name, a->source);
	free(sorted);
	return -1;
}

void
conf_free(struct serve_conf *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->domain_count; i++) {
		free(conf->domains[i].name);
		free(conf->domains[i].policy);
		free(conf->domains[i].certificate);
		free(conf->domains[i].key);
		free(conf->domains[i].source);
	}
	free(conf->domains);
	for (i = 0; i < conf->domains_dir_count; i++)
		free(conf->domains_dirs[i]);
	free(conf->domains_dirs);
	free(conf->user);
	free(conf->cache_control);
	free(conf->access_log);
	free(conf->certificate);
	free(conf->key);
	memset(conf, 0, sizeof(*conf));
}
