/* SPDX-License-Identifier: ISC */
/*
 * The ACME documents (src/serve/acme_json.c): each parser on RFC 8555's
 * own examples (§7.1.1 directory, §7.1.2 account, §7.1.3 order, §7.1.4
 * authorization, §7.5.1/§8.3 and RFC 8737 §3 challenges, §6.7 problem)
 * and RFC 9773 §4.2's renewalInfo, every member checked; then a table of
 * documents refused (wrong types, missing members, over the caps, bad
 * tokens and timestamps, statuses an object may not have) and accepted
 * (unknown members ignored), each refusal naming its member and leaving
 * the caller's struct untouched; RFC 3339 date-times and base64url
 * tokens on their own.
 */
#include <stdlib.h>
#include <string.h>

#include "acme_json.h"
#include "tap.h"

#define S(x) (x), strlen(x)

static bool
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* ---- RFC 8555 and RFC 9773 examples ---- */

static void
test_directory_example(void)
{
	/* RFC 8555 §7.1.1. */
	const char *doc =
	    "{\n"
	    "  \"newNonce\": \"https://example.com/acme/new-nonce\",\n"
	    "  \"newAccount\": \"https://example.com/acme/new-account\",\n"
	    "  \"newOrder\": \"https://example.com/acme/new-order\",\n"
	    "  \"newAuthz\": \"https://example.com/acme/new-authz\",\n"
	    "  \"revokeCert\": \"https://example.com/acme/revoke-cert\",\n"
	    "  \"keyChange\": \"https://example.com/acme/key-change\",\n"
	    "  \"meta\": {\n"
	    "    \"termsOfService\": "
	    "\"https://example.com/acme/terms/2017-5-30\",\n"
	    "    \"website\": \"https://www.example.com/\",\n"
	    "    \"caaIdentities\": [\"example.com\"],\n"
	    "    \"externalAccountRequired\": false\n"
	    "  }\n"
	    "}\n";
	struct acme_directory d;
	char why[ACME_WHY_MAX] = "";
	int rc = acme_directory_parse(S(doc), &d, why, sizeof(why));

	if (!tap_ok(rc == 0, "RFC 8555 §7.1.1 directory parses")) {
		tap_diag("%s", why);
		return;
	}
	tap_ok(streq(d.new_nonce, "https://example.com/acme/new-nonce") &&
	           streq(d.new_account,
	                 "https://example.com/acme/new-account") &&
	           streq(d.new_order, "https://example.com/acme/new-order") &&
	           streq(d.revoke_cert,
	                 "https://example.com/acme/revoke-cert") &&
	           streq(d.key_change, "https://example.com/acme/key-change"),
	       "directory: the resource URLs");
	tap_ok(streq(d.terms_of_service,
	             "https://example.com/acme/terms/2017-5-30") &&
	           !d.external_account_required && d.renewal_info == NULL,
	       "directory: meta, no renewalInfo (no ARI)");
	acme_directory_free(&d);
	tap_ok(d.new_nonce == NULL && d.terms_of_service == NULL,
	       "directory: free zeroes the struct");
	acme_directory_free(NULL);
}

static void
test_directory_ari(void)
{
	const char *doc =
	    "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\","
	    "\"newOrder\":\"https://ca/o\",\"renewalInfo\":"
	    "\"https://ca/renewal-info\",\"meta\":"
	    "{\"externalAccountRequired\":true}}";
	struct acme_directory d;

	if (!tap_ok(acme_directory_parse(S(doc), &d, NULL, 0) == 0,
	            "directory with renewalInfo (RFC 9773 §3) parses"))
		return;
	tap_ok(streq(d.renewal_info, "https://ca/renewal-info") &&
	           d.external_account_required && d.revoke_cert == NULL &&
	           d.key_change == NULL && d.terms_of_service == NULL,
	       "directory: renewalInfo and externalAccountRequired kept, "
	       "absent members NULL");
	acme_directory_free(&d);
}

static void
test_account_example(void)
{
	/* RFC 8555 §7.1.2. */
	const char *doc =
	    "{\n"
	    "  \"status\": \"valid\",\n"
	    "  \"contact\": [\n"
	    "    \"mailto:cert-admin@example.org\",\n"
	    "    \"mailto:admin@example.org\"\n"
	    "  ],\n"
	    "  \"termsOfServiceAgreed\": true,\n"
	    "  \"orders\": \"https://example.com/acme/orders/rzGoeA\"\n"
	    "}\n";
	struct acme_account a;

	if (!tap_ok(acme_account_parse(S(doc), &a, NULL, 0) == 0,
	            "RFC 8555 §7.1.2 account parses"))
		return;
	tap_ok(a.status == ACME_STATUS_VALID &&
	           streq(a.orders, "https://example.com/acme/orders/rzGoeA"),
	       "account: status valid, orders URL");
	acme_account_free(&a);
}

