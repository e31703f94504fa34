// SPDX-License-Identifier: GPL-2.0
/*
 * Writing the session cache file: see cache.h for what it holds and why
 * times are ages. Layout (every field required unless marked optional):
 *
 * {
 *   "version": 1,
 *   "written": { "boot_id": "...", "boottime_ms": N, "realtime_ms": N },
 *   "upstream_port": 51900,
 *   "sessions": [ { "client_proxy_index": N, "client_origin_index": N,
 *                   "server_proxy_index": N, "server_origin_index": N,
 *                   "flags": N, "csvl": N, "ssvl": N,
 *                   "client": "ep", "client_local": "ep",
 *                   "server": "ep", "server_local": "ep",
 *                   "created_age_ms": N, "last_seen_age_ms": N,
 *                   "handshake_age_ms": N, "established_age_ms": N (optional),
 *                   "c2s_packets": N, "c2s_bytes": N, "s2c_packets": N, "s2c_bytes": N,
 *                   (totals: XDP's and the agent's share, restored as the session's)
 *                   "client_pubkey": "b64", "server_pubkey": "b64",
 *                   "sent_mac1": "hex", "client_mac1": "hex" } ],
 *   "peers": [ { "server_pubkey": "b64", "client_pubkey": "b64",
 *                "last_tai64n": "hex", "cookie": "hex" (optional),
 *                "cookie_age_ms": N (with cookie) } ]
 * }
 *
 * Numbers are integers a double holds exactly (<= 2^53): cJSON parses every
 * number into a double.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "addr.h"
#include "cache.h"
#include "clock.h"
#include "config_json.h"
#include "wg_crypto.h"

static uint64_t age_ms(const struct cache_clock *at, uint64_t t)
{
	return t && at->boot_ns > t ? (at->boot_ns - t) / NSEC_PER_MSEC : 0;
}

/*
 * The writer appends to a buffer of its own instead of building a cJSON
 * tree (at 65536 sessions the tree alone took seconds) or going through
 * stdio (open_memstream + fprintf: ~25 calls per session, formatting 28,000
 * sessions cost 2% of the agent's CPU in a handshake storm). Every string
 * written is base64, hex, an endpoint or a boot id, none of which needs
 * JSON escaping; the boot id is checked to be so. Integers are written
 * exactly (cJSON rounds above ~10^15); above 2^53 (counters after 9 PB)
 * they are clamped, so the reader, which goes through a double, takes them.
 */
static uint64_t json_int(uint64_t v)
{
	return v > CFG_INT_MAX ? CFG_INT_MAX : v;
}

/* The text so far; after a failed allocation nothing more is written. */
struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

/*
 * Double the buffer until n more bytes and a NUL fit. The old copy is wiped
 * before it is freed, as the caller wipes the final one: the text holds
 * MAC1s, timestamps and cookies.
 */
static __attribute__((cold)) bool text_grow(struct text *t, size_t n)
{
	size_t cap = t->cap;
	char *buf;

	while (cap - t->len <= n)
		cap *= 2;
	buf = malloc(cap);
	if (!buf) {
		t->oom = true;
		return false;
	}
	memcpy(buf, t->buf, t->len);
	sodium_memzero(t->buf, t->len);
	free(t->buf);
	t->buf = buf;
	t->cap = cap;
	return true;
}

/* Where n more bytes go (a NUL fits after them), or NULL when out of memory. */
static inline char *text_room(struct text *t, size_t n)
{
	if (t->oom || (t->cap - t->len <= n && !text_grow(t, n)))
		return NULL;
	return t->buf + t->len;
}

static inline void put_str(struct text *t, const char *s, size_t n)
{
	char *p = text_room(t, n);

	if (p) {
		memcpy(p, s, n);
		t->len += n;
	}
}

/* A string literal ("" s "" refuses anything else): its length known at compile time. */
#define put_lit(t, s) put_str(t, "" s "", sizeof(s) - 1)

/* Decimal, as %llu: printf's parsing and stream locking were most of the cost. */
static inline void put_dec(struct text *t, uint64_t v)
{
	size_t n = 1;
	char *p;

	for (uint64_t x = v; x >= 10; x /= 10)
		n++;
	p = text_room(t, n);
	if (!p)
		return;
	t->len += n;
	p += n;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
}

/* `, "name": ' between the fields of a record. */
static inline void put_name(struct text *t, const char *name)
{
	put_lit(t, ", \"");
	put_str(t, name, strlen(name));
	put_lit(t, "\": ");
}

static inline void put_u64(struct text *t, const char *name, uint64_t v)
{
	put_name(t, name);
	put_dec(t, json_int(v));
}

static void put_hex(struct text *t, const char *name, const uint8_t *p, size_t n)
{
	char *out;

	put_name(t, name);
	put_lit(t, "\"");
	out = text_room(t, 2 * n);
	if (out) {
		sodium_bin2hex(out, 2 * n + 1, p, n);
		t->len += 2 * n;
	}
	put_lit(t, "\"");
}

static void put_b64(struct text *t, const uint8_t key[static 32])
{
	char *out = text_room(t, WG_KEY_B64_LEN);

	if (out) {
		wg_key_to_base64(out, key);
		t->len += WG_KEY_B64_LEN;
	}
}

static void put_key(struct text *t, const char *name, const uint8_t key[static 32])
{
	put_name(t, name);
	put_lit(t, "\"");
	put_b64(t, key);
	put_lit(t, "\"");
}

/*
 * Endpoints as xwgp_ep_format writes them; one it refuses (an unknown
 * family) as its port alone, ":port". IPv4, the common case, digit by
 * digit: its inet_ntop and two snprintf calls were half of the writer's
 * time once the rest was done by hand.
 */
