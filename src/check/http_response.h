/* SPDX-License-Identifier: ISC */
/*
 * The HTTP/1.1 response side of the policy fetch of `mtasts check`
 * (RFC 8461 §3.3): a strict, bounded parser of the response head
 * (status line of RFC 9112 §4, fields of §5, message body length of
 * §6.3, Content-Type of RFC 9110 §8.3) and an incremental decoder of
 * the body (identity, chunked of RFC 9112 §7.1, or until close) that
 * enforces a size cap while it reads.  Pure: bytes in, structs out; no
 * allocation, no I/O, no locale.
 *
 * The checker fetches as a conformant sender does and reports what it
 * saw: the status and any Location of a 3xx, which is never followed
 * (RFC 8461 §3.3), a 304, which is a failure since nothing is cached
 * (§3.3), the media type, which should be text/plain (§3.2), and a body
 * over the cap (64 KiB suggested by §3.3), found as soon as the octet
 * past the cap is announced or arrives, whatever the framing.
 */
#ifndef MTS_CHECK_HTTP_RESPONSE_H
#define MTS_CHECK_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 6838 §4.2: type and subtype names are at most 127 characters. */
#define HTTP_MEDIA_TYPE_MAX (127 + 1 + 127)
/* RFC 2978 §2.3: a charset name is at most 40 characters. */
#define HTTP_CHARSET_MAX    40

/* How the body is delimited (RFC 9112 §6.3, for a response to GET). */
enum http_framing {
	HTTP_FRAMING_NONE = 0, /* 101, 204, 304: no body (§6.3 item 1) */
	HTTP_FRAMING_LENGTH,   /* Content-Length octets (item 6) */
	HTTP_FRAMING_CHUNKED,  /* the chunked coding (item 4, §7.1) */
	HTTP_FRAMING_CLOSE     /* until the server closes (item 8) */
};

/*
 * What the Content-Type field said (RFC 9110 §8.3).  Malformed covers a
 * name over the limits above and a charset given twice (RFC 6838 §4.3).
 */
enum http_ctype {
	HTTP_CTYPE_ABSENT = 0, /* no Content-Type field */
	HTTP_CTYPE_OK,         /* content_type and charset are set */
	HTTP_CTYPE_MALFORMED,  /* not a media-type (§8.3.1), or see above */
	HTTP_CTYPE_REPEATED    /* more than one Content-Type field line */
};

/*
 * A parsed response head.  Strings marked "into buf" point into the
 * buffer given to http_response_head() and are not NUL-terminated; the
 * others are copies owned by the struct.
 */
struct http_response {
	unsigned version_minor; /* HTTP/1.<minor>, one digit */
	int status;             /* 100..599; a final status but 101 */
	const char *reason;     /* reason-phrase as sent, into buf */
	size_t reason_len;      /* 0 when absent */
	size_t interim;         /* 1xx responses skipped before this one */

	/* Type "/" subtype ("text/plain") and charset, lower case and
	   unquoted; both "" unless ctype is OK, charset "" when absent. */
	enum http_ctype ctype;
	char content_type[HTTP_MEDIA_TYPE_MAX + 1];
	char charset[HTTP_CHARSET_MAX + 1];

	enum http_framing framing;
	bool has_length;         /* a Content-Length field was given */
	uint64_t content_length; /* its value */
	bool chunked;            /* Transfer-Encoding: chunked */
	/* The first Location value, into buf, NULL when absent; for the
	   report of a redirect, which is never followed. */
	const char *location;
	size_t location_len;
	bool keep_alive;     /* RFC 9112 §9.3: the connection may be reused */
	bool obs_fold;       /* a field we ignore was folded (RFC 9112 §5.2) */
	size_t header_count; /* field lines of the final response */
	/* Octets of all heads, the last empty line included: the body
	   starts at buf + head_len. */
	size_t head_len;
};

enum http_response_result {
	HTTP_RESPONSE_DONE = 0,   /* *r filled */
	HTTP_RESPONSE_INCOMPLETE, /* need more bytes (and len < max_head) */
	HTTP_RESPONSE_ERROR       /* *error says why */
};

enum http_response_error {
	HTTP_RESPONSE_E_NONE = 0,
	HTTP_RESPONSE_E_HEAD_TOO_BIG,    /* no complete head in max_head */
	HTTP_RESPONSE_E_STATUS_LINE,     /* malformed status-line (§4) */
	HTTP_RESPONSE_E_VERSION,         /* not HTTP/1.x (§2.3) */
	HTTP_RESPONSE_E_STATUS,          /* status code not in 100..599 */
	HTTP_RESPONSE_E_FIELD,           /* malformed field line (§5) */
	HTTP_RESPONSE_E_OBS_FOLD,        /* a field we read was folded */
	HTTP_RESPONSE_E_CONTENT_LENGTH,  /* invalid or repeated (§6.3) */
	HTTP_RESPONSE_E_TRANSFER_CODING, /* not exactly "chunked" (§6.1) */
	HTTP_RESPONSE_E_FRAMING          /* TE with CL, or TE in 1.0 */
};

