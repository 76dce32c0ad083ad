/* SPDX-License-Identifier: ISC */
/*
 * DANE TLSA records for SMTP.
 *
 * The wire format of RFC 6698 §2.1 and the presentation format of §2.2
 * (with the RFC 7218 acronyms for the three parameter fields); whether
 * an SMTP client can use a record (RFC 6698 §4.1, RFC 7671 §9, RFC 7672
 * §3.1.3); matching one record against one certificate (RFC 6698
 * §2.1.2, §2.1.3, App. B.1); building a record from a certificate; the
 * owner name "_<port>._tcp.<host>" (RFC 6698 §3, RFC 7672 §2.2.3); and
 * the publisher-side lint of RFC 7672 §3.1 and RFC 7671 §5.2.1, §10.1.2.
 *
 * Pure: OpenSSL is used only to decode DER and to hash, on memory.
 * Errors OpenSSL queues while decoding untrusted data are popped again
 * (ERR_set_mark/ERR_pop_to_mark) so that they cannot be mistaken for the
 * caller's own TLS errors.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <mtasts/dane.h>
#include <mtasts/dname.h>

#include "internal.h"

#define SHA256_LEN 32
#define SHA512_LEN 64

/* ---- parameter names (RFC 6698 §7, RFC 7218 §2) ---- */

enum field { F_USAGE, F_SELECTOR, F_MTYPE };

struct acronym {
	const char *name;
	uint8_t value;
};

static const struct acronym usages[] = {
    {"PKIX-TA", MTS_TLSA_USAGE_PKIX_TA},   {"PKIX-EE", MTS_TLSA_USAGE_PKIX_EE},
    {"DANE-TA", MTS_TLSA_USAGE_DANE_TA},   {"DANE-EE", MTS_TLSA_USAGE_DANE_EE},
    {"PrivCert", MTS_TLSA_USAGE_PRIVCERT}, {NULL, 0},
};

static const struct acronym selectors[] = {
    {"Cert", MTS_TLSA_SELECTOR_CERT},
    {"SPKI", MTS_TLSA_SELECTOR_SPKI},
    {"PrivSel", MTS_TLSA_SELECTOR_PRIVSEL},
    {NULL, 0},
};

static const struct acronym mtypes[] = {
    {"Full", MTS_TLSA_MTYPE_FULL},
    {"SHA2-256", MTS_TLSA_MTYPE_SHA256},
    {"SHA2-512", MTS_TLSA_MTYPE_SHA512},
    {"PrivMatch", MTS_TLSA_MTYPE_PRIVMATCH},
    {NULL, 0},
};

static const struct acronym *const field_names[] = {
    [F_USAGE] = usages,
    [F_SELECTOR] = selectors,
    [F_MTYPE] = mtypes,
};

static const char *const field_errors[] = {
    [F_USAGE] = "certificate usage is not 0-255 or an RFC 7218 acronym",
    [F_SELECTOR] = "selector is not 0-255 or an RFC 7218 acronym",
    [F_MTYPE] = "matching type is not 0-255 or an RFC 7218 acronym",
};

/* The acronym of a value, or "unassigned". */
static const char *
acronym_of(enum field f, uint8_t value)
{
	const struct acronym *a;

	for (a = field_names[f]; a->name != NULL; a++)
		if (a->value == value)
			return a->name;
	return "unassigned";
}

static bool
ascii_caseeq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (b[i] == '\0' ||
		    mts_lower((unsigned char)a[i]) !=
		        mts_lower((unsigned char)b[i]))
			return false;
	return b[alen] == '\0';
}

/* ---- usability (RFC 6698 §4.1, RFC 7671 §9, RFC 7672 §3.1.3) ---- */

/* The digest length of a matching type, 0 for full data. */
static size_t
digest_len(uint8_t mtype)
{
	switch (mtype) {
	case MTS_TLSA_MTYPE_SHA256:
		return SHA256_LEN;
	case MTS_TLSA_MTYPE_SHA512:
		return SHA512_LEN;
	default:
		return 0;
	}
}

/*
 * Whether full association data (matching type 0) is what its selector
 * says: one DER Certificate (RFC 5280 §4.1) or SubjectPublicKeyInfo,
 * with nothing after it.  Such a record could never match otherwise.
 */
