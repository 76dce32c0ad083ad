/* SPDX-License-Identifier: ISC */
/*
 * Reading TLS-RPT report mails (RFC 8460 §5.3: reports sent by SMTP to
 * a mailto: rua) out of an IMAP mailbox (RFC 3501), through libcurl.
 *
 * One walk lists the mailbox's messages with their sizes (UID FETCH 1:*
 * (UID RFC822.SIZE)), fetches each whole by UID (BODY[], so the server
 * marks it \Seen), hands it to a callback and, when the callback says
 * so, moves it to another folder: UID MOVE (RFC 6851) where the server
 * has MOVE, else UID COPY, UID STORE +FLAGS (\Deleted) and UID EXPUNGE
 * (RFC 4315 UIDPLUS: only that message is expunged, never another one
 * the user had marked).  A message is moved only after the callback
 * returned, so only once its report is stored.  One connection (one
 * curl easy handle) serves the whole walk.
 *
 * Never plain text: imaps:// (TLS from the first octet) or imap:// with
 * STARTTLS required (CURLUSESSL_ALL: a server without STARTTLS is left
 * before the login).  The server's certificate is always verified, with
 * the system's CA store or a CA file.  The password is never in the URL
 * (so never on a command line): it comes from imap_password_from().
 *
 * curl_global_init() is not thread-safe: the program calls it once at
 * start, before any thread (src/cli/main.c for mtasts, main() of the
 * test programs); these functions never call it.
 */
#ifndef MTS_REPORT_IMAP_H
#define MTS_REPORT_IMAP_H

#include <stddef.h>
#include <stdint.h>

#define IMAP_WHY_SIZE     512
#define IMAP_MESSAGE_MAX  (10u * 1024 * 1024) /* as source_limits */
#define IMAP_TIMEOUT_S    60
#define IMAP_MESSAGES_MAX 1000000u /* messages listed in one walk */
#define IMAP_PASSWORD_MAX 1024     /* octets of a password file */
#define IMAP_PASSWORD_ENV "MTASTS_IMAP_PASSWORD"

struct imap_opts {
	/*
	 * imaps://USER@HOST[:PORT]/MAILBOX, or imap://... for STARTTLS on
	 * port 143.  USER is percent-encoded as in any URL (a@b.example is
	 * a%40b.example); MAILBOX too (My%20Reports); an empty MAILBOX is
	 * INBOX.  A password, a query, a fragment or ;PARAMS are refused.
	 */
	const char *url;
	const char *password; /* from imap_password_from() */
	const char *move_to;  /* folder (not encoded, "/" or the server's
	                         separator for levels) for the messages
	                         the callback says IMAP_MOVE of; created
	                         when missing.  NULL: messages stay. */
	const char *ca_file;  /* PEM CA certificates; NULL: system store */
	size_t message_max;   /* octets of one message; 0: IMAP_MESSAGE_MAX */
	long timeout_s;       /* each command and the connect; 0: 60 s */
};

/*
 * One message of the mailbox, given to the callback.  Borrowed: valid
 * only during the call.  `data` is NULL when the message was not fetched
 * and `error` says why (its size is over message_max: it is refused
 * whole, never cut); the callback may still move it (to a folder for
 * people to look at) or keep it.
 */
struct imap_message {
	const char *origin; /* imaps://USER@HOST[:PORT]/MAILBOX;UIDVALIDITY=V
	                       /;UID=N (RFC 5092), without any password */
	uint32_t uid;
	uint32_t uidvalidity;
	uint64_t size;     /* RFC822.SIZE, as the server announced it */
	const char *data;  /* the whole message as the server sent it */
	size_t len;        /* (CRLF line ends), or NULL and 0 */
	const char *error; /* NULL, or why data is NULL */
};

enum imap_verdict {
	IMAP_KEEP = 0, /* leave the message where it is */
	IMAP_MOVE,     /* move it to move_to (KEEP when move_to is NULL) */
	IMAP_STOP      /* leave it, and end the walk (a store failed) */
};
typedef enum imap_verdict (*imap_message_fn)(const struct imap_message *msg,
                                             void *ctx);

/*
 * Walks the mailbox of o->url, calling fn for each message in UID order.
 * A message expunged by another client during the walk is skipped.
 * Returns 0 when every message was handed over (and moved as asked), 1
 * when fn said IMAP_STOP, -1 when the walk failed; then `why` (may be
 * NULL) says what failed — the connect, TLS, the login, the mailbox, the
 * folder's creation, a fetch or a move, with what the server said —
 * never the password.  Messages already handed over (and moved) stay so.
 * Needs curl_global_init() done (see above).
 */
int imap_walk(const struct imap_opts *o, imap_message_fn fn, void *ctx,
              char *why, size_t why_size);

/*
 * Reads the IMAP password: from `file` when not NULL (a regular file
 * that neither its group nor others may read or write, at most
 * IMAP_PASSWORD_MAX octets, one line: a trailing LF or CRLF is
 * stripped), else from the environment variable IMAP_PASSWORD_ENV.  An
 * empty password, or one holding NUL, CR or LF, is refused.  On success
 * writes a copy the caller frees with imap_password_free() to *out and
 * returns 0; else returns -1 with why (never the password itself).
 */
int imap_password_from(const char *file, char **out, char *why,
                       size_t why_size);

/* Clears and frees a password of imap_password_from(); NULL-safe. */
void imap_password_free(char *password);

#endif
