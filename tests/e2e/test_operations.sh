#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Day-one surprises an operator met, each fixed and checked here:
#  - two instances with different pin_path and no `instance' used to share
#    /var/cache/xwgp/default.json and restore each other's sessions: the
#    instance name now comes from pin_path, and a second server on one cache
#    file is refused (flock) naming the holder; the lock dies with its holder.
#  - an agent started under plain `ip netns exec' pins into a bpffs only its
#    own mount namespace sees: it warns, `xwgp show' from another shell indeed
#    cannot reach it, while a bpffs mounted outside /sys (README) works from
#    another shell and keeps the pins after the agent exits.
# The default cache directory is a per-run directory bound over /var/cache in
# the agents' private mount namespaces: the host's /var/cache is never used.
. "$(dirname "$0")/../lib/e2e.sh"
require_root
require_cmds ip wg jq curl
XWGP_BIN="$BUILD/xwgp"
[ -x "$XWGP_BIN" ] || skip_all "$XWGP_BIN not built"
unset XWGP_CACHE_FILE # the default path is the point here

ns_add px || { fail setup "namespace"; exit 1; }
wg_genkey srv && wg_genkey cli || { fail setup "keys"; exit 1; }
VARCACHE="$E2E_TMP/varcache"
mkdir -p "$VARCACHE"

# config FILE PORT [KEY=JSON...]: an agent-only server on 127.0.0.1:PORT.
config() {
	local file=$1 port=$2 extra="" kv
	shift 2
	for kv in "$@"; do
		extra+="  \"${kv%%=*}\": ${kv#*=},"$'\n'
	done
	cat >"$file" <<JSON
{
  "listen": "127.0.0.1:$port",
  "upstream": "127.0.0.1:$((port + 100))",
  "xdp_mode": "off",
$extra  "servers": [ { "privkey_file": "$(wg_privfile srv)", "address": "127.0.0.1",
    "peers": [ { "pubkey": "$(wg_pub cli)", "forward_to": ":51999" } ] } ]
}
JSON
}

# spawn LOG CONFIG: xwgp server in px with $VARCACHE as /var/cache; sets SPAWN_PID.
# shellcheck disable=SC2016 # expanded by the inner sh
spawn() {
	ns_spawn px "$1" sh -c 'mount --bind "$0" /var/cache && exec "$@"' "$VARCACHE" \
		"$XWGP_BIN" server "$2"
}

up() { wait_for 10 sh -c "ip netns exec '$(ns_name px)' ss -Hlun 'sport = :$1' | grep -q ."; }

# ---- two instances, two pin paths, no `instance' --------------------------------
config "$E2E_TMP/a.json" 41000 'pin_path="/sys/fs/bpf/xw-a"'
config "$E2E_TMP/b.json" 42000 'pin_path="/sys/fs/bpf/xw-b/"'
out=$("$XWGP_BIN" check-config "$E2E_TMP/a.json" 2>&1)
if grep -qE '^instance +xw-a$' <<<"$out"; then
	pass instance-from-pin-path
else
	fail instance-from-pin-path "$(grep -E '^(instance|pin_path)' <<<"$out")"
fi
spawn "$E2E_TMP/a.log" "$E2E_TMP/a.json"
pa=$SPAWN_PID
spawn "$E2E_TMP/b.log" "$E2E_TMP/b.json"
pb=$SPAWN_PID
if up 41000 && up 42000 && kill -0 "$pa" && kill -0 "$pb"; then
	pass two-instances-run
else
	fail two-instances-run "$(cat "$E2E_TMP/a.log" "$E2E_TMP/b.log")"
fi
ns_stop "$pa"
ns_stop "$pb"
if [ -f "$VARCACHE/xwgp/xw-a.json" ] && [ -f "$VARCACHE/xwgp/xw-b.json" ] &&
	[ ! -e "$VARCACHE/xwgp/default.json" ]; then
	pass two-instances-two-cache-files
else
	fail two-instances-two-cache-files "cache dir: $(ls "$VARCACHE/xwgp" 2>&1 | tr '\n' ' ')"
fi

# ---- two servers on one cache file: the second is refused ----------------------
config "$E2E_TMP/c.json" 43000 'pin_path="/sys/fs/bpf/xw-c"' 'instance="same"'
config "$E2E_TMP/d.json" 44000 'pin_path="/sys/fs/bpf/xw-d"' 'instance="same"'
spawn "$E2E_TMP/c.log" "$E2E_TMP/c.json"
pc=$SPAWN_PID
up 43000 || fail lock-first-starts "$(cat "$E2E_TMP/c.log")"
spawn "$E2E_TMP/d.log" "$E2E_TMP/d.json"
pd=$SPAWN_PID
wait "$pd"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "session cache /var/cache/xwgp/same.json is in use by another xwgp server (pid $pc" "$E2E_TMP/d.log" &&
	kill -0 "$pc"; then
	pass second-instance-on-one-cache-refused
else
	fail second-instance-on-one-cache-refused "exit $rc: $(cat "$E2E_TMP/d.log")"
