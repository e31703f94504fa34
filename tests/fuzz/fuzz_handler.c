// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the agent's packet handler (agent/handler.c) with the real session
 * table: the BPF maps of a loaded (not attached) xwgp skeleton, created once.
 *
 * Random bytes alone never get past MAC1, so the input is a program of
 * records, each building one packet the way a peer (or an attacker who
 * knows the public keys) would, then letting the fuzzer damage it:
 *
 *   RAW        any bytes, either side, any source
 *   INIT       a real initiation from one of the clients to one of the
 *              servers (or an unknown key), stale or fresh timestamp,
 *              byte mutations, MAC1 recomputed or not
 *   RESPONSE   for a session in the table: receiver = its proxy index, MAC1
 *              for its client key; right or wrong source, mutations
 *   COOKIE     a cookie reply sealed for the MAC1 the backend saw
 *   TRANSPORT  by a session's proxy index, either direction; roaming sources
 *   FRAME      a whole Ethernet frame through handler_frame() (the AF_XDP
 *              path), headers built from the input then damaged
 *   EXPIRE     run expiry as if time had passed
 *
 * Two handlers share the table: vanilla and with obfuscation, so obfuscated
 * clients (and garbage claiming to be obfuscated) reach the handler too.
 *
 * The send callback checks every datagram the handler emits: it fits the
 * packet buffer, is a WireGuard message of the right size for its type going
 * the right way (after de-obfuscation when the session obfuscates), to a
 * real endpoint, and initiations and responses carry a MAC1 that the
 * receiver will accept. Any violation aborts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "byteorder.h"
#include "addr.h"
#include "bpf_loader.h"
#include "config.h"
#include "frame.h"
#include "fuzz.h"
#include "fuzz_maps.h"
#include "handler.h"
#include "obfs.h"
#include "wg_crypto.h"
#include "wg_proto.h"
#include "xwgp.skel.h"

#define N_SERVERS     2
#define N_CLIENTS     4
#define MAX_RECORDS   64
#define PKT_CAP	      2048
#define MAX_LISTED    64
#define OBFS_PASSWORD "fuzz the obfuscation"

enum op { OP_RAW, OP_INIT, OP_RESPONSE, OP_COOKIE, OP_TRANSPORT, OP_FRAME, OP_EXPIRE, OP__MAX };

struct fz {
	struct xwgp_bpf *skel;
	struct xwgp_maps maps;
	struct xwgp_server_config cfg[2]; /* vanilla, obfs */
	struct handler h[2];
	struct obfs_key obfs;
	uint8_t srv_priv[N_SERVERS + 1][32]; /* the last one is configured nowhere */
	uint8_t srv_pub[N_SERVERS + 1][32];
	uint8_t cli_priv[N_CLIENTS][32];
	uint8_t cli_pub[N_CLIENTS][32];
	uint8_t tai_base[12]; /* every fresh initiation gets a later timestamp */
	uint64_t tai_step;
	size_t cur_cap; /* room in the packet being handled */
	unsigned long sent;
};

static struct fz fz;

/* Sources a packet may come from (besides a session's own peer endpoint). */
static const char *const src_table[] = {
	"192.0.2.10:1000",	"192.0.2.10:1001",  "192.0.2.11:1000",	  "[2001:db8::10]:1000",
	"192.0.2.20:51821",	"192.0.2.20:9999",  "198.51.100.7:51823", "[2001:db8::20]:51822",
	"[2001:db8::21]:51824", "[2001:db8::21]:1", "203.0.113.5:4",	  "0.0.0.0:0",
};
#define N_SRC (sizeof(src_table) / sizeof(src_table[0]))

static struct xwgp_ep ep_of(const char *s)
{
	struct xwgp_ep e = {};

	if (xwgp_ep_parse(s, XWGP_EP_PORT_ZERO, &e))
		fuzz_bug("bad endpoint literal %s", s);
	return e;
}

