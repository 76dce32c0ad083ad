/* SPDX-License-Identifier: ISC */
/*
 * The Postfix socketmap protocol (socketmap_table(5), Postfix's
 * dict_sockmap.c) as `mtasts policyd` speaks it, and the keys Postfix
 * sends for smtp_tls_policy_maps (postconf(5)), sorted by what RFC 8461
 * §3.4 makes of them.  Pure: octets in, offsets and kinds out; no
 * allocation, no I/O, no clock, no globals.
 *
 * A request and its reply are netstrings, `LEN ":" DATA ","` with LEN in
 * decimal.  Postfix reads leading zeros and a sign loosely; we do not:
 * LEN is `"0" / %x31-39 *DIGIT`, never over the cap of its direction
 * (10,000 octets a query, 100,000 a reply: socketmap_table(5)), and a
 * length that can only grow past the cap is refused as soon as its
 * digits say so, so a client cannot make us buffer more than a cap.
 *
 * A request is `NAME SP KEY`; a reply is `OK DATA`, `NOTFOUND ` (the
 * space is part of it), `TEMP REASON`, `TIMEOUT REASON` or `PERM
 * REASON`.  One connection carries many requests, possibly pipelined:
 * the decoder takes them one after another out of one buffer.
 */
#ifndef MTS_POLICYD_SOCKETMAP_H
#define MTS_POLICYD_SOCKETMAP_H

#include <stdbool.h>
#include <stddef.h>

#include <mtasts/dname.h>

/* socketmap_table(5): what Postfix sends at most, and reads at most. */
#define SOCKETMAP_QUERY_MAX      10000
#define SOCKETMAP_REPLY_MAX      100000
/* "100000:" DATA ",": the most an encoded reply takes. */
#define SOCKETMAP_REPLY_WIRE_MAX (6 + 1 + SOCKETMAP_REPLY_MAX + 1)
/*
 * A TEMP, TIMEOUT or PERM reason is cut to this many octets: Postfix
 * logs at most 200 of them (dict_sockmap.c, "%.200s"), and a reason is
 * for a log line, not a transcript.
 */
#define SOCKETMAP_REASON_MAX     200
/*
 * The longest host part of a non-ASCII key we hand to IDNA: each code
 * point takes at least one octet of the A-label form (RFC 3492) and at
 * most four of UTF-8, and the A-label name is at most 253 octets, so a
 * longer name can never convert to one.
 */
#define SOCKETMAP_UTF8_MAX       1012

/* ---- netstrings ---- */

enum socketmap_decode_result {
	SOCKETMAP_NEED_MORE = 0, /* incomplete, still within the cap */
	SOCKETMAP_OK,            /* one netstring: *frame filled */
	SOCKETMAP_ERROR          /* *why says what; drop the connection */
};

struct socketmap_frame {
	size_t off;      /* where the payload starts in buf */
	size_t len;      /* payload octets, at most the cap */
	size_t consumed; /* octets of the whole netstring: the next starts
	                    at buf + consumed */
};

/*
 * Decodes the netstring at the start of buf[0..len) (buf may be NULL
 * when len is 0), refusing a payload over cap octets.  On SOCKETMAP_OK,
 * *frame says where the payload is and how much to consume; the octets
 * after it (a pipelined request) are untouched.  On SOCKETMAP_ERROR,
 * *why (when why is not NULL) is set to a constant string: a leading
 * zero ("00:", "01:"), a non-digit where the length starts, a length
 * not followed by ':', a payload not followed by ',', or a length over
 * the cap, said as soon as the digits read so far exceed it.  Nothing
 * is written on SOCKETMAP_NEED_MORE; the caller reads more and calls
 * again from the same start.  Any cap is safe: the length is compared
 * with it before it can overflow.
 */
enum socketmap_decode_result socketmap_decode(const char *buf, size_t len,
                                              size_t cap,
                                              struct socketmap_frame *frame,
                                              const char **why);

/*
 * Encodes data[0..len) as a netstring into out[0..size): returns 0 and
 * sets *outlen, or -1 with a constant *why (when not NULL) when len is
 * over SOCKETMAP_REPLY_MAX or the netstring does not fit in size
 * octets.  out is not NUL-terminated (the wire has no terminator);
 * nothing is written to out or *outlen on failure.  data and out may
 * not overlap.
 */
int socketmap_encode(const char *data, size_t len, char *out, size_t size,
                     size_t *outlen, const char **why);

/* ---- requests ---- */

struct socketmap_request {
	const char *name; /* the map name Postfix was given (points into
	                     the payload) */
	size_t name_len;
	const char *key; /* everything after the first space */
	size_t key_len;
};

/*
 * Splits a request payload p[0..len) into NAME SP KEY
 * (socketmap_table(5)).  NAME is one or more letters, digits, '_', '-'
 * or '.' (the last field of socketmap:inet:host:port:NAME); KEY is
 * everything after the first space and is not empty.  A NUL or another
 * control octet (C0 or DEL) in either is refused: Postfix sends C
 * strings, so such a request did not come from Postfix.  Returns 0 and
 * fills *req (pointers into p), or -1 with a constant *why.
 */
int socketmap_request_parse(const char *p, size_t len,
                            struct socketmap_request *req, const char **why);

/* ---- keys of smtp_tls_policy_maps ---- */

