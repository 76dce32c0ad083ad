/* SPDX-License-Identifier: ISC */
/*
 * One domain's ACME order (RFC 8555 §7.4) as a stepped, resumable job:
 * newOrder for the one dNSName mta-sts.DOMAIN, each authorization
 * (§7.5) answered with its tls-alpn-01 challenge (RFC 8737), else its
 * http-01 one (§8.3) when an HTTP-01 listener exists, the challenge
 * installed on the server first (the responder returns only once the
 * server said OK), the authorization polled, then a new P-256 key and
 * CSR, finalize, the order polled, the chain downloaded and written
 * with its key to certs/DOMAIN.pem (acme_state.h).
 *
 * Each call of acme_job_step() does at most one request (each bounded by
 * acme_client.h's timeouts), so the acme process steps many jobs round
 * robin and one slow CA answer never holds up another domain for long.
 *
 * Resuming: the order URL is kept in certs/DOMAIN.order before anything
 * else is done with it, and the CSR's key in certs/DOMAIN.key before the
 * CSR is sent.  A new job for a domain with a kept order GETs that order
 * instead of making a new one: pending goes on with its authorizations,
 * ready is finalized with the kept key (or a new one when none was kept:
 * no CSR was sent for any), processing is polled, valid is downloaded,
 * invalid is forgotten and a new order made.  A failure keeps the order,
 * so the retry after the back-off resumes it too.
 */
#ifndef MTS_SERVE_ACME_ORDER_H
#define MTS_SERVE_ACME_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme_client.h"
#include "acme_msg.h"

#define ACME_POLL_MAX      60 /* polls of one authorization or order */
#define ACME_POLL_WAIT_MAX 30 /* seconds between two, at most */

/*
 * Sends an ALPN-ADD, ALPN-DEL, HTTP-ADD or HTTP-DEL body to the server
 * and waits for its reply: 0 when it said OK, 1 when it cannot be asked
 * now (no channel yet: the job waits and tries again), -1 when it said
 * FAIL or did not answer (why filled).
 */
struct acme_responder {
	int (*send)(void *ctx, const uint8_t *body, size_t len, char *why,
	            size_t why_size);
	void *ctx;
};

enum acme_job_result {
	ACME_JOB_MORE,   /* step again now */
	ACME_JOB_WAIT,   /* step again at job->wake */
	ACME_JOB_DONE,   /* certs/DOMAIN.pem holds the new certificate */
	ACME_JOB_FAILED, /* job->why, job->retry_after */
};

struct acme_job;

/* What a job is told, borrowed for its life. */
struct acme_job_env {
	struct acme_client *client; /* with the account (kid) set */
	const char *state_dir;
	bool http01;        /* http-01 can be answered (a listener) */
	bool prefer_http01; /* and is answered first when offered */
	const struct acme_responder *responder;
};

/* A new job for DOMAIN (acme_name_ok()); NULL when out of memory. */
struct acme_job *acme_job_new(const char *domain);

/* Ends a job: a challenge still installed is removed.  NULL-safe. */
void acme_job_free(struct acme_job *job, const struct acme_job_env *env);

/* One step at `now`. */
enum acme_job_result acme_job_step(struct acme_job *job,
                                   const struct acme_job_env *env, int64_t now);

/* When a WAIT wants the next step. */
int64_t acme_job_wake(const struct acme_job *job);
/* Whether the job made a new order (not a resumed one): what pacing
   counts. */
bool acme_job_ordered(const struct acme_job *job);
/* Whether it resumed an order kept in the state directory. */
bool acme_job_resumed(const struct acme_job *job);
/* After FAILED: why, and the CA's Retry-After (0: none). */
const char *acme_job_why(const struct acme_job *job);
int64_t acme_job_retry_after(const struct acme_job *job);

#endif /* MTS_SERVE_ACME_ORDER_H */
