// SPDX-License-Identifier: GPL-2.0
/*
 * WireGuard handshake crypto. Expected values come from outside wg_crypto.c:
 * an independent Python implementation (hashlib.blake2s, hmac, and the
 * `cryptography' package's X25519 and ChaCha20-Poly1305), a real initiation
 * captured from wireguard-go, or a step-by-step recomputation in this file
 * with blake2s() and libsodium directly.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include "byteorder.h"
#include "blake2s.h"
#include "dh_batch.h"
#include "dh_cache.h"
#include "test.h"
#include "wg_crypto.h"

#define NS_PER_SEC 1000000000ull

static void fill(uint8_t *buf, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(start + i);
}

/* RFC 2104 over concatenated buffers and one-shot blake2s(), not wg_hmac's streaming. */
static void hmac_by_hand(uint8_t out[32], const uint8_t *key, size_t keylen, const uint8_t *in,
			 size_t inlen)
{
	uint8_t k0[64] = { 0 }, outer[64 + 32];
	uint8_t *inner = malloc(64 + inlen);

	if (keylen > 64)
		blake2s(k0, 32, key, keylen, NULL, 0);
	else
		memcpy(k0, key, keylen);
	for (int i = 0; i < 64; i++) {
		inner[i] = k0[i] ^ 0x36;
		outer[i] = k0[i] ^ 0x5c;
	}
	memcpy(inner + 64, in, inlen);
	blake2s(outer + 64, 32, inner, 64 + inlen, NULL, 0);
	blake2s(out, 32, outer, sizeof(outer), NULL, 0);
	free(inner);
}

/* Fixed inputs of the Python-generated known-answer initiation. */
struct kat_inputs {
	uint8_t client_priv[32], server_priv[32], eph_priv[32], tai64n[12], cookie[16];
	uint32_t sender;
};

static void kat_inputs(struct kat_inputs *k)
{
	fill(k->client_priv, 32, 0x40);
	fill(k->server_priv, 32, 0x80);
	fill(k->eph_priv, 32, 0xc0);
	fill(k->cookie, 16, 0xf0);
	test_unhex(k->tai64n, 12, "400000006553f10a0b000000");
	k->sender = 0x11223344;
}

static const char kat_client_pub[] =
	"79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a";
static const char kat_server_pub[] =
	"493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d";
static const char kat_initiation[] =
	"0100000044332211dc2cca31e8e43bbd91dff7e475cca3347eb478107d5bd765"
	"aba4ae4a30c35d44b8fb4c563553c61ed4155cfe91c9fdb4164ac2a736bff8cb"
	"ffc443cd462b7ca00446ec1491e224d9df5d5e6d5f69c7e6fecb9770a4253e66"
	"3c6a7f4d35ad34e9110c0ee413032f05a2a368783743d4dab5d8f0c1ae16e8ac"
	"e510381d00000000000000000000000000000000";
static const char kat_mac2_with_cookie[] = "8e9fa3d6c065db321c8a5efb875ab60a";

/*
 * A real initiation sent by wireguard-go (Debian 0.0.20220316) with
 * client key T1BY... to a peer with the private key below, captured on a
 * UDP socket in a network namespace.
 */
static const char real_server_priv[] = "6BZ4EKgEUPY/8szv+t9/UyAo0jsTkNPBLPA33Q2mJ1c=";
static const char real_client_pub[] = "T1BYZtdrFOQ9Qoo28p9xXBtkAVDJUxHPKEM92XXXi30=";
static const char real_tai64n[] = "400000006b06bbc40d000000";
static const char real_initiation[] =
	"01000000f0dfedd92ae6fc389714b77d2eacd6e4d78cab168b72f1f2a8d8a5eb"
	"449e4d5d3ec078516156f4fe8fa496020e189ec8c4aa0fdb2770775dbc3771de"
	"b7747344a63fee4201175f72cf169d129c2e92c825e4cf9d91e4b7421d28510c"
	"fd587336f4bb1dbce9dd805e4820b920000cfa256659d8361ed78d3199ffb0a2"
	"8ab8d01c00000000000000000000000000000000";

TEST(hash_concatenates)
{
	uint8_t want[32], got[32];
	static const char ab[] = "hello, world";

	CHECK(wg_crypto_init() == 0);
	blake2s(want, 32, ab, 12, NULL, 0);
	wg_hash(got, ab, 5, ab + 5, 7);
	CHECK_MEM(got, want, 32);
	wg_hash(got, NULL, 0, ab, 12);
	CHECK_MEM(got, want, 32);
	wg_hash(got, ab, 12, NULL, 0);
	CHECK_MEM(got, want, 32);
	/* In place, as H = HASH(H || x) is written. */
	memcpy(got, ab, 12);
	blake2s(want, 32, ab, 12, NULL, 0);
	wg_hash(got, got, 12, NULL, 0);
	CHECK_MEM(got, want, 32);
}

TEST(hmac_matches_rfc2104_and_python)
{
	uint8_t key[100], in[200], want[32], got[32];

	CHECK(wg_crypto_init() == 0);
	fill(key, sizeof(key), 0);
	test_unhex(want, 32, "82623be5bc0a391b24dce53e67d028eff92d586de0485ac37822e597d049c74f");
	wg_hmac(got, key, 32, "abc", 3);
	CHECK_MEM(got, want, 32);
	test_unhex(want, 32, "c1b751501db12b753069a918627b623179be55c8cc7ca5c4e14bdf32274ac656");
	wg_hmac(got, key, 100, "abc", 3);
	CHECK_MEM(got, want, 32);

	fill(in, sizeof(in), 0x33);
	for (size_t keylen = 0; keylen <= sizeof(key); keylen += 4) {
		for (size_t inlen = 0; inlen <= sizeof(in); inlen += 37) {
			hmac_by_hand(want, key, keylen, in, inlen);
			wg_hmac(got, key, keylen, in, inlen);
			CHECK_MEM(got, want, 32);
		}
	}
	/* Output aliasing the key, as KDF's chaining key update does. */
	memcpy(got, key, 32);
	hmac_by_hand(want, key, 32, in, 10);
	wg_hmac(got, got, 32, in, 10);
	CHECK_MEM(got, want, 32);
}

