/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal reader for classic pcap files (what `tcpdump -w` writes), enough
 * for test tools to pull UDP payloads out of a capture: Ethernet (with up to
 * two VLAN tags), Linux cooked v1/v2 and raw IP link types; IPv4 and IPv6
 * (skipping IPv6 extension headers). Fragments and truncated packets are
 * reported as not-UDP, so a caller never sees a partial payload.
 */
#ifndef XWGP_TOOLS_PCAP_H
#define XWGP_TOOLS_PCAP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_LINKTYPE_RAW 101
#define PCAP_LINKTYPE_LINUX_SLL 113
#define PCAP_LINKTYPE_LINUX_SLL2 276
/* Larger records than this are refused rather than trusted. */
#define PCAP_MAX_RECORD 262144u

struct pcap_reader {
	FILE *f;
	int swapped; /* file written with the other byte order */
	uint32_t linktype;
};

/* One captured UDP datagram; payload points into the caller's frame buffer. */
struct pcap_udp {
	int family; /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16]; /* IPv4 uses the first 4 bytes */
	uint16_t sport, dport; /* host order */
	const uint8_t *payload;
	size_t len;
};

static inline uint32_t pcap_swap32(const struct pcap_reader *r, uint32_t v)
{
	return r->swapped ? __builtin_bswap32(v) : v;
}

static inline uint16_t pcap_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Open path and read its global header. 0, -errno, or -EPROTO (not pcap). */
static inline int pcap_open(struct pcap_reader *r, const char *path)
{
	uint32_t hdr[6];

	memset(r, 0, sizeof(*r));
	r->f = fopen(path, "rb");
	if (!r->f)
		return -errno;
	if (fread(hdr, sizeof(hdr), 1, r->f) != 1)
		goto bad;
	if (hdr[0] == PCAP_MAGIC_USEC || hdr[0] == PCAP_MAGIC_NSEC)
		r->swapped = 0;
	else if (hdr[0] == __builtin_bswap32(PCAP_MAGIC_USEC) ||
		 hdr[0] == __builtin_bswap32(PCAP_MAGIC_NSEC))
		r->swapped = 1;
	else
		goto bad; /* pcapng or garbage: tcpdump -w writes classic pcap */
	r->linktype = pcap_swap32(r, hdr[5]) & 0xffff;
	return 0;
bad:
	fclose(r->f);
	r->f = NULL;
	return -EPROTO;
}

static inline void pcap_close(struct pcap_reader *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
}

/*
 * Read the next record into buf. Returns 1 with *len (captured bytes) and
 * *truncated (captured < original length), 0 at end of file, or -EPROTO on a
 * malformed record or one larger than cap. A capture cut short by the
 * writer being killed ends at the last complete record.
 */
static inline int pcap_next(struct pcap_reader *r, uint8_t *buf, size_t cap, size_t *len,
			    int *truncated)
{
	uint32_t rec[4], caplen, origlen;

	if (fread(rec, sizeof(rec), 1, r->f) != 1)
		return 0;
	caplen = pcap_swap32(r, rec[2]);
	origlen = pcap_swap32(r, rec[3]);
	if (caplen > PCAP_MAX_RECORD || caplen > cap)
		return -EPROTO;
	if (caplen && fread(buf, caplen, 1, r->f) != 1)
		return 0;
	*len = caplen;
	*truncated = caplen < origlen;
	return 1;
}

/* Parse the UDP header at p (n bytes left) into u. 0 or -ENOENT. */
static inline int pcap_parse_udp_hdr(const uint8_t *p, size_t n, struct pcap_udp *u)
{
	size_t ulen;

	if (n < 8)
		return -ENOENT;
	ulen = pcap_be16(p + 4);
	if (ulen < 8 || ulen > n)
		return -ENOENT;
	u->sport = pcap_be16(p);
	u->dport = pcap_be16(p + 2);
	u->payload = p + 8;
	u->len = ulen - 8;
	return 0;
}

