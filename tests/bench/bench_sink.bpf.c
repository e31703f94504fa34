// SPDX-License-Identifier: GPL-2.0
/*
 * Counting sink on the backend-side veth of the end-to-end benchmarks:
 * WireGuard transport messages (UDP payload starting 04 00 00 00) are
 * counted and dropped; everything else (handshakes, ARP, ND) is passed to
 * the stack, so a benchmark backend can still answer the handshake.
 * Handshake initiations (148 bytes, 01 00 00 00) are counted on their own
 * as well (the end-to-end handshake benchmark's backend-side count: exact,
 * and no socket or /proc read in the path); those to SINK_HS_PORT, where
 * that benchmark's backend is and nothing listens, are dropped here: the
 * benchmark prices the proxy, not this namespace's stack refusing them.
 * Its veth peer needs an XDP program to accept redirected frames at all
 * (docs/DESIGN.md section 8); this is it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP   0x0800
#define ETH_P_IPV6 0x86DD

enum { SINK_TRANSPORT, SINK_OTHER, SINK_INIT, SINK__MAX };

#define SINK_HS_PORT 51899 /* tests/bench/run.sh hs_config */

struct sink_val {
	__u64 packets;
	__u64 bytes;
};

/*
 * Per CPU: [SINK_TRANSPORT] counted and dropped, [SINK_OTHER] passed,
 * [SINK_INIT] the initiations among [SINK_OTHER].
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SINK__MAX);
	__type(key, __u32);
	__type(value, struct sink_val);
} bench_sink_cnt SEC(".maps");

static __always_inline int count_segs(__u32 slot, __u64 bytes, __u32 segs, int act)
{
	struct sink_val *v = bpf_map_lookup_elem(&bench_sink_cnt, &slot);

	if (v) {
		v->packets += segs;
		v->bytes += bytes;
	}
	return act;
}

static __always_inline int count(__u32 slot, __u64 bytes, int act)
{
	return count_segs(slot, bytes, 1, act);
}

/* UDP header of an IPv4 (no options needed: senders never use them) or IPv6 frame. */
static __always_inline struct udphdr *udp_of(void *data, void *end)
{
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct ipv6hdr *ip6h;

	if ((void *)(eth + 1) > end)
		return NULL;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		iph = (void *)(eth + 1);
		if ((void *)(iph + 1) > end || iph->protocol != IPPROTO_UDP)
			return NULL;
		return (void *)iph + iph->ihl * 4;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6h = (void *)(eth + 1);
		if ((void *)(ip6h + 1) > end || ip6h->nexthdr != IPPROTO_UDP)
			return NULL;
		return (void *)(ip6h + 1);
	}
	return NULL;
}

/*
 * Count [data, end); the verdict is drop (transport) or pass, in either
 * program's values. segs: the datagrams the frame carries (a UDP GSO
 * super-packet on lo is never split before the socket: the agent sends
 * runs of datagrams to one destination as one, see agent/udp_batch.c).
 */
static __always_inline int sink(void *data, void *end, __u32 segs, int pass, int drop)
{
	__u64 len = end - data;
	struct udphdr *udp = udp_of(data, end);
	__u8 *m;

	if (!udp)
		return count(SINK_OTHER, len, pass);
	m = (void *)(udp + 1);
	if ((void *)(m + 4) > end)
		return count(SINK_OTHER, len, pass);
	if (m[0] == 4 && !m[1] && !m[2] && !m[3])
		return count_segs(SINK_TRANSPORT, len, segs, drop);
	if (m[0] == 1 && !m[1] && !m[2] && !m[3] && (void *)m + 148 == end) {
		if (udp->dest == bpf_htons(SINK_HS_PORT))
			return count(SINK_INIT, len, drop);
		count(SINK_INIT, len, pass);
	}
	return count(SINK_OTHER, len, pass);
}

SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	return sink((void *)(long)ctx->data, (void *)(long)ctx->data_end, 1, XDP_PASS, XDP_DROP);
}

/*
 * The same on TC ingress of lo: where transport to a backend on this host
 * arrives, from the kernel path (TC's redirect into lo) and from the
 * agent's socket alike (the local-backend rows of tests/bench/run.sh).
 * Generic XDP on lo would not see the redirected packets.
 */
SEC("tc")
int bench_sink_tc(struct __sk_buff *skb)
{
	/* A GSO super-packet may hold only part of the headers in its linear part. */
	bpf_skb_pull_data(skb, skb->len < 128 ? skb->len : 128);
	return sink((void *)(long)skb->data, (void *)(long)skb->data_end,
		    skb->gso_segs > 1 ? skb->gso_segs : 1, 0 /* TC_ACT_OK */, 2 /* TC_ACT_SHOT */);
}
