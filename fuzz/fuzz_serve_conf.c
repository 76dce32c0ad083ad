/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the mtasts.conf(5) parser (src/serve/conf.c).
 * Besides memory errors and leaks (ASan, LeakSanitizer: a failed parse
 * must free all it built) and undefined behaviour (UBSan), it aborts
 * when an invariant breaks:
 * - the verdict and the error message do not change between two runs;
 * - an error is one NUL-terminated "fuzz.conf:LINE: message" with a
 *   line that exists in the input, and *conf is left all zero;
 * - a success has 1..CONF_LISTEN_MAX numeric listen addresses with
 *   ports, numbers in their ranges, a printable cache-control, domain
 *   names that pass mts_dname_check(), are lower case, not an mta-sts
 *   host, and unique; each domain has a policy and a certificate and key
 *   (its own pair or the defaults), and the domains-dir paths are unique.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/dname.h>

#include "conf.h"

#include "fuzz.h"

#define FILE_NAME "fuzz.conf"

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
check_error(const char *err, const char *buf, size_t size,
            const struct serve_conf *conf)
{
	static const struct serve_conf zero;
	const char *p = err + sizeof(FILE_NAME ":") - 1;
	unsigned long line;
	char *end;

	CHECK(memchr(err, '\0', CONF_ERR_SIZE) != NULL);
	CHECK(strncmp(err, FILE_NAME ":", sizeof(FILE_NAME ":") - 1) == 0);
	line = strtoul(p, &end, 10);
	CHECK(end > p && line >= 1 && line <= count_lines(buf, size));
	CHECK(strncmp(end, ": ", 2) == 0 && end[2] != '\0');
	CHECK(memcmp(conf, &zero, sizeof(zero)) == 0);
}

static void
check_addr(const struct conf_listen *l)
{
	unsigned char bin[16];

	CHECK(memchr(l->host, '\0', sizeof(l->host)) != NULL);
	CHECK(inet_pton(AF_INET, l->host, bin) == 1 ||
	      inet_pton(AF_INET6, l->host, bin) == 1);
	CHECK(l->port >= 1 && l->port <= 65535);
}

static void
check_domain(const struct serve_conf *c, size_t i)
{
	const struct conf_domain *d = &c->domains[i];
	size_t j, n = strlen(d->name);

	CHECK(mts_dname_check(d->name, n, MTS_DNAME_REQUIRE_DOT, NULL) == 0);
	for (j = 0; j < n; j++)
		CHECK(d->name[j] < 'A' || d->name[j] > 'Z');
	CHECK(strncmp(d->name, "mta-sts.", 8) != 0 ||
	      strchr(d->name + 8, '.') == NULL);
	for (j = 0; j < i; j++)
		CHECK(strcmp(c->domains[j].name, d->name) != 0);
	CHECK(d->policy != NULL && d->policy[0] != '\0');
	CHECK((d->certificate == NULL) == (d->key == NULL));
	CHECK(d->certificate != NULL || c->certificate != NULL);
	CHECK(d->line >= 1);
}

static void
check_conf(const struct serve_conf *c)
{
	size_t i, j;

	CHECK(c->listen_count >= 1 && c->listen_count <= CONF_LISTEN_MAX);
	for (i = 0; i < c->listen_count; i++)
		check_addr(&c->listen[i]);
	if (c->metrics.port != 0)
		check_addr(&c->metrics);
	CHECK(c->max_connections >= 1 && c->max_connections <= 1000000);
	CHECK(c->idle_timeout >= 1 && c->idle_timeout <= 3600);
	CHECK(c->read_timeout >= 1 && c->read_timeout <= 600);
	CHECK(c->cache_control != NULL && c->cache_control[0] != '\0');
	for (i = 0; c->cache_control[i] != '\0'; i++)
		CHECK(c->cache_control[i] >= 0x20 &&
		      c->cache_control[i] < 0x7F);
	CHECK((c->certificate == NULL) == (c->key == NULL));
	CHECK(c->domain_count > 0 || c->domains_dir_count > 0);
	for (i = 0; i < c->domain_count; i++)
		check_domain(c, i);
	for (i = 0; i < c->domains_dir_count; i++)
		for (j = 0; j < i; j++)
			CHECK(strcmp(c->domains_dirs[i], c->domains_dirs[j]) !=
			      0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char err[CONF_ERR_SIZE], err2[CONF_ERR_SIZE];
	struct serve_conf c, c2;
	int rc, rc2;

	memset(&c, 0x5A, sizeof(c));
	rc = conf_parse(buf, size, FILE_NAME, &c, err);
	rc2 = conf_parse(buf, size, FILE_NAME, &c2, err2);
	CHECK(rc == rc2);
	if (rc == 0) {
		CHECK(err[0] == '\0');
		check_conf(&c);
		CHECK(c.domain_count == c2.domain_count);
		conf_free(&c);
		conf_free(&c2);
	} else {
		CHECK(rc == -1 && strcmp(err, err2) == 0);
		check_error(err, buf, size, &c);
	}
	return 0;
}
