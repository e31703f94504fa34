// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <string.h>

#include "frame.h"

static void ep_v4(struct xwgp_ep *ep, uint32_t addr_be, uint16_t port_be)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr[2] = htonl(0xffff);
	ep->addr[3] = addr_be;
	ep->port = port_be;
	ep->family = XWGP_FAMILY_IPV4;
}

static void ep_v6(struct xwgp_ep *ep, const struct in6_addr *a, uint16_t port_be)
{
	memcpy(ep->addr, a, 16);
	ep->port = port_be;
	ep->family = XWGP_FAMILY_IPV6;
}

int frame_parse_udp(uint8_t *frame, size_t len, struct frame_udp *out)
{
	size_t off = ETH_HLEN, l3;
	uint16_t proto;
	struct udphdr udp;

	if (len < ETH_HLEN)
		return -EINVAL;
	memcpy(&proto, frame + 12, 2);
	if (proto == htons(ETH_P_8021Q) || proto == htons(ETH_P_8021AD)) {
		if (len < off + 4)
			return -EINVAL;
		memcpy(&proto, frame + off + 2, 2);
		off += 4;
	}
	l3 = off;
	if (proto == htons(ETH_P_IP)) {
		struct iphdr ip;

		if (len < l3 + sizeof(ip))
			return -EINVAL;
		memcpy(&ip, frame + l3, sizeof(ip));
		/*
		 * Fragments (and below, IPv6 extension headers) are never a
		 * WireGuard message: refused here, as XDP drops those to our
		 * port and address (DROP_FRAGMENT, DROP_IPV6_EXTHDR) and punts
		 * none (tests/bpf/test_agree_frame.c).
		 */
		if (ip.version != 4 || ip.ihl < 5 || ip.protocol != IPPROTO_UDP ||
		    (ntohs(ip.frag_off) & 0x3fff) || len < l3 + ip.ihl * 4u + sizeof(udp))
			return -EINVAL;
		off = l3 + ip.ihl * 4u;
		memcpy(&udp, frame + off, sizeof(udp));
		ep_v4(&out->src, ip.saddr, udp.source);
		ep_v4(&out->dst, ip.daddr, udp.dest);
	} else if (proto == htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (len < l3 + sizeof(ip6) + sizeof(udp))
			return -EINVAL;
		memcpy(&ip6, frame + l3, sizeof(ip6));
		if (ip6.version != 6 || ip6.nexthdr != IPPROTO_UDP)
			return -EINVAL;
		off = l3 + sizeof(ip6);
		memcpy(&udp, frame + off, sizeof(udp));
		ep_v6(&out->src, &ip6.saddr, udp.source);
		ep_v6(&out->dst, &ip6.daddr, udp.dest);
	} else {
		return -EINVAL;
	}
	if (ntohs(udp.len) < sizeof(udp) || off + ntohs(udp.len) > len)
		return -EINVAL;
	out->payload = frame + off + sizeof(udp);
	out->len = ntohs(udp.len) - sizeof(udp);
	return 0;
}
