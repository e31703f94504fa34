// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "addr.h"
#include "byteorder.h"

#include "handler.h"
#include "log.h"
#include "svl.h"
#include "wg_proto.h"

#define COUNT(h, name) ((h)->stats[XWGP_AGENT_STAT_##name]++)

static int handler_ring_start(struct handler *h, unsigned int n_threads);

int handler_init(struct handler *h, const struct xwgp_server_config *cfg,
		 const struct xwgp_maps *maps)
{
	int err;

	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->wgit.maps = maps;
	h->wgit.node_id = cfg->node_id;
	h->wgit.node_bits = (uint8_t)cfg->node_id_bits;
	h->keys = sodium_allocarray(cfg->n_servers, sizeof(*h->keys));
	if (!h->keys)
		return -ENOMEM;
	err = dh_cache_init(&h->dh_cache, HANDLER_DH_CACHE_ENTRIES);
	if (err) {
		pr_err("static-static DH cache of %u entries: %s", HANDLER_DH_CACHE_ENTRIES,
		       strerror(-err));
		handler_fini(h);
		return err;
	}
	for (size_t i = 0; i < cfg->n_servers; i++) {
		err = wg_server_key_init(&h->keys[i], cfg->servers[i].privkey);
		if (err) {
			pr_err("servers[%zu]: cannot derive the public key", i);
			handler_fini(h);
			return err;
		}
	}
	/* Reads of the peer states from agent memory; without the copy, from the map. */
	err = wgit_peers_mirror(&h->wgit);
	if (err)
		pr_warn("peer states: no copy in memory (%s), reading the map", strerror(-err));
	/* Every session can be unanswered at once: one queue slot each. */
	err = wgit_halfopen_init(&h->wgit, cfg->max_sessions ?: XWGP_MAX_SESSIONS_DEFAULT);
	err = err ?: handler_set_obfs(h, cfg->obfs);
	err = err ?: handler_ring_start(h, cfg->handshake_threads);
	if (err)
		handler_fini(h);
	return err;
}

static void ring_dh(void *ctx, const unsigned int *slots, unsigned int n);

/* Free the ring and its items (wiped: initiations' keys and timestamps); no thread may run. */
static void ring_free(struct handler *h)
{
	free(h->ring);
	h->ring = NULL;
	if (h->items)
		sodium_memzero(h->items, HS_RING_SLOTS * sizeof(*h->items));
	free(h->items);
	h->items = NULL;
}

static int handler_ring_start(struct handler *h, unsigned int n_threads)
{
	int err;

	h->ring = malloc(sizeof(*h->ring));
	h->items = calloc(HS_RING_SLOTS, sizeof(*h->items));
	if (!h->ring || !h->items) {
		ring_free(h);
		return -ENOMEM;
	}
	err = hs_ring_init(h->ring, n_threads, ring_dh, h);
	if (err) {
		pr_err("starting %u handshake threads: %s", n_threads, strerror(-err));
		ring_free(h);
	}
	return err;
}

/* Finish every initiation in the ring, stop its threads, free it. */
static void ring_stop(struct handler *h)
{
	if (!h->ring)
		return;
	handler_flush(h); /* nothing may wait past the ring */
	hs_ring_fini(h->ring);
	ring_free(h);
}

int handler_set_obfs(struct handler *h, const char *password)
{
	if (!password) {
		obfs_key_wipe(&h->obfs_key);
		free(h->obfs_buf);
		h->obfs_buf = NULL;
		h->obfs = false;
		return 0;
	}
	if (!h->obfs_buf) {
		h->obfs_buf = malloc(HANDLER_OBFS_BUF_LEN);
		if (!h->obfs_buf)
			return -ENOMEM;
	}
	obfs_key_init(&h->obfs_key, password);
	h->obfs = true;
	return 0;
}

