#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xwgp on a routing gateway's public port, with a wildcard listen
# (":51820") and upstream (":51900"), XDP attached (README "Running on a
# gateway"):
#
#   transit    the proxy namespace routes between the client LAN and the
#              backend LAN; `att' sends UDP through it to `far'
#              (198.51.100.77, 2001:db8:5::77), a host behind the gateway,
#              on the ports xwgp listens on and sends from: 100 datagrams
#              per (family, port), half WireGuard-looking (initiations,
#              responses, transport carrying a live session's index), half
#              plain. All 400 arrive at `far' byte-identical (XDP
#              PASS_NOT_LOCAL), and the tunnels still work with their
#              transport forwarded by XDP (C2S/S2C counters).
#   new address  an address added to the proxy after the start is served:
#              cli3 hands shakes with 192.0.2.2:51820 and pings.
#   hijack     srvA pings cli1 through its tunnel every 10 ms; one forged
#              transport packet with cli1's receiver index from the
#              attacker's own address on the client LAN, then a stream of
#              them, then one each spoofed from 127.0.0.1 and the LAN's
#              broadcast 192.0.2.255: the attacker receives nothing, cli1
#              loses < 1% of the pings, its session keeps its endpoint
#              (XDP ROAM_CANDIDATE, DROP_SRC_LOOPBACK, DROP_SRC_BROADCAST).
#   roaming    cli2 (csvl 1) changes its source address (and port) mid-transfer
#              (the old one is gone): followed within 3 s (XDP PUNT_ROAM, agent
#              ROAMED), the session's endpoint is the new address.
#   replay     a backend's handshake response captured off the wire and
#              replayed from the backend's address: refused (RESP_REPLAY),
#              no session's backend index changes, every tunnel pings.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
. "$(dirname "$0")/hardening_lib.sh"
topo_require jq tcpdump python3
FORGE=$(e2e_tool wg_forge)
[ "$TOPO_FAMILY" = 4 ] || skip_all "the gateway topology is built on the IPv4 one (IPv6 transit is added)"

hard_setup || { fail setup "topology setup failed"; exit 1; }
# IPv6 on both LANs, and `far' behind the gateway on the backend LAN.
ns_add far || { fail setup "far"; exit 1; }
topo_attach lans far eth0 198.51.100.77/24,2001:db8:5::77/64 pfar || { fail setup "far link"; exit 1; }
ns_addr proxy xc 2001:db8:c::1/64 && ns_addr proxy xs 2001:db8:5::1/64 &&
	ns_addr att eth0 2001:db8:c::66/64 || { fail setup "IPv6 addresses"; exit 1; }
ns_route att 198.51.100.0/24 192.0.2.1 && ns_route att 2001:db8:5::/64 2001:db8:c::1 &&
	ns_route far 192.0.2.0/24 198.51.100.1 && ns_route far 2001:db8:c::/64 2001:db8:5::1 ||
	{ fail setup "routes"; exit 1; }
hard_config "$E2E_TMP/xwgp.json" '.listen = ":51820" | .upstream = ":51900"' ||
	{ fail setup "config"; exit 1; }

RESP_PCAP=$E2E_TMP/srvA-handshake.pcap
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }
capture_start srvA eth0 "$RESP_PCAP" || { fail capture "tcpdump did not start"; exit 1; }
topo_clients_up
capture_stop
topo_warm_up 3

# ---- transit -------------------------------------------------------------------
RECV=$E2E_TMP/far.received
SENT=$E2E_TMP/att.sent
cat >"$E2E_TMP/udp_recv.py" <<'PY'
import select, socket, sys
out = open(sys.argv[1], "w")
socks = []
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    for port in (51820, 51900):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        socks.append(s)
print("ready", flush=True)
while True:
    r, _, _ = select.select(socks, [], [], 30)
    if not r:
        break
    for s in r:
        data, src = s.recvfrom(65535)
        out.write("%d %s\n" % (s.getsockname()[1], data.hex()))
        out.flush()
