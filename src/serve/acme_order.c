/* SPDX-License-Identifier: ISC */
/*
 * One domain's ACME order as a stepped job (acme_order.h says the steps
 * and how a killed process's order is resumed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "acme_alpn.h"
#include "acme_csr.h"
#include "acme_jws.h"
#include "acme_order.h"
#include "acme_state.h"

#define HOST_PREFIX   "mta-sts."
#define ALPN_LIFETIME (7L * 86400) /* the challenge certificate's */

enum step {
	S_START,
	S_NEW,
	S_FETCH,
	S_HANDLE,
	S_AUTHZ,
	S_RESPOND,
	S_POLL,
	S_FINALIZE,
	S_DOWNLOAD
};

struct acme_job {
	char domain[ACME_NAME_MAX + 1];
	char host[ACME_NAME_MAX + 1]; /* mta-sts.DOMAIN */
	enum step step;
	char *order_url;
	struct acme_order order;
	bool have_order;
	bool resumed, ordered, first_look;
	size_t authz_i;
	/* The challenge of the current authorization. */
	bool use_alpn;
	char *chal_url;
	char token[ACME_TOKEN_MAX + 1];
	bool installed;
	unsigned polls;
	int64_t wake;
	char why[ACME_CLIENT_WHY + 64];
	int64_t retry_after;
};

struct acme_job *
acme_job_new(const char *domain)
{
	struct acme_job *job;
	int n;

	if (!acme_name_ok(domain) || (job = calloc(1, sizeof(*job))) == NULL)
		return NULL;
	n = snprintf(job->host, sizeof(job->host), HOST_PREFIX "%s", domain);
	if (n < 0 || (size_t)n >= sizeof(job->host)) {
		free(job);
		return NULL;
	}
	snprintf(job->domain, sizeof(job->domain), "%s", domain);
	job->step = S_START;
	return job;
}

/* Asks the server to drop the challenge; a failure is only noted. */
static void
uninstall(struct acme_job *job, const struct acme_job_env *env)
{
	uint8_t *body = NULL;
	size_t len = 0;
	char why[128];
	int rc;

	if (!job->installed)
		return;
	job->installed = false;
	rc = job->use_alpn ? acme_msg_alpn_del(job->host, &body, &len) :
			     acme_msg_http_del(job->token, &body, &len);
	if (rc == 0)
		(void)env->responder->send(env->responder->ctx, body, len, why,
		                           sizeof(why));
	free(body);
}

void
acme_job_free(struct acme_job *job, const struct acme_job_env *env)
{
	if (job == NULL)
		return;
	if (env != NULL)
		uninstall(job, env);
	free(job->order_url);
	free(job->chal_url);
	if (job->have_order)
		acme_order_free(&job->order);
	free(job);
}

int64_t
acme_job_wake(const struct acme_job *job)
{
	return job->wake;
}

bool
acme_job_ordered(const struct acme_job *job)
{
	return job->ordered;
}

bool
acme_job_resumed(const struct acme_job *job)
{
	return job->resumed;
}

const char *
acme_job_why(const struct acme_job *job)
{
	return job->why;
}

int64_t
acme_job_retry_after(const struct acme_job *job)
{
	return job->retry_after;
}

/* ---- the steps ---- */

static enum acme_job_result
fail(struct acme_job *job, const struct acme_job_env *env, const char *what,
     const char *detail)
{
	uninstall(job, env);
	snprintf(job->why, sizeof(job->why), "%s: %s", what, detail);
	return ACME_JOB_FAILED;
}

/* A failed request: the client's why and the CA's Retry-After. */
static enum acme_job_result
fail_client(struct acme_job *job, const struct acme_job_env *env,
            const char *what)
{
	job->retry_after = env->client->retry_after;
	return fail(job, env, what, env->client->why);
}

/* Waits until the Retry-After of r (RFC 8555 §7.5.1, §7.4), from 1 s to
   ACME_POLL_WAIT_MAX s. */