TEST(kdf_matches_hkdf_and_python)
{
	static const char *const py[3] = {
		"87b7f70b24183c6db5dc4f6d9f4c47cdb203321aa2a0bef714896adb3107a040",
		"538a02e1eb2e31b7e4d4b82476d1fe2acf50085d3fb584537279195f5d1f5824",
		"9ad858025593be88de0f9442a589cfe84a88dc19e4753d93684d1c5efc4837f9",
	};
	uint8_t ck[32], prk[32], want[3][32], buf[33], t1[32], t2[32], t3[32], a[32], b[32];

	CHECK(wg_crypto_init() == 0);
	fill(ck, 32, 0);
	for (int i = 0; i < 3; i++)
		test_unhex(want[i], 32, py[i]);

	wg_kdf(t1, t2, t3, ck, "input", 5);
	CHECK_MEM(t1, want[0], 32);
	CHECK_MEM(t2, want[1], 32);
	CHECK_MEM(t3, want[2], 32);

	/* By hand: prk = HMAC(ck, in), T1 = HMAC(prk, 1), Ti = HMAC(prk, Ti-1 || i). */
	hmac_by_hand(prk, ck, 32, (const uint8_t *)"input", 5);
	buf[0] = 1;
	hmac_by_hand(a, prk, 32, buf, 1);
	CHECK_MEM(a, want[0], 32);
	memcpy(buf, a, 32);
	buf[32] = 2;
	hmac_by_hand(b, prk, 32, buf, 33);
	CHECK_MEM(b, want[1], 32);

	/* KDF1 and KDF2 are prefixes of KDF3. */
	memset(a, 0, 32);
	wg_kdf(a, NULL, NULL, ck, "input", 5);
	CHECK_MEM(a, want[0], 32);
	memset(a, 0, 32);
	memset(b, 0, 32);
	wg_kdf(a, b, NULL, ck, "input", 5);
	CHECK_MEM(a, want[0], 32);
	CHECK_MEM(b, want[1], 32);

	/* C = KDF1(C, x) in place. */
	memcpy(a, ck, 32);
	wg_kdf(a, b, NULL, a, "input", 5);
	CHECK_MEM(a, want[0], 32);
	CHECK_MEM(b, want[1], 32);

	/* A different input changes every output. */
	wg_kdf(t1, t2, t3, ck, "inpuT", 5);
	CHECK(memcmp(t1, want[0], 32) && memcmp(t2, want[1], 32) && memcmp(t3, want[2], 32));
}

TEST(pubkey_and_base64)
{
	uint8_t priv[32], pub[32], want[32], k[32];
	char b64[45];

	CHECK(wg_crypto_init() == 0);
	fill(priv, 32, 0x40);
	test_unhex(want, 32, kat_client_pub);
	CHECK(wg_pubkey(pub, priv) == 0);
	CHECK_MEM(pub, want, 32);

	CHECK(wg_key_from_base64(priv, real_server_priv) == 0);
	CHECK(wg_pubkey(pub, priv) == 0);
	wg_key_to_base64(b64, pub);
	CHECK(!strcmp(b64, "/KUIAWy9LKb7/p5Bh4Fhf4nx+tEQ799seaw5It+UWwE="), "got %s", b64);
	CHECK(wg_key_from_base64(k, b64) == 0);
	CHECK_MEM(k, pub, 32);

	memset(k, 0xaa, 32);
	CHECK(wg_key_from_base64(k, NULL) == -EINVAL);
	CHECK(wg_key_from_base64(k, "") == -EINVAL);
	/* Too short, too long, no padding, bad character, non-zero trailing bits. */
	CHECK(wg_key_from_base64(k, "T1BYZtdrFOQ9Qoo28p9xXBtkAVDJUxHPKEM92XXXi3=") == -EINVAL);
	CHECK(wg_key_from_base64(k, "T1BYZtdrFOQ9Qoo28p9xXBtkAVDJUxHPKEM92XXXi30==") == -EINVAL);
	CHECK(wg_key_from_base64(k, "T1BYZtdrFOQ9Qoo28p9xXBtkAVDJUxHPKEM92XXXi30A") == -EINVAL);
	CHECK(wg_key_from_base64(k, "T1BYZtdrFOQ9Qoo28p9xXBtkAVDJUxHPKEM92XXX!30=") == -EINVAL);
	CHECK(wg_key_from_base64(k, "T1BYZtdrFOQ9Qoo28p9xXBtkAVDJUxHPKEM92XXXi31=") == -EINVAL);
	CHECK(wg_key_from_base64(k, "T1BYZtdrFOQ9Qoo28p9xXBtkAVDJUxHPKEM92XXXi3==") == -EINVAL);
	for (int i = 0; i < 32; i++)
		CHECK(k[i] == 0xaa, "key written on failure");
	CHECK(wg_key_from_base64(k, real_client_pub) == 0);
	wg_key_to_base64(b64, k);
	CHECK(!strcmp(b64, real_client_pub));
}

TEST(mac_keys_and_server_key)
{
	struct wg_server_key s;
	uint8_t priv[32], pub[32], want[32], buf[40];

	fill(priv, 32, 0x80);
	CHECK(wg_server_key_init(&s, priv) == 0);
	test_unhex(pub, 32, kat_server_pub);
	CHECK_MEM(s.pub, pub, 32);
	CHECK_MEM(s.priv, priv, 32);
	memcpy(buf, "mac1----", 8);
	memcpy(buf + 8, pub, 32);
	blake2s(want, 32, buf, 40, NULL, 0);
	CHECK_MEM(s.mac.mac1_key, want, 32);
	memcpy(buf, "cookie--", 8);
	blake2s(want, 32, buf, 40, NULL, 0);
	CHECK_MEM(s.mac.cookie_key, want, 32);

	wg_server_key_wipe(&s);
	for (size_t i = 0; i < sizeof(s); i++)
		CHECK(((uint8_t *)&s)[i] == 0, "byte %zu not wiped", i);
}

/* The full initiation against the independent Python implementation. */
TEST(initiation_known_answer_python)
{
	uint8_t msg[WG_INIT_LEN], want[WG_INIT_LEN], mac2[16];
	struct kat_inputs k;
	uint8_t server_pub[32];

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	test_unhex(server_pub, 32, kat_server_pub);
	CHECK(test_unhex(want, sizeof(want), kat_initiation) == WG_INIT_LEN);
	CHECK(wg_create_initiation(msg, k.client_priv, server_pub, k.sender, k.eph_priv, k.tai64n,
				   NULL) == 0);
	CHECK_MEM(msg, want, WG_INIT_LEN);

	test_unhex(mac2, 16, kat_mac2_with_cookie);
	CHECK(wg_create_initiation(msg, k.client_priv, server_pub, k.sender, k.eph_priv, k.tai64n,
				   k.cookie) == 0);
	CHECK_MEM(msg, want, WG_INIT_OFF_MAC2);
	CHECK_MEM(msg + WG_INIT_OFF_MAC2, mac2, 16);
}

