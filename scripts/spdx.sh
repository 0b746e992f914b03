#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# spdx.sh: the licence line of every source file of qsnn (LICENSE, NOTICE).
#
#   bash scripts/spdx.sh --check [ROOT]   list every source file without the line; exit 1 if there is one
#   bash scripts/spdx.sh --add [ROOT]     add the line where it is missing (first line, or after a #! line)
#   bash scripts/spdx.sh --self-test      --check fails on a file without it and passes once --add ran (ctest)
#
# Source files: *.c *.h *.cpp *.hpp *.sh *.py *.ld *.cmake *.in, CMakeLists.txt and .ci/run, under ROOT (default:
# the repository), outside build*/, .git/ and fuzz/corpus/. The line must be among a file's first 3 lines:
#   /* SPDX-License-Identifier: Apache-2.0 */   C, C++, headers, linker scripts
#   # SPDX-License-Identifier: Apache-2.0       shell, Python, CMake (after the #! line when there is one)
set -euo pipefail
tag="SPDX-License-Identifier: Apache-2.0"

list_sources() { # ROOT: one path per line, sorted
    (cd "$1" && find . \( -path './build*' -o -path './.git' -o -path './fuzz/corpus' \) -prune -o -type f \
        \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' -o -name '*.sh' -o -name '*.py' \
        -o -name '*.ld' -o -name '*.cmake' -o -name '*.in' -o -name CMakeLists.txt -o -path './.ci/run' \) \
        -print | sed 's|^\./||' | LC_ALL=C sort)
}

has_tag() { head -n 3 "$1" | grep -qF "$tag"; }

add_tag() { # FILE
    local f=$1 line tmp
    case "$f" in
        *.c | *.h | *.cpp | *.hpp | *.ld) line="/* $tag */" ;;
        *) line="# $tag" ;;
    esac
    tmp="$f.spdx.tmp"
    if head -n 1 "$f" | grep -q '^#!'; then
        { head -n 1 "$f"; printf '%s\n' "$line"; tail -n +2 "$f"; } >"$tmp"
    else
        { printf '%s\n' "$line"; cat "$f"; } >"$tmp"
    fi
    chmod --reference="$f" "$tmp"
    mv "$tmp" "$f"
}

check() { # ROOT
    local root=$1 n=0 total=0 f
    while IFS= read -r f; do
        total=$((total + 1))
        if ! has_tag "$root/$f"; then
            echo "spdx: $root/$f: no '$tag' line in its first 3 lines (bash scripts/spdx.sh --add)" >&2
            n=$((n + 1))
        fi
    done < <(list_sources "$root")
    if [ "$n" -gt 0 ]; then
        echo "spdx: $n of $total source files lack the licence line" >&2
        return 1
    fi
    echo "spdx: all $total source files carry '$tag'"
}

add() { # ROOT
    local root=$1 n=0 f
    while IFS= read -r f; do
        if ! has_tag "$root/$f"; then
            add_tag "$root/$f"
            n=$((n + 1))
        fi
    done < <(list_sources "$root")
    echo "spdx: added the line to $n files"
}

self_test() {
    local d
    d=$(mktemp -d)
    trap 'rm -rf "$d"' RETURN
    mkdir -p "$d/src" "$d/build-x"
    printf '/* a.c */\nint a;\n' >"$d/src/a.c"
    printf '#!/bin/sh\necho hi\n' >"$d/run.sh"
    printf 'int skipped;\n' >"$d/build-x/gen.c" # build trees are not sources
    printf '/* %s */\nint b;\n' "$tag" >"$d/src/b.c"
    if check "$d" 2>/dev/null; then
        echo "spdx self-test: --check passed on files without the line" >&2
        return 1
    fi
    add "$d" >/dev/null
    check "$d" >/dev/null
    [ "$(head -n 1 "$d/run.sh")" = '#!/bin/sh' ] || { echo "spdx self-test: #! line moved" >&2; return 1; }
    [ "$(sed -n 2p "$d/run.sh")" = "# $tag" ] || { echo "spdx self-test: shell line wrong" >&2; return 1; }
    [ "$(head -n 1 "$d/src/a.c")" = "/* $tag */" ] || { echo "spdx self-test: C line wrong" >&2; return 1; }
    [ "$(grep -c SPDX "$d/src/b.c")" = 1 ] || { echo "spdx self-test: line added twice" >&2; return 1; }
    [ "$(cat "$d/build-x/gen.c")" = 'int skipped;' ] || { echo "spdx self-test: build tree touched" >&2; return 1; }
    echo "spdx self-test: ok"
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case "${1:-}" in
    --check) check "${2:-$repo}" ;;
    --add) add "${2:-$repo}" ;;
    --self-test) self_test ;;
    *)
        echo "usage: bash scripts/spdx.sh --check [ROOT] | --add [ROOT] | --self-test" >&2
        exit 2
        ;;
esac
