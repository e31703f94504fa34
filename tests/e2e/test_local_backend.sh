#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Local backends in the kernel (docs/DESIGN.md section 12): mwgp's most
# common deployment, the WireGuard servers on the proxy's own host.
#
#   cli1 ─┐                          proxy namespace (no forwarding sysctl set)
#   cli2 ─┼─ [lanc bridge] ─ xc ─ xwgp 192.0.2.1:51820, upstream :51900, XDP on xc
#   cli3 ─┘   192.0.2.0/24            wg A1 127.0.0.1:51821  (key A, peer cli1)
#                                     wg A2 192.0.2.1:51822  (key A, fallback: cli2)
#                                     wg B1 192.0.2.1:51823  (key B, peer cli3)
#
# Server A has address 127.0.0.1: cli1 -> :51821, the fallback -> the
# proxy's own NIC address 192.0.2.1:51822; server B (address 192.0.2.1)
# has cli3 -> :51823. With LB_OBFS=1 every client goes through its own
# `xwgp client' with obfuscation (tests/e2e/test_local_backend_obfs.sh);
# with TOPO_FAMILY=6 the outer addresses are IPv6, the loopback backend on
# ::1 (tests/e2e/test_local_backend_v6.sh). Forwarding stays off.
#
# Asserts: `xwgp show' says local backends are forwarded in the kernel;
# every client handshakes with its own backend; ping and 20 MiB each way
# through every tunnel with intact content (sha256); the transport stayed
# in the kernel (agent-forwarded transport ~0 during the transfers, the TC
# counters C2S_LOCAL = TC_C2S_LO and S2C_LOCAL ~ the packets); forged
# transport sent to the upstream port through lo (an unknown index; a
# session's index from a source that is not its backend) is dropped and
# counted by TC; `xwgp down' removes the TC programs.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
topo_require nc jq tc

LB_OBFS=${LB_OBFS:-0}
# The loopback backend's address: 127.0.0.1, or ::1 with TOPO_FAMILY=6
# (tests/e2e/test_local_backend_v6.sh: outer addresses IPv6 throughout).
LB_LO=127.0.0.1
[ "$TOPO_FAMILY" = 6 ] && LB_LO=::1
BULK_MB=${BULK_MB:-20}
PW="local backends, obfuscated"
UPSTREAM_PORT=51900
declare -A LB_SKEY=([cli1]=srvkeyA [cli2]=srvkeyA [cli3]=srvkeyB)
declare -A LB_BIF=() LB_CIF=()
declare -A LB_BPORT=([cli1]=51821 [cli2]=51822 [cli3]=51823)
declare -A LB_CLIENT_PORT=([cli1]=51997 [cli2]=51998 [cli3]=51999)

counters() { topo_xwgp show --json; }
xdp_counter() { counters | jq "(.counters.xdp.$1.packets // 0) | floor"; }
agent_counter() { counters | jq "(.counters.agent.$1 // 0) | floor"; }
agent_forwarded() { echo $(($(agent_counter TRANSPORT_C2S) + $(agent_counter TRANSPORT_S2C))); }

lb_setup() {
	local c
	ns_add proxy || return 1
	for c in "${TOPO_CLIENTS[@]}"; do
		ns_add "$c" || return 1
	done
	topo_bridge lanc || return 1
	topo_attach lanc proxy xc "$TOPO_PROXY_C/24" pxc || return 1
	for c in "${TOPO_CLIENTS[@]}"; do
		topo_attach lanc "$c" eth0 "$(topo_lanc_addr "${TOPO_LAN_ADDR[$c]}")" "p$c" || return 1
	done
	wg_genkey srvkeyA && wg_genkey srvkeyB || return 1
	LB_BIF[cli1]=$(wg_ifname A1) LB_BIF[cli2]=$(wg_ifname A2) LB_BIF[cli3]=$(wg_ifname B1)
	for c in "${TOPO_CLIENTS[@]}"; do
		wg_genkey "$c" || return 1
		wg_up proxy "${LB_BIF[$c]}" "$(wg_privfile "${LB_SKEY[$c]}")" "${LB_BPORT[$c]}" \
			"${TOPO_TUN_SERVER[$c]}/30" || return 1
		wg_peer proxy "${LB_BIF[$c]}" "$(wg_pub "$c")" "${TOPO_TUN_CLIENT[$c]}/32" || return 1
		LB_CIF[$c]=$(wg_ifname "c$c")
		wg_up "$c" "${LB_CIF[$c]}" "$(wg_privfile "$c")" 51820 "${TOPO_TUN_CLIENT[$c]}/30" ||
			return 1
	done
}

