/* SPDX-License-Identifier: ISC */
/*
 * The messages of mtasts serve's acme process: see acme_msg.h.
 */
#define _GNU_SOURCE /* memmem(3) */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme_msg.h"

#define NAME_MAX_LEN  253
#define TOKEN_MAX_LEN 256
#define LABEL_MAX     63
#define ARGS_MAX      6

static const char *const verbs[] = {
    [ACME_MSG_ISSUED] = "ISSUED",     [ACME_MSG_ALPN_ADD] = "ALPN-ADD",
    [ACME_MSG_ALPN_DEL] = "ALPN-DEL", [ACME_MSG_HTTP_ADD] = "HTTP-ADD",
    [ACME_MSG_HTTP_DEL] = "HTTP-DEL", [ACME_MSG_STATE] = "STATE",
};

const char *
acme_msg_verb(enum acme_msg_type type)
{
	if ((size_t)type >= sizeof(verbs) / sizeof(verbs[0]))
		return "?";
	return verbs[type];
}

/*
 * A host name as a certificate's dNSName holds it (RFC 5280 §4.2.1.6):
 * lower-case LDH labels of 1..63, 253 in all, no leading or trailing
 * hyphen.  Upper case is refused so that one name has one spelling.
 */
static bool
name_ok(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
		if (++label > LABEL_MAX || (label == 1 && c == '-'))
			return false;
	}
	return label != 0 && s[n - 1] != '-';
}

/* A token: base64url without padding (RFC 8555 §8.1, RFC 4648 §5). */
static bool
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TOKEN_MAX_LEN)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool
arg_ok(enum acme_msg_type type, const char *s)
{
	size_t n = strlen(s);

	if (type == ACME_MSG_HTTP_ADD || type == ACME_MSG_HTTP_DEL)
		return token_ok(s, n);
	return name_ok(s, n);
}

/*
 * A body: the line, then the blobs.  The line is printed into a buffer of
 * ACME_MSG_LINE_MAX, so it cannot be longer.
 */
static int
build(const char *line, const void *a, size_t alen, const void *b, size_t blen,
      uint8_t **out, size_t *len)
{
	size_t llen = strlen(line), total;
	uint8_t *buf;

	if (alen > ACME_MSG_MAX || blen > ACME_MSG_MAX)
		return -1;
	total = llen + alen + blen;
	if (total > ACME_MSG_MAX || (buf = malloc(total)) == NULL)
		return -1;
	memcpy(buf, line, llen);
	if (alen != 0)
		memcpy(buf + llen, a, alen);
	if (blen != 0)
		memcpy(buf + llen + alen, b, blen);
	*out = buf;
	*len = total;
	return 0;
}

/* A message whose line is "VERB ARG\n" and has no payload. */
static int
simple(enum acme_msg_type type, const char *arg, uint8_t **out, size_t *len)
{
	char line[ACME_MSG_LINE_MAX];

	if (arg == NULL || !arg_ok(type, arg))
		return -1;
	snprintf(line, sizeof(line), "%s %s\n", verbs[type], arg);
	return build(line, NULL, 0, NULL, 0, out, len);
}

int
acme_msg_issued(const char *name, uint8_t **out, size_t *len)
{
	return simple(ACME_MSG_ISSUED, name, out, len);
}

int
acme_msg_alpn_del(const char *name, uint8_t **out, size_t *len)
{
	return simple(ACME_MSG_ALPN_DEL, name, out, len);
}

int
acme_msg_http_del(const char *token, uint8_t **out, size_t *len)
{
	return simple(ACME_MSG_HTTP_DEL, token, out, len);
}

int
acme_msg_alpn_add(const char *name, const char *cert_pem, size_t cert_len,
                  const char *key_pem, size_t key_len, uint8_t **out,
                  size_t *len)
{
	char line[ACME_MSG_LINE_MAX];

	if (name == NULL || !name_ok(name, strlen(name)) || cert_pem == NULL ||
	    key_pem == NULL || cert_len == 0 || key_len == 0 ||
	    cert_len > ACME_MSG_MAX || key_len > ACME_MSG_MAX)
		return -1;
	snprintf(line, sizeof(line), "ALPN-ADD %s %zu %zu\n", name, cert_len,
	         key_len);
	return build(line, cert_pem, cert_len, key_pem, key_len, out, len);
}

