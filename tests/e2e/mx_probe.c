/* SPDX-License-Identifier: ISC */
/*
 * mx_probe: runs one MX probe (src/check/probe.c) and prints what came
 * back, for tests/e2e/probe.sh, which runs it inside the world
 * (tests/world) against its Postfix MX hosts.
 *
 *     mx_probe [--ca FILE] [--port N] [--timeout MS] [--helo NAME]
 *              [--tlsa 'U S M HEX']... [--dane-base NAME]
 *              [--dane-name NAME]... [--no-sni] MXHOST ADDRESS
 *
 * One key=value line per field of struct probe_result (stage, why,
 * banner_host, tls_version, verify_error, name_ok, dane_checked, dane_ok,
 * dane_usage, dane_depth, chain_count, ...), then "callbacks=N" (and
 * "event_add_calls=N" when FAIL_EVENT_ADD is set: wrap_event.h).
 * Exits 0 when the callback ran exactly once, 1 otherwise, 2 on a usage
 * error.  Test tool; not installed.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include <mtasts/dane.h>

#include "probe.h"
#include "wrap_event.h"

#define TLSA_MAX      16
#define NAMES_MAX     4
#define GUARD_SECONDS 10 /* beyond the probe's own deadline */

struct run {
	struct event_base *base;
	unsigned callbacks;
};

static void
usage(void)
{
	fprintf(stderr,
	        "usage: mx_probe [--ca FILE] [--port N] "
	        "[--timeout MS] [--helo NAME]\n"
	        "                [--tlsa 'U S M HEX']... [--dane-base NAME] "
	        "[--dane-name NAME]... [--no-sni]\n"
	        "                MXHOST ADDRESS\n");
	exit(2);
}

static void
print_result(const struct probe_result *r)
{
	printf("stage=%s\n", probe_stage_name(r->stage));
	printf("why=%s\n", r->why);
	printf("address=%s\n", r->address);
	printf("banner_code=%d\n", r->banner_code);
	printf("banner_host=%s\n", r->banner_host);
	printf("tls_version=%s\n", r->tls_version);
	printf("cipher=%s\n", r->cipher);
	printf("have_cert=%d\n", r->have_cert);
	printf("verify_error=%ld\n", r->verify_error);
	printf("verify_msg=%s\n", r->verify_msg);
	printf("name_ok=%d\n", r->name_ok);
	printf("not_after=%lld\n", (long long)r->not_after);
	printf("subject_names=%s\n", r->subject_names);
	printf("dane_checked=%d\n", r->dane_checked);
	printf("dane_ok=%d\n", r->dane_ok);
	printf("dane_usage=%d\n", r->dane_usage);
	printf("dane_depth=%d\n", r->dane_depth);
	printf("dane_msg=%s\n", r->dane_msg);
	printf("chain_count=%zu\n", r->chain_count);
}

static void
done(void *arg, struct probe_result *result)
{
	struct run *run = arg;

	run->callbacks++;
	print_result(result);
	probe_result_free(result);
	event_base_loopexit(run->base, NULL);
}

static unsigned
number(const char *s, unsigned max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > max)
		usage();
	return (unsigned)v;
}

static void
add_tlsa(struct mts_dane_tlsa *tlsa, size_t *n, const char *text)
{
	struct mts_err err;

	if (*n == TLSA_MAX) {
		fprintf(stderr, "mx_probe: at most %d TLSA records\n",
		        TLSA_MAX);
		exit(2);
	}
	if (mts_dane_tlsa_parse(text, strlen(text), &tlsa[*n], NULL, &err) !=
	    0) {
		fprintf(stderr, "mx_probe: bad TLSA record '%s': %s\n", text,
		        err.msg);
		exit(2);
	}
	(*n)++;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] =
	    {{"ca", required_argument, NULL, 'c'},
	     {"port", required_argument, NULL, 'p'},
	     {"timeout", required_argument, NULL, 't'},
	     {"helo", required_argument, NULL, 'H'},
	     {"tlsa", required_argument, NULL, 'T'},
	     {"dane-base", required_argument, NULL, 'B'},
	     {"dane-name", required_argument, NULL, 'N'},
	     {"no-sni", no_argument, NULL, 'S'},
	     {NULL, 0, NULL, 0}};
	const char *names[NAMES_MAX + 1] = {NULL};
	size_t name_count = 0;
	struct mts_dane_tlsa tlsa[TLSA_MAX];
	struct probe_options o;
	struct timeval guard = {GUARD_SECONDS, 0};
	struct run run = {NULL, 0};
	const char *ca = NULL;
	SSL_CTX *ctx;
	size_t n = 0, i;
	int ch, rc = 1;

	memset(tlsa, 0, sizeof(tlsa));
	memset(&o, 0, sizeof(o));
	o.dane_names = names;
	while ((ch = getopt_long(argc, argv, "c:p:t:H:T:B:N:S", longopts,
	                         NULL)) != -1) {
		switch (ch) {
		case 'c':
			ca = optarg;
			break;
		case 'p':
			o.port = number(optarg, 65535);
			break;
		case 't':
			o.timeout_ms = number(optarg, 600000);
			break;
		case 'H':
			o.helo = optarg;
			break;
		case 'T':
			add_tlsa(tlsa, &n, optarg);
			break;
		case 'B':
			o.dane_base = optarg;
			break;
		case 'S':
			o.no_sni = true;
			break;
		case 'N':
			if (name_count == NAMES_MAX)
				usage();
			names[name_count++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	signal(SIGPIPE, SIG_IGN);
	guard.tv_sec += (o.timeout_ms != 0 ? o.timeout_ms : 30000) / 1000;
	if ((ctx = probe_ctx_new(ca)) == NULL) {
		fprintf(stderr, "mx_probe: no TLS context (CA file %s)\n",
		        ca != NULL ? ca : "(system)");
		goto out;
	}
	if ((run.base = event_base_new()) == NULL)
		goto out;
	if (probe_mx(run.base, ctx, argv[optind], argv[optind + 1], tlsa, n, &o,
	             done, &run) != 0) {
		printf("start=failed\n");
		goto out;
	}
	/* A probe that never calls back must not hang the test. */
	event_base_loopexit(run.base, &guard);
	event_base_dispatch(run.base);
	printf("callbacks=%u\n", run.callbacks);
	wrap_event_report();
	rc = run.callbacks == 1 ? 0 : 1;
out:
	if (run.base != NULL)
		event_base_free(run.base);
	SSL_CTX_free(ctx);
	for (i = 0; i < n; i++)
		mts_dane_tlsa_reset(&tlsa[i]);
	return rc;
}
