// SPDX-License-Identifier: GPL-2.0
/*
 * The reference for the fast-path cost (tests/bench/bench_fastpath.c): the
 * least any forwarding XDP program does, bounds check, swap the MACs and
 * XDP_TX. xwgp's per-packet cost is reported as a multiple of this one,
 * measured side by side with BPF_PROG_TEST_RUN.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "swap_tx.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int bench_min(struct xdp_md *ctx)
{
	return swap_tx(ctx);
}
