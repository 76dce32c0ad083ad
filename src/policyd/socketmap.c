/* SPDX-License-Identifier: ISC */
/*
 * The socketmap protocol of `mtasts policyd` (socketmap_table(5)):
 * strict netstrings both ways, the NAME SP KEY request, the keys of
 * smtp_tls_policy_maps sorted as RFC 8461 §3.4 asks, and the fixed
 * replies.  Pure; see socketmap.h for the contracts.
 *
 * Everything works on (pointer, length): a request may hold any octet,
 * and no NUL terminator is needed or trusted.  Character classes are the
 * ASCII ones of the library (src/lib/internal.h), never the locale's.
 */
#include <string.h>

#include <mtasts/dname.h>
#include <mtasts/err.h>

#include "internal.h"
#include "socketmap.h"
#include "utf8.h"

/* Sets *why when the caller wants it, for `return fail(why, "...")`. */
static enum socketmap_decode_result
decode_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return SOCKETMAP_ERROR;
}

static int
fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return -1;
}

/* C0 controls and DEL: never in a C string Postfix sends or reads. */
static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* ---- netstrings ---- */

enum socketmap_decode_result
socketmap_decode(const char *buf, size_t len, size_t cap,
                 struct socketmap_frame *frame, const char **why)
{
	size_t i, n = 0, end;
	unsigned d;

	if (len == 0)
		return SOCKETMAP_NEED_MORE;
	if (!mts_is_digit(buf[0]))
		return decode_fail(why, "netstring length is not a digit");
	for (i = 0; i < len && mts_is_digit(buf[i]); i++) {
		/*
		 * "0:," is the empty string, but a zero before other digits
		 * is refused: one spelling per length, and no way to send
		 * an endless run of zeros that never grows the value.
		 */
		if (i == 1 && buf[0] == '0')
			return decode_fail(why,
			                   "netstring length has a "
			                   "leading zero");
		d = (unsigned)(buf[i] - '0');
		/*
		 * More digits only make the value larger, so once it is
		 * over the cap no data need be waited for: refused now,
		 * without overflow (n * 10 + d <= cap).
		 */
		if (d > cap || n > (cap - d) / 10)
			return decode_fail(why,
			                   "netstring length over the "
			                   "cap");
		n = n * 10 + d;
	}
	if (i == len)
		return SOCKETMAP_NEED_MORE;
	if (buf[i] != ':')
		return decode_fail(why,
		                   "netstring length not followed by "
		                   "':'");
	/* The payload and its ',' must follow: n + 1 more octets. */
	if (len - (i + 1) <= n)
		return SOCKETMAP_NEED_MORE;
	end = i + 1 + n;
	if (buf[end] != ',')
		return decode_fail(why, "netstring data not followed by ','");
	frame->off = i + 1;
	frame->len = n;
	frame->consumed = end + 1;
	return SOCKETMAP_OK;
}

/* Decimal digits of n (at least one). */
static size_t
decimal_len(size_t n)
{
	size_t k = 1;

	while (n >= 10) {
		n /= 10;
		k++;
	}
	return k;
}

/*
 * Writes the netstring of a[0..alen) followed by b[0..blen) into
 * out[0..size): the replies are a fixed word and a variable part, so
 * they are joined here rather than copied twice.
 */
static int
encode2(const char *a, size_t alen, const char *b, size_t blen, char *out,
        size_t size, size_t *outlen, const char **why)
{
	size_t n, digits, total, i, v;

	if (alen > SOCKETMAP_REPLY_MAX || blen > SOCKETMAP_REPLY_MAX - alen)
		return fail(why, "reply over 100000 octets");
	n = alen + blen;
	digits = decimal_len(n);
	total = digits + 1 + n + 1;
	if (out == NULL || total > size)
		return fail(why, "reply buffer too small");
	for (i = digits, v = n; i > 0; i--, v /= 10)
		out[i - 1] = (char)('0' + v % 10);
	out[digits] = ':';
	if (alen > 0)
		memcpy(out + digits + 1, a, alen);
	if (blen > 0)
		memcpy(out + digits + 1 + alen, b, blen);
	out[total - 1] = ',';
	*outlen = total;
	return 0;
}

