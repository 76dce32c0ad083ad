/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/serve/bundle.c, the encoding of the checked configuration
 * set that the privileged parent sends to the server process: a table of
 * hand-made encodings (good ones, then one row per way to be wrong),
 * the layout of a known set byte for byte, round trips of sets built
 * here, every truncation and a few bytes more of each good encoding,
 * every one-byte change, the BUNDLE_MAX cap on both sides, and
 * bundle_free() on zeroed and half-built sets.
 *
 * Each input is decoded from a heap block of exactly its size, so that
 * ASan catches a read one byte past the end.  Where the linker has --wrap
 * (tests/meson.build), malloc, calloc, realloc and free go through the
 * counters below: a failed decode or encode must leave nothing allocated;
 * no decode may ask for more than a few bytes per input byte (a count of
 * 2^32 - 1 in a short buffer is refused before anything is allocated for
 * it); each allocation is failed once in turn (the OOM run of STYLE.md
 * rule 17); and a key must be all zero when it is freed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "serve.h"
#include "tap.h"

/* ---- the allocator, counted and failed on demand ---- */

#ifdef TEST_WRAP_ALLOC
#define HAVE_HEAP true
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
#else
#define HAVE_HEAP false
#endif

/* Requests over this fail while counting: a bug shows as a test failure,
 * not as an out-of-memory crash. */
#define HEAP_REFUSE (64u * 1024u * 1024u)

/* What the allocator saw while `on`, since heap_begin(). */
static struct {
	bool on;
	unsigned calls;   /* allocations asked for */
	unsigned fail_at; /* the one (from 1) that returns NULL; 0: none */
	long live;        /* blocks allocated minus blocks freed */
	size_t max;       /* the largest request, in bytes */
	const unsigned char *watch; /* a block that must be zero when freed */
	size_t watch_len;
	bool watch_freed, watch_zero;
} heap;

static void
heap_begin(unsigned fail_at)
{
	heap.calls = 0;
	heap.fail_at = fail_at;
	heap.live = 0;
	heap.max = 0;
	heap.on = true;
}

#ifdef TEST_WRAP_ALLOC
/* Counts a request of n bytes; false when it is to fail. */
static bool
heap_request(size_t n)
{
	if (!heap.on)
		return true;
	heap.calls++;
	if (n > heap.max)
		heap.max = n;
	return heap.calls != heap.fail_at && n <= HEAP_REFUSE;
}

void *
__wrap_malloc(size_t n)
{
	void *p;

	if (!heap_request(n))
		return NULL;
	if ((p = __real_malloc(n)) != NULL && heap.on)
		heap.live++;
	return p;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (!heap_request(size != 0 && n > SIZE_MAX / size ? SIZE_MAX :
	                                                     n * size))
		return NULL;
	if ((p = __real_calloc(n, size)) != NULL && heap.on)
		heap.live++;
	return p;
}

void *
__wrap_realloc(void *old, size_t n)
{
	void *p;

	if (!heap_request(n))
		return NULL;
	if ((p = __real_realloc(old, n)) != NULL && old == NULL && heap.on)
		heap.live++;
	return p;
}

void
__wrap_free(void *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p == heap.watch) {
		heap.watch_freed = true;
		heap.watch_zero = true;
		for (i = 0; i < heap.watch_len; i++)
			if (heap.watch[i] != 0)
				heap.watch_zero = false;
	}
	if (heap.on)
		heap.live--;
	__real_free(p);
}
#endif

/* The most a decode of len bytes may ask for at once: a pair takes 8
 * bytes of input at least and sizeof(struct bundle_pair) in memory. */
static size_t
alloc_bound(size_t len)
{
	return (sizeof(struct bundle_pair) / 8 + 1) * len + 16;
}

/* ---- helpers ---- */

static bool
is_zeroed(const struct bundle *b)
{
	static const struct bundle zero;

	return memcmp(b, &zero, sizeof(zero)) == 0;
}

/*
 * Decodes a heap copy of exactly len bytes into *b, which is filled with
 * garbage first (decode must not read it), counting allocations and
 * failing the fail_at-th.  Counting stops on return.
 */
