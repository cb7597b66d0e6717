#!/usr/bin/env bash
# MariaDB for the bench: a throwaway instance on 127.0.0.1 with the server's defaults
# (InnoDB, innodb_flush_log_at_trx_commit=1, 128 MiB buffer pool), no binary log,
# user bench with no password, database bench.
#
#   bench/servers/mariadb.sh start|stop|status|pid
#   env: SKIPTRAIL_MARIADB_PORT (default 33069), SKIPTRAIL_BENCH_DIR (default /tmp/skiptrail-bench)
# Data dir: $SKIPTRAIL_BENCH_DIR/mariadb (recreated on start, removed on stop).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

port=${SKIPTRAIL_MARIADB_PORT:-33069}
dir="$(bench_root_dir)/mariadb"
pidfile="$dir/server.pid"
sock="$dir/mysqld.sock"
user=mysql
id "$user" >/dev/null 2>&1 || user=$(id -un)
mariadbd=$(command -v mariadbd || command -v mysqld || echo /usr/sbin/mariadbd)

case "${1:-}" in
  start)
    if print_status "$pidfile" >/dev/null; then echo "mariadb already running (pid $(head -n1 "$pidfile"))"; exit 0; fi
    [ -x "$mariadbd" ] || { echo "mariadbd not found: run bench/servers/install.sh" >&2; exit 1; }
    rm -rf "$dir"; mkdir -p "$dir/data"
    [ "$(id -u)" -eq 0 ] && chown -R "$user" "$dir"
    mariadb-install-db --no-defaults --user="$user" --datadir="$dir/data" --auth-root-authentication-method=socket \
      --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
    # --user: mariadbd drops root privileges to this user itself.
    "$mariadbd" --no-defaults --user="$user" --datadir="$dir/data" --socket="$sock" --port="$port" \
      --bind-address=127.0.0.1 --pid-file="$pidfile" --log-error="$dir/server.log" --skip-log-bin \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_bin >/dev/null 2>&1 &
    for ((i = 0; i < 300; i++)); do [ -S "$sock" ] && [ -s "$pidfile" ] && break; sleep 0.1; done
    wait_port "$port" 30 || { tail -20 "$dir/server.log" >&2; exit 1; }
    mariadb --no-defaults --socket="$sock" -uroot -e "
      CREATE DATABASE bench CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
      CREATE USER 'bench'@'127.0.0.1';
      GRANT ALL ON bench.* TO 'bench'@'127.0.0.1';" || { tail -20 "$dir/server.log" >&2; exit 1; }
    echo "mariadb $("$mariadbd" --version | awk '{print $3}') running pid $(cat "$pidfile") on 127.0.0.1:$port (data $dir)"
    ;;
  stop)
    stop_pidfile "$pidfile" TERM 60
    rm -rf "$dir"
    ;;
  status) print_status "$pidfile" ;;
  pid) head -n1 "$pidfile" ;;
  *) echo "usage: $0 start|stop|status|pid" >&2; exit 2 ;;
esac
