/* SPDX-License-Identifier: ISC */
/*
 * The DATE arguments of mtasts report summary, alert and html, as
 * seconds since the epoch (UTC), and the UTC days they are shown as.
 * Pure: the clock is read by the caller and passed in as `now`.
 *
 *   2026-12-01                 00:00 UTC of that day (with WHEN_UNTIL:
 *                              00:00 of the next, so that the day is in)
 *   2026-12-01T06:30:00Z       an RFC 3339 date-time (§5.6): 'T', 't' or
 *   2026-12-01 06:30:00+02:00  one space between date and time, 'Z',
 *                              'z' or a numeric offset, which is required
 *                              (a time without a zone is ambiguous);
 *                              fractions of seconds are dropped; second
 *                              60 (a leap second) is the next second
 *   24h 7d 90m 30s 2w now      that long before `now`
 */
#ifndef MTS_REPORT_WHEN_H
#define MTS_REPORT_WHEN_H

#include <stddef.h>
#include <stdint.h>

/* A date alone means the end of that day (an --until bound). */
#define WHEN_UNTIL 0x01u

/*
 * Parses `s`, relative to `now` for a duration.  0 and *out, or -1 and
 * *why (a constant message) when s is none of the forms above, names no
 * real day or time (2026-02-30, 24:00), or lies outside the years
 * 0000-9999 once a duration is taken from now.
 */
int when_parse(const char *s, int64_t now, unsigned flags, int64_t *out,
               const char **why);

/* Room for when_format_day()'s and when_format_time()'s text. */
#define WHEN_DAY_SIZE  32
#define WHEN_TIME_SIZE 64

/* The UTC day of `t` as "YYYY-MM-DD" (a year past 9999 has more digits). */
void when_format_day(int64_t t, char buf[WHEN_DAY_SIZE]);

/* `t` as an RFC 3339 date-time in UTC, "YYYY-MM-DDTHH:MM:SSZ". */
void when_format_time(int64_t t, char buf[WHEN_TIME_SIZE]);

/* The start (00:00 UTC) of the day of `t`, also before 1970. */
int64_t when_day_start(int64_t t);

#endif /* MTS_REPORT_WHEN_H */
