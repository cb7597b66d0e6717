#!/usr/bin/env bash
# Builds and runs native/bench/engine-bench.cc (the engine alone, no Node) at -O3.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/native-bench
g++ -std=c++17 -O3 -g -o build/native-bench/engine-bench native/bench/engine-bench.cc \
  native/engine.cc native/interner.cc native/ranked-index.cc native/presence.cc
exec build/native-bench/engine-bench "$@"
