/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which packets are ours, and which sources may become an endpoint: the
 * gateway rules of README "Running on a gateway". The agent's twins are in
 * agent/local_addrs.c (addresses) and agent/transport.c (roaming); the
 * shared constants and rules in include/xwgp_martian.h.
 *
 * A wildcard listen/upstream claims a packet only when its destination is
 * one of the host's own addresses (xwgp_local_addr, kept by the agent from
 * netlink). Transport of a known session is checked against the session's
 * local address first, a compare instead of a lookup, since the agent only
 * ever records an address of ours there.
 */
#ifndef XWGP_BPF_LOCAL_H
#define XWGP_BPF_LOCAL_H

#include "maps.h"
#include "parse.h"
#include "xwgp_martian.h"

static __always_inline __u32 local_kind(const __u32 addr[4])
{
	struct xwgp_local_key key;
	__u32 *kind;

	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	kind = bpf_map_lookup_elem(&xwgp_local_addr, &key);
	return kind ? *kind : 0;
}

/*
 * The destination of p is an address of ours: one lookup. Never a broadcast
 * or multicast one: the agent enters no such address as XWGP_LOCAL_ADDR
 * (local_addrs_change() refuses them), so the map answers that too.
 */
static __always_inline bool dst_local(const struct pkt *p)
{
	return local_kind(p->daddr) == XWGP_LOCAL_ADDR;
}

/* The DROP_SRC_* reason when p's source must never become an endpoint, else 0. */
static __always_inline __u32 src_martian(const struct pkt *p)
{
	enum xwgp_martian m = xwgp_martian_static(p->family, p->saddr, p->sport);

	if (m == XWGP_MARTIAN_NONE)
		m = xwgp_martian_kind(local_kind(p->saddr));
	return xwgp_martian_stat(m);
}

/*
 * A source the level lets the session roam to (check_source said PUNT_ROAM).
 * Never a martian. While the side's current endpoint is active (sent within
 * XWGP_ROAM_QUIET_NS) the packet is forwarded as a candidate, the session
 * unchanged: replies keep going to the current endpoint, so one forged
 * packet, or a stream of them, moves nothing. Once it is silent, the agent
 * decides (it keeps the candidate: a second packet from it moves the session).
 */
static __always_inline __u32 roam_check(struct pkt *p, const struct xwgp_session *s, __u64 now)
{
	__u32 reason = src_martian(p);
	__u64 seen;

	if (reason)
		return reason;
	seen = p->side == XWGP_SIDE_CLIENT ? s->client_seen_ns : s->server_seen_ns;
	if (s->created_ns > seen)
		seen = s->created_ns;
	if ((__s64)(now - seen) >= (__s64)XWGP_ROAM_QUIET_NS)
		return XWGP_STAT_PUNT_ROAM;
	p->candidate = 1;
	return 0;
}

#endif /* XWGP_BPF_LOCAL_H */
