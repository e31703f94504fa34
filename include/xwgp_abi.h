/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ABI between the XDP program (bpf/) and the agent (agent/): map keys and
 * values, counters, constants. One definition for both sides: fixed-width
 * types, explicit padding, sizes pinned with _Static_assert, because pinned
 * maps outlive the agent that created them (docs/DESIGN.md section 7) and a new
 * agent must read them bit for bit.
 */
#ifndef XWGP_ABI_H
#define XWGP_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bump whenever any struct below changes layout; stored in the cfg map. */
#define XWGP_ABI_VERSION 5 /* 3: per-side seen times, roaming candidates; 4: WGIT v2 arrays; 5: meta array by slot, server key table, mmap */
/* The first ABI of WGIT v2 (sessions in an array by slot): older pins cannot be reused. */
#define XWGP_ABI_WGIT_V2 4

/* Address families as stored in struct xwgp_ep (not AF_*: stable on disk). */
#define XWGP_FAMILY_NONE 0 /* unset / wildcard */
#define XWGP_FAMILY_IPV4 4
#define XWGP_FAMILY_IPV6 6

/*
 * An IP endpoint. IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d) so
 * one layout serves both families; addr and port are in network byte order.
 */
struct xwgp_ep {
	__u32 addr[4];
	__be16 port;
	__u16 family; /* XWGP_FAMILY_* */
};
_Static_assert(sizeof(struct xwgp_ep) == 20, "xwgp_ep layout");

/*
 * Which of our two ports a packet arrived on, which tells its direction: the
 * client and server index spaces are separate (docs/DESIGN.md section 3).
 * XDP's struct pkt and the agent's struct handler_pkt both carry it.
 */
enum xwgp_side {
	XWGP_SIDE_CLIENT, /* arrived on listen: client -> server */
	XWGP_SIDE_SERVER, /* arrived on upstream: server -> client */
};

/* Source validation levels (mwgp csvl/ssvl). 0 in config means "inherit". */
#define XWGP_SVL_INHERIT 0
#define XWGP_SVL_NONE 1 /* accept any source; clients: follow roaming */
#define XWGP_SVL_IP 2 /* source IP must match */
#define XWGP_SVL_IP_PORT 3 /* source IP and port must match */
#define XWGP_CSVL_DEFAULT XWGP_SVL_NONE
#define XWGP_SSVL_DEFAULT XWGP_SVL_IP_PORT

/* struct xwgp_session.flags */
#define XWGP_SF_ESTABLISHED (1u << 0) /* backend response seen: server index known */
#define XWGP_SF_OBFS (1u << 1) /* client speaks mwgp obfuscation */
#define XWGP_SF_XLAT_CLIENT (1u << 2) /* client index translated */
#define XWGP_SF_XLAT_SERVER (1u << 3) /* server index translated */

/*
 * One WGIT session (mwgp calls it a peer), in the xwgp_sessions array at the
 * slot both its proxy indexes encode (WGIT v2, agent/wgit_index.h): the
 * client proxy index for server->client transport, the server proxy index
 * for client->server. A free slot has client_proxy_index 0 (never assigned).
 */
struct xwgp_session {
	struct xwgp_ep client; /* client address as last seen */
	struct xwgp_ep client_local; /* our address the client sends to */
	struct xwgp_ep server; /* backend address */
	struct xwgp_ep server_local; /* our upstream address facing the backend */
	__u32 client_origin_index; /* client's sender index */
	__u32 client_proxy_index; /* what the backend knows the client as (key) */
	__u32 server_origin_index; /* backend's sender index (0 until response) */
	__u32 server_proxy_index; /* what the client knows the backend as */
	__u8 csvl; /* resolved level, never INHERIT */
	__u8 ssvl;
	__u8 flags; /* XWGP_SF_* */
	__u8 _pad0;
	/*
	 * Odd while the agent rewrites the slot, bumped to the next even
	 * value when done (a seqlock: docs/DESIGN.md section 4). XDP punts a
	 * packet whose slot was odd or changed while it read the session.
	 */
	__u32 seq;
	__u64 created_ns; /* CLOCK_BOOTTIME / bpf_ktime_get_boot_ns */
	__u64 last_seen_ns; /* refreshed by both paths, at most ~once a second */
	/*
	 * When the stored client / backend endpoint last sent transport XDP
	 * forwarded (at most ~once a second, like last_seen_ns): a session
	 * roams only after its current endpoint fell silent (XWGP_ROAM_QUIET_NS).
	 */
	__u64 client_seen_ns;
	__u64 server_seen_ns;
	__u64 c2s_packets; /* client->server transport forwarded */
	__u64 c2s_bytes; /* UDP payload bytes */
	__u64 s2c_packets;
	__u64 s2c_bytes;
};
_Static_assert(sizeof(struct xwgp_session) == 168, "xwgp_session layout");

