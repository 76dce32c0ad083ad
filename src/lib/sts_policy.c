/* SPDX-License-Identifier: ISC */
/*
 * The MTA-STS policy body (RFC 8461 §3.2): parser, linter and formatter,
 * and the per-MX verdict a sender draws from a policy (§4, §5, §8.4).
 *
 * The body is a list of "key: value" lines:
 *
 *     sts-policy-record = sts-policy-field *WSP
 *                         *(sts-policy-term sts-policy-field *WSP)
 *                         [sts-policy-term]
 *     sts-policy-field-delim = ":" *WSP
 *     sts-policy-term   = LF / CRLF
 *
 * with the fields version (%s"STSv1"), mode (%s"testing" / %s"enforce" /
 * %s"none"), mx (["*."] Domain), max_age (1*10DIGIT, at most 31557600)
 * and extensions (a name of 1-32 [A-Za-z0-9_.-] starting with a letter or
 * digit; a value of printable UTF-8 without CTLs or edge spaces).  Keys
 * are case-sensitive; version, mode and max_age are required, mx too
 * unless the mode is none; of a repeated non-mx field the first counts.
 *
 * The parser is a line lexer over (buf, len) followed by one handler per
 * known key (a table), so every line is judged by its own rule and gets a
 * finding with its 1-based line number.  Where the RFC is ambiguous we
 * take the positions of docs/conformance.md (checklist §24):
 *
 *   A1  LF and CRLF may be mixed (info); a bare CR is an error.
 *   A5  blank lines inside the body, a BOM and leading white space are
 *       errors; blank lines at the very end are tolerated with a warning
 *       (Windows editors add them; rejecting would mean "no policy").
 *   A6  a line whose key is version, mode, mx or max_age must match that
 *       field's rule, else the policy is invalid; "first wins" applies
 *       only among well-formed duplicates.
 *   A7  max_age 31557601..9999999999 is accepted and clamped to 31557600
 *       with a warning: rejecting it would downgrade a domain that wants
 *       MTA-STS to none.  Parsed in 64 bits: 10 digits overflow int32.
 *
 * Past the grammar the parser lints: advice on mode and max_age, single-
 * label, wildcard, duplicate and address-like mx values, unknown fields.
 * Those findings never make a policy invalid.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/dname.h>
#include <mtasts/sts.h>

#include "internal.h"
#include "utf8.h"

#define MAX_AGE_DIGITS 10 /* sts-policy-max-age-value = 1*10(DIGIT) */
#define EXT_NAME_MAX   32 /* sts-policy-ext-name: 1 + *31 characters */
#define DAY            86400u
#define WEEK           (7u * DAY)
#define QUOTE_SIZE     100 /* room for a quoted input in a message */

static const char *const mode_names[] = {
    [MTS_STS_MODE_NONE] = "none",
    [MTS_STS_MODE_TESTING] = "testing",
    [MTS_STS_MODE_ENFORCE] = "enforce",
};

/* ---- the parse state ---- */

enum field_state {
	FIELD_ABSENT = 0, /* no line with this key */
	FIELD_BAD,        /* only malformed lines so far */
	FIELD_OK          /* a well-formed line; `line` is the first */
};

struct field {
	enum field_state state;
	unsigned line;
};

struct mx_item {
	char *pattern; /* owned until moved into the policy */
	unsigned line;
	bool duplicate;
};

enum term {
	TERM_NONE, /* the last line, without a line end */
	TERM_LF,
	TERM_CRLF,
	TERM_CR /* a bare CR: not a sts-policy-term */
};

struct line {
	const char *s; /* the line without its terminator */
	size_t len;
	unsigned no; /* 1-based */
	enum term term;
};

struct lexer {
	const char *buf;
	size_t len;
	size_t pos;
	unsigned no;
};

struct parser {
	struct mts_diag *diag; /* may be NULL */
	unsigned errors;       /* error findings, counted even without diag */
	enum mts_diag_id first_error;
	unsigned err_line;
	unsigned err_column;
	bool nomem;

	enum term first_term; /* the first LF or CRLF seen, for A1 */
	bool mixed_reported;
	unsigned blank_line; /* first of a run of blank lines, 0 if none */
	unsigned content;    /* non-blank lines */

	struct field version;
	struct field mode;
	struct field max_age;
	unsigned mx_lines; /* mx lines, malformed ones included */
	enum mts_sts_mode mode_value;
	uint32_t max_age_value;
	struct mx_item *mx;
	size_t mx_count;
	size_t mx_cap;
};

/* ---- findings ---- */

