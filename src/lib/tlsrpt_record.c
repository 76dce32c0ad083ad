/* SPDX-License-Identifier: ISC */
/*
 * The _smtp._tls TXT record of RFC 8460 §3: parsing one record
 * (`tlsrpt-record`) into its usable report destinations, the
 * "begins with v=TLSRPTv1;" filter and the choice of the one record in
 * an RRset, and the query name.  The tokenizer is shared with MTA-STS
 * (tagval.c); this file gives meaning to the fields: "rua" (required, a
 * list of RFC 3986 URIs) and extensions, which "SHALL be ignored".
 *
 * Each rua URI is checked against the `URI` rule of RFC 3986 §3, then
 * against what RFC 8460 §3 adds: "!" (like "," and ";") MUST be
 * percent-encoded, and only the mailto (RFC 6068) and https schemes are
 * defined.  A URI that breaks the grammar makes the record invalid; a
 * grammatical URI that cannot be used is dropped with a warning, so one
 * odd destination does not cost the domain its other reports.
 *
 * Positions (checklist §24): several rua fields are merged and repeated
 * URIs kept once (A15); a record without rua, or with no usable
 * destination left, is invalid (A15, RPT-TXT-4, RPT-TXT-8); WSP before
 * the first ";" is accepted (A2); trailing WSP is trimmed (A3).
 */
#include <stdlib.h>
#include <string.h>

#include <mtasts/dname.h>
#include <mtasts/tlsrpt.h>

#include "internal.h"
#include "tagval.h"

/* ---- RFC 3986 URI syntax ---- */

/* The parts of a URI the scheme checks need, as spans of the input. */
struct uri {
	size_t scheme_len;
	bool has_authority; /* hier-part = "//" authority path-abempty */
	const char *host;   /* the host of the authority */
	size_t host_len;
	const char *path; /* of the hier-part */
	size_t path_len;
};

static bool
is_hex(unsigned char c)
{
	return mts_is_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (§2.3) */
static bool
is_unreserved(unsigned char c)
{
	return mts_is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," /
 * ";" / "=" (§2.2) */
static bool
is_sub_delim(unsigned char c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/*
 * True when s[0..len) is *( unreserved / pct-encoded / sub-delims /
 * any byte of `extra` ), the shape of userinfo, reg-name, segments,
 * query and fragment (§3.2.1, §3.2.2, §3.3, §3.4, §3.5).
 */
static bool
chars_ok(const char *s, size_t len, const char *extra)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			/* pct-encoded = "%" HEXDIG HEXDIG (§2.1) */
			if (len - i < 3 || !is_hex((unsigned char)s[i + 1]) ||
			    !is_hex((unsigned char)s[i + 2]))
				return false;
			i += 2;
		} else if (!is_unreserved(c) && !is_sub_delim(c) &&
		           (c == '\0' || strchr(extra, c) == NULL)) {
			return false;
		}
	}
	return true;
}

/* dec-octet "." dec-octet "." dec-octet "." dec-octet (§3.2.2): 0-255,
 * no leading zero. */
static bool
ipv4_ok(const char *s, size_t len)
{
	size_t i = 0, part;

	for (part = 0; part < 4; part++) {
		size_t start;
		unsigned v = 0;

		if (part > 0 && (i >= len || s[i++] != '.'))
			return false;
		start = i;
		while (i < len && mts_is_digit((unsigned char)s[i]) &&
		       i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return false;
	}
	return i == len;
}

/*
 * IPv6address (§3.2.2): eight h16 groups separated by ":", the last two
 * possibly an IPv4address, at most one "::" standing for one or more
 * zero groups.
 */
static bool
ipv6_ok(const char *s, size_t len)
{
	size_t i = 0, groups = 0;
	bool elided = false;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		elided = true;
		i = 2;
	} else if (len == 0 || s[0] == ':') {
		return false;
	}
	while (i < len) {
		size_t j = i;

		while (j < len && j - i < 5 && is_hex((unsigned char)s[j]))
			j++;
		if (j < len && s[j] == '.') {
			/* ls32 = ( h16 ":" h16 ) / IPv4address */
			if (!ipv4_ok(s + i, len - i))
				return false;
			groups += 2;
			break;
		}
		if (j == i || j - i > 4)
			return false;
		groups++;
		if ((i = j) == len)
			break;
		if (s[i++] != ':' || i == len)
			return false;
		if (s[i] == ':') {
			if (elided)
				return false;
			elided = true;
			i++;
		}
	}
	return elided ? groups <= 7 : groups == 8;
}

