/* SPDX-License-Identifier: ISC */
/*
 * Report mails (RFC 8460 §5.3) read with GMime 3: the report parts of
 * one RFC 5322 message, decoded (base64, quoted-printable) and, when
 * gzip, inflated under the cap.  GMime's process-wide state lives only
 * in this adapter, never in src/lib.
 */
#ifndef MTS_REPORT_MIME_H
#define MTS_REPORT_MIME_H

#include <stddef.h>

#include "source.h"

/*
 * Parses the message buf[0..len) and calls `fn` once per report part
 * found (item.part 1, 2, ...), or once with an error when there is none
 * or the message breaks a cap.  item.raw is the message, item.origin is
 * `origin`.  Returns 0, or 1 when `fn` returned SOURCE_STOP.  Calls
 * g_mime_init() the first time.
 */
int mime_read_message(const char *buf, size_t len, const char *origin,
                      const struct source_limits *lim, source_item_fn fn,
                      void *ctx);

/*
 * Releases GMime's process-wide state (g_mime_shutdown()), once, at the
 * end: GMime 3.2 cannot be initialised again after it (its charset
 * tables stay freed), so mime_read_message() then gives every message
 * as one item with an error.  Not needed for a leak checker (LSan finds
 * GLib's and GMime's state reachable either way); for tests and fuzz
 * targets that want the process to end with nothing held.
 */
void mime_shutdown(void);

#endif /* MTS_REPORT_MIME_H */
