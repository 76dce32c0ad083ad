/* SPDX-License-Identifier: ISC */
/*
 * dns_probe: asks through mts_dns (src/lib/io/dns.c) and prints what
 * came back, for tests/e2e/dns.sh, which runs it inside the world
 * (tests/world) against its validating resolver and trust anchor.
 *
 *     dns_probe [-r resolver] [-a anchor] [-t ms] query NAME TYPE ...
 *     dns_probe [-r resolver] [-a anchor] [-t ms] many N NAME TYPE
 *     dns_probe [-r resolver] [-a anchor] [-t ms] free N NAME TYPE
 *     dns_probe [-r resolver] [-a anchor] [-t ms] free-in-callback N NAME TYPE
 *     dns_probe [-r resolver] [-a anchor] [-t ms] new
 *
 * query: all at once, then one line per query in argument order:
 *     NAME TYPE RCODE DNSSEC COUNT CANONICAL FIRST-RECORD
 * ("-" for none; for failures FIRST-RECORD is the reason), and a last
 * line "done N pending P ms T".
 * many: N queries of one name at once; "many N answered A pending P"
 * and a count per "rcode/dnssec".
 * free: N queries, then mts_dns_free() at once, and again (a new
 * resolver, N new queries) after the first answer: no callback after
 * the free.
 * free-in-callback: N queries; the first callback frees the resolver:
 * "free-in-callback callbacks C" (must be 1).
 * new: "new ok" or "new error CODE: MESSAGE".
 *
 * Exits 0 when every callback came exactly once (or never, where that
 * is the point), 1 otherwise, 2 on a usage error.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <mtasts/dane.h>
#include <mtasts/dns.h>

#define GUARD_SECONDS 30
#define MANY_MAX      10000

struct slot {
	struct probe *probe;
	const char *name;
	const char *type_name;
	unsigned calls;
	char *line; /* the answer, formatted */
};

struct probe {
	struct event_base *base;
	struct mts_dns *dns;
	struct slot *slots;
	size_t nslots;
	size_t answered;
	size_t calls_after_free;
	size_t stop_at; /* break the loop after this many answers */
	bool freed;
	bool free_in_callback;
	unsigned counts[6][3]; /* rcode x dnssec */
};

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
    {"A", MTS_DNS_TYPE_A},       {"CNAME", MTS_DNS_TYPE_CNAME},
    {"MX", MTS_DNS_TYPE_MX},     {"TXT", MTS_DNS_TYPE_TXT},
    {"AAAA", MTS_DNS_TYPE_AAAA}, {"TLSA", MTS_DNS_TYPE_TLSA},
};

static int
type_of(const char *s)
{
	size_t i;
	long v;
	char *end;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].type;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v <= 0 || v > 65535)
		return -1;
	return (int)v;
}

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	        "usage: dns_probe [-r resolver] [-a anchor] [-t ms] "
	        "query NAME TYPE ... | many N NAME TYPE | free N NAME TYPE |\n"
	        "       free-in-callback N NAME TYPE | new\n");
	exit(2);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends bytes to out with non-printables as \xHH. */
static void
put_escaped(FILE *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, out);
		else
			fprintf(out, "\\x%02x", c);
	}
}

static void
put_first(FILE *out, const struct mts_dns_answer *a)
{
	char *s;

	if (a->rcode == MTS_DNS_SERVFAIL && a->why_bogus != NULL) {
		fprintf(out, "bogus: %s", a->why_bogus);
		return;
	}
	if (a->why != NULL) {
		fputs(a->why, out);
		return;
	}
	if (a->count == 0) {
		fputc('-', out);
		return;
	}
	if (a->txt != NULL) {
		put_escaped(out, a->txt[0], a->txt_len[0]);
	} else if (a->mx != NULL) {
		fprintf(out, "%u %s", a->mx[0].preference,
		        a->mx[0].host[0] != '\0' ? a->mx[0].host : ".");
	} else if (a->addr != NULL) {
		fputs(a->addr[0], out);
	} else if (a->tlsa != NULL) {
		if ((s = mts_dane_tlsa_format(&a->tlsa[0])) == NULL) {
			fputs("(no memory)", out);
			return;
		}
		fputs(s, out);
		free(s);
	} else {
		fputc('-', out);
	}
}

