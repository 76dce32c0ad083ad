/* SPDX-License-Identifier: ISC */
/*
 * The state directory of serve's ACME client (acme_state.h says what
 * each file holds and why it is written atomically).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "acme_csr.h"
#include "acme_json.h"
#include "acme_state.h"

#define PATH_SIZE 4096

static int
mkdir_private(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
acme_state_init(const char *dir)
{
	char path[PATH_SIZE];
	int n;

	n = snprintf(path, sizeof(path), "%s/certs", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdir_private(dir) == 0 && mkdir_private(path) == 0 ? 0 : -1;
}

/* fsync of the directory that holds path, so that a rename lasts. */
static int
sync_dir_of(const char *path)
{
	char dir[PATH_SIZE];
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 1 : (size_t)(slash - path);
	int fd, rc;

	if (n == 0)
		n = 1; /* "/file" */
	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, slash == NULL ? "." : path, n);
	dir[n] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
acme_state_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	char tmp[PATH_SIZE];
	const uint8_t *p = buf;
	size_t off = 0;
	ssize_t w;
	int fd, n, saved;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	          mode);
	if (fd < 0)
		return -1;
	/* The umask may have taken bits the caller wants (0644). */
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return sync_dir_of(path);
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	errno = saved;
	return -1;
}

int
acme_state_read(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	char *p = NULL;
	size_t off = 0;
	ssize_t r;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (off < (size_t)st.st_size) {
		r = read(fd, p + off, (size_t)st.st_size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r == 0 ? EIO : errno;
			goto fail;
		}
		off += (size_t)r;
	}
	p[off] = '\0';
	close(fd);
	*buf = p;
	*len = off;
	return 0;
fail:
	saved = errno;
	free(p);
	close(fd);
	errno = saved;
	return -1;
}

