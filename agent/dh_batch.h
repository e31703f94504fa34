/* SPDX-License-Identifier: GPL-2.0 */
/*
 * X25519 for many (private, public) pairs at once: four at a time on the
 * AVX2 ladder (x25519_x4.h) where that is cheaper than libsodium one by
 * one, libsodium for the rest. The handshake threads hand it the DHs of
 * the initiations they took together (wg_consume_initiations).
 */
#ifndef XWGP_DH_BATCH_H
#define XWGP_DH_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Fewest pairs worth a four-lane ladder: it costs about as much as 2.4
 * of libsodium's DHs (bench_handshake, handshake.x25519_x4), so two or
 * fewer go to libsodium.
 */
#define DH_BATCH_LANES_MIN 3

/*
 * out[i] = X25519(priv[i], pub[i]) for i < n, byte for byte what
 * crypto_scalarmult writes; ret[i] = 0, or -EINVAL for an all-zero result
 * (crypto_scalarmult's -1; out[i] is then not to be used).
 */
void dh_batch(size_t n, const uint8_t *const priv[], const uint8_t *const pub[],
	      uint8_t *const out[], int ret[]);

/*
 * Whether dh_batch uses the four-lane ladder (at start: when the CPU has
 * AVX2). Turning it on without AVX2 is -ENOTSUP; for tests and the
 * benchmark's side-by-side rows.
 */
bool dh_batch_lanes(void);
int dh_batch_use_lanes(bool on);

#endif
