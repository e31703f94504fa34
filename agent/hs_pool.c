// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "hs_pool.h"

/* Take items of batch gen until none is left; the last one finished wakes the caller. */
static void take_items(struct hs_pool *p, uint64_t gen, hs_pool_fn fn, void *ctx, unsigned int n)
{
	uint64_t tag = (gen & 0xffffffffu) << 32;

	for (;;) {
		uint64_t t = __atomic_load_n(&p->ticket, __ATOMIC_ACQUIRE);

		do {
			if ((t & ~0xffffffffull) != tag || (uint32_t)t >= n)
				return;
		} while (!__atomic_compare_exchange_n(&p->ticket, &t, t + 1, false, __ATOMIC_ACQ_REL,
						      __ATOMIC_ACQUIRE));
		fn(ctx, (uint32_t)t);
		if (__atomic_add_fetch(&p->finished, 1, __ATOMIC_ACQ_REL) == n) {
			pthread_mutex_lock(&p->mu); /* the caller checks finished under mu */
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

static void *worker(void *arg)
{
	struct hs_pool *p = arg;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		hs_pool_fn fn;
		unsigned int n;
		void *ctx;

		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->stop)
			break;
		/* The newest batch: one this worker slept through is finished already. */
		seen = p->gen;
		fn = p->fn;
		ctx = p->ctx;
		n = p->n_items;
		pthread_mutex_unlock(&p->mu);
		take_items(p, seen, fn, ctx, n);
		pthread_mutex_lock(&p->mu);
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
	uint64_t gen;

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
	gen = ++p->gen;
	__atomic_store_n(&p->finished, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->ticket, (gen & 0xffffffffu) << 32, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	take_items(p, gen, fn, ctx, n_items);
	/* Items other threads took and still run; not workers that took none. */
	pthread_mutex_lock(&p->mu);
	while (__atomic_load_n(&p->finished, __ATOMIC_ACQUIRE) < n_items)
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
