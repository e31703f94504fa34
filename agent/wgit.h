/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The WGIT session table (docs/DESIGN.md section 4) as the agent sees it: the
 * pinned maps are the only store, so a restarted agent (or `xwgp show`)
 * sees exactly what the XDP program forwards with.
 *
 * WGIT v2: xwgp assigns both proxy indexes, slot | generation (and the
 * cluster node id, wgit_index.h); sessions live in the xwgp_sessions array
 * at that slot. Every index is translated (MAC1/MAC2 recomputed on every
 * handshake).
 * The API keys sessions by client proxy index as before; the slot is
 * wgit's business.
 */
#ifndef XWGP_WGIT_H
#define XWGP_WGIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf_loader.h"
#include "transport.h"
#include "xwgp_abi.h"

/*
 * Sessions created and not (yet) answered, oldest first: the victims when
 * the table is full (wgit_admit.c). Agent memory only; entries go stale when
 * a session is answered, expires or is replaced, and are checked when
 * popped. Empty (e.g. after a restart) it is refilled by a scan of the map.
 */
struct wgit_halfopen {
	uint32_t *idx;
	uint64_t *created_ns; /* the session's created_ns: tells a reused index */
	uint32_t cap, head, n;
	uint64_t rescan_ns; /* last refill scan (at most one per second) */
};

/* Which slots hold a session, as far as this agent knows (rebuilt by a scan when full). */
struct wgit_slots {
	uint64_t *used; /* bit per slot */
	uint32_t n_slots, hint; /* hint: where the next free slot is looked for */
};

struct wgit_cand;
struct peer_mirror;

struct wgit {
	const struct xwgp_maps *maps;
	uint32_t node_id; /* cluster bits of every index (wgit_index.h) */
	uint8_t node_bits;
	struct wgit_slots *slots; /* allocated on the first create; freed by wgit_halfopen_free */
	struct wgit_halfopen halfopen;
	uint64_t peer_evict_ns; /* last peer-state eviction scan */
	/* Roaming candidates by slot, agent memory (wgit_roam_cand); freed by wgit_slots_free. */
	struct wgit_cand *cands;
	uint32_t n_cands;
	/* The peer-state map's copy (peer_mirror.h); NULL: reads go to the map. */
	struct peer_mirror *peers;
};

/* How a new session got its room (for the agent's counters). */
struct wgit_admit_info {
	unsigned int key_cap_replaced; /* the pair's oldest session gave way */
	unsigned int halfopen_evicted; /* an unanswered session of anyone gave way */
	unsigned int peer_states_evicted;
};

/* A peer state may be forgotten once idle this long with no session left. */
#define WGIT_PEER_HORIZON_SEC 180 /* WireGuard's REJECT_AFTER_TIME */

/* Allocate / free the half-open queue (cap entries); a wgit without one still works. */
int wgit_halfopen_init(struct wgit *w, uint32_t cap);
void wgit_halfopen_free(struct wgit *w);
/* Free the used-slot bitmap (rebuilt from the array when needed again) and the candidates. */
void wgit_slots_free(struct wgit *w);

/*
 * Admit a new session s (meta m) for the pair pk, whose accepted state is
 * *ps (its new timestamp already in; `stored': read from the map, so it is
 * there): store a new pair's state first (refusing with
 * -ENOBUFS when the peer-state map is full even after forgetting states
 * idle past WGIT_PEER_HORIZON_SEC with no session: the replay check must
 * never be skipped), make room when the pair already holds
 * XWGP_PEER_MAX_SESSIONS (its own oldest, unanswered ones first), create
 * the session (a full table evicts its oldest unanswered session, else the
 * pair's own oldest; -ENOSPC when neither exists: another key's established
 * session is never evicted), and record it in the pair's state. *info says
 * what gave way.
 */
int wgit_session_admit(struct wgit *w, const struct xwgp_peer_key *pk, struct xwgp_peer_state *ps,
		       bool stored, struct xwgp_session *s, const struct xwgp_session_meta *m,
		       uint64_t now_ns, struct wgit_admit_info *info);

/* Add session idx to pk's state (restoring a cache): 0, or -errno. */
int wgit_peer_track(struct wgit *w, const struct xwgp_peer_key *pk, uint32_t idx,
		    uint64_t now_ns);

/*
 * Insert a new session in a free slot; assigns s->client_proxy_index (slot
 * and a fresh generation) and stores it with its meta. Returns 0, -ENOSPC
 * when every slot is taken.
 */
int wgit_session_create(struct wgit *w, struct xwgp_session *s, const struct xwgp_session_meta *m);

/*
 * Register the backend's index for session s (after a response): assigns
 * s->server_proxy_index (the session's slot, a fresh generation) and writes
 * s back.
 */
int wgit_session_establish(struct wgit *w, struct xwgp_session *s, uint32_t server_origin);

/*
 * Place a session under the client proxy index it already has (a cache file):
 * 0, -EINVAL when the index is 0, the STUN cookie or names no slot of this
 * table, -EEXIST when its slot is taken.
 */
