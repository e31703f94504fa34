/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet parsing over a cursor: Ethernet (+ one 802.1Q/802.1AD tag), IPv4
 * (with options), IPv6 (no extension headers), UDP. Every header is bounds
 * checked against data_end before its first read. Nothing here loops, so no
 * loop caps are needed: IPv4 options are skipped by IHL, and IPv6 extension
 * headers are not walked at all (they are passed to the stack).
 *
 * Functions returning __u32 give 0 when parsing may go on, else the
 * XWGP_STAT_* reason of the verdict; XWGP_STAT_RX is 0 and never a verdict.
 */
#ifndef XWGP_BPF_PARSE_H
#define XWGP_BPF_PARSE_H

#include "byteorder.h"
#include "wg_proto.h"
#include "consts.h"
#include "xwgp_abi.h"

_Static_assert(XWGP_STAT_RX == 0, "0 means 'no verdict yet' in the parsers");

/* What the forwarding does to the obfuscation of a transport message. */
enum pkt_obfs {
	PKT_OBFS_NONE,
	PKT_OBFS_DECODE,       /* c2s: de-obfuscate the header */
	PKT_OBFS_DECODE_STRIP, /* ... and drop the 16-byte nonce */
	PKT_OBFS_ENCODE,       /* s2c: obfuscate the header (nonce: the tag) */
	PKT_OBFS_ENCODE_GROW,  /* ... and append a random 16-byte nonce */
};

struct hdr_cursor {
	void *pos;
	void *end;
};

struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

/* What the parsers learnt about one packet. */
struct pkt {
	void *data_end;
	struct ethhdr *eth;
	struct iphdr *iph;    /* IPv4 only */
	struct ipv6hdr *ip6h; /* IPv6 only */
	struct udphdr *udp;
	__u8 *msg;	 /* UDP payload: the WireGuard message */
	__u32 frame_len; /* bytes from data to data_end */
	__u32 msg_len;	 /* UDP payload length, from the UDP header */
	__u32 plain_len; /* the message without obfuscation (what sessions count) */
	__u32 out_len;	 /* UDP payload length when forwarded */
	__u64 obfs_w0;	 /* obfuscation XOR words of header bytes 0-7 and 8-15 */
	__u64 obfs_w1;
	__u64 nonce0;	 /* nonce appended (s2c) or stripped (c2s), as two LE halves */
	__u64 nonce1;
	__u32 receiver;	 /* receiver index of a transport message */
	/*
	 * XWGP_FAMILY_*. 32 bits: the verifier follows a spilled 4-byte
	 * value, not a byte stored next to others; the IPv4/IPv6 branches
	 * after the session lookup depend on it.
	 */
	__u32 family;
	__u32 saddr[4];	 /* IPv4-mapped for IPv4, like struct xwgp_ep */
	__u32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u16 l3_off;  /* offset of the IP header */
	__u16 ip_hlen; /* IP header length (IPv4 with options; 40 for IPv6) */
	__u16 ip_len;  /* IP header + UDP datagram, from the IP header */
	__u8 vlan;     /* one VLAN tag present */
	__u8 type;     /* WireGuard message type */
	__u8 side;     /* enum xwgp_side */
	__u8 obfs;     /* enum pkt_obfs */
	__u8 need_local; /* wildcard side: the destination is not yet known to be ours */
	__u8 candidate;	 /* from a roaming candidate: forwarded, the session unchanged */
	/*
	 * A fragment or IPv6 packet with extension headers (never forwarded)
	 * whose UDP ports could still be read: sport/dport, family and
	 * addresses are set, so xwgp.bpf.c can tell whether it is to us.
	 */
	__u8 ports_hidden;
	__u8 xlat;	 /* forwarded in the other family (bpf/xlat.h) */
	__u8 tclass;	 /* with xlat: the received TOS / traffic class */
	__u32 sess_seq;	 /* the session's seq when looked up (bpf/session.h) */
};

/* A 32-bit word in raw memory order (for checksums), alignment-agnostic. */
static __always_inline __u32 load_raw32(const void *p)
{
	__u32 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static __always_inline int parse_eth(struct hdr_cursor *c, struct pkt *p, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct vlan_tag *tag;
	__be16 h_proto;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	p->eth = eth;
	h_proto = eth->h_proto;
	if (h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD)) {
		tag = c->pos;
		if ((void *)(tag + 1) > c->end)
			return -1;
		c->pos = tag + 1;
		h_proto = tag->encap_proto;
		p->vlan = 1;
	}
	p->l3_off = p->vlan ? sizeof(*eth) + sizeof(*tag) : sizeof(*eth);
	*proto = h_proto;
	return 0;
}

