/* SPDX-License-Identifier: ISC */
/*
 * The "v=VERSION; name=value; ..." TXT records of MTA-STS (RFC 8461 §3.1)
 * and TLS-RPT (RFC 8460 §3): one tokenizer, the candidate test and the
 * selection of the one record in a TXT RRset, and the query name.
 * Internal to the library (not exported).
 *
 * Both RFCs share the shape of the grammar:
 *
 *	record      = version 1*(field-delim field) [field-delim]
 *	field-delim = *WSP ";" *WSP
 *	field       = name "=" value
 *	name        = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	value       = 1*(%x21-3A / %x3C / %x3E-7E)    ; for extensions
 *
 * but the value rule differs per field: a TLS-RPT rua value is a URI list
 * that may hold WSP around its commas.  So the tokenizer splits fields at
 * ";" (no field value may hold one), checks the field names, and hands
 * each value over raw; the record modules validate the values, with
 * mts_tv_value_ok() for the generic rule.  The tokenizer recovers at the
 * next ";" after a bad field, so that a linter sees every finding.
 *
 * Two layers: mts_tv_begin()/mts_tv_next() only tokenize; the
 * mts_tv_parse_*() functions above them turn the tokenizer's results
 * into findings with the codes of one record type (struct
 * mts_tv_grammar) and keep the first error for struct mts_err, so that
 * each record module holds only the meaning of its own fields.
 */
#ifndef MTS_TAGVAL_H
#define MTS_TAGVAL_H

#include <stdbool.h>
#include <stddef.h>

#include <mtasts/diag.h>
#include <mtasts/err.h>

#include "internal.h"

/* What mts_tv_begin() and mts_tv_next() found. */
enum mts_tv_result {
	MTS_TV_FIELD = 0,   /* next: *field holds the next field */
	MTS_TV_END,         /* next: no more fields */
	MTS_TV_NOT_ASCII,   /* begin: a byte other than %x20-7E or HTAB */
	MTS_TV_NO_VERSION,  /* begin: the record does not begin with
			       version *WSP ";" */
	MTS_TV_NO_FIELDS,   /* begin: nothing follows the version */
	MTS_TV_EMPTY_FIELD, /* next: ";" *WSP ";" */
	MTS_TV_NO_EQUALS,   /* next: a field without "=" */
	MTS_TV_BAD_NAME     /* next: the text before "=" is not a name */
};

/*
 * Deviations mts_tv_begin() tolerates and reports in tv->flags (the
 * positions of docs/conformance.md):
 * SPACE_BEFORE_DELIM: WSP between the version and the first ";".  The
 *	grammar allows it, but the RRset filter of §3.1 keeps only records
 *	beginning "v=STSv1;" (erratum 6285, checklist §24 A2).
 * TRAILING_SPACE: WSP after the last field with no ";" after it, which
 *	the grammar does not allow; it is trimmed (§24 A3).
 */
#define MTS_TV_SPACE_BEFORE_DELIM 0x01u
#define MTS_TV_TRAILING_SPACE     0x02u

/* A tokenizer over one record; fill it with mts_tv_begin(). */
struct mts_tv {
	const char *txt; /* the record, borrowed */
	size_t end;      /* its length without trailing WSP */
	size_t pos;      /* at the ";" before the next field, or at end */
	unsigned flags;  /* MTS_TV_SPACE_BEFORE_DELIM | MTS_TV_TRAILING_SPACE */
	size_t err_off;  /* offset of what mts_tv_begin() rejected */
	unsigned char err_byte; /* the byte, for MTS_TV_NOT_ASCII */
};

/* One field, or for an error of mts_tv_next() the text at fault. */
struct mts_tv_field {
	const char *name; /* borrowed from the record, not NUL-terminated */
	size_t name_len;
	const char *value; /* after "=", raw: may be empty, may hold WSP */
	size_t value_len;
	size_t off; /* 0-based offset of the field in the record */
	size_t len; /* of the whole field, delimiter WSP excluded */
};

/*
 * Checks the byte set and the version prefix of txt[0..len) and places
 * the tokenizer before the first field.  `version` is the literal
 * ("v=STSv1"), compared case-sensitively (%s"..." in both ABNFs).
 * Returns MTS_TV_FIELD when fields follow, else MTS_TV_NOT_ASCII,
 * MTS_TV_NO_VERSION or MTS_TV_NO_FIELDS with tv->err_off set.  txt may
 * be NULL only when len is 0.
 */
enum mts_tv_result mts_tv_begin(struct mts_tv *tv, const char *txt, size_t len,
                                const char *version);

