// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's handler with obfuscation on, against real BPF maps (the
 * skeleton, loaded, not attached) and a mock network: an obfuscated
 * initiation (wg_create_initiation + obfs_encode) is decoded and forwarded
 * plain, the session remembers obfs, and everything sent back to that
 * client (response, cookie reply, transport) is obfuscated and decodes to
 * what a vanilla client would have got; client transport (as XDP punts it)
 * is decoded and forwarded plain; vanilla clients on the same port stay
 * plain; undecodable packets are counted and dropped. Packets are handed
 * over with cap == len, so no test relies on room after the message.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "bpf_loader.h"
#include "config.h"
#include "handler.h"
#include "obfs.h"
#include "handler_mock.h"
#include "test.h"
#include "wg_crypto.h"
#include "wg_proto.h"
#include "xwgp.skel.h"

#define PASSWORD "kisekimo, mahoumo, muryoudewaarimasen"

static struct env {
	bool ready;
	struct xwgp_bpf *skel; /* the maps' owner, for the whole run */
	struct xwgp_maps maps;
	struct xwgp_server_config cfg;
	struct handler h;
	struct sent sent;
	struct obfs_key key;
	uint8_t srv_priv[32], srv_pub[32];
	uint8_t cli_priv[32], cli_pub[32];
	struct wg_mac_keys srv_mac, cli_mac;
	uint8_t tai[12];
} env;

static int env_setup(void)
{
	char cfgtext[1024], sp[45], cp[45];

	if (wg_crypto_init())
		return -1;
	keypair(env.srv_priv, env.srv_pub);
	keypair(env.cli_priv, env.cli_pub);
	wg_mac_keys_init(&env.srv_mac, env.srv_pub);
	wg_mac_keys_init(&env.cli_mac, env.cli_pub);
	wg_tai64n_now(env.tai);
	obfs_key_init(&env.key, PASSWORD);
	wg_key_to_base64(sp, env.srv_priv);
	wg_key_to_base64(cp, env.cli_pub);
	snprintf(cfgtext, sizeof(cfgtext),
		 "{ \"listen\": \"192.0.2.1:51820\", \"obfs\": \"" PASSWORD "\","
		 " \"servers\": [ { \"privkey\": \"%s\", \"address\": \"198.51.100.2\","
		 " \"peers\": [ { \"pubkey\": \"%s\", \"forward_to\": \":51820\" } ] } ] }",
		 sp, cp);
	return mock_handler_up(&env.h, &env.cfg, &env.maps, &env.skel, &env.sent, cfgtext,
			       sizeof(cfgtext));
}

#define ENV() MOCK_HANDLER_REQUIRE(env, env_setup)

#define STAT(name) (env.h.stats[XWGP_AGENT_STAT_##name])

/* Hand wire[len] to the handler as it arrives (cap == len: no room to grow). */
static struct handler_pkt deliver(enum xwgp_side side, uint8_t *wire, size_t len, uint16_t sport)
{
	struct handler_pkt p = { .side = side, .data = wire, .len = len, .cap = len };

	if (side == XWGP_SIDE_CLIENT) {
		ep4(&p.src, "192.0.2.11", sport);
		ep4(&p.dst, "192.0.2.1", 51820);
	} else {
		ep4(&p.src, "198.51.100.2", sport);
		ep4(&p.dst, "198.51.100.1", 51900);
	}
	memset(&env.sent, 0, sizeof(env.sent));
	handler_packet(&env.h, &p);
	return p;
}

/* A client initiation, obfuscated or not; msg gets the plain bytes. */
static struct handler_pkt client_initiation(uint32_t sender, bool obfs, uint8_t msg[148])
{
	static uint8_t wire[148 + OBFS_MAX_OVERHEAD];
	uint8_t eph[32], tai[12];
	int n = 148;

	randombytes_buf(eph, 32);
	tai_next(env.tai, tai);
	wg_create_initiation(msg, env.cli_priv, env.srv_pub, sender, eph, tai, NULL);
	memcpy(wire, msg, 148);
	if (obfs)
		n = obfs_encode(&env.key, wire, 148, sizeof(wire), NULL, NULL);
	return deliver(XWGP_SIDE_CLIENT, wire, n, 40001);
}