/*
 * The same initiation recomputed step by step from the whitepaper with
 * blake2s() and libsodium directly (only wg_hash/wg_kdf are shared, and they
 * are checked against RFC 2104 above).
 */
TEST(initiation_known_answer_stepwise)
{
	uint8_t msg[WG_INIT_LEN], ck[32], h[32], key[32], dh[32], epub[32], spub[32], cpub[32];
	uint8_t want[WG_INIT_LEN] = { 1, 0, 0, 0 }, nonce[12] = { 0 }, mac1_key[32], buf[40];
	static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
	struct kat_inputs k;

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	CHECK(crypto_scalarmult_base(spub, k.server_priv) == 0);
	CHECK(crypto_scalarmult_base(cpub, k.client_priv) == 0);
	CHECK(crypto_scalarmult_base(epub, k.eph_priv) == 0);

	blake2s(ck, 32, construction, strlen(construction), NULL, 0);
	wg_hash(h, ck, 32, identifier, strlen(identifier));
	wg_hash(h, h, 32, spub, 32);
	wg_kdf(ck, NULL, NULL, ck, epub, 32);
	wg_hash(h, h, 32, epub, 32);
	CHECK(crypto_scalarmult(dh, k.eph_priv, spub) == 0);
	wg_kdf(ck, key, NULL, ck, dh, 32);
	crypto_aead_chacha20poly1305_ietf_encrypt(want + 40, NULL, cpub, 32, h, 32, NULL, nonce,
						  key);
	wg_hash(h, h, 32, want + 40, 48);
	CHECK(crypto_scalarmult(dh, k.client_priv, spub) == 0);
	wg_kdf(ck, key, NULL, ck, dh, 32);
	crypto_aead_chacha20poly1305_ietf_encrypt(want + 88, NULL, k.tai64n, 12, h, 32, NULL,
						  nonce, key);
	memcpy(want + 4, &(uint8_t[4]){ 0x44, 0x33, 0x22, 0x11 }, 4);
	memcpy(want + 8, epub, 32);
	memcpy(buf, "mac1----", 8);
	memcpy(buf + 8, spub, 32);
	blake2s(mac1_key, 32, buf, 40, NULL, 0);
	blake2s(want + 116, 16, want, 116, mac1_key, 32);

	CHECK(wg_create_initiation(msg, k.client_priv, spub, k.sender, k.eph_priv, k.tai64n,
				   NULL) == 0);
	CHECK_MEM(msg, want, WG_INIT_LEN);
}

/* A capture of wireguard-go decrypts to the client key it was configured with. */
TEST(real_wireguard_go_initiation)
{
	uint8_t msg[WG_INIT_LEN], priv[32], want_pub[32], want_ts[12], pub[32], ts[12];
	struct wg_server_key servers[3];

	CHECK(wg_crypto_init() == 0);
	CHECK(test_unhex(msg, sizeof(msg), real_initiation) == WG_INIT_LEN);
	CHECK(wg_key_from_base64(want_pub, real_client_pub) == 0);
	test_unhex(want_ts, 12, real_tai64n);

	fill(priv, 32, 1);
	CHECK(wg_server_key_init(&servers[0], priv) == 0);
	CHECK(wg_key_from_base64(priv, real_server_priv) == 0);
	CHECK(wg_server_key_init(&servers[1], priv) == 0);
	fill(priv, 32, 2);
	CHECK(wg_server_key_init(&servers[2], priv) == 0);

	CHECK(wg_find_server_by_mac1(msg, sizeof(msg), servers, 3) == 1);
	CHECK(wg_mac1_verify(msg, sizeof(msg), &servers[1].mac) == 0);
	CHECK(wg_consume_initiation(&servers[1], msg, sizeof(msg), pub, ts) == WG_INIT_OK);
	CHECK_MEM(pub, want_pub, 32);
	CHECK_MEM(ts, want_ts, 12);
	CHECK(get_le32(msg + WG_INIT_OFF_SENDER) == 0xd9eddff0);
	CHECK(wg_consume_initiation(&servers[0], msg, sizeof(msg), pub, ts) == WG_INIT_BAD_MAC1);
	for (int i = 0; i < 3; i++)
		wg_server_key_wipe(&servers[i]);
}

TEST(round_trip)
{
	uint8_t msg[WG_INIT_LEN], pub[32], ts[12], want_pub[32];
	struct wg_server_key srv;
	struct kat_inputs k;

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	CHECK(wg_server_key_init(&srv, k.server_priv) == 0);
	CHECK(wg_pubkey(want_pub, k.client_priv) == 0);
	CHECK(wg_create_initiation(msg, k.client_priv, srv.pub, 0xcafe0001, k.eph_priv, k.tai64n,
				   k.cookie) == 0);
	CHECK(get_le32(msg) == WG_MSG_INITIATION);
	CHECK(get_le32(msg + WG_INIT_OFF_SENDER) == 0xcafe0001);
	CHECK(wg_consume_initiation(&srv, msg, sizeof(msg), pub, ts) == WG_INIT_OK);
	CHECK_MEM(pub, want_pub, 32);
	CHECK_MEM(ts, k.tai64n, 12);
	CHECK(wg_mac2_verify(msg, sizeof(msg), k.cookie) == 0);
	wg_server_key_wipe(&srv);
}

TEST(find_server_among_8)
{
	struct wg_server_key servers[8], other;
	uint8_t msg[WG_INIT_LEN], priv[32], eph[32], ts[12] = { 0x40 };

	CHECK(wg_crypto_init() == 0);
	fill(eph, 32, 0x99);
	for (int i = 0; i < 8; i++) {
		fill(priv, 32, (uint8_t)(0x10 * i + 3));
		CHECK(wg_server_key_init(&servers[i], priv) == 0);
	}
	fill(priv, 32, 0x77);
	CHECK(wg_server_key_init(&other, priv) == 0);
	for (int i = 0; i < 8; i++) {
		CHECK(wg_create_initiation(msg, priv, servers[i].pub, (uint32_t)i, eph, ts, NULL) ==
		      0);
		CHECK(wg_find_server_by_mac1(msg, sizeof(msg), servers, 8) == i, "server %d", i);
		/* Only the first i servers configured: not found unless included. */
		CHECK(wg_find_server_by_mac1(msg, sizeof(msg), servers, (size_t)i) == -1);
	}
	CHECK(wg_create_initiation(msg, priv, other.pub, 9, eph, ts, NULL) == 0);
	CHECK(wg_find_server_by_mac1(msg, sizeof(msg), servers, 8) == -1);
	CHECK(wg_find_server_by_mac1(msg, sizeof(msg), &other, 1) == 0);
	CHECK(wg_find_server_by_mac1(msg, sizeof(msg) - 1, &other, 1) == -1);
	msg[0] = WG_MSG_RESPONSE;
	CHECK(wg_find_server_by_mac1(msg, sizeof(msg), &other, 1) == -1);
	CHECK(wg_find_server_by_mac1(NULL, 0, &other, 1) == -1);
	for (int i = 0; i < 8; i++)
		wg_server_key_wipe(&servers[i]);
	wg_server_key_wipe(&other);
}