static enum acme_job_result
wait_poll(struct acme_job *job, const struct acme_resp *r, int64_t now)
{
	int64_t w = 1;

	if (r != NULL && r->retry_after > now)
		w = r->retry_after - now;
	if (w > ACME_POLL_WAIT_MAX)
		w = ACME_POLL_WAIT_MAX;
	job->wake = now + w;
	return ACME_JOB_WAIT;
}

/* Takes an order document from r. */
static enum acme_job_result
take_order(struct acme_job *job, const struct acme_job_env *env,
           const struct acme_resp *r)
{
	struct acme_order o;
	char why[ACME_WHY_MAX];

	if (acme_order_parse(r->body, r->len, &o, why, sizeof(why)) != 0)
		return fail(job, env, "order", why);
	if (job->have_order)
		acme_order_free(&job->order);
	job->order = o;
	job->have_order = true;
	job->step = S_HANDLE;
	return ACME_JOB_MORE;
}

static enum acme_job_result
step_start(struct acme_job *job, const struct acme_job_env *env)
{
	char *url = NULL;

	if (acme_state_order_get(env->state_dir, job->domain, &url) == 0) {
		free(job->order_url);
		job->order_url = url;
		job->resumed = true;
		job->first_look = true;
		job->step = S_FETCH;
	} else {
		job->step = S_NEW;
	}
	return ACME_JOB_MORE;
}

static enum acme_job_result
step_new(struct acme_job *job, const struct acme_job_env *env, int64_t now)
{
	struct acme_resp r;
	enum acme_job_result res;
	json_t *o;
	char *payload;

	if (acme_client_directory(env->client, now) != 0)
		return fail_client(job, env, "directory");
	/* RFC 8555 §7.4: one "dns" identifier, the mta-sts host. */
	o = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type", "dns", "value",
	              job->host);
	payload = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (payload == NULL)
		return fail(job, env, "newOrder", "out of memory");
	job->ordered = true;
	if (acme_client_post(env->client, env->client->dir.new_order, payload,
	                     NULL, ACME_JSON_MAX_DOC, now, &r) != 0) {
		free(payload);
		return fail_client(job, env, "newOrder");
	}
	free(payload);
	if (r.location == NULL || strncmp(r.location, "https://", 8) != 0) {
		acme_resp_free(&r);
		return fail(job, env, "newOrder", "no order URL (Location)");
	}
	/* Kept before anything else is done with it: a successor resumes
	   this order rather than making another. */
	if (acme_state_order_put(env->state_dir, job->domain, r.location) !=
	    0) {
		acme_resp_free(&r);
		return fail(job, env, "newOrder", "cannot keep the order URL");
	}
	free(job->order_url);
	job->order_url = r.location;
	r.location = NULL;
	res = take_order(job, env, &r);
	acme_resp_free(&r);
	return res;
}

static enum acme_job_result
step_fetch(struct acme_job *job, const struct acme_job_env *env, int64_t now)
{
	struct acme_resp r;
	enum acme_job_result res;

	if (acme_client_post(env->client, job->order_url, "", NULL,
	                     ACME_JSON_MAX_DOC, now, &r) != 0)
		return fail_client(job, env, "order");
	res = take_order(job, env, &r);
	job->retry_after = r.retry_after;
	acme_resp_free(&r);
	return res;
}

static enum acme_job_result
step_handle(struct acme_job *job, const struct acme_job_env *env, int64_t now)
{
	bool first = job->first_look;
	struct acme_resp r;

	job->first_look = false;
	switch (job->order.status) {
	case ACME_STATUS_PENDING:
		job->authz_i = 0;
		job->step = S_AUTHZ;
		return ACME_JOB_MORE;
	case ACME_STATUS_READY:
		job->step = S_FINALIZE;
		return ACME_JOB_MORE;
	case ACME_STATUS_PROCESSING:
		if (++job->polls > ACME_POLL_MAX)
			return fail(job, env, "order", "still processing");
		job->step = S_FETCH;
		memset(&r, 0, sizeof(r));
		r.retry_after = job->retry_after;
		return wait_poll(job, &r, now);
	case ACME_STATUS_VALID:
		job->step = S_DOWNLOAD;
		return ACME_JOB_MORE;
	default:
		break;
	}
	/* invalid: a kept order that failed (or expired) is forgotten and a
	   new one made (RFC 8555 §7.1.6: invalid is final). */
	acme_state_order_clear(env->state_dir, job->domain);
	if (first) {
		job->step = S_NEW;
		return ACME_JOB_MORE;
	}
	return fail(job, env, "order invalid",
	            job->order.error != NULL &&
	                    job->order.error->detail != NULL ?
	                job->order.error->detail :
	                "(no detail)");
}

