// SPDX-License-Identifier: GPL-2.0
/*
 * Config parsing (agent/config_*.c) and `xwgp check-config'. Error messages
 * are part of the behaviour: stderr is captured around each call and the
 * text is asserted. JSON in this file is written with single quotes, turned
 * into double quotes before parsing (J()), so it stays readable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "addr.h"
#include "cmds.h"
#include "config.h"
#include "capture.h"
#include "test.h"
#include "xwgp_rl.h"
#include "wg_crypto.h"

/* Key pairs: the mwgp README's (its client example names the server's public key) and wg genkey's. */
#define PRIV0 "EFt3ELmZeM/M47qFkgF4RbSOijtdHS43BNIxvxstREI="
#define PUB0 "S6hPS4iuvUKmnH3fp1TssT95XsHY3E3L4hqMZ68TknA="
#define PRIV1 "KA2fN4fanyOjfjRb12VIy067M/T5MPAecYRHnvS9Uns="
#define PUB1 "bWgRazvIPi1VzJgdzb6fuTdH+udImXH7D2dGVdjdFFY="
#define CLI0 "mCXTsTRyjQKV74eWR2Ka1LIdIptCG9K0FXlrG2NC4EQ="
#define CLI1 "WKn3Dtne0ZYj/BXa6uzqMVU+xrLIQRsPA/F/SkgFsVY="
#define CLI2 "OPdP2G4hfQasp/+/AZ6LiHJXIY62UKQQY4iNHJVJwH4="
#define OBFS "kisekimo, mahoumo, muryoudewaarimasen"

/* ---- helpers ------------------------------------------------------------- */

