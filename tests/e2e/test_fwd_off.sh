#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A proxy host that does not forward (issue 14, item 3), real wireguard-go
# peers. With net.ipv4.ip_forward=0 in the proxy namespace, bpf_fib_lookup
# answers FWD_DISABLED on both attached interfaces; XDP then forwards with
# the next hops the agent resolved over netlink (agent/nexthop.c,
# bpf/nexthop.h). Asserts:
#   - the agent logs one warning per attached interface naming the sysctl
#     (net.ipv4.conf.xc.forwarding, net.ipv4.conf.xs.forwarding) and saying
#     that XDP uses the agent's next hops;
#   - the tunnels work (handshakes, pings, 4 MiB each way with intact
#     content) and their transport stays in XDP: C2S/S2C forwarded >= the
#     packets, NEXTHOP_HIT as many, the agent forwarded ~0;
#   - the backend's MAC changes (its neighbour entry in the proxy too): the
#     neighbour event makes the agent re-resolve, and within the entries'
#     age bound (XWGP_NEXTHOP_MAX_AGE_NS, 2.5 s) the tunnel works again,
#     still in XDP;
#   - the same after a route change: a host route to the backend via srvB
#     (forwarding on there): XDP sends to srvB's MAC, which forwards;
#   - `xwgp show` names the interfaces, `xwgp show --json` marks them
#     "xdp_can_forward": false;
#   - after turning forwarding on and SIGHUP, no new warning is logged,
#     `xwgp show` no longer lists them, and XDP forwards the tunnel traffic.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
topo_require jq nc

show_json() { topo_xwgp show --json; }
agent_counter() { show_json | jq ".counters.agent.$1 // 0"; }
xdp_counter() { show_json | jq ".counters.xdp.$1.packets // 0"; }
xdp_forwarded() {
	show_json | jq '[.counters.xdp | (.C2S_TX, .C2S_REDIRECT, .S2C_TX, .S2C_REDIRECT) | .packets // 0] | add'
}
warnings() { grep -c 'forwarding is 0' "$XWGP_LOG"; }

topo_setup || { fail setup "topology setup failed"; exit 1; }
# The host-wide switch a non-router has off; it turns off every
# net.ipv4.conf.*.forwarding too.
ns_exec proxy sysctl -qw net.ipv4.ip_forward=0 || { fail setup "sysctl"; exit 1; }
topo_config "$E2E_TMP/xwgp.json"
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }
topo_clients_up

for ifc in xc xs; do
	if grep -q "interface \`$ifc': net.ipv4.conf.$ifc.forwarding is 0.*sysctl -w net.ipv4.conf.$ifc.forwarding=1" "$XWGP_LOG"; then
		pass "warning-$ifc"
	else
		fail "warning-$ifc" "no warning naming net.ipv4.conf.$ifc.forwarding in the log"
		sed 's/^/    /' "$XWGP_LOG"
	fi
done
# One per interface, not one per packet.
check_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got $2, want $3"; fi; }
check_eq warnings-once "$(warnings)" 2
check_eq warning-says-next-hops "$(grep -c 'XDP forwards it with next hops the agent resolves' "$XWGP_LOG")" 2

nexthop_hits() { xdp_counter NEXTHOP_HIT; }
agent_fwd() { echo $(($(agent_counter TRANSPORT_C2S) + $(agent_counter TRANSPORT_S2C))); }

# The first packets to each destination resolve its next hop (agent).
topo_warm_up 3
agent0=$(agent_fwd)
xdp0=$(xdp_forwarded)
hits0=$(nexthop_hits)
for c in "${TOPO_CLIENTS[@]}"; do
	check "ping-$c" topo_ping "$c" 5
done
check bulk-4MiB-cli1 bulk_transfer cli1 srvA "${TOPO_TUN_SERVER[cli1]}" 5001 4
check bulk-4MiB-reverse-cli1 bulk_transfer srvA cli1 "${TOPO_TUN_CLIENT[cli1]}" 5002 4
agent1=$(agent_fwd)
xdp1=$(xdp_forwarded)
hits1=$(nexthop_hits)
e2e_log "forwarding off: XDP forwarded $((xdp1 - xdp0)) (NEXTHOP_HIT +$((hits1 - hits0))), agent $((agent1 - agent0))"
min_pkts=$((8 * 1048576 / 1500))
if [ $((xdp1 - xdp0)) -ge "$min_pkts" ] && [ $((hits1 - hits0)) -eq $((xdp1 - xdp0)) ] &&
	[ $((agent1 - agent0)) -le $(((xdp1 - xdp0) / 1000 + 2)) ]; then
	pass xdp-carries-transport
