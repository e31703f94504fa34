// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <sodium.h>

#include "index_pick.h"
#include "log.h"
#include "wgit.h"

/* Claim a client proxy index: the session stored under it, or -EEXIST. */
struct session_claim {
	const struct wgit *w;
	struct xwgp_session *s;
};

static int claim_session(uint32_t idx, void *ctx)
{
	struct session_claim *c = ctx;

	c->s->client_proxy_index = idx;
	if (idx != c->s->client_origin_index)
		c->s->flags |= XWGP_SF_XLAT_CLIENT;
	else
		c->s->flags &= ~XWGP_SF_XLAT_CLIENT;
	return bpf_map_update_elem(c->w->maps->sessions, &idx, c->s, BPF_NOEXIST) ? -errno : 0;
}

int wgit_session_create(struct wgit *w, struct xwgp_session *s, const struct xwgp_session_meta *m)
{
	struct session_claim c = { w, s };
	uint32_t idx;
	int err;

	/* Index 0 is never valid on the fast path: xwgp_index_pick translates it. */
	err = xwgp_index_pick(s->client_origin_index, w->force_xlat, claim_session, &c, &idx);
	if (err)
		return err == -E2BIG ? -ENOSPC : err;
	if (bpf_map_update_elem(w->maps->sess_meta, &idx, m, BPF_ANY)) {
		err = -errno;
		bpf_map_delete_elem(w->maps->sessions, &idx);
		return err == -E2BIG ? -ENOSPC : err;
	}
	return 0;
}

/* Claim a server proxy index: it maps to the session's client proxy index. */
static int claim_srv_index(uint32_t idx, void *ctx)
{
	struct session_claim *c = ctx;

	return bpf_map_update_elem(c->w->maps->srv_index, &idx, &c->s->client_proxy_index,
				   BPF_NOEXIST) ?
		       -errno :
		       0;
}

int wgit_session_establish(struct wgit *w, struct xwgp_session *s, uint32_t server_origin)
{
	struct session_claim c = { w, s };
	uint32_t idx;
	int err;

	/* A repeated response for the same session: drop its old index first. */
	if (s->flags & XWGP_SF_ESTABLISHED)
		bpf_map_delete_elem(w->maps->srv_index, &s->server_proxy_index);
	err = xwgp_index_pick(server_origin, w->force_xlat, claim_srv_index, &c, &idx);
	if (err)
		return err == -E2BIG ? -ENOSPC : err;
	s->server_origin_index = server_origin;
	s->server_proxy_index = idx;
	s->flags |= XWGP_SF_ESTABLISHED;
	if (idx != server_origin)
		s->flags |= XWGP_SF_XLAT_SERVER;
	else
		s->flags &= ~XWGP_SF_XLAT_SERVER;
	err = wgit_session_put(w, s);
	if (err)
		bpf_map_delete_elem(w->maps->srv_index, &idx);
	return err;
}

static int lookup(int fd, const void *key, void *val)
{
	return bpf_map_lookup_elem(fd, key, val) ? -errno : 0;
}

int wgit_session_get(const struct wgit *w, uint32_t client_proxy, struct xwgp_session *s)
{
	return lookup(w->maps->sessions, &client_proxy, s);
}

int wgit_session_by_server_index(const struct wgit *w, uint32_t server_proxy,
				 struct xwgp_session *s)
{
	uint32_t client_proxy;
	int err = lookup(w->maps->srv_index, &server_proxy, &client_proxy);

	return err ? err : wgit_session_get(w, client_proxy, s);
}

int wgit_session_put(const struct wgit *w, const struct xwgp_session *s)
{
	/* BPF_EXIST: never resurrect a session that expiry just removed. */
	return bpf_map_update_elem(w->maps->sessions, &s->client_proxy_index, s, BPF_EXIST) ?
		       -errno :
		       0;
}

int wgit_meta_get(const struct wgit *w, uint32_t client_proxy, struct xwgp_session_meta *m)
{
	return lookup(w->maps->sess_meta, &client_proxy, m);
}

int wgit_meta_put(const struct wgit *w, uint32_t client_proxy, const struct xwgp_session_meta *m)
{
	return bpf_map_update_elem(w->maps->sess_meta, &client_proxy, m, BPF_ANY) ? -errno : 0;
}

int wgit_transport_commit(const struct wgit *w, const struct xwgp_session *s, bool c2s,
			  size_t len, uint64_t now_ns, const struct transport_out *out)
{
	struct xwgp_session_meta m;
	struct xwgp_session cur;
	int err = 0;

	/* Roaming: rare; the window between lookup and update is all XDP can lose. */
	if (out->endpoint_changed && wgit_session_get(w, s->client_proxy_index, &cur) == 0) {
		cur.client = s->client;
		cur.client_local = s->client_local;
		cur.server = s->server;
		cur.server_local = s->server_local;
		err = wgit_session_put(w, &cur);
	}
	if (wgit_meta_get(w, s->client_proxy_index, &m))
		return err;
	if (c2s) {
		m.agent_c2s_packets++;
		m.agent_c2s_bytes += len;
	} else {
		m.agent_s2c_packets++;
		m.agent_s2c_bytes += len;
	}
	m.agent_last_seen_ns = now_ns;
	/* Roaming (transport_forward): the current endpoint's time, the candidate. */
	if (!out->candidate)
		*(c2s ? &m.agent_client_seen_ns : &m.agent_server_seen_ns) = now_ns;
	if (out->cand_changed)
		*(c2s ? &m.client_cand : &m.server_cand) = out->cand;
	return wgit_meta_put(w, s->client_proxy_index, &m) ?: err;
}

