/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/policyd/conf.c, the policyd.conf parser of `mtasts
 * policyd`: the defaults (as mtasts-policyd(8) states them), every key
 * with its value checked in the struct and in what it maps onto
 * (struct resolve_conf, struct reply_conf), durations, listeners
 * (inet, IPv6, unix with mode and group), and one table row per error
 * with the line it must name and the text of its message.  The printed
 * form (`mtasts policyd -n`) parses back to the same configuration.
 * Run under ASan, the error rows also show that a failed parse frees
 * what it had built.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "tap.h"

#define FILE_NAME "policyd.conf"

static const struct error_case {
	const char *name;
	const char *text;
	unsigned line;
	const char *msg;
} errors[] = {
    {"unknown keyword", "user a\nlisen inet:1.2.3.4:1\n", 2,
     "unknown keyword 'lisen'"},
    {"argument missing", "\n\ntimeout\n", 3, "timeout: argument missing"},
    {"two arguments", "user a b\n", 1, "user: one argument expected"},
    {"too many arguments", "listen unix:/s mode 0600 group g x\n", 1,
     "listen: too many arguments"},
    {"a block", "dane off {\n}\n", 1, "dane: no '{' block expected"},
    {"a stray brace", "dane off\n}\n", 2, "'}' without a block"},
    {"twice", "user a\n# c\nuser b\n", 3, "user given twice (first at line 1)"},
    {"empty argument", "user \"\"\n", 1, "user: empty argument"},
    {"NUL byte", "user a\nuser\0b\n", 2, "NUL byte"},
    {"unterminated string", "ca-file \"/x\n", 1, "unterminated string"},
    /* listen */
    {"listen without a kind", "listen 127.0.0.1:8461\n", 1,
     "'127.0.0.1:8461' is not inet:ADDR:PORT or unix:PATH"},
    {"listen a name", "listen inet:localhost:8461\n", 1,
     "'localhost' is not a numeric IPv4 address"},
    {"listen no port", "listen inet:127.0.0.1\n", 1,
     "is not inet:ADDRESS:PORT"},
    {"listen port 0", "listen inet:127.0.0.1:0\n", 1, "bad port '0'"},
    {"listen port 65536", "listen inet:127.0.0.1:65536\n", 1,
     "bad port '65536'"},
    {"listen IPv6 bare", "listen inet:::1:8461\n", 1, "IPv6 in brackets"},
    {"listen IPv6 bad", "listen inet:[::g]:8461\n", 1,
     "'::g' is not a numeric IPv6 address"},
    {"listen inet with mode", "listen inet:127.0.0.1:1 mode 0600\n", 1,
     "mode and group are for unix sockets"},
    {"listen unix relative", "listen unix:run/s\n", 1,
     "'run/s' is not an absolute path"},
    {"listen unix too long",
     "listen unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     1, "socket path over 107 octets"},
    {"listen mode not octal", "listen unix:/s mode 0680\n", 1,
     "mode '0680' is not octal"},
    {"listen mode too big", "listen unix:/s mode 01777\n", 1,
     "mode '01777' is not octal"},
    {"listen mode missing", "listen unix:/s mode\n", 1, "mode needs a value"},
    {"listen group bad", "listen unix:/s group -x\n", 1,
     "'-x' is not a valid group name"},
    {"listen option twice", "listen unix:/s mode 0600 mode 0600\n", 1,
     "'mode' unexpected"},
    {"listen option unknown", "listen unix:/s owner a\n", 1,
     "'owner' unexpected"},
    {"listen twice", "listen inet:127.0.0.1:1\nlisten inet:127.0.0.1:1\n", 2,
     "listen inet:127.0.0.1:1 given twice (first at line 1)"},
    {"listen unix twice", "listen unix:/s\n\nlisten unix:/s mode 0600\n", 3,
     "given twice (first at line 1)"},
    {"listen 17",
     "listen inet:127.0.0.1:1\nlisten inet:127.0.0.1:2\n"
     "listen inet:127.0.0.1:3\nlisten inet:127.0.0.1:4\n"
     "listen inet:127.0.0.1:5\nlisten inet:127.0.0.1:6\n"
     "listen inet:127.0.0.1:7\nlisten inet:127.0.0.1:8\n"
     "listen inet:127.0.0.1:9\nlisten inet:127.0.0.1:10\n"
     "listen inet:127.0.0.1:11\nlisten inet:127.0.0.1:12\n"
     "listen inet:127.0.0.1:13\nlisten inet:127.0.0.1:14\n"
     "listen inet:127.0.0.1:15\nlisten inet:127.0.0.1:16\n"
     "listen inet:127.0.0.1:17\n",
     17, "more than 16 listeners"},
    /* metrics */
    {"metrics unix", "metrics unix:/m\n", 1, "is not inet:ADDR:PORT"},
    {"metrics on a listener",
     "listen inet:127.0.0.1:8461\nmetrics inet:127.0.0.1:8461\n", 2,
     "metrics: 127.0.0.1 port 8461 is also a listen address"},
    {"metrics on the default listener", "metrics inet:127.0.0.1:8461\n", 1,
     "is also a listen address"},
    /* names */
    {"user bad", "user r@t\n", 1, "'r@t' is not a valid user name"},
    {"user too long", "user abcdefghijabcdefghijabcdefghijabc\n", 1,
     "not a valid user name"},
    {"map-name bad", "map-name a:b\n", 1, "'a:b' is not a valid map name"},
    /* cache */
    {"cache relative", "cache sqlite:x.db\n", 1,
     "'sqlite:x.db' is not sqlite:/ABSOLUTE/FILE"},
    {"cache a directory", "cache sqlite:/var/lib/\n", 1,
     "is not sqlite:/ABSOLUTE/FILE"},
    {"cache unknown engine", "cache memcached://x\n", 1,
     "is not none, sqlite:PATH, redis://HOST[:PORT] or redis+unix:PATH"},
    {"cache redis over TLS (not supported)", "cache rediss://x\n", 1,
     "is not none, sqlite:PATH, redis://"},
    {"cache redis+unix relative", "cache redis+unix:run/r.sock\n", 1,
     "'redis+unix:run/r.sock' is not redis+unix:/ABSOLUTE/SOCKET"},
    {"cache redis+unix a directory", "cache redis+unix:/run/\n", 1,
     "is not redis+unix:/ABSOLUTE/SOCKET"},
    /* resolver and files */
    {"resolver a name", "resolver ns.example\n", 1,
     "'ns.example' is not a numeric address"},
    {"resolver bad port", "resolver 127.0.0.1@0\n", 1,
     "is not a numeric address"},
    {"resolver empty port", "resolver 127.0.0.1@\n", 1,
     "is not a numeric address"},
    {"trust-anchor relative", "trust-anchor root.key\n", 1,
     "trust-anchor: 'root.key' is not an absolute path"},
    {"ca-file relative", "ca-file ca.pem\n", 1,
     "ca-file: 'ca.pem' is not an absolute path"},
    /* choices */
    {"postfix-compat", "postfix-compat 3.5\n", 1,
     "postfix-compat: '3.5' is not one of 3.4, 3.10"},
    {"dane", "dane yes\n", 1, "dane: 'yes' is not one of dane-only, dane, off"},
    {"on-dns-tempfail", "on-dns-tempfail defer\n", 1,
     "on-dns-tempfail: 'defer' is not one of notfound, temp"},
    {"on-bogus", "on-bogus TEMP\n", 1, "on-bogus: 'TEMP' is not one of"},
    {"on-fetch-error", "on-fetch-error x\n", 1, "on-fetch-error: 'x' is not"},
    {"unusable-policy", "unusable-policy x\n", 1, "unusable-policy: 'x' is"},
    {"policy-failure", "policy-failure true\n", 1,
     "policy-failure: 'true' is not one of no, yes"},
    /* durations and numbers */
    {"timeout 0", "timeout 0\n", 1, "timeout: 0 out of range (1s..300s)"},
    {"timeout 6m", "timeout 6m\n", 1, "timeout: 6m out of range"},
    {"duration unit", "negative-ttl 5w\n", 1,
     "negative-ttl: '5w' is not a duration"},
    {"duration sign", "dane-ttl -5\n", 1, "dane-ttl: '-5' is not a duration"},
    {"duration unit alone", "recheck h\n", 1, "recheck: 'h' is not a"},
    {"duration over a year", "backoff 366d\n", 1,
     "backoff: 366d out of range (1s..31536000s)"},
    {"duration overflow", "backoff 99999999999999999999\n", 1, "out of range"},
    {"idle-timeout 2d", "idle-timeout 2d\n", 1, "idle-timeout: 2d out of"},
    {"memory-entries 0", "memory-entries 0\n", 1,
     "memory-entries: 0 out of range (1..100000000)"},
    {"memory-entries word", "memory-entries many\n", 1,
     "memory-entries: 'many' is not a number"},
    {"max-connections 0", "max-connections 0\n", 1,
     "max-connections: 0 out of range (1..1000000)"},
};

static void
test_errors(void)
{
	struct policyd_conf c;
	char err[POLICYD_CONF_ERR_SIZE], want[64];
	size_t i, len;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		const struct error_case *e = &errors[i];

		len = strlen(e->text);
		if (strcmp(e->name, "NUL byte") == 0)
			len = 14; /* the text holds a NUL */
		err[0] = '\0';
		snprintf(want, sizeof(want), FILE_NAME ":%u: ", e->line);
		if (!tap_ok(policyd_conf_parse(e->text, len, FILE_NAME, &c,
		                               err) == -1,
		            "error %s: refused", e->name))
			policyd_conf_free(&c);
		tap_ok(strncmp(err, want, strlen(want)) == 0 &&
		           strstr(err, e->msg) != NULL,
		       "error %s: '%s' names line %u and says '%s'", e->name,
		       err, e->line, e->msg);
	}
}