static void
test_order_example(void)
{
	/* RFC 8555 §7.1.3. */
	const char *doc =
	    "{\n"
	    "  \"status\": \"valid\",\n"
	    "  \"expires\": \"2016-01-20T14:09:07.99Z\",\n"
	    "  \"identifiers\": [\n"
	    "    { \"type\": \"dns\", \"value\": \"www.example.org\" },\n"
	    "    { \"type\": \"dns\", \"value\": \"example.org\" }\n"
	    "  ],\n"
	    "  \"notBefore\": \"2016-01-01T00:00:00Z\",\n"
	    "  \"notAfter\": \"2016-01-08T00:00:00Z\",\n"
	    "  \"authorizations\": [\n"
	    "    \"https://example.com/acme/authz/PAniVnsZcis\",\n"
	    "    \"https://example.com/acme/authz/r4HqLzrSrpI\"\n"
	    "  ],\n"
	    "  \"finalize\": "
	    "\"https://example.com/acme/order/TOlocE8rfgo/finalize\",\n"
	    "  \"certificate\": "
	    "\"https://example.com/acme/cert/mAt3xBGaobw\"\n"
	    "}\n";
	struct acme_order o;
	char why[ACME_WHY_MAX] = "";

	if (!tap_ok(acme_order_parse(S(doc), &o, why, sizeof(why)) == 0,
	            "RFC 8555 §7.1.3 order parses")) {
		tap_diag("%s", why);
		return;
	}
	tap_ok(o.status == ACME_STATUS_VALID && o.expires == 1453298947,
	       "order: status valid, expires 2016-01-20T14:09:07Z");
	tap_ok(o.nids == 2 && streq(o.ids[0].type, "dns") &&
	           streq(o.ids[0].value, "www.example.org") &&
	           streq(o.ids[1].value, "example.org"),
	       "order: two dns identifiers in order");
	tap_ok(o.nauthz == 2 &&
	           streq(o.authorizations[0],
	                 "https://example.com/acme/authz/PAniVnsZcis") &&
	           streq(o.authorizations[1],
	                 "https://example.com/acme/authz/r4HqLzrSrpI"),
	       "order: two authorization URLs in order");
	tap_ok(streq(o.finalize,
	             "https://example.com/acme/order/TOlocE8rfgo/finalize") &&
	           streq(o.certificate,
	                 "https://example.com/acme/cert/mAt3xBGaobw") &&
	           o.error == NULL,
	       "order: finalize, certificate, no error");
	acme_order_free(&o);
}

static void
test_order_error(void)
{
	const char *doc =
	    "{\"status\":\"invalid\",\"identifiers\":[{\"type\":\"dns\","
	    "\"value\":\"mta-sts.example.com\"}],\"authorizations\":"
	    "[\"https://ca/authz/1\"],\"finalize\":\"https://ca/f\","
	    "\"error\":{\"type\":\"urn:ietf:params:acme:error:rateLimited\","
	    "\"detail\":\"too many new orders\",\"status\":429}}";
	struct acme_order o;

	if (!tap_ok(acme_order_parse(S(doc), &o, NULL, 0) == 0,
	            "invalid order with an error parses"))
		return;
	tap_ok(o.status == ACME_STATUS_INVALID && o.expires == 0 &&
	           o.certificate == NULL && o.error != NULL &&
	           o.error->kind == ACME_PROBLEM_RATE_LIMITED &&
	           o.error->status == 429 &&
	           streq(o.error->detail, "too many new orders"),
	       "order: its error is a rateLimited problem, status 429");
	acme_order_free(&o);
}

static void
test_authz_example(void)
{
	/* RFC 8555 §7.1.4. */
	const char *doc =
	    "{\n"
	    "  \"status\": \"valid\",\n"
	    "  \"expires\": \"2015-03-01T14:09:07.99Z\",\n"
	    "  \"identifier\": {\n"
	    "    \"type\": \"dns\",\n"
	    "    \"value\": \"www.example.org\"\n"
	    "  },\n"
	    "  \"challenges\": [\n"
	    "    {\n"
	    "      \"url\": \"https://example.com/acme/chall/prV_B7yEyA4\",\n"
	    "      \"type\": \"http-01\",\n"
	    "      \"status\": \"valid\",\n"
	    "      \"token\": \"DGyRejmCefe7v4NfDGDKfA\",\n"
	    "      \"validated\": \"2014-12-01T12:05:58.16Z\"\n"
	    "    }\n"
	    "  ],\n"
	    "  \"wildcard\": false\n"
	    "}\n";
	struct acme_authz a;
	const struct acme_challenge *c;

	if (!tap_ok(acme_authz_parse(S(doc), &a, NULL, 0) == 0,
	            "RFC 8555 §7.1.4 authorization parses"))
		return;
	tap_ok(a.status == ACME_STATUS_VALID && a.expires == 1425218947 &&
	           streq(a.id.type, "dns") &&
	           streq(a.id.value, "www.example.org") && !a.wildcard,
	       "authorization: status, expires, identifier, wildcard");
	c = a.nchallenges == 1 ? &a.challenges[0] : NULL;
	tap_ok(c != NULL && streq(c->type, "http-01") &&
	           streq(c->url,
	                 "https://example.com/acme/chall/prV_B7yEyA4") &&
	           c->status == ACME_STATUS_VALID &&
	           streq(c->token, "DGyRejmCefe7v4NfDGDKfA") &&
	           c->validated == 1417435558 && c->error == NULL,
	       "authorization: its one challenge, every member");
	acme_authz_free(&a);
}

