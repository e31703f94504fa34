// SPDX-License-Identifier: GPL-2.0
/*
 * xwgp XDP data path (docs/DESIGN.md sections 2-4).
 *
 * Forwards WireGuard transport messages of known sessions by their receiver
 * index: rewrites MACs, IPs, ports, TTL and the receiver index in place, fixes
 * the checksums incrementally, and sends the frame with XDP_TX or a devmap
 * redirect. Everything else of ours (handshakes, roaming, obfuscation, cases
 * the FIB cannot answer) is punted, unmodified, to the agent; everything not
 * ours is passed untouched. The agent's agent/transport.c applies the same
 * transport rule on the slow path; tests/bpf/test_agree.c holds them together.
 *
 * This file is the entry and the order of the steps; the steps live in
 * verdict.h (counting, punting), obfs_xdp.h, route.h (FIB, egress; with
 * nexthop.h where the host does not forward), rewrite.h and xlat.h (an IP
 * header of the other family, IPv4 client <-> IPv6 backend).
 *
 * Every packet bumps XWGP_STAT_RX and exactly one reason counter; punts also
 * bump PUNT_XSK or PUNT_STACK by where they went.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xwgp_abi.h"
#include "xwgp_svl.h"
#include "wg_proto.h"
#include "consts.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "verdict.h"
#include "obfs_xdp.h"
#include "rewrite.h"
#include "route.h"
#include "xlat.h"
#include "local.h"
#include "rate_limit.h"
#include "hs_budget.h"
#include "session.h"
#include "tc_local.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline bool addr_eq(const __u32 a[4], const __u32 b[4], __u8 family)
{
	/* IPv4 compares only the address word, whatever fills the mapping prefix. */
	if (family == XWGP_FAMILY_IPV4)
		return a[3] == b[3];
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static __always_inline bool ep_addr_eq(const struct xwgp_ep *ep, __u8 family, const __u32 addr[4])
{
	return ep->family == family && addr_eq(ep->addr, addr, family);
}

/*
 * Our port, and our address; for a wildcard, whether the destination is one
 * of ours is decided later (p->need_local, bpf/local.h).
 */
static __always_inline bool is_local_ep(const struct xwgp_ep *ep, struct pkt *p)
{
	if (!ep->port || ep->port != p->dport)
		return false;
	if (ep->family != XWGP_FAMILY_NONE)
		return ep_addr_eq(ep, p->family, p->daddr);
	p->need_local = 1;
	return true;
}

/*
 * A fragment or IPv6 packet with extension headers: never forwarded, and
 * never to us, since a WireGuard message is never fragmented nor carries
 * options: to our port and one of our addresses it is dropped, counted
 * (else its reassembly or options would reach the agent's socket past
 * every limit). Transit passes untouched (PASS_NOT_LOCAL for a wildcard).
 */
static __always_inline __u32 hidden_ports_verdict(const struct xwgp_cfg *cfg, struct pkt *p,
						  __u32 reason)
{
	if (!p->ports_hidden ||
	    (!is_local_ep(&cfg->listen, p) && !is_local_ep(&cfg->upstream, p)))
		return reason;
	/* A wildcard's transit becomes PASS_NOT_LOCAL in xwgp_xdp (need_local). */
	return reason == XWGP_STAT_PASS_FRAGMENT ? XWGP_STAT_DROP_FRAGMENT
						 : XWGP_STAT_DROP_IPV6_EXTHDR;
}

static __always_inline __u32 parse_packet(void *data, void *data_end, const struct xwgp_cfg *cfg,
					  struct pkt *p)
{
	__u32 reason = parse_headers(data, data_end, p);

	if (reason == XWGP_STAT_PASS_FRAGMENT || reason == XWGP_STAT_PASS_IPV6_EXTHDR)
		return hidden_ports_verdict(cfg, p, reason);
	if (reason)
		return reason;
	if (is_local_ep(&cfg->listen, p))
		p->side = XWGP_SIDE_CLIENT;
	else if (is_local_ep(&cfg->upstream, p))
		p->side = XWGP_SIDE_SERVER;
	else
		return XWGP_STAT_PASS_NOT_OURS;
	return check_lengths(p);
}

static __always_inline __u32 check_handshake(const struct pkt *p, __u32 size, __u8 side)
{
	if (p->msg_len != size)
		return XWGP_STAT_DROP_MALFORMED;
	return p->side == side ? 0 : XWGP_STAT_DROP_BAD_TYPE;
}

