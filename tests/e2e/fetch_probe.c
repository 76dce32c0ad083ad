/* SPDX-License-Identifier: ISC */
/*
 * fetch_probe: one policy fetch through src/check/fetch.c, printed as
 * one line, for tests/e2e/fetch.sh (inside the world of tests/world, or
 * against tests/e2e/quirk_server.c on 127.0.0.1).
 *
 *     fetch_probe [--ca FILE] [--port N] [--timeout MS] [--max N]
 *                 [--body FILE] [--repeat N] DOMAIN ADDRESS
 *
 * Prints, per fetch, one line of key=value pairs in this order (strings
 * that may hold spaces in double quotes, "-" for empty):
 *
 *     stage status content_type charset ctype_present chunked body_len
 *     location tls_version cipher have_cert verify_error verify_msg
 *     name_ok not_after names address ms why
 *
 * --body writes the body of a DONE fetch to FILE.  --repeat runs N
 * fetches at once on one event loop and prints N lines.
 *
 * Exits 0 when every callback came exactly once, from the loop, 1 when
 * one did not (never, twice, or inside fetch_policy()), 2 on a usage
 * error, 3 when fetch_policy() refused to start ("start=failed").
 * With FAIL_EVENT_ADD set (wrap_event.h), a last line
 * "event_add_calls=N" counts the calls of event_add() by fetch.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "fetch.h"
#include "wrap_event.h"

#define REPEAT_MAX 1000

struct slot {
	struct probe *probe;
	unsigned calls;
	struct fetch_result *result;
	long ms;
};

struct probe {
	struct event_base *base;
	bool starting; /* inside fetch_policy() */
	bool early;    /* a callback came from inside fetch_policy() */
	size_t pending;
	struct timespec t0;
};

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
done_cb(void *arg, struct fetch_result *result)
{
	struct slot *s = arg;
	struct probe *p = s->probe;

	if (p->starting)
		p->early = true;
	if (++s->calls > 1) {
		fetch_result_free(result);
		return;
	}
	s->result = result;
	s->ms = elapsed_ms(&p->t0);
	if (--p->pending == 0)
		event_base_loopbreak(p->base);
}

static const char *
or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

static void
print_result(const struct slot *s)
{
	const struct fetch_result *r = s->result;

	printf("stage=%s status=%d content_type=%s charset=%s "
	       "ctype_present=%d chunked=%d body_len=%zu location=%s "
	       "tls_version=%s cipher=%s have_cert=%d verify_error=%ld "
	       "verify_msg=\"%s\" name_ok=%d not_after=%lld names=%s "
	       "address=%s ms=%ld why=\"%s\"\n",
	       fetch_stage_name(r->stage), r->status, or_dash(r->content_type),
	       or_dash(r->charset), r->content_type_present, r->chunked,
	       r->body_len, or_dash(r->location), or_dash(r->tls_version),
	       or_dash(r->cipher), r->have_cert, r->verify_error, r->verify_msg,
	       r->name_ok, (long long)r->not_after, or_dash(r->subject_names),
	       or_dash(r->address), s->ms, r->why);
}

static int
write_body(const char *path, const struct fetch_result *r)
{
	FILE *fp;
	int rc = 0;

	if (r->stage != FETCH_DONE)
		return 0;
	/* The body is NUL-terminated (fetch.h): check that too. */
	if (r->body == NULL || r->body[r->body_len] != '\0') {
		fprintf(stderr, "fetch_probe: body not NUL-terminated\n");
		return -1;
	}
	if ((fp = fopen(path, "wb")) == NULL) {
		perror(path);
		return -1;
	}
	if (fwrite(r->body, 1, r->body_len, fp) != r->body_len)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: fetch_probe [--ca FILE] [--port N] "
	        "[--timeout MS] [--max N] [--body FILE] "
	        "[--repeat N] DOMAIN ADDRESS\n");
	exit(2);
}

static unsigned long
number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || v > max)
		usage();
	return v;
}

struct args {
	const char *ca, *body, *domain, *address;
	struct fetch_options options;
	size_t repeat;
};

