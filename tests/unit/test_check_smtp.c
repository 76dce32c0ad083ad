/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/check/smtp_reply.c, the SMTP reply parser of the MX
 * probes (RFC 5321 §4.2, §4.1.1.1, §4.5.3.1.5; RFC 3463; RFC 2034).
 * A table of replies with the verdict, the code, the lines and the
 * flags; tables of EHLO keywords (STS-CERT-1: STARTTLS must be
 * announced) and banner hosts (RPT-JSON-22, checklist §24 A18); then
 * every split point of every row, and the caps to the octet.  Inputs
 * are heap copies of exactly their length, so that ASan catches a read
 * past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp_reply.h"
#include "tap.h"

#define CRLF "\r\n"

#define MORE SMTP_REPLY_MORE
#define DONE SMTP_REPLY_DONE
#define FAIL SMTP_REPLY_ERROR

#define LF   SMTP_REPLY_BARE_LF
#define LONG SMTP_REPLY_LONG_LINE
#define B8   SMTP_REPLY_8BIT

/*
 * Rows: R for a reply read, with its code, its lines joined by "|", its
 * flags, enhanced code and the octets left after it; RPART for a reply
 * still going; RBAD for an error (RBADN: with a NUL, so sized).
 */
#define R(n, s, c, l, f, e, r)                                                 \
	{                                                                      \
		.name = n, .in = s, .want = DONE, .code = c, .lines = l,       \
		.flags = f, .enhanced = e, .rest = r                           \
	}
#define RPART(n, s)                                                            \
	{                                                                      \
		.name = n, .in = s, .want = MORE                               \
	}
#define RBAD(n, s, err)                                                        \
	{                                                                      \
		.name = n, .in = s, .want = FAIL, .error = err                 \
	}
#define RBADN(n, s, err)                                                       \
	{                                                                      \
		.name = n, .in = s, .len = sizeof(s) - 1, .want = FAIL,        \
		.error = err                                                   \
	}

#define EHLO                                                                   \
	"250-mx1.example.com Hello client.example [192.0.2.1]" CRLF            \
	"250-PIPELINING" CRLF "250-SIZE 35882577" CRLF "250-8BITMIME" CRLF     \
	"250-AUTH PLAIN LOGIN" CRLF "250-ENHANCEDSTATUSCODES" CRLF             \
	"250-STARTTLS" CRLF "250 SMTPUTF8" CRLF

