#!/usr/bin/env bash
# Heap allocations per SDP rewrite (issue 4: malloc/free and reference counting are what the wall clock
# of `pcscf-bench sdp` pays beyond its instruction count).
#
#   scripts/sdp-allocs.sh [rounds]      (default 2000)
#
# Builds the malloc-counting LD_PRELOAD shim (scripts/malloc-count.c) and runs the release
# `pcscf-bench sdp count N --rewrites-only` for N rounds and 3N rounds; the difference divided by the
# 4N extra rewrites is the allocations (malloc, calloc, realloc, posix_memalign) per rewrite, without
# the start-up's allocations.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2000}"
bin=.build/release/pcscf-bench
[ -x "$bin" ] || swift build -c release --product pcscf-bench
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -O2 -shared -fPIC -o "$work/malloc-count.so" scripts/malloc-count.c -ldl
count() {
    LD_PRELOAD="$work/malloc-count.so" "$bin" sdp count "$1" --rewrites-only 2>&1 >/dev/null \
        | awk '/malloc-count:/ { print $3 }'
}
a=$(count "$rounds")
b=$(count $((3 * rounds)))
awk -v a="$a" -v b="$b" -v n="$rounds" 'BEGIN {
    printf "heap allocations per rewrite (parse + rules + AGW answer + serialise): %.2f\n", (b - a) / (4 * n)
}'
