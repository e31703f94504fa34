/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters of the agent (slow path), kept in the pinned ARRAY map
 * xwgp_agent_st (one __u64 per slot) so `xwgp show`/`xwgp stats` in another
 * process read them and a restarted agent continues them. The order is ABI:
 * new counters go last. An array pinned by an older xwgp keeps its size (the
 * loader warns: run `xwgp down' to resize); counters past its end are then
 * counted by the agent but not published until it is resized.
 */
#ifndef XWGP_AGENT_STATS_H
#define XWGP_AGENT_STATS_H

#define XWGP_AGENT_STATS(X)                                                                      \
	X(RX_CLIENT, "packets received from clients (socket or AF_XDP)")                        \
	X(RX_SERVER, "packets received from backends (socket or AF_XDP)")                       \
	X(RX_XSK, "packets received through AF_XDP")                                            \
	X(INIT_FORWARDED, "handshake initiations forwarded to a backend")                       \
	X(INIT_TRANSLATED, "... of which had their sender index translated")                    \
	X(INIT_NO_SERVER, "initiations whose MAC1 matches no configured server")                \
	X(INIT_DECRYPT_FAILED, "initiations that failed to decrypt (static or timestamp)")      \
	X(INIT_NO_PEER, "initiations from a client key with no peer and no fallback")          \
	X(INIT_REPLAY, "initiations whose timestamp is not newer than the last one (replay)")   \
	X(INIT_TABLE_FULL, "initiations dropped: session table full")                           \
	X(RESP_FORWARDED, "handshake responses forwarded to a client")                          \
	X(RESP_UNKNOWN_INDEX, "responses for an unknown session")                               \
	X(RESP_BAD_MAC1, "responses whose MAC1 does not match the client key")                  \
	X(COOKIE_FORWARDED, "cookie replies passed on to a client")                             \
	X(COOKIE_UNKNOWN_INDEX, "cookie replies for an unknown session")                        \
	X(COOKIE_UNDECRYPTABLE, "cookie replies that did not decrypt")                          \
	X(SRC_INVALID, "handshake/cookie messages from a source failing ssvl/csvl")             \
	X(TRANSPORT_C2S, "transport packets forwarded client->server by the agent")             \
	X(TRANSPORT_S2C, "transport packets forwarded server->client by the agent")             \
	X(TRANSPORT_UNKNOWN_INDEX, "transport packets with an unknown receiver index")          \
	X(TRANSPORT_DROPPED, "transport packets refused (source validation, malformed, ...)")   \
	X(ROAMED, "client/server endpoint updates (roaming)")                                   \
	X(MALFORMED, "truncated/malformed messages or wrong sizes")                             \
	X(BAD_TYPE, "unknown message type, or a type not valid from that side")                 \
	X(TOO_BIG, "packets larger than max_packet_size")                                       \
	X(OBFS_UNDECODABLE, "packets that did not decode with the obfuscation key")             \
	X(SEND_ERRORS, "datagrams the kernel refused to send (dropped)")                          \
	X(EXPIRED, "sessions removed after `timeout' idle seconds")                              \
	X(DH_CACHE_HIT, "initiations whose static-static DH came from the agent's cache")     \
	X(DH_CACHE_MISS, "initiations that computed the static-static DH (new key pair)")     \
	X(INIT_KEY_CAP, "sessions replaced by a newer one of their key (cap of 4, or table full)") \
	X(HALFOPEN_EVICTED, "half-open sessions (never answered) evicted from a full table")   \
	X(INIT_PEER_STATE_FULL, "initiations refused: no room for the client key's replay state") \
	X(PEER_STATE_EVICTED, "peer states forgotten (no session, idle past the replay horizon)") \
	X(NOT_LOCAL, "packets to an address that is not ours (wildcard): dropped")              \
	X(ROAM_CANDIDATE, "transport from a new source forwarded, the session not moved")       \
	X(SRC_LOOPBACK, "dropped: a loopback source would become an endpoint")                  \
	X(SRC_UNSPEC, "dropped: an unspecified source would become an endpoint")                \
	X(SRC_MULTICAST, "dropped: a multicast source would become an endpoint")                \
	X(SRC_BROADCAST, "dropped: a broadcast source would become an endpoint")                \
	X(SRC_LOCAL, "dropped: one of our own addresses would become an endpoint")             \
	X(SRC_PORT0, "dropped: source port 0 would become an endpoint")                         \
	X(RESP_REPLAY, "responses for a session already established (replayed): dropped")       \
	X(COOKIE_REPLAY, "cookie replies for an established session or a second one: dropped") \
	X(COOKIE_SENT, "cookie replies the agent sent itself (under load) instead of a DH")    \
	X(MAC2_VALID, "initiations whose MAC2 matches the agent's cookie for their source")    \
	X(MAC2_INVALID, "initiations with a non-zero MAC2 not made with the agent's cookie")   \
	X(UNDER_LOAD_ENTERED, "times the agent went under load (cookies instead of DH)")        \
	X(UNDER_LOAD_MS, "milliseconds the agent spent under load")                            \
	X(UNDER_LOAD, "1 while the agent is under load (a state, not a count)")                \
	X(MAC2_INVALID_DROPPED, "under load, wrong-MAC2 initiations over the cookie limit: dropped") \
	X(TX_SYSCALLS, "sendmmsg/sendmsg calls that sent the agent's datagrams (batched)")       \
	X(TX_GSO_SEGMENTS, "datagrams the agent sent as UDP GSO segments (one run, one message)") \
	X(SESS_WRITES, "writes of the agent's per-session counters (one per session per batch)")

enum xwgp_agent_stat {
#define XWGP_AGENT_STAT_ENUM(name, desc) XWGP_AGENT_STAT_##name,
	XWGP_AGENT_STATS(XWGP_AGENT_STAT_ENUM)
#undef XWGP_AGENT_STAT_ENUM
	XWGP_AGENT_STAT__MAX
};

#endif
