/* SPDX-License-Identifier: ISC */
/*
 * The TLS-RPT aggregate report of RFC 8460 §4: the JSON of §4.4, read
 * with jansson as I-JSON (§4: RFC 7493, no repeated member, valid
 * UTF-8), walked member by member into the normalised struct
 * mts_tlsrpt_report.  The deviations real senders make are accepted,
 * normalised and noted as warnings; with MTS_TLSRPT_STRICT they are
 * errors (include/mtasts/tlsrpt_report.h lists them and the positions
 * taken on checklist ids RPT-JSON-1..28 and RPT-RES-12).
 *
 * The walk does not stop at the first error: every reason a report is
 * refused is noted, so a quarantined report says all that is wrong with
 * it.  It stops only when memory runs out or a cap is passed.  What it
 * builds lives in a report of its own, handed to the caller only when
 * nothing failed: a report is whole or not at all.
 *
 * Pure: the text comes from the caller's buffer or reader; no I/O, no
 * clock, no state between calls.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <mtasts/dname.h>
#include <mtasts/tlsrpt_report.h>

#include "internal.h"

#define PATH_SIZE  96  /* "policies[4095].failure-details[65535].x" */
#define QUOTE_SIZE 200 /* a value quoted in a finding: 48 octets shown */
#define NO_FINDING MTS_D__COUNT

/* 2^53: reals up to it hold every integer exactly (I-JSON, RFC 7493). */
#define REAL_INT_MAX 9007199254740992.0

struct parse {
	unsigned flags;
	struct mts_diag *diag;
	enum mts_errcode code; /* the first failure, MTS_OK while none */
	const char *msg;       /* its constant message */
	size_t strings;        /* policy-string and mx-host items so far */
	size_t details;        /* failure details so far */
};

/* ---- failures and findings ---- */

/*
 * Records a failure.  Running out of memory outranks a cap and a cap
 * outranks a broken schema: both stop the walk (see stopped()).
 */
static void
fail(struct parse *p, enum mts_errcode code, const char *msg)
{
	if (p->code == MTS_OK || code == MTS_ERR_NOMEM ||
	    (code == MTS_ERR_TOOBIG && p->code == MTS_ERR_INVALID)) {
		p->code = code;
		p->msg = msg;
	}
}

static bool
stopped(const struct parse *p)
{
	return p->code == MTS_ERR_NOMEM || p->code == MTS_ERR_TOOBIG;
}

static void vfinding(struct parse *p, enum mts_diag_id id, bool as_error,
                     const char *fmt, va_list ap) MTS_PRINTF(4, 0);

/* Adds a finding of row `id`, as an error when `as_error`. */
static void
vfinding(struct parse *p, enum mts_diag_id id, bool as_error, const char *fmt,
         va_list ap)
{
	struct mts_diag_rule rule;
	char msg[MTS_FINDING_MSG_SIZE];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!as_error || mts_diag_severity(id) == MTS_SEV_ERROR) {
		mts_diag_add(p->diag, id, 0, "%s", msg);
		return;
	}
	/* The row's strings are static: the finding may point to them. */
	rule = *mts_diag_rule_at((size_t)id);
	rule.severity = MTS_SEV_ERROR;
	(void)mts_diag_add_rule(p->diag, &rule, 0, "%s", msg);
}

/* A finding with the severity of its row; an error refuses the report. */
static void problem(struct parse *p, enum mts_diag_id id, const char *fmt, ...)
    MTS_PRINTF(3, 4);

static void
problem(struct parse *p, enum mts_diag_id id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinding(p, id, false, fmt, ap);
	va_end(ap);
	if (mts_diag_severity(id) == MTS_SEV_ERROR)
		fail(p, MTS_ERR_INVALID, "the JSON is not a TLS-RPT report");
}

/* A deviation: a warning, or with MTS_TLSRPT_STRICT an error. */
static void deviation(struct parse *p, enum mts_diag_id id, const char *fmt,
                      ...) MTS_PRINTF(3, 4);

static void
deviation(struct parse *p, enum mts_diag_id id, const char *fmt, ...)
{
	bool strict = (p->flags & MTS_TLSRPT_STRICT) != 0;
	va_list ap;

	va_start(ap, fmt);
	vfinding(p, id, strict, fmt, ap);
	va_end(ap);
	if (strict)
		fail(p, MTS_ERR_INVALID,
		     "the report deviates from RFC 8460 (strict mode)");
}

/* Over a cap: noted, and the walk stops. */
static void too_big(struct parse *p, const char *fmt, ...) MTS_PRINTF(2, 3);

static void
too_big(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinding(p, MTS_D_TLSRPT_REPORT_TOO_BIG, false, fmt, ap);
	va_end(ap);
	fail(p, MTS_ERR_TOOBIG, "the report is over a size cap");
}

static void
no_memory(struct parse *p)
{
	fail(p, MTS_ERR_NOMEM, NULL);
}

/*
 * Writes s[0..len) into buf[0..size) as a quoted string of printable
 * ASCII for a message: other octets as \xNN, cut after as many octets
 * as surely fit, with "...".  A finding's message is then never cut
 * inside a UTF-8 sequence, and can go into JSON as it is.
 */
