#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Agent restart survival (issue 4): while cli1 and cli3 push a steady ping
# stream (100 packets/s each) through their tunnels, the agent is SIGKILLed,
# stays down 2 s and starts again. The pinned maps and the still attached XDP
# program keep forwarding meanwhile, and the new agent reuses the maps and
# atomically replaces the program, so:
#   - zero packets of either stream are lost,
#   - no new handshake is needed: every client's latest-handshake and the
#     agent's INIT_FORWARDED / RESP_FORWARDED counters are unchanged,
#   - `xwgp show --json' lists the same sessions with the same indexes,
#     and the streams' sessions counted the packets the XDP path forwarded
#     while no agent ran.
# Then a pinned map with a foreign layout makes `xwgp server' refuse to start,
# naming the map and the field, with a non-zero exit status.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
topo_require jq bpftool

STREAM_PKTS=${STREAM_PKTS:-800} # 8 s at 10 ms
STREAM_CLIENTS=(cli1 cli3)

show_json() { topo_xwgp show --json; }
agent_counter() { show_json | jq ".counters.agent.$1 // 0"; }
# Sessions as "client_pubkey client_proxy_index server_proxy_index", sorted.
session_table() {
	show_json | jq -r '.sessions[] | "\(.client_pubkey) \(.client_proxy_index) \(.server_proxy_index) \(.established)"' | sort
}
# c2s packets of the established session of one client key.
session_c2s() {
	show_json | jq --arg k "$1" '[.sessions[] | select(.client_pubkey == $k and .established) | .c2s_packets] | add // 0'
}
handshakes() {
	local c
	for c in "${TOPO_CLIENTS[@]}"; do
		echo "$c $(wg_latest_handshake "$c" "${TOPO_CLIENT_IF[$c]}" "$(wg_pub "${TOPO_SERVER_KEY[$c]}")")"
	done
}
upstream_port() { sed -n 's/.*upstream port \([0-9]*\).*/\1/p' "$XWGP_LOG" | tail -1; }
xdp_prog_id() { ip -n "$(ns_name proxy)" -j link show xc | jq '.[0].xdp.prog.id // 0'; }

topo_setup || { fail setup "topology setup failed"; exit 1; }
topo_config "$E2E_TMP/xwgp.json"
# An ephemeral upstream port: the new agent must take the one the sessions use.
topo_upstream_ephemeral "$E2E_TMP/xwgp.json"
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }
port_before=$(upstream_port)
topo_clients_up
pass handshakes
topo_warm_up 3

table_before=$(session_table)
hs_before=$(handshakes)
inits_before=$(agent_counter INIT_FORWARDED)
resps_before=$(agent_counter RESP_FORWARDED)
prog_before=$(xdp_prog_id)
declare -A c2s_before
for c in "${STREAM_CLIENTS[@]}"; do
	c2s_before[$c]=$(session_c2s "$(wg_pub "$c")")
done
e2e_log "sessions before: $(echo "$table_before" | wc -l), inits $inits_before, XDP prog $prog_before"

# The streams: ping -i 0.01 prints a summary we parse after they end.
declare -A ping_pid
for c in "${STREAM_CLIENTS[@]}"; do
	ns_spawn "$c" "$E2E_TMP/stream-$c.log" ping -i 0.01 -c "$STREAM_PKTS" -W 2 "${TOPO_TUN_SERVER[$c]}"
	ping_pid[$c]=$SPAWN_PID
done
sleep 2
old_pid=$XWGP_PID
ns_stop "$XWGP_PID" KILL 2>/dev/null # no "Killed" job notice
XWGP_PID=
if kill -0 "$old_pid" 2>/dev/null; then
	fail sigkill "agent $old_pid still alive"
fi
if [ -d "$(ns_bpffs proxy)/xwgp/default" ] && [ "$(xdp_prog_id)" = "$prog_before" ]; then
	pass maps-and-program-survive-sigkill
else
	fail maps-and-program-survive-sigkill "pins or XDP attachment gone after SIGKILL"
fi
# No agent now: show reads the pinned arrays alone (sessions, their metadata
# by slot, the server key table): every session, both keys.
table_dead=$(session_table)
bad_keys=
for c in "${TOPO_CLIENTS[@]}"; do
	want=$(wg_pub "${TOPO_SERVER_KEY[$c]}")
	got=$(show_json | jq -r --arg k "$(wg_pub "$c")" '[.sessions[] | select(.client_pubkey == $k) | .server_pubkey] | unique | join(",")')
	[ "$got" = "$want" ] || bad_keys+=" $c:[$got]want[$want]"