lb_config() {
	cat >"$1" <<JSON
{
  "listen": "$(topo_ep "$TOPO_PROXY_C" "$TOPO_PORT")",
  "upstream": ":$UPSTREAM_PORT",
  "timeout": 60,
  "interface": ["xc"],
  "xdp_mode": "native",
$([ "$LB_OBFS" = 1 ] && echo "  \"obfs\": \"$PW\",")
  "servers": [
    {
      "privkey_file": "$(wg_privfile srvkeyA)",
      "address": "$LB_LO",
      "peers": [
        { "pubkey": "$(wg_pub cli1)", "forward_to": ":51821" },
        { "forward_to": "$(topo_ep "$TOPO_PROXY_C" 51822)" }
      ]
    },
    {
      "privkey_file": "$(wg_privfile srvkeyB)",
      "address": "$TOPO_PROXY_C",
      "peers": [ { "pubkey": "$(wg_pub cli3)", "forward_to": ":51823" } ]
    }
  ]
}
JSON
}

# The client's peer: xwgp directly, or its own obfuscating `xwgp client'.
lb_connect() {
	local c=$1 ep cfg
	ep=$(topo_ep "$TOPO_PROXY_C" "$TOPO_PORT")
	if [ "$LB_OBFS" = 1 ]; then
		cfg="$E2E_TMP/client-$c.json"
		cat >"$cfg" <<JSON
{
  "server": "$ep",
  "listen": "127.0.0.1:${LB_CLIENT_PORT[$c]}",
  "timeout": 60,
  "server_pubkey": "$(wg_pub "${LB_SKEY[$c]}")",
  "client_pubkey": "$(wg_pub "$c")",
  "obfs": "$PW"
}
JSON
		ns_spawn "$c" "$E2E_TMP/client-$c.log" "$XWGP_BIN" client "$cfg"
		wait_for 10 sh -c "ip netns exec '$(ns_name "$c")' ss -Hlun 'sport = :${LB_CLIENT_PORT[$c]}' | grep -q ." ||
			return 1
		ep="127.0.0.1:${LB_CLIENT_PORT[$c]}"
	fi
	wg_peer "$c" "${LB_CIF[$c]}" "$(wg_pub "${LB_SKEY[$c]}")" "${TOPO_TUN_SERVER[$c]}/32" "$ep"
}

lb_handshakes_done() {
	local c
	for c in "${TOPO_CLIENTS[@]}"; do
		wg_has_handshake "$c" "${LB_CIF[$c]}" "$(wg_pub "${LB_SKEY[$c]}")" || return 1
	done
}

# A forged transport message (32 bytes) for receiver index $1, sent from
# $LB_LO:$2 to the upstream port: through lo, where TC sees it.
forge_lo() {
	local idx=$1 sport=$2 le
	# Octal escapes: the namespace's sh may be dash, whose printf has no \x.
	le=$(printf '\\%03o\\%03o\\%03o\\%03o' $((idx & 255)) $((idx >> 8 & 255)) \
		$((idx >> 16 & 255)) $((idx >> 24 & 255)))
	ns_exec proxy sh -c "printf '\\004\\000\\000\\000$le%024d' 0 | head -c 32 |
		nc -u -w1 -s $LB_LO -p $sport $LB_LO $UPSTREAM_PORT" >/dev/null 2>&1
}