static enum wg_init_result flip_and_consume(const struct wg_server_key *srv,
					    const uint8_t *orig, size_t bit, int remac)
{
	uint8_t msg[WG_INIT_LEN], pub[32], ts[12];

	memcpy(msg, orig, WG_INIT_LEN);
	msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	if (remac)
		wg_macs_set(msg, sizeof(msg), &srv->mac, NULL);
	return wg_consume_initiation(srv, msg, sizeof(msg), pub, ts);
}

/* Every single-bit flip is caught, and by the right check. */
TEST(bit_flips)
{
	uint8_t msg[WG_INIT_LEN];
	struct wg_server_key srv;
	struct kat_inputs k;
	enum wg_init_result r;
	size_t bit;

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	CHECK(wg_server_key_init(&srv, k.server_priv) == 0);
	CHECK(wg_create_initiation(msg, k.client_priv, srv.pub, k.sender, k.eph_priv, k.tai64n,
				   NULL) == 0);

	for (bit = 0; bit < 8 * WG_HEADER_LEN; bit++) {
		r = flip_and_consume(&srv, msg, bit, 0);
		CHECK(r == WG_INIT_BAD_TYPE, "bit %zu: %s", bit, wg_init_result_str(r));
	}
	/* The sender index is not encrypted: with MAC1 redone it still passes (WGIT). */
	for (bit = 8 * WG_INIT_OFF_SENDER; bit < 8 * WG_INIT_OFF_EPHEMERAL; bit++) {
		CHECK(flip_and_consume(&srv, msg, bit, 0) == WG_INIT_BAD_MAC1, "bit %zu", bit);
		r = flip_and_consume(&srv, msg, bit, 1);
		CHECK(r == WG_INIT_OK, "bit %zu: %s", bit, wg_init_result_str(r));
	}
	/* Another ephemeral key gives another AEAD key (and H): the static fails. */
	for (bit = 8 * WG_INIT_OFF_EPHEMERAL; bit < 8 * WG_INIT_OFF_STATIC; bit++) {
		CHECK(flip_and_consume(&srv, msg, bit, 0) == WG_INIT_BAD_MAC1, "bit %zu", bit);
		r = flip_and_consume(&srv, msg, bit, 1);
		CHECK(r == WG_INIT_BAD_STATIC || r == WG_INIT_BAD_EPHEMERAL, "bit %zu: %s", bit,
		      wg_init_result_str(r));
	}
	for (bit = 8 * WG_INIT_OFF_STATIC; bit < 8 * WG_INIT_OFF_TIMESTAMP; bit++) {
		CHECK(flip_and_consume(&srv, msg, bit, 0) == WG_INIT_BAD_MAC1, "bit %zu", bit);
		r = flip_and_consume(&srv, msg, bit, 1);
		CHECK(r == WG_INIT_BAD_STATIC, "bit %zu: %s", bit, wg_init_result_str(r));
	}
	for (bit = 8 * WG_INIT_OFF_TIMESTAMP; bit < 8 * WG_INIT_OFF_MAC1; bit++) {
		CHECK(flip_and_consume(&srv, msg, bit, 0) == WG_INIT_BAD_MAC1, "bit %zu", bit);
		r = flip_and_consume(&srv, msg, bit, 1);
		CHECK(r == WG_INIT_BAD_TIMESTAMP, "bit %zu: %s", bit, wg_init_result_str(r));
	}
	for (bit = 8 * WG_INIT_OFF_MAC1; bit < 8 * WG_INIT_OFF_MAC2; bit++) {
		r = flip_and_consume(&srv, msg, bit, 0);
		CHECK(r == WG_INIT_BAD_MAC1, "bit %zu: %s", bit, wg_init_result_str(r));
	}
	/* MAC2 is only checked under load, by the caller. */
	for (bit = 8 * WG_INIT_OFF_MAC2; bit < 8 * WG_INIT_LEN; bit++)
		CHECK(flip_and_consume(&srv, msg, bit, 0) == WG_INIT_OK, "bit %zu", bit);
	wg_server_key_wipe(&srv);
}

TEST(sizes_and_types)
{
	uint8_t msg[WG_INIT_LEN + 1], pub[32], ts[12];
	struct wg_server_key srv;
	struct kat_inputs k;

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	CHECK(wg_server_key_init(&srv, k.server_priv) == 0);
	CHECK(wg_create_initiation(msg, k.client_priv, srv.pub, 1, k.eph_priv, k.tai64n, NULL) ==
	      0);
	msg[WG_INIT_LEN] = 0;

	CHECK(wg_consume_initiation(&srv, NULL, 0, pub, ts) == WG_INIT_BAD_SIZE);
	/* Exactly-sized heap copies, so a sanitizer build catches an over-read. */
	for (size_t len = 0; len <= WG_INIT_LEN + 1; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		enum wg_init_result want = len == WG_INIT_LEN ? WG_INIT_OK : WG_INIT_BAD_SIZE;
		enum wg_init_result r;

		memcpy(copy, msg, len);
		r = wg_consume_initiation(&srv, copy, len, pub, ts);
		free(copy);
		CHECK(r == want, "len %zu: %s", len, wg_init_result_str(r));
	}
	for (uint8_t t = 0; t < 8; t++) {
		msg[0] = t;
		CHECK(wg_consume_initiation(&srv, msg, WG_INIT_LEN, pub, ts) ==
			      (t == 1 ? WG_INIT_OK : WG_INIT_BAD_TYPE),
		      "type %u", t);
	}
	msg[0] = 2; /* a response's type with a response's size is still not an initiation */
	CHECK(wg_consume_initiation(&srv, msg, WG_RESP_LEN, pub, ts) == WG_INIT_BAD_TYPE);
	msg[0] = 1;
	for (int i = 1; i < 4; i++) {
		msg[i] = 1;
		CHECK(wg_consume_initiation(&srv, msg, WG_INIT_LEN, pub, ts) == WG_INIT_BAD_TYPE);
		msg[i] = 0;
	}
	for (int r = WG_INIT_OK; r <= WG_INIT_BAD_TIMESTAMP; r++)
		for (int s = WG_INIT_OK; s < r; s++)
			CHECK(strcmp(wg_init_result_str(r), wg_init_result_str(s)));
	wg_server_key_wipe(&srv);
}

