/* SPDX-License-Identifier: ISC */
/*
 * Tests of the report sources (src/report): gzip inflation with its cap
 * (inflate.c; RFC 8460 §5.2, §7, checklist RPT-GEN-2, RPT-GEN-6), report
 * mails (mime.c; §5.3, checklist §15 RPT-MAIL-1, -2, -3, -6, -12, -13),
 * mailboxes (mailbox.c) and the paths and buffers that reach them
 * (source.c), on real files: the sample report mail Google sent (mox's
 * testdata), mails composed by tests/data/tlsrpt/mail/make.py with
 * Python's stdlib, and gzip files, directories, maildirs and mboxes
 * built here in a temporary directory.  Every JSON extracted is compared
 * byte for byte with the JSON the input was made from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "inflate.h"
#include "mailbox.h"
#include "mime.h"
#include "source.h"
#include "tap.h"

#define MiB (1024u * 1024)

/*
 * ASan's realloc() never grows a block in place and its quarantine
 * keeps every freed block for a while, so a buffer grown by doubling to
 * the cap costs about twice the cap there; glibc's realloc() of a large
 * block moves pages (mremap) without copying them.
 */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifdef UNDER_ASAN
#define CAP_RSS_KIB (4 * 10 * 1024 + 8 * 1024) /* 4 x the cap + 8 MiB */
#else
#define CAP_RSS_KIB (2 * 10 * 1024 + 4 * 1024) /* 2 x the cap + 4 MiB */
#endif

static const char *data_dir;
static char tmp_dir[] = "/tmp/test_report_source.XXXXXX";

/* ---- helpers: files, gzip, items ---- */

struct blob {
	char *p;
	size_t len;
};

static void
blob_free(struct blob *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

static bool
read_file(const char *path, struct blob *out)
{
	struct stat st;
	FILE *f;
	char *p;

	if ((f = fopen(path, "rb")) == NULL)
		return false;
	if (fstat(fileno(f), &st) == -1 ||
	    (p = malloc(st.st_size + 1)) == NULL) {
		fclose(f);
		return false;
	}
	if (fread(p, 1, st.st_size, f) != (size_t)st.st_size) {
		free(p);
		fclose(f);
		return false;
	}
	fclose(f);
	p[st.st_size] = '\0';
	out->p = p;
	out->len = st.st_size;
	return true;
}

/* A file of the test data: tests/data/tlsrpt/NAME. */
static struct blob
data(const char *name)
{
	struct blob b = {NULL, 0};
	char path[1024];

	(void)snprintf(path, sizeof(path), "%s/tlsrpt/%s", data_dir, name);
	if (!read_file(path, &b)) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	return b;
}

static bool
write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	bool ok;

	if (f == NULL)
		return false;
	ok = fwrite(p, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

/* tmp_dir/NAME in a static buffer (one of four, used in turn). */
static const char *
tmp(const char *name)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4];

	(void)snprintf(b, sizeof(bufs[0]), "%s/%s", tmp_dir, name);
	return b;
}

/* Gzip of p[0..len) as one member (zlib's gzip wrapper). */
static struct blob
gzip(const void *p, size_t len)
{
	struct blob b = {NULL, 0};
	z_stream zs = {0};

	b.p = malloc(compressBound(len) + 64);
	if (b.p == NULL ||
	    deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	        Z_OK)
		exit(1);
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)b.p;
	zs.avail_out = (uInt)(compressBound(len) + 64);
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		exit(1);
	b.len = zs.total_out;
	deflateEnd(&zs);
	return b;
}

/* What a callback saw of one item, copied. */
struct got {
	char *origin;
	enum source_kind kind;
	struct blob json;
	bool has_json;
	char *error, *note, *domain, *submitter, *report_id, *filename;
	struct blob raw;
	bool has_raw;
	unsigned part;
};

struct seen {
	struct got items[64];
	size_t n;
	size_t stop_after; /* SOURCE_STOP after this many; 0: never */
};

static char *
dup_or_null(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

static struct blob
copy(const char *p, size_t len)
{
	struct blob b = {malloc(len + 1), len};

	if (b.p == NULL)
		exit(1);
	memcpy(b.p, p, len);
	b.p[len] = '\0';
	return b;
}

static enum source_verdict
collect(const struct source_item *item, void *ctx)
{
	struct seen *s = ctx;
	struct got *g;

	if (s->n == sizeof(s->items) / sizeof(s->items[0]))
		return SOURCE_STOP;
	g = &s->items[s->n++];
	memset(g, 0, sizeof(*g));
	g->origin = dup_or_null(item->origin);
	g->kind = item->kind;
	if ((g->has_json = item->json != NULL))
		g->json = copy(item->json, item->json_len);
	g->error = dup_or_null(item->error);
	g->note = dup_or_null(item->note);
	g->domain = dup_or_null(item->report_domain);
	g->submitter = dup_or_null(item->report_submitter);
	g->report_id = dup_or_null(item->report_id);
	g->filename = dup_or_null(item->filename);
	if ((g->has_raw = item->raw != NULL))
		g->raw = copy(item->raw, item->raw_len);
	g->part = item->part;
	return s->stop_after != 0 && s->n >= s->stop_after ? SOURCE_STOP :
							     SOURCE_NEXT;
}

static void
seen_reset(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct got *g = &s->items[i];

		free(g->origin);
		blob_free(&g->json);
		free(g->error);
		free(g->note);
		free(g->domain);
		free(g->submitter);
		free(g->report_id);
		free(g->filename);
		blob_free(&g->raw);
	}
	memset(s, 0, sizeof(*s));
}

static bool
blob_eq(const struct blob *a, const char *p, size_t len)
{
	return a->len == len && memcmp(a->p, p, len) == 0;
}

static bool
has(const char *s, const char *needle)
{
	return s != NULL && needle != NULL && strstr(s, needle) != NULL;
}

/* ---- inflate.c ---- */

enum mangle {
	M_NONE,
	M_CONCAT,      /* a second member after the first */
	M_CUT_TRAILER, /* the last 4 octets (ISIZE) missing */
	M_CUT_HALF,
	M_GARBAGE, /* octets after the trailer */
	M_CRC,     /* the CRC-32 changed */
	M_ISIZE,   /* the ISIZE changed */
	M_BTYPE,   /* the first deflate block of the reserved type 11 */
	M_NOT_GZIP,
	M_EMPTY,
};

