/* SPDX-License-Identifier: ISC */
/*
 * The parser of policyd.conf, the configuration of `mtasts policyd`
 * (conf.h lists the keys, mtasts-policyd(8) explains them).  The bytes
 * and tokens are vetted by the tokenizer of mtasts.conf(5)
 * (src/serve/conf_lex.c: size and line caps, no control bytes, quoted
 * strings, # comments); here a keyword table checks each statement.
 * The first error stops the parse, reported as "file:line: message".
 *
 * Pure: text in, struct out.  Addresses are numeric (inet_pton, no
 * resolution); users and groups are names, looked up by the daemon.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

#define ARGS_POLICYD 5        /* listen unix:PATH mode M group G */
#define DURATION_MAX 31536000 /* a year, in seconds */
#define TIMEOUT_MAX  300
#define MEMORY_MAX   100000000
#define CONN_MAX     1000000
#define UNIX_MODE    0660

struct keyword {
	const char *name;
	bool repeatable;
	size_t min_args, max_args;
	int (*fn)(struct parser *, const struct stmt *, struct policyd_conf *);
};

/* ---- values ---- */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits, saturating above 2^32; false when not a number. */
static bool
digits(const char *s, size_t n, unsigned long long *v)
{
	size_t i;

	if (n == 0)
		return false;
	for (*v = 0, i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		if (*v <= UINT32_MAX)
			*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

static int
number(struct parser *p, const struct stmt *st, unsigned long long min,
       unsigned long long max, unsigned long long *out)
{
	unsigned long long v;

	if (!digits(st->argv[0], strlen(st->argv[0]), &v))
		return conf_fail(p, st->line, "%s: '%s' is not a number",
		                 st->kw, st->argv[0]);
	if (v < min || v > max)
		return conf_fail(p, st->line,
		                 "%s: %s out of range (%llu..%llu)", st->kw,
		                 st->argv[0], min, max);
	*out = v;
	return 0;
}

/*
 * A duration: digits and an optional unit, s, m, h or d (seconds when
 * none), from 1 second to a year.
 */
static int
duration(struct parser *p, const struct stmt *st, uint32_t max, uint32_t *out)
{
	const char *s = st->argv[0];
	size_t n = strlen(s);
	unsigned long long v, unit = 1;

	if (n > 0 && !is_digit(s[n - 1])) {
		switch (s[--n]) {
		case 's':
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			n = 0; /* not a duration */
		}
	}
	if (!digits(s, n, &v))
		return conf_fail(p, st->line,
		                 "%s: '%s' is not a duration (such as 30s, 5m, "
		                 "1h, 1d)",
		                 st->kw, s);
	if (v * unit < 1 || v * unit > max)
		return conf_fail(p, st->line, "%s: %s out of range (1s..%lus)",
		                 st->kw, s, (unsigned long)max);
	*out = (uint32_t)(v * unit);
	return 0;
}

/* One of the words of `names` (NULL-terminated): its index, or -1. */
static int
choice(struct parser *p, const struct stmt *st, const char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(st->argv[0], names[i]) == 0)
			return (int)i;
	conf_fail(p, st->line, "%s: '%s' is not one of %s%s%s%s%s", st->kw,
	          st->argv[0], names[0], names[1] != NULL ? ", " : "",
	          names[1] != NULL ? names[1] : "",
	          names[1] != NULL && names[2] != NULL ? ", " : "",
	          names[1] != NULL && names[2] != NULL ? names[2] : "");
	return -1;
}

/* A path: absolute, no empty argument. */
static int
path(struct parser *p, const struct stmt *st, const char *s, char **dst)
{
	if (s[0] != '/')
		return conf_fail(p, st->line,
		                 "%s: '%s' is not an absolute path", st->kw, s);
	free(*dst);
	if ((*dst = strdup(s)) == NULL)
		return conf_fail(p, st->line, "out of memory");
	return 0;
}

/*
 * A portable user, group or map name (POSIX.1-2008 §3.431): letters,
 * digits, '.', '_', '-', not starting with '-'.  A map name is what
 * follows the last ':' of socketmap:inet:HOST:PORT:NAME, which
 * socketmap.c's request parser takes in the same characters.
 */
static int
name(struct parser *p, const struct stmt *st, const char *what, const char *s,
     char *buf, size_t size)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > POLICYD_NAME_MAX || s[0] == '-')
		goto bad;
	for (i = 0; i < n; i++)
		if (!is_digit(s[i]) && (s[i] < 'a' || s[i] > 'z') &&
		    (s[i] < 'A' || s[i] > 'Z') && strchr("._-", s[i]) == NULL)
			goto bad;
	if (n >= size)
		goto bad;
	memcpy(buf, s, n + 1);
	return 0;
