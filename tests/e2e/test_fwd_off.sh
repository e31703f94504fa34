#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A proxy host that does not forward (issue 14, item 3), real wireguard-go
# peers. With net.ipv4.ip_forward=0 in the proxy namespace, bpf_fib_lookup
# answers FWD_DISABLED on both attached interfaces, so XDP cannot forward
# transport and the agent carries it. Asserts:
#   - the agent logs one warning per attached interface naming the sysctl
#     to set (net.ipv4.conf.xc.forwarding, net.ipv4.conf.xs.forwarding);
#   - the tunnels still work (handshakes, pings), carried by the agent
#     (agent transport counters move, XDP forwarded nothing, PUNT_NO_ROUTE
#     moved): the warning tells the truth;
#   - `xwgp show` names the interfaces, `xwgp show --json` marks them
#     "xdp_can_forward": false;
#   - after turning forwarding on and SIGHUP, no new warning is logged,
#     `xwgp show` no longer lists them, and XDP forwards the tunnel traffic.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
topo_require jq

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

no_route0=$(xdp_counter PUNT_NO_ROUTE)
agent0=$(($(agent_counter TRANSPORT_C2S) + $(agent_counter TRANSPORT_S2C)))
for c in "${TOPO_CLIENTS[@]}"; do
	check "ping-$c" topo_ping "$c" 5
done
agent1=$(($(agent_counter TRANSPORT_C2S) + $(agent_counter TRANSPORT_S2C)))
no_route1=$(xdp_counter PUNT_NO_ROUTE)
xdp_fwd=$(xdp_forwarded)
e2e_log "forwarding off: agent forwarded $((agent1 - agent0)), PUNT_NO_ROUTE +$((no_route1 - no_route0)), XDP forwarded $xdp_fwd"
if [ $((agent1 - agent0)) -ge 24 ] && [ $((no_route1 - no_route0)) -ge 24 ] && [ "$xdp_fwd" -eq 0 ]; then
	pass agent-carries-transport
else
	fail agent-carries-transport "agent +$((agent1 - agent0)), PUNT_NO_ROUTE +$((no_route1 - no_route0)), XDP $xdp_fwd"
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
