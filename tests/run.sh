#!/usr/bin/env bash
# Run xwgp's test suites and print one summary line:
#   N passed, N failed, N skipped
# Suites: C unit tests and BPF tests ($BUILD/tests/*/test_*), then the
# end-to-end scripts (tests/e2e/test_*.sh). Each prints PASS/FAIL/SKIP lines
# (tests/lib/test.h, tests/lib/e2e.sh); a suite that exits non-zero without
# printing a FAIL line (a crash) counts as one failure.
#
# Usage: tests/run.sh [PATTERN]     (make check T=PATTERN)
#        tests/run.sh --list        every suite, and the cases of the C suites
#   PATTERN          the suites whose path contains PATTERN (test_config,
#                    unit/, e2e/test_svl, bpf/test_agree)
#   SUITE/CASE       in the C suites matching SUITE, only the cases matching
#                    the shell glob CASE (test_config/json5_*); the e2e
#                    scripts build one topology for all their checks and run
#                    whole, so they take no CASE
# A PATTERN that selects nothing is a failure, not "0 passed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PATTERN=${1:-}

c_suites() {
	local t
	for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/bpf/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *.d) continue ;; esac
		echo "$t"
	done
}

e2e_suites() {
	local t
	for t in tests/e2e/test_*.sh; do
		[ -f "$t" ] && echo "$t"
	done
}

if [ "$PATTERN" = --list ]; then
	# The names PATTERN matches: suite paths, and SUITE/CASE for C suites.
	if [ -z "$(c_suites)" ]; then
		echo "run.sh: no C suites under $BUILD/tests: build first (make)" >&2
	fi
	for t in $(c_suites); do
		echo "${t#"$BUILD"/}"
		"$t" --list | sed "s|^|  $(basename "$t")/|"
	done
	for t in $(e2e_suites); do
		echo "$t"
	done
	exit 0
fi

# SUITE/CASE: only when PATTERN as a whole names no suite (unit/test_x is a path).
SUITE_PAT=$PATTERN
CASE_PAT=
if [ -n "$PATTERN" ] && ! { c_suites; e2e_suites; } | grep -qF -- "$PATTERN" &&
	[[ "$PATTERN" == */* ]]; then
	SUITE_PAT=${PATTERN%/*}
	CASE_PAT=${PATTERN##*/}
fi

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
	if [ -n "$CASE_PAT" ] && ! grep -qE '^(PASS|FAIL|SKIP) ' "$out"; then
		echo "FAIL $name: no case matches \`$CASE_PAT' (tests/run.sh --list)" | tee -a "$out"
	fi
	grep -E '^(PASS|FAIL|SKIP) ' "$out" >>"$log"
	rm -f "$out"
}

matched=0
for t in $(c_suites); do
	[ -n "$SUITE_PAT" ] && [[ "$t" != *$SUITE_PAT* ]] && continue
	matched=$((matched + 1))
	if [ -n "$CASE_PAT" ]; then
		run_suite "$t" "$t" "$CASE_PAT"
	else
		run_suite "$t" "$t"
	fi
done

for t in $(e2e_suites); do
	[ -n "$SUITE_PAT" ] && [[ "$t" != *$SUITE_PAT* ]] && continue
	matched=$((matched + 1))
	if [ -n "$CASE_PAT" ]; then
		echo "FAIL $t: an e2e script runs whole (T=$(basename "$t" .sh)), it takes no case \`$CASE_PAT'" |
			tee -a "$log"
		continue
	fi
	run_suite "$t" env BUILD="$BUILD" bash "$t"
done

if [ "$matched" -eq 0 ]; then
	echo "FAIL run.sh: no suite matches \`$PATTERN' under $BUILD/tests and tests/e2e (tests/run.sh --list)" |
		tee -a "$log"
fi

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
