// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's packet handler (agent/handler.c) against real BPF maps with a
 * mock network: WGIT for initiations, responses and cookie replies (index
 * translation, MAC1/MAC2 recomputation, cookie re-sealing), source
 * validation, replay refusal, fallback peers, agent-forwarded transport and
 * expiry. Every message the handler sends is checked with the crypto a real
 * WireGuard peer would apply.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "addr.h"
#include "bpf_loader.h"
#include "config.h"
#include "handler.h"
#include "handler_mock.h"
#include "local_addrs.h"
#include "map_keys.h"
#include "reload.h"
#include "peer_mirror.h"
#include "test.h"
#include "wg_crypto.h"
#include "wg_proto.h"
#include "wgit_index.h"
#include "xwgp.skel.h"

static struct env {
	bool ready;
	struct xwgp_bpf *skel; /* the maps' owner, for the whole run */
	struct xwgp_maps maps;
	struct xwgp_server_config cfg;
	struct handler h;
	struct sent sent;
	uint8_t srv_priv[32], srv_pub[32]; /* servers[0] */
	uint8_t other_priv[32], other_pub[32]; /* not configured */
	uint8_t cli_priv[32], cli_pub[32]; /* configured peer */
	uint8_t stranger_priv[32], stranger_pub[32]; /* caught by the fallback */
	struct wg_mac_keys srv_mac, cli_mac;
	uint8_t tai[12];
} env;

static void b64(char out[45], const uint8_t k[32])
{
	wg_key_to_base64(out, k);
}

static int env_setup(void)
{
	char cfgtext[2048], sp[45], cp[45];

	if (wg_crypto_init())
		return -1;
	keypair(env.srv_priv, env.srv_pub);
	keypair(env.other_priv, env.other_pub);
	keypair(env.cli_priv, env.cli_pub);
	keypair(env.stranger_priv, env.stranger_pub);
	wg_mac_keys_init(&env.srv_mac, env.srv_pub);
	wg_mac_keys_init(&env.cli_mac, env.cli_pub);
	wg_tai64n_now(env.tai);
	b64(sp, env.srv_priv);
	b64(cp, env.cli_pub);
	snprintf(cfgtext, sizeof(cfgtext),
		 "{ \"listen\": \"192.0.2.1:51820\", \"servers\": [ { \"privkey\": \"%s\","
		 " \"address\": \"198.51.100.2\", \"ssvl\": 3, \"peers\": ["
		 " { \"pubkey\": \"%s\", \"forward_to\": \":51820\" },"
		 " { \"forward_to\": \":51821\" } ] } ] }",
		 sp, cp);
	return mock_handler_up(&env.h, &env.cfg, &env.maps, &env.skel, &env.sent, cfgtext,
			       sizeof(cfgtext));
}

#define ENV() MOCK_HANDLER_REQUIRE(env, env_setup)

/* A client's initiation arriving at the listen socket; msg gets the client's bytes. */
static void send_initiation(const uint8_t cli_priv[32], const uint8_t srv_pub[32], uint32_t sender,
			    uint8_t msg[148], uint16_t sport)
{
	uint8_t eph[32], tai[12], wire[148];
	struct handler_pkt p = { .side = XWGP_SIDE_CLIENT, .data = wire, .len = 148, .cap = 148 };

	randombytes_buf(eph, 32);
	tai_next(env.tai, tai);
	wg_create_initiation(msg, cli_priv, srv_pub, sender, eph, tai, NULL);
	/* The handler rewrites in place: msg stays what the client sent. */
	memcpy(wire, msg, sizeof(wire));
	ep4(&p.src, "192.0.2.11", sport);
	ep4(&p.dst, "192.0.2.1", 51820);
	handler_packet(&env.h, &p);
}

/* The backend's response to an initiation of the client whose MAC keys are cli_mac. */
static void send_response_to(const struct wg_mac_keys *cli_mac, uint32_t sender, uint32_t receiver,
			     uint16_t sport)
{
	uint8_t msg[WG_RESP_LEN];
	struct handler_pkt p = {
		.side = XWGP_SIDE_SERVER, .data = msg, .len = sizeof(msg), .cap = sizeof(msg)
	};

	randombytes_buf(msg, sizeof(msg));
	memset(msg, 0, 4);
	msg[0] = WG_MSG_RESPONSE;
	put_le32(msg + WG_RESP_OFF_SENDER, sender);
	put_le32(msg + WG_RESP_OFF_RECEIVER, receiver);
	/* The backend computes MAC1 with the initiator's (client's) key. */
	wg_macs_set(msg, sizeof(msg), cli_mac, NULL);
	ep4(&p.src, "198.51.100.2", sport);
	ep4(&p.dst, "198.51.100.1", 51900);
	handler_packet(&env.h, &p);
}

/* The backend's response to the initiation the handler forwarded. */
static void send_response(uint32_t sender, uint32_t receiver, uint16_t sport)
{
	send_response_to(&env.cli_mac, sender, receiver, sport);
}

static void clear_maps(void)
{
	wgit_expire(&env.h.wgit, UINT64_MAX / 2, 0);
}

static uint32_t proxy_of(uint32_t origin)
{
	return mock_proxy_of(&env.h.wgit, origin);
}

/*
 * WGIT v2: every sender index is one xwgp assigned (there is no untranslated
 * path any more); only it and MAC1 differ from what the client sent.
 */
TEST(initiation_forwarded_with_assigned_index)
{
	uint8_t msg[148], orig[148], pub[32], tai[12];
	struct xwgp_session s;
	struct xwgp_session_meta m;
	struct xwgp_ep backend;
	uint32_t proxy;

	ENV();
	send_initiation(env.cli_priv, env.srv_pub, 0x11111111, msg, 40000);
	memcpy(orig, msg, sizeof(orig));
	CHECK(env.sent.count == 1, "sent %d", env.sent.count);
	CHECK(env.sent.side == XWGP_SIDE_SERVER);
	ep4(&backend, "198.51.100.2", 51820);
	CHECK(xwgp_ep_equal(&env.sent.remote, &backend), "sent to the configured backend");
	CHECK(env.sent.len == 148);
	proxy = get_le32(env.sent.data + WG_INIT_OFF_SENDER);
	CHECK(proxy == proxy_of(0x11111111) && proxy && proxy != 0x42a41221,
	      "sender %#x is not the session's proxy index", proxy);
	CHECK(!memcmp(env.sent.data, orig, WG_INIT_OFF_SENDER) &&
		      !memcmp(env.sent.data + 8, orig + 8, WG_INIT_OFF_MAC1 - 8) &&
		      !memcmp(env.sent.data + WG_INIT_OFF_MAC2, orig + WG_INIT_OFF_MAC2, 16),
	      "more than the sender index and MAC1 changed");
	CHECK(wg_mac1_verify(env.sent.data, 148, &env.srv_mac) == 0, "MAC1 recomputed");
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_FORWARDED] == 1);
	CHECK(wgit_session_get(&env.h.wgit, proxy, &s) == 0, "session keyed by the proxy index");
	CHECK((proxy == 0x11111111 || (s.flags & XWGP_SF_XLAT_CLIENT)) && s.csvl == 1 &&
		      s.ssvl == 3,
	      "flags %x", s.flags);
	CHECK(wgit_meta_get(&env.h.wgit, proxy, &m) == 0);
	CHECK_MEM(m.client_pub, env.cli_pub, 32);
	CHECK_MEM(m.server_pub, env.srv_pub, 32);
	/* What the backend gets still decrypts to the client's key. */
	{
		struct wg_server_key k;

		wg_server_key_init(&k, env.srv_priv);
		CHECK(wg_consume_initiation(&k, env.sent.data, 148, pub, tai) == WG_INIT_OK);
		wg_server_key_wipe(&k);
	}
	CHECK_MEM(pub, env.cli_pub, 32);
	clear_maps();
}

