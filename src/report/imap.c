/* SPDX-License-Identifier: ISC */
/*
 * The IMAP adapter of `mtasts report` (imap.h): TLS-RPT report mails
 * (RFC 8460 §5.3) read out of a mailbox with libcurl's IMAP (RFC 3501),
 * moved away with MOVE (RFC 6851) or UIDPLUS (RFC 4315).
 *
 * libcurl does the connection, TLS, the login and SELECT; it fetches a
 * message by the URL form of RFC 5092 (MAILBOX;UIDVALIDITY=V/;UID=N,
 * which libcurl sends as UID FETCH N BODY[] after checking the
 * mailbox's UIDVALIDITY: a mailbox recreated during a walk is never
 * mistaken for the one listed).  The other commands (CAPABILITY,
 * STATUS, LIST, CREATE, UID FETCH of the sizes, UID MOVE...) go as
 * CURLOPT_CUSTOMREQUEST, whose untagged answers libcurl passes to the
 * write callback line by line.  libcurl closes the connection after
 * any command the server refuses, so the walk asks only what should
 * succeed (LIST, not STATUS, to see whether a folder exists).  The
 * server's words of a refusal (its tagged NO or BAD line, or a BYE) are
 * read from libcurl's debug callback, from the server's lines only: the
 * client's lines carry the password.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "imap.h"

#define LINE_MAX_OCTETS 8192 /* one untagged answer line we parse */
#define SAID_MAX        200  /* of the server's last line, in errors */
#define URL_MAX         4000 /* octets of imap_opts.url */
#define NAME_MAX_OCTETS 1000 /* of a mailbox or folder name */

/* What the write callback does with what libcurl hands it. */
enum rx_mode {
	RX_IGNORE = 0, /* MOVE, COPY, CREATE: nothing to read */
	RX_CAPA,       /* * CAPABILITY ... */
	RX_STATUS,     /* * STATUS mbox (MESSAGES n UIDVALIDITY v) */
	RX_FOLDER,     /* * LIST (flags) "/" name */
	RX_LIST,       /* * n FETCH (UID u RFC822.SIZE s) */
	RX_SEARCH,     /* * SEARCH u... */
	RX_BODY        /* a message's octets */
};

struct listed {
	uint32_t uid;
	uint64_t size;
};

struct session {
	const struct imap_opts *o;
	CURL *curl;
	char *scheme, *user, *host, *port; /* of the URL, as given */
	char *mbox_raw;                    /* MAILBOX as in the URL */
	char *mailbox;                     /* decoded, for commands */
	char *q_mailbox, *q_move;          /* quoted strings */
	size_t message_max;
	bool has_move, has_uidplus;

	enum rx_mode mode;
	char line[LINE_MAX_OCTETS];
	size_t line_len;
	bool line_long; /* the current line passed LINE_MAX_OCTETS */

	/* RX_STATUS */
	bool status_seen;
	uint64_t messages, uidvalidity;
	/* RX_FOLDER */
	bool folder_seen;
	/* RX_SEARCH */
	uint32_t search_uid;
	bool search_found;
	/* RX_LIST */
	struct listed *list;
	size_t nlist, list_cap;
	bool list_over;
	/* RX_BODY */
	char *body;
	size_t body_len, body_cap;
	bool body_over;

	char errbuf[CURL_ERROR_SIZE];
	char said[SAID_MAX + 1]; /* the server's last tagged line */
};

