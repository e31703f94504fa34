// SPDX-License-Identifier: GPL-2.0
/*
 * mwgp 2.1.4+ obfuscation, byte for byte (tests/vectors/README.md has the
 * rules; tests/vectors/mwgp-obfs.json the vectors this is tested against).
 *
 * Key stream: one XXH64 state (seed 0) is fed the nonce, then K once per
 * 8-byte block; each block's key is the digest so far, big-endian. Only
 * key_0 is altered, so an obfuscated header never looks plain.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "byteorder.h"
#include "obfs.h"
#include "wg_proto.h"

#define OBFS_NONCE_LEN 16
#define OBFS_FLAG 0x01 /* byte 1: random MAC2 / appended nonce */
#define OBFS_TRANSPORT_PAD_BELOW 256 /* transport shorter than this gets a nonce */
#define OBFS_PAD_MOD 384 /* handshake padding: 0..383 random bytes */

/* ---- XXH64 (Yann Collet's xxHash, 64-bit variant) ----------------------- */

#define P64_1 0x9E3779B185EBCA87ull
#define P64_2 0xC2B2AE3D27D4EB4Full
#define P64_3 0x165667B19E3779F9ull
#define P64_4 0x85EBCA77C2B2AE63ull
#define P64_5 0x27D4EB2F165667C5ull

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* XXH64 reads its input as little-endian words, whatever the host. */
static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t xxh_round(uint64_t acc, uint64_t in)
{
	acc += in * P64_2;
	acc = rotl64(acc, 31);
	return acc * P64_1;
}

static inline uint64_t xxh_merge(uint64_t acc, uint64_t v)
{
	acc ^= xxh_round(0, v);
	return acc * P64_1 + P64_4;
}

static void xxh_stripe(uint64_t v[4], const uint8_t *p)
{
	for (int i = 0; i < 4; i++)
		v[i] = xxh_round(v[i], rd64(p + 8 * i));
}

void obfs_xxh64_reset(struct obfs_xxh64 *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->v[0] = seed + P64_1 + P64_2;
	s->v[1] = seed + P64_2;
	s->v[2] = seed;
	s->v[3] = seed - P64_1;
}

void obfs_xxh64_update(struct obfs_xxh64 *s, const void *in, size_t len)
{
	const uint8_t *p = in;
	size_t n;

	s->total_len += len;
	if (s->memsize) {
		n = sizeof(s->mem) - s->memsize;
		if (n > len)
			n = len;
		memcpy(s->mem + s->memsize, p, n);
		s->memsize += n;
		p += n;
		len -= n;
		if (s->memsize < sizeof(s->mem))
			return;
		xxh_stripe(s->v, s->mem);
		s->memsize = 0;
	}
	for (; len >= 32; p += 32, len -= 32)
		xxh_stripe(s->v, p);
	memcpy(s->mem, p, len);
	s->memsize = len;
}

