// SPDX-License-Identifier: GPL-2.0
/*
 * Slow-path transport forwarding: the rule of bpf/xwgp.bpf.c, step for step,
 * for packets the agent receives itself. tests/bpf/test_agree.c runs both on
 * the same inputs; keep the order of the checks identical to XDP's, since the
 * first failing check decides the reason that is counted.
 */
#include <string.h>

#include "byteorder.h"
#include "local_addrs.h"
#include "transport.h"
#include "wg_proto.h"
#include "xwgp_svl.h"

/* Session last_seen_ns is written only when it moved by more than this (as XDP). */
#define LAST_SEEN_GRANULARITY_NS 1000000000ULL

int transport_parse(const uint8_t *payload, size_t len, uint32_t max_packet_size,
		    uint32_t *receiver)
{
	uint32_t idx;

	if (max_packet_size && len > max_packet_size)
		return -XWGP_STAT_DROP_TOO_BIG;
	if (len < WG_HEADER_LEN || !wg_header_plain(payload))
		return -XWGP_STAT_DROP_MALFORMED;
	if (payload[0] != WG_MSG_TRANSPORT)
		return -XWGP_STAT_DROP_BAD_TYPE;
	if (len < WG_TRANSPORT_MIN_LEN)
		return -XWGP_STAT_DROP_MALFORMED;
	idx = get_le32(payload + WG_TRANSPORT_OFF_RECEIVER);
	if (!idx)
		return -XWGP_STAT_DROP_INDEX_ZERO;
	*receiver = idx;
	return 0;
}

/* IPv4 compares only the address word, whatever fills the mapping prefix (as XDP). */
static bool ep_addr_eq(const struct xwgp_ep *a, const struct xwgp_ep *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == XWGP_FAMILY_IPV4)
		return a->addr[3] == b->addr[3];
	return !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/*
 * csvl/ssvl (include/xwgp_svl.h). Returns 0 when the source is the stored
 * one, 1 when it differs in a way the level allows (roaming),
 * -XWGP_STAT_DROP_SRC_INVALID otherwise.
 */
static int check_source(const struct xwgp_ep *peer, const struct xwgp_ep *from, uint8_t level)
{
	switch (xwgp_svl_verdict(level, ep_addr_eq(peer, from), peer->port == from->port)) {
	case XWGP_SVL_SAME:
		return 0;
	case XWGP_SVL_MOVED:
		return 1;
	default:
		return -XWGP_STAT_DROP_SRC_INVALID;
	}
}

bool transport_from_current(const struct xwgp_session *s, enum xwgp_side side,
			    const struct xwgp_ep *from)
{
	const struct xwgp_ep *peer = side == XWGP_SIDE_CLIENT ? &s->client : &s->server;

	return ep_addr_eq(peer, from) && peer->port == from->port;
}

/*
 * A new source the level allows (bpf/local.h's roam_check is the XDP
 * twin): refused when martian; a candidate while the current endpoint is
 * active; else remembered, and followed on its second packet. Returns a
 * negative reason, 0 (forward as a candidate) or 1 (move to from).
 */
static int roam_check(const struct xwgp_session *s, enum xwgp_side side,
		      const struct xwgp_ep *from, uint64_t now_ns,
		      const struct transport_roam *roam, struct transport_out *out)
{
	uint64_t seen = side == XWGP_SIDE_CLIENT ? s->client_seen_ns : s->server_seen_ns;
	int ret = -(int)xwgp_martian_stat(local_addrs_martian(roam ? roam->local : NULL, from));

	if (ret)
		return ret;
	if (s->created_ns > seen)
		seen = s->created_ns;
	if (roam && roam->agent_seen_ns > seen)
		seen = roam->agent_seen_ns;
	if ((int64_t)(now_ns - seen) < (int64_t)XWGP_ROAM_QUIET_NS) {
		out->candidate = true;
		return 0;
	}
	out->cand_changed = true;
	if (roam && ep_addr_eq(&roam->cand, from) && roam->cand.port == from->port) {
		memset(&out->cand, 0, sizeof(out->cand)); /* followed: no candidate left */
		return 1;
	}
	out->cand = *from;
	out->candidate = true;
	return 0;
}

/* The session key the receiver index must have led to. */
static uint32_t session_index(const struct xwgp_session *s, enum xwgp_side side)
{
	return side == XWGP_SIDE_CLIENT ? s->server_proxy_index : s->client_proxy_index;
}

static void session_account(struct xwgp_session *s, enum xwgp_side side, size_t len,
			    uint64_t now_ns, bool candidate)
{
	__u64 *seen = side == XWGP_SIDE_CLIENT ? &s->client_seen_ns : &s->server_seen_ns;

	if (side == XWGP_SIDE_CLIENT) {
		s->c2s_packets++;
		s->c2s_bytes += len;
	} else {
		s->s2c_packets++;
		s->s2c_bytes += len;
	}
	if ((int64_t)(now_ns - s->last_seen_ns) > (int64_t)LAST_SEEN_GRANULARITY_NS)
		s->last_seen_ns = now_ns;
	if (!candidate && (int64_t)(now_ns - *seen) > (int64_t)LAST_SEEN_GRANULARITY_NS)
		*seen = now_ns;
}

int transport_forward(struct xwgp_session *s, enum xwgp_side side, const struct xwgp_ep *from,
		      const struct xwgp_ep *to, uint8_t *payload, size_t len, uint64_t now_ns,
		      const struct transport_roam *roam, struct transport_out *out)
{
	bool c2s = side == XWGP_SIDE_CLIENT;
	struct xwgp_ep *peer = c2s ? &s->client : &s->server;
	struct xwgp_ep *peer_local = c2s ? &s->client_local : &s->server_local;
	const struct xwgp_ep *dst = c2s ? &s->server : &s->client;
	struct transport_out o;
	uint32_t receiver;
	int ret;

	ret = transport_parse(payload, len, 0, &receiver);
	if (ret)
		return ret;
	if (receiver != session_index(s, side))
		return -XWGP_STAT_DROP_UNKNOWN_INDEX;
	/* XDP punts these (PUNT_NOT_ESTABLISHED); without a backend index
	 * there is nothing to forward to, so the agent drops. */
	if (c2s && !(s->flags & XWGP_SF_ESTABLISHED))
		return -XWGP_STAT_DROP_UNKNOWN_INDEX;
	ret = check_source(peer, from, c2s ? s->csvl : s->ssvl);
	if (ret < 0)
		return ret;
	memset(&o, 0, sizeof(o));
	if (ret > 0)
		ret = roam_check(s, side, from, now_ns, roam, &o);
	if (ret < 0)
		return ret;
	/* Where XDP says PUNT_FAMILY: a socket sends to any family, but not to none. */
	if (dst->family == XWGP_FAMILY_NONE)
		return -XWGP_STAT_DROP_UNKNOWN_INDEX;

	*out = o;
	if (ret > 0) {
		*peer = *from;
		if (to && to->family != XWGP_FAMILY_NONE)
			*peer_local = *to;
		out->endpoint_changed = true;
	}
	if (c2s) {
		out->src = s->server_local;
		out->dst = s->server;
		put_le32(payload + WG_TRANSPORT_OFF_RECEIVER, s->server_origin_index);
	} else {
		out->src = s->client_local;
		out->dst = s->client;
		put_le32(payload + WG_TRANSPORT_OFF_RECEIVER, s->client_origin_index);
	}
	session_account(s, side, len, now_ns, out->candidate);
	return 0;
}
