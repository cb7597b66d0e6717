#!/usr/bin/env bash
# Builds and runs the plain C++ tests with AddressSanitizer, UBSan and SKIPTRAIL_DCHECKS:
# the skiplist's model test against std::set (native/tests/skiplist-test.cc), then the
# tests of the log parser and ingest session (native/tests/log-parser-test.cc) and of
# the snapshot format and CRC-32C (native/tests/snapshot-test.cc), twice: with the SSE2
# scanners (on x86-64) and with the portable ones (-DSKIPTRAIL_NO_SIMD).
#
#   scripts/native-tests.sh           run the tests
#   scripts/native-tests.sh --bench   then build native/tests/parse-bench.cc with -O3
#                                     and report the parser's own throughput
# Binaries go to $NATIVE_TESTS_OUT (default: $TMPDIR/skiptrail-native-tests, outside
# build/, which `node-gyp rebuild` wipes). CXX overrides the compiler (default g++).
set -euo pipefail
cd "$(dirname "$0")/.."

CXX="${CXX:-g++}"
OUT="${NATIVE_TESTS_OUT:-${TMPDIR:-/tmp}/skiptrail-native-tests}"
mkdir -p "$OUT"
sources=$(node scripts/native-sources.mjs parser)  # native/core.gypi
mapfile -t SOURCES <<<"$sources"
snapshot_sources=$(node scripts/native-sources.mjs snapshot engine)
mapfile -t SNAPSHOT_SOURCES <<<"$snapshot_sources"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

CXXFLAGS=(-std=c++17 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer
          -fsanitize=address,undefined -fno-sanitize-recover=all -DSKIPTRAIL_DCHECKS)

echo "== skiplist-test (both link modes, against std::set)"
"$CXX" "${CXXFLAGS[@]}" -o "$OUT/skiplist-test" native/tests/skiplist-test.cc
"$OUT/skiplist-test"

for variant in simd portable; do
  defines=()
  [[ "$variant" == portable ]] && defines=(-DSKIPTRAIL_NO_SIMD)
  echo "== log-parser-test ($variant)"
  "$CXX" "${CXXFLAGS[@]}" "${defines[@]}" \
    -o "$OUT/log-parser-test-$variant" native/tests/log-parser-test.cc "${SOURCES[@]}"
  "$OUT/log-parser-test-$variant" test/fixtures/apache_logs
  echo "== snapshot-test ($variant)"
  "$CXX" "${CXXFLAGS[@]}" "${defines[@]}" \
    -o "$OUT/snapshot-test-$variant" native/tests/snapshot-test.cc "${SNAPSHOT_SOURCES[@]}"
  "$OUT/snapshot-test-$variant"
done

if [[ "${1:-}" == "--bench" ]]; then
  echo "== parse-bench (-O3)"
  "$CXX" -std=c++17 -O3 -DNDEBUG -Wall -Wextra \
    -o "$OUT/parse-bench" native/tests/parse-bench.cc "${SOURCES[@]}"
  "$OUT/parse-bench" test/fixtures/apache_logs  # all formats; a 3rd argument picks one
fi