static void say(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* ---- the password ---- */

/* Strips one trailing LF or CRLF; refuses empty, NUL, CR and LF. */
static int
password_check(char *pw, size_t *len, const char *from, char *why,
               size_t why_size)
{
	size_t n = *len;

	if (n > 0 && pw[n - 1] == '\n')
		n--;
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	if (n == 0) {
		say(why, why_size, "%s: the password is empty", from);
		return -1;
	}
	if (memchr(pw, '\0', n) != NULL || memchr(pw, '\n', n) != NULL ||
	    memchr(pw, '\r', n) != NULL) {
		say(why, why_size,
		    "%s: the password is more than one line (or holds NUL)",
		    from);
		return -1;
	}
	*len = n;
	return 0;
}

/* Reads at most IMAP_PASSWORD_MAX octets of an open file into buf. */
static int
password_read(int fd, const char *file, char *buf, size_t *len, char *why,
              size_t why_size)
{
	size_t n = 0;
	ssize_t r;

	for (;;) {
		r = read(fd, buf + n, IMAP_PASSWORD_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			say(why, why_size, "%s: %s", file, strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > IMAP_PASSWORD_MAX) {
			say(why, why_size, "%s: over %u octets: not a password",
			    file, IMAP_PASSWORD_MAX);
			return -1;
		}
	}
	*len = n;
	return 0;
}

static int
password_file(const char *file, char *buf, size_t *len, char *why,
              size_t why_size)
{
	struct stat st;
	int fd, rc = -1;

	if ((fd = open(file, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0) {
		say(why, why_size, "%s: %s", file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		say(why, why_size, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		say(why, why_size, "%s: not a regular file", file);
		goto out;
	}
	/* As ssh does with a private key: a secret others may read is
	 * refused rather than used, so the mistake gets fixed. */
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		say(why, why_size,
		    "%s: mode %04o lets its group or others at the password "
		    "(chmod 600 it)",
		    file, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	rc = password_read(fd, file, buf, len, why, why_size);
out:
	close(fd);
	return rc;
}

int
imap_password_from(const char *file, char **out, char *why, size_t why_size)
{
	char buf[IMAP_PASSWORD_MAX + 2];
	const char *env, *from;
	char *pw;
	size_t len;
	int rc = -1;

	if (file != NULL) {
		from = file;
		if (password_file(file, buf, &len, why, why_size) != 0)
			goto out;
	} else {
		from = "$" IMAP_PASSWORD_ENV;
		if ((env = getenv(IMAP_PASSWORD_ENV)) == NULL) {
			say(why, why_size,
			    "no IMAP password: give a password file or set %s",
			    IMAP_PASSWORD_ENV);
			goto out;
		}
		if ((len = strlen(env)) > IMAP_PASSWORD_MAX) {
			say(why, why_size, "%s: over %u octets", from,
			    IMAP_PASSWORD_MAX);
			goto out;
		}
		memcpy(buf, env, len);
	}
	if (password_check(buf, &len, from, why, why_size) != 0)
		goto out;
	if ((pw = malloc(len + 1)) == NULL) {
		say(why, why_size, "out of memory");
		goto out;
	}
	memcpy(pw, buf, len + 1);
	*out = pw;
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

void
imap_password_free(char *password)
{
	if (password == NULL)
		return;
	explicit_bzero(password, strlen(password));
	free(password);
}

/* ---- names and URLs ---- */

/*
 * The quoted string of a mailbox name (RFC 3501 §4.3), malloc'd, or NULL
 * when the name is empty or holds what a quoted string cannot carry:
 * controls, and 8-bit octets, which would need modified UTF-7 (§5.1.3).
 */
static char *
quote(const char *name)
{
	size_t i, n = 0;
	char *q;

	if (name[0] == '\0')
		return NULL;
	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c >= 0x7f)
			return NULL;
	}
	if ((q = malloc(2 * i + 3)) == NULL)
		return NULL;
	q[n++] = '"';
	for (i = 0; name[i] != '\0'; i++) {
		if (name[i] == '"' || name[i] == '\\')
			q[n++] = '\\';
		q[n++] = name[i];
	}
	q[n++] = '"';
	q[n] = '\0';
	return q;
}

/* The same folder: INBOX is case-insensitive (RFC 3501 §5.1). */
static bool
same_mailbox(const char *a, const char *b)
{
	if (strcasecmp(a, "INBOX") == 0 && strcasecmp(b, "INBOX") == 0)
		return true;
	return strcmp(a, b) == 0;
}

/* Reads one part of the URL; absent parts stay NULL. */
static int
url_part(CURLU *u, CURLUPart what, unsigned flags, char **out)
{
	CURLUcode rc = curl_url_get(u, what, out, flags);

	if (rc == CURLUE_OK)
		return 0;
	*out = NULL;
	return rc == CURLUE_OUT_OF_MEMORY ? -1 : 0;
}

/* Splits o->url into the session's parts; 0, or -1 with why. */
static int
url_parse(struct session *s, char *why, size_t why_size)
{
	char *pass = NULL, *query = NULL, *frag = NULL, *path = NULL;
	CURLU *u;
	int rc = -1;

	if (strlen(s->o->url) > URL_MAX) {
		say(why, why_size, "the URL is over %d octets", URL_MAX);
		return -1;
	}
	if ((u = curl_url()) == NULL) {
		say(why, why_size, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, s->o->url, 0) != CURLUE_OK) {
		say(why, why_size,
		    "not an IMAP URL (imaps://USER@HOST[:PORT]/MAILBOX)");
		goto out;
	}
	if (url_part(u, CURLUPART_SCHEME, 0, &s->scheme) != 0 ||
	    url_part(u, CURLUPART_USER, 0, &s->user) != 0 ||
	    url_part(u, CURLUPART_PASSWORD, 0, &pass) != 0 ||
	    url_part(u, CURLUPART_HOST, 0, &s->host) != 0 ||
	    url_part(u, CURLUPART_PORT, 0, &s->port) != 0 ||
	    url_part(u, CURLUPART_PATH, 0, &path) != 0 ||
	    url_part(u, CURLUPART_QUERY, 0, &query) != 0 ||
	    url_part(u, CURLUPART_FRAGMENT, 0, &frag) != 0) {
		say(why, why_size, "out of memory");
		goto out;
	}
	if (s->scheme == NULL ||
	    (strcmp(s->scheme, "imaps") != 0 &&
	     strcmp(s->scheme, "imap") != 0)) {
		say(why, why_size, "the URL is not imaps:// (or imap://)");
		goto out;
	}
	if (pass != NULL) {
		/* Not even echoed: it would end up in logs. */
		say(why, why_size,
		    "the URL holds a password: give it in a file or in $%s "
		    "instead",
		    IMAP_PASSWORD_ENV);
		goto out;
	}
	if (s->user == NULL || s->user[0] == '\0' || s->host == NULL) {
		say(why, why_size,
		    "the URL names no user (imaps://USER@HOST/"
		    "MAILBOX)");
		goto out;
	}
	if (query != NULL || frag != NULL ||
	    (path != NULL && strchr(path, ';') != NULL)) {
		say(why, why_size,
		    "the URL may name a mailbox only (no ;UID=, ?search or #)");
		goto out;
	}
	s->mbox_raw = strdup(path != NULL && path[0] == '/' && path[1] != '\0' ?
	                         path + 1 :
	                         "INBOX");
	if (s->mbox_raw == NULL) {
		say(why, why_size, "out of memory");
		goto out;
	}
	rc = 0;
out:
	curl_free(pass);
	curl_free(query);
	curl_free(frag);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* Decodes the mailbox and the user, quotes the names for commands. */
static int
names_prepare(struct session *s, char *why, size_t why_size)
{
	int n;

	s->mailbox = curl_easy_unescape(s->curl, s->mbox_raw, 0, &n);
	if (s->mailbox == NULL || strlen(s->mailbox) != (size_t)n ||
	    n > NAME_MAX_OCTETS || (s->q_mailbox = quote(s->mailbox)) == NULL) {
		say(why, why_size,
		    "mailbox \"%.100s\": not a name this client can send "
		    "(empty, controls, 8-bit (RFC 3501 §5.1.3), or over %d "
		    "octets)",
		    s->mbox_raw, NAME_MAX_OCTETS);
		return -1;
	}
	if (s->o->move_to == NULL)
		return 0;
	if (strlen(s->o->move_to) > NAME_MAX_OCTETS ||
	    (s->q_move = quote(s->o->move_to)) == NULL) {
		say(why, why_size,
		    "folder \"%.100s\": not a name this client can send "
		    "(empty, controls, 8-bit (RFC 3501 §5.1.3), or over %d "
		    "octets)",
		    s->o->move_to, NAME_MAX_OCTETS);
		return -1;
	}
	if (same_mailbox(s->mailbox, s->o->move_to)) {
		say(why, why_size,
		    "the folder to move to is the mailbox read (%s)",
		    s->mailbox);
		return -1;
	}
	return 0;
}

/* scheme://host[:port]/ + tail into a malloc'd string; NULL: no memory. */
static char *
url_make(const struct session *s, const char *tail)
{
	size_t size = strlen(s->scheme) + strlen(s->host) +
	    (s->port != NULL ? strlen(s->port) : 0) + strlen(tail) + 8;
	char *url = malloc(size);

	if (url == NULL)
		return NULL;
	snprintf(url, size, "%s://%s%s%s/%s", s->scheme, s->host,
	         s->port != NULL ? ":" : "", s->port != NULL ? s->port : "",
	         tail);
	return url;
}

/* ---- what libcurl hands over ---- */

/* The value of `key` ("UID") in a FETCH or STATUS list: 0, or -1. */
static int
item_value(const char *line, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p = line;
	char *end;
	unsigned long long v;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == '(' || p[-1] == ' ') &&
		    p[klen] == ' ' && p[klen + 1] >= '0' &&
		    p[klen + 1] <= '9') {
			errno = 0;
			v = strtoull(p + klen + 1, &end, 10);
			if (errno != 0 || (*end != ' ' && *end != ')'))
				return -1;
			*out = v;
			return 0;
		}
		p += klen;
	}
	return -1;
}

static void
on_capability(struct session *s, const char *line)
{
	const char *p = line + strlen("* CAPABILITY");
	size_t n;

	while (*p == ' ') {
		p++;
		n = strcspn(p, " ");
		if (n == 4 && strncasecmp(p, "MOVE", 4) == 0)
			s->has_move = true;
		else if (n == 7 && strncasecmp(p, "UIDPLUS", 7) == 0)
			s->has_uidplus = true;
		p += n;
	}
}

static void
on_status(struct session *s, const char *line)
{
	const char *items = strrchr(line, '('); /* the name may hold '(' */

	if (items == NULL)
		return;
	if (item_value(items, "MESSAGES", &s->messages) == 0 &&
	    item_value(items, "UIDVALIDITY", &s->uidvalidity) == 0)
		s->status_seen = true;
}

/*
 * A quoted string or an atom at *p (RFC 3501 §4.3, §9 "mailbox"):
 * compared with `name`, *p moved past it.  A literal is never equal.
 */
static bool
astring_is(const char **p, const char *name)
{
	const char *q = *p;
	bool same = true;

	if (*q != '"') {
		size_t n = strcspn(q, " ");

		*p = q + n;
		return *q != '{' && strlen(name) == n &&
		    strncmp(q, name, n) == 0;
	}
	for (q++; *q != '"'; q++) {
		if (*q == '\\' && q[1] != '\0')
			q++;
		else if (*q == '\0')
			return false;
		if (*name == '\0' || *name++ != *q)
			same = false;
	}
	*p = q + 1;
	return same && *name == '\0';
}

/* "* LIST (\HasNoChildren) "/" Name": is Name the folder to move to? */
static void
on_list(struct session *s, const char *line)
{
	const char *p = strchr(line, ')');

	if (p == NULL || p[1] != ' ')
		return;
	p += 2;
	if (strncasecmp(p, "NIL", 3) == 0)
		p += 3;
	else
		(void)astring_is(&p, ""); /* the delimiter: skipped */
	if (*p != ' ')
		return;
	p++;
	if (astring_is(&p, s->o->move_to) && *p == '\0')
		s->folder_seen = true;
}

static void
on_fetch(struct session *s, const char *line)
{
	const char *items = strstr(line, " FETCH (");
	uint64_t uid, size;
	struct listed *l;
	size_t cap;

	/* Unsolicited FETCH answers (FLAGS of a change) lack the size. */
	if (items == NULL || item_value(items + 7, "UID", &uid) != 0 ||
	    item_value(items + 7, "RFC822.SIZE", &size) != 0 || uid == 0 ||
	    uid > UINT32_MAX)
		return;
	if (s->nlist == s->list_cap) {
		if (s->list_cap >= IMAP_MESSAGES_MAX) {
			s->list_over = true;
			return;
		}
		cap = s->list_cap == 0 ? 64 : 2 * s->list_cap;
		if (cap > IMAP_MESSAGES_MAX)
			cap = IMAP_MESSAGES_MAX;
		if ((l = realloc(s->list, cap * sizeof(*l))) == NULL) {
			s->list_over = true;
			return;
		}
		s->list = l;
		s->list_cap = cap;
	}
	s->list[s->nlist].uid = (uint32_t)uid;
	s->list[s->nlist].size = size;
	s->nlist++;
}

/* "* SEARCH 3 7": does it name s->search_uid? */
static void
on_search(struct session *s, const char *line)
{
	const char *p = line + strlen("* SEARCH");
	char *end;
	unsigned long long v;

	while (*p == ' ') {
		errno = 0;
		v = strtoull(p + 1, &end, 10);
		if (errno != 0 || end == p + 1)
			return;
		if (v == s->search_uid)
			s->search_found = true;
		p = end;
	}
}

static void
on_line(struct session *s)
{
	const char *line = s->line;

	if (strncmp(line, "* ", 2) != 0)
		return;
	if (s->mode == RX_CAPA && strncasecmp(line, "* CAPABILITY ", 13) == 0)
		on_capability(s, line);
	else if (s->mode == RX_STATUS && strncasecmp(line, "* STATUS ", 9) == 0)
		on_status(s, line);
	else if (s->mode == RX_FOLDER && strncasecmp(line, "* LIST ", 7) == 0)
		on_list(s, line);
	else if (s->mode == RX_SEARCH && strncasecmp(line, "* SEARCH", 8) == 0)
		on_search(s, line);
	else if (s->mode == RX_LIST)
		on_fetch(s, line);
}

/* Answer lines, cut at CRLF; an over-long line is skipped whole. */
static void
rx_lines(struct session *s, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (!s->line_long) {
				if (s->line_len > 0 &&
				    s->line[s->line_len - 1] == '\r')
					s->line_len--;
				s->line[s->line_len] = '\0';
				on_line(s);
			}
			s->line_len = 0;
			s->line_long = false;
		} else if (s->line_len + 1 < sizeof(s->line)) {
			s->line[s->line_len++] = p[i];
		} else {
			s->line_long = true;
		}
	}
}

/* A message's octets, at most message_max of them. */
static bool
rx_body(struct session *s, const char *p, size_t n)
{
	size_t cap;
	char *b;

	if (n > s->message_max - s->body_len) {
		s->body_over = true; /* refused whole, not cut */
		return false;
	}
	if (s->body_len + n > s->body_cap) {
		cap = s->body_cap == 0 ? 65536 : s->body_cap;
		while (cap < s->body_len + n)
			cap =
			    cap > s->message_max / 2 ? s->message_max : 2 * cap;
		if ((b = realloc(s->body, cap + 1)) == NULL)
			return false;
		s->body = b;
		s->body_cap = cap;
	}
	memcpy(s->body + s->body_len, p, n);
	s->body_len += n;
	s->body[s->body_len] = '\0';
	return true;
}

static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct session *s = arg;
	size_t n = size * nmemb;

	if (s->mode == RX_BODY)
		return rx_body(s, p, n) ? n : 0;
	if (s->mode != RX_IGNORE)
		rx_lines(s, p, n);
	return n;
}

/*
 * The server's tagged lines ("A005 NO [...] Mailbox doesn't exist"), for
 * the errors; the tag goes, controls become '?'.  The client's lines
 * (CURLINFO_HEADER_OUT) are never looked at: they hold the login.
 */
static int
on_debug(CURL *c, curl_infotype type, char *p, size_t n, void *arg)
{
	struct session *s = arg;
	const char *sp;
	size_t i, len;

	(void)c;
	/* The first refusal of a request: not the BYE of the LOGOUT that
	 * may follow it. */
	if (type != CURLINFO_HEADER_IN || s->said[0] != '\0' || n < 2)
		return 0;
	if (n > 6 && strncasecmp(p, "* BYE ", 6) == 0) {
		sp = p + 2; /* the server hangs up: say why */
	} else {
		if (p[0] == '*' || p[0] == '+' ||
		    (sp = memchr(p, ' ', n)) == NULL)
			return 0;
		sp++; /* past the tag */
		len = n - (size_t)(sp - p);
		if ((len < 3 || strncasecmp(sp, "NO ", 3) != 0) &&
		    (len < 4 || strncasecmp(sp, "BAD ", 4) != 0))
			return 0;
	}
	len = n - (size_t)(sp - p);
	while (len > 0 && (sp[len - 1] == '\n' || sp[len - 1] == '\r'))
		len--;
	if (len > SAID_MAX)
		len = SAID_MAX;
	for (i = 0; i < len; i++) {
		unsigned char c8 = (unsigned char)sp[i];

		s->said[i] = c8 < 0x20 || c8 >= 0x7f ? '?' : (char)c8;
	}
	s->said[len] = '\0';
	return 0;
}

/* ---- commands ---- */

/* host[:port], for the errors. */
static const char *
where(const struct session *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", s->host, s->port != NULL ? ":" : "",
	         s->port != NULL ? s->port : "");
	return buf;
}

