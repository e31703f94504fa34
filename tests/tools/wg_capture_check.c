// SPDX-License-Identifier: GPL-2.0
/*
 * wg_capture_check: check the agent's handshake crypto (agent/wg_crypto.h)
 * against a handshake captured from real WireGuard peers (tcpdump -w).
 *
 *   wg_capture_check recover-client PCAP SERVER_PRIV_FILE CLIENT_PUB
 *   wg_capture_check find-server    PCAP SERVER_PRIV_FILE NDECOYS
 *   wg_capture_check mac-init       PCAP SERVER_PUB CLIENT_PUB
 *   wg_capture_check mac-resp       PCAP CLIENT_PUB SERVER_PUB
 *   wg_capture_check indexes        PCAP
 *
 * indexes lists every handshake message's indexes ("init SENDER", "resp
 * SENDER RECEIVER", hex), so a script can see what crossed a link. The
 * other commands use the last initiation in the capture that a response
 * answers (response receiver == initiation sender), exits 0 when every
 * assertion holds and 1 (naming the failed one) otherwise. Every command also
 * asserts a negative case, so a function that accepts anything fails here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "byteorder.h"
#include "log.h"
#include "pcap.h"
#include "wg_crypto.h"
#include "wg_proto.h"

/* Initiations remembered while scanning (retransmits use new indexes). */
#define MAX_INITS 64
#define FRAME_CAP 65536

struct handshake {
	uint8_t init[WG_INIT_LEN];
	uint8_t resp[WG_RESP_LEN];
};

struct capture {
	uint8_t inits[MAX_INITS][WG_INIT_LEN];
	size_t ninits; /* total seen; slot = n % MAX_INITS */
	size_t nresps;
	int found;
	struct handshake hs;
};

static int is_msg(const uint8_t *p, size_t len, uint8_t type, size_t want)
{
	return len == want && p[0] == type && !p[1] && !p[2] && !p[3];
}

/* A response answers the newest initiation whose sender is its receiver. */
static void match_response(struct capture *c, const uint8_t *resp)
{
	size_t first = c->ninits > MAX_INITS ? c->ninits - MAX_INITS : 0;
	uint32_t receiver = get_le32(resp + WG_RESP_OFF_RECEIVER);

	for (size_t i = c->ninits; i-- > first;) {
		const uint8_t *init = c->inits[i % MAX_INITS];

		if (get_le32(init + WG_INIT_OFF_SENDER) != receiver)
			continue;
		memcpy(c->hs.init, init, WG_INIT_LEN);
		memcpy(c->hs.resp, resp, WG_RESP_LEN);
		c->found = 1;
		return;
	}
}

static void scan_datagram(struct capture *c, const struct pcap_udp *u, int list)
{
	if (is_msg(u->payload, u->len, WG_MSG_INITIATION, WG_INIT_LEN)) {
		if (list)
			printf("init %08x\n", get_le32(u->payload + WG_INIT_OFF_SENDER));
		memcpy(c->inits[c->ninits % MAX_INITS], u->payload, WG_INIT_LEN);
		c->ninits++;
	} else if (is_msg(u->payload, u->len, WG_MSG_RESPONSE, WG_RESP_LEN)) {
		if (list)
			printf("resp %08x %08x\n", get_le32(u->payload + WG_RESP_OFF_SENDER),
			       get_le32(u->payload + WG_RESP_OFF_RECEIVER));
		c->nresps++;
		match_response(c, u->payload);
	}
}

static int scan_capture(struct capture *c, const char *path, int list)
{
	static uint8_t frame[FRAME_CAP];
	struct pcap_reader r;
	struct pcap_udp u;
	size_t len;
	int truncated, ret;

	ret = pcap_open(&r, path);
	if (ret) {
		pr_err("%s: %s", path, strerror(-ret));
		return ret;
	}
	while ((ret = pcap_next(&r, frame, sizeof(frame), &len, &truncated)) == 1) {
		if (truncated || pcap_parse_udp(r.linktype, frame, len, &u))
			continue;
		scan_datagram(c, &u, list);
	}
	pcap_close(&r);
	if (ret < 0) {
		pr_err("%s: malformed capture", path);
		return ret;
	}
	return 0;
}

static int load_handshake(struct handshake *hs, const char *path)
{
	static struct capture c;
	int ret;

	memset(&c, 0, sizeof(c));
	ret = scan_capture(&c, path, 0);
	if (ret)
		return ret;
	printf("capture: %zu initiation(s), %zu response(s)\n", c.ninits, c.nresps);
	if (!c.found) {
		pr_err("%s: no initiation answered by a response", path);
		return -ENOENT;
	}
	*hs = c.hs;
	printf("handshake: initiator index %08x, responder index %08x\n",
	       get_le32(hs->init + WG_INIT_OFF_SENDER), get_le32(hs->resp + WG_RESP_OFF_SENDER));
	return 0;
}

