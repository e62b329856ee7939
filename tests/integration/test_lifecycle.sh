#!/usr/bin/env bash
# The daemon's life, against the real daemon on 127.0.0.1: a second `serve` on the same
# data folder is refused with the holder's pid while other commands go on working; a second
# daemon on the same port fails to bind (no SO_REUSEPORT splitting visitors between two
# processes).
source "$(dirname "$0")/lib.sh"
T_START=$SECONDS

jejak influencer add ayu --name Ayu --platform instagram >/dev/null
jejak campaign add launch --name Launch >/dev/null
jejak link add --influencer ayu --campaign launch --to 'https://shop.example/dress' --slug ayu >/dev/null

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
