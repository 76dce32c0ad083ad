/* SPDX-License-Identifier: ISC */
/*
 * `mtasts rollout` (mtasts-rollout(1)): what its subcommands share.
 *
 *   cmd_rollout.c         the dispatcher, the options, the policy file
 *                         (read, written atomically), the domain, the
 *                         store, the reload of a running mtasts serve
 *   cmd_rollout_status.c  the evidence: the reports of the domain judged
 *                         by the core (mts_rollout_assess()), the live
 *                         policy (mtasts check's engine), and status
 *   cmd_rollout_change.c  promote and mx-change, which write the file
 *
 * The decisions are the library's (include/mtasts/rollout.h), pure and
 * table-tested; here is only the I/O around them.
 */
#ifndef MTS_CLI_CMD_ROLLOUT_H
#define MTS_CLI_CMD_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <mtasts/mtasts.h>
#include <mtasts/rollout.h>

/* Exit 3: not ready, or refused; the file is left as it was. */
#define EXIT_NOT_READY 3
/* Exit 1 of the issue: an error (the file, the store). */
#define EXIT_ERROR     1

#define ROLLOUT_MX_ARGS  MTS_ROLLOUT_MX_MAX
#define ROLLOUT_PIDS_MAX 16

struct store;
struct json_t;

/* The options of every subcommand; each uses the ones it knows. */
struct rollout_opts {
	const char *cmd; /* "status", "promote", "mx-change" */
	const char *policy_path;
	const char *domain_arg;
	const char *db_url;
	bool json;
	unsigned min_days;
	uint32_t max_age; /* promote */
	bool force;
	bool reload;
	bool finish; /* mx-change --finish */
	const char *add[ROLLOUT_MX_ARGS];
	size_t add_count;
	const char *remove[ROLLOUT_MX_ARGS];
	size_t remove_count;
	/* The live check of status. */
	bool no_fetch;
	const char *resolver;
	const char *trust_anchor;
	const char *ca_file;
	unsigned https_port; /* tests only */
};

/* One run of a subcommand: the file, the domain, the store, the time. */
struct rollout {
	const struct rollout_opts *o;
	int64_t now;
	char *domain; /* lower-case A-labels */
	char *body;   /* FILE as read */
	size_t body_len;
	struct stat st; /* FILE when read: a change since is refused */
	struct mts_sts_policy policy;
	struct store *store;
};

/*
 * Reads and parses FILE, finds the domain.  EXIT_VALID, or the status
 * to exit with (said already).
 */
int rollout_load(struct rollout *r, const struct rollout_opts *o);

/*
 * Opens the store: `create` for the writers (a new SQLite file is made),
 * not for status (no file: nothing was ever ingested, an error).
 */
int rollout_open_store(struct rollout *r, bool create);

void rollout_free(struct rollout *r);

/* A file written beside FILE, not yet in its place. */
struct rollout_pending {
	char *tmp; /* NULL: nothing pending */
};

/*
 * Writes body to a new file in FILE's directory, with FILE's mode and
 * owner, synced.  EXIT_VALID or EXIT_ERROR (said).
 */
int rollout_write_prepare(const struct rollout *r, const char *body,
                          struct rollout_pending *p);

/*
 * Renames the pending file over FILE, unless FILE changed since
 * rollout_load() read it (someone edited it: EXIT_ERROR, the edit
 * kept).  EXIT_VALID or EXIT_ERROR (said).
 */
int rollout_write_commit(const struct rollout *r, struct rollout_pending *p);

/* Removes a pending file; NULL-safe, idempotent. */
void rollout_write_abort(struct rollout_pending *p);

/*
 * The mtasts serve parents that serve FILE (their configuration, read
 * from /proc, names it as a domain's policy or in a domains-dir), to
 * be called before FILE is replaced.  Up to max pids; their count.
 */
size_t rollout_find_serve(const char *policy_path, pid_t *pids, size_t max);

/*
 * Sends SIGHUP to each (mtasts-serve(8): reload).  EXIT_VALID, or
 * EXIT_ERROR when there was none or a signal failed (said).
 */