/* Ephemeral keys of small order make the DH all-zero; refuse them. */
TEST(bad_ephemeral)
{
	uint8_t msg[WG_INIT_LEN], pub[32], ts[12];
	struct wg_server_key srv;
	struct kat_inputs k;

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	CHECK(wg_server_key_init(&srv, k.server_priv) == 0);
	for (uint8_t u = 0; u < 2; u++) {
		CHECK(wg_create_initiation(msg, k.client_priv, srv.pub, 1, k.eph_priv, k.tai64n,
					   NULL) == 0);
		memset(msg + WG_INIT_OFF_EPHEMERAL, 0, 32);
		msg[WG_INIT_OFF_EPHEMERAL] = u;
		CHECK(wg_macs_set(msg, sizeof(msg), &srv.mac, NULL) == 0);
		CHECK(wg_consume_initiation(&srv, msg, sizeof(msg), pub, ts) ==
		      WG_INIT_BAD_EPHEMERAL, "u = %u", u);
	}
	/* And creating towards a small-order server key fails the same way. */
	memset(pub, 0, 32);
	CHECK(wg_create_initiation(msg, k.client_priv, pub, 1, k.eph_priv, k.tai64n, NULL) ==
	      -EINVAL);
	wg_server_key_wipe(&srv);
}

/* WGIT rewrites the sender index, then must recompute MAC1 (and MAC2). */
TEST(macs_after_sender_change)
{
	uint8_t msg[WG_INIT_LEN], want[16], cookie[16], resp[WG_RESP_LEN];
	struct wg_server_key srv;
	struct kat_inputs k;

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	CHECK(wg_server_key_init(&srv, k.server_priv) == 0);
	CHECK(wg_create_initiation(msg, k.client_priv, srv.pub, 7, k.eph_priv, k.tai64n, NULL) ==
	      0);
	CHECK(wg_mac1_verify(msg, sizeof(msg), &srv.mac) == 0);
	msg[WG_INIT_OFF_SENDER] ^= 0x5a;
	CHECK(wg_mac1_verify(msg, sizeof(msg), &srv.mac) == -EBADMSG);
	memset(msg + WG_INIT_OFF_MAC2, 0xee, 16);
	CHECK(wg_macs_set(msg, sizeof(msg), &srv.mac, NULL) == 0);
	CHECK(wg_mac1_verify(msg, sizeof(msg), &srv.mac) == 0);
	blake2s(want, 16, msg, WG_INIT_OFF_MAC1, srv.mac.mac1_key, 32);
	CHECK_MEM(msg + WG_INIT_OFF_MAC1, want, 16);
	memset(want, 0, 16);
	CHECK_MEM(msg + WG_INIT_OFF_MAC2, want, 16);

	/* MAC2 is keyed BLAKE2s-128 with the 16-byte cookie, over MAC1 too. */
	CHECK(wg_macs_set(msg, sizeof(msg), &srv.mac, k.cookie) == 0);
	blake2s(want, 16, msg, WG_INIT_OFF_MAC2, k.cookie, 16);
	CHECK_MEM(msg + WG_INIT_OFF_MAC2, want, 16);
	CHECK(wg_mac1_verify(msg, sizeof(msg), &srv.mac) == 0);
	CHECK(wg_mac2_verify(msg, sizeof(msg), k.cookie) == 0);
	memcpy(cookie, k.cookie, 16);
	cookie[15] ^= 1;
	CHECK(wg_mac2_verify(msg, sizeof(msg), cookie) == -EBADMSG);

	/* Type 2 uses the response offsets. */
	fill(resp, sizeof(resp), 0x21);
	memcpy(resp, &(uint8_t[4]){ 2, 0, 0, 0 }, 4);
	CHECK(wg_macs_set(resp, sizeof(resp), &srv.mac, k.cookie) == 0);
	blake2s(want, 16, resp, WG_RESP_OFF_MAC1, srv.mac.mac1_key, 32);
	CHECK_MEM(resp + WG_RESP_OFF_MAC1, want, 16);
	blake2s(want, 16, resp, WG_RESP_OFF_MAC2, k.cookie, 16);
	CHECK_MEM(resp + WG_RESP_OFF_MAC2, want, 16);
	CHECK(wg_mac1_verify(resp, sizeof(resp), &srv.mac) == 0);
	CHECK(wg_mac2_verify(resp, sizeof(resp), k.cookie) == 0);
	resp[WG_RESP_OFF_RECEIVER] ^= 1;
	CHECK(wg_mac1_verify(resp, sizeof(resp), &srv.mac) == -EBADMSG);
	CHECK(wg_mac2_verify(resp, sizeof(resp), k.cookie) == -EBADMSG);

	/* Neither type 1 nor 2, or the wrong size for the type. */
	CHECK(wg_mac1_verify(resp, sizeof(resp) - 1, &srv.mac) == -EINVAL);
	CHECK(wg_mac1_verify(msg, WG_RESP_LEN, &srv.mac) == -EINVAL);
	CHECK(wg_macs_set(resp, 3, &srv.mac, NULL) == -EINVAL);
	resp[0] = 4;
	CHECK(wg_macs_set(resp, sizeof(resp), &srv.mac, NULL) == -EINVAL);
	CHECK(wg_mac2_verify(resp, sizeof(resp), k.cookie) == -EINVAL);
	wg_server_key_wipe(&srv);
}

