#!/usr/bin/env bash
# Redis for the bench: a throwaway instance on 127.0.0.1, used as an in-memory structure
# server like skiptrail: no RDB snapshots, no AOF (persistence would fork mid-run).
# LC_ALL=C so Lua string comparison in the presence script is byte-wise.
#
#   bench/servers/redis.sh start|stop|status|pid
#   env: SKIPTRAIL_REDIS_PORT (default 63799), SKIPTRAIL_BENCH_DIR (default /tmp/skiptrail-bench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

port=${SKIPTRAIL_REDIS_PORT:-63799}
dir="$(bench_root_dir)/redis"
pidfile="$dir/server.pid"
user=redis
id "$user" >/dev/null 2>&1 || user=$(id -un)

case "${1:-}" in
  start)
    if print_status "$pidfile" >/dev/null; then echo "redis already running (pid $(head -n1 "$pidfile"))"; exit 0; fi
    command -v redis-server >/dev/null || { echo "redis-server not found: run bench/servers/install.sh" >&2; exit 1; }
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$user" "$dir"
    LC_ALL=C run_as "$user" redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes --dir "$dir" \
      --pidfile "$pidfile" --logfile "$dir/server.log" --daemonize yes --save '' --appendonly no
    for ((i = 0; i < 300; i++)); do [ -s "$pidfile" ] && break; sleep 0.1; done
    wait_port "$port" 30 || { tail -20 "$dir/server.log" >&2; exit 1; }
    echo "redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) running pid $(cat "$pidfile") on 127.0.0.1:$port (data $dir)"
    ;;
  stop)
    stop_pidfile "$pidfile" TERM 30
    rm -rf "$dir"
    ;;
  status) print_status "$pidfile" ;;
  pid) head -n1 "$pidfile" ;;
  *) echo "usage: $0 start|stop|status|pid" >&2; exit 2 ;;
esac
