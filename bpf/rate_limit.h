/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-source rate limits of what XDP punts to the agent, all on one GCRA
 * step keyed the same way (include/xwgp_rl.h: IPv6 by `punt_ipv6_prefix'):
 * handshakes (xwgp_punt_rl, `punt_rate'), transport the program cannot
 * forward (xwgp_tpunt_rl, `transport_punt_rate') and, under load,
 * initiations without MAC2 (xwgp_hs_src, bpf/hs_budget.h). Each map is an
 * LRU: evicting a source only ever gives it a fresh bucket.
 */
#ifndef XWGP_BPF_RATE_LIMIT_H
#define XWGP_BPF_RATE_LIMIT_H

#include "xwgp_rl.h"
#include "xwgp_hs_budget.h"
#include "maps.h"
#include "parse.h"

/* One entry; per load, never pinned (agent/bpf_loader.c pins by name list). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xwgp_limits);
} xwgp_limits SEC(".maps");

/* Under load, initiations without MAC2 per source (bpf/hs_budget.h); per load. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XWGP_HS_SOURCES);
	__type(key, struct xwgp_rl_key);
	__type(value, __u64);
} xwgp_hs_src SEC(".maps");

/* Transport punts per source: GCRA TAT in boot ns; per load. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XWGP_RL_ENTRIES);
	__type(key, struct xwgp_rl_key);
	__type(value, __u64);
} xwgp_tpunt_rl SEC(".maps");

static __always_inline const struct xwgp_limits *limits_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xwgp_limits, &zero);
}

/*
 * The GCRA step for p's source in map (values: a __u64 TAT). Racing CPUs
 * may lose an update of a bucket: a few packets more, never fewer.
 */
static __always_inline bool rl_admit(void *map, const struct pkt *p, __u64 interval,
				     __u64 tolerance)
{
	const struct xwgp_limits *l = limits_get();
	struct xwgp_rl_key key;
	__u64 *v, tat;

	xwgp_rl_source(key.addr, p->saddr, p->family == XWGP_FAMILY_IPV6, l ? l->v6_prefix : 0);
	v = bpf_map_lookup_elem(map, &key);
	tat = v ? *v : 0;
	if (!xwgp_gcra(&tat, bpf_ktime_get_boot_ns(), interval, tolerance))
		return false;
	if (v)
		*v = tat;
	else
		bpf_map_update_elem(map, &key, &tat, BPF_ANY);
	return true;
}

/* Handshake punts: `punt_rate' per source and second, `punt_burst' at once. */
static __always_inline __u32 handshake_admit(const struct xwgp_cfg *cfg, const struct pkt *p)
{
	__u32 burst = cfg->punt_burst ? cfg->punt_burst : 1;
	__u64 interval;

	if (!cfg->punt_rate_pps)
		return XWGP_STAT_PUNT_HANDSHAKE;
	interval = XWGP_NSEC_PER_SEC / cfg->punt_rate_pps;
	if (!rl_admit(&xwgp_punt_rl, p, interval, (__u64)(burst - 1) * interval))
		return XWGP_STAT_DROP_RATE_LIMITED;
	return XWGP_STAT_PUNT_HANDSHAKE;
}

/* A transport punt (reason PUNT_*): within `transport_punt_rate', else dropped. */
static __always_inline __u32 transport_punt_admit(const struct pkt *p, __u32 reason)
{
	const struct xwgp_limits *l = limits_get();
	__u32 rate = XWGP_TPUNT_RATE_DEFAULT_PPS, burst = XWGP_TPUNT_BURST_DEFAULT;
	__u64 interval;

	if (l) {
		if (l->flags & XWGP_LIM_TPUNT_OFF)
			return reason;
		if (l->tpunt_rate_pps)
			rate = l->tpunt_rate_pps;
		if (l->tpunt_burst)
			burst = l->tpunt_burst;
	}
	interval = XWGP_NSEC_PER_SEC / rate;
	if (!rl_admit(&xwgp_tpunt_rl, p, interval, (__u64)(burst - 1) * interval))
		return XWGP_STAT_DROP_TPUNT_LIMITED;
	return reason;
}

#endif /* XWGP_BPF_RATE_LIMIT_H */
