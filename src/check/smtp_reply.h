/* SPDX-License-Identifier: ISC */
/*
 * An incremental parser of SMTP replies (RFC 5321 §4.2) for the MX
 * probes of `mtasts check`: the greeting (§4.2, "Greeting"), the reply
 * to EHLO with its extension keywords (§4.1.1.1, the STARTTLS of
 * RFC 3207 among them) and the reply to STARTTLS, with the enhanced
 * status code of RFC 3463 / RFC 2034 when there is one.  Pure: octets
 * in, a struct out; no allocation, no I/O, no locale.
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                Reply-code [ SP textstring ] CRLF
 *   Reply-code = %x32-35 %x30-35 %x30-39
 *
 * Real servers stray from the grammar in small ways that senders
 * tolerate; the parser tolerates them too and sets a flag the checker
 * can report: a bare LF, a line over the 512 octets of §4.5.3.1.5,
 * octets outside US-ASCII.  What no sender could read is an error: a
 * code that changes inside a reply, a control character, a reply that
 * never ends.  Every length is capped.
 */
#ifndef MTS_CHECK_SMTP_REPLY_H
#define MTS_CHECK_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 §4.5.3.1.5: 512 octets per reply line, CRLF included. */
#define SMTP_REPLY_LINE_RFC  512
/* Longer lines are flagged; lines over this cap are an error. */
#define SMTP_REPLY_LINE_MAX  2048
/* Lines per reply, and octets per reply. */
#define SMTP_REPLY_LINES_MAX 100
#define SMTP_REPLY_MAX       16384
/* "5.999.999" (RFC 3463 §2: class "." 1*3digit "." 1*3digit). */
#define SMTP_ENHANCED_MAX    9

/* Tolerated deviations, bits of smtp_reply.flags. */
#define SMTP_REPLY_BARE_LF   0x01u /* a line ended in LF alone */
#define SMTP_REPLY_LONG_LINE 0x02u /* a line over SMTP_REPLY_LINE_RFC */
#define SMTP_REPLY_8BIT      0x04u /* text outside US-ASCII */

enum smtp_reply_result {
	SMTP_REPLY_MORE = 0, /* the reply goes on: feed more octets */
	SMTP_REPLY_DONE,     /* the last line was read */
	SMTP_REPLY_ERROR     /* r->error says why; sticky */
};

enum smtp_reply_error {
	SMTP_REPLY_E_NONE = 0,
	SMTP_REPLY_E_SYNTAX,         /* not "ddd", "ddd-" or "ddd " */
	SMTP_REPLY_E_CODE,           /* digits outside the Reply-code range */
	SMTP_REPLY_E_CODE_MISMATCH,  /* a line with another code (§4.2.1) */
	SMTP_REPLY_E_CTL,            /* a control character, or CR alone */
	SMTP_REPLY_E_LINE_TOO_LONG,  /* over SMTP_REPLY_LINE_MAX */
	SMTP_REPLY_E_TOO_MANY_LINES, /* over SMTP_REPLY_LINES_MAX */
	SMTP_REPLY_E_TOO_BIG         /* over SMTP_REPLY_MAX */
};

/*
 * A reply and the state of its parser; caller-owned (about 17 KiB, so
 * not for a small stack), set up by smtp_reply_init().  The text of
 * each line is copied in, so the caller may reuse its input buffer.
 * The fields before `state` are meaningful once smtp_reply_feed()
 * returned DONE (error once it returned ERROR); `state` and the fields
 * after it are private: read lines with smtp_reply_line().
 */
struct smtp_reply {
	int code; /* 200..559, the same on every line */
	char enhanced[SMTP_ENHANCED_MAX + 1]; /* "2.0.0" or "" */
	unsigned flags;                       /* SMTP_REPLY_BARE_LF ... */
	size_t nlines;                        /* lines read */
	size_t len; /* octets read, the final line end included */
	enum smtp_reply_error error;

	int state;
	int line_code;                    /* the code of the line being read */
	size_t line_len;                  /* its octets so far */
	bool last;                        /* it is the final line */
	size_t text_len;                  /* octets of text used */
	size_t off[SMTP_REPLY_LINES_MAX]; /* where each line starts */
	char text[SMTP_REPLY_MAX];        /* the text of each line, after "ddd-"
	                              or "ddd ", NUL-terminated */
};

/* Prepares *r for a new reply. */
void smtp_reply_init(struct smtp_reply *r);

/*
 * Reads in[0..len), the next octets from the server.  *consumed (always
 * set) says how many were read: all of them on MORE, those up to the end
 * of the reply on DONE (octets after it begin the next reply: feed them
 * to a fresh struct), those up to and including the one in error on
 * ERROR.  Any split
 * of the input gives the same result.  After DONE or ERROR, further
 * calls consume nothing and return the same.
 */
enum smtp_reply_result smtp_reply_feed(struct smtp_reply *r, const char *in,
                                       size_t len, size_t *consumed);

/*
 * The text of line i (0 <= i < nlines) after "ddd-" or "ddd ", NUL-
 * terminated, borrowed from *r; NULL unless the reply is DONE and i is
 * in range.
 */
const char *smtp_reply_line(const struct smtp_reply *r, size_t i);

/*
 * The code and the lines of a DONE reply joined by spaces ("454 4.7.0
 * TLS not available"), each line escaped (text.h), cut to fit buf (size
 * octets), NUL-terminated.
 */
void smtp_reply_text(const struct smtp_reply *r, char *buf, size_t size);

/*
 * For a 250 reply to EHLO (RFC 5321 §4.1.1.1): the parameters of the
 * extension `keyword` (compared without case, as §2.4 requires), "" when
 * it has none, NULL when it is not announced.  The first line holds the
 * server's name, not a keyword, so "250 STARTTLS" alone announces
 * nothing.  The result is borrowed from *r.
 *
 *   ehlo-line = ehlo-keyword *( SP ehlo-param )
 */
const char *smtp_reply_keyword(const struct smtp_reply *r, const char *keyword);

/* smtp_reply_keyword(r, keyword) != NULL. */
bool smtp_reply_has_keyword(const struct smtp_reply *r, const char *keyword);

/*
 * The first word of the first line: in a greeting, the Domain or
 * address-literal the server announces (RFC 5321 §4.2, "Greeting"),
 * which TLS-RPT reports as receiving-mx-helo (RFC 8460 §4.4).  Borrowed
 * from *r, *len octets long and not NUL-terminated; NULL when the reply
 * is not DONE or the first line has no text.  It is not checked to be
 * a domain name: that is the caller's finding to make.
 */
const char *smtp_reply_banner_host(const struct smtp_reply *r, size_t *len);

/* A constant English message for an error ("reply line too long"). */
const char *smtp_reply_strerror(enum smtp_reply_error error);

#endif /* MTS_CHECK_SMTP_REPLY_H */
