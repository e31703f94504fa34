// SPDX-License-Identifier: GPL-2.0
/*
 * The ceiling of the end-to-end benchmark: a bare devmap redirect from the
 * client-side veth to the backend-side veth, no parsing and no rewrite.
 * It uses the same redirect primitive as xwgp (a devmap, so frames are
 * bulked the same way), so the difference is xwgp's own work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Key 0: the egress device, set by the driver before attaching. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} bench_tx_port SEC(".maps");

SEC("xdp")
int bench_redirect(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_redirect_map(&bench_tx_port, 0, XDP_DROP);
}
