/* SPDX-License-Identifier: ISC */
/*
 * Gzip inflation of TLS-RPT reports (RFC 8460 §5.2: reports SHOULD be
 * gzip-compressed; §6.3 registers application/tlsrpt+gzip with the magic
 * 1f 8b), streaming and capped: the inflated output may not pass a cap,
 * and a stream that would is refused as soon as it does, so a gzip bomb
 * (§7: treat reports as untrusted) costs at most the cap in memory and
 * the time to inflate the cap, never its full size.
 *
 * One report is one gzip member (RFC 1952 §2.2).  A second member after
 * the first, bytes after the trailer, a stream that ends before its
 * trailer and a CRC-32 or ISIZE mismatch are each an error with its own
 * message: none of them is a report we can trust whole.
 *
 * Two forms: inflate_gzip() inflates a whole buffer into a new one, and
 * the pull reader (inflate_reader_*) inflates on demand into the
 * caller's buffer, its read function fitting mts_tlsrpt_read_fn so that
 * a streaming JSON parser can consume a report without the inflated text
 * ever being held whole.
 */
#ifndef MTS_REPORT_INFLATE_H
#define MTS_REPORT_INFLATE_H

#include <stdbool.h>
#include <stddef.h>

/* True when `buf` begins with the gzip magic 1f 8b (RFC 1952 §2.3.1). */
bool inflate_is_gzip(const void *buf, size_t len);

/*
 * Inflates the gzip stream in[0..in_len) into a new buffer of at most
 * `max` octets (NUL-terminated beyond them; the NUL is not counted).
 * Returns 0 and sets *out (the caller frees it) and *out_len, or -1 with
 * the reason in why[why_size] and the out-params untouched.  Peak memory
 * is about `max` octets whatever the stream claims.
 */
int inflate_gzip(const void *in, size_t in_len, size_t max, char **out,
                 size_t *out_len, char *why, size_t why_size);

struct inflate_reader;

/*
 * A pull reader over the gzip stream in[0..in_len), which the caller
 * keeps alive and unchanged while the reader lives.  Returns NULL when
 * out of memory.  The reader holds zlib's state (about 45 KiB), never
 * the output.
 */
struct inflate_reader *inflate_reader_new(const void *in, size_t in_len,
                                          size_t max);

/*
 * Writes at most `size` inflated octets to `buf` and returns how many;
 * 0 at the end of a stream found whole (its CRC-32 and length checked,
 * nothing after it); (size_t)-1 on an error, which sticks: see
 * inflate_reader_error().  `ctx` is the reader, so the function is a
 * mts_tlsrpt_read_fn.
 */
size_t inflate_reader_read(void *buf, size_t size, void *ctx);

/* Why the reader failed (borrowed), or NULL when it has not. */
const char *inflate_reader_error(const struct inflate_reader *r);

/* Octets inflated so far. */
size_t inflate_reader_total(const struct inflate_reader *r);

/* Frees the reader (NULL-safe); the input stays the caller's. */
void inflate_reader_free(struct inflate_reader *r);

#endif /* MTS_REPORT_INFLATE_H */