/* Single quotes to double quotes (a heap copy). */
static char *J(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static char *errs; /* stderr of the last parse */

/* JSON5 as written (no quote conversion). */
static int parse_server_raw(const char *json, struct xwgp_server_config *c)
{
	struct capture cap;
	int ret;

	capture_start(&cap, 2);
	ret = config_parse_server(json, "test.json", c);
	free(errs);
	errs = capture_end(&cap);
	return ret;
}

static int parse_client_raw(const char *json, struct xwgp_client_config *c)
{
	struct capture cap;
	int ret;

	capture_start(&cap, 2);
	ret = config_parse_client(json, "client.json", c);
	free(errs);
	errs = capture_end(&cap);
	return ret;
}

static int parse_server(const char *json_q, struct xwgp_server_config *c)
{
	char *j = J(json_q);
	int ret = parse_server_raw(j, c);

	free(j);
	return ret;
}

static int parse_client(const char *json_q, struct xwgp_client_config *c)
{
	char *j = J(json_q);
	int ret = parse_client_raw(j, c);

	free(j);
	return ret;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static bool is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void b64_key(const char *b64, uint8_t key[static 32])
{
	size_t len;

	sodium_base642bin(key, 32, b64, strlen(b64), NULL, &len, NULL,
			  sodium_base64_VARIANT_ORIGINAL);
}

static bool ep_is(const struct xwgp_ep *ep, const char *s)
{
	char buf[XWGP_EP_STRLEN];

	return !xwgp_ep_format(buf, sizeof(buf), ep) && !strcmp(buf, s);
}

static char tmpdir[64];

static int tmpdir_make(void)
{
	strcpy(tmpdir, "/tmp/xwgp-test-config-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -errno;
}

static void tmpdir_remove(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		if (unlink(path))
			rmdir(path);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* Write tmpdir/name with the given mode; the path goes to out. */
static int write_file(const char *name, const char *text, mode_t mode, char *out, size_t len)
{
	int fd;
	ssize_t n;

	snprintf(out, len, "%s/%s", tmpdir, name);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	fchmod(fd, mode);
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* ---- the mwgp README example --------------------------------------------- */

/* The README's server example verbatim, privkey_file pointed at %s. */
static const char readme_server[] =
	"{\n"
	"  'listen': ':1000',  // Listen address\n"
	"  'timeout': 60,      // Timeout before a forwarding entry expires, in seconds\n"
	"  'servers': [\n"
	"    {\n"
	"      'privkey': '" PRIV0 "', // The private key of the WireGuard server, which is required to decrypt the handshake_initiation message for the public_key of the client\n"
	"      'address': '192.0.2.1', // The IP address of the WireGuard server, which would be combined with the peer.'forward_to' for a completed UDP address\n"
	"      'peers': [\n"
	"        {\n"
	"          'pubkey': '" CLI0 "', // The public key of the client who would be connected to the WireGuard interface listening on the 'forward_to' address\n"
	"          'forward_to': ':1000' // The endpoint of the server WireGuard, will be combined with the server.'address' if the IP address part gets omitted\n"
	"        },\n"
	"        {\n"
	"          'pubkey': '" CLI1 "',\n"
	"          'forward_to': '192.0.2.2:1002' // A complete UDP address will also be accepted, for forwarding to another host other than the server.'address'\n"
	"        },\n"
	"        {\n"
	"          // If the 'pubkey' is not specified, it will define a 'fallback' peer which matches any unmatched public keys, this is useful for edge nodes\n"
	"          'forward_to': ':1003'\n"
	"        }\n"
	"      ]\n"
	"    },\n"
	"    {\n"
	"      // Servers with different private keys can be defined in one mwgp-server and share the listen port\n"
	"      'privkey_file': '%s', // As an alternative to the 'privkey', you can also load it from a file, just like PrivateKeyFile= in the systemd.netdev(5)\n"
	"      'address': '192.0.2.3',\n"
	"      'peers': [\n"
	"        {\n"
	"          // A client can be defined again with the same public key for another server\n"
	"          'pubkey': '" CLI0 "',\n"
	"          'forward_to': ':1000'\n"
	"        },\n"
	"        {\n"
	"          'pubkey': '" CLI2 "',\n"
	"          'forward_to': ':1001'\n"
	"        }\n"
	"      ]\n"
	"    }\n"
	"  ],\n"
	"  'obfs': '" OBFS "' // Obfuscation password (optional)\n"
	"}\n";

TEST(readme_server_example)
{
	struct xwgp_server_config c;
	char keyfile[256], json[8192];
	uint8_t k[32];
	int ret;

	CHECK(!tmpdir_make());
	/* Like PrivateKeyFile=: trailing newline allowed. */
	CHECK(!write_file("privkey", PRIV1 "\n", 0600, keyfile, sizeof(keyfile)));
	/* "//" inside the path must survive comment stripping. */
	snprintf(keyfile, sizeof(keyfile), "%s//privkey", tmpdir);
	snprintf(json, sizeof(json), readme_server, keyfile);
	ret = parse_server(json, &c);
	tmpdir_remove();
	CHECK(!ret, "ret %d, stderr: %s", ret, errs);
	CHECK(!*errs, "unexpected messages: %s", errs);

	CHECK(c.listen.family == XWGP_FAMILY_NONE && xwgp_ep_port(&c.listen) == 1000);
	CHECK(c.timeout_sec == 60);
	CHECK(c.obfs && !strcmp(c.obfs, OBFS));
	CHECK(c.n_servers == 2);

	b64_key(PRIV0, k);
	CHECK_MEM(c.servers[0].privkey, k, 32);
	b64_key(PUB0, k);
	CHECK_MEM(c.servers[0].pubkey, k, 32);
	CHECK(!c.servers[0].privkey_file);
	CHECK(ep_is(&c.servers[0].address, "192.0.2.1:0"));
	CHECK(c.servers[0].n_peers == 3);
	CHECK(c.servers[0].fallback == 2, "fallback %d", c.servers[0].fallback);
	CHECK(c.servers[0].peers[0].has_pubkey && c.servers[0].peers[1].has_pubkey);
	CHECK(!c.servers[0].peers[2].has_pubkey);
	CHECK(ep_is(&c.servers[0].peers[0].forward_to, "192.0.2.1:1000"));
	CHECK(ep_is(&c.servers[0].peers[1].forward_to, "192.0.2.2:1002"));
	CHECK(ep_is(&c.servers[0].peers[2].forward_to, "192.0.2.1:1003"));
	b64_key(CLI1, k);
	CHECK_MEM(c.servers[0].peers[1].pubkey, k, 32);

	b64_key(PRIV1, k);
	CHECK_MEM(c.servers[1].privkey, k, 32);
	b64_key(PUB1, k);
	CHECK_MEM(c.servers[1].pubkey, k, 32);
	CHECK(c.servers[1].privkey_file && !strcmp(c.servers[1].privkey_file, keyfile));
	CHECK(c.servers[1].fallback == -1);
	CHECK(ep_is(&c.servers[1].peers[0].forward_to, "192.0.2.3:1000"));
	CHECK(ep_is(&c.servers[1].peers[1].forward_to, "192.0.2.3:1001"));
	/* The same client key under two servers is fine. */
	CHECK_MEM(c.servers[1].peers[0].pubkey, c.servers[0].peers[0].pubkey, 32);
	for (size_t s = 0; s < 2; s++)
		for (size_t p = 0; p < c.servers[s].n_peers; p++)
			CHECK(c.servers[s].peers[p].csvl == XWGP_CSVL_DEFAULT &&
				      c.servers[s].peers[p].ssvl == XWGP_SSVL_DEFAULT,
			      "servers[%zu].peers[%zu] levels %u/%u", s, p,
			      c.servers[s].peers[p].csvl, c.servers[s].peers[p].ssvl);
	config_free_server(&c);
	CHECK(!c.servers && !c.obfs && !c.n_servers, "not cleared");
}

TEST(defaults)
{
	struct xwgp_server_config c;

	CHECK(!parse_server("{'listen': '203.0.113.1:51820', 'servers': [{'privkey': '" PRIV0
			    "', 'peers': [{'forward_to': '192.0.2.9:1'}]}]}",
			    &c),
	      "%s", errs);
	CHECK(ep_is(&c.listen, "203.0.113.1:51820"));
	CHECK(c.timeout_sec == XWGP_TIMEOUT_DEFAULT_SEC);
	CHECK(c.max_packet_size == XWGP_MAX_PACKET_SIZE_DEFAULT);
	CHECK(!c.obfs && !c.cache_file_path && !c.n_interfaces && !c.interfaces);
	CHECK(c.xdp_mode == XWGP_XDP_NATIVE);
	CHECK(c.instance && !strcmp(c.instance, "default"));
	CHECK(c.pin_path && !strcmp(c.pin_path, "/sys/fs/bpf/xwgp/default"), "%s", c.pin_path);
	CHECK(c.upstream.family == XWGP_FAMILY_NONE && c.upstream.port == 0);
	CHECK(c.punt_rate_pps == XWGP_PUNT_RATE_DEFAULT_PPS);
	CHECK(c.punt_burst == XWGP_PUNT_BURST_DEFAULT);
	CHECK(c.punt_ipv6_prefix == 64, "punt_ipv6_prefix %u", c.punt_ipv6_prefix);
	CHECK(c.tpunt_rate_pps == XWGP_TPUNT_RATE_DEFAULT_PPS &&
	      c.tpunt_burst == XWGP_TPUNT_BURST_DEFAULT);
	CHECK(c.max_sessions == XWGP_MAX_SESSIONS_DEFAULT);
	CHECK(c.fib_cache_ms == XWGP_FIB_CACHE_MS_DEFAULT);
	CHECK(c.servers[0].address.family == XWGP_FAMILY_NONE);
	CHECK(c.servers[0].csvl == 0 && c.servers[0].ssvl == 0);
	CHECK(c.servers[0].fallback == 0, "a peer without pubkey is the fallback");
	config_free_server(&c);
}

/* Cluster bits of WGIT v2 indexes (agent/wgit_index.h): node 5 of 8 nodes. */
TEST(node_id_keys)
{
	struct xwgp_server_config c;

	CHECK(!parse_server("{'listen': ':1', 'servers': [{'privkey': '" PRIV0
			    "', 'peers': [{'forward_to': '192.0.2.1:2'}]}], 'node_id': 5,"
			    "'node_id_bits': 3}",
			    &c),
	      "%s", errs);
	CHECK(c.node_id == 5 && c.node_id_bits == 3, "%u/%u", c.node_id, c.node_id_bits);
	config_free_server(&c);
}

TEST(xwgp_keys)
{
	struct xwgp_server_config c;

	CHECK(!parse_server("{'listen': '[2001:db8::1]:443', 'servers': [{'privkey': '" PRIV0
			    "', 'address': '2001:db8::2', 'peers': [{'forward_to': ':51820'}]}],"
			    "'interface': ['veth0', 'eth1'], 'xdp_mode': 'skb', 'instance': 'edge-1',"
			    "'upstream': '198.51.100.1:51900', 'punt_rate': 0, 'punt_burst': 7, 'fib_cache_ms': 0,"
			    "'punt_ipv6_prefix': 56, 'transport_punt_rate': 0, 'transport_punt_burst': 9,"
			    "'max_sessions': 1024, 'max_packet_size': 9000, 'timeout': 180,"
			    "'cache_file_path': '/var/cache/xwgp.json', 'obfs': ''}",
			    &c),
	      "%s", errs);
	CHECK(ep_is(&c.listen, "[2001:db8::1]:443"));
	CHECK(ep_is(&c.servers[0].peers[0].forward_to, "[2001:db8::2]:51820"));
	CHECK(c.n_interfaces == 2 && !strcmp(c.interfaces[0], "veth0") &&
	      !strcmp(c.interfaces[1], "eth1"));
	CHECK(c.xdp_mode == XWGP_XDP_SKB);
	CHECK(!strcmp(c.instance, "edge-1") && !strcmp(c.pin_path, "/sys/fs/bpf/xwgp/edge-1"));
	CHECK(ep_is(&c.upstream, "198.51.100.1:51900"));
	CHECK(c.punt_rate_pps == 0 && c.punt_burst == 7 && c.max_sessions == 1024);
	CHECK(c.punt_ipv6_prefix == 56 && c.tpunt_rate_pps == 0 && c.tpunt_burst == 9);
	CHECK(c.node_id == 0 && c.node_id_bits == 0, "node_id defaults to none");
	CHECK(c.fib_cache_ms == 0, "fib_cache_ms %u", c.fib_cache_ms);
	CHECK(c.max_packet_size == 9000 && c.timeout_sec == 180);
	CHECK(c.cache_file_path && !strcmp(c.cache_file_path, "/var/cache/xwgp.json"));
	CHECK(!c.obfs, "empty obfs means off");
	config_free_server(&c);

	CHECK(!parse_server("{'listen': ':1', 'servers': [{'privkey': '" PRIV0
			    "', 'peers': [{'forward_to': '192.0.2.1:2'}]}], 'interface': 'eth0',"
			    "'xdp_mode': 'off', 'pin_path': '/run/xwgp-pins', 'upstream': '198.51.100.1:0'}",
			    &c),
	      "%s", errs);
	CHECK(c.n_interfaces == 1 && !strcmp(c.interfaces[0], "eth0"));
	CHECK(c.xdp_mode == XWGP_XDP_OFF);
	CHECK(!strcmp(c.pin_path, "/run/xwgp-pins"));
	CHECK(ep_is(&c.upstream, "198.51.100.1:0"));
	config_free_server(&c);

	CHECK(!parse_server("{'listen': ':1', 'xdp_mode': 'auto', 'servers': [{'privkey': '" PRIV0
			    "', 'peers': [{'forward_to': '192.0.2.1:2'}]}]}",
			    &c));
	CHECK(c.xdp_mode == XWGP_XDP_AUTO);
	config_free_server(&c);
}

TEST(svl_inheritance)
{
	struct xwgp_server_config c;
	struct xwgp_peer_cfg *p;

	CHECK(!parse_server("{'listen': ':1', 'servers': ["
			    "{'privkey': '" PRIV0 "', 'address': '192.0.2.1', 'csvl': 2, 'peers': ["
			    "  {'pubkey': '" CLI0 "', 'forward_to': ':10'},"
			    "  {'pubkey': '" CLI1 "', 'forward_to': ':11', 'csvl': 3, 'ssvl': 1},"
			    "  {'pubkey': '" CLI2 "', 'forward_to': ':12', 'csvl': 0, 'ssvl': 2}]},"
			    "{'privkey': '" PRIV1 "', 'address': '192.0.2.2', 'ssvl': 1, 'peers': ["
			    "  {'forward_to': ':20'}, {'pubkey': '" CLI0 "', 'forward_to': ':21', 'csvl': 2}]}]}",
			    &c),
	      "%s", errs);
	p = c.servers[0].peers;
	CHECK(c.servers[0].csvl == 2 && c.servers[0].ssvl == 0);
	CHECK(p[0].csvl == 2 && p[0].ssvl == 3, "peer0 %u/%u", p[0].csvl, p[0].ssvl);
	CHECK(p[1].csvl == 3 && p[1].ssvl == 1, "peer1 %u/%u", p[1].csvl, p[1].ssvl);
	CHECK(p[2].csvl == 2 && p[2].ssvl == 2, "peer2 %u/%u", p[2].csvl, p[2].ssvl);
	p = c.servers[1].peers;
	CHECK(p[0].csvl == 1 && p[0].ssvl == 1, "s1 peer0 %u/%u", p[0].csvl, p[0].ssvl);
	CHECK(p[1].csvl == 2 && p[1].ssvl == 1, "s1 peer1 %u/%u", p[1].csvl, p[1].ssvl);
	config_free_server(&c);
}

TEST(comments_and_strings)
{
	struct xwgp_server_config c;

	CHECK(!parse_server("/* leading block\n comment with 'quotes' and // inside */\n"
			    "{ // a comment with a ' quote and /* opener\n"
			    "  'listen': ':1000', /* inline */ 'timeout': /* between */ 30,\n"
			    "  'obfs': 'pass//word /* not a comment */ \\' // still inside',\n"
			    "  'cache_file_path': '/var//cache/*x*/',\n"
			    "  'servers': [{'privkey': '" PRIV0 "', 'peers': [\n"
			    "    {'forward_to': '192.0.2.1:1'} // last\n"
			    "  ]}]\n"
			    "} // trailing comment without newline",
			    &c),
	      "%s", errs);
	CHECK(c.timeout_sec == 30);
	CHECK(c.obfs && !strcmp(c.obfs, "pass//word /* not a comment */ \" // still inside"),
	      "obfs `%s'", c.obfs);
	CHECK(!strcmp(c.cache_file_path, "/var//cache/*x*/"), "`%s'", c.cache_file_path);
	config_free_server(&c);
}

TEST(trailing_commas_and_bom)
{
	struct xwgp_server_config c;

	CHECK(!parse_server("\xef\xbb\xbf{'listen': ':1', 'servers': [{'privkey': '" PRIV0
			    "', 'peers': [{'forward_to': '192.0.2.1:1', /* c */ }, ], }, ],\n}",
			    &c),
	      "%s", errs);
	CHECK(c.n_servers == 1 && c.servers[0].n_peers == 1);
	config_free_server(&c);
	/* Only a comma after an element is dropped, never a lone one. */
	CHECK(parse_server("{'listen': ':1', 'interface': [,], 'servers': []}", &c) == -EINVAL);
	CHECK(strstr(errs, "line 1, column 32 (in interface[0]): expected a value near `,]"), "%s", errs);
	CHECK(parse_server("{, 'listen': ':1'}", &c) == -EINVAL);
	CHECK(strstr(errs, "line 1, column 2: expected a key"), "%s", errs);
}

/* ---- errors ---------------------------------------------------------------- */

#define S0 "'privkey': '" PRIV0 "'"
#define P0 "{'pubkey': '" CLI0 "', 'forward_to': ':1'}"
/* A valid config with one server; %s: more server keys, then more top-level keys. */
#define ONE(srv, top) "{'listen': ':1000', " top " 'servers': [{" S0 ", 'address': '192.0.2.1', " srv "}]}"

static const struct error_case {
	const char *json;
	const char *want; /* expected in stderr */
} error_cases[] = {
	{ "{'listen': ':1000', 'servers': [{" S0 ", 'address': '192.0.2.1', 'peers': [" P0 "]},"
	  "{'privkey': '" PRIV1 "', 'peers': [{'forward_to': 'foo:bar:1'}]}]}",
	  "error: test.json: servers[1].peers[0].forward_to: invalid address `foo:bar:1' (malformed address)" },
	{ ONE("'privkey_file': '/x', 'peers': [" P0 "]", ""),
	  "servers[0]: both privkey and privkey_file given" },
	{ "{'listen': ':1', 'servers': [{'peers': [" P0 "]}]}",
	  "servers[0]: privkey or privkey_file is required" },
	{ ONE("'peers': [" P0 ", {'forward_to': ':2'}, {'forward_to': ':3'}]", ""),
	  "servers[0].peers[2]: second fallback peer (peers[1] is already the fallback)" },
	{ "{'listen': ':1', 'servers': [{'privkey': 'AAAAAAAAAAAAAAAAAAAAAA==', 'peers': [" P0 "]}]}",
	  "servers[0].privkey: key is 16 bytes, want 32" },
	{ "{'listen': ':1', 'servers': [{'privkey': '', 'peers': [" P0 "]}]}",
	  "servers[0].privkey: key is 0 bytes, want 32" },
	{ "{'listen': ':1', 'servers': [{'privkey': 'EFt3ELmZeM/M47qFkgF4RbSOijtdHS43BNIxvxstREI', 'peers': [" P0 "]}]}",
	  "servers[0].privkey: invalid base64 key\n" },
	{ "{'listen': ':1', 'servers': [{'privkey': 5, 'peers': [" P0 "]}]}",
	  "servers[0].privkey: expected a string, got number" },
	{ ONE("'peers': [" P0 "]", "'timeout': '60',"), "error: test.json: timeout: expected a number, got string" },
	{ ONE("'peers': [" P0 "]", "'timeout': 0,"), "timeout: 0 is out of range (1-2147483647)" },
	{ ONE("'peers': [" P0 "]", "'timeout': -5,"), "timeout: -5 is out of range (1-2147483647)" },
	{ ONE("'peers': [" P0 "]", "'timeout': 1.5,"), "timeout: 1.5 is not an integer" },
	{ ONE("'peers': [" P0 "]", "'timeout': 1e300,"), "timeout: 1e+300 is out of range" },
	{ ONE("'peers': [" P0 "]", "'timeout': true,"), "timeout: expected a number, got boolean" },
	{ ONE("'peers': [" P0 "]", "'max_packet_size': 100,"),
	  "max_packet_size: 100 is out of range (148-65535)" },
	{ ONE("'peers': [" P0 "]", "'max_sessions': 0,"), "max_sessions: 0 is out of range (1-16777216)" },
	{ ONE("'peers': [" P0 "]", "'node_id_bits': 9,"), "node_id_bits: 9 is out of range (0-8)" },
	{ ONE("'peers': [" P0 "]", "'node_id': 8, 'node_id_bits': 3,"),
	  "node_id 8, node_id_bits 3, max_sessions 65536: node_id does not fit in node_id_bits" },
	{ ONE("'peers': [" P0 "]", "'node_id': 1,"),
	  "node_id 1, node_id_bits 0, max_sessions 65536: node_id does not fit in node_id_bits" },
	{ ONE("'peers': [" P0 "]", "'max_sessions': 16777216, 'node_id_bits': 1,"),
	  "leave fewer than 8 generation bits" },
	{ ONE("'peers': [" P0 "]", "'punt_burst': 0,"), "punt_burst: 0 is out of range" },
	{ ONE("'peers': [" P0 "]", "'punt_ipv6_prefix': 0,"),
	  "punt_ipv6_prefix: 0 is out of range (1-128)" },
	{ ONE("'peers': [" P0 "]", "'punt_ipv6_prefix': 129,"),
	  "punt_ipv6_prefix: 129 is out of range (1-128)" },
	{ ONE("'peers': [" P0 "]", "'transport_punt_burst': 0,"),
	  "transport_punt_burst: 0 is out of range" },
	{ ONE("'peers': [" P0 "]", "'transport_punt_rate': -1,"),
	  "transport_punt_rate: -1 is out of range" },
	{ ONE("'peers': [" P0 "]", "'fib_cache_ms': 1001,"), "fib_cache_ms: 1001 is out of range (0-1000)" },
	{ ONE("'peers': [" P0 "]", "'fib_cache_ms': -1,"), "fib_cache_ms" },
	{ ONE("'peers': [" P0 "]", "'punt_rate': -1,"), "punt_rate: -1 is out of range" },
	{ ONE("'peers': [{'forward_to': ':1', 'csvl': 4}]", ""),
	  "servers[0].peers[0].csvl: 4 is out of range (0-3)" },
	{ ONE("'ssvl': 'x', 'peers': [" P0 "]", ""), "servers[0].ssvl: expected a number, got string" },
	{ "{'servers': [{" S0 ", 'peers': [" P0 "]}]}", "error: test.json: listen: missing (required)" },
	{ "{'listen': '1.2.3.4', 'servers': [{" S0 ", 'peers': [" P0 "]}]}",
	  "listen: invalid address `1.2.3.4' (malformed address)" },
	{ "{'listen': ':0', 'servers': [{" S0 ", 'peers': [" P0 "]}]}",
	  "listen: invalid address `:0' (port out of range)" },
	{ "{'listen': 'localhost:1', 'servers': [{" S0 ", 'peers': [" P0 "]}]}",
	  "listen: invalid address `localhost:1' (malformed address)" },
	{ "{'listen': ['x'], 'servers': [{" S0 ", 'peers': [" P0 "]}]}",
	  "listen: expected a string, got array" },
	{ "{'listen': ':1'}", "servers: missing (required)" },
	{ "{'listen': ':1', 'servers': null}", "servers: missing (required)" },
	{ "{'listen': ':1', 'servers': []}", "servers: empty (at least one server is required)" },
	{ "{'listen': ':1', 'servers': {}}", "servers: expected an array, got object" },
	{ "{'listen': ':1', 'servers': ['x']}", "servers[0]: expected an object, got string" },
	{ "{'listen': ':1', 'servers': [{" S0 "}]}", "servers[0].peers: missing (required)" },
	{ ONE("'peers': []", ""), "servers[0].peers: empty (at least one peer is required)" },
	{ ONE("'peers': [1]", ""), "servers[0].peers[0]: expected an object, got number" },
	{ ONE("'peers': [{'pubkey': '" CLI0 "'}]", ""),
	  "servers[0].peers[0].forward_to: missing (required)" },
	{ "{'listen': ':1', 'servers': [{" S0 ", 'peers': [{'forward_to': ':1000'}]}]}",
	  "servers[0].peers[0].forward_to: `:1000' has no host and servers[0].address is not set" },
	{ ONE("'peers': [{'forward_to': '0.0.0.0:1'}]", ""),
	  "servers[0].peers[0].forward_to: `0.0.0.0:1' is a wildcard, not a destination" },
	{ ONE("'peers': [{'forward_to': '192.0.2.1:0'}]", ""),
	  "servers[0].peers[0].forward_to: invalid address `192.0.2.1:0' (port out of range)" },
	{ "{'listen': ':1', 'servers': [{" S0 ", 'address': '192.0.2.1:5', 'peers': [" P0 "]}]}",
	  "servers[0].address: invalid address `192.0.2.1:5' (malformed address)" },
	{ "{'listen': ':1', 'servers': [{" S0 ", 'address': '::', 'peers': [" P0 "]}]}",
	  "servers[0].address: `::' is a wildcard, not a server address" },
	{ ONE("'peers': [{'pubkey': 'abc', 'forward_to': ':1'}]", ""),
	  "servers[0].peers[0].pubkey: invalid base64 key `abc'" },
	{ ONE("'peers': [{'pubkey': 7, 'forward_to': ':1'}]", ""),
	  "servers[0].peers[0].pubkey: expected a string, got number" },
	{ ONE("'peers': [{'pubkey': '" CLI0 "', 'forward_to': ':1'}, {'pubkey': '" CLI1
	      "', 'forward_to': ':2'}, {'pubkey': '" CLI0 "', 'forward_to': ':3'}]", ""),
	  "servers[0].peers[2].pubkey: `" CLI0 "' is already peers[0] of this server" },
	{ "{'listen': ':1', 'servers': [{" S0 ", 'address': '192.0.2.1', 'peers': [" P0 "]},"
	  "{" S0 ", 'address': '192.0.2.2', 'peers': [" P0 "]}]}",
	  "servers[1]: same private key as servers[0]" },
	{ "{'listen': ':1', 'listen': ':2', 'servers': [{" S0 ", 'address': '192.0.2.1', 'peers': [" P0 "]}]}",
	  "error: test.json: listen: duplicate key" },
	{ ONE("'peers': [{'forward_to': ':1', 'forward_to': ':2'}]", ""),
	  "servers[0].peers[0].forward_to: duplicate key" },
	{ ONE("'peers': [" P0 "]", "'upstream': ':1000',"),
	  "upstream: port 1000 is the listen port too (they must differ)" },
	{ ONE("'peers': [" P0 "]", "'upstream': 'x:1',"), "upstream: invalid address `x:1' (malformed address)" },
	{ ONE("'peers': [" P0 "]", "'xdp_mode': 'fast',"),
	  "xdp_mode: unknown mode `fast' (want native, skb, auto or off)" },
	{ ONE("'peers': [" P0 "]", "'interface': 'eth/0',"), "interface: invalid interface name `eth/0'" },
	{ ONE("'peers': [" P0 "]", "'interface': 'abcdefghijklmnop',"),
	  "interface: invalid interface name `abcdefghijklmnop'" },
	{ ONE("'peers': [" P0 "]", "'interface': ['eth0', 'eth0'],"), "interface[1]: `eth0' is listed twice" },
	{ ONE("'peers': [" P0 "]", "'interface': ['eth0', 1],"), "interface[1]: expected a string, got number" },
	{ ONE("'peers': [" P0 "]", "'interface': 5,"),
	  "interface: expected a string or an array of strings, got number" },
	{ ONE("'peers': [" P0 "]", "'instance': '../x',"), "instance: invalid name `../x'" },
	{ ONE("'peers': [" P0 "]", "'pin_path': 'relative/dir',"),
	  "pin_path: `relative/dir' is not an absolute path" },
	{ ONE("'peers': [" P0 "]", "'obfs': 1,"), "obfs: expected a string, got number" },
	{ "['listen']", "error: test.json: top level: expected an object, got array" },
	{ "", "error: test.json: line 1, column 1: empty document: expected a value" },
	{ "  // only a comment\n", "line 2, column 1: empty document" },
	{ "{\n  'listen': ':1000' // comment, no comma\n  'timeout': 5\n}",
	  "error: test.json: line 3, column 3: expected `,' or `}' near `\"timeout\": 5'" },
	{ "{ 'listen': ':1' } /* never closed\n\n", "line 1, column 20: unterminated /* comment" },
	{ "{ 'listen': ':1' } trailing", "line 1, column 20: unexpected text after the value near `trailing'" },
	{ "{ 'listen': 'unterminated }", "line 1, column 13 (in listen): unterminated string" },
};

TEST(errors_name_path_and_value)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *e = &error_cases[i];
		struct xwgp_server_config c;
		int ret;

		memset(&c, 0x5a, sizeof(c));
		ret = parse_server(e->json, &c);
		CHECK(ret == -EINVAL, "case %zu: ret %d", i, ret);
		CHECK(strstr(errs, e->want), "case %zu: want `%s' in stderr:\n%s", i, e->want, errs);
		CHECK(is_zero(&c, sizeof(c)), "case %zu: output not cleared on error", i);
	}
}

TEST(secret_values_never_echoed)
{
	struct xwgp_server_config c;

	CHECK(parse_server("{'listen': ':1', 'servers': [{'privkey': 'sEcReT!!', 'peers': [" P0
			   "]}], 'obfs': 'pw', 'bogus': 'x'}",
			   &c) == -EINVAL);
	CHECK(strstr(errs, "servers[0].privkey: invalid base64 key"), "%s", errs);
	CHECK(!strstr(errs, "sEcReT"), "private key echoed: %s", errs);
	/* A truncated valid key is not echoed either. */
	CHECK(parse_server("{'listen': ':1', 'servers': [{'privkey': 'EFt3ELmZeM/M47qFkgF4RbSO"
			   "', 'peers': [" P0 "]}]}",
			   &c) == -EINVAL);
	CHECK(!strstr(errs, "EFt3"), "private key echoed: %s", errs);
	/* Nor a key whose string has a syntax error: the message has no `near' text. */
	CHECK(parse_server_raw("{listen: ':1', servers: [{privkey: 'EFt3ELmZeM\\1/M47qFkgF4RbSO"
			       "ijtdHS43BNIxvxstREI=', peers: [" P0 "]}]}", &c) == -EINVAL);
	CHECK(strstr(errs, "line 1, column 47 (in servers[0].privkey): invalid escape `\\1'"),
	      "%s", errs);
	CHECK(!strstr(errs, "M47q") && !strstr(errs, "EFt3"), "private key echoed: %s", errs);
	CHECK(parse_server_raw("{listen: ':1', obfs: 'pass\nword'}", &c) == -EINVAL);
	CHECK(strstr(errs, "(in obfs): line break in a string") && !strstr(errs, "word"), "%s", errs);
}

TEST(every_error_is_reported)
{
	struct xwgp_server_config c;

	CHECK(parse_server("{'listen': 'nope', 'timeout': 'x', 'servers': [{" S0
			   ", 'peers': [" P0 ", {'pubkey': '" CLI1 "', 'forward_to': 'a:b:c'}]}]}",
			   &c) == -EINVAL);
	CHECK(strstr(errs, "listen: invalid address `nope'"), "%s", errs);
	CHECK(strstr(errs, "timeout: expected a number, got string"), "%s", errs);
	CHECK(strstr(errs, "servers[0].peers[0].forward_to: `:1' has no host"), "%s", errs);
	CHECK(strstr(errs, "servers[0].peers[1].forward_to: invalid address `a:b:c'"), "%s", errs);
	CHECK(count(errs, "error: ") == 4, "%zu errors:\n%s", count(errs, "error: "), errs);
}

TEST(bad_address_does_not_cascade)
{
	struct xwgp_server_config c;

	CHECK(parse_server("{'listen': ':1', 'servers': [{" S0
			   ", 'address': 'not an ip', 'peers': [" P0 ", {'forward_to': ':2'}]}]}",
			   &c) == -EINVAL);
	CHECK(count(errs, "error: ") == 1, "%s", errs);
	CHECK(strstr(errs, "servers[0].address: invalid address `not an ip'"), "%s", errs);
}

TEST(unknown_keys_warn)
{
	struct xwgp_server_config c;

	CHECK(!parse_server("{'listen': ':1', 'bogus': 1, 'Timeout': 3, 'servers': [{" S0
			    ", 'address': '192.0.2.1', 'extra': true, 'peers': [{'forward_to': ':1', 'id': 3}]}]}",
			    &c),
	      "%s", errs);
	CHECK(strstr(errs, "warning: test.json: bogus: unknown key (ignored)"), "%s", errs);
	CHECK(strstr(errs, "warning: test.json: Timeout: unknown key (ignored)"), "%s", errs);
	CHECK(strstr(errs, "warning: test.json: servers[0].extra: unknown key (ignored)"), "%s", errs);
	CHECK(strstr(errs, "warning: test.json: servers[0].peers[0].id: unknown key (ignored)"), "%s",
	      errs);
	CHECK(!strstr(errs, "error"), "%s", errs);
	CHECK(c.timeout_sec == 60, "keys are case-sensitive");
	config_free_server(&c);
}

TEST(null_means_absent)
{
	struct xwgp_server_config c;

	CHECK(!parse_server("{'listen': ':1', 'timeout': null, 'obfs': null, 'servers': [{" S0
			    ", 'address': null, 'peers': [{'pubkey': null, 'forward_to': '192.0.2.1:1'}]}]}",
			    &c),
	      "%s", errs);
	CHECK(c.timeout_sec == 60 && !c.obfs && c.servers[0].fallback == 0);
	config_free_server(&c);
}

/* ---- privkey_file ------------------------------------------------------------ */

static int parse_with_keyfile(const char *content, mode_t mode, char *path, size_t len,
			      struct xwgp_server_config *c)
{
	char json[1024];
	int ret;

	if (tmpdir_make() || write_file("key", content, mode, path, len))
		return -EIO;
	snprintf(json, sizeof(json),
		 "{'listen': ':1', 'servers': [{'privkey_file': '%s', 'peers': [{'forward_to': "
		 "'192.0.2.1:1'}]}]}",
		 path);
	ret = parse_server(json, c);
	tmpdir_remove();
	return ret;
}

TEST(privkey_file_forms)
{
	static const char *const ok[] = { PRIV1, PRIV1 "\n", PRIV1 "\r\n", PRIV1 " \t\n\n" };
	struct xwgp_server_config c;
	char path[256];
	uint8_t k[32];

	b64_key(PUB1, k);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK(!parse_with_keyfile(ok[i], 0600, path, sizeof(path), &c), "form %zu: %s", i,
		      errs);
		CHECK_MEM(c.servers[0].pubkey, k, 32);
		CHECK(!strcmp(c.servers[0].privkey_file, path));
		CHECK(!*errs, "form %zu: %s", i, errs);
		config_free_server(&c);
	}
}

TEST(privkey_file_errors)
{
	struct xwgp_server_config c;
	char path[256], json[512], want[512];
	int ret;

	CHECK(parse_with_keyfile(" " PRIV1, 0600, path, sizeof(path), &c) == -EINVAL);
	CHECK(strstr(errs, "servers[0].privkey_file: invalid base64 key\n"), "%s", errs);
	CHECK(!strstr(errs, "KA2f"), "key echoed: %s", errs);
	CHECK(parse_with_keyfile("AAAA\n", 0600, path, sizeof(path), &c) == -EINVAL);
	CHECK(strstr(errs, "servers[0].privkey_file: key is 3 bytes, want 32"), "%s", errs);
	CHECK(parse_with_keyfile("", 0600, path, sizeof(path), &c) == -EINVAL);
	CHECK(strstr(errs, "servers[0].privkey_file: key is 0 bytes, want 32"), "%s", errs);

	ret = parse_server("{'listen': ':1', 'servers': [{'privkey_file': '/nonexistent/xwgp-key',"
			   " 'peers': [{'forward_to': '192.0.2.1:1'}]}]}",
			   &c);
	CHECK(ret == -ENOENT, "ret %d", ret);
	CHECK(strstr(errs, "error: test.json: servers[0].privkey_file: cannot read "
			   "`/nonexistent/xwgp-key': No such file or directory"),
	      "%s", errs);

	CHECK(!tmpdir_make());
	snprintf(json, sizeof(json),
		 "{'listen': ':1', 'servers': [{'privkey_file': '%s', 'peers': [{'forward_to': "
		 "'192.0.2.1:1'}]}]}",
		 tmpdir);
	ret = parse_server(json, &c);
	snprintf(want, sizeof(want), "servers[0].privkey_file: cannot read `%s': Is a directory",
		 tmpdir);
	tmpdir_remove();
	CHECK(ret == -EISDIR, "ret %d", ret);
	CHECK(strstr(errs, want), "%s", errs);
}

TEST(privkey_file_too_large)
{
	struct xwgp_server_config c;
	char path[256], big[1024];

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(parse_with_keyfile(big, 0600, path, sizeof(path), &c) == -EINVAL);
	CHECK(strstr(errs, "' is too large for a key file"), "%s", errs);
}

TEST(privkey_file_permissions_warn)
{
	struct xwgp_server_config c;
	char path[256], want[512];

	CHECK(!parse_with_keyfile(PRIV1 "\n", 0644, path, sizeof(path), &c), "%s", errs);
	snprintf(want, sizeof(want),
		 "warning: test.json: servers[0].privkey_file: `%s' is readable by group/others "
		 "(mode 0644)",
		 path);
	CHECK(strstr(errs, want), "want `%s' in:\n%s", want, errs);
	config_free_server(&c);
	CHECK(!parse_with_keyfile(PRIV1 "\n", 0640, path, sizeof(path), &c), "%s", errs);
	CHECK(strstr(errs, "(mode 0640)"), "%s", errs);
	config_free_server(&c);
	CHECK(!parse_with_keyfile(PRIV1 "\n", 0600, path, sizeof(path), &c), "%s", errs);
	CHECK(!*errs, "%s", errs);
	config_free_server(&c);
}

/* Loads path with stderr captured into errs. */
static int load_server(const char *path, struct xwgp_server_config *c)
{
	struct capture cap;
	int ret;

	capture_start(&cap, 2);
	ret = config_load_server(path, c);
	free(errs);
	errs = capture_end(&cap);
	return ret;
}

/* An inline privkey in a file others can read: warned about like a key file. */
TEST(inline_privkey_permissions_warn)
{
#define PEER "{forward_to: '192.0.2.1:1'}"
	static const char srv[] = "{listen: ':1', servers: [{privkey_file: '%s', peers: [" PEER "]},"
				  "{privkey: '" PRIV0 "', peers: [" PEER "]}]}";
	struct xwgp_server_config c;
	char key[256], path[256], json[1024], want[512];

	CHECK(!tmpdir_make());
	CHECK(!write_file("key", PRIV1 "\n", 0600, key, sizeof(key)));
	snprintf(json, sizeof(json), srv, key);
	for (int m = 0; m < 3; m++) {
		mode_t mode = m == 0 ? 0644 : m == 1 ? 0640 : 0604;

		CHECK(!write_file("inline.json5", json, mode, path, sizeof(path)));
		CHECK(!load_server(path, &c), "%s", errs);
		config_free_server(&c);
		snprintf(want, sizeof(want),
			 "warning: %s: holds servers[1].privkey inline and is readable by "
			 "group/others (mode %04o): chmod 600 it, or use privkey_file",
			 path, (unsigned int)mode);
		CHECK(strstr(errs, want) && count(errs, "warning") == 1, "want `%s' once in:\n%s",
		      want, errs);
	}
	CHECK(!write_file("inline.json5", json, 0600, path, sizeof(path)));
	CHECK(!load_server(path, &c), "%s", errs);
	config_free_server(&c);
	CHECK(!*errs, "0600: %s", errs);
	/* Keys only in files: the config itself may be world-readable. */
	snprintf(json, sizeof(json), "{listen: ':1', servers: [{privkey_file: '%s', peers: [" PEER
		 "]}]}", key);
#undef PEER
	CHECK(!write_file("byfile.json5", json, 0644, path, sizeof(path)));
	CHECK(!load_server(path, &c), "%s", errs);
	config_free_server(&c);
	tmpdir_remove();
	CHECK(!*errs, "privkey_file only: %s", errs);
}

/*
 * The private keys live in memory from sodium_allocarray(): locked (the
 * mapping's VmFlags say "lo": never swapped out) with an inaccessible guard
 * page right after the array (sodium_malloc puts the data at a page's end).
 */
static bool vma_of(uintptr_t addr, char *flags, size_t len, uintptr_t *end)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false, found = false;
	unsigned long lo, hi;

	if (!f)
		return false;
	*flags = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = addr >= lo && addr < hi;
			if (in)
				*end = hi;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, len, "%s", line + 8);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool vma_prot_none(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512], perms[8];
	unsigned long lo, hi;
	bool none = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi)
			none = !strcmp(perms, "---p");
	fclose(f);
	return none;
}

