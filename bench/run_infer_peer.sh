#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_infer_peer.sh: the integer engine (bench_snn) and the PyTorch peer's float inference (bench/peer, --infer)
# on the same model shape, then the ratios.
#
#   bench/run_infer_peer.sh [BUILD_DIR] [MODEL.snn|MODEL.qsnn [bench_snn options]] [ROUNDS]
#
# First one full bench_snn run (every path, sizes, per-layer times) and one full peer run per thread count
# (batched throughput). Then ROUNDS (default 7) interleaved latency rounds: engine on 1 core, engine on 2 cores
# (qsnn_snn_run_mt), peer with 1 thread, peer with 2 threads, one after the other, so that a slow minute of this
# shared machine slows both sides of a round. Printed: every round, then the medians over the rounds of each
# latency and of the per-round ratios, with their range. Speed is never asserted; run it on an idle machine and
# say when it was not (the load average is printed).
#
# Needs /usr/bin/python3 with torch for the peer (see bench/README.md); without it only the engine is measured.
set -eu
build=${1:-build}
model=${2:-}
rounds=${3:-7}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== engine: $build/bench_snn $model"
"$build/bench_snn" $model
peer="$here/peer/mobilenet_kws_torch.py"
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null || [ ! -f "$peer" ]; then
    echo "== PyTorch peer skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch)"
    exit 0
fi
echo "== PyTorch peer: float model, batched throughput (1 thread, then 2)"
/usr/bin/python3 "$peer" --infer --threads 1 --json "$out/peer_b1.json" >/dev/null
/usr/bin/python3 "$peer" --infer --threads 2 --json "$out/peer_b2.json" >/dev/null
"$build/bench_snn" $model --mode dense_cached --json > "$out/snn_b.json"
echo "== $rounds interleaved latency rounds (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
i=1
while [ "$i" -le "$rounds" ]; do
    "$build/bench_snn" $model --mode dense_cached --calls 3000 --json > "$out/snn1_$i.json"
    "$build/bench_snn" $model --mode dense_2t --calls 3000 --json > "$out/snn2_$i.json"
    /usr/bin/python3 "$peer" --infer --threads 1 --calls 400 --infer-batch 100 --min-seconds 0.2 \
        --json "$out/peer1_$i.json" >/dev/null
    /usr/bin/python3 "$peer" --infer --threads 2 --calls 400 --infer-batch 100 --min-seconds 0.2 \
        --json "$out/peer2_$i.json" >/dev/null
    i=$((i + 1))
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
ld = lambda f: json.load(open(d + "/" + f))
rows = []
print("round  engine 1 core  engine 2 cores  PyTorch 1 thread  PyTorch 2 threads  (median us of each run)")
for i in range(1, n + 1):
    e1 = ld("snn1_%d.json" % i)["dense_cached"]["latency_median_us"]
    e2 = ld("snn2_%d.json" % i)["dense_2t"]["latency_median_us"]
    p1 = 1e3 * ld("peer1_%d.json" % i)["latency_median_ms"]
    p2 = 1e3 * ld("peer2_%d.json" % i)["latency_median_ms"]
    rows.append((e1, e2, p1, p2))
    print("%-6d %-14.1f %-15.1f %-17.1f %.1f" % (i, e1, e2, p1, p2))
def span(v):
    return "median %.1f (%.1f-%.1f)" % (statistics.median(v), min(v), max(v))
e1, e2, p1, p2 = ([r[k] for r in rows] for k in range(4))
best = [min(r[2], r[3]) for r in rows]
print("latency, us: engine 1 core %s; engine 2 cores %s" % (span(e1), span(e2)))
print("             PyTorch 1 thread %s; 2 threads %s" % (span(p1), span(p2)))
print("ratio per round (PyTorch / engine), the same round's runs:")
print("  engine 1 core vs PyTorch 1 thread:              %s x" % span([r[2] / r[0] for r in rows]))
print("  engine 2 cores vs PyTorch 2 threads:            %s x" % span([r[3] / r[1] for r in rows]))
print("  engine 2 cores vs PyTorch's faster call:        %s x" % span([b / r[1] for b, r in zip(best, rows)]))
s = ld("snn_b.json")
b1, b2 = ld("peer_b1.json"), ld("peer_b2.json")
c = s["dense_cached"]
print("throughput: engine %.0f clips/s/core vs PyTorch batched %.0f clips/s on 1 thread (%.1fx), %.0f on 2"
      % (c["clips_per_s_per_core"], b1["batched_clips_per_s"], c["clips_per_s_per_core"] / b1["batched_clips_per_s"],
         b2["batched_clips_per_s"]))
m1 = statistics.median(e1)
print("dense MACs %.0f; arithmetic limit on one core: %.1f us at the int16 madd peak (%.1f G/s), %.1f us at the "
      "uint8 x int8 peak (%.1f G/s, the rate of the engine's 8-bit pointwise pass); engine 1 core (median of rounds) "
      "= %.2fx / %.2fx those limits" % (s["dense_macs"], s["limit_us_int16"], s["peak_int16_macs_per_s"] / 1e9,
      s["limit_us_u8"], s["peak_u8_macs_per_s"] / 1e9, m1 / s["limit_us_int16"], m1 / s["limit_us_u8"]))
print("model %d bytes, workspace %d bytes (activations %d), with the weight cache %d bytes"
      % (s["model_bytes"], s["workspace_bytes"], s["activation_bytes"], s["workspace_cached_bytes"]))
PY
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
