/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/policyd/reply.c: what mtasts policyd answers Postfix's
 * smtp_tls_policy_maps for a decision (RFC 8461 §4.1, §5; the Postfix
 * facts are at the top of reply.c).  One table line a case, with the
 * mx patterns of real policies (Gmail's, Microsoft's), an IP address in
 * mx:, an `nmx:` typo that leaves no mx, the wildcard that Postfix's
 * ".domain" would let match at any depth; then the 100,000-octet cap at
 * its boundary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "tap.h"

#define NMX 8

#define GMAIL      "gmail-smtp-in.l.google.com"
#define GMAIL_WILD "*.gmail-smtp-in.l.google.com"
#define MSFT_WILD  "*.mail.protection.outlook.com"
#define MSFT_HOST  "microsoft-com.mail.protection.outlook.com"
#define SEC        " servername=hostname"
#define NOTFOUND   "NOTFOUND "
#define UNUSABLE   "TEMP MTA-STS policy has no usable mx pattern"
#define UNCOVERED  "TEMP no MX host is covered by the MTA-STS policy"
#define PS(x)      " { policy_string = " x " }"

/* Info flags a case expects. */
#define I_LOOSE     0x01u
#define I_UNUSABLE  0x02u
#define I_UNCOVERED 0x04u
#define I_PFAIL     0x08u

