// SPDX-License-Identifier: GPL-2.0
/*
 * WireGuard handshake crypto: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as in
 * the WireGuard whitepaper section 5.4, MAC1/MAC2 and cookie replies. X25519
 * and the AEADs come from libsodium, BLAKE2s from blake2s.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "blake2s.h"
#include "byteorder.h"
#include "dh_batch.h"
#include "dh_cache.h"
#include "log.h"
#include "wg_crypto.h"

#define HMAC_BLOCK_LEN BLAKE2S_BLOCK_LEN

static const char noise_construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char wg_identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char label_mac1[] = "mac1----";
static const char label_cookie[] = "cookie--";

/* Handshake AEADs use counter 0: 4 zero bytes and a zero 64-bit LE counter. */
static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

/* Chaining key, hash, AEAD key and DH result while processing a handshake. */
struct noise_state {
	uint8_t ck[WG_HASH_LEN];
	uint8_t h[WG_HASH_LEN];
	uint8_t k[WG_KEY_LEN];
	uint8_t dh[WG_KEY_LEN];
};

int wg_crypto_init(void)
{
	if (sodium_init() < 0) {
		pr_err("libsodium initialisation failed");
		return -EIO;
	}
	return 0;
}

void wg_hash(uint8_t out[static 32], const void *a, size_t alen, const void *b, size_t blen)
{
	struct blake2s_state s;

	blake2s_init(&s, WG_HASH_LEN, NULL, 0);
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out);
}

void wg_mac(uint8_t out[static 16], const uint8_t key[static 32], const void *in, size_t inlen)
{
	blake2s(out, WG_MAC_LEN, in, inlen, key, WG_KEY_LEN);
}

/*
 * struct wg_hmac_key is only for non-empty messages: an empty one would make
 * the pad block the last, compressed with the final flag.
 */

/* The key as one block, XORed with the inner pad (RFC 2104). */
static void hmac_inner_pad(uint8_t pad[static HMAC_BLOCK_LEN], const uint8_t *key, size_t keylen)
{
	memset(pad, 0, HMAC_BLOCK_LEN);
	/* RFC 2104: keys longer than a block are hashed first. */
	if (keylen > HMAC_BLOCK_LEN)
		wg_hash(pad, key, keylen, NULL, 0);
	else
		memcpy(pad, key, keylen);
	for (size_t i = 0; i < HMAC_BLOCK_LEN; i++)
		pad[i] ^= 0x36;
}

/* Turn an inner pad into the outer one. */
static void hmac_outer_pad(uint8_t pad[static HMAC_BLOCK_LEN])
{
	for (size_t i = 0; i < HMAC_BLOCK_LEN; i++)
		pad[i] ^= 0x36 ^ 0x5c;
}

static void hmac_key_init(struct wg_hmac_key *hk, const uint8_t *key, size_t keylen)
{
	uint8_t pad[HMAC_BLOCK_LEN];

	hmac_inner_pad(pad, key, keylen);
	blake2s_init(&hk->inner, WG_HASH_LEN, NULL, 0);
	blake2s_update(&hk->inner, pad, HMAC_BLOCK_LEN);
	blake2s_absorb_block(&hk->inner);

	hmac_outer_pad(pad);
	blake2s_init(&hk->outer, WG_HASH_LEN, NULL, 0);
	blake2s_update(&hk->outer, pad, HMAC_BLOCK_LEN);
	blake2s_absorb_block(&hk->outer);

	sodium_memzero(pad, sizeof(pad));
}

/* out may alias in; inlen > 0. */
static void hmac_with(uint8_t out[static 32], const struct wg_hmac_key *hk, const void *in,
		      size_t inlen)
{
	struct blake2s_state s = hk->inner;
	uint8_t inner[WG_HASH_LEN];

	blake2s_update(&s, in, inlen);
	blake2s_final(&s, inner); /* wipes s */
	s = hk->outer;
	blake2s_update(&s, inner, WG_HASH_LEN);
	blake2s_final(&s, out);
	sodium_memzero(inner, sizeof(inner));
}

