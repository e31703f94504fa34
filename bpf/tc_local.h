/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Local backends in the kernel (docs/DESIGN.md section 12): backends on this
 * host, on 127.0.0.0/8, ::1 or one of the host's own addresses.
 *
 * Client->server: XDP applies the whole transport rule and rewrites the
 * packet as for a remote backend (MACs: lo's, all zero), reserves XDP
 * metadata and marks it (xdp_local_reserve/xdp_local_mark), and passes it
 * up. The TC ingress program of the same device (xwgp_tc_in) moves marked
 * packets into lo (bpf_redirect(LOOPBACK_IFINDEX, BPF_F_INGRESS)): lo is
 * the only device on which the stack accepts them, and only with
 * net.ipv4.conf.lo.accept_local=1 (the source, our upstream address, is
 * ours) and, for 127.0.0.0/8, net.ipv4.conf.lo.route_localnet=1, which
 * the agent sets (agent/tc_attach.c). Delivered on the NIC itself the packet
 * is a martian (its source is ours; 127/8 on a NIC), unless accept_local
 * were set on the public NIC, which would let the wire forge our addresses.
 * Only XDP can set metadata, so nothing from the wire reaches lo this way.
 *
 * Server->client: the backend's reply leaves through lo to our upstream
 * port; the TC program on lo's egress (xwgp_tc_lo) applies the same rule
 * as XDP does to server->client transport, rewrites with the skb checksum
 * helpers (the backend's socket leaves the UDP checksum partial: only the
 * pseudo-header part is in the field, so address and length changes go in
 * with BPF_F_PSEUDO_HDR and the rest only when the checksum is complete:
 * bpf_l4_csum_replace knows which) and redirects it out of the device the
 * FIB names.
 */
#ifndef XWGP_BPF_TC_LOCAL_H
#define XWGP_BPF_TC_LOCAL_H

#include "consts.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "rewrite.h"
#include "obfs_xdp.h"
#include "local.h"
#include "verdict.h"
#include "xwgp_martian.h"

/* linux/pkt_cls.h: vmlinux.h carries no #defines. */
#ifndef TC_ACT_OK
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7
#endif
/* lo's ifindex in every network namespace (include/net/flow.h). */
#define XWGP_LOOPBACK_IFINDEX 1

/* XDP's note to TC in the metadata area: this packet is for lo. */
struct xwgp_local_meta {
	__u32 magic;
	__u32 _pad0;
};
#define XWGP_LOCAL_META_MAGIC 0x7877676cu /* "xwgl" */

/* The backend of this session lives on this host, and TC can take it there. */
static __always_inline bool local_backend(const struct xwgp_cfg *cfg, const struct xwgp_ep *dst)
{
	if (!(cfg->flags & XWGP_CFG_LOCAL_TC))
		return false;
	if (xwgp_martian_static(dst->family, dst->addr, 1) == XWGP_MARTIAN_LOOPBACK)
		return true;
	return local_kind(dst->addr) == XWGP_LOCAL_ADDR;
}

/*
 * Room for the note, before the packet is changed: a driver without
 * metadata support leaves the packet to the agent (PUNT_LOCAL_META). The
 * note stays blank until xdp_local_mark(), so a packet punted later carries
 * no mark.
 */
static __always_inline __u32 xdp_local_reserve(struct xdp_md *ctx, struct pkt *p)
{
	struct xwgp_local_meta *m;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return XWGP_STAT_PUNT_LOCAL_META;
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return XWGP_STAT_PUNT_LOCAL_META;
	m->magic = 0;
	m->_pad0 = 0;
	if (pkt_reload(p, data, (void *)(long)ctx->data_end))
		return XWGP_STAT_DROP_MALFORMED;
	return 0;
}

/* The last step (after bpf_xdp_adjust_head, which moves the area). */
static __always_inline int xdp_local_mark(struct xdp_md *ctx)
{
	struct xwgp_local_meta *m = (void *)(long)ctx->data_meta;

	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return -1;
	m->magic = XWGP_LOCAL_META_MAGIC;
	return 0;
}

/* A packet the XDP program marked for lo (TC ingress of the same device). */
static __always_inline bool tc_local_marked(const struct __sk_buff *skb)
{
	const struct xwgp_local_meta *m = (void *)(long)skb->data_meta;

	if ((void *)(m + 1) > (void *)(long)skb->data)
		return false;
	return m->magic == XWGP_LOCAL_META_MAGIC;
}

/*
 * The TC action of a reason that is not a forward. A punt continues to lo
 * and the agent's upstream socket (PUNT_STACK): the same as the agent-only
 * path before TC existed. No transport punt limit here: the source is a
 * backend on this host, not the public port (bpf/rate_limit.h).
 */
static __always_inline int tc_verdict(__u32 reason, __u64 bytes)
{
	switch (reason) {
	case XWGP_STAT_PASS_NOT_OURS:
	case XWGP_STAT_PASS_NOT_LOCAL:
		stat_add(reason, bytes);
		return TC_ACT_OK;
	case XWGP_STAT_PUNT_HANDSHAKE:
	case XWGP_STAT_PUNT_AGENT_ONLY:
	case XWGP_STAT_PUNT_SESSION_BUSY:
	case XWGP_STAT_PUNT_GSO:
		break;
	default:
		if (!is_transport_punt(reason)) {
			stat_add(reason, bytes);
			return TC_ACT_SHOT;
		}
	}
	stat_add(reason, bytes);
	stat_add(XWGP_STAT_PUNT_STACK, bytes);
	return TC_ACT_OK;
}

/* All of the datagram in the linear part, for direct access. */
static __always_inline int tc_linearize(struct __sk_buff *skb, struct pkt *p)
{
	if ((long)skb->data_end - (long)skb->data >= (long)skb->len)
		return 0;
	if (bpf_skb_pull_data(skb, skb->len))
		return -1;
	return pkt_reload(p, (void *)(long)skb->data, (void *)(long)skb->data_end);
}

/* Grow for the obfuscation nonce (the only size change server->client). */
static __always_inline int tc_resize(struct __sk_buff *skb, struct pkt *p)
{
	__u32 len = p->l3_off + p->ip_hlen + sizeof(struct udphdr) + p->out_len;

	if (bpf_skb_change_tail(skb, len, 0))
		return -1;
	return pkt_reload(p, (void *)(long)skb->data, (void *)(long)skb->data_end);
}

/*
 * rewrite() for an skb: the same fields through the same helpers of
 * rewrite.h and obfs_xdp.h, but the UDP checksum through
 * bpf_l4_csum_replace in two parts (the file comment): pseudo-header
 * (addresses, the UDP length once) and the rest (ports, index, header
 * XOR, nonce, the UDP length field). The packet must be linear.
 */
static __always_inline int tc_rewrite(struct __sk_buff *skb, struct pkt *p,
				      const struct bpf_fib_lookup *fib, const struct target *t)
{
	__u32 pseudo = 0, rest, old, off = p->l3_off + (p->ip_hlen & 0x3c);
	__u16 old_len = p->udp->len;
	__u64 flags = BPF_F_MARK_MANGLED_0; /* IPv4: 0 stays "none"; a computed 0 is 0xffff */
	struct udphdr *udp;

	rest = rewrite_index(p, t);
	if (p->obfs == PKT_OBFS_ENCODE || p->obfs == PKT_OBFS_ENCODE_GROW)
		rest = csum_add(rest, obfs_apply(p)); /* the UDP length in twice */
	udp = p->udp;
	if ((void *)(udp + 1) > p->data_end)
		return -1;
	if (udp->len != old_len) {
		pseudo = csum_diff16(0, old_len, udp->len);
		rest = csum_add(rest, ~pseudo); /* one of the two is the pseudo-header's */
	}
	rewrite_eth(p, fib);
	if (p->family == XWGP_FAMILY_IPV4)
		pseudo = csum_add(pseudo, rewrite_ipv4(p->iph, t));
	else
		pseudo = csum_add(pseudo, rewrite_ipv6(p->ip6h, t));
	old = load_raw32(udp);
	udp->source = t->src->port;
	udp->dest = t->dst->port;
	rest = csum_diff32(rest, old, load_raw32(udp));
	off += __builtin_offsetof(struct udphdr, check);
	if (bpf_l4_csum_replace(skb, off, 0, pseudo, flags | BPF_F_PSEUDO_HDR))
		return -1;
	if (bpf_l4_csum_replace(skb, off, 0, rest, flags))
		return -1;
	return 0;
}

#endif /* XWGP_BPF_TC_LOCAL_H */
