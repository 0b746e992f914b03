#!/bin/sh
# run_infer_peer.sh: the integer engine (bench_snn) and the PyTorch peer's float inference (bench/peer, --infer)
# in one run, on the same model shape, then the ratios. Medians; the machine has 2 cores shared with whatever
# else runs, so run it on an idle machine and say when it was not.
#
#   bench/run_infer_peer.sh [BUILD_DIR] [MODEL.snn|MODEL.qsnn]
#
# Needs /usr/bin/python3 with torch for the peer (see bench/README.md); without it only the engine is measured.
set -eu
build=${1:-build}
model=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== engine: $build/bench_snn $model"
"$build/bench_snn" $model --json > "$out/snn.json"
"$build/bench_snn" $model
peer="$here/peer/mobilenet_kws_torch.py"
if /usr/bin/python3 -c 'import torch' 2>/dev/null && [ -f "$peer" ]; then
    echo "== PyTorch peer: float model, one thread, then all threads"
    /usr/bin/python3 "$peer" --infer --threads 1 --json "$out/peer1.json" >/dev/null
    /usr/bin/python3 "$peer" --infer --json "$out/peer.json" >/dev/null
    /usr/bin/python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/snn.json"))
p1 = json.load(open(d + "/peer1.json"))
p = json.load(open(d + "/peer.json"))
lat = s["dense_cached"]["latency_median_us"]
lat0 = s["dense"]["latency_median_us"]
print("PyTorch single-clip latency (1 thread): median %.1f us, %d threads: %.1f us"
      % (1e3 * p1["latency_median_ms"], p["threads"], 1e3 * p["latency_median_ms"]))
print("PyTorch batched: %.0f clips/s (1 thread), %.0f clips/s (%d threads)"
      % (p1["batched_clips_per_s"], p["batched_clips_per_s"], p["threads"]))
print("engine single-clip latency (dense, weight cache): median %.1f us -> %.1fx lower than PyTorch 1 thread, "
      "%.1fx than %d threads" % (lat, 1e3 * p1["latency_median_ms"] / lat, 1e3 * p["latency_median_ms"] / lat,
      p["threads"]))
print("engine single-clip latency (dense, minimal 16 KB workspace): median %.1f us -> %.1fx lower than PyTorch 1 thread"
      % (lat0, 1e3 * p1["latency_median_ms"] / lat0))
print("engine clips/s/core %.0f (cached) vs PyTorch batched per core %.0f -> %.1fx"
      % (s["dense_cached"]["clips_per_s_per_core"], p1["batched_clips_per_s"],
         s["dense_cached"]["clips_per_s_per_core"] / p1["batched_clips_per_s"]))
print("dense MACs %.0f; arithmetic limit %.1f us (int16 madd peak %.1f G/s), %.1f us (f32 FMA peak %.1f G/s)"
      % (s["dense_macs"], s["limit_us_int16"], s["peak_int16_macs_per_s"] / 1e9, s["limit_us_f32"],
         s["peak_f32_fma_per_s"] / 1e9))
print("engine latency / limit: %.2fx (int16), %.2fx (f32)" % (lat / s["limit_us_int16"], lat / s["limit_us_f32"]))
if "dense_2t" in s:
    lat2 = s["dense_2t"]["latency_median_us"]
    best = min(p1["latency_median_ms"], p["latency_median_ms"]) * 1e3
    print("engine single-clip latency on 2 cores (qsnn_snn_run_mt, weight cache): median %.1f us -> %.1fx lower than "
          "PyTorch's faster single-clip call (%.1f us)" % (lat2, best / lat2, best))
print("model %d bytes, workspace %d bytes (activations %d), with the weight cache %d bytes"
      % (s["model_bytes"], s["workspace_bytes"], s["activation_bytes"], s["workspace_cached_bytes"]))
PY
else
    echo "== PyTorch peer skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch)"
fi
