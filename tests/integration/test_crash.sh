#!/usr/bin/env bash
# A crash under load loses no answered click: parallel visitors follow the tracking link,
# the daemon is killed with SIGKILL mid-load, and after a restart on the same data folder
# every click id that a visitor received in a 302 is in the export, and no id is stored
# twice. Three kill/restart cycles on one data folder.
source "$(dirname "$0")/lib.sh"

CYCLES=3
LOOPS=8
LOAD_SECONDS=2
ID_RE='jclid=[0-9A-HJKMNP-TV-Z]{26}'

# load CYCLE: LOOPS visitors in parallel, each appending the Location of every answered
# redirect to its own file. curl writes its -w line only once the transfer is over, and
# its Location only if the 302's headers arrived: a line with a jclid is an answered click.
# Each curl follows the link BATCH times over one connection (the 302 has no body), which
# costs far less than a process per click.
BATCH=20
LOAD_PIDS=()
load() {
  rm -f "$WORK/stop"
  LOAD_PIDS=()
  local urls=()
  for _ in $(seq 1 "$BATCH"); do urls+=("$BASE/l/ayu-ramadan"); done
  for i in $(seq 1 "$LOOPS"); do
    (
      while [ ! -e "$WORK/stop" ]; do
        curl -s --max-time 5 -A "$BROWSER" -w '%{http_code} %{redirect_url}\n' \
          "${urls[@]}" >> "$WORK/answers.$1.$i" 2>/dev/null || true
      done
    ) &
    LOAD_PIDS+=($!)
  done
}
stop_load() {
  touch "$WORK/stop"
  for pid in "${LOAD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  LOAD_PIDS=()
}
trap 'touch "$WORK/stop" 2>/dev/null; for p in "${LOAD_PIDS[@]}"; do wait "$p" 2>/dev/null; done; cleanup' EXIT

# clicks_entries: the Entries of the clicks database, from mdb_stat (one entry per click).
clicks_entries() {
  local out
  out=$(mdb_stat -a "$JEJAK_DATA" 2>&1) || fail "mdb_stat cannot read the data folder: $out"
  echo "$out" | awk '/^Status of / {db = $3} db == "clicks" && $1 == "Entries:" {print $2}'
}
have_mdb_stat=false
command -v mdb_stat >/dev/null && have_mdb_stat=true
$have_mdb_stat || echo "# mdb_stat not found (package lmdb-utils): skipping the LMDB-level checks"

start_daemon --demo
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -A "$BROWSER" "$BASE/l/ayu-ramadan")" "302" "demo link"

for cycle in $(seq 1 "$CYCLES"); do
  load "$cycle"
  sleep "$LOAD_SECONDS"
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "cycle $cycle: the daemon died under load"
  kill_daemon
  stop_load

  cat "$WORK"/answers.*.* | grep -oE "$ID_RE" | cut -c7- > "$WORK/answered" || true
  answered_cycle=$(cat "$WORK"/answers."$cycle".* | grep -cE "^302 .*$ID_RE" || true)
  [ "$answered_cycle" -gt 0 ] || fail "cycle $cycle: no redirect was answered before the kill"
  odd=$(cat "$WORK"/answers."$cycle".* | grep -vE '^(302|000) ' | head -3 || true)
  [ -z "$odd" ] || fail "cycle $cycle: answers other than 302 (or none, once killed): $odd"
  dup=$(sort "$WORK/answered" | uniq -d | head -3)
  [ -z "$dup" ] || fail "cycle $cycle: the same click id was handed to two visitors: $dup"

  if $have_mdb_stat; then
    entries=$(clicks_entries)
    [[ "$entries" =~ ^[0-9]+$ ]] || fail "cycle $cycle: no clicks database in mdb_stat -a"
  fi

  # The same data folder opens after the crash and serves.
  start_daemon
  expect_eq "$(curl -s "$BASE/healthz")" '{"status":"ok"}' "cycle $cycle: healthz after restart"
  loc=$(curl -s -o /dev/null -A "$BROWSER" -w '%{http_code} %{redirect_url}' "$BASE/l/ayu-ramadan")
  expect_match "$loc" "^302 https://shop\.example/products/batik-dress\?.*$ID_RE\$" "cycle $cycle: a click after restart"
  fresh=${loc##*jclid=}

  jejak clicks export > "$WORK/export" || fail "cycle $cycle: export after restart"
  sed -n 's/^{"click_id":"\([0-9A-Z]*\)".*/\1/p' "$WORK/export" | sort > "$WORK/stored"
  expect_eq "$(wc -l < "$WORK/stored")" "$(wc -l < "$WORK/export")" "cycle $cycle: every export line has a click_id"
  dup=$(uniq -d "$WORK/stored" | head -3)
  [ -z "$dup" ] || fail "cycle $cycle: click ids stored twice: $dup"
  missing=$(sort -u "$WORK/answered" | comm -23 - "$WORK/stored")
  [ -z "$missing" ] || fail "cycle $cycle: $(echo "$missing" | wc -l) answered clicks lost, e.g. $(echo "$missing" | head -3 | tr '\n' ' ')"
  grep -qx "$fresh" "$WORK/stored" || fail "cycle $cycle: the click after restart is not stored"
  if $have_mdb_stat; then
    expect_eq "$(wc -l < "$WORK/stored")" "$((entries + 1))" "cycle $cycle: export = mdb_stat clicks entries + the new click"
  fi
  pass "cycle $cycle: kill -9 under load ($answered_cycle answered this cycle); restart serves;" \
       "all $(wc -l < "$WORK/answered") answered ids among $(wc -l < "$WORK/stored") stored, none twice"
done

stop_daemon
grep -q "stopped cleanly" "$WORK/daemon.log" || fail "no clean stop after the crashes"
if $have_mdb_stat; then
  expect_eq "$(clicks_entries)" "$(jejak clicks export | wc -l)" "mdb_stat clicks entries = export lines"
fi
pass "clean stop after $CYCLES crashes; data folder consistent"
