/* SPDX-License-Identifier: ISC */
/*
 * The ACME documents (acme_json.h): RFC 8555 §7.1.1-§7.1.5 (directory,
 * account, order, authorization, challenge), §6.7 problems (RFC 7807),
 * and RFC 9773 §4.2 renewalInfo, parsed with jansson under caps, with a
 * small RFC 3339 §5.6 date-time parser of its own (no time zone
 * functions of the C library).  Each parser fills a zeroed struct of its
 * own and hands it over only when the whole document was good, so a
 * failure frees what was built and leaves the caller's struct alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acme_json.h"
#include "civil.h"

#define DAY 86400

#define ERROR_URN "urn:ietf:params:acme:error:"

/* Bits of the statuses an object may have (RFC 8555 §7.1.6). */
#define ST(s) (1u << (s))
#define ACCOUNT_STATUSES                                                       \
	(ST(ACME_STATUS_VALID) | ST(ACME_STATUS_DEACTIVATED) |                 \
	 ST(ACME_STATUS_REVOKED))
#define ORDER_STATUSES                                                         \
	(ST(ACME_STATUS_PENDING) | ST(ACME_STATUS_READY) |                     \
	 ST(ACME_STATUS_PROCESSING) | ST(ACME_STATUS_VALID) |                  \
	 ST(ACME_STATUS_INVALID))
#define AUTHZ_STATUSES                                                         \
	(ST(ACME_STATUS_PENDING) | ST(ACME_STATUS_VALID) |                     \
	 ST(ACME_STATUS_INVALID) | ST(ACME_STATUS_DEACTIVATED) |               \
	 ST(ACME_STATUS_EXPIRED) | ST(ACME_STATUS_REVOKED))
#define CHALLENGE_STATUSES                                                     \
	(ST(ACME_STATUS_PENDING) | ST(ACME_STATUS_PROCESSING) |                \
	 ST(ACME_STATUS_VALID) | ST(ACME_STATUS_INVALID))

static const char *const status_names[] = {
    [ACME_STATUS_PENDING] = "pending",
    [ACME_STATUS_READY] = "ready",
    [ACME_STATUS_PROCESSING] = "processing",
    [ACME_STATUS_VALID] = "valid",
    [ACME_STATUS_INVALID] = "invalid",
    [ACME_STATUS_DEACTIVATED] = "deactivated",
    [ACME_STATUS_EXPIRED] = "expired",
    [ACME_STATUS_REVOKED] = "revoked",
};

/* RFC 8555 §6.7's table, after "urn:ietf:params:acme:error:". */
static const struct {
	const char *name;
	enum acme_problem_type kind;
} problem_types[] = {
    {"accountDoesNotExist", ACME_PROBLEM_ACCOUNT_DOES_NOT_EXIST},
    {"alreadyRevoked", ACME_PROBLEM_ALREADY_REVOKED},
    {"badCSR", ACME_PROBLEM_BAD_CSR},
    {"badNonce", ACME_PROBLEM_BAD_NONCE},
    {"badPublicKey", ACME_PROBLEM_BAD_PUBLIC_KEY},
    {"badRevocationReason", ACME_PROBLEM_BAD_REVOCATION_REASON},
    {"badSignatureAlgorithm", ACME_PROBLEM_BAD_SIGNATURE_ALGORITHM},
    {"caa", ACME_PROBLEM_CAA},
    {"compound", ACME_PROBLEM_COMPOUND},
    {"connection", ACME_PROBLEM_CONNECTION},
    {"dns", ACME_PROBLEM_DNS},
    {"externalAccountRequired", ACME_PROBLEM_EXTERNAL_ACCOUNT_REQUIRED},
    {"incorrectResponse", ACME_PROBLEM_INCORRECT_RESPONSE},
    {"invalidContact", ACME_PROBLEM_INVALID_CONTACT},
    {"malformed", ACME_PROBLEM_MALFORMED},
    {"orderNotReady", ACME_PROBLEM_ORDER_NOT_READY},
    {"rateLimited", ACME_PROBLEM_RATE_LIMITED},
    {"rejectedIdentifier", ACME_PROBLEM_REJECTED_IDENTIFIER},
    {"serverInternal", ACME_PROBLEM_SERVER_INTERNAL},
    {"tls", ACME_PROBLEM_TLS},
    {"unauthorized", ACME_PROBLEM_UNAUTHORIZED},
    {"unsupportedContact", ACME_PROBLEM_UNSUPPORTED_CONTACT},
    {"unsupportedIdentifier", ACME_PROBLEM_UNSUPPORTED_IDENTIFIER},
    {"userActionRequired", ACME_PROBLEM_USER_ACTION_REQUIRED},
};

