/* SPDX-License-Identifier: ISC */
/*
 * The acme process of mtasts serve (acme_proc.h says what it is for).
 *
 * One thread, one poll(2) loop: the parent's channel (CONF, CHAN), the
 * server's channel (replies), and the timers of the domains.  Each
 * domain is idle (waiting for its due time: no certificate, renewal
 * per acme_sched.h, or the back-off after a failure) or has a job
 * (acme_order.h); at most JOBS_MAX jobs run at once and they are
 * stepped round robin, one request a step, so one domain whose CA
 * answers slowly or not at all never holds up another for longer than
 * one request's timeout.  A new order first takes a token from the
 * pacer (acme_pace_take(): the CA's rate limit); a resumed order takes
 * none, it was paid for.
 *
 * Messages to the server are synchronous: the ADD of a challenge must
 * be answered OK before the CA is told to validate (RFC 8737 §3: the
 * certificate must be there when the CA connects).  A reply that comes
 * after its timeout is owed and skipped when it arrives, so replies
 * never get out of step.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "acme_client.h"
#include "acme_msg.h"
#include "acme_order.h"
#include "acme_proc.h"
#include "acme_sched.h"
#include "acme_state.h"
#include "ctl.h"
#include "sandbox.h"
#include "serve.h"

#define JOBS_MAX      16    /* jobs stepped at once */
#define REPLY_WAIT_MS 10000 /* for the server's OK */
#define IDLE_MAX      60    /* seconds between two looks when idle */
#define FDS_MAX       8
#define CTL_BUF_START 65536
#define ACCOUNT_RETRY 60 /* seconds after a failed account look-up */

struct dom {
	char *name;
	int64_t not_before; /* of the certificate served; 0: none */
	int64_t due;        /* the next order (idle) */
	bool booked;        /* due is a pacing slot already taken */
	bool retried;       /* a failed resumed order was retried at once */
	struct acme_dom_state st;
	struct acme_job *job;
	int64_t wake; /* of the job */
};

struct aproc {
	int ctl_fd, chan_fd;
	uint8_t *cbuf;
	size_t clen, ccap;
	int fds[FDS_MAX];
	size_t nfds;
	uint8_t sbuf[CTL_REPLY_FRAME * 4];
	size_t slen;
	unsigned owed;
	struct acme_proc_conf conf;
	bool configured;
	struct acme_sched_conf sched;
	struct acme_pace pace;
	EVP_PKEY *account_key;
	struct acme_client client;
	bool have_client;
	struct dom *doms;
	size_t ndoms, rr, active;
	struct acme_responder responder;
	struct acme_job_env env;
};

/* ---- small helpers ---- */

static void
fmt_time(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "-");
}

static double
draw(void)
{
	uint32_t v = 0;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		return 0.5;
	return (double)v / 4294967296.0;
}

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Sends body as one frame. */
static int
send_frame(int fd, const uint8_t *body, size_t len)
{
	uint8_t hdr[CTL_FRAME_HDR];

	ctl_header_encode(len, hdr);
	return write_all(fd, hdr, sizeof(hdr)) == 0 &&
		write_all(fd, body, len) == 0 ?
	    0 :
	    -1;
}

/* ---- the server's channel ---- */

static void
chan_close(struct aproc *p)
{
	if (p->chan_fd >= 0)
		close(p->chan_fd);
	p->chan_fd = -1;
	p->slen = 0;
	p->owed = 0;
}

/*
 * The next reply frame from the server within the deadline (ms since
 * an arbitrary start, CLOCK_MONOTONIC): 0 with *ok and why, 1 on
 * timeout, -1 when the channel broke (closed).
 */
