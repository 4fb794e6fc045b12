#!/usr/bin/env bash
# The lab demo: pcscf-alg (loopback lab default), the Erlang/OTP megaco MG as the IMS-AGW, and two
# SIPp instances (a UE on Gm over TCP, an S-CSCF + far end on Mw over UDP) running one e2ae MSRP call:
# REGISTER with msrp-tls;mediasec through 401/200, then an INVITE offering TCP/TLS/MSRP with
# a=3ge2ae:requested. It prints the SDP each side saw and the H.248 commands the gateway received.
# Bounded: every process stops by itself within about a minute. Run from anywhere: `make demo`.
# Then one e2ae BFCP call (seed 004 originating flow) the same way.
# Not shown yet: MSRP/BFCP bytes on the wire (the OTP MG answers the Iq procedures but carries no
# media; `scripts/run.sh --agw` runs the lab with the companion ims-agw, which relays them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bash scripts/install-deps.sh
swift build -c release --product pcscf-alg
OUT=$(mktemp -d /tmp/pcscf-demo.XXXXXX)
SC="$ROOT/Tests/Peers/sipp/pcscf"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

echo "== starting pcscf-alg (Gm udp+tcp 127.0.0.1:5060, Mw udp 127.0.0.1:5070, S-CSCF 127.0.0.1:5080, Iq udp 127.0.0.1:2944)"
"$ROOT/.build/release/pcscf-alg" pcscf --echo-applied --iq-wait 40 --log-level info 2> "$OUT/pcscf-alg.log" &
pids+=($!)
sleep 1
echo "== starting the IMS-AGW stand-in (Erlang/OTP megaco MG) and waiting for its Iq registration"
escript "$ROOT/Tests/Peers/megaco_mg.escript" --mgc 127.0.0.1:2944 --transport udp --encoding compact --version 3 \
    --local-port 2945 --media-ip 127.0.0.1 --port-base 41000 --duration 60 > "$OUT/mg.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 400); do grep -q "pcscf-alg pcscf listening" "$OUT/pcscf-alg.log" && break; sleep 0.1; done
grep -q "pcscf-alg pcscf listening" "$OUT/pcscf-alg.log" || { echo "pcscf-alg did not come up:"; cat "$OUT/pcscf-alg.log"; exit 1; }
grep -E "registered|listening" "$OUT/pcscf-alg.log" | sed 's/^/   /'

# One call: SIPp S-CSCF (UDP 5080) and SIPp UE (TCP, to Gm 5060). Sets UE_RC and CORE_RC.
# Arguments: output folder name, core scenario, UE scenario, core media port, UE SIP port, UE media port.
run_call() {
    mkdir -p "$OUT/core$1" "$OUT/ue$1"
    (cd "$OUT/core$1" && sipp -sf "$SC/$2" -t u1 -i 127.0.0.1 -p 5080 -mp "$4" -m 1 -timeout 40 -timeout_error \
        -nostdin -trace_msg -trace_err -key exp 600 > /dev/null 2>&1) &
    local core=$!
    pids+=($core)
    sleep 0.5
    set +e
    (cd "$OUT/ue$1" && sipp -sf "$SC/$3" -t t1 -i 127.0.0.1 -p "$5" -mp "$6" -m 1 -timeout 40 -timeout_error \
        -nostdin -trace_msg -trace_err -key exp 600 127.0.0.1:5060 > /dev/null 2>&1)
    UE_RC=$?
    wait $core
    CORE_RC=$?
    set -e
}

echo "== SIPp S-CSCF on 127.0.0.1:5080 and SIPp UE -> 127.0.0.1:5060 (one e2ae MSRP call)"
run_call "" core_alg_call.xml ue_alg_call.xml 21000 5062 21010
ue_rc=$UE_RC; core_rc=$CORE_RC

echo "== second call: SIPp S-CSCF and UE run one e2ae BFCP call (TCP/TLS/BFCP towards the UE, TCP/BFCP towards the core)"
run_call "-bfcp" core_alg_bfcp.xml ue_alg_bfcp.xml 21020 5064 21030
ue_bfcp_rc=$UE_RC; core_bfcp_rc=$CORE_RC

show() {   # SDP of the SIP messages a SIPp instance received
    python3 - "$1" <<'PY'
import re, sys, glob
for f in glob.glob(sys.argv[1] + "/*_messages.log"):
    text = open(f, errors="replace").read()
    for block in re.split(r"\n-{20,}[^\n]*\n", text):
        if "message received" not in block:
            continue
        lines = block.split("\n")
        start = next((i for i, l in enumerate(lines) if re.match(r"^(SIP/2\.0 |[A-Z]+ sip:)", l)), None)
        if start is None:
            continue
        sdp = [l for l in lines[start:] if re.match(r"^[vosctmab]=", l)]
        if sdp:
            print("   <- " + lines[start].strip())
            for l in sdp:
                print("        " + l.strip())
PY
}
echo
echo "== SDP the S-CSCF (core side) received: TCP/MSRP on the gateway's core port, no TLS, no fingerprint, no 3ge2ae"
show "$OUT/core"
echo
echo "== SDP the UE (access side) received: TCP/TLS/MSRP on the gateway's access port, its fingerprint, a=3ge2ae:applied"
show "$OUT/ue"
echo
echo "== BFCP call: SDP the S-CSCF received (TCP/BFCP on the gateway's core port)"
show "$OUT/core-bfcp"
echo
echo "== BFCP call: SDP the UE received (TCP/TLS/BFCP on the gateway's access port, its fingerprint, a=3ge2ae:applied)"
show "$OUT/ue-bfcp"
echo
echo "== H.248 commands the IMS-AGW (OTP MG) executed (both calls)"
sleep 1
grep -E "^MG (ADD|MODIFY|SUBTRACT|NOTIFY|AUDIT)" "$OUT/mg.log" | sed 's/^/   /' || true
echo
echo "== pcscf-alg log"
sed 's/^/   /' "$OUT/pcscf-alg.log" | tail -20
echo
if [ $ue_rc -eq 0 ] && [ $core_rc -eq 0 ] && [ $ue_bfcp_rc -eq 0 ] && [ $core_bfcp_rc -eq 0 ]; then
    echo "demo: the e2ae MSRP and BFCP calls completed and every SIPp check passed (logs in $OUT)"
else
    echo "demo: FAILED (MSRP: UE SIPp exit $ue_rc, S-CSCF SIPp exit $core_rc; BFCP: UE $ue_bfcp_rc, S-CSCF $core_bfcp_rc); logs in $OUT"
    exit 1
fi
