// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake threads' fork-join pool (agent/hs_pool.c): every item of
 * every batch runs exactly once, on more than one thread, and the batch is
 * complete when hs_pool_run() returns. Plain (non-atomic) writes per item:
 * built with -fsanitize=thread, a double run or a missing join is a report.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "hs_pool.h"
#include "test.h"

struct batch {
	unsigned int seen[64];
	pthread_t who[64];
	uint64_t tag;
};

static void mark(void *ctx, unsigned int i)
{
	struct batch *b = ctx;

	b->seen[i]++;
	b->who[i] = pthread_self();
	if (i % 7 == 0)
		usleep(50); /* uneven work: others take the rest */
}

TEST(every_item_once_per_batch)
{
	struct hs_pool p;
	unsigned int threads_used = 1;

	CHECK(hs_pool_init(&p, 4) == 0);
	CHECK(p.n_threads == 4, "%u threads", p.n_threads);
	for (unsigned int round = 0; round < 500 && test_state__ == TEST_RUNNING; round++) {
		struct batch b;
		unsigned int n = 1 + round % 64, distinct = 0;

		memset(&b, 0, sizeof(b));
		hs_pool_run(&p, mark, &b, n);
		for (unsigned int i = 0; i < 64; i++)
			CHECK(b.seen[i] == (i < n), "round %u item %u ran %u times", round, i,
			      b.seen[i]);
		for (unsigned int i = 0; i < n; i++) {
			unsigned int j = 0;

			while (j < i && !pthread_equal(b.who[j], b.who[i]))
				j++;
			distinct += j == i;
		}
		if (distinct > threads_used)
			threads_used = distinct;
	}
	CHECK(threads_used > 1, "every batch ran on one thread");
	hs_pool_fini(&p);
}

TEST(one_thread_runs_inline)
{
	struct hs_pool p;
	struct batch b;

	memset(&b, 0, sizeof(b));
	CHECK(hs_pool_init(&p, 1) == 0);
	hs_pool_run(&p, mark, &b, 10);
	for (unsigned int i = 0; i < 10; i++)
		CHECK(b.seen[i] == 1 && pthread_equal(b.who[i], pthread_self()), "item %u", i);
	hs_pool_fini(&p);
	CHECK(hs_pool_init(&p, 0) == 0, "0: one per CPU");
	CHECK(p.n_threads == (unsigned int)sysconf(_SC_NPROCESSORS_ONLN), "%u threads",
	      p.n_threads);
	hs_pool_fini(&p);
}

/* Workers block every signal: a SIGHUP meant for the event loop's signalfd never kills one. */
struct masks {
	sigset_t m[8];
	pthread_t who[8];
};

static void read_mask(void *ctx, unsigned int i)
{
	struct masks *ms = ctx;

	pthread_sigmask(SIG_BLOCK, NULL, &ms->m[i]);
	ms->who[i] = pthread_self();
	usleep(2000); /* hold the item: the others go to other threads */
}

TEST(workers_block_every_signal)
{
	struct masks ms;
	struct hs_pool p;
	sigset_t mine;
	int by_workers = 0;

	CHECK(hs_pool_init(&p, 4) == 0);
	hs_pool_run(&p, read_mask, &ms, 8);
	for (int i = 0; i < 8; i++) {
		if (pthread_equal(ms.who[i], pthread_self()))
			continue; /* the caller's items run with its own mask */
		by_workers++;
		CHECK(sigismember(&ms.m[i], SIGHUP) == 1 && sigismember(&ms.m[i], SIGTERM) == 1 &&
			      sigismember(&ms.m[i], SIGINT) == 1,
		      "item %d: a worker lets a signal through", i);
	}
	CHECK(by_workers > 0, "no item ran on a worker");
	pthread_sigmask(SIG_BLOCK, NULL, &mine);
	CHECK(sigismember(&mine, SIGHUP) == 0, "the caller's mask changed");
	hs_pool_fini(&p);
}

TEST_MAIN()
