/* SPDX-License-Identifier: ISC */
/*
 * The tokenizer shared by the _mta-sts TXT record (RFC 8461 §3.1) and the
 * _smtp._tls TXT record (RFC 8460 §3), the candidate filter and RRset
 * selection both sections prescribe, and their query names.  See
 * tagval.h for the grammar and for why values are handed over raw.
 *
 * The record is scanned once for its byte set, then field by field: a
 * field runs from the first non-WSP byte after a ";" up to the next ";"
 * (or the end), less the WSP before that ";", which belongs to the
 * delimiter.  No valid value holds a ";" (RFC 8460 §3 makes URIs encode
 * it), so this split is exact for both grammars.
 */
#include <string.h>

#include <mtasts/dname.h>

#include "internal.h"
#include "tagval.h"

/* Length of the longest field name: (ALPHA / DIGIT) *31(...). */
#define NAME_MAX_LEN 32

/*
 * Both RFCs say the record MUST be US-ASCII; the grammar further allows
 * no CTL but HTAB (WSP, in delimiters and TLS-RPT URI lists).  Returns
 * the offset of the first other byte, or len.
 */
static size_t
first_bad_byte(const char *txt, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)txt[i];

		if ((c < 0x20 || c > 0x7e) && c != '\t')
			return i;
	}
	return len;
}

static size_t
skip_wsp(const char *txt, size_t pos, size_t end)
{
	while (pos < end && mts_is_wsp((unsigned char)txt[pos]))
		pos++;
	return pos;
}

/* sts-ext-name / tlsrpt-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT /
 * "_" / "-" / "."). */
static bool
name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > NAME_MAX_LEN ||
	    !mts_is_alnum((unsigned char)s[0]))
		return false;
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!mts_is_alnum(c) && c != '_' && c != '-' && c != '.')
			return false;
	}
	return true;
}

enum mts_tv_result
mts_tv_begin(struct mts_tv *tv, const char *txt, size_t len,
             const char *version)
{
	size_t vlen = strlen(version), end, bad, p;

	memset(tv, 0, sizeof(*tv));
	tv->txt = txt;
	if ((bad = first_bad_byte(txt, len)) < len) {
		tv->err_off = bad;
		tv->err_byte = (unsigned char)txt[bad];
		return MTS_TV_NOT_ASCII;
	}

	/* §24 A3: trim trailing WSP; it is grammatical only after a ";". */
	end = len;
	while (end > 0 && mts_is_wsp((unsigned char)txt[end - 1]))
		end--;
	if (end < len && end > 0 && txt[end - 1] != ';')
		tv->flags |= MTS_TV_TRAILING_SPACE;
	tv->end = end;

	/* "The TXT record MUST begin with the sts-version field" (§3.1). */
	if (txt == NULL || end < vlen || memcmp(txt, version, vlen) != 0)
		return MTS_TV_NO_VERSION;
	if (end == vlen) {
		tv->err_off = vlen;
		return MTS_TV_NO_FIELDS; /* "v=STSv1" alone */
	}
	/* The version is followed by a delimiter: "v=STSv10" is no version
	 * (and end - 1 is not WSP, so p stops before end). */
	p = skip_wsp(txt, vlen, end);
	if (txt[p] != ';') {
		tv->err_off = p;
		return MTS_TV_NO_VERSION;
	}
	if (p > vlen)
		tv->flags |= MTS_TV_SPACE_BEFORE_DELIM;

	/* version 1*(field-delim field): "v=STSv1;" has no field. */
	if (skip_wsp(txt, p + 1, end) == end) {
		tv->err_off = p;
		return MTS_TV_NO_FIELDS;
	}
	tv->pos = p;
	return MTS_TV_FIELD;
}

/* Splits the field text f->off..f->len at its first "=". */
static enum mts_tv_result
split_field(const char *txt, struct mts_tv_field *f)
{
	const char *s = txt + f->off, *eq;

	if ((eq = memchr(s, '=', f->len)) == NULL)
		return MTS_TV_NO_EQUALS;
	f->name = s;
	f->name_len = (size_t)(eq - s);
	f->value = eq + 1;
	f->value_len = f->len - f->name_len - 1;
	if (!name_ok(f->name, f->name_len))
		return MTS_TV_BAD_NAME;
	return MTS_TV_FIELD;
}