TEST(cookie_seal_open)
{
	uint8_t msg[WG_COOKIE_REPLY_LEN] = { 3, 0, 0, 0, 0x78, 0x56, 0x34, 0x12 };
	uint8_t cookie[16], got[16], mac1[16], bad_mac1[16], key[32], buf[40];
	struct wg_mac_keys mk;
	uint8_t pub[32];

	CHECK(wg_crypto_init() == 0);
	fill(pub, 32, 0x55);
	wg_mac_keys_init(&mk, pub);
	fill(cookie, 16, 0xa0);
	fill(mac1, 16, 0x10);
	fill(msg + WG_COOKIE_OFF_NONCE, 24, 0x30);
	CHECK(wg_cookie_seal(msg, cookie, mk.cookie_key, mac1) == 0);
	CHECK(get_le32(msg) == WG_MSG_COOKIE_REPLY && get_le32(msg + 4) == 0x12345678);

	/* Independently: XChaCha20-Poly1305 under HASH("cookie--" || pub), AAD mac1. */
	memcpy(buf, "cookie--", 8);
	memcpy(buf + 8, pub, 32);
	blake2s(key, 32, buf, 40, NULL, 0);
	CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(got, NULL, NULL, msg + 32, 32, mac1, 16,
							 msg + 8, key) == 0);
	CHECK_MEM(got, cookie, 16);

	memset(got, 0, 16);
	CHECK(wg_cookie_open(got, msg, sizeof(msg), mk.cookie_key, mac1) == 0);
	CHECK_MEM(got, cookie, 16);

	memcpy(bad_mac1, mac1, 16);
	bad_mac1[0] ^= 1;
	CHECK(wg_cookie_open(got, msg, sizeof(msg), mk.cookie_key, bad_mac1) == -EBADMSG);
	CHECK(wg_cookie_open(got, msg, sizeof(msg), mk.mac1_key, mac1) == -EBADMSG);
	for (size_t bit = 8 * WG_COOKIE_OFF_NONCE; bit < 8 * WG_COOKIE_REPLY_LEN; bit++) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK(wg_cookie_open(got, msg, sizeof(msg), mk.cookie_key, mac1) == -EBADMSG,
		      "bit %zu", bit);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK(wg_cookie_open(got, msg, sizeof(msg) - 1, mk.cookie_key, mac1) == -EINVAL);
	CHECK(wg_cookie_open(got, NULL, 0, mk.cookie_key, mac1) == -EINVAL);
	msg[0] = 2;
	CHECK(wg_cookie_open(got, msg, sizeof(msg), mk.cookie_key, mac1) == -EINVAL);
	CHECK(wg_cookie_seal(msg, cookie, mk.cookie_key, mac1) == -EINVAL);
}

TEST(cookie_lifetime)
{
	const uint64_t t0 = 5000 * NS_PER_SEC;
	struct wg_cookie c = { .received_ns = t0 };

	CHECK(wg_cookie_usable(&c, t0) == 1);
	CHECK(wg_cookie_usable(&c, t0 + 119 * NS_PER_SEC) == 1);
	CHECK(wg_cookie_usable(&c, t0 + 120 * NS_PER_SEC - 1) == 1);
	CHECK(wg_cookie_usable(&c, t0 + 120 * NS_PER_SEC) == 0);
	CHECK(wg_cookie_usable(&c, t0 + 121 * NS_PER_SEC) == 0);
	CHECK(wg_cookie_usable(&c, t0 - 1) == 0);
	c.received_ns = 0;
	CHECK(wg_cookie_usable(&c, 1) == 0);
}

TEST(tai64n)
{
	uint8_t a[12], b[12];
	uint64_t secs = 0;
	time_t now;

	now = time(NULL);
	wg_tai64n_now(a);
	for (int i = 0; i < 8; i++)
		secs = secs << 8 | a[i];
	CHECK(secs >= 0x400000000000000aull + (uint64_t)now &&
		      secs <= 0x400000000000000aull + (uint64_t)now + 2,
	      "secs %llx", (unsigned long long)secs);
	/* Nanoseconds whitened to multiples of 2^24, and below one second. */
	CHECK(a[9] == 0 && a[10] == 0 && a[11] == 0);
	CHECK(((uint32_t)a[8] << 24) < NS_PER_SEC);

	wg_tai64n_now(b);
	CHECK(wg_tai64n_cmp(b, a) >= 0);
	memcpy(b, a, 12);
	b[8] += 1;
	CHECK(wg_tai64n_cmp(b, a) > 0 && wg_tai64n_cmp(a, b) < 0);
	/* One second later with fewer nanoseconds (carry: a[7] may be 0xff). */
	memcpy(b, a, 12);
	for (int i = 7; i >= 0 && ++b[i] == 0; i--)
		;
	b[8] = 0;
	CHECK(wg_tai64n_cmp(b, a) > 0);
	CHECK(wg_tai64n_cmp(a, a) == 0);
}

/* Same result and outputs from wg_consume_initiation and the cached variant (1 server). */
static void consume_both(const struct wg_server_key *srv, struct dh_cache *cache,
			 const uint8_t *msg, enum wg_init_result *r_plain,
			 enum wg_init_result *r_cached, int *same_out)
{
	uint8_t pub1[32], ts1[12], pub2[32], ts2[12];
	int si;

	memset(pub1, 0xaa, 32);
	memset(ts1, 0xaa, 12);
	memcpy(pub2, pub1, 32);
	memcpy(ts2, ts1, 12);
	*r_plain = wg_consume_initiation(srv, msg, WG_INIT_LEN, pub1, ts1);
	*r_cached = wg_consume_initiation_any(srv, 1, cache, msg, WG_INIT_LEN, &si, pub2, ts2);
	/* The server index is set exactly when MAC1 named it. */
	*same_out = !memcmp(pub1, pub2, 32) && !memcmp(ts1, ts2, 12) &&
		    (si == 0) == (*r_cached != WG_INIT_BAD_MAC1 && *r_cached != WG_INIT_BAD_TYPE &&
				  *r_cached != WG_INIT_BAD_SIZE);
}

/*
 * Every corruption a bit flip can make (MAC1 redone or not), twice: the
 * first pass fills the cache, the second hits it. The cached path must
 * answer exactly as the plain one, outputs included.
 */
