// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's own cookie replies under load (agent/cookie_guard.c through
 * handler_packet), on real BPF maps (skeleton loaded, not attached) and a
 * mock network: what goes on the wire to the client and to the backend,
 * which counters move, and that no Diffie-Hellman runs for a cookie reply.
 * The client side is wg_crypto's initiator code.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "byteorder.h"
#include "handler_mock.h"
#include "test.h"
#include "wg_crypto.h"
#include "wg_proto.h"

static struct env {
	bool ready;
	struct xwgp_bpf *skel;
	struct xwgp_maps maps;
	struct xwgp_server_config cfg;
	struct handler h;
	struct sent sent;
	uint8_t srv_priv[32], srv_pub[32], cli_priv[32], cli_pub[32];
	struct wg_mac_keys srv_mac;
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
	wg_tai64n_now(env.tai);
	wg_key_to_base64(sp, env.srv_priv);
	wg_key_to_base64(cp, env.cli_pub);
	snprintf(cfgtext, sizeof(cfgtext),
		 "{ \"listen\": \"192.0.2.1:51820\", \"under_load\": 0, \"servers\": [ {"
		 " \"privkey\": \"%s\", \"address\": \"198.51.100.2\", \"peers\": ["
		 " { \"pubkey\": \"%s\", \"forward_to\": \":51820\" } ] } ] }",
		 sp, cp);
	return mock_handler_up(&env.h, &env.cfg, &env.maps, &env.skel, &env.sent, cfgtext,
			       sizeof(cfgtext));
}

/* Every test starts with no sessions, a fresh guard and `under_load' 0 (always). */
#define ENV()                                                                                      \
	do {                                                                                       \
		MOCK_HANDLER_REQUIRE(env, env_setup);                                              \
		wgit_expire(&env.h.wgit, UINT64_MAX / 2, 0);                                       \
		cookie_guard_init(&env.h.guard);                                                   \
		env.cfg.under_load_pps = 0;                                                        \
	} while (0)

#define STAT(name) (env.h.stats[XWGP_AGENT_STAT_##name])

/* A client initiation (MAC2 from cookie, or zero) from 192.0.2.11:sport. */
static void client_init(uint32_t sender, const uint8_t *cookie, uint16_t sport, uint8_t msg[148])
{
	uint8_t eph[32], tai[12], wire[148];
	struct handler_pkt p = { .side = XWGP_SIDE_CLIENT, .data = wire, .len = 148, .cap = 148 };

	randombytes_buf(eph, 32);
	tai_next(env.tai, tai);
	wg_create_initiation(msg, env.cli_priv, env.srv_pub, sender, eph, tai, cookie);
	memcpy(wire, msg, 148);
	ep4(&p.src, "192.0.2.11", sport);
	ep4(&p.dst, "192.0.2.1", 51820);
	memset(&env.sent, 0, sizeof(env.sent));
	handler_packet(&env.h, &p);
}

/* The client opens what it got as a cookie reply to msg. */
static int client_cookie(uint8_t cookie[16], const uint8_t msg[148])
{
	if (env.sent.len != WG_COOKIE_REPLY_LEN || env.sent.side != XWGP_SIDE_CLIENT)
		return -1;
	return wg_cookie_open(cookie, env.sent.data, env.sent.len, env.srv_mac.cookie_key,
			      msg + WG_INIT_OFF_MAC1);
}

static bool mac2_zero(const uint8_t *m)
{
	static const uint8_t zero[16];

	return !memcmp(m + WG_INIT_OFF_MAC2, zero, 16);
}

TEST(under_load_cookie_reply_then_mac2_retry_forwarded)
{
	uint8_t msg[148], cookie[16];
	struct xwgp_ep want_local, want_remote;

	ENV();
	client_init(0x01020304, NULL, 40000, msg);
	CHECK(env.sent.count == 1 && env.sent.len == 64, "sent %d, %zu bytes", env.sent.count,
	      env.sent.len);
	ep4(&want_local, "192.0.2.1", 51820);
	ep4(&want_remote, "192.0.2.11", 40000);
	CHECK(xwgp_ep_equal(&env.sent.local, &want_local) &&
		      xwgp_ep_equal(&env.sent.remote, &want_remote),
	      "from the address the client sent to, to its source");
	CHECK(get_le32(env.sent.data + WG_COOKIE_OFF_RECEIVER) == 0x01020304, "receiver");
	CHECK(client_cookie(cookie, msg) == 0, "the client opens the cookie");
	CHECK(STAT(COOKIE_SENT) == 1 && !STAT(INIT_FORWARDED) && !STAT(INIT_DECRYPT_FAILED) &&
		      !STAT(DH_CACHE_MISS) && !STAT(DH_CACHE_HIT),
	      "a cookie reply runs no handshake");
	CHECK(STAT(UNDER_LOAD) == 1 && STAT(UNDER_LOAD_ENTERED) == 1);

	/* The retry carries MAC2: forwarded, with MAC2 zero (no backend cookie held). */
	client_init(0x01020305, cookie, 40000, msg);
	CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_SERVER && env.sent.len == 148,
	      "retry forwarded");
	CHECK(STAT(MAC2_VALID) == 1 && STAT(INIT_FORWARDED) == 1 && STAT(COOKIE_SENT) == 1);
	CHECK(mac2_zero(env.sent.data), "our cookie's MAC2 is not the backend's: zeroed");
	CHECK(wg_mac1_verify(env.sent.data, 148, &env.srv_mac) == 0, "MAC1 still valid");
	/* WGIT v2: only the sender index (assigned) and the MACs differ. */
	CHECK(get_le32(env.sent.data + WG_INIT_OFF_SENDER) ==
		      mock_proxy_of(&env.h.wgit, 0x01020305),
	      "sender is not the assigned index");
	CHECK_MEM(env.sent.data, msg, WG_INIT_OFF_SENDER);
	CHECK_MEM(env.sent.data + 8, msg + 8, WG_INIT_OFF_MAC1 - 8);
}