static int
decode_copy(const void *in, size_t len, struct bundle *b, unsigned fail_at)
{
	uint8_t *copy;
	int rc;

	if ((copy = malloc(len == 0 ? 1 : len)) == NULL)
		abort();
	if (len != 0)
		memcpy(copy, in, len);
	memset(b, 0x5A, sizeof(*b));
	heap_begin(fail_at);
	rc = bundle_decode(copy, len, b);
	heap.on = false;
	free(copy);
	return rc;
}

/* Frees b while counting; true when that leaves nothing allocated. */
static bool
free_counted(struct bundle *b)
{
	heap.on = true;
	bundle_free(b);
	heap.on = false;
	return heap.live == 0 && is_zeroed(b);
}

/* A decoded string: a copy of n bytes with a NUL after them. */
static bool
same_str(const char *got, size_t got_len, const char *want, size_t want_len)
{
	return got != NULL && want != NULL && got_len == want_len &&
	    memcmp(got, want, want_len) == 0 && got[got_len] == '\0';
}

static bool
same_bundle(const struct bundle *got, const struct bundle *want)
{
	const char *cc = want->cache_control;
	size_t i;

	if (got->cache_control == NULL ||
	    !same_str(got->cache_control, strlen(got->cache_control), cc,
	              strlen(cc)) ||
	    got->max_connections != want->max_connections ||
	    got->idle_timeout != want->idle_timeout ||
	    got->read_timeout != want->read_timeout ||
	    got->generation != want->generation ||
	    got->pair_count != want->pair_count ||
	    got->domain_count != want->domain_count ||
	    got->http01_listeners != want->http01_listeners)
		return false;
	for (i = 0; i < want->pair_count; i++) {
		const struct bundle_pair *g = &got->pairs[i],
					 *w = &want->pairs[i];

		if (!same_str(g->cert_pem, g->cert_len, w->cert_pem,
		              w->cert_len) ||
		    !same_str(g->key_pem, g->key_len, w->key_pem, w->key_len))
			return false;
	}
	for (i = 0; i < want->domain_count; i++) {
		const struct bundle_domain *g = &got->domains[i];
		const struct bundle_domain *w = &want->domains[i];

		if (g->name == NULL || strcmp(g->name, w->name) != 0 ||
		    !same_str(g->policy, g->policy_len, w->policy,
		              w->policy_len) ||
		    g->pair != w->pair)
			return false;
	}
	if ((got->report_path == NULL) != (want->report_path == NULL))
		return false;
	if (want->report_path == NULL)
		return got->report_host_count == 0;
	if (strcmp(got->report_path, want->report_path) != 0 ||
	    got->report_max_body != want->report_max_body ||
	    got->report_queue != want->report_queue ||
	    got->report_host_count != want->report_host_count)
		return false;
	for (i = 0; i < want->report_host_count; i++)
		if (got->report_hosts[i].name == NULL ||
		    strcmp(got->report_hosts[i].name,
		           want->report_hosts[i].name) != 0 ||
		    got->report_hosts[i].pair != want->report_hosts[i].pair)
			return false;
	return true;
}

/* Encodes b, which must work; the bytes are the caller's to free. */
static uint8_t *
encode_or_die(const struct bundle *b, size_t *len)
{
	uint8_t *out;

	if (bundle_encode(b, &out, len) != 0) {
		tap_diag("bundle_encode failed");
		abort();
	}
	return out;
}

/* ---- hand-made encodings ---- */

/* Big-endian u32s, in three-digit octal escapes: one cannot run into the
 * text after it, as a hex escape can. */
#define U0   "\000\000\000\000"
#define U1   "\000\000\000\001"
#define U2   "\000\000\000\002"
#define UMAX "\377\377\377\377"

