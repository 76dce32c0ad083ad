/* SPDX-License-Identifier: ISC */
/*
 * mtasts rollout promote and mx-change: the subcommands that rewrite
 * the policy file.  Each change is written beside the file first,
 * recorded in the store, and only then renamed over the file, so that a
 * store that fails leaves the file as it was, and every body written
 * gets a new id (senders refetch only on a new id, RFC 8461 §3.1).
 */
#define _GNU_SOURCE /* asprintf(3) */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_rollout.h"
#include "rollout_store.h"
#include "store.h"

/* ---- shared ---- */

/* What a writing subcommand made, for its output. */
struct written {
	const char *action;
	char id[MTS_STS_ID_MAX + 1];
	char previous_id[MTS_STS_ID_MAX + 1];
	const struct mts_sts_policy *policy;
	pid_t pids[ROLLOUT_PIDS_MAX];
	size_t pid_count;
	bool reloaded;
	int64_t cutover_at; /* mx-change; -1 otherwise */
};

static json_t *
mx_json(const struct mts_sts_policy *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < p->mx_count; i++)
		json_array_append_new(a, json_string(p->mx[i]));
	return a;
}

static char *
mx_text(const struct mts_sts_policy *p)
{
	json_t *a = mx_json(p);
	char *s = json_dumps(a, JSON_COMPACT);

	json_decref(a);
	return s;
}

static json_t *
args_json(const char *const *args, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(args[i]));
	return a;
}

static char *
args_text(const char *const *args, size_t n)
{
	json_t *a = args_json(args, n);
	char *s = json_dumps(a, JSON_COMPACT);

	json_decref(a);
	return s;
}

/* The absolute path of FILE for the store (it is read back from
   anywhere); the path as given when it cannot be resolved. */
static char *
file_key(const char *path)
{
	char *abs = realpath(path, NULL);

	return abs != NULL ? abs : strdup(path);
}

/*
 * Fills an event for body `text` of policy p written now under id.
 * The strings it points to live in the caller's buffers.
 */
static void
make_event(const struct rollout *r, struct rollout_event *ev,
           const char *action, const struct written *w,
           const struct mts_sts_policy *p, char *mx, char *file,
           const char *sha)
{
	memset(ev, 0, sizeof(*ev));
	ev->domain = r->domain;
	ev->at = r->now;
	ev->action = action;
	ev->policy_id = w->id;
	ev->previous_id = w->previous_id[0] != '\0' ? w->previous_id : NULL;
	ev->mode = mts_sts_mode_name(p->mode);
	ev->max_age = p->max_age;
	ev->previous_max_age = r->policy.max_age;
	ev->mx = mx;
	ev->policy_file = file;
	ev->sha256 = sha;
}

/* The new id, after the last one rollout issued (or dns.zone's). */
static int
new_id(struct rollout *r, struct written *w)
{
	struct mts_err err;
	int status;

	if ((status = rollout_previous_id(r, w->previous_id,
	                                  sizeof(w->previous_id))) !=
	    EXIT_VALID)
		return status;
	if (mts_rollout_next_id(r->now, w->previous_id, w->id, sizeof(w->id),
	                        &err) != 0) {
		warnx_cli("rollout: no id for the time now: %s", err.msg);
		return EXIT_ERROR;
	}
	return EXIT_VALID;
}

/* The pids to signal, found before FILE is replaced (by its inode). */
static void
find_pids(const struct rollout *r, struct written *w)
{
	if (r->o->reload)
		w->pid_count = rollout_find_serve(r->o->policy_path, w->pids,
		                                  ROLLOUT_PIDS_MAX);
}

static int
reload(const struct rollout *r, struct written *w)
{
	if (!r->o->reload)
		return EXIT_VALID;
	if (rollout_reload(w->pids, w->pid_count, r->o->policy_path) !=
	    EXIT_VALID)
		return EXIT_ERROR;
	w->reloaded = true;
	return EXIT_VALID;
}

