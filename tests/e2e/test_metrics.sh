#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# metrics_listen and `xwgp stats --prometheus' with real wireguard-go tunnels
# (tests/lib/topo.sh): the exposition is scraped with curl while the tunnels
# carry traffic, validates with promtool, agrees with `xwgp stats --json',
# moves with a flood of bogus packets, answers only GET /metrics, and hostile
# scrapers (slowloris, 1000 connections, a 1 MiB header) neither stall the
# tunnels nor handshakes, with XDP forwarding and with the agent forwarding.
# Also: `xwgp show' says who carries the transport, in both modes.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/topo.sh"
. "$(dirname "$0")/hardening_lib.sh"
topo_require jq curl promtool nc
[ -x /usr/bin/python3 ] || skip_all "/usr/bin/python3 not installed"
FLOOD=$(e2e_tool wg_flood)
ABUSE="$(dirname "$0")/metrics_abuse.py"
MURL=http://127.0.0.1:9586/metrics

hard_setup || { fail setup "topology setup failed"; exit 1; }
CFG="$E2E_TMP/xwgp.json"
hard_config "$CFG" '.metrics_listen = "127.0.0.1:9586"' || { fail config "jq"; exit 1; }
hard_start "$CFG"

scrape() { ns_exec proxy curl -sS --max-time 5 "$MURL"; }
# value NAME{LABELS} from a scrape file (0 when absent)
mval() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"; }

# ---- the endpoint -------------------------------------------------------------
check ping-cli1 topo_ping cli1 5
check bulk-2MiB bulk_transfer cli1 srvA "${TOPO_TUN_SERVER[cli1]}" 5001 2
ns_exec proxy curl -sS -D "$E2E_TMP/hdr" -o "$E2E_TMP/m1" --max-time 5 "$MURL"
if grep -q '^HTTP/1.1 200' "$E2E_TMP/hdr" &&
	grep -qi '^content-type: text/plain; version=0.0.4' "$E2E_TMP/hdr"; then
	pass scrape-200-text-0.0.4
else
	fail scrape-200-text-0.0.4 "$(head -c 600 "$E2E_TMP/hdr")"
fi
if out=$(promtool check metrics <"$E2E_TMP/m1" 2>&1); then
	pass promtool-check-metrics
else
	fail promtool-check-metrics "$out"
fi
missing=
for f in xwgp_up xwgp_info xwgp_xdp_packets_total xwgp_xdp_bytes_total xwgp_agent_events_total \
	xwgp_sessions xwgp_backend_packets_total xwgp_backend_bytes_total xwgp_handshakes_total; do
	grep -q "^# TYPE $f " "$E2E_TMP/m1" || missing+=" $f"
done
[ -z "$missing" ] && pass families-present || fail families-present "missing:$missing"
v=$(mval "$E2E_TMP/m1" 'xwgp_sessions{state="established"}')
[ "$v" -ge 3 ] && pass sessions-established || fail sessions-established "xwgp_sessions established=$v (want >= 3)"
grep -q '^xwgp_info{.*instance="default",xdp_mode="native"} 1$' "$E2E_TMP/m1" &&
	pass info-labels || fail info-labels "$(grep '^xwgp_info' "$E2E_TMP/m1")"
# The version label is the build's git description (Makefile: xwgp_version.h),
# refreshed when the commit changes, not frozen at the first build of prom.o.
want=$(sed -n 's/^#define XWGP_VERSION "\(.*\)"$/\1/p' "$BUILD/xwgp_version.h" 2>/dev/null)
if [ -z "$want" ]; then
	fail info-version "no $BUILD/xwgp_version.h"
elif [ "$want" != "$(git -C "$E2E_ROOT" describe --always --dirty 2>/dev/null || echo unknown)" ]; then
	fail info-version "xwgp_version.h says $want, git describe says something else: stale build"
else
	grep -qF "xwgp_info{version=\"$want\"" "$E2E_TMP/m1" && pass info-version ||
		fail info-version "want version=\"$want\": $(grep '^xwgp_info' "$E2E_TMP/m1")"
fi

