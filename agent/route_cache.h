/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The local address a backend is reached from, remembered by the event loop
 * (which finishes every initiation). Every forwarded initiation needs it (the session's server_local),
 * and asking the kernel (udp_route_local_kept: two connect()s and a
 * getsockname() on a kept socket) costs three syscalls per initiation.
 *
 * An answer is kept for ROUTE_CACHE_TTL_NS at most, and the owner clears
 * the cache on every address, route or neighbour event of its netlink
 * socket (server.c), so a routing change is seen by the next initiation;
 * the TTL bounds what a lost event (or a policy-routing change, which
 * sends none) can leave stale.
 * Direct-mapped by the backend's address: a few backends per host, and a
 * collision only costs a lookup.
 */
#ifndef XWGP_ROUTE_CACHE_H
#define XWGP_ROUTE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "xwgp_abi.h"

#define ROUTE_CACHE_SLOTS 64
#define ROUTE_CACHE_TTL_NS 1000000000ULL

struct route_cache_entry {
	struct xwgp_ep remote; /* port included: policy routing may use it */
	struct xwgp_ep local; /* port 0 */
	uint64_t taken_ns; /* 0: empty */
};

struct route_cache {
	struct route_cache_entry e[ROUTE_CACHE_SLOTS];
	uint64_t hits, misses;
};

/* The answer for remote if one younger than the TTL is kept. */
bool route_cache_get(struct route_cache *c, const struct xwgp_ep *remote, uint64_t now_ns,
		     struct xwgp_ep *local);
/* Keep the kernel's answer (taken at now_ns). */
void route_cache_put(struct route_cache *c, const struct xwgp_ep *remote,
		     const struct xwgp_ep *local, uint64_t now_ns);
/* Forget every answer (the routing may have changed). */
void route_cache_clear(struct route_cache *c);

#endif