void wg_hmac(uint8_t out[static 32], const uint8_t *key, size_t keylen, const void *in,
	     size_t inlen)
{
	uint8_t pad[HMAC_BLOCK_LEN], inner[WG_HASH_LEN];
	struct blake2s_state s;

	hmac_inner_pad(pad, key, keylen);
	blake2s_init(&s, WG_HASH_LEN, NULL, 0);
	blake2s_update(&s, pad, HMAC_BLOCK_LEN);
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, inner);

	hmac_outer_pad(pad);
	blake2s_init(&s, WG_HASH_LEN, NULL, 0);
	blake2s_update(&s, pad, HMAC_BLOCK_LEN);
	blake2s_update(&s, inner, WG_HASH_LEN);
	blake2s_final(&s, out);

	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

/*
 * HKDF's expansion from the extracted key: T(i) = HMAC(prk, T(i-1) || i).
 * The prk pads are compressed once for all T(i): two compressions per output.
 */
static void kdf_expand(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t prk[static 32])
{
	uint8_t t[3][WG_HASH_LEN], buf[WG_HASH_LEN + 1];
	int n = t3 ? 3 : t2 ? 2 : 1;
	struct wg_hmac_key hk;

	hmac_key_init(&hk, prk, WG_HASH_LEN);
	buf[0] = 1;
	hmac_with(t[0], &hk, buf, 1);
	for (int i = 1; i < n; i++) {
		memcpy(buf, t[i - 1], WG_HASH_LEN);
		buf[WG_HASH_LEN] = (uint8_t)(i + 1);
		hmac_with(t[i], &hk, buf, sizeof(buf));
	}
	/* Written only now, so outputs may alias the caller's ck or in. */
	memcpy(t1, t[0], WG_HASH_LEN);
	if (t2)
		memcpy(t2, t[1], WG_HASH_LEN);
	if (t3)
		memcpy(t3, t[2], WG_HASH_LEN);

	sodium_memzero(t, sizeof(t));
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(&hk, sizeof(hk));
}

void wg_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t ck[static 32], const void *in,
	    size_t inlen)
{
	uint8_t prk[WG_HASH_LEN];

	wg_hmac(prk, ck, WG_HASH_LEN, in, inlen); /* extract */
	kdf_expand(t1, t2, t3, prk);
	sodium_memzero(prk, sizeof(prk));
}

/* wg_kdf with ck given as a prepared HMAC key; inlen > 0. */
static void kdf_keyed(uint8_t *t1, uint8_t *t2, uint8_t *t3, const struct wg_hmac_key *ck,
		      const void *in, size_t inlen)
{
	uint8_t prk[WG_HASH_LEN];

	hmac_with(prk, ck, in, inlen);
	kdf_expand(t1, t2, t3, prk);
	sodium_memzero(prk, sizeof(prk));
}

int wg_pubkey(uint8_t pub[static 32], const uint8_t priv[static 32])
{
	return crypto_scalarmult_base(pub, priv) ? -EINVAL : 0;
}

/*
 * The one base64 key decoder (configs, the cache file, tests). A string of
 * another length is decoded on the heap only to say how long it is.
 */
int wg_key_decode(uint8_t key[static 32], const char *b64, size_t *bin_len)
{
	size_t len, cap, n = 0;
	uint8_t *bin;
	int ret = 0;

	if (bin_len)
		*bin_len = 0;
	if (!b64)
		return -EINVAL;
	len = strlen(b64);
	cap = len / 4 * 3 + 3;
	bin = malloc(cap);
	if (!bin)
		return -ENOMEM;
	/* The strict decoder also rejects non-zero trailing bits and junk. */
	if (sodium_base642bin(bin, cap, b64, len, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL))
		ret = -EINVAL;
	else if (n != WG_KEY_LEN)
		ret = -EMSGSIZE;
	else
		memcpy(key, bin, WG_KEY_LEN);
	if (bin_len && ret != -EINVAL)
		*bin_len = n;
	sodium_memzero(bin, cap);
	free(bin);
	return ret;
}

int wg_key_from_base64(uint8_t key[static 32], const char *b64)
{
	return wg_key_decode(key, b64, NULL) ? -EINVAL : 0;
}

