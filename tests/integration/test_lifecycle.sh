#!/usr/bin/env bash
# The daemon's life, against the real daemon on 127.0.0.1: SIGTERM while keep-alive clients
# go on clicking (20 runs with one sequential keep-alive client, 3 under wrk) exits 0 every
# time with every answered click stored; a second `serve` on the same data folder is refused
# with the holder's pid while other commands go on working; a second daemon on the same port
# fails to bind (no SO_REUSEPORT splitting visitors between two processes).
# Environment: STOP_RUNS (default 20), WRK_RUNS (default 3).
source "$(dirname "$0")/lib.sh"
STOP_RUNS=${STOP_RUNS:-20}
WRK_RUNS=${WRK_RUNS:-3}
T_START=$SECONDS

jejak influencer add ayu --name Ayu --platform instagram >/dev/null
jejak campaign add launch --name Launch >/dev/null
jejak link add --influencer ayu --campaign launch --to 'https://shop.example/dress' --slug ayu >/dev/null

# ---- SIGTERM under keep-alive load ---------------------------------------------------------
# One curl, many URLs: every click on one kept-alive connection, one after the other. The
# answered click ids are collected and must all be in the store afterwards.
URLS=$WORK/urls
: > "$WORK/answered"
sigterm_run() { # RUN: one daemon, a keep-alive client, SIGTERM in the middle of it
  start_daemon --flood-limit 0
  printf "url = \"$BASE/l/ayu\"\n%.0s" $(seq 1 3000) > "$URLS"
  curl -s -A "$BROWSER" -K "$URLS" -o /dev/null -w '%{http_code} %{redirect_url}\n' > "$WORK/codes" 2>/dev/null &
  local client=$!
  for _ in $(seq 1 100); do [ "$(wc -l < "$WORK/codes")" -ge 20 ] && break; sleep 0.02; done
  sleep 0."$((RANDOM % 3))"
  kill -TERM "$DAEMON_PID"
  local rc=0
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=""
  wait "$client" 2>/dev/null || true
  local n
  n=$(grep -c '^302 ' "$WORK/codes" || true)
  [ "$rc" = 0 ] || fail "run $1: the daemon exited $rc on SIGTERM under keep-alive load ($n clicks answered)"
  [ "$n" -ge 20 ] || fail "run $1: only $n clicks were answered before SIGTERM (expected the client to be busy)"
  [ "$n" -lt 3000 ] || fail "run $1: the client finished before SIGTERM: nothing was tested"
  grep -q 'stopped cleanly' "$WORK/daemon.log" || fail "run $1: no clean stop in the log"
  sed -n 's/^302 .*jclid=\([0-9A-Z]*\).*/\1/p' "$WORK/codes" >> "$WORK/answered"
  ANSWERED_RUN=$n
}
total=0
for run in $(seq 1 "$STOP_RUNS"); do
  sigterm_run "$run"
  total=$((total + ANSWERED_RUN))
done
jejak clicks export | sed 's/.*"click_id":"\([^"]*\)".*/\1/' | sort > "$WORK/stored"
missing=$(sort "$WORK/answered" | comm -23 - "$WORK/stored" | wc -l)
expect_eq "$(wc -l < "$WORK/answered")" "$total" "every answer carried a click id"
expect_eq "$missing" 0 "answered clicks missing from the store"
pass "SIGTERM with a keep-alive client clicking: exit 0 in $STOP_RUNS of $STOP_RUNS runs, all $total answered clicks stored"