static void key_b64(char out[45], const uint8_t key[32])
{
	wg_key_to_base64(out, key);
}

/* ---- output checks ------------------------------------------------------------ */

static bool is_plain(const uint8_t *d, size_t len)
{
	return len >= 4 && d[0] >= WG_MSG_INITIATION && d[0] <= WG_MSG_TRANSPORT && !d[1] &&
	       !d[2] && !d[3];
}

static bool mac1_ok_for_any(const uint8_t *d, size_t len, const uint8_t (*pubs)[32], int n)
{
	struct wg_mac_keys mk;

	for (int i = 0; i < n; i++) {
		wg_mac_keys_init(&mk, pubs[i]);
		if (!wg_mac1_verify(d, len, &mk))
			return true;
	}
	return false;
}

static void check_sent(enum xwgp_side side, const uint8_t *d, size_t len)
{
	size_t want;

	if (!is_plain(d, len))
		fuzz_bug("sent a %zu-byte datagram that is not a WireGuard message (%02x %02x %02x "
			 "%02x)",
			 len, len > 0 ? d[0] : 0, len > 1 ? d[1] : 0, len > 2 ? d[2] : 0,
			 len > 3 ? d[3] : 0);
	switch (d[0]) {
	case WG_MSG_INITIATION:
		want = WG_INIT_LEN;
		if (side != XWGP_SIDE_SERVER)
			fuzz_bug("initiation sent towards a client");
		if (len == want && !mac1_ok_for_any(d, len, fz.srv_pub, N_SERVERS))
			fuzz_bug("initiation sent with a MAC1 no configured server accepts");
		break;
	case WG_MSG_RESPONSE:
		want = WG_RESP_LEN;
		if (side != XWGP_SIDE_CLIENT)
			fuzz_bug("response sent towards a backend");
		if (len == want && !mac1_ok_for_any(d, len, fz.cli_pub, N_CLIENTS))
			fuzz_bug("response sent with a MAC1 no client accepts");
		break;
	case WG_MSG_COOKIE_REPLY:
		want = WG_COOKIE_REPLY_LEN;
		if (side != XWGP_SIDE_CLIENT)
			fuzz_bug("cookie reply sent towards a backend");
		break;
	default:
		if (len < WG_TRANSPORT_MIN_LEN)
			fuzz_bug("transport of %zu bytes sent (< %d)", len, WG_TRANSPORT_MIN_LEN);
		return;
	}
	if (len != want)
		fuzz_bug("type %u sent with %zu bytes, want %zu", d[0], len, want);
}

static int fz_send(void *ctx, enum xwgp_side side, const struct xwgp_ep *local,
		   const struct xwgp_ep *remote, const uint8_t *data, size_t len)
{
	static uint8_t copy[HANDLER_OBFS_BUF_LEN];
	struct handler *h = ctx;
	bool decoded = false;
	int n;

	(void)local;
	if (remote->family != XWGP_FAMILY_IPV4 && remote->family != XWGP_FAMILY_IPV6)
		fuzz_bug("sent to an endpoint of family %u", remote->family);
	if (!remote->port)
		fuzz_bug("sent to port 0");
	if (!len || len > 65535)
		fuzz_bug("sent a datagram of %zu bytes", len);
	memcpy(copy, data, len);
	if (is_plain(copy, len) && len > fz.cur_cap)
		fuzz_bug("sent %zu bytes, more than the %zu-byte packet buffer", len, fz.cur_cap);
	if (h->obfs && side == XWGP_SIDE_CLIENT && !is_plain(copy, len)) {
		n = obfs_decode(&fz.obfs, copy, len, &decoded);
		if (n < 0 || !decoded)
			fuzz_bug("sent %zu obfuscated bytes that do not decode (%d)", len, n);
		len = (size_t)n;
	}
	check_sent(side, copy, len);
	fz.sent++;
	return 0;
}