void handler_fini(struct handler *h)
{
	ring_stop(h);
	if (h->keys)
		sodium_free(h->keys); /* sodium_free wipes */
	h->keys = NULL;
	dh_cache_free(&h->dh_cache); /* wipes */
	handler_set_obfs(h, NULL);
	wgit_halfopen_free(&h->wgit);
	wgit_peers_unmirror(&h->wgit);
	cookie_guard_wipe(&h->guard);
}

static enum xwgp_agent_stat transport_drop_stat(int err);

/* Count why src may not become an endpoint; true when it may. */
static bool endpoint_ok(struct handler *h, const struct xwgp_ep *src)
{
	__u32 stat = xwgp_martian_stat(local_addrs_martian(h->local, src));

	if (!stat)
		return true;
	h->stats[transport_drop_stat(-(int)stat)]++;
	return false;
}

static void send_or_count(struct handler *h, enum xwgp_side side, const struct xwgp_ep *local,
			  const struct xwgp_ep *remote, const uint8_t *data, size_t len)
{
	if (h->send(h->io_ctx, side, local, remote, data, len) < 0)
		COUNT(h, SEND_ERRORS);
}

/*
 * Everything sent to a client of an obfuscating session is obfuscated,
 * in the handler's own buffer: p->data may have no room to grow.
 */
static void send_client(struct handler *h, bool obfs, const struct xwgp_ep *local,
			const struct xwgp_ep *remote, const uint8_t *data, size_t len,
			obfs_rand_fn rnd, void *rnd_ctx)
{
	int n;

	if (!obfs || !h->obfs) {
		send_or_count(h, XWGP_SIDE_CLIENT, local, remote, data, len);
		return;
	}
	if (len > HANDLER_OBFS_BUF_LEN - OBFS_MAX_OVERHEAD) {
		COUNT(h, TOO_BIG);
		return;
	}
	memcpy(h->obfs_buf, data, len);
	n = obfs_encode(&h->obfs_key, h->obfs_buf, len, HANDLER_OBFS_BUF_LEN, rnd, rnd_ctx);
	if (n < 0) {
		pr_debug("obfuscating a %zu-byte message of type %u: %s", len, data[0],
			 strerror(-n));
		COUNT(h, SEND_ERRORS);
		return;
	}
	send_or_count(h, XWGP_SIDE_CLIENT, local, remote, h->obfs_buf, n);
}

static void send_to_client(struct handler *h, const struct xwgp_session *s,
			   const struct xwgp_ep *local, const struct xwgp_ep *remote,
			   const uint8_t *data, size_t len)
{
	send_client(h, s->flags & XWGP_SF_OBFS, local, remote, data, len, NULL, NULL);
}

/*
 * obfs_rand_fn of our own cookie replies: the padding draw (the first, 8
 * bytes) is capped so an obfuscated reply is never longer than the shortest
 * obfuscated initiation (148 + 16 bytes) it answers: no amplification.
 */
