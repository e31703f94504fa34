/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parse an Ethernet frame punted over AF_XDP down to its UDP payload, with
 * the same header rules as the XDP program (one VLAN tag, IPv4 with options,
 * IPv6 without extension headers). Bounds-checked; never reads past len.
 */
#ifndef XWGP_FRAME_H
#define XWGP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "xwgp_abi.h"

struct frame_udp {
	struct xwgp_ep src; /* remote sender */
	struct xwgp_ep dst; /* our address and port */
	uint8_t *payload;
	size_t len;
};

/* 0 on success, -EINVAL when not a well-formed unfragmented UDP packet. */
int frame_parse_udp(uint8_t *frame, size_t len, struct frame_udp *out);

#endif