static bool
full_data_ok(uint8_t selector, const uint8_t *data, size_t len)
{
	const unsigned char *p = data;
	X509 *x;
	EVP_PKEY *pkey;
	bool ok = false;

	if (data == NULL || len == 0 || len > LONG_MAX)
		return false;
	ERR_set_mark();
	if (selector == MTS_TLSA_SELECTOR_CERT) {
		x = d2i_X509(NULL, &p, (long)len);
		ok = x != NULL && p == data + len;
		X509_free(x);
	} else if (selector == MTS_TLSA_SELECTOR_SPKI) {
		pkey = d2i_PUBKEY(NULL, &p, (long)len);
		ok = pkey != NULL && p == data + len;
		EVP_PKEY_free(pkey);
	}
	ERR_pop_to_mark();
	return ok;
}

/*
 * Why the usage makes a record unusable for an SMTP client, or NULL.
 * RFC 7672 §3.1.3 leaves PKIX-TA(0) and PKIX-EE(1) undefined for SMTP
 * and lets clients treat them as unusable, which we do unless asked
 * (RFC 7671 §4 recommends supporting only DANE-TA and DANE-EE): an MX
 * host has no agreed set of trust anchors to check them against.
 */
static const char *
usage_reason(uint8_t usage, unsigned flags)
{
	switch (usage) {
	case MTS_TLSA_USAGE_DANE_TA:
	case MTS_TLSA_USAGE_DANE_EE:
		return NULL;
	case MTS_TLSA_USAGE_PKIX_TA:
	case MTS_TLSA_USAGE_PKIX_EE:
		if ((flags & MTS_DANE_ALLOW_PKIX) != 0)
			return NULL;
		return "PKIX usage (0 or 1) is not used for SMTP";
	default:
		return "unknown certificate usage";
	}
}

/*
 * Why the selector, matching type or data make a record unusable, or
 * NULL (RFC 6698 §4.1: unknown parameters, malformed data and
 * algorithms too weak for local policy all make a record unusable).
 */
static const char *
assoc_reason(const struct mts_dane_tlsa *t, unsigned flags)
{
	if (t->selector != MTS_TLSA_SELECTOR_CERT &&
	    t->selector != MTS_TLSA_SELECTOR_SPKI)
		return "unknown selector";
	switch (t->mtype) {
	case MTS_TLSA_MTYPE_FULL:
		if (!full_data_ok(t->selector, t->data, t->data_len))
			return t->selector == MTS_TLSA_SELECTOR_CERT ?
			    "full data is not a DER certificate" :
			    "full data is not a DER SubjectPublicKeyInfo";
		return NULL;
	case MTS_TLSA_MTYPE_SHA256:
		if ((flags & MTS_DANE_DISABLE_SHA256) != 0)
			return "SHA2-256 is disabled by local policy";
		break;
	case MTS_TLSA_MTYPE_SHA512:
		if ((flags & MTS_DANE_DISABLE_SHA512) != 0)
			return "SHA2-512 is disabled by local policy";
		break;
	default:
		return "unknown matching type";
	}
	if (t->data == NULL || t->data_len != digest_len(t->mtype))
		return "digest length does not match the matching type";
	return NULL;
}

int
mts_dane_tlsa_usable(const struct mts_dane_tlsa *tlsa, unsigned flags,
                     struct mts_err *err)
{
	const char *why;

	if (tlsa == NULL)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "no record");
	if ((why = usage_reason(tlsa->usage, flags)) != NULL ||
	    (why = assoc_reason(tlsa, flags)) != NULL)
		return mts_err_set(err, MTS_ERR_UNUSABLE, 0, 0, why);
	return 0;
}

/* ---- lint (RFC 7672 §3.1, RFC 7671 §5.2.1, §10.1.2) ---- */

/* Findings of one record, and how bad they are. */
struct tally {
	struct mts_diag *diag;
	unsigned line;
	size_t errors;
	enum mts_severity worst;
};

static void tally_add(struct tally *ty, enum mts_diag_id id, const char *fmt,
                      ...) MTS_PRINTF(3, 4);

static void
tally_add(struct tally *ty, enum mts_diag_id id, const char *fmt, ...)
{
	char msg[MTS_FINDING_MSG_SIZE];
	enum mts_severity sev = mts_diag_severity(id);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mts_diag_add(ty->diag, id, ty->line, "%s", msg);
	if (sev == MTS_SEV_ERROR)
		ty->errors++;
	if (sev > ty->worst)
		ty->worst = sev;
}

