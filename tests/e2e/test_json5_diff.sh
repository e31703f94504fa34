#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xwgp's JSON5 reader against the JSON5 project's reference implementation
# (Debian's node-json5), on a few thousand seeded random documents in random
# JSON5 styles plus invalid and mutated ones: tests/e2e/json5_diff.js says
# what is generated and what is left out and why. A few seconds; no root.
# XWGP_JSON5_SEED / XWGP_JSON5_COUNT replay or widen a run.
. "$(dirname "$0")/../lib/e2e.sh"
require_cmds node
[ -f /usr/share/nodejs/json5/lib/index.js ] ||
	skip_all "node-json5 (the reference) is not installed: scripts/deps.sh installs it"
TOOL=$(e2e_tool json5_canon)
out=$(node "$E2E_ROOT/tests/e2e/json5_diff.js" "$TOOL" "${XWGP_JSON5_SEED:-20261206}" \
	"${XWGP_JSON5_COUNT:-3000}" 2>&1)
status=$?
printf '%s\n' "$out" | grep -v -E '^(PASS|FAIL) ' >&2
while IFS= read -r line; do
	case "$line" in
	"PASS json5-diff/"*) pass "${line#PASS json5-diff/}" ;;
	"FAIL json5-diff/"*) name=${line#FAIL json5-diff/}; fail "${name%%:*}" "${name#*: }" ;;
	esac
done < <(printf '%s\n' "$out")
[ "$status" -eq 0 ] || [ "$(e2e_failures)" -gt 0 ] || fail run "json5_diff.js exited $status"
