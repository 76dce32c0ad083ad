/* SPDX-License-Identifier: ISC */
/*
 * Text from the network made safe to show: the one rule by which the
 * policy fetch (fetch.c), the MX probe (probe.c) and the output of
 * `mtasts check` turn octets a remote server chose (a Location, an SMTP
 * reply, a certificate's names, a finding that quotes them) into text
 * that is valid UTF-8, so that JSON encoders accept it (RFC 8259 §8.1),
 * and holds no control character, so that a terminal shows it rather
 * than obeys it.  Pure: no allocation, no I/O, no locale.
 *
 * Printable US-ASCII and well-formed UTF-8 from U+00A0 up (RFC 3629)
 * are kept; every other octet becomes a visible escape: \t \r \n for
 * those three, \xHH (upper-case hex) for the rest, C0 and DEL, both
 * octets of a C1 control (U+0080..U+009F: some terminals obey them),
 * and each octet of an ill-formed sequence (a stray 0xFF, an overlong
 * form, a surrogate, a sequence cut short).
 *
 * A backslash is kept as it is, so that escaping text again changes
 * nothing: findings quote texts that were escaped where they were read,
 * and the output escapes whole findings once more.  The price is that
 * a literal "\xFF" from the server reads like an escaped 0xFF.
 */
#ifndef MTS_CHECK_TEXT_H
#define MTS_CHECK_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Escapes src[0..len) into dst, which has room for size octets (size >
 * 0), and NUL-terminates it.  What does not fit is left out at a
 * character boundary: neither an escape nor a UTF-8 sequence is ever
 * cut.  Returns the octets written, the NUL not counted; the text was
 * cut when that is less than text_escaped_len(src, len).
 */
size_t text_escape(char *dst, size_t size, const char *src, size_t len);

/* The length text_escape() gives src[0..len) with room enough. */
size_t text_escaped_len(const char *src, size_t len);

/*
 * Whether s[0..len) is a word safe to send as a name (SNI, EHLO): 1 to
 * max printable US-ASCII octets, no blank, no control.
 */
bool text_is_word(const char *s, size_t len, size_t max);

#endif /* MTS_CHECK_TEXT_H */
