// SPDX-License-Identifier: GPL-2.0
/* BLAKE2s against RFC 7693 and the BLAKE2 reference known-answer vectors. */
#include <errno.h>
#include <stdint.h>

#include "blake2s.h"
#include "test.h"

static void seq_bytes(uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)i;
}

/* RFC 7693 Appendix B: BLAKE2s-256("abc"). */
TEST(rfc7693_abc)
{
	uint8_t want[32], got[32];

	test_unhex(want, sizeof(want),
		   "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	CHECK(blake2s(got, 32, "abc", 3, NULL, 0) == 0);
	CHECK_MEM(got, want, 32);
}

TEST(empty_unkeyed)
{
	uint8_t want[32], got[32];

	test_unhex(want, sizeof(want),
		   "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
	CHECK(blake2s(got, 32, NULL, 0, NULL, 0) == 0);
	CHECK_MEM(got, want, 32);
}

/* RFC 7693 Appendix E: deterministic input of a given length. */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xdead4bad * seed, b = 1, t;

	for (size_t i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

/* RFC 7693 Appendix E: the "grand hash" over 48 unkeyed and keyed digests. */
TEST(rfc7693_selftest)
{
	static const size_t md_len[] = { 16, 20, 28, 32 };
	static const size_t in_len[] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t in[1024], md[32], key[32], got[32], want[32];
	struct blake2s_state ctx;

	test_unhex(want, sizeof(want),
		   "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
	CHECK(blake2s_init(&ctx, 32, NULL, 0) == 0);
	for (size_t i = 0; i < 4; i++) {
		size_t outlen = md_len[i];

		for (size_t j = 0; j < 6; j++) {
			size_t inlen = in_len[j];

			selftest_seq(in, inlen, (uint32_t)inlen);
			CHECK(blake2s(md, outlen, in, inlen, NULL, 0) == 0);
			blake2s_update(&ctx, md, outlen);
			selftest_seq(key, outlen, (uint32_t)outlen);
			CHECK(blake2s(md, outlen, in, inlen, key, outlen) == 0);
			blake2s_update(&ctx, md, outlen);
		}
	}
	blake2s_final(&ctx, got);
	CHECK_MEM(got, want, 32);
}

/* blake2s-kat keyed vectors: key = 00..1f, in = 00..(n-1). */
TEST(kat_keyed)
{
	static const struct {
		size_t inlen;
		const char *hex;
	} kat[] = {
		{ 0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49" },
		{ 1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1" },
		{ 63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd" },
		{ 64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4" },
		{ 65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8" },
	};
	uint8_t key[32], in[65], want[32], got[32];

	seq_bytes(key, sizeof(key));
	seq_bytes(in, sizeof(in));
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		test_unhex(want, sizeof(want), kat[i].hex);
		CHECK(blake2s(got, 32, in, kat[i].inlen, key, 32) == 0);
		CHECK_MEM(got, want, 32);
	}
}

/* Unkeyed block-boundary vectors (blake2s-kat, in = 00..(n-1)). */
TEST(kat_unkeyed_block_boundary)
{
	static const struct {
		size_t inlen;
		const char *hex;
	} kat[] = {
		{ 63, "e57cb79487dd57902432b250733813bd96a84efce59f650fac26e6696aefafc3" },
		{ 64, "56f34e8b96557e90c1f24b52d0c89d51086acf1b00f634cf1dde9233b8eaaa3e" },
		{ 65, "1b53ee94aaf34e4b159d48de352c7f0661d0a40edff95a0b1639b4090e974472" },
	};
	uint8_t in[65], want[32], got[32];

	seq_bytes(in, sizeof(in));
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		test_unhex(want, sizeof(want), kat[i].hex);
		CHECK(blake2s(got, 32, in, kat[i].inlen, NULL, 0) == 0);
		CHECK_MEM(got, want, 32);
	}
}

/* Keyed 128-bit output, as WireGuard's MAC uses (golang.org/x/crypto New128). */
TEST(kat_keyed_128)
{
	static const char *const kat[] = {
		"9536f9b267655743dee97b8a670f9f53",
		"13bacfb85b48a1223c595f8c1e7e82cb",
		"d47a9b1645e2feae501cd5fe44ce6333",
	};
	uint8_t key[32], in[3], want[16], got[16];

	seq_bytes(key, sizeof(key));
	seq_bytes(in, sizeof(in));
	for (size_t i = 0; i < 3; i++) {
		test_unhex(want, sizeof(want), kat[i]);
		CHECK(blake2s(got, 16, in, i, key, 32) == 0);
		CHECK_MEM(got, want, 16);
	}
}

/* Every split of a 300-byte input into two updates gives the one-shot digest. */
TEST(streaming_every_split)
{
	uint8_t in[300], key[32], want[32], got[32];
	struct blake2s_state s;

	seq_bytes(in, sizeof(in));
	seq_bytes(key, sizeof(key));
	for (size_t keylen = 0; keylen <= 32; keylen += 32) {
		CHECK(blake2s(want, 32, in, sizeof(in), key, keylen) == 0);
		for (size_t split = 0; split <= sizeof(in); split++) {
			CHECK(blake2s_init(&s, 32, key, keylen) == 0);
			blake2s_update(&s, in, split);
			blake2s_update(&s, in + split, sizeof(in) - split);
			blake2s_final(&s, got);
			CHECK_MEM(got, want, 32);
		}
	}
}

/* Byte-at-a-time and three-way splits around block boundaries. */
TEST(streaming_small_pieces)
{
	uint8_t in[200], want[32], got[32];
	struct blake2s_state s;

	seq_bytes(in, sizeof(in));
	CHECK(blake2s(want, 32, in, sizeof(in), NULL, 0) == 0);
	CHECK(blake2s_init(&s, 32, NULL, 0) == 0);
	for (size_t i = 0; i < sizeof(in); i++)
		blake2s_update(&s, in + i, 1);
	blake2s_final(&s, got);
	CHECK_MEM(got, want, 32);

	for (size_t a = 60; a <= 68; a++) {
		for (size_t b = a; b <= 132; b++) {
			CHECK(blake2s_init(&s, 32, NULL, 0) == 0);
			blake2s_update(&s, in, a);
			blake2s_update(&s, in + a, b - a);
			blake2s_update(&s, NULL, 0);
			blake2s_update(&s, in + b, sizeof(in) - b);
			blake2s_final(&s, got);
			CHECK_MEM(got, want, 32);
		}
	}
}

/* A shorter digest is not a truncation: outlen is in the parameter block. */
TEST(outlen_is_parameter)
{
	uint8_t d16[16], d32[32];

	CHECK(blake2s(d16, 16, "abc", 3, NULL, 0) == 0);
	CHECK(blake2s(d32, 32, "abc", 3, NULL, 0) == 0);
	CHECK(memcmp(d16, d32, 16) != 0, "16-byte digest equals a truncated 32-byte one");
}

TEST(bad_lengths)
{
	struct blake2s_state s;
	uint8_t key[33] = { 0 }, out[32];

	CHECK(blake2s_init(&s, 0, NULL, 0) == -EINVAL);
	CHECK(blake2s_init(&s, 33, NULL, 0) == -EINVAL);
	CHECK(blake2s_init(&s, 32, key, 33) == -EINVAL);
	CHECK(blake2s_init(&s, 32, NULL, 4) == -EINVAL);
	CHECK(blake2s(out, 0, "x", 1, NULL, 0) == -EINVAL);
	CHECK(blake2s_init(&s, 1, key, 32) == 0);
}

/* A keyed state with its key block absorbed, copied, hashes like blake2s() (MAC1, HMAC pads). */
TEST(absorbed_key_block_reused)
{
	uint8_t key[32], in[200], want[32], got[32];
	struct blake2s_state base, s;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < 200; i++)
		in[i] = (uint8_t)(i * 7);
	CHECK(blake2s_init(&base, 16, key, 32) == 0);
	blake2s_absorb_block(&base);
	CHECK(base.buflen == 0 && base.t[0] == 64, "buflen %zu t %u", base.buflen, base.t[0]);
	for (size_t len = 1; len <= sizeof(in); len += 23) {
		s = base;
		blake2s_update(&s, in, len);
		blake2s_final(&s, got);
		CHECK(blake2s(want, 16, in, len, key, 32) == 0);
		CHECK_MEM(got, want, 16);
	}
	/* Nothing buffered, or a partial block: a no-op. */
	s = base;
	blake2s_absorb_block(&s);
	CHECK(s.t[0] == 64);
	blake2s_update(&s, in, 10);
	blake2s_absorb_block(&s);
	CHECK(s.buflen == 10 && s.t[0] == 64);
}

TEST_MAIN()
