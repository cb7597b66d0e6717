#!/usr/bin/env bash
# Builds the addon's Debug configuration with AddressSanitizer and UBSan
# (binding.gyp: configurations.Debug) into build/Debug/skiptrail.node.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/Makefile ] || npx node-gyp configure
npx node-gyp build --debug
