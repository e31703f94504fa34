/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TC programs of local backends (bpf/tc_local.h, docs/DESIGN.md
 * section 12): xwgp_tc_in on the ingress of every XDP interface, xwgp_tc_lo
 * on lo's egress. Attached by netlink with a fixed handle and priority, so,
 * like the XDP program, they stay after the agent exits (transport to local
 * backends keeps flowing) and a new agent replaces them in place.
 */
#ifndef XWGP_TC_ATTACH_H
#define XWGP_TC_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#define XWGP_TC_HANDLE 0x7877 /* "xw" */
#define XWGP_TC_PRIORITY 0x7877
#define XWGP_TC_IN_PIN_NAME "xwgp_tc_in"
#define XWGP_TC_LO_PIN_NAME "xwgp_tc_lo"

struct xwgp_loader;

/*
 * Attach both programs (ingress of each of ifnames, egress of lo), pin
 * them, and set the two lo sysctls the kernel needs to accept the packets
 * (net.ipv4.conf.lo.accept_local and route_localnet). 0 when local
 * backends can be forwarded in the kernel, else -errno, logged once; the
 * caller then leaves XWGP_CFG_LOCAL_TC off and the agent forwards them.
 */
int xwgp_tc_local_setup(struct xwgp_loader *l, char *const *ifnames, size_t n);

/* Detach this instance's TC programs from every interface and unpin them. */
int xwgp_tc_down(const char *pin_path, uint32_t sessions_id);

#endif /* XWGP_TC_ATTACH_H */
