#!/usr/bin/env bash
# Benchmark (not a test): signed postbacks against a fresh daemon on 127.0.0.1.
# wrk replays bodies signed in advance by jejak-pbgen (one new order each), for DURATION
# seconds over CONNECTIONS connections; then the store is reconciled: every accepted
# postback is a stored conversion, none twice. Target: >= 10,000 signed postbacks/s.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/lib-daemon.sh
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
COUNT=${COUNT:-600000}
BUILD=${JEJAK_BUILD:-build-bench}
if [ -z "${JEJAK_BUILD:-}" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DJEJAK_BENCH=ON >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target jejak jejak-pbgen >/dev/null
fi
J=$PWD/$BUILD/jejak
WORK=$(mktemp -d /tmp/jejak-bench-pb.XXXXXX)
cleanup() { daemon_cleanup; rm -rf "$WORK"; }
trap cleanup EXIT
export JEJAK_DATA=$WORK/data

"$J" influencer add ayu --name Ayu --platform instagram >/dev/null
"$J" campaign add bench --name Bench >/dev/null
"$J" link add --influencer ayu --campaign bench --to https://shop.example/ --slug ayu >/dev/null
secret=$("$J" shop add tokoku | sed -n 's/^secret=//p')
daemon_start "$WORK/daemon.log" "$J" serve --listen 127.0.0.1:0 --threads 2 --flood-limit 0 ||
  { cat "$WORK/daemon.log" >&2; echo "bench-postback: the daemon did not start" >&2; exit 1; }
for i in $(seq 1 200); do
  loc=$(curl -s -o /dev/null -A 'Mozilla/5.0 (iPhone) Mobile' -w '%{redirect_url}' "$BASE/l/ayu")
  echo "${loc##*jclid=}"
done > "$WORK/clicks.txt"
echo "== signing $COUNT postbacks"
"$PWD/$BUILD/jejak-pbgen" tokoku "$secret" "$COUNT" "$WORK/clicks.txt" > "$WORK/postbacks.txt"
echo "== wrk: POST /postback, ${DURATION}s, $CONNECTIONS connections"
PB_FILE=$WORK/postbacks.txt PB_THREADS=2 wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" \
  -s tools/bench/postback.lua "$BASE" > "$WORK/wrk.txt"
cat "$WORK/wrk.txt"
metrics=$(curl -s "$BASE/metrics")
daemon_stop
sent=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt"); bad=${bad:-0}
rate=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
stored=$("$J" conversions export | wc -l)
distinct=$("$J" conversions export | jq -r .order_id | sort -u | wc -l)
commits=$(echo "$metrics" | awk '/^jejak_commits_total/ {print $2}')
echo
printf '%-40s %s\n' "signed postbacks/s (target >= 10,000)" "$rate"
printf '%-40s %s\n' "requests answered by wrk" "$sent"
printf '%-40s %s\n' "non-2xx answers" "$bad"
printf '%-40s %s\n' "conversions stored" "$stored"
printf '%-40s %s\n' "distinct order ids stored" "$distinct"
printf '%-40s %s\n' "commits (postbacks per commit)" "$commits ($(( (sent > 0 ? sent : 1) / (commits > 0 ? commits : 1) )))"
ok=1
[ "$stored" = "$distinct" ] || { echo "FAIL: an order was counted twice"; ok=0; }
answered=$((sent - bad))
# wrk may stop counting requests that were already sent: at most one per connection.
if [ "$stored" -lt "$answered" ] || [ "$stored" -gt $((answered + CONNECTIONS)) ]; then
  echo "FAIL: $answered postbacks accepted but $stored conversions stored"; ok=0
fi
[ "$ok" = 1 ] && echo "reconciled: every accepted postback stored once"
[ "$ok" = 1 ]
