/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rewriting a forwarded transport packet in place: MACs from the FIB,
 * addresses, TTL, ports and the receiver index, with incremental checksum
 * updates (bpf/csum.h).
 */
#ifndef XWGP_BPF_REWRITE_H
#define XWGP_BPF_REWRITE_H

#include "wg_proto.h"
#include "consts.h"
#include "parse.h"
#include "csum.h"

/* Where a forwarded packet goes, from which local endpoint, with which index. */
struct target {
	const struct xwgp_ep *src;
	const struct xwgp_ep *dst;
	__u32 index;
};

static __always_inline __u32 rewrite_ipv4(struct iphdr *iph, const struct target *t)
{
	__u32 ip_diff = 0, udp_diff = 0;
	__u16 old_word = *(__u16 *)&iph->ttl; /* TTL + protocol, one checksum word */

	iph->ttl = XWGP_TTL;
	ip_diff = csum_diff16(ip_diff, old_word, *(__u16 *)&iph->ttl);
	ip_diff = csum_diff32(ip_diff, iph->saddr, t->src->addr[3]);
	ip_diff = csum_diff32(ip_diff, iph->daddr, t->dst->addr[3]);
	udp_diff = csum_diff32(udp_diff, iph->saddr, t->src->addr[3]);
	udp_diff = csum_diff32(udp_diff, iph->daddr, t->dst->addr[3]);
	iph->saddr = t->src->addr[3];
	iph->daddr = t->dst->addr[3];
	iph->check = csum_apply(iph->check, ip_diff);
	return udp_diff;
}

static __always_inline __u32 rewrite_ipv6(struct ipv6hdr *ip6h, const struct target *t)
{
	__u32 udp_diff = 0;
	int i;

	ip6h->hop_limit = XWGP_TTL; /* not covered by any checksum */
	for (i = 0; i < 4; i++) {
		udp_diff = csum_diff32(udp_diff, ip6h->saddr.in6_u.u6_addr32[i], t->src->addr[i]);
		udp_diff = csum_diff32(udp_diff, ip6h->daddr.in6_u.u6_addr32[i], t->dst->addr[i]);
		ip6h->saddr.in6_u.u6_addr32[i] = t->src->addr[i];
		ip6h->daddr.in6_u.u6_addr32[i] = t->dst->addr[i];
	}
	return udp_diff;
}

/*
 * New MACs from the FIB. A VLAN-tagged frame leaves untagged: the FIB
 * answered with a plain device (it never returns VLAN information), so the
 * new Ethernet header is written 4 bytes later, over the tag, whose
 * encapsulated protocol field already sits where h_proto belongs; the caller
 * then moves the frame start with bpf_xdp_adjust_head().
 */
static __always_inline void rewrite_eth(const struct pkt *p, const struct bpf_fib_lookup *fib)
{
	struct ethhdr *eth = p->eth;

	if (p->vlan) {
		eth = (void *)eth + VLAN_HLEN;
		if ((void *)(eth + 1) > p->data_end)
			return; /* cannot happen: IP and UDP headers follow */
	}
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
}

/* The receiver index; returns its UDP checksum diff. */
static __always_inline __u32 rewrite_index(const struct pkt *p, const struct target *t)
{
	__u8 *rcv = p->msg + WG_TRANSPORT_OFF_RECEIVER;
	__u32 old;

	if ((void *)(rcv + 4) > p->data_end)
		return 0;      /* cannot happen: check_transport() saw 16 bytes */
	old = load_raw32(rcv); /* UDP offset 12: even, so word-aligned for the sum */
	put_le32(rcv, t->index);
	return csum_diff32(0, old, load_raw32(rcv));
}

/* udp_diff: what rewrite_index() and obfs_apply() changed under the UDP checksum. */
static __always_inline void rewrite(const struct pkt *p, const struct bpf_fib_lookup *fib,
				    const struct target *t, __u32 udp_diff)
{
	struct udphdr *udp = p->udp;
	__u32 old;

	rewrite_eth(p, fib);
	if (p->family == XWGP_FAMILY_IPV4)
		udp_diff = csum_add(udp_diff, rewrite_ipv4(p->iph, t));
	else
		udp_diff = csum_add(udp_diff, rewrite_ipv6(p->ip6h, t));

	old = load_raw32(udp); /* source + dest port */
	udp->source = t->src->port;
	udp->dest = t->dst->port;
	udp_diff = csum_diff32(udp_diff, old, load_raw32(udp));

	/* IPv4 UDP checksum 0 means "none" and stays so; IPv6 always has one. */
	if (p->family == XWGP_FAMILY_IPV6 || udp->check)
		udp->check = csum_apply_udp(udp->check, udp_diff);
}

#endif /* XWGP_BPF_REWRITE_H */