/* Says why a transfer failed, for each kind of failure imap.h names. */
static void
fail_why(const struct session *s, CURLcode rc, const char *what, char *why,
         size_t why_size)
{
	const char *detail =
	    s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(rc);
	const char *said = s->said[0] != '\0' ? s->said : "nothing";
	char at[300];

	where(s, at, sizeof(at));
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		say(why, why_size, "cannot connect to %s: %s", at, detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		say(why, why_size, "%s at %s: timed out (%s)", what, at,
		    detail);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		say(why, why_size, "TLS with %s failed: %s", at, detail);
		break;
	case CURLE_USE_SSL_FAILED:
		say(why, why_size,
		    "%s offers no STARTTLS (%s): not logging in without TLS",
		    at, detail);
		break;
	case CURLE_LOGIN_DENIED:
		/* libcurl says "Select failed" with the same code. */
		if (strcmp(s->errbuf, "Select failed") == 0)
			say(why, why_size,
			    "cannot open mailbox \"%s\" at %s: the server said "
			    "\"%s\"",
			    s->mailbox, at, said);
		else
			say(why, why_size,
			    "login as %s refused by %s: the server said \"%s\"",
			    s->user, at, said);
		break;
	case CURLE_QUOTE_ERROR: /* a custom command answered NO or BAD */
		say(why, why_size, "%s refused by %s: the server said \"%s\"",
		    what, at, said);
		break;
	default:
		say(why, why_size, "%s at %s failed: %s", what, at, detail);
		break;
	}
}