static void
print_record(const struct rollout *r, const struct written *w)
{
	if (w->reloaded)
		printf("mtasts serve (pid %ld%s) reloaded %s; now publish the "
		       "record:\n",
		       (long)w->pids[0], w->pid_count > 1 ? " and others" : "",
		       r->o->policy_path);
	else
		printf("publish %s first (reload the server that serves it), "
		       "then the record:\n",
		       r->o->policy_path);
	printf("  _mta-sts.%s. IN TXT \"v=STSv1; id=%s\"\n", r->domain, w->id);
	printf("senders fetch the new policy when they see the new id (RFC "
	       "8461 §3.1).\n");
}

static int
print_json(const struct rollout *r, const struct written *w, json_t *extra)
{
	char record[64], cut[32];
	json_t *o, *pids = json_array();
	size_t i;
	int rc;

	for (i = 0; w->reloaded && i < w->pid_count; i++)
		json_array_append_new(pids, json_integer(w->pids[i]));
	(void)snprintf(record, sizeof(record), "v=STSv1; id=%s", w->id);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:I, s:o, s:s, s:o}",
	              "domain", r->domain, "action", w->action, "policy_file",
	              r->o->policy_path, "id", w->id, "previous_id",
	              w->previous_id[0] != '\0' ? w->previous_id : NULL, "mode",
	              mts_sts_mode_name(w->policy->mode), "max_age",
	              (json_int_t)w->policy->max_age, "mx", mx_json(w->policy),
	              "record", record, "reloaded", pids);
	if (o != NULL && w->cutover_at >= 0) {
		rollout_time_iso(w->cutover_at, cut);
		json_object_set_new(o, "cutover_at", json_string(cut));
	}
	if (o != NULL && extra != NULL)
		(void)json_object_update(o, extra);
	json_decref(extra);
	rc = o != NULL && json_dumpf(o, stdout, JSON_COMPACT) == 0 &&
		putchar('\n') != EOF ?
	    0 :
	    -1;
	json_decref(o);
	if (rc != 0)
		warnx_cli("rollout: cannot write the JSON");
	return rc;
}

/* ---- promote ---- */

/* Nothing to promote: the file stays, exit 0. */
static int
already_enforce(const struct rollout *r)
{
	json_t *o;

	if (!r->o->json) {
		printf("%s: %s is already in enforce mode: nothing to do\n",
		       r->domain, r->o->policy_path);
		return EXIT_VALID;
	}
	o = json_pack("{s:s, s:s, s:s, s:s}", "domain", r->domain, "action",
	              "none", "policy_file", r->o->policy_path, "reason",
	              "already-enforce");
	(void)json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	return EXIT_VALID;
}

static int
refuse_not_ready(const struct rollout *r, const struct rollout_evidence *ev)
{
	char advice[1024];
	json_t *o;

	if (!r->o->json) {
		rollout_print_evidence(r, ev, r->o->min_days);
		printf("not promoted: %s is left as it was (--force promotes "
		       "anyway)\n",
		       r->o->policy_path);
		return EXIT_NOT_READY;
	}
	rollout_advice(r, ev, r->o->min_days, advice, sizeof(advice));
	o = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "domain", r->domain,
	              "action", "none", "policy_file", r->o->policy_path,
	              "ready", false, "reason",
	              rollout_reason_key(ev->rd.reason), "advice", advice);
	(void)json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	return EXIT_NOT_READY;
}

/* Writes `p` with a new id, logs it (with `log`), renames, reloads. */
struct change_io {
	int (*log)(struct rollout *r, const struct rollout_event *ev,
	           void *ctx);
	void *ctx;
};