static const char *
quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t i, o = 0, max = (size - 6) / 4;

	buf[o++] = '"';
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02X", c);
	}
	buf[o++] = '"';
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- paths and members ---- */

/*
 * Appends at most `max` octets of s at buf[o] (the "%.*s" of printf),
 * returning the new length.
 */
static size_t
path_put(char *buf, size_t o, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	memcpy(buf + o, s, n);
	return o + n;
}

/*
 * "parent.name", or "name" at the top.  The longest path is some 45
 * octets ("policies[4095].policy.policy-string[65535]"); the precisions
 * keep the rest within PATH_SIZE.  Built by hand, not by snprintf(): a
 * report makes dozens of paths, nearly all for findings it never has,
 * and printf's machinery was 5% of the CPU of an ingest.
 */
_Static_assert(PATH_SIZE >= 60 + 1 + 30 + 1 && PATH_SIZE >= 60 + 22 + 1,
               "PATH_SIZE holds the longest path path_member() and "
               "path_item() make");

static void
path_member(char *buf, const char *parent, const char *name)
{
	size_t o = 0;

	if (parent[0] != '\0') {
		o = path_put(buf, o, parent, 60);
		buf[o++] = '.';
		o = path_put(buf, o, name, 30);
	} else {
		o = path_put(buf, o, name, 60);
	}
	buf[o] = '\0';
}

/* "parent[i]". */
static void
path_item(char *buf, const char *parent, size_t i)
{
	char digits[24];
	size_t o = path_put(buf, 0, parent, 60), n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + i % 10);
		i /= 10;
	} while (i != 0);
	buf[o++] = '[';
	memcpy(buf + o, digits + n, sizeof(digits) - n);
	o += sizeof(digits) - n;
	buf[o++] = ']';
	buf[o] = '\0';
}

static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

/*
 * A required member of type `type` (`what` names it for the finding):
 * NULL, with the finding, when it is absent or of another type.
 */
static const json_t *
required(struct parse *p, const json_t *obj, const char *path, const char *name,
         json_type type, const char *what)
{
	const json_t *v = json_object_get(obj, name);
	char where[PATH_SIZE];

	path_member(where, path, name);
	if (v == NULL) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_MISSING, "%s is missing",
		        where);
		return NULL;
	}
	if (json_typeof(v) != type) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_TYPE, "%s is %s, not %s",
		        where, type_name(v), what);
		return NULL;
	}
	return v;
}

/* Copies a JSON string (which I-JSON keeps free of NULs) into *dst. */
static int
copy_string(struct parse *p, const json_t *v, const char *where, char **dst)
{
	size_t len = json_string_length(v);

	if (len > MTS_TLSRPT_FIELD_MAX) {
		too_big(p, "%s is %zu octets, over %u", where, len,
		        MTS_TLSRPT_FIELD_MAX);
		return -1;
	}
	if ((*dst = mts_strndup(json_string_value(v), len)) == NULL) {
		no_memory(p);
		return -1;
	}
	return 0;
}

/* A required string member, copied into *dst; `nonempty` refuses "". */
static void
required_string(struct parse *p, const json_t *obj, const char *path,
                const char *name, bool nonempty, char **dst)
{
	const json_t *v;
	char where[PATH_SIZE];

	if ((v = required(p, obj, path, name, JSON_STRING, "a string")) == NULL)
		return;
	path_member(where, path, name);
	if (nonempty && json_string_length(v) == 0) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_EMPTY, "%s is empty",
		        where);
		return;
	}
	(void)copy_string(p, v, where, dst);
}

/*
 * An optional string member, copied into *dst when present.  Absent or
 * null, *dst stays NULL: with the deviation `absent` when there is one,
 * else, for null, the null-member deviation.  Returns the member when
 * it is a string, else NULL.
 */
static const json_t *
optional_string(struct parse *p, const json_t *obj, const char *path,
                const char *name, enum mts_diag_id absent, char **dst)
{
	const json_t *v = json_object_get(obj, name);
	char where[PATH_SIZE];

	path_member(where, path, name);
	if (v == NULL || json_is_null(v)) {
		if (absent != NO_FINDING)
			deviation(p, absent, "%s is %s", where,
			          v == NULL ? "missing" : "null");
		else if (v != NULL)
			deviation(p, MTS_D_TLSRPT_REPORT_NULL_MEMBER,
			          "%s is null", where);
		return NULL;
	}
	if (!json_is_string(v)) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_TYPE,
		        "%s is %s, not a string", where, type_name(v));
		return NULL;
	}
	return copy_string(p, v, where, dst) == 0 ? v : NULL;
}

/*
 * A session count (RFC 8460 §4.4: a JSON integer; RPT-JSON-16, -17,
 * -25): an integer from 0 to INT64_MAX (jansson refuses larger ones as
 * it reads), or by default an integral real up to 2^53 (10.0, 1e1),
 * where a real still holds every integer exactly.
 */