TEST(mac2_for_another_source_gets_a_cookie_again)
{
	uint8_t msg[148], cookie[16];

	ENV();
	client_init(0x0a0a0a0a, NULL, 40000, msg);
	CHECK(client_cookie(cookie, msg) == 0);
	/* The same cookie from another port (a spoofer replaying it elsewhere). */
	client_init(0x0a0a0a0b, cookie, 40001, msg);
	CHECK(env.sent.count == 1 && env.sent.len == 64 && env.sent.side == XWGP_SIDE_CLIENT,
	      "answered with a cookie, not forwarded");
	CHECK(STAT(MAC2_INVALID) == 1 && STAT(COOKIE_SENT) == 2 && !STAT(INIT_FORWARDED));
}

/* A backend cookie held: the MAC2 toward the backend is made with it. */
static void backend_cookie(uint32_t receiver, const uint8_t *mac1_seen, uint8_t cookie[16])
{
	uint8_t reply[WG_COOKIE_REPLY_LEN];
	struct handler_pkt p = {
		.side = XWGP_SIDE_SERVER, .data = reply, .len = sizeof(reply), .cap = sizeof(reply)
	};

	randombytes_buf(cookie, 16);
	memset(reply, 0, sizeof(reply));
	reply[0] = WG_MSG_COOKIE_REPLY;
	put_le32(reply + WG_COOKIE_OFF_RECEIVER, receiver);
	randombytes_buf(reply + WG_COOKIE_OFF_NONCE, WG_COOKIE_NONCE_LEN);
	wg_cookie_seal(reply, cookie, env.srv_mac.cookie_key, mac1_seen);
	ep4(&p.src, "198.51.100.2", 51820);
	ep4(&p.dst, "198.51.100.1", 51900);
	memset(&env.sent, 0, sizeof(env.sent));
	handler_packet(&env.h, &p);
}

/* Every index is translated (WGIT v2): MAC2 is recomputed on the one path there is. */
TEST(mac2_toward_backend_is_backend_cookie)
{
	uint8_t msg[148], ours[16], theirs[16];

	ENV();
	/* Not under load: forwarded; the backend (under load) answers with its cookie. */
	env.cfg.under_load_pps = 1000000;
	client_init(0x20202020, NULL, 40000, msg);
	CHECK(STAT(INIT_FORWARDED) == 1);
	backend_cookie(get_le32(env.sent.data + WG_INIT_OFF_SENDER),
		       env.sent.data + WG_INIT_OFF_MAC1, theirs);
	CHECK(STAT(COOKIE_FORWARDED) == 1, "backend cookie passed on");

	/* Now xwgp is under load too: its own cookie, then the retry with our MAC2. */
	env.cfg.under_load_pps = 0;
	client_init(0x20202021, NULL, 40000, msg);
	CHECK(client_cookie(ours, msg) == 0, "our cookie reply");
	client_init(0x20202022, ours, 40000, msg);
	CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_SERVER, "retry forwarded");
	CHECK(wg_mac2_verify(env.sent.data, 148, theirs) == 0,
	      "MAC2 toward the backend made with the backend's own cookie");
	CHECK(wg_mac1_verify(env.sent.data, 148, &env.srv_mac) == 0, "MAC1 valid");
	CHECK(STAT(MAC2_VALID) == 1 && STAT(INIT_FORWARDED) == 2);
}

/*
 * Not under load, a MAC2 made with someone else's cookie is not checked
 * against ours; WGIT v2 assigns the sender index, so MAC1 is recomputed and
 * MAC2 (which covered the old bytes) is the backend's cookie's, or zero.
 */
TEST(not_under_load_foreign_mac2_forwarded)
{
	uint8_t msg[148], other[16];

	ENV();
	env.cfg.under_load_pps = 1000000;
	randombytes_buf(other, sizeof(other)); /* e.g. a backend's cookie the client holds */
	client_init(0x30303030, other, 40000, msg);
	CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_SERVER, "forwarded");
	CHECK(get_le32(env.sent.data + WG_INIT_OFF_SENDER) ==
		      mock_proxy_of(&env.h.wgit, 0x30303030),
	      "sender is not the assigned index");
	CHECK_MEM(env.sent.data + 8, msg + 8, WG_INIT_OFF_MAC1 - 8);
	CHECK(wg_mac1_verify(env.sent.data, 148, &env.srv_mac) == 0, "MAC1 recomputed");
	/* The backend's cookie's MAC2 (a test before left one) or zero, never the client's. */
	CHECK(memcmp(env.sent.data + WG_INIT_OFF_MAC2, msg + WG_INIT_OFF_MAC2, 16),
	      "a MAC2 over other bytes passed on");
	CHECK(STAT(MAC2_INVALID) == 1 && !STAT(COOKIE_SENT) && !STAT(UNDER_LOAD));
}

TEST_MAIN()