void wg_key_to_base64(char out[static 45], const uint8_t key[static 32])
{
	sodium_bin2base64(out, WG_KEY_B64_LEN + 1, key, WG_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

void wg_mac_keys_init(struct wg_mac_keys *k, const uint8_t pub[static 32])
{
	wg_hash(k->mac1_key, label_mac1, sizeof(label_mac1) - 1, pub, WG_KEY_LEN);
	wg_hash(k->cookie_key, label_cookie, sizeof(label_cookie) - 1, pub, WG_KEY_LEN);
	blake2s_init(&k->mac1_state, WG_MAC_LEN, k->mac1_key, WG_KEY_LEN);
	blake2s_absorb_block(&k->mac1_state);
}

/* MAC(mac1_key, msg[0:off]) from the precomputed state; off > 0. */
static void mac1_compute(uint8_t out[static 16], const struct wg_mac_keys *k, const uint8_t *msg,
			 size_t off)
{
	struct blake2s_state s = k->mac1_state;

	blake2s_update(&s, msg, off);
	blake2s_final(&s, out); /* wipes s */
}

/*
 * MAC1 offset of a type 1 or 2 message; MAC2 follows MAC1 in both. The whole
 * le32 is compared, as wireguard-go does, so reserved bytes must be zero.
 */
static int mac1_offset(const uint8_t *msg, size_t len, size_t *off)
{
	if (!msg || len < WG_HEADER_LEN)
		return -EINVAL;
	switch (get_le32(msg)) {
	case WG_MSG_INITIATION:
		if (len != WG_INIT_LEN)
			return -EINVAL;
		*off = WG_INIT_OFF_MAC1;
		return 0;
	case WG_MSG_RESPONSE:
		if (len != WG_RESP_LEN)
			return -EINVAL;
		*off = WG_RESP_OFF_MAC1;
		return 0;
	}
	return -EINVAL;
}

/*
 * MAC2 = MAC(cookie, msg[0:mac2_off]): the cookie is a 16-byte BLAKE2s key
 * (the key length is hashed in, so it is not padded to 32). It covers MAC1.
 */
static void mac2_compute(uint8_t out[static 16], const uint8_t cookie[static 16],
			 const uint8_t *msg, size_t mac2_off)
{
	blake2s(out, WG_MAC_LEN, msg, mac2_off, cookie, WG_COOKIE_LEN);
}

int wg_mac1_verify(const uint8_t *msg, size_t len, const struct wg_mac_keys *receiver)
{
	uint8_t mac[WG_MAC_LEN];
	size_t off;

	if (mac1_offset(msg, len, &off))
		return -EINVAL;
	mac1_compute(mac, receiver, msg, off);
	return sodium_memcmp(mac, msg + off, WG_MAC_LEN) ? -EBADMSG : 0;
}

int wg_macs_set(uint8_t *msg, size_t len, const struct wg_mac_keys *receiver,
		const uint8_t *cookie)
{
	size_t off;

	if (mac1_offset(msg, len, &off))
		return -EINVAL;
	mac1_compute(msg + off, receiver, msg, off);
	if (cookie)
		mac2_compute(msg + off + WG_MAC_LEN, cookie, msg, off + WG_MAC_LEN);
	else
		memset(msg + off + WG_MAC_LEN, 0, WG_MAC_LEN);
	return 0;
}

int wg_mac2_verify(const uint8_t *msg, size_t len, const uint8_t cookie[static 16])
{
	uint8_t mac[WG_MAC_LEN];
	size_t off, mac2_off;

	if (mac1_offset(msg, len, &off))
		return -EINVAL;
	mac2_off = off + WG_MAC_LEN;
	mac2_compute(mac, cookie, msg, mac2_off);
	return sodium_memcmp(mac, msg + mac2_off, WG_MAC_LEN) ? -EBADMSG : 0;
}

/* C = HASH(construction), H = HASH(C || identifier), H = HASH(H || Sr_pub). */
static void noise_init_hashes(uint8_t ck[static 32], uint8_t h[static 32],
			      const uint8_t responder_pub[static 32])
{
	wg_hash(ck, noise_construction, sizeof(noise_construction) - 1, NULL, 0);
	wg_hash(h, ck, WG_HASH_LEN, wg_identifier, sizeof(wg_identifier) - 1);
	wg_hash(h, h, WG_HASH_LEN, responder_pub, WG_KEY_LEN);
}

int wg_server_key_init(struct wg_server_key *s, const uint8_t priv[static 32])
{
	int ret;

	ret = wg_crypto_init();
	if (ret)
		return ret;
	memcpy(s->priv, priv, WG_KEY_LEN);
	ret = wg_pubkey(s->pub, s->priv);
	if (ret) {
		wg_server_key_wipe(s);
		return ret;
	}
	wg_mac_keys_init(&s->mac, s->pub);
	noise_init_hashes(s->noise_ck, s->noise_h, s->pub);
	hmac_key_init(&s->noise_ck_key, s->noise_ck, WG_HASH_LEN);
	return 0;
}

void wg_server_key_wipe(struct wg_server_key *s)
{
	sodium_memzero(s, sizeof(*s));
}

int wg_find_server_by_mac1(const uint8_t *msg, size_t len, const struct wg_server_key *servers,
			   size_t n)
{
	if (!msg || len != WG_INIT_LEN || get_le32(msg) != WG_MSG_INITIATION)
		return -1;
	for (size_t i = 0; i < n && i < (size_t)INT32_MAX; i++)
		if (!wg_mac1_verify(msg, len, &servers[i].mac))
			return (int)i;
	return -1;
}

const char *wg_init_result_str(enum wg_init_result r)
{
	switch (r) {
	case WG_INIT_OK:
		return "ok";
	case WG_INIT_BAD_SIZE:
		return "bad initiation size";
	case WG_INIT_BAD_TYPE:
		return "not an initiation";
	case WG_INIT_BAD_MAC1:
		return "bad mac1";
	case WG_INIT_BAD_EPHEMERAL:
		return "unusable ephemeral key";
	case WG_INIT_BAD_STATIC:
		return "static key does not decrypt";
	case WG_INIT_BAD_TIMESTAMP:
		return "timestamp does not decrypt";
	}
	return "unknown initiation result";
}

static void noise_init(struct noise_state *st, const uint8_t responder_pub[static 32])
{
	noise_init_hashes(st->ck, st->h, responder_pub);
}

/* C = KDF1(C, E_pub), H = HASH(H || E_pub). */
static void noise_mix_ephemeral(struct noise_state *st, const uint8_t epub[static 32])
{
	wg_kdf(st->ck, NULL, NULL, st->ck, epub, WG_KEY_LEN);
	wg_hash(st->h, st->h, WG_HASH_LEN, epub, WG_KEY_LEN);
}

/* noise_init then noise_mix_ephemeral for srv, from its precomputed C, H and C's HMAC key. */
static void noise_responder_start(struct noise_state *st, const struct wg_server_key *srv,
				  const uint8_t epub[static 32])
{
	kdf_keyed(st->ck, NULL, NULL, &srv->noise_ck_key, epub, WG_KEY_LEN);
	wg_hash(st->h, srv->noise_h, WG_HASH_LEN, epub, WG_KEY_LEN);
}

/* (C, k) = KDF2(C, DH(priv, pub)); -EINVAL when the DH result is all-zero. */
static int noise_mix_dh(struct noise_state *st, const uint8_t priv[static 32],
			const uint8_t pub[static 32])
{
	if (crypto_scalarmult(st->dh, priv, pub))
		return -EINVAL;
	wg_kdf(st->ck, st->k, NULL, st->ck, st->dh, WG_KEY_LEN);
	return 0;
}

/* out = AEAD(k, 0, pt, H); H = HASH(H || out). */
static void noise_seal_mix(struct noise_state *st, uint8_t *out, const uint8_t *pt, size_t ptlen)
{
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, ptlen, st->h, WG_HASH_LEN, NULL,
						  zero_nonce, st->k);
	wg_hash(st->h, st->h, WG_HASH_LEN, out, ptlen + WG_AEAD_TAG_LEN);
}

/* out = AEAD_open(k, 0, ct, H); H = HASH(H || ct). -EBADMSG on failure. */
static int noise_open_mix(struct noise_state *st, uint8_t *out, const uint8_t *ct, size_t ctlen)
{
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, ctlen, st->h,
						      WG_HASH_LEN, zero_nonce, st->k))
		return -EBADMSG;
	wg_hash(st->h, st->h, WG_HASH_LEN, ct, ctlen);
	return 0;
}