TEST(translated_handshake_round_trip)
{
	uint8_t msg[148], pub[32], tai[12];
	uint32_t proxy, server_proxy;
	struct xwgp_session s;
	struct wg_server_key k;

	ENV();
	send_initiation(env.cli_priv, env.srv_pub, 0x22222222, msg, 40000);
	CHECK(env.sent.count == 1);
	proxy = get_le32(env.sent.data + WG_INIT_OFF_SENDER);
	CHECK(proxy != 0x22222222 && proxy != 0, "sender translated (0x%08x)", proxy);
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_TRANSLATED] == 1);
	CHECK(wg_mac1_verify(env.sent.data, 148, &env.srv_mac) == 0, "MAC1 recomputed");
	wg_server_key_init(&k, env.srv_priv);
	CHECK(wg_consume_initiation(&k, env.sent.data, 148, pub, tai) == WG_INIT_OK,
	      "a real responder accepts the translated initiation");
	wg_server_key_wipe(&k);

	/* Backend answers the proxy index; the client must see its own index. */
	memset(&env.sent, 0, sizeof(env.sent));
	send_response(0x33333333, proxy, 51820);
	CHECK(env.sent.count == 1, "response forwarded");
	CHECK(env.sent.side == XWGP_SIDE_CLIENT);
	CHECK(get_le32(env.sent.data + WG_RESP_OFF_RECEIVER) == 0x22222222,
	      "receiver = client origin");
	server_proxy = get_le32(env.sent.data + WG_RESP_OFF_SENDER);
	CHECK(server_proxy != 0x33333333, "server index translated");
	CHECK(wg_mac1_verify(env.sent.data, WG_RESP_LEN, &env.cli_mac) == 0,
	      "response MAC1 recomputed with the client's key");
	CHECK(wgit_session_get(&env.h.wgit, proxy, &s) == 0);
	CHECK(s.flags & XWGP_SF_ESTABLISHED);
	CHECK(s.server_origin_index == 0x33333333 && s.server_proxy_index == server_proxy);
	CHECK(wgit_session_by_server_index(&env.h.wgit, server_proxy, &s) == 0 &&
		      s.client_proxy_index == proxy,
	      "server index registered");

	/* Transport both ways through the agent, indexes mapped back. */
	{
		uint8_t t[64] = { WG_MSG_TRANSPORT };
		struct handler_pkt p = {
			.side = XWGP_SIDE_CLIENT, .data = t, .len = sizeof(t), .cap = sizeof(t)
		};

		put_le32(t + 4, server_proxy);
		ep4(&p.src, "192.0.2.11", 40000);
		ep4(&p.dst, "192.0.2.1", 51820);
		memset(&env.sent, 0, sizeof(env.sent));
		handler_packet(&env.h, &p);
		CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_SERVER);
		CHECK(get_le32(env.sent.data + 4) == 0x33333333, "c2s receiver = backend origin");

		memset(t, 0, sizeof(t));
		t[0] = WG_MSG_TRANSPORT;
		put_le32(t + 4, proxy);
		p.side = XWGP_SIDE_SERVER;
		p.len = sizeof(t);
		ep4(&p.src, "198.51.100.2", 51820);
		ep4(&p.dst, "198.51.100.1", 51900);
		memset(&env.sent, 0, sizeof(env.sent));
		handler_packet(&env.h, &p);
		CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_CLIENT);
		CHECK(get_le32(env.sent.data + 4) == 0x22222222, "s2c receiver = client origin");
		CHECK(env.h.stats[XWGP_AGENT_STAT_TRANSPORT_C2S] == 1 &&
		      env.h.stats[XWGP_AGENT_STAT_TRANSPORT_S2C] == 1);
	}
	clear_maps();
}

TEST(response_from_wrong_source_refused_at_ssvl3)
{
	uint8_t msg[148];
	uint32_t proxy;

	ENV();
	send_initiation(env.cli_priv, env.srv_pub, 0x44444444, msg, 40000);
	proxy = get_le32(env.sent.data + WG_INIT_OFF_SENDER);
	memset(&env.sent, 0, sizeof(env.sent));
	send_response(0x55555555, proxy, 51999); /* right IP, wrong port */
	CHECK(env.sent.count == 0, "nothing forwarded");
	CHECK(env.h.stats[XWGP_AGENT_STAT_SRC_INVALID] == 1);
	clear_maps();
}

TEST(cookie_reply_resealed_and_used_for_mac2)
{
	uint8_t msg[148], client_mac1[16], cookie[16], got[16], reply[WG_COOKIE_REPLY_LEN];
	uint32_t proxy;
	struct handler_pkt p = { .side = XWGP_SIDE_SERVER, .data = reply, .len = sizeof(reply),
			 .cap = sizeof(reply) };

	ENV();
	send_initiation(env.cli_priv, env.srv_pub, 0x66666666, msg, 40000);
	memcpy(client_mac1, msg + WG_INIT_OFF_MAC1, 16);
	proxy = get_le32(env.sent.data + WG_INIT_OFF_SENDER);

	/* The backend, under load, answers with a cookie bound to the MAC1 it saw. */
	randombytes_buf(cookie, sizeof(cookie));
	memset(reply, 0, sizeof(reply));
	reply[0] = WG_MSG_COOKIE_REPLY;
	put_le32(reply + WG_COOKIE_OFF_RECEIVER, proxy);
	randombytes_buf(reply + WG_COOKIE_OFF_NONCE, WG_COOKIE_NONCE_LEN);
	CHECK(wg_cookie_seal(reply, cookie, env.srv_mac.cookie_key,
			     env.sent.data + WG_INIT_OFF_MAC1) == 0);
	ep4(&p.src, "198.51.100.2", 51820);
	ep4(&p.dst, "198.51.100.1", 51900);
	memset(&env.sent, 0, sizeof(env.sent));
	handler_packet(&env.h, &p);
	CHECK(env.sent.count == 1 && env.sent.side == XWGP_SIDE_CLIENT, "cookie passed on");
	CHECK(get_le32(env.sent.data + WG_COOKIE_OFF_RECEIVER) == 0x66666666,
	      "receiver translated");
	CHECK(wg_cookie_open(got, env.sent.data, env.sent.len, env.srv_mac.cookie_key,
			     client_mac1) == 0,
	      "the client opens it with the MAC1 it sent");
	CHECK_MEM(got, cookie, 16);

	/* The next (translated) initiation carries MAC2 made with that cookie. */
	memset(&env.sent, 0, sizeof(env.sent));
	send_initiation(env.cli_priv, env.srv_pub, 0x77777777, msg, 40000);
	CHECK(env.sent.count == 1);
	CHECK(wg_mac2_verify(env.sent.data, 148, cookie) == 0, "MAC2 from the backend's cookie");
	clear_maps();
}

TEST(replayed_initiation_refused)
{
	uint64_t hits, misses;
	uint8_t msg[148];
	struct handler_pkt p = { .side = XWGP_SIDE_CLIENT, .data = msg, .len = 148, .cap = 148 };
	struct xwgp_session s;

	ENV();
	send_initiation(env.cli_priv, env.srv_pub, 0x12121212, msg, 40000);
	CHECK(env.sent.count == 1);
	CHECK(wgit_session_delete(&env.h.wgit, proxy_of(0x12121212)) == 0);
	/* The same bytes again, from another address: must not create a session. */
	ep4(&p.src, "192.0.2.66", 40001);
	ep4(&p.dst, "192.0.2.1", 51820);
	hits = env.h.stats[XWGP_AGENT_STAT_DH_CACHE_HIT];
	misses = env.h.stats[XWGP_AGENT_STAT_DH_CACHE_MISS];
	handler_packet(&env.h, &p);
	CHECK(env.sent.count == 1, "replay not forwarded");
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_REPLAY] == 1);
	/* Same key pair as the first: its DH came from the cache, and was counted. */
	CHECK(env.h.stats[XWGP_AGENT_STAT_DH_CACHE_HIT] == hits + 1 &&
		      env.h.stats[XWGP_AGENT_STAT_DH_CACHE_MISS] == misses,
	      "DH cache counters %llu/%llu", (unsigned long long)env.h.stats[XWGP_AGENT_STAT_DH_CACHE_HIT],
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_DH_CACHE_MISS]);
	CHECK(proxy_of(0x12121212) == 0 && !wgit_session_next(env.h.wgit.maps, &(uint32_t){ 0 }, &s),
	      "the replay made a session");
	clear_maps();
}

