/* SPDX-License-Identifier: ISC */
/*
 * The messages of serve's acme process (src/serve/acme_msg.c): every
 * type encoded and read back, malformed bodies refused with the struct
 * untouched, the CONF frame round trip and its refusals, the state
 * file's path and the split of its text into chain and key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme_msg.h"

#include "tap.h"

static const char cert_a[] = "-----BEGIN CERTIFICATE-----\nQUFB\n"
			     "-----END CERTIFICATE-----\n";
static const char cert_b[] = "-----BEGIN CERTIFICATE-----\nQkJC\n"
			     "-----END CERTIFICATE-----\n";
static const char key_k[] = "-----BEGIN PRIVATE KEY-----\nS0tL\n"
			    "-----END PRIVATE KEY-----\n";
static const char authz[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
			    "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

/* The first 40 octets of s with newlines shown as "\\n", for names. */
static const char *
show(const char *s)
{
	static char buf[96];
	size_t o = 0;

	for (; *s != '\0' && o < 40; s++) {
		if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = (unsigned char)*s < 0x20 ? '?' : *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* Decodes body[0..len) and says whether it was refused with m intact. */
static bool
refused(const char *body, size_t len)
{
	struct acme_msg m;

	memset(&m, 0xa5, sizeof(m));
	if (acme_msg_decode((const uint8_t *)body, len, &m) == 0)
		return false;
	for (size_t i = 0; i < sizeof(m); i++)
		if (((unsigned char *)&m)[i] != 0xa5)
			return false;
	return true;
}

static void
test_round_trips(void)
{
	struct acme_msg m;
	uint8_t *b;
	size_t n;

	tap_ok(acme_msg_issued("example.com", &b, &n) == 0 &&
	           acme_msg_decode(b, n, &m) == 0 &&
	           m.type == ACME_MSG_ISSUED &&
	           strcmp(m.name, "example.com") == 0 && m.cert_len == 0,
	       "ISSUED round trip");
	free(b);
	tap_ok(acme_msg_alpn_add("mta-sts.example.com", cert_a, strlen(cert_a),
	                         key_k, strlen(key_k), &b, &n) == 0 &&
	           acme_msg_decode(b, n, &m) == 0 &&
	           m.type == ACME_MSG_ALPN_ADD &&
	           strcmp(m.name, "mta-sts.example.com") == 0 &&
	           m.cert_len == strlen(cert_a) &&
	           memcmp(m.cert, cert_a, m.cert_len) == 0 &&
	           m.key_len == strlen(key_k) &&
	           memcmp(m.key, key_k, m.key_len) == 0,
	       "ALPN-ADD round trip: both blobs borrowed intact");
	free(b);
	tap_ok(acme_msg_alpn_del("mta-sts.example.com", &b, &n) == 0 &&
	           acme_msg_decode(b, n, &m) == 0 &&
	           m.type == ACME_MSG_ALPN_DEL,
	       "ALPN-DEL round trip");
	free(b);
	tap_ok(acme_msg_http_add("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
	                         authz, &b, &n) == 0 &&
	           acme_msg_decode(b, n, &m) == 0 &&
	           m.type == ACME_MSG_HTTP_ADD && m.cert_len == strlen(authz) &&
	           memcmp(m.cert, authz, m.cert_len) == 0,
	       "HTTP-ADD round trip (RFC 8555 §8.3 example token)");
	free(b);
	tap_ok(acme_msg_http_del("tok_en-1", &b, &n) == 0 &&
	           acme_msg_decode(b, n, &m) == 0 &&
	           m.type == ACME_MSG_HTTP_DEL &&
	           strcmp(m.name, "tok_en-1") == 0,
	       "HTTP-DEL round trip");
	free(b);
	tap_ok(acme_msg_state("example.com", 1900000000, 1890000000, 3,
	                      "rateLimited:\ttoo many", &b, &n) == 0 &&
	           acme_msg_decode(b, n, &m) == 0 && m.type == ACME_MSG_STATE &&
	           m.not_after == 1900000000 && m.renew_at == 1890000000 &&
	           m.failures == 3 &&
	           m.cert_len == strlen("rateLimited:?too many") &&
	           memcmp(m.cert, "rateLimited:?too many", m.cert_len) == 0,
	       "STATE round trip, the tab in last_error shown as ?");
	free(b);
	tap_ok(acme_msg_state("example.com", 0, 0, 0, NULL, &b, &n) == 0 &&
	           acme_msg_decode(b, n, &m) == 0 && m.cert_len == 0,
	       "STATE without an error");
	free(b);
}

static void
test_encoder_refusals(void)
{
	static char big[ACME_MSG_MAX + 1];
	uint8_t *b = NULL;
	size_t n;

	memset(big, 'A', sizeof(big) - 1);
	tap_ok(acme_msg_issued("Example.com", &b, &n) != 0,
	       "an upper-case name is refused");
	tap_ok(acme_msg_issued("example..com", &b, &n) != 0,
	       "an empty label is refused");
	tap_ok(acme_msg_issued("-x.example.com", &b, &n) != 0,
	       "a label starting with a hyphen is refused");
	tap_ok(acme_msg_issued("example.com ISSUED", &b, &n) != 0,
	       "a space in a name is refused");
	tap_ok(acme_msg_http_add("tok=", authz, &b, &n) != 0,
	       "a padded token is refused");
	tap_ok(acme_msg_http_add("tok", "tok", &b, &n) != 0,
	       "a key authorization without its thumbprint is refused");
	tap_ok(acme_msg_alpn_add("x.example", big, sizeof(big) - 1, key_k,
	                         strlen(key_k), &b, &n) != 0,
	       "a certificate over ACME_MSG_MAX is refused");
	tap_ok(acme_msg_state("example.com", -1, 0, 0, NULL, &b, &n) != 0,
	       "a negative time is refused");
	tap_ok(b == NULL, "no refusal wrote *out");
}

static void
test_decoder_refusals(void)
{
	static const char *const bodies[] = {
	    "",
	    "ISSUED example.com",          /* no newline */
	    "ISSUED\n",                    /* no argument */
	    "ISSUED  example.com\n",       /* an empty field */
	    "ISSUED example.com extra\n",  /* too many */
	    "ISSUED example.com\nx",       /* a payload it has not */
	    "ISSUE example.com\n",         /* unknown verb */
	    "issued example.com\n",        /* verbs are upper case */
	    "ISSUED EXAMPLE.COM\n",        /* upper-case name */
	    "HTTP-DEL a.b\n",              /* a token has no dot */
	    "ALPN-ADD x.example 1 1\nA",   /* one octet short */
	    "ALPN-ADD x.example 1 1\nABC", /* one octet over */
	    "ALPN-ADD x.example 0 1\nA",   /* an empty certificate */
	    "ALPN-ADD x.example 01 1\nAB", /* a leading zero */
	    "ALPN-ADD x.example -1 3\nAB", /* a sign */
	    "ALPN-ADD x.example 99999999999999999999 1\nAB",
	    "HTTP-ADD tok 3\nabc",                  /* no thumbprint */
	    "HTTP-ADD tok 4\na.b\n",                /* a newline in it */
	    "STATE example.com 1 2 3\n",            /* fields missing */
	    "STATE example.com 1 2 4294967296 0\n", /* failures > u32 */
	    "STATE example.com 1 2 3 2\na\x01",     /* a control byte */
	    "STATE example.com 1 2 3 161\n",        /* error over the cap */
	};
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		tap_ok(refused(bodies[i], strlen(bodies[i])),
		       "refused, struct untouched: \"%s\"", show(bodies[i]));
	tap_ok(refused("ISSUED exa\0mple.com\n", 20),
	       "a NUL in the line is refused");
	tap_ok(refused(NULL, 0), "NULL is refused");
}

/* Whether the body b[0..n) has the line `line` after its first. */
static bool
has_line(const uint8_t *b, size_t n, const char *line)
{
	size_t k = strlen(line), i;

	for (i = 0; i + k + 2 <= n; i++)
		if (b[i] == '\n' && memcmp(b + i + 1, line, k) == 0 &&
		    b[i + 1 + k] == '\n')
			return true;
	return false;
}

static void
test_conf(void)
{
	char *names[] = {"a.example", "b.example"};
	struct acme_proc_conf c = {
	    .directory = "https://127.0.0.1:14000/dir",
	    .contact = "mailto:hostmaster@example.com",
	    .ca_file = NULL,
	    .state_dir = "/var/lib/mtasts/acme",
	    .rate_orders = 300,
	    .rate_window = 10800,
	    .burst = 5,
	    .renew_age = 0,
	    .http01 = true,
	    .names = names,
	    .name_count = 2,
	};
	struct acme_proc_conf d;
	uint8_t *b;
	size_t n;

	memset(&d, 0, sizeof(d));
	tap_ok(acme_conf_encode(&c, &b, &n) == 0 &&
	           acme_conf_decode(b, n, &d) == 0 &&
	           strcmp(d.directory, c.directory) == 0 &&
	           strcmp(d.contact, c.contact) == 0 && d.ca_file == NULL &&
	           strcmp(d.state_dir, c.state_dir) == 0 &&
	           d.rate_orders == 300 && d.rate_window == 10800 &&
	           d.burst == 5 && d.renew_age == 0 && d.http01 &&
	           !d.prefer_http01 && d.name_count == 2 &&
	           strcmp(d.names[1], "b.example") == 0,
	       "CONF round trip, every field");
	free(b);
	acme_conf_free(&d);
	tap_ok(d.names == NULL && d.directory == NULL, "acme_conf_free zeroes");

	c.prefer_http01 = true;
	memset(&d, 0, sizeof(d));
	tap_ok(acme_conf_encode(&c, &b, &n) == 0 &&
	           acme_conf_decode(b, n, &d) == 0 && d.http01 &&
	           d.prefer_http01,
	       "CONF round trip, http-01 first");
	tap_ok(d.directory != NULL && has_line(b, n, "challenge http-01"),
	       "the preference is the line \"challenge http-01\"");
	free(b);
	acme_conf_free(&d);
	c.http01 = false;
	tap_ok(acme_conf_encode(&c, &b, &n) != 0,
	       "http-01 first without a listener is refused");
	c.prefer_http01 = false;
	memset(&d, 0, sizeof(d));
	tap_ok(acme_conf_encode(&c, &b, &n) == 0 &&
	           has_line(b, n, "challenge tls-alpn-01") &&
	           acme_conf_decode(b, n, &d) == 0 && !d.http01 &&
	           !d.prefer_http01,
	       "CONF round trip, tls-alpn-01 and no listener");
	free(b);
	acme_conf_free(&d);
	c.http01 = true;

	static const struct {
		const char *name, *body;
		bool http01, prefer;
	} goods[] = {
	    {"neither line: no listener, tls-alpn-01",
	     "CONF 1\ndirectory d\nstate-dir s\n", false, false},
	    {"no challenge line: tls-alpn-01",
	     "CONF 1\ndirectory d\nstate-dir s\nhttp01 1\n", true, false},
	    {"challenge tls-alpn-01 with a listener",
	     "CONF 1\ndirectory d\nstate-dir s\nhttp01 1\n"
	     "challenge tls-alpn-01\n",
	     true, false},
	    {"challenge http-01 with a listener",
	     "CONF 1\ndirectory d\nstate-dir s\nhttp01 1\n"
	     "challenge http-01\n",
	     true, true},
	    {"challenge http-01 before http01 1",
	     "CONF 1\nchallenge http-01\ndirectory d\nhttp01 1\n"
	     "state-dir s\n",
	     true, true},
	};
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		memset(&d, 0, sizeof(d));
		tap_ok(acme_conf_decode((const uint8_t *)goods[i].body,
		                        strlen(goods[i].body), &d) == 0 &&
		           d.http01 == goods[i].http01 &&
		           d.prefer_http01 == goods[i].prefer,
		       "CONF read: %s", goods[i].name);
		acme_conf_free(&d);
	}

	c.contact = "mailto:a\nrate 1";
	tap_ok(acme_conf_encode(&c, &b, &n) != 0,
	       "a newline in a value cannot inject a line");
	c.contact = NULL;
	names[1] = "B.example";
	tap_ok(acme_conf_encode(&c, &b, &n) != 0, "a bad domain is refused");
	names[1] = "b.example";

	static const char *const bad[] = {
	    "CONF 1\nstate-dir /x\n",             /* no directory */
	    "CONF 1\ndirectory https://x\n",      /* no state-dir */
	    "CONF 2\ndirectory d\nstate-dir s\n", /* unknown version */
	    "CONF 1\ndirectory d\nstate-dir s\nfoo 1\n",
	    "CONF 1\ndirectory d\nstate-dir s\nrate 4294967296\n",
	    "CONF 1\ndirectory d\nstate-dir s\nhttp01 2\n",
	    "CONF 1\ndirectory d\nstate-dir s\nchallenge http-01\n",
	    "CONF 1\ndirectory d\nstate-dir s\nhttp01 0\nchallenge http-01\n",
	    "CONF 1\ndirectory d\nstate-dir s\nhttp01 1\nchallenge dns-01\n",
	    "CONF 1\ndirectory d\nstate-dir s\nhttp01 1\nchallenge \n",
	    "CONF 1\ndirectory d\nstate-dir s\ndomain a..b\n",
	    "CONF 1\ndirectory d\ndirectory e\nstate-dir s\n",
	    "CONF 1\ndirectory d\nstate-dir s",     /* no final newline */
	    "CONF 1\ndirectory d\n\nstate-dir s\n", /* an empty line */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0, sizeof(d));
		tap_ok(acme_conf_decode((const uint8_t *)bad[i], strlen(bad[i]),
		                        &d) != 0 &&
		           d.directory == NULL,
		       "CONF refused: \"%s\"", show(bad[i]));
	}
	static const char twice[] =
	    "CONF 1\ndirectory d\nstate-dir s\nhttp01 1\n"
	    "challenge tls-alpn-01\nchallenge http-01\n";
	memset(&d, 0, sizeof(d));
	tap_ok(acme_conf_decode((const uint8_t *)twice, strlen(twice), &d) !=
	               0 &&
	           d.directory == NULL,
	       "CONF refused: challenge twice");
}

