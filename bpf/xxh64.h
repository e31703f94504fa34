/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mwgp obfuscation of transport headers in XDP (docs/DESIGN.md section 6; the
 * agent's twin is agent/obfs.c, the exact rules tests/vectors/README.md).
 *
 * A transport message has only its first 16 bytes XORed, with key_0 and
 * key_1 of one streaming XXH64 (seed 0) fed nonce || K || K. With a 16-byte
 * nonce and a 32-byte K the stream's stripes are fixed: stripe 1 is
 * nonce || K[0:16], stripe 2 is K[16:32] || K[0:16], and each digest sees
 * K[16:32] as its 16-byte tail. So both keys come out of straight-line code,
 * no loop and no buffer: the verifier sees two stripes and two digests.
 *
 * Keys are returned as XOR words: 8 bytes loaded from the packet in host
 * (little-endian) order are XORed with them directly. XXH64 also reads its
 * input little-endian, which is what a plain load gives here (bpfel).
 */
#ifndef XWGP_BPF_XXH64_H
#define XWGP_BPF_XXH64_H

#define OBFS_NONCE_LEN 16
#define OBFS_FLAG 0x01		     /* byte 1: 16-byte nonce appended */
#define OBFS_TRANSPORT_PAD_BELOW 256 /* shorter transport gets a nonce */
/*
 * Largest nonce offset XDP handles. A variable packet offset must stay
 * within MAX_PACKET_OFF (0xffff) together with the IP header's for the
 * verifier; single-buffer XDP frames are one page anyway. Longer messages
 * (multi-buffer jumbo frames) are punted to the agent.
 */
#define OBFS_XDP_MAX_OFF 0x3fff

#define XXH_P1 0x9E3779B185EBCA87ULL
#define XXH_P2 0xC2B2AE3D27D4EB4FULL
#define XXH_P3 0x165667B19E3779F9ULL
#define XXH_P4 0x85EBCA77C2B2AE63ULL
#define XXH_P5 0x27D4EB2F165667C5ULL

_Static_assert(OBFS_NONCE_LEN + 16 == 32, "nonce + K[0:16] must fill one XXH64 stripe");
_Static_assert(OBFS_TRANSPORT_PAD_BELOW <= 256, "a growing message's length fits in 8 bits");

/* The obfuscation key as four little-endian 64-bit lanes. */
struct obfs_lanes {
	__u64 k[4];
};

/* XOR words for the first 16 bytes of a transport message. */
struct obfs_xor {
	__u64 w0, w1;
};

static __always_inline __u64 xxh_rotl(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static __always_inline __u64 xxh_round(__u64 acc, __u64 in)
{
	acc += in * XXH_P2;
	acc = xxh_rotl(acc, 31);
	return acc * XXH_P1;
}

static __always_inline __u64 xxh_merge(__u64 h, __u64 v)
{
	h ^= xxh_round(0, v);
	return h * XXH_P1 + XXH_P4;
}

/* Digest of a state that consumed total bytes and holds K[16:32] as its tail. */
static __always_inline __u64 xxh_digest(const __u64 v[4], __u64 total, const struct obfs_lanes *K)
{
	__u64 h;

	h = xxh_rotl(v[0], 1) + xxh_rotl(v[1], 7) + xxh_rotl(v[2], 12) + xxh_rotl(v[3], 18);
	h = xxh_merge(h, v[0]);
	h = xxh_merge(h, v[1]);
	h = xxh_merge(h, v[2]);
	h = xxh_merge(h, v[3]);
	h += total;
	h = xxh_rotl(h ^ xxh_round(0, K->k[2]), 27) * XXH_P1 + XXH_P4;
	h = xxh_rotl(h ^ xxh_round(0, K->k[3]), 27) * XXH_P1 + XXH_P4;
	h ^= h >> 33;
	h *= XXH_P2;
	h ^= h >> 29;
	h *= XXH_P3;
	h ^= h >> 32;
	return h;
}

/*
 * key_0 and key_1 for the nonce (n0, n1: its two little-endian halves).
 * key_0 gets mwgp's change (v2.1.4+) when its first byte has no bit above
 * 0x07 and its second none above 0x01, so no obfuscated header is plain.
 */
static __always_inline void obfs_keys(const struct obfs_lanes *K, __u64 n0, __u64 n1,
				      struct obfs_xor *x)
{
	__u64 v[4] = { XXH_P1 + XXH_P2, XXH_P2, 0, -XXH_P1 }; /* seed 0 */
	__u64 d0, d1;

	v[0] = xxh_round(v[0], n0);
	v[1] = xxh_round(v[1], n1);
	v[2] = xxh_round(v[2], K->k[0]);
	v[3] = xxh_round(v[3], K->k[1]);
	d0 = xxh_digest(v, OBFS_NONCE_LEN + 32, K);
	v[0] = xxh_round(v[0], K->k[2]);
	v[1] = xxh_round(v[1], K->k[3]);
	v[2] = xxh_round(v[2], K->k[0]);
	v[3] = xxh_round(v[3], K->k[1]);
	d1 = xxh_digest(v, OBFS_NONCE_LEN + 64, K);
	/* The key's bytes are the digest big-endian (Go's Digest.Sum). */
	if (!((d0 >> 56) & 0xf8) && !((d0 >> 48) & 0xfe))
		d0 |= 0xD769ULL << 48;
	x->w0 = __builtin_bswap64(d0);
	x->w1 = __builtin_bswap64(d1);
}

/* The key sits 8-byte aligned in the cfg map value: four 64-bit loads. */
_Static_assert(__builtin_offsetof(struct xwgp_cfg, obfs_key) % 8 == 0, "obfs_key alignment");

static __always_inline void obfs_lanes_load(struct obfs_lanes *K, const struct xwgp_cfg *cfg)
{
	const __u64 *k = (const __u64 *)cfg->obfs_key;

	K->k[0] = k[0];
	K->k[1] = k[1];
	K->k[2] = k[2];
	K->k[3] = k[3];
}

/*
 * 64-bit packet words at any offset. One load instead of eight byte loads:
 * the verifier admits unaligned packet access where the CPU does it cheaply
 * (x86, arm64: CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS), the only targets
 * xwgp is built for (-D__TARGET_ARCH_x86).
 */
static __always_inline __u64 load_raw64(const void *p)
{
	return *(const __u64 *)p;
}

static __always_inline void store_raw64(void *p, __u64 v)
{
	*(__u64 *)p = v;
}

#endif /* XWGP_BPF_XXH64_H */
