# SPDX-License-Identifier: Apache-2.0
# qsnn_commands.sh: sourced by gen_man.sh and gen_completion.sh. qsnn_commands QSNN prints the subcommands of
# the built qsnn as "name<TAB>summary" lines, read from `qsnn help` (which prints tools/main.c's command table),
# so that neither script keeps a list of its own.
qsnn_commands() {
  "$1" help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ {
    name = $1; sub(/^  [^ ]+ +/, ""); printf "%s\t%s\n", name, $0 }'
}
