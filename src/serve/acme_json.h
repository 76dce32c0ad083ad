/* SPDX-License-Identifier: ISC */
/*
 * The JSON documents an ACME server sends (RFC 8555), parsed with
 * jansson into C structs: the directory (§7.1.1), an account (§7.1.2),
 * an order (§7.1.3), an authorization (§7.1.4) with its challenges
 * (§7.1.5, §8), a problem document (§6.7, RFC 7807) and a renewalInfo
 * response (RFC 9773 §4.2).
 *
 * Pure: (buffer, length) in, a struct out; no I/O.  Every input is
 * capped: a document over ACME_JSON_MAX_DOC, a URL over ACME_URL_MAX, a
 * token over ACME_TOKEN_MAX or a list over ACME_LIST_MAX is refused;
 * human-readable text (a problem's detail) over ACME_TEXT_MAX is cut at a
 * UTF-8 boundary, its control characters shown as '?'.  Unknown members
 * are ignored (§7.1: clients MUST ignore them); a member of the wrong
 * type, a missing required member, an unknown status, a token that is
 * not base64url (§8.3, RFC 8737 §3) or a timestamp that is not RFC 3339
 * is refused with a message that names the member.
 *
 * Each parser returns 0 and fills *out, which then owns its strings
 * (free with the matching _free(), NULL-safe, which zeroes the struct),
 * or -1 with a message naming the member in why[0..why_size) and *out
 * untouched.  why may be NULL.
 */
#ifndef MTS_SERVE_ACME_JSON_H
#define MTS_SERVE_ACME_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACME_JSON_MAX_DOC (64 * 1024) /* a document, in octets */
#define ACME_URL_MAX      2048        /* a URL, in octets */
#define ACME_TOKEN_MAX    256  /* a challenge token: 43 octets in practice */
#define ACME_TEXT_MAX     1024 /* a detail, a type, an identifier value */
#define ACME_LIST_MAX                                                          \
	100              /* identifiers, authorizations, challenges,
                                  subproblems */
#define ACME_WHY_MAX 160 /* room for a message */

/* The status values of RFC 8555 §7.1.6; each object allows a subset. */
enum acme_status {
	ACME_STATUS_PENDING = 1,
	ACME_STATUS_READY,
	ACME_STATUS_PROCESSING,
	ACME_STATUS_VALID,
	ACME_STATUS_INVALID,
	ACME_STATUS_DEACTIVATED,
	ACME_STATUS_EXPIRED,
	ACME_STATUS_REVOKED
};

/* The status's name as in the documents ("pending"). */
const char *acme_status_name(enum acme_status s);

/* The error types of RFC 8555 §6.7 (urn:ietf:params:acme:error:...). */
enum acme_problem_type {
	ACME_PROBLEM_OTHER = 0, /* absent (about:blank) or another type */
	ACME_PROBLEM_ACCOUNT_DOES_NOT_EXIST,
	ACME_PROBLEM_ALREADY_REVOKED,
	ACME_PROBLEM_BAD_CSR,
	ACME_PROBLEM_BAD_NONCE, /* §6.5: retry with the fresh nonce */
	ACME_PROBLEM_BAD_PUBLIC_KEY,
	ACME_PROBLEM_BAD_REVOCATION_REASON,
	ACME_PROBLEM_BAD_SIGNATURE_ALGORITHM,
	ACME_PROBLEM_CAA,
	ACME_PROBLEM_COMPOUND,
	ACME_PROBLEM_CONNECTION,
	ACME_PROBLEM_DNS,
	ACME_PROBLEM_EXTERNAL_ACCOUNT_REQUIRED,
	ACME_PROBLEM_INCORRECT_RESPONSE,
	ACME_PROBLEM_INVALID_CONTACT,
	ACME_PROBLEM_MALFORMED,
	ACME_PROBLEM_ORDER_NOT_READY,
	ACME_PROBLEM_RATE_LIMITED, /* §6.6: wait for Retry-After */
	ACME_PROBLEM_REJECTED_IDENTIFIER,
	ACME_PROBLEM_SERVER_INTERNAL,
	ACME_PROBLEM_TLS,
	ACME_PROBLEM_UNAUTHORIZED,
	ACME_PROBLEM_UNSUPPORTED_CONTACT,
	ACME_PROBLEM_UNSUPPORTED_IDENTIFIER,
	ACME_PROBLEM_USER_ACTION_REQUIRED
};

/* An identifier (§9.7.7): type "dns" and a name. */
struct acme_identifier {
	char *type;  /* "dns" */
	char *value; /* "mta-sts.example.com" */
};

