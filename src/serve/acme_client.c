/* SPDX-License-Identifier: ISC */
/*
 * The HTTP side of serve's ACME client (acme_client.h says what and
 * why): libcurl for the transport, acme_jws.c for the signatures,
 * acme_json.c for the documents.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/x509v3.h>

#include "acme_client.h"
#include "acme_jws.h"

#define TEN_YEARS    (10 * 366 * 86400LL)
#define SYSTEM_CERTS "/etc/ssl/certs"
#ifndef MTS_VERSION_STRING
#define MTS_VERSION_STRING "0"
#endif

/* ---- pure helpers ---- */

int
acme_retry_after_parse(const char *value, int64_t now, int64_t *out)
{
	const char *p;
	int64_t v = 0;
	time_t t;

	if (value == NULL || value[0] == '\0')
		return -1;
	if (isdigit((unsigned char)value[0])) {
		/* delay-seconds = 1*DIGIT (RFC 9110 §10.2.3) */
		for (p = value; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p))
				return -1;
			v = v * 10 + (*p - '0');
			if (v > TEN_YEARS)
				return -1;
		}
		*out = now + v;
		return 0;
	}
	/* An HTTP-date; curl_getdate() reads the three forms of RFC 9110
	   §5.6.7 and keeps no state. */
	if ((t = curl_getdate(value, NULL)) == -1)
		return -1;
	if ((int64_t)t > now + TEN_YEARS)
		return -1;
	*out = (int64_t)t < now ? now : (int64_t)t;
	return 0;
}

int
acme_cert_id_raw(const uint8_t *aki, size_t aki_len, const uint8_t *serial,
                 size_t serial_len, char **out)
{
	char *a = NULL, *s = NULL, *id = NULL;
	size_t n;

	if (aki_len == 0 || serial_len == 0)
		return -1;
	if ((a = acme_b64url_new(aki, aki_len)) == NULL ||
	    (s = acme_b64url_new(serial, serial_len)) == NULL)
		goto fail;
	n = strlen(a) + 1 + strlen(s) + 1;
	if ((id = malloc(n)) == NULL)
		goto fail;
	snprintf(id, n, "%s.%s", a, s);
	free(a);
	free(s);
	*out = id;
	return 0;
fail:
	free(a);
	free(s);
	return -1;
}

int
acme_cert_id(X509 *cert, char **out)
{
	const ASN1_OCTET_STRING *aki;
	const unsigned char *p;
	unsigned char *der = NULL;
	long clen;
	int n, tag, cls, rc = -1;

	if (cert == NULL || (aki = X509_get0_authority_key_id(cert)) == NULL ||
	    (n = i2d_ASN1_INTEGER(X509_get_serialNumber(cert), &der)) <= 0)
		return -1;
	/* The content octets of the DER INTEGER: a positive serial whose
	   top bit is set keeps its leading zero (RFC 9773 §4.1). */
	p = der;
	if ((ASN1_get_object(&p, &clen, &tag, &cls, n) & 0x80) == 0 &&
	    tag == V_ASN1_INTEGER && clen > 0)
		rc = acme_cert_id_raw(ASN1_STRING_get0_data(aki),
		                      (size_t)ASN1_STRING_length(aki), p,
		                      (size_t)clen, out);
	OPENSSL_free(der);
	return rc;
}

/* ---- the transport ---- */

void
acme_resp_free(struct acme_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->location);
	memset(r, 0, sizeof(*r));
}

/* What the callbacks of one transfer fill. */
struct xfer {
	struct acme_resp r;
	size_t cap, size;
	bool too_big;
	char nonce[ACME_NONCE_MAX + 1];
	char retry_after[64];
};

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, want;
	char *p;

	if (n > x->cap - x->r.len) {
		x->too_big = true;
		return 0;
	}
	if (x->r.len + n + 1 > x->size) {
		want = x->size == 0 ? 4096 : x->size;
		while (want < x->r.len + n + 1)
			want *= 2;
		if ((p = realloc(x->r.body, want)) == NULL)
			return 0;
		x->r.body = p;
		x->size = want;
	}
	memcpy(x->r.body + x->r.len, ptr, n);
	x->r.len += n;
	x->r.body[x->r.len] = '\0';
	return n;
}

