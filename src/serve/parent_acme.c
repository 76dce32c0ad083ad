/* SPDX-License-Identifier: ISC */
/*
 * The parent's side of ACME (parent_acme.h says what it does).
 *
 * The acme process holds the ACME account key and the state directory;
 * the parent only starts it, tells it which domains need certificates
 * and wires it to the server process, which answers the CA's
 * validations (TLS-ALPN-01, RFC 8737; HTTP-01, RFC 8555 §8.3).  When a
 * certificate is issued, the parent loads the set again: the new pair
 * is read from the state directory like any other (loader.c), the old
 * one is served until then, and no connection is dropped.  ISSUED for
 * a thousand domains at start-up makes a reload every PACME_RELOAD_GAP
 * seconds, not a thousand.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "acme_msg.h"
#include "ctl.h"
#include "parent_acme.h"
#include "parent_io.h"
#include "proc.h"
#include "serve.h"

#define BACKOFF_MAX    30 /* as the report process's (main.c) */
#define STABLE_SECONDS 60
#define FILE_MAX       (1024 * 1024)

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The CONF frame of conf (acme_msg.h): the acme-* keys and the ACME
 * domains, sorted.  0 with a new frame in *out, or -1 (logged).
 */
static int
conf_frame(const struct parent_acme *pa, const struct serve_conf *conf,
           uint8_t **out, size_t *len)
{
	const struct conf_acme *a = &conf->acme;
	struct acme_proc_conf pc;
	uint8_t *body = NULL, *frame;
	size_t i, n = 0, blen;
	int rc = -1;

	memset(&pc, 0, sizeof(pc));
	if ((pc.names = calloc(conf->domain_count + 1, sizeof(*pc.names))) ==
	    NULL)
		goto out;
	for (i = 0; i < conf->domain_count; i++)
		if (conf_domain_acme(conf, &conf->domains[i]))
			pc.names[n++] = conf->domains[i].name;
	qsort(pc.names, n, sizeof(*pc.names), name_cmp);
	pc.name_count = n;
	pc.directory = a->directory;
	pc.contact = a->contact;
	pc.ca_file = a->ca_file;
	pc.state_dir = a->state_dir;
	pc.rate_orders = a->rate_orders;
	pc.rate_window = a->rate_window;
	pc.burst = a->burst;
	pc.renew_age = a->renew_age;
	/* The listeners that are bound, not the ones a reload names. */
	pc.http01 = pa->http01_bound > 0;
	pc.prefer_http01 = a->prefer_http01 && pc.http01;
	if (a->prefer_http01 && !pc.http01)
		log_warnx("acme-challenge http-01 needs the acme-http-listen "
		          "bound at start: tls-alpn-01 until a restart");
	if (acme_conf_encode(&pc, &body, &blen) != 0 ||
	    (frame = malloc(CTL_FRAME_HDR + blen)) == NULL)
		goto out;
	ctl_header_encode(blen, frame);
	memcpy(frame + CTL_FRAME_HDR, body, blen);
	*out = frame;
	*len = CTL_FRAME_HDR + blen;
	rc = 0;
out:
	if (rc != 0)
		log_warnx("cannot make the acme process's configuration");
	free(body);
	free(pc.names); /* the names are borrowed from conf */
	return rc;
}

static bool
uses_acme(const struct serve_conf *conf)
{
	size_t i;

	for (i = 0; i < conf->domain_count; i++)
		if (conf_domain_acme(conf, &conf->domains[i]))
			return true;
	return false;
}

/* ---- ISSUED: a batched reload ---- */

static void
reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct parent_acme *pa = arg;

	(void)fd;
	(void)what;
	pa->last_reload = parent_monotime();
	pa->reload(pa->arg);
}

/* A reload PACME_RELOAD_GAP seconds after the last one, or at once. */
static void
reload_soon(struct parent_acme *pa)
{
	struct timeval tv = {0, 0};
	time_t since = parent_monotime() - pa->last_reload;

	if (evtimer_pending(pa->reload_ev, NULL))
		return; /* one is coming: it takes this one along */
	if (pa->last_reload != 0 && since < PACME_RELOAD_GAP)
		tv.tv_sec = PACME_RELOAD_GAP - since;
	if (event_add(pa->reload_ev, &tv) != 0)
		log_warnx("cannot schedule a reload for a new certificate");
}

static void
frame_in(struct parent_acme *pa, const struct ctl_frame *f)
{
	struct acme_msg m;

	if (acme_msg_decode(f->body, f->len, &m) != 0 ||
	    m.type != ACME_MSG_ISSUED) {
		log_warnx("acme process: unexpected message");
		return;
	}
	log_info("%s: new ACME certificate; reloading", m.name);
	reload_soon(pa);
}