static const struct reply_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	enum smtp_reply_result want;
	enum smtp_reply_error error;
	int code;
	const char *lines; /* joined by "|" */
	unsigned flags;
	const char *enhanced;
	size_t rest; /* octets after the reply */
} cases[] = {
    /* Single-line replies, RFC 5321 §4.2. */
    R("greeting", "220 mx1.example.com ESMTP Postfix" CRLF, 220,
      "mx1.example.com ESMTP Postfix", 0, "", 0),
    R("code only", "250" CRLF, 250, "", 0, "", 0),
    R("code and SP only", "250 " CRLF, 250, "", 0, "", 0),
    R("HTAB in the text", "250 a\tb" CRLF, 250, "a\tb", 0, "", 0),
    R("STARTTLS ready", "220 2.0.0 Ready to start TLS" CRLF, 220,
      "2.0.0 Ready to start TLS", 0, "2.0.0", 0),
    R("STS-CERT-1 T2: 454",
      "454 4.7.0 TLS not available due to local problem" CRLF, 454,
      "4.7.0 TLS not available due to local problem", 0, "4.7.0", 0),
    R("enhanced code alone", "554 5.7.1" CRLF, 554, "5.7.1", 0, "5.7.1", 0),
    R("enhanced code, three-digit parts", "550 5.123.456 x" CRLF, 550,
      "5.123.456 x", 0, "5.123.456", 0),
    R("enhanced class must match the code", "250 5.0.0 odd" CRLF, 250,
      "5.0.0 odd", 0, "", 0),
    R("no enhanced code for 3xx", "354 3.0.0 go" CRLF, 354, "3.0.0 go", 0, "",
      0),
    R("enhanced part of four digits is text", "550 5.1234.1 x" CRLF, 550,
      "5.1234.1 x", 0, "", 0),
    R("enhanced code needs SP after it", "550 5.1.1: x" CRLF, 550, "5.1.1: x",
      0, "", 0),
    R("enhanced code needs three parts", "550 5.1 x" CRLF, 550, "5.1 x", 0, "",
      0),
    R("highest code 559", "559 x" CRLF, 559, "x", 0, "", 0),

    /* Multiline replies, §4.2.1. */
    R("multiline greeting",
      "220-mx.example.com ESMTP" CRLF "220-no UCE" CRLF "220 ready" CRLF, 220,
      "mx.example.com ESMTP|no UCE|ready", 0, "", 0),
    R("EHLO reply", EHLO, 250,
      "mx1.example.com Hello client.example [192.0.2.1]|PIPELINING|SIZE "
      "35882577|8BITMIME|AUTH PLAIN LOGIN|ENHANCEDSTATUSCODES|STARTTLS|"
      "SMTPUTF8",
      0, "", 0),
    R("empty continuation lines", "250-" CRLF "250-" CRLF "250" CRLF, 250, "||",
      0, "", 0),
    R("multiline enhanced code from the first line",
      "550-5.7.1 no" CRLF "550 5.7.1 really" CRLF, 550, "5.7.1 no|5.7.1 really",
      0, "5.7.1", 0),
    R("the next reply is left alone", "250 ok" CRLF "354 go" CRLF, 250, "ok", 0,
      "", 8),
    R("pipelined text after the last line", "250-a" CRLF "250 b" CRLF "x", 250,
      "a|b", 0, "", 1),

    /* Tolerated, and flagged. */
    R("bare LF", "250-a\n250 b\n", 250, "a|b", LF, "", 0),
    R("bare LF after the code", "250\n", 250, "", LF, "", 0),
    R("CRLF and LF mixed", "250-a" CRLF "250 b\n", 250, "a|b", LF, "", 0),
    R("UTF-8 text", "220 mx.example ESMTP caf\xc3\xa9" CRLF, 220,
      "mx.example ESMTP caf\xc3\xa9", B8, "", 0),

    /* Incomplete. */
    RPART("empty", ""),
    RPART("a code", "25"),
    RPART("a line without its end", "250 ok"),
    RPART("CR without LF yet", "250 ok\r"),
    RPART("continuation only", "250-a" CRLF),
    RPART("continuation then a code", "250-a" CRLF "250"),

    /* Errors. */
    RBAD("STS-CERT-1: codes differ in a multiline reply",
         "250-a" CRLF "251 b" CRLF, SMTP_REPLY_E_CODE_MISMATCH),
    RBAD("mismatch seen at the third digit", "250-a" CRLF "251",
         SMTP_REPLY_E_CODE_MISMATCH),
    RBAD("mismatch in a greeting", "220-a" CRLF "554 b" CRLF,
         SMTP_REPLY_E_CODE_MISMATCH),
    RBAD("two-digit code", "25 ok" CRLF, SMTP_REPLY_E_SYNTAX),
    RBAD("letters for a code", "abc" CRLF, SMTP_REPLY_E_SYNTAX),
    RBAD("empty line", CRLF, SMTP_REPLY_E_SYNTAX),
    RBAD("leading SP", " 250 ok" CRLF, SMTP_REPLY_E_SYNTAX),
    RBAD("four-digit code", "2500 ok" CRLF, SMTP_REPLY_E_SYNTAX),
    RBAD("HTAB after the code", "250\tok" CRLF, SMTP_REPLY_E_SYNTAX),
    RBAD("1yz code", "150 x" CRLF, SMTP_REPLY_E_CODE),
    RBAD("6yz code", "650 x" CRLF, SMTP_REPLY_E_CODE),
    RBAD("second digit 6", "260 x" CRLF, SMTP_REPLY_E_CODE),
    RBAD("HTTP at an SMTP port", "HTTP/1.1 400" CRLF, SMTP_REPLY_E_SYNTAX),
    RBAD("TLS at an SMTP port", "\x16\x03\x01", SMTP_REPLY_E_SYNTAX),
    RBAD("bare CR", "250 a\rb" CRLF, SMTP_REPLY_E_CTL),
    RBAD("bare CR after the code", "250\rb" CRLF, SMTP_REPLY_E_CTL),
    RBAD("CTL in the text", "250 a\x01" CRLF, SMTP_REPLY_E_CTL),
    RBAD("DEL in the text", "250 a\x7f" CRLF, SMTP_REPLY_E_CTL),
    RBADN("NUL in the text", "250 a\0b" CRLF, SMTP_REPLY_E_CTL),
};

