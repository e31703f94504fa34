// SPDX-License-Identifier: GPL-2.0
/*
 * `xwgp client' packet rules (agent/client_relay.c), driven directly: real
 * initiations from wg_create_initiation, responses and cookie replies built
 * here with wg_crypto, a fake send callback that records what would go on
 * the wire. Checks index translation with MAC recomputation (the server
 * must still decrypt the translated initiation), cookie re-sealing,
 * obfuscation both ways, source validation, expiry and the index tables.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "byteorder.h"
#include "addr.h"
#include "client_relay.h"
#include "obfs.h"
#include "test.h"
#include "wg_crypto.h"
#include "wg_proto.h"

#define SEC 1000000000ull
#define CAP 2048

struct sent {
	int n;
	enum relay_side side;
	struct xwgp_ep local, remote;
	uint8_t data[CAP];
	size_t len;
};

static struct sent sent;

static int fake_send(void *ctx, enum relay_side side, const struct xwgp_ep *local,
		     const struct xwgp_ep *remote, const uint8_t *data, size_t len)
{
	(void)ctx;
	sent.n++;
	sent.side = side;
	memset(&sent.local, 0, sizeof(sent.local));
	if (local)
		sent.local = *local;
	sent.remote = *remote;
	memcpy(sent.data, data, len);
	sent.len = len;
	return 0;
}

/* Keys, config and endpoints shared by the tests. */
struct env {
	uint8_t client_priv[32], server_priv[32];
	struct wg_server_key server;
	struct xwgp_client_config cfg;
	struct wg_mac_keys client_mac, server_mac;
	struct xwgp_ep server_ep, local_wg, local_wg2, listen_addr, stranger;
	struct client_relay r;
};

static int env_init(struct env *e, const char *obfs, bool force_xlat)
{
	memset(e, 0, sizeof(*e));
	memset(&sent, 0, sizeof(sent));
	if (wg_crypto_init())
		return -1;
	randombytes_buf(e->client_priv, 32);
	randombytes_buf(e->server_priv, 32);
	if (wg_server_key_init(&e->server, e->server_priv))
		return -1;
	memcpy(e->cfg.server_pubkey, e->server.pub, 32);
	if (wg_pubkey(e->cfg.client_pubkey, e->client_priv))
		return -1;
	e->cfg.timeout_sec = 60;
	e->cfg.max_packet_size = 1500;
	e->cfg.csvl = XWGP_SVL_NONE;
	e->cfg.ssvl = XWGP_SVL_IP_PORT;
	e->cfg.obfs = (char *)obfs;
	wg_mac_keys_init(&e->client_mac, e->cfg.client_pubkey);
	wg_mac_keys_init(&e->server_mac, e->server.pub);
	xwgp_ep_set_ip4(&e->server_ep, htonl(0xc6336401), htons(51820)); /* 198.51.100.1 */
	xwgp_ep_set_ip4(&e->local_wg, htonl(0x7f000001), htons(40000));
	xwgp_ep_set_ip4(&e->local_wg2, htonl(0x7f000001), htons(40001));
	xwgp_ep_set_ip4(&e->listen_addr, htonl(0x7f0a0b01), htons(1000));
	xwgp_ep_set_ip4(&e->stranger, htonl(0xcb007109), htons(51820)); /* 203.0.113.9 */
	if (relay_init(&e->r, &e->cfg, 0, fake_send, NULL))
		return -1;
	e->r.force_xlat = force_xlat;
	relay_set_server(&e->r, &e->server_ep);
	return 0;
}

static void env_fini(struct env *e)
{
	relay_fini(&e->r);
	wg_server_key_wipe(&e->server);
}

static void make_init(struct env *e, uint8_t msg[WG_INIT_LEN], uint32_t sender,
		      const uint8_t *cookie)
{
	uint8_t eph[32], tai[12];

	randombytes_buf(eph, 32);
	wg_tai64n_now(tai);
	wg_create_initiation(msg, e->client_priv, e->server.pub, sender, eph, tai, cookie);
}