fi
# The lock dies with its holder, even on SIGKILL.
{ ns_stop "$pc" KILL; } 2>/dev/null # bash reports the killed job: expected
spawn "$E2E_TMP/d2.log" "$E2E_TMP/d.json"
pd=$SPAWN_PID
if up 44000 && kill -0 "$pd"; then
	pass lock-released-by-killed-holder
else
	fail lock-released-by-killed-holder "$(cat "$E2E_TMP/d2.log")"
fi
ns_stop "$pd"

# ---- metrics_listen on IPv6; a second server on its port is refused ------------
config "$E2E_TMP/m.json" 47000 'pin_path="/sys/fs/bpf/xw-m"' 'metrics_listen="[::1]:9587"'
config "$E2E_TMP/n.json" 48000 'pin_path="/sys/fs/bpf/xw-n"' 'metrics_listen="[::1]:9587"'
spawn "$E2E_TMP/m.log" "$E2E_TMP/m.json"
pm=$SPAWN_PID
if up 47000 && ns_exec px curl -gsS --max-time 5 'http://[::1]:9587/metrics' >"$E2E_TMP/m.prom" &&
	grep -q '^xwgp_up 1$' "$E2E_TMP/m.prom" && grep -q 'instance="xw-m",xdp_mode="off"' "$E2E_TMP/m.prom"; then
	pass metrics-ipv6
else
	fail metrics-ipv6 "$(cat "$E2E_TMP/m.log" "$E2E_TMP/m.prom" 2>&1 | head -20)"
fi
spawn "$E2E_TMP/n.log" "$E2E_TMP/n.json"
pn=$SPAWN_PID
wait "$pn"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "metrics_listen: cannot serve on \[::1\]:9587: " "$E2E_TMP/n.log"; then
	pass metrics-port-in-use-refused
else
	fail metrics-port-in-use-refused "exit $rc: $(cat "$E2E_TMP/n.log")"
fi
ns_stop "$pm"

# ---- pins in a private bpffs ---------------------------------------------------
# Plain `ip netns exec': /sys is fresh, the agent mounts bpffs itself.
config "$E2E_TMP/p.json" 45000 'pin_path="/sys/fs/bpf/xw-p"' 'cache_file_path="'"$E2E_TMP/p-cache.json"'"'
(exec ip netns exec "$(ns_name px)" "$XWGP_BIN" server "$E2E_TMP/p.json") </dev/null >"$E2E_TMP/p.log" 2>&1 &
pp=$!
E2E_PIDS+=("$pp")
if ! up 45000; then
	fail private-start "$(cat "$E2E_TMP/p.log")"
elif grep -q "pin_path /sys/fs/bpf/xw-p is on a bpffs mounted only in this process's mount namespace" "$E2E_TMP/p.log" &&
	grep -q "restart survival will not work" "$E2E_TMP/p.log"; then
	pass private-bpffs-warned
else
	fail private-bpffs-warned "$(cat "$E2E_TMP/p.log")"
fi
# ... and it is true: another shell does not see the pins.
if ! kill -0 "$pp"; then
	fail private-bpffs-unreachable "the agent is not running"
elif out=$(ip netns exec "$(ns_name px)" "$XWGP_BIN" show --pin-path /sys/fs/bpf/xw-p 2>&1); then
	fail private-bpffs-unreachable "xwgp show reached pins the warning says are private"
elif grep -q "its pins are in a bpffs only its own mount namespace sees" <<<"$out"; then
	pass private-bpffs-unreachable-and-show-says-why
else
	fail private-bpffs-unreachable-and-show-says-why "show gave no hint: $out"
fi
ns_stop "$pp"

# The README's way: a bpffs mounted outside /sys, seen by every shell.
SHARED=$(ns_bpffs px) # a bpffs mounted on the host by ns_add
config "$E2E_TMP/s.json" 46000 'pin_path="'"$SHARED/xw-s"'"' 'cache_file_path="'"$E2E_TMP/s-cache.json"'"'
(exec ip netns exec "$(ns_name px)" "$XWGP_BIN" server "$E2E_TMP/s.json") </dev/null >"$E2E_TMP/s.log" 2>&1 &
ps_=$!
E2E_PIDS+=("$ps_")
if ! up 46000; then
	fail shared-start "$(cat "$E2E_TMP/s.log")"
elif grep -q "mount namespace" "$E2E_TMP/s.log"; then
	fail shared-bpffs-no-warning "$(cat "$E2E_TMP/s.log")"
else
	pass shared-bpffs-no-warning
fi
if ip netns exec "$(ns_name px)" "$XWGP_BIN" show --pin-path "$SHARED/xw-s" >/dev/null 2>&1; then
	pass shared-bpffs-show-from-another-shell
else
	fail shared-bpffs-show-from-another-shell "xwgp show could not open $SHARED/xw-s"
fi
ns_stop "$ps_"
if [ -e "$SHARED/xw-s/xwgp_sessions" ]; then
	pass shared-bpffs-pins-outlive-agent
else
	fail shared-bpffs-pins-outlive-agent "$(ls "$SHARED/xw-s" 2>&1)"
fi
