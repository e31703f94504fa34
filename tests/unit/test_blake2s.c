// SPDX-License-Identifier: GPL-2.0
/*
 * BLAKE2s against RFC 7693 and the BLAKE2 reference known-answer vectors,
 * with each compression (portable and x86-64 SIMD, blake2s_impl.h), and the
 * two against each other on random inputs and states.
 */
#include <errno.h>
#include <stdint.h>

#include "blake2s.h"
#include "blake2s_impl.h"
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

/* The compression chosen at start-up: SIMD where the CPU has it. */
static enum blake2s_impl default_impl(void)
{
	return blake2s_simd_supported() ? BLAKE2S_IMPL_SIMD : BLAKE2S_IMPL_SCALAR;
}

#if defined(__x86_64__)
/* Whether /proc/cpuinfo lists the flag (" ssse3", " sse4_1") on its first flags line. */
static bool cpuinfo_has(const char *flag)
{
	char line[8192];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *p = strstr(line, flag); p && !found; p = strstr(p + 1, flag)) {
			char end = p[strlen(flag)];

			found = end == ' ' || end == '\n' || end == '\0';
		}
		break;
	}
	fclose(f);
	return found;
}
#endif

/*
 * The SIMD compression is in use from the start where the CPU has SSSE3
 * and SSE4.1 (as /proc/cpuinfo tells, independently of cpuid in the
 * agent): otherwise the tests below would compare the portable code with
 * itself and skip, and this one fails instead.
 */
TEST(simd_chosen_on_capable_cpu)
{
#if defined(__x86_64__)
	bool capable = cpuinfo_has(" ssse3") && cpuinfo_has(" sse4_1");

	CHECK(blake2s_simd_supported() == capable, "cpuid says %d, /proc/cpuinfo %d",
	      blake2s_simd_supported(), capable);
#else
	CHECK(!blake2s_simd_supported());
	CHECK(blake2s_impl_select(BLAKE2S_IMPL_SIMD) == -ENOTSUP);
#endif
	CHECK(blake2s_impl_current() == default_impl());
}

/*
 * The known-answer and streaming tests above, run again with one
 * compression selected (they first ran with the default one). A failure
 * names this test and the CHECK inside the test it ran.
 */
static void (*const known_answer_tests[])(void) = {
	test_fn_rfc7693_abc,
	test_fn_empty_unkeyed,
	test_fn_rfc7693_selftest,
	test_fn_kat_keyed,
	test_fn_kat_unkeyed_block_boundary,
	test_fn_kat_keyed_128,
	test_fn_streaming_every_split,
	test_fn_streaming_small_pieces,
	test_fn_absorbed_key_block_reused,
};

static void known_answers_with(enum blake2s_impl impl)
{
	CHECK(blake2s_impl_select(impl) == 0);
	for (size_t i = 0; i < sizeof(known_answer_tests) / sizeof(known_answer_tests[0]); i++) {
		known_answer_tests[i]();
		if (test_state__ != TEST_RUNNING)
			break;
	}
	CHECK(blake2s_impl_select(default_impl()) == 0);
}

TEST(known_answers_scalar)
{
	known_answers_with(BLAKE2S_IMPL_SCALAR);
}

TEST(known_answers_simd)
{
	if (!blake2s_simd_supported())
		SKIP("no SIMD compression on this CPU or architecture");
	known_answers_with(BLAKE2S_IMPL_SIMD);
}

/* splitmix64: reproducible pseudo-random inputs, the same in every run. */
static uint64_t rng_state = 0x62326b7365656421;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

static void rng_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next();
}

#define AGREE_MAX_LEN 600

/* Hash with the given compression: one-shot, or in two updates split at split. */
static int hash_with(enum blake2s_impl impl, uint8_t *out, size_t outlen, const uint8_t *in,
		     size_t inlen, const uint8_t *key, size_t keylen, size_t split)
{
	struct blake2s_state s;
	int ret = blake2s_impl_select(impl);

	if (ret)
		return ret;
	if (split > inlen)
		return blake2s(out, outlen, in, inlen, key, keylen);
	ret = blake2s_init(&s, outlen, key, keylen);
	if (ret)
		return ret;
	blake2s_update(&s, in, split);
	blake2s_update(&s, in + split, inlen - split);
	blake2s_final(&s, out);
	return 0;
}

