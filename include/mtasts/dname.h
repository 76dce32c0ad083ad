/* SPDX-License-Identifier: ISC */
/*
 * Domain names as MTA-STS uses them: RFC 5321 §4.1.2 `Domain` (LDH labels)
 * in A-label form, with the DNS limits of RFC 1035 §2.3.4.
 */
#ifndef MTASTS_DNAME_H
#define MTASTS_DNAME_H

#include <stdbool.h>
#include <stddef.h>

#include <mtasts/err.h>
#include <mtasts/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTS_DNAME_LABEL_MAX 63
#define MTS_DNAME_MAX       253 /* presentation length without the root dot */

/* Flags for mts_dname_check(). */
#define MTS_DNAME_ALLOW_TRAILING_DOT 0x01u /* "mx.example.com." */
#define MTS_DNAME_REQUIRE_DOT        0x02u /* at least two labels */

/*
 * Checks that name[0..len) is an RFC 5321 `Domain`: labels of letters,
 * digits and inner hyphens, 1..63 octets each, at most 253 octets in all.
 * Returns 0 or -1 with MTS_ERR_SYNTAX and a constant message saying what
 * is wrong ("empty label", "label over 63 octets", "not ASCII: use the
 * A-label", ...).
 */
MTS_API int mts_dname_check(const char *name, size_t len, unsigned flags,
                            struct mts_err *err);

/*
 * True when the two names are equal ignoring ASCII case and one trailing
 * dot on either side.
 */
MTS_API bool mts_dname_equal(const char *a, size_t alen, const char *b,
                             size_t blen);

/*
 * True when the name looks like an IPv4 or IPv6 address literal
 * ("192.0.2.1", "[192.0.2.1]", "2001:db8::1"): such names are never MX
 * host names.
 */
MTS_API bool mts_dname_is_address(const char *name, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_DNAME_H */