/*
 * Handshake state of one session as the agent handles it (handler, cache
 * file, show): decoded from struct xwgp_sess_meta by agent/wgit.c. Not a
 * map layout.
 */
struct xwgp_session_meta {
	__u8 client_pub[32];
	__u8 server_pub[32];
	__u8 sent_mac1[16]; /* MAC1 of the initiation as sent to the backend */
	__u8 client_mac1[16]; /* MAC1 of the client's own initiation */
	__u64 handshake_ns; /* initiation forwarded */
	__u64 established_ns; /* response forwarded (0: not yet) */
	__u64 cookie_ns; /* a cookie reply for this initiation was taken (a second one is a replay) */
};

/* struct xwgp_sess_meta.flags */
#define XWGP_MF_COOKIE (1u << 0) /* a cookie reply for this initiation was taken */

/*
 * What the agent keeps per session beside struct xwgp_session, in the
 * pinned xwgp_sess_meta array at the session's slot (never read by XDP;
 * docs/DESIGN.md section 4): the handshake state a restarted agent needs to
 * translate cookie replies and `xwgp show' needs to name keys. 80 bytes:
 * the server key is an id into xwgp_srv_keys (a handful of keys serve every
 * session), times the agent only shows are relative. It belongs to the
 * session in its slot (client_proxy_index != 0); a free slot's is garbage.
 */
struct xwgp_sess_meta {
	__u8 client_pub[32];
	__u8 sent_mac1[16]; /* MAC1 of the initiation as sent to the backend */
	__u8 client_mac1[16]; /* MAC1 of the client's own initiation */
	__u64 handshake_ns; /* initiation forwarded (CLOCK_BOOTTIME) */
	/* Response forwarded, ms after handshake_ns, plus 1; 0: not yet. */
	__u32 established_ms;
	__u16 server_key; /* slot in xwgp_srv_keys, plus 1; 0: unknown */
	__u16 flags; /* XWGP_MF_* */
};
_Static_assert(sizeof(struct xwgp_sess_meta) == 80, "xwgp_sess_meta layout");

/* One entry of xwgp_srv_keys: a server's public key (all zero: free). */
struct xwgp_srv_key {
	__u8 pub[32];
};
_Static_assert(sizeof(struct xwgp_srv_key) == 32, "xwgp_srv_key layout");
#define XWGP_SRV_KEYS_MAX 1024 /* distinct server keys the sessions of one instance name */

/* Per (server key, client key): replay protection and the backend's cookie. */
struct xwgp_peer_key {
	__u8 server_pub[32];
	__u8 client_pub[32];
};
_Static_assert(sizeof(struct xwgp_peer_key) == 64, "xwgp_peer_key layout");

/*
 * Sessions one (server key, client key) pair may hold. WireGuard keeps at
 * most three keypairs per peer (current, previous, next); one more covers
 * an initiation the client already retried (REKEY_TIMEOUT) while the
 * response to the previous one is still on its way. A fifth initiation
 * replaces the pair's oldest session (agent/wgit_admit.c).
 */
#define XWGP_PEER_MAX_SESSIONS 4

struct xwgp_peer_state {
	__u8 last_tai64n[12]; /* greatest timestamp accepted from this client */
	__u32 _pad0;
	__u8 cookie[16]; /* from the backend's last cookie reply */
	__u64 cookie_ns; /* when it arrived; 0: none */
	__u64 updated_ns; /* when last_tai64n was accepted (CLOCK_BOOTTIME) */
	/* Client proxy indexes of this pair's sessions, 0: free; checked before use. */
	__u32 sessions[XWGP_PEER_MAX_SESSIONS];
};
_Static_assert(sizeof(struct xwgp_peer_state) == 64, "xwgp_peer_state layout");

/* struct xwgp_cfg.flags */
#define XWGP_CFG_OBFS (1u << 0) /* obfuscation password set */
#define XWGP_CFG_AGENT_ONLY (1u << 1) /* punt every packet of ours (tests/bench) */
#define XWGP_CFG_UNDER_LOAD (1u << 2) /* agent under load: bpf/hs_budget.h applies */
/*
 * The TC programs of local backends are attached (bpf/tc_local.h): XDP may
 * rewrite client transport to a backend on this host and hand it to TC,
 * which delivers it into lo. Without it such transport is punted.
 */
#define XWGP_CFG_LOCAL_TC (1u << 3)

