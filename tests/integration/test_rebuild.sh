#!/usr/bin/env bash
# `jejak rollups rebuild` on a live store: a store of 200,000 clicks (made by jejak-seed,
# beside the jejak binary), the daemon answering redirects, and a rebuild, then a check,
# run meanwhile. The redirects go on (p99 under 200 ms more than without a rebuild, measured
# first: the machine may be loaded by others; the rebuild works in short slices, not in one
# transaction over every click), the clicks that arrive during the rebuild are counted once,
# and the rollups equal a rebuild from the raw records after it.
source "$(dirname "$0")/lib.sh"

SEED=$(dirname "$JEJAK")/jejak-seed
[ -x "$SEED" ] || fail "jejak-seed not found beside $JEJAK"
"$SEED" --data "$JEJAK_DATA" --clicks 200000 --conversions 2000 --days 20 --seed 7 \
  > "$WORK/seed.out" 2> "$WORK/seed.err" || { cat "$WORK/seed.err" >&2; fail "jejak-seed"; }
slug=$(jejak link list | awk 'NR == 2 { print $1 }')
[ -n "$slug" ] || fail "no link in the seeded store"
pass "seeded 200000 clicks ($slug among the links)"

start_daemon --flood-limit 0 # one address sends every redirect

# redirects URL...: one curl, one keep-alive connection, a line "<code> <seconds>" a request.
urls=()
for _ in $(seq 1 20); do urls+=("$BASE/l/$slug"); done
redirects() { curl -s -A "$BROWSER" -o /dev/null -w '%{http_code} %{time_total}\n' "${urls[@]}"; }

run_during() { # run_during NAME CMD...: redirects while CMD runs; times into $WORK/NAME.times
  local name=$1
  shift
  "$@" > "$WORK/$name.out" 2>&1 &
  local pid=$!
  : > "$WORK/$name.times"
  while kill -0 "$pid" 2>/dev/null; do redirects >> "$WORK/$name.times"; done
  wait "$pid" || { cat "$WORK/$name.out" >&2; fail "$* failed"; }
}
# p99 FILE: the nearest-rank 99th percentile of the times in FILE, in ms.
p99() { awk '{ print $2 }' "$1" | sort -n | awk '{ v[NR] = $1 } END { i = int((NR * 99 + 99) / 100); printf "%d", v[i] * 1000 }'; }

# The machine's own pace first (others may load it): 200 redirects with nothing else running.
for _ in $(seq 1 10); do redirects; done > "$WORK/idle.times"
idle=$(p99 "$WORK/idle.times")
# JEJAK_TIME_SCALE (tools/test.sh --tsan sets 10): a sanitizer slows every slice as much.
limit=$((200 * ${JEJAK_TIME_SCALE:-1} + idle))
pass "redirect p99 with no rebuild: $idle ms; allowed during the rebuild: $limit ms"
before=$(curl -s "$BASE/metrics" | sed -n 's/^jejak_clicks_total //p')

run_during rebuild "$JEJAK" rollups rebuild
grep -q '^rollups rebuilt: ' "$WORK/rebuild.out" || fail "rebuild said: $(cat "$WORK/rebuild.out")"
n=$(wc -l < "$WORK/rebuild.times")
ms=$(p99 "$WORK/rebuild.times")
[ "$ms" -lt "$limit" ] || fail "redirect p99 during the rebuild: $ms ms (over $n redirects), want < $limit"
[ "$n" -ge 40 ] || fail "only $n redirects during the rebuild: too few to measure"
grep -qv '^302 ' "$WORK/rebuild.times" && fail "a redirect was not a 302 during the rebuild"
pass "$n redirects during the rebuild, all 302, p99 $ms ms"

run_during check "$JEJAK" rollups rebuild --check
grep -q '^rollups match a rebuild' "$WORK/check.out" || fail "check said: $(cat "$WORK/check.out")"
ms=$(p99 "$WORK/check.times")
[ "$ms" -lt "$limit" ] || fail "redirect p99 during the check: $ms ms, want < $limit"
pass "$(wc -l < "$WORK/check.times") redirects during the check, p99 $ms ms; the rollups match"

# Every redirect answered was stored once and counted once in the rollups.
sent=$(cat "$WORK/rebuild.times" "$WORK/check.times" | grep -c '^302 ')
after=$(curl -s "$BASE/metrics" | sed -n 's/^jejak_clicks_total //p')
expect_eq "$((after - before))" "$sent" "clicks stored while the rebuild and check ran"
stop_daemon
expect_match "$(jejak rollups rebuild --check)" '^rollups match a rebuild from raw records' "after the daemon stopped"
pass "$sent clicks during the rebuild stored and counted once; the rollups match after"
