// SPDX-License-Identifier: GPL-2.0
/*
 * agent/rand_buf.c: values across many refills look uniform bit by bit,
 * and two threads draw from their own buffers (not the same sequence).
 */
#include <pthread.h>
#include <string.h>

#include "rand_buf.h"
#include "test.h"

#define N 8192

TEST(bits_balanced_across_refills)
{
	static uint32_t v[N];
	unsigned int ones[32] = { 0 }, repeats = 0;

	for (int i = 0; i < N; i++) {
		v[i] = xwgp_rand32();
		for (int b = 0; b < 32; b++)
			ones[b] += (v[i] >> b) & 1;
		repeats += i > 0 && v[i] == v[i - 1];
	}
	/* Binomial(8192, 1/2): sd 45; 6 sd either side never fails by chance in practice. */
	for (int b = 0; b < 32; b++)
		CHECK(ones[b] > N / 2 - 270 && ones[b] < N / 2 + 270, "bit %d set %u times of %d", b,
		      ones[b], N);
	CHECK(repeats == 0, "%u values equal to the one before", repeats);
}

static void *draw(void *arg)
{
	uint32_t *out = arg;

	for (int i = 0; i < 256; i++)
		out[i] = xwgp_rand32();
	return NULL;
}

TEST(threads_draw_their_own_values)
{
	static uint32_t a[256], b[256];
	pthread_t t1, t2;
	int same = 0;

	CHECK(pthread_create(&t1, NULL, draw, a) == 0 && pthread_create(&t2, NULL, draw, b) == 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	for (int i = 0; i < 256; i++)
		same += a[i] == b[i];
	CHECK(same < 3, "%d of 256 values the same in both threads", same);
}

TEST_MAIN()