static int
write_policy(struct rollout *r, struct written *w,
             const struct mts_sts_policy *p, const struct change_io *io)
{
	struct rollout_pending pend = {NULL};
	struct rollout_event ev;
	char sha[65], *body, *mx = NULL, *file = NULL;
	struct mts_err err;
	int status;

	if ((status = new_id(r, w)) != EXIT_VALID)
		return status;
	if ((body = mts_sts_policy_format(p, &err)) == NULL) {
		warnx_cli("rollout: the new policy: %s", err.msg);
		return EXIT_ERROR;
	}
	/* What is written must read back as what was meant. */
	if (mts_sts_policy_parse(body, strlen(body), NULL, NULL, &err) != 0) {
		warnx_cli("rollout: the new policy does not parse: %s",
		          err.msg);
		free(body);
		return EXIT_ERROR;
	}
	find_pids(r, w);
	rollout_sha256(body, strlen(body), sha);
	if ((mx = mx_text(p)) == NULL ||
	    (file = file_key(r->o->policy_path)) == NULL) {
		warnx_cli("out of memory");
		status = EXIT_ERROR;
		goto done;
	}
	make_event(r, &ev, w->action, w, p, mx, file, sha);
	if ((status = rollout_write_prepare(r, body, &pend)) != EXIT_VALID)
		goto done;
	if ((status = io->log(r, &ev, io->ctx)) != EXIT_VALID) {
		rollout_write_abort(&pend);
		goto done;
	}
	if ((status = rollout_write_commit(r, &pend)) != EXIT_VALID) {
		warnx_cli("rollout: the store has recorded id %s for a policy "
		          "that was not written",
		          w->id);
		goto done;
	}
	w->policy = p;
	status = reload(r, w);
done:
	free(body);
	free(mx);
	free(file);
	return status;
}

static int
log_plain(struct rollout *r, const struct rollout_event *ev, void *ctx)
{
	char why[STORE_WHY_SIZE];

	(void)ctx;
	if (rollout_store_log(r->store, ev, why, sizeof(why)) != 0) {
		warnx_cli("rollout: %s", why);
		return EXIT_ERROR;
	}
	return EXIT_VALID;
}

int
rollout_promote_main(const struct rollout_opts *o)
{
	const struct change_io io = {log_plain, NULL};
	struct rollout_evidence ev;
	struct mts_sts_policy np;
	struct written w;
	struct rollout r;
	int status, wrote;
	bool gathered = false;

	memset(&w, 0, sizeof(w));
	w.action = "promote";
	w.cutover_at = -1;
	if ((status = rollout_load(&r, o)) != EXIT_VALID)
		goto done;
	if (r.policy.mode == MTS_STS_MODE_ENFORCE) {
		status = already_enforce(&r);
		goto done;
	}
	if ((status = rollout_open_store(&r, o->force)) != EXIT_VALID ||
	    (status = rollout_gather(&r, o->min_days, &ev)) != EXIT_VALID)
		goto done;
	gathered = true;
	if (!ev.rd.ready && !o->force) {
		status = refuse_not_ready(&r, &ev);
		goto done;
	}
	np = r.policy; /* the patterns are borrowed, not copied */
	np.mode = MTS_STS_MODE_ENFORCE;
	np.max_age = o->max_age;
	wrote = write_policy(&r, &w, &np, &io);
	if (w.policy == NULL) {
		status = wrote;
		goto done;
	}
	if (o->json) {
		status =
		    print_json(&r, &w,
		               json_pack("{s:b, s:s}", "forced", !ev.rd.ready,
		                         "reason",
		                         rollout_reason_key(ev.rd.reason)));
		status = status == 0 ? wrote : EXIT_ERROR;
		goto done;
	}
	if (!ev.rd.ready)
		printf("forced: %s\n", mts_rollout_reason_name(ev.rd.reason));
	printf("%s: promoted to enforce, max_age %" PRIu32 " (was %s, %" PRIu32
	       "); wrote %s\n",
	       r.domain, np.max_age, mts_sts_mode_name(r.policy.mode),
	       r.policy.max_age, o->policy_path);
	print_record(&r, &w);
	status = wrote;
done:
	if (gathered)
		rollout_evidence_free(&ev);
	rollout_free(&r);
	return status;
}

