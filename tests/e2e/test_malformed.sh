#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed packets against the running server, end to end (tests/bpf/
# test_xdp.c covers the same rules in BPF_PROG_TEST_RUN): a table of
# datagrams sent to the listen port (from the attacker on the client LAN) and
# to the upstream port (from backend srvA's address), with XDP attached and
# again with --xdp-mode off (the agent's path):
#   truncated at every field boundary of each message type, one byte too
#   long, non-zero reserved bytes, an unknown type, handshakes sent the wrong
#   way, receiver index 0, larger than max_packet_size (1200 here; 1300 bytes
#   in one frame, and 3000 bytes, which arrive as IP fragments: XDP drops a
#   first fragment addressed to our port and address (a handshake is never
#   fragmented, and fragments would bypass the punt limit), so the stack
#   never reassembles them; with --xdp-mode off the agent refuses the
#   reassembled datagram).
# Every datagram must be counted under its named reason (the table says which
# for XDP and for the agent); counts are compared per reason after the whole
# table. Nothing may be forwarded: the forwarding counters do not move, and
# captures of everything the proxy sends to either LAN hold no datagram with
# the forged marker (every payload long enough carries a5a5...) and none
# shorter than a WireGuard keepalive. The agent keeps serving: pings through
# every tunnel afterwards (and the captures see them: they do see traffic).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
. "$(dirname "$0")/hardening_lib.sh"
topo_require jq tcpdump
FORGE=$(e2e_tool wg_forge)

MAX_PACKET=1200

# SIDE PAYLOAD XDP_REASON AGENT_REASON NAME
#   SIDE C: to the listen port, S: to the upstream port
#   XDP_REASON: the XDP drop counter, or `punt' (XDP hands it to the agent,
#   which counts AGENT_REASON)
TABLE=(
	"C hex: DROP_MALFORMED MALFORMED empty"
	"C hex:01 DROP_MALFORMED MALFORMED 1-byte"
	"C hex:010000 DROP_MALFORMED MALFORMED 3-byte"
	"C fill:149:01000000 DROP_MALFORMED MALFORMED init-149-bytes"
	"C fill:148:01010000 DROP_MALFORMED MALFORMED init-reserved-byte-1"
	"C fill:148:01000001 DROP_MALFORMED MALFORMED init-reserved-byte-3"
	"C fill:32:0400000000000000 DROP_INDEX_ZERO TRANSPORT_UNKNOWN_INDEX transport-receiver-0"
	"C fill:64:04000100 DROP_MALFORMED MALFORMED transport-reserved-byte-2"
	"C fill:64:05000000 DROP_MALFORMED BAD_TYPE type-5"
	"C fill:92:02000000 DROP_BAD_TYPE BAD_TYPE response-at-listen"
	"C fill:64:03000000 DROP_BAD_TYPE BAD_TYPE cookie-at-listen"
	"C fill:1300:04000000 DROP_TOO_BIG TOO_BIG transport-1300-bytes"
	"C fill:3000:01000000 DROP_FRAGMENT TOO_BIG init-3000-bytes-fragmented"
	"S hex: DROP_MALFORMED MALFORMED empty"
	"S hex:02 DROP_MALFORMED MALFORMED 1-byte"
	"S fill:93:02000000 DROP_MALFORMED MALFORMED response-93-bytes"
	"S fill:92:02000100 DROP_MALFORMED MALFORMED response-reserved-byte-2"
	"S fill:65:03000000 DROP_MALFORMED MALFORMED cookie-65-bytes"
	"S fill:64:03000001 DROP_MALFORMED MALFORMED cookie-reserved-byte-3"
	"S fill:92:020000001111111100000000 punt RESP_UNKNOWN_INDEX response-receiver-0"
	"S fill:64:0300000000000000 punt COOKIE_UNKNOWN_INDEX cookie-receiver-0"
	"S fill:148:01000000 DROP_BAD_TYPE BAD_TYPE initiation-at-upstream"
	"S fill:32:0400000000000000 DROP_INDEX_ZERO TRANSPORT_UNKNOWN_INDEX transport-receiver-0"
	"S fill:1300:02000000 DROP_TOO_BIG TOO_BIG response-1300-bytes"
	"S fill:3000:04000000 DROP_FRAGMENT TOO_BIG transport-3000-bytes-fragmented"
)
# Truncated at every field boundary (and one byte short of complete).
for l in 4 8 40 88 116 132 147; do # initiation: sender, ephemeral, static, timestamp, mac1, mac2
	TABLE+=("C fill:$l:01000000 DROP_MALFORMED MALFORMED init-truncated-$l")
done
for l in 4 8 16 31; do # transport: receiver, counter, shorter than header + tag
	TABLE+=("C fill:$l:04000000 DROP_MALFORMED MALFORMED transport-truncated-$l")
	TABLE+=("S fill:$l:04000000 DROP_MALFORMED MALFORMED transport-truncated-$l")
done
for l in 4 8 12 44 60 76 91; do # response: sender, receiver, ephemeral, empty, mac1, mac2
	TABLE+=("S fill:$l:02000000 DROP_MALFORMED MALFORMED response-truncated-$l")
done
for l in 4 8 32 63; do # cookie reply: receiver, nonce, cookie
	TABLE+=("S fill:$l:03000000 DROP_MALFORMED MALFORMED cookie-truncated-$l")
