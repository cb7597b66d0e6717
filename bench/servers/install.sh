#!/usr/bin/env bash
# Installs the Debian packages the server contenders need, if they are missing:
# mariadb-server and redis-server. PostgreSQL 15 binaries are expected in
# /usr/local/bin or /usr/lib/postgresql/15/bin (postgresql-15 is installed when not).
# The packages' own services are NOT started: policy-rc.d denies it, and the bench
# starts private instances on 127.0.0.1 with bench/servers/{postgres,mariadb,redis}.sh.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || need+=(mariadb-server)
if ! command -v postgres >/dev/null 2>&1 && [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
  need+=(postgresql-15)
fi

if [ ${#need[@]} -eq 0 ]; then
  echo "servers/install: nothing to install"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "servers/install: need root to apt-get install ${need[*]}" >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]; then
  apt-get update -q
fi
echo "servers/install: apt-get install ${need[*]}"
apt-get install -y -q --no-install-recommends "${need[@]}"