enum mts_tv_result
mts_tv_next(struct mts_tv *tv, struct mts_tv_field *f)
{
	const char *semi;
	size_t start, stop;

	memset(f, 0, sizeof(*f));
	if (tv->pos >= tv->end)
		return MTS_TV_END;
	/* tv->pos is at a ";"; the one trailing delimiter may end the
	 * record (`[field-delim]`). */
	start = skip_wsp(tv->txt, tv->pos + 1, tv->end);
	if (start == tv->end) {
		tv->pos = tv->end;
		return MTS_TV_END;
	}
	f->off = start;
	if (tv->txt[start] == ';') {
		/* 1*(field-delim field): no empty field between delimiters. */
		tv->pos = start;
		return MTS_TV_EMPTY_FIELD;
	}
	semi = memchr(tv->txt + start, ';', tv->end - start);
	tv->pos = semi != NULL ? (size_t)(semi - tv->txt) : tv->end;
	stop = tv->pos;
	while (stop > start && mts_is_wsp((unsigned char)tv->txt[stop - 1]))
		stop--;
	f->len = stop - start;
	return split_field(tv->txt, f);
}

bool
mts_tv_value_ok(const char *v, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x21 || c > 0x7e || c == '=' || c == ';')
			return false;
	}
	return true;
}

bool
mts_tv_is_candidate(const char *txt, size_t len, const char *version)
{
	size_t vlen = strlen(version), p;

	if (txt == NULL || len < vlen || memcmp(txt, version, vlen) != 0)
		return false;
	p = skip_wsp(txt, vlen, len);
	return p < len && txt[p] == ';';
}

int
mts_tv_select(const char *const *txts, const size_t *lens, size_t n,
              const char *version, size_t *index, struct mts_err *err)
{
	size_t i, found = 0, at = 0;

	if (n != 0 && (txts == NULL || lens == NULL))
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "no records given");
	for (i = 0; i < n; i++) {
		if (!mts_tv_is_candidate(txts[i], lens[i], version))
			continue;
		/* RFC 8461 §3.1, RFC 8460 §3: "If the number of resulting
		 * records is not one", there is no record; never pick one. */
		if (found++ != 0)
			return mts_err_set(
			    err, MTS_ERR_MULTIPLE, 0, 0,
			    "more than one record begins with the version");
		at = i;
	}
	if (found == 0)
		return mts_err_set(err, MTS_ERR_NOTFOUND, 0, 0,
		                   "no record begins with the version");
	if (index != NULL)
		*index = at;
	return 0;
}

int
mts_tv_qname(const char *prefix, const char *domain, char *buf, size_t size,
             struct mts_err *err)
{
	size_t plen = strlen(prefix), dlen, i;

	if (domain == NULL)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "no domain");
	/* Bounded: a longer string is no domain name anyway. */
	dlen = strnlen(domain, MTS_DNAME_MAX + 2);
	if (mts_dname_check(domain, dlen, MTS_DNAME_ALLOW_TRAILING_DOT, err) !=
	    0) {
		if (err != NULL)
			err->code = MTS_ERR_ARG;
		return -1;
	}
	if (domain[dlen - 1] == '.') /* dname_check: dlen > 0 */
		dlen--;
	if (plen + 1 + dlen > MTS_DNAME_MAX)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "query name over 253 octets");
	if (buf == NULL || size < plen + 1 + dlen + 1)
		return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
		                   "buffer too small for the query name");
	memcpy(buf, prefix, plen);
	buf[plen] = '.';
	for (i = 0; i < dlen; i++)
		buf[plen + 1 + i] = (char)mts_lower((unsigned char)domain[i]);
	buf[plen + 1 + dlen] = '\0';
	return 0;
}

/* ---- reporting layer ---- */

/* Findings quote record text up to this many bytes. */
#define QUOTE_MAX 64

int
mts_tv_quote_len(size_t len)
{
	return (int)(len > QUOTE_MAX ? QUOTE_MAX : len);
}

unsigned
mts_tv_column(const struct mts_tv_parse *p, const char *at)
{
	return (unsigned)(at - p->txt) + 1;
}

void
mts_tv_parse_error(struct mts_tv_parse *p, enum mts_errcode code, size_t off,
                   const char *msg)
{
	if (p->errors++ != 0)
		return;
	p->code = code;
	p->column = (unsigned)off + 1;
	p->msg = msg;
}

/* The finding for a record that does not begin with version ";". */
static void
report_version(struct mts_tv_parse *p)
{
	const struct mts_tv *tv = &p->tv;
	int q = mts_tv_quote_len(tv->end);

	if (tv->end == 0)
		mts_diag_add(p->diag, p->g->no_version, 0,
		             "the record is empty");
	else if (tv->err_off == 0)
		mts_diag_add(p->diag, p->g->no_version, 0, "\"%.*s\"", q,
		             p->txt);
	else /* "v=STSv10", "v=STSv1 x" */
		mts_diag_add(p->diag, p->g->no_version, 0,
		             "\"%.*s\": no \";\" after %s (column %u)", q,
		             p->txt, p->g->version, (unsigned)tv->err_off + 1);
	mts_tv_parse_error(p, MTS_ERR_SYNTAX, tv->err_off,
	                   p->g->no_version_msg);
}