static const struct reply_case {
	const char *name;
	enum reply_kind kind;
	enum mts_sts_mode mode;
	const char *mx[NMX]; /* the policy's patterns, NULL-ended */
	const char
	    *hosts[NMX]; /* current MX hosts, NULL-ended; none: unknown */
	const char *domain;
	enum reply_compat compat;
	enum reply_failure unusable;
	bool policy_failure; /* conf */
	bool refresh_failed; /* decision */
	enum reply_dane dane;
	const char *reason;
	const char *want; /* NULL: fails */
	unsigned flags;
	size_t dropped, expanded, strings_dropped;
} cases[] = {
    /* enforce, Postfix >= 3.4 */
    {"enforce: one exact mx",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mail.example.com"},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=mail.example.com" SEC,
     0,
     0,
     0,
     0},
    {"enforce: Gmail's policy, MX unknown: .domain, looser than 4.1",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {GMAIL, GMAIL_WILD},
     {NULL},
     "gmail.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=" GMAIL ":.gmail-smtp-in.l.google.com" SEC,
     I_LOOSE,
     0,
     0,
     0},
    {"enforce: Gmail's policy with its MX hosts: exact names only",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {GMAIL, GMAIL_WILD},
     {GMAIL ".", "alt1." GMAIL ".", "alt2." GMAIL ".", "alt3." GMAIL ".",
      "alt4." GMAIL "."},
     "gmail.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=" GMAIL ":alt1." GMAIL ":alt2." GMAIL ":alt3." GMAIL
     ":alt4." GMAIL SEC,
     0,
     0,
     4,
     0},
    {"enforce: Microsoft's wildcard, MX unknown",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {MSFT_WILD},
     {NULL},
     "microsoft.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=.mail.protection.outlook.com" SEC,
     I_LOOSE,
     0,
     0,
     0},
    {"enforce: Microsoft's wildcard with its MX host",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {MSFT_WILD},
     {MSFT_HOST "."},
     "microsoft.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=" MSFT_HOST SEC,
     0,
     0,
     1,
     0},
    {"enforce: *. covers one label only: a.b.example.net is left out",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx1.example.com", "*.example.net"},
     {"mx1.example.com.", "x.example.net.", "a.b.example.net.", "example.net."},
     "example.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=mx1.example.com:x.example.net" SEC,
     0,
     0,
     1,
     0},
    {"enforce: a wildcard that covers no MX host: every MX refused, TEMP",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"*.example.net"},
     {"a.b.example.net.", "mx.other.example."},
     "example.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     UNCOVERED,
     I_UNCOVERED,
     0,
     0,
     0},
    {"enforce: MX hosts repeated, upper case, no dot, not names",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"*.example.net"},
     {"A.Example.NET.", "a.example.net", "b.example.net",
      "bad_host.example.net", "", ".", "[192.0.2.1]"},
     "example.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=A.Example.NET:b.example.net" SEC,
     0,
     0,
     2,
     0},
    {"enforce: an exact mx also listed as MX host is not repeated",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx.example.net", "*.example.net"},
     {"MX.example.net."},
     "example.net",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=mx.example.net" SEC,
     0,
     0,
     0,
     0},
    {"enforce: an IP address in mx: is left out",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"192.0.2.25", "mail.example.com"},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=mail.example.com" SEC,
     0,
     1,
     0,
     0},
    {"enforce: *.IP is left out too",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"*.192.0.2.25", "mail.example.com"},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=mail.example.com" SEC,
     0,
     1,
     0,
     0},
    {"enforce: only an IP address: not secure match= empty, NOTFOUND",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"192.0.2.25"},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     REPLY_FAIL_NOTFOUND,
     false,
     false,
     0,
     NULL,
     NOTFOUND,
     I_UNUSABLE,
     1,
     0,
     0},
    {"enforce: only an IP address, failure configured TEMP",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"192.0.2.25"},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     REPLY_FAIL_TEMP,
     false,
     false,
     0,
     NULL,
     UNUSABLE,
     I_UNUSABLE,
     1,
     0,
     0},
    {"enforce: nmx: typo leaves no mx: NOTFOUND, never match= empty",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {NULL},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     REPLY_FAIL_NOTFOUND,
     false,
     false,
     0,
     NULL,
     NOTFOUND,
     I_UNUSABLE,
     0,
     0,
     0},
    {"enforce: nmx: typo, 3.10, failure TEMP",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {NULL},
     {"mx.example.com."},
     "example.com",
     REPLY_COMPAT_310,
     REPLY_FAIL_TEMP,
     false,
     false,
     0,
     NULL,
     UNUSABLE,
     I_UNUSABLE,
     0,
     0,
     0},
    {"enforce: empty, malformed, colon and address-literal patterns",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"", "mail.*.example.com", "[192.0.2.1]", "a:b.example", "2001:db8::1",
      ".example.com", "mx.example.com"},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=mx.example.com" SEC,
     0,
     6,
     0,
     0},
    {"enforce: control octets and spaces in a pattern",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx\n.example.com", "mx .example.com", "ok.example"},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=ok.example" SEC,
     0,
     2,
     0,
     0},
    {"enforce: policy domain with a trailing dot",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx.example.com"},
     {NULL},
     "example.com.",
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=mx.example.com" SEC
     " policy_type=sts policy_domain=example.com"
     " mx_host_pattern=mx.example.com" PS("version: STSv1") PS("mode: enforce")
         PS("mx: mx.example.com") PS("max_age: 86400"),
     0,
     0,
     0,
     0},
    {"enforce: policy domain with a space",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx.example.com"},
     {NULL},
     "example.com x",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     NULL,
     0,
     0,
     0,
     0},
    {"enforce: policy domain with a newline",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx.example.com"},
     {NULL},
     "example.com\npolicy_type=sts",
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     NULL,
     0,
     0,
     0,
     0},
    {"enforce: no policy domain",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx.example.com"},
     {NULL},
     NULL,
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     NULL,
     0,
     0,
     0,
     0},

    /* enforce, Postfix >= 3.10 */
    {"enforce 3.10: Gmail's policy with the TLSRPT attributes",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {GMAIL, GMAIL_WILD},
     {NULL},
     "gmail.com",
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=" GMAIL ":.gmail-smtp-in.l.google.com" SEC
     " policy_type=sts policy_domain=gmail.com"
     " mx_host_pattern=" GMAIL
     " mx_host_pattern=" GMAIL_WILD PS("version: STSv1") PS("mode: enforce")
         PS("mx: " GMAIL) PS("mx: " GMAIL_WILD) PS("max_age: 86400"),
     0,
     0,
     0,
     0},
    {"enforce 3.10: with MX hosts, match= expanded too",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {MSFT_WILD},
     {MSFT_HOST "."},
     "microsoft.com",
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=" MSFT_HOST SEC
     " policy_type=sts policy_domain=microsoft.com"
     " mx_host_pattern=" MSFT_WILD PS("version: STSv1") PS("mode: enforce")
         PS("mx: " MSFT_WILD) PS("max_age: 86400"),
     0,
     0,
     1,
     0},
    {"enforce 3.10: an IP in mx: is a policy_string, no mx_host_pattern",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"192.0.2.25", "mx.example.com"},
     {NULL},
     "example.com",
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=mx.example.com" SEC
     " policy_type=sts policy_domain=example.com"
     " mx_host_pattern=mx.example.com" PS("version: STSv1") PS("mode: enforce")
         PS("mx: 192.0.2.25") PS("mx: mx.example.com") PS("max_age: 86400"),
     0,
     1,
     0,
     0},
    {"enforce 3.10: braces and control octets never reach policy_string",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"a}b.example", "{x}.example", "c\rd.example", "e\x7f.example",
      "f\xc3\xbc.example", "mx.example.com"},
     {NULL},
     "example.com",
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     "OK secure match=mx.example.com" SEC
     " policy_type=sts policy_domain=example.com"
     " mx_host_pattern=mx.example.com" PS("version: STSv1") PS("mode: enforce")
         PS("mx: mx.example.com") PS("max_age: 86400"),
     0,
     5,
     0,
     5},
    {"enforce 3.10: refresh failed, policy_failure not asked for",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx.example.com"},
     {NULL},
     "example.com",
     REPLY_COMPAT_310,
     0,
     false,
     true,
     0,
     NULL,
     "OK secure match=mx.example.com" SEC
     " policy_type=sts policy_domain=example.com"
     " mx_host_pattern=mx.example.com" PS("version: STSv1") PS("mode: enforce")
         PS("mx: mx.example.com") PS("max_age: 86400"),
     0,
     0,
     0,
     0},
    {"enforce 3.10: refresh failed, policy_failure asked for",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx.example.com"},
     {NULL},
     "example.com",
     REPLY_COMPAT_310,
     0,
     true,
     true,
     0,
     NULL,
     "OK secure match=mx.example.com" SEC
     " policy_type=sts policy_domain=example.com"
     " mx_host_pattern=mx.example.com" PS("version: STSv1") PS("mode: enforce")
         PS("mx: mx.example.com")
             PS("max_age: 86400") " policy_failure=sts-policy-fetch-error",
     I_PFAIL,
     0,
     0,
     0},
    {"enforce 3.4: refresh failed: no policy_failure before 3.10",
     REPLY_STS,
     MTS_STS_MODE_ENFORCE,
     {"mx.example.com"},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     0,
     true,
     true,
     0,
     NULL,
     "OK secure match=mx.example.com" SEC,
     0,
     0,
     0,
     0},

    /* testing and none */
    {"testing: NOTFOUND (deliver, 5)",
     REPLY_STS,
     MTS_STS_MODE_TESTING,
     {GMAIL, GMAIL_WILD},
     {NULL},
     "gmail.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     NOTFOUND,
     0,
     0,
     0,
     0},
    {"testing 3.10: may with the attributes, no match=",
     REPLY_STS,
     MTS_STS_MODE_TESTING,
     {"mx.example.com", "*.example.net"},
     {NULL},
     "example.com",
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     "OK may policy_type=sts policy_domain=example.com"
     " mx_host_pattern=mx.example.com mx_host_pattern=*.example.net" PS(
	 "version: STSv1") PS("mode: testing") PS("mx: mx.example.com")
         PS("mx: *.example.net") PS("max_age: 86400"),
     0,
     0,
     0,
     0},
    {"testing 3.10: only an IP: NOTFOUND (sts needs an mx_host_pattern)",
     REPLY_STS,
     MTS_STS_MODE_TESTING,
     {"192.0.2.25"},
     {NULL},
     "example.com",
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     NOTFOUND,
     0,
     1,
     0,
     0},
    {"none: NOTFOUND",
     REPLY_STS,
     MTS_STS_MODE_NONE,
     {NULL},
     {NULL},
     "example.com",
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     NOTFOUND,
     0,
     0,
     0,
     0},
    {"none 3.10: NOTFOUND",
     REPLY_STS,
     MTS_STS_MODE_NONE,
     {NULL},
     {NULL},
     "example.com",
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     NOTFOUND,
     0,
     0,
     0,
     0},

    /* the other decisions */
    {"no policy: NOTFOUND",
     REPLY_NO_POLICY,
     0,
     {NULL},
     {NULL},
     NULL,
     REPLY_COMPAT_310,
     0,
     false,
     false,
     0,
     NULL,
     NOTFOUND,
     0,
     0,
     0,
     0},
    {"DANE: dane-only",
     REPLY_DANE,
     0,
     {NULL},
     {NULL},
     NULL,
     REPLY_COMPAT_34,
     0,
     false,
     false,
     REPLY_DANE_ONLY,
     NULL,
     "OK dane-only",
     0,
     0,
     0,
     0},
    {"DANE: dane",
     REPLY_DANE,
     0,
     {NULL},
     {NULL},
     NULL,
     REPLY_COMPAT_310,
     0,
     false,
     false,
     REPLY_DANE_MAY,
     NULL,
     "OK dane",
     0,
     0,
     0,
     0},
    {"TEMP with a reason",
     REPLY_TEMP,
     0,
     {NULL},
     {NULL},
     NULL,
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     "DNSSEC bogus MX answer",
     "TEMP DNSSEC bogus MX answer",
     0,
     0,
     0,
     0},
    {"TEMP without a reason",
     REPLY_TEMP,
     0,
     {NULL},
     {NULL},
     NULL,
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     "TEMP policy lookup failed",
     0,
     0,
     0,
     0},
    {"TEMP: a reason with a newline is refused",
     REPLY_TEMP,
     0,
     {NULL},
     {NULL},
     NULL,
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     "bad\nreason",
     NULL,
     0,
     0,
     0,
     0},
    {"unknown kind",
     (enum reply_kind)42,
     0,
     {NULL},
     {NULL},
     NULL,
     REPLY_COMPAT_34,
     0,
     false,
     false,
     0,
     NULL,
     NULL,
     0,
     0,
     0,
     0},
};

