#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mwgp's own README configs, written the way JSON5 allows (unquoted keys,
# single quotes, a hex number, trailing commas: examples/mwgp-*.json5), pass
# `xwgp check-config' and start `xwgp server' (in a namespace of its own),
# which binds the configured port and logs no error. And a JSON5 syntax
# error is reported with file, line and column, exit status 1.
. "$(dirname "$0")/../lib/e2e.sh"
require_root
require_cmds ip ss
XWGP="$BUILD/xwgp"
[ -x "$XWGP" ] || skip_all "$XWGP not built"

# The README's second server reads its key from /etc/wireguard/private/privkey.
KEY="$E2E_TMP/privkey"
umask 077
printf '%s\n' 'KA2fN4fanyOjfjRb12VIy067M/T5MPAecYRHnvS9Uns=' >"$KEY"
SRV="$E2E_TMP/server.json5"
sed "s|/etc/wireguard/private/privkey|$KEY|" "$E2E_ROOT/examples/mwgp-server.json5" >"$SRV"
CLI="$E2E_ROOT/examples/mwgp-client.json5"
grep -q "^  listen: ':1000'" "$SRV" && grep -q "timeout: 0x3c" "$SRV" ||
	fail setup "examples/mwgp-server.json5 is not in JSON5 style any more"

out=$("$XWGP" check-config "$SRV" 2>&1)
if [ $? -eq 0 ] && grep -q '^timeout  *60 s' <<<"$out" &&
	grep -q 'peers\[1\].*-> 192.0.2.3:1001' <<<"$out"; then
	pass check-config-server
else
	fail check-config-server "$out"
fi
out=$("$XWGP" check-config "$CLI" 2>&1)
if [ $? -eq 0 ] && grep -q '^server  *192.0.2.1:1000' <<<"$out"; then
	pass check-config-client
else
	fail check-config-client "$out"
fi

printf "{\n  listen: ':1000',\n  timeout: 010,\n}\n" >"$E2E_TMP/bad.json5"
out=$("$XWGP" check-config --server "$E2E_TMP/bad.json5" 2>&1)
status=$?
if [ "$status" -eq 1 ] &&
	grep -qF "$E2E_TMP/bad.json5: line 3, column 12 (in timeout): leading zero in a number" <<<"$out"; then
	pass syntax-error-line-column
else
	fail syntax-error-line-column "status $status: $out"
fi

ns_add proxy || { fail setup "namespace"; exit 1; }
LOG="$E2E_TMP/server.log"
ns_spawn proxy "$LOG" "$XWGP" server -v "$SRV"
PID=$SPAWN_PID
if wait_for 10 sh -c "ip netns exec '$(ns_name proxy)' ss -Hlun 'sport = :1000' | grep -q ."; then
	if kill -0 "$PID" 2>/dev/null && ! grep -q 'error' "$LOG"; then
		pass server-starts
	else
		fail server-starts "$(cat "$LOG")"
	fi
else
	fail server-starts "port 1000 not bound: $(cat "$LOG")"
fi
ns_stop "$PID"
