/* SPDX-License-Identifier: ISC */
/*
 * The parser of mtasts.conf(5), the configuration of `mtasts serve`.
 *
 * Three layers, each small: conf_check_text() vets the raw bytes and the
 * tokenizer gathers each line into a keyword and its arguments (both in
 * conf_lex.c); here a keyword table dispatches them.  The only block is
 * `domain NAME { ... }`.  The first error stops the parse and is
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/dname.h>

#include "conf.h"
#include "conf_int.h"

#include "internal.h"

#define USER_MAX     32 /* useradd(8)'s limit on a user name */
#define DEFAULT_PORT 443

struct keyword {
	const char *name;
	bool repeatable;
	bool block;  /* takes a { } block */
	bool no_arg; /* takes no argument (tlsrpt {) */
	int (*fn)(struct parser *, const struct stmt *);
	size_t args; /* arguments it takes; 0: one */
};

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
		return conf_fail(p, st->line, "%s: '%s' is not a number",
		                 st->kw, st->argv[0]);
	if (v < min || v > max)
		return conf_fail(p, st->line, "%s: %s out of range (%u..%u)",
		                 st->kw, st->argv[0], min, max);
	*out = (unsigned)v;
	return 0;
}

/* A string argument, copied into *dst; empty ones are refused. */
static int
string(struct parser *p, const struct stmt *st, char **dst)
{
	if (st->argv[0][0] == '\0')
		return conf_fail(p, st->line, "%s: empty argument", st->kw);
	if ((*dst = strdup(st->argv[0])) == NULL)
		return conf_fail(p, st->line, "out of memory");
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
		return conf_fail(p, st->line, "%s: bad address '%s'", st->kw,
		                 st->argv[0]);
	memcpy(text, host, len);
	text[len] = '\0';
	if (inet_pton(af, text, bin) != 1)
		return conf_fail(p, st->line,
		                 "%s: '%s' is not a numeric IPv%c address "
		                 "(names are not resolved)",
		                 st->kw, text, af == AF_INET ? '4' : '6');
	if (inet_ntop(af, bin, out->host, sizeof(out->host)) == NULL)
		return conf_fail(p, st->line, "%s: bad address '%s'", st->kw,
		                 text);
	return 0;
}

static int
parse_port(struct parser *p, const struct stmt *st, const char *port,
           unsigned dflt, struct conf_listen *out)
{
	unsigned long long v;

	if (port == NULL) {
		if (dflt == 0)
			return conf_fail(
			    p, st->line,
			    "%s: port required, as in 127.0.0.1:9461", st->kw);
		out->port = dflt;
		return 0;
	}
	if (!parse_number(port, &v))
		return conf_fail(p, st->line, "%s: bad port '%s'", st->kw,
		                 port);
	if (v < 1 || v > 65535)
		return conf_fail(p, st->line, "%s: port %s out of range",
		                 st->kw, port);
	out->port = (unsigned)v;
	return 0;
}

/*
 * ADDR[:PORT] (mtasts.conf(5)): "1.2.3.4", "1.2.3.4:443", "[::1]",
 * "[::1]:443", "*", "*:443".  Numeric only: no name resolution.  A
 * missing port is dflt, or an error when dflt is 0.
 */