static void
session_count(struct parse *p, const json_t *obj, const char *path,
              const char *name, uint64_t *dst)
{
	const json_t *v = json_object_get(obj, name);
	char where[PATH_SIZE];
	double d;

	path_member(where, path, name);
	if (v == NULL) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_MISSING, "%s is missing",
		        where);
	} else if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			problem(p, MTS_D_TLSRPT_REPORT_COUNT,
			        "%s is negative (%lld)", where,
			        (long long)json_integer_value(v));
		else
			*dst = (uint64_t)json_integer_value(v);
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		if (d >= 0 && d <= REAL_INT_MAX && (double)(int64_t)d == d) {
			deviation(p, MTS_D_TLSRPT_REPORT_COUNT_REAL,
			          "%s is %.17g", where, d);
			*dst = (uint64_t)d;
		} else {
			problem(p, MTS_D_TLSRPT_REPORT_COUNT,
			        "%s is %.17g, not an integer from 0", where, d);
		}
	} else {
		problem(p, MTS_D_TLSRPT_REPORT_COUNT,
		        "%s is %s, not an integer", where, type_name(v));
	}
}

/* ---- RFC 3339 date-time ---- */

/* n digits at s, their value in *v. */
static bool
digits(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!mts_is_digit((unsigned char)s[i]))
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
	static const unsigned char days[12] = {31, 28, 31, 30, 31, 30,
	                                       31, 31, 30, 31, 30, 31};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's
 * days_from_civil), for years 0..9999. */
static int64_t
days_from_civil(unsigned year, unsigned m, unsigned d)
{
	int64_t y = (int64_t)year - (m <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = m > 2 ? m - 3 : m + 9;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

struct date {
	unsigned y, mo, d, h, mi, s;
	int sign; /* of the offset: 1 or -1, 0 with "Z" or none */
	unsigned oh, om;
	bool zone; /* "Z" or an offset was given */
};

/* The zone after the seconds (and their fraction) at s[0..len). */
static const char *
date_zone(const char *s, size_t len, struct date *dt)
{
	if (len == 0)
		return NULL;
	dt->zone = true;
	/* time-offset = "Z" / time-numoffset; "t" and "z" may be lower
	 * case (RFC 3339 §5.6 NOTE). */
	if ((s[0] == 'Z' || s[0] == 'z') && len == 1)
		return NULL;
	if ((s[0] == '+' || s[0] == '-') && len == 6 &&
	    digits(s + 1, 2, &dt->oh) && s[3] == ':' &&
	    digits(s + 4, 2, &dt->om)) {
		dt->sign = s[0] == '+' ? 1 : -1;
		return dt->oh > 23 || dt->om > 59 ? "offset out of range" :
						    NULL;
	}
	return "bad time zone";
}

/*
 * date-time = full-date "T" full-time (RFC 3339 §5.6), the time zone
 * optional (its absence is a deviation the caller notes).  Returns NULL
 * and fills *dt, or a constant reason.
 */
static const char *
date_scan(const char *s, size_t len, struct date *dt)
{
	size_t i = 19;

	memset(dt, 0, sizeof(*dt));
	if (len < 19 || !digits(s, 4, &dt->y) || s[4] != '-' ||
	    !digits(s + 5, 2, &dt->mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &dt->d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &dt->h) || s[13] != ':' ||
	    !digits(s + 14, 2, &dt->mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &dt->s))
		return "not YYYY-MM-DDTHH:MM:SS";
	if (dt->mo < 1 || dt->mo > 12 || dt->d < 1 ||
	    dt->d > days_in_month(dt->y, dt->mo))
		return "no such day";
	/* time-second may be 60, a leap second (§5.6, §5.7). */
	if (dt->h > 23 || dt->mi > 59 || dt->s > 60)
		return "time out of range";
	/* time-secfrac = "." 1*DIGIT: kept to the second. */
	if (i < len && s[i] == '.') {
		while (++i < len && mts_is_digit((unsigned char)s[i]))
			;
		if (i == 20)
			return "empty fraction of a second";
	}
	return date_zone(s + i, len - i, dt);
}

/* One member of date-range, into *t (seconds since the epoch, UTC);
 * false when it is not there. */
static bool
date_member(struct parse *p, const json_t *range, const char *name, int64_t *t)
{
	const json_t *v;
	const char *s, *why;
	char where[PATH_SIZE], q[QUOTE_SIZE];
	struct date dt;
	size_t len;

	if ((v = required(p, range, "date-range", name, JSON_STRING,
	                  "a string")) == NULL)
		return false;
	path_member(where, "date-range", name);
	s = json_string_value(v);
	len = json_string_length(v);
	if ((why = date_scan(s, len, &dt)) != NULL) {
		problem(p, MTS_D_TLSRPT_REPORT_DATE_SYNTAX, "%s %s: %s", where,
		        quote(q, sizeof(q), s, len), why);
		return false;
	}
	if (!dt.zone)
		deviation(p, MTS_D_TLSRPT_REPORT_DATE_NO_ZONE,
		          "%s %s taken as UTC", where,
		          quote(q, sizeof(q), s, len));
	*t = days_from_civil(dt.y, dt.mo, dt.d) * 86400 +
	    (int64_t)(dt.h * 3600 + dt.mi * 60 + dt.s) -
	    dt.sign * (int64_t)(dt.oh * 3600 + dt.om * 60);
	return true;
}

/* ((x mod 86400) + 86400) mod 86400: the second of its UTC day. */
static int64_t
second_of_day(int64_t t)
{
	return ((t % 86400) + 86400) % 86400;
}

/* date-range (RFC 8460 §4.4), with the §4.1 "full UTC day" SHOULD. */
static void
walk_dates(struct parse *p, const json_t *root, struct mts_tlsrpt_report *r)
{
	const json_t *range;
	int64_t start = 0, end = 0;
	bool ok;

	if ((range = required(p, root, "", "date-range", JSON_OBJECT,
	                      "an object")) == NULL)
		return;
	ok = date_member(p, range, "start-datetime", &start);
	if (!date_member(p, range, "end-datetime", &end) || !ok)
		return;
	r->start = start;
	r->end = end;
	if (end < start) {
		problem(p, MTS_D_TLSRPT_REPORT_DATE_ORDER,
		        "end-datetime is %lld s before start-datetime",
		        (long long)(start - end));
		return;
	}
	/* §24 A17: a day ends at 23:59:59Z or at the next 00:00:00Z. */
	if (second_of_day(start) != 0 ||
	    (end - start != 86400 && end - start != 86399))
		problem(p, MTS_D_TLSRPT_REPORT_DATE_NOT_DAY,
		        "%lld s from a start at second %lld of its day",
		        (long long)(end - start),
		        (long long)second_of_day(start));
}

/* ---- the top-level members ---- */

/* addr-spec = local-part "@" domain (RFC 5322 §3.4.1), roughly: some
 * text on each side of the last "@", no angle brackets, no CTL or SP. */
static bool
looks_like_addr_spec(const char *s)
{
	const char *at = strrchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '<' ||
		    *s == '>')
			return false;
	return true;
}

/* contact-info: null, absent and "" are the deviation of cry-inc
 * dmarc-report-viewer issue #71 and parsedmarc issue #575. */
static void
walk_contact(struct parse *p, const json_t *root, struct mts_tlsrpt_report *r)
{
	const json_t *v = json_object_get(root, "contact-info");
	char q[QUOTE_SIZE];

	if (v == NULL || json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0)) {
		deviation(p, MTS_D_TLSRPT_REPORT_CONTACT_MISSING,
		          "contact-info is %s",
		          v == NULL           ? "missing" :
		              json_is_null(v) ? "null" :
		                                "empty");
		return;
	}
	if (!json_is_string(v)) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_TYPE,
		        "contact-info is %s, not a string", type_name(v));
		return;
	}
	if (copy_string(p, v, "contact-info", &r->contact_info) != 0)
		return;
	/* RPT-JSON-7: an addr-spec, not a name-addr. */
	if (!looks_like_addr_spec(r->contact_info))
		deviation(p, MTS_D_TLSRPT_REPORT_CONTACT_SYNTAX,
		          "contact-info %s",
		          quote(q, sizeof(q), r->contact_info,
		                strlen(r->contact_info)));
}