TEST(private_keys_in_locked_memory)
{
	struct xwgp_server_config c;
	char flags[256];
	uintptr_t key, end, past;

	CHECK(!parse_server("{'listen': ':1', 'servers': [{" S0 ", 'peers': [{'forward_to': "
			    "'192.0.2.1:1'}]}, {'privkey': '" PRIV1 "', 'peers': [{'forward_to': "
			    "'192.0.2.1:2'}]}]}", &c), "%s", errs);
	CHECK(c.servers[0].privkey == c.key_store &&
	      c.servers[1].privkey == c.key_store + WG_KEY_LEN, "keys outside the key store");
	key = (uintptr_t)c.key_store;
	past = (uintptr_t)(c.key_store + c.n_servers * WG_KEY_LEN);
	CHECK(vma_of(key, flags, sizeof(flags), &end), "no mapping holds the keys");
	/* The guard page: the first byte after the keys cannot be read. */
	CHECK(vma_prot_none((past + 4095) & ~(uintptr_t)4095), "no guard page after the keys");
#if defined(__SANITIZE_ADDRESS__)
	config_free_server(&c);
	SKIP("AddressSanitizer turns mlock() into a no-op: the lock is checked in the plain build");
#else
	CHECK(strstr(flags, " lo"), "keys' mapping not locked: VmFlags:%s", flags);
	config_free_server(&c);
#endif
}

