#!/usr/bin/env bash
# PostgreSQL 15 for the bench: a throwaway cluster on 127.0.0.1 with default durability
# (fsync, synchronous_commit and full_page_writes on), locale C, trust auth for user bench.
#
#   bench/servers/postgres.sh start|stop|status|pid
#   env: SKIPTRAIL_PG_PORT (default 54329), SKIPTRAIL_BENCH_DIR (default /tmp/skiptrail-bench)
# Data dir: $SKIPTRAIL_BENCH_DIR/postgres (recreated on start, removed on stop).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

port=${SKIPTRAIL_PG_PORT:-54329}
dir="$(bench_root_dir)/postgres"
pidfile="$dir/server.pid"
bindir=/usr/lib/postgresql/15/bin
[ -x "$bindir/postgres" ] || bindir=$(dirname "$(readlink -f "$(command -v postgres)")")
user=postgres
id "$user" >/dev/null 2>&1 || user=$(id -un)

case "${1:-}" in
  start)
    if print_status "$pidfile" >/dev/null; then echo "postgres already running (pid $(head -n1 "$pidfile"))"; exit 0; fi
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$user" "$dir"
    run_as "$user" "$bindir/initdb" -D "$dir/data" -U bench --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    run_as "$user" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" >/dev/null \
      || { tail -20 "$dir/server.log" >&2; exit 1; }
    head -n1 "$dir/data/postmaster.pid" >"$pidfile"
    wait_port "$port" 30 || { echo "postgres did not listen on $port" >&2; exit 1; }
    echo "postgres $("$bindir/postgres" --version | awk '{print $3}') running pid $(cat "$pidfile") on 127.0.0.1:$port (data $dir)"
    ;;
  stop)
    # SIGINT = fast shutdown (rolls back open transactions, then exits cleanly).
    stop_pidfile "$pidfile" INT 60
    rm -rf "$dir"
    ;;
  status) print_status "$pidfile" ;;
  pid) head -n1 "$pidfile" ;;
  *) echo "usage: $0 start|stop|status|pid" >&2; exit 2 ;;
esac
