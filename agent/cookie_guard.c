// SPDX-License-Identifier: GPL-2.0
/*
 * Cookie replies under load (see cookie_guard.h for the rules). The
 * cryptography is wg_crypto's: wg_mac for the cookie, wg_mac2_verify for
 * MAC2, wg_cookie_seal for the reply, the same code that opens and re-seals
 * the backends' cookie replies.
 */
#include <string.h>

#include <sodium.h>

#include "cookie_guard.h"
#include "wg_crypto.h"
#include "wg_proto.h"
#include "xwgp_agent_stats.h"
#include "xwgp_hs_budget.h"

void cookie_guard_init(struct cookie_guard *g)
{
	memset(g, 0, sizeof(*g));
}

void cookie_guard_wipe(struct cookie_guard *g)
{
	sodium_memzero(g, sizeof(*g));
}

/* A new current secret every 2 minutes, the old one kept one more period. */
static void secret_refresh(struct cookie_guard *g, uint64_t now_ns)
{
	if (g->secret_born_ns && now_ns >= g->secret_born_ns &&
	    now_ns - g->secret_born_ns < COOKIE_SECRET_MAX_AGE_NS)
		return;
	if (g->secret_born_ns) {
		g->cur ^= 1;
		g->have_prev = true;
	}
	randombytes_buf(g->secret[g->cur], sizeof(g->secret[g->cur]));
	g->secret_born_ns = now_ns ? now_ns : 1;
}

void cookie_guard_cookie(struct cookie_guard *g, uint8_t out[static 16], const struct xwgp_ep *src,
			 bool prev, uint64_t now_ns)
{
	uint8_t in[16 + 2];
	size_t n;

	secret_refresh(g, now_ns);
	/* As the kernel's make_cookie: 4 or 16 address bytes, then the port (be16). */
	if (src->family == XWGP_FAMILY_IPV4) {
		memcpy(in, &src->addr[3], 4);
		n = 4;
	} else {
		memcpy(in, src->addr, 16);
		n = 16;
	}
	memcpy(in + n, &src->port, 2);
	wg_mac(out, g->secret[prev ? g->cur ^ 1 : g->cur], in, n + 2);
}

static void stat_set(uint64_t *stats, enum xwgp_agent_stat i, uint64_t v)
{
	if (stats)
		stats[i] = v;
}

static void load_account(struct cookie_guard *g, uint64_t now_ns, uint64_t *stats)
{
	stat_set(stats, XWGP_AGENT_STAT_UNDER_LOAD_MS,
		 g->load_ms_base + (now_ns - g->load_since_ns) / 1000000u);
}

void cookie_guard_tick(struct cookie_guard *g, uint64_t now_ns, uint64_t *stats)
{
	if (!g->under_load)
		return;
	if (now_ns < g->load_until_ns) {
		load_account(g, now_ns, stats);
		return;
	}
	load_account(g, g->load_until_ns, stats);
	g->under_load = false;
	stat_set(stats, XWGP_AGENT_STAT_UNDER_LOAD, 0);
}

void cookie_guard_xdp_refused(struct cookie_guard *g, uint64_t now_ns, uint64_t refused,
			      uint64_t elapsed_ns, uint32_t pps)
{
	if (!g->under_load || !elapsed_ns || !refused)
		return;
	/* refused / elapsed >= pps / 1 s, without overflow for any u32 pps */
	if ((double)refused * 1e9 >= (double)pps * (double)elapsed_ns)
		g->load_until_ns = now_ns + COOKIE_LOAD_HOLD_NS;
}

/* Count one initiation; true while under load (cookie_guard.h: the rule). */
static bool load_count(struct cookie_guard *g, uint64_t now_ns, uint32_t pps, uint64_t *stats)
{
	/* Per window: pps / 10 at 100 ms, at least 1 (so pps 1..9 still mean something). */
	uint64_t limit = (uint64_t)pps * COOKIE_LOAD_WINDOW_NS / 1000000000ull;

	if (now_ns < g->win_start_ns || now_ns - g->win_start_ns >= COOKIE_LOAD_WINDOW_NS) {
		g->win_start_ns = now_ns;
		g->win_count = 0;
	}
	if (g->win_count < UINT32_MAX)
		g->win_count++;
	if (!pps || g->win_count > (limit ? limit : 1)) {
		if (!g->under_load) {
			g->under_load = true;
			g->load_since_ns = now_ns;
			g->load_ms_base = stats ? stats[XWGP_AGENT_STAT_UNDER_LOAD_MS] : 0;
			if (stats)
				stats[XWGP_AGENT_STAT_UNDER_LOAD_ENTERED]++;
			stat_set(stats, XWGP_AGENT_STAT_UNDER_LOAD, 1);
		}
		g->load_until_ns = now_ns + COOKIE_LOAD_HOLD_NS;
	}
	cookie_guard_tick(g, now_ns, stats);
	return g->under_load;
}

