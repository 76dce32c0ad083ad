/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the files of serve's ACME state directory read
 * back (src/serve/acme_state.c): the account file, an order file, a
 * domain's .state, a certificate file, and the keys (acme_csr.c's
 * acme_key_from_pem()), all on the same bytes.  A state directory is
 * the acme process's own, but a full disk, a crash or a hand leaves
 * what it leaves.  Aborts when an invariant breaks:
 * - a URL read back is https, printable ASCII without space, at most
 *   ACME_URL_MAX octets (what the CA's documents are held to);
 * - a .state read back encodes again to a STATE that reads the same;
 * - a certificate read back has a leaf; a key read back is P-256.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "acme_csr.h"
#include "acme_json.h"
#include "acme_msg.h"
#include "acme_state.h"

#include "fuzz.h"

#define DIRECTORY "https://ca.example/dir"
#define DOMAIN    "a.example"

static void
check_url(const char *u)
{
	size_t i, n = strlen(u);

	CHECK(n > 8 && n <= ACME_URL_MAX && strncmp(u, "https://", 8) == 0);
	for (i = 0; i < n; i++)
		CHECK((unsigned char)u[i] > 0x20 && (unsigned char)u[i] < 0x7f);
}

static void
check_urls(const char *buf, size_t len)
{
	char *url = NULL;

	if (acme_state_account_parse(buf, len, DIRECTORY, &url) == 0) {
		CHECK(len > sizeof(DIRECTORY) &&
		      memcmp(buf, DIRECTORY "\n", sizeof(DIRECTORY)) == 0);
		check_url(url);
		free(url);
	}
	url = NULL;
	if (acme_state_order_parse(buf, len, &url) == 0) {
		check_url(url);
		CHECK(memcmp(buf, url, strlen(url)) == 0);
		free(url);
	}
}

static void
check_dom(const uint8_t *data, size_t size)
{
	struct acme_dom_state st, again;
	uint8_t *body = NULL;
	size_t len = 0;

	if (acme_state_dom_parse(data, size, DOMAIN, &st) != 0)
		return;
	CHECK(strlen(st.last_error) <= ACME_ERROR_MAX);
	CHECK(acme_msg_state(DOMAIN, st.not_after, st.renew_at, st.failures,
	                     st.last_error, &body, &len) == 0);
	CHECK(acme_state_dom_parse(body, len, DOMAIN, &again) == 0);
	CHECK(again.not_after == st.not_after &&
	      again.renew_at == st.renew_at && again.failures == st.failures &&
	      strcmp(again.last_error, st.last_error) == 0);
	free(body);
}

static void
check_cert(const char *buf, size_t len)
{
	int64_t nb = 0, na = 0;
	X509 *leaf = NULL;

	if (acme_state_cert_parse(buf, len, &leaf, &nb, &na) != 0) {
		CHECK(leaf == NULL);
		return;
	}
	CHECK(leaf != NULL);
	X509_free(leaf);
}

static void
check_key(const char *buf, size_t len)
{
	EVP_PKEY *k;

	if ((k = acme_key_from_pem(buf, len)) == NULL)
		return;
	CHECK(EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	      EVP_PKEY_get_bits(k) == 256);
	EVP_PKEY_free(k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	/* As acme_state_read() leaves a file: NUL-terminated. */
	if (size > ACME_STATE_FILE_MAX || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	check_urls(buf, size);
	check_dom((const uint8_t *)buf, size);
	check_cert(buf, size);
	check_key(buf, size);
	free(buf);
	return 0;
}