/* The backend's response to the forwarded initiation. */
static void backend_response(uint32_t sender, uint32_t receiver)
{
	uint8_t msg[WG_RESP_LEN];

	randombytes_buf(msg, sizeof(msg));
	memset(msg, 0, 4);
	msg[0] = WG_MSG_RESPONSE;
	put_le32(msg + WG_RESP_OFF_SENDER, sender);
	put_le32(msg + WG_RESP_OFF_RECEIVER, receiver);
	wg_macs_set(msg, sizeof(msg), &env.cli_mac, NULL);
	deliver(XWGP_SIDE_SERVER, msg, sizeof(msg), 51820);
}

/* Decode what was sent to the client; its plain length, or -1. */
static int sent_decoded(uint8_t *out, bool *was_obfs)
{
	int n;

	memcpy(out, env.sent.data, env.sent.len);
	n = obfs_decode(&env.key, out, env.sent.len, was_obfs);
	return n;
}

static void clear_maps(void)
{
	wgit_expire(&env.h.wgit, UINT64_MAX / 2, 0);
}

static bool session_obfs(uint32_t client_proxy)
{
	struct xwgp_session s;

	return !wgit_session_get(&env.h.wgit, client_proxy, &s) && (s.flags & XWGP_SF_OBFS);
}

#define PROXY(origin) mock_proxy_of(&env.h.wgit, (origin))
#define SRV(origin) mock_srv_of(&env.h.wgit, PROXY(origin))

/*
 * Set up an obfuscating session with sender indexes ci (client) and si
 * (backend); xwgp assigns the proxy indexes (PROXY, SRV).
 */
static void obfs_session(uint32_t ci, uint32_t si)
{
	uint8_t msg[148];

	client_initiation(ci, true, msg);
	backend_response(si, PROXY(ci));
}

TEST(obfuscated_initiation_forwarded_plain)
{
	uint8_t msg[148];
	struct handler_pkt p;

	ENV();
	clear_maps();
	p = client_initiation(0x11111111, true, msg);
	CHECK(p.obfs, "packet not marked as obfuscated");
	CHECK(STAT(INIT_FORWARDED) == 1 && !STAT(OBFS_UNDECODABLE), "forwarded %llu",
	      (unsigned long long)STAT(INIT_FORWARDED));
	CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_SERVER, "sent %d", env.sent.count);
	CHECK(env.sent.len == 148, "%zu bytes to the backend", env.sent.len);
	/* The client's own bytes but the sender index (assigned) and MAC1 (recomputed). */
	CHECK(get_le32(env.sent.data + WG_INIT_OFF_SENDER) == PROXY(0x11111111), "sender");
	CHECK_MEM(env.sent.data + 8, msg + 8, WG_INIT_OFF_MAC1 - 8);
	CHECK(!wg_mac1_verify(env.sent.data, 148, &env.srv_mac), "MAC1");
	CHECK(session_obfs(PROXY(0x11111111)), "session does not remember obfs");
}

TEST(response_to_obfs_client_obfuscated)
{
	uint8_t msg[148], out[2048];
	bool was_obfs = false;
	int n;

	ENV();
	clear_maps();
	client_initiation(0x22222222, true, msg);
	backend_response(0x33333333, PROXY(0x22222222));
	CHECK(STAT(RESP_FORWARDED) == 1 && env.sent.count == 1, "response not forwarded");
	CHECK(env.sent.side == XWGP_SIDE_CLIENT, "sent to the backend");
	CHECK(env.sent.len >= 92 + 16 && env.sent.len <= 92 + 16 + 383, "%zu bytes on the wire",
	      env.sent.len);
	CHECK(!obfs_is_plain(env.sent.data, env.sent.len), "response left plain");
	n = sent_decoded(out, &was_obfs);
	CHECK(was_obfs && n == 92, "decodes to %d bytes (%d)", n, was_obfs);
	CHECK(out[0] == 2 && get_le32(out + 4) == SRV(0x22222222) &&
		      get_le32(out + 8) == 0x22222222,
	      "response header");
	CHECK(!wg_mac1_verify(out, 92, &env.cli_mac), "MAC1 for the client");
}