int
acme_state_path_of(const char *dir, const char *domain, const char *suffix,
                   char *buf, size_t size)
{
	int n;

	if (dir == NULL || dir[0] == '\0' || !acme_name_ok(domain)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(buf, size, "%s/certs/%s%s", dir, domain, suffix);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Frees a buffer that held a private key. */
static void
free_secret(char *p, size_t len)
{
	if (p != NULL) {
		explicit_bzero(p, len);
		free(p);
	}
}

/* Writes key's PKCS#8 PEM to path, 0600. */
static int
put_key(const char *path, EVP_PKEY *key)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if (acme_key_pem(key, &pem, &len) != 0)
		return -1;
	rc = acme_state_write(path, pem, len, 0600);
	free_secret(pem, len);
	return rc;
}

static EVP_PKEY *
get_key(const char *path)
{
	EVP_PKEY *key;
	char *pem = NULL;
	size_t len = 0;

	if (acme_state_read(path, ACME_STATE_FILE_MAX, &pem, &len) != 0)
		return NULL;
	key = acme_key_from_pem(pem, len);
	free_secret(pem, len);
	if (key == NULL)
		errno = EINVAL;
	return key;
}

EVP_PKEY *
acme_state_account_key(const char *dir)
{
	char path[PATH_SIZE];
	EVP_PKEY *key;
	int n;

	n = snprintf(path, sizeof(path), "%s/account.key", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	if ((key = get_key(path)) != NULL || errno != ENOENT)
		return key;
	if ((key = acme_key_new()) == NULL)
		return NULL;
	if (put_key(path, key) != 0) {
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

/*
 * A URL kept in a state file as the CA's documents have it (acme_json.c's
 * K_URL): https, printable ASCII without space, at most ACME_URL_MAX
 * octets, so that what is read back is what was written (a damaged file
 * must not put a control character or a megabyte into every JWS "kid").
 */
static bool
url_ok(const char *s, size_t n)
{
	size_t i;

	if (n <= 8 || n > ACME_URL_MAX || strncmp(s, "https://", 8) != 0)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* The line of buf[0..len) that starts at buf, as a new string when it
   is a URL (url_ok()) ended by a newline; NULL otherwise. */
static char *
url_line(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	char *u;

	if (nl == NULL || !url_ok(buf, (size_t)(nl - buf)))
		return NULL;
	if ((u = malloc((size_t)(nl - buf) + 1)) == NULL)
		return NULL;
	memcpy(u, buf, (size_t)(nl - buf));
	u[nl - buf] = '\0';
	return u;
}

int
acme_state_account_parse(const char *buf, size_t len, const char *directory,
                         char **url)
{
	size_t dlen = strlen(directory);
	char *u;

	/* The account belongs to the CA on its first line. */
	if (len <= dlen + 1 || memcmp(buf, directory, dlen) != 0 ||
	    buf[dlen] != '\n' ||
	    (u = url_line(buf + dlen + 1, len - dlen - 1)) == NULL)
		return -1;
	*url = u;
	return 0;
}

int
acme_state_account_get(const char *dir, const char *directory, char **url)
{
	char path[PATH_SIZE], *buf = NULL;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/account", dir);
	if (acme_state_read(path, ACME_STATE_FILE_MAX, &buf, &len) != 0)
		return -1;
	rc = acme_state_account_parse(buf, len, directory, url);
	free(buf);
	return rc;
}

int
acme_state_account_put(const char *dir, const char *directory, const char *url)
{
	char path[PATH_SIZE], *text;
	size_t n;
	int rc;

	if (strchr(directory, '\n') != NULL || strchr(url, '\n') != NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/account", dir);
	n = strlen(directory) + strlen(url) + 3;
	if ((text = malloc(n)) == NULL)
		return -1;
	snprintf(text, n, "%s\n%s\n", directory, url);
	rc = acme_state_write(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

int
acme_state_dom_parse(const uint8_t *buf, size_t len, const char *domain,
                     struct acme_dom_state *out)
{
	struct acme_msg m;
	size_t n;

	if (acme_msg_decode(buf, len, &m) != 0 || m.type != ACME_MSG_STATE ||
	    strcmp(m.name, domain) != 0)
		return -1;
	out->not_after = m.not_after;
	out->renew_at = m.renew_at;
	out->failures = m.failures;
	n = m.cert_len < ACME_ERROR_MAX ? m.cert_len : ACME_ERROR_MAX;
	if (n > 0) /* an empty error has no blob (NULL) */
		memcpy(out->last_error, m.cert, n);
	out->last_error[n] = '\0';
	return 0;
}

int
acme_state_dom_get(const char *dir, const char *domain,
                   struct acme_dom_state *out)
{
	char path[PATH_SIZE], *buf = NULL;
	size_t len;
	int rc;

	if (acme_state_path_of(dir, domain, ".state", path, sizeof(path)) !=
	        0 ||
	    acme_state_read(path, ACME_MSG_MAX, &buf, &len) != 0)
		return -1;
	rc = acme_state_dom_parse((const uint8_t *)buf, len, domain, out);
	free(buf);
	return rc;
}

int
acme_state_dom_put(const char *dir, const char *domain,
                   const struct acme_dom_state *st, uint8_t **body, size_t *len)
{
	char path[PATH_SIZE];
	uint8_t *b = NULL;
	size_t n = 0;

	if (acme_state_path_of(dir, domain, ".state", path, sizeof(path)) !=
	        0 ||
	    acme_msg_state(domain, st->not_after, st->renew_at, st->failures,
	                   st->last_error, &b, &n) != 0)
		return -1;
	if (acme_state_write(path, b, n, 0644) != 0) {
		free(b);
		return -1;
	}
	*body = b;
	*len = n;
	return 0;
}

int
acme_asn1_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	time_t v;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    (v = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
acme_state_cert_parse(const char *buf, size_t len, X509 **leaf,
                      int64_t *not_before, int64_t *not_after)
{
	const char *begin;
	int64_t nb, na;
	X509 *x = NULL;
	BIO *bio = NULL;
	int rc = -1;

	/* The leaf is the first certificate, after the key. */
	if (len > ACME_STATE_FILE_MAX || buf[len] != '\0' ||
	    (begin = strstr(buf, "-----BEGIN CERTIFICATE-----")) == NULL ||
	    (bio = BIO_new_mem_buf(begin, (int)(buf + len - begin))) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    acme_asn1_time(X509_get0_notBefore(x), &nb) != 0 ||
	    acme_asn1_time(X509_get0_notAfter(x), &na) != 0)
		goto out;
	*not_before = nb;
	*not_after = na;
	if (leaf != NULL) {
		*leaf = x;
		x = NULL;
	}
	rc = 0;
out:
	X509_free(x);
	BIO_free(bio);
	return rc;
}

int
acme_state_cert_get(const char *dir, const char *domain, X509 **leaf,
                    int64_t *not_before, int64_t *not_after)
{
	char path[PATH_SIZE], *buf = NULL;
	size_t len;
	int rc;

	if (acme_state_path_of(dir, domain, ".pem", path, sizeof(path)) != 0 ||
	    acme_state_read(path, ACME_STATE_FILE_MAX, &buf, &len) != 0)
		return -1;
	rc = acme_state_cert_parse(buf, len, leaf, not_before, not_after);
	free_secret(buf, len);
	if (rc != 0)
		errno = EINVAL;
	return rc;
}

int
acme_state_cert_put(const char *dir, const char *domain, const char *key_pem,
                    size_t key_len, const char *chain, size_t chain_len)
{
	char path[PATH_SIZE], *text;
	size_t n = key_len + chain_len;
	int rc;

	if (acme_state_path_of(dir, domain, ".pem", path, sizeof(path)) != 0 ||
	    (text = malloc(n + 1)) == NULL)
		return -1;
	memcpy(text, key_pem, key_len);
	memcpy(text + key_len, chain, chain_len);
	text[n] = '\0';
	rc = acme_state_write(path, text, n, 0600);
	free_secret(text, n);
	return rc;
}

int
acme_state_order_parse(const char *buf, size_t len, char **url)
{
	char *u;

	if ((u = url_line(buf, len)) == NULL)
		return -1;
	*url = u;
	return 0;
}

int
acme_state_order_get(const char *dir, const char *domain, char **url)
{
	char path[PATH_SIZE], *buf = NULL;
	size_t len;
	int rc;

	if (acme_state_path_of(dir, domain, ".order", path, sizeof(path)) !=
	        0 ||
	    acme_state_read(path, ACME_URL_MAX + 2, &buf, &len) != 0)
		return -1;
	rc = acme_state_order_parse(buf, len, url);
	free(buf);
	if (rc != 0)
		errno = EINVAL;
	return rc;
}

int
acme_state_order_put(const char *dir, const char *domain, const char *url)
{
	char path[PATH_SIZE], text[ACME_URL_MAX + 2];
	int n;

	if (acme_state_path_of(dir, domain, ".order", path, sizeof(path)) != 0)
		return -1;
	n = snprintf(text, sizeof(text), "%s\n", url);
	if (n < 0 || (size_t)n >= sizeof(text) || strchr(url, '\n') != NULL) {
		errno = EINVAL;
		return -1;
	}
	return acme_state_write(path, text, (size_t)n, 0600);
}

void
acme_state_order_clear(const char *dir, const char *domain)
{
	char path[PATH_SIZE];

	if (acme_state_path_of(dir, domain, ".order", path, sizeof(path)) == 0)
		(void)unlink(path);
	if (acme_state_path_of(dir, domain, ".key", path, sizeof(path)) == 0)
		(void)unlink(path);
	(void)sync_dir_of(path);
}

EVP_PKEY *
acme_state_order_key_get(const char *dir, const char *domain)
{
	char path[PATH_SIZE];

	if (acme_state_path_of(dir, domain, ".key", path, sizeof(path)) != 0)
		return NULL;
	return get_key(path);
}

int
acme_state_order_key_put(const char *dir, const char *domain, EVP_PKEY *key)
{
	char path[PATH_SIZE];

	if (acme_state_path_of(dir, domain, ".key", path, sizeof(path)) != 0)
		return -1;
	return put_key(path, key);
}
