#!/usr/bin/env bash
# Installs the Debian packages the product and its tests need on a fresh Debian 12 machine.
# Idempotent: skips apt when everything is already there.
#   scripts/install-deps.sh          product + tests
#   scripts/install-deps.sh --bench  also the benchmark-only peers (kamailio, for `pcscf-bench proxy`);
#                                    the packaged kamailio service is stopped and disabled so that
#                                    nothing stays bound to port 5060.
set -euo pipefail
PKGS=(libosip2-dev libsctp-dev pkg-config sip-tester erlang-base erlang-megaco socat openssl tshark python3)
BENCH_PKGS=(kamailio valgrind)
bench=0
for a in "$@"; do
    case "$a" in
        --bench) bench=1 ;;
        *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
    esac
done
[ "$bench" -eq 1 ] && PKGS+=("${BENCH_PKGS[@]}")
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
if [ "$bench" -eq 1 ]; then
    # The benchmark starts its own kamailio on loopback ports; the packaged daemon must not run.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now kamailio.service >/dev/null 2>&1 || true
    elif command -v service >/dev/null 2>&1; then
        $SUDO service kamailio stop >/dev/null 2>&1 || true
    fi
    if [ -f /run/kamailio/kamailio.pid ]; then
        $SUDO kill "$(cat /run/kamailio/kamailio.pid)" 2>/dev/null || true
    fi
fi
