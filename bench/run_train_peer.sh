#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_train_peer.sh: qsnn training against the PyTorch peer (bench/peer/mobilenet_kws_torch.py) with the same
# recipe on the same uint8 features: training samples/s per episode (bench_train medians on 1 and 2 threads, and
# the full runs' per-episode averages), per-episode validation/test accuracy, peak memory; prints the ratios.
#   bench/run_train_peer.sh [DATA_DIR] [EPOCHS] [THREADS]
# Defaults: ../shared/data/speech_commands_subset, 32 epochs per episode, 2 threads. Needs /usr/bin/python3 with
# torch (Debian python3-torch) for the peer. Environment: BUILD (default build), OUT (default /tmp/qsnn_train_peer),
# SCHED (cosine), LR_MAX (1e-3), LR_MIN (1e-5): the recipe given to both.
set -eu
DATA=${1:-../shared/data/speech_commands_subset}
EPOCHS=${2:-32}
THREADS=${3:-2}
BUILD=${BUILD:-build}
OUT=${OUT:-/tmp/qsnn_train_peer}
SCHED=${SCHED:-cosine}
LR_MAX=${LR_MAX:-1e-3}
LR_MIN=${LR_MIN:-1e-5}
mkdir -p "$OUT"
echo "== features" >&2
"$BUILD/qsnn" features "$DATA" -o "$OUT/kws.qfeat" --u8 --npy "$OUT/npy" -q > /dev/null
echo "== bench_train (step medians, 1 and 2 threads)" >&2
"$BUILD/bench_train" "$OUT/kws.qfeat" --threads 1,2 --steps 30 | tee "$OUT/bench_train.txt"
echo "== qsnn train ($EPOCHS epochs per episode, $THREADS threads)" >&2
"$BUILD/qsnn" train "$OUT/kws.qfeat" -o "$OUT/qsnn.qsnn" --epochs "$EPOCHS" --threads "$THREADS" --no-checkpoint \
    --schedule "$SCHED" --lr "$LR_MAX,$LR_MIN" \
    --log "$OUT/qsnn_log.json" --json -q > "$OUT/qsnn_train.json"
cat "$OUT/qsnn_train.json"
echo "== PyTorch peer (same recipe: $SCHED $LR_MAX..$LR_MIN, batch 100, same features)" >&2
/usr/bin/python3 bench/peer/mobilenet_kws_torch.py --npy "$OUT/npy" --epochs "$EPOCHS" --threads "$THREADS" \
    --sched "$SCHED" --lr-max "$LR_MAX" --lr-min "$LR_MIN" --json "$OUT/peer_train.json" -q > /dev/null
/usr/bin/python3 - "$OUT/qsnn_train.json" "$OUT/peer_train.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1])); p = json.load(open(sys.argv[2]))
pe = {e["episode"]: e for e in p["episodes"]} if isinstance(p.get("episodes"), list) else {int(k): v for k, v in p["episodes"].items()}
print("episode  qsnn samples/s  peer samples/s  ratio   qsnn val/test      peer val/test")
for e in q["episodes"]:
    k = e["episode"]; r = pe.get(k, {})
    ps = r.get("samples_per_s", float("nan"))
    print("%-8d %-15.0f %-15.0f %-7.2f %.4f/%.4f    %.4f/%.4f" % (k, e["samples_per_s"], ps, e["samples_per_s"] / ps,
          e["best_val_acc"], e["test_acc"], r.get("best_val_acc", float("nan")), r.get("test_acc", float("nan"))))
print("peak memory: qsnn %.1f MB, peer %.1f MB" % (q["peak_rss_mb"], p.get("peak_rss_mb", float("nan"))))
PY
