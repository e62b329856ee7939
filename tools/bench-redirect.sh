#!/usr/bin/env bash
# bench-redirect.sh: how fast jejak answers a tracking link, against the ceiling of its
# stack. A benchmark, not a test (ctest does not run it).
#
# Builds a Release tree in build-bench/ (or uses $JEJAK_BUILD, e.g. JEJAK_BUILD=build),
# starts `jejak serve --demo` on a fresh data folder and a free loopback port, and drives
# GET /l/ayu-ramadan with wrk: keep-alive, then `Connection: close`. Then the same two
# runs against jejak-ceiling (a bare libmicrohttpd 302 responder configured like the
# daemon). Prints requests/s and latency for the four runs, jejak's peak RSS, the
# jejak/ceiling ratios, clicks per commit, and checks that every 302 wrk counted was
# stored (export lines).
#
# Environment: DURATION (seconds, default 10), CONNECTIONS (64), WRK_THREADS (2),
# SERVER_THREADS (2), JEJAK_BUILD (a build folder to use instead of build-bench/),
# VERBOSE=1 (print wrk's own output too).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source tools/lib-daemon.sh

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
SERVER_THREADS=${SERVER_THREADS:-2}
VERBOSE=${VERBOSE:-0}
UA='Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148'
# Targets printed beside the figures.
TARGET_RATIO_KA=0.75
TARGET_P99_MS=10
TARGET_RSS_MIB=64

for n in DURATION CONNECTIONS WRK_THREADS SERVER_THREADS; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || { echo "bench-redirect: $n must be a positive integer" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "bench-redirect: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "bench-redirect: curl is not installed" >&2; exit 2; }

TMP=$(mktemp -d /tmp/jejak-bench.XXXXXX)
CEIL_PID=""
cleanup() {
  daemon_cleanup
  if [ -n "$CEIL_PID" ] && kill -0 "$CEIL_PID" 2>/dev/null; then
    kill -TERM "$CEIL_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$CEIL_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$CEIL_PID" 2>/dev/null || true
    wait "$CEIL_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ------------------------------------------------------------------------------
if [ -n "${JEJAK_BUILD:-}" ]; then
  BUILD=$(cd "$JEJAK_BUILD" && pwd)
else
  BUILD=$ROOT/build-bench
  echo "building Release in build-bench/ ..."
  if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DJEJAK_BENCH=ON >/dev/null &&
         cmake --build "$BUILD" -j"$(nproc)" --target jejak jejak-ceiling >"$TMP/build.log" 2>&1; }; then
    if [ -x "$ROOT/build/jejak" ] && [ -x "$ROOT/build/jejak-ceiling" ]; then
      echo "bench-redirect: the Release build failed (see below); using build/ instead" >&2
      tail -20 "$TMP/build.log" >&2
      BUILD=$ROOT/build
    else
      cat "$TMP/build.log" >&2
      exit 1
    fi
  fi
fi
JEJAK=$BUILD/jejak
CEILING=$BUILD/jejak-ceiling
[ -x "$JEJAK" ] && [ -x "$CEILING" ] || { echo "bench-redirect: no jejak or jejak-ceiling in $BUILD" >&2; exit 1; }
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)

# wrk reports through this script: exact percentiles in microseconds, parsed below.
cat > "$TMP/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
                         "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
EOF

# A free loopback port for jejak-ceiling (jejak itself takes port 0 and says which).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "bench-redirect: no free port found" >&2
  exit 1
}

# wait_302 URL: waits until URL answers 302.
wait_302() {
  for _ in $(seq 1 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -A "$UA" "$1" || true)" = 302 ] && return 0
    sleep 0.05
  done
  echo "bench-redirect: $1 does not answer 302" >&2
  exit 1
}

