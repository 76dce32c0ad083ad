/* SPDX-License-Identifier: ISC */
/*
 * DNS RDATA decoders: the wire formats of TXT, MX, CNAME (RFC 1035
 * §3.3), A (§3.4.1), AAAA (RFC 3596 §2.2) and TLSA (RFC 6698 §2.1, by
 * dane_tlsa.c), as libunbound returns them in struct ub_result.
 *
 * libunbound has already parsed the message and expanded compressed
 * names in the RDATA of the types that allow compression (RFC 3597 §4),
 * so a compression pointer here is malformed data and is refused.  Every
 * length is checked against what is left before a byte is read: the
 * data come from whoever controls the zone.
 *
 * Names become presentation text with every octet outside letters,
 * digits, '-' and '_' escaped as \DDD (RFC 1035 §5.1): a label holding a
 * '.' or a control byte cannot pass for something else in the strings
 * the rest of the library compares and prints.
 *
 * Pure: no I/O, no globals; inet_ntop() only formats.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <mtasts/dname.h>

#include "dns_rdata.h"
#include "internal.h"

/* Top two bits of a length octet (RFC 1035 §4.1.4, RFC 6891 §5). */
#define LABEL_TYPE_MASK 0xC0u
#define LABEL_POINTER   0xC0u

/* Octets a name keeps as they are in presentation form. */
static bool
plain_octet(uint8_t c)
{
	return mts_is_alnum(c) || c == '-' || c == '_';
}

/* Appends c, escaped if need be, at buf[*out]; false when full. */
static bool
put_octet(char *buf, size_t size, size_t *out, uint8_t c)
{
	size_t need = plain_octet(c) ? 1 : 4;

	/* Keep room for the NUL. */
	if (size - *out <= need)
		return false;
	if (need == 1) {
		buf[(*out)++] = (char)c;
		return true;
	}
	buf[(*out)++] = '\\';
	buf[(*out)++] = (char)('0' + c / 100);
	buf[(*out)++] = (char)('0' + c / 10 % 10);
	buf[(*out)++] = (char)('0' + c % 10);
	return true;
}

int
mts_dns_rdata_name(const uint8_t *wire, size_t len, size_t *used, char *buf,
                   size_t size, struct mts_err *err)
{
	size_t off = 0, out = 0, i;
	uint8_t lab;

	if (buf == NULL || size == 0)
		return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
		                   "domain name: no room for the text");
	for (;;) {
		if (off >= len)
			return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
			                   "domain name: truncated");
		lab = wire[off];
		if ((lab & LABEL_TYPE_MASK) == LABEL_POINTER)
			return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
			                   "domain name: compression pointer "
			                   "in uncompressed RDATA");
		/* 0x40 and 0x80: extended label types, none in use.  With
		 * the top bits clear a label is at most 63 octets. */
		if ((lab & LABEL_TYPE_MASK) != 0)
			return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
			                   "domain name: unknown label type");
		off++;
		if (lab == 0)
			break;
		if (lab > len - off)
			return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
			                   "domain name: truncated");
		/* This label and the root label after it: 255 in all. */
		if (off + lab + 1 > MTS_DNS_NAME_WIRE_MAX)
			return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
			                   "domain name: over 255 octets");
		if (off > 1) {
			/* A separator, not an octet of the name. */
			if (size - out <= 1)
				goto toobig;
			buf[out++] = '.';
		}
		for (i = 0; i < lab; i++)
			if (!put_octet(buf, size, &out, wire[off + i]))
				goto toobig;
		off += lab;
	}
	buf[out] = '\0';
	*used = off;
	return 0;
toobig:
	return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
	                   "domain name: no room for the text");
}

/* A name that must fill rdata[0..len) exactly, as a new string. */
static int
whole_name(const uint8_t *rdata, size_t len, char **name, const char *extra,
           struct mts_err *err)
{
	char buf[MTS_DNS_NAME_TEXT_MAX];
	size_t used = 0;
	char *s;

	if (mts_dns_rdata_name(rdata, len, &used, buf, sizeof(buf), err) == -1)
		return -1;
	if (used != len)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0, extra);
	if ((s = mts_strndup(buf, strlen(buf))) == NULL)
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	*name = s;
	return 0;
}