TEST(cookie_reply_to_obfs_client_obfuscated)
{
	struct xwgp_session_meta meta;
	struct wg_mac_keys srv_mac;
	uint8_t msg[148], cookie[16], reply[WG_COOKIE_REPLY_LEN], out[2048], got[16];
	bool was_obfs = false;
	int n;

	ENV();
	clear_maps();
	client_initiation(0x44444444, true, msg);
	CHECK(!wgit_meta_get(&env.h.wgit, PROXY(0x44444444), &meta), "no meta");
	/* The backend under load answers the forwarded initiation with a cookie. */
	randombytes_buf(cookie, sizeof(cookie));
	memset(reply, 0, sizeof(reply));
	reply[0] = WG_MSG_COOKIE_REPLY;
	put_le32(reply + WG_COOKIE_OFF_RECEIVER, PROXY(0x44444444));
	randombytes_buf(reply + WG_COOKIE_OFF_NONCE, WG_COOKIE_NONCE_LEN);
	wg_mac_keys_init(&srv_mac, env.srv_pub);
	CHECK(!wg_cookie_seal(reply, cookie, srv_mac.cookie_key, meta.sent_mac1), "seal");
	deliver(XWGP_SIDE_SERVER, reply, sizeof(reply), 51820);
	CHECK(STAT(COOKIE_FORWARDED) == 1 && env.sent.side == XWGP_SIDE_CLIENT,
	      "cookie reply not forwarded");
	CHECK(!obfs_is_plain(env.sent.data, env.sent.len) && env.sent.len >= 64 + 16,
	      "cookie reply left plain (%zu bytes)", env.sent.len);
	n = sent_decoded(out, &was_obfs);
	CHECK(was_obfs && n == 64, "decodes to %d bytes", n);
	CHECK(!wg_cookie_open(got, out, 64, srv_mac.cookie_key, msg + WG_INIT_OFF_MAC1),
	      "the client cannot open it");
	CHECK_MEM(got, cookie, 16);
}

TEST(transport_both_ways)
{
	uint8_t plain[300], wire[300 + OBFS_MAX_OVERHEAD], out[2048];
	const size_t lens[] = { 32, 100, 255, 256, 299 };
	bool was_obfs;
	int n;

	ENV();
	clear_maps();
	obfs_session(0x55555555, 0x66666666);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];

		/* Client -> server, obfuscated, as XDP punts it (PUNT_OBFS) or the socket gets it. */
		randombytes_buf(plain, len);
		plain[0] = 4, plain[1] = plain[2] = plain[3] = 0;
		put_le32(plain + 4, SRV(0x55555555));
		memcpy(wire, plain, len);
		n = obfs_encode(&env.key, wire, len, sizeof(wire), NULL, NULL);
		CHECK(n > 0, "encode");
		deliver(XWGP_SIDE_CLIENT, wire, n, 40001);
		CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_SERVER,
		      "c2s %zu: not forwarded (undecodable %llu)", len,
		      (unsigned long long)STAT(OBFS_UNDECODABLE));
		CHECK(env.sent.len == len, "c2s %zu: %zu bytes to the backend", len, env.sent.len);
		put_le32(plain + 4, 0x66666666); /* the backend's own index */
		CHECK_MEM(env.sent.data, plain, len);

		/* Server -> client, plain from the backend, obfuscated to the client. */
		randombytes_buf(plain, len);
		plain[0] = 4, plain[1] = plain[2] = plain[3] = 0;
		put_le32(plain + 4, PROXY(0x55555555));
		memcpy(wire, plain, len);
		deliver(XWGP_SIDE_SERVER, wire, len, 51820);
		CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_CLIENT, "s2c %zu", len);
		CHECK(env.sent.len == (len < 256 ? len + 16 : len), "s2c %zu: %zu on the wire", len,
		      env.sent.len);
		CHECK(!obfs_is_plain(env.sent.data, env.sent.len), "s2c %zu: left plain", len);
		n = sent_decoded(out, &was_obfs);
		CHECK(was_obfs && n == (int)len, "s2c %zu: decodes to %d", len, n);
		put_le32(plain + 4, 0x55555555); /* the client's own index */
		CHECK_MEM(out, plain, len);
	}
	CHECK(STAT(TRANSPORT_C2S) == 5 && STAT(TRANSPORT_S2C) == 5, "counted %llu/%llu",
	      (unsigned long long)STAT(TRANSPORT_C2S), (unsigned long long)STAT(TRANSPORT_S2C));
}

