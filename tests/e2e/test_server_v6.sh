#!/usr/bin/env bash
# Server end-to-end suite (tests/e2e/server_suite.sh) with IPv6 outer addresses, XDP path.
SUITE_MODE=xdp TOPO_FAMILY=6
. "$(dirname "$0")/server_suite.sh"
