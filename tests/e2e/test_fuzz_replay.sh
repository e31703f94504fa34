#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The fuzz corpora (seeds and every crash found), replayed once through the
# harnesses built without libFuzzer: tests/fuzz/replay.sh. Not end-to-end,
# but tests/run.sh runs every tests/e2e/test_*.sh, so this is where it hooks in.
exec "$(dirname "$0")/../fuzz/replay.sh"