bool
acme_header_value(const char *h, size_t n, const char *name, char *out,
                  size_t size)
{
	size_t k = strlen(name), i, j;

	if (n <= k || strncasecmp(h, name, k) != 0 || h[k] != ':')
		return false;
	for (i = k + 1; i < n && (h[i] == ' ' || h[i] == '\t'); i++)
		;
	for (j = n; j > i && isspace((unsigned char)h[j - 1]); j--)
		;
	/* RFC 9110 §5.5: CR, LF and NUL are invalid in a field value; a
	   NUL would cut the C string short of what the CA sent (a nonce
	   taken in part, a value that ends in a blank). */
	if (j - i >= size || memchr(h + i, '\0', j - i) != NULL ||
	    memchr(h + i, '\r', j - i) != NULL ||
	    memchr(h + i, '\n', j - i) != NULL)
		return false;
	memcpy(out, h + i, j - i);
	out[j - i] = '\0';
	return true;
}

static size_t
on_header(char *h, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	char loc[ACME_URL_MAX + 1];

	if (acme_header_value(h, n, "Replay-Nonce", x->nonce,
	                      sizeof(x->nonce)) &&
	    !acme_token_valid(x->nonce, strlen(x->nonce)))
		x->nonce[0] = '\0'; /* RFC 8555 §6.5.1: base64url */
	(void)acme_header_value(h, n, "Retry-After", x->retry_after,
	                        sizeof(x->retry_after));
	if (acme_header_value(h, n, "Location", loc, sizeof(loc))) {
		free(x->r.location);
		x->r.location = strdup(loc);
	}
	return n;
}

static void
say(struct acme_client *c, const char *why)
{
	snprintf(c->why, sizeof(c->why), "%s", why);
}

/* The options every request has. */
static CURLcode
common_opts(struct acme_client *c, const char *url, struct xfer *x)
{
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = curl_easy_setopt(c->curl, opt, val);              \
	} while (0)
	curl_easy_reset(c->curl);
	SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form */
	SET(CURLOPT_PROTOCOLS_STR, "https");
#else
	SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* acme-ca-file is extra trust: the file and the system's store. */
	if (c->ca_file != NULL) {
		SET(CURLOPT_CAINFO, c->ca_file);
		SET(CURLOPT_CAPATH, SYSTEM_CERTS);
	}
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, ACME_HTTP_CONNECT_TIMEOUT);
	SET(CURLOPT_TIMEOUT, ACME_HTTP_TIMEOUT);
	SET(CURLOPT_USERAGENT, "mtasts-serve/" MTS_VERSION_STRING);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
#undef SET
	return rc;
}

/*
 * One HTTP request: GET, HEAD (head), or POST of body (jose).  0 with
 * x->r filled whatever the status; -1 when no response came (c->why).
 */
static int
perform(struct acme_client *c, const char *url, const char *body, bool head,
        const char *accept, size_t cap, int64_t now, struct xfer *x)
{
	struct curl_slist *hdrs = NULL, *h;
	char line[128];
	CURLcode rc;

	memset(x, 0, sizeof(*x));
	x->cap = cap;
	if ((x->r.body = malloc(1)) == NULL) {
		say(c, "out of memory");
		return -1;
	}
	x->r.body[0] = '\0';
	x->size = 1;
	rc = common_opts(c, url, x);
	if (rc == CURLE_OK && head)
		rc = curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	if (rc == CURLE_OK && body != NULL) {
		h = curl_slist_append(hdrs,
		                      "Content-Type: application/jose+json");
		hdrs = h != NULL ? h : hdrs;
		rc = h == NULL ?
		    CURLE_OUT_OF_MEMORY :
		    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	}
	if (rc == CURLE_OK && accept != NULL) {
		snprintf(line, sizeof(line), "Accept: %s", accept);
		h = curl_slist_append(hdrs, line);
		hdrs = h != NULL ? h : hdrs;
		rc = h == NULL ? CURLE_OUT_OF_MEMORY : CURLE_OK;
	}
	if (rc == CURLE_OK && hdrs != NULL)
		rc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	c->requests++;
	if (rc == CURLE_OK)
		rc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdrs);
	if (x->nonce[0] != '\0')
		memcpy(c->nonce, x->nonce, sizeof(c->nonce));
	if (rc != CURLE_OK) {
		snprintf(c->why, sizeof(c->why), "%s: %s", url,
		         x->too_big ? "response over the cap" :
		                      curl_easy_strerror(rc));
		acme_resp_free(&x->r);
		return -1;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->r.status);
	if (x->retry_after[0] != '\0')
		(void)acme_retry_after_parse(x->retry_after, now,
		                             &x->r.retry_after);
	return 0;
}