/* A response as the server would send it: MAC1 for the client key. */
static void make_resp(struct env *e, uint8_t msg[WG_RESP_LEN], uint32_t sender, uint32_t receiver)
{
	randombytes_buf(msg, WG_RESP_LEN);
	memset(msg, 0, 4);
	msg[0] = WG_MSG_RESPONSE;
	put_le32(msg + WG_RESP_OFF_SENDER, sender);
	put_le32(msg + WG_RESP_OFF_RECEIVER, receiver);
	wg_macs_set(msg, WG_RESP_LEN, &e->client_mac, NULL);
}

static void make_transport(uint8_t *msg, size_t len, uint32_t receiver)
{
	randombytes_buf(msg, len);
	memset(msg, 0, 4);
	msg[0] = WG_MSG_TRANSPORT;
	put_le32(msg + WG_TRANSPORT_OFF_RECEIVER, receiver);
}

static void from_local(struct env *e, const struct xwgp_ep *src, uint8_t *buf, size_t len,
		       uint64_t now)
{
	sent.n = 0;
	relay_packet(&e->r, RELAY_LOCAL, src, &e->listen_addr, buf, len, CAP, now);
}

static void from_server(struct env *e, const struct xwgp_ep *src, uint8_t *buf, size_t len,
			uint64_t now)
{
	sent.n = 0;
	relay_packet(&e->r, RELAY_SERVER, src, NULL, buf, len, CAP, now);
}

#define STAT(e, name) ((e)->r.stats[CLIENT_STAT_##name])

TEST(plain_roundtrip_untranslated)
{
	uint8_t buf[CAP], orig[CAP], pub[32], tai[12];
	struct env e;

	CHECK(env_init(&e, NULL, false) == 0);
	make_init(&e, buf, 0x11223344, NULL);
	memcpy(orig, buf, WG_INIT_LEN);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 1 * SEC);
	CHECK(sent.n == 1 && sent.side == RELAY_SERVER, "forwarded to the server");
	CHECK(xwgp_ep_equal(&sent.remote, &e.server_ep), "to the server address");
	CHECK(sent.len == WG_INIT_LEN, "len %zu", sent.len);
	CHECK_MEM(sent.data, orig, WG_INIT_LEN);
	CHECK(wg_consume_initiation(&e.server, sent.data, sent.len, pub, tai) == WG_INIT_OK);

	make_resp(&e, buf, 0xa0a0a0a0, 0x11223344);
	memcpy(orig, buf, WG_RESP_LEN);
	from_server(&e, &e.server_ep, buf, WG_RESP_LEN, 2 * SEC);
	CHECK(sent.n == 1 && sent.side == RELAY_LOCAL, "response to the local WireGuard");
	CHECK(xwgp_ep_equal(&sent.remote, &e.local_wg), "to the learned endpoint");
	CHECK(xwgp_ep_equal(&sent.local, &e.listen_addr), "from the address it sent to");
	CHECK_MEM(sent.data, orig, WG_RESP_LEN);

	make_transport(buf, 100, 0xa0a0a0a0);
	memcpy(orig, buf, 100);
	from_local(&e, &e.local_wg, buf, 100, 3 * SEC);
	CHECK(sent.n == 1 && sent.side == RELAY_SERVER && sent.len == 100, "transport out");
	CHECK_MEM(sent.data, orig, 100);

	make_transport(buf, 1400, 0x11223344);
	memcpy(orig, buf, 1400);
	from_server(&e, &e.server_ep, buf, 1400, 4 * SEC);
	CHECK(sent.n == 1 && sent.side == RELAY_LOCAL && sent.len == 1400, "transport in");
	CHECK_MEM(sent.data, orig, 1400);
	CHECK(STAT(&e, INIT_FORWARDED) == 1 && STAT(&e, RESP_FORWARDED) == 1 &&
		      STAT(&e, TRANSPORT_TO_SERVER) == 1 && STAT(&e, TRANSPORT_TO_LOCAL) == 1 &&
		      STAT(&e, INIT_TRANSLATED) == 0 && STAT(&e, INIT_MAC1_MISMATCH) == 0,
	      "counters");
	env_fini(&e);
}

