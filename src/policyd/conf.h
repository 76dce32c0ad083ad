/* SPDX-License-Identifier: ISC */
/*
 * The configuration of `mtasts policyd`: /etc/mtasts/policyd.conf,
 * documented in mtasts-policyd(8).  "keyword arguments" lines with #
 * comments, read by the tokenizer of mtasts.conf(5) (src/serve/
 * conf_lex.c); no blocks.  policyd_conf_parse() is pure: text in, a
 * struct policyd_conf out, errors as "file:line: message".
 *
 *     listen inet:127.0.0.1:8461                # repeatable; the default
 *     listen unix:/var/spool/postfix/private/mtasts mode 0660 group postfix
 *     user mtasts
 *     cache sqlite:/var/lib/mtasts/policyd.db   # or none, or redis://...
 *     resolver 127.0.0.1                        # else /etc/resolv.conf
 *     trust-anchor /usr/share/dns/root.key
 *     ca-file /etc/ssl/certs/ca-certificates.crt
 *     timeout 10                                # seconds: a query, a fetch
 *     postfix-compat 3.4                        # or 3.10
 *     dane dane-only                            # or dane, or off
 *     on-dns-tempfail notfound                  # or temp; also on-bogus,
 *     on-fetch-error notfound                   #   on-fetch-error
 *     unusable-policy notfound                  # or temp
 *     policy-failure no                         # yes: 3.10's policy_failure
 *     negative-ttl 1h                           # durations: 30, 30s, 5m,
 *     dane-ttl 10m                              #   1h, 1d
 *     recheck 1h
 *     backoff 5m
 *     memory-entries 200000
 *     max-connections 1000
 *     idle-timeout 5m
 *     map-name postfix                          # unset: any name
 *     metrics inet:127.0.0.1:9462               # Prometheus text
 *
 * Every field maps 1:1 onto struct resolve_conf and struct reply_conf
 * (policyd_conf_resolve()).
 */
#ifndef MTS_POLICYD_CONF_H
#define MTS_POLICYD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "resolve.h"

#define POLICYD_CONF_DEFAULT  "/etc/mtasts/policyd.conf"
#define POLICYD_LISTEN_MAX    16 /* as CONF_LISTEN_MAX of mtasts serve */
#define POLICYD_CONF_ERR_SIZE 512
#define POLICYD_PATH_MAX      108 /* sun_path of struct sockaddr_un */
#define POLICYD_NAME_MAX      32  /* a user, group or map name */

/* The defaults (mtasts-policyd(8) says why). */
#define POLICYD_DEFAULT_LISTEN_HOST "127.0.0.1"
#define POLICYD_DEFAULT_PORT        8461
#define POLICYD_DEFAULT_CACHE       "sqlite:/var/lib/mtasts/policyd.db"
#define POLICYD_DEFAULT_TIMEOUT     10     /* s */
#define POLICYD_DEFAULT_NEG_TTL     3600   /* s */
#define POLICYD_DEFAULT_DANE_TTL    600    /* s */
#define POLICYD_DEFAULT_RECHECK     3600   /* s */
#define POLICYD_DEFAULT_BACKOFF     300    /* s */
#define POLICYD_DEFAULT_MEMORY      200000 /* entries */
#define POLICYD_DEFAULT_MAX_CONN    1000
#define POLICYD_DEFAULT_IDLE        300 /* s */

enum policyd_listen_kind {
	POLICYD_LISTEN_INET = 0, /* inet:ADDR:PORT */
	POLICYD_LISTEN_UNIX      /* unix:PATH [mode M] [group G] */
};

struct policyd_listen {
	enum policyd_listen_kind kind;
	char host[64]; /* inet: numeric IPv4 or IPv6, no brackets */
	unsigned port;
	char path[POLICYD_PATH_MAX]; /* unix: absolute */
	unsigned mode;               /* unix: permission bits; 0660 default */
	char group[POLICYD_NAME_MAX + 1]; /* unix: "" keeps the user's */
};

struct policyd_conf {
	struct policyd_listen listen[POLICYD_LISTEN_MAX];
	size_t listen_count; /* at least 1 (the default) */
	char *user;          /* NULL: mtasts, else nobody (privdrop.c) */
	char *cache;         /* a store URL (cache.h); NULL: none */
	char *resolver;      /* NULL: /etc/resolv.conf */
	char *trust_anchor;  /* NULL: the system's root key */
	char *ca_file;       /* NULL: the system's store */
	unsigned timeout;    /* s, of one DNS query and of one fetch */
	enum reply_compat compat;
	enum resolve_dane dane;
	enum reply_failure on_failure[RESOLVE_FAIL_COUNT];
	enum reply_failure unusable;
	bool policy_failure;
	uint32_t negative_ttl, dane_ttl, recheck, backoff; /* s */
	size_t memory_entries;
	unsigned max_connections;
	unsigned idle_timeout; /* s */
	char *map_name;        /* NULL: any map name is answered */
	bool metrics_set;
	struct policyd_listen metrics; /* inet only */
};

/*
 * Parses buf[0..len) named `file` (for messages) into *conf (zeroed
 * first, defaults filled in).  0, or -1 with "file:line: message" in
 * err (POLICYD_CONF_ERR_SIZE octets) and *conf freed.  Checks all that
 * the text decides: keywords, argument counts, addresses, paths,
 * durations and ranges, duplicates.  Reads no file and resolves no
 * name (users and groups are looked up by the daemon).
 */
int policyd_conf_parse(const char *buf, size_t len, const char *file,
                       struct policyd_conf *conf, char *err);

/* Frees what conf owns and zeroes it.  NULL-safe. */
void policyd_conf_free(struct policyd_conf *conf);

/*
 * Fills the fields of *rc and its reply_conf that the configuration
 * decides; base, dns, ssl, store and the callbacks are left NULL for
 * the caller.
 */
void policyd_conf_resolve(const struct policyd_conf *conf,
                          struct resolve_conf *rc);

/*
 * Prints the configuration in the file's own syntax, every key with
 * its value, defaults included (`mtasts policyd -n`): parsing the
 * output gives the same configuration.
 */
void policyd_conf_print(FILE *fp, const struct policyd_conf *conf);

/* The printed form of one listener: "inet:127.0.0.1:8461",
   "inet:[::1]:8461", "unix:/path"; into buf[0..size). */
void policyd_listen_format(const struct policyd_listen *l, char *buf,
                           size_t size);

#endif /* MTS_POLICYD_CONF_H */