static int parse_pub(uint8_t key[static 32], const char *b64)
{
	if (wg_key_from_base64(key, b64)) {
		pr_err("invalid public key `%s'", b64);
		return -EINVAL;
	}
	return 0;
}

static int read_key_file(uint8_t key[static 32], const char *path)
{
	char buf[128];
	size_t n;
	FILE *f;
	int ret = 0;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		pr_err("%s: %s", path, strerror(-ret));
		return ret;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (wg_key_from_base64(key, buf)) {
		pr_err("%s: not a base64 WireGuard key", path);
		ret = -EINVAL;
	}
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

static int load_server(struct wg_server_key *srv, const char *path)
{
	uint8_t priv[32];
	int ret;

	ret = read_key_file(priv, path);
	if (!ret)
		ret = wg_server_key_init(srv, priv);
	sodium_memzero(priv, sizeof(priv));
	return ret;
}

static void random_server(struct wg_server_key *srv)
{
	uint8_t priv[32];

	randombytes_buf(priv, sizeof(priv));
	wg_server_key_init(srv, priv);
	sodium_memzero(priv, sizeof(priv));
}

/* TAI64N seconds label: 2^62 + 10 + Unix time, as wireguard-go writes it. */
static int tai64n_plausible(const uint8_t t[static 12])
{
	uint64_t secs = 0, now = (uint64_t)time(NULL);

	for (int i = 0; i < 8; i++)
		secs = secs << 8 | t[i];
	secs -= (1ULL << 62) + 10;
	printf("timestamp: %lld s from now\n", (long long)(secs - now));
	return secs + 3600 > now && secs < now + 3600;
}

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			pr_err("assertion failed: " __VA_ARGS__);                                  \
			return -EBADMSG;                                                           \
		}                                                                                  \
	} while (0)

static int check_recover_client(const struct handshake *hs, const struct wg_server_key *srv,
				const uint8_t want[static 32])
{
	uint8_t got[32], tai[12], bad[WG_INIT_LEN];
	struct wg_server_key wrong;
	enum wg_init_result r;
	char b64[45];

	r = wg_consume_initiation(srv, hs->init, WG_INIT_LEN, got, tai);
	EXPECT(r == WG_INIT_OK, "consume_initiation: %s", wg_init_result_str(r));
	wg_key_to_base64(b64, got);
	printf("recovered client key %s\n", b64);
	EXPECT(!memcmp(got, want, 32), "recovered key is not the client's");
	EXPECT(tai64n_plausible(tai), "timestamp is more than an hour off");

	/* Another server's key must not open it (MAC1 already tells). */
	random_server(&wrong);
	r = wg_consume_initiation(&wrong, hs->init, WG_INIT_LEN, got, tai);
	wg_server_key_wipe(&wrong);
	EXPECT(r == WG_INIT_BAD_MAC1, "wrong server key gave %s", wg_init_result_str(r));

	/* A flipped ciphertext bit behind a valid MAC1 must fail the AEAD. */
	memcpy(bad, hs->init, WG_INIT_LEN);
	bad[WG_INIT_OFF_STATIC + 5] ^= 0x01;
	EXPECT(!wg_macs_set(bad, WG_INIT_LEN, &srv->mac, NULL), "macs_set failed");
	r = wg_consume_initiation(srv, bad, WG_INIT_LEN, got, tai);
	EXPECT(r == WG_INIT_BAD_STATIC, "tampered static gave %s", wg_init_result_str(r));
	return 0;
}

static int check_find_server(const struct handshake *hs, const struct wg_server_key *real,
			     size_t ndecoys)
{
	struct wg_server_key *set;
	size_t n = ndecoys + 1, pos = randombytes_uniform((uint32_t)n);
	int got, ret = 0;

	set = calloc(n, sizeof(*set));
	if (!set)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (i == pos)
			set[i] = *real;
		else
			random_server(&set[i]);
	}
	got = wg_find_server_by_mac1(hs->init, WG_INIT_LEN, set, n);
	printf("real server at %zu of %zu, found %d\n", pos, n, got);
	if (got != (int)pos) {
		pr_err("assertion failed: find_server_by_mac1 returned %d, want %zu", got, pos);
		ret = -EBADMSG;
		goto out;
	}
	/* Without the real one, nothing may match. */
	random_server(&set[pos]);
	got = wg_find_server_by_mac1(hs->init, WG_INIT_LEN, set, n);
	if (got != -1) {
		pr_err("assertion failed: decoys only, find_server_by_mac1 returned %d", got);
		ret = -EBADMSG;
	}
out:
	for (size_t i = 0; i < n; i++)
		wg_server_key_wipe(&set[i]);
	free(set);
	return ret;
}

