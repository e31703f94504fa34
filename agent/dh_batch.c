// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "dh_batch.h"
#include "x25519_x4.h"

static bool use_lanes;

__attribute__((constructor)) static void dh_batch_pick(void)
{
	use_lanes = x25519_x4_supported();
}

bool dh_batch_lanes(void)
{
	return __atomic_load_n(&use_lanes, __ATOMIC_RELAXED);
}

int dh_batch_use_lanes(bool on)
{
	if (on && !x25519_x4_supported())
		return -ENOTSUP;
	__atomic_store_n(&use_lanes, on, __ATOMIC_RELAXED);
	return 0;
}

/* Pairs [0, n) with 1 <= n <= 4 on the four lanes; unused lanes repeat pair 0. */
static void four(size_t n, const uint8_t *const priv[], const uint8_t *const pub[],
		 uint8_t *const out[], int ret[])
{
	const uint8_t *k[X25519_X4_LANES], *u[X25519_X4_LANES];
	uint8_t res[X25519_X4_LANES][32];
	unsigned int zero;

	for (size_t l = 0; l < X25519_X4_LANES; l++) {
		k[l] = priv[l < n ? l : 0];
		u[l] = pub[l < n ? l : 0];
	}
	zero = x25519_x4(res, k, u);
	for (size_t l = 0; l < n; l++) {
		memcpy(out[l], res[l], 32);
		ret[l] = zero >> l & 1 ? -EINVAL : 0;
	}
	sodium_memzero(res, sizeof(res));
}

void dh_batch(size_t n, const uint8_t *const priv[], const uint8_t *const pub[],
	      uint8_t *const out[], int ret[])
{
	size_t i = 0;

	if (dh_batch_lanes()) {
		while (n - i >= DH_BATCH_LANES_MIN) {
			size_t m = n - i < X25519_X4_LANES ? n - i : X25519_X4_LANES;

			four(m, priv + i, pub + i, out + i, ret + i);
			i += m;
		}
	}
	for (; i < n; i++)
		ret[i] = crypto_scalarmult(out[i], priv[i], pub[i]) ? -EINVAL : 0;
}
