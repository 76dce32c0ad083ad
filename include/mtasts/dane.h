/* SPDX-License-Identifier: ISC */
/*
 * DANE TLSA records (RFC 6698 §2, RFC 7218, RFC 7671, RFC 7672 §3.1):
 * wire and presentation formats, usability for SMTP, owner names, and
 * matching one record against a certificate.
 *
 * Pure: certificate matching uses OpenSSL's DER decoders and digests on
 * memory only.
 */
#ifndef MTASTS_DANE_H
#define MTASTS_DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/diag.h>
#include <mtasts/err.h>
#include <mtasts/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 6698 §7 registries with the RFC 7218 acronyms. */
enum {
	MTS_TLSA_USAGE_PKIX_TA = 0,
	MTS_TLSA_USAGE_PKIX_EE = 1,
	MTS_TLSA_USAGE_DANE_TA = 2,
	MTS_TLSA_USAGE_DANE_EE = 3,
	MTS_TLSA_USAGE_PRIVCERT = 255,
	MTS_TLSA_SELECTOR_CERT = 0,
	MTS_TLSA_SELECTOR_SPKI = 1,
	MTS_TLSA_SELECTOR_PRIVSEL = 255,
	MTS_TLSA_MTYPE_FULL = 0,
	MTS_TLSA_MTYPE_SHA256 = 1,
	MTS_TLSA_MTYPE_SHA512 = 2,
	MTS_TLSA_MTYPE_PRIVMATCH = 255
};

/* Cap on association data: a full certificate fits comfortably. */
#define MTS_TLSA_DATA_MAX 16384

struct mts_dane_tlsa {
	uint8_t usage;
	uint8_t selector;
	uint8_t mtype;
	size_t data_len;
	uint8_t *data; /* owned */
};

/*
 * Parses RDATA in wire format (RFC 6698 §2.1): usage, selector, matching
 * type octets, then the association data (at least one octet).  Returns
 * 0, or -1 (MTS_ERR_SYNTAX for fewer than 4 octets, MTS_ERR_TOOBIG,
 * MTS_ERR_NOMEM).  Does not judge usability: see mts_dane_tlsa_usable().
 */
MTS_API int mts_dane_tlsa_parse_rdata(const uint8_t *rdata, size_t len,
                                      struct mts_dane_tlsa *out,
                                      struct mts_err *err);

/*
 * Parses the presentation format (RFC 6698 §2.2): three fields, each a
 * decimal 0..255 or an RFC 7218 acronym (case-insensitive: "DANE-EE",
 * "SPKI", "SHA2-256"), then hex with optional whitespace and parentheses.
 * A leading owner name, class and type ("_25._tcp.mx.example. IN TLSA")
 * are skipped.  Findings (lint) go to `diag`; see mts_dane_tlsa_lint().
 */
MTS_API int mts_dane_tlsa_parse(const char *text, size_t len,
                                struct mts_dane_tlsa *out,
                                struct mts_diag *diag, struct mts_err *err);

/* Frees the data and zeroes the record.  NULL-safe. */
MTS_API void mts_dane_tlsa_reset(struct mts_dane_tlsa *tlsa);

/*
 * Formats "U S M HEX" (upper-case hex, no spaces) into a new string the
 * caller frees; NULL on allocation failure.
 */
MTS_API char *mts_dane_tlsa_format(const struct mts_dane_tlsa *tlsa);

/* Flags for mts_dane_tlsa_usable(). */
#define MTS_DANE_DISABLE_SHA256 0x01u /* a local policy forbids SHA2-256 */
#define MTS_DANE_DISABLE_SHA512 0x02u
#define MTS_DANE_ALLOW_PKIX     0x04u /* treat usages 0 and 1 as usable */

/*
 * Whether an SMTP client can use the record (RFC 6698 §4.1, RFC 7672
 * §3.1.3): a known usage (2 or 3; 0 and 1 only with MTS_DANE_ALLOW_PKIX),
 * a known selector (0, 1) and matching type (0, 1, 2, minus the disabled
 * ones), a digest of the right length, and for matching type 0 data that
 * is a DER certificate (selector 0) or SubjectPublicKeyInfo (selector 1).
 * Returns 0 when usable, else -1 with MTS_ERR_UNUSABLE and a message.
 */
MTS_API int mts_dane_tlsa_usable(const struct mts_dane_tlsa *tlsa,
                                 unsigned flags, struct mts_err *err);

/*
 * Publisher-side findings for one record (RFC 7672 §3.1, RFC 7671 §5.2,
 * §10.1.2): unusable parameters are errors; PKIX usages, full-data
 * matching and combinations other than 3 1 1 / 2 0 1 are noted.
 * Returns the number of error findings added.
 */
