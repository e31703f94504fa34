// SPDX-License-Identifier: GPL-2.0
/* The agent's UDP sockets (agent/udp_io.c), on loopback only. */
#include <arpa/inet.h>
#include <errno.h>
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

TEST_MAIN()
