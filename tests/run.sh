#!/usr/bin/env bash
# Run every xwgp test suite and print one summary line:
#   N passed, N failed, N skipped
# Suites: C unit tests and BPF tests ($BUILD/tests/*/test_*), then the
# end-to-end scripts (tests/e2e/test_*.sh). Each prints PASS/FAIL/SKIP lines
# (tests/lib/test.h, tests/lib/e2e.sh); a suite that exits non-zero without
# printing a FAIL line (a crash) counts as one failure.
# Usage: tests/run.sh [PATTERN]   (run only suites whose path matches PATTERN)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PATTERN=${1:-}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# make check SANITIZE=1 points ASan/UBSan reports here: start empty.
SAN_DIR=${XWGP_SANITIZER_LOG_DIR:-}
if [ -n "$SAN_DIR" ]; then
	rm -rf "$SAN_DIR" && mkdir -p "$SAN_DIR"
fi

run_suite() {
	local name=$1
	shift
	echo "== $name"
	local out rc
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
		echo "FAIL $name: exited with status $rc without reporting a failure"
		echo "FAIL $name: exit $rc" >>"$out"
	fi
	grep -E '^(PASS|FAIL|SKIP) ' "$out" >>"$log"
	rm -f "$out"
}

for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/bpf/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	[ -n "$PATTERN" ] && [[ "$t" != *$PATTERN* ]] && continue
	run_suite "$t" "$t"
done

for t in tests/e2e/test_*.sh; do
	[ -f "$t" ] || continue
	[ -n "$PATTERN" ] && [[ "$t" != *$PATTERN* ]] && continue
	run_suite "$t" env BUILD="$BUILD" bash "$t"
done

# Every sanitizer report is a failure, wherever it came from.
if [ -n "$SAN_DIR" ]; then
	for f in "$SAN_DIR"/*; do
		[ -f "$f" ] || continue
		echo "FAIL sanitizer/$(basename "$f"): $(grep -m1 -E 'ERROR|runtime error' "$f")" |
			tee -a "$log"
	done
fi

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failures:"
	grep '^FAIL ' "$log"
fi
if [ "$skipped" -gt 0 ]; then
	echo
	echo "Skipped (with reasons):"
	grep '^SKIP ' "$log"
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
