/* SPDX-License-Identifier: ISC */
/*
 * Logging of the serve daemons: to stderr in the foreground (-d), else
 * to syslog(3).  One line per event, with the process role as a prefix,
 * never more than one line per failed request.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "serve.h"

static bool log_foreground = true;
static int log_verbose;
static const char *log_tag = "mtasts";

void
log_init(bool foreground, int verbose, const char *tag)
{
	log_foreground = foreground;
	log_verbose = verbose;
	log_tag = tag;
	if (!foreground)
		openlog("mtasts", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
    SERVE_PRINTF(2, 0);

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_foreground) {
		fprintf(stderr, "%s: %s%s%s\n", log_tag, line,
		        suffix != NULL ? ": " : "",
		        suffix != NULL ? suffix : "");
		return;
	}
	syslog(pri, "%s: %s%s%s", log_tag, line, suffix != NULL ? ": " : "",
	       suffix != NULL ? suffix : "");
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	const char *why = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, why);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose == 0)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void
fatal(const char *fmt, ...)
{
	const char *why = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, why);
	va_end(ap);
	exit(1);
}
