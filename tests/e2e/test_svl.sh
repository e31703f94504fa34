#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Source validation (csvl/ssvl) against forged transport packets, and client
# roaming, with XDP attached and then with the agent alone (--xdp-mode off).
#
# Config: cli1 csvl 3 (IP and port), cli3 csvl 2 (IP), cli2 csvl 1 (none,
# roaming followed); every backend ssvl 3 (the default). Forged packets carry
# a valid receiver index of the victim's session and the marker a5a5... in
# their counter field; captures at the receiving side count the marker:
#   ssvl 3: to the upstream port, index of cli1's session, from srvA's IP with
#           another port (UDP socket) and from a spoofed IP (raw socket)
#           -> dropped (XDP DROP_SRC_INVALID / agent TRANSPORT_DROPPED), cli1
#           receives no marker
#   csvl 3: to the listen port, from cli1's IP with another port and from a
#           spoofed IP -> dropped, srvA receives no marker
#   csvl 2: from a spoofed IP (cli3's index) -> dropped, srvB receives no marker
#   control: a packet spoofed with cli2's exact source (csvl 1) IS forwarded,
#           and srvA's capture sees its marker: the captures can see a leak
# Roaming: cli2 (csvl 1) changes its source port (`wg set ... listen-port`):
# the tunnel keeps working within 3 s (the old port falls silent; xwgp
# follows a new source once the current one sent nothing for 2 s: XDP
# PUNT_ROAM, agent ROAMED) and the session follows; cli1 (csvl 3) does the
# same: refused, its pings are lost and its session keeps the old endpoint.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
. "$(dirname "$0")/hardening_lib.sh"
topo_require jq tcpdump
FORGE=$(e2e_tool wg_forge)

hard_setup || { fail setup "topology setup failed"; exit 1; }
hard_config "$E2E_TMP/xwgp.json" '.servers[0].peers[0].csvl = 3 | .servers[1].peers[0].csvl = 2' ||
	{ fail setup "config"; exit 1; }