#define MAGIC    "MTSB"
#define V1       MAGIC U1
#define CC       "\000\000\000\013max-age=300"
/* max-connections 10, idle 60, read 10, generation 7 */
#define NUMS     "\000\000\000\012\000\000\000\074\000\000\000\012\000\000\000\007"
#define HEAD     V1 CC NUMS
#define PAIR     "\000\000\000\003crt\000\000\000\003key"
/* A domain on the pair whose index is the u32 p. */
#define DOM(p)   "\000\000\000\013example.com\000\000\000\006policy" p
#define DOM2(p)  "\000\000\000\013example.net\000\000\000\006policy" p
#define ONE_ONE  HEAD U1 PAIR U1 DOM(U0)
/* Version 2: one pair, one domain, then the report receiver. */
#define V2       MAGIC U2 CC NUMS U1 PAIR U1 DOM(U0)
#define RPATH    "\000\000\000\007/tlsrpt\000\001\000\000\000\000\000\020"
#define RHOST(p) "\000\000\000\022tlsrpt.example.com" p
/* Version 3: one pair, one domain, then the report flag and the rest. */
#define V3       MAGIC "\000\000\000\003" CC NUMS U1 PAIR U1 DOM(U0)

/* A byte string and its length, NULs included. */
#define B(s) s, sizeof(s) - 1

