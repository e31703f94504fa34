// SPDX-License-Identifier: GPL-2.0
/*
 * DNS A/AAAA query builder and response parser (RFC 1035, RFC 2181 for TTLs).
 * See dns.h for the rules the parser enforces.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

#define DNS_FLAG_QR   0x8000
#define DNS_FLAG_TC   0x0200
#define DNS_FLAG_RD   0x0100
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)
#define DNS_RCODE(f)  ((f)&0xf)
#define DNS_LABEL_MAX 63
#define DNS_RR_FIXED  10 /* type, class, ttl, rdlength after the owner name */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int dns_name_encode(uint8_t out[static DNS_NAME_MAX], const char *name)
{
	size_t n = strlen(name), pos = 0, i = 0;

	if (n && name[n - 1] == '.')
		n--; /* fully qualified: the root label is added anyway */
	if (!n || name[n - 1] == '.')
		return -EINVAL; /* empty, or an empty last label ("a..") */
	while (i < n) {
		size_t start = i, label;

		while (i < n && name[i] != '.')
			i++;
		label = i - start;
		if (!label || label > DNS_LABEL_MAX)
			return -EINVAL;
		/* label, its length byte, and the root byte still to come */
		if (pos + 1 + label + 1 > DNS_NAME_MAX)
			return -EINVAL;
		out[pos++] = (uint8_t)label;
		for (size_t k = 0; k < label; k++)
			out[pos++] = lower((uint8_t)name[start + k]);
		if (i < n)
			i++; /* the dot; "a..b" fails above with an empty label */
	}
	out[pos++] = 0;
	return (int)pos;
}

int dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype)
{
	uint8_t qname[DNS_NAME_MAX];
	int qlen = dns_name_encode(qname, name);

	if (qlen < 0)
		return qlen;
	if (cap < DNS_HEADER_LEN + (size_t)qlen + 4)
		return -ENOSPC;
	memset(buf, 0, DNS_HEADER_LEN);
	put_be16(buf, id);
	put_be16(buf + 2, DNS_FLAG_RD);
	put_be16(buf + 4, 1); /* QDCOUNT */
	memcpy(buf + DNS_HEADER_LEN, qname, qlen);
	put_be16(buf + DNS_HEADER_LEN + qlen, qtype);
	put_be16(buf + DNS_HEADER_LEN + qlen + 2, DNS_CLASS_IN);
	return DNS_HEADER_LEN + qlen + 4;
}