lb_setup || { fail setup "topology setup failed"; exit 1; }
lb_config "$E2E_TMP/xwgp.json"
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }

# The agent attaches TC after its socket is up: the flag follows within moments.
local_in_kernel() {
	counters | jq -e '.local_backends == "kernel"' >/dev/null &&
		topo_xwgp show | grep -q 'local backends: forwarded in the kernel'
}
if wait_for 5 local_in_kernel; then
	pass show-local-in-kernel
else
	fail show-local-in-kernel "xwgp show: $(topo_xwgp show | grep 'local backends'); --json: $(counters | jq -c .local_backends)"
	sed 's/^/    /' "$XWGP_LOG"
fi
if ns_exec proxy tc filter show dev lo egress | grep -q xwgp_tc_lo &&
	ns_exec proxy tc filter show dev xc ingress | grep -q xwgp_tc_in; then
	pass tc-attached
else
	fail tc-attached "TC programs not on lo egress / xc ingress"
fi

for c in "${TOPO_CLIENTS[@]}"; do
	lb_connect "$c" || { fail "connect-$c" "$(cat "$E2E_TMP/client-$c.log" 2>/dev/null)"; exit 1; }
	ns_exec "$c" ping -c 1 -W 1 "${TOPO_TUN_SERVER[$c]}" >/dev/null 2>&1 &
done
if wait_for 25 lb_handshakes_done; then
	pass handshakes
else
	fail handshakes "not every client completed a handshake"
	sed 's/^/    /' "$XWGP_LOG"
	counters | jq -c '.counters.xdp | with_entries(select(.value.packets > 0))'
	counters | jq -c '.counters.agent | with_entries(select(.value > 0))'
	for c in "${TOPO_CLIENTS[@]}"; do tail -5 "$E2E_TMP/wireguard-go-${LB_BIF[$c]}.log"; done
	[ -n "${LB_DEBUG:-}" ] && sleep "$LB_DEBUG"
	exit 1
fi
for c in "${TOPO_CLIENTS[@]}"; do
	if wg_has_handshake proxy "${LB_BIF[$c]}" "$(wg_pub "$c")"; then
		pass "routed-$c"
	else
		fail "routed-$c" "backend ${LB_BIF[$c]} saw no handshake from $c"
	fi
done
if [ "$LB_OBFS" = 1 ]; then
	n=$(counters | jq '[.sessions[] | select(.established and .obfs)] | length')
	if [ "$n" -ge 3 ]; then
		pass sessions-obfuscated
	else
		fail sessions-obfuscated "$n established obfuscated sessions, want 3"
	fi
fi

for c in "${TOPO_CLIENTS[@]}"; do
	check "ping-$c" ns_exec "$c" ping -c 5 -i 0.2 -W 2 "${TOPO_TUN_SERVER[$c]}"
done

agent_before=$(agent_forwarded)
c2s_before=$(xdp_counter C2S_LOCAL) lo_before=$(xdp_counter TC_C2S_LO)
s2c_before=$(xdp_counter S2C_LOCAL)
port=5001
for c in "${TOPO_CLIENTS[@]}"; do
	check "bulk-${BULK_MB}MiB-$c" bulk_transfer "$c" proxy "${TOPO_TUN_SERVER[$c]}" "$port" "$BULK_MB"
	check "bulk-${BULK_MB}MiB-reverse-$c" bulk_transfer proxy "$c" "${TOPO_TUN_CLIENT[$c]}" \
		$((port + 1)) "$BULK_MB"
	port=$((port + 2))
