/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the mail path of the report sources: arbitrary
 * bytes given to source_read_buffer() with no Content-Type, so that they
 * are sniffed as gzip, JSON, an mbox (split in memory, mboxrd) or a
 * report mail (GMime: multiparts, attached messages, base64 and
 * quoted-printable parts, gzip inflated under its cap; RFC 8460 §5.3).
 * Besides memory errors and leaks (ASan, with GMime's process-wide state
 * released at exit) and undefined behaviour (UBSan), it aborts when an
 * invariant breaks:
 * - every input gives at least one item, and reading memory never fails;
 * - an item has either JSON or an error, never both nor neither;
 * - JSON is at most inflated_max octets; every octet of it is read;
 * - raw is the input or a slice of what it carried, never longer than
 *   input_max; an mbox message's origin is "fuzz#N";
 * - a mail item's part is 0 only with an error;
 * - the walk stops at the first SOURCE_STOP: the same input with a
 *   callback that stops gives exactly one item.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mime.h"
#include "source.h"

struct count {
	size_t items;
	size_t max_json;
	unsigned sum; /* of every JSON octet: ASan sees each read */
	enum source_verdict verdict;
};

static struct source_limits lim;

static enum source_verdict
check(const struct source_item *item, void *ctx)
{
	struct count *c = ctx;
	size_t i;

	c->items++;
	CHECK(item->origin != NULL);
	CHECK(strcmp(item->origin, "fuzz") == 0 ||
	      strncmp(item->origin, "fuzz#", 5) == 0);
	CHECK((item->json == NULL) != (item->error == NULL));
	CHECK(item->kind == SOURCE_JSON || item->kind == SOURCE_GZIP ||
	      item->kind == SOURCE_MAIL);
	CHECK(item->raw_len <= lim.input_max);
	CHECK(item->raw != NULL || item->raw_len == 0);
	if (item->json != NULL) {
		CHECK(item->json_len <= lim.inflated_max);
		for (i = 0; i < item->json_len; i++)
			c->sum += (unsigned char)item->json[i];
		if (item->json_len > c->max_json)
			c->max_json = item->json_len;
	} else
		CHECK(item->error[0] != '\0');
	if (item->kind == SOURCE_MAIL && item->part == 0)
		CHECK(item->error != NULL);
	return c->verdict;
}

static void
release(void)
{
	mime_shutdown();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct count c = {0}, stop = {0};
	static int ready;
	char why[256];
	int rc;

	if (!ready) {
		/*
		 * Small caps keep the executions fast; the code paths are
		 * those of the defaults.
		 */
		source_limits_default(&lim);
		lim.input_max = 1024 * 1024;
		lim.inflated_max = 256 * 1024;
		lim.parts_max = 32;
		lim.messages_max = 16;
		atexit(release);
		ready = 1;
	}
	c.verdict = SOURCE_NEXT;
	rc = source_read_buffer((const char *)data, size, "fuzz", NULL, &lim,
	                        check, &c, why, sizeof(why));
	CHECK(rc == 0);
	CHECK(c.items >= 1);
	stop.verdict = SOURCE_STOP;
	rc = source_read_buffer((const char *)data, size, "fuzz", NULL, &lim,
	                        check, &stop, why, sizeof(why));
	CHECK(rc == 1 && stop.items == 1);
	return 0;
}
