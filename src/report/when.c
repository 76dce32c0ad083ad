/* SPDX-License-Identifier: ISC */
/*
 * DATE arguments (when.h): dates, RFC 3339 date-times (RFC 3339 §5.6)
 * and durations before a given now.  Pure: no clock, no locale, no
 * time zone database; the calendar is the proleptic Gregorian one of
 * RFC 3339 §5.7, computed with integers (H. Hinnant's days_from_civil).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "when.h"

#define DAY 86400

/* The inverse: y-m-d of a day number. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
month_days(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
	                             31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Exactly n decimal digits at s, as a number; -1 when not digits. */
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

/* The bounds of RFC 3339's years, 0000-01-01 and 10000-01-01. */
static int64_t
first_second(void)
{
	return mts_days_from_civil(0, 1, 1) * DAY;
}

static int64_t
end_second(void)
{
	return mts_days_from_civil(10000, 1, 1) * DAY;
}

/* "YYYY-MM-DD" at s: its day number, or -1 with why. */
static int
parse_date(const char *s, int64_t *day, const char **why)
{
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);

	if (y < 0 || s[4] != '-' || m < 0 || s[7] != '-' || d < 0) {
		*why = "not a date (YYYY-MM-DD)";
		return -1;
	}
	if (m < 1 || m > 12 || d < 1 || d > month_days(y, m)) {
		*why = "no such day";
		return -1;
	}
	*day = mts_days_from_civil(y, m, d);
	return 0;
}

/*
 * "HH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" at s (RFC 3339 §5.6 time-hour ..
 * time-offset): seconds into the day, offset applied.
 */
static int
parse_time(const char *s, int64_t *secs, const char **why)
{
	int h, mi, se, oh, om, sign;
	const char *p = s + 8;

	if (strlen(s) < 8)
		goto bad; /* no digit is read past the end */
	h = digits(s, 2);
	mi = digits(s + 3, 2);
	se = digits(s + 6, 2);
	if (h < 0 || s[2] != ':' || mi < 0 || s[5] != ':' || se < 0)
		goto bad;
	if (h > 23 || mi > 59 || se > 60) {
		*why = "no such time of day";
		return -1;
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			goto bad;
		for (p++; *p >= '0' && *p <= '9'; p++)
			; /* time-secfrac: below the second, dropped */
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*secs = h * 3600 + mi * 60 + se;
		return 0;
	}
	if (*p != '+' && *p != '-') {
		*why = "a date-time needs its time zone (Z or +HH:MM)";
		return -1;
	}
	sign = *p == '-' ? -1 : 1;
	if (strlen(p) != 6)
		goto bad;
	oh = digits(p + 1, 2);
	om = digits(p + 4, 2);
	if (oh < 0 || p[3] != ':' || om < 0)
		goto bad;
	if (oh > 23 || om > 59) {
		*why = "no such time zone offset";
		return -1;
	}
	/* §5.6: local time minus the offset is UTC. */
	*secs = h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
	return 0;
bad:
	*why = "not a date-time (YYYY-MM-DDTHH:MM:SSZ)";
	return -1;
}

/* "N" followed by s, m, h, d or w: that many seconds before now. */
static int
parse_duration(const char *s, int64_t now, int64_t *out, const char **why)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {{'s', 1},
	             {'m', 60},
	             {'h', 3600},
	             {'d', DAY},
	             {'w', 7 * DAY}};
	int64_t n = 0;
	size_t i, len = strlen(s);

	if (len < 2 || len > 13) {
		*why = "not a date, date-time or duration (24h, 7d)";
		return -1;
	}
	for (i = 0; i + 1 < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = "not a date, date-time or duration (24h, 7d)";
			return -1;
		}
		n = n * 10 + (s[i] - '0'); /* 12 digits at most: no overflow */
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == s[len - 1])
			break;
	if (i == sizeof(units) / sizeof(units[0])) {
		*why = "a duration's unit is s, m, h, d or w";
		return -1;
	}
	/* n * w is at most 10^12 * 604800 < 2^63; now is checked below. */
	if (now < first_second() || now > end_second()) {
		*why = "the clock is outside the years 0000-9999";
		return -1;
	}
	*out = now - n * units[i].secs;
	return 0;
}

int
when_parse(const char *s, int64_t now, unsigned flags, int64_t *out,
           const char **why)
{
	const char *dummy;
	int64_t day, secs, t;
	size_t len;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || out == NULL) {
		*why = "no date";
		return -1;
	}
	len = strlen(s);
	if (strcmp(s, "now") == 0) {
		t = now;
	} else if (len >= 10 && s[4] == '-') {
		if (parse_date(s, &day, why) == -1)
			return -1;
		if (len == 10) {
			t = (day + ((flags & WHEN_UNTIL) != 0)) * DAY;
		} else {
			if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
				*why = "not a date-time "
				       "(YYYY-MM-DDTHH:MM:SSZ)";
				return -1;
			}
			if (parse_time(s + 11, &secs, why) == -1)
				return -1;
			t = day * DAY + secs;
		}
	} else if (parse_duration(s, now, &t, why) == -1) {
		return -1;
	}
	if (t < first_second() || t > end_second()) {
		*why = "outside the years 0000-9999";
		return -1;
	}
	*out = t;
	return 0;
}

int64_t
when_day_start(int64_t t)
{
	int64_t r = t % DAY, q = t - r; /* toward zero: no overflow */

	/* Floored, not truncated: the day of -1 is 1969-12-31. */
	if (r < 0 && q >= INT64_MIN + DAY)
		q -= DAY;
	return q;
}

void
when_format_day(int64_t t, char buf[WHEN_DAY_SIZE])
{
	int64_t y;
	int m, d;

	civil_from_days(when_day_start(t) / DAY, &y, &m, &d);
	(void)snprintf(buf, WHEN_DAY_SIZE, "%04lld-%02d-%02d", (long long)y, m,
	               d);
}

void
when_format_time(int64_t t, char buf[WHEN_TIME_SIZE])
{
	char day[WHEN_DAY_SIZE];
	int64_t s = t - when_day_start(t);

	when_format_day(t, day);
	(void)snprintf(buf, WHEN_TIME_SIZE, "%sT%02d:%02d:%02dZ", day,
	               (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}
