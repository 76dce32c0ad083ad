/* SPDX-License-Identifier: ISC */
/*
 * Tests of sts_id.c: the sts-id syntax of RFC 8461 §3.1 (1*32 ALPHA /
 * DIGIT) and the UTC timestamp ids "YYYYMMDDTHHMMSSZ".  Expected values
 * were computed independently (date -u -d @T +%Y%m%dT%H%M%SZ, and the
 * proleptic Gregorian calendar for the years before 1970); the
 * round-trip walks a deterministic sample of the whole range.
 */
#include <inttypes.h>
#include <stdint.h>

#include <mtasts/sts.h>

#include "tap.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define T_MIN (-62167219200LL)
#define T_MAX 253402300799LL

static const struct format_case {
	const char *name;
	int64_t t;
	const char *want; /* NULL: must fail with MTS_ERR_ARG */
} format_cases[] = {
    {"STS-ID T1: the epoch", 0, "19700101T000000Z"},
    {"STS-ID T2: one second after the epoch", 1, "19700101T000001Z"},
    {"STS-ID T3: one second before the epoch", -1, "19691231T235959Z"},
    {"STS-ID T4: leap day 2000-02-29", 951782400, "20000229T000000Z"},
    {"STS-ID T5: the day after 2000-02-29", 951868800, "20000301T000000Z"},
    {"STS-ID T6: last second of 2099", 4102444799LL, "20991231T235959Z"},
    {"STS-ID T7: 2038 rollover of 32-bit time_t", 2147483648LL,
     "20380119T031408Z"},
    {"STS-ID T8: 1900 is not a leap year", -2203891200LL, "19000301T000000Z"},
    {"STS-ID T9: the moon landing (negative)", -14182900LL, "19690720T201820Z"},
    {"STS-ID T10: 1600-02-29 (leap, divisible by 400)", -11670998400LL,
     "16000229T000000Z"},
    {"STS-ID T11: year 0000 begins", T_MIN, "00000101T000000Z"},
    {"STS-ID T12: year 0000 is a leap year", -62162121600LL,
     "00000229T000000Z"},
    {"STS-ID T13: year 9999 ends", T_MAX, "99991231T235959Z"},
    {"STS-ID T14: before year 0000", T_MIN - 1, NULL},
    {"STS-ID T15: after year 9999", T_MAX + 1, NULL},
    {"STS-ID T16: INT64_MIN", INT64_MIN, NULL},
    {"STS-ID T17: INT64_MAX", INT64_MAX, NULL},
};

static const struct parse_case {
	const char *name;
	const char *id;
	bool ok;
	int64_t t;
} parse_cases[] = {
    {"STS-ID T20: epoch", "19700101T000000Z", true, 0},
    {"STS-ID T21: leap day 2024", "20240229T120000Z", true, 1709208000},
    {"STS-ID T22: leap day 2000", "20000229T000000Z", true, 951782400},
    {"STS-ID T23: year 0000", "00000101T000000Z", true, T_MIN},
    {"STS-ID T24: year 9999 end", "99991231T235959Z", true, T_MAX},
    {"STS-ID T25: 2023 is not a leap year", "20230229T000000Z", false, 0},
    {"STS-ID T26: 1900 is not a leap year", "19000229T000000Z", false, 0},
    {"STS-ID T27: hour 24", "20240101T240000Z", false, 0},
    {"STS-ID T28: minute 60", "20240101T006000Z", false, 0},
    {"STS-ID T29: leap second 60 is not accepted", "20161231T235960Z", false,
     0},
    {"STS-ID T30: month 00", "20240001T000000Z", false, 0},
    {"STS-ID T31: month 13", "20241301T000000Z", false, 0},
    {"STS-ID T32: day 00", "20240100T000000Z", false, 0},
    {"STS-ID T33: April 31", "20240431T000000Z", false, 0},
    {"STS-ID T34: lower-case t", "20240101t000000Z", false, 0},
    {"STS-ID T35: lower-case z", "20240101T000000z", false, 0},
    {"STS-ID T36: 15 characters", "20240101T00000Z", false, 0},
    {"STS-ID T37: 17 characters", "20240101T0000000Z", false, 0},
    {"STS-ID T38: sign in the year", "+0240101T000000Z", false, 0},
    {"STS-ID T39: space for a digit", "2024010 T000000Z", false, 0},
    {"STS-ID T40: extended format", "2024-01-01T00:00", false, 0},
    {"STS-ID T41: empty", "", false, 0},
};

static const struct valid_case {
	const char *name;
	const char *id;
	bool ok;
} valid_cases[] = {
    {"STS-TXT-4 T1: the RFC example id", "20160831085700Z", true},
    {"STS-TXT-4 T1: one character", "1", true},
    {"STS-TXT-4 T1: mixed case", "AbC123xYz", true},
    {"STS-TXT-4 T2: 32 alphanumerics", "abcdefghijklmnopqrstuvwxyz012345",
     true},
    {"STS-TXT-4 T3: 33 alphanumerics", "abcdefghijklmnopqrstuvwxyz0123456",
     false},
    {"STS-TXT-4 T4: empty", "", false},
    {"STS-TXT-4 T5: hyphen", "2016-08-31", false},
    {"STS-TXT-4 T5: underscore", "a_b", false},
    {"STS-TXT-4 T5: dot", "a.b", false},
    {"STS-TXT-4 T5: space", "a b", false},
    {"STS-TXT-9 T1: non-ASCII letter", "caf\xc3\xa9", false},
    {"STS-TXT-9 T2: DEL", "a\x7f", false},
};