/* The single entry (key 0) of xwgp_cfg: run-time knobs the agent sets. */
struct xwgp_cfg {
	__u32 abi_version; /* XWGP_ABI_VERSION of the agent that wrote it */
	__u32 flags; /* XWGP_CFG_* */
	struct xwgp_ep listen; /* family NONE: any local address */
	struct xwgp_ep upstream; /* family NONE: any local address */
	__u32 punt_rate_pps; /* handshake punts per source per second; 0: no limit */
	__u32 punt_burst; /* bucket depth, packets */
	__u32 max_packet_size; /* max UDP payload accepted; 0: no limit */
	/*
	 * How long the XDP program may reuse a FIB answer (egress device and
	 * MACs) for the same lookup; 0: look up every packet. Was padding
	 * before, so an older agent's 0 keeps the old behaviour: no ABI bump.
	 */
	__u32 fib_cache_ms;
	__u8 obfs_key[32]; /* SHA-256(obfs password) */
};
_Static_assert(sizeof(struct xwgp_cfg) == 96, "xwgp_cfg layout");

/* Rate limiter for punts, per source (include/xwgp_rl.h: IPv6 by prefix; GCRA). */
struct xwgp_rl_key {
	__u32 addr[4];
};
struct xwgp_rl_val {
	__u64 tat_ns;
};

/*
 * The host's own addresses in the agent's network namespace (kept from
 * netlink address events), IPv4-mapped like struct xwgp_ep: what a wildcard
 * listen/upstream claims, and sources that never become an endpoint.
 */
struct xwgp_local_key {
	__u32 addr[4];
};
#define XWGP_LOCAL_ADDR 1 /* an address of ours: a wildcard claims it */
#define XWGP_LOCAL_BROADCAST 2 /* an IPv4 broadcast address of one of our subnets */

/*
 * Next hops the agent resolved (agent/nexthop.c) for a host that does not
 * forward: bpf_fib_lookup() then answers FWD_DISABLED, and XDP forwards with
 * the entry of the destination (bpf/nexthop.h). Keyed by the destination
 * address, IPv4-mapped. The agent refreshes every entry it still needs
 * each XWGP_NEXTHOP_REFRESH_NS and deletes entries on route and neighbour
 * changes; XDP ignores one older than XWGP_NEXTHOP_MAX_AGE_NS, so a missed
 * change misforwards for at most that long. Not pinned: each agent refills.
 */
struct xwgp_nexthop_key {
	__u32 addr[4];
};
struct xwgp_nexthop {
	__u64 resolved_ns; /* CLOCK_BOOTTIME of the route + neighbour answer */
	__u32 ifindex; /* egress device */
	__u16 mtu; /* largest IP packet the route takes */
	__u8 smac[6]; /* the egress device's */
	__u8 dmac[6]; /* the next hop's (gateway or the destination itself) */
	__u8 _pad[6];
};
_Static_assert(sizeof(struct xwgp_nexthop) == 32, "xwgp_nexthop layout");
#define XWGP_NEXTHOP_MAX 16384
#define XWGP_NEXTHOP_REFRESH_NS 1000000000ULL
#define XWGP_NEXTHOP_MAX_AGE_NS 2500000000ULL

/*
 * A session moves to a new source only after its current endpoint sent
 * nothing for this long, and the new source sent twice (README: roaming).
 */
#define XWGP_ROAM_QUIET_NS 2000000000ULL

/*
 * Counters, per CPU, one slot per verdict/reason. X(name, description);
 * the agent prints them by name, so the order here is the ABI.
 */
