// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hs_ring.h"

/*
 * Take the next published items nobody took, up to max (worker or helping
 * loop): how many, the first in *item; 0: none.
 */
static unsigned int take(struct hs_ring *r, uint64_t *item, unsigned int max)
{
	uint64_t n = __atomic_load_n(&r->next, __ATOMIC_ACQUIRE);

	for (;;) {
		uint64_t avail = __atomic_load_n(&r->avail, __ATOMIC_SEQ_CST);
		unsigned int m;

		if (n >= avail)
			return 0;
		m = avail - n < max ? (unsigned int)(avail - n) : max;
		if (__atomic_compare_exchange_n(&r->next, &n, n + m, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			*item = n;
			return m;
		}
	}
}

/*
 * Run the DHs of items [first, first + m) and mark them done. The done
 * stores and the armed load are sequentially consistent, as are the loop's
 * arm and its done load (hs_ring_arm, then collect): either the loop sees
 * the items done or this thread sees the arm and writes the eventfd.
 */
static void run(struct hs_ring *r, uint64_t first, unsigned int m)
{
	unsigned int slots[HS_RING_BATCH] = { 0 };
	uint64_t one = 1;

	for (unsigned int i = 0; i < m; i++)
		slots[i] = (unsigned int)((first + i) % HS_RING_SLOTS);
	r->fn(r->ctx, slots, m);
	for (unsigned int i = 0; i < m; i++)
		__atomic_store_n(&r->done[slots[i]], 1, __ATOMIC_SEQ_CST);
	if (r->done_fd >= 0 && __atomic_load_n(&r->armed, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&r->armed, 0, __ATOMIC_SEQ_CST) &&
	    write(r->done_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the loop is woken anyway. */
	}
}

static void *worker(void *arg)
{
	struct hs_ring *r = arg;

	for (;;) {
		uint64_t item;
		unsigned int m = take(r, &item, HS_RING_BATCH);
		bool stop;

		if (m) {
			run(r, item, m);
			continue;
		}
		pthread_mutex_lock(&r->mu);
		/* Announce the sleep before the last look (hs_ring_push reads it after its store). */
		__atomic_store_n(&r->sleepers, r->sleepers + 1, __ATOMIC_SEQ_CST);
		while (!r->stop && __atomic_load_n(&r->next, __ATOMIC_SEQ_CST) >=
					   __atomic_load_n(&r->avail, __ATOMIC_SEQ_CST))
			pthread_cond_wait(&r->work, &r->mu);
		__atomic_store_n(&r->sleepers, r->sleepers - 1, __ATOMIC_SEQ_CST);
		stop = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			return NULL;
	}
}

int hs_ring_init(struct hs_ring *r, unsigned int n_threads, hs_ring_fn fn, void *ctx)
{
	sigset_t all, old;
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->fn = fn;
	r->ctx = ctx;
	r->done_fd = -1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->work, NULL);
	if (!n_threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		n_threads = n > 0 ? (unsigned int)n : 1;
	}
	if (n_threads > HS_RING_MAX_THREADS)
		n_threads = HS_RING_MAX_THREADS;
	if (n_threads == 1)
		return 0; /* the loop runs every DH */
	r->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->done_fd < 0) {
		err = -errno;
		hs_ring_fini(r);
		return err;
	}
	/*
	 * Workers take no signal: they inherit a full mask. The event loop
	 * reads SIGHUP/SIGTERM from a signalfd, which only sees signals
	 * blocked in every thread; one delivered to a worker whose mask let
	 * it through would run its default action (SIGHUP: exit).
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* The loop is one of the n_threads: it takes DHs whenever it collects. */
	for (unsigned int i = 0; i + 1 < n_threads; i++) {
		err = -pthread_create(&r->tid[i], NULL, worker, r);
		if (err)
			break;
		r->n_workers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		hs_ring_fini(r);
	return err;
}

/* Make every appended item takeable, and wake a sleeping worker for them. */
static void publish(struct hs_ring *r)
{
	if (__atomic_load_n(&r->avail, __ATOMIC_RELAXED) == r->tail)
		return;
	/* The loop is the only writer of tail and avail; workers read avail. */
	__atomic_store_n(&r->avail, r->tail, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->sleepers, __ATOMIC_SEQ_CST)) {
		pthread_mutex_lock(&r->mu);
		pthread_cond_signal(&r->work);
		pthread_mutex_unlock(&r->mu);
	}
}

void hs_ring_push(struct hs_ring *r)
{
	__atomic_store_n(&r->tail, r->tail + 1, __ATOMIC_RELAXED);
	if (r->tail - __atomic_load_n(&r->avail, __ATOMIC_RELAXED) >= HS_RING_BATCH)
		publish(r);
}

void hs_ring_arm(struct hs_ring *r)
{
	if (r->done_fd >= 0)
		__atomic_store_n(&r->armed, 1, __ATOMIC_SEQ_CST);
}

void hs_ring_ack(struct hs_ring *r)
{
	uint64_t v;

	if (r->done_fd >= 0 && read(r->done_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing written since the last read. */
	}
}

/* Wait (briefly) for a worker to finish the DH of slot, which it took. */
static void wait_done(struct hs_ring *r, unsigned int slot)
{
	struct pollfd p = { .fd = r->done_fd, .events = POLLIN };

	hs_ring_arm(r);
	if (!__atomic_load_n(&r->done[slot], __ATOMIC_SEQ_CST))
		poll(&p, 1, 10);
	hs_ring_ack(r);
}

unsigned int hs_ring_collect(struct hs_ring *r, unsigned int keep, hs_ring_finish_fn finish,
			     void *fctx)
{
	unsigned int n = 0, helped = 0;

	publish(r);
	while (r->head < r->tail) {
		unsigned int slot = (unsigned int)(r->head % HS_RING_SLOTS);
		uint64_t item;
		unsigned int m;

		if (__atomic_load_n(&r->done[slot], __ATOMIC_SEQ_CST)) {
			finish(fctx, slot);
			__atomic_store_n(&r->done[slot], 0, __ATOMIC_RELAXED);
			r->head++;
			n++;
			continue;
		}
		/*
		 * The loop is a handshake thread too: it takes DHs nobody took
		 * (the head's, or a later one while a worker runs the head's),
		 * HS_RING_HELP at a time unless it must make room, so that its
		 * sockets, timers and signals wait for a few DHs at most.
		 */
		if ((helped < HS_RING_HELP || hs_ring_pending(r) > keep) &&
		    (m = take(r, &item, HS_RING_BATCH))) {
			run(r, item, m);
			helped += m;
			continue;
		}
		if (hs_ring_pending(r) <= keep)
			break;
		wait_done(r, slot); /* taken by a worker that still runs it */
	}
	return n;
}

bool hs_ring_untaken(const struct hs_ring *r)
{
	return __atomic_load_n(&r->next, __ATOMIC_ACQUIRE) < r->tail;
}

void hs_ring_fini(struct hs_ring *r)
{
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->work);
	pthread_mutex_unlock(&r->mu);
	for (unsigned int i = 0; i < r->n_workers; i++)
		pthread_join(r->tid[i], NULL);
	r->n_workers = 0;
	if (r->done_fd >= 0)
		close(r->done_fd);
	r->done_fd = -1;
	pthread_cond_destroy(&r->work);
	pthread_mutex_destroy(&r->mu);
}
