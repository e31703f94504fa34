#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xwgp benchmarks (`make bench'): measure, print a table, optionally write it
# as JSON. Every figure comes with the reference it is compared with,
# measured in the same run, and the target it is held to. Benchmarks never
# fail on speed: the exit status is non-zero only when a benchmark could not
# run at all (setup error), and such a row says so.
#
#   1 fast path   BPF_PROG_TEST_RUN x 1e6 on the real XDP program vs a minimal
#                 one (bench_fastpath), plus a cost profile of its parts
#   2 end to end  live frames from a generator namespace through `xwgp server'
#                 to a counting sink: XDP path, agent-only path, and the bare
#                 XDP redirect between the same veths (the ceiling)
#   3 handshakes  initiations/s through the agent's handler, 1 and 8 servers,
#                 cold and warm DH cache, BLAKE2s SIMD vs portable; and end to end
#                 (hs_e2e): real initiations of distinct keys through the
#                 network path to the backend, 1 and all handshake threads,
#                 and the under-load rejection rate
#   2b agent      the agent path: every transport packet through the agent, on
#                 the e2e rig: XDP attached with the cfg map's agent-only
#                 flag (everything punted to AF_XDP), and no XDP (--xdp-mode off: the UDP
#                 socket); pps and agent CPU-us per forwarded packet, side by
#                 side with mwgp measured the same way (MWGP=/path/to/mwgp, or
#                 `mwgp' in PATH; without it the row says so)
#   4 memory      map memory with 1,000,000 sessions (bpftool memlock)
#   5 restart     transport lost while the agent is SIGKILLed and restarted
#   6 local       a backend on the proxy host (127.0.0.1): live frames through
#                 xc into lo, counted by a TC sink on lo; kernel path (XDP + TC)
#                 and agent-only on the same session
#
# Usage: tests/bench/run.sh [--json FILE] [--only LIST]
#   LIST: comma list of fastpath,e2e,agent,handshake,hs_e2e,memory,local (default: all; e2e
#   includes restart). BUILD selects the build directory (default build).
set -u

JSON_OUT=
ONLY=fastpath,e2e,agent,handshake,hs_e2e,memory,local
while [ $# -gt 0 ]; do
	case "$1" in
	--json) JSON_OUT=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	-h | --help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$JSON_OUT" in
