#!/usr/bin/env bash
# Writes Sources/ALGServer/PCSCFDefaultConfig.swift from Fixtures/config/pcscf-alg.yaml (the embedded
# default must equal the fixture; PCSCFConfigFileTests checks it).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo '// The embedded default configuration: byte-for-byte Fixtures/config/pcscf-alg.yaml (a test checks it).'
  echo '// Regenerate after editing the fixture: scripts/embed-default-config.sh'
  echo 'extension PCSCFConfigFile {'
  echo '    public static let embeddedDefault: String = #"""'
  cat Fixtures/config/pcscf-alg.yaml
  echo '"""#'
  echo '}'
} > Sources/ALGServer/PCSCFDefaultConfig.swift