/* The error code a failed parse returns when `id` is its first error. */
static enum mts_errcode
errcode_of(enum mts_diag_id id)
{
	switch (id) {
	case MTS_D_POLICY_TOO_LARGE:
		return MTS_ERR_TOOBIG;
	case MTS_D_POLICY_VERSION_MISSING:
	case MTS_D_POLICY_MODE_MISSING:
	case MTS_D_POLICY_MAX_AGE_MISSING:
	case MTS_D_POLICY_MX_MISSING:
		return MTS_ERR_INVALID; /* grammatical, but incomplete */
	default:
		return MTS_ERR_SYNTAX;
	}
}

static void report(struct parser *p, enum mts_diag_id id, unsigned line,
                   unsigned column, const char *fmt, ...) MTS_PRINTF(5, 6);

/*
 * Adds a finding and remembers the first error for *err.  The message is
 * formatted only when someone will read it.
 */
static void
report(struct parser *p, enum mts_diag_id id, unsigned line, unsigned column,
       const char *fmt, ...)
{
	char msg[MTS_FINDING_MSG_SIZE];
	va_list ap;

	if (mts_diag_severity(id) == MTS_SEV_ERROR && p->errors++ == 0) {
		p->first_error = id;
		p->err_line = line;
		p->err_column = column;
	}
	if (p->diag == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mts_diag_add(p->diag, id, line, "%s", msg);
}

/* The letter of the C escape that stands for c in a message, or NUL. */
static char
escape_letter(unsigned char c)
{
	switch (c) {
	case '"':
		return '"';
	case '\\':
		return '\\';
	case '\t':
		return 't';
	case '\r':
		return 'r';
	case '\n':
		return 'n';
	default:
		return '\0';
	}
}

/*
 * Renders the character at s[0..n) for a message into out (at most 4
 * bytes, not terminated) and sets *step to the input it used.  Printable
 * ASCII and UTF-8 from U+00A0 up are kept; quotes, backslashes, controls
 * (C1 included: some terminals obey them) and bad bytes become escapes,
 * so a finding is safe to print and always valid UTF-8.
 */
static size_t
render_char(char *out, const unsigned char *s, size_t n, size_t *step)
{
	size_t len;

	*step = 1;
	if ((out[1] = escape_letter(s[0])) != '\0') {
		out[0] = '\\';
		return 2;
	}
	if (s[0] >= 0x20 && s[0] < 0x7F) {
		out[0] = (char)s[0];
		return 1;
	}
	if (s[0] >= 0x80 && (len = mts_utf8_len(s, n)) != 0 &&
	    !(s[0] == 0xC2 && s[1] < 0xA0)) {
		memcpy(out, s, len);
		*step = len;
		return len;
	}
	snprintf(out, 5, "\\x%02X", s[0]);
	return 4;
}

/* Writes s[0..n) as message text into buf (QUOTE_SIZE), cut with "...". */
static const char *
quote(char *buf, const char *s, size_t n)
{
	size_t i = 0, o = 0, len, step;
	char tmp[5];

	while (i < n) {
		len = render_char(tmp, (const unsigned char *)s + i, n - i,
		                  &step);
		if (o + len + sizeof("...") > QUOTE_SIZE) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, len);
		o += len;
		i += step;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- the lexer ---- */

/*
 * Cuts the next line.  LF and CRLF end a line (sts-policy-term); a CR
 * not followed by LF ends it too, as TERM_CR, so that a body with old
 * Mac line ends yields one bare-CR error a line rather than one long
 * line that fails every field rule (checklist STS-POL-3 T4).
 */
static bool
lex_line(struct lexer *lx, struct line *ln)
{
	size_t i;

	if (lx->pos >= lx->len)
		return false;
	ln->s = lx->buf + lx->pos;
	ln->no = ++lx->no;
	for (i = lx->pos; i < lx->len; i++)
		if (lx->buf[i] == '\n' || lx->buf[i] == '\r')
			break;
	ln->len = i - lx->pos;
	if (i == lx->len) {
		ln->term = TERM_NONE;
		lx->pos = i;
	} else if (lx->buf[i] == '\n') {
		ln->term = TERM_LF;
		lx->pos = i + 1;
	} else if (i + 1 < lx->len && lx->buf[i + 1] == '\n') {
		ln->term = TERM_CRLF;
		lx->pos = i + 2;
	} else {
		ln->term = TERM_CR;
		lx->pos = i + 1;
	}
	return true;
}

/*
 * Checklist STS-POL-3, §24 A1: the ABNF allows LF and CRLF, the prose
 * says "CRLF-separated" (erratum 6253); we take both, even mixed, and
 * note the mix.  A bare CR is neither.
 */
static void
check_term(struct parser *p, const struct line *ln)
{
	if (ln->term == TERM_CR) {
		report(p, MTS_D_POLICY_BARE_CR, ln->no, (unsigned)ln->len + 1,
		       "line %u ends with a bare CR", ln->no);
		return;
	}
	if (ln->term == TERM_NONE)
		return;
	if (p->first_term == TERM_NONE) {
		p->first_term = ln->term;
	} else if (ln->term != p->first_term && !p->mixed_reported) {
		p->mixed_reported = true;
		report(p, MTS_D_POLICY_MIXED_LINE_ENDS, ln->no, 0,
		       "line %u ends with %s, earlier lines with %s", ln->no,
		       ln->term == TERM_LF ? "LF" : "CRLF",
		       p->first_term == TERM_LF ? "LF" : "CRLF");
	}
}

/* ---- fields ---- */

/*
 * Records a well-formed occurrence of a non-repeated field.  Returns true
 * for the first, whose value the caller keeps; later ones are ignored
 * with a warning (§3.2: "all entries except for the first SHALL be
 * ignored"; checklist STS-POL-12).
 */
static bool
field_seen(struct parser *p, struct field *f, const char *key, unsigned no)
{
	if (f->state != FIELD_OK) {
		f->state = FIELD_OK;
		f->line = no;
		return true;
	}
	report(p, MTS_D_POLICY_DUPLICATE_KEY, no, 1,
	       "%s repeated; the value on line %u is used", key, f->line);
	return false;
}

/* A malformed line for a known key (checklist §24 A6: strict). */
static void
field_bad(struct field *f)
{
	if (f->state == FIELD_ABSENT)
		f->state = FIELD_BAD;
}

/* version = %s"STSv1" (checklist STS-POL-8; case-sensitive). */
static void
parse_version(struct parser *p, const char *v, size_t n, unsigned no)
{
	char q[QUOTE_SIZE];

	if (n == 5 && memcmp(v, "STSv1", 5) == 0) {
		field_seen(p, &p->version, "version", no);
		return;
	}
	field_bad(&p->version);
	report(p, MTS_D_POLICY_VERSION_INVALID, no, 0,
	       "version \"%s\" is not STSv1", quote(q, v, n));
}

/* mode = %s"testing" / %s"enforce" / %s"none" (checklist STS-POL-9). */
static void
parse_mode(struct parser *p, const char *v, size_t n, unsigned no)
{
	char q[QUOTE_SIZE];
	size_t i;

	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strlen(mode_names[i]) != n ||
		    memcmp(v, mode_names[i], n) != 0)
			continue;
		if (field_seen(p, &p->mode, "mode", no))
			p->mode_value = (enum mts_sts_mode)i;
		return;
	}
	field_bad(&p->mode);
	report(p, MTS_D_POLICY_MODE_INVALID, no, 0,
	       "mode \"%s\" is not testing, enforce or none", quote(q, v, n));
}