TEST(cache_gives_identical_results)
{
	uint8_t msg[WG_INIT_LEN], bad[WG_INIT_LEN];
	enum wg_init_result a, b;
	struct wg_server_key srv;
	struct kat_inputs k;
	struct dh_cache c;
	int same, n_ok = 0, n_ts = 0;

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	CHECK(wg_server_key_init(&srv, k.server_priv) == 0);
	CHECK(dh_cache_init(&c, 16) == 0);
	CHECK(wg_create_initiation(msg, k.client_priv, srv.pub, k.sender, k.eph_priv, k.tai64n,
				   NULL) == 0);
	for (int pass = 0; pass < 2; pass++) {
		consume_both(&srv, &c, msg, &a, &b, &same);
		CHECK(a == WG_INIT_OK && b == WG_INIT_OK && same, "pass %d: %s / %s", pass,
		      wg_init_result_str(a), wg_init_result_str(b));
		n_ok++;
		for (size_t bit = 0; bit < 8 * WG_INIT_LEN; bit += 5) {
			for (int remac = 0; remac < 2; remac++) {
				memcpy(bad, msg, WG_INIT_LEN);
				bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				if (remac)
					wg_macs_set(bad, WG_INIT_LEN, &srv.mac, NULL);
				consume_both(&srv, &c, bad, &a, &b, &same);
				CHECK(a == b && same, "pass %d, bit %zu, remac %d: %s / %s", pass,
				      bit, remac, wg_init_result_str(a), wg_init_result_str(b));
				n_ts += a == WG_INIT_BAD_TIMESTAMP;
			}
		}
	}
	/* The cache really answered: one miss, then hits (timestamp flips reach the ss step). */
	CHECK(c.misses == 1 && c.hits > 0 && n_ts > 0 && n_ok == 2,
	      "misses %llu hits %llu, %d timestamp failures", (unsigned long long)c.misses,
	      (unsigned long long)c.hits, n_ts);

	/* A wrong secret in the cache would change the result: the hit is really used. */
	{
		uint8_t spub[32], wrong[32], pub[32], ts[12];
		int si;

		CHECK(wg_pubkey(spub, k.client_priv) == 0);
		memset(wrong, 0x42, 32);
		dh_cache_put(&c, srv.pub, spub, wrong);
		CHECK(wg_consume_initiation_any(&srv, 1, &c, msg, WG_INIT_LEN, &si, pub, ts) ==
		      WG_INIT_BAD_TIMESTAMP);
	}
	dh_cache_free(&c);
	wg_server_key_wipe(&srv);
}

/* The variant finds the server MAC1 names, as wg_find_server_by_mac1, and fails alike. */
TEST(consume_any_among_8)
{
	struct wg_server_key servers[8], other;
	uint8_t msg[WG_INIT_LEN], priv[32], eph[32], ts[12] = { 0x40 }, pub[32], want[32], t2[12];
	struct dh_cache c;
	int si;

	CHECK(wg_crypto_init() == 0);
	CHECK(dh_cache_init(&c, 64) == 0);
	fill(eph, 32, 0x19);
	for (int i = 0; i < 8; i++) {
		fill(priv, 32, (uint8_t)(0x10 * i + 5));
		CHECK(wg_server_key_init(&servers[i], priv) == 0);
	}
	fill(priv, 32, 0x71);
	CHECK(wg_pubkey(want, priv) == 0);
	CHECK(wg_server_key_init(&other, priv) == 0);
	for (int i = 0; i < 8; i++) {
		CHECK(wg_create_initiation(msg, priv, servers[i].pub, (uint32_t)i, eph, ts, NULL) ==
		      0);
		for (int pass = 0; pass < 2; pass++) {
			CHECK(wg_consume_initiation_any(servers, 8, &c, msg, sizeof(msg), &si, pub,
							t2) == WG_INIT_OK,
			      "server %d", i);
			CHECK(si == i, "server %d found as %d", i, si);
			CHECK_MEM(pub, want, 32);
		}
		/* Only the first i configured: not ours. */
		CHECK(wg_consume_initiation_any(servers, (size_t)i, &c, msg, sizeof(msg), &si, pub,
						t2) == WG_INIT_BAD_MAC1 &&
		      si == -1);
	}
	/* One miss per server key: the same client under 8 servers is 8 entries. */
	CHECK(c.misses == 8 && c.hits == 8 && c.used == 8, "misses %llu hits %llu used %u",
	      (unsigned long long)c.misses, (unsigned long long)c.hits, c.used);
	CHECK(wg_consume_initiation_any(servers, 8, &c, msg, sizeof(msg) - 1, &si, pub, t2) ==
		      WG_INIT_BAD_SIZE &&
	      si == -1);
	msg[0] = WG_MSG_RESPONSE;
	CHECK(wg_consume_initiation_any(servers, 8, &c, msg, sizeof(msg), &si, pub, t2) ==
		      WG_INIT_BAD_TYPE &&
	      si == -1);
	CHECK(wg_consume_initiation_any(servers, 8, &c, NULL, 0, &si, pub, t2) ==
		      WG_INIT_BAD_SIZE &&
	      si == -1);
	for (int i = 0; i < 8; i++)
		wg_server_key_wipe(&servers[i]);
	wg_server_key_wipe(&other);
	dh_cache_free(&c);
}

/*
 * An initiation whose static key is a small-order point, encrypted as a
 * client would (the static AEAD opens): the static-static DH is all-zero.
 * Built here step by step, since wg_create_initiation derives the static
 * key from a private key.
 */
static void small_order_static_initiation(uint8_t msg[WG_INIT_LEN],
					  const struct wg_server_key *srv,
					  const uint8_t eph_priv[32], const uint8_t spub[32])
{
	static const uint8_t zero_nonce[12];
	uint8_t ck[32], h[32], k[32], dh[32], *epub = msg + WG_INIT_OFF_EPHEMERAL;

	memset(msg, 0, WG_INIT_LEN);
	msg[0] = WG_MSG_INITIATION;
	msg[WG_INIT_OFF_SENDER] = 1;
	CHECK(wg_pubkey(epub, eph_priv) == 0);
	wg_hash(ck, "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", 37, NULL, 0);
	wg_hash(h, ck, 32, "WireGuard v1 zx2c4 Jason@zx2c4.com", 34);
	wg_hash(h, h, 32, srv->pub, 32);
	wg_kdf(ck, NULL, NULL, ck, epub, 32);
	wg_hash(h, h, 32, epub, 32);
	CHECK(crypto_scalarmult(dh, eph_priv, srv->pub) == 0);
	wg_kdf(ck, k, NULL, ck, dh, 32);
	crypto_aead_chacha20poly1305_ietf_encrypt(msg + WG_INIT_OFF_STATIC, NULL, spub, 32, h, 32,
						  NULL, zero_nonce, k);
	/* The timestamp cannot be sealed (that needs the zero DH): random bytes. */
	randombytes_buf(msg + WG_INIT_OFF_TIMESTAMP, WG_TAI64N_LEN + WG_AEAD_TAG_LEN);
	CHECK(wg_macs_set(msg, WG_INIT_LEN, &srv->mac, NULL) == 0);
}