TEST(vanilla_client_stays_plain)
{
	uint8_t msg[148], t[64];

	ENV();
	clear_maps();
	client_initiation(0x77777777, false, msg);
	CHECK(STAT(INIT_FORWARDED) == 1, "not forwarded");
	CHECK(!session_obfs(PROXY(0x77777777)), "plain client marked obfs");
	backend_response(0x78787878, PROXY(0x77777777));
	CHECK(env.sent.len == 92 && env.sent.data[0] == 2, "response not plain: %zu bytes",
	      env.sent.len);
	memset(t, 0x5c, sizeof(t));
	t[0] = 4, t[1] = t[2] = t[3] = 0;
	put_le32(t + 4, PROXY(0x77777777));
	deliver(XWGP_SIDE_SERVER, t, sizeof(t), 51820);
	CHECK(env.sent.len == 64 && obfs_is_plain(env.sent.data, 64), "transport not plain");
}

TEST(undecodable_dropped)
{
	uint8_t junk[200], runt[20];

	ENV();
	clear_maps();
	obfs_session(0x99999999, 0x9a9a9a9a);
	for (int i = 0; i < 50; i++) {
		randombytes_buf(junk, sizeof(junk));
		junk[0] |= 0x10; /* never plain */
		deliver(XWGP_SIDE_CLIENT, junk, sizeof(junk), 40001);
		CHECK(!env.sent.count, "junk #%d forwarded", i);
	}
	CHECK(STAT(OBFS_UNDECODABLE) >= 49, "%llu undecodable",
	      (unsigned long long)STAT(OBFS_UNDECODABLE));
	randombytes_buf(runt, sizeof(runt));
	runt[0] |= 0x10;
	deliver(XWGP_SIDE_CLIENT, runt, sizeof(runt), 40001);
	CHECK(!env.sent.count && STAT(MALFORMED) == 1, "runt");
	/* Backends are vanilla: an obfuscated-looking packet from one is malformed. */
	deliver(XWGP_SIDE_SERVER, junk, sizeof(junk), 51820);
	CHECK(!env.sent.count && STAT(MALFORMED) == 2, "from a backend");
}

/* handler_set_obfs (config reload): off, another password, back. */
TEST(set_obfs_switches)
{
	uint8_t msg[148];

	ENV();
	clear_maps();
	CHECK(!handler_set_obfs(&env.h, NULL), "off");
	client_initiation(0xa1a1a1a1, true, msg);
	CHECK(STAT(MALFORMED) == 1 && !STAT(INIT_FORWARDED), "obfs off: decoded anyway");
	CHECK(!handler_set_obfs(&env.h, "another password"), "other");
	client_initiation(0xa2a2a2a2, true, msg);
	CHECK(STAT(OBFS_UNDECODABLE) == 1 && !STAT(INIT_FORWARDED), "wrong key decoded");
	CHECK(!handler_set_obfs(&env.h, PASSWORD), "back");
	client_initiation(0xa3a3a3a3, true, msg);
	CHECK(STAT(INIT_FORWARDED) == 1 && session_obfs(PROXY(0xa3a3a3a3)), "not forwarded again");
}

/* Under load, the agent's own cookie reply is obfuscated for an obfs client too. */
TEST(own_cookie_reply_to_obfs_client_obfuscated)
{
	uint8_t msg[148], out[2048], got[16];
	bool was_obfs = false;
	int n;

	ENV();
	clear_maps();
	env.cfg.under_load_pps = 0; /* always under load */
	/* Padding is random: 32 replies, each within 148 + 16 bytes (no amplification). */
	for (int i = 0; i < 32 && test_state__ == TEST_RUNNING; i++) {
		client_initiation(0x45454545 + i, true, msg);
		CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_CLIENT, "one reply");
		CHECK(!obfs_is_plain(env.sent.data, env.sent.len), "cookie reply left plain");
		CHECK(env.sent.len >= 64 + 16 && env.sent.len <= WG_INIT_LEN + 16,
		      "obfuscated reply of %zu bytes", env.sent.len);
		n = sent_decoded(out, &was_obfs);
		CHECK(was_obfs && n == 64, "decodes to %d bytes", n);
		CHECK(!wg_cookie_open(got, out, 64, env.srv_mac.cookie_key,
				      msg + WG_INIT_OFF_MAC1),
		      "the client cannot open it");
	}
	env.cfg.under_load_pps = COOKIE_LOAD_DEFAULT_PPS;
	cookie_guard_init(&env.h.guard); /* no hold into the next test */
	CHECK(STAT(COOKIE_SENT) == 32 && !STAT(INIT_FORWARDED) && !STAT(DH_CACHE_MISS),
	      "cookie %llu, forwarded %llu", (unsigned long long)STAT(COOKIE_SENT),
	      (unsigned long long)STAT(INIT_FORWARDED));
}

TEST_MAIN()