# wrk: several connections at once, kept alive; SIGTERM 0.8 s in.
if command -v wrk >/dev/null; then
  for run in $(seq 1 "$WRK_RUNS"); do
    before=$(jejak clicks export | wc -l)
    start_daemon --flood-limit 0
    wrk -t2 -c16 -d2s -H "User-Agent: $BROWSER" "$BASE/l/ayu" > "$WORK/wrk.out" 2>&1 &
    client=$!
    sleep 0.8
    kill -TERM "$DAEMON_PID"
    rc=0
    wait "$DAEMON_PID" || rc=$?
    DAEMON_PID=""
    wait "$client" || true
    answered=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
    stored=$(($(jejak clicks export | wc -l) - before))
    [ "$rc" = 0 ] || fail "wrk run $run: the daemon exited $rc on SIGTERM ($answered answered)"
    [ "${answered:-0}" -gt 0 ] || fail "wrk run $run: wrk got no answer: $(cat "$WORK/wrk.out")"
    [ "$stored" -ge "$answered" ] || fail "wrk run $run: $stored clicks stored for $answered answered"
  done
  pass "SIGTERM under wrk (16 keep-alive connections): exit 0 in $WRK_RUNS of $WRK_RUNS runs, stored >= answered"

  # Clients that go away while their click waits for the writer (wrk closes its 64
  # connections mid-request when it stops): their requests end without an answer, and the
  # stop that follows must not wait for them forever.
  start_daemon --flood-limit 0
  wrk -t2 -c64 -d1s -H "User-Agent: $BROWSER" -H 'Connection: close' "$BASE/l/ayu" > "$WORK/wrk.out" 2>&1
  kill -TERM "$DAEMON_PID"
  for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$DAEMON_PID" 2>/dev/null && fail "SIGTERM after clients left mid-request: still running 10 s later"
  rc=0
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=""
  [ "$rc" = 0 ] || fail "SIGTERM after clients left mid-request: exit $rc"
  pass "SIGTERM after 64 clients left mid-request: exit 0 at once"
else
  echo "# wrk is not installed: the wrk runs are skipped"
fi

# The answer to a request that arrives once the stop has begun closes its connection.
start_daemon --flood-limit 0
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&3
IFS= read -r -t 5 line <&3 || fail "no answer on the kept-alive connection"
expect_match "$line" '^HTTP/1\.1 200' "first answer"
while IFS= read -r -t 5 line <&3 && [ "$line" != $'\r' ]; do :; done
IFS= read -r -t 5 -N 16 _ <&3 || true # {"status":"ok"}\n
kill -TERM "$DAEMON_PID"
sleep 0.1 # (a click arriving now is still answered, and stored, and its connection closed)
wait "$DAEMON_PID" || fail "daemon exited non-zero on SIGTERM with an idle keep-alive connection open"
DAEMON_PID=""
exec 3<&-
pass "SIGTERM with an idle keep-alive connection open: exit 0"

# ---- one daemon per data folder, one per port ----------------------------------------------
start_daemon --flood-limit 0
first_pid=$DAEMON_PID
first_port=$PORT
# (timeout: a second daemon that does start must not hold the test up.)
rc=0
out=$(timeout 5 "$JEJAK" serve --listen 127.0.0.1:0 2>&1) || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "a second serve on the same data folder started (exit $rc): $out"
expect_match "$out" "data folder $JEJAK_DATA is in use by another jejak serve \\(pid $first_pid\\)" "second serve on one folder"
# The other commands still read and write while the daemon runs.
jejak link add --influencer ayu --campaign launch --to 'https://shop.example/b' --slug second >/dev/null ||
  fail "link add while the daemon runs"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -A "$BROWSER" "$BASE/l/second")" 302 "a link added while the daemon runs"
jejak clicks export >/dev/null || fail "clicks export while the daemon runs"
pass "a second serve on one data folder is refused, naming the folder and pid $first_pid; the CLI still works"

other=$WORK/other
rc=0
out=$(JEJAK_DATA=$other timeout 5 "$JEJAK" serve --listen "127.0.0.1:$first_port" 2>&1) || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "a second daemon listened on port $first_port too (exit $rc): $out"
expect_match "$out" "cannot listen on 127.0.0.1:$first_port" "second daemon on one port"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" 200 "the first daemon still serves"
stop_daemon
# A daemon killed with -9 leaves no lock behind: the lock goes with the process.
start_daemon --flood-limit 0
{ kill -9 "$DAEMON_PID" && wait "$DAEMON_PID"; } 2>/dev/null || true
start_daemon --flood-limit 0
stop_daemon
pass "a second daemon on one port fails to bind; a daemon killed with -9 leaves no lock ($((SECONDS - T_START)) s)"