/* The lines of a DONE reply joined by "|", into buf. */
static void
joined(const struct smtp_reply *r, char *buf, size_t size)
{
	size_t i, n = 0;
	const char *l;

	buf[0] = '\0';
	for (i = 0; i < r->nlines && (l = smtp_reply_line(r, i)) != NULL; i++) {
		n += (size_t)snprintf(buf + n, size - n, "%s%s",
		                      i == 0 ? "" : "|", l);
		if (n >= size)
			abort();
	}
}

/* Feeds a heap copy of in[0..len) in pieces of step (0: at once). */
static enum smtp_reply_result
feed(struct smtp_reply *r, const char *in, size_t len, size_t step,
     size_t *consumed)
{
	enum smtp_reply_result res = MORE;
	char *buf = malloc(len == 0 ? 1 : len);
	size_t n, c;

	if (buf == NULL)
		abort();
	memcpy(buf, in, len);
	smtp_reply_init(r);
	*consumed = 0;
	do {
		n = len - *consumed;
		if (step != 0 && n > step)
			n = step;
		res = smtp_reply_feed(r, buf + *consumed, n, &c);
		*consumed += c;
	} while (res == MORE && *consumed < len);
	free(buf);
	return res;
}

static bool
same_reply(const struct smtp_reply *a, const struct smtp_reply *b)
{
	char ja[SMTP_REPLY_MAX + SMTP_REPLY_LINES_MAX];
	char jb[SMTP_REPLY_MAX + SMTP_REPLY_LINES_MAX];

	joined(a, ja, sizeof(ja));
	joined(b, jb, sizeof(jb));
	return a->code == b->code && a->nlines == b->nlines &&
	    a->flags == b->flags && a->len == b->len && a->error == b->error &&
	    strcmp(a->enhanced, b->enhanced) == 0 && strcmp(ja, jb) == 0;
}

static void
check_case(const struct reply_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in), consumed;
	static struct smtp_reply r;
	enum smtp_reply_result res;
	char lines[1024];
	bool ok;

	res = feed(&r, c->in, len, 0, &consumed);
	ok = res == c->want;
	if (ok && res == FAIL)
		ok = r.error == c->error;
	if (ok && res == MORE)
		ok = consumed == len;
	if (ok && res == DONE) {
		joined(&r, lines, sizeof(lines));
		ok = r.code == c->code && strcmp(lines, c->lines) == 0 &&
		    r.flags == c->flags &&
		    strcmp(r.enhanced, c->enhanced) == 0 &&
		    consumed == len - c->rest && r.len == consumed;
	}
	if (!tap_ok(ok, "%s", c->name))
		tap_diag("result %d error %d code %d flags %#x consumed %zu",
		         (int)res, (int)r.error, r.code, r.flags, consumed);
}

/* Byte by byte and every two-piece split give the same as at once. */
static void
check_splits(const struct reply_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in), k, cw, cp;
	static struct smtp_reply whole, part;
	enum smtp_reply_result rw, rp;
	bool ok = true;

	rw = feed(&whole, c->in, len, 0, &cw);
	for (k = 1; k <= len && ok; k++) {
		rp = feed(&part, c->in, len, k, &cp);
		ok = rp == rw && cp == cw && same_reply(&whole, &part);
		if (!ok)
			tap_diag("step %zu: result %d consumed %zu", k, (int)rp,
			         cp);
	}
	tap_ok(ok, "splits: %s", c->name);
}

/*
 * EHLO keywords (RFC 5321 §4.1.1.1), compared without case.
 * STS-CERT-1 T1: a reply without STARTTLS means no TLS for this MX.
 */
