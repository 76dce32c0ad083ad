/* SPDX-License-Identifier: ISC */
/*
 * quirk_server: an HTTPS server of canned, mostly broken, answers to
 * the policy GET, for tests/e2e/fetch.sh, and a few SMTP servers that
 * break in ways no Postfix does (a reset, a trickle), for
 * tests/e2e/probe.sh.  Each quirk listens on its own port of 127.0.0.1
 * (chosen by the kernel), because some differ before the ClientHello is
 * read (TLS versions, certificates); the ports go to PORTFILE as "NAME
 * PORT" lines, written whole (a rename) once every socket listens.
 *
 *     quirk_server CERTDIR|- PORTFILE
 *
 * CERTDIR holds NAME.pem (leaf first, then the chain) and NAME.key for
 * the certificates the table below names (fetch.sh makes them with a CA
 * of its own); with "-" only the quirks without TLS are served.  Each
 * connection is served by a child process, which reads the request head
 * (HTTPS quirks), then answers as its quirk says; the children of
 * stalling quirks wait for the client to go and die after STALL_MAX
 * seconds in any case.  The server runs until it is killed.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define STALL_MAX 30
#define REQ_MAX   8192
#define POLICY                                                                 \
	"version: STSv1\r\nmode: enforce\r\nmx: mx.quirk.test\r\n"             \
	"max_age: 86400\r\n"

struct conn {
	SSL *ssl;
	int fd;
	char req[REQ_MAX + 1];
	size_t req_len;
};

struct quirk {
	const char *name;
	const char *cert; /* CERTDIR/<cert>.pem and .key */
	int min_version, max_version;
	void (*serve)(struct conn *c);
};

/* ---- output ---- */

static void
send_bytes(struct conn *c, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (c->ssl != NULL ? SSL_write(c->ssl, p, (int)n) <= 0 :
	                     write(c->fd, p, n) != (ssize_t)n)
		_exit(0); /* the client went away */
}

static void
send_str(struct conn *c, const char *s)
{
	send_bytes(c, s, strlen(s));
}

