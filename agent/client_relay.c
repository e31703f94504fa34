// SPDX-License-Identifier: GPL-2.0
/*
 * `xwgp client' packet rules: see client_relay.h. The message layouts and
 * MAC rules are docs/DESIGN.md section 5, obfuscation section 6.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "addr.h"
#include "byteorder.h"
#include "client_relay.h"
#include "clock.h"
#include "index_pick.h"
#include "log.h"
#include "svl.h"
#include "wg_proto.h"


const char *const client_stat_names[CLIENT_STAT__MAX] = {
#define CLIENT_STAT_NAME(name, desc) #name,
	XWGP_CLIENT_STATS(CLIENT_STAT_NAME)
#undef CLIENT_STAT_NAME
};

const char *const client_stat_descs[CLIENT_STAT__MAX] = {
#define CLIENT_STAT_DESC(name, desc) desc,
	XWGP_CLIENT_STATS(CLIENT_STAT_DESC)
#undef CLIENT_STAT_DESC
};

#define COUNT(r, name) ((r)->stats[CLIENT_STAT_##name]++)

/* ---- index maps ------------------------------------------------------------ */

static int map_init(struct relay_index_map *m, uint32_t max_entries)
{
	uint32_t cap = 16;

	/* At most half full, so probes stay short and an empty slot always exists. */
	while (cap < 2 * max_entries)
		cap <<= 1;
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = calloc(cap, sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		free(m->keys);
		free(m->vals);
		return -ENOMEM;
	}
	m->mask = cap - 1;
	/* Indexes come from the network: a secret seed keeps probe chains short. */
	randombytes_buf(&m->seed, sizeof(m->seed));
	return 0;
}

