/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DNS wire format, just enough for `xwgp client' to resolve its server
 * name through the resolver named by the config's `dns' key (RFC 1035): build
 * one A or AAAA query, and parse the answer to it.
 *
 * The parser trusts nothing: every read is bounds-checked against the
 * message length, names are capped at 255 wire bytes, compression pointers
 * must point strictly before every earlier jump target (so no loop can form)
 * and at most DNS_MAX_JUMPS are followed, CNAME chains at most
 * DNS_MAX_CNAME_HOPS long. Only records of the answer section whose owner is
 * the queried name (or a CNAME target reached from it) are used.
 */
#ifndef XWGP_DNS_H
#define XWGP_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN	   12
#define DNS_NAME_MAX	   255 /* wire bytes of a name, root label included */
#define DNS_QUERY_MAX	   (DNS_HEADER_LEN + DNS_NAME_MAX + 4)
#define DNS_MSG_MAX	   512 /* plain UDP DNS without EDNS0 */
#define DNS_MAX_JUMPS	   32
#define DNS_MAX_CNAME_HOPS 8
#define DNS_MAX_ADDRS	   8

#define DNS_TYPE_A     1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA  28
#define DNS_CLASS_IN   1

#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

struct dns_result {
	size_t n; /* addresses found (0: the name exists, no record of that type) */
	uint8_t addr[DNS_MAX_ADDRS][16]; /* A: first 4 bytes; AAAA: all 16 */
	uint32_t ttl;			 /* smallest TTL of the records used (CNAMEs included) */
	bool truncated;			 /* TC bit: more records may exist than this answer holds */
};

/*
 * Encode a dotted host name ("vpn.example.org", a trailing dot allowed) as a
 * wire name into out (DNS_NAME_MAX bytes), lowercased. Returns its length,
 * or -EINVAL for an empty name, an empty label, a label over 63 bytes or a
 * name over 255 wire bytes.
 */
int dns_name_encode(uint8_t out[static DNS_NAME_MAX], const char *name);

/*
 * One recursive query (RD set) for name/qtype with the given id. Returns the
 * message length, -EINVAL (bad name, see above) or -ENOSPC (cap too small;
 * DNS_QUERY_MAX always fits).
 */
int dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype);

/*
 * Read the (possibly compressed) name at msg[off]; write it uncompressed and
 * lowercased to out (DNS_NAME_MAX bytes) and the offset just past it in the
 * message (after the first pointer, if any) to *next. Returns the wire length
 * of the name, or -EBADMSG (out of bounds, reserved label type, pointer not
 * strictly backwards, too many jumps, name too long).
 */
int dns_read_name(const uint8_t *msg, size_t len, size_t off, uint8_t out[static DNS_NAME_MAX],
		  size_t *next);

/*
 * Parse the response to the query (id, name, qtype) built above. Returns 0
 * with res filled (res->n may be 0), or
 *   -EPROTO   not a response to that query (QR clear, other id, opcode or
 *             question) -- ignore it and keep waiting
 *   -EBADMSG  malformed (truncated, bad name, bad record length)
 *   -ENOENT   NXDOMAIN
 *   -EAGAIN   SERVFAIL (try again later)
 *   -EIO      any other error rcode (FORMERR, NOTIMP, REFUSED, ...)
 */
int dns_parse_response(const uint8_t *msg, size_t len, uint16_t id, const char *name,
		       uint16_t qtype, struct dns_result *res);

#endif /* XWGP_DNS_H */