/* ---- mx-change ---- */

/* The policies rollout wrote before: each superseded by the next. */
struct history {
	struct mts_rollout_published *p;
	size_t n;
	int64_t last_at;
	uint32_t last_max_age;
	bool have_last;
	bool last_refusing;
	bool nomem;
};

static int
add_published(struct history *h, int64_t superseded, uint32_t max_age)
{
	struct mts_rollout_published *p;

	if ((p = reallocarray(h->p, h->n + 1, sizeof(*p))) == NULL) {
		h->nomem = true;
		return 1;
	}
	h->p = p;
	p[h->n].superseded = superseded;
	p[h->n].max_age = max_age;
	h->n++;
	return 0;
}

/*
 * Only enforce policies make a sender refuse a host they do not list
 * (RFC 8461 §5): a testing policy still held delivers anyway.  The
 * policy a promote replaced was a testing one; the one an MX change
 * replaced had the change's mode.
 */
static bool
refusing(const char *mode)
{
	return strcmp(mode, "enforce") == 0;
}

static int
on_event(const struct rollout_event *e, void *ctx)
{
	struct history *h = ctx;

	/* The one it replaced was served until it was written. */
	if (strcmp(e->action, "promote") != 0 && refusing(e->mode) &&
	    add_published(h, e->at, e->previous_max_age) != 0)
		return 1;
	/* And the one before it was served until this one. */
	if (h->have_last && h->last_refusing &&
	    add_published(h, e->at, h->last_max_age) != 0)
		return 1;
	h->have_last = true;
	h->last_refusing = refusing(e->mode);
	h->last_at = e->at;
	h->last_max_age = e->max_age;
	return 0;
}

/* Until when a sender may hold a policy older than the one of now. */
static int
cached_until(struct rollout *r, int64_t *out)
{
	char why[STORE_WHY_SIZE];
	struct history h;

	memset(&h, 0, sizeof(h));
	if (rollout_store_events(r->store, r->domain, on_event, &h, why,
	                         sizeof(why)) == -1 ||
	    h.nomem) {
		warnx_cli("rollout: %s", h.nomem ? "out of memory" : why);
		free(h.p);
		return EXIT_ERROR;
	}
	/* The last one written may have been edited by hand since: it
	   was served until now, whatever FILE holds. */
	if (h.have_last && h.last_refusing &&
	    add_published(&h, r->now, h.last_max_age) != 0) {
		warnx_cli("out of memory");
		free(h.p);
		return EXIT_ERROR;
	}
	*out = mts_rollout_cached_until(r->now, r->policy.max_age, h.p, h.n);
	free(h.p);
	return EXIT_VALID;
}

struct begin_ctx {
	struct rollout_mx_change c;
	bool exists;
};

static int
log_begin(struct rollout *r, const struct rollout_event *ev, void *ctx)
{
	struct begin_ctx *b = ctx;
	char why[STORE_WHY_SIZE];
	int rc;

	b->c.transition_id = ev->policy_id;
	b->c.policy_file = ev->policy_file;
	rc = rollout_store_mx_begin(r->store, &b->c, ev, why, sizeof(why));
	if (rc == ROLLOUT_STORE_EXISTS) {
		b->exists = true;
		warnx_cli("rollout: an MX change of %s was started meanwhile: "
		          "%s is left as it was",
		          r->domain, r->o->policy_path);
		return EXIT_NOT_READY;
	}
	if (rc != 0) {
		warnx_cli("rollout: %s", why);
		return EXIT_ERROR;
	}
	return EXIT_VALID;
}

