// SPDX-License-Identifier: GPL-2.0
/*
 * BLAKE2s as specified in RFC 7693. A warm initiation compresses ~35
 * blocks, ~4 us of its ~50 us with the portable compression below
 * (unrolled, see ROUND); on x86-64 with SSSE3 and SSE4.1 the SIMD one in
 * blake2s_x86.c replaces it, chosen once at start-up (blake2s_pick).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "blake2s_impl.h"
#include "byteorder.h"

static inline uint32_t ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

/* RFC 7693 section 3.1, with R1..R4 = 16, 12, 8, 7 for BLAKE2s. */
#define G(a, b, c, d, x, y)                                                                        \
	do {                                                                                       \
		a = a + b + (x);                                                                   \
		d = ror32(d ^ a, 16);                                                              \
		c = c + d;                                                                         \
		b = ror32(b ^ c, 12);                                                              \
		a = a + b + (y);                                                                   \
		d = ror32(d ^ a, 8);                                                               \
		c = c + d;                                                                         \
		b = ror32(b ^ c, 7);                                                               \
	} while (0)

/*
 * One round, r a constant: every blake2s_sigma[r][i] folds to a constant
 * index and v0..v15 stay in registers. The loop over rounds with the sigma
 * table read at run time kept v in memory and cost ~25% more per block.
 */
#define ROUND(r)                                                                                   \
	do {                                                                                       \
		G(v0, v4, v8, v12, m[blake2s_sigma[r][0]], m[blake2s_sigma[r][1]]);                \
		G(v1, v5, v9, v13, m[blake2s_sigma[r][2]], m[blake2s_sigma[r][3]]);                \
		G(v2, v6, v10, v14, m[blake2s_sigma[r][4]], m[blake2s_sigma[r][5]]);               \
		G(v3, v7, v11, v15, m[blake2s_sigma[r][6]], m[blake2s_sigma[r][7]]);               \
		G(v0, v5, v10, v15, m[blake2s_sigma[r][8]], m[blake2s_sigma[r][9]]);               \
		G(v1, v6, v11, v12, m[blake2s_sigma[r][10]], m[blake2s_sigma[r][11]]);             \
		G(v2, v7, v8, v13, m[blake2s_sigma[r][12]], m[blake2s_sigma[r][13]]);              \
		G(v3, v4, v9, v14, m[blake2s_sigma[r][14]], m[blake2s_sigma[r][15]]);              \
	} while (0)

void blake2s_compress_scalar(struct blake2s_state *s, const uint8_t block[BLAKE2S_BLOCK_LEN],
			     int last)
{
	uint32_t m[16];
	uint32_t v0 = s->h[0], v1 = s->h[1], v2 = s->h[2], v3 = s->h[3];
	uint32_t v4 = s->h[4], v5 = s->h[5], v6 = s->h[6], v7 = s->h[7];
	uint32_t v8 = blake2s_iv[0], v9 = blake2s_iv[1], v10 = blake2s_iv[2];
	uint32_t v11 = blake2s_iv[3], v12 = blake2s_iv[4] ^ s->t[0];
	uint32_t v13 = blake2s_iv[5] ^ s->t[1];
	uint32_t v14 = last ? ~blake2s_iv[6] : blake2s_iv[6], v15 = blake2s_iv[7];

	for (int i = 0; i < 16; i++)
		m[i] = get_le32(block + 4 * i);
	ROUND(0);
	ROUND(1);
	ROUND(2);
	ROUND(3);
	ROUND(4);
	ROUND(5);
	ROUND(6);
	ROUND(7);
	ROUND(8);
	ROUND(9);
	s->h[0] ^= v0 ^ v8;
	s->h[1] ^= v1 ^ v9;
	s->h[2] ^= v2 ^ v10;
	s->h[3] ^= v3 ^ v11;
	s->h[4] ^= v4 ^ v12;
	s->h[5] ^= v5 ^ v13;
	s->h[6] ^= v6 ^ v14;
	s->h[7] ^= v7 ^ v15;
	/* The block may be a key block (keyed hash, HMAC pads); v0..v15 live in registers. */
	sodium_memzero(m, sizeof(m));
}

#undef ROUND
#undef G

