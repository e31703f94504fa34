/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a pin path means for an operator: the instance name it implies, and
 * whether pins made there outlive the agent and can be seen from another
 * shell (docs/DESIGN.md section 8: each `ip netns exec' is a fresh mount
 * namespace, each `mount -t bpf' a new empty bpffs).
 */
#ifndef XWGP_PIN_CHECK_H
#define XWGP_PIN_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The default instance name when the config names a pin_path but no
 * instance: its last component, characters outside [A-Za-z0-9_.-] and a
 * leading `.' or `-' replaced by `_', at most max-1 characters; "default"
 * when nothing is left. Two instances on two pin paths then get two cache
 * files instead of restoring each other's sessions.
 */
void xwgp_instance_from_pin_path(const char *pin_path, char *buf, size_t max);

/*
 * Is the bpffs holding pin_path mounted only in this process's mount
 * namespace (the host's PID 1 does not see it)? Then the pins die with the
 * agent, `xwgp show' from another shell cannot find them, and restart
 * survival cannot work. 1: private, 0: shared with PID 1, -errno: unknown
 * (e.g. /proc/1 unreadable). mountinfo1 is /proc/1/mountinfo (tests pass
 * another file).
 */
int xwgp_bpffs_private(const char *pin_path, const char *mountinfo1);

/* Log the warning above when it applies (called once at start). */
void xwgp_warn_private_pins(const char *pin_path);

#endif
