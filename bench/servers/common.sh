# Shared helpers for the bench server scripts (sourced, not run).
# Each server runs on 127.0.0.1 only, with its data in a private directory, and is
# stopped by the PID it wrote to $DIR/server.pid.

bench_root_dir() {
  echo "${SKIPTRAIL_BENCH_DIR:-${TMPDIR:-/tmp}/skiptrail-bench}"
}

# run_as USER CMD...: run as USER when we are root (servers refuse to run as root).
run_as() {
  local user=$1; shift
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# wait_port PORT SECONDS: wait until something listens on 127.0.0.1:PORT.
wait_port() {
  local port=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# stop_pidfile PIDFILE SIGNAL SECONDS: signal the PID in PIDFILE and wait for it to exit;
# SIGKILL after SECONDS. Only that PID is ever signalled.
stop_pidfile() {
  local pidfile=$1 sig=$2 secs=$3 pid i
  if [ ! -s "$pidfile" ]; then echo "no pid file $pidfile (not running?)"; return 0; fi
  pid=$(head -n1 "$pidfile" | tr -dc '0-9')
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "pid $pid not running"; rm -f "$pidfile"; return 0; fi
  kill "-$sig" "$pid"
  for ((i = 0; i < secs * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then rm -f "$pidfile"; echo "stopped pid $pid"; return 0; fi
    sleep 0.1
  done
  echo "pid $pid did not stop after ${secs}s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

print_status() {
  local pidfile=$1 pid
  if [ -s "$pidfile" ] && pid=$(head -n1 "$pidfile" | tr -dc '0-9') && kill -0 "$pid" 2>/dev/null; then
    echo "running pid $pid"
    return 0
  fi
  echo "not running"
  return 1
}
