/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mwgp obfuscation steps of the XDP program: classifying an obfuscated
 * client message by its decoded header, and de-/obfuscating a forwarded
 * transport header (resizing the frame when the nonce comes or goes). The
 * key derivation is bpf/xxh64.h; the agent's twin is agent/obfs.c.
 */
#ifndef XWGP_BPF_OBFS_XDP_H
#define XWGP_BPF_OBFS_XDP_H

#include "wg_proto.h"
#include "parse.h"
#include "csum.h"
#include "xxh64.h"

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

	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	return pkt_reload(p, (void *)(long)ctx->data, (void *)(long)ctx->data_end) ? -2 : 0;
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

#endif /* XWGP_BPF_OBFS_XDP_H */
