/* SPDX-License-Identifier: GPL-2.0 */
/*
 * WireGuard's cookie reply under load, given on the backends' behalf
 * (DESIGN.md section 10; whitepaper section 5.4.7). MAC1 needs only a
 * server's public key, so anyone can make the agent run an X25519 per
 * initiation. While the agent is under load, an initiation without a valid
 * MAC2 for its source gets a 64-byte cookie reply and no Diffie-Hellman;
 * the client's retry carries MAC2 = MAC(cookie, msg[0:132]) and is served.
 *
 * Cookie = MAC(R, source IP || source port) as WireGuard's responder makes
 * it (kernel cookie.c make_cookie: the 4 or 16 address bytes, then the port
 * in network byte order), R a random 32-byte secret replaced every 2
 * minutes. MAC2 is accepted with the current secret or the one before it,
 * so a cookie handed out just before a rotation stays good for its client's
 * whole 120 s cookie lifetime.
 *
 * Load rule (the `under_load' config key, initiations per second, default
 * COOKIE_LOAD_DEFAULT_PPS): MAC1-valid initiations are counted in windows of
 * COOKIE_LOAD_WINDOW_NS; the agent is under load as soon as one window holds
 * more than under_load * window, and stays so until COOKIE_LOAD_HOLD_NS
 * after the last such window (WireGuard holds its under-load state for 1 s
 * the same way, so the state does not flap on every window). under_load 0:
 * always under load (tests, and a deployment that wants cookies always).
 * Rate, not queue length: the agent has several queues (AF_XDP rings, UDP
 * sockets) and the rate is what the single thread's X25519 budget bounds.
 */
#ifndef XWGP_COOKIE_GUARD_H
#define XWGP_COOKIE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xwgp_abi.h"

#define COOKIE_SECRET_MAX_AGE_NS (120ull * 1000000000ull)
#define COOKIE_LOAD_WINDOW_NS	 (100ull * 1000000ull)
#define COOKIE_LOAD_HOLD_NS	 (1000ull * 1000000ull)
#define COOKIE_LOAD_DEFAULT_PPS	 2000
/*
 * Under load, cookie replies to initiations with a wrong (non-zero) MAC2 per
 * window of 2^XWGP_HS_WINDOW_SHIFT ns (~7,600/s); beyond, they are dropped
 * after the MAC2 check. XDP cannot tell a wrong MAC2 from a right one and
 * punts every initiation that carries one, so this is the agent's own limit
 * for a flood of random MAC2s (a few legitimate ones: a client holding a
 * backend's cookie, or one of a retired secret).
 */
#define COOKIE_INVALID_REPLIES 512

struct cookie_guard {
	uint8_t secret[2][32]; /* [cur] current, [!cur] previous */
	unsigned int cur;
	bool have_prev;
	uint64_t secret_born_ns; /* of secret[cur]; 0: none made yet */
	/* Load meter. */
	uint64_t win_start_ns;
	uint32_t win_count;
	bool under_load;
	uint64_t load_until_ns; /* under load until then (hold) */
	uint64_t load_since_ns;
	uint64_t load_ms_base; /* UNDER_LOAD_MS when the current spell began */
	uint64_t invalid_win;  /* window of invalid_replies */
	uint32_t invalid_replies;
};

enum cookie_verdict {
	COOKIE_PROCESS,	     /* run the handshake; MAC2 (if any) is not ours */
	COOKIE_PROCESS_MAC2, /* run it; MAC2 was made with our cookie: not the backend's */
	COOKIE_SEND_REPLY,   /* under load and no valid MAC2: answer with a cookie reply */
	COOKIE_DROP,	     /* under load, wrong MAC2, over COOKIE_INVALID_REPLIES: no answer */
};

/* Zeroed state; the secret is made at first use. */
void cookie_guard_init(struct cookie_guard *g);
void cookie_guard_wipe(struct cookie_guard *g);

/*
 * One MAC1-valid initiation (148 bytes) from src: count it in the load meter
 * (threshold: under_load pps, 0 = always), check its MAC2, decide. stats:
 * the agent's counters (MAC2_VALID/INVALID, UNDER_LOAD*).
 */
enum cookie_verdict cookie_guard_check(struct cookie_guard *g, const uint8_t *msg,
				       const struct xwgp_ep *src, uint64_t now_ns,
				       uint32_t under_load, uint64_t *stats);

/*
 * The 64-byte cookie reply to initiation msg from src: receiver = its sender
 * index, random nonce, cookie sealed under cookie_key (HASH("cookie--" ||
 * the server's public key)) with msg's MAC1 as additional data.
 */
void cookie_guard_reply(struct cookie_guard *g, uint8_t out[static 64], const uint8_t *msg,
			const struct xwgp_ep *src, const uint8_t cookie_key[static 32],
			uint64_t now_ns);

/* The cookie for src under the current (prev false) or previous secret. */
void cookie_guard_cookie(struct cookie_guard *g, uint8_t out[static 16], const struct xwgp_ep *src,
			 bool prev, uint64_t now_ns);

/*
 * XDP refused `refused' initiations in the last elapsed_ns under load
 * (include/xwgp_hs_budget.h): at a rate over the threshold (pps, as
 * cookie_guard_check's) the flood goes on although XDP keeps the agent's
 * own intake below it, so the hold is extended; below it, the hold runs
 * out and XDP lets the (modest) rate through again.
 */
void cookie_guard_xdp_refused(struct cookie_guard *g, uint64_t now_ns, uint64_t refused,
			      uint64_t elapsed_ns, uint32_t pps);

/* Leave the under-load state once its hold ran out, publish its time (timer tick). */
void cookie_guard_tick(struct cookie_guard *g, uint64_t now_ns, uint64_t *stats);

/*
 * Within one receive batch, may this datagram wait for the rest? Under
 * load, plain initiations with an all-zero MAC2 go after everything else,
 * so those that carry a MAC2 are served first.
 */
bool cookie_guard_can_wait(const struct cookie_guard *g, const uint8_t *data, size_t len);

/*
 * The XDP budget for initiations without MAC2 under load, per window of
 * 2^XWGP_HS_WINDOW_SHIFT ns (include/xwgp_hs_budget.h), from what the agent
 * spent per AF_XDP frame (busy_ns over frames): half of each window, so
 * the other half stays for initiations with MAC2, responses and the rest.
 * 0 (XDP: its default) when too few frames were measured.
 */
uint32_t cookie_guard_xdp_budget(uint64_t busy_ns, uint64_t frames);

#endif
