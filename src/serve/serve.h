/* SPDX-License-Identifier: ISC */
/*
 * mtasts serve: the MTA-STS policy host (RFC 8461 §3.3) for one or many
 * domains.  Two processes:
 *
 *   parent  (root)  reads mtasts.conf, the policies, certificates and
 *                   keys; checks them whole; binds the listeners; sends
 *                   the checked set to the server over a socketpair;
 *                   on SIGHUP does it again.
 *   server  (user)  owns the listeners, speaks TLS and HTTP, swaps in a
 *                   new set atomically when one arrives.
 *
 * The server never reads a file after start-up, so it can run as an
 * unprivileged user while reloads still see root-only keys (Let's
 * Encrypt's privkey.pem is 0600 root).
 */
#ifndef MTS_SERVE_SERVE_H
#define MTS_SERVE_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

/* ---- logging (log.c) ---- */

#if defined(__GNUC__)
#define SERVE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SERVE_PRINTF(f, a)
#endif

/* Foreground logs to stderr, else to syslog; verbose adds debug lines. */
void log_init(bool foreground, int verbose, const char *tag);
void log_warnx(const char *fmt, ...) SERVE_PRINTF(1, 2);
void log_warn(const char *fmt, ...) SERVE_PRINTF(1, 2); /* + strerror */
void log_info(const char *fmt, ...) SERVE_PRINTF(1, 2);
void log_debug(const char *fmt, ...) SERVE_PRINTF(1, 2);
/* Start-up failures and broken invariants only (STYLE.md rule 8). */
void fatalx(const char *fmt, ...) SERVE_PRINTF(1, 2) __attribute__((noreturn));
void fatal(const char *fmt, ...) SERVE_PRINTF(1, 2) __attribute__((noreturn));

/* ---- the bundle: a checked set, as the parent sends it (bundle.c) ---- */

#define BUNDLE_MAX (1024u * 1024u * 1024u) /* cap on one encoded set */

struct bundle_pair {
	char *cert_pem; /* leaf first, then the chain */
	size_t cert_len;
	char *key_pem; /* cleared with explicit_bzero when freed */
	size_t key_len;
};

struct bundle_domain {
	char *name; /* policy domain, lower case, no trailing dot */
	char *policy;
	size_t policy_len;
	uint32_t pair; /* index into pairs */
};

/* A name the report receiver answers on (RFC 8460 §5.4), by SNI. */
struct bundle_report_host {
	char *name; /* lower case, no trailing dot */
	uint32_t pair;
};

struct bundle {
	char *cache_control;
	uint32_t max_connections;
	uint32_t idle_timeout;
	uint32_t read_timeout;
	uint32_t generation; /* counts reloads, for logs and metrics */
	struct bundle_pair *pairs;
	size_t pair_count;
	struct bundle_domain *domains;
	size_t domain_count;
	/* The report receiver; report_path NULL when there is none. */
	char *report_path;
	uint32_t report_max_body;
	uint32_t report_queue;
	struct bundle_report_host *report_hosts;
	size_t report_host_count;
	/* The last this many listeners are plain HTTP-01 ones (RFC 8555
	   §8.3, acme-http-listen), not TLS; at most CONF_ACME_HTTP_MAX. */
	uint32_t http01_listeners;
};

/* Encodes b into a new buffer (*out, *len).  0 or -1 (out of memory). */
int bundle_encode(const struct bundle *b, uint8_t **out, size_t *len);

/*
 * Decodes buf[0..len) into *b.  0, or -1 when the encoding is malformed
 * (every length and index checked) or memory runs out.
 */
int bundle_decode(const uint8_t *buf, size_t len, struct bundle *b);

/* Frees what b owns, key material cleared.  NULL-safe. */
void bundle_free(struct bundle *b);

/* ---- the parent's loader (loader.c) ---- */

/*
 * Reads the configuration file and everything it names, checks it whole
 * (every policy must lint; every certificate must load and match its
 * key) and fills *b and *conf.  Returns 0, or -1 with the reasons
 * logged.  Warnings (a policy in testing mode, a certificate that does not
 * cover mta-sts.<domain> or is expired) are logged and do not fail.
 */
