#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# One client key must not take the session table (agent/wgit_admit.c).
#
# README's edge-node setup: server A has a fallback peer, so any key gets a
# session. With max_sessions 2048, the attacker (namespace att, one address,
# 900/s: under the per-source punt limit of 1000/s) sends 3000 valid
# initiations of one key of its own, each with a fresh timestamp
# (tests/tools/wg_flood --mode init). Before the per-key cap this filled the
# table and a new client could not connect (INIT_TABLE_FULL).
#
#   -> more than 2048 initiations were forwarded (the flood was real), yet
#      the attacker's key holds at most XWGP_PEER_MAX_SESSIONS (4) sessions,
#      the rest counted INIT_KEY_CAP; nothing was refused as table full
#   -> cli1's established tunnel kept working (ping)
#   -> cli2, a real wireguard-go client that forgot its peer before the
#      flood, connects afterwards through the fallback: a new handshake and a
#      ping through its tunnel
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
. "$(dirname "$0")/hardening_lib.sh"
topo_require jq
FLOOD=$(e2e_tool wg_flood)

N_INITS=3000
RATE=900
CAP=4 # XWGP_PEER_MAX_SESSIONS

hard_setup || { fail setup "topology setup failed"; exit 1; }
hard_config "$E2E_TMP/xwgp.json" '.max_sessions = 2048' || { fail setup "config"; exit 1; }
hard_start "$E2E_TMP/xwgp.json"
check ping-before topo_ping cli1 3
wg_genkey attacker || { fail setup "attacker key"; exit 1; }
ATT_PUB=$(wg_pub attacker)
# cli2 will be the new client: it forgets its peer now, reconnects after the flood.
topo_client_forget cli2

sessions_of() {
	topo_xwgp show --json | jq --arg k "$1" '[.sessions[] | select(.client_pubkey == $k)] | length'
}

snap_settled "$E2E_TMP/a"
out=$E2E_TMP/flood.out
# The pool is sent once: 3000 distinct initiations (the last batch of 64 may
# wrap into a few replays, which INIT_REPLAY counts).
ns_exec att "$FLOOD" --dst "$TOPO_PROXY_C:$TOPO_PORT" --src "$HARD_ATT_IP" --mode init \
	--server-pub "$(wg_pub srvkeyA)" --client-priv "$(wg_priv attacker)" \
	--pool "$N_INITS" --rate "$RATE" --seconds "$(awk -v n="$N_INITS" -v r="$RATE" 'BEGIN { printf "%.3f", n / r }')" \
	>"$out" 2>&1 || { fail flood "wg_flood failed: $(cat "$out")"; exit 1; }
snap_settled "$E2E_TMP/b"
e2e_log "flood: $(tr '\n' ' ' <"$out")"

fwd=$(delta "$E2E_TMP/a" "$E2E_TMP/b" agent.INIT_FORWARDED)
capped=$(delta "$E2E_TMP/a" "$E2E_TMP/b" agent.INIT_KEY_CAP)
full=$(delta "$E2E_TMP/a" "$E2E_TMP/b" agent.INIT_TABLE_FULL)
held=$(sessions_of "$ATT_PUB")
total=$(topo_xwgp show --json | jq '.sessions | length')
if [ "$fwd" -gt 2048 ]; then
	pass flood-reached-agent
else
	fail flood-reached-agent "only $fwd initiations forwarded (want > 2048: the table size)"
fi
if [ "$held" -ge 1 ] && [ "$held" -le "$CAP" ]; then
	pass key-holds-at-most-cap
else
	fail key-holds-at-most-cap "the attacker's key holds $held sessions (want 1..$CAP), table $total"
fi
if [ "$capped" -eq $((fwd - held)) ] && [ "$full" -eq 0 ]; then
	pass replaced-counted
else
	fail replaced-counted "INIT_KEY_CAP +$capped (want $((fwd - held))), INIT_TABLE_FULL +$full (want 0)"
fi
check cli1-still-pings topo_ping cli1 3

# The new client: a fresh handshake through the fallback, then a ping.
topo_client_connect cli2 || { fail cli2-connect "wg set failed"; exit 1; }
ns_exec cli2 ping -c 1 -W 1 "${TOPO_TUN_SERVER[cli2]}" >/dev/null 2>&1
if wait_for 15 wg_has_handshake cli2 "${TOPO_CLIENT_IF[cli2]}" "$(wg_pub srvkeyA)"; then
	pass new-client-handshake
else
	fail new-client-handshake "cli2 did not complete a handshake after the flood"
	sed 's/^/    /' "$XWGP_LOG"
fi
check new-client-pings topo_ping cli2 5
topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
