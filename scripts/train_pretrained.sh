#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# train_pretrained.sh: reproduces models/mobilenet_kws_pretrained.qsnn, the pretrained MobileNet-KWS that
# `qsnn tutorial` loads by default (docs/pretrained.md).
#
#   1. builds qsnn (Release) into build/ if build/qsnn is missing;
#   2. imports the teacher shipped in the repository, the MLPerf Tiny reference DS-CNN
#      (models/teachers/mlperf_tiny_kws, Apache-2.0, trained on Speech Commands v2, CC BY 4.0), with its own
#      front end (tf-signal) and label order;
#   3. trains the three episodes with qsnn train's default recipe (budget in optimizer steps: 120 / 60 / 60 epochs
#      on the 2,994 training clips of the development subset, fewer epochs of a larger dataset; batch-norm
#      re-estimation; 12 augmented sets) distilled from the teacher (0.1 x CE + 0.9 x 2^2 x KL, T = 2), seed 1,
#      on 2 threads (deterministic for a given build and thread count); writes the model, its log and its curves
#      under models/ (models/mobilenet_kws_pretrained.{qsnn,log.json,png});
#   4. evaluates the model on the validation and test splits (and on ../shared/data/speech_commands_test_subset
#      when it is there). The shipped model: 88.39 %, 89.63 %, 89.37 % (docs/pretrained.md).
#
# Usage: scripts/train_pretrained.sh [DATA_DIR]
#   DATA_DIR: a Speech Commands directory (default ../shared/data/speech_commands_subset next to the repository;
#   the full dataset, e.g. speech_commands_v0.02, works unchanged: the budget adapts to its size).
# Environment: QSNN_THREADS (default 2, the thread count the shipped model was trained with).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
data="${1:-${QSNN_DATA:-$root/../shared/data/speech_commands_subset}}"
threads="${QSNN_THREADS:-2}"
seed="1"
tflite=models/teachers/mlperf_tiny_kws/kws_ref_model_float32.tflite
labels=down,go,left,no,off,on,right,stop,up,yes,_silence_,_unknown_

if [ ! -d "$data" ]; then
    echo "train_pretrained.sh: $data: no such directory (give the Speech Commands directory)" >&2
    exit 1
fi
if [ ! -x build/qsnn ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
    cmake --build build -j"$(nproc)"
fi

teacher=build/teacher_mlperf_tiny_kws.qsnn
echo "== qsnn import $tflite --frontend tf-signal --labels $labels -o $teacher" >&2
build/qsnn import "$tflite" --frontend tf-signal --labels "$labels" -o "$teacher"

mkdir -p models
out=models/mobilenet_kws_pretrained.qsnn
echo "== qsnn train $data -o $out --teacher $teacher --seed $seed --threads $threads" >&2
start=$(date +%s)
build/qsnn train "$data" -o "$out" --teacher "$teacher" --seed "$seed" --threads "$threads" \
    --no-checkpoint --log models/mobilenet_kws_pretrained.log.json
end=$(date +%s)
echo "== trained in $((end - start)) s" >&2
# the per-episode models are intermediate results, not shipped: their test accuracy (the README's per-episode rows)
for e in 1 2; do
    echo "== episode $e model on the test split" >&2
    build/qsnn eval "${out%.qsnn}.ep$e.qsnn" "$data" --split test | grep -i '^accuracy' || true
done
rm -f "${out%.qsnn}".ep1.qsnn "${out%.qsnn}".ep2.qsnn "${out%.qsnn}".ep3.qsnn
build/bench_curves models/mobilenet_kws_pretrained.png "mobilenet_kws_pretrained=models/mobilenet_kws_pretrained.log.json" \
    2>/dev/null || true

echo "== quantized model on the validation split" >&2
build/qsnn eval "$out" "$data" --split validation
echo "== quantized model on the test split" >&2
build/qsnn eval "$out" "$data" --split test
subset="$(dirname "$data")/speech_commands_test_subset"
if [ -d "$subset" ]; then
    echo "== quantized model on $subset" >&2
    build/qsnn eval "$out" "$subset"
fi