TEST(unknown_server_and_fallback_peer)
{
	uint8_t msg[148];
	struct xwgp_ep fallback;

	ENV();
	send_initiation(env.cli_priv, env.other_pub, 0x01010101, msg, 40000);
	CHECK(env.sent.count == 0 && env.h.stats[XWGP_AGENT_STAT_INIT_NO_SERVER] == 1,
	      "MAC1 for an unconfigured server is refused before any DH");
	send_initiation(env.stranger_priv, env.srv_pub, 0x02020202, msg, 40000);
	CHECK(env.sent.count == 1, "unknown client key goes to the fallback");
	ep4(&fallback, "198.51.100.2", 51821);
	CHECK(xwgp_ep_equal(&env.sent.remote, &fallback));
	clear_maps();
}

TEST(malformed_and_wrong_direction_counted)
{
	uint8_t buf[200] = { 0 };
	struct handler_pkt p = { .data = buf, .cap = sizeof(buf) };

	ENV();
	ep4(&p.src, "192.0.2.11", 40000);
	ep4(&p.dst, "192.0.2.1", 51820);
	p.side = XWGP_SIDE_CLIENT;
	buf[0] = WG_MSG_INITIATION;
	p.len = 147;
	handler_packet(&env.h, &p);
	buf[0] = WG_MSG_RESPONSE; /* responses never come from clients */
	p.len = WG_RESP_LEN;
	handler_packet(&env.h, &p);
	buf[0] = WG_MSG_TRANSPORT;
	buf[2] = 1; /* reserved byte set */
	p.len = 64;
	handler_packet(&env.h, &p);
	CHECK(env.sent.count == 0);
	CHECK(env.h.stats[XWGP_AGENT_STAT_MALFORMED] == 2, "%llu",
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_MALFORMED]);
	CHECK(env.h.stats[XWGP_AGENT_STAT_BAD_TYPE] == 1);
}

TEST(idle_sessions_expire_with_their_indexes)
{
	uint8_t msg[148];
	uint32_t proxy, server_proxy, n;
	struct xwgp_session s;

	ENV();
	send_initiation(env.cli_priv, env.srv_pub, 0x0a0a0a0a, msg, 40000);
	proxy = get_le32(env.sent.data + WG_INIT_OFF_SENDER);
	send_response(0x0b0b0b0b, proxy, 51820);
	server_proxy = get_le32(env.sent.data + WG_RESP_OFF_SENDER);
	CHECK(wgit_expire(&env.h.wgit, xwgp_now_ns(), 60ull * 1000000000) == 0, "fresh: kept");
	CHECK(wgit_expire(&env.h.wgit, xwgp_now_ns() + 61ull * 1000000000,
			  60ull * 1000000000) == 1,
	      "idle past the timeout: removed");
	CHECK(wgit_session_by_server_index(&env.h.wgit, server_proxy, &s) != 0, "server index gone");
	CHECK(wgit_meta_get(&env.h.wgit, proxy, &(struct xwgp_session_meta){ 0 }) != 0, "meta gone");
	CHECK(sodium_is_zero((const void *)&env.maps.meta[proxy & wgit_slot_mask(wgit_slot_bits(
							   env.maps.n_slots))],
			     sizeof(struct xwgp_sess_meta)),
	      "keys and MACs left in the free slot");
	n = count_sessions(&env.maps);
	CHECK(n == 0, "%u sessions left", n);
}


/* ---- gateway safety (issue 11): roaming, martians, replays ----------------- */

/* An established (untranslated) session of env's client at 192.0.2.11:40000. */
static uint32_t establish(uint32_t sender, uint32_t backend_sender, uint8_t response[WG_RESP_LEN])
{
	uint8_t msg[148];
	uint32_t proxy;

	send_initiation(env.cli_priv, env.srv_pub, sender, msg, 40000);
	proxy = get_le32(env.sent.data + WG_INIT_OFF_SENDER);
	memset(&env.sent, 0, sizeof(env.sent));
	send_response(backend_sender, proxy, 51820);
	if (response)
		memcpy(response, env.sent.data, WG_RESP_LEN);
	return proxy;
}

static uint32_t srv_of(uint32_t proxy)
{
	return mock_srv_of(&env.h.wgit, proxy);
}

/* Transport through the handler; returns how many packets it sent (0 or 1). */
static int transport(enum xwgp_side side, uint32_t receiver, const char *src, uint16_t sport)
{
	uint8_t t[64] = { WG_MSG_TRANSPORT };
	struct handler_pkt p = { .side = side, .data = t, .len = sizeof(t), .cap = sizeof(t) };
	unsigned int before = env.sent.count;

	put_le32(t + 4, receiver);
	ep4(&p.src, src, sport);
	if (side == XWGP_SIDE_CLIENT)
		ep4(&p.dst, "192.0.2.1", 51820);
	else
		ep4(&p.dst, "198.51.100.1", 51900);
	handler_packet(&env.h, &p);
	return env.sent.count - before;
}

/* The current client endpoint of session proxy fell silent seconds ago. */
static void client_silent(uint32_t proxy, unsigned int seconds)
{
	const struct xwgp_maps *m = env.h.wgit.maps;
	struct xwgp_session s;
	uint64_t then = xwgp_now_ns() - seconds * 1000000000ull;

	CHECK(!wgit_session_get(&env.h.wgit, proxy, &s));
	s.created_ns = then;
	CHECK(!wgit_session_put(&env.h.wgit, &s));
	/* The seen time XDP and the agent both refresh: not part of a put. */
	m->sess[proxy & wgit_slot_mask(wgit_slot_bits(m->n_slots))].client_seen_ns = then;
}

/* Session proxy's client endpoint is ep. */
static bool client_is(uint32_t proxy, const struct xwgp_ep *ep)
{
	struct xwgp_session s = { 0 };

	return !wgit_session_get(&env.h.wgit, proxy, &s) && xwgp_ep_equal(&s.client, ep);
}

#define STAT(name) (env.h.stats[XWGP_AGENT_STAT_##name])

/*
 * csvl 1: a new source is only a candidate while the client is active (its
 * packets go to the backend, replies to the client); once the client fell
 * silent, a new source's second packet moves the session.
 */
TEST(roaming_needs_a_silent_endpoint_and_a_second_packet)
{
	struct xwgp_ep victim, roamer;
	uint32_t proxy;

	ENV();
	proxy = establish(0x51515151, 0x61616161, NULL);
	ep4(&victim, "192.0.2.11", 40000);
	ep4(&roamer, "192.0.2.12", 40001);
	CHECK(transport(XWGP_SIDE_CLIENT, srv_of(proxy), "192.0.2.11", 40000) == 1);
	/* A stream of forged packets from a third address while the client is active. */
	for (int i = 0; i < 5; i++)
		CHECK(transport(XWGP_SIDE_CLIENT, srv_of(proxy), "198.51.100.66", 4444) == 1,
		      "candidate forwarded to the backend");
	CHECK(STAT(ROAM_CANDIDATE) == 5 && STAT(ROAMED) == 0, "candidates %llu roamed %llu",
	      (unsigned long long)STAT(ROAM_CANDIDATE), (unsigned long long)STAT(ROAMED));
	CHECK(client_is(proxy, &victim), "session not moved");
	memset(&env.sent, 0, sizeof(env.sent));
	CHECK(transport(XWGP_SIDE_SERVER, proxy, "198.51.100.2", 51820) == 1);
	CHECK(xwgp_ep_equal(&env.sent.remote, &victim), "replies still go to the client");

	/* The client roams: its old address falls silent. */
	client_silent(proxy, 3);
	CHECK(transport(XWGP_SIDE_CLIENT, srv_of(proxy), "192.0.2.12", 40001) == 1);
	CHECK(client_is(proxy, &victim), "one packet moves nothing");
	CHECK(transport(XWGP_SIDE_CLIENT, srv_of(proxy), "192.0.2.12", 40001) == 1);
	CHECK(client_is(proxy, &roamer), "second packet: followed");
	CHECK(STAT(ROAMED) == 1);
	memset(&env.sent, 0, sizeof(env.sent));
	CHECK(transport(XWGP_SIDE_SERVER, proxy, "198.51.100.2", 51820) == 1);
	CHECK(xwgp_ep_equal(&env.sent.remote, &roamer), "replies follow");
	/* The new endpoint is active now: the old address is a mere candidate. */
	CHECK(transport(XWGP_SIDE_CLIENT, srv_of(proxy), "192.0.2.11", 40000) == 1);
	CHECK(transport(XWGP_SIDE_CLIENT, srv_of(proxy), "192.0.2.11", 40000) == 1);
	CHECK(client_is(proxy, &roamer), "active endpoint kept");
	clear_maps();
}