static size_t
count(const char *const *v)
{
	size_t n = 0;

	while (n < NMX && v[n] != NULL)
		n++;
	return n;
}

static void
run_case(const struct reply_case *c)
{
	static char buf[REPLY_BUF_SIZE];
	char store[NMX][256];
	char *mx[NMX];
	struct mts_sts_policy pol;
	struct reply_decision d;
	struct reply_conf conf;
	struct reply_info info;
	struct mts_err err;
	size_t i, len = 0;
	int rc;

	memset(&pol, 0, sizeof(pol));
	pol.mode = c->mode;
	pol.max_age = 86400;
	pol.mx_count = count(c->mx);
	for (i = 0; i < pol.mx_count; i++) {
		(void)snprintf(store[i], sizeof(store[i]), "%s", c->mx[i]);
		mx[i] = store[i];
	}
	pol.mx = mx;
	memset(&d, 0, sizeof(d));
	d.kind = c->kind;
	d.policy = &pol;
	d.domain = c->domain;
	d.refresh_failed = c->refresh_failed;
	d.dane = c->dane;
	d.reason = c->reason;
	d.mx = count(c->hosts) != 0 ? c->hosts : NULL;
	d.mx_count = count(c->hosts);
	memset(&conf, 0, sizeof(conf));
	conf.compat = c->compat;
	conf.unusable = c->unusable;
	conf.policy_failure = c->policy_failure;
	memset(&info, 0xa5, sizeof(info));
	memset(&err, 0, sizeof(err));

	rc = reply_format(&d, &conf, buf, sizeof(buf), &len, &info, &err);
	if (c->want == NULL) {
		tap_ok(rc == -1 && err.msg != NULL, "%s: refused (%s)", c->name,
		       err.msg != NULL ? err.msg : "no message");
		return;
	}
	if (!tap_ok(rc == 0 && strcmp(buf, c->want) == 0 &&
	                len == strlen(c->want),
	            "%s", c->name))
		tap_diag("rc %d, got \"%s\"\n#  want \"%s\"", rc,
		         rc == 0 ? buf : err.msg, c->want);
	if (rc != 0)
		return;
	tap_ok(info.loose == ((c->flags & I_LOOSE) != 0) &&
	           info.unusable == ((c->flags & I_UNUSABLE) != 0) &&
	           info.uncovered == ((c->flags & I_UNCOVERED) != 0) &&
	           info.policy_failure == ((c->flags & I_PFAIL) != 0) &&
	           info.dropped == c->dropped && info.expanded == c->expanded &&
	           info.strings_dropped == c->strings_dropped &&
	           (info.dropped == 0) == (info.dropped_why == NULL),
	       "%s: info (loose %d unusable %d uncovered %d dropped %zu "
	       "expanded %zu strings_dropped %zu)",
	       c->name, info.loose, info.unusable, info.uncovered, info.dropped,
	       info.expanded, info.strings_dropped);
}

