/* SPDX-License-Identifier: ISC */
/*
 * The request and reply messages of the report process (report_msg.h
 * says what they hold).  Both ends are this program, but the server
 * process that writes requests speaks to the internet: the report
 * process reads nothing it has not checked first.
 */
#include <string.h>

#include "report_msg.h"

#define REQ_MAGIC "MTSP"
#define REP_MAGIC "MTSA"

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

size_t
report_req_head(uint32_t id, enum report_kind kind, const char *origin,
                size_t body_len, uint8_t out[REPORT_REQ_HEAD])
{
	size_t olen = strnlen(origin, REPORT_ORIGIN_MAX);
	uint8_t *p = out + CTL_FRAME_HDR;
	size_t fields = 4 + 4 + 1 + 1 + olen;

	ctl_header_encode((uint64_t)fields + body_len, out);
	memcpy(p, REQ_MAGIC, 4);
	put_u32(p + 4, id);
	p[8] = (uint8_t)kind;
	p[9] = (uint8_t)olen;
	memcpy(p + 10, origin, olen);
	return CTL_FRAME_HDR + fields;
}

/* Copies n octets of text, control bytes and DEL shown as '?'. */
static void
copy_text(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[i] < 0x20 || src[i] == 0x7F ? '?' : (char)src[i];
	dst[n] = '\0';
}

int
report_req_parse(const uint8_t *buf, size_t len, struct report_req *r)
{
	size_t olen;

	if (len < 10 || memcmp(buf, REQ_MAGIC, 4) != 0)
		return -1;
	if (buf[8] != REPORT_KIND_JSON && buf[8] != REPORT_KIND_GZIP)
		return -1;
	olen = buf[9];
	if (olen > REPORT_ORIGIN_MAX || len - 10 < olen)
		return -1;
	r->id = get_u32(buf + 4);
	r->kind = (enum report_kind)buf[8];
	copy_text(r->origin, buf + 10, olen);
	r->body = buf + 10 + olen;
	r->body_len = len - 10 - olen;
	return 0;
}

size_t
report_rep_encode(uint32_t id, enum report_outcome outcome, const char *detail,
                  uint8_t out[REPORT_REP_FRAME])
{
	size_t dlen = detail != NULL ? strnlen(detail, REPORT_DETAIL_MAX) : 0;
	uint8_t *p = out + CTL_FRAME_HDR;

	ctl_header_encode(9 + dlen, out);
	memcpy(p, REP_MAGIC, 4);
	put_u32(p + 4, id);
	p[8] = (uint8_t)outcome;
	if (dlen > 0)
		memcpy(p + 9, detail, dlen);
	return CTL_FRAME_HDR + 9 + dlen;
}

int
report_rep_parse(const uint8_t *buf, size_t len, struct report_rep *r)
{
	if (len < 9 || len - 9 > REPORT_DETAIL_MAX ||
	    memcmp(buf, REP_MAGIC, 4) != 0 || buf[8] > REPORT_FAILED)
		return -1;
	r->id = get_u32(buf + 4);
	r->outcome = (enum report_outcome)buf[8];
	copy_text(r->detail, buf + 9, len - 9);
	return 0;
}