static const struct inflate_case {
	const char *name;
	enum mangle mangle;
	long cap_delta;         /* the cap: the JSON's length plus this */
	const char *want_error; /* NULL: inflates to the JSON */
} inflate_cases[] = {
    {"RPT-GEN-2 T1: a gzip report inflates to the same JSON", M_NONE, 1000,
     NULL},
    {"a report of exactly the cap inflates", M_NONE, 0, NULL},
    {"RPT-GEN-6: one octet over the cap is refused", M_NONE, -1,
     "passes the cap of"},
    {"two concatenated gzip members are refused", M_CONCAT, 100000,
     "a second gzip member"},
    {"a stream cut before its ISIZE is refused", M_CUT_TRAILER, 1000,
     "truncated gzip stream"},
    {"a stream cut in half is refused", M_CUT_HALF, 1000,
     "truncated gzip stream"},
    {"trailing garbage is refused", M_GARBAGE, 1000, "trailing garbage"},
    {"a CRC-32 mismatch is refused", M_CRC, 1000, "CRC-32 mismatch"},
    {"an ISIZE mismatch is refused", M_ISIZE, 1000, "ISIZE mismatch"},
    {"a reserved deflate block type is refused", M_BTYPE, 1000,
     "corrupt gzip data"},
    {"JSON is not gzip", M_NOT_GZIP, 1000, "not gzip"},
    {"no octets are not gzip", M_EMPTY, 1000, "not gzip"},
};

static struct blob
mangled(const struct blob *json, enum mangle m)
{
	struct blob gz = gzip(json->p, json->len), two;

	switch (m) {
	case M_NONE:
		break;
	case M_CONCAT:
		two.p = malloc(gz.len * 2);
		memcpy(two.p, gz.p, gz.len);
		memcpy(two.p + gz.len, gz.p, gz.len);
		two.len = gz.len * 2;
		blob_free(&gz);
		return two;
	case M_CUT_TRAILER:
		gz.len -= 4;
		break;
	case M_CUT_HALF:
		gz.len /= 2;
		break;
	case M_GARBAGE:
		gz.p = realloc(gz.p, gz.len + 3);
		memcpy(gz.p + gz.len, "xyz", 3);
		gz.len += 3;
		break;
	case M_CRC:
		gz.p[gz.len - 8] ^= 0x01;
		break;
	case M_ISIZE:
		gz.p[gz.len - 4] ^= 0x01;
		break;
	case M_BTYPE:
		/* After the 10-octet header: BFINAL=1, BTYPE=11. */
		gz.p[10] = (char)((gz.p[10] & ~0x07) | 0x07);
		break;
	case M_NOT_GZIP:
		blob_free(&gz);
		return copy(json->p, json->len);
	case M_EMPTY:
		gz.len = 0;
		break;
	}
	return gz;
}

/* The pull reader with `chunk`-octet reads: its output and error. */
static bool
pull(const struct blob *in, size_t max, size_t chunk, struct blob *out,
     char *why, size_t why_size)
{
	struct inflate_reader *r = inflate_reader_new(in->p, in->len, max);
	char buf[4096];
	size_t n;

	out->p = NULL;
	out->len = 0;
	if (r == NULL)
		return false;
	while ((n = inflate_reader_read(buf, chunk, r)) != 0 &&
	       n != (size_t)-1) {
		out->p = realloc(out->p, out->len + n + 1);
		memcpy(out->p + out->len, buf, n);
		out->len += n;
	}
	if (n == (size_t)-1)
		(void)snprintf(why, why_size, "%s", inflate_reader_error(r));
	inflate_reader_free(r);
	return n == 0;
}

static void
test_inflate(void)
{
	struct blob json = data("microsoft-sts-tlsa-2025.json");
	static const size_t chunks[] = {1, 7, 4096};
	size_t i, j;

	for (i = 0; i < sizeof(inflate_cases) / sizeof(inflate_cases[0]); i++) {
		const struct inflate_case *c = &inflate_cases[i];
		struct blob in = mangled(&json, c->mangle), out;
		size_t max = (size_t)((long)json.len + c->cap_delta);
		char why[256] = "";
		char *p = NULL;
		size_t len = 0;
		int rc;

		rc =
		    inflate_gzip(in.p, in.len, max, &p, &len, why, sizeof(why));
		if (c->want_error == NULL)
			tap_ok(rc == 0 && len == json.len &&
			           memcmp(p, json.p, len) == 0 &&
			           p[len] == '\0',
			       "inflate: %s", c->name);
		else
			tap_ok(rc == -1 && p == NULL && has(why, c->want_error),
			       "inflate: %s (%s)", c->name, why);
		free(p);
		for (j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++) {
			bool ok =
			    pull(&in, max, chunks[j], &out, why, sizeof(why));

			if (c->want_error == NULL)
				tap_ok(ok && blob_eq(&out, json.p, json.len),
				       "pull reader, %zu-octet reads: %s",
				       chunks[j], c->name);
			else
				tap_ok(!ok && has(why, c->want_error),
				       "pull reader, %zu-octet reads: %s",
				       chunks[j], c->name);
			blob_free(&out);
		}
		blob_free(&in);
	}
	blob_free(&json);
}

/* ---- the gzip bomb ---- */

/*
 * Writes a gzip of `mib` MiB of zeros to `path`, about 1 KiB per MiB,
 * quickly: after a sync flush the deflate state over a window of zeros
 * is the same whatever came before, so one MiB's compressed form is
 * written again and again, and the trailer's CRC-32 is computed over
 * the zeros.
 */
static bool
write_bomb(const char *path, unsigned mib)
{
	static const unsigned char head[10] = {0x1f, 0x8b, 8, 0, 0,
	                                       0,    0,    0, 2, 3};
	unsigned char *zeros = calloc(1, MiB), *first, *again, *last, tail[8];
	size_t nfirst, nagain, nlast, cap = 64 * 1024;
	z_stream zs = {0};
	uLong crc = crc32(0, Z_NULL, 0);
	unsigned i;
	FILE *f;
	bool ok;

	first = malloc(cap);
	again = malloc(cap);
	last = malloc(cap);
	if (zeros == NULL || first == NULL || again == NULL || last == NULL ||
	    deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) !=
	        Z_OK)
		return false;
