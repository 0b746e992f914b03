#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_qemu.sh: build examples/mcu for a Cortex-M4 (Arm MPS2 AN386) and run it in QEMU: PCM audio through the
# device's front end (src/audio/mfcc_device.c) and the integer engine on the target, window by window, compared with
# what the host computes from the same samples.
#
#   examples/mcu/run_qemu.sh [BUILD_DIR] [MODEL.snn|MODEL.qsnn] [AUDIO...]
#
# BUILD_DIR holds the host `qsnn` (default build); the model defaults to models/mobilenet_kws_pretrained.qsnn
# (converted here); the audio files (joined, at most PCM_SECONDS, default 4) default to three synthetic words
# "yes", "no", "left" (qsnn synth). `qsnn export --pcm` writes the samples and the host's uint8 features,
# potentials and classes (and --input the first file's test vector for the engine alone). Prints the firmware's
# flash and RAM footprint (arm-none-eabi-size) and what the target printed, including instructions per frame and
# per window counted under QEMU's -icount shift=0, then compares every window and detection line the target printed
# with the host's `qsnn stream --device --all` on the same samples, in order; exits with the target's status (0 when
# every float MFCC, uint8 feature, potential and class equals the host's), or 3 when only those lines differ.
# Needs the Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm (scripts/bootstrap.sh
# test installs them). Environment: CPU_FLAGS (default Cortex-M4 with its FPU), OPT (-O2), PCM_SECONDS (4),
# HOP_MS (100), MAIN (the program instead of main.c, e.g. tests/target/snn_limits.c; built with -DSNN_LIMITS_MAIN;
# no comparison with qsnn stream then).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
model=${2:-$root/models/mobilenet_kws_pretrained.qsnn}
[ $# -ge 2 ] && shift 2 || shift $#
qsnn="$build/qsnn"
CPU_FLAGS=${CPU_FLAGS:--mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16}
OPT=${OPT:--O2}
PCM_SECONDS=${PCM_SECONDS:-4}
HOP_MS=${HOP_MS:-100}
for tool in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run_qemu.sh: $tool not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)" >&2
        exit 77
    fi
done
[ -x "$qsnn" ] || { echo "run_qemu.sh: $qsnn not found: build qsnn first (cmake --build $build)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
case "$model" in
*.snn) cp "$model" "$out/kws.snn" ;;
*) "$qsnn" convert "$model" -o "$out/kws.snn" >/dev/null ;;
esac
if [ $# -eq 0 ]; then
    if ! "$qsnn" synth --help >/dev/null 2>&1; then
        echo "run_qemu.sh: this qsnn has no \`qsnn synth\` (-DQSNN_SYNTH=OFF): give the AUDIO files" >&2
        exit 77
    fi
    "$qsnn" synth -o "$out/synth" --words yes,no,left --keywords yes,no,left --per-word 1 --unknown-per-word 0 \
        --voices 1 --noise-seconds 0 -j 1 -q >/dev/null
    set -- "$out"/synth/yes/*.wav "$out"/synth/no/*.wav "$out"/synth/left/*.wav
fi
pcm=
for a in "$@"; do pcm="$pcm --pcm $a"; done
# shellcheck disable=SC2086 # word splitting of $pcm is intended (paths without blanks)
"$qsnn" export "$out/kws.snn" -o "$out/kws_model.h" --input "$1" $pcm --pcm-seconds "$PCM_SECONDS" \
    --hop-ms "$HOP_MS" --pcm-wav "$out/pcm.wav" 2>&1 | sed -n 's/^qsnn export: PCM/host: PCM/p'
[ -s "$out/kws_model.h" ] || { echo "run_qemu.sh: qsnn export failed" >&2; exit 1; }
# the engine: src/snn without its file functions (snn_file.c writes files, snn_load.c reads them), with status.c and
# crc32.c of src/core;
# the front end: src/audio/mfcc_device.c. -ffp-contract=off -fno-tree-vectorize: the front end's bits must not depend
# on fused multiply-adds (include/qsnn/mfcc_device.h; CMakeLists.txt builds the host's copy the same way)
engine=$(ls "$root"/src/snn/*.c | grep -v -e '/snn_file\.c$' -e '/snn_load\.c$')
# shellcheck disable=SC2086 # $engine is a list of paths
arm-none-eabi-gcc -std=c11 $OPT $CPU_FLAGS -ffp-contract=off -fno-tree-vectorize -Wall -Wextra -Werror \
    -ffunction-sections -fdata-sections -I"$root/include" -I"$root/src" -I"$out" -nostartfiles --specs=nosys.specs \
    -Wl,--gc-sections -T "$here/mps2_an386.ld" -DSNN_LIMITS_MAIN "${MAIN:-$here/main.c}" "$here/startup_m4.c" $engine \
    "$root/src/core/status.c" "$root/src/core/crc32.c" "$root/src/audio/mfcc_device.c" "$root/src/kws/detect.c" \
    -lm -o "$out/kws.elf"
echo "== firmware: front end + engine + model + test vectors, $CPU_FLAGS $OPT (bytes; flash = text + data, RAM = data + bss)"
arm-none-eabi-size "$out/kws.elf" | awk 'NR == 1 {print} NR == 2 {print; printf "flash %d, RAM %d\n", $1 + $2, $2 + $3}'
printf "== QEMU mps2-an386 (Cortex-M4, -icount shift=0) running"; for a in "$@"; do printf " %s" "$(basename "$a")"; done; echo
status=0
timeout 300 qemu-system-arm -M mps2-an386 -icount shift=0 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$out/kws.elf" >"$out/target.txt" 2>&1 || status=$?
cat "$out/target.txt"
# the host's own streaming command on the same samples with the device's front end (--device: the firmware's MFCC
# bits, so the comparison is exact, not subject to qsnn_mfcc's float rounding; no energy gate, as the firmware):
# every window line and every detection line ("   T s  LABEL  score S (...)") against the firmware's, in order
[ -z "${MAIN:-}" ] || exit $status
"$qsnn" stream "$out/kws.snn" "$out/pcm.wav" --device --all --gate-db off --hop-ms "$HOP_MS" 2>/dev/null \
    >"$out/host_all.txt" || true
for f in host_all target; do
    grep -E '^window' "$out/$f.txt" >"$out/$f.win" || true
    grep -E '^ *[0-9]+\.[0-9]+ s  ' "$out/$f.txt" >"$out/$f.det" || true
done
nwin=$(wc -l <"$out/host_all.win" | tr -d ' ')
ndet=$(wc -l <"$out/host_all.det" | tr -d ' ')
fwin=$(wc -l <"$out/target.win" | tr -d ' ')
fdet=$(wc -l <"$out/target.det" | tr -d ' ')
if [ "$nwin" -gt 0 ] && cmp -s "$out/target.win" "$out/host_all.win" && cmp -s "$out/target.det" "$out/host_all.det"
then
    echo "host: qsnn stream --device --all on the same audio: $nwin windows and $ndet detections," \
        "every line equal to the firmware's, in order"
else
    echo "host: qsnn stream --device --all on the same audio ($nwin windows, $ndet detections;" \
        "firmware $fwin and $fdet): lines DIFFER from the firmware's:"
    diff "$out/target.win" "$out/host_all.win" || true
    diff "$out/target.det" "$out/host_all.det" || true
    [ "$status" -ne 0 ] || status=3
fi
exit $status