TEST(forced_translation_recomputes_macs)
{
	uint8_t buf[CAP], pub[32], tai[12];
	uint32_t cproxy, sproxy;
	struct env e;

	CHECK(env_init(&e, NULL, true) == 0);
	make_init(&e, buf, 0x11223344, NULL);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 1 * SEC);
	CHECK(sent.n == 1);
	cproxy = get_le32(sent.data + WG_INIT_OFF_SENDER);
	CHECK(cproxy && cproxy != 0x11223344, "sender translated: %08x", cproxy);
	CHECK(wg_mac1_verify(sent.data, sent.len, &e.server_mac) == 0, "MAC1 for the server");
	CHECK(wg_consume_initiation(&e.server, sent.data, sent.len, pub, tai) == WG_INIT_OK,
	      "the server still decrypts it");
	CHECK(!memcmp(pub, e.cfg.client_pubkey, 32), "client key");

	make_resp(&e, buf, 0xa0a0a0a0, cproxy);
	from_server(&e, &e.server_ep, buf, WG_RESP_LEN, 2 * SEC);
	CHECK(sent.n == 1);
	CHECK(get_le32(sent.data + WG_RESP_OFF_RECEIVER) == 0x11223344, "receiver back to origin");
	sproxy = get_le32(sent.data + WG_RESP_OFF_SENDER);
	CHECK(sproxy && sproxy != 0xa0a0a0a0, "server index translated: %08x", sproxy);
	CHECK(wg_mac1_verify(sent.data, sent.len, &e.client_mac) == 0, "MAC1 for the client");

	make_transport(buf, 64, sproxy);
	from_local(&e, &e.local_wg, buf, 64, 3 * SEC);
	CHECK(sent.n == 1 && get_le32(sent.data + 4) == 0xa0a0a0a0, "transport out translated");
	make_transport(buf, 64, cproxy);
	from_server(&e, &e.server_ep, buf, 64, 4 * SEC);
	CHECK(sent.n == 1 && get_le32(sent.data + 4) == 0x11223344, "transport in translated");
	make_transport(buf, 64, 0xa0a0a0a0);
	from_local(&e, &e.local_wg, buf, 64, 5 * SEC);
	CHECK(sent.n == 0 && STAT(&e, TRANSPORT_UNKNOWN_INDEX) == 1, "origin index is unknown");
	CHECK(STAT(&e, INIT_TRANSLATED) == 1);
	env_fini(&e);
}

TEST(colliding_indexes_of_two_local_peers)
{
	uint8_t buf[CAP];
	struct env e;
	uint32_t second;

	CHECK(env_init(&e, NULL, false) == 0);
	make_init(&e, buf, 0x42, NULL);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 1 * SEC);
	CHECK(sent.n == 1 && get_le32(sent.data + 4) == 0x42, "first keeps its index");
	make_init(&e, buf, 0x42, NULL);
	from_local(&e, &e.local_wg2, buf, WG_INIT_LEN, 1 * SEC);
	second = get_le32(sent.data + 4);
	CHECK(sent.n == 1 && second != 0x42, "second translated");
	CHECK(wg_mac1_verify(sent.data, sent.len, &e.server_mac) == 0, "MAC1 recomputed");
	/* Responses reach each peer at its own endpoint. */
	make_resp(&e, buf, 0x1000, second);
	from_server(&e, &e.server_ep, buf, WG_RESP_LEN, 2 * SEC);
	CHECK(sent.n == 1 && xwgp_ep_equal(&sent.remote, &e.local_wg2) &&
		      get_le32(sent.data + WG_RESP_OFF_RECEIVER) == 0x42,
	      "to the second peer, index restored");
	make_resp(&e, buf, 0x2000, 0x42);
	from_server(&e, &e.server_ep, buf, WG_RESP_LEN, 2 * SEC);
	CHECK(sent.n == 1 && xwgp_ep_equal(&sent.remote, &e.local_wg), "to the first peer");
	CHECK(e.r.n_sessions == 2);
	env_fini(&e);
}

