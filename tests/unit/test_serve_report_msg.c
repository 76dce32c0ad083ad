/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/serve/report_msg.c, the messages between the server
 * process and the report process of mtasts serve (RFC 8460 §5.4): a
 * request's head and body round trip through a ctl.h frame; a table of
 * request and reply bodies that must be refused; every truncation of a
 * good one refused or read as a shorter body; replies with their detail
 * cut and their control bytes shown as '?'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "report_msg.h"
#include "tap.h"

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

static void
check_request_round_trip(void)
{
	static const char body[] = "{\"report-id\": \"x\"}";
	uint8_t frame[REPORT_REQ_HEAD + sizeof(body)];
	struct report_req r;
	struct ctl_frame f;
	size_t head;

	head = report_req_head(7, REPORT_KIND_GZIP, "2001:db8::1",
	                       sizeof(body) - 1, frame);
	memcpy(frame + head, body, sizeof(body) - 1);
	tap_ok(ctl_frame_decode(frame, head + sizeof(body) - 1, 1u << 20, &f) ==
	               CTL_FRAME &&
	           f.size == head + sizeof(body) - 1,
	       "request: one whole ctl.h frame");
	tap_ok(report_req_parse(f.body, f.len, &r) == 0 && r.id == 7 &&
	           r.kind == REPORT_KIND_GZIP &&
	           strcmp(r.origin, "2001:db8::1") == 0 &&
	           r.body_len == sizeof(body) - 1 &&
	           memcmp(r.body, body, r.body_len) == 0,
	       "request: id, kind, origin and body read back");
	tap_ok(ctl_frame_decode(frame, head + sizeof(body) - 2, 1u << 20, &f) ==
	           CTL_NEED_MORE,
	       "request: one octet short is not a frame yet");
	head = report_req_head(1, REPORT_KIND_JSON,
	                       "0123456789012345678901234567890123456789"
	                       "0123456789012345678901234567890123456789",
	                       0, frame);
	tap_ok(head == REPORT_REQ_HEAD &&
	           report_req_parse(frame + CTL_FRAME_HDR, head - CTL_FRAME_HDR,
	                            &r) == 0 &&
	           strlen(r.origin) == REPORT_ORIGIN_MAX && r.body_len == 0,
	       "request: an origin over the cap is cut; the head fits "
	       "REPORT_REQ_HEAD");
}

static const struct bad_case {
	const char *name;
	const uint8_t *in;
	size_t len;
} bad_requests[] =
    {
	{"empty", B("")},
	{"magic only", B("MTSP")},
	{"no origin length", B("MTSP\0\0\0\1\1")},
	{"another magic", B("MTSA\0\0\0\1\1\0")},
	{"kind 0", B("MTSP\0\0\0\1\0\0")},
	{"kind 3", B("MTSP\0\0\0\1\3\0")},
	{"origin past the end", B("MTSP\0\0\0\1\1\5abcd")},
	{"origin over the cap", B("MTSP\0\0\0\1\1\101")},
},
  bad_replies[] = {
      {"empty", B("")},
      {"no outcome", B("MTSA\0\0\0\1")},
      {"another magic", B("MTSP\0\0\0\1\0")},
      {"outcome 4", B("MTSA\0\0\0\1\4")},
};

static void
check_bad(void)
{
	struct report_req req;
	struct report_rep rep;
	size_t i;

	for (i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		memset(&req, 0x5A, sizeof(req));
		tap_ok(report_req_parse(bad_requests[i].in, bad_requests[i].len,
		                        &req) == -1 &&
		           req.id == 0x5A5A5A5Au,
		       "request refused, untouched: %s", bad_requests[i].name);
	}
	for (i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
		memset(&rep, 0x5A, sizeof(rep));
		tap_ok(report_rep_parse(bad_replies[i].in, bad_replies[i].len,
		                        &rep) == -1 &&
		           rep.id == 0x5A5A5A5Au,
		       "reply refused, untouched: %s", bad_replies[i].name);
	}
}

static void
check_replies(void)
{
	uint8_t frame[REPORT_REP_FRAME];
	char detail[REPORT_DETAIL_MAX + 50];
	uint8_t big[REPORT_REP_MAX + 1];
	struct report_rep rep;
	struct ctl_frame f;
	size_t n;

	n = report_rep_encode(9, REPORT_KNOWN, "2025-05-22T00:00:00Z_foo",
	                      frame);
	tap_ok(ctl_frame_decode(frame, n, REPORT_REP_MAX, &f) == CTL_FRAME &&
	           report_rep_parse(f.body, f.len, &rep) == 0 && rep.id == 9 &&
	           rep.outcome == REPORT_KNOWN &&
	           strcmp(rep.detail, "2025-05-22T00:00:00Z_foo") == 0,
	       "reply: id, outcome and report-id read back");
	n = report_rep_encode(1, REPORT_FAILED, NULL, frame);
	tap_ok(report_rep_parse(frame + CTL_FRAME_HDR, n - CTL_FRAME_HDR,
	                        &rep) == 0 &&
	           rep.outcome == REPORT_FAILED && rep.detail[0] == '\0',
	       "reply: no detail");
	memset(detail, 'x', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	detail[3] = '\n';
	detail[4] = '\x7f';
	n = report_rep_encode(2, REPORT_QUARANTINED, detail, frame);
	tap_ok(n == REPORT_REP_FRAME &&
	           ctl_frame_decode(frame, n, REPORT_REP_MAX, &f) ==
	               CTL_FRAME &&
	           report_rep_parse(f.body, f.len, &rep) == 0 &&
	           strlen(rep.detail) == REPORT_DETAIL_MAX &&
	           memcmp(rep.detail, "xxx??x", 6) == 0,
	       "reply: a long detail is cut, control bytes shown as '?'");
	memset(big, 'x', sizeof(big));
	memcpy(big, frame + CTL_FRAME_HDR, 9);
	tap_ok(report_rep_parse(big, sizeof(big), &rep) == -1,
	       "reply: a detail over the cap is refused");
}

int
main(void)
{
	check_request_round_trip();
	check_bad();
	check_replies();
	return tap_done();
}