/* Size and type, as wg_consume_initiation reports them. */
static enum wg_init_result init_check(const uint8_t *msg, size_t len)
{
	if (!msg || len < WG_HEADER_LEN)
		return WG_INIT_BAD_SIZE;
	if (get_le32(msg) != WG_MSG_INITIATION)
		return WG_INIT_BAD_TYPE;
	if (len != WG_INIT_LEN)
		return WG_INIT_BAD_SIZE;
	return WG_INIT_OK;
}

/*
 * One DH per initiation still in the chain (ok[i]), all in one dh_batch:
 * dh[i] = DH(srv's private key, key(i)); a zero result ends it with fail.
 */
static void mix_dhs(struct wg_init_job *jobs, size_t n, struct noise_state *st,
		    const uint8_t *const key[], const bool want[], bool ok[], enum wg_init_result fail)
{
	const uint8_t *priv[WG_INIT_BATCH], *pub[WG_INIT_BATCH];
	uint8_t *out[WG_INIT_BATCH];
	int ret[WG_INIT_BATCH];
	size_t idx[WG_INIT_BATCH], m = 0;

	for (size_t i = 0; i < n; i++) {
		if (!ok[i] || !want[i])
			continue;
		priv[m] = jobs[i].srv->priv;
		pub[m] = key[i];
		out[m] = st[i].dh;
		idx[m++] = i;
	}
	dh_batch(m, priv, pub, out, ret);
	for (size_t j = 0; j < m; j++) {
		if (ret[j]) {
			jobs[idx[j]].r = fail;
			ok[idx[j]] = false;
		}
	}
}

