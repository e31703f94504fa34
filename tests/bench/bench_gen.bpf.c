// SPDX-License-Identifier: GPL-2.0
/*
 * Packet generator for the end-to-end benchmarks (bench_traffic gen): run
 * with BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES on a veth, every
 * frame this returns XDP_TX for is really transmitted to the veth peer
 * (docs/DESIGN.md section 8: xdp-trafficgen does not load on this kernel).
 *
 * Two things the kernel's live-frames mode leaves to the program:
 *  - Frame contents are written once per page, and pages are recycled after
 *    the frames come back from the far end, rewritten by whatever forwarded
 *    them (xwgp rewrites addresses, ports and the index in place). So every
 *    frame gets its first GEN_RESTORE_LEN bytes (all headers and the
 *    WireGuard header) copied back from the template before it is sent.
 *  - No pacing: each BPF_PROG_TEST_RUN call costs milliseconds of setup, so
 *    pacing by calls would send bursts. The program paces itself instead:
 *    with interval_ns set, a run before the next slot is a cheap XDP_DROP
 *    (not sent), and a late sender catches up by at most GEN_BURST frames.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define GEN_RESTORE_LEN 80 /* Ethernet + IPv6 + UDP + 16-byte WireGuard header */
#define GEN_BURST	32

/* Set by the driver between runs (the skeleton maps .bss). */
__u8 tmpl[GEN_RESTORE_LEN];
__u64 interval_ns; /* 0: as fast as possible */
__u64 next_ns;
__u64 sent;

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (interval_ns) {
		__u64 now = bpf_ktime_get_ns();

		if (now < next_ns)
			return XDP_DROP;
		next_ns += interval_ns;
		if (now > next_ns + GEN_BURST * interval_ns)
			next_ns = now + interval_ns; /* too late: slots are lost, not burst */
	}
	if (data + GEN_RESTORE_LEN > end)
		return XDP_DROP;
	__builtin_memcpy(data, tmpl, GEN_RESTORE_LEN);
	sent++;
	return XDP_TX;
}