TEST(cookie_reply_resealed_and_used)
{
	uint8_t buf[CAP], cookie[16], got[16], nonce[24], local_mac1[16];
	uint32_t cproxy;
	struct env e;

	CHECK(env_init(&e, NULL, true) == 0);
	make_init(&e, buf, 0x77, NULL);
	memcpy(local_mac1, buf + WG_INIT_OFF_MAC1, 16);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 1 * SEC);
	cproxy = get_le32(sent.data + 4);

	/* The server seals a cookie for the MAC1 it received (ours). */
	randombytes_buf(cookie, 16);
	randombytes_buf(nonce, 24);
	memset(buf, 0, 64);
	buf[0] = WG_MSG_COOKIE_REPLY;
	put_le32(buf + WG_COOKIE_OFF_RECEIVER, cproxy);
	memcpy(buf + WG_COOKIE_OFF_NONCE, nonce, 24);
	CHECK(wg_cookie_seal(buf, cookie, e.server.mac.cookie_key, sent.data + WG_INIT_OFF_MAC1) ==
	      0);
	from_server(&e, &e.server_ep, buf, WG_COOKIE_REPLY_LEN, 2 * SEC);
	CHECK(sent.n == 1 && get_le32(sent.data + 4) == 0x77, "cookie reply passed on");
	CHECK(wg_cookie_open(got, sent.data, sent.len, e.server_mac.cookie_key, local_mac1) == 0,
	      "the local WireGuard can open it (sealed for its own MAC1)");
	CHECK_MEM(got, cookie, 16);

	/* The next (translated) initiation carries MAC2 from that cookie. */
	make_init(&e, buf, 0x78, cookie);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 3 * SEC);
	CHECK(wg_mac2_verify(sent.data, sent.len, cookie) == 0, "MAC2 recomputed with the cookie");
	/* ... until the cookie is 120 s old. */
	make_init(&e, buf, 0x79, cookie);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 123 * SEC);
	CHECK(wg_mac2_verify(sent.data, sent.len, cookie) != 0, "expired cookie not used");
	env_fini(&e);
}

TEST(obfs_both_ways)
{
	uint8_t buf[CAP], orig[CAP], resp[WG_RESP_LEN];
	struct obfs_key k;
	bool decoded;
	struct env e;
	int n;

	CHECK(env_init(&e, "kisekimo, mahoumo, muryoudewaarimasen", false) == 0);
	obfs_key_init(&k, "kisekimo, mahoumo, muryoudewaarimasen");
	make_init(&e, buf, 0x1234, NULL);
	memcpy(orig, buf, WG_INIT_LEN);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 1 * SEC);
	CHECK(sent.n == 1 && !obfs_is_plain(sent.data, sent.len), "obfuscated on the wire");
	CHECK(sent.len >= WG_INIT_LEN + 16, "padded: %zu", sent.len);
	n = obfs_decode(&k, sent.data, sent.len, &decoded);
	CHECK(n == WG_INIT_LEN && decoded, "decodes: %d", n);
	CHECK_MEM(sent.data, orig, WG_INIT_LEN);

	/* Obfuscated response from the server. */
	make_resp(&e, resp, 0x5555, 0x1234);
	memcpy(buf, resp, WG_RESP_LEN);
	n = obfs_encode(&k, buf, WG_RESP_LEN, CAP, NULL, NULL);
	CHECK(n > WG_RESP_LEN);
	from_server(&e, &e.server_ep, buf, (size_t)n, 2 * SEC);
	CHECK(sent.n == 1 && sent.len == WG_RESP_LEN, "de-obfuscated: %zu", sent.len);
	CHECK_MEM(sent.data, resp, WG_RESP_LEN);

	/* Short transport: 16 bytes of nonce appended, first 16 XORed. */
	make_transport(buf, 48, 0x5555);
	memcpy(orig, buf, 48);
	from_local(&e, &e.local_wg, buf, 48, 3 * SEC);
	CHECK(sent.n == 1 && sent.len == 64 && !obfs_is_plain(sent.data, sent.len), "transport");
	CHECK_MEM(sent.data + 16, orig + 16, 32);

	/* A plain transport from the server is accepted (mwgp does). */
	make_transport(buf, 48, 0x1234);
	from_server(&e, &e.server_ep, buf, 48, 4 * SEC);
	CHECK(sent.n == 1 && STAT(&e, PLAIN_FROM_SERVER) == 1, "plain accepted");

	/* Garbage (decodes to no valid type with this key) is undecodable. */
	randombytes_buf(buf, 200);
	buf[0] = 0xff;
	from_server(&e, &e.server_ep, buf, 200, 5 * SEC);
	CHECK(sent.n == 0, "garbage dropped");
	CHECK(STAT(&e, UNDECODABLE) + STAT(&e, MALFORMED) + STAT(&e, BAD_TYPE) +
			      STAT(&e, TRANSPORT_UNKNOWN_INDEX) + STAT(&e, RESP_UNKNOWN_INDEX) +
			      STAT(&e, COOKIE_UNKNOWN_INDEX) ==
		      1,
	      "counted once");
	CHECK(STAT(&e, OBFUSCATED) == 2 && STAT(&e, DEOBFUSCATED) == 1, "obfs counters %llu %llu",
	      (unsigned long long)STAT(&e, OBFUSCATED), (unsigned long long)STAT(&e, DEOBFUSCATED));
	obfs_key_wipe(&k);
	env_fini(&e);
}