static void
print_timeline(const struct rollout *r, const struct written *w,
               const struct rollout_mx_change *c)
{
	char now[32], cut[32];
	size_t i;

	rollout_time_text(r->now, now);
	rollout_time_text(w->cutover_at, cut);
	printf("%s: MX change started; wrote the transition policy to %s "
	       "(id %s):\n",
	       r->domain, r->o->policy_path, w->id);
	for (i = 0; i < w->policy->mx_count; i++)
		printf("  mx: %s\n", w->policy->mx[i]);
	printf("\nthe safe timeline (UTC):\n");
	printf("1. now, %s: publish %s, then the record\n"
	       "     _mta-sts.%s. IN TXT \"v=STSv1; id=%s\"\n",
	       now, r->o->policy_path, r->domain, w->id);
	printf("2. not before %s: change the DNS MX records.\n"
	       "   Until then a sender may hold the policy replaced now (its "
	       "max_age is %" PRIu32 " s),\n"
	       "   which does not list the new hosts: in enforce mode it "
	       "would refuse them\n"
	       "   (RFC 8461 §4.1, §5.1).\n",
	       cut, r->policy.max_age);
	if (r->policy.mode == MTS_STS_MODE_TESTING)
		printf("   (The policy is in testing mode: senders do not "
		       "refuse, but report failures.)\n");
	printf("3. after the cut-over: mtasts rollout mx-change --policy %s "
	       "--finish\n"
	       "   drops the removed hosts from the policy, with a new id.\n",
	       r->o->policy_path);
	(void)c;
}

static int
start_change(struct rollout *r)
{
	const struct rollout_opts *o = r->o;
	struct mts_rollout_mx_plan plan;
	struct begin_ctx b;
	struct change_io io = {log_begin, &b};
	struct mts_err err;
	struct written w;
	char *added = NULL, *removed = NULL;
	int status;

	memset(&w, 0, sizeof(w));
	memset(&b, 0, sizeof(b));
	memset(&plan, 0, sizeof(plan));
	w.action = "mx-change";
	if ((status = cached_until(r, &w.cutover_at)) != EXIT_VALID)
		return status;
	if (mts_rollout_mx_plan(&r->policy, o->add, o->add_count, o->remove,
	                        o->remove_count, w.cutover_at, &plan,
	                        &err) != 0) {
		warnx_cli("rollout mx-change: %s", err.msg);
		return err.code == MTS_ERR_NOMEM ? EXIT_ERROR : EXIT_USAGE;
	}
	added = args_text(o->add, o->add_count);
	removed = args_text(o->remove, o->remove_count);
	if (added == NULL || removed == NULL) {
		warnx_cli("out of memory");
		status = EXIT_ERROR;
		goto done;
	}
	b.c.domain = r->domain;
	b.c.started = r->now;
	b.c.cutover_at = w.cutover_at;
	b.c.added = added;
	b.c.removed = removed;
	b.c.finished = -1;
	status = write_policy(r, &w, &plan.transition, &io);
	if (w.policy == NULL)
		goto done;
	if (o->json) {
		if (print_json(r, &w,
		               json_pack("{s:o, s:o}", "added",
		                         args_json(o->add, o->add_count),
		                         "removed",
		                         args_json(o->remove,
		                                   o->remove_count))) != 0)
			status = EXIT_ERROR;
	} else {
		print_timeline(r, &w, &b.c);
	}
done:
	free(added);
	free(removed);
	mts_rollout_mx_plan_reset(&plan);
	return status;
}

/* ---- mx-change --finish ---- */

struct finish_ctx {
	int64_t id;
};

static int
log_finish(struct rollout *r, const struct rollout_event *ev, void *ctx)
{
	struct finish_ctx *f = ctx;
	char why[STORE_WHY_SIZE];
	int rc;

	rc = rollout_store_mx_finish(r->store, f->id, r->now, ev->policy_id, ev,
	                             why, sizeof(why));
	if (rc == ROLLOUT_STORE_GONE) {
		warnx_cli(
		    "rollout: the MX change of %s was finished meanwhile: "
		    "%s is left as it was",
		    r->domain, r->o->policy_path);
		return EXIT_NOT_READY;
	}
	if (rc != 0) {
		warnx_cli("rollout: %s", why);
		return EXIT_ERROR;
	}
	return EXIT_VALID;
}

