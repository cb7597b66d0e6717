#!/usr/bin/env bash
# Fuzzes the log parser and ingest session with libFuzzer + ASan + UBSan.
#
#   scripts/fuzz.sh [seconds]     run for that long (default 60), then print the stats
#
# Needs clang++ with libFuzzer; on Debian/Ubuntu it installs clang with apt-get when
# clang++ is missing (Debian 12: clang-14; libclang-rt-14-dev if libFuzzer is absent).
# Seeds: fuzz/corpus (made by fuzz/make-corpus.sh when missing). The binary, the inputs
# the fuzzer finds and crash artifacts go to $FUZZ_OUT (default: $TMPDIR/skiptrail-fuzz,
# outside build/, which `node-gyp rebuild` wipes). Exits non-zero when the fuzzer finds
# a failure; reproduce with: $FUZZ_OUT/log-parser-fuzz $FUZZ_OUT/artifacts/<file>.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TO_RUN="${1:-60}"
OUT="${FUZZ_OUT:-${TMPDIR:-/tmp}/skiptrail-fuzz}"
sources=$(node scripts/native-sources.mjs parser)  # native/core.gypi
mapfile -t SOURCES <<<"$sources"
FLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -DSKIPTRAIL_DCHECKS)

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  command -v apt-get >/dev/null || { echo "install clang with libFuzzer, then rerun" >&2; exit 1; }
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]]; then
    as_root apt-get update
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

CXX="${CXX:-clang++}"
if ! command -v "$CXX" >/dev/null; then
  apt_install clang
fi
mkdir -p "$OUT/corpus" "$OUT/artifacts"
# libFuzzer ships in libclang-rt-<version>-dev on newer Debian/Ubuntu packagings.
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    "$CXX" -x c++ -fsanitize=fuzzer -o "$OUT/probe" - 2>/dev/null; then
  version=$("$CXX" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
  apt_install "libclang-rt-${version}-dev"
fi
rm -f "$OUT/probe"

if [[ -z "$(ls -A fuzz/corpus 2>/dev/null)" ]]; then
  bash fuzz/make-corpus.sh
fi

"$CXX" "${FLAGS[@]}" -o "$OUT/log-parser-fuzz" fuzz/log-parser-fuzz.cc "${SOURCES[@]}"
echo "fuzzing for ${SECONDS_TO_RUN}s with $("$CXX" --version | head -1); output in $OUT"
"$OUT/log-parser-fuzz" "$OUT/corpus" fuzz/corpus \
  -dict=fuzz/log-parser.dict \
  -max_total_time="$SECONDS_TO_RUN" \
  -max_len=4096 \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -artifact_prefix="$OUT/artifacts/" \
  -print_final_stats=1
