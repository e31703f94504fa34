# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The server end-to-end suite, sourced by tests/e2e/test_server_*.sh with
#   SUITE_MODE = xdp | xlat | noxsk | agent
#                (XDP path, handshakes over AF_XDP / XDP + forced index translation /
#                 XDP path without AF_XDP sockets: punts reach the UDP socket /
#                 XDP program not attached: agent-only)
#   TOPO_FAMILY = 4 | 6               (outer addresses)
# Real wireguard-go clients and backends (tests/lib/topo.sh); asserts
# handshakes, ping and a 20 MiB transfer with intact content through every
# tunnel, and the counters that prove which path carried the packets.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
require_root
require_cmds wireguard-go wg ip ethtool ping nc jq
[ -x "$XWGP_BIN" ] || skip_all "$XWGP_BIN not built"

BULK_MB=${BULK_MB:-20}

# Sum one XDP counter (packets) or read one agent counter from `xwgp show --json`.
xdp_counter() { jq_num ".counters.xdp.$1.packets"; }
agent_counter() { jq_num ".counters.agent.$1"; }
jq_num() { topo_xwgp show --json | jq "($1 // 0) | floor"; }

topo_setup || { fail setup "topology setup failed"; exit 1; }

args=()
case "$SUITE_MODE" in
xdp) ;;
xlat) args+=(--force-translation) ;;
noxsk) args+=(--no-xsk) ;;
agent) args+=(--xdp-mode off) ;;
*) fail mode "unknown SUITE_MODE $SUITE_MODE"; exit 1 ;;
esac
topo_config "$E2E_TMP/xwgp.json"
topo_xwgp_start "${args[@]}" "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }
topo_clients_connect

if topo_wait_handshakes 25; then
	pass handshakes
else
	fail handshakes "not every client completed a handshake"
	sed 's/^/    /' "$XWGP_LOG"
	topo_xwgp show
	exit 1
fi

# Every backend has exactly its client as peer: a handshake there proves the
# right backend was chosen (fallback, same key under two servers).
for c in "${TOPO_CLIENTS[@]}"; do
	if wg_has_handshake "${TOPO_BACKEND_NS[$c]}" "${TOPO_BACKEND_IF[$c]}" "$(wg_pub "$c")"; then
		pass "routed-$c"
	else
		fail "routed-$c" "backend ${TOPO_BACKEND_IF[$c]} saw no handshake from $c"
	fi
done

for c in "${TOPO_CLIENTS[@]}"; do
	check "ping-$c" topo_ping "$c" 5
done

agent_transport_before=$(($(agent_counter TRANSPORT_C2S) + $(agent_counter TRANSPORT_S2C)))
for c in "${TOPO_CLIENTS[@]}"; do
	check "bulk-${BULK_MB}MiB-$c" bulk_transfer "$c" "${TOPO_BACKEND_NS[$c]}" \
		"${TOPO_TUN_SERVER[$c]}" 5001 "$BULK_MB"
done
# The reverse direction too (backend -> client).
check "bulk-${BULK_MB}MiB-reverse-cli1" bulk_transfer "${TOPO_BACKEND_NS[cli1]}" cli1 \
	"${TOPO_TUN_CLIENT[cli1]}" 5002 "$BULK_MB"

# Bursts of numbered datagrams through cli1's tunnel arrive complete and in
# order: whichever path forwards them (the agent's batched sends, sendmmsg
# with GSO runs, in agent mode) never reorders or loses one flow's packets.
burst_in_order() {
	local seq out="$E2E_TMP/udp_seq.out" n=3200 pid
	seq=$(e2e_tool udp_seq)
	ns_spawn "${TOPO_BACKEND_NS[cli1]}" "$out" "$seq" recv \
		--listen "${TOPO_TUN_SERVER[cli1]}:5003" --count "$n" --timeout 5
	pid=$SPAWN_PID
	wait_for 5 grep -q ready "$out" || { ns_stop "$pid"; return 1; }
	ns_exec cli1 "$seq" send --to "${TOPO_TUN_SERVER[cli1]}:5003" --count "$n" --burst 64 \
		--gap-us 3000 || { ns_stop "$pid"; return 1; }
	wait "$pid"
	e2e_log "burst: $(tail -1 "$out")"
	tail -1 "$out" | jq -e --argjson n "$n" '.received == $n and .in_order and .corrupt == 0' >/dev/null ||
		{ echo "burst: $(tail -1 "$out")" >&2; return 1; }
}
check burst-in-order burst_in_order