/* True when pattern is one of the change's removed ones. */
static bool
removed_by(const json_t *removed, const char *pattern)
{
	size_t i, n = strlen(pattern);
	const char *s;
	json_t *v;

	json_array_foreach(removed, i, v)
	{
		s = json_string_value(v);
		if (s == NULL)
			continue;
		/* As the core compares: case and one final dot aside. */
		if (strcasecmp(s, pattern) == 0 ||
		    (n > 0 && pattern[n - 1] == '.' && strlen(s) == n - 1 &&
		     strncasecmp(s, pattern, n - 1) == 0) ||
		    (strlen(s) == n + 1 && s[n] == '.' &&
		     strncasecmp(s, pattern, n) == 0))
			return true;
	}
	return false;
}

static int
not_yet(const struct rollout *r, const struct rollout_open_change *c)
{
	char cut[32];
	int64_t left = c->cutover_at - r->now;

	rollout_time_text(c->cutover_at, cut);
	if (r->o->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "domain",
		                      r->domain, "action", "none", "reason",
		                      "cutover-not-safe", "cutover_at", cut);
		(void)json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	}
	warnx_cli("rollout mx-change: not before %s (in %" PRId64 " h %" PRId64
	          " min): until then a sender may hold a policy without the "
	          "new hosts, and the DNS MX records must not have changed "
	          "yet; %s is left as it was (--force finishes anyway)",
	          cut, left / 3600, left % 3600 / 60, r->o->policy_path);
	return EXIT_NOT_READY;
}

/*
 * Has the DNS cut-over happened?  The final policy must cover the MX
 * hosts the DNS names now: in enforce mode a sender skips every host
 * the policy does not cover (RFC 8461 §4.1, §5), so a final policy
 * that covers none of them stops the mail.  One that covers some is
 * finished with a word about the others.  EXIT_VALID to go on, or
 * EXIT_NOT_READY (said).
 */
static int
check_cutover(const struct rollout *r, const struct mts_sts_policy *final)
{
	struct rollout_mx_seen seen;
	size_t i, covered = 0;
	int status = EXIT_VALID;

	if (r->o->no_fetch || r->o->force)
		return EXIT_VALID;
	if (rollout_look_mx(r, &seen) != 0) {
		warnx_cli("rollout mx-change: cannot read the MX records of %s "
		          "(%s): look at them yourself, then finish with "
		          "--no-fetch; %s is left as it was",
		          r->domain, seen.why, r->o->policy_path);
		rollout_mx_seen_free(&seen);
		return EXIT_NOT_READY;
	}
	for (i = 0; i < seen.count; i++)
		if (mts_sts_policy_match(final, seen.hosts[i]))
			covered++;
	if (covered == 0) {
		warnx_cli("rollout mx-change: the MX records of %s name %s%s, "
		          "which the final policy does not list: change the "
		          "DNS MX records first (step 2 of the timeline); %s "
		          "is left as it was",
		          r->domain, seen.count > 0 ? seen.hosts[0] : "nothing",
		          seen.count > 1 ? " and others" : "",
		          r->o->policy_path);
		status = EXIT_NOT_READY;
	} else {
		for (i = 0; i < seen.count; i++)
			if (!mts_sts_policy_match(final, seen.hosts[i]))
				warnx_cli(
				    "rollout mx-change: warning: the MX "
				    "records still name %s, which senders "
				    "in enforce mode will skip once they "
				    "have the final policy",
				    seen.hosts[i]);
	}
	rollout_mx_seen_free(&seen);
	return status;
}

