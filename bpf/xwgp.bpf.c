// SPDX-License-Identifier: GPL-2.0
/*
 * xwgp XDP data path (DESIGN.md sections 2-4).
 *
 * Forwards WireGuard transport messages of known sessions by their receiver
 * index: rewrites MACs, IPs, ports, TTL and the receiver index in place, fixes
 * the checksums incrementally, and sends the frame with XDP_TX or a devmap
 * redirect. Everything else of ours (handshakes, roaming, obfuscation, cases
 * the FIB cannot answer) is punted, unmodified, to the agent; everything not
 * ours is passed untouched. The agent's agent/transport.c applies the same
 * transport rule on the slow path; tests/bpf/test_agree.c holds them together.
 *
 * Every packet bumps XWGP_STAT_RX and exactly one reason counter; punts also
 * bump PUNT_XSK or PUNT_STACK by where they went.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xwgp_abi.h"
#include "wg_proto.h"
#include "consts.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "obfs.h"
#include "fib_cache.h"
#include "hs_budget.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void stat_add(__u32 reason, __u64 bytes)
{
	struct xwgp_stat_val *v = bpf_map_lookup_elem(&xwgp_stats, &reason);

	/* Per-CPU slot: plain increments are race free. */
	if (v) {
		v->packets++;
		v->bytes += bytes;
	}
}

/*
 * Hand the packet, unmodified, to the agent: to its AF_XDP socket on this
 * device and rx queue when one is bound, else (the map's miss action) to
 * the stack, where the agent's UDP socket receives it.
 */
static __always_inline int punt(struct xdp_md *ctx, __u32 reason, __u64 bytes)
{
	__u32 ifindex = ctx->ingress_ifindex, key = ctx->rx_queue_index, *slot;
	long act;

	stat_add(reason, bytes);
	slot = bpf_map_lookup_elem(&xwgp_xsk_slot, &ifindex);
	if (slot && key < XWGP_MAX_QUEUES_PER_DEV)
		act = bpf_redirect_map(&xwgp_xsks, *slot * XWGP_MAX_QUEUES_PER_DEV + key, XDP_PASS);
	else
		act = XDP_PASS; /* no AF_XDP socket registered for this device */
	stat_add(act == XDP_REDIRECT ? XWGP_STAT_PUNT_XSK : XWGP_STAT_PUNT_STACK, bytes);
	return act;
}

/* The action of a pass, punt or drop reason (forwarding is counted apart). */
static __always_inline int verdict(struct xdp_md *ctx, __u32 reason, __u64 bytes)
{
	switch (reason) {
	case XWGP_STAT_PASS_NOT_OURS:
	case XWGP_STAT_PASS_FRAGMENT:
	case XWGP_STAT_PASS_IPV6_EXTHDR:
		stat_add(reason, bytes);
		return XDP_PASS;
	case XWGP_STAT_PUNT_HANDSHAKE:
	case XWGP_STAT_PUNT_NO_ROUTE:
	case XWGP_STAT_PUNT_NO_NEIGH:
	case XWGP_STAT_PUNT_NO_DEVMAP:
	case XWGP_STAT_PUNT_FAMILY:
	case XWGP_STAT_PUNT_ROAM:
	case XWGP_STAT_PUNT_NOT_ESTABLISHED:
	case XWGP_STAT_PUNT_OBFS:
	case XWGP_STAT_PUNT_AGENT_ONLY:
		return punt(ctx, reason, bytes);
	default:
		stat_add(reason, bytes);
		return XDP_DROP;
	}
}

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

/* Our port, and our address unless the configured one is a wildcard. */
static __always_inline bool is_local_ep(const struct xwgp_ep *ep, const struct pkt *p)
{
	if (!ep->port || ep->port != p->dport)
		return false;
	return ep->family == XWGP_FAMILY_NONE || ep_addr_eq(ep, p->family, p->daddr);
}

static __always_inline __u32 parse_packet(struct xdp_md *ctx, const struct xwgp_cfg *cfg,
					  struct pkt *p)
{
	struct hdr_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	__be16 proto;
	__u32 reason;

