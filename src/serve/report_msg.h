/* SPDX-License-Identifier: ISC */
/*
 * The messages between the server process of mtasts serve and its
 * report process: a TLS-RPT report POSTed over HTTPS (RFC 8460 §5.4)
 * going to be stored, and what became of it.  Each message is the body
 * of a ctl.h frame on a SOCK_STREAM socketpair, integers big-endian:
 *
 *   request  "MTSP" u32:id u8:kind u8:origin-length origin  body...
 *   reply    "MTSA" u32:id u8:outcome  detail...
 *
 * kind is REPORT_KIND_JSON or REPORT_KIND_GZIP, the Content-Type the
 * server accepted; origin the client's address, for the store and the
 * log; body the POST body as received.  outcome is an ingest_outcome
 * (src/report/ingest.h); detail the report-id of a stored report, or
 * the one-line reason one was quarantined or the store failed.
 *
 * Pure: bytes in, fields out; nothing is allocated, every length is
 * checked against the frame before it is used.
 */
#ifndef MTS_SERVE_REPORT_MSG_H
#define MTS_SERVE_REPORT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

#define REPORT_ORIGIN_MAX 64  /* an IPv6 address and some */
#define REPORT_DETAIL_MAX 240 /* octets of a reply's detail */
/* The request's octets before the body, ctl.h's header included, at most. */
#define REPORT_REQ_HEAD   (CTL_FRAME_HDR + 4 + 4 + 1 + 1 + REPORT_ORIGIN_MAX)
/* The largest reply body, and a whole reply frame. */
#define REPORT_REP_MAX    (4 + 4 + 1 + REPORT_DETAIL_MAX)
#define REPORT_REP_FRAME  (CTL_FRAME_HDR + REPORT_REP_MAX)

/* What the server accepted the body as (RFC 8460 §6.3, §6.4). */
enum report_kind { REPORT_KIND_JSON = 1, REPORT_KIND_GZIP = 2 };

/* The outcomes, as src/report/ingest.h numbers them. */
enum report_outcome {
	REPORT_ADDED = 0,
	REPORT_KNOWN = 1,
	REPORT_QUARANTINED = 2,
	REPORT_FAILED = 3
};

struct report_req {
	uint32_t id;
	enum report_kind kind;
	char origin[REPORT_ORIGIN_MAX + 1];
	const uint8_t *body; /* borrowed from the frame */
	size_t body_len;
};

struct report_rep {
	uint32_t id;
	enum report_outcome outcome;
	char detail[REPORT_DETAIL_MAX + 1]; /* control bytes shown as '?' */
};

/*
 * Writes the head of a request frame whose body will be body_len
 * octets into out[0..REPORT_REQ_HEAD): the ctl.h header and the fields
 * before the body (origin cut to REPORT_ORIGIN_MAX).  Returns the head's
 * length; the body follows it.
 */
size_t report_req_head(uint32_t id, enum report_kind kind, const char *origin,
                       size_t body_len, uint8_t out[REPORT_REQ_HEAD]);

/*
 * Reads the body of a request frame.  0 with *r filled (its body
 * borrowing from buf), or -1 when it is not a request (nothing
 * written).
 */
int report_req_parse(const uint8_t *buf, size_t len, struct report_req *r);

/*
 * A whole reply frame in out[0..REPORT_REP_FRAME), detail cut to fit;
 * returns its length.
 */
size_t report_rep_encode(uint32_t id, enum report_outcome outcome,
                         const char *detail, uint8_t out[REPORT_REP_FRAME]);

/* Reads the body of a reply frame: 0 with *r, or -1 (nothing written). */
int report_rep_parse(const uint8_t *buf, size_t len, struct report_rep *r);

#endif /* MTS_SERVE_REPORT_MSG_H */