static int
finish_change(struct rollout *r)
{
	struct finish_ctx f;
	struct change_io io = {log_finish, &f};
	struct rollout_open_change c;
	struct mts_sts_policy np;
	char **mx = NULL;
	struct written w;
	size_t i;
	int status;

	memset(&c, 0, sizeof(c));
	memset(&w, 0, sizeof(w));
	w.action = "mx-finish";
	w.cutover_at = -1;
	if (rollout_open_change(r, &c) != EXIT_VALID) {
		rollout_open_change_free(&c);
		return EXIT_ERROR;
	}
	if (!c.have) {
		warnx_cli("rollout mx-change: no MX change of %s is under way "
		          "(mtasts rollout status tells where it stands)",
		          r->domain);
		status = EXIT_NOT_READY;
		goto done;
	}
	if (r->now < c.cutover_at && !r->o->force) {
		status = not_yet(r, &c);
		goto done;
	}
	if (c.removed == NULL ||
	    (mx = calloc(r->policy.mx_count + 1, sizeof(*mx))) == NULL) {
		warnx_cli("rollout: the stored change is unreadable, or out "
		          "of memory");
		status = EXIT_ERROR;
		goto done;
	}
	np = r->policy;
	np.mx = mx;
	np.mx_count = 0;
	for (i = 0; i < r->policy.mx_count; i++)
		if (!removed_by(c.removed, r->policy.mx[i]))
			mx[np.mx_count++] = r->policy.mx[i];
	if (np.mx_count == 0) {
		warnx_cli("rollout mx-change: %s would list no MX host without "
		          "the removed ones: add the new hosts to it first",
		          r->o->policy_path);
		status = EXIT_ERROR;
		goto done;
	}
	if (r->policy.mode == MTS_STS_MODE_ENFORCE &&
	    (status = check_cutover(r, &np)) != EXIT_VALID)
		goto done;
	f.id = c.id;
	w.cutover_at = c.cutover_at;
	status = write_policy(r, &w, &np, &io);
	if (w.policy == NULL)
		goto done;
	if (r->o->json) {
		if (print_json(r, &w, NULL) != 0)
			status = EXIT_ERROR;
	} else {
		printf("%s: MX change finished; wrote %s without the removed "
		       "hosts (id %s):\n",
		       r->domain, r->o->policy_path, w.id);
		for (i = 0; i < np.mx_count; i++)
			printf("  mx: %s\n", np.mx[i]);
		print_record(r, &w);
	}
done:
	free(mx);
	rollout_open_change_free(&c);
	return status;
}

int
rollout_mx_change_main(const struct rollout_opts *o)
{
	struct rollout_open_change c;
	struct rollout r;
	char since[32];
	int status;

	memset(&c, 0, sizeof(c));
	if ((status = rollout_load(&r, o)) != EXIT_VALID)
		goto done;
	if ((status = rollout_open_store(&r, !o->finish)) != EXIT_VALID)
		goto done;
	if (o->finish) {
		status = finish_change(&r);
		goto done;
	}
	if (r.policy.mode == MTS_STS_MODE_NONE) {
		warnx_cli(
		    "rollout mx-change: %s is in mode none: senders apply "
		    "no policy, so the MX records may change at once; "
		    "edit the mx lines by hand",
		    o->policy_path);
		status = EXIT_NOT_READY;
		goto done;
	}
	if ((status = rollout_open_change(&r, &c)) != EXIT_VALID)
		goto done;
	if (c.have) {
		rollout_time_text(c.started, since);
		warnx_cli("rollout mx-change: an MX change of %s is under way "
		          "since %s (id %s): finish it first (mx-change "
		          "--finish); %s is left as it was",
		          r.domain, since, c.transition_id, o->policy_path);
		status = EXIT_NOT_READY;
		goto done;
	}
	status = start_change(&r);
done:
	rollout_open_change_free(&c);
	rollout_free(&r);
	return status;
}
