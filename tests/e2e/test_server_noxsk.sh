#!/usr/bin/env bash
# Server end-to-end suite (tests/e2e/server_suite.sh), IPv4, XDP without AF_XDP
# sockets: punted handshakes reach the agent through XDP_PASS and its UDP socket.
SUITE_MODE=noxsk TOPO_FAMILY=4
. "$(dirname "$0")/server_suite.sh"
