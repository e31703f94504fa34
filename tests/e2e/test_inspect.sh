#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Inspection (issue 4):
#   - every pinned map that can carry BTF has it, and `bpftool map dump
#     pinned' prints its named fields; XSKMAP and DEVMAP_HASH cannot carry
#     BTF with libbpf 1.1 (it strips it for those types): reported as SKIP;
#   - `xwgp show --json' parses, and its per-session counters match the
#     traffic sent: N pings of a fixed size through cli1's tunnel move its
#     session's c2s/s2c packets by N and bytes by N x the WireGuard message
#     size, within +-1% (keepalives aside, nothing else uses the tunnel);
#     the same with the traffic forced through the agent (xdp_mode off).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
topo_require jq bpftool

PIN=/sys/fs/bpf/xwgp/default
PINGS=${PINGS:-500}
PAYLOAD=100 # ICMP data: inner IPv4 packet 20 + 8 + 100 = 128 bytes (a multiple of 16)
MSG_LEN=$((16 + 128 + 16)) # transport header, padded plaintext, Poly1305 tag

# map -> field names its BTF dump must show ("key"/"value" alone: scalar types).
declare -A FIELDS=(
	[xwgp_sessions]="client_proxy_index server_proxy_index client_origin_index server_origin_index client_local server_local addr port family csvl ssvl flags seq created_ns last_seen_ns c2s_packets c2s_bytes s2c_packets s2c_bytes"
	[xwgp_sess_meta]="client_pub sent_mac1 client_mac1 handshake_ns established_ms server_key flags"
	[xwgp_srv_keys]="pub"
	[xwgp_peer_state]="server_pub client_pub last_tai64n cookie cookie_ns updated_ns sessions"
	[xwgp_cfg]="abi_version flags listen upstream punt_rate_pps punt_burst max_packet_size obfs_key"
	[xwgp_stats]="values cpu packets bytes"
	[xwgp_punt_rl]="addr tat_ns"
	[xwgp_agent_st]="key value"
	[xwgp_xsk_slot]="key value"
)
NO_BTF=(xwgp_xsks xwgp_devmap)

show_json() { topo_xwgp show --json; }
# One counter of cli1's established session.
sess() {
	show_json | jq --arg k "$(wg_pub cli1)" "[.sessions[] | select(.client_pubkey == \$k and .established) | .$1] | add // 0"
}
within_1pct() { # GOT WANT
	local got=$1 want=$2 d
	d=$((got > want ? got - want : want - got))
	[ $((d * 100)) -le "$want" ]
}

# Send PINGS pings through cli1 and check its session's counters moved by them.
check_counters() {
	local tag=$1 k out
	declare -A before after
	for k in c2s_packets c2s_bytes s2c_packets s2c_bytes; do
		before[$k]=$(sess "$k")
	done
	out=$(ns_exec cli1 ping -q -c "$PINGS" -i 0.01 -s "$PAYLOAD" -W 2 "${TOPO_TUN_SERVER[cli1]}")
	if ! grep -q "$PINGS packets transmitted, $PINGS received" <<<"$out"; then
		fail "counters-$tag" "ping lost packets: $(grep transmitted <<<"$out")"
		return
	fi
	# XDP refreshes nothing lazily: counters are exact at once; allow the
	# agent's batch to land.
	sleep 0.5
	for k in c2s_packets c2s_bytes s2c_packets s2c_bytes; do
		after[$k]=$(sess "$k")
	done
	for k in c2s s2c; do
		local dp=$((after[${k}_packets] - before[${k}_packets]))
		local db=$((after[${k}_bytes] - before[${k}_bytes]))
		if within_1pct "$dp" "$PINGS" && within_1pct "$db" $((PINGS * MSG_LEN)); then
			pass "counters-$tag-$k"
		else
			fail "counters-$tag-$k" "sent $PINGS x $MSG_LEN B; session counted $dp packets, $db bytes"
		fi
	done
}

topo_setup || { fail setup "topology setup failed"; exit 1; }
topo_config "$E2E_TMP/xwgp.json"
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }
topo_clients_up
pass handshakes
topo_warm_up 2

