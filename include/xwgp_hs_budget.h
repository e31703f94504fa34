/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handshake budget under load, shared by the XDP program
 * (bpf/hs_budget.h) and the agent (agent/server.c). While the agent says it
 * is under load (XWGP_CFG_UNDER_LOAD in xwgp_cfg.flags), XDP punts plain
 * initiations whose MAC2 is all zero (they can only earn a cookie reply)
 * at most XWGP_HS_SOURCE_BURST at once and one per
 * XWGP_HS_SOURCE_INTERVAL_NS per source address (a WireGuard client sends
 * one every 5 s; sources tracked in an LRU of XWGP_HS_SOURCES), and within
 * `limit' per window of 2^XWGP_HS_WINDOW_SHIFT ns for all CPUs together;
 * beyond either they are dropped (DROP_RATE_LIMITED). A flood from a few
 * thousand spoofed sources so leaves room for a new client's first
 * initiation, and one from more sources than the LRU holds still meets the
 * global limit. Initiations
 * carrying a MAC2 are never held to it: the agent checks their MAC2 (one
 * keyed BLAKE2s, no X25519), so a client retrying with its cookie gets
 * through a flood. The agent sets `limit' from what it can answer.
 *
 * The single entry (key 0) of xwgp_hs_budget, a per-load map (never
 * pinned): a new program starts with limit 0, meaning the default.
 */
#ifndef XWGP_HS_BUDGET_H
#define XWGP_HS_BUDGET_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XWGP_HS_WINDOW_SHIFT	   26		/* 2^26 ns = 67.1 ms */
#define XWGP_HS_BUDGET_DEFAULT	   1024		/* per window: ~15,000 initiations/s */
#define XWGP_HS_SOURCE_INTERVAL_NS 500000000ull /* per source: 2 a second ... */
#define XWGP_HS_SOURCE_BURST	   2		/* ... and 2 at once */
#define XWGP_HS_SOURCES		   16384

struct xwgp_hs_budget {
	__u64 window; /* boot ns >> XWGP_HS_WINDOW_SHIFT of `used' */
	__u64 used;   /* zero-MAC2 initiations punted in that window */
	__u32 limit;  /* per window; 0: XWGP_HS_BUDGET_DEFAULT (written by the agent) */
	/*
	 * Initiations XDP refused under load (either limit), wrapping: while it
	 * moves the flood goes on, so the agent stays under load although XDP
	 * keeps its own intake below the threshold (no flapping).
	 */
	__u32 refused;
};
_Static_assert(sizeof(struct xwgp_hs_budget) == 24, "xwgp_hs_budget layout");

#endif
