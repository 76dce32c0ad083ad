/* SPDX-License-Identifier: ISC */
/*
 * The peer test vectors of tests/data/peer-vectors/: inputs and verdicts
 * from the unit tests of mox, postfix-tlspol, go-mtasts and
 * postfix-mta-sts-resolver, run through our parsers (RFC 8461 §3.1 TXT
 * record, §3.2 policy body, §4.1 mx matching).
 *
 * Rows the README marks `agree` must give the peer's verdict.  Rows marked
 * `disagree` or `ambiguous` are not the peer's word against ours: for each
 * of them the table `positions` below states our documented behaviour
 * (docs/conformance.md, checklist §24) and the finding that shows it, and
 * the row must give that.  A non-agree row without a position, a position
 * without a row, a missing file, a row with the wrong number of fields or
 * a file with the wrong number of rows all fail the test: the data and
 * this file must move together.
 *
 * Data fields are decoded exactly as the README says (only \n, \r and \t;
 * nothing is trimmed; other bytes are taken raw).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/sts.h>

#include "tap.h"

#define FIELDS_MAX 6
#define FILE_MAX   (1024 * 1024)
#define NPOSITIONS (sizeof(positions) / sizeof(positions[0]))

enum kind { KIND_POLICY, KIND_RECORD, KIND_MX };

static const struct vector_file {
	const char *name;
	enum kind kind;
	const char *header; /* the exact first line */
	size_t rows;        /* as counted in the README */
} files[] = {
    {"policies.tsv", KIND_POLICY, "source\texpected\tbody\tnote\trfc", 78},
    {"sts-records.tsv", KIND_RECORD, "source\texpected\trecord\tnote\trfc", 51},
    {"mx-match.tsv", KIND_MX, "source\texpected\tpattern\thost\tnote\trfc", 23},
};

/*
 * Our behaviour on every row that is not `agree`.  `code` is a finding
 * that must be present (NULL for mx rows, which have no findings);
 * `max_age` when not 0 is the value the policy must carry.
 */
static const struct position {
	const char *file;
	const char *source;
	const char *verdict;
	const char *code;
	uint32_t max_age;
	const char *why;
} positions[] = {
    {"policies.tsv", "Zuplu/postfix-tlspol:internal/mta-sts_test.go:189",
     "valid", "policy-mx-address", 0,
     "dotted-quad mx is a Domain (STS-POL-14), with a warning"},
    {"policies.tsv", "Zuplu/postfix-tlspol:internal/mta-sts_test.go:190",
     "valid", "policy-mx-address", 0,
     "dotted-quad mx is a Domain (STS-POL-14), with a warning"},
    {"policies.tsv", "Zuplu/postfix-tlspol:internal/mta-sts_test.go:191",
     "valid", "policy-mx-address", 0,
     "dotted-quad mx is a Domain (STS-POL-14), with a warning"},
    {"policies.tsv", "Zuplu/postfix-tlspol:internal/mta-sts_test.go:148",
     "invalid", "policy-blank-line", 0,
     "A5: a blank line inside the body is an error"},
    {"policies.tsv", "mjl-/mox:mtasts/parse_test.go:138", "invalid",
     "policy-mx-ulabel", 0,
     "A6: a known key must match its rule, even in mode none"},
    {"policies.tsv",
     "Snawoot/postfix-mta-sts-resolver:tests/test_resolver.py:57", "valid",
     "policy-max-age-range", 31557600,
     "A7: max_age 31557601 is clamped, with a warning"},
    {"sts-records.tsv",
     "Snawoot/postfix-mta-sts-resolver:tests/test_utils.py:50", "invalid",
     "sts-record-empty-field", 0, "STS-TXT-5 T4: \";;;\" is an empty field"},
    {"sts-records.tsv", "Zuplu/postfix-tlspol:internal/mta-sts_test.go:38",
     "valid", "sts-record-space-before-delim", 0,
     "A2: WSP before the first \";\", with a warning"},
    {"sts-records.tsv", "foxcpp/go-mtasts:mtasts_test.go:49", "valid",
     "sts-record-space-before-delim", 0,
     "A2: WSP before the first \";\", with a warning"},
    {"sts-records.tsv", "foxcpp/go-mtasts:mtasts_test.go:53", "valid",
     "sts-record-space-before-delim", 0,
     "A2: WSP before the first \";\", with a warning"},
    {"sts-records.tsv", "Zuplu/postfix-tlspol:internal/mta-sts_test.go:45",
     "valid", "sts-record-trailing-space", 0,
     "A3: trailing SP is trimmed, with a warning"},
    {"sts-records.tsv",
     "Snawoot/postfix-mta-sts-resolver:tests/test_utils.py:46", "valid",
     "sts-record-trailing-space", 0,
     "A3: trailing SP is trimmed, with a warning"},
    {"mx-match.tsv", "foxcpp/go-mtasts:mtasts_test.go:229", "nomatch", NULL, 0,
     "STS-POL-15: a U-label pattern is invalid and matches nothing"},
    {"mx-match.tsv", "foxcpp/go-mtasts:mtasts_test.go:234", "nomatch", NULL, 0,
     "STS-POL-15: a U-label pattern is invalid and matches nothing"},
    {"mx-match.tsv", "foxcpp/go-mtasts:mtasts_test.go:239", "nomatch", NULL, 0,
     "STS-POL-15: a U-label pattern is invalid and matches nothing"},
    {"mx-match.tsv", "foxcpp/go-mtasts:mtasts_test.go:244", "nomatch", NULL, 0,
     "STS-MX-6: hosts from DNS are never U-labels; no IDN conversion"},
};