/* IP-literal = "[" ( IPv6address / IPvFuture ) "]" (§3.2.2), given the
 * text between the brackets. */
static bool
ip_literal_ok(const char *s, size_t len)
{
	size_t i = 1;

	if (len == 0 || (s[0] != 'v' && s[0] != 'V'))
		return ipv6_ok(s, len);
	/* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
	while (i < len && is_hex((unsigned char)s[i]))
		i++;
	if (i == 1 || i == len || s[i] != '.' || i + 1 == len)
		return false;
	return chars_ok(s + i + 1, len - i - 1, ":") &&
	    memchr(s + i + 1, '%', len - i - 1) == NULL;
}

static bool
port_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!mts_is_digit((unsigned char)s[i]))
			return false;
	return true;
}

/* authority = [ userinfo "@" ] host [ ":" port ] (§3.2) */
static const char *
authority_check(const char *s, size_t len, struct uri *u)
{
	const char *at = memchr(s, '@', len), *colon;
	size_t hlen;

	if (at != NULL) {
		if (!chars_ok(s, (size_t)(at - s), ":"))
			return "bad character in the userinfo";
		len -= (size_t)(at - s) + 1;
		s = at + 1;
	}
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL ||
		    !ip_literal_ok(s + 1, (size_t)(close - s) - 1))
			return "bad IP literal";
		hlen = (size_t)(close - s) + 1;
		if (hlen < len && s[hlen] != ':')
			return "text after the IP literal";
	} else {
		colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		if (!chars_ok(s, hlen, ""))
			return "bad character in the host";
	}
	if (hlen < len && !port_ok(s + hlen + 1, len - hlen - 1))
		return "bad port";
	u->host = s;
	u->host_len = hlen;
	return NULL;
}

/*
 * hier-part = "//" authority path-abempty / path-absolute /
 * path-rootless / path-empty (§3).  Past the "//" test, all three path
 * forms together are *( pchar / "/" ); pchar = unreserved / pct-encoded
 * / sub-delims / ":" / "@".
 */
static const char *
hier_check(const char *s, size_t len, struct uri *u)
{
	if (len >= 2 && s[0] == '/' && s[1] == '/') {
		const char *slash = memchr(s + 2, '/', len - 2), *err;
		size_t alen = slash != NULL ? (size_t)(slash - s) - 2 : len - 2;

		u->has_authority = true;
		if ((err = authority_check(s + 2, alen, u)) != NULL)
			return err;
		s += 2 + alen;
		len -= 2 + alen;
	}
	if (!chars_ok(s, len, ":@/"))
		return "bad character in the path";
	u->path = s;
	u->path_len = len;
	return NULL;
}

/*
 * URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ] (§3).
 * Returns NULL and fills *u, or a constant reason.
 */
static const char *
uri_check(const char *s, size_t len, struct uri *u)
{
	const char *colon, *end, *q;
	size_t i;

	memset(u, 0, sizeof(*u));
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (§3.1) */
	if ((colon = memchr(s, ':', len)) == NULL || colon == s)
		return "no scheme";
	u->scheme_len = (size_t)(colon - s);
	if (!mts_is_alpha((unsigned char)s[0]))
		return "bad scheme";
	for (i = 1; i < u->scheme_len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!mts_is_alnum(c) && c != '+' && c != '-' && c != '.')
			return "bad scheme";
	}
	end = s + len;
	/* fragment = *( pchar / "/" / "?" ) (§3.5) */
	if ((q = memchr(colon, '#', (size_t)(end - colon))) != NULL) {
		if (!chars_ok(q + 1, (size_t)(end - q) - 1, ":@/?"))
			return "bad character in the fragment";
		end = q;
	}
	/* query = *( pchar / "/" / "?" ) (§3.4) */
	if ((q = memchr(colon, '?', (size_t)(end - colon))) != NULL) {
		if (!chars_ok(q + 1, (size_t)(end - q) - 1, ":@/?"))
			return "bad character in the query";
		end = q;
	}
	return hier_check(colon + 1, (size_t)(end - colon) - 1, u);
}

/* ---- RFC 8460 §3: the schemes ---- */