bad:
	return conf_fail(p, st->line, "%s: '%s' is not a valid %s name", st->kw,
	                 s, what);
}

/* inet:ADDR:PORT, ADDR a dotted quad or a bracketed IPv6 address. */
static int
parse_inet(struct parser *p, const struct stmt *st, const char *s,
           struct policyd_listen *out)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN];
	const char *host = s, *end, *port;
	unsigned long long v = 0; /* written by number() unless it fails */
	int af = AF_INET;

	if (host[0] == '[') {
		af = AF_INET6;
		host++;
		if ((end = strchr(host, ']')) == NULL || end[1] != ':')
			goto bad;
		port = end + 2;
	} else {
		if ((end = strchr(host, ':')) == NULL ||
		    strchr(end + 1, ':') != NULL)
			goto bad;
		port = end + 1;
	}
	if (end == host || (size_t)(end - host) >= sizeof(text))
		goto bad;
	memcpy(text, host, (size_t)(end - host));
	text[end - host] = '\0';
	if (inet_pton(af, text, bin) != 1 ||
	    inet_ntop(af, bin, out->host, sizeof(out->host)) == NULL)
		return conf_fail(p, st->line,
		                 "%s: '%s' is not a numeric IPv%c address "
		                 "(names are not resolved)",
		                 st->kw, text, af == AF_INET ? '4' : '6');
	if (!digits(port, strlen(port), &v) || v < 1 || v > 65535)
		return conf_fail(p, st->line, "%s: bad port '%s'", st->kw,
		                 port);
	out->kind = POLICYD_LISTEN_INET;
	out->port = (unsigned)v;
	return 0;
bad:
	return conf_fail(p, st->line,
	                 "%s: '%s' is not inet:ADDRESS:PORT (IPv6 in "
	                 "brackets: inet:[::1]:8461)",
	                 st->kw, s);
}

/* The options of a unix listener: mode 0NNN, group NAME. */
static int
unix_options(struct parser *p, const struct stmt *st, struct policyd_listen *l)
{
	bool mode = false, group = false;
	unsigned long v;
	char *end;
	size_t i;

	for (i = 1; i < st->argc; i += 2) {
		if (i + 1 == st->argc)
			return conf_fail(p, st->line, "%s: %s needs a value",
			                 st->kw, st->argv[i]);
		if (strcmp(st->argv[i], "mode") == 0 && !mode) {
			mode = true;
			v = strtoul(st->argv[i + 1], &end, 8);
			if (st->argv[i + 1][0] < '0' ||
			    st->argv[i + 1][0] > '7' || *end != '\0' ||
			    v > 0777)
				return conf_fail(
				    p, st->line,
				    "%s: mode '%s' is not octal 0000..0777",
				    st->kw, st->argv[i + 1]);
			l->mode = (unsigned)v;
		} else if (strcmp(st->argv[i], "group") == 0 && !group) {
			group = true;
			if (name(p, st, "group", st->argv[i + 1], l->group,
			         sizeof(l->group)) != 0)
				return -1;
		} else {
			return conf_fail(p, st->line,
			                 "%s: '%s' unexpected (mode or group, "
			                 "once each)",
			                 st->kw, st->argv[i]);
		}
	}
	return 0;
}

static int
listener(struct parser *p, const struct stmt *st, bool unix_ok,
         struct policyd_listen *l)
{
	const char *s = st->argv[0];

