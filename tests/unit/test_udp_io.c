// SPDX-License-Identifier: GPL-2.0
/* Route lookups of agent/udp_io.c: the kept socket answers as a fresh one. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "addr.h"
#include "test.h"
#include "udp_io.h"

static int fcntl_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

/*
 * Kept sockets answer as a fresh socket per lookup, IPv4 and IPv6 in any
 * order (a dual-stack socket connected to an IPv4 address refuses IPv6).
 */
TEST(route_with_kept_sockets_matches_fresh_socket)
{
	static const char *const remotes[] = {
		"127.0.0.2:51820", "127.1.2.3:9", "[::1]:51820", "127.0.0.9:1", "[::1]:7",
	};
	struct udp_router r = UDP_ROUTER_INIT;
	struct xwgp_ep remote, want, got;
	int fd4 = -1, n6 = 0;

	for (size_t i = 0; i < sizeof(remotes) / sizeof(remotes[0]); i++) {
		int err;

		CHECK(xwgp_ep_parse(remotes[i], 0, &remote) == 0, "%s", remotes[i]);
		err = udp_route_local(&remote, &want);
		if (remote.family == XWGP_FAMILY_IPV6 &&
		    (err == -ENETUNREACH || err == -EADDRNOTAVAIL))
			continue; /* no IPv6 loopback here */
		CHECK(err == 0, "%s: %s", remotes[i], strerror(-err));
		memset(&got, 0xee, sizeof(got));
		err = udp_route_local_kept(&r, &remote, &got);
		CHECK(err == 0, "%s: %s", remotes[i], strerror(-err));
		CHECK(xwgp_ep_equal(&got, &want) && got.port == 0, "%s: another local address",
		      remotes[i]);
		n6 += remote.family == XWGP_FAMILY_IPV6;
		if (fd4 < 0)
			fd4 = r.fd4;
		CHECK(r.fd4 >= 0 && r.fd4 == fd4, "the IPv4 socket is kept across lookups");
	}
	if (n6)
		CHECK(r.fd6 >= 0 && r.fd6 != r.fd4);
	fd4 = r.fd4;
	udp_router_close(&r);
	CHECK(r.fd4 == -1 && r.fd6 == -1);
	CHECK(fcntl_closed(fd4), "udp_router_close left the socket open");
}

TEST_MAIN()