/* A key authorization: token "." thumbprint, both base64url (§8.1). */
static bool
key_authz_ok(const char *s, size_t n)
{
	const char *dot = memchr(s, '.', n);

	return dot != NULL && token_ok(s, (size_t)(dot - s)) &&
	    token_ok(dot + 1, n - (size_t)(dot - s) - 1);
}

int
acme_msg_http_add(const char *token, const char *key_authz, uint8_t **out,
                  size_t *len)
{
	char line[ACME_MSG_LINE_MAX];
	size_t n;

	if (token == NULL || !token_ok(token, strlen(token)) ||
	    key_authz == NULL)
		return -1;
	n = strlen(key_authz);
	if (n > ACME_MSG_LINE_MAX || !key_authz_ok(key_authz, n))
		return -1;
	snprintf(line, sizeof(line), "HTTP-ADD %s %zu\n", token, n);
	return build(line, key_authz, n, NULL, 0, out, len);
}

int
acme_msg_state(const char *name, int64_t not_after, int64_t renew_at,
               uint32_t failures, const char *last_error, uint8_t **out,
               size_t *len)
{
	char line[ACME_MSG_LINE_MAX], err[ACME_ERROR_MAX];
	size_t n = 0, i;

	if (name == NULL || !name_ok(name, strlen(name)) || not_after < 0 ||
	    renew_at < 0)
		return -1;
	if (last_error != NULL) {
		n = strnlen(last_error, ACME_ERROR_MAX);
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)last_error[i];

			err[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	snprintf(line, sizeof(line),
	         "STATE %s %" PRId64 " %" PRId64 " %" PRIu32 " %zu\n", name,
	         not_after, renew_at, failures, n);
	return build(line, err, n, NULL, 0, out, len);
}

/* ---- decoding ---- */

/* A decimal without sign or leading zeros, at most max; 0 or -1. */
static int
number(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Splits the line (without its '\n') at single spaces into at most
 * ARGS_MAX fields in place; the count, or -1 for an empty field, a byte
 * that is not printable ASCII, or too many fields.
 */
static int
split(char *line, char *field[ARGS_MAX])
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *sp = strchr(p, ' ');

		if (n == ARGS_MAX)
			return -1;
		field[n++] = p;
		if (sp == NULL)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	for (int i = 0; i < n; i++) {
		if (field[i][0] == '\0')
			return -1;
		for (const char *c = field[i]; *c != '\0'; c++)
			if (*c <= 0x20 || *c >= 0x7f)
				return -1;
	}
	return n;
}

static int
type_of(const char *verb, enum acme_msg_type *type)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verb, verbs[i]) == 0) {
			*type = (enum acme_msg_type)i;
			return 0;
		}
	return -1;
}

/* The argument count each verb's line has, the verb included. */
static int
arity(enum acme_msg_type type)
{
	switch (type) {
	case ACME_MSG_ALPN_ADD:
		return 4;
	case ACME_MSG_HTTP_ADD:
		return 3;
	case ACME_MSG_STATE:
		return 6;
	default:
		return 2;
	}
}

/* The payload's one or two lengths, which must add up to rest. */
static int
payload(enum acme_msg_type type, char *const *f, size_t rest,
        struct acme_msg *m)
{
	uint64_t a = 0, b = 0, v;

	switch (type) {
	case ACME_MSG_ALPN_ADD:
		if (number(f[2], ACME_MSG_MAX, &a) != 0 ||
		    number(f[3], ACME_MSG_MAX, &b) != 0 || a == 0 || b == 0)
			return -1;
		break;
	case ACME_MSG_HTTP_ADD:
		if (number(f[2], ACME_MSG_LINE_MAX, &a) != 0 || a == 0)
			return -1;
		break;
	case ACME_MSG_STATE:
		if (number(f[2], INT64_MAX, &v) != 0)
			return -1;
		m->not_after = (int64_t)v;
		if (number(f[3], INT64_MAX, &v) != 0)
			return -1;
		m->renew_at = (int64_t)v;
		if (number(f[4], UINT32_MAX, &v) != 0)
			return -1;
		m->failures = (uint32_t)v;
		if (number(f[5], ACME_ERROR_MAX, &a) != 0)
			return -1;
		break;
	default:
		break;
	}
	if (a + b != rest)
		return -1;
	m->cert_len = (size_t)a;
	m->key_len = (size_t)b;
	return 0;
}