done
if [ -n "$table_dead" ] && [ "$table_dead" = "$table_before" ] && [ -z "$bad_keys" ]; then
	pass show-while-killed
else
	fail show-while-killed "sessions [$table_dead] before [$table_before]; server keys:$bad_keys"
fi
sleep 2
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail restart "xwgp did not start again"; sed 's/^/    /' "$XWGP_LOG"; exit 1; }
for c in "${STREAM_CLIENTS[@]}"; do
	wait "${ping_pid[$c]}"
done
if [ -n "$port_before" ] && [ "$(upstream_port)" = "$port_before" ]; then
	pass same-upstream-port
else
	fail same-upstream-port "upstream port $port_before before the restart, $(upstream_port) after"
fi

for c in "${STREAM_CLIENTS[@]}"; do
	summary=$(grep 'packets transmitted' "$E2E_TMP/stream-$c.log")
	tx=$(echo "$summary" | awk '{ print $1 }')
	rx=$(echo "$summary" | awk '{ print $4 }')
	if [ -n "$tx" ] && [ "$tx" -eq "$STREAM_PKTS" ] && [ "$rx" -eq "$tx" ]; then
		pass "zero-loss-$c"
	else
		fail "zero-loss-$c" "stream through the restart: ${summary:-no ping summary}"
		sed 's/^/    /' "$E2E_TMP/stream-$c.log" | tail -5
	fi
done

hs_after=$(handshakes)
if [ "$hs_after" = "$hs_before" ]; then
	pass no-new-handshake
else
	fail no-new-handshake "latest handshakes changed: before [$hs_before] after [$hs_after]"
fi
inits_after=$(agent_counter INIT_FORWARDED)
resps_after=$(agent_counter RESP_FORWARDED)
if [ "$inits_after" -eq "$inits_before" ] && [ "$resps_after" -eq "$resps_before" ] && [ "$inits_before" -ge 3 ]; then
	pass init-counters-unchanged
else
	fail init-counters-unchanged "INIT_FORWARDED $inits_before -> $inits_after, RESP_FORWARDED $resps_before -> $resps_after"
fi

table_after=$(session_table)
if [ -n "$table_before" ] && [ "$table_after" = "$table_before" ]; then
	pass same-sessions-same-indexes
else
	fail same-sessions-same-indexes "before:"$'\n'"$table_before"$'\n'"after:"$'\n'"$table_after"
fi

# The streams crossed the pinned session while no agent ran: XDP counted them.
for c in "${STREAM_CLIENTS[@]}"; do
	after=$(session_c2s "$(wg_pub "$c")")
	delta=$((after - c2s_before[$c]))
	if [ "$delta" -ge "$STREAM_PKTS" ]; then
		pass "session-counted-$c"
	else
		fail "session-counted-$c" "c2s_packets grew by $delta, want >= $STREAM_PKTS"
	fi
done

prog_after=$(xdp_prog_id)
if [ "$prog_after" != 0 ] && [ "$prog_after" != "$prog_before" ] &&
	grep -q "replacing the previous agent's program" "$XWGP_LOG" &&
	grep -q "reusing the maps pinned under" "$XWGP_LOG"; then
	pass program-replaced-maps-reused
else
	fail program-replaced-maps-reused "XDP prog $prog_before -> $prog_after; log:"
	sed 's/^/    /' "$XWGP_LOG"
fi
if grep -q "session cache" "$XWGP_LOG"; then
	fail cache-not-read "the restarted agent read the cache although the pinned table was full"
else
	pass cache-not-read
fi

# Still a working agent: a new handshake goes through it.
check ping-after-restart topo_ping cli2 3

# ---- a pinned map with another layout ------------------------------------------
# Instance "bad": plant xwgp_sessions with an 8-byte value where 168 (sizeof struct xwgp_session) are expected.
bad_pin=/sys/fs/bpf/xwgp/bad
ns_exec proxy mkdir -p "$bad_pin"
if ! ns_exec proxy bpftool map create "$bad_pin/xwgp_sessions" type array key 4 value 8 \
	entries 16 name xwgp_sessions; then
	fail layout-mismatch "bpftool could not plant the map"
