#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The agent's handshake crypto (agent/wg_crypto.c) against real WireGuard
# peers (wireguard-go):
#  (a) a handshake captured off the wire between a real client and server:
#      the agent recovers the client's public key with the server's private
#      key, picks the server among decoys by MAC1, and recomputes the MAC1 of
#      the initiation and of the response byte for byte;
#  (b) index translation: tests/tools/wgit_relay rewrites the client's index
#      and recomputes the MACs with the agent's code; the real server must
#      accept it (handshake on both ends, ping, bulk data), and the same
#      rewrite with stale MACs (--no-remac) must be rejected.
#
#   cli1 [2001:db8:1::1] ----------------------- [2001:db8:1::2] srv
#   cli2 192.0.2.1 --- 192.0.2.2 rly (relay :51821)  198.51.100.1 --- 198.51.100.2 srv
#   cli3 192.0.2.5 --- 192.0.2.6 rly (relay :51821, --no-remac)
#   tunnel: srv 203.0.113.1/24, cli1 .2, cli2 .3, cli3 .4; wg port 51820
# shellcheck source=tests/lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"

require_root
require_cmds wireguard-go wg tcpdump ethtool ping nc ss
RELAY=$(e2e_tool wgit_relay)
CHECK=$(e2e_tool wg_capture_check)

WG_PORT=51820
RELAY_PORT=51821
TUN_SRV=203.0.113.1
IF_SRV=$(wg_ifname s)
IF_CLI1=$(wg_ifname c1)
IF_CLI2=$(wg_ifname c2)
IF_CLI3=$(wg_ifname c3)
PCAP_DIRECT=$E2E_TMP/direct.pcap
PCAP_UPSTREAM=$E2E_TMP/upstream.pcap

# Start tcpdump on IF in NS writing to FILE; returns once it listens.
capture_start() {
	local ns=$1 ifc=$2 file=$3 log=$3.log
	# --immediate-mode: otherwise packets still in the TPACKET_V3 block
	# when tcpdump is stopped never reach the file.
	ns_spawn "$ns" "$log" tcpdump -Z root -U --immediate-mode -n -i "$ifc" -w "$file" udp
	CAPTURE_PID=$SPAWN_PID
	wait_for 10 grep -q 'listening on' "$log"
}

# Stop the capture once FILE holds a handshake response (or after 5 s).
capture_stop() {
	local file=$1
	wait_for 5 sh -c "'$CHECK' indexes '$file' | grep -q '^resp '"
	ns_stop "$CAPTURE_PID" INT
}

# Print counter NAME from a relay's output (empty if missing).
relay_counter() {
	awk -v n="$2" '$1 == n { print $2 }' "$1"
}

# Succeed when counter NAME in LOG compares OP (-eq, -ge, ...) to VALUE.
expect_counter() {
	local log=$1 name=$2 op=$3 want=$4 got
	got=$(relay_counter "$log" "$name")
	if [ -z "$got" ] || ! test "$got" "$op" "$want"; then
		echo "$name is ${got:-missing}, want $op $want"
		return 1
	fi
}