int
mts_dns_rdata_txt(const uint8_t *rdata, size_t len, char **text,
                  size_t *text_len, struct mts_err *err)
{
	size_t off, total = 0, n;
	char *s;

	/* TXT-DATA is one or more <character-string>s (§3.3.14). */
	if (len == 0)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
		                   "TXT: no character-string");
	for (off = 0; off < len; off += 1 + n) {
		n = rdata[off];
		if (n > len - off - 1)
			return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
			                   "TXT: character-string overruns "
			                   "the record");
		total += n;
	}
	if (total > MTS_DNS_TXT_MAX)
		return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
		                   "TXT: record over 16384 octets");
	if ((s = malloc(total + 1)) == NULL)
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	/* Joined with nothing between (RFC 8461 §3.1, checklist
	 * STS-TXT-12): "v=STSv1; id=20" "190101" is one id. */
	for (off = 0, total = 0; off < len; off += 1 + n) {
		n = rdata[off];
		memcpy(s + total, rdata + off + 1, n);
		total += n;
	}
	s[total] = '\0';
	*text = s;
	*text_len = total;
	return 0;
}

int
mts_dns_rdata_mx(const uint8_t *rdata, size_t len, struct mts_dns_mx *mx,
                 struct mts_err *err)
{
	char *host = NULL;

	/* PREFERENCE, then EXCHANGE: at least the root label. */
	if (len < 3)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
		                   "MX: shorter than 3 octets");
	if (whole_name(rdata + 2, len - 2, &host, "MX: octets after the name",
	               err) == -1)
		return -1;
	mx->preference = (uint16_t)(rdata[0] << 8 | rdata[1]);
	mx->host = host;
	return 0;
}

int
mts_dns_rdata_cname(const uint8_t *rdata, size_t len, char **target,
                    struct mts_err *err)
{
	return whole_name(rdata, len, target, "CNAME: octets after the name",
	                  err);
}

int
mts_dns_rdata_addr(uint16_t type, const uint8_t *rdata, size_t len, char **addr,
                   struct mts_err *err)
{
	char buf[INET6_ADDRSTRLEN];
	int af;
	char *s;

	if (type == MTS_DNS_TYPE_A) {
		if (len != 4)
			return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
			                   "A: not 4 octets");
		af = AF_INET;
	} else if (type == MTS_DNS_TYPE_AAAA) {
		if (len != 16)
			return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
			                   "AAAA: not 16 octets");
		af = AF_INET6;
	} else {
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "not an address type");
	}
	if (inet_ntop(af, rdata, buf, sizeof(buf)) == NULL)
		return mts_err_set(err, MTS_ERR_SYNTAX, 0, 0,
		                   "address: cannot format");
	if ((s = mts_strndup(buf, strlen(buf))) == NULL)
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	*addr = s;
	return 0;
}

/* Allocates the array of `qtype` for n records; 0 or -1. */
static int
alloc_arrays(struct mts_dns_records *r, uint16_t qtype, size_t n)
{
	switch (qtype) {
	case MTS_DNS_TYPE_TXT:
		r->txt = calloc(n, sizeof(*r->txt));
		r->txt_len = calloc(n, sizeof(*r->txt_len));
		return r->txt != NULL && r->txt_len != NULL ? 0 : -1;
	case MTS_DNS_TYPE_MX:
		r->mx = calloc(n, sizeof(*r->mx));
		return r->mx != NULL ? 0 : -1;
	case MTS_DNS_TYPE_A:
	case MTS_DNS_TYPE_AAAA:
		r->addr = calloc(n, sizeof(*r->addr));
		return r->addr != NULL ? 0 : -1;
	case MTS_DNS_TYPE_TLSA:
		r->tlsa = calloc(n, sizeof(*r->tlsa));
		return r->tlsa != NULL ? 0 : -1;
	default:
		return 0;
	}
}

/* Decodes record i of `qtype` into its slot of r. */
static int
decode_one(struct mts_dns_records *r, uint16_t qtype, size_t i,
           const uint8_t *rdata, size_t len, struct mts_err *err)
{
	char *target = NULL;

	switch (qtype) {
	case MTS_DNS_TYPE_TXT:
		return mts_dns_rdata_txt(rdata, len, &r->txt[i], &r->txt_len[i],
		                         err);
	case MTS_DNS_TYPE_MX:
		return mts_dns_rdata_mx(rdata, len, &r->mx[i], err);
	case MTS_DNS_TYPE_A:
	case MTS_DNS_TYPE_AAAA:
		return mts_dns_rdata_addr(qtype, rdata, len, &r->addr[i], err);
	case MTS_DNS_TYPE_TLSA:
		return mts_dane_tlsa_parse_rdata(rdata, len, &r->tlsa[i], err);
	case MTS_DNS_TYPE_CNAME:
		/* An alias has one CNAME (RFC 2181 §10.1); all are checked,
		 * the first is kept. */
		if (mts_dns_rdata_cname(rdata, len, &target, err) == -1)
			return -1;
		if (r->target == NULL)
			r->target = target;
		else
			free(target);
		return 0;
	default:
		return 0;
	}
}