int
socketmap_encode(const char *data, size_t len, char *out, size_t size,
                 size_t *outlen, const char **why)
{
	if (data == NULL && len != 0)
		return fail(why, "data is NULL");
	return encode2(data, len, NULL, 0, out, size, outlen, why);
}

/* ---- requests ---- */

/* The characters of a socketmap name: socketmap:inet:host:port:NAME. */
static bool
is_name_char(unsigned char c)
{
	return mts_is_alnum(c) || c == '_' || c == '-' || c == '.';
}

int
socketmap_request_parse(const char *p, size_t len,
                        struct socketmap_request *req, const char **why)
{
	const char *sp;
	size_t i, name_len;

	if (p == NULL || len == 0)
		return fail(why, "empty request");
	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)p[i]))
			return fail(why, "control octet in the request");
	if ((sp = memchr(p, ' ', len)) == NULL)
		return fail(why, "request without a space: not NAME KEY");
	name_len = (size_t)(sp - p);
	if (name_len == 0)
		return fail(why, "empty map name");
	for (i = 0; i < name_len; i++)
		if (!is_name_char((unsigned char)p[i]))
			return fail(why, "bad character in the map name");
	if (name_len + 1 == len)
		return fail(why, "empty key");
	req->name = p;
	req->name_len = name_len;
	req->key = sp + 1;
	req->key_len = len - name_len - 1;
	return 0;
}

/* ---- keys ---- */

/*
 * A port (1-65535, no leading zero) or a service name as Postfix takes
 * it in a next-hop ("[relay.example.net]:submission"): a letter, then
 * letters, digits and hyphens, at most 32 octets.  The port never
 * changes the policy domain; it is checked so that garbage after a ':'
 * is not taken for a next-hop.
 */
