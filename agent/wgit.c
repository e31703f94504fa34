// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <sodium.h>

#include "log.h"
#include "peer_mirror.h"
#include "wgit.h"
#include "wgit_index.h"

/* This table's index layout (the node bits were checked with the config). */
static void layout(const struct wgit *w, struct wgit_index_layout *l)
{
	const char *why;

	if (wgit_index_layout_init(l, w->maps->n_slots, w->node_id, w->node_bits, &why))
		wgit_index_layout_init(l, w->maps->n_slots, 0, 0, &why);
}

/*
 * The sessions live in the mapping of xwgp_sessions (agent/bpf_loader.c
 * xwgp_maps_mmap): reading or writing a slot is a memory access, no system
 * call (docs/DESIGN.md section 4). XDP writes the same memory: counters
 * (atomic adds, as the agent's below) and seen times; the agent writes the
 * rest under the slot's seqlock (publish).
 */
#define SLOT_READ_TRIES 64

/*
 * A copy of slot taken under its seqlock, as XDP reads it: retried while
 * the writer holds the slot (seq odd) or moved it meanwhile. A slot left
 * odd by a writer killed mid-write is returned as it is after the retries
 * (show must still print it; the next publish repairs it).
 */
static int slot_read(const struct xwgp_maps *m, uint32_t slot, struct xwgp_session *s)
{
	const struct xwgp_session *p;

	if (!m->sess)
		return -ENXIO;
	if (slot >= m->n_slots)
		return -ENOENT;
	p = &m->sess[slot];
	for (int i = 0;; i++) {
		uint32_t seq = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);

		memcpy(s, p, sizeof(*s));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if ((!(seq & 1) && __atomic_load_n(&p->seq, __ATOMIC_RELAXED) == seq) ||
		    i == SLOT_READ_TRIES)
			return 0;
	}
}

/* The client proxy index a slot holds now (0: free), without a full copy. */
static uint32_t slot_index(const struct xwgp_maps *m, uint32_t slot)
{
	return __atomic_load_n(&m->sess[slot].client_proxy_index, __ATOMIC_RELAXED);
}

/*
 * Write a slot so that XDP never forwards with half of it (bpf/session.h):
 * seq made odd, the body written, seq made even again (release: the body
 * is visible before the even seq). XDP reads seq before and after the body
 * and punts or drops what met an odd or changed seq. The counters and seen
 * times are XDP's too and not part of the body: they are written only when
 * `whole' (a free slot taking a session, or a session leaving its slot);
 * otherwise XDP's concurrent increments stay, none lost.
 */
