#!/bin/sh
# run_qemu.sh: build examples/mcu for a Cortex-M4 (Arm MPS2 AN386) and run it in QEMU: the exported model and a
# test vector through the integer engine on the target, compared with the host's potentials.
#
#   examples/mcu/run_qemu.sh [BUILD_DIR] [MODEL.snn|MODEL.qsnn] [CLIP.wav]
#
# BUILD_DIR holds the host `qsnn` (default build); the model defaults to models/mobilenet_kws_pretrained.qsnn
# (converted here), the clip to a synthetic "yes" (qsnn synth). Prints the firmware's flash and RAM footprint
# (arm-none-eabi-size) and what the target printed; exits with the target's status: 0 when every potential equals
# the host's. Needs the Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm
# (scripts/bootstrap.sh test installs them). Environment: CPU_FLAGS (default Cortex-M4 with its FPU), OPT (-O2).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
model=${2:-$root/models/mobilenet_kws_pretrained.qsnn}
clip=${3:-}
qsnn="$build/qsnn"
CPU_FLAGS=${CPU_FLAGS:--mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16}
OPT=${OPT:--O2}
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
if [ -z "$clip" ]; then
    "$qsnn" synth -o "$out/synth" --words yes --keywords yes --per-word 1 --unknown-per-word 0 --voices 1 \
        --noise-seconds 0 -q >/dev/null
    clip=$(find "$out/synth/yes" -name '*.wav' | head -n 1)
fi
"$qsnn" export "$out/kws.snn" -o "$out/kws_model.h" --input "$clip" 2>/dev/null
# the engine: src/snn without its file functions (snn_file.c writes files), with status.c and crc32.c of src/core
engine=$(ls "$root"/src/snn/*.c | grep -v '/snn_file\.c$')
arm-none-eabi-gcc -std=c11 $OPT $CPU_FLAGS -Wall -Wextra -Werror -ffunction-sections -fdata-sections \
    -I"$root/include" -I"$root/src" -I"$out" -nostartfiles --specs=nosys.specs -Wl,--gc-sections -T "$here/mps2_an386.ld" \
    "$here/main.c" "$here/startup_m4.c" $engine "$root/src/core/status.c" "$root/src/core/crc32.c" -lm -o "$out/kws.elf"
echo "== firmware: engine + model + test vector, $CPU_FLAGS $OPT (bytes; flash = text + data, RAM = data + bss)"
arm-none-eabi-size "$out/kws.elf" | awk 'NR == 1 {print} NR == 2 {print; printf "flash %d, RAM %d\n", $1 + $2, $2 + $3}'
echo "== QEMU mps2-an386 (Cortex-M4) running $(basename "$clip")"
status=0
timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$out/kws.elf" || status=$?
exit $status
