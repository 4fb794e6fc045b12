#!/usr/bin/env bash
# Installs the Debian packages the product and its tests need on a fresh Debian 12 machine.
# Idempotent: skips apt when everything is already there.
set -euo pipefail
PKGS=(libosip2-dev libsctp-dev pkg-config sip-tester erlang-base erlang-megaco socat openssl tshark python3)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
