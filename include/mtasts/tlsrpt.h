/* SPDX-License-Identifier: ISC */
/*
 * SMTP TLS Reporting (RFC 8460): the _smtp._tls TXT record (§3).
 */
#ifndef MTASTS_TLSRPT_H
#define MTASTS_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>

#include <mtasts/diag.h>
#include <mtasts/err.h>
#include <mtasts/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTS_TLSRPT_RECORD_MAX 4096 /* cap on one concatenated TXT record */
#define MTS_TLSRPT_RUA_MAX    16   /* cap on destinations kept */

enum mts_tlsrpt_scheme { MTS_TLSRPT_MAILTO = 1, MTS_TLSRPT_HTTPS };

struct mts_tlsrpt_rua {
	enum mts_tlsrpt_scheme scheme;
	char *uri; /* owned, as written (scheme case kept) */
};

struct mts_tlsrpt_record {
	size_t rua_count;
	struct mts_tlsrpt_rua *rua; /* owned; usable destinations only */
};

/*
 * Parses one TXT record (strings concatenated without spaces, §3).
 * Returns 0 when the record is valid and names at least one usable
 * destination (a mailto: or https: URI); -1 otherwise (err MTS_ERR_SYNTAX,
 * MTS_ERR_INVALID, MTS_ERR_TOOBIG, MTS_ERR_NOMEM).
 *
 * Positions (docs/conformance.md): destinations of other schemes are
 * dropped with a warning; several rua= fields are merged, duplicates
 * removed (A15); a URI with an unencoded "!" is dropped (RPT-TXT-7);
 * trailing WSP is trimmed with a warning (A3).  On success `out` owns its
 * strings; release with mts_tlsrpt_record_reset().
 */
MTS_API int mts_tlsrpt_record_parse(const char *txt, size_t len,
                                    struct mts_tlsrpt_record *out,
                                    struct mts_diag *diag, struct mts_err *err);

/*
 * Writes the query name "_smtp._tls.<domain>" (§3) to buf, as
 * mts_sts_record_qname().
 */
MTS_API int mts_tlsrpt_record_qname(const char *domain, char *buf, size_t size,
                                    struct mts_err *err);

/* Frees what a parsed record owns and zeroes it.  NULL-safe. */
MTS_API void mts_tlsrpt_record_reset(struct mts_tlsrpt_record *record);

/* True when the record begins with "v=TLSRPTv1" *WSP ";" (§3). */
MTS_API bool mts_tlsrpt_record_is_candidate(const char *txt, size_t len);

/*
 * Selects the TLSRPT record among a TXT RRset (§3): exactly one candidate
 * must remain.  As mts_sts_record_select().
 */
MTS_API int mts_tlsrpt_record_select(const char *const *txts,
                                     const size_t *lens, size_t n,
                                     size_t *index, struct mts_err *err);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_TLSRPT_H */