static char *
format_answer(const struct slot *slot, const struct mts_dns_answer *a)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out;

	if ((out = open_memstream(&buf, &size)) == NULL)
		return NULL;
	fprintf(out, "%s %s %s %s %zu %s ", a->qname, slot->type_name,
	        mts_dns_rcode_name(a->rcode), mts_dnssec_name(a->dnssec),
	        a->count, a->canonical != NULL ? a->canonical : "-");
	put_first(out, a);
	fclose(out);
	return buf;
}

static void
on_answer(void *arg, const struct mts_dns_answer *a)
{
	struct slot *slot = arg;
	struct probe *p = slot->probe;

	if (p->freed) {
		p->calls_after_free++;
		return;
	}
	if (slot->calls++ == 0)
		p->answered++;
	if ((unsigned)a->rcode < 6 && (unsigned)a->dnssec < 3)
		p->counts[a->rcode][a->dnssec]++;
	if (slot->line == NULL)
		slot->line = format_answer(slot, a);
	if (p->free_in_callback) {
		mts_dns_free(p->dns);
		p->dns = NULL;
		p->freed = true;
		return;
	}
	if (p->answered == p->nslots || p->answered == p->stop_at)
		event_base_loopbreak(p->base);
}

static void
on_guard(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	fprintf(stderr, "dns_probe: no end after %d s\n", GUARD_SECONDS);
	event_base_loopbreak(p->base);
}

/* Runs the loop for ms milliseconds (or until a loopbreak). */
static void
run_for(struct probe *p, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(p->base, &tv);
	event_base_dispatch(p->base);
}

static int
start(struct probe *p, size_t n, char **names, char **type_names, bool same)
{
	struct mts_err err = {0};
	size_t i;
	int type;

	if ((p->slots = calloc(n, sizeof(*p->slots))) == NULL)
		return -1;
	p->nslots = n;
	for (i = 0; i < n; i++) {
		struct slot *s = &p->slots[i];

		s->probe = p;
		s->name = same ? names[0] : names[i];
		s->type_name = same ? type_names[0] : type_names[i];
		if ((type = type_of(s->type_name)) == -1)
			usage();
		if (mts_dns_query(p->dns, s->name, (uint16_t)type, on_answer, s,
		                  &err) == -1) {
			printf("%s %s query-error %s\n", s->name, s->type_name,
			       err.msg);
			return -1;
		}
	}
	return 0;
}

static bool
each_once(const struct probe *p)
{
	size_t i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].calls != 1)
			return false;
	return true;
}

static int
cmd_query(struct probe *p, int argc, char **argv)
{
	char **names, **type_names;
	size_t i, n;
	long t0 = now_ms();
	int rc;

	if (argc < 2 || argc % 2 != 0)
		usage();
	n = (size_t)argc / 2;
	names = calloc(n, sizeof(*names));
	type_names = calloc(n, sizeof(*type_names));
	if (names == NULL || type_names == NULL) {
		free(names);
		free(type_names);
		return 1;
	}
	for (i = 0; i < n; i++) {
		names[i] = argv[2 * i];
		type_names[i] = argv[2 * i + 1];
	}
	rc = start(p, n, names, type_names, false);
	free(names);
	free(type_names);
	if (rc == -1)
		return 1;
	event_base_dispatch(p->base);
	for (i = 0; i < n; i++)
		printf("%s\n",
		       p->slots[i].line != NULL ? p->slots[i].line :
		                                  "(no answer)");
	printf("done %zu pending %zu ms %ld\n", p->answered,
	       mts_dns_pending(p->dns), now_ms() - t0);
	return each_once(p) && mts_dns_pending(p->dns) == 0 ? 0 : 1;
}

static size_t
count_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v <= 0 || v > MANY_MAX)
		usage();
	return (size_t)v;
}

static int
cmd_many(struct probe *p, int argc, char **argv)
{
	size_t n, started;
	int r, d;

	if (argc != 3)
		usage();
	n = count_arg(argv[0]);
	if (start(p, n, &argv[1], &argv[2], true) == -1)
		return 1;
	started = mts_dns_pending(p->dns);
	event_base_dispatch(p->base);
	printf("many %zu started %zu answered %zu pending %zu", n, started,
	       p->answered, mts_dns_pending(p->dns));
	for (r = 0; r < 6; r++)
		for (d = 0; d < 3; d++)
			if (p->counts[r][d] != 0)
				printf(" %s/%s=%u",
				       mts_dns_rcode_name(
					   (enum mts_dns_rcode)r),
				       mts_dnssec_name((enum mts_dnssec)d),
				       p->counts[r][d]);
	printf("\n");
	return each_once(p) && started == n && mts_dns_pending(p->dns) == 0 ?
	    0 :
	    1;
}