	memset(l, 0, sizeof(*l));
	if (strncmp(s, "inet:", 5) == 0) {
		if (st->argc > 1)
			return conf_fail(p, st->line,
			                 "%s: mode and group are for unix "
			                 "sockets",
			                 st->kw);
		return parse_inet(p, st, s + 5, l);
	}
	if (!unix_ok || strncmp(s, "unix:", 5) != 0)
		return conf_fail(p, st->line,
		                 "%s: '%s' is not inet:ADDR:PORT%s", st->kw, s,
		                 unix_ok ? " or unix:PATH" : "");
	s += 5;
	if (s[0] != '/')
		return conf_fail(p, st->line,
		                 "%s: '%s' is not an absolute path", st->kw, s);
	if (strlen(s) >= sizeof(l->path))
		return conf_fail(p, st->line, "%s: socket path over %d octets",
		                 st->kw, POLICYD_PATH_MAX - 1);
	l->kind = POLICYD_LISTEN_UNIX;
	memcpy(l->path, s, strlen(s) + 1);
	l->mode = UNIX_MODE;
	return unix_options(p, st, l);
}

static bool
same_listener(const struct policyd_listen *a, const struct policyd_listen *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == POLICYD_LISTEN_UNIX)
		return strcmp(a->path, b->path) == 0;
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* ---- keywords ---- */

/* The line of each listener, for a duplicate's message. */
struct lines {
	unsigned listen[POLICYD_LISTEN_MAX];
};
static struct lines *lines_of(struct parser *p);

static int
kw_listen(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	struct policyd_listen l;
	size_t i;

	if (listener(p, st, true, &l) != 0)
		return -1;
	for (i = 0; i < c->listen_count; i++)
		if (same_listener(&l, &c->listen[i]))
			return conf_fail(
			    p, st->line,
			    "listen %s given twice (first at line %u)",
			    st->argv[0], lines_of(p)->listen[i]);
	if (c->listen_count == POLICYD_LISTEN_MAX)
		return conf_fail(p, st->line, "listen: more than %d listeners",
		                 POLICYD_LISTEN_MAX);
	lines_of(p)->listen[c->listen_count] = st->line;
	c->listen[c->listen_count++] = l;
	return 0;
}

static int
kw_metrics(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	if (listener(p, st, false, &c->metrics) != 0)
		return -1;
	c->metrics_set = true;
	return 0;
}

static int
kw_user(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	char buf[POLICYD_NAME_MAX + 1];

	if (name(p, st, "user", st->argv[0], buf, sizeof(buf)) != 0)
		return -1;
	if ((c->user = strdup(buf)) == NULL)
		return conf_fail(p, st->line, "out of memory");
	return 0;
}

static int
kw_map_name(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	char buf[POLICYD_NAME_MAX + 1];

	if (name(p, st, "map", st->argv[0], buf, sizeof(buf)) != 0)
		return -1;
	if ((c->map_name = strdup(buf)) == NULL)
		return conf_fail(p, st->line, "out of memory");
	return 0;
}

/*
 * `none`, `sqlite:/ABSOLUTE/FILE`, `redis://HOST[:PORT][/DB]` or
 * `redis+unix:/ABSOLUTE/SOCKET[?db=N]` (cache.h): the files absolute,
 * since the worker chroots into their directory.  cache.c checks the
 * rest when the daemon opens the store.
 */
static int
kw_cache(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	const char *s = st->argv[0];

	free(c->cache);
	c->cache = NULL;
	if (strcmp(s, "none") == 0)
		return 0;
	if (strncmp(s, "sqlite:", 7) == 0) {
		if (s[7] != '/' || s[strlen(s) - 1] == '/')
			return conf_fail(
			    p, st->line,
			    "cache: '%s' is not sqlite:/ABSOLUTE/FILE", s);
	} else if (strncmp(s, "redis+unix:", 11) == 0) {
		if (s[11] != '/' || s[strlen(s) - 1] == '/')
			return conf_fail(
			    p, st->line,
			    "cache: '%s' is not redis+unix:/ABSOLUTE/SOCKET",
			    s);
	} else if (strncmp(s, "redis://", 8) != 0) {
		return conf_fail(p, st->line,
		                 "cache: '%s' is not none, sqlite:PATH, "
		                 "redis://HOST[:PORT] or redis+unix:PATH",
		                 s);
	}
	if ((c->cache = strdup(s)) == NULL)
		return conf_fail(p, st->line, "out of memory");
	return 0;
}