/* The findings of mts_tv_begin(); true when fields follow. */
static bool
report_begin(struct mts_tv_parse *p, enum mts_tv_result r)
{
	const struct mts_tv *tv = &p->tv;

	switch (r) {
	case MTS_TV_FIELD:
		break;
	case MTS_TV_NOT_ASCII:
		/* RFC 8461 §3.1 and RFC 8460 §3: the record is US-ASCII. */
		mts_diag_add(p->diag, p->g->not_ascii, 0,
		             "byte 0x%02X at column %u", tv->err_byte,
		             (unsigned)tv->err_off + 1);
		mts_tv_parse_error(p, MTS_ERR_SYNTAX, tv->err_off,
		                   "the record is not printable US-ASCII");
		return false;
	case MTS_TV_NO_FIELDS:
		mts_diag_add(p->diag, p->g->no_fields, 0, "no field after %s",
		             p->g->version);
		mts_tv_parse_error(p, MTS_ERR_SYNTAX, tv->err_off,
		                   "no field follows the version");
		return false;
	default:
		report_version(p);
		return false;
	}
	if ((tv->flags & MTS_TV_SPACE_BEFORE_DELIM) != 0)
		mts_diag_add(p->diag, p->g->space_before_delim, 0, "\"%.*s\"",
		             mts_tv_quote_len(tv->end), p->txt);
	if ((tv->flags & MTS_TV_TRAILING_SPACE) != 0)
		mts_diag_add(p->diag, p->g->trailing_space, 0,
		             "white space after column %u trimmed",
		             (unsigned)tv->end);
	return true;
}

bool
mts_tv_parse_begin(struct mts_tv_parse *p, const struct mts_tv_grammar *g,
                   const char *txt, size_t len, struct mts_diag *diag)
{
	memset(p, 0, sizeof(*p));
	p->g = g;
	p->txt = txt;
	p->diag = diag;
	if (txt == NULL && len != 0) {
		p->errors = 1;
		p->code = MTS_ERR_ARG;
		p->msg = "no record";
		return false;
	}
	/* Every input is capped (a TXT RRset can reach 64 KiB). */
	if (len > g->max) {
		mts_diag_add(diag, g->too_long, 0, "%zu octets, over %zu", len,
		             g->max);
		p->errors = 1;
		p->code = MTS_ERR_TOOBIG;
		p->msg = "the record is too long";
		return false;
	}
	return report_begin(p, mts_tv_begin(&p->tv, txt, len, g->version));
}

bool
mts_tv_parse_field(struct mts_tv_parse *p, struct mts_tv_field *f)
{
	enum mts_tv_result r;

	while ((r = mts_tv_next(&p->tv, f)) != MTS_TV_END) {
		if (r == MTS_TV_FIELD)
			return true;
		if (r == MTS_TV_EMPTY_FIELD) {
			mts_diag_add(p->diag, p->g->empty_field, 0,
			             "empty field at column %u",
			             (unsigned)f->off + 1);
			mts_tv_parse_error(p, MTS_ERR_SYNTAX, f->off,
			                   "empty field");
			continue;
		}
		mts_diag_add(p->diag, p->g->field_syntax, 0,
		             "\"%.*s\" at column %u: %s",
		             mts_tv_quote_len(f->len), p->txt + f->off,
		             (unsigned)f->off + 1,
		             r == MTS_TV_NO_EQUALS ? "no \"=\"" :
		                                     "not a valid field name");
		mts_tv_parse_error(p, MTS_ERR_SYNTAX, f->off,
		                   r == MTS_TV_NO_EQUALS ?
		                       "a field has no \"=\"" :
		                       "a field name is not valid");
	}
	return false;
}

void
mts_tv_parse_extension(struct mts_tv_parse *p, const struct mts_tv_field *f)
{
	unsigned col = (unsigned)f->off + 1;

	if (!mts_tv_value_ok(f->value, f->value_len)) {
		mts_diag_add(p->diag, p->g->field_syntax, 0,
		             "\"%.*s\" at column %u: %s",
		             mts_tv_quote_len(f->len), p->txt + f->off, col,
		             f->value_len == 0 ?
		                 "empty value" :
		                 "white space or \"=\" in the value");
		mts_tv_parse_error(p, MTS_ERR_SYNTAX, f->off,
		                   "an extension value is not valid");
		return;
	}
	mts_diag_add(p->diag, p->g->extension, 0, "field \"%.*s\" at column %u",
	             mts_tv_quote_len(f->name_len), f->name, col);
}

int
mts_tv_parse_end(const struct mts_tv_parse *p, struct mts_err *err)
{
	if (p->errors == 0)
		return 0;
	return mts_err_set(err, p->code, 0, p->column, p->msg);
}
