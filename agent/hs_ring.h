/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handshake threads' ring: a pipeline, not a fork-join.
 *
 * The event loop appends initiations that passed their cheap checks, in
 * arrival order (hs_ring_push); worker threads take appended items, up to
 * HS_RING_BATCH consecutive ones at a time, and run their DHs together
 * (fn(ctx, slots, n): the items' only writer meanwhile), in any order and
 * all the time; the loop finishes the items in arrival order once their DH is
 * done (hs_ring_collect), and never waits for one while it has other work.
 * Appended items become takeable HS_RING_BATCH at a time, the rest when the
 * loop collects (at the end of its receive batch): under load the threads
 * take whole batches (four DHs on the four-lane ladder cost what ~2.4 do
 * one by one, dh_batch.h), a lone initiation waits for nothing.
 * The loop is a handshake thread too: each collect it takes up to
 * HS_RING_HELP DHs nobody took (so n threads are n - 1 workers and the loop,
 * no more threads than cores), and while some remain it looks at its sockets
 * without sleeping (hs_ring_untaken) and comes back for more.
 * Nothing joins: a worker the scheduler preempts holds up neither the other
 * workers (they take the next items) nor the loop (it finishes what is done
 * before the preempted item when that item is done, and serves its sockets
 * meanwhile). Whatever fn's results feed (the session maps, the sends) stays
 * the loop's alone, as with no threads at all.
 *
 * The ring holds slot numbers; the items themselves are the owner's array of
 * HS_RING_SLOTS entries, slot = arrival number % HS_RING_SLOTS.
 *
 * Wake-ups: a worker with nothing to take sleeps on a condition variable and
 * is signalled by a push only when one sleeps. The loop learns that items are
 * done through an eventfd (hs_ring_fd) that a worker writes at most once per
 * hs_ring_arm(): the loop arms it before its last collect of a turn, so an
 * item finished after that collect wakes the loop's epoll.
 */
#ifndef XWGP_HS_RING_H
#define XWGP_HS_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define HS_RING_SLOTS 1024 /* a power of two */
/* DHs the loop takes per collect at most (unless it must make room): ~0.3 ms. */
#define HS_RING_HELP 8
/* Items a thread takes at once: the lanes of x25519_x4.h. */
#define HS_RING_BATCH 4
#define HS_RING_MAX_THREADS 64

/* The DHs of the n items in slots (on a worker, or on the loop when it helps). */
typedef void (*hs_ring_fn)(void *ctx, const unsigned int *slots, unsigned int n);
/* Finish the item in slot, its DH done (on the loop, in arrival order). */
typedef void (*hs_ring_finish_fn)(void *ctx, unsigned int slot);

struct hs_ring {
	unsigned int n_workers; /* 0: the loop runs every DH itself, when it collects */
	pthread_t tid[HS_RING_MAX_THREADS];
	hs_ring_fn fn;
	void *ctx;
	int done_fd; /* eventfd; -1 without workers */
	/* The loop's: the oldest item not finished, and the next arrival. */
	uint64_t head;
	uint64_t tail; /* the loop's: workers read avail */
	uint64_t avail; /* atomic: items below it may be taken (published by push or collect) */
	uint64_t next; /* atomic: the next item a worker (or the helping loop) takes */
	uint8_t done[HS_RING_SLOTS]; /* atomic: the slot's DH ran */
	int armed; /* atomic: write done_fd when an item is done */
	/* Sleeping workers. */
	pthread_mutex_t mu;
	pthread_cond_t work;
	unsigned int sleepers; /* atomic reads, written under mu */
	bool stop;
};

/*
 * n_threads threads for the DHs, the loop being one: 1 = no worker (the loop
 * runs them in hs_ring_collect), 0 = one per online CPU, else n_threads - 1
 * workers. 0 or -errno.
 */
int hs_ring_init(struct hs_ring *r, unsigned int n_threads, hs_ring_fn fn, void *ctx);
void hs_ring_fini(struct hs_ring *r);

/* Items appended and not finished yet. */
static inline unsigned int hs_ring_pending(const struct hs_ring *r)
{
	return (unsigned int)(__atomic_load_n(&r->tail, __ATOMIC_RELAXED) - r->head);
}

static inline bool hs_ring_full(const struct hs_ring *r)
{
	return hs_ring_pending(r) >= HS_RING_SLOTS;
}

/* The slot the next push publishes (the caller fills its item first). */
static inline unsigned int hs_ring_tail_slot(const struct hs_ring *r)
{
	return (unsigned int)(r->tail % HS_RING_SLOTS);
}

/* Items appended that no thread has taken yet (the loop should collect again soon). */
bool hs_ring_untaken(const struct hs_ring *r);

/*
 * Append the item filled in hs_ring_tail_slot() (the ring must not be
 * full); it is published with the next HS_RING_BATCH - 1 or by the next
 * collect.
 */
void hs_ring_push(struct hs_ring *r);

/*
 * Finish, in arrival order, every item whose DH is done (finish(fctx, slot)
 * each), taking DHs nobody took on the way, HS_RING_BATCH at a time until
 * HS_RING_HELP or more (so at most HS_RING_HELP + HS_RING_BATCH - 1); while more
 * than keep items are pending, also every DH nobody took and waits for
 * those running: keep 0 drains the ring, HS_RING_SLOTS - 1 makes room for
 * one push, HS_RING_SLOTS never waits. Returns how many were finished.
 */
unsigned int hs_ring_collect(struct hs_ring *r, unsigned int keep, hs_ring_finish_fn finish,
			     void *fctx);

/*
 * Before the loop sleeps: ask for done_fd to be written when an item is
 * done. Then collect once more (an item done before the arm is finished by
 * that collect, one done after it wakes the loop).
 */
void hs_ring_arm(struct hs_ring *r);
/* Read done_fd (the loop's epoll said it is readable). */
void hs_ring_ack(struct hs_ring *r);
static inline int hs_ring_fd(const struct hs_ring *r)
{
	return r->done_fd;
}

#endif