/*
 * Runs one request: `tail` after scheme://host[:port]/, `command` as a
 * custom request (NULL: fetch by URL), answers read as `mode`.
 */
static CURLcode
run(struct session *s, const char *tail, const char *command, enum rx_mode mode)
{
	char *url;
	CURLcode rc;

	if ((url = url_make(s, tail)) == NULL)
		return CURLE_OUT_OF_MEMORY;
	s->mode = mode;
	s->line_len = 0;
	s->line_long = false;
	s->errbuf[0] = '\0';
	s->said[0] = '\0';
	rc = curl_easy_setopt(s->curl, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, command);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(s->curl);
	s->mode = RX_IGNORE;
	free(url);
	return rc;
}

/* A custom command on the mailbox read (selected, at its UIDVALIDITY). */
static CURLcode
run_on_mailbox(struct session *s, const char *command, enum rx_mode mode)
{
	char tail[64 + URL_MAX];
	int n;

	n = snprintf(tail, sizeof(tail), "%s;UIDVALIDITY=%llu", s->mbox_raw,
	             (unsigned long long)s->uidvalidity);
	if (n < 0 || (size_t)n >= sizeof(tail))
		return CURLE_URL_MALFORMAT;
	return run(s, tail, command, mode);
}

/* The options of the one handle of a walk. */
static int
handle_setup(struct session *s, char *why, size_t why_size)
{
	const struct imap_opts *o = s->o;
	long timeout = o->timeout_s > 0 ? o->timeout_s : IMAP_TIMEOUT_S;
	char *user;
	int n;
	CURLcode rc = CURLE_OK;

	if ((s->curl = curl_easy_init()) == NULL) {
		say(why, why_size, "cannot make a curl handle");
		return -1;
	}
	if ((user = curl_easy_unescape(s->curl, s->user, 0, &n)) == NULL) {
		say(why, why_size, "out of memory");
		return -1;
	}
#define SET(opt, val)                                                          \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = curl_easy_setopt(s->curl, opt, val);              \
	} while (0)
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form */
	SET(CURLOPT_PROTOCOLS_STR, "imap,imaps");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_IMAP | CURLPROTO_IMAPS));