#define DEFLATE_INTO(buf, n, flush)                                            \
	do {                                                                   \
		zs.next_in = zeros;                                            \
		zs.avail_in = (flush) == Z_FINISH ? 0 : MiB;                   \
		zs.next_out = (buf);                                           \
		zs.avail_out = (uInt)cap;                                      \
		(void)deflate(&zs, (flush));                                   \
		(n) = cap - zs.avail_out;                                      \
	} while (0)
	DEFLATE_INTO(first, nfirst, Z_SYNC_FLUSH);
	DEFLATE_INTO(again, nagain, Z_SYNC_FLUSH);
	DEFLATE_INTO(last, nlast, Z_FINISH);
#undef DEFLATE_INTO
	deflateEnd(&zs);
	for (i = 0; i < mib; i++)
		crc = crc32(crc, zeros, MiB);
	for (i = 0; i < 4; i++) {
		tail[i] = (unsigned char)(crc >> (8 * i));
		tail[4 + i] = (unsigned char)(((uint64_t)mib * MiB) >> (8 * i));
	}
	ok = (f = fopen(path, "wb")) != NULL;
	ok = ok && fwrite(head, 1, 10, f) == 10 &&
	    fwrite(first, 1, nfirst, f) == nfirst;
	for (i = 1; ok && i < mib; i++)
		ok = fwrite(again, 1, nagain, f) == nagain;
	ok = ok && fwrite(last, 1, nlast, f) == nlast &&
	    fwrite(tail, 1, 8, f) == 8;
	if (f != NULL)
		ok = fclose(f) == 0 && ok;
	free(zeros);
	free(first);
	free(again);
	free(last);
	return ok;
}

static long
peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Made in a child, so that the making leaves our peak RSS alone. */
static bool
make_bomb(const char *path, unsigned mib)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(write_bomb(path, mib) ? 0 : 1);
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * What a measured run gives back: whether its checks passed, the growth
 * of its peak RSS and its time.  It runs in a child: a process's peak
 * RSS only grows, and on Linux it even keeps the peak of the program
 * that exec'd it (meson's Python), while a child's starts at its RSS at
 * the fork, so only there does getrusage() show what the run itself
 * took.
 */
struct measure {
	bool ok;
	long kib;
	double secs;
	char note[200];
};

typedef bool (*measured_fn)(const void *arg, char *note, size_t note_size);

static struct measure
measure(measured_fn fn, const void *arg)
{
	struct measure m = {false, 0, 0, "the child failed"};
	int fds[2], status;
	long rss0;
	double t0;
	pid_t pid;

	if (pipe(fds) == -1 || (pid = fork()) == -1)
		return m;
	if (pid == 0) {
		close(fds[0]);
		rss0 = peak_rss_kib();
		t0 = now();
		m.note[0] = '\0';
		m.ok = fn(arg, m.note, sizeof(m.note));
		m.secs = now() - t0;
		m.kib = peak_rss_kib() - rss0;
		_exit(write(fds[1], &m, sizeof(m)) == sizeof(m) ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], &m, sizeof(m)) != sizeof(m))
		m.ok = false;
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		m.ok = false;
	return m;
}

static bool
bomb_pull(const void *arg, char *note, size_t note_size)
{
	const struct blob *bomb = arg;
	struct source_limits lim;
	struct inflate_reader *r;
	char buf[64 * 1024];
	size_t n, total = 0;
	bool ok;

	source_limits_default(&lim);
	r = inflate_reader_new(bomb->p, bomb->len, lim.inflated_max);
	while ((n = inflate_reader_read(buf, sizeof(buf), r)) != 0 &&
	       n != (size_t)-1)
		total += n;
	ok = n == (size_t)-1 && total <= lim.inflated_max &&
	    has(inflate_reader_error(r), "passes the cap");
	(void)snprintf(note, note_size, "%zu octets given", total);
	inflate_reader_free(r);
	return ok;
}

static bool
bomb_buffered(const void *arg, char *note, size_t note_size)
{
	const struct blob *bomb = arg;
	struct source_limits lim;
	char *out = NULL;
	size_t len;

	source_limits_default(&lim);
	return inflate_gzip(bomb->p, bomb->len, lim.inflated_max, &out, &len,
	                    note, note_size) == -1 &&
	    out == NULL && has(note, "passes the cap");
}

/* Counts the items; the first one's error in the note. */
static enum source_verdict
count_items(const struct source_item *item, void *ctx)
{
	struct seen *s = ctx;

	if (s->n++ == 0) {
		s->items[0].has_json = item->json != NULL;
		s->items[0].has_raw = item->raw != NULL;
		s->items[0].kind = item->kind;
		s->items[0].error = dup_or_null(item->error);
	}
	return SOURCE_NEXT;
}

static bool
bomb_file(const void *arg, char *note, size_t note_size)
{
	struct source_limits lim;
	struct seen s = {0};
	bool ok;

	source_limits_default(&lim);
	ok = source_read_path(arg, &lim, count_items, &s, note, note_size) ==
		0 &&
	    s.n == 1 && !s.items[0].has_json && s.items[0].has_raw &&
	    s.items[0].kind == SOURCE_GZIP &&
	    has(s.items[0].error, "passes the cap");
	(void)snprintf(note, note_size, "%s", s.items[0].error);
	free(s.items[0].error);
	return ok;
}

