/* SPDX-License-Identifier: ISC */
/*
 * Tests of the engine of mtasts check (src/check/check.c and the DNS
 * lookups of src/check/dane_host.c), included here to reach their static
 * functions, without DNS or sockets: answers are handed to the callbacks
 * the resolver would call, and the facts kept are judged (judge.c).
 *
 *   - What is kept of a DNS answer is kept in a stable order: addresses
 *     by their bytes (the caps on probes choose the same ones every run,
 *     issue 9), MX records by preference, then name.
 *   - Where the linker has --wrap (tests/meson.build), malloc and calloc
 *     fail in turn while the answers of an MX host are kept (the OOM run
 *     of STYLE.md rule 17): the host must then be reported as
 *     check-internal and judged no further.  Before, a TLSA RRset kept in
 *     part was judged as published: a false check-dane-unusable (issue
 *     9), or a false mismatch.
 */
#include "check.c"
#include "dane_host.c"

#include "tap.h"

/* ---- the allocator, failed on demand ---- */

#ifdef TEST_WRAP_ALLOC
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);

static struct {
	bool on;
	unsigned calls;   /* allocations asked for while on */
	unsigned fail_at; /* the one (from 1) that returns NULL; 0: none */
} heap;

static bool
heap_request(void)
{
	if (!heap.on)
		return true;
	return ++heap.calls != heap.fail_at;
}

void *
__wrap_malloc(size_t n)
{
	return heap_request() ? __real_malloc(n) : NULL;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return heap_request() ? __real_calloc(n, size) : NULL;
}
#endif

/* ---- the order of what is kept ---- */

static void
test_addr_order(void)
{
	char *v4[] = {"192.0.2.10", "192.0.2.9", "192.0.2.100", "10.0.0.1",
	              "192.0.2.2"};
	char *v6[] = {"fd00::10", "fd00::9", "2001:db8::1", "fd00::1:0"};
	static const char *want4[] = {"10.0.0.1", "192.0.2.2", "192.0.2.9",
	                              "192.0.2.10", "192.0.2.100"};
	static const char *want6[] = {"2001:db8::1", "fd00::9", "fd00::10",
	                              "fd00::1:0"};
	struct mts_dns_answer a;
	struct rrset r;
	bool ok4 = true, ok6 = true;
	size_t i;

	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	a.qtype = MTS_DNS_TYPE_A;
	a.count = 5;
	a.addr = v4;
	tap_ok(rrset_keep(&r, &a) == 0 && r.count == 5,
	       "CHK-ADDR T1: five A records kept");
	for (i = 0; i < r.count; i++)
		ok4 = ok4 && tap_streq(r.addr[i], want4[i]);
	tap_ok(ok4,
	       "CHK-ADDR T2: IPv4 addresses in byte order, not text "
	       "order");
	rrset_reset(&r);
	a.qtype = MTS_DNS_TYPE_AAAA;
	a.count = 4;
	a.addr = v6;
	tap_ok(rrset_keep(&r, &a) == 0 && r.count == 4,
	       "CHK-ADDR T3: four AAAA records kept");
	for (i = 0; i < r.count; i++)
		ok6 = ok6 && tap_streq(r.addr[i], want6[i]);
	tap_ok(ok6, "CHK-ADDR T4: IPv6 addresses in byte order");
	rrset_reset(&r);
}

static void
test_mx_order(void)
{
	struct mts_dns_mx mx[] = {{20, "b.example"},
	                          {10, "z.example"},
	                          {10, "A.example"},
	                          {5, "y.example"},
	                          {10, "m.example"}};
	static const char *want = "y.example A.example m.example z.example "
				  "b.example ";
	const struct mts_dns_mx *order[5];
	char got[128] = "";
	size_t i;

	for (i = 0; i < 5; i++)
		order[i] = &mx[i];
	qsort(order, 5, sizeof(order[0]), facts_mx_cmp);
	for (i = 0; i < 5; i++) {
		strcat(got, order[i]->host);
		strcat(got, " ");
	}
	tap_ok(tap_streq(got, want),
	       "CHK-MX T1: MX hosts by preference, then name, any case (%s)",
	       got);
}

/* ---- an MX host whose answers cannot all be kept ---- */

static char *a_addrs[] = {"192.0.2.2", "192.0.2.1"};
static uint8_t digest1[32] = {1}, digest2[32] = {2};

/* The findings of one run of run_host(). */
struct run {
	struct dom *d;
	struct check_judgement j;
};

/* Whether the findings hold code. */
static bool
has(const struct run *r, const char *code)
{
	size_t i;

	for (i = 0; i < r->j.diag.count; i++)
		if (tap_streq(r->j.diag.items[i].code, code))
			return true;
	return false;
}

/* Any DANE or address finding, which a host judged from part of its
   answers could get wrong. */
static bool
judged(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->j.diag.count; i++)
		if (strncmp(r->j.diag.items[i].code, "check-dane-", 11) == 0 ||
		    tap_streq(r->j.diag.items[i].code, "check-mx-no-address"))
			return true;
	return false;
}