/* As mts_dns_options.resolver: ADDR or ADDR@PORT, numeric. */
static int
kw_resolver(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN];
	const char *s = st->argv[0], *at = strchr(s, '@');
	size_t n = at != NULL ? (size_t)(at - s) : strlen(s);
	unsigned long long v = 0; /* written by number() unless it fails */

	if (n == 0 || n >= sizeof(text))
		goto bad;
	memcpy(text, s, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, bin) != 1 &&
	    inet_pton(AF_INET6, text, bin) != 1)
		goto bad;
	if (at != NULL &&
	    (!digits(at + 1, strlen(at + 1), &v) || v < 1 || v > 65535))
		goto bad;
	if ((c->resolver = strdup(s)) == NULL)
		return conf_fail(p, st->line, "out of memory");
	return 0;
bad:
	return conf_fail(p, st->line,
	                 "resolver: '%s' is not a numeric address, with "
	                 "@PORT or not",
	                 s);
}

static int
kw_trust_anchor(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return path(p, st, st->argv[0], &c->trust_anchor);
}

static int
kw_ca_file(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return path(p, st, st->argv[0], &c->ca_file);
}

static int
kw_timeout(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	uint32_t v = 0; /* written by duration() unless it fails */

	if (duration(p, st, TIMEOUT_MAX, &v) != 0)
		return -1;
	c->timeout = v;
	return 0;
}

static int
kw_compat(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	static const char *const names[] = {"3.4", "3.10", NULL};
	int i;

	if ((i = choice(p, st, names)) < 0)
		return -1;
	c->compat = i == 0 ? REPLY_COMPAT_34 : REPLY_COMPAT_310;
	return 0;
}

static int
kw_dane(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	static const char *const names[] = {"dane-only", "dane", "off", NULL};
	static const enum resolve_dane values[] = {RESOLVE_DANE_ONLY,
	                                           RESOLVE_DANE_MAY,
	                                           RESOLVE_DANE_OFF};
	int i;

	if ((i = choice(p, st, names)) < 0)
		return -1;
	c->dane = values[i];
	return 0;
}

static const char *const failure_names[] = {"notfound", "temp", NULL};

static int
failure(struct parser *p, const struct stmt *st, enum reply_failure *out)
{
	int i;

	if ((i = choice(p, st, failure_names)) < 0)
		return -1;
	*out = i == 0 ? REPLY_FAIL_NOTFOUND : REPLY_FAIL_TEMP;
	return 0;
}

static int
kw_on_dns(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return failure(p, st, &c->on_failure[RESOLVE_FAIL_DNS_TEMP]);
}

static int
kw_on_bogus(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return failure(p, st, &c->on_failure[RESOLVE_FAIL_BOGUS]);
}

static int
kw_on_fetch(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return failure(p, st, &c->on_failure[RESOLVE_FAIL_FETCH]);
}

static int
kw_unusable(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return failure(p, st, &c->unusable);
}

static int
kw_policy_failure(struct parser *p, const struct stmt *st,
                  struct policyd_conf *c)
{
	static const char *const names[] = {"no", "yes", NULL};
	int i;

	if ((i = choice(p, st, names)) < 0)
		return -1;
	c->policy_failure = i == 1;
	return 0;
}

static int
kw_negative_ttl(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return duration(p, st, DURATION_MAX, &c->negative_ttl);
}

static int
kw_dane_ttl(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return duration(p, st, DURATION_MAX, &c->dane_ttl);
}

static int
kw_recheck(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return duration(p, st, DURATION_MAX, &c->recheck);
}

static int
kw_backoff(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	return duration(p, st, DURATION_MAX, &c->backoff);
}