else
	fail xdp-carries-transport "XDP +$((xdp1 - xdp0)) (want >= $min_pkts), NEXTHOP_HIT +$((hits1 - hits0)), agent +$((agent1 - agent0))"
fi

# Pings through cli1's tunnel within the age bound of the entries, in XDP.
followed() {
	local what=$1 a0 h0 a1 h1
	sleep 1 # well within XWGP_NEXTHOP_MAX_AGE_NS (2.5 s): the event, or the refresh, followed it
	a0=$(agent_fwd)
	h0=$(nexthop_hits)
	check "ping-after-$what" topo_ping cli1 10
	a1=$(agent_fwd)
	h1=$(nexthop_hits)
	if [ $((h1 - h0)) -ge 18 ] && [ $((a1 - a0)) -le 4 ]; then
		pass "xdp-after-$what"
	else
		fail "xdp-after-$what" "NEXTHOP_HIT +$((h1 - h0)) (want >= 18), agent +$((a1 - a0))"
	fi
}

# The backend's MAC changes; the proxy learns it (as from a gratuitous ARP).
ns_exec srvA ip link set eth0 address 02:00:00:00:aa:02 &&
	ns_exec proxy ip neigh replace "${TOPO_SRV_ADDR[srvA]}" lladdr 02:00:00:00:aa:02 dev xs nud reachable ||
	fail mac-change "could not change the backend's MAC"
followed mac-change

# The route changes: the backend now behind srvB (a router for this), so
# the next hop is srvB's MAC; srvB's forwarded datagrams show it was used.
ip_forwarded() { ns_exec "$1" awk '/^Ip:/ { n++ } n == 2 { print $7; exit }' /proc/net/snmp; }
ns_exec srvB sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
	net.ipv4.conf.eth0.send_redirects=0 || fail route-change "srvB forwarding"
fw0=$(ip_forwarded srvB)
if ns_exec proxy ip route add "${TOPO_SRV_ADDR[srvA]}/32" via "${TOPO_SRV_ADDR[srvB]}" dev xs; then
	followed route-change
	fw1=$(ip_forwarded srvB)
	if [ $((fw1 - fw0)) -ge 10 ]; then
		pass route-change-new-next-hop
	else
		fail route-change-new-next-hop "srvB forwarded only $((fw1 - fw0)) datagrams"
	fi
	ns_exec proxy ip route del "${TOPO_SRV_ADDR[srvA]}/32"
else
	fail route-change "could not add the route"
fi

out=$(topo_xwgp show)
for ifc in xc xs; do
	if grep -q "^interface $ifc: forwarding ipv4 off" <<<"$out"; then
		pass "show-$ifc"
	else
		fail "show-$ifc" "xwgp show does not say forwarding is off on $ifc"
		sed 's/^/    /' <<<"$out"
	fi
done
check_eq show-json "$(show_json | jq -c '[.interfaces[] | select(.xdp_can_forward == false) | .interface] | sort')" '["xc","xs"]'

# Forwarding on, reload: no new warning, the fast path takes over.
ns_exec proxy sysctl -qw net.ipv4.ip_forward=1
kill -HUP "$XWGP_PID"
wait_for 5 grep -q 'reload: now serving' "$XWGP_LOG" || fail reload "no reload line"
check_eq no-warning-after-reload "$(warnings)" 2
check_eq show-json-on "$(show_json | jq -c '[.interfaces[] | select(.xdp_can_forward == true) | .interface] | sort')" '["xc","xs"]'
if topo_xwgp show | grep -q '^interface .*: forwarding'; then
	fail show-quiet "xwgp show still reports forwarding off"
else
	pass show-quiet
fi
topo_warm_up 3
xdp0=$(xdp_forwarded)
check ping-fast-cli1 topo_ping cli1 10
xdp1=$(xdp_forwarded)
if [ $((xdp1 - xdp0)) -ge 18 ]; then
	pass xdp-forwards-after-sysctl
else
	fail xdp-forwards-after-sysctl "XDP forwarded only $((xdp1 - xdp0)) of 20 tunnel packets"
fi
topo_xwgp_stop
