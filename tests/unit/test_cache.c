// SPDX-License-Identifier: GPL-2.0
/*
 * The session cache file (agent/cache.c): round trip, rebasing of times onto
 * the current boot clock, every way a file can be broken (truncated at each
 * byte, wrong types, huge numbers, missing fields) giving a warning that
 * names the file and the field and an empty table, the atomic write, the
 * config check that decides which sessions survive a restore or a reload,
 * and the map side (collect, restore, prune) on real BPF maps. The
 * writer's exact bytes: a golden text, and random caches against a copy of
 * the fprintf writer it replaced.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "addr.h"
#include "cache.h"
#include "cache_writer.h"
#include "config.h"
#include "file_util.h"
#include "handler.h"
#include "log.h"
#include "map_keys.h"
#include "reload.h"
#include "capture.h"
#include "clock.h"
#include "config_json.h"
#include "test.h"
#include "wg_crypto.h"

#define PRIV0 "EFt3ELmZeM/M47qFkgF4RbSOijtdHS43BNIxvxstREI="
#define PUB0 "S6hPS4iuvUKmnH3fp1TssT95XsHY3E3L4hqMZ68TknA="
#define PRIV1 "KA2fN4fanyOjfjRb12VIy067M/T5MPAecYRHnvS9Uns="
#define PUB1 "bWgRazvIPi1VzJgdzb6fuTdH+udImXH7D2dGVdjdFFY="
#define CLI0 "mCXTsTRyjQKV74eWR2Ka1LIdIptCG9K0FXlrG2NC4EQ="
#define CLI1 "WKn3Dtne0ZYj/BXa6uzqMVU+xrLIQRsPA/F/SkgFsVY="
#define CLI2 "OPdP2G4hfQasp/+/AZ6LiHJXIY62UKQQY4iNHJVJwH4="

#define SEC 1000000000ull
#define MS 1000000ull

/* Server A (PUB0): CLI0 -> :1000, fallback -> :1003. Server B (PUB1): CLI1 -> 192.0.2.2:1002. */
static const char config_json[] =
	"{ \"listen\": \":51820\", \"servers\": ["
	"  { \"privkey\": \"" PRIV0 "\", \"address\": \"192.0.2.1\", \"peers\": ["
	"    { \"pubkey\": \"" CLI0 "\", \"forward_to\": \":1000\" },"
	"    { \"forward_to\": \":1003\" } ] },"
	"  { \"privkey\": \"" PRIV1 "\", \"address\": \"192.0.2.3\", \"peers\": ["
	"    { \"pubkey\": \"" CLI1 "\", \"forward_to\": \"192.0.2.2:1002\" } ] } ] }";

/* ---- helpers ---------------------------------------------------------------- */

static void key(uint8_t out[static 32], const char *b64)
{
	wg_key_from_base64(out, b64);
}

static void ep(struct xwgp_ep *e, const char *s)
{
	if (xwgp_ep_parse(s, XWGP_EP_HOST_OPTIONAL | XWGP_EP_PORT_ZERO, e))
		abort();
}

static const struct cache_clock clock_a = {
	.boot_id = "11111111-2222-3333-4444-555555555555",
	.boot_ns = 1000 * SEC,
	.real_ns = 1700000000ull * SEC,
};

static void make_session(struct cache_session *cs, uint32_t idx, const char *client_pub,
			 const char *server_pub, const char *server_ep)
{
	memset(cs, 0, sizeof(*cs));
	ep(&cs->s.client, "198.51.100.7:40000");
	ep(&cs->s.client_local, "192.0.2.1:51820");
	ep(&cs->s.server, server_ep);
	ep(&cs->s.server_local, "192.0.2.1:51900");
	cs->s.client_origin_index = idx;
	cs->s.client_proxy_index = idx;
	cs->s.server_origin_index = idx ^ 0xabcdef;
	/* The low byte kept: both indexes name one slot (WGIT v2), tables up to 256 slots. */
	cs->s.server_proxy_index = idx ^ 0x12345600;
	cs->s.csvl = XWGP_SVL_NONE;
	cs->s.ssvl = XWGP_SVL_IP_PORT;
	cs->s.flags = XWGP_SF_ESTABLISHED | XWGP_SF_XLAT_SERVER;
	cs->s.created_ns = clock_a.boot_ns - 30 * SEC;
	cs->s.last_seen_ns = clock_a.boot_ns - 2 * SEC;
	cs->s.c2s_packets = 1000 + idx;
	cs->s.c2s_bytes = 9007199254740992ull; /* 2^53: the largest exact double */
	cs->s.s2c_packets = 3;
	cs->s.s2c_bytes = 4;
	key(cs->m.client_pub, client_pub);
	key(cs->m.server_pub, server_pub);
	memset(cs->m.sent_mac1, 0xa5, 16);
	memset(cs->m.client_mac1, 0x5a, 16);
	cs->m.handshake_ns = clock_a.boot_ns - 20 * SEC;
	cs->m.established_ns = clock_a.boot_ns - 19 * SEC;
}

/* A valid cache: a v4 and a v6 session (the second not established) and two peers. */
static void make_cache(struct xwgp_cache *c)
{
	struct cache_session cs;
	struct cache_peer p = {};

	memset(c, 0, sizeof(*c));
	c->upstream_port = 51900;
	make_session(&cs, 0x01020304, CLI0, PUB0, "192.0.2.1:1000");
	cache_add_session(c, &cs.s, &cs.m);
	make_session(&cs, 0x0a0b0c0d, CLI1, PUB1, "192.0.2.2:1002");
	ep(&cs.s.client, "[2001:db8::7]:40001");
	ep(&cs.s.client_local, "[2001:db8::1]:51820");
	cs.s.flags = 0;
	cs.s.server_origin_index = cs.s.server_proxy_index = 0;
	cs.m.established_ns = 0;
	cache_add_session(c, &cs.s, &cs.m);
	key(p.k.server_pub, PUB0);
	key(p.k.client_pub, CLI0);
	memset(p.st.last_tai64n, 0x42, 12);
	memset(p.st.cookie, 0x77, 16);
	p.st.cookie_ns = clock_a.boot_ns - 10 * SEC;
	/* Not in the file: the reader sets it to its own now (clock_a here). */
	p.st.updated_ns = clock_a.boot_ns;
	cache_add_peer(c, &p.k, &p.st);
	key(p.k.client_pub, CLI2);
	p.st.cookie_ns = 0;
	memset(p.st.cookie, 0, 16);
	cache_add_peer(c, &p.k, &p.st);
}

static char *valid_text(void)
{
	struct xwgp_cache c;
	char *t;

	make_cache(&c);
	t = cache_format(&c, &clock_a);
	cache_free(&c);
	return t;
}

static char *errs; /* stderr of the last parse_text() */

/* Parse text (exactly len bytes in their own buffer, so ASan sees any over-read). */
static int parse_len(const char *text, size_t len, const struct cache_clock *now,
		     struct xwgp_cache *out)
{
	struct capture cap;
	char *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, text, len);
	capture_start(&cap, 2);
	ret = cache_parse(copy, len, "/test/cache.json", now, out);
	free(errs);
	errs = capture_end(&cap);
	free(copy);
	return ret;
}

static int parse_text(const char *text, struct xwgp_cache *out)
{
	return parse_len(text, strlen(text), &clock_a, out);
}

/* The valid file with one change made through cJSON. */
typedef void (*mutate_fn)(cJSON *root, const char *arg);

static char *mutated(mutate_fn fn, const char *arg)
{
	char *t = valid_text();
	cJSON *root = cJSON_Parse(t);
	char *out;

	free(t);
	fn(root, arg);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static cJSON *session0(cJSON *root)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(root, "sessions"), 0);
}

static void drop_session_field(cJSON *root, const char *field)
{
	cJSON_DeleteItemFromObject(session0(root), field);
}

static void drop_peer_field(cJSON *root, const char *field)
{
	cJSON_DeleteItemFromObject(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "peers"), 0), field);
}

static void drop_root_field(cJSON *root, const char *field)
{
	cJSON_DeleteItemFromObject(root, field);
}

/* arg: "field=raw JSON value", set in object o. */
static void set_field(cJSON *o, const char *arg)
{
	char field[64];
	const char *eq = strchr(arg, '=');

	snprintf(field, sizeof(field), "%.*s", (int)(eq - arg), arg);
	cJSON_ReplaceItemInObject(o, field, cJSON_CreateRaw(eq + 1));
}

/* ... in sessions[0]. */
static void set_session_field(cJSON *root, const char *arg)
{
	set_field(session0(root), arg);
}

static void set_root_field(cJSON *root, const char *arg)
{
	set_field(root, arg);
}

static void set_peer_field(cJSON *root, const char *arg)
{
	set_field(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "peers"), 0), arg);
}

static void set_written_field(cJSON *root, const char *arg)
{
	set_field(cJSON_GetObjectItem(root, "written"), arg);
}

static bool load_config(struct xwgp_server_config *cfg)
{
	struct capture cap;
	int ret;

	capture_start(&cap, 2);
	ret = config_parse_server(config_json, "<test>", cfg);
	free(capture_end(&cap));
	return ret == 0;
}

/* ---- round trip and rebasing -------------------------------------------------- */

TEST(roundtrip_same_instant)
{
	struct xwgp_cache in, out;
	char *t;

	make_cache(&in);
	t = cache_format(&in, &clock_a);
	CHECK(t, "format failed");
	CHECK(parse_text(t, &out) == 0, "parse failed: %s", errs);
	CHECK(out.upstream_port == 51900, "upstream_port %u", out.upstream_port);
	CHECK(out.n_sessions == 2 && out.n_peers == 2, "%zu sessions, %zu peers", out.n_sessions,
	      out.n_peers);
	/* Everything but the times is bit for bit; times at ms granularity. */
	for (size_t i = 0; i < 2; i++) {
		struct xwgp_session a = in.sessions[i].s, b = out.sessions[i].s;

		CHECK(b.created_ns == a.created_ns && b.last_seen_ns == a.last_seen_ns,
		      "session %zu times: created %llu vs %llu, seen %llu vs %llu", i,
		      (unsigned long long)b.created_ns, (unsigned long long)a.created_ns,
		      (unsigned long long)b.last_seen_ns, (unsigned long long)a.last_seen_ns);
		CHECK_MEM(&a, &b, sizeof(a));
		CHECK_MEM(&in.sessions[i].m, &out.sessions[i].m, sizeof(in.sessions[i].m));
	}
	CHECK(out.sessions[0].s.c2s_bytes == 9007199254740992ull, "2^53 bytes lost precision");
	CHECK(out.sessions[1].m.established_ns == 0, "unestablished session got a time");
	CHECK_MEM(&in.peers[0], &out.peers[0], sizeof(in.peers[0]));
	CHECK(out.peers[1].st.cookie_ns == 0, "a peer without cookie got one");
	/* Never private keys: neither server's private key appears in the file. */
	CHECK(!strstr(t, PRIV0) && !strstr(t, PRIV1), "a private key in the cache");
	free(t);
	cache_free(&in);
	cache_free(&out);
}

