#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `xwgp client' with real WireGuard peers, without obfuscation (so the far
# end is a plain wireguard-go server) and with every index translated
# (--force-translation: MAC1 recomputed for server_pubkey/client_pubkey must
# satisfy real WireGuard), run as an unprivileged user:
#
#   ns cl: wireguard-go wgc (203.0.113.2) -> xwgp client 127.0.0.1:51999 --+
#   ns sv: wireguard-go wgs (203.0.113.1) on 192.0.2.1 and 192.0.2.2 :51820 <+
#          dns_stub on 192.0.2.53:53 answering for vpn.test
#
# The config names the server `vpn.test:51820' with `dns: 192.0.2.53:53'.
# Asserts: an unknown name is retried (RESOLVE_FAILURES) and picked up once
# it resolves; handshake, ping and 20 MiB each way with intact content; the
# counters; a changed DNS answer is followed (SERVER_CHANGED, traffic to the
# new address after the old one is removed); without `dns', the system
# resolver (a private /etc/hosts) resolves and follows an edit; SIGUSR1
# prints the counters; SIGTERM exits 0; --help tells the options.
. "$(dirname "$0")/../lib/e2e.sh"
require_root
require_cmds wireguard-go wg ip ethtool ping nc jq setpriv unshare
XWGP="$BUILD/xwgp"
[ -x "$XWGP" ] || skip_all "$XWGP not built"
DNS_STUB=$(e2e_tool dns_stub)

BULK_MB=${BULK_MB:-20}
WGC=$(wg_ifname c)
WGS=$(wg_ifname s)

ns_add cl && ns_add sv || { fail setup "namespaces"; exit 1; }
# 192.0.2.2 first: removing a primary address would take the secondaries with it.
veth_link cl eth0 192.0.2.11/24 sv eth0 192.0.2.2/24,192.0.2.1/24,192.0.2.53/24 ||
	{ fail setup "veth"; exit 1; }
wg_genkey cli && wg_genkey srv || { fail setup "keys"; exit 1; }
wg_up sv "$WGS" "$(wg_privfile srv)" 51820 203.0.113.1/30 || { fail setup "wg server"; exit 1; }
wg_peer sv "$WGS" "$(wg_pub cli)" 203.0.113.2/32 || { fail setup "wg server peer"; exit 1; }
wg_up cl "$WGC" "$(wg_privfile cli)" 51820 203.0.113.2/30 || { fail setup "wg client"; exit 1; }

# The client runs as nobody: its files must be reachable for that user.
RUN="$E2E_TMP/run"
mkdir -p "$RUN" && chmod 711 "$E2E_TMP" && chmod 777 "$RUN"
ZONE="$RUN/zone"
: >"$ZONE"
ns_spawn sv "$E2E_TMP/dns_stub.log" "$DNS_STUB" 192.0.2.53:53 "$ZONE"
cat >"$RUN/client.json" <<JSON
{
  // xwgp client test config (mwgp client format)
  "server": "vpn.test:51820",
  "listen": "127.0.0.1:51999",
  "timeout": 60,
  "server_pubkey": "$(wg_pub srv)",
  "client_pubkey": "$(wg_pub cli)",
  "dns": "192.0.2.53:53"
}
JSON
chmod 644 "$RUN/client.json"
STATS="$RUN/stats.json"

stat_of() { jq -r "$1" "$STATS" 2>/dev/null; }
ctr() { stat_of ".counters.$1 // 0"; }
server_is() { [ "$(stat_of .server)" = "$1" ]; }
stats_ready() { [ -s "$STATS" ] && [ "$(ctr RESOLVE_FAILURES)" -ge "$1" ]; }

check help sh -c "'$XWGP' client --help | grep -q -- --resolve-interval &&
	'$XWGP' client --help | grep -q -- --stats-file"

ns_spawn cl "$E2E_TMP/client.log" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$XWGP" client --force-translation --resolve-interval 2 --stats-file "$STATS" \
	"$RUN/client.json"
CLIENT_PID=$SPAWN_PID

# 1. The name does not exist yet: failures are counted and retried.
if wait_for 10 stats_ready 1 && [ "$(stat_of .server)" = null ]; then
	pass unresolved-retried
else
	fail unresolved-retried "no RESOLVE_FAILURES / server not null: $(cat "$STATS" 2>&1)"
fi
echo "vpn.test 192.0.2.1" >"$ZONE"
if wait_for 10 server_is 192.0.2.1:51820; then
	pass resolved-via-dns
else
	fail resolved-via-dns "server is $(stat_of .server)"
	sed 's/^/    /' "$E2E_TMP/client.log" "$E2E_TMP/dns_stub.log"
fi

# 2. A real handshake through the client, with translated indexes.
wg_peer cl "$WGC" "$(wg_pub srv)" 203.0.113.1/32 127.0.0.1:51999
ns_exec cl ping -c 1 -W 1 203.0.113.1 >/dev/null 2>&1 &
if wait_for 15 wg_has_handshake cl "$WGC" "$(wg_pub srv)"; then
	pass handshake
else
	fail handshake "no handshake through xwgp client"
	sed 's/^/    /' "$E2E_TMP/client.log"
