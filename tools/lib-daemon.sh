# shellcheck shell=bash
# lib-daemon.sh: the one place scripts start and stop `jejak serve`, sourced by the
# integration tests (tests/integration/lib.sh), the benchmarks (tools/bench-*.sh),
# tools/soak.sh and tools/powercut.sh. It defines functions only and never exits: each
# returns non-zero and lets its caller say so its own way (a test fails, a benchmark
# prints and exits). Works with and without `set -e`.
#
#   daemon_start LOG CMD...  runs CMD, a `jejak serve --listen 127.0.0.1:0 ...` command
#                            line (put an environment in front with `env VAR=value`), in
#                            the background with its output in LOG (emptied first); waits
#                            for its "listening on" line and sets DAEMON_PID, PORT and BASE.
#                            Returns 1 if it exited first or said nothing in 10 s (the
#                            process, if still there, is left in DAEMON_PID).
#   daemon_stop              SIGTERM, then waits: returns the daemon's exit status. Clears
#                            DAEMON_PID.
#   daemon_kill              kill -9 (a crash, or a power cut) and reaps it. Clears DAEMON_PID.
#   daemon_cleanup           for EXIT traps: SIGTERM, SIGKILL after 5 s if still there,
#                            reaped; does nothing without a daemon; never fails.
DAEMON_PID=""
DAEMON_LOG=""
PORT=""
BASE=""

daemon_start() {
  DAEMON_LOG=$1
  shift
  : > "$DAEMON_LOG"
  "$@" >> "$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
  PORT=""
  BASE=""
  local _
  for _ in $(seq 1 200); do
    PORT=$(sed -n 's|^jejak: listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$DAEMON_LOG")
    [ -n "$PORT" ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$PORT" ] || return 1
  BASE=http://127.0.0.1:$PORT
}

daemon_stop() {
  local rc=0
  kill -TERM "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=""
  return "$rc"
}

daemon_kill() {
  kill -KILL "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=""
}

daemon_cleanup() {
  local _
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  DAEMON_PID=""
}