static void
lint_usage(const struct mts_dane_tlsa *t, struct tally *ty)
{
	switch (t->usage) {
	case MTS_TLSA_USAGE_DANE_TA:
	case MTS_TLSA_USAGE_DANE_EE:
		break;
	case MTS_TLSA_USAGE_PKIX_TA:
	case MTS_TLSA_USAGE_PKIX_EE:
		tally_add(ty, MTS_D_TLSA_USAGE_PKIX, "usage %u (%s)", t->usage,
		          acronym_of(F_USAGE, t->usage));
		break;
	default:
		tally_add(ty, MTS_D_TLSA_USAGE_UNKNOWN, "usage %u (%s)",
		          t->usage,
		          t->usage == MTS_TLSA_USAGE_PRIVCERT ?
		              "PrivCert, private use" :
		              "unassigned");
		break;
	}
}

/*
 * Full data (RFC 7671 §5.2.1: NOT RECOMMENDED; §10.1.2: "x 0 0" SHOULD
 * NOT be published, the record breaks at every certificate renewal) is
 * noted even when well-formed; malformed full data is an error.
 */
static void
lint_full(const struct mts_dane_tlsa *t, struct tally *ty)
{
	const char *what = t->selector == MTS_TLSA_SELECTOR_CERT ?
	    "certificate" :
	    "public key";

	tally_add(ty, MTS_D_TLSA_FULL_MATCH,
	          "\"%u %u 0\" publishes the full %s", t->usage, t->selector,
	          what);
	if (!full_data_ok(t->selector, t->data, t->data_len))
		tally_add(ty, MTS_D_TLSA_DATA_MALFORMED,
		          "the %zu octets of data are not a DER %s",
		          t->data_len,
		          t->selector == MTS_TLSA_SELECTOR_CERT ?
		              "certificate" :
		              "SubjectPublicKeyInfo");
}

static void
lint_assoc(const struct mts_dane_tlsa *t, struct tally *ty)
{
	bool sel_ok = t->selector == MTS_TLSA_SELECTOR_CERT ||
	    t->selector == MTS_TLSA_SELECTOR_SPKI;

	if (!sel_ok)
		tally_add(ty, MTS_D_TLSA_SELECTOR_UNKNOWN, "selector %u (%s)",
		          t->selector, acronym_of(F_SELECTOR, t->selector));
	switch (t->mtype) {
	case MTS_TLSA_MTYPE_FULL:
		/* Which DER type to expect depends on a known selector. */
		if (sel_ok)
			lint_full(t, ty);
		break;
	case MTS_TLSA_MTYPE_SHA256:
	case MTS_TLSA_MTYPE_SHA512:
		if (t->data_len != digest_len(t->mtype))
			tally_add(ty, MTS_D_TLSA_DATA_LENGTH,
			          "%s data is %zu octets, not %zu",
			          acronym_of(F_MTYPE, t->mtype), t->data_len,
			          digest_len(t->mtype));
		break;
	default:
		tally_add(ty, MTS_D_TLSA_MTYPE_UNKNOWN, "matching type %u (%s)",
		          t->mtype, acronym_of(F_MTYPE, t->mtype));
		break;
	}
}

/* RFC 7672 §3.1: "3 1 1" is the first choice, "2 0 1" the second. */
static bool
is_recommended(const struct mts_dane_tlsa *t)
{
	if (t->mtype != MTS_TLSA_MTYPE_SHA256)
		return false;
	return (t->usage == MTS_TLSA_USAGE_DANE_EE &&
	        t->selector == MTS_TLSA_SELECTOR_SPKI) ||
	    (t->usage == MTS_TLSA_USAGE_DANE_TA &&
	     t->selector == MTS_TLSA_SELECTOR_CERT);
}

/*
 * Other combinations than the recommended ones are noted only on an
 * otherwise clean record: a record with an error or warning already says
 * what to change.
 */
static size_t
lint_at(const struct mts_dane_tlsa *t, struct mts_diag *diag, unsigned line)
{
	struct tally ty = {diag, line, 0, MTS_SEV_OK};

	lint_usage(t, &ty);
	lint_assoc(t, &ty);
	if (ty.worst < MTS_SEV_WARNING && !is_recommended(t))
		tally_add(&ty, MTS_D_TLSA_UNUSUAL_PARAMS, "\"%u %u %u\"",
		          t->usage, t->selector, t->mtype);
	return ty.errors;
}

size_t
mts_dane_tlsa_lint(const struct mts_dane_tlsa *tlsa, struct mts_diag *diag)
{
	if (tlsa == NULL)
		return 0;
	return lint_at(tlsa, diag, 0);
}

/* ---- wire format (RFC 6698 §2.1) ---- */

/*
 * Fills *out with the fields and takes `data` (len octets, allocated),
 * which is freed instead when it is over the size cap.
 */
