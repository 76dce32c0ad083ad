/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for policyd.conf, the configuration of mtasts
 * policyd (src/policyd/conf.c).  Besides memory errors and leaks (a
 * failed parse must free all it built) and undefined behaviour, it
 * aborts when an invariant breaks:
 * - the verdict and the error message do not change between two runs;
 * - an error is one "fuzz.conf:LINE: message" with a line that exists
 *   in the input;
 * - a success prints (`mtasts policyd -n`) a text that parses again and
 *   prints the same text: the printed configuration is the
 *   configuration, which mtasts-policyd(8) promises.
 */
#define _GNU_SOURCE /* open_memstream(3) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#include "fuzz.h"

#define FILE_NAME "fuzz.conf"
#define INPUT_MAX (64 * 1024)

static unsigned
count_lines(const char *buf, size_t size)
{
	unsigned n = 1;
	size_t i;

	for (i = 0; i < size; i++)
		if (buf[i] == '\n')
			n++;
	return n;
}

static void
check_error(const char *err, const char *buf, size_t size)
{
	const char *p = err + sizeof(FILE_NAME ":") - 1;
	unsigned long line;
	char *end = NULL;

	CHECK(strncmp(err, FILE_NAME ":", sizeof(FILE_NAME ":") - 1) == 0);
	line = strtoul(p, &end, 10);
	CHECK(end != p && end[0] == ':' && end[1] == ' ' && end[2] != '\0');
	CHECK(line <= count_lines(buf, size));
	CHECK(memchr(err, '\n', strlen(err)) == NULL);
}

/* The configuration printed; NULL-terminated text, or NULL. */
static char *
printed(const struct policyd_conf *conf, size_t *len)
{
	char *text = NULL;
	FILE *fp = open_memstream(&text, len);

	if (fp == NULL)
		return NULL;
	policyd_conf_print(fp, conf);
	if (fclose(fp) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static void
check_round_trip(const struct policyd_conf *conf)
{
	struct policyd_conf again;
	char err[POLICYD_CONF_ERR_SIZE], *one, *two;
	size_t one_len = 0, two_len = 0;

	if ((one = printed(conf, &one_len)) == NULL)
		return; /* out of memory: nothing to judge */
	memset(&again, 0, sizeof(again));
	CHECK(policyd_conf_parse(one, one_len, FILE_NAME, &again, err) == 0);
	two = printed(&again, &two_len);
	if (two != NULL) {
		CHECK(two_len == one_len && memcmp(one, two, one_len) == 0);
		free(two);
	}
	policyd_conf_free(&again);
	free(one);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policyd_conf a, b;
	char err_a[POLICYD_CONF_ERR_SIZE], err_b[POLICYD_CONF_ERR_SIZE];
	const char *buf = (const char *)data;
	int ra, rb;

	if (size > INPUT_MAX)
		return 0;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(err_a, 0, sizeof(err_a));
	memset(err_b, 0, sizeof(err_b));
	ra = policyd_conf_parse(buf, size, FILE_NAME, &a, err_a);
	rb = policyd_conf_parse(buf, size, FILE_NAME, &b, err_b);
	CHECK(ra == rb);
	CHECK(ra == 0 || ra == -1);
	if (ra != 0) {
		CHECK(strcmp(err_a, err_b) == 0);
		check_error(err_a, buf, size);
		return 0;
	}
	check_round_trip(&a);
	policyd_conf_free(&a);
	policyd_conf_free(&b);
	return 0;
}
