#!/usr/bin/env bash
# HTTP edges, against the real daemon on 127.0.0.1, each sent as exact bytes: a body dripped
# a byte a second is cut off by the whole-request deadline (a fresh client is served while
# such clients hold every slot); --trust-proxy takes the last entry of the last
# X-Forwarded-For line (the proxy's own line wins over the client's).
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T_START=$SECONDS
HELPER_PIDS=()
on_exit() {
  set +e
  for p in "${HELPER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  cleanup
}
trap on_exit EXIT

jejak influencer add ayu --name Ayu --platform instagram >/dev/null
jejak campaign add launch --name Launch >/dev/null
jejak link add --influencer ayu --campaign launch --to 'https://shop.example/dress' --slug ayu >/dev/null
shop=$(jejak shop add tokoku)
secret=$(echo "$shop" | sed -n 's/^secret=//p')

# raw BYTES: sends them on a new connection and reads until the daemon closes it or 2 s
# pass. Sets CODE (000: no answer), ANSWERS (status lines received) and CLOSED (1 when the
# daemon closed the connection, 0 when it was still open after 2 s).
raw() {
  : > "$WORK/h"
  local rc=0
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf "$2" >&3; cat <&3' \
    _ "$PORT" "$1" > "$WORK/h" 2>/dev/null || rc=$?
  CODE=$(head -1 "$WORK/h" | sed -n 's|^HTTP/1\.[01] \([0-9][0-9][0-9]\).*|\1|p')
  CODE=${CODE:-000}
  ANSWERS=$(LC_ALL=C grep -ac '^HTTP/1\.[01] [0-9]' "$WORK/h" || true)
  if [ "$rc" = 124 ]; then CLOSED=0; else CLOSED=1; fi
}
body() { LC_ALL=C sed -n '/^\r$/,$p' "$WORK/h" | tail -n +2; }
UA="User-Agent: $BROWSER"

# ---- a body dripped a byte a second --------------------------------------------------------
# 20 clients announce a 1,000-byte postback and send a byte a second: they hold all 20 slots
# of --conn-limit 20. The request as a whole has --timeout 3 s: they are cut off, and a fresh
# client gets in within a few seconds.
start_daemon --conn-limit 20 --timeout 3 --flood-limit 0
IDLE=$(dirname "$JEJAK")/jejak-idle
if [ ! -x "$IDLE" ]; then
  IDLE=$WORK/jejak-idle
  "${CC:-cc}" -std=c11 -O2 -D_GNU_SOURCE -o "$IDLE" "$ROOT/tests/tools/idle.c" || fail "cannot build tests/tools/idle.c"
fi
drip='POST /postback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{'
"$IDLE" 127.0.0.1 "$PORT" 20 --prefix "$(printf "$drip")" --trickle --hold 9 --ready "$WORK/drip.ready" > "$WORK/drip.out" &
HELPER_PIDS+=($!)
for _ in $(seq 1 100); do [ -e "$WORK/drip.ready" ] && break; sleep 0.05; done
[ -e "$WORK/drip.ready" ] || fail "the dripping clients did not connect"
t0=$(date +%s%N)
served=""
while [ $((($(date +%s%N) - t0) / 1000000)) -lt 8000 ]; do
  if [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ]; then served=1; break; fi
  sleep 0.2
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ -n "$served" ] || fail "no fresh client was served in 8 s while 20 clients dripped bodies (--conn-limit 20 --timeout 3)"
[ "$ms" -lt 6000 ] || fail "a fresh client waited $ms ms while 20 clients dripped bodies (--timeout 3)"
for p in "${HELPER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
HELPER_PIDS=()
echo "# dripping clients: $(tail -1 "$WORK/drip.out")"
read -r _ d_open _ d_closed _ _ _ _ _ d_last < <(tail -1 "$WORK/drip.out")
expect_eq "$d_open" 0 "dripping clients still connected after 9 s"
[ "$d_last" -le 5500 ] || fail "dripping clients were cut off only after $d_last ms (--timeout 3)"
pass "a body dripped a byte a second is cut off after the request deadline (last after $d_last ms); a fresh client served after $ms ms"
stop_daemon

# ---- X-Forwarded-For: the last entry of the last line ----------------------------------------
start_daemon --trust-proxy --exclude-ip 198.51.100.0/24 --flood-limit 0 --timeout 10
excluded() { curl -s "$BASE/metrics" | awk '$1 == "jejak_excluded_clicks_total" {print $2}'; }
# HAProxy's option forwardfor adds a line of its own after whatever the client sent.
raw "GET /l/ayu HTTP/1.1\r\nHost: x\r\n$UA\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.7\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 302 "click through a proxy that adds its own line"
expect_eq "$(excluded)" 1 "the proxy's line (198.51.100.7, excluded) wins over the client's (203.0.113.9)"
raw "GET /l/ayu HTTP/1.1\r\nHost: x\r\n$UA\r\nX-Forwarded-For: 198.51.100.7\r\nX-Forwarded-For: 203.0.113.9, 192.0.2.44\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 302 "click with two lines, the last one a list"
expect_eq "$(excluded)" 1 "a client's excluded address on the first line does not exclude it"
raw "GET /l/ayu HTTP/1.1\r\nHost: x\r\n$UA\r\nX-Forwarded-For: 198.51.100.7, 192.0.2.55\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 302 "click with one line, a list"
expect_eq "$(jejak clicks export | jq -r .ip | paste -sd' ')" "192.0.2.0 192.0.2.0" "stored addresses: the last entry of the last line"
pass "--trust-proxy: the last entry of the last X-Forwarded-For line, whatever the client put before it"
stop_daemon
