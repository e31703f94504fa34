/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BLAKE2s (RFC 7693): the hash behind WireGuard's HASH, MAC and HMAC.
 * libsodium only ships BLAKE2b, so the agent carries its own BLAKE2s.
 */
#ifndef XWGP_BLAKE2S_H
#define XWGP_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_BLOCK_LEN 64
#define BLAKE2S_OUT_LEN 32 /* maximum (and WireGuard's HASH) digest length */
#define BLAKE2S_KEY_LEN 32 /* maximum key length */

struct blake2s_state {
	uint32_t h[8];
	uint32_t t[2]; /* bytes compressed so far, 64-bit little-endian */
	uint8_t buf[BLAKE2S_BLOCK_LEN];
	size_t buflen;
	size_t outlen;
};

/*
 * Start a hash of outlen (1..32) bytes, keyed when keylen (0..32) is non-zero.
 * Returns 0 or -EINVAL on a bad length.
 */
int blake2s_init(struct blake2s_state *s, size_t outlen, const void *key, size_t keylen);
void blake2s_update(struct blake2s_state *s, const void *in, size_t inlen);
/*
 * Compress the buffered block now: after blake2s_init with a key, the state
 * copied from here hashes any message under that key one compression
 * sooner. Only for a state whose next update brings at least one byte (the
 * last block must be compressed by blake2s_final), and a no-op unless the
 * buffer holds a full block.
 */
void blake2s_absorb_block(struct blake2s_state *s);
/* Write s->outlen bytes to out and wipe the state. */
void blake2s_final(struct blake2s_state *s, void *out);

/* One-shot hash; returns 0 or -EINVAL on a bad length (out is then untouched). */
int blake2s(void *out, size_t outlen, const void *in, size_t inlen, const void *key,
	    size_t keylen);

#endif /* XWGP_BLAKE2S_H */