/*
 * max_age = 1*10(DIGIT), at most 31557600 (checklist STS-POL-16).  Ten
 * digits reach 9999999999, so the value is read in 64 bits; above the
 * maximum it is clamped (§24 A7).  Leading zeros are allowed by the ABNF.
 */
static void
parse_max_age(struct parser *p, const char *v, size_t n, unsigned no)
{
	char q[QUOTE_SIZE];
	uint64_t value = 0;
	size_t i;

	for (i = 0; i < n && mts_is_digit(v[i]); i++)
		value = value * 10 + (uint64_t)(v[i] - '0');
	if (n == 0 || i < n || n > MAX_AGE_DIGITS) {
		field_bad(&p->max_age);
		report(p, MTS_D_POLICY_MAX_AGE_SYNTAX, no, 0,
		       "max_age \"%s\" is not 1 to 10 digits", quote(q, v, n));
		return;
	}
	if (value > MTS_STS_MAX_AGE_MAX) {
		report(p, MTS_D_POLICY_MAX_AGE_RANGE, no, 0,
		       "max_age %" PRIu64 " is taken as %u", value,
		       MTS_STS_MAX_AGE_MAX);
		value = MTS_STS_MAX_AGE_MAX;
	}
	if (field_seen(p, &p->max_age, "max_age", no))
		p->max_age_value = (uint32_t)value;
}

/* True when v[0..n) holds more than one name, split by commas or WSP. */
static bool
is_mx_list(const char *v, size_t n)
{
	unsigned names = 0;
	bool in_name = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] == ',' || mts_is_wsp(v[i]))
			in_name = false;
		else if (!in_name) {
			in_name = true;
			names++;
		}
	}
	return names > 1;
}

