// SPDX-License-Identifier: GPL-2.0
#include "svl.h"

#include "addr.h"

bool xwgp_source_ok(uint8_t level, const struct xwgp_ep *stored, const struct xwgp_ep *from)
{
	bool addr_ok = xwgp_ep_equal_ip(stored, from);

	return xwgp_svl_verdict(level, addr_ok, addr_ok && stored->port == from->port) !=
	       XWGP_SVL_REFUSED;
}
