/* SPDX-License-Identifier: ISC */
/*
 * The policy cache's shared part (cache.h): the engine chosen by URL,
 * and the checks every entry passes before an engine sees it, so that
 * no engine stores what another could not read back.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"

void
pcache_why(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_size == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

int
pcache_copy(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size)
		return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

static const struct pcache_engine *
engine_of(const char *url)
{
	if (strncmp(url, "sqlite:", 7) == 0 || url[0] == '/' || url[0] == '.')
		return &pcache_engine_sqlite;
	if (strncmp(url, "redis://", 8) == 0 ||
	    strncmp(url, "redis+unix:", 11) == 0)
		return &pcache_engine_redis;
	return NULL;
}

int
pcache_open(const char *url, struct pcache **out, char *why, size_t why_size)
{
	const struct pcache_engine *e;

	if (url == NULL || out == NULL || (e = engine_of(url)) == NULL) {
		pcache_why(
		    why, why_size,
		    "%s: not a policy cache URL (sqlite:PATH, "
		    "redis://HOST[:PORT][/DB] or redis+unix:PATH[?db=N])",
		    url == NULL ? "(null)" : url);
		return -1;
	}
	return e->open(url, out, why, why_size);
}

void
pcache_close(struct pcache *cache)
{
	if (cache != NULL)
		cache->engine->close(cache);
}

/*
 * A key as the daemon makes it: lower-case A-labels (RFC 8461 §3.4's
 * policy domain, after IDNA), no trailing dot, at most 253 octets.
 * Only the octets are checked: the store must not hold two spellings
 * of one domain, or a key a Redis command line would split.
 */
static bool
domain_valid(const char *d, size_t size)
{
	size_t i;

	for (i = 0; i < size && d[i] != '\0'; i++)
		if (!((d[i] >= 'a' && d[i] <= 'z') ||
		      (d[i] >= '0' && d[i] <= '9') || d[i] == '-' ||
		      d[i] == '.' || d[i] == '_'))
			return false;
	return i > 0 && i < size && d[i - 1] != '.' && d[0] != '.';
}

static bool
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

bool
pcache_entry_valid(const struct pcache_entry *e, char *why, size_t why_size)
{
	if (e == NULL) {
		pcache_why(why, why_size, "no entry");
		return false;
	}
	if (!domain_valid(e->domain, sizeof(e->domain))) {
		pcache_why(why, why_size,
		           "not a policy domain in lower-case A-labels");
		return false;
	}
	if (e->kind != PCACHE_POLICY && e->kind != PCACHE_NO_POLICY &&
	    e->kind != PCACHE_DANE) {
		pcache_why(why, why_size, "%s: unknown kind %d", e->domain,
		           (int)e->kind);
		return false;
	}
	if (!terminated(e->id, sizeof(e->id)) ||
	    !terminated(e->failure_class, sizeof(e->failure_class)) ||
	    !terminated(e->failure, sizeof(e->failure))) {
		pcache_why(why, why_size, "%s: a string not terminated",
		           e->domain);
		return false;
	}
	/* RFC 8461 §3.3: at most 64 KiB. */
	if (e->body_len > PCACHE_BODY_MAX) {
		pcache_why(why, why_size,
		           "%s: a policy body of %zu octets, over %d",
		           e->domain, e->body_len, PCACHE_BODY_MAX);
		return false;
	}
	if (e->body == NULL && e->body_len != 0) {
		pcache_why(why, why_size, "%s: no body", e->domain);
		return false;
	}
	return true;
}

static bool
key_valid(const char *domain, char *why, size_t why_size)
{
	if (domain == NULL || !domain_valid(domain, PCACHE_DOMAIN_MAX + 1)) {
		pcache_why(why, why_size,
		           "not a policy domain in lower-case A-labels");
		return false;
	}
	return true;
}

int
pcache_get(struct pcache *cache, const char *domain, struct pcache_entry *entry,
           char *why, size_t why_size)
{
	if (cache == NULL || entry == NULL) {
		pcache_why(why, why_size, "no cache or no entry");
		return -1;
	}
	if (!key_valid(domain, why, why_size))
		return -1;
	return cache->engine->get(cache, domain, entry, why, why_size);
}

int
pcache_put(struct pcache *cache, const struct pcache_entry *entry, char *why,
           size_t why_size)
{
	if (cache == NULL) {
		pcache_why(why, why_size, "no cache");
		return -1;
	}
	if (!pcache_entry_valid(entry, why, why_size))
		return -1;
	return cache->engine->put(cache, entry, why, why_size);
}

int
pcache_delete(struct pcache *cache, const char *domain, char *why,
              size_t why_size)
{
	if (cache == NULL) {
		pcache_why(why, why_size, "no cache");
		return -1;
	}
	if (!key_valid(domain, why, why_size))
		return -1;
	return cache->engine->del(cache, domain, why, why_size);
}

int
pcache_walk(struct pcache *cache, pcache_walk_fn fn, void *ctx, char *why,
            size_t why_size)
{
	if (cache == NULL || fn == NULL) {
		pcache_why(why, why_size, "no cache or no function");
		return -1;
	}
	return cache->engine->walk(cache, fn, ctx, why, why_size);
}

int
pcache_purge_expired(struct pcache *cache, int64_t now, size_t *count,
                     char *why, size_t why_size)
{
	if (cache == NULL) {
		pcache_why(why, why_size, "no cache");
		return -1;
	}
	return cache->engine->purge_expired(cache, now, count, why, why_size);
}

void
pcache_entry_reset(struct pcache_entry *entry)
{
	if (entry == NULL)
		return;
	free(entry->body);
	*entry = (struct pcache_entry){0};
}