/* A non-2xx response: the problem document into c->why, c->problem. */
static void
take_problem(struct acme_client *c, const char *url, struct acme_resp *r)
{
	struct acme_problem p;
	const char *type;

	c->problem = ACME_PROBLEM_OTHER;
	c->retry_after = r->retry_after;
	if (acme_problem_parse(r->body, r->len, &p, NULL, 0) != 0) {
		snprintf(c->why, sizeof(c->why), "%s: HTTP %ld", url,
		         r->status);
		return;
	}
	c->problem = p.kind;
	type = p.type != NULL ? p.type : "about:blank";
	if (strncmp(type, "urn:ietf:params:acme:error:", 27) == 0)
		type += 27;
	snprintf(c->why, sizeof(c->why), "HTTP %ld %s: %s", r->status, type,
	         p.detail != NULL ? p.detail : "(no detail)");
	acme_problem_free(&p);
}

int
acme_client_init(struct acme_client *c, const char *dir_url,
                 const char *ca_file, EVP_PKEY *key)
{
	memset(c, 0, sizeof(*c));
	c->key = key;
	if ((c->curl = curl_easy_init()) == NULL ||
	    (c->dir_url = strdup(dir_url)) == NULL ||
	    (ca_file != NULL && (c->ca_file = strdup(ca_file)) == NULL)) {
		acme_client_free(c);
		return -1;
	}
	return 0;
}

void
acme_client_free(struct acme_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->dir_url);
	free(c->ca_file);
	free(c->kid);
	if (c->have_dir)
		acme_directory_free(&c->dir);
	memset(c, 0, sizeof(*c));
}

void
acme_client_forget(struct acme_client *c)
{
	if (c->have_dir)
		acme_directory_free(&c->dir);
	c->have_dir = false;
	c->nonce[0] = '\0';
}

int
acme_client_directory(struct acme_client *c, int64_t now)
{
	struct xfer x;
	char why[ACME_WHY_MAX];
	int rc = -1;

	c->retry_after = 0;
	c->problem = ACME_PROBLEM_OTHER;
	if (c->have_dir)
		return 0;
	if (perform(c, c->dir_url, NULL, false, "application/json",
	            ACME_JSON_MAX_DOC, now, &x) != 0)
		return -1;
	if (x.r.status != 200) {
		take_problem(c, c->dir_url, &x.r);
	} else if (acme_directory_parse(x.r.body, x.r.len, &c->dir, why,
	                                sizeof(why)) != 0) {
		snprintf(c->why, sizeof(c->why), "directory: %s", why);
	} else {
		c->have_dir = true;
		rc = 0;
	}
	acme_resp_free(&x.r);
	return rc;
}

/* A fresh nonce from newNonce (RFC 8555 §7.2) when none is kept. */
static int
need_nonce(struct acme_client *c, int64_t now)
{
	struct xfer x;
	int rc = 0;

	if (c->nonce[0] != '\0')
		return 0;
	if (acme_client_directory(c, now) != 0 ||
	    perform(c, c->dir.new_nonce, NULL, true, NULL, 0, now, &x) != 0)
		return -1;
	if (c->nonce[0] == '\0') {
		snprintf(c->why, sizeof(c->why),
		         "newNonce: HTTP %ld and no "
		         "Replay-Nonce",
		         x.r.status);
		rc = -1;
	}
	acme_resp_free(&x.r);
	return rc;
}