static __always_inline __u32 check_transport(struct pkt *p)
{
	__u8 *m = p->msg;

	if (p->msg_len < WG_TRANSPORT_MIN_LEN)
		return XWGP_STAT_DROP_MALFORMED;
	if ((void *)(m + WG_TRANSPORT_HEADER_LEN) > p->data_end)
		return XWGP_STAT_DROP_MALFORMED;
	p->receiver = get_le32(m + WG_TRANSPORT_OFF_RECEIVER);
	p->plain_len = p->msg_len;
	return p->receiver ? 0 : XWGP_STAT_DROP_INDEX_ZERO;
}

static __always_inline __u32 check_message(const struct xwgp_cfg *cfg, struct pkt *p)
{
	__u8 *m = p->msg;

	if (cfg->max_packet_size && p->msg_len > cfg->max_packet_size)
		return XWGP_STAT_DROP_TOO_BIG;
	if (p->msg_len < WG_HEADER_LEN || (void *)(m + WG_HEADER_LEN) > p->data_end)
		return XWGP_STAT_DROP_MALFORMED;
	if (!wg_header_plain(m)) {
		/* Obfuscated clients only talk to the listen side; backends are vanilla. */
		if ((cfg->flags & XWGP_CFG_OBFS) && p->side == XWGP_SIDE_CLIENT)
			return obfs_classify(cfg, p);
		return XWGP_STAT_DROP_MALFORMED;
	}
	p->type = m[0];
	switch (p->type) {
	case WG_MSG_INITIATION:
		return check_handshake(p, WG_INIT_LEN, XWGP_SIDE_CLIENT);
	case WG_MSG_RESPONSE:
		return check_handshake(p, WG_RESP_LEN, XWGP_SIDE_SERVER);
	case WG_MSG_COOKIE_REPLY:
		return check_handshake(p, WG_COOKIE_REPLY_LEN, XWGP_SIDE_SERVER);
	default:
		return check_transport(p);
	}
}

/*
 * csvl/ssvl (include/xwgp_svl.h): a source the level forbids is dropped; a
 * change the level allows (port at IP level, anything at NONE) is roaming,
 * which the agent validates and records before forwarding.
 */
static __always_inline __u32 check_source(const struct pkt *p, const struct xwgp_ep *peer,
					  __u8 level)
{
	switch (xwgp_svl_verdict(level, ep_addr_eq(peer, p->family, p->saddr),
				 peer->port == p->sport)) {
	case XWGP_SVL_SAME:
		return 0;
	case XWGP_SVL_MOVED:
		return XWGP_STAT_PUNT_ROAM;
	default:
		return XWGP_STAT_DROP_SRC_INVALID;
	}
}

static __always_inline __u32 session_target(struct pkt *p, const struct xwgp_session *s,
					    struct target *t)
{
	if (p->side == XWGP_SIDE_CLIENT) {
		t->src = &s->server_local;
		t->dst = &s->server;
		t->index = s->server_origin_index;
	} else {
		t->src = &s->client_local;
		t->dst = &s->client;
		t->index = s->client_origin_index;
	}
	/* No local address of the target's family: the agent's sockets decide. */
	if (t->src->family != t->dst->family ||
	    (t->dst->family != XWGP_FAMILY_IPV4 && t->dst->family != XWGP_FAMILY_IPV6))
		return XWGP_STAT_PUNT_FAMILY;
	/* IPv4 client <-> IPv6 backend or the reverse: a new IP header (bpf/xlat.h). */
	if (t->dst->family != p->family)
		return xlat_admit(p);
	return 0;
}

/* The destination is the session's local address on that side (an address of ours). */
static __always_inline bool session_local(const struct pkt *p, const struct xwgp_session *s)
{
	const struct xwgp_ep *l = p->side == XWGP_SIDE_CLIENT ? &s->client_local : &s->server_local;

	return ep_addr_eq(l, p->family, p->daddr);
}

/*
 * A forwarded transport packet, in XDP or TC: the session's counters and
 * seen times, and the forward's reason counter. One place for both paths.
 */