/* Closes the channel; the process, if any, is left to its SIGCHLD. */
static void
close_channel(struct parent_acme *pa)
{
	if (pa->ev != NULL)
		event_free(pa->ev);
	pa->ev = NULL;
	if (pa->fd >= 0)
		close(pa->fd);
	pa->fd = -1;
	pa->in_len = 0;
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct parent_acme *pa = arg;
	struct ctl_frame f;
	enum ctl_result r;
	size_t off = 0;
	ssize_t n;

	(void)what;
	n = read(fd, pa->in + pa->in_len, sizeof(pa->in) - pa->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Its SIGCHLD restarts it (pacme_reaped()). */
		log_warnx("acme process: channel closed");
		close_channel(pa);
		if (pa->pid > 0)
			kill(pa->pid, SIGKILL);
		return;
	}
	pa->in_len += (size_t)n;
	while ((r = ctl_frame_decode(pa->in + off, pa->in_len - off,
	                             sizeof(pa->in) - CTL_FRAME_HDR, &f)) ==
	       CTL_FRAME) {
		frame_in(pa, &f);
		off += f.size;
	}
	if (r == CTL_MALFORMED) {
		log_warnx("acme process: frame too large; restarting it");
		close_channel(pa);
		if (pa->pid > 0)
			kill(pa->pid, SIGKILL);
		return;
	}
	memmove(pa->in, pa->in + off, pa->in_len - off);
	pa->in_len -= off;
}

/* ---- the process ---- */

/* Ends the process; pid kept -1 so that its SIGCHLD matches nothing. */
static void
stop(struct parent_acme *pa)
{
	close_channel(pa);
	if (pa->pid > 0)
		kill(pa->pid, SIGKILL);
	pa->pid = -1;
}

void
pacme_server_started(struct parent_acme *pa)
{
	int sp[2];

	if (pa->fd < 0 || *pa->server_ctl < 0)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		log_warn("socketpair");
		return;
	}
	if (parent_send_fd(*pa->server_ctl, ACME_SERVER_TAG, sp[0]) == 0)
		parent_send_fd(pa->fd, ACME_CHAN_TAG, sp[1]);
	close(sp[0]);
	close(sp[1]);
}

/* Starts the process with the last CONF and a channel to the server. */
static int
start(struct parent_acme *pa)
{
	struct proc_fds f = {-1, -1, -1, -1, NULL, 0};
	int ctl[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) != 0) {
		log_warn("socketpair");
		return -1;
	}
	f.ctl = ctl[1];
	pa->pid = proc_spawn("acme", &f, pa->user, pa->foreground, pa->verbose);
	close(ctl[1]);
	pa->fd = ctl[0];
	pa->started = parent_monotime();
	if (pa->pid < 0 ||
	    (pa->ev = event_new(pa->base, pa->fd, EV_READ | EV_PERSIST, read_cb,
	                        pa)) == NULL ||
	    event_add(pa->ev, NULL) != 0 ||
	    parent_write_all(pa->fd, pa->conf, pa->conf_len) != 0) {
		log_warnx("cannot start the acme process");
		stop(pa);
		return -1;
	}
	log_info("acme process %ld started", (long)pa->pid);
	pacme_server_started(pa);
	return 0;
}

static void
retry(struct parent_acme *pa)
{
	struct timeval tv = {pa->backoff, 0};

	if (event_add(pa->restart_ev, &tv) != 0)
		log_warnx("cannot schedule a restart of the acme process");
	pa->backoff = pa->backoff == 0 ? 1 : pa->backoff * 2;
	if (pa->backoff > BACKOFF_MAX)
		pa->backoff = BACKOFF_MAX;
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct parent_acme *pa = arg;

	(void)fd;
	(void)what;
	if (pa->wanted && pa->pid < 0 && start(pa) != 0)
		retry(pa);
}

void
pacme_init(struct parent_acme *pa, struct event_base *base, const char *user,
           bool foreground, int verbose, const int *server_ctl,
           void (*reload)(void *), void *arg)
{
	memset(pa, 0, sizeof(*pa));
	pa->base = base;
	pa->user = user;
	pa->foreground = foreground;
	pa->verbose = verbose;
	pa->server_ctl = server_ctl;
	pa->reload = reload;
	pa->arg = arg;
	pa->pid = -1;
	pa->fd = -1;
	if ((pa->restart_ev = evtimer_new(base, restart_cb, pa)) == NULL ||
	    (pa->reload_ev = evtimer_new(base, reload_cb, pa)) == NULL)
		fatalx("cannot make the acme timers");
}