int loader_load(const char *path, struct serve_conf *conf, struct bundle *b);

/* ---- TLS (tls.c) ---- */

struct ssl_st; /* OpenSSL's SSL */

/* A certificate chain and its key, decoded once; NULL with a log line. */
struct tls_cert;
/*
 * A pair without its key (key_len 0) signs through the key process, as
 * key `index` of set `generation` (keyproc.h).
 */
struct tls_cert *tls_cert_new(const struct bundle_pair *pair,
                              uint32_t generation, uint32_t index,
                              const char *what);
void tls_cert_free(struct tls_cert *cert);

/*
 * The one SSL_CTX of a set, presenting `cert` (may be NULL) unless the
 * SNI callback chooses another with tls_use_cert(): a context per
 * certificate would cost some 40 KiB each, 400 MiB for 10,000 domains.
 */
void *tls_ctx_new(const struct tls_cert *cert, const char *what);
void tls_ctx_free(void *ctx);
/* Presents `cert` on this connection; 0 or -1. */
int tls_use_cert(struct ssl_st *ssl, const struct tls_cert *cert);

/*
 * Frees the record buffers of a connection that waits for its client;
 * OpenSSL allocates them again when it next reads or writes.  False when
 * they hold data not yet read or sent (try again later).
 */
bool tls_release_buffers(struct ssl_st *ssl);

/* ---- the server process (server.c) ---- */

/*
 * Runs the server: listeners are open sockets (fds) for TLS, metrics_fd
 * is the metrics listener or -1, log_fd the access log or -1, ctl_fd the
 * socketpair to the parent, over which bundles arrive, key_fd the
 * socket to the key process or -1 (the keys come in the bundles).  Once
 * set up it enters its seccomp sandbox.  Returns when told to stop; exit
 * status.
 */
int server_run(const int *fds, size_t nfds, int metrics_fd, int log_fd,
               int ctl_fd, int key_fd);

/* ---- process set-up (privdrop.c) ---- */

/*
 * Run as root, the process of `role` ("server", "key") leaves the file
 * system (an empty chroot, sandbox_linux.c) and switches to `user`, or
 * without one to the user mtasts, else nobody (setgroups, setresgid,
 * setresuid), and says which; fatal on error.  Not root: nothing changes.
 */
void privdrop(const char *user, const char *role);

/*
 * privdrop() into `root`: NULL, an empty chroot; "", none (the process
 * keeps the file system: the report process on PostgreSQL, whose libpq
 * reads /etc/hosts, the server's socket directory, ~/.pgpass); else a
 * chroot into that directory (the report process on SQLite: the
 * store's directory).
 */
void privdrop_into(const char *user, const char *role, const char *root);

/*
 * The uid and gid privdrop() would switch to, for what a process makes
 * before it drops (the report store's directory).  0, or -1 when not
 * root (nothing changes then); fatal for an unknown user.
 */
int privdrop_ids(const char *user, uid_t *uid, gid_t *gid);

/*
 * The parent, started as root, once its listeners are bound: keeps
 * CAP_DAC_READ_SEARCH and CAP_KILL, lets its children have CAP_SETUID,
 * CAP_SETGID and CAP_SYS_CHROOT, drops every other capability, and sets
 * PR_SET_NO_NEW_PRIVS.  Fatal on error; nothing when not root.
 */
void parent_limit(void);

/*
 * Closes every descriptor above standard error but the n in keep[] (at
 * most CONF_LISTEN_MAX + 8 of them): what a shell or a supervisor left
 * open, and in a new server process what the parent holds.
 */
void close_fds_except(const int *keep, size_t n);

/*
 * Raises the soft RLIMIT_NOFILE, up to the hard one, to fit
 * max_connections and the process's own descriptors; unless quiet, logs
 * how far short the limit still is.
 */
void fd_limit_fit(unsigned max_connections, bool quiet);

#endif /* MTS_SERVE_SERVE_H */
