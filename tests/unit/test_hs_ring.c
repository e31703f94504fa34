// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake ring (agent/hs_ring.c): every pushed item's DH runs exactly
 * once, on the workers and the loop (more than one thread), in batches of
 * at most HS_RING_BATCH consecutive items, whole batches under load; the
 * loop finishes the items exactly once each, in push order, only after
 * their DH; items are takeable HS_RING_BATCH at a time or after a collect;
 * collect without waiting never blocks on a DH a worker runs, and takes at
 * most HS_RING_HELP DHs itself; the eventfd wakes a loop that armed it.
 * Plain (non-atomic) writes per item: built with -fsanitize=thread, a DH
 * and a finish racing on an item is a report.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "hs_ring.h"
#include "test.h"

struct items {
	uint64_t seq[HS_RING_SLOTS]; /* the push number the loop wrote */
	uint64_t dh_of[HS_RING_SLOTS]; /* the DH's copy of it */
	unsigned int dh_runs[HS_RING_SLOTS];
	pthread_t who[HS_RING_SLOTS];
	unsigned int slow_every; /* every n-th DH sleeps (uneven work) */
	uint64_t finished, out_of_order, not_done;
	pthread_t workers_seen[8];
	unsigned int n_workers_seen;
	sigset_t mask[HS_RING_SLOTS];
	/* Per batch (atomic: batches run on several threads). */
	uint64_t batches, full_batches, bad_batches;
};

static void dh(void *ctx, const unsigned int *slots, unsigned int n)
{
	struct items *it = ctx;
	bool slow = false;

	__atomic_add_fetch(&it->batches, 1, __ATOMIC_RELAXED);
	if (n == HS_RING_BATCH)
		__atomic_add_fetch(&it->full_batches, 1, __ATOMIC_RELAXED);
	if (n < 1 || n > HS_RING_BATCH)
		__atomic_add_fetch(&it->bad_batches, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int slot = slots[i];

		/* A batch is consecutive items, in push order. */
		if (i && it->seq[slot] != it->seq[slots[0]] + i)
			__atomic_add_fetch(&it->bad_batches, 1, __ATOMIC_RELAXED);
		it->dh_of[slot] = it->seq[slot];
		it->dh_runs[slot]++;
		it->who[slot] = pthread_self();
		pthread_sigmask(SIG_BLOCK, NULL, &it->mask[slot]);
		slow |= it->slow_every && it->seq[slot] % it->slow_every == 0;
	}
	if (slow)
		usleep(200);
}

static void finish(void *ctx, unsigned int slot)
{
	struct items *it = ctx;

	if (it->dh_runs[slot] != 1 || it->dh_of[slot] != it->seq[slot])
		it->not_done++;
	if (it->seq[slot] != it->finished)
		it->out_of_order++;
	it->finished++;
	it->dh_runs[slot] = 0;
	for (unsigned int i = 0; i < it->n_workers_seen; i++)
		if (pthread_equal(it->workers_seen[i], it->who[slot]))
			return;
	if (it->n_workers_seen < 8)
		it->workers_seen[it->n_workers_seen++] = it->who[slot];
}

/* Push n items (collecting without waiting whenever the ring is full). */
static void push_n(struct hs_ring *r, struct items *it, uint64_t *next_seq, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		while (hs_ring_full(r))
			hs_ring_collect(r, HS_RING_SLOTS - 1, finish, it);
		it->seq[hs_ring_tail_slot(r)] = (*next_seq)++;
		hs_ring_push(r);
	}
}

TEST(every_item_once_in_push_order)
{
	static struct items it;
	struct hs_ring r;
	uint64_t seq = 0;

	memset(&it, 0, sizeof(it));
	it.slow_every = 37;
	CHECK(hs_ring_init(&r, 4, dh, &it) == 0 && r.n_workers == 3, "4 threads: the loop and 3 workers");
	for (unsigned int round = 0; round < 40 && test_state__ == TEST_RUNNING; round++) {
		push_n(&r, &it, &seq, 1 + round * 97 % 700);
		if (round % 3)
			hs_ring_collect(&r, HS_RING_SLOTS, finish, &it); /* what is done, no wait */
	}
	hs_ring_collect(&r, 0, finish, &it);
	CHECK(hs_ring_pending(&r) == 0);
	CHECK(it.finished == seq, "%llu of %llu finished", (unsigned long long)it.finished,
	      (unsigned long long)seq);
	CHECK(it.out_of_order == 0, "%llu finished out of push order",
	      (unsigned long long)it.out_of_order);
	CHECK(it.not_done == 0, "%llu finished before (or without) exactly one DH",
	      (unsigned long long)it.not_done);
	CHECK(it.n_workers_seen > 1, "every DH ran on one thread");
	CHECK(it.bad_batches == 0, "%llu batches too large, empty or not consecutive",
	      (unsigned long long)it.bad_batches);
	/* Pushed faster than taken: most items go in whole batches. */
	CHECK(it.full_batches * HS_RING_BATCH > seq / 2, "%llu of %llu batches whole for %llu items",
	      (unsigned long long)it.full_batches, (unsigned long long)it.batches,
	      (unsigned long long)seq);
	hs_ring_fini(&r);
}