/* An all-zero static-static DH is refused every time, with the cache too, and never cached. */
TEST(zero_static_dh_refused_with_cache)
{
	uint8_t msg[WG_INIT_LEN], spub[32] = { 0 }, pub[32], ts[12];
	struct wg_server_key srv;
	struct kat_inputs k;
	struct dh_cache c;
	int si;

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	CHECK(wg_server_key_init(&srv, k.server_priv) == 0);
	CHECK(dh_cache_init(&c, 4) == 0);
	for (uint8_t u = 0; u < 2; u++) {
		spub[0] = u; /* u = 0 and u = 1: small order */
		small_order_static_initiation(msg, &srv, k.eph_priv, spub);
		for (int i = 0; i < 3; i++) {
			CHECK(wg_consume_initiation(&srv, msg, WG_INIT_LEN, pub, ts) ==
			      WG_INIT_BAD_STATIC, "u = %u", u);
			CHECK(wg_consume_initiation_any(&srv, 1, &c, msg, WG_INIT_LEN, &si, pub,
							ts) == WG_INIT_BAD_STATIC,
			      "u = %u, try %d", u, i);
		}
	}
	CHECK(c.used == 0 && c.hits == 0 && c.misses == 6, "used %u hits %llu misses %llu",
	      c.used, (unsigned long long)c.hits, (unsigned long long)c.misses);
	dh_cache_free(&c);
	wg_server_key_wipe(&srv);
}

/* The precomputed per-key state equals what the message-independent steps compute. */
TEST(server_key_precomputes_noise_init)
{
	uint8_t ck[32], h[32];
	struct wg_server_key srv;
	struct kat_inputs k;

	CHECK(wg_crypto_init() == 0);
	kat_inputs(&k);
	CHECK(wg_server_key_init(&srv, k.server_priv) == 0);
	blake2s(ck, 32, "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", 37, NULL, 0);
	wg_hash(h, ck, 32, "WireGuard v1 zx2c4 Jason@zx2c4.com", 34);
	wg_hash(h, h, 32, srv.pub, 32);
	CHECK_MEM(srv.noise_ck, ck, 32);
	CHECK_MEM(srv.noise_h, h, 32);
	wg_server_key_wipe(&srv);
}

/*
 * wg_consume_initiations on batches of 1 to 20 drawn from valid
 * initiations (two servers, four clients) and broken ones (flipped bits
 * with MAC1 redone, small-order ephemeral or static keys, wrong size or
 * type), with the four-lane DHs and without, with the DH cache and
 * without: every job gets the result and outputs wg_consume_initiation_mac1_ok
 * gives it alone.
 */
TEST(batch_gives_each_the_result_it_gets_alone)
{
	enum { POOL = 40 };
	static uint8_t msgs[POOL][WG_INIT_LEN];
	struct wg_server_key srv[2];
	struct wg_init_job jobs[20];
	uint8_t priv[32], eph[32], ts[12] = { 0x40 }, spub[32] = { 0 };
	uint8_t pub[20][32], tai[20][12], want_pub[32], want_tai[12];
	size_t len[POOL];
	int which[POOL], n_ok = 0, lanes_modes = dh_batch_lanes() ? 2 : 1;
	bool lanes_on = dh_batch_lanes();

	CHECK(wg_crypto_init() == 0);
	for (int i = 0; i < 2; i++) {
		fill(priv, 32, (uint8_t)(0x31 + i));
		CHECK(wg_server_key_init(&srv[i], priv) == 0);
	}
	for (int m = 0; m < POOL; m++) {
		which[m] = m % 2;
		len[m] = WG_INIT_LEN;
		fill(priv, 32, (uint8_t)(0x51 + m % 4)); /* four clients */
		randombytes_buf(eph, 32);
		ts[11] = (uint8_t)m;
		CHECK(wg_create_initiation(msgs[m], priv, srv[which[m]].pub, (uint32_t)m, eph, ts,
					   NULL) == 0);
		switch (m % 8) {
		case 1: /* static or timestamp ciphertext altered */
		case 2:
			msgs[m][WG_INIT_OFF_EPHEMERAL + 32 + (m * 7) % 108] ^= 0x10;
			break;
		case 3: /* ephemeral of small order */
			memset(msgs[m] + WG_INIT_OFF_EPHEMERAL, 0, 32);
			msgs[m][WG_INIT_OFF_EPHEMERAL] = (uint8_t)(m & 1);
			break;
		case 5: /* static of small order: the static-static DH is zero */
			spub[0] = (uint8_t)(m & 1);
			small_order_static_initiation(msgs[m], &srv[which[m]], eph, spub);
			break;
		case 7:
			if (m == 7)
				len[m] = WG_INIT_LEN - 1;
			else if (m == 15)
				msgs[m][0] = WG_MSG_RESPONSE;
			break;
		}
		wg_macs_set(msgs[m], WG_INIT_LEN, &srv[which[m]].mac, NULL);
	}
	for (int mode = 0; mode < 2 * lanes_modes; mode++) {
		struct dh_cache c, *cache = mode & 1 ? &c : NULL;

		CHECK(dh_batch_use_lanes(lanes_on && mode < 2) == 0);
		CHECK(dh_cache_init(&c, 64) == 0);
		for (int round = 0; round < 60; round++) {
			size_t n = 1 + (size_t)(round % 20);
			int pick[20];

			for (size_t j = 0; j < n; j++) {
				pick[j] = (int)(randombytes_uniform(POOL));
				memset(pub[j], 0xaa, 32);
				memset(tai[j], 0xaa, 12);
				jobs[j] = (struct wg_init_job){ .srv = &srv[which[pick[j]]],
								.msg = msgs[pick[j]],
								.len = len[pick[j]],
								.client_pub = pub[j],
								.tai64n = tai[j],
								.r = -1 };
			}
			wg_consume_initiations(jobs, n, cache);
			for (size_t j = 0; j < n; j++) {
				enum wg_init_result r;

				memset(want_pub, 0xaa, 32);
				memset(want_tai, 0xaa, 12);
				r = wg_consume_initiation_mac1_ok(jobs[j].srv, NULL, jobs[j].msg,
								  jobs[j].len, want_pub, want_tai);
				CHECK(jobs[j].r == r, "mode %d round %d job %zu (message %d): %s, alone %s",
				      mode, round, j, pick[j], wg_init_result_str(jobs[j].r),
				      wg_init_result_str(r));
				CHECK_MEM(pub[j], want_pub, 32);
				CHECK_MEM(tai[j], want_tai, 12);
				n_ok += r == WG_INIT_OK;
			}
		}
		if (cache)
			CHECK(c.hits > 0 && c.misses > 0, "mode %d: hits %llu misses %llu", mode,
			      (unsigned long long)c.hits, (unsigned long long)c.misses);
		dh_cache_free(&c);
	}
	CHECK(dh_batch_use_lanes(lanes_on) == 0);
	CHECK(n_ok > 100, "only %d valid initiations drawn", n_ok);
	for (int i = 0; i < 2; i++)
		wg_server_key_wipe(&srv[i]);
}

TEST_MAIN()
