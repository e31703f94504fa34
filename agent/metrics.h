/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `metrics_listen': GET /metrics in the Prometheus text format, served by
 * libmicrohttpd from a thread of its own (niced) that reads only the pinned
 * maps. The packet path shares nothing with it: no lock, no memory, so a
 * slow or hostile scraper costs CPU at worst, bounded by the limits below.
 */
#ifndef XWGP_METRICS_H
#define XWGP_METRICS_H

#include "bpf_loader.h"
#include "xwgp_abi.h"

/* Limits that keep a hostile client's cost bounded (README "Metrics"). */
#define METRICS_MAX_CONNECTIONS 32 /* open at once, all clients */
#define METRICS_MAX_PER_IP	8
#define METRICS_TIMEOUT_SEC	5     /* idle connection closed after this */
#define METRICS_CONN_MEMORY	16384 /* request line + headers; beyond: refused */
#define METRICS_NICE		10    /* the thread's nice value: packets first */

struct metrics_server;

/*
 * Serve on listen (family IPv4 or IPv6, port set); maps stay open until
 * metrics_stop. instance and xdp_mode label xwgp_info (copied).
 * 0 or -errno (logged, naming the address).
 */
int metrics_start(struct metrics_server **out, const struct xwgp_ep *listen,
		  const struct xwgp_maps *maps, const char *instance, const char *xdp_mode);
/* Stop the thread and the daemon; NULL is fine. */
void metrics_stop(struct metrics_server *ms);

#endif
