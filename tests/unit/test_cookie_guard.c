// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's own cookie replies (agent/cookie_guard.c). The initiator side
 * is wg_crypto's test code (wg_create_initiation, wg_cookie_open); the
 * cookie and the sealing key are recomputed here with blake2s() directly,
 * as WireGuard defines them, not through the code under test.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "addr.h"
#include "blake2s.h"
#include "byteorder.h"
#include "cookie_guard.h"
#include "test.h"
#include "wg_crypto.h"
#include "wg_proto.h"
#include "xwgp_agent_stats.h"
#include "xwgp_hs_budget.h"
#include "xsk_rx.h"

#define SEC 1000000000ull
#define MS  1000000ull

static struct {
	uint8_t srv_priv[32], srv_pub[32], cli_priv[32];
	struct wg_server_key srv;
	uint8_t cookie_key[32]; /* HASH("cookie--" || server pub), by hand */
	uint8_t tai[12];
} k;

static void setup(void)
{
	static bool done;

	if (done)
		return;
	wg_crypto_init();
	randombytes_buf(k.srv_priv, 32);
	randombytes_buf(k.cli_priv, 32);
	wg_server_key_init(&k.srv, k.srv_priv);
	memcpy(k.srv_pub, k.srv.pub, 32);
	{
		uint8_t in[8 + 32];

		memcpy(in, "cookie--", 8);
		memcpy(in + 8, k.srv_pub, 32);
		blake2s(k.cookie_key, 32, in, sizeof(in), NULL, 0);
	}
	wg_tai64n_now(k.tai);
	done = true;
}

static void initiation(uint8_t msg[148], uint32_t sender, const uint8_t *cookie)
{
	uint8_t eph[32];

	randombytes_buf(eph, 32);
	k.tai[11]++; /* never wraps within a test run that matters: not checked here */
	wg_create_initiation(msg, k.cli_priv, k.srv_pub, sender, eph, k.tai, cookie);
}

static void src4(struct xwgp_ep *ep, const char *ip, uint16_t port)
{
	uint32_t a;

	inet_pton(AF_INET, ip, &a);
	xwgp_ep_set_ip4(ep, a, htons(port));
}

/* Start of most tests: keys, a fresh guard, a source, a MAC2-less initiation (msg). */
static void start(struct cookie_guard *g, struct xwgp_ep *src, uint8_t *msg)
{
	setup();
	cookie_guard_init(g);
	src4(src, "192.0.2.7", 40000);
	if (msg)
		initiation(msg, 1, NULL);
}

/* The client's side: open our reply with the key and AAD WireGuard uses. */
static int client_open(uint8_t cookie[16], const uint8_t reply[64], const uint8_t init[148])
{
	return wg_cookie_open(cookie, reply, 64, k.cookie_key, init + WG_INIT_OFF_MAC1);
}