int
acme_msg_decode(const uint8_t *body, size_t len, struct acme_msg *out)
{
	char line[ACME_MSG_LINE_MAX + 1], *f[ARGS_MAX];
	const uint8_t *nl;
	struct acme_msg m;
	size_t llen;
	int n;

	if (body == NULL || len > ACME_MSG_MAX)
		return -1;
	nl = memchr(body, '\n',
	            len < ACME_MSG_LINE_MAX ? len : ACME_MSG_LINE_MAX);
	if (nl == NULL)
		return -1;
	llen = (size_t)(nl - body);
	memcpy(line, body, llen);
	line[llen] = '\0';
	if (memchr(line, '\0', llen) != NULL || (n = split(line, f)) < 2)
		return -1;
	memset(&m, 0, sizeof(m));
	if (type_of(f[0], &m.type) != 0 || n != arity(m.type) ||
	    strlen(f[1]) >= sizeof(m.name) || !arg_ok(m.type, f[1]) ||
	    payload(m.type, f, len - llen - 1, &m) != 0)
		return -1;
	memcpy(m.name, f[1], strlen(f[1]) + 1);
	if (m.cert_len != 0)
		m.cert = nl + 1;
	if (m.key_len != 0)
		m.key = nl + 1 + m.cert_len;
	if (m.type == ACME_MSG_HTTP_ADD &&
	    !key_authz_ok((const char *)m.cert, m.cert_len))
		return -1;
	if (m.type == ACME_MSG_STATE)
		for (size_t i = 0; i < m.cert_len; i++)
			if (m.cert[i] < 0x20 || m.cert[i] == 0x7f)
				return -1;
	*out = m;
	return 0;
}

/* ---- the CONF frame ---- */

/* A value fit for a "key value" line: no control bytes, not empty. */
static bool
value_ok(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > 4096)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

struct growbuf {
	char *buf;
	size_t len, size;
	bool failed;
};

static void
gb_add(struct growbuf *g, const char *key, const char *value)
{
	size_t need;

	if (g->failed)
		return;
	need = strlen(key) + 1 + strlen(value) + 1;
	if (g->len + need > ACME_CONF_MAX) {
		g->failed = true;
		return;
	}
	while (g->len + need + 1 > g->size) {
		size_t size = g->size == 0 ? 4096 : g->size * 2;
		char *p = realloc(g->buf, size);

		if (p == NULL) {
			g->failed = true;
			return;
		}
		g->buf = p;
		g->size = size;
	}
	g->len += (size_t)snprintf(g->buf + g->len, g->size - g->len, "%s %s\n",
	                           key, value);
}

static void
gb_num(struct growbuf *g, const char *key, uint32_t v)
{
	char num[16];

	snprintf(num, sizeof(num), "%" PRIu32, v);
	gb_add(g, key, num);
}

int
acme_conf_encode(const struct acme_proc_conf *c, uint8_t **out, size_t *len)
{
	struct growbuf g = {NULL, 0, 0, false};
	size_t i;

	if (!value_ok(c->directory) || !value_ok(c->state_dir) ||
	    (c->contact != NULL && !value_ok(c->contact)) ||
	    (c->ca_file != NULL && !value_ok(c->ca_file)) ||
	    (c->prefer_http01 && !c->http01))
		return -1;
	for (i = 0; i < c->name_count; i++)
		if (!name_ok(c->names[i], strlen(c->names[i])))
			return -1;
	gb_add(&g, "CONF", "1");
	gb_add(&g, "directory", c->directory);
	if (c->contact != NULL)
		gb_add(&g, "contact", c->contact);
	if (c->ca_file != NULL)
		gb_add(&g, "ca-file", c->ca_file);
	gb_add(&g, "state-dir", c->state_dir);
	gb_num(&g, "rate", c->rate_orders);
	gb_num(&g, "window", c->rate_window);
	gb_num(&g, "burst", c->burst);
	gb_num(&g, "renew-age", c->renew_age);
	gb_num(&g, "http01", c->http01 ? 1 : 0);
	gb_add(&g, "challenge", c->prefer_http01 ? "http-01" : "tls-alpn-01");
	for (i = 0; i < c->name_count; i++)
		gb_add(&g, "domain", c->names[i]);
	if (g.failed) {
		free(g.buf);
		return -1;
	}
	*out = (uint8_t *)g.buf;
	*len = g.len;
	return 0;
}

