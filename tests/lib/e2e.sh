# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers for xwgp's end-to-end scripts (tests/e2e/test_*.sh), the demo
# and the benchmarks. Source it first thing: `. "$(dirname "$0")/../lib/e2e.sh"`.
# It installs a teardown trap (EXIT/INT/TERM) that kills every process the
# script spawned or left in its namespaces, deletes its namespaces (and the
# veths and tunnels in them), unmounts their bpffs and removes its temp dir,
# and makes the script exit non-zero if any `fail` was reported.
# XWGP_E2E_KEEP=1 keeps the temp dir (logs, captures, keys) for debugging.
#
# Results (counted by tests/run.sh):
#   pass NAME                    print "PASS e2e/<script>/NAME"
#   fail NAME MESSAGE...         print "FAIL e2e/<script>/NAME: MESSAGE", count a failure
#   skip NAME REASON...          print "SKIP e2e/<script>/NAME: REASON"
#   skip_all REASON...           print one SKIP for the whole script and exit 0
#   check NAME CMD...            run CMD (in a subshell); pass if it exits 0, else fail
#                                showing its output
#   require_root                 skip_all unless running as root
#   require_cmds CMD...          skip_all unless every CMD is on PATH
#   e2e_tool NAME                print the path of $BUILD/tools/NAME (skip_all if not built)
#   e2e_failures                 print how many failures were reported so far
#   e2e_log MESSAGE...           print an informational line ("# ...") on stderr
#
# Namespaces and links (names are per run: $E2E_PREFIX-NAME):
#   ns_name NAME                 print the real namespace name of NAME
#   ns_add NAME                  create namespace NAME, lo up, private bpffs, register teardown
#   ns_exec NAME CMD...          run CMD inside NAME (with NAME's bpffs on /sys/fs/bpf)
#   ns_argv NAME CMD...          set the caller's E2E_CMD array to ns_exec's argv
#   ns_spawn NAME LOG CMD...     start CMD in the background inside NAME, output to LOG;
#                                sets SPAWN_PID (call directly, not in $(...))
#   ns_stop PID [SIGNAL]         signal a spawned process (default TERM), KILL after 3 s, reap it
#   ns_bpffs NAME                print the host directory holding NAME's bpffs
#   veth_link NS_A IF_A ADDRS_A NS_B IF_B ADDRS_B
#                                veth pair between two namespaces; ADDRS is a comma list
#                                of CIDRs (IPv4 and/or IPv6) or "-"; TX csum offload off
#   ns_addr NS IF CIDR           add an address (IPv6 without DAD) to IF in NS
#   ns_addrs NS IF ADDRS         add every CIDR of a comma list ("-": none)
#   ns_route NS DEST VIA [DEV]   add a route in NS (IPv4 or IPv6 by DEST)
#   ns_forwarding NS             enable IPv4 and IPv6 forwarding in NS
#   wait_for TIMEOUT_SEC CMD...  poll CMD every 0.1 s until it succeeds (whole seconds);
#                                1 on timeout
#
# WireGuard peers (wireguard-go + wg):
#   wg_ifname TAG                print a per-run unique interface name for TAG (<= 15 chars)
#   wg_genkey NAME               make a key pair in the temp dir
#   wg_privfile NAME             print the private key file of NAME
#   wg_priv NAME                 print the base64 private key of NAME
#   wg_pub NAME                  print the base64 public key of NAME
#   wg_up NS IFACE PRIVKEY_FILE LISTEN_PORT TUN_CIDRS
#                                start wireguard-go for IFACE in NS, key, port, addresses, up
#   wg_peer NS IFACE PUBKEY ALLOWED_IPS [ENDPOINT] [KEEPALIVE]
#                                add or update a peer
#   wg_latest_handshake NS IFACE PUBKEY
#                                print the peer's latest handshake (epoch s, 0 = never)
#   wg_has_handshake NS IFACE PUBKEY
#                                succeed when the peer has completed a handshake
#   wg_down IFACE                stop that interface's wireguard-go
#
# Traffic:
#   bulk_transfer NS_SRC NS_DST DST_ADDR PORT MB
#                                send MB MiB of random data with nc over TCP, compare sha256