static int
parse_addr(struct parser *p, const struct stmt *st, unsigned dflt,
           struct conf_listen *out)
{
	const char *s = st->argv[0], *close, *colon, *port = NULL;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL)
			return conf_fail(p, st->line, "%s: missing ']' in '%s'",
			                 st->kw, s);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return conf_fail(p, st->line, "%s: bad address '%s'",
			                 st->kw, s);
		if (parse_host(p, st, s + 1, (size_t)(close - s) - 1, AF_INET6,
		               out) == -1)
			return -1;
	} else {
		if ((colon = strchr(s, ':')) != NULL &&
		    strchr(colon + 1, ':') != NULL)
			return conf_fail(p, st->line,
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
	return parse_port(p, st, port, dflt, out);
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

	if (parse_addr(p, st, DEFAULT_PORT, &l) == -1)
		return -1;
	for (i = 0; i < c->listen_count; i++)
		if (same_addr(&l, &c->listen[i]))
			return conf_fail(
			    p, st->line,
			    "listen %s given twice (first at line %u)",
			    st->argv[0], p->listen_line[i]);
	if (c->listen_count == CONF_LISTEN_MAX)
		return conf_fail(p, st->line, "listen: more than %d addresses",
		                 CONF_LISTEN_MAX);
	p->listen_line[c->listen_count] = st->line;
	c->listen[c->listen_count++] = l;
	return 0;
}

static int
kw_metrics(struct parser *p, const struct stmt *st)
{
	p->metrics_line = st->line;
	return parse_addr(p, st, 0, &p->conf->metrics);
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
		return conf_fail(p, st->line, "user: bad user name '%s'", s);
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
			return conf_fail(
			    p, st->line,
			    "cache-control: only printable ASCII is allowed");
	if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
		return conf_fail(p, st->line,
		                 "cache-control: leading or trailing space");
	return string(p, st, &p->conf->cache_control);
}

/* A yes|no argument. */
static int
yes_no(struct parser *p, const struct stmt *st, bool *out)
{
	if (strcmp(st->argv[0], "yes") == 0)
		*out = true;
	else if (strcmp(st->argv[0], "no") == 0)
		*out = false;
	else
		return conf_fail(p, st->line, "%s: yes or no, not '%s'", st->kw,
		                 st->argv[0]);
	return 0;
}

/* "key-process no" keeps the keys in the server process. */
static int
kw_key_process(struct parser *p, const struct stmt *st)
{
	return yes_no(p, st, &p->conf->key_process);
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
			return conf_fail(p, st->line,
			                 "domains-dir %s given twice",
			                 st->argv[0]);
	if (c->domains_dir_count == p->dir_cap) {
		p->dir_cap = p->dir_cap == 0 ? 4 : p->dir_cap * 2;
		dirs = realloc(c->domains_dirs, p->dir_cap * sizeof(*dirs));
		if (dirs == NULL)
			return conf_fail(p, st->line, "out of memory");
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

	if (conf_domain_name(st->argv[0], out, why, sizeof(why)) == -1) {
		/* -1 said here, not through conf_fail(): the analyzer does
		   not follow a variadic call and would see *out used unset. */
		conf_fail(p, st->line, "domain %s: %s", st->argv[0], why);
		return -1;
	}
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
	d->acme = -1; /* unset: the global acme */
	if (index_add(&p->names, c->domains, c->domain_count) == -1)
		return NULL;
	return d;
}

static const char *const domain_keywords[] = {"policy", "certificate", "key",
                                              "acme"};
#define DOMAIN_KEYWORDS (sizeof(domain_keywords) / sizeof(domain_keywords[0]))

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
		return conf_fail(p, st->line,
		                 "domain inside a domain block: "
		                 "missing '}' for domain opened at line %u",
		                 d->line);
	if (find_top(st->kw, &i) != NULL)
		return conf_fail(p, st->line,
		                 "%s is not allowed in a domain block", st->kw);
	return conf_fail(p, st->line, "unknown keyword '%s'", st->kw);
}

/* One `policy|certificate|key PATH` or `acme yes|no` line of a block. */
static int
domain_stmt(struct parser *p, const struct stmt *st, struct conf_domain *d,
            unsigned first[DOMAIN_KEYWORDS])
{
	size_t i;
	char **field;
	bool on = false;

	for (i = 0; i < DOMAIN_KEYWORDS; i++)
		if (strcmp(st->kw, domain_keywords[i]) == 0)
			break;
	if (i == DOMAIN_KEYWORDS)
		return not_in_block(p, st, d);
	if (first[i] != 0)
		return conf_fail(p, st->line,
		                 "domain %s: %s given twice (first at line %u)",
		                 d->name, st->kw, first[i]);
	if (st->block)
		return conf_fail(p, st->line, "unexpected '{'");
	if (st->argc != 1)
		return conf_fail(p, st->line, "%s: one argument expected",
		                 st->kw);
	first[i] = st->line;
	if (i == 3) {
		if (yes_no(p, st, &on) == -1)
			return -1;
		d->acme = on ? 1 : 0;
		return 0;
	}
	field = domain_field(d, i);
	return string(p, st, field);
}

/* The lines of a domain block, up to its '}'. */
static int
domain_block(struct parser *p, struct conf_domain *d)
{
	unsigned first[DOMAIN_KEYWORDS] = {0};
	struct stmt st;

	for (;;) {
		switch (conf_read_stmt(p, &st)) {
		case STMT_OK:
			if (domain_stmt(p, &st, d, first) == -1)
				return -1;
			break;
		case STMT_CLOSE:
			return 0;
		case STMT_EOF:
			return conf_fail(
			    p, conf_last_line(p),
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
		conf_fail(p, st->line,
		          "domain %s configured twice (first at line %u)", name,
		          p->conf->domains[k - 1].line);
		free(name);
		return -1;
	}
	if ((d = add_domain(p, name, st->line)) == NULL)
		return conf_fail(p, st->line, "out of memory");
	if (domain_block(p, d) == -1)
		return -1;
	if (d->policy == NULL)
		return conf_fail(p, d->line, "domain %s: no policy", d->name);
	if ((d->certificate == NULL) != (d->key == NULL))
		return conf_fail(p, d->line, "domain %s: %s without %s",
		                 d->name,
		                 d->key == NULL ? "certificate" : "key",
		                 d->key == NULL ? "key" : "certificate");
	if (d->certificate != NULL && d->acme == 1)
		return conf_fail(p, d->line,
		                 "domain %s: acme yes and a certificate: one "
		                 "or the other",
		                 d->name);
	return 0;
}

/* ---- the tlsrpt block: reports by HTTPS POST (RFC 8460 §5.4) ---- */

/*
 * A name the receiver answers on: an RFC 5321 Domain of two or more
 * labels with A-labels, not an address, lower-cased, one final dot
 * dropped.  Unlike a domain block's name it may be an mta-sts host: a
 * domain may well point its rua at https://mta-sts.example.com/tlsrpt.
 */
static int
tlsrpt_host(struct parser *p, const struct stmt *st, struct conf_tlsrpt *t)
{
	const char *s = st->argv[0];
	size_t i, n = strlen(s);
	struct mts_err e;
	char *name;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (mts_dname_check(s, n, MTS_DNAME_REQUIRE_DOT, &e) == -1)
		return conf_fail(p, st->line, "host %s: %s", s, e.msg);
	if (mts_dname_is_address(s, n))
		return conf_fail(p, st->line,
		                 "host %s: an address, not a host name", s);
	if (t->host_count == CONF_REPORT_HOSTS_MAX)
		return conf_fail(p, st->line, "host: more than %d names",
		                 CONF_REPORT_HOSTS_MAX);
	if ((name = strndup(s, n)) == NULL)
		return conf_fail(p, st->line, "out of memory");
	for (i = 0; i < n; i++)
		name[i] = (char)mts_lower((unsigned char)name[i]);
	for (i = 0; i < t->host_count; i++)
		if (strcmp(t->hosts[i], name) == 0) {
			conf_fail(p, st->line, "host %s given twice", name);
			free(name);
			return -1;
		}
	t->hosts[t->host_count++] = name;
	return 0;
}

/*
 * The path of the report URI (RFC 8460 §3 leaves it to the domain): an
 * absolute path of visible ASCII, without a query or fragment (a query
 * the sender adds from its rua is ignored, see mtasts.conf(5)).
 */
static int
tlsrpt_path(struct parser *p, const struct stmt *st, struct conf_tlsrpt *t)
{
	const char *s = st->argv[0];
	size_t i, n = strlen(s);

	if (s[0] != '/' || n > 1024)
		return conf_fail(p, st->line,
		                 "path: an absolute path such as /tlsrpt, "
		                 "not '%s'",
		                 s);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7F || s[i] == '?' || s[i] == '#')
			return conf_fail(p, st->line,
			                 "path: visible ASCII only, no query "
			                 "or fragment");
	return string(p, st, &t->path);
}

/* A store URL of src/report/store.h: the engine is chosen by it. */
static int
tlsrpt_store(struct parser *p, const struct stmt *st, struct conf_tlsrpt *t)
{
	const char *s = st->argv[0];

	if (strncmp(s, "sqlite:", 7) != 0 && s[0] != '/' &&
	    strncmp(s, "postgresql://", 13) != 0 &&
	    strncmp(s, "postgres://", 11) != 0)
		return conf_fail(p, st->line,
		                 "store: sqlite:PATH, an absolute path or "
		                 "postgresql://..., not '%s'",
		                 s);
	if (strncmp(s, "sqlite:", 7) == 0 && s[7] != '/')
		return conf_fail(p, st->line,
		                 "store: the path of sqlite:PATH must be "
		                 "absolute");
	return string(p, st, &t->store);
}

static const char *const tlsrpt_keywords[] = {"host",  "path",
                                              "store", "max-body",
                                              "queue", "certificate",
                                              "key"};
#define TLSRPT_KEYWORDS (sizeof(tlsrpt_keywords) / sizeof(tlsrpt_keywords[0]))

static int
tlsrpt_field(struct parser *p, const struct stmt *st, struct conf_tlsrpt *t,
             size_t i)
{
	switch (i) {
	case 0:
		return tlsrpt_host(p, st, t);
	case 1:
		return tlsrpt_path(p, st, t);
	case 2:
		return tlsrpt_store(p, st, t);
	case 3:
		return number(p, st, 256, CONF_REPORT_BODY_MAX, &t->max_body);
	case 4:
		return number(p, st, 1, CONF_REPORT_QUEUE_MAX, &t->queue);
	case 5:
		return string(p, st, &t->certificate);
	default:
		return string(p, st, &t->key);
	}
}

/* One line of the tlsrpt block. */
static int
tlsrpt_stmt(struct parser *p, const struct stmt *st, struct conf_tlsrpt *t,
            unsigned first[TLSRPT_KEYWORDS])
{
	size_t i;

	for (i = 0; i < TLSRPT_KEYWORDS; i++)
		if (strcmp(st->kw, tlsrpt_keywords[i]) == 0)
			break;
	if (i == TLSRPT_KEYWORDS) {
		if (find_top(st->kw, &i) != NULL)
			return conf_fail(p, st->line,
			                 "%s is not allowed in the tlsrpt "
			                 "block",
			                 st->kw);
		return conf_fail(p, st->line, "unknown keyword '%s'", st->kw);
	}
	if (i != 0 && first[i] != 0)
		return conf_fail(p, st->line,
		                 "tlsrpt: %s given twice (first at line %u)",
		                 st->kw, first[i]);
	if (st->block)
		return conf_fail(p, st->line, "unexpected '{'");
	if (st->argc != 1)
		return conf_fail(p, st->line, "%s: one argument expected",
		                 st->kw);
	first[i] = st->line;
	return tlsrpt_field(p, st, t, i);
}

/* What the whole block must hold, then its defaults. */
static int
tlsrpt_finish(struct parser *p, struct conf_tlsrpt *t)
{
	if (t->host_count == 0)
		return conf_fail(p, t->line,
		                 "tlsrpt: no host (the names in the rua's "
		                 "https URI)");
	if ((t->certificate == NULL) != (t->key == NULL))
		return conf_fail(p, t->line, "tlsrpt: %s without %s",
		                 t->key == NULL ? "certificate" : "key",
		                 t->key == NULL ? "key" : "certificate");
	if (t->path == NULL && (t->path = strdup(CONF_REPORT_PATH)) == NULL)
		return conf_fail(p, t->line, "out of memory");
	if (t->store == NULL && (t->store = strdup(CONF_REPORT_STORE)) == NULL)
		return conf_fail(p, t->line, "out of memory");
	if (t->max_body == 0)
		t->max_body = CONF_REPORT_BODY;
	if (t->queue == 0)
		t->queue = CONF_REPORT_QUEUE;
	return 0;
}

static int
kw_tlsrpt(struct parser *p, const struct stmt *st)
{
	unsigned first[TLSRPT_KEYWORDS] = {0};
	struct conf_tlsrpt *t = &p->conf->tlsrpt;
	struct stmt line;

	t->enabled = true;
	t->line = st->line;
	for (;;) {
		switch (conf_read_stmt(p, &line)) {
		case STMT_OK:
			if (tlsrpt_stmt(p, &line, t, first) == -1)
				return -1;
			break;
		case STMT_CLOSE:
			return tlsrpt_finish(p, t);
		case STMT_EOF:
			return conf_fail(
			    p, conf_last_line(p),
			    "missing '}' for tlsrpt opened at line %u",
			    t->line);
		case STMT_ERR:
			return -1;
		}
	}
}

/* ---- ACME (RFC 8555) for the mta-sts hosts: the acme-* keys ---- */

static int
kw_acme(struct parser *p, const struct stmt *st)
{
	return yes_no(p, st, &p->conf->acme.enabled);
}

/* A URL or path the acme process is told on one line: visible ASCII. */
static bool
visible(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7F)
			return false;
	return true;
}

/*
 * The directory URL (RFC 8555 §7.1.1).  RFC 8555 §6.1 requires HTTPS for
 * every ACME request; a plain http:// directory would hand the account's
 * requests to whoever sits on the path.
 */
static int
kw_acme_directory(struct parser *p, const struct stmt *st)
{
	const char *s = st->argv[0];

	if (strncmp(s, "https://", 8) != 0 || s[8] == '\0' || s[8] == '/' ||
	    !visible(s))
		return conf_fail(p, st->line,
		                 "acme-directory: an https:// URL, not '%s'",
		                 s);
	return string(p, st, &p->conf->acme.directory);
}

/*
 * The account's contact (RFC 8555 §7.3): mailto: only, which is all
 * Let's Encrypt accepts; one address, no query (hfields are refused by
 * RFC 8555 §7.3's "mailto" rules at most CAs).
 */
static int
kw_acme_contact(struct parser *p, const struct stmt *st)
{
	const char *s = st->argv[0], *at;

	if (strncmp(s, "mailto:", 7) != 0 || !visible(s) ||
	    (at = strchr(s + 7, '@')) == NULL || at == s + 7 || at[1] == '\0' ||
	    strpbrk(s + 7, "?,") != NULL || strchr(at + 1, '@') != NULL)
		return conf_fail(p, st->line,
		                 "acme-contact: mailto:ADDRESS, not '%s'", s);
	return string(p, st, &p->conf->acme.contact);
}

static int
kw_acme_ca_file(struct parser *p, const struct stmt *st)
{
	if (!visible(st->argv[0]))
		return conf_fail(
		    p, st->line,
		    "acme-ca-file: no space or control characters");
	return string(p, st, &p->conf->acme.ca_file);
}

/* The parent and the acme process find files under it: absolute. */
static int
kw_acme_state_dir(struct parser *p, const struct stmt *st)
{
	if (st->argv[0][0] != '/' || !visible(st->argv[0]))
		return conf_fail(p, st->line,
		                 "acme-state-dir: an absolute path without "
		                 "spaces, not '%s'",
		                 st->argv[0]);
	return string(p, st, &p->conf->acme.state_dir);
}

/* `acme-rate ORDERS SECONDS`: the second argument read like the first. */
static int
kw_acme_rate(struct parser *p, const struct stmt *st)
{
	struct stmt second = *st;

	second.argv[0] = st->argv[1];
	if (number(p, st, 1, 1000000, &p->conf->acme.rate_orders) == -1)
		return -1;
	/* Up to 30 days: Let's Encrypt's longest limit is a week. */
	return number(p, &second, 1, 30 * 86400, &p->conf->acme.rate_window);
}

static int
kw_acme_burst(struct parser *p, const struct stmt *st)
{
	p->acme_burst_line = st->line;
	return number(p, st, 1, 1000000, &p->conf->acme.burst);
}

/* 0: the default (2/3 of the lifetime or the CA's ARI window). */
static int
kw_acme_renew_age(struct parser *p, const struct stmt *st)
{
	return number(p, st, 0, 10 * 366 * 86400, &p->conf->acme.renew_age);
}

/* HTTP-01 (RFC 8555 §8.3) is asked on port 80: the default port. */
static int
kw_acme_http_listen(struct parser *p, const struct stmt *st)
{
	struct conf_acme *a = &p->conf->acme;
	struct conf_listen l;
	size_t i;

	if (parse_addr(p, st, 80, &l) == -1)
		return -1;
	for (i = 0; i < a->http_count; i++)
		if (same_addr(&l, &a->http[i]))
			return conf_fail(
			    p, st->line,
			    "acme-http-listen %s given twice (first at line %u)",
			    st->argv[0], p->acme_http_line[i]);
	if (a->http_count == CONF_ACME_HTTP_MAX)
		return conf_fail(p, st->line,
		                 "acme-http-listen: more than %d addresses",
		                 CONF_ACME_HTTP_MAX);
	p->acme_http_line[a->http_count] = st->line;
	a->http[a->http_count++] = l;
	return 0;
}

/*
 * Which challenge the acme process answers when the CA offers both.
 * tls-alpn-01 (RFC 8737) needs nothing but the TLS listener; http-01
 * (RFC 8555 §8.3) is for a host whose port 443 is a TLS load balancer's
 * that cannot pass the acme-tls/1 handshake through to serve.
 */
static int
kw_acme_challenge(struct parser *p, const struct stmt *st)
{
	if (strcmp(st->argv[0], "tls-alpn-01") == 0)
		p->conf->acme.prefer_http01 = false;
	else if (strcmp(st->argv[0], "http-01") == 0)
		p->conf->acme.prefer_http01 = true;
	else
		return conf_fail(p, st->line,
		                 "acme-challenge: tls-alpn-01 or http-01, not "
		                 "'%s'",
		                 st->argv[0]);
	return 0;
}

bool
conf_domain_acme(const struct serve_conf *conf, const struct conf_domain *d)
{
	if (d->certificate != NULL)
		return false;
	return d->acme == 1 || (d->acme == -1 && conf->acme.enabled);
}

/* Whether some domain block uses ACME (domains-dir entries come later). */
static bool
acme_used(const struct serve_conf *c)
{
	size_t i;

	if (c->acme.enabled)
		return true;
	for (i = 0; i < c->domain_count; i++)
		if (conf_domain_acme(c, &c->domains[i]))
			return true;
	return false;
}

static const struct keyword *find_top(const char *name, size_t *i);

/*
 * What the acme-* keys need of the whole file, then their defaults.
 * The HTTP-01 listeners go to the server process after the TLS ones, in
 * the same fixed descriptor range (proc.h): together at most
 * CONF_LISTEN_MAX.
 */
static int
acme_finish(struct parser *p)
{
	struct serve_conf *c = p->conf;
	struct conf_acme *a = &c->acme;
	size_t i, k;

	if (a->rate_orders == 0) {
		a->rate_orders = CONF_ACME_RATE;
		a->rate_window = CONF_ACME_WINDOW;
	}
	if (a->burst == 0)
		a->burst = a->rate_orders < CONF_ACME_BURST ? a->rate_orders :
							      CONF_ACME_BURST;
	else if (a->burst > a->rate_orders)
		return conf_fail(p, p->acme_burst_line,
		                 "acme-burst: %u is more than acme-rate's %u",
		                 a->burst, a->rate_orders);
	if (a->http_count + c->listen_count > CONF_LISTEN_MAX)
		return conf_fail(p, p->acme_http_line[a->http_count - 1],
		                 "listen and acme-http-listen: more than %d "
		                 "addresses together",
		                 CONF_LISTEN_MAX);
	for (i = 0; i < a->http_count; i++) {
		for (k = 0; k < c->listen_count; k++)
			if (same_addr(&a->http[i], &c->listen[k]))
				break;
		if (k < c->listen_count ||
		    (c->metrics.port != 0 &&
		     same_addr(&a->http[i], &c->metrics)))
			return conf_fail(p, p->acme_http_line[i],
			                 "acme-http-listen: %s port %u is also "
			                 "a %s address",
			                 a->http[i].host, a->http[i].port,
			                 k < c->listen_count ? "listen" :
			                                       "metrics");
	}
	/* http-01 is answered only on an acme-http-listen: without one the
	   CA's request to port 80 would find nobody. */
	if (a->prefer_http01 && a->http_count == 0) {
		(void)find_top("acme-challenge", &i);
		return conf_fail(p, p->first[i],
		                 "acme-challenge http-01 needs an "
		                 "acme-http-listen");
	}
	if (!acme_used(c))
		return 0;
	if (a->directory == NULL &&
	    (a->directory = strdup(CONF_ACME_DIRECTORY)) == NULL)
		return conf_fail(p, conf_last_line(p), "out of memory");
	if (a->state_dir == NULL &&
	    (a->state_dir = strdup(CONF_ACME_STATE_DIR)) == NULL)
		return conf_fail(p, conf_last_line(p), "out of memory");
	return 0;
}

static const struct keyword top_keywords[] = {
    {"access-log", false, false, false, kw_access_log, 1},
    {"acme", false, false, false, kw_acme, 1},
    {"acme-burst", false, false, false, kw_acme_burst, 1},
    {"acme-ca-file", false, false, false, kw_acme_ca_file, 1},
    {"acme-challenge", false, false, false, kw_acme_challenge, 1},
    {"acme-contact", false, false, false, kw_acme_contact, 1},
    {"acme-directory", false, false, false, kw_acme_directory, 1},
    {"acme-http-listen", true, false, false, kw_acme_http_listen, 1},
    {"acme-rate", false, false, false, kw_acme_rate, 2},
    {"acme-renew-age", false, false, false, kw_acme_renew_age, 1},
    {"acme-state-dir", false, false, false, kw_acme_state_dir, 1},
    {"cache-control", false, false, false, kw_cache_control, 1},
    {"certificate", false, false, false, kw_certificate, 1},
    {"domain", true, true, false, kw_domain, 1},
    {"domains-dir", true, false, false, kw_domains_dir, 1},
    {"idle-timeout", false, false, false, kw_idle_timeout, 1},
    {"key", false, false, false, kw_key, 1},
    {"key-process", false, false, false, kw_key_process, 1},
    {"listen", true, false, false, kw_listen, 1},
    {"max-connections", false, false, false, kw_max_connections, 1},
    {"metrics", false, false, false, kw_metrics, 1},
    {"read-timeout", false, false, false, kw_read_timeout, 1},
    {"tlsrpt", false, true, true, kw_tlsrpt, 0},
    {"user", false, false, false, kw_user, 1},
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
			return conf_fail(p, st->line,
			                 "policy belongs in a domain block");
		return conf_fail(p, st->line, "unknown keyword '%s'", st->kw);
	}
	if (!kw->repeatable && p->first[i] != 0)
		return conf_fail(p, st->line,
		                 "%s given twice (first at line %u)", kw->name,
		                 p->first[i]);
	if (p->first[i] == 0)
		p->first[i] = st->line;
	if (kw->no_arg && st->argc != 0)
		return conf_fail(p, st->line,
		                 "%s: no argument expected, only '{'",
		                 kw->name);
	if (st->argc == 0 && !kw->no_arg)
		return conf_fail(p, st->line, "%s: argument missing", kw->name);
	if (kw->args == 2 && st->argc != 2)
		return conf_fail(p, st->line, "%s: two arguments expected",
		                 kw->name);
	if (kw->args < 2 && st->argc > 1)
		return conf_fail(p, st->line, "%s: one argument expected",
		                 kw->name);
	if (kw->block && !st->block)
		return conf_fail(p, st->line,
		                 "%s%s%s: '{' expected at the end of the line",
		                 kw->name, kw->no_arg ? "" : " ",
		                 kw->no_arg ? "" : st->argv[0]);
	if (!kw->block && st->block)
		return conf_fail(p, st->line, "%s: unexpected '{'", kw->name);
	return kw->fn(p, st);
}

