/* SPDX-License-Identifier: GPL-2.0 */
/*
 * WireGuard handshake crypto the agent needs (docs/DESIGN.md section 5):
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s primitives, MAC1/MAC2, cookie
 * replies, and the responder half of an initiation, enough to learn the
 * client's static public key. Initiation creation is here too, for tests,
 * fuzz seeds and benchmarks.
 *
 * Functions taking a message and its length never read past len. Every
 * function wipes the intermediate key material it derives.
 */
#ifndef XWGP_WG_CRYPTO_H
#define XWGP_WG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "blake2s.h"
#include "wg_proto.h"

#define WG_HASH_LEN 32
#define WG_KEY_B64_LEN 44 /* base64 of a 32-byte key, without the NUL */

/* Initialise libsodium; call once before any other function. 0 or -EIO. */
int wg_crypto_init(void);

/* HASH(a || b) = BLAKE2s-256; either part may be empty. out may alias a or b. */
void wg_hash(uint8_t out[static 32], const void *a, size_t alen, const void *b, size_t blen);
/* MAC(key, in) = keyed BLAKE2s-128. */
void wg_mac(uint8_t out[static 16], const uint8_t key[static 32], const void *in, size_t inlen);
/* HMAC-BLAKE2s (RFC 2104, 64-byte block); out may alias key or in. */
void wg_hmac(uint8_t out[static 32], const uint8_t *key, size_t keylen, const void *in,
	     size_t inlen);
/*
 * HKDF over HMAC-BLAKE2s: t1 = KDF1; with t2, KDF2; with t3, KDF3. t2 and t3
 * may be NULL. Outputs may alias ck or in (e.g. C = KDF1(C, x)).
 */
void wg_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t ck[static 32], const void *in,
	    size_t inlen);

/*
 * An HMAC key as two BLAKE2s states with its pads already compressed: one
 * key, many messages (a KDF's expansion, or every initiation's first KDF
 * under a server's constant chaining key).
 */
struct wg_hmac_key {
	struct blake2s_state inner, outer;
};

/* X25519 public key of a private key (clamped as X25519 does). 0 or -EINVAL. */
int wg_pubkey(uint8_t pub[static 32], const uint8_t priv[static 32]);
/*
 * Standard padded base64 (44 chars, one '=', as `wg genkey' prints) to a
 * key: 0; -EINVAL if not base64; -EMSGSIZE if base64 of another length
 * (*bin_len: how many bytes; bin_len may be NULL); -ENOMEM. key is written
 * only on success and the decoded bytes are wiped.
 */
int wg_key_decode(uint8_t key[static 32], const char *b64, size_t *bin_len);
/* wg_key_decode(): 0, or -EINVAL on anything else. */
int wg_key_from_base64(uint8_t key[static 32], const char *b64);
void wg_key_to_base64(char out[static 45], const uint8_t key[static 32]);

/* Precomputed per static public key (server or client); set by wg_mac_keys_init. */
struct wg_mac_keys {
	uint8_t mac1_key[32]; /* HASH("mac1----" || pub) */
	uint8_t cookie_key[32]; /* HASH("cookie--" || pub) */
	/*
	 * MAC(mac1_key, ...) with the key block already compressed: a MAC1
	 * costs two compressions instead of three, and the MAC1 search over
	 * the configured servers runs one per server per initiation.
	 */
	struct blake2s_state mac1_state;
};

void wg_mac_keys_init(struct wg_mac_keys *k, const uint8_t pub[static 32]);

/*
 * MAC1/MAC2 of an initiation (type 1, 148 bytes) or response (type 2, 92
 * bytes); the type selects the offsets. receiver: MAC keys of the peer the
 * message is addressed to. All return -EINVAL when msg is neither (by type,
 * with zero reserved bytes, and exact size); verifiers return -EBADMSG on a
 * mismatch.
 */
int wg_mac1_verify(const uint8_t *msg, size_t len, const struct wg_mac_keys *receiver);
/* Set MAC1, then MAC2 from cookie (16 bytes), or zero MAC2 when cookie is NULL. */
int wg_macs_set(uint8_t *msg, size_t len, const struct wg_mac_keys *receiver,
		const uint8_t *cookie);
int wg_mac2_verify(const uint8_t *msg, size_t len, const uint8_t cookie[static 16]);

/* A WireGuard server the agent serves. */
struct wg_server_key {
	uint8_t priv[32];
	uint8_t pub[32];
	struct wg_mac_keys mac;
	/*
	 * The responder's handshake state before any message byte: C =
	 * HASH(construction), H = HASH(HASH(C || identifier) || pub); three
	 * hashes every initiation would otherwise repeat.
	 */
	uint8_t noise_ck[32];
	uint8_t noise_h[32];
	/* noise_ck as an HMAC key: the first KDF (of the ephemeral) two compressions sooner. */
	struct wg_hmac_key noise_ck_key;
};

/* Also initialises libsodium. 0, -EIO or -EINVAL. */
int wg_server_key_init(struct wg_server_key *s, const uint8_t priv[static 32]);
void wg_server_key_wipe(struct wg_server_key *s);

/*
 * Index of the server an initiation is addressed to, found by MAC1 alone (no
 * DH), or -1 when none matches or msg is not an initiation.
 */
int wg_find_server_by_mac1(const uint8_t *msg, size_t len, const struct wg_server_key *servers,
			   size_t n);