uint64_t obfs_xxh64_digest(const struct obfs_xxh64 *s)
{
	const uint8_t *p = s->mem, *end = s->mem + s->memsize;
	uint64_t h;

	if (s->total_len >= 32) {
		h = rotl64(s->v[0], 1) + rotl64(s->v[1], 7) + rotl64(s->v[2], 12) +
		    rotl64(s->v[3], 18);
		for (int i = 0; i < 4; i++)
			h = xxh_merge(h, s->v[i]);
	} else {
		h = s->v[2] + P64_5; /* v[2] is still the seed */
	}
	h += s->total_len;
	for (; p + 8 <= end; p += 8)
		h = rotl64(h ^ xxh_round(0, rd64(p)), 27) * P64_1 + P64_4;
	if (p + 4 <= end) {
		h = rotl64(h ^ (uint64_t)get_le32(p) * P64_1, 23) * P64_2 + P64_3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl64(h ^ *p * P64_5, 11) * P64_1;
	h ^= h >> 33;
	h *= P64_2;
	h ^= h >> 29;
	h *= P64_3;
	h ^= h >> 32;
	return h;
}

/* ---- key stream --------------------------------------------------------- */

struct keystream {
	struct obfs_xxh64 st;
	const struct obfs_key *k;
	size_t block; /* index of the block key[] belongs to */
	uint8_t key[8];
};

static void ks_next(struct keystream *ks)
{
	uint64_t d;

	obfs_xxh64_update(&ks->st, ks->k->hash, sizeof(ks->k->hash));
	d = obfs_xxh64_digest(&ks->st);
	for (int i = 0; i < 8; i++)
		ks->key[i] = d >> (56 - 8 * i); /* Go's Digest.Sum: big-endian */
}

/* key_0 for this nonce, altered so the XORed header can never look plain. */
static void ks_start(struct keystream *ks, const struct obfs_key *k, const uint8_t *nonce)
{
	ks->k = k;
	ks->block = 0;
	obfs_xxh64_reset(&ks->st, 0);
	obfs_xxh64_update(&ks->st, nonce, OBFS_NONCE_LEN);
	ks_next(ks);
	if (!(ks->key[0] & 0xf8) && !(ks->key[1] & 0xfe)) {
		ks->key[0] |= 0xd7;
		ks->key[1] |= 0x69;
	}
}

/* XOR buf[from..to) with the keys of its blocks; blocks only go forward. */
static void ks_xor(struct keystream *ks, uint8_t *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		while (ks->block < i / 8) {
			ks_next(ks);
			ks->block++;
		}
		buf[i] ^= ks->key[i % 8];
	}
}

static void ks_wipe(struct keystream *ks)
{
	sodium_memzero(ks, sizeof(*ks));
}

/* ---- API ---------------------------------------------------------------- */

void obfs_key_init(struct obfs_key *k, const char *password)
{
	crypto_hash_sha256(k->hash, (const uint8_t *)password, strlen(password));
}

