#!/usr/bin/env bash
# Runs the test suite against the sanitizer build of the addon. Node itself is not
# instrumented, so the ASan and UBSan runtimes are preloaded; leak checking is off
# because Node does not free everything at exit. Any sanitizer report aborts the
# process, which fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-asan.sh
npm run build:ts
runtime="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)"
export SKIPTRAIL_ADDON=build/Debug/skiptrail.node
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
LD_PRELOAD="$runtime" npx vitest run "$@"
