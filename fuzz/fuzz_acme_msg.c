/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the messages of serve's acme process
 * (src/serve/acme_msg.c): the message decoder, the CONF decoder and the
 * state file's split on the same bytes.  Aborts when an invariant breaks:
 * - a decoded message's blobs lie inside the input, and encoding it
 *   again gives the same bytes (one spelling per message);
 * - a decoded CONF encodes again and decodes to the same names;
 * - a split gives a chain and a key that are NUL-terminated and no
 *   longer than the input plus a newline per block.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme_msg.h"

#include "fuzz.h"

/* A blob as a C string; an empty one may be NULL (nothing to copy). */
static void
copy_text(char *dst, const uint8_t *src, size_t len)
{
	if (len != 0)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

static int
reencode(const struct acme_msg *m, uint8_t **out, size_t *len)
{
	char err[ACME_ERROR_MAX + 1];

	switch (m->type) {
	case ACME_MSG_ISSUED:
		return acme_msg_issued(m->name, out, len);
	case ACME_MSG_ALPN_ADD:
		return acme_msg_alpn_add(m->name, (const char *)m->cert,
		                         m->cert_len, (const char *)m->key,
		                         m->key_len, out, len);
	case ACME_MSG_ALPN_DEL:
		return acme_msg_alpn_del(m->name, out, len);
	case ACME_MSG_HTTP_ADD:
		copy_text(err, m->cert, m->cert_len);
		return acme_msg_http_add(m->name, err, out, len);
	case ACME_MSG_HTTP_DEL:
		return acme_msg_http_del(m->name, out, len);
	case ACME_MSG_STATE:
		copy_text(err, m->cert, m->cert_len); /* may be empty: NULL */
		return acme_msg_state(m->name, m->not_after, m->renew_at,
		                      m->failures, err, out, len);
	}
	return -1;
}

static void
check_msg(const uint8_t *data, size_t size)
{
	struct acme_msg m;
	uint8_t *again;
	size_t len;

	if (acme_msg_decode(data, size, &m) != 0)
		return;
	CHECK(m.cert == NULL ||
	      (m.cert >= data && m.cert + m.cert_len <= data + size));
	CHECK(m.key == NULL ||
	      (m.key >= data && m.key + m.key_len <= data + size));
	if (m.type == ACME_MSG_HTTP_ADD || m.type == ACME_MSG_STATE)
		CHECK(m.cert_len <= ACME_ERROR_MAX ||
		      m.type == ACME_MSG_HTTP_ADD);
	CHECK(reencode(&m, &again, &len) == 0);
	CHECK(len == size && memcmp(again, data, size) == 0);
	free(again);
}

static void
check_conf(const uint8_t *data, size_t size)
{
	struct acme_proc_conf c, d;
	uint8_t *again;
	size_t len, i;

	if (acme_conf_decode(data, size, &c) != 0)
		return;
	CHECK(c.directory != NULL && c.state_dir != NULL);
	CHECK(acme_conf_encode(&c, &again, &len) == 0);
	CHECK(acme_conf_decode(again, len, &d) == 0);
	CHECK(d.name_count == c.name_count);
	for (i = 0; i < c.name_count; i++)
		CHECK(strcmp(c.names[i], d.names[i]) == 0);
	free(again);
	acme_conf_free(&c);
	acme_conf_free(&d);
}

static void
check_split(const uint8_t *data, size_t size)
{
	char *chain, *key;
	size_t clen, klen;

	if (acme_pem_split((const char *)data, size, &chain, &clen, &key,
	                   &klen) != 0)
		return;
	CHECK(strlen(chain) == clen && strlen(key) == klen);
	CHECK(clen + klen <= size + size / 20 + 2);
	free(chain);
	free(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_msg(data, size);
	check_conf(data, size);
	check_split(data, size);
	return 0;
}