int rollout_reload(const pid_t *pids, size_t n, const char *policy_path);

/* "YYYY-MM-DD" of t, UTC. */
void rollout_day_text(int64_t t, char buf[16]);
/* "YYYY-MM-DD HH:MM:SS UTC" (human) of t. */
void rollout_time_text(int64_t t, char buf[32]);
/* "YYYY-MM-DDTHH:MM:SSZ" (ISO 8601, for JSON) of t. */
void rollout_time_iso(int64_t t, char buf[32]);

/* The reason as a JSON token: "ready", "too-few-days", ... */
const char *rollout_reason_key(enum mts_rollout_reason reason);

/* Lower-case hex SHA-256 of buf: out holds 65 octets. */
void rollout_sha256(const char *buf, size_t len, char out[65]);

/* The MX change under way of the domain, as the store keeps it. */
struct rollout_open_change {
	bool have; /* false: none under way */
	int64_t id, started, cutover_at;
	struct json_t *added, *removed; /* arrays of patterns; owned */
	char transition_id[MTS_STS_ID_MAX + 1];
};

/*
 * Reads the open MX change of r's domain into *c (zeroed first).
 * EXIT_VALID, or EXIT_ERROR (said).  Release with
 * rollout_open_change_free() either way.
 */
int rollout_open_change(const struct rollout *r, struct rollout_open_change *c);
void rollout_open_change_free(struct rollout_open_change *c);

/* ---- status (cmd_rollout_status.c) ---- */

/*
 * The evidence of the reports, judged: filled by rollout_gather(),
 * released by rollout_evidence_free().
 */
struct rollout_org {
	char *org;
	uint64_t reports;
};

struct rollout_fail {
	char *result;
	char *mx; /* NULL: the report named none */
	uint64_t sessions;
	int64_t first, last; /* days */
};

struct rollout_evidence {
	struct mts_rollout_readiness rd;
	struct rollout_org *orgs; /* reporters in the window */
	size_t org_count;
	struct rollout_fail *fails; /* failures in the window */
	size_t fail_count;
	uint64_t failed_before; /* failed sessions before the window */
	uint64_t other_reports, other_successful, other_failed;
};

/*
 * Reads the reports of r's domain and judges them for r's policy with
 * min_days.  EXIT_VALID, or EXIT_ERROR (said).
 */
int rollout_gather(struct rollout *r, unsigned min_days,
                   struct rollout_evidence *ev);
void rollout_evidence_free(struct rollout_evidence *ev);

/* One sentence for a mail admin: what the reason means and what to do. */
void rollout_advice(const struct rollout *r, const struct rollout_evidence *ev,
                    unsigned min_days, char *buf, size_t size);

/* Prints the evidence for people (status, a refused promote). */
void rollout_print_evidence(const struct rollout *r,
                            const struct rollout_evidence *ev,
                            unsigned min_days);

/*
 * The last id rollout issued for the domain (from the store's events),
 * else the id of `_mta-sts.DOMAIN.` in FILE's dns.zone (mtasts init's),
 * else "".  buf holds MTS_STS_ID_MAX + 1 octets.
 */
int rollout_previous_id(struct rollout *r, char *buf, size_t size);

/* What the DNS says of the domain's MX hosts (mx-change --finish). */
struct rollout_mx_seen {
	bool known;   /* an answer, or no MX records */
	char **hosts; /* the MX hosts; the domain itself when it has no MX
	                 records (RFC 5321 §5.1); "." for a null MX */
	size_t count;
	char why[256]; /* when not known */
};

/*
 * Looks up the MX records of r's domain through mtasts check's engine
 * (validating, as senders do).  0 when known, -1 with out->why.
 * Release with rollout_mx_seen_free() either way.
 */
int rollout_look_mx(const struct rollout *r, struct rollout_mx_seen *out);
void rollout_mx_seen_free(struct rollout_mx_seen *m);

int rollout_status_main(const struct rollout_opts *o);
int rollout_promote_main(const struct rollout_opts *o);
int rollout_mx_change_main(const struct rollout_opts *o);

#endif /* MTS_CLI_CMD_ROLLOUT_H */