enum wg_init_result {
	WG_INIT_OK = 0,
	WG_INIT_BAD_SIZE, /* len != 148 (or too short for a type) */
	WG_INIT_BAD_TYPE, /* first 4 bytes are not le32 1 */
	WG_INIT_BAD_MAC1, /* not addressed to this server, or altered */
	WG_INIT_BAD_EPHEMERAL, /* DH with the ephemeral key gives all-zero */
	WG_INIT_BAD_STATIC, /* static AEAD open failed, or static-static DH is zero */
	WG_INIT_BAD_TIMESTAMP, /* timestamp AEAD open failed */
};

const char *wg_init_result_str(enum wg_init_result r);

/*
 * Responder side: verify MAC1, decrypt the client's static key and TAI64N
 * timestamp. Outputs are written only on WG_INIT_OK. Replay checking
 * (timestamp newer than the last one from this client) is the caller's.
 */
enum wg_init_result wg_consume_initiation(const struct wg_server_key *srv, const uint8_t *msg,
					  size_t len, uint8_t client_pub[static 32],
					  uint8_t tai64n[static 12]);

struct dh_cache;

/*
 * The same for the server among servers[0..n) that MAC1 names (as
 * wg_find_server_by_mac1; *server gets its index, or -1 and
 * WG_INIT_BAD_MAC1 when none), MAC1 checked once. cache (NULL: none) holds
 * static-static DH results (dh_cache.h): a hit saves one X25519, a miss
 * fills it. Results and failure codes are those of wg_consume_initiation on
 * servers[*server] whether the cache hits, misses or is NULL; an all-zero
 * static-static DH is never cached, so it is refused every time.
 */
enum wg_init_result wg_consume_initiation_any(const struct wg_server_key *servers, size_t n,
					      struct dh_cache *cache, const uint8_t *msg,
					      size_t len, int *server, uint8_t client_pub[static 32],
					      uint8_t tai64n[static 12]);

/*
 * The same for srv, whose MAC1 the caller found matching already
 * (wg_find_server_by_mac1), e.g. to decide on a cookie reply before any DH.
 */
enum wg_init_result wg_consume_initiation_mac1_ok(const struct wg_server_key *srv,
						  struct dh_cache *cache, const uint8_t *msg,
						  size_t len, uint8_t client_pub[static 32],
						  uint8_t tai64n[static 12]);

/* Initiations one wg_consume_initiations step handles together (more are split). */
#define WG_INIT_BATCH 8

/* One initiation of a wg_consume_initiations call. */
struct wg_init_job {
	const struct wg_server_key *srv; /* whose MAC1 the caller found matching */
	const uint8_t *msg;
	size_t len;
	uint8_t *client_pub; /* [32]: written on WG_INIT_OK only */
	uint8_t *tai64n; /* [12]: likewise */
	enum wg_init_result r; /* the result */
};

/*
 * wg_consume_initiation_mac1_ok for n initiations at once, each with the
 * same result and outputs as alone: their X25519s run together, four at a
 * time on the AVX2 ladder where the CPU has it (dh_batch.h).
 */
void wg_consume_initiations(struct wg_init_job *jobs, size_t n, struct dh_cache *cache);

/*
 * Cookie reply (type 3, 64 bytes). cookie_key is HASH("cookie--" || pub) of
 * the peer that SENDS the cookie reply, i.e. the receiver of the message it
 * answers (the same pub whose mac1_key that message's MAC1 used): this is
 * CookieChecker/CookieGenerator in wireguard-go, cookie_encryption_key /
 * cookie_decryption_key in the kernel. mac1 is the MAC1 of the answered
 * message (the AAD). Open: 0, -EINVAL (not a cookie reply) or -EBADMSG.
 * Seal: msg has type, receiver and nonce set; 0 or -EINVAL.
 */
int wg_cookie_open(uint8_t cookie[static 16], const uint8_t *msg, size_t len,
		   const uint8_t cookie_key[static 32], const uint8_t mac1[static 16]);
int wg_cookie_seal(uint8_t msg[static 64], const uint8_t cookie[static 16],
		   const uint8_t cookie_key[static 32], const uint8_t mac1[static 16]);

/* A held cookie is valid for MAC2 for WG_COOKIE_LIFETIME_SEC after it arrived. */
struct wg_cookie {
	uint8_t cookie[16];
	uint64_t received_ns; /* monotonic; 0: none */
};

/* 1 while now_ns - received_ns < 120 s (as the kernel's WireGuard), else 0. */
int wg_cookie_usable(const struct wg_cookie *c, uint64_t now_ns);

/*
 * Initiator side: build the initiation a WireGuard client would send
 * (without a preshared key, which an initiation does not use), MAC1 set for
 * server_pub, MAC2 from cookie or zero. 0, or -EINVAL when a DH is all-zero.
 */
int wg_create_initiation(uint8_t msg[static 148], const uint8_t client_priv[static 32],
			 const uint8_t server_pub[static 32], uint32_t sender_index,
			 const uint8_t ephemeral_priv[static 32], const uint8_t tai64n[static 12],
			 const uint8_t *cookie);

/*
 * Current TAI64N as WireGuard sends it: 2^62 + 10 + Unix seconds, then
 * nanoseconds rounded down to 2^24 ns (wireguard-go and the kernel whiten
 * the low bits so a timestamp leaks no fine timing).
 */
void wg_tai64n_now(uint8_t out[static 12]);
/* <0, 0, >0 like memcmp: big-endian TAI64N orders bytewise. */
int wg_tai64n_cmp(const uint8_t a[static 12], const uint8_t b[static 12]);

#endif /* XWGP_WG_CRYPTO_H */
