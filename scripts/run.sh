#!/usr/bin/env bash
# Runs the product on a fresh Debian 12 machine: installs what is missing, builds and starts
# `pcscf-alg` with its loopback lab default:
#   - the P-CSCF / IMS-ALG: Gm (UEs) udp+tcp 127.0.0.1:5060, Mw (core) udp 127.0.0.1:5070,
#     S-CSCF expected at sip:127.0.0.1:5080, Iq (H.248) on udp 127.0.0.1:2944;
#   - a gateway on loopback: the Erlang/OTP megaco MG test peer (Tests/Peers/megaco_mg.escript)
#     registers on Iq and answers the ALG's reserve/configure/release (it carries no media: the
#     companion ims-agw is not built yet).
# Point a UE (e.g. SIPp) at 127.0.0.1:5060 and an S-CSCF at 127.0.0.1:5080. Ctrl-C stops both.
# `bash scripts/run.sh --agw` starts the companion `ims-agw` (Docs/ims-agw.md) as the lab gateway
# instead of the OTP MG: it registers on Iq udp 127.0.0.1:2944 and relays MSRP/BFCP (TLS on the
# access side, plain TCP on the core side) on ports 40000-40999 of 127.0.0.1. It runs with
# --msrp-application-aware to match pcscf-alg's default alg.policy.cema_absent = rewritePath (MSRP
# without a=msrp-cema: a=path rewritten in SDP, To-Path/From-Path in the MSRP data; seed 003).
# With other arguments, they go to pcscf-alg instead and no gateway is started
# (e.g. `bash scripts/run.sh --help`, `bash scripts/run.sh sip-demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product pcscf-alg
if [ "${1:-}" = "--agw" ]; then
    swift build -c release --product ims-agw
    .build/release/pcscf-alg pcscf --iq-wait 30 &
    ALG=$!
    trap 'kill $ALG 2>/dev/null; wait $ALG 2>/dev/null; kill $AGW 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
    sleep 1
    .build/release/ims-agw --mgc udp:127.0.0.1:2944 --listen 127.0.0.1:2946 --media relay \
        --media-address 127.0.0.1 --media-ports 40000-40999 --msrp-application-aware &
    AGW=$!
    wait $ALG
    exit $?
fi
if [ $# -gt 0 ]; then
    exec .build/release/pcscf-alg "$@"
fi
.build/release/pcscf-alg pcscf --iq-wait 30 &
ALG=$!
# pcscf-alg first (it drains and sends its graceful ServiceChange to the gateway), then the gateway.
trap 'kill $ALG 2>/dev/null; wait $ALG 2>/dev/null; kill $MG 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
sleep 1
escript Tests/Peers/megaco_mg.escript --mgc 127.0.0.1:2944 --transport udp --encoding compact \
    --version 3 --local-port 2945 --media-ip 127.0.0.1 --port-base 40000 --duration 86400 &
MG=$!
wait $ALG