static int publish(const struct xwgp_maps *m, uint32_t slot, const struct xwgp_session *next,
		   bool whole)
{
	struct xwgp_session *p;
	uint32_t seq;

	if (!m->sess)
		return -ENXIO;
	if (m->read_only)
		return -EROFS;
	if (slot >= m->n_slots)
		return -ENOENT;
	p = &m->sess[slot];
	/* Odd already: a writer died mid-write; keep it odd until this write ends. */
	seq = __atomic_load_n(&p->seq, __ATOMIC_RELAXED) | 1;
	__atomic_store_n(&p->seq, seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* seq odd before any byte of the body */
	memcpy(p, next, offsetof(struct xwgp_session, seq));
	p->created_ns = next->created_ns;
	if (whole)
		memcpy(&p->last_seen_ns, &next->last_seen_ns,
		       sizeof(*p) - offsetof(struct xwgp_session, last_seen_ns));
	__atomic_store_n(&p->seq, seq + 1, __ATOMIC_RELEASE);
	return 0;
}

static int meta_write(const struct xwgp_maps *m, uint32_t slot, const struct xwgp_session_meta *in);

/*
 * Empty a slot (client_proxy_index 0: never assigned, matches no packet)
 * and wipe its meta: no keys or MACs left behind in a free slot.
 */
static int slot_clear(const struct wgit *w, uint32_t slot)
{
	static const struct xwgp_session empty;
	int err = publish(w->maps, slot, &empty, true);

	if (!err && w->maps->meta)
		memset(&w->maps->meta[slot], 0, sizeof(w->maps->meta[slot]));
	if (!err && w->slots && slot < w->slots->n_slots)
		w->slots->used[slot / 64] &= ~(1ull << (slot % 64));
	return err;
}

bool wgit_session_next(const struct xwgp_maps *m, uint32_t *cursor, struct xwgp_session *s)
{
	if (!m->sess)
		return false;
	while (*cursor < m->n_slots) {
		uint32_t slot = (*cursor)++;

		/* Free slots (most of a large table) cost one load. */
		if (slot_index(m, slot) && slot_read(m, slot, s) == 0 && s->client_proxy_index)
			return true;
	}
	return false;
}

/* The used-slot bitmap, built from the array the first time (e.g. after a restart). */
static struct wgit_slots *slots_get(struct wgit *w)
{
	struct wgit_slots *sl = w->slots;

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
	for (uint32_t slot = 0; w->maps->sess && slot < sl->n_slots; slot++)
		if (slot_index(w->maps, slot))
			sl->used[slot / 64] |= 1ull << (slot % 64);
	w->slots = sl;
	return sl;
}

void wgit_slots_free(struct wgit *w)
{
	free(w->cands);
	w->cands = NULL;
	w->n_cands = 0;
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
			if (slot_index(w->maps, slot))
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
	/* The meta first: whoever finds the session finds its meta. */
	err = meta_write(w->maps, slot, m);
	if (!err)
		err = publish(w->maps, slot, s, true);
	if (err)
		slot_clear(w, slot);
	return err;
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
	err = publish(w->maps, slot, s, true);
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

/* The slot idx names: 0, or -ENOENT when idx names no slot of this table. */
static int slot_of_index(const struct xwgp_maps *m, uint32_t idx, uint32_t *slot)
{
	*slot = idx & m->slot_mask;
	return idx && *slot < m->n_slots ? 0 : -ENOENT;
}

/* The slot idx names, read into *s: 0, or -ENOENT when idx names no slot. */
static int slot_of(const struct wgit *w, uint32_t idx, uint32_t *slot, struct xwgp_session *s)
{
	return slot_of_index(w->maps, idx, slot) ?: slot_read(w->maps, *slot, s);
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
	return err ? err : publish(w->maps, slot, s, false);
}

/* ---- metadata (xwgp_sess_meta by slot, xwgp_srv_keys) ------------------------------ */

#define NS_PER_MS 1000000ull

/* Which entry of xwgp_srv_keys holds pub (first u64 compared first: a short scan). */
static int srv_key_find(const struct xwgp_maps *m, const uint8_t pub[32], uint32_t *free_at)
{
	uint64_t head;

	memcpy(&head, pub, sizeof(head));
	*free_at = UINT32_MAX;
	for (uint32_t i = 0; i < m->n_srv_keys; i++) {
		const uint8_t *k = m->srv_key[i].pub;
		uint64_t h;

		memcpy(&h, k, sizeof(h));
		if (h == head && !memcmp(k, pub, 32))
			return (int)i;
		if (*free_at == UINT32_MAX && !h && sodium_is_zero(k, 32))
			*free_at = i;
	}
	return -ENOENT;
}

/* Forget the server keys no live session names (the table is full). */
static void srv_keys_gc(const struct xwgp_maps *m)
{
	uint8_t *used = calloc(m->n_srv_keys, 1);

	if (!used)
		return;
	for (uint32_t slot = 0; slot < m->n_slots; slot++) {
		uint16_t id = m->meta[slot].server_key;

		if (slot_index(m, slot) && id && id <= m->n_srv_keys)
			used[id - 1] = 1;
	}
	for (uint32_t i = 0; i < m->n_srv_keys; i++)
		if (!used[i])
			memset(m->srv_key[i].pub, 0, sizeof(m->srv_key[i].pub));
	free(used);
}

/* The id (entry + 1) of pub in xwgp_srv_keys, added when new; 0 when it cannot be. */
static uint16_t srv_key_id(const struct xwgp_maps *m, const uint8_t pub[32])
{
	uint32_t free_at;
	int i;

	if (!m->srv_key || sodium_is_zero(pub, 32))
		return 0;
	i = srv_key_find(m, pub, &free_at);
	if (i >= 0)
		return (uint16_t)(i + 1);
	if (free_at == UINT32_MAX) {
		srv_keys_gc(m);
		srv_key_find(m, pub, &free_at);
	}
	if (free_at == UINT32_MAX) {
		pr_warn("more than %u server keys in use: a session's server key is not kept",
			m->n_srv_keys);
		return 0;
	}
	memcpy(m->srv_key[free_at].pub, pub, 32);
	return (uint16_t)(free_at + 1);
}

static void meta_encode(const struct xwgp_maps *m, const struct xwgp_session_meta *in,
			struct xwgp_sess_meta *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->client_pub, in->client_pub, 32);
	memcpy(out->sent_mac1, in->sent_mac1, 16);
	memcpy(out->client_mac1, in->client_mac1, 16);
	out->handshake_ns = in->handshake_ns;
	if (in->established_ns) {
		uint64_t ms = 0;

		if (in->established_ns > in->handshake_ns)
			ms = (in->established_ns - in->handshake_ns) / NS_PER_MS;
		out->established_ms = ms >= UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)ms + 1;
	}
	out->server_key = srv_key_id(m, in->server_pub);
	if (in->cookie_ns)
		out->flags |= XWGP_MF_COOKIE;
}

