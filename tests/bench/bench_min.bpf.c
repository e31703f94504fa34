// SPDX-License-Identifier: GPL-2.0
/*
 * The reference for the fast-path cost (tests/bench/bench_fastpath.c): the
 * least any forwarding XDP program does, bounds check, swap the MACs and
 * XDP_TX. xwgp's per-packet cost is reported as a multiple of this one,
 * measured side by side with BPF_PROG_TEST_RUN.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int bench_min(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[6];

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, tmp, 6);
	return XDP_TX;
}
