/* SPDX-License-Identifier: ISC */
/*
 * mtasts fetch: what `mtasts policyd` would answer Postfix's
 * smtp_tls_policy_maps for each key, and why.  The same resolution
 * (src/policyd/resolve.h) on a loop of its own: memory only, or with
 * --cache URL the store the daemon reads and writes (so a second run
 * answers from it).  With --postfix the first line of each domain is
 * the socketmap reply exactly as policyd sends it (without the
 * netstring frame); the reasons follow.  Exit 0 when every key was
 * answered (whatever the answer), 1 on an error, 2 on a usage error.
 */
#include <sys/queue.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include <mtasts/dns.h>

#include "cache.h"
#include "cli.h"
#include "fetch.h"
#include "resolve.h"
#include "socketmap.h"
#include "text.h"

#define TRACE_MAX 200 /* trace lines kept a domain */

struct item {
	const char *arg;                /* as given */
	struct socketmap_key key;       /* classified */
	char ascii[MTS_DNAME_MAX + 64]; /* a UTF-8 key converted */
	bool lookup;                    /* a lookup was made */
	bool answered, error;
	char *reply, *why;
	enum reply_kind kind;
	enum resolve_via via;
	enum resolve_failure failure;
	struct reply_info info;
	bool have_info;
	char *trace[TRACE_MAX];
	size_t ntrace;
	struct fetch_cli *c;
};

struct fetch_cli {
	bool postfix, json;
	struct item *items;
	size_t count, remaining;
	struct event_base *base;
	struct resolver *r;
	struct event *idle;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "usage: %s fetch [options] DOMAIN...\n\n"
	        "      --postfix          first line: the socketmap reply as "
	        "policyd sends it\n"
	        "      --json             one JSON object per domain and "
	        "line\n"
	        "      --resolver ADDR    DNS resolver (default "
	        "/etc/resolv.conf)\n"
	        "      --trust-anchor F   DNSSEC trust anchor file\n"
	        "      --ca-file F        CA certificates (PEM) for HTTPS\n"
	        "      --timeout MS       per policy fetch\n"
	        "      --cache URL        read and write this cache store "
	        "(sqlite:PATH)\n"
	        "      --postfix-compat V 3.4 (default) or 3.10\n"
	        "      --dane MODE        dane-only (default), dane or off\n\n"
	        "Exit status: 0 answered, 1 error, 2 usage error.\n",
	        progname);
}

/* ---- the answers ---- */

static void
on_trace(void *ctx, const char *domain, const char *line)
{
	struct fetch_cli *c = ctx;
	struct item *it;
	size_t i;

	for (i = 0; i < c->count; i++) {
		it = &c->items[i];
		if (!it->lookup || it->answered ||
		    strcmp(it->key.domain, domain) != 0 ||
		    it->ntrace >= TRACE_MAX)
			continue;
		it->trace[it->ntrace] = strdup(line);
		if (it->trace[it->ntrace] != NULL)
			it->ntrace++;
	}
}

static void
keep_answer(struct item *it, const struct resolve_answer *a)
{
	it->answered = true;
	it->reply = strndup(a->reply, a->reply_len);
	it->why = strdup(a->why != NULL ? a->why : "");
	it->kind = a->kind;
	it->via = a->via;
	it->failure = a->failure;
	if (a->info != NULL) {
		it->info = *a->info;
		it->have_info = true;
	}
	if (it->reply == NULL || it->why == NULL)
		it->error = true;
}

static void
maybe_done(struct fetch_cli *c)
{
	struct resolver_stats st;

	if (c->remaining > 0)
		return;
	/* A background re-check a store answer started writes the store
	   too, as the daemon's would: wait for it. */
	resolver_stats(c->r, &st);
	if (st.in_flight == 0)
		event_base_loopexit(c->base, NULL);
}

static void
on_answer(void *arg, const struct resolve_answer *a)
{
	struct item *it = arg;
	struct item *other;
	size_t i;

	/* Every item of that domain: the resolution was one. */
	for (i = 0; i < it->c->count; i++) {
		other = &it->c->items[i];
		if (other->lookup && !other->answered &&
		    strcmp(other->key.domain, a->domain) == 0) {
			keep_answer(other, a);
			it->c->remaining--;
		}
	}
	maybe_done(it->c);
}

static void
on_idle(evutil_socket_t fd, short what, void *arg)
{
	maybe_done(arg);
}

/* ---- the keys ---- */

/*
 * Classifies arg as policyd classifies a key (socketmap_key_classify()),
 * converting a UTF-8 host to A-labels first (RFC 8461 §3.2 wants them;
 * IDNA2008 as `mtasts check` does).  false: the key is answered at once
 * (NOTFOUND), never looked up.
 */
