/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The body of the minimal forwarding program (bench_min.bpf.c): bounds
 * check, swap the MACs, XDP_TX. bench_parts.bpf.c adds one building block
 * each to exactly this, so "minimal + X" means what it says.
 */
#ifndef XWGP_BENCH_SWAP_TX_H
#define XWGP_BENCH_SWAP_TX_H

static __always_inline int swap_tx(struct xdp_md *ctx)
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

#endif
