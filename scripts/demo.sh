#!/usr/bin/env bash
# The lab demo: pcscf-alg (loopback lab default), the Erlang/OTP megaco MG as the IMS-AGW, and two
# SIPp instances (a UE on Gm over TCP, an S-CSCF + far end on Mw over UDP) running one e2ae MSRP call:
# REGISTER with msrp-tls;mediasec through 401/200, then an INVITE offering TCP/TLS/MSRP with
# a=3ge2ae:requested. It prints the SDP each side saw and the H.248 commands the gateway received.
# Then one e2ae BFCP call (seed 004 originating flow) the same way.
# Third part: pcscf-alg again, now with the companion ims-agw (TLS <-> TCP relay) as the gateway: an
# e2ae MSRP call with SIPp, during which a Python MSRP client (the UE, TLS with the certificate whose
# fingerprint the UE's SDP announced) sends an MSRP SEND to the gateway's access port; ims-agw relays
# it to a plain-TCP MSRP server (the core far end). It prints the SDP each side received, the MSRP
# SEND as the plain server received it and the 200 OK it sent back (and the reverse direction).
# Bounded: every process stops by itself within about a minute. Run from anywhere: `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bash scripts/install-deps.sh
swift build -c release --product pcscf-alg
swift build -c release --product ims-agw
OUT=$(mktemp -d /tmp/pcscf-demo.XXXXXX)
SC="$ROOT/Tests/Peers/sipp/pcscf"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

echo "== starting pcscf-alg (Gm udp+tcp 127.0.0.1:5060, Mw udp 127.0.0.1:5070, S-CSCF 127.0.0.1:5080, Iq udp 127.0.0.1:2944)"
"$ROOT/.build/release/pcscf-alg" pcscf --echo-applied --iq-wait 40 --log-level info 2> "$OUT/pcscf-alg.log" &
ALG=$!
pids+=($ALG)
sleep 1
echo "== starting the IMS-AGW stand-in (Erlang/OTP megaco MG) and waiting for its Iq registration"
escript "$ROOT/Tests/Peers/megaco_mg.escript" --mgc 127.0.0.1:2944 --transport udp --encoding compact --version 3 \
    --local-port 2945 --media-ip 127.0.0.1 --port-base 41000 --duration 60 > "$OUT/mg.log" 2>&1 &
MG=$!
pids+=($MG)
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
# ---- Third part (issue 10): the companion ims-agw carries the MSRP bytes.
A="$OUT/agw"
mkdir -p "$A"
echo "== third call: pcscf-alg with the companion ims-agw instead of the OTP MG; an MSRP message crosses from a TLS client to a plain TCP server"
kill "$ALG" "$MG" 2>/dev/null || true
wait "$ALG" "$MG" 2>/dev/null || true
"$ROOT/.build/release/pcscf-alg" pcscf --echo-applied --iq-wait 40 --log-level info 2> "$A/pcscf-alg.log" &
pids+=($!)
sleep 0.5
"$ROOT/.build/release/ims-agw" --mgc udp:127.0.0.1:2944 --listen 127.0.0.1:2946 --media relay --media-address 127.0.0.1 \
    --media-ports 41000-41099 2> "$A/ims-agw.log" &
AGW=$!
pids+=($AGW)
for _ in $(seq 1 400); do grep -q "pcscf-alg pcscf listening" "$A/pcscf-alg.log" && break; sleep 0.1; done
grep -q "IMS-AGW registered" "$A/pcscf-alg.log" || { echo "ims-agw did not register:"; cat "$A/pcscf-alg.log" "$A/ims-agw.log"; exit 1; }
grep -E "Iq -> ServiceChange|Iq registered" "$A/ims-agw.log" | sed 's/^/   ims-agw: /'
# The UE's TLS identity: a self-signed certificate whose SHA-256 fingerprint its SDP announces (RFC 8122).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$A/ue.key" -out "$A/ue.crt" \
    -days 2 -subj /CN=ue.demo > /dev/null 2>&1
FP=$(openssl x509 -in "$A/ue.crt" -noout -fingerprint -sha256 | cut -d= -f2)
# The shared UE scenario with this fingerprint, any gateway fingerprint accepted, and 4 s in the call for MSRP.
sed -e "s/4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF/$FP/" \
    -e 's/AB:CD:EF:01:23:45:67:89/[0-9A-F:]+/' -e 's|<pause milliseconds="100"/>|<pause milliseconds="4000"/>|' \
    "$SC/ue_alg_call.xml" > "$A/ue_agw_msrp.xml"