/* Checks that need the whole file, then the defaults. */
static int
finish(struct parser *p)
{
	struct serve_conf *c = p->conf;
	unsigned end = conf_last_line(p);
	size_t i;

	if (c->listen_count == 0)
		return conf_fail(p, end, "no listen address");
	if (c->certificate != NULL && c->key == NULL)
		return conf_fail(p, p->cert_line, "certificate without key");
	if (c->key != NULL && c->certificate == NULL)
		return conf_fail(p, p->key_line, "key without certificate");
	if (c->domain_count == 0 && c->domains_dir_count == 0)
		return conf_fail(
		    p, end, "no domain and no domains-dir: nothing to serve");
	for (i = 0; i < c->domain_count; i++)
		if (c->domains[i].certificate == NULL &&
		    c->certificate == NULL &&
		    !conf_domain_acme(c, &c->domains[i]))
			return conf_fail(p, c->domains[i].line,
			                 "domain %s: no certificate and key, "
			                 "and no default ones",
			                 c->domains[i].name);
	if (c->tlsrpt.enabled && c->tlsrpt.certificate == NULL &&
	    c->certificate == NULL)
		return conf_fail(p, c->tlsrpt.line,
		                 "tlsrpt: no certificate and key, and no "
		                 "default ones");
	for (i = 0; c->metrics.port != 0 && i < c->listen_count; i++)
		if (same_addr(&c->metrics, &c->listen[i]))
			return conf_fail(
			    p, p->metrics_line,
			    "metrics: %s port %u is also a listen address",
			    c->metrics.host, c->metrics.port);
	if (c->cache_control == NULL &&
	    (c->cache_control = strdup("max-age=300")) == NULL)
		return conf_fail(p, end, "out of memory");
	return acme_finish(p);
}

static int
parse(struct parser *p)
{
	struct stmt st;

	if (conf_check_text(p) == -1)
		return -1;
	for (;;) {
		switch (conf_read_stmt(p, &st)) {
		case STMT_OK:
			if (top_stmt(p, &st) == -1)
				return -1;
			break;
		case STMT_CLOSE:
			return conf_fail(p, st.line,
			                 "'}' without a domain block");
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
	for (i = 0; i < conf->tlsrpt.host_count; i++)
		free(conf->tlsrpt.hosts[i]);
	free(conf->tlsrpt.path);
	free(conf->tlsrpt.store);
	free(conf->tlsrpt.certificate);
	free(conf->tlsrpt.key);
	free(conf->acme.directory);
	free(conf->acme.contact);
	free(conf->acme.ca_file);
	free(conf->acme.state_dir);
	memset(conf, 0, sizeof(*conf));
}
