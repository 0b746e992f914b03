#!/usr/bin/env bash
# train_pretrained.sh: reproduces models/mobilenet_kws_pretrained.qsnn, the pretrained MobileNet-KWS that
# `qsnn tutorial` loads by default (docs/pretrained.md).
#
#   1. builds qsnn (Release) into build/ if build/qsnn is missing;
#   2. makes the synthetic Speech Commands set with `qsnn synth` and the options `qsnn tutorial` uses for its cached
#      default data (default sizes, seed 1, plus the real background noise of ../shared/data when present), so the
#      tutorial's default test voices are exactly the synthetic test split this model never trained on;
#   3. trains the three episodes on the real training split of ../shared/data/speech_commands_subset plus the
#      synthetic training split (`--extra-data`), seed fixed; best epoch of each episode by validation accuracy
#      (real + synthetic validation voices); writes the model, its log JSON and curves PNG under models/.
#
# Usage: scripts/train_pretrained.sh [SYNTH_DIR]     (default SYNTH_DIR: build/pretrain-synth)
# Environment: QSNN_DATA (default ../shared/data/speech_commands_subset next to the repository),
#              QSNN_THREADS (default: all cores).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
data="${QSNN_DATA:-$root/../shared/data/speech_commands_subset}"
synth="${1:-$root/build/pretrain-synth}"
noise="$data/_background_noise_"
threads=()
[ -n "${QSNN_THREADS:-}" ] && threads=(--threads "$QSNN_THREADS")

# The recipe (chosen by validation accuracy, docs/pretrained.md): the default three episodes and schedule.
epochs="32"
seed="1"

if [ ! -d "$data" ]; then
    echo "train_pretrained.sh: $data: no such directory (set QSNN_DATA)" >&2
    exit 1
fi
if [ ! -x build/qsnn ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
    cmake --build build -j"$(nproc)"
fi

synth_opts=(-o "$synth")
[ -d "$noise" ] && synth_opts+=(--noise "$noise")
echo "== qsnn synth ${synth_opts[*]}" >&2
build/qsnn synth "${synth_opts[@]}"

mkdir -p models
out=models/mobilenet_kws_pretrained.qsnn
echo "== qsnn train $data --extra-data $synth -o $out --epochs $epochs --seed $seed" >&2
start=$(date +%s)
build/qsnn train "$data" --extra-data "$synth" -o "$out" --epochs "$epochs" --seed "$seed" "${threads[@]}" \
    --no-checkpoint --log models/mobilenet_kws_pretrained.log.json --plot models/mobilenet_kws_pretrained.png
end=$(date +%s)
echo "== trained in $((end - start)) s" >&2
# the per-episode models are intermediate results, not shipped
rm -f "${out%.qsnn}".ep1.qsnn "${out%.qsnn}".ep2.qsnn "${out%.qsnn}".ep3.qsnn

echo "== quantized model on the real test split" >&2
build/qsnn eval "$out" "$data" --split test