void
acme_conf_free(struct acme_proc_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->directory);
	free(c->contact);
	free(c->ca_file);
	free(c->state_dir);
	for (i = 0; i < c->name_count; i++)
		free(c->names[i]);
	free(c->names);
	memset(c, 0, sizeof(*c));
}

static int
set_string(char **slot, const char *value)
{
	if (*slot != NULL || !value_ok(value) ||
	    (*slot = strdup(value)) == NULL)
		return -1;
	return 0;
}

static int
set_number(uint32_t *slot, const char *value)
{
	uint64_t v;

	if (number(value, UINT32_MAX, &v) != 0)
		return -1;
	*slot = (uint32_t)v;
	return 0;
}

static int
add_name(struct acme_proc_conf *c, const char *name, size_t *cap)
{
	char **p;

	if (!name_ok(name, strlen(name)))
		return -1;
	if (c->name_count == *cap) {
		*cap = *cap == 0 ? 64 : *cap * 2;
		if ((p = realloc(c->names, *cap * sizeof(*p))) == NULL)
			return -1;
		c->names = p;
	}
	if ((c->names[c->name_count] = strdup(name)) == NULL)
		return -1;
	c->name_count++;
	return 0;
}

/* The challenge line: each value once, "tls-alpn-01" or "http-01"
   (*seen: 0 none yet, 1 tls-alpn-01, 2 http-01). */
static int
set_challenge(uint32_t *seen, const char *value)
{
	if (*seen != 0)
		return -1;
	if (strcmp(value, "tls-alpn-01") == 0)
		*seen = 1;
	else if (strcmp(value, "http-01") == 0)
		*seen = 2;
	else
		return -1;
	return 0;
}

/* One "key value" line of a CONF body. */
static int
conf_line(struct acme_proc_conf *c, char *line, size_t *cap, uint32_t *http01,
          uint32_t *challenge)
{
	char *value = strchr(line, ' ');

	if (value == NULL)
		return -1;
	*value++ = '\0';
	if (strcmp(line, "directory") == 0)
		return set_string(&c->directory, value);
	if (strcmp(line, "contact") == 0)
		return set_string(&c->contact, value);
	if (strcmp(line, "ca-file") == 0)
		return set_string(&c->ca_file, value);
	if (strcmp(line, "state-dir") == 0)
		return set_string(&c->state_dir, value);
	if (strcmp(line, "rate") == 0)
		return set_number(&c->rate_orders, value);
	if (strcmp(line, "window") == 0)
		return set_number(&c->rate_window, value);
	if (strcmp(line, "burst") == 0)
		return set_number(&c->burst, value);
	if (strcmp(line, "renew-age") == 0)
		return set_number(&c->renew_age, value);
	if (strcmp(line, "http01") == 0)
		return set_number(http01, value) != 0 || *http01 > 1 ? -1 : 0;
	if (strcmp(line, "challenge") == 0)
		return set_challenge(challenge, value);
	if (strcmp(line, "domain") == 0)
		return add_name(c, value, cap);
	return -1;
}

int
acme_conf_decode(const uint8_t *body, size_t len, struct acme_proc_conf *out)
{
	static const char head[] = "CONF 1\n";
	struct acme_proc_conf c;
	size_t off = sizeof(head) - 1, cap = 0;
	uint32_t http01 = 0, challenge = 0;
	char *line = NULL;

	if (body == NULL || len > ACME_CONF_MAX || len < off ||
	    memcmp(body, head, off) != 0 || body[len - 1] != '\n')
		return -1;
	memset(&c, 0, sizeof(c));
	while (off < len) {
		const uint8_t *nl = memchr(body + off, '\n', len - off);
		size_t n = (size_t)(nl - (body + off));

		/* nl is found: the body ends with '\n'. */
		if (n == 0 || memchr(body + off, '\0', n) != NULL ||
		    (line = malloc(n + 1)) == NULL)
			goto fail;
		memcpy(line, body + off, n);
		line[n] = '\0';
		if (conf_line(&c, line, &cap, &http01, &challenge) != 0)
			goto fail;
		free(line);
		line = NULL;
		off += n + 1;
	}
	/* http-01 first with no listener to answer it is not a
	   configuration conf.c lets through. */
	if (c.directory == NULL || c.state_dir == NULL ||
	    (challenge == 2 && http01 != 1))
		goto fail;
	c.http01 = http01 == 1;
	c.prefer_http01 = challenge == 2;
	*out = c;
	return 0;
fail:
	free(line);
	acme_conf_free(&c);
	return -1;
}