/* The reason the first pattern was left out says which kind it was. */
static void
test_dropped_why(void)
{
	static const struct {
		const char *pattern, *why;
	} t[] = {
	    {"192.0.2.25", "mx pattern is an IP address"},
	    {"", "empty mx pattern"},
	    {"mail.*.example", "malformed mx pattern"},
	};
	char buf[512], store[64];
	char *mx[2];
	struct mts_sts_policy pol;
	struct reply_decision d;
	struct reply_info info;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		(void)snprintf(store, sizeof(store), "%s", t[i].pattern);
		mx[0] = store;
		mx[1] = (char *)"mx.example.com";
		memset(&pol, 0, sizeof(pol));
		pol.mode = MTS_STS_MODE_ENFORCE;
		pol.mx = mx;
		pol.mx_count = 2;
		memset(&d, 0, sizeof(d));
		d.kind = REPLY_STS;
		d.policy = &pol;
		d.domain = "example.com";
		memset(&info, 0, sizeof(info));
		tap_ok(reply_format(&d, NULL, buf, sizeof(buf), NULL, &info,
		                    NULL) == 0 &&
		           info.dropped_why != NULL &&
		           strcmp(info.dropped_why, t[i].why) == 0,
		       "dropped_why for \"%s\": %s", t[i].pattern,
		       info.dropped_why != NULL ? info.dropped_why : "(none)");
	}
}