TEST(obfs_wrong_password_undecodable)
{
	uint8_t buf[CAP];
	struct obfs_key other;
	struct env e;
	int n, undecodable = 0;

	CHECK(env_init(&e, "right", false) == 0);
	obfs_key_init(&other, "wrong");
	make_init(&e, buf, 0x1234, NULL);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 1 * SEC);
	/* Many responses obfuscated with another key: none gets through. */
	for (int i = 0; i < 64; i++) {
		make_resp(&e, buf, 0x5555, 0x1234);
		n = obfs_encode(&other, buf, WG_RESP_LEN, CAP, NULL, NULL);
		from_server(&e, &e.server_ep, buf, (size_t)n, 2 * SEC);
		CHECK(sent.n == 0, "a response obfuscated with another password got through");
	}
	undecodable = (int)STAT(&e, UNDECODABLE);
	CHECK(undecodable > 32, "most are undecodable: %d of 64", undecodable);
	obfs_key_wipe(&other);
	env_fini(&e);
}

TEST(source_validation_and_roaming)
{
	uint8_t buf[CAP];
	struct xwgp_ep moved;
	struct env e;

	CHECK(env_init(&e, NULL, false) == 0);
	make_init(&e, buf, 0x99, NULL);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 1 * SEC);
	make_resp(&e, buf, 0x88, 0x99);
	from_server(&e, &e.stranger, buf, WG_RESP_LEN, 2 * SEC);
	CHECK(sent.n == 0 && STAT(&e, SRC_INVALID) == 1, "ssvl 3: stranger refused");
	make_resp(&e, buf, 0x88, 0x99);
	from_server(&e, &e.server_ep, buf, WG_RESP_LEN, 2 * SEC);
	CHECK(sent.n == 1);

	/* csvl 1: the local WireGuard moved to another port; replies follow it. */
	moved = e.local_wg;
	moved.port = htons(40555);
	make_transport(buf, 32, 0x88);
	from_local(&e, &moved, buf, 32, 3 * SEC);
	CHECK(sent.n == 1 && STAT(&e, ROAMED) == 1, "roamed");
	make_transport(buf, 32, 0x99);
	from_server(&e, &e.server_ep, buf, 32, 3 * SEC);
	CHECK(sent.n == 1 && xwgp_ep_equal(&sent.remote, &moved), "reply to the new port");

	/* A changed server address (re-resolution) is followed. */
	relay_set_server(&e.r, &e.stranger);
	make_transport(buf, 32, 0x99);
	from_server(&e, &e.stranger, buf, 32, 4 * SEC);
	CHECK(sent.n == 1, "new server address accepted");
	make_transport(buf, 32, 0x88);
	from_local(&e, &moved, buf, 32, 4 * SEC);
	CHECK(sent.n == 1 && xwgp_ep_equal(&sent.remote, &e.stranger), "sent to the new address");
	env_fini(&e);
}