/* One subproblem (§6.7.1). */
struct acme_subproblem {
	enum acme_problem_type kind;
	char *type;                 /* as sent; NULL when absent */
	char *detail;               /* cut and cleaned; NULL when absent */
	struct acme_identifier *id; /* NULL when absent */
};

/* A problem document (§6.7, RFC 7807 §3.1). */
struct acme_problem {
	enum acme_problem_type kind;
	char *type;   /* as sent; NULL when absent ("about:blank") */
	char *detail; /* cut and cleaned; NULL when absent */
	int status;   /* the HTTP status it repeats; 0 when absent */
	struct acme_subproblem *sub;
	size_t nsub;
};

/* The directory (§7.1.1): URLs of the resources. */
struct acme_directory {
	char *new_nonce, *new_account, *new_order; /* required */
	char *revoke_cert, *key_change;            /* NULL when absent */
	char *renewal_info;     /* RFC 9773 §3; NULL when the CA has no ARI */
	char *terms_of_service; /* meta; NULL when absent */
	bool external_account_required; /* meta; false when absent */
};

/* An account (§7.1.2). */
struct acme_account {
	enum acme_status status; /* valid, deactivated or revoked */
	char *orders;            /* NULL when absent (Let's Encrypt) */
};

/* An order (§7.1.3). */
struct acme_order {
	enum acme_status status; /* pending ready processing valid invalid */
	int64_t expires;         /* seconds since the epoch; 0 when absent */
	struct acme_identifier *ids; /* at least one */
	size_t nids;
	char **authorizations; /* URLs; at least one */
	size_t nauthz;
	char *finalize;
	char *certificate;          /* NULL until the order is valid */
	struct acme_problem *error; /* NULL when absent */
};

/* A challenge (§7.1.5, §8). */
struct acme_challenge {
	char *type; /* "tls-alpn-01", "http-01", "dns-01", or another */
	char *url;
	enum acme_status status; /* pending processing valid invalid */
	char *token;       /* base64url; required for the three types above,
	                  NULL when another type has none */
	int64_t validated; /* 0 when absent */
	struct acme_problem *error; /* NULL when absent */
};

/* An authorization (§7.1.4). */
struct acme_authz {
	struct acme_identifier id;
	enum acme_status status;
	int64_t expires; /* 0 when absent */
	struct acme_challenge *challenges;
	size_t nchallenges;
	bool wildcard;
};

/* A renewalInfo response (RFC 9773 §4.2). */
struct acme_renewal_info {
	int64_t start, end;    /* suggestedWindow, start < end */
	char *explanation_url; /* NULL when absent */
};

int acme_directory_parse(const char *buf, size_t len,
                         struct acme_directory *out, char *why,
                         size_t why_size);
void acme_directory_free(struct acme_directory *d);

int acme_account_parse(const char *buf, size_t len, struct acme_account *out,
                       char *why, size_t why_size);
void acme_account_free(struct acme_account *a);

int acme_order_parse(const char *buf, size_t len, struct acme_order *out,
                     char *why, size_t why_size);
void acme_order_free(struct acme_order *o);

int acme_authz_parse(const char *buf, size_t len, struct acme_authz *out,
                     char *why, size_t why_size);
void acme_authz_free(struct acme_authz *a);

/* A challenge alone: the answer to a POST to its URL (§7.5.1). */
int acme_challenge_parse(const char *buf, size_t len,
                         struct acme_challenge *out, char *why,
                         size_t why_size);
void acme_challenge_free(struct acme_challenge *c);

int acme_problem_parse(const char *buf, size_t len, struct acme_problem *out,
                       char *why, size_t why_size);
void acme_problem_free(struct acme_problem *p);

/*
 * A renewalInfo response: the window's end at or before its start is
 * refused (RFC 9773 §4.2: the client treats it as no answer).
 */
int acme_renewal_info_parse(const char *buf, size_t len,
                            struct acme_renewal_info *out, char *why,
                            size_t why_size);
void acme_renewal_info_free(struct acme_renewal_info *r);

/*
 * An RFC 3339 date-time (§5.6: "2025-01-02T04:00:00Z", 't' or 'T', 'z',
 * 'Z' or a numeric offset, fractions of a second dropped, second 60 as
 * the next second) as seconds since the epoch, without the C library's
 * time zone functions: 0 and *out, or -1 (*out untouched).
 */
int acme_time_parse(const char *s, int64_t *out);

/* Whether s[0..n) is a non-empty string of base64url characters
   (RFC 4648 §5, no padding): what a token must be (RFC 8555 §8.3). */
bool acme_token_valid(const char *s, size_t n);

#endif /* MTS_SERVE_ACME_JSON_H */