static const struct decode_case {
	const char *name;
	const char *in;
	size_t len;
	int want; /* 0 or -1 */
} cases[] = {
    {"ok: no pairs, no domains", B(HEAD U0 U0), 0},
    {"ok: one pair, one domain", B(ONE_ONE), 0},
    {"ok: two domains on the second of two pairs",
     B(HEAD U2 PAIR PAIR U2 DOM(U1) DOM2(U1)), 0},
    {"ok: every string empty, every number 0",
     B(V1 U0 U0 U0 U0 U0 U1 U0 U0 U1 U0 U0 U0), 0},
    {"ok: every number 2^32 - 1", B(V1 CC UMAX UMAX UMAX UMAX U0 U0), 0},
    {"ok: NUL and 0xff in certificate, key and policy",
     B(HEAD U1 "\000\000\000\003\000\377\n\000\000\000\001\000" U1
               "\000\000\000\001x\000\000\000\002\r\000" U0),
     0},

    /* Magic and version. */
    {"empty input", B(""), -1},
    {"three bytes of magic", B("MTS"), -1},
    {"magic only", B(MAGIC), -1},
    {"magic and version only", B(V1), -1},
    {"bad magic", B("MTSC" U1 CC NUMS U0 U0), -1},
    {"magic in lower case", B("mtsb" U1 CC NUMS U0 U0), -1},
    {"version 0", B(MAGIC U0 CC NUMS U0 U0), -1},
    {"version 2", B(MAGIC U2 CC NUMS U0 U0), -1},
    {"version 2^32 - 1", B(MAGIC UMAX CC NUMS U0 U0), -1},
    {"version 1 little-endian", B(MAGIC "\001\000\000\000" CC NUMS U0 U0), -1},

    /* Lengths. */
    {"policy runs one byte past the end",
     B(HEAD U1 PAIR U1 "\000\000\000\013example.com\000\000\000\013policy" U0),
     -1},
    {"cache-control length 2^32 - 1", B(V1 UMAX "max-age=300" NUMS U0 U0), -1},
    {"certificate length 2^32 - 1", B(HEAD U1 UMAX "crt\000\000\000\003key" U0),
     -1},
    {"key length 2^31", B(HEAD U1 "\000\000\000\003crt\200\000\000\000key" U0),
     -1},
    {"name length 2^32 - 1",
     B(HEAD U1 PAIR U1 UMAX "example.com\000\000\000\006policy" U0), -1},
    {"policy length 2^32 - 1",
     B(HEAD U1 PAIR U1 "\000\000\000\013example.com" UMAX "policy" U0), -1},

    /* Strings used as C strings: no NUL inside. */
    {"a NUL inside the domain name",
     B(HEAD U1 PAIR U1
       "\000\000\000\013example\000com\000\000\000\006policy" U0),
     -1},
    {"a NUL inside the Cache-Control value",
     B(V1 "\000\000\000\013max-age\000300" NUMS U0 U0), -1},
    {"a NUL at the end of the domain name",
     B(HEAD U1 PAIR U1
       "\000\000\000\014example.com\000\000\000\000\006policy" U0),
     -1},

    /* Counts. */
    {"pair count missing", B(HEAD), -1},
    {"domain count missing", B(HEAD U0), -1},
    {"pair count 2^32 - 1 in a short buffer", B(HEAD UMAX PAIR U0), -1},
    {"pair count 2^29: 2^32 bytes of pairs", B(HEAD "\040\000\000\000" PAIR U0),
     -1},
    {"pair count one more than there are", B(HEAD U2 PAIR U0), -1},
    {"a pair that eats the domain count", B(HEAD U1 U0 U0), -1},
    {"domain count 2^32 - 1 in a short buffer", B(HEAD U1 PAIR UMAX DOM(U0)),
     -1},
    {"domain count 2^30: 2^32 bytes of domains",
     B(HEAD U1 PAIR "\100\000\000\000" DOM(U0)), -1},
    {"domain count one more than there are", B(HEAD U1 PAIR U2 DOM(U0)), -1},

    /* Pair indexes. */
    {"domain on pair 1 of 1", B(HEAD U1 PAIR U1 DOM(U1)), -1},
    {"domain on pair 0 with no pairs", B(HEAD U0 U1 DOM(U0)), -1},
    {"domain on pair 2^32 - 1", B(HEAD U1 PAIR U1 DOM(UMAX)), -1},
    {"second domain on pair 2 of 2", B(HEAD U2 PAIR PAIR U2 DOM(U0) DOM2(U2)),
     -1},

    /* Version 2, the report receiver (RFC 8460 §5.4). */
    {"ok: version 2, one report host", B(V2 RPATH U1 RHOST(U0)), 0},
    {"ok: version 2, two report hosts", B(V2 RPATH U2 RHOST(U0) RHOST(U0)), 0},
    {"version 2 without its report section", B(V2), -1},
    {"version 2 with no report host", B(V2 RPATH U0), -1},
    {"version 2, a report host on pair 1 of 1", B(V2 RPATH U1 RHOST(U1)), -1},
    {"version 2, host count one more than there are", B(V2 RPATH U2 RHOST(U0)),
     -1},
    {"version 2, a NUL in the report path",
     B(V2 "\000\000\000\007/tls\000pt\000\001\000\000\000\000\000\020" U1 RHOST(
	 U0)),
     -1},
    {"version 2, a byte after the end", B(V2 RPATH U1 RHOST(U0) "\0"), -1},
    {"version 1 with a report section after it", B(ONE_ONE RPATH U1 RHOST(U0)),
     -1},

    /* Version 3, the HTTP-01 listeners (acme-http-listen). */
    {"ok: version 3, no receiver, one listener", B(V3 U0 U1), 0},
    {"ok: version 3, no receiver, four listeners", B(V3 U0 "\000\000\000\004"),
     0},
    {"ok: version 3 with a receiver", B(V3 U1 RPATH U1 RHOST(U0) U2), 0},
    {"version 3, no listener", B(V3 U0 U0), -1},
    {"version 3, five listeners", B(V3 U0 "\000\000\000\005"), -1},
    {"version 3, listeners 2^32 - 1", B(V3 U0 UMAX), -1},
    {"version 3, receiver flag 2", B(V3 U2 RPATH U1 RHOST(U0) U1), -1},
    {"version 3, receiver flag without its section", B(V3 U1 U1), -1},
    {"version 3 without its tail", B(V3), -1},
    {"version 3 without the listener count", B(V3 U0), -1},
    {"version 3, a byte after the end", B(V3 U0 U1 "\0"), -1},
    {"version 2 with a version 3 tail", B(V2 U0 U1), -1},

    /* Trailing bytes: the encoding delimits itself. */
    {"one byte after the end", B(ONE_ONE "\0"), -1},
    {"a count after the end", B(ONE_ONE U0), -1},
    {"a second set after the end", B(ONE_ONE ONE_ONE), -1},
};

static void
check_cases(void)
{
	const struct decode_case *c;
	struct bundle b;
	uint8_t *out;
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		rc = decode_copy(c->in, c->len, &b, 0);
		if (!tap_ok(rc == c->want && heap.max <= alloc_bound(c->len) &&
		                (rc == 0 || (is_zeroed(&b) && heap.live == 0)),
		            "decode: %s", c->name))
			tap_diag("rc %d, want %d; largest allocation %zu; "
			         "%ld blocks left",
			         rc, c->want, heap.max, heap.live);
		if (rc != 0)
			continue;
		out = encode_or_die(&b, &len);
		tap_ok(len == c->len && memcmp(out, c->in, len) == 0 &&
		           free_counted(&b),
		       "re-encode: %s: the same bytes", c->name);
		free(out);
	}
}