/* cJSON would print 2^53 - 1 rounded; 2^60 bytes (after 1 EB) are clamped, not refused. */
TEST(big_integers_exact)
{
	struct xwgp_cache in, out;
	char *t;

	make_cache(&in);
	in.sessions[0].s.s2c_packets = 9007199254740991ull;
	in.sessions[0].s.s2c_bytes = 1ull << 60;
	in.sessions[0].s.c2s_packets = 1234567890123457ull;
	t = cache_format(&in, &clock_a);
	CHECK(parse_text(t, &out) == 0, "%s", errs);
	CHECK(out.sessions[0].s.s2c_packets == 9007199254740991ull, "2^53-1 became %llu",
	      (unsigned long long)out.sessions[0].s.s2c_packets);
	CHECK(out.sessions[0].s.c2s_packets == 1234567890123457ull, "%llu",
	      (unsigned long long)out.sessions[0].s.c2s_packets);
	CHECK(out.sessions[0].s.s2c_bytes == 9007199254740992ull, "2^60 became %llu",
	      (unsigned long long)out.sessions[0].s.s2c_bytes);
	cache_free(&in);
	cache_free(&out);
	free(t);
}

/* ---- the exact text ------------------------------------------------------------ */

/*
 * The file's bytes are a format (cache_parse.c and files already written
 * read them): a cache touching every field and branch, and its text as the
 * fprintf writer of 2026-12-07 made it. A boot id with a quote and a space
 * is written as "".
 */
static const struct cache_clock clock_golden = {
	.boot_id = "1111-2222 \"x\"",
	.boot_ns = 5000 * SEC + 123456789,
	.real_ns = 1700000000123456789ull,
};

static void set_ep(struct xwgp_ep *e, uint16_t family, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	e->port = htons(port);
}

static void make_golden_cache(struct xwgp_cache *c)
{
	const uint64_t now = clock_golden.boot_ns;
	struct cache_session cs;
	struct cache_peer p = {};

	memset(c, 0, sizeof(*c));
	c->upstream_port = 51900;
	/* IPv4, established, every flag bit set (the file keeps the known ones). */
	make_session(&cs, 0x01020304, CLI0, PUB0, "192.0.2.1:1000");
	cs.s.client_proxy_index = 0xffffffff;
	cs.s.client_origin_index = 0;
	cs.s.flags = 0xff;
	cs.s.created_ns = 1; /* the oldest there can be */
	cs.s.last_seen_ns = now - 1; /* less than 1 ms ago: 0 */
	cs.m.handshake_ns = now - 20 * SEC - 999999;
	cs.m.established_ns = now - 19 * SEC;
	cs.s.c2s_packets = 0;
	cs.s.c2s_bytes = 1;
	cs.s.s2c_packets = 9007199254740992ull; /* 2^53: written as is */
	cs.s.s2c_bytes = UINT64_MAX; /* clamped to 2^53 */
	cache_add_session(c, &cs.s, &cs.m);
	/* IPv6, not established (no established_age_ms), only unknown flag bits, times ahead. */
	make_session(&cs, 0x0a0b0c0d, CLI1, PUB1, "[2001:db8:1::2]:65535");
	ep(&cs.s.client, "[2001:db8::7]:40001");
	ep(&cs.s.client_local, "[2001:db8::1]:51820");
	ep(&cs.s.server_local, "[::]:0");
	cs.s.flags = 0xf0;
	cs.s.created_ns = now + SEC; /* after `at': age 0 */
	cs.s.last_seen_ns = 0;
	cs.m.handshake_ns = now;
	cs.m.established_ns = 0;
	cs.s.c2s_packets = 9007199254740993ull; /* 2^53 + 1: clamped */
	cs.s.c2s_bytes = 12345678901234ull;
	cs.s.s2c_packets = 4294967296ull;
	cs.s.s2c_bytes = 0;
	cache_add_session(c, &cs.s, &cs.m);
	/*
	 * Endpoints xwgp_ep_format refuses (unknown families): ":port". Family
	 * NONE formats as ":port" itself; an IPv4-mapped address as IPv6.
	 */
	make_session(&cs, 0xfffffffe, CLI2, PUB0, "192.0.2.1:1003");
	set_ep(&cs.s.client, 5, 1234);
	set_ep(&cs.s.client_local, XWGP_FAMILY_NONE, 51820);
	set_ep(&cs.s.server, 0xffff, 0);
	set_ep(&cs.s.server_local, XWGP_FAMILY_IPV6, 7);
	cs.s.server_local.addr[2] = htonl(0xffff);
	cs.s.server_local.addr[3] = htonl(0xc0000209); /* ::ffff:192.0.2.9 */
	cs.s.csvl = 255;
	cs.s.ssvl = 0;
	cs.s.server_origin_index = 4294967295u;
	cs.m.established_ns = now + 5 * SEC; /* set but ahead: written, age 0 */
	cs.s.c2s_packets = 9007199254740991ull; /* 2^53 - 1 */
	cs.s.s2c_bytes = 1ull << 63;
	memset(cs.m.sent_mac1, 0, 16);
	for (int i = 0; i < 16; i++)
		cs.m.client_mac1[i] = (uint8_t)(i * 17);
	cache_add_session(c, &cs.s, &cs.m);

	/* Peers: a cookie 10.5 s old, none, and one ahead of `at'. */
	key(p.k.server_pub, PUB0);
	key(p.k.client_pub, CLI0);
	for (int i = 0; i < 12; i++)
		p.st.last_tai64n[i] = (uint8_t)(0xf0 + i);
	memset(p.st.cookie, 0x77, 16);
	p.st.cookie_ns = now - 10 * SEC - 500 * MS;
	cache_add_peer(c, &p.k, &p.st);
	key(p.k.client_pub, CLI2);
	p.st.cookie_ns = 0; /* the cookie bytes are not written */
	cache_add_peer(c, &p.k, &p.st);
	key(p.k.server_pub, PUB1);
	key(p.k.client_pub, CLI1);
	memset(p.st.last_tai64n, 0, 12);
	memset(p.st.cookie, 0xab, 16);
	p.st.cookie_ns = now + SEC;
	cache_add_peer(c, &p.k, &p.st);
}