#endif
	/* imap://: STARTTLS or nothing, never a plain-text login. */
	SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (o->ca_file != NULL)
		SET(CURLOPT_CAINFO, o->ca_file);
	SET(CURLOPT_USERNAME, user);
	SET(CURLOPT_PASSWORD, o->password);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, timeout);
	SET(CURLOPT_TIMEOUT, timeout);
	/* Also bounds the LOGOUT of curl_easy_cleanup() (default 120 s). */
#if LIBCURL_VERSION_NUM >= 0x080600 /* 8.6: the seconds form deprecated */
	SET(CURLOPT_SERVER_RESPONSE_TIMEOUT_MS, timeout * 1000);
#else
	SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout);
#endif
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_DEBUGFUNCTION, on_debug);
	SET(CURLOPT_DEBUGDATA, s);
	SET(CURLOPT_VERBOSE, 1L); /* for on_debug only: it prints nothing */
#undef SET
	explicit_bzero(user, strlen(user));
	curl_free(user);
	if (rc != CURLE_OK) {
		say(why, why_size, "libcurl refused an option: %s",
		    curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* Connects, logs in and reads what the server can do. */
static int
step_capability(struct session *s, char *why, size_t why_size)
{
	CURLcode rc = run(s, "", "CAPABILITY", RX_CAPA);

	if (rc != CURLE_OK) {
		fail_why(s, rc, "CAPABILITY", why, why_size);
		return -1;
	}
	return 0;
}

/* STATUS of `quoted`, into s->messages and s->uidvalidity. */
static CURLcode
status_of(struct session *s, const char *quoted)
{
	char cmd[64 + 2 * 1024];
	int n;
	CURLcode rc;

	n = snprintf(cmd, sizeof(cmd), "STATUS %s (MESSAGES UIDVALIDITY)",
	             quoted);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return CURLE_URL_MALFORMAT;
	s->status_seen = false;
	rc = run(s, "", cmd, RX_STATUS);
	if (rc == CURLE_OK && !s->status_seen)
		rc = CURLE_WEIRD_SERVER_REPLY;
	return rc;
}

static int
step_mailbox(struct session *s, char *why, size_t why_size)
{
	char at[300];
	CURLcode rc = status_of(s, s->q_mailbox);

	if (rc == CURLE_QUOTE_ERROR) {
		where(s, at, sizeof(at));
		say(why, why_size,
		    "no mailbox \"%s\" at %s (or not readable): the server "
		    "said \"%s\"",
		    s->mailbox, at, s->said[0] != '\0' ? s->said : "nothing");
		return -1;
	}
	if (rc != CURLE_OK) {
		fail_why(s, rc, "STATUS of the mailbox", why, why_size);
		return -1;
	}
	if (s->uidvalidity == 0 || s->uidvalidity > UINT32_MAX) {
		say(why, why_size,
		    "mailbox \"%s\": UIDVALIDITY %llu is not "
		    "one (RFC 3501 §2.3.1.1)",
		    s->mailbox, (unsigned long long)s->uidvalidity);
		return -1;
	}
	return 0;
}

/*
 * The folder to move to: there, or created now (and subscribed, so
 * that mail clients show it).  Checked before any message is read, so a
 * walk never stores a report it then cannot move.
 */
static int
step_folder(struct session *s, char *why, size_t why_size)
{
	char cmd[32 + 2 * 1024], what[64 + 1024];
	CURLcode rc;

	if (s->o->move_to == NULL)
		return 0;
	if (!s->has_move && !s->has_uidplus) {
		say(why, why_size,
		    "cannot move messages to \"%s\": the server has neither "
		    "MOVE (RFC 6851) nor UIDPLUS (RFC 4315), and a plain "
		    "EXPUNGE could remove other deleted messages",
		    s->o->move_to);
		return -1;
	}
	/* LIST, not STATUS: a command answered NO makes libcurl close the
	 * connection, and the walk would log in again. */
	snprintf(cmd, sizeof(cmd), "LIST \"\" %s", s->q_move);
	s->folder_seen = false;
	if ((rc = run(s, "", cmd, RX_FOLDER)) != CURLE_OK) {
		fail_why(s, rc, "LIST of the folder to move to", why, why_size);
		return -1;
	}
	if (s->folder_seen)
		return 0;
	snprintf(cmd, sizeof(cmd), "CREATE %s", s->q_move);
	if ((rc = run(s, "", cmd, RX_IGNORE)) != CURLE_OK) {
		snprintf(what, sizeof(what), "creating folder \"%s\"",
		         s->o->move_to);
		fail_why(s, rc, what, why, why_size);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "SUBSCRIBE %s", s->q_move);
	(void)run(s, "", cmd, RX_IGNORE); /* a nicety: CREATE did the job */
	return 0;
}

static int
listed_cmp(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* The UIDs and sizes of the mailbox's messages, in UID order. */
static int
step_list(struct session *s, char *why, size_t why_size)
{
	char what[64 + 1024];
	size_t i, j;
	CURLcode rc;

	if (s->messages == 0)
		return 0;
	rc = run_on_mailbox(s, "UID FETCH 1:* (UID RFC822.SIZE)", RX_LIST);
	if (rc != CURLE_OK) {
		snprintf(what, sizeof(what), "listing mailbox \"%s\"",
		         s->mailbox);
		fail_why(s, rc, what, why, why_size);
		return -1;
	}
	if (s->list_over) {
		say(why, why_size,
		    "mailbox \"%s\": over %u messages (or out of "
		    "memory listing them)",
		    s->mailbox, IMAP_MESSAGES_MAX);
		return -1;
	}
	qsort(s->list, s->nlist, sizeof(*s->list), listed_cmp);
	for (i = j = 0; i < s->nlist; i++)
		if (j == 0 || s->list[j - 1].uid != s->list[i].uid)
			s->list[j++] = s->list[i];
	s->nlist = j;
	return 0;
}

/*
 * Moves one message: UID MOVE (RFC 6851), else UID COPY, UID STORE
 * +FLAGS.SILENT (\Deleted) and UID EXPUNGE of that UID only (RFC 4315
 * §2.1).  A failure between COPY and EXPUNGE leaves the message in both
 * folders, which the store's idempotence makes harmless.
 */
static int
move(struct session *s, uint32_t uid, char *why, size_t why_size)
{
	char cmd[64 + 2 * 1024], what[128 + 1024];
	const char *verb = s->has_move ? "UID MOVE" : "UID COPY";
	unsigned long u = (unsigned long)uid;
	CURLcode rc;

	snprintf(cmd, sizeof(cmd), "%s %lu %s", verb, u, s->q_move);
	rc = run_on_mailbox(s, cmd, RX_IGNORE);
	if (rc == CURLE_OK && !s->has_move) {
		verb = "UID STORE";
		snprintf(cmd, sizeof(cmd),
		         "UID STORE %lu +FLAGS.SILENT (\\Deleted)", u);
		rc = run_on_mailbox(s, cmd, RX_IGNORE);
	}
	if (rc == CURLE_OK && !s->has_move) {
		verb = "UID EXPUNGE";
		snprintf(cmd, sizeof(cmd), "UID EXPUNGE %lu", u);
		rc = run_on_mailbox(s, cmd, RX_IGNORE);
	}
	if (rc == CURLE_OK)
		return 0;
	snprintf(what, sizeof(what), "moving UID %lu to \"%s\" (%s)", u,
	         s->o->move_to, verb);
	fail_why(s, rc, what, why, why_size);
	return -1;
}

/*
 * Whether a fetch that failed did so because another client expunged
 * the message meanwhile: then a server answers no FETCH (libcurl:
 * REMOTE_FILE_NOT_FOUND) or, as Dovecot does, "* N FETCH (UID U BODY[]
 * NIL)" and OK [EXPUNGEISSUED] (libcurl: WEIRD_SERVER_REPLY).  UID
 * SEARCH tells (libcurl has closed the connection: this logs in again).
 */
static bool
vanished(struct session *s, CURLcode rc, uint32_t uid)
{
	char cmd[32];

	if ((rc != CURLE_REMOTE_FILE_NOT_FOUND &&
	     rc != CURLE_WEIRD_SERVER_REPLY) ||
	    strstr(s->errbuf, "UIDVALIDITY") != NULL)
		return false;
	snprintf(cmd, sizeof(cmd), "UID SEARCH UID %lu", (unsigned long)uid);
	s->search_uid = uid;
	s->search_found = false;
	return run_on_mailbox(s, cmd, RX_SEARCH) == CURLE_OK &&
	    !s->search_found;
}

/*
 * Fetches one message into s->body.  1: fetched; 0: not fetched, with
 * m->error set (over the cap) or m->error NULL (vanished: expunged
 * meanwhile); -1: failed, with why.
 */
static int
fetch(struct session *s, struct imap_message *m, char *why, size_t why_size)
{
	char tail[64 + URL_MAX], what[64];
	CURLcode rc;
	int n;

	n = snprintf(tail, sizeof(tail), "%s;UIDVALIDITY=%lu/;UID=%lu",
	             s->mbox_raw, (unsigned long)m->uidvalidity,
	             (unsigned long)m->uid);
	if (n < 0 || (size_t)n >= sizeof(tail)) {
		say(why, why_size, "mailbox name too long");
		return -1;
	}
	s->body_len = 0;
	s->body_over = false;
	rc = run(s, tail, NULL, RX_BODY);
	if (rc == CURLE_WRITE_ERROR && s->body_over) {
		/* The server sent more than it announced: still refused. */
		m->error = "the message is over the size cap";
		return 0;
	}
	if (rc != CURLE_OK) {
		snprintf(what, sizeof(what), "fetching UID %lu",
		         (unsigned long)m->uid);
		fail_why(s, rc, what, why, why_size);
		if (vanished(s, rc, m->uid))
			return 0;
		return -1;
	}
	m->data = s->body != NULL ? s->body : "";
	m->len = s->body_len;
	return 1;
}

/* Hands the listed messages over one by one, moving as told. */
static int
step_walk(struct session *s, imap_message_fn fn, void *ctx, char *why,
          size_t why_size)
{
	char origin[128 + URL_MAX], cap_error[96];
	struct imap_message m;
	enum imap_verdict v;
	size_t i;
	int got;

	for (i = 0; i < s->nlist; i++) {
		memset(&m, 0, sizeof(m));
		m.uid = s->list[i].uid;
		m.uidvalidity = (uint32_t)s->uidvalidity;
		m.size = s->list[i].size;
		snprintf(origin, sizeof(origin),
		         "%s://%s@%s%s%s/%s;UIDVALIDITY=%lu/;UID=%lu",
		         s->scheme, s->user, s->host,
		         s->port != NULL ? ":" : "",
		         s->port != NULL ? s->port : "", s->mbox_raw,
		         (unsigned long)m.uidvalidity, (unsigned long)m.uid);
		m.origin = origin;
		if (m.size > s->message_max) {
			snprintf(cap_error, sizeof(cap_error),
			         "the message is over the size cap (%llu > %zu "
			         "octets)",
			         (unsigned long long)m.size, s->message_max);
			m.error = cap_error;
		} else if ((got = fetch(s, &m, why, why_size)) < 0) {
			return -1;
		} else if (got == 0 && m.error == NULL) {
			continue; /* vanished */
		}
		v = fn(&m, ctx);
		if (v == IMAP_STOP)
			return 1;
		if (v == IMAP_MOVE && s->o->move_to != NULL &&
		    move(s, m.uid, why, why_size) != 0)
			return -1;
	}
	return 0;
}

static void
session_free(struct session *s)
{
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl); /* says LOGOUT */
	curl_free(s->scheme);
	curl_free(s->user);
	curl_free(s->host);
	curl_free(s->port);
	curl_free(s->mailbox);
	free(s->mbox_raw);
	free(s->q_mailbox);
	free(s->q_move);
	free(s->list);
	free(s->body);
}

int
imap_walk(const struct imap_opts *o, imap_message_fn fn, void *ctx, char *why,
          size_t why_size)
{
	struct session s;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.message_max = o->message_max > 0 ? o->message_max : IMAP_MESSAGE_MAX;
	if (s.message_max > SIZE_MAX / 2)
		s.message_max = SIZE_MAX / 2; /* the buffer's +1 cannot wrap */
	if (o->url == NULL || o->password == NULL || fn == NULL) {
		say(why, why_size, "no URL, password or callback");
		return -1;
	}
	if (url_parse(&s, why, why_size) != 0 ||
	    handle_setup(&s, why, why_size) != 0 ||
	    names_prepare(&s, why, why_size) != 0 ||
	    step_capability(&s, why, why_size) != 0 ||
	    step_mailbox(&s, why, why_size) != 0 ||
	    step_folder(&s, why, why_size) != 0 ||
	    step_list(&s, why, why_size) != 0)
		goto out;
	rc = step_walk(&s, fn, ctx, why, why_size);
out:
	session_free(&s);
	return rc;
}