/* ---- a policy ---- */

/*
 * A list of strings (policy-string, mx-host): absent is empty; with
 * `bare` a lone string is the deviation `bare`, a list of one.  Every
 * item counts against MTS_TLSRPT_STRINGS_MAX.
 */
static void
string_list(struct parse *p, const json_t *obj, const char *path,
            const char *name, enum mts_diag_id bare, char ***list, size_t *n)
{
	const json_t *v = json_object_get(obj, name), *item;
	char where[PATH_SIZE], at[PATH_SIZE];
	size_t i, count;
	bool typed = true;

	path_member(where, path, name);
	if (v == NULL)
		return;
	if (json_is_null(v)) {
		deviation(p, MTS_D_TLSRPT_REPORT_NULL_MEMBER, "%s is null",
		          where);
		return;
	}
	if (json_is_string(v) && bare != NO_FINDING) {
		deviation(p, bare, "%s is a string", where);
		count = 1;
	} else if (!json_is_array(v)) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_TYPE,
		        "%s is %s, not an array of strings", where,
		        type_name(v));
		return;
	} else {
		count = json_array_size(v);
		/* RPT-JSON-11 T3: no nested arrays, nothing but strings. */
		json_array_foreach(v, i, item)
		{
			if (json_is_string(item))
				continue;
			path_item(at, where, i);
			problem(p, MTS_D_TLSRPT_REPORT_MEMBER_TYPE,
			        "%s is %s, not a string", at, type_name(item));
			typed = false;
		}
	}
	if (count > MTS_TLSRPT_STRINGS_MAX - p->strings) {
		too_big(p,
		        "%s brings the policy strings and mx-host items "
		        "over %u",
		        where, MTS_TLSRPT_STRINGS_MAX);
		return;
	}
	p->strings += count;
	if (!typed || count == 0)
		return;
	if ((*list = calloc(count, sizeof(**list))) == NULL) {
		no_memory(p);
		return;
	}
	*n = count;
	for (i = 0; i < count; i++) {
		item = json_is_array(v) ? json_array_get(v, i) : v;
		path_item(at, where, i);
		if (copy_string(p, item, at, &(*list)[i]) != 0)
			return;
	}
}

