/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Under load, a global budget for initiations without MAC2
 * (include/xwgp_hs_budget.h). Its slow-path twin is the agent's
 * cookie_guard_can_wait() (agent/cookie_guard.c): the same initiations (plain,
 * 148 bytes, MAC2 all zero) are the ones the agent serves last within a
 * batch; tests/bpf/test_xdp.c checks that both pick the same packets.
 * Obfuscated initiations are not looked into (their MAC2 is encoded): they
 * keep the per-source limit only, as the agent serves them in order.
 */
#ifndef XWGP_BPF_HS_BUDGET_H
#define XWGP_BPF_HS_BUDGET_H

#include "xwgp_hs_budget.h"
#include "rate_limit.h"

/* One entry; per load, never pinned (agent/bpf_loader.c pins by name list). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xwgp_hs_budget);
} xwgp_hs_budget SEC(".maps");

/* Per source under load: xwgp_hs_src in bpf/rate_limit.h, keyed as every limit. */
static __always_inline bool hs_source_admit(const struct pkt *p)
{
	return rl_admit(&xwgp_hs_src, p, XWGP_HS_SOURCE_INTERVAL_NS,
			(XWGP_HS_SOURCE_BURST - 1) * XWGP_HS_SOURCE_INTERVAL_NS);
}

/* A plain initiation whose MAC2 (bytes 132..147) is all zero. */
static __always_inline bool hs_mac2_zero(const struct pkt *p)
{
	const __u8 *m = p->msg;
	__u64 a, b;

	if (p->type != WG_MSG_INITIATION || p->msg_len != WG_INIT_LEN ||
	    (void *)(m + WG_INIT_LEN) > p->data_end || m[0] != WG_MSG_INITIATION)
		return false; /* obfuscated (m[0] is not the type), or not ours to judge */
	__builtin_memcpy(&a, m + WG_INIT_OFF_MAC2, 8);
	__builtin_memcpy(&b, m + WG_INIT_OFF_MAC2 + 8, 8);
	return !(a | b);
}

/*
 * reason: what the checks before decided (PUNT_HANDSHAKE to punt). Racing
 * CPUs may both reset a new window: the budget is then exceeded by a few
 * packets, never starved.
 */
static __always_inline __u32 hs_budget_admit(const struct xwgp_cfg *cfg, const struct pkt *p,
					     __u32 reason)
{
	struct xwgp_hs_budget *b;
	__u32 zero = 0, limit;
	__u64 now, win;

	if (reason != XWGP_STAT_PUNT_HANDSHAKE || !(cfg->flags & XWGP_CFG_UNDER_LOAD) ||
	    !hs_mac2_zero(p))
		return reason;
	b = bpf_map_lookup_elem(&xwgp_hs_budget, &zero);
	if (!b)
		return reason;
	now = bpf_ktime_get_boot_ns();
	if (!hs_source_admit(p)) {
		__sync_fetch_and_add(&b->refused, 1);
		return XWGP_STAT_DROP_RATE_LIMITED;
	}
	limit = b->limit ? b->limit : XWGP_HS_BUDGET_DEFAULT;
	win = now >> XWGP_HS_WINDOW_SHIFT;
	if (b->window != win) {
		b->window = win;
		b->used = 0;
	}
	if (__sync_fetch_and_add(&b->used, 1) >= limit) {
		__sync_fetch_and_add(&b->refused, 1);
		return XWGP_STAT_DROP_RATE_LIMITED;
	}
	return reason;
}

#endif
