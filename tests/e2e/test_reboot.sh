#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Session cache across a "reboot" (issue 4): the agent stops (writing the
# cache file), `xwgp down' removes the program and every pin (what a reboot
# does to bpffs), and a new agent starts with the cache file:
#   - the cache holds the three sessions and no private key,
#   - the new agent restores them (same indexes) and rebinds the ephemeral
#     upstream port the sessions were made with,
#   - every tunnel passes traffic again, through XDP, before any new
#     handshake: INIT_FORWARDED stays 0 and no backend's latest-handshake moves.
# Then a truncated cache file: the agent warns naming the file, starts with an
# empty table, and a client that handshakes again is served.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
topo_require jq

CACHE="$E2E_TMP/cache/xwgp-cache.json"

show_json() { topo_xwgp show --json; }
agent_counter() { show_json | jq ".counters.agent.$1 // 0"; }
xdp_fwd() { show_json | jq '[.counters.xdp | (.C2S_TX, .C2S_REDIRECT, .S2C_TX, .S2C_REDIRECT) | .packets] | add'; }
session_table() {
	show_json | jq -r '.sessions[] | "\(.client_pubkey) \(.client_proxy_index) \(.server_proxy_index) \(.established)"' | sort
}
backend_handshakes() {
	local c
	for c in "${TOPO_CLIENTS[@]}"; do
		echo "$c $(wg_latest_handshake "${TOPO_BACKEND_NS[$c]}" "${TOPO_BACKEND_IF[$c]}" "$(wg_pub "$c")")"
	done
}
upstream_port() { sed -n 's/.*upstream port \([0-9]*\).*/\1/p' "$XWGP_LOG" | tail -1; }
xdp_attached() { ip -n "$(ns_name proxy)" -j link show "$1" | jq -e '.[0].xdp.prog.id' >/dev/null; }

topo_setup || { fail setup "topology setup failed"; exit 1; }
topo_config "$E2E_TMP/xwgp.json"
# An ephemeral upstream port: the restored sessions need the same one.
topo_upstream_ephemeral "$E2E_TMP/xwgp.json"
topo_xwgp_start --cache-file "$CACHE" "$E2E_TMP/xwgp.json" || { fail start "xwgp did not start"; exit 1; }
port_before=$(upstream_port)
topo_clients_up
pass handshakes
topo_warm_up 2
table_before=$(session_table)
hs_before=$(backend_handshakes)

# ---- stop, down, start from the cache ---------------------------------------------
topo_xwgp_stop
if [ -f "$CACHE" ] && [ "$(jq '.sessions | length' "$CACHE")" -eq 3 ]; then
	pass cache-written-on-exit
else
	fail cache-written-on-exit "cache $CACHE: $(jq -c '.sessions | length' "$CACHE" 2>&1)"
fi
if [ "$(stat -c %a "$CACHE")" = 600 ] && ! grep -qF -e "$(wg_priv srvkeyA)" -e "$(wg_priv srvkeyB)" "$CACHE"; then
	pass cache-mode-0600-no-private-keys
else
	fail cache-mode-0600-no-private-keys "mode $(stat -c %a "$CACHE") or a private key inside"
fi
if [ "$(jq .upstream_port "$CACHE")" = "$port_before" ]; then
	pass cache-upstream-port
else
	fail cache-upstream-port "cache says $(jq .upstream_port "$CACHE"), agent used $port_before"
fi

topo_xwgp down >/dev/null 2>&1
if [ ! -e "$(ns_bpffs proxy)/xwgp/default" ] && ! xdp_attached xc && ! xdp_attached xs; then
	pass down-removed-pins
else
	fail down-removed-pins "pins or XDP still there after xwgp down"
fi

topo_xwgp_start --cache-file "$CACHE" "$E2E_TMP/xwgp.json" || { fail restart "xwgp did not start"; sed 's/^/    /' "$XWGP_LOG"; exit 1; }
# The restore is logged after the listen socket is bound (what start waits for).
if wait_for 5 grep -q "cache: restored 3 of 3 sessions" "$XWGP_LOG"; then
	pass restored-from-cache
else
	fail restored-from-cache "log:"
	sed 's/^/    /' "$XWGP_LOG"
fi
if [ "$(upstream_port)" = "$port_before" ]; then
	pass same-upstream-port
else
	fail same-upstream-port "upstream port $port_before before, $(upstream_port) after"
fi
table_after=$(session_table)
if [ "$table_after" = "$table_before" ]; then
	pass same-sessions-same-indexes
else
	fail same-sessions-same-indexes "before:"$'\n'"$table_before"$'\n'"after:"$'\n'"$table_after"
fi

inits_start=$(agent_counter INIT_FORWARDED)
for c in "${TOPO_CLIENTS[@]}"; do
	check "ping-$c-from-cache" topo_ping "$c" 5
done
inits_end=$(agent_counter INIT_FORWARDED)
fwd=$(xdp_fwd)
if [ "$inits_start" -eq 0 ] && [ "$inits_end" -eq 0 ]; then
	pass no-init-forwarded
else
	fail no-init-forwarded "INIT_FORWARDED $inits_start -> $inits_end while traffic flowed again"
fi
hs_after=$(backend_handshakes)
if [ "$hs_after" = "$hs_before" ]; then
	pass backends-no-new-handshake
else
	fail backends-no-new-handshake "before [$hs_before] after [$hs_after]"
fi
# 3 clients x 5 echo requests and replies, forwarded by XDP with the restored table.
if [ "$fwd" -ge 30 ]; then
	pass restored-sessions-via-xdp
else
	fail restored-sessions-via-xdp "XDP forwarded $fwd transport packets, want >= 30"
fi

# ---- a truncated cache ---------------------------------------------------------------
topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
size=$(stat -c %s "$CACHE")
truncate -s $((size / 2)) "$CACHE"
topo_xwgp_start --cache-file "$CACHE" "$E2E_TMP/xwgp.json" || { fail start-corrupt "xwgp did not start with a truncated cache"; sed 's/^/    /' "$XWGP_LOG"; exit 1; }
if grep -q "cache file $CACHE: not valid JSON (truncated or corrupt) at byte .*; starting with an empty session table" "$XWGP_LOG" &&
	[ "$(show_json | jq '.sessions | length')" -eq 0 ]; then
	pass truncated-cache-warns-starts-empty
else
	fail truncated-cache-warns-starts-empty "log:"
	sed 's/^/    /' "$XWGP_LOG"
fi
# cli2 forgets its session (peer removed and re-added): its next packet handshakes.
topo_client_forget cli2
topo_client_connect cli2
if wait_for 20 topo_ping cli2 1 && [ "$(agent_counter INIT_FORWARDED)" -ge 1 ]; then
	pass new-handshake-after-corrupt-cache
else
	fail new-handshake-after-corrupt-cache "cli2 could not reconnect; INIT_FORWARDED $(agent_counter INIT_FORWARDED)"
fi
# The new table was written back (debounced, within ~1 s).
if wait_for 5 sh -c "jq -e '.sessions | length >= 1' '$CACHE'"; then
	pass cache-rewritten-after-change
else
	fail cache-rewritten-after-change "cache not rewritten: $(head -c 200 "$CACHE")"
fi

topo_xwgp_stop
