/* SPDX-License-Identifier: ISC */
/*
 * The report process of mtasts serve (reportproc.h says why it exists).
 *
 * One request at a time, in the order they come: the server sends the
 * body of a POST (report_msg.h), this process gives it to
 * source_read_buffer() with the Content-Type the server accepted, and
 * each item to ingest_item(): a report is stored (201) or was known
 * (200), what is not one is kept in the quarantine with its reason
 * (400), and a store that fails is retried by the sender (503, RFC 8460
 * §5.5 lets it).  The reply says which, with the report-id or the
 * reason, for the server's answer and log.
 *
 * The store is opened at start, so a store that cannot be opened is
 * logged at once, and again when a request finds it closed: a store
 * that comes back is used without a restart.
 */
#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ingest.h"
#include "report_msg.h"
#include "reportproc.h"
#include "sandbox.h"
#include "serve.h"
#include "source.h"
#include "store.h"

#define CONF_MAGIC   "MTSQ"
#define URL_MAX      4096
#define BUF_START    65536
#define STORE_PREFIX "sqlite:"

struct reportproc {
	char url[URL_MAX + 1]; /* as the process sees it (after chroot) */
	uint32_t max_body;
	struct store *store;
	uint8_t *buf; /* requests read, not yet whole */
	size_t len, cap, max;
};

int
reportproc_conf_encode(const char *url, uint32_t max_body, uint8_t **out,
                       size_t *len)
{
	size_t n = strlen(url), body = 4 + 4 + n;
	uint8_t *p;

	if (n > URL_MAX || (p = malloc(CTL_FRAME_HDR + body)) == NULL)
		return -1;
	ctl_header_encode(body, p);
	memcpy(p + CTL_FRAME_HDR, CONF_MAGIC, 4);
	p[CTL_FRAME_HDR + 4] = (uint8_t)(max_body >> 24);
	p[CTL_FRAME_HDR + 5] = (uint8_t)(max_body >> 16);
	p[CTL_FRAME_HDR + 6] = (uint8_t)(max_body >> 8);
	p[CTL_FRAME_HDR + 7] = (uint8_t)max_body;
	memcpy(p + CTL_FRAME_HDR + 8, url, n);
	*out = p;
	*len = CTL_FRAME_HDR + body;
	return 0;
}

