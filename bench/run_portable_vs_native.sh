#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_portable_vs_native.sh: is the portable build (the default: AVX2 kernels chosen at run time, qsnn/simd.h) as
# fast as a -march=native build on this machine? Builds both (Release), then ROUNDS alternated rounds (the order
# flips every round, so that a slow minute of a shared machine slows both sides of a round) of
#   bench_train FEATURES --steps STEPS --threads 1   training samples/s per episode
#   bench_snn MODEL --mode dense_cached               engine latency per clip (median of --calls single calls)
# and prints per build the medians over the rounds, and the median (and range) of the per-round ratios
# portable / native (samples/s: above 1 = portable faster; latency: below 1 = portable faster).
#
#   bench/run_portable_vs_native.sh [FEATURES] [ROUNDS] [STEPS]
#
# FEATURES: a feature file (`qsnn features DATA -o F --u8`; default: bench_train's synthetic data). Defaults:
# 5 rounds, 20 steps. Environment: PORTABLE (default build-portable), NATIVE (default build-native): the build
# folders; MODEL (default models/mobilenet_kws_pretrained.qsnn); SKIP_BUILD=1 uses the folders as they are;
# QSNN_FORCE_SCALAR=1 would time the portable build's scalar path instead (not the comparison this is for).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
feats=${1:-}
rounds=${2:-5}
steps=${3:-20}
PORTABLE=${PORTABLE:-build-portable}
NATIVE=${NATIVE:-build-native}
MODEL=${MODEL:-models/mobilenet_kws_pretrained.qsnn}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cmake -S . -B "$PORTABLE" -DCMAKE_BUILD_TYPE=Release -DQSNN_NATIVE=OFF > /dev/null
    cmake -S . -B "$NATIVE" -DCMAKE_BUILD_TYPE=Release -DQSNN_NATIVE=ON > /dev/null
    cmake --build "$PORTABLE" -j 2 --target bench_train bench_snn > /dev/null
    cmake --build "$NATIVE" -j 2 --target bench_train bench_snn > /dev/null
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== $rounds rounds, $steps steps (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
i=1
while [ "$i" -le "$rounds" ]; do
    if [ $((i % 2)) -eq 1 ]; then order="p n"; else order="n p"; fi
    for side in $order; do
        if [ "$side" = p ]; then b=$PORTABLE; else b=$NATIVE; fi
        # shellcheck disable=SC2086 # $feats: empty or one path
        "$b/bench_train" $feats --steps "$steps" --threads 1 2>/dev/null | tail -n 1 > "$out/train_${side}_$i.json"
        "$b/bench_snn" "$MODEL" --mode dense_cached --calls 400 --clips 400 --json 2>/dev/null > "$out/snn_${side}_$i.json"
    done
    i=$((i + 1))
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics as st, sys
d, n = sys.argv[1], int(sys.argv[2])
def load(kind, side, i):
    return json.load(open("%s/%s_%s_%d.json" % (d, kind, side, i)))
rows = {}
for i in range(1, n + 1):
    for side in "pn":
        for x in load("train", side, i)["results"]:
            rows.setdefault("training samples/s, episode %d" % x["episode"], {"p": [], "n": []})[side].append(
                x["samples_per_s"])
        rows.setdefault("engine latency us/clip (dense_cached)", {"p": [], "n": []})[side].append(
            load("snn", side, i)["dense_cached"]["latency_median_us"])
print("%-40s %10s %10s   %s" % ("median over %d rounds" % n, "portable", "native", "per-round ratio portable/native"))
for k, v in rows.items():
    r = [a / b for a, b in zip(v["p"], v["n"])]
    print("%-40s %10.1f %10.1f   %.3f (%.3f-%.3f)" % (k, st.median(v["p"]), st.median(v["n"]), st.median(r), min(r),
                                                    max(r)))
PY
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