int
mts_dns_records_decode(struct mts_dns_records *r, uint16_t qtype,
                       char *const *data, const int *len, struct mts_err *err)
{
	size_t n = 0, i;

	memset(r, 0, sizeof(*r));
	if (data == NULL)
		return 0;
	while (data[n] != NULL) {
		if (n == MTS_DNS_RECORDS_MAX)
			return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
			                   "over 1024 records in the answer");
		if (len == NULL || len[n] < 0)
			return mts_err_set(err, MTS_ERR_ARG, 0, 0,
			                   "negative RDATA length");
		n++;
	}
	if (n == 0)
		return 0;
	if (alloc_arrays(r, qtype, n) == -1) {
		mts_dns_records_reset(r);
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	}
	/* Set first, so that a reset after a failure frees every slot. */
	r->count = n;
	for (i = 0; i < n; i++) {
		if (decode_one(r, qtype, i, (const uint8_t *)data[i],
		               (size_t)len[i], err) == -1) {
			mts_dns_records_reset(r);
			return -1;
		}
	}
	return 0;
}

void
mts_dns_records_reset(struct mts_dns_records *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->count; i++) {
		if (r->txt != NULL)
			free(r->txt[i]);
		if (r->mx != NULL)
			free(r->mx[i].host);
		if (r->addr != NULL)
			free(r->addr[i]);
		if (r->tlsa != NULL)
			mts_dane_tlsa_reset(&r->tlsa[i]);
	}
	free(r->txt);
	free(r->txt_len);
	free(r->mx);
	free(r->addr);
	free(r->tlsa);
	free(r->target);
	memset(r, 0, sizeof(*r));
}

/* The length without the root's dot: "" for the root itself, as
 * mts_dns_rdata_name() writes it. */
static size_t
strip_dot(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && name[len - 1] == '.' ? len - 1 : len;
}

int
mts_dns_canonical(const char *canonname, const char *qname, char **out,
                  struct mts_err *err)
{
	char buf[MTS_DNS_NAME_TEXT_MAX];
	size_t len, i, o = 0;
	char *s;

	*out = NULL;
	if (canonname == NULL)
		return 0;
	len = strip_dot(canonname);
	if (qname != NULL &&
	    mts_dname_equal(canonname, len, qname, strip_dot(qname)))
		return 0;
	for (i = 0; i < len; i++) {
		if (canonname[i] == '.') {
			if (sizeof(buf) - o <= 1)
				goto toobig;
			buf[o++] = '.';
		} else if (!put_octet(buf, sizeof(buf), &o,
		                      (uint8_t)canonname[i])) {
			goto toobig;
		}
	}
	buf[o] = '\0';
	if ((s = mts_strndup(buf, o)) == NULL)
		return mts_err_set(err, MTS_ERR_NOMEM, 0, 0, NULL);
	*out = s;
	return 0;
toobig:
	return mts_err_set(err, MTS_ERR_TOOBIG, 0, 0,
	                   "canonical name: too long");
}

int
mts_dns_qname_check(const char *name, struct mts_err *err)
{
	size_t len, i, label = 0;

	if (name == NULL)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "name is NULL");
	len = strnlen(name, MTS_DNAME_MAX + 2);
	if (len == 1 && name[0] == '.')
		return 0;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0, "empty name");
	if (len > MTS_DNAME_MAX)
		return mts_err_set(err, MTS_ERR_ARG, 0, 0,
		                   "name over 253 octets");
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			if (label == 0)
				return mts_err_set(err, MTS_ERR_ARG, 0, 0,
				                   "empty label");
			label = 0;
			continue;
		}
		if (!plain_octet((uint8_t)name[i]))
			return mts_err_set(err, MTS_ERR_ARG, 0, 0,
			                   "bad character in name: letters, "
			                   "digits, '-', '_' and dots only");
		if (++label > MTS_DNAME_LABEL_MAX)
			return mts_err_set(err, MTS_ERR_ARG, 0, 0,
			                   "label over 63 octets");
	}
	return 0;
}
