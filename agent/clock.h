/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's clocks, in nanoseconds. Two are used, for different jobs:
 *   xwgp_now_ns()   CLOCK_BOOTTIME, what bpf_ktime_get_boot_ns() reads in XDP:
 *                   session last_seen_ns, expiry, anything compared with the maps
 *   xwgp_mono_ns()  CLOCK_MONOTONIC: timers of the client's loop and resolver
 * (the cache file also records CLOCK_REALTIME: xwgp_clock_ns(CLOCK_REALTIME)).
 */
#ifndef XWGP_CLOCK_H
#define XWGP_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC  1000000000ull
#define NSEC_PER_MSEC 1000000ull

static inline uint64_t xwgp_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline uint64_t xwgp_now_ns(void)
{
	return xwgp_clock_ns(CLOCK_BOOTTIME);
}

static inline uint64_t xwgp_mono_ns(void)
{
	return xwgp_clock_ns(CLOCK_MONOTONIC);
}

#endif /* XWGP_CLOCK_H */