/* The defaults: what the man page says, and what resolve.h maps. */
static void
test_defaults(void)
{
	struct policyd_conf c;
	struct resolve_conf rc;
	char err[POLICYD_CONF_ERR_SIZE];
	size_t i;
	bool all_notfound = true;

	if (!tap_ok(policyd_conf_parse("# nothing\n", 10, FILE_NAME, &c, err) ==
	                0,
	            "defaults: an empty file parses"))
		return;
	tap_ok(c.listen_count == 1 && c.listen[0].kind == POLICYD_LISTEN_INET &&
	           strcmp(c.listen[0].host, "127.0.0.1") == 0 &&
	           c.listen[0].port == 8461,
	       "defaults: listen inet:127.0.0.1:8461");
	tap_ok(c.user == NULL, "defaults: no user (mtasts, else nobody)");
	tap_ok(c.cache != NULL &&
	           strcmp(c.cache, "sqlite:/var/lib/mtasts/policyd.db") == 0,
	       "defaults: cache sqlite:/var/lib/mtasts/policyd.db");
	tap_ok(c.resolver == NULL && c.trust_anchor == NULL &&
	           c.ca_file == NULL,
	       "defaults: the system's resolver, root key and CA store");
	tap_ok(c.timeout == 10, "defaults: timeout 10 s");
	tap_ok(c.compat == REPLY_COMPAT_34, "defaults: postfix-compat 3.4");
	tap_ok(c.dane == RESOLVE_DANE_ONLY, "defaults: dane dane-only");
	for (i = 0; i < RESOLVE_FAIL_COUNT; i++)
		all_notfound =
		    all_notfound && c.on_failure[i] == REPLY_FAIL_NOTFOUND;
	tap_ok(all_notfound && c.unusable == REPLY_FAIL_NOTFOUND,
	       "defaults: every failure class and unusable-policy notfound "
	       "(mail to domains without a policy is never deferred)");
	tap_ok(!c.policy_failure, "defaults: policy-failure no");
	tap_ok(c.negative_ttl == 3600 && c.dane_ttl == 600 &&
	           c.recheck == 3600 && c.backoff == 300,
	       "defaults: negative-ttl 1h, dane-ttl 10m, recheck 1h, "
	       "backoff 5m");
	tap_ok(c.memory_entries == 200000 && c.max_connections == 1000 &&
	           c.idle_timeout == 300,
	       "defaults: memory-entries 200000, max-connections 1000, "
	       "idle-timeout 5m");
	tap_ok(c.map_name == NULL && !c.metrics_set,
	       "defaults: any map name, no metrics");
	policyd_conf_resolve(&c, &rc);
	tap_ok(rc.negative_ttl == 3600 && rc.dane_ttl == 600 &&
	           rc.recheck == 3600 && rc.backoff == 300 &&
	           rc.timeout_ms == 10000 && rc.memory_max == 200000 &&
	           rc.base == NULL && rc.dns == NULL && rc.store == NULL,
	       "defaults: resolve_conf gets the values, not its own zeros");
	policyd_conf_free(&c);
}

