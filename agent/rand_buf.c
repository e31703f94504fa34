// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include <sodium.h>

#include "rand_buf.h"

#define RAND_BUF_WORDS 64

static __thread struct {
	uint32_t v[RAND_BUF_WORDS];
	unsigned int left; /* values not handed out yet, at the end of v */
} rb;

uint32_t xwgp_rand32(void)
{
	uint32_t x;

	if (!rb.left) {
		randombytes_buf(rb.v, sizeof(rb.v));
		rb.left = RAND_BUF_WORDS;
	}
	rb.left--;
	x = rb.v[rb.left];
	rb.v[rb.left] = 0; /* handed out: not kept for later readers of this memory */
	return x;
}