static __always_inline void addr_map_v4(__u32 out[4], __be32 a)
{
	out[0] = 0;
	out[1] = 0;
	out[2] = bpf_htonl(0xffff);
	out[3] = a;
}

/* The UDP ports at pos, when they are in the frame (p->ports_hidden). */
static __always_inline void ports_peek(struct pkt *p, void *pos, void *end)
{
	struct udphdr *udp = pos;

	if ((void *)(udp + 1) > end)
		return;
	p->sport = udp->source;
	p->dport = udp->dest;
	p->ports_hidden = 1;
}

static __always_inline __u32 parse_ipv4(struct hdr_cursor *c, struct pkt *p)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;

	if ((void *)(iph + 1) > c->end)
		return XWGP_STAT_PASS_NOT_OURS;
	if (iph->version != 4 || iph->ihl < 5)
		return XWGP_STAT_PASS_NOT_OURS;
	hlen = iph->ihl * 4;
	if (c->pos + hlen > c->end)
		return XWGP_STAT_PASS_NOT_OURS;
	if (iph->protocol != IPPROTO_UDP)
		return XWGP_STAT_PASS_NOT_OURS;
	/* The family always comes with its header set (the verifier tracks both). */
	p->iph = iph;
	p->family = XWGP_FAMILY_IPV4;
	addr_map_v4(p->saddr, iph->saddr);
	addr_map_v4(p->daddr, iph->daddr);
	/* Only a first fragment has a UDP header, none has the whole message. */
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		if (!(iph->frag_off & bpf_htons(IP_OFFSET)))
			ports_peek(p, c->pos + hlen, c->end);
		return XWGP_STAT_PASS_FRAGMENT;
	}
	c->pos += hlen;
	p->ip_hlen = hlen;
	p->ip_len = bpf_ntohs(iph->tot_len);
	return 0;
}

/* IANA "IPv6 Extension Header Types". */
static __always_inline bool ipv6_is_exthdr(__u8 nexthdr)
{
	switch (nexthdr) {
	case NEXTHDR_HOP:
	case NEXTHDR_ROUTING:
	case NEXTHDR_FRAGMENT:
	case NEXTHDR_ESP:
	case NEXTHDR_AUTH:
	case NEXTHDR_DEST:
	case NEXTHDR_MOBILITY:
	case NEXTHDR_HIP:
	case NEXTHDR_SHIM6:
	case NEXTHDR_EXP1:
	case NEXTHDR_EXP2:
		return true;
	default:
		return false;
	}
}

#define XWGP_V6_EXTHDRS_WALKED 6 /* more are dropped as ours only when ports show */

/*
 * Walk the extension headers the stack would (hop-by-hop, routing,
 * destination options, fragment, AH) to a UDP header, so a packet to our
 * port is known as such (p->ports_hidden). ESP hides it; a non-first
 * fragment has none.
 */
static __always_inline void ipv6_exthdr_ports(struct pkt *p, struct ipv6hdr *ip6h, void *end)
{
	__u8 *pos = (__u8 *)(ip6h + 1);
	__u8 next = ip6h->nexthdr;
	int i;

	for (i = 0; i < XWGP_V6_EXTHDRS_WALKED; i++) {
		__u32 len;

		if (next == IPPROTO_UDP) {
			ports_peek(p, pos, end);
			return;
		}
		if (pos + 8 > (__u8 *)end)
			return;
		switch (next) {
		case NEXTHDR_HOP:
		case NEXTHDR_ROUTING:
		case NEXTHDR_DEST:
			len = ((__u32)pos[1] + 1) * 8;
			break;
		case NEXTHDR_FRAGMENT:
			/* Offset (13 bits) nonzero: no UDP header in this one. */
			if ((pos[2] << 8 | pos[3]) & 0xfff8)
				return;
			len = 8;
			break;
		case NEXTHDR_AUTH:
			len = ((__u32)pos[1] + 2) * 4;
			break;
		default:
			return;
		}
		next = pos[0];
		pos += len;
	}
	if (next == IPPROTO_UDP)
		ports_peek(p, pos, end);
}

