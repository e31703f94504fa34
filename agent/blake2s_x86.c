// SPDX-License-Identifier: GPL-2.0
/*
 * BLAKE2s compression (RFC 7693 section 3.2) with SSSE3 and SSE4.1, for
 * x86-64: the 4x4 work vector v0..v15 as four rows of 128 bits,
 *
 *   a = v0  v1  v2  v3      c = v8  v9  v10 v11
 *   b = v4  v5  v6  v7      d = v12 v13 v14 v15
 *
 * so the four column G of a round (section 3.2, v0/v4/v8/v12 ...) run as
 * one G on whole rows, lane i being column i. The four diagonal G
 * (v0/v5/v10/v15, v1/v6/v11/v12, ...) are columns too once the rows are
 * rotated against each other; the rotation is undone after. G's rotations
 * by 16 and 8 bits move whole bytes (one pshufb); by 12 and 7, two shifts
 * and an or. The message words of each G are gathered into one vector per
 * the round's sigma row.
 *
 * One block is a chain of dependent steps (7 per half G on rows, 40 halves),
 * so what counts is the length of that chain, not the instruction count:
 * see ADD3 and ROUND. ~1.15-1.4x the portable compression's rate on the
 * project's machine (bench_handshake, handshake.blake2s).
 *
 * The target attribute keeps the build flags unchanged: blake2s.c calls
 * this only when the CPU has both extensions (blake2s_pick).
 */
#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#include <sodium.h>

#include "blake2s_impl.h"

/* Rotate every 32-bit lane right by 16 and 8 bits: byte i of the result is byte mask[i]. */
#define ROT16_MASK _mm_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)
#define ROT8_MASK _mm_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12)
#define RORV(x, n) _mm_or_si128(_mm_srli_epi32((x), (n)), _mm_slli_epi32((x), 32 - (n)))

/*
 * a + m + b with a + m first: it does not wait on b, the last value of the
 * previous step. The empty asm keeps the compiler from reassociating it
 * into b + m first, which puts two adds on the critical path.
 */
#define ADD3(a, m, b)                                                                              \
	({                                                                                         \
		__m128i am__ = _mm_add_epi32((a), (m));                                            \
		__asm__("" : "+x"(am__));                                                          \
		_mm_add_epi32(am__, (b));                                                          \
	})

/* G (section 3.1) on the four lanes at once, x and y the message words of each lane. */
#define G4(x, y)                                                                                   \
	do {                                                                                       \
		a = ADD3(a, (x), b);                                                               \
		d = _mm_shuffle_epi8(_mm_xor_si128(d, a), rot16);                                  \
		c = _mm_add_epi32(c, d);                                                           \
		b = _mm_xor_si128(b, c);                                                           \
		b = RORV(b, 12);                                                                   \
		a = ADD3(a, (y), b);                                                               \
		d = _mm_shuffle_epi8(_mm_xor_si128(d, a), rot8);                                   \
		c = _mm_add_epi32(c, d);                                                           \
		b = _mm_xor_si128(b, c);                                                           \
		b = RORV(b, 7);                                                                    \
	} while (0)

/* Message words sigma[r][i], [j], [k], [l] into lanes 0..3 (r, i..l constants: folded). */
#define GATHER(r, i, j, k, l)                                                                      \
	_mm_setr_epi32((int)m[blake2s_sigma[r][i]], (int)m[blake2s_sigma[r][j]],                   \
		       (int)m[blake2s_sigma[r][k]], (int)m[blake2s_sigma[r][l]])

/*
 * One round: columns, then diagonals. For the diagonals a, c and d rotate
 * and b stays: b is the last value G produces and the first the next G
 * needs, so a lane rotation of b would lengthen the chain, one of a, c or d
 * runs beside it. Lane j then holds v[(j + 3) % 4], v[4 + j],
 * v[8 + (j + 1) % 4], v[12 + (j + 2) % 4]: the diagonal G number
 * (j + 3) % 4 of section 3.2 (lanes 0..3: G 3, 0, 1, 2), whose message
 * words are sigma[r][8 + 2i] and sigma[r][9 + 2i] for G number i.
 */
#define ROUND(r)                                                                                   \
	do {                                                                                       \
		G4(GATHER(r, 0, 2, 4, 6), GATHER(r, 1, 3, 5, 7));                                  \
		a = _mm_shuffle_epi32(a, _MM_SHUFFLE(2, 1, 0, 3));                                 \
		c = _mm_shuffle_epi32(c, _MM_SHUFFLE(0, 3, 2, 1));                                 \
		d = _mm_shuffle_epi32(d, _MM_SHUFFLE(1, 0, 3, 2));                                 \
		G4(GATHER(r, 14, 8, 10, 12), GATHER(r, 15, 9, 11, 13));                            \
		a = _mm_shuffle_epi32(a, _MM_SHUFFLE(0, 3, 2, 1));                                 \
		c = _mm_shuffle_epi32(c, _MM_SHUFFLE(2, 1, 0, 3));                                 \
		d = _mm_shuffle_epi32(d, _MM_SHUFFLE(1, 0, 3, 2));                                 \
	} while (0)

__attribute__((target("ssse3,sse4.1"))) void
blake2s_compress_sse41(struct blake2s_state *s, const uint8_t block[BLAKE2S_BLOCK_LEN], int last)
{
	const __m128i rot16 = ROT16_MASK, rot8 = ROT8_MASK;
	const __m128i h0 = _mm_loadu_si128((const __m128i *)s->h);
	const __m128i h1 = _mm_loadu_si128((const __m128i *)(s->h + 4));
	__m128i a = h0, b = h1;
	__m128i c = _mm_loadu_si128((const __m128i *)blake2s_iv);
	/* Section 3.2: v12, v13 ^= the counter; v14 inverted for the last block. */
	__m128i d = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(blake2s_iv + 4)),
				  _mm_setr_epi32((int)s->t[0], (int)s->t[1], last ? -1 : 0, 0));
	uint32_t m[16];

	/* Little-endian words (section 2.4), as x86 stores them. */
	memcpy(m, block, sizeof(m));
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
	_mm_storeu_si128((__m128i *)s->h, _mm_xor_si128(h0, _mm_xor_si128(a, c)));
	_mm_storeu_si128((__m128i *)(s->h + 4), _mm_xor_si128(h1, _mm_xor_si128(b, d)));
	/* The block may be a key block (keyed hash, HMAC pads), as in blake2s.c. */
	sodium_memzero(m, sizeof(m));
}

#endif /* __x86_64__ */