static void
test_bomb(void)
{
	const char *path = tmp("bomb.json.gz");
	struct blob bomb = {NULL, 0};
	struct inflate_reader *r;
	char buf[64 * 1024];
	struct measure m;
	size_t n, total = 0;
	double t0;

	if (!tap_ok(make_bomb(path, 1024) && read_file(path, &bomb),
	            "RPT-GEN-6: a gzip bomb of 1 GiB of zeros is made"))
		return;
	tap_diag("the bomb: %zu octets of gzip for 1 GiB", bomb.len);
	/* The whole bomb inflates (as gunzip would): a valid stream. */
	r = inflate_reader_new(bomb.p, bomb.len, SIZE_MAX);
	t0 = now();
	while ((n = inflate_reader_read(buf, sizeof(buf), r)) != 0 &&
	       n != (size_t)-1)
		total += n;
	tap_ok(n == 0 && total == 1024u * MiB,
	       "the bomb is a valid gzip of 1 GiB, inflated whole without a "
	       "cap in %.2f s",
	       now() - t0);
	inflate_reader_free(r);

	m = measure(bomb_pull, &bomb);
	tap_ok(m.ok,
	       "RPT-GEN-6 T1: the pull reader refuses the bomb at the "
	       "10 MiB cap (%s)",
	       m.note);
	tap_ok(m.secs < 1.0, "the pull reader refuses it in %.3f s (< 1 s)",
	       m.secs);
	tap_ok(m.kib < 4 * 1024,
	       "the pull reader's peak RSS grows by %ld KiB (< 4 MiB)", m.kib);
	m = measure(bomb_buffered, &bomb);
	tap_ok(m.ok, "RPT-GEN-6 T1: inflate_gzip refuses the bomb (%s)",
	       m.note);
	tap_ok(m.secs < 1.0, "inflate_gzip refuses it in %.3f s (< 1 s)",
	       m.secs);
	tap_ok(m.kib < CAP_RSS_KIB,
	       "inflate_gzip's peak RSS grows by %ld KiB (< %d KiB, the cap "
	       "is 10 MiB)",
	       m.kib, CAP_RSS_KIB);
	m = measure(bomb_file, path);
	tap_ok(m.ok,
	       "RPT-GEN-6 T1: the bomb as a .json.gz file is one item with an "
	       "error and its raw bytes (%s)",
	       m.note);
	tap_ok(m.secs < 1.0, "source_read_path refuses it in %.3f s (< 1 s)",
	       m.secs);
	tap_ok(m.kib < CAP_RSS_KIB,
	       "source_read_path's peak RSS grows by %ld KiB (< %d KiB)", m.kib,
	       CAP_RSS_KIB);
	blob_free(&bomb);
	(void)unlink(path);
}

/* ---- report mails ---- */

struct want {
	unsigned part;
	const char *filename; /* the part's file name, or NULL */
	const char *json;     /* the file of tests/data/tlsrpt it must equal */
	const char *error;    /* a substring of the error instead */
	const char *note;     /* a substring of the note, or NULL: none */
};

/* The header fields of the composed mails (make.py), and their names. */
#define HDRS                                                                   \
	"example.net", "mail.sender.example.com",                              \
	    "735ff.e317+bf22029@example.net"
#define FN    "mail.sender.example.com!example.net!1470009600!1470095999!01"
#define FN_GZ FN ".json.gz"
#define NPF   "google-no-policy-found-2024.decoded.json"

static const struct mail_case {
	const char *name;
	const char *file; /* under tests/data/tlsrpt */
	const char *domain, *submitter, *report_id;
	size_t n;
	struct want items[2];
} mail_cases[] = {
    {"RPT-MAIL-1, -3, -6, -12: Google's real report mail (mox example.eml)",
     "google-2022-report.eml",
     "test.xmox.nl",
     "google.com",
     "2022.09.15T00.00.00Z+test.xmox.nl@google.com",
     1,
     {{1, "google.com!test.xmox.nl!1663200000!1663286399!001.json.gz",
       "google-2022-report.decoded.json", NULL, NULL}}},
    {"RPT-MAIL-2 T1: a base64 application/tlsrpt+gzip part",
     "mail/base64-gzip.eml",
     HDRS,
     1,
     {{1, FN_GZ, NPF, NULL, NULL}}},
    {"RPT-MAIL-2: a quoted-printable application/tlsrpt+json part",
     "mail/qp-json.eml",
     "contoso.example",
     "mail.sender.example.com",
     "735ff.e317+bf22029@example.net",
     1,
     {{1, FN ".json", "microsoft-no-timezone-2023.decoded.json", NULL, NULL}}},
    {"a report in multiparts nested three deep, CRLF lines",
     "mail/nested.eml",
     HDRS,
     1,
     {{1, FN_GZ, "google-sts-two-mx-2026.decoded.json", NULL, NULL}}},
    {"RPT-MAIL-13 T1: an extra image/png part is ignored",
     "mail/extra-png.eml",
     HDRS,
     1,
     {{1, FN_GZ, NPF, NULL, NULL}}},
    {"a mail without a report part is one item with an error",
     "mail/no-report.eml",
     HDRS,
     1,
     {{0, NULL, NULL, "no TLS-RPT report part", NULL}}},
    {"RPT-MAIL-2 T2: gzip labelled +json is inflated and noted",
     "mail/gzip-labelled-json.eml",
     HDRS,
     1,
     {{1, FN ".json", NPF, NULL, "labelled JSON holds gzip"}}},
    {"plain JSON labelled +gzip is read as JSON and noted",
     "mail/json-labelled-gzip.eml",
     HDRS,
     1,
     {{1, FN_GZ, NPF, NULL, "labelled gzip holds plain JSON"}}},
    {"two report parts are two items, in order",
     "mail/two-reports.eml",
     HDRS,
     2,
     {{1, FN_GZ, NPF, NULL, NULL},
      {2, FN ".json", "rfc8460-example-mxhost-string.json", NULL, NULL}}},
    {"RPT-FILE-3: application/octet-stream named .json.gz is a report",
     "mail/octet-stream-named.eml",
     HDRS,
     1,
     {{1, FN_GZ, NPF, NULL, NULL}}},
    {"application/octet-stream without a report's name is not",
     "mail/octet-stream-unnamed.eml",
     HDRS,
     1,
     {{0, NULL, NULL, "no TLS-RPT report part", NULL}}},
    {"a forwarded report mail (message/rfc822): its own header fields",
     "mail/forwarded.eml",
     HDRS,
     1,
     {{1, FN_GZ, NPF, NULL, NULL}}},
    {"a gzip part with a CRC-32 error is an error item",
     "mail/gzip-crc-error.eml",
     HDRS,
     1,
     {{1, FN_GZ, NULL, "CRC-32 mismatch", NULL}}},
    {"a single-part application/tlsrpt+json mail, 7bit",
     "mail/single-part-json.eml",
     HDRS,
     1,
     {{1, NULL, "rfc8460-example-mxhost-string.json", NULL, NULL}}},
};

