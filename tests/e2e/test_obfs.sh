#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mwgp obfuscation end to end, with real peers (tests/lib/topo.sh topology):
#
#   cli1: wireguard-go -> xwgp client (127.0.0.1:51999, obfs) --eth0--+
#   cli2, cli3: vanilla wireguard-go ---------------------------------+--> xwgp server
#                                       (XDP native on xc/xs, obfs set, one port 51820)
#                                                                     --> wireguard-go backends
#
# Asserts: every client completes a handshake; the server marks cli1's
# session obfuscated and the vanilla ones not; ping and 20 MiB with intact
# content through the obfuscated tunnel both ways, then cli1 and cli2
# transferring 20 MiB each at the same time; the obfuscated transport was
# forwarded by XDP (XDP counters, agent transport ~0, no PUNT_OBFS); a
# capture on cli1's link holds no packet with a plain WireGuard header,
# every packet decodes with the password, and handshakes (forced several
# times) have varying lengths; with a wrong password on the client the
# handshake never completes, the server counts undecodable packets and
# both processes keep running; with the right password again it recovers.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
topo_require nc jq tcpdump
OBFS_PCAP=$(e2e_tool obfs_pcap)

BULK_MB=${BULK_MB:-20}
PW="kisekimo, mahoumo, muryoudewaarimasen"
CLIENT_LISTEN=127.0.0.1:51999
CLIENT_STATS="$E2E_TMP/client-stats.json"
CLIENT_PID=

xdp_counter() { jq_num ".counters.xdp.$1.packets"; }
agent_counter() { jq_num ".counters.agent.$1"; }
jq_num() { topo_xwgp show --json | jq "($1 // 0) | floor"; }
client_ctr() { jq ".counters.$1 // 0" "$CLIENT_STATS" 2>/dev/null || echo 0; }
xdp_forwarded() {
	echo $(($(xdp_counter C2S_TX) + $(xdp_counter C2S_REDIRECT) + $(xdp_counter S2C_TX) + \
		$(xdp_counter S2C_REDIRECT)))
}
agent_forwarded() { echo $(($(agent_counter TRANSPORT_C2S) + $(agent_counter TRANSPORT_S2C))); }
undecodable() { echo $(($(agent_counter OBFS_UNDECODABLE) + $(xdp_counter DROP_OBFS_UNDECODABLE))); }
# The server's view of a client's session: `session_field CLIENT FIELD'.
session_field() {
	topo_xwgp show --json |
		jq -r --arg k "$(wg_pub "$1")" \
			'[.sessions[] | select(.client_pubkey == $k and .established)] | last | .'"$2"
}

# `client_start PASSWORD': xwgp client in cli1, forwarding to the proxy.
client_start() {
	local cfg="$E2E_TMP/client-$RANDOM.json"
	cat >"$cfg" <<JSON
{
  "server": "$(topo_ep "$TOPO_PROXY_C" "$TOPO_PORT")",
  "listen": "$CLIENT_LISTEN",
  "timeout": 60,
  "server_pubkey": "$(wg_pub srvkeyA)",
  "client_pubkey": "$(wg_pub cli1)",
  "obfs": "$1"
}
JSON
	CLIENT_LOG="$E2E_TMP/client.$RANDOM.log"
	rm -f "$CLIENT_STATS"
	ns_spawn cli1 "$CLIENT_LOG" "$XWGP_BIN" client --stats-file "$CLIENT_STATS" "$cfg"
	CLIENT_PID=$SPAWN_PID
	wait_for 10 test -s "$CLIENT_STATS"
}

# Drop cli1's WireGuard session and start a new handshake through the client.
cli1_rehandshake() {
	local ifc=${TOPO_CLIENT_IF[cli1]} pub
	pub=$(wg_pub srvkeyA)
	topo_client_forget cli1
	wg_peer cli1 "$ifc" "$pub" "${TOPO_TUN_SERVER[cli1]}/32" "$CLIENT_LISTEN"
	ns_exec cli1 ping -c 1 -W 1 "${TOPO_TUN_SERVER[cli1]}" >/dev/null 2>&1 &
}

topo_setup || { fail setup "topology setup failed"; exit 1; }
topo_config "$E2E_TMP/xwgp.json" "obfs=\"$PW\""
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp server did not start"; exit 1; }

CAP="$E2E_TMP/cli1.pcap"
# A 64 MiB capture buffer: the bulk transfers below run faster than tcpdump
# writes when the buffer is small, and a dropped packet would read as
# missing traffic (its drop count is logged with the capture's figures).
ns_spawn cli1 "$CAP.log" tcpdump -Z root -U --immediate-mode -B 65536 -n -i eth0 -w "$CAP" udp
CAP_PID=$SPAWN_PID
wait_for 10 grep -q 'listening on' "$CAP.log" || { fail capture "tcpdump did not start"; exit 1; }

