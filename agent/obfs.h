/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mwgp-compatible traffic obfuscation (docs/DESIGN.md section 6, exact rules in
 * tests/vectors/README.md): per packet a 16-byte nonce (the last 16 bytes
 * on the wire) and K = SHA-256(password) drive one streaming XXH64 whose
 * successive digests XOR the message 8 bytes at a time. Handshakes get a
 * random suffix, short transport packets a random 16-byte nonce.
 *
 * Everything works in place on a caller buffer; nothing reads past len.
 */
#ifndef XWGP_OBFS_H
#define XWGP_OBFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OBFS_MAX_OVERHEAD (16 + 16 + 384) /* worst-case growth of one packet */

struct obfs_key {
	uint8_t hash[32]; /* SHA-256(password) */
};

void obfs_key_init(struct obfs_key *k, const char *password);
void obfs_key_wipe(struct obfs_key *k);

/* First 4 bytes form a plain WireGuard header (type 1..4, three zero bytes) and len >= 4. */
bool obfs_is_plain(const uint8_t *p, size_t len);

/*
 * Random source: fills out[n]; NULL means libsodium randombytes_buf.
 * Handshake padding uses one 64-bit draw % 384: obfs_encode asks for 8
 * bytes and reads them as a little-endian uint64_t, then asks for the
 * suffix bytes in a single call. Short transport packets draw the 16 nonce
 * bytes in one call. A replaying source (tests) hands out the recorded
 * pad length as its first 8-byte little-endian draw, then the bytes.
 */
typedef void (*obfs_rand_fn)(void *ctx, uint8_t *out, size_t n);

/*
 * Obfuscate the plain WireGuard message buf[0..len) in place; buf has cap
 * bytes. Returns the wire length or -ENOSPC/-EINVAL. Non-WireGuard first
 * byte: returns len unchanged.
 */
int obfs_encode(const struct obfs_key *k, uint8_t *buf, size_t len, size_t cap, obfs_rand_fn rnd,
		void *rnd_ctx);

/*
 * De-obfuscate in place. Returns the plain length and sets *decoded (true
 * when it was obfuscated); plain packets and runts (< 32 bytes) are returned
 * unchanged with *decoded=false; a packet that decodes to no valid type
 * returns -EBADMSG.
 */
int obfs_decode(const struct obfs_key *k, uint8_t *buf, size_t len, bool *decoded);

/* XXH64 (seed-selectable), exposed for tests and the BPF agreement tests. */
struct obfs_xxh64 {
	uint64_t v[4];
	uint64_t total_len;
	uint8_t mem[32];
	uint32_t memsize;
};

void obfs_xxh64_reset(struct obfs_xxh64 *s, uint64_t seed);
void obfs_xxh64_update(struct obfs_xxh64 *s, const void *in, size_t len);
uint64_t obfs_xxh64_digest(const struct obfs_xxh64 *s);

#endif
