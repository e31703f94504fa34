#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The agent protects the keys it holds (issue 11):
#  - `xwgp server' and `xwgp client' mark themselves non-dumpable
#    (PR_SET_DUMPABLE 0: no core dump, no ptrace or /proc/PID/mem by other
#    processes of the same user). Seen from outside: the kernel then makes
#    /proc/PID/* owned by root. Each agent runs as an unprivileged uid (the
#    server with the capabilities it needs as ambient ones), so root owning
#    its /proc/PID/status can only come from that; a `sleep' started the
#    same way is the control (its /proc/PID/status stays the uid's).
#  - A config file holding an inline privkey and readable by group/others
#    gets a warning naming the file and the server, as a privkey_file does.
# (The keys' locked memory is checked in tests/unit/test_config.c.)
. "$(dirname "$0")/../lib/e2e.sh"
require_root
require_cmds setpriv ip ss stat
XWGP="$BUILD/xwgp"
[ -x "$XWGP" ] || skip_all "$XWGP not built"
NOBODY=65534
CAPS=+bpf,+net_admin,+sys_admin,+net_raw,+dac_override,+perfmon,+ipc_lock

# Files the unprivileged agents can read and write (e2e.sh removes $E2E_TMP).
chmod 0711 "$E2E_TMP"
DIR=$E2E_TMP/pub
mkdir -m 0755 "$DIR"
mkdir "$DIR/cache" && chown $NOBODY "$DIR/cache"
cat >"$DIR/server.json5" <<JSON5
{
  listen: '127.0.0.1:51997',
  xdp_mode: 'off',
  cache_file_path: '$DIR/cache/server.json',
  servers: [{
    privkey: 'EFt3ELmZeM/M47qFkgF4RbSOijtdHS43BNIxvxstREI=',
    peers: [{ forward_to: '127.0.0.1:51996' }],
  }],
}
JSON5
chmod 0644 "$DIR/server.json5"
cat >"$DIR/client.json5" <<JSON5
{
  server: '127.0.0.1:51997',
  listen: '127.0.0.1:51995',
  server_pubkey: 'S6hPS4iuvUKmnH3fp1TssT95XsHY3E3L4hqMZ68TknA=',
  client_pubkey: 'mCXTsTRyjQKV74eWR2Ka1LIdIptCG9K0FXlrG2NC4EQ=',
  obfs: 'a secret too',
  cache_file_path: '$DIR/cache/client.json',
}
JSON5
chmod 0644 "$DIR/client.json5"

ns_add proxy || { fail setup "namespace"; exit 1; }

# check_protected NAME PORT CMD...: start CMD as nobody, wait for PORT, then
# /proc/PID/status must be root's while the process runs as nobody.
check_protected() {
	local name=$1 port=$2 log="$E2E_TMP/$1.log" pid owner uid
	shift 2
	ns_spawn proxy "$log" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
		--inh-caps=$CAPS --ambient-caps=$CAPS "$@"
	pid=$SPAWN_PID
	if [ -n "$port" ] &&
		! wait_for 10 sh -c "ip netns exec '$(ns_name proxy)' ss -Hlun 'sport = :$port' | grep -q ."; then
		fail "$name-starts" "port $port not bound: $(cat "$log")"
		ns_stop "$pid"
		return
	fi
	[ -n "$port" ] || sleep 0.3
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	owner=$(stat -c %u "/proc/$pid/status")
	if [ "$name" = control ]; then
		[ "$uid" = $NOBODY ] && [ "$owner" = $NOBODY ] && pass control-dumpable ||
			fail control-dumpable "uid $uid, /proc/PID/status owned by $owner (want $NOBODY)"
	else
		[ "$uid" = $NOBODY ] && [ "$owner" = 0 ] && pass "$name-not-dumpable" ||
			fail "$name-not-dumpable" "uid $uid, /proc/PID/status owned by $owner (want 0): $(cat "$log")"
	fi
	ns_stop "$pid"
	LAST_LOG=$log
}

check_protected control "" sleep 10
check_protected server 51997 "$XWGP" server "$DIR/server.json5"
if grep -qF "warning: $DIR/server.json5: holds servers[0].privkey inline and is readable by group/others (mode 0644): chmod 600 it" "$LAST_LOG"; then
	pass inline-privkey-mode-warning
else
	fail inline-privkey-mode-warning "no warning in: $(cat "$LAST_LOG")"
fi
check_protected client 51995 "$XWGP" client "$DIR/client.json5"

# 0600: no warning (root runs it: nobody could not read the file any more).
chmod 0600 "$DIR/server.json5"
ns_spawn proxy "$E2E_TMP/quiet.log" "$XWGP" server "$DIR/server.json5"
pid=$SPAWN_PID
wait_for 10 sh -c "ip netns exec '$(ns_name proxy)' ss -Hlun 'sport = :51997' | grep -q ."
if grep -q 'readable by group/others' "$E2E_TMP/quiet.log"; then
	fail inline-privkey-0600-quiet "$(cat "$E2E_TMP/quiet.log")"
else
	pass inline-privkey-0600-quiet
fi
ns_stop "$pid"