MTS_API size_t mts_dane_tlsa_lint(const struct mts_dane_tlsa *tlsa,
                                  struct mts_diag *diag);

/*
 * True when the record matches the DER certificate `der` (RFC 6698
 * §2.1.2, §2.1.3): selector 0 takes the whole certificate, selector 1 its
 * SubjectPublicKeyInfo; matching type 0 compares bytes, 1 and 2 the
 * SHA2-256 and SHA2-512 digests.  Usage is not considered here: which
 * certificate of the chain to match is the caller's decision.  An
 * unusable record or undecodable certificate never matches.
 */
MTS_API bool mts_dane_tlsa_match_cert(const struct mts_dane_tlsa *tlsa,
                                      const uint8_t *der, size_t der_len);

/*
 * Builds the association data of `der` for a selector and matching type
 * into `out` (a new record with usage `usage`).  Returns 0 or -1
 * (MTS_ERR_ARG for unknown parameters, MTS_ERR_SYNTAX for an undecodable
 * certificate, MTS_ERR_NOMEM).  Used by `mtasts tlsa gen`.
 */
MTS_API int mts_dane_tlsa_from_cert(const uint8_t *der, size_t der_len,
                                    uint8_t usage, uint8_t selector,
                                    uint8_t mtype, struct mts_dane_tlsa *out,
                                    struct mts_err *err);

/*
 * As mts_dane_tlsa_from_cert() for selector 1, from a DER
 * SubjectPublicKeyInfo (a public key, e.g. of the next key in a rollover,
 * RFC 7671 §8.1).  MTS_ERR_SYNTAX when `spki` is not one whole SPKI.
 */
MTS_API int mts_dane_tlsa_from_spki(const uint8_t *spki, size_t spki_len,
                                    uint8_t usage, uint8_t mtype,
                                    struct mts_dane_tlsa *out,
                                    struct mts_err *err);

/*
 * How a TLSA RRset fits the chain a server presents, judged as its
 * publisher should see it (RFC 7671 §8.1, §9; RFC 7672 §3.1; RFC 6698
 * App. B.2).  Records a client cannot use are dropped first; of the
 * rest, a DANE-EE record matches the leaf, a DANE-TA digest matches a
 * certificate above the leaf, and a DANE-TA record with full data
 * (matching type 0) that the server does not send also matches when
 * the topmost certificate sent is signed by its key (RFC 7671 §5.2.2,
 * §5.2.3).  Digest agility (RFC 7671 §9): per usage and selector only
 * full data and the strongest digest present count.  No names, dates
 * or path checks: those are the handshake's (OpenSSL's DANE code); this
 * says why a set does or does not fit, and what a publisher missed.
 */
enum mts_dane_fit {
	MTS_DANE_FIT_UNUSABLE = 0, /* no record is usable for SMTP */
	MTS_DANE_FIT_MATCH,        /* a record digest agility keeps matches */
	MTS_DANE_FIT_AGILITY,      /* only records agility discards match */
	MTS_DANE_FIT_NO_MATCH      /* no usable record matches */
};

struct mts_dane_chain {
	const uint8_t *const *der; /* DER certificates, leaf first */
	const size_t *len;
	size_t count;
};

struct mts_dane_rrset_fit {
	enum mts_dane_fit fit;
	size_t usable;   /* records usable for SMTP */
	size_t matching; /* usable records that match (agility aside) */
	/* RFC 7671 §8.1: every usage/selector/mtype combination published
	   must match the current chain; the first one that does not. */
	bool combo_unmatched;
	uint8_t combo_usage, combo_selector, combo_mtype;
};

/*
 * Judges `n` records against `chain` with the usability `flags` of
 * mts_dane_tlsa_usable().  Never fails: undecodable certificates and
 * records simply match nothing.
 */
MTS_API void mts_dane_rrset_fit(const struct mts_dane_tlsa *set, size_t n,
                                const struct mts_dane_chain *chain,
                                unsigned flags, struct mts_dane_rrset_fit *out);

/*
 * Writes the TLSA owner name "_<port>._tcp.<host>" (RFC 6698 §3, RFC 7672
 * §2.2.3) to buf: port in decimal without leading zeros, the host's
 * trailing dot dropped, lower-cased.  The host must be an ASCII (A-label)
 * name.  Returns 0, or -1 (MTS_ERR_ARG for port 0 or a non-ASCII or
 * malformed host, MTS_ERR_TOOBIG when buf is too small).
 */
MTS_API int mts_dane_tlsa_owner(const char *host, unsigned port, char *buf,
                                size_t size, struct mts_err *err);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_DANE_H */
