/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for mts_rollout_policy_shown(): the policy-string of
 * a TLS-RPT report (RFC 8460 §4.4) compared with a fixed policy (RFC
 * 8461 §3.2).  The input is cut into strings at each NUL octet (a C
 * string cannot hold one, so every other octet reaches the function);
 * an empty input is no string at all.  Besides memory errors and leaks
 * (ASan) and undefined behaviour (UBSan), it aborts when:
 * - no string is not NONE, or some strings are neither SAME nor OTHER;
 * - the answer differs from the one worked out here the slow way: each
 *   string's one trailing CRLF, LF or CR dropped, empty ones skipped,
 *   the rest joined with CRLF, over 64 KiB OTHER, else parsed and
 *   compared as mode, max_age and a set of names (each pattern of one
 *   side equal, as mts_dname_equal() says, to one of the other);
 * - mts_sts_policy_same() is not symmetric, or a parsed policy is not
 *   the same as itself;
 * - adding CRLF to the strings that have no line end, or giving the
 *   joined body as one string (when it ends without one), changes the
 *   answer: reporters that cut the body otherwise are not told apart.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/mtasts.h>

#include "fuzz.h"

static char *fixed_mx[] = {"mx1.example.com", "*.example.net"};
static const struct mts_sts_policy fixed = {MTS_STS_MODE_TESTING, 86400,
                                            sizeof(fixed_mx) /
                                                sizeof(fixed_mx[0]),
                                            fixed_mx};

/* The length of s without one trailing CRLF, LF or CR. */
static size_t
stripped(const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n')
		return n - 2;
	if (n >= 1 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		return n - 1;
	return n;
}

/* True when s ends with CR or LF. */
static bool
has_line_end(const char *s)
{
	size_t n = strlen(s);

	return n != 0 && (s[n - 1] == '\r' || s[n - 1] == '\n');
}

/* The strings joined as the contract says; *len set.  NULL: no memory. */
static char *
join(char *const *v, size_t n, size_t *len)
{
	size_t i, total = 0, k;
	char *body;

	for (i = 0; i < n; i++)
		total += stripped(v[i]) + 2;
	if ((body = malloc(total + 1)) == NULL)
		return NULL;
	*len = 0;
	for (i = 0; i < n; i++) {
		if ((k = stripped(v[i])) == 0)
			continue;
		if (*len != 0) {
			memcpy(body + *len, "\r\n", 2);
			*len += 2;
		}
		memcpy(body + *len, v[i], k);
		*len += k;
	}
	body[*len] = '\0';
	return body;
}

/* Each pattern of a equals one of b, as DNS names. */
static bool
covered(const struct mts_sts_policy *a, const struct mts_sts_policy *b)
{
	size_t i, j;

	for (i = 0; i < a->mx_count; i++) {
		for (j = 0; j < b->mx_count; j++)
			if (mts_dname_equal(a->mx[i], strlen(a->mx[i]),
			                    b->mx[j], strlen(b->mx[j])))
				break;
		if (j == b->mx_count)
			return false;
	}
	return true;
}

/* The answer the slow way, from the joined body. */
static enum mts_rollout_shown
expected(const char *body, size_t len)
{
	struct mts_sts_policy q;
	bool same;

	if (len == 0 || len > MTS_STS_POLICY_MAX)
		return MTS_ROLLOUT_SHOWN_OTHER;
	memset(&q, 0, sizeof(q));
	if (mts_sts_policy_parse(body, len, &q, NULL, NULL) == -1)
		return MTS_ROLLOUT_SHOWN_OTHER;
	same = q.mode == fixed.mode && q.max_age == fixed.max_age &&
	    covered(&q, &fixed) && covered(&fixed, &q);
	CHECK(mts_sts_policy_same(&q, &fixed) == same);
	CHECK(mts_sts_policy_same(&fixed, &q) == same);
	CHECK(mts_sts_policy_same(&q, &q));
	mts_sts_policy_reset(&q);
	return same ? MTS_ROLLOUT_SHOWN_SAME : MTS_ROLLOUT_SHOWN_OTHER;
}

static void
free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * The input cut at each NUL into *n strings (copies); NULL and *n == 0
 * for an empty input, or when memory runs out.
 */
static char **
cut(const uint8_t *data, size_t size, size_t *n)
{
	size_t i, start = 0, k = 1;
	char **v;

	*n = 0;
	if (size == 0)
		return NULL;
	for (i = 0; i < size; i++)
		k += data[i] == '\0';
	if ((v = calloc(k, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\0')
			continue;
		if ((v[*n] = malloc(i - start + 1)) == NULL) {
			free_strings(v, *n);
			*n = 0;
			return NULL;
		}
		memcpy(v[*n], data + start, i - start);
		v[(*n)++][i - start] = '\0';
		start = i + 1;
	}
	return v;
}

/* The strings with CRLF added to those without a line end. */
static void
check_crlf_added(char **v, size_t n, enum mts_rollout_shown shown)
{
	char **w;
	size_t i, k;

	if ((w = calloc(n + 1, sizeof(*w))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		k = strlen(v[i]);
		if ((w[i] = malloc(k + 3)) == NULL) {
			free_strings(w, i);
			return;
		}
		memcpy(w[i], v[i], k + 1);
		if (!has_line_end(v[i]))
			memcpy(w[i] + k, "\r\n", 3);
	}
	CHECK(mts_rollout_policy_shown((const char *const *)w, n, &fixed) ==
	      shown);
	free_strings(w, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum mts_rollout_shown shown;
	char **v, *body;
	size_t n, len;

	/* No input is no string; else out of memory: nothing to check. */
	if ((v = cut(data, size, &n)) == NULL) {
		if (size == 0)
			CHECK(mts_rollout_policy_shown(NULL, 0, &fixed) ==
			      MTS_ROLLOUT_SHOWN_NONE);
		return 0;
	}
	shown = mts_rollout_policy_shown((const char *const *)v, n, &fixed);
	CHECK(shown == MTS_ROLLOUT_SHOWN_SAME ||
	      shown == MTS_ROLLOUT_SHOWN_OTHER);
	if ((body = join(v, n, &len)) != NULL) {
		CHECK(shown == expected(body, len));
		if (!has_line_end(body)) {
			const char *one[] = {body};

			CHECK(mts_rollout_policy_shown(one, 1, &fixed) ==
			      shown);
		}
		free(body);
	}
	check_crlf_added(v, n, shown);
	free_strings(v, n);
	return 0;
}