# ---- bpftool --------------------------------------------------------------------
for map in "${!FIELDS[@]}"; do
	btf=$(ns_exec proxy bpftool -j map show pinned "$PIN/$map" | jq '.btf_id // 0')
	if [ "$map" = xwgp_sessions ] || [ "$map" = xwgp_sess_meta ] || [ "$map" = xwgp_srv_keys ]; then
		# WGIT v2: arrays of max_sessions slots; a dump prints every one
		# (slow enough to let the sessions expire): look at slot 0, the
		# first one taken (entry 0 of the server keys: the first key).
		dump=$(ns_exec proxy bpftool map lookup pinned "$PIN/$map" key 0 0 0 0 2>&1 | jq -s . 2>&1)
	else
		dump=$(ns_exec proxy bpftool map dump pinned "$PIN/$map" 2>&1)
	fi
	missing=()
	for f in ${FIELDS[$map]}; do
		grep -q "\"$f\":" <<<"$dump" || missing+=("$f")
	done
	# Without BTF bpftool prints "key: 01 00 ..." hex instead of JSON.
	if [ "$btf" != 0 ] && [ ${#missing[@]} -eq 0 ] && ! grep -q '^key: ' <<<"$dump" &&
		[ "$(jq length <<<"$dump")" -gt 0 ]; then
		pass "bpftool-fields-$map"
	else
		fail "bpftool-fields-$map" "btf_id $btf, missing fields: ${missing[*]}; dump starts:"
		head -5 <<<"$dump" | sed 's/^/    /'
	fi
done
for map in "${NO_BTF[@]}"; do
	btf=$(ns_exec proxy bpftool -j map show pinned "$PIN/$map" | jq '.btf_id // 0')
	if [ "$btf" = 0 ]; then
		skip "bpftool-fields-$map" "$(ns_exec proxy bpftool -j map show pinned "$PIN/$map" | jq -r .type) cannot carry BTF with libbpf 1.1 (it strips key/value types for that map type)"
	else
		pass "bpftool-fields-$map"
	fi
done

# ---- show --json and per-session counters ----------------------------------------------
if show_json | jq -e '(.sessions | length) == 3 and (.sessions[0] | has("client_pubkey") and has("c2s_bytes") and has("handshake_age_sec")) and (.counters.xdp.RX.packets > 0)' >/dev/null; then
	pass show-json-parses
else
	fail show-json-parses "$(show_json | head -20)"
fi
if show_json | jq -e '.totals.sessions == 3 and .totals.c2s_packets == ([.sessions[].c2s_packets] | add) and .totals.s2c_bytes == ([.sessions[].s2c_bytes] | add)' >/dev/null; then
	pass show-json-totals
else
	fail show-json-totals "$(show_json | jq -c .totals)"
fi
if topo_xwgp show | grep -q "latest handshake: .* seconds ago" && topo_xwgp show | grep -q "^3 session(s)"; then
	pass show-text
else
	fail show-text "$(topo_xwgp show | head -20)"
fi

check_counters xdp
xdp_fwd=$(show_json | jq '[.counters.xdp | (.C2S_TX, .C2S_REDIRECT, .S2C_TX, .S2C_REDIRECT) | .packets] | add')
[ "$xdp_fwd" -ge $((2 * PINGS)) ] || fail xdp-carried "XDP forwarded only $xdp_fwd packets"

# The same sessions with XDP detached: the agent forwards and counts.
topo_xwgp_stop
topo_xwgp_start --xdp-mode off "$E2E_TMP/xwgp.json" || { fail restart "xwgp did not start"; exit 1; }
ns_exec proxy ip link set xc xdp off
ns_exec proxy ip link set xs xdp off
agent_before=$(show_json | jq '.counters.agent.TRANSPORT_C2S')
check_counters agent
agent_after=$(show_json | jq '.counters.agent.TRANSPORT_C2S')
if [ $((agent_after - agent_before)) -ge "$PINGS" ]; then
	pass agent-carried
else
	fail agent-carried "TRANSPORT_C2S grew by $((agent_after - agent_before)), want >= $PINGS"
fi

topo_xwgp_stop
