/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map of the XDP program. The names are the pinned file names under
 * the instance directory (15 characters at most); every map carries BTF key
 * and value types so `bpftool map dump` prints field names. Pinning itself
 * is done by the agent (it picks the directory and reuses existing pins), so
 * no map here asks libbpf to pin by name.
 */
#ifndef XWGP_BPF_MAPS_H
#define XWGP_BPF_MAPS_H

#include "xwgp_abi.h"
#include "xwgp_agent_stats.h"
#include "fib_cache_types.h"

/*
 * WGIT v2 sessions by slot (docs/DESIGN.md section 4): both proxy indexes of
 * a session encode its slot (agent/wgit_index.h), so a transport packet
 * costs one array lookup and a compare of the whole index. Sized by
 * max_sessions before load; xwgp_slot_mask (bpf/session.h) goes with it.
 * Mappable: the agent reads and writes slots through its own mapping, no
 * syscall per slot (agent/bpf_loader.c xwgp_maps_mmap).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XWGP_MAX_SESSIONS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xwgp_session);
} xwgp_sessions SEC(".maps");

/* Handshake metadata by slot, as xwgp_sessions; agent only, pinned with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XWGP_MAX_SESSIONS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xwgp_sess_meta);
} xwgp_sess_meta SEC(".maps");

/* Server public keys xwgp_sess_meta.server_key names; agent only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XWGP_SRV_KEYS_MAX);
	__type(key, __u32);
	__type(value, struct xwgp_srv_key);
} xwgp_srv_keys SEC(".maps");

/* Replay protection and backend cookie per (server, client) key; agent only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XWGP_MAX_PEERS_DEFAULT);
	__type(key, struct xwgp_peer_key);
	__type(value, struct xwgp_peer_state);
} xwgp_peer_state SEC(".maps");

/* Run-time configuration, one entry (key 0), written by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xwgp_cfg);
} xwgp_cfg SEC(".maps");

/* Per-CPU verdict/reason counters indexed by enum xwgp_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XWGP_STAT__MAX);
	__type(key, __u32);
	__type(value, struct xwgp_stat_val);
} xwgp_stats SEC(".maps");

/*
 * AF_XDP sockets of the agent, key = slot * XWGP_MAX_QUEUES_PER_DEV + rx
 * queue: a socket only accepts frames of its own device and queue, so each
 * interface needs its own range of keys.
 */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XWGP_MAX_XSKS);
	__type(key, __u32);
	__type(value, __u32);
} xwgp_xsks SEC(".maps");

/* Devices transport may be redirected to, keyed by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XWGP_MAX_DEVS);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} xwgp_devmap SEC(".maps");

/* Handshake punt rate limiter (GCRA) per source address; LRU bounds memory. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XWGP_RL_ENTRIES);
	__type(key, struct xwgp_rl_key);
	__type(value, struct xwgp_rl_val);
} xwgp_punt_rl SEC(".maps");

/* ifindex -> slot of the interface's range of keys in xwgp_xsks. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XWGP_MAX_DEVS);
	__type(key, __u32);
	__type(value, __u32);
} xwgp_xsk_slot SEC(".maps");

/* The agent's counters (include/xwgp_agent_stats.h); never touched by XDP. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XWGP_AGENT_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} xwgp_agent_st SEC(".maps");

/*
 * The host's own and broadcast addresses (include/xwgp_abi.h), filled by the
 * agent from netlink (agent/local_addrs.c). Not pinned: each agent refills
 * it from a fresh dump before it serves.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XWGP_LOCAL_ADDRS_MAX);
	__type(key, struct xwgp_local_key);
	__type(value, __u32);
} xwgp_local_addr SEC(".maps");

/* Next hops for a host that does not forward (bpf/nexthop.h), from agent/nexthop.c. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XWGP_NEXTHOP_MAX);
	__type(key, struct xwgp_nexthop_key);
	__type(value, struct xwgp_nexthop);
} xwgp_nexthop SEC(".maps");

/*
 * Per-load caches of the fast path (bpf/fib_cache.h). Per CPU, so an entry
 * is never written by two CPUs at once (a torn FIB answer would misforward),
 * and never pinned: a new program starts them empty (agent/bpf_loader.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xwgp_clock);
} xwgp_clock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XWGP_FIB_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct xwgp_fib_cache_entry);
} xwgp_fib_cache SEC(".maps");

#endif /* XWGP_BPF_MAPS_H */