	p->data_end = c.end;
	if (parse_eth(&c, p, &proto))
		return XWGP_STAT_PASS_NOT_OURS;
	if (proto == bpf_htons(ETH_P_IP))
		reason = parse_ipv4(&c, p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		reason = parse_ipv6(&c, p);
	else
		return XWGP_STAT_PASS_NOT_OURS;
	if (reason)
		return reason;
	if (parse_udp(&c, p))
		return XWGP_STAT_PASS_NOT_OURS;
	if (is_local_ep(&cfg->listen, p))
		p->side = SIDE_CLIENT;
	else if (is_local_ep(&cfg->upstream, p))
		p->side = SIDE_SERVER;
	else
		return XWGP_STAT_PASS_NOT_OURS;
	return check_lengths(p);
}

/* Type byte 1..4 followed by three zero bytes. */
static __always_inline bool wg_header_plain(const __u8 *m)
{
	return m[0] >= WG_MSG_INITIATION && m[0] <= WG_MSG_TRANSPORT && !m[1] && !m[2] && !m[3];
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

/*
 * The header an obfuscated handshake/cookie message decodes to: its fixed
 * size and whether byte 1 may carry the random-MAC2 flag. 0 on no such type.
 */
static __always_inline __u32 obfs_handshake_size(__u8 type, __u8 flag)
{
	switch (type) {
	case WG_MSG_INITIATION:
		return flag <= OBFS_FLAG ? WG_INIT_LEN : 0;
	case WG_MSG_RESPONSE:
		return flag <= OBFS_FLAG ? WG_RESP_LEN : 0;
	case WG_MSG_COOKIE_REPLY:
		return flag ? 0 : WG_COOKIE_REPLY_LEN; /* no flag for cookies */
	default:
		return 0;
	}
}

/*
 * A client message that is not plain WireGuard, with obfuscation on: key_0
 * from its nonce (the last 16 bytes) reveals the header without touching
 * the packet. Transport goes on and is de-obfuscated when it is forwarded;
 * handshakes go to the agent, unmodified, as plain ones do. The checks are
 * those of agent/obfs.c's obfs_decode plus the handler's, so both paths
 * refuse the same packets for the same reasons.
 */
static __always_inline __u32 obfs_classify(const struct xwgp_cfg *cfg, struct pkt *p)
{
	struct obfs_lanes K;
	struct obfs_xor x;
	__u8 *m = p->msg, *nonce, type, flag;
	__u32 size, off;
	__u64 hdr;

	if (p->msg_len < WG_TRANSPORT_MIN_LEN)
		return XWGP_STAT_DROP_MALFORMED; /* a runt is never decoded */
	off = p->msg_len - OBFS_NONCE_LEN;
	if (off > OBFS_XDP_MAX_OFF)
		return XWGP_STAT_PUNT_OBFS;
	nonce = m + (off & OBFS_XDP_MAX_OFF);
	if ((void *)(m + WG_TRANSPORT_HEADER_LEN) > p->data_end ||
	    (void *)(nonce + OBFS_NONCE_LEN) > p->data_end)
		return XWGP_STAT_DROP_MALFORMED;
	p->nonce0 = load_raw64(nonce);
	p->nonce1 = load_raw64(nonce + 8);
	obfs_lanes_load(&K, cfg);
	obfs_keys(&K, p->nonce0, p->nonce1, &x);
	hdr = load_raw64(m) ^ x.w0;
	type = hdr;
	flag = hdr >> 8;
	if ((hdr >> 16) & 0xffff)
		return XWGP_STAT_DROP_OBFS_UNDECODABLE;
	if (type != WG_MSG_TRANSPORT) {
		size = obfs_handshake_size(type, flag);
		if (!size || p->msg_len < size + OBFS_NONCE_LEN)
			return XWGP_STAT_DROP_OBFS_UNDECODABLE;
		p->type = type;
		return type == WG_MSG_INITIATION ? 0 : XWGP_STAT_DROP_BAD_TYPE;
	}
	if (flag > OBFS_FLAG)
		return XWGP_STAT_DROP_OBFS_UNDECODABLE;
	p->type = WG_MSG_TRANSPORT;
	p->obfs = flag ? PKT_OBFS_DECODE_STRIP : PKT_OBFS_DECODE;
	p->plain_len = flag ? p->msg_len - OBFS_NONCE_LEN : p->msg_len;
	if (p->plain_len < WG_TRANSPORT_MIN_LEN)
		return XWGP_STAT_DROP_MALFORMED;
	p->obfs_w0 = x.w0;
	p->obfs_w1 = x.w1;
	p->receiver = hdr >> 32; /* bytes 4-7, little-endian */
	return p->receiver ? 0 : XWGP_STAT_DROP_INDEX_ZERO;
}

/* Size limit, then the WireGuard header, exact sizes and direction. */
static __always_inline __u32 check_message(const struct xwgp_cfg *cfg, struct pkt *p)
{
	__u8 *m = p->msg;

	if (cfg->max_packet_size && p->msg_len > cfg->max_packet_size)
		return XWGP_STAT_DROP_TOO_BIG;
	if (p->msg_len < WG_HEADER_LEN || (void *)(m + WG_HEADER_LEN) > p->data_end)
		return XWGP_STAT_DROP_MALFORMED;
	if (!wg_header_plain(m)) {
		/* Obfuscated clients only talk to the listen side; backends are vanilla. */
		if ((cfg->flags & XWGP_CFG_OBFS) && p->side == SIDE_CLIENT)
			return obfs_classify(cfg, p);
		return XWGP_STAT_DROP_MALFORMED;
	}
	p->type = m[0];
	switch (p->type) {
	case WG_MSG_INITIATION:
		return check_handshake(p, WG_INIT_LEN, SIDE_CLIENT);
	case WG_MSG_RESPONSE:
		return check_handshake(p, WG_RESP_LEN, SIDE_SERVER);
	case WG_MSG_COOKIE_REPLY:
		return check_handshake(p, WG_COOKIE_REPLY_LEN, SIDE_SERVER);
	default:
		return check_transport(p);
	}
}

/*
 * GCRA per source address: each admitted punt pushes the theoretical arrival
 * time (TAT) one emission interval further; a packet is refused while TAT is
 * more than the burst tolerance ahead of now. LRU eviction of a source only
 * ever gives it a fresh bucket.
 */
static __always_inline __u32 handshake_admit(const struct xwgp_cfg *cfg, const struct pkt *p)
{
	struct xwgp_rl_key key;
	struct xwgp_rl_val *v, nv;
	__u64 now, interval, tolerance, tat;
	__u32 burst = cfg->punt_burst ? cfg->punt_burst : 1;

	if (!cfg->punt_rate_pps)
		return XWGP_STAT_PUNT_HANDSHAKE;
	interval = XWGP_NSEC_PER_SEC / cfg->punt_rate_pps;
	tolerance = (__u64)(burst - 1) * interval;
	__builtin_memcpy(key.addr, p->saddr, sizeof(key.addr));
	now = bpf_ktime_get_boot_ns();
	v = bpf_map_lookup_elem(&xwgp_punt_rl, &key);
	tat = v && v->tat_ns > now ? v->tat_ns : now;
	if (tat - now > tolerance)
		return XWGP_STAT_DROP_RATE_LIMITED;
	nv.tat_ns = tat + interval;
	if (v)
		v->tat_ns = nv.tat_ns; /* racing CPUs may lose an update: harmless */
	else
		bpf_map_update_elem(&xwgp_punt_rl, &key, &nv, BPF_ANY);
	return XWGP_STAT_PUNT_HANDSHAKE;
}

/* Client->server: by server proxy index, through the index map. */
static __always_inline struct xwgp_session *session_lookup(const struct pkt *p)
{
	__u32 key = p->receiver;
	__u32 *client_proxy;

	if (p->side == SIDE_CLIENT) {
		client_proxy = bpf_map_lookup_elem(&xwgp_srv_index, &key);
		if (!client_proxy)
			return NULL;
		key = *client_proxy;
	}
	return bpf_map_lookup_elem(&xwgp_sessions, &key);
}

/*
 * csvl/ssvl: a source the level forbids is dropped; a change the level
 * allows (port at IP level, anything at NONE) is roaming, which the agent
 * validates and records before forwarding. Unknown levels act as IP_PORT.
 */
static __always_inline __u32 check_source(const struct pkt *p, const struct xwgp_ep *peer,
					  __u8 level)
{
	bool addr_ok = ep_addr_eq(peer, p->family, p->saddr);
	bool port_ok = peer->port == p->sport;

	if (level == XWGP_SVL_NONE)
		return addr_ok && port_ok ? 0 : XWGP_STAT_PUNT_ROAM;
	if (level == XWGP_SVL_IP) {
		if (!addr_ok)
			return XWGP_STAT_DROP_SRC_INVALID;
		return port_ok ? 0 : XWGP_STAT_PUNT_ROAM;
	}
	return addr_ok && port_ok ? 0 : XWGP_STAT_DROP_SRC_INVALID;
}

/* Where a forwarded packet goes, from which local endpoint, with which index. */
struct target {
	const struct xwgp_ep *src;
	const struct xwgp_ep *dst;
	__u32 index;
};

static __always_inline __u32 session_target(const struct pkt *p, const struct xwgp_session *s,
					    struct target *t)
{
	if (p->side == SIDE_CLIENT) {
		t->src = &s->server_local;
		t->dst = &s->server;
		t->index = s->server_origin_index;
	} else {
		t->src = &s->client_local;
		t->dst = &s->client;
		t->index = s->client_origin_index;
	}
	/* No address family translation in XDP: the agent's sockets do that. */
	if (t->dst->family != p->family || t->src->family != p->family)
		return XWGP_STAT_PUNT_FAMILY;
	return 0;
}

static __always_inline __u32 fib_route(struct xdp_md *ctx, const struct xwgp_cfg *cfg,
				       const struct pkt *p, const struct target *t,
				       struct bpf_fib_lookup *fib, __u64 now)
{
	struct xwgp_fib_cache_entry *e;
	__u64 key[XWGP_FIB_KEY_WORDS];
	__u16 tot_len = p->ip_hlen + sizeof(struct udphdr) + p->out_len; /* vs. the egress MTU */
	long rc;

	fib->l4_protocol = IPPROTO_UDP;
	fib->sport = t->src->port;
	fib->dport = t->dst->port;
	fib->ifindex = ctx->ingress_ifindex; /* input route: iif rules apply */
	if (p->family == XWGP_FAMILY_IPV4) {
		fib->family = AF_INET;
		fib->tos = p->iph->tos;
		fib->ipv4_src = t->src->addr[3];
		fib->ipv4_dst = t->dst->addr[3];
	} else {
		fib->family = AF_INET6;
		fib->flowinfo = *(__be32 *)p->ip6h & bpf_htonl(IPV6_FLOWINFO_MASK);
		__builtin_memcpy(fib->ipv6_src, t->src->addr, sizeof(fib->ipv6_src));
		__builtin_memcpy(fib->ipv6_dst, t->dst->addr, sizeof(fib->ipv6_dst));
	}
	e = fib_cache_slot(p->receiver, p->side);
	if (fib_cache_get(e, fib, tot_len, now, cfg->fib_cache_ms))
		return 0;
	/* The lookup overwrites ifindex and the TOS/flow word: keep the request. */
	__builtin_memcpy(key, fib_key_words(fib), sizeof(key));
	fib->tot_len = tot_len;
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		/* Unicast route with a resolved neighbour: ifindex, smac, dmac set. */
		fib_cache_put(e, key, fib, tot_len, now, cfg->fib_cache_ms);
		return 0;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		/* Route found but no valid neighbour entry: the stack resolves it
		 * (ARP/ND) when the agent sends through its socket. */
		return XWGP_STAT_PUNT_NO_NEIGH;
	case BPF_FIB_LKUP_RET_BLACKHOLE:    /* blackhole route: the stack drops it */
	case BPF_FIB_LKUP_RET_UNREACHABLE:  /* unreachable route: the stack reports it */
	case BPF_FIB_LKUP_RET_PROHIBIT:	    /* prohibit route: likewise */
	case BPF_FIB_LKUP_RET_NOT_FWDED:    /* no route, or the backend is local/broadcast */
	case BPF_FIB_LKUP_RET_FWD_DISABLED: /* forwarding sysctl off on the ingress device */
	case BPF_FIB_LKUP_RET_UNSUPP_LWT:   /* lightweight-tunnel route needs the stack */
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:  /* above the egress MTU: the socket fragments */
	case BPF_FIB_LKUP_RET_NO_SRC_ADDR:  /* only with BPF_FIB_LOOKUP_SRC, unused */
	default:			    /* negative errno: parameters the kernel rejected */
		return XWGP_STAT_PUNT_NO_ROUTE;
	}
}

/*
 * XDP_TX back out of the ingress device, or a redirect when the egress
 * device is in the devmap. bpf_redirect_map() returns its flags argument
 * (XDP_PASS here) on a miss without redirecting, so the packet is still
 * untouched and can be punted.
 */
static __always_inline int egress(struct xdp_md *ctx, const struct pkt *p, __u32 ifindex,
				  __u32 *reason)
{
	bool c2s = p->side == SIDE_CLIENT;

	if (ifindex == ctx->ingress_ifindex) {
		*reason = c2s ? XWGP_STAT_C2S_TX : XWGP_STAT_S2C_TX;
		return XDP_TX;
	}
	if (bpf_redirect_map(&xwgp_devmap, ifindex, XDP_PASS) == XDP_REDIRECT) {
		*reason = c2s ? XWGP_STAT_C2S_REDIRECT : XWGP_STAT_S2C_REDIRECT;
		return XDP_REDIRECT;
	}
	*reason = XWGP_STAT_PUNT_NO_DEVMAP;
	return -1;
}

/* Addresses and TTL; returns the UDP checksum diff of the pseudo-header. */
static __always_inline __u32 rewrite_ipv4(struct iphdr *iph, const struct target *t)
{
	__u32 ip_diff = 0, udp_diff = 0;
	__u16 old_word = *(__u16 *)&iph->ttl; /* TTL + protocol, one checksum word */

	iph->ttl = XWGP_TTL;
	ip_diff = csum_diff16(ip_diff, old_word, *(__u16 *)&iph->ttl);
	ip_diff = csum_diff32(ip_diff, iph->saddr, t->src->addr[3]);
	ip_diff = csum_diff32(ip_diff, iph->daddr, t->dst->addr[3]);
	udp_diff = csum_diff32(udp_diff, iph->saddr, t->src->addr[3]);
	udp_diff = csum_diff32(udp_diff, iph->daddr, t->dst->addr[3]);
	iph->saddr = t->src->addr[3];
	iph->daddr = t->dst->addr[3];
	iph->check = csum_apply(iph->check, ip_diff);
	return udp_diff;
}

static __always_inline __u32 rewrite_ipv6(struct ipv6hdr *ip6h, const struct target *t)
{
	__u32 udp_diff = 0;
	int i;

	ip6h->hop_limit = XWGP_TTL; /* not covered by any checksum */
	for (i = 0; i < 4; i++) {
		udp_diff = csum_diff32(udp_diff, ip6h->saddr.in6_u.u6_addr32[i], t->src->addr[i]);
		udp_diff = csum_diff32(udp_diff, ip6h->daddr.in6_u.u6_addr32[i], t->dst->addr[i]);
		ip6h->saddr.in6_u.u6_addr32[i] = t->src->addr[i];
		ip6h->daddr.in6_u.u6_addr32[i] = t->dst->addr[i];
	}
	return udp_diff;
}

/*
 * New MACs from the FIB. A VLAN-tagged frame leaves untagged: the FIB
 * answered with a plain device (it never returns VLAN information), so the
 * new Ethernet header is written 4 bytes later, over the tag, whose
 * encapsulated protocol field already sits where h_proto belongs; the caller
 * then moves the frame start with bpf_xdp_adjust_head().
 */
static __always_inline void rewrite_eth(const struct pkt *p, const struct bpf_fib_lookup *fib)
{
	struct ethhdr *eth = p->eth;

	if (p->vlan) {
		eth = (void *)eth + VLAN_HLEN;
		if ((void *)(eth + 1) > p->data_end)
			return; /* cannot happen: IP and UDP headers follow */
	}
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
}

/* The receiver index; returns its UDP checksum diff. */
static __always_inline __u32 rewrite_index(const struct pkt *p, const struct target *t)
{
	__u8 *rcv = p->msg + WG_TRANSPORT_OFF_RECEIVER;
	__u32 old;

	if ((void *)(rcv + 4) > p->data_end)
		return 0;      /* cannot happen: check_transport() saw 16 bytes */
	old = load_raw32(rcv); /* UDP offset 12: even, so word-aligned for the sum */
	put_le32(rcv, t->index);
	return csum_diff32(0, old, load_raw32(rcv));
}

/* udp_diff: what rewrite_index() and obfs_apply() changed under the UDP checksum. */
static __always_inline void rewrite(const struct pkt *p, const struct bpf_fib_lookup *fib,
				    const struct target *t, __u32 udp_diff)
{
	struct udphdr *udp = p->udp;
	__u32 old;

	rewrite_eth(p, fib);
	if (p->family == XWGP_FAMILY_IPV4)
		udp_diff = csum_add(udp_diff, rewrite_ipv4(p->iph, t));
	else
		udp_diff = csum_add(udp_diff, rewrite_ipv6(p->ip6h, t));

	old = load_raw32(udp); /* source + dest port */
	udp->source = t->src->port;
	udp->dest = t->dst->port;
	udp_diff = csum_diff32(udp_diff, old, load_raw32(udp));

	/* IPv4 UDP checksum 0 means "none" and stays so; IPv6 always has one. */
	if (p->family == XWGP_FAMILY_IPV6 || udp->check)
		udp->check = csum_apply_udp(udp->check, udp_diff);
}

static __always_inline void session_account(struct xwgp_session *s, const struct pkt *p,
					    __u64 now)
{
	/* Plain message bytes, as the agent counts them (obfuscation excluded). */
	if (p->side == SIDE_CLIENT) {
		__sync_fetch_and_add(&s->c2s_packets, 1);
		__sync_fetch_and_add(&s->c2s_bytes, p->plain_len);
	} else {
		__sync_fetch_and_add(&s->s2c_packets, 1);
		__sync_fetch_and_add(&s->s2c_bytes, p->plain_len);
	}
	/* Signed: the agent may have stored a slightly later timestamp. */
	if ((__s64)(now - s->last_seen_ns) > (__s64)XWGP_LAST_SEEN_GRANULARITY_NS)
		s->last_seen_ns = now; /* rare store: keeps the cache line shared */
}

/*
 * Server->client transport of an obfuscating session: keys from the nonce,
 * which is the message's own last 16 bytes (its Poly1305 tag) from 256 bytes
 * on, else 16 random bytes to append (mwgp's rule, agent/obfs.c).
 */
static __always_inline __u32 obfs_prepare_encode(const struct xwgp_cfg *cfg, struct pkt *p)
{
	struct obfs_lanes K;
	struct obfs_xor x;
	__u32 off = p->msg_len - OBFS_NONCE_LEN;
	__u8 *nonce;

	if (p->msg_len < OBFS_TRANSPORT_PAD_BELOW) {
		p->obfs = PKT_OBFS_ENCODE_GROW;
		p->nonce0 = (__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32();
		p->nonce1 = (__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32();
		p->out_len = p->msg_len + OBFS_NONCE_LEN;
	} else {
		if (off > OBFS_XDP_MAX_OFF)
			return XWGP_STAT_PUNT_OBFS;
		nonce = p->msg + (off & OBFS_XDP_MAX_OFF);
		if ((void *)(nonce + OBFS_NONCE_LEN) > p->data_end)
			return XWGP_STAT_DROP_MALFORMED; /* cannot happen: lengths checked */
		p->obfs = PKT_OBFS_ENCODE;
		p->nonce0 = load_raw64(nonce);
		p->nonce1 = load_raw64(nonce + 8);
	}
	obfs_lanes_load(&K, cfg);
	obfs_keys(&K, p->nonce0, p->nonce1, &x);
	p->obfs_w0 = x.w0;
	p->obfs_w1 = x.w1;
	return 0;
}

/*
 * Make the frame end exactly where the forwarded datagram ends (link padding
 * goes too), then find the headers again: bpf_xdp_adjust_tail() invalidates
 * every packet pointer. Returns 0, or -1 when the tail could not move (the
 * packet is then untouched) or -2 when the headers are gone (cannot happen).
 */
static __always_inline int obfs_resize(struct xdp_md *ctx, struct pkt *p)
{
	int delta = (int)(p->l3_off + p->ip_hlen + sizeof(struct udphdr) + p->out_len) -
		    (int)p->frame_len;
	__u32 l3 = p->vlan ? sizeof(struct ethhdr) + VLAN_HLEN : sizeof(struct ethhdr);
	__u32 hl = p->ip_hlen & 0x3c; /* IPv4 20-60 in steps of 4, IPv6 40 */
	void *data, *end, *ip;

	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip = data + l3;
	p->eth = data;
	p->udp = ip + hl;
	p->msg = (__u8 *)(p->udp + 1);
	p->data_end = end;
	if ((void *)(p->eth + 1) > end || ip + sizeof(struct ipv6hdr) > end ||
	    (void *)(p->udp + 1) > end || (void *)(p->msg + WG_TRANSPORT_HEADER_LEN) > end)
		return -2;
	if (p->family == XWGP_FAMILY_IPV4)
		p->iph = ip;
	else
		p->ip6h = ip;
	return 0;
}

/* Checksum contribution of the 16 nonce bytes at the end of the plain message. */
static __always_inline __u16 obfs_nonce_sum(const struct pkt *p)
{
	__u32 sum = 0;
	__u16 s;

	sum = csum_add(sum, (__u32)p->nonce0);
	sum = csum_add(sum, (__u32)(p->nonce0 >> 32));
	sum = csum_add(sum, (__u32)p->nonce1);
	sum = csum_add(sum, (__u32)(p->nonce1 >> 32));
	s = csum_fold(sum);
	/* At an odd offset every byte sits in the other half of its 16-bit word. */
	return p->plain_len & 1 ? __builtin_bswap16(s) : s;
}

/* New UDP/IP lengths for out_len; returns the UDP checksum diff. */
static __always_inline __u32 obfs_set_lengths(const struct pkt *p)
{
	struct udphdr *udp = p->udp;
	__u16 old = udp->len, new = bpf_htons(sizeof(struct udphdr) + p->out_len);
	__u32 diff = 0;

	udp->len = new;
	/* The UDP length is in the header and in the pseudo-header: twice. */
	diff = csum_diff16(diff, old, new);
	diff = csum_diff16(diff, old, new);
	if (p->family == XWGP_FAMILY_IPV4) {
		struct iphdr *iph = p->iph;
		__u16 old_tot = iph->tot_len;

		iph->tot_len = bpf_htons(p->ip_hlen + sizeof(struct udphdr) + p->out_len);
		iph->check = csum_apply(iph->check, csum_diff16(0, old_tot, iph->tot_len));
	} else {
		p->ip6h->payload_len = new;
	}
	if (p->obfs == PKT_OBFS_ENCODE_GROW)
		diff = csum_add(diff, obfs_nonce_sum(p));
	else
		diff = csum_add(diff, (__u16)~obfs_nonce_sum(p));
	return diff;
}

/*
 * XOR the 16-byte header (the flag set before obfuscating, cleared after
 * de-obfuscating), append the nonce when growing, fix the lengths. Returns
 * the UDP checksum diff of all of it, for rewrite() to apply.
 */
static __always_inline __u32 obfs_apply(struct pkt *p)
{
	__u8 *m = p->msg, *tail;
	__u64 o0, o1, n0, n1;
	__u32 diff = 0;

	if ((void *)(m + WG_TRANSPORT_HEADER_LEN) > p->data_end)
		return 0; /* cannot happen: obfs_resize()/check_transport() saw it */
	o0 = load_raw64(m);
	o1 = load_raw64(m + 8);
	n0 = o0;
	if (p->obfs == PKT_OBFS_ENCODE_GROW)
		n0 = (n0 & ~0xff00ULL) | (__u64)OBFS_FLAG << 8;
	n0 ^= p->obfs_w0;
	n1 = o1 ^ p->obfs_w1;
	if (p->obfs == PKT_OBFS_DECODE_STRIP)
		n0 &= ~0xff00ULL;
	store_raw64(m, n0);
	store_raw64(m + 8, n1);
	/* UDP offsets 8-23: 32-bit words at even offsets, as csum.h needs. */
	diff = csum_diff32(diff, (__u32)o0, (__u32)n0);
	diff = csum_diff32(diff, (__u32)(o0 >> 32), (__u32)(n0 >> 32));
	diff = csum_diff32(diff, (__u32)o1, (__u32)n1);
	diff = csum_diff32(diff, (__u32)(o1 >> 32), (__u32)(n1 >> 32));
	if (p->obfs == PKT_OBFS_ENCODE_GROW) {
		tail = m + (p->plain_len & 0xff); /* < OBFS_TRANSPORT_PAD_BELOW */
		if ((void *)(tail + OBFS_NONCE_LEN) > p->data_end)
			return diff; /* cannot happen: obfs_resize() made the room */
		store_raw64(tail, p->nonce0);
		store_raw64(tail + 8, p->nonce1);
	}
	if (p->out_len != p->msg_len)
		diff = csum_add(diff, obfs_set_lengths(p));
	return diff;
}

static __always_inline int forward_transport(struct xdp_md *ctx, const struct xwgp_cfg *cfg,
					     struct pkt *p)
{
	struct bpf_fib_lookup fib = {};
	struct xwgp_session *s;
	struct target t;
	__u32 reason, udp_diff = 0;
	__u64 now;
	int act, err;

	p->out_len = p->plain_len;
	s = session_lookup(p);
	if (!s)
		return verdict(ctx, XWGP_STAT_DROP_UNKNOWN_INDEX, p->frame_len);
	if (p->side == SIDE_CLIENT && !(s->flags & XWGP_SF_ESTABLISHED))
		return verdict(ctx, XWGP_STAT_PUNT_NOT_ESTABLISHED, p->frame_len);
	if (p->side == SIDE_CLIENT)
		reason = check_source(p, &s->client, s->csvl);
	else
		reason = check_source(p, &s->server, s->ssvl);
	if (!reason)
		reason = session_target(p, s, &t);
	if (!reason && p->side == SIDE_SERVER && (s->flags & XWGP_SF_OBFS) &&
	    (cfg->flags & XWGP_CFG_OBFS))
		reason = obfs_prepare_encode(cfg, p);
	now = coarse_now_ns();
	if (!reason)
		reason = fib_route(ctx, cfg, p, &t, &fib, now);
	if (reason)
		return verdict(ctx, reason, p->frame_len);
	act = egress(ctx, p, fib.ifindex, &reason);
	if (act < 0)
		return verdict(ctx, reason, p->frame_len);

	if (p->out_len != p->msg_len) {
		/* The nonce goes or comes; if the frame cannot grow, the agent's socket can. */
		err = obfs_resize(ctx, p);
		if (err == -1)
			return verdict(ctx, XWGP_STAT_PUNT_OBFS, p->frame_len);
		if (err)
			return verdict(ctx, XWGP_STAT_DROP_MALFORMED, p->frame_len);
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
	rewrite(p, &fib, &t, udp_diff);
	if (p->vlan && bpf_xdp_adjust_head(ctx, VLAN_HLEN))
		return verdict(ctx, XWGP_STAT_DROP_MALFORMED, p->frame_len);
	session_account(s, p, now);
	stat_add(reason, p->frame_len);
	return act;
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

	reason = parse_packet(ctx, cfg, &p);
	if (!reason)
		reason = check_message(cfg, &p);
	if (!reason && (cfg->flags & XWGP_CFG_AGENT_ONLY))
		reason = XWGP_STAT_PUNT_AGENT_ONLY;
	if (!reason && p.type != WG_MSG_TRANSPORT)
		reason = handshake_admit(cfg, &p);
	reason = hs_budget_admit(cfg, &p, reason);
	if (reason)
		return verdict(ctx, reason, p.frame_len);
	return forward_transport(ctx, cfg, &p);
}
