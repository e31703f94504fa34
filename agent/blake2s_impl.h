/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BLAKE2s internals: the constants and the two compression functions, the
 * portable one (blake2s.c) and the x86-64 SIMD one (blake2s_x86.c), shared
 * with tests/unit/test_blake2s.c, which checks one against the other.
 * Callers hash through blake2s.h; nothing else includes this header.
 */
#ifndef XWGP_BLAKE2S_IMPL_H
#define XWGP_BLAKE2S_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "blake2s.h"

/*
 * static, not extern: the compressions index the tables with constants
 * only, which the compiler folds when it sees the values.
 */
static const uint32_t blake2s_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* RFC 7693 section 2.7: message word schedule for the ten rounds. */
static const uint8_t blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

/*
 * RFC 7693 section 3.2, F: compress one block into s->h with the counter
 * s->t (already advanced by the caller), the final-block flag when last.
 * The block need not be aligned.
 */
typedef void blake2s_compress_fn(struct blake2s_state *s, const uint8_t block[BLAKE2S_BLOCK_LEN],
				 int last);

blake2s_compress_fn blake2s_compress_scalar;
#if defined(__x86_64__)
/* The same with SSSE3 and SSE4.1 (blake2s_x86.c): only where blake2s_simd_supported(). */
blake2s_compress_fn blake2s_compress_sse41;
#endif

enum blake2s_impl {
	BLAKE2S_IMPL_SCALAR,
	BLAKE2S_IMPL_SIMD,
};

/* Whether this build and CPU have the SIMD compression (asked of the CPU once). */
bool blake2s_simd_supported(void);
/*
 * The compression blake2s_update() and blake2s_final() use from now on,
 * process-wide and not thread-safe: for tests and benchmarks, before any
 * other thread hashes. At start-up it is SIMD where supported. Returns 0,
 * or -ENOTSUP for SIMD where it is not supported (nothing changes).
 */
int blake2s_impl_select(enum blake2s_impl impl);
enum blake2s_impl blake2s_impl_current(void);

#endif /* XWGP_BLAKE2S_IMPL_H */
