#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Config reload with SIGHUP (issue 4), real wireguard-go peers:
#   config 1: server A serves cli1 (-> A1) and cli2 (-> A2); server B only an
#             unrelated key, so cli3 has no peer.
#   config 2: cli1 unchanged, cli2 removed, cli3 added under server B (-> B1).
# While cli1 streams pings across the SIGHUP:
#   - cli1 keeps passing traffic without a new handshake (zero loss, same
#     session and indexes, latest-handshake unchanged),
#   - cli2's session is deleted with its server index: its packets now die in
#     XDP as unknown indexes, its pings fail,
#   - cli3 connects (handshake with B1 through xwgp, ping).
# Then a config with errors is rejected (errors logged, old config kept,
# traffic unaffected), and a changed restart-only key (upstream) is reported
# and ignored.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
topo_require jq

CONF="$E2E_TMP/xwgp.json"
STREAM_PKTS=300 # 6 s at 20 ms

show_json() { topo_xwgp show --json; }
agent_counter() { show_json | jq ".counters.agent.$1 // 0"; }
xdp_counter() { show_json | jq ".counters.xdp.$1.packets // 0"; }
session_of() {
	show_json | jq -r --arg k "$(wg_pub "$1")" '.sessions[] | select(.client_pubkey == $k) | "\(.client_proxy_index) \(.server_proxy_index) \(.established)"' | sort
}
client_hs() { wg_latest_handshake "$1" "${TOPO_CLIENT_IF[$1]}" "$(wg_pub "${TOPO_SERVER_KEY[$1]}")"; }
ping_once() { ns_exec "$1" ping -c 1 -W 1 "${TOPO_TUN_SERVER[$1]}" >/dev/null 2>&1; }

# write_config FILE A_PEERS B_PEERS [UPSTREAM_PORT]: peers as JSON lists.
write_config() {
	cat >"$1" <<JSON
{
  "listen": "$(topo_ep "$TOPO_PROXY_C" "$TOPO_PORT")",
  "timeout": 60,
  "interface": ["xc", "xs"],
  "upstream": "$(topo_ep "$TOPO_PROXY_S" "${4:-51900}")",
  "servers": [
    { "privkey_file": "$(wg_privfile srvkeyA)", "address": "${TOPO_SRV_ADDR[srvA]}", "peers": $2 },
    { "privkey": "$(wg_priv srvkeyB)", "address": "${TOPO_SRV_ADDR[srvB]}", "peers": $3 }
  ]
}
JSON
}

# SIGHUP and wait for the agent's verdict (a new "reload:" line).
sighup() {
	local n
	n=$(grep -c 'reload:' "$XWGP_LOG")
	kill -HUP "$XWGP_PID"
	wait_for 5 sh -c "[ \$(grep -c 'reload:' '$XWGP_LOG') -gt $n ]"
	sleep 0.2
}

topo_setup || { fail setup "topology setup failed"; exit 1; }
wg_genkey other
PEER_CLI1="{ \"pubkey\": \"$(wg_pub cli1)\", \"forward_to\": \":51820\" }"
PEER_CLI2="{ \"pubkey\": \"$(wg_pub cli2)\", \"forward_to\": \":51821\" }"
PEER_CLI3="{ \"pubkey\": \"$(wg_pub cli3)\", \"forward_to\": \":51820\" }"
PEER_OTHER="{ \"pubkey\": \"$(wg_pub other)\", \"forward_to\": \":51820\" }"

write_config "$CONF" "[ $PEER_CLI1, $PEER_CLI2 ]" "[ $PEER_OTHER ]"
topo_xwgp_start "$CONF" || { fail start "xwgp did not start"; exit 1; }
topo_client_connect cli1
topo_client_connect cli2
ping_once cli1 &
p1=$!
ping_once cli2 &
p2=$!
if wait_for 25 sh -c "[ \$(ip netns exec '$(ns_name cli1)' wg show '${TOPO_CLIENT_IF[cli1]}' latest-handshakes | awk '{print \$2}') -gt 0 ] &&
	[ \$(ip netns exec '$(ns_name cli2)' wg show '${TOPO_CLIENT_IF[cli2]}' latest-handshakes | awk '{print \$2}') -gt 0 ]"; then
	pass handshakes-config1
else
	fail handshakes-config1 "cli1/cli2 did not complete a handshake"
	sed 's/^/    /' "$XWGP_LOG"
	exit 1
fi
wait "$p1" "$p2"
check ping-cli1-config1 topo_ping cli1 2
check ping-cli2-config1 topo_ping cli2 2

cli1_session=$(session_of cli1)
cli1_hs=$(client_hs cli1)
cli1_backend_hs=$(wg_latest_handshake srvA "${TOPO_BACKEND_IF[cli1]}" "$(wg_pub cli1)")
[ -n "$(session_of cli2)" ] || fail setup "no session for cli2"
# cli3 has no peer yet: its initiations are refused (it keeps retrying every 5 s).
topo_client_connect cli3
no_peer=$(agent_counter INIT_NO_PEER)
no_peer_grew() { [ "$(agent_counter INIT_NO_PEER)" -gt "$no_peer" ]; }
if ! ping_once cli3 && wait_for 5 no_peer_grew; then
	pass unknown-peer-refused-before-reload
