// SPDX-License-Identifier: GPL-2.0
/*
 * agent/obfs.c against mwgp's own vectors (tests/vectors/mwgp-obfs.json):
 * XXH64, the key hash and every key of every vector, encode byte for byte
 * with the recorded randomness replayed (tests/lib/obfs_vectors.h explains
 * how the pad length is fed), decode of every output, the pass-through
 * cases, round trips of random messages of every type, and the errors.
 */
#include <errno.h>
#include <stdint.h>

#include <sodium.h>

#include "obfs.h"
#include "obfs_vectors.h"
#include "test.h"
#include "wg_proto.h"

static struct obfs_vectors vs;
static bool vs_loaded;

#define VECTORS_REQUIRE()                                                                          \
	do {                                                                                       \
		if (!vs_loaded) {                                                                  \
			CHECK(sodium_init() >= 0, "sodium_init");                                  \
			CHECK(!obfs_vectors_load(&vs), "%s", vs.why);                              \
			vs_loaded = true;                                                          \
		}                                                                                  \
	} while (0)

static uint64_t xxh64(const void *p, size_t n)
{
	struct obfs_xxh64 s;

	obfs_xxh64_reset(&s, 0);
	obfs_xxh64_update(&s, p, n);
	return obfs_xxh64_digest(&s);
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* xorshift64*: reproducible inputs. */
static uint64_t rnd64(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static void rnd_fill(void *ctx, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = rnd64(ctx);
}

/* Published XXH64 values (xxHash's sanity checks / reference implementation). */
TEST(xxh64_known)
{
	struct obfs_xxh64 s;

	CHECK(xxh64("", 0) == 0xEF46DB3751D8E999ull, "empty: %016llx",
	      (unsigned long long)xxh64("", 0));
	CHECK(xxh64("a", 1) == 0xD24EC4F1A98C6E5Bull, "a");
	CHECK(xxh64("abc", 3) == 0x44BC2CF5AD770999ull, "abc");
	obfs_xxh64_reset(&s, 1);
	CHECK(obfs_xxh64_digest(&s) == 0xD5AFBA1336A3BE4Bull, "empty, seed 1: %016llx",
	      (unsigned long long)obfs_xxh64_digest(&s));
}

/* Streaming in any split equals one shot, for every length around a stripe. */
TEST(xxh64_streaming)
{
	uint8_t buf[200];
	uint64_t st = 42;

	rnd_fill(&st, buf, sizeof(buf));
	for (size_t len = 0; len <= sizeof(buf); len++) {
		uint64_t one = xxh64(buf, len);

		for (size_t cut = 0; cut <= len; cut += 1 + len / 9) {
			struct obfs_xxh64 s;

			obfs_xxh64_reset(&s, 0);
			obfs_xxh64_update(&s, buf, cut);
			for (size_t i = cut; i < len; i += 3)
				obfs_xxh64_update(&s, buf + i, len - i < 3 ? len - i : 3);
			CHECK(obfs_xxh64_digest(&s) == one, "len %zu cut %zu", len, cut);
		}
	}
}

/* key hash = SHA-256(password); key_k = XXH64(nonce || H x (k+1)), big-endian. */
TEST(vector_keys)
{
	VECTORS_REQUIRE();
	CHECK(vs.n == 23 && vs.n_pt == 3, "%d vectors, %d pass-through", vs.n, vs.n_pt);
	for (int i = 0; i < vs.n; i++) {
		const struct obfs_vector *v = &vs.v[i];
		uint8_t buf[16 + 32 * OV_MAX_KEYS];
		struct obfs_key k;

		obfs_key_init(&k, v->password);
		CHECK_MEM(k.hash, v->key_hash, 32);
		CHECK(v->n_keys == (v->n_obfs + 7) / 8, "%s: %d keys", v->name, v->n_keys);
		memcpy(buf, v->nonce, 16);
		for (int j = 0; j < v->n_keys; j++) {
			uint64_t d;

			memcpy(buf + 16 + 32 * j, k.hash, 32);
			d = xxh64(buf, 16 + 32 * (j + 1));
			if (j == 0) {
				CHECK(d == be64(v->key0_unmodified), "%s: key_0", v->name);
				continue;
			}
			CHECK(d == be64(v->keys[j]), "%s: key_%d %016llx", v->name, j,
			      (unsigned long long)d);
		}
		obfs_key_wipe(&k);
		for (int j = 0; j < 32; j++)
			CHECK(!k.hash[j], "key not wiped");
	}
}

TEST(vector_encode)
{
	int modified = 0;

	VECTORS_REQUIRE();
	for (int i = 0; i < vs.n; i++) {
		const struct obfs_vector *v = &vs.v[i];
		struct ov_replay r = { .v = v };
		uint8_t buf[OV_MAX];
		struct obfs_key k;
		int n;

		obfs_key_init(&k, v->password);
		memcpy(buf, v->in, v->in_len);
		n = obfs_encode(&k, buf, v->in_len, v->in_len + OBFS_MAX_OVERHEAD, ov_replay_fn, &r);
		CHECK(!r.error && r.pos == v->rnd_len, "%s: drew %d of %d random bytes", v->name,
		      r.pos, v->rnd_len);
		CHECK(n == v->out_len, "%s: %d bytes, want %d", v->name, n, v->out_len);
		CHECK_MEM(buf, v->out, v->out_len);
		CHECK(!obfs_is_plain(buf, n), "%s: looks plain", v->name);
		modified += v->key0_modified;
	}
	CHECK(modified == 3, "%d vectors exercise the key_0 change", modified);
}

TEST(vector_decode)
{
	VECTORS_REQUIRE();
	for (int i = 0; i < vs.n; i++) {
		const struct obfs_vector *v = &vs.v[i];
		uint8_t buf[OV_MAX];
		struct obfs_key k;
		bool decoded = false;
		int n;

		obfs_key_init(&k, v->password);
		memcpy(buf, v->out, v->out_len);
		n = obfs_decode(&k, buf, v->out_len, &decoded);
		CHECK(decoded && n == v->in_len, "%s: %d bytes, decoded %d", v->name, n, decoded);
		CHECK_MEM(buf, v->in, v->in_len);
	}
}

TEST(passthrough)
{
	VECTORS_REQUIRE();
	for (int i = 0; i < vs.n_pt; i++) {
		const struct obfs_passthrough *p = &vs.pt[i];
		uint8_t buf[OV_MAX];
		struct obfs_key k;
		bool decoded = true;
		int n;

		obfs_key_init(&k, p->password);
		memcpy(buf, p->wire, p->len);
		n = obfs_decode(&k, buf, p->len, &decoded);
		CHECK(n == p->len && !decoded, "%s: %d, decoded %d", p->name, n, decoded);
		CHECK_MEM(buf, p->wire, p->len);
	}
}

static size_t msg_size(uint8_t type, uint64_t *st)
{
	switch (type) {
	case WG_MSG_INITIATION:
		return WG_INIT_LEN;
	case WG_MSG_RESPONSE:
		return WG_RESP_LEN;
	case WG_MSG_COOKIE_REPLY:
		return WG_COOKIE_REPLY_LEN;
	default:
		return WG_TRANSPORT_MIN_LEN + rnd64(st) % 1500;
	}
}

/* Random messages of every type: decode(encode(x)) == x, and the wire sizes. */
TEST(roundtrip_random)
{
	uint8_t in[2048], buf[2048 + OBFS_MAX_OVERHEAD];
	uint64_t st = 0x1234567;
	struct obfs_key k;

	CHECK(sodium_init() >= 0, "sodium_init");
	obfs_key_init(&k, "roundtrip");
	for (int i = 0; i < 20000; i++) {
		uint8_t type = 1 + i % 4;
		size_t len = msg_size(type, &st), lo, hi;
		bool decoded = false, zero_mac2 = rnd64(&st) & 1;
		int n, m;

		rnd_fill(&st, in, len);
		in[0] = type, in[1] = in[2] = in[3] = 0;
		if (zero_mac2 && type <= 2)
			memset(in + len - 16, 0, 16);
		memcpy(buf, in, len);
		/* Half of them through the CSPRNG the agent uses. */
		n = obfs_encode(&k, buf, len, sizeof(buf), i & 1 ? rnd_fill : NULL, &st);
		lo = type == 4 ? (len < 256 ? len + 16 : len) : len + 16;
		hi = type == 4 ? lo : len + 16 + 383;
		CHECK(n >= (int)lo && n <= (int)hi, "#%d type %u len %zu: wire %d", i, type, len, n);
		CHECK(!obfs_is_plain(buf, n), "#%d: looks plain", i);
		m = obfs_decode(&k, buf, n, &decoded);
		CHECK(m == (int)len && decoded, "#%d type %u len %zu: decoded %d bytes", i, type,
		      len, m);
		CHECK_MEM(buf, in, len);
	}
}

/* The key_0 change keeps every obfuscated header from looking plain. */
TEST(header_never_plain)
{
	uint8_t buf[64];
	uint64_t st = 7;
	struct obfs_key k;
	int seen_low = 0;

	obfs_key_init(&k, "x");
	for (int i = 0; i < 200000; i++) {
		memset(buf, 0, 32);
		buf[0] = 4;
		CHECK(obfs_encode(&k, buf, 32, sizeof(buf), rnd_fill, &st) == 48, "encode");
		CHECK(!obfs_is_plain(buf, 48), "#%d: plain-looking header %02x %02x %02x %02x", i,
		      buf[0], buf[1], buf[2], buf[3]);
		/* Byte 0 in 0xd0..0xd7 with byte 1 = 0x68/0x69 is what the change makes. */
		seen_low += (buf[0] & 0xf8) == 0xd0 && (buf[1] & 0xfe) == 0x68;
	}
	CHECK(seen_low > 0, "the key_0 change never happened in 200000 nonces");
}

static void fixed_fn(void *ctx, uint8_t *out, size_t n)
{
	memset(out, *(uint8_t *)ctx, n);
}

TEST(errors)
{
	uint8_t buf[600], copy[600];
	uint8_t fill = 0xff; /* pad draw 0xff..ff % 384 = 255 */
	bool decoded = true;
	struct obfs_key k;

	obfs_key_init(&k, "pw");
	/* Non-WireGuard first byte: untouched. */
	memset(buf, 0x42, 100);
	CHECK(obfs_encode(&k, buf, 100, sizeof(buf), fixed_fn, &fill) == 100, "type 0x42");
	CHECK(buf[0] == 0x42 && buf[1] == 0x42, "modified");
	buf[0] = 0;
	CHECK(obfs_encode(&k, buf, 100, sizeof(buf), fixed_fn, &fill) == 100, "type 0");
	/* Wrong handshake sizes, runt transport. */
	buf[0] = 1;
	CHECK(obfs_encode(&k, buf, 147, sizeof(buf), NULL, NULL) == -EINVAL, "init 147");
	buf[0] = 4;
	CHECK(obfs_encode(&k, buf, 31, sizeof(buf), NULL, NULL) == -EINVAL, "transport 31");
	CHECK(obfs_encode(&k, buf, 100, 50, NULL, NULL) == -EINVAL, "len > cap");
	/* No room: transport needs +16, an initiation 148 + 16 + 255 here. */
	memset(buf, 0, 600);
	buf[0] = 4;
	CHECK(obfs_encode(&k, buf, 100, 115, NULL, NULL) == -ENOSPC, "transport no room");
	CHECK(obfs_encode(&k, buf, 256, 256, NULL, NULL) == 256, "long transport needs no room");
	memset(buf, 0, 600);
	buf[0] = 1;
	CHECK(obfs_encode(&k, buf, 148, 148 + 16 + 254, fixed_fn, &fill) == -ENOSPC, "init");
	CHECK(obfs_encode(&k, buf, 148, 148 + 16 + 255, fixed_fn, &fill) == 148 + 16 + 255,
	      "init exact room");
	/* Garbage decodes to no type (or a bad header): -EBADMSG, buffer as it came. */
	{
		uint64_t st = 99;
		int bad = 0;

		for (int i = 0; i < 1000; i++) {
			int n;

			rnd_fill(&st, buf, 100);
			memcpy(copy, buf, 100);
			n = obfs_decode(&k, buf, 100, &decoded);
			if (n == -EBADMSG) {
				bad++;
				CHECK(!decoded, "marked");
				CHECK_MEM(buf, copy, 100);
			}
		}
		CHECK(bad > 900, "only %d of 1000 random packets refused", bad);
	}
	/* A type that needs more bytes than the wire has: an initiation in 100 bytes. */
	memset(buf, 0, 600);
	buf[0] = 1;
	CHECK(obfs_encode(&k, buf, 148, sizeof(buf), fixed_fn, &fill) > 0, "encode");
	memcpy(buf + 100 - 16, buf + 148 + 16 + 255 - 16, 16); /* same nonce, shorter */
	CHECK(obfs_decode(&k, buf, 100, &decoded) == -EBADMSG, "short initiation accepted");
	/* The wrong password does not decode. */
	{
		struct obfs_key other;
		int n;

		obfs_key_init(&other, "other");
		memset(buf, 0, 100);
		buf[0] = 4;
		n = obfs_encode(&k, buf, 64, sizeof(buf), NULL, NULL);
		CHECK(n == 80, "encode");
		n = obfs_decode(&other, buf, n, &decoded);
		CHECK(n == -EBADMSG, "wrong key decoded: %d", n);
	}
}

TEST_MAIN()