# The payload of a forged transport packet for receiver index $1 (decimal).
forged() {
	printf 'fill:64:04000000%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) \
		$(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

# forge NS [--raw] SRC DST INDEX
forge() {
	local ns=$1 raw=
	shift
	[ "$1" = --raw ] && { raw=--raw; shift; }
	ns_exec "$ns" "$FORGE" send $raw --src "$1" --dst "$2" "$(forged "$3")"
}

marks_in() {
	"$FORGE" count "$1" --contains "$MARK"
}

# expect_dropped NAME PCAP A B: no marker in PCAP, the drop counter moved by $5.
expect_dropped() {
	local name=$1 pcap=$2 a=$3 b=$4 want=$5 m d
	m=$(marks_in "$pcap")
	if [ "$MODE" = xdp ]; then
		d=$(delta "$a" "$b" xdp.DROP_SRC_INVALID)
	else
		d=$(delta "$a" "$b" agent.TRANSPORT_DROPPED)
	fi
	if [ "$m" -eq 0 ] && [ "$d" -eq "$want" ]; then
		pass "$MODE-$name"
	else
		fail "$MODE-$name" "receiver captured $m forged packet(s) (want 0);" \
			"drop counter moved by $d (want $want)"
	fi
}

# The newest session's fields for client $1.
idx_c2s() { sess_field "$(wg_pub "$1")" server_proxy_index; }
idx_s2c() { sess_field "$(wg_pub "$1")" client_proxy_index; }

forged_packets() {
	local a=$E2E_TMP/$MODE-f.a b=$E2E_TMP/$MODE-f.b p1=$E2E_TMP/$MODE-cli1.pcap
	local pa=$E2E_TMP/$MODE-srvA.pcap pb=$E2E_TMP/$MODE-srvB.pcap m
	local cli1_c2s cli1_s2c cli3_c2s cli2_c2s cli2_ep cap_a cap_b
	cli1_c2s=$(idx_c2s cli1)
	cli1_s2c=$(idx_s2c cli1)
	cli3_c2s=$(idx_c2s cli3)
	cli2_c2s=$(idx_c2s cli2)
	cli2_ep=$(sess_field "$(wg_pub cli2)" client_endpoint)
	if [ -z "$cli1_c2s" ] || [ -z "$cli1_s2c" ] || [ -z "$cli3_c2s" ] || [ -z "$cli2_c2s" ]; then
		fail "$MODE-indexes" "no established session for every client"
		topo_xwgp show
		return
	fi

	# ssvl 3, backend -> client direction.
	capture_start cli1 eth0 "$p1" || { fail "$MODE-capture" "tcpdump"; return; }
	snap_settled "$a"
	forge srvA "${TOPO_SRV_ADDR[srvA]}:9999" "$UPSTREAM" "$cli1_s2c"
	forge srvA --raw 198.51.100.77:51820 "$UPSTREAM" "$cli1_s2c"
	snap_settled "$b"
	capture_stop
	expect_dropped ssvl3-forged-port-and-ip "$p1" "$a" "$b" 2

	# csvl 3 (cli1) and csvl 2 (cli3), client -> backend direction.
	capture_start srvA eth0 "$pa" || { fail "$MODE-capture" "tcpdump"; return; }
	cap_a=$CAP_PID
	capture_start srvB eth0 "$pb" || { fail "$MODE-capture" "tcpdump"; return; }
	cap_b=$CAP_PID
	snap_settled "$a"
	forge cli1 192.0.2.11:40000 "$LISTEN" "$cli1_c2s"
	forge att --raw 192.0.2.99:51820 "$LISTEN" "$cli1_c2s"
	forge att --raw 192.0.2.98:51820 "$LISTEN" "$cli3_c2s"
	snap_settled "$b"
	# The control: cli2's own endpoint, spoofed, passes validation (csvl 1),
	# so srvA's capture must hold exactly its marker.
	forge att --raw "$cli2_ep" "$LISTEN" "$cli2_c2s"
	capture_stop "$cap_b"
	capture_stop "$cap_a"
	expect_dropped csvl2-forged-ip "$pb" "$a" "$b" 3
	m=$(marks_in "$pa")
	if [ "$m" -eq 1 ]; then
		pass "$MODE-csvl3-forged-port-and-ip"
	else
		fail "$MODE-csvl3-forged-port-and-ip" \
			"srvA captured $m forged packets; want 1, the control from cli2's endpoint"
	fi
}

roaming() {
	local a=$E2E_TMP/$MODE-r.a b=$E2E_TMP/$MODE-r.b ep port=$1 seq
	snap_settled "$a"
	ns_exec cli2 wg set "${TOPO_CLIENT_IF[cli2]}" listen-port "$port"
	seq=$(roam_first_reply cli2)
	if [ -n "$seq" ] && [ "$seq" -le 15 ]; then
		pass "$MODE-roam-csvl1-ping"
	else
		fail "$MODE-roam-csvl1-ping" "first reply after the port change: ping #${seq:-none} (want <= 15: 3 s)"
	fi
	ep=$(sess_field "$(wg_pub cli2)" client_endpoint)
	snap_settled "$b"
	if [ "$ep" = "192.0.2.12:$port" ] && [ "$(delta "$a" "$b" agent.ROAMED)" -ge 1 ] &&
		{ [ "$MODE" = agent ] || [ "$(delta "$a" "$b" xdp.PUNT_ROAM)" -ge 1 ]; }; then
		pass "$MODE-roam-csvl1-followed"
	else
		fail "$MODE-roam-csvl1-followed" "endpoint $ep (want 192.0.2.12:$port), ROAMED +$(delta "$a" "$b" agent.ROAMED), PUNT_ROAM +$(delta "$a" "$b" xdp.PUNT_ROAM)"
	fi

	local old
	old=$(sess_field "$(wg_pub cli1)" client_endpoint)
	snap_settled "$a"
	ns_exec cli1 wg set "${TOPO_CLIENT_IF[cli1]}" listen-port "$((port + 1))"
	if ns_exec cli1 ping -c 3 -i 0.3 -W 1 "${TOPO_TUN_SERVER[cli1]}" >/dev/null 2>&1; then
		fail "$MODE-roam-csvl3-refused" "cli1 still pings after changing its port"
	else
		pass "$MODE-roam-csvl3-refused"
	fi
	snap_settled "$b"
	ep=$(sess_field "$(wg_pub cli1)" client_endpoint)
	local d
	if [ "$MODE" = xdp ]; then d=$(delta "$a" "$b" xdp.DROP_SRC_INVALID); else d=$(delta "$a" "$b" agent.TRANSPORT_DROPPED); fi
	if [ "$ep" = "$old" ] && [ "$d" -ge 1 ]; then
		pass "$MODE-roam-csvl3-endpoint-kept"
	else
		fail "$MODE-roam-csvl3-endpoint-kept" "endpoint $old -> $ep, drop counter +$d"
	fi
}

MODE=xdp
hard_start "$E2E_TMP/xwgp.json"
forged_packets
roaming 52001

# The agent alone enforces the same rules (XDP detached, sessions gone:
# the clients handshake anew from their current ports).
MODE=agent
hard_agent_only "$E2E_TMP/xwgp.json"
forged_packets
roaming 52011

topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