/*
 * Checks an mx value; returns a copy the caller owns, or NULL after
 * reporting why it is malformed (or on allocation failure, p->nomem).
 * A U-label (checklist STS-POL-15) and a list of names (STS-POL-13) get
 * their own findings; the rest is `["*."] Domain` with DNS limits
 * (STS-POL-14, STS-POL-21).
 */
static char *
mx_value(struct parser *p, const char *v, size_t n, unsigned no)
{
	char q[QUOTE_SIZE];
	struct mts_err e;
	char *pattern;
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] >= 0x80)
			break;
	if (i < n) {
		report(p, MTS_D_POLICY_MX_ULABEL, no, 0,
		       "mx \"%s\" is not ASCII; give the A-label (xn--...)",
		       quote(q, v, n));
		return NULL;
	}
	if (is_mx_list(v, n)) {
		report(p, MTS_D_POLICY_MX_LIST, no, 0,
		       "mx \"%s\" names several hosts", quote(q, v, n));
		return NULL;
	}
	if ((pattern = mts_strndup(v, n)) == NULL) {
		p->nomem = true;
		return NULL;
	}
	if (mts_sts_match_pattern_check(pattern, &e) == -1) {
		report(p, MTS_D_POLICY_MX_INVALID, no, 0, "mx \"%s\": %s",
		       quote(q, v, n), e.msg);
		free(pattern);
		return NULL;
	}
	return pattern;
}

/* Lint of one well-formed pattern (never an error). */
static void
lint_mx(struct parser *p, const char *pattern, unsigned no)
{
	bool wildcard = pattern[0] == '*';
	const char *domain = wildcard ? pattern + 2 : pattern;

	if (mts_dname_is_address(domain, strlen(domain)))
		report(p, MTS_D_POLICY_MX_ADDRESS, no, 0,
		       "mx \"%s\" looks like an IP address", pattern);
	else if (!wildcard && strchr(pattern, '.') == NULL)
		report(p, MTS_D_POLICY_MX_SINGLE_LABEL, no, 0,
		       "mx \"%s\" is a single label", pattern);
	if (wildcard)
		report(p, MTS_D_POLICY_MX_WILDCARD, no, 0,
		       "mx \"%s\" covers any one label below %s", pattern,
		       domain);
}

/* mx = ["*."] Domain; repeated, one name a line (§3.2). */
static void
parse_mx(struct parser *p, const char *v, size_t n, unsigned no)
{
	struct mx_item *items;
	char *pattern;
	size_t cap;

	p->mx_lines++;
	if ((pattern = mx_value(p, v, n, no)) == NULL)
		return;
	if (p->mx_count == p->mx_cap) {
		cap = p->mx_cap == 0 ? 4 : p->mx_cap * 2;
		if ((items = realloc(p->mx, cap * sizeof(*items))) == NULL) {
			free(pattern);
			p->nomem = true;
			return;
		}
		p->mx = items;
		p->mx_cap = cap;
	}
	p->mx[p->mx_count].pattern = pattern;
	p->mx[p->mx_count].line = no;
	p->mx[p->mx_count].duplicate = false;
	p->mx_count++;
	lint_mx(p, pattern, no);
}

/* sts-policy-ext-name: ALPHA/DIGIT then *31(ALPHA / DIGIT / _ - .). */
static const char *
ext_name_error(const char *k, size_t n)
{
	size_t i;

	if (n > EXT_NAME_MAX)
		return "is longer than 32 characters";
	if (!mts_is_alnum(k[0]))
		return "does not begin with a letter or digit";
	for (i = 1; i < n; i++)
		if (!mts_is_alnum(k[i]) && k[i] != '_' && k[i] != '-' &&
		    k[i] != '.')
			return "holds a character other than letters, digits, "
			       "_ - .";
	return NULL;
}

/*
 * sts-policy-ext-value: sts-policy-vchar [*(SP / vchar) vchar], vchar =
 * %x21-7E / UTF8-2 / UTF8-3 / UTF8-4.  The edges were trimmed as WSP by
 * the caller, so what is left to check is emptiness, CTLs (HTAB among
 * them) and well-formed UTF-8 (RFC 3629 §4; checklist STS-POL-17).
 */