static inline int pcap_parse_ipv4(const uint8_t *p, size_t n, struct pcap_udp *u)
{
	size_t ihl, tot;

	if (n < 20 || p[0] >> 4 != 4)
		return -ENOENT;
	ihl = (size_t)(p[0] & 0xf) * 4;
	tot = pcap_be16(p + 2);
	if (ihl < 20 || tot < ihl || tot > n)
		return -ENOENT;
	/* Any fragment (MF set or non-zero offset) holds a partial datagram. */
	if (pcap_be16(p + 6) & 0x3fff)
		return -ENOENT;
	if (p[9] != 17)
		return -ENOENT;
	u->family = AF_INET;
	memset(u->src, 0, sizeof(u->src));
	memset(u->dst, 0, sizeof(u->dst));
	memcpy(u->src, p + 12, 4);
	memcpy(u->dst, p + 16, 4);
	return pcap_parse_udp_hdr(p + ihl, tot - ihl, u);
}

/* Extension headers skipped before UDP; capped so a crafted chain cannot loop. */
#define PCAP_IPV6_MAX_EXT 8

static inline int pcap_parse_ipv6(const uint8_t *p, size_t n, struct pcap_udp *u)
{
	size_t off = 40, plen;
	uint8_t next;
	int i;

	if (n < 40 || p[0] >> 4 != 6)
		return -ENOENT;
	plen = pcap_be16(p + 4);
	if (40 + plen > n)
		return -ENOENT;
	n = 40 + plen;
	next = p[6];
	for (i = 0; i < PCAP_IPV6_MAX_EXT && next != 17; i++) {
		/* hop-by-hop 0, routing 43, destination options 60; a fragment (44) is partial */
		if (next != 0 && next != 43 && next != 60)
			return -ENOENT;
		if (off + 8 > n)
			return -ENOENT;
		next = p[off];
		off += ((size_t)p[off + 1] + 1) * 8;
	}
	if (next != 17 || off > n)
		return -ENOENT;
	u->family = AF_INET6;
	memcpy(u->src, p + 8, 16);
	memcpy(u->dst, p + 24, 16);
	return pcap_parse_udp_hdr(p + off, n - off, u);
}

static inline int pcap_parse_l3(uint16_t ethertype, const uint8_t *p, size_t n, struct pcap_udp *u)
{
	if (ethertype == 0x0800)
		return pcap_parse_ipv4(p, n, u);
	if (ethertype == 0x86dd)
		return pcap_parse_ipv6(p, n, u);
	return -ENOENT;
}

/* Find the UDP datagram in one captured frame. 0, or -ENOENT when it holds none. */
static inline int pcap_parse_udp(uint32_t linktype, const uint8_t *frame, size_t len,
				 struct pcap_udp *u)
{
	size_t off;
	uint16_t type;
	int vlans;

	switch (linktype) {
	case PCAP_LINKTYPE_ETHERNET:
		if (len < 14)
			return -ENOENT;
		type = pcap_be16(frame + 12);
		off = 14;
		for (vlans = 0; vlans < 2 && (type == 0x8100 || type == 0x88a8); vlans++) {
			if (len < off + 4)
				return -ENOENT;
			type = pcap_be16(frame + off + 2);
			off += 4;
		}
		return pcap_parse_l3(type, frame + off, len - off, u);
	case PCAP_LINKTYPE_LINUX_SLL:
		if (len < 16)
			return -ENOENT;
		return pcap_parse_l3(pcap_be16(frame + 14), frame + 16, len - 16, u);
	case PCAP_LINKTYPE_LINUX_SLL2:
		if (len < 20)
			return -ENOENT;
		return pcap_parse_l3(pcap_be16(frame), frame + 20, len - 20, u);
	case PCAP_LINKTYPE_RAW:
		if (len < 1)
			return -ENOENT;
		return pcap_parse_l3(frame[0] >> 4 == 6 ? 0x86dd : 0x0800, frame, len, u);
	default:
		return -ENOENT;
	}
}

#endif /* XWGP_TOOLS_PCAP_H */