static int
chan_reply(struct aproc *p, int64_t deadline, bool *ok, char *why, size_t size)
{
	struct ctl_frame f;
	struct pollfd pfd;
	struct timespec ts;
	enum ctl_result r;
	int64_t left;
	ssize_t n;
	int rc;

	for (;;) {
		r = ctl_frame_decode(p->sbuf, p->slen, CTL_REPLY_MAX, &f);
		if (r == CTL_MALFORMED)
			goto broken;
		if (r == CTL_FRAME) {
			rc = ctl_reply_parse(f.body, f.len, ok, why, size);
			memmove(p->sbuf, p->sbuf + f.size, p->slen - f.size);
			p->slen -= f.size;
			if (rc != 0)
				goto broken;
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		left = deadline -
		    ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		if (left < 0)
			left = 0; /* one look without waiting */
		pfd.fd = p->chan_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			goto broken;
		if (pfd.revents == 0) {
			if (left == 0)
				return 1;
			continue;
		}
		n = read(p->chan_fd, p->sbuf + p->slen,
		         sizeof(p->sbuf) - p->slen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto broken;
		p->slen += (size_t)n;
	}
broken:
	log_warnx("acme: the channel to the server is gone");
	chan_close(p);
	return -1;
}

/* Replies owed from earlier timeouts that have come since: skipped. */
static void
chan_drain(struct aproc *p)
{
	char why[CTL_REPLY_MAX + 1];
	bool ok;

	while (p->chan_fd >= 0 && p->owed > 0 &&
	       chan_reply(p, 0, &ok, why, sizeof(why)) == 0)
		p->owed--;
}

/* The responder: a message to the server and its reply (acme_order.h). */
static int
chan_request(void *ctx, const uint8_t *body, size_t len, char *why, size_t size)
{
	struct aproc *p = ctx;
	struct timespec ts;
	int64_t deadline;
	bool ok = false;
	int rc;

	if (p->chan_fd < 0)
		return 1;
	chan_drain(p);
	while (p->chan_fd >= 0 && p->owed > 0) {
		/* Still owed: wait for them within the same bound. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
		    REPLY_WAIT_MS;
		if (chan_reply(p, deadline, &ok, why, size) != 0)
			break;
		p->owed--;
	}
	if (p->chan_fd < 0)
		return 1;
	if (send_frame(p->chan_fd, body, len) != 0) {
		log_warn("acme: cannot write to the server");
		chan_close(p);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline =
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + REPLY_WAIT_MS;
	rc = chan_reply(p, deadline, &ok, why, size);
	if (rc == 1) {
		p->owed++;
		snprintf(why, size, "no reply from the server in %d s",
		         REPLY_WAIT_MS / 1000);
		return -1;
	}
	if (rc < 0)
		return 1;
	return ok ? 0 : -1;
}

/* Sends a STATE body to the server when there is one; its FAIL is
   only logged. */
static void
state_to_server(struct aproc *p, const uint8_t *body, size_t len)
{
	char why[CTL_REPLY_MAX + 1];

	if (chan_request(p, body, len, why, sizeof(why)) < 0)
		log_debug("acme: the server did not take a STATE: %s", why);
}

/* Writes the domain's .state and tells the server. */
static void
dom_publish(struct aproc *p, struct dom *d)
{
	uint8_t *body = NULL;
	size_t len = 0;

	if (acme_state_dom_put(p->conf.state_dir, d->name, &d->st, &body,
	                       &len) != 0) {
		log_warn("acme: %s: cannot write its state file", d->name);
		if (acme_msg_state(d->name, d->st.not_after, d->st.renew_at,
		                   d->st.failures, d->st.last_error, &body,
		                   &len) != 0)
			return;
	}
	state_to_server(p, body, len);
	free(body);
}

/* ---- the schedule ---- */

/* When to renew d's certificate (d->not_before, st.not_after). */
static int64_t
renew_time(struct aproc *p, struct dom *d, int64_t now)
{
	struct acme_renewal_info ri;
	struct acme_ari_window w;
	int64_t at, retry;
	X509 *leaf = NULL;
	bool ari = false;

	if (p->conf.renew_age != 0) {
		at = d->not_before + (int64_t)p->conf.renew_age;
		return at > now ? at : now;
	}
	/* RFC 9773 §4.2: the CA's window when it has one. */
	if (p->have_client && p->client.have_dir &&
	    p->client.dir.renewal_info != NULL &&
	    acme_state_cert_get(p->conf.state_dir, d->name, &leaf, &at, &at) ==
	        0 &&
	    acme_client_renewal_info(&p->client, leaf, now, &ri, &retry) == 0) {
		w.start = ri.start;
		w.end = ri.end;
		ari = true;
		acme_renewal_info_free(&ri);
	}
	X509_free(leaf);
	return acme_sched_renew_at(&p->sched, d->not_before, d->st.not_after,
	                           ari ? &w : NULL, draw(), now);
}

/* What the state directory says of d, at start or when it is new. */
static void
dom_load(struct aproc *p, struct dom *d, int64_t now)
{
	struct acme_dom_state st;
	int64_t nb = 0, na = 0;
	char *url = NULL;

	memset(&d->st, 0, sizeof(d->st));
	if (acme_state_dom_get(p->conf.state_dir, d->name, &st) == 0)
		d->st = st;
	if (acme_state_cert_get(p->conf.state_dir, d->name, NULL, &nb, &na) !=
	    0)
		nb = na = 0;
	d->not_before = nb;
	d->st.not_after = na;
	if (acme_state_order_get(p->conf.state_dir, d->name, &url) == 0) {
		free(url);
		d->due = now; /* an order in progress: resumed at once */
	} else if (d->st.failures > 0 && d->st.renew_at > now) {
		d->due = d->st.renew_at; /* the back-off outlives a restart */
	} else if (na == 0) {
		d->due = now;
	} else {
		d->due = renew_time(p, d, now);
	}
	d->st.renew_at = d->due;
}

static void
dom_issued(struct aproc *p, struct dom *d, int64_t now)
{
	char until[32], next[32];
	uint8_t *body = NULL;
	size_t len = 0;
	int64_t nb, na;

	if (acme_state_cert_get(p->conf.state_dir, d->name, NULL, &nb, &na) !=
	    0) {
		log_warnx("acme: %s: the certificate written cannot be read",
		          d->name);
		nb = na = now;
	}
	d->not_before = nb;
	d->st.not_after = na;
	d->st.failures = 0;
	d->st.last_error[0] = '\0';
	d->due = d->st.renew_at = renew_time(p, d, now);
	fmt_time(na, until, sizeof(until));
	fmt_time(d->due, next, sizeof(next));
	log_info("acme: %s: certificate issued for mta-sts.%s, valid until "
	         "%s, renewal at %s (%lu requests, %lu bad nonces retried "
	         "so far)",
	         d->name, d->name, until, next, p->client.requests,
	         p->client.bad_nonces);
	/* The parent loads it into the next set. */
	if (acme_msg_issued(d->name, &body, &len) == 0) {
		if (send_frame(p->ctl_fd, body, len) != 0)
			log_warn("acme: cannot tell the parent of %s", d->name);
		free(body);
	}
	dom_publish(p, d);
}

static void
dom_failed(struct aproc *p, struct dom *d, const char *why, int64_t retry_after,
           int64_t now)
{
	char at[32];

	if (d->st.failures < UINT32_MAX)
		d->st.failures++;
	snprintf(d->st.last_error, sizeof(d->st.last_error), "%s", why);
	d->due = d->st.renew_at =
	    acme_sched_backoff(&p->sched, now, d->st.failures, retry_after);
	fmt_time(d->due, at, sizeof(at));
	log_warnx("acme: %s: %s; failure %u, retry at %s", d->name, why,
	          (unsigned)d->st.failures, at);
	/* A failure may be a CA that restarted: a fresh directory and nonce
	   next time. */
	if (p->have_client)
		acme_client_forget(&p->client);
	dom_publish(p, d);
}

/* ---- the account ---- */

/* The client with its account; 0, or -1 with why. */
static int
account_ready(struct aproc *p, int64_t now, char *why, size_t size)
{
	char *url = NULL;

	if (p->account_key == NULL &&
	    (p->account_key = acme_state_account_key(p->conf.state_dir)) ==
	        NULL) {
		snprintf(why, size, "cannot read or make %s/account.key: %s",
		         p->conf.state_dir, strerror(errno));
		return -1;
	}
	if (!p->have_client) {
		if (acme_client_init(&p->client, p->conf.directory,
		                     p->conf.ca_file, p->account_key) != 0) {
			snprintf(why, size, "cannot make the HTTP client");
			return -1;
		}
		p->have_client = true;
	}
	if (p->client.kid != NULL)
		return 0;
	if (acme_state_account_get(p->conf.state_dir, p->conf.directory,
	                           &url) == 0) {
		p->client.kid = url;
		return 0;
	}
	if (acme_client_account(&p->client, p->conf.contact, now) != 0) {
		snprintf(why, size, "account: %s", p->client.why);
		return -1;
	}
	if (acme_state_account_put(p->conf.state_dir, p->conf.directory,
	                           p->client.kid) != 0)
		log_warn("acme: cannot keep the account URL");
	log_info("acme: account %s at %s", p->client.kid, p->conf.directory);
	return 0;
}

/* ---- the jobs ---- */

static void
job_end(struct aproc *p, struct dom *d)
{
	acme_job_free(d->job, &p->env);
	d->job = NULL;
	p->active--;
}

/* Starts d's job when it may; called when d is idle and due. */
static void
dom_start(struct aproc *p, struct dom *d, int64_t now)
{
	char why[ACME_CLIENT_WHY + 64], *url = NULL;
	int64_t start;

	if (!d->booked) {
		if (acme_state_order_get(p->conf.state_dir, d->name, &url) ==
		    0) {
			/* Resumed: paid for already. */
			log_info("acme: %s: resuming the order %s", d->name,
			         url);
			free(url);
		} else {
			start = acme_pace_take(&p->pace, &p->sched, now);
			d->booked = true;
			if (start > now) {
				d->due = start;
				return;
			}
		}
	}
	d->booked = false;
	if (account_ready(p, now, why, sizeof(why)) != 0) {
		dom_failed(p, d, why,
		           p->have_client ? p->client.retry_after : 0, now);
		return;
	}
	if ((d->job = acme_job_new(d->name)) == NULL) {
		dom_failed(p, d, "out of memory", 0, now);
		return;
	}
	p->active++;
	d->wake = now;
	log_debug("acme: %s: order started", d->name);
}

static void
job_step(struct aproc *p, struct dom *d, int64_t now)
{
	enum acme_job_result r = acme_job_step(d->job, &p->env, now);
	char why[ACME_CLIENT_WHY + 64];
	int64_t retry;
	bool resumed;

	switch (r) {
	case ACME_JOB_MORE:
		d->wake = now;
		break;
	case ACME_JOB_WAIT:
		d->wake = acme_job_wake(d->job);
		break;
	case ACME_JOB_DONE:
		job_end(p, d);
		dom_issued(p, d, now);
		break;
	case ACME_JOB_FAILED:
		snprintf(why, sizeof(why), "%s", acme_job_why(d->job));
		retry = acme_job_retry_after(d->job);
		resumed = acme_job_resumed(d->job);
		job_end(p, d);
		/* A resumed order that failed most likely failed for the
		   restart: the CA validated while no server answered.  One
		   new order at once, not counted, once per domain and
		   process; any other failure backs off. */
		if (resumed && !d->retried && retry <= now) {
			d->retried = true;
			log_warnx(
			    "acme: %s: the resumed order failed (%s); a new "
			    "one at once",
			    d->name, why);
			d->due = now;
			break;
		}
		dom_failed(p, d, why, retry, now);
		break;
	}
}

/*
 * One pass: due idle domains get jobs (while there is room), then one
 * job whose time has come makes one step.  Returns the seconds until
 * something is due (0: at once).
 */
static int64_t
run(struct aproc *p, int64_t now)
{
	int64_t next = now + IDLE_MAX;
	size_t i, k;
	struct dom *d;

	for (i = 0; i < p->ndoms && p->active < JOBS_MAX; i++) {
		d = &p->doms[i];
		if (d->job == NULL && d->due <= now)
			dom_start(p, d, now);
	}
	for (k = 0; k < p->ndoms; k++) {
		i = (p->rr + k) % p->ndoms;
		d = &p->doms[i];
		if (d->job != NULL && d->wake <= now) {
			p->rr = i + 1;
			job_step(p, d, now);
			return 0;
		}
	}
	for (i = 0; i < p->ndoms; i++) {
		d = &p->doms[i];
		if (d->job != NULL && d->wake < next)
			next = d->wake;
		else if (d->job == NULL && p->active < JOBS_MAX &&
		         d->due < next)
			next = d->due;
	}
	return next > now ? next - now : 0;
}

/* ---- configuration ---- */

static void
doms_free(struct aproc *p)
{
	size_t i;

	for (i = 0; i < p->ndoms; i++) {
		if (p->doms[i].job != NULL)
			job_end(p, &p->doms[i]);
		free(p->doms[i].name);
	}
	free(p->doms);
	p->doms = NULL;
	p->ndoms = 0;
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The domains of the new configuration: kept ones keep their state and
   job, new ones are loaded, removed ones are forgotten. */
static int
doms_rebuild(struct aproc *p, const struct acme_proc_conf *c, int64_t now)
{
	struct dom *nd;
	size_t i, j = 0;

	if ((nd = calloc(c->name_count + 1, sizeof(*nd))) == NULL)
		return -1;
	for (i = 0; i < c->name_count; i++) {
		/* Both lists are sorted (acme_msg.h). */
		while (j < p->ndoms &&
		       strcmp(p->doms[j].name, c->names[i]) < 0) {
			if (p->doms[j].job != NULL)
				job_end(p, &p->doms[j]);
			free(p->doms[j].name);
			j++;
		}
		if (j < p->ndoms && strcmp(p->doms[j].name, c->names[i]) == 0) {
			nd[i] = p->doms[j++];
			continue;
		}
		if ((nd[i].name = strdup(c->names[i])) == NULL)
			fatalx("acme: out of memory");
		dom_load(p, &nd[i], now);
	}
	for (; j < p->ndoms; j++) {
		if (p->doms[j].job != NULL)
			job_end(p, &p->doms[j]);
		free(p->doms[j].name);
	}
	free(p->doms);
	p->doms = nd;
	p->ndoms = c->name_count;
	p->rr = 0;
	return 0;
}

static void
sched_conf(struct aproc *p)
{
	acme_sched_conf_init(&p->sched);
	if (p->conf.rate_orders != 0)
		p->sched.pace_limit = p->conf.rate_orders;
	if (p->conf.rate_window != 0)
		p->sched.pace_window = p->conf.rate_window;
	if (p->conf.burst != 0)
		p->sched.pace_burst = p->conf.burst;
}

/*
 * After a reload that changed acme-renew-age, the idle domains that hold
 * a certificate and are not backing off get a renewal time by the new
 * rule: kept domains would otherwise keep the time the old one gave.
 */
static void
doms_reschedule(struct aproc *p, int64_t now)
{
	char next[32];
	size_t i;

	for (i = 0; i < p->ndoms; i++) {
		struct dom *d = &p->doms[i];

		if (d->job != NULL || d->booked || d->st.not_after == 0 ||
		    d->st.failures > 0)
			continue;
		d->due = d->st.renew_at = renew_time(p, d, now);
		fmt_time(d->due, next, sizeof(next));
		log_info("acme: %s: renewal at %s", d->name, next);
		dom_publish(p, d);
	}
}

static void
configure(struct aproc *p, const uint8_t *body, size_t len, int64_t now)
{
	struct acme_proc_conf c;
	uint32_t old_age = p->conf.renew_age;
	bool was = p->configured;

	if (acme_conf_decode(body, len, &c) != 0) {
		log_warnx("acme: a malformed configuration from the parent");
		return;
	}
	/* Another CA or state directory: another account and client;
	   the jobs of the old one stop. */
	if (p->configured &&
	    (!same(c.directory, p->conf.directory) ||
	     !same(c.ca_file, p->conf.ca_file) ||
	     !same(c.state_dir, p->conf.state_dir))) {
		doms_free(p);
		if (p->have_client)
			acme_client_free(&p->client);
		p->have_client = false;
		EVP_PKEY_free(p->account_key);
		p->account_key = NULL;
	}
	if (p->configured)
		acme_conf_free(&p->conf);
	p->conf = c;
	p->configured = true;
	p->env.state_dir = p->conf.state_dir;
	p->env.http01 = p->conf.http01;
	p->env.prefer_http01 = p->conf.prefer_http01;
	sched_conf(p);
	if (acme_state_init(p->conf.state_dir) != 0)
		log_warn("acme: state directory %s", p->conf.state_dir);
	if (doms_rebuild(p, &p->conf, now) != 0)
		fatalx("acme: out of memory");
	log_info("acme: %zu domains, directory %s", p->ndoms,
	         p->conf.directory);
	if (was && old_age != p->conf.renew_age)
		doms_reschedule(p, now);
}

/* A new channel to the server: every domain's state goes to it. */
static void
take_chan(struct aproc *p)
{
	size_t i;

	if (p->nfds == 0) {
		log_warnx("acme: a CHAN frame without its descriptor");
		return;
	}
	chan_close(p);
	p->chan_fd = p->fds[0];
	memmove(p->fds, p->fds + 1, (p->nfds - 1) * sizeof(int));
	p->nfds--;
	log_debug("acme: a new channel to the server");
	for (i = 0; i < p->ndoms && p->chan_fd >= 0; i++)
		dom_publish(p, &p->doms[i]);
}

/* ---- the parent's channel ---- */

static ssize_t
ctl_recv(struct aproc *p)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cb;
	struct iovec iov = {p->cbuf + p->clen, p->ccap - p->clen};
	struct cmsghdr *cm;
	struct msghdr msg;
	size_t i, n;
	ssize_t r;
	int fd;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cb.buf;
	msg.msg_controllen = sizeof(cb.buf);
	if ((r = recvmsg(p->ctl_fd, &msg, MSG_CMSG_CLOEXEC)) <= 0)
		return r;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
			if (p->nfds < FDS_MAX)
				p->fds[p->nfds++] = fd;
			else
				close(fd);
		}
	}
	return r;
}

/* Reads the parent's channel; -1 when it is closed (the end). */
static int
ctl_read(struct aproc *p, int64_t now)
{
	struct ctl_frame f;
	enum ctl_result r;
	size_t off = 0, cap;
	uint8_t *b;
	ssize_t n;

	if (p->clen == p->ccap) {
		cap = p->ccap == 0 ? CTL_BUF_START : p->ccap * 2;
		if (cap > ACME_CONF_MAX + CTL_FRAME_HDR)
			cap = ACME_CONF_MAX + CTL_FRAME_HDR;
		if (cap == p->ccap || (b = realloc(p->cbuf, cap)) == NULL)
			fatalx("acme: control channel: out of memory");
		p->cbuf = b;
		p->ccap = cap;
	}
	n = ctl_recv(p);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	p->clen += (size_t)n;
	while ((r = ctl_frame_decode(p->cbuf + off, p->clen - off,
	                             ACME_CONF_MAX, &f)) == CTL_FRAME) {
		if (f.len == 4 && memcmp(f.body, ACME_CHAN_TAG, 4) == 0)
			take_chan(p);
		else if (f.len > 5 && memcmp(f.body, "CONF ", 5) == 0)
			configure(p, f.body, f.len, now);
		else
			log_debug("acme: an unknown frame from the parent");
		off += f.size;
	}
	if (r == CTL_MALFORMED)
		fatalx("acme: a control frame over the cap");
	memmove(p->cbuf, p->cbuf + off, p->clen - off);
	p->clen -= off;
	return 0;
}

/* The server says nothing unasked: input now is a late reply or EOF. */
static void
chan_idle_input(struct aproc *p)
{
	char why[CTL_REPLY_MAX + 1];
	bool ok;

	if (p->owed > 0) {
		chan_drain(p);
		return;
	}
	if (chan_reply(p, 0, &ok, why, sizeof(why)) == 0)
		log_debug("acme: an unasked reply from the server");
}

int
acmeproc_main(int ctl_fd, const char *user)
{
	struct aproc p;
	struct pollfd pfd[2];
	int64_t wait;
	size_t i;
	int rc = 0;

	(void)user; /* it keeps the state directory's owner (acme_proc.h) */
	memset(&p, 0, sizeof(p));
	p.ctl_fd = ctl_fd;
	p.chan_fd = -1;
	p.responder.send = chan_request;
	p.responder.ctx = &p;
	p.env.client = &p.client;
	p.env.responder = &p.responder;
	acme_pace_init(&p.pace);
	acme_sched_conf_init(&p.sched);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("acme: curl_global_init");
	/* No new privileges and the seccomp filter (sandbox_linux.c), before
	   any thread: libcurl's resolver threads start under it. */
	if (sandbox_seccomp_acme() != 0)
		fatalx("acme: the process cannot enter its sandbox");
	log_debug("acme process started");
	for (;;) {
		wait = p.configured ? run(&p, (int64_t)time(NULL)) : IDLE_MAX;
		pfd[0].fd = ctl_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = p.chan_fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2,
		         (int)(wait > IDLE_MAX ? IDLE_MAX : wait) * 1000) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("acme: poll");
			rc = 1;
			break;
		}
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
		    ctl_read(&p, (int64_t)time(NULL)) != 0) {
			log_debug("acme: the parent is gone");
			break;
		}
		if (p.chan_fd >= 0 &&
		    (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
			chan_idle_input(&p);
	}
	doms_free(&p);
	if (p.have_client)
		acme_client_free(&p.client);
	EVP_PKEY_free(p.account_key);
	acme_conf_free(&p.conf);
	chan_close(&p);
	for (i = 0; i < p.nfds; i++)
		close(p.fds[i]);
	free(p.cbuf);
	curl_global_cleanup();
	return rc;
}