"" | /*) ;;
*) JSON_OUT="$PWD/$JSON_OUT" ;;
esac

XWGP_NS_PREFIX=${XWGP_NS_PREFIX:-xwb-$$}
. "$(dirname "$0")/../lib/e2e.sh"
require_root
require_cmds ip ethtool jq bpftool ss chrt wg

B="$BUILD/bench"
XWGP="$BUILD/xwgp"
for t in bench_fastpath bench_traffic bench_peer bench_handshake bench_memory bench_udp_batch; do
	[ -x "$B/$t" ] || { echo "run.sh: $B/$t not built (make BUILD=${BUILD#"$E2E_ROOT"/} bench)" >&2; exit 1; }
done
[ -x "$XWGP" ] || { echo "run.sh: $XWGP not built" >&2; exit 1; }

RT=(chrt -f 10)
"${RT[@]}" true 2>/dev/null || RT=()
RESULTS="$E2E_TMP/results.jsonl"
: >"$RESULTS"
ERRORS=0
T_START=$(date +%s)

want() { [[ ",$ONLY," == *",$1,"* ]]; }
log() { echo "# $*" >&2; }
# A row that could not be measured, with the reason.
na_row() { jq -cn --arg id "$1" --arg why "$2" '{id: $id, na: $why}' >>"$RESULTS"; }
error_row() { na_row "$1" "error: $2"; ERRORS=$((ERRORS + 1)); log "$1: $2"; }

# ---- 1. fast path -----------------------------------------------------------

bench_fastpath() {
	local out="$E2E_TMP/fastpath.jsonl"
	log "fast path: BPF_PROG_TEST_RUN, 1e6 repeats x 5 rounds per case"
	# Real-time priority: the timed loop is not preempted by the other
	# processes of this 2-core machine (the kernel's own figure excludes
	# preemption; wall time is the finer one when nothing preempts).
	if "${RT[@]}" "$B/bench_fastpath" --repeat 1000000 --rounds 5 >"$out"; then
		cat "$out" >>"$RESULTS"
	else
		error_row fastpath "bench_fastpath failed"
	fi
}

# ---- 2. end to end (and 5. restart) ------------------------------------------

E2E_SRC=192.0.2.2:40001
E2E_LISTEN=192.0.2.1:51820
E2E_BACKEND=198.51.100.2:51820
XWGP_PID=

mac_of() { ip -n "$(ns_name "$1")" -j link show "$2" | jq -r '.[0].address'; }

E2E_UP=
e2e_topology() {
	[ -n "$E2E_UP" ] && return 0
	E2E_UP=1
	ns_add gen && ns_add proxy && ns_add sink || return 1
	veth_link gen g0 192.0.2.2/24 proxy xc 192.0.2.1/24 || return 1
	veth_link proxy xs 198.51.100.1/24 sink s0 198.51.100.2/24 || return 1
	ns_forwarding proxy || return 1
	# Agent-only mode has no XDP on xc: the XDP_TX'd frames need GRO (NAPI) there.
	ns_exec proxy ethtool -K xc gro on >/dev/null || return 1
	# Static neighbours: no ARP in the measured path, and the FIB always answers.
	ip -n "$(ns_name proxy)" neigh replace 192.0.2.2 lladdr "$(mac_of gen g0)" dev xc nud permanent &&
		ip -n "$(ns_name proxy)" neigh replace 198.51.100.2 lladdr "$(mac_of sink s0)" dev xs nud permanent &&
		ip -n "$(ns_name sink)" neigh replace 198.51.100.1 lladdr "$(mac_of proxy xs)" dev s0 nud permanent &&
		ip -n "$(ns_name gen)" neigh replace 192.0.2.1 lladdr "$(mac_of proxy xc)" dev g0 nud permanent || return 1
	ns_exec sink "$B/bench_traffic" sink-attach --ifname s0 --pin /sys/fs/bpf/bench_sink_cnt || return 1
	SINK_PIN="$(ns_bpffs sink)/bench_sink_cnt"
}

e2e_config() {
	wg_genkey srvkey && wg_genkey cli || return 1
	cat >"$E2E_TMP/xwgp.json" <<JSON
{
  "listen": "$E2E_LISTEN",
  "upstream": "198.51.100.1:51900",
  "interface": ["xc", "xs"],
  "xdp_mode": "native",
  "timeout": 600,
  "servers": [
    {
      "privkey_file": "$(wg_privfile srvkey)",
      "address": "198.51.100.2",
      "peers": [ { "pubkey": "$(wg_pub cli)", "forward_to": ":51820" } ]
    }
  ]
}
JSON
}

xwgp_start() {
	local log="$E2E_TMP/xwgp.$RANDOM.log"
	ns_spawn proxy "$log" "$XWGP" server "$@" "${XWGP_JSON:-$E2E_TMP/xwgp.json}"
	XWGP_PID=$SPAWN_PID
	if ! wait_for 15 sh -c "ip netns exec '$(ns_name proxy)' ss -Hlun 'sport = :51820' | grep -q ."; then
		log "xwgp server did not start:"
		sed 's/^/#   /' "$log" >&2
		return 1
	fi
}

xwgp_stop() {
	[ -n "$XWGP_PID" ] && ns_stop "$XWGP_PID" "${1:-TERM}"
	XWGP_PID=
}

counter() { ns_exec proxy "$XWGP" show --json | jq "(.counters.$1 // 0) | floor"; }

# A real session: an initiation made by wireguard's rules from the client
# key, decrypted by xwgp, answered by the backend; its index for transport.
e2e_handshake() {
	local backend
	ns_spawn sink "$E2E_TMP/backend.log" "$B/bench_peer" backend --listen "$E2E_BACKEND" \
		--client-pub "$(wg_pub cli)" --sender 0x5e5e0001 --timeout 60
	backend=$SPAWN_PID
	wait_for 5 sh -c "ip netns exec '$(ns_name sink)' ss -Hlun 'sport = :51820' | grep -q ." || return 1
	E2E_INDEX=$(ns_exec gen "$B/bench_peer" client --bind "$E2E_SRC" --server "$E2E_LISTEN" \
		--client-priv-file "$(wg_privfile cli)" --server-pub "$(wg_pub srvkey)" \
		--sender 0x0c0c0001 --timeout 20)
	ns_stop "$backend"
	[ -n "$E2E_INDEX" ] || return 1
	log "session established: the client sends transport to index $E2E_INDEX"
}

# The generator is the test equipment: real-time priority keeps its offered
# rate steady while other processes run (the forwarding it triggers runs in
# its CPU's softirq whatever the priority; the agent runs on the other CPU).
gen() {
	ns_exec gen "${RT[@]}" "$B/bench_traffic" gen --ifname g0 --dmac "$(mac_of proxy xc)" --src "$E2E_SRC" \
		--dst "$E2E_LISTEN" --receiver "$E2E_INDEX" --len 128 --sink "$SINK_PIN" "$@"
}

# CPU seconds (user + system) the running agent has used, in clock ticks.
agent_ticks() { awk '{ print $14 + $15 }' "/proc/$XWGP_PID/stat" 2>/dev/null || echo 0; }

# Search one configuration; append its row with the path counters as proof,
# and the agent's CPU time per packet it forwarded (a figure that does not
# depend on how much CPU the other processes leave it).
e2e_search() {
	local label=$1 out="$E2E_TMP/e2e-$1.json" before=${2:-} after t0=0 t1=0
	log "end to end: $label (stepping the offered rate)"
	[ -n "$XWGP_PID" ] && t0=$(agent_ticks)
	if ! gen --label "$label" ${AGENT_RATE:+--rate "$AGENT_RATE" --duration 5} \
		${AGENT_RATE:---search} >"$out"; then
		error_row "e2e.$label" "generator failed"
		return 1
	fi
	if [ -n "$before" ]; then
		sleep 1.2 # the agent publishes its counters once a second
		after=$(path_counters)
		t1=$(agent_ticks)
		log "$label: proxy UDP drops so far: $(ns_exec proxy nstat -az UdpRcvbufErrors UdpInErrors UdpSndbufErrors 2>/dev/null | awk 'NR > 1 { printf "%s=%s ", $1, $2 }')"
		log "$label: counters now (XDP, agent):"
		ns_exec proxy "$XWGP" show --json | jq -c '.counters | {xdp: (.xdp | map_values(.packets) |
			with_entries(select(.value > 0))), agent: (.agent | with_entries(select(.value > 0)))}' >&2
		jq -c --argjson b "$before" --argjson a "$after" --argjson cpu "$((t1 - t0))" \
			--argjson hz "$(getconf CLK_TCK)" '
			. + {xdp_forwarded: ($a.xdp - $b.xdp), agent_forwarded: ($a.agent - $b.agent),
			     agent_cpu_sec: ($cpu / $hz)}
			| if .agent_forwarded > 1000 then
				. + {agent_cpu_us_per_pkt: (.agent_cpu_sec * 1e6 / .agent_forwarded)} else . end' \
			"$out" >>"$RESULTS"
	else
		cat "$out" >>"$RESULTS"
	fi
}

PATH_XDP_COUNTER=C2S_REDIRECT # what the kernel path's forwards count as (local: C2S_LOCAL)
path_counters() {
	jq -cn --argjson x "$(counter "xdp.$PATH_XDP_COUNTER.packets")" --argjson a "$(counter agent.TRANSPORT_C2S)" \
		'{xdp: $x, agent: $a}'
}

# 5. Restart: the same steady stream twice, once untouched (control), once
# with the agent SIGKILLed and restarted in the middle.
e2e_restart() {
	local rate out="$E2E_TMP/restart.json" gpid t0 t1
	rate=$(jq -s 'map(select(.id == "e2e.xdp"))[0].offered_pps // 0 | . / 4 | floor' "$RESULTS")
	[ "$rate" -gt 0 ] || rate=200000
	log "restart: steady $rate pps; control run, then SIGKILL + restart mid-stream"
	xwgp_start || { error_row restart "xwgp did not start"; return 1; }
	gen --label restart_control --rate "$rate" --duration 4 >>"$RESULTS" ||
		error_row e2e.restart_control "generator failed"
	gen --label restart --rate "$rate" --duration 6 >"$out" &
	gpid=$!
	sleep 1.5
	t0=$(date +%s%N)
	{ xwgp_stop KILL; } 2>/dev/null # bash reports the killed job: expected here
	xwgp_start || { error_row e2e.restart "xwgp did not restart"; return 1; }
	t1=$(date +%s%N)
	wait "$gpid"
	if jq -e .sent "$out" >/dev/null 2>&1; then
		jq -c --argjson ms "$(((t1 - t0) / 1000000))" '. + {restart_ms: $ms}' "$out" >>"$RESULTS"
	else
		error_row e2e.restart "generator failed: $(cat "$out")"
	fi
	xwgp_stop
}

bench_e2e() {
	local before round
	log "end to end: topology gen -> [xc proxy xs] -> sink, one real session"
	if ! e2e_topology || ! e2e_config; then
		error_row e2e "topology setup failed"
		return
	fi
	xwgp_start || { error_row e2e "xwgp did not start"; return; }
	e2e_handshake || { error_row e2e "handshake through xwgp failed"; xwgp_stop; return; }

	# XDP path and ceiling alternate, twice: each row keeps its best round,
	# so a burst of load from elsewhere does not decide the ratio.
	for round in 1 2; do
		if [ "$round" -gt 1 ] && ! xwgp_start; then
			error_row e2e.xdp "xwgp did not restart"
			break
		fi
		before=$(path_counters)
		e2e_search xdp "$before"
		xwgp_stop # SIGTERM: program and maps stay

		ip -n "$(ns_name proxy)" link set dev xc xdp off
		ip -n "$(ns_name proxy)" link set dev xs xdp off
		if ns_exec proxy "$B/bench_traffic" redirect-attach --ifname xc --to xs; then
			e2e_search ceiling
			ip -n "$(ns_name proxy)" link set dev xc xdp off
		else
			error_row e2e.ceiling "attaching the redirect program failed"
		fi
	done

	# Same pinned maps (the session survives), no XDP anywhere.
	if xwgp_start --xdp-mode off; then
		before=$(path_counters)
		e2e_search agent "$before"
		xwgp_stop
	else
		error_row e2e.agent "xwgp --xdp-mode off did not start"
	fi

	e2e_restart
	ns_exec proxy "$XWGP" down >/dev/null 2>&1
}

# ---- 6. local backends ----------------------------------------------------------
# The backend on the proxy host, 127.0.0.1:51821 (docs/DESIGN.md section 12):
# gen -> xc -> [XDP rewrites, TC redirects into lo] -> lo, where a TC sink on
# lo's ingress counts and drops the transport; the agent-only path delivers
# to the same place through its socket. Forwarding stays off in the proxy.

# Remove the e2e section's namespaces: this one reuses their names and helpers.
e2e_topology_down() {
	local ns
	for ns in gen proxy sink; do
		ip netns del "$(ns_name "$ns")" 2>/dev/null
		umount "$(ns_bpffs "$ns")" 2>/dev/null
	done
	for ns in "${!E2E_NS[@]}"; do
		case "${E2E_NS[$ns]}" in
		"$(ns_name gen)" | "$(ns_name proxy)" | "$(ns_name sink)") unset "E2E_NS[$ns]" ;;
		esac
	done
}

bench_local() {
	local backend
	log "local backend: gen -> [xc proxy] -> lo (backend 127.0.0.1:51821), one real session"
	e2e_topology_down
	if ! ns_add gen || ! ns_add proxy || ! veth_link gen g0 192.0.2.2/24 proxy xc 192.0.2.1/24 ||
		! ns_exec proxy ethtool -K xc gro on >/dev/null ||
		! ip -n "$(ns_name proxy)" neigh replace 192.0.2.2 lladdr "$(mac_of gen g0)" dev xc nud permanent ||
		! ip -n "$(ns_name gen)" neigh replace 192.0.2.1 lladdr "$(mac_of proxy xc)" dev g0 nud permanent; then
		error_row local "topology setup failed"
		return
	fi
	[ -e "$(wg_privfile srvkey)" ] || { wg_genkey srvkey && wg_genkey cli; } || { error_row local "keys"; return; }
	XWGP_JSON="$E2E_TMP/xwgp-local.json"
	cat >"$XWGP_JSON" <<JSON
{
  "listen": "$E2E_LISTEN",
  "upstream": "127.0.0.1:51900",
  "interface": ["xc"],
  "xdp_mode": "native",
  "timeout": 600,
  "servers": [
    {
      "privkey_file": "$(wg_privfile srvkey)",
      "address": "127.0.0.1",
      "peers": [ { "pubkey": "$(wg_pub cli)", "forward_to": ":51821" } ]
    }
  ]
}
JSON
	xwgp_start || { error_row local "xwgp did not start"; return; }
	ns_spawn proxy "$E2E_TMP/local-backend.log" "$B/bench_peer" backend --listen 127.0.0.1:51821 \
		--client-pub "$(wg_pub cli)" --sender 0x5e5e0002 --timeout 60
	backend=$SPAWN_PID
	wait_for 5 sh -c "ip netns exec '$(ns_name proxy)' ss -Hlun 'sport = :51821' | grep -q ." || true
	E2E_INDEX=$(ns_exec gen "$B/bench_peer" client --bind "$E2E_SRC" --server "$E2E_LISTEN" \
		--client-priv-file "$(wg_privfile cli)" --server-pub "$(wg_pub srvkey)" \
		--sender 0x0c0c0002 --timeout 20)
	ns_stop "$backend"
	if [ -z "$E2E_INDEX" ]; then
		error_row local "handshake through xwgp failed"
		xwgp_stop
		return
	fi
	if ! ns_exec proxy "$B/bench_traffic" sink-attach-tc --ifname lo --pin /sys/fs/bpf/bench_sink_cnt; then
		error_row local "attaching the lo sink failed"
		xwgp_stop
		return
	fi
	SINK_PIN="$(ns_bpffs proxy)/bench_sink_cnt"
	PATH_XDP_COUNTER=C2S_LOCAL
	e2e_search local_kernel "$(path_counters)"
	xwgp_stop # SIGTERM: programs and maps stay
	# The same session, nothing in the kernel path: the agent's sockets.
	ip -n "$(ns_name proxy)" link set dev xc xdp off
	if xwgp_start --xdp-mode off; then
		e2e_search local_agent "$(path_counters)"
		xwgp_stop
	else
		error_row e2e.local_agent "xwgp --xdp-mode off did not start"
	fi
	PATH_XDP_COUNTER=C2S_REDIRECT
	XWGP_JSON=
	ns_exec proxy "$XWGP" down >/dev/null 2>&1
}

# ---- 2b. the agent path ------------------------------------------------------------
#
# Every transport packet through the forwarding process, on the e2e rig,
# one real session, the same generator search as the e2e rows: the highest
# offered rate that loses < 1%, and the process's CPU time (utime + stime
# from /proc/PID/stat over the whole search) per packet the sink received.
# Rows: xwgp with XDP and the cfg map's agent-only flag (cfg_agent_only:
# XDP punts every packet of ours to AF_XDP), xwgp with no XDP
# (--xdp-mode off: the UDP socket, recvmmsg), and mwgp on the same rig.
# AGENT_RATE=PPS: a steady stream at PPS for 5 s instead of the search (CPU
# per packet at a given load); AGENT_PERF=DIR: perf record -g the process
# for 4 s of it into DIR and log the top of the profile (AGENT_PERF_TRACE=1:
# and a perf trace summary of its system calls).

# CPU ticks of process $1 (utime + stime).
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# One search against process $2 (label $1); appends the row with cpu_us_per_pkt.
agent_search() {
	local label=$1 pid=$2 out="$E2E_TMP/agent-$1.json" t0 t1 perf_pid= trace_pid=
	log "agent path: $label (stepping the offered rate)"
	t0=$(proc_ticks "$pid")
	if [ -n "${AGENT_PERF:-}" ]; then
		perf record -q -g -p "$pid" -o "$AGENT_PERF/perf.$label.data" -- sleep 4 >/dev/null 2>&1 &
		perf_pid=$!
		# AGENT_PERF_TRACE=1: system calls by kind (count, time) over 3 s of
		# the same stream too (perf trace slows every call: apart from the profile).
		if [ -n "${AGENT_PERF_TRACE:-}" ]; then
			perf trace -s -p "$pid" -o "$AGENT_PERF/trace.$label.txt" -- sleep 3 >/dev/null 2>&1 &
			trace_pid=$!
		fi
	fi
	if ! gen --label "$label" ${AGENT_RATE:+--rate "$AGENT_RATE" --duration 5} \
		${AGENT_RATE:---search} >"$out"; then
		error_row "agent.$label" "generator failed"
		return 1
	fi
	t1=$(proc_ticks "$pid")
	if [ -n "$perf_pid" ]; then
		wait "$perf_pid" $trace_pid
		grep -E '^ +[a-z_0-9]+ +[0-9]+ ' "$AGENT_PERF/trace.$label.txt" 2>/dev/null | sort -k2 -nr | head -8 |
			sed "s/^/# syscalls $label: /" >&2
		perf report -i "$AGENT_PERF/perf.$label.data" --stdio --no-children --percent-limit 1.5 \
			-g none 2>/dev/null | grep -v '^#' | grep . | head -25 | sed "s/^/# perf $label: /" >&2
	fi
	[ -n "$XWGP_PID" ] && ns_exec proxy "$XWGP" show --json | jq -c '.counters.agent |
		{TRANSPORT_C2S, TX_SYSCALLS, TX_GSO_SEGMENTS, SESS_WRITES, SEND_ERRORS, RX_XSK}' >&2
	jq -c --argjson cpu "$((t1 - t0))" --argjson hz "$(getconf CLK_TCK)" '
		.id |= sub("^e2e"; "agent")
		| (if .steps then [.steps[].delivered] | add else .delivered end) as $fwd
		| if .steps then . else . + {delivered_pps: (.delivered / .duration_sec),
			delivered_fraction: (.delivered / .sent)} end
		| . + {forwarded: $fwd, cpu_sec: ($cpu / $hz)}
		| if $fwd > 1000 then . + {cpu_us_per_pkt: (.cpu_sec * 1e6 / $fwd)} else . end' \
		"$out" >>"$RESULTS"
}

bench_agent_mwgp() {
	local mwgp=${MWGP:-$(command -v mwgp)} pid
	if [ -z "$mwgp" ] || [ ! -x "$mwgp" ]; then
		na_row agent.mwgp "mwgp not installed (set MWGP=/path/to/mwgp)"
		return
	fi
	# mwgp reads the same config; the xwgp-only keys go.
	jq 'del(.upstream, .interface, .xdp_mode, .transport_punt_rate)' "$E2E_TMP/xwgp.json" \
		>"$E2E_TMP/mwgp.json" || return
	ns_spawn proxy "$E2E_TMP/mwgp.log" "$mwgp" server "$E2E_TMP/mwgp.json"
	pid=$SPAWN_PID
	if ! wait_for 15 sh -c "ip netns exec '$(ns_name proxy)' ss -Hlun 'sport = :51820' | grep -q ."; then
		error_row agent.mwgp "mwgp did not start: $(tail -3 "$E2E_TMP/mwgp.log")"
		ns_stop "$pid"
		return
	fi
	if e2e_handshake; then
		agent_search mwgp "$pid"
	else
		error_row agent.mwgp "handshake through mwgp failed"
	fi
	ns_stop "$pid"
}

# Set XWGP_CFG_AGENT_ONLY (include/xwgp_abi.h: bit 1 of the u32 flags at
# byte 4 of struct xwgp_cfg) in the running agent's pinned cfg map.
cfg_agent_only() {
	local pin=/sys/fs/bpf/xwgp/default/xwgp_cfg v
	v=$(ns_exec proxy bpftool -j map lookup pinned "$pin" key 0 0 0 0 | jq -r '.value | map(ltrimstr("0x")) | join(" ")') || return 1
	[ -n "$v" ] || return 1
	# shellcheck disable=SC2086
	set -- $v
	local b4=$(printf '%02x' $((0x$5 | 2)))
	ns_exec proxy bpftool map update pinned "$pin" key 0 0 0 0 value hex $1 $2 $3 $4 $b4 $(shift 5; echo "$@")
}

bench_agent() {
	log "agent sends: CPU per datagram, sendmsg each vs sendmmsg vs UDP GSO (loopback)"
	"$B/bench_udp_batch" --len 128 >>"$RESULTS" || error_row agent.send "bench_udp_batch failed"
	log "agent path: topology gen -> [xc proxy xs] -> sink, one real session"
	if ! e2e_topology || ! e2e_config; then
		error_row agent "topology setup failed"
		return
	fi
	# One source sends everything: no per-source transport punt limit.
	jq '. + {transport_punt_rate: 0}' "$E2E_TMP/xwgp.json" >"$E2E_TMP/xwgp-agent.json" &&
		mv "$E2E_TMP/xwgp-agent.json" "$E2E_TMP/xwgp.json"
	ns_exec proxy "$XWGP" down >/dev/null 2>&1
	# XDP punts every packet of ours to AF_XDP: the cfg map's agent-only flag.
	# (A host that does not forward no longer punts: XDP uses the agent's
	# next hops there, docs/DESIGN.md.)
	if xwgp_start && cfg_agent_only && e2e_handshake; then
		agent_search xsk "$XWGP_PID"
	else
		error_row agent.xsk "xwgp (agent-only flag) did not start or handshake failed"
	fi
	xwgp_stop
	ip -n "$(ns_name proxy)" link set dev xc xdp off
	ip -n "$(ns_name proxy)" link set dev xs xdp off
	# Same pinned maps (the session survives), no XDP anywhere.
	if xwgp_start --xdp-mode off; then
		agent_search udp "$XWGP_PID"
	else
		error_row agent.udp "xwgp --xdp-mode off did not start"
	fi
	xwgp_stop
	ns_exec proxy "$XWGP" down >/dev/null 2>&1
	bench_agent_mwgp
}

# ---- 3. handshakes ------------------------------------------------------------

bench_handshake() {
	log "handshakes: initiations through the agent's handler, 1 and 8 servers, cold and warm DH cache"
	# Real-time priority: rates are per CPU second anyway; this keeps other
	# processes from evicting the handler's caches in the middle of a run.
	"${RT[@]}" "$B/bench_handshake" --inits 8192 --clients 2048 --rounds 4 >>"$RESULTS" ||
		error_row handshake "bench_handshake failed"
}

# ---- 3b. handshakes end to end ---------------------------------------------------
#
# Real initiations from HS_KEYS distinct client keys (wg_flood --mode init
# --keys), sent from the generator namespace to xwgp's listen port (XDP
# punts them to the agent's AF_XDP socket); the forwarded ones are counted
# and dropped at the backend veth by the sink's XDP program (port 51899,
# where nothing listens: bench_sink.bpf.c SINK_HS_PORT; polled
# every millisecond by `bench_traffic sink-watch': nothing per packet in
# userspace, no tool spawned per poll). The generator sends a pool it built
# before the first packet (one sendmmsg per 64: it prints its own CPU time
# while sending). The offered rate is above what the agent can do (with the
# four-lane X25519, two threads forwarded all of 45,000/s: the row measured
# the offer, hence 60,000); the rate is what reached the backend divided by
# the time from the first one to the last one forwarded. A few initiations
# go first (warm-up): the agent builds its slot bitmap on its first
# admission, once per start, not per initiation. Every row also says where
# the machine's CPU went meanwhile: all CPUs busy between the first and the
# last forwarded (/proc/stat) and, of that, what the hypervisor stole
# (steal: the same binary's rate moves with the time of day on a shared
# VM), the agent's, the generator's while sending.

HS_KEYS=${HS_KEYS:-1024}
HS_POOL=${HS_POOL:-60000}
HS_OFFERED=${HS_OFFERED:-60000}


hs_config() { # threads under_load
	cat >"$E2E_TMP/xwgp-hs.json" <<JSON
{
  "listen": "$E2E_LISTEN",
  "upstream": "198.51.100.1:51900",
  "interface": ["xc", "xs"],
  "xdp_mode": "native",
  "punt_rate": 0,
  "under_load": $2,
  "handshake_threads": $1,
  "servers": [
    { "privkey_file": "$(wg_privfile hskey)", "address": "198.51.100.2",
      "peers": [ { "forward_to": ":51899" } ] }
  ]
}
JSON
}

# One run: threads ($1: 0 = one per CPU); appends the row handshake.e2e.$2.
hs_e2e_run() {
	local threads=$1 label=$2 fwd ns c0 c1
	hs_config "$threads" 4294967295
	XWGP_JSON="$E2E_TMP/xwgp-hs.json" xwgp_start || { error_row "handshake.e2e.$label" "xwgp did not start"; return; }
	# Warm-up (see above), watched until the last of it is through; then the run.
	"$B/bench_traffic" sink-watch --sink "$SINK_PIN" --duration 30 >"$E2E_TMP/hs-$label.warm" &
	local wpid=$!
	ns_exec gen "$FLOOD" --dst "$E2E_LISTEN" --src "${E2E_SRC%:*}" --mode init --keys 16 \
		--server-pub "$(wg_pub hskey)" --pool 64 --rate 1000 --seconds 0.064 >/dev/null 2>&1
	wait "$wpid"
	"$B/bench_traffic" sink-watch --sink "$SINK_PIN" >"$E2E_TMP/hs-$label.watch" &
	wpid=$!
	# HS_PERF=DIR: a call-graph profile of the agent during the run (perf.$label.data).
	local ppid=
	if [ -n "${HS_PERF:-}" ]; then
		perf record ${HS_PERF_CG:--g} -p "$XWGP_PID" -o "$HS_PERF/perf.$label.data" >/dev/null 2>&1 &
		ppid=$!
	fi
	sleep 0.3
	c0=$(agent_ticks)
	ns_exec gen "${RT[@]}" "$FLOOD" --dst "$E2E_LISTEN" --src "${E2E_SRC%:*}" --mode init \
		--keys "$HS_KEYS" --server-pub "$(wg_pub hskey)" --pool "$HS_POOL" --rate "$HS_OFFERED" \
		--seconds "$(jq -n "$HS_POOL / $HS_OFFERED")" >"$E2E_TMP/hs-$label.flood" 2>&1
	wait "$wpid"
	c1=$(agent_ticks)
	[ -n "$ppid" ] && kill -INT "$ppid" && wait "$ppid"
	fwd=$(jq .delivered "$E2E_TMP/hs-$label.watch" 2>/dev/null || echo 0)
	ns=$(jq .busy_ns "$E2E_TMP/hs-$label.watch" 2>/dev/null || echo 0)
	sleep 1.2 # the agent publishes its counters once a second
	jq -cn --arg id "handshake.e2e.$label" --argjson threads "$threads" --argjson fwd "$fwd" \
		--argjson cpu "$(jq -n "($c1 - $c0) / $(getconf CLK_TCK)")" \
		--argjson xdp "$(ns_exec proxy "$XWGP" show --json | jq -c '.counters.xdp | map_values(.packets)')" \
		--argjson ns "$ns" --argjson keys "$HS_KEYS" --argjson offered "$HS_OFFERED" \
		--argjson machine "$(jq .machine_busy_sec "$E2E_TMP/hs-$label.watch" 2>/dev/null || echo 0)" \
		--argjson steal "$(jq '.steal_sec // 0' "$E2E_TMP/hs-$label.watch" 2>/dev/null || echo 0)" \
		--argjson gen "$(awk '$1 == "cpu" { print $2; f = 1 } END { if (!f) print 0 }' "$E2E_TMP/hs-$label.flood")" \
		--argjson pool "$HS_POOL" --argjson agent "$(ns_exec proxy "$XWGP" show --json | jq -c '.counters.agent')" \
		--arg flood "$(tr '\n' ' ' <"$E2E_TMP/hs-$label.flood")" \
		'{id: $id, threads: $threads, cpus: '"$(nproc)"', forwarded: $fwd, busy_sec: ($ns / 1e9),
		  inits_per_sec: (if $ns > 0 then ($fwd / ($ns / 1e9) | floor) else 0 end),
		  keys: $keys, offered_pps: $offered, sent: $pool, flood: $flood, agent_cpu_sec: $cpu,
		  gen_cpu_sec: $gen, machine_busy_cpu_sec: $machine, steal_cpu_sec: $steal,
		  agent_us_per_init: (if $fwd > 0 then ($cpu * 1e6 / $fwd | floor) else 0 end),
		  inits_per_agent_cpu_sec: (if $cpu > 0 then ($fwd / $cpu | floor) else 0 end),
		  xdp_punt_xsk: ($xdp.PUNT_XSK // 0), xdp_punt_stack: ($xdp.PUNT_STACK // 0),
		  xdp_rate_limited: ($xdp.DROP_RATE_LIMITED // 0),
		  agent_init_forwarded: ($agent.INIT_FORWARDED // 0), agent_replays: ($agent.INIT_REPLAY // 0),
		  agent_decrypt_failed: ($agent.INIT_DECRYPT_FAILED // 0), dh_cache_hits: ($agent.DH_CACHE_HIT // 0),
		  agent: ($agent | with_entries(select(.value != 0))), xdp: ($xdp | with_entries(select(.value != 0)))}' >>"$RESULTS"
	xwgp_stop
	ns_exec proxy "$XWGP" down >/dev/null 2>&1
}

# Under load (under_load 0): initiations with a random MAC2 from the generator,
# checked (one keyed BLAKE2s) and dropped or answered with a cookie, per
# second of the agent's CPU (one core: this runs on the event loop).
hs_e2e_reject() {
	local t0 t1 a0 a1
	hs_config 0 0
	XWGP_JSON="$E2E_TMP/xwgp-hs.json" xwgp_start || { error_row handshake.e2e.reject "xwgp did not start"; return; }
	sleep 1.2
	a0=$(ns_exec proxy "$XWGP" show --json | jq -c '.counters.agent')
	t0=$(agent_ticks)
	ns_exec gen "${RT[@]}" "$FLOOD" --dst "$E2E_LISTEN" --src "${E2E_SRC%:*}" --mode mac2 \
		--server-pub "$(wg_pub hskey)" --rate 300000 --seconds 3 >"$E2E_TMP/hs-reject.flood" 2>&1
	sleep 1.2
	t1=$(agent_ticks)
	a1=$(ns_exec proxy "$XWGP" show --json | jq -c '.counters.agent')
	jq -cn --argjson a0 "$a0" --argjson a1 "$a1" --argjson cpu "$((t1 - t0))" --argjson hz "$(getconf CLK_TCK)" \
		--arg flood "$(tr '\n' ' ' <"$E2E_TMP/hs-reject.flood")" '
		def d(k): ($a1[k] // 0) - ($a0[k] // 0);
		d("MAC2_INVALID") as $rej
		| {id: "handshake.e2e.reject", rejected: $rej, dropped: d("MAC2_INVALID_DROPPED"),
		   cookies: d("COOKIE_SENT"), dh: d("INIT_FORWARDED"),
		   agent_cpu_sec: ($cpu / $hz), flood: $flood,
		   rejects_per_cpu_sec: (if $cpu > 0 then ($rej / ($cpu / $hz) | floor) else 0 end)}' >>"$RESULTS"
	xwgp_stop
	ns_exec proxy "$XWGP" down >/dev/null 2>&1
}

bench_hs_e2e() {
	log "handshakes end to end: $HS_POOL initiations of $HS_KEYS keys at $HS_OFFERED/s through xwgp, counted at the backend; 1 thread, then one per CPU"
	FLOOD="$BUILD/tools/wg_flood"
	[ -x "$FLOOD" ] || { error_row handshake.e2e "$FLOOD not built"; return; }
	if [ -z "${SINK_PIN:-}" ] && ! e2e_topology; then
		error_row handshake.e2e "topology setup failed"
		return
	fi
	wg_genkey hskey || { error_row handshake.e2e "key"; return; }
	hs_e2e_run 1 threads1
	hs_e2e_run 0 threads_all
	hs_e2e_reject
}

# ---- 4. memory -----------------------------------------------------------------

bench_memory() {
	local dir out="$E2E_TMP/memory.json" maps="$E2E_TMP/maps.jsonl" m
	log "memory: 1,000,000 sessions in maps loaded by the agent's loader"
	ns_add mem || { error_row memory "namespace"; return; }
	dir="$(ns_bpffs mem)/xwgp/bench"
	if ! ns_exec mem "$B/bench_memory" --pin-path /sys/fs/bpf/xwgp/bench --sessions 1000000 >"$out"; then
		error_row memory "bench_memory failed"
		return
	fi
	: >"$maps"
	for m in "$dir"/xwgp_*; do
		ns_exec mem bpftool -j map show pinned "/sys/fs/bpf/xwgp/bench/${m##*/}" |
			jq -c '{name, type, max_entries, bytes_memlock}' >>"$maps"
	done
	rm -f "$dir"/xwgp_* # frees the ~0.5 GB now, not at teardown
	jq -c --slurpfile maps "$maps" '
		($maps | map(select(.name == "xwgp_sessions" or .name == "xwgp_srv_index" or
				    .name == "xwgp_sess_meta")) | map(.bytes_memlock) | add) as $per
		| ($maps | map(.bytes_memlock) | add) as $total
		| {id: "memory.sessions", sessions, fill_sec, session_value_bytes, meta_value_bytes,
		   bytes_per_session: ($per / .sessions), per_session_maps_bytes: $per,
		   total_bytes: $total, total_mib: ($total / 1048576),
		   total_bytes_per_session: ($total / .sessions),
		   by_map_mib: ($maps | map({(.name): ((.bytes_memlock / 1048576) * 10 | round / 10)}) | add),
		   maps: $maps}' "$out" >>"$RESULTS"
}

