#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fuzz.sh: build the libFuzzer targets (fuzz/fuzz_*.c, clang, ASan + UBSan) and run each for a bounded time.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]      default 30
#
# Each target starts from its seed corpus fuzz/corpus/<reader>/ (copied: the repository's seeds stay as they are)
# and runs -max_total_time=SECONDS in one process. Any finding (crash, sanitizer report, leak, timeout, the
# target's own abort on a broken invariant) fails the script: the input is kept in build-fuzz/findings/<reader>/
# and belongs under tests/data as a regression file once fixed. Prints per target: executions, corpus size,
# findings; the totals on the last line (docs/reliability.md quotes them).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
secs=${1:-30}
jobs=$(nproc 2>/dev/null || echo 2)
command -v clang >/dev/null || { echo "fuzz.sh: clang not found (apt-get install clang)" >&2; exit 2; }
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Release -DQSNN_FUZZ=ON -DQSNN_WERROR=ON -DQSNN_NATIVE=OFF \
    >/dev/null
targets=()
for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
cmake --build build-fuzz -j "$jobs" --target "${targets[@]}" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
total_execs=0 total_findings=0
for t in "${targets[@]}"; do
    reader=${t#fuzz_}
    rm -rf "build-fuzz/findings/$reader"
    mkdir -p "$work/$reader" "build-fuzz/findings/$reader"
    [ -d "fuzz/corpus/$reader" ] && cp "fuzz/corpus/$reader"/* "$work/$reader"/ 2>/dev/null || true
    log="build-fuzz/findings/$reader/log.txt"
    status=0
    TMPDIR="$work" ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
        "build-fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/findings/$reader/" "$work/$reader" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    execs=${execs:-0}
    corpus=$(find "$work/$reader" -type f | wc -l)
    findings=$(find "build-fuzz/findings/$reader" -type f ! -name log.txt | wc -l)
    [ "$status" -ne 0 ] && [ "$findings" -eq 0 ] && findings=1
    printf 'fuzz %-12s %4ss %10s executions, corpus %5s, findings %s\n' "$reader" "$secs" "$execs" "$corpus" \
        "$findings"
    if [ "$findings" -ne 0 ]; then
        echo "fuzz.sh: $t found a problem (exit $status): see $log and build-fuzz/findings/$reader/" >&2
        grep -m 20 -E "ERROR|SUMMARY|runtime error|==[0-9]+==" "$log" >&2 || tail -n 20 "$log" >&2
    fi
    total_execs=$((total_execs + execs))
    total_findings=$((total_findings + findings))
done
echo "fuzz: ${#targets[@]} targets x ${secs} s: $total_execs executions, $total_findings findings"
[ "$total_findings" -eq 0 ]