/*
 * The lookups of mx1.example.test answer (A: two addresses, AAAA: none,
 * TLSA: two secure 3 1 1 records) and the domain is judged as
 * dom_finish() would, without probes.  Allocation fail_at (from 1; 0:
 * none) fails while the answers are kept.  Returns the allocations asked
 * for.
 */
static unsigned
run_host(struct checker *ck, unsigned fail_at, struct run *run)
{
	struct mts_dane_tlsa tlsa[2] = {{3, 1, 1, 32, digest1},
	                                {3, 1, 1, 32, digest2}};
	struct mts_dns_answer a4, a6, t;
	struct dane_host *h;
	struct mxhost *m;
	struct dom *d;
	unsigned calls = 0;

	d = calloc(1, sizeof(*d));
	m = calloc(1, sizeof(*m));
	d->ck = ck;
	facts_init(&d->f, "example.test", 0);
	d->f.no_smtp = ck->opt.no_smtp;
	d->f.mx.dnssec = MTS_DNSSEC_SECURE;
	d->pending = 2; /* one for the test, one for the host's lookups */
	facts_add_host(&d->f, "mx1.example.test", 10);
	d->mx = m;
	m->dom = d;
	m->f = d->f.hosts[0];
	h = &m->f->dh;
	h->name = m->f->name;
	h->port = 25;
	h->done_cb = on_mx_lookups;
	h->arg = m;
	h->pending = 3; /* A, AAAA, TLSA at the host */
	h->tlsa[0].host = h;
	h->tlsa[0].started = true;
	h->tlsa[0].base = strdup("mx1.example.test");

	memset(&a4, 0, sizeof(a4));
	a4.qname = "mx1.example.test";
	a4.qtype = MTS_DNS_TYPE_A;
	a4.dnssec = MTS_DNSSEC_SECURE;
	a4.count = 2;
	a4.addr = a_addrs;
	a6 = a4;
	a6.qtype = MTS_DNS_TYPE_AAAA;
	a6.rcode = MTS_DNS_NODATA;
	a6.count = 0;
	a6.addr = NULL;
	memset(&t, 0, sizeof(t));
	t.qname = "_25._tcp.mx1.example.test";
	t.qtype = MTS_DNS_TYPE_TLSA;
	t.dnssec = MTS_DNSSEC_SECURE;
	t.count = 2;
	t.tlsa = tlsa;

#ifdef TEST_WRAP_ALLOC
	heap.calls = 0;
	heap.fail_at = fail_at;
	heap.on = true;
#else
	(void)fail_at;
#endif
	on_dane_addr(h, &a4);
	on_dane_addr(h, &a6);
	on_dane_tlsa(&h->tlsa[0], &t); /* the last: mxhost_ready() runs */
#ifdef TEST_WRAP_ALLOC
	heap.on = false;
	calls = heap.calls;
#endif
	check_judge(&d->f, &run->j);
	run->d = d;
	return calls;
}

static void
free_run(struct run *r)
{
	check_judgement_reset(&r->j);
	dom_free(r->d);
}

static void
test_nomem(void)
{
	struct checker ck;
	struct run r;
	unsigned calls, k, wrong = 0, silent = 0;

	memset(&ck, 0, sizeof(ck));
	ck.opt.no_smtp = true;
	calls = run_host(&ck, 0, &r);
	tap_ok(!has(&r, "check-internal") && !has(&r, "check-dane-unusable") &&
	           !has(&r, "check-mx-no-address") && r.d->pending == 1,
	       "CHK-NOMEM T1: with memory, the host is judged (no "
	       "check-internal, no false finding)");
	free_run(&r);
#ifndef TEST_WRAP_ALLOC
	(void)calls;
	(void)k;
	(void)wrong;
	(void)silent;
	tap_diag("no ld --wrap: allocations are not failed");
#else
	tap_ok(calls >= 6,
	       "CHK-NOMEM T2: keeping the answers allocates "
	       "(%u times)",
	       calls);
	for (k = 1; k <= calls; k++) {
		run_host(&ck, k, &r);
		if (!has(&r, "check-internal")) {
			silent++;
			tap_diag("allocation %u failed without check-internal",
			         k);
		}
		if (judged(&r)) {
			wrong++;
			tap_diag("allocation %u failed: judged anyway (%s)", k,
			         r.j.diag.count > 0 ? r.j.diag.items[0].code :
			                              "");
		}
		free_run(&r);
	}
	tap_ok(silent == 0,
	       "CHK-NOMEM T3: each of the %u allocations failed gives "
	       "check-internal",
	       calls);
	tap_ok(wrong == 0,
	       "CHK-NOMEM T4: and no DANE or address verdict from part of "
	       "the answers (no false check-dane-unusable)");
#endif
}

int
main(void)
{
	test_addr_order();
	test_mx_order();
	test_nomem();
	return tap_done();
}