TEST(malformed_and_wrong_direction)
{
	uint8_t buf[CAP];
	struct env e;

	CHECK(env_init(&e, NULL, false) == 0);
	make_init(&e, buf, 0x99, NULL);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN - 1, 1 * SEC);
	CHECK(sent.n == 0 && STAT(&e, MALFORMED) == 1, "short initiation");
	make_resp(&e, buf, 1, 2);
	from_local(&e, &e.local_wg, buf, WG_RESP_LEN, 1 * SEC);
	CHECK(sent.n == 0 && STAT(&e, BAD_TYPE) == 1, "response from the local side");
	make_init(&e, buf, 0x99, NULL);
	from_server(&e, &e.server_ep, buf, WG_INIT_LEN, 1 * SEC);
	CHECK(sent.n == 0 && STAT(&e, BAD_TYPE) == 2, "initiation from the server");
	make_transport(buf, 1501, 1);
	from_local(&e, &e.local_wg, buf, 1501, 1 * SEC);
	CHECK(sent.n == 0 && STAT(&e, TOO_BIG) == 1, "over max_packet_size");
	buf[0] = 1, buf[1] = 1;
	from_local(&e, &e.local_wg, buf, 3, 1 * SEC);
	CHECK(sent.n == 0 && STAT(&e, MALFORMED) == 2, "runt");
	/* An unresolved server: nothing is sent anywhere. */
	memset(&e.r.server, 0, sizeof(e.r.server));
	make_init(&e, buf, 0x99, NULL);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 1 * SEC);
	CHECK(sent.n == 0 && STAT(&e, NO_SERVER_ADDR) == 1, "no server address");
	/* A response whose MAC1 is not for client_pubkey is dropped. */
	relay_set_server(&e.r, &e.server_ep);
	make_init(&e, buf, 0x99, NULL);
	from_local(&e, &e.local_wg, buf, WG_INIT_LEN, 1 * SEC);
	make_resp(&e, buf, 0x88, 0x99);
	buf[WG_RESP_OFF_MAC1] ^= 1;
	from_server(&e, &e.server_ep, buf, WG_RESP_LEN, 2 * SEC);
	CHECK(sent.n == 0 && STAT(&e, RESP_BAD_MAC1) == 1, "bad response MAC1");
	env_fini(&e);
}

/*
 * Thousands of sessions created at increasing times, then the older half
 * expired: every survivor must still be found by both of its indexes and
 * no expired one may be (exercises backward-shift deletion and the dense
 * array's swap-remove).
 */
TEST(expiry_and_index_tables)
{
	enum { N = 3000 };
	static uint32_t cidx[N], sidx[N];
	uint8_t buf[CAP];
	struct env e;
	uint64_t t0 = 1000 * SEC;

	CHECK(env_init(&e, NULL, false) == 0);
	for (int i = 0; i < N; i++) {
		struct xwgp_ep ep = e.local_wg;

		ep.port = htons((uint16_t)(20000 + i));
		randombytes_buf(buf, WG_INIT_LEN);
		memset(buf, 0, 4);
		buf[0] = WG_MSG_INITIATION;
		cidx[i] = randombytes_random() | 1;
		put_le32(buf + 4, cidx[i]);
		wg_macs_set(buf, WG_INIT_LEN, &e.server_mac, NULL);
		from_local(&e, &ep, buf, WG_INIT_LEN, t0 + (uint64_t)i * SEC / 100);
		cidx[i] = get_le32(sent.data + 4);
		sidx[i] = randombytes_random() | 1;
		make_resp(&e, buf, sidx[i], cidx[i]);
		from_server(&e, &e.server_ep, buf, WG_RESP_LEN, t0 + (uint64_t)i * SEC / 100);
		CHECK(sent.n == 1, "response %d", i);
		sidx[i] = get_le32(sent.data + WG_RESP_OFF_SENDER);
	}
	CHECK(e.r.n_sessions == N, "%u sessions", e.r.n_sessions);
	/* Sessions i < N/2 were last seen before t0 + 14.995 s: idle > 60 s at t0 + 74.995 s. */
	CHECK(relay_expire(&e.r, t0 + 75 * SEC - 5 * SEC / 1000) == N / 2, "expired %llu",
	      (unsigned long long)STAT(&e, EXPIRED));
	for (int i = 0; i < N; i++) {
		const struct client_session *a = relay_find_client(&e.r, cidx[i]);
		const struct client_session *b = relay_find_server(&e.r, sidx[i]);

		if (i < N / 2) {
			CHECK(!a && !b, "expired session %d still found", i);
		} else {
			CHECK(a && a == b, "session %d lost", i);
			CHECK(a->client_proxy_index == cidx[i] && a->server_proxy_index == sidx[i],
			      "session %d indexes", i);
		}
	}
	CHECK(relay_expire(&e.r, t0 + 200 * SEC) == N / 2 && e.r.n_sessions == 0, "all expired");
	env_fini(&e);
}

TEST_MAIN()
