/* SPDX-License-Identifier: ISC */
/*
 * socketmap_load: a load generator for Postfix socketmap servers
 * (socketmap_table(5)): mtasts policyd and postfix-mta-sts-resolver in
 * bench/policyd.sh.  One thread, one epoll set, N connections each
 * keeping D requests in flight (pipelined: replies come in request
 * order), so that the server, not the client, sets the pace.
 *
 *   build/bench/bench_socketmap_load -c 8 -d 64 -k keys.txt -r -t 10 \
 *       127.0.0.1:8461
 *   build/bench/bench_socketmap_load -n 100000 -K example.test \
 *       unix:/run/policyd.sock
 *   bench/socketmap_selftest.sh build     # against bench/socketmap_echo.py
 *
 * Requests are netstrings of "NAME KEY" (NAME from -m, "postfix" by
 * default); keys come from a file, one per line, taken in order or at
 * random (-r, seeded by -s: the same sequence each run), or one key
 * (-K).  Replies are parsed strictly, as mtasts does: no leading zero
 * in the length but for "0:", digits only, at most 100,000 octets, a
 * comma after the data; a status word and a space (`OK DATA`,
 * `NOTFOUND `, `TEMP R`, `TIMEOUT R`, `PERM R`).  A reply that is not
 * a netstring ends its connection (the stream cannot be trusted after
 * it): it and the requests still in flight there count as errors, and
 * the connection is made again.  A well-formed reply with another
 * status word is an error too.
 *
 * Latency is from the moment a request is queued for write(2) (written
 * at once but when the socket is full) to the read(2) that brings its
 * reply (CLOCK_MONOTONIC), in a histogram of log
 * buckets with 64 linear steps per power of two (within 1.6%).  Only
 * replies that arrive after the warm-up (-w) and before the end count.
 *
 * The last line of output is for scripts:
 *   qps=... p50_us=... p99_us=... max_us=... ok=... notfound=...
 *   temp=... perm=... timeout=... errors=... client_cpu=...
 * (client_cpu: this process's CPU seconds over the measured ones; near
 * 1.0 the client may be what sets the pace).
 * Exit status: 0 the run ended (errors or not: the line says), 1 it
 * could not start or stalled (no reply for -T seconds), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX    100000 /* octets of a reply's data (mtasts' cap) */
#define QUERY_MAX    10000  /* octets of a request's data */
#define RBUF_SIZE    (2 * (REPLY_MAX + 16))
#define SUB_BITS     6 /* 64 linear steps per power of two */
#define SUB_COUNT    (1u << SUB_BITS)
#define HIST_BUCKETS (64u * SUB_COUNT)

enum kind { K_OK, K_NOTFOUND, K_TEMP, K_PERM, K_TIMEOUT, K_UNKNOWN, K_N };

struct conn {
	int fd;
	uint64_t *sent; /* send times of the requests in flight */
	unsigned head;  /* the oldest one in sent[] */
	unsigned inflight;
	char *rbuf; /* replies read, not yet parsed */
	size_t rlen;
	char *wbuf; /* requests not yet written */
	size_t wlen, woff;
	bool want_out; /* EPOLLOUT registered */
};

struct key {
	char *wire; /* the request as a netstring */
	size_t len;
};

static struct {
	const char *target;
	const char *keyfile;
	const char *onekey;
	const char *name;
	unsigned conns, depth;
	bool random;
	uint64_t seed;
	double duration, warmup, stall;
	uint64_t limit; /* requests to send in all; 0: by duration */
} opt = {NULL, NULL, NULL, "postfix", 8, 64, false, 1, 10.0, 0.0, 10.0, 0};

static struct key *keys;
static size_t nkeys;
static uint64_t next_key, rng;
static uint64_t sent_total;
static uint64_t resolved; /* requests answered, malformed or lost */

static uint64_t hist[HIST_BUCKETS];
static uint64_t lat_max, lat_count;
static uint64_t kinds[K_N];
static uint64_t malformed, lost, reconnects;
static bool measuring;
static double cpu_start; /* this process's CPU seconds when measuring began */

static int epfd;
static struct conn *conns; /* here, not in main(): reachable to the end */
static struct sockaddr_storage peer;
static socklen_t peerlen;