static const char full[] =
    "# every key, none at its default\n"
    "listen inet:127.0.0.1:10025\n"
    "listen inet:[::1]:10025\n"
    "listen unix:/var/spool/postfix/private/mtasts mode 0666 group postfix\n"
    "listen \"unix:/run/a b\"\n"
    "user _mtasts\n"
    "cache none\n"
    "resolver 127.0.0.1@5353\n"
    "trust-anchor /etc/unbound/root.key\n"
    "ca-file /etc/ssl/ca.pem\n"
    "timeout 1m\n"
    "postfix-compat 3.10\n"
    "dane dane\n"
    "on-dns-tempfail temp\n"
    "on-bogus temp\n"
    "on-fetch-error temp\n"
    "unusable-policy temp\n"
    "policy-failure yes\n"
    "negative-ttl 2h\n"
    "dane-ttl 90s\n"
    "recheck 1d\n"
    "backoff 7\n"
    "memory-entries 5000\n"
    "max-connections 64\n"
    "idle-timeout 30\n"
    "map-name postfix\n"
    "metrics inet:127.0.0.1:9462\n";

static void
check_full(const struct policyd_conf *c, const char *how)
{
	struct resolve_conf rc;

	tap_ok(c->listen_count == 4, "%s: four listeners", how);
	tap_ok(c->listen[0].kind == POLICYD_LISTEN_INET &&
	           strcmp(c->listen[0].host, "127.0.0.1") == 0 &&
	           c->listen[0].port == 10025,
	       "%s: listen inet:127.0.0.1:10025", how);
	tap_ok(c->listen[1].kind == POLICYD_LISTEN_INET &&
	           strcmp(c->listen[1].host, "::1") == 0 &&
	           c->listen[1].port == 10025,
	       "%s: listen inet:[::1]:10025", how);
	tap_ok(c->listen[2].kind == POLICYD_LISTEN_UNIX &&
	           strcmp(c->listen[2].path,
	                  "/var/spool/postfix/private/mtasts") == 0 &&
	           c->listen[2].mode == 0666 &&
	           strcmp(c->listen[2].group, "postfix") == 0,
	       "%s: listen unix with mode 0666 and group postfix", how);
	tap_ok(c->listen[3].kind == POLICYD_LISTEN_UNIX &&
	           strcmp(c->listen[3].path, "/run/a b") == 0 &&
	           c->listen[3].mode == 0660 && c->listen[3].group[0] == '\0',
	       "%s: a quoted unix path; mode 0660 by default, no group", how);
	tap_ok(c->user != NULL && strcmp(c->user, "_mtasts") == 0, "%s: user",
	       how);
	tap_ok(c->cache == NULL, "%s: cache none", how);
	tap_ok(c->resolver != NULL &&
	           strcmp(c->resolver, "127.0.0.1@5353") == 0,
	       "%s: resolver with a port", how);
	tap_ok(c->trust_anchor != NULL &&
	           strcmp(c->trust_anchor, "/etc/unbound/root.key") == 0 &&
	           c->ca_file != NULL &&
	           strcmp(c->ca_file, "/etc/ssl/ca.pem") == 0,
	       "%s: trust-anchor and ca-file", how);
	tap_ok(c->timeout == 60, "%s: timeout 1m is 60 s", how);
	tap_ok(c->map_name != NULL && strcmp(c->map_name, "postfix") == 0,
	       "%s: map-name", how);
	tap_ok(c->metrics_set && c->metrics.port == 9462 &&
	           strcmp(c->metrics.host, "127.0.0.1") == 0,
	       "%s: metrics", how);
	tap_ok(c->max_connections == 64 && c->idle_timeout == 30,
	       "%s: max-connections and idle-timeout", how);
	policyd_conf_resolve(c, &rc);
	tap_ok(rc.reply.compat == REPLY_COMPAT_310 &&
	           rc.reply.unusable == REPLY_FAIL_TEMP &&
	           rc.reply.policy_failure,
	       "%s: reply_conf: 3.10, unusable temp, policy_failure", how);
	tap_ok(rc.dane == RESOLVE_DANE_MAY, "%s: resolve_conf: dane", how);
	tap_ok(rc.on_failure[RESOLVE_FAIL_DNS_TEMP] == REPLY_FAIL_TEMP &&
	           rc.on_failure[RESOLVE_FAIL_BOGUS] == REPLY_FAIL_TEMP &&
	           rc.on_failure[RESOLVE_FAIL_FETCH] == REPLY_FAIL_TEMP,
	       "%s: resolve_conf: every failure class temp", how);
	tap_ok(rc.negative_ttl == 7200 && rc.dane_ttl == 90 &&
	           rc.recheck == 86400 && rc.backoff == 7,
	       "%s: resolve_conf: durations in seconds", how);
	tap_ok(rc.timeout_ms == 60000 && rc.memory_max == 5000,
	       "%s: resolve_conf: timeout_ms and memory_max", how);
}