void wgit_meta_decode(const struct xwgp_maps *m, const struct xwgp_sess_meta *in,
		      struct xwgp_session_meta *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->client_pub, in->client_pub, 32);
	memcpy(out->sent_mac1, in->sent_mac1, 16);
	memcpy(out->client_mac1, in->client_mac1, 16);
	out->handshake_ns = in->handshake_ns;
	if (in->established_ms)
		out->established_ns = in->handshake_ns + (in->established_ms - 1) * NS_PER_MS;
	if (in->server_key && in->server_key <= m->n_srv_keys && m->srv_key)
		memcpy(out->server_pub, m->srv_key[in->server_key - 1].pub, 32);
	/* Only "taken or not" matters (handler.c); the initiation's time stands for it. */
	if (in->flags & XWGP_MF_COOKIE)
		out->cookie_ns = in->handshake_ns ?: 1;
}

static int meta_write(const struct xwgp_maps *m, uint32_t slot, const struct xwgp_session_meta *in)
{
	struct xwgp_sess_meta v;

	if (!m->meta)
		return -ENXIO;
	if (m->read_only)
		return -EROFS;
	meta_encode(m, in, &v);
	m->meta[slot] = v;
	return 0;
}

int wgit_meta_read(const struct xwgp_maps *m, const struct xwgp_session *s,
		   struct xwgp_session_meta *out)
{
	uint32_t slot;
	struct xwgp_sess_meta v;

	if (!m->meta)
		return -ENXIO;
	if (slot_of_index(m, s->client_proxy_index, &slot) ||
	    slot_index(m, slot) != s->client_proxy_index)
		return -ENOENT;
	v = m->meta[slot];
	wgit_meta_decode(m, &v, out);
	return 0;
}

int wgit_meta_get(const struct wgit *w, uint32_t client_proxy, struct xwgp_session_meta *m)
{
	struct xwgp_session s = { .client_proxy_index = client_proxy };

	return wgit_meta_read(w->maps, &s, m);
}

int wgit_meta_put(const struct wgit *w, uint32_t client_proxy, const struct xwgp_session_meta *m)
{
	uint32_t slot;

	if (!w->maps->sess)
		return -ENXIO;
	if (slot_of_index(w->maps, client_proxy, &slot) ||
	    slot_index(w->maps, slot) != client_proxy)
		return -ENOENT;
	return meta_write(w->maps, slot, m);
}

/* ---- roaming candidates (agent memory) -------------------------------------------- */

/*
 * A source heard once after the side's current endpoint fell silent: the
 * second packet from it moves the session (transport.c). Transient, so it
 * lives in the agent's memory, not in a pinned map: a restart forgets it
 * and the client's next packet makes it a candidate again.
 */
struct wgit_cand {
	uint32_t idx; /* the session's client proxy index: another session's is stale */
	struct xwgp_ep ep[2]; /* [0] client side, [1] server side; family NONE: none */
};

bool wgit_roam_cand(const struct wgit *w, const struct xwgp_session *s, bool c2s,
		    struct xwgp_ep *cand)
{
	uint32_t slot;

	memset(cand, 0, sizeof(*cand));
	if (!w->cands || slot_of_index(w->maps, s->client_proxy_index, &slot) ||
	    slot >= w->n_cands || w->cands[slot].idx != s->client_proxy_index)
		return false;
	*cand = w->cands[slot].ep[c2s ? 0 : 1];
	return cand->family != XWGP_FAMILY_NONE;
}

static void cand_set(struct wgit *w, uint32_t slot, uint32_t idx, bool c2s,
		     const struct xwgp_ep *ep)
{
	struct wgit_cand *c;

	if (!w->cands || w->n_cands != w->maps->n_slots) {
		free(w->cands);
		/* calloc of a large array maps zero pages: memory only where used. */
		w->cands = calloc(w->maps->n_slots, sizeof(*w->cands));
		w->n_cands = w->cands ? w->maps->n_slots : 0;
		if (!w->cands)
			return;
	}
	if (slot >= w->n_cands)
		return;
	c = &w->cands[slot];
	if (c->idx != idx)
		memset(c, 0, sizeof(*c));
	c->idx = idx;
	c->ep[c2s ? 0 : 1] = *ep;
}