static void map_free(struct relay_index_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static uint32_t map_hash(const struct relay_index_map *m, uint32_t key)
{
	uint64_t h = ((uint64_t)key + m->seed) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & m->mask;
}

/* Slot of key, or -1. */
static int64_t map_get(const struct relay_index_map *m, uint32_t key)
{
	for (uint32_t i = map_hash(m, key);; i = (i + 1) & m->mask) {
		if (!m->vals[i])
			return -1;
		if (m->keys[i] == key)
			return m->vals[i] - 1;
	}
}

static void map_put(struct relay_index_map *m, uint32_t key, uint32_t slot)
{
	uint32_t i = map_hash(m, key);

	while (m->vals[i] && m->keys[i] != key)
		i = (i + 1) & m->mask;
	m->keys[i] = key;
	m->vals[i] = slot + 1;
}

/* Is `home' cyclically within (hole, j]? Then the entry at j must stay. */
static bool map_in_range(uint32_t hole, uint32_t home, uint32_t j)
{
	if (hole <= j)
		return home > hole && home <= j;
	return home > hole || home <= j;
}

static void map_del(struct relay_index_map *m, uint32_t key)
{
	uint32_t i = map_hash(m, key), j;

	while (m->vals[i] && m->keys[i] != key)
		i = (i + 1) & m->mask;
	if (!m->vals[i])
		return;
	m->vals[i] = 0;
	/* Backward shift: close the hole so later probes still find their keys. */
	for (j = (i + 1) & m->mask; m->vals[j]; j = (j + 1) & m->mask) {
		if (map_in_range(i, map_hash(m, m->keys[j]), j))
			continue;
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		m->vals[j] = 0;
		i = j;
	}
}

static int claim_free(uint32_t idx, void *ctx)
{
	return map_get(ctx, idx) < 0 ? 0 : -EEXIST;
}

/* The proxy index for origin (index_pick.h), or 0 when none was found. */
static uint32_t pick_index(const struct relay_index_map *m, uint32_t origin, bool force)
{
	uint32_t idx;

	return xwgp_index_pick(origin, force, claim_free, (void *)m, &idx) ? 0 : idx;
}

/* ---- sessions -------------------------------------------------------------- */

static void session_remove(struct client_relay *r, uint32_t slot)
{
	struct client_session *s = &r->sessions[slot];
	uint32_t last = r->n_sessions - 1;

	map_del(&r->by_client, s->client_proxy_index);
	if (s->flags & XWGP_SF_ESTABLISHED)
		map_del(&r->by_server, s->server_proxy_index);
	if (slot != last) {
		*s = r->sessions[last];
		map_put(&r->by_client, s->client_proxy_index, slot);
		if (s->flags & XWGP_SF_ESTABLISHED)
			map_put(&r->by_server, s->server_proxy_index, slot);
	}
	memset(&r->sessions[last], 0, sizeof(r->sessions[last]));
	r->n_sessions--;
}

static void evict_oldest(struct client_relay *r)
{
	uint32_t oldest = 0;

	for (uint32_t i = 1; i < r->n_sessions; i++)
		if (r->sessions[i].last_seen_ns < r->sessions[oldest].last_seen_ns)
			oldest = i;
	session_remove(r, oldest);
	COUNT(r, EVICTED);
}

static struct client_session *session_by(const struct client_relay *r,
					 const struct relay_index_map *m, uint32_t idx)
{
	int64_t slot = map_get(m, idx);

	return slot < 0 ? NULL : &r->sessions[slot];
}

const struct client_session *relay_find_client(const struct client_relay *r, uint32_t proxy)
{
	return session_by(r, &r->by_client, proxy);
}

const struct client_session *relay_find_server(const struct client_relay *r, uint32_t proxy)
{
	return session_by(r, &r->by_server, proxy);
}

uint32_t relay_expire(struct client_relay *r, uint64_t now_ns)
{
	uint64_t timeout = (uint64_t)r->cfg->timeout_sec * NSEC_PER_SEC;
	uint32_t removed = 0;

	/* Downwards: swap-remove moves an already checked entry into the hole. */
	for (uint32_t i = r->n_sessions; i-- > 0;) {
		if (now_ns - r->sessions[i].last_seen_ns > timeout) {
			session_remove(r, i);
			removed++;
		}
	}
	r->stats[CLIENT_STAT_EXPIRED] += removed;
	return removed;
}

/* ---- setup ----------------------------------------------------------------- */

int relay_init(struct client_relay *r, const struct xwgp_client_config *cfg, uint32_t max_sessions,
	       relay_send_fn send, void *io_ctx)
{
	int err;

	memset(r, 0, sizeof(*r));
	if (wg_crypto_init())
		return -EIO;
	r->cfg = cfg;
	r->send = send;
	r->io_ctx = io_ctx;
	r->max_sessions = max_sessions ? max_sessions : CLIENT_MAX_SESSIONS;
	wg_mac_keys_init(&r->server_mac, cfg->server_pubkey);
	wg_mac_keys_init(&r->client_mac, cfg->client_pubkey);
	if (cfg->obfs) {
		r->obfs = true;
		obfs_key_init(&r->obfs_key, cfg->obfs);
	}
	r->sessions = calloc(r->max_sessions, sizeof(*r->sessions));
	if (!r->sessions)
		goto nomem;
	err = map_init(&r->by_client, r->max_sessions);
	if (err)
		goto nomem;
	err = map_init(&r->by_server, r->max_sessions);
	if (err)
		goto nomem;
	return 0;
nomem:
	relay_fini(r);
	return -ENOMEM;
}

void relay_fini(struct client_relay *r)
{
	map_free(&r->by_client);
	map_free(&r->by_server);
	free(r->sessions);
	r->sessions = NULL;
	r->n_sessions = 0;
	obfs_key_wipe(&r->obfs_key);
	sodium_memzero(&r->cookie, sizeof(r->cookie));
}

void relay_set_server(struct client_relay *r, const struct xwgp_ep *server)
{
	r->server = *server;
}

/* ---- sending --------------------------------------------------------------- */

static void send_to_server(struct client_relay *r, uint8_t *data, size_t len, size_t cap)
{
	int n = (int)len;

	if (r->obfs) {
		n = obfs_encode(&r->obfs_key, data, len, cap, r->obfs_rand, r->obfs_rand_ctx);
		if (n < 0) {
			pr_debug("obfuscating a %zu-byte packet failed: %s", len, strerror(-n));
			COUNT(r, SEND_ERRORS);
			return;
		}
		COUNT(r, OBFUSCATED);
	}
	if (r->send(r->io_ctx, RELAY_SERVER, NULL, &r->server, data, (size_t)n) < 0)
		COUNT(r, SEND_ERRORS);
	else
		COUNT(r, TX_SERVER);
}

static void send_to_local(struct client_relay *r, struct client_session *s, const uint8_t *data,
			  size_t len)
{
	if (r->send(r->io_ctx, RELAY_LOCAL, &s->local_addr, &s->local, data, len) < 0) {
		COUNT(r, SEND_ERRORS);
		return;
	}
	COUNT(r, TX_LOCAL);
	s->to_local_packets++;
}

static void warn_once(bool *warned, const char *what, const char *key, const uint8_t pub[32],
		      const char *counter)
{
	char b64[WG_KEY_B64_LEN + 1];

	if (*warned)
		return;
	*warned = true;
	wg_key_to_base64(b64, pub);
	pr_warn("%s: MAC1 is not computed for %s %s: check `%s' in the config (counted as %s)",
		what, key, b64, key, counter);
}

/* ---- local WireGuard -> server ---------------------------------------------- */

static struct client_session *session_create(struct client_relay *r, uint32_t origin,
					     const struct xwgp_ep *src, const struct xwgp_ep *dst,
					     uint64_t now)
{
	struct client_session *s = session_by(r, &r->by_client, origin);
	uint32_t proxy;

	/* The same local WireGuard re-using its index replaces its session. */
	if (s && s->client_origin_index == origin && xwgp_ep_equal(&s->local, src))
		session_remove(r, (uint32_t)(s - r->sessions));
	proxy = pick_index(&r->by_client, origin, r->force_xlat);
	if (!proxy)
		return NULL;
	if (r->n_sessions == r->max_sessions)
		evict_oldest(r);
	s = &r->sessions[r->n_sessions];
	memset(s, 0, sizeof(*s));
	s->local = *src;
	s->local_addr = *dst;
	s->client_origin_index = origin;
	s->client_proxy_index = proxy;
	if (proxy != origin)
		s->flags |= XWGP_SF_XLAT_CLIENT;
	s->created_ns = s->last_seen_ns = now;
	map_put(&r->by_client, proxy, r->n_sessions);
	r->n_sessions++;
	COUNT(r, SESSIONS_CREATED);
	return s;
}

static void handle_initiation(struct client_relay *r, const struct xwgp_ep *src,
			      const struct xwgp_ep *dst, uint8_t *data, size_t len, size_t cap,
			      uint64_t now)
{
	uint32_t sender = get_le32(data + WG_INIT_OFF_SENDER);
	struct client_session *s;

	if (wg_mac1_verify(data, len, &r->server_mac)) {
		/* Forwarded anyway: untranslated it may still reach the server. */
		COUNT(r, INIT_MAC1_MISMATCH);
		warn_once(&r->warned_init_mac1, "initiation from the local WireGuard",
			  "server_pubkey", r->cfg->server_pubkey, "INIT_MAC1_MISMATCH");
	}
	s = session_create(r, sender, src, dst, now);
	if (!s) {
		pr_warn("no free index for an initiation (%u sessions)", r->n_sessions);
		COUNT(r, SEND_ERRORS);
		return;
	}
	memcpy(s->local_mac1, data + WG_INIT_OFF_MAC1, 16);
	if (s->flags & XWGP_SF_XLAT_CLIENT) {
		bool cookie = wg_cookie_usable(&r->cookie, now);

		put_le32(data + WG_INIT_OFF_SENDER, s->client_proxy_index);
		wg_macs_set(data, len, &r->server_mac, cookie ? r->cookie.cookie : NULL);
		COUNT(r, INIT_TRANSLATED);
	}
	memcpy(s->sent_mac1, data + WG_INIT_OFF_MAC1, 16);
	COUNT(r, INIT_FORWARDED);
	s->to_server_packets++;
	send_to_server(r, data, len, cap);
}

static void handle_transport_out(struct client_relay *r, const struct xwgp_ep *src,
				 const struct xwgp_ep *dst, uint8_t *data, size_t len, size_t cap,
				 uint64_t now)
{
	struct client_session *s;

	s = session_by(r, &r->by_server, get_le32(data + WG_TRANSPORT_OFF_RECEIVER));
	if (!s) {
		COUNT(r, TRANSPORT_UNKNOWN_INDEX);
		return;
	}
	if (!xwgp_source_ok(r->cfg->csvl, &s->local, src)) {
		COUNT(r, SRC_INVALID);
		return;
	}
	if (!xwgp_ep_equal(&s->local, src)) {
		/* csvl 1 (or 2 with a new port): follow the local WireGuard. */
		s->local = *src;
		s->local_addr = *dst;
		COUNT(r, ROAMED);
	}
	if (s->flags & XWGP_SF_XLAT_SERVER)
		put_le32(data + WG_TRANSPORT_OFF_RECEIVER, s->server_origin_index);
	s->last_seen_ns = now;
	s->to_server_packets++;
	COUNT(r, TRANSPORT_TO_SERVER);
	send_to_server(r, data, len, cap);
}

static void from_local(struct client_relay *r, const struct xwgp_ep *src, const struct xwgp_ep *dst,
		       uint8_t *data, size_t len, size_t cap, uint64_t now)
{
	COUNT(r, RX_LOCAL);
	if (len > r->cfg->max_packet_size) {
		COUNT(r, TOO_BIG);
		return;
	}
	if (!obfs_is_plain(data, len)) {
		COUNT(r, MALFORMED);
		return;
	}
	if (r->server.family == XWGP_FAMILY_NONE) {
		COUNT(r, NO_SERVER_ADDR);
		return;
	}
	switch (data[0]) {
	case WG_MSG_INITIATION:
		if (len != WG_INIT_LEN)
			break;
		handle_initiation(r, src, dst, data, len, cap, now);
		return;
	case WG_MSG_TRANSPORT:
		if (len < WG_TRANSPORT_MIN_LEN)
			break;
		handle_transport_out(r, src, dst, data, len, cap, now);
		return;
	default:
		/* The local WireGuard initiates; responses/cookies never go upstream. */
		COUNT(r, BAD_TYPE);
		return;
	}
	COUNT(r, MALFORMED);
}

/* ---- server -> local WireGuard ---------------------------------------------- */

static void handle_response(struct client_relay *r, uint8_t *data, size_t len, uint64_t now)
{
	uint32_t sender = get_le32(data + WG_RESP_OFF_SENDER);
	struct client_session *s;
	uint32_t proxy, slot;

	s = session_by(r, &r->by_client, get_le32(data + WG_RESP_OFF_RECEIVER));
	if (!s) {
		COUNT(r, RESP_UNKNOWN_INDEX);
		return;
	}
	if (wg_mac1_verify(data, len, &r->client_mac)) {
		COUNT(r, RESP_BAD_MAC1);
		warn_once(&r->warned_resp_mac1, "response from the server", "client_pubkey",
			  r->cfg->client_pubkey, "RESP_BAD_MAC1");
		return;
	}
	slot = (uint32_t)(s - r->sessions);
	if (s->flags & XWGP_SF_ESTABLISHED) {
		/* A second response for one initiation: the newer one wins. */
		map_del(&r->by_server, s->server_proxy_index);
		s->flags &= ~(XWGP_SF_ESTABLISHED | XWGP_SF_XLAT_SERVER);
	}
	proxy = pick_index(&r->by_server, sender, r->force_xlat);
	if (!proxy) {
		COUNT(r, SEND_ERRORS);
		return;
	}
	s->server_origin_index = sender;
	s->server_proxy_index = proxy;
	s->flags |= XWGP_SF_ESTABLISHED;
	if (proxy != sender)
		s->flags |= XWGP_SF_XLAT_SERVER;
	map_put(&r->by_server, proxy, slot);
	if (s->flags & (XWGP_SF_XLAT_CLIENT | XWGP_SF_XLAT_SERVER)) {
		put_le32(data + WG_RESP_OFF_SENDER, s->server_proxy_index);
		put_le32(data + WG_RESP_OFF_RECEIVER, s->client_origin_index);
		/* The local WireGuard never sent us a cookie: MAC2 zero, as WireGuard does. */
		wg_macs_set(data, len, &r->client_mac, NULL);
	}
	s->last_seen_ns = now;
	COUNT(r, RESP_FORWARDED);
	send_to_local(r, s, data, len);
}

/*
 * Cookie reply (the server side is under load): keep the cookie for MAC2 of
 * initiations we translate, and re-seal it for the MAC1 the local WireGuard
 * sent when we had changed it, or it could not open it.
 */
static void handle_cookie(struct client_relay *r, uint8_t *data, size_t len, uint64_t now)
{
	struct client_session *s;
	uint8_t cookie[16];

	s = session_by(r, &r->by_client, get_le32(data + WG_COOKIE_OFF_RECEIVER));
	if (!s) {
		COUNT(r, COOKIE_UNKNOWN_INDEX);
		return;
	}
	if (wg_cookie_open(cookie, data, len, r->server_mac.cookie_key, s->sent_mac1)) {
		COUNT(r, COOKIE_UNDECRYPTABLE);
		return;
	}
	memcpy(r->cookie.cookie, cookie, 16);
	r->cookie.received_ns = now;
	put_le32(data + WG_COOKIE_OFF_RECEIVER, s->client_origin_index);
	if (memcmp(s->sent_mac1, s->local_mac1, 16) &&
	    wg_cookie_seal(data, cookie, r->server_mac.cookie_key, s->local_mac1)) {
		sodium_memzero(cookie, sizeof(cookie));
		COUNT(r, COOKIE_UNDECRYPTABLE);
		return;
	}
	sodium_memzero(cookie, sizeof(cookie));
	s->last_seen_ns = now;
	COUNT(r, COOKIE_FORWARDED);
	send_to_local(r, s, data, len);
}

static void handle_transport_in(struct client_relay *r, uint8_t *data, size_t len, uint64_t now)
{
	struct client_session *s;

	s = session_by(r, &r->by_client, get_le32(data + WG_TRANSPORT_OFF_RECEIVER));
	if (!s) {
		COUNT(r, TRANSPORT_UNKNOWN_INDEX);
		return;
	}
	if (s->flags & XWGP_SF_XLAT_CLIENT)
		put_le32(data + WG_TRANSPORT_OFF_RECEIVER, s->client_origin_index);
	s->last_seen_ns = now;
	COUNT(r, TRANSPORT_TO_LOCAL);
	send_to_local(r, s, data, len);
}

/* De-obfuscate in place when obfs is set; -1 when the packet is dropped. */
static int server_decode(struct client_relay *r, uint8_t *data, size_t *len)
{
	bool decoded = false;
	int n;

	if (!r->obfs)
		return 0;
	n = obfs_decode(&r->obfs_key, data, *len, &decoded);
	if (n < 0) {
		COUNT(r, UNDECODABLE);
		return -1;
	}
	*len = (size_t)n;
	if (decoded)
		COUNT(r, DEOBFUSCATED);
	else if (obfs_is_plain(data, *len))
		COUNT(r, PLAIN_FROM_SERVER); /* mwgp-server answers plain peers plainly */
	return 0;
}

static void from_server(struct client_relay *r, const struct xwgp_ep *src, uint8_t *data,
			size_t len, uint64_t now)
{
	COUNT(r, RX_SERVER);
	if (r->server.family == XWGP_FAMILY_NONE) {
		COUNT(r, NO_SERVER_ADDR);
		return;
	}
	if (!xwgp_source_ok(r->cfg->ssvl, &r->server, src)) {
		COUNT(r, SRC_INVALID);
		return;
	}
	if (server_decode(r, data, &len))
		return;
	if (len > r->cfg->max_packet_size) {
		COUNT(r, TOO_BIG);
		return;
	}
	if (!obfs_is_plain(data, len)) {
		COUNT(r, MALFORMED);
		return;
	}
	switch (data[0]) {
	case WG_MSG_RESPONSE:
		if (len != WG_RESP_LEN)
			break;
		handle_response(r, data, len, now);
		return;
	case WG_MSG_COOKIE_REPLY:
		if (len != WG_COOKIE_REPLY_LEN)
			break;
		handle_cookie(r, data, len, now);
		return;
	case WG_MSG_TRANSPORT:
		if (len < WG_TRANSPORT_MIN_LEN)
			break;
		handle_transport_in(r, data, len, now);
		return;
	default:
		COUNT(r, BAD_TYPE); /* servers never initiate through a proxy */
		return;
	}
	COUNT(r, MALFORMED);
}

void relay_packet(struct client_relay *r, enum relay_side side, const struct xwgp_ep *src,
		  const struct xwgp_ep *dst, uint8_t *data, size_t len, size_t cap, uint64_t now_ns)
{
	if (side == RELAY_LOCAL)
		from_local(r, src, dst, data, len, cap, now_ns);
	else
		from_server(r, src, data, len, now_ns);
}
