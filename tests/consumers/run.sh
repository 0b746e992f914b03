#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh: install a built qsnn to a temporary prefix and build two out-of-tree consumers against it (ctest
# `consumers`, issue 15):
#
#   bash tests/consumers/run.sh SOURCE_DIR BUILD_DIR
#
#   1. cmake --install BUILD_DIR --prefix TMP/full; the installed bin/qsnn has no path of the build or source tree
#      in it (Release builds), finds its shipped model under TMP/full/share/qsnn (from anywhere), converts it and exports it as a
#      header with a test vector (a clip of tests/data);
#   2. C, pkg-config: c_pkgconfig/classify.c against `pkg-config --cflags --libs qsnn` loads the .snn, computes
#      the clip's features with libqsnn and classifies them with the engine;
#   3. C++, find_package: cxx_cmake/ includes the exported header and runs the engine (qsnn::snn; its potentials
#      must equal the exporting host's), and links the whole library (qsnn::qsnn);
#   4. engine only: the same sources configured with -DQSNN_ENGINE_ONLY=ON and pkg-config disabled (nothing but
#      a C compiler), installed to TMP/engine, and the C++ header consumer built against that.
#   Both consumers print "class LABEL potentials ..." for the same clip: the lines must be equal.
# QSNN_CONSUMER_FLAGS: extra compile and link flags (the sanitizers of an ASan build); QSNN_CONSUMER_CHECK_PATHS=0
# skips the check for tree paths in bin/qsnn (sanitizer and assert-enabled builds name their source files).
# Exit 0, or 1 naming the step.
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
flags=${QSNN_CONSUMER_FLAGS:-}
here="$src/tests/consumers"
tmp=$(mktemp -d /tmp/qsnn_consumers_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "consumers: $*" >&2; exit 1; }
step() { echo "consumers: $*" >&2; }
clip="$src/tests/data/mfcc_tone1k.wav"

step "1. install to $tmp/full"
cmake --install "$build" --prefix "$tmp/full" >"$tmp/install.log" || { cat "$tmp/install.log" >&2; fail "install"; }
qsnn="$tmp/full/bin/qsnn"
[ -x "$qsnn" ] || fail "no bin/qsnn installed"
for f in include/qsnn/snn.h include/qsnn/version.h share/qsnn/models/mobilenet_kws_pretrained.qsnn \
         share/qsnn/models/mobilenet_kws.json share/doc/qsnn/LICENSE share/doc/qsnn/NOTICE; do
    [ -f "$tmp/full/$f" ] || fail "not installed: $f"
done
pcdir=$(dirname "$(find "$tmp/full" -name qsnn.pc | head -1)")
[ -f "$pcdir/qsnn-snn.pc" ] || fail "no qsnn.pc / qsnn-snn.pc installed"
if [ "${QSNN_CONSUMER_CHECK_PATHS:-1}" = 1 ] && grep -aqF -e "$src" -e "$build" "$qsnn"; then
    fail "bin/qsnn contains a path of the source or build tree: $(grep -aoF -e "$src" -e "$build" "$qsnn" | head -1)"
fi
[ "$("$qsnn" --version)" = "qsnn $(sed -n 's/^#define QSNN_VERSION_STRING "\(.*\)"$/\1/p' \
    "$tmp/full/include/qsnn/version.h")" ] || fail "qsnn --version differs from the installed version.h"
# the installed binary finds its shipped model from any folder: the tutorial gets past the model to the data
mkdir -p "$tmp/empty"
(cd / && "$qsnn" tutorial --data "$tmp/empty" --out "$tmp/tut" >"$tmp/tut.out" 2>"$tmp/tut.err") && \
    fail "tutorial on an empty folder succeeded"
grep -q "shipped files\|pretrained model" "$tmp/tut.err" && fail "installed qsnn did not find its model: $(cat "$tmp/tut.err")"
grep -q "Keras\|Model: \"mobilenet_kws\"\|$tmp/empty" "$tmp/tut.out" "$tmp/tut.err" || \
    fail "tutorial failed elsewhere: $(cat "$tmp/tut.err")"
"$qsnn" convert "$tmp/full/share/qsnn/models/mobilenet_kws_pretrained.qsnn" -o "$tmp/kws.snn" >/dev/null
"$qsnn" export "$tmp/kws.snn" -o "$tmp/kws_model.h" --input "$clip" 2>/dev/null

