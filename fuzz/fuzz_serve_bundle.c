/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the bundle decoder of mtasts serve
 * (src/serve/bundle.c), the configuration set the parent sends to the
 * server process.  Besides memory errors and leaks (ASan, LeakSanitizer:
 * a failed decode must free all it built), undefined behaviour (UBSan)
 * and allocations out of proportion to the input (libFuzzer's
 * -malloc_limit_mb), it aborts when an invariant breaks:
 * - a failed decode leaves *b all zero;
 * - a decoded set holds NUL-terminated strings of the lengths it gives,
 *   and every domain's pair index is below the pair count;
 * - what decodes re-encodes to the input itself, byte for byte (one set
 *   has one encoding: the decoder refuses a NUL inside the names and the
 *   Cache-Control value, which are C strings), and that decodes to an
 *   equal set again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

#include "fuzz.h"

static bool
is_zeroed(const struct bundle *b)
{
	static const struct bundle zero;

	return memcmp(b, &zero, sizeof(zero)) == 0;
}

static bool
same_str(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void
check_bundle(const struct bundle *b)
{
	size_t i;

	CHECK(b->cache_control != NULL);
	CHECK(b->pair_count == 0 || b->pairs != NULL);
	CHECK(b->domain_count == 0 || b->domains != NULL);
	for (i = 0; i < b->pair_count; i++) {
		CHECK(b->pairs[i].cert_pem != NULL &&
		      b->pairs[i].key_pem != NULL);
		CHECK(b->pairs[i].cert_pem[b->pairs[i].cert_len] == '\0');
		CHECK(b->pairs[i].key_pem[b->pairs[i].key_len] == '\0');
	}
	for (i = 0; i < b->domain_count; i++) {
		CHECK(b->domains[i].name != NULL &&
		      b->domains[i].policy != NULL);
		CHECK(b->domains[i].policy[b->domains[i].policy_len] == '\0');
		CHECK(b->domains[i].pair < b->pair_count);
	}
}

static void
check_equal(const struct bundle *a, const struct bundle *b)
{
	size_t i;

	CHECK(strcmp(a->cache_control, b->cache_control) == 0);
	CHECK(a->max_connections == b->max_connections);
	CHECK(a->idle_timeout == b->idle_timeout);
	CHECK(a->read_timeout == b->read_timeout);
	CHECK(a->generation == b->generation);
	CHECK(a->pair_count == b->pair_count);
	CHECK(a->domain_count == b->domain_count);
	for (i = 0; i < a->pair_count; i++) {
		CHECK(same_str(a->pairs[i].cert_pem, a->pairs[i].cert_len,
		               b->pairs[i].cert_pem, b->pairs[i].cert_len));
		CHECK(same_str(a->pairs[i].key_pem, a->pairs[i].key_len,
		               b->pairs[i].key_pem, b->pairs[i].key_len));
	}
	for (i = 0; i < a->domain_count; i++) {
		CHECK(strcmp(a->domains[i].name, b->domains[i].name) == 0);
		CHECK(same_str(a->domains[i].policy, a->domains[i].policy_len,
		               b->domains[i].policy, b->domains[i].policy_len));
		CHECK(a->domains[i].pair == b->domains[i].pair);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle b, b2;
	uint8_t *out, *out2;
	size_t len, len2;

	memset(&b, 0x5A, sizeof(b));
	if (bundle_decode(data, size, &b) != 0) {
		CHECK(is_zeroed(&b));
		return 0;
	}
	check_bundle(&b);
	CHECK(bundle_encode(&b, &out, &len) == 0);
	CHECK(len == size && memcmp(out, data, size) == 0);
	CHECK(bundle_decode(out, len, &b2) == 0);
	check_bundle(&b2);
	check_equal(&b, &b2);
	CHECK(bundle_encode(&b2, &out2, &len2) == 0);
	CHECK(len2 == len && memcmp(out, out2, len) == 0);
	free(out);
	free(out2);
	bundle_free(&b);
	bundle_free(&b2);
	return 0;
}