declare -A R # R[run,field]
# run_wrk NAME URL [extra wrk args]: one wrk run, results in R[NAME,*].
run_wrk() {
  local name=$1 url=$2
  shift 2
  local out=$TMP/wrk-$name.txt
  echo "  wrk $name: ${DURATION}s, $CONNECTIONS connections, $WRK_THREADS threads ..."
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$TMP/report.lua" \
      -H "User-Agent: $UA" "$@" "$url" > "$out" 2>&1 || { cat "$out" >&2; exit 1; }
  if [ "$VERBOSE" = 1 ]; then sed 's/^/    | /' "$out"; fi
  local line
  line=$(grep '^BENCH ' "$out") || { cat "$out" >&2; echo "bench-redirect: no summary from wrk" >&2; exit 1; }
  for kv in ${line#BENCH }; do R[$name,${kv%%=*}]=${kv#*=}; done
  R[$name,rps]=$(sed -n 's/^Requests\/sec: *//p' "$out")
  R[$name,non3xx]=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$out")
  R[$name,non3xx]=${R[$name,non3xx]:-0}
  # The "N requests in" line is what the brief counts; it equals summary.requests.
  local n
  n=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$out")
  [ "$n" = "${R[$name,requests]}" ] || echo "bench-redirect: warning: wrk says $n requests, summary ${R[$name,requests]}" >&2
}

# ---- jejak ------------------------------------------------------------------------------
echo "jejak: $JEJAK (${BUILD_TYPE:-unknown build type})"
daemon_start "$TMP/jejak.log" "$JEJAK" serve --demo --data "$TMP/data" --listen 127.0.0.1:0 \
  --threads "$SERVER_THREADS" --flood-limit 0 ||
  { cat "$TMP/jejak.log" >&2; echo "bench-redirect: jejak did not start" >&2; exit 1; }
JEJAK_PID=$DAEMON_PID
URL=http://127.0.0.1:$PORT/l/ayu-ramadan
echo "jejak: pid $JEJAK_PID, $URL"
wait_302 "$URL"
RSS_START_KIB=$(awk '/^VmRSS:/ {print $2}' "/proc/$JEJAK_PID/status")
m0=$(curl -s "http://127.0.0.1:$PORT/metrics")
clicks0=$(echo "$m0" | awk '$1 == "jejak_clicks_total" {print $2}')
commits0=$(echo "$m0" | awk '$1 == "jejak_commits_total" {print $2}')

run_wrk jejak-ka "$URL"
run_wrk jejak-close "$URL" -H 'Connection: close'

metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
mval() { echo "$metrics" | awk -v k="$1" '$1 == k {print $2}'; }
CLICKS=$(mval jejak_clicks_total)
COMMITS=$(mval jejak_commits_total)
BOTS=$(mval jejak_bot_clicks_total)
STORAGE_ERRORS=$(mval jejak_storage_errors_total)
MAP_BYTES=$(mval jejak_map_size_bytes)
# The daemon's own view of latency (request to response, cumulative buckets), as percentages.
SERVER_HIST=$(echo "$metrics" | awk -F'[{}"= ]+' 'BEGIN {n = 0}
  /^jejak_request_duration_seconds_bucket/ {le[n] = $3; c[n++] = $NF}
  END {for (i = 0; i < n; i++) {
         printf "%s<=%s%s:%.2f%%", i ? " " : "", le[i], le[i] == "+Inf" ? "" : "s",
                c[n-1] ? 100 * c[i] / c[n-1] : 0}}')
HWM_KIB=$(awk '/^VmHWM:/ {print $2}' "/proc/$JEJAK_PID/status")
RSS_ANON_KIB=$(awk '/^RssAnon:/ {print $2}' "/proc/$JEJAK_PID/status")
RSS_FILE_KIB=$(awk '/^RssFile:/ {print $2}' "/proc/$JEJAK_PID/status")
RSS_END_KIB=$(awk '/^VmRSS:/ {print $2}' "/proc/$JEJAK_PID/status")
NTHREADS=$(awk '/^Threads:/ {print $2}' "/proc/$JEJAK_PID/status")
JEJAK_RC=0
daemon_stop || JEJAK_RC=$?
if [ "$JEJAK_RC" = 0 ] && ! grep -q 'stopped cleanly' "$TMP/jejak.log"; then JEJAK_RC=1; fi
STORED=$("$JEJAK" clicks export --data "$TMP/data" | wc -l)
DATA_KIB=$(du -sk "$TMP/data" | cut -f1)

# ---- ceiling ----------------------------------------------------------------------------
CPORT=$(free_port)
"$CEILING" "$CPORT" "$SERVER_THREADS" > "$TMP/ceiling.log" 2>&1 &
CEIL_PID=$!
CURL_=http://127.0.0.1:$CPORT/l/ayu-ramadan
echo "jejak-ceiling: pid $CEIL_PID, $CURL_"
wait_302 "$CURL_"
run_wrk ceiling-ka "$CURL_"
run_wrk ceiling-close "$CURL_" -H 'Connection: close'
CEIL_HWM_KIB=$(awk '/^VmHWM:/ {print $2}' "/proc/$CEIL_PID/status")
kill -TERM "$CEIL_PID"; wait "$CEIL_PID" 2>/dev/null || true
CEIL_PID=""

# ---- report -----------------------------------------------------------------------------
ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a >= b)}'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a < b)}'; }
verdict() { if "$@"; then echo "ok"; else echo "MISSED"; fi; }

