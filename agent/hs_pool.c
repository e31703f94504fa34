// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "hs_pool.h"

static void take_items(struct hs_pool *p)
{
	for (;;) {
		unsigned int i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);

		if (i >= p->n_items)
			return;
		p->fn(p->ctx, i);
	}
}

static void *worker(void *arg)
{
	struct hs_pool *p = arg;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->stop)
			break;
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		take_items(p); /* fn, ctx, n_items were set before gen moved, under mu */
		pthread_mutex_lock(&p->mu);
		if (--p->busy == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int hs_pool_init(struct hs_pool *p, unsigned int n_threads)
{
	sigset_t all, old;
	int err = 0;

	memset(p, 0, sizeof(*p));
	if (!n_threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		n_threads = n > 0 ? (unsigned int)n : 1;
	}
	if (n_threads > HS_POOL_MAX_THREADS)
		n_threads = HS_POOL_MAX_THREADS;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	p->n_threads = 1;
	/*
	 * Workers take no signal: they inherit a full mask. The event loop
	 * reads SIGHUP/SIGTERM from a signalfd, which only sees signals
	 * blocked in every thread; one delivered to a worker whose mask let
	 * it through would run its default action (SIGHUP: exit).
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned int i = 1; i < n_threads; i++) {
		err = pthread_create(&p->tid[i], NULL, worker, p);
		if (err)
			break;
		p->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		hs_pool_fini(p);
		return -err;
	}
	return 0;
}

void hs_pool_run(struct hs_pool *p, hs_pool_fn fn, void *ctx, unsigned int n_items)
{
	if (!n_items)
		return;
	/* One item, or no workers: not worth a wake-up. */
	if (p->n_threads == 1 || n_items == 1) {
		for (unsigned int i = 0; i < n_items; i++)
			fn(ctx, i);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->n_items = n_items;
	__atomic_store_n(&p->next, 0, __ATOMIC_RELAXED);
	p->busy = p->n_threads - 1;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	take_items(p);
	pthread_mutex_lock(&p->mu);
	while (p->busy)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void hs_pool_fini(struct hs_pool *p)
{
	if (!p->n_threads)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (unsigned int i = 1; i < p->n_threads; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->go);
	pthread_mutex_destroy(&p->mu);
	p->n_threads = 0;
}
