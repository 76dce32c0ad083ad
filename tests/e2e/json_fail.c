/* SPDX-License-Identifier: ISC */
/*
 * json_fail: an LD_PRELOAD module for tests/e2e/fetch.sh.  It makes
 * jansson's json_pack() fail, as it does when out of memory, for the
 * format of one finding of `mtasts check --json`, and passes every
 * other call to json_vpack_ex(), so that the test can see that a
 * finding that cannot be encoded is said and changes the exit status,
 * rather than vanishing from the output.  Test tool; not installed.
 */
#include <stdarg.h>
#include <string.h>

#include <jansson.h>

/* The format of one finding in src/cli/cmd_check.c (finding_json()):
 * keep the two in step, or the check in fetch.sh fails. */
#define FINDING_FORMAT "{s:s, s:s, s:s, s:s, s:s, s:I}"

json_t *
json_pack(const char *fmt, ...)
{
	va_list ap;
	json_t *j;

	if (strcmp(fmt, FINDING_FORMAT) == 0)
		return NULL;
	va_start(ap, fmt);
	j = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	return j;
}