/* The challenge of a pending authorization that this server answers:
   tls-alpn-01, else http-01 when there is a listener for it; http-01
   first under acme-challenge http-01 (a TLS load balancer in front). */
static const struct acme_challenge *
pick(const struct acme_authz *a, const struct acme_job_env *env)
{
	const struct acme_challenge *t = NULL, *h = NULL;
	size_t i;

	for (i = 0; i < a->nchallenges; i++) {
		const struct acme_challenge *c = &a->challenges[i];

		if (c->token == NULL)
			continue;
		if (strcmp(c->type, "tls-alpn-01") == 0 && t == NULL)
			t = c;
		if (strcmp(c->type, "http-01") == 0 && env->http01 && h == NULL)
			h = c;
	}
	if (h != NULL && (env->prefer_http01 || t == NULL))
		return h;
	return t;
}

/* The ADD message of the challenge: a new body in *body, or -1. */
static int
add_message(struct acme_job *job, const struct acme_job_env *env, int64_t now,
            uint8_t **body, size_t *len)
{
	char thumb[ACME_THUMBPRINT_SIZE], *authz = NULL, *cert = NULL,
					  *key = NULL;
	size_t cert_len = 0, key_len = 0;
	EVP_PKEY *tmp = NULL;
	int rc = -1;

	if (acme_jwk_thumbprint(env->client->key, thumb) != 0 ||
	    acme_key_authz(job->token, thumb, &authz) != 0)
		return -1;
	if (!job->use_alpn) {
		rc = acme_msg_http_add(job->token, authz, body, len);
		goto out;
	}
	/* RFC 8737 §3: a self-signed certificate for the name with the
	   digest of the key authorization, on a throwaway key. */
	if ((tmp = acme_key_new()) == NULL ||
	    acme_alpn_cert(tmp, job->host, authz, (time_t)now, ALPN_LIFETIME,
	                   &cert, &cert_len) != 0 ||
	    acme_key_pem(tmp, &key, &key_len) != 0)
		goto out;
	rc = acme_msg_alpn_add(job->host, cert, cert_len, key, key_len, body,
	                       len);
out:
	if (key != NULL) {
		explicit_bzero(key, key_len);
		free(key);
	}
	free(cert);
	free(authz);
	EVP_PKEY_free(tmp);
	return rc;
}

/* Installs the challenge on the server; a job result, or -1 on OK. */
static int
install(struct acme_job *job, const struct acme_job_env *env, int64_t now)
{
	uint8_t *body = NULL;
	size_t len = 0;
	char why[128];
	int rc;

	if (add_message(job, env, now, &body, &len) != 0)
		return fail(job, env, "challenge", "cannot make it");
	rc = env->responder->send(env->responder->ctx, body, len, why,
	                          sizeof(why));
	if (job->use_alpn)
		explicit_bzero(body, len); /* the throwaway key */
	free(body);
	if (rc > 0) {
		/* No server to answer it yet: the same step later. */
		job->wake = now + 1;
		return ACME_JOB_WAIT;
	}
	if (rc < 0)
		return fail(job, env, "the server refused the challenge", why);
	job->installed = true;
	return -1;
}

static enum acme_job_result
authz_failed(struct acme_job *job, const struct acme_job_env *env,
             const struct acme_authz *a)
{
	const char *detail = "(no detail)";
	size_t i;

	for (i = 0; i < a->nchallenges; i++)
		if (a->challenges[i].error != NULL &&
		    a->challenges[i].error->detail != NULL)
			detail = a->challenges[i].error->detail;
	return fail(job, env, "authorization failed", detail);
}

/* S_AUTHZ (the authorization's first look) and S_POLL (after the
   challenge was answered). */