#define XWGP_STATS(X)                                                                     \
	X(RX, "packets seen by the XDP program")                                          \
	X(PASS_NOT_OURS, "not UDP to our listen/upstream port: passed untouched")        \
	X(PASS_FRAGMENT, "IP fragment: passed to the stack, never rewritten")            \
	X(PASS_IPV6_EXTHDR, "IPv6 with extension headers: passed to the stack")          \
	X(C2S_TX, "client->server transport forwarded with XDP_TX")                      \
	X(C2S_REDIRECT, "client->server transport redirected to another device")         \
	X(S2C_TX, "server->client transport forwarded with XDP_TX")                      \
	X(S2C_REDIRECT, "server->client transport redirected to another device")         \
	X(PUNT_HANDSHAKE, "handshake/cookie message punted to the agent")                \
	X(PUNT_NO_ROUTE, "transport punted: no FIB route")                               \
	X(PUNT_NO_NEIGH, "transport punted: no neighbour entry for the next hop")        \
	X(PUNT_NO_DEVMAP, "transport punted: egress device not in the devmap")           \
	X(PUNT_FAMILY, "transport punted: client and backend families differ")           \
	X(PUNT_ROAM, "transport punted: client address changed (roaming)")              \
	X(PUNT_NOT_ESTABLISHED, "transport punted: session has no backend index yet")    \
	X(PUNT_OBFS, "transport punted: obfuscation case the XDP path cannot do")        \
	X(PUNT_AGENT_ONLY, "punted: agent-only mode")                                    \
	X(PUNT_XSK, "punt delivered to an AF_XDP socket")                                \
	X(PUNT_STACK, "punt delivered to the stack (no AF_XDP socket on the queue)")     \
	X(DROP_MALFORMED, "dropped: truncated or malformed WireGuard message")           \
	X(DROP_BAD_TYPE, "dropped: unknown message type or direction")                   \
	X(DROP_INDEX_ZERO, "dropped: receiver index 0")                                  \
	X(DROP_UNKNOWN_INDEX, "dropped: transport with unknown receiver index")          \
	X(DROP_SRC_INVALID, "dropped: source failed csvl/ssvl validation")               \
	X(DROP_RATE_LIMITED, "dropped: punt rate limit for the source exceeded")         \
	X(DROP_TOO_BIG, "dropped: larger than max_packet_size")                          \
	X(DROP_OBFS_UNDECODABLE, "dropped: not decodable with the obfuscation key")      \
	X(PASS_NOT_LOCAL, "to our port, not to an address of ours: passed untouched")    \
	X(ROAM_CANDIDATE, "new source forwarded while the current endpoint is active")  \
	X(DROP_SRC_LOOPBACK, "dropped: would roam to a loopback source")                 \
	X(DROP_SRC_UNSPEC, "dropped: would roam to an unspecified source")               \
	X(DROP_SRC_MULTICAST, "dropped: would roam to a multicast source")               \
	X(DROP_SRC_BROADCAST, "dropped: would roam to a broadcast source")               \
	X(DROP_SRC_LOCAL, "dropped: would roam to one of our own addresses")             \
	X(DROP_SRC_PORT0, "dropped: would roam to source port 0")                        \
	X(DROP_TPUNT_LIMITED, "dropped: transport punt rate limit for the source exceeded") \
	X(DROP_FRAGMENT, "dropped: IPv4 first fragment to our port and address")          \
	X(DROP_IPV6_EXTHDR, "dropped: IPv6 with extension headers to our port and address") \
	X(PUNT_SESSION_BUSY, "transport punted: the agent was rewriting its session")    \
	X(DROP_SESSION_TORN, "dropped: the agent rewrote the session while XDP rewrote the packet") \
	X(C2S_LOCAL, "client->server transport rewritten for a local backend, handed to TC") \
	X(PUNT_LOCAL_META, "transport punted: no XDP metadata room to hand it to TC")     \
	X(TC_C2S_LO, "client->server transport delivered into lo by TC (local backend)") \
	X(TC_LO_RX, "UDP to our upstream port seen by TC on lo (local backends)")        \
	X(S2C_LOCAL, "server->client transport of a local backend forwarded by TC")      \
	X(PUNT_GSO, "punted by TC: a GSO super-packet from a local backend") \
	X(DROP_NO_HEADROOM, "dropped: no room in the frame for the IPv6 header of an IPv4 packet") \
	X(NEXTHOP_HIT, "forwarded with the agent's next hop: forwarding is off on the ingress device")

enum xwgp_stat {
#define XWGP_STAT_ENUM(name, desc) XWGP_STAT_##name,
	XWGP_STATS(XWGP_STAT_ENUM)
#undef XWGP_STAT_ENUM
	XWGP_STAT__MAX
};

struct xwgp_stat_val {
	__u64 packets;
	__u64 bytes;
};

/* Default capacities (the agent may size maps from config before load). */
#define XWGP_MAX_SESSIONS_DEFAULT 65536
#define XWGP_SLOT_MASK_DEFAULT 0xffffu /* slot bits of XWGP_MAX_SESSIONS_DEFAULT */
#define XWGP_MAX_PEERS_DEFAULT 65536
#define XWGP_MAX_XSKS 64 /* xwgp_xsks: XWGP_MAX_QUEUES_PER_DEV slots per interface */
#define XWGP_MAX_QUEUES_PER_DEV 16
#define XWGP_MAX_DEVS 64
#define XWGP_RL_ENTRIES 16384
#define XWGP_LOCAL_ADDRS_MAX 4096

/* Defaults mirrored from mwgp. */
#define XWGP_TIMEOUT_DEFAULT_SEC 60
#define XWGP_MAX_PACKET_SIZE_DEFAULT 1500
#define XWGP_PUNT_RATE_DEFAULT_PPS 1000
#define XWGP_PUNT_BURST_DEFAULT 200
#define XWGP_FIB_CACHE_MS_DEFAULT 50 /* xwgp only: bound on acting on a stale route */
#define XWGP_FIB_CACHE_MS_MAX 1000

#endif /* XWGP_ABI_H */
