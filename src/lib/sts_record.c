/* SPDX-License-Identifier: ISC */
/*
 * The _mta-sts TXT record of RFC 8461 §3.1: parsing one record
 * (`sts-text-record`), the "begins with v=STSv1;" filter and the choice
 * of the one record in an RRset, and the query name.  The tokenizer and
 * its findings are shared with TLS-RPT (tagval.c); this file gives
 * meaning to the fields: "id" (required, 1*32(ALPHA / DIGIT)) and
 * extensions, which "SHALL be ignored" (§3.2's rule for the record and
 * the policy).
 *
 * Positions on the points the RFC leaves open (checklist §24), each
 * reported as a finding so that `mtasts lint` can tell the publisher:
 * A2, WSP before the first ";": accepted (it is grammatical);
 * A3, trailing WSP without ";": trimmed, accepted;
 * A24, a second id: the first wins;
 * A6 (by analogy with the policy): an "id" field whose value is not an
 * sts-id is an error, not an extension that happens to be named "id".
 */
#include <string.h>

#include <mtasts/sts.h>

#include "internal.h"
#include "tagval.h"

static const struct mts_tv_grammar grammar = {
    .version = "v=STSv1",
    .no_version_msg = "the record does not begin with v=STSv1;",
    .max = MTS_STS_RECORD_MAX,
    .too_long = MTS_D_STS_RECORD_TOO_LONG,
    .not_ascii = MTS_D_STS_RECORD_NOT_ASCII,
    .no_version = MTS_D_STS_RECORD_VERSION,
    .no_fields = MTS_D_STS_RECORD_NO_FIELDS,
    .empty_field = MTS_D_STS_RECORD_EMPTY_FIELD,
    .field_syntax = MTS_D_STS_RECORD_FIELD_SYNTAX,
    .extension = MTS_D_STS_RECORD_EXTENSION,
    .space_before_delim = MTS_D_STS_RECORD_SPACE_BEFORE_DELIM,
    .trailing_space = MTS_D_STS_RECORD_TRAILING_SPACE,
};

/*
 * Reports an id field whose value is not an sts-id.  A value the
 * generic rule rejects (WSP, "=") is a broken field ("id=foo include=x");
 * one it accepts is a wrong id ("id=2016-08-31").
 */
static void
bad_id(struct mts_tv_parse *p, const struct mts_tv_field *f)
{
	if (f->value_len != 0 && !mts_tv_value_ok(f->value, f->value_len)) {
		mts_diag_add(
		    p->diag, MTS_D_STS_RECORD_FIELD_SYNTAX, 0,
		    "\"%.*s\" at column %u: white space or \"=\" in the value",
		    mts_tv_quote_len(f->len), p->txt + f->off,
		    (unsigned)f->off + 1);
		mts_tv_parse_error(p, MTS_ERR_SYNTAX, f->off,
		                   "white space or \"=\" in the id field");
		return;
	}
	mts_diag_add(p->diag, MTS_D_STS_RECORD_ID_SYNTAX, 0,
	             "id \"%.*s\" at column %u", mts_tv_quote_len(f->value_len),
	             f->value, mts_tv_column(p, f->value));
	mts_tv_parse_error(p, MTS_ERR_SYNTAX, (size_t)(f->value - p->txt),
	                   "the id is not 1 to 32 letters and digits");
}

/*
 * sts-id = %s"id=" 1*32(ALPHA / DIGIT).  Sets *id to the first
 * well-formed one (§24 A24: the first wins, as §3.2 rules for duplicate
 * fields).
 */
static void
field_id(struct mts_tv_parse *p, const struct mts_tv_field *f,
         struct mts_tv_field *id)
{
	/* The length test keeps the copy into out->id local to prove. */
	if (f->value_len > MTS_STS_ID_MAX ||
	    !mts_sts_id_valid(f->value, f->value_len)) {
		bad_id(p, f);
		return;
	}
	if (id->value != NULL) {
		mts_diag_add(
		    p->diag, MTS_D_STS_RECORD_ID_DUPLICATE, 0,
		    "id \"%.*s\" at column %u ignored; the id is \"%.*s\"",
		    mts_tv_quote_len(f->value_len), f->value,
		    mts_tv_column(p, f->value), mts_tv_quote_len(id->value_len),
		    id->value);
		return;
	}
	*id = *f;
	/* Any new id makes senders refetch; a timestamp is the advice. */
	if (!mts_sts_id_parse_timestamp(f->value, f->value_len, NULL))
		mts_diag_add(p->diag, MTS_D_STS_RECORD_ID_NOT_TIMESTAMP, 0,
		             "id \"%.*s\"", mts_tv_quote_len(f->value_len),
		             f->value);
}

int
mts_sts_record_parse(const char *txt, size_t len, struct mts_sts_record *out,
                     struct mts_diag *diag, struct mts_err *err)
{
	struct mts_tv_parse p;
	struct mts_tv_field f, id;

	memset(&id, 0, sizeof(id));
	if (mts_tv_parse_begin(&p, &grammar, txt, len, diag)) {
		while (mts_tv_parse_field(&p, &f)) {
			/* %s"id=": the name is case-sensitive. */
			if (f.name_len == 2 && memcmp(f.name, "id", 2) == 0)
				field_id(&p, &f, &id);
			else
				mts_tv_parse_extension(&p, &f);
		}
	}
	if (mts_tv_parse_end(&p, err) != 0)
		return -1;
	if (id.value == NULL) {
		/* "Note that sts-id record is required" (§3.1 ABNF). */
		mts_diag_add(diag, MTS_D_STS_RECORD_ID_MISSING, 0,
		             "no id field");
		return mts_err_set(err, MTS_ERR_INVALID, 0, 0,
		                   "the record has no id");
	}
	memcpy(out->id, id.value, id.value_len);
	out->id[id.value_len] = '\0';
	return 0;
}

bool
mts_sts_record_is_candidate(const char *txt, size_t len)
{
	return mts_tv_is_candidate(txt, len, grammar.version);
}

int
mts_sts_record_select(const char *const *txts, const size_t *lens, size_t n,
                      size_t *index, struct mts_err *err)
{
	return mts_tv_select(txts, lens, n, grammar.version, index, err);
}

int
mts_sts_record_qname(const char *domain, char *buf, size_t size,
                     struct mts_err *err)
{
	/* §3.1: the TXT record lives at _mta-sts.<Policy Domain>. */
	return mts_tv_qname("_mta-sts", domain, buf, size, err);
}
