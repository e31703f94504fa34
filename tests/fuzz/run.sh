#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run libFuzzer harnesses built by `make fuzz' ($FUZZ_BUILD/fuzz/<name>), each
# for $FUZZ_SECONDS on a scratch copy of its corpus (tests/fuzz/corpus/<name>),
# so new inputs never touch the checked-in corpus. Prints one line per harness:
#   PASS fuzz/<name>: N runs in S s from A seeds (B inputs in the scratch corpus)
#   FAIL fuzz/<name>: <crash file>   (the input is kept under $FUZZ_BUILD/crashes/<name>/;
#                                    add it to tests/fuzz/corpus/<name>/ once fixed)
#   SKIP fuzz/<name>: <reason>       (e.g. not root for the BPF maps)
# Exits non-zero when any harness failed.
# Usage: FUZZ_BUILD=build-fuzz FUZZ_SECONDS=60 tests/fuzz/run.sh [NAME...]
set -u
cd "$(dirname "$0")/../.."
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
failed=0

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		names+=("$(basename "$f" .c)")
	done
fi

for name in "${names[@]}"; do
	bin=$FUZZ_BUILD/fuzz/$name
	seeds=tests/fuzz/corpus/$name
	work=$FUZZ_BUILD/corpus/$name
	crashes=$FUZZ_BUILD/crashes/$name
	log=$FUZZ_BUILD/fuzz-$name.log
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz/$name: $bin not built (make fuzz)"
		failed=1
		continue
	fi
	mkdir -p "$work" "$crashes" "$seeds"
	before=$(find "$seeds" -type f | wc -l)
	# -timeout: one input taking this long is a hang, reported like a crash.
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "$work" "$seeds" \
		</dev/null >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 66 ]; then
		echo "SKIP fuzz/$name: $(grep -m1 '^fuzz: unavailable' "$log" | sed 's/^fuzz: unavailable: //')"
		continue
	fi
	runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
	after=$(find "$work" -type f | wc -l)
	if [ "$rc" -ne 0 ]; then
		crash=$(grep -m1 -o 'Test unit written to [^ ]*' "$log" | sed 's/.* to //')
		echo "FAIL fuzz/$name: exit $rc after ${runs:-?} runs; input: ${crash:-none}; log: $log"
		grep -E 'ERROR: |fuzz: BUG|runtime error|SUMMARY' "$log" | head -5 | sed 's/^/    /'
		failed=1
		continue
	fi
	echo "PASS fuzz/$name: ${runs:-?} runs in ${FUZZ_SECONDS} s from $before seeds ($after inputs in $work)"
done
exit "$failed"