/*
 * A policy whose reply is `total` octets: 999 patterns of 99 octets
 * and a last one making up the rest ("OK secure match=" is 16 octets,
 * " servername=hostname" 20, and 999 colons).
 */
static void
build_big(struct mts_sts_policy *pol, char **mx, char (*store)[128],
          size_t total)
{
	size_t i, last = total - 16 - 20 - 999 - 999 * 99;
	char a50[51], a36[37];

	memset(a50, 'a', 50);
	a50[50] = '\0';
	memset(a36, 'b', 36);
	a36[36] = '\0';
	for (i = 0; i < 999; i++) {
		(void)snprintf(store[i], 128, "h%06zu.%s.%s.com", i, a50, a36);
		mx[i] = store[i];
	}
	/* The last: "z" labels of 49 octets and ".com". */
	memset(store[999], 0, 128);
	for (i = 0; i + 4 < last; i++)
		store[999][i] = (i % 50 == 49) ? '.' : 'z';
	memcpy(store[999] + (last - 4), ".com", 4);
	mx[999] = store[999];
	memset(pol, 0, sizeof(*pol));
	pol->mode = MTS_STS_MODE_ENFORCE;
	pol->max_age = 86400;
	pol->mx = mx;
	pol->mx_count = 1000;
}

static void
test_cap(void)
{
	static char store[1000][128];
	static char *mx[1000];
	static char buf[REPLY_BUF_SIZE + 8];
	struct mts_sts_policy pol;
	struct reply_decision d;
	struct reply_info info;
	struct mts_err err;
	size_t len = 0;
	int rc;

	memset(&d, 0, sizeof(d));
	d.kind = REPLY_STS;
	d.policy = &pol;
	d.domain = "example.com";

	build_big(&pol, mx, store, REPLY_MAX);
	rc = reply_format(&d, NULL, buf, REPLY_BUF_SIZE, &len, &info, &err);
	tap_ok(rc == 0 && len == REPLY_MAX && strlen(buf) == REPLY_MAX &&
	           info.used == 1000 && info.dropped == 0,
	       "cap: a reply of exactly %d octets is written (rc %d, len %zu, "
	       "used %zu)",
	       REPLY_MAX, rc, len, rc == 0 ? info.used : 0);
	rc = reply_format(&d, NULL, buf, REPLY_MAX, &len, NULL, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG,
	       "cap: the same reply does not fit a buffer without room "
	       "for the NUL");
	rc = reply_format(&d, NULL, buf, sizeof(buf), &len, NULL, &err);
	tap_ok(rc == 0 && len == REPLY_MAX,
	       "cap: a larger buffer changes nothing at the cap");

	build_big(&pol, mx, store, REPLY_MAX + 1);
	len = 7;
	memset(&err, 0, sizeof(err));
	rc = reply_format(&d, NULL, buf, sizeof(buf), &len, NULL, &err);
	tap_ok(rc == -1 && err.code == MTS_ERR_TOOBIG && len == 7,
	       "cap: one octet over %d is refused, *len untouched (rc %d)",
	       REPLY_MAX, rc);
}