void
pacme_sync(struct parent_acme *pa, const struct serve_conf *conf)
{
	uint8_t *frame;
	size_t len;

	pa->wanted = uses_acme(conf);
	if (!pa->wanted) {
		if (pa->pid > 0)
			log_info("no domain uses ACME: the acme process stops");
		stop(pa);
		event_del(pa->restart_ev);
		return;
	}
	if (conf_frame(pa, conf, &frame, &len) != 0)
		return; /* the last CONF stands */
	free(pa->conf);
	pa->conf = frame;
	pa->conf_len = len;
	if (pa->fd >= 0 &&
	    parent_write_all(pa->fd, pa->conf, pa->conf_len) != 0) {
		log_warn("acme process: configuration");
		stop(pa); /* SIGCHLD matches nothing: restarted here */
		retry(pa);
		return;
	}
	if (pa->pid < 0 && !evtimer_pending(pa->restart_ev, NULL) &&
	    start(pa) != 0)
		retry(pa);
}

bool
pacme_reaped(struct parent_acme *pa, pid_t pid, int status)
{
	time_t ran;

	if (pid != pa->pid || pid <= 0)
		return false;
	ran = parent_monotime() - pa->started;
	if (ran >= STABLE_SECONDS)
		pa->backoff = 0;
	log_warnx("acme process %ld %s %d after %lld s; restarting in %u s",
	          (long)pid,
	          WIFSIGNALED(status) ? "killed by signal" :
	                                "exited with status",
	          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
	          (long long)ran, pa->backoff);
	pa->pid = -1;
	stop(pa);
	retry(pa);
	return true;
}

void
pacme_stop(struct parent_acme *pa)
{
	pa->wanted = false;
	stop(pa);
}

/* ---- mtasts serve -n ---- */

/* A whole small file into buf (NUL-terminated); its length or -1. */
static ssize_t
slurp(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		return -1;
	while (len + 1 < size &&
	       ((n = read(fd, buf + len, size - 1 - len)) > 0 ||
	        (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	close(fd);
	if (n < 0)
		return -1;
	buf[len] = '\0';
	return (ssize_t)len;
}

/* notAfter of the first certificate in the state file, or -1. */
static int64_t
cert_not_after(const char *path)
{
	char *buf;
	ssize_t n;
	BIO *bio = NULL;
	X509 *x = NULL;
	struct tm tm;
	int64_t t = -1;

	if ((buf = malloc(FILE_MAX)) == NULL)
		return -1;
	if ((n = slurp(path, buf, FILE_MAX)) > 0 &&
	    (bio = BIO_new_mem_buf(buf, (int)n)) != NULL &&
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		t = (int64_t)timegm(&tm);
	explicit_bzero(buf, n > 0 ? (size_t)n : 0); /* the key is first */
	free(buf);
	X509_free(x);
	BIO_free(bio);
	ERR_clear_error();
	return t;
}

static void
utc(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, size, "unknown");
	else
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
print_domain(const struct serve_conf *conf, const char *name, FILE *out)
{
	char path[4096], body[ACME_MSG_LINE_MAX + ACME_ERROR_MAX + 8];
	char until[32], next[32], err[ACME_ERROR_MAX + 1] = "";
	struct acme_msg m;
	int64_t not_after = -1;
	ssize_t n = -1;
	bool state = false;

	if (acme_cert_path(conf->acme.state_dir, name, path, sizeof(path)) == 0)
		not_after = cert_not_after(path);
	if (acme_state_path(conf->acme.state_dir, name, path, sizeof(path)) ==
	        0 &&
	    (n = slurp(path, body, sizeof(body))) > 0 &&
	    acme_msg_decode((const uint8_t *)body, (size_t)n, &m) == 0 &&
	    m.type == ACME_MSG_STATE) {
		state = true;
		snprintf(err, sizeof(err), "%.*s", (int)m.cert_len,
		         (const char *)m.cert);
	}
	utc(not_after, until, sizeof(until));
	utc(state ? m.renew_at : 0, next, sizeof(next));
	if (not_after < 0)
		fprintf(out, "acme %s: no certificate yet", name);
	else
		fprintf(out, "acme %s: certificate valid until %s", name,
		        until);
	fprintf(out, ", next renewal %s, failures %u, last error %s\n",
	        state ? next : "unknown", state ? m.failures : 0,
	        err[0] != '\0' ? err : "none");
}

void
pacme_print(const struct serve_conf *conf, FILE *out)
{
	size_t i;

	for (i = 0; i < conf->domain_count; i++)
		if (conf_domain_acme(conf, &conf->domains[i]))
			print_domain(conf, conf->domains[i].name, out);
}