static void
usage(void)
{
	fprintf(stderr,
	        "usage: bench_socketmap_load [-r] [-c conns] [-d depth] "
	        "[-K key | -k keyfile] [-m name]\n"
	        "           [-n count | -t seconds] [-s seed] [-T stall] "
	        "[-w warmup] host:port | unix:path\n");
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU seconds of this process, user and system. */
static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n, size)) == NULL) {
		perror("calloc");
		exit(1);
	}
	return p;
}

/*
 * The histogram: values below 64 ns have a bucket each; above, the
 * power of two and the 6 bits after the leading one pick the bucket.
 */
static unsigned
bucket_of(uint64_t v)
{
	unsigned e;

	if (v < SUB_COUNT)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return (e - SUB_BITS + 1) * SUB_COUNT +
	    (unsigned)((v >> (e - SUB_BITS)) & (SUB_COUNT - 1));
}

/* The middle of bucket b, in ns. */
static double
bucket_mid(unsigned b)
{
	unsigned e, sub;
	double lo, width;

	if (b < SUB_COUNT)
		return (double)b;
	e = b / SUB_COUNT + SUB_BITS - 1;
	sub = b % SUB_COUNT;
	width = (double)(1ull << (e - SUB_BITS));
	lo = (double)(SUB_COUNT + sub) * width;
	return lo + width / 2;
}

static void
record(uint64_t ns)
{
	hist[bucket_of(ns)]++;
	lat_count++;
	if (ns > lat_max)
		lat_max = ns;
}

/* The q-quantile (0 < q <= 1) of the latencies, in microseconds. */
static double
quantile_us(double q)
{
	uint64_t want, seen = 0;
	unsigned b;
	double v;

	if (lat_count == 0)
		return 0;
	want = (uint64_t)(q * (double)lat_count + 0.999999);
	if (want == 0)
		want = 1;
	for (b = 0; b < HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= want)
			break;
	}
	v = bucket_mid(b);
	if (v > (double)lat_max)
		v = (double)lat_max;
	return v / 1000.0;
}

/*
 * One netstring at p[0..n): 1 with *off and *len the data's place and
 * *total the octets it takes, 0 when more input is needed, -1 when it
 * is not a netstring mtasts accepts.
 */
static int
netstring_parse(const char *p, size_t n, size_t *off, size_t *len,
                size_t *total)
{
	size_t i, v = 0;

	for (i = 0; i < n && p[i] != ':'; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (i == 1 && p[0] == '0')
			return -1; /* a leading zero */
		v = v * 10 + (size_t)(p[i] - '0');
		if (v > REPLY_MAX)
			return -1;
	}
	if (i == n)
		return 0;
	if (i == 0)
		return -1; /* no length */
	if (n - i - 1 < v + 1)
		return 0;
	if (p[i + 1 + v] != ',')
		return -1;
	*off = i + 1;
	*len = v;
	*total = i + 1 + v + 1;
	return 1;
}

/* The kind of a reply's data: its status word, which a space ends. */
static int
reply_kind(const char *d, size_t len)
{
	static const struct {
		const char *word;
		enum kind kind;
	} words[] = {{"OK ", K_OK},
	             {"NOTFOUND ", K_NOTFOUND},
	             {"TEMP ", K_TEMP},
	             {"PERM ", K_PERM},
	             {"TIMEOUT ", K_TIMEOUT}};
	size_t i, w;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		w = strlen(words[i].word);
		if (len >= w && memcmp(d, words[i].word, w) == 0)
			return words[i].kind;
	}
	return K_UNKNOWN;
}

static void
xorshift_seed(uint64_t s)
{
	rng = s * 0x9e3779b97f4a7c15ull + 1;
}

