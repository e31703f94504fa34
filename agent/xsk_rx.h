/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AF_XDP receive for punted packets: one socket per (interface, RX queue),
 * registered in xwgp_xsks so the XDP program can redirect handshakes to it.
 * Receive only: replies leave through the UDP sockets, which pick the
 * neighbour and route for us.
 */
#ifndef XWGP_XSK_RX_H
#define XWGP_XSK_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdp/xsk.h>

#include "xwgp_abi.h"

struct xsk_rx {
	struct xsk_umem *umem;
	void *area;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;
	unsigned int queue;
	uint32_t map_key;
};

/* Key of (interface slot, queue) in xwgp_xsks. */
static inline uint32_t xsk_map_key(uint32_t slot, uint32_t queue)
{
	return slot * XWGP_MAX_QUEUES_PER_DEV + queue;
}

/* Number of RX queues of an interface (from sysfs). */
int xsk_rx_queue_count(const char *ifname);

int xsk_rx_open(struct xsk_rx *x, const char *ifname, unsigned int queue, int xsks_map_fd,
		uint32_t map_key);
int xsk_rx_fd(const struct xsk_rx *x);

/*
 * Deliver each frame of one batch (at most XSK_RX_BATCH) to cb, then return
 * the frames to the kernel; the number delivered. cb returns true to let a
 * frame wait (last false): it is delivered again, last true, after the
 * rest of the batch (e.g. initiations without MAC2 under load).
 */
#define XSK_RX_BATCH 64
typedef bool (*xsk_frame_fn)(void *ctx, uint8_t *frame, size_t len, bool last);
int xsk_rx_poll(struct xsk_rx *x, xsk_frame_fn cb, void *ctx);
/* The delivery of one batch (n <= XSK_RX_BATCH) as xsk_rx_poll does it. */
void xsk_rx_deliver(uint8_t *const *frames, const uint32_t *lens, uint32_t n, xsk_frame_fn cb,
		    void *ctx);

void xsk_rx_close(struct xsk_rx *x, int xsks_map_fd);

#endif