/* One decoded field: the bytes and their length (NUL-terminated too). */
struct field {
	char *s;
	size_t len;
};

/* A row: raw fields (pointing into the line) and decoded data fields. */
struct row {
	const char *raw[FIELDS_MAX];
	size_t raw_len[FIELDS_MAX];
	size_t n;
};

/* Reads the whole file; NULL with errno set, or *len bytes + a NUL. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, FILE_MAX + 1, f);
	if (ferror(f) || n > FILE_MAX) {
		errno = ferror(f) ? EIO : EFBIG;
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Splits line[0..len) at TABs, never trimming; false when too many. */
static bool
split(const char *line, size_t len, struct row *r)
{
	size_t i, start = 0;

	r->n = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (r->n == FIELDS_MAX)
			return false;
		r->raw[r->n] = line + start;
		r->raw_len[r->n] = i - start;
		r->n++;
		start = i + 1;
	}
	return true;
}

/* Decodes the README's three escapes; every other byte is kept as is. */
static bool
decode(const char *s, size_t n, struct field *out)
{
	size_t i, o = 0;

	if ((out->s = malloc(n + 1)) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n &&
		    (s[i + 1] == 'n' || s[i + 1] == 'r' || s[i + 1] == 't')) {
			i++;
			out->s[o++] = s[i] == 'n' ? '\n' :
			    s[i] == 'r'           ? '\r' :
						    '\t';
		} else {
			out->s[o++] = s[i];
		}
	}
	out->s[o] = '\0';
	out->len = o;
	return true;
}

static bool
field_is(const struct row *r, size_t i, const char *s)
{
	return r->raw_len[i] == strlen(s) &&
	    memcmp(r->raw[i], s, r->raw_len[i]) == 0;
}

/* The index of the row's position, or NPOSITIONS. */
static size_t
find_position(const char *file, const struct row *r)
{
	size_t i;

	for (i = 0; i < NPOSITIONS; i++)
		if (strcmp(positions[i].file, file) == 0 &&
		    field_is(r, 0, positions[i].source))
			break;
	return i;
}

static bool
has_code(const struct mts_diag *d, const char *code)
{
	size_t i;

	if (code == NULL)
		return true;
	for (i = 0; i < d->count; i++)
		if (strcmp(d->items[i].code, code) == 0)
			return true;
	return false;
}

/* The verdict our code gives: "valid"/"invalid" or "match"/"nomatch". */
static const char *
our_verdict(enum kind kind, const struct field *data, struct mts_diag *diag,
            uint32_t *max_age)
{
	struct mts_sts_policy p;
	struct mts_sts_record rec;
	bool ok;

	switch (kind) {
	case KIND_POLICY:
		memset(&p, 0, sizeof(p));
		ok = mts_sts_policy_parse(data[0].s, data[0].len, &p, diag,
		                          NULL) == 0;
		*max_age = p.max_age;
		mts_sts_policy_reset(&p);
		return ok ? "valid" : "invalid";
	case KIND_RECORD:
		ok = mts_sts_record_parse(data[0].s, data[0].len, &rec, diag,
		                          NULL) == 0;
		return ok ? "valid" : "invalid";
	case KIND_MX:
		/* A match needs a valid pattern (§3.2) that covers the host. */
		ok = mts_sts_match_pattern_check(data[0].s, NULL) == 0 &&
		    mts_sts_match(data[0].s, data[1].s);
		return ok ? "match" : "nomatch";
	}
	return "?";
}