static const char golden_text[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"written\": { \"boot_id\": \"\", \"boottime_ms\": 5000123, "
	"\"realtime_ms\": 1700000000123 },\n"
	"  \"upstream_port\": 51900,\n"
	"  \"sessions\": [\n"
	"    { \"client_proxy_index\": 4294967295, \"client_origin_index\": 0, "
	"\"server_proxy_index\": 322327812, \"server_origin_index\": 27905771, \"flags\": 15, "
	"\"csvl\": 1, \"ssvl\": 3, \"client\": \"198.51.100.7:40000\", "
	"\"client_local\": \"192.0.2.1:51820\", \"server\": \"192.0.2.1:1000\", "
	"\"server_local\": \"192.0.2.1:51900\", \"created_age_ms\": 5000123, "
	"\"last_seen_age_ms\": 0, \"handshake_age_ms\": 20000, \"established_age_ms\": 19000, "
	"\"c2s_packets\": 0, \"c2s_bytes\": 1, \"s2c_packets\": 9007199254740992, "
	"\"s2c_bytes\": 9007199254740992, "
	"\"client_pubkey\": \"mCXTsTRyjQKV74eWR2Ka1LIdIptCG9K0FXlrG2NC4EQ=\", "
	"\"server_pubkey\": \"S6hPS4iuvUKmnH3fp1TssT95XsHY3E3L4hqMZ68TknA=\", "
	"\"sent_mac1\": \"a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\", "
	"\"client_mac1\": \"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\" },\n"
	"    { \"client_proxy_index\": 168496141, \"client_origin_index\": 168496141, "
	"\"server_proxy_index\": 406805005, \"server_origin_index\": 178307554, \"flags\": 0, "
	"\"csvl\": 1, \"ssvl\": 3, \"client\": \"[2001:db8::7]:40001\", "
	"\"client_local\": \"[2001:db8::1]:51820\", \"server\": \"[2001:db8:1::2]:65535\", "
	"\"server_local\": \"[::]:0\", \"created_age_ms\": 0, \"last_seen_age_ms\": 0, "
	"\"handshake_age_ms\": 0, \"c2s_packets\": 9007199254740992, "
	"\"c2s_bytes\": 12345678901234, \"s2c_packets\": 4294967296, \"s2c_bytes\": 0, "
	"\"client_pubkey\": \"WKn3Dtne0ZYj/BXa6uzqMVU+xrLIQRsPA/F/SkgFsVY=\", "
	"\"server_pubkey\": \"bWgRazvIPi1VzJgdzb6fuTdH+udImXH7D2dGVdjdFFY=\", "
	"\"sent_mac1\": \"a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\", "
	"\"client_mac1\": \"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\" },\n"
	"    { \"client_proxy_index\": 4294967294, \"client_origin_index\": 4294967294, "
	"\"server_proxy_index\": 3989547518, \"server_origin_index\": 4294967295, \"flags\": 9, "
	"\"csvl\": 255, \"ssvl\": 0, \"client\": \":1234\", \"client_local\": \":51820\", "
	"\"server\": \":0\", \"server_local\": \"[::ffff:192.0.2.9]:7\", "
	"\"created_age_ms\": 4030123, \"last_seen_age_ms\": 4002123, "
	"\"handshake_age_ms\": 4020123, \"established_age_ms\": 0, "
	"\"c2s_packets\": 9007199254740991, \"c2s_bytes\": 9007199254740992, \"s2c_packets\": 3, "
	"\"s2c_bytes\": 9007199254740992, "
	"\"client_pubkey\": \"OPdP2G4hfQasp/+/AZ6LiHJXIY62UKQQY4iNHJVJwH4=\", "
	"\"server_pubkey\": \"S6hPS4iuvUKmnH3fp1TssT95XsHY3E3L4hqMZ68TknA=\", "
	"\"sent_mac1\": \"00000000000000000000000000000000\", "
	"\"client_mac1\": \"00112233445566778899aabbccddeeff\" }\n"
	"  ],\n"
	"  \"peers\": [\n"
	"    { \"server_pubkey\": \"S6hPS4iuvUKmnH3fp1TssT95XsHY3E3L4hqMZ68TknA=\", "
	"\"client_pubkey\": \"mCXTsTRyjQKV74eWR2Ka1LIdIptCG9K0FXlrG2NC4EQ=\", "
	"\"last_tai64n\": \"f0f1f2f3f4f5f6f7f8f9fafb\", "
	"\"cookie\": \"77777777777777777777777777777777\", \"cookie_age_ms\": 10500 },\n"
	"    { \"server_pubkey\": \"S6hPS4iuvUKmnH3fp1TssT95XsHY3E3L4hqMZ68TknA=\", "
	"\"client_pubkey\": \"OPdP2G4hfQasp/+/AZ6LiHJXIY62UKQQY4iNHJVJwH4=\", "
	"\"last_tai64n\": \"f0f1f2f3f4f5f6f7f8f9fafb\" },\n"
	"    { \"server_pubkey\": \"bWgRazvIPi1VzJgdzb6fuTdH+udImXH7D2dGVdjdFFY=\", "
	"\"client_pubkey\": \"WKn3Dtne0ZYj/BXa6uzqMVU+xrLIQRsPA/F/SkgFsVY=\", "
	"\"last_tai64n\": \"000000000000000000000000\", "
	"\"cookie\": \"abababababababababababababababab\", \"cookie_age_ms\": 0 }\n"
	"  ]\n"
	"}\n";

TEST(golden_text)
{
	struct xwgp_cache c;
	char *t;

	make_golden_cache(&c);
	t = cache_format(&c, &clock_golden);
	CHECK(t, "format failed");
	CHECK(strcmp(t, golden_text) == 0, "text differs from the golden one:\n%s", t);
	free(t);
	cache_free(&c);
}

TEST(golden_text_empty)
{
	static const char want[] =
		"{\n  \"version\": 1,\n"
		"  \"written\": { \"boot_id\": \"11111111-2222-3333-4444-555555555555\", "
		"\"boottime_ms\": 1000000, \"realtime_ms\": 1700000000000 },\n"
		"  \"upstream_port\": 0,\n  \"sessions\": [],\n  \"peers\": []\n}\n";
	struct xwgp_cache c = {};
	char *t = cache_format(&c, &clock_a);

	CHECK(t, "format failed");
	CHECK(strcmp(t, want) == 0, "empty cache:\n%s", t);
	free(t);
}

/*
 * The fprintf writer cache_format() was until 2026-12-07, kept verbatim as
 * the reference: cache_format() must write exactly its bytes for any cache.
 */
static uint64_t ref_age_ms(const struct cache_clock *at, uint64_t t)
{
	return t && at->boot_ns > t ? (at->boot_ns - t) / NSEC_PER_MSEC : 0;
}

static uint64_t ref_json_int(uint64_t v)
{
	return v > CFG_INT_MAX ? CFG_INT_MAX : v;
}

static void ref_put_u64(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, ", \"%s\": %llu", name, (unsigned long long)ref_json_int(v));
}

static void ref_put_hex(FILE *f, const char *name, const uint8_t *p, size_t n)
{
	char hex[2 * 32 + 1];

	sodium_bin2hex(hex, sizeof(hex), p, n);
	fprintf(f, ", \"%s\": \"%s\"", name, hex);
}