static int
tlsa_take(struct mts_dane_tlsa *out, uint8_t usage, uint8_t selector,
          uint8_t mtype, uint8_t *data, size_t len, struct mts_err *err)
{
	if (len > MTS_TLSA_DATA_MAX) {
		free(data);
		return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
		                   "association data over the size cap");
	}
	out->usage = usage;
	out->selector = selector;
	out->mtype = mtype;
	out->data = data;
	out->data_len = len;
	return 0;
}

/* Fills *out with the fields and a copy of data[0..len). */
static int
tlsa_set(struct mts_dane_tlsa *out, uint8_t usage, uint8_t selector,
         uint8_t mtype, const uint8_t *data, size_t len, struct mts_err *err)
{
	uint8_t *copy;

	if (len > MTS_TLSA_DATA_MAX) /* before copying it */
		return tlsa_take(out, usage, selector, mtype, NULL, len, err);
	if ((copy = malloc(len)) == NULL)
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	memcpy(copy, data, len);
	return tlsa_take(out, usage, selector, mtype, copy, len, err);
}

/*
 * Three one-octet fields and at least one octet of data: RDATA of three
 * octets or fewer is a malformed record (RFC 6698 §2.1), which a client
 * must then treat as unusable, never crash on.
 */
int
mts_dane_tlsa_parse_rdata(const uint8_t *rdata, size_t len,
                          struct mts_dane_tlsa *out, struct mts_err *err)
{
	if (out == NULL || (rdata == NULL && len != 0))
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "no record");
	if (len < 4)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
		                   "TLSA RDATA shorter than 4 octets");
	return tlsa_set(out, rdata[0], rdata[1], rdata[2], rdata + 3, len - 3,
	                err);
}

/* ---- presentation format (RFC 6698 §2.2, RFC 1035 §5.1) ---- */

/*
 * A cursor over master-file text.  Blanks separate fields; "(" and ")"
 * let a record span lines (RFC 1035 §5.1), so a line break outside them
 * ends the record; ";" starts a comment.  One record per call: text
 * after a record's end is an error rather than more data, lest two
 * records be read as one.
 */
struct scan {
	const char *p;
	const char *end;
	const char *bol; /* the current line's first byte, for columns */
	unsigned line;
	bool open;  /* inside "(" */
	bool seen;  /* a token was read */
	bool ended; /* then a line break outside parentheses */
};

struct token {
	const char *s;
	size_t len;
	unsigned line;
	unsigned column;
};

struct parse {
	struct scan sc;
	struct mts_diag *diag;
	struct mts_err *err;
};

static bool
is_blank(int c)
{
	return mts_is_wsp(c) || c == '\r';
}

static bool
is_delim(int c)
{
	return is_blank(c) || c == '\n' || c == '(' || c == ')' || c == ';';
}