/* ---- sets built here ---- */

static char cert0[] = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n"
		      "-----END CERTIFICATE-----\n";
static char key0[] = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIE\n"
		     "-----END PRIVATE KEY-----\n";
static char binary[] = {'a', '\0', '\377', '\n', 'b'}; /* no NUL after */
static char empty[] = "";
static char policy0[] = "version: STSv1\r\nmode: enforce\r\n"
			"mx: mx.example.com\r\nmax_age: 86400\r\n";
static char policy_nul[] = "version: STSv1\0mode: none\n";
static char crt[] = "crt", key[] = "key", policy[] = "policy";
static char cc300[] = "max-age=300";
static char cc_long[] = "max-age=31557600, public, immutable, "
			"stale-while-revalidate=86400, "
			"stale-if-error=604800, no-transform";
static char example_com[] = "example.com", example_net[] = "example.net";
static char example_org[] = "example.org", example_de[] = "xn--bcher-kva.de";

#define LEN(a) (sizeof(a) - 1)

static struct bundle_pair one_pair[] = {{crt, 3, key, 3}};
static struct bundle_domain one_domain[] = {{example_com, policy, 6, 0}};

/* The set of the ONE_ONE row. */
static const struct bundle one = {cc300,    10, 60,         10, 7,
                                  one_pair, 1,  one_domain, 1,  NULL,
                                  0,        0,  NULL,       0,  0};

static const struct bundle nothing = {empty, 0,    0, 0, 0,    NULL, 0, NULL,
                                      0,     NULL, 0, 0, NULL, 0,    0};

static struct bundle_pair pairs3[] = {
    {cert0, LEN(cert0), key0, LEN(key0)},
    {empty, 0, empty, 0},
    {binary, sizeof(binary), binary, sizeof(binary)},
};
static struct bundle_domain domains5[] = {
    {example_com, policy0, LEN(policy0), 2},
    {example_net, policy_nul, LEN(policy_nul), 0},
    {empty, empty, 0, 1},
    {example_org, binary, sizeof(binary), 2},
    {example_de, policy0, LEN(policy0), 0},
};

/* Several pairs and domains, empty strings, binary bytes. */
static const struct bundle several = {cc300,  10000, 60,       10, 3,
                                      pairs3, 3,     domains5, 5,  NULL,
                                      0,      0,     NULL,     0,  0};

/* Version 2: the report receiver (RFC 8460 §5.4) on two names. */
static char tlsrpt_path[] = "/tlsrpt", host_a[] = "tlsrpt.example.com";
static char host_b[] = "mta-sts.example.net";
static struct bundle_report_host report_hosts2[] = {{host_a, 2}, {host_b, 0}};
static const struct bundle with_report =
    {cc300,    10000, 60,          10,    3,  pairs3,        3,
     domains5, 5,     tlsrpt_path, 65536, 16, report_hosts2, 2,
     0};

/* Version 3: HTTP-01 listeners (acme-http-listen), with and without the
   receiver. */
static const struct bundle with_http01 =
    {cc300,    10000, 60,          10,    3,  pairs3,        3,
     domains5, 5,     tlsrpt_path, 65536, 16, report_hosts2, 2,
     2};
static const struct bundle http01_only = {cc300,    10, 60,         10, 7,
                                          one_pair, 1,  one_domain, 1,  NULL,
                                          0,        0,  NULL,       0,  4};

/* Every number at its maximum. */
static const struct bundle maxed = {cc_long,    UINT32_MAX, UINT32_MAX,
                                    UINT32_MAX, UINT32_MAX, pairs3,
                                    3,          domains5,   5,
                                    NULL,       0,          0,
                                    NULL,       0,          0};

/* Decodes enc[0..len), compares it with want, re-encodes it to the same
 * bytes and frees it; one check. */