/* One signed POST with the nonce kept; 0 and x->r, or -1. */
static int
post_once(struct acme_client *c, const char *url, const char *payload,
          const char *accept, size_t cap, int64_t now, struct xfer *x)
{
	struct acme_jws_req req;
	char *jws = NULL;
	int rc;

	if (need_nonce(c, now) != 0)
		return -1;
	req.url = url;
	req.nonce = c->nonce;
	req.kid = c->kid;
	req.payload = payload;
	req.payload_len = strlen(payload);
	if (acme_jws_sign(c->key, &req, &jws) != 0) {
		say(c, "cannot sign the request");
		return -1;
	}
	/* A nonce is good for one request (RFC 8555 §6.5). */
	c->nonce[0] = '\0';
	rc = perform(c, url, jws, false, accept, cap, now, x);
	free(jws);
	return rc;
}

int
acme_client_post(struct acme_client *c, const char *url, const char *payload,
                 const char *accept, size_t cap, int64_t now,
                 struct acme_resp *r)
{
	struct xfer x;
	int tries;

	c->retry_after = 0;
	c->problem = ACME_PROBLEM_OTHER;
	for (tries = 0; tries < ACME_BADNONCE_TRIES; tries++) {
		if (post_once(c, url, payload, accept, cap, now, &x) != 0)
			return -1;
		if (x.r.status >= 200 && x.r.status < 300) {
			*r = x.r;
			return 0;
		}
		take_problem(c, url, &x.r);
		acme_resp_free(&x.r);
		/* RFC 8555 §6.5: a badNonce error carries a fresh nonce,
		   which the client retries with. */
		if (c->problem != ACME_PROBLEM_BAD_NONCE)
			return -1;
		c->bad_nonces++;
	}
	return -1;
}

int
acme_client_account(struct acme_client *c, const char *contact, int64_t now)
{
	struct acme_resp r;
	json_t *o;
	char *payload = NULL;
	int rc = -1;

	if (acme_client_directory(c, now) != 0)
		return -1;
	o = json_pack("{s:b}", "termsOfServiceAgreed", 1);
	if (o != NULL && contact != NULL &&
	    json_object_set_new(o, "contact", json_pack("[s]", contact)) != 0)
		goto out;
	if (o == NULL || (payload = json_dumps(o, JSON_COMPACT)) == NULL) {
		say(c, "out of memory");
		goto out;
	}
	free(c->kid);
	c->kid = NULL; /* newAccount is signed with the jwk (§6.2) */
	if (acme_client_post(c, c->dir.new_account, payload, NULL,
	                     ACME_JSON_MAX_DOC, now, &r) != 0)
		goto out;
	/* 201 for a new account, 200 for the key's existing one (§7.3.1);
	   both name it in Location. */
	if (r.location == NULL) {
		say(c, "newAccount: no Location");
	} else {
		c->kid = r.location;
		r.location = NULL;
		rc = 0;
	}
	acme_resp_free(&r);
out:
	json_decref(o);
	free(payload);
	return rc;
}

int
acme_client_renewal_info(struct acme_client *c, X509 *cert, int64_t now,
                         struct acme_renewal_info *out, int64_t *retry_secs)
{
	struct xfer x;
	char *id = NULL, *url = NULL, why[ACME_WHY_MAX];
	size_t n;
	int rc = -1;

	if (acme_client_directory(c, now) != 0)
		return -1;
	if (c->dir.renewal_info == NULL) {
		say(c, "the directory has no renewalInfo");
		return -1;
	}
	if (acme_cert_id(cert, &id) != 0) {
		say(c, "the certificate has no certID");
		return -1;
	}
	n = strlen(c->dir.renewal_info) + 1 + strlen(id) + 1;
	if ((url = malloc(n)) == NULL)
		goto out;
	snprintf(url, n, "%s%s%s", c->dir.renewal_info,
	         c->dir.renewal_info[strlen(c->dir.renewal_info) - 1] == '/' ?
	             "" :
	             "/",
	         id);
	if (perform(c, url, NULL, false, "application/json", ACME_JSON_MAX_DOC,
	            now, &x) != 0)
		goto out;
	if (x.r.status != 200) {
		take_problem(c, url, &x.r);
	} else if (acme_renewal_info_parse(x.r.body, x.r.len, out, why,
	                                   sizeof(why)) != 0) {
		snprintf(c->why, sizeof(c->why), "renewalInfo: %s", why);
	} else {
		*retry_secs = x.r.retry_after != 0 ? x.r.retry_after - now : -1;
		rc = 0;
	}
	acme_resp_free(&x.r);
out:
	free(url);
	free(id);
	return rc;
}
