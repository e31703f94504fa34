/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Forwarding on a host that does not route (issue 14 item 3; docs/DESIGN.md
 * section 3, "A host that does not forward"). The forwarding sysctl of the
 * ingress device only says whether the *kernel* may route between
 * interfaces; xwgp terminates UDP at its own address and sends new
 * datagrams, as its sockets do. When bpf_fib_lookup() answers FWD_DISABLED,
 * the next hop the agent resolved for the destination (route + neighbour
 * over netlink, agent/nexthop.c) gives the egress device and the MACs. A
 * miss or an entry older than XWGP_NEXTHOP_MAX_AGE_NS punts as before: the
 * agent's socket sends (resolving the neighbour) and the agent adds the
 * entry.
 */
#ifndef XWGP_BPF_NEXTHOP_H
#define XWGP_BPF_NEXTHOP_H

#include "consts.h"
#include "maps.h"
#include "verdict.h"

/*
 * fib: the request FWD_DISABLED left untouched (the kernel checks the
 * sysctl before anything else). Its destination words become the key, in
 * the map's IPv4-mapped form, so no key sits on the program's stack.
 * 0 when fib now holds the egress device and MACs.
 */
static __always_inline __u32 nexthop_route(const struct pkt *p, struct bpf_fib_lookup *fib,
					   __u16 tot_len, __u64 now)
{
	struct xwgp_nexthop *nh;

	if (fib->family == AF_INET) {
		fib->ipv6_dst[3] = fib->ipv4_dst;
		fib->ipv6_dst[0] = 0;
		fib->ipv6_dst[1] = 0;
		fib->ipv6_dst[2] = bpf_htonl(0xffff);
	}
	nh = bpf_map_lookup_elem(&xwgp_nexthop, fib->ipv6_dst);
	/* Signed: the agent's clock read may be a tick ahead of coarse_now_ns(). */
	if (!nh || (__s64)(now - nh->resolved_ns) >= (__s64)XWGP_NEXTHOP_MAX_AGE_NS)
		return XWGP_STAT_PUNT_NO_ROUTE;
	if (tot_len > nh->mtu)
		return XWGP_STAT_PUNT_NO_ROUTE; /* the socket fragments */
	fib->ifindex = nh->ifindex;
	__builtin_memcpy(fib->smac, nh->smac, ETH_ALEN);
	__builtin_memcpy(fib->dmac, nh->dmac, ETH_ALEN);
	/*
	 * Counted here, beside the packet's reason (like ROAM_CANDIDATE):
	 * a flag carried to the end would double the verifier's states.
	 */
	stat_add(XWGP_STAT_NEXTHOP_HIT, p->frame_len);
	return 0;
}

#endif /* XWGP_BPF_NEXTHOP_H */
