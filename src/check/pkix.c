/* SPDX-License-Identifier: ISC */
/*
 * The certificate judgement that the policy fetch and the MX probe share
 * (pkix.h): OpenSSL's own verification and host name check, with the
 * flags of RFC 8461 §3.3 and §4.2, and the leaf's notAfter and DNS-IDs
 * for the report.  Before this file each had its own copy, and they had
 * drifted (one reported a cut list of names, the other did not; one
 * verified at the connection's security level, the other did not).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pkix.h"
#include "text.h"

/*
 * RFC 8461 §3.3 and §4.2: "matching is performed only against the
 * DNS-ID identifiers" (no CN fallback), and a wildcard only as the
 * whole left-most label (RFC 9525 §6.3; checklist A12).
 */
#define HOST_FLAGS                                                             \
	(X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |                                 \
	 X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)

long
pkix_verify(SSL *ssl, X509 *leaf, char *msg, size_t size)
{
	X509_STORE *store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
	X509_STORE_CTX *sctx;
	long error = X509_V_ERR_OUT_OF_MEM;

	if ((sctx = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(sctx, store, leaf,
	                        SSL_get_peer_cert_chain(ssl)) == 1) {
		X509_STORE_CTX_set_default(sctx, "ssl_server");
		X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_SERVER);
		X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(
						     sctx),
		                                 SSL_get_security_level(ssl));
		if (X509_verify_cert(sctx) == 1)
			error = X509_V_OK;
		else if ((error = X509_STORE_CTX_get_error(sctx)) == X509_V_OK)
			error = X509_V_ERR_UNSPECIFIED;
	}
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	snprintf(msg, size, "%s", X509_verify_cert_error_string(error));
	return error;
}

bool
pkix_name_ok(X509 *leaf, const char *host)
{
	return X509_check_host(leaf, host, strlen(host), HOST_FLAGS, NULL) == 1;
}

int64_t
pkix_not_after(X509 *leaf)
{
	ASN1_TIME *epoch;
	int64_t t = 0;
	int days, secs;

	if ((epoch = ASN1_TIME_set(NULL, 0)) == NULL)
		return 0;
	if (ASN1_TIME_diff(&days, &secs, epoch, X509_get0_notAfter(leaf)) == 1)
		t = (int64_t)days * 86400 + secs;
	ASN1_TIME_free(epoch);
	return t;
}

void
pkix_dns_ids(X509 *leaf, char *out, size_t size)
{
	GENERAL_NAMES *names;
	const GENERAL_NAME *gn;
	const char *name;
	size_t len = 0, n;
	int i;

	out[0] = '\0';
	names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type != GEN_DNS)
			continue;
		name = (const char *)ASN1_STRING_get0_data(gn->d.dNSName);
		n = (size_t)ASN1_STRING_length(gn->d.dNSName);
		if (len + (len > 0) + text_escaped_len(name, n) + 1 > size) {
			/* No room: say the list goes on. */
			snprintf(out + len, size - len, "%s",
			         len > 0 ? ",..." : "...");
			break;
		}
		if (len > 0)
			out[len++] = ',';
		len += text_escape(out + len, size - len, name, n);
	}
	GENERAL_NAMES_free(names);
}

SSL_CTX *
pkix_ctx_new(const char *ca_file)
{
	SSL_CTX *ctx;
	int ok;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	if (ca_file != NULL)
		ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ERR_clear_error();
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

size_t
pkix_chain_der(STACK_OF(X509) * chain, size_t max, uint8_t ***der, size_t **len)
{
	size_t i, count = 0, n = (size_t)sk_X509_num(chain);
	unsigned char *d;
	int l;

	if (n > max)
		n = max;
	if (n == 0 || (*der = calloc(n, sizeof(**der))) == NULL ||
	    (*len = calloc(n, sizeof(**len))) == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		d = NULL;
		if ((l = i2d_X509(sk_X509_value(chain, (int)i), &d)) <= 0)
			break;
		/* OpenSSL's allocation, handed to free(): copy it. */
		if (((*der)[i] = malloc((size_t)l)) == NULL) {
			OPENSSL_free(d);
			break;
		}
		memcpy((*der)[i], d, (size_t)l);
		OPENSSL_free(d);
		(*len)[i] = (size_t)l;
		count = i + 1;
	}
	return count;
}

int
pkix_sockaddr(const char *address, unsigned port, struct sockaddr_storage *ss,
              socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}