static bool
scheme_is(const char *s, const struct uri *u, const char *name)
{
	size_t i;

	if (u->scheme_len != strlen(name))
		return false;
	/* Schemes are case-insensitive (RFC 3986 §3.1), RPT-TXT-8 T3. */
	for (i = 0; i < u->scheme_len; i++)
		if (mts_lower((unsigned char)s[i]) != name[i])
			return false;
	return true;
}

/* One addr-spec of a mailto: "to" (RFC 6068 §2): local "@" domain. */
static bool
mailto_addr_ok(const char *s, size_t len)
{
	size_t at = len;

	while (at > 0 && s[at - 1] != '@')
		at--;
	if (at < 2 || at == len)
		return false;
	return mts_dname_check(s + at, len - at, 0, NULL) == 0;
}

/* The first "%2C" (an encoded ",") in [s, end), or NULL. */
static const char *
find_encoded_comma(const char *s, const char *end)
{
	for (; end - s >= 3; s++)
		if (s[0] == '%' && s[1] == '2' &&
		    mts_lower((unsigned char)s[2]) == 'c')
			return s;
	return NULL;
}

/*
 * A mailto URI is usable when its path names at least one address and
 * every address, split at the encoded commas RFC 6068 §2 separates them
 * with, has a local part and a domain.
 */
static bool
mailto_ok(const struct uri *u)
{
	const char *s = u->path, *end = u->path + u->path_len, *sep;

	if (u->has_authority || u->path_len == 0)
		return false;
	while ((sep = find_encoded_comma(s, end)) != NULL) {
		if (!mailto_addr_ok(s, (size_t)(sep - s)))
			return false;
		s = sep + 3;
	}
	return mailto_addr_ok(s, (size_t)(end - s));
}

/* An https URI is usable when its host is an IP literal or a domain
 * name (RFC 9110 §4.2.2: an empty host is invalid for https). */
static bool
https_ok(const struct uri *u)
{
	if (!u->has_authority || u->host_len == 0)
		return false;
	if (u->host[0] == '[')
		return true;
	return mts_dname_check(u->host, u->host_len,
	                       MTS_DNAME_ALLOW_TRAILING_DOT, NULL) == 0;
}

/* ---- the record ---- */

static const struct mts_tv_grammar grammar = {
    .version = "v=TLSRPTv1",
    .no_version_msg = "the record does not begin with v=TLSRPTv1;",
    .max = MTS_TLSRPT_RECORD_MAX,
    .too_long = MTS_D_TLSRPT_RECORD_TOO_LONG,
    .not_ascii = MTS_D_TLSRPT_RECORD_NOT_ASCII,
    .no_version = MTS_D_TLSRPT_RECORD_VERSION,
    .no_fields = MTS_D_TLSRPT_RECORD_NO_FIELDS,
    .empty_field = MTS_D_TLSRPT_RECORD_EMPTY_FIELD,
    .field_syntax = MTS_D_TLSRPT_RECORD_FIELD_SYNTAX,
    .extension = MTS_D_TLSRPT_RECORD_EXTENSION,
    .space_before_delim = MTS_D_TLSRPT_RECORD_SPACE_BEFORE_DELIM,
    .trailing_space = MTS_D_TLSRPT_RECORD_TRAILING_SPACE,
};

/* A usable destination, borrowed from the record until the end. */
struct dest {
	enum mts_tlsrpt_scheme scheme;
	const char *uri;
	size_t len;
	size_t scheme_len;
};

/* The destinations gathered over every rua field. */
struct rua_set {
	unsigned fields; /* rua fields seen */
	bool capped;     /* the too-many warning was given */
	size_t n;
	struct dest dest[MTS_TLSRPT_RUA_MAX];
};

/* Same destination: schemes compared case-insensitively, the rest as
 * bytes. */
static bool
dest_equal(const struct dest *a, const struct dest *b)
{
	size_t i;

	if (a->len != b->len || a->scheme_len != b->scheme_len)
		return false;
	for (i = 0; i < a->scheme_len; i++)
		if (mts_lower((unsigned char)a->uri[i]) !=
		    mts_lower((unsigned char)b->uri[i]))
			return false;
	return memcmp(a->uri + i, b->uri + i, a->len - i) == 0;
}