# ---- table -------------------------------------------------------------------------

want fastpath && bench_fastpath
want e2e && bench_e2e
want agent && bench_agent
want handshake && bench_handshake
want hs_e2e && bench_hs_e2e
want memory && bench_memory
want local && bench_local

ELAPSED=$(($(date +%s) - T_START))
MACHINE="$(nproc)-core VM ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1048576)) GiB), Linux $(uname -r)"

# One row per figure: what, result, reference, ratio, target, met (yes/no/n/a).
jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg machine "$MACHINE" --argjson secs "$ELAPSED" '
	def r(x): (x * 100 | round) / 100;
	def pps(x): if x >= 1e6 then "\(r(x / 1e6)) Mpps" else "\(r(x / 1e3)) kpps" end;
	def get(id): map(select(.id == id)) | if length > 1 then max_by(.delivered_pps // 0) else .[0] end;
	def na(id; what; target): {id: id, name: what, what: what, result: (get(id).na // "not run"),
		reference: "", ratio: null, target: target, met: "n/a"};
	# A handler rate under load (bench_handshake), next to the warm handshake rate.
	def under_load_row(id; name; what; $rate; $us): get(id) as $c | get("handshake.warm.servers1") as $w
		| if ($c[$rate] // 0) <= 0 then na(id; name; "-")
		  else {id: id, name: name, what: what, result: "\($c[$rate])/s (\($c[$us]) us each)",
			reference: "warm handshakes \($w.inits_per_sec // "?")/s", ratio: $c.ratio_to_warm,
			target: "-", met: "-"} end;
	. as $all
	| get("fastpath.min") as $min
	| get("e2e.ceiling") as $ceil | get("e2e.xdp") as $xdp | get("e2e.agent") as $agent
	| get("handshake.servers1") as $h1
	| [
	  ( ["c2s.v4", "s2c.v4", "c2s.v6", "s2c.v6", "obfs.v4", "obfs.v6"][] as $c
	    | ("fastpath." + $c) as $id | ($all | get($id)) as $row
	    | (if ($c | startswith("obfs")) then 8 else 4 end) as $t # issue 13
	    | if ($row.ns_per_pkt // null) == null then ($all | na($id; "fast path " + $c; "<= \($t)x minimal"))
	      else {id: $id, name: "fast path \($c)", what: $row.what,
		    result: "\(r($row.ns_per_pkt)) ns/pkt", reference: "minimal \(r($min.ns_per_pkt)) ns/pkt",
		    ratio: r($row.ratio), target: "<= \($t)x", met: (if $row.ratio <= $t then "yes" else "no" end)}
	      end ),
	  ( if ($xdp.delivered_pps // null) == null or ($ceil.delivered_pps // null) == null
	    then na("e2e.xdp"; "end to end, XDP path"; ">= 0.90x ceiling")
	    else (1e9 / $ceil.delivered_pps) as $chain
	    | ((($all | get("fastpath.c2s.v4")).ns_per_pkt // 0) - ($min.ns_per_pkt // 0)) as $extra
	    | {id: "e2e.xdp", name: "e2e XDP path", what: "delivered at the highest offered rate with < 1% loss",
		  result: "\(pps($xdp.delivered_pps)) (\(r($xdp.delivered_fraction * 100))% of \(pps($xdp.offered_pps)))",
		  # The floor: generator, forwarding and sink share one softirq, so
		  # xwgp adds its fast-path cost over the minimal program to the
		  # bare redirect chain (docs: README "Benchmarks").
		  reference: "ceiling \(pps($ceil.delivered_pps)) (\(r($chain)) ns/pkt chain)\(if $extra > 0 then "; expected from the fast path (+\(r($extra)) ns/pkt over minimal): \(r($chain / ($chain + $extra)))x" else "" end)",
		  ratio: r($xdp.delivered_pps / $ceil.delivered_pps),
		  target: ">= 0.90x", met: (if $xdp.delivered_pps >= 0.9 * $ceil.delivered_pps then "yes" else "no (short by \(r(0.9 - $xdp.delivered_pps / $ceil.delivered_pps))x)" end)} end ),
	  ( if ($agent.delivered_pps // null) == null or ($xdp.delivered_pps // null) == null
	    then na("e2e.agent"; "end to end, agent-only path"; "XDP >= 10x agent")
	    else {id: "e2e.agent", name: "e2e agent only", what: "xwgp server --xdp-mode off, same measure",
		  result: "\(pps($agent.delivered_pps)) (\(r($agent.delivered_fraction * 100))% of \(pps($agent.offered_pps)))",
		  reference: "XDP path \(pps($xdp.delivered_pps))\(if $agent.agent_cpu_us_per_pkt then "; agent CPU \(r($agent.agent_cpu_us_per_pkt)) us/pkt" else "" end)",
		  ratio: r($xdp.delivered_pps / $agent.delivered_pps),
		  target: "XDP >= 10x", met: (if $xdp.delivered_pps >= 10 * $agent.delivered_pps then "yes" else "no" end)} end ),
	  ( if ($ceil.delivered_pps // null) == null then na("e2e.ceiling"; "ceiling"; "-")
	    else {id: "e2e.ceiling", name: "e2e ceiling", what: "bare XDP devmap redirect between the same veths",
		  result: "\(pps($ceil.delivered_pps)) (\(r($ceil.delivered_fraction * 100))% of \(pps($ceil.offered_pps)))",
		  reference: "generator max \(pps($ceil.max_offered_pps))", ratio: null, target: "-", met: "-"} end ),
	  ( get("agent.mwgp") as $m
	    | (if ($m.delivered_pps // null) != null
	       then "mwgp \(pps($m.delivered_pps)), \(r($m.cpu_us_per_pkt // 0)) us CPU/pkt"
	       else "mwgp: \($m.na // "not run") (issue 14: ~228 kpps, ~4.3 us/pkt)" end) as $mref
	    | (["xsk", "XDP punts to AF_XDP (agent-only flag)"], ["udp", "no XDP: UDP socket (--xdp-mode off)"])
	    | . as [$k, $how] | ("agent." + $k) as $id | ($all | get($id)) as $a
	    | if ($a.delivered_pps // null) == null then ($all | na($id; "agent path, " + $how; ">= 2x mwgp, <= 2 us/pkt"))
	      else {id: $id, name: "agent path, \($how)",
		    what: "every transport packet through the agent: delivered at the highest offered rate with < 1% loss; agent CPU (utime+stime) per forwarded packet",
		    result: "\(pps($a.delivered_pps)), \(r($a.cpu_us_per_pkt // 0)) us CPU/pkt",
		    reference: $mref,
		    ratio: (if ($m.delivered_pps // 0) > 0 then r($a.delivered_pps / $m.delivered_pps) else null end),
		    target: ">= 2x mwgp, <= 2 us/pkt",
		    met: (if ($m.delivered_pps // 0) <= 0 then (if ($a.cpu_us_per_pkt // 99) <= 2 then "cpu yes, pps n/a" else "no (cpu)" end)
			  elif $a.delivered_pps >= 2 * $m.delivered_pps and ($a.cpu_us_per_pkt // 99) <= 2 then "yes" else "no" end)}
	      end ),
	  ( get("agent.send") as $x
	    | if ($x.gso_ns // null) == null then na("agent.send"; "agent sends, CPU per datagram"; "-")
	      else {id: "agent.send", name: "agent sends, CPU per datagram",
		    what: "runs of \($x.batch) datagrams of \($x.len) bytes to one destination on loopback, sender thread CPU (kernel work in its context included)",
		    result: "GSO \(r($x.gso_ns)) ns, sendmmsg \(r($x.sendmmsg_ns)) ns",
		    reference: "one sendmsg each \(r($x.sendmsg_ns)) ns", ratio: r($x.sendmsg_ns / $x.gso_ns),
		    target: "-", met: "-"} end ),
	  ( get("handshake.servers1") as $h | get("handshake.servers8") as $h8
	    | get("handshake.warm.servers1") as $w | get("handshake.warm.servers8") as $w8
	    | get("handshake.mac1_servers1").mac1_search_us as $m1 | get("handshake.mac1_servers8").mac1_search_us as $m8
	    | if $h == null then na("handshake.servers1"; "handshakes, 1 server, cold DH cache"; "-")
	      else {id: "handshake.servers1", name: "handshakes, 1 server, cold DH cache",
		    what: "initiations/s through handler_packet on one core, first initiation of each client key (2 X25519 each)",
		    result: "\($h.inits_per_sec)/s (\($h.us_per_init) us each)",
		    reference: "2 X25519 at \($h.x25519_us) us: <= \($h.dh_bound_per_sec)/s", ratio: null,
		    target: "- (target: warm row)", met: "-"},
		   {id: "handshake.servers8", name: "handshakes, 8 servers, cold DH cache", what: "initiations/s, the target server last of 8, first initiation of each key",
		    result: "\($h8.inits_per_sec)/s (MAC1 search \($m1) -> \($m8) us: expect \(r($h.us_per_init / ($h.us_per_init + $m8 - $m1)))x)",
		    reference: "1 server, cold \($h.inits_per_sec)/s",
		    ratio: r($h8.ratio_to_1_server), target: ">= 0.90x",
		    met: (if $h8.ratio_to_1_server >= 0.9 then "yes" else "no" end)} end ),
	  ( get("handshake.servers1") as $h
	    | get("handshake.warm.servers1") as $w | get("handshake.warm.servers8") as $w8
	    | get("handshake.mac1_servers1").mac1_search_us as $m1 | get("handshake.mac1_servers8").mac1_search_us as $m8
	    | if $w == null then na("handshake.warm.servers1"; "handshakes, 1 server, warm DH cache (the target row)"; ">= 20000/s")
	      else {id: "handshake.warm.servers1", name: "handshakes, 1 server, warm DH cache (the target row)",
		    what: "initiations/s through handler_packet on one core, re-handshakes of known client keys (1 X25519 each); compared with the 20,000/s target",
		    result: "\($w.inits_per_sec)/s (\($w.us_per_init) us each)",
		    reference: "1 X25519 at \($w.x25519_us) us: <= \($w.dh_bound_per_sec)/s; cold \($h.inits_per_sec // "?")/s", ratio: null,
		    target: ">= 20000/s", met: (if $w.inits_per_sec >= 20000 then "yes" else "no" end)},
		   {id: "handshake.warm.servers8", name: "handshakes, 8 servers, warm DH cache", what: "initiations/s, the target server last of 8, re-handshakes of known keys",
		    result: "\($w8.inits_per_sec)/s (MAC1 search \($m1) -> \($m8) us: expect \(r($w.us_per_init / ($w.us_per_init + $m8 - $m1)))x)",
		    reference: "1 server, warm \($w.inits_per_sec)/s",
		    ratio: r($w8.ratio_to_1_server), target: ">= 0.90x",
		    met: (if $w8.ratio_to_1_server >= 0.9 then "yes" else "no" end)} end ),
	  ( get("handshake.peer_choice") as $p | get("handshake.warm.servers1") as $w
	    | if ($p.peer_choice_us // -1) < 0 then na("handshake.peer_choice"; "peer choice"; "-")
	      else {id: "handshake.peer_choice", name: "peer choice, \($p.peers) configured peers",
		    what: "config_peer_for per initiation, keys parsed from a config file",
		    result: "\($p.peer_choice_us) us per initiation",
		    reference: "a warm initiation takes \($w.us_per_init // "?") us", ratio: null,
		    target: "-", met: "-"} end ),
	  ( get("handshake.blake2s") as $b
	    | if ($b.scalar_per_sec // 0) <= 0 then na("handshake.blake2s"; "BLAKE2s compression"; "-")
	      else {id: "handshake.blake2s", name: "BLAKE2s compression, SIMD vs portable",
		    what: "ns per compression, chained (~35 per warm initiation); SIMD (SSSE3 + SSE4.1, agent/blake2s_x86.c) where the CPU has it, as the agent does",
		    result: (if $b.simd then "\($b.simd_ns) ns SIMD" else "no SIMD on this CPU" end),
		    reference: "portable \($b.scalar_ns) ns", ratio: (if $b.simd then $b.ratio else null end),
		    target: "-", met: "-"} end ),
	  ( get("handshake.x25519_x4") as $x
	    | if $x == null then na("handshake.x25519_x4"; "X25519, four lanes"; "-")
	      elif ($x.supported | not) then {id: "handshake.x25519_x4", name: "X25519, four lanes (AVX2) vs libsodium",
		    what: "CPU us per DH", result: "no AVX2 on this CPU: libsodium alone", reference: "-",
		    ratio: null, target: "-", met: "-"}
	      else {id: "handshake.x25519_x4", name: "X25519, four lanes (AVX2) vs libsodium",
		    what: "CPU us per DH, chained; agent/x25519_x4.c runs four DHs in one ladder, the handshake threads take initiations four at a time (one call costs \($x.x4_call_in_sodium_dhs) libsodium DHs: agent/dh_batch.h sends groups of three or more)",
		    result: "\($x.x4_us_per_dh) us per DH", reference: "libsodium \($x.sodium_us) us",
		    ratio: $x.ratio, target: "-", met: "-"} end ),
	  under_load_row("handshake.cookie_reply"; "cookie replies under load, 1 server";
	    "valid-MAC1 initiations answered with a cookie reply (no DH) per CPU second, handler_packet with under_load 0";
	    "cookies_per_sec"; "us_per_cookie"),
	  under_load_row("handshake.mac2_reject"; "wrong-MAC2 initiations under load, 1 server";
	    "initiations with a random MAC2 (XDP punts all of them) checked and dropped per CPU second";
	    "rejects_per_sec"; "us_per_reject"),
	  ( get("handshake.e2e.threads1") as $e1 | get("handshake.e2e.threads_all") as $ea
	    | get("handshake.warm.servers1") as $w
	    | if ($e1.inits_per_sec // 0) <= 0 then na("handshake.e2e.threads1"; "handshakes end to end, 1 thread"; "-")
	      else {id: "handshake.e2e.threads1", name: "handshakes end to end, 1 thread",
		    what: "initiations of \($e1.keys) distinct keys sent into the proxy namespace, forwarded ones counted at the backend, per second",
		    result: "\($e1.inits_per_sec)/s (\($e1.forwarded) of \($e1.sent) in \(r($e1.busy_sec)) s; \($e1.agent_us_per_init) us agent CPU each; CPU s: agent \($e1.agent_cpu_sec), generator \($e1.gen_cpu_sec), machine busy \($e1.machine_busy_cpu_sec), of it stolen by the hypervisor \($e1.steal_cpu_sec // 0))",
		    reference: "in-process warm \($w.inits_per_sec // "?")/s on one core", ratio: null, target: "-", met: "-"} end,
	      if ($ea.inits_per_sec // 0) <= 0 then na("handshake.e2e.threads_all"; "handshakes end to end, all threads"; ">= 30000/s")
	      else {id: "handshake.e2e.threads_all", name: "handshakes end to end, \($ea.cpus) threads (one per CPU)",
		    what: "the same, handshake_threads 0",
		    result: "\($ea.inits_per_sec)/s (\($ea.forwarded) of \($ea.sent) in \(r($ea.busy_sec)) s; \($ea.agent_us_per_init) us agent CPU each; CPU s: agent \($ea.agent_cpu_sec), generator \($ea.gen_cpu_sec), machine busy \($ea.machine_busy_cpu_sec), of it stolen by the hypervisor \($ea.steal_cpu_sec // 0))\(if $ea.inits_per_sec < 30000 then "; \(30000 - $ea.inits_per_sec)/s short of the target; floors on \($ea.cpus) cores: agent CPU per initiation (\($ea.agent_us_per_init) us) \(if $ea.agent_us_per_init > 0 then ($ea.cpus * 1e6 / $ea.agent_us_per_init | floor) else "?" end)/s, in-process work (\($w.us_per_init // "?") us) \(if ($w.us_per_init // 0) > 0 then ($ea.cpus * 1e6 / $w.us_per_init | floor) else "?" end)/s, X25519 alone (\($w.x25519_us // "?") us) \(if ($w.x25519_us // 0) > 0 then ($ea.cpus * 1e6 / $w.x25519_us | floor) else "?" end)/s, less what the generator takes (\($ea.gen_cpu_sec) CPU s while sending)" else "" end)",
		    reference: "1 thread \($e1.inits_per_sec // "?")/s; in-process warm \($w.inits_per_sec // "?")/s",
		    ratio: (if ($e1.inits_per_sec // 0) > 0 then r($ea.inits_per_sec / $e1.inits_per_sec) else null end),
		    target: ">= 30000/s", met: (if $ea.inits_per_sec >= 30000 then "yes" else "no" end)} end ),
	  ( get("handshake.e2e.reject") as $x | get("handshake.mac2_reject") as $m
	    | if ($x.rejects_per_cpu_sec // 0) <= 0 then na("handshake.e2e.reject"; "bogus initiations rejected under load, end to end"; "-")
	      else {id: "handshake.e2e.reject", name: "bogus initiations rejected under load, end to end",
		    what: "random-MAC2 initiations from the generator namespace (one socket, 190-250k/s) checked (one keyed BLAKE2s, no DH) and dropped or cookie-answered, per agent CPU second (the event loop: one core)",
		    result: "\($x.rejects_per_cpu_sec)/s per core (\($x.rejected) in \(r($x.agent_cpu_sec)) CPU s)",
		    reference: "in-process \($m.rejects_per_sec // "?")/s", ratio: null, target: "-", met: "-"} end ),
	  ( get("e2e.local_kernel") as $k | get("e2e.local_agent") as $a
	    | if ($k.delivered_pps // null) == null or ($a.delivered_pps // null) == null
	      then na("e2e.local_kernel"; "local backend, kernel path vs agent only"; "kernel > agent")
	      else {id: "e2e.local_kernel", name: "local backend (127.0.0.1), XDP + TC",
		    what: "client->server into lo, delivered at the highest offered rate with < 1% loss; the same session agent-only next to it",
		    result: "\(pps($k.delivered_pps)) (\(r($k.delivered_fraction * 100))% of \(pps($k.offered_pps)); kernel-forwarded \($k.xdp_forwarded // "?"), agent \($k.agent_forwarded // "?"))",
		    reference: "agent only \(pps($a.delivered_pps))\(if $a.agent_cpu_us_per_pkt then "; agent CPU \(r($a.agent_cpu_us_per_pkt)) us/pkt" else "" end)",
		    ratio: r($k.delivered_pps / $a.delivered_pps), target: "kernel > agent",
		    met: (if $k.delivered_pps > $a.delivered_pps then "yes" else "no" end)} end ),
	  ( get("memory.sessions") as $m
	    | if $m == null then na("memory.sessions"; "memory"; "<= 256 MiB")
	      else {id: "memory.sessions", name: "memory, \($m.sessions) sessions", what: "bpftool memlock of every map, max_sessions = sessions",
		    result: "\(r($m.total_mib)) MiB (\(r($m.total_bytes_per_session)) B/session)",
		    reference: "\(r($m.bytes_per_session)) B/session in the per-session maps; MiB by map: \($m.by_map_mib | to_entries | sort_by(-.value) | map("\(.key | ltrimstr("xwgp_")) \(.value)") | join(", "))",
		    ratio: null, target: "<= 256 MiB", met: (if $m.total_mib <= 256 then "yes" else "no" end)} end ),
	  ( get("e2e.restart") as $x | get("e2e.restart_control") as $c
	    | if ($x.lost // null) == null then na("e2e.restart"; "restart"; "0 lost")
	      else {id: "e2e.restart", name: "restart (SIGKILL)", what: "transport lost while the agent is killed and restarted",
		    result: "\($x.lost) of \($x.sent) lost (restart took \($x.restart_ms) ms)",
		    reference: "control run without restart: \($c.lost // "?") of \($c.sent // "?") lost",
		    ratio: null, target: "0", met: (if $x.lost <= 0 then "yes" else "no" end)} end )
	] as $rows
	| [ $all[] | select(.group == "profile") | {id, what, ns_per_pkt, ratio_to_min: .ratio,
	    verified_insns} ] as $profile
	| {date: $date, machine: $machine, seconds: $secs, rows: $rows, profile: $profile,
	   raw: $all}' "$RESULTS" >"$E2E_TMP/table.json"

echo
echo "xwgp benchmarks, $(jq -r .date "$E2E_TMP/table.json"), $MACHINE, ${ELAPSED}s"
echo
{
	printf 'benchmark\tresult\treference (same run)\tratio\ttarget\tmet\n'
	jq -r '.rows[] | [.name, .result, .reference, (if .ratio == null then "-" else "\(.ratio)x" end),
		.target, .met] | @tsv' "$E2E_TMP/table.json"
} | column -t -s $'\t' -o ' | '
if jq -e '.profile | length > 0' "$E2E_TMP/table.json" >/dev/null; then
	echo
	echo "Fast-path profile (same harness; ns per packet and x the minimal program):"
	jq -r '.profile[] | "  \(.id | ltrimstr("profile."))\t\(.ns_per_pkt) ns\t\(.ratio_to_min)x\t\(.what)"' \
		"$E2E_TMP/table.json" | column -t -s $'\t'
fi
if [ -n "$JSON_OUT" ]; then
	cp "$E2E_TMP/table.json" "$JSON_OUT" && echo && echo "JSON written to $JSON_OUT"
fi
[ "$ERRORS" -eq 0 ]
