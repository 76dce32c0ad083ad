/* SPDX-License-Identifier: ISC */
/*
 * The parent's side of ACME in mtasts serve (issue 13): it starts the
 * acme process (acme_proc.h) when some domain uses ACME, tells it the
 * configuration (CONF) at start and after every accepted reload, hands
 * it and every server process the two ends of a new socketpair ("CHAN"
 * and "MTSA", acme_msg.h), reloads the set when it says ISSUED (at most
 * once every PACME_RELOAD_GAP seconds however many arrive), restarts it
 * with a back-off when it dies, and stops it when no domain uses ACME.
 * Also what `mtasts serve -n` says of each ACME domain.
 */
#ifndef MTS_SERVE_PARENT_ACME_H
#define MTS_SERVE_PARENT_ACME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <event2/event.h>

#include "conf.h"

#define PACME_RELOAD_GAP 2 /* seconds between reloads for ISSUED */

struct parent_acme {
	struct event_base *base;
	const char *user; /* of the processes, as the parent's */
	bool foreground;
	int verbose;
	const int *server_ctl;     /* the parent's channel to its server; -1 */
	void (*reload)(void *arg); /* what SIGHUP does */
	void *arg;
	pid_t pid; /* -1: none */
	int fd;    /* its control channel; -1: none */
	struct event *ev, *restart_ev, *reload_ev;
	time_t started, last_reload;
	unsigned backoff;
	bool wanted; /* some domain uses ACME */
	/* HTTP-01 listeners bound at start (they change only on restart):
	   what the acme process may answer, whatever a reload says. */
	size_t http01_bound;
	uint8_t *conf; /* the last CONF frame, header and body */
	size_t conf_len;
	uint8_t in[8 + 1024]; /* frames read, not yet whole */
	size_t in_len;
};

/*
 * Sets pa up on base; nothing runs yet.  reload(arg) is called for
 * ISSUED; *server_ctl is the channel of the current server process or
 * -1.  Fatal when the timers cannot be made (start-up only).
 */
void pacme_init(struct parent_acme *pa, struct event_base *base,
                const char *user, bool foreground, int verbose,
                const int *server_ctl, void (*reload)(void *), void *arg);

/*
 * After start-up and every accepted reload: the acme process runs, with
 * this configuration's CONF, when some domain of conf uses ACME
 * (conf_domain_acme()), and is stopped when none does.
 */
void pacme_sync(struct parent_acme *pa, const struct serve_conf *conf);

/*
 * A new server process (whose channel is *server_ctl): it and the acme
 * process get the two ends of a new socketpair.  Nothing without an acme
 * process.
 */
void pacme_server_started(struct parent_acme *pa);

/* Whether pid was the acme process; if so it is restarted, backing off. */
bool pacme_reaped(struct parent_acme *pa, pid_t pid, int status);

/* Stops the acme process (at the parent's end). */
void pacme_stop(struct parent_acme *pa);

/*
 * `mtasts serve -n`: one line per ACME domain of conf on out, from the
 * state directory: the certificate's notAfter, the next renewal, the
 * failures and the last error, or that there is no certificate yet.
 */
void pacme_print(const struct serve_conf *conf, FILE *out);

#endif /* MTS_SERVE_PARENT_ACME_H */
