/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for dns_rdata.c, the decoders of the RDATA libunbound
 * hands over.  The first input byte, modulo 9, chooses what is decoded:
 * 0 the bare name decoder, 1-7 a whole answer of TXT, MX, A, AAAA, TLSA,
 * CNAME or an unknown type, its records cut from the rest of the input
 * by 2-octet big-endian lengths (the last takes what is left), 8 a
 * canonical name as libunbound reports it.
 *
 * Beyond "no crash, no leak", the outputs are checked: a decoded name
 * reads back (its \DDD escapes undone) to exactly the octets it came
 * from, and holds no character outside letters, digits, "-_.\"; a TXT
 * record is the concatenation of its strings; an address converts back
 * to its octets; MX and CNAME names read back to their RDATA; a
 * canonical name comes out escaped.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_rdata.h"

#include "fuzz.h"

static const uint16_t qtypes[] = {
    MTS_DNS_TYPE_TXT,
    MTS_DNS_TYPE_MX,
    MTS_DNS_TYPE_A,
    MTS_DNS_TYPE_AAAA,
    MTS_DNS_TYPE_TLSA,
    MTS_DNS_TYPE_CNAME,
    99,
};

static int
digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : -1;
}

/*
 * Presentation text back to wire format (RFC 1035 §5.1 escapes) into
 * out; returns the length.  Aborts on text the decoder must not make.
 */
static size_t
encode(const char *text, uint8_t *out, size_t size)
{
	size_t o = 0, lenpos = 0;
	const char *p;
	int v;

	if (*text == '\0') {
		CHECK(size >= 1);
		out[0] = 0;
		return 1;
	}
	CHECK(size >= 2);
	out[o++] = 0;
	for (p = text; *p != '\0'; p++) {
		CHECK(o + 1 < size);
		if (*p == '.') {
			CHECK(out[lenpos] != 0);
			lenpos = o;
			out[o++] = 0;
			continue;
		}
		if (*p == '\\') {
			CHECK(digit(p[1]) >= 0 && digit(p[2]) >= 0 &&
			      digit(p[3]) >= 0);
			v = digit(p[1]) * 100 + digit(p[2]) * 10 + digit(p[3]);
			CHECK(v <= 255);
			/* Escapes only for what may not stand for itself. */
			CHECK(!(
			    (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') ||
			    (v >= '0' && v <= '9') || v == '-' || v == '_'));
			out[o++] = (uint8_t)v;
			p += 3;
		} else {
			CHECK((*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' ||
			      *p == '_');
			out[o++] = (uint8_t)*p;
		}
		out[lenpos]++;
		CHECK(out[lenpos] <= 63);
	}
	CHECK(out[lenpos] != 0 && o < size);
	out[o++] = 0;
	return o;
}

/* The text is the name at wire[0..len). */
static void
check_name(const char *text, const uint8_t *wire, size_t len)
{
	uint8_t back[MTS_DNS_NAME_WIRE_MAX + 8];
	size_t n;

	CHECK(strlen(text) < MTS_DNS_NAME_TEXT_MAX);
	n = encode(text, back, sizeof(back));
	CHECK(n == len && n <= MTS_DNS_NAME_WIRE_MAX);
	CHECK(memcmp(back, wire, n) == 0);
}

static void
fuzz_name(const uint8_t *data, size_t size)
{
	char buf[MTS_DNS_NAME_TEXT_MAX];
	size_t used;

	if (mts_dns_rdata_name(data, size, &used, buf, sizeof(buf), NULL) ==
	    0) {
		CHECK(used <= size);
		check_name(buf, data, used);
	}
}

static void
check_record(uint16_t qtype, const struct mts_dns_records *r, size_t i,
             const uint8_t *rdata, size_t len)
{
	uint8_t addr[16];
	size_t off, total = 0;

	switch (qtype) {
	case MTS_DNS_TYPE_TXT:
		for (off = 0; off < len; off += 1 + rdata[off]) {
			CHECK(memcmp(r->txt[i] + total, rdata + off + 1,
			             rdata[off]) == 0);
			total += rdata[off];
		}
		CHECK(total == r->txt_len[i] && r->txt[i][total] == '\0');
		break;
	case MTS_DNS_TYPE_MX:
		CHECK(r->mx[i].preference == (rdata[0] << 8 | rdata[1]));
		check_name(r->mx[i].host, rdata + 2, len - 2);
		break;
	case MTS_DNS_TYPE_A:
	case MTS_DNS_TYPE_AAAA:
		CHECK(inet_pton(qtype == MTS_DNS_TYPE_A ? AF_INET : AF_INET6,
		                r->addr[i], addr) == 1);
		CHECK(memcmp(addr, rdata, len) == 0);
		break;
	case MTS_DNS_TYPE_TLSA:
		CHECK(r->tlsa[i].data_len == len - 3 &&
		      memcmp(r->tlsa[i].data, rdata + 3, len - 3) == 0);
		break;
	case MTS_DNS_TYPE_CNAME:
		if (i == 0)
			check_name(r->target, rdata, len);
		break;
	default:
		break;
	}
}

static void
fuzz_records(uint16_t qtype, const uint8_t *data, size_t size)
{
	char *rdata[MTS_DNS_RECORDS_MAX + 2];
	int lens[MTS_DNS_RECORDS_MAX + 1];
	struct mts_dns_records r;
	size_t n = 0, off = 0, len, i;

	/* Room for one record over the cap, to reach that error. */
	while (off < size && n <= MTS_DNS_RECORDS_MAX) {
		len = size - off;
		if (len >= 2 &&
		    (size_t)(data[off] << 8 | data[off + 1]) <= len - 2) {
			len = (size_t)(data[off] << 8 | data[off + 1]);
			off += 2;
		}
		/* Copies, so that ASan sees reads past each record. */
		CHECK((rdata[n] = malloc(len + 1)) != NULL);
		memcpy(rdata[n], data + off, len);
		lens[n++] = (int)len;
		off += len;
	}
	rdata[n] = NULL;
	if (mts_dns_records_decode(&r, qtype, rdata, lens, NULL) == 0) {
		CHECK(r.count == n && n <= MTS_DNS_RECORDS_MAX);
		for (i = 0; i < n; i++)
			check_record(qtype, &r, i, (const uint8_t *)rdata[i],
			             (size_t)lens[i]);
		mts_dns_records_reset(&r);
	} else {
		CHECK(r.count == 0 && r.txt == NULL && r.target == NULL);
	}
	for (i = 0; i < n; i++)
		free(rdata[i]);
}

/* The rest as libunbound's canonname text: the copy is escaped. */
static void
fuzz_canonical(const uint8_t *data, size_t size)
{
	char *text, *out = NULL;
	const char *p;

	CHECK((text = malloc(size + 1)) != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	if (mts_dns_canonical(text, "example.test", &out, NULL) == 0 &&
	    out != NULL) {
		for (p = out; *p != '\0'; p++)
			CHECK((*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' ||
			      *p == '_' || *p == '.' || *p == '\\');
		free(out);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode;

	if (size < 1)
		return 0;
	mode = data[0] % 9;
	if (mode == 0)
		fuzz_name(data + 1, size - 1);
	else if (mode == 8)
		fuzz_canonical(data + 1, size - 1);
	else
		fuzz_records(qtypes[mode - 1], data + 1, size - 1);
	return 0;
}
