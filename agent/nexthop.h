/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Next hops for a host that does not forward (issue 14 item 3; docs/DESIGN.md
 * section 3, "A host that does not forward"). With the forwarding sysctl off
 * on the ingress device bpf_fib_lookup() answers FWD_DISABLED; the XDP
 * program then uses the entry of the destination in xwgp_nexthop
 * (bpf/nexthop.h), which this table fills (while an attached interface has
 * forwarding off, agent/server.c): for every destination the agent itself
 * had to forward transport to, the route (RTM_GETROUTE: egress
 * device, gateway, MTU) and the neighbour (RTM_GETNEIGH: the next hop's MAC),
 * as the agent's own socket would send. Kept fresh by the netlink events of
 * agent/local_addrs.c's socket (neighbour and route changes) and re-resolved
 * once a second (XWGP_NEXTHOP_REFRESH_NS); XDP ignores entries older than
 * XWGP_NEXTHOP_MAX_AGE_NS. A destination no punted packet needed for
 * NEXTHOPS_IDLE_NS is forgotten (its next packet is punted and wants it again).
 */
#ifndef XWGP_NEXTHOP_H
#define XWGP_NEXTHOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "xwgp_abi.h"

#define NEXTHOPS_IDLE_NS (300ULL * 1000000000ULL)
#define NEXTHOPS_RETRY_NS 100000000ULL /* an unresolved destination: at most 10 tries a second */

struct nexthop_dest {
	uint32_t addr[4]; /* destination, IPv4-mapped */
	uint32_t via[4]; /* the route's gateway, or addr itself (on-link) */
	uint32_t ifindex; /* egress device; 0: no route answer yet */
	bool in_map; /* an entry is in xwgp_nexthop */
	bool dirty; /* re-resolve at the end of the event batch */
	uint64_t wanted_ns; /* last packet that needed it */
	uint64_t tried_ns; /* last resolution */
};

struct nexthops {
	int map_fd; /* xwgp_nexthop; -1: off */
	int q_fd; /* netlink requests (route, neighbour); the events come elsewhere */
	uint32_t seq;
	struct nexthop_dest *v;
	size_t n, cap;
	bool any_dirty;
};

/* 0 or -errno; map_fd -1 makes every call a no-op. */
int nexthops_init(struct nexthops *t, int map_fd);
void nexthops_fini(struct nexthops *t);

/* The agent forwarded transport to dst: keep a next hop for it. */
void nexthops_want(struct nexthops *t, const struct xwgp_ep *dst, uint64_t now);

/* Once a second: re-resolve every destination still wanted, forget the others. */
void nexthops_tick(struct nexthops *t, uint64_t now);

/*
 * Netlink events (agent/local_addrs.c passes them on): a neighbour or a
 * route changed, or events were lost. Entries that may be wrong leave the
 * map at once; nexthops_settle() re-resolves them after the batch.
 */
void nexthops_on_msg(struct nexthops *t, const struct nlmsghdr *nh);
void nexthops_lost(struct nexthops *t);
void nexthops_settle(struct nexthops *t, uint64_t now);

/* Resolve one destination now (tests): 0, or -errno (no route, no neighbour, ...). */
int nexthops_resolve(struct nexthops *t, struct nexthop_dest *d, uint64_t now);

#endif
