#!/usr/bin/env bash
# Runs every test of the package: installs what is missing, builds, runs `swift test`
# (Swift Testing and XCTest) and ends with one plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
out=$(mktemp -d)
swift build --build-tests 2>&1 | tail -n 30
build_rc=${PIPESTATUS[0]}
if [ "$build_rc" -ne 0 ]; then echo "build failed"; echo "0 passed, 1 failed"; exit 1; fi
swift test --skip-build --xunit-output "$out/results.xml" 2>&1 | tee "$out/test.log" | grep -Ev '^(◇|􀟈|↳|􀄵) ' 
test_rc=${PIPESTATUS[0]}
python3 scripts/xunit-summary.py "$out/test.log" "$out"/results*.xml
sum_rc=$?
if [ "$test_rc" -ne 0 ] || [ "$sum_rc" -ne 0 ]; then exit 1; fi