/* Copies src into dst[0..size), cut to fit (a log line, a reply). */
static void
copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Reads exactly len octets; 0, or -1 on error or end of file. */
static int
read_full(int fd, uint8_t *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = read(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* The configuration frame from the parent; fatal when it is not one. */
static void
read_conf(int fd, struct reportproc *rp)
{
	uint8_t hdr[CTL_FRAME_HDR], body[8 + URL_MAX];
	size_t len;

	if (read_full(fd, hdr, sizeof(hdr)) != 0 ||
	    ctl_header_decode(hdr, sizeof(body), &len) != 0 || len <= 8 ||
	    read_full(fd, body, len) != 0 || memcmp(body, CONF_MAGIC, 4) != 0)
		fatalx("report process: no configuration from the parent");
	rp->max_body = (uint32_t)body[4] << 24 | (uint32_t)body[5] << 16 |
	    (uint32_t)body[6] << 8 | body[7];
	memcpy(rp->url, body + 8, len - 8);
	rp->url[len - 8] = '\0';
	if (memchr(rp->url, '\0', len - 8) != NULL)
		fatalx("report process: a NUL in the store URL");
}

/* The path of an SQLite URL (store.h: sqlite:PATH or a bare path). */
static const char *
sqlite_path(const char *url)
{
	if (strncmp(url, STORE_PREFIX, strlen(STORE_PREFIX)) == 0)
		return url + strlen(STORE_PREFIX);
	return url[0] == '/' ? url : NULL;
}

/*
 * The store's directory, made when missing and then given to the user
 * the process runs as (as systemd's StateDirectory= is), so that SQLite
 * can make its -wal and -shm files there.  An existing one is left as
 * it is: its owner chose.
 */
static void
make_store_dir(const char *dir, const char *user)
{
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (stat(dir, &st) == 0 || errno != ENOENT)
		return;
	if (mkdir(dir, 0750) != 0) {
		log_warn("report process: mkdir %s", dir);
		return;
	}
	if (privdrop_ids(user, &uid, &gid) == 0 && chown(dir, uid, gid) != 0)
		log_warn("report process: chown %s", dir);
}

/*
 * Leaves the file system for the store's directory (SQLite) or keeps it
 * (PostgreSQL), drops to the user and loads the filter.  The URL is
 * rewritten to the path inside the chroot.
 */
static void
enter_sandbox(struct reportproc *rp, const char *user)
{
	char copy[URL_MAX + 1], root[URL_MAX + 1], *dir;
	const char *path = sqlite_path(rp->url);

	if (path == NULL) {
		privdrop_into(user, "report", "");
		if (sandbox_seccomp_report(SANDBOX_PG) != 0)
			fatalx("the report process cannot enter its sandbox");
		return;
	}
	copy_cut(copy, sizeof(copy), path);
	dir = dirname(copy);
	copy_cut(root, sizeof(root), dir);
	make_store_dir(root, user);
	if (geteuid() == 0 && !sandbox_sanitized()) {
		/* Inside the chroot the store is its base name under "/". */
		copy_cut(copy, sizeof(copy), path);
		dir = basename(copy);
		copy_cut(rp->url, sizeof(rp->url), STORE_PREFIX "/");
		copy_cut(rp->url + strlen(rp->url),
		         sizeof(rp->url) - strlen(rp->url), dir);
	}
	privdrop_into(user, "report", root);
	if (sandbox_seccomp_report(SANDBOX_SQLITE) != 0)
		fatalx("the report process cannot enter its sandbox");
}

/* Opens the store when it is not open; false (logged) when it fails. */
static bool
store_ready(struct reportproc *rp, char *why, size_t why_size)
{
	if (rp->store != NULL)
		return true;
	if (store_open(rp->url, &rp->store, why, why_size) == 0)
		return true;
	log_warnx("report process: store %s: %s", rp->url, why);
	return false;
}

/* What became of the one item of a POST, for the reply. */
struct note {
	char detail[REPORT_DETAIL_MAX + 1];
};

static void
note_item(const struct source_item *item, enum ingest_outcome outcome,
          const char *detail, void *ctx)
{
	struct note *n = ctx;

	(void)item;
	(void)outcome;
	/* A POST is one report: the first item's word is the reply's. */
	if (n->detail[0] == '\0')
		copy_cut(n->detail, sizeof(n->detail),
		         detail != NULL ? detail : "");
}

/* Stores one request's body; its outcome, and the detail in n. */
static enum report_outcome
ingest(struct reportproc *rp, const struct report_req *req, struct note *n)
{
	struct source_limits lim;
	struct ingest in;
	char origin[REPORT_ORIGIN_MAX + 32], why[STORE_WHY_SIZE];
	int rc;

	if (!store_ready(rp, why, sizeof(why))) {
		copy_cut(n->detail, sizeof(n->detail), why);
		return REPORT_FAILED;
	}
	memset(&in, 0, sizeof(in));
	in.store = rp->store;
	in.received = (int64_t)time(NULL);
	in.note = note_item;
	in.note_ctx = n;
	source_limits_default(&lim);
	lim.input_max = rp->max_body;
	snprintf(origin, sizeof(origin), "https POST from %s", req->origin);
	rc = source_read_buffer((const char *)req->body, req->body_len, origin,
	                        req->kind == REPORT_KIND_GZIP ?
	                            "application/tlsrpt+gzip" :
	                            "application/tlsrpt+json",
	                        &lim, ingest_source_fn, &in, why, sizeof(why));
	if (rc < 0) {
		copy_cut(n->detail, sizeof(n->detail), why);
		return REPORT_FAILED;
	}
	return (enum report_outcome)ingest_worst(&in.stats);
}

/* Answers one frame from the server; -1 when the channel is broken. */
static int
answer(struct reportproc *rp, int fd, const uint8_t *body, size_t len)
{
	uint8_t out[REPORT_REP_FRAME];
	struct report_req req;
	struct note n;
	enum report_outcome outcome;
	size_t off = 0, m;
	ssize_t w;

	if (report_req_parse(body, len, &req) != 0) {
		log_warnx("report process: a malformed request from the "
		          "server");
		return -1;
	}
	n.detail[0] = '\0';
	outcome = ingest(rp, &req, &n);
	m = report_rep_encode(req.id, outcome, n.detail, out);
	while (off < m) {
		w = write(fd, out + off, m - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Room for more bytes: the buffer doubles, up to one whole request. */
static int
grow(struct reportproc *rp)
{
	size_t cap;
	uint8_t *p;

	if (rp->len < rp->cap)
		return 0;
	cap = rp->cap == 0 ? BUF_START : rp->cap * 2;
	if (cap > rp->max)
		cap = rp->max;
	if (cap <= rp->cap || (p = realloc(rp->buf, cap)) == NULL)
		return -1;
	rp->buf = p;
	rp->cap = cap;
	return 0;
}

/*
 * Reads what the server sent and answers each whole request.  0, 1 when
 * the server has closed its end, -1 on error.
 */
static int
serve_peer(struct reportproc *rp, int fd)
{
	struct ctl_frame f;
	enum ctl_result r;
	size_t off = 0;
	ssize_t n;

	if (grow(rp) != 0) {
		log_warnx("report process: out of memory");
		return -1;
	}
	n = read(fd, rp->buf + rp->len, rp->cap - rp->len);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0)
		return n == 0 ? 1 : -1;
	rp->len += (size_t)n;
	while ((r = ctl_frame_decode(rp->buf + off, rp->len - off,
	                             rp->max - CTL_FRAME_HDR, &f)) ==
	       CTL_FRAME) {
		if (answer(rp, fd, f.body, f.len) != 0)
			return -1;
		off += f.size;
	}
	if (r == CTL_MALFORMED) {
		log_warnx("report process: a request over the cap");
		return -1;
	}
	memmove(rp->buf, rp->buf + off, rp->len - off);
	rp->len -= off;
	return 0;
}

int
reportproc_main(int ctl_fd, int peer_fd, const char *user)
{
	struct reportproc rp;
	struct pollfd pfd[2];
	char why[STORE_WHY_SIZE];
	uint8_t junk[64];
	int rc = 0;

	memset(&rp, 0, sizeof(rp));
	read_conf(ctl_fd, &rp);
	rp.max = REPORT_REQ_HEAD + (size_t)rp.max_body;
	enter_sandbox(&rp, user);
	if (store_ready(&rp, why, sizeof(why)))
		log_info("report process: store %s open", rp.url);
	pfd[0].fd = ctl_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = peer_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("report process: poll");
			rc = 1;
			break;
		}
		/* The parent says nothing after the configuration: its
		   end closing is the signal to stop. */
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
		    read(ctl_fd, junk, sizeof(junk)) <= 0)
			break;
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
		    (rc = serve_peer(&rp, peer_fd)) != 0) {
			if (rc > 0)
				log_debug("report process: the server is gone");
			rc = rc < 0 ? 1 : 0;
			break;
		}
	}
	store_close(rp.store);
	free(rp.buf);
	return rc;
}