echo
echo "== bench-redirect: GET /l/ayu-ramadan, ${DURATION}s per run, $CONNECTIONS connections," \
     "wrk $WRK_THREADS threads, server $SERVER_THREADS threads, $(nproc) CPUs, ${BUILD_TYPE:-?} =="
printf '%-16s %12s %10s %10s %10s %10s %10s %9s %s\n' run requests req/s p50_ms p90_ms p99_ms max_ms non3xx "socket errors (c/r/w/t)"
for run in jejak-ka jejak-close ceiling-ka ceiling-close; do
  printf '%-16s %12s %10s %10s %10s %10s %10s %9s %s\n' "$run" "${R[$run,requests]}" \
    "$(printf '%.0f' "${R[$run,rps]}")" "$(ms "${R[$run,p50_us]}")" "$(ms "${R[$run,p90_us]}")" \
    "$(ms "${R[$run,p99_us]}")" "$(ms "${R[$run,max_us]}")" "${R[$run,non3xx]}" \
    "${R[$run,connect]}/${R[$run,read]}/${R[$run,write]}/${R[$run,timeout]}"
done
echo

RATIO_KA=$(awk -v a="${R[jejak-ka,rps]}" -v b="${R[ceiling-ka,rps]}" 'BEGIN {printf "%.3f", a / b}')
RATIO_CL=$(awk -v a="${R[jejak-close,rps]}" -v b="${R[ceiling-close,rps]}" 'BEGIN {printf "%.3f", a / b}')
HWM_MIB=$(awk -v k="$HWM_KIB" 'BEGIN {printf "%.1f", k / 1024}')
P99_KA=$(ms "${R[jejak-ka,p99_us]}")
P99_CL=$(ms "${R[jejak-close,p99_us]}")
printf '%-44s %-22s %-14s %s\n' figure value target verdict
printf '%-44s %-22s %-14s %s\n' "jejak/ceiling req/s, keep-alive" "$RATIO_KA" ">= $TARGET_RATIO_KA" "$(verdict ge "$RATIO_KA" "$TARGET_RATIO_KA")"
printf '%-44s %-22s %-14s %s\n' "jejak/ceiling req/s, Connection: close" "$RATIO_CL" "(none)" "-"
printf '%-44s %-22s %-14s %s\n' "jejak p99, keep-alive" "$P99_KA ms" "< $TARGET_P99_MS ms" "$(verdict lt "$P99_KA" "$TARGET_P99_MS")"
printf '%-44s %-22s %-14s %s\n' "jejak p99, Connection: close" "$P99_CL ms" "< $TARGET_P99_MS ms" "$(verdict lt "$P99_CL" "$TARGET_P99_MS")"
printf '%-44s %-22s %-14s %s\n' "jejak peak RSS (VmHWM)" "$HWM_MIB MiB" "< $TARGET_RSS_MIB MiB" "$(verdict lt "$HWM_MIB" "$TARGET_RSS_MIB")"
RSS_ANON_MIB=$(awk -v k="$RSS_ANON_KIB" 'BEGIN {printf "%.1f", k / 1024}')
printf '%-44s %-22s %-14s %s\n' "  of which anonymous at the end (RssAnon)" "$RSS_ANON_MIB MiB" "(< $TARGET_RSS_MIB MiB)" "$(verdict lt "$RSS_ANON_MIB" "$TARGET_RSS_MIB")"
printf '%-44s %-22s\n' "  and file-backed (RssFile: LMDB map pages)" "$(awk -v k="$RSS_FILE_KIB" 'BEGIN {printf "%.1f MiB", k / 1024}')"
printf '%-44s %-22s\n' "  (RSS at start / at end, threads)" "$(awk -v a="$RSS_START_KIB" -v b="$RSS_END_KIB" 'BEGIN {printf "%.1f / %.1f MiB", a/1024, b/1024}'), $NTHREADS"
printf '%-44s %-22s\n' "  (jejak-ceiling peak RSS, for scale)" "$(awk -v k="$CEIL_HWM_KIB" 'BEGIN {printf "%.1f MiB", k / 1024}')"
printf '%-44s %-22s\n' "data folder after the runs / LMDB map size" "$((DATA_KIB / 1024)) MiB / $((MAP_BYTES / 1048576)) MiB"
printf '%-44s %s\n' "jejak's own latency histogram (both runs)" "$SERVER_HIST"
D_CLICKS=$((CLICKS - clicks0))
D_COMMITS=$((COMMITS - commits0))
printf '%-44s %-22s\n' "jejak_clicks_total / jejak_commits_total" "$CLICKS / $COMMITS"
printf '%-44s %-22s\n' "clicks per commit (during the runs)" \
  "$(awk -v a="$D_CLICKS" -v b="$D_COMMITS" 'BEGIN {printf "%.1f (%d / %d)", b ? a / b : 0, a, b}')"
