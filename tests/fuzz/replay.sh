#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Replay every fuzz corpus once, without libFuzzer: each harness linked with
# tests/fuzz/replay_main.c ($BUILD/tests/fuzz/<name>, built by every `make')
# runs every file of tests/fuzz/corpus/<name>/, which holds the seeds and
# every crash ever found. Fast (seconds), so `make check' runs it: a fixed
# crash stays fixed, in the sanitized build too (make check SANITIZE=1).
# Prints PASS/FAIL/SKIP lines for tests/run.sh.
# Usage: BUILD=build tests/fuzz/replay.sh
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
rc=0

for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin=$BUILD/tests/fuzz/$name
	corpus=tests/fuzz/corpus/$name
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz-replay/$name: $bin not built"
		rc=1
		continue
	fi
	n=$(find "$corpus" -type f 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "FAIL fuzz-replay/$name: empty corpus $corpus"
		rc=1
		continue
	fi
	out=$("$bin" "$corpus" 2>&1 </dev/null)
	status=$?
	if [ "$status" -eq 66 ]; then
		echo "SKIP fuzz-replay/$name: $(printf '%s\n' "$out" | sed -n 's/^fuzz: unavailable: //p' | head -1)"
	elif [ "$status" -eq 0 ] && printf '%s\n' "$out" | grep -q "^replay: $n inputs$"; then
		echo "PASS fuzz-replay/$name: $n inputs"
	else
		echo "FAIL fuzz-replay/$name: exit $status"
		printf '%s\n' "$out" | tail -20 | sed 's/^/    /'
		rc=1
	fi
done
exit "$rc"