static void
test_challenge_examples(void)
{
	static const struct {
		const char *name, *doc, *type, *url, *token;
		enum acme_status status;
	} cases[] = {
	    {"RFC 8555 §8.3 http-01",
	     "{\"type\": \"http-01\",\"url\": "
	     "\"https://example.com/acme/chall/prV_B7yEyA4\",\"status\": "
	     "\"pending\",\"token\": "
	     "\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0\"}",
	     "http-01", "https://example.com/acme/chall/prV_B7yEyA4",
	     "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0",
	     ACME_STATUS_PENDING},
	    {"RFC 8555 §7.5.1 challenge response (processing)",
	     "{\"type\": \"http-01\",\"url\": "
	     "\"https://example.com/acme/chall/prV_B7yEyA4\",\"status\": "
	     "\"processing\",\"token\": "
	     "\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0\"}",
	     "http-01", "https://example.com/acme/chall/prV_B7yEyA4",
	     "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0",
	     ACME_STATUS_PROCESSING},
	    {"RFC 8737 §3 tls-alpn-01",
	     "{\"type\": \"tls-alpn-01\",\"url\": "
	     "\"https://example.com/acme/authz/1234/1\",\"status\": "
	     "\"pending\",\"token\": "
	     "\"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA\"}",
	     "tls-alpn-01", "https://example.com/acme/authz/1234/1",
	     "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
	     ACME_STATUS_PENDING},
	    {"another type without a token",
	     "{\"type\": \"x-new-01\",\"url\": \"https://ca/c/9\",\"status\": "
	     "\"invalid\"}",
	     "x-new-01", "https://ca/c/9", NULL, ACME_STATUS_INVALID},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acme_challenge c;
		bool ok;

		if (!tap_ok(acme_challenge_parse(S(cases[i].doc), &c, NULL,
		                                 0) == 0,
		            "%s parses", cases[i].name))
			continue;
		ok = streq(c.type, cases[i].type) &&
		    streq(c.url, cases[i].url) && c.status == cases[i].status &&
		    (cases[i].token == NULL ? c.token == NULL :
		                              streq(c.token, cases[i].token));
		tap_ok(ok, "%s: type, url, status, token", cases[i].name);
		acme_challenge_free(&c);
	}
}

static void
test_problem_example(void)
{
	/* RFC 8555 §6.7.1. */
	const char *doc =
	    "{\n"
	    "  \"type\": \"urn:ietf:params:acme:error:malformed\",\n"
	    "  \"detail\": \"Some of the identifiers requested were "
	    "rejected\",\n"
	    "  \"subproblems\": [\n"
	    "    {\n"
	    "      \"type\": \"urn:ietf:params:acme:error:malformed\",\n"
	    "      \"detail\": \"Invalid underscore in DNS name "
	    "\\\"_example.org\\\"\",\n"
	    "      \"identifier\": {\n"
	    "        \"type\": \"dns\",\n"
	    "        \"value\": \"_example.org\"\n"
	    "      }\n"
	    "    },\n"
	    "    {\n"
	    "      \"type\": \"urn:ietf:params:acme:error:rejectedIdentifier\",\n"
	    "      \"detail\": \"This CA will not issue for "
	    "\\\"example.net\\\"\",\n"
	    "      \"identifier\": {\n"
	    "        \"type\": \"dns\",\n"
	    "        \"value\": \"example.net\"\n"
	    "      }\n"
	    "    }\n"
	    "  ]\n"
	    "}\n";
	struct acme_problem p;

	if (!tap_ok(acme_problem_parse(S(doc), &p, NULL, 0) == 0,
	            "RFC 8555 §6.7.1 problem with subproblems parses"))
		return;
	tap_ok(p.kind == ACME_PROBLEM_MALFORMED && p.status == 0 &&
	           streq(p.detail,
	                 "Some of the identifiers requested were rejected"),
	       "problem: malformed, its detail");
	tap_ok(p.nsub == 2 && p.sub[0].kind == ACME_PROBLEM_MALFORMED &&
	           streq(p.sub[0].detail,
	                 "Invalid underscore in DNS name \"_example.org\"") &&
	           p.sub[0].id != NULL &&
	           streq(p.sub[0].id->value, "_example.org") &&
	           p.sub[1].kind == ACME_PROBLEM_REJECTED_IDENTIFIER &&
	           p.sub[1].id != NULL &&
	           streq(p.sub[1].id->value, "example.net"),
	       "problem: both subproblems with kinds and identifiers");
	acme_problem_free(&p);
}