/* The strings of a JSON array of strings `arr`, or NULL when it is
 * not one; *n their number.  NOMEM is told by *oom. */
static char **
array_strings(const json_t *arr, size_t *n, bool *oom)
{
	const json_t *item;
	char **list;
	size_t i;

	*oom = false;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return NULL;
	json_array_foreach(arr, i, item)
	{
		if (!json_is_string(item))
			return NULL;
	}
	*n = json_array_size(arr);
	if ((list = calloc(*n, sizeof(*list))) == NULL)
		goto fail;
	for (i = 0; i < *n; i++) {
		item = json_array_get(arr, i);
		list[i] = mts_strndup(json_string_value(item),
		                      json_string_length(item));
		if (list[i] == NULL)
			goto fail;
	}
	return list;
fail:
	if (list != NULL)
		for (i = 0; i < *n; i++)
			free(list[i]);
	free(list);
	*oom = true;
	return NULL;
}

/*
 * Microsoft writes a tlsa policy-string as one string holding a JSON
 * array of the records (["[\"3 1 1 ...\",\"3 1 1 ...\"]"]); §4.5 wants
 * one string per record.  Such a string is unpacked into its strings;
 * one that is not an array of strings is kept as received.
 */
static void
tlsa_unpack(struct parse *p, const char *path, struct mts_tlsrpt_policy *pol)
{
	const char *s = pol->policy_strings[0];
	char where[PATH_SIZE], **list;
	json_error_t jerr;
	json_t *arr;
	size_t i, n = 0;
	bool oom;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s != '[')
		return;
	memset(&jerr, 0, sizeof(jerr));
	arr = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
	if (arr == NULL) {
		/* An empty text is an allocation of jansson's that failed
		 * (see load_failed()). */
		if (jerr.text[0] == '\0' ||
		    json_error_code(&jerr) == json_error_out_of_memory)
			no_memory(p);
		return;
	}
	list = array_strings(arr, &n, &oom);
	json_decref(arr);
	if (oom) {
		no_memory(p);
		return;
	}
	if (list == NULL)
		return;
	path_member(where, path, "policy-string");
	if (n - 1 > MTS_TLSRPT_STRINGS_MAX - p->strings) {
		too_big(p, "%s[0] brings the policy strings over %u", where,
		        MTS_TLSRPT_STRINGS_MAX);
	} else {
		deviation(p, MTS_D_TLSRPT_REPORT_TLSA_STRING_ARRAY,
		          "%s[0] holds a JSON array of %zu strings", where, n);
		p->strings += n - 1;
		free(pol->policy_strings[0]);
		free(pol->policy_strings);
		pol->policy_strings = list;
		pol->policy_string_count = n;
		return;
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* policy-type ∈ {sts, tlsa, no-policy-found}, exactly (RPT-JSON-10):
 * the set is closed, unlike the result types, and "STS" is refused. */
static void
check_policy_type(struct parse *p, const char *where, const char *type)
{
	char q[QUOTE_SIZE];

	if (strcmp(type, "sts") != 0 && strcmp(type, "tlsa") != 0 &&
	    strcmp(type, "no-policy-found") != 0)
		problem(p, MTS_D_TLSRPT_REPORT_POLICY_TYPE, "%s %s", where,
		        quote(q, sizeof(q), type, strlen(type)));
}

/* policy-domain: A-labels (RPT-JSON-14); absent or null a deviation. */
static void
walk_domain(struct parse *p, const json_t *policy, const char *path,
            struct mts_tlsrpt_policy *pol)
{
	char where[PATH_SIZE], q[QUOTE_SIZE];
	size_t len;

	if (optional_string(p, policy, path, "policy-domain",
	                    MTS_D_TLSRPT_REPORT_DOMAIN_MISSING,
	                    &pol->policy_domain) == NULL)
		return;
	len = strlen(pol->policy_domain);
	if (mts_dname_check(pol->policy_domain, len,
	                    MTS_DNAME_ALLOW_TRAILING_DOT, NULL) != 0) {
		path_member(where, path, "policy-domain");
		deviation(p, MTS_D_TLSRPT_REPORT_DOMAIN_SYNTAX, "%s %s", where,
		          quote(q, sizeof(q), pol->policy_domain, len));
	}
}

/* The "policy" object of a policies[] item (RFC 8460 §4.4). */
static void
walk_policy_desc(struct parse *p, const json_t *policy, const char *path,
                 struct mts_tlsrpt_policy *pol)
{
	char where[PATH_SIZE];

	path_member(where, path, "policy-type");
	required_string(p, policy, path, "policy-type", true,
	                &pol->policy_type);
	if (pol->policy_type != NULL)
		check_policy_type(p, where, pol->policy_type);
	walk_domain(p, policy, path, pol);
	if (stopped(p))
		return;
	/* Absent for no-policy-found and fetch errors: empty (RPT-JSON-13). */
	string_list(p, policy, path, "policy-string", NO_FINDING,
	            &pol->policy_strings, &pol->policy_string_count);
	if (pol->policy_type != NULL && strcmp(pol->policy_type, "tlsa") == 0 &&
	    pol->policy_string_count == 1 && pol->policy_strings[0] != NULL)
		tlsa_unpack(p, path, pol);
	if (stopped(p))
		return;
	/* RPT-JSON-15: an array; the RFC's example string (erratum 6241). */
	string_list(p, policy, path, "mx-host",
	            MTS_D_TLSRPT_REPORT_MX_HOST_STRING, &pol->mx_hosts,
	            &pol->mx_host_count);
}

/* The result types registered by RFC 8460 §6.6 (§4.3). */
static bool
result_type_known(const char *type)
{
	static const char *const known[] = {
	    "starttls-not-supported", "certificate-host-mismatch",
	    "certificate-expired",    "certificate-not-trusted",
	    "validation-failure",     "tlsa-invalid",
	    "dnssec-invalid",         "dane-required",
	    "sts-policy-fetch-error", "sts-policy-invalid",
	    "sts-webpki-invalid",
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(type, known[i]) == 0)
			return true;
	return false;
}

/* One failure-details item (RFC 8460 §4.4; RPT-JSON-26: all but
 * result-type and failed-session-count optional). */
static void
walk_failure(struct parse *p, const json_t *item, const char *path,
             struct mts_tlsrpt_failure *f)
{
	char where[PATH_SIZE], q[QUOTE_SIZE];

	if (!json_is_object(item)) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_TYPE,
		        "%s is %s, not an object", path, type_name(item));
		return;
	}
	required_string(p, item, path, "result-type", true, &f->result_type);
	/* RPT-RES-12: the registry grows; unknown types are kept. */
	if (f->result_type != NULL && !result_type_known(f->result_type)) {
		path_member(where, path, "result-type");
		problem(p, MTS_D_TLSRPT_REPORT_RESULT_TYPE_UNKNOWN, "%s %s",
		        where,
		        quote(q, sizeof(q), f->result_type,
		              strlen(f->result_type)));
	}
	session_count(p, item, path, "failed-session-count",
	              &f->failed_session_count);
	(void)optional_string(p, item, path, "sending-mta-ip",
	                      MTS_D_TLSRPT_REPORT_DETAIL_NO_SENDING_IP,
	                      &f->sending_mta_ip);
	(void)optional_string(p, item, path, "receiving-mx-hostname",
	                      MTS_D_TLSRPT_REPORT_DETAIL_NO_MX_HOSTNAME,
	                      &f->receiving_mx_hostname);
	(void)optional_string(p, item, path, "receiving-mx-helo", NO_FINDING,
	                      &f->receiving_mx_helo);
	(void)optional_string(p, item, path, "receiving-ip", NO_FINDING,
	                      &f->receiving_ip);
	(void)optional_string(p, item, path, "additional-information",
	                      NO_FINDING, &f->additional_information);
	(void)optional_string(p, item, path, "failure-reason-code", NO_FINDING,
	                      &f->failure_reason_code);
}