else
	fail unknown-peer-refused-before-reload "cli3 was served, or INIT_NO_PEER stayed $no_peer"
fi

# ---- reload: cli1 unchanged, cli2 removed, cli3 added -------------------------------
ns_spawn cli1 "$E2E_TMP/stream.log" ping -i 0.02 -c "$STREAM_PKTS" -W 2 "${TOPO_TUN_SERVER[cli1]}"
stream=$SPAWN_PID
sleep 1
write_config "$CONF" "[ $PEER_CLI1 ]" "[ $PEER_OTHER, $PEER_CLI3 ]"
sighup
if grep -q "reload: now serving 2 server(s); removed 1 session(s)" "$XWGP_LOG" && kill -0 "$XWGP_PID"; then
	pass reload-applied
else
	fail reload-applied "log:"
	sed 's/^/    /' "$XWGP_LOG"
fi

# cli2: gone from the table, its traffic refused in XDP (server index deleted too).
if [ -z "$(session_of cli2)" ]; then
	pass removed-peer-session-deleted
else
	fail removed-peer-session-deleted "cli2 still has $(session_of cli2)"
fi
unknown_before=$(xdp_counter DROP_UNKNOWN_INDEX)
if ns_exec cli2 ping -c 3 -i 0.2 -W 1 "${TOPO_TUN_SERVER[cli2]}" >/dev/null 2>&1; then
	fail removed-peer-stops "cli2 still reaches its backend"
else
	pass removed-peer-stops
fi
unknown_after=$(xdp_counter DROP_UNKNOWN_INDEX)
if [ "$unknown_after" -ge $((unknown_before + 3)) ]; then
	pass removed-peer-server-index-deleted
else
	fail removed-peer-server-index-deleted "DROP_UNKNOWN_INDEX $unknown_before -> $unknown_after"
fi

# cli3: new peer, connects on its next handshake (a retry, within 5 s).
if wait_for 20 ping_once cli3 &&
	wg_has_handshake srvB "${TOPO_BACKEND_IF[cli3]}" "$(wg_pub cli3)"; then
	pass added-peer-connects
else
	fail added-peer-connects "cli3 did not reach B1 through xwgp"
fi

# cli1: the stream crossed the reload without loss or handshake.
wait "$stream"
summary=$(grep 'packets transmitted' "$E2E_TMP/stream.log")
if [ "$(echo "$summary" | awk '{ print $1 }')" = "$STREAM_PKTS" ] &&
	[ "$(echo "$summary" | awk '{ print $4 }')" = "$STREAM_PKTS" ]; then
	pass unchanged-peer-zero-loss
else
	fail unchanged-peer-zero-loss "${summary:-no ping summary}"
fi
if [ "$(session_of cli1)" = "$cli1_session" ] && [ "$(client_hs cli1)" = "$cli1_hs" ] &&
	[ "$(wg_latest_handshake srvA "${TOPO_BACKEND_IF[cli1]}" "$(wg_pub cli1)")" = "$cli1_backend_hs" ]; then
	pass unchanged-peer-same-session-no-handshake
else
	fail unchanged-peer-same-session-no-handshake "session [$cli1_session] -> [$(session_of cli1)], handshake $cli1_hs -> $(client_hs cli1)"
fi

# ---- a config with errors is rejected ------------------------------------------------
sessions=$(show_json | jq '.sessions | length')
cp "$CONF" "$E2E_TMP/good.json"
write_config "$CONF" "[ $PEER_CLI1, { \"pubkey\": \"$(wg_pub cli2)\", \"forward_to\": \":99999\" } ]" "[ $PEER_OTHER ]"
sighup
if grep -q "reload: $CONF has errors (above); keeping the running config" "$XWGP_LOG" &&
	grep -q ":99999" "$XWGP_LOG" && kill -0 "$XWGP_PID"; then
	pass bad-config-rejected
else
	fail bad-config-rejected "log:"
	sed 's/^/    /' "$XWGP_LOG"
fi
if [ "$(show_json | jq '.sessions | length')" = "$sessions" ] && topo_ping cli1 2 >/dev/null &&
	topo_ping cli3 2 >/dev/null; then
	pass bad-config-keeps-old
else
	fail bad-config-keeps-old "sessions $sessions -> $(show_json | jq '.sessions | length'), or cli1/cli3 lost"
fi
# Still the old config: cli3 (only in the running config) can handshake again.
inits=$(agent_counter INIT_FORWARDED)
topo_client_forget cli3
topo_client_connect cli3
if wait_for 20 ping_once cli3 && [ "$(agent_counter INIT_FORWARDED)" -gt "$inits" ]; then
	pass bad-config-old-peers-served
else
	fail bad-config-old-peers-served "cli3 could not handshake again under the kept config"
fi

# ---- a restart-only key changes --------------------------------------------------------
write_config "$CONF" "[ $PEER_CLI1 ]" "[ $PEER_OTHER, $PEER_CLI3 ]" 51901
sighup
if grep -q "reload: \`upstream' changed; it takes effect after a restart, keeping the running value" "$XWGP_LOG" &&
	topo_ping cli1 2 >/dev/null; then
	pass restart-only-key-kept
else
	fail restart-only-key-kept "log:"
	sed 's/^/    /' "$XWGP_LOG"
fi

topo_xwgp_stop
