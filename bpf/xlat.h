/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPv4 client <-> IPv6 backend and the reverse (docs/DESIGN.md section 3,
 * "Address families"): the proxy terminates one UDP flow and originates
 * another, so a forwarded packet may leave in the other family. The UDP
 * header and the message stay where they are; the IP header is replaced by
 * one of the other family, built from the session's endpoints, and the
 * Ethernet header moves with it (bpf_xdp_adjust_head by the difference).
 *
 * The UDP checksum is updated, not recomputed: the IPv4 and IPv6
 * pseudo-headers sum the same UDP length and protocol words (RFC 768,
 * RFC 8200 section 8.1), so only the addresses change in the sum, as in a
 * same-family rewrite. An IPv4 datagram without a checksum (0) has no sum to
 * update and IPv6 requires one: it is punted (PUNT_FAMILY) and the agent's
 * socket computes it. The agent's twin is its socket send (agent/transport.c
 * gives the same endpoints); tests/bpf/test_xdp.c checks the headers built
 * here byte for byte, tests/bpf/test_agree.c the agreement.
 *
 * The new header: IPv4 with DF, ID 0 (an atomic datagram, RFC 6864), TOS =
 * the IPv6 traffic class; IPv6 with the IPv4 TOS as traffic class and flow
 * label 0 (RFC 7915 sections 4.1 and 5.1); TTL / hop limit XWGP_TTL.
 */
#ifndef XWGP_BPF_XLAT_H
#define XWGP_BPF_XLAT_H

#include "consts.h"
#include "parse.h"
#include "csum.h"
#include "rewrite.h"

/* The target's family differs from the packet's: allowed when the UDP checksum can follow. */
static __always_inline __u32 xlat_admit(struct pkt *p)
{
	if (p->family == XWGP_FAMILY_IPV4 && !p->udp->check)
		return XWGP_STAT_PUNT_FAMILY;
	p->xlat = 1;
	/* Read now: the old header is overwritten once the frame moves. */
	if (p->family == XWGP_FAMILY_IPV4)
		p->tclass = p->iph->tos;
	else
		p->tclass = bpf_ntohl(*(__be32 *)p->ip6h) >> 20;
	return 0;
}

/* IP header length of the forwarded packet (IPv4 options stay when the family does). */
static __always_inline __u32 out_ip_hlen(const struct pkt *p, const struct target *t)
{
	if (!p->xlat)
		return p->ip_hlen;
	return t->dst->family == XWGP_FAMILY_IPV6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
}

/*
 * The TOS of the FIB request for an IPv4 target, the flow information for
 * an IPv6 one: the received packet's, or what the new header will carry.
 * Branches on the family, not on xlat: the verifier tracks the one (a
 * spilled 4-byte value, parse.h), not the other.
 */
static __always_inline __u8 out_tos(const struct pkt *p)
{
	if (p->family == XWGP_FAMILY_IPV4)
		return p->iph->tos;
	return p->tclass;
}

static __always_inline __be32 out_flowinfo(const struct pkt *p)
{
	if (p->family == XWGP_FAMILY_IPV6)
		return *(__be32 *)p->ip6h & bpf_htonl(IPV6_FLOWINFO_MASK);
	return bpf_htonl((__u32)p->tclass << 20);
}

/*
 * Move the frame start for the new headers (a VLAN tag goes too) and find
 * them again: bpf_xdp_adjust_head() invalidates every packet pointer. The
 * UDP header and the message stay where they are. p's family and addresses
 * stay the received ones (xlat_rewrite()'s checksum update needs them).
 * Called after the commit point: growing fails only on a frame without 20
 * bytes of headroom, which no XDP driver hands out (XDP_PACKET_HEADROOM is
 * 256; generic XDP makes room); -1 then, and the packet is dropped.
 */
static __always_inline int xlat_move(struct xdp_md *ctx, struct pkt *p, const struct target *t)
{
	__u32 hl = out_ip_hlen(p, t);
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, (int)(p->l3_off + p->ip_hlen) -
					     (int)(sizeof(struct ethhdr) + hl)))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	p->eth = data;
	p->udp = data + sizeof(struct ethhdr) + (hl & 0x3c); /* 20 or 40 */
	p->msg = (__u8 *)(p->udp + 1);
	p->data_end = end;
	p->vlan = 0;
	if ((void *)(p->msg + WG_TRANSPORT_HEADER_LEN) > end)
		return -1; /* cannot happen: the message did not move */
	return 0;
}