static void
round_trip(const char *name, const struct bundle *want, const uint8_t *enc,
           size_t len)
{
	struct bundle b;
	uint8_t *again = NULL;
	size_t again_len = 0;
	bool ok;

	ok = decode_copy(enc, len, &b, 0) == 0 && same_bundle(&b, want);
	if (ok) {
		again = encode_or_die(&b, &again_len);
		ok = again_len == len && memcmp(again, enc, len) == 0;
		ok = free_counted(&b) && ok;
	}
	tap_ok(ok, "round trip: %s (%zu bytes)", name, len);
	free(again);
}

static void
check_layout(void)
{
	static const char want[] = ONE_ONE;
	uint8_t *enc;
	size_t len;

	enc = encode_or_die(&one, &len);
	tap_ok(len == sizeof(want) - 1 && memcmp(enc, want, len) == 0,
	       "encode: the layout of bundle.c's comment, byte for byte");
	free(enc);
}

/* Many domains and pairs: the encoder's buffer grows several times. */
static struct bundle *
many_new(size_t npairs, size_t ndomains)
{
	struct bundle *b;
	size_t i;

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->pairs = calloc(npairs, sizeof(*b->pairs))) == NULL ||
	    (b->domains = calloc(ndomains, sizeof(*b->domains))) == NULL)
		abort();
	b->cache_control = cc300;
	b->generation = 42;
	b->pair_count = npairs;
	b->domain_count = ndomains;
	for (i = 0; i < npairs; i++)
		b->pairs[i] = pairs3[i % 3];
	for (i = 0; i < ndomains; i++) {
		if ((b->domains[i].name = malloc(32)) == NULL)
			abort();
		snprintf(b->domains[i].name, 32, "d%zu.example", i);
		b->domains[i].policy = policy0;
		b->domains[i].policy_len = LEN(policy0);
		b->domains[i].pair = (uint32_t)(i * 7 % npairs);
	}
	return b;
}

static void
many_free(struct bundle *b)
{
	size_t i;

	for (i = 0; i < b->domain_count; i++)
		free(b->domains[i].name);
	free(b->domains);
	free(b->pairs);
	free(b);
}

static void
check_round_trips(void)
{
	const struct {
		const char *name;
		const struct bundle *b;
	} sets[] = {
	    {"one pair, one domain", &one},
	    {"nothing: empty cache-control, no pairs, no domains", &nothing},
	    {"3 pairs, 5 domains, empty and binary strings", &several},
	    {"version 2: a report receiver on two names", &with_report},
	    {"version 3: HTTP-01 listeners and a receiver", &with_http01},
	    {"version 3: HTTP-01 listeners, no receiver", &http01_only},
	    {"every number 2^32 - 1", &maxed},
	};
	struct bundle *many;
	uint8_t *enc;
	size_t i, len;

	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		enc = encode_or_die(sets[i].b, &len);
		round_trip(sets[i].name, sets[i].b, enc, len);
		free(enc);
	}
	many = many_new(100, 5000);
	enc = encode_or_die(many, &len);
	round_trip("100 pairs, 5000 domains", many, enc, len);
	free(enc);
	many_free(many);
}

/* ---- truncation, trailing bytes, one-byte changes ---- */

/* Every prefix of enc fails, leaving nothing; so does enc + a tail. */
static void
check_cut(const char *name, const uint8_t *enc, size_t len)
{
	static const struct {
		const char *s;
		size_t n;
	} tails[] = {{B("\0")}, {B("\377")}, {B(U0)}, {B(ONE_ONE)}};
	struct bundle b;
	uint8_t *longer;
	size_t i, k, n;
	bool ok = true;

	for (k = 0; ok && k < len; k++) {
		ok = decode_copy(enc, k, &b, 0) == -1 && is_zeroed(&b) &&
		    heap.live == 0;
		if (!ok)
			tap_diag("%s: a prefix of %zu bytes decodes", name, k);
	}
	tap_ok(ok, "truncated: %s: all %zu prefixes fail", name, len);
	ok = true;
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		n = tails[i].n;
		if ((longer = malloc(len + n)) == NULL)
			abort();
		memcpy(longer, enc, len);
		memcpy(longer + len, tails[i].s, n);
		ok = ok && decode_copy(longer, len + n, &b, 0) == -1 &&
		    is_zeroed(&b) && heap.live == 0;
		free(longer);
	}
	tap_ok(ok, "trailing: %s: 1, 4 or a whole set of bytes more fail",
	       name);
}

