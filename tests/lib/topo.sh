# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The standard xwgp test topology (docs/DESIGN.md section 9), shared by the
# server end-to-end tests, the demo and the benchmarks. Source after e2e.sh.
#
#   cli1 ─┐                                      ┌─ srvA: wg A1 :51820 (key A, peer cli1)
#   cli2 ─┼─ [lanc bridge] ─ xc │proxy│ xs ─ [lans bridge] ─┤     wg A2 :51821 (key A, peer cli2; fallback)
#   cli3 ─┘   192.0.2.0/24        xwgp      198.51.100.0/24  └─ srvB: wg B1 :51820 (key B, peer cli3)
#
# xwgp listens on 192.0.2.1:51820 (or [2001:db8:c::1]:51820 with TOPO_FAMILY=6)
# with XDP on xc and xs. Config: server A has cli1 (-> A1), cli3 (-> A1: the
# same key is also under server B) and a fallback (-> A2) that catches cli2;
# server B has cli3 (-> B1). Tunnels: cli1 203.0.113.2 <-> A1 203.0.113.1,
# cli2 203.0.113.6 <-> A2 203.0.113.5, cli3 203.0.113.10 <-> B1 203.0.113.9.
#
#   topo_require [CMD...]      require root, wireguard-go, wg, ip, ethtool, ping, the CMDs
#                              and the xwgp binary (skip_all otherwise)
#   topo_setup                 namespaces, bridges, links, keys, backends, clients
#   topo_config FILE [KEY=JSON ...]  write the xwgp server config (extra top-level keys)
#   topo_xwgp_start [ARGS...]  start `xwgp server` in the proxy (sets XWGP_PID, XWGP_LOG)
#   topo_xwgp_stop [SIGNAL]    stop it
#   topo_upstream_ephemeral FILE  make the config's upstream port 0 (the kernel picks
#                              one); FAIL config and exit if it cannot
#   topo_client_connect CLIENT point the client's peer (its server key) at xwgp
#   topo_clients_connect       the same for every client
#   topo_client_forget CLIENT  remove the client's peer: once re-added, its next packet
#                              handshakes anew
#   topo_clients_forget        the same for every client
#   topo_clients_up            connect the clients, wait for their handshakes (25 s);
#                              FAIL start/handshakes (with xwgp's log) and exit on error
#   topo_xwgp CMD...           run the xwgp binary inside the proxy namespace
#   topo_wait_handshakes SECS  wait until all three clients completed a handshake
#   topo_ping CLIENT [N]       ping the client's backend through its tunnel (N, default 5)
#   topo_warm_up N             N pings through every tunnel, output dropped (neighbour
#                              entries in the proxy, so XDP rather than the agent forwards)
#   TOPO_CLIENTS, TOPO_TUN_CLIENT[i], TOPO_TUN_SERVER[i], TOPO_BACKEND_NS[i], TOPO_BACKEND_IF[i]

TOPO_FAMILY=${TOPO_FAMILY:-4}
TOPO_CLIENTS=(cli1 cli2 cli3)
declare -A TOPO_TUN_CLIENT=([cli1]=203.0.113.2 [cli2]=203.0.113.6 [cli3]=203.0.113.10)
declare -A TOPO_TUN_SERVER=([cli1]=203.0.113.1 [cli2]=203.0.113.5 [cli3]=203.0.113.9)
declare -A TOPO_BACKEND_NS=([cli1]=srvA [cli2]=srvA [cli3]=srvB)
declare -A TOPO_SERVER_KEY=([cli1]=srvkeyA [cli2]=srvkeyA [cli3]=srvkeyB)
declare -A TOPO_CLIENT_IF=()
declare -A TOPO_BACKEND_IF=()
declare -A TOPO_LAN_ADDR=([cli1]=11 [cli2]=12 [cli3]=13)
XWGP_PID=
XWGP_LOG=
XWGP_BIN="$BUILD/xwgp"
TOPO_PORT=51820

if [ "$TOPO_FAMILY" = 6 ]; then
	TOPO_PROXY_C=2001:db8:c::1
	TOPO_PROXY_S=2001:db8:5::1
	topo_lanc_addr() { echo "2001:db8:c::$1/64"; }
	topo_ep() { echo "[$1]:$2"; }
else
	TOPO_PROXY_C=192.0.2.1
	TOPO_PROXY_S=198.51.100.1
	topo_lanc_addr() { echo "192.0.2.$1/24"; }
	topo_ep() { echo "$1:$2"; }