setup() {
	local n
	for n in srv rly cli1 cli2 cli3; do
		ns_add "$n" || return 1
	done
	veth_link cli1 c1 2001:db8:1::1/64 srv s1 2001:db8:1::2/64 || return 1
	veth_link cli2 c2 192.0.2.1/30 rly r1 192.0.2.2/30 || return 1
	veth_link cli3 c3 192.0.2.5/30 rly r3 192.0.2.6/30 || return 1
	veth_link rly r2 198.51.100.1/30 srv s2 198.51.100.2/30 || return 1
	for n in srv cli1 cli2 cli3; do
		wg_genkey "$n" || return 1
	done
	wg_up srv "$IF_SRV" "$(wg_privfile srv)" $WG_PORT $TUN_SRV/24 || return 1
	wg_up cli1 "$IF_CLI1" "$(wg_privfile cli1)" $WG_PORT 203.0.113.2/24 || return 1
	wg_up cli2 "$IF_CLI2" "$(wg_privfile cli2)" $WG_PORT 203.0.113.3/24 || return 1
	wg_up cli3 "$IF_CLI3" "$(wg_privfile cli3)" $WG_PORT 203.0.113.4/24 || return 1
	wg_peer srv "$IF_SRV" "$(wg_pub cli1)" 203.0.113.2/32 || return 1
	wg_peer srv "$IF_SRV" "$(wg_pub cli2)" 203.0.113.3/32 || return 1
	wg_peer srv "$IF_SRV" "$(wg_pub cli3)" 203.0.113.4/32 || return 1
	wg_peer cli1 "$IF_CLI1" "$(wg_pub srv)" $TUN_SRV/32 "[2001:db8:1::2]:$WG_PORT" || return 1
	wg_peer cli2 "$IF_CLI2" "$(wg_pub srv)" $TUN_SRV/32 "192.0.2.2:$RELAY_PORT" || return 1
	wg_peer cli3 "$IF_CLI3" "$(wg_pub srv)" $TUN_SRV/32 "192.0.2.6:$RELAY_PORT" || return 1
}

# Both ends of a tunnel report a completed handshake.
handshake_both() {
	local cli=$1 ifc=$2
	wg_has_handshake srv "$IF_SRV" "$(wg_pub "$cli")" &&
		wg_has_handshake "$cli" "$ifc" "$(wg_pub srv)"
}

# (a) Direct handshake cli1 <-> srv, captured on the server's veth.
test_captured_handshake() {
	if ! capture_start srv s1 "$PCAP_DIRECT"; then
		fail capture "tcpdump did not start: $(cat "$PCAP_DIRECT.log")"
		return
	fi
	check direct_ping wait_for 10 ns_exec cli1 ping -c1 -W1 $TUN_SRV
	check direct_handshake handshake_both cli1 "$IF_CLI1"
	capture_stop "$PCAP_DIRECT"

	check capture_recover_client_key \
		"$CHECK" recover-client "$PCAP_DIRECT" "$(wg_privfile srv)" "$(wg_pub cli1)"
	check capture_find_server_by_mac1 \
		"$CHECK" find-server "$PCAP_DIRECT" "$(wg_privfile srv)" 15
	check capture_initiation_mac1 \
		"$CHECK" mac-init "$PCAP_DIRECT" "$(wg_pub srv)" "$(wg_pub cli1)"
	check capture_response_mac1 \
		"$CHECK" mac-resp "$PCAP_DIRECT" "$(wg_pub cli1)" "$(wg_pub srv)"
}

