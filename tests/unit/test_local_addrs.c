// SPDX-License-Identifier: GPL-2.0
/*
 * agent/local_addrs.c against a real kernel: in a network namespace of its
 * own, the addresses present at open, then addresses added and removed
 * afterwards (netlink events), appear in the table and in a BPF map exactly
 * as the XDP program reads it; the claims and martian rules on top.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "local_addrs.h"
#include "test.h"

static struct {
	int state; /* 0 new, 1 ready, -1 skip */
	char why[256];
	struct local_addrs la;
	int map;
} env = { .map = -1 };

static int sh(const char *cmd)
{
	char full[300];

	snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
	return system(full);
}

static int setup(void)
{
	if (env.state)
		return env.state;
	env.state = -1;
	if (geteuid() != 0) {
		snprintf(env.why, sizeof(env.why), "needs root (netns)");
		return env.state;
	}
	if (unshare(CLONE_NEWNET)) {
		snprintf(env.why, sizeof(env.why), "unshare: %s", strerror(errno));
		return env.state;
	}
	if (sh("ip link set lo up") || sh("ip link add la0 type veth peer name la1") ||
	    sh("ip link set la0 up") || sh("ip addr add 10.9.8.7/24 dev la0") ||
	    /* removing a primary address keeps its secondaries */
	    sh("sysctl -qw net.ipv4.conf.la0.promote_secondaries=1")) {
		snprintf(env.why, sizeof(env.why), "ip commands failed");
		return env.state;
	}
	env.map = bpf_map_create(BPF_MAP_TYPE_HASH, "t_local", sizeof(struct xwgp_local_key),
				 sizeof(uint32_t), 64, NULL);
	if (env.map < 0) {
		snprintf(env.why, sizeof(env.why), "bpf_map_create: %s", strerror(errno));
		return env.state;
	}
	if (local_addrs_open(&env.la, env.map)) {
		snprintf(env.why, sizeof(env.why), "local_addrs_open failed");
		return env.state = -2;
	}
	return env.state = 1;
}

#define ENV()                                                                                      \
	do {                                                                                       \
		int st__ = setup();                                                                \
		if (st__ == -1)                                                                    \
			SKIP("%s", env.why);                                                       \
		CHECK(st__ == 1, "%s", env.why);                                                   \
	} while (0)

static struct xwgp_ep ep(const char *ip)
{
	struct xwgp_ep e = { .port = htons(1) };

	if (inet_pton(AF_INET, ip, &e.addr[3]) == 1) {
		e.family = XWGP_FAMILY_IPV4;
		e.addr[2] = htonl(0xffff);
	} else if (inet_pton(AF_INET6, ip, e.addr) == 1) {
		e.family = XWGP_FAMILY_IPV6;
	}
	return e;
}

static uint32_t map_kind(const char *ip)
{
	struct xwgp_ep e = ep(ip);
	struct xwgp_local_key k;
	uint32_t v = 0;

	memcpy(k.addr, e.addr, sizeof(k.addr));
	bpf_map_lookup_elem(env.map, &k, &v);
	return v;
}

/* Apply events until ip's kind is want in both the table and the map (1 s). */
static bool settles(const char *ip, uint32_t want)
{
	struct xwgp_ep e = ep(ip);

	for (int i = 0; i < 100; i++) {
		struct pollfd p = { .fd = local_addrs_fd(&env.la), .events = POLLIN };

		if (poll(&p, 1, 10) > 0)
			local_addrs_update(&env.la);
		if (local_addrs_kind(&env.la, &e) == want && map_kind(ip) == want)
			return true;
	}
	return false;
}

TEST(addresses_at_open)
{
	struct xwgp_ep e = ep("10.9.8.7");

	ENV();
	CHECK(local_addrs_kind(&env.la, &e) == XWGP_LOCAL_ADDR, "10.9.8.7 not ours");
	CHECK(map_kind("10.9.8.7") == XWGP_LOCAL_ADDR, "not in the map");
	CHECK(map_kind("127.0.0.1") == XWGP_LOCAL_ADDR, "loopback address not in the map");
	/* `ip addr add A/24' sets no broadcast: the directed one is derived. */
	CHECK(map_kind("10.9.8.255") == XWGP_LOCAL_BROADCAST, "directed broadcast");
	CHECK(map_kind("10.9.8.8") == 0, "a neighbour is not ours");
}