static __always_inline void count_forwarded(struct xwgp_session *s, const struct pkt *p,
					    __u64 now, __u32 reason)
{
	__u64 *seen;

	stat_add(reason, p->frame_len);
	if (p->candidate)
		stat_add(XWGP_STAT_ROAM_CANDIDATE, p->frame_len);
	/* Plain message bytes, as the agent counts them (obfuscation excluded). */
	session_count(s, p->side == XWGP_SIDE_CLIENT, p->plain_len);
	/* Signed: the agent may have stored a slightly later timestamp. */
	if ((__s64)(now - s->last_seen_ns) > (__s64)XWGP_LAST_SEEN_GRANULARITY_NS)
		s->last_seen_ns = now; /* rare store: keeps the cache line shared */
	/* A candidate's packets say nothing about the current endpoint. */
	if (p->candidate)
		return;
	seen = p->side == XWGP_SIDE_CLIENT ? &s->client_seen_ns : &s->server_seen_ns;
	if ((__s64)(now - *seen) > (__s64)XWGP_LAST_SEEN_GRANULARITY_NS)
		*seen = now;
}

/* The bpf_fib_lookup of one packet, zeroed: off the program's 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_fib_lookup);
} xwgp_fib_scratch SEC(".maps");

static __always_inline struct bpf_fib_lookup *fib_scratch(void)
{
	__u32 zero = 0;
	struct bpf_fib_lookup *fib = bpf_map_lookup_elem(&xwgp_fib_scratch, &zero);

	if (fib)
		__builtin_memset(fib, 0, sizeof(*fib));
	return fib;
}

/*
 * Transport XDP cannot forward goes to the agent within the source's
 * transport punt budget (bpf/rate_limit.h): roaming, unknown routes and
 * unestablished sessions are reachable by anyone who saw an index.
 */
static __always_inline int transport_verdict(struct xdp_md *ctx, const struct pkt *p,
					     __u32 reason)
{
	if (is_transport_punt(reason))
		reason = transport_punt_admit(p, reason);
	return verdict(ctx, reason, p->frame_len);
}

/*
 * The transport rule up to the route, for XDP and TC alike: the session by
 * receiver index, whether the wildcard destination is ours, established,
 * the source (csvl/ssvl, roaming), the target, obfuscation towards the
 * client, all from one version of the session (bpf/session.h). 0 with *sp,
 * t and *now set, else the reason.
 */
static __always_inline __u32 transport_decide(const struct xwgp_cfg *cfg, struct pkt *p,
					      struct xwgp_session **sp, struct target *t,
					      __u64 *now)
{
	struct xwgp_session *s;
	__u32 reason;

	p->out_len = p->plain_len;
	s = session_lookup(p);
	if (!s) {
		if (p->need_local && !dst_local(p))
			return XWGP_STAT_PASS_NOT_LOCAL;
		return XWGP_STAT_DROP_UNKNOWN_INDEX;
	}
	*sp = s;
	/* Wildcard: the session's local address answers without a lookup. */
	if (p->need_local && !session_local(p, s) && !dst_local(p))
		return XWGP_STAT_PASS_NOT_LOCAL;
	if (p->side == XWGP_SIDE_CLIENT && !(s->flags & XWGP_SF_ESTABLISHED))
		return XWGP_STAT_PUNT_NOT_ESTABLISHED;
	*now = coarse_now_ns();
	if (p->side == XWGP_SIDE_CLIENT)
		reason = check_source(p, &s->client, s->csvl);
	else
		reason = check_source(p, &s->server, s->ssvl);
	if (reason == XWGP_STAT_PUNT_ROAM)
		reason = roam_check(p, s, *now);
	if (!reason)
		reason = session_target(p, s, t);
	if (!reason && p->side == XWGP_SIDE_SERVER && (s->flags & XWGP_SF_OBFS) &&
	    (cfg->flags & XWGP_CFG_OBFS))
		reason = obfs_prepare_encode(cfg, p);
	/* Every verdict above came from one version of the session (bpf/session.h). */
	if (!reason && !session_stable(s, p))
		reason = XWGP_STAT_PUNT_SESSION_BUSY;
	return reason;
}

static __always_inline int forward_transport(struct xdp_md *ctx, const struct xwgp_cfg *cfg,
					     struct pkt *p)
{
	struct bpf_fib_lookup *fib;
	struct xwgp_session *s = NULL;
	struct target t = {};
	__u32 reason, udp_diff = 0;
	__u64 now = 0;
	bool local = false;
	int act, err;