static int fz_route(void *ctx, const struct xwgp_ep *remote, struct xwgp_ep *local)
{
	(void)ctx;
	if (remote->family == XWGP_FAMILY_IPV4)
		*local = ep_of("192.0.2.1:0");
	else if (remote->family == XWGP_FAMILY_IPV6)
		*local = ep_of("[2001:db8::1]:0");
	else
		fuzz_bug("route asked for an endpoint of family %u", remote->family);
	return 0;
}

/* ---- setup --------------------------------------------------------------------- */

static void make_key(uint8_t priv[32], uint8_t pub[32], uint8_t seed)
{
	for (int i = 0; i < 32; i++)
		priv[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	if (wg_pubkey(pub, priv))
		fuzz_bug("key %u has no public key", seed);
}

/*
 * Server 0: client 0 (defaults), client 1 (csvl 3, ssvl 2, IPv6 backend),
 * a fallback (ssvl 1) that catches clients 2 and 3. Server 1 (csvl 2): client
 * 2 only, no fallback, so client 3 gets INIT_NO_PEER there.
 */
static void config_text(char *buf, size_t len, bool obfs)
{
	char s0[45], s1[45], c0[45], c1[45], c2[45];

	key_b64(s0, fz.srv_priv[0]);
	key_b64(s1, fz.srv_priv[1]);
	key_b64(c0, fz.cli_pub[0]);
	key_b64(c1, fz.cli_pub[1]);
	key_b64(c2, fz.cli_pub[2]);
	snprintf(buf, len,
		 "{ \"listen\": \":51820\", \"upstream\": \":40000\", \"xdp_mode\": \"off\",\n"
		 "  %s\n"
		 "  \"servers\": [\n"
		 "    { \"privkey\": \"%s\", \"address\": \"192.0.2.20\", \"peers\": [\n"
		 "        { \"pubkey\": \"%s\", \"forward_to\": \":51821\" },\n"
		 "        { \"pubkey\": \"%s\", \"forward_to\": \"[2001:db8::20]:51822\",\n"
		 "          \"csvl\": 3, \"ssvl\": 2 },\n"
		 "        { \"forward_to\": \"198.51.100.7:51823\", \"ssvl\": 1 } ] },\n"
		 "    { \"privkey\": \"%s\", \"address\": \"2001:db8::21\", \"csvl\": 2, "
		 "\"peers\": [\n"
		 "        { \"pubkey\": \"%s\", \"forward_to\": \":51824\" } ] } ] }\n",
		 obfs ? "\"obfs\": \"" OBFS_PASSWORD "\"," : "", s0, c0, c1, s1, c2);
}

static void setup_handler(int i)
{
	char text[4096];
	int err;

	config_text(text, sizeof(text), i == 1);
	err = config_parse_server(text, "<fuzz>", &fz.cfg[i]);
	if (err)
		fuzz_bug("the harness config does not parse: %s", strerror(-err));
	err = handler_init(&fz.h[i], &fz.cfg[i], &fz.maps);
	if (err)
		fuzz_bug("handler_init: %s", strerror(-err));
	fz.h[i].listen_port = 51820;
	fz.h[i].upstream_port = 40000;
	fz.h[i].send = fz_send;
	fz.h[i].route = fz_route;
	fz.h[i].io_ctx = &fz.h[i];
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_agent_log();
	libbpf_set_print(NULL);
	if (wg_crypto_init())
		fuzz_bug("libsodium does not initialise");
	if (geteuid())
		fuzz_unavailable("needs root to create BPF maps");
	fz.skel = fuzz_skel_load();
	if (!fz.skel)
		fuzz_unavailable("cannot load the xwgp BPF object: %s", strerror(errno));
	xwgp_maps_from_skel(&fz.maps, fz.skel);
	for (int i = 0; i <= N_SERVERS; i++)
		make_key(fz.srv_priv[i], fz.srv_pub[i], (uint8_t)(100 + i));
	for (int i = 0; i < N_CLIENTS; i++)
		make_key(fz.cli_priv[i], fz.cli_pub[i], (uint8_t)(200 + i));
	obfs_key_init(&fz.obfs, OBFS_PASSWORD);
	setup_handler(0);
	setup_handler(1);
	wg_tai64n_now(fz.tai_base);
	return 0;
}

/* ---- the session table ------------------------------------------------------------ */

/* The handler that ran last: its copy of the peer states is the one in step with the map. */
static struct handler *fz_last;

static void table_reset(void)
{
	fuzz_session_tables_clear(&fz.maps);
	wgit_slots_free(&fz.h[0].wgit);
	wgit_slots_free(&fz.h[1].wgit);
	fz_last = NULL; /* the map was emptied behind both copies */
}

/*
 * Both handlers share the maps (as an agent and its restarted successor
 * do); each keeps its own copy of the peer states (wgit_peers_mirror), so
 * the one about to run loads the map again when the other ran last.
 */
static void use_handler(struct handler *h)
{
	if (h == fz_last)
		return;
	if (wgit_peers_mirror(&h->wgit))
		fuzz_bug("cannot load the peer states: %s", strerror(errno));
	fz_last = h;
}

/* The sel-th session in the table (by map order); false when there is none. */
static bool pick_session(uint8_t sel, struct xwgp_session *s, struct xwgp_session_meta *m)
{
	uint32_t keys[MAX_LISTED], key, cursor = 0;
	int n = 0;

	while (n < MAX_LISTED && wgit_session_next(&fz.maps, &cursor, s))
		keys[n++] = cursor - 1; /* the slot */
	if (!n)
		return false;
	key = keys[sel % n];
	if (bpf_map_lookup_elem(fz.maps.sessions, &key, s) || !s->client_proxy_index)
		return false;
	if (wgit_meta_read(&fz.maps, s, m))
		memset(m, 0, sizeof(*m));
	return true;
}

/* ---- packet builders ---------------------------------------------------------------- */

static void mutate(struct fuzz_in *in, uint8_t *d, size_t len)
{
	int n = fuzz_u8(in) % 8;

	for (int i = 0; i < n && len; i++) {
		size_t off = fuzz_u8(in) % len;

		d[off] ^= fuzz_u8(in);
	}
}

static void tai_next(uint8_t out[12], bool stale)
{
	uint64_t secs = 0;

	memcpy(out, fz.tai_base, 12);
	if (stale)
		return;
	/* Step in whole seconds: TAI64N orders big-endian bytewise. */
	fz.tai_step++;
	for (int i = 0; i < 8; i++)
		secs = secs << 8 | out[i];
	secs += fz.tai_step;
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(secs >> (56 - 8 * i));
}

static size_t build_init(struct fuzz_in *in, uint8_t *d)
{
	int c = fuzz_u8(in) % N_CLIENTS, srv = fuzz_u8(in) % (N_SERVERS + 1);
	uint8_t flags = fuzz_u8(in), eph[32], tai[12];
	uint32_t sender = fuzz_u32(in);
	struct wg_mac_keys mk;
	uint8_t cookie[16];

	fuzz_bytes(in, eph, sizeof(eph));
	eph[0] |= 1; /* never the all-zero scalar */
	fuzz_bytes(in, cookie, sizeof(cookie));
	tai_next(tai, flags & 1);
	if (wg_create_initiation(d, fz.cli_priv[c], fz.srv_pub[srv], sender, eph, tai,
				 flags & 8 ? cookie : NULL))
		return 0;
	if (flags & 2) {
		mutate(in, d, WG_INIT_LEN);
		if (flags & 4) {
			wg_mac_keys_init(&mk, fz.srv_pub[srv]);
			d[0] = WG_MSG_INITIATION; /* wg_macs_set wants a plain header */
			d[1] = d[2] = d[3] = 0;
			wg_macs_set(d, WG_INIT_LEN, &mk, NULL);
		}
	}
	return WG_INIT_LEN;
}

static size_t build_response(struct fuzz_in *in, uint8_t *d, const struct xwgp_session *s,
			     const struct xwgp_session_meta *m)
{
	uint8_t flags = fuzz_u8(in);
	struct wg_mac_keys mk;

	memset(d, 0, WG_RESP_LEN);
	d[0] = WG_MSG_RESPONSE;
	put_le32(d + WG_RESP_OFF_SENDER, fuzz_u32(in));
	put_le32(d + WG_RESP_OFF_RECEIVER, s->client_proxy_index);
	fuzz_bytes(in, d + WG_RESP_OFF_EPHEMERAL, WG_RESP_OFF_MAC1 - WG_RESP_OFF_EPHEMERAL);
	wg_mac_keys_init(&mk, m->client_pub);
	wg_macs_set(d, WG_RESP_LEN, &mk, NULL);
	if (flags & 1)
		mutate(in, d, WG_RESP_LEN);
	return WG_RESP_LEN;
}

static size_t build_cookie(struct fuzz_in *in, uint8_t *d, const struct xwgp_session *s,
			   const struct xwgp_session_meta *m)
{
	uint8_t flags = fuzz_u8(in), cookie[16];
	struct wg_mac_keys mk;

	memset(d, 0, WG_COOKIE_REPLY_LEN);
	d[0] = WG_MSG_COOKIE_REPLY;
	put_le32(d + WG_COOKIE_OFF_RECEIVER, s->client_proxy_index);
	fuzz_bytes(in, d + WG_COOKIE_OFF_NONCE, WG_COOKIE_NONCE_LEN);
	fuzz_bytes(in, cookie, sizeof(cookie));
	wg_mac_keys_init(&mk, m->server_pub);
	wg_cookie_seal(d, cookie, mk.cookie_key, flags & 2 ? m->client_mac1 : m->sent_mac1);
	if (flags & 1)
		mutate(in, d, WG_COOKIE_REPLY_LEN);
	return WG_COOKIE_REPLY_LEN;
}

static size_t build_transport(struct fuzz_in *in, uint8_t *d, const struct xwgp_session *s,
			      enum xwgp_side side)
{
	uint8_t flags = fuzz_u8(in);
	size_t len = WG_TRANSPORT_MIN_LEN + fuzz_u16(in) % (PKT_CAP - WG_TRANSPORT_MIN_LEN);
	uint32_t idx = side == XWGP_SIDE_CLIENT ? s->server_proxy_index : s->client_proxy_index;

	if (flags & 2)
		idx = side == XWGP_SIDE_CLIENT ? s->server_origin_index : s->client_origin_index;
	memset(d, 0, len);
	d[0] = WG_MSG_TRANSPORT;
	put_le32(d + WG_TRANSPORT_OFF_RECEIVER, idx);
	fuzz_bytes(in, d + WG_TRANSPORT_OFF_COUNTER, len - WG_TRANSPORT_OFF_COUNTER);
	if (flags & 1)
		mutate(in, d, len);
	return len;
}

/* As an mwgp client would send it; 0 when it does not fit. */
static size_t obfuscate(uint8_t *d, size_t len, size_t cap)
{
	int n = obfs_encode(&fz.obfs, d, len, cap, NULL, NULL);

	return n < 0 ? 0 : (size_t)n;
}

/* ---- running records ------------------------------------------------------------------- */

static void deliver(struct handler *h, enum xwgp_side side, const struct xwgp_ep *src, uint8_t *d,
		    size_t len, size_t cap)
{
	struct handler_pkt p = {
		.side = side,
		.src = *src,
		.data = d,
		.len = len,
		.cap = cap,
	};

	p.dst = side == XWGP_SIDE_CLIENT ? ep_of("192.0.2.1:51820") : ep_of("192.0.2.1:40000");
	if (src->family == XWGP_FAMILY_IPV6)
		p.dst = side == XWGP_SIDE_CLIENT ? ep_of("[2001:db8::1]:51820")
						 : ep_of("[2001:db8::1]:40000");
	fz.cur_cap = cap;
	handler_packet(h, &p);
}

/* Source: the session's own peer (0) or one from the table. */
static struct xwgp_ep pick_src(struct fuzz_in *in, const struct xwgp_ep *own)
{
	uint8_t sel = fuzz_u8(in);

	if (own && sel < 128)
		return *own;
	return ep_of(src_table[sel % N_SRC]);
}

/* A whole frame: Ethernet (+VLAN) + IPv4/IPv6 + UDP around a payload, then damage. */
static size_t build_frame(struct fuzz_in *in, uint8_t *f, size_t cap)
{
	uint8_t flags = fuzz_u8(in), opts = fuzz_u8(in) % 11;
	size_t plen = fuzz_u16(in) % 1600, off = 12, l3, ulen;
	bool v6 = flags & 1, vlan = flags & 2, to_upstream = flags & 4;
	uint16_t dport = to_upstream ? 40000 : 51820;

	memset(f, 0, cap);
	if (vlan) {
		f[off++] = 0x81;
		f[off++] = 0x00;
		off += 2;
	}
	f[off++] = v6 ? 0x86 : 0x08;
	f[off++] = v6 ? 0xdd : 0x00;
	l3 = off;
	if (v6) {
		f[l3] = 0x60;
		f[l3 + 6] = IPPROTO_UDP;
		f[l3 + 8] = 0x20; /* 2001:db8::10 -> 2001:db8::1 */
		f[l3 + 9] = 0x01;
		f[l3 + 10] = 0x0d;
		f[l3 + 11] = 0xb8;
		f[l3 + 23] = 0x10;
		memcpy(f + l3 + 24, f + l3 + 8, 15);
		f[l3 + 39] = 0x01;
		off = l3 + 40;
	} else {
		f[l3] = (uint8_t)(0x45 + opts);
		f[l3 + 9] = IPPROTO_UDP;
		memcpy(f + l3 + 12, "\xc0\x00\x02\x0a\xc0\x00\x02\x01", 8);
		off = l3 + 20 + 4u * opts;
	}
	if (off + 8 + plen > cap)
		plen = cap - off - 8;
	ulen = 8 + plen + (int8_t)fuzz_u8(in) * (flags & 8 ? 1 : 0);
	f[off] = 0x03; /* source port 1000 */
	f[off + 1] = 0xe8;
	f[off + 2] = (uint8_t)(dport >> 8);
	f[off + 3] = (uint8_t)dport;
	f[off + 4] = (uint8_t)(ulen >> 8);
	f[off + 5] = (uint8_t)ulen;
	fuzz_bytes(in, f + off + 8, plen);
	mutate(in, f, off + 8 + plen);
	return off + 8 + plen;
}

static void run_frame(struct fuzz_in *in, struct handler *h)
{
	static uint8_t f[PKT_CAP];
	struct frame_udp fu;
	size_t len = build_frame(in, f, sizeof(f));

	/* The parser's own promise first; handler_frame() parses again. */
	if (frame_parse_udp(f, len, &fu))
		fu.len = 0;
	else if (fu.payload < f || fu.payload + fu.len > f + len)
		fuzz_bug("frame_parse_udp: payload [%td, +%zu) outside the %zu-byte frame",
			 fu.payload - f, fu.len, len);
	fz.cur_cap = fu.len;
	handler_frame(h, f, len, true);
}

static void run_record(struct fuzz_in *in)
{
	static uint8_t d[PKT_CAP];
	uint8_t op = fuzz_u8(in) % OP__MAX, hsel = fuzz_u8(in);
	struct handler *h = &fz.h[hsel & 1];
	enum xwgp_side side = hsel & 2 ? XWGP_SIDE_SERVER : XWGP_SIDE_CLIENT;
	struct xwgp_session_meta m;
	struct xwgp_session s;
	struct xwgp_ep src;
	size_t len;

	use_handler(h);
	switch (op) {
	case OP_RAW:
		len = fuzz_u16(in) % PKT_CAP;
		src = pick_src(in, NULL);
		fuzz_bytes(in, d, len);
		deliver(h, side, &src, d, len, sizeof(d));
		return;
	case OP_INIT:
		len = build_init(in, d);
		src = pick_src(in, NULL);
		if (len && h->obfs && (fuzz_u8(in) & 1))
			len = obfuscate(d, len, sizeof(d));
		if (len)
			deliver(h, XWGP_SIDE_CLIENT, &src, d, len, sizeof(d));
		return;
	case OP_FRAME:
		run_frame(in, h);
		return;
	case OP_EXPIRE:
		wgit_expire(&h->wgit, xwgp_now_ns() + (uint64_t)fuzz_u8(in) * 1000000000ull,
			    (uint64_t)h->cfg->timeout_sec * 1000000000ull);
		return;
	}
	if (!pick_session(fuzz_u8(in), &s, &m))
		return;
	switch (op) {
	case OP_RESPONSE:
		len = build_response(in, d, &s, &m);
		src = pick_src(in, &s.server);
		deliver(h, XWGP_SIDE_SERVER, &src, d, len, sizeof(d));
		return;
	case OP_COOKIE:
		len = build_cookie(in, d, &s, &m);
		src = pick_src(in, &s.server);
		deliver(h, XWGP_SIDE_SERVER, &src, d, len, sizeof(d));
		return;
	case OP_TRANSPORT:
		len = build_transport(in, d, &s, side);
		src = pick_src(in, side == XWGP_SIDE_CLIENT ? &s.client : &s.server);
		/* Obfuscated clients send obfuscated transport. */
		if (h->obfs && side == XWGP_SIDE_CLIENT && (s.flags & XWGP_SF_OBFS))
			len = obfuscate(d, len, sizeof(d));
		if (len)
			deliver(h, side, &src, d, len, sizeof(d));
		return;
	}
}

/* XWGP_FUZZ_STATS=1: print which handler counters an input moved (corpus work). */
static void print_stats(const uint64_t before[2][XWGP_AGENT_STAT__MAX], unsigned long sent)
{
	static const char *const names[] = {
#define XWGP_AGENT_STAT_NAME(name, desc) #name,
		XWGP_AGENT_STATS(XWGP_AGENT_STAT_NAME)
#undef XWGP_AGENT_STAT_NAME
	};

	printf("stats: sent %lu", fz.sent - sent);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < XWGP_AGENT_STAT__MAX; j++)
			if (fz.h[i].stats[j] != before[i][j])
				printf(" %s%s=%llu", i ? "obfs:" : "", names[j],
				       (unsigned long long)(fz.h[i].stats[j] - before[i][j]));
	printf("\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int show = -1;
	struct fuzz_in in = { .p = data, .left = size };
	uint64_t before[2][XWGP_AGENT_STAT__MAX];
	unsigned long sent = fz.sent;
	/* Once the translation mode (a no-op since WGIT v2): read so the corpus keeps its layout. */
	(void)fuzz_u8(&in);

	if (show < 0)
		show = getenv("XWGP_FUZZ_STATS") != NULL;
	if (show) {
		memcpy(before[0], fz.h[0].stats, sizeof(before[0]));
		memcpy(before[1], fz.h[1].stats, sizeof(before[1]));
	}
	table_reset();
	for (int i = 0; i < MAX_RECORDS && in.left; i++)
		run_record(&in);
	if (show)
		print_stats(before, sent);
	return 0;
}