/* Every key, then the printed form parsed again. */
static void
test_full(void)
{
	struct policyd_conf c, again;
	char err[POLICYD_CONF_ERR_SIZE], *text = NULL;
	size_t len = 0;
	FILE *fp;

	err[0] = '\0';
	if (!tap_ok(policyd_conf_parse(full, sizeof(full) - 1, FILE_NAME, &c,
	                               err) == 0,
	            "full: parses (%s)", err))
		return;
	check_full(&c, "full");
	if ((fp = open_memstream(&text, &len)) == NULL)
		exit(1);
	policyd_conf_print(fp, &c);
	fclose(fp);
	if (tap_ok(policyd_conf_parse(text, len, "printed", &again, err) == 0,
	           "printed: parses back (%s)", err)) {
		check_full(&again, "printed");
		policyd_conf_free(&again);
	}
	free(text);
	policyd_conf_free(&c);
	tap_ok(c.user == NULL && c.listen_count == 0,
	       "policyd_conf_free zeroes the struct");
	policyd_conf_free(NULL);
}

/*
 * Paths with the octets the lexer treats specially print in a form
 * that parses back to the same path (fuzz_policyd_conf found a
 * backslash printed unescaped).
 */
static void
test_print_quoting(void)
{
	static const struct {
		const char *text, *path;
	} rows[] = {
	    {"ca-file \"/a b\\\\c\"\n", "/a b\\c"},
	    {"ca-file \"/q\\\"uote\"\n", "/q\"uote"},
	    {"ca-file \"/hash#x\"\n", "/hash#x"},
	    {"ca-file \"/br{ace}\"\n", "/br{ace}"},
	    {"listen \"unix:/s\\\\p ace\"\n", "/s\\p ace"},
	};
	struct policyd_conf c, again;
	char err[POLICYD_CONF_ERR_SIZE], *text;
	const char *got;
	size_t i, len;
	FILE *fp;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		text = NULL;
		len = 0;
		if (!tap_ok(policyd_conf_parse(rows[i].text,
		                               strlen(rows[i].text), FILE_NAME,
		                               &c, err) == 0,
		            "quoting %zu: parses (%s)", i, err))
			continue;
		if ((fp = open_memstream(&text, &len)) == NULL)
			exit(1);
		policyd_conf_print(fp, &c);
		fclose(fp);
		if (tap_ok(policyd_conf_parse(text, len, "printed", &again,
		                              err) == 0,
		           "quoting %zu: printed form parses back (%s)", i,
		           err)) {
			got = again.ca_file != NULL ? again.ca_file :
						      again.listen[0].path;
			tap_ok(
			    strcmp(got, rows[i].path) == 0,
			    "quoting %zu: the same path after the round trip "
			    "(%s)",
			    i, got);
			policyd_conf_free(&again);
		}
		free(text);
		policyd_conf_free(&c);
	}
}