/* Our addresses (the listen address is configured; upstream is a wildcard). */
static struct local_addrs test_local = { .nl_fd = -1, .map_fd = -1 };

static void local_add(const char *ip, uint32_t kind)
{
	struct xwgp_ep e;

	ep4(&e, ip, 1);
	CHECK(!local_addrs_change(&test_local, e.addr, 1, kind, 0, true));
}

TEST(martian_sources_never_become_endpoints)
{
	static const struct {
		const char *ip;
		uint16_t port;
		enum xwgp_agent_stat stat;
	} bad[] = {
		{ "127.0.0.1", 40000, XWGP_AGENT_STAT_SRC_LOOPBACK },
		{ "255.255.255.255", 40000, XWGP_AGENT_STAT_SRC_BROADCAST },
		{ "192.0.2.255", 40000, XWGP_AGENT_STAT_SRC_BROADCAST },
		{ "224.0.0.1", 40000, XWGP_AGENT_STAT_SRC_MULTICAST },
		{ "192.0.2.1", 40000, XWGP_AGENT_STAT_SRC_LOCAL },
		{ "198.51.100.1", 51900, XWGP_AGENT_STAT_SRC_LOCAL },
		{ "192.0.2.12", 0, XWGP_AGENT_STAT_SRC_PORT0 },
		{ "0.0.0.0", 40000, XWGP_AGENT_STAT_SRC_UNSPEC },
	};
	uint8_t msg[148], wire[148];
	uint32_t proxy;

	ENV();
	local_add("192.0.2.1", XWGP_LOCAL_ADDR);
	local_add("198.51.100.1", XWGP_LOCAL_ADDR);
	local_add("192.0.2.255", XWGP_LOCAL_BROADCAST);
	env.h.local = &test_local;
	proxy = establish(0x52525252, 0x62626262, NULL);
	client_silent(proxy, 3);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct handler_pkt p = { .side = XWGP_SIDE_CLIENT, .data = wire, .len = 148, .cap = 148 };
		uint64_t before = env.h.stats[bad[i].stat];
		uint8_t eph[32], tai[12];

		/* An initiation from there: no session, no DH work. */
		memset(&env.sent, 0, sizeof(env.sent));
		randombytes_buf(eph, 32);
		tai_next(env.tai, tai);
		wg_create_initiation(msg, env.cli_priv, env.srv_pub, 0x70000000 + i, eph, tai,
				     NULL);
		memcpy(wire, msg, sizeof(wire));
		ep4(&p.src, bad[i].ip, bad[i].port);
		ep4(&p.dst, "192.0.2.1", 51820);
		handler_packet(&env.h, &p);
		CHECK(env.sent.count == 0 && env.h.stats[bad[i].stat] == before + 1,
		      "initiation from %s:%u: sent %u", bad[i].ip, bad[i].port, env.sent.count);
		/* Transport twice from there, the client silent: never followed. */
		CHECK(transport(XWGP_SIDE_CLIENT, srv_of(proxy), bad[i].ip, bad[i].port) == 0);
		CHECK(transport(XWGP_SIDE_CLIENT, srv_of(proxy), bad[i].ip, bad[i].port) == 0);
		CHECK(env.h.stats[bad[i].stat] == before + 3, "%s: counted %llu", bad[i].ip,
		      (unsigned long long)(env.h.stats[bad[i].stat] - before));
		{
			struct xwgp_ep want;

			ep4(&want, "192.0.2.11", 40000);
			CHECK(client_is(proxy, &want), "%s: session moved", bad[i].ip);
		}
	}
	/* A wildcard (upstream) claims only our addresses: not 198.51.100.99. */
	{
		uint8_t t[64] = { WG_MSG_TRANSPORT };
		struct handler_pkt p = { .side = XWGP_SIDE_SERVER, .data = t, .len = sizeof(t),
				 .cap = sizeof(t) };

		put_le32(t + 4, proxy);
		ep4(&p.src, "198.51.100.2", 51820);
		ep4(&p.dst, "198.51.100.99", 51900);
		memset(&env.sent, 0, sizeof(env.sent));
		handler_packet(&env.h, &p);
		CHECK(env.sent.count == 0 && STAT(NOT_LOCAL) == 1, "transit refused");
		ep4(&p.dst, "192.0.2.255", 51900);
		handler_packet(&env.h, &p);
		CHECK(env.sent.count == 0 && STAT(NOT_LOCAL) == 2, "broadcast refused");
	}
	env.h.local = NULL;
	local_addrs_close(&test_local);
	clear_maps();
}

/* A replayed (or forged) response neither re-establishes nor re-points the session. */
TEST(replayed_response_changes_nothing)
{
	uint8_t resp[WG_RESP_LEN];
	struct handler_pkt p = { .side = XWGP_SIDE_SERVER, .data = resp, .len = sizeof(resp),
			 .cap = sizeof(resp) };
	struct xwgp_session before, after;
	uint32_t proxy, sp;

	ENV();
	proxy = establish(0x53535353, 0x63636363, NULL);
	CHECK(!wgit_session_get(&env.h.wgit, proxy, &before));
	sp = before.server_proxy_index;
	for (int forged = 0; forged < 2; forged++) {
		memset(&env.sent, 0, sizeof(env.sent));
		/* The backend's response again (what send_response built), or a new sender. */
		randombytes_buf(resp, sizeof(resp));
		memset(resp, 0, 4);
		resp[0] = WG_MSG_RESPONSE;
		put_le32(resp + WG_RESP_OFF_SENDER, forged ? 0x0badbad0 : 0x63636363);
		put_le32(resp + WG_RESP_OFF_RECEIVER, proxy);
		wg_macs_set(resp, sizeof(resp), &env.cli_mac, NULL);
		ep4(&p.src, "198.51.100.2", 51820);
		ep4(&p.dst, "198.51.100.1", 51900);
		handler_packet(&env.h, &p);
		CHECK(env.sent.count == 0, "nothing passed on");
		CHECK(STAT(RESP_REPLAY) == (uint64_t)forged + 1);
		CHECK(!wgit_session_get(&env.h.wgit, proxy, &after));
		CHECK(after.server_origin_index == 0x63636363 && after.server_proxy_index == sp,
		      "backend index re-pointed to 0x%08x", after.server_origin_index);
		CHECK(!wgit_session_by_server_index(&env.h.wgit, sp, &after) &&
			      after.client_proxy_index == proxy,
		      "the server index the tunnel uses was deleted");
	}
	CHECK(transport(XWGP_SIDE_CLIENT, sp, "192.0.2.11", 40000) == 1, "the tunnel still works");
	clear_maps();
}

/* A backend answers one initiation once: a second cookie reply, or one after the response, is dropped. */
TEST(replayed_cookie_reply_refused)
{
	uint8_t msg[148], cookie[16], reply[WG_COOKIE_REPLY_LEN], mac1[16];
	struct handler_pkt p = { .side = XWGP_SIDE_SERVER, .data = reply, .len = sizeof(reply),
			 .cap = sizeof(reply) };
	uint32_t proxy;

	ENV();
	send_initiation(env.cli_priv, env.srv_pub, 0x54545454, msg, 40000);
	proxy = get_le32(env.sent.data + WG_INIT_OFF_SENDER);
	memcpy(mac1, env.sent.data + WG_INIT_OFF_MAC1, 16);
	for (int i = 0; i < 2; i++) {
		randombytes_buf(cookie, sizeof(cookie));
		memset(reply, 0, sizeof(reply));
		reply[0] = WG_MSG_COOKIE_REPLY;
		put_le32(reply + WG_COOKIE_OFF_RECEIVER, proxy);
		randombytes_buf(reply + WG_COOKIE_OFF_NONCE, WG_COOKIE_NONCE_LEN);
		CHECK(wg_cookie_seal(reply, cookie, env.srv_mac.cookie_key, mac1) == 0);
		ep4(&p.src, "198.51.100.2", 51820);
		ep4(&p.dst, "198.51.100.1", 51900);
		memset(&env.sent, 0, sizeof(env.sent));
		handler_packet(&env.h, &p);
		CHECK(env.sent.count == (i == 0), "cookie reply %d: sent %u", i, env.sent.count);
	}
	CHECK(STAT(COOKIE_FORWARDED) >= 1 && STAT(COOKIE_REPLAY) == 1);
	/* After the response: refused too. */
	send_response(0x64646464, proxy, 51820);
	memset(&env.sent, 0, sizeof(env.sent));
	handler_packet(&env.h, &p);
	CHECK(env.sent.count == 0 && STAT(COOKIE_REPLAY) == 2);
	clear_maps();
}

