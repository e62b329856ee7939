#!/usr/bin/env bash
# soak.sh: bounded mixed load against a fresh daemon on 127.0.0.1, then reconciliation.
#
# For DURATION seconds: wrk follows the tracking link over CONNECTIONS keep-alive
# connections with a browser User-Agent, while POSTERS shell loops each follow the link
# with curl and send a signed postback (openssl HMAC) for that click, one new order each.
# The daemon runs with --flood-limit 0 (all the load comes from one address).
#
# Then it checks, and exits non-zero if any check fails:
#   - clicks stored (export lines) = 302s answered (wrk's plus the postback loops'), give or
#     take what was in flight when wrk stopped counting: at most one per connection, as in
#     tools/bench-redirect.sh, plus any loop click that got no answer;
#   - conversions stored = postbacks accepted (200 recorded, 202 unattributed), none twice;
#   - no 5xx answer, no click lost (jejak_storage_errors_total 0), rollups = a rebuild, and
#     a clean stop on SIGTERM.
# It prints throughput, p99 latency and peak RSS (VmHWM, RssAnon).
#
# Environment: DURATION (seconds, default 60), CONNECTIONS (256), WRK_THREADS (2),
# POSTERS (2), JEJAK_BUILD (a build folder, default build/; built if jejak is missing),
# SERVER_THREADS (0 = one per CPU). CI runs DURATION=20 tools/soak.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source tools/lib-daemon.sh
DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-256}
WRK_THREADS=${WRK_THREADS:-2}
POSTERS=${POSTERS:-2}
SERVER_THREADS=${SERVER_THREADS:-0}
BROWSER='Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36'

for n in DURATION CONNECTIONS WRK_THREADS POSTERS; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || { echo "soak: $n must be a positive integer" >&2; exit 2; }
done
[[ $SERVER_THREADS =~ ^[0-9]+$ ]] || { echo "soak: SERVER_THREADS must be a number" >&2; exit 2; }
for c in wrk curl openssl; do
  command -v "$c" >/dev/null || { echo "soak: $c is not installed" >&2; exit 2; }
done

BUILD=${JEJAK_BUILD:-build}
if [ ! -x "$BUILD/jejak" ]; then
  echo "soak: building $BUILD/jejak ..."
  cmake -S . -B "$BUILD" >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target jejak >/dev/null
fi
JEJAK=$(cd "$BUILD" && pwd)/jejak

