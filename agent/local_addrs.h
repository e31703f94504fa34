/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's own addresses in the agent's network namespace, kept current
 * from netlink address events (RTM_NEWADDR/RTM_DELADDR) in a table here and
 * in the XDP program's xwgp_local_addr map, so an address added later is
 * served without a restart. Two questions use it, in both paths:
 *   - is a packet to our port for us? A wildcard listen/upstream claims only
 *     our own addresses (bpf/local.h's dst_local is the XDP twin);
 *   - may a source become a session's endpoint? Never our own or a subnet's
 *     broadcast address (include/xwgp_martian.h, bpf/local.h's src_martian).
 */
#ifndef XWGP_LOCAL_ADDRS_H
#define XWGP_LOCAL_ADDRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xwgp_abi.h"
#include "xwgp_martian.h"

/* One address on one interface: a set, so a dump racing an event is harmless. */
struct local_addr {
	uint32_t addr[4]; /* IPv4-mapped for IPv4 */
	uint32_t ifindex;
	uint32_t kind; /* XWGP_LOCAL_ADDR or XWGP_LOCAL_BROADCAST */
	uint32_t owner; /* a broadcast's IPv4 address it belongs to (two may share it) */
};

/*
 * Other rtnetlink events on the same socket, for agent/nexthop.c: msg for
 * each, lost when events were dropped (ENOBUFS), done after each batch.
 */
struct nlmsghdr;
struct local_nl_hook {
	void (*msg)(void *ctx, const struct nlmsghdr *nh);
	void (*lost)(void *ctx);
	void (*done)(void *ctx);
	void *ctx;
};

struct local_addrs {
	int nl_fd; /* subscribed to address events; -1: closed */
	const struct local_nl_hook *hook; /* NULL: addresses only */
	int map_fd; /* xwgp_local_addr, or -1 (tests: the table only) */
	struct local_addr *v;
	size_t n, cap;
	bool full_warned;
};

/*
 * Subscribe to address events and load every current address (a dump,
 * answered before this returns: the agent serves nothing before). map_fd
 * may be -1. 0 or -errno.
 */
int local_addrs_open(struct local_addrs *la, int map_fd);
void local_addrs_close(struct local_addrs *la);
static inline int local_addrs_fd(const struct local_addrs *la)
{
	return la->nl_fd;
}
/*
 * Subscribe the socket to neighbour and route events too, handed to hook
 * (which must outlive la). 0 or -errno.
 */
int local_addrs_watch_routes(struct local_addrs *la, const struct local_nl_hook *hook);

/* Apply the pending events (nl_fd readable). A lost event resyncs from a dump. */
void local_addrs_update(struct local_addrs *la);

/* Add or remove one entry (what an event does; tests call it directly). */
int local_addrs_change(struct local_addrs *la, const uint32_t addr[4], uint32_t ifindex,
		       uint32_t kind, uint32_t owner, bool add);

/* 0, XWGP_LOCAL_ADDR or XWGP_LOCAL_BROADCAST; la may be NULL (no table). */
uint32_t local_addrs_kind(const struct local_addrs *la, const struct xwgp_ep *ep);

/* Why src must never become an endpoint (XWGP_MARTIAN_NONE: it may). */
enum xwgp_martian local_addrs_martian(const struct local_addrs *la, const struct xwgp_ep *src);

/*
 * Is a packet to dst, arriving on the side configured as `cfg` (listen or
 * upstream), ours? A configured address claims itself; a wildcard claims
 * only addresses of ours, never a broadcast or multicast one. dst of family
 * NONE (unknown) is taken as ours: the socket it came through decided.
 */
bool local_addrs_claims(const struct local_addrs *la, const struct xwgp_ep *cfg,
			const struct xwgp_ep *dst);

#endif