TEST(reply_round_trip_and_retry_accepted)
{
	uint8_t msg[148], retry[148], reply[64], reply2[64], cookie[16], want[16], in[6];
	uint64_t st[XWGP_AGENT_STAT__MAX] = { 0 };
	struct cookie_guard g;
	struct xwgp_ep src;

	start(&g, &src, NULL);
	initiation(msg, 0x11223344, NULL);
	CHECK(cookie_guard_check(&g, msg, &src, 5 * SEC, 0, st) == COOKIE_SEND_REPLY,
	      "under load (0 = always), no MAC2: cookie reply");
	cookie_guard_reply(&g, reply, msg, &src, k.srv.mac.cookie_key, 5 * SEC);
	CHECK(reply[0] == WG_MSG_COOKIE_REPLY && !reply[1] && !reply[2] && !reply[3], "type 3");
	CHECK(get_le32(reply + WG_COOKIE_OFF_RECEIVER) == 0x11223344, "receiver = sender index");
	CHECK(client_open(cookie, reply, msg) == 0, "the initiator opens it");
	/* cookie = MAC(R, ip || port): 4 address bytes, port big-endian. */
	memcpy(in, (uint8_t[]){ 192, 0, 2, 7, 40000 >> 8, 40000 & 0xff }, 6);
	blake2s(want, 16, in, 6, g.secret[g.cur], 32);
	CHECK_MEM(cookie, want, 16);

	/* Another MAC1 as AAD does not open it (bound to the answered message). */
	initiation(retry, 0x11223344, NULL);
	CHECK(client_open(cookie, reply, retry) != 0, "AAD is the answered MAC1");
	/* Nonces are random: two replies to the same message differ. */
	cookie_guard_reply(&g, reply2, msg, &src, k.srv.mac.cookie_key, 5 * SEC);
	CHECK(memcmp(reply + 8, reply2 + 8, 24) != 0, "fresh nonce");

	/* The retry carries MAC2 from that cookie: served, and counted. */
	initiation(retry, 0x55667788, want);
	CHECK(cookie_guard_check(&g, retry, &src, 6 * SEC, 0, st) == COOKIE_PROCESS_MAC2,
	      "valid MAC2 is processed under load");
	CHECK(st[XWGP_AGENT_STAT_MAC2_VALID] == 1 && st[XWGP_AGENT_STAT_MAC2_INVALID] == 0,
	      "MAC2 valid %llu invalid %llu", (unsigned long long)st[XWGP_AGENT_STAT_MAC2_VALID],
	      (unsigned long long)st[XWGP_AGENT_STAT_MAC2_INVALID]);
	cookie_guard_wipe(&g);
}

TEST(mac2_bound_to_source_ip_and_port)
{
	uint8_t msg[148], cookie[16];
	uint64_t st[XWGP_AGENT_STAT__MAX] = { 0 };
	struct cookie_guard g;
	struct xwgp_ep src, other_port, other_ip;

	start(&g, &src, NULL);
	src4(&other_port, "192.0.2.7", 40001);
	src4(&other_ip, "192.0.2.8", 40000);
	cookie_guard_cookie(&g, cookie, &src, false, SEC);
	initiation(msg, 1, cookie);
	CHECK(cookie_guard_check(&g, msg, &other_port, SEC, 0, st) == COOKIE_SEND_REPLY,
	      "cookie of another port");
	CHECK(cookie_guard_check(&g, msg, &other_ip, SEC, 0, st) == COOKIE_SEND_REPLY,
	      "cookie of another address");
	CHECK(st[XWGP_AGENT_STAT_MAC2_INVALID] == 2);
	/* Not under load: processed, but the MAC2 is not ours (left as it is). */
	cookie_guard_init(&g);
	CHECK(cookie_guard_check(&g, msg, &src, SEC, 1000, st) == COOKIE_PROCESS);
	/* A forged MAC2 (random bytes) is no better than none. */
	initiation(msg, 1, NULL);
	randombytes_buf(msg + WG_INIT_OFF_MAC2, 16);
	CHECK(cookie_guard_check(&g, msg, &src, SEC, 0, st) == COOKIE_SEND_REPLY);
	cookie_guard_wipe(&g);
}