static const struct keyword_case {
	const char *name;
	const char *in;
	const char *keyword;
	const char *params; /* NULL: not announced */
} keyword_cases[] = {
    {"STS-CERT-1: STARTTLS announced", EHLO, "STARTTLS", ""},
    {"keywords compare without case", EHLO, "starttls", ""},
    {"STARTTLS in mixed case from the server",
     "250-mx.example" CRLF "250-StartTls" CRLF "250 8BITMIME" CRLF, "STARTTLS",
     ""},
    {"STARTTLS on the last line: 250 STARTTLS",
     "250-mx.example" CRLF "250 STARTTLS" CRLF, "STARTTLS", ""},
    {"STARTTLS on a continuation: 250-STARTTLS",
     "250-mx.example" CRLF "250-STARTTLS" CRLF "250 HELP" CRLF, "STARTTLS", ""},
    {"250 STARTTLS alone is a server name", "250 STARTTLS" CRLF, "STARTTLS",
     NULL},
    {"server name is not a keyword", EHLO, "mx1.example.com", NULL},
    {"STS-CERT-1 T1: STARTTLS not announced",
     "250-mx.example" CRLF "250-PIPELINING" CRLF "250 8BITMIME" CRLF,
     "STARTTLS", NULL},
    {"a prefix is not the keyword", "250-mx.example" CRLF "250 STARTTLSX" CRLF,
     "STARTTLS", NULL},
    {"the keyword is not a prefix", "250-mx.example" CRLF "250 START" CRLF,
     "STARTTLS", NULL},
    {"8BITMIME without parameters", EHLO, "8BITMIME", ""},
    {"SIZE with its parameter", EHLO, "SIZE", "35882577"},
    {"AUTH with its parameters", EHLO, "auth", "PLAIN LOGIN"},
    {"not announced", EHLO, "CHUNKING", NULL},
    {"keywords of a non-250 reply do not count",
     "550-mx.example" CRLF "550 STARTTLS" CRLF, "STARTTLS", NULL},
    {"empty keyword", EHLO, "", NULL},
    {"HTAB separates a parameter", "250-mx" CRLF "250 SIZE\t100" CRLF, "SIZE",
     "100"},
};

static void
check_keyword(const struct keyword_case *c)
{
	static struct smtp_reply r;
	const char *p;
	size_t consumed;
	bool ok;

	ok = feed(&r, c->in, strlen(c->in), 0, &consumed) == DONE;
	p = smtp_reply_keyword(&r, c->keyword);
	ok = ok && tap_streq(p, c->params) &&
	    smtp_reply_has_keyword(&r, c->keyword) == (c->params != NULL);
	if (!tap_ok(ok, "keyword: %s", c->name))
		tap_diag("got \"%s\"", p == NULL ? "(null)" : p);
}

/* RPT-JSON-22, checklist §24 A18: the host of the 220 greeting. */
static const struct banner_case {
	const char *name;
	const char *in;
	const char *host; /* NULL: none */
} banner_cases[] = {
    {"RPT-JSON-22 T1: 220 mx1.example.com ESMTP",
     "220 mx1.example.com ESMTP" CRLF, "mx1.example.com"},
    {"host alone", "220 mx1.example.com" CRLF, "mx1.example.com"},
    {"multiline greeting: first line",
     "220-mx1.example.com ESMTP" CRLF "220 other.example" CRLF,
     "mx1.example.com"},
    {"address literal", "220 [192.0.2.25] ESMTP" CRLF, "[192.0.2.25]"},
    {"554 greeting", "554 mx.example no service" CRLF, "mx.example"},
    {"HTAB ends the host", "220 mx.example\tESMTP" CRLF, "mx.example"},
    {"no text", "220" CRLF, NULL},
    {"SP only", "220 " CRLF, NULL},
    {"text starts with SP", "220  mx.example" CRLF, NULL},
};

static void
check_banner(const struct banner_case *c)
{
	static struct smtp_reply r;
	size_t consumed, len = 99;
	const char *h;
	bool ok;

	ok = feed(&r, c->in, strlen(c->in), 0, &consumed) == DONE;
	h = smtp_reply_banner_host(&r, &len);
	if (c->host == NULL)
		ok = ok && h == NULL && len == 99;
	else
		ok = ok && h != NULL && len == strlen(c->host) &&
		    memcmp(h, c->host, len) == 0;
	tap_ok(ok, "banner: %s", c->name);
}

/* A reply of `lines` lines of n octets each, CRLF included. */
static char *
reply_of(size_t lines, size_t n, size_t *len)
{
	char *s;
	size_t i;

	if (n < 5 || (s = malloc(lines * n + 1)) == NULL)
		abort();
	for (i = 0; i < lines; i++) {
		memcpy(s + i * n, i + 1 == lines ? "250 " : "250-", 4);
		memset(s + i * n + 4, 'x', n - 6);
		memcpy(s + i * n + n - 2, CRLF, 2);
	}
	s[lines * n] = '\0';
	*len = lines * n;
	return s;
}

static void
check_cap(const char *name, size_t lines, size_t n, enum smtp_reply_result want,
          enum smtp_reply_error error, unsigned flags)
{
	static struct smtp_reply r;
	size_t len, consumed;
	enum smtp_reply_result res;
	char *s = reply_of(lines, n, &len);
	bool ok;