static int
hex_value(int c)
{
	if (mts_is_digit(c))
		return c - '0';
	c = mts_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static unsigned
scan_column(const struct scan *sc)
{
	return (unsigned)(sc->p - sc->bol) + 1;
}

/*
 * Copies a token for a message: at most 32 bytes, non-printing or
 * non-ASCII bytes as '?', so that a finding is safe to print.
 */
static void
quote(char *dst, size_t size, const char *s, size_t len)
{
	size_t i, n = len < 32 ? len : 32;

	if (n > size - 4)
		n = size - 4;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (char)(c > 0x20 && c < 0x7f ? c : '?');
	}
	if (n < len) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

/*
 * Reports a syntax error at (line, column): a tlsa-syntax finding with
 * the offending token, and the constant message in err.
 */
static int
syntax_error(struct parse *ps, unsigned line, unsigned column, const char *msg,
             const char *tok, size_t toklen)
{
	char q[40];

	if (tok != NULL) {
		quote(q, sizeof(q), tok, toklen);
		mts_diag_add(ps->diag, MTS_D_TLSA_SYNTAX, line,
		             "column %u: %s: \"%s\"", column, msg, q);
	} else {
		mts_diag_add(ps->diag, MTS_D_TLSA_SYNTAX, line, "column %u: %s",
		             column, msg);
	}
	(void)mts_err_set(ps->err, MTS_ERR_SYNTAX, line, column, msg);
	return -1;
}

/* Skips blanks, line breaks, parentheses and comments. */
static int
scan_skip(struct parse *ps, struct scan *sc)
{
	while (sc->p < sc->end) {
		switch (*sc->p) {
		case '\n':
			if (!sc->open && sc->seen)
				sc->ended = true;
			sc->line++;
			sc->bol = sc->p + 1;
			break;
		case ';':
			while (sc->p < sc->end && *sc->p != '\n')
				sc->p++;
			continue;
		case '(':
			if (sc->open)
				return syntax_error(ps, sc->line,
				                    scan_column(sc),
				                    "nested \"(\"", NULL, 0);
			sc->open = true;
			break;
		case ')':
			if (!sc->open)
				return syntax_error(ps, sc->line,
				                    scan_column(sc),
				                    "\")\" without \"(\"", NULL,
				                    0);
			sc->open = false;
			break;
		default:
			if (!is_blank((unsigned char)*sc->p))
				return 0;
			break;
		}
		sc->p++;
	}
	return 0;
}

/* The next token: 1, or 0 at the end of the record, or -1 on error. */
static int
scan_token(struct parse *ps, struct scan *sc, struct token *tok)
{
	if (scan_skip(ps, sc) == -1)
		return -1;
	if (sc->p == sc->end) {
		if (sc->open)
			return syntax_error(ps, sc->line, scan_column(sc),
			                    "\"(\" without \")\"", NULL, 0);
		return 0;
	}
	tok->s = sc->p;
	tok->line = sc->line;
	tok->column = scan_column(sc);
	while (sc->p < sc->end && !is_delim((unsigned char)*sc->p))
		sc->p++;
	tok->len = (size_t)(sc->p - tok->s);
	sc->seen = true;
	if (sc->ended)
		return syntax_error(ps, tok->line, tok->column,
		                    "text after the end of the record", tok->s,
		                    tok->len);
	return 1;
}

/* A TTL: digits, or BIND's unit form ("1h30m"). */
static bool
is_ttl(const struct token *tok)
{
	size_t i;

	if (!mts_is_digit((unsigned char)tok->s[0]))
		return false;
	for (i = 0; i < tok->len; i++) {
		int c = mts_lower((unsigned char)tok->s[i]);

		if (!mts_is_digit(c) && strchr("wdhms", c) == NULL)
			return false;
	}
	return true;
}

/* A class mnemonic (RFC 1035 §3.2.4) or RFC 3597 §5 "CLASSnn". */
static bool
is_class(const struct token *tok)
{
	static const char *const classes[] = {"IN", "CH", "HS", "CS"};
	size_t i;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (ascii_caseeq(tok->s, tok->len, classes[i]))
			return true;
	if (tok->len <= 5 || !ascii_caseeq(tok->s, 5, "CLASS"))
		return false;
	for (i = 5; i < tok->len; i++)
		if (!mts_is_digit((unsigned char)tok->s[i]))
			return false;
	return true;
}

/*
 * Skips "[owner] [TTL] [class] TLSA" when the text is a whole resource
 * record as dig or a zone file shows it.  The type token is the anchor:
 * no field or hex string is spelled "TLSA".  Without it the text is
 * taken to be bare RDATA.
 */
static int
skip_rr_prefix(struct parse *ps)
{
	struct scan look = ps->sc;
	struct token tok[4] = {{NULL, 0, 0, 0}};
	size_t i, n;

	for (n = 0; n < 4; n++) {
		/* Errors here reappear, reported, when the fields are read. */
		struct parse quiet = {look, NULL, NULL};

		if (scan_token(&quiet, &quiet.sc, &tok[n]) != 1)
			return 0;
		look = quiet.sc;
		if (ascii_caseeq(tok[n].s, tok[n].len, "TLSA"))
			break;
	}
	if (n == 4)
		return 0;
	/* The owner, if any, comes first; TTL and class in either order. */
	for (i = 1; i < n; i++)
		if (!is_ttl(&tok[i]) && !is_class(&tok[i]))
			return syntax_error(
			    ps, tok[i].line, tok[i].column,
			    "expected a TTL or class before TLSA", tok[i].s,
			    tok[i].len);
	ps->sc = look;
	return 0;
}

/*
 * One parameter field: a decimal 0..255 (RFC 6698 §2.2: an 8-bit
 * unsigned integer; no sign) or an RFC 7218 §2 acronym, which RFC 7218
 * lets presentation forms use in place of the number.
 */
static int
parse_field(enum field f, const struct token *tok, uint8_t *value)
{
	const struct acronym *a;
	unsigned v = 0;
	size_t i;

	if (mts_is_digit((unsigned char)tok->s[0])) {
		for (i = 0; i < tok->len; i++) {
			if (!mts_is_digit((unsigned char)tok->s[i]))
				return -1;
			v = v * 10 + (unsigned)(tok->s[i] - '0');
			if (v > UINT8_MAX)
				return -1;
		}
		*value = (uint8_t)v;
		return 0;
	}
	for (a = field_names[f]; a->name != NULL; a++) {
		if (ascii_caseeq(tok->s, tok->len, a->name)) {
			*value = a->value;
			return 0;
		}
	}
	return -1;
}

static int
parse_fields(struct parse *ps, uint8_t v[3], unsigned *line)
{
	struct token tok = {NULL, 0, 0, 0};
	enum field f;
	int rc;

	for (f = F_USAGE; f <= F_MTYPE; f++) {
		if ((rc = scan_token(ps, &ps->sc, &tok)) == -1)
			return -1;
		if (rc == 0)
			return syntax_error(
			    ps, ps->sc.line, scan_column(&ps->sc),
			    "expected usage, selector and matching type", NULL,
			    0);
		if (f == F_USAGE)
			*line = tok.line;
		if (parse_field(f, &tok, &v[f]) == -1)
			return syntax_error(ps, tok.line, tok.column,
			                    field_errors[f], tok.s, tok.len);
	}
	return 0;
}

/*
 * Reads the rest of the record as hex (RFC 6698 §2.2: whitespace may
 * appear anywhere in it).  With dst NULL only checks and counts the
 * digits, and notes where the data begins in *at; then decodes them into
 * dst.
 */
static int
scan_hex(struct parse *ps, struct scan sc, uint8_t *dst, size_t *ndigits,
         struct token *at)
{
	struct token tok = {NULL, 0, 0, 0};
	size_t i, n = 0;
	int rc, v;

	while ((rc = scan_token(ps, &sc, &tok)) == 1) {
		if (n == 0 && at != NULL)
			*at = tok;
		for (i = 0; i < tok.len; i++, n++) {
			if ((v = hex_value((unsigned char)tok.s[i])) == -1)
				return syntax_error(
				    ps, tok.line, tok.column + (unsigned)i,
				    "association data is not hex", tok.s,
				    tok.len);
			if (dst != NULL)
				dst[n / 2] =
				    (uint8_t)(n % 2 == 0 ? v << 4 :
				                           dst[n / 2] | v);
		}
	}
	*ndigits = n;
	return rc;
}

static int
parse_data(struct parse *ps, struct mts_dane_tlsa *t)
{
	struct token at = {NULL, 0, ps->sc.line, scan_column(&ps->sc)};
	size_t n = 0;

	if (scan_hex(ps, ps->sc, NULL, &n, &at) == -1)
		return -1;
	if (n == 0)
		return syntax_error(ps, at.line, at.column,
		                    "no certificate association data", NULL, 0);
	if (n % 2 != 0)
		return syntax_error(ps, at.line, at.column,
		                    "odd number of hex digits", NULL, 0);
	if (n / 2 > MTS_TLSA_DATA_MAX) {
		mts_diag_add(ps->diag, MTS_D_TLSA_DATA_TOO_BIG, at.line,
		             "%zu octets of data, at most %d", n / 2,
		             MTS_TLSA_DATA_MAX);
		return mts_err_set(ps->err, MTS_ERR_TOOBIG, at.line, at.column,
		                   "association data over the size cap");
	}
	if ((t->data = malloc(n / 2)) == NULL)
		return mts_err_set(ps->err, MTS_ERR_NOMEM, 0, 0, NULL);
	t->data_len = n / 2;
	return scan_hex(ps, ps->sc, t->data, &n, NULL);
}

int
mts_dane_tlsa_parse(const char *text, size_t len, struct mts_dane_tlsa *out,
                    struct mts_diag *diag, struct mts_err *err)
{
	struct parse ps = {{NULL, NULL, NULL, 1, false, false, false},
	                   diag,
	                   err};
	struct mts_dane_tlsa t = {0, 0, 0, 0, NULL};
	uint8_t v[3] = {0, 0, 0};
	unsigned line = 1;

	if (out == NULL || (text == NULL && len != 0))
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "no record");
	if (text == NULL)
		text = ""; /* NULL + 0 is undefined in C */
	ps.sc.p = ps.sc.bol = text;
	ps.sc.end = text + len;
	if (skip_rr_prefix(&ps) == -1 || parse_fields(&ps, v, &line) == -1)
		return -1;
	t.usage = v[F_USAGE];
	t.selector = v[F_SELECTOR];
	t.mtype = v[F_MTYPE];
	if (parse_data(&ps, &t) == -1) {
		free(t.data);
		return -1;
	}
	lint_at(&t, diag, line);
	*out = t;
	return 0;
}