/* Make a config of these servers (each with the env's peers) live, as SIGHUP does. */
static int reload_servers(const uint8_t (*privs)[32], int n)
{
	struct xwgp_server_config next = {};
	char text[4096], sp[45], cp[45];
	size_t off = 0;
	int err;

	b64(cp, env.cli_pub);
	off += snprintf(text + off, sizeof(text) - off,
			"{ \"listen\": \"192.0.2.1:51820\", \"servers\": [");
	for (int i = 0; i < n; i++) {
		b64(sp, privs[i]);
		off += snprintf(text + off, sizeof(text) - off,
				"%s { \"privkey\": \"%s\", \"address\": \"198.51.100.2\", "
				"\"ssvl\": 3, \"peers\": [ { \"pubkey\": \"%s\", "
				"\"forward_to\": \":51820\" }, { \"forward_to\": \":51821\" } ] }",
				i ? "," : "", sp, cp);
	}
	snprintf(text + off, sizeof(text) - off, " ] }");
	err = config_parse_server(text, "<test reload>", &next);
	sodium_memzero(text, sizeof(text));
	if (!err)
		err = reload_apply(&env.h, &env.cfg, &next);
	config_free_server(&next); /* the old config */
	return err;
}

/*
 * SIGHUP replaces the server key: the cached static-static DH results of the
 * old key are wiped, an initiation for the old key is refused, the new key
 * works; a key that stays keeps its entries (no X25519 after the reload).
 */
TEST(reload_forgets_dh_of_replaced_server_key)
{
	uint8_t msg[148], ss[32], keys[2][32], new_pub[32];
	uint64_t hits;

	ENV();
	memcpy(keys[0], env.srv_priv, 32);
	send_initiation(env.cli_priv, env.srv_pub, 0x0c0c0c01, msg, 40000);
	CHECK(env.sent.count == 1, "initiation for the configured key forwarded");
	CHECK(dh_cache_get(&env.h.dh_cache, env.srv_pub, env.cli_pub, ss) == 0,
	      "the handshake cached its static-static DH");
	clear_maps();

	/* Replace the key by `other'. */
	memcpy(keys[0], env.other_priv, 32);
	CHECK(reload_servers((const uint8_t(*)[32])keys, 1) == 0);
	CHECK(dh_cache_get(&env.h.dh_cache, env.srv_pub, env.cli_pub, ss) == -ENOENT,
	      "a cached secret of the replaced key survived the reload");
	memset(&env.sent, 0, sizeof(env.sent));
	memset(env.h.stats, 0, sizeof(env.h.stats));
	send_initiation(env.cli_priv, env.srv_pub, 0x0c0c0c02, msg, 40000);
	CHECK(env.sent.count == 0 && env.h.stats[XWGP_AGENT_STAT_INIT_NO_SERVER] == 1 &&
		      env.h.stats[XWGP_AGENT_STAT_INIT_FORWARDED] == 0,
	      "an initiation for the replaced key was accepted (sent %d)", env.sent.count);
	send_initiation(env.cli_priv, env.other_pub, 0x0c0c0c03, msg, 40000);
	CHECK(env.sent.count == 1 && env.h.stats[XWGP_AGENT_STAT_INIT_FORWARDED] == 1,
	      "the new key is served");

	/* Add a second key, keeping `other': its entry stays and is used. */
	keypair(keys[1], new_pub);
	hits = env.h.dh_cache.hits;
	CHECK(reload_servers((const uint8_t(*)[32])keys, 2) == 0);
	CHECK(dh_cache_get(&env.h.dh_cache, env.other_pub, env.cli_pub, ss) == 0,
	      "a kept key lost its cached DH");
	send_initiation(env.cli_priv, env.other_pub, 0x0c0c0c04, msg, 40001);
	CHECK(env.sent.count == 2 && env.h.dh_cache.hits == hits + 2, "sent %d, hits %llu -> %llu",
	      env.sent.count, (unsigned long long)hits, (unsigned long long)env.h.dh_cache.hits);
	clear_maps();

	/* Back to the original config for the tests that follow. */
	CHECK(reload_servers((const uint8_t(*)[32])&env.srv_priv, 1) == 0);
	CHECK(dh_cache_get(&env.h.dh_cache, env.other_pub, env.cli_pub, ss) == -ENOENT);
	sodium_memzero(ss, sizeof(ss));
	sodium_memzero(keys, sizeof(keys));
}

/* ---- table limits (agent/wgit_admit.c) ------------------------------------------ */

/* Small tables of their own for one test: the handler's maps point at them. */
static struct xwgp_maps small;

static int small_maps(uint32_t n_sessions, uint32_t n_peers)
{
	int err;

	small = env.maps;
	err = xwgp_maps_create_wgit(&small, n_sessions);
	small.peer_state = bpf_map_create(BPF_MAP_TYPE_HASH, "t_peer", sizeof(struct xwgp_peer_key),
					  sizeof(struct xwgp_peer_state), n_peers, NULL);
	env.h.wgit.maps = &small;
	env.h.wgit.peer_evict_ns = 0;
	wgit_halfopen_init(&env.h.wgit, n_sessions);
	if (err || small.peer_state < 0)
		return -1;
	/* The handler's copy of the peer states follows its maps. */
	return wgit_peers_mirror(&env.h.wgit) ? -1 : 0;
}

static void small_maps_done(void)
{
	xwgp_maps_destroy_wgit(&small);
	close(small.peer_state);
	env.h.wgit.maps = &env.maps;
	wgit_halfopen_init(&env.h.wgit, env.cfg.max_sessions);
	CHECK(wgit_peers_mirror(&env.h.wgit) == 0);
}

/*
 * The handler's copy of the peer states (agent/peer_mirror.c) holds exactly
 * what the map holds: every pair of the map, equal, and nothing else.
 */
static void check_mirror_is_map(const char *when)
{
	struct xwgp_peer_key key, next, *prev = NULL;
	struct xwgp_peer_state in_map, in_copy;
	uint32_t n = 0;

	CHECK(env.h.wgit.peers, "%s: the handler has no copy of the peer states", when);
	if (!env.h.wgit.peers)
		return;
	while (bpf_map_get_next_key(env.h.wgit.maps->peer_state, prev, &next) == 0) {
		key = next;
		prev = &key;
		CHECK(bpf_map_lookup_elem(env.h.wgit.maps->peer_state, &key, &in_map) == 0);
		CHECK(peer_mirror_get(env.h.wgit.peers, &key, &in_copy) == 0 &&
			      !memcmp(&in_map, &in_copy, sizeof(in_map)),
		      "%s: a pair of the map missing or different in the copy", when);
		n++;
	}
	CHECK(n == env.h.wgit.peers->n_used, "%s: %u pairs in the map, %u in the copy", when, n,
	      env.h.wgit.peers->n_used);
}

/* The session initiation `origin' made is live (and established or not). */
static bool has_session(uint32_t origin, bool established)
{
	struct xwgp_session s;
	uint32_t proxy = proxy_of(origin);

	return proxy && wgit_session_get(&env.h.wgit, proxy, &s) == 0 &&
	       !!(s.flags & XWGP_SF_ESTABLISHED) == established;
}

