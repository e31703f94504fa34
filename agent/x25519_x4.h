/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Four X25519 (RFC 7748) at once with AVX2: one Montgomery ladder whose
 * field elements hold four independent values, one per 64-bit lane, so
 * each vector multiply does four lanes' work. Each lane has its own scalar
 * and point; the results are byte for byte those of libsodium's
 * crypto_scalarmult (tests/unit/test_x25519_x4.c).
 *
 * Its use: the handshake threads take initiations four at a time under
 * load, and one four-lane ladder costs what ~2.4 of libsodium's DHs do
 * (20.8 against 34.9 us per DH, bench_handshake, handshake.x25519_x4).
 * Fewer lanes than four cost the same as four, so callers with one or two
 * DHs call libsodium (dh_batch.h).
 *
 * Constant time: the ladder's swaps are lane masks, no branch and no
 * memory address depends on a scalar or point.
 */
#ifndef XWGP_X25519_X4_H
#define XWGP_X25519_X4_H

#include <stdbool.h>
#include <stdint.h>

#define X25519_X4_LANES 4

/* Whether this CPU runs x25519_x4 (AVX2). */
bool x25519_x4_supported(void);

/*
 * out[i] = X25519(scalar[i], point[i]) for the four lanes (the scalar is
 * clamped and the point's top bit ignored, as RFC 7748 says). Returns a
 * mask with bit i set when out[i] is all-zero (a low-order point:
 * crypto_scalarmult's -1). Only when x25519_x4_supported().
 */
unsigned int x25519_x4(uint8_t out[X25519_X4_LANES][32],
		       const uint8_t *const scalar[X25519_X4_LANES],
		       const uint8_t *const point[X25519_X4_LANES]);

/*
 * For tests: the canonical bytes of a field element given as ten limbs of
 * 26 and 25 bits alternately (limb i weighs 2^ceil(25.5 i)), each below
 * 2^26 (even limbs) or 2^25 + 2^18 (odd ones). limbs is overwritten.
 */
void x25519_x4_limbs_store(uint8_t out[32], uint64_t limbs[10]);

#endif