xdp_fwd=$(($(xdp_counter C2S_TX) + $(xdp_counter C2S_REDIRECT) + $(xdp_counter S2C_TX) + $(xdp_counter S2C_REDIRECT)))
agent_fwd=$(($(agent_counter TRANSPORT_C2S) + $(agent_counter TRANSPORT_S2C)))
agent_bulk=$((agent_fwd - agent_transport_before))
inits=$(agent_counter INIT_FORWARDED)
resps=$(agent_counter RESP_FORWARDED)
e2e_log "xdp forwarded $xdp_fwd, agent forwarded $agent_fwd ($agent_bulk during bulk), inits $inits, responses $resps"

if [ "$inits" -ge 3 ] && [ "$resps" -ge 3 ]; then
	pass handshakes-through-agent
else
	fail handshakes-through-agent "agent forwarded $inits initiations, $resps responses (want >= 3 each)"
fi

# 4 x 20 MiB is > 50,000 transport packets.
min_pkts=$((BULK_MB * 4 * 1048576 / 1500))
# Which way the punted handshakes reached the agent.
punt_xsk=$(xdp_counter PUNT_XSK)
punt_stack=$(xdp_counter PUNT_STACK)
case "$SUITE_MODE" in
xdp | xlat)
	if [ "$punt_xsk" -ge 6 ] && [ "$(agent_counter RX_XSK)" -ge 6 ]; then
		pass handshakes-via-af-xdp
	else
		fail handshakes-via-af-xdp "PUNT_XSK=$punt_xsk RX_XSK=$(agent_counter RX_XSK) (want >= 6)"
	fi
	;;
noxsk)
	if [ "$punt_xsk" -eq 0 ] && [ "$punt_stack" -ge 6 ] && [ "$(agent_counter RX_XSK)" -eq 0 ]; then
		pass handshakes-via-udp-socket
	else
		fail handshakes-via-udp-socket "PUNT_XSK=$punt_xsk PUNT_STACK=$punt_stack (want 0 and >= 6)"
	fi
	;;
esac

case "$SUITE_MODE" in
xdp | xlat | noxsk)
	if [ "$xdp_fwd" -ge "$min_pkts" ]; then
		pass transport-via-xdp
	else
		fail transport-via-xdp "XDP forwarded $xdp_fwd transport packets, want >= $min_pkts"
	fi
	# Agent-forwarded transport during the bulk phase must be ~0 (< 0.1%).
	if [ "$agent_bulk" -le $((xdp_fwd / 1000 + 2)) ]; then
		pass agent-transport-near-zero
	else
		fail agent-transport-near-zero "agent forwarded $agent_bulk transport packets during bulk (XDP: $xdp_fwd)"
	fi
	if [ "$SUITE_MODE" = xlat ]; then
		x=$(agent_counter INIT_TRANSLATED)
		if [ "$x" -ge 3 ]; then pass translated; else fail translated "INIT_TRANSLATED=$x"; fi
	fi
	;;
agent)
	if [ "$xdp_fwd" -eq 0 ] && [ "$agent_fwd" -ge "$min_pkts" ]; then
		pass transport-via-agent
	else
		fail transport-via-agent "XDP forwarded $xdp_fwd (want 0), agent $agent_fwd (want >= $min_pkts)"
	fi
	# Batched: fewer send system calls than packets, nothing refused, and the
	# per-session counters written per batch, not per packet (DESIGN.md section 2).
	tx_calls=$(agent_counter TX_SYSCALLS)
	sess_writes=$(agent_counter SESS_WRITES)
	send_errors=$(agent_counter SEND_ERRORS)
	e2e_log "agent: $agent_fwd transport packets in $tx_calls send calls, $sess_writes session writes, $send_errors send errors, $(agent_counter TX_GSO_SEGMENTS) GSO segments"
	if [ "$tx_calls" -gt 0 ] && [ "$tx_calls" -lt $((agent_fwd / 2)) ] &&
		[ "$sess_writes" -lt $((agent_fwd / 2)) ] && [ "$send_errors" -eq 0 ]; then
		pass sends-batched
	else
		fail sends-batched "send calls $tx_calls, session writes $sess_writes for $agent_fwd packets (want < half), send errors $send_errors"
	fi
	;;
esac

topo_xwgp show | sed 's/^/    /' >&2
topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