TEST(one_client_key_holds_at_most_its_cap)
{
	uint8_t msg[148];

	ENV();
	CHECK(small_maps(64, 64) == 0, "maps: %s", strerror(errno));
	send_initiation(env.cli_priv, env.srv_pub, 0x100, msg, 40000);
	send_response(0x9100, proxy_of(0x100), 51820);
	CHECK(has_session(0x100, true), "first session not established");
	/* Ten more valid initiations of the same key, none answered. */
	for (uint32_t i = 1; i <= 10; i++)
		send_initiation(env.cli_priv, env.srv_pub, 0x100 + i, msg, 40000);
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_FORWARDED] == 11, "%llu forwarded",
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_INIT_FORWARDED]);
	CHECK(count_sessions(&small) == XWGP_PEER_MAX_SESSIONS, "the key holds %d sessions",
	      count_sessions(&small));
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_KEY_CAP] == 11 - XWGP_PEER_MAX_SESSIONS,
	      "%llu replaced", (unsigned long long)env.h.stats[XWGP_AGENT_STAT_INIT_KEY_CAP]);
	/* Its own unanswered ones gave way first: the established one and the newest stay. */
	CHECK(has_session(0x100, true), "the established session was replaced");
	for (uint32_t i = 8; i <= 10; i++)
		CHECK(has_session(0x100 + i, false), "session %#x missing", 0x100 + i);
	CHECK(env.h.stats[XWGP_AGENT_STAT_HALFOPEN_EVICTED] == 0 &&
	      env.h.stats[XWGP_AGENT_STAT_INIT_TABLE_FULL] == 0);
	/* All answered: the next one replaces the oldest handshake, 0x100. */
	for (uint32_t i = 8; i <= 10; i++)
		send_response(0x9100 + i, proxy_of(0x100 + i), 51820);
	send_initiation(env.cli_priv, env.srv_pub, 0x200, msg, 40000);
	CHECK(!has_session(0x100, true) && has_session(0x108, true) && has_session(0x200, false),
	      "the oldest handshake did not give way");
	CHECK(count_sessions(&small) == XWGP_PEER_MAX_SESSIONS);
	small_maps_done();
	clear_maps();
}

TEST(full_table_evicts_only_unanswered_sessions)
{
	uint8_t msg[148], priv[6][32], pub[6][32];
	struct wg_mac_keys mac;

	ENV();
	for (int i = 0; i < 6; i++)
		keypair(priv[i], pub[i]);
	CHECK(small_maps(4, 64) == 0, "maps: %s", strerror(errno));
	send_initiation(env.cli_priv, env.srv_pub, 0x300, msg, 40000);
	send_response(0x9300, proxy_of(0x300), 51820);
	/* Three other keys (the fallback peer) fill the table with unanswered sessions. */
	for (int i = 0; i < 3; i++)
		send_initiation(priv[i], env.srv_pub, 0x301 + i, msg, 40000);
	CHECK(count_sessions(&small) == 4, "table holds %d", count_sessions(&small));
	/* A fourth key: the oldest unanswered session (0x301) gives way. */
	send_initiation(priv[3], env.srv_pub, 0x304, msg, 40000);
	CHECK(env.h.stats[XWGP_AGENT_STAT_HALFOPEN_EVICTED] == 1, "%llu evicted",
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_HALFOPEN_EVICTED]);
	CHECK(!has_session(0x301, false) && has_session(0x304, false), "0x301 not the one evicted");
	CHECK(has_session(0x300, true), "an established session was evicted");
	/* Every session answered: a new key is refused, nobody is evicted. */
	for (int i = 1; i < 4; i++) {
		wg_mac_keys_init(&mac, pub[i]);
		send_response_to(&mac, 0x9300 + i, proxy_of(0x301 + i), 51821); /* the fallback */
		CHECK(has_session(0x301 + i, true), "session %#x not established", 0x301 + i);
	}
	env.sent.count = 0;
	send_initiation(priv[4], env.srv_pub, 0x305, msg, 40000);
	CHECK(env.sent.count == 0 && env.h.stats[XWGP_AGENT_STAT_INIT_TABLE_FULL] == 1,
	      "sent %d, table full %llu", env.sent.count,
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_INIT_TABLE_FULL]);
	CHECK(env.h.stats[XWGP_AGENT_STAT_HALFOPEN_EVICTED] == 1);
	CHECK(has_session(0x300, true) && count_sessions(&small) == 4);
	/* A key that holds a session may still rekey: its own oldest gives way. */
	send_initiation(env.cli_priv, env.srv_pub, 0x306, msg, 40000);
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_TABLE_FULL] == 1 &&
		      env.h.stats[XWGP_AGENT_STAT_INIT_KEY_CAP] == 1,
	      "table full %llu, replaced %llu",
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_INIT_TABLE_FULL],
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_INIT_KEY_CAP]);
	CHECK(!has_session(0x300, true) && has_session(0x306, false));
	for (int i = 1; i < 4; i++)
		CHECK(has_session(0x301 + i, true), "another key's session %#x evicted", 0x301 + i);
	small_maps_done();
	clear_maps();
	sodium_memzero(priv, sizeof(priv));
}

/* After a restart the queue of unanswered sessions is empty: a scan refills it, oldest first. */
TEST(full_table_after_restart_still_finds_the_oldest_unanswered)
{
	uint8_t msg[148], priv[5][32], pub[5][32];

	ENV();
	for (int i = 0; i < 5; i++)
		keypair(priv[i], pub[i]);
	CHECK(small_maps(4, 64) == 0, "maps: %s", strerror(errno));
	for (int i = 0; i < 4; i++)
		send_initiation(priv[i], env.srv_pub, 0x501 + i, msg, 40000);
	CHECK(count_sessions(&small) == 4);
	wgit_halfopen_init(&env.h.wgit, 4); /* what a new agent starts with */
	send_initiation(priv[4], env.srv_pub, 0x505, msg, 40000);
	CHECK(env.h.stats[XWGP_AGENT_STAT_HALFOPEN_EVICTED] == 1 && has_session(0x505, false),
	      "evicted %llu", (unsigned long long)env.h.stats[XWGP_AGENT_STAT_HALFOPEN_EVICTED]);
	CHECK(!has_session(0x501, false) && has_session(0x502, false) && has_session(0x504, false),
	      "not the oldest evicted");
	small_maps_done();
	clear_maps();
	sodium_memzero(priv, sizeof(priv));
}

TEST(full_peer_state_map_refuses_instead_of_skipping_replay_check)
{
	uint8_t first[148], msg[148], priv[2][32], pub[2][32];
	struct handler_pkt p = { .side = XWGP_SIDE_CLIENT, .data = msg, .len = 148, .cap = 148 };
	struct xwgp_peer_key k = {};
	struct xwgp_peer_state st;

	ENV();
	for (int i = 0; i < 2; i++)
		keypair(priv[i], pub[i]);
	CHECK(small_maps(64, 2) == 0, "maps: %s", strerror(errno));
	send_initiation(env.cli_priv, env.srv_pub, 0x400, first, 40000);
	send_initiation(priv[0], env.srv_pub, 0x401, msg, 40000);
	CHECK(count_keys(small.peer_state, 64) == 2 && env.sent.count == 2);
	/* The map is full: a third key is refused, not let through unchecked. */
	send_initiation(priv[1], env.srv_pub, 0x402, msg, 40000);
	CHECK(env.sent.count == 2 && env.h.stats[XWGP_AGENT_STAT_INIT_PEER_STATE_FULL] == 1,
	      "sent %d, refused %llu", env.sent.count,
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_INIT_PEER_STATE_FULL]);
	CHECK(!has_session(0x402, false), "a session without replay state");
	/* priv[0]'s state idle past the horizon, but its session lives: kept. */
	memcpy(k.server_pub, env.srv_pub, 32);
	memcpy(k.client_pub, pub[0], 32);
	CHECK(wgit_peer_get(&env.h.wgit, &k, &st) == 0 && st.sessions[0] == proxy_of(0x401));
	st.updated_ns = xwgp_now_ns() - (WGIT_PEER_HORIZON_SEC + 1) * 1000000000ull;
	CHECK(wgit_peer_put(&env.h.wgit, &k, &st) == 0);
	env.h.wgit.peer_evict_ns = 0;
	send_initiation(priv[1], env.srv_pub, 0x402, msg, 40000);
	CHECK(env.sent.count == 2 && env.h.stats[XWGP_AGENT_STAT_INIT_PEER_STATE_FULL] == 2 &&
		      env.h.stats[XWGP_AGENT_STAT_PEER_STATE_EVICTED] == 0,
	      "a state whose key holds a session was forgotten");
	/* Its session gone: the state may be forgotten, and the new key gets in. */
	CHECK(wgit_session_delete(&env.h.wgit, proxy_of(0x401)) == 0);
	env.h.wgit.peer_evict_ns = 0;
	send_initiation(priv[1], env.srv_pub, 0x402, msg, 40000);
	CHECK(env.sent.count == 3 && env.h.stats[XWGP_AGENT_STAT_PEER_STATE_EVICTED] == 1 &&
		      has_session(0x402, false),
	      "sent %d, evicted %llu", env.sent.count,
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_PEER_STATE_EVICTED]);
	/* The recent state survived: a replay of the first initiation is still refused. */
	CHECK(wgit_session_delete(&env.h.wgit, proxy_of(0x400)) == 0);
	memcpy(msg, first, sizeof(msg));
	ep4(&p.src, "192.0.2.66", 40001);
	ep4(&p.dst, "192.0.2.1", 51820);
	handler_packet(&env.h, &p);
	CHECK(env.sent.count == 3 && env.h.stats[XWGP_AGENT_STAT_INIT_REPLAY] == 1,
	      "replay after an eviction: sent %d", env.sent.count);
	check_mirror_is_map("after peer states were evicted");
	small_maps_done();
	clear_maps();
	sodium_memzero(priv, sizeof(priv));
}

