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
#include <stdio.h>
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
 * The writer streams text (open_memstream) instead of building a cJSON tree:
 * at 65536 sessions the tree alone took seconds of the event loop. Every
 * string written is base64, hex, an endpoint or a boot id, none of which
 * needs JSON escaping; the boot id is checked to be so. Integers are
 * written exactly (cJSON rounds above ~10^15); above 2^53 (counters after
 * 9 PB) they are clamped, so the reader, which goes through a double, takes
 * them.
 */
static uint64_t json_int(uint64_t v)
{
	return v > CFG_INT_MAX ? CFG_INT_MAX : v;
}

static void put_u64(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, ", \"%s\": %llu", name, (unsigned long long)json_int(v));
}

static void put_hex(FILE *f, const char *name, const uint8_t *p, size_t n)
{
	char hex[2 * 32 + 1];

	sodium_bin2hex(hex, sizeof(hex), p, n);
	fprintf(f, ", \"%s\": \"%s\"", name, hex);
}

static void put_key(FILE *f, const char *name, const uint8_t key[static 32])
{
	char b64[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(b64, key);
	fprintf(f, ", \"%s\": \"%s\"", name, b64);
}

static void put_ep(FILE *f, const char *name, const struct xwgp_ep *ep)
{
	char buf[XWGP_EP_STRLEN];

	if (xwgp_ep_format(buf, sizeof(buf), ep))
		snprintf(buf, sizeof(buf), ":%u", xwgp_ep_port(ep));
	fprintf(f, ", \"%s\": \"%s\"", name, buf);
}

static void put_session(FILE *f, const struct cache_session *cs, const struct cache_clock *at)
{
	/* The session's counters are XDP's and the agent's together (agent/wgit.c). */
	struct xwgp_session s = cs->s;
	const struct xwgp_session_meta *m = &cs->m;

	fprintf(f, "{ \"client_proxy_index\": %u", s.client_proxy_index);
	put_u64(f, "client_origin_index", s.client_origin_index);
	put_u64(f, "server_proxy_index", s.server_proxy_index);
	put_u64(f, "server_origin_index", s.server_origin_index);
	put_u64(f, "flags", s.flags & XWGP_CACHE_SESSION_FLAGS);
	put_u64(f, "csvl", s.csvl);
	put_u64(f, "ssvl", s.ssvl);
	put_ep(f, "client", &s.client);
	put_ep(f, "client_local", &s.client_local);
	put_ep(f, "server", &s.server);
	put_ep(f, "server_local", &s.server_local);
	put_u64(f, "created_age_ms", age_ms(at, s.created_ns));
	put_u64(f, "last_seen_age_ms", age_ms(at, s.last_seen_ns));
	put_u64(f, "handshake_age_ms", age_ms(at, m->handshake_ns));
	if (m->established_ns)
		put_u64(f, "established_age_ms", age_ms(at, m->established_ns));
	put_u64(f, "c2s_packets", s.c2s_packets);
	put_u64(f, "c2s_bytes", s.c2s_bytes);
	put_u64(f, "s2c_packets", s.s2c_packets);
	put_u64(f, "s2c_bytes", s.s2c_bytes);
	put_key(f, "client_pubkey", m->client_pub);
	put_key(f, "server_pubkey", m->server_pub);
	put_hex(f, "sent_mac1", m->sent_mac1, sizeof(m->sent_mac1));
	put_hex(f, "client_mac1", m->client_mac1, sizeof(m->client_mac1));
	fputs(" }", f);
}

static void put_peer(FILE *f, const struct cache_peer *p, const struct cache_clock *at)
{
	char b64[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(b64, p->k.server_pub);
	fprintf(f, "{ \"server_pubkey\": \"%s\"", b64);
	put_key(f, "client_pubkey", p->k.client_pub);
	put_hex(f, "last_tai64n", p->st.last_tai64n, sizeof(p->st.last_tai64n));
	if (p->st.cookie_ns) {
		put_hex(f, "cookie", p->st.cookie, sizeof(p->st.cookie));
		put_u64(f, "cookie_age_ms", age_ms(at, p->st.cookie_ns));
	}
	fputs(" }", f);
}

/* A boot id as the kernel prints it (hex and dashes): nothing to escape. */
static const char *safe_boot_id(const char *id)
{
	return strspn(id, "0123456789abcdefABCDEF-") == strlen(id) ? id : "";
}

char *cache_format(const struct xwgp_cache *c, const struct cache_clock *at)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"{\n  \"version\": %d,\n"
		"  \"written\": { \"boot_id\": \"%s\", \"boottime_ms\": %llu, \"realtime_ms\": %llu },\n"
		"  \"upstream_port\": %u,\n  \"sessions\": [",
		XWGP_CACHE_VERSION, safe_boot_id(at->boot_id),
		(unsigned long long)json_int(at->boot_ns / NSEC_PER_MSEC),
		(unsigned long long)json_int(at->real_ns / NSEC_PER_MSEC), c->upstream_port);
	for (size_t i = 0; i < c->n_sessions; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		put_session(f, &c->sessions[i], at);
	}
	fputs(c->n_sessions ? "\n  ],\n  \"peers\": [" : "],\n  \"peers\": [", f);
	for (size_t i = 0; i < c->n_peers; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		put_peer(f, &c->peers[i], at);
	}
	fputs(c->n_peers ? "\n  ]\n}\n" : "]\n}\n", f);
	if (ferror(f)) {
		fclose(f);
		if (text)
			sodium_memzero(text, len);
		free(text);
		return NULL;
	}
	if (fclose(f)) {
		if (text)
			sodium_memzero(text, len);
		free(text);
		return NULL;
	}
	return text;
}