static __always_inline __u32 parse_ipv6(struct hdr_cursor *c, struct pkt *p)
{
	struct ipv6hdr *ip6h = c->pos;
	int i;

	if ((void *)(ip6h + 1) > c->end)
		return XWGP_STAT_PASS_NOT_OURS;
	if (ip6h->version != 6)
		return XWGP_STAT_PASS_NOT_OURS;
	if (ip6h->nexthdr != IPPROTO_UDP && !ipv6_is_exthdr(ip6h->nexthdr))
		return XWGP_STAT_PASS_NOT_OURS;
	p->ip6h = ip6h;
	p->family = XWGP_FAMILY_IPV6;
	for (i = 0; i < 4; i++) {
		p->saddr[i] = ip6h->saddr.in6_u.u6_addr32[i];
		p->daddr[i] = ip6h->daddr.in6_u.u6_addr32[i];
	}
	if (ip6h->nexthdr != IPPROTO_UDP) {
		ipv6_exthdr_ports(p, ip6h, c->end);
		return XWGP_STAT_PASS_IPV6_EXTHDR;
	}
	c->pos = ip6h + 1;
	p->ip_hlen = sizeof(*ip6h);
	p->ip_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	return 0;
}

static __always_inline int parse_udp(struct hdr_cursor *c, struct pkt *p)
{
	struct udphdr *udp = c->pos;

	if ((void *)(udp + 1) > c->end)
		return -1;
	c->pos = udp + 1;
	p->udp = udp;
	p->sport = udp->source;
	p->dport = udp->dest;
	return 0;
}

/*
 * Ethernet (+VLAN), IPv4/IPv6 and UDP headers of the frame [data, data_end):
 * 0 with p's headers and addresses set, else the PASS_* reason. The caller
 * then decides whether the packet is ours, and checks its lengths.
 */
static __always_inline __u32 parse_headers(void *data, void *data_end, struct pkt *p)
{
	struct hdr_cursor c = { .pos = data, .end = data_end };
	__be16 proto;
	__u32 reason;

	p->data_end = data_end;
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
	return parse_udp(&c, p) ? XWGP_STAT_PASS_NOT_OURS : 0;
}

/*
 * For a packet known to be ours: the IP length must cover exactly the IP
 * header and the UDP datagram, and all of it must be in the frame (bytes
 * after it are link padding). IPv6 forbids a zero UDP checksum (RFC 8200).
 */
static __always_inline __u32 check_lengths(struct pkt *p)
{
	__u32 ulen = bpf_ntohs(p->udp->len);

	if (ulen < sizeof(struct udphdr))
		return XWGP_STAT_DROP_MALFORMED;
	if (p->ip_len != p->ip_hlen + ulen)
		return XWGP_STAT_DROP_MALFORMED;
	if ((__u32)p->l3_off + p->ip_len > p->frame_len)
		return XWGP_STAT_DROP_MALFORMED;
	if (p->family == XWGP_FAMILY_IPV6 && !p->udp->check)
		return XWGP_STAT_DROP_MALFORMED;
	p->msg = (__u8 *)(p->udp + 1);
	p->msg_len = ulen - sizeof(struct udphdr);
	return 0;
}

/*
 * Find p's headers again in [data, end) after a helper that may move or
 * reallocate the packet (bpf_xdp_adjust_tail/_meta, bpf_skb_change_tail,
 * bpf_skb_pull_data: every packet pointer is then invalid). The layout is
 * the one parsed: l3_off, ip_hlen and family. -1 when the headers and the
 * transport header are no longer in the frame (cannot happen).
 */
static __always_inline int pkt_reload(struct pkt *p, void *data, void *end)
{
	__u32 l3 = p->vlan ? sizeof(struct ethhdr) + VLAN_HLEN : sizeof(struct ethhdr);
	__u32 hl = p->ip_hlen & 0x3c; /* IPv4 20-60 in steps of 4, IPv6 40 */
	void *ip = data + l3;

	p->eth = data;
	p->udp = ip + hl;
	p->msg = (__u8 *)(p->udp + 1);
	p->data_end = end;
	if ((void *)(p->eth + 1) > end || ip + sizeof(struct ipv6hdr) > end ||
	    (void *)(p->udp + 1) > end || (void *)(p->msg + WG_TRANSPORT_HEADER_LEN) > end)
		return -1;
	if (p->family == XWGP_FAMILY_IPV4)
		p->iph = ip;
	else
		p->ip6h = ip;
	return 0;
}

#endif /* XWGP_BPF_PARSE_H */
