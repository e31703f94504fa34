/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's UDP sockets. Always AF_INET6 and dual-stack: struct xwgp_ep
 * stores IPv4 as ::ffff:a.b.c.d, which is exactly how a dual-stack socket
 * names IPv4 peers, so no family juggling is needed. IPV6_PKTINFO gives the
 * local address a datagram was sent to and picks our source address when
 * sending (the address the client used, docs/DESIGN.md section 3).
 */
#ifndef XWGP_UDP_IO_H
#define XWGP_UDP_IO_H

#include <stddef.h>
#include <stdint.h>

#include "xwgp_abi.h"

/* Socket buffer size asked for, each way (the kernel doubles it for overhead). */
#define UDP_SOCK_BUF (4 << 20)

/* Bind a non-blocking UDP socket on ep (family NONE: any address), buffers sized. */
int udp_open(const struct xwgp_ep *ep, uint16_t *bound_port);

/*
 * Receive one datagram into buf; fills src (remote) and dst (local address,
 * with the socket's port). Returns the length, -EAGAIN when empty, -errno.
 */
int udp_recv(int fd, uint8_t *buf, size_t cap, struct xwgp_ep *src, struct xwgp_ep *dst,
	     uint16_t local_port);

/* Send from local (address only; the socket gives the port) to remote. */
int udp_send(int fd, const struct xwgp_ep *local, const struct xwgp_ep *remote,
	     const uint8_t *data, size_t len);

/* The local address the kernel picks to reach remote (port 0). */
int udp_route_local(const struct xwgp_ep *remote, struct xwgp_ep *local);

/*
 * Sockets kept for udp_route_local_kept, one per family: a dual-stack socket
 * once connected to an IPv4(-mapped) address refuses IPv6 ones.
 */
struct udp_router {
	int fd4, fd6; /* -1: not opened yet */
};

#define UDP_ROUTER_INIT ((struct udp_router){ .fd4 = -1, .fd6 = -1 })

/*
 * udp_route_local through kept sockets (opened on first use; close them with
 * udp_router_close). connect() on a UDP socket that is already connected
 * looks the route up again, so every call still asks the kernel afresh; what
 * it saves is the socket() and close() of each call, about half the cost of
 * an initiation's route lookup (every initiation needs one).
 */
int udp_route_local_kept(struct udp_router *r, const struct xwgp_ep *remote,
			 struct xwgp_ep *local);
void udp_router_close(struct udp_router *r);

#endif
