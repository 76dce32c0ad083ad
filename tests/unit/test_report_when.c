/* SPDX-License-Identifier: ISC */
/*
 * The DATE arguments of mtasts report (src/report/when.c): a table of
 * inputs, with and without WHEN_UNTIL, against seconds computed apart
 * (date -u -d ... +%s), and the days and times they are shown as.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "when.h"

/* 2026-12-01T12:00:00Z, the "now" of the table. */
#define NOW INT64_C(1796126400)

static const struct parse_case {
	const char *name;
	const char *input;
	unsigned flags;
	int rc;
	int64_t want;
	const char *why; /* a part of the message when rc is -1 */
} parse_cases[] = {
    {"a date is its 00:00 UTC", "2026-12-01", 0, 0, INT64_C(1796083200), NULL},
    {"--until: a date is the end of its day", "2026-12-01", WHEN_UNTIL, 0,
     INT64_C(1796169600), NULL},
    {"the epoch", "1970-01-01", 0, 0, 0, NULL},
    {"before the epoch", "1969-12-31", 0, 0, -86400, NULL},
    {"a leap day", "2024-02-29", 0, 0, INT64_C(1709164800), NULL},
    {"no leap day in 2100", "2100-02-29", 0, -1, 0, "no such day"},
    {"a leap day in 2000", "2000-02-29", 0, 0, INT64_C(951782400), NULL},
    {"no 31 April", "2026-04-31", 0, -1, 0, "no such day"},
    {"no month 13", "2026-13-01", 0, -1, 0, "no such day"},
    {"no day 0", "2026-12-00", 0, -1, 0, "no such day"},
    {"the first year", "0000-01-01", 0, 0, INT64_C(-62167219200), NULL},
    {"the last day, --until", "9999-12-31", WHEN_UNTIL, 0,
     INT64_C(253402300800), NULL},
    {"a short date", "2026-1-01", 0, -1, 0, "not a"},
    {"letters in a date", "2026-1x-01", 0, -1, 0, "not a date"},
    {"RFC 3339 Z", "2026-12-01T06:30:00Z", 0, 0, INT64_C(1796106600), NULL},
    {"RFC 3339 Z, --until is the instant", "2026-12-01T06:30:00Z", WHEN_UNTIL,
     0, INT64_C(1796106600), NULL},
    {"RFC 3339 lower-case t and z", "2026-12-01t06:30:00z", 0, 0,
     INT64_C(1796106600), NULL},
    {"RFC 3339 with a space", "2026-12-01 06:30:00Z", 0, 0, INT64_C(1796106600),
     NULL},
    {"RFC 3339 +02:00", "2026-12-01T08:30:00+02:00", 0, 0, INT64_C(1796106600),
     NULL},
    {"RFC 3339 -05:30 crosses the day", "2026-11-30T23:00:00-05:30", 0, 0,
     INT64_C(1796106600) - 7200, NULL},
    {"RFC 3339 fraction dropped", "2026-12-01T06:30:00.999Z", 0, 0,
     INT64_C(1796106600), NULL},
    {"RFC 3339 leap second", "2016-12-31T23:59:60Z", 0, 0, INT64_C(1483228800),
     NULL},
    {"no zone", "2026-12-01T06:30:00", 0, -1, 0, "time zone"},
    {"hour 24", "2026-12-01T24:00:00Z", 0, -1, 0, "no such time"},
    {"minute 60", "2026-12-01T06:60:00Z", 0, -1, 0, "no such time"},
    {"second 61", "2026-12-01T06:30:61Z", 0, -1, 0, "no such time"},
    {"offset 24:00", "2026-12-01T06:30:00+24:00", 0, -1, 0, "offset"},
    {"an empty fraction", "2026-12-01T06:30:00.Z", 0, -1, 0, "not a date-time"},
    {"a time cut short", "2026-12-01T06:3", 0, -1, 0, "not a date-time"},
    {"an offset cut short", "2026-12-01T06:30:00+02", 0, -1, 0,
     "not a date-time"},
    {"an offset too long", "2026-12-01T06:30:00+02:000", 0, -1, 0,
     "not a date-time"},
    {"junk after Z", "2026-12-01T06:30:00Zx", 0, -1, 0, "time zone"},
    {"a bad separator", "2026-12-01X06:30:00Z", 0, -1, 0, "not a date-time"},
    {"before year 0", "0000-01-01T00:00:00+01:00", 0, -1, 0, "outside"},
    {"24h", "24h", 0, 0, NOW - 86400, NULL},
    {"24h, --until too", "24h", WHEN_UNTIL, 0, NOW - 86400, NULL},
    {"7d", "7d", 0, 0, NOW - 7 * 86400, NULL},
    {"90m", "90m", 0, 0, NOW - 5400, NULL},
    {"30s", "30s", 0, 0, NOW - 30, NULL},
    {"2w", "2w", 0, 0, NOW - 14 * 86400, NULL},
    {"0d is now", "0d", 0, 0, NOW, NULL},
    {"now", "now", 0, 0, NOW, NULL},
    {"a duration of 10 digits", "9999999999s", 0, 0, NOW - INT64_C(9999999999),
     NULL},
    {"a duration of 12 digits, in year 0", "000062000000d", 0, -1, 0,
     "outside"},
    {"a duration of 12 digits to year 1", "000000719000d", 0, 0,
     NOW - INT64_C(719000) * 86400, NULL},
    {"a duration past year 0", "999999999999w", 0, -1, 0, "outside"},
    {"a duration of 13 digits", "1000000000000s", 0, -1, 0, "not a"},
    {"no unit", "24", 0, -1, 0, "unit"},
    {"a unit alone", "h", 0, -1, 0, "not a"},
    {"an unknown unit", "3y", 0, -1, 0, "unit"},
    {"a negative duration", "-3d", 0, -1, 0, "not a"},
    {"upper-case unit", "3D", 0, -1, 0, "unit"},
    {"empty", "", 0, -1, 0, "not a"},
    {"a word", "yesterday", 0, -1, 0, "not a"},
};