static const char *
ext_value_error(const char *v, size_t n)
{
	const unsigned char *u = (const unsigned char *)v;
	size_t i = 0, len;

	if (n == 0)
		return "an empty value";
	while (i < n) {
		if (u[i] >= 0x20 && u[i] < 0x7F) {
			i++;
			continue;
		}
		if (u[i] < 0x80)
			return "a control character (tabs included) in the "
			       "value";
		if ((len = mts_utf8_len(u + i, n - i)) == 0)
			return "a value that is not well-formed UTF-8";
		i += len;
	}
	return NULL;
}

/*
 * An extension field (§3.2: "unknown fields SHALL be ignored", but only
 * once they match the grammar; checklist STS-POL-17).  `known_case` is
 * the known key this one equals but for case (STS-POL-18), or NULL.
 */
static void
parse_extension(struct parser *p, const char *k, size_t kn, const char *v,
                size_t vn, unsigned no, const char *known_case)
{
	char qk[QUOTE_SIZE], qv[QUOTE_SIZE];
	const char *why;

	quote(qk, k, kn);
	if (known_case != NULL)
		report(p, MTS_D_POLICY_KEY_CASE, no, 1,
		       "\"%s\" is not \"%s\": keys are case-sensitive", qk,
		       known_case);
	if ((why = ext_name_error(k, kn)) != NULL) {
		report(p, MTS_D_POLICY_EXTENSION_SYNTAX, no, 1,
		       "field name \"%s\" %s", qk, why);
	} else if ((why = ext_value_error(v, vn)) != NULL) {
		report(p, MTS_D_POLICY_EXTENSION_SYNTAX, no, 0,
		       "field \"%s\" has %s: \"%s\"", qk, why,
		       quote(qv, v, vn));
	} else if (known_case == NULL) {
		report(p, MTS_D_POLICY_EXTENSION, no, 1,
		       "unknown field \"%s\" ignored", qk);
	}
}

static const struct known_field {
	const char *key;
	void (*parse)(struct parser *, const char *, size_t, unsigned);
} known_fields[] = {
    {"version", parse_version},
    {"mode", parse_mode},
    {"mx", parse_mx},
    {"max_age", parse_max_age},
};

/* Equal ignoring ASCII case: k[0..n) and the C string s. */
static bool
key_equal_nocase(const char *k, size_t n, const char *s)
{
	size_t i;

	if (strlen(s) != n)
		return false;
	for (i = 0; i < n; i++)
		if (mts_lower((unsigned char)k[i]) != s[i])
			return false;
	return true;
}

/* Hands a split line to its key's handler (keys are %s: exact case). */
static void
dispatch(struct parser *p, const char *k, size_t kn, const char *v, size_t vn,
         unsigned no)
{
	const char *known_case = NULL;
	size_t i, count = sizeof(known_fields) / sizeof(known_fields[0]);

	for (i = 0; i < count; i++) {
		if (strlen(known_fields[i].key) == kn &&
		    memcmp(k, known_fields[i].key, kn) == 0) {
			known_fields[i].parse(p, v, vn, no);
			return;
		}
		if (key_equal_nocase(k, kn, known_fields[i].key))
			known_case = known_fields[i].key;
	}
	parse_extension(p, k, kn, v, vn, no, known_case);
}

/*
 * Splits "key" ":" *WSP value *WSP.  The key runs to the colon and holds
 * no WSP (sts-policy-field-delim follows the key at once, STS-POL-6); the
 * value loses the WSP around it, which the grammar puts outside the value
 * (the delimiter's *WSP before, sts-policy-field *WSP after; STS-POL-7).
 *
 * "mode : enforce" is an error, but the field is still handed on, so
 * that the report does not go on to claim that the mode is missing.
 */
static void
parse_field(struct parser *p, const char *s, size_t len, unsigned no)
{
	char q[QUOTE_SIZE];
	size_t k, c, v, e;

	for (k = 0; k < len && s[k] != ':' && !mts_is_wsp(s[k]); k++)
		continue;
	for (c = k; c < len && mts_is_wsp(s[c]); c++)
		continue;
	if (k == 0 || c == len || s[c] != ':') {
		report(p, MTS_D_POLICY_LINE_SYNTAX, no, (unsigned)k + 1,
		       "%s: \"%s\"",
		       k == 0 ? "no key before the colon" :
		                "not \"key: value\"",
		       quote(q, s, len));
		return;
	}
	if (c != k)
		report(p, MTS_D_POLICY_LINE_SYNTAX, no, (unsigned)k + 1,
		       "white space before the colon: \"%s\"",
		       quote(q, s, len));
	for (v = c + 1; v < len && mts_is_wsp(s[v]); v++)
		continue;
	for (e = len; e > v && mts_is_wsp(s[e - 1]); e--)
		continue;
	dispatch(p, s, k, s + v, e - v, no);
}

