#!/usr/bin/env bash
# Builds and runs native/bench/engine-bench.cc (the engine alone, no Node) at -O3.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/native-bench
sources=$(node scripts/native-sources.mjs engine)  # native/core.gypi
mapfile -t SOURCES <<<"$sources"
g++ -std=c++17 -O3 -g -o build/native-bench/engine-bench native/bench/engine-bench.cc "${SOURCES[@]}"
exec build/native-bench/engine-bench "$@"