static enum acme_job_result
step_authz(struct acme_job *job, const struct acme_job_env *env, int64_t now)
{
	const struct acme_challenge *c;
	struct acme_authz a;
	struct acme_resp r;
	char why[ACME_WHY_MAX];
	int rc;

	if (job->authz_i >= job->order.nauthz) {
		job->step = S_FETCH; /* the order is ready now */
		return ACME_JOB_MORE;
	}
	if (acme_client_post(env->client,
	                     job->order.authorizations[job->authz_i], "", NULL,
	                     ACME_JSON_MAX_DOC, now, &r) != 0)
		return fail_client(job, env, "authorization");
	if (acme_authz_parse(r.body, r.len, &a, why, sizeof(why)) != 0) {
		acme_resp_free(&r);
		return fail(job, env, "authorization", why);
	}
	rc = ACME_JOB_MORE;
	if (a.status == ACME_STATUS_VALID) {
		uninstall(job, env);
		job->authz_i++;
		job->step = S_AUTHZ;
	} else if (a.status != ACME_STATUS_PENDING) {
		rc = authz_failed(job, env, &a);
	} else if (job->step == S_POLL) {
		rc = ++job->polls > ACME_POLL_MAX ?
		    fail(job, env, "authorization", "still pending") :
		    wait_poll(job, &r, now);
	} else if ((c = pick(&a, env)) == NULL) {
		rc = fail(job, env, "authorization",
		          "no tls-alpn-01 challenge (nor http-01 with a "
		          "listener)");
	} else {
		job->use_alpn = strcmp(c->type, "tls-alpn-01") == 0;
		snprintf(job->token, sizeof(job->token), "%s", c->token);
		free(job->chal_url);
		if ((job->chal_url = strdup(c->url)) == NULL)
			rc = fail(job, env, "challenge", "out of memory");
		else if (c->status != ACME_STATUS_PENDING) {
			/* Answered already, by the process this one replaced
			   (a resumed order): the CA may not have validated
			   yet, and the new server holds no challenge, so it is
			   set up again before the polling. */
			if ((rc = install(job, env, now)) < 0)
				job->step = S_POLL, job->polls = 0,
				rc = ACME_JOB_MORE;
		} else if ((rc = install(job, env, now)) < 0)
			job->step = S_RESPOND, rc = ACME_JOB_MORE;
	}
	acme_authz_free(&a);
	acme_resp_free(&r);
	return (enum acme_job_result)rc;
}

static enum acme_job_result
step_respond(struct acme_job *job, const struct acme_job_env *env, int64_t now)
{
	struct acme_resp r;

	/* RFC 8555 §7.5.1: an empty object says "validate now". */
	if (acme_client_post(env->client, job->chal_url, "{}", NULL,
	                     ACME_JSON_MAX_DOC, now, &r) != 0)
		return fail_client(job, env, "challenge");
	acme_resp_free(&r);
	job->step = S_POLL;
	job->polls = 0;
	job->wake = now + 1;
	return ACME_JOB_WAIT;
}

static enum acme_job_result
step_finalize(struct acme_job *job, const struct acme_job_env *env, int64_t now)
{
	struct acme_resp r;
	enum acme_job_result res;
	EVP_PKEY *key;
	json_t *o;
	char *csr = NULL, *payload = NULL;

	/* The kept key when a CSR may have been sent for it already. */
	key = acme_state_order_key_get(env->state_dir, job->domain);
	if (key == NULL) {
		if ((key = acme_key_new()) == NULL)
			return fail(job, env, "finalize", "no key");
		if (acme_state_order_key_put(env->state_dir, job->domain,
		                             key) != 0) {
			EVP_PKEY_free(key);
			return fail(job, env, "finalize",
			            "cannot keep the key");
		}
	}
	if (acme_csr_b64url(key, job->host, &csr) != 0) {
		EVP_PKEY_free(key);
		return fail(job, env, "finalize", "cannot make the CSR");
	}
	EVP_PKEY_free(key);
	o = json_pack("{s:s}", "csr", csr);
	payload = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(csr);
	if (payload == NULL)
		return fail(job, env, "finalize", "out of memory");
	job->polls = 0;
	if (acme_client_post(env->client, job->order.finalize, payload, NULL,
	                     ACME_JSON_MAX_DOC, now, &r) != 0) {
		free(payload);
		return fail_client(job, env, "finalize");
	}
	free(payload);
	res = take_order(job, env, &r);
	job->retry_after = r.retry_after;
	acme_resp_free(&r);
	return res;
}