/* Keeps a usable destination: once, and at most MTS_TLSRPT_RUA_MAX. */
static void
add_dest(struct mts_tv_parse *p, struct rua_set *set, const struct dest *d)
{
	size_t i;
	int q = mts_tv_quote_len(d->len);

	for (i = 0; i < set->n; i++) {
		if (dest_equal(&set->dest[i], d)) {
			mts_diag_add(p->diag, MTS_D_TLSRPT_RECORD_URI_REPEATED,
			             0, "\"%.*s\" at column %u", q, d->uri,
			             mts_tv_column(p, d->uri));
			return;
		}
	}
	if (set->n == MTS_TLSRPT_RUA_MAX) {
		if (!set->capped)
			mts_diag_add(p->diag, MTS_D_TLSRPT_RECORD_TOO_MANY_RUA,
			             0,
			             "\"%.*s\" at column %u and later ignored",
			             q, d->uri, mts_tv_column(p, d->uri));
		set->capped = true;
		return;
	}
	set->dest[set->n++] = *d;
}

/* The finding for a destination that is dropped, not fatal. */
static void
drop(struct mts_tv_parse *p, enum mts_diag_id id, const char *s, size_t len)
{
	mts_diag_add(p->diag, id, 0, "\"%.*s\" at column %u",
	             mts_tv_quote_len(len), s, mts_tv_column(p, s));
}

/* tlsrpt-uri = URI, with RFC 8460 §3's extra rules; see the top. */
static void
rua_uri(struct mts_tv_parse *p, struct rua_set *set, const char *s, size_t len)
{
	struct uri u;
	struct dest d;
	const char *why;

	if ((why = uri_check(s, len, &u)) != NULL) {
		mts_diag_add(p->diag, MTS_D_TLSRPT_RECORD_URI_SYNTAX, 0,
		             "\"%.*s\" at column %u: %s", mts_tv_quote_len(len),
		             s, mts_tv_column(p, s), why);
		mts_tv_parse_error(p, MTS_ERR_SYNTAX, (size_t)(s - p->txt),
		                   "a rua destination is not a URI");
		return;
	}
	/* "exclamation points (ASCII 0x21) ... MUST be encoded" (§3);
	 * "mailto:a@example.com!10m" is a DMARC size limit (RPT-TXT-7). */
	if (memchr(s, '!', len) != NULL) {
		drop(p, MTS_D_TLSRPT_RECORD_URI_UNENCODED, s, len);
		return;
	}
	if (scheme_is(s, &u, "mailto"))
		d.scheme = MTS_TLSRPT_MAILTO;
	else if (scheme_is(s, &u, "https"))
		d.scheme = MTS_TLSRPT_HTTPS;
	else {
		drop(p, MTS_D_TLSRPT_RECORD_URI_SCHEME, s, len);
		return;
	}
	if (d.scheme == MTS_TLSRPT_MAILTO ? !mailto_ok(&u) : !https_ok(&u)) {
		drop(p, MTS_D_TLSRPT_RECORD_URI_UNUSABLE, s, len);
		return;
	}
	d.uri = s;
	d.len = len;
	d.scheme_len = u.scheme_len;
	add_dest(p, set, &d);
}

/*
 * tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri).  The
 * tokenizer has dropped the WSP after the last URI; WSP anywhere else
 * than beside a "," is an error, as is an empty URI (RPT-TXT-5 T3).
 */
static void
field_rua(struct mts_tv_parse *p, struct rua_set *set,
          const struct mts_tv_field *f)
{
	const char *s = f->value, *end = f->value + f->value_len;

	/* §24 A15: several rua fields are grammatical; merge them. */
	if (set->fields++ != 0)
		mts_diag_add(p->diag, MTS_D_TLSRPT_RECORD_RUA_DUPLICATE, 0,
		             "rua at column %u", (unsigned)f->off + 1);
	if (s < end && mts_is_wsp((unsigned char)*s)) {
		mts_diag_add(p->diag, MTS_D_TLSRPT_RECORD_URI_SYNTAX, 0,
		             "white space after \"rua=\" at column %u",
		             mts_tv_column(p, s));
		mts_tv_parse_error(p, MTS_ERR_SYNTAX, (size_t)(s - p->txt),
		                   "white space after rua=");
		return;
	}
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *a = s, *b = comma != NULL ? comma : end;

		while (a < b && mts_is_wsp((unsigned char)*a))
			a++;
		while (b > a && mts_is_wsp((unsigned char)b[-1]))
			b--;
		if (a == b) {
			mts_diag_add(p->diag, MTS_D_TLSRPT_RECORD_RUA_EMPTY, 0,
			             "empty URI at column %u",
			             mts_tv_column(p, a));
			mts_tv_parse_error(p, MTS_ERR_SYNTAX,
			                   (size_t)(a - p->txt),
			                   "an empty URI in the rua list");
		} else
			rua_uri(p, set, a, (size_t)(b - a));
		if (comma == NULL)
			break;
		s = comma + 1;
	}
}

