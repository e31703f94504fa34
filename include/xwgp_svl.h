/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Source validation levels (csvl/ssvl), one rule for the XDP program and the
 * agent: what a level says about a packet whose source differs from the
 * endpoint a session stored, and how an unset level inherits. Unknown levels
 * act as XWGP_SVL_IP_PORT, the strictest.
 */
#ifndef XWGP_SVL_H
#define XWGP_SVL_H

#include "xwgp_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

enum xwgp_svl_verdict {
	XWGP_SVL_SAME, /* the stored endpoint */
	XWGP_SVL_MOVED, /* another endpoint the level lets the session roam to */
	XWGP_SVL_REFUSED, /* a source the level forbids */
};

static __always_inline enum xwgp_svl_verdict xwgp_svl_verdict(__u8 level, int addr_ok,
							      int port_ok)
{
	if (addr_ok && port_ok)
		return XWGP_SVL_SAME;
	if (level == XWGP_SVL_NONE)
		return XWGP_SVL_MOVED;
	if (level == XWGP_SVL_IP && addr_ok)
		return XWGP_SVL_MOVED;
	return XWGP_SVL_REFUSED;
}

/* A peer's level, else its server's, else the default: never INHERIT. */
static __always_inline __u8 xwgp_svl_resolve(__u8 peer, __u8 server, __u8 def)
{
	if (peer != XWGP_SVL_INHERIT)
		return peer;
	return server != XWGP_SVL_INHERIT ? server : def;
}

#endif /* XWGP_SVL_H */