static void cookie_pad_rand(void *ctx, uint8_t *out, size_t n)
{
	bool *pad_drawn = ctx;
	uint64_t v;

	if (*pad_drawn || n != 8) {
		randombytes_buf(out, n);
		return;
	}
	v = randombytes_uniform(WG_INIT_LEN - WG_COOKIE_REPLY_LEN + 1);
	for (size_t i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
	*pad_drawn = true;
}

/*
 * Under load, an initiation without our MAC2 costs a cookie reply, not a
 * DH (cookie_guard.h); obfuscated clients get it obfuscated. True when it
 * was answered so, or dropped (a wrong MAC2 over the limit).
 * *mac2_ours: its MAC2 was made with our cookie.
 */
static bool answered_with_cookie(struct handler *h, struct handler_pkt *p, int si, uint64_t now,
				 bool *mac2_ours)
{
	uint8_t reply[WG_COOKIE_REPLY_LEN];
	enum cookie_verdict v;
	bool pad_drawn = false;

	v = cookie_guard_check(&h->guard, p->data, &p->src, now, h->cfg->under_load_pps, h->stats);
	*mac2_ours = v == COOKIE_PROCESS_MAC2;
	if (v == COOKIE_DROP)
		return true;
	if (v != COOKIE_SEND_REPLY)
		return false;
	cookie_guard_reply(&h->guard, reply, p->data, &p->src, h->keys[si].mac.cookie_key, now);
	COUNT(h, COOKIE_SENT);
	send_client(h, p->obfs, &p->dst, &p->src, reply, sizeof(reply), cookie_pad_rand,
		    &pad_drawn);
	return true;
}

/*
 * A client packet that is not plain WireGuard: de-obfuscate it in place
 * (it only shrinks). Returns false when it must be dropped.
 */
static bool client_deobfuscate(struct handler *h, struct handler_pkt *p)
{
	bool decoded;
	int n;

	n = obfs_decode(&h->obfs_key, p->data, p->len, &decoded);
	if (n < 0 || !decoded) {
		COUNT(h, OBFS_UNDECODABLE);
		return false;
	}
	p->len = (size_t)n;
	p->obfs = true;
	return true;
}

/*
 * Before the DH, on the event loop: the cheap checks. True when the
 * initiation needs its DH (it->si, it->now, it->mac2_ours set).
 */
static bool init_prepare(struct handler *h, struct handler_pkt *p, struct hs_item *it)
{
	it->now = xwgp_now_ns();
	/* The session would answer p->src: never a martian (before any work). */
	if (!endpoint_ok(h, &p->src))
		return false;
	it->si = wg_find_server_by_mac1(p->data, p->len, h->keys, h->cfg->n_servers);
	if (it->si < 0) {
		COUNT(h, INIT_NO_SERVER);
		return false;
	}
	return !answered_with_cookie(h, p, it->si, it->now, &it->mac2_ours);
}

/* The DH and decryption: on any handshake thread; touches only *it and the locked DH cache. */
static void init_dh(struct handler *h, const uint8_t *msg, size_t len, struct hs_item *it)
{
	it->r = wg_consume_initiation_mac1_ok(&h->keys[it->si], &h->dh_cache, msg, len,
					      it->client_pub, it->tai64n);
}

/*
 * The replay check and the admission (on the event loop: the peer state read
 * here is the one wgit_session_admit() rewrites). Returns 0, the counter of
 * a refusal (> 0), or -1 (a map error, logged).
 */
static int init_admit(struct handler *h, struct handler_pkt *p,
				       const struct hs_item *it, struct xwgp_session *s,
				       struct xwgp_session_meta *meta)
{
	struct xwgp_peer_key pk = {};
	struct xwgp_peer_state ps = {};
	struct wgit_admit_info adm;
	int si = it->si, err;
	bool have_cookie, stored;

	memcpy(pk.server_pub, h->keys[si].pub, 32);
	memcpy(pk.client_pub, it->client_pub, 32);
	/* Replay protection: the TAI64N timestamp must grow per client key. */
	stored = wgit_peer_get(&h->wgit, &pk, &ps) == 0;
	if (stored && memcmp(it->tai64n, ps.last_tai64n, 12) <= 0)
		return XWGP_AGENT_STAT_INIT_REPLAY;
	memcpy(ps.last_tai64n, it->tai64n, 12);
	have_cookie = ps.cookie_ns && it->now - ps.cookie_ns < WG_COOKIE_LIFETIME_SEC * 1000000000ull;

	/* Stores the new timestamp too; the per-key cap and eviction rules: wgit_admit.c. */
	err = wgit_session_admit(&h->wgit, &pk, &ps, stored, s, meta, it->now, &adm);
	h->stats[XWGP_AGENT_STAT_INIT_KEY_CAP] += adm.key_cap_replaced;
	h->stats[XWGP_AGENT_STAT_HALFOPEN_EVICTED] += adm.halfopen_evicted;
	h->stats[XWGP_AGENT_STAT_PEER_STATE_EVICTED] += adm.peer_states_evicted;
	if (err) {
		if (err == -ENOSPC)
			return XWGP_AGENT_STAT_INIT_TABLE_FULL;
		if (err == -ENOBUFS)
			return XWGP_AGENT_STAT_INIT_PEER_STATE_FULL;
		pr_warn("creating a session failed: %s", strerror(-err));
		return -1;
	}
	if (s->flags & XWGP_SF_XLAT_CLIENT) {
		put_le32(p->data + WG_INIT_OFF_SENDER, s->client_proxy_index);
		wg_macs_set(p->data, p->len, &h->keys[si].mac, have_cookie ? ps.cookie : NULL);
		memcpy(meta->sent_mac1, p->data + WG_INIT_OFF_MAC1, 16);
		wgit_meta_put(&h->wgit, s->client_proxy_index, meta);
		COUNT(h, INIT_TRANSLATED);
	} else if (it->mac2_ours) {
		/* Our cookie's MAC2 means nothing to the backend: its own cookie, or zero. */
		wg_macs_set(p->data, p->len, &h->keys[si].mac, have_cookie ? ps.cookie : NULL);
	}
	return 0;
}

/*
 * After the DH, on the event loop, in arrival order: pick the peer, check
 * the replay, create the session (WGIT admission), translate, forward.
 */
static void init_finish(struct handler *h, struct handler_pkt *p, const struct hs_item *it)
{
	const struct xwgp_server_cfg *srv = &h->cfg->servers[it->si];
	const struct xwgp_peer_cfg *peer;
	struct xwgp_session_meta meta = {};
	struct xwgp_session s = {};
	int refused;
	uint64_t now = it->now;
	int si = it->si;

	if (it->r != WG_INIT_OK) {
		pr_debug("initiation from client: %s", wg_init_result_str(it->r));
		COUNT(h, INIT_DECRYPT_FAILED);
		return;
	}
	peer = config_peer_for(srv, it->client_pub);
	if (!peer) {
		char b64[45];

		wg_key_to_base64(b64, it->client_pub);
		pr_debug("servers[%d]: no peer for client key %s and no fallback", si, b64);
		COUNT(h, INIT_NO_PEER);
		return;
	}

	s.client = p->src;
	s.client_local = p->dst;
	s.server = peer->forward_to;
	if (h->route(h->io_ctx, &s.server, &s.server_local)) {
		COUNT(h, SEND_ERRORS);
		return;
	}
	s.server_local.port = htons(h->upstream_port);
	s.client_origin_index = get_le32(p->data + WG_INIT_OFF_SENDER);
	/* config_load_server() resolved the inheritance (xwgp_svl_resolve). */
	s.csvl = peer->csvl;
	s.ssvl = peer->ssvl;
	if (p->obfs)
		s.flags |= XWGP_SF_OBFS;
	s.created_ns = s.last_seen_ns = now;

	memcpy(meta.client_pub, it->client_pub, 32);
	memcpy(meta.server_pub, h->keys[si].pub, 32);
	memcpy(meta.client_mac1, p->data + WG_INIT_OFF_MAC1, 16);
	/* What the backend gets, unless the index is translated below. */
	memcpy(meta.sent_mac1, meta.client_mac1, 16);
	meta.handshake_ns = now;

	refused = init_admit(h, p, it, &s, &meta);
	if (refused) {
		if (refused > 0)
			h->stats[refused]++;
		return;
	}
	COUNT(h, INIT_FORWARDED);
	send_or_count(h, XWGP_SIDE_SERVER, &s.server_local, &s.server, p->data, p->len);
}

/* What the DH cache counted since last time (handshake threads add to it). */
static void dh_cache_account(struct handler *h)
{
	uint64_t hits = __atomic_load_n(&h->dh_cache.hits, __ATOMIC_RELAXED);
	uint64_t misses = __atomic_load_n(&h->dh_cache.misses, __ATOMIC_RELAXED);

	h->stats[XWGP_AGENT_STAT_DH_CACHE_HIT] += hits - h->dh_hits_seen;
	h->stats[XWGP_AGENT_STAT_DH_CACHE_MISS] += misses - h->dh_misses_seen;
	h->dh_hits_seen = hits;
	h->dh_misses_seen = misses;
}

/* hs_ring_fn: the DHs of the initiations in slots, together (on a handshake thread). */
static void ring_dh(void *ctx, const unsigned int *slots, unsigned int n)
{
	struct wg_init_job jobs[HS_RING_BATCH];
	struct handler *h = ctx;

	for (unsigned int i = 0; i < n; i++) {
		struct hs_item *it = &h->items[slots[i]];

		jobs[i] = (struct wg_init_job){ .srv = &h->keys[it->si],
						.msg = it->msg,
						.len = it->pkt.len,
						.client_pub = it->client_pub,
						.tai64n = it->tai64n };
	}
	wg_consume_initiations(jobs, n, &h->dh_cache);
	for (unsigned int i = 0; i < n; i++)
		h->items[slots[i]].r = jobs[i].r;
}

/* hs_ring_finish_fn: the rest of the initiation in slot (on the loop, in arrival order). */
static void ring_finish(void *ctx, unsigned int slot)
{
	struct handler *h = ctx;
	struct hs_item *it = &h->items[slot];

	it->pkt.data = it->msg;
	init_finish(h, &it->pkt, it);
}

static void ring_collect(struct handler *h, unsigned int keep)
{
	/* First: the initiations below may replace a session counted here. */
	handler_acc_flush(h);
	if (h->ring && hs_ring_collect(h->ring, keep, ring_finish, h))
		dh_cache_account(h);
}

void handler_collect(struct handler *h)
{
	ring_collect(h, HS_RING_SLOTS);
}

void handler_flush(struct handler *h)
{
	ring_collect(h, 0);
}

int handler_ring_restart(struct handler *h, unsigned int n_threads)
{
	ring_stop(h);
	return handler_ring_start(h, n_threads);
}

bool handler_ring_untaken(const struct handler *h)
{
	return h->ring && hs_ring_untaken(h->ring);
}

int handler_ring_fd(const struct handler *h)
{
	return h->ring ? hs_ring_fd(h->ring) : -1;
}

void handler_ring_arm(struct handler *h)
{
	if (h->ring)
		hs_ring_arm(h->ring);
}

void handler_ring_ack(struct handler *h)
{
	if (h->ring)
		hs_ring_ack(h->ring);
}

/*
 * Handshake initiation from a client: pick the server by MAC1, learn the
 * client key, pick the peer, create the session, translate, forward. In the
 * event loop (h->batch), the DH goes to the handshake ring and the rest
 * waits for handler_collect() (ring_finish).
 */
static void handle_initiation(struct handler *h, struct handler_pkt *p)
{
	struct hs_item one, *it = &one;

	if (h->batch && h->ring) {
		/* Full: finish the oldest (waiting for its DH) rather than drop a valid one. */
		if (hs_ring_full(h->ring))
			ring_collect(h, HS_RING_SLOTS - 1);
		it = &h->items[hs_ring_tail_slot(h->ring)];
	}
	if (!init_prepare(h, p, it))
		return;
	if (it != &one) {
		it->pkt = *p;
		memcpy(it->msg, p->data, WG_INIT_LEN); /* the frame is reused after the batch */
		it->pkt.data = it->msg;
		it->pkt.cap = WG_INIT_LEN;
		hs_ring_push(h->ring);
		return;
	}
	init_dh(h, p->data, p->len, it);
	dh_cache_account(h);
	init_finish(h, p, it);
}

/* Handshake response from a backend: register its index, translate, pass on. */
static void handle_response(struct handler *h, struct handler_pkt *p)
{
	uint32_t receiver = get_le32(p->data + WG_RESP_OFF_RECEIVER);
	uint32_t sender = get_le32(p->data + WG_RESP_OFF_SENDER);
	struct xwgp_session_meta meta;
	struct wg_mac_keys client_mac;
	struct xwgp_session s;
	int err;

	if (wgit_session_get(&h->wgit, receiver, &s) ||
	    wgit_meta_get(&h->wgit, receiver, &meta)) {
		COUNT(h, RESP_UNKNOWN_INDEX);
		return;
	}
	if (!xwgp_source_ok(s.ssvl, &s.server, &p->src)) {
		COUNT(h, SRC_INVALID);
		return;
	}
	/*
	 * One response per initiation: another one for an established session
	 * is a replay (or a forgery by someone who knows the client's public
	 * key, which MAC1 proves). Re-running establishment would re-point
	 * the backend index and delete the one the tunnel uses.
	 */
	if (s.flags & XWGP_SF_ESTABLISHED) {
		COUNT(h, RESP_REPLAY);
		return;
	}
	wg_mac_keys_init(&client_mac, meta.client_pub);
	if (wg_mac1_verify(p->data, p->len, &client_mac)) {
		COUNT(h, RESP_BAD_MAC1);
		return;
	}
	err = wgit_session_establish(&h->wgit, &s, sender);
	if (err) {
		if (err == -ENOSPC)
			COUNT(h, INIT_TABLE_FULL);
		else
			pr_warn("registering a backend index failed: %s", strerror(-err));
		return;
	}
	meta.established_ns = xwgp_now_ns();
	wgit_meta_put(&h->wgit, receiver, &meta);
	if (s.flags & (XWGP_SF_XLAT_CLIENT | XWGP_SF_XLAT_SERVER)) {
		put_le32(p->data + WG_RESP_OFF_SENDER, s.server_proxy_index);
		put_le32(p->data + WG_RESP_OFF_RECEIVER, s.client_origin_index);
		/* We hold no cookie from the client: MAC2 zero, as WireGuard does. */
		wg_macs_set(p->data, p->len, &client_mac, NULL);
	}
	COUNT(h, RESP_FORWARDED);
	send_to_client(h, &s, &s.client_local, &s.client, p->data, p->len);
}

/*
 * Cookie reply from a backend (it is under load): keep the cookie for MAC2
 * of re-sent initiations, then pass it on, re-sealed for the MAC1 the
 * client really sent when we had changed it.
 */
static void handle_cookie(struct handler *h, struct handler_pkt *p)
{
	uint32_t receiver = get_le32(p->data + WG_COOKIE_OFF_RECEIVER);
	struct xwgp_session_meta meta;
	struct xwgp_peer_state ps = {};
	struct xwgp_peer_key pk;
	struct wg_mac_keys server_mac;
	struct xwgp_session s;
	uint8_t cookie[16];

	if (wgit_session_get(&h->wgit, receiver, &s) ||
	    wgit_meta_get(&h->wgit, receiver, &meta)) {
		COUNT(h, COOKIE_UNKNOWN_INDEX);
		return;
	}
	if (!xwgp_source_ok(s.ssvl, &s.server, &p->src)) {
		COUNT(h, SRC_INVALID);
		return;
	}
	/*
	 * A backend answers one initiation with a response or a cookie reply:
	 * after the response, or after a first cookie reply, another is a
	 * replay that would put back a stale cookie.
	 */
	if ((s.flags & XWGP_SF_ESTABLISHED) || meta.cookie_ns) {
		COUNT(h, COOKIE_REPLAY);
		return;
	}
	wg_mac_keys_init(&server_mac, meta.server_pub);
	if (wg_cookie_open(cookie, p->data, p->len, server_mac.cookie_key, meta.sent_mac1)) {
		COUNT(h, COOKIE_UNDECRYPTABLE);
		return;
	}
	memcpy(pk.server_pub, meta.server_pub, 32);
	memcpy(pk.client_pub, meta.client_pub, 32);
	wgit_peer_get(&h->wgit, &pk, &ps);
	memcpy(ps.cookie, cookie, 16);
	ps.cookie_ns = xwgp_now_ns();
	wgit_peer_put(&h->wgit, &pk, &ps);
	meta.cookie_ns = ps.cookie_ns;
	wgit_meta_put(&h->wgit, receiver, &meta);

	put_le32(p->data + WG_COOKIE_OFF_RECEIVER, s.client_origin_index);
	if (memcmp(meta.sent_mac1, meta.client_mac1, 16) &&
	    wg_cookie_seal(p->data, cookie, server_mac.cookie_key, meta.client_mac1)) {
		COUNT(h, COOKIE_UNDECRYPTABLE);
		sodium_memzero(cookie, sizeof(cookie));
		return;
	}
	sodium_memzero(cookie, sizeof(cookie));
	COUNT(h, COOKIE_FORWARDED);
	send_to_client(h, &s, &s.client_local, &s.client, p->data, p->len);
}

/*
 * What roaming needs beyond the session, only when the source is a new one:
 * the side's candidate (agent memory). The agent's own seen times are in
 * the session already (wgit_transport_commit).
 */
static void roam_state(struct handler *h, const struct xwgp_session *s, const struct handler_pkt *p,
		       struct transport_roam *roam)
{
	memset(roam, 0, sizeof(*roam));
	roam->local = h->local;
	if (!transport_from_current(s, p->side, &p->src))
		wgit_roam_cand(&h->wgit, s, p->side == XWGP_SIDE_CLIENT, &roam->cand);
}

/* The agent counter of a transport_forward() refusal. */
static enum xwgp_agent_stat transport_drop_stat(int err)
{
	switch (-err) {
	case XWGP_STAT_DROP_SRC_LOOPBACK:
		return XWGP_AGENT_STAT_SRC_LOOPBACK;
	case XWGP_STAT_DROP_SRC_UNSPEC:
		return XWGP_AGENT_STAT_SRC_UNSPEC;
	case XWGP_STAT_DROP_SRC_MULTICAST:
		return XWGP_AGENT_STAT_SRC_MULTICAST;
	case XWGP_STAT_DROP_SRC_BROADCAST:
		return XWGP_AGENT_STAT_SRC_BROADCAST;
	case XWGP_STAT_DROP_SRC_LOCAL:
		return XWGP_AGENT_STAT_SRC_LOCAL;
	case XWGP_STAT_DROP_SRC_PORT0:
		return XWGP_AGENT_STAT_SRC_PORT0;
	default:
		return XWGP_AGENT_STAT_TRANSPORT_DROPPED;
	}
}

/* Transport that reached the agent: the same rule as XDP, via the socket. */
static void handle_transport(struct handler *h, struct handler_pkt *p)
{
	uint32_t receiver = get_le32(p->data + WG_TRANSPORT_OFF_RECEIVER);
	struct transport_roam roam;
	struct transport_out out;
	struct xwgp_session s;
	uint64_t now = xwgp_now_ns();
	bool current;
	int err;

	if (p->side == XWGP_SIDE_CLIENT)
		err = wgit_session_by_server_index(&h->wgit, receiver, &s);
	else
		err = wgit_session_get(&h->wgit, receiver, &s);
	if (err) {
		COUNT(h, TRANSPORT_UNKNOWN_INDEX);
		return;
	}
	current = transport_from_current(&s, p->side, &p->src);
	/* A new source: roaming reads the agent's seen times, so they must be written. */
	if (!current)
		handler_acc_flush(h);
	roam_state(h, &s, p, &roam);
	err = transport_forward(&s, p->side, &p->src, &p->dst, p->data, p->len, now, &roam, &out);
	if (err) {
		h->stats[transport_drop_stat(err)]++;
		return;
	}
	if (out.endpoint_changed)
		COUNT(h, ROAMED);
	if (out.candidate)
		COUNT(h, ROAM_CANDIDATE);
	/* The current endpoint (nothing to roam): counted once per session per batch. */
	if (current && h->batch)
		handler_acc_add(h, &s, p->side == XWGP_SIDE_CLIENT, p->len, now);
	else if (wgit_transport_commit(&h->wgit, &s, p->side == XWGP_SIDE_CLIENT, p->len, now,
				       &out) == 0)
		COUNT(h, SESS_WRITES);
	if (p->side == XWGP_SIDE_CLIENT) {
		COUNT(h, TRANSPORT_C2S);
		send_or_count(h, XWGP_SIDE_SERVER, &out.src, &out.dst, p->data, p->len);
	} else {
		COUNT(h, TRANSPORT_S2C);
		send_to_client(h, &s, &out.src, &out.dst, p->data, p->len);
	}
	/* After the send, which starts the neighbour resolution the next hop needs. */
	if (h->nexthops)
		nexthops_want(h->nexthops, &out.dst, now);
}

void handler_packet(struct handler *h, struct handler_pkt *p)
{
	uint8_t type;

	if (p->side == XWGP_SIDE_CLIENT)
		COUNT(h, RX_CLIENT);
	else
		COUNT(h, RX_SERVER);
	if (p->via_xsk)
		COUNT(h, RX_XSK);
	if (h->cfg->max_packet_size && p->len > h->cfg->max_packet_size) {
		COUNT(h, TOO_BIG);
		return;
	}
	/*
	 * Source port 0 or an unspecified address (forged: no stack sends from
	 * them) cannot be answered; a session must never learn such an endpoint.
	 */
	if (!p->src.port || xwgp_ep_is_unspecified(&p->src)) {
		if (p->src.port)
			COUNT(h, SRC_UNSPEC);
		else
			COUNT(h, SRC_PORT0);
		return;
	}
	/* A wildcard serves our own addresses only (bpf/local.h is the XDP twin). */
	if (!local_addrs_claims(h->local,
				p->side == XWGP_SIDE_CLIENT ? &h->cfg->listen : &h->cfg->upstream,
				&p->dst)) {
		COUNT(h, NOT_LOCAL);
		return;
	}
	/* Backends are vanilla WireGuard; obfuscated runts are malformed below. */
	if (h->obfs && p->side == XWGP_SIDE_CLIENT && p->len >= WG_TRANSPORT_MIN_LEN &&
	    !obfs_is_plain(p->data, p->len) && !client_deobfuscate(h, p))
		return;
	if (p->len < WG_HEADER_LEN || p->data[1] || p->data[2] || p->data[3]) {
		COUNT(h, MALFORMED);
		return;
	}
	type = p->data[0];
	switch (type) {
	case WG_MSG_INITIATION:
		if (p->side != XWGP_SIDE_CLIENT)
			break; /* backends never initiate towards xwgp */
		if (p->len != WG_INIT_LEN) {
			COUNT(h, MALFORMED);
			return;
		}
		handle_initiation(h, p);
		return;
	case WG_MSG_RESPONSE:
		if (p->side != XWGP_SIDE_SERVER)
			break;
		if (p->len != WG_RESP_LEN) {
			COUNT(h, MALFORMED);
			return;
		}
		handle_response(h, p);
		return;
	case WG_MSG_COOKIE_REPLY:
		if (p->side != XWGP_SIDE_SERVER)
			break;
		if (p->len != WG_COOKIE_REPLY_LEN) {
			COUNT(h, MALFORMED);
			return;
		}
		handle_cookie(h, p);
		return;
	case WG_MSG_TRANSPORT:
		if (p->len < WG_TRANSPORT_MIN_LEN) {
			COUNT(h, MALFORMED);
			return;
		}
		handle_transport(h, p);
		return;
	}
	COUNT(h, BAD_TYPE);
}
