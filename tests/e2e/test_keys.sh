#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Private keys stay private. With real tunnels up (server A's key from a
# privkey_file, server B's inline in the config), the base64 and the hex of
# every private key (both servers', and the clients', which xwgp never
# learns) must appear in none of:
#   the agent's log at debug level, `xwgp show` and `show --json`, `xwgp
#   stats` and `stats --json`, `xwgp check-config` (stdout and stderr), the
#   session cache file, and any byte of any pinned map (tests/tools/map_scan).
# Controls prove each search can find something: the servers' public keys
# are in `show', the cache file and the maps.
# And a privkey_file readable by group/others gets a warning naming the file
# (none once it is 0600).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
. "$(dirname "$0")/hardening_lib.sh"
topo_require jq od base64
SCAN=$(e2e_tool map_scan)

hard_setup || { fail setup "topology setup failed"; exit 1; }
hard_config "$E2E_TMP/xwgp.json" . || { fail setup "config"; exit 1; }
KEYFILE=$(wg_privfile srvkeyA)

# A key file readable by the group: the agent warns, naming the file.
chmod 0640 "$KEYFILE"
hard_start -v "$E2E_TMP/xwgp.json"
if grep -F "$KEYFILE" "$XWGP_LOG" | grep -q 'readable by group/others'; then
	pass privkey-file-mode-warning
else
	fail privkey-file-mode-warning "no warning naming $KEYFILE in the agent's log"
fi
chmod 0600 "$KEYFILE"
if topo_xwgp check-config "$E2E_TMP/xwgp.json" 2>&1 | grep -q 'readable by group/others'; then
	fail privkey-file-mode-0600-quiet "a warning although $KEYFILE is 0600"
else
	pass privkey-file-mode-0600-quiet
fi
for c in "${TOPO_CLIENTS[@]}"; do
	check "ping-$c" topo_ping "$c" 2
done

hex_of() { base64 -d <<<"$1" | od -An -tx1 | tr -d ' \n'; }

# Everything to search, one file each.
ART=$E2E_TMP/artifacts
mkdir -p "$ART"
topo_xwgp show >"$ART/show" 2>&1
topo_xwgp show --json >"$ART/show-json" 2>&1
topo_xwgp stats >"$ART/stats" 2>&1
topo_xwgp stats --json >"$ART/stats-json" 2>&1
topo_xwgp check-config "$E2E_TMP/xwgp.json" >"$ART/check-config" 2>&1
topo_xwgp check-config --server "$E2E_TMP/xwgp.json" >"$ART/check-config-server" 2>&1
# SIGTERM writes the cache file (and leaves the maps pinned for the scan).
topo_xwgp_stop
cp "$XWGP_LOG" "$ART/agent-log"
if [ -s "$XWGP_CACHE_FILE" ]; then
	cp "$XWGP_CACHE_FILE" "$ART/cache-file"
else
	fail cache-file-written "no cache file at $XWGP_CACHE_FILE after SIGTERM"
fi

secrets=()
for k in srvkeyA srvkeyB cli1 cli2 cli3; do
	secrets+=("$(wg_priv "$k")" "$(hex_of "$(wg_priv "$k")")")
done
for f in "$ART"/*; do
	found=
	for s in "${secrets[@]}"; do
		grep -qiF "$s" "$f" && found+=" ${s:0:8}..."
	done
	if [ -z "$found" ]; then
		pass "no-private-key-in-$(basename "$f")"
	else
		fail "no-private-key-in-$(basename "$f")" "found$found"
	fi
done

# Controls: the searches do find keys that belong there.
pub_a=$(wg_pub srvkeyA)
for f in show show-json cache-file; do
	[ -f "$ART/$f" ] || continue
	grep -qF "$pub_a" "$ART/$f" && pass "control-public-key-in-$f" ||
		fail "control-public-key-in-$f" "server A's public key not found: the search is blind"
done

PIN=$(ns_bpffs proxy)/xwgp/default
hexes=()
for k in srvkeyA srvkeyB cli1 cli2 cli3; do
	hexes+=("$(hex_of "$(wg_priv "$k")")")
done
out=$("$SCAN" "$PIN" "${hexes[@]}")
rc=$?
if [ "$rc" -eq 0 ]; then
	pass "no-private-key-in-maps"
else
	fail "no-private-key-in-maps" "map_scan exit $rc: $out"
fi
e2e_log "maps: ${out##*$'\n'}"
out=$("$SCAN" "$PIN" "$(hex_of "$pub_a")")
if [ $? -eq 1 ]; then
	pass control-public-key-in-maps
else
	fail control-public-key-in-maps "map_scan did not find server A's public key: $out"
fi
topo_xwgp down >/dev/null 2>&1
