#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xwgp's own cookie replies with real wireguard-go clients (issue 12), the
# agent forced under load with the config key `under_load': 0 (always):
#   - every client's first initiation gets xwgp's cookie reply and no
#     handshake; wireguard-go opens it (so it is sealed right: key
#     HASH("cookie--" || server key), AAD its MAC1) and its retry carries
#     MAC2, which xwgp accepts and forwards with the MAC2 the backend expects
#     (zero: xwgp holds no cookie of the backend); tunnels then carry pings;
#   - `xwgp show' says UNDER LOAD while initiations arrive, and not 2 s later;
#   - the backend's own cookie path still works with xwgp under load too:
#     backend A1 is flooded (valid MAC1, from namespace srvB) until
#     wireguard-go is under load and answers with its cookie; cli1 then
#     completes a handshake through both cookies (xwgp's, A1's) and the
#     counters show A1's cookie passed on (COOKIE_FORWARDED) and our MAC2
#     accepted. If wireguard-go never got under load, that part SKIPs (it
#     has no knob to force it);
#   - an obfuscating client (wireguard-go behind `xwgp client', obfs on both
#     ends) completes its handshake through xwgp's cookie reply too: the
#     reply reaches it obfuscated and decodes;
#   - `under_load' changes on SIGHUP (raised: valid-MAC1 garbage is
#     decrypted again, no cookies).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
. "$(dirname "$0")/hardening_lib.sh"
topo_require jq
FLOOD=$(e2e_tool wg_flood)

hard_setup || { fail setup "topology setup failed"; exit 1; }
PW="kisekimo, mahoumo, muryoudewaarimasen"
CLIENT_LISTEN=127.0.0.1:51999
hard_config "$E2E_TMP/xwgp.json" ".under_load = 0 | .obfs = \"$PW\"" ||
	{ fail setup "config"; exit 1; }
topo_xwgp_start "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }
start=$(date +%s)
topo_clients_up
e2e_log "three clients handshaken through cookie replies in $(($(date +%s) - start)) s"
snap_settled "$E2E_TMP/a"
n_cookie=$(jq .agent.COOKIE_SENT "$E2E_TMP/a")
n_valid=$(jq .agent.MAC2_VALID "$E2E_TMP/a")
n_fwd=$(jq .agent.INIT_FORWARDED "$E2E_TMP/a")
e2e_log "COOKIE_SENT $n_cookie MAC2_VALID $n_valid INIT_FORWARDED $n_fwd" \
	"MAC2_INVALID $(jq .agent.MAC2_INVALID "$E2E_TMP/a")"
if [ "$n_cookie" -ge 3 ] && [ "$n_valid" -ge 3 ] && [ "$n_fwd" -ge 3 ] &&
	[ "$n_fwd" -le "$n_valid" ]; then
	pass every-client-cookie-then-mac2
else
	fail every-client-cookie-then-mac2 "COOKIE_SENT $n_cookie MAC2_VALID $n_valid INIT_FORWARDED $n_fwd"
fi
for c in "${TOPO_CLIENTS[@]}"; do
	check "ping-$c" topo_ping "$c" 3
done
[ "$(jq .agent.UNDER_LOAD_ENTERED "$E2E_TMP/a")" -ge 1 ] && pass under-load-entered ||
	fail under-load-entered "UNDER_LOAD_ENTERED $(jq .agent.UNDER_LOAD_ENTERED "$E2E_TMP/a")"

# `xwgp show' while initiations arrive (valid MAC1, garbage: cookies), and after.
ns_spawn att "$E2E_TMP/trickle.out" "$FLOOD" --dst "$LISTEN" --mode mac1 --rate 50 \
	--seconds 4 --server-pub "$(wg_pub srvkeyA)"
trickle=$SPAWN_PID
sleep 2
topo_xwgp show >"$E2E_TMP/show.txt" 2>&1
json=$(topo_xwgp show --json | jq .under_load)
wait "$trickle"
if grep -q '^UNDER LOAD' "$E2E_TMP/show.txt" && [ "$json" = true ]; then
	pass show-under-load
else
	fail show-under-load "json under_load=$json; text: $(head -3 "$E2E_TMP/show.txt")"
fi
sleep 2.5 # 1 s hold, then the timer tick and a publication
if ! topo_xwgp show | grep -q '^UNDER LOAD' && [ "$(topo_xwgp show --json | jq .under_load)" = false ]; then
	pass show-load-over
else
	fail show-load-over "still under load 2.5 s after the last initiation"
fi

# The backend's own cookie: A1 under load (wireguard-go: 128 queued handshakes).
topo_client_forget cli1
snap_settled "$E2E_TMP/b"
ns_spawn srvB "$E2E_TMP/backend_flood.out" "$FLOOD" --dst "${TOPO_SRV_ADDR[srvA]}:51820" \
	--mode mac1 --rate 150000 --seconds 50 --server-pub "$(wg_pub srvkeyA)"
