/* SPDX-License-Identifier: ISC */
/*
 * MTA-STS policy ids (RFC 8461 §3.1): the syntax check of `sts-id`
 * (1*32(ALPHA / DIGIT)), and the UTC timestamp ids "YYYYMMDDTHHMMSSZ"
 * (ISO 8601 basic format, the separators dropped because the id allows
 * only letters and digits) that `mtasts init` suggests and that the lint
 * recognises.
 *
 * The calendar arithmetic is done here, in the proleptic Gregorian
 * calendar, rather than with gmtime()/timegm(): those depend on the C
 * library's time_t range and on TZ handling, and the core stays free of
 * both.  The conversions are Howard Hinnant's days_from_civil() and
 * civil_from_days(), exact for every int64_t day count we accept.
 */
#include <stdint.h>

#include <mtasts/sts.h>

#include "internal.h"

#define SECS_PER_DAY 86400

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since 1970. */
#define TIME_MIN (-62167219200LL)
#define TIME_MAX 253402300799LL

#define STS_ID_MAX 32 /* RFC 8461 §3.1: sts-id = 1*32(ALPHA / DIGIT) */

struct civil {
	int64_t year;
	unsigned month; /* 1..12 */
	unsigned day;   /* 1..31 */
};

/*
 * Days since 1970-01-01 of a proleptic Gregorian date.  The year is
 * shifted to begin in March so that the leap day is the last day of its
 * "year"; a 400-year era has exactly 146097 days.
 */
static int64_t
days_from_civil(const struct civil *c)
{
	int64_t y = c->year - (c->month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                             /* 0..399 */
	int64_t mp = c->month > 2 ? c->month - 3 : c->month + 9; /* Mar = 0 */
	int64_t doy = (153 * mp + 2) / 5 + c->day - 1;           /* 0..365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;     /* 0..146096 */

	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil(). */
static void
civil_from_days(int64_t z, struct civil *c)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468; /* days since 0000-03-01 */
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	c->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	c->year = yoe + era * 400 + (c->month <= 2);
}

static bool
is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30,
	                                        31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* Writes v as exactly `width` decimal digits, most significant first. */
static void
put_digits(char *p, unsigned v, unsigned width)
{
	while (width-- > 0) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Reads exactly `width` decimal digits; false if any is not a digit. */
static bool
get_digits(const char *p, unsigned width, unsigned *v)
{
	unsigned i, n = 0;

	for (i = 0; i < width; i++) {
		if (!mts_is_digit((unsigned char)p[i]))
			return false;
		n = n * 10 + (unsigned)(p[i] - '0');
	}
	*v = n;
	return true;
}

int
mts_sts_id_format(int64_t t, char *buf, size_t size, struct mts_err *err)
{
	struct civil c;
	int64_t days, secs;

	if (buf == NULL || size < MTS_STS_ID_TIMESTAMP_LEN + 1)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "buffer too small for a timestamp id");
	if (t < TIME_MIN || t > TIME_MAX)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "time outside the years 0000-9999");

	/* Floor division: -1 is 1969-12-31T23:59:59Z, not day 0. */
	days = t / SECS_PER_DAY;
	secs = t % SECS_PER_DAY;
	if (secs < 0) {
		secs += SECS_PER_DAY;
		days--;
	}
	civil_from_days(days, &c);

	put_digits(buf, (unsigned)c.year, 4);
	put_digits(buf + 4, c.month, 2);
	put_digits(buf + 6, c.day, 2);
	buf[8] = 'T';
	put_digits(buf + 9, (unsigned)(secs / 3600), 2);
	put_digits(buf + 11, (unsigned)(secs / 60 % 60), 2);
	put_digits(buf + 13, (unsigned)(secs % 60), 2);
	buf[15] = 'Z';
	buf[16] = '\0';
	return 0;
}

bool
mts_sts_id_valid(const char *id, size_t len)
{
	size_t i;

	if (id == NULL || len == 0 || len > STS_ID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!mts_is_alnum((unsigned char)id[i]))
			return false;
	return true;
}

/*
 * Strict: the 'T' and 'Z' are upper case as ISO 8601 writes them, the
 * date must exist (no 20230229), and there is no leap second: an id is a
 * label, not a clock reading, and 60 would not round-trip.
 */
bool
mts_sts_id_parse_timestamp(const char *id, size_t len, int64_t *t)
{
	struct civil c;
	unsigned y, mo, d, h, mi, s;

	if (id == NULL || len != MTS_STS_ID_TIMESTAMP_LEN)
		return false;
	if (id[8] != 'T' || id[15] != 'Z')
		return false;
	if (!get_digits(id, 4, &y) || !get_digits(id + 4, 2, &mo) ||
	    !get_digits(id + 6, 2, &d) || !get_digits(id + 9, 2, &h) ||
	    !get_digits(id + 11, 2, &mi) || !get_digits(id + 13, 2, &s))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return false;
	if (h > 23 || mi > 59 || s > 59)
		return false;
	if (t != NULL) {
		c.year = y;
		c.month = mo;
		c.day = d;
		*t = days_from_civil(&c) * SECS_PER_DAY + (int64_t)h * 3600 +
		    (int64_t)mi * 60 + s;
	}
	return true;
}