static void
test_args(void)
{
	struct reply_decision d;
	char buf[16];
	struct mts_err err;

	memset(&d, 0, sizeof(d));
	d.kind = REPLY_DANE;
	tap_ok(reply_format(NULL, NULL, buf, sizeof(buf), NULL, NULL, &err) ==
	               -1 &&
	           err.code == MTS_ERR_ARG,
	       "args: NULL decision");
	tap_ok(reply_format(&d, NULL, NULL, 16, NULL, NULL, &err) == -1 &&
	           err.code == MTS_ERR_ARG,
	       "args: NULL buffer");
	tap_ok(reply_format(&d, NULL, buf, 0, NULL, NULL, NULL) == -1,
	       "args: empty buffer");
	tap_ok(reply_format(&d, NULL, buf, 12, NULL, NULL, &err) == -1 &&
	           err.code == MTS_ERR_TOOBIG,
	       "args: \"OK dane-only\" needs 13 octets");
	tap_ok(reply_format(&d, NULL, buf, 13, NULL, NULL, NULL) == 0 &&
	           strcmp(buf, "OK dane-only") == 0,
	       "args: and fits in 13");
	d.kind = REPLY_STS;
	d.domain = "example.com";
	tap_ok(reply_format(&d, NULL, buf, sizeof(buf), NULL, NULL, &err) ==
	               -1 &&
	           err.code == MTS_ERR_ARG,
	       "args: STS without a policy");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_dropped_why();
	test_cap();
	test_args();
	return tap_done();
}