bflood=$SPAWN_PID
sleep 1
topo_client_connect cli1
ns_spawn cli1 /dev/null ping -i 1 -w 48 "${TOPO_TUN_SERVER[cli1]}"
pinger=$SPAWN_PID
start=$(date +%s)
wait_for 48 wg_has_handshake cli1 "${TOPO_CLIENT_IF[cli1]}" "$(wg_pub srvkeyA)"
done_in=$(($(date +%s) - start))
ns_stop "$bflood"
ns_stop "$pinger"
snap_settled "$E2E_TMP/c"
bc=$(delta "$E2E_TMP/b" "$E2E_TMP/c" agent.COOKIE_FORWARDED)
e2e_log "backend flooded: cli1 handshake after ${done_in} s;" \
	"COOKIE_FORWARDED +$bc, COOKIE_SENT +$(delta "$E2E_TMP/b" "$E2E_TMP/c" agent.COOKIE_SENT)," \
	"MAC2_VALID +$(delta "$E2E_TMP/b" "$E2E_TMP/c" agent.MAC2_VALID)," \
	"MAC2_INVALID +$(delta "$E2E_TMP/b" "$E2E_TMP/c" agent.MAC2_INVALID)"
if [ "$bc" -lt 1 ]; then
	skip backend-cookie-path "wireguard-go on A1 never answered with a cookie (not under load)"
elif wg_has_handshake cli1 "${TOPO_CLIENT_IF[cli1]}" "$(wg_pub srvkeyA)" &&
	[ "$(delta "$E2E_TMP/b" "$E2E_TMP/c" agent.MAC2_VALID)" -ge 1 ]; then
	pass backend-cookie-path
else
	fail backend-cookie-path "no handshake in ${done_in} s after $bc backend cookie(s)"
fi
check ping-cli1-after topo_ping cli1 3

# An obfuscating client: cli1 through `xwgp client'.
cat >"$E2E_TMP/client.json" <<JSON
{
  "server": "$LISTEN",
  "listen": "$CLIENT_LISTEN",
  "server_pubkey": "$(wg_pub srvkeyA)",
  "client_pubkey": "$(wg_pub cli1)",
  "obfs": "$PW"
}
JSON
ns_spawn cli1 "$E2E_TMP/client.log" "$XWGP_BIN" client "$E2E_TMP/client.json"
client=$SPAWN_PID
snap_settled "$E2E_TMP/d"
topo_client_forget cli1
wg_peer cli1 "${TOPO_CLIENT_IF[cli1]}" "$(wg_pub srvkeyA)" "${TOPO_TUN_SERVER[cli1]}/32" \
	"$CLIENT_LISTEN"
ns_spawn cli1 /dev/null ping -i 1 -w 24 "${TOPO_TUN_SERVER[cli1]}"
pinger=$SPAWN_PID
obfs_session() {
	topo_xwgp show --json | jq -e --arg k "$(wg_pub cli1)" \
		'[.sessions[] | select(.client_pubkey == $k and .established and .obfs)] | length > 0' \
		>/dev/null
}
if wait_for 24 obfs_session; then
	sleep 1.2 # the pinger keeps counters moving: no settling, one publication
	snap "$E2E_TMP/e"
	if [ "$(delta "$E2E_TMP/d" "$E2E_TMP/e" agent.COOKIE_SENT)" -ge 1 ] &&
		[ "$(delta "$E2E_TMP/d" "$E2E_TMP/e" agent.MAC2_VALID)" -ge 1 ]; then
		pass obfs-client-cookie-then-mac2
	else
		fail obfs-client-cookie-then-mac2 "COOKIE_SENT +$(delta "$E2E_TMP/d" "$E2E_TMP/e" agent.COOKIE_SENT)" \
			"MAC2_VALID +$(delta "$E2E_TMP/d" "$E2E_TMP/e" agent.MAC2_VALID)"
	fi
	check obfs-client-ping topo_ping cli1 3
else
	fail obfs-client-cookie-then-mac2 "no obfuscated session in 24 s: $(tail -3 "$E2E_TMP/client.log")"
fi
ns_stop "$pinger"
ns_stop "$client"

# `under_load' changes on SIGHUP: at 1000000/s the trickle gets no cookies.
jq '.under_load = 1000000' "$E2E_TMP/xwgp.json" >"$E2E_TMP/xwgp.json.new" &&
	mv "$E2E_TMP/xwgp.json.new" "$E2E_TMP/xwgp.json"
r0=$(grep -c 'reload: now serving' "$XWGP_LOG")
kill -HUP "$XWGP_PID"
reloaded() { [ "$(grep -c 'reload: now serving' "$XWGP_LOG")" -gt "$r0" ]; }
wait_for 5 reloaded || fail reload-under-load "no reload logged"
sleep 1.5 # the last spell's hold ends
snap "$E2E_TMP/h0"
ns_exec att "$FLOOD" --dst "$LISTEN" --mode mac1 --rate 50 --seconds 2 \
	--server-pub "$(wg_pub srvkeyA)" >/dev/null
sleep 1.2
snap "$E2E_TMP/h1"
if [ "$(delta "$E2E_TMP/h0" "$E2E_TMP/h1" agent.COOKIE_SENT)" -eq 0 ] &&
	[ "$(delta "$E2E_TMP/h0" "$E2E_TMP/h1" agent.INIT_DECRYPT_FAILED)" -ge 50 ]; then
	pass reload-under-load
else
	fail reload-under-load "COOKIE_SENT +$(delta "$E2E_TMP/h0" "$E2E_TMP/h1" agent.COOKIE_SENT)," \
		"INIT_DECRYPT_FAILED +$(delta "$E2E_TMP/h0" "$E2E_TMP/h1" agent.INIT_DECRYPT_FAILED)"
fi
topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