	fib = fib_scratch();
	if (!fib)
		return transport_verdict(ctx, p, XWGP_STAT_PUNT_NO_ROUTE);
	reason = transport_decide(cfg, p, &s, &t, &now);
	if (reason || !s)
		return transport_verdict(ctx, p, reason ? reason : XWGP_STAT_DROP_UNKNOWN_INDEX);
	/* A backend on this host: lo's zero MACs (fib is zeroed), TC takes it there. */
	if (p->side == XWGP_SIDE_CLIENT && local_backend(cfg, t.dst)) {
		/* Across families to a local backend: not proven in the kernel, the agent's. */
		if (p->xlat)
			return transport_verdict(ctx, p, XWGP_STAT_PUNT_FAMILY);
		local = true;
		reason = xdp_local_reserve(ctx, p);
		if (reason)
			return transport_verdict(ctx, p, reason);
		act = XDP_PASS;
		reason = XWGP_STAT_C2S_LOCAL;
	} else {
		reason = fib_route(ctx, ctx->ingress_ifindex, cfg, p, &t, fib, now);
		if (reason)
			return transport_verdict(ctx, p, reason);
		act = egress(ctx, p, fib->ifindex, &reason);
		if (act < 0)
			return transport_verdict(ctx, p, reason);
	}

	if (p->out_len != p->msg_len) {
		/* The nonce goes or comes; if the frame cannot grow, the agent's socket can. */
		err = obfs_resize(ctx, p);
		if (err == -1)
			return transport_verdict(ctx, p, XWGP_STAT_PUNT_OBFS);
		if (err)
			return transport_verdict(ctx, p, XWGP_STAT_DROP_MALFORMED);
	}

	/*
	 * Committed: from here on the packet is modified. The index is plain
	 * text under the obfuscation: de-obfuscate before writing it,
	 * obfuscate after.
	 */
	if (p->obfs == PKT_OBFS_DECODE || p->obfs == PKT_OBFS_DECODE_STRIP)
		udp_diff = obfs_apply(p);
	udp_diff = csum_add(udp_diff, rewrite_index(p, &t));
	if (p->obfs == PKT_OBFS_ENCODE || p->obfs == PKT_OBFS_ENCODE_GROW)
		udp_diff = csum_add(udp_diff, obfs_apply(p));
	if (p->xlat) {
		/*
		 * The other family's IP header: the frame start moves, last, so
		 * that only this step is verified twice (bpf/xlat.h).
		 */
		if (xlat_move(ctx, p, &t))
			return transport_verdict(ctx, p, XWGP_STAT_DROP_NO_HEADROOM);
		xlat_rewrite(p, fib, &t, udp_diff);
	} else {
		rewrite(p, fib, &t, udp_diff);
	}
	/* Rewritten from the session while the agent rewrote it: a mix, never sent. */
	if (!session_stable(s, p))
		return transport_verdict(ctx, p, XWGP_STAT_DROP_SESSION_TORN);
	if (p->vlan && bpf_xdp_adjust_head(ctx, VLAN_HLEN))
		return transport_verdict(ctx, p, XWGP_STAT_DROP_MALFORMED);
	if (local && xdp_local_mark(ctx))
		return transport_verdict(ctx, p, XWGP_STAT_DROP_MALFORMED); /* cannot happen */
	count_forwarded(s, p, now, reason);
	return act;
}

/*
 * Ours, and for whom (XDP and TC alike): a wildcard claims only our own
 * addresses, before any verdict of ours, so transit traffic is passed
 * whatever it looks like; transport forwarded in the kernel waits for its
 * session (transport_decide). Then agent-only mode punts what is ours.
 */
static __always_inline __u32 claim(const struct xwgp_cfg *cfg, struct pkt *p, __u32 reason)
{
	if (p->need_local &&
	    (reason || p->type != WG_MSG_TRANSPORT || (cfg->flags & XWGP_CFG_AGENT_ONLY))) {
		if (!dst_local(p))
			reason = XWGP_STAT_PASS_NOT_LOCAL;
		p->need_local = 0;
	}
	if (!reason && (cfg->flags & XWGP_CFG_AGENT_ONLY))
		reason = XWGP_STAT_PUNT_AGENT_ONLY;
	return reason;
}

