/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a forwarded packet leaves: the FIB answer (cached per CPU,
 * bpf/fib_cache.h) and the egress action, XDP_TX or a devmap redirect.
 */
#ifndef XWGP_BPF_ROUTE_H
#define XWGP_BPF_ROUTE_H

#include "consts.h"
#include "maps.h"
#include "parse.h"
#include "rewrite.h"
#include "fib_cache.h"
#include "xlat.h"
#include "nexthop.h"

/*
 * ctx: the XDP or TC context (bpf_fib_lookup takes both); ifindex: the
 * device the packet came in on, for iif rules (TC on lo: lo).
 */
static __always_inline __u32 fib_route(void *ctx, __u32 ifindex, const struct xwgp_cfg *cfg,
				       const struct pkt *p, const struct target *t,
				       struct bpf_fib_lookup *fib, __u64 now)
{
	struct xwgp_fib_cache_entry *e;
	__u64 key[XWGP_FIB_KEY_WORDS];
	/* vs. the egress MTU; the IP header of the family it leaves in (bpf/xlat.h) */
	__u16 tot_len = out_ip_hlen(p, t) + sizeof(struct udphdr) + p->out_len;
	long rc;

	fib->l4_protocol = IPPROTO_UDP;
	fib->sport = t->src->port;
	fib->dport = t->dst->port;
	fib->ifindex = ifindex; /* input route: iif rules apply */
	if (t->dst->family == XWGP_FAMILY_IPV4) {
		fib->family = AF_INET;
		fib->tos = out_tos(p);
		fib->ipv4_src = t->src->addr[3];
		fib->ipv4_dst = t->dst->addr[3];
	} else {
		fib->family = AF_INET6;
		fib->flowinfo = out_flowinfo(p);
		__builtin_memcpy(fib->ipv6_src, t->src->addr, sizeof(fib->ipv6_src));
		__builtin_memcpy(fib->ipv6_dst, t->dst->addr, sizeof(fib->ipv6_dst));
	}
	e = fib_cache_slot(p->receiver, p->side);
	if (fib_cache_get(e, fib, tot_len, now, cfg->fib_cache_ms))
		return 0;
	/* The lookup overwrites ifindex and the TOS/flow word: keep the request. */
	__builtin_memcpy(key, fib_key_words(fib), sizeof(key));
	fib->tot_len = tot_len;
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		/* Unicast route with a resolved neighbour: ifindex, smac, dmac set. */
		fib_cache_put(e, key, fib, tot_len, now, cfg->fib_cache_ms);
		return 0;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		/* Route found but no valid neighbour entry: the stack resolves it
		 * (ARP/ND) when the agent sends through its socket. */
		return XWGP_STAT_PUNT_NO_NEIGH;
	case BPF_FIB_LKUP_RET_BLACKHOLE:    /* blackhole route: the stack drops it */
	case BPF_FIB_LKUP_RET_UNREACHABLE:  /* unreachable route: the stack reports it */
	case BPF_FIB_LKUP_RET_PROHIBIT:	    /* prohibit route: likewise */
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		/* Forwarding sysctl off on the ingress device: the agent's next hop. */
		return nexthop_route(p, fib, tot_len, now);
	case BPF_FIB_LKUP_RET_NOT_FWDED:    /* no route, or the backend is local/broadcast */
	case BPF_FIB_LKUP_RET_UNSUPP_LWT:   /* lightweight-tunnel route needs the stack */
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:  /* above the egress MTU: the socket fragments */
	case BPF_FIB_LKUP_RET_NO_SRC_ADDR:  /* only with BPF_FIB_LOOKUP_SRC, unused */
	default:			    /* negative errno: parameters the kernel rejected */
		return XWGP_STAT_PUNT_NO_ROUTE;
	}
}

/*
 * XDP_TX back out of the ingress device, or a redirect when the egress
 * device is in the devmap. bpf_redirect_map() returns its flags argument
 * (XDP_PASS here) on a miss without redirecting, so the packet is still
 * untouched and can be punted.
 */
static __always_inline int egress(struct xdp_md *ctx, const struct pkt *p, __u32 ifindex,
				  __u32 *reason)
{
	bool c2s = p->side == XWGP_SIDE_CLIENT;

	if (ifindex == ctx->ingress_ifindex) {
		*reason = c2s ? XWGP_STAT_C2S_TX : XWGP_STAT_S2C_TX;
		return XDP_TX;
	}
	if (bpf_redirect_map(&xwgp_devmap, ifindex, XDP_PASS) == XDP_REDIRECT) {
		*reason = c2s ? XWGP_STAT_C2S_REDIRECT : XWGP_STAT_S2C_REDIRECT;
		return XDP_REDIRECT;
	}
	*reason = XWGP_STAT_PUNT_NO_DEVMAP;
	return -1;
}


#endif /* XWGP_BPF_ROUTE_H */
