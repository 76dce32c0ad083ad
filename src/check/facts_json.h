/* SPDX-License-Identifier: ISC */
/*
 * The facts of one domain (facts.h) as JSON, to record them from a real
 * run (`mtasts check --record-facts DIR`) and replay them through the
 * judge in a unit test without root or network (tests/data/check-facts/,
 * tests/unit/test_check_judge.c).  Certificates are not recorded: the
 * probe and fetch results carry what was verified, and each probe of a
 * DANE host the fit of its TLSA records (mts_dane_rrset_fit()).  Octet
 * strings that are not UTF-8 are written as {"hex": "..."}.
 */
#ifndef MTS_CHECK_FACTS_JSON_H
#define MTS_CHECK_FACTS_JSON_H

#include <stddef.h>

#include "facts.h"

/*
 * Writes f to DIR/<domain>.json (through a temporary file).  0, or -1
 * with the reason on stderr.
 */
int facts_json_save(const struct check_facts *f, const char *dir);

/*
 * Reads facts written by facts_json_save() from `path` into f (which
 * the caller releases with facts_reset(), also on failure), and decides
 * DANE for each host (dane_decide()).  0, or -1 with a reason in `why`
 * (size octets).
 */
int facts_json_load(const char *path, struct check_facts *f, char *why,
                    size_t size);

#endif /* MTS_CHECK_FACTS_JSON_H */
