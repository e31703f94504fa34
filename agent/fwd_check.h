/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is the XDP fast path usable on an interface? bpf_fib_lookup() answers
 * BPF_FIB_LKUP_RET_FWD_DISABLED whenever the forwarding sysctl of the device
 * it is asked about (the ingress device) is off, whatever the flags
 * (net/core/filter.c); every transport packet arriving there is then punted
 * to the agent. These helpers read the sysctls so the agent can say so.
 */
#ifndef XWGP_FWD_CHECK_H
#define XWGP_FWD_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Forwarding state of one interface, per family it carries. */
struct fwd_state {
	bool has_v4, has_v6; /* has an IPv4 / a non-link-local IPv6 address */
	int v4, v6; /* sysctl value: 1 on, 0 off, -errno unreadable */
};

/* Read the state of IFNAME (an interface of this network namespace). */
void fwd_state_read(const char *ifname, struct fwd_state *st);

/* True when a family the interface carries has forwarding off. */
bool fwd_state_off(const struct fwd_state *st);

/*
 * Log one warning per interface whose forwarding sysctl is off for a family
 * it carries, naming the sysctl and what it costs: with next_hops (the
 * agent resolves next hops for XDP, agent/nexthop.h) a destination's first
 * packets, else every packet, through the agent. Returns how many warned.
 */
int fwd_check_warn(char *const *ifnames, size_t n, bool next_hops);

/*
 * For `xwgp show': the attached interfaces are the devmap's keys. Text
 * lines for interfaces where the fast path is off, or a JSON array of every
 * interface's state.
 */
void fwd_print_devmap(int devmap_fd);
cJSON *fwd_json_devmap(int devmap_fd);

#endif