/*
 * The compression in use: the portable one until blake2s_pick() has run
 * (a constructor, so before main() and any thread), which is always right.
 */
static blake2s_compress_fn *blake2s_compress = blake2s_compress_scalar;
static bool blake2s_simd;

#if defined(__x86_64__)
__attribute__((constructor)) static void blake2s_pick(void)
{
	/* A constructor may run before libgcc's own that fills in the CPU model. */
	__builtin_cpu_init();
	blake2s_simd = __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("sse4.1");
	if (blake2s_simd)
		blake2s_compress = blake2s_compress_sse41;
}
#endif

bool blake2s_simd_supported(void)
{
	return blake2s_simd;
}

enum blake2s_impl blake2s_impl_current(void)
{
	return blake2s_compress == blake2s_compress_scalar ? BLAKE2S_IMPL_SCALAR
							   : BLAKE2S_IMPL_SIMD;
}

int blake2s_impl_select(enum blake2s_impl impl)
{
	if (impl == BLAKE2S_IMPL_SCALAR) {
		blake2s_compress = blake2s_compress_scalar;
		return 0;
	}
#if defined(__x86_64__)
	if (impl == BLAKE2S_IMPL_SIMD && blake2s_simd) {
		blake2s_compress = blake2s_compress_sse41;
		return 0;
	}
#endif
	return -ENOTSUP;
}

static void blake2s_count(struct blake2s_state *s, uint32_t n)
{
	s->t[0] += n;
	if (s->t[0] < n)
		s->t[1]++;
}

int blake2s_init(struct blake2s_state *s, size_t outlen, const void *key, size_t keylen)
{
	if (!outlen || outlen > BLAKE2S_OUT_LEN || keylen > BLAKE2S_KEY_LEN || (keylen && !key))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	memcpy(s->h, blake2s_iv, sizeof(s->h));
	/* Parameter block: digest length, key length, fanout 1, depth 1. */
	s->h[0] ^= 0x01010000 ^ (uint32_t)(keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;
	if (keylen) {
		/* The key, zero-padded, is the first block (RFC 7693 section 3.3). */
		memcpy(s->buf, key, keylen);
		s->buflen = BLAKE2S_BLOCK_LEN;
	}
	return 0;
}

void blake2s_update(struct blake2s_state *s, const void *in, size_t inlen)
{
	const uint8_t *p = in;

	while (inlen) {
		size_t n;

		/*
		 * A full buffer is compressed only once more input arrives,
		 * because the last block must be compressed with the final flag.
		 */
		if (s->buflen == BLAKE2S_BLOCK_LEN) {
			blake2s_count(s, BLAKE2S_BLOCK_LEN);
			blake2s_compress(s, s->buf, 0);
			s->buflen = 0;
		}
		n = BLAKE2S_BLOCK_LEN - s->buflen;
		if (n > inlen)
			n = inlen;
		memcpy(s->buf + s->buflen, p, n);
		s->buflen += n;
		p += n;
		inlen -= n;
	}
}

void blake2s_absorb_block(struct blake2s_state *s)
{
	if (s->buflen != BLAKE2S_BLOCK_LEN)
		return;
	blake2s_count(s, BLAKE2S_BLOCK_LEN);
	blake2s_compress(s, s->buf, 0);
	sodium_memzero(s->buf, sizeof(s->buf));
	s->buflen = 0;
}

void blake2s_final(struct blake2s_state *s, void *out)
{
	uint8_t digest[BLAKE2S_OUT_LEN];
	int i;

	blake2s_count(s, (uint32_t)s->buflen);
	memset(s->buf + s->buflen, 0, BLAKE2S_BLOCK_LEN - s->buflen);
	blake2s_compress(s, s->buf, 1);
	for (i = 0; i < 8; i++)
		put_le32(digest + 4 * i, s->h[i]);
	memcpy(out, digest, s->outlen);
	sodium_memzero(digest, sizeof(digest));
	sodium_memzero(s, sizeof(*s));
}

int blake2s(void *out, size_t outlen, const void *in, size_t inlen, const void *key,
	    size_t keylen)
{
	struct blake2s_state s;
	int ret;

	ret = blake2s_init(&s, outlen, key, keylen);
	if (ret)
		return ret;
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, out);
	return 0;
}