client_start "$PW" || { fail client-start "xwgp client wrote no stats: $(cat "$CLIENT_LOG")"; exit 1; }
topo_client_connect cli2
topo_client_connect cli3
wg_peer cli1 "${TOPO_CLIENT_IF[cli1]}" "$(wg_pub srvkeyA)" "${TOPO_TUN_SERVER[cli1]}/32" \
	"$CLIENT_LISTEN"

if topo_wait_handshakes 25; then
	pass handshakes
else
	fail handshakes "not every client completed a handshake"
	sed 's/^/    /' "$XWGP_LOG" "$CLIENT_LOG"
	topo_xwgp show
	exit 1
fi
if wg_has_handshake srvA "${TOPO_BACKEND_IF[cli1]}" "$(wg_pub cli1)"; then
	pass routed-obfs-client
else
	fail routed-obfs-client "backend A1 saw no handshake from cli1"
fi
o1=$(session_field cli1 obfs) o2=$(session_field cli2 obfs)
if [ "$o1" = true ] && [ "$o2" = false ]; then
	pass session-obfs-flags
else
	fail session-obfs-flags "server sessions: cli1 obfs=$o1 (want true), cli2 obfs=$o2 (want false)"
fi

for c in cli1 cli2 cli3; do
	check "ping-$c" topo_ping "$c" 5
done

# Phase A: only the obfuscated tunnel moves data, so counter deltas are its own.
xdp_a=$(xdp_forwarded) agent_a=$(agent_forwarded) punt_a=$(xdp_counter PUNT_OBFS)
check "bulk-${BULK_MB}MiB-obfs" bulk_transfer cli1 srvA "${TOPO_TUN_SERVER[cli1]}" 5001 "$BULK_MB"
check "bulk-${BULK_MB}MiB-obfs-reverse" bulk_transfer srvA cli1 "${TOPO_TUN_CLIENT[cli1]}" 5002 \
	"$BULK_MB"
xdp_d=$(($(xdp_forwarded) - xdp_a)) agent_d=$(($(agent_forwarded) - agent_a))
punt_d=$(($(xdp_counter PUNT_OBFS) - punt_a))
e2e_log "obfs bulk: XDP forwarded $xdp_d, agent $agent_d, PUNT_OBFS $punt_d;" \
	"session c2s $(session_field cli1 c2s_packets) s2c $(session_field cli1 s2c_packets)"
min_pkts=$((BULK_MB * 2 * 1048576 / 1500))
if [ "$xdp_d" -ge "$min_pkts" ]; then
	pass obfs-transport-via-xdp
else
	fail obfs-transport-via-xdp "XDP forwarded $xdp_d packets during 2 x $BULK_MB MiB" \
		"(want >= $min_pkts); agent $agent_d, PUNT_OBFS $punt_d"
fi
if [ "$agent_d" -le $((xdp_d / 1000 + 2)) ] && [ "$punt_d" -le $((xdp_d / 1000 + 2)) ]; then
	pass obfs-agent-transport-near-zero
else
	fail obfs-agent-transport-near-zero "agent forwarded $agent_d, PUNT_OBFS $punt_d (XDP $xdp_d)"
fi

# Phase B: the obfuscated and a vanilla client on the same port at the same time.
bulk_transfer cli1 srvA "${TOPO_TUN_SERVER[cli1]}" 5003 "$BULK_MB" >"$E2E_TMP/bulk1.log" 2>&1 &
b1=$!
bulk_transfer cli2 srvA "${TOPO_TUN_SERVER[cli2]}" 5004 "$BULK_MB" >"$E2E_TMP/bulk2.log" 2>&1 &
b2=$!
wait "$b1" && pass "concurrent-bulk-obfs" ||
	fail concurrent-bulk-obfs "$(cat "$E2E_TMP/bulk1.log")"
wait "$b2" && pass "concurrent-bulk-vanilla" ||
	fail concurrent-bulk-vanilla "$(cat "$E2E_TMP/bulk2.log")"

# Several handshakes from the obfuscated client, for the length check.
for i in 1 2 3; do
	before=$(client_ctr RESP_FORWARDED)
	cli1_rehandshake
	wait_for 10 sh -c "[ \$(jq '.counters.RESP_FORWARDED' '$CLIENT_STATS') -gt $before ]" ||
		e2e_log "re-handshake $i did not complete"
done
check ping-cli1-after-rehandshakes topo_ping cli1 3
ns_stop "$CAP_PID" INT