static bool
classify(struct item *it)
{
	struct socketmap_key *k = &it->key;
	const char *why = NULL;
	char *host, *ascii;
	int n;

	if (socketmap_key_classify(it->arg, strlen(it->arg), k) ==
	    SOCKETMAP_KEY_UTF8) {
		if ((host = strndup(k->host, k->host_len)) == NULL)
			return false;
		ascii = domain_to_ascii(host, &why);
		free(host);
		if (ascii == NULL) {
			k->kind = SOCKETMAP_KEY_MALFORMED;
			k->why = why;
			return false;
		}
		n = snprintf(it->ascii, sizeof(it->ascii), "%s%s%s%s%.*s",
		             k->bracketed ? "[" : "", ascii,
		             k->bracketed ? "]" : "",
		             k->port != NULL ? ":" : "",
		             k->port != NULL ? (int)k->port_len : 0,
		             k->port != NULL ? k->port : "");
		free(ascii);
		if (n < 0 || (size_t)n >= sizeof(it->ascii)) {
			k->kind = SOCKETMAP_KEY_MALFORMED;
			k->why = "the name is too long";
			return false;
		}
		socketmap_key_classify(it->ascii, strlen(it->ascii), k);
	}
	return k->kind == SOCKETMAP_KEY_DOMAIN ||
	    k->kind == SOCKETMAP_KEY_NEXTHOP;
}

static void
answer_at_once(struct item *it)
{
	it->answered = true;
	it->reply = strdup("NOTFOUND ");
	it->why = strdup(it->key.why != NULL ? it->key.why : "not a domain");
	it->kind = REPLY_NO_POLICY;
	it->via = RESOLVE_VIA_NONE;
	if (it->reply == NULL || it->why == NULL)
		it->error = true;
}

/* ---- output ---- */

static const char *
kind_name(enum reply_kind k)
{
	switch (k) {
	case REPLY_STS:
		return "sts";
	case REPLY_DANE:
		return "dane";
	case REPLY_TEMP:
		return "temp";
	default:
		return "no-policy";
	}
}

static void
print_info(const struct item *it)
{
	if (!it->have_info)
		return;
	if (it->info.dropped > 0)
		printf("note: %zu mx pattern%s left out of the reply (%s)\n",
		       it->info.dropped, it->info.dropped == 1 ? "" : "s",
		       it->info.dropped_why != NULL ? it->info.dropped_why :
		                                      "unusable");
	if (it->info.expanded > 0)
		printf("note: \"*.\" patterns sent as the %zu MX host name%s "
		       "they cover (RFC 8461 §4.1)\n",
		       it->info.expanded, it->info.expanded == 1 ? "" : "s");
	if (it->info.loose)
		printf("note: a \"*.\" pattern sent as \".domain\", which "
		       "Postfix matches at any depth\n");
	if (it->info.uncovered)
		printf("note: no current MX host is covered by the policy: "
		       "TEMP (RFC 8461 §5)\n");
	if (it->info.unusable)
		printf("note: no usable mx pattern in the enforce policy\n");
}

static void
print_text(const struct item *it)
{
	char buf[4 * 512 + 1];
	size_t i;

	if (it->c->postfix)
		printf("%s\n", it->reply);
	else
		printf("%s: %s\nreply: %s\n", it->arg, kind_name(it->kind),
		       it->reply);
	printf("domain=%s via=%s kind=%s failure=%s\n",
	       it->key.domain[0] != '\0' ? it->key.domain : "-",
	       resolve_via_name(it->via), kind_name(it->kind),
	       resolve_failure_name(it->failure));
	text_escape(buf, sizeof(buf), it->why, strlen(it->why));
	printf("why: %s\n", buf);
	print_info(it);
	for (i = 0; i < it->ntrace; i++) {
		text_escape(buf, sizeof(buf), it->trace[i],
		            strlen(it->trace[i]));
		printf("trace: %s\n", buf);
	}
}

static int
print_json(const struct item *it)
{
	char buf[4 * 512 + 1];
	json_t *o, *tr;
	size_t i;
	int rc = -1;

	if ((tr = json_array()) == NULL)
		return -1;
	for (i = 0; i < it->ntrace; i++) {
		text_escape(buf, sizeof(buf), it->trace[i],
		            strlen(it->trace[i]));
		if (json_array_append_new(tr, json_string(buf)) != 0)
			goto out;
	}
	text_escape(buf, sizeof(buf), it->why, strlen(it->why));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "key",
	              it->arg, "domain", it->key.domain, "reply", it->reply,
	              "kind", kind_name(it->kind), "via",
	              resolve_via_name(it->via), "failure",
	              resolve_failure_name(it->failure), "why", buf, "trace",
	              tr);
	if (o == NULL)
		goto out;
	if (json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0) {
		putchar('\n');
		rc = 0;
	}
	json_decref(o);
