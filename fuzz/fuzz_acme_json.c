/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the ACME documents (src/serve/acme_json.c): every
 * parser (directory, account, order, authorization, challenge, problem,
 * renewalInfo) on the same arbitrary bytes, and the RFC 3339 parser on
 * them as a string.  Besides memory errors and leaks (ASan) and
 * undefined behaviour (UBSan), it aborts when an invariant breaks:
 * - a refusal leaves the caller's struct untouched and says why;
 * - a success has its required members set: the directory's three URLs,
 *   a status an object may have, an order's identifiers, authorizations
 *   and finalize (and its certificate when valid), an authorization's
 *   identifier, each challenge's type, url and a base64url token where
 *   its type needs one, a renewalInfo window with end after start;
 * - every string kept is within its cap (a detail cut, not refused).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme_json.h"

#include "fuzz.h"

static bool
url_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= ACME_URL_MAX;
}

static bool
opt_url_ok(const char *s)
{
	return s == NULL || url_ok(s);
}

static bool
text_ok(const char *s)
{
	return s == NULL || strlen(s) <= ACME_TEXT_MAX;
}

static void
check_problem(const struct acme_problem *p)
{
	size_t i;

	CHECK(text_ok(p->type) && text_ok(p->detail));
	CHECK(p->status == 0 || (p->status >= 100 && p->status <= 599));
	CHECK(p->nsub <= ACME_LIST_MAX && (p->nsub == 0) == (p->sub == NULL));
	for (i = 0; i < p->nsub; i++) {
		CHECK(text_ok(p->sub[i].type) && text_ok(p->sub[i].detail));
		CHECK(p->sub[i].id == NULL ||
		      (p->sub[i].id->type != NULL &&
		       p->sub[i].id->value != NULL));
	}
}

static void
check_challenge(const struct acme_challenge *c)
{
	CHECK(c->type != NULL && url_ok(c->url));
	CHECK(c->status == ACME_STATUS_PENDING ||
	      c->status == ACME_STATUS_PROCESSING ||
	      c->status == ACME_STATUS_VALID ||
	      c->status == ACME_STATUS_INVALID);
	if (strcmp(c->type, "tls-alpn-01") == 0 ||
	    strcmp(c->type, "http-01") == 0 || strcmp(c->type, "dns-01") == 0)
		CHECK(c->token != NULL);
	if (c->token != NULL)
		CHECK(strlen(c->token) <= ACME_TOKEN_MAX &&
		      acme_token_valid(c->token, strlen(c->token)));
	if (c->error != NULL)
		check_problem(c->error);
}

#define UNTOUCHED(x)                                                           \
	do {                                                                   \
		size_t k_;                                                     \
		const unsigned char *b_ = (const unsigned char *)&(x);         \
		for (k_ = 0; k_ < sizeof(x); k_++)                             \
			CHECK(b_[k_] == 0xa5);                                 \
	} while (0)

static void
run_directory(const char *buf, size_t len)
{
	struct acme_directory d;
	char why[ACME_WHY_MAX] = "";

	memset(&d, 0xa5, sizeof(d));
	if (acme_directory_parse(buf, len, &d, why, sizeof(why)) == -1) {
		UNTOUCHED(d);
		CHECK(why[0] != '\0');
		return;
	}
	CHECK(url_ok(d.new_nonce) && url_ok(d.new_account) &&
	      url_ok(d.new_order));
	CHECK(opt_url_ok(d.revoke_cert) && opt_url_ok(d.key_change) &&
	      opt_url_ok(d.renewal_info) && opt_url_ok(d.terms_of_service));
	acme_directory_free(&d);
}

static void
run_account(const char *buf, size_t len)
{
	struct acme_account a;
	char why[ACME_WHY_MAX] = "";

	memset(&a, 0xa5, sizeof(a));
	if (acme_account_parse(buf, len, &a, why, sizeof(why)) == -1) {
		UNTOUCHED(a);
		CHECK(why[0] != '\0');
		return;
	}
	CHECK(a.status == ACME_STATUS_VALID ||
	      a.status == ACME_STATUS_DEACTIVATED ||
	      a.status == ACME_STATUS_REVOKED);
	CHECK(opt_url_ok(a.orders));
	acme_account_free(&a);
}

