/* SPDX-License-Identifier: ISC */
/*
 * imap_probe: walks an IMAP mailbox with src/report/imap.c and prints
 * one line per message, for tests/e2e/imap.sh:
 *
 *     msg UID LEN SHA256 VERDICT ORIGIN
 *     refused UID SIZE VERDICT ORIGIN: ERROR
 *     end 0|stopped
 *
 * VERDICT is what the callback said: "move" for a message holding the
 * text of -M (and, with -k, for a refused one), "stop" once -s messages
 * were seen, "keep" otherwise.  The password comes from the file of -p,
 * else from $MTASTS_IMAP_PASSWORD (imap_password_from()).  Exit 0 when
 * the walk ended, 3 when the callback stopped it, 1 when it failed (the
 * reason on stderr), 2 on a usage error.  -x runs a shell command once,
 * after the callback of the first message (to change the mailbox in the
 * middle of a walk).
 *
 *   imap_probe [-k] [-c CA] [-m MAX] [-M TEXT] [-p FILE] [-s N]
 *              [-T SECONDS] [-t FOLDER] [-x COMMAND] URL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "imap.h"

struct probe {
	const char *move_if; /* -M */
	int move_refused;    /* -k */
	long stop_after;     /* -s; 0: never */
	const char *command; /* -x */
	long seen;
};

static void
hex_sha256(const char *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	int i;

	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
		strcpy(out, "-");
		return;
	}
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A substring search over bytes that may hold NULs. */
static int
contains(const char *p, size_t n, const char *text)
{
	size_t t = strlen(text), i;

	for (i = 0; t <= n && i <= n - t; i++)
		if (memcmp(p + i, text, t) == 0)
			return 1;
	return 0;
}

static enum imap_verdict
on_message(const struct imap_message *m, void *arg)
{
	struct probe *pr = arg;
	enum imap_verdict v = IMAP_KEEP;
	const char *vs[] = {"keep", "move", "stop"};
	char hex[65];

	pr->seen++;
	if (pr->stop_after > 0 && pr->seen >= pr->stop_after)
		v = IMAP_STOP;
	else if (m->data == NULL && pr->move_refused)
		v = IMAP_MOVE;
	else if (m->data != NULL && pr->move_if != NULL &&
	         contains(m->data, m->len, pr->move_if))
		v = IMAP_MOVE;
	if (m->data == NULL) {
		printf("refused %lu %llu %s %s: %s\n", (unsigned long)m->uid,
		       (unsigned long long)m->size, vs[v], m->origin, m->error);
	} else {
		hex_sha256(m->data, m->len, hex);
		printf("msg %lu %zu %s %s %s\n", (unsigned long)m->uid, m->len,
		       hex, vs[v], m->origin);
	}
	fflush(stdout);
	if (pr->seen == 1 && pr->command != NULL && system(pr->command) != 0)
		fprintf(stderr, "imap_probe: -x %s failed\n", pr->command);
	return v;
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: imap_probe [-k] [-c CA] [-m MAX] [-M TEXT] "
	        "[-p FILE] [-s N] [-T SECONDS] [-t FOLDER] [-x COMMAND] "
	        "URL\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct imap_opts o;
	struct probe pr;
	char why[IMAP_WHY_SIZE], *password = NULL;
	const char *pwfile = NULL;
	int ch, rc;

	memset(&o, 0, sizeof(o));
	memset(&pr, 0, sizeof(pr));
	while ((ch = getopt(argc, argv, "c:km:M:p:s:T:t:x:")) != -1) {
		switch (ch) {
		case 'c':
			o.ca_file = optarg;
			break;
		case 'k':
			pr.move_refused = 1;
			break;
		case 'm':
			o.message_max = (size_t)strtoull(optarg, NULL, 10);
			break;
		case 'M':
			pr.move_if = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 's':
			pr.stop_after = strtol(optarg, NULL, 10);
			break;
		case 'T':
			o.timeout_s = strtol(optarg, NULL, 10);
			break;
		case 't':
			o.move_to = optarg;
			break;
		case 'x':
			pr.command = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	o.url = argv[optind];
	/* Once, before anything else (imap.h). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "imap_probe: curl_global_init failed\n");
		return 1;
	}
	if (imap_password_from(pwfile, &password, why, sizeof(why)) != 0) {
		fprintf(stderr, "imap_probe: %s\n", why);
		curl_global_cleanup();
		return 1;
	}
	o.password = password;
	rc = imap_walk(&o, on_message, &pr, why, sizeof(why));
	imap_password_free(password);
	curl_global_cleanup();
	if (rc < 0) {
		fprintf(stderr, "imap_probe: %s\n", why);
		return 1;
	}
	printf("end %s\n", rc == 0 ? "0" : "stopped");
	return rc == 0 ? 0 : 3;
}
