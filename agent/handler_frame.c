// SPDX-License-Identifier: GPL-2.0
/*
 * The AF_XDP entry of the handler: a whole Ethernet frame, punted by the XDP
 * program, becomes the UDP datagram handler_packet() takes. The server's
 * AF_XDP loop and tests/fuzz/fuzz_handler.c both come in here.
 */
#include <arpa/inet.h>

#include "cookie_guard.h"
#include "frame.h"
#include "handler.h"

bool handler_frame(struct handler *h, uint8_t *frame, size_t len, bool last)
{
	struct frame_udp f;
	struct handler_pkt p = { .via_xsk = true };

	if (frame_parse_udp(frame, len, &f)) {
		h->stats[XWGP_AGENT_STAT_MALFORMED]++;
		return false;
	}
	/* Only our two ports; XDP punts nothing else, so anything else is ignored. */
	if (ntohs(f.dst.port) == h->listen_port)
		p.side = XWGP_SIDE_CLIENT;
	else if (ntohs(f.dst.port) == h->upstream_port)
		p.side = XWGP_SIDE_SERVER;
	else
		return false;
	/* Under load, initiations carrying a MAC2 go before those without. */
	if (!last && p.side == XWGP_SIDE_CLIENT &&
	    cookie_guard_can_wait(&h->guard, f.payload, f.len))
		return true;
	p.src = f.src;
	p.dst = f.dst;
	p.data = f.payload;
	p.len = f.len;
	p.cap = f.len;
	handler_packet(h, &p);
	return false;
}