TEST(wrong_mac2_replies_limited_per_window)
{
	uint8_t msg[148];
	uint64_t st[XWGP_AGENT_STAT__MAX] = { 0 }, t = 10 * SEC;
	struct cookie_guard g;
	struct xwgp_ep src;
	int replies = 0, drops = 0;

	start(&g, &src, msg);
	randombytes_buf(msg + WG_INIT_OFF_MAC2, 16);
	t = (t >> XWGP_HS_WINDOW_SHIFT) << XWGP_HS_WINDOW_SHIFT; /* start of a window */
	for (int i = 0; i < COOKIE_INVALID_REPLIES + 10; i++) {
		enum cookie_verdict v = cookie_guard_check(&g, msg, &src, t + i, 0, st);

		replies += v == COOKIE_SEND_REPLY;
		drops += v == COOKIE_DROP;
	}
	CHECK(replies == COOKIE_INVALID_REPLIES && drops == 10, "%d replies, %d drops", replies,
	      drops);
	CHECK(st[XWGP_AGENT_STAT_MAC2_INVALID_DROPPED] == 10 &&
	      st[XWGP_AGENT_STAT_MAC2_INVALID] == COOKIE_INVALID_REPLIES + 10);
	/* Zero MAC2 is XDP's to limit: still answered. */
	initiation(msg, 1, NULL);
	CHECK(cookie_guard_check(&g, msg, &src, t + 1000, 0, st) == COOKIE_SEND_REPLY);
	/* The next window answers again. */
	randombytes_buf(msg + WG_INIT_OFF_MAC2, 16);
	CHECK(cookie_guard_check(&g, msg, &src, t + (1ull << XWGP_HS_WINDOW_SHIFT), 0, st) ==
	      COOKIE_SEND_REPLY);
	cookie_guard_wipe(&g);
}

TEST(ipv6_cookie_uses_16_address_bytes)
{
	static const uint8_t a6[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9
	};
	uint8_t cookie[16], want[16], in[18];
	struct cookie_guard g;
	struct xwgp_ep src;

	setup();
	cookie_guard_init(&g);
	xwgp_ep_set_ip6(&src, a6, htons(51820));
	cookie_guard_cookie(&g, cookie, &src, false, SEC);
	memcpy(in, a6, 16);
	in[16] = 51820 >> 8;
	in[17] = 51820 & 0xff;
	blake2s(want, 16, in, sizeof(in), g.secret[g.cur], 32);
	CHECK_MEM(cookie, want, 16);
	cookie_guard_wipe(&g);
}

TEST(secret_rotates_every_2_minutes_previous_still_accepted)
{
	uint8_t msg[148], c0[16], c1[16];
	uint64_t st[XWGP_AGENT_STAT__MAX] = { 0 };
	struct cookie_guard g;
	struct xwgp_ep src;

	start(&g, &src, NULL);
	cookie_guard_cookie(&g, c0, &src, false, 10 * SEC);
	cookie_guard_cookie(&g, c1, &src, false, 129 * SEC);
	CHECK_MEM(c0, c1, 16); /* 119 s later: the same secret */
	cookie_guard_cookie(&g, c1, &src, false, 130 * SEC);
	CHECK(memcmp(c0, c1, 16) != 0, "a new secret after 120 s");
	initiation(msg, 1, c0);
	CHECK(cookie_guard_check(&g, msg, &src, 131 * SEC, 0, st) == COOKIE_PROCESS_MAC2,
	      "cookie of the previous secret still valid");
	initiation(msg, 1, c1);
	CHECK(cookie_guard_check(&g, msg, &src, 131 * SEC, 0, st) == COOKIE_PROCESS_MAC2,
	      "cookie of the current secret valid");
	/* Two rotations later the first cookie is gone. */
	initiation(msg, 1, c0);
	CHECK(cookie_guard_check(&g, msg, &src, 251 * SEC, 0, st) == COOKIE_SEND_REPLY,
	      "cookie from two secrets ago refused");
	CHECK(st[XWGP_AGENT_STAT_MAC2_VALID] == 2 && st[XWGP_AGENT_STAT_MAC2_INVALID] == 1);
	cookie_guard_wipe(&g);
}

