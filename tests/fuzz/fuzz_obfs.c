// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the mwgp obfuscation codec (agent/obfs.c).
 *
 * Decoder, on any bytes (what an attacker sends to the listen port):
 * never reads or writes past len, returns at most len, leaves packets it
 * does not decode exactly as they came, and what it decodes starts with a
 * plain WireGuard header; re-encoding that and decoding again gives it back.
 *
 * Encoder, on a plain message of a valid size built from the input (the
 * random padding and nonces drawn from the input too): the wire length is
 * within OBFS_MAX_OVERHEAD, the result never looks like plain WireGuard (so
 * a receiver cannot mistake it), and decoding returns the message exactly.
 */
#include "fuzz.h"
#include "obfs.h"
#include "wg_proto.h"

#define CAP (2048 + OBFS_MAX_OVERHEAD)

static struct obfs_key key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_agent_log();
	obfs_key_init(&key, "kisekimo, mahoumo, muryoudewaarimasen");
	return 0;
}

/* obfs_rand_fn drawing from the fuzz input (zeros once it runs out). */
static void rand_from_input(void *ctx, uint8_t *out, size_t n)
{
	fuzz_bytes(ctx, out, n);
}

static size_t valid_size(uint8_t type, size_t want)
{
	switch (type) {
	case WG_MSG_INITIATION:
		return WG_INIT_LEN;
	case WG_MSG_RESPONSE:
		return WG_RESP_LEN;
	case WG_MSG_COOKIE_REPLY:
		return WG_COOKIE_REPLY_LEN;
	default:
		return want < WG_TRANSPORT_MIN_LEN ? WG_TRANSPORT_MIN_LEN : want;
	}
}

/* Encode plain[0..len), check the wire form, decode it back. */
static void round_trip(const uint8_t *plain, size_t len, struct fuzz_in *rnd)
{
	static uint8_t buf[CAP];
	bool decoded;
	int wire, n;

	memcpy(buf, plain, len);
	wire = obfs_encode(&key, buf, len, sizeof(buf), rand_from_input, rnd);
	if (wire < 0)
		fuzz_bug("encoding a valid %zu-byte type %u message failed: %d", len, plain[0],
			 wire);
	if ((size_t)wire < len || (size_t)wire > len + OBFS_MAX_OVERHEAD)
		fuzz_bug("a %zu-byte message became %d bytes on the wire", len, wire);
	if (obfs_is_plain(buf, (size_t)wire))
		fuzz_bug("an obfuscated type %u message looks like plain WireGuard", plain[0]);
	n = obfs_decode(&key, buf, (size_t)wire, &decoded);
	if (n < 0 || !decoded)
		fuzz_bug("our own %d-byte encoding of a type %u message does not decode (%d)", wire,
			 plain[0], n);
	if ((size_t)n != len || memcmp(buf, plain, len))
		fuzz_bug("a type %u message of %zu bytes decodes to %d different bytes", plain[0],
			 len, n);
}

static void fuzz_decoder(const uint8_t *data, size_t size, struct fuzz_in *rnd)
{
	uint8_t *buf = malloc(size ? size : 1); /* exact size: ASan sees any overrun */
	bool decoded;
	int n;

	if (!buf)
		return;
	memcpy(buf, data, size);
	n = obfs_decode(&key, buf, size, &decoded);
	if (n >= 0 && (size_t)n > size)
		fuzz_bug("decoded %zu bytes into %d", size, n);
	if ((n < 0 || !decoded) && memcmp(buf, data, size))
		fuzz_bug("a %zu-byte packet that did not decode (%d) was modified", size, n);
	if (n >= 0 && decoded) {
		if (!obfs_is_plain(buf, (size_t)n))
			fuzz_bug("decoded to %d bytes without a plain WireGuard header", n);
		if (n == (int)valid_size(buf[0], (size_t)n) && n <= 2048)
			round_trip(buf, (size_t)n, rnd);
	}
	free(buf);
}

static void fuzz_encoder(const uint8_t *data, size_t size, struct fuzz_in *rnd)
{
	static uint8_t plain[2048];
	size_t len;

	if (size < 2)
		return;
	plain[0] = (uint8_t)(WG_MSG_INITIATION + data[0] % 4);
	len = valid_size(plain[0], (size_t)data[1] * 8);
	memset(plain + 1, 0, 3);
	for (size_t i = 4; i < len; i++)
		plain[i] = i < size ? data[i] : (uint8_t)i;
	/* An all-zero MAC2 takes another path (flagged, replaced by random bytes). */
	if ((data[0] & 4) && (plain[0] == WG_MSG_INITIATION || plain[0] == WG_MSG_RESPONSE))
		memset(plain + len - WG_MAC_LEN, 0, WG_MAC_LEN);
	round_trip(plain, len, rnd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The input doubles as the random source of the encoder. */
	struct fuzz_in rnd = { .p = data, .left = size };

	fuzz_decoder(data, size, &rnd);
	rnd.p = data;
	rnd.left = size;
	fuzz_encoder(data, size, &rnd);
	return 0;
}