# The core far end: the S-CSCF SIPp answers with m=message 7654 TCP/MSRP; the plain MSRP server listens there.
python3 "$ROOT/Tests/Peers/msrp_e2e_peer.py" server --port 7654 --print --timeout 30 > "$A/msrp-server.log" 2>&1 &
SRV=$!
pids+=($SRV)
mkdir -p "$A/core" "$A/ue"
(cd "$A/core" && sipp -sf "$SC/core_alg_call.xml" -t u1 -i 127.0.0.1 -p 5080 -mp 21040 -m 1 -timeout 40 -timeout_error \
    -nostdin -trace_msg -trace_err -key exp 600 > /dev/null 2>&1) &
core=$!
pids+=($core)
sleep 0.5
(cd "$A/ue" && sipp -sf "$A/ue_agw_msrp.xml" -t t1 -i 127.0.0.1 -p 5066 -mp 21050 -m 1 -timeout 40 -timeout_error \
    -nostdin -trace_msg -trace_err -key exp 600 127.0.0.1:5060 > /dev/null 2>&1) &
ue=$!
pids+=($ue)
ACCESS=""
for _ in $(seq 1 150); do
    ACCESS=$(cat "$A"/ue/*_messages.log 2>/dev/null | grep -oE "m=message 4[0-9]{4} TCP/TLS/MSRP" | head -1 | cut -d' ' -f2 || true)
    [ -n "$ACCESS" ] && break
    sleep 0.1
done
set +e
if [ -n "$ACCESS" ]; then
    echo "== the UE's MSRP client connects with TLS to ims-agw's access port $ACCESS (from the 200 OK's SDP)"
    python3 "$ROOT/Tests/Peers/msrp_e2e_peer.py" client --port "$ACCESS" --cert "$A/ue.crt" --key "$A/ue.key" --print \
        --timeout 10 > "$A/msrp-client.log" 2>&1
    client_rc=$?
else
    echo "   the UE got no TCP/TLS/MSRP answer"
    client_rc=1
fi
wait $SRV; server_rc=$?
wait $ue; ue_agw_rc=$?
wait $core; core_agw_rc=$?
set -e
echo
echo "== ims-agw call: SDP the S-CSCF (core side) received: TCP/MSRP on ims-agw's core port"
show "$A/core"
echo
echo "== ims-agw call: SDP the UE (access side) received: TCP/TLS/MSRP on ims-agw's access port, its certificate's fingerprint"
show "$A/ue"
echo
echo "== MSRP as the plain TCP server (core far end, 127.0.0.1:7654) saw it: '<<' received from ims-agw, '>>' sent"
sed 's/^/   /' "$A/msrp-server.log"
echo
echo "== MSRP as the UE's client saw it inside TLS"
sed 's/^/   /' "$A/msrp-client.log"
echo
echo "== H.248 transactions ims-agw executed, and its media plane"
grep -E "Iq T=|TLS|relay" "$A/ims-agw.log" | sed 's/^/   /' | head -20 || true
echo
if [ $ue_rc -eq 0 ] && [ $core_rc -eq 0 ] && [ $ue_bfcp_rc -eq 0 ] && [ $core_bfcp_rc -eq 0 ] && [ $ue_agw_rc -eq 0 ] \
    && [ $core_agw_rc -eq 0 ] && [ $client_rc -eq 0 ] && [ $server_rc -eq 0 ]; then
    echo "demo: the e2ae MSRP and BFCP calls completed, every SIPp check passed, and an MSRP SEND crossed ims-agw from TLS to plain TCP with its 200 OK (logs in $OUT)"
else
    echo "demo: FAILED (MSRP: UE SIPp exit $ue_rc, S-CSCF SIPp exit $core_rc; BFCP: UE $ue_bfcp_rc, S-CSCF $core_bfcp_rc;" \
        "ims-agw call: UE $ue_agw_rc, S-CSCF $core_agw_rc, MSRP client $client_rc, MSRP server $server_rc); logs in $OUT"
    exit 1
fi