if [ -n "${XWGP_E2E_SH:-}" ]; then
	return 0
fi
XWGP_E2E_SH=1

set -u

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_SCRIPT=$(basename "$0" .sh)
BUILD=${BUILD:-build}
case "$BUILD" in
/*) ;;
*) BUILD="$E2E_ROOT/$BUILD" ;;
esac

# A prefix unique to this run, so parallel runs never share a name.
E2E_PREFIX=${XWGP_NS_PREFIX:-xw-${E2E_SCRIPT#test_}-$$}
# Interface names are global through /var/run/wireguard/<if>.sock and capped
# at 15 characters, so they get a short hash of the prefix instead.
E2E_IFID=$(printf '%s' "$E2E_PREFIX" | cksum | awk '{ printf "%06x", $1 % 16777216 }')

E2E_TMP=$(mktemp -d "/tmp/${E2E_PREFIX}.XXXXXX")
# xwgp server's session cache file: per run, never the host's /var/cache/xwgp
# (parallel runs would share and restore each other's tables).
export XWGP_CACHE_FILE="$E2E_TMP/xwgp-cache.json"
E2E_FAILS=0
E2E_NS=()
E2E_PIDS=()
E2E_WG_IFS=()
declare -A E2E_WG_PID=()
E2E_MOUNTS=()
SPAWN_PID=

# ---- results -------------------------------------------------------------

pass() {
	echo "PASS e2e/$E2E_SCRIPT/$1"
}

fail() {
	local name=$1
	shift
	echo "FAIL e2e/$E2E_SCRIPT/$name: $*"
	E2E_FAILS=$((E2E_FAILS + 1))
}

skip() {
	local name=$1
	shift
	echo "SKIP e2e/$E2E_SCRIPT/$name: $*"
}

skip_all() {
	echo "SKIP e2e/$E2E_SCRIPT/all: $*"
	exit 0
}

e2e_failures() {
	echo "$E2E_FAILS"
}

e2e_log() {
	echo "# $*" >&2
}

check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$name"
		return 0
	fi
	fail "$name" "\`$*' exited with status $rc"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
	return 1
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
}

require_cmds() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "\`$c' not installed (make deps)"
	done
}

e2e_tool() {
	local t="$BUILD/tools/$1"
	[ -x "$t" ] || skip_all "$t not built (run make BUILD=${BUILD#"$E2E_ROOT"/})"
	echo "$t"
}

# ---- polling ----------------------------------------------------------------

wait_for() {
	local timeout=$1 deadline
	shift
	deadline=$(($(date +%s%N) + timeout * 1000000000))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
	return 0
}

# ---- namespaces -------------------------------------------------------------

ns_name() {
	echo "$E2E_PREFIX-$1"
}

ns_bpffs() {
	echo "$E2E_TMP/bpffs/$1"
}

ns_add() {
	local ns dir
	ns=$(ns_name "$1")
	dir=$(ns_bpffs "$1")
	ip netns add "$ns" || return 1
	E2E_NS+=("$ns")
	ip -n "$ns" link set lo up || return 1
	# The namespace's own bpffs, bound onto /sys/fs/bpf by ns_exec/ns_spawn.
	mkdir -p "$dir" || return 1
	mount -t bpf bpf "$dir" || return 1
	E2E_MOUNTS+=("$dir")
}

# `ip netns exec` mounts a fresh /sys without bpffs, and every bpffs mount is
# a new empty instance: each namespace keeps one on the host (ns_add) that
# every command gets bound onto /sys/fs/bpf, so pins survive across commands
# (an agent restart must find its pinned maps). $0 is the host directory.
# shellcheck disable=SC2016 # expanded by the inner sh
E2E_BPFFS_BIND='mount --bind "$0" /sys/fs/bpf && exec "$@"'

# Set the caller's E2E_CMD to the argv running CMD in namespace NAME.
ns_argv() {
	local name=$1
	shift
	E2E_CMD=(ip netns exec "$(ns_name "$name")" sh -c "$E2E_BPFFS_BIND" "$(ns_bpffs "$name")" "$@")
}

ns_exec() {
	local -a E2E_CMD
	ns_argv "$@"
	"${E2E_CMD[@]}"
}

ns_spawn() {
	local name=$1 log=$2
	local -a E2E_CMD
	shift 2
	ns_argv "$name" "$@"
	# exec all the way down (subshell -> ip -> sh -> CMD), so SPAWN_PID is
	# CMD itself and ns_stop's signal reaches it.
	(exec "${E2E_CMD[@]}") </dev/null >"$log" 2>&1 &
	SPAWN_PID=$!
	E2E_PIDS+=("$SPAWN_PID")
}

ns_stop() {
	local pid=$1 sig=${2:-TERM} i
	kill -s "$sig" "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

ns_addr() {
	local ns=$1 dev=$2 cidr=$3
	case "$cidr" in
	*:*) ip -n "$(ns_name "$ns")" addr add "$cidr" dev "$dev" nodad ;;
	*) ip -n "$(ns_name "$ns")" addr add "$cidr" dev "$dev" ;;
	esac
}

# Add every address of a comma list ("-" or empty: none).
ns_addrs() {
	local ns=$1 dev=$2 list=$3 a
	[ "$list" = "-" ] && return 0
	for a in ${list//,/ }; do
		ns_addr "$ns" "$dev" "$a" || return 1
	done
}

veth_link() {
	local ns_a=$1 if_a=$2 addrs_a=$3 ns_b=$4 if_b=$5 addrs_b=$6
	# Created inside the namespaces directly: no transient name in the host.
	ip -n "$(ns_name "$ns_a")" link add "$if_a" type veth \
		peer name "$if_b" netns "$(ns_name "$ns_b")" || return 1
	ns_addrs "$ns_a" "$if_a" "$addrs_a" || return 1
	ns_addrs "$ns_b" "$if_b" "$addrs_b" || return 1
	# Local sockets on veth send UDP with a partial checksum; once XDP
	# forwards such a frame the receiver drops it (docs/DESIGN.md section 8).
	ns_exec "$ns_a" ethtool -K "$if_a" tx off >/dev/null || return 1
	ns_exec "$ns_b" ethtool -K "$if_b" tx off >/dev/null || return 1
	ip -n "$(ns_name "$ns_a")" link set "$if_a" up || return 1
	ip -n "$(ns_name "$ns_b")" link set "$if_b" up || return 1
}

ns_route() {
	local ns=$1 dest=$2 via=$3 dev=${4:-}
	ip -n "$(ns_name "$ns")" route add "$dest" via "$via" ${dev:+dev "$dev"}
}

ns_forwarding() {
	ns_exec "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# ---- WireGuard --------------------------------------------------------------

wg_ifname() {
	local n="wg$E2E_IFID$1"
	echo "${n:0:15}"
}

wg_genkey() {
	local dir="$E2E_TMP/keys"
	mkdir -p "$dir" && chmod 700 "$dir" || return 1
	(umask 077 && wg genkey >"$dir/$1.priv") || return 1
	wg pubkey <"$dir/$1.priv" >"$dir/$1.pub"
}

wg_privfile() {
	echo "$E2E_TMP/keys/$1.priv"
}

wg_priv() {
	cat "$E2E_TMP/keys/$1.priv"
}

wg_pub() {
	cat "$E2E_TMP/keys/$1.pub"
}

wg_up() {
	local ns=$1 ifc=$2 key=$3 port=$4 addrs=$5
	if [ -e "/var/run/wireguard/$ifc.sock" ]; then
		e2e_log "wg_up: /var/run/wireguard/$ifc.sock already exists"
		return 1
	fi
	E2E_WG_IFS+=("$ifc")
	ns_spawn "$ns" "$E2E_TMP/wireguard-go-$ifc.log" \
		env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 LOG_LEVEL=verbose \
		wireguard-go -f "$ifc"
	E2E_WG_PID[$ifc]=$SPAWN_PID
	if ! wait_for 10 test -S "/var/run/wireguard/$ifc.sock" ||
		! wait_for 5 ip -n "$(ns_name "$ns")" link show "$ifc"; then
		e2e_log "wg_up: wireguard-go $ifc did not come up:"
		sed 's/^/#   /' "$E2E_TMP/wireguard-go-$ifc.log" >&2
		return 1
	fi
	ns_exec "$ns" wg set "$ifc" private-key "$key" listen-port "$port" || return 1
	ns_addrs "$ns" "$ifc" "$addrs" || return 1
	ip -n "$(ns_name "$ns")" link set "$ifc" up
}

wg_peer() {
	local ns=$1 ifc=$2 pub=$3 allowed=$4 endpoint=${5:-} keepalive=${6:-}
	ns_exec "$ns" wg set "$ifc" peer "$pub" allowed-ips "$allowed" \
		${endpoint:+endpoint "$endpoint"} \
		${keepalive:+persistent-keepalive "$keepalive"}
}

wg_latest_handshake() {
	local ns=$1 ifc=$2 pub=$3
	ns_exec "$ns" wg show "$ifc" latest-handshakes |
		awk -v k="$pub" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}

wg_has_handshake() {
	[ "$(wg_latest_handshake "$@")" -gt 0 ]
}

wg_down() {
	local ifc=$1
	[ -n "${E2E_WG_PID[$ifc]:-}" ] || return 0
	ns_stop "${E2E_WG_PID[$ifc]}"
	unset "E2E_WG_PID[$ifc]"
}

# ---- traffic ------------------------------------------------------------------

bulk_transfer() {
	local src=$1 dst=$2 addr=$3 port=$4 mb=$5 in out rx sum_in sum_out
	in="$E2E_TMP/bulk-$port.in"
	out="$E2E_TMP/bulk-$port.out"
	head -c "$((mb * 1048576))" /dev/urandom >"$in" || return 1
	ns_spawn "$dst" "$out" timeout 60 nc -d -l "$addr" "$port"
	rx=$SPAWN_PID
	if ! wait_for 5 sh -c "ip netns exec '$(ns_name "$dst")' ss -Hltn 'sport = :$port' | grep -q ."; then
		echo "bulk_transfer: listener on $addr:$port did not start"
		ns_stop "$rx"
		return 1
	fi
	if ! ns_exec "$src" timeout 60 nc -N "$addr" "$port" <"$in"; then
		echo "bulk_transfer: sender failed"
		ns_stop "$rx"
		return 1
	fi
	wait "$rx"
	sum_in=$(sha256sum <"$in" | cut -d' ' -f1)
	sum_out=$(sha256sum <"$out" | cut -d' ' -f1)
	if [ "$sum_in" != "$sum_out" ]; then
		echo "bulk_transfer: sha256 mismatch: sent $sum_in ($(stat -c %s "$in") B)," \
			"received $sum_out ($(stat -c %s "$out") B)"
		return 1
	fi
	rm -f "$in" "$out"
}

# ---- teardown ---------------------------------------------------------------

e2e_teardown() {
	local rc=$? pid ns ifc i dir
	trap - EXIT INT TERM
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	# Anything else still running in our namespaces was started by us too.
	for ns in "${E2E_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null
		done
	done
	for i in $(seq 30); do
		local alive=0
		for pid in "${E2E_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ "$alive" -eq 0 ] && break
		sleep 0.1
	done
	for pid in "${E2E_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${E2E_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	wait 2>/dev/null
	# By index, newest first; the array may have holes (a bench section
	# unsets the namespaces it removed itself).
	local -a idx=("${!E2E_NS[@]}")
	for ((i = ${#idx[@]} - 1; i >= 0; i--)); do
		ip netns del "${E2E_NS[${idx[$i]}]}" 2>/dev/null
	done
	# wireguard-go removes its socket on a clean exit, not after SIGKILL.
	for ifc in "${E2E_WG_IFS[@]}"; do
		rm -f "/var/run/wireguard/$ifc.sock"
	done
	for dir in "${E2E_MOUNTS[@]}"; do
		umount "$dir" 2>/dev/null
	done
	if [ "${XWGP_E2E_KEEP:-0}" = 1 ]; then
		echo "# kept $E2E_TMP" >&2
	else
		rm -rf "$E2E_TMP"
	fi
	if [ "$rc" -eq 0 ] && [ "$E2E_FAILS" -gt 0 ]; then
		rc=1
	fi
	exit "$rc"
}

trap e2e_teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