SEC("xdp")
int xwgp_xdp(struct xdp_md *ctx)
{
	struct pkt p = {};
	struct xwgp_cfg *cfg;
	__u32 zero = 0, reason;

	p.frame_len = ctx->data_end - ctx->data;
	stat_add(XWGP_STAT_RX, p.frame_len);
	cfg = bpf_map_lookup_elem(&xwgp_cfg, &zero);
	if (!cfg)
		return verdict(ctx, XWGP_STAT_PASS_NOT_OURS, p.frame_len);

	reason = parse_packet((void *)(long)ctx->data, (void *)(long)ctx->data_end, cfg, &p);
	if (!reason)
		reason = check_message(cfg, &p);
	reason = claim(cfg, &p, reason);
	if (!reason && p.type != WG_MSG_TRANSPORT)
		reason = handshake_admit(cfg, &p);
	reason = hs_budget_admit(cfg, &p, reason);
	if (reason)
		return verdict(ctx, reason, p.frame_len);
	return forward_transport(ctx, cfg, &p);
}

/*
 * TC ingress of every device XDP runs on: client transport XDP rewrote for
 * a backend on this host goes into lo (bpf/tc_local.h); everything else
 * continues untouched and uncounted.
 */
SEC("tc")
int xwgp_tc_in(struct __sk_buff *skb)
{
	if (!tc_local_marked(skb))
		return TC_ACT_OK;
	stat_add(XWGP_STAT_TC_C2S_LO, skb->len);
	return bpf_redirect(XWGP_LOOPBACK_IFINDEX, BPF_F_INGRESS);
}

/* Server->client transport of a local backend after the decision: route, rewrite, send. */
static __always_inline int tc_forward(struct __sk_buff *skb, const struct xwgp_cfg *cfg,
				      struct pkt *p)
{
	struct bpf_fib_lookup *fib = fib_scratch();
	struct xwgp_session *s = NULL;
	struct target t = {};
	__u32 reason;
	__u64 now = 0;

	if (!fib)
		return tc_verdict(XWGP_STAT_PUNT_NO_ROUTE, p->frame_len);
	/* One datagram per skb: a GSO super-packet is the agent's (its socket splits it). */
	if (skb->gso_size)
		return tc_verdict(XWGP_STAT_PUNT_GSO, p->frame_len);
	reason = transport_decide(cfg, p, &s, &t, &now);
	if (!reason && !s)
		reason = XWGP_STAT_DROP_UNKNOWN_INDEX;
	/* A local backend to a client of the other family: tc_rewrite keeps the family. */
	if (!reason && p->xlat)
		reason = XWGP_STAT_PUNT_FAMILY;
	if (!reason)
		reason = fib_route(skb, skb->ifindex, cfg, p, &t, fib, now);
	if (reason)
		return tc_verdict(reason, p->frame_len);
	if (tc_linearize(skb, p))
		return tc_verdict(XWGP_STAT_DROP_MALFORMED, p->frame_len);
	if (p->out_len != p->msg_len && tc_resize(skb, p))
		return tc_verdict(XWGP_STAT_PUNT_OBFS, p->frame_len);
	/* Committed: the packet is modified from here on. */
	if (tc_rewrite(skb, p, fib, &t))
		return tc_verdict(XWGP_STAT_DROP_MALFORMED, p->frame_len);
	if (!session_stable(s, p))
		return tc_verdict(XWGP_STAT_DROP_SESSION_TORN, p->frame_len);
	count_forwarded(s, p, now, XWGP_STAT_S2C_LOCAL);
	return bpf_redirect(fib->ifindex, 0);
}

/*
 * TC egress of lo: what a backend on this host sends to our upstream port
 * (bpf/tc_local.h). The same checks as xwgp_xdp for a server->client
 * packet; handshakes and punts continue to the agent's socket. Everything
 * not to our upstream port continues untouched and uncounted.
 */
SEC("tc")
int xwgp_tc_lo(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct xwgp_cfg *cfg;
	__u32 zero = 0, reason;

	cfg = bpf_map_lookup_elem(&xwgp_cfg, &zero);
	if (!cfg || !(cfg->flags & XWGP_CFG_LOCAL_TC))
		return TC_ACT_OK;
	p.frame_len = skb->len;
	reason = parse_packet((void *)(long)skb->data, (void *)(long)skb->data_end, cfg, &p);
	if (p.side != XWGP_SIDE_SERVER || p.vlan)
		return TC_ACT_OK;
	stat_add(XWGP_STAT_TC_LO_RX, p.frame_len);
	if (!reason)
		reason = check_message(cfg, &p);
	reason = claim(cfg, &p, reason);
	if (!reason && p.type != WG_MSG_TRANSPORT)
		reason = XWGP_STAT_PUNT_HANDSHAKE; /* a local backend: no per-source limit */
	if (reason)
		return tc_verdict(reason, p.frame_len);
	return tc_forward(skb, cfg, &p);
}