out:
	json_decref(tr);
	return rc;
}

/* ---- options ---- */

struct fetch_opts {
	const char *resolver, *trust_anchor, *ca_file, *cache;
	unsigned timeout_ms, https_port;
	enum reply_compat compat;
	enum resolve_dane dane;
};

enum {
	OPT_POSTFIX = 256,
	OPT_RESOLVER,
	OPT_TA,
	OPT_CA,
	OPT_TIMEOUT,
	OPT_CACHE,
	OPT_COMPAT,
	OPT_DANE,
	OPT_HTTPS_PORT
};

static int
parse_one(int ch, struct fetch_opts *o, struct fetch_cli *c)
{
	switch (ch) {
	case OPT_POSTFIX:
		c->postfix = true;
		return 0;
	case 'j':
		c->json = true;
		return 0;
	case OPT_RESOLVER:
		o->resolver = optarg;
		return 0;
	case OPT_TA:
		o->trust_anchor = optarg;
		return 0;
	case OPT_CA:
		o->ca_file = optarg;
		return 0;
	case OPT_TIMEOUT:
		return cli_parse_unsigned(optarg, 600000, &o->timeout_ms);
	case OPT_CACHE:
		o->cache = optarg;
		return 0;
	case OPT_HTTPS_PORT:
		return cli_parse_unsigned(optarg, 65535, &o->https_port);
	case OPT_COMPAT:
		if (strcmp(optarg, "3.4") == 0)
			o->compat = REPLY_COMPAT_34;
		else if (strcmp(optarg, "3.10") == 0)
			o->compat = REPLY_COMPAT_310;
		else
			return -1;
		return 0;
	case OPT_DANE:
		if (strcmp(optarg, "dane-only") == 0)
			o->dane = RESOLVE_DANE_ONLY;
		else if (strcmp(optarg, "dane") == 0)
			o->dane = RESOLVE_DANE_MAY;
		else if (strcmp(optarg, "off") == 0)
			o->dane = RESOLVE_DANE_OFF;
		else
			return -1;
		return 0;
	}
	return -1;
}

