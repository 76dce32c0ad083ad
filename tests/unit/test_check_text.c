/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/check/text.c, the escaping of text from the network that
 * the policy fetch, the MX probe and the output of `mtasts check` share
 * (issue 9: a Location holding 0xFF 0xFE made jansson refuse a finding,
 * which vanished from --json).  A table of inputs and their escapes:
 * printable ASCII and well-formed UTF-8 (RFC 3629) kept, controls (C1
 * too) and every octet of an ill-formed sequence as \xHH.  For each row:
 * the escape, its length, that jansson takes it as a JSON string (valid
 * UTF-8, RFC 8259 §8.1), that escaping it again changes nothing, and,
 * for every buffer size, a cut only at a character boundary.  Inputs
 * are heap copies of exactly their length, so that ASan catches a read
 * past the end.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tap.h"
#include "text.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* T: a NUL-terminated input; TN: one with NULs, sized by sizeof. */
#define T(n, s, w)                                                             \
	{                                                                      \
		n, s, 0, w                                                     \
	}
#define TN(n, s, w)                                                            \
	{                                                                      \
		n, s, sizeof(s) - 1, w                                         \
	}

static const struct text_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *want;
} cases[] = {
    T("empty", "", ""),
    T("printable ASCII is kept", "mx1.example.test 250 OK",
      "mx1.example.test 250 OK"),
    T("backslash and quote are kept (escaping is idempotent)", "a\\xFF \"b\"",
      "a\\xFF \"b\""),
    T("0xFF 0xFE: no UTF-8 (issue 9)", "\xff\xfe", "\\xFF\\xFE"),
    T("a Location with 0xFF 0xFE (issue 9)",
      "https://mta-sts.example.test/\xff\xfe",
      "https://mta-sts.example.test/\\xFF\\xFE"),
    T("2-octet UTF-8 is kept", "caf\xc3\xa9", "caf\xc3\xa9"),
    T("3-octet UTF-8 is kept", "\xe2\x82\xac 5", "\xe2\x82\xac 5"),
    T("4-octet UTF-8 is kept", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),
    T("U+00A0 (the first after C1) is kept", "a\xc2\xa0z", "a\xc2\xa0z"),
    T("U+10FFFF is kept", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),
    T("C1 CSI U+009B is escaped (terminals obey it)",
      "\xc2\x9b"
      "31m",
      "\\xC2\\x9B31m"),
    T("C1 U+0080 is escaped", "\xc2\x80", "\\xC2\\x80"),
    T("raw 0x9B (8-bit CSI) is escaped",
      "\x9b"
      "2J",
      "\\x9B2J"),
    T("ESC is escaped", "\x1b[31mred", "\\x1B[31mred"),
    T("tab, CR and LF as letters", "a\tb\r\nc", "a\\tb\\r\\nc"),
    T("DEL is escaped", "a\x7f", "a\\x7F"),
    TN("NUL is escaped", "a\0b", "a\\x00b"),
    T("overlong C0 AF", "\xc0\xaf", "\\xC0\\xAF"),
    T("overlong E0 80 AF", "\xe0\x80\xaf", "\\xE0\\x80\\xAF"),
    T("overlong F0 80 80 AF", "\xf0\x80\x80\xaf", "\\xF0\\x80\\x80\\xAF"),
    T("surrogate ED A0 80", "\xed\xa0\x80", "\\xED\\xA0\\x80"),
    T("above U+10FFFF: F4 90 80 80", "\xf4\x90\x80\x80",
      "\\xF4\\x90\\x80\\x80"),
    T("F5 is never a lead", "\xf5\x80\x80\x80", "\\xF5\\x80\\x80\\x80"),
    T("a lone continuation octet", "a\x80z", "a\\x80z"),
    T("a sequence cut by the end", "ab\xe2\x82", "ab\\xE2\\x82"),
    T("a sequence cut by ASCII", "\xe2\x82z\xc3\xa9", "\\xE2\\x82z\xc3\xa9"),
    T("UTF-8 after an escape is kept", "\xff\xc3\xa9", "\\xFF\xc3\xa9"),
};

/* A heap copy of exactly len octets, for ASan. */
static char *
copy_of(const char *s, size_t len)
{
	char *p = malloc(len > 0 ? len : 1);

	if (p == NULL)
		abort();
	memcpy(p, s, len);
	return p;
}

/* jansson takes the text as a JSON string: it is valid UTF-8. */
static bool
json_takes(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	bool ok = j != NULL;

	json_decref(j);
	return ok;
}

static void
check_row(const struct text_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	size_t want_len = strlen(c->want), n;
	char *in = copy_of(c->in, len);
	char out[512], again[512];

	n = text_escape(out, sizeof(out), in, len);
	tap_ok(n == want_len && tap_streq(out, c->want), "%s: the escape",
	       c->name);
	tap_ok(text_escaped_len(in, len) == want_len,
	       "%s: text_escaped_len says %zu", c->name, want_len);
	tap_ok(json_takes(out, n), "%s: jansson takes it", c->name);
	n = text_escape(again, sizeof(again), out, n);
	tap_ok(tap_streq(again, out), "%s: escaping again changes nothing",
	       c->name);
	free(in);
}

/*
 * Every size from 1 up: a prefix of the whole escape, no character cut
 * (jansson takes it, escaping it again changes nothing), and as much as
 * fits (a cut leaves less room than the longest character, 4 octets).
 */
static void
check_cuts(const struct text_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	size_t want_len = strlen(c->want), size, n;
	char *in = copy_of(c->in, len);
	char out[512], again[512];
	bool ok = true;

	for (size = 1; size <= want_len + 1 && ok; size++) {
		n = text_escape(out, size, in, len);
		ok = n < size && out[n] == '\0' &&
		    strncmp(out, c->want, n) == 0 && json_takes(out, n) &&
		    text_escape(again, sizeof(again), out, n) == n &&
		    (n == want_len || n + 4 >= size);
		if (!ok)
			tap_diag("size %zu: \"%s\" (%zu)", size, out, n);
	}
	tap_ok(ok, "%s: every cut at a character boundary", c->name);
	free(in);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < NELEM(cases); i++)
		check_row(&cases[i]);
	for (i = 0; i < NELEM(cases); i++)
		check_cuts(&cases[i]);
	return tap_done();
}