/*
 * Both compressions give the same digest for random inputs of every length
 * 0..600 (up to ten blocks, every position of the last byte in a block),
 * every digest length 1..32, unkeyed and keyed with every key length 1..32
 * in turn, each pair on a fresh input and key; the SIMD side hashes in two
 * updates at a random split (or one-shot), the portable side one-shot.
 */
TEST(impls_agree_every_length)
{
	uint8_t in[AGREE_MAX_LEN], key[BLAKE2S_KEY_LEN], want[32], got[32];
	unsigned int pairs = 0;

	if (!blake2s_simd_supported())
		SKIP("no SIMD compression on this CPU or architecture");
	for (size_t len = 0; len <= AGREE_MAX_LEN; len++) {
		for (size_t outlen = 1; outlen <= BLAKE2S_OUT_LEN; outlen++) {
			for (int keyed = 0; keyed <= 1; keyed++) {
				size_t keylen = keyed ? 1 + (len * 32 + outlen) % 32 : 0;
				size_t split = rng_next() % (len + 2); /* len + 1: one-shot */

				rng_bytes(in, len);
				rng_bytes(key, keylen);
				memset(want, 0xa5, sizeof(want));
				memset(got, 0x5a, sizeof(got));
				CHECK(hash_with(BLAKE2S_IMPL_SCALAR, want, outlen, in, len, key,
						keylen, SIZE_MAX) == 0);
				CHECK(hash_with(BLAKE2S_IMPL_SIMD, got, outlen, in, len, key,
						keylen, split) == 0);
				CHECK(blake2s_impl_select(default_impl()) == 0);
				CHECK(!memcmp(got, want, outlen),
				      "len %zu outlen %zu keylen %zu split %zu differ", len, outlen,
				      keylen, split);
				pairs++;
			}
		}
	}
	CHECK(pairs == (AGREE_MAX_LEN + 1) * BLAKE2S_OUT_LEN * 2);
}

/*
 * The compressions themselves on random chaining values, counters (high
 * word set, low word about to wrap), final flags and unaligned blocks,
 * things the digests above never reach; chained, so a difference carries.
 */
TEST(compressions_agree_random_states)
{
#if defined(__x86_64__)
	uint8_t buf[BLAKE2S_BLOCK_LEN + 16], copy[sizeof(buf)];
	struct blake2s_state a, b;

	if (!blake2s_simd_supported())
		SKIP("no SSSE3 and SSE4.1 on this CPU");
	memset(&a, 0, sizeof(a));
	for (int i = 0; i < 8; i++)
		a.h[i] = (uint32_t)rng_next();
	for (int i = 0; i < 20000; i++) {
		const uint8_t *block = buf + rng_next() % 16;
		int last = (int)(rng_next() & 1);
		uint64_t r = rng_next();

		a.t[0] = (uint32_t)r;
		a.t[1] = (uint32_t)(r >> 32);
		if (i % 4 == 1)
			a.t[0] = UINT32_MAX - (uint32_t)(r % 128);
		if (i % 4 == 2)
			a.t[1] = 0;
		rng_bytes(buf, sizeof(buf));
		memcpy(copy, buf, sizeof(buf));
		b = a;
		blake2s_compress_scalar(&a, block, last);
		blake2s_compress_sse41(&b, block, last);
		CHECK(!memcmp(a.h, b.h, sizeof(a.h)), "iteration %d (t %08x %08x, last %d)", i,
		      a.t[1], a.t[0], last);
		CHECK(a.t[0] == b.t[0] && a.t[1] == b.t[1], "the counter is the caller's");
		CHECK_MEM(buf, copy, sizeof(buf));
	}
#else
	SKIP("no SIMD compression on this architecture");
#endif
}

TEST_MAIN()