TEST(addresses_follow_events)
{
	ENV();
	CHECK(!sh("ip addr add 10.1.2.3/16 dev la0"));
	CHECK(settles("10.1.2.3", XWGP_LOCAL_ADDR), "added IPv4 address not seen");
	CHECK(settles("10.1.255.255", XWGP_LOCAL_BROADCAST), "its broadcast not seen");
	CHECK(!sh("ip -6 addr add 2001:db8:77::7/64 dev la0 nodad"));
	CHECK(settles("2001:db8:77::7", XWGP_LOCAL_ADDR), "added IPv6 address not seen");
	/* Two addresses share a broadcast: it stays until both are gone. */
	CHECK(!sh("ip addr add 10.1.2.4/16 dev la0"));
	CHECK(settles("10.1.2.4", XWGP_LOCAL_ADDR));
	CHECK(!sh("ip addr del 10.1.2.3/16 dev la0"));
	CHECK(settles("10.1.2.3", 0), "removed address still ours");
	CHECK(settles("10.1.2.4", XWGP_LOCAL_ADDR), "the other address went too");
	CHECK(settles("10.1.255.255", XWGP_LOCAL_BROADCAST), "shared broadcast dropped early");
	CHECK(!sh("ip addr del 10.1.2.4/16 dev la0"));
	CHECK(settles("10.1.255.255", 0), "broadcast of a gone subnet kept");
	CHECK(!sh("ip -6 addr del 2001:db8:77::7/64 dev la0"));
	CHECK(settles("2001:db8:77::7", 0), "removed IPv6 address still ours");
}

TEST(claims_and_martians)
{
	const struct xwgp_ep wildcard = { .port = htons(51820) };
	struct xwgp_ep cfg = ep("10.9.8.7");
	struct xwgp_ep ours = ep("10.9.8.7"), other = ep("10.9.8.9"), bcast = ep("10.9.8.255");
	struct xwgp_ep all = ep("255.255.255.255"), mcast = ep("224.0.0.251"), v6m = ep("ff02::1");
	struct xwgp_ep lo = ep("127.0.0.1"), lo6 = ep("::1"), mapped = ep("::ffff:127.0.0.1");
	struct xwgp_ep zero = ep("0.0.0.0"), port0 = ep("192.0.2.5");

	ENV();
	CHECK(local_addrs_claims(&env.la, &wildcard, &ours));
	CHECK(!local_addrs_claims(&env.la, &wildcard, &other), "transit claimed");
	CHECK(!local_addrs_claims(&env.la, &wildcard, &bcast), "subnet broadcast claimed");
	CHECK(!local_addrs_claims(&env.la, &wildcard, &all), "broadcast claimed");
	CHECK(!local_addrs_claims(&env.la, &wildcard, &mcast), "multicast claimed");
	CHECK(!local_addrs_claims(&env.la, &wildcard, &v6m), "IPv6 multicast claimed");
	CHECK(local_addrs_claims(&env.la, &cfg, &ours) && !local_addrs_claims(&env.la, &cfg, &other),
	      "a configured address claims itself only");
	port0.port = 0;
	CHECK(local_addrs_martian(&env.la, &lo) == XWGP_MARTIAN_LOOPBACK);
	CHECK(local_addrs_martian(&env.la, &lo6) == XWGP_MARTIAN_LOOPBACK);
	CHECK(local_addrs_martian(&env.la, &mapped) == XWGP_MARTIAN_LOOPBACK);
	CHECK(local_addrs_martian(&env.la, &zero) == XWGP_MARTIAN_UNSPEC);
	CHECK(local_addrs_martian(&env.la, &mcast) == XWGP_MARTIAN_MULTICAST);
	CHECK(local_addrs_martian(&env.la, &v6m) == XWGP_MARTIAN_MULTICAST);
	CHECK(local_addrs_martian(&env.la, &all) == XWGP_MARTIAN_BROADCAST);
	CHECK(local_addrs_martian(&env.la, &bcast) == XWGP_MARTIAN_BROADCAST);
	CHECK(local_addrs_martian(&env.la, &ours) == XWGP_MARTIAN_LOCAL);
	CHECK(local_addrs_martian(&env.la, &port0) == XWGP_MARTIAN_PORT0);
	CHECK(local_addrs_martian(&env.la, &other) == XWGP_MARTIAN_NONE);
	/* XDP's dst_local() trusts the map: no broadcast/multicast enters it as ours. */
	CHECK(local_addrs_change(&env.la, mcast.addr, 1, XWGP_LOCAL_ADDR, 0, true) == -EINVAL);
	CHECK(local_addrs_change(&env.la, v6m.addr, 1, XWGP_LOCAL_ADDR, 0, true) == -EINVAL);
	CHECK(local_addrs_change(&env.la, all.addr, 1, XWGP_LOCAL_ADDR, 0, true) == -EINVAL);
}

TEST_MAIN()
