// SPDX-License-Identifier: GPL-2.0
/*
 * agent/x25519_x4.c against RFC 7748's vectors and, lane by lane, against
 * libsodium's crypto_scalarmult: random keys and points, points that are
 * not canonical (p and above, bit 255 set), low-order points (all-zero
 * output, crypto_scalarmult's -1), the largest limbs the loader makes, and
 * long chains where each output is the next input.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "test.h"
#include "x25519_x4.h"

#define LANES X25519_X4_LANES

static void hex32(uint8_t out[32], const char *hex)
{
	size_t n = 0;

	if (sodium_hex2bin(out, 32, hex, 64, NULL, &n, NULL) || n != 32)
		memset(out, 0xee, 32);
}

/* Every lane against crypto_scalarmult; returns the mismatches (and says which). */
static int compare_lanes(uint8_t k[LANES][32], uint8_t u[LANES][32], const char *what, int round)
{
	const uint8_t *kp[LANES], *up[LANES];
	uint8_t out[LANES][32], want[32];
	unsigned int zero;
	int bad = 0;

	for (int l = 0; l < LANES; l++) {
		kp[l] = k[l];
		up[l] = u[l];
	}
	zero = x25519_x4(out, kp, up);
	for (int l = 0; l < LANES; l++) {
		int ret = crypto_scalarmult(want, k[l], u[l]);
		bool lane_zero = zero >> l & 1;

		if ((ret != 0) != lane_zero || (ret == 0 && memcmp(want, out[l], 32))) {
			if (bad++ < 3)
				printf("# %s round %d lane %d: libsodium %d, x4 zero %d\n", what,
				       round, l, ret, lane_zero);
		}
	}
	return bad;
}

