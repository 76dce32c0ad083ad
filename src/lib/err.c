/* SPDX-License-Identifier: ISC */
/*
 * Error codes and their names; small string helpers of the core.
 */
#include <stdlib.h>
#include <string.h>

#include <mtasts/mtasts.h>

#include "internal.h"

static const char *const names[MTS_ERR__COUNT] = {
    [MTS_OK] = "success",
    [MTS_ERR_NOMEM] = "out of memory",
    [MTS_ERR_SYNTAX] = "syntax error",
    [MTS_ERR_INVALID] = "invalid",
    [MTS_ERR_TOOBIG] = "too big",
    [MTS_ERR_NOTFOUND] = "no record found",
    [MTS_ERR_MULTIPLE] = "more than one record",
    [MTS_ERR_UNUSABLE] = "unusable record",
    [MTS_ERR_ARG] = "invalid argument",
    [MTS_ERR_IO] = "I/O error",
};

const char *
mts_strerror(enum mts_errcode code)
{
	if ((unsigned)code >= MTS_ERR__COUNT)
		return "unknown error";
	return names[code];
}

int
mts_err_set(struct mts_err *err, enum mts_errcode code, unsigned line,
            unsigned column, const char *msg)
{
	if (err != NULL) {
		err->code = code;
		err->line = line;
		err->column = column;
		err->msg = msg != NULL ? msg : mts_strerror(code);
		err->sys_errno = 0;
	}
	return -1;
}

char *
mts_strndup(const char *s, size_t n)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

const char *
mts_version(void)
{
	return MTS_VERSION_STRING;
}