static void
test_format(void)
{
	const struct format_case *c;
	char buf[MTS_STS_ID_TIMESTAMP_LEN + 1];
	struct mts_err err;
	int rc;

	for (c = format_cases;
	     c < format_cases + sizeof(format_cases) / sizeof(format_cases[0]);
	     c++) {
		memset(buf, 'x', sizeof(buf));
		memset(&err, 0, sizeof(err));
		rc = mts_sts_id_format(c->t, buf, sizeof(buf), &err);
		if (c->want != NULL)
			tap_ok(rc == 0 && tap_streq(buf, c->want),
			       "%s: %" PRId64 " -> %s", c->name, c->t, c->want);
		else
			tap_ok(rc == -1 && err.code == MTS_ERR_ARG &&
			           err.msg != NULL && buf[0] == 'x',
			       "%s: %" PRId64 " fails, buffer untouched",
			       c->name, c->t);
	}
	rc = mts_sts_id_format(0, buf, MTS_STS_ID_TIMESTAMP_LEN, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_ARG,
	       "STS-ID T18: a 16-byte buffer is too small for 16 chars + NUL");
	rc = mts_sts_id_format(0, NULL, 0, NULL);
	tap_ok(rc == -1, "STS-ID T19: NULL buffer and NULL err");
}

static void
test_parse(void)
{
	const struct parse_case *c;
	int64_t t;
	bool ok;

	for (c = parse_cases;
	     c < parse_cases + sizeof(parse_cases) / sizeof(parse_cases[0]);
	     c++) {
		t = 42;
		ok = mts_sts_id_parse_timestamp(c->id, strlen(c->id), &t);
		if (c->ok)
			tap_ok(ok && t == c->t, "%s: \"%s\" -> %" PRId64,
			       c->name, c->id, c->t);
		else
			tap_ok(!ok && t == 42, "%s: \"%s\" rejected", c->name,
			       c->id);
	}
	tap_ok(mts_sts_id_parse_timestamp("20240101T000000Z", 16, NULL),
	       "STS-ID T42: NULL time pointer allowed");
	tap_ok(!mts_sts_id_parse_timestamp("20240101T000000Z", 15, NULL),
	       "STS-ID T43: length is taken from len, not NUL");
	tap_ok(!mts_sts_id_parse_timestamp(NULL, 16, NULL),
	       "STS-ID T44: NULL id rejected");
}

static void
test_valid(void)
{
	const struct valid_case *c;

	for (c = valid_cases;
	     c < valid_cases + sizeof(valid_cases) / sizeof(valid_cases[0]);
	     c++)
		tap_ok(mts_sts_id_valid(c->id, strlen(c->id)) == c->ok,
		       "%s: \"%s\" %s", c->name, c->id,
		       c->ok ? "valid" : "invalid");
	tap_ok(!mts_sts_id_valid("ab\0cd", 5),
	       "STS-TXT-4 T6: embedded NUL is invalid");
	tap_ok(!mts_sts_id_valid(NULL, 1), "STS-TXT-4 T7: NULL is invalid");
}

/* Formats t, parses it back; false (with a diagnostic) on a mismatch. */
static bool
round_trip(int64_t t, char *buf, size_t size)
{
	int64_t back;

	if (mts_sts_id_format(t, buf, size, NULL) == 0 &&
	    mts_sts_id_parse_timestamp(buf, strlen(buf), &back) && back == t &&
	    mts_sts_id_valid(buf, strlen(buf)))
		return true;
	tap_diag("round trip of %" PRId64 " failed (\"%s\")", t, buf);
	return false;
}

/*
 * Every sample time formats, parses back to itself, and is a valid
 * sts-id; successive samples give strictly increasing ids, which pins the
 * calendar against days skipped or repeated in both directions, which a
 * round trip alone would miss.  The step is prime so that the samples
 * fall at every time of day.
 */
static void
test_round_trip(void)
{
	static const struct {
		const char *years;
		int64_t from, to;
	} sweeps[] = {
	    {"0000-0004", T_MIN, -62009366400LL},
	    {"1896-1904", -2335219200LL, -2051222400LL},
	    {"1999-2001", 915148800LL, 1009843200LL},
	    {"9995-9999", 253244534400LL, T_MAX + 1},
	};
	const int64_t step = 84673291; /* ~2.7 years, prime */
	char buf[MTS_STS_ID_TIMESTAMP_LEN + 1], prev[sizeof(buf)] = "";
	unsigned n = 0, bad = 0;
	size_t i;
	int64_t t;

	for (t = T_MIN; t <= T_MAX; t += step, n++) {
		if (!round_trip(t, buf, sizeof(buf)) || strcmp(prev, buf) >= 0)
			bad++;
		memcpy(prev, buf, sizeof(buf));
	}
	tap_ok(n > 3000 && bad == 0,
	       "STS-ID T45: %u sample times round-trip in increasing order", n);

	/* Every day (plus a second, to move through the clock) of years
	 * around the century and range boundaries. */
	for (i = 0; i < sizeof(sweeps) / sizeof(sweeps[0]); i++) {
		bad = 0;
		prev[0] = '\0';
		for (t = sweeps[i].from; t < sweeps[i].to; t += 86400 + 1) {
			if (!round_trip(t, buf, sizeof(buf)) ||
			    strcmp(prev, buf) >= 0)
				bad++;
			memcpy(prev, buf, sizeof(buf));
		}
		tap_ok(bad == 0, "STS-ID T%zu: every day of %s round-trips",
		       46 + i, sweeps[i].years);
	}
}

int
main(void)
{
	test_format();
	test_parse();
	test_valid();
	test_round_trip();
	return tap_done();
}