/*
 * Recompute MAC1 (and the zero MAC2: no cookie is held in a quiet test) of a
 * captured message keyed with its receiver's public key; compare with what
 * the real peer sent. The sender's own key must not produce it.
 */
static int check_macs(const uint8_t *msg, size_t len, size_t mac1_off,
		      const uint8_t receiver[static 32], const uint8_t sender[static 32])
{
	static const uint8_t zero[WG_MAC_LEN];
	struct wg_mac_keys rk, sk;
	uint8_t copy[WG_INIT_LEN];
	int ret;

	wg_mac_keys_init(&rk, receiver);
	wg_mac_keys_init(&sk, sender);
	memcpy(copy, msg, len);
	memset(copy + mac1_off, 0, 2 * WG_MAC_LEN);
	ret = wg_macs_set(copy, len, &rk, NULL);
	EXPECT(!ret, "macs_set: %s", strerror(-ret));
	EXPECT(!memcmp(copy + mac1_off, msg + mac1_off, WG_MAC_LEN),
	       "recomputed MAC1 differs from the captured one");
	EXPECT(!memcmp(msg + mac1_off + WG_MAC_LEN, zero, WG_MAC_LEN),
	       "captured MAC2 is not zero (peer under load?)");
	EXPECT(!memcmp(copy + mac1_off + WG_MAC_LEN, zero, WG_MAC_LEN),
	       "MAC2 without a cookie is not zero");
	EXPECT(!wg_mac1_verify(msg, len, &rk), "mac1_verify rejects the captured message");
	ret = wg_mac1_verify(msg, len, &sk);
	EXPECT(ret == -EBADMSG, "mac1_verify with the sender's key gave %d", ret);
	copy[WG_HEADER_LEN] ^= 0x80;
	ret = wg_mac1_verify(copy, len, &rk);
	EXPECT(ret == -EBADMSG, "mac1_verify of an altered message gave %d", ret);
	printf("MAC1 matches the captured one\n");
	return 0;
}

static int cmd_recover_client(char **argv)
{
	struct wg_server_key srv;
	struct handshake hs;
	uint8_t want[32];
	int ret;

	if (load_handshake(&hs, argv[0]) || parse_pub(want, argv[2]) || load_server(&srv, argv[1]))
		return 1;
	ret = check_recover_client(&hs, &srv, want);
	wg_server_key_wipe(&srv);
	return ret ? 1 : 0;
}

static int cmd_find_server(char **argv)
{
	struct wg_server_key srv;
	struct handshake hs;
	char *end;
	unsigned long n;
	int ret;

	n = strtoul(argv[2], &end, 10);
	if (*end || n > 1000) {
		pr_err("invalid decoy count `%s'", argv[2]);
		return 1;
	}
	if (load_handshake(&hs, argv[0]) || load_server(&srv, argv[1]))
		return 1;
	ret = check_find_server(&hs, &srv, n);
	wg_server_key_wipe(&srv);
	return ret ? 1 : 0;
}

static int cmd_mac(char **argv, int init)
{
	uint8_t receiver[32], sender[32];
	struct handshake hs;

	if (load_handshake(&hs, argv[0]) || parse_pub(receiver, argv[1]) ||
	    parse_pub(sender, argv[2]))
		return 1;
	if (init)
		return check_macs(hs.init, WG_INIT_LEN, WG_INIT_OFF_MAC1, receiver, sender) ? 1 : 0;
	return check_macs(hs.resp, WG_RESP_LEN, WG_RESP_OFF_MAC1, receiver, sender) ? 1 : 0;
}

static int cmd_indexes(const char *path)
{
	static struct capture c;

	return scan_capture(&c, path, 1) ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "Usage:\n"
			"  wg_capture_check recover-client PCAP SERVER_PRIV_FILE CLIENT_PUB\n"
			"  wg_capture_check find-server    PCAP SERVER_PRIV_FILE NDECOYS\n"
			"  wg_capture_check mac-init       PCAP SERVER_PUB CLIENT_PUB\n"
			"  wg_capture_check mac-resp       PCAP CLIENT_PUB SERVER_PUB\n"
			"  wg_capture_check indexes        PCAP\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (wg_crypto_init()) {
		pr_err("libsodium initialisation failed");
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "indexes"))
		return cmd_indexes(argv[2]);
	if (argc != 5) {
		usage();
		return 2;
	}
	if (!strcmp(argv[1], "recover-client"))
		return cmd_recover_client(argv + 2);
	if (!strcmp(argv[1], "find-server"))
		return cmd_find_server(argv + 2);
	if (!strcmp(argv[1], "mac-init"))
		return cmd_mac(argv + 2, 1);
	if (!strcmp(argv[1], "mac-resp"))
		return cmd_mac(argv + 2, 0);
	usage();
	return 2;
}