void
mts_dane_tlsa_reset(struct mts_dane_tlsa *tlsa)
{
	if (tlsa == NULL)
		return;
	free(tlsa->data);
	memset(tlsa, 0, sizeof(*tlsa));
}

/* "U S M HEX" with upper-case hex, as RFC 8460 §4.5 reports want it. */
char *
mts_dane_tlsa_format(const struct mts_dane_tlsa *tlsa)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, n, size;
	char *s;

	if (tlsa == NULL || (tlsa->data == NULL && tlsa->data_len != 0) ||
	    tlsa->data_len > (SIZE_MAX - 16) / 2)
		return NULL;
	size = sizeof("255 255 255 ") + 2 * tlsa->data_len;
	if ((s = malloc(size)) == NULL)
		return NULL;
	n = (size_t)snprintf(s, size, "%u %u %u", tlsa->usage, tlsa->selector,
	                     tlsa->mtype);
	if (tlsa->data_len != 0)
		s[n++] = ' ';
	for (i = 0; i < tlsa->data_len; i++) {
		s[n++] = hex[tlsa->data[i] >> 4];
		s[n++] = hex[tlsa->data[i] & 0x0f];
	}
	s[n] = '\0';
	return s;
}

/* ---- matching (RFC 6698 §2.1.2, §2.1.3, App. B.1) ---- */

