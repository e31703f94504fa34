#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/e2e/test_local_backend.sh over IPv6: clients on 2001:db8:c::/64, the
# backends on ::1 and on the proxy's own address 2001:db8:c::1.
TOPO_FAMILY=6
. "$(dirname "$0")/test_local_backend.sh"
