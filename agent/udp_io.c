// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "udp_io.h"

/*
 * Room for a burst: the agent shares its core with everything else, and a
 * datagram arriving while it waits for CPU is dropped when the buffer is
 * full (UdpRcvbufErrors). SO_RCVBUFFORCE passes net.core.rmem_max when we
 * have CAP_NET_ADMIN (the server does); otherwise the capped request stands.
 */
static void udp_size_buffers(int fd)
{
	int size = UDP_SOCK_BUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

int udp_open(const struct xwgp_ep *ep, uint16_t *bound_port)
{
	struct sockaddr_in6 sin6;
	socklen_t slen = sizeof(sin6);
	int fd, one = 1, zero = 0, err;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)))
		goto err;
	udp_size_buffers(fd);
	xwgp_ep_to_sin6(ep, &sin6);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)))
		goto err;
	if (getsockname(fd, (struct sockaddr *)&sin6, &slen))
		goto err;
	*bound_port = ntohs(sin6.sin6_port);
	return fd;
err:
	err = -errno;
	close(fd);
	return err;
}

int udp_recv(int fd, uint8_t *buf, size_t cap, struct xwgp_ep *src, struct xwgp_ep *dst,
	     uint16_t local_port)
{
	char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct sockaddr_in6 from;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;

	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE; /* larger than any packet we accept */
	xwgp_ep_from_in6(src, &from.sin6_addr, from.sin6_port);
	memset(dst, 0, sizeof(*dst));
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			xwgp_ep_from_in6(dst, &pi.ipi6_addr, htons(local_port));
		}
	}
	return (int)n;
}

int udp_send(int fd, const struct xwgp_ep *local, const struct xwgp_ep *remote,
	     const uint8_t *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))] = {};
	struct sockaddr_in6 to;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &to,
		.msg_namelen = sizeof(to),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};

	xwgp_ep_to_sin6(remote, &to);
	if (local && local->family != XWGP_FAMILY_NONE) {
		struct in6_pktinfo pi = {};
		struct cmsghdr *c;

		memcpy(&pi.ipi6_addr, local->addr, 16);
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	return sendmsg(fd, &msg, 0) < 0 ? -errno : 0;
}

/* A dual-stack UDP socket for route lookups; -errno on failure. */
static int route_socket(void)
{
	int fd, zero = 0, small = 1;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	/*
	 * Connected, it would queue datagrams the last remote sends to its
	 * ephemeral port; nobody reads them, so keep that queue minimal.
	 */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	return fd;
}

int udp_route_local_kept(struct udp_router *r, const struct xwgp_ep *remote,
			 struct xwgp_ep *local)
{
	int *fd = remote->family == XWGP_FAMILY_IPV6 ? &r->fd6 : &r->fd4;
	struct sockaddr_in6 sin6;
	socklen_t slen = sizeof(sin6);

	if (*fd < 0) {
		int nfd = route_socket();

		if (nfd < 0)
			return nfd;
		*fd = nfd;
	}
	xwgp_ep_to_sin6(remote, &sin6);
	/*
	 * A connected UDP socket keeps the source address of its first
	 * connect(): dissolve the association first (AF_UNSPEC resets it), or a
	 * backend on 192.0.2.1 would be sent from the 127.0.0.1 a previous
	 * lookup for a 127.0.0.1 backend chose.
	 */
	{
		struct sockaddr unspec = { .sa_family = AF_UNSPEC };

		connect(*fd, &unspec, sizeof(unspec));
	}
	/* connect() on UDP only does the route lookup; nothing is sent. */
	if (connect(*fd, (struct sockaddr *)&sin6, sizeof(sin6)) ||
	    getsockname(*fd, (struct sockaddr *)&sin6, &slen))
		return -errno;
	xwgp_ep_from_in6(local, &sin6.sin6_addr, 0);
	return 0;
}

void udp_router_close(struct udp_router *r)
{
	if (r->fd4 >= 0)
		close(r->fd4);
	if (r->fd6 >= 0)
		close(r->fd6);
	*r = UDP_ROUTER_INIT;
}

int udp_route_local(const struct xwgp_ep *remote, struct xwgp_ep *local)
{
	struct udp_router r = UDP_ROUTER_INIT;
	int err = udp_route_local_kept(&r, remote, local);

	udp_router_close(&r);
	return err;
}