/*
 * Hashes (or copies, for full data) `in` per the matching type into a
 * new buffer.  With valid arguments EVP_Digest() fails only when
 * OpenSSL itself cannot allocate or has no provider for SHA-2; both are
 * reported as MTS_ERR_NOMEM, the nearest code.
 */
static enum mts_errcode
assoc_digest(uint8_t mtype, const uint8_t *in, size_t inlen, uint8_t **out,
             size_t *outlen)
{
	const EVP_MD *md =
	    mtype == MTS_TLSA_MTYPE_SHA512 ? EVP_sha512() : EVP_sha256();
	size_t n = mtype == MTS_TLSA_MTYPE_FULL ? inlen : digest_len(mtype);
	unsigned int mdlen;
	uint8_t *buf;

	if ((buf = malloc(n != 0 ? n : 1)) == NULL)
		return MTS_ERR_NOMEM;
	if (mtype == MTS_TLSA_MTYPE_FULL) {
		memcpy(buf, in, n);
	} else if (EVP_Digest(in, inlen, buf, &mdlen, md, NULL) != 1 ||
	           mdlen != n) {
		free(buf);
		return MTS_ERR_NOMEM;
	}
	*out = buf;
	*outlen = n;
	return MTS_OK;
}

/*
 * The association data of a DER certificate for a selector and matching
 * type: selector 0 takes the certificate as given, selector 1 its
 * SubjectPublicKeyInfo re-encoded in DER (RFC 6698 §2.1.2).  The whole
 * buffer must be one certificate: trailing bytes are not ours to hash.
 */
static enum mts_errcode
assoc_data(const uint8_t *der, size_t der_len, uint8_t selector, uint8_t mtype,
           uint8_t **out, size_t *outlen)
{
	const unsigned char *p = der;
	unsigned char *spki = NULL;
	X509 *x = NULL;
	enum mts_errcode rc = MTS_ERR_SYNTAX;
	int n;

	if (der == NULL || der_len == 0 || der_len > LONG_MAX)
		return MTS_ERR_SYNTAX;
	ERR_set_mark();
	if ((x = d2i_X509(NULL, &p, (long)der_len)) == NULL ||
	    p != der + der_len)
		goto fail;
	if (selector == MTS_TLSA_SELECTOR_CERT) {
		rc = assoc_digest(mtype, der, der_len, out, outlen);
	} else {
		n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
		if (n <= 0)
			goto fail;
		rc = assoc_digest(mtype, spki, (size_t)n, out, outlen);
	}
fail:
	OPENSSL_free(spki);
	X509_free(x);
	ERR_pop_to_mark();
	return rc;
}

/*
 * The usage is the caller's business (which chain element to offer);
 * the selector, matching type and data must be usable, with every
 * matching type enabled: local digest policy is mts_dane_tlsa_usable()'s.
 * The digest is compared in constant time, out of habit more than need.
 */