/*
 * Runs one row; `lineno` is its line in the file, for the TAP name;
 * used[i] counts the rows that cited positions[i].
 */
static void
run_row(const struct vector_file *vf, unsigned lineno, const struct row *r,
        unsigned *used)
{
	struct field data[2] = {{NULL, 0}, {NULL, 0}};
	size_t i, ndata = vf->kind == KIND_MX ? 2 : 1;
	char source[256], expected[16], rfc[16];
	struct mts_diag diag;
	const struct position *pos = NULL;
	size_t k;
	const char *got, *want;
	uint32_t max_age = 0;

	snprintf(source, sizeof(source), "%.*s", (int)r->raw_len[0], r->raw[0]);
	snprintf(expected, sizeof(expected), "%.*s", (int)r->raw_len[1],
	         r->raw[1]);
	snprintf(rfc, sizeof(rfc), "%.*s", (int)r->raw_len[r->n - 1],
	         r->raw[r->n - 1]);
	for (i = 0; i < ndata; i++)
		if (!decode(r->raw[2 + i], r->raw_len[2 + i], &data[i]))
			goto fail;
	want = expected;
	if (strcmp(rfc, "agree") != 0) {
		if ((k = find_position(vf->name, r)) == NPOSITIONS) {
			tap_ok(false, "%s:%u %s (%s): no documented position",
			       vf->name, lineno, source, rfc);
			goto fail;
		}
		used[k]++;
		pos = &positions[k];
		want = pos->verdict;
	}
	mts_diag_init(&diag);
	got = our_verdict(vf->kind, data, &diag, &max_age);
	tap_ok(strcmp(got, want) == 0 &&
	           (pos == NULL ||
	            (has_code(&diag, pos->code) &&
	             (pos->max_age == 0 || pos->max_age == max_age))),
	       "%s:%u %s (%s%s%s): %s", vf->name, lineno, source, rfc,
	       pos != NULL ? "; ours: " : "", pos != NULL ? pos->why : "",
	       want);
	mts_diag_reset(&diag);
fail:
	for (i = 0; i < ndata; i++)
		free(data[i].s);
}

/* Runs every row of one file; checks the header and the row count. */
static void
run_file(const char *dir, const struct vector_file *vf, unsigned *used)
{
	char path[1024], *buf, *line, *end;
	size_t len, n, rows = 0;
	unsigned lineno = 0;
	struct row r;

	snprintf(path, sizeof(path), "%s/peer-vectors/%s", dir, vf->name);
	if ((buf = read_file(path, &len)) == NULL) {
		tap_ok(false, "%s: cannot read: %s", path, strerror(errno));
		return;
	}
	for (line = buf; line < buf + len; line = end + 1) {
		if ((end = memchr(line, '\n', (size_t)(buf + len - line))) ==
		    NULL)
			end = buf + len;
		n = (size_t)(end - line);
		if (++lineno == 1) {
			tap_ok(n == strlen(vf->header) &&
			           memcmp(line, vf->header, n) == 0,
			       "%s:1: header", vf->name);
			continue;
		}
		if (!split(line, n, &r) ||
		    r.n != (vf->kind == KIND_MX ? 6 : 5)) {
			tap_ok(false, "%s:%u: wrong number of fields", vf->name,
			       lineno);
			continue;
		}
		rows++;
		run_row(vf, lineno, &r, used);
	}
	tap_ok(rows == vf->rows, "%s: %zu rows, the README says %zu", vf->name,
	       rows, vf->rows);
	free(buf);
}

int
main(void)
{
	const char *dir = getenv("MTS_TEST_DATA");
	unsigned used[NPOSITIONS] = {0};
	size_t i;

	if (dir == NULL) {
		tap_ok(false, "MTS_TEST_DATA is not set");
		return tap_done();
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		run_file(dir, &files[i], used);
	for (i = 0; i < NPOSITIONS; i++)
		tap_ok(used[i] == 1, "%s %s: position used by one row",
		       positions[i].file, positions[i].source);
	return tap_done();
}
