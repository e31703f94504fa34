/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet bytes for tests and benchmarks: endpoints in the ABI's layout,
 * Ethernet/IP/UDP frames built and parsed with every length and checksum
 * computed in full (RFC 1071 over the whole header or datagram), never by
 * the incremental rule the XDP program and the agent use, so a test built
 * on these helpers checks that rule rather than repeating it.
 *
 * Header-only: each suite or driver is one translation unit.
 */
#ifndef XWGP_TEST_PKT_H
#define XWGP_TEST_PKT_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "byteorder.h" /* get_le32(), put_le32(): WireGuard's fields */
#include "xwgp_abi.h"

#define PKT_FRAME_CAP 4096

/* ---- bytes --------------------------------------------------------------- */

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* RFC 1071 sum of big-endian 16-bit words. */
static inline uint32_t pkt_sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static inline uint16_t pkt_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* One's complement sum of the UDP pseudo-header (RFC 768 / RFC 8200 8.1). */
static inline uint32_t pkt_pseudo(const uint8_t *ip, bool v6, uint16_t ulen)
{
	uint8_t tail[4] = { 0, IPPROTO_UDP, ulen >> 8, ulen };

	if (v6)
		return pkt_sum16(ip + 8, 32, ulen + IPPROTO_UDP);
	return pkt_sum16(tail, 4, pkt_sum16(ip + 12, 8, 0));
}

/* ---- endpoints ----------------------------------------------------------- */

/* An IP literal (a ':' makes it IPv6) and a port; NULL ip: family NONE. */
static inline struct xwgp_ep pkt_ep(const char *ip, uint16_t port)
{
	struct xwgp_ep e = { .port = htons(port) };

	if (!ip)
		return e;
	if (strchr(ip, ':')) {
		inet_pton(AF_INET6, ip, e.addr);
		e.family = XWGP_FAMILY_IPV6;
	} else {
		e.addr[2] = htonl(0xffff);
		inet_pton(AF_INET, ip, &e.addr[3]);
		e.family = XWGP_FAMILY_IPV4;
	}
	return e;
}

static inline bool pkt_ep_eq(const struct xwgp_ep *a, const struct xwgp_ep *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static inline const char *pkt_ep_str(const struct xwgp_ep *e, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "-";

	if (e->family == XWGP_FAMILY_IPV4)
		inet_ntop(AF_INET, &e->addr[3], ip, sizeof(ip));
	else if (e->family == XWGP_FAMILY_IPV6)
		inet_ntop(AF_INET6, e->addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs(e->port));
	return buf;
}

/* ---- frames -------------------------------------------------------------- */

struct pkt_frame {
	uint8_t b[PKT_FRAME_CAP];
	size_t len;
};

struct pkt_udp_opts {
	const uint8_t *dmac, *smac; /* NULL: 02:00:00:00:00:01 <- 02:00:00:00:0c:01 */
	uint8_t ttl;		    /* 0: 55 */
	bool no_udp_csum;	    /* IPv4: UDP checksum 0 ("none") */
	size_t pad;		    /* link-layer bytes after the IP datagram */
};

/*
 * Ethernet + IP (DF) + UDP around payload into buf (zeroed up to cap, so
 * padding is zeros), checksums in full; src and dst of one family. The
 * frame's length, or -EINVAL when it does not fit.
 */
static inline ssize_t pkt_udp_write(uint8_t *buf, size_t cap, const struct xwgp_ep *src,
				    const struct xwgp_ep *dst, const uint8_t *payload, size_t plen,
				    const struct pkt_udp_opts *o)
{
	static const uint8_t dmac[6] = { 2, 0, 0, 0, 0, 1 }, smac[6] = { 2, 0, 0, 0, 0xc, 1 };
	bool v6 = src->family == XWGP_FAMILY_IPV6;
	size_t ulen = 8 + plen, udp_off = 14 + (v6 ? 40 : 20);
	uint8_t *ip = buf + 14, *udp = buf + udp_off;
	uint8_t ttl = o && o->ttl ? o->ttl : 55;
	uint16_t c;

	if (ulen > 0xffff - 20 || udp_off + ulen + (o ? o->pad : 0) > cap)
		return -EINVAL;
	memset(buf, 0, cap);
	memcpy(buf, o && o->dmac ? o->dmac : dmac, 6);
	memcpy(buf + 6, o && o->smac ? o->smac : smac, 6);
	pkt_put16(buf + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ip[0] = 0x60;
		pkt_put16(ip + 4, ulen);
		ip[6] = IPPROTO_UDP;
		ip[7] = ttl;
		memcpy(ip + 8, src->addr, 16);
		memcpy(ip + 24, dst->addr, 16);
	} else {
		ip[0] = 0x45;
		pkt_put16(ip + 2, 20 + ulen);
		pkt_put16(ip + 6, 0x4000);
		ip[8] = ttl;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, &src->addr[3], 4);
		memcpy(ip + 16, &dst->addr[3], 4);
		pkt_put16(ip + 10, ~pkt_fold(pkt_sum16(ip, 20, 0)));
	}
	memcpy(udp, &src->port, 2);
	memcpy(udp + 2, &dst->port, 2);
	pkt_put16(udp + 4, ulen);
	memcpy(udp + 8, payload, plen);
	if (!(o && o->no_udp_csum && !v6)) {
		/* A computed 0 is sent as 0xffff: 0 means "no checksum" (RFC 768). */
		c = ~pkt_fold(pkt_sum16(udp, ulen, pkt_pseudo(ip, v6, ulen)));
		pkt_put16(udp + 6, c ? c : 0xffff);
	}
	return udp_off + ulen + (o ? o->pad : 0);
}

