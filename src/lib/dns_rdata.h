/* SPDX-License-Identifier: ISC */
/*
 * Decoders of DNS RDATA in wire format, as libunbound hands it over
 * (struct ub_result: data[] and len[], one record each, names already
 * uncompressed).  Pure: the I/O adapter io/dns.c passes the bytes in and
 * copies the decoded records into a struct mts_dns_answer.  Not
 * installed; the symbols have hidden visibility.
 */
#ifndef MTS_DNS_RDATA_H
#define MTS_DNS_RDATA_H

#include <stddef.h>
#include <stdint.h>

#include <mtasts/dane.h>
#include <mtasts/dns.h>
#include <mtasts/err.h>

/*
 * One TXT record joined: four times the MTA-STS and TLS-RPT record caps.
 * A record's RDATA is at most 65535 octets anyway (RFC 1035 §3.2.1);
 * nothing this library reads at _mta-sts or _smtp._tls comes near this.
 */
#define MTS_DNS_TXT_MAX 16384

/* Records decoded from one answer: a DNS message holds at most 64 KiB. */
#define MTS_DNS_RECORDS_MAX 1024

/* A wire-format name, length octets and the root label included
 * (RFC 1035 §2.3.4). */
#define MTS_DNS_NAME_WIRE_MAX 255

/*
 * Room for any such name in presentation form: at most 250 escaped
 * octets (4 characters each) and 3 dots, 1003 characters, and the NUL.
 */
#define MTS_DNS_NAME_TEXT_MAX 1024

/*
 * Decodes the uncompressed wire-format name at wire[0..len) into buf as
 * presentation text without the root's trailing dot: the root name
 * itself gives "".  Letters, digits, '-' and '_' stand for themselves;
 * every other octet, '.' and '\' included, is written \DDD (RFC 1035
 * §5.1), so that no label can pass for two and no control byte gets
 * through.  Case is kept.  *used gets the octets the name took (the
 * caller checks what follows).  Returns 0, or -1 with MTS_ERR_SYNTAX
 * (truncated; a compression pointer, which has no place in uncompressed
 * RDATA; another label type, RFC 6891 §5; over 255 octets) or
 * MTS_ERR_TOOBIG when buf is too small (MTS_DNS_NAME_TEXT_MAX always
 * suffices).
 */
int mts_dns_rdata_name(const uint8_t *wire, size_t len, size_t *used, char *buf,
                       size_t size, struct mts_err *err);

/*
 * TXT (RFC 1035 §3.3.14): one or more <character-string>s, joined
 * without separators (RFC 8461 §3.1, RFC 8460 §3).  *text gets a new
 * NUL-terminated copy the caller frees and *text_len its length, since
 * a string may hold NULs.  MTS_ERR_SYNTAX for an empty RDATA or a string
 * that overruns it, MTS_ERR_TOOBIG over MTS_DNS_TXT_MAX, MTS_ERR_NOMEM.
 */
int mts_dns_rdata_txt(const uint8_t *rdata, size_t len, char **text,
                      size_t *text_len, struct mts_err *err);

/*
 * MX (RFC 1035 §3.3.9): preference and exchange; mx->host is new (the
 * caller frees it), "" for the root: a null MX (RFC 7505 §3).
 * MTS_ERR_SYNTAX also for octets after the name.
 */
int mts_dns_rdata_mx(const uint8_t *rdata, size_t len, struct mts_dns_mx *mx,
                     struct mts_err *err);

/* CNAME (RFC 1035 §3.3.1): the target as a new string. */
int mts_dns_rdata_cname(const uint8_t *rdata, size_t len, char **target,
                        struct mts_err *err);

/*
 * A (4 octets, RFC 1035 §3.4.1) or AAAA (16, RFC 3596 §2.2) for `type`,
 * as a new string in the form of inet_ntop().  MTS_ERR_SYNTAX for any
 * other length, MTS_ERR_ARG for another type.
 */
int mts_dns_rdata_addr(uint16_t type, const uint8_t *rdata, size_t len,
                       char **addr, struct mts_err *err);

/* The records of one answer, decoded for its query type. */
struct mts_dns_records {
	size_t count;               /* records in the answer */
	char **txt;                 /* TXT: count joined strings */
	size_t *txt_len;            /* ... and their lengths */
	struct mts_dns_mx *mx;      /* MX */
	char **addr;                /* A, AAAA */
	struct mts_dane_tlsa *tlsa; /* TLSA, whether usable or not */
	char *target;               /* CNAME: the first record's target */
};

/*
 * Decodes the NULL-terminated list data[] of RDATA with lengths len[]
 * (libunbound's form) as records of `qtype` into *r, which is zeroed
 * first.  Types other than TXT, MX, A, AAAA, TLSA and CNAME are only
 * counted.  All or nothing: on failure *r holds nothing.  Returns 0, or
 * -1 with the error of the first bad record, or MTS_ERR_TOOBIG over
 * MTS_DNS_RECORDS_MAX records.
 */
int mts_dns_records_decode(struct mts_dns_records *r, uint16_t qtype,
                           char *const *data, const int *len,
                           struct mts_err *err);

/* Frees what *r holds and zeroes it.  NULL-safe. */
void mts_dns_records_reset(struct mts_dns_records *r);

/*
 * The canonical name libunbound reports (ub_result canonname: text with
 * the root's dot, where octets other than letters, digits, '-', '_' and
 * '*' show as '?') against the name asked, `qname`: *out is NULL when
 * both are the same name (ASCII case-insensitive, RFC 4343), else a new
 * string without the final dot ("" for the root) and with every character
 * but letters, digits, '-', '_' and '.' as \DDD, as mts_dns_rdata_name()
 * writes them: no '*' can pass for a wildcard.  MTS_ERR_TOOBIG over
 * MTS_DNS_NAME_TEXT_MAX, MTS_ERR_NOMEM.
 */
int mts_dns_canonical(const char *canonname, const char *qname, char **out,
                      struct mts_err *err);

/*
 * Checks a name before it is asked for: letters, digits, '-' and '_' in
 * labels of 1 to 63 octets, at most 253 octets without the optional
 * trailing dot, or "." alone.  No escapes, no spaces: A-labels only
 * (RFC 5890 §2.3.2.1); '_' for owner names such as _mta-sts and
 * _25._tcp.  Returns 0 or -1 with MTS_ERR_ARG.
 */
int mts_dns_qname_check(const char *name, struct mts_err *err);

#endif /* MTS_DNS_RDATA_H */