static bool
item_ok(const struct got *g, const struct mail_case *c, const struct want *w,
        const struct blob *raw, const char *origin)
{
	bool ok = g->kind == SOURCE_MAIL && g->part == w->part &&
	    tap_streq(g->origin, origin) &&
	    blob_eq(&g->raw, raw->p, raw->len) &&
	    tap_streq(g->domain, c->domain) &&
	    tap_streq(g->submitter, c->submitter) &&
	    tap_streq(g->report_id, c->report_id) &&
	    tap_streq(g->filename, w->filename);
	struct blob want;

	if (w->note != NULL ? !has(g->note, w->note) : g->note != NULL)
		ok = false;
	if (w->json == NULL)
		return ok && !g->has_json && has(g->error, w->error);
	want = data(w->json);
	ok = ok && g->has_json && g->error == NULL &&
	    blob_eq(&g->json, want.p, want.len);
	blob_free(&want);
	return ok;
}

static void
check_mail(const struct mail_case *c, const struct seen *s, int rc,
           const struct blob *raw, const char *origin, const char *how)
{
	bool ok = rc == 0 && s->n == c->n;
	size_t i;

	for (i = 0; ok && i < c->n; i++)
		ok = item_ok(&s->items[i], c, &c->items[i], raw, origin);
	tap_ok(ok, "%s: %s", how, c->name);
	if (!ok)
		for (i = 0; i < s->n; i++)
			tap_diag("item %zu: part %u error %s note %s", i,
			         s->items[i].part,
			         s->items[i].error ? s->items[i].error : "-",
			         s->items[i].note ? s->items[i].note : "-");
}

static void
test_mails(void)
{
	struct source_limits lim;
	char why[256], path[1024];
	size_t i;

	source_limits_default(&lim);
	for (i = 0; i < sizeof(mail_cases) / sizeof(mail_cases[0]); i++) {
		const struct mail_case *c = &mail_cases[i];
		struct blob raw = data(c->file);
		struct seen s = {0};
		int rc;

		(void)snprintf(path, sizeof(path), "%s/tlsrpt/%s", data_dir,
		               c->file);
		rc =
		    source_read_path(path, &lim, collect, &s, why, sizeof(why));
		check_mail(c, &s, rc, &raw, path, "path");
		seen_reset(&s);
		rc = source_read_buffer(raw.p, raw.len, "imap://x/INBOX;UID=7",
		                        NULL, &lim, collect, &s, why,
		                        sizeof(why));
		check_mail(c, &s, rc, &raw, "imap://x/INBOX;UID=7",
		           "buffer, sniffed");
		seen_reset(&s);
		rc = source_read_buffer(raw.p, raw.len, "m", "message/rfc822",
		                        &lim, collect, &s, why, sizeof(why));
		check_mail(c, &s, rc, &raw, "m", "buffer, message/rfc822");
		seen_reset(&s);
		blob_free(&raw);
	}
}

/* ---- buffers with a Content-Type (RFC 8460 §5.4's POST bodies) ---- */

enum body { B_JSON, B_GZIP, B_TEXT, B_EMPTY, B_SPACED_JSON };

static const struct ct_case {
	const char *name;
	enum body body;
	const char *content_type;
	enum source_kind kind;
	bool json;         /* the report's JSON is given */
	const char *error; /* else this error */
	const char *note;
} ct_cases[] = {
    {"application/tlsrpt+gzip holding gzip", B_GZIP, "application/tlsrpt+gzip",
     SOURCE_GZIP, true, NULL, NULL},
    {"application/tlsrpt+json holding JSON, with a parameter", B_JSON,
     "application/tlsrpt+json; charset=utf-8", SOURCE_JSON, true, NULL, NULL},
    {"application/tlsrpt+json holding gzip: inflated, noted", B_GZIP,
     "application/tlsrpt+json", SOURCE_GZIP, true, NULL,
     "labelled JSON but gzip"},
    {"Application/TLSRPT+GZIP holding JSON: read, noted", B_JSON,
     "Application/TLSRPT+GZIP", SOURCE_JSON, true, NULL,
     "labelled gzip but plain JSON"},
    {"application/tlsrpt+gzip holding text: refused", B_TEXT,
     "application/tlsrpt+gzip", SOURCE_GZIP, false, "not gzip", NULL},
    {"application/tlsrpt+json holding text: given to the JSON parser", B_TEXT,
     "application/tlsrpt+json", SOURCE_JSON, true, NULL, NULL},
    {"no Content-Type, JSON: sniffed", B_JSON, NULL, SOURCE_JSON, true, NULL,
     NULL},
    {"no Content-Type, JSON after white space: sniffed", B_SPACED_JSON, NULL,
     SOURCE_JSON, true, NULL, NULL},
    {"no Content-Type, gzip: sniffed", B_GZIP, NULL, SOURCE_GZIP, true, NULL,
     NULL},
    {"an unknown Content-Type: sniffed", B_GZIP, "application/x-whatever",
     SOURCE_GZIP, true, NULL, NULL},
    {"no Content-Type, text: not a mail", B_TEXT, NULL, SOURCE_MAIL, false,
     "not a mail message", NULL},
    {"no octets: not a mail", B_EMPTY, NULL, SOURCE_MAIL, false,
     "not a mail message", NULL},
};

static void
test_content_types(void)
{
	struct blob json = data("microsoft-sts-tlsa-2025.json");
	struct blob gz = gzip(json.p, json.len), spaced, body;
	struct source_limits lim;
	char why[256];
	size_t i;

	spaced.len = json.len + 3;
	spaced.p = malloc(spaced.len);
	memcpy(spaced.p, " \r\n", 3);
	memcpy(spaced.p + 3, json.p, json.len);
	source_limits_default(&lim);
	for (i = 0; i < sizeof(ct_cases) / sizeof(ct_cases[0]); i++) {
		const struct ct_case *c = &ct_cases[i];
		struct seen s = {0};
		const struct got *g = &s.items[0];
		bool ok;
		int rc;

		body = c->body == B_JSON     ? json :
		    c->body == B_GZIP        ? gz :
		    c->body == B_SPACED_JSON ? spaced :
		    c->body == B_TEXT ? (struct blob){(char *)"hello world\n",
		                                      12} :
					(struct blob){(char *)"", 0};
		rc = source_read_buffer(body.p, body.len, "POST",
		                        c->content_type, &lim, collect, &s, why,
		                        sizeof(why));
		ok = rc == 0 && s.n == 1 && g->kind == c->kind &&
		    g->has_json == c->json && tap_streq(g->origin, "POST") &&
		    blob_eq(&g->raw, body.p, body.len) && g->part == 0 &&
		    (c->note != NULL ? has(g->note, c->note) : g->note == NULL);
		if (c->json && c->body == B_TEXT)
			ok = ok && blob_eq(&g->json, body.p, body.len);
		else if (c->json)
			ok = ok &&
			    blob_eq(&g->json,
			            c->body == B_SPACED_JSON ? spaced.p :
			                                       json.p,
			            c->body == B_SPACED_JSON ? spaced.len :
			                                       json.len);
		else
			ok = ok && has(g->error, c->error);
		tap_ok(ok, "buffer: %s", c->name);
		seen_reset(&s);
	}
	blob_free(&spaced);
	blob_free(&gz);
	blob_free(&json);
}