/* pkt_udp_write into a frame of the tests' size; the caller's sizes always fit. */
static inline void pkt_build(struct pkt_frame *f, const struct xwgp_ep *src,
			     const struct xwgp_ep *dst, const uint8_t *payload, size_t plen,
			     const struct pkt_udp_opts *o)
{
	ssize_t n = pkt_udp_write(f->b, sizeof(f->b), src, dst, payload, plen, o);

	f->len = n < 0 ? 0 : (size_t)n;
}

/* What a frame carries, every length and checksum checked from scratch. */
struct pkt_parsed {
	struct xwgp_ep src, dst;
	const uint8_t *payload;
	size_t len;
	bool udp_csum_zero;
	char bad[128]; /* empty when every length and checksum is right */
};

static inline void pkt_parse(const struct pkt_frame *f, struct pkt_parsed *p)
{
	const uint8_t *ip = f->b + 14, *udp;
	bool v6 = f->b[12] == 0x86;
	uint16_t ulen;

	memset(p, 0, sizeof(*p));
	p->src.family = p->dst.family = v6 ? XWGP_FAMILY_IPV6 : XWGP_FAMILY_IPV4;
	if (v6) {
		memcpy(p->src.addr, ip + 8, 16);
		memcpy(p->dst.addr, ip + 24, 16);
		udp = ip + 40;
	} else {
		p->src.addr[2] = p->dst.addr[2] = htonl(0xffff);
		memcpy(&p->src.addr[3], ip + 12, 4);
		memcpy(&p->dst.addr[3], ip + 16, 4);
		udp = ip + 20;
	}
	ulen = udp[4] << 8 | udp[5];
	memcpy(&p->src.port, udp, 2);
	memcpy(&p->dst.port, udp + 2, 2);
	p->payload = udp + 8;
	p->len = ulen >= 8 ? ulen - 8u : 0;
	if ((size_t)(udp - f->b) + ulen != f->len)
		snprintf(p->bad, sizeof(p->bad), "UDP length %u, frame %zu", ulen, f->len);
	else if (v6 && (ip[4] << 8 | ip[5]) != ulen)
		snprintf(p->bad, sizeof(p->bad), "IPv6 payload length %u, UDP %u",
			 ip[4] << 8 | ip[5], ulen);
	else if (!v6 && (ip[2] << 8 | ip[3]) != 20 + ulen)
		snprintf(p->bad, sizeof(p->bad), "IPv4 total length %u, UDP %u", ip[2] << 8 | ip[3],
			 ulen);
	else if (!v6 && pkt_fold(pkt_sum16(ip, 20, 0)) != 0xffff)
		snprintf(p->bad, sizeof(p->bad), "bad IPv4 header checksum");
	if (p->bad[0])
		return;
	p->udp_csum_zero = !v6 && !udp[6] && !udp[7];
	if (!p->udp_csum_zero && pkt_fold(pkt_sum16(udp, ulen, pkt_pseudo(ip, v6, ulen))) != 0xffff)
		snprintf(p->bad, sizeof(p->bad), "bad UDP checksum");
}

#endif /* XWGP_TEST_PKT_H */
