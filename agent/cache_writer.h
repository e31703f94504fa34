/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The session cache file written off the event loop: the loop collects the
 * maps (through the session mapping, cheap) and hands the snapshot to a
 * thread that formats and writes it (the costly part: 1-2 s for 65536
 * sessions, a quarter of the agent's CPU during a handshake burst when it
 * ran on the loop). One write at a time; a snapshot taken while a write
 * runs waits for the next tick (the table stays marked as changed).
 */
#ifndef XWGP_CACHE_WRITER_H
#define XWGP_CACHE_WRITER_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"

struct cache_writer {
	pthread_t tid;
	bool started; /* tid is joinable */
	bool busy; /* a write runs (atomic: the thread clears it) */
	int err; /* of the last finished write (atomic) */
	uint64_t took_ns; /* how long the last finished write took (atomic) */
	char path[PATH_MAX];
	struct xwgp_cache c; /* the snapshot the thread owns while busy */
};

/* Whether a write runs now. */
bool cache_writer_busy(const struct cache_writer *cw);

/*
 * Start writing *c (taken over: *c is left empty) to path on the writer
 * thread. -EBUSY while the previous write runs (*c untouched), -errno when
 * no thread could be started (*c untouched).
 */
int cache_writer_start(struct cache_writer *cw, struct xwgp_cache *c, const char *path);

/* Wait for a running write to end; its took_ns and err are then final. */
void cache_writer_wait(struct cache_writer *cw);

#endif