/* What `xwgp server', `client' and `check-config' do first (agent/main.c). */
TEST(protect_process_not_dumpable)
{
	pid_t pid = fork();
	int status = -1;

	CHECK(pid >= 0);
	if (!pid) /* in a child: the test process itself stays debuggable */
		_exit(config_protect_process() || prctl(PR_GET_DUMPABLE) != 0);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	CHECK(prctl(PR_GET_DUMPABLE) == 1);
}

/* ---- names, scale ------------------------------------------------------------ */

TEST(host_names_resolved_at_load)
{
	struct xwgp_server_config c;
	struct xwgp_ep lo4, lo6;
	int ret;

	ret = parse_server("{'listen': ':1', 'servers': [{" S0 ", 'address': 'localhost', 'peers': ["
			   "{'pubkey': '" CLI0 "', 'forward_to': ':7'},"
			   "{'forward_to': 'localhost:8'}]}]}",
			   &c);
	if (ret && strstr(errs, "host name not found"))
		SKIP("`localhost' does not resolve here");
	CHECK(!ret, "%s", errs);
	xwgp_ep_parse("127.0.0.1:7", 0, &lo4);
	xwgp_ep_parse("[::1]:7", 0, &lo6);
	CHECK(xwgp_ep_equal(&c.servers[0].peers[0].forward_to, &lo4) ||
	      xwgp_ep_equal(&c.servers[0].peers[0].forward_to, &lo6));
	CHECK(c.servers[0].address_name && !strcmp(c.servers[0].address_name, "localhost"));
	CHECK(!c.servers[0].peers[0].forward_to_name);
	CHECK(c.servers[0].peers[1].forward_to_name &&
	      !strcmp(c.servers[0].peers[1].forward_to_name, "localhost:8"));
	config_free_server(&c);

	CHECK(parse_server("{'listen': ':1', 'servers': [{" S0
			   ", 'peers': [{'forward_to': 'no-such-host.invalid:8'}]}]}",
			   &c) == -EINVAL);
	CHECK(strstr(errs, "servers[0].peers[0].forward_to: invalid address `no-such-host.invalid:8'"),
	      "%s", errs);
}

