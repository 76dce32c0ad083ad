/* SPDX-License-Identifier: ISC */
/*
 * Days from 1970-01-01 of a proleptic Gregorian date, any year (Howard
 * Hinnant's days_from_civil: the year is shifted to begin in March so
 * that the leap day ends it, and a 400-year era has 146097 days).
 * Shared by the report reader's dates (src/report/when.c) and serve's
 * ACME timestamps (src/serve/acme_json.c), both RFC 3339 §5.7.
 * Header-only and pure, like the other src/common headers; the library
 * keeps its own copy in src/lib/sts_id.c, whose symbols are hidden.
 */
#ifndef MTS_CIVIL_H
#define MTS_CIVIL_H

#include <stdint.h>

static inline int64_t
mts_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                   /* 0..399 */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
	return era * 146097 + doe - 719468;
}

#endif /* MTS_CIVIL_H */