/* True for a line of nothing but WSP: a blank line for §24 A5. */
static bool
is_blank(const struct line *ln)
{
	size_t i;

	for (i = 0; i < ln->len; i++)
		if (!mts_is_wsp(ln->s[i]))
			return false;
	return true;
}

/*
 * A non-blank line without NUL.  Leading white space is an error
 * (checklist STS-POL-5 T1), but the field after it is still read, so that
 * one indented line does not also turn into a "missing field".
 */
static void
parse_content(struct parser *p, const struct line *ln)
{
	size_t i = 0;

	if (mts_is_wsp(ln->s[0])) {
		report(p, MTS_D_POLICY_LEADING_SPACE, ln->no, 1,
		       "line %u begins with white space", ln->no);
		while (mts_is_wsp(ln->s[i]))
			i++;
	}
	parse_field(p, ln->s + i, ln->len - i, ln->no);
}

/*
 * One line.  Blank lines are held back until the next field shows they
 * were inside the body (an error) or the end shows they trailed it (a
 * warning), checklist STS-POL-4 and §24 A5.  A line with a NUL is not
 * parsed further (STS-POL-19 T2).
 */
static void
parse_line(struct parser *p, const struct line *ln)
{
	const char *nul;

	if (is_blank(ln)) {
		if (p->blank_line == 0)
			p->blank_line = ln->no;
		return;
	}
	if (p->blank_line != 0) {
		report(p, MTS_D_POLICY_BLANK_LINE, p->blank_line, 1,
		       "line %u is empty", p->blank_line);
		p->blank_line = 0;
	}
	p->content++;
	if ((nul = memchr(ln->s, '\0', ln->len)) != NULL)
		report(p, MTS_D_POLICY_NUL, ln->no, (unsigned)(nul - ln->s) + 1,
		       "line %u holds a NUL byte", ln->no);
	else
		parse_content(p, ln);
}

/* Runs the lexer over the whole body. */
static void
parse_lines(struct parser *p, const char *body, size_t len)
{
	struct lexer lx = {body, len, 0, 0};
	struct line ln;

	/* A UTF-8 BOM is outside the grammar (STS-POL-5 T2, §24 A5). */
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
		report(p, MTS_D_POLICY_BOM, 1, 1,
		       "the body begins with the bytes EF BB BF");
		lx.pos = 3;
	}
	while (!p->nomem && lex_line(&lx, &ln)) {
		parse_line(p, &ln);
		check_term(p, &ln);
	}
	if (p->blank_line != 0)
		report(p, MTS_D_POLICY_TRAILING_BLANK_LINES, p->blank_line, 0,
		       "empty lines from line %u to the end", p->blank_line);
}

/* ---- whole-policy checks ---- */

/* Required fields (§3.2 ABNF comments; checklist STS-POL-10, -11). */
static void
check_required(struct parser *p)
{
	if (p->content == 0) {
		report(p, MTS_D_POLICY_EMPTY, 0, 0, "the body has no fields");
		return;
	}
	if (p->version.state == FIELD_ABSENT)
		report(p, MTS_D_POLICY_VERSION_MISSING, 0, 0,
		       "no \"version: STSv1\" line");
	if (p->mode.state == FIELD_ABSENT)
		report(p, MTS_D_POLICY_MODE_MISSING, 0, 0, "no mode line");
	if (p->max_age.state == FIELD_ABSENT)
		report(p, MTS_D_POLICY_MAX_AGE_MISSING, 0, 0,
		       "no max_age line");
	if (p->mode.state == FIELD_OK && p->mode_value != MTS_STS_MODE_NONE &&
	    p->mx_lines == 0)
		report(p, MTS_D_POLICY_MX_MISSING, p->mode.line, 0,
		       "mode %s needs at least one mx line",
		       mode_names[p->mode_value]);
}