static int
kw_memory(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	unsigned long long v = 0; /* written by number() unless it fails */

	if (number(p, st, 1, MEMORY_MAX, &v) != 0)
		return -1;
	c->memory_entries = (size_t)v;
	return 0;
}

static int
kw_max_conn(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	unsigned long long v = 0; /* written by number() unless it fails */

	if (number(p, st, 1, CONN_MAX, &v) != 0)
		return -1;
	c->max_connections = (unsigned)v;
	return 0;
}

static int
kw_idle(struct parser *p, const struct stmt *st, struct policyd_conf *c)
{
	uint32_t v = 0; /* written by duration() unless it fails */

	if (duration(p, st, 86400, &v) != 0)
		return -1;
	c->idle_timeout = v;
	return 0;
}

static const struct keyword keywords[] = {
    {"listen", true, 1, 5, kw_listen},
    {"user", false, 1, 1, kw_user},
    {"cache", false, 1, 1, kw_cache},
    {"resolver", false, 1, 1, kw_resolver},
    {"trust-anchor", false, 1, 1, kw_trust_anchor},
    {"ca-file", false, 1, 1, kw_ca_file},
    {"timeout", false, 1, 1, kw_timeout},
    {"postfix-compat", false, 1, 1, kw_compat},
    {"dane", false, 1, 1, kw_dane},
    {"on-dns-tempfail", false, 1, 1, kw_on_dns},
    {"on-bogus", false, 1, 1, kw_on_bogus},
    {"on-fetch-error", false, 1, 1, kw_on_fetch},
    {"unusable-policy", false, 1, 1, kw_unusable},
    {"policy-failure", false, 1, 1, kw_policy_failure},
    {"negative-ttl", false, 1, 1, kw_negative_ttl},
    {"dane-ttl", false, 1, 1, kw_dane_ttl},
    {"recheck", false, 1, 1, kw_recheck},
    {"backoff", false, 1, 1, kw_backoff},
    {"memory-entries", false, 1, 1, kw_memory},
    {"max-connections", false, 1, 1, kw_max_conn},
    {"idle-timeout", false, 1, 1, kw_idle},
    {"map-name", false, 1, 1, kw_map_name},
    {"metrics", false, 1, 1, kw_metrics},
};
#define KEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

/* The parser's own state beside the tokenizer's. */
struct pstate {
	struct parser p; /* first: lines_of() casts back */
	struct lines lines;
	unsigned first[KEYWORDS];
};

static struct lines *
lines_of(struct parser *p)
{
	return &((struct pstate *)(void *)p)->lines;
}

static int
statement(struct pstate *s, const struct stmt *st, struct policyd_conf *c)
{
	const struct keyword *kw = NULL;
	size_t i;

	for (i = 0; i < KEYWORDS && kw == NULL; i++)
		if (strcmp(st->kw, keywords[i].name) == 0)
			kw = &keywords[i];
	if (kw == NULL)
		return conf_fail(&s->p, st->line, "unknown keyword '%s'",
		                 st->kw);
	i = (size_t)(kw - keywords);
	if (st->block)
		return conf_fail(&s->p, st->line, "%s: no '{' block expected",
		                 kw->name);
	if (!kw->repeatable && s->first[i] != 0)
		return conf_fail(&s->p, st->line,
		                 "%s given twice (first at line %u)", kw->name,
		                 s->first[i]);
	s->first[i] = st->line;
	if (st->argc < kw->min_args)
		return conf_fail(&s->p, st->line, "%s: argument missing",
		                 kw->name);
	if (st->argc > kw->max_args)
		return conf_fail(&s->p, st->line, "%s: one argument expected",
		                 kw->name);
	if (st->argv[0][0] == '\0')
		return conf_fail(&s->p, st->line, "%s: empty argument",
		                 kw->name);
	return kw->fn(&s->p, st, c);
}

