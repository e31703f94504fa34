/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fork-join pool for the handshake work: the event loop hands a batch of
 * n items to hs_pool_run(), which runs fn(ctx, i) for every i < n exactly
 * once on the pool's threads and the caller's, and returns when all are
 * done. What fn may touch is the caller's business (handler_flush: the DHs,
 * then each initiation's admission under the handler's lock and its send).
 */
#ifndef XWGP_HS_POOL_H
#define XWGP_HS_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define HS_POOL_MAX_THREADS 64

typedef void (*hs_pool_fn)(void *ctx, unsigned int i);

struct hs_pool {
	unsigned int n_threads; /* workers + the caller */
	pthread_t tid[HS_POOL_MAX_THREADS];
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	uint64_t gen; /* batch number, under mu */
	bool stop;
	hs_pool_fn fn; /* the batch's, under mu */
	void *ctx;
	unsigned int n_items;
	/*
	 * The next item to take, tagged with its batch (atomic: gen << 32 |
	 * item), so that a worker waking late for a finished batch takes
	 * nothing from the next one; and the items finished (atomic). The
	 * caller waits for the items, not for the workers: a worker the
	 * scheduler has not run yet holds nothing up (the caller takes its
	 * share), which matters on a loaded machine with few cores.
	 */
	uint64_t ticket;
	unsigned int finished;
};

/*
 * n_threads handshake threads in all (0: one per online CPU), the caller
 * being one of them: n_threads - 1 are started. 0 or -errno.
 */
int hs_pool_init(struct hs_pool *p, unsigned int n_threads);
/* Run fn(ctx, 0..n_items-1), each once, across the threads; returns when all are done. */
void hs_pool_run(struct hs_pool *p, hs_pool_fn fn, void *ctx, unsigned int n_items);
void hs_pool_fini(struct hs_pool *p);

#endif
