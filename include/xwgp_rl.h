/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rate limits on what XDP punts to the agent, shared by the XDP program
 * (bpf/rate_limit.h) and the agent (its unit tests and `xwgp show'): one
 * GCRA step and one way of naming a source.
 *
 * A source is its IPv4 address, or its IPv6 address cut to a prefix
 * (`punt_ipv6_prefix', default /64): one host of an ISP usually gets a
 * whole /64, so keying by /128 would give an attacker 2^64 buckets.
 *
 * The settings live in the single entry (key 0) of xwgp_limits, a per-load
 * map (never pinned): a new program starts with all zero, meaning the
 * defaults, until the agent writes its config there.
 */
#ifndef XWGP_RL_H
#define XWGP_RL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XWGP_V6_PREFIX_DEFAULT 64
/*
 * Transport the XDP program cannot forward itself (roaming, no route, no
 * neighbour, not established, family translation, obfuscation cases) per
 * source and second: far above what a WireGuard client sends during a
 * handshake or roam, below what floods the agent from one source.
 */
#define XWGP_TPUNT_RATE_DEFAULT_PPS 50000
#define XWGP_TPUNT_BURST_DEFAULT    5000

#define XWGP_LIM_TPUNT_OFF (1u << 0) /* transport_punt_rate 0: no limit */

struct xwgp_limits {
	__u32 v6_prefix;      /* 1..128; 0: XWGP_V6_PREFIX_DEFAULT */
	__u32 tpunt_rate_pps; /* 0: XWGP_TPUNT_RATE_DEFAULT_PPS */
	__u32 tpunt_burst;    /* 0: XWGP_TPUNT_BURST_DEFAULT */
	__u32 flags;	      /* XWGP_LIM_* */
};
_Static_assert(sizeof(struct xwgp_limits) == 16, "xwgp_limits layout");

/* The network-order mask of word w (0..3) of an IPv6 address cut to prefix bits. */
static inline __u32 xwgp_v6_word_mask(__u32 prefix, int w)
{
	__u32 bits = prefix > 32u * w ? prefix - 32u * w : 0;

	if (bits >= 32)
		return 0xffffffffu;
	if (!bits)
		return 0;
	/* Network order: the high bits of the word come first in memory. */
	return __builtin_bswap32(~0u << (32 - bits));
}

/*
 * The rate-limit key of a source (IPv4-mapped for IPv4, like struct xwgp_ep):
 * IPv4 whole, IPv6 cut to prefix (0: the default). The bswap assumes a
 * little-endian host, as XDP on x86-64/arm64 is.
 */
static inline void xwgp_rl_source(__u32 out[4], const __u32 addr[4], int v6, __u32 prefix)
{
	int w;

	if (!prefix || prefix > 128)
		prefix = XWGP_V6_PREFIX_DEFAULT;
	for (w = 0; w < 4; w++)
		out[w] = v6 ? addr[w] & xwgp_v6_word_mask(prefix, w) : addr[w];
}

/*
 * One GCRA step: *tat is the source's theoretical arrival time (0: never
 * seen). Admits (true, *tat pushed one interval further) while the TAT is
 * no more than tolerance ahead of now; refuses (false, *tat unchanged).
 */
static inline int xwgp_gcra(__u64 *tat, __u64 now, __u64 interval, __u64 tolerance)
{
	__u64 t = *tat > now ? *tat : now;

	if (t - now > tolerance)
		return 0;
	*tat = t + interval;
	return 1;
}

#endif