done
FORWARD_COUNTERS=(xdp.C2S_TX xdp.C2S_REDIRECT xdp.S2C_TX xdp.S2C_REDIRECT agent.INIT_FORWARDED
	agent.RESP_FORWARDED agent.COOKIE_FORWARDED agent.TRANSPORT_C2S agent.TRANSPORT_S2C)

hard_setup || { fail setup "topology setup failed"; exit 1; }
hard_config "$E2E_TMP/xwgp.json" ".max_packet_size = $MAX_PACKET" || { fail setup "config"; exit 1; }

send_row() {
	local side=$1 payload=$2
	if [ "$side" = C ]; then
		ns_exec att "$FORGE" send --src "$HARD_ATT_IP:40404" --dst "$LISTEN" "$payload"
	else
		ns_exec srvA "$FORGE" send --src "${TOPO_SRV_ADDR[srvA]}:40405" --dst "$UPSTREAM" \
			"$payload"
	fi
}

# Proxy-sent datagrams in PCAP: with the marker / shorter than a keepalive / all.
leaks() {
	local marked short
	marked=$("$FORGE" count "$1" --contains "$MARK")
	short=$(tcpdump -nr "$1" 'udp[4:2] < 40' 2>/dev/null | wc -l)
	echo "$((marked + short))"
}

run_table() {
	local a=$E2E_TMP/$MODE.a b=$E2E_TMP/$MODE.b pc=$E2E_TMP/$MODE-lanc.pcap
	local ps=$E2E_TMP/$MODE-lans.pcap cap_c cap_s row side payload xr ar name
	local want_rx=0 bad=0 n k
	declare -A want=()
	for row in "${TABLE[@]}"; do
		read -r side payload xr ar name <<<"$row"
		if [ "$MODE" = agent ]; then
			want[agent.$ar]=$((${want[agent.$ar]:-0} + 1))
			want_rx=$((want_rx + 1))
		elif [ "$xr" = punt ]; then
			want[agent.$ar]=$((${want[agent.$ar]:-0} + 1))
			want[xdp.PUNT_HANDSHAKE]=$((${want[xdp.PUNT_HANDSHAKE]:-0} + 1))
			want_rx=$((want_rx + 1))
		else
			want[xdp.$xr]=$((${want[xdp.$xr]:-0} + 1))
		fi
	done

	# Everything the proxy sends into either LAN.
	ns_spawn lanc "$pc.log" tcpdump -Z root -U --immediate-mode -n -i pxc -w "$pc" \
		"udp and src host $TOPO_PROXY_C"
	cap_c=$SPAWN_PID
	ns_spawn lans "$ps.log" tcpdump -Z root -U --immediate-mode -n -i pxs -w "$ps" \
		"udp and src host $TOPO_PROXY_S"
	cap_s=$SPAWN_PID
	wait_for 10 grep -q 'listening on' "$pc.log" && wait_for 10 grep -q 'listening on' "$ps.log" ||
		{ fail "$MODE-capture" "tcpdump did not start"; return; }

	# Let the tunnels fall silent: wireguard-go sends its passive keepalive
	# 10 s after the last data it received, and in agent mode that would
	# move the agent's RX and forwarding counters during the table.
	sleep 11
	snap_settled "$a"
	for row in "${TABLE[@]}"; do
		read -r side payload xr ar name <<<"$row"
		send_row "$side" "$payload" || { fail "$MODE-send-$side-$name" "wg_forge failed"; bad=1; }
	done
	snap_settled "$b"

	# Each reason moved by exactly its rows.
	for k in "${!want[@]}"; do
		n=$(delta "$a" "$b" "$k")
		if [ "$n" -ne "${want[$k]}" ]; then
			fail "$MODE-counted-$k" "moved by $n, the table has ${want[$k]} rows for it"
			bad=1
		fi
	done
	if [ "$MODE" = xdp ]; then
		n=$(delta "$a" "$b" xdp.PASS_FRAGMENT)
		[ "$n" -ge 4 ] || { fail "$MODE-counted-xdp.PASS_FRAGMENT" "moved by $n, want >= 4"; bad=1; }
	fi
	n=$(delta "$a" "$b" agent.RX_CLIENT agent.RX_SERVER)
	if [ "$n" -ne "$want_rx" ]; then
		fail "$MODE-agent-rx" "the agent received $n datagrams, want $want_rx"
		bad=1
	fi
	[ "$bad" -eq 0 ] && pass "$MODE-all-${#TABLE[@]}-counted-by-reason"

	n=$(delta "$a" "$b" "${FORWARD_COUNTERS[@]}")
	[ "$n" -eq 0 ] && pass "$MODE-forwarding-counters-unchanged" ||
		fail "$MODE-forwarding-counters-unchanged" "forwarding counters moved by $n"

	# The agent keeps serving; the pings also show that the captures work.
	for c in "${TOPO_CLIENTS[@]}"; do
		check "$MODE-ping-after-$c" topo_ping "$c" 3
	done
	capture_stop "$cap_c"
	capture_stop "$cap_s"
	n=$(($(leaks "$pc") + $(leaks "$ps")))
	k=$(($("$FORGE" count "$pc") + $("$FORGE" count "$ps")))
	if [ "$n" -eq 0 ] && [ "$k" -ge 18 ]; then
		pass "$MODE-nothing-forwarded"
	else
		fail "$MODE-nothing-forwarded" "captures hold $n forged datagrams (want 0) among $k" \
			"(want >= 18: the pings)"
	fi
}

MODE=xdp
hard_start "$E2E_TMP/xwgp.json"
run_table

MODE=agent
hard_agent_only "$E2E_TMP/xwgp.json"
run_table

topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