static bool
port_ok(const char *s, size_t n)
{
	size_t i;
	unsigned long v = 0;

	if (n == 0 || n > 32)
		return false;
	if (mts_is_digit(s[0])) {
		if (s[0] == '0' || n > 5)
			return false;
		for (i = 0; i < n; i++) {
			if (!mts_is_digit(s[i]))
				return false;
			v = v * 10 + (unsigned long)(s[i] - '0');
		}
		return v <= 65535;
	}
	if (!mts_is_alpha(s[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!mts_is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* RFC 5321 §4.1.3 IPv6-address-literal: "IPv6:" then the address. */
static bool
has_ipv6_tag(const char *s, size_t n)
{
	static const char tag[] = "ipv6:";
	size_t i;

	if (n < sizeof(tag) - 1)
		return false;
	for (i = 0; i < sizeof(tag) - 1; i++)
		if (mts_lower((unsigned char)s[i]) != tag[i])
			return false;
	return true;
}

/*
 * A non-ASCII host: well-formed UTF-8 (RFC 3629), ASCII parts made of
 * letters, digits, hyphens and dots, no empty label, no longer than any
 * name that could convert to 253 octets of A-labels.  IDNA itself
 * (RFC 5891) is libidn2's, in the I/O layer.
 */
static const char *
utf8_host_check(const char *s, size_t n)
{
	size_t i = 0, k, label = 0;
	unsigned char c;

	if (n > SOCKETMAP_UTF8_MAX)
		return "name too long";
	while (i < n) {
		c = (unsigned char)s[i];
		if (c >= 0x80) {
			if ((k = mts_utf8_len((const unsigned char *)s + i,
			                      n - i)) == 0)
				return "not ASCII and not UTF-8";
			i += k;
			label += k;
			continue;
		}
		if (c == '.') {
			if (label == 0)
				return "empty label";
			label = 0;
		} else if (mts_is_alnum(c) || c == '-') {
			label++;
		} else {
			return "bad character in a name";
		}
		i++;
	}
	if (label == 0)
		return "empty label";
	return NULL;
}

static bool
has_non_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/*
 * A last label of digits only is not a domain name (RFC 3696 §2: no
 * all-numeric top-level domain); such a key is a mistyped or partial
 * address, and a DNS query for it would be wasted.
 */
static bool
numeric_tld(const char *s, size_t n)
{
	size_t i = n;

	while (i > 0 && s[i - 1] != '.') {
		if (!mts_is_digit(s[i - 1]))
			return false;
		i--;
	}
	return true;
}

static enum socketmap_key_kind
key_set(struct socketmap_key *k, enum socketmap_key_kind kind, const char *why)
{
	k->kind = kind;
	k->why = why;
	if (kind != SOCKETMAP_KEY_DOMAIN && kind != SOCKETMAP_KEY_NEXTHOP &&
	    kind != SOCKETMAP_KEY_UTF8) {
		k->host = NULL;
		k->host_len = 0;
		k->domain[0] = '\0';
		k->domain_len = 0;
	}
	return kind;
}

/*
 * ".example.com": asked by Postfix after a miss on a subdomain.  The
 * rest must still be a name (one label is enough: ".com" is a parent
 * key too), else the key is only malformed.
 */
static enum socketmap_key_kind
classify_parent(const char *key, size_t len, struct socketmap_key *k)
{
	struct mts_err err;
	const char *bad;

	if (len == 1)
		return key_set(k, SOCKETMAP_KEY_MALFORMED, "a lone dot");
	if (has_non_ascii(key + 1, len - 1)) {
		if ((bad = utf8_host_check(key + 1, len - 1)) != NULL)
			return key_set(k, SOCKETMAP_KEY_MALFORMED, bad);
	} else if (mts_dname_check(key + 1, len - 1,
	                           MTS_DNAME_ALLOW_TRAILING_DOT, &err) == -1) {
		return key_set(k, SOCKETMAP_KEY_MALFORMED, err.msg);
	}
	return key_set(k, SOCKETMAP_KEY_PARENT,
	               "parent-domain key: no policy from a parent "
	               "(RFC 8461 §3.4)");
}

/*
 * Splits "[host]", "[host]:port", "host:port" or "host" into k->host,
 * k->port and k->bracketed.  Returns NULL, or why the key has no shape.
 */
static const char *
split_host_port(const char *key, size_t len, struct socketmap_key *k)
{
	const char *close, *colon;

	if (key[0] == '[') {
		if ((close = memchr(key, ']', len)) == NULL)
			return "'[' without ']'";
		k->bracketed = true;
		k->host = key + 1;
		k->host_len = (size_t)(close - key) - 1;
		if (close + 1 < key + len) {
			if (close[1] != ':')
				return "text after ']'";
			k->port = close + 2;
			k->port_len = len - (size_t)(close + 2 - key);
		}
	} else {
		k->host = key;
		k->host_len = len;
		/* One colon only: a bare IPv6 address was taken before. */
		if ((colon = memchr(key, ':', len)) != NULL) {
			k->host_len = (size_t)(colon - key);
			k->port = colon + 1;
			k->port_len = len - k->host_len - 1;
		}
	}
	if (k->host_len == 0)
		return "empty host";
	if (memchr(k->host, '[', k->host_len) != NULL ||
	    memchr(k->host, ']', k->host_len) != NULL)
		return "stray bracket";
	if (k->port != NULL && !port_ok(k->port, k->port_len))
		return "bad port";
	return NULL;
}

/* An address literal, bracketed or bare, with the port already split. */
static bool
host_is_address(const struct socketmap_key *k)
{
	if (k->bracketed && has_ipv6_tag(k->host, k->host_len))
		return mts_dname_is_address(k->host + 5, k->host_len - 5);
	return mts_dname_is_address(k->host, k->host_len);
}

static enum socketmap_key_kind
classify_name(struct socketmap_key *k)
{
	struct mts_err err;
	const char *bad;
	size_t i;

	/* One trailing dot: "example.com." is the same absolute name. */
	if (k->host[k->host_len - 1] == '.')
		k->host_len--;
	if (k->host_len == 0)
		return key_set(k, SOCKETMAP_KEY_MALFORMED, "empty host");
	if (has_non_ascii(k->host, k->host_len)) {
		if ((bad = utf8_host_check(k->host, k->host_len)) != NULL)
			return key_set(k, SOCKETMAP_KEY_MALFORMED, bad);
		return key_set(k, SOCKETMAP_KEY_UTF8,
		               "non-ASCII name: convert to an A-label "
		               "(RFC 8461 §3.2)");
	}
	if (mts_dname_check(k->host, k->host_len, MTS_DNAME_REQUIRE_DOT,
	                    &err) == -1)
		return key_set(k, SOCKETMAP_KEY_MALFORMED, err.msg);
	if (numeric_tld(k->host, k->host_len))
		return key_set(k, SOCKETMAP_KEY_MALFORMED,
		               "numeric top-level label");
	for (i = 0; i < k->host_len; i++)
		k->domain[i] = (char)mts_lower((unsigned char)k->host[i]);
	k->domain[i] = '\0';
	k->domain_len = k->host_len;
	if (k->bracketed)
		return key_set(k, SOCKETMAP_KEY_NEXTHOP,
		               "next-hop host: its name is the policy domain "
		               "(RFC 8461 §3.4)");
	return key_set(k, SOCKETMAP_KEY_DOMAIN, "next-hop domain");
}

enum socketmap_key_kind
socketmap_key_classify(const char *key, size_t len, struct socketmap_key *k)
{
	const char *bad;
	size_t i;

	memset(k, 0, sizeof(*k));
	if (key == NULL || len == 0)
		return key_set(k, SOCKETMAP_KEY_MALFORMED, "empty key");
	/* No name or next-hop has white space or a control octet. */
	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)key[i]) || key[i] == ' ')
			return key_set(k, SOCKETMAP_KEY_MALFORMED,
			               "space or control octet in the key");
	if (key[0] == '.')
		return classify_parent(key, len, k);
	/* A bare IPv6 address has colons of its own: before the port. */
	if (key[0] != '[' && mts_dname_is_address(key, len))
		return key_set(k, SOCKETMAP_KEY_ADDRESS,
		               "address literal: not covered "
		               "(RFC 8461 §3.4)");
	if ((bad = split_host_port(key, len, k)) != NULL) {
		k->port = NULL;
		k->port_len = 0;
		k->bracketed = false;
		return key_set(k, SOCKETMAP_KEY_MALFORMED, bad);
	}
	if (host_is_address(k))
		return key_set(k, SOCKETMAP_KEY_ADDRESS,
		               "address literal: not covered "
		               "(RFC 8461 §3.4)");
	/* Inside brackets a colon can only be an address's, and was not. */
	if (memchr(k->host, ':', k->host_len) != NULL)
		return key_set(k, SOCKETMAP_KEY_MALFORMED,
		               "colon in a host name");
	return classify_name(k);
}

/* ---- replies ---- */

int
socketmap_reply_ok(const char *data, size_t len, char *out, size_t size,
                   size_t *outlen, const char **why)
{
	size_t i;

	if (data == NULL || len == 0)
		return fail(why, "empty OK reply");
	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)data[i]))
			return fail(why, "control octet in an OK reply");
	return encode2("OK ", 3, data, len, out, size, outlen, why);
}

