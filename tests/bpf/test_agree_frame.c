// SPDX-License-Identifier: GPL-2.0
/*
 * The two frame parsers agree: bpf/parse.h (the XDP program's, compiled here
 * as plain C: parse_headers() + check_lengths(), as xwgp.bpf.c:parse_packet
 * calls them) and agent/frame.c (frame_parse_udp(), what handler_frame()
 * runs on every AF_XDP frame) get the same frames, a table of valid and
 * broken ones and then a few thousand random mutations of them:
 *
 *   XDP (parse.h)                   agent (frame.c)
 *   0: ours, message at p.msg       0, the same payload offset and length,
 *                                   the same source and destination endpoints
 *   PASS_* / DROP_* (not forwarded) -EINVAL
 *   DROP_MALFORMED for an IP length  0: the agent is looser here. Harmless, as
 *   that disagrees with the UDP      XDP punts only frames that passed these
 *   length, or an IPv6 zero UDP      checks, so no such frame reaches the
 *   checksum                         agent; listed so that a change shows
 *
 * No BPF, no root: parse.h is header-only; bpf_htons() and friends become
 * the libc byte swaps.
 */
#include <endian.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "test.h"

#define bpf_htons(x) htobe16(x)
#define bpf_ntohs(x) be16toh(x)
#define bpf_htonl(x) htobe32(x)
#include "../../bpf/parse.h"

#define CAP 256

/*
 * A frame buffer as a driver hands it over: the Ethernet header 2 bytes
 * past an aligned start (NET_IP_ALIGN), so the IP header is 4-byte aligned
 * for parse.h's struct reads.
 */
struct frame_buf {
	uint8_t pad[2];
	uint8_t f[CAP];
} __attribute__((aligned(8)));

/*
 * xwgp.bpf.c:parse_packet, minus its local-address check (the agent's twin
 * of that is handler_frame()'s port check, not frame_parse_udp()).
 */
static __u32 xdp_parse(uint8_t *f, size_t len, struct pkt *p)
{
	__u32 reason;

	memset(p, 0, sizeof(*p));
	p->frame_len = len;
	reason = parse_headers(f, f + len, p);
	return reason ? reason : check_lengths(p);
}

/* ---- frames ---------------------------------------------------------------- */

struct frame_def {
	bool v6, vlan;
	uint8_t ihl;	   /* IPv4 header words (5: no options) */
	uint16_t plen;	   /* UDP payload bytes */
	uint16_t pad;	   /* link padding after the datagram */
	uint8_t proto;	   /* IP protocol / IPv6 next header */
	uint16_t frag_off; /* IPv4, host order */
	int ip_len_delta;  /* added to the IP length field */
	int udp_len_delta; /* added to the UDP length field */
	uint16_t udp_csum;
};

static size_t put16(uint8_t *f, size_t off, uint16_t v)
{
	f[off] = (uint8_t)(v >> 8);
	f[off + 1] = (uint8_t)v;
	return off + 2;
}

