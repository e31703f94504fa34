/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Values of the fast path's per-load caches (maps.h: xwgp_clock,
 * xwgp_fib_cache). BPF-only and never pinned, so they are not part of the
 * agent ABI (include/xwgp_abi.h); the BTF lets bpftool print them.
 */
#ifndef XWGP_BPF_FIB_CACHE_TYPES_H
#define XWGP_BPF_FIB_CACHE_TYPES_H

/* Direct-mapped slots per CPU (a power of two); 80 B each. */
#ifndef XWGP_FIB_CACHE_SLOTS
#define XWGP_FIB_CACHE_SLOTS 16384
#endif

/* The boot clock as read at the first packet of the current jiffy. */
struct xwgp_clock {
	__u64 jiffies;
	__u64 boot_ns;
};

/* Words of struct bpf_fib_lookup up to and including ipv6_dst: the inputs. */
#define XWGP_FIB_KEY_WORDS 6

/* One bpf_fib_lookup() answer and the inputs it was given. */
struct xwgp_fib_cache_entry {
	__u64 key[XWGP_FIB_KEY_WORDS]; /* the request with tot_len 0 */
	__u64 filled_ns; /* xwgp_clock time of the lookup; 0: empty slot */
	__u32 ifindex; /* egress device */
	__u16 max_len; /* largest tot_len the lookup accepted (egress MTU check) */
	__u8 smac[6];
	__u8 dmac[6];
	__u8 _pad[6];
};

#endif /* XWGP_BPF_FIB_CACHE_TYPES_H */
