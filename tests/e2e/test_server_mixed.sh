#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Clients and backends of different address families, XDP path (issue 14
# item 4, bpf/xlat.h), real wireguard-go peers. The standard topology with
# IPv6 added on both LANs; xwgp listens on ":51820" and sends from ":51900"
# (both families), server A's backends on IPv6 (2001:db8:5::2), server B's
# on IPv4 (198.51.100.3):
#   cli1 over IPv4 -> A1 over IPv6   (XDP builds an IPv6 header, and back);
#                                     cli1 obfuscated: wireguard-go -> xwgp client
#                                     (obfs) -> xwgp server (obfs set)
#   cli2 over IPv6 -> A2 over IPv6   (same family: the control)
#   cli3 over IPv6 -> B1 over IPv4   (XDP builds an IPv4 header, and back)
# Asserts handshakes, pings, BULK_MB MiB each way through the translated
# tunnels with intact content (bulk_transfer compares checksums; a wrong
# UDP checksum would be dropped by the receiving kernel), and the counters:
# XDP forwarded the transport (C2S/S2C >= the bulk's packets), the agent
# forwarded ~0 of it, PUNT_FAMILY stayed 0.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
. "$(dirname "$0")/hardening_lib.sh"
topo_require jq nc
[ "$TOPO_FAMILY" = 4 ] || skip_all "built on the IPv4 topology (IPv6 is added)"

BULK_MB=${BULK_MB:-8}

xdp_counter() { topo_xwgp show --json | jq "(.counters.xdp.$1.packets // 0) | floor"; }
agent_counter() { topo_xwgp show --json | jq "(.counters.agent.$1 // 0) | floor"; }
xdp_forwarded() {
	topo_xwgp show --json |
		jq '[.counters.xdp | (.C2S_TX, .C2S_REDIRECT, .S2C_TX, .S2C_REDIRECT) | .packets // 0] | add'
}
agent_forwarded() { echo $(($(agent_counter TRANSPORT_C2S) + $(agent_counter TRANSPORT_S2C))); }

topo_setup || { fail setup "topology setup failed"; exit 1; }
ns_addr proxy xc 2001:db8:c::1/64 && ns_addr proxy xs 2001:db8:5::1/64 &&
	ns_addr srvA eth0 2001:db8:5::2/64 && ns_addr cli2 eth0 2001:db8:c::12/64 &&
	ns_addr cli3 eth0 2001:db8:c::13/64 || { fail setup "IPv6 addresses"; exit 1; }
PW="kisekimo, mahoumo, muryoudewaarimasen"
hard_config "$E2E_TMP/xwgp.json" \
	'.listen = ":51820" | .upstream = ":51900" | .servers[0].address = "2001:db8:5::2" | .obfs = "'"$PW"'"' ||
	{ fail setup "config"; exit 1; }
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }

# cli1 through an obfuscating xwgp client, which talks to 192.0.2.1:51820.
cat >"$E2E_TMP/client.json" <<JSON
{
  "server": "192.0.2.1:51820",
  "listen": "127.0.0.1:51999",
  "timeout": 60,
  "server_pubkey": "$(wg_pub srvkeyA)",
  "client_pubkey": "$(wg_pub cli1)",
  "obfs": "$PW"
}
JSON
ns_spawn cli1 "$E2E_TMP/client.log" "$XWGP_BIN" client --stats-file "$E2E_TMP/client-stats.json" \
	"$E2E_TMP/client.json"
CLIENT_PID=$SPAWN_PID
wait_for 10 test -s "$E2E_TMP/client-stats.json" || { fail client-start "xwgp client did not start"; exit 1; }

declare -A EP=([cli1]=127.0.0.1:51999 [cli2]=[2001:db8:c::1]:51820 [cli3]=[2001:db8:c::1]:51820)
for c in "${TOPO_CLIENTS[@]}"; do
	wg_peer "$c" "${TOPO_CLIENT_IF[$c]}" "$(wg_pub "${TOPO_SERVER_KEY[$c]}")" \
		"${TOPO_TUN_SERVER[$c]}/32" "${EP[$c]}" || { fail start "$c did not connect"; exit 1; }
done
if topo_wait_handshakes 25; then
	pass handshakes
else
	fail handshakes "not every client completed a handshake"
	sed 's/^/    /' "$XWGP_LOG"
	exit 1