/* Whether chain's leaf is for key and names host. */
static bool
chain_fits(const char *chain, size_t len, EVP_PKEY *key, const char *host)
{
	BIO *bio;
	X509 *leaf = NULL;
	bool ok;

	if (len > INT32_MAX || (bio = BIO_new_mem_buf(chain, (int)len)) == NULL)
		return false;
	leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	ok = leaf != NULL && X509_check_private_key(leaf, key) == 1 &&
	    X509_check_host(leaf, host, 0, 0, NULL) == 1;
	X509_free(leaf);
	BIO_free(bio);
	return ok;
}

static enum acme_job_result
step_download(struct acme_job *job, const struct acme_job_env *env, int64_t now)
{
	struct acme_resp r;
	char *chain = NULL, *k = NULL, *pem = NULL;
	size_t chain_len = 0, k_len = 0, pem_len = 0;
	EVP_PKEY *key;
	int ok = -1;

	if (job->order.certificate == NULL)
		return fail(job, env, "order", "valid without a certificate");
	if ((key = acme_state_order_key_get(env->state_dir, job->domain)) ==
	    NULL) {
		/* No key for it: nothing to serve it with. */
		acme_state_order_clear(env->state_dir, job->domain);
		return fail(job, env, "order", "no key kept for the CSR");
	}
	if (acme_client_post(env->client, job->order.certificate, "",
	                     "application/pem-certificate-chain",
	                     ACME_CHAIN_MAX, now, &r) != 0) {
		EVP_PKEY_free(key);
		return fail_client(job, env, "certificate");
	}
	/* The chain alone (acme_pem_split() wants a key too: ours). */
	if (acme_key_pem(key, &pem, &pem_len) == 0 &&
	    chain_fits(r.body, r.len, key, job->host)) {
		size_t n = pem_len + r.len;
		char *all = malloc(n + 1);

		if (all != NULL) {
			memcpy(all, pem, pem_len);
			memcpy(all + pem_len, r.body, r.len);
			all[n] = '\0';
			ok = acme_pem_split(all, n, &chain, &chain_len, &k,
			                    &k_len);
			explicit_bzero(all, n);
			free(all);
		}
	}
	EVP_PKEY_free(key);
	acme_resp_free(&r);
	if (ok == 0)
		ok = acme_state_cert_put(env->state_dir, job->domain, k, k_len,
		                         chain, chain_len);
	if (pem != NULL) {
		explicit_bzero(pem, pem_len);
		free(pem);
	}
	if (k != NULL) {
		explicit_bzero(k, k_len);
		free(k);
	}
	free(chain);
	if (ok != 0)
		return fail(job, env, "certificate",
		            "a chain that does not fit the key and name, or "
		            "cannot be written");
	acme_state_order_clear(env->state_dir, job->domain);
	return ACME_JOB_DONE;
}

enum acme_job_result
acme_job_step(struct acme_job *job, const struct acme_job_env *env, int64_t now)
{
	job->why[0] = '\0';
	job->retry_after = job->step == S_HANDLE ? job->retry_after : 0;
	switch (job->step) {
	case S_START:
		return step_start(job, env);
	case S_NEW:
		return step_new(job, env, now);
	case S_FETCH:
		return step_fetch(job, env, now);
	case S_HANDLE:
		return step_handle(job, env, now);
	case S_AUTHZ:
	case S_POLL:
		return step_authz(job, env, now);
	case S_RESPOND:
		return step_respond(job, env, now);
	case S_FINALIZE:
		return step_finalize(job, env, now);
	case S_DOWNLOAD:
		return step_download(job, env, now);
	}
	return fail(job, env, "job", "bad step");
}