static void ref_put_key(FILE *f, const char *name, const uint8_t key[static 32])
{
	char b64[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(b64, key);
	fprintf(f, ", \"%s\": \"%s\"", name, b64);
}

static void ref_put_ep(FILE *f, const char *name, const struct xwgp_ep *ep)
{
	char buf[XWGP_EP_STRLEN];

	if (xwgp_ep_format(buf, sizeof(buf), ep))
		snprintf(buf, sizeof(buf), ":%u", xwgp_ep_port(ep));
	fprintf(f, ", \"%s\": \"%s\"", name, buf);
}

static void ref_put_session(FILE *f, const struct cache_session *cs, const struct cache_clock *at)
{
	struct xwgp_session s = cs->s;
	const struct xwgp_session_meta *m = &cs->m;

	fprintf(f, "{ \"client_proxy_index\": %u", s.client_proxy_index);
	ref_put_u64(f, "client_origin_index", s.client_origin_index);
	ref_put_u64(f, "server_proxy_index", s.server_proxy_index);
	ref_put_u64(f, "server_origin_index", s.server_origin_index);
	ref_put_u64(f, "flags", s.flags & XWGP_CACHE_SESSION_FLAGS);
	ref_put_u64(f, "csvl", s.csvl);
	ref_put_u64(f, "ssvl", s.ssvl);
	ref_put_ep(f, "client", &s.client);
	ref_put_ep(f, "client_local", &s.client_local);
	ref_put_ep(f, "server", &s.server);
	ref_put_ep(f, "server_local", &s.server_local);
	ref_put_u64(f, "created_age_ms", ref_age_ms(at, s.created_ns));
	ref_put_u64(f, "last_seen_age_ms", ref_age_ms(at, s.last_seen_ns));
	ref_put_u64(f, "handshake_age_ms", ref_age_ms(at, m->handshake_ns));
	if (m->established_ns)
		ref_put_u64(f, "established_age_ms", ref_age_ms(at, m->established_ns));
	ref_put_u64(f, "c2s_packets", s.c2s_packets);
	ref_put_u64(f, "c2s_bytes", s.c2s_bytes);
	ref_put_u64(f, "s2c_packets", s.s2c_packets);
	ref_put_u64(f, "s2c_bytes", s.s2c_bytes);
	ref_put_key(f, "client_pubkey", m->client_pub);
	ref_put_key(f, "server_pubkey", m->server_pub);
	ref_put_hex(f, "sent_mac1", m->sent_mac1, sizeof(m->sent_mac1));
	ref_put_hex(f, "client_mac1", m->client_mac1, sizeof(m->client_mac1));
	fputs(" }", f);
}

static void ref_put_peer(FILE *f, const struct cache_peer *p, const struct cache_clock *at)
{
	char b64[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(b64, p->k.server_pub);
	fprintf(f, "{ \"server_pubkey\": \"%s\"", b64);
	ref_put_key(f, "client_pubkey", p->k.client_pub);
	ref_put_hex(f, "last_tai64n", p->st.last_tai64n, sizeof(p->st.last_tai64n));
	if (p->st.cookie_ns) {
		ref_put_hex(f, "cookie", p->st.cookie, sizeof(p->st.cookie));
		ref_put_u64(f, "cookie_age_ms", ref_age_ms(at, p->st.cookie_ns));
	}
	fputs(" }", f);
}

static const char *ref_safe_boot_id(const char *id)
{
	return strspn(id, "0123456789abcdefABCDEF-") == strlen(id) ? id : "";
}

static char *ref_format(const struct xwgp_cache *c, const struct cache_clock *at)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"{\n  \"version\": %d,\n"
		"  \"written\": { \"boot_id\": \"%s\", \"boottime_ms\": %llu, \"realtime_ms\": %llu },\n"
		"  \"upstream_port\": %u,\n  \"sessions\": [",
		XWGP_CACHE_VERSION, ref_safe_boot_id(at->boot_id),
		(unsigned long long)ref_json_int(at->boot_ns / NSEC_PER_MSEC),
		(unsigned long long)ref_json_int(at->real_ns / NSEC_PER_MSEC), c->upstream_port);
	for (size_t i = 0; i < c->n_sessions; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		ref_put_session(f, &c->sessions[i], at);
	}
	fputs(c->n_sessions ? "\n  ],\n  \"peers\": [" : "],\n  \"peers\": [", f);
	for (size_t i = 0; i < c->n_peers; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		ref_put_peer(f, &c->peers[i], at);
	}
	fputs(c->n_peers ? "\n  ]\n}\n" : "]\n}\n", f);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return NULL;
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* splitmix64: reproducible from the seed a failure prints. */
static uint64_t rnd(uint64_t *st)
{
	uint64_t z = (*st += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rnd_bytes(uint64_t *st, void *buf, size_t n)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(st);
}

/* A number of any width, the edges (0, 2^32, 2^53 +- 1, 2^64 - 1) often. */
static uint64_t rnd_num(uint64_t *st)
{
	static const uint64_t edge[] = { 0, 1, 9, 10, 99, 100, 4294967295ull, 4294967296ull,
					 9007199254740991ull, 9007199254740992ull,
					 9007199254740993ull, 9999999999999999ull,
					 10000000000000000ull, UINT64_MAX };
	uint64_t r = rnd(st);

	switch (r % 4) {
	case 0:
		return edge[(r >> 8) % (sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return rnd(st) >> ((r >> 8) % 64); /* every digit count */
	default:
		return rnd(st) % 100000;
	}
}

/* A timestamp around `now': 0, ahead, within the last hour, or anything. */
static uint64_t rnd_time(uint64_t *st, uint64_t now)
{
	switch (rnd(st) % 5) {
	case 0:
		return 0;
	case 1:
		return now + rnd(st) % SEC;
	case 2:
		return rnd_num(st);
	default:
		return now - rnd(st) % (3600 * SEC < now ? 3600 * SEC : now + 1);
	}
}

static void rnd_ep(uint64_t *st, struct xwgp_ep *e)
{
	static const uint16_t family[] = { XWGP_FAMILY_IPV4, XWGP_FAMILY_IPV4, XWGP_FAMILY_IPV6,
					   XWGP_FAMILY_IPV6, XWGP_FAMILY_NONE, 5 };
	uint64_t r = rnd(st);

	rnd_bytes(st, e, sizeof(*e));
	if (r % 8 == 0)
		memset(e->addr, 0, sizeof(e->addr)); /* 0.0.0.0, ::, ::ffff:... */
	if (r % 16 == 1) { /* ::ffff:a.b.c.d */
		memset(e->addr, 0, 2 * sizeof(e->addr[0]));
		e->addr[2] = htonl(0xffff);
	}
	if ((r >> 8) % 16)
		e->family = family[(r >> 16) % (sizeof(family) / sizeof(family[0]))];
}

/* A boot id of 0..39 characters, most of them the safe kind. */
static void rnd_boot_id(uint64_t *st, char id[static 40])
{
	static const char safe[] = "0123456789abcdefABCDEF-";
	size_t n = rnd(st) % 40;
	bool clean = rnd(st) % 2;

	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd(st);

		id[i] = clean || r % 16 ? safe[(r >> 8) % (sizeof(safe) - 1)]
					: (char)(1 + (r >> 8) % 255);
	}
	id[n] = '\0';
}

static void rnd_cache(uint64_t *st, struct xwgp_cache *c, struct cache_clock *at, size_t n_sessions,
		      size_t n_peers)
{
	memset(c, 0, sizeof(*c));
	rnd_boot_id(st, at->boot_id);
	at->boot_ns = rnd(st) % 4 ? 3600 * SEC + rnd(st) % (1000000 * SEC) : rnd_num(st);
	at->real_ns = rnd(st) % 4 ? 1700000000ull * SEC + rnd(st) % (100000000 * SEC) : rnd_num(st);
	c->upstream_port = (uint16_t)rnd(st);
	for (size_t i = 0; i < n_sessions; i++) {
		struct cache_session cs;

		rnd_bytes(st, &cs, sizeof(cs));
		rnd_ep(st, &cs.s.client);
		rnd_ep(st, &cs.s.client_local);
		rnd_ep(st, &cs.s.server);
		rnd_ep(st, &cs.s.server_local);
		cs.s.client_origin_index = (uint32_t)rnd_num(st);
		cs.s.created_ns = rnd_time(st, at->boot_ns);
		cs.s.last_seen_ns = rnd_time(st, at->boot_ns);
		cs.m.handshake_ns = rnd_time(st, at->boot_ns);
		cs.m.established_ns = rnd_time(st, at->boot_ns);
		cs.s.c2s_packets = rnd_num(st);
		cs.s.c2s_bytes = rnd_num(st);
		cs.s.s2c_packets = rnd_num(st);
		cs.s.s2c_bytes = rnd_num(st);
		if (cache_add_session(c, &cs.s, &cs.m))
			abort();
	}
	for (size_t i = 0; i < n_peers; i++) {
		struct cache_peer p;

		rnd_bytes(st, &p, sizeof(p));
		p.st.cookie_ns = rnd_time(st, at->boot_ns);
		if (cache_add_peer(c, &p.k, &p.st))
			abort();
	}
}

/*
 * Random caches, 0 to 40 sessions and peers each: cache_format's bytes are
 * the reference's. XWGP_TEST_SEED=N repeats the run a failure names.
 */
TEST(same_text_as_fprintf_writer)
{
	const char *env = getenv("XWGP_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL), st = seed;

	for (int i = 0; i < 3000; i++) {
		uint64_t n = rnd(&st);
		struct xwgp_cache c;
		struct cache_clock at;
		char *want, *got;

		rnd_cache(&st, &c, &at, n % 41, (n >> 8) % 41);
		want = ref_format(&c, &at);
		got = cache_format(&c, &at);
		CHECK(want && got, "format failed");
		if (strcmp(got, want)) {
			size_t at_byte = 0;

			while (got[at_byte] == want[at_byte])
				at_byte++;
			CHECK(false, "seed %llu, cache %d, byte %zu: \"%.60s\", want \"%.60s\"",
			      (unsigned long long)seed, i, at_byte, got + at_byte, want + at_byte);
		}
		free(want);
		free(got);
		cache_free(&c);
	}
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Formats per CPU second of c, the reference's and cache_format's in alternation, best of 3. */
static void format_rates(const struct xwgp_cache *c, const struct cache_clock *at, double rate[2])
{
	double best[2] = { 1e9, 1e9 };

	for (int round = 0; round < 3; round++) {
		for (int which = 0; which < 2; which++) {
			double t0 = thread_cpu_s(), dt;
			char *t = which ? cache_format(c, at) : ref_format(c, at);

			dt = thread_cpu_s() - t0;
			if (!t)
				abort();
			if (best[which] > dt)
				best[which] = dt;
			free(t);
		}
	}
	rate[0] = 1 / best[0];
	rate[1] = 1 / best[1];
}

/*
 * The agent's handshake storm (28,000 sessions, 1,024 peers), every
 * endpoint IPv4, then every one IPv6. Printed only: times on a shared
 * machine prove nothing; the bytes are compared.
 */
TEST(format_speed)
{
	static const uint16_t family[] = { XWGP_FAMILY_IPV4, XWGP_FAMILY_IPV6 };
	uint64_t st = 28000;
	struct xwgp_cache c;
	struct cache_clock at;

	rnd_cache(&st, &c, &at, 28000, 1024);
	for (size_t f = 0; f < 2; f++) {
		double rate[2];
		char *want, *got;

		for (size_t i = 0; i < c.n_sessions; i++) {
			struct xwgp_session *s = &c.sessions[i].s;

			s->client.family = s->client_local.family = family[f];
			s->server.family = s->server_local.family = family[f];
		}
		want = ref_format(&c, &at);
		got = cache_format(&c, &at);
		CHECK(want && got && strcmp(got, want) == 0, "IPv%u: the texts differ", family[f]);
		format_rates(&c, &at, rate);
		printf("# cache_format, 28000 sessions + 1024 peers, IPv%u (%zu bytes): "
		       "fprintf writer %.1f/s, cache_format %.1f/s: %.2fx\n",
		       family[f], strlen(got), rate[0], rate[1], rate[1] / rate[0]);
		free(want);
		free(got);
	}
	cache_free(&c);
}

TEST(rebase_same_boot)
{
	struct cache_clock later = clock_a;
	struct xwgp_cache out;
	char *t = valid_text();

	/* 10 s later, same boot: key ages grow by 10 s, idleness does not. */
	later.boot_ns += 10 * SEC;
	later.real_ns += 999 * SEC; /* the wall clock is ignored within a boot */
	CHECK(parse_len(t, strlen(t), &later, &out) == 0, "%s", errs);
	CHECK(out.sessions[0].m.handshake_ns == later.boot_ns - 30 * SEC, "handshake %llu",
	      (unsigned long long)out.sessions[0].m.handshake_ns);
	CHECK(out.sessions[0].m.established_ns == later.boot_ns - 29 * SEC, "established");
	CHECK(out.sessions[0].s.created_ns == later.boot_ns - 40 * SEC, "created");
	CHECK(out.sessions[0].s.last_seen_ns == later.boot_ns - 2 * SEC, "last seen %llu",
	      (unsigned long long)out.sessions[0].s.last_seen_ns);
	CHECK(out.peers[0].st.cookie_ns == later.boot_ns - 20 * SEC, "cookie");
	cache_free(&out);
	free(t);
}

TEST(rebase_after_reboot)
{
	struct cache_clock boot2 = {
		.boot_id = "99999999-2222-3333-4444-555555555555",
		.boot_ns = 25 * SEC, /* the new boot is 25 s old */
		.real_ns = clock_a.real_ns + 40 * SEC, /* 40 s after the file was written */
	};
	struct xwgp_cache out;
	char *t = valid_text();

	CHECK(parse_len(t, strlen(t), &boot2, &out) == 0, "%s", errs);
	CHECK(out.n_sessions == 2, "%zu sessions", out.n_sessions);
	/* handshake 20 s + 40 s down = 60 s: older than this boot, clamped to its start. */
	CHECK(out.sessions[0].m.handshake_ns == 1, "handshake %llu",
	      (unsigned long long)out.sessions[0].m.handshake_ns);
	/* idle 2 s at write time; the downtime is not idleness. */
	CHECK(out.sessions[0].s.last_seen_ns == boot2.boot_ns - 2 * SEC, "last seen %llu",
	      (unsigned long long)out.sessions[0].s.last_seen_ns);
	/* cookie 10 s + 40 s < 120 s: kept, and 50 s old now. */
	CHECK(out.peers[0].st.cookie_ns == 1, "cookie time %llu",
	      (unsigned long long)out.peers[0].st.cookie_ns);
	CHECK(out.peers[0].st.cookie[0] == 0x77, "cookie bytes lost");
	cache_free(&out);

	/* 150 s later: handshakes 170 s old (< 180 kept), cookie 160 s old (dropped). */
	boot2.real_ns = clock_a.real_ns + 150 * SEC;
	boot2.boot_ns = 500 * SEC;
	CHECK(parse_len(t, strlen(t), &boot2, &out) == 0, "%s", errs);
	CHECK(out.n_sessions == 2, "%zu sessions at 170 s", out.n_sessions);
	CHECK(out.sessions[0].m.handshake_ns == boot2.boot_ns - 170 * SEC, "handshake");
	CHECK(out.peers[0].st.cookie_ns == 0 && sodium_is_zero(out.peers[0].st.cookie, 16),
	      "an expired cookie was kept");
	CHECK_MEM(out.peers[0].st.last_tai64n, "\x42\x42\x42\x42\x42\x42\x42\x42\x42\x42\x42\x42",
		  12);
	cache_free(&out);

	/* 170 s later: handshakes 190 s old, past REJECT_AFTER_TIME: not restored. */
	boot2.real_ns = clock_a.real_ns + 170 * SEC;
	CHECK(parse_len(t, strlen(t), &boot2, &out) == 0, "%s", errs);
	CHECK(out.n_sessions == 0, "%zu dead sessions restored", out.n_sessions);
	CHECK(out.n_peers == 2, "peer states (replay protection) dropped");
	cache_free(&out);

	/* The wall clock went backwards: no downtime rather than a negative one. */
	boot2.real_ns = clock_a.real_ns - 3600 * SEC;
	CHECK(parse_len(t, strlen(t), &boot2, &out) == 0, "%s", errs);
	CHECK(out.sessions[0].m.handshake_ns == boot2.boot_ns - 20 * SEC, "handshake %llu",
	      (unsigned long long)out.sessions[0].m.handshake_ns);
	cache_free(&out);
	free(t);
}

/* ---- broken files ---------------------------------------------------------------- */

TEST(truncated_at_every_byte)
{
	char *t = valid_text();
	size_t len = strlen(t), close_brace = strrchr(t, '}') - t;
	struct xwgp_cache out;

	for (size_t i = 0; i <= close_brace; i++) {
		int ret = parse_len(t, i, &clock_a, &out);

		CHECK(ret == -EINVAL, "prefix of %zu/%zu bytes: %d", i, len, ret);
		CHECK(out.n_sessions == 0 && out.n_peers == 0 && !out.sessions,
		      "prefix of %zu bytes left sessions", i);
		CHECK(strstr(errs, "/test/cache.json") && strstr(errs, "empty session table"),
		      "prefix of %zu bytes: warning `%s'", i, errs);
	}
	CHECK(parse_len(t, 100, &clock_a, &out) == -EINVAL && strstr(errs, "not valid JSON"),
	      "warning `%s'", errs);
	CHECK(parse_len(t, close_brace + 1, &clock_a, &out) == 0, "the whole file: %s", errs);
	cache_free(&out);
	free(t);
}

TEST(garbage)
{
	static const char *const cases[] = {
		"",	 " ",	  "\n\n",   "null", "[]",	  "42",
		"\"x\"", "{",	  "}",	    "{}",   "{\"version\": 1}", "{\"version\":1}garbage",
		"\xff\xfe", "{\"version\": 1, \"version\": 1",
	};
	struct xwgp_cache out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(parse_text(cases[i], &out) == -EINVAL, "case %zu `%s' accepted", i, cases[i]);
		CHECK(out.n_sessions == 0 && strstr(errs, "/test/cache.json"), "case %zu: `%s'", i,
		      errs);
	}
	/* Deep nesting: cJSON's limit, not the stack, stops it. */
	{
		size_t n = 100000;
		char *deep = malloc(2 * n + 1);

		memset(deep, '[', n);
		memset(deep + n, ']', n);
		deep[2 * n] = '\0';
		CHECK(parse_text(deep, &out) == -EINVAL, "deep nesting accepted");
		free(deep);
	}
}

struct bad_case {
	mutate_fn fn;
	const char *arg;
	const char *expect; /* in the warning */
};

static void check_bad_cases(const struct bad_case *cases, size_t n)
{
	struct xwgp_cache out;

	for (size_t i = 0; i < n; i++) {
		char *t = mutated(cases[i].fn, cases[i].arg);
		int ret = parse_text(t, &out);

		CHECK(ret == -EINVAL, "`%s' accepted", cases[i].arg);
		CHECK(out.n_sessions == 0 && out.n_peers == 0, "`%s' left entries", cases[i].arg);
		CHECK(strstr(errs, cases[i].expect) && strstr(errs, "/test/cache.json"),
		      "`%s': warning `%s' lacks `%s'", cases[i].arg, errs, cases[i].expect);
		free(t);
	}
}

TEST(wrong_types)
{
	static const struct bad_case cases[] = {
		{ set_session_field, "client_proxy_index=\"1\"",
		  "sessions[0].client_proxy_index: not a number" },
		{ set_session_field, "flags=true", "sessions[0].flags: not a number" },
		{ set_session_field, "client=5", "sessions[0].client: not a string" },
		{ set_session_field, "server=null", "sessions[0].server: not a string" },
		{ set_session_field, "client_pubkey=[]", "sessions[0].client_pubkey: not a string" },
		{ set_session_field, "client_pubkey=\"abc\"", "not a base64 WireGuard key" },
		{ set_session_field, "sent_mac1=\"zz\"", "sessions[0].sent_mac1" },
		{ set_session_field, "sent_mac1=\"0011\"", "not 32 hex digits" },
		{ set_session_field, "client=\"not an address\"", "sessions[0].client: `not an" },
		{ set_session_field, "server=\":1000\"", "sessions[0].server" },
		{ set_session_field, "csvl=0", "sessions[0].csvl: not a level" },
		{ set_session_field, "ssvl=4", "sessions[0].ssvl: not a level" },
		{ set_session_field, "flags=128", "sessions[0].flags: unknown bits" },
		{ set_session_field, "client_proxy_index=0", "0 is not a valid index" },
		{ set_session_field, "server_proxy_index=0", "0 in an established session" },
		{ set_session_field, "last_seen_age_ms=-1", "sessions[0].last_seen_age_ms" },
		{ set_session_field, "c2s_bytes=1.5", "not an integer" },
		{ set_root_field, "sessions={}", "sessions: not an array" },
		{ set_root_field, "sessions=[1]", "sessions[0]: not an object" },
		{ set_root_field, "peers=\"x\"", "peers: not an array" },
		{ set_root_field, "written=[]", "written: not an object" },
		{ set_root_field, "version=2", "version: 2 is not supported" },
		{ set_root_field, "version=\"1\"", "version: not a number" },
		{ set_root_field, "upstream_port=-5", "upstream_port" },
		/* The writer never writes null: a wrong type, even where a key is optional. */
		{ set_session_field, "established_age_ms=null",
		  "sessions[0].established_age_ms: not a number" },
		{ set_peer_field, "cookie=null", "peers[0].cookie: not a string" },
		{ set_peer_field, "cookie_age_ms=null", "peers[0].cookie_age_ms: not a number" },
		{ set_root_field, "written=null", "written: not an object" },
	};

	check_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

TEST(huge_numbers)
{
	static const struct bad_case cases[] = {
		{ set_session_field, "client_proxy_index=4294967296", "client_proxy_index" },
		{ set_session_field, "client_origin_index=1e300", "client_origin_index" },
		{ set_session_field, "c2s_packets=1e999", "c2s_packets" }, /* inf */
		{ set_session_field, "c2s_bytes=-1e999", "c2s_bytes" },
		{ set_session_field, "s2c_bytes=9007199254740994", "s2c_bytes" }, /* 2^53 + 2 */
		{ set_session_field, "handshake_age_ms=1e20", "handshake_age_ms" },
		{ set_session_field, "flags=256", "flags" },
		{ set_root_field, "upstream_port=65536", "upstream_port" },
		{ set_root_field, "version=18446744073709551616", "version" },
	};

	check_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * Ages beyond the writer's boot clock are corrupt, not old: 18446744073710 ms
 * ("584 years") made nanoseconds wraps to 448384 ns, and a handshake that
 * old restored as fresh. clock_a wrote the file at boottime 1,000,000 ms.
 */
TEST(ages_out_of_range)
{
	static const struct bad_case cases[] = {
		{ set_session_field, "handshake_age_ms=18446744073710",
		  "sessions[0].handshake_age_ms: age 18446744073710 ms is older than the boot" },
		{ set_session_field, "handshake_age_ms=9007199254740992", "handshake_age_ms: age" },
		{ set_session_field, "created_age_ms=1000001", "sessions[0].created_age_ms: age 1000001" },
		{ set_session_field, "last_seen_age_ms=1000001", "sessions[0].last_seen_age_ms" },
		{ set_session_field, "established_age_ms=1000001", "sessions[0].established_age_ms" },
		{ set_peer_field, "cookie_age_ms=18446744073710", "peers[0].cookie_age_ms: age" },
		{ set_written_field, "boottime_ms=18446744073710", "written.boottime_ms: `1.84467e+13'" },
		{ set_written_field, "realtime_ms=9007199254740992", "written.realtime_ms" },
	};
	struct cache_clock later = clock_a;
	struct xwgp_cache out;
	char *t;

	check_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));

	/* As old as the boot it was written in: valid, and expired (not restored). */
	t = mutated(set_session_field, "handshake_age_ms=1000000");
	CHECK(parse_text(t, &out) == 0, "%s", errs);
	CHECK(out.n_sessions == 1 && out.sessions[0].s.client_proxy_index == 0x0a0b0c0d,
	      "%zu sessions: the 1000 s old handshake was restored", out.n_sessions);
	cache_free(&out);
	free(t);

	/* A downtime near 2^64 ns (the wall clock jumped) saturates instead of wrapping. */
	strcpy(later.boot_id, "99999999-2222-3333-4444-555555555555");
	later.real_ns = UINT64_MAX - 1000;
	t = valid_text();
	CHECK(parse_len(t, strlen(t), &later, &out) == 0, "%s", errs);
	CHECK(out.n_sessions == 0, "%zu sessions restored after ~584 years down", out.n_sessions);
	CHECK(out.n_peers == 2 && out.peers[0].st.cookie_ns == 0, "the cookie survived");
	cache_free(&out);
	free(t);
}

/* Three broken fields: the first one is told, once; the rest follow from it. */
static void break_three(cJSON *root, const char *arg)
{
	(void)arg;
	set_session_field(root, "client_proxy_index=\"1\"");
	set_session_field(root, "client=5");
	set_root_field(root, "peers=\"x\"");
}

TEST(first_problem_only)
{
	struct xwgp_cache out;
	char *t = mutated(break_three, NULL);
	size_t lines = 0;

	CHECK(parse_text(t, &out) == -EINVAL, "three broken fields accepted");
	for (const char *c = errs; *c; c++)
		lines += *c == '\n';
	CHECK(lines == 1 && strstr(errs, "warning: cache file /test/cache.json: "
					 "sessions[0].client_proxy_index: not a number; "
					 "starting with an empty session table\n"),
	      "%zu lines: `%s'", lines, errs);
	free(t);
}

TEST(missing_fields)
{
	static const char *const session_fields[] = {
		"client_proxy_index", "client_origin_index", "server_proxy_index",
		"server_origin_index", "flags", "csvl", "ssvl", "client", "client_local", "server",
		"server_local", "created_age_ms", "last_seen_age_ms", "handshake_age_ms",
		"c2s_packets", "c2s_bytes", "s2c_packets", "s2c_bytes", "client_pubkey",
		"server_pubkey", "sent_mac1", "client_mac1",
	};
	static const char *const root_fields[] = { "version", "written", "upstream_port",
						   "sessions", "peers" };
	static const char *const peer_fields[] = { "server_pubkey", "client_pubkey", "last_tai64n",
						   "cookie", "cookie_age_ms" };
	struct xwgp_cache out;
	char want[96];

	for (size_t i = 0; i < sizeof(session_fields) / sizeof(session_fields[0]); i++) {
		char *t = mutated(drop_session_field, session_fields[i]);

		snprintf(want, sizeof(want), "sessions[0].%s: missing", session_fields[i]);
		CHECK(parse_text(t, &out) == -EINVAL && strstr(errs, want), "without %s: `%s'",
		      session_fields[i], errs);
		free(t);
	}
	for (size_t i = 0; i < sizeof(root_fields) / sizeof(root_fields[0]); i++) {
		char *t = mutated(drop_root_field, root_fields[i]);

		snprintf(want, sizeof(want), "%s: missing", root_fields[i]);
		CHECK(parse_text(t, &out) == -EINVAL && strstr(errs, want), "without %s: `%s'",
		      root_fields[i], errs);
		free(t);
	}
	/* peers[0] has a cookie: cookie and its age go together. */
	for (size_t i = 0; i < sizeof(peer_fields) / sizeof(peer_fields[0]); i++) {
		char *t = mutated(drop_peer_field, peer_fields[i]);

		snprintf(want, sizeof(want), "peers[0].%s", peer_fields[i]);
		CHECK(parse_text(t, &out) == -EINVAL && strstr(errs, want), "without %s: `%s'",
		      peer_fields[i], errs);
		free(t);
	}
	/* Optional: an unestablished session has no established_age_ms. */
	{
		char *t = mutated(drop_session_field, "established_age_ms");

		CHECK(parse_text(t, &out) == 0, "established_age_ms is optional: %s", errs);
		CHECK(out.sessions[0].m.established_ns == 0, "established time made up");
		cache_free(&out);
		free(t);
	}
}

/* ---- files ------------------------------------------------------------------------- */

TEST(atomic_write_and_load)
{
	char dir[] = "/tmp/xwgp-cache-test.XXXXXX", path[320], sub[256];
	struct xwgp_cache out;
	struct cache_clock now;
	struct stat st;
	DIR *d;
	struct dirent *e;
	int files = 0;
	char *t = valid_text();

	CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	snprintf(path, sizeof(path), "%s/inst.json", sub);
	CHECK(xwgp_write_atomic(path, "old") == 0, "first write");
	CHECK(xwgp_write_atomic(path, t) == 0, "overwrite");
	CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700, "directory mode %o",
	      st.st_mode & 0777);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "file mode %o",
	      st.st_mode & 0777);
	CHECK((size_t)st.st_size == strlen(t), "size %lld", (long long)st.st_size);
	d = opendir(sub);
	while (d && (e = readdir(d)))
		files += e->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK(files == 1, "%d files left in the directory (temp files?)", files);

	now = clock_a;
	CHECK(cache_load(path, &now, &out) == 0 && out.n_sessions == 2, "load");
	cache_free(&out);
	snprintf(sub, sizeof(sub), "%s/missing.json", dir);
	CHECK(cache_load(sub, &now, &out) == -ENOENT && out.n_sessions == 0, "missing file");

	/* A file cut short on disk (power loss without the atomic rename). */
	{
		struct capture cap;
		int fd = open(path, O_WRONLY | O_TRUNC);

		CHECK(fd >= 0 && write(fd, t, 57) == 57, "truncate");
		close(fd);
		capture_start(&cap, 2);
		CHECK(cache_load(path, &now, &out) == -EINVAL, "truncated file accepted");
		free(errs);
		errs = capture_end(&cap);
		CHECK(strstr(errs, path) && strstr(errs, "at byte"), "warning `%s'", errs);
	}
	unlink(path);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	rmdir(sub);
	rmdir(dir);
	free(t);
}

/*
 * The loop's writer thread (cache_writer.h): it takes the snapshot over,
 * writes exactly what cache_format says as of the snapshot's clock, reports
 * a failed write, and refuses a second snapshot while one is being written.
 */
TEST(writer_thread)
{
	char dir[] = "/tmp/xwgp-cache-writer.XXXXXX", path[320], *want, *got = NULL;
	struct cache_writer cw = {};
	struct xwgp_cache c, c2, out;
	struct cache_clock now = clock_a;
	size_t len = 0;
	FILE *f;

	CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/inst.json", dir);
	make_cache(&c);
	c.taken = clock_a;
	want = cache_format(&c, &clock_a);
	CHECK(cache_writer_start(&cw, &c, path) == 0, "start");
	CHECK(c.n_sessions == 0 && !c.sessions && !c.peers, "the snapshot was not taken over");
	cache_writer_wait(&cw);
	CHECK(!cache_writer_busy(&cw) && cw.err == 0 && cw.took_ns > 0, "busy %d err %d took %llu",
	      cache_writer_busy(&cw), cw.err, (unsigned long long)cw.took_ns);
	f = fopen(path, "r");
	CHECK(f && getdelim(&got, &len, 0, f) > 0, "read back");
	if (f)
		fclose(f);
	CHECK(want && got && strcmp(want, got) == 0, "file differs from cache_format's text");
	CHECK(cache_load(path, &now, &out) == 0 && out.n_sessions == 2 && out.n_peers == 2, "load");
	cache_free(&out);

	/* Busy: a second snapshot is left to the caller, untouched. */
	make_cache(&c2);
	__atomic_store_n(&cw.busy, true, __ATOMIC_RELAXED);
	CHECK(cache_writer_start(&cw, &c2, path) == -EBUSY && c2.n_sessions == 2, "busy writer");
	__atomic_store_n(&cw.busy, false, __ATOMIC_RELAXED);

	/* A write that fails says so (here: a path under a regular file). */
	snprintf(path, sizeof(path), "%s/inst.json/x.json", dir);
	CHECK(cache_writer_start(&cw, &c2, path) == 0, "start 2");
	cache_writer_wait(&cw);
	CHECK(cw.err < 0, "a write under a regular file succeeded");
	free(want);
	free(got);
	snprintf(path, sizeof(path), "%s/inst.json", dir);
	unlink(path);
	rmdir(dir);
}

/* Load path, capturing the warnings into errs. */
static int load_captured(const char *path, struct xwgp_cache *out)
{
	struct cache_clock now = clock_a;
	struct capture cap;
	int ret;

	capture_start(&cap, 2);
	ret = cache_load(path, &now, out);
	free(errs);
	errs = capture_end(&cap);
	return ret;
}

/*
 * Sessions steer traffic: a file someone else could have written is not
 * read. The directory must be ours and not writable by others (sticky is
 * enough); readable by others only warns.
 */
TEST(untrusted_file_or_directory)
{
	char dir[] = "/tmp/xwgp-cache-trust.XXXXXX", path[320];
	struct xwgp_cache out;
	char *t = valid_text();

	CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/inst.json", dir);
	CHECK(xwgp_write_atomic(path, t) == 0, "write");
	CHECK(load_captured(path, &out) == 0 && out.n_sessions == 2 && !strstr(errs, "mode"),
	      "a 0700 directory: `%s'", errs);
	cache_free(&out);

	CHECK(chmod(dir, 0770) == 0);
	CHECK(load_captured(path, &out) == -EPERM && out.n_sessions == 0,
	      "a group-writable directory trusted");
	CHECK(strstr(errs, dir) && strstr(errs, "mode 0770") && strstr(errs, "not trusted"),
	      "warning `%s'", errs);
	CHECK(chmod(dir, 01777) == 0);
	CHECK(load_captured(path, &out) == 0 && out.n_sessions == 2 && strstr(errs, "not 0700"),
	      "a sticky directory: our file cannot be replaced: `%s'", errs);
	cache_free(&out);
	CHECK(chmod(dir, 0755) == 0);
	CHECK(load_captured(path, &out) == 0 && out.n_sessions == 2 &&
		      strstr(errs, "mode 0755, not 0700"),
	      "a listable directory: loaded with a warning: `%s'", errs);
	cache_free(&out);
	CHECK(chmod(dir, 0700) == 0);

	CHECK(chmod(path, 0622) == 0);
	CHECK(load_captured(path, &out) == -EPERM && strstr(errs, "writable by group or others") &&
		      strstr(errs, "mode 0622"),
	      "a world-writable file: `%s'", errs);
	CHECK(chmod(path, 0600) == 0);

	if (geteuid() == 0) {
		CHECK(chown(path, 12345, 12345) == 0);
		CHECK(load_captured(path, &out) == -EPERM && strstr(errs, "owned by uid 12345"),
		      "another user's file: `%s'", errs);
		CHECK(chown(path, 0, 0) == 0 && chown(dir, 12345, 12345) == 0);
		CHECK(load_captured(path, &out) == -EPERM && strstr(errs, "directory") &&
			      strstr(errs, "owned by uid 12345"),
		      "another user's directory: `%s'", errs);
		CHECK(chown(dir, 0, 0) == 0);
		CHECK(load_captured(path, &out) == 0 && out.n_sessions == 2, "back to ours");
		cache_free(&out);
	} else {
		printf("# owner checks skipped: chown needs root\n");
	}
	unlink(path);
	rmdir(dir);
	free(t);
}

TEST(resolve_path)
{
	char buf[256];

	unsetenv("XWGP_CACHE_FILE");
	CHECK(cache_resolve_path(buf, sizeof(buf), "/cli.json", "/cfg.json", "x") == 0 &&
		      !strcmp(buf, "/cli.json"),
	      "%s", buf);
	setenv("XWGP_CACHE_FILE", "/env.json", 1);
	CHECK(cache_resolve_path(buf, sizeof(buf), "/cli.json", "/cfg.json", "x") == 0 &&
		      !strcmp(buf, "/cli.json"),
	      "cli beats env: %s", buf);
	CHECK(cache_resolve_path(buf, sizeof(buf), NULL, "/cfg.json", "x") == 0 &&
		      !strcmp(buf, "/env.json"),
	      "env beats config: %s", buf);
	unsetenv("XWGP_CACHE_FILE");
	CHECK(cache_resolve_path(buf, sizeof(buf), NULL, "/cfg.json", "x") == 0 &&
		      !strcmp(buf, "/cfg.json"),
	      "config: %s", buf);
	CHECK(cache_resolve_path(buf, sizeof(buf), NULL, NULL, "inst") == 0, "default");
	if (geteuid() == 0)
		CHECK(!strcmp(buf, "/var/cache/xwgp/inst.json"), "root default %s", buf);
	else
		CHECK(strstr(buf, "/xwgp/inst.json"), "user default %s", buf);
	CHECK(cache_resolve_path(buf, 8, "/a/very/long/path.json", NULL, "x") == -ENAMETOOLONG,
	      "long path");
}

/* ---- the config check ---------------------------------------------------------------- */

TEST(config_check)
{
	struct xwgp_server_config cfg = {};
	struct cache_session cs;
	const char *why = NULL;

	CHECK(load_config(&cfg), "config");
	make_session(&cs, 1, CLI0, PUB0, "192.0.2.1:1000");
	CHECK(xwgp_session_cfg_check(&cfg, &cs.s, &cs.m, &why), "exact peer: %s", why);
	make_session(&cs, 1, CLI2, PUB0, "192.0.2.1:1003");
	CHECK(xwgp_session_cfg_check(&cfg, &cs.s, &cs.m, &why), "fallback peer: %s", why);
	make_session(&cs, 1, CLI0, PUB0, "192.0.2.1:1003");
	CHECK(!xwgp_session_cfg_check(&cfg, &cs.s, &cs.m, &why) && strstr(why, "elsewhere"),
	      "CLI0 now to :1003 (the fallback's backend) accepted");
	make_session(&cs, 1, CLI1, PUB1, "192.0.2.2:1002");
	CHECK(xwgp_session_cfg_check(&cfg, &cs.s, &cs.m, &why), "server B: %s", why);
	make_session(&cs, 1, CLI0, PUB1, "192.0.2.2:1002");
	CHECK(!xwgp_session_cfg_check(&cfg, &cs.s, &cs.m, &why) && strstr(why, "no peer"),
	      "CLI0 under server B (no fallback) accepted");
	make_session(&cs, 1, CLI0, CLI1, "192.0.2.1:1000");
	CHECK(!xwgp_session_cfg_check(&cfg, &cs.s, &cs.m, &why) && strstr(why, "server key"),
	      "unknown server key accepted");
	config_free_server(&cfg);
}

/* ---- maps ----------------------------------------------------------------------------- */

struct test_maps {
	struct xwgp_maps m;
	struct wgit w;
};

static int maps_create(struct test_maps *t)
{
	int err;

	memset(&t->m, 0xff, sizeof(t->m)); /* every fd -1 */
	err = xwgp_maps_create_wgit(&t->m, 64); /* the arrays, mapped as the agent maps them */
	t->m.peer_state = bpf_map_create(BPF_MAP_TYPE_HASH, "t_peer", sizeof(struct xwgp_peer_key),
					 sizeof(struct xwgp_peer_state), 64, NULL);
	memset(&t->w, 0, sizeof(t->w));
	t->w.maps = &t->m;
	if (err || t->m.peer_state < 0)
		return -EPERM;
	return 0;
}

static void maps_destroy(struct test_maps *t)
{
	wgit_slots_free(&t->w);
	xwgp_maps_close(&t->m);
}

TEST(restore_collect_prune)
{
	struct xwgp_server_config cfg = {};
	struct test_maps t;
	struct xwgp_cache c = {}, back;
	struct cache_session cs;
	struct cache_peer p = {};
	struct xwgp_session got;
	uint32_t idx;
	struct capture cap;
	int n;

	if (maps_create(&t)) {
		maps_destroy(&t);
		SKIP("cannot create BPF maps (needs root/CAP_BPF)");
	}
	CHECK(load_config(&cfg), "config");
	/* 1: valid (exact), 2: valid (fallback), 3: forward_to changed, 4: unknown server. */
	make_session(&cs, 1, CLI0, PUB0, "192.0.2.1:1000");
	cache_add_session(&c, &cs.s, &cs.m);
	make_session(&cs, 2, CLI2, PUB0, "192.0.2.1:1003");
	cache_add_session(&c, &cs.s, &cs.m);
	make_session(&cs, 3, CLI1, PUB1, "192.0.2.2:9999");
	cache_add_session(&c, &cs.s, &cs.m);
	make_session(&cs, 4, CLI0, CLI1, "192.0.2.1:1000");
	cache_add_session(&c, &cs.s, &cs.m);
	/* 5: same client index as 1: a duplicate in a corrupt file. */
	make_session(&cs, 1, CLI0, PUB0, "192.0.2.1:1000");
	cache_add_session(&c, &cs.s, &cs.m);
	key(p.k.server_pub, PUB0);
	key(p.k.client_pub, CLI0);
	memset(p.st.last_tai64n, 9, 12);
	cache_add_peer(&c, &p.k, &p.st);
	key(p.k.server_pub, CLI2); /* not a configured server */
	cache_add_peer(&c, &p.k, &p.st);

	capture_start(&cap, 2);
	n = cache_restore(&t.w, &c, &cfg, 40000);
	free(capture_end(&cap));
	CHECK(n == 2, "restored %d sessions, want 2", n);
	CHECK(count_sessions(&t.m) == 2 && count_metas(&t.m) == 2,
	      "maps hold %d sessions, %d metas", count_sessions(&t.m), count_metas(&t.m));
	/*
	 * CLI0's state from the file, and the state recording session 2 for the
	 * fallback client CLI2 (the per-key cap counts restored sessions); none
	 * for the unconfigured server.
	 */
	CHECK(count_keys(t.m.peer_state, 64) == 2, "%d peer states",
	      count_keys(t.m.peer_state, 64));
	{
		struct xwgp_peer_state st;
		static const uint8_t zero[12];

		key(p.k.server_pub, PUB0);
		key(p.k.client_pub, CLI0);
		CHECK(wgit_peer_get(&t.w, &p.k, &st) == 0 && st.last_tai64n[0] == 9 &&
			      st.sessions[0] == 1 && !st.sessions[1],
		      "CLI0's state: tai64n %u, sessions %#x %#x", st.last_tai64n[0], st.sessions[0],
		      st.sessions[1]);
		key(p.k.client_pub, CLI2);
		CHECK(wgit_peer_get(&t.w, &p.k, &st) == 0 && !memcmp(st.last_tai64n, zero, 12) &&
			      st.sessions[0] == 2 && !st.sessions[1],
		      "CLI2's tracking state: sessions %#x %#x", st.sessions[0], st.sessions[1]);
	}
	CHECK(wgit_session_get(&t.w, 1, &got) == 0, "session 1 missing");
	CHECK(ntohs(got.server_local.port) == 40000, "server local port %u not moved",
	      ntohs(got.server_local.port));
	CHECK(got.c2s_packets == 1001, "counters lost");
	idx = got.server_proxy_index;
	CHECK(wgit_session_by_server_index(&t.w, idx, &got) == 0 && got.client_proxy_index == 1,
	      "server index of session 1 missing");

	/* Collect gives back what is in the maps. */
	CHECK(cache_collect(&t.w, &back) == 0, "collect");
	CHECK(back.n_sessions == 2 && back.n_peers == 2, "collected %zu sessions, %zu peers",
	      back.n_sessions, back.n_peers);
	cache_free(&back);

	/* Reload: CLI0's peer now forwards elsewhere; the fallback session stays. */
	{
		struct xwgp_server_config cfg2 = {};
		char *j = strdup(config_json), *at = strstr(j, ":1000");
		struct capture cap2;

		memcpy(at, ":2000", 5);
		capture_start(&cap2, 2);
		CHECK(config_parse_server(j, "<test>", &cfg2) == 0, "config 2");
		n = reload_prune(&t.w, &cfg2);
		free(capture_end(&cap2));
		CHECK(n == 1, "pruned %d sessions, want 1", n);
		CHECK(wgit_session_get(&t.w, 1, &got) == -ENOENT, "session 1 survived");
		CHECK(wgit_session_by_server_index(&t.w, idx, &got) == -ENOENT,
		      "its server index survived");
		CHECK(wgit_session_get(&t.w, 2, &got) == 0, "the fallback session was removed");
		CHECK(count_keys(t.m.peer_state, 64) == 2, "peer state of a kept server removed");
		config_free_server(&cfg2);
		free(j);
	}
	cache_free(&c);
	config_free_server(&cfg);
	maps_destroy(&t);
}

/*
 * A cache written by WGIT v1 (random indexes, hash maps): a session whose
 * indexes name one free slot of the array keeps them (its client and
 * backend go on using them); a slot already taken, two indexes in two
 * slots, 0 or the STUN cookie: dropped (the client re-handshakes).
 */
TEST(restore_v1_indexes_into_slots)
{
	struct xwgp_server_config cfg = {};
	struct xwgp_cache c = {};
	struct cache_session cs;
	struct xwgp_session got;
	struct test_maps t;
	struct capture cap;
	char *log;
	int n;

	if (maps_create(&t)) {
		maps_destroy(&t);
		SKIP("cannot create BPF maps (needs root/CAP_BPF)");
	}
	CHECK(load_config(&cfg), "config");
	/* 64 slots: slot = index & 0x3f. */
	make_session(&cs, 0x8c3a9f05, CLI0, PUB0, "192.0.2.1:1000"); /* slot 5, unanswered */
	cs.s.flags = 0;
	cs.s.server_proxy_index = cs.s.server_origin_index = 0;
	cache_add_session(&c, &cs.s, &cs.m);
	make_session(&cs, 0x11111107, CLI0, PUB0, "192.0.2.1:1000"); /* slot 7 both sides */
	cs.s.server_proxy_index = 0x99999947;
	cache_add_session(&c, &cs.s, &cs.m);
	make_session(&cs, 0x22222208, CLI0, PUB0, "192.0.2.1:1000"); /* slots 8 and 9 */
	cs.s.server_proxy_index = 0x33333309;
	cache_add_session(&c, &cs.s, &cs.m);
	make_session(&cs, 0x77777705, CLI2, PUB0, "192.0.2.1:1003"); /* slot 5 again */
	cache_add_session(&c, &cs.s, &cs.m);
	make_session(&cs, 0x42a41221, CLI2, PUB0, "192.0.2.1:1003"); /* the STUN cookie */
	cs.s.server_proxy_index = 0x00001221;
	cache_add_session(&c, &cs.s, &cs.m);
	make_session(&cs, 0, CLI2, PUB0, "192.0.2.1:1003");
	cache_add_session(&c, &cs.s, &cs.m);
	make_session(&cs, 0x1000, CLI2, PUB0, "192.0.2.1:1003"); /* slot 0, server index 0x12345600 */
	cs.s.server_proxy_index = 0x1001;			    /* slot 1 */
	cache_add_session(&c, &cs.s, &cs.m);

	capture_start(&cap, 2);
	n = cache_restore(&t.w, &c, &cfg, 40000);
	log = capture_end(&cap);
	CHECK(n == 2, "restored %d sessions, want 2", n);
	CHECK(log && strstr(log, "1 in a slot already taken, 4 with indexes this table cannot hold"),
	      "log: %s", log ? log : "");
	free(log);
	CHECK(count_sessions(&t.m) == 2, "%d sessions in the array", count_sessions(&t.m));
	CHECK(wgit_session_get(&t.w, 0x8c3a9f05, &got) == 0 && !(got.flags & XWGP_SF_ESTABLISHED),
	      "the unanswered session lost its index");
	CHECK(wgit_session_get(&t.w, 0x11111107, &got) == 0 && got.server_proxy_index == 0x99999947,
	      "the established session lost its indexes");
	CHECK(wgit_session_by_server_index(&t.w, 0x99999947, &got) == 0 &&
		      got.client_proxy_index == 0x11111107,
	      "the backend's view of it is gone");
	/* A stale generation of a restored slot names nothing. */
	CHECK(wgit_session_get(&t.w, 0x77777705, &got) == -ENOENT, "slot 5 answers another index");
	CHECK(wgit_session_get(&t.w, 0x22222208, &got) == -ENOENT, "split session restored");
	/* A new session takes a free slot, never 5 or 7. */
	{
		struct xwgp_session s = {};
		struct xwgp_session_meta m = {};

		s.client_origin_index = 0x11111107;
		CHECK(wgit_session_create(&t.w, &s, &m) == 0, "create");
		CHECK((s.client_proxy_index & 0x3f) != 5 && (s.client_proxy_index & 0x3f) != 7 &&
			      s.client_proxy_index != 0x11111107,
		      "new index %#x", s.client_proxy_index);
		CHECK(wgit_session_get(&t.w, 0x11111107, &got) == 0, "the restored one survived");
	}
	cache_free(&c);
	config_free_server(&cfg);
	maps_destroy(&t);
}

/* Every index the agent assigns carries the node id in its top bits, both sides. */
TEST(assigned_indexes_carry_node_id)
{
	struct xwgp_session_meta m = {};
	struct test_maps t;

	if (maps_create(&t)) {
		maps_destroy(&t);
		SKIP("cannot create BPF maps (needs root/CAP_BPF)");
	}
	t.w.node_id = 5;
	t.w.node_bits = 3;
	for (int i = 0; i < 64; i++) {
		struct xwgp_session s = { .client_origin_index = 100 + i };

		CHECK(wgit_session_create(&t.w, &s, &m) == 0, "create %d", i);
		CHECK(wgit_session_establish(&t.w, &s, 200 + i) == 0, "establish %d", i);
		CHECK(s.client_proxy_index >> 29 == 5 && s.server_proxy_index >> 29 == 5,
		      "indexes %#x %#x", s.client_proxy_index, s.server_proxy_index);
		CHECK((s.client_proxy_index & 63) == (s.server_proxy_index & 63), "two slots");
	}
	/* 64 slots, all taken. */
	{
		struct xwgp_session s = { .client_origin_index = 1 };

		CHECK(wgit_session_create(&t.w, &s, &m) == -ENOSPC, "a 65th session");
	}
	wgit_slots_free(&t.w);
	maps_destroy(&t);
}

/*
 * SIGHUP's config swap: the handler gets the new servers' keys, the live
 * config keeps its address (h->cfg) and the restart-only settings.
 */
TEST(reload_apply_swaps_keeps_restart_only)
{
	struct xwgp_server_config live = {}, next = {};
	struct xwgp_maps maps;
	struct handler h;
	struct capture cap;
	const char *instance;
	char *j2;
	int changed, err;

	memset(&maps, 0xff, sizeof(maps));
	CHECK(load_config(&live), "config 1");
	CHECK(handler_init(&h, &live, &maps) == 0, "handler_init");
	instance = live.instance;
	/* Config 2: server B only, another listen port and instance, obfs on. */
	j2 = strdup("{ \"listen\": \":51999\", \"instance\": \"other\", \"obfs\": \"pw\", "
		    "\"servers\": [ { \"privkey\": \"" PRIV1 "\", \"address\": \"192.0.2.3\", "
		    "\"peers\": [ { \"forward_to\": \":1\" } ] } ] }");
	capture_start(&cap, 2);
	err = config_parse_server(j2, "<test2>", &next);
	changed = err ? -1 : reload_keep_restart_only(&live, &next);
	err = err ?: reload_apply(&h, &live, &next);
	free(errs);
	errs = capture_end(&cap);
	CHECK(err == 0, "reload failed: %s", errs);
	/* pin_path follows instance by default: three settings differ. */
	CHECK(changed == 3 && strstr(errs, "`listen' changed") && strstr(errs, "`instance' changed") &&
		      strstr(errs, "`pin_path' changed"),
	      "%d restart-only changes reported: %s", changed, errs);
	CHECK(h.cfg == &live && live.n_servers == 1, "live config not swapped");
	CHECK(xwgp_ep_port(&live.listen) == 51820, "listen changed to %u",
	      xwgp_ep_port(&live.listen));
	CHECK(live.instance == instance && !strcmp(live.instance, "default"), "instance now %s",
	      live.instance);
	{
		uint8_t pub1[32];

		key(pub1, PUB1);
		CHECK(!memcmp(h.keys[0].pub, pub1, 32), "handler keys are not server B's");
	}
	CHECK(h.obfs, "obfs key not derived");
	/* next now holds the old config: two servers, and the refused instance. */
	CHECK(next.n_servers == 2 && !strcmp(next.instance, "other"), "old config not handed back");
	config_free_server(&next);
	handler_fini(&h);
	config_free_server(&live);
	free(j2);
}

/*
 * The agent's transport accounting never writes XDP's counters back: a
 * session copy read before XDP counted more packets (the race the old
 * whole-session write-back lost them in) leaves the map's counters alone,
 * even when roaming makes the agent write the endpoints; the agent's own
 * packets add to the same counters (through the mapping).
 */
TEST(agent_accounting_keeps_xdp_counters)
{
	struct test_maps t;
	struct cache_session cs;
	struct xwgp_session stale, got;
	struct xwgp_session_meta m;
	uint64_t now = 5000 * SEC;
	uint32_t idx;

	if (maps_create(&t)) {
		maps_destroy(&t);
		SKIP("cannot create BPF maps (needs root/CAP_BPF)");
	}
	make_session(&cs, 7, CLI0, PUB0, "192.0.2.1:1000");
	cs.s.c2s_packets = 10;
	cs.s.c2s_bytes = 1000;
	cs.s.last_seen_ns = now - 100 * SEC;
	CHECK(wgit_session_create(&t.w, &cs.s, &cs.m) == 0, "create");
	idx = cs.s.client_proxy_index; /* assigned by WGIT v2 */
	stale = cs.s; /* what the agent read */
	/* Meanwhile XDP forwards 5 packets of 100 bytes (its atomic adds, in the array). */
	__atomic_fetch_add(&t.m.sess[idx & 63].c2s_packets, 5, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t.m.sess[idx & 63].c2s_bytes, 500, __ATOMIC_RELAXED);
	/* A write of the session's body (establish, roaming) leaves them alone too. */
	CHECK(wgit_session_put(&t.w, &cs.s) == 0, "put");

	/* The agent forwards one of 80 bytes, from a new client port (roaming). */
	ep(&stale.client, "198.51.100.7:40999");
	stale.c2s_packets++;
	stale.c2s_bytes += 80;
	CHECK(wgit_transport_commit(&t.w, &stale, true, 80, now,
				    &(struct transport_out){ .endpoint_changed = true }) == 0,
	      "commit");
	CHECK(wgit_session_get(&t.w, idx, &got) == 0, "get");
	CHECK(got.c2s_packets == 16 && got.c2s_bytes == 1580, "counters became %llu/%llu",
	      (unsigned long long)got.c2s_packets, (unsigned long long)got.c2s_bytes);
	CHECK(xwgp_ep_port(&got.client) == 40999, "the roamed endpoint was not written");
	CHECK(got.last_seen_ns == now && got.client_seen_ns == now, "seen %llu/%llu",
	      (unsigned long long)got.last_seen_ns, (unsigned long long)got.client_seen_ns);
	CHECK(wgit_meta_get(&t.w, idx, &m) == 0 && !memcmp(m.client_pub, cs.m.client_pub, 32) &&
		      !memcmp(m.server_pub, cs.m.server_pub, 32),
	      "meta lost");
	CHECK(wgit_transport_commit(&t.w, &stale, false, 60, now, &(struct transport_out){ 0 }) == 0,
	      "commit s2c");
	CHECK(wgit_session_get(&t.w, idx, &got) == 0 && got.s2c_packets == cs.s.s2c_packets + 1 &&
		      got.s2c_bytes == cs.s.s2c_bytes + 60,
	      "s2c %llu", (unsigned long long)got.s2c_packets);

	/* Idle for XDP (100 s) but the agent forwarded just now: not expired. */
	CHECK(wgit_expire(&t.w, now + 10 * SEC, 60 * SEC) == 0, "expired while the agent forwards");
	CHECK(wgit_expire(&t.w, now + 61 * SEC, 60 * SEC) == 1, "not expired when idle for both");
	maps_destroy(&t);
}

TEST_MAIN()