fi

# The session table shows each pair of families (the agent's view).
sessions=$(topo_xwgp show --json)
check_fam() {
	local c=$1 client=$2 backend=$3 got
	got=$(jq -r --arg k "$(wg_pub "$c")" \
		'[.sessions[] | select(.client_pubkey == $k) | "\(.client_endpoint) \(.server_endpoint)"] | last' <<<"$sessions")
	if [[ "$got" == "$client"*" $backend"* ]]; then
		pass "families-$c"
	else
		fail "families-$c" "session $got, want $client... -> $backend..."
	fi
}
check_fam cli1 192.0.2.11 "[2001:db8:5::2]"
check_fam cli2 "[2001:db8:c::12]" "[2001:db8:5::2]"
check_fam cli3 "[2001:db8:c::13]" 198.51.100.3
obfs=$(jq -r --arg k "$(wg_pub cli1)" '[.sessions[] | select(.client_pubkey == $k)] | last | .obfs' <<<"$sessions")
if [ "$obfs" = true ]; then pass cli1-obfuscated; else fail cli1-obfuscated "cli1's session obfs: $obfs"; fi

topo_warm_up 3
for c in "${TOPO_CLIENTS[@]}"; do
	check "ping-$c" topo_ping "$c" 5
done

family0=$(xdp_counter PUNT_FAMILY)
obfs0=$(xdp_counter PUNT_OBFS)
xdp0=$(xdp_forwarded)
agent0=$(agent_forwarded)
check "bulk-${BULK_MB}MiB-cli1-v4-to-v6" bulk_transfer cli1 srvA "${TOPO_TUN_SERVER[cli1]}" 5001 "$BULK_MB"
check "bulk-${BULK_MB}MiB-reverse-v6-to-v4-cli1" bulk_transfer srvA cli1 "${TOPO_TUN_CLIENT[cli1]}" 5002 "$BULK_MB"
check "bulk-${BULK_MB}MiB-cli3-v6-to-v4" bulk_transfer cli3 srvB "${TOPO_TUN_SERVER[cli3]}" 5003 "$BULK_MB"
check "bulk-${BULK_MB}MiB-reverse-v4-to-v6-cli3" bulk_transfer srvB cli3 "${TOPO_TUN_CLIENT[cli3]}" 5004 "$BULK_MB"
check "bulk-${BULK_MB}MiB-cli2-same-family" bulk_transfer cli2 srvA "${TOPO_TUN_SERVER[cli2]}" 5005 "$BULK_MB"
xdp_fwd=$(($(xdp_forwarded) - xdp0))
agent_fwd=$(($(agent_forwarded) - agent0))
family=$(($(xdp_counter PUNT_FAMILY) - family0))
obfs=$(($(xdp_counter PUNT_OBFS) - obfs0))
e2e_log "bulk: XDP forwarded $xdp_fwd, agent $agent_fwd, PUNT_FAMILY +$family (total $(xdp_counter PUNT_FAMILY)), PUNT_OBFS +$obfs (total $(xdp_counter PUNT_OBFS))"

# 5 transfers of BULK_MB MiB in ~1400-byte packets, plus their ACKs.
min_pkts=$((BULK_MB * 5 * 1048576 / 1500))
if [ "$xdp_fwd" -ge "$min_pkts" ]; then
	pass transport-via-xdp
else
	fail transport-via-xdp "XDP forwarded $xdp_fwd transport packets, want >= $min_pkts"
fi
if [ "$agent_fwd" -le $((xdp_fwd / 1000 + 2)) ]; then
	pass agent-transport-near-zero
else
	fail agent-transport-near-zero "agent forwarded $agent_fwd transport packets (XDP: $xdp_fwd)"
fi
# No family punt at all; obfuscation punts as test_obfs allows them: ~0 in the bulk.
if [ "$(xdp_counter PUNT_FAMILY)" -eq 0 ] && [ "$obfs" -le 2 ]; then
	pass no-punt-family
else
	fail no-punt-family "PUNT_FAMILY=$(xdp_counter PUNT_FAMILY), PUNT_OBFS +$obfs during the bulk"
fi

topo_xwgp show | sed 's/^/    /' >&2
ns_stop "$CLIENT_PID"
topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