/*
 * Handshake threads (agent/hs_ring.c): many initiations from many keys go
 * through the batch path with 4 threads doing the DHs, against real maps.
 * No session lost or doubled, the per-key cap holds, replays are refused,
 * exactly as one thread would do it.
 */
TEST(handshake_threads_lose_and_double_nothing)
{
	enum { KEYS = 40, PER_KEY = XWGP_PEER_MAX_SESSIONS + 1 };
	static uint8_t priv[KEYS][32], pub[KEYS][32];
	uint8_t msg[148], replay[148];
	struct handler_pkt p = { .side = XWGP_SIDE_CLIENT, .data = msg, .len = 148, .cap = 148 };
	int per_key[KEYS] = { 0 };
	uint32_t idx;
	struct xwgp_session s0;
	int n_sess = 0;

	ENV();
	CHECK(handler_ring_restart(&env.h, 4) == 0 && env.h.ring->n_workers == 3);
	env.h.batch = true;
	env.cfg.under_load_pps = UINT32_MAX; /* DHs here, not cookie replies */
	for (int k = 0; k < KEYS; k++)
		keypair(priv[k], pub[k]);
	CHECK(small_maps(1024, 256) == 0, "maps: %s", strerror(errno));
	/* Interleaved: a batch of 64 holds several initiations of one key. */
	for (int j = 0; j < PER_KEY; j++)
		for (int k = 0; k < KEYS; k++) {
			send_initiation(priv[k], env.srv_pub, (uint32_t)(k << 8 | j), msg,
					(uint16_t)(40000 + k));
			if (k == 7 && j == 1)
				memcpy(replay, msg, sizeof(replay));
		}
	/* An old initiation again, within the same batch as newer ones of its key. */
	memcpy(msg, replay, sizeof(msg));
	ep4(&p.src, "192.0.2.11", 40007);
	ep4(&p.dst, "192.0.2.1", 51820);
	handler_packet(&env.h, &p);
	handler_flush(&env.h);
	CHECK(hs_ring_pending(env.h.ring) == 0 && env.h.stats[XWGP_AGENT_STAT_COOKIE_SENT] == 0);
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_FORWARDED] == KEYS * PER_KEY, "%llu forwarded",
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_INIT_FORWARDED]);
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_REPLAY] == 1, "%llu replays",
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_INIT_REPLAY]);
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_DECRYPT_FAILED] == 0);
	CHECK(env.h.stats[XWGP_AGENT_STAT_INIT_KEY_CAP] == KEYS * (PER_KEY - XWGP_PEER_MAX_SESSIONS),
	      "%llu replaced", (unsigned long long)env.h.stats[XWGP_AGENT_STAT_INIT_KEY_CAP]);
	CHECK(env.h.stats[XWGP_AGENT_STAT_DH_CACHE_HIT] + env.h.stats[XWGP_AGENT_STAT_DH_CACHE_MISS] ==
		      KEYS * PER_KEY + 1,
	      "DH cache counted %llu + %llu",
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_DH_CACHE_HIT],
	      (unsigned long long)env.h.stats[XWGP_AGENT_STAT_DH_CACHE_MISS]);
	/* Every key holds exactly its cap: its newest initiations, each once. */
	for (uint32_t cursor = 0; wgit_session_next(&small, &cursor, &s0);) {
		struct xwgp_session_meta m;
		struct xwgp_session s;
		int k = 0;

		idx = s0.client_proxy_index;
		CHECK(wgit_session_get(&env.h.wgit, idx, &s) == 0 &&
		      wgit_meta_get(&env.h.wgit, idx, &m) == 0);
		while (k < KEYS && memcmp(m.client_pub, pub[k], 32))
			k++;
		CHECK(k < KEYS, "a session of an unknown key");
		if (k == KEYS)
			break;
		CHECK((int)(s.client_origin_index >> 8) == k &&
			      (s.client_origin_index & 0xff) >= PER_KEY - XWGP_PEER_MAX_SESSIONS,
		      "key %d holds initiation %#x", k, s.client_origin_index);
		CHECK(ntohs(s.client.port) == 40000 + k);
		per_key[k]++;
		n_sess++;
	}
	CHECK(n_sess == KEYS * XWGP_PEER_MAX_SESSIONS, "%d sessions", n_sess);
	check_mirror_is_map("after 40 keys' initiations");
	for (int k = 0; k < KEYS; k++)
		CHECK(per_key[k] == XWGP_PEER_MAX_SESSIONS, "key %d holds %d", k, per_key[k]);
	env.h.batch = false;
	env.cfg.under_load_pps = COOKIE_LOAD_DEFAULT_PPS;
	small_maps_done();
	clear_maps();
	sodium_memzero(priv, sizeof(priv));
}

/*
 * Several threads run the DHs at once, in any order (agent/hs_ring.c), and
 * the caller finishes them in arrival order: a few keys, many initiations
 * each, in an order that changes every round. Afterwards the maps must be
 * what one thread would leave: no replay refused (each key's initiations
 * are admitted in order), every initiation forwarded once, every live
 * session listed once in its key's peer state, and each session accounted
 * for: live ones plus those replaced (per-key cap) or evicted (full table)
 * are all that were forwarded. With room for every key's cap, each key
 * holds exactly its newest; with a table too small, the cap and the
 * eviction of unanswered sessions of other keys interleave.
 */