/* The forms of values that are easy to get wrong. */
static void
test_values(void)
{
	static const struct {
		const char *text;
		uint32_t want;
	} durations[] = {
	    {"recheck 30\n", 30},    {"recheck 30s\n", 30},
	    {"recheck 5m\n", 300},   {"recheck 1h\n", 3600},
	    {"recheck 1d\n", 86400}, {"recheck 365d\n", 31536000},
	    {"recheck 0001m\n", 60},
	};
	struct policyd_conf c;
	char err[POLICYD_CONF_ERR_SIZE];
	size_t i;

	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		if (!tap_ok(policyd_conf_parse(durations[i].text,
		                               strlen(durations[i].text),
		                               FILE_NAME, &c, err) == 0,
		            "duration %.*s parses",
		            (int)strlen(durations[i].text) - 1,
		            durations[i].text))
			continue;
		tap_ok(c.recheck == durations[i].want, "duration %.*s is %lu s",
		       (int)strlen(durations[i].text) - 1, durations[i].text,
		       (unsigned long)durations[i].want);
		policyd_conf_free(&c);
	}
	if (tap_ok(policyd_conf_parse("cache redis://127.0.0.1:6379/0\r\n", 32,
	                              FILE_NAME, &c, err) == 0,
	           "cache redis:// parses (CRLF line end)")) {
		tap_ok(strcmp(c.cache, "redis://127.0.0.1:6379/0") == 0,
		       "cache redis:// kept as given, for cache.c");
		policyd_conf_free(&c);
	}
	if (tap_ok(
		policyd_conf_parse("cache redis+unix:/run/redis/r.sock?db=2\n",
	                           40, FILE_NAME, &c, err) == 0,
		"cache redis+unix: parses")) {
		tap_ok(strcmp(c.cache, "redis+unix:/run/redis/r.sock?db=2") ==
		           0,
		       "cache redis+unix: kept as given, for cache.c");
		policyd_conf_free(&c);
	}
	if (tap_ok(policyd_conf_parse("listen inet:[::]:8461\n"
	                              "metrics inet:[::]:9462\n",
	                              45, FILE_NAME, &c, err) == 0,
	           "IPv6 any address parses")) {
		tap_ok(strcmp(c.listen[0].host, "::") == 0 &&
		           strcmp(c.metrics.host, "::") == 0,
		       "IPv6 any address kept as ::");
		policyd_conf_free(&c);
	}
}

int
main(void)
{
	test_defaults();
	test_full();
	test_print_quoting();
	test_values();
	test_errors();
	return tap_done();
}