TMP=$(mktemp -d /tmp/jejak-soak.XXXXXX)
export JEJAK_DATA=$TMP/data
LOAD_PIDS=()
cleanup() {
  touch "$TMP/stop" 2>/dev/null || true
  for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  daemon_cleanup
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- setup ------------------------------------------------------------------------------
"$JEJAK" influencer add ayu --name Ayu --platform instagram >/dev/null
"$JEJAK" campaign add soak --name Soak >/dev/null
"$JEJAK" link add --influencer ayu --campaign soak --to 'https://shop.example/dress?ref=ig' --slug ayu >/dev/null
SECRET=$("$JEJAK" shop add tokoku | sed -n 's/^secret=//p')
[ -n "$SECRET" ] || { echo "soak: shop add printed no secret" >&2; exit 1; }

daemon_start "$TMP/daemon.log" "$JEJAK" serve --listen 127.0.0.1:0 --flood-limit 0 \
  --threads "$SERVER_THREADS" ||
  { cat "$TMP/daemon.log" >&2; echo "soak: the daemon did not start" >&2; exit 1; }
PID=$DAEMON_PID
URL=$BASE/l/ayu
[ "$(curl -s -o /dev/null -w '%{http_code}' -A "$BROWSER" "$URL")" = 302 ] || { echo "soak: $URL does not answer 302" >&2; exit 1; }
WARMUP=1

cat > "$TMP/soak.lua" <<'EOF'
-- Counts answers by class in each thread; done() adds them up with wrk's own summary.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) c2, c3, c4, c5 = 0, 0, 0, 0 end
function response(status, headers, body)
  if status >= 500 then c5 = c5 + 1
  elseif status >= 400 then c4 = c4 + 1
  elseif status >= 300 then c3 = c3 + 1
  else c2 = c2 + 1 end
end
function done(summary, latency, requests)
  local t = {c2 = 0, c3 = 0, c4 = 0, c5 = 0}
  for _, th in ipairs(threads) do
    for k in pairs(t) do t[k] = t[k] + th:get(k) end
  end
  local e = summary.errors
  io.write(string.format("SOAK requests=%d duration_us=%d c2=%d c3=%d c4=%d c5=%d p50_us=%d p99_us=%d max_us=%d " ..
                         "connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, t.c2, t.c3, t.c4, t.c5, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout))
end
EOF

# ---- load -------------------------------------------------------------------------------
# poster N: follow the link, then a signed postback for that click; one new order per loop.
# Appends "<click status> <postback status> <order id> <postback seconds>" to posts.N.
poster() {
  local n=0 loc cid body t mac out
  while [ ! -e "$TMP/stop" ]; do
    n=$((n + 1))
    loc=$(curl -s -m 10 -A "$BROWSER" -o /dev/null -w '%{http_code} %{redirect_url}' "$URL" || echo 000)
    cid=""
    [[ $loc == "302 "*jclid=* ]] && cid=${loc##*jclid=}
    body='{"shop":"tokoku","order_id":"SOAK-'$1-$n'","click_id":"'$cid'","amount":"25.00","currency":"USD"}'
    t=$(date +%s)
    mac=$(printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$SECRET" | awk '{print $NF}')
    out=$(curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}' -H "X-Jejak-Signature: t=$t,v1=$mac" \
          -H 'Content-Type: application/json' --data-binary "$body" "$BASE/postback" || echo "000 0")
    echo "${loc%% *} ${out%% *} SOAK-$1-$n ${out##* }" >> "$TMP/posts.$1"
  done
}
echo "soak: ${DURATION}s: wrk $CONNECTIONS connections ($WRK_THREADS threads) on $URL, $POSTERS postback loops; daemon pid $PID"
for i in $(seq 1 "$POSTERS"); do
  poster "$i" &
  LOAD_PIDS+=($!)
done
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$TMP/soak.lua" \
    -H "User-Agent: $BROWSER" "$URL" > "$TMP/wrk.txt" 2>&1 || { cat "$TMP/wrk.txt" >&2; echo "soak: wrk failed" >&2; exit 1; }
touch "$TMP/stop"
for p in "${LOAD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
LOAD_PIDS=()

# ---- figures ----------------------------------------------------------------------------
declare -A W
line=$(grep '^SOAK ' "$TMP/wrk.txt") || { cat "$TMP/wrk.txt" >&2; echo "soak: no summary from wrk" >&2; exit 1; }
for kv in ${line#SOAK }; do W[${kv%%=*}]=${kv#*=}; done
metrics=$(curl -s "$BASE/metrics")
mval() { echo "$metrics" | awk -v k="$1" '$1 == k {print $2}'; }
STORAGE_ERRORS=$(mval jejak_storage_errors_total)
PB_STORAGE_ERRORS=$(mval jejak_postback_storage_errors_total)
COMMITS=$(mval jejak_commits_total)
HWM_KIB=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status")
ANON_KIB=$(awk '/^RssAnon:/ {print $2}' "/proc/$PID/status")
FILE_KIB=$(awk '/^RssFile:/ {print $2}' "/proc/$PID/status")
RC=0
daemon_stop || RC=$?
CLEAN=yes
[ "$RC" = 0 ] && grep -q 'stopped cleanly' "$TMP/daemon.log" || CLEAN="no (exit $RC)"

cat "$TMP"/posts.* > "$TMP/posts" 2>/dev/null || : > "$TMP/posts"
PB_SENT=$(wc -l < "$TMP/posts")
PB_CLICKS=$(awk '$1 == 302' "$TMP/posts" | wc -l)
PB_CLICKS_UNKNOWN=$(awk '$1 == "000"' "$TMP/posts" | wc -l)
PB_OTHER_CLICKS=$(awk '$1 != 302 && $1 != "000"' "$TMP/posts" | wc -l)
PB_ACCEPTED=$(awk '$2 == 200 || $2 == 202' "$TMP/posts" | wc -l)
PB_UNKNOWN=$(awk '$2 == "000"' "$TMP/posts" | wc -l)
PB_5XX=$(awk '$2 >= 500' "$TMP/posts" | wc -l)
PB_4XX=$(awk '$2 >= 400 && $2 < 500' "$TMP/posts" | wc -l)
PB_P99=$(awk '$2 == 200 || $2 == 202 {print $4}' "$TMP/posts" | sort -n |
         awk '{v[NR] = $1} END {if (NR) {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] * 1000} else print "-"}')

STORED=$("$JEJAK" clicks export | wc -l)
"$JEJAK" conversions export > "$TMP/conversions"
CONVS=$(wc -l < "$TMP/conversions")
CONV_DUPS=$(grep -o '"order_id":"[^"]*"' "$TMP/conversions" | sort | uniq -d | wc -l)
t0=$(date +%s%N)
ROLLUPS=ok
"$JEJAK" rollups rebuild --check > "$TMP/rollups" 2>&1 || ROLLUPS="DIFFER: $(cat "$TMP/rollups")"
ROLLUP_MS=$((($(date +%s%N) - t0) / 1000000))

# ---- report -----------------------------------------------------------------------------
ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }
secs=$(awk -v u="${W[duration_us]}" 'BEGIN {printf "%.1f", u / 1e6}')
FAILS=()
ANSWERED=$((W[c3] + PB_CLICKS + WARMUP))
EXTRA=$((STORED - ANSWERED))
BOUND=$((CONNECTIONS + PB_CLICKS_UNKNOWN))
if [ "$EXTRA" -lt 0 ]; then
  FAILS+=("clicks: $((-EXTRA)) answered clicks are not stored ($STORED stored, $ANSWERED answered)")
elif [ "$EXTRA" -gt "$BOUND" ]; then
  FAILS+=("clicks: $EXTRA stored beyond the answered ones, more than the in-flight bound $BOUND")
fi
[ "${W[c5]}" = 0 ] || FAILS+=("wrk saw ${W[c5]} 5xx answers")
[ "${W[c2]}${W[c4]}" = 00 ] || FAILS+=("wrk saw ${W[c2]} 2xx and ${W[c4]} 4xx answers on the tracking link (expected only 302)")
[ "$PB_5XX" = 0 ] || FAILS+=("$PB_5XX postbacks answered 5xx")
[ "$PB_4XX" = 0 ] || FAILS+=("$PB_4XX postbacks refused (4xx), e.g. $(awk '$2 >= 400 && $2 < 500' "$TMP/posts" | head -1)")
[ "$PB_OTHER_CLICKS" = 0 ] || FAILS+=("$PB_OTHER_CLICKS postback-loop clicks answered other than 302")
if [ "$CONVS" -lt "$PB_ACCEPTED" ] || [ "$CONVS" -gt $((PB_ACCEPTED + PB_UNKNOWN)) ]; then
  FAILS+=("conversions: $CONVS stored for $PB_ACCEPTED accepted ($PB_UNKNOWN unanswered)")
fi
[ "$CONV_DUPS" = 0 ] || FAILS+=("$CONV_DUPS orders stored twice")
[ "${STORAGE_ERRORS:-x}" = 0 ] || FAILS+=("jejak_storage_errors_total is $STORAGE_ERRORS (clicks lost)")
[ "${PB_STORAGE_ERRORS:-x}" = 0 ] || FAILS+=("jejak_postback_storage_errors_total is $PB_STORAGE_ERRORS")
[ "$ROLLUPS" = ok ] || FAILS+=("rollups: $ROLLUPS")
[ "$CLEAN" = yes ] || FAILS+=("the daemon did not stop cleanly: $CLEAN")

echo
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
echo "== soak: ${secs}s, $(nproc) CPUs, $JEJAK (${BUILD_TYPE:-default} build) =="
printf '%-54s %s\n' "clicks (wrk, $CONNECTIONS connections)" \
  "${W[requests]} answered, $(awk -v n="${W[requests]}" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')/s; p50 $(ms "${W[p50_us]}") ms, p99 $(ms "${W[p99_us]}") ms, max $(ms "${W[max_us]}") ms"
printf '%-54s %s\n' "  answers 2xx/3xx/4xx/5xx" "${W[c2]}/${W[c3]}/${W[c4]}/${W[c5]}"
printf '%-54s %s\n' "  socket errors connect/read/write/timeout" "${W[connect]}/${W[read]}/${W[write]}/${W[timeout]}"
printf '%-54s %s\n' "postbacks ($POSTERS loops, each after a click)" \
  "$PB_SENT sent, $PB_ACCEPTED accepted, $(awk -v n="$PB_SENT" -v s="$secs" 'BEGIN {printf "%.1f", n / s}')/s; p99 $PB_P99 ms; 4xx $PB_4XX, 5xx $PB_5XX, no answer $PB_UNKNOWN"
printf '%-54s %s\n' "peak RSS (VmHWM) / RssAnon / RssFile at the end" \
  "$(awk -v a="$HWM_KIB" -v b="$ANON_KIB" -v c="$FILE_KIB" 'BEGIN {printf "%.1f / %.1f / %.1f MiB", a/1024, b/1024, c/1024}')"
printf '%-54s %s\n' "commits / clicks per commit" "$COMMITS / $(awk -v a="$STORED" -v b="$COMMITS" 'BEGIN {printf "%.1f", b ? a / b : 0}')"
printf '%-54s %s\n' "clicks stored / answered (wrk 302 + loops + warm-up)" "$STORED / $ANSWERED (+$EXTRA in flight, bound $BOUND)"
printf '%-54s %s\n' "conversions stored / accepted / orders twice" "$CONVS / $PB_ACCEPTED / $CONV_DUPS"
printf '%-54s %s\n' "storage errors (clicks / postbacks)" "$STORAGE_ERRORS / $PB_STORAGE_ERRORS"
printf '%-54s %s\n' "rollups = rebuild (check took)" "$ROLLUPS (${ROLLUP_MS} ms)"
printf '%-54s %s\n' "clean stop on SIGTERM" "$CLEAN"
grep -v '^jejak: \(listening\|SIGTERM\|stopped\)' "$TMP/daemon.log" | head -5 | sed 's/^/daemon log: /' || true
if [ "${#FAILS[@]}" -gt 0 ]; then
  echo "soak: RECONCILIATION FAILED:"
  printf '  - %s\n' "${FAILS[@]}"
  exit 1
fi
echo "soak: ok"
