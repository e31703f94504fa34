/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mwgp-compatible configuration: server and client files in JSON5 (as
 * mwgp reads them; json5.c), plus xwgp's own server keys. The contract is
 * mwgp's README (its examples: examples/mwgp-*.json5).
 *
 * Loading validates everything it can without touching the system (files
 * named by privkey_file are read, host names resolved; interfaces are not
 * looked up), prints every problem with pr_err naming the JSON path and the
 * value, and returns 0 or -errno (-EINVAL for a bad config, or the errno of
 * the first unreadable file). On error nothing is left allocated and key
 * material is wiped.
 */
#ifndef XWGP_CONFIG_H
#define XWGP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wg_proto.h"
#include "xwgp_abi.h"

/* Where the XDP program is attached. Not XDP_MODE_*: libxdp owns those names. */
enum xwgp_xdp_mode {
	XWGP_XDP_NATIVE, /* default: driver mode (veth and real NICs have it) */
	XWGP_XDP_SKB, /* generic mode */
	XWGP_XDP_AUTO, /* native, else generic */
	XWGP_XDP_OFF, /* no XDP: the agent forwards everything through sockets */
};

/* servers[].peers[] */
struct xwgp_peer_cfg {
	bool has_pubkey; /* false: the fallback peer */
	uint8_t pubkey[WG_KEY_LEN];
	struct xwgp_ep forward_to; /* complete: host filled from the server address */
	char *forward_to_name; /* host name forward_to was resolved from, or NULL */
	uint8_t csvl, ssvl; /* effective levels (1-3): peer, else server, else default */
};

/* servers[] */
struct xwgp_server_cfg {
	uint8_t *privkey; /* WG_KEY_LEN bytes in the config's key_store */
	uint8_t pubkey[WG_KEY_LEN]; /* derived from privkey */
	char *privkey_file; /* NULL: the key was inline */
	struct xwgp_ep address; /* port 0; family NONE if absent */
	char *address_name; /* host name address was resolved from, or NULL */
	uint8_t csvl, ssvl; /* as configured at server level; 0: not set */
	struct xwgp_peer_cfg *peers;
	size_t n_peers; /* >= 1 */
	int fallback; /* index of the fallback peer, or -1 */
	uint32_t *peer_order; /* indexes of the keyed peers, sorted by pubkey */
	size_t n_keyed;
};

struct xwgp_server_config {
	/* mwgp keys */
	struct xwgp_ep listen; /* family NONE: every local address */
	uint32_t timeout_sec;
	uint32_t max_packet_size;
	struct xwgp_server_cfg *servers;
	size_t n_servers; /* >= 1 */
	/*
	 * The private keys, n_servers * WG_KEY_LEN bytes, and nothing else:
	 * from sodium_allocarray, so locked in memory (never swapped) between
	 * guard pages, and wiped by sodium_free when the config is freed.
	 * (No pointers in it: leak checkers do not scan such memory.)
	 */
	uint8_t *key_store;
	char *obfs; /* obfuscation password; NULL: off */
	char *cache_file_path; /* NULL: the default */
	/* xwgp's own keys */
	char **interfaces; /* NIC names (not checked to exist) */
	size_t n_interfaces;
	enum xwgp_xdp_mode xdp_mode;
	char *instance; /* never NULL after loading */
	char *pin_path; /* never NULL: default /sys/fs/bpf/xwgp/<instance> */
	struct xwgp_ep upstream; /* port 0: ephemeral; family NONE: any address */
	uint32_t punt_rate_pps; /* 0: no limit */
	uint32_t punt_burst;
	uint32_t punt_ipv6_prefix; /* IPv6 sources limited per this prefix (include/xwgp_rl.h) */
	uint32_t tpunt_rate_pps;   /* transport punts per source and second; 0: no limit */
	uint32_t tpunt_burst;
	uint32_t max_sessions;
	/* Cluster bits carried in every proxy index (agent/wgit_index.h); 0 bits: none. */
	uint32_t node_id, node_id_bits;
	uint32_t fib_cache_ms; /* XDP reuses a FIB answer this long; 0: never */
	struct xwgp_ep metrics_listen; /* GET /metrics (agent/metrics.c); port 0: off */
	uint32_t under_load_pps; /* cookie replies above this intake (cookie_guard.h); 0: always */
	uint32_t handshake_threads; /* threads doing initiations' DH (hs_ring.h); 0: one per CPU */
};

struct xwgp_client_config {
	char *server; /* "host:port" as written: may be a name, resolved at run time */
	char *server_host; /* its host part, brackets removed */
	uint16_t server_port;
	struct xwgp_ep listen;
	uint32_t timeout_sec;
	uint32_t max_packet_size;
	uint8_t server_pubkey[WG_KEY_LEN];
	uint8_t client_pubkey[WG_KEY_LEN];
	struct xwgp_ep dns; /* `dns' or `resolver'; family NONE: system resolver */
	char *obfs; /* NULL: off */
	uint8_t csvl, ssvl; /* effective levels (1-3) */
	char *cache_file_path; /* NULL: the default */
};

enum xwgp_config_kind {
	XWGP_CONFIG_SERVER,
	XWGP_CONFIG_CLIENT,
};

#define XWGP_PIN_ROOT "/sys/fs/bpf/xwgp"
#define XWGP_INSTANCE_DEFAULT "default"
#define XWGP_MAX_SESSIONS_LIMIT (1u << 24)

int config_load_server(const char *path, struct xwgp_server_config *out);
/* From memory; source_name prefixes the messages (a file name, "<test>"). */
int config_parse_server(const char *json_text, const char *source_name,
			struct xwgp_server_config *out);
/* Frees everything, wipes private keys and the obfs password; c may be zeroed. */
void config_free_server(struct xwgp_server_config *c);

/*
 * For a process that will hold keys (server, client, check-config): no core
 * dump, no ptrace or /proc/PID/mem by other unprivileged processes of the
 * same user (PR_SET_DUMPABLE 0). 0 or -errno.
 */
int config_protect_process(void);

/*
 * The peer an initiation from client_pub goes to: the one with that key,
 * else the server's fallback, else NULL. O(log n_peers): a gateway may
 * configure thousands of peers and this runs on every initiation.
 */
const struct xwgp_peer_cfg *config_peer_for(const struct xwgp_server_cfg *s,
					    const uint8_t client_pub[static WG_KEY_LEN]);

int config_load_client(const char *path, struct xwgp_client_config *out);
int config_parse_client(const char *json_text, const char *source_name,
			struct xwgp_client_config *out);
void config_free_client(struct xwgp_client_config *c);

/*
 * Server or client config? A top-level `servers' key means server, `server'
 * means client; both or neither is an error (-EINVAL, printed).
 */
int config_detect_kind(const char *json_text, const char *source_name,
		       enum xwgp_config_kind *kind);

/*
 * A private key inline in a file others can read is as exposed as a key
 * file they can read: warn (once per file), as for privkey_file. mode is
 * the file's st_mode. config_load_server() calls it.
 */
void config_warn_inline_keys(const char *path, unsigned int mode,
			     const struct xwgp_server_config *c);

/* Read a whole text file (at most 16 MiB) into a NUL-terminated heap buffer. */
int config_read_file(const char *path, char **text);

/* Human-readable, resolved; private keys and the obfs password never printed. */
void config_print_server(FILE *out, const struct xwgp_server_config *c);
void config_print_client(FILE *out, const struct xwgp_client_config *c);

const char *config_xdp_mode_name(enum xwgp_xdp_mode mode);

#endif /* XWGP_CONFIG_H */
