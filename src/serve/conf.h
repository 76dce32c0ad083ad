/* SPDX-License-Identifier: ISC */
/*
 * The configuration of `mtasts serve`: mtasts.conf(5).
 *
 * The file is "keyword arguments" lines with # comments and one kind of
 * block, `domain NAME { ... }`.  conf_parse() is pure: it turns the text
 * into a struct serve_conf and reports errors as "file:line: message";
 * reading the file and the policies, certificates and keys it names is
 * the caller's business.
 *
 *     listen 127.0.0.1:443          # repeatable; [::1]:443; port defaults 443
 *     user _mtasts                  # the user to run as after start-up
 *     cache-control "max-age=300"   # the Cache-Control of policy answers
 *     max-connections 10000
 *     idle-timeout 60               # seconds a keep-alive connection may idle
 *     read-timeout 10               # seconds to send a whole request head
 *     access-log /var/log/mtasts/access.log
 *     metrics 127.0.0.1:9461        # Prometheus text, plain HTTP
 *     certificate /etc/mtasts/fullchain.pem   # default for domains
 *     key /etc/mtasts/privkey.pem
 *     domain example.com {
 *         policy /etc/mtasts/example.com/mta-sts.txt
 *         certificate /etc/mtasts/example.com/fullchain.pem
 *         key /etc/mtasts/example.com/privkey.pem
 *     }
 *     domains-dir /var/lib/mtasts/domains   # one subdirectory per domain,
 *                                            # each with mta-sts.txt and,
 *                                            # optionally, cert.pem + key.pem
 *     tlsrpt {                       # TLS-RPT reports by HTTPS POST
 *         host tlsrpt.example.com    # repeatable: the names it answers on
 *         path /tlsrpt               # the default
 *         store sqlite:/var/lib/mtasts/reports.db   # the default
 *         max-body 1048576           # octets of a POST body (413 beyond)
 *         queue 16                   # POSTs read or stored at once (503)
 *         certificate /etc/mtasts/tlsrpt/fullchain.pem  # else the default
 *         key /etc/mtasts/tlsrpt/privkey.pem
 *     }
 *     acme yes                       # certificates from an ACME CA for
 *                                    # every domain without its own
 *                                    # (`acme yes|no` also per domain)
 *     acme-directory https://acme-v02.api.letsencrypt.org/directory
 *     acme-contact mailto:hostmaster@example.com
 *     acme-ca-file /etc/mtasts/acme-ca.pem  # extra trust for the CA's TLS
 *     acme-state-dir /var/lib/mtasts/acme   # account, keys, certificates
 *     acme-rate 300 10800            # new orders per window (seconds)
 *     acme-burst 5                   # of which at once
 *     acme-renew-age 0               # seconds; 0: 2/3 of the lifetime
 *                                    # or the CA's renewal window
 *     acme-http-listen 0.0.0.0:80    # optional: answer HTTP-01 there
 *     acme-challenge tls-alpn-01     # or http-01 (needs acme-http-listen):
 *                                    # the challenge answered first
 */
#ifndef MTS_SERVE_CONF_H
#define MTS_SERVE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define CONF_MAX_SIZE         (4 * 1024 * 1024) /* cap on the file */
#define CONF_LINE_MAX         4096
#define CONF_LISTEN_MAX       16
#define CONF_ERR_SIZE         512
#define CONF_REPORT_HOSTS_MAX 16

/* The defaults of a tlsrpt block (mtasts.conf(5) says why). */
#define CONF_REPORT_PATH      "/tlsrpt"
#define CONF_REPORT_STORE     "sqlite:/var/lib/mtasts/reports.db"
#define CONF_REPORT_BODY      (1024u * 1024)      /* 1 MiB */
#define CONF_REPORT_BODY_MAX  (10u * 1024 * 1024) /* the source's cap */
#define CONF_REPORT_QUEUE     16
#define CONF_REPORT_QUEUE_MAX 1024

/* The defaults of the acme-* keys (mtasts.conf(5) says why). */
#define CONF_ACME_DIRECTORY "https://acme-v02.api.letsencrypt.org/directory"
#define CONF_ACME_STATE_DIR "/var/lib/mtasts/acme"
#define CONF_ACME_RATE      300   /* Let's Encrypt: new orders ... */
#define CONF_ACME_WINDOW    10800 /* ... per 3 hours per account */
#define CONF_ACME_BURST     5
#define CONF_ACME_HTTP_MAX  4 /* acme-http-listen lines */

struct conf_listen {
	char host[64]; /* numeric IPv4 or IPv6 address, no brackets */
	unsigned port;
};

struct conf_domain {
	char *name;        /* the policy domain, lower case A-labels */
	char *policy;      /* path of the policy file */
	char *certificate; /* path; NULL: the global default */
	char *key;         /* path; NULL: the global default */
	unsigned line;     /* of its domain block, for messages; 0: none */
	char *source;      /* the domains-dir entry it came from, or NULL */
	int acme;          /* `acme` in its block: -1 unset (the global
	                      value), 0 no, 1 yes */
};

