/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counting and acting on a verdict: every packet bumps exactly one reason
 * counter; punts go to the agent's AF_XDP socket or to the stack.
 */
#ifndef XWGP_BPF_VERDICT_H
#define XWGP_BPF_VERDICT_H

#include "maps.h"

static __always_inline void stat_add(__u32 reason, __u64 bytes)
{
	struct xwgp_stat_val *v = bpf_map_lookup_elem(&xwgp_stats, &reason);

	/* Per-CPU slot: plain increments are race free. */
	if (v) {
		v->packets++;
		v->bytes += bytes;
	}
}

/*
 * Hand the packet, unmodified, to the agent: to its AF_XDP socket on this
 * device and rx queue when one is bound, else (the map's miss action) to
 * the stack, where the agent's UDP socket receives it.
 */
static __always_inline int punt(struct xdp_md *ctx, __u32 reason, __u64 bytes)
{
	__u32 ifindex = ctx->ingress_ifindex, key = ctx->rx_queue_index, *slot;
	long act;

	stat_add(reason, bytes);
	slot = bpf_map_lookup_elem(&xwgp_xsk_slot, &ifindex);
	if (slot && key < XWGP_MAX_QUEUES_PER_DEV)
		act = bpf_redirect_map(&xwgp_xsks, *slot * XWGP_MAX_QUEUES_PER_DEV + key, XDP_PASS);
	else
		act = XDP_PASS; /* no AF_XDP socket registered for this device */
	stat_add(act == XDP_REDIRECT ? XWGP_STAT_PUNT_XSK : XWGP_STAT_PUNT_STACK, bytes);
	return act;
}

/* Transport XDP leaves to the agent (bpf/rate_limit.h limits it per source). */
static __always_inline bool is_transport_punt(__u32 reason)
{
	switch (reason) {
	case XWGP_STAT_PUNT_NO_ROUTE:
	case XWGP_STAT_PUNT_NO_NEIGH:
	case XWGP_STAT_PUNT_NO_DEVMAP:
	case XWGP_STAT_PUNT_FAMILY:
	case XWGP_STAT_PUNT_ROAM:
	case XWGP_STAT_PUNT_NOT_ESTABLISHED:
	case XWGP_STAT_PUNT_OBFS:
	case XWGP_STAT_PUNT_LOCAL_META:
		return true;
	default:
		return false;
	}
}

/* The action of a pass, punt or drop reason (forwarding is counted apart). */
static __always_inline int verdict(struct xdp_md *ctx, __u32 reason, __u64 bytes)
{
	switch (reason) {
	case XWGP_STAT_PASS_NOT_OURS:
	case XWGP_STAT_PASS_NOT_LOCAL:
	case XWGP_STAT_PASS_FRAGMENT:
	case XWGP_STAT_PASS_IPV6_EXTHDR:
		stat_add(reason, bytes);
		return XDP_PASS;
	case XWGP_STAT_PUNT_HANDSHAKE:
	case XWGP_STAT_PUNT_AGENT_ONLY:
	case XWGP_STAT_PUNT_SESSION_BUSY:
		return punt(ctx, reason, bytes);
	default:
		if (is_transport_punt(reason))
			return punt(ctx, reason, bytes);
		stat_add(reason, bytes);
		return XDP_DROP;
	}
}

#endif /* XWGP_BPF_VERDICT_H */