/*
 * The responder's chain after MAC1 for up to WG_INIT_BATCH initiations, each
 * step for all of them so that their X25519s run together (dh_batch): first
 * the ephemeral DHs, then the static-static ones the cache (NULL: none)
 * does not hold. Outputs are written only on WG_INIT_OK, temporaries wiped.
 */
static void consume_batch(struct wg_init_job *jobs, size_t n, struct dh_cache *cache)
{
	struct noise_state st[WG_INIT_BATCH];
	uint8_t spub[WG_INIT_BATCH][WG_KEY_LEN], ts[WG_INIT_BATCH][WG_TAI64N_LEN];
	const uint8_t *key[WG_INIT_BATCH];
	bool ok[WG_INIT_BATCH], want[WG_INIT_BATCH];

	for (size_t i = 0; i < n; i++) {
		jobs[i].r = init_check(jobs[i].msg, jobs[i].len);
		ok[i] = want[i] = jobs[i].r == WG_INIT_OK;
		if (!ok[i])
			continue;
		key[i] = jobs[i].msg + WG_INIT_OFF_EPHEMERAL;
		noise_responder_start(&st[i], jobs[i].srv, key[i]);
	}
	mix_dhs(jobs, n, st, key, want, ok, WG_INIT_BAD_EPHEMERAL);
	for (size_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		wg_kdf(st[i].ck, st[i].k, NULL, st[i].ck, st[i].dh, WG_KEY_LEN);
		if (noise_open_mix(&st[i], spub[i], jobs[i].msg + WG_INIT_OFF_STATIC,
				   WG_KEY_LEN + WG_AEAD_TAG_LEN)) {
			jobs[i].r = WG_INIT_BAD_STATIC;
			ok[i] = false;
			continue;
		}
		key[i] = spub[i];
		/* A hit gives the very bytes the DH would (fixed keys). */
		want[i] = !cache || dh_cache_get(cache, jobs[i].srv->pub, spub[i], st[i].dh);
	}
	/* wireguard-go refuses a peer whose static-static DH is zero too (never cached). */
	mix_dhs(jobs, n, st, key, want, ok, WG_INIT_BAD_STATIC);
	for (size_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		if (cache && want[i])
			dh_cache_put(cache, jobs[i].srv->pub, spub[i], st[i].dh);
		wg_kdf(st[i].ck, st[i].k, NULL, st[i].ck, st[i].dh, WG_KEY_LEN);
		if (noise_open_mix(&st[i], ts[i], jobs[i].msg + WG_INIT_OFF_TIMESTAMP,
				   WG_TAI64N_LEN + WG_AEAD_TAG_LEN)) {
			jobs[i].r = WG_INIT_BAD_TIMESTAMP;
			continue;
		}
		memcpy(jobs[i].client_pub, spub[i], WG_KEY_LEN);
		memcpy(jobs[i].tai64n, ts[i], WG_TAI64N_LEN);
	}
	sodium_memzero(st, sizeof(st));
	sodium_memzero(spub, sizeof(spub));
	sodium_memzero(ts, sizeof(ts));
}

