/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Source validation (csvl/ssvl) of the agent's handshake and relay paths.
 * The rule itself is include/xwgp_svl.h, shared with the XDP program;
 * transport roaming adds the candidate rule of agent/transport.c on top.
 */
#ifndef XWGP_AGENT_SVL_H
#define XWGP_AGENT_SVL_H

#include <stdbool.h>
#include <stdint.h>

#include "xwgp_abi.h"
#include "xwgp_svl.h"

/* May a packet from `from` be accepted for an endpoint stored as `stored`? */
bool xwgp_source_ok(uint8_t level, const struct xwgp_ep *stored, const struct xwgp_ep *from);

#endif
