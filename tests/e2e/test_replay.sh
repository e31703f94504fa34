#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Handshake replay: an initiation captured off the wire from a real client
# (wireguard-go, cli1) and replayed later from another address must not
# redirect the session. The agent keeps the greatest TAI64N timestamp per
# (server key, client key) in the pinned xwgp_peer_state map and refuses
# anything not newer (counter INIT_REPLAY).
#
#   1. capture cli1's handshake on its LAN link
#   2. replay the initiation from the attacker (192.0.2.66), three times, and
#      once with cli2's address spoofed (raw socket)
#      -> INIT_REPLAY +4, INIT_FORWARDED +0, cli1's session keeps its endpoint,
#         no session points at the attacker, no initiation reaches the backend
#         (captured), the tunnel still pings
#   3. restart the agent (maps stay pinned) and replay again -> still refused
#   4. cli1 handshakes anew (fresh timestamp) -> accepted, tunnel pings
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
. "$(dirname "$0")/hardening_lib.sh"
topo_require jq tcpdump
FORGE=$(e2e_tool wg_forge)

hard_setup || { fail setup "topology setup failed"; exit 1; }
hard_config "$E2E_TMP/xwgp.json" . || { fail setup "config"; exit 1; }
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }
PCAP=$E2E_TMP/cli1.pcap
capture_start cli1 eth0 "$PCAP" || { fail capture "tcpdump did not start"; exit 1; }
topo_clients_up
capture_stop
CLI1_PUB=$(wg_pub cli1)
CLI1_EP=$(topo_ep 192.0.2.11 51820)
INIT_HEX=$("$FORGE" hex "pcap:$PCAP:1") || { fail capture "no initiation captured"; exit 1; }
e2e_log "captured initiation: ${INIT_HEX:0:40}... (${#INIT_HEX} hex digits)"
check ping-before topo_ping cli1 3

sessions_of() {
	topo_xwgp show --json | jq --arg k "$1" '[.sessions[] | select(.client_pubkey == $k)] | length'
}

# Initiations in a capture (WireGuard type 1 right after the UDP header).
inits_in() {
	tcpdump -nr "$1" 'udp[8] = 1' 2>/dev/null | wc -l
}

# replay_check NAME: replay from the attacker (x3) and spoofed from cli2, then assert.
replay_check() {
	local name=$1 a=$E2E_TMP/$1.a b=$E2E_TMP/$1.b pcap=$E2E_TMP/$1-srvA.pcap n0 n1 ep moved x y
	snap_settled "$a"
	n0=$(sessions_of "$CLI1_PUB")
	capture_start srvA eth0 "$pcap" || fail "$name-capture" "tcpdump did not start"
	ns_exec att "$FORGE" send --src "$HARD_ATT_IP:40404" --dst "$TOPO_PROXY_C:$TOPO_PORT" \
		--count 3 "hex:$INIT_HEX" || fail "$name-send" "wg_forge failed"
	ns_exec att "$FORGE" send --raw --src 192.0.2.12:51820 --dst "$TOPO_PROXY_C:$TOPO_PORT" \
		"hex:$INIT_HEX" || fail "$name-send" "wg_forge --raw failed"
	snap_settled "$b"
	capture_stop
	n1=$(sessions_of "$CLI1_PUB")

	x=$(delta "$a" "$b" agent.INIT_REPLAY)
	y=$(delta "$a" "$b" agent.INIT_FORWARDED)
	if [ "$x" -eq 4 ] && [ "$y" -eq 0 ]; then
		pass "$name-refused-as-replay"
	else
		fail "$name-refused-as-replay" "INIT_REPLAY moved by $x (want 4), INIT_FORWARDED by $y (want 0)"
	fi
	ep=$(sess_field "$CLI1_PUB" client_endpoint)
	# Sessions of cli1's key elsewhere than cli1, or any at the attacker.
	moved=$(topo_xwgp show --json | jq --arg k "$CLI1_PUB" --arg ep "$CLI1_EP" \
		'[.sessions[] | select((.client_pubkey == $k and .client_endpoint != $ep) or
			(.client_endpoint | startswith("192.0.2.66:")))] | length')
	if [ "$ep" = "$CLI1_EP" ] && [ "$n1" -eq "$n0" ] && [ "$moved" -eq 0 ]; then
		pass "$name-session-unchanged"
	else
		fail "$name-session-unchanged" "cli1 endpoint $ep (want $CLI1_EP), sessions $n0 -> $n1," \
			"$moved session(s) of cli1 elsewhere or at the attacker"
	fi
	x=$(inits_in "$pcap")
	if [ "$x" -eq 0 ]; then
		pass "$name-backend-saw-nothing"
	else
		fail "$name-backend-saw-nothing" "srvA received $x initiations"
	fi
	check "$name-ping" topo_ping cli1 3
}

replay_check replay

# The timestamps live in a pinned map: a restarted agent refuses too.
topo_xwgp_stop
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail restart "xwgp did not restart"; exit 1; }
replay_check replay-after-restart

# A real new handshake (newer timestamp) is still accepted.
a=$E2E_TMP/fresh.a b=$E2E_TMP/fresh.b
snap_settled "$a"
topo_client_forget cli1
topo_clients_connect
ns_exec cli1 ping -c 1 -W 3 "${TOPO_TUN_SERVER[cli1]}" >/dev/null 2>&1
snap_settled "$b"
x=$(delta "$a" "$b" agent.INIT_FORWARDED)
y=$(delta "$a" "$b" agent.INIT_REPLAY)
if [ "$x" -ge 1 ] && [ "$y" -eq 0 ]; then
	pass fresh-handshake-accepted
else
	fail fresh-handshake-accepted "INIT_FORWARDED moved by $x (want >= 1), INIT_REPLAY by $y (want 0)"
fi
check fresh-handshake-ping topo_ping cli1 3

topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
