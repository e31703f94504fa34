// SPDX-License-Identifier: GPL-2.0
/*
 * Cost of the building blocks of xwgp's fast path, each added to the
 * minimal program (bench_min.bpf.c) and timed the same way by
 * bench_fastpath: where the time of a forwarded packet goes, on machines
 * without hardware performance counters (no `perf stat', no `bpftool prog
 * profile'). Each program does its part, swaps the MACs and returns XDP_TX.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xwgp_abi.h"
#include "swap_tx.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2

/* The IPv4 backend bpf_fib_lookup() resolves (set before load). */
const volatile __u32 fib_dst = 0;
const volatile __u32 fib_src = 0;

/* Results land here so the compiler cannot drop the work. */
__u64 sink;

/* Like xwgp_sessions: the key part_hash looks up is present. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct xwgp_session);
} part_sessions SEC(".maps");

/* Like xwgp_stats. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XWGP_STAT__MAX);
	__type(key, __u32);
	__type(value, struct xwgp_stat_val);
} part_stats SEC(".maps");

/* One bpf_ktime_get_boot_ns(): xwgp reads the clock once per forwarded packet. */
SEC("xdp")
int part_ktime(struct xdp_md *ctx)
{
	sink += bpf_ktime_get_boot_ns();
	return swap_tx(ctx);
}

/* The cheaper clock an idle timeout could use instead (jiffies, no clocksource read). */
SEC("xdp")
int part_jiffies(struct xdp_md *ctx)
{
	sink += bpf_jiffies64();
	return swap_tx(ctx);
}

/* One successful IPv4 FIB lookup with neighbour, as xwgp does per packet. */
SEC("xdp")
int part_fib(struct xdp_md *ctx)
{
	struct bpf_fib_lookup fib = {};

	fib.family = AF_INET;
	fib.l4_protocol = IPPROTO_UDP;
	fib.sport = bpf_htons(40001);
	fib.dport = bpf_htons(51820);
	fib.tot_len = 156;
	fib.ifindex = ctx->ingress_ifindex;
	fib.ipv4_src = fib_src;
	fib.ipv4_dst = fib_dst;
	sink += bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) == BPF_FIB_LKUP_RET_SUCCESS;
	return swap_tx(ctx);
}

/* Two hash lookups that hit (client->server: index map, then the session). */
SEC("xdp")
int part_hash2(struct xdp_md *ctx)
{
	__u32 k = 1;
	struct xwgp_session *s = bpf_map_lookup_elem(&part_sessions, &k);

	if (s) {
		k = s->client_proxy_index;
		s = bpf_map_lookup_elem(&part_sessions, &k);
		if (s)
			sink += s->flags;
	}
	return swap_tx(ctx);
}

/* Two atomic adds on a shared map value: the session's packet and byte counters. */
SEC("xdp")
int part_atomic2(struct xdp_md *ctx)
{
	__u32 k = 1;
	struct xwgp_session *s = bpf_map_lookup_elem(&part_sessions, &k);

	if (s) {
		__sync_fetch_and_add(&s->c2s_packets, 1);
		__sync_fetch_and_add(&s->c2s_bytes, 128);
	}
	return swap_tx(ctx);
}

/*
 * The same two adds, plain (no lock prefix): exact only while one CPU
 * updates the session at a time (RSS keeps a flow on one queue); two CPUs
 * on one session can lose each other's increments.
 */
SEC("xdp")
int part_plain2(struct xdp_md *ctx)
{
	__u32 k = 1;
	struct xwgp_session *s = bpf_map_lookup_elem(&part_sessions, &k);

	if (s) {
		s->c2s_packets += 1;
		s->c2s_bytes += 128;
	}
	return swap_tx(ctx);
}

/*
 * Per-CPU accumulate and flush: each CPU keeps the packets and bytes of the
 * last session it counted in a per-CPU slot (plain adds) and adds them to
 * the session with the two atomic adds when another session comes, or
 * every PART_FLUSH_EVERY packets (the bound on how far a reader lags).
 * Exact, and a per-CPU memory of one entry (not per session).
 */
#define PART_FLUSH_EVERY 64

struct part_acc {
	__u32 key;
	__u32 _pad;
	__u64 packets, bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct part_acc);
} part_acc SEC(".maps");

static __always_inline void acc_flush(struct part_acc *a)
{
	struct xwgp_session *old = bpf_map_lookup_elem(&part_sessions, &a->key);

	if (old && a->packets) {
		__sync_fetch_and_add(&old->c2s_packets, a->packets);
		__sync_fetch_and_add(&old->c2s_bytes, a->bytes);
	}
	a->packets = a->bytes = 0;
}

SEC("xdp")
int part_pcpu_acc(struct xdp_md *ctx)
{
	__u32 k = 1, zero = 0;
	struct xwgp_session *s = bpf_map_lookup_elem(&part_sessions, &k);
	struct part_acc *a = bpf_map_lookup_elem(&part_acc, &zero);

	if (s && a) {
		if (a->key != k) {
			acc_flush(a);
			a->key = k;
		}
		a->packets++;
		a->bytes += 128;
		if (a->packets >= PART_FLUSH_EVERY)
			acc_flush(a);
	}
	return swap_tx(ctx);
}

static __always_inline void stat_add(__u32 k, __u64 bytes)
{
	struct xwgp_stat_val *v = bpf_map_lookup_elem(&part_stats, &k);

	if (v) {
		v->packets++;
		v->bytes += bytes;
	}
}

/* Two per-CPU counter updates: xwgp counts RX and the verdict of every packet. */
SEC("xdp")
int part_stats2(struct xdp_md *ctx)
{
	stat_add(0, 170);
	stat_add(XWGP_STAT_C2S_REDIRECT, 170);
	return swap_tx(ctx);
}