fi
declare -A TOPO_SRV_ADDR
if [ "$TOPO_FAMILY" = 6 ]; then
	TOPO_SRV_ADDR=([srvA]=2001:db8:5::2 [srvB]=2001:db8:5::3)
else
	TOPO_SRV_ADDR=([srvA]=198.51.100.2 [srvB]=198.51.100.3)
fi

topo_require() {
	require_root
	require_cmds wireguard-go wg ip ethtool ping "$@"
	[ -x "$XWGP_BIN" ] || skip_all "$XWGP_BIN not built"
}

# A bridge namespace with one veth per attached namespace. Every veth end gets
# GRO: a veth peer receiving XDP_TX/redirected frames drops them without it.
topo_bridge() {
	local br=$1
	ns_add "$br" || return 1
	ip -n "$(ns_name "$br")" link add br0 type bridge || return 1
	ip -n "$(ns_name "$br")" link set br0 up
}

topo_attach() {
	local br=$1 ns=$2 ifc=$3 addrs=$4 port=$5
	veth_link "$ns" "$ifc" "$addrs" "$br" "$port" - || return 1
	ip -n "$(ns_name "$br")" link set "$port" master br0 || return 1
	ns_exec "$ns" ethtool -K "$ifc" gro on >/dev/null 2>&1
	ns_exec "$br" ethtool -K "$port" gro on >/dev/null 2>&1
	return 0
}

topo_setup() {
	local c i=0 srv
	for ns in proxy srvA srvB "${TOPO_CLIENTS[@]}"; do
		ns_add "$ns" || return 1
	done
	topo_bridge lanc || return 1
	topo_bridge lans || return 1
	if [ "$TOPO_FAMILY" = 6 ]; then
		topo_attach lanc proxy xc "$TOPO_PROXY_C/64" pxc || return 1
		topo_attach lans proxy xs "$TOPO_PROXY_S/64" pxs || return 1
	else
		topo_attach lanc proxy xc "$TOPO_PROXY_C/24" pxc || return 1
		topo_attach lans proxy xs "$TOPO_PROXY_S/24" pxs || return 1
	fi
	ns_forwarding proxy || return 1
	for srv in srvA srvB; do
		topo_attach lans "$srv" eth0 "${TOPO_SRV_ADDR[$srv]}/$([ "$TOPO_FAMILY" = 6 ] && echo 64 || echo 24)" "p$srv" || return 1
	done
	for c in "${TOPO_CLIENTS[@]}"; do
		topo_attach lanc "$c" eth0 "$(topo_lanc_addr "${TOPO_LAN_ADDR[$c]}")" "p$c" || return 1
	done

	wg_genkey srvkeyA && wg_genkey srvkeyB || return 1
	for c in "${TOPO_CLIENTS[@]}"; do
		wg_genkey "$c" || return 1
	done
	# Backends: A1 (cli1), A2 (cli2, reached through server A's fallback), B1 (cli3).
	TOPO_BACKEND_IF[cli1]=$(wg_ifname A1)
	TOPO_BACKEND_IF[cli2]=$(wg_ifname A2)
	TOPO_BACKEND_IF[cli3]=$(wg_ifname B1)
	wg_up srvA "${TOPO_BACKEND_IF[cli1]}" "$(wg_privfile srvkeyA)" 51820 203.0.113.1/30 || return 1
	wg_up srvA "${TOPO_BACKEND_IF[cli2]}" "$(wg_privfile srvkeyA)" 51821 203.0.113.5/30 || return 1
	wg_up srvB "${TOPO_BACKEND_IF[cli3]}" "$(wg_privfile srvkeyB)" 51820 203.0.113.9/30 || return 1
	for c in "${TOPO_CLIENTS[@]}"; do
		wg_peer "${TOPO_BACKEND_NS[$c]}" "${TOPO_BACKEND_IF[$c]}" "$(wg_pub "$c")" \
			"${TOPO_TUN_CLIENT[$c]}/32" || return 1
	done
	# Clients point their Endpoint at xwgp.
	for c in "${TOPO_CLIENTS[@]}"; do
		TOPO_CLIENT_IF[$c]=$(wg_ifname "c$c")
		TOPO_CLIENT_IF[$c]=${TOPO_CLIENT_IF[$c]:0:15}
		wg_up "$c" "${TOPO_CLIENT_IF[$c]}" "$(wg_privfile "$c")" 51820 \
			"${TOPO_TUN_CLIENT[$c]}/30" || return 1
	done
}

