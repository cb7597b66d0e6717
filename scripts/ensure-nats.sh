#!/usr/bin/env bash
# Makes sure nats-server (the NATS broker that test/nats.test.ts starts on loopback) is
# installed, from Debian's package. Run by .ci/run before the tests; safe to run again.
# Needs root or password-less sudo. Prints the server's version and exits 0 when
# nats-server runs, 1 when it could not be installed.
set -euo pipefail

find_server() {
  local candidate
  for candidate in "$(command -v nats-server 2>/dev/null || true)" /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if server=$(find_server); then
  echo "ensure-nats: $("$server" --version) at $server"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-nats: nats-server is missing and there is no apt-get to install it" >&2
  exit 1
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "ensure-nats: nats-server is missing; installing it needs root (or password-less sudo)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt or dpkg run (unattended upgrades) rather than fail on its lock.
apt=("${as_root[@]}" apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3 -q)

install() { "${apt[@]}" install -y --no-install-recommends nats-server; }

installed=false
for attempt in 1 2 3; do
  # The package lists may be missing (a fresh machine) or stale (404 on an old version).
  if install || { "${apt[@]}" update && install; }; then
    installed=true
    break
  fi
  echo "ensure-nats: attempt $attempt failed; retrying in $((attempt * 10)) s" >&2
  sleep $((attempt * 10))
done

if [ "$installed" = true ] && server=$(find_server); then
  echo "ensure-nats: installed $("$server" --version) at $server"
  exit 0
fi
echo "ensure-nats: could not install nats-server" >&2
exit 1
