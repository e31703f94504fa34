/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The WGIT v2 session lookup of the fast path (docs/DESIGN.md section 4).
 *
 * The receiver index names a slot (its low bits) and a generation (the
 * rest); the session in that slot is ours only when the index it stores for
 * that side equals the receiver index as a whole, so a stale or guessed
 * index fails here and is dropped as DROP_UNKNOWN_INDEX.
 *
 * The agent rewrites a slot in place (an array value is not replaced by a
 * copy, as a hash value is), guarded by the slot's seq: odd while it writes,
 * the next even value when it is done (agent/wgit.c: publish). XDP takes seq
 * before it reads anything of the session and compares it again
 * (session_stable) before it changes the packet, where a packet that met a
 * rewrite is punted unmodified, and once more after the rewrite (which reads
 * the session's endpoints), where it is dropped (PUNT_SESSION_BUSY,
 * DROP_SESSION_TORN).
 * So every forwarded packet carries one session's rewrite, never a mix. This relies
 * on loads not being reordered with loads, which x86 (TSO) guarantees; the
 * compiler barriers keep clang from moving the reads.
 */
#ifndef XWGP_BPF_SESSION_H
#define XWGP_BPF_SESSION_H

#include "maps.h"
#include "parse.h"

/* Low bits of an index that name the slot; the agent sets it with max_entries. */
const volatile __u32 xwgp_slot_mask = XWGP_SLOT_MASK_DEFAULT;

#define xwgp_barrier() asm volatile("" ::: "memory")

static __always_inline __u32 session_seq(const struct xwgp_session *s)
{
	return *(const volatile __u32 *)&s->seq;
}

/*
 * The session named by p->receiver on p's side, or NULL; p->sess_seq its
 * seq as read first (odd: being written, the caller punts).
 */
static __always_inline struct xwgp_session *session_lookup(struct pkt *p)
{
	__u32 slot = p->receiver & xwgp_slot_mask;
	struct xwgp_session *s = bpf_map_lookup_elem(&xwgp_sessions, &slot);
	__u32 idx;

	if (!s)
		return NULL;
	p->sess_seq = session_seq(s);
	xwgp_barrier();
	idx = p->side == XWGP_SIDE_CLIENT ? s->server_proxy_index : s->client_proxy_index;
	return idx == p->receiver ? s : NULL;
}

/* Nothing of s was rewritten since session_lookup took p->sess_seq. */
static __always_inline bool session_stable(const struct xwgp_session *s, const struct pkt *p)
{
	__u32 seq = p->sess_seq;

	xwgp_barrier();
	return !(seq & 1) && session_seq(s) == seq;
}

/*
 * Count one forwarded packet of len message bytes on a side (c2s: from the
 * client). Locked adds, on the same counters the agent adds to through its
 * mapping (agent/wgit.c wgit_transport_commit): neither loses the other's
 * increments, nor does a second CPU on the same session. The measured
 * alternatives (plain adds, a per-CPU accumulator) and why this one stays:
 * docs/DESIGN.md section 4, "Counters". For every program that forwards
 * for a session (XDP here, TC for local backends).
 */
static __always_inline void session_count(struct xwgp_session *s, bool c2s, __u64 len)
{
	if (c2s) {
		__sync_fetch_and_add(&s->c2s_packets, 1);
		__sync_fetch_and_add(&s->c2s_bytes, len);
	} else {
		__sync_fetch_and_add(&s->s2c_packets, 1);
		__sync_fetch_and_add(&s->s2c_bytes, len);
	}
}

#endif /* XWGP_BPF_SESSION_H */