/* The record's verdict once every field is read. */
static int
check_end(const struct mts_tv_parse *p, const struct rua_set *set,
          struct mts_err *err)
{
	if (mts_tv_parse_end(p, err) != 0)
		return -1;
	if (set->fields == 0) {
		/* "Note that the tlsrpt-rua record is required" (§3 ABNF). */
		mts_diag_add(p->diag, MTS_D_TLSRPT_RECORD_RUA_MISSING, 0,
		             "no rua field");
		return mts_err_set(err, MTS_ERR_INVALID, 0, 0,
		                   "the record has no rua");
	}
	if (set->n == 0) {
		mts_diag_add(p->diag, MTS_D_TLSRPT_RECORD_NO_USABLE_RUA, 0,
		             "no mailto: or https: destination left");
		return mts_err_set(err, MTS_ERR_INVALID, 0, 0,
		                   "no usable rua destination");
	}
	return 0;
}

/* Copies the destinations into *out; out is written only on success. */
static int
build(const struct rua_set *set, struct mts_tlsrpt_record *out,
      struct mts_err *err)
{
	struct mts_tlsrpt_rua *rua = NULL;
	size_t i;

	/* check_end() refused an empty set; calloc(0) is not a record. */
	if (set->n == 0)
		return mts_err_set(err, MTS_ERR_INVALID, 0, 0,
		                   "no usable rua destination");
	if ((rua = calloc(set->n, sizeof(*rua))) == NULL)
		goto fail;
	for (i = 0; i < set->n; i++) {
		rua[i].scheme = set->dest[i].scheme;
		rua[i].uri = mts_strndup(set->dest[i].uri, set->dest[i].len);
		if (rua[i].uri == NULL)
			goto fail;
	}
	out->rua = rua;
	out->rua_count = set->n;
	return 0;
fail:
	if (rua != NULL)
		for (i = 0; i < set->n; i++)
			free(rua[i].uri);
	free(rua);
	return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
}

int
mts_tlsrpt_record_parse(const char *txt, size_t len,
                        struct mts_tlsrpt_record *out, struct mts_diag *diag,
                        struct mts_err *err)
{
	struct mts_tv_parse p;
	struct mts_tv_field f;
	struct rua_set set;

	memset(&set, 0, sizeof(set));
	if (mts_tv_parse_begin(&p, &grammar, txt, len, diag)) {
		while (mts_tv_parse_field(&p, &f)) {
			/* %s"rua=": the name is case-sensitive (RPT-TXT-12). */
			if (f.name_len == 3 && memcmp(f.name, "rua", 3) == 0)
				field_rua(&p, &set, &f);
			else
				mts_tv_parse_extension(&p, &f);
		}
	}
	if (check_end(&p, &set, err) != 0)
		return -1;
	return build(&set, out, err);
}

void
mts_tlsrpt_record_reset(struct mts_tlsrpt_record *record)
{
	size_t i;

	if (record == NULL)
		return;
	for (i = 0; i < record->rua_count; i++)
		free(record->rua[i].uri);
	free(record->rua);
	memset(record, 0, sizeof(*record));
}

bool
mts_tlsrpt_record_is_candidate(const char *txt, size_t len)
{
	return mts_tv_is_candidate(txt, len, grammar.version);
}

int
mts_tlsrpt_record_select(const char *const *txts, const size_t *lens, size_t n,
                         size_t *index, struct mts_err *err)
{
	return mts_tv_select(txts, lens, n, grammar.version, index, err);
}

int
mts_tlsrpt_record_qname(const char *domain, char *buf, size_t size,
                        struct mts_err *err)
{
	/* §3: the TXT record lives at _smtp._tls.<Policy Domain>. */
	return mts_tv_qname("_smtp._tls", domain, buf, size, err);
}