/* ~old + new for one address of either family (IPv4: the address word only). */
static __always_inline __u32 csum_addr_diff(__u32 diff, const __u32 old[4], __u32 old_family,
					    const struct xwgp_ep *new)
{
	int i;

	if (old_family == XWGP_FAMILY_IPV4) {
		diff = csum_add(diff, ~old[3]);
	} else {
		for (i = 0; i < 4; i++)
			diff = csum_add(diff, ~old[i]);
	}
	if (new->family == XWGP_FAMILY_IPV4)
		return csum_add(diff, new->addr[3]);
	for (i = 0; i < 4; i++)
		diff = csum_add(diff, new->addr[i]);
	return diff;
}

static __always_inline void xlat_build_ipv4(struct iphdr *iph, const struct pkt *p,
					    const struct target *t)
{
	__u32 sum = 0;
	int i;

	*(__u8 *)iph = 0x45; /* version 4, 5 words */
	iph->tos = p->tclass;
	iph->tot_len = bpf_htons(sizeof(*iph) + sizeof(struct udphdr) + p->out_len);
	iph->id = 0;
	iph->frag_off = bpf_htons(IP_DF);
	iph->ttl = XWGP_TTL;
	iph->protocol = IPPROTO_UDP;
	iph->check = 0;
	iph->saddr = t->src->addr[3];
	iph->daddr = t->dst->addr[3];
	for (i = 0; i < 5; i++)
		sum = csum_add(sum, ((__u32 *)iph)[i]);
	iph->check = (__u16)~csum_fold(sum);
}

static __always_inline void xlat_build_ipv6(struct ipv6hdr *ip6h, const struct pkt *p,
					    const struct target *t)
{
	int i;

	*(__be32 *)ip6h = bpf_htonl(6u << 28 | (__u32)p->tclass << 20);
	ip6h->payload_len = bpf_htons(sizeof(struct udphdr) + p->out_len);
	ip6h->nexthdr = IPPROTO_UDP;
	ip6h->hop_limit = XWGP_TTL;
	for (i = 0; i < 4; i++) {
		ip6h->saddr.in6_u.u6_addr32[i] = t->src->addr[i];
		ip6h->daddr.in6_u.u6_addr32[i] = t->dst->addr[i];
	}
}

/*
 * rewrite()'s counterpart for a packet that changes family, after
 * xlat_move(): MACs, the new IP header, ports, and the UDP checksum
 * (udp_diff: what the index and obfuscation steps changed).
 */
static __always_inline void xlat_rewrite(const struct pkt *p, const struct bpf_fib_lookup *fib,
					 const struct target *t, __u32 udp_diff)
{
	struct ethhdr *eth = p->eth;
	struct udphdr *udp = p->udp;
	void *ip = eth + 1;
	__u32 old;

	if (ip + sizeof(struct ipv6hdr) > p->data_end || (void *)(udp + 1) > p->data_end)
		return; /* cannot happen: xlat_move() checked */
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	udp_diff = csum_addr_diff(udp_diff, p->saddr, p->family, t->src);
	udp_diff = csum_addr_diff(udp_diff, p->daddr, p->family, t->dst);
	if (t->dst->family == XWGP_FAMILY_IPV6) {
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		xlat_build_ipv6(ip, p, t);
	} else {
		eth->h_proto = bpf_htons(ETH_P_IP);
		xlat_build_ipv4(ip, p, t);
	}
	old = load_raw32(udp); /* source + dest port */
	udp->source = t->src->port;
	udp->dest = t->dst->port;
	udp_diff = csum_diff32(udp_diff, old, load_raw32(udp));
	/* Never 0 here: IPv4 without a checksum was punted (xlat_admit). */
	udp->check = csum_apply_udp(udp->check, udp_diff);
}

#endif /* XWGP_BPF_XLAT_H */