/* ---- the agent's transport --------------------------------------------------------- */

/* *t = now when now is later (XDP stores the same times, at most once a second). */
static void seen_at(__u64 *t, uint64_t now_ns)
{
	if ((int64_t)(now_ns - __atomic_load_n(t, __ATOMIC_RELAXED)) > 0)
		__atomic_store_n(t, now_ns, __ATOMIC_RELAXED);
}

int wgit_transport_commit(struct wgit *w, const struct xwgp_session *s, bool c2s, size_t len,
			  uint64_t now_ns, const struct transport_out *out)
{
	const struct xwgp_maps *m = w->maps;
	struct xwgp_session cur, *p;
	uint32_t slot;
	int err = 0;

	if (!m->sess)
		return -ENXIO;
	if (slot_of_index(m, s->client_proxy_index, &slot) ||
	    slot_index(m, slot) != s->client_proxy_index)
		return -ENOENT;
	p = &m->sess[slot];
	/* Roaming: the endpoints only, under the seqlock; the counters stay XDP's and ours. */
	if (out->endpoint_changed && slot_read(m, slot, &cur) == 0 &&
	    cur.client_proxy_index == s->client_proxy_index) {
		cur.client = s->client;
		cur.client_local = s->client_local;
		cur.server = s->server;
		cur.server_local = s->server_local;
		err = publish(m, slot, &cur, false);
	}
	/*
	 * The same counters XDP adds to, with the same locked add: neither
	 * side loses the other's increments (tests/bpf/test_session_mmap.c).
	 */
	__atomic_fetch_add(c2s ? &p->c2s_packets : &p->s2c_packets, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(c2s ? &p->c2s_bytes : &p->s2c_bytes, len, __ATOMIC_RELAXED);
	seen_at(&p->last_seen_ns, now_ns);
	/* Roaming (transport_forward): the current endpoint's time, the candidate. */
	if (!out->candidate)
		seen_at(c2s ? &p->client_seen_ns : &p->server_seen_ns, now_ns);
	if (out->cand_changed)
		cand_set(w, slot, s->client_proxy_index, c2s, &out->cand);
	return err;
}

int wgit_agent_account(const struct wgit *w, uint32_t client_proxy,
		       const struct wgit_agent_delta *d)
{
	const struct xwgp_maps *m = w->maps;
	struct xwgp_session *p;
	uint32_t slot;

	if (!m->sess)
		return -ENXIO;
	if (slot_of_index(m, client_proxy, &slot) || slot_index(m, slot) != client_proxy)
		return -ENOENT;
	p = &m->sess[slot];
	/* XDP's counters, with its locked add (see wgit_transport_commit). */
	if (d->c2s_packets) {
		__atomic_fetch_add(&p->c2s_packets, d->c2s_packets, __ATOMIC_RELAXED);
		__atomic_fetch_add(&p->c2s_bytes, d->c2s_bytes, __ATOMIC_RELAXED);
	}
	if (d->s2c_packets) {
		__atomic_fetch_add(&p->s2c_packets, d->s2c_packets, __ATOMIC_RELAXED);
		__atomic_fetch_add(&p->s2c_bytes, d->s2c_bytes, __ATOMIC_RELAXED);
	}
	seen_at(&p->last_seen_ns, d->last_seen_ns);
	if (d->client_seen_ns)
		seen_at(&p->client_seen_ns, d->client_seen_ns);
	if (d->server_seen_ns)
		seen_at(&p->server_seen_ns, d->server_seen_ns);
	return 0;
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
	return slot_clear(w, slot);
}

int wgit_expire(const struct wgit *w, uint64_t now_ns, uint64_t timeout_ns)
{
	struct xwgp_session s;
	uint32_t cursor = 0;
	int total = 0;

	/* An array walk is not disturbed by deleting behind it. */
	while (wgit_session_next(w->maps, &cursor, &s))
		/* last_seen_ns: XDP's and the agent's (wgit_transport_commit). */
		if (now_ns > s.last_seen_ns && now_ns - s.last_seen_ns > timeout_ns &&
		    wgit_session_delete(w, s.client_proxy_index) == 0)
			total++;
	return total;
}

/* wgit_peer_each callback: one pair of the map into the copy being loaded. */
static int mirror_add(void *ctx, const struct xwgp_peer_key *k, const struct xwgp_peer_state *st)
{
	return peer_mirror_put(ctx, k, st);
}

int wgit_peers_mirror(struct wgit *w)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct peer_mirror *m;
	int err;

	wgit_peers_unmirror(w);
	if (bpf_obj_get_info_by_fd(w->maps->peer_state, &info, &len))
		return -errno;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* Without a copy yet, wgit_peer_each walks the map. */
	err = peer_mirror_init(m, info.max_entries);
	err = err ?: wgit_peer_each(w, mirror_add, m);
	if (err) {
		peer_mirror_free(m);
		free(m);
		return err;
	}
	w->peers = m;
	return 0;
}

