/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot of everything xwgp counts, read from the pinned maps only
 * (never from the agent's memory), so the metrics thread, `xwgp stats' and
 * `xwgp show' in another process all read the same store without a lock
 * the packet path could wait on: per-CPU counter arrays summed over CPUs,
 * the agent's published counters, and one walk over the session table.
 */
#ifndef XWGP_METRICS_COLLECT_H
#define XWGP_METRICS_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf_loader.h"
#include "xwgp_abi.h"
#include "xwgp_agent_stats.h"

/*
 * Per-backend rows are bounded by the configured forward_to targets; this
 * caps them anyway (a config with more gets the rest summed as "other").
 */
#define METRICS_MAX_BACKENDS 1024

extern const char *const xwgp_xdp_stat_names[XWGP_STAT__MAX];
extern const char *const xwgp_xdp_stat_desc[XWGP_STAT__MAX];
extern const char *const xwgp_agent_stat_names[XWGP_AGENT_STAT__MAX];
extern const char *const xwgp_agent_stat_desc[XWGP_AGENT_STAT__MAX];

/* Transport per backend; family NONE in ep: the "other" overflow row. */
struct metrics_backend {
	struct xwgp_ep ep;
	uint64_t c2s_packets, c2s_bytes, s2c_packets, s2c_bytes;
};

/* One session as seen by a collection (for the metrics thread's retirement). */
struct metrics_row {
	uint32_t key;	     /* client proxy index */
	uint64_t created_ns; /* with key: the same session across scrapes */
	bool established;
	struct metrics_backend t; /* its backend and its totals (XDP + agent) */
};

struct metrics_snapshot {
	struct xwgp_stat_val xdp[XWGP_STAT__MAX];
	uint64_t agent[XWGP_AGENT_STAT__MAX];
	uint64_t established, pending;
	struct metrics_backend *backends;
	size_t n_backends, cap_backends;
	struct metrics_row *rows; /* kept with want_rows: sorted by (key, created_ns), unique */
	size_t n_rows, cap_rows;
	bool want_rows;
	bool up; /* the maps were read */
	/* xwgp_info labels; pointers the caller keeps alive */
	const char *instance, *xdp_mode;
};

/* Read every counter and walk the sessions (0 or -errno; partial on error). */
int metrics_collect(const struct xwgp_maps *m, struct metrics_snapshot *s);
/* The counters only (xdp, agent, up): no walk over the sessions. */
int metrics_collect_counters(const struct xwgp_maps *m, struct metrics_snapshot *s);
/* Add a backend's transport to the snapshot's row for ep (created if needed). */
void metrics_backend_add(struct metrics_snapshot *s, const struct metrics_backend *b);
void metrics_snapshot_free(struct metrics_snapshot *s);

/* Sum one per-CPU XDP counter slot. */
int metrics_read_xdp_stat(int fd, uint32_t slot, struct xwgp_stat_val *sum);

#endif
