#!/usr/bin/env bash
# `make demo`: three stock WireGuard clients (wireguard-go) reach three
# WireGuard backends on two servers through one xwgp port, with transport
# forwarded in XDP. Shows the handshakes, a ping through each tunnel, the
# session table and the counters, who carried the transport (XDP or the
# agent, and why), an excerpt of the Prometheus metrics, then tears
# everything down.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
require_root
require_cmds wireguard-go wg ip ethtool ping curl

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building the topology (namespaces, bridges, wireguard-go backends and clients)"
topo_setup || { fail setup "topology setup failed"; exit 1; }
topo_config "$E2E_TMP/xwgp.json" 'metrics_listen="127.0.0.1:9586"'
sed 's/"privkey": "[^"]*"/"privkey": "<redacted>"/' "$E2E_TMP/xwgp.json"

say "starting xwgp server (XDP native on xc, xs)"
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; cat "$XWGP_LOG"; exit 1; }
topo_clients_connect

say "waiting for the WireGuard handshakes through xwgp"
if topo_wait_handshakes 20; then
	for c in "${TOPO_CLIENTS[@]}"; do
		echo "$c: latest handshake $(($(date +%s) - $(wg_latest_handshake "$c" "${TOPO_CLIENT_IF[$c]}" "$(wg_pub "${TOPO_SERVER_KEY[$c]}")"))) s ago"
	done
	pass handshakes
else
	fail handshakes "not every client completed a handshake"
	cat "$XWGP_LOG"
fi

for c in "${TOPO_CLIENTS[@]}"; do
	say "ping from $c through its tunnel to ${TOPO_TUN_SERVER[$c]} (${TOPO_BACKEND_NS[$c]})"
	if topo_ping "$c" 3; then pass "ping-$c"; else fail "ping-$c" "no reply"; fi
done

say "xwgp show"
topo_xwgp show | tee "$E2E_TMP/show.txt"
say "who carried the transport"
line=$(grep '^transport:' "$E2E_TMP/show.txt")
echo "$line"
case "$line" in
"transport: XDP (accelerated) carries it"*) pass transport-via-xdp ;;
*) fail transport-via-xdp "the accelerator did not carry the tunnels (see the line above)" ;;
esac
say "Prometheus metrics (curl http://127.0.0.1:9586/metrics, excerpt)"
ns_exec proxy curl -sS --max-time 5 http://127.0.0.1:9586/metrics |
	grep -E '^xwgp_(up|info|sessions|handshakes_total|backend_packets_total)' ||
	fail metrics "no answer on metrics_listen"
say "xwgp agent log"
cat "$XWGP_LOG"
topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
say "tearing down"