else
	topo_config "$E2E_TMP/bad.json" 'instance="bad"'
	# A second instance while the first runs: its own cache file (one is locked).
	out=$(XWGP_CACHE_FILE="$E2E_TMP/bad-cache.json" ns_exec proxy timeout 20 "$XWGP_BIN" server \
		--xdp-mode off "$E2E_TMP/bad.json" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
		grep -q "pinned map $bad_pin/xwgp_sessions: value size 8, this xwgp uses 168" <<<"$out" &&
		grep -q "xwgp down" <<<"$out"; then
		pass layout-mismatch-refused
	else
		fail layout-mismatch-refused "exit $rc, output:"
		sed 's/^/    /' <<<"$out"
	fi
	# The planted map is untouched (not replaced behind the user's back).
	vs=$(ns_exec proxy bpftool -j map show pinned "$bad_pin/xwgp_sessions" | jq .bytes_value)
	if [ "$vs" = 8 ]; then pass layout-mismatch-map-untouched; else fail layout-mismatch-map-untouched "value size now $vs"; fi
fi

# ---- pins of an xwgp before WGIT v2 (issue 13) -------------------------------------------
# Instance "v1": the session hash and the server-index hash of the old layout.
v1_pin=/sys/fs/bpf/xwgp/v1
ns_exec proxy mkdir -p "$v1_pin"
if ! ns_exec proxy bpftool map create "$v1_pin/xwgp_sessions" type hash key 4 value 168 \
	entries 16 name xwgp_sessions ||
	! ns_exec proxy bpftool map create "$v1_pin/xwgp_srv_index" type hash key 4 value 4 \
		entries 16 name xwgp_srv_index; then
	fail wgit-v1-pins "bpftool could not plant the maps"
else
	topo_config "$E2E_TMP/v1.json" 'instance="v1"'
	out=$(XWGP_CACHE_FILE="$E2E_TMP/v1-cache.json" ns_exec proxy timeout 20 "$XWGP_BIN" server \
		--xdp-mode off "$E2E_TMP/v1.json" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "before WGIT v2" <<<"$out" &&
		grep -q "run \`xwgp down' first" <<<"$out" && grep -q "cache file" <<<"$out"; then
		pass wgit-v1-pins-refused
	else
		fail wgit-v1-pins-refused "exit $rc, output:"
		sed 's/^/    /' <<<"$out"
	fi
	if ns_exec proxy test -e "$v1_pin/xwgp_srv_index"; then
		pass wgit-v1-pins-untouched
	else
		fail wgit-v1-pins-untouched "the old pins were removed"
	fi
fi

# ---- pins of the first WGIT v2 layout (ABI 4: metadata in a hash) ----------------------
# Instance "v4": only its cfg map, saying ABI 4, is needed to be recognised.
v4_pin=/sys/fs/bpf/xwgp/v4
ns_exec proxy mkdir -p "$v4_pin"
# shellcheck disable=SC2046 # 92 separate zero bytes
if ! ns_exec proxy bpftool map create "$v4_pin/xwgp_cfg" type array key 4 value 96 \
	entries 1 name xwgp_cfg ||
	! ns_exec proxy bpftool map update pinned "$v4_pin/xwgp_cfg" key 0 0 0 0 \
		value 4 0 0 0 $(printf '0 %.0s' $(seq 92)); then
	fail abi4-pins "bpftool could not plant the map"
else
	topo_config "$E2E_TMP/v4.json" 'instance="v4"'
	out=$(XWGP_CACHE_FILE="$E2E_TMP/v4-cache.json" ns_exec proxy timeout 20 "$XWGP_BIN" server \
		--xdp-mode off "$E2E_TMP/v4.json" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "older session layout (ABI 4" <<<"$out" &&
		grep -q "run \`xwgp down' first" <<<"$out"; then
		pass abi4-pins-refused
	else
		fail abi4-pins-refused "exit $rc, output:"
		sed 's/^/    /' <<<"$out"
	fi
	if ns_exec proxy test -e "$v4_pin/xwgp_cfg"; then
		pass abi4-pins-untouched
	else
		fail abi4-pins-untouched "the old pins were removed"
	fi
fi

topo_xwgp_stop
