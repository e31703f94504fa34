/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The slow-path twin of the XDP transport rule (bpf/xwgp.bpf.c): validate and
 * rewrite a WireGuard transport message for the agent to send through its
 * UDP sockets. Used for transport packets that reach the agent (punted by
 * XDP, or with XDP detached). Pure functions: no maps, no sockets, no clock.
 *
 * Same rules as XDP: size limit, header, length >= 32, index 0, the session
 * lookup key, csvl/ssvl, which index is written, per-session counters. Not
 * here because they only make sense in XDP: FIB, devmap, punting, address
 * family (a socket can send to either family).
 *
 * Errors are negative enum xwgp_stat reasons (-XWGP_STAT_DROP_*), which the
 * caller counts and drops on; never -errno.
 */
#ifndef XWGP_TRANSPORT_H
#define XWGP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xwgp_abi.h"

struct local_addrs;

struct transport_out {
	struct xwgp_ep src;    /* our address to send from (family NONE: any) */
	struct xwgp_ep dst;    /* where to send */
	bool endpoint_changed; /* roaming accepted: write the session back */
	bool candidate;	       /* from a roaming candidate: the current endpoint is not refreshed */
	bool cand_changed;     /* store cand as the side's candidate (family NONE: clear it) */
	struct xwgp_ep cand;
};

/*
 * What roaming needs beyond the session (all optional: zero means none):
 * a later time the side's current endpoint was heard than the session's
 * seen time (the agent's transport moves that time itself since issue 13,
 * so the handler passes 0), the side's candidate (wgit_roam_cand), and the
 * local-address table for the martian check.
 */
struct transport_roam {
	const struct local_addrs *local;
	uint64_t agent_seen_ns;
	struct xwgp_ep cand;
};

/*
 * First step for a UDP payload whose header says transport: check it and
 * return in *receiver the index to look the session up by: the server proxy
 * index on the client side, the client proxy index on the server side
 * (wgit_session_by_server_index, wgit_session_get). max_packet_size 0 means no limit.
 * Returns 0, or -XWGP_STAT_DROP_TOO_BIG, -XWGP_STAT_DROP_MALFORMED (short or
 * not a plain WireGuard header), -XWGP_STAT_DROP_BAD_TYPE (a plain header of
 * another type: the caller's dispatch is wrong), -XWGP_STAT_DROP_INDEX_ZERO.
 * A missing session is the caller's -XWGP_STAT_DROP_UNKNOWN_INDEX.
 */
int transport_parse(const uint8_t *payload, size_t len, uint32_t max_packet_size,
		    uint32_t *receiver);

/*
 * Validate the message (payload = UDP payload of len bytes) that arrived
 * from `from` on our local endpoint `to` (may be NULL if unknown) against
 * session s, found by the receiver index transport_parse() returned.
 *
 * Returns 0 when it must be forwarded: the receiver index in payload is
 * rewritten (server origin index towards the server, client origin index
 * towards the client), out->src/out->dst say where to send it, and the
 * session's counters and last_seen_ns (now_ns, CLOCK_BOOTTIME; written only
 * when it moved by more than a second, like XDP) are updated.
 * A new source the level allows (csvl/ssvl NONE: new address or port; IP:
 * new port) is refused when it is a martian (-XWGP_STAT_DROP_SRC_*, as XDP).
 * Else, while the side's current endpoint sent within XWGP_ROAM_QUIET_NS, it
 * is a candidate: forwarded, the session unchanged (out->candidate). Once the
 * current endpoint is silent, its first packet makes it the side's candidate
 * (out->cand_changed) and the next one moves the session: s->client or
 * s->server (and the local endpoint facing that peer, to `to`) change and
 * out->endpoint_changed is set. roam may be NULL.
 *
 * Returns a negative reason when it must be dropped: the transport_parse()
 * ones (payload is rechecked), -XWGP_STAT_DROP_UNKNOWN_INDEX when the index
 * is not this session's or the session has no usable peer yet (client side
 * without XWGP_SF_ESTABLISHED, or the target endpoint family is NONE),
 * -XWGP_STAT_DROP_SRC_INVALID when the source fails validation. On any error
 * neither payload nor s is modified.
 */
int transport_forward(struct xwgp_session *s, enum xwgp_side side, const struct xwgp_ep *from,
		      const struct xwgp_ep *to, uint8_t *payload, size_t len, uint64_t now_ns,
		      const struct transport_roam *roam, struct transport_out *out);

/* from is the side's stored endpoint (no roaming question to ask). */
bool transport_from_current(const struct xwgp_session *s, enum xwgp_side side,
			    const struct xwgp_ep *from);

#endif /* XWGP_TRANSPORT_H */