/* Where a message goes: the caller's buffer, possibly none. */
struct why {
	char *buf;
	size_t size;
};

__attribute__((format(printf, 2, 3))) static int
fail(const struct why *w, const char *fmt, ...)
{
	va_list ap;

	if (w->buf != NULL && w->size > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(w->buf, w->size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

const char *
acme_status_name(enum acme_status s)
{
	if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]) ||
	    status_names[s] == NULL)
		return "unknown";
	return status_names[s];
}

bool
acme_token_valid(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n == 0)
		return false;
	/* RFC 4648 §5: A-Z a-z 0-9 '-' '_', and no '=' (RFC 8555 §6.1). */
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* ---- RFC 3339 date-time ---- */

/* Exactly n decimal digits at s; -1 when not (a NUL is not a digit). */
static int
digits(const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
	                             31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* time-offset at p (§5.6: "Z" / ("+" / "-") HH ":" MM), as seconds east
   of UTC, the string ending there; -1 when not. */
static int
parse_offset(const char *p, int *off)
{
	int oh, om;

	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		*off = 0;
		return 0;
	}
	if (p[0] != '+' && p[0] != '-')
		return -1;
	oh = digits(p + 1, 2);
	if (oh < 0 || p[3] != ':')
		return -1;
	om = digits(p + 4, 2);
	if (om < 0 || p[6] != '\0' || oh > 23 || om > 59)
		return -1;
	*off = (p[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
	return 0;
}

int
acme_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, se, off;
	const char *p;

	/* full-date "T" partial-time: 19 octets before any fraction. */
	if (s == NULL || strnlen(s, 20) < 20)
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (y < 0 || s[4] != '-' || mo < 0 || s[7] != '-' || d < 0 ||
	    (s[10] != 'T' && s[10] != 't') || h < 0 || s[13] != ':' || mi < 0 ||
	    s[16] != ':' || se < 0)
		return -1;
	/* §5.7: second 60 only for a leap second; counted as the next. */
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++)
			; /* time-secfrac: below the second, dropped */
	}
	if (parse_offset(p, &off) == -1)
		return -1;
	/* §5.6: local time minus the offset is UTC. */
	*out =
	    mts_days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + se - off;
	return 0;
}

/* ---- members ---- */

enum kind {
	K_URL,   /* printable ASCII, no space, <= ACME_URL_MAX */
	K_NAME,  /* printable ASCII, no space, <= ACME_TEXT_MAX */
	K_TOKEN, /* base64url, <= ACME_TOKEN_MAX */
	K_TEXT   /* any UTF-8, cut to ACME_TEXT_MAX, controls shown as '?' */
};