/* ---- the state directory's certificate file ---- */

static int
domain_path(const char *state_dir, const char *domain, const char *suffix,
            char *buf, size_t size)
{
	int n;

	if (state_dir == NULL || state_dir[0] == '\0' || domain == NULL ||
	    !name_ok(domain, strlen(domain)))
		return -1;
	n = snprintf(buf, size, "%s/certs/%s%s", state_dir, domain, suffix);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
acme_cert_path(const char *state_dir, const char *domain, char *buf,
               size_t size)
{
	return domain_path(state_dir, domain, ".pem", buf, size);
}

int
acme_state_path(const char *state_dir, const char *domain, char *buf,
                size_t size)
{
	return domain_path(state_dir, domain, ".state", buf, size);
}

/*
 * The next PEM block in s[0..len) from *off: its whole text (BEGIN line
 * to END line and its newline) in [*start, *end), and whether its label
 * is CERTIFICATE or PRIVATE KEY.  1 found, 0 none left, -1 unterminated
 * or mislabelled.
 */
static int
next_block(const char *s, size_t len, size_t *off, size_t *start, size_t *end,
           int *kind)
{
	static const char begin[] = "-----BEGIN ";
	static const char cert[] = "-----BEGIN CERTIFICATE-----\n";
	static const char key[] = "-----BEGIN PRIVATE KEY-----\n";
	const char *b, *e, *nl;
	const char *endmark;

	b = memmem(s + *off, len - *off, begin, sizeof(begin) - 1);
	if (b == NULL)
		return 0;
	if ((size_t)(s + len - b) >= sizeof(cert) - 1 &&
	    memcmp(b, cert, sizeof(cert) - 1) == 0) {
		*kind = 1;
		endmark = "-----END CERTIFICATE-----";
	} else if ((size_t)(s + len - b) >= sizeof(key) - 1 &&
	           memcmp(b, key, sizeof(key) - 1) == 0) {
		*kind = 2;
		endmark = "-----END PRIVATE KEY-----";
	} else {
		return -1;
	}
	e = memmem(b, (size_t)(s + len - b), endmark, strlen(endmark));
	if (e == NULL)
		return -1;
	e += strlen(endmark);
	nl = e < s + len && *e == '\n' ? e + 1 : e;
	*start = (size_t)(b - s);
	*end = (size_t)(nl - s);
	*off = *end;
	return 1;
}

static char *
append(char *dst, size_t *dlen, const char *src, size_t n)
{
	char *p = realloc(dst, *dlen + n + 2);

	if (p == NULL)
		return NULL;
	memcpy(p + *dlen, src, n);
	*dlen += n;
	if (p[*dlen - 1] != '\n')
		p[(*dlen)++] = '\n';
	p[*dlen] = '\0';
	return p;
}

int
acme_pem_split(const char *pem, size_t len, char **chain, size_t *chain_len,
               char **key, size_t *key_len)
{
	char *c = NULL, *k = NULL, *p;
	size_t off = 0, start, end, clen = 0, klen = 0;
	int kind, r;

	/* The halves are C strings: a NUL inside would cut one short. */
	if (pem == NULL || memchr(pem, '\0', len) != NULL)
		return -1;
	while ((r = next_block(pem, len, &off, &start, &end, &kind)) == 1) {
		if (kind == 2 && k != NULL)
			goto fail; /* two keys */
		p = append(kind == 1 ? c : k, kind == 1 ? &clen : &klen,
		           pem + start, end - start);
		if (p == NULL)
			goto fail;
		if (kind == 1)
			c = p;
		else
			k = p;
	}
	if (r != 0 || c == NULL || k == NULL)
		goto fail;
	*chain = c;
	*chain_len = clen;
	*key = k;
	*key_len = klen;
	return 0;
fail:
	free(c);
	if (k != NULL) {
		explicit_bzero(k, klen);
		free(k);
	}
	return -1;
}