/*
 * The receiver of TLS-RPT reports by HTTPS (RFC 8460 §3, §5.4): the
 * names it answers on (served by SNI like the policy hosts), the path,
 * the store and the caps.  enabled is false without a tlsrpt block.
 */
struct conf_tlsrpt {
	bool enabled;
	char *hosts[CONF_REPORT_HOSTS_MAX]; /* lower case, no final dot */
	size_t host_count;
	char *path;        /* default CONF_REPORT_PATH */
	char *store;       /* a store URL, default CONF_REPORT_STORE */
	unsigned max_body; /* octets, default CONF_REPORT_BODY */
	unsigned queue;    /* default CONF_REPORT_QUEUE */
	char *certificate; /* path; NULL: the global default */
	char *key;
	unsigned line; /* of the block, for messages */
};

/*
 * ACME (RFC 8555) for the mta-sts hosts: the acme-* keys.  enabled is the
 * global `acme yes|no` (default no), the default of every domain.
 */
struct conf_acme {
	bool enabled;
	char *directory;      /* default CONF_ACME_DIRECTORY */
	char *contact;        /* "mailto:ADDR", or NULL */
	char *ca_file;        /* extra trust for the directory, or NULL */
	char *state_dir;      /* default CONF_ACME_STATE_DIR */
	unsigned rate_orders; /* default CONF_ACME_RATE */
	unsigned rate_window; /* seconds, default CONF_ACME_WINDOW */
	unsigned burst;       /* default CONF_ACME_BURST */
	unsigned renew_age;   /* seconds; 0 (default): 2/3 or ARI */
	struct conf_listen http[CONF_ACME_HTTP_MAX]; /* HTTP-01 listeners */
	size_t http_count;
	bool prefer_http01; /* acme-challenge http-01 (default tls-alpn-01) */
};

struct serve_conf {
	struct conf_listen listen[CONF_LISTEN_MAX];
	size_t listen_count;
	char *user;                 /* NULL: mtasts, else nobody, when root */
	bool key_process;           /* keys in a key process (default true) */
	char *cache_control;        /* default "max-age=300" */
	unsigned max_connections;   /* default 10000 */
	unsigned idle_timeout;      /* seconds, default 60 */
	unsigned read_timeout;      /* seconds, default 10 */
	char *access_log;           /* NULL: none */
	struct conf_listen metrics; /* port 0: none */
	char *certificate;          /* defaults for domains */
	char *key;
	struct conf_domain *domains;
	size_t domain_count;
	char **domains_dirs;
	size_t domains_dir_count;
	struct conf_tlsrpt tlsrpt;
	struct conf_acme acme;
};

/*
 * Parses the configuration text buf[0..len) named `file` (for messages)
 * into *conf (zeroed first, defaults filled in).  Returns 0, or -1 with a
 * "file:line: message" in err (CONF_ERR_SIZE bytes).  Checks everything
 * that the text alone decides: keywords and their argument counts,
 * addresses and ports, numbers and their ranges, domain names (A-labels,
 * RFC 5321 Domain, no duplicates), a policy for every domain, and a
 * certificate and key for every domain (its own or the defaults).
 */
int conf_parse(const char *buf, size_t len, const char *file,
               struct serve_conf *conf, char *err);

/*
 * The policy domain that `s` names, by the rules of a domain block's name
 * (mtasts.conf(5)): one final dot dropped, an RFC 5321 Domain of two or
 * more labels, not an address, not the mta-sts host itself, lower-cased.
 * Returns 0 with a new string in *out (the caller frees it), or -1 with
 * the reason in why[0..size).
 */
int conf_domain_name(const char *s, char **out, char *why, size_t size);

/*
 * Checks that no policy domain is configured twice among the domain
 * blocks of `file` and the entries of domains-dirs (conf->domains, names
 * as conf_domain_name() gives them).  Returns 0, -1 with the first
 * duplicate in err (CONF_ERR_SIZE bytes) as "WHERE: domain NAME
 * configured twice (also WHERE)", each WHERE a "file:line" or a
 * domains-dir entry, or -1 with "out of memory".
 */
int conf_check_unique(const struct serve_conf *conf, const char *file,
                      char *err);

/*
 * Whether domain d's certificate comes from ACME: it has no certificate
 * of its own (a block's `certificate`, a domains-dir entry's cert.pem)
 * and `acme` is yes in its block, or unset there and yes globally.  Such
 * a domain needs no global certificate; its pair is read from
 * acme_cert_path() (acme_msg.h) once the acme process has written it.
 */
bool conf_domain_acme(const struct serve_conf *conf,
                      const struct conf_domain *d);

/* Frees what conf owns and zeroes it.  NULL-safe. */
void conf_free(struct serve_conf *conf);

#endif /* MTS_SERVE_CONF_H */