/* failure-details: absent is none (Google's reports omit it). */
static void
walk_failures(struct parse *p, const json_t *item, const char *path,
              struct mts_tlsrpt_policy *pol)
{
	const json_t *v = json_object_get(item, "failure-details");
	char where[PATH_SIZE], at[PATH_SIZE];
	size_t i, n;

	path_member(where, path, "failure-details");
	if (v == NULL)
		return;
	if (json_is_null(v)) {
		deviation(p, MTS_D_TLSRPT_REPORT_NULL_MEMBER, "%s is null",
		          where);
		return;
	}
	if (!json_is_array(v)) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_TYPE,
		        "%s is %s, not an array", where, type_name(v));
		return;
	}
	if ((n = json_array_size(v)) == 0)
		return;
	if (n > MTS_TLSRPT_DETAILS_MAX - p->details) {
		too_big(p, "%s brings the failure details over %u", where,
		        MTS_TLSRPT_DETAILS_MAX);
		return;
	}
	p->details += n;
	if ((pol->failures = calloc(n, sizeof(*pol->failures))) == NULL) {
		no_memory(p);
		return;
	}
	pol->failure_count = n;
	for (i = 0; i < n && !stopped(p); i++) {
		path_item(at, where, i);
		walk_failure(p, json_array_get(v, i), at, &pol->failures[i]);
	}
}

/* One policies[] item: policy, summary, failure-details (§4.4). */
static void
walk_policy(struct parse *p, const json_t *item, const char *path,
            struct mts_tlsrpt_policy *pol)
{
	const json_t *policy, *summary;
	char where[PATH_SIZE];

	if (!json_is_object(item)) {
		problem(p, MTS_D_TLSRPT_REPORT_MEMBER_TYPE,
		        "%s is %s, not an object", path, type_name(item));
		return;
	}
	policy = required(p, item, path, "policy", JSON_OBJECT, "an object");
	if (policy != NULL) {
		path_member(where, path, "policy");
		walk_policy_desc(p, policy, where, pol);
	}
	summary = required(p, item, path, "summary", JSON_OBJECT, "an object");
	if (summary != NULL) {
		path_member(where, path, "summary");
		session_count(p, summary, where,
		              "total-successful-session-count",
		              &pol->successful);
		session_count(p, summary, where, "total-failure-session-count",
		              &pol->failed);
	}
	if (!stopped(p))
		walk_failures(p, item, path, pol);
}