TEST(many_peers_duplicate_found)
{
	enum { N = 20000 };
	struct xwgp_server_config c;
	char *json, *p, b64[64];
	uint8_t key[32];
	size_t cap = (size_t)N * 100 + 512;

	json = malloc(cap);
	CHECK(json);
	p = json + sprintf(json, "{'listen': ':1', 'servers': [{" S0 ", 'address': '192.0.2.1', 'peers': [");
	for (int i = 0; i < N; i++) {
		memset(key, 0, sizeof(key));
		/* Peer N-1 repeats peer 1234's key. */
		uint32_t v = i == N - 1 ? 1234 : (uint32_t)i;

		memcpy(key, &v, sizeof(v));
		key[31] = 0x40;
		sodium_bin2base64(b64, sizeof(b64), key, 32, sodium_base64_VARIANT_ORIGINAL);
		p += sprintf(p, "%s{'pubkey': '%s', 'forward_to': ':%d'}", i ? "," : "", b64,
			     1 + i % 60000);
	}
	strcpy(p, "]}]}");
	CHECK(parse_server(json, &c) == -EINVAL);
	free(json);
	CHECK(strstr(errs, "servers[0].peers[19999].pubkey: `"), "%s", errs);
	CHECK(strstr(errs, "' is already peers[1234] of this server"), "%s", errs);
	CHECK(count(errs, "error: ") == 1, "%s", errs);
}