static uint64_t
xorshift(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static const struct key *
pick_key(void)
{
	if (opt.random)
		return &keys[xorshift() % nkeys];
	return &keys[next_key++ % nkeys];
}

static void
add_key(const char *k, size_t klen)
{
	static size_t cap;
	size_t dlen;
	int n;

	if (klen == 0)
		return;
	dlen = strlen(opt.name) + 1 + klen;
	if (dlen > QUERY_MAX) {
		fprintf(stderr,
		        "socketmap_load: a key of %zu octets is over "
		        "the query cap\n",
		        klen);
		exit(1);
	}
	if (nkeys == cap) {
		cap = cap == 0 ? 1024 : cap * 2;
		if ((keys = realloc(keys, cap * sizeof(*keys))) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	keys[nkeys].wire = xcalloc(1, dlen + 16);
	n = snprintf(keys[nkeys].wire, dlen + 16, "%zu:%s %.*s,", dlen,
	             opt.name, (int)klen, k);
	keys[nkeys].len = (size_t)n;
	nkeys++;
}

static void
load_keys(void)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (opt.onekey != NULL) {
		add_key(opt.onekey, strlen(opt.onekey));
		return;
	}
	if ((f = fopen(opt.keyfile, "r")) == NULL) {
		perror(opt.keyfile);
		exit(1);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		while (n > 0 &&
		       (line[n - 1] == '\n' || line[n - 1] == '\r' ||
		        line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		add_key(line, (size_t)n);
	}
	free(line);
	fclose(f);
	if (nkeys == 0) {
		fprintf(stderr, "socketmap_load: no keys in %s\n", opt.keyfile);
		exit(1);
	}
}

/* host:port, [v6]:port or unix:path into peer. */
static void
resolve_target(void)
{
	struct addrinfo hints, *res;
	char host[256];
	const char *t = opt.target, *colon, *port;
	struct sockaddr_un *sun;
	size_t hl;
	int e;

	if (strncmp(t, "unix:", 5) == 0) {
		sun = (struct sockaddr_un *)&peer;
		memset(sun, 0, sizeof(*sun));
		sun->sun_family = AF_UNIX;
		if (strlen(t + 5) >= sizeof(sun->sun_path)) {
			fprintf(stderr, "socketmap_load: path too long\n");
			exit(2);
		}
		strcpy(sun->sun_path, t + 5);
		peerlen = sizeof(*sun);
		return;
	}
	if ((colon = strrchr(t, ':')) == NULL)
		usage();
	port = colon + 1;
	hl = (size_t)(colon - t);
	if (hl >= 2 && t[0] == '[' && t[hl - 1] == ']') {
		t++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		usage();
	memcpy(host, t, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "socketmap_load: %s: %s\n", opt.target,
		        gai_strerror(e));
		exit(1);
	}
	memcpy(&peer, res->ai_addr, res->ai_addrlen);
	peerlen = res->ai_addrlen;
	freeaddrinfo(res);
}

/* Connects c (blocking: loopback), then makes it non-blocking. */
static int
conn_open(struct conn *c)
{
	struct epoll_event ev;
	int fd, one = 1;

	if ((fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&peer, peerlen) == -1)
		goto fail;
	if (peer.ss_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		                 sizeof(one));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto fail;
	c->fd = fd;
	c->head = c->inflight = 0;
	c->rlen = c->wlen = c->woff = 0;
	c->want_out = false;
	return 0;
fail:
	close(fd);
	return -1;
}

/*
 * Drops c's connection after a reply that is not a netstring, an end
 * of stream or an error: what was in flight is lost.  Then connects
 * again.  -1 when that fails.
 */
static int
conn_reset(struct conn *c, const char *why)
{
	static unsigned said;

	if (said++ < 5)
		fprintf(stderr, "socketmap_load: connection reset: %s\n", why);
	if (measuring)
		lost += c->inflight;
	resolved += c->inflight;
	close(c->fd); /* also takes it out of the epoll set */
	c->fd = -1;
	reconnects++;
	return conn_open(c);
}

static void
set_out(struct conn *c, bool on)
{
	struct epoll_event ev;

	if (c->want_out == on)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
	ev.data.ptr = c;
	(void)epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = on;
}

/* Writes what is pending; -1 on a write error. */
static int
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->woff < c->wlen) {
		n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1)
			return -1;
		c->woff += (size_t)n;
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	set_out(c, c->wlen != 0);
	return 0;
}

/* Tops c up to opt.depth requests in flight, then writes them. */
static int
conn_fill(struct conn *c)
{
	const struct key *k;
	uint64_t t;
	size_t room;

	if (c->woff != 0) { /* a partial write before: compact */
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
	}
	t = now_ns();
	while (c->inflight < opt.depth &&
	       (opt.limit == 0 || sent_total < opt.limit)) {
		k = pick_key();
		room = (size_t)opt.depth * (QUERY_MAX + 16) - c->wlen;
		if (k->len > room)
			break;
		memcpy(c->wbuf + c->wlen, k->wire, k->len);
		c->wlen += k->len;
		c->sent[(c->head + c->inflight) % opt.depth] = t;
		c->inflight++;
		sent_total++;
	}
	return conn_flush(c);
}

/*
 * Reads what came and takes every complete reply.  *done counts the
 * replies; -1 when the connection was reset and could not be made
 * again.
 */
static int
conn_read(struct conn *c, uint64_t *done)
{
	size_t off, len, total, pos = 0;
	uint64_t t;
	ssize_t n;
	int r;

	n = read(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return conn_reset(c,
		                  n == 0 ? "end of stream" : strerror(errno));
	t = now_ns();
	c->rlen += (size_t)n;
	for (;;) {
		r = netstring_parse(c->rbuf + pos, c->rlen - pos, &off, &len,
		                    &total);
		if (r == 0)
			break;
		if (r == -1 || c->inflight == 0) {
			/* This reply is its request's: the rest are lost. */
			if (c->inflight != 0) {
				c->inflight--;
				resolved++;
			}
			if (measuring)
				malformed++;
			return conn_reset(c,
			                  r == -1 ? "a malformed reply" :
			                            "a reply to no request");
		}
		if (measuring) {
			kinds[reply_kind(c->rbuf + pos + off, len)]++;
			record(t - c->sent[c->head]);
		}
		c->head = (c->head + 1) % opt.depth;
		c->inflight--;
		resolved++;
		(*done)++;
		pos += total;
	}
	if (pos != 0) {
		memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
		c->rlen -= pos;
	}
	return 0;
}

static double
parse_num(const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

static void
print_summary(double secs, uint64_t replies)
{
	uint64_t errors;
	double qps, busy;

	errors = kinds[K_UNKNOWN] + malformed + lost;
	qps = secs > 0 ? (double)replies / secs : 0;
	busy = secs > 0 ? (cpu_now() - cpu_start) / secs : 0;
	printf("socketmap_load: %s, %u connections x %u pipelined, %zu keys "
	       "(%s), map \"%s\"\n",
	       opt.target, opt.conns, opt.depth, nkeys,
	       opt.random ? "random" : "in order", opt.name);
	printf("measured %.2f s (after %.1f s of warm-up): %" PRIu64
	       " replies, %.0f lookups/s\n",
	       secs, opt.warmup, replies, qps);
	printf("latency: p50 %.1f us, p90 %.1f us, p99 %.1f us, p99.9 %.1f "
	       "us, max %.1f us\n",
	       quantile_us(0.5), quantile_us(0.9), quantile_us(0.99),
	       quantile_us(0.999), (double)lat_max / 1000.0);
	printf("replies: OK %" PRIu64 ", NOTFOUND %" PRIu64 ", TEMP %" PRIu64
	       ", PERM %" PRIu64 ", TIMEOUT %" PRIu64 "; errors %" PRIu64
	       " (other status %" PRIu64 ", malformed %" PRIu64
	       ", lost in flight %" PRIu64 "), reconnects %" PRIu64 "\n",
	       kinds[K_OK], kinds[K_NOTFOUND], kinds[K_TEMP], kinds[K_PERM],
	       kinds[K_TIMEOUT], errors, kinds[K_UNKNOWN], malformed, lost,
	       reconnects);
	/* Near 100% the client, not the server, may be setting the pace. */
	printf("load generator: %.0f%% of a core\n", busy * 100);
	printf("qps=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f ok=%" PRIu64
	       " notfound=%" PRIu64 " temp=%" PRIu64 " perm=%" PRIu64
	       " timeout=%" PRIu64 " errors=%" PRIu64 " client_cpu=%.2f\n",
	       qps, quantile_us(0.5), quantile_us(0.99),
	       (double)lat_max / 1000.0, kinds[K_OK], kinds[K_NOTFOUND],
	       kinds[K_TEMP], kinds[K_PERM], kinds[K_TIMEOUT], errors, busy);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[64];
	uint64_t t0, t_start, t_end = 0, last_reply, now, done = 0;
	uint64_t counted = 0;
	bool timed;
	unsigned i;
	int ch, n, j, wait_ms;

	while ((ch = getopt(argc, argv, "c:d:K:k:m:n:rs:T:t:w:")) != -1) {
		switch (ch) {
		case 'c':
			opt.conns = (unsigned)parse_num(optarg, 1, 10000);
			break;
		case 'd':
			opt.depth = (unsigned)parse_num(optarg, 1, 100000);
			break;
		case 'K':
			opt.onekey = optarg;
			break;
		case 'k':
			opt.keyfile = optarg;
			break;
		case 'm':
			opt.name = optarg;
			break;
		case 'n':
			opt.limit = (uint64_t)parse_num(optarg, 1, 1e15);
			break;
		case 'r':
			opt.random = true;
			break;
		case 's':
			opt.seed = (uint64_t)parse_num(optarg, 0, 1e18);
			break;
		case 'T':
			opt.stall = parse_num(optarg, 0.001, 86400);
			break;
		case 't':
			opt.duration = parse_num(optarg, 0.001, 86400);
			break;
		case 'w':
			opt.warmup = parse_num(optarg, 0, 86400);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || (opt.keyfile == NULL) == (opt.onekey == NULL))
		usage();
	if (opt.limit != 0 && opt.warmup != 0)
		usage(); /* a count is a count: no warm-up to leave out */
	opt.target = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	xorshift_seed(opt.seed);
	load_keys();
	resolve_target();
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("epoll_create1");
		return 1;
	}
	conns = xcalloc(opt.conns, sizeof(*conns));
	for (i = 0; i < opt.conns; i++) {
		conns[i].sent = xcalloc(opt.depth, sizeof(uint64_t));
		conns[i].rbuf = xcalloc(1, RBUF_SIZE);
		conns[i].wbuf = xcalloc(opt.depth, QUERY_MAX + 16);
		if (conn_open(&conns[i]) == -1) {
			fprintf(stderr, "socketmap_load: %s: %s\n", opt.target,
			        strerror(errno));
			return 1;
		}
	}
	timed = opt.limit == 0;
	t0 = now_ns();
	t_start = t0 + (uint64_t)(opt.warmup * 1e9);
	if (timed)
		t_end = t_start + (uint64_t)(opt.duration * 1e9);
	measuring = opt.warmup == 0;
	cpu_start = cpu_now();
	last_reply = t0;
	for (i = 0; i < opt.conns; i++)
		if (conn_fill(&conns[i]) == -1)
			(void)conn_reset(&conns[i], strerror(errno));
	for (;;) {
		now = now_ns();
		if (!measuring && now >= t_start) {
			measuring = true;
			counted = done;
			cpu_start = cpu_now();
		}
		if (timed && now >= t_end)
			break;
		if (!timed && resolved >= opt.limit)
			break;
		if (now - last_reply > (uint64_t)(opt.stall * 1e9)) {
			fprintf(stderr, "socketmap_load: no reply for %.1f s\n",
			        opt.stall);
			print_summary((double)(now - t_start) / 1e9,
			              done - counted);
			return 1;
		}
		wait_ms = 100;
		if (timed && (t_end - now) / 1000000u < 100)
			wait_ms = (int)((t_end - now) / 1000000u) + 1;
		n = epoll_wait(epfd, evs, 64, wait_ms);
		if (n == -1 && errno != EINTR) {
			perror("epoll_wait");
			return 1;
		}
		for (j = 0; j < n; j++) {
			struct conn *c = evs[j].data.ptr;
			uint64_t before = done;

			if (c->fd == -1)
				continue;
			if (evs[j].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				if (conn_read(c, &done) == -1) {
					fprintf(stderr,
					        "socketmap_load: "
					        "cannot reconnect: "
					        "%s\n",
					        strerror(errno));
					return 1;
				}
			}
			if (done != before)
				last_reply = now_ns();
			if (conn_fill(c) == -1 &&
			    conn_reset(c, strerror(errno)) == -1) {
				fprintf(stderr,
				        "socketmap_load: cannot "
				        "reconnect: %s\n",
				        strerror(errno));
				return 1;
			}
		}
	}
	now = now_ns();
	if (timed)
		now = t_end;
	print_summary((double)(now - t_start) / 1e9, done - counted);
	return 0;
}