printf '%-44s %-22s\n' "bot clicks / storage errors (expect 0 / 0)" "$BOTS / $STORAGE_ERRORS"

# Every 302 wrk counted must be stored. The server may have stored a few more: requests
# wrk had sent but whose answers it no longer counted when its clock ran out (at most one
# per connection per run), and the warm-up request.
ANSWERED=$(( ${R[jejak-ka,requests]} - ${R[jejak-ka,non3xx]} + ${R[jejak-close,requests]} - ${R[jejak-close,non3xx]} ))
EXTRA=$((STORED - ANSWERED))
BOUND=$((2 * CONNECTIONS + 1))
if [ "$EXTRA" -lt 0 ]; then
  CHECK="LOST $((-EXTRA)) CLICKS"
elif [ "$EXTRA" -le "$BOUND" ]; then
  CHECK="ok (every 302 stored; +$EXTRA answered after wrk stopped counting or warm-up, bound $BOUND)"
else
  CHECK="MISMATCH (+$EXTRA stored beyond the $BOUND in-flight bound)"
fi
printf '%-44s %-22s\n' "302s counted by wrk (both jejak runs)" "$ANSWERED"
printf '%-44s %-22s\n' "clicks stored (export lines)" "$STORED"
printf '%-44s %s\n' "stored vs answered" "$CHECK"
[ "$STORED" = "$CLICKS" ] || echo "note: export lines ($STORED) differ from jejak_clicks_total ($CLICKS)"
[ "$JEJAK_RC" = 0 ] || { echo "jejak did not stop cleanly (exit $JEJAK_RC):"; sed 's/^/  /' "$TMP/jejak.log"; }
grep -v '^jejak: \(listening\|demo tracking\|SIGTERM\|stopped\)' "$TMP/jejak.log" | sed 's/^/jejak log: /' || true
case $CHECK in ok*) exit 0 ;; *) exit 1 ;; esac