done
agent_bulk=$(($(agent_forwarded) - agent_before))
c2s=$(($(xdp_counter C2S_LOCAL) - c2s_before))
lo=$(($(xdp_counter TC_C2S_LO) - lo_before))
s2c=$(($(xdp_counter S2C_LOCAL) - s2c_before))
e2e_log "during the transfers: XDP->TC c2s $c2s, TC into lo $lo, TC s2c $s2c, agent $agent_bulk"
# 3 x 20 MiB each way in packets of at most 1420 bytes (the tunnel MTU).
min=$((3 * BULK_MB * 1048576 / 1420))
if [ "$c2s" -ge "$min" ] && [ "$s2c" -ge "$min" ]; then
	pass kernel-carried-transport
else
	fail kernel-carried-transport "C2S_LOCAL $c2s, S2C_LOCAL $s2c, want >= $min each"
fi
if [ "$lo" -eq "$c2s" ]; then
	pass tc-delivered-every-c2s
else
	fail tc-delivered-every-c2s "XDP handed $c2s packets to TC, TC delivered $lo into lo"
fi
if [ "$agent_bulk" -le $(((c2s + s2c) / 1000)) ]; then
	pass agent-transport-near-zero
else
	fail agent-transport-near-zero "the agent forwarded $agent_bulk transport packets during the transfers"
fi
if [ "$(xdp_counter PUNT_NO_ROUTE)" -eq 0 ]; then
	pass no-route-punts
else
	fail no-route-punts "PUNT_NO_ROUTE $(xdp_counter PUNT_NO_ROUTE)"
	counters | jq '.counters.xdp | with_entries(select(.value.packets > 0))'
fi

# Forged transport towards lo: a guessed index, and cli1's real index from a
# port that is not its backend's (ssvl IP_PORT): TC drops and counts both;
# the tunnel keeps working.
unk_before=$(xdp_counter DROP_UNKNOWN_INDEX) src_before=$(xdp_counter DROP_SRC_INVALID)
rx_before=$(xdp_counter TC_LO_RX)
idx=$(counters | jq --arg k "$(wg_pub cli1)" \
	'[.sessions[] | select(.client_pubkey == $k and .established)] | last | .client_proxy_index')
for i in 1 2 3; do
	forge_lo $((0x01000000 + i)) $((40000 + i))
	forge_lo "$idx" $((41000 + i))
done
unk=$(($(xdp_counter DROP_UNKNOWN_INDEX) - unk_before))
src=$(($(xdp_counter DROP_SRC_INVALID) - src_before))
rx=$(($(xdp_counter TC_LO_RX) - rx_before))
if [ "$unk" -ge 3 ] && [ "$src" -ge 3 ] && [ "$rx" -ge 6 ]; then
	pass forged-lo-dropped
else
	fail forged-lo-dropped "TC_LO_RX +$rx, DROP_UNKNOWN_INDEX +$unk, DROP_SRC_INVALID +$src (want 6, 3, 3)"
fi
check ping-after-forgery ns_exec cli1 ping -c 3 -i 0.2 -W 2 "${TOPO_TUN_SERVER[cli1]}"

# A restart keeps local backends in the kernel: the programs stay while no agent runs.
topo_xwgp_stop
s2c_before=$(xdp_counter S2C_LOCAL)
check ping-without-agent ns_exec cli1 ping -c 3 -i 0.2 -W 2 "${TOPO_TUN_SERVER[cli1]}"
if [ "$(xdp_counter S2C_LOCAL)" -ge $((s2c_before + 3)) ]; then
	pass kernel-without-agent
else
	fail kernel-without-agent "S2C_LOCAL did not move while the agent was down"
fi
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail restart "xwgp did not restart"; exit 1; }
check ping-after-restart ns_exec cli2 ping -c 3 -i 0.2 -W 2 "${TOPO_TUN_SERVER[cli2]}"

topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
if ns_exec proxy tc filter show dev lo egress | grep -q xwgp_tc_lo ||
	ns_exec proxy tc filter show dev xc ingress | grep -q xwgp_tc_in; then
	fail down-removes-tc "TC programs still attached after xwgp down"
else
	pass down-removes-tc
fi