/* Frees with every query pending, then (a second resolver) with some
 * answers perhaps read and some not. */
static int
cmd_free(struct probe *p, int argc, char **argv,
         const struct mts_dns_options *opt)
{
	struct mts_err err = {0};
	size_t n, i, before;

	if (argc != 3)
		usage();
	n = count_arg(argv[0]);
	if (start(p, n, &argv[1], &argv[2], true) == -1)
		return 1;
	mts_dns_free(p->dns);
	p->dns = NULL;
	p->freed = true;
	run_for(p, 300);
	printf("free at once: called %zu\n", p->calls_after_free);
	if (p->calls_after_free != 0)
		return 1;

	free(p->slots);
	p->slots = NULL;
	p->freed = false;
	p->answered = 0;
	if ((p->dns = mts_dns_new(p->base, opt, &err)) == NULL)
		return 1;
	if (start(p, n, &argv[1], &argv[2], true) == -1)
		return 1;
	/* Until the first answer: the others are in libunbound's
	 * thread, in its pipe or read and waiting for their callback. */
	p->stop_at = 1;
	run_for(p, 5000);
	before = p->answered;
	mts_dns_free(p->dns);
	p->dns = NULL;
	p->freed = true;
	run_for(p, 300);
	printf("free later: answered %zu of %zu before, called %zu after\n",
	       before, n, p->calls_after_free);
	for (i = 0; i < n; i++)
		if (p->slots[i].calls > 1)
			return 1;
	return p->calls_after_free == 0 ? 0 : 1;
}

static int
cmd_free_in_callback(struct probe *p, int argc, char **argv)
{
	if (argc != 3)
		usage();
	p->free_in_callback = true;
	if (start(p, count_arg(argv[0]), &argv[1], &argv[2], true) == -1)
		return 1;
	run_for(p, 1000);
	printf("free-in-callback callbacks %zu after %zu\n", p->answered,
	       p->calls_after_free);
	return p->answered == 1 && p->calls_after_free == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct mts_dns_options opt = {NULL, NULL, 0};
	struct probe p;
	struct mts_err err = {0};
	struct event *guard;
	struct timeval tv = {GUARD_SECONDS, 0};
	const char *cmd;
	int ch, rc;
	size_t i;

	while ((ch = getopt(argc, argv, "a:r:t:")) != -1) {
		switch (ch) {
		case 'a':
			opt.trust_anchor = optarg;
			break;
		case 'r':
			opt.resolver = optarg;
			break;
		case 't':
			opt.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	memset(&p, 0, sizeof(p));
	if ((p.base = event_base_new()) == NULL)
		return 1;
	if ((p.dns = mts_dns_new(p.base, &opt, &err)) == NULL) {
		if (strcmp(cmd, "new") == 0) {
			printf("new error %s: %s\n", mts_strerror(err.code),
			       err.msg);
			event_base_free(p.base);
			return 0;
		}
		fprintf(stderr, "dns_probe: %s\n", err.msg);
		return 1;
	}
	if ((guard = evtimer_new(p.base, on_guard, &p)) == NULL ||
	    evtimer_add(guard, &tv) == -1)
		return 1;
	if (strcmp(cmd, "new") == 0) {
		printf("new ok\n");
		rc = 0;
	} else if (strcmp(cmd, "query") == 0) {
		rc = cmd_query(&p, argc - 1, argv + 1);
	} else if (strcmp(cmd, "many") == 0) {
		rc = cmd_many(&p, argc - 1, argv + 1);
	} else if (strcmp(cmd, "free") == 0) {
		rc = cmd_free(&p, argc - 1, argv + 1, &opt);
	} else if (strcmp(cmd, "free-in-callback") == 0) {
		rc = cmd_free_in_callback(&p, argc - 1, argv + 1);
	} else {
		usage();
	}
	mts_dns_free(p.dns);
	for (i = 0; i < p.nslots; i++)
		free(p.slots[i].line);
	free(p.slots);
	event_free(guard);
	event_base_free(p.base);
	return rc;
}