# The endpoint runs in a thread of its own, niced, the packet loop not.
nices=$(ps -L -o nice= -p "$XWGP_PID" | tr -d ' ' | sort | uniq -c | tr '\n' ' ')
if [ "$(ps -L -o nice= -p "$XWGP_PID" | grep -c '^ *10$')" = 1 ] &&
	[ "$(ps -o nice= -p "$XWGP_PID" | tr -d ' ')" = 0 ]; then
	pass metrics-thread-niced
else
	fail metrics-thread-niced "thread nice values (count value): $nices"
fi

code() { ns_exec proxy curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
c1=$(code http://127.0.0.1:9586/) c2=$(code -X POST -d x "$MURL") c3=$(code "$MURL/x")
c4=$(code -X DELETE "$MURL")
if [ "$c1" = 404 ] && [ "$c2" = 405 ] && [ "$c3" = 404 ] && [ "$c4" = 405 ]; then
	pass only-get-metrics
else
	fail only-get-metrics "GET / -> $c1, POST -> $c2, GET /metrics/x -> $c3, DELETE -> $c4"
fi

# ---- agreement with `xwgp stats --json' ------------------------------------------
# The tunnels are idle (no keepalive): read both until two rounds agree.
agree() {
	local json=$1 m=$2 n want got bad=
	for n in $(jq -r '.xdp | keys[]' "$json"); do
		want=$(jq ".xdp.$n.packets" "$json")
		got=$(mval "$m" "xwgp_xdp_packets_total{reason=\"$n\"}")
		[ "$want" = "$got" ] || bad+=" xdp.$n.packets=$want/$got"
		want=$(jq ".xdp.$n.bytes" "$json")
		got=$(mval "$m" "xwgp_xdp_bytes_total{reason=\"$n\"}")
		[ "$want" = "$got" ] || bad+=" xdp.$n.bytes=$want/$got"
	done
	for n in $(jq -r '.agent | keys[]' "$json"); do
		want=$(jq ".agent.$n" "$json")
		got=$(mval "$m" "xwgp_agent_events_total{event=\"$n\"}")
		[ "$want" = "$got" ] || bad+=" agent.$n=$want/$got"
	done
	echo "$bad"
}
# in_agreement CHECK FILE CMD...: CMD into FILE and a scrape into m2, until
# CHECK FILE m2 reports no difference (3 rounds); the last report in $bad.
in_agreement() {
	local check=$1 file=$2 i
	shift 2
	for i in 1 2 3; do
		"$@" >"$file"
		scrape >"$E2E_TMP/m2"
		bad=$("$check" "$file" "$E2E_TMP/m2")
		[ -z "$bad" ] && return 0
		sleep 1.2
	done
	return 1
}
sleep 1.2
in_agreement agree "$E2E_TMP/s.json" topo_xwgp stats --json &&
	pass agrees-with-stats-json || fail agrees-with-stats-json "stats/metrics:$bad"
v=$(mval "$E2E_TMP/m2" 'xwgp_xdp_packets_total{reason="C2S_REDIRECT"}')
[ "$v" -ge 1000 ] && pass xdp-redirects-counted || fail xdp-redirects-counted "C2S_REDIRECT=$v after 2 MiB"

# Per backend: the sums over the sessions `show --json' lists (read both
# until two rounds agree: a passive keepalive may pass in between).
backends_agree() {
	local show=$1 m=$2 be d u want got bad=
	for be in $(jq -r '[.sessions[].server_endpoint] | unique[]' "$show"); do
		for d in c2s s2c; do
			for u in packets bytes; do
				want=$(jq "[.sessions[] | select(.server_endpoint == \"$be\") | .${d}_$u] | add" "$show")
				got=$(mval "$m" "xwgp_backend_${u}_total{backend=\"$be\",direction=\"$d\"}")
				[ "$want" = "$got" ] || bad+=" $be.$d.$u=$want/$got"
			done
		done
	done
	echo "$bad"
}
in_agreement backends_agree "$E2E_TMP/show.json" topo_xwgp show --json &&
	pass backends-agree-with-show || fail backends-agree-with-show "show/metrics:$bad"
be=$(jq -r '.sessions[] | select(.client_pubkey == "'"$(wg_pub cli1)"'") | .server_endpoint' "$E2E_TMP/show.json" | head -1)
v=$(mval "$E2E_TMP/m2" "xwgp_backend_bytes_total{backend=\"$be\",direction=\"c2s\"}")
[ "$v" -ge 2097152 ] && pass backend-bytes-carry-bulk || fail backend-bytes-carry-bulk "$be c2s bytes $v < 2 MiB"

# `xwgp stats --prometheus': the same writer, the same values (xwgp_info aside:
# the CLI cannot know the agent's xdp_mode).
same=0
for i in 1 2 3; do
	topo_xwgp stats --prometheus >"$E2E_TMP/cli.prom"
	if promtool check metrics <"$E2E_TMP/cli.prom" >/dev/null 2>&1 &&
		diff <(grep -v '^xwgp_info' "$E2E_TMP/cli.prom") <(scrape | grep -v '^xwgp_info') >"$E2E_TMP/cli.diff"; then
		same=1
		break
	fi
	sleep 1.2
done
[ "$same" = 1 ] && pass stats-prometheus-same-exposition ||
	fail stats-prometheus-same-exposition "$(head -20 "$E2E_TMP/cli.diff")"

# ---- floods move the drop counters --------------------------------------------
scrape >"$E2E_TMP/f0"
ns_exec att "$FLOOD" --dst "$LISTEN" --mode transport --rate 5000 --seconds 1 >"$E2E_TMP/flood.out"
ns_exec att "$FLOOD" --dst "$LISTEN" --mode badmac --rate 2000 --seconds 1 >>"$E2E_TMP/flood.out"
sleep 1.2
scrape >"$E2E_TMP/f1"
d_unknown=$(($(mval "$E2E_TMP/f1" 'xwgp_xdp_packets_total{reason="DROP_UNKNOWN_INDEX"}') -
	$(mval "$E2E_TMP/f0" 'xwgp_xdp_packets_total{reason="DROP_UNKNOWN_INDEX"}')))
d_hs=$(($(mval "$E2E_TMP/f1" 'xwgp_handshakes_total{result="no_server"}') -
	$(mval "$E2E_TMP/f0" 'xwgp_handshakes_total{result="no_server"}')))
d_rl=$(($(mval "$E2E_TMP/f1" 'xwgp_xdp_packets_total{reason="DROP_RATE_LIMITED"}') -
	$(mval "$E2E_TMP/f0" 'xwgp_xdp_packets_total{reason="DROP_RATE_LIMITED"}')))
e2e_log "flood: $(tr '\n' ' ' <"$E2E_TMP/flood.out"); DROP_UNKNOWN_INDEX +$d_unknown, no_server +$d_hs, DROP_RATE_LIMITED +$d_rl"
[ "$d_unknown" -ge 4500 ] && pass flood-drop-unknown-index ||
	fail flood-drop-unknown-index "DROP_UNKNOWN_INDEX moved by $d_unknown for 5000 bogus transport packets"
[ "$d_hs" -ge 100 ] && [ $((d_hs + d_rl)) -ge 1800 ] && pass flood-bad-handshakes ||
	fail flood-bad-handshakes "2000 bad initiations: no_server +$d_hs, DROP_RATE_LIMITED +$d_rl"

# ---- who carries the transport ------------------------------------------------
line=$(topo_xwgp show | grep '^transport:')
if [[ "$line" == "transport: XDP (accelerated) carries it: XDP "* ]]; then
	pass show-transport-xdp
else
	fail show-transport-xdp "show says: $line"
fi

# ---- hostile scrapers while tunnels and handshakes work ------------------------
# A ping every 10 ms through cli2's tunnel and a fresh handshake of cli3, while
# metrics_abuse.py attacks the endpoint from inside the proxy namespace.
under_attack() {
	local tag=$1 before after pingout loss
	pingout="$E2E_TMP/ping-$tag"
	ns_spawn proxy "$E2E_TMP/abuse-$tag" /usr/bin/python3 "$ABUSE" 127.0.0.1 9586 9
	local apid=$SPAWN_PID
	sleep 1
	ns_spawn cli2 "$pingout" ping -q -i 0.01 -c 700 -W 1 "${TOPO_TUN_SERVER[cli2]}"
	local ppid=$SPAWN_PID
	before=$(wg_latest_handshake cli3 "${TOPO_CLIENT_IF[cli3]}" "$(wg_pub "${TOPO_SERVER_KEY[cli3]}")")
	sleep 1.1 # a later second than the last handshake
	topo_client_forget cli3
	topo_client_connect cli3
	ns_exec cli3 ping -c 1 -W 1 "${TOPO_TUN_SERVER[cli3]}" >/dev/null 2>&1 &
	if wait_for 8 sh -c "[ \"\$(ip netns exec '$(ns_name cli3)' wg show '${TOPO_CLIENT_IF[cli3]}' latest-handshakes |
		awk '{ print \$2 }')\" -gt '$before' ]"; then
		pass "$tag-handshake-under-attack"
	else
		fail "$tag-handshake-under-attack" "cli3 did not complete a new handshake within 8 s"
	fi
	wait "$ppid"
	wait "$apid"
	loss=$(grep -o '[0-9.]*% packet loss' "$pingout" | cut -d% -f1)
	e2e_log "$tag: $(grep 'packets transmitted' "$pingout"); $(tr '\n' ';' <"$E2E_TMP/abuse-$tag")"
	if [ -n "$loss" ] && awk -v l="$loss" 'BEGIN { exit !(l < 1) }'; then
		pass "$tag-ping-under-attack"
	else
		fail "$tag-ping-under-attack" "loss ${loss:-?}% (want < 1%): $(cat "$pingout")"
	fi
	grep -q '^huge: ' "$E2E_TMP/abuse-$tag" && ! grep -q '^huge: answered HTTP/1.1 200' "$E2E_TMP/abuse-$tag" &&
		pass "$tag-huge-request-refused" ||
		fail "$tag-huge-request-refused" "$(grep '^huge' "$E2E_TMP/abuse-$tag")"
	if kill -0 "$XWGP_PID" 2>/dev/null && wait_for 10 scrape; then
		scrape >"$E2E_TMP/after-$tag"
		if grep -q '^xwgp_up 1$' "$E2E_TMP/after-$tag"; then
			pass "$tag-metrics-answer-after-attack"
		else
			fail "$tag-metrics-answer-after-attack" "no xwgp_up 1"
		fi
	else
		fail "$tag-metrics-answer-after-attack" "agent dead or /metrics silent for 10 s"
	fi
}
under_attack xdp

# ---- the same with the agent forwarding every packet ---------------------------
hard_agent_only "$CFG"
check agent-ping-cli1 topo_ping cli1 5
line=$(topo_xwgp show | grep '^transport:')
if [[ "$line" == "transport: the agent carries it: XDP 0.0%, agent 100.0% of "*"not attached"* ]]; then
	pass show-transport-agent
else
	fail show-transport-agent "show says: $line"
fi
scrape >"$E2E_TMP/m3"
grep -q '^xwgp_info{.*xdp_mode="off"} 1$' "$E2E_TMP/m3" && pass info-xdp-mode-off ||
	fail info-xdp-mode-off "$(grep '^xwgp_info' "$E2E_TMP/m3")"
under_attack agent

# ---- expired sessions keep counting for their backend --------------------------
# Counters must not fall when sessions expire (clients re-handshake into new
# sessions every 2 minutes): `timeout' 2 s by SIGHUP, the tunnels idle.
scrape >"$E2E_TMP/e0"
jq '.timeout = 2' "$CFG" >"$CFG.t2" && cp "$CFG.t2" "$CFG"
kill -HUP "$XWGP_PID"
sessions_gone() { scrape | grep -q '^xwgp_sessions{state="established"} 0$'; }
if wait_for 20 sessions_gone; then
	scrape >"$E2E_TMP/e1"
	bad= total=0
	while read -r k v; do
		total=$((total + v))
		now=$(mval "$E2E_TMP/e1" "$k")
		[ "$now" -ge "$v" ] || bad+=" $k $v->$now"
	done < <(grep '^xwgp_backend_packets_total{' "$E2E_TMP/e0")
	if [ -z "$bad" ] && [ "$total" -gt 1000 ]; then
		pass backend-counters-survive-expiry
	else
		fail backend-counters-survive-expiry "total $total before;$bad"
	fi
else
	fail backend-counters-survive-expiry "sessions did not expire: $(scrape | grep '^xwgp_sessions')"
fi

topo_xwgp_stop
topo_xwgp down >/dev/null 2>&1