int dns_read_name(const uint8_t *msg, size_t len, size_t off, uint8_t out[static DNS_NAME_MAX],
		  size_t *next)
{
	/* Every jump must land strictly before the previous one (or the name's start). */
	size_t pos = off, outlen = 0, limit = off;
	bool jumped = false;
	int jumps = 0;

	for (;;) {
		uint8_t b;

		if (pos >= len)
			return -EBADMSG;
		b = msg[pos];
		if ((b & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return -EBADMSG;
			target = (size_t)(b & 0x3f) << 8 | msg[pos + 1];
			if (target >= limit || ++jumps > DNS_MAX_JUMPS)
				return -EBADMSG;
			if (!jumped)
				*next = pos + 2;
			jumped = true;
			limit = target;
			pos = target;
			continue;
		}
		if (b & 0xc0)
			return -EBADMSG; /* 0x40/0x80: extended label types, never valid here */
		if (outlen + 1 + b > DNS_NAME_MAX || pos + 1 + b > len)
			return -EBADMSG;
		out[outlen++] = b;
		for (size_t k = 0; k < b; k++)
			out[outlen++] = lower(msg[pos + 1 + k]);
		pos += 1 + (size_t)b;
		if (!b)
			break;
	}
	if (!jumped)
		*next = pos;
	return (int)outlen;
}

static bool name_eq(const uint8_t *a, int alen, const uint8_t *b, int blen)
{
	return alen == blen && !memcmp(a, b, alen);
}

/* RFC 2181 section 8: a TTL with the top bit set is treated as zero. */
static uint32_t rr_ttl(const uint8_t *p)
{
	uint32_t ttl = get_be32(p);

	return ttl & 0x80000000u ? 0 : ttl;
}

static void add_addr(struct dns_result *res, const uint8_t *rdata, size_t rdlen)
{
	uint8_t a[16] = {};

	memcpy(a, rdata, rdlen);
	for (size_t i = 0; i < res->n; i++)
		if (!memcmp(res->addr[i], a, 16))
			return;
	if (res->n < DNS_MAX_ADDRS)
		memcpy(res->addr[res->n++], a, 16);
}

struct answer_scan {
	const uint8_t *owner; /* the name whose records we want (wire form) */
	int owner_len;
	uint16_t qtype;
	uint8_t cname[DNS_NAME_MAX]; /* first CNAME target of owner, if any */
	int cname_len;		     /* 0: none */
	uint32_t ttl;		     /* running minimum */
};

/* One record at *off: validate its bounds, collect it if it is owner's. */
static int scan_record(const uint8_t *msg, size_t len, size_t *off, struct answer_scan *s,
		       struct dns_result *res)
{
	uint8_t rname[DNS_NAME_MAX];
	uint16_t type, class, rdlen;
	size_t p, rdata;
	int n;

	n = dns_read_name(msg, len, *off, rname, &p);
	if (n < 0)
		return n;
	if (p + DNS_RR_FIXED > len)
		return -EBADMSG;
	type = get_be16(msg + p);
	class = get_be16(msg + p + 2);
	rdlen = get_be16(msg + p + 8);
	rdata = p + DNS_RR_FIXED;
	if (rdata + rdlen > len)
		return -EBADMSG;
	*off = rdata + rdlen;
	if (class != DNS_CLASS_IN || !name_eq(rname, n, s->owner, s->owner_len))
		return 0;
	if (type == s->qtype) {
		if (rdlen != (type == DNS_TYPE_A ? 4 : 16))
			return -EBADMSG;
		add_addr(res, msg + rdata, rdlen);
	} else if (type == DNS_TYPE_CNAME && !s->cname_len) {
		size_t end;

		n = dns_read_name(msg, len, rdata, s->cname, &end);
		if (n < 0)
			return n;
		if (end > rdata + rdlen)
			return -EBADMSG; /* the name runs past its record */
		s->cname_len = n;
	} else {
		return 0;
	}
	if (rr_ttl(msg + p + 4) < s->ttl)
		s->ttl = rr_ttl(msg + p + 4);
	return 0;
}

static int scan_answers(const uint8_t *msg, size_t len, size_t off, uint16_t ancount,
			struct answer_scan *s, struct dns_result *res)
{
	for (uint16_t i = 0; i < ancount; i++) {
		int err = scan_record(msg, len, &off, s, res);

		if (err)
			return err;
	}
	return 0;
}

/* The single question must be exactly ours; returns the offset after it. */
static int check_question(const uint8_t *msg, size_t len, const uint8_t *qname, int qlen,
			  uint16_t qtype, size_t *off)
{
	uint8_t name[DNS_NAME_MAX];
	int n;

	if (get_be16(msg + 4) != 1)
		return -EPROTO;
	n = dns_read_name(msg, len, DNS_HEADER_LEN, name, off);
	if (n < 0)
		return n;
	if (*off + 4 > len)
		return -EBADMSG;
	if (!name_eq(name, n, qname, qlen) || get_be16(msg + *off) != qtype ||
	    get_be16(msg + *off + 2) != DNS_CLASS_IN)
		return -EPROTO;
	*off += 4;
	return 0;
}

static int rcode_error(uint16_t flags)
{
	switch (DNS_RCODE(flags)) {
	case DNS_RCODE_NOERROR:
		return 0;
	case DNS_RCODE_NXDOMAIN:
		return -ENOENT;
	case DNS_RCODE_SERVFAIL:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int dns_parse_response(const uint8_t *msg, size_t len, uint16_t id, const char *name,
		       uint16_t qtype, struct dns_result *res)
{
	struct answer_scan s = { .qtype = qtype, .ttl = UINT32_MAX };
	uint8_t qname[DNS_NAME_MAX], cur[DNS_NAME_MAX];
	uint16_t flags;
	size_t off;
	int qlen, err, hop;

	memset(res, 0, sizeof(*res));
	if (qtype != DNS_TYPE_A && qtype != DNS_TYPE_AAAA)
		return -EINVAL;
	qlen = dns_name_encode(qname, name);
	if (qlen < 0)
		return qlen;
	if (len < DNS_HEADER_LEN)
		return -EBADMSG;
	flags = get_be16(msg + 2);
	if (get_be16(msg) != id || !(flags & DNS_FLAG_QR) || DNS_OPCODE(flags) != 0)
		return -EPROTO;
	err = check_question(msg, len, qname, qlen, qtype, &off);
	if (err)
		return err;
	err = rcode_error(flags);
	if (err)
		return err;
	res->truncated = !!(flags & DNS_FLAG_TC);

	memcpy(cur, qname, qlen);
	s.owner = cur;
	s.owner_len = qlen;
	for (hop = 0; hop <= DNS_MAX_CNAME_HOPS; hop++) {
		s.cname_len = 0;
		err = scan_answers(msg, len, off, get_be16(msg + 6), &s, res);
		if (err)
			return err;
		if (res->n || !s.cname_len)
			break;
		memcpy(cur, s.cname, s.cname_len);
		s.owner_len = s.cname_len;
	}
	if (hop > DNS_MAX_CNAME_HOPS)
		return -EBADMSG; /* a CNAME loop, or a chain longer than any sane one */
	res->ttl = s.ttl == UINT32_MAX ? 0 : s.ttl;
	return 0;
}
