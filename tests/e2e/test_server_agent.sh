#!/usr/bin/env bash
# Server end-to-end suite (tests/e2e/server_suite.sh), IPv4, mode: agent.
SUITE_MODE=agent TOPO_FAMILY=4
. "$(dirname "$0")/server_suite.sh"