static void put_ep(struct text *t, const char *name, const struct xwgp_ep *ep)
{
	const uint8_t *ip4 = (const uint8_t *)&ep->addr[3];
	char *out;

	put_name(t, name);
	put_lit(t, "\"");
	if (ep->family == XWGP_FAMILY_IPV4) {
		for (int i = 0; i < 4; i++) {
			put_dec(t, ip4[i]);
			if (i < 3)
				put_lit(t, ".");
		}
		put_lit(t, ":");
		put_dec(t, xwgp_ep_port(ep));
	} else if ((out = text_room(t, XWGP_EP_STRLEN)) &&
		   !xwgp_ep_format(out, XWGP_EP_STRLEN, ep)) {
		t->len += strlen(out);
	} else {
		put_lit(t, ":");
		put_dec(t, xwgp_ep_port(ep));
	}
	put_lit(t, "\"");
}

static void put_session(struct text *t, const struct cache_session *cs,
			const struct cache_clock *at)
{
	/* The session's counters are XDP's and the agent's together (agent/wgit.c). */
	const struct xwgp_session *s = &cs->s;
	const struct xwgp_session_meta *m = &cs->m;

	put_lit(t, "{ \"client_proxy_index\": ");
	put_dec(t, s->client_proxy_index);
	put_u64(t, "client_origin_index", s->client_origin_index);
	put_u64(t, "server_proxy_index", s->server_proxy_index);
	put_u64(t, "server_origin_index", s->server_origin_index);
	put_u64(t, "flags", s->flags & XWGP_CACHE_SESSION_FLAGS);
	put_u64(t, "csvl", s->csvl);
	put_u64(t, "ssvl", s->ssvl);
	put_ep(t, "client", &s->client);
	put_ep(t, "client_local", &s->client_local);
	put_ep(t, "server", &s->server);
	put_ep(t, "server_local", &s->server_local);
	put_u64(t, "created_age_ms", age_ms(at, s->created_ns));
	put_u64(t, "last_seen_age_ms", age_ms(at, s->last_seen_ns));
	put_u64(t, "handshake_age_ms", age_ms(at, m->handshake_ns));
	if (m->established_ns)
		put_u64(t, "established_age_ms", age_ms(at, m->established_ns));
	put_u64(t, "c2s_packets", s->c2s_packets);
	put_u64(t, "c2s_bytes", s->c2s_bytes);
	put_u64(t, "s2c_packets", s->s2c_packets);
	put_u64(t, "s2c_bytes", s->s2c_bytes);
	put_key(t, "client_pubkey", m->client_pub);
	put_key(t, "server_pubkey", m->server_pub);
	put_hex(t, "sent_mac1", m->sent_mac1, sizeof(m->sent_mac1));
	put_hex(t, "client_mac1", m->client_mac1, sizeof(m->client_mac1));
	put_lit(t, " }");
}

static void put_peer(struct text *t, const struct cache_peer *p, const struct cache_clock *at)
{
	put_lit(t, "{ \"server_pubkey\": \"");
	put_b64(t, p->k.server_pub);
	put_lit(t, "\"");
	put_key(t, "client_pubkey", p->k.client_pub);
	put_hex(t, "last_tai64n", p->st.last_tai64n, sizeof(p->st.last_tai64n));
	if (p->st.cookie_ns) {
		put_hex(t, "cookie", p->st.cookie, sizeof(p->st.cookie));
		put_u64(t, "cookie_age_ms", age_ms(at, p->st.cookie_ns));
	}
	put_lit(t, " }");
}

/* A boot id as the kernel prints it (hex and dashes): nothing to escape. */
static const char *safe_boot_id(const char *id)
{
	return strspn(id, "0123456789abcdefABCDEF-") == strlen(id) ? id : "";
}

char *cache_format(const struct xwgp_cache *c, const struct cache_clock *at)
{
	/* Room for the usual text at once (a session's line is ~750 bytes). */
	struct text t = { .cap = 4096 + 1024 * c->n_sessions + 384 * c->n_peers };
	const char *boot_id = safe_boot_id(at->boot_id);

	t.buf = malloc(t.cap);
	if (!t.buf)
		return NULL;
	put_lit(&t, "{\n  \"version\": ");
	put_dec(&t, XWGP_CACHE_VERSION);
	put_lit(&t, ",\n  \"written\": { \"boot_id\": \"");
	put_str(&t, boot_id, strlen(boot_id));
	put_lit(&t, "\"");
	put_u64(&t, "boottime_ms", at->boot_ns / NSEC_PER_MSEC);
	put_u64(&t, "realtime_ms", at->real_ns / NSEC_PER_MSEC);
	put_lit(&t, " },\n  \"upstream_port\": ");
	put_dec(&t, c->upstream_port);
	put_lit(&t, ",\n  \"sessions\": [");
	for (size_t i = 0; i < c->n_sessions; i++) {
		if (i)
			put_lit(&t, ",");
		put_lit(&t, "\n    ");
		put_session(&t, &c->sessions[i], at);
	}
	if (c->n_sessions)
		put_lit(&t, "\n  ");
	put_lit(&t, "],\n  \"peers\": [");
	for (size_t i = 0; i < c->n_peers; i++) {
		if (i)
			put_lit(&t, ",");
		put_lit(&t, "\n    ");
		put_peer(&t, &c->peers[i], at);
	}
	if (c->n_peers)
		put_lit(&t, "\n  ");
	put_lit(&t, "]\n}\n");
	if (t.oom) {
		sodium_memzero(t.buf, t.len);
		free(t.buf);
		return NULL;
	}
	t.buf[t.len] = '\0';
	return t.buf;
}
