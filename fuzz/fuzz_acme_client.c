/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the parsers of serve's ACME client that read the
 * CA's bytes outside the JSON documents (src/serve/acme_client.c; those
 * are fuzz_acme_json's): a response header line, a Retry-After value
 * (RFC 9110 §10.2.3) and the certID of a certificate (RFC 9773 §4.1).
 * Aborts when an invariant breaks:
 * - a header value fits its buffer, is NUL-terminated and has no blank
 *   at either end;
 * - a Retry-After taken lies between now and ten years on (the client's
 *   cap), whatever the form;
 * - a certID is base64url "." base64url, both halves non-empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "acme_client.h"

#include "fuzz.h"

#define NOW        1700000000LL
#define TEN_YEARS  (10 * 366 * 86400LL)
#define VALUE_SIZE 64 /* the client's Retry-After buffer */

static bool
b64url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return n > 0;
}

static void
check_header(const uint8_t *data, size_t size)
{
	char out[VALUE_SIZE];
	int64_t at = 0;
	size_t n;

	if (!acme_header_value((const char *)data, size, "Retry-After", out,
	                       sizeof(out)))
		return;
	n = strnlen(out, sizeof(out));
	CHECK(n < sizeof(out));
	CHECK(n == 0 ||
	      (out[0] != ' ' && out[0] != '\t' && out[n - 1] != ' ' &&
	       out[n - 1] != '\t'));
	/* What the client does with it next. */
	if (acme_retry_after_parse(out, NOW, &at) == 0)
		CHECK(at >= NOW && at <= NOW + TEN_YEARS);
}

static void
check_retry_after(const uint8_t *data, size_t size)
{
	char value[VALUE_SIZE];
	int64_t at = -1;
	size_t n = size < sizeof(value) - 1 ? size : sizeof(value) - 1;

	memcpy(value, data, n);
	value[n] = '\0';
	if (acme_retry_after_parse(value, NOW, &at) != 0) {
		CHECK(at == -1); /* untouched */
		return;
	}
	CHECK(at >= NOW && at <= NOW + TEN_YEARS);
}

static void
check_cert_id(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	char *id = NULL, *dot;
	X509 *x;

	if ((x = d2i_X509(NULL, &p, (long)size)) == NULL)
		return;
	if (acme_cert_id(x, &id) == 0) {
		CHECK(id != NULL && (dot = strchr(id, '.')) != NULL);
		CHECK(b64url(id, (size_t)(dot - id)));
		CHECK(b64url(dot + 1, strlen(dot + 1)));
		free(id);
	}
	X509_free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_header(data, size);
	check_retry_after(data, size);
	check_cert_id(data, size);
	return 0;
}
