#!/usr/bin/env bash
# Install every Debian package xwgp's build, tests, demo and benchmarks need.
# Idempotent: only missing packages are installed; `apt-get update` runs only
# when something is missing.
set -euo pipefail

PACKAGES=(
	build-essential make pkg-config gcc clang llvm lld libclang-rt-14-dev
	libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev
	libsodium-dev libcjson-dev libmicrohttpd-dev
	bpftool
	wireguard-go wireguard-tools
	iproute2 ethtool iputils-ping tcpdump netcat-openbsd jq curl
	prometheus
	procps psmisc coreutils util-linux kmod
	nodejs node-json5
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root to install)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# `prometheus' is here for promtool (tests/e2e/test_metrics.sh validates the
# exposition with it), but its maintainer scripts start and enable a
# Prometheus server on :9090. Block the start while installing, as Debian's
# container images do with policy-rc.d (CI already has one), and disable the
# unit where systemd runs: a test dependency must not leave a daemon behind.
new_prometheus=0
policy_added=0
for p in "${missing[@]}"; do
	[ "$p" = prometheus ] && new_prometheus=1
done
if [ "$new_prometheus" = 1 ]; then
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		policy_added=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
if [ "$new_prometheus" = 1 ] && [ -d /run/systemd/system ]; then
	systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
[ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