PY
cat >"$E2E_TMP/udp_send.py" <<'PY'
import random, socket, struct, sys, time
index = int(sys.argv[2])
rnd = random.Random(11)
out = open(sys.argv[1], "w")
def wg(n):
    kind = n % 3
    if kind == 0:   # initiation
        return bytes([1, 0, 0, 0]) + bytes(rnd.getrandbits(8) for _ in range(144))
    if kind == 1:   # response
        return bytes([2, 0, 0, 0]) + bytes(rnd.getrandbits(8) for _ in range(88))
    # transport carrying a live session's receiver index
    return bytes([4, 0, 0, 0]) + struct.pack("<I", index) + bytes(rnd.getrandbits(8) for _ in range(56))
for fam, dst in ((socket.AF_INET, "198.51.100.77"), (socket.AF_INET6, "2001:db8:5::77")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for port in (51820, 51900):
        for n in range(100):
            data = wg(n) if n < 50 else bytes(rnd.getrandbits(8) for _ in range(20 + n))
            s.sendto(data, (dst, port))
            out.write("%d %s\n" % (port, data.hex()))
            time.sleep(0.002)
PY

# FIELD of the client's session its traffic uses now (a client may hold
# several: every handshake makes one): established, most recently seen.
active_field() {
	topo_xwgp show --json | jq -r --arg k "$1" \
		"[.sessions[] | select(.client_pubkey == \$k and .established)] |
		 sort_by(.last_seen_age_sec, .handshake_age_sec) | .[0].$2 // empty"
}

CLI1_PUB=$(wg_pub cli1)
CLI1_C2S=$(active_field "$CLI1_PUB" server_proxy_index)
[ -n "$CLI1_C2S" ] || { fail transit "no session for cli1"; exit 1; }
ns_spawn far "$E2E_TMP/far.log" python3 "$E2E_TMP/udp_recv.py" "$RECV"
RECV_PID=$SPAWN_PID
wait_for 10 grep -q ready "$E2E_TMP/far.log" || fail transit-receiver "did not start"
snap_settled "$E2E_TMP/t.a"
ns_exec att python3 "$E2E_TMP/udp_send.py" "$SENT" "$CLI1_C2S" || fail transit-send "sender failed"
sleep 1
ns_stop "$RECV_PID" TERM
snap_settled "$E2E_TMP/t.b"
sent=$(wc -l <"$SENT")
got=$(wc -l <"$RECV" 2>/dev/null || echo 0)
if [ "$sent" -eq 400 ] && cmp -s <(sort "$SENT") <(sort "$RECV"); then
	pass transit-all-arrive-byte-identical
else
	fail transit-all-arrive-byte-identical "sent $sent, far received $got (want all, identical);" \
		"$(comm -23 <(sort "$SENT") <(sort "$RECV") | head -3 | cut -c1-60)"
fi
d=$(delta "$E2E_TMP/t.a" "$E2E_TMP/t.b" xdp.PASS_NOT_LOCAL)
if [ "$d" -ge 400 ]; then
	pass transit-passed-by-xdp
else
	fail transit-passed-by-xdp "PASS_NOT_LOCAL +$d, want >= 400"
fi
d=$(delta "$E2E_TMP/t.a" "$E2E_TMP/t.b" agent.RX_CLIENT agent.RX_SERVER)
if [ "$d" -eq 0 ]; then pass transit-not-seen-by-agent; else fail transit-not-seen-by-agent "agent received $d"; fi

snap_settled "$E2E_TMP/p.a"
for c in "${TOPO_CLIENTS[@]}"; do
	check "tunnel-$c-pings" topo_ping "$c" 10
done
snap_settled "$E2E_TMP/p.b"
c2s=$(delta "$E2E_TMP/p.a" "$E2E_TMP/p.b" xdp.C2S_TX xdp.C2S_REDIRECT)
s2c=$(delta "$E2E_TMP/p.a" "$E2E_TMP/p.b" xdp.S2C_TX xdp.S2C_REDIRECT)
if [ "$c2s" -ge 30 ] && [ "$s2c" -ge 30 ]; then
	pass tunnels-forwarded-by-xdp
else
	fail tunnels-forwarded-by-xdp "XDP forwarded c2s $c2s, s2c $s2c (want >= 30 each)"
fi

# ---- an address added later ------------------------------------------------------
ns_addr proxy xc 192.0.2.2/24 || fail new-address "ip addr add"
sleep 0.5
topo_client_forget cli3
wg_peer cli3 "${TOPO_CLIENT_IF[cli3]}" "$(wg_pub "${TOPO_SERVER_KEY[cli3]}")" \
	"${TOPO_TUN_SERVER[cli3]}/32" 192.0.2.2:51820
check new-address-served topo_ping cli3 5

# ---- hijack ----------------------------------------------------------------------
# hijack NAME FORGE_ARGS...: srvA pings cli1 every 10 ms while FORGE_ARGS are sent.
hijack() {
	local name=$1 a=$E2E_TMP/h-$1.a b=$E2E_TMP/h-$1.b pcap=$E2E_TMP/h-$1.pcap out loss got ep0 ep1
	shift
	CLI1_C2S=$(active_field "$CLI1_PUB" server_proxy_index)
	forged=$(printf 'fill:64:04000000%02x%02x%02x%02x' $((CLI1_C2S & 255)) $((CLI1_C2S >> 8 & 255)) \
		$((CLI1_C2S >> 16 & 255)) $((CLI1_C2S >> 24 & 255)))
	ep0=$(active_field "$CLI1_PUB" client_endpoint)
	snap_settled "$a"
	capture_start att eth0 "$pcap" || { fail "hijack-$name-capture" "tcpdump"; return; }
	ns_exec srvA ping -q -i 0.01 -c 300 -W 1 "${TOPO_TUN_CLIENT[cli1]}" >"$E2E_TMP/h-$name.ping" 2>&1 &
	local ping_pid=$!
	sleep 0.5
	ns_exec att "$FORGE" send "$@" "$forged" || fail "hijack-$name-send" "wg_forge failed"
	wait "$ping_pid"
	capture_stop
	snap_settled "$b"
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$E2E_TMP/h-$name.ping")
	# What xwgp sent to the attacker, or to the broadcast it spoofed.
	got=$(tcpdump -nr "$pcap" "udp and src host $TOPO_PROXY_C and (dst host $HARD_ATT_IP or dst host 192.0.2.255)" \
		2>/dev/null | wc -l)
	ep1=$(active_field "$CLI1_PUB" client_endpoint)
	if [ "$got" -eq 0 ] && [ -n "$loss" ] && awk "BEGIN { exit !($loss < 1) }" && [ "$ep0" = "$ep1" ]; then
		pass "hijack-$name-refused"
	else
		fail "hijack-$name-refused" "attacker received $got datagrams from xwgp, cli1 lost ${loss:-?}% of 300 pings (want < 1)," \
			"endpoint $ep0 -> $ep1"
	fi
	HIJACK_A=$a HIJACK_B=$b
}

# The forged payload: a transport header with cli1's receiver index (set by hijack).
hijack one --src "$HARD_ATT_IP:40666" --dst "$LISTEN"
d=$(delta "$HIJACK_A" "$HIJACK_B" xdp.ROAM_CANDIDATE)
[ "$d" -ge 1 ] && pass hijack-one-was-a-candidate || fail hijack-one-was-a-candidate "ROAM_CANDIDATE +$d"
hijack stream --src "$HARD_ATT_IP:40667" --dst "$LISTEN" --count 50
hijack loopback --raw --src 127.0.0.1:40668 --dst "$LISTEN"
d=$(delta "$HIJACK_A" "$HIJACK_B" xdp.DROP_SRC_LOOPBACK)
[ "$d" -ge 1 ] && pass hijack-loopback-counted || fail hijack-loopback-counted "DROP_SRC_LOOPBACK +$d"
hijack broadcast --raw --src 192.0.2.255:40669 --dst "$LISTEN"
d=$(delta "$HIJACK_A" "$HIJACK_B" xdp.DROP_SRC_BROADCAST)
[ "$d" -ge 1 ] && pass hijack-broadcast-counted || fail hijack-broadcast-counted "DROP_SRC_BROADCAST +$d"

# ---- genuine roaming: a new source address ---------------------------------------
CLI2_PUB=$(wg_pub cli2)
snap_settled "$E2E_TMP/r.a"
# The old address goes; the new one, a secondary, must stay. wireguard-go
# sticks to the source address it last received on: only a new socket (a
# new port) picks another, so the source address and port both change.
ns_exec cli2 sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
ns_addr cli2 eth0 192.0.2.112/24 || fail roam-address "ip addr add"
ip -n "$(ns_name cli2)" addr del 192.0.2.12/24 dev eth0 || fail roam-address "ip addr del"
ns_exec cli2 wg set "${TOPO_CLIENT_IF[cli2]}" listen-port 52112 || fail roam-address "wg set"
seq=$(roam_first_reply cli2)
snap_settled "$E2E_TMP/r.b"
ep=$(active_field "$CLI2_PUB" client_endpoint)
if [ -n "$seq" ] && [ "$seq" -le 15 ] && [ "${ep%:*}" = 192.0.2.112 ]; then
	pass roam-new-address-followed-within-3s
else
	fail roam-new-address-followed-within-3s "first reply: ping #${seq:-none} (want <= 15), endpoint $ep"
fi
r=$(delta "$E2E_TMP/r.a" "$E2E_TMP/r.b" agent.ROAMED)
p=$(delta "$E2E_TMP/r.a" "$E2E_TMP/r.b" xdp.PUNT_ROAM)
[ "$r" -ge 1 ] && [ "$p" -ge 1 ] && pass roam-counted || fail roam-counted "ROAMED +$r, PUNT_ROAM +$p"

# ---- a replayed handshake response -----------------------------------------------
RESP_HEX=$("$FORGE" hex "pcap:$RESP_PCAP:2") || { fail replay "no response captured"; exit 1; }
# The response's receiver (bytes 8-11, little-endian): the session it answers.
r=${RESP_HEX:16:8}
RESP_RCV=$((16#${r:6:2}${r:4:2}${r:2:2}${r:0:2}))
indexes() {
	topo_xwgp show --json | jq -c --argjson i "$RESP_RCV" '[.sessions[] |
		select(.client_proxy_index == $i) | [.server_proxy_index, .server_origin_index,
		.established, .server_endpoint]]'
}
before=$(indexes)
snap_settled "$E2E_TMP/x.a"
for port in 51820 51821; do
	ns_exec srvA "$FORGE" send --raw --src "${TOPO_SRV_ADDR[srvA]}:$port" --dst "$UPSTREAM" \
		"hex:$RESP_HEX" || fail replay-send "wg_forge failed"
done
snap_settled "$E2E_TMP/x.b"
after=$(indexes)
r=$(delta "$E2E_TMP/x.a" "$E2E_TMP/x.b" agent.RESP_REPLAY)
f=$(delta "$E2E_TMP/x.a" "$E2E_TMP/x.b" agent.RESP_FORWARDED)
if [ "$r" -ge 1 ] && [ "$f" -eq 0 ] && [ "$before" = "$after" ] && [ "$before" != "[]" ]; then
	pass replayed-response-refused
else
	fail replayed-response-refused "RESP_REPLAY +$r, RESP_FORWARDED +$f, session $RESP_RCV: $before -> $after"
fi
for c in cli1 cli3; do
	check "after-replay-$c-pings" topo_ping "$c" 3
done

topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