static bool mac2_is_zero(const uint8_t *msg)
{
	static const uint8_t zero[WG_MAC_LEN];

	return !memcmp(msg + WG_INIT_OFF_MAC2, zero, WG_MAC_LEN);
}

enum cookie_verdict cookie_guard_check(struct cookie_guard *g, const uint8_t *msg,
				       const struct xwgp_ep *src, uint64_t now_ns,
				       uint32_t under_load, uint64_t *stats)
{
	bool loaded = load_count(g, now_ns, under_load, stats);
	uint8_t cookie[WG_COOKIE_LEN];
	bool valid;

	if (mac2_is_zero(msg))
		return loaded ? COOKIE_SEND_REPLY : COOKIE_PROCESS;
	cookie_guard_cookie(g, cookie, src, false, now_ns);
	valid = !wg_mac2_verify(msg, WG_INIT_LEN, cookie);
	if (!valid && g->have_prev) {
		cookie_guard_cookie(g, cookie, src, true, now_ns);
		valid = !wg_mac2_verify(msg, WG_INIT_LEN, cookie);
	}
	sodium_memzero(cookie, sizeof(cookie));
	if (stats)
		stats[valid ? XWGP_AGENT_STAT_MAC2_VALID : XWGP_AGENT_STAT_MAC2_INVALID]++;
	if (valid)
		return COOKIE_PROCESS_MAC2;
	/* Not ours: maybe a backend's cookie (not under load: passed on as it is). */
	if (!loaded)
		return COOKIE_PROCESS;
	if (g->invalid_win != now_ns >> XWGP_HS_WINDOW_SHIFT) {
		g->invalid_win = now_ns >> XWGP_HS_WINDOW_SHIFT;
		g->invalid_replies = 0;
	}
	if (g->invalid_replies >= COOKIE_INVALID_REPLIES) {
		if (stats)
			stats[XWGP_AGENT_STAT_MAC2_INVALID_DROPPED]++;
		return COOKIE_DROP;
	}
	g->invalid_replies++;
	return COOKIE_SEND_REPLY;
}

void cookie_guard_reply(struct cookie_guard *g, uint8_t out[static 64], const uint8_t *msg,
			const struct xwgp_ep *src, const uint8_t cookie_key[static 32],
			uint64_t now_ns)
{
	uint8_t cookie[WG_COOKIE_LEN];

	memset(out, 0, WG_COOKIE_REPLY_LEN);
	out[0] = WG_MSG_COOKIE_REPLY;
	/* The receiver is the initiator's sender index, as it is on the wire (le32). */
	memcpy(out + WG_COOKIE_OFF_RECEIVER, msg + WG_INIT_OFF_SENDER, 4);
	randombytes_buf(out + WG_COOKIE_OFF_NONCE, 24);
	cookie_guard_cookie(g, cookie, src, false, now_ns);
	wg_cookie_seal(out, cookie, cookie_key, msg + WG_INIT_OFF_MAC1);
	sodium_memzero(cookie, sizeof(cookie));
}

bool cookie_guard_can_wait(const struct cookie_guard *g, const uint8_t *data, size_t len)
{
	return g->under_load && len == WG_INIT_LEN && data[0] == WG_MSG_INITIATION && !data[1] &&
	       !data[2] && !data[3] && mac2_is_zero(data);
}

uint32_t cookie_guard_xdp_budget(uint64_t busy_ns, uint64_t frames)
{
	uint64_t per_frame, limit;

	if (frames < 256 || !busy_ns)
		return 0;
	per_frame = busy_ns / frames ? busy_ns / frames : 1;
	limit = ((1ull << XWGP_HS_WINDOW_SHIFT) / 2) / per_frame;
	if (limit < 64)
		limit = 64; /* a few cookies always go out */
	return limit > (1u << 20) ? 1u << 20 : (uint32_t)limit;
}
