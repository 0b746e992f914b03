#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gen_man.sh HELP2MAN QSNN DIR: write the man pages qsnn.1 and qsnn-<command>.1 (one per subcommand of
# `qsnn help`) into DIR with help2man, from the built binary's --help, so that they say what --help says.
# Run by the build when help2man is installed (cmake/docs.cmake; Debian package help2man).
set -euo pipefail
help2man=$1
qsnn=$2
dir=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/qsnn_commands.sh"

# help2man fills every paragraph; the example command lines of an "Example(s):" block must stay one a line:
# from its heading to the end of the paragraph, no fill and no paragraph macros.
examples_verbatim() {
  awk '
    /^\.S[SH] / && inex { print ".fi"; print ".RE"; inex = 0 }
    inex && /^\.PP$/ { print ".fi"; print ".RE"; inex = 0; print; next }
    inex && /^\.(IP|HP|TP)/ { next }
    { print }
    /^\.S[SH] .*[Ee][Xx][Aa][Mm][Pp][Ll][Ee]/ { print ".RS"; print ".nf"; inex = 1 }
    END { if (inex) { print ".fi"; print ".RE" } }'
}

mkdir -p "$dir"
# the first X.Y[.Z] of `qsnn --version`
version=$("$qsnn" --version | grep -o -m 1 '[0-9][0-9]*\.[0-9][0-9]*\(\.[0-9][0-9]*\)*' | head -n 1)
[ -n "$version" ] || { echo "gen_man.sh: '$qsnn --version' prints no version" >&2; exit 1; }
cmds=$(qsnn_commands "$qsnn")
[ -n "$cmds" ] || { echo "gen_man.sh: '$qsnn help' lists no commands" >&2; exit 1; }
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT

# qsnn(1): the command list, and every subcommand's page under SEE ALSO
{
  echo "[SEE ALSO]"
  first=1
  while IFS=$'\t' read -r name _; do
    [ $first = 1 ] || echo ","
    printf '.BR qsnn\\-%s (1)' "$name"
    first=0
  done <<< "$cmds"
  echo
} > "$inc"
"$help2man" --no-info --no-discard-stderr --version-string="$version" --include="$inc" \
  -n "quantized event-based neural networks for keyword spotting" -o "$dir/qsnn.1" "$qsnn"

# qsnn-CMD(1): help2man reads `PROGRAM --help` and names the page after PROGRAM, so PROGRAM is a two-line
# wrapper named qsnn-CMD that runs `qsnn CMD`
wrap=$(mktemp -d)
trap 'rm -f "$inc"; rm -rf "$wrap"' EXIT
while IFS=$'\t' read -r name summary; do
  printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$qsnn" "$name" > "$wrap/qsnn-$name"
  chmod +x "$wrap/qsnn-$name"
  printf '[SEE ALSO]\n.BR qsnn (1)\n' > "$inc"
  "$help2man" --no-info --no-discard-stderr --version-string="$version" --include="$inc" -n "$summary" \
    -o "$dir/qsnn-$name.1.tmp" "$wrap/qsnn-$name"
  examples_verbatim < "$dir/qsnn-$name.1.tmp" > "$dir/qsnn-$name.1"
  rm -f "$dir/qsnn-$name.1.tmp"
done <<< "$cmds"
touch "$dir/.stamp"