static bool
printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* A copy of human-readable text, cut at a UTF-8 boundary. */
static char *
copy_text(const char *s, size_t n)
{
	char *c;
	size_t i;

	if (n > ACME_TEXT_MAX) {
		n = ACME_TEXT_MAX;
		/* Back over continuation octets (10xxxxxx) and the lead. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if ((c = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(c, s, n);
	c[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			c[i] = '?';
	return c;
}

/* Checks string v of `kind` for member `name` of `ctx`; copies it. */
static int
take_string(json_t *v, enum kind kind, const char *ctx, const char *name,
            char **out, const struct why *w)
{
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return fail(w, "%s: %s is not a string", ctx, name);
	s = json_string_value(v);
	n = json_string_length(v);
	switch (kind) {
	case K_URL:
		if (n == 0 || n > ACME_URL_MAX || !printable(s, n))
			return fail(w,
			            "%s: %s is not a URL of at most %d octets",
			            ctx, name, ACME_URL_MAX);
		break;
	case K_NAME:
		if (n == 0 || n > ACME_TEXT_MAX || !printable(s, n))
			return fail(w,
			            "%s: %s is not a name of at most %d octets",
			            ctx, name, ACME_TEXT_MAX);
		break;
	case K_TOKEN:
		/* RFC 8555 §8.3, RFC 8737 §3: base64url, no padding. */
		if (n > ACME_TOKEN_MAX || !acme_token_valid(s, n))
			return fail(
			    w,
			    "%s: %s is not a base64url token of at most %d octets",
			    ctx, name, ACME_TOKEN_MAX);
		break;
	case K_TEXT:
		if ((*out = copy_text(s, n)) == NULL)
			return fail(w, "%s: out of memory", ctx);
		return 0;
	}
	if ((*out = strdup(s)) == NULL)
		return fail(w, "%s: out of memory", ctx);
	return 0;
}

/* Member `name` of o: NULL (and 0) when absent or null and optional. */
static int
member(json_t *o, const char *ctx, const char *name, bool required, json_t **v,
       const struct why *w)
{
	*v = json_object_get(o, name);
	if (*v != NULL && json_is_null(*v) && !required)
		*v = NULL;
	if (*v == NULL && required)
		return fail(w, "%s: %s is missing", ctx, name);
	return 0;
}

static int
get_string(json_t *o, const char *ctx, const char *name, bool required,
           enum kind kind, char **out, const struct why *w)
{
	json_t *v;

	if (member(o, ctx, name, required, &v, w) == -1)
		return -1;
	if (v == NULL)
		return 0;
	return take_string(v, kind, ctx, name, out, w);
}

static int
get_status(json_t *o, const char *ctx, unsigned allowed, enum acme_status *out,
           const struct why *w)
{
	json_t *v;
	const char *s;
	unsigned i;

	if (member(o, ctx, "status", true, &v, w) == -1)
		return -1;
	if (!json_is_string(v))
		return fail(w, "%s: status is not a string", ctx);
	s = json_string_value(v);
	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (status_names[i] != NULL &&
		    strcmp(s, status_names[i]) == 0 && (allowed & ST(i)) != 0) {
			*out = (enum acme_status)i;
			return 0;
		}
	}
	return fail(w,
	            "%s: status is not one that it may have (RFC 8555 §7.1.6)",
	            ctx);
}

static int
get_time(json_t *o, const char *ctx, const char *name, bool required,
         int64_t *out, const struct why *w)
{
	json_t *v;

	if (member(o, ctx, name, required, &v, w) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return fail(w, "%s: %s is not a string", ctx, name);
	if (json_string_length(v) > 64 ||
	    acme_time_parse(json_string_value(v), out) == -1)
		return fail(w, "%s: %s is not an RFC 3339 date-time", ctx,
		            name);
	return 0;
}

static int
get_bool(json_t *o, const char *ctx, const char *name, bool *out,
         const struct why *w)
{
	json_t *v;

	if (member(o, ctx, name, false, &v, w) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return fail(w, "%s: %s is not a boolean", ctx, name);
	*out = json_is_true(v);
	return 0;
}

/* An array member of at most ACME_LIST_MAX elements. */
static int
get_array(json_t *o, const char *ctx, const char *name, bool required,
          json_t **out, const struct why *w)
{
	if (member(o, ctx, name, required, out, w) == -1)
		return -1;
	if (*out == NULL)
		return 0;
	if (!json_is_array(*out))
		return fail(w, "%s: %s is not an array", ctx, name);
	if (json_array_size(*out) > ACME_LIST_MAX)
		return fail(w, "%s: %s has more than %d elements", ctx, name,
		            ACME_LIST_MAX);
	return 0;
}

static int
get_object(json_t *o, const char *ctx, const char *name, bool required,
           json_t **out, const struct why *w)
{
	if (member(o, ctx, name, required, out, w) == -1)
		return -1;
	if (*out != NULL && !json_is_object(*out))
		return fail(w, "%s: %s is not an object", ctx, name);
	return 0;
}

/* The document: capped, JSON, an object.  The caller json_decref()s. */
static int
load(const char *buf, size_t len, const char *ctx, json_t **root,
     const struct why *w)
{
	json_error_t err;

	if (buf == NULL)
		return fail(w, "%s: no document", ctx);
	if (len > ACME_JSON_MAX_DOC)
		return fail(w, "%s: document over %d octets", ctx,
		            ACME_JSON_MAX_DOC);
	*root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (*root == NULL)
		return fail(w, "%s: not JSON: %s (line %d)", ctx, err.text,
		            err.line);
	if (!json_is_object(*root)) {
		json_decref(*root);
		return fail(w, "%s: not a JSON object", ctx);
	}
	return 0;
}

/* ---- identifiers and problems ---- */

static void
identifier_free(struct acme_identifier *id)
{
	free(id->type);
	free(id->value);
	memset(id, 0, sizeof(*id));
}

/* §9.7.7: {"type": "dns", "value": NAME}. */
static int
identifier_parse(json_t *v, const char *ctx, struct acme_identifier *id,
                 const struct why *w)
{
	if (!json_is_object(v))
		return fail(w, "%s: not an object", ctx);
	if (get_string(v, ctx, "type", true, K_NAME, &id->type, w) == -1 ||
	    get_string(v, ctx, "value", true, K_NAME, &id->value, w) == -1)
		return -1;
	return 0;
}

static enum acme_problem_type
problem_kind(const char *type)
{
	size_t i, n = strlen(ERROR_URN);

	if (type == NULL || strncmp(type, ERROR_URN, n) != 0)
		return ACME_PROBLEM_OTHER;
	for (i = 0; i < sizeof(problem_types) / sizeof(problem_types[0]); i++)
		if (strcmp(type + n, problem_types[i].name) == 0)
			return problem_types[i].kind;
	return ACME_PROBLEM_OTHER;
}

static void
subproblem_free(struct acme_subproblem *s)
{
	free(s->type);
	free(s->detail);
	if (s->id != NULL)
		identifier_free(s->id);
	free(s->id);
	memset(s, 0, sizeof(*s));
}

/* §6.7.1: a subproblem, its identifier optional. */
static int
subproblem_parse(json_t *v, struct acme_subproblem *s, const struct why *w)
{
	const char *ctx = "problem: subproblems[]";
	json_t *id;

	if (!json_is_object(v))
		return fail(w, "%s: not an object", ctx);
	if (get_string(v, ctx, "type", false, K_NAME, &s->type, w) == -1 ||
	    get_string(v, ctx, "detail", false, K_TEXT, &s->detail, w) == -1 ||
	    get_object(v, ctx, "identifier", false, &id, w) == -1)
		return -1;
	s->kind = problem_kind(s->type);
	if (id == NULL)
		return 0;
	if ((s->id = calloc(1, sizeof(*s->id))) == NULL)
		return fail(w, "%s: out of memory", ctx);
	return identifier_parse(id, "problem: subproblems[]: identifier", s->id,
	                        w);
}

void
acme_problem_free(struct acme_problem *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->type);
	free(p->detail);
	for (i = 0; i < p->nsub; i++)
		subproblem_free(&p->sub[i]);
	free(p->sub);
	memset(p, 0, sizeof(*p));
}

/* §6.7, RFC 7807 §3.1: every member optional. */
static int
problem_parse_obj(json_t *o, const char *ctx, struct acme_problem *p,
                  const struct why *w)
{
	json_t *v, *subs;
	json_int_t status;
	size_t i, n;

	if (get_string(o, ctx, "type", false, K_NAME, &p->type, w) == -1 ||
	    get_string(o, ctx, "detail", false, K_TEXT, &p->detail, w) == -1 ||
	    member(o, ctx, "status", false, &v, w) == -1)
		return -1;
	p->kind = problem_kind(p->type);
	if (v != NULL) {
		if (!json_is_integer(v))
			return fail(w, "%s: status is not an integer", ctx);
		status = json_integer_value(v);
		if (status < 100 || status > 599)
			return fail(w, "%s: status is not an HTTP status", ctx);
		p->status = (int)status;
	}
	if (get_array(o, ctx, "subproblems", false, &subs, w) == -1)
		return -1;
	if (subs == NULL || (n = json_array_size(subs)) == 0)
		return 0;
	if ((p->sub = calloc(n, sizeof(*p->sub))) == NULL)
		return fail(w, "%s: out of memory", ctx);
	for (i = 0; i < n; i++) {
		p->nsub++; /* counted first: freed even if half made */
		if (subproblem_parse(json_array_get(subs, i), &p->sub[i], w) ==
		    -1)
			return -1;
	}
	return 0;
}

/* An "error" member: a problem document inside another object. */
static int
get_problem(json_t *o, const char *ctx, struct acme_problem **out,
            const struct why *w)
{
	json_t *v;

	if (get_object(o, ctx, "error", false, &v, w) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return fail(w, "%s: out of memory", ctx);
	return problem_parse_obj(v, "error", *out, w);
}

int
acme_problem_parse(const char *buf, size_t len, struct acme_problem *out,
                   char *why, size_t why_size)
{
	struct why w = {why, why_size};
	struct acme_problem p = {0};
	json_t *root = NULL;
	int rc;

	if (load(buf, len, "problem", &root, &w) == -1)
		return -1;
	rc = problem_parse_obj(root, "problem", &p, &w);
	json_decref(root);
	if (rc == -1) {
		acme_problem_free(&p);
		return -1;
	}
	*out = p;
	return 0;
}

/* ---- directory ---- */

void
acme_directory_free(struct acme_directory *d)
{
	if (d == NULL)
		return;
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->revoke_cert);
	free(d->key_change);
	free(d->renewal_info);
	free(d->terms_of_service);
	memset(d, 0, sizeof(*d));
}

static int
directory_obj(json_t *o, struct acme_directory *d, const struct why *w)
{
	const char *ctx = "directory";
	json_t *meta;

	/* §7.1.1: the three resources an order needs are required here;
	   the client never revokes or rolls its key over unasked. */
	if (get_string(o, ctx, "newNonce", true, K_URL, &d->new_nonce, w) ==
	        -1 ||
	    get_string(o, ctx, "newAccount", true, K_URL, &d->new_account, w) ==
	        -1 ||
	    get_string(o, ctx, "newOrder", true, K_URL, &d->new_order, w) ==
	        -1 ||
	    get_string(o, ctx, "revokeCert", false, K_URL, &d->revoke_cert,
	               w) == -1 ||
	    get_string(o, ctx, "keyChange", false, K_URL, &d->key_change, w) ==
	        -1 ||
	    get_string(o, ctx, "renewalInfo", false, K_URL, &d->renewal_info,
	               w) == -1 ||
	    get_object(o, ctx, "meta", false, &meta, w) == -1)
		return -1;
	if (meta == NULL)
		return 0;
	if (get_string(meta, "directory: meta", "termsOfService", false, K_URL,
	               &d->terms_of_service, w) == -1 ||
	    get_bool(meta, "directory: meta", "externalAccountRequired",
	             &d->external_account_required, w) == -1)
		return -1;
	return 0;
}

int
acme_directory_parse(const char *buf, size_t len, struct acme_directory *out,
                     char *why, size_t why_size)
{
	struct why w = {why, why_size};
	struct acme_directory d = {0};
	json_t *root = NULL;
	int rc;

	if (load(buf, len, "directory", &root, &w) == -1)
		return -1;
	rc = directory_obj(root, &d, &w);
	json_decref(root);
	if (rc == -1) {
		acme_directory_free(&d);
		return -1;
	}
	*out = d;
	return 0;
}

/* ---- account ---- */

void
acme_account_free(struct acme_account *a)
{
	if (a == NULL)
		return;
	free(a->orders);
	memset(a, 0, sizeof(*a));
}

int
acme_account_parse(const char *buf, size_t len, struct acme_account *out,
                   char *why, size_t why_size)
{
	struct why w = {why, why_size};
	struct acme_account a = {0};
	json_t *root = NULL;
	int rc;

	if (load(buf, len, "account", &root, &w) == -1)
		return -1;
	/* §7.1.2 calls "orders" required; Let's Encrypt leaves it out. */
	rc = get_status(root, "account", ACCOUNT_STATUSES, &a.status, &w);
	if (rc == 0)
		rc = get_string(root, "account", "orders", false, K_URL,
		                &a.orders, &w);
	json_decref(root);
	if (rc == -1) {
		acme_account_free(&a);
		return -1;
	}
	*out = a;
	return 0;
}

/* ---- order ---- */

void
acme_order_free(struct acme_order *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->nids; i++)
		identifier_free(&o->ids[i]);
	free(o->ids);
	for (i = 0; i < o->nauthz; i++)
		free(o->authorizations[i]);
	free(o->authorizations);
	free(o->finalize);
	free(o->certificate);
	acme_problem_free(o->error);
	free(o->error);
	memset(o, 0, sizeof(*o));
}

static int
order_ids(json_t *o, struct acme_order *ord, const struct why *w)
{
	json_t *a;
	size_t i, n;

	if (get_array(o, "order", "identifiers", true, &a, w) == -1)
		return -1;
	if ((n = json_array_size(a)) == 0)
		return fail(w, "order: identifiers is empty");
	if ((ord->ids = calloc(n, sizeof(*ord->ids))) == NULL)
		return fail(w, "order: out of memory");
	for (i = 0; i < n; i++) {
		ord->nids++;
		if (identifier_parse(json_array_get(a, i),
		                     "order: identifiers[]", &ord->ids[i],
		                     w) == -1)
			return -1;
	}
	return 0;
}

static int
order_authz(json_t *o, struct acme_order *ord, const struct why *w)
{
	json_t *a;
	size_t i, n;

	if (get_array(o, "order", "authorizations", true, &a, w) == -1)
		return -1;
	if ((n = json_array_size(a)) == 0)
		return fail(w, "order: authorizations is empty");
	if ((ord->authorizations = calloc(n, sizeof(char *))) == NULL)
		return fail(w, "order: out of memory");
	for (i = 0; i < n; i++) {
		ord->nauthz++;
		if (take_string(json_array_get(a, i), K_URL, "order",
		                "authorizations[]", &ord->authorizations[i],
		                w) == -1)
			return -1;
	}
	return 0;
}

static int
order_obj(json_t *o, struct acme_order *ord, const struct why *w)
{
	if (get_status(o, "order", ORDER_STATUSES, &ord->status, w) == -1 ||
	    get_time(o, "order", "expires", false, &ord->expires, w) == -1 ||
	    order_ids(o, ord, w) == -1 || order_authz(o, ord, w) == -1 ||
	    get_string(o, "order", "finalize", true, K_URL, &ord->finalize,
	               w) == -1 ||
	    get_string(o, "order", "certificate", false, K_URL,
	               &ord->certificate, w) == -1 ||
	    get_problem(o, "order", &ord->error, w) == -1)
		return -1;
	/* §7.1.3: a valid order has its certificate's URL. */
	if (ord->status == ACME_STATUS_VALID && ord->certificate == NULL)
		return fail(w, "order: valid without a certificate");
	return 0;
}

int
acme_order_parse(const char *buf, size_t len, struct acme_order *out, char *why,
                 size_t why_size)
{
	struct why w = {why, why_size};
	struct acme_order o = {0};
	json_t *root = NULL;
	int rc;

	if (load(buf, len, "order", &root, &w) == -1)
		return -1;
	rc = order_obj(root, &o, &w);
	json_decref(root);
	if (rc == -1) {
		acme_order_free(&o);
		return -1;
	}
	*out = o;
	return 0;
}

/* ---- challenge and authorization ---- */

void
acme_challenge_free(struct acme_challenge *c)
{
	if (c == NULL)
		return;
	free(c->type);
	free(c->url);
	free(c->token);
	acme_problem_free(c->error);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

static int
challenge_obj(json_t *o, struct acme_challenge *c, const struct why *w)
{
	const char *ctx = "challenge";
	bool needs_token;

	if (!json_is_object(o))
		return fail(w, "%s: not an object", ctx);
	if (get_string(o, ctx, "type", true, K_NAME, &c->type, w) == -1)
		return -1;
	/* §8.3, §8.4, RFC 8737 §3: these carry a token. */
	needs_token = strcmp(c->type, "http-01") == 0 ||
	    strcmp(c->type, "dns-01") == 0 ||
	    strcmp(c->type, "tls-alpn-01") == 0;
	if (get_string(o, ctx, "url", true, K_URL, &c->url, w) == -1 ||
	    get_status(o, ctx, CHALLENGE_STATUSES, &c->status, w) == -1 ||
	    get_string(o, ctx, "token", needs_token, K_TOKEN, &c->token, w) ==
	        -1 ||
	    get_time(o, ctx, "validated", false, &c->validated, w) == -1 ||
	    get_problem(o, ctx, &c->error, w) == -1)
		return -1;
	return 0;
}

int
acme_challenge_parse(const char *buf, size_t len, struct acme_challenge *out,
                     char *why, size_t why_size)
{
	struct why w = {why, why_size};
	struct acme_challenge c = {0};
	json_t *root = NULL;
	int rc;

	if (load(buf, len, "challenge", &root, &w) == -1)
		return -1;
	rc = challenge_obj(root, &c, &w);
	json_decref(root);
	if (rc == -1) {
		acme_challenge_free(&c);
		return -1;
	}
	*out = c;
	return 0;
}

void
acme_authz_free(struct acme_authz *a)
{
	size_t i;

	if (a == NULL)
		return;
	identifier_free(&a->id);
	for (i = 0; i < a->nchallenges; i++)
		acme_challenge_free(&a->challenges[i]);
	free(a->challenges);
	memset(a, 0, sizeof(*a));
}

static int
authz_obj(json_t *o, struct acme_authz *a, const struct why *w)
{
	json_t *id, *chs;
	size_t i, n;

	if (get_object(o, "authorization", "identifier", true, &id, w) == -1 ||
	    identifier_parse(id, "authorization: identifier", &a->id, w) ==
	        -1 ||
	    get_status(o, "authorization", AUTHZ_STATUSES, &a->status, w) ==
	        -1 ||
	    get_time(o, "authorization", "expires", false, &a->expires, w) ==
	        -1 ||
	    get_bool(o, "authorization", "wildcard", &a->wildcard, w) == -1 ||
	    get_array(o, "authorization", "challenges", true, &chs, w) == -1)
		return -1;
	/* A valid authorization may list only the challenge that won. */
	if ((n = json_array_size(chs)) == 0)
		return 0;
	if ((a->challenges = calloc(n, sizeof(*a->challenges))) == NULL)
		return fail(w, "authorization: out of memory");
	for (i = 0; i < n; i++) {
		a->nchallenges++;
		if (challenge_obj(json_array_get(chs, i), &a->challenges[i],
		                  w) == -1)
			return -1;
	}
	return 0;
}

int
acme_authz_parse(const char *buf, size_t len, struct acme_authz *out, char *why,
                 size_t why_size)
{
	struct why w = {why, why_size};
	struct acme_authz a = {0};
	json_t *root = NULL;
	int rc;

	if (load(buf, len, "authorization", &root, &w) == -1)
		return -1;
	rc = authz_obj(root, &a, &w);
	json_decref(root);
	if (rc == -1) {
		acme_authz_free(&a);
		return -1;
	}
	*out = a;
	return 0;
}

/* ---- renewalInfo ---- */

void
acme_renewal_info_free(struct acme_renewal_info *r)
{
	if (r == NULL)
		return;
	free(r->explanation_url);
	memset(r, 0, sizeof(*r));
}

static int
renewal_obj(json_t *o, struct acme_renewal_info *r, const struct why *w)
{
	const char *ctx = "renewalInfo: suggestedWindow";
	json_t *win;

	if (get_object(o, "renewalInfo", "suggestedWindow", true, &win, w) ==
	        -1 ||
	    get_time(win, ctx, "start", true, &r->start, w) == -1 ||
	    get_time(win, ctx, "end", true, &r->end, w) == -1 ||
	    get_string(o, "renewalInfo", "explanationURL", false, K_URL,
	               &r->explanation_url, w) == -1)
		return -1;
	/* RFC 9773 §4.2: such a window is invalid, as if no answer. */
	if (r->end <= r->start)
		return fail(w, "%s: end is not after start", ctx);
	return 0;
}

int
acme_renewal_info_parse(const char *buf, size_t len,
                        struct acme_renewal_info *out, char *why,
                        size_t why_size)
{
	struct why w = {why, why_size};
	struct acme_renewal_info r = {0};
	json_t *root = NULL;
	int rc;

	if (load(buf, len, "renewalInfo", &root, &w) == -1)
		return -1;
	rc = renewal_obj(root, &r, &w);
	json_decref(root);
	if (rc == -1) {
		acme_renewal_info_free(&r);
		return -1;
	}
	*out = r;
	return 0;
}