fi
check ping ns_exec cl ping -c 5 -i 0.2 -W 2 203.0.113.1
check "bulk-${BULK_MB}MiB-to-server" bulk_transfer cl sv 203.0.113.1 5001 "$BULK_MB"
check "bulk-${BULK_MB}MiB-from-server" bulk_transfer sv cl 203.0.113.2 5002 "$BULK_MB"

# Let the client write its stats file (every second).
sleep 1.5
min_pkts=$((BULK_MB * 1048576 / 1500))
inits=$(ctr INIT_FORWARDED) xlat=$(ctr INIT_TRANSLATED) resps=$(ctr RESP_FORWARDED)
out=$(ctr TRANSPORT_TO_SERVER) in=$(ctr TRANSPORT_TO_LOCAL)
e2e_log "client: inits $inits (translated $xlat), responses $resps, transport out $out, in $in"
if [ "$inits" -ge 1 ] && [ "$xlat" -eq "$inits" ] && [ "$resps" -ge 1 ]; then
	pass handshake-counters
else
	fail handshake-counters "INIT_FORWARDED=$inits INIT_TRANSLATED=$xlat RESP_FORWARDED=$resps"
fi
if [ "$out" -ge "$min_pkts" ] && [ "$in" -ge "$min_pkts" ]; then
	pass transport-counters
else
	fail transport-counters "TRANSPORT_TO_SERVER=$out TRANSPORT_TO_LOCAL=$in, want >= $min_pkts each"
fi
if jq -e --argjson min "$min_pkts" '[.session_list[] | select(.established and
	.to_server_packets >= $min and .to_local_packets >= $min and
	.client_proxy_index != .client_origin_index)] | length == 1' "$STATS" >/dev/null; then
	pass session-list
else
	fail session-list "$(jq -c .session_list "$STATS")"
fi
bad=$(($(ctr MALFORMED) + $(ctr BAD_TYPE) + $(ctr SRC_INVALID) + $(ctr RESP_BAD_MAC1) + \
	$(ctr INIT_MAC1_MISMATCH) + $(ctr SEND_ERRORS)))
if [ "$bad" -eq 0 ]; then
	pass no-errors
else
	fail no-errors "error counters sum to $bad: $(jq -c .counters "$STATS")"
fi

# 3. The DNS answer changes: the client follows, and traffic uses the new
# address (the old one is removed from the server).
echo "vpn.test 192.0.2.2" >"$ZONE"
if wait_for 10 server_is 192.0.2.2:51820 && [ "$(ctr SERVER_CHANGED)" -eq 1 ]; then
	pass follows-new-address
else
	fail follows-new-address "server $(stat_of .server), SERVER_CHANGED $(ctr SERVER_CHANGED)"
fi
grep -q "moved: 192.0.2.1:51820 -> 192.0.2.2:51820" "$E2E_TMP/client.log" &&
	pass address-change-logged || fail address-change-logged "no 'moved' line in the log"
ip -n "$(ns_name sv)" addr del 192.0.2.1/24 dev eth0
check ping-after-move ns_exec cl ping -c 5 -i 0.2 -W 2 203.0.113.1

# 3b. Without `dns': the system resolver (getaddrinfo_a), here fed by a
# private /etc/hosts bound in its own mount namespace; an edited entry is
# followed too.
HOSTS="$RUN/hosts"
echo "192.0.2.2 vpn-hosts.test" >"$HOSTS"
chmod 644 "$HOSTS"
sed -e 's/"vpn.test:51820"/"vpn-hosts.test:51820"/' -e 's/127.0.0.1:51999/127.0.0.1:51998/' \
	-e '/"dns"/d' "$RUN/client.json" >"$RUN/client2.json"
chmod 644 "$RUN/client2.json"
STATS2="$RUN/stats2.json"
# shellcheck disable=SC2016 # expanded by the inner sh
ns_spawn cl "$E2E_TMP/client2.log" unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' \
	"$HOSTS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$XWGP" client --resolve-interval 1 --stats-file "$STATS2" "$RUN/client2.json"
server2_is() { [ "$(jq -r .server "$STATS2" 2>/dev/null)" = "$1" ]; }
if wait_for 10 server2_is 192.0.2.2:51820; then
	pass system-resolver
else
	fail system-resolver "server is $(jq -r .server "$STATS2" 2>&1)"
	sed 's/^/    /' "$E2E_TMP/client2.log"
fi
echo "192.0.2.53 vpn-hosts.test" >"$HOSTS" # in place: the bind mount sees it
if wait_for 10 server2_is 192.0.2.53:51820 &&
	[ "$(jq .counters.SERVER_CHANGED "$STATS2")" -eq 1 ]; then
	pass system-resolver-follows
else
	fail system-resolver-follows "server is $(jq -r .server "$STATS2" 2>&1)"
fi

# 4. SIGUSR1 prints the counters; SIGTERM exits 0 after printing them again.
kill -USR1 "$CLIENT_PID"
if wait_for 5 grep -q "TRANSPORT_TO_SERVER" "$E2E_TMP/client.log"; then
	pass sigusr1-prints-counters
else
	fail sigusr1-prints-counters "no counters in the log after SIGUSR1"
fi
kill -TERM "$CLIENT_PID"
wait "$CLIENT_PID"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(grep -c TRANSPORT_TO_SERVER "$E2E_TMP/client.log")" -ge 2 ]; then
	pass sigterm-clean-exit
else
	fail sigterm-clean-exit "exit status $rc"
fi