TEST(rfc7748_vectors_in_every_lane)
{
	static const char *const vec[2][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[2][32], u[2][32], want[2][32], out[LANES][32];
	const uint8_t *kp[LANES], *up[LANES];

	if (!x25519_x4_supported())
		SKIP("this CPU has no AVX2: the handshake threads use libsodium alone");
	for (int v = 0; v < 2; v++) {
		hex32(k[v], vec[v][0]);
		hex32(u[v], vec[v][1]);
		hex32(want[v], vec[v][2]);
	}
	/* Lane l gets vector (l + shift) % 2: both vectors in every lane. */
	for (int shift = 0; shift < 2; shift++) {
		for (int l = 0; l < LANES; l++) {
			kp[l] = k[(l + shift) % 2];
			up[l] = u[(l + shift) % 2];
		}
		CHECK(x25519_x4(out, kp, up) == 0, "no lane is zero");
		for (int l = 0; l < LANES; l++)
			CHECK_MEM(out[l], want[(l + shift) % 2], 32);
	}
}

/* RFC 7748 section 5.2: k = X25519(k, u), u = old k, from k = u = 9; after 1 and 1000. */
TEST(rfc7748_iterated_1000_times)
{
	uint8_t k[LANES][32], u[LANES][32], out[LANES][32], want1[32], want1000[32];
	const uint8_t *kp[LANES], *up[LANES];

	if (!x25519_x4_supported())
		SKIP("this CPU has no AVX2: the handshake threads use libsodium alone");
	hex32(want1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
	hex32(want1000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	memset(k, 0, sizeof(k));
	memset(u, 0, sizeof(u));
	for (int l = 0; l < LANES; l++) {
		k[l][0] = 9;
		u[l][0] = 9;
		kp[l] = k[l];
		up[l] = u[l];
	}
	for (int i = 1; i <= 1000; i++) {
		CHECK(x25519_x4(out, kp, up) == 0, "iteration %d: no lane is zero", i);
		memcpy(u, k, sizeof(k));
		memcpy(k, out, sizeof(out));
		if (i == 1)
			for (int l = 0; l < LANES; l++)
				CHECK_MEM(k[l], want1, 32);
	}
	for (int l = 0; l < LANES; l++)
		CHECK_MEM(k[l], want1000, 32);
}

TEST(random_keys_and_points_match_libsodium)
{
	uint8_t k[LANES][32], u[LANES][32];
	int bad = 0, rounds = 5000;

	if (!x25519_x4_supported())
		SKIP("this CPU has no AVX2: the handshake threads use libsodium alone");
	for (int r = 0; r < rounds; r++) {
		randombytes_buf(k, sizeof(k));
		randombytes_buf(u, sizeof(u));
		bad += compare_lanes(k, u, "random", r);
	}
	CHECK(bad == 0, "%d of %d lanes differ", bad, rounds * LANES);
}

/*
 * Points a ladder's carries and final reduction find hardest: at and
 * above p (2^255 - 19 .. 2^255 - 1, only bit 255 masked), with bit 255
 * set, the largest limbs, zero, one, p - 1 and the low-order points
 * (crypto_scalarmult returns -1: the x4 lane must be all-zero).
 */
TEST(edge_points_match_libsodium)
{
	uint8_t pts[64][32], k[LANES][32], u[LANES][32];
	int n = 0, bad = 0;

	if (!x25519_x4_supported())
		SKIP("this CPU has no AVX2: the handshake threads use libsodium alone");
	/* p - 1 .. 2^255 - 1 (p + 18), and the same with bit 255 set. */
	for (int d = -1; d <= 18; d++) {
		memset(pts[n], 0xff, 32);
		pts[n][31] = 0x7f;
		pts[n][0] = (uint8_t)(0xed + d);
		memcpy(pts[n + 1], pts[n], 32);
		pts[n + 1][31] |= 0x80;
		n += 2;
	}
	/* 0, 1, 2 and 2^255 - 1 - x for small x in the top bytes only (every limb full). */
	for (int v = 0; v < 3; v++) {
		memset(pts[n], 0, 32);
		pts[n++][0] = (uint8_t)v;
	}
	memset(pts[n], 0xff, 32);
	pts[n++][31] = 0x7f;
	memset(pts[n], 0xff, 32); /* 2^256 - 1: bit 255 masked, so 2^255 - 1 */
	n++;
	/* The two u of the points of order 8 (RFC 7748 section 6.1's all-zero outputs). */
	hex32(pts[n++], "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
	hex32(pts[n++], "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157");
	for (int i = n - 2; i < n; i++) {
		uint8_t o[32];

		randombytes_buf(k[0], 32);
		CHECK(crypto_scalarmult(o, k[0], pts[i]) == -1, "point %d is not of low order", i);
	}
	for (int i = 0; i < n; i++) {
		for (int r = 0; r < 8; r++) {
			randombytes_buf(k, sizeof(k));
			for (int l = 0; l < LANES; l++)
				memcpy(u[l], pts[(i + l * (r + 1)) % n], 32);
			bad += compare_lanes(k, u, "edge", i * 8 + r);
		}
	}
	/* Scalars whose clamped form is all ones, or all zero, between the fixed bits. */
	for (int i = 0; i < n; i++) {
		memset(k[0], 0xff, 32);
		memset(k[1], 0x00, 32);
		memset(k[2], 0x55, 32);
		memset(k[3], 0xaa, 32);
		for (int l = 0; l < LANES; l++)
			memcpy(u[l], pts[i], 32);
		bad += compare_lanes(k, u, "edge scalar", i);
	}
	CHECK(bad == 0, "%d lanes differ", bad);
}

/* Each output the next point (values no test author picked), 2000 rounds per lane. */
TEST(chained_outputs_match_libsodium)
{
	uint8_t k[LANES][32], u[LANES][32], out[LANES][32];
	const uint8_t *kp[LANES], *up[LANES];
	int bad = 0;

	if (!x25519_x4_supported())
		SKIP("this CPU has no AVX2: the handshake threads use libsodium alone");
	randombytes_buf(k, sizeof(k));
	randombytes_buf(u, sizeof(u));
	for (int l = 0; l < LANES; l++) {
		kp[l] = k[l];
		up[l] = u[l];
	}
	for (int r = 0; r < 2000 && bad == 0; r++) {
		uint8_t want[32];

		x25519_x4(out, kp, up);
		for (int l = 0; l < LANES; l++) {
			if (crypto_scalarmult(want, k[l], u[l]) || memcmp(want, out[l], 32))
				bad++;
		}
		memcpy(u, out, sizeof(out));
		k[r % LANES][r % 32] ^= out[0][0] | 1;
	}
	CHECK(bad == 0, "chain broke: %d lanes differ", bad);
}

/* value (little-endian 32 bytes, below 2^256) mod p, the slow way: subtract p while it is p or more. */
static void mod_p(uint8_t out[32], const uint8_t value[32])
{
	static const uint8_t p[32] = { 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };

	memcpy(out, value, 32);
	for (;;) {
		uint8_t t[32];
		int borrow = 0;

		for (int i = 0; i < 32; i++) {
			int d = out[i] - p[i] - borrow;

			borrow = d < 0;
			t[i] = (uint8_t)d;
		}
		if (borrow)
			return;
		memcpy(out, t, 32);
	}
}

/* The value of ten limbs (widths 26, 25, ...), each may exceed its width, as bytes. */
static void limbs_value(uint8_t out[32], const uint64_t l[10])
{
	unsigned __int128 acc[5] = { 0 }; /* 64-bit words with room for carries */
	int w = 0;

	for (int i = 0; i < 10; i++) {
		unsigned __int128 v = (unsigned __int128)l[i] << (w % 64);

		acc[w / 64] += (uint64_t)v;
		acc[w / 64 + 1] += (uint64_t)(v >> 64);
		w += i & 1 ? 25 : 26;
	}
	for (int i = 0; i < 4; i++) {
		acc[i + 1] += acc[i] >> 64;
		for (int b = 0; b < 8; b++)
			out[8 * i + b] = (uint8_t)(acc[i] >> (8 * b));
	}
}

/*
 * The final reduction on limbs no ladder output can be steered to: values
 * just below and above p, 2p and 2^255, with limbs at the top of what a
 * carried element allows (odd limbs up to 2^25 + 2^18), each against the
 * slow reference above.
 */
TEST(canonical_bytes_of_edge_limbs)
{
	static const uint64_t top26 = (1u << 26) - 1, top25 = (1u << 25) - 1;
	uint64_t l[10], copy[10];
	uint8_t got[32], value[32], want[32];
	int cases = 0;

	for (int d = -40; d <= 40; d++) {
		for (int form = 0; form < 4; form++) {
			/* p + d: every limb full but the lowest, which is 2^26 - 19 + d */
			for (int i = 0; i < 10; i++)
				l[i] = i & 1 ? top25 : top26;
			l[0] = (uint64_t)((int64_t)top26 - 18 + d); /* p + d */
			if (form == 1) { /* the same value, part of limb 2 carried as a too-full limb 1 */
				l[1] += 1u << 18;
				l[2] -= 1u << 17;
			}
			if (form == 2) /* p + d + 2^255: bit 255 in limb 9, folded as 19 */
				l[9] += 1;
			if (form == 3) { /* odd limbs at 2^25 + 2^18, the most a carry leaves */
				for (int i = 1; i < 10; i += 2)
					l[i] = top25 + (1u << 18);
			}
			memcpy(copy, l, sizeof(l));
			limbs_value(value, copy);
			mod_p(want, value);
			x25519_x4_limbs_store(got, l);
			CHECK(!memcmp(got, want, 32), "d %d form %d: not the canonical value", d, form);
			cases++;
		}
	}
	CHECK(cases == 81 * 4, "%d cases", cases);
}

TEST_MAIN()
