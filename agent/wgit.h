/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The WGIT session table (DESIGN.md section 4) as the agent sees it: the
 * pinned maps are the only store, so a restarted agent (or `xwgp show`)
 * sees exactly what the XDP program forwards with.
 *
 * Proxy indexes equal origin indexes unless taken (then random, never 0);
 * force_xlat makes every index translated (tests prove MAC recomputation).
 */
#ifndef XWGP_WGIT_H
#define XWGP_WGIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf_loader.h"
#include "transport.h"
#include "xwgp_abi.h"

struct wgit {
	const struct xwgp_maps *maps;
	bool force_xlat;
};

/* Random non-zero 32-bit index (CSPRNG). */
uint32_t wgit_random_index(void);

/*
 * Insert a new session; picks s->client_proxy_index (origin unless taken or
 * forced) and stores it with its meta. Returns 0, -ENOSPC when full.
 */
int wgit_session_create(struct wgit *w, struct xwgp_session *s, const struct xwgp_session_meta *m);

/*
 * Register the backend's index for session s (after a response): picks
 * s->server_proxy_index, inserts it in xwgp_srv_index and writes s back.
 */
int wgit_session_establish(struct wgit *w, struct xwgp_session *s, uint32_t server_origin);

int wgit_session_get(const struct wgit *w, uint32_t client_proxy, struct xwgp_session *s);
int wgit_session_by_server_index(const struct wgit *w, uint32_t server_proxy,
				 struct xwgp_session *s);
int wgit_session_put(const struct wgit *w, const struct xwgp_session *s);
int wgit_meta_get(const struct wgit *w, uint32_t client_proxy, struct xwgp_session_meta *m);
int wgit_meta_put(const struct wgit *w, uint32_t client_proxy, const struct xwgp_session_meta *m);

/*
 * Record a transport packet the agent forwarded for session s (as
 * transport_forward() left it): its counters and last-seen time go to the
 * session's meta, which only the agent writes; the session itself is
 * written back only when an endpoint changed (roaming), and then only its
 * endpoints, on a fresh copy, so the XDP program's counters stay intact.
 * out is what transport_forward() said (roaming: candidate, endpoint moved).
 */
int wgit_transport_commit(const struct wgit *w, const struct xwgp_session *s, bool c2s,
			  size_t len, uint64_t now_ns, const struct transport_out *out);

/*
 * Fold the agent's share (m's agent_* counters and last-seen) into s: the
 * session's totals, as `show' and the cache file report them.
 */
void wgit_session_totals(struct xwgp_session *s, const struct xwgp_session_meta *m);

/* Remove a session with its server index and meta. */
int wgit_session_delete(const struct wgit *w, uint32_t client_proxy);

/*
 * Remove sessions idle longer than timeout_ns (by last_seen_ns, and the
 * meta's agent_last_seen_ns for sessions the agent forwards).
 * Returns how many were removed.
 */
int wgit_expire(const struct wgit *w, uint64_t now_ns, uint64_t timeout_ns);

/* Per (server key, client key) state: replay timestamps, cookies. */
int wgit_peer_get(const struct wgit *w, const struct xwgp_peer_key *k, struct xwgp_peer_state *st);
int wgit_peer_put(const struct wgit *w, const struct xwgp_peer_key *k,
		  const struct xwgp_peer_state *st);

#endif
