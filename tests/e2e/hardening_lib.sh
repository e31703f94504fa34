# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers shared by the hardening tests (test_flood, test_replay, test_svl,
# test_malformed, test_keys): the standard topology (tests/lib/topo.sh) plus
# an attacker namespace, counters read from `xwgp show --json', sessions by
# client key, packet captures. Source after e2e.sh and topo.sh.
#
#   hard_setup [ATTACK_LINK]   topo_setup + namespace `att' on the client LAN
#                              (192.0.2.66/24; spoofs other 192.0.2.x with raw
#                              sockets); with ATTACK_LINK=direct also a veth
#                              att:xa0 203.0.113.66/26 <-> proxy:xa 203.0.113.65
#   hard_config FILE JQ_FILTER write the topology's xwgp config, transformed by jq
#                              (e.g. '.servers[0].peers[0].csvl = 3')
#   hard_start [ARGS...]       start xwgp, connect the clients, wait for their
#                              handshakes (fails the test and exits on error)
#   hard_agent_only FILE       stop xwgp, `xwgp down' (XDP detached, sessions gone),
#                              the clients forget their peers, hard_start --xdp-mode off FILE
#   snap FILE                  save every counter (xdp and agent) as JSON
#   snap_settled FILE          snap once two reads 1.2 s apart agree (the agent
#                              publishes its counters once a second)
#   delta A B EXPR             EXPR of counters B minus A, e.g. delta a b xdp.DROP_MALFORMED
#                              (xdp.* are packet counts, agent.* plain counters)
#   sess_field PUB FIELD       FIELD of the newest session of client key PUB
#   capture_start NS IF FILE   tcpdump (UDP) in NS on IF into FILE; sets CAP_PID
#   capture_stop [PID]         stop the last capture, or capture PID (all its
#                              packets flushed)
#   rss_kb                     the running xwgp's VmRSS in kB
#   MARK                       hex of the marker every forged payload carries
#   LISTEN, UPSTREAM           xwgp's listen and upstream address:port

MARK=a5a5a5a5a5a5a5a5
HARD_ATT_IP=192.0.2.66
LISTEN=$TOPO_PROXY_C:$TOPO_PORT
UPSTREAM=$TOPO_PROXY_S:51900

hard_setup() {
	topo_setup || return 1
	ns_add att || return 1
	topo_attach lanc att eth0 "$HARD_ATT_IP/24" patt || return 1
	if [ "${1:-}" = direct ]; then
		veth_link att xa0 203.0.113.66/26 proxy xa 203.0.113.65/26 || return 1
		ns_exec proxy ethtool -K xa gro on >/dev/null 2>&1
		ip -n "$(ns_name att)" route add "$TOPO_PROXY_C/32" via 203.0.113.65 dev xa0 || return 1
	fi
}

hard_config() {
	local file=$1 filter=$2
	topo_config "$file.in" || return 1
	# topo_config writes one // comment line; jq wants plain JSON.
	grep -v '^ *//' "$file.in" | jq "$filter" >"$file" && chmod 0600 "$file"
}

hard_start() {
	topo_xwgp_start "$@" || { fail start "xwgp did not start"; exit 1; }
	topo_clients_up
}

hard_agent_only() {
	topo_xwgp_stop
	topo_xwgp down >/dev/null 2>&1
	topo_clients_forget
	hard_start --xdp-mode off "$1"
}

snap() {
	topo_xwgp show --json | jq '{xdp: (.counters.xdp | map_values(.packets)),
		agent: .counters.agent}' >"$1"
}

snap_settled() {
	local i
	snap "$1.a"
	for i in $(seq 10); do
		sleep 1.2
		snap "$1"
		cmp -s "$1" "$1.a" && return 0
		mv "$1" "$1.a"
	done
	mv "$1.a" "$1" # never settled (traffic runs): the last read
	return 0
}

# delta A B NAME...: the sum over NAMEs (xdp.X / agent.X) of B minus A.
delta() {
	local a=$1 b=$2 sum=0 n x y
	shift 2
	for n in "$@"; do
		x=$(jq ".$n // 0" "$a")
		y=$(jq ".$n // 0" "$b")
		sum=$((sum + y - x))
	done
	echo "$sum"
}

sess_field() {
	topo_xwgp show --json | jq -r --arg k "$1" \
		"[.sessions[] | select(.client_pubkey == \$k)] | sort_by(.handshake_age_sec) |
		 .[0].$2 // empty"
}

capture_start() {
	local ns=$1 ifc=$2 file=$3
	ns_spawn "$ns" "$file.log" tcpdump -Z root -U --immediate-mode -n -i "$ifc" -w "$file" udp
	CAP_PID=$SPAWN_PID
	wait_for 10 grep -q 'listening on' "$file.log"
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$XWGP_PID/status"
}

capture_stop() {
	sleep 0.3 # what was sent last is on the wire by now
	ns_stop "${1:-$CAP_PID}" INT
}

# roam_first_reply NS: ping through NS's tunnel every 0.2 s for 5 s and
# print the sequence number of the first reply (nothing: none came back).
# A roaming client is followed once its old address was silent for 2 s:
# sequence <= 15 means within 3 s.
roam_first_reply() {
	ns_exec "$1" ping -c 25 -i 0.2 -W 1 "${TOPO_TUN_SERVER[$1]}" 2>/dev/null |
		sed -n 's/.*icmp_seq=\([0-9]*\).*/\1/p' | head -1
}
