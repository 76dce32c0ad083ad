/* SPDX-License-Identifier: ISC */
/*
 * bench/http_parse.c: the request-head parser of `mtasts serve`
 * (src/serve/http.c), which runs on every request, timed on the head a
 * sending MTA typically sends (RFC 8461 §3.3: a GET of the policy, with
 * Host and the usual fields, on a kept-alive connection).  A benchmark,
 * not a test: it prints a figure and fails only when the head does not
 * parse.  meson builds it as bench_http_parse; no test runs it.
 *
 *   taskset -c 1 build/bench/bench_http_parse [ITERATIONS]
 *
 * It prints `ns/parse N` (wall time of ITERATIONS parses, 5,000,000 by
 * default, after 100,000 not timed).  Compare two builds of the parser
 * with the same flags, the parser in a file of its own as in the
 * daemon (no LTO), e.g. the tree against HEAD:
 *
 *   cc -std=c11 -O2 -g -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *       -Iinclude -Isrc/lib -Isrc/serve bench/http_parse.c \
 *       src/serve/http.c -o /tmp/bench_new
 *   mkdir /tmp/old && git archive HEAD include src | tar -x -C /tmp/old
 *   cc -std=c11 -O2 -g -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *       -I/tmp/old/include -I/tmp/old/src/lib -I/tmp/old/src/serve \
 *       bench/http_parse.c /tmp/old/src/serve/http.c -o /tmp/bench_old
 *   for i in 1 2 3 4 5; do taskset -c 1 /tmp/bench_old; \
 *       taskset -c 1 /tmp/bench_new; done
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

/* The caps of src/serve/server.c. */
#define MAX_HEAD    8192
#define MAX_HEADERS 64
#define WARMUP      100000UL

static const char request[] = "GET /.well-known/mta-sts.txt HTTP/1.1\r\n"
			      "Host: mta-sts.example.com\r\n"
			      "User-Agent: mtasts-check\r\n"
			      "Accept: */*\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n";

/* Parses the request n times; the sum of head_len, so none is skipped. */
static size_t
run(unsigned long n)
{
	struct http_request req;
	size_t sum = 0;
	int status = 0;

	while (n-- > 0) {
		if (http_parse_request(request, sizeof(request) - 1, MAX_HEAD,
		                       MAX_HEADERS, &req,
		                       &status) != HTTP_PARSE_DONE)
			return 0;
		sum += req.head_len;
	}
	return sum;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int
main(int argc, char *argv[])
{
	unsigned long n = 5000000;
	double t0, t1;
	char *end;

	if (argc > 2) {
		fprintf(stderr, "usage: bench_http_parse [iterations]\n");
		return 2;
	}
	if (argc == 2) {
		n = strtoul(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || n == 0) {
			fprintf(stderr, "bench_http_parse: bad count %s\n",
			        argv[1]);
			return 2;
		}
	}
	if (run(WARMUP) != WARMUP * (sizeof(request) - 1)) {
		fprintf(stderr,
		        "bench_http_parse: the request did not parse\n");
		return 1;
	}
	t0 = now_ns();
	if (run(n) == 0)
		return 1;
	t1 = now_ns();
	printf("ns/parse %.2f (%lu parses)\n", (t1 - t0) / (double)n, n);
	return 0;
}