TEST(load_rule_threshold_hold_and_counters)
{
	uint8_t msg[148];
	uint64_t st[XWGP_AGENT_STAT__MAX] = { 0 }, t = 100 * SEC;
	struct cookie_guard g;
	struct xwgp_ep src;

	start(&g, &src, msg);
	/* 100/s: 10 per 100 ms window are fine. */
	for (int i = 0; i < 10; i++)
		CHECK(cookie_guard_check(&g, msg, &src, t + i * MS, 100, st) == COOKIE_PROCESS,
		      "initiation %d of 10 in a window", i);
	CHECK(!cookie_guard_can_wait(&g, msg, sizeof(msg)), "not under load: nothing waits");
	CHECK(cookie_guard_check(&g, msg, &src, t + 10 * MS, 100, st) == COOKIE_SEND_REPLY,
	      "the 11th in 100 ms: under load");
	CHECK(st[XWGP_AGENT_STAT_UNDER_LOAD] == 1 && st[XWGP_AGENT_STAT_UNDER_LOAD_ENTERED] == 1);
	CHECK(cookie_guard_can_wait(&g, msg, sizeof(msg)), "zero MAC2 waits under load");
	/* A trickle afterwards stays cookies for the 1 s hold (no flapping)... */
	CHECK(cookie_guard_check(&g, msg, &src, t + 500 * MS, 100, st) == COOKIE_SEND_REPLY);
	cookie_guard_tick(&g, t + 900 * MS, st);
	CHECK(st[XWGP_AGENT_STAT_UNDER_LOAD] == 1, "still within the hold");
	CHECK(st[XWGP_AGENT_STAT_UNDER_LOAD_MS] == 890, "under load for %llu ms",
	      (unsigned long long)st[XWGP_AGENT_STAT_UNDER_LOAD_MS]);
	/* ... and ends 1 s after the last window over the threshold. */
	cookie_guard_tick(&g, t + 1200 * MS, st);
	CHECK(st[XWGP_AGENT_STAT_UNDER_LOAD] == 0, "hold over");
	CHECK(st[XWGP_AGENT_STAT_UNDER_LOAD_MS] == 1000, "under load for %llu ms",
	      (unsigned long long)st[XWGP_AGENT_STAT_UNDER_LOAD_MS]);
	CHECK(cookie_guard_check(&g, msg, &src, t + 1300 * MS, 100, st) == COOKIE_PROCESS);
	cookie_guard_xdp_refused(&g, t + 1300 * MS, 1000000, SEC, 100);
	cookie_guard_tick(&g, t + 1400 * MS, st);
	CHECK(!g.under_load && st[XWGP_AGENT_STAT_UNDER_LOAD] == 0,
	      "XDP refusals do not start a spell");

	/* A steady rate above the threshold is one spell, not many. */
	for (int i = 0; i < 400; i++)
		cookie_guard_check(&g, msg, &src, t + 2 * SEC + i * 5 * MS, 100, st);
	CHECK(st[XWGP_AGENT_STAT_UNDER_LOAD_ENTERED] == 2, "entered %llu times",
	      (unsigned long long)st[XWGP_AGENT_STAT_UNDER_LOAD_ENTERED]);

	/* XDP refusing at >= 100/s keeps the spell going without any intake... */
	t += 4 * SEC; /* the last initiation above at t - 5 ms: hold until t + 995 ms */
	cookie_guard_xdp_refused(&g, t + 900 * MS, 100, SEC, 100);
	cookie_guard_tick(&g, t + 1800 * MS, st);
	CHECK(g.under_load, "held by XDP refusals at the threshold");
	/* No refusals hold nothing, even at under_load 0 (always). */
	cookie_guard_xdp_refused(&g, t + 1850 * MS, 0, SEC, 0);
	CHECK(g.load_until_ns == t + 1900 * MS, "no refusals: hold unchanged");
	/* ... below it the hold runs out. */
	cookie_guard_xdp_refused(&g, t + 1850 * MS, 99, SEC, 100);
	cookie_guard_tick(&g, t + 2900 * MS, st);
	CHECK(!g.under_load && st[XWGP_AGENT_STAT_UNDER_LOAD_ENTERED] == 2,
	      "refusals under the threshold: the spell ends");
	cookie_guard_wipe(&g);
}

