// SPDX-License-Identifier: GPL-2.0
/*
 * BLAKE2s as specified in RFC 7693, written for clarity over speed: the
 * agent hashes a handful of short messages per handshake, and the X25519
 * operations next to it cost far more.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "blake2s.h"
#include "byteorder.h"

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

static inline uint32_t ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

/* RFC 7693 section 3.1, with R1..R4 = 16, 12, 8, 7 for BLAKE2s. */
static inline void blake2s_g(uint32_t v[16], int a, int b, int c, int d, uint32_t x, uint32_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = ror32(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 12);
	v[a] = v[a] + v[b] + y;
	v[d] = ror32(v[d] ^ v[a], 8);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 7);
}

static void blake2s_compress(struct blake2s_state *s, const uint8_t block[BLAKE2S_BLOCK_LEN],
			     int last)
{
	uint32_t m[16], v[16];
	int i, r;

	for (i = 0; i < 16; i++)
		m[i] = get_le32(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];
	for (r = 0; r < 10; r++) {
		const uint8_t *sg = blake2s_sigma[r];

		blake2s_g(v, 0, 4, 8, 12, m[sg[0]], m[sg[1]]);
		blake2s_g(v, 1, 5, 9, 13, m[sg[2]], m[sg[3]]);
		blake2s_g(v, 2, 6, 10, 14, m[sg[4]], m[sg[5]]);
		blake2s_g(v, 3, 7, 11, 15, m[sg[6]], m[sg[7]]);
		blake2s_g(v, 0, 5, 10, 15, m[sg[8]], m[sg[9]]);
		blake2s_g(v, 1, 6, 11, 12, m[sg[10]], m[sg[11]]);
		blake2s_g(v, 2, 7, 8, 13, m[sg[12]], m[sg[13]]);
		blake2s_g(v, 3, 4, 9, 14, m[sg[14]], m[sg[15]]);
	}
	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
	/* The block may be a key block (keyed hash, HMAC pads). */
	sodium_memzero(m, sizeof(m));
	sodium_memzero(v, sizeof(v));
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