/* ---- caps at exactly the limit and one over ---- */

static int
read_with(const char *path, const struct source_limits *lim, struct seen *s)
{
	char why[256];

	return source_read_path(path, lim, collect, s, why, sizeof(why));
}

static void
test_caps(void)
{
	struct blob json = data("microsoft-sts-tlsa-2025.json");
	struct blob gz = gzip(json.p, json.len);
	struct blob mail = data("mail/base64-gzip.eml");
	struct blob npf = data("google-no-policy-found-2024.decoded.json");
	struct source_limits lim;
	struct seen s = {0};
	char why[256];
	int rc;

	write_file(tmp("cap.json"), json.p, json.len);
	write_file(tmp("cap.json.gz"), gz.p, gz.len);
	write_file(tmp("cap.eml"), mail.p, mail.len);

	/* input_max: the file as read. */
	source_limits_default(&lim);
	lim.input_max = gz.len;
	rc = read_with(tmp("cap.json.gz"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 && s.items[0].has_json,
	       "input_max: a .json.gz of exactly the cap is read");
	seen_reset(&s);
	lim.input_max = gz.len - 1;
	rc = read_with(tmp("cap.json.gz"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 && !s.items[0].has_json &&
	           !s.items[0].has_raw && s.items[0].kind == SOURCE_GZIP &&
	           has(s.items[0].error, "passes the input cap"),
	       "input_max: one octet over is refused, not cut (no raw)");
	seen_reset(&s);
	lim.input_max = json.len - 1;
	rc = source_read_buffer(json.p, json.len, "b", NULL, &lim, collect, &s,
	                        why, sizeof(why));
	tap_ok(rc == 0 && s.n == 1 && !s.items[0].has_json &&
	           has(s.items[0].error, "input cap"),
	       "input_max: a buffer one octet over is refused");
	seen_reset(&s);

	/* inflated_max: the report's JSON, inflated or plain. */
	source_limits_default(&lim);
	lim.inflated_max = json.len;
	rc = read_with(tmp("cap.json.gz"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 &&
	           blob_eq(&s.items[0].json, json.p, json.len),
	       "inflated_max: gzip inflating to exactly the cap is read");
	seen_reset(&s);
	rc = read_with(tmp("cap.json"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 &&
	           blob_eq(&s.items[0].json, json.p, json.len),
	       "inflated_max: plain JSON of exactly the cap is read");
	seen_reset(&s);
	lim.inflated_max = json.len - 1;
	rc = read_with(tmp("cap.json.gz"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 && !s.items[0].has_json &&
	           has(s.items[0].error, "passes the cap") &&
	           blob_eq(&s.items[0].raw, gz.p, gz.len),
	       "inflated_max: gzip one octet over is refused, raw kept");
	seen_reset(&s);
	rc = read_with(tmp("cap.json"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 && !s.items[0].has_json &&
	           has(s.items[0].error, "pass the cap"),
	       "inflated_max: plain JSON one octet over is refused");
	seen_reset(&s);
	lim.inflated_max = npf.len;
	rc = read_with(tmp("cap.eml"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 && blob_eq(&s.items[0].json, npf.p, npf.len),
	       "inflated_max: a mail's gzip part of exactly the cap is read");
	seen_reset(&s);
	lim.inflated_max = npf.len - 1;
	rc = read_with(tmp("cap.eml"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 && !s.items[0].has_json &&
	           s.items[0].part == 1 &&
	           has(s.items[0].error, "passes the cap"),
	       "inflated_max: a mail's gzip part one octet over is refused");
	seen_reset(&s);

	/* parts_max: base64-gzip.eml is a multipart and its two parts. */
	source_limits_default(&lim);
	lim.parts_max = 3;
	rc = read_with(tmp("cap.eml"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 && s.items[0].has_json,
	       "parts_max: a mail of exactly the cap's MIME parts is read");
	seen_reset(&s);
	lim.parts_max = 2;
	rc = read_with(tmp("cap.eml"), &lim, &s);
	tap_ok(rc == 0 && s.n == 1 && !s.items[0].has_json &&
	           has(s.items[0].error, "more than 2 MIME parts"),
	       "parts_max: one part over is refused");
	seen_reset(&s);

	blob_free(&json);
	blob_free(&gz);
	blob_free(&mail);
	blob_free(&npf);
}

/* ---- directories, maildirs, mboxes, stdin ---- */

static void
mkdirs(const char *name)
{
	(void)mkdir(tmp(name), 0700);
}

/* Origins of the items seen, space-separated, relative to tmp_dir. */
static char *
origins(const struct seen *s)
{
	static char buf[4096];
	size_t i, off = 0, skip = strlen(tmp_dir) + 1;

	buf[0] = '\0';
	for (i = 0; i < s->n && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
		                        i == 0 ? "" : " ",
		                        strncmp(s->items[i].origin, tmp_dir,
		                                skip - 1) == 0 ?
		                            s->items[i].origin + skip :
		                            s->items[i].origin);
	return buf;
}

static void
test_dirs(void)
{
	struct blob json = data("microsoft-sts-tlsa-2025.json");
	struct blob gz = gzip(json.p, json.len);
	struct blob mail = data("mail/base64-gzip.eml");
	struct blob npf = data("google-no-policy-found-2024.decoded.json");
	struct source_limits lim;
	struct seen s = {0};
	char why[256];
	int rc;

	source_limits_default(&lim);
	mkdirs("plain");
	write_file(tmp("plain/b.json"), json.p, json.len);
	write_file(tmp("plain/a.json.gz"), gz.p, gz.len);
	write_file(tmp("plain/c.eml"), mail.p, mail.len);
	write_file(tmp("plain/.hidden.json"), json.p, json.len);
	mkdirs("plain/sub");
	write_file(tmp("plain/sub/d.json"), json.p, json.len);
	rc = read_with(tmp("plain"), &lim, &s);
	tap_ok(rc == 0 && s.n == 3 &&
	           tap_streq(origins(&s),
	                     "plain/a.json.gz plain/b.json plain/c.eml") &&
	           s.items[0].kind == SOURCE_GZIP &&
	           s.items[1].kind == SOURCE_JSON &&
	           s.items[2].kind == SOURCE_MAIL &&
	           blob_eq(&s.items[0].json, json.p, json.len) &&
	           blob_eq(&s.items[1].json, json.p, json.len) &&
	           blob_eq(&s.items[2].json, npf.p, npf.len),
	       "a directory: its files in name order, sniffed; no dot files, "
	       "no recursion (%s)",
	       origins(&s));
	seen_reset(&s);
	s.stop_after = 1;
	rc = read_with(tmp("plain"), &lim, &s);
	tap_ok(rc == 1 && s.n == 1,
	       "a directory: SOURCE_STOP stops the walk, source_read_path "
	       "returns 1");
	seen_reset(&s);

	mkdirs("md");
	mkdirs("md/cur");
	mkdirs("md/new");
	mkdirs("md/tmp");
	write_file(tmp("md/cur/2.host:2,S"), mail.p, mail.len);
	write_file(tmp("md/cur/1.host:2,S"), mail.p, mail.len);
	write_file(tmp("md/cur/.dotfile"), mail.p, mail.len);
	write_file(tmp("md/new/3.host"), mail.p, mail.len);
	write_file(tmp("md/tmp/4.host"), mail.p, mail.len);
	rc = read_with(tmp("md"), &lim, &s);
	tap_ok(rc == 0 && s.n == 3 &&
	           tap_streq(origins(&s),
	                     "md/cur/1.host:2,S md/cur/2.host:2,S "
	                     "md/new/3.host") &&
	           blob_eq(&s.items[2].json, npf.p, npf.len) &&
	           blob_eq(&s.items[2].raw, mail.p, mail.len),
	       "a maildir: cur/ then new/ in name order, no dot files, no tmp/ "
	       "(%s)",
	       origins(&s));
	seen_reset(&s);
	lim.input_max = mail.len - 1;
	rc = read_with(tmp("md"), &lim, &s);
	tap_ok(rc == 0 && s.n == 3 && !s.items[0].has_json &&
	           !s.items[0].has_raw &&
	           has(s.items[0].error, "passes the cap"),
	       "a maildir: a message one octet over input_max is refused");
	seen_reset(&s);

	rc = source_read_path(tmp("nonexistent"), &lim, collect, &s, why,
	                      sizeof(why));
	tap_ok(rc == -1 && s.n == 0 && has(why, "nonexistent") &&
	           has(why, strerror(ENOENT)),
	       "a missing path is an I/O error (%s)", why);
	seen_reset(&s);
	blob_free(&json);
	blob_free(&gz);
	blob_free(&mail);
	blob_free(&npf);
}

/* Appends `msg` to an mbox as mboxrd writes it: From_ line, quoting. */
static void
mbox_append(FILE *f, const struct blob *msg)
{
	const char *p = msg->p, *end = msg->p + msg->len, *nl;
	size_t i;

	fputs("From tlsrpt@example.net Fri Sep 16 03:10:06 2022\n", f);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl == NULL ? end : nl + 1;
		for (i = 0; p + i < nl && p[i] == '>'; i++)
			;
		if ((size_t)(nl - p) >= i + 5 && memcmp(p + i, "From ", 5) == 0)
			fputc('>', f);
		fwrite(p, 1, (size_t)(nl - p), f);
		p = nl;
	}
	fputs("\n", f);
}

static void
test_mbox(void)
{
	struct blob m1 = data("mail/base64-gzip.eml");
	struct blob m2 = data("mail/nested.eml");
	struct blob npf = data("google-no-policy-found-2024.decoded.json");
	struct blob two = data("google-sts-two-mx-2026.decoded.json");
	static char m3text[] =
	    "From: someone@example.org\nSubject: hello\n\nNot a report.\n\n"
	    "From here on, a line the writer quoted.\n>From quoted twice.\n"
	    "From\n";
	struct blob m3 = {m3text, sizeof(m3text) - 1};
	struct source_limits lim;
	struct seen s = {0};
	FILE *f;
	int rc, fd, saved;

	f = fopen(tmp("box.mbox"), "wb");
	mbox_append(f, &m1);
	mbox_append(f, &m2);
	mbox_append(f, &m3);
	fclose(f);
	source_limits_default(&lim);
	rc = read_with(tmp("box.mbox"), &lim, &s);
	tap_ok(rc == 0 && s.n == 3 &&
	           tap_streq(origins(&s), "box.mbox#1 box.mbox#2 box.mbox#3") &&
	           blob_eq(&s.items[0].raw, m1.p, m1.len) &&
	           blob_eq(&s.items[0].json, npf.p, npf.len) &&
	           blob_eq(&s.items[1].raw, m2.p, m2.len) &&
	           blob_eq(&s.items[1].json, two.p, two.len) &&
	           blob_eq(&s.items[2].raw, m3.p, m3.len) &&
	           has(s.items[2].error, "no TLS-RPT report part"),
	       "an mbox: three messages split on From_ lines, >From "
	       "un-quoted, each message byte-exact (%s)",
	       origins(&s));
	seen_reset(&s);
	s.stop_after = 1;
	rc = read_with(tmp("box.mbox"), &lim, &s);
	tap_ok(rc == 1 && s.n == 1,
	       "an mbox: SOURCE_STOP stops the walk after one message");
	seen_reset(&s);

	lim.messages_max = 3;
	rc = read_with(tmp("box.mbox"), &lim, &s);
	tap_ok(rc == 0 && s.n == 3,
	       "messages_max: an mbox of exactly the cap is read whole");
	seen_reset(&s);
	lim.messages_max = 2;
	rc = read_with(tmp("box.mbox"), &lim, &s);
	tap_ok(rc == 0 && s.n == 3 && s.items[1].has_json &&
	           tap_streq(origins(&s), "box.mbox#1 box.mbox#2 box.mbox#3") &&
	           has(s.items[2].error, "more than 2 messages"),
	       "messages_max: one over is an error item and the end");
	seen_reset(&s);
	source_limits_default(&lim);
	lim.input_max = m2.len;
	rc = read_with(tmp("box.mbox"), &lim, &s);
	tap_ok(rc == 0 && s.n == 3 && s.items[1].has_json,
	       "input_max: an mbox message of exactly the cap is read");
	seen_reset(&s);
	lim.input_max = m2.len - 1;
	rc = read_with(tmp("box.mbox"), &lim, &s);
	tap_ok(rc == 0 && s.n == 3 && s.items[0].has_json &&
	           !s.items[1].has_json && !s.items[1].has_raw &&
	           has(s.items[1].error, "passes the cap") &&
	           tap_streq(s.items[2].raw.p, m3text),
	       "input_max: an mbox message one over is refused, the next read");
	seen_reset(&s);

	/* The same mbox on stdin and in memory. */
	source_limits_default(&lim);
	fd = open(tmp("box.mbox"), O_RDONLY);
	saved = dup(STDIN_FILENO);
	dup2(fd, STDIN_FILENO);
	close(fd);
	rc = read_with("-", &lim, &s);
	dup2(saved, STDIN_FILENO);
	close(saved);
	tap_ok(rc == 0 && s.n == 3 && tap_streq(origins(&s), "-#1 -#2 -#3") &&
	           blob_eq(&s.items[2].raw, m3.p, m3.len),
	       "stdin: an mbox is streamed (%s)", origins(&s));
	seen_reset(&s);
	{
		struct blob box;
		char why[256];

		read_file(tmp("box.mbox"), &box);
		rc = source_read_buffer(box.p, box.len, "mem", NULL, &lim,
		                        collect, &s, why, sizeof(why));
		tap_ok(rc == 0 && s.n == 3 &&
		           tap_streq(origins(&s), "mem#1 mem#2 mem#3") &&
		           blob_eq(&s.items[1].raw, m2.p, m2.len),
		       "a buffer: an mbox is split the same (%s)", origins(&s));
		seen_reset(&s);
		blob_free(&box);
	}
	fd = open(tmp("plain/a.json.gz"), O_RDONLY);
	saved = dup(STDIN_FILENO);
	dup2(fd, STDIN_FILENO);
	close(fd);
	rc = read_with("-", &lim, &s);
	dup2(saved, STDIN_FILENO);
	close(saved);
	tap_ok(rc == 0 && s.n == 1 && tap_streq(s.items[0].origin, "-") &&
	           s.items[0].kind == SOURCE_GZIP && s.items[0].has_json,
	       "stdin: a .json.gz is sniffed and inflated");
	seen_reset(&s);
	blob_free(&m1);
	blob_free(&m2);
	blob_free(&npf);
	blob_free(&two);
}

static bool
big_mbox(const void *arg, char *note, size_t note_size)
{
	const struct blob *m1 = arg;
	struct source_limits lim;
	struct seen s = {0};
	bool ok;

	source_limits_default(&lim);
	lim.input_max = 1 * MiB;
	ok = read_with(tmp("big.mbox"), &lim, &s) == 0 && s.n == 3 &&
	    has(s.items[0].error, "passes the cap") &&
	    blob_eq(&s.items[1].raw, m1->p, m1->len) && s.items[1].has_json &&
	    has(s.items[2].error, "passes the cap");
	(void)snprintf(note, note_size, "%zu items", s.n);
	seen_reset(&s);
	return ok;
}

/*
 * A 64 MiB mbox whose first message is 60 MiB and whose last holds a
 * line of 4 MiB: streamed, it costs the per-message cap and a buffer,
 * never the file.
 */
static void
test_mbox_stream(void)
{
	struct blob m1 = data("mail/base64-gzip.eml");
	struct measure m;
	char line[1024];
	size_t i;
	FILE *f;

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	f = fopen(tmp("big.mbox"), "wb");
	fputs("From a@example.net Fri Sep 16 03:10:06 2022\nSubject: big\n\n",
	      f);
	for (i = 0; i < 60 * 1024; i++)
		fwrite(line, 1, sizeof(line), f);
	fputs("\n", f);
	mbox_append(f, &m1);
	fputs("From b@example.net Fri Sep 16 03:10:06 2022\nSubject: long\n\n",
	      f);
	for (i = 0; i < 4 * 1024; i++)
		fwrite(line, 1, sizeof(line) - 1, f);
	fclose(f);
	m = measure(big_mbox, &m1);
	tap_ok(m.ok,
	       "a 64 MiB mbox, 1 MiB cap: the 60 MiB message and the 4 MiB "
	       "line refused, the report between them read (%s)",
	       m.note);
	tap_ok(m.kib < 16 * 1024,
	       "a 64 MiB mbox streams: peak RSS grows by %ld KiB (< 16 MiB)",
	       m.kib);
	blob_free(&m1);
	(void)unlink(tmp("big.mbox"));
}

/*
 * GMime's process-wide state released at the end; GMime 3.2 cannot be
 * initialised again after that (GLib criticals and leaks): a mail read
 * later is an error item, never a crash.
 */
static void
test_shutdown(void)
{
	struct blob mail = data("mail/base64-gzip.eml");
	struct source_limits lim;
	struct seen s = {0};
	char why[256];
	int rc;

	source_limits_default(&lim);
	mime_shutdown();
	rc = source_read_buffer(mail.p, mail.len, "late", NULL, &lim, collect,
	                        &s, why, sizeof(why));
	tap_ok(rc == 0 && s.n == 1 && !s.items[0].has_json &&
	           has(s.items[0].error, "GMime was shut down"),
	       "after mime_shutdown() a mail is an error item");
	seen_reset(&s);
	mime_shutdown();
	blob_free(&mail);
}

static void
cleanup(void)
{
	char cmd[1200];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp_dir);
}

int
main(void)
{
	if ((data_dir = getenv("MTS_TEST_DATA")) == NULL) {
		tap_ok(false, "MTS_TEST_DATA is not set");
		return tap_done();
	}
	if (mkdtemp(tmp_dir) == NULL) {
		tap_ok(false, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	test_inflate();
	test_bomb();
	test_mails();
	test_content_types();
	test_caps();
	test_dirs();
	test_mbox();
	test_mbox_stream();
	cleanup();
	test_shutdown();
	return tap_done();
}
