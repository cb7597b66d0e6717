#!/usr/bin/env bash
# Builds the addon's Debug configuration with AddressSanitizer and UBSan
# (binding.gyp: configurations.Debug) into build/Debug/skiptrail.node.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/Makefile ] || node scripts/node-gyp.mjs configure
node scripts/node-gyp.mjs build --debug