void obfs_key_wipe(struct obfs_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

bool obfs_is_plain(const uint8_t *p, size_t len)
{
	return len >= WG_HEADER_LEN && wg_header_plain(p);
}

static void draw(obfs_rand_fn rnd, void *ctx, uint8_t *out, size_t n)
{
	if (rnd)
		rnd(ctx, out, n);
	else
		randombytes_buf(out, n);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return !acc;
}

/* Fixed size and MAC2 offset (0: none) of a handshake/cookie type. */
static int handshake_layout(uint8_t type, size_t *size, size_t *mac2_off)
{
	switch (type) {
	case WG_MSG_INITIATION:
		*size = WG_INIT_LEN;
		*mac2_off = WG_INIT_OFF_MAC2;
		return 0;
	case WG_MSG_RESPONSE:
		*size = WG_RESP_LEN;
		*mac2_off = WG_RESP_OFF_MAC2;
		return 0;
	case WG_MSG_COOKIE_REPLY:
		*size = WG_COOKIE_REPLY_LEN;
		*mac2_off = 0;
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Handshakes: a random suffix of 16 + (draw % 384) bytes; an all-zero MAC2
 * (types 1, 2) is replaced by random bytes too and flagged, so it does not
 * give the message away. Returns the obfuscated length N.
 */
static int encode_handshake(uint8_t *buf, size_t len, size_t cap, size_t *wire,
			    obfs_rand_fn rnd, void *ctx)
{
	size_t size, mac2_off, n;
	uint8_t r[8];
	uint64_t v = 0;

	if (handshake_layout(buf[0], &size, &mac2_off) || len != size)
		return -EINVAL;
	draw(rnd, ctx, r, sizeof(r));
	for (int i = 7; i >= 0; i--)
		v = v << 8 | r[i];
	*wire = size + OBFS_NONCE_LEN + v % OBFS_PAD_MOD;
	if (*wire > cap)
		return -ENOSPC;
	n = size;
	if (mac2_off && all_zero(buf + mac2_off, WG_MAC_LEN)) {
		buf[1] = OBFS_FLAG;
		n = mac2_off;
	}
	draw(rnd, ctx, buf + n, *wire - n);
	return (int)n;
}

/* Transport: only the header is XORed; short ones carry their own nonce. */
static int encode_transport(uint8_t *buf, size_t len, size_t cap, size_t *wire,
			    obfs_rand_fn rnd, void *ctx)
{
	if (len < WG_TRANSPORT_MIN_LEN)
		return -EINVAL;
	*wire = len;
	if (len < OBFS_TRANSPORT_PAD_BELOW) {
		*wire = len + OBFS_NONCE_LEN;
		if (*wire > cap)
			return -ENOSPC;
		buf[1] = OBFS_FLAG;
		draw(rnd, ctx, buf + len, OBFS_NONCE_LEN);
	}
	return WG_TRANSPORT_HEADER_LEN;
}

int obfs_encode(const struct obfs_key *k, uint8_t *buf, size_t len, size_t cap, obfs_rand_fn rnd,
		void *rnd_ctx)
{
	struct keystream ks;
	size_t wire;
	int n;

	if (len > cap || len > INT32_MAX - OBFS_MAX_OVERHEAD)
		return -EINVAL;
	if (!len || buf[0] < WG_MSG_INITIATION || buf[0] > WG_MSG_TRANSPORT)
		return (int)len;
	if (buf[0] == WG_MSG_TRANSPORT)
		n = encode_transport(buf, len, cap, &wire, rnd, rnd_ctx);
	else
		n = encode_handshake(buf, len, cap, &wire, rnd, rnd_ctx);
	if (n < 0)
		return n;
	ks_start(&ks, k, buf + wire - OBFS_NONCE_LEN);
	ks_xor(&ks, buf, 0, n);
	ks_wipe(&ks);
	return (int)wire;
}

/*
 * After key_0 revealed the type: the plain length and how many bytes are
 * XORed, from the wire length and the flag; -EBADMSG for no valid type or
 * a wire length that cannot hold the message and its nonce.
 */
static int decode_layout(uint8_t *buf, size_t len, size_t *plain, size_t *n)
{
	size_t size, mac2_off = 0;
	bool flag = buf[1] == OBFS_FLAG;

	if (buf[0] == WG_MSG_TRANSPORT) {
		*n = WG_TRANSPORT_HEADER_LEN;
		*plain = flag ? len - OBFS_NONCE_LEN : len;
	} else {
		if (handshake_layout(buf[0], &size, &mac2_off) || len < size + OBFS_NONCE_LEN)
			return -EBADMSG;
		*plain = size;
		if (!mac2_off)
			flag = false; /* cookie replies have no flag */
		*n = flag ? mac2_off : size;
	}
	if (flag)
		buf[1] = 0;
	if (buf[1] || buf[2] || buf[3])
		return -EBADMSG;
	if (flag && mac2_off)
		memset(buf + mac2_off, 0, WG_MAC_LEN); /* the MAC2 that was all zero */
	return 0;
}

int obfs_decode(const struct obfs_key *k, uint8_t *buf, size_t len, bool *decoded)
{
	struct keystream ks;
	uint8_t head[8];
	size_t plain, n;

	*decoded = false;
	if (len < 32 || obfs_is_plain(buf, len))
		return (int)len;
	if (len > INT32_MAX)
		return -EINVAL;
	memcpy(head, buf, sizeof(head));
	ks_start(&ks, k, buf + len - OBFS_NONCE_LEN);
	ks_xor(&ks, buf, 0, 8);
	if (decode_layout(buf, len, &plain, &n)) {
		memcpy(buf, head, sizeof(head)); /* leave a foreign packet as it came */
		ks_wipe(&ks);
		return -EBADMSG;
	}
	ks_xor(&ks, buf, 8, n);
	ks_wipe(&ks);
	*decoded = true;
	return (int)plain;
}
