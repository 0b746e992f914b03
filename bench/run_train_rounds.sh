#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_train_rounds.sh: training speed of qsnn against the PyTorch peer, alternated round by round so that a slow
# minute of this shared machine slows both sides of a round: ROUNDS x (bench_train, 30 timed steps on THREADS
# threads; the peer, 2 epochs on THREADS threads, same features), then per episode the medians and ranges of both
# and of the per-round ratios.
#
#   bench/run_train_rounds.sh FEATURES.qfeat NPY_DIR [ROUNDS] [THREADS]
#
# FEATURES and NPY_DIR from `qsnn features DATA -o FEATURES.qfeat --u8 --npy NPY_DIR`. Defaults: 6 rounds, 2 threads.
# Environment: BUILD (default build). Needs /usr/bin/python3 with torch (Debian python3-torch).
set -eu
feats=${1:?FEATURES.qfeat}
npy=${2:?NPY_DIR}
rounds=${3:-6}
threads=${4:-2}
BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== $rounds rounds (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
i=1
while [ "$i" -le "$rounds" ]; do
    "$BUILD/bench_train" "$feats" --threads "$threads" --steps 30 2>/dev/null | tail -n 1 > "$out/q_$i.json"
    /usr/bin/python3 "$here/peer/mobilenet_kws_torch.py" --npy "$npy" --epochs 2 --threads "$threads" --sched cosine \
        --lr-max 1e-3 --lr-min 1e-5 --json "$out/p_$i.json" -q > /dev/null 2>&1
    i=$((i + 1))
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics as st, sys
d, n = sys.argv[1], int(sys.argv[2])
q, p, r = ({1: [], 2: [], 3: []} for _ in range(3))
for i in range(1, n + 1):
    a = json.load(open("%s/q_%d.json" % (d, i)))
    e = json.load(open("%s/p_%d.json" % (d, i)))["episodes"]
    pe = {x["episode"]: x for x in e} if isinstance(e, list) else {int(k): v for k, v in e.items()}
    for x in a["results"]:
        k = x["episode"]
        q[k].append(x["samples_per_s"]); p[k].append(pe[k]["samples_per_s"]); r[k].append(q[k][-1] / p[k][-1])
print("samples/s per episode, medians (ranges) over %d alternated rounds" % n)
for k in (1, 2, 3):
    print("episode %d: qsnn %.0f (%.0f-%.0f)  peer %.0f (%.0f-%.0f)  per-round ratio %.2fx (%.2f-%.2f)" % (
        k, st.median(q[k]), min(q[k]), max(q[k]), st.median(p[k]), min(p[k]), max(p[k]),
        st.median(r[k]), min(r[k]), max(r[k])))
PY
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
