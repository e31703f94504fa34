// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <sodium.h>

#include "log.h"
#include "wgit.h"
#include "wgit_index.h"

/* This table's index layout (the node bits were checked with the config). */
static void layout(const struct wgit *w, struct wgit_index_layout *l)
{
	const char *why;

	if (wgit_index_layout_init(l, w->maps->n_slots, w->node_id, w->node_bits, &why))
		wgit_index_layout_init(l, w->maps->n_slots, 0, 0, &why);
}

static int slot_read(const struct xwgp_maps *m, uint32_t slot, struct xwgp_session *s)
{
	return bpf_map_lookup_elem(m->sessions, &slot, s) ? -errno : 0;
}

/*
 * Write a slot so that XDP never forwards with half of it (bpf/session.h):
 * seq made odd first (the old body written back unchanged), then the new
 * body under the odd seq, then the same body with the next even seq. Each
 * step is one array update, which copies the value in place in no
 * particular order; whatever order, XDP sees the body change only while seq
 * is odd, or sees seq change. XDP's counter increments between our read
 * and the first write are lost (microseconds; rare writes).
 */
static int publish(const struct xwgp_maps *m, uint32_t slot, const struct xwgp_session *next)
{
	struct xwgp_session v;
	uint32_t seq;
	int err = slot_read(m, slot, &v);

	if (err)
		return err;
	seq = v.seq | 1;
	if (!(v.seq & 1)) {
		v.seq = seq;
		if (bpf_map_update_elem(m->sessions, &slot, &v, BPF_EXIST))
			return -errno;
	}
	v = *next;
	v.seq = seq;
	if (bpf_map_update_elem(m->sessions, &slot, &v, BPF_EXIST))
		return -errno;
	v.seq = seq + 1;
	return bpf_map_update_elem(m->sessions, &slot, &v, BPF_EXIST) ? -errno : 0;
}

/* Empty a slot (client_proxy_index 0: never assigned, matches no packet). */
static int slot_clear(const struct wgit *w, uint32_t slot)
{
	static const struct xwgp_session empty;
	int err = publish(w->maps, slot, &empty);

	if (!err && w->slots && slot < w->slots->n_slots)
		w->slots->used[slot / 64] &= ~(1ull << (slot % 64));
	return err;
}

bool wgit_session_next(const struct xwgp_maps *m, uint32_t *cursor, struct xwgp_session *s)
{
	while (*cursor < m->n_slots) {
		uint32_t slot = (*cursor)++;

		if (slot_read(m, slot, s) == 0 && s->client_proxy_index)
			return true;
	}
	return false;
}

/* The used-slot bitmap, built from the array the first time (e.g. after a restart). */
static struct wgit_slots *slots_get(struct wgit *w)
{
	struct wgit_slots *sl = w->slots;
	struct xwgp_session s;
	uint32_t cursor = 0;

	if (sl && sl->n_slots == w->maps->n_slots)
		return sl;
	if (sl) {
		free(sl->used);
		free(sl);
		w->slots = NULL;
	}
	sl = calloc(1, sizeof(*sl));
	if (!sl)
		return NULL;
	sl->n_slots = w->maps->n_slots;
	sl->used = calloc((sl->n_slots + 63) / 64 + 1, sizeof(*sl->used));
	if (!sl->used) {
		free(sl);
		return NULL;
	}
	while (wgit_session_next(w->maps, &cursor, &s)) {
		uint32_t slot = cursor - 1;

		sl->used[slot / 64] |= 1ull << (slot % 64);
	}
	w->slots = sl;
	return sl;
}

void wgit_slots_free(struct wgit *w)
{
	if (!w->slots)
		return;
	free(w->slots->used);
	free(w->slots);
	w->slots = NULL;
}

static void slot_mark(struct wgit_slots *sl, uint32_t slot)
{
	sl->used[slot / 64] |= 1ull << (slot % 64);
}

/* A free slot, marked used: 0, or -ENOSPC. */
static int slot_alloc(struct wgit *w, uint32_t *out)
{
	struct wgit_slots *sl = slots_get(w);
	uint32_t words, start;
	struct xwgp_session s;

	if (!sl)
		return -ENOMEM;
	words = (sl->n_slots + 63) / 64;
	start = sl->hint / 64;
	for (uint32_t i = 0; i <= words; i++) {
		uint32_t wi = (start + i) % words;
		uint64_t freebits = ~sl->used[wi];

		while (freebits) {
			uint32_t slot = wi * 64 + (uint32_t)__builtin_ctzll(freebits);

			freebits &= freebits - 1;
			if (slot >= sl->n_slots)
				break;
			slot_mark(sl, slot);
			/* Written behind our back (a test, an older agent): skip it. */
			if (slot_read(w->maps, slot, &s) || s.client_proxy_index)
				continue;
			sl->hint = slot + 1 < sl->n_slots ? slot + 1 : 0;
			*out = slot;
			return 0;
		}
	}
	return -ENOSPC;
}

int wgit_session_create(struct wgit *w, struct xwgp_session *s, const struct xwgp_session_meta *m)
{
	struct wgit_index_layout l;
	uint32_t slot;
	int err;

	layout(w, &l);
	err = slot_alloc(w, &slot);
	if (err)
		return err;
	s->client_proxy_index = wgit_index_new(&l, slot, 0);
	if (s->client_proxy_index != s->client_origin_index)
		s->flags |= XWGP_SF_XLAT_CLIENT;
	else
		s->flags &= ~XWGP_SF_XLAT_CLIENT;
	err = publish(w->maps, slot, s);
	if (!err)
		err = wgit_meta_put(w, s->client_proxy_index, m);
	if (err)
		slot_clear(w, slot);
	return err == -E2BIG ? -ENOSPC : err;
}

