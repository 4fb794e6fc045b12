#!/usr/bin/env bash
# Runs the product on a fresh Debian 12 machine: installs what is missing, builds and starts
# `pcscf-alg` with its default. Extra arguments go to pcscf-alg (e.g. `bash scripts/run.sh --help`).
# The proxy server is not built yet: today the default is the SIP parse/forward demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product pcscf-alg
exec .build/release/pcscf-alg "$@"
