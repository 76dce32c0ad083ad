/* SPDX-License-Identifier: ISC */
/*
 * The engine of `mtasts check`: checks many domains at once on one event
 * loop, as senders would see them (RFC 8461, RFC 8460, RFC 7672).  Every
 * domain's DNS lookups, policy fetches and MX probes run asynchronously;
 * when the last one of a domain ends, its findings are judged and
 * handed to the report callback, and the next queued domain starts.
 */
#ifndef MTS_CHECK_CHECK_H
#define MTS_CHECK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mtasts/mtasts.h>

struct event_base;
struct checker;
struct check_facts;

struct check_options {
	const char *resolver;     /* --resolver; NULL: /etc/resolv.conf */
	const char *trust_anchor; /* --trust-anchor; NULL: the system's */
	const char *ca_file;      /* --ca-file; NULL: the system store */
	const char *state_dir;    /* --state; NULL: no memory of ids */
	unsigned concurrency;     /* domains at once; 0: 20 */
	unsigned timeout_ms;      /* per fetch or probe; 0: their defaults */
	unsigned https_port;      /* 0: 443 (tests only) */
	unsigned smtp_port;       /* 0: 25 (tests only) */
	bool no_smtp;             /* skip the MX probes */
	const char *record_dir;   /* --record-facts: each domain's facts
				     as JSON there (facts_json.h) */
	int64_t now;              /* the time findings are judged at */
};

/* The result for one domain, valid during the callback. */
struct check_report {
	const char *domain;
	const struct mts_diag *diag;     /* every finding, in check order */
	enum mts_severity verdict;       /* the worst severity */
	const char *mode;                /* the policy's mode, or NULL */
	const char *id;                  /* the record's id, or NULL */
	const struct check_facts *facts; /* what was seen (facts.h) */
};

typedef void (*check_report_cb)(void *arg, const struct check_report *r);

/* A checker on `base`; NULL with a message printed on failure. */
struct checker *checker_new(struct event_base *base,
                            const struct check_options *options,
                            check_report_cb cb, void *arg);

/* Queues a domain (copied); it starts when a slot is free. 0 or -1. */
int checker_add(struct checker *ck, const char *domain);

/* Domains queued or running. */
size_t checker_busy(const struct checker *ck);

/*
 * State files (--state) that could not be read or written so far; each
 * was reported on stderr with its path and the reason.
 */
size_t checker_state_errors(const struct checker *ck);

void checker_free(struct checker *ck);

#endif /* MTS_CHECK_CHECK_H */