TEST(can_wait_only_plain_zero_mac2_initiations)
{
	uint8_t msg[148];
	uint64_t st[XWGP_AGENT_STAT__MAX] = { 0 };
	struct cookie_guard g;
	struct xwgp_ep src;

	start(&g, &src, msg);
	cookie_guard_check(&g, msg, &src, SEC, 0, st);
	CHECK(cookie_guard_can_wait(&g, msg, sizeof(msg)));
	CHECK(!cookie_guard_can_wait(&g, msg, 147), "wrong size");
	msg[WG_INIT_OFF_MAC2 + 15] = 1;
	CHECK(!cookie_guard_can_wait(&g, msg, sizeof(msg)), "carries a MAC2: goes first");
	msg[WG_INIT_OFF_MAC2 + 15] = 0;
	msg[0] = WG_MSG_TRANSPORT;
	CHECK(!cookie_guard_can_wait(&g, msg, sizeof(msg)), "not an initiation");
	cookie_guard_wipe(&g);
}

TEST(xdp_budget_half_of_each_window)
{
	/* 20 us per frame: half of 2^26 ns is 1677 frames. */
	CHECK(cookie_guard_xdp_budget(20000ull * 1000, 1000) == (1u << 25) / 20000, "got %u",
	      cookie_guard_xdp_budget(20000ull * 1000, 1000));
	CHECK(cookie_guard_xdp_budget(1000000, 255) == 0, "too few frames: XDP's default");
	CHECK(cookie_guard_xdp_budget(1000ull * 1000000, 1000) == 64, "1 ms a frame: the floor");
	CHECK(cookie_guard_xdp_budget(1000, 1000000) == 1u << 20, "cheap frames: the cap");
}

/* ---- within an AF_XDP batch, MAC2-carrying initiations first (xsk_rx_deliver) ---- */

static struct {
	struct cookie_guard *g;
	int order[8], n;
	uint8_t *base;
} batch;

/* As server.c's on_xsk_frame: a plain zero-MAC2 initiation waits under load. */
static bool record_frame(void *ctx, uint8_t *frame, size_t len, bool last)
{
	(void)ctx;
	if (!last && cookie_guard_can_wait(batch.g, frame, len))
		return true;
	batch.order[batch.n++] = (int)((frame - batch.base) / 256);
	return false;
}

TEST(batch_serves_mac2_initiations_first)
{
	static uint8_t area[6 * 256];
	uint8_t *frames[6], cookie[16];
	uint32_t lens[6];
	uint64_t st[XWGP_AGENT_STAT__MAX] = { 0 };
	struct cookie_guard g;
	struct xwgp_ep src;
	static const int want[6] = { 1, 3, 4, 0, 2, 5 };

	start(&g, &src, area);
	cookie_guard_check(&g, area, &src, SEC, 0, st); /* under load */
	cookie_guard_cookie(&g, cookie, &src, false, SEC);
	/* 0, 2, 5: zero MAC2; 1, 3: with MAC2; 4: a response (never waits). */
	for (int i = 0; i < 6; i++) {
		frames[i] = area + i * 256;
		lens[i] = WG_INIT_LEN;
		initiation(frames[i], (uint32_t)i, i == 1 || i == 3 ? cookie : NULL);
	}
	frames[4][0] = WG_MSG_RESPONSE;
	lens[4] = WG_RESP_LEN;
	batch.g = &g;
	batch.base = area;
	batch.n = 0;
	xsk_rx_deliver(frames, lens, 6, record_frame, NULL);
	CHECK(batch.n == 6, "%d frames delivered", batch.n);
	for (int i = 0; i < 6; i++)
		CHECK(batch.order[i] == want[i], "position %d: frame %d, want %d", i,
		      batch.order[i], want[i]);
	/* Not under load: in arrival order. */
	cookie_guard_init(&g);
	batch.n = 0;
	xsk_rx_deliver(frames, lens, 6, record_frame, NULL);
	for (int i = 0; i < 6; i++)
		CHECK(batch.order[i] == i, "calm: position %d: frame %d", i, batch.order[i]);
	cookie_guard_wipe(&g);
}

TEST_MAIN()