static void hammer(int table, bool room)
{
	enum { KEYS = 6, PER_KEY = 48 };
	static uint8_t priv[KEYS][32], pub[KEYS][32];
	uint8_t msg[148];
	int live[KEYS] = { 0 }, n_live = 0;
	unsigned int seed = 12345 + (unsigned int)table;
	uint64_t *st = env.h.stats;
	struct xwgp_session s;
	uint32_t cursor = 0;

	memset(env.h.stats, 0, sizeof(env.h.stats));
	env.sent.count = 0;
	for (int k = 0; k < KEYS; k++)
		keypair(priv[k], pub[k]);
	CHECK(small_maps((uint32_t)table, 64) == 0, "maps: %s", strerror(errno));
	for (int j = 0; j < PER_KEY; j++) {
		int order[KEYS];

		for (int k = 0; k < KEYS; k++)
			order[k] = k;
		for (int k = KEYS - 1; k > 0; k--) {
			int r = (int)(rand_r(&seed) % (unsigned int)(k + 1)), t = order[k];

			order[k] = order[r];
			order[r] = t;
		}
		for (int i = 0; i < KEYS; i++)
			send_initiation(priv[order[i]], env.srv_pub, (uint32_t)(order[i] << 8 | j), msg,
					(uint16_t)(41000 + order[i]));
	}
	handler_flush(&env.h);
	CHECK(hs_ring_pending(env.h.ring) == 0);
	CHECK(st[XWGP_AGENT_STAT_INIT_REPLAY] == 0 && st[XWGP_AGENT_STAT_INIT_DECRYPT_FAILED] == 0 &&
		      st[XWGP_AGENT_STAT_INIT_TABLE_FULL] == 0,
	      "table %d: replays %llu, decrypt failures %llu, table full %llu", table,
	      (unsigned long long)st[XWGP_AGENT_STAT_INIT_REPLAY],
	      (unsigned long long)st[XWGP_AGENT_STAT_INIT_DECRYPT_FAILED],
	      (unsigned long long)st[XWGP_AGENT_STAT_INIT_TABLE_FULL]);
	CHECK(st[XWGP_AGENT_STAT_INIT_FORWARDED] == KEYS * PER_KEY && env.sent.count == KEYS * PER_KEY,
	      "table %d: %llu forwarded, %d sent", table,
	      (unsigned long long)st[XWGP_AGENT_STAT_INIT_FORWARDED], env.sent.count);
	/* Every live session: its key's, listed once in its key's peer state. */
	while (wgit_session_next(&small, &cursor, &s)) {
		struct xwgp_session_meta m;
		struct xwgp_peer_state ps;
		struct xwgp_peer_key pk;
		int k = (int)(s.client_origin_index >> 8), listed = 0;

		CHECK(k < KEYS && wgit_meta_get(&env.h.wgit, s.client_proxy_index, &m) == 0 &&
			      !memcmp(m.client_pub, pub[k], 32),
		      "session %#x: no meta, or another key's", s.client_origin_index);
		if (k >= KEYS)
			break;
		memcpy(pk.server_pub, env.srv_pub, 32);
		memcpy(pk.client_pub, pub[k], 32);
		CHECK(wgit_peer_get(&env.h.wgit, &pk, &ps) == 0, "key %d: no peer state", k);
		for (int i = 0; i < XWGP_PEER_MAX_SESSIONS; i++)
			listed += ps.sessions[i] == s.client_proxy_index;
		CHECK(listed == 1, "session %#x listed %d times in its peer state",
		      s.client_origin_index, listed);
		live[k]++;
		n_live++;
	}
	CHECK(n_live == (room ? KEYS * XWGP_PEER_MAX_SESSIONS : table), "table %d: %d live", table,
	      n_live);
	/* Nothing vanished uncounted, nothing counted twice. */
	CHECK((uint64_t)n_live == st[XWGP_AGENT_STAT_INIT_FORWARDED] - st[XWGP_AGENT_STAT_INIT_KEY_CAP] -
					  st[XWGP_AGENT_STAT_HALFOPEN_EVICTED],
	      "table %d: %d live of %llu forwarded, %llu replaced, %llu evicted", table, n_live,
	      (unsigned long long)st[XWGP_AGENT_STAT_INIT_FORWARDED],
	      (unsigned long long)st[XWGP_AGENT_STAT_INIT_KEY_CAP],
	      (unsigned long long)st[XWGP_AGENT_STAT_HALFOPEN_EVICTED]);
	for (int k = 0; k < KEYS; k++) {
		struct xwgp_peer_state ps;
		struct xwgp_peer_key pk;
		int listed = 0;

		memcpy(pk.server_pub, env.srv_pub, 32);
		memcpy(pk.client_pub, pub[k], 32);
		CHECK(wgit_peer_get(&env.h.wgit, &pk, &ps) == 0);
		/*
		 * Listed and still this key's (another key's eviction leaves a
		 * dead index listed until this key's next admission prunes it:
		 * wgit_admit.c pair_prune); a live one missing would escape the cap.
		 */
		for (int i = 0; i < XWGP_PEER_MAX_SESSIONS; i++) {
			struct xwgp_session_meta m;

			listed += ps.sessions[i] && wgit_meta_get(&env.h.wgit, ps.sessions[i], &m) == 0 &&
				  !memcmp(m.client_pub, pub[k], 32);
		}
		CHECK(listed == live[k] && live[k] <= XWGP_PEER_MAX_SESSIONS,
		      "key %d: %d listed, %d live", k, listed, live[k]);
		/* With room: its newest, as one thread admitting in arrival order leaves it. */
		for (int j = PER_KEY - XWGP_PEER_MAX_SESSIONS; room && j < PER_KEY; j++)
			CHECK(has_session((uint32_t)(k << 8 | j), false), "key %d lost initiation %d",
			      k, j);
	}
	check_mirror_is_map(room ? "hammer, room" : "hammer, full table");
	small_maps_done();
	clear_maps();
	sodium_memzero(priv, sizeof(priv));
}

TEST(handshake_threads_hammer_few_keys)
{
	ENV();
	CHECK(handler_ring_restart(&env.h, 4) == 0 && env.h.ring->n_workers == 3);
	env.h.batch = true;
	env.cfg.under_load_pps = UINT32_MAX; /* DHs here, not cookie replies */
	hammer(64, true);
	hammer(16, false);
	env.h.batch = false;
	env.cfg.under_load_pps = COOKIE_LOAD_DEFAULT_PPS;
	/* Its 576 initiations are load: the next test starts with a meter at rest. */
	cookie_guard_init(&env.h.guard);
}

/* Session proxy as the mapping holds it (zeroed when gone): XDP's and the agent's counters. */
static struct xwgp_session sess_of(uint32_t proxy)
{
	struct xwgp_session s = { 0 };

	wgit_session_get(&env.h.wgit, proxy, &s);
	return s;
}

/*
 * In the event loop's batches (h->batch), the agent's per-session counters
 * of transport from current endpoints are written once per session per
 * batch, by handler_flush(), with exact totals; a packet from a new source
 * (roaming) first writes what the batch holds, so roaming sees exact times.
 */
TEST(transport_counted_once_per_session_per_batch)
{
	struct xwgp_session m1, m2, a1, a2;
	uint32_t p1, p2;

	ENV();
	p1 = establish(0x71717171, 0x72727272, NULL);
	p2 = establish(0x73737373, 0x74747474, NULL);
	m1 = sess_of(p1);
	m2 = sess_of(p2);
	env.h.batch = true;
	for (int i = 0; i < 10; i++)
		CHECK(transport(XWGP_SIDE_CLIENT, srv_of(p1), "192.0.2.11", 40000) == 1);
	for (int i = 0; i < 5; i++)
		CHECK(transport(XWGP_SIDE_SERVER, p1, "198.51.100.2", 51820) == 1);
	for (int i = 0; i < 7; i++)
		CHECK(transport(XWGP_SIDE_CLIENT, srv_of(p2), "192.0.2.11", 40000) == 1);
	a1 = sess_of(p1);
	CHECK(a1.c2s_packets == m1.c2s_packets && STAT(SESS_WRITES) == 0,
	      "written before the batch ended: %llu packets, %llu writes",
	      (unsigned long long)a1.c2s_packets, (unsigned long long)STAT(SESS_WRITES));
	handler_flush(&env.h);
	a1 = sess_of(p1);
	a2 = sess_of(p2);
	CHECK(STAT(SESS_WRITES) == 2, "%llu session writes, want 2",
	      (unsigned long long)STAT(SESS_WRITES));
	CHECK(a1.c2s_packets == m1.c2s_packets + 10 &&
		      a1.c2s_bytes == m1.c2s_bytes + 640 &&
		      a1.s2c_packets == m1.s2c_packets + 5 &&
		      a1.s2c_bytes == m1.s2c_bytes + 320,
	      "session 1: c2s %llu/%llu s2c %llu/%llu", (unsigned long long)a1.c2s_packets,
	      (unsigned long long)a1.c2s_bytes, (unsigned long long)a1.s2c_packets,
	      (unsigned long long)a1.s2c_bytes);
	CHECK(a2.c2s_packets == m2.c2s_packets + 7 && a2.s2c_packets == 0);
	CHECK(a1.client_seen_ns > m1.client_seen_ns &&
	      a1.server_seen_ns > m1.server_seen_ns &&
	      a1.last_seen_ns >= a1.client_seen_ns, "seen times");
	CHECK(STAT(TRANSPORT_C2S) == 17 && STAT(TRANSPORT_S2C) == 5);

	/* Roaming mid-batch: the batch's counts are written first, then the candidate's. */
	for (int i = 0; i < 3; i++)
		CHECK(transport(XWGP_SIDE_CLIENT, srv_of(p1), "192.0.2.11", 40000) == 1);
	CHECK(transport(XWGP_SIDE_CLIENT, srv_of(p1), "192.0.2.99", 40009) == 1);
	m1 = sess_of(p1);
	CHECK(m1.c2s_packets == a1.c2s_packets + 4 && STAT(ROAM_CANDIDATE) == 1,
	      "before the flush: %llu packets (want %llu)", (unsigned long long)m1.c2s_packets,
	      (unsigned long long)a1.c2s_packets + 4);
	handler_flush(&env.h);
	CHECK(sess_of(p1).c2s_packets == a1.c2s_packets + 4, "nothing counted twice");
	env.h.batch = false;
	clear_maps();
}

TEST_MAIN()