/* Adds b to *sum; false when that passes INT64_MAX. */
static bool
add_count(uint64_t *sum, uint64_t b)
{
	if (b > (uint64_t)INT64_MAX - *sum)
		return false;
	*sum += b;
	return true;
}

/* The totals over the policies; each count is at most INT64_MAX. */
static void
sum_policies(struct parse *p, struct mts_tlsrpt_report *r)
{
	size_t i;

	for (i = 0; i < r->policy_count; i++) {
		if (!add_count(&r->total_successful,
		               r->policies[i].successful) ||
		    !add_count(&r->total_failed, r->policies[i].failed)) {
			problem(p, MTS_D_TLSRPT_REPORT_COUNT_OVERFLOW,
			        "the counts of policies[0..%zu] add up past "
			        "2^63 - 1",
			        i);
			return;
		}
	}
}

/* policies: always an array (§4 MUST, RPT-JSON-9), not empty. */
static void
walk_policies(struct parse *p, const json_t *root, struct mts_tlsrpt_report *r)
{
	const json_t *v;
	char at[PATH_SIZE];
	size_t i, n;

	if ((v = required(p, root, "", "policies", JSON_ARRAY, "an array")) ==
	    NULL)
		return;
	if ((n = json_array_size(v)) == 0) {
		problem(p, MTS_D_TLSRPT_REPORT_POLICIES_EMPTY,
		        "policies is []");
		return;
	}
	if (n > MTS_TLSRPT_POLICIES_MAX) {
		too_big(p, "%zu policies, over %u", n, MTS_TLSRPT_POLICIES_MAX);
		return;
	}
	if ((r->policies = calloc(n, sizeof(*r->policies))) == NULL) {
		no_memory(p);
		return;
	}
	r->policy_count = n;
	for (i = 0; i < n && !stopped(p); i++) {
		path_item(at, "policies", i);
		walk_policy(p, json_array_get(v, i), at, &r->policies[i]);
	}
	if (p->code == MTS_OK)
		sum_policies(p, r);
}

/* The report object (RFC 8460 §4.4); unknown members are ignored
 * (RPT-JSON-28). */
static void
walk_report(struct parse *p, const json_t *root, struct mts_tlsrpt_report *r)
{
	if (!json_is_object(root)) {
		problem(p, MTS_D_TLSRPT_REPORT_NOT_OBJECT,
		        "the top level is %s", type_name(root));
		return;
	}
	required_string(p, root, "", "organization-name", true,
	                &r->organization_name);
	if (!stopped(p))
		walk_dates(p, root, r);
	if (!stopped(p))
		walk_contact(p, root, r);
	/* The store's identity is (organization-name, report-id): a report
	 * without one is refused, strict or not (RPT-JSON-2, -8). */
	if (!stopped(p))
		required_string(p, root, "", "report-id", true, &r->report_id);
	if (!stopped(p))
		walk_policies(p, root, r);
}

/* ---- entry points ---- */

/* Why jansson gave no tree: the finding, and -1 with *err. */
static int
load_failed(const json_error_t *jerr, struct mts_diag *diag,
            struct mts_err *err)
{
	unsigned line = jerr->line > 0 ? (unsigned)jerr->line : 0;
	unsigned col = jerr->column > 0 ? (unsigned)jerr->column : 0;
	char q[MTS_FINDING_MSG_SIZE];

	/* jansson's text may quote the input: made ASCII by quote(). */
	quote(q, sizeof(q), jerr->text,
	      strnlen(jerr->text, sizeof(jerr->text)));
	/* jansson returns NULL without a message when an allocation of
	 * its own fails (lex_init(), json_object(), ...): jerr was zeroed
	 * before the call, so an empty text is out of memory. */
	if (jerr->text[0] == '\0')
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	switch (json_error_code(jerr)) {
	case json_error_out_of_memory:
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	case json_error_stack_overflow:
		mts_diag_add(diag, MTS_D_TLSRPT_REPORT_TOO_BIG, line,
		             "nested too deep at line %u: %s", line, q);
		return mts_err_set(err, MTS_ERR_TOOBIG, line, col,
		                   "the JSON is nested too deep");
	case json_error_numeric_overflow:
		mts_diag_add(diag, MTS_D_TLSRPT_REPORT_COUNT, line,
		             "a number past 2^63 - 1 at line %u: %s", line, q);
		return mts_err_set(err, MTS_ERR_INVALID, line, col,
		                   "a number is out of range");
	default:
		mts_diag_add(diag, MTS_D_TLSRPT_REPORT_JSON, line,
		             "line %u, column %u: %s", line, col, q);
		return mts_err_set(err, MTS_ERR_SYNTAX, line, col,
		                   "the report is not I-JSON");
	}
}

/* Walks the tree jansson built (and frees it) into *out. */
static int
finish(json_t *root, unsigned flags, struct mts_tlsrpt_report *out,
       struct mts_diag *diag, struct mts_err *err)
{
	struct mts_tlsrpt_report r;
	struct parse p;