/* ---- client -------------------------------------------------------------- */

static const char readme_client[] =
	"{\n"
	"  'server': '192.0.2.1:1000', // The endpoint of mwgp-server\n"
	"  'listen': '127.10.11.1:1000', // Listen address\n"
	"  'timeout': 60,      // Timeout before a forwarding entry expired, in seconds\n"
	"  'server_pubkey': '" PUB0 "', // The public key of the WireGuard server, required by MAC computation for the handshake messages\n"
	"  'client_pubkey': '" CLI0 "', // The public key of the WireGuard client, required by MAC computation for the handshake messages\n"
	"  'dns': '8.8.8.8:53', // The DNS server for server address resolving (optional)\n"
	"  'obfs': '" OBFS "' // Obfuscation password (optional)\n"
	"}\n";

TEST(readme_client_example)
{
	struct xwgp_client_config c;
	uint8_t k[32];

	CHECK(!parse_client(readme_client, &c), "%s", errs);
	CHECK(!*errs, "%s", errs);
	CHECK(!strcmp(c.server, "192.0.2.1:1000"));
	CHECK(!strcmp(c.server_host, "192.0.2.1") && c.server_port == 1000);
	CHECK(ep_is(&c.listen, "127.10.11.1:1000"));
	CHECK(c.timeout_sec == 60 && c.max_packet_size == 1500);
	b64_key(PUB0, k);
	CHECK_MEM(c.server_pubkey, k, 32);
	b64_key(CLI0, k);
	CHECK_MEM(c.client_pubkey, k, 32);
	CHECK(ep_is(&c.dns, "8.8.8.8:53"));
	CHECK(c.obfs && !strcmp(c.obfs, OBFS));
	CHECK(c.csvl == XWGP_CSVL_DEFAULT && c.ssvl == XWGP_SSVL_DEFAULT);
	config_free_client(&c);
	CHECK(!c.server && !c.obfs);
}

#define CLIENT(extra) "{'server': 'vpn.example.com:1000', 'listen': ':1000', 'server_pubkey': '" PUB0 "', 'client_pubkey': '" CLI0 "'" extra "}"

TEST(client_variants)
{
	struct xwgp_client_config c;

	CHECK(!parse_client(CLIENT(""), &c), "%s", errs);
	CHECK(!strcmp(c.server, "vpn.example.com:1000") && !strcmp(c.server_host, "vpn.example.com"));
	CHECK(c.server_port == 1000);
	CHECK(c.listen.family == XWGP_FAMILY_NONE && xwgp_ep_port(&c.listen) == 1000);
	CHECK(c.dns.family == XWGP_FAMILY_NONE && !c.obfs);
	config_free_client(&c);

	CHECK(!parse_client(CLIENT(", 'resolver': 'dns+udp://1.1.1.1:5353', 'csvl': 2, 'ssvl': 1"), &c),
	      "%s", errs);
	CHECK(ep_is(&c.dns, "1.1.1.1:5353"));
	CHECK(c.csvl == 2 && c.ssvl == 1);
	config_free_client(&c);

	CHECK(!parse_client(CLIENT(", 'resolver': '9.9.9.9'"), &c), "%s", errs);
	CHECK(ep_is(&c.dns, "9.9.9.9:53"));
	config_free_client(&c);

	CHECK(!parse_client("{'server': '[2001:db8::1]:7', 'listen': '[::1]:9', 'server_pubkey': '" PUB0
			    "', 'client_pubkey': '" CLI0 "', 'dns': '[2001:db8::53]:5353'}",
			    &c),
	      "%s", errs);
	CHECK(!strcmp(c.server_host, "2001:db8::1") && c.server_port == 7);
	CHECK(ep_is(&c.dns, "[2001:db8::53]:5353") && ep_is(&c.listen, "[::1]:9"));
	config_free_client(&c);
}

static const struct error_case client_errors[] = {
	{ "{'listen': ':1', 'server_pubkey': '" PUB0 "', 'client_pubkey': '" CLI0 "'}",
	  "error: client.json: server: missing (required)" },
	{ CLIENT(", 'server': 'x'"), "server: duplicate key" },
	{ "{'server': 'nohost', 'listen': ':1', 'server_pubkey': '" PUB0 "', 'client_pubkey': '" CLI0 "'}",
	  "server: invalid address `nohost' (malformed address)" },
	{ "{'server': 'a.example:0', 'listen': ':1', 'server_pubkey': '" PUB0 "', 'client_pubkey': '" CLI0 "'}",
	  "server: invalid address `a.example:0' (port out of range)" },
	{ "{'server': 'a.example:1', 'server_pubkey': '" PUB0 "', 'client_pubkey': '" CLI0 "'}",
	  "listen: missing (required)" },
	{ "{'server': 'a.example:1', 'listen': ':1', 'server_pubkey': '" PUB0 "'}",
	  "client_pubkey: missing (required)" },
	{ "{'server': 'a.example:1', 'listen': ':1', 'server_pubkey': 'xyz', 'client_pubkey': '" CLI0 "'}",
	  "server_pubkey: invalid base64 key `xyz'" },
	{ CLIENT(", 'dns': '8.8.8.8:53', 'resolver': 'dns+udp://1.1.1.1:53'"),
	  "resolver: both dns and resolver given" },
	{ CLIENT(", 'resolver': 'https://dns.example/q'"),
	  "resolver: unsupported resolver `https://dns.example/q' (want dns+udp://IP:PORT)" },
	{ CLIENT(", 'dns': 'dns.example:53'"), "dns: invalid address `dns.example:53' (malformed address)" },
	{ CLIENT(", 'timeout': 'x'"), "timeout: expected a number, got string" },
	{ CLIENT(", 'csvl': 9"), "csvl: 9 is out of range (0-3)" },
	{ CLIENT(", 'servers': []"), "warning: client.json: servers: unknown key (ignored)" },
};