# The capture on cli1's link: the client's port <-> the server's port 51820.
"$OBFS_PCAP" "$CAP" "$PW" "$TOPO_PORT" >"$E2E_TMP/cap.txt" || fail capture "obfs_pcap failed"
to_total=$(awk '$1 == "to"' "$E2E_TMP/cap.txt" | wc -l)
to_plain=$(awk '$1 == "to" && $3 == "plain"' "$E2E_TMP/cap.txt" | wc -l)
to_bad=$(awk '$1 == "to" && $3 == "undecodable"' "$E2E_TMP/cap.txt" | wc -l)
from_total=$(awk '$1 == "from"' "$E2E_TMP/cap.txt" | wc -l)
from_plain=$(awk '$1 == "from" && $3 == "plain"' "$E2E_TMP/cap.txt" | wc -l)
from_bad=$(awk '$1 == "from" && $3 == "undecodable"' "$E2E_TMP/cap.txt" | wc -l)
inits=$(awk '$1 == "to" && $4 == 1' "$E2E_TMP/cap.txt" | wc -l)
init_lens=$(awk '$1 == "to" && $4 == 1 { print $2 }' "$E2E_TMP/cap.txt" | sort -u | wc -l)
resps=$(awk '$1 == "from" && $4 == 2' "$E2E_TMP/cap.txt" | wc -l)
resp_lens=$(awk '$1 == "from" && $4 == 2 { print $2 }' "$E2E_TMP/cap.txt" | sort -u | wc -l)
e2e_log "capture: to server $to_total ($to_plain plain, $to_bad undecodable)," \
	"from server $from_total ($from_plain plain, $from_bad undecodable);" \
	"initiations $inits ($init_lens lengths), responses $resps ($resp_lens lengths);" \
	"tcpdump: $(grep -h 'dropped by kernel' "$CAP.log" | tr '\n' ' ')"
if [ "$to_total" -ge $((BULK_MB * 1048576 / 1500)) ] && [ "$to_plain" -eq 0 ] &&
	[ "$to_bad" -eq 0 ]; then
	pass capture-client-obfuscated
else
	fail capture-client-obfuscated "to server: $to_total packets, $to_plain with a plain" \
		"WireGuard header, $to_bad not decodable with the password"
fi
if [ "$from_total" -ge $((BULK_MB * 1048576 / 1500)) ] && [ "$from_plain" -eq 0 ] &&
	[ "$from_bad" -eq 0 ]; then
	pass capture-server-replies-obfuscated
else
	fail capture-server-replies-obfuscated "from server: $from_total packets, $from_plain plain," \
		"$from_bad undecodable"
fi
if [ "$inits" -ge 4 ] && [ "$init_lens" -ge 2 ]; then
	pass handshake-lengths-vary
else
	fail handshake-lengths-vary "$inits initiations with $init_lens distinct wire lengths"
fi
if [ "$resps" -ge 4 ] && [ "$resp_lens" -ge 2 ]; then
	pass response-lengths-vary
else
	fail response-lengths-vary "$resps responses with $resp_lens distinct wire lengths"
fi
# One read of the stats file: it is rewritten every second. An IP literal
# as `server' is "resolved" exactly once.
if jq -e '.counters | .OBFUSCATED == .TX_SERVER and .TX_SERVER > 0 and
	.DEOBFUSCATED == .RX_SERVER and .UNDECODABLE == 0 and .PLAIN_FROM_SERVER == 0 and
	.RESOLVES == 1' \
	"$CLIENT_STATS" >/dev/null; then
	pass client-counters
else
	fail client-counters "$(jq -c .counters "$CLIENT_STATS")"
fi

# Wrong password on the client: no handshake, undecodable on the server.
ns_stop "$CLIENT_PID"
client_start "not the password" || fail client-restart "xwgp client did not restart"
und_before=$(undecodable)
cli1_rehandshake
ns_exec cli1 ping -c 12 -i 1 -W 1 "${TOPO_TUN_SERVER[cli1]}" >/dev/null 2>&1 &
ping_pid=$!
if wait_for 12 wg_has_handshake cli1 "${TOPO_CLIENT_IF[cli1]}" "$(wg_pub srvkeyA)"; then
	fail wrong-password-no-handshake "a handshake completed with the wrong password"
else
	pass wrong-password-no-handshake
fi
wait "$ping_pid" 2>/dev/null
und=$(($(undecodable) - und_before))
sent=$(client_ctr INIT_FORWARDED)
if [ "$und" -ge 1 ] && [ "$sent" -ge 1 ]; then
	pass wrong-password-undecodable
else
	fail wrong-password-undecodable "server counted $und undecodable; client sent $sent initiations"
fi
if kill -0 "$CLIENT_PID" 2>/dev/null && kill -0 "$XWGP_PID" 2>/dev/null; then
	pass wrong-password-no-crash
else
	fail wrong-password-no-crash "a process died: client $(kill -0 "$CLIENT_PID" 2>&1 && echo up)," \
		"server $(kill -0 "$XWGP_PID" 2>&1 && echo up)"
fi

# The right password again: it recovers.
ns_stop "$CLIENT_PID"
client_start "$PW" || fail client-restart "xwgp client did not restart"
cli1_rehandshake
if wait_for 15 wg_has_handshake cli1 "${TOPO_CLIENT_IF[cli1]}" "$(wg_pub srvkeyA)"; then
	pass recovers-with-right-password
else
	fail recovers-with-right-password "no handshake after restoring the password"
fi
check ping-cli1-recovered topo_ping cli1 3
check ping-cli2-still topo_ping cli2 3

topo_xwgp show | sed 's/^/    /' >&2
ns_stop "$CLIENT_PID"
topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
