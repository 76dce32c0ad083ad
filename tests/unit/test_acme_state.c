/* SPDX-License-Identifier: ISC */
/*
 * The state directory of serve's ACME client (src/serve/acme_state.c),
 * in a temporary directory: the modes of what it makes (0700
 * directories, 0600 keys, 0644 state files, whatever the umask), the
 * atomic write leaving no temporary file, the account key made once and
 * read back, the account URL kept with its CA's directory (another CA
 * has none), the order URL and its key, a domain's STATE read back,
 * refusals of malformed files, and a certificate's validity.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "acme_csr.h"
#include "acme_json.h"
#include "acme_state.h"
#include "tap.h"

static char dir[256];

static unsigned
mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0xffffu;
	return (unsigned)(st.st_mode & 07777);
}

static void
path_in(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", dir, rel);
}

/* Whether a directory holds a file whose name has ".tmp." in it. */
static bool
has_tmp(const char *d)
{
	struct dirent *e;
	DIR *h = opendir(d);
	bool found = false;

	if (h == NULL)
		return true;
	while ((e = readdir(h)) != NULL)
		if (strstr(e->d_name, ".tmp.") != NULL)
			found = true;
	closedir(h);
	return found;
}

static void
write_text(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	path_in(p, sizeof(p), rel);
	if ((f = fopen(p, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_dirs_and_writes(void)
{
	char p[512], *buf = NULL;
	size_t len = 0;

	umask(077);
	tap_ok(acme_state_init(dir) == 0 && acme_state_init(dir) == 0,
	       "ACME-STATE: init makes the directory and certs/, twice");
	path_in(p, sizeof(p), "certs");
	tap_ok(mode_of(dir) == 0700 && mode_of(p) == 0700,
	       "ACME-STATE: both 0700 (%o, %o)", mode_of(dir), mode_of(p));
	path_in(p, sizeof(p), "certs/x.state");
	tap_ok(acme_state_write(p, "abc", 3, 0644) == 0 && mode_of(p) == 0644,
	       "ACME-STATE: a 0644 file is 0644 under umask 077 (%o)",
	       mode_of(p));
	tap_ok(acme_state_write(p, "defg", 4, 0600) == 0 &&
	           acme_state_read(p, 100, &buf, &len) == 0 && len == 4 &&
	           strcmp(buf, "defg") == 0 && mode_of(p) == 0600,
	       "ACME-STATE: a rewrite replaces the text and the mode");
	free(buf);
	buf = NULL;
	path_in(p, sizeof(p), "certs");
	tap_ok(!has_tmp(p), "ACME-STATE: no temporary file is left");
	path_in(p, sizeof(p), "certs/x.state");
	tap_ok(acme_state_read(p, 3, &buf, &len) == -1 && errno == EFBIG &&
	           buf == NULL,
	       "ACME-STATE: a file over the cap is refused");
	path_in(p, sizeof(p), "certs/none");
	tap_ok(acme_state_read(p, 100, &buf, &len) == -1 && errno == ENOENT,
	       "ACME-STATE: a missing file says ENOENT");
	path_in(p, sizeof(p), "nodir/file");
	tap_ok(acme_state_write(p, "x", 1, 0600) == -1,
	       "ACME-STATE: a write into a missing directory fails");
	tap_ok(acme_state_path_of(dir, "Not..a.name", ".pem", p, sizeof(p)) ==
	           -1,
	       "ACME-STATE: a path for a bad name is refused");
}

static void
test_account(void)
{
	EVP_PKEY *a, *b;
	char p[512], *url = NULL;

	a = acme_state_account_key(dir);
	b = acme_state_account_key(dir);
	path_in(p, sizeof(p), "account.key");
	tap_ok(a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1 &&
	           mode_of(p) == 0600,
	       "ACME-STATE: the account key is made once, 0600, and read back");
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	write_text("account.key", "not a key\n");
	tap_ok(acme_state_account_key(dir) == NULL,
	       "ACME-STATE: an unreadable account key is not replaced");
	tap_ok(acme_state_account_get(dir, "https://ca/dir", &url) == -1,
	       "ACME-STATE: no account before one is kept");
	tap_ok(acme_state_account_put(dir, "https://ca/dir",
	                              "https://ca/acct/1") == 0 &&
	           acme_state_account_get(dir, "https://ca/dir", &url) == 0 &&
	           tap_streq(url, "https://ca/acct/1"),
	       "ACME-STATE: the account URL read back for its directory");
	free(url);
	url = NULL;
	tap_ok(acme_state_account_get(dir, "https://other/dir", &url) == -1 &&
	           url == NULL,
	       "ACME-STATE: another CA's directory has no account");
	tap_ok(acme_state_account_get(dir, "https://ca/di", &url) == -1,
	       "ACME-STATE: a prefix of the directory URL is another CA");
	tap_ok(acme_state_account_put(dir, "https://ca/dir", "a\nb") == -1,
	       "ACME-STATE: a URL with a newline is refused");
}

static void
test_order(void)
{
	EVP_PKEY *k, *r;
	char *url = NULL, p[512];

	tap_ok(acme_state_order_get(dir, "a.example", &url) == -1,
	       "ACME-STATE: no order kept");
	tap_ok(acme_state_order_put(dir, "a.example", "https://ca/order/7") ==
	               0 &&
	           acme_state_order_get(dir, "a.example", &url) == 0 &&
	           tap_streq(url, "https://ca/order/7"),
	       "ACME-STATE: the order URL read back");
	free(url);
	url = NULL;
	k = acme_key_new();
	r = NULL;
	tap_ok(k != NULL &&
	           acme_state_order_key_put(dir, "a.example", k) == 0 &&
	           (r = acme_state_order_key_get(dir, "a.example")) != NULL &&
	           EVP_PKEY_eq(k, r) == 1,
	       "ACME-STATE: the order's key read back");
	path_in(p, sizeof(p), "certs/a.example.key");
	tap_ok(mode_of(p) == 0600, "ACME-STATE: the order's key is 0600");
	EVP_PKEY_free(k);
	EVP_PKEY_free(r);
	acme_state_order_clear(dir, "a.example");
	tap_ok(acme_state_order_get(dir, "a.example", &url) == -1 &&
	           acme_state_order_key_get(dir, "a.example") == NULL,
	       "ACME-STATE: clearing forgets the order and its key");
	write_text("certs/b.example.order", "http://ca/order/1\n");
	tap_ok(acme_state_order_get(dir, "b.example", &url) == -1,
	       "ACME-STATE: a kept order URL that is not https is refused");
	write_text("certs/b.example.order", "https://ca/order/1");
	tap_ok(acme_state_order_get(dir, "b.example", &url) == -1,
	       "ACME-STATE: a kept order without its newline is refused");
}

static void
test_dom_state(void)
{
	struct acme_dom_state st, back;
	uint8_t *body = NULL;
	size_t len = 0;

	memset(&st, 0, sizeof(st));
	st.not_after = 2000000000;
	st.renew_at = 1900000000;
	st.failures = 3;
	snprintf(st.last_error, sizeof(st.last_error), "HTTP 429 rateLimited");
	memset(&back, 0x5a, sizeof(back));
	tap_ok(acme_state_dom_put(dir, "a.example", &st, &body, &len) == 0 &&
	           acme_state_dom_get(dir, "a.example", &back) == 0 &&
	           back.not_after == st.not_after &&
	           back.renew_at == st.renew_at && back.failures == 3 &&
	           strcmp(back.last_error, st.last_error) == 0,
	       "ACME-STATE: a domain's state read back");
	tap_ok(body != NULL && len > 6 && memcmp(body, "STATE ", 6) == 0,
	       "ACME-STATE: the body returned is a STATE message");
	free(body);
	body = NULL;
	st.failures = 0;
	st.last_error[0] = '\0';
	memset(&back, 0x5a, sizeof(back));
	tap_ok(acme_state_dom_put(dir, "a.example", &st, &body, &len) == 0 &&
	           acme_state_dom_get(dir, "a.example", &back) == 0 &&
	           back.failures == 0 && back.last_error[0] == '\0',
	       "ACME-STATE: a state without an error read back");
	free(body);
	memset(&back, 0x5a, sizeof(back));
	write_text("certs/c.example.state", "STATE a.example 1 2 0 0\n");
	tap_ok(acme_state_dom_get(dir, "c.example", &back) == -1 &&
	           back.failures == 0x5a5a5a5au,
	       "ACME-STATE: a state file of another domain is refused, "
	       "untouched");
	write_text("certs/c.example.state", "garbage\n");
	tap_ok(acme_state_dom_get(dir, "c.example", &back) == -1,
	       "ACME-STATE: a malformed state file is refused");
}

static void
test_cert(void)
{
	EVP_PKEY *key = acme_key_new();
	X509 *x = X509_new(), *leaf = NULL;
	char *pem = NULL, *cert = NULL;
	size_t plen = 0;
	int64_t nb = 0, na = 0;
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *bm;
	char p[512];

	if (key == NULL || x == NULL || bio == NULL ||
	    ASN1_TIME_set(X509_getm_notBefore(x), 1700000000) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), 1707776000) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_sign(x, key, EVP_sha256()) == 0 ||
	    PEM_write_bio_X509(bio, x) != 1 ||
	    acme_key_pem(key, &pem, &plen) != 0)
		tap_ok(false, "ACME-STATE: a test certificate");
	BIO_get_mem_ptr(bio, &bm);
	if ((cert = malloc(bm->length + 1)) != NULL) {
		memcpy(cert, bm->data, bm->length);
		cert[bm->length] = '\0';
	}
	tap_ok(cert != NULL &&
	           acme_state_cert_put(dir, "a.example", pem, plen, cert,
	                               strlen(cert)) == 0 &&
	           acme_state_cert_get(dir, "a.example", &leaf, &nb, &na) ==
	               0 &&
	           nb == 1700000000 && na == 1707776000 && leaf != NULL &&
	           X509_cmp(leaf, x) == 0,
	       "ACME-STATE: the certificate's leaf and validity read back "
	       "(%lld, %lld)",
	       (long long)nb, (long long)na);
	path_in(p, sizeof(p), "certs/a.example.pem");
	tap_ok(mode_of(p) == 0600, "ACME-STATE: the certificate file is 0600");
	nb = na = 7;
	tap_ok(acme_state_cert_get(dir, "b.example", NULL, &nb, &na) == -1 &&
	           nb == 7 && na == 7,
	       "ACME-STATE: no certificate, nothing read");
	write_text("certs/b.example.pem", "-----BEGIN CERTIFICATE-----\nx\n");
	tap_ok(acme_state_cert_get(dir, "b.example", NULL, &nb, &na) == -1 &&
	           nb == 7,
	       "ACME-STATE: a broken certificate file is refused");
	X509_free(leaf);
	X509_free(x);
	EVP_PKEY_free(key);
	BIO_free(bio);
	free(cert);
	if (pem != NULL)
		explicit_bzero(pem, plen);
	free(pem);
}

/*
 * The parsers alone (acme_state_*_parse()): a URL read back is held to
 * what the CA's documents are (https, printable ASCII without space, at
 * most ACME_URL_MAX octets).  Before, any line after "https://" was
 * taken: a control character, a space, a megabyte-long account URL.
 */
static void
test_parse(void)
{
	static const struct {
		const char *text;
		bool ok;
		const char *what;
	} orders[] = {
	    {"https://ca/order/7\n", true, "an order URL"},
	    {"https://ca/order/7\nmore\n", true, "a line after it"},
	    {"https://ca/order 7\n", false, "a space"},
	    {"https://ca/order/\x01\n", false, "a control character"},
	    {"https://ca/order/\x7f\n", false, "DEL"},
	    {"https://ca/order/\xc3\xa9\n", false, "a non-ASCII octet"},
	    {"https://ca/order/7\r\n", false, "a CR before the newline"},
	    {"https://\n", false, "no host"},
	    {"\n", false, "an empty line"},
	    {"", false, "nothing"},
	};
	static const char dir_url[] = "https://ca/dir";
	char *url, *big, text[64];
	size_t i, n;

	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		url = NULL;
		tap_ok((acme_state_order_parse(orders[i].text,
		                               strlen(orders[i].text),
		                               &url) == 0) == orders[i].ok,
		       "ACME-STATE parse: order file, %s: %s", orders[i].what,
		       orders[i].ok ? "taken" : "refused");
		free(url);
		url = NULL;
		snprintf(text, sizeof(text), "%s\n%s", dir_url, orders[i].text);
		tap_ok((acme_state_account_parse(text, strlen(text), dir_url,
		                                 &url) == 0) == orders[i].ok,
		       "ACME-STATE parse: account file, %s: %s", orders[i].what,
		       orders[i].ok ? "taken" : "refused");
		free(url);
	}
	/* "https://ca/dir\n" then a URL of n octets and "\n". */
	n = ACME_URL_MAX + 1;
	big = malloc(sizeof(dir_url) + n + 2);
	if (big == NULL) {
		tap_diag("out of memory");
		return;
	}
	memcpy(big, dir_url, sizeof(dir_url) - 1);
	big[sizeof(dir_url) - 1] = '\n';
	memcpy(big + sizeof(dir_url), "https://", 8);
	memset(big + sizeof(dir_url) + 8, 'a', n - 8);
	big[sizeof(dir_url) + n] = '\n';
	big[sizeof(dir_url) + n + 1] = '\0';
	url = NULL;
	tap_ok(acme_state_account_parse(big, sizeof(dir_url) + n + 1, dir_url,
	                                &url) == -1 &&
	           url == NULL,
	       "ACME-STATE parse: an account URL over ACME_URL_MAX is refused");
	/* One octet less: taken. */
	memmove(big + sizeof(dir_url) + n - 1, big + sizeof(dir_url) + n, 2);
	tap_ok(acme_state_account_parse(big, sizeof(dir_url) + n, dir_url,
	                                &url) == 0 &&
	           strlen(url) == ACME_URL_MAX,
	       "ACME-STATE parse: an account URL of ACME_URL_MAX is taken");
	free(url);
	free(big);
}

static void
rm_rf(const char *d)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", d);
}

int
main(void)
{
	char tmpl[] = "/tmp/test_acme_state.XXXXXX";

	if (mkdtemp(tmpl) == NULL) {
		tap_ok(false, "mkdtemp");
		return tap_done();
	}
	snprintf(dir, sizeof(dir), "%s/state", tmpl);
	test_dirs_and_writes();
	test_account();
	test_order();
	test_dom_state();
	test_cert();
	test_parse();
	rm_rf(tmpl);
	return tap_done();
}
