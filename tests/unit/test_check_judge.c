/* SPDX-License-Identifier: ISC */
/*
 * The judgement of `mtasts check` replayed without root or network, as
 * unbound's testbound replays scenarios in-process: the facts of every
 * scenario of the world (the tests/world/domains files with #expect
 * lines), recorded once from a real run into tests/data/check-facts/
 * (the DNS answers with their DNSSEC status, each fetch and probe
 * result, the time), are loaded and judged by the pure judge
 * (src/check/judge.c) at the recorded time, and each expectation of the
 * domain file, read here as tests/e2e/check.sh reads it, is one check:
 *
 *   #expect CODE...        each code is reported
 *   #expect-not CODE...    none is
 *   #expect-finding CODE TEXT   a finding CODE whose detail has TEXT
 *   #expect-verdict V      the verdict
 *
 * A scenario with expectations and no recorded facts fails, so that a
 * new one cannot be forgotten; tests/data/check-facts/record.sh records
 * them (docs/TESTING.md).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts_json.h"
#include "judge.h"
#include "tap.h"
#include "text.h"

#define RECORD_HINT                                                            \
	"record it as root: bash tests/data/check-facts/record.sh "            \
	"build/mtasts (docs/TESTING.md)"

/* Whether a finding of `code` is held, with `text` in its detail. */
static bool
has(const struct mts_diag *diag, const char *code, const char *text)
{
	char detail[4 * MTS_FINDING_MSG_SIZE + 1];
	const struct mts_finding *f;
	size_t i;

	for (i = 0; i < diag->count; i++) {
		f = &diag->items[i];
		if (strcmp(f->code, code) != 0)
			continue;
		if (text == NULL)
			return true;
		/* As the JSON output shows it (cmd_check.c). */
		text_escape(detail, sizeof(detail), f->message,
		            strlen(f->message));
		if (strstr(detail, text) != NULL)
			return true;
	}
	return false;
}

static const char *
verdict_name(enum mts_severity v)
{
	return v == MTS_SEV_OK ? "ok" : mts_severity_name(v);
}

/* Each code of a "#expect CODE..." line, reported or not. */
static void
check_codes(const char *domain, const struct mts_diag *diag, char *codes,
            bool want)
{
	char *code, *save = NULL;

	for (code = strtok_r(codes, " \t", &save); code != NULL;
	     code = strtok_r(NULL, " \t", &save))
		tap_ok(has(diag, code, NULL) == want, "%s: %s %s", domain,
		       want ? "reports" : "does not report", code);
}

/* The expectations of one domain file against its judgement. */
static void
check_file(const char *domain, FILE *fp, const struct check_judgement *j)
{
	char line[1024], *text;
	size_t n;

	while (fgets(line, sizeof(line), fp) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (strncmp(line, "#expect ", 8) == 0) {
			check_codes(domain, &j->diag, line + 8, true);
		} else if (strncmp(line, "#expect-not ", 12) == 0) {
			check_codes(domain, &j->diag, line + 12, false);
		} else if (strncmp(line, "#expect-finding ", 16) == 0) {
			text = line + 16 + strcspn(line + 16, " ");
			if (*text != '\0')
				*text++ = '\0';
			tap_ok(has(&j->diag, line + 16, text),
			       "%s: reports %s with \"%s\"", domain, line + 16,
			       text);
		} else if (strncmp(line, "#expect-verdict ", 16) == 0) {
			tap_ok(strcmp(verdict_name(j->verdict), line + 16) == 0,
			       "%s: verdict %s (got %s)", domain, line + 16,
			       verdict_name(j->verdict));
		}
	}
}

/* Whether the file has a line starting "#expect". */
static bool
has_expectations(FILE *fp)
{
	char line[1024];
	bool any = false;

	while (!any && fgets(line, sizeof(line), fp) != NULL)
		any = strncmp(line, "#expect", 7) == 0;
	rewind(fp);
	return any;
}

/* Two judgements of the same facts give the same findings, in order. */
static bool
same(const struct check_judgement *a, const struct check_judgement *b)
{
	size_t i;

	if (a->diag.count != b->diag.count || a->verdict != b->verdict)
		return false;
	for (i = 0; i < a->diag.count; i++)
		if (strcmp(a->diag.items[i].code, b->diag.items[i].code) != 0 ||
		    strcmp(a->diag.items[i].message,
		           b->diag.items[i].message) != 0)
			return false;
	return true;
}

/* One scenario: its facts judged, its expectations checked. */
static void
scenario(const char *facts_dir, const char *domains_dir, const char *file)
{
	char path[8192], domain[256], why[256];
	struct check_judgement j, again;
	struct check_facts f;
	FILE *fp;

	snprintf(domain, sizeof(domain), "%.*s",
	         (int)(strlen(file) - strlen(".domain")), file);
	snprintf(path, sizeof(path), "%s/%s", domains_dir, file);
	if ((fp = fopen(path, "r")) == NULL) {
		tap_ok(false, "%s: cannot read %s", domain, path);
		return;
	}
	if (!has_expectations(fp)) {
		fclose(fp);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s.json", facts_dir, domain);
	if (facts_json_load(path, &f, why, sizeof(why)) != 0) {
		tap_ok(false, "%s: recorded facts in %s", domain, path);
		tap_diag("%s; " RECORD_HINT, why);
		facts_reset(&f);
		fclose(fp);
		return;
	}
	check_judge(&f, &j);
	check_judge(&f, &again);
	tap_ok(same(&j, &again), "%s: the same facts, the same findings",
	       domain);
	check_file(domain, fp, &j);
	check_judgement_reset(&again);
	check_judgement_reset(&j);
	facts_reset(&f);
	fclose(fp);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
is_domain_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 7 && strcmp(e->d_name + n - 7, ".domain") == 0;
}

int
main(void)
{
	const char *data = getenv("MTS_TEST_DATA");
	const char *domains = getenv("MTS_WORLD_DOMAINS");
	char facts[4096];
	struct dirent **list;
	int i, n;

	if (data == NULL || domains == NULL) {
		printf(
		    "1..0 # SKIP MTS_TEST_DATA or MTS_WORLD_DOMAINS unset\n");
		return 0;
	}
	snprintf(facts, sizeof(facts), "%s/check-facts", data);
	if ((n = scandir(domains, &list, is_domain_file, by_name)) < 0) {
		tap_ok(false, "the world's scenarios in %s", domains);
		return tap_done();
	}
	tap_ok(n > 0, "%d scenario files in %s", n, domains);
	for (i = 0; i < n; i++) {
		scenario(facts, domains, list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return tap_done();
}