/*
 * Every byte flipped in turn: the decoder refuses, or what it gives
 * encodes back to the flipped bytes (the encoding is canonical).  No
 * name or cache-control byte of these sets turns into a NUL this way.
 */
static void
check_flips(const char *name, const uint8_t *enc, size_t len)
{
	struct bundle b;
	uint8_t *bad, *out;
	size_t k, out_len, accepted = 0;
	bool ok = true;

	if ((bad = malloc(len)) == NULL)
		abort();
	for (k = 0; ok && k < len; k++) {
		memcpy(bad, enc, len);
		bad[k] ^= 0xFF;
		if (decode_copy(bad, len, &b, 0) != 0) {
			ok = is_zeroed(&b) && heap.live == 0;
			continue;
		}
		accepted++;
		out = encode_or_die(&b, &out_len);
		ok = out_len == len && memcmp(out, bad, len) == 0 &&
		    free_counted(&b);
		free(out);
		if (!ok)
			tap_diag("%s: byte %zu flipped", name, k);
	}
	free(bad);
	tap_ok(ok, "flips: %s: %zu of %zu refused, the rest canonical", name,
	       len - accepted, len);
}

static void
check_cuts(void)
{
	const struct bundle *sets[] = {&one,        &nothing,     &several,
	                               &maxed,      &with_report, &with_http01,
	                               &http01_only};
	const char *names[] = {"one",        "nothing",     "several",
	                       "maxed",      "with_report", "with_http01",
	                       "http01_only"};
	uint8_t *enc;
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].want == 0)
			check_cut(cases[i].name, (const uint8_t *)cases[i].in,
			          cases[i].len);
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		enc = encode_or_die(sets[i], &len);
		check_cut(names[i], enc, len);
		check_flips(names[i], enc, len);
		free(enc);
	}
}

/* ---- the BUNDLE_MAX cap ---- */

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * A well-formed set of `size` bytes in a fresh zero mapping: HEAD, one
 * pair whose certificate fills the middle, an empty key, one domain with
 * empty name and policy.  Only the pages written are backed.
 */