int wgit_session_place(struct wgit *w, const struct xwgp_session *s)
{
	struct wgit_index_layout l;
	struct xwgp_session cur;
	struct wgit_slots *sl;
	uint32_t slot;
	int err;

	layout(w, &l);
	slot = wgit_index_slot(&l, s->client_proxy_index);
	if (!wgit_index_wire_ok(s->client_proxy_index) || slot >= w->maps->n_slots ||
	    wgit_index_node(&l, s->client_proxy_index) != l.node_id ||
	    ((s->flags & XWGP_SF_ESTABLISHED) &&
	     (!wgit_index_wire_ok(s->server_proxy_index) ||
	      wgit_index_slot(&l, s->server_proxy_index) != slot ||
	      wgit_index_node(&l, s->server_proxy_index) != l.node_id)))
		return -EINVAL;
	sl = slots_get(w);
	if (!sl)
		return -ENOMEM;
	err = slot_read(w->maps, slot, &cur);
	if (err)
		return err;
	if (cur.client_proxy_index)
		return -EEXIST;
	err = publish(w->maps, slot, s);
	if (!err)
		slot_mark(sl, slot);
	return err;
}

int wgit_session_establish(struct wgit *w, struct xwgp_session *s, uint32_t server_origin)
{
	struct wgit_index_layout l;
	uint32_t idx;

	layout(w, &l);
	/* The session's own slot; a repeated response gets a new generation. */
	idx = wgit_index_new(&l, wgit_index_slot(&l, s->client_proxy_index),
			     s->server_proxy_index);
	s->server_origin_index = server_origin;
	s->server_proxy_index = idx;
	s->flags |= XWGP_SF_ESTABLISHED;
	if (idx != server_origin)
		s->flags |= XWGP_SF_XLAT_SERVER;
	else
		s->flags &= ~XWGP_SF_XLAT_SERVER;
	return wgit_session_put(w, s);
}

static int lookup(int fd, const void *key, void *val)
{
	return bpf_map_lookup_elem(fd, key, val) ? -errno : 0;
}

/* The slot idx names, read into *s: 0, or -ENOENT when idx names no slot. */
static int slot_of(const struct wgit *w, uint32_t idx, uint32_t *slot, struct xwgp_session *s)
{
	struct wgit_index_layout l;

	layout(w, &l);
	*slot = wgit_index_slot(&l, idx);
	if (!idx || *slot >= w->maps->n_slots)
		return -ENOENT;
	return slot_read(w->maps, *slot, s);
}

int wgit_session_get(const struct wgit *w, uint32_t client_proxy, struct xwgp_session *s)
{
	uint32_t slot;
	int err = slot_of(w, client_proxy, &slot, s);

	/* The whole index: a stale generation names no session. */
	return err ? err : s->client_proxy_index == client_proxy ? 0 : -ENOENT;
}

int wgit_session_by_server_index(const struct wgit *w, uint32_t server_proxy,
				 struct xwgp_session *s)
{
	uint32_t slot;
	int err = slot_of(w, server_proxy, &slot, s);

	if (err)
		return err;
	/* As XDP (bpf/session.h): the index decides; transport_forward the flags. */
	return s->client_proxy_index && s->server_proxy_index == server_proxy ? 0 : -ENOENT;
}

int wgit_session_put(const struct wgit *w, const struct xwgp_session *s)
{
	struct xwgp_session cur;
	uint32_t slot;
	int err = slot_of(w, s->client_proxy_index, &slot, &cur);

	/* Never resurrect a session that expiry just removed. */
	if (!err && cur.client_proxy_index != s->client_proxy_index)
		err = -ENOENT;
	return err ? err : publish(w->maps, slot, s);
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

int wgit_agent_account(const struct wgit *w, uint32_t client_proxy,
		       const struct wgit_agent_delta *d)
{
	struct xwgp_session_meta m;

	if (wgit_meta_get(w, client_proxy, &m))
		return -ENOENT;
	m.agent_c2s_packets += d->c2s_packets;
	m.agent_c2s_bytes += d->c2s_bytes;
	m.agent_s2c_packets += d->s2c_packets;
	m.agent_s2c_bytes += d->s2c_bytes;
	if (d->last_seen_ns > m.agent_last_seen_ns)
		m.agent_last_seen_ns = d->last_seen_ns;
	if (d->client_seen_ns > m.agent_client_seen_ns)
		m.agent_client_seen_ns = d->client_seen_ns;
	if (d->server_seen_ns > m.agent_server_seen_ns)
		m.agent_server_seen_ns = d->server_seen_ns;
	return wgit_meta_put(w, client_proxy, &m);
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
	uint32_t slot;
	int err = slot_of(w, client_proxy, &slot, &s);

	if (!err && s.client_proxy_index != client_proxy)
		err = -ENOENT;
	if (err)
		return err;
	bpf_map_delete_elem(w->maps->sess_meta, &client_proxy);
	return slot_clear(w, slot);
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
	struct xwgp_session s;
	uint32_t cursor = 0;
	int total = 0;

	/* An array walk is not disturbed by deleting behind it. */
	while (wgit_session_next(w->maps, &cursor, &s))
		if (now_ns > s.last_seen_ns && now_ns - s.last_seen_ns > timeout_ns &&
		    !agent_recent(w, s.client_proxy_index, now_ns, timeout_ns) &&
		    wgit_session_delete(w, s.client_proxy_index) == 0)
			total++;
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