static int
defaults(struct policyd_conf *c)
{
	memset(c, 0, sizeof(*c));
	if ((c->cache = strdup(POLICYD_DEFAULT_CACHE)) == NULL)
		return -1;
	c->timeout = POLICYD_DEFAULT_TIMEOUT;
	c->compat = REPLY_COMPAT_34;
	c->dane = RESOLVE_DANE_ONLY;
	c->negative_ttl = POLICYD_DEFAULT_NEG_TTL;
	c->dane_ttl = POLICYD_DEFAULT_DANE_TTL;
	c->recheck = POLICYD_DEFAULT_RECHECK;
	c->backoff = POLICYD_DEFAULT_BACKOFF;
	c->memory_entries = POLICYD_DEFAULT_MEMORY;
	c->max_connections = POLICYD_DEFAULT_MAX_CONN;
	c->idle_timeout = POLICYD_DEFAULT_IDLE;
	return 0;
}

/* What only the whole file decides: the default listener, metrics. */
static int
finish(struct pstate *s, struct policyd_conf *c)
{
	size_t i;

	if (c->listen_count == 0) {
		c->listen[0].kind = POLICYD_LISTEN_INET;
		snprintf(c->listen[0].host, sizeof(c->listen[0].host), "%s",
		         POLICYD_DEFAULT_LISTEN_HOST);
		c->listen[0].port = POLICYD_DEFAULT_PORT;
		c->listen_count = 1;
	}
	for (i = 0; c->metrics_set && i < c->listen_count; i++)
		if (same_listener(&c->metrics, &c->listen[i]))
			return conf_fail(&s->p,
			                 s->first[KEYWORDS - 1] != 0 ?
			                     s->first[KEYWORDS - 1] :
			                     conf_last_line(&s->p),
			                 "metrics: %s port %u is also a listen "
			                 "address",
			                 c->metrics.host, c->metrics.port);
	return 0;
}

int
policyd_conf_parse(const char *buf, size_t len, const char *file,
                   struct policyd_conf *conf, char *err)
{
	struct pstate s;
	struct stmt st;
	enum stmt_result r;

	memset(&s, 0, sizeof(s));
	s.p.buf = buf;
	s.p.len = len;
	s.p.line = 1;
	s.p.file = file;
	s.p.err = err;
	s.p.args_max = ARGS_POLICYD;
	if (defaults(conf) != 0) {
		if (err != NULL)
			snprintf(err, POLICYD_CONF_ERR_SIZE,
			         "%s: out of memory", file);
		return -1;
	}
	if (conf_check_text(&s.p) != 0)
		goto fail;
	while ((r = conf_read_stmt(&s.p, &st)) == STMT_OK)
		if (statement(&s, &st, conf) != 0)
			goto fail;
	if (r == STMT_CLOSE) {
		conf_fail(&s.p, st.line, "'}' without a block");
		goto fail;
	}
	if (r == STMT_ERR || finish(&s, conf) != 0)
		goto fail;
	return 0;
fail:
	policyd_conf_free(conf);
	return -1;
}

void
policyd_conf_free(struct policyd_conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->user);
	free(conf->cache);
	free(conf->resolver);
	free(conf->trust_anchor);
	free(conf->ca_file);
	free(conf->map_name);
	memset(conf, 0, sizeof(*conf));
}

void
policyd_conf_resolve(const struct policyd_conf *conf, struct resolve_conf *rc)
{
	size_t i;

	memset(rc, 0, sizeof(*rc));
	rc->reply.compat = conf->compat;
	rc->reply.unusable = conf->unusable;
	rc->reply.policy_failure = conf->policy_failure;
	rc->dane = conf->dane;
	for (i = 0; i < RESOLVE_FAIL_COUNT; i++)
		rc->on_failure[i] = conf->on_failure[i];
	rc->negative_ttl = conf->negative_ttl;
	rc->dane_ttl = conf->dane_ttl;
	rc->recheck = conf->recheck;
	rc->backoff = conf->backoff;
	rc->timeout_ms = conf->timeout * 1000;
	rc->memory_max = conf->memory_entries;
}

