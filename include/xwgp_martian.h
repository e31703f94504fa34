/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sources that never become a session's endpoint, one rule for the XDP
 * program (bpf/local.h) and the agent (agent/local_addrs.c): no stack sends
 * from them, so a packet carrying one is forged, and a session pointed at
 * one would make xwgp send its traffic to itself, to a whole subnet, or to
 * a host that never asked for it (a reflector).
 *
 * Addresses are IPv4-mapped for IPv4, as in struct xwgp_ep, network order.
 * An IPv6 packet carrying an IPv4-mapped source is judged by the IPv4 rules:
 * a dual-stack socket would answer it over IPv4.
 */
#ifndef XWGP_MARTIAN_H
#define XWGP_MARTIAN_H

#include "xwgp_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

enum xwgp_martian {
	XWGP_MARTIAN_NONE,
	XWGP_MARTIAN_LOOPBACK,	/* 127.0.0.0/8, ::1 */
	XWGP_MARTIAN_UNSPEC,	/* 0.0.0.0/8, :: */
	XWGP_MARTIAN_MULTICAST, /* 224.0.0.0/4, ff00::/8 */
	XWGP_MARTIAN_BROADCAST, /* 255.255.255.255, or a subnet broadcast of ours */
	XWGP_MARTIAN_LOCAL,	/* one of the proxy's own addresses */
	XWGP_MARTIAN_PORT0,
};

static __always_inline int xwgp_addr_is_v4mapped(const __u32 a[4])
{
	const __u8 *b = (const __u8 *)&a[2];

	return !a[0] && !a[1] && !b[0] && !b[1] && b[2] == 0xff && b[3] == 0xff;
}

/*
 * What needs no table: the reserved ranges and port 0. XWGP_MARTIAN_NONE
 * means "ask the local-address table" (xwgp_martian_kind).
 */
static __always_inline enum xwgp_martian xwgp_martian_static(__u16 family, const __u32 a[4],
							     __be16 port)
{
	const __u8 *b = (const __u8 *)&a[3];
	const __u8 *b0 = (const __u8 *)&a[0];

	if (family == XWGP_FAMILY_IPV4 || xwgp_addr_is_v4mapped(a)) {
		if (b[0] == 127)
			return XWGP_MARTIAN_LOOPBACK;
		if (b[0] == 0)
			return XWGP_MARTIAN_UNSPEC;
		if (b[0] >= 224 && b[0] <= 239)
			return XWGP_MARTIAN_MULTICAST;
		if (a[3] == 0xffffffffu)
			return XWGP_MARTIAN_BROADCAST;
	} else if (family == XWGP_FAMILY_IPV6) {
		if (b0[0] == 0xff)
			return XWGP_MARTIAN_MULTICAST;
		if (!a[0] && !a[1] && !a[2] && !b[0] && !b[1] && !b[2]) {
			if (b[3] == 1)
				return XWGP_MARTIAN_LOOPBACK;
			if (b[3] == 0)
				return XWGP_MARTIAN_UNSPEC;
		}
	} else {
		return XWGP_MARTIAN_UNSPEC;
	}
	return port ? XWGP_MARTIAN_NONE : XWGP_MARTIAN_PORT0;
}

/* The table's answer (0, XWGP_LOCAL_ADDR, XWGP_LOCAL_BROADCAST) as a reason. */
static __always_inline enum xwgp_martian xwgp_martian_kind(__u32 kind)
{
	if (kind == XWGP_LOCAL_ADDR)
		return XWGP_MARTIAN_LOCAL;
	if (kind == XWGP_LOCAL_BROADCAST)
		return XWGP_MARTIAN_BROADCAST;
	return XWGP_MARTIAN_NONE;
}

/* The XDP counter (enum xwgp_stat) of a martian source; 0 for none. */
static __always_inline __u32 xwgp_martian_stat(enum xwgp_martian m)
{
	switch (m) {
	case XWGP_MARTIAN_NONE:
		return 0;
	case XWGP_MARTIAN_LOOPBACK:
		return XWGP_STAT_DROP_SRC_LOOPBACK;
	case XWGP_MARTIAN_UNSPEC:
		return XWGP_STAT_DROP_SRC_UNSPEC;
	case XWGP_MARTIAN_MULTICAST:
		return XWGP_STAT_DROP_SRC_MULTICAST;
	case XWGP_MARTIAN_BROADCAST:
		return XWGP_STAT_DROP_SRC_BROADCAST;
	case XWGP_MARTIAN_LOCAL:
		return XWGP_STAT_DROP_SRC_LOCAL;
	default:
		return XWGP_STAT_DROP_SRC_PORT0;
	}
}

/* A destination a wildcard never claims, whatever the table says. */
static __always_inline int xwgp_dst_never_ours(__u16 family, const __u32 a[4])
{
	enum xwgp_martian m = xwgp_martian_static(family, a, 1);

	return m == XWGP_MARTIAN_MULTICAST || m == XWGP_MARTIAN_BROADCAST ||
	       m == XWGP_MARTIAN_UNSPEC;
}

#endif /* XWGP_MARTIAN_H */