/* 02:..:01 -> 02:..:02, 192.0.2.10:1111 -> 192.0.2.1:51820 or 2001:db8::10 -> ::1. */
static size_t build(const struct frame_def *d, uint8_t *f)
{
	size_t off = 12, l3, l4;
	uint16_t ulen = (uint16_t)(8 + d->plen + d->udp_len_delta);

	memset(f, 0, CAP);
	f[5] = 2;
	f[11] = 1;
	if (d->vlan) {
		off = put16(f, off, ETH_P_8021Q);
		off = put16(f, off, 42);
	}
	off = put16(f, off, d->v6 ? ETH_P_IPV6 : ETH_P_IP);
	l3 = off;
	if (!d->v6) {
		uint8_t ihl = d->ihl ? d->ihl : 5;

		f[l3] = (uint8_t)(0x40 | ihl);
		put16(f, l3 + 2, (uint16_t)(ihl * 4 + 8 + d->plen + d->ip_len_delta));
		put16(f, l3 + 6, d->frag_off);
		f[l3 + 8] = 64;
		f[l3 + 9] = d->proto;
		memcpy(f + l3 + 12, (uint8_t[]){ 192, 0, 2, 10, 192, 0, 2, 1 }, 8);
		for (size_t i = 20; i < ihl * 4u; i++)
			f[l3 + i] = 1; /* NOP options */
		l4 = l3 + ihl * 4u;
	} else {
		f[l3] = 0x60;
		put16(f, l3 + 4, (uint16_t)(8 + d->plen + d->ip_len_delta));
		f[l3 + 6] = d->proto;
		f[l3 + 7] = 64;
		memcpy(f + l3 + 8, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
		f[l3 + 23] = 0x10;
		memcpy(f + l3 + 24, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
		f[l3 + 39] = 0x01;
		l4 = l3 + 40;
	}
	put16(f, l4, 1111);
	put16(f, l4 + 2, 51820);
	put16(f, l4 + 4, ulen);
	put16(f, l4 + 6, d->udp_csum);
	for (size_t i = 0; i < d->plen; i++)
		f[l4 + 8 + i] = (uint8_t)(i + 1);
	return l4 + 8 + d->plen + d->pad;
}

/* ---- the comparison ---------------------------------------------------------- */

static bool ep_matches(const struct xwgp_ep *ep, const __u32 addr[4], __be16 port, __u8 family)
{
	return ep->family == family && ep->port == port && !memcmp(ep->addr, addr, 16);
}

/* The known looser cases of the agent: XDP's length and IPv6 checksum rules. */
static bool agent_looser(const struct pkt *p, __u32 reason)
{
	__u32 ulen;

	if (reason != XWGP_STAT_DROP_MALFORMED || !p->udp)
		return false;
	ulen = bpf_ntohs(p->udp->len);
	return p->ip_len != p->ip_hlen + ulen ||
	       (p->family == XWGP_FAMILY_IPV6 && !p->udp->check);
}

/* "" when both parsers agree on f[0, len), else what differs. */
static const char *compare_at(uint8_t *f, size_t len, __u32 *xdp_reason, int *agent_ret)
{
	static char why[160];
	struct frame_udp u;
	struct pkt p;

	*xdp_reason = xdp_parse(f, len, &p);
	*agent_ret = frame_parse_udp(f, len, &u);
	if (*xdp_reason) {
		if (*agent_ret == -EINVAL)
			return "";
		if (*agent_ret == 0 && agent_looser(&p, *xdp_reason))
			return "";
		snprintf(why, sizeof(why), "XDP reason %u, agent %d", *xdp_reason, *agent_ret);
		return why;
	}
	if (*agent_ret) {
		snprintf(why, sizeof(why), "XDP takes it, the agent says %d", *agent_ret);
		return why;
	}
	if (u.payload != p.msg || u.len != p.msg_len) {
		snprintf(why, sizeof(why), "payload: XDP at %td +%u, agent at %td +%zu",
			 p.msg - f, p.msg_len, u.payload - f, u.len);
		return why;
	}
	if (!ep_matches(&u.src, p.saddr, p.sport, p.family) ||
	    !ep_matches(&u.dst, p.daddr, p.dport, p.family))
		return "endpoints differ";
	return "";
}

/*
 * compare_at() on a heap copy of exactly len bytes (2 past an aligned start,
 * as in struct frame_buf), so ASan (make SANITIZE=1) catches either parser
 * reading past the frame.
 */
static const char *compare(const uint8_t *f, size_t len, __u32 *xdp_reason, int *agent_ret)
{
	uint8_t *heap = malloc(len + 2);
	const char *why;

	if (!heap)
		return "out of memory";
	memcpy(heap + 2, f, len);
	why = compare_at(heap + 2, len, xdp_reason, agent_ret);
	free(heap);
	return why;
}

struct table_row {
	const char *name;
	struct frame_def d;
	__u32 xdp;	/* expected XDP reason (0: ours) */
	int agent;	/* expected frame_parse_udp() result */
	size_t trunc;	/* cut the frame to this many bytes (0: whole) */
	size_t payload; /* expected payload offset when ours */
};

#define UDP IPPROTO_UDP
#define MAL XWGP_STAT_DROP_MALFORMED
#define NOT_OURS XWGP_STAT_PASS_NOT_OURS
#define FRAG XWGP_STAT_PASS_FRAGMENT
#define EXTHDR XWGP_STAT_PASS_IPV6_EXTHDR

/* clang-format off */
static const struct table_row rows[] = {
	{ "ipv4", { .plen = 32, .proto = UDP }, 0, 0, 0, 14 + 20 + 8 },
	{ "ipv4-vlan", { .vlan = true, .plen = 32, .proto = UDP }, 0, 0, 0, 18 + 20 + 8 },
	{ "ipv4-options", { .ihl = 15, .plen = 148, .proto = UDP }, 0, 0, 0, 14 + 60 + 8 },
	{ "ipv4-df", { .plen = 32, .proto = UDP, .frag_off = 0x4000 }, 0, 0, 0, 14 + 20 + 8 },
	{ "ipv4-link-padding", { .plen = 4, .pad = 14, .proto = UDP }, 0, 0, 0, 14 + 20 + 8 },
	{ "ipv4-empty-udp", { .plen = 0, .proto = UDP }, 0, 0, 0, 14 + 20 + 8 },
	{ "ipv6", { .v6 = true, .plen = 92, .proto = UDP, .udp_csum = 1 }, 0, 0, 0, 14 + 40 + 8 },
	{ "ipv6-vlan", { .v6 = true, .vlan = true, .plen = 64, .proto = UDP, .udp_csum = 1 }, 0, 0,
	  0, 18 + 40 + 8 },
	{ "ipv4-tcp", { .plen = 32, .proto = IPPROTO_TCP }, NOT_OURS, -EINVAL, 0, 0 },
	{ "ipv4-icmp", { .plen = 32, .proto = IPPROTO_ICMP }, NOT_OURS, -EINVAL, 0, 0 },
	{ "ipv6-tcp", { .v6 = true, .plen = 32, .proto = IPPROTO_TCP }, NOT_OURS, -EINVAL, 0, 0 },
	{ "ipv4-ihl-4", { .ihl = 4, .plen = 32, .proto = UDP }, NOT_OURS, -EINVAL, 0, 0 },
	{ "ipv4-first-fragment", { .plen = 32, .proto = UDP, .frag_off = 0x2000 },
	  FRAG, -EINVAL, 0, 0 },
	{ "ipv4-later-fragment", { .plen = 32, .proto = UDP, .frag_off = 0x00b9 },
	  FRAG, -EINVAL, 0, 0 },
	{ "ipv6-hop-by-hop", { .v6 = true, .plen = 32, .proto = 0 }, EXTHDR, -EINVAL, 0, 0 },
	{ "ipv6-fragment", { .v6 = true, .plen = 32, .proto = 44 }, EXTHDR, -EINVAL, 0, 0 },
	{ "ipv6-routing", { .v6 = true, .plen = 32, .proto = 43 }, EXTHDR, -EINVAL, 0, 0 },
	{ "udp-len-short", { .plen = 32, .proto = UDP, .udp_len_delta = -34 }, MAL, -EINVAL, 0, 0 },
	{ "udp-past-frame", { .plen = 32, .proto = UDP, .udp_len_delta = 10, .ip_len_delta = 10 },
	  MAL, -EINVAL, 0, 0 },
	{ "cut-eth", { .plen = 32, .proto = UDP }, NOT_OURS, -EINVAL, 13, 0 },
	{ "cut-vlan", { .vlan = true, .plen = 32, .proto = UDP }, NOT_OURS, -EINVAL, 17, 0 },
	{ "cut-ipv4", { .plen = 32, .proto = UDP }, NOT_OURS, -EINVAL, 14 + 19, 0 },
	{ "cut-ipv4-options", { .ihl = 8, .plen = 32, .proto = UDP }, NOT_OURS, -EINVAL,
	  14 + 30, 0 },
	{ "cut-udp", { .plen = 32, .proto = UDP }, NOT_OURS, -EINVAL, 14 + 20 + 7, 0 },
	{ "cut-ipv6", { .v6 = true, .plen = 32, .proto = UDP }, NOT_OURS, -EINVAL, 14 + 39, 0 },
	{ "cut-payload", { .plen = 32, .proto = UDP }, MAL, -EINVAL, 14 + 20 + 8 + 31, 0 },
	/* The agent's looser rules (see the top): 0 there, dropped by XDP first. */
	{ "ip-len-disagrees", { .plen = 32, .proto = UDP, .ip_len_delta = -4 }, MAL, 0, 0, 0 },
	{ "ipv6-zero-udp-checksum", { .v6 = true, .plen = 32, .proto = UDP }, MAL, 0, 0, 0 },
};
/* clang-format on */

TEST(table)
{
	struct frame_buf fb;
	uint8_t *f = fb.f;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct table_row *r = &rows[i];
		size_t len = build(&r->d, f);
		struct frame_udp u;
		const char *why;
		__u32 xr;
		int ar;

		if (r->trunc)
			len = r->trunc;
		why = compare(f, len, &xr, &ar);
		CHECK(!*why, "%s: %s", r->name, why);
		CHECK(xr == r->xdp, "%s: XDP reason %u, expected %u", r->name, xr, r->xdp);
		CHECK(ar == r->agent, "%s: agent %d, expected %d", r->name, ar, r->agent);
		if (!r->xdp) {
			size_t at;

			CHECK(frame_parse_udp(f, len, &u) == 0, "%s: refused", r->name);
			at = (size_t)(u.payload - f);
			CHECK(at == r->payload && u.len == r->d.plen,
			      "%s: payload at %zu +%zu, expected %zu +%u", r->name, at, u.len,
			      r->payload, r->d.plen);
		}
	}
}

/* Every prefix of every valid frame: a truncation never makes them disagree. */
TEST(every_truncation)
{
	struct frame_buf fb;
	uint8_t *f = fb.f;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t full = build(&rows[i].d, f);

		for (size_t len = 0; len <= full; len++) {
			__u32 xr;
			int ar;
			const char *why = compare(f, len, &xr, &ar);

			CHECK(!*why, "%s cut to %zu bytes: %s", rows[i].name, len, why);
		}
	}
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Random damage to the header bytes (where the rules are) of every table
 * frame: flipped bits, set bytes, a new length. Both sides must still agree,
 * and both kinds of verdict must turn up, or the mutations test nothing.
 */
TEST(random_mutations)
{
	uint32_t seed = 0x5eed1234;
	unsigned int ours = 0, not_ours = 0;
	struct frame_buf fb;
	uint8_t *f = fb.f;

	for (int n = 0; n < 20000; n++) {
		const struct table_row *r = &rows[rnd(&seed) % (sizeof(rows) / sizeof(rows[0]))];
		size_t len = build(&r->d, f), hdr = len < 80 ? len : 80;
		unsigned int k = 1 + rnd(&seed) % 3;
		__u32 xr;
		int ar;
		const char *why;

		for (unsigned int j = 0; j < k && hdr; j++) {
			uint32_t v = rnd(&seed);

			switch (v % 3) {
			case 0:
				f[(v >> 8) % hdr] ^= (uint8_t)(1u << ((v >> 4) % 8));
				break;
			case 1:
				f[(v >> 8) % hdr] = (uint8_t)(v >> 24);
				break;
			default:
				len = (v >> 8) % (len + 1);
				break;
			}
		}
		why = compare(f, len, &xr, &ar);
		CHECK(!*why, "mutation %d of %s (%zu bytes): %s", n, r->name, len, why);
		if (xr == 0)
			ours++;
		else
			not_ours++;
	}
	CHECK(ours > 1000 && not_ours > 1000, "%u taken, %u refused: the mutations miss", ours,
	      not_ours);
}

TEST_MAIN()