step "2. C consumer through pkg-config"
export PKG_CONFIG_PATH="$pcdir"
# shellcheck disable=SC2046,SC2086 # pkg-config's flags are words
# (the rpath finds a shared libqsnn where it was installed)
cc -std=c11 -Wall -Wextra -Wpedantic -Werror $flags "$here/c_pkgconfig/classify.c" -o "$tmp/classify" \
    $(pkg-config --cflags --libs qsnn) -Wl,-rpath,"$(pkg-config --variable=libdir qsnn)" || \
    fail "C consumer: build with pkg-config qsnn"
c_line=$("$tmp/classify" "$tmp/kws.snn" "$clip") || fail "C consumer: run"
step "   $c_line"

step "3. C++ consumer through find_package(qsnn)"
cmake -S "$here/cxx_cmake" -B "$tmp/cxx" -DCMAKE_PREFIX_PATH="$tmp/full" -DKWS_HEADER_DIR="$tmp" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$tmp/cxx.log" 2>&1 || \
    { cat "$tmp/cxx.log" >&2; fail "C++ consumer: configure"; }
cmake --build "$tmp/cxx" >>"$tmp/cxx.log" 2>&1 || { cat "$tmp/cxx.log" >&2; fail "C++ consumer: build"; }
cxx_line=$("$tmp/cxx/run_header") || fail "C++ consumer: run_header"
"$tmp/cxx/version_check" >/dev/null || fail "C++ consumer: version_check (qsnn::qsnn)"
[ "$c_line" = "$cxx_line" ] || fail "the C consumer says '$c_line', the C++ one '$cxx_line'"

step "4. engine only (-DQSNN_ENGINE_ONLY=ON, no pkg-config), and the C++ header consumer on it"
cmake -S "$src" -B "$tmp/engine-build" -DCMAKE_BUILD_TYPE=Release -DQSNN_ENGINE_ONLY=ON -DQSNN_WERROR=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    >"$tmp/engine.log" 2>&1 || { cat "$tmp/engine.log" >&2; fail "engine only: configure"; }
cmake --build "$tmp/engine-build" -j2 >>"$tmp/engine.log" 2>&1 || { cat "$tmp/engine.log" >&2; fail "engine only: build"; }
cmake --install "$tmp/engine-build" --prefix "$tmp/engine" >>"$tmp/engine.log" 2>&1 || fail "engine only: install"
[ ! -e "$tmp/engine/bin/qsnn" ] && [ ! -e "$tmp/engine/include/qsnn/audio.h" ] || fail "engine only installed more"
cmake -S "$here/cxx_cmake" -B "$tmp/cxx-engine" -DCMAKE_PREFIX_PATH="$tmp/engine" -DKWS_HEADER_DIR="$tmp" \
    -DWITH_LIBQSNN=OFF -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >>"$tmp/engine.log" 2>&1 || \
    { cat "$tmp/engine.log" >&2; fail "engine only: C++ consumer configure"; }
cmake --build "$tmp/cxx-engine" >>"$tmp/engine.log" 2>&1 || { cat "$tmp/engine.log" >&2; fail "engine only: C++ build"; }
eng_line=$("$tmp/cxx-engine/run_header") || fail "engine only: run_header"
[ "$eng_line" = "$c_line" ] || fail "engine-only consumer says '$eng_line', the C one '$c_line'"
# and the engine's pkg-config file alone, from C
PKG_CONFIG_PATH=$(dirname "$(find "$tmp/engine" -name qsnn-snn.pc | head -1)")
export PKG_CONFIG_PATH
printf '#include "qsnn/snn.h"\n#include "qsnn/version.h"\n#include <stdio.h>\n#include <stdlib.h>\n'\
'int main(int c, char **v)\n{\n    qsnn_snn_model m;\n    unsigned char *img;\n'\
'    if (c != 2 || qsnn_snn_load(v[1], &m, &img) != QSNN_OK)\n        return 1;\n'\
'    printf("%%d %%s\\n", m.num_classes, qsnn_version());\n    free(img);\n    return 0;\n}\n' >"$tmp/load.c"
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Wextra -Werror $flags "$tmp/load.c" -o "$tmp/load" $(pkg-config --cflags --libs qsnn-snn) \
    -Wl,-rpath,"$(pkg-config --variable=libdir qsnn-snn)" || \
    fail "engine only: C through pkg-config qsnn-snn"
"$tmp/load" "$tmp/kws.snn" >/dev/null || fail "engine only: qsnn_snn_load from libqsnn_snn"
step "ok: $c_line"