void wg_consume_initiations(struct wg_init_job *jobs, size_t n, struct dh_cache *cache)
{
	for (size_t i = 0; i < n; i += WG_INIT_BATCH)
		consume_batch(jobs + i, n - i < WG_INIT_BATCH ? n - i : WG_INIT_BATCH, cache);
}

/* The chain after MAC1 for one initiation. */
static enum wg_init_result consume(const struct wg_server_key *srv, struct dh_cache *cache,
				   const uint8_t *msg, size_t len, uint8_t client_pub[static 32],
				   uint8_t tai64n[static 12])
{
	struct wg_init_job job = { .srv = srv, .msg = msg, .len = len,
				   .client_pub = client_pub, .tai64n = tai64n };

	consume_batch(&job, 1, cache);
	return job.r;
}

enum wg_init_result wg_consume_initiation(const struct wg_server_key *srv, const uint8_t *msg,
					  size_t len, uint8_t client_pub[static 32],
					  uint8_t tai64n[static 12])
{
	enum wg_init_result r = init_check(msg, len);

	if (r != WG_INIT_OK)
		return r;
	if (wg_mac1_verify(msg, len, &srv->mac))
		return WG_INIT_BAD_MAC1;
	return consume(srv, NULL, msg, len, client_pub, tai64n);
}

enum wg_init_result wg_consume_initiation_any(const struct wg_server_key *servers, size_t n,
					      struct dh_cache *cache, const uint8_t *msg,
					      size_t len, int *server, uint8_t client_pub[static 32],
					      uint8_t tai64n[static 12])
{
	enum wg_init_result r = init_check(msg, len);

	*server = -1;
	if (r != WG_INIT_OK)
		return r;
	*server = wg_find_server_by_mac1(msg, len, servers, n);
	if (*server < 0)
		return WG_INIT_BAD_MAC1;
	return consume(&servers[*server], cache, msg, len, client_pub, tai64n);
}

enum wg_init_result wg_consume_initiation_mac1_ok(const struct wg_server_key *srv,
						  struct dh_cache *cache, const uint8_t *msg,
						  size_t len, uint8_t client_pub[static 32],
						  uint8_t tai64n[static 12])
{
	return consume(srv, cache, msg, len, client_pub, tai64n);
}

static int cookie_reply_check(const uint8_t *msg, size_t len)
{
	if (!msg || len != WG_COOKIE_REPLY_LEN || get_le32(msg) != WG_MSG_COOKIE_REPLY)
		return -EINVAL;
	return 0;
}

int wg_cookie_open(uint8_t cookie[static 16], const uint8_t *msg, size_t len,
		   const uint8_t cookie_key[static 32], const uint8_t mac1[static 16])
{
	uint8_t tmp[WG_COOKIE_LEN];
	int ret = 0;

	if (cookie_reply_check(msg, len))
		return -EINVAL;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    tmp, NULL, NULL, msg + WG_COOKIE_OFF_COOKIE, WG_COOKIE_LEN + WG_AEAD_TAG_LEN,
		    mac1, WG_MAC_LEN, msg + WG_COOKIE_OFF_NONCE, cookie_key))
		ret = -EBADMSG;
	else
		memcpy(cookie, tmp, WG_COOKIE_LEN);
	sodium_memzero(tmp, sizeof(tmp));
	return ret;
}