/* Advice on mode and max_age: lint only (RFC 8461 §5, §10.2). */
static void
advise_mode(struct parser *p)
{
	uint32_t age = p->max_age_value;
	unsigned line = p->max_age.line;

	if (p->mode.state != FIELD_OK)
		return;
	if (p->mode_value == MTS_STS_MODE_TESTING)
		report(p, MTS_D_POLICY_MODE_TESTING, p->mode.line, 0,
		       "mode testing");
	else if (p->mode_value == MTS_STS_MODE_NONE)
		report(p, MTS_D_POLICY_MODE_NONE, p->mode.line, 0, "mode none");
	if (p->mode_value == MTS_STS_MODE_NONE && p->mx_count != 0)
		report(p, MTS_D_POLICY_MX_IN_NONE, p->mx[0].line, 0,
		       "%zu mx line(s) in mode none", p->mx_count);
	if (p->max_age.state != FIELD_OK)
		return;
	if (p->mode_value == MTS_STS_MODE_ENFORCE && age < DAY)
		report(p, MTS_D_POLICY_MAX_AGE_SHORT, line, 0,
		       "max_age %" PRIu32 " in mode enforce", age);
	else if ((p->mode_value == MTS_STS_MODE_TESTING && age > DAY) ||
	         (p->mode_value == MTS_STS_MODE_ENFORCE && age < WEEK))
		report(p, MTS_D_POLICY_MAX_AGE_ADVICE, line, 0,
		       "max_age %" PRIu32 " in mode %s", age,
		       mode_names[p->mode_value]);
}

/* Orders mx items by pattern ignoring case, then by line. */
static int
mx_cmp(const void *a, const void *b)
{
	const struct mx_item *x = *(struct mx_item *const *)a;
	const struct mx_item *y = *(struct mx_item *const *)b;
	const unsigned char *s = (const unsigned char *)x->pattern;
	const unsigned char *t = (const unsigned char *)y->pattern;
	int d;

	for (;; s++, t++) {
		if ((d = mts_lower(*s) - mts_lower(*t)) != 0)
			return d;
		if (*s == '\0')
			break;
	}
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Repeated mx patterns (compared as DNS names), found by sorting so that
 * a 64 KiB body of mx lines costs n log n, and reported in line order.
 */
static void
advise_duplicates(struct parser *p)
{
	struct mx_item **v;
	size_t i;

	if (p->mx_count < 2)
		return;
	if ((v = calloc(p->mx_count, sizeof(*v))) == NULL) {
		p->nomem = true;
		return;
	}
	for (i = 0; i < p->mx_count; i++)
		v[i] = &p->mx[i];
	qsort(v, p->mx_count, sizeof(*v), mx_cmp);
	for (i = 1; i < p->mx_count; i++)
		if (mts_dname_equal(v[i - 1]->pattern,
		                    strlen(v[i - 1]->pattern), v[i]->pattern,
		                    strlen(v[i]->pattern)))
			v[i]->duplicate = true;
	free(v);
	for (i = 0; i < p->mx_count; i++)
		if (p->mx[i].duplicate)
			report(p, MTS_D_POLICY_MX_DUPLICATE, p->mx[i].line, 0,
			       "mx \"%s\" is listed before", p->mx[i].pattern);
}

static void
parser_free(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->mx_count; i++)
		free(p->mx[i].pattern);
	free(p->mx);
	p->mx = NULL;
	p->mx_count = 0;
}

/* Moves the parsed fields into *out; false when out of memory. */
static bool
build_policy(struct parser *p, struct mts_sts_policy *out)
{
	char **mx = NULL;
	size_t i;

	if (p->mx_count != 0 && (mx = calloc(p->mx_count, sizeof(*mx))) == NULL)
		return false;
	for (i = 0; i < p->mx_count; i++) {
		mx[i] = p->mx[i].pattern;
		p->mx[i].pattern = NULL;
	}
	out->mode = p->mode_value;
	out->max_age = p->max_age_value;
	out->mx_count = p->mx_count;
	out->mx = mx;
	return true;
}

/*
 * Contract in sts.h.  `out` may be NULL to validate (and lint) only.
 * Over MTS_STS_POLICY_MAX the body is not read at all (§3.3 suggests
 * 64 KiB; checklist STS-POL-20): no truncate-and-parse.
 */
int
mts_sts_policy_parse(const char *body, size_t len, struct mts_sts_policy *out,
                     struct mts_diag *diag, struct mts_err *err)
{
	struct parser p;

	memset(&p, 0, sizeof(p));
	p.diag = diag;
	if (body == NULL && len != 0)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "body is NULL");
	if (len > MTS_STS_POLICY_MAX) {
		report(&p, MTS_D_POLICY_TOO_LARGE, 0, 0,
		       "the body is %zu bytes, over %u", len,
		       (unsigned)MTS_STS_POLICY_MAX);
		return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
		                   mts_diag_rule_at(MTS_D_POLICY_TOO_LARGE)
		                       ->summary);
	}
	if (len != 0)
		parse_lines(&p, body, len);
	if (!p.nomem) {
		check_required(&p);
		advise_mode(&p);
		advise_duplicates(&p);
	}
	/* build_policy() writes *out only when it succeeds, and then the
	 * parse has succeeded: nothing below can fail. */
	if (!p.nomem && p.errors == 0 && out != NULL && !build_policy(&p, out))
		p.nomem = true;
	parser_free(&p);
	if (p.nomem)
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	if (p.errors != 0)
		return mts_err_set(err, errcode_of(p.first_error), p.err_line,
		                   p.err_column,
		                   mts_diag_rule_at(p.first_error)->summary);
	return 0;
}

