#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_distill_rounds.sh: what a teacher costs `qsnn train`: ROUNDS x (EPOCHS epochs of episode 1 without a teacher,
# the same with --teacher TEACHER), alternated round by round so a slow minute of a shared machine slows both
# sides; per epoch the whole wall time counts (augmentation, the teacher's front end and forward passes, the
# steps, BN re-estimation, validation). Prints the median training samples/s of both and their ratio.
#
#   bench/run_distill_rounds.sh DATA_DIR TEACHER.qsnn [ROUNDS] [THREADS] [EPOCHS]
#
# Defaults: 3 rounds, 2 threads, 4 epochs. Environment: BUILD (default build).
set -eu
data=${1:?DATA_DIR}
teacher=${2:?TEACHER.qsnn}
rounds=${3:-3}
threads=${4:-2}
epochs=${5:-4}
BUILD=${BUILD:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== $rounds rounds of $epochs epochs on $threads threads (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
i=1
while [ "$i" -le "$rounds" ]; do
    "$BUILD/qsnn" train "$data" -o "$out/m.qsnn" --episodes 1 --epochs "$epochs" --threads "$threads" \
        --no-checkpoint --test-split none --log "$out/plain_$i.json" > /dev/null 2> "$out/plain_$i.err"
    "$BUILD/qsnn" train "$data" -o "$out/m.qsnn" --episodes 1 --epochs "$epochs" --threads "$threads" \
        --no-checkpoint --test-split none --log "$out/kd_$i.json" --teacher "$teacher" > /dev/null 2> "$out/kd_$i.err"
    i=$((i + 1))
done
/usr/bin/python3 - "$out" "$rounds" "$data" <<'PY'
import json, statistics as st, sys
d, n = sys.argv[1], int(sys.argv[2])
plain, kd = [], []
for i in range(1, n + 1):
    for name, acc in (("plain", plain), ("kd", kd)):
        ep = json.load(open(f"{d}/{name}_{i}.json"))["epochs"]
        head = open(f"{d}/{name}_{i}.err").read().split(" training / ")[0]
        ntrain = int(head.split()[-1])  # "qsnn train: ARCH, N training / ..."
        acc.append(st.median(ntrain / e["seconds"] for e in ep))
mp, mk = st.median(plain), st.median(kd)
print(f"without teacher: {mp:.0f} samples/s (rounds {', '.join(f'{x:.0f}' for x in plain)})")
print(f"with teacher:    {mk:.0f} samples/s (rounds {', '.join(f'{x:.0f}' for x in kd)})")
print(f"ratio with/without: {mk / mp:.2f}")
PY
