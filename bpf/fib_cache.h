/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two per-CPU caches that take the clock read and the FIB lookup off most
 * forwarded packets (README, Benchmarks: they were ~30 and ~40 ns of a
 * ~120 ns packet).
 *
 * The clock: bpf_ktime_get_boot_ns() reads the clocksource (kvm-clock in a
 * VM: ~25 ns); bpf_jiffies64() is a memory load. The boot clock is read
 * once per jiffy per CPU and reused, so "now" lags by at most one tick -
 * nothing here needs better (last_seen moves in seconds, the FIB cache in
 * tens of milliseconds).
 *
 * The FIB: an answer of bpf_fib_lookup() (egress device, MACs) is reused
 * for the same request - same family, addresses, ports, TOS/flow info and
 * ingress device, compared in full - for cfg->fib_cache_ms, so a route or
 * neighbour change takes effect within that time. The slot is picked by
 * the receiver index and direction; a collision only costs a lookup. Only
 * successful answers are kept: every punt reason is looked up afresh. A
 * larger packet than the entry has seen is looked up again, for the
 * egress MTU check.
 */
#ifndef XWGP_BPF_FIB_CACHE_H
#define XWGP_BPF_FIB_CACHE_H

#include "maps.h"

static __always_inline __u64 coarse_now_ns(void)
{
	__u32 zero = 0;
	struct xwgp_clock *c = bpf_map_lookup_elem(&xwgp_clock, &zero);
	__u64 j = bpf_jiffies64();

	if (!c)
		return bpf_ktime_get_boot_ns();
	if (c->jiffies != j || !c->boot_ns) {
		c->jiffies = j;
		c->boot_ns = bpf_ktime_get_boot_ns();
	}
	return c->boot_ns;
}

static __always_inline struct xwgp_fib_cache_entry *fib_cache_slot(__u32 receiver, __u8 side)
{
	/* Fibonacci hashing: indexes may be sequential or random, both spread. */
	__u32 slot = ((receiver ^ side) * 2654435769u) >> 18;

	_Static_assert(XWGP_FIB_CACHE_SLOTS == 1u << (32 - 18), "slot hash width");
	return bpf_map_lookup_elem(&xwgp_fib_cache, &slot);
}

static __always_inline const __u64 *fib_key_words(const struct bpf_fib_lookup *fib)
{
	_Static_assert(XWGP_FIB_KEY_WORDS * 8 == __builtin_offsetof(struct bpf_fib_lookup, h_vlan_proto),
		       "the key is everything up to ipv6_dst");
	return (const __u64 *)fib;
}

/*
 * fib: the request with tot_len 0. On a hit, fills in the answer. ttl_ms 0
 * turns the cache off at once, entries still unexpired included.
 */
static __always_inline bool fib_cache_get(const struct xwgp_fib_cache_entry *e,
					  struct bpf_fib_lookup *fib, __u16 tot_len, __u64 now,
					  __u32 ttl_ms)
{
	const __u64 *k = fib_key_words(fib);
	__u64 diff = 0;
	int i;

	/* Age against the current setting: lowering it applies to old entries. */
	if (!e || !e->filled_ns || now - e->filled_ns >= (__u64)ttl_ms * 1000000 ||
	    tot_len > e->max_len)
		return false;
	for (i = 0; i < XWGP_FIB_KEY_WORDS; i++)
		diff |= k[i] ^ e->key[i];
	if (diff)
		return false;
	fib->ifindex = e->ifindex;
	__builtin_memcpy(fib->smac, e->smac, ETH_ALEN);
	__builtin_memcpy(fib->dmac, e->dmac, ETH_ALEN);
	return true;
}

/* key: the request's words before the lookup overwrote some of them. */
static __always_inline void fib_cache_put(struct xwgp_fib_cache_entry *e, const __u64 *key,
					  const struct bpf_fib_lookup *fib, __u16 tot_len,
					  __u64 now, __u32 ttl_ms)
{
	int i;

	if (!e || !ttl_ms)
		return;
	for (i = 0; i < XWGP_FIB_KEY_WORDS; i++)
		e->key[i] = key[i];
	e->ifindex = fib->ifindex;
	e->max_len = tot_len;
	__builtin_memcpy(e->smac, fib->smac, ETH_ALEN);
	__builtin_memcpy(e->dmac, fib->dmac, ETH_ALEN);
	e->filled_ns = now;
}

#endif /* XWGP_BPF_FIB_CACHE_H */