/*
 * Parses the response head at the start of buf[0..len), the first octet
 * the server sent.  Interim 1xx responses (RFC 9110 §15.2: a client MUST
 * parse them) are skipped and counted; 101 is returned as final, since
 * the connection stops speaking HTTP.  Call it again from the start as
 * bytes arrive: a prefix of a head is INCOMPLETE or already carries the
 * error the whole head gets.
 *
 * max_head caps all heads together; when no complete head fits in it the
 * result is ERROR with HTTP_RESPONSE_E_HEAD_TOO_BIG.  On DONE, *r is
 * filled and borrows buf (see the struct); on ERROR, *error is set when
 * error is not NULL; otherwise neither is written.  Lines end in CRLF or
 * a bare LF (RFC 9112 §2.2 MAY).
 */
enum http_response_result http_response_head(const char *buf, size_t len,
                                             size_t max_head,
                                             struct http_response *r,
                                             enum http_response_error *error);

/* A constant English message for an error ("malformed status line"). */
const char *http_response_strerror(enum http_response_error error);

enum http_body_result {
	HTTP_BODY_MORE = 0, /* feed more bytes (or room) */
	HTTP_BODY_DONE,     /* the body is complete */
	HTTP_BODY_ERROR     /* b->error says why; sticky */
};

enum http_body_error {
	HTTP_BODY_E_NONE = 0,
	HTTP_BODY_E_TOO_BIG,        /* the body is over the cap */
	HTTP_BODY_E_CHUNK_SIZE,     /* no hex digit, a bad one, overflow */
	HTTP_BODY_E_CHUNK_EXT,      /* a malformed chunk extension */
	HTTP_BODY_E_CHUNK_CRLF,     /* a chunk line or data not ended by
	                               CRLF */
	HTTP_BODY_E_CHUNK_OVERHEAD, /* too much framing for the data */
	HTTP_BODY_E_TRAILER,        /* a malformed or oversized trailer */
	HTTP_BODY_E_TRUNCATED       /* closed before the end of the body */
};

/*
 * The state of a body decoder; caller-owned, set up by http_body_init().
 * The caller reads total and error; the rest is private.
 */
struct http_body {
	uint64_t total;             /* body octets produced so far */
	enum http_body_error error; /* set with HTTP_BODY_ERROR */
	int state;
	uint64_t cap;
	uint64_t left;   /* octets to go: of the body or of the chunk */
	size_t line_len; /* octets of the chunk line or of the trailer */
	uint64_t excess; /* chunk framing beyond its allowance */
};

/*
 * Prepares *b to decode the body framed as r says, holding at most cap
 * octets.  Returns DONE when there is no body (r->framing NONE or a
 * Content-Length of 0), ERROR with HTTP_BODY_E_TOO_BIG when the
 * Content-Length is over cap (before any octet is read), else MORE.  r
 * is only read during the call.
 */
enum http_body_result http_body_init(struct http_body *b,
                                     const struct http_response *r,
                                     uint64_t cap);

/*
 * Decodes in[0..inlen), the octets that follow the head, into
 * out[0..outcap).  *consumed and *produced say how many octets were
 * read and written; both are always set.  Returns MORE when all of in
 * was read or out is full, DONE at the end of the body (octets after it
 * are not consumed: they are not part of this response), ERROR once the
 * body is malformed or the next octet would pass the cap: a chunk size
 * that would pass it is refused as soon as its digits say so, before
 * any of the chunk is read.  Any split of the input gives the same body
 * and the same verdict.  Framing is strict (RFC 9112 §7.1): every chunk
 * line ends in CRLF (§2.2's bare LF is for the head only), extensions
 * are skipped but must be field text, trailer fields are checked and
 * dropped.
 */
enum http_body_result http_body_feed(struct http_body *b, const char *in,
                                     size_t inlen, char *out, size_t outcap,
                                     size_t *consumed, size_t *produced);

/*
 * The server closed the connection (a clean TLS close_notify, which the
 * caller checks, or else truncation goes unnoticed).  DONE when the body
 * was read to its end or is delimited by the close, else ERROR with
 * HTTP_BODY_E_TRUNCATED.
 */
enum http_body_result http_body_eof(struct http_body *b);

/* A constant English message for a body error ("body too large"). */
const char *http_body_strerror(enum http_body_error error);

#endif /* MTS_CHECK_HTTP_RESPONSE_H */