/* Waits until the client goes (or STALL_MAX, by alarm()). */
static void
stall(struct conn *c)
{
	char buf[512];

	while (c->ssl != NULL ? SSL_read(c->ssl, buf, sizeof(buf)) > 0 :
	                        read(c->fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

/* Ends with close_notify (a clean close). */
static void
close_clean(struct conn *c)
{
	SSL_shutdown(c->ssl);
	close(c->fd);
	_exit(0);
}

/* Ends with a bare TCP close: no close_notify. */
static void
close_dirty(struct conn *c)
{
	close(c->fd);
	_exit(0);
}

static void
send_policy_head(struct conn *c, const char *status, const char *fields,
                 size_t len)
{
	char head[512];

	snprintf(head, sizeof(head),
	         "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n"
	         "Connection: close\r\n\r\n",
	         status, fields, len);
	send_str(c, head);
}

/* n octets of body, "a" to "z" over and over, in pieces of 4 KiB. */
static void
send_filler(struct conn *c, size_t n)
{
	char buf[4096];
	size_t i, k;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	for (; n > 0; n -= k) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		send_bytes(c, buf, k);
	}
}

/* n octets of chunked body in chunks of `size` (no last chunk). */
static void
send_chunks(struct conn *c, size_t n, size_t size)
{
	char line[32], buf[4096];
	size_t k;

	memset(buf, 'x', sizeof(buf));
	for (; n > 0; n -= k) {
		k = n < size ? n : size;
		snprintf(line, sizeof(line), "%zx\r\n", k);
		send_str(c, line);
		send_bytes(c, buf, k);
		send_str(c, "\r\n");
	}
}

/* Ends with a TCP reset: SO_LINGER with a zero timeout, then close. */
static void
close_reset(struct conn *c)
{
	struct linger lg = {1, 0};

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	_exit(0);
}

/* Reads one line in the clear (an SMTP command), or exits. */
static void
read_line(struct conn *c)
{
	char ch;

	do {
		if (read(c->fd, &ch, 1) != 1)
			_exit(0);
	} while (ch != '\n');
}

/* ---- the quirks ---- */

static void
q_ok(struct conn *c)
{
	send_policy_head(c, "200 OK", "Content-Type: text/plain\r\n",
	                 strlen(POLICY));
	send_str(c, POLICY);
	close_clean(c);
}

/* The request as received, for the checks of STS-FETCH-1/8/10. */
static void
q_echo(struct conn *c)
{
	const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
	char first[300];

	snprintf(first, sizeof(first), "sni=%s\r\n", sni != NULL ? sni : "-");
	send_policy_head(c, "200 OK", "Content-Type: text/plain\r\n",
	                 strlen(first) + c->req_len);
	send_str(c, first);
	send_bytes(c, c->req, c->req_len);
	close_clean(c);
}

/* One chunk of s, with an optional extension. */
static void
send_chunk(struct conn *c, const char *s, const char *ext)
{
	char line[64];

	snprintf(line, sizeof(line), "%zx%s\r\n", strlen(s), ext);
	send_str(c, line);
	send_str(c, s);
	send_str(c, "\r\n");
}

/* The policy in three chunks, an extension and a trailer. */
static void
q_chunked(struct conn *c)
{
	send_str(c,
	         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n");
	send_chunk(c, "version: STSv1\r\n", ";ext=1");
	send_chunk(c, "mode: enforce\r\n", "");
	send_chunk(c, "mx: mx.quirk.test\r\nmax_age: 86400\r\n", "");
	send_str(c, "0\r\nX-Trailer: yes\r\n\r\n");
	stall(c); /* the body is delimited: no close is needed */
}

static void
q_chunked70k(struct conn *c)
{
	send_str(c,
	         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n");
	send_chunks(c, 70 * 1024, 1024);
	stall(c);
}

static void
q_chunked_endless(struct conn *c)
{
	send_str(c,
	         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n");
	for (;;)
		send_chunks(c, 1024, 1024);
}

/* One chunk announced as 128 KiB: refused on its size line. */
static void
q_chunk_huge(struct conn *c)
{
	send_str(c,
	         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n20000\r\n");
	stall(c);
}

static void
q_chunked64k(struct conn *c)
{
	send_str(c,
	         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n");
	send_chunks(c, 65536, 4096);
	send_str(c, "0\r\n\r\n");
	stall(c);
}

static void
q_chunked64k1(struct conn *c)
{
	send_str(c,
	         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n");
	send_chunks(c, 65537, 4096);
	send_str(c, "0\r\n\r\n");
	stall(c);
}

static void
q_cl100000(struct conn *c)
{
	send_policy_head(c, "200 OK", "Content-Type: text/plain\r\n", 100000);
	stall(c);
}

static void
q_exact64k(struct conn *c)
{
	send_policy_head(c, "200 OK", "Content-Type: text/plain\r\n", 65536);
	send_filler(c, 65536);
	stall(c);
}

static void
send_close_head(struct conn *c)
{
	send_str(c,
	         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	         "Connection: close\r\n\r\n");
}

static void
q_close64k(struct conn *c)
{
	send_close_head(c);
	send_filler(c, 65536);
	close_clean(c);
}

static void
q_close64k1(struct conn *c)
{
	send_close_head(c);
	send_filler(c, 65537);
	close_clean(c);
}

static void
q_close_endless(struct conn *c)
{
	send_close_head(c);
	for (;;)
		send_filler(c, 4096);
}

static void
q_close_notify(struct conn *c)
{
	send_close_head(c);
	send_str(c, POLICY);
	close_clean(c);
}

static void
q_close_no_notify(struct conn *c)
{
	send_close_head(c);
	send_str(c, POLICY);
	close_dirty(c);
}

/* A Content-Length body, whole, then a close without close_notify. */
static void
q_cl_no_notify(struct conn *c)
{
	send_policy_head(c, "200 OK", "Content-Type: text/plain\r\n",
	                 strlen(POLICY));
	send_str(c, POLICY);
	close_dirty(c);
}

static void
q_truncated_cl(struct conn *c)
{
	send_policy_head(c, "200 OK", "Content-Type: text/plain\r\n", 200);
	send_str(c, POLICY);
	close_clean(c);
}

static void
q_half_head(struct conn *c)
{
	send_str(c, "HTTP/1.1 200 OK\r\nContent-Type: te");
	close_clean(c);
}

static void
q_stall_head(struct conn *c)
{
	send_policy_head(c, "200 OK", "Content-Type: text/plain\r\n", 100);
	stall(c);
}

static void
q_stall_response(struct conn *c)
{
	stall(c);
}

static void
q_s304(struct conn *c)
{
	send_str(c, "HTTP/1.1 304 Not Modified\r\nETag: \"1\"\r\n\r\n");
	stall(c);
}

static void
q_no_ctype(struct conn *c)
{
	send_policy_head(c, "200 OK", "", strlen(POLICY));
	send_str(c, POLICY);
	close_clean(c);
}

static void
q_ctype_params(struct conn *c)
{
	send_policy_head(c, "200 OK",
	                 "Content-Type: Text/Plain; Charset=UTF-8\r\n",
	                 strlen(POLICY));
	send_str(c, POLICY);
	close_clean(c);
}

static void
q_redirect302(struct conn *c)
{
	send_policy_head(c, "302 Found",
	                 "Location: https://elsewhere.quirk.test/p.txt\r\n", 0);
	stall(c);
}

static void
q_bad_version(struct conn *c)
{
	send_str(c, "HTTP/2 200\r\nContent-Length: 0\r\n\r\n");
	close_clean(c);
}

static void
q_huge_head(struct conn *c)
{
	send_str(c, "HTTP/1.1 200 OK\r\nX-Big: ");
	send_filler(c, 20000);
	send_str(c, "\r\n\r\n");
	stall(c);
}

static void
q_interim(struct conn *c)
{
	send_str(c, "HTTP/1.1 100 Continue\r\n\r\n");
	q_ok(c);
}

/* The whole answer one octet per TLS record, 1 ms apart. */
static void
q_slow(struct conn *c)
{
	char buf[512];
	int n, i;

	n = snprintf(buf, sizeof(buf),
	             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	             "Content-Length: %zu\r\n\r\n%s",
	             strlen(POLICY), POLICY);
	for (i = 0; i < n; i++) {
		send_bytes(c, buf + i, 1);
		usleep(1000);
	}
	stall(c);
}

/* ---- SMTP quirks, in the clear (probe.sh) ---- */

#define SMTP_BANNER "220 mx.quirk.test ESMTP quirk_server\r\n"

/* The greeting, then a reset in answer to EHLO. */
static void
q_smtp_reset(struct conn *c)
{
	send_str(c, SMTP_BANNER);
	read_line(c);
	close_reset(c);
}

/* The greeting, then a plain close in answer to EHLO. */
static void
q_smtp_close(struct conn *c)
{
	send_str(c, SMTP_BANNER);
	read_line(c);
	close_dirty(c);
}

/* The greeting one octet every 200 ms: 6 s, over any test's timeout. */
static void
q_smtp_trickle(struct conn *c)
{
	const char *p;

	for (p = SMTP_BANNER; *p != '\0'; p++) {
		send_bytes(c, p, 1);
		usleep(200 * 1000);
	}
	stall(c);
}

#define TLS_ANY 0, 0

static const struct quirk quirks[] = {
    {"ok", "leaf", TLS_ANY, q_ok},
    {"echo", "leaf", TLS_ANY, q_echo},
    {"tls11", "leaf", TLS1_1_VERSION, TLS1_1_VERSION, q_ok},
    {"tls12", "leaf", TLS1_2_VERSION, TLS1_2_VERSION, q_ok},
    {"tls13", "leaf", TLS1_3_VERSION, TLS1_3_VERSION, q_ok},
    {"wild", "wild", TLS_ANY, q_ok},
    {"partial", "partial", TLS_ANY, q_ok},
    {"deep", "deep", TLS_ANY, q_ok},
    {"apex", "apex", TLS_ANY, q_ok},
    {"ip", "ip", TLS_ANY, q_ok},
    {"cn", "cn", TLS_ANY, q_ok},
    {"many", "many", TLS_ANY, q_ok},
    {"chunked", "leaf", TLS_ANY, q_chunked},
    {"chunked70k", "leaf", TLS_ANY, q_chunked70k},
    {"chunked-endless", "leaf", TLS_ANY, q_chunked_endless},
    {"chunk-huge", "leaf", TLS_ANY, q_chunk_huge},
    {"chunked64k", "leaf", TLS_ANY, q_chunked64k},
    {"chunked64k1", "leaf", TLS_ANY, q_chunked64k1},
    {"cl100000", "leaf", TLS_ANY, q_cl100000},
    {"exact64k", "leaf", TLS_ANY, q_exact64k},
    {"close64k", "leaf", TLS_ANY, q_close64k},
    {"close64k1", "leaf", TLS_ANY, q_close64k1},
    {"close-endless", "leaf", TLS_ANY, q_close_endless},
    {"close-notify", "leaf", TLS_ANY, q_close_notify},
    {"close-no-notify", "leaf", TLS_ANY, q_close_no_notify},
    {"cl-no-notify", "leaf", TLS_ANY, q_cl_no_notify},
    {"truncated-cl", "leaf", TLS_ANY, q_truncated_cl},
    {"half-head", "leaf", TLS_ANY, q_half_head},
    {"stall-tcp", NULL, TLS_ANY, NULL},
    {"stall-response", "leaf", TLS_ANY, q_stall_response},
    {"stall-head", "leaf", TLS_ANY, q_stall_head},
    {"s304", "leaf", TLS_ANY, q_s304},
    {"no-ctype", "leaf", TLS_ANY, q_no_ctype},
    {"ctype-params", "leaf", TLS_ANY, q_ctype_params},
    {"redirect302", "leaf", TLS_ANY, q_redirect302},
    {"bad-version", "leaf", TLS_ANY, q_bad_version},
    {"huge-head", "leaf", TLS_ANY, q_huge_head},
    {"interim", "leaf", TLS_ANY, q_interim},
    {"slow", "leaf", TLS_ANY, q_slow},
    {"smtp-reset", NULL, TLS_ANY, q_smtp_reset},
    {"smtp-close", NULL, TLS_ANY, q_smtp_close},
    {"smtp-trickle", NULL, TLS_ANY, q_smtp_trickle},
};

#define NQUIRKS (sizeof(quirks) / sizeof(quirks[0]))

/* ---- plumbing ---- */

static void
die(const char *what)
{
	fprintf(stderr, "quirk_server: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static SSL_CTX *
make_ctx(const char *dir, const struct quirk *q)
{
	char path[4096];
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		die("SSL_CTX_new");
	if (q->min_version == TLS1_1_VERSION) {
		/* OpenSSL 3 allows TLS 1.1 only at security level 0. */
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	}
	if (q->min_version != 0 &&
	    (SSL_CTX_set_min_proto_version(ctx, q->min_version) != 1 ||
	     SSL_CTX_set_max_proto_version(ctx, q->max_version) != 1))
		die("cannot set the TLS versions");
	snprintf(path, sizeof(path), "%s/%s.pem", dir, q->cert);
	if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1)
		die(path);
	snprintf(path, sizeof(path), "%s/%s.key", dir, q->cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1)
		die(path);
	return ctx;
}

static int
listen_any(unsigned *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		die("cannot listen on 127.0.0.1");
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Reads the request head, up to its empty line. */
static void
read_request(struct conn *c)
{
	int n;

	while (strstr(c->req, "\r\n\r\n") == NULL) {
		if (c->req_len == REQ_MAX)
			_exit(0);
		n = SSL_read(c->ssl, c->req + c->req_len,
		             (int)(REQ_MAX - c->req_len));
		if (n <= 0)
			_exit(0);
		c->req_len += (size_t)n;
		c->req[c->req_len] = '\0';
	}
}

static void
serve(int fd, const struct quirk *q, SSL_CTX *ctx)
{
	struct conn c;

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	alarm(STALL_MAX);
	if (q->serve == NULL)
		stall(&c); /* TCP only: no TLS at all */
	if (q->cert == NULL) {
		/* Each octet its own segment: a trickle is a trickle. */
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		q->serve(&c); /* in the clear */
		_exit(0);
	}
	if ((c.ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c.ssl, fd) != 1)
		_exit(1);
	if (SSL_accept(c.ssl) != 1)
		_exit(0); /* e.g. tls11: the client refused */
	read_request(&c);
	q->serve(&c);
	_exit(0);
}

static void
close_listeners(const struct pollfd *pfd)
{
	size_t i;

	for (i = 0; i < NQUIRKS; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
}

static void
write_ports(const char *file, const unsigned *ports)
{
	char tmp[4096];
	FILE *fp;
	size_t i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	if ((fp = fopen(tmp, "w")) == NULL)
		die(tmp);
	for (i = 0; i < NQUIRKS; i++)
		if (ports[i] != 0)
			fprintf(fp, "%s %u\n", quirks[i].name, ports[i]);
	if (fclose(fp) != 0 || rename(tmp, file) != 0)
		die(file);
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[NQUIRKS];
	SSL_CTX *ctxs[NQUIRKS];
	unsigned ports[NQUIRKS];
	size_t i;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: quirk_server CERTDIR|- PORTFILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	for (i = 0; i < NQUIRKS; i++) {
		ctxs[i] = NULL;
		pfd[i].fd = -1; /* poll(2) skips it */
		pfd[i].events = POLLIN;
		ports[i] = 0;
		if (quirks[i].cert != NULL && strcmp(argv[1], "-") == 0)
			continue; /* no certificates: no TLS quirks */
		if (quirks[i].cert != NULL)
			ctxs[i] = make_ctx(argv[1], &quirks[i]);
		pfd[i].fd = listen_any(&ports[i]);
	}
	write_ports(argv[2], ports);
	for (;;) {
		if (poll(pfd, NQUIRKS, -1) < 0)
			continue;
		for (i = 0; i < NQUIRKS; i++) {
			if ((pfd[i].revents & POLLIN) == 0 ||
			    (fd = accept(pfd[i].fd, NULL, NULL)) == -1)
				continue;
			if (fork() == 0) {
				close_listeners(pfd);
				serve(fd, &quirks[i], ctxs[i]);
			}
			close(fd);
		}
	}
}