enum socketmap_key_kind {
	SOCKETMAP_KEY_MALFORMED = 0, /* no name: NOTFOUND at once */
	SOCKETMAP_KEY_DOMAIN,        /* "example.com", "example.com:587" */
	SOCKETMAP_KEY_NEXTHOP,       /* "[mx.example.net]", "[...]:587" */
	SOCKETMAP_KEY_UTF8,          /* non-ASCII: convert, then classify */
	SOCKETMAP_KEY_PARENT,        /* ".example.com": NOTFOUND at once */
	SOCKETMAP_KEY_ADDRESS        /* "[192.0.2.1]", "[ipv6:...]",
	                                "192.0.2.1": NOTFOUND at once */
};

struct socketmap_key {
	enum socketmap_key_kind kind;
	/*
	 * DOMAIN and NEXTHOP: the policy domain, lower-cased, one trailing
	 * dot dropped, NUL-terminated; "" for the other kinds.
	 */
	char domain[MTS_DNAME_MAX + 1];
	size_t domain_len;
	/*
	 * DOMAIN, NEXTHOP and UTF8: the host part as sent, without
	 * brackets, port or trailing dot (points into the key); for UTF8
	 * what the I/O layer converts to an A-label (libidn2) before it
	 * classifies the result again.  NULL for the other kinds.
	 */
	const char *host;
	size_t host_len;
	/* The port or service after the ':' as sent; NULL when none. */
	const char *port;
	size_t port_len;
	bool bracketed; /* the host was in brackets: no MX lookup */
	/* Constant: what the kind means, or why the key is malformed. */
	const char *why;
};

/*
 * Sorts the key key[0..len) of an smtp_tls_policy_maps lookup and fills
 * *k (always: every key has a kind; MALFORMED is a result, not an
 * error).  Returns k->kind.
 *
 * - DOMAIN: a next-hop domain, the recipient domain in the usual case
 *   (RFC 8461 §1.1, checklist STS-DOM-1), maybe with the ":port" of a
 *   transport entry that still looks up MX records.  The name must be
 *   an RFC 5321 Domain in A-label form, at least two labels
 *   (mts_dname_check()); it is lower-cased (DNS names compare without
 *   case, RFC 4343) and an absolute name's dot dropped.
 * - NEXTHOP: "[host]" or "[host]:port", a next-hop without MX lookup,
 *   a smart host (RFC 8461 §3.4).  Decided for the checklist's
 *   STS-DOM-2 ambiguity (its §24 A10): the policy domain is the host's
 *   name as written, never its parent domain, since §3.4 forbids
 *   looking up a policy at a parent.
 * - UTF8: a name with octets outside US-ASCII (an SMTPUTF8 recipient
 *   domain, RFC 6531), well-formed UTF-8 without empty labels; RFC 8461
 *   §3.2 and DNS need the A-label (checklist STS-DOM-5), which the I/O
 *   layer makes with libidn2.
 * - PARENT: ".example.com", which Postfix asks after a miss on a
 *   subdomain; RFC 8461 §3.4 forbids applying a parent's policy, so the
 *   answer is NOTFOUND without a lookup (checklist STS-DOM-3).
 * - ADDRESS: an address literal, bracketed ("[192.0.2.1]",
 *   "[ipv6:2001:db8::1]", with a port or not) or bare; MTA-STS does not
 *   cover them (RFC 8461 §3.4, checklist STS-DOM-4).
 * - MALFORMED: anything else (empty, a control octet or space, a single
 *   label, a bad port, unbalanced brackets, ...): NOTFOUND at once.
 */
enum socketmap_key_kind socketmap_key_classify(const char *key, size_t len,
                                               struct socketmap_key *k);

/* ---- replies ---- */

/* The replies that are not OK or NOTFOUND: Postfix retries TEMP and
   TIMEOUT later and takes PERM for a configuration error. */
enum socketmap_failure {
	SOCKETMAP_TEMP = 0,
	SOCKETMAP_TIMEOUT,
	SOCKETMAP_PERM
};

/*
 * Builds the netstring of "OK " data into out[0..size): 0 with *outlen
 * set, or -1 with a constant *why when data is empty, holds a control
 * octet (C0 or DEL: a policy string is one line of attributes, and
 * Postfix would cut it at a NUL), or the reply would be over
 * SOCKETMAP_REPLY_MAX, or out is too small.  Nothing is written to out
 * or *outlen on failure.
 */
int socketmap_reply_ok(const char *data, size_t len, char *out, size_t size,
                       size_t *outlen, const char **why);

/* Builds "9:NOTFOUND ,", the not-found reply with its space. */
int socketmap_reply_notfound(char *out, size_t size, size_t *outlen,
                             const char **why);

/*
 * Builds "TEMP reason", "TIMEOUT reason" or "PERM reason" as a
 * netstring into out[0..size).  reason (NUL-terminated, may be NULL for
 * none) is sanitised as Postfix prints it: control octets and octets
 * outside US-ASCII become '?', and it is cut to SOCKETMAP_REASON_MAX
 * octets, so that what a remote server said cannot forge a log line.
 * Returns 0 with *outlen set, or -1 with a constant *why when out is too
 * small (SOCKETMAP_REASON_MAX + 16 octets always suffice).
 */
int socketmap_reply_failure(enum socketmap_failure type, const char *reason,
                            char *out, size_t size, size_t *outlen,
                            const char **why);

#endif /* MTS_POLICYD_SOCKETMAP_H */