TEST(client_errors_name_path_and_value)
{
	for (size_t i = 0; i < sizeof(client_errors) / sizeof(client_errors[0]); i++) {
		const struct error_case *e = &client_errors[i];
		struct xwgp_client_config c;
		int ret;

		memset(&c, 0x5a, sizeof(c));
		ret = parse_client(e->json, &c);
		if (strstr(e->want, "warning:")) {
			CHECK(!ret, "case %zu: ret %d: %s", i, ret, errs);
			config_free_client(&c);
		} else {
			CHECK(ret == -EINVAL, "case %zu: ret %d", i, ret);
			CHECK(is_zero(&c, sizeof(c)), "case %zu: output not cleared", i);
		}
		CHECK(strstr(errs, e->want), "case %zu: want `%s' in stderr:\n%s", i, e->want, errs);
	}
}

/* ---- detection, files, check-config --------------------------------------- */

TEST(detect_kind)
{
	enum xwgp_config_kind k = XWGP_CONFIG_CLIENT;
	struct capture cap;
	char *j, *out;
	int ret;

	j = J("{'servers': [], 'listen': ':1'}");
	CHECK(!config_detect_kind(j, "x", &k) && k == XWGP_CONFIG_SERVER);
	free(j);
	j = J("// client\n{'server': 'a.example:1'}");
	CHECK(!config_detect_kind(j, "x", &k) && k == XWGP_CONFIG_CLIENT);
	free(j);
	j = J("{'server': 'a:1', 'servers': []}");
	capture_start(&cap, 2);
	ret = config_detect_kind(j, "x.json", &k);
	out = capture_end(&cap);
	free(j);
	CHECK(ret == -EINVAL);
	CHECK(strstr(out, "x.json: cannot tell server from client config: both `servers' and "
			  "`server' present (use --server or --client)"),
	      "%s", out);
	free(out);
	capture_start(&cap, 2);
	ret = config_detect_kind("{}", "x.json", &k);
	out = capture_end(&cap);
	CHECK(ret == -EINVAL && strstr(out, "neither `servers' nor `server' present"), "%s", out);
	free(out);
}

TEST(load_missing_file)
{
	struct xwgp_server_config c;
	struct xwgp_client_config cc;
	struct capture cap;
	char *out;
	int ret;

	capture_start(&cap, 2);
	ret = config_load_server("/nonexistent/xwgp.json", &c);
	out = capture_end(&cap);
	CHECK(ret == -ENOENT, "ret %d", ret);
	CHECK(strstr(out, "/nonexistent/xwgp.json: cannot read: No such file or directory"), "%s", out);
	free(out);
	capture_start(&cap, 2);
	ret = config_load_client("/nonexistent/xwgp.json", &cc);
	free(capture_end(&cap));
	CHECK(ret == -ENOENT, "ret %d", ret);
}

/* The shipped examples must stay valid (tests run from the repository root). */
TEST(examples_are_valid)
{
	struct xwgp_server_config c;
	struct xwgp_client_config cc;
	struct capture cap;
	char *out;
	int r1, r2;

	char *text, path[256];

	if (access("examples/server.json", R_OK) || access("examples/client.json", R_OK))
		SKIP("not run from the repository root");
	/* Its inline key would be warned about in a file others can read (as checked out). */
	CHECK(!config_read_file("examples/server.json", &text));
	CHECK(!tmpdir_make());
	CHECK(!write_file("server.json", text, 0600, path, sizeof(path)));
	free(text);
	capture_start(&cap, 2);
	r1 = config_load_server(path, &c);
	r2 = config_load_client("examples/client.json", &cc);
	out = capture_end(&cap);
	tmpdir_remove();
	CHECK(!r1 && !r2, "%d %d: %s", r1, r2, out);
	CHECK(!*out, "%s", out);
	free(out);
	CHECK(c.n_servers == 2 && c.servers[0].fallback == 2);
	config_free_server(&c);
	config_free_client(&cc);
}

/* mwgp's README configs in JSON5 style (unquoted keys, single quotes, hex). */
TEST(json5_mwgp_readme_examples)
{
	static const char orig[] = "/etc/wireguard/private/privkey";
	struct xwgp_server_config c;
	struct xwgp_client_config cc;
	char keyfile[256], *text, *at, *json;
	uint8_t k[32];
	int ret;

	if (access("examples/mwgp-server.json5", R_OK))
		SKIP("not run from the repository root");
	CHECK(!config_read_file("examples/mwgp-server.json5", &text));
	CHECK(!tmpdir_make());
	CHECK(!write_file("privkey", PRIV1 "\n", 0600, keyfile, sizeof(keyfile)));
	at = strstr(text, orig);
	CHECK(at);
	json = malloc(strlen(text) + strlen(keyfile) + 1);
	CHECK(json);
	sprintf(json, "%.*s%s%s", (int)(at - text), text, keyfile, at + strlen(orig));
	free(text);
	ret = parse_server_raw(json, &c);
	free(json);
	tmpdir_remove();
	CHECK(!ret, "ret %d: %s", ret, errs);
	CHECK(!*errs, "%s", errs);
	CHECK(xwgp_ep_port(&c.listen) == 1000 && c.timeout_sec == 60, "timeout %u", c.timeout_sec);
	CHECK(c.n_servers == 2 && c.obfs && !strcmp(c.obfs, OBFS));
	CHECK(c.servers[0].n_peers == 3 && c.servers[0].fallback == 2);
	CHECK(ep_is(&c.servers[0].peers[0].forward_to, "192.0.2.1:1000"));
	CHECK(ep_is(&c.servers[0].peers[1].forward_to, "192.0.2.2:1002"));
	CHECK(ep_is(&c.servers[1].peers[1].forward_to, "192.0.2.3:1001"));
	b64_key(PUB1, k);
	CHECK_MEM(c.servers[1].pubkey, k, 32);
	b64_key(CLI2, k);
	CHECK_MEM(c.servers[1].peers[1].pubkey, k, 32);
	config_free_server(&c);

	CHECK(!config_read_file("examples/mwgp-client.json5", &text));
	ret = parse_client_raw(text, &cc);
	free(text);
	CHECK(!ret && !*errs, "%s", errs);
	CHECK(!strcmp(cc.server, "192.0.2.1:1000") && ep_is(&cc.listen, "127.10.11.1:1000"));
	CHECK(cc.timeout_sec == 60 && ep_is(&cc.dns, "8.8.8.8:53"));
	b64_key(PUB0, k);
	CHECK_MEM(cc.server_pubkey, k, 32);
	config_free_client(&cc);
}

/* A small valid JSON5 server config; %s: more top-level members. */
#define J5(top) "{listen: ':1000', " top " servers: [{privkey: '" PRIV0 "', peers: [{forward_to: '192.0.2.1:1'}]}]}"

/* Numbers JSON5 has and a key cannot hold get the named errors JSON ones get. */
static const struct error_case json5_value_cases[] = {
	{ J5("timeout: NaN,"), "error: test.json: timeout: nan is out of range (1-2147483647)" },
	{ J5("timeout: Infinity,"), "timeout: inf is out of range (1-2147483647)" },
	{ J5("timeout: -Infinity,"), "timeout: -inf is out of range (1-2147483647)" },
	{ J5("timeout: 1.5,"), "timeout: 1.5 is not an integer" },
	{ J5("timeout: .5,"), "timeout: 0.5 is out of range (1-2147483647)" },
	{ J5("timeout: 0x80000000,"), "timeout: 2.14748e+09 is out of range (1-2147483647)" },
	{ J5("max_packet_size: 0x10000,"), "max_packet_size: 65536 is out of range (148-65535)" },
	{ J5("punt_rate: 0x100000000,"), "punt_rate: 4.29497e+09 is out of range (0-4294967295)" },
	{ J5("max_sessions: -0x1,"), "max_sessions: -1 is out of range (1-16777216)" },
	{ J5("fib_cache_ms: 1e3, punt_burst: 1.000001,"), "punt_burst: 1 is not an integer" },
	{ J5("obfs: 'pass\\0word',"), "obfs: holds a NUL character" },
	{ J5("pin_path: '/sys/fs/bpf/x\\u0000y',"), "pin_path: holds a NUL character" },
	{ J5("timeout: 010,"), "test.json: line 1, column 28 (in timeout): leading zero in a number" },
	{ J5("xdp_mode: 'native\n',"), "test.json: line 1, column 36 (in xdp_mode): line break in a string" },
	{ J5("\\u0031st: 1,"), "line 1, column 19: \\u0031 cannot start an identifier" },
};

TEST(json5_values_named_errors)
{
	for (size_t i = 0; i < sizeof(json5_value_cases) / sizeof(json5_value_cases[0]); i++) {
		const struct error_case *e = &json5_value_cases[i];
		struct xwgp_server_config c;
		int ret = parse_server_raw(e->json, &c);

		CHECK(ret == -EINVAL, "case %zu: ret %d", i, ret);
		CHECK(strstr(errs, e->want), "case %zu: want `%s' in stderr:\n%s", i, e->want, errs);
	}
}