	res = feed(&r, s, len, 0, &consumed);
	ok = res == want && r.error == error;
	if (ok && res == DONE)
		ok = r.nlines == lines && r.flags == flags && consumed == len &&
		    strlen(smtp_reply_line(&r, lines - 1)) == n - 6;
	if (!tap_ok(ok, "cap: %s", name))
		tap_diag("result %d error %d flags %#x consumed %zu", (int)res,
		         (int)r.error, r.flags, consumed);
	free(s);
}

static void
check_caps(void)
{
	static struct smtp_reply r;
	size_t consumed, len;
	char *s;

	check_cap("line of 512 octets", 1, 512, DONE, 0, 0);
	check_cap("line of 513 octets: flagged", 1, 513, DONE, 0, LONG);
	check_cap("line of 2048 octets", 1, 2048, DONE, 0, LONG);
	check_cap("line of 2049 octets", 1, 2049, FAIL,
	          SMTP_REPLY_E_LINE_TOO_LONG, 0);
	check_cap("100 lines", 100, 10, DONE, 0, 0);
	check_cap("101 lines", 101, 10, FAIL, SMTP_REPLY_E_TOO_MANY_LINES, 0);
	check_cap("16384 octets", 8, 2048, DONE, 0, LONG);
	check_cap("16385 octets", 9, 2048, FAIL, SMTP_REPLY_E_TOO_BIG, 0);

	/* The octet in error is the last one consumed. */
	s = reply_of(9, 2048, &len);
	tap_ok(feed(&r, s, len, 0, &consumed) == FAIL &&
	           consumed == SMTP_REPLY_MAX + 1,
	       "cap: stops at octet 16385");
	free(s);
	s = reply_of(1, 2100, &len);
	tap_ok(feed(&r, s, len, 0, &consumed) == FAIL &&
	           consumed == SMTP_REPLY_LINE_MAX + 1,
	       "cap: stops at octet 2049 of a line");
	free(s);
	s = reply_of(101, 10, &len);
	tap_ok(feed(&r, s, len, 0, &consumed) == FAIL && consumed == 1001,
	       "cap: stops at the first octet of line 101");
	free(s);
}

/* Accessors refuse a reply that is not DONE; DONE and ERROR stick. */
static void
check_state(void)
{
	static struct smtp_reply r;
	size_t c, len = 7;

	smtp_reply_init(&r);
	(void)smtp_reply_feed(&r, "250-STARTTLS\r\n", 14, &c);
	tap_ok(smtp_reply_line(&r, 0) == NULL &&
	           !smtp_reply_has_keyword(&r, "STARTTLS") &&
	           smtp_reply_banner_host(&r, &len) == NULL && len == 7,
	       "accessors need a DONE reply");
	(void)smtp_reply_feed(&r, "250 x\r\n", 7, &c);
	tap_ok(smtp_reply_line(&r, 2) == NULL && smtp_reply_line(&r, 1) != NULL,
	       "line index checked");
	tap_ok(smtp_reply_feed(&r, "250 y\r\n", 7, &c) == DONE && c == 0,
	       "DONE sticks, consumes nothing");
	smtp_reply_init(&r);
	tap_ok(smtp_reply_feed(&r, "x", 1, &c) == FAIL && c == 1 &&
	           smtp_reply_feed(&r, "250 y\r\n", 7, &c) == FAIL && c == 0,
	       "ERROR sticks, consumes nothing");
	smtp_reply_init(&r);
	tap_ok(smtp_reply_feed(&r, "250 a\r\n", 7, &c) == DONE &&
	           r.error == SMTP_REPLY_E_NONE && r.nlines == 1,
	       "init resets a used reply");
}

static void
check_messages(void)
{
	int i;
	bool ok = true;

	for (i = SMTP_REPLY_E_NONE; i <= SMTP_REPLY_E_TOO_BIG; i++)
		ok = ok &&
		    strcmp(smtp_reply_strerror((enum smtp_reply_error)i),
		           "unknown error") != 0;
	tap_ok(ok, "every error has a message");
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
main(void)
{
	size_t i;

	for (i = 0; i < NELEM(cases); i++)
		check_case(&cases[i]);
	for (i = 0; i < NELEM(cases); i++)
		check_splits(&cases[i]);
	for (i = 0; i < NELEM(keyword_cases); i++)
		check_keyword(&keyword_cases[i]);
	for (i = 0; i < NELEM(banner_cases); i++)
		check_banner(&banner_cases[i]);
	check_caps();
	check_state();
	check_messages();
	return tap_done();
}
