/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the socketmap protocol of mtasts policyd
 * (src/policyd/socketmap.c, socketmap_table(5)): the input is what a
 * client sends on one connection.  The decoder takes netstrings off it
 * one after another; each payload is parsed as a request and its key
 * classified (RFC 8461 §3.4).  Besides memory errors (ASan) and
 * undefined behaviour (UBSan), it aborts when an invariant breaks:
 * - OK: consumed never exceeds what is left, the payload lies between
 *   the ':' and the ',' and is at most the cap, encoding the payload
 *   gives back the very octets decoded (one spelling per netstring),
 *   and decoding the encoder's output gives the payload back; every
 *   prefix of the netstring is NEED_MORE;
 * - NEED_MORE: what is left is shorter than the longest netstring the
 *   cap allows; ERROR: a reason is given;
 * - a request's name and key cover the payload but for one space;
 * - a DOMAIN or NEXTHOP key yields a lower-case, valid name of at most
 *   253 octets that classifies again as itself; hosts and ports lie
 *   inside the key; the other kinds carry no domain;
 * - the replies built from the payload decode to what was asked, and a
 *   failure reason comes out printable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/dname.h>

#include "socketmap.h"

#include "fuzz.h"

#define CAP SOCKETMAP_QUERY_MAX

/* p[0..n) lies inside buf[0..len). */
static bool
inside(const char *buf, size_t len, const char *p, size_t n)
{
	return p >= buf && p <= buf + len && n <= len - (size_t)(p - buf);
}

static void
check_domain(const struct socketmap_key *k)
{
	struct socketmap_key again;
	size_t i;

	CHECK(k->domain_len > 0 && k->domain_len <= MTS_DNAME_MAX);
	CHECK(strlen(k->domain) == k->domain_len);
	for (i = 0; i < k->domain_len; i++)
		CHECK(!(k->domain[i] >= 'A' && k->domain[i] <= 'Z'));
	CHECK(mts_dname_check(k->domain, k->domain_len, MTS_DNAME_REQUIRE_DOT,
	                      NULL) == 0);
	CHECK(socketmap_key_classify(k->domain, k->domain_len, &again) ==
	      SOCKETMAP_KEY_DOMAIN);
	CHECK(again.domain_len == k->domain_len &&
	      memcmp(again.domain, k->domain, k->domain_len) == 0);
}

static void
check_key(const char *key, size_t len)
{
	struct socketmap_key k;
	enum socketmap_key_kind kind;

	kind = socketmap_key_classify(key, len, &k);
	CHECK(kind == k.kind && k.why != NULL);
	CHECK(kind >= SOCKETMAP_KEY_MALFORMED && kind <= SOCKETMAP_KEY_ADDRESS);
	if (kind == SOCKETMAP_KEY_DOMAIN || kind == SOCKETMAP_KEY_NEXTHOP) {
		CHECK(k.bracketed == (kind == SOCKETMAP_KEY_NEXTHOP));
		CHECK(k.host_len == k.domain_len);
		check_domain(&k);
	}
	if (kind == SOCKETMAP_KEY_DOMAIN || kind == SOCKETMAP_KEY_NEXTHOP ||
	    kind == SOCKETMAP_KEY_UTF8) {
		CHECK(k.host != NULL && k.host_len > 0 &&
		      inside(key, len, k.host, k.host_len));
		CHECK(k.port == NULL ||
		      (k.port_len > 0 && inside(key, len, k.port, k.port_len)));
	} else {
		CHECK(k.host == NULL && k.domain_len == 0 &&
		      k.domain[0] == '\0');
	}
	CHECK(kind != SOCKETMAP_KEY_UTF8 || k.domain_len == 0);
}

static void
check_replies(const char *p, size_t len)
{
	static char out[SOCKETMAP_REPLY_WIRE_MAX];
	char reason[SOCKETMAP_REASON_MAX + 1];
	struct socketmap_frame f;
	size_t n, i;

	if (socketmap_reply_ok(p, len, out, sizeof(out), &n, NULL) == 0) {
		CHECK(socketmap_decode(out, n, SOCKETMAP_REPLY_MAX, &f, NULL) ==
		      SOCKETMAP_OK);
		CHECK(f.consumed == n && f.len == len + 3 &&
		      memcmp(out + f.off, "OK ", 3) == 0 &&
		      memcmp(out + f.off + 3, p, len) == 0);
	}
	n = len < SOCKETMAP_REASON_MAX ? len : SOCKETMAP_REASON_MAX;
	memcpy(reason, p, n);
	reason[n] = '\0';
	CHECK(socketmap_reply_failure(SOCKETMAP_TEMP, reason, out, sizeof(out),
	                              &n, NULL) == 0);
	CHECK(socketmap_decode(out, n, SOCKETMAP_REPLY_MAX, &f, NULL) ==
	      SOCKETMAP_OK);
	CHECK(f.consumed == n && f.len >= 5 &&
	      f.len <= 5 + SOCKETMAP_REASON_MAX);
	for (i = 0; i < f.len; i++)
		CHECK(out[f.off + i] >= 0x20 && out[f.off + i] < 0x7f);
}

static void
check_payload(const char *p, size_t len)
{
	struct socketmap_request r;

	if (socketmap_request_parse(p, len, &r, NULL) == 0) {
		CHECK(r.name == p && r.name_len > 0 && r.key_len > 0);
		CHECK(r.name_len + 1 + r.key_len == len);
		CHECK(r.key == p + r.name_len + 1 && p[r.name_len] == ' ');
		check_key(r.key, r.key_len);
	}
	/* The key classifier stands on its own too: any octets. */
	check_key(p, len);
	check_replies(p, len);
}

/* The decoded netstring buf[0..f->consumed), re-encoded and decoded. */
static void
check_frame(const char *buf, size_t left, const struct socketmap_frame *f)
{
	static char out[SOCKETMAP_REPLY_WIRE_MAX];
	struct socketmap_frame g;
	size_t n = 0, k;

	CHECK(f->consumed <= left && f->len <= CAP);
	CHECK(f->off >= 2 && f->off + f->len + 1 == f->consumed);
	CHECK(buf[f->off - 1] == ':' && buf[f->consumed - 1] == ',');
	CHECK(socketmap_encode(buf + f->off, f->len, out, sizeof(out), &n,
	                       NULL) == 0);
	CHECK(n == f->consumed && memcmp(out, buf, n) == 0);
	CHECK(socketmap_decode(out, n, CAP, &g, NULL) == SOCKETMAP_OK);
	CHECK(g.off == f->off && g.len == f->len && g.consumed == n);
	/* A few prefixes: each is still incomplete. */
	for (k = 0; k < n; k += 1 + n / 8)
		CHECK(socketmap_decode(buf, k, CAP, &g, NULL) ==
		      SOCKETMAP_NEED_MORE);
	CHECK(socketmap_decode(buf, n - 1, CAP, &g, NULL) ==
	      SOCKETMAP_NEED_MORE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct socketmap_frame f;
	enum socketmap_decode_result res;
	const char *why;
	size_t pos = 0;

	for (;;) {
		why = NULL;
		res = socketmap_decode(buf + pos, size - pos, CAP, &f, &why);
		if (res != SOCKETMAP_OK)
			break;
		check_frame(buf + pos, size - pos, &f);
		check_payload(buf + pos + f.off, f.len);
		pos += f.consumed;
		CHECK(pos <= size);
	}
	if (res == SOCKETMAP_NEED_MORE)
		CHECK(why == NULL && size - pos < 5 + 1 + CAP + 1);
	else
		CHECK(why != NULL);
	return 0;
}