void wgit_peers_unmirror(struct wgit *w)
{
	if (!w->peers)
		return;
	peer_mirror_free(w->peers);
	free(w->peers);
	w->peers = NULL;
}

int wgit_peer_get(const struct wgit *w, const struct xwgp_peer_key *k, struct xwgp_peer_state *st)
{
	if (w->peers)
		return peer_mirror_get(w->peers, k, st);
	return lookup(w->maps->peer_state, k, st);
}

int wgit_peer_put(const struct wgit *w, const struct xwgp_peer_key *k,
		  const struct xwgp_peer_state *st)
{
	/* The map first: the copy never holds what a restart would not find. */
	if (bpf_map_update_elem(w->maps->peer_state, k, st, BPF_ANY))
		return -errno;
	if (w->peers && peer_mirror_put(w->peers, k, st)) {
		/* The map took a pair the copy has no room for: it cannot be trusted any more. */
		pr_warn("peer-state copy out of step with the map: reading the map from now on");
		wgit_peers_unmirror((struct wgit *)w);
	}
	return 0;
}

static int peer_del(const struct wgit *w, const struct xwgp_peer_key *k)
{
	if (bpf_map_delete_elem(w->maps->peer_state, k))
		return -errno;
	if (w->peers)
		peer_mirror_del(w->peers, k);
	return 0;
}

int wgit_peer_each(const struct wgit *w,
		   int (*each)(void *ctx, const struct xwgp_peer_key *k,
			       const struct xwgp_peer_state *st),
		   void *ctx)
{
	struct xwgp_peer_key key, next, *prev = NULL;
	struct xwgp_peer_state st;
	int err = 0;

	if (w->peers) {
		const struct peer_mirror_entry *e;
		uint32_t cursor = 0;

		while (!err && (e = peer_mirror_next(w->peers, &cursor)))
			err = each(ctx, &e->k, &e->st);
		return err;
	}
	while (!err && bpf_map_get_next_key(w->maps->peer_state, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (lookup(w->maps->peer_state, &key, &st))
			continue; /* deleted meanwhile */
		err = each(ctx, &key, &st);
	}
	sodium_memzero(&st, sizeof(st));
	return err;
}

/* The next key of the copy (cursor: a slot) or the map (cursor: the previous key). */
static bool peer_next_key(const struct wgit *w, uint32_t *slot, struct xwgp_peer_key **prev,
			  struct xwgp_peer_key *key)
{
	struct xwgp_peer_key next;

	if (w->peers) {
		const struct peer_mirror_entry *e = peer_mirror_next(w->peers, slot);

		if (!e)
			return false;
		*key = e->k;
		return true;
	}
	if (bpf_map_get_next_key(w->maps->peer_state, *prev, &next))
		return false;
	*key = next;
	*prev = key;
	return true;
}

int wgit_peer_prune(const struct wgit *w,
		    bool (*doomed)(const struct wgit *w, const struct xwgp_peer_key *k, void *ctx),
		    void *ctx, int max)
{
	struct xwgp_peer_key key, *prev;
	struct xwgp_peer_key batch[64];
	int n, total = 0;
	uint32_t slot;

	/* Collect, then delete: deleting while walking restarts get_next_key (or shifts the copy). */
	do {
		n = 0;
		prev = NULL;
		slot = 0;
		while (n < (int)(sizeof(batch) / sizeof(batch[0])) &&
		       peer_next_key(w, &slot, &prev, &key)) {
			if (doomed(w, &key, ctx))
				batch[n++] = key;
		}
		for (int i = 0; i < n; i++)
			if (peer_del(w, &batch[i]) == 0)
				total++;
	} while (n == (int)(sizeof(batch) / sizeof(batch[0])) && (!max || total < max));
	return total;
}
