#!/usr/bin/env bash
# HTTP edges, against the real daemon on 127.0.0.1, each sent as exact bytes: a body dripped
# a byte a second is cut off by the whole-request deadline (a fresh client is served while
# such clients hold every slot); --trust-proxy takes the last entry of the last
# X-Forwarded-For line (the proxy's own line wins over the client's); hundreds of query
# parameters are answered; PUT/PATCH or a GET with a body to /postback get an answer;
# absolute-form targets are routed; Transfer-Encoding other than chunked is 501; duplicate
# or conflicting Content-Length, and Content-Length with Transfer-Encoding, are refused and
# the connection closed (request smuggling).
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
  # Answers other than libmicrohttpd's own 400 (for a Content-Length list it refuses before
  # jejak sees the request, it may write that 400 twice on one connection).
  OTHERS=$(LC_ALL=C grep -a '^HTTP/1\.[01] [0-9]' "$WORK/h" | grep -acv ' 400 ' || true)
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

# ---- hundreds of query parameters ------------------------------------------------------------
params() { seq 1 "$1" | sed 's/^/p/; s/$/=v/' | paste -sd'&'; }
raw "GET /l/ayu?$(params 450) HTTP/1.1\r\nHost: x\r\n$UA\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 302 "450 query parameters (a 3 KB URL)"
raw "GET /l/ayu?$(params 512) HTTP/1.1\r\nHost: x\r\n$UA\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 302 "512 query parameters (the cap)"
raw "GET /l/ayu?$(params 513) HTTP/1.1\r\nHost: x\r\n$UA\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 414 "513 query parameters"
expect_match "$(body)" '"error":"the query has more than 512 parameters","field":"url"' "513 parameters: why"
raw "GET /l/ayu?$(params 640) HTTP/1.1\r\nHost: x\r\n$UA\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 414 "640 query parameters (past the cap, still within the connection's pool)"
raw "GET /l/ayu?x=$(head -c 9000 /dev/zero | tr '\0' a) HTTP/1.1\r\nHost: x\r\n$UA\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 414 "a 9 KB request target"
raw "GET /l/ayu HTTP/1.1\r\nHost: x\r\n$UA\r\nX-Big: $(head -c 17000 /dev/zero | tr '\0' a)\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 431 "17 KB of headers"
pass "450 and 512 query parameters redirected; past the caps 414 and 431 with a reason"

# ---- methods and bodies on /postback -----------------------------------------------------------
for m in PUT PATCH DELETE; do
  raw "$m /postback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
  expect_eq "$CODE" 405 "$m /postback with a body"
  grep -qi '^Allow: GET, POST' "$WORK/h" || fail "$m /postback: 405 without Allow: GET, POST"
done
raw "GET /postback?shop=tokoku HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
expect_eq "$CODE" 400 "GET /postback with a body"
expect_match "$(body)" '"field":"body"' "GET /postback with a body: the field"
pass "PUT, PATCH, DELETE with a body to /postback: 405 with Allow; GET with a body: 400"

# ---- absolute-form targets ---------------------------------------------------------------------
raw "GET http://x/l/ayu?a=1 HTTP/1.1\r\nHost: x\r\n$UA\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 302 "GET http://x/l/ayu (absolute form)"
grep -qi '^Location: https://shop.example/dress?utm_source=.*&a=1&jclid=' "$WORK/h" || fail "absolute form: the Location lost the query"
raw "GET HTTP://x:8080/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 200 "GET HTTP://x:8080/healthz (absolute form, upper case scheme, port)"
raw "GET http://x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
expect_eq "$CODE" 404 "GET http://x (absolute form, no path)"
pass "absolute-form targets are routed by their path"

# ---- body framing: Transfer-Encoding and Content-Length -----------------------------------------
pbhead='POST /postback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
# A body libmicrohttpd cannot frame is answered before it is read, which closes the
# connection (sent here without the body: bytes left unread could reset the connection
# before the answer is read, and the test would measure the race, not the daemon).
raw "${pbhead}Transfer-Encoding: gzip\r\n\r\n"
expect_eq "$CODE" 501 "Transfer-Encoding: gzip"
expect_eq "$CLOSED" 1 "Transfer-Encoding: gzip: the connection is closed"
raw "${pbhead}Transfer-Encoding: gzip, chunked\r\n\r\n"
expect_eq "$CODE" 501 "Transfer-Encoding: gzip, chunked"
expect_match "$(body)" '"field":"Transfer-Encoding"' "Transfer-Encoding: gzip, chunked: the field"
raw "${pbhead}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
expect_eq "$CODE" 501 "Transfer-Encoding given twice"
expect_eq "$CLOSED" 1 "Transfer-Encoding given twice: the connection is closed"
# The classic smuggling shapes. Sent first with exactly the body libmicrohttpd reads (by the
# first length, or chunked): the refusal is answered and the connection closed. Then with a
# request smuggled after that body: it must never be answered nor its click stored (the
# close with those bytes unread may reset the connection before the refusal is read).
smuggled="GET /l/ayu HTTP/1.1\r\nHost: x\r\n$UA\r\n\r\n"
forty=$(printf '{"p":"%034d"}' 0) # 40 bytes
for framing in 'Content-Length: 2\r\nContent-Length: 40' 'Content-Length: 40\r\nContent-Length: 2' 'Content-Length: 2, 2' \
               'Content-Length: 5\r\nTransfer-Encoding: chunked' 'Transfer-Encoding: chunked\r\nContent-Length: 5'; do
  case $framing in
    *chunked*) b='0\r\n\r\n' ;;
    'Content-Length: 40'*) b=$forty ;;
    *) b='{}' ;;
  esac
  raw "${pbhead}${framing}\r\n\r\n$b"
  expect_eq "$CODE" 400 "$framing"
  # (libmicrohttpd refuses a list itself, before jejak sees the request, with an HTML 400.)
  [[ $framing == *", "* ]] || expect_match "$(body)" '"field":"Content-Length"' "$framing: the field"
  expect_eq "$CLOSED" 1 "$framing: the connection is closed after the answer"
  raw "${pbhead}${framing}\r\n\r\n$b$smuggled"
  expect_match "$CODE" '^(400|000)$' "$framing, a request smuggled after the body"
  if [[ $framing == *", "* ]]; then # libmicrohttpd's refusal, perhaps twice: never a 302
    [ "$OTHERS" -eq 0 ] || fail "$framing: the smuggled request was answered: $(head -c 300 "$WORK/h")"
  else
    [ "$ANSWERS" -le 1 ] || fail "$framing: $ANSWERS answers on one connection (the smuggled request was answered)"
  fi
  expect_eq "$CLOSED" 1 "$framing, a request smuggled after the body: the connection is closed"
done
# One Content-Length given twice with the same value is one length: accepted.
b='{"shop":"tokoku","order_id":"CL-1","amount":"1.00","currency":"USD"}'
sig=$(sign "$b" "$secret")
raw "${pbhead}X-Jejak-Signature: $sig\r\nContent-Length: ${#b}\r\nContent-Length: ${#b}\r\nConnection: close\r\n\r\n$b"
expect_eq "$CODE" 202 "the same Content-Length twice"
# And plain chunked still works, kept alive.
raw "${pbhead}X-Jejak-Signature: $sig\r\nTransfer-Encoding: chunked\r\n\r\n$(printf '%x' ${#b})\r\n$b\r\n0\r\n\r\n"
expect_eq "$CODE" 200 "a chunked postback"
expect_eq "$CLOSED" 0 "a chunked postback: the connection stays open"
expect_eq "$(jejak clicks export | wc -l)" 5 "no smuggled click was stored (2 forwarded-for clicks, 450 and 512 parameters, the absolute form)"
stop_daemon
pass "Transfer-Encoding other than chunked: 501; conflicting lengths, or a length with Transfer-Encoding: 400 and closed ($((SECONDS - T_START)) s)"
