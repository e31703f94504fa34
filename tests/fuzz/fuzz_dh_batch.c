// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz dh_batch() (agent/dh_batch.c, the four-lane AVX2 ladder of
 * agent/x25519_x4.c for three or more pairs) against libsodium's
 * crypto_scalarmult, one pair at a time: the slow-path twin.
 *
 * The public halves are what a client puts on the wire (its ephemeral and,
 * encrypted, its static), so any 32 bytes: non-canonical encodings
 * (p .. 2^255-1), bit 255 set, points of small order, the twist. For each
 * pair the batch must write exactly the bytes libsodium writes and fail
 * exactly where libsodium fails (an all-zero result). Input: byte 0 picks
 * how many pairs (1..8), then 64 bytes per pair (private, public), zeros
 * where the input runs out.
 */
#include <errno.h>
#include <sodium.h>

#include "dh_batch.h"
#include "fuzz.h"

#define MAX_PAIRS 8

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		fuzz_bug("sodium_init failed");
	if (!dh_batch_lanes())
		fuzz_unavailable("this CPU has no AVX2: dh_batch runs libsodium only, nothing to compare");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t priv[MAX_PAIRS][32], pub[MAX_PAIRS][32], out[MAX_PAIRS][32];
	const uint8_t *privs[MAX_PAIRS], *pubs[MAX_PAIRS];
	uint8_t *outs[MAX_PAIRS];
	int ret[MAX_PAIRS];
	size_t n = 1 + fuzz_u8(&in) % MAX_PAIRS;

	for (size_t i = 0; i < n; i++) {
		fuzz_bytes(&in, priv[i], 32);
		fuzz_bytes(&in, pub[i], 32);
		memset(out[i], 0xa5, 32);
		privs[i] = priv[i];
		pubs[i] = pub[i];
		outs[i] = out[i];
	}
	dh_batch(n, privs, pubs, outs, ret);
	for (size_t i = 0; i < n; i++) {
		uint8_t want[32];
		int want_ret = crypto_scalarmult(want, priv[i], pub[i]) ? -EINVAL : 0;

		if (ret[i] != want_ret)
			fuzz_bug("pair %zu of %zu: dh_batch returned %d, libsodium %d", i, n, ret[i],
				 want_ret);
		if (!want_ret && memcmp(out[i], want, 32))
			fuzz_bug("pair %zu of %zu: dh_batch and libsodium computed different secrets",
				 i, n);
	}
	return 0;
}