/*
 * Reads the next field into *f.  Returns MTS_TV_FIELD, MTS_TV_END, or
 * an error (MTS_TV_EMPTY_FIELD, MTS_TV_NO_EQUALS, MTS_TV_BAD_NAME) with
 * f->off and f->len naming the text at fault; after an error the next
 * call goes on with the field after the next ";".
 */
enum mts_tv_result mts_tv_next(struct mts_tv *tv, struct mts_tv_field *f);

/* True when v[0..len) matches the generic value rule
 * 1*(%x21-3A / %x3C / %x3E-7E): no WSP, "=", ";" or CTL. */
bool mts_tv_value_ok(const char *v, size_t len);

/*
 * True when txt[0..len) begins with `version` *WSP ";".  This is the
 * filter of RFC 8461 §3.1 and RFC 8460 §3 ("records that do not begin
 * with "v=STSv1;" are discarded"), read tolerantly as §24 A2 recommends:
 * WSP before the ";" is allowed, "v=STSv10" is never a candidate.
 */
bool mts_tv_is_candidate(const char *txt, size_t len, const char *version);

/*
 * Selects the one candidate among the n records txts[i][0..lens[i]) and
 * writes its position to *index (when index is not NULL).  Returns 0, or
 * -1 with MTS_ERR_NOTFOUND (no candidate), MTS_ERR_MULTIPLE (more than
 * one: the sender MUST then assume no record, §3.1) or MTS_ERR_ARG
 * (txts or lens NULL while n > 0).  A NULL txts[i] is not a candidate.
 */
int mts_tv_select(const char *const *txts, const size_t *lens, size_t n,
                  const char *version, size_t *index, struct mts_err *err);

/*
 * Writes "<prefix>.<domain>" to buf: the domain checked as an RFC 5321
 * Domain, one trailing dot dropped, lower-cased.  `prefix` is
 * "_mta-sts" or "_smtp._tls".  Returns 0, or -1 with MTS_ERR_ARG (a
 * malformed domain, or a query name over 253 octets) or MTS_ERR_TOOBIG
 * (buf smaller than the name and its NUL).  buf is written only on
 * success.
 */
int mts_tv_qname(const char *prefix, const char *domain, char *buf, size_t size,
                 struct mts_err *err);

/* ---- reporting layer: findings and the first error of one parse ---- */

/* What differs between the record types, as far as the tokenizer goes. */
struct mts_tv_grammar {
	const char *version;        /* "v=STSv1" */
	const char *no_version_msg; /* err->msg when the version is wrong */
	size_t max;                 /* cap on the record length */
	enum mts_diag_id too_long, not_ascii, no_version, no_fields,
	    empty_field, field_syntax, extension, space_before_delim,
	    trailing_space;
};

/* One parse in progress; filled by mts_tv_parse_begin(). */
struct mts_tv_parse {
	struct mts_tv tv;
	const struct mts_tv_grammar *g;
	const char *txt;
	struct mts_diag *diag; /* may be NULL: mts_diag_add() ignores it */
	unsigned errors;       /* error findings so far */
	enum mts_errcode code; /* of the first error */
	unsigned column;       /* its 1-based column, 0 if none */
	const char *msg;       /* its constant message */
};

/*
 * Starts parsing txt[0..len): checks the length against g->max, the
 * bytes and the version, and reports the tolerated deviations (A2, A3).
 * Returns true when fields follow; else the error is recorded.
 */
bool mts_tv_parse_begin(struct mts_tv_parse *p, const struct mts_tv_grammar *g,
                        const char *txt, size_t len, struct mts_diag *diag);

/* Reads the next well-formed field into *f, reporting malformed ones on
 * the way.  Returns false at the end of the record. */
bool mts_tv_parse_field(struct mts_tv_parse *p, struct mts_tv_field *f);

/* An extension field: checks its value against the generic rule and
 * reports it as ignored ("unknown fields SHALL be ignored"). */
void mts_tv_parse_extension(struct mts_tv_parse *p,
                            const struct mts_tv_field *f);

/* Counts an error at offset `off`; the first one is what err will say.
 * The caller adds the finding. */
void mts_tv_parse_error(struct mts_tv_parse *p, enum mts_errcode code,
                        size_t off, const char *msg);

/* Returns 0 when no error was counted, else -1 with err filled (line 0). */
int mts_tv_parse_end(const struct mts_tv_parse *p, struct mts_err *err);

/* The 1-based column of a pointer into the record. */
unsigned mts_tv_column(const struct mts_tv_parse *p, const char *at);

/* How many bytes of a text of length len a finding quotes ("%.*s"). */
int mts_tv_quote_len(size_t len);

#endif /* MTS_TAGVAL_H */