# The relay's translation as seen on the wire at the server: the initiation
# carries the proxy index the relay printed, never the client's own, and the
# server's response answers the proxy index.
upstream_saw_proxy_index() {
	local log=$1 pcap=$2 origin proxy idx
	read -r origin proxy < <(awk '$1 == "initiation" && $2 == "sender" { o = $3; p = $5 }
		END { print o, p }' "$log")
	if [ -z "$origin" ] || [ -z "$proxy" ]; then
		echo "relay logged no initiation rewrite"
		return 1
	fi
	if [ "$origin" = "$proxy" ]; then
		echo "relay kept index $origin"
		return 1
	fi
	idx=$("$CHECK" indexes "$pcap") || return 1
	if ! grep -qx "init $proxy" <<<"$idx"; then
		echo "server never saw an initiation from proxy index $proxy:"
		echo "$idx"
		return 1
	fi
	if grep -qx "init $origin" <<<"$idx"; then
		echo "client's own index $origin reached the server"
		return 1
	fi
	if ! grep -q "^resp [0-9a-f]* $proxy\$" <<<"$idx"; then
		echo "no server response to proxy index $proxy:"
		echo "$idx"
		return 1
	fi
	echo "client index $origin crossed as $proxy"
}

relay_counters_ok() {
	local log=$1
	expect_counter "$log" init_rewritten -ge 1 &&
		expect_counter "$log" init_mac1_bad -eq 0 &&
		expect_counter "$log" resp_rewritten -ge 1 &&
		expect_counter "$log" resp_mac1_bad -eq 0 &&
		expect_counter "$log" resp_unknown -eq 0 &&
		expect_counter "$log" s2c_transport_translated -ge 3 &&
		expect_counter "$log" c2s_transport -ge 3 &&
		expect_counter "$log" s2c_unknown -eq 0
}

# The stale-MAC control: initiations went out rewritten, and nothing came back.
stale_counters_ok() {
	local log=$1
	expect_counter "$log" init_rewritten -ge 1 &&
		expect_counter "$log" resp_rx -eq 0 &&
		expect_counter "$log" s2c_transport_translated -eq 0
}

no_handshake() {
	local cli=$1 ifc=$2 a b
	a=$(wg_latest_handshake srv "$IF_SRV" "$(wg_pub "$cli")")
	b=$(wg_latest_handshake "$cli" "$ifc" "$(wg_pub srv)")
	if [ "$a" != 0 ] || [ "$b" != 0 ]; then
		echo "handshake completed with stale MACs (server $a, client $b)"
		return 1
	fi
}

# (b) cli2 through the translating relay, cli3 through a stale-MAC relay.
test_relay() {
	local log2=$E2E_TMP/relay-cli2.log log3=$E2E_TMP/relay-cli3.log pid2 pid3 stale
	if ! capture_start srv s2 "$PCAP_UPSTREAM"; then
		fail capture_upstream "tcpdump did not start: $(cat "$PCAP_UPSTREAM.log")"
		return
	fi
	ns_spawn rly "$log2" "$RELAY" --listen 192.0.2.2:$RELAY_PORT \
		--server 198.51.100.2:$WG_PORT --server-pub "$(wg_pub srv)" --client-pub "$(wg_pub cli2)"
	pid2=$SPAWN_PID
	ns_spawn rly "$log3" "$RELAY" --listen 192.0.2.6:$RELAY_PORT --no-remac \
		--server 198.51.100.2:$WG_PORT --server-pub "$(wg_pub srv)" --client-pub "$(wg_pub cli3)"
	pid3=$SPAWN_PID
	if ! wait_for 5 grep -q 'relay ready' "$log2" || ! wait_for 5 grep -q 'relay ready' "$log3"; then
		fail relay_start "$(cat "$log2" "$log3")"
		return
	fi

	# The stale-MAC client knocks in the background while cli2 works.
	ns_exec cli3 ping -c1 -W4 $TUN_SRV >/dev/null 2>&1 &
	stale=$!

	check relay_first_ping wait_for 10 ns_exec cli2 ping -c1 -W1 $TUN_SRV
	check relay_handshake_both_ends handshake_both cli2 "$IF_CLI2"
	check relay_ping ns_exec cli2 ping -c3 -i0.2 -W2 $TUN_SRV
	check relay_bulk_2mb bulk_transfer cli2 srv $TUN_SRV 5001 2

	if wait "$stale"; then
		fail stale_mac_ping "ping through the --no-remac relay got an answer"
	else
		pass stale_mac_ping_fails
	fi
	check stale_mac_no_handshake no_handshake cli3 "$IF_CLI3"

	ns_stop "$pid2"
	ns_stop "$pid3"
	capture_stop "$PCAP_UPSTREAM"
	e2e_log "relay (cli2): $(tr '\n' ' ' <"$log2")"
	e2e_log "relay (cli3, --no-remac): $(tr '\n' ' ' <"$log3")"
	check relay_counters relay_counters_ok "$log2"
	check relay_rewrote_index_on_wire upstream_saw_proxy_index "$log2" "$PCAP_UPSTREAM"
	check stale_mac_relay_counters stale_counters_ok "$log3"
}

if ! setup; then
	fail setup "could not build the topology (see messages above)"
	exit 1
fi
pass setup
test_captured_handshake
test_relay
