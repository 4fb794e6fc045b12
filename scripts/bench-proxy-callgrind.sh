#!/usr/bin/env bash
# User-space instructions per call of pcscf and Kamailio under the same SIPp load (issue 7). CPU time per
# call on a shared VM moves by +-10 % from run to run (Docs/benchmarks.md); callgrind's instruction counts
# do not. Kernel time (sends, loopback delivery, wake-ups) is not counted: compare with `pcscf-bench proxy`.
#
#   scripts/bench-proxy-callgrind.sh [rate] [calls-low] [calls-high]     (default 20 calls/s, 100 and 500)
#
# For each proxy, two runs of the same wall-clock length under `valgrind --tool=callgrind`: SIPp's built-in
# `uac` (INVITE, 100, 200, ACK, BYE, 200) at `rate` through the proxy to the SIPp UAS of `pcscf-bench proxy`
# (Benchmarks/kamailio/uas_200only.xml), once with `calls-low` calls and once with `calls-high`. The
# difference of the proxy's instructions (every thread; every Kamailio process) divided by the difference of
# calls is the cost of one call, start-up and idle timers cancelled.
#   pcscf:    `pcscf-bench loop --serve` (the real ProxyServer as `pcscf-alg proxy` runs it, libosip2 check
#             on; callgrind cannot run `pcscf-alg` itself, it crashes in libdispatch's main-queue sigsuspend)
#   kamailio: Benchmarks/kamailio/kamailio_stateful_bench.cfg with 2 UDP workers, as `pcscf-bench proxy`.
# Needs valgrind, sipp and kamailio (scripts/install-deps.sh --bench; apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-20}"; low="${2:-100}"; high="${3:-500}"
for tool in valgrind sipp kamailio callgrind_annotate; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
[ "$low" -lt "$high" ] || { echo "calls-low must be below calls-high" >&2; exit 1; }
bin=.build/release/pcscf-bench
[ -x "$bin" ] || swift build -c release --product pcscf-bench
work="$(mktemp -d)"
cleanup() { pkill -f "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
objcopy --strip-debug "$bin" "$work/pcscf-bench"   # valgrind cannot read the release binary's DWARF 5
base=29060
seconds=$(( 20 + high / rate + 10 ))                 # start-up under valgrind + the load + a margin

listening() { grep -q ":$(printf %04X "$1") " /proc/net/udp; }

# run_one PROXY CALLS -> prints the summed Ir of the proxy's callgrind files
run_one() {
    local proxy=$1 calls=$2 dir="$work/$1-$2"
    mkdir -p "$dir"
    sipp -sf "$PWD/Benchmarks/kamailio/uas_200only.xml" -t u1 -i 127.0.0.1 -p $((base + 20)) -mp $((base + 30)) \
        -nostdin -timeout "$((seconds + 30))" >"$dir/uas.log" 2>&1 &
    local uas=$!
    local started=$SECONDS
    if [ "$proxy" = pcscf ]; then
        valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$dir/cg.%p" \
            "$work/pcscf-bench" loop --serve "$seconds" "$base" $((base + 20)) >"$dir/proxy.log" 2>&1 &
    else
        valgrind --tool=callgrind --trace-children=yes --dump-instr=no --callgrind-out-file="$dir/cg.%p" \
            kamailio -f "$PWD/Benchmarks/kamailio/kamailio_stateful_bench.cfg" -DD -E -m 256 -M 16 -w "$dir" \
            -l "udp:127.0.0.1:$base" -A "UAS=\"sip:127.0.0.1:$((base + 20))\"" -A CHILDREN=2 >"$dir/proxy.log" 2>&1 &
    fi
    local pid=$!
    for _ in $(seq 1 60); do listening "$base" && break; sleep 1; done
    listening "$base" || { echo "$proxy did not listen on $base" >&2; cat "$dir/proxy.log" >&2; exit 1; }
    sleep 2
    sipp -sn uac -t u1 -i 127.0.0.1 -p $((base + 40)) -mp $((base + 50)) "127.0.0.1:$base" -r "$rate" -m "$calls" \
        -nostdin -recv_timeout 20000 -timeout "$((seconds))" -trace_stat -stf "$dir/stat.csv" >"$dir/uac.log" 2>&1 || true
    local failed
    failed=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "FailedCall(C)") c = i } END { print $c + 0 }' "$dir/stat.csv")
    # the same wall-clock length for both call counts, so that idle timers cancel in the difference
    while [ $((SECONDS - started)) -lt "$seconds" ] && kill -0 "$pid" 2>/dev/null; do sleep 1; done
    [ "$proxy" = kamailio ] && kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    kill "$uas" 2>/dev/null || true; wait "$uas" 2>/dev/null || true
    local total=0 ir
    for f in "$dir"/cg.*; do
        ir=$(grep -E '^(summary|totals):' "$f" | head -1 | awk '{ print $2 }')
        total=$((total + ${ir:-0}))
    done
    echo "$total $failed"
}

printf "callgrind, SIPp uac at %s calls/s, %s and %s calls, %s s per run (UDP, 127.0.0.1)\n" "$rate" "$low" "$high" "$seconds"
declare -A per
for proxy in pcscf kamailio; do
    read -r ir_low failed_low < <(run_one "$proxy" "$low")
    read -r ir_high failed_high < <(run_one "$proxy" "$high")
    per[$proxy]=$(( (ir_high - ir_low) / (high - low) ))
    printf "  %-9s %12s instructions per call (%s vs %s total; failed calls %s + %s)\n" \
        "$proxy" "${per[$proxy]}" "$ir_low" "$ir_high" "$failed_low" "$failed_high"
done
awk -v p="${per[pcscf]}" -v k="${per[kamailio]}" 'BEGIN { printf "ratio pcscf / kamailio (user-space instructions per call): %.3f\n", p / k }'