static void
parse_args(int argc, char **argv, struct args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->repeat = 1;
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--ca") == 0)
			a->ca = argv[i + 1];
		else if (strcmp(argv[i], "--body") == 0)
			a->body = argv[i + 1];
		else if (strcmp(argv[i], "--port") == 0)
			a->options.port = (unsigned)number(argv[i + 1], 65535);
		else if (strcmp(argv[i], "--timeout") == 0)
			a->options.timeout_ms =
			    (unsigned)number(argv[i + 1], 3600000);
		else if (strcmp(argv[i], "--max") == 0)
			a->options.max_body = number(argv[i + 1], 1UL << 30);
		else if (strcmp(argv[i], "--repeat") == 0)
			a->repeat = number(argv[i + 1], REPEAT_MAX);
		else
			usage();
	}
	if (argc - i != 2 || a->repeat == 0)
		usage();
	a->domain = argv[i];
	a->address = argv[i + 1];
}

/* Starts every fetch; the number started. */
static size_t
start(struct probe *p, SSL_CTX *ctx, const struct args *a, struct slot *slots)
{
	size_t i;

	for (i = 0; i < a->repeat; i++) {
		slots[i].probe = p;
		p->starting = true;
		if (fetch_policy(p->base, ctx, a->domain, a->address,
		                 &a->options, done_cb, &slots[i]) != 0) {
			p->starting = false;
			break;
		}
		p->starting = false;
		p->pending++;
	}
	return i;
}

/* Prints the results; 0 when each callback came exactly once. */
static int
report(const struct probe *p, const struct args *a, struct slot *slots,
       size_t n)
{
	int rc = p->early ? 1 : 0;
	size_t i;

	if (p->early)
		printf("error=callback inside fetch_policy\n");
	for (i = 0; i < n; i++) {
		if (slots[i].calls != 1) {
			printf("error=%u callbacks\n", slots[i].calls);
			rc = 1;
		}
		if (slots[i].result == NULL)
			continue;
		print_result(&slots[i]);
		if (a->body != NULL && i == 0 &&
		    write_body(a->body, slots[i].result) != 0)
			rc = 1;
		fetch_result_free(slots[i].result);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct probe p;
	struct args a;
	struct slot *slots;
	struct event *guard;
	struct timeval tv;
	SSL_CTX *ctx;
	size_t started;
	int rc;

	parse_args(argc, argv, &a);
	/* fetch.c writes with write(2): a closed peer must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	memset(&p, 0, sizeof(p));
	if ((ctx = fetch_ctx_new(a.ca)) == NULL) {
		fprintf(stderr, "fetch_probe: cannot make a TLS context\n");
		return 1;
	}
	if ((p.base = event_base_new()) == NULL ||
	    (slots = calloc(a.repeat, sizeof(*slots))) == NULL ||
	    (guard = evtimer_new(p.base, guard_cb, p.base)) == NULL) {
		fprintf(stderr, "fetch_probe: out of memory\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &p.t0);
	started = start(&p, ctx, &a, slots);
	if (started < a.repeat)
		printf("start=failed\n");
	/* The deadline is the fetch's own; the guard only catches a
	   fetch that never calls back. */
	tv.tv_sec =
	    (a.options.timeout_ms != 0 ? a.options.timeout_ms : 10000) / 1000 +
	    5;
	tv.tv_usec = 0;
	WRAP_EVENT_PAUSE(true); /* the guard is not the fetch's */
	evtimer_add(guard, &tv);
	WRAP_EVENT_PAUSE(false);
	if (p.pending > 0)
		event_base_dispatch(p.base);
	/* A second turn: any late or second callback shows up here. */
	event_base_loop(p.base, EVLOOP_NONBLOCK);
	rc = report(&p, &a, slots, started);
	wrap_event_report();
	if (rc == 0 && started < a.repeat)
		rc = 3;
	event_free(guard);
	free(slots);
	event_base_free(p.base);
	SSL_CTX_free(ctx);
	return rc;
}
