// SPDX-License-Identifier: GPL-2.0
/*
 * agent/nexthop.c against a real kernel (own network namespace): what it
 * writes into xwgp_nexthop for a destination is the route's egress device,
 * that device's MAC and MTU, and the next hop's MAC (the gateway's for a
 * routed destination); a neighbour or route change, seen as the netlink
 * event local_addrs.c hands over, takes the entry out of the map at once and
 * nexthops_settle() puts the new answer in; destinations without a usable
 * answer (no neighbour, a local address, no route) have no entry.
 *
 * Topology: xv0 02:00:00:00:00:01, mtu 1400, 192.0.2.1/24, 2001:db8:1::1/64;
 * neighbours 192.0.2.20 and 2001:db8:1::20 (02:00:00:00:0a:01), gateway
 * 192.0.2.254 (02:00:00:00:0f:01) for 198.51.100.0/24; 192.0.2.30 none.
 */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/rtnetlink.h>

#include "bpf_env.h"
#include "clock.h"
#include "nexthop.h"
#include "test.h"

static const char *const topo[] = {
	"ip link add xv0 address 02:00:00:00:00:01 mtu 1400 type veth peer name xv1",
	"ip link set xv0 up && ip link set xv1 up",
	"ip addr add 192.0.2.1/24 dev xv0",
	"ip -6 addr add 2001:db8:1::1/64 dev xv0 nodad",
	"ip neigh add 192.0.2.20 lladdr 02:00:00:00:0a:01 dev xv0 nud permanent",
	"ip -6 neigh add 2001:db8:1::20 lladdr 02:00:00:00:0a:01 dev xv0 nud permanent",
	"ip neigh add 192.0.2.254 lladdr 02:00:00:00:0f:01 dev xv0 nud permanent",
	"ip route add 198.51.100.0/24 via 192.0.2.254",
};

#define ENV_REQUIRE() BPF_ENV_REQUIRE(topo, NULL)

static int map_fd(void)
{
	return bpf_map__fd(bpf_env.skel->maps.xwgp_nexthop);
}

/* The map's entry for ip; 0, or -ENOENT. */
static int entry(const char *ip, struct xwgp_nexthop *v)
{
	struct xwgp_ep e = pkt_ep(ip, 1);
	struct xwgp_nexthop_key k;

	memcpy(k.addr, e.addr, sizeof(k.addr));
	return bpf_map_lookup_elem(map_fd(), &k, v) ? -errno : 0;
}

static bool mac_is(const uint8_t *m, uint8_t last4, uint8_t last)
{
	static const uint8_t pre[4] = { 2, 0, 0, 0 };

	return !memcmp(m, pre, 4) && m[4] == last4 && m[5] == last;
}

static void want(struct nexthops *t, const char *ip)
{
	struct xwgp_ep e = pkt_ep(ip, 51820);

	nexthops_want(t, &e, xwgp_now_ns());
}

TEST(resolves_route_and_neighbour)
{
	struct nexthops t;
	struct xwgp_nexthop v;
	uint64_t t0;
	int ifx;

	ENV_REQUIRE();
	ifx = (int)if_nametoindex("xv0");
	CHECK(!nexthops_init(&t, map_fd()), "init");
	t0 = xwgp_now_ns();
	want(&t, "192.0.2.20");
	want(&t, "2001:db8:1::20");
	want(&t, "198.51.100.7");
	want(&t, "192.0.2.30"); /* no neighbour */
	want(&t, "192.0.2.1"); /* ours: a local route */
	want(&t, "203.0.113.9"); /* no route */
	CHECK(!entry("192.0.2.20", &v), "no entry for an on-link backend");
	CHECK(v.ifindex == (uint32_t)ifx && v.mtu == 1400 && mac_is(v.smac, 0, 1) &&
		      mac_is(v.dmac, 0x0a, 1) && v.resolved_ns >= t0,
	      "on-link: ifindex %u mtu %u", v.ifindex, v.mtu);
	CHECK(!entry("2001:db8:1::20", &v) && mac_is(v.dmac, 0x0a, 1), "IPv6 on-link");
	CHECK(!entry("198.51.100.7", &v) && mac_is(v.dmac, 0x0f, 1) && v.ifindex == (uint32_t)ifx,
	      "routed: the gateway's MAC");
	CHECK(entry("192.0.2.30", &v) == -ENOENT, "an entry without a neighbour");
	CHECK(entry("192.0.2.1", &v) == -ENOENT, "an entry for our own address");
	CHECK(entry("203.0.113.9", &v) == -ENOENT, "an entry without a route");
	nexthops_fini(&t);
	CHECK(entry("192.0.2.20", &v) == -ENOENT, "fini left an entry");
}

/*
 * The kernel's own events, read from a socket subscribed like
 * local_addrs.c's, go through nexthops_on_msg(): a new MAC of the gateway
 * and a new route are followed.
 */
static void pump(int fd, struct nexthops *t)
{
	char buf[16384];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		for (struct nlmsghdr *nh = (void *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n))
			nexthops_on_msg(t, nh);
}

TEST(follows_neighbour_and_route_events)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE };
	struct nexthops t;
	struct xwgp_nexthop v;
	int fd;

	ENV_REQUIRE();
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	CHECK(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "netlink: %s",
	      strerror(errno));
	CHECK(!nexthops_init(&t, map_fd()), "init");
	want(&t, "198.51.100.7");
	want(&t, "192.0.2.20");
	CHECK(!entry("198.51.100.7", &v) && mac_is(v.dmac, 0x0f, 1), "before");

	CHECK(!bpf_env_sh("ip neigh replace 192.0.2.254 lladdr 02:00:00:00:0f:02 dev xv0 "
			  "nud permanent"),
	      "ip neigh");
	pump(fd, &t);
	CHECK(entry("198.51.100.7", &v) == -ENOENT, "the gateway's MAC changed: entry kept");
	CHECK(!entry("192.0.2.20", &v), "another next hop's entry went too");
	nexthops_settle(&t, xwgp_now_ns());
	CHECK(!entry("198.51.100.7", &v) && mac_is(v.dmac, 0x0f, 2), "the new MAC");

	/* The destination now on-link behind another neighbour. */
	CHECK(!bpf_env_sh("ip neigh add 198.51.100.7 lladdr 02:00:00:00:0b:07 dev xv0 nud "
			  "permanent && ip route add 198.51.100.7/32 dev xv0"),
	      "ip route");
	pump(fd, &t);
	CHECK(entry("198.51.100.7", &v) == -ENOENT, "a route changed: entry kept");
	nexthops_settle(&t, xwgp_now_ns());
	CHECK(!entry("198.51.100.7", &v) && mac_is(v.dmac, 0x0b, 7), "the new route's next hop");
	CHECK(!entry("192.0.2.20", &v) && mac_is(v.dmac, 0x0a, 1), "the other entry back");

	/* The neighbour goes: no entry until it is back. */
	CHECK(!bpf_env_sh("ip neigh del 198.51.100.7 dev xv0"), "ip neigh del");
	pump(fd, &t);
	nexthops_settle(&t, xwgp_now_ns());
	CHECK(entry("198.51.100.7", &v) == -ENOENT, "an entry for a deleted neighbour");
	nexthops_fini(&t);
	close(fd);
}

TEST_MAIN()