/* Fewer than a batch wait for the loop's collect (none is lost there), then run. */
TEST(items_published_by_batch_or_by_collect)
{
	static struct items it;
	struct hs_ring r;
	uint64_t seq = 0;

	memset(&it, 0, sizeof(it));
	CHECK(hs_ring_init(&r, 3, dh, &it) == 0 && r.n_workers == 2);
	push_n(&r, &it, &seq, HS_RING_BATCH - 1);
	usleep(20000);
	CHECK(__atomic_load_n(&it.batches, __ATOMIC_RELAXED) == 0,
	      "a worker took items before a whole batch or a collect");
	hs_ring_collect(&r, 0, finish, &it);
	CHECK(it.finished == HS_RING_BATCH - 1 && it.not_done == 0, "%llu finished",
	      (unsigned long long)it.finished);
	/* A whole batch is taken without a collect. */
	push_n(&r, &it, &seq, HS_RING_BATCH);
	for (int i = 0; i < 5000 && __atomic_load_n(&it.full_batches, __ATOMIC_RELAXED) == 0; i++)
		usleep(1000);
	CHECK(__atomic_load_n(&it.full_batches, __ATOMIC_RELAXED) == 1, "a whole batch was not taken by a worker");
	hs_ring_collect(&r, 0, finish, &it);
	CHECK(it.finished == seq && it.out_of_order == 0 && it.bad_batches == 0);
	hs_ring_fini(&r);
}

/* A DH that blocks until released: collect without waiting must not wait for it. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool release;
	unsigned int entered;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0 };

static void gated_dh(void *ctx, const unsigned int *slots, unsigned int n)
{
	dh(ctx, slots, n);
	pthread_mutex_lock(&gate.mu);
	gate.entered++;
	pthread_cond_broadcast(&gate.cv);
	while (!gate.release)
		pthread_cond_wait(&gate.cv, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
}

TEST(collect_without_wait_never_blocks_and_eventfd_wakes)
{
	static struct items it;
	struct pollfd pfd;
	struct hs_ring r;
	uint64_t seq = 0;

	memset(&it, 0, sizeof(it));
	gate.release = false;
	gate.entered = 0;
	CHECK(hs_ring_init(&r, 2, gated_dh, &it) == 0 && hs_ring_fd(&r) >= 0);
	/* A whole batch: the worker takes it without a collect (which would run it here). */
	push_n(&r, &it, &seq, HS_RING_BATCH);
	pthread_mutex_lock(&gate.mu);
	while (!gate.entered)
		pthread_cond_wait(&gate.cv, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
	/* Their DHs run (and block): nothing to finish, and no waiting for them. */
	CHECK(hs_ring_collect(&r, HS_RING_SLOTS, finish, &it) == 0 &&
	      hs_ring_pending(&r) == HS_RING_BATCH);
	hs_ring_arm(&r);
	CHECK(hs_ring_collect(&r, HS_RING_SLOTS, finish, &it) == 0);
	pfd = (struct pollfd){ .fd = hs_ring_fd(&r), .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0, "eventfd readable before any DH ended");
	pthread_mutex_lock(&gate.mu);
	gate.release = true;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
	CHECK(poll(&pfd, 1, 5000) == 1, "an armed loop was not woken when the DH ended");
	hs_ring_ack(&r);
	CHECK(hs_ring_collect(&r, HS_RING_SLOTS, finish, &it) == HS_RING_BATCH &&
	      it.finished == HS_RING_BATCH);
	CHECK(poll(&pfd, 1, 0) == 0, "eventfd still readable after the ack");
	hs_ring_fini(&r);
}

TEST(one_thread_runs_inline_and_zero_is_one_per_cpu)
{
	static struct items it;
	struct hs_ring r;
	uint64_t seq = 0;

	memset(&it, 0, sizeof(it));
	CHECK(hs_ring_init(&r, 1, dh, &it) == 0 && r.n_workers == 0 && hs_ring_fd(&r) < 0);
	push_n(&r, &it, &seq, 2 * HS_RING_HELP + 3);
	CHECK(it.dh_runs[0] == 0 && hs_ring_untaken(&r), "a DH ran with no thread to run it");
	/* A collect that does not wait runs HS_RING_HELP DHs: the loop's other work goes on. */
	CHECK(hs_ring_collect(&r, HS_RING_SLOTS, finish, &it) == HS_RING_HELP && hs_ring_untaken(&r));
	CHECK(hs_ring_collect(&r, 0, finish, &it) == HS_RING_HELP + 3 && !hs_ring_untaken(&r) &&
	      it.out_of_order == 0 && it.not_done == 0);
	CHECK(it.n_workers_seen == 1 && pthread_equal(it.workers_seen[0], pthread_self()));
	hs_ring_fini(&r);
	CHECK(hs_ring_init(&r, 0, dh, &it) == 0, "0: one per CPU");
	CHECK(r.n_workers + 1 == (unsigned int)sysconf(_SC_NPROCESSORS_ONLN), "%u workers",
	      r.n_workers);
	hs_ring_fini(&r);
}

/* Workers block every signal: a SIGHUP meant for the event loop's signalfd never kills one. */
TEST(workers_block_every_signal)
{
	static struct items it;
	struct hs_ring r;
	uint64_t seq = 0;
	sigset_t mine;

	memset(&it, 0, sizeof(it));
	CHECK(hs_ring_init(&r, 3, dh, &it) == 0);
	push_n(&r, &it, &seq, 64);
	for (unsigned int s = 0; s < 64; s++) {
		while (!__atomic_load_n(&r.done[s], __ATOMIC_ACQUIRE))
			usleep(100);
		CHECK(sigismember(&it.mask[s], SIGHUP) == 1 && sigismember(&it.mask[s], SIGTERM) == 1 &&
			      sigismember(&it.mask[s], SIGINT) == 1,
		      "item %u: a worker lets a signal through", s);
	}
	hs_ring_collect(&r, 0, finish, &it);
	pthread_sigmask(SIG_BLOCK, NULL, &mine);
	CHECK(sigismember(&mine, SIGHUP) == 0, "the caller's mask changed");
	hs_ring_fini(&r);
}

TEST_MAIN()
