// SPDX-License-Identifier: GPL-2.0
/*
 * Who gets room in the WGIT tables (wgit.h: wgit_session_admit).
 *
 * With a fallback peer anyone can make a client key, and one key could
 * otherwise fill the session table with valid initiations. The rules:
 *
 *  - One (server key, client key) pair holds at most XWGP_PEER_MAX_SESSIONS
 *    sessions; a further initiation replaces the pair's own oldest session
 *    (an unanswered one first). A real client never needs more (current,
 *    previous and next keypair); one that retries keeps working.
 *  - A full table first gives up its oldest unanswered ("half-open")
 *    session, whoever made it: such a session only waits for a response
 *    that, for a flood, never comes. An established session is never
 *    evicted for someone else's new one: with none unanswered, a key that
 *    holds sessions replaces its own oldest (an established client can
 *    still rekey), a new key is refused. Residual risk: a flood of many keys keeps every half-open
 *    session short-lived (table size / flood rate); a real handshake needs
 *    one round trip.
 *  - The peer state (replay timestamp, cookie) is stored before the session
 *    exists: when the map is full, states idle past WGIT_PEER_HORIZON_SEC
 *    whose pair holds no session are forgotten (an old initiation of such a
 *    key could then be replayed once: it makes an unanswered session, which
 *    the backend's own replay check refuses and the rule above evicts); if
 *    none is, the initiation is refused. The replay check is never skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "clock.h"
#include "log.h"
#include "wgit.h"
/* Peer states forgotten per scan at most: bounds one scan's work. */
#define PEER_EVICT_MAX 1024

int wgit_halfopen_init(struct wgit *w, uint32_t cap)
{
	struct wgit_halfopen *q = &w->halfopen;

	wgit_halfopen_free(w);
	if (!cap)
		return 0;
	q->idx = calloc(cap, sizeof(*q->idx));
	q->created_ns = calloc(cap, sizeof(*q->created_ns));
	if (!q->idx || !q->created_ns) {
		wgit_halfopen_free(w);
		return -ENOMEM;
	}
	q->cap = cap;
	return 0;
}

void wgit_halfopen_free(struct wgit *w)
{
	free(w->halfopen.idx);
	free(w->halfopen.created_ns);
	memset(&w->halfopen, 0, sizeof(w->halfopen));
	wgit_slots_free(w);
}