static void
test_parse(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		const char *why = NULL;
		int64_t out = INT64_C(-7);
		int rc = when_parse(c->input, NOW, c->flags, &out, &why);

		if (c->rc == 0)
			tap_ok(rc == 0 && out == c->want,
			       "%s: \"%s\" -> %lld (got rc %d, %lld, %s)",
			       c->name, c->input, (long long)c->want, rc,
			       (long long)out, why != NULL ? why : "");
		else
			tap_ok(rc == -1 && out == INT64_C(-7) && why != NULL &&
			           strstr(why, c->why) != NULL,
			       "%s: \"%s\" refused: %s (got rc %d, %s)",
			       c->name, c->input, c->why, rc,
			       why != NULL ? why : "no why");
	}
}

static const struct format_case {
	int64_t t;
	const char *day;
	const char *time;
} format_cases[] = {
    {0, "1970-01-01", "1970-01-01T00:00:00Z"},
    {-1, "1969-12-31", "1969-12-31T23:59:59Z"},
    {INT64_C(1796106600), "2026-12-01", "2026-12-01T06:30:00Z"},
    {INT64_C(951868799), "2000-02-29", "2000-02-29T23:59:59Z"},
    {INT64_C(-62167219200), "0000-01-01", "0000-01-01T00:00:00Z"},
    {INT64_C(253402300799), "9999-12-31", "9999-12-31T23:59:59Z"},
};

static void
test_format(void)
{
	char day[WHEN_DAY_SIZE], time[WHEN_TIME_SIZE];
	size_t i;

	for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
		const struct format_case *c = &format_cases[i];

		when_format_day(c->t, day);
		when_format_time(c->t, time);
		tap_ok(strcmp(day, c->day) == 0 && strcmp(time, c->time) == 0,
		       "%lld is %s, %s (got %s, %s)", (long long)c->t, c->day,
		       c->time, day, time);
	}
	tap_ok(when_day_start(-1) == -86400 && when_day_start(86399) == 0 &&
	           when_day_start(86400) == 86400 &&
	           when_day_start(INT64_MIN) <= INT64_MIN + 86400,
	       "when_day_start floors, also before 1970, and does not "
	       "overflow");
}

/* Every day of 0000..9999 round-trips through the formatter. */
static void
test_round_trip(void)
{
	char day[WHEN_DAY_SIZE];
	const char *why;
	int64_t t, back;
	size_t bad = 0;

	for (t = INT64_C(-62167219200); t < INT64_C(253402300800); t += 86400) {
		when_format_day(t, day);
		if (when_parse(day, 0, 0, &back, &why) != 0 || back != t)
			bad++;
	}
	tap_ok(bad == 0,
	       "every day of 0000-9999 formats and parses back "
	       "(%zu did not)",
	       bad);
}

int
main(void)
{
	test_parse();
	test_format();
	test_round_trip();
	return tap_done();
}