int
socketmap_reply_notfound(char *out, size_t size, size_t *outlen,
                         const char **why)
{
	/* socketmap_table(5): "NOTFOUND " with its space. */
	return encode2("NOTFOUND ", 9, NULL, 0, out, size, outlen, why);
}

int
socketmap_reply_failure(enum socketmap_failure type, const char *reason,
                        char *out, size_t size, size_t *outlen,
                        const char **why)
{
	char clean[SOCKETMAP_REASON_MAX];
	const char *word;
	size_t n = 0;
	unsigned char c;

	switch (type) {
	case SOCKETMAP_TEMP:
		word = "TEMP ";
		break;
	case SOCKETMAP_TIMEOUT:
		word = "TIMEOUT ";
		break;
	case SOCKETMAP_PERM:
		word = "PERM ";
		break;
	default:
		return fail(why, "unknown reply type");
	}
	/*
	 * As Postfix's printable(): what is not printable ASCII becomes
	 * '?', so that a reason quoting a remote server cannot split or
	 * forge the log line Postfix writes from it.
	 */
	for (; reason != NULL && reason[n] != '\0' && n < sizeof(clean); n++) {
		c = (unsigned char)reason[n];
		clean[n] = (is_ctl(c) || c >= 0x80) ? '?' : (char)c;
	}
	return encode2(word, strlen(word), clean, n, out, size, outlen, why);
}
