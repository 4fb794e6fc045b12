#!/usr/bin/env bash
# Instruction counts for `pcscf-bench sdp` (issue 4 goal: one SDP rewrite < 1/3 of libosip2's INVITE
# parse). Wall-clock time on a shared machine moves with the load; callgrind's instruction counts do not.
#
#   scripts/bench-sdp-callgrind.sh [rounds]      (default 2000 rounds = 4000 rewrites + 2000 parses)
#
# Runs the release `pcscf-bench sdp count N` under `valgrind --tool=callgrind` and reports the inclusive
# instructions of `rewriteRound` (one offer + one answer: parse, rules, AGW answer, serialise) per rewrite
# and of `LibOSIP2.parseAndFree` (osip_message_parse of the 2.1 kB IMS INVITE) per parse, and their
# ratio. The first call of each includes one-time runtime set-up (< 0.5 % at 2000 rounds).
# Needs valgrind (apt-get install valgrind); builds the release binary when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2000}"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
bin=.build/release/pcscf-bench
[ -x "$bin" ] || swift build -c release --product pcscf-bench
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# valgrind cannot read the DWARF of the Swift release binary; a copy without debug info works (the
# symbol table, which callgrind needs for the function names, stays).
objcopy --strip-debug "$bin" "$work/pcscf-bench"
valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$work/cg.out" \
    "$work/pcscf-bench" sdp count "$rounds" >/dev/null 2>"$work/valgrind.log" || { cat "$work/valgrind.log" >&2; exit 1; }
callgrind_annotate --inclusive=yes --threshold=100 "$work/cg.out" > "$work/annotate.txt"
inclusive() {   # largest inclusive count of a function whose name contains $1
    grep -E "$1" "$work/annotate.txt" | awk '{ gsub(",", "", $1); if ($1 + 0 > max) max = $1 + 0 } END { print max + 0 }'
}
round_ir=$(inclusive 'rewriteRound')
parse_ir=$(inclusive 'parseAndFree')
[ "$round_ir" -gt 0 ] && [ "$parse_ir" -gt 0 ] || { echo "functions not found in the profile" >&2; exit 1; }
awk -v r="$round_ir" -v p="$parse_ir" -v n="$rounds" 'BEGIN {
    rw = r / n / 2; pa = p / n
    printf "callgrind, %d rounds (%d rewrites) and %d INVITE parses\n", n, 2 * n, n
    printf "  instructions per rewrite (parse + rules + AGW answer + serialise): %.2f k\n", rw / 1000
    printf "  instructions per libosip2 INVITE parse:                            %.2f k\n", pa / 1000
    printf "  ratio rewrite / INVITE parse: %.4f (goal < 1/3 = 0.3333)\n", rw / pa
}'