/* Queue a new session; a full queue drops its oldest entry (the refill finds it again). */
static void halfopen_push(struct wgit_halfopen *q, uint32_t idx, uint64_t created_ns)
{
	uint32_t tail;

	if (!q->cap)
		return;
	if (q->n == q->cap) {
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	tail = (q->head + q->n) % q->cap;
	q->idx[tail] = idx;
	q->created_ns[tail] = created_ns;
	q->n++;
}

struct halfopen_ent {
	uint64_t created_ns;
	uint32_t idx;
};

static int by_created(const void *a, const void *b)
{
	const struct halfopen_ent *x = a, *y = b;

	return x->created_ns < y->created_ns ? -1 : x->created_ns > y->created_ns;
}

/* An empty queue (e.g. after a restart): every unanswered session, oldest first. */
static void halfopen_refill(struct wgit *w, uint64_t now_ns)
{
	struct wgit_halfopen *q = &w->halfopen;
	struct halfopen_ent *ents;
	struct xwgp_session s;
	uint32_t n = 0, cursor = 0;

	if (!q->cap || (q->rescan_ns && now_ns - q->rescan_ns < NSEC_PER_SEC))
		return;
	q->rescan_ns = now_ns;
	ents = calloc(q->cap, sizeof(*ents));
	if (!ents)
		return;
	while (n < q->cap && wgit_session_next(w->maps, &cursor, &s))
		if (!(s.flags & XWGP_SF_ESTABLISHED))
			ents[n++] = (struct halfopen_ent){ s.created_ns, s.client_proxy_index };
	qsort(ents, n, sizeof(*ents), by_created);
	q->head = q->n = 0;
	for (uint32_t i = 0; i < n; i++)
		halfopen_push(q, ents[i].idx, ents[i].created_ns);
	free(ents);
}

/* Delete the oldest session still unanswered: 0, or -ENOENT when there is none. */
static int evict_halfopen(struct wgit *w, uint64_t now_ns)
{
	struct wgit_halfopen *q = &w->halfopen;
	struct xwgp_session s;

	for (int pass = 0; pass < 2; pass++) {
		while (q->n) {
			uint32_t idx = q->idx[q->head];
			uint64_t created = q->created_ns[q->head];

			q->head = (q->head + 1) % q->cap;
			q->n--;
			/* Answered, gone, or the index now names another session: stale. */
			if (wgit_session_get(w, idx, &s) || (s.flags & XWGP_SF_ESTABLISHED) ||
			    s.created_ns != created)
				continue;
			if (wgit_session_delete(w, idx) == 0)
				return 0;
		}
		if (pass == 0)
			halfopen_refill(w, now_ns);
	}
	return -ENOENT;
}

/*
 * Whether idx is a live session of the pair pk. The meta alone tells (one
 * lookup on the handshake path): the agent creates and deletes a session
 * and its meta together, and the keys in it tell a reused index.
 */
static bool pair_owns(const struct wgit *w, const struct xwgp_peer_key *pk, uint32_t idx,
		      struct xwgp_session_meta *m)
{
	return idx && wgit_meta_get(w, idx, m) == 0 && !memcmp(m->client_pub, pk->client_pub, 32) &&
	       !memcmp(m->server_pub, pk->server_pub, 32);
}

/*
 * Drop the pair's slots that no longer name one of its sessions; returns how
 * many are live, *victimp the slot of the one to replace first (an
 * unanswered one, else the oldest handshake), -1 when none is live.
 */
static int pair_prune(const struct wgit *w, const struct xwgp_peer_key *pk,
		      struct xwgp_peer_state *ps, int *victimp)
{
	int victim = -1, live = 0;
	bool victim_est = true;
	uint64_t victim_hs = UINT64_MAX;

	for (int i = 0; i < XWGP_PEER_MAX_SESSIONS; i++) {
		struct xwgp_session_meta m;
		bool est;

		if (!pair_owns(w, pk, ps->sessions[i], &m)) {
			ps->sessions[i] = 0;
			continue;
		}
		live++;
		est = m.established_ns != 0; /* set with XWGP_SF_ESTABLISHED */
		if ((victim_est && !est) || (victim_est == est && m.handshake_ns < victim_hs)) {
			victim = i;
			victim_est = est;
			victim_hs = m.handshake_ns;
		}
	}
	*victimp = victim;
	return live;
}

/* No live session in the pair's slots. */
static bool pair_idle(const struct wgit *w, const struct xwgp_peer_key *pk,
		      const struct xwgp_peer_state *ps)
{
	struct xwgp_session_meta m;

	for (int i = 0; i < XWGP_PEER_MAX_SESSIONS; i++)
		if (pair_owns(w, pk, ps->sessions[i], &m))
			return false;
	return true;
}

/* Idle past the horizon, and its pair holds no session: may be forgotten. */
static bool peer_stale(const struct wgit *w, const struct xwgp_peer_key *k, void *ctx)
{
	const uint64_t now_ns = *(const uint64_t *)ctx;
	struct xwgp_peer_state st;

	return wgit_peer_get(w, k, &st) == 0 && now_ns > st.updated_ns &&
	       now_ns - st.updated_ns > WGIT_PEER_HORIZON_SEC * NSEC_PER_SEC &&
	       pair_idle(w, k, &st);
}

/*
 * Forget stale peer states (at most one scan a second, about PEER_EVICT_MAX
 * states). Returns how many were forgotten.
 */
static int peer_evict(struct wgit *w, uint64_t now_ns)
{
	int total;

	if (w->peer_evict_ns && now_ns - w->peer_evict_ns < NSEC_PER_SEC)
		return 0;
	w->peer_evict_ns = now_ns;
	total = wgit_peer_prune(w, peer_stale, &now_ns, PEER_EVICT_MAX);
	if (total)
		pr_debug("peer-state map full: forgot %d states idle for over %d s", total,
			 WGIT_PEER_HORIZON_SEC);
	return total;
}

/* Store the pair's state, making room if needed; -ENOBUFS when there is none. */
static int peer_store(struct wgit *w, const struct xwgp_peer_key *pk,
		      const struct xwgp_peer_state *ps, uint64_t now_ns,
		      struct wgit_admit_info *info)
{
	int err = wgit_peer_put(w, pk, ps), n;

	if (err != -E2BIG)
		return err;
	n = peer_evict(w, now_ns);
	info->peer_states_evicted += n;
	if (n <= 0)
		return -ENOBUFS;
	err = wgit_peer_put(w, pk, ps);
	return err == -E2BIG ? -ENOBUFS : err;
}

int wgit_session_admit(struct wgit *w, const struct xwgp_peer_key *pk, struct xwgp_peer_state *ps,
		       bool stored, struct xwgp_session *s, const struct xwgp_session_meta *m,
		       uint64_t now_ns, struct wgit_admit_info *info)
{
	int victim, live, err;

	memset(info, 0, sizeof(*info));
	ps->updated_ns = now_ns;
	live = pair_prune(w, pk, ps, &victim);
	/*
	 * A new pair's state first: no session without its replay state. A
	 * stored one is rewritten below (an existing key needs no room).
	 */
	if (!stored) {
		err = peer_store(w, pk, ps, now_ns, info);
		if (err)
			return err;
	}
	if (live == XWGP_PEER_MAX_SESSIONS) {
		wgit_session_delete(w, ps->sessions[victim]);
		ps->sessions[victim] = 0;
		info->key_cap_replaced++;
	}
	err = wgit_session_create(w, s, m);
	if (err == -ENOSPC && evict_halfopen(w, now_ns) == 0) {
		info->halfopen_evicted++;
		err = wgit_session_create(w, s, m);
	}
	/*
	 * Still full, all answered: a key that holds sessions may replace its
	 * own oldest (so an established client can rekey); a new key is refused.
	 */
	if (err == -ENOSPC && victim >= 0 && ps->sessions[victim]) {
		wgit_session_delete(w, ps->sessions[victim]);
		ps->sessions[victim] = 0;
		info->key_cap_replaced++;
		err = wgit_session_create(w, s, m);
	}
	if (err) {
		wgit_peer_put(w, pk, ps); /* the freed slot */
		return err;
	}
	halfopen_push(&w->halfopen, s->client_proxy_index, s->created_ns);
	/* A slot is free: pair_prune found one, or the victim left one. */
	for (int i = 0; i < XWGP_PEER_MAX_SESSIONS; i++) {
		if (ps->sessions[i])
			continue;
		ps->sessions[i] = s->client_proxy_index;
		break;
	}
	err = wgit_peer_put(w, pk, ps); /* the key is there: no room needed */
	if (err)
		wgit_session_delete(w, s->client_proxy_index);
	return err;
}

int wgit_peer_track(struct wgit *w, const struct xwgp_peer_key *pk, uint32_t idx, uint64_t now_ns)
{
	struct xwgp_peer_state ps = {};
	int slot = -1, victim;

	if (wgit_peer_get(w, pk, &ps))
		ps.updated_ns = now_ns; /* a restored session without a stored state */
	pair_prune(w, pk, &ps, &victim);
	for (int i = 0; i < XWGP_PEER_MAX_SESSIONS && slot < 0; i++)
		if (!ps.sessions[i] || ps.sessions[i] == idx)
			slot = i;
	if (slot < 0) {
		/* Over the cap (a cache from before it): the oldest gives way. */
		wgit_session_delete(w, ps.sessions[victim]);
		slot = victim;
	}
	ps.sessions[slot] = idx;
	return wgit_peer_put(w, pk, &ps);
}
