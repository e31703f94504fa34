// SPDX-License-Identifier: GPL-2.0
/*
 * agent/peer_mirror.c against a plain array model: random puts, gets and
 * deletes over a small key space (long probe runs, deletions in the middle
 * of runs, the table growing from its first 64 slots), and the walk sees
 * each live pair once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "peer_mirror.h"
#include "test.h"

#define KEYS 300

static struct xwgp_peer_key key_of(int i)
{
	struct xwgp_peer_key k;

	memset(&k, 0, sizeof(k));
	k.client_pub[0] = (uint8_t)i;
	k.client_pub[1] = (uint8_t)(i >> 8);
	k.server_pub[31] = 7;
	return k;
}

TEST(agrees_with_a_model_under_random_operations)
{
	static struct { bool live; struct xwgp_peer_state st; } model[KEYS];
	struct peer_mirror m;
	unsigned int seed = 99;
	int live = 0;

	CHECK(sodium_init() >= 0);
	CHECK(peer_mirror_init(&m, 200) == 0 && m.n_slots < 400, "%u slots before any pair", m.n_slots);
	for (int op = 0; op < 200000 && test_state__ == TEST_RUNNING; op++) {
		int i = (int)(rand_r(&seed) % KEYS), r = (int)(rand_r(&seed) % 10);
		struct xwgp_peer_key k = key_of(i);
		struct xwgp_peer_state st;

		if (r < 5) {
			memset(&st, 0, sizeof(st));
			st.updated_ns = (uint64_t)op;
			st.sessions[0] = (uint32_t)i;
			if (!model[i].live && live == 200) {
				CHECK(peer_mirror_put(&m, &k, &st) == -E2BIG, "op %d: put beyond capacity", op);
				continue;
			}
			CHECK(peer_mirror_put(&m, &k, &st) == 0, "op %d: put refused", op);
			live += !model[i].live;
			model[i].live = true;
			model[i].st = st;
		} else if (r < 8) {
			CHECK(peer_mirror_del(&m, &k) == (model[i].live ? 0 : -ENOENT), "op %d: del", op);
			live -= model[i].live;
			model[i].live = false;
		}
		/* Every key, every few operations: gets agree with the model. */
		if (op % 997 == 0 || r >= 8) {
			for (int j = 0; j < KEYS; j++) {
				struct xwgp_peer_key kj = key_of(j);
				int got = peer_mirror_get(&m, &kj, &st);

				CHECK(got == (model[j].live ? 0 : -ENOENT), "op %d key %d: get %d", op, j, got);
				if (!got && model[j].live)
					CHECK(!memcmp(&st, &model[j].st, sizeof(st)), "op %d key %d: state", op, j);
				if (test_state__ != TEST_RUNNING)
					break;
			}
		}
	}
	CHECK(m.n_used == (uint32_t)live, "%u used, %d live", m.n_used, live);
	CHECK(m.n_slots >= 400 && m.n_slots <= 512, "%u slots for at most 200 pairs", m.n_slots);
	{
		const struct peer_mirror_entry *e;
		uint32_t cursor = 0;
		int seen = 0, wrong = 0;

		while ((e = peer_mirror_next(&m, &cursor))) {
			int i = e->k.client_pub[0] | e->k.client_pub[1] << 8;

			seen++;
			wrong += i >= KEYS || !model[i].live ||
				 memcmp(&e->st, &model[i].st, sizeof(e->st));
		}
		CHECK(seen == live && wrong == 0, "walk: %d seen of %d live, %d wrong", seen, live,
		      wrong);
	}
	peer_mirror_free(&m);
}

TEST(bad_capacity_refused)
{
	struct peer_mirror m;

	CHECK(peer_mirror_init(&m, 0) == -EINVAL);
	CHECK(peer_mirror_init(&m, 1u << 29) == -EINVAL);
}

TEST_MAIN()
