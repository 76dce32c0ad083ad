/* SPDX-License-Identifier: ISC */
/*
 * The failures of a store (failures.h): summary rows by domain,
 * organization, MX and result-type (RFC 8460 §4.4) merged across the
 * organizations that reported them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failures.h"

struct failure_row {
	char *domain;
	char *org;
	char *mx;
	char *result;
	uint64_t failed;
};

static void
set_why(char *why, size_t why_size, const char *msg)
{
	if (why != NULL && why_size > 0)
		(void)snprintf(why, why_size, "%s", msg);
}

void
failures_init(struct failures *f)
{
	memset(f, 0, sizeof(*f));
}

void
failures_reset(struct failures *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->count; i++)
		free(f->items[i].orgs);
	free(f->items);
	for (i = 0; i < f->row_count; i++) {
		free(f->rows[i].domain);
		free(f->rows[i].org);
		free(f->rows[i].mx);
		free(f->rows[i].result);
	}
	free(f->rows);
	failures_init(f);
}

/* A copy of s, or NULL for NULL; *bad set when the copy failed. */
static char *
dup_or_null(const char *s, bool *bad)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*bad = true;
	return d;
}

int
failures_add(struct failures *f, const struct store_row *row, char *why,
             size_t why_size)
{
	struct failure_row *r;
	bool bad = false;

	if (row->failed == 0)
		return 0;
	if (f->row_count == f->row_cap) {
		size_t cap = f->row_cap == 0 ? 64 : f->row_cap * 2;

		if (f->row_count >= FAILURES_MAX_ROWS) {
			set_why(why, why_size, "too many failure rows");
			return -1;
		}
		if (cap > FAILURES_MAX_ROWS)
			cap = FAILURES_MAX_ROWS;
		if ((r = realloc(f->rows, cap * sizeof(*r))) == NULL)
			goto nomem;
		f->rows = r;
		f->row_cap = cap;
	}
	r = &f->rows[f->row_count];
	memset(r, 0, sizeof(*r));
	r->domain = dup_or_null(row->domain, &bad);
	r->org = dup_or_null(row->org, &bad);
	r->mx = dup_or_null(row->mx, &bad);
	r->result = dup_or_null(row->result, &bad);
	r->failed = row->failed;
	f->row_count++; /* freed by failures_reset() even when bad */
	if (bad)
		goto nomem;
	return 0;
nomem:
	set_why(why, why_size, "out of memory");
	return -1;
}

int
failures_key_cmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int
cmp_row(const void *va, const void *vb)
{
	const struct failure_row *a = va, *b = vb;
	int c;

	if ((c = failures_key_cmp(a->domain, b->domain)) != 0 ||
	    (c = failures_key_cmp(a->result, b->result)) != 0 ||
	    (c = failures_key_cmp(a->mx, b->mx)) != 0)
		return c;
	return failures_key_cmp(a->org, b->org);
}

static int
cmp_item(const void *va, const void *vb)
{
	const struct failure *a = va, *b = vb;
	int c;

	if ((c = failures_key_cmp(a->domain, b->domain)) != 0)
		return c;
	if (a->failed != b->failed)
		return a->failed > b->failed ? -1 : 1;
	if ((c = failures_key_cmp(a->result, b->result)) != 0)
		return c;
	return failures_key_cmp(a->mx, b->mx);
}

static bool
same_key(const struct failure_row *a, const struct failure_row *b)
{
	return failures_key_cmp(a->domain, b->domain) == 0 &&
	    failures_key_cmp(a->result, b->result) == 0 &&
	    failures_key_cmp(a->mx, b->mx) == 0;
}

/* One item of rows[0..n), which share their key. */
static int
merge(struct failure *it, const struct failure_row *rows, size_t n, char *why,
      size_t why_size)
{
	size_t i;

	memset(it, 0, sizeof(*it));
	it->domain = rows[0].domain;
	it->result = rows[0].result;
	it->mx = rows[0].mx;
	if ((it->orgs = calloc(n, sizeof(*it->orgs))) == NULL) {
		set_why(why, why_size, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (rows[i].failed > UINT64_MAX - it->failed) {
			set_why(why, why_size,
			        "failed sessions summed past 2^64-1");
			return -1;
		}
		it->failed += rows[i].failed;
		it->orgs[it->org_count++] = rows[i].org;
	}
	return 0;
}

int
failures_finish(struct failures *f, char *why, size_t why_size)
{
	size_t i, j;

	if (f->row_count == 0)
		return 0;
	qsort(f->rows, f->row_count, sizeof(*f->rows), cmp_row);
	if ((f->items = calloc(f->row_count, sizeof(*f->items))) == NULL) {
		set_why(why, why_size, "out of memory");
		return -1;
	}
	for (i = 0; i < f->row_count; i = j) {
		for (j = i + 1; j < f->row_count; j++)
			if (!same_key(&f->rows[i], &f->rows[j]))
				break;
		/* counted first, so that failures_reset() frees its orgs */
		if (merge(&f->items[f->count++], &f->rows[i], j - i, why,
		          why_size) == -1)
			return -1;
	}
	qsort(f->items, f->count, sizeof(*f->items), cmp_item);
	return 0;
}
