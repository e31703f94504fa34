#!/usr/bin/env bash
# Install every Debian package xwgp's build, tests, demo and benchmarks need.
# Idempotent: only missing packages are installed; `apt-get update` runs only
# when something is missing.
set -euo pipefail

PACKAGES=(
	build-essential make pkg-config gcc clang llvm lld libclang-rt-14-dev
	libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev
	libsodium-dev libcjson-dev
	bpftool
	wireguard-go wireguard-tools
	iproute2 ethtool iputils-ping tcpdump netcat-openbsd jq
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
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
