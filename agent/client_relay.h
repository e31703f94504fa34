/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The packet rules of `xwgp client' (mwgp-client semantics): the local
 * WireGuard sends to our `listen' address; we forward to the xwgp/mwgp
 * server (obfuscated when `obfs' is set) and pass the server's replies
 * (de-obfuscated) back to the local endpoint each session learned.
 *
 * Sessions are tracked by index like the server does (WGIT, docs/DESIGN.md
 * section 4), in memory: keyed by the local WireGuard's sender index
 * ("client proxy index", the index the server knows), with the server's
 * index from the response ("server proxy index", the index the local
 * WireGuard knows). Proxy indexes equal origin indexes unless taken (two
 * local WireGuards picked the same one) or force_xlat is set; a translated
 * initiation gets MAC1/MAC2 recomputed for server_pubkey, a translated
 * response MAC1 for client_pubkey, and a cookie reply is re-sealed for the
 * MAC1 the local WireGuard really sent. Sessions idle longer than `timeout'
 * are removed.
 *
 * Nothing here does I/O: packets come in through relay_packet() and leave
 * through the send callback, so unit tests drive it directly.
 */
#ifndef XWGP_CLIENT_RELAY_H
#define XWGP_CLIENT_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "obfs.h"
#include "wg_crypto.h"
#include "xwgp_abi.h"

#define XWGP_CLIENT_STATS(X)                                                                     \
	X(RX_LOCAL, "packets received from the local WireGuard")                                \
	X(RX_SERVER, "packets received from the server")                                        \
	X(TX_SERVER, "packets sent to the server")                                              \
	X(TX_LOCAL, "packets sent to the local WireGuard")                                      \
	X(OBFUSCATED, "packets obfuscated towards the server")                                  \
	X(DEOBFUSCATED, "packets from the server de-obfuscated")                                \
	X(PLAIN_FROM_SERVER, "plain WireGuard packets from the server while obfs is set")       \
	X(UNDECODABLE, "packets from the server that did not decode with the obfs key")         \
	X(INIT_FORWARDED, "handshake initiations forwarded to the server")                      \
	X(INIT_TRANSLATED, "... of which had their sender index translated")                    \
	X(INIT_MAC1_MISMATCH, "initiations whose MAC1 is not for server_pubkey")                \
	X(RESP_FORWARDED, "handshake responses passed to the local WireGuard")                  \
	X(RESP_UNKNOWN_INDEX, "responses for an unknown session")                               \
	X(RESP_BAD_MAC1, "responses whose MAC1 is not for client_pubkey (dropped)")             \
	X(COOKIE_FORWARDED, "cookie replies passed to the local WireGuard")                     \
	X(COOKIE_UNKNOWN_INDEX, "cookie replies for an unknown session")                        \
	X(COOKIE_UNDECRYPTABLE, "cookie replies that did not decrypt (dropped)")                \
	X(TRANSPORT_TO_SERVER, "transport packets forwarded to the server")                     \
	X(TRANSPORT_TO_LOCAL, "transport packets forwarded to the local WireGuard")             \
	X(TRANSPORT_UNKNOWN_INDEX, "transport packets with an unknown receiver index")          \
	X(SRC_INVALID, "packets from a source failing csvl/ssvl")                               \
	X(ROAMED, "local endpoint changes followed (csvl 1)")                                   \
	X(MALFORMED, "truncated/malformed messages or wrong sizes")                             \
	X(BAD_TYPE, "unknown message type, or a type not valid from that side")                 \
	X(TOO_BIG, "packets larger than max_packet_size")                                       \
	X(NO_SERVER_ADDR, "packets dropped: server address not resolved yet")                   \
	X(SESSIONS_CREATED, "sessions created (one per initiation)")                            \
	X(EVICTED, "sessions evicted to make room (table full)")                                \
	X(EXPIRED, "sessions removed after `timeout' idle seconds")                             \
	X(SEND_ERRORS, "send failures")                                                         \
	X(RESOLVES, "server name resolutions that succeeded")                                   \
	X(RESOLVE_FAILURES, "server name resolutions that failed or timed out")                 \
	X(SERVER_CHANGED, "server address changes followed after a resolution")

enum client_stat {
#define CLIENT_STAT_ENUM(name, desc) CLIENT_STAT_##name,
	XWGP_CLIENT_STATS(CLIENT_STAT_ENUM)
#undef CLIENT_STAT_ENUM
	CLIENT_STAT__MAX
};

extern const char *const client_stat_names[CLIENT_STAT__MAX];
extern const char *const client_stat_descs[CLIENT_STAT__MAX];

#define CLIENT_MAX_SESSIONS 4096

/* Which socket a packet arrived on / leaves from. */
enum relay_side {
	RELAY_LOCAL, /* the listen socket, facing the local WireGuard */
	RELAY_SERVER, /* the upstream socket, facing the server */
};

struct client_session {
	struct xwgp_ep local; /* the local WireGuard's endpoint */
	struct xwgp_ep local_addr; /* our listen address it sends to (reply source) */
	uint32_t client_origin_index; /* local WireGuard's sender index */
	uint32_t client_proxy_index; /* what the server knows it as (key) */
	uint32_t server_origin_index; /* server's sender index (0 until response) */
	uint32_t server_proxy_index; /* what the local WireGuard knows the server as */
	uint8_t flags; /* XWGP_SF_ESTABLISHED, XWGP_SF_XLAT_CLIENT, XWGP_SF_XLAT_SERVER */
	uint8_t local_mac1[16]; /* MAC1 of the initiation as the local WireGuard sent it */
	uint8_t sent_mac1[16]; /* MAC1 of the initiation as sent to the server */
	uint64_t created_ns, last_seen_ns;
	uint64_t to_server_packets, to_local_packets;
};

/* u32 index -> session slot, open addressing with backward-shift deletion. */
struct relay_index_map {
	uint32_t *keys;
	uint32_t *vals; /* slot + 1; 0: empty */
	uint32_t mask;
	uint64_t seed;
};

/*
 * Send len bytes of data from our address `local' (NULL or family NONE: the
 * kernel picks) to `remote' through socket `side'. data stays valid until
 * the caller's next relay_packet batch ends, so the callback may queue it.
 * Returns 0 or -errno.
 */
typedef int (*relay_send_fn)(void *ctx, enum relay_side side, const struct xwgp_ep *local,
			     const struct xwgp_ep *remote, const uint8_t *data, size_t len);

struct client_relay {
	const struct xwgp_client_config *cfg;
	struct wg_mac_keys server_mac; /* of server_pubkey: initiations, cookie replies */
	struct wg_mac_keys client_mac; /* of client_pubkey: responses */
	struct wg_cookie cookie; /* from the server's last cookie reply */
	bool obfs;
	struct obfs_key obfs_key;
	obfs_rand_fn obfs_rand; /* NULL: libsodium */
	void *obfs_rand_ctx;
	bool force_xlat; /* tests: translate every index */
	struct xwgp_ep server; /* current server address; family NONE: unresolved */
	struct client_session *sessions; /* dense: [0, n_sessions) */
	uint32_t n_sessions, max_sessions;
	struct relay_index_map by_client; /* client proxy index -> slot */
	struct relay_index_map by_server; /* server proxy index -> slot */
	relay_send_fn send;
	void *io_ctx;
	bool warned_init_mac1, warned_resp_mac1;
	uint64_t stats[CLIENT_STAT__MAX];
};

/* max_sessions 0: CLIENT_MAX_SESSIONS. 0, -ENOMEM or -EIO (libsodium). */
int relay_init(struct client_relay *r, const struct xwgp_client_config *cfg,
	       uint32_t max_sessions, relay_send_fn send, void *io_ctx);
/* Frees the table and wipes the obfs key and the cookie. */
void relay_fini(struct client_relay *r);

/* Follow a (re-)resolved server address; sessions are kept. */
void relay_set_server(struct client_relay *r, const struct xwgp_ep *server);

/*
 * One datagram from `side': src is the remote sender, dst our local address
 * it was sent to. data is rewritten in place and may grow up to cap
 * (obfuscation adds at most OBFS_MAX_OVERHEAD bytes).
 */
void relay_packet(struct client_relay *r, enum relay_side side, const struct xwgp_ep *src,
		  const struct xwgp_ep *dst, uint8_t *data, size_t len, size_t cap,
		  uint64_t now_ns);

/* Remove sessions idle longer than the config's timeout; returns how many. */
uint32_t relay_expire(struct client_relay *r, uint64_t now_ns);

/* Lookups, for tests and the stats file. NULL when absent. */
const struct client_session *relay_find_client(const struct client_relay *r, uint32_t proxy);
const struct client_session *relay_find_server(const struct client_relay *r, uint32_t proxy);

#endif /* XWGP_CLIENT_RELAY_H */