void wgit_session_totals(struct xwgp_session *s, const struct xwgp_session_meta *m)
{
	s->c2s_packets += m->agent_c2s_packets;
	s->c2s_bytes += m->agent_c2s_bytes;
	s->s2c_packets += m->agent_s2c_packets;
	s->s2c_bytes += m->agent_s2c_bytes;
	if (m->agent_last_seen_ns > s->last_seen_ns)
		s->last_seen_ns = m->agent_last_seen_ns;
}

int wgit_session_delete(const struct wgit *w, uint32_t client_proxy)
{
	struct xwgp_session s;

	if (wgit_session_get(w, client_proxy, &s) == 0 && (s.flags & XWGP_SF_ESTABLISHED)) {
		uint32_t owner;

		/* Only remove the server index if it still points at us. */
		if (lookup(w->maps->srv_index, &s.server_proxy_index, &owner) == 0 &&
		    owner == client_proxy)
			bpf_map_delete_elem(w->maps->srv_index, &s.server_proxy_index);
	}
	bpf_map_delete_elem(w->maps->sess_meta, &client_proxy);
	return bpf_map_delete_elem(w->maps->sessions, &client_proxy) ? -errno : 0;
}

/* The agent forwarded for this session within timeout_ns (XDP never saw it). */
static bool agent_recent(const struct wgit *w, uint32_t key, uint64_t now_ns, uint64_t timeout_ns)
{
	struct xwgp_session_meta m;

	return lookup(w->maps->sess_meta, &key, &m) == 0 && m.agent_last_seen_ns &&
	       (now_ns <= m.agent_last_seen_ns || now_ns - m.agent_last_seen_ns <= timeout_ns);
}

int wgit_expire(const struct wgit *w, uint64_t now_ns, uint64_t timeout_ns)
{
	uint32_t key, next, *prev = NULL;
	uint32_t doomed[256];
	int n = 0, total = 0;
	struct xwgp_session s;

	/*
	 * Collect, then delete: deleting while walking a hash map with
	 * get_next_key restarts the walk. Repeat until a pass finds nothing.
	 */
	do {
		n = 0;
		prev = NULL;
		while (n < (int)(sizeof(doomed) / sizeof(doomed[0])) &&
		       bpf_map_get_next_key(w->maps->sessions, prev, &next) == 0) {
			key = next;
			prev = &key;
			if (lookup(w->maps->sessions, &key, &s))
				continue;
			if (now_ns > s.last_seen_ns && now_ns - s.last_seen_ns > timeout_ns &&
			    !agent_recent(w, key, now_ns, timeout_ns))
				doomed[n++] = key;
		}
		for (int i = 0; i < n; i++)
			if (wgit_session_delete(w, doomed[i]) == 0)
				total++;
	} while (n == (int)(sizeof(doomed) / sizeof(doomed[0])));
	return total;
}

int wgit_peer_get(const struct wgit *w, const struct xwgp_peer_key *k, struct xwgp_peer_state *st)
{
	return lookup(w->maps->peer_state, k, st);
}

int wgit_peer_put(const struct wgit *w, const struct xwgp_peer_key *k,
		  const struct xwgp_peer_state *st)
{
	return bpf_map_update_elem(w->maps->peer_state, k, st, BPF_ANY) ? -errno : 0;
}

int wgit_peer_prune(const struct wgit *w,
		    bool (*doomed)(const struct wgit *w, const struct xwgp_peer_key *k, void *ctx),
		    void *ctx, int max)
{
	struct xwgp_peer_key key, next, *prev = NULL;
	struct xwgp_peer_key batch[64];
	int n, total = 0;

	/* Collect, then delete: deleting while walking restarts get_next_key. */
	do {
		n = 0;
		prev = NULL;
		while (n < (int)(sizeof(batch) / sizeof(batch[0])) &&
		       bpf_map_get_next_key(w->maps->peer_state, prev, &next) == 0) {
			key = next;
			prev = &key;
			if (doomed(w, &key, ctx))
				batch[n++] = key;
		}
		for (int i = 0; i < n; i++)
			if (bpf_map_delete_elem(w->maps->peer_state, &batch[i]) == 0)
				total++;
	} while (n == (int)(sizeof(batch) / sizeof(batch[0])) && (!max || total < max));
	return total;
}