void
policyd_listen_format(const struct policyd_listen *l, char *buf, size_t size)
{
	if (l->kind == POLICYD_LISTEN_UNIX)
		snprintf(buf, size, "unix:%s", l->path);
	else if (strchr(l->host, ':') != NULL)
		snprintf(buf, size, "inet:[%s]:%u", l->host, l->port);
	else
		snprintf(buf, size, "inet:%s:%u", l->host, l->port);
}

/*
 * A word as the lexer (conf_lex.c) reads it back: bare when it can be,
 * else in quotes with '"' and '\\' escaped, the only escapes it takes.
 */
static void
print_word(FILE *fp, const char *v)
{
	if (v[0] != '\0' && strpbrk(v, " \t#{}\"\\") == NULL) {
		fputs(v, fp);
		return;
	}
	fputc('"', fp);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', fp);
		fputc(*v, fp);
	}
	fputc('"', fp);
}

/* `kw value` on a line of its own. */
static void
print_value(FILE *fp, const char *kw, const char *v)
{
	fprintf(fp, "%s ", kw);
	print_word(fp, v);
	fputc('\n', fp);
}

void
policyd_conf_print(FILE *fp, const struct policyd_conf *c)
{
	char buf[POLICYD_PATH_MAX + 16];
	size_t i;

	for (i = 0; i < c->listen_count; i++) {
		policyd_listen_format(&c->listen[i], buf, sizeof(buf));
		if (c->listen[i].kind == POLICYD_LISTEN_INET) {
			fprintf(fp, "listen %s\n", buf);
			continue;
		}
		fputs("listen ", fp);
		print_word(fp, buf);
		fprintf(fp, " mode %04o", c->listen[i].mode);
		if (c->listen[i].group[0] != '\0') {
			fputs(" group ", fp);
			print_word(fp, c->listen[i].group);
		}
		fputc('\n', fp);
	}
	if (c->user != NULL)
		print_value(fp, "user", c->user);
	print_value(fp, "cache", c->cache != NULL ? c->cache : "none");
	if (c->resolver != NULL)
		fprintf(fp, "resolver %s\n", c->resolver);
	if (c->trust_anchor != NULL)
		print_value(fp, "trust-anchor", c->trust_anchor);
	if (c->ca_file != NULL)
		print_value(fp, "ca-file", c->ca_file);
	fprintf(fp, "timeout %us\n", c->timeout);
	fprintf(fp, "postfix-compat %s\n",
	        c->compat == REPLY_COMPAT_310 ? "3.10" : "3.4");
	fprintf(fp, "dane %s\n",
	        c->dane == RESOLVE_DANE_ONLY    ? "dane-only" :
	            c->dane == RESOLVE_DANE_MAY ? "dane" :
	                                          "off");
	fprintf(fp, "on-dns-tempfail %s\n",
	        failure_names[c->on_failure[RESOLVE_FAIL_DNS_TEMP]]);
	fprintf(fp, "on-bogus %s\n",
	        failure_names[c->on_failure[RESOLVE_FAIL_BOGUS]]);
	fprintf(fp, "on-fetch-error %s\n",
	        failure_names[c->on_failure[RESOLVE_FAIL_FETCH]]);
	fprintf(fp, "unusable-policy %s\n", failure_names[c->unusable]);
	fprintf(fp, "policy-failure %s\n", c->policy_failure ? "yes" : "no");
	fprintf(fp, "negative-ttl %lus\n", (unsigned long)c->negative_ttl);
	fprintf(fp, "dane-ttl %lus\n", (unsigned long)c->dane_ttl);
	fprintf(fp, "recheck %lus\n", (unsigned long)c->recheck);
	fprintf(fp, "backoff %lus\n", (unsigned long)c->backoff);
	fprintf(fp, "memory-entries %zu\n", c->memory_entries);
	fprintf(fp, "max-connections %u\n", c->max_connections);
	fprintf(fp, "idle-timeout %us\n", c->idle_timeout);
	if (c->map_name != NULL)
		fprintf(fp, "map-name %s\n", c->map_name);
	if (c->metrics_set) {
		policyd_listen_format(&c->metrics, buf, sizeof(buf));
		fprintf(fp, "metrics %s\n", buf);
	}
}