# Connect a client (after xwgp runs): peer = its server key via xwgp.
topo_client_connect() {
	local c=$1
	wg_peer "$c" "${TOPO_CLIENT_IF[$c]}" "$(wg_pub "${TOPO_SERVER_KEY[$c]}")" \
		"${TOPO_TUN_SERVER[$c]}/32" "$(topo_ep "$TOPO_PROXY_C" "$TOPO_PORT")"
}

topo_clients_connect() {
	local c
	for c in "${TOPO_CLIENTS[@]}"; do
		topo_client_connect "$c" || return 1
	done
}

topo_client_forget() {
	local c=$1
	ns_exec "$c" wg set "${TOPO_CLIENT_IF[$c]}" peer "$(wg_pub "${TOPO_SERVER_KEY[$c]}")" remove
}

topo_clients_forget() {
	local c
	for c in "${TOPO_CLIENTS[@]}"; do
		topo_client_forget "$c"
	done
}

topo_config() {
	local file=$1 extra="" kv
	shift
	for kv in "$@"; do
		extra+="  \"${kv%%=*}\": ${kv#*=},"$'\n'
	done
	cat >"$file" <<JSON
{
  // written by tests/lib/topo.sh
  "listen": "$(topo_ep "$TOPO_PROXY_C" "$TOPO_PORT")",
  "timeout": 60,
  "interface": ["xc", "xs"],
  "xdp_mode": "native",
  "upstream": "$(topo_ep "$TOPO_PROXY_S" 51900)",
$extra  "servers": [
    {
      "privkey_file": "$(wg_privfile srvkeyA)",
      "address": "${TOPO_SRV_ADDR[srvA]}",
      "peers": [
        { "pubkey": "$(wg_pub cli1)", "forward_to": ":51820" },
        { "pubkey": "$(wg_pub cli3)", "forward_to": ":51820" },
        { "forward_to": ":51821" }
      ]
    },
    {
      "privkey": "$(wg_priv srvkeyB)",
      "address": "${TOPO_SRV_ADDR[srvB]}",
      "peers": [
        { "pubkey": "$(wg_pub cli3)", "forward_to": ":51820" }
      ]
    }
  ]
}
JSON
	chmod 0600 "$file" # it holds an inline private key: xwgp warns otherwise
}

topo_upstream_ephemeral() {
	local file=$1
	sed -i "s/\"upstream\": \"\(.*\):51900\"/\"upstream\": \"\1:0\"/" "$file"
	grep -q '"upstream": ".*:0"' "$file" || { fail config "could not make upstream ephemeral"; exit 1; }
}

topo_xwgp() {
	ns_exec proxy "$XWGP_BIN" "$@"
}

topo_xwgp_start() {
	XWGP_LOG="$E2E_TMP/xwgp-server.$RANDOM.log"
	ns_spawn proxy "$XWGP_LOG" "$XWGP_BIN" server "$@"
	XWGP_PID=$SPAWN_PID
	# Ready when the listen socket is bound.
	if ! wait_for 10 sh -c "ip netns exec '$(ns_name proxy)' ss -Hlun 'sport = :$TOPO_PORT' | grep -q ."; then
		e2e_log "xwgp server did not start:"
		sed 's/^/#   /' "$XWGP_LOG" >&2
		return 1
	fi
}

topo_xwgp_stop() {
	[ -n "$XWGP_PID" ] && ns_stop "$XWGP_PID" "${1:-TERM}"
	XWGP_PID=
}

topo_handshakes_done() {
	local c
	for c in "${TOPO_CLIENTS[@]}"; do
		wg_has_handshake "$c" "${TOPO_CLIENT_IF[$c]}" "$(wg_pub "${TOPO_SERVER_KEY[$c]}")" || return 1
	done
}

topo_wait_handshakes() {
	local c
	# Traffic triggers the first handshake.
	for c in "${TOPO_CLIENTS[@]}"; do
		ns_exec "$c" ping -c 1 -W 1 "${TOPO_TUN_SERVER[$c]}" >/dev/null 2>&1 &
	done
	wait_for "$1" topo_handshakes_done
}

topo_clients_up() {
	topo_clients_connect || { fail start "clients did not connect"; exit 1; }
	if ! topo_wait_handshakes 25; then
		fail handshakes "not every client completed a handshake"
		sed 's/^/    /' "$XWGP_LOG"
		exit 1
	fi
}

topo_ping() {
	local c=$1 n=${2:-5}
	ns_exec "$c" ping -c "$n" -i 0.2 -W 2 "${TOPO_TUN_SERVER[$c]}"
}

topo_warm_up() {
	local c
	for c in "${TOPO_CLIENTS[@]}"; do
		topo_ping "$c" "$1" >/dev/null 2>&1
	done
}