void
mts_sts_policy_reset(struct mts_sts_policy *policy)
{
	size_t i;

	if (policy == NULL)
		return;
	for (i = 0; i < policy->mx_count; i++)
		free(policy->mx[i]);
	free(policy->mx);
	memset(policy, 0, sizeof(*policy));
}

/* ---- formatting ---- */

/*
 * Checks that the policy would parse back (format must round-trip) and
 * computes the size of its text, without the NUL.
 */
static int
format_size(const struct mts_sts_policy *policy, size_t *size,
            struct mts_err *err)
{
	size_t i, n;

	if (policy == NULL || (unsigned)policy->mode > MTS_STS_MODE_ENFORCE ||
	    policy->max_age > MTS_STS_MAX_AGE_MAX ||
	    (policy->mx_count != 0 && policy->mx == NULL))
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "not a policy");
	if (policy->mode != MTS_STS_MODE_NONE && policy->mx_count == 0)
		return mts_err_set(
		    err, MTS_ERR_ARG, 0, 0,
		    "mode testing or enforce needs an mx pattern");
	n = (size_t)snprintf(NULL, 0,
	                     "version: STSv1\r\nmode: %s\r\nmax_age: %" PRIu32
	                     "\r\n",
	                     mode_names[policy->mode], policy->max_age);
	for (i = 0; i < policy->mx_count; i++) {
		if (policy->mx[i] == NULL ||
		    mts_sts_match_pattern_check(policy->mx[i], NULL) == -1)
			return mts_err_set(err, MTS_ERR_ARG, 0, 0,
			                   "a malformed mx pattern");
		/* Each pattern is at most 255 bytes: no overflow here. */
		n += sizeof("mx: \r\n") - 1 + strlen(policy->mx[i]);
		if (n > MTS_STS_POLICY_MAX)
			return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
			                   "the policy would exceed 64 KiB");
	}
	*size = n;
	return 0;
}

char *
mts_sts_policy_format(const struct mts_sts_policy *policy, struct mts_err *err)
{
	size_t size = 0, off, i;
	char *buf;

	if (format_size(policy, &size, err) == -1)
		return NULL;
	if ((buf = malloc(size + 1)) == NULL) {
		mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
		return NULL;
	}
	off = (size_t)snprintf(buf, size + 1, "version: STSv1\r\nmode: %s\r\n",
	                       mode_names[policy->mode]);
	for (i = 0; i < policy->mx_count; i++)
		off += (size_t)snprintf(buf + off, size + 1 - off, "mx: %s\r\n",
		                        policy->mx[i]);
	snprintf(buf + off, size + 1 - off, "max_age: %" PRIu32 "\r\n",
	         policy->max_age);
	return buf;
}

const char *
mts_sts_mode_name(enum mts_sts_mode mode)
{
	if ((unsigned)mode > MTS_STS_MODE_ENFORCE)
		return "unknown";
	return mode_names[mode];
}

/* ---- applying a policy (§4, §5) ---- */

bool
mts_sts_policy_match(const struct mts_sts_policy *policy, const char *host)
{
	size_t i;

	if (policy == NULL || host == NULL)
		return false;
	/* §4: "at least one" pattern must match the MX host. */
	for (i = 0; i < policy->mx_count; i++)
		if (mts_sts_match(policy->mx[i], host))
			return true;
	return false;
}

/*
 * §5: in mode none the policy is withdrawn; in testing a host the policy
 * does not cover is still used but the failure is reported (§5, RFC 8460);
 * in enforce it is not used, and the sender goes on down the MX list as
 * if the host were unreachable (§8.4; checklist STS-MX-10).
 */
enum mts_sts_mx_verdict
mts_sts_policy_check_mx(const struct mts_sts_policy *policy, const char *host)
{
	if (policy == NULL || policy->mode == MTS_STS_MODE_NONE ||
	    mts_sts_policy_match(policy, host))
		return MTS_STS_MX_ALLOWED;
	if (policy->mode == MTS_STS_MODE_TESTING)
		return MTS_STS_MX_ALLOWED_REPORT;
	return MTS_STS_MX_REFUSED;
}