static void
run_order(const char *buf, size_t len)
{
	struct acme_order o;
	char why[ACME_WHY_MAX] = "";
	size_t i;

	memset(&o, 0xa5, sizeof(o));
	if (acme_order_parse(buf, len, &o, why, sizeof(why)) == -1) {
		UNTOUCHED(o);
		CHECK(why[0] != '\0');
		return;
	}
	CHECK(o.status >= ACME_STATUS_PENDING &&
	      o.status <= ACME_STATUS_INVALID);
	CHECK(o.nids >= 1 && o.nids <= ACME_LIST_MAX);
	CHECK(o.nauthz >= 1 && o.nauthz <= ACME_LIST_MAX);
	for (i = 0; i < o.nids; i++)
		CHECK(o.ids[i].type != NULL && o.ids[i].value != NULL);
	for (i = 0; i < o.nauthz; i++)
		CHECK(url_ok(o.authorizations[i]));
	CHECK(url_ok(o.finalize) && opt_url_ok(o.certificate));
	CHECK(o.status != ACME_STATUS_VALID || o.certificate != NULL);
	if (o.error != NULL)
		check_problem(o.error);
	acme_order_free(&o);
}

static void
run_authz(const char *buf, size_t len)
{
	struct acme_authz a;
	char why[ACME_WHY_MAX] = "";
	size_t i;

	memset(&a, 0xa5, sizeof(a));
	if (acme_authz_parse(buf, len, &a, why, sizeof(why)) == -1) {
		UNTOUCHED(a);
		CHECK(why[0] != '\0');
		return;
	}
	CHECK(a.id.type != NULL && a.id.value != NULL);
	CHECK(a.status >= ACME_STATUS_PENDING &&
	      a.status <= ACME_STATUS_REVOKED &&
	      a.status != ACME_STATUS_READY &&
	      a.status != ACME_STATUS_PROCESSING);
	CHECK(a.nchallenges <= ACME_LIST_MAX);
	for (i = 0; i < a.nchallenges; i++)
		check_challenge(&a.challenges[i]);
	acme_authz_free(&a);
}

static void
run_challenge(const char *buf, size_t len)
{
	struct acme_challenge c;
	char why[ACME_WHY_MAX] = "";

	memset(&c, 0xa5, sizeof(c));
	if (acme_challenge_parse(buf, len, &c, why, sizeof(why)) == -1) {
		UNTOUCHED(c);
		CHECK(why[0] != '\0');
		return;
	}
	check_challenge(&c);
	acme_challenge_free(&c);
}

static void
run_problem(const char *buf, size_t len)
{
	struct acme_problem p;
	char why[ACME_WHY_MAX] = "";

	memset(&p, 0xa5, sizeof(p));
	if (acme_problem_parse(buf, len, &p, why, sizeof(why)) == -1) {
		UNTOUCHED(p);
		CHECK(why[0] != '\0');
		return;
	}
	check_problem(&p);
	acme_problem_free(&p);
}

static void
run_renewal(const char *buf, size_t len)
{
	struct acme_renewal_info r;
	char why[ACME_WHY_MAX] = "";

	memset(&r, 0xa5, sizeof(r));
	if (acme_renewal_info_parse(buf, len, &r, why, sizeof(why)) == -1) {
		UNTOUCHED(r);
		CHECK(why[0] != '\0');
		return;
	}
	CHECK(r.end > r.start);
	CHECK(opt_url_ok(r.explanation_url));
	acme_renewal_info_free(&r);
}

/* The RFC 3339 parser on the input as a string: a success is within the
   years 0000-9999 (give or take a day of offset). */
static void
run_time(const uint8_t *data, size_t size)
{
	char s[80];
	int64_t t = 0;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (acme_time_parse(s, &t) == 0)
		CHECK(t >= -62167219200LL - 86400 &&
		      t <= 253402300800LL + 86400);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	run_directory(buf, size);
	run_account(buf, size);
	run_order(buf, size);
	run_authz(buf, size);
	run_challenge(buf, size);
	run_problem(buf, size);
	run_renewal(buf, size);
	run_time(data, size);
	return 0;
}
