/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the SMTP reply parser of the MX probes
 * (src/check/smtp_reply.c; RFC 5321 §4.2, §4.1.1.1; RFC 3463).  The
 * input is what a server sent.  Besides memory errors (ASan) and
 * undefined behaviour (UBSan), it aborts when an invariant breaks:
 * - the input at once, octet by octet, and in pieces gives the same
 *   verdict, octets consumed, code, lines, flags and enhanced code;
 * - MORE consumes everything; DONE and ERROR stop at an octet, and the
 *   input up to just before it is MORE (the verdict comes exactly at
 *   the octet that decides it); DONE stops after an LF;
 * - a DONE reply has 1..100 lines of at most 2048 octets, none holding
 *   CR, LF, NUL or another CTL but HTAB, a code in 200..559, an enhanced
 *   code of the class of the code, and every first word of a line after
 *   the first is a keyword of a 250 reply; the banner host is the first
 *   word of the first line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_reply.h"

#include "fuzz.h"

static enum smtp_reply_result
feed(struct smtp_reply *r, const char *in, size_t len, size_t step,
     size_t *consumed)
{
	enum smtp_reply_result res = SMTP_REPLY_MORE;
	size_t n, c;

	smtp_reply_init(r);
	*consumed = 0;
	do {
		n = len - *consumed;
		if (step != 0 && n > step)
			n = step;
		res = smtp_reply_feed(r, in + *consumed, n, &c);
		CHECK(c <= n);
		*consumed += c;
	} while (res == SMTP_REPLY_MORE && *consumed < len);
	return res;
}

static void
same_reply(const struct smtp_reply *a, const struct smtp_reply *b)
{
	size_t i;

	CHECK(a->code == b->code && a->nlines == b->nlines);
	CHECK(a->flags == b->flags && a->len == b->len);
	CHECK(a->error == b->error);
	CHECK(strcmp(a->enhanced, b->enhanced) == 0);
	for (i = 0; i < a->nlines; i++) {
		const char *la = smtp_reply_line(a, i);
		const char *lb = smtp_reply_line(b, i);

		CHECK((la == NULL) == (lb == NULL));
		CHECK(la == NULL || strcmp(la, lb) == 0);
	}
}

/*
 * A line's text and what framed it fit SMTP_REPLY_LINE_MAX: the code,
 * the separator and CRLF, or a bare LF (accepted and flagged), which
 * leaves the text one octet more.
 */
static void
check_line(const char *l, bool bare_lf)
{
	size_t n = 0;

	for (; *l != '\0'; l++, n++)
		CHECK(*l == '\t' ||
		      ((unsigned char)*l >= 0x20 && (unsigned char)*l != 0x7F));
	CHECK(n + (bare_lf ? 5 : 6) <= SMTP_REPLY_LINE_MAX);
}

static void
check_done(const struct smtp_reply *r)
{
	const char *l, *h;
	char kw[SMTP_REPLY_LINE_MAX];
	size_t i, n, hlen;

	CHECK(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
	CHECK(r->code >= 200 && r->code <= 559);
	CHECK(r->enhanced[0] == '\0' || r->enhanced[0] == '0' + r->code / 100);
	CHECK(strlen(r->enhanced) <= SMTP_ENHANCED_MAX);
	for (i = 0; i < r->nlines; i++) {
		CHECK((l = smtp_reply_line(r, i)) != NULL);
		check_line(l, (r->flags & SMTP_REPLY_BARE_LF) != 0);
		n = strcspn(l, " \t");
		if (i == 0 || n == 0)
			continue;
		memcpy(kw, l, n);
		kw[n] = '\0';
		CHECK(smtp_reply_has_keyword(r, kw) == (r->code == 250));
	}
	CHECK(smtp_reply_line(r, r->nlines) == NULL);
	l = smtp_reply_line(r, 0);
	h = smtp_reply_banner_host(r, &hlen);
	CHECK((h == NULL) == (strcspn(l, " \t") == 0));
	CHECK(h == NULL || (h == l && hlen == strcspn(l, " \t")));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_reply whole, part;
	const char *in = (const char *)data;
	enum smtp_reply_result res, res2;
	size_t consumed, c2;

	res = feed(&whole, in, size, 0, &consumed);
	CHECK(consumed <= size);
	CHECK(strcmp(smtp_reply_strerror(whole.error), "unknown error") != 0);
	if (res == SMTP_REPLY_MORE) {
		CHECK(consumed == size && whole.error == SMTP_REPLY_E_NONE);
	} else {
		CHECK(consumed >= 1);
		CHECK(feed(&part, in, consumed - 1, 0, &c2) == SMTP_REPLY_MORE);
	}
	if (res == SMTP_REPLY_DONE) {
		CHECK(in[consumed - 1] == '\n' && whole.len == consumed);
		check_done(&whole);
	}
	if (res == SMTP_REPLY_ERROR)
		CHECK(whole.error != SMTP_REPLY_E_NONE);

	res2 = feed(&part, in, size, 2 + size % 11, &c2);
	CHECK(res2 == res && c2 == consumed);
	same_reply(&whole, &part);
	if (size <= 8192) {
		res2 = feed(&part, in, size, 1, &c2);
		CHECK(res2 == res && c2 == consumed);
		same_reply(&whole, &part);
	}
	return 0;
}