static void
test_problem_kinds(void)
{
	static const struct {
		const char *name, *doc;
		enum acme_problem_type kind;
		int status;
		const char *detail;
	} cases[] = {
	    {"§6.5 badNonce",
	     "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":"
	     "\"JWS has an invalid anti-replay nonce\",\"status\":400}",
	     ACME_PROBLEM_BAD_NONCE, 400,
	     "JWS has an invalid anti-replay nonce"},
	    {"§6.6 rateLimited",
	     "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":"
	     "\"too many new orders recently\",\"status\":429}",
	     ACME_PROBLEM_RATE_LIMITED, 429, "too many new orders recently"},
	    {"RFC 7807 about:blank (no type)", "{\"status\":500}",
	     ACME_PROBLEM_OTHER, 500, NULL},
	    {"a type outside the ACME namespace",
	     "{\"type\":\"https://example.com/probs/out-of-credit\"}",
	     ACME_PROBLEM_OTHER, 0, NULL},
	    {"an unknown ACME error",
	     "{\"type\":\"urn:ietf:params:acme:error:fooBar\"}",
	     ACME_PROBLEM_OTHER, 0, NULL},
	    {"the urn alone", "{\"type\":\"urn:ietf:params:acme:error:\"}",
	     ACME_PROBLEM_OTHER, 0, NULL},
	    {"a detail's control characters are shown as '?'",
	     "{\"detail\":\"line\\none\\u001b[31m\"}", ACME_PROBLEM_OTHER, 0,
	     "line?one?[31m"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acme_problem p;
		bool ok;

		if (!tap_ok(acme_problem_parse(S(cases[i].doc), &p, NULL, 0) ==
		                0,
		            "problem: %s parses", cases[i].name))
			continue;
		ok = p.kind == cases[i].kind && p.status == cases[i].status &&
		    (cases[i].detail == NULL ?
		         p.detail == NULL :
		         streq(p.detail, cases[i].detail));
		tap_ok(ok, "problem: %s: kind, status, detail", cases[i].name);
		acme_problem_free(&p);
	}
}

/* A detail over the cap is cut, at a UTF-8 boundary, not refused. */
static void
test_problem_long_detail(void)
{
	static char doc[8192];
	struct acme_problem p;
	size_t n = 0, i, len;

	n += (size_t)snprintf(doc, sizeof(doc), "{\"detail\":\"x");
	for (i = 0; i < 1500; i++) {
		memcpy(doc + n, "\xc3\xa9", 2); /* é, two octets */
		n += 2;
	}
	memcpy(doc + n, "\"}", 3);
	if (!tap_ok(acme_problem_parse(doc, strlen(doc), &p, NULL, 0) == 0,
	            "problem: a 3001-octet detail is accepted"))
		return;
	len = strlen(p.detail);
	/* "x" then whole é's: an odd length; a split é would make it even. */
	tap_ok(len <= ACME_TEXT_MAX && len >= ACME_TEXT_MAX - 3 && len % 2 == 1,
	       "problem: ... cut to %zu octets at a character boundary", len);
	acme_problem_free(&p);
}

static void
test_renewal_info_example(void)
{
	/* RFC 9773 §4.2. */
	const char *doc = "{\n"
			  "  \"suggestedWindow\": {\n"
			  "    \"start\": \"2025-01-02T04:00:00Z\",\n"
			  "    \"end\": \"2025-01-03T04:00:00Z\"\n"
			  "  },\n"
			  "  \"explanationURL\": "
			  "\"https://acme.example.com/docs/ari\"\n"
			  "}\n";
	struct acme_renewal_info r;

	if (!tap_ok(acme_renewal_info_parse(S(doc), &r, NULL, 0) == 0,
	            "RFC 9773 §4.2 renewalInfo parses"))
		return;
	tap_ok(r.start == 1735790400 && r.end == 1735876800 &&
	           streq(r.explanation_url,
	                 "https://acme.example.com/docs/ari"),
	       "renewalInfo: window 2025-01-02T04:00Z .. 2025-01-03T04:00Z, "
	       "explanationURL");
	acme_renewal_info_free(&r);
}

/* ---- refusals and acceptances, table-driven ---- */

enum which { DIR, ACC, ORD, AUTHZ, CHAL, PROB, ARI };

/* Parses, frees; 0 or -1.  On a refusal checks *out was not written. */
static int
parse(enum which w, const char *doc, size_t len, char *why, size_t n,
      bool *untouched)
{
	union {
		struct acme_directory d;
		struct acme_account a;
		struct acme_order o;
		struct acme_authz z;
		struct acme_challenge c;
		struct acme_problem p;
		struct acme_renewal_info r;
	} u;
	const unsigned char *b = (const unsigned char *)&u;
	size_t i;
	int rc = -1;

	memset(&u, 0xa5, sizeof(u));
	switch (w) {
	case DIR:
		if ((rc = acme_directory_parse(doc, len, &u.d, why, n)) == 0)
			acme_directory_free(&u.d);
		break;
	case ACC:
		if ((rc = acme_account_parse(doc, len, &u.a, why, n)) == 0)
			acme_account_free(&u.a);
		break;
	case ORD:
		if ((rc = acme_order_parse(doc, len, &u.o, why, n)) == 0)
			acme_order_free(&u.o);
		break;
	case AUTHZ:
		if ((rc = acme_authz_parse(doc, len, &u.z, why, n)) == 0)
			acme_authz_free(&u.z);
		break;
	case CHAL:
		if ((rc = acme_challenge_parse(doc, len, &u.c, why, n)) == 0)
			acme_challenge_free(&u.c);
		break;
	case PROB:
		if ((rc = acme_problem_parse(doc, len, &u.p, why, n)) == 0)
			acme_problem_free(&u.p);
		break;
	case ARI:
		if ((rc = acme_renewal_info_parse(doc, len, &u.r, why, n)) == 0)
			acme_renewal_info_free(&u.r);
		break;
	}
	*untouched = true;
	for (i = 0; i < sizeof(u); i++)
		if (b[i] != 0xa5)
			*untouched = false;
	return rc;
}

#define DIR_OK                                                                 \
	"\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\","       \
	"\"newOrder\":\"https://ca/o\""
#define ID_OK   "\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}]"
#define AUTH_OK "\"authorizations\":[\"https://ca/z/1\"]"
#define FIN_OK  "\"finalize\":\"https://ca/f\""
#define IDENT   "\"identifier\":{\"type\":\"dns\",\"value\":\"a.example\"}"
#define ALPN(tok)                                                              \
	"{\"type\":\"tls-alpn-01\",\"url\":\"https://ca/c/1\",\"status\":"     \
	"\"pending\",\"token\":" tok "}"

static void
test_table(void)
{
	static const struct {
		const char *name;
		enum which w;
		const char *doc;
		const char *why; /* a word the message holds; NULL: accepted */
	} cases[] = {
	    /* documents */
	    {"not JSON", DIR, "{\"newNonce\":", "not JSON"},
	    {"an array, not an object", DIR, "[1,2]", "not a JSON object"},
	    {"a string, not an object", PROB, "\"x\"", "not JSON"},
	    {"empty input", ACC, "", "not JSON"},
	    {"duplicate members", ACC,
	     "{\"status\":\"valid\",\"status\":\"revoked\"}", "not JSON"},
	    {"a NUL escape in a string", PROB, "{\"detail\":\"a\\u0000b\"}",
	     "not JSON"},
	    /* directory */
	    {"directory: unknown members ignored", DIR,
	     "{" DIR_OK ",\"x\":[1,{\"y\":null}],\"newAuthz\":5}", NULL},
	    {"directory: newNonce missing", DIR,
	     "{\"newAccount\":\"https://ca/a\",\"newOrder\":\"https://ca/o\"}",
	     "newNonce"},
	    {"directory: newOrder a number", DIR,
	     "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\","
	     "\"newOrder\":5}",
	     "newOrder is not a string"},
	    {"directory: newAccount empty", DIR,
	     "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"\","
	     "\"newOrder\":\"https://ca/o\"}",
	     "newAccount"},
	    {"directory: a URL with a space", DIR,
	     "{" DIR_OK ",\"keyChange\":\"https://ca/k k\"}", "keyChange"},
	    {"directory: a URL with a control byte", DIR,
	     "{" DIR_OK ",\"revokeCert\":\"https://ca/\\u0001\"}",
	     "revokeCert"},
	    {"directory: renewalInfo an object", DIR,
	     "{" DIR_OK ",\"renewalInfo\":{}}", "renewalInfo"},
	    {"directory: meta a string", DIR, "{" DIR_OK ",\"meta\":\"x\"}",
	     "meta is not an object"},
	    {"directory: externalAccountRequired a string", DIR,
	     "{" DIR_OK ",\"meta\":{\"externalAccountRequired\":\"yes\"}}",
	     "externalAccountRequired is not a boolean"},
	    {"directory: termsOfService a number", DIR,
	     "{" DIR_OK ",\"meta\":{\"termsOfService\":1}}", "termsOfService"},
	    {"directory: an optional member null counts as absent", DIR,
	     "{" DIR_OK ",\"keyChange\":null}", NULL},
	    {"directory: a required member null is missing", DIR,
	     "{\"newNonce\":null,\"newAccount\":\"https://ca/a\","
	     "\"newOrder\":\"https://ca/o\"}",
	     "newNonce"},
	    /* account */
	    {"account: status missing", ACC, "{\"orders\":\"https://ca/o\"}",
	     "status is missing"},
	    {"account: status pending (an order's)", ACC,
	     "{\"status\":\"pending\"}", "status"},
	    {"account: status unknown", ACC, "{\"status\":\"active\"}",
	     "status"},
	    {"account: status a number", ACC, "{\"status\":1}",
	     "status is not a string"},
	    {"account: orders a number", ACC,
	     "{\"status\":\"valid\",\"orders\":5}", "orders"},
	    {"account: no orders (Let's Encrypt)", ACC,
	     "{\"status\":\"deactivated\"}", NULL},
	    /* order */
	    {"order: minimal pending", ORD,
	     "{\"status\":\"pending\"," ID_OK "," AUTH_OK "," FIN_OK "}", NULL},
	    {"order: finalize missing", ORD,
	     "{\"status\":\"pending\"," ID_OK "," AUTH_OK "}", "finalize"},
	    {"order: identifiers missing", ORD,
	     "{\"status\":\"pending\"," AUTH_OK "," FIN_OK "}", "identifiers"},
	    {"order: identifiers empty", ORD,
	     "{\"status\":\"pending\",\"identifiers\":[]," AUTH_OK "," FIN_OK
	     "}",
	     "identifiers is empty"},
	    {"order: identifiers an object", ORD,
	     "{\"status\":\"pending\",\"identifiers\":{}," AUTH_OK "," FIN_OK
	     "}",
	     "identifiers is not an array"},
	    {"order: an identifier without value", ORD,
	     "{\"status\":\"pending\",\"identifiers\":[{\"type\":\"dns\"}]," AUTH_OK
	     "," FIN_OK "}",
	     "value is missing"},
	    {"order: an identifier a string", ORD,
	     "{\"status\":\"pending\",\"identifiers\":[\"a.example\"]," AUTH_OK
	     "," FIN_OK "}",
	     "identifiers[]: not an object"},
	    {"order: an authorization a number", ORD,
	     "{\"status\":\"pending\"," ID_OK
	     ",\"authorizations\":[\"https://ca/z/1\",7]," FIN_OK "}",
	     "authorizations[] is not a string"},
	    {"order: authorizations empty", ORD,
	     "{\"status\":\"pending\"," ID_OK ",\"authorizations\":[]," FIN_OK
	     "}",
	     "authorizations is empty"},
	    {"order: expires not RFC 3339", ORD,
	     "{\"status\":\"pending\",\"expires\":\"2016-01-20\"," ID_OK
	     "," AUTH_OK "," FIN_OK "}",
	     "expires is not an RFC 3339"},
	    {"order: expires a number", ORD,
	     "{\"status\":\"pending\",\"expires\":1453298947," ID_OK "," AUTH_OK
	     "," FIN_OK "}",
	     "expires is not a string"},
	    {"order: valid without certificate", ORD,
	     "{\"status\":\"valid\"," ID_OK "," AUTH_OK "," FIN_OK "}",
	     "without a certificate"},
	    {"order: status expired (an authorization's)", ORD,
	     "{\"status\":\"expired\"," ID_OK "," AUTH_OK "," FIN_OK "}",
	     "status"},
	    {"order: error a string", ORD,
	     "{\"status\":\"invalid\"," ID_OK "," AUTH_OK "," FIN_OK
	     ",\"error\":\"boom\"}",
	     "error is not an object"},
	    {"order: error with a bad status", ORD,
	     "{\"status\":\"invalid\"," ID_OK "," AUTH_OK "," FIN_OK
	     ",\"error\":{\"status\":\"429\"}}",
	     "status is not an integer"},
	    /* authorization */
	    {"authorization: pending with tls-alpn-01", AUTHZ,
	     "{\"status\":\"pending\"," IDENT ",\"challenges\":[" ALPN(
		 "\"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA\"") "]}",
	     NULL},
	    {"authorization: no challenges (valid, some CAs)", AUTHZ,
	     "{\"status\":\"valid\"," IDENT ",\"challenges\":[]}", NULL},
	    {"authorization: identifier missing", AUTHZ,
	     "{\"status\":\"pending\",\"challenges\":[]}", "identifier"},
	    {"authorization: challenges missing", AUTHZ,
	     "{\"status\":\"pending\"," IDENT "}", "challenges is missing"},
	    {"authorization: challenges an object", AUTHZ,
	     "{\"status\":\"pending\"," IDENT ",\"challenges\":{}}",
	     "challenges is not an array"},
	    {"authorization: wildcard a string", AUTHZ,
	     "{\"status\":\"pending\"," IDENT
	     ",\"challenges\":[],\"wildcard\":\"no\"}",
	     "wildcard is not a boolean"},
	    {"authorization: status ready (an order's)", AUTHZ,
	     "{\"status\":\"ready\"," IDENT ",\"challenges\":[]}", "status"},
	    {"authorization: a challenge with a bad token", AUTHZ,
	     "{\"status\":\"pending\"," IDENT
	     ",\"challenges\":[" ALPN("\"bad token!\"") "]}",
	     "token is not a base64url"},
	    /* challenge */
	    {"challenge: token with padding", CHAL, ALPN("\"abc=\""),
	     "token is not a base64url"},
	    {"challenge: token with '+' (base64, not base64url)", CHAL,
	     ALPN("\"ab+c\""), "token"},
	    {"challenge: token with '/'", CHAL, ALPN("\"ab/c\""), "token"},
	    {"challenge: token with '.' (path traversal)", CHAL,
	     ALPN("\"../etc\""), "token"},
	    {"challenge: token empty", CHAL, ALPN("\"\""), "token"},
	    {"challenge: token a number", CHAL, ALPN("42"),
	     "token is not a string"},
	    {"challenge: tls-alpn-01 without token", CHAL,
	     "{\"type\":\"tls-alpn-01\",\"url\":\"https://ca/c/1\","
	     "\"status\":\"pending\"}",
	     "token is missing"},
	    {"challenge: url missing", CHAL,
	     "{\"type\":\"http-01\",\"status\":\"pending\",\"token\":\"abc\"}",
	     "url is missing"},
	    {"challenge: type missing", CHAL,
	     "{\"url\":\"https://ca/c/1\",\"status\":\"pending\"}",
	     "type is missing"},
	    {"challenge: status deactivated (an authorization's)", CHAL,
	     "{\"type\":\"x\",\"url\":\"https://ca/c/1\",\"status\":"
	     "\"deactivated\"}",
	     "status"},
	    {"challenge: validated not a date-time", CHAL,
	     "{\"type\":\"x\",\"url\":\"https://ca/c/1\",\"status\":"
	     "\"valid\",\"validated\":\"yesterday\"}",
	     "validated is not an RFC 3339"},
	    {"challenge: an error with subproblems", CHAL,
	     "{\"type\":\"x\",\"url\":\"https://ca/c/1\",\"status\":"
	     "\"invalid\",\"error\":{\"type\":"
	     "\"urn:ietf:params:acme:error:connection\",\"subproblems\":"
	     "[{\"detail\":\"d\"}]}}",
	     NULL},
	    /* problem */
	    {"problem: type a number", PROB, "{\"type\":3}",
	     "type is not a string"},
	    {"problem: status 42", PROB, "{\"status\":42}",
	     "not an HTTP status"},
	    {"problem: status a float", PROB, "{\"status\":400.0}",
	     "status is not an integer"},
	    {"problem: detail an array", PROB, "{\"detail\":[]}",
	     "detail is not a string"},
	    {"problem: subproblems an object", PROB, "{\"subproblems\":{}}",
	     "subproblems is not an array"},
	    {"problem: a subproblem a string", PROB,
	     "{\"subproblems\":[\"x\"]}", "subproblems[]: not an object"},
	    {"problem: a subproblem's identifier a string", PROB,
	     "{\"subproblems\":[{\"identifier\":\"a.example\"}]}",
	     "identifier is not an object"},
	    {"problem: a subproblem's identifier without type", PROB,
	     "{\"subproblems\":[{\"identifier\":{\"value\":\"a\"}}]}",
	     "type is missing"},
	    {"problem: empty object", PROB, "{}", NULL},
	    /* renewalInfo */
	    {"renewalInfo: suggestedWindow missing", ARI,
	     "{\"explanationURL\":\"https://ca/x\"}", "suggestedWindow"},
	    {"renewalInfo: suggestedWindow an array", ARI,
	     "{\"suggestedWindow\":[]}", "suggestedWindow is not an object"},
	    {"renewalInfo: end missing", ARI,
	     "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\"}}",
	     "end is missing"},
	    {"renewalInfo: end == start (RFC 9773 §4.2)", ARI,
	     "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\","
	     "\"end\":\"2025-01-02T04:00:00Z\"}}",
	     "end is not after start"},
	    {"renewalInfo: end before start", ARI,
	     "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\","
	     "\"end\":\"2025-01-02T04:00:00Z\"}}",
	     "end is not after start"},
	    {"renewalInfo: start without a zone", ARI,
	     "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00\","
	     "\"end\":\"2025-01-03T04:00:00Z\"}}",
	     "start is not an RFC 3339"},
	    {"renewalInfo: start 2025-02-29", ARI,
	     "{\"suggestedWindow\":{\"start\":\"2025-02-29T04:00:00Z\","
	     "\"end\":\"2025-03-03T04:00:00Z\"}}",
	     "start is not an RFC 3339"},
	    {"renewalInfo: end a number", ARI,
	     "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\","
	     "\"end\":1735876800}}",
	     "end is not a string"},
	    {"renewalInfo: offsets compared in UTC", ARI,
	     "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\","
	     "\"end\":\"2025-01-02T05:00:00+02:00\"}}",
	     "end is not after start"},
	    {"renewalInfo: explanationURL a number", ARI,
	     "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\","
	     "\"end\":\"2025-01-03T04:00:00Z\"},\"explanationURL\":1}",
	     "explanationURL"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[ACME_WHY_MAX] = "";
		bool untouched;
		int rc = parse(cases[i].w, S(cases[i].doc), why, sizeof(why),
		               &untouched);

		if (cases[i].why == NULL) {
			if (!tap_ok(rc == 0, "accepted: %s", cases[i].name))
				tap_diag("%s", why);
			continue;
		}
		if (!tap_ok(rc == -1 && strstr(why, cases[i].why) != NULL &&
		                untouched,
		            "refused: %s", cases[i].name))
			tap_diag("rc %d, why \"%s\", want \"%s\"%s", rc, why,
			         cases[i].why,
			         untouched ? "" : ", out written");
	}
}

/* ---- caps ---- */

/* `n` octets: prefix, then `fill` up to n - strlen(suffix), suffix. */
static char *
padded(const char *prefix, char fill, const char *suffix, size_t n)
{
	char *s = malloc(n + 1);
	size_t a = strlen(prefix), b = strlen(suffix);

	if (s == NULL)
		abort();
	memcpy(s, prefix, a);
	memset(s + a, fill, n - a - b);
	memcpy(s + n - b, suffix, b + 1);
	return s;
}

static void
test_caps(void)
{
	char why[ACME_WHY_MAX];
	char *doc, *list;
	bool untouched;
	size_t i, n;

	/* A document of exactly the cap parses; one octet more does not. */
	doc = padded("{" DIR_OK, ' ', "}", ACME_JSON_MAX_DOC);
	tap_ok(parse(DIR, doc, strlen(doc), why, sizeof(why), &untouched) == 0,
	       "cap: a directory of %d octets parses", ACME_JSON_MAX_DOC);
	free(doc);
	doc = padded("{" DIR_OK, ' ', "}", ACME_JSON_MAX_DOC + 1);
	tap_ok(parse(DIR, doc, strlen(doc), why, sizeof(why), &untouched) ==
	               -1 &&
	           strstr(why, "document over") != NULL,
	       "cap: one octet more is refused before parsing");
	free(doc);

	/* A URL of ACME_URL_MAX octets is kept; one more is refused. */
	doc = padded("{" DIR_OK ",\"keyChange\":\"https://", 'a', "\"}",
	             strlen("{" DIR_OK ",\"keyChange\":\"\"}") + ACME_URL_MAX);
	tap_ok(parse(DIR, doc, strlen(doc), why, sizeof(why), &untouched) == 0,
	       "cap: a URL of %d octets is kept", ACME_URL_MAX);
	free(doc);
	doc = padded("{" DIR_OK ",\"keyChange\":\"https://", 'a', "\"}",
	             strlen("{" DIR_OK ",\"keyChange\":\"\"}") + ACME_URL_MAX +
	                 1);
	tap_ok(parse(DIR, doc, strlen(doc), why, sizeof(why), &untouched) ==
	               -1 &&
	           strstr(why, "keyChange") != NULL,
	       "cap: a URL of %d octets is refused", ACME_URL_MAX + 1);
	free(doc);

	/* A token of ACME_TOKEN_MAX octets; one more. */
	for (i = 0; i < 2; i++) {
		n = strlen(ALPN("\"\"")) + ACME_TOKEN_MAX + i;
		doc = padded("{\"type\":\"tls-alpn-01\",\"url\":\"https://ca/"
		             "c/1\",\"status\":\"pending\",\"token\":\"",
		             'A', "\"}", n);
		tap_ok(parse(CHAL, doc, strlen(doc), why, sizeof(why),
		             &untouched) == (i == 0 ? 0 : -1),
		       "cap: a token of %zu octets is %s",
		       (size_t)ACME_TOKEN_MAX + i, i == 0 ? "kept" : "refused");
		free(doc);
	}

	/* ACME_LIST_MAX authorizations; one more. */
	for (i = 0; i < 2; i++) {
		size_t k, cnt = ACME_LIST_MAX + i, off = 0;

		list = malloc(cnt * 20 + 1);
		doc = malloc(cnt * 20 + 256);
		if (list == NULL || doc == NULL)
			abort();
		for (k = 0; k < cnt; k++)
			off +=
			    (size_t)sprintf(list + off, "%s\"https://ca/%zu\"",
			                    k == 0 ? "" : ",", k);
		(void)sprintf(doc,
		              "{\"status\":\"pending\"," ID_OK
		              ",\"authorizations\":[%s]," FIN_OK "}",
		              list);
		tap_ok(parse(ORD, doc, strlen(doc), why, sizeof(why),
		             &untouched) == (i == 0 ? 0 : -1),
		       "cap: %zu authorizations are %s", cnt,
		       i == 0 ? "kept" : "refused");
		free(list);
		free(doc);
	}
}

/* ---- RFC 3339 and base64url ---- */

static void
test_time(void)
{
	static const struct {
		const char *s;
		int ok;
		int64_t want;
	} cases[] = {
	    {"1970-01-01T00:00:00Z", 1, 0},
	    {"2025-01-02T04:00:00Z", 1, 1735790400},
	    {"2025-01-02t04:00:00z", 1, 1735790400},
	    {"2025-01-02T06:00:00+02:00", 1, 1735790400},
	    {"2025-01-01T23:00:00-05:00", 1, 1735790400},
	    {"2025-01-02T04:00:00.123456789Z", 1, 1735790400},
	    {"2016-01-20T14:09:07.99Z", 1, 1453298947},
	    {"2016-12-31T23:59:60Z", 1, 1483228800},
	    {"2024-02-29T00:00:00Z", 1, 1709164800},
	    {"2000-02-29T00:00:00Z", 1, 951782400},
	    {"1969-12-31T23:59:59Z", 1, -1},
	    {"9999-12-31T23:59:59Z", 1, 253402300799},
	    {"2023-02-29T00:00:00Z", 0, 0},
	    {"1900-02-29T00:00:00Z", 0, 0},
	    {"2025-13-01T00:00:00Z", 0, 0},
	    {"2025-00-01T00:00:00Z", 0, 0},
	    {"2025-04-31T00:00:00Z", 0, 0},
	    {"2025-01-02T24:00:00Z", 0, 0},
	    {"2025-01-02T04:60:00Z", 0, 0},
	    {"2025-01-02T04:00:61Z", 0, 0},
	    {"2025-01-02 04:00:00Z", 0, 0},
	    {"2025-01-02T04:00:00", 0, 0},
	    {"2025-01-02T04:00:00.Z", 0, 0},
	    {"2025-01-02T04:00:00+0200", 0, 0},
	    {"2025-01-02T04:00:00+24:00", 0, 0},
	    {"2025-01-02T04:00:00+02:60", 0, 0},
	    {"2025-01-02T04:00:00+02:00x", 0, 0},
	    {"2025-01-02T04:00:00Zjunk", 0, 0},
	    {"2025-01-02", 0, 0},
	    {"", 0, 0},
	    {"2025-1-02T04:00:00Z", 0, 0},
	    {"+2025-01-02T04:00:00Z", 0, 0},
	    {"2025-01-02T4:00:00Z", 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t t = 12345;
		int rc = acme_time_parse(cases[i].s, &t);

		if (cases[i].ok)
			tap_ok(rc == 0 && t == cases[i].want,
			       "RFC 3339: \"%s\" is %lld (got %lld)",
			       cases[i].s, (long long)cases[i].want,
			       (long long)t);
		else
			tap_ok(rc == -1 && t == 12345,
			       "RFC 3339: \"%s\" refused, out untouched",
			       cases[i].s);
	}
	tap_ok(acme_time_parse(NULL, &(int64_t){0}) == -1,
	       "RFC 3339: NULL refused");
}

static void
test_token(void)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
	    {"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", true},
	    {"DGyRejmCefe7v4NfDGDKfA", true},
	    {"_-09azAZ", true},
	    {"", false},
	    {"abc=", false},
	    {"ab+c", false},
	    {"ab/c", false},
	    {"ab c", false},
	    {"ab.c", false},
	    {"ab\xc3\xa9", false},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(acme_token_valid(S(cases[i].s)) == cases[i].ok,
		       "base64url: \"%s\" %s", cases[i].s,
		       cases[i].ok ? "valid" : "invalid");
	tap_ok(!acme_token_valid(NULL, 3), "base64url: NULL invalid");
	tap_ok(streq(acme_status_name(ACME_STATUS_PROCESSING), "processing") &&
	           streq(acme_status_name((enum acme_status)99), "unknown"),
	       "status names");
}

int
main(void)
{
	test_directory_example();
	test_directory_ari();
	test_account_example();
	test_order_example();
	test_order_error();
	test_authz_example();
	test_challenge_examples();
	test_problem_example();
	test_problem_kinds();
	test_problem_long_detail();
	test_renewal_info_example();
	test_table();
	test_caps();
	test_time();
	test_token();
	return tap_done();
}