bool
mts_dane_tlsa_match_cert(const struct mts_dane_tlsa *tlsa, const uint8_t *der,
                         size_t der_len)
{
	uint8_t *want;
	size_t len;
	bool match;

	if (tlsa == NULL || assoc_reason(tlsa, 0) != NULL)
		return false;
	if (assoc_data(der, der_len, tlsa->selector, tlsa->mtype, &want,
	               &len) != MTS_OK)
		return false;
	match =
	    len == tlsa->data_len && CRYPTO_memcmp(want, tlsa->data, len) == 0;
	free(want);
	return match;
}

int
mts_dane_tlsa_from_cert(const uint8_t *der, size_t der_len, uint8_t usage,
                        uint8_t selector, uint8_t mtype,
                        struct mts_dane_tlsa *out, struct mts_err *err)
{
	enum mts_errcode rc;
	uint8_t *data;
	size_t len;

	if (out == NULL || usage > MTS_TLSA_USAGE_DANE_EE ||
	    selector > MTS_TLSA_SELECTOR_SPKI || mtype > MTS_TLSA_MTYPE_SHA512)
		return mts_err_set(
		    err, MTS_ERR_ARG, 0, 0,
		    "usage, selector or matching type not supported");
	rc = assoc_data(der, der_len, selector, mtype, &data, &len);
	if (rc != MTS_OK)
		return mts_err_set(err, rc, 0, 0,
		                   rc == MTS_ERR_SYNTAX ?
		                       "not a DER certificate" :
		                       NULL);
	return tlsa_take(out, usage, selector, mtype, data, len, err);
}

int
mts_dane_tlsa_from_spki(const uint8_t *spki, size_t spki_len, uint8_t usage,
                        uint8_t mtype, struct mts_dane_tlsa *out,
                        struct mts_err *err)
{
	const unsigned char *p = spki;
	enum mts_errcode rc;
	EVP_PKEY *pkey;
	uint8_t *data;
	size_t len;

	if (out == NULL || spki == NULL || usage > MTS_TLSA_USAGE_DANE_EE ||
	    mtype > MTS_TLSA_MTYPE_SHA512 || spki_len > LONG_MAX)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "usage or matching type not supported");
	/* Only a whole, decodable SubjectPublicKeyInfo is hashed. */
	ERR_set_mark();
	pkey = d2i_PUBKEY(NULL, &p, (long)spki_len);
	ERR_pop_to_mark();
	if (pkey == NULL || p != spki + spki_len) {
		EVP_PKEY_free(pkey);
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
		                   "not a DER SubjectPublicKeyInfo");
	}
	EVP_PKEY_free(pkey);
	if ((rc = assoc_digest(mtype, spki, spki_len, &data, &len)) != MTS_OK)
		return mts_err_set(err, rc, 0, 0, NULL);
	return tlsa_take(out, usage, MTS_TLSA_SELECTOR_SPKI, mtype, data, len,
	                 err);
}

/* ---- owner name (RFC 6698 §3, RFC 7672 §2.2.3) ---- */

/*
 * "_<port>._tcp.<host>": the port in decimal without leading zeros, the
 * real port even when a route points elsewhere than 25 (RFC 7672
 * §2.2.3), and the host as an A-label: the qname is a DNS name, never a
 * U-label (RFC 7672 §2.2.3 and RFC 5890 §2.3.2.1).
 */
int
mts_dane_tlsa_owner(const char *host, unsigned port, char *buf, size_t size,
                    struct mts_err *err)
{
	struct mts_err derr;
	char portstr[8];
	size_t hlen, plen, i, n;

	if (host == NULL || buf == NULL)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "no host or buffer");
	if (port == 0 || port > 65535)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "port not in 1..65535");
	hlen = strlen(host);
	if (mts_dname_check(host, hlen, MTS_DNAME_ALLOW_TRAILING_DOT, &derr) ==
	    -1)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, derr.msg);
	if (host[hlen - 1] == '.')
		hlen--;
	plen = (size_t)snprintf(portstr, sizeof(portstr), "%u", port);
	/* RFC 1035 §2.3.4: 255 octets on the wire, 253 in presentation. */
	if (1 + plen + 6 + hlen > MTS_DNAME_MAX)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "owner name over 253 octets");
	if (1 + plen + 6 + hlen + 1 > size)
		return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
		                   "buffer too small for the owner name");
	n = 0;
	buf[n++] = '_';
	memcpy(buf + n, portstr, plen);
	n += plen;
	memcpy(buf + n, "._tcp.", 6);
	n += 6;
	for (i = 0; i < hlen; i++)
		buf[n++] = (char)mts_lower((unsigned char)host[i]);
	buf[n] = '\0';
	return 0;
}