	memset(&r, 0, sizeof(r));
	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.diag = diag;
	walk_report(&p, root, &r);
	json_decref(root);
	if (p.code != MTS_OK) {
		mts_tlsrpt_report_reset(&r);
		return mts_err_set(err, p.code, 0, 0, p.msg);
	}
	*out = r;
	return 0;
}

int
mts_tlsrpt_report_parse(const char *json, size_t len, unsigned flags,
                        struct mts_tlsrpt_report *out, struct mts_diag *diag,
                        struct mts_err *err)
{
	json_error_t jerr;
	json_t *root;

	if (out == NULL || (json == NULL && len != 0))
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "no report or no text");
	if (len > MTS_TLSRPT_REPORT_MAX) {
		mts_diag_add(diag, MTS_D_TLSRPT_REPORT_TOO_BIG, 0,
		             "%zu octets of JSON, over %u", len,
		             MTS_TLSRPT_REPORT_MAX);
		return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
		                   "the report is over 10 MB");
	}
	/* RPT-JSON-1: I-JSON.  jansson checks UTF-8 and refuses \u0000
	 * on its own; repeated members only when asked. */
	memset(&jerr, 0, sizeof(jerr));
	root = json_loadb(json == NULL ? "" : json, len, JSON_REJECT_DUPLICATES,
	                  &jerr);
	if (root == NULL)
		return load_failed(&jerr, diag, err);
	return finish(root, flags, out, diag, err);
}

/* The caller's reader behind jansson's callback, counting octets. */
struct reader {
	mts_tlsrpt_read_fn read;
	void *ctx;
	size_t total;
	bool done;   /* the reader returned 0 or failed: not called again */
	bool io;     /* it failed, or returned more than asked */
	bool toobig; /* it gave more than MTS_TLSRPT_REPORT_MAX octets */
};

static size_t
reader_cb(void *buf, size_t size, void *data)
{
	struct reader *rd = data;
	size_t want, n;

	if (rd->done)
		return rd->io || rd->toobig ? (size_t)-1 : 0;
	/* Ask for no more than one octet past the cap. */
	want = MTS_TLSRPT_REPORT_MAX + (size_t)1 - rd->total;
	if (want > size)
		want = size;
	n = rd->read(buf, want, rd->ctx);
	if (n == 0 || n == (size_t)-1 || n > want) {
		rd->done = true;
		rd->io = n != 0;
		return n == 0 ? 0 : (size_t)-1;
	}
	rd->total += n;
	if (rd->total > MTS_TLSRPT_REPORT_MAX) {
		rd->done = true;
		rd->toobig = true;
		return (size_t)-1;
	}
	return n;
}

int
mts_tlsrpt_report_parse_cb(mts_tlsrpt_read_fn read, void *ctx, unsigned flags,
                           struct mts_tlsrpt_report *out, struct mts_diag *diag,
                           struct mts_err *err)
{
	struct reader rd;
	json_error_t jerr;
	json_t *root;

	if (out == NULL || read == NULL)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "no report or no reader");
	memset(&rd, 0, sizeof(rd));
	rd.read = read;
	rd.ctx = ctx;
	memset(&jerr, 0, sizeof(jerr));
	root =
	    json_load_callback(reader_cb, &rd, JSON_REJECT_DUPLICATES, &jerr);
	if (rd.toobig || rd.io) {
		/* jansson may have built nothing, or read a value and
		 * failed only its end check: either way, refused. */
		json_decref(root);
		if (rd.io)
			return mts_err_set(err, MTS_ERR_IO, 0, 0,
			                   "the report's reader failed");
		mts_diag_add(diag, MTS_D_TLSRPT_REPORT_TOO_BIG, 0,
		             "over %u octets of JSON", MTS_TLSRPT_REPORT_MAX);
		return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
		                   "the report is over 10 MB");
	}
	if (root == NULL)
		return load_failed(&jerr, diag, err);
	return finish(root, flags, out, diag, err);
}

static void
failure_free(struct mts_tlsrpt_failure *f)
{
	free(f->result_type);
	free(f->sending_mta_ip);
	free(f->receiving_mx_hostname);
	free(f->receiving_mx_helo);
	free(f->receiving_ip);
	free(f->additional_information);
	free(f->failure_reason_code);
}

static void
strings_free(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void
policy_free(struct mts_tlsrpt_policy *pol)
{
	size_t i;

	free(pol->policy_type);
	free(pol->policy_domain);
	strings_free(pol->policy_strings, pol->policy_string_count);
	strings_free(pol->mx_hosts, pol->mx_host_count);
	for (i = 0; i < pol->failure_count; i++)
		failure_free(&pol->failures[i]);
	free(pol->failures);
}

void
mts_tlsrpt_report_reset(struct mts_tlsrpt_report *report)
{
	size_t i;

	if (report == NULL)
		return;
	free(report->organization_name);
	free(report->report_id);
	free(report->contact_info);
	for (i = 0; i < report->policy_count; i++)
		policy_free(&report->policies[i]);
	free(report->policies);
	memset(report, 0, sizeof(*report));
}
