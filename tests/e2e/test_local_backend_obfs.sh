#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/e2e/test_local_backend.sh with every client behind an obfuscating `xwgp client'.
LB_OBFS=1
. "$(dirname "$0")/test_local_backend.sh"