static int
parse_opts(int argc, char **argv, struct fetch_opts *o, struct fetch_cli *c)
{
	static const struct option longopts[] = {
	    {"ca-file", required_argument, NULL, OPT_CA},
	    {"cache", required_argument, NULL, OPT_CACHE},
	    {"dane", required_argument, NULL, OPT_DANE},
	    {"help", no_argument, NULL, 'h'},
	    {"https-port", required_argument, NULL, OPT_HTTPS_PORT},
	    {"json", no_argument, NULL, 'j'},
	    {"postfix", no_argument, NULL, OPT_POSTFIX},
	    {"postfix-compat", required_argument, NULL, OPT_COMPAT},
	    {"resolver", required_argument, NULL, OPT_RESOLVER},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"trust-anchor", required_argument, NULL, OPT_TA},
	    {NULL, 0, NULL, 0},
	};
	int ch, bad = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			exit(EXIT_VALID);
		}
		if (parse_one(ch, o, c) != 0)
			bad = 1;
	}
	if (bad != 0 || optind == argc || (c->postfix && c->json)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* ---- the run ---- */

struct env {
	struct mts_dns *dns;
	struct ssl_ctx_st *ssl;
	struct pcache *store;
};

static int
env_open(struct event_base *base, const struct fetch_opts *o, struct env *e)
{
	struct mts_dns_options dopt;
	char why[PCACHE_WHY_SIZE];
	struct mts_err err;

	memset(&dopt, 0, sizeof(dopt));
	dopt.resolver = o->resolver;
	dopt.trust_anchor = o->trust_anchor;
	if ((e->dns = mts_dns_new(base, &dopt, &err)) == NULL) {
		warnx_cli("fetch: DNS: %s", err.msg);
		return -1;
	}
	if ((e->ssl = fetch_ctx_new(o->ca_file)) == NULL) {
		warnx_cli("fetch: cannot load the CA file %s",
		          o->ca_file != NULL ? o->ca_file : "(default)");
		return -1;
	}
	if (o->cache != NULL &&
	    pcache_open(o->cache, &e->store, why, sizeof(why)) != 0) {
		warnx_cli("fetch: cache %s: %s", o->cache, why);
		return -1;
	}
	return 0;
}

static void
env_close(struct env *e)
{
	mts_dns_free(e->dns);
	SSL_CTX_free(e->ssl);
	pcache_close(e->store);
}

/* The resolver's log: the store's trouble goes to stderr; a failed
   fetch is in the trace already. */
static void
on_log(void *ctx, int priority, const char *line)
{
	(void)ctx;
	(void)priority;
	if (strncmp(line, "cache store", 11) == 0)
		warnx_cli("fetch: %s", line);
}

/* Starts the lookup of every key; -1 when one could not be started. */
static int
start_all(struct fetch_cli *c)
{
	struct resolve_answer a;
	struct item *it;
	size_t i;

	for (i = 0; i < c->count; i++) {
		it = &c->items[i];
		if (!classify(it)) {
			answer_at_once(it);
			continue;
		}
		it->lookup = true;
		c->remaining++;
		switch (resolver_lookup(c->r, it->key.domain, on_answer, it, &a,
		                        NULL)) {
		case RESOLVE_DONE: /* the same domain given twice */
			keep_answer(it, &a);
			c->remaining--;
			break;
		case RESOLVE_PENDING:
			break;
		case RESOLVE_ERROR:
			it->error = true;
			c->remaining--;
			return -1;
		}
	}
	return 0;
}

static int
run(struct fetch_cli *c, const struct fetch_opts *o)
{
	struct timeval tv = {0, 100000};
	struct resolve_conf rc;
	struct env e = {NULL, NULL, NULL};
	int status = EXIT_INVALID;

	if (env_open(c->base, o, &e) != 0)
		goto out;
	memset(&rc, 0, sizeof(rc));
	rc.base = c->base;
	rc.dns = e.dns;
	rc.ssl = e.ssl;
	rc.store = e.store;
	rc.reply.compat = o->compat;
	rc.dane = o->dane;
	rc.timeout_ms = o->timeout_ms;
	rc.fetch_port = o->https_port;
	rc.trace = on_trace;
	rc.trace_ctx = c;
	rc.log = on_log;
	rc.log_ctx = c;
	if ((c->r = resolver_new(&rc)) == NULL ||
	    (c->idle = event_new(c->base, -1, EV_PERSIST, on_idle, c)) ==
	        NULL ||
	    event_add(c->idle, &tv) != 0) {
		warnx_cli("fetch: out of memory");
		goto out;
	}
	if (start_all(c) != 0)
		warnx_cli("fetch: out of memory");
	else if (c->remaining > 0)
		event_base_dispatch(c->base);
	status = EXIT_VALID;
out:
	if (c->idle != NULL)
		event_free(c->idle);
	resolver_free(c->r);
	env_close(&e);
	return status;
}

static int
print_all(struct fetch_cli *c)
{
	size_t i;
	int rc = EXIT_VALID;

	for (i = 0; i < c->count; i++) {
		if (!c->items[i].answered || c->items[i].error) {
			warnx_cli("fetch: %s: no answer", c->items[i].arg);
			rc = EXIT_INVALID;
			continue;
		}
		if (c->json) {
			if (print_json(&c->items[i]) != 0)
				rc = EXIT_INVALID;
			continue;
		}
		if (i > 0)
			putchar('\n');
		print_text(&c->items[i]);
	}
	if (fflush(stdout) != 0 || ferror(stdout) != 0) {
		warnx_cli("fetch: cannot write the output");
		rc = EXIT_INVALID;
	}
	return rc;
}

static void
items_free(struct fetch_cli *c)
{
	size_t i, j;

	for (i = 0; c->items != NULL && i < c->count; i++) {
		free(c->items[i].reply);
		free(c->items[i].why);
		for (j = 0; j < c->items[i].ntrace; j++)
			free(c->items[i].trace[j]);
	}
	free(c->items);
}

int
cmd_fetch(int argc, char **argv)
{
	struct fetch_cli c;
	struct fetch_opts o;
	int i, rc;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	if (parse_opts(argc, argv, &o, &c) != 0)
		return EXIT_USAGE;
	/* A peer that closes mid-write must not kill the run. */
	signal(SIGPIPE, SIG_IGN);
	c.count = (size_t)(argc - optind);
	if ((c.items = calloc(c.count, sizeof(*c.items))) == NULL ||
	    (c.base = event_base_new()) == NULL) {
		warnx_cli("fetch: out of memory");
		free(c.items);
		return EXIT_INVALID;
	}
	for (i = optind; i < argc; i++) {
		c.items[i - optind].arg = argv[i];
		c.items[i - optind].c = &c;
	}
	rc = run(&c, &o);
	if (rc == EXIT_VALID)
		rc = print_all(&c);
	items_free(&c);
	event_base_free(c.base);
	return rc;
}
