// SPDX-License-Identifier: GPL-2.0
/* The agent's UDP sockets and route lookups (agent/udp_io.c), on loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "test.h"
#include "udp_io.h"

static struct xwgp_ep loopback(int family, uint16_t port)
{
	static const uint8_t v6_lo[16] = { [15] = 1 };
	struct xwgp_ep ep = { 0 };

	if (family == XWGP_FAMILY_IPV4)
		xwgp_ep_set_ip4(&ep, htonl(INADDR_LOOPBACK), htons(port));
	else
		xwgp_ep_set_ip6(&ep, v6_lo, htons(port));
	return ep;
}

/* One datagram a -> b over family: bytes, source and local address as sent. */
static void roundtrip(int family)
{
	struct xwgp_ep any = { 0 }, src, dst, to, want_src, want_dst;
	uint8_t msg[200], buf[256];
	uint16_t pa, pb;
	int a, b, n;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + family);
	a = udp_open(&any, &pa);
	b = udp_open(&any, &pb);
	CHECK(a >= 0 && b >= 0, "udp_open: %d %d", a, b);
	CHECK(pa && pb && pa != pb, "ephemeral ports %u %u", pa, pb);
	to = loopback(family, pb);
	want_src = loopback(family, pa);
	want_dst = loopback(family, pb);
	CHECK(!udp_send(a, &want_src, &to, msg, sizeof(msg)), "udp_send: %s", strerror(errno));
	for (int tries = 0; tries < 100; tries++) {
		n = udp_recv(b, buf, sizeof(buf), &src, &dst, pb);
		if (n != -EAGAIN)
			break;
		usleep(1000);
	}
	CHECK(n == (int)sizeof(msg), "udp_recv: %d", n);
	CHECK_MEM(buf, msg, sizeof(msg));
	CHECK(!memcmp(&src, &want_src, sizeof(src)), "source family %u port %u", src.family,
	      ntohs(src.port));
	CHECK(!memcmp(&dst, &want_dst, sizeof(dst)), "local family %u port %u", dst.family,
	      ntohs(dst.port));
	CHECK(udp_recv(b, buf, sizeof(buf), &src, &dst, pb) == -EAGAIN, "queue not empty");
	close(a);
	close(b);
}

TEST(roundtrip_ipv4)
{
	roundtrip(XWGP_FAMILY_IPV4);
}

TEST(roundtrip_ipv6)
{
	roundtrip(XWGP_FAMILY_IPV6);
}

/* A datagram larger than the buffer is reported, not passed on cut short. */
TEST(truncated_is_refused)
{
	struct xwgp_ep any = { 0 }, src, dst, to;
	uint8_t msg[300] = { 1 }, buf[100];
	uint16_t pa, pb;
	int a = udp_open(&any, &pa), b = udp_open(&any, &pb), n = -EAGAIN;

	CHECK(a >= 0 && b >= 0, "udp_open: %d %d", a, b);
	to = loopback(XWGP_FAMILY_IPV4, pb);
	CHECK(!udp_send(a, NULL, &to, msg, sizeof(msg)), "udp_send: %s", strerror(errno));
	for (int tries = 0; tries < 100 && n == -EAGAIN; tries++) {
		n = udp_recv(b, buf, sizeof(buf), &src, &dst, pb);
		if (n == -EAGAIN)
			usleep(1000);
	}
	CHECK(n == -EMSGSIZE, "udp_recv: %d, want -EMSGSIZE", n);
	close(a);
	close(b);
}

/* Both buffers hold a burst: at least UDP_SOCK_BUF, past rmem_max as root. */
TEST(buffers_sized)
{
	struct xwgp_ep any = { 0 };
	int fd, rcv = 0, snd = 0;
	socklen_t len = sizeof(int);
	uint16_t port;

	if (geteuid())
		SKIP("not root: SO_RCVBUFFORCE needs CAP_NET_ADMIN, the request is capped");
	fd = udp_open(&any, &port);
	CHECK(fd >= 0, "udp_open: %d", fd);
	CHECK(!getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len), "SO_RCVBUF: %s", strerror(errno));
	CHECK(!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &len), "SO_SNDBUF: %s", strerror(errno));
	CHECK(rcv >= UDP_SOCK_BUF && snd >= UDP_SOCK_BUF, "buffers %d/%d, want >= %d", rcv, snd,
	      UDP_SOCK_BUF);
	close(fd);
}

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