TEST(json5_values_accepted)
{
	struct xwgp_server_config c;
	struct xwgp_client_config cc;

	CHECK(!parse_server_raw(J5("timeout: 0x3C, max_packet_size: +1500., punt_rate: 0xFFFFFFFF,"
				   "fib_cache_ms: 5e2, 'max_sessions': 0x100,"), &c), "%s", errs);
	CHECK(c.timeout_sec == 60 && c.max_packet_size == 1500 && c.punt_rate_pps == UINT32_MAX &&
		      c.fib_cache_ms == 500 && c.max_sessions == 256);
	config_free_server(&c);
	CHECK(!parse_client_raw("{server: 'vpn.example.com:1000', listen: ':1000', timeout: 0x3c,\n"
				"server_pubkey: '" PUB0 "', client_pubkey: \"" CLI0 "\",\n"
				"csvl: 0x2, /* comment */ ssvl: +3.0,}", &cc), "%s", errs);
	CHECK(cc.timeout_sec == 60 && cc.csvl == 2 && cc.ssvl == 3);
	config_free_client(&cc);
	CHECK(parse_client_raw("{server: 'a:1', listen: ':1', timeout: NaN, server_pubkey: '" PUB0
			       "', client_pubkey: '" CLI0 "'}", &cc) == -EINVAL);
	CHECK(strstr(errs, "client.json: timeout: nan is out of range"), "%s", errs);
}

struct run_result {
	int status;
	char *out, *err;
};

static void run_check_config(struct run_result *r, int argc, const char **argv)
{
	struct capture co, ce;

	capture_start(&co, 1);
	capture_start(&ce, 2);
	r->status = cmd_check_config(argc, (char **)argv);
	r->err = capture_end(&ce);
	r->out = capture_end(&co);
}

static void run_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
}

TEST(check_config_redacts_secrets)
{
	static const char *const secrets[] = { PRIV0, PRIV1, OBFS, "EFt3ELmZeM", "KA2fN4fany",
					       "kisekimo" };
	char keyfile[256], cfg[256], json[8192], *j;
	struct run_result r;
	const char *argv[3] = { "check-config", cfg, NULL };

	CHECK(!tmpdir_make());
	CHECK(!write_file("privkey", PRIV1 "\n", 0600, keyfile, sizeof(keyfile)));
	snprintf(json, sizeof(json), readme_server, keyfile);
	j = J(json);
	CHECK(!write_file("server.json", j, 0600, cfg, sizeof(cfg)));
	free(j);
	run_check_config(&r, 2, argv);
	tmpdir_remove();
	CHECK(r.status == 0, "status %d: %s", r.status, r.err);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		CHECK(!strstr(r.out, secrets[i]), "stdout shows secret `%s':\n%s", secrets[i], r.out);
		CHECK(!strstr(r.err, secrets[i]), "stderr shows secret `%s':\n%s", secrets[i], r.err);
	}
	/* Public keys and resolved addresses are shown. */
	CHECK(strstr(r.out, PUB0) && strstr(r.out, PUB1) && strstr(r.out, CLI2), "%s", r.out);
	CHECK(strstr(r.out, "192.0.2.1:1003") && strstr(r.out, "192.0.2.3:1001"), "%s", r.out);
	CHECK(strstr(r.out, "obfs              on (password redacted)"), "%s", r.out);
	CHECK(strstr(r.out, "fallback        peers[2]"), "%s", r.out);
	CHECK(strstr(r.out, "csvl 1 (none)  ssvl 3 (ip+port)"), "%s", r.out);
	CHECK(strstr(r.out, keyfile), "privkey_file path shown: %s", r.out);
	run_free(&r);
}

TEST(check_config_errors_and_usage)
{
	char cfg[256], *j;
	struct run_result r;
	const char *argv[4] = { "check-config", cfg, NULL, NULL };
	const char *help[] = { "check-config", "--help", NULL };
	const char *none[] = { "check-config", NULL };
	const char *bad_opt[] = { "check-config", "--bogus", "x", NULL };
	const char *two[] = { "check-config", "a", "b", NULL };
	const char *client[] = { "check-config", "--client", cfg, NULL };

	CHECK(!tmpdir_make());
	j = J("{'listen': ':1', 'servers': [{'privkey': 'Zm9vYmFy', 'peers': [{'forward_to': ':1'}]}]}");
	CHECK(!write_file("bad.json", j, 0600, cfg, sizeof(cfg)));
	free(j);
	run_check_config(&r, 2, argv);
	CHECK(r.status == 1, "status %d", r.status);
	CHECK(strstr(r.err, "servers[0].privkey: key is 6 bytes, want 32"), "%s", r.err);
	CHECK(strstr(r.err, "servers[0].peers[0].forward_to: `:1' has no host"), "%s", r.err);
	CHECK(strstr(r.err, ": invalid config"), "%s", r.err);
	CHECK(!strstr(r.err, "Zm9vYmFy"), "%s", r.err);
	CHECK(!*r.out, "stdout on error: %s", r.out);
	run_free(&r);

	/* Forced client on a server config. */
	run_check_config(&r, 3, client);
	CHECK(r.status == 1 && strstr(r.err, "server: missing (required)"), "%d %s", r.status,
	      r.err);
	run_free(&r);

	j = J(CLIENT(", 'obfs': 'cl13nt-s3cret'"));
	CHECK(!write_file("client.json", j, 0600, cfg, sizeof(cfg)));
	free(j);
	run_check_config(&r, 2, argv);
	CHECK(r.status == 0, "status %d: %s", r.status, r.err);
	CHECK(strstr(r.out, "client config") && strstr(r.out, "vpn.example.com:1000"), "%s", r.out);
	CHECK(!strstr(r.out, "cl13nt-s3cret"), "%s", r.out);
	run_free(&r);

	argv[1] = "/nonexistent/x.json";
	run_check_config(&r, 2, argv);
	CHECK(r.status == 1 && strstr(r.err, "/nonexistent/x.json: cannot read: No such file"),
	      "%d %s", r.status, r.err);
	run_free(&r);
	tmpdir_remove();

	run_check_config(&r, 2, help);
	CHECK(r.status == 0 && strstr(r.out, "Usage: xwgp check-config [--server|--client] FILE"),
	      "%d %s", r.status, r.out);
	CHECK(strstr(r.out, "`servers' means a"), "help documents detection: %s", r.out);
	run_free(&r);
	run_check_config(&r, 1, none);
	CHECK(r.status == 2 && strstr(r.err, "FILE missing"), "%d %s", r.status, r.err);
	run_free(&r);
	run_check_config(&r, 3, bad_opt);
	CHECK(r.status == 2 && strstr(r.err, "unknown option `--bogus'"), "%d %s", r.status, r.err);
	run_free(&r);
	run_check_config(&r, 3, two);
	CHECK(r.status == 2 && strstr(r.err, "more than one FILE"), "%d %s", r.status, r.err);
	run_free(&r);
}

/*
 * Peer choice among many keyed peers (config_peer_for): every key finds its
 * own peer whatever its place in the file, an unknown key the fallback, and
 * without a fallback nothing.
 */
static void check_peer_choice(bool fallback)
{
	enum { N = 700 };
	static uint8_t keys[N][32];
	struct xwgp_server_config c;
	const struct xwgp_peer_cfg *p;
	size_t cap = N * 100 + 512, off = 0;
	char *json = malloc(cap), b64[45];
	uint8_t unknown[32];
	int ret;

	CHECK(json != NULL);
	off += snprintf(json + off, cap - off,
			"{'listen': ':1', 'servers': [{'privkey': '" PRIV0 "', 'address': '192.0.2.1', 'peers': [");
	for (int i = 0; i < N; i++) {
		randombytes_buf(keys[i], 32);
		keys[i][0] = (uint8_t)i; /* distinct, and in no particular order */
		wg_key_to_base64(b64, keys[i]);
		off += snprintf(json + off, cap - off, "%s{'pubkey': '%s', 'forward_to': ':%d'}",
				i ? ", " : "", b64, 1000 + i);
	}
	snprintf(json + off, cap - off, "%s]}]}", fallback ? ", {'forward_to': ':999'}" : "");
	ret = parse_server(json, &c);
	free(json);
	CHECK(!ret, "ret %d: %s", ret, errs);
	CHECK(c.servers[0].n_keyed == N, "%zu keyed peers", c.servers[0].n_keyed);
	for (int i = 0; i < N; i++) {
		p = config_peer_for(&c.servers[0], keys[i]);
		CHECK(p && p->has_pubkey && xwgp_ep_port(&p->forward_to) == 1000 + i,
		      "key %d: wrong peer", i);
	}
	memcpy(unknown, keys[N / 2], 32);
	unknown[31] ^= 1;
	p = config_peer_for(&c.servers[0], unknown);
	if (fallback)
		CHECK(p && !p->has_pubkey && xwgp_ep_port(&p->forward_to) == 999, "not the fallback");
	else
		CHECK(!p, "an unknown key got a peer");
	config_free_server(&c);
}

TEST(peer_choice_many_peers_with_fallback)
{
	check_peer_choice(true);
}

TEST(peer_choice_many_peers_no_fallback)
{
	check_peer_choice(false);
}

TEST_MAIN()