static void
test_files(void)
{
	char path[64], *chain = NULL, *key = NULL, text[512];
	size_t clen, klen;

	tap_ok(acme_cert_path("/var/lib/mtasts/acme", "example.com", path,
	                      sizeof(path)) == 0 &&
	           strcmp(path, "/var/lib/mtasts/acme/certs/example.com.pem") ==
	               0,
	       "the certificate file's path");
	tap_ok(acme_state_path("/s", "example.com", path, sizeof(path)) == 0 &&
	           strcmp(path, "/s/certs/example.com.state") == 0,
	       "the state file's path");
	tap_ok(acme_cert_path("/s", "../etc", path, sizeof(path)) != 0,
	       "a name that climbs out of the directory is refused");
	tap_ok(acme_cert_path("/s", "example.com", path, 12) != 0,
	       "a path that does not fit is refused");

	snprintf(text, sizeof(text), "%s%s%s", key_k, cert_a, cert_b);
	tap_ok(acme_pem_split(text, strlen(text), &chain, &clen, &key, &klen) ==
	               0 &&
	           clen == strlen(cert_a) + strlen(cert_b) &&
	           strncmp(chain, cert_a, strlen(cert_a)) == 0 &&
	           strcmp(chain + strlen(cert_a), cert_b) == 0 &&
	           strcmp(key, key_k) == 0 && klen == strlen(key_k),
	       "key then chain: split in order, the key apart");
	free(chain);
	free(key);
	snprintf(text, sizeof(text), "%s%s", key_k, cert_a);
	text[30] = '\0';
	tap_ok(acme_pem_split(text, strlen(key_k) + strlen(cert_a), &chain,
	                      &clen, &key, &klen) != 0,
	       "a NUL inside the key: refused");
	snprintf(text, sizeof(text), "%s%s", cert_a, cert_b);
	tap_ok(acme_pem_split(text, strlen(text), &chain, &clen, &key, &klen) !=
	           0,
	       "no key: refused");
	snprintf(text, sizeof(text), "%s%s%s", key_k, cert_a, key_k);
	tap_ok(acme_pem_split(text, strlen(text), &chain, &clen, &key, &klen) !=
	           0,
	       "two keys: refused");
	snprintf(text, sizeof(text), "%s%.40s", key_k, cert_a);
	tap_ok(acme_pem_split(text, strlen(text), &chain, &clen, &key, &klen) !=
	           0,
	       "an unterminated certificate: refused");
	snprintf(text, sizeof(text),
	         "%s-----BEGIN EC PRIVATE KEY-----\nx\n"
	         "-----END EC PRIVATE KEY-----\n",
	         cert_a);
	tap_ok(acme_pem_split(text, strlen(text), &chain, &clen, &key, &klen) !=
	           0,
	       "a block of another kind: refused");
}

int
main(void)
{
	test_round_trips();
	test_encoder_refusals();
	test_decoder_refusals();
	test_conf();
	test_files();
	return tap_done();
}
