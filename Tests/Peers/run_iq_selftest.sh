#!/bin/bash
# Runs the project's Erlang/OTP megaco MG test peer (megaco_mg.escript) against
# the tiny Python MGC (mgc_check.py) on 127.0.0.1, for UDP and TCP (TPKT) and
# for the pretty and compact text encoders. Checks the MGC's verdicts and the
# MG's log: every Add executed exactly once, Notify sent and answered, the
# injected Error 430, ImmAckRequired acked, the restart re-registration, and
# no context left at the end; plus one UDP run through a lossy, reordering relay.
# Bounded: each run ends by itself (<= ~25 s).
# Usage: Tests/Peers/run_iq_selftest.sh   (from anywhere; OUT=dir keeps logs,
#        CAPTURE=1 keeps pcaps, PORT_BASE=N moves the ports, COMBOS="udp/pretty")
# Needs: erlang-base + erlang-megaco (escript), python3; tshark for CAPTURE=1.
# Origin: /work/shared/peers/run_iq_selftest.sh, adapted to run from the repo.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$(mktemp -d /tmp/iq_selftest.XXXXXX)}; mkdir -p "$OUT"
port=${PORT_BASE:-2944}; fail=0; pass=0
# udploss/<enc>: UDP through udp_lossy_relay.py (20 % loss each way, 10 % reordered,
# seeded); the MGC retransmits after 0.4 s, the MG after 0.5 s (doubling)
COMBOS=${COMBOS:-"udp/pretty udp/compact tcp/pretty tcp/compact udploss/compact"}
SEED=${SEED:-7}

expect_log() {  # file, extended regexp, expected count ("+" = at least one), label
  local n; n=$(grep -Ec "$2" "$1")
  if [ "$3" = "+" ]; then [ "$n" -ge 1 ]; else [ "$n" -eq "$3" ]; fi && return 0
  echo "  MG log check failed: $4 (pattern '$2' seen $n times, expected $3)"; return 1
}

for combo in $COMBOS; do
  t=${combo%/*}; e=${combo#*/}
  port=$((port+10))
  mgcport=$port; extra_mgc=""; extra_mg=""; dur=7; relay=""
  if [ "$t" = udploss ]; then
    t=udp; mgcport=$((port+5)); extra_mgc="--retransmit 0.4"; extra_mg="--request-timer 500"; dur=12
    timeout 60 python3 "$HERE/udp_lossy_relay.py" --listen 127.0.0.1:$port --target 127.0.0.1:$mgcport \
        --drop 0.2 --reorder 0.1 --seed "$SEED" --duration 25 > "$OUT/relay_${e}.log" 2>&1 &
    relay=$!
  fi
  if [ "${CAPTURE:-0}" = 1 ]; then
    tshark -i lo -f "$t port $port or $t port $((port+1))" -w "$OUT/iq_${t}_${e}.pcap" -a duration:15 >/dev/null 2>&1 &
    sleep 2
  fi
  mgclog="$OUT/mgc_${t}_${e}.log"; mglog="$OUT/mg_${t}_${e}.log"
  timeout 40 python3 "$HERE/mgc_check.py" --transport "$t" --port $mgcport --timeout 20 \
      --expect-notify --expect-restart $extra_mgc > "$mgclog" 2>&1 &
  mgc=$!
  sleep 0.5
  timeout 60 escript "$HERE/megaco_mg.escript" --mgc 127.0.0.1:$port --transport "$t" \
      --encoding "$e" --local-port $((port+1)) --duration $dur \
      --notify-after 100 --restart-after 3 --imm-ack $extra_mg > "$mglog" 2>&1
  wait $mgc; rc=$?
  if [ -n "$relay" ]; then wait $relay; echo "  $(tail -1 "$OUT/relay_${e}.log")"; fi
  ok=1; [ $rc -eq 0 ] || ok=0
  # 2 Adds (access+core) + 1 injected failure + 1 before the restart: no duplicates
  expect_log "$mglog" '^MG ADD ' 4 "each Add executed exactly once" || ok=0
  expect_log "$mglog" '^MG ADD ctx=\$ term=\$ error=430' 1 "injected Error 430" || ok=0
  expect_log "$mglog" '^MG MODIFY ctx=' 1 "Modify logged" || ok=0
  expect_log "$mglog" '^MG SUBTRACT ctx=' 2 "Subtract * logged per termination" || ok=0
  expect_log "$mglog" '^MG AUDIT ctx=- term=root' 1 "AuditValue ROOT logged" || ok=0
  expect_log "$mglog" '^MG NOTIFY sent .*event=hangterm/thb' 1 "Notify sent" || ok=0
  expect_log "$mglog" '^MG NOTIFY reply ok' 1 "Notify answered" || ok=0
  expect_log "$mglog" '^MG ACK status=ok' + "ImmAckRequired acknowledged" || ok=0
  expect_log "$mglog" '^MG RESTART registered' 1 "restart re-registration" || ok=0
  expect_log "$mglog" '^MG STATE contexts=0 terminations=0' 1 "no context left" || ok=0
  echo "$combo: $(tail -1 "$mgclog")"
  if [ $ok = 1 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "  logs: $mgclog $mglog"; fi
done
[ "${CAPTURE:-0}" = 1 ] && wait
echo "$pass passed, $fail failed (logs in $OUT)"
[ $fail -eq 0 ]