static uint8_t *
big_set(size_t size)
{
	static const char head[] = HEAD U1;
	static const char tail[] = U0 U1 U0 U0 U0;
	size_t cert = size - (sizeof(head) - 1) - 4 - (sizeof(tail) - 1);
	uint8_t *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	memcpy(p, head, sizeof(head) - 1);
	put_u32(p + sizeof(head) - 1, (uint32_t)cert);
	memcpy(p + size - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	return p;
}

static void
check_cap(void)
{
	const size_t over = (size_t)BUNDLE_MAX + 1;
	struct bundle b, big;
	struct bundle_pair pair;
	uint8_t *p, *out = (uint8_t *)&b;
	size_t len = 12345;
	int rc;

	/* The same layout, small, decodes: only the size is wrong below. */
	p = big_set(4096);
	rc = decode_copy(p, 4096, &b, 0);
	tap_ok(rc == 0 && b.pair_count == 1 && b.domain_count == 1 &&
	           free_counted(&b),
	       "cap: a set of 4096 bytes in that layout decodes");
	munmap(p, 4096);

	/* Not copied: a heap block of 1 GiB is not needed to show this. */
	p = big_set(over);
	memset(&b, 0x5A, sizeof(b));
	heap_begin(0);
	rc = bundle_decode(p, over, &b);
	heap.on = false;
	tap_ok(rc == -1 && is_zeroed(&b) && heap.max < 4096 && heap.live == 0,
	       "cap: BUNDLE_MAX + 1 bytes refused before any copy "
	       "(largest allocation %zu)",
	       heap.max);
	if (rc == 0)
		bundle_free(&b);
	munmap(p, over);

	/* The encoder: a certificate of BUNDLE_MAX bytes is never copied. */
	p = mmap(NULL, BUNDLE_MAX, PROT_READ,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	pair = (struct bundle_pair){(char *)p, BUNDLE_MAX, empty, 0};
	big = (struct bundle){cc300, 1,    1, 1, 1,    &pair, 1, one_domain,
	                      1,     NULL, 0, 0, NULL, 0,     0};
	heap_begin(0);
	rc = bundle_encode(&big, &out, &len);
	heap.on = false;
	tap_ok(rc == -1 && out == (uint8_t *)&b && len == 12345 &&
	           heap.live == 0 && heap.max <= 4096,
	       "cap: encode refuses a set over BUNDLE_MAX, out-params "
	       "untouched");
	if (rc == 0)
		free(out);
	munmap(p, BUNDLE_MAX);
}

/* ---- out of memory ---- */

static void
check_oom(void)
{
	struct bundle b, *many;
	uint8_t *enc, *out;
	size_t len, out_len;
	unsigned i, n;
	bool ok = true;

	if (!HAVE_HEAP) {
		tap_skip("oom: decode", "no ld --wrap");
		tap_skip("oom: encode", "no ld --wrap");
		return;
	}
	enc = encode_or_die(&several, &len);
	if (decode_copy(enc, len, &b, 0) != 0)
		abort();
	n = heap.calls;
	ok = free_counted(&b);
	for (i = 1; ok && i <= n; i++) {
		ok = decode_copy(enc, len, &b, i) == -1 && is_zeroed(&b) &&
		    heap.live == 0;
		if (!ok)
			tap_diag("allocation %u of %u failed", i, n);
	}
	tap_ok(ok && n >= 19, "oom: decode fails at each of its %u allocations",
	       n);
	free(enc);

	many = many_new(10, 3000);
	heap_begin(0);
	if (bundle_encode(many, &enc, &len) != 0)
		abort();
	heap.on = false;
	n = heap.calls;
	free(enc);
	ok = true;
	for (i = 1; ok && i <= n; i++) {
		out = (uint8_t *)many;
		out_len = 1;
		heap_begin(i);
		ok = bundle_encode(many, &out, &out_len) == -1 &&
		    out == (uint8_t *)many && out_len == 1 && heap.live == 0;
		heap.on = false;
	}
	tap_ok(ok && n > 3, "oom: encode fails at each of its %u allocations",
	       n);
	many_free(many);
}

/* ---- bundle_free ---- */

static void
check_free(void)
{
	struct bundle b;
	uint8_t *enc;
	size_t len;

	heap_begin(0);
	bundle_free(NULL);
	heap.on = false;
	if (HAVE_HEAP)
		tap_ok(heap.calls == 0 && heap.live == 0,
		       "free: NULL allocates and frees nothing");
	else
		tap_skip("free: NULL allocates and frees nothing",
		         "no ld --wrap");

	memset(&b, 0, sizeof(b));
	bundle_free(&b);
	tap_ok(is_zeroed(&b), "free: a zeroed bundle");

	/* Half built, as a decoder cut short would leave it. */
	heap_begin(0);
	if ((b.pairs = calloc(3, sizeof(*b.pairs))) == NULL ||
	    (b.pairs[0].cert_pem = malloc(4)) == NULL ||
	    (b.domains = calloc(2, sizeof(*b.domains))) == NULL ||
	    (b.domains[0].name = malloc(1)) == NULL)
		abort();
	b.pair_count = 3;
	b.domain_count = 2;
	heap.on = false;
	tap_ok(
	    free_counted(&b),
	    "free: half built (one certificate, one name, no cache-control)");
	bundle_free(&b);
	tap_ok(is_zeroed(&b), "free: a second time, harmless");

	/* Key material is zero by the time it is freed. */
	enc = encode_or_die(&several, &len);
	if (decode_copy(enc, len, &b, 0) != 0)
		abort();
	heap.watch = (const unsigned char *)b.pairs[0].key_pem;
	heap.watch_len = b.pairs[0].key_len;
	bundle_free(&b);
	heap.watch = NULL;
	if (HAVE_HEAP)
		tap_ok(heap.watch_freed && heap.watch_zero,
		       "free: the key is cleared before it is freed");
	else
		tap_skip("free: the key is cleared before it is freed",
		         "no ld --wrap");
	free(enc);
}

int
main(void)
{
	check_cases();
	check_layout();
	check_round_trips();
	check_cuts();
	check_cap();
	check_oom();
	check_free();
	return tap_done();
}