int wgit_session_place(struct wgit *w, const struct xwgp_session *s);

/*
 * Iterate the live sessions of an array (from slot *cursor on): true with
 * *s set and *cursor past it, false at the end.
 */
bool wgit_session_next(const struct xwgp_maps *m, uint32_t *cursor, struct xwgp_session *s);

int wgit_session_get(const struct wgit *w, uint32_t client_proxy, struct xwgp_session *s);
int wgit_session_by_server_index(const struct wgit *w, uint32_t server_proxy,
				 struct xwgp_session *s);
int wgit_session_put(const struct wgit *w, const struct xwgp_session *s);
/*
 * A session's metadata (xwgp_sess_meta at its slot, the server key from
 * xwgp_srv_keys), decoded: 0, -ENOENT when the session left its slot. put
 * stores it for a live session (a new server key gets an entry of
 * xwgp_srv_keys). Times: established_ns is kept to the millisecond after
 * handshake_ns, cookie_ns only as taken or not.
 */
int wgit_meta_get(const struct wgit *w, uint32_t client_proxy, struct xwgp_session_meta *m);
int wgit_meta_put(const struct wgit *w, uint32_t client_proxy, const struct xwgp_session_meta *m);
/* The same from the maps alone (show, metrics, cache: no struct wgit). */
int wgit_meta_read(const struct xwgp_maps *m, const struct xwgp_session *s,
		   struct xwgp_session_meta *out);
struct xwgp_sess_meta;
void wgit_meta_decode(const struct xwgp_maps *m, const struct xwgp_sess_meta *in,
		      struct xwgp_session_meta *out);

/*
 * Record a transport packet the agent forwarded for session s (as
 * transport_forward() left it): adds to the session's own counters in the
 * mapping with the atomic add XDP uses (none lost on either side), moves
 * its seen times, keeps a new roaming candidate (agent memory), and
 * writes the endpoints back under the seqlock when they changed
 * (roaming). out is what transport_forward() said. Per-session totals are
 * the session's counters: XDP's and the agent's in one place.
 */
int wgit_transport_commit(struct wgit *w, const struct xwgp_session *s, bool c2s, size_t len,
			  uint64_t now_ns, const struct transport_out *out);

/* The side's roaming candidate of session s (false, *cand zeroed: none). */
bool wgit_roam_cand(const struct wgit *w, const struct xwgp_session *s, bool c2s,
		    struct xwgp_ep *cand);

/*
 * What the agent forwarded for one session during one batch of packets
 * from the session's current endpoints (handler_flush() writes it once per
 * session per batch, docs/DESIGN.md section 2, "Batches").
 */
struct wgit_agent_delta {
	uint64_t c2s_packets, c2s_bytes, s2c_packets, s2c_bytes;
	uint64_t last_seen_ns; /* the latest packet's time */
	uint64_t client_seen_ns, server_seen_ns; /* the side's latest packet; 0: none */
};

/*
 * Add d to session client_proxy's counters and seen times in the mapping,
 * with XDP's atomic adds: 0, or -ENOENT when the session is gone meanwhile
 * (its counts go with it).
 */
int wgit_agent_account(const struct wgit *w, uint32_t client_proxy,
		       const struct wgit_agent_delta *d);

/* Remove a session (its slot freed, its meta wiped). */
int wgit_session_delete(const struct wgit *w, uint32_t client_proxy);

/*
 * Remove sessions idle longer than timeout_ns (by last_seen_ns, which XDP
 * and the agent's transport both refresh).
 * Returns how many were removed.
 */
int wgit_expire(const struct wgit *w, uint64_t now_ns, uint64_t timeout_ns);

/*
 * Start (or start again, after someone else changed the map) w's copy of the
 * peer-state map, sized by the map and loaded from it (peer_mirror.h). 0 or
 * -errno; without a copy, reads go to the map. Free it with wgit_peers_unmirror.
 */
int wgit_peers_mirror(struct wgit *w);
void wgit_peers_unmirror(struct wgit *w);

/* Per (server key, client key) state: replay timestamps, cookies. */
int wgit_peer_get(const struct wgit *w, const struct xwgp_peer_key *k, struct xwgp_peer_state *st);
int wgit_peer_put(const struct wgit *w, const struct xwgp_peer_key *k,
		  const struct xwgp_peer_state *st);
/*
 * Delete the peer states for which doomed() holds, walking the whole map
 * (or stopping once about max are deleted; 0: no bound). Returns how many.
 */
/*
 * Every peer state, for a snapshot: each(ctx, key, state) in no particular
 * order (the copy's, else the map's). Stops at the first non-zero return,
 * which it returns.
 */
int wgit_peer_each(const struct wgit *w,
		   int (*each)(void *ctx, const struct xwgp_peer_key *k,
			       const struct xwgp_peer_state *st),
		   void *ctx);
int wgit_peer_prune(const struct wgit *w,
		    bool (*doomed)(const struct wgit *w, const struct xwgp_peer_key *k, void *ctx),
		    void *ctx, int max);

#endif