int wg_cookie_seal(uint8_t msg[static 64], const uint8_t cookie[static 16],
		   const uint8_t cookie_key[static 32], const uint8_t mac1[static 16])
{
	if (cookie_reply_check(msg, WG_COOKIE_REPLY_LEN))
		return -EINVAL;
	crypto_aead_xchacha20poly1305_ietf_encrypt(msg + WG_COOKIE_OFF_COOKIE, NULL, cookie,
						   WG_COOKIE_LEN, mac1, WG_MAC_LEN, NULL,
						   msg + WG_COOKIE_OFF_NONCE, cookie_key);
	return 0;
}

int wg_cookie_usable(const struct wg_cookie *c, uint64_t now_ns)
{
	const uint64_t lifetime_ns = (uint64_t)WG_COOKIE_LIFETIME_SEC * 1000000000ull;

	/* A clock that went backwards is not trusted to keep a cookie alive. */
	if (!c->received_ns || now_ns < c->received_ns)
		return 0;
	return now_ns - c->received_ns < lifetime_ns;
}

static int create_chain(struct noise_state *st, uint8_t msg[static 148],
			const uint8_t client_priv[static 32], const uint8_t server_pub[static 32],
			const uint8_t ephemeral_priv[static 32], const uint8_t tai64n[static 12])
{
	uint8_t *epub = msg + WG_INIT_OFF_EPHEMERAL;
	uint8_t spub[WG_KEY_LEN];

	if (wg_pubkey(epub, ephemeral_priv) || wg_pubkey(spub, client_priv))
		return -EINVAL;
	noise_init(st, server_pub);
	noise_mix_ephemeral(st, epub);
	if (noise_mix_dh(st, ephemeral_priv, server_pub))
		return -EINVAL;
	noise_seal_mix(st, msg + WG_INIT_OFF_STATIC, spub, WG_KEY_LEN);
	if (noise_mix_dh(st, client_priv, server_pub))
		return -EINVAL;
	noise_seal_mix(st, msg + WG_INIT_OFF_TIMESTAMP, tai64n, WG_TAI64N_LEN);
	return 0;
}

int wg_create_initiation(uint8_t msg[static 148], const uint8_t client_priv[static 32],
			 const uint8_t server_pub[static 32], uint32_t sender_index,
			 const uint8_t ephemeral_priv[static 32], const uint8_t tai64n[static 12],
			 const uint8_t *cookie)
{
	struct wg_mac_keys mk;
	struct noise_state st;
	int ret;

	memset(msg, 0, WG_INIT_LEN);
	put_le32(msg, WG_MSG_INITIATION);
	put_le32(msg + WG_INIT_OFF_SENDER, sender_index);
	ret = create_chain(&st, msg, client_priv, server_pub, ephemeral_priv, tai64n);
	sodium_memzero(&st, sizeof(st));
	if (ret) {
		memset(msg, 0, WG_INIT_LEN);
		return ret;
	}
	wg_mac_keys_init(&mk, server_pub);
	return wg_macs_set(msg, WG_INIT_LEN, &mk, cookie);
}

void wg_tai64n_now(uint8_t out[static 12])
{
	/* TAI64 label of 1970 (2^62) plus TAI-UTC at the epoch (10 s). */
	const uint64_t base = 0x400000000000000aull;
	const uint32_t whitener = (1u << 24) - 1;
	struct timespec ts;
	uint64_t secs;
	uint32_t nsec;

	clock_gettime(CLOCK_REALTIME, &ts);
	secs = base + (uint64_t)ts.tv_sec;
	nsec = (uint32_t)ts.tv_nsec & ~whitener;
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(secs >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

int wg_tai64n_cmp(const uint8_t a[static 12], const uint8_t b[static 12])
{
	return memcmp(a, b, WG_TAI64N_LEN);
}
