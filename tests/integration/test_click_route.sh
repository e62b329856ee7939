#!/usr/bin/env bash
# The click route's edge cases against the real daemon: a NUL (%00) in the path or the
# query fools no route, browser prefetches and in-app link previews are redirected but
# counted nowhere, and flood detection tells one client from a crowd behind one NAT range.
source "$(dirname "$0")/lib.sh"

jejak influencer add ayu --name Ayu --platform instagram >/dev/null
jejak campaign add launch --name Launch >/dev/null
jejak link add --influencer ayu --campaign launch --to 'https://shop.example/dress' --slug ayu >/dev/null
shop=$(jejak shop add tokoku)
token=$(echo "$shop" | sed -n 's/^token=//p')
admin=$(jejak apikey add --role admin 2>/dev/null | sed -n 's/^key=//p')
[ -n "$token" ] && [ -n "$admin" ] || fail "setup: no shop token or API key"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
metric() { curl -s "$BASE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
stored() { jejak clicks export | wc -l; }

# ---- a NUL ends nothing ---------------------------------------------------------------
start_daemon
before=$(stored)
expect_eq "$(code -A "$BROWSER" "$BASE/l/ayu%00junk")" 404 "/l/ayu%00junk is not /l/ayu"
expect_eq "$(code -A "$BROWSER" "$BASE/l/ayu%00")" 404 "/l/ayu%00 is not /l/ayu"
expect_eq "$(code -A "$BROWSER" "$BASE/l/ayu%00?x=1")" 404 "/l/ayu%00?x=1 is not /l/ayu"
expect_eq "$(code -A "$BROWSER" "$BASE/l/ayu%01")" 404 "a control byte in a slug"
expect_eq "$(code "$BASE/healthz%00x")" 404 "/healthz%00x is not /healthz"
expect_eq "$(code "$BASE/postback%00x?shop=tokoku&token=$token&txid=NUL-1&payout=1&currency=USD")" 404 \
  "/postback%00x is not /postback"
expect_eq "$(code -H "Authorization: Bearer $admin" "$BASE/api/v1/report%00x")" 404 \
  "/api/v1/report%00x is not the report"
expect_eq "$(stored)" "$before" "no click stored for a path with a NUL"
expect_eq "$(jejak conversions export | grep -c 'NUL-1' || true)" 0 "no conversion stored through /postback%00x"
pass "a NUL in the path: 404 on every route, nothing stored"

# In the query: the report refuses the parameter, naming it; a click forwards none of the
# visitor's parameters rather than a cut one.
out=$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?format=csv%00junk")
expect_match "$out" '^\{"error":"[^"]*NUL[^"]*","field":"format"\} 400$' "report: a NUL in a parameter"
out=$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?from%00x=2026-01-01")
expect_match "$out" '^\{"error":"[^"]*NUL[^"]*"(,"field":"[^"]*")?\} 400$' "report: a NUL in a parameter name"
loc=$(curl -s -o /dev/null -A "$BROWSER" -w '%{redirect_url}' "$BASE/l/ayu?sub=a%00b&ref=x")
expect_match "$loc" '^https://shop\.example/dress\?utm_' "a click with a NUL in its query is redirected"
[[ "$loc" == *"sub="* || "$loc" == *"ref=x"* ]] && fail "a query with a NUL was forwarded: $loc"
expect_eq "$(stored)" "$((before + 1))" "the click with a NUL in its query is stored"
pass "a NUL in the query: report 400 naming the field; click redirected without the query"
stop_daemon

# ---- prefetches and link previews ---------------------------------------------------------
start_daemon
before=$(stored)
clicks0=$(metric jejak_clicks_total)
bots0=$(metric jejak_bot_clicks_total)
for h in 'Sec-Purpose: prefetch' 'Sec-Purpose: prefetch;anonymous-client-ip' \
         'Sec-Purpose: prefetch;prerender' 'Purpose: prefetch' 'X-Purpose: preview' \
         'X-Moz: prefetch'; do
  loc=$(curl -s -o /dev/null -A "$BROWSER" -H "$h" -w '%{http_code} %{redirect_url}' "$BASE/l/ayu")
  expect_match "$loc" '^302 https://shop\.example/dress\?utm_.*jclid=' "$h is redirected"
done
expect_eq "$(stored)" "$((before + 6))" "the six prefetches are stored"
last6=$(jejak clicks export | tail -6)
expect_eq "$(echo "$last6" | grep -c '"bot":true,"unique":false,"suspicious":false')" 6 \
  "each prefetch is stored flagged like a bot, never unique"
expect_eq "$(metric jejak_clicks_total)" "$clicks0" "jejak_clicks_total counts no prefetch"
expect_eq "$(metric jejak_bot_clicks_total)" "$((bots0 + 6))" "jejak_bot_clicks_total counts them"
expect_eq "$(metric jejak_prefetch_clicks_total)" 6 "jejak_prefetch_clicks_total counts them"
# The same browser's real click (no purpose header) counts.
expect_eq "$(code -A "$BROWSER" -H 'Sec-Purpose: navigate' "$BASE/l/ayu")" 302 "a click"
expect_eq "$(metric jejak_clicks_total)" "$((clicks0 + 1))" "a click without a prefetch purpose counts"
stop_daemon
rep=$(jejak report --format json)
expect_eq "$(echo "$rep" | jq '.total.clicks')" "$(jejak clicks export | grep -c '"bot":false')" \
  "the report counts no prefetch"
expect_eq "$(echo "$rep" | jq '.total.unique_clicks')" "$(jejak clicks export | grep -c '"unique":true')" \
  "no prefetch is a unique click"
pass "prefetches and previews: redirected, stored flagged like bots, counted nowhere"

# ---- flooding: one client, not one NAT range ------------------------------------------------
# 75 phones behind one carrier's NAT range (127.0.0.1-75: one /24, as a mobile carrier's
# pool is), each its own address and User-Agent, tap one link in the same minute, under the
# default --flood-limit. None is flagged, and a sale from the last one is attributed to it.
start_daemon
susp0=$(metric jejak_suspicious_clicks_total)
s=$(date -u +%S)
[ "$((10#$s))" -le 45 ] || sleep "$((61 - 10#$s))"
for i in $(seq 1 75); do
  ua="Mozilla/5.0 (Linux; Android 14; SM-A$((100 + i))B Build/UP1A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0 Mobile Safari/537.36 Instagram 309.0.0.$i Android"
  loc=$(curl -s -o /dev/null --interface "127.0.0.$i" -A "$ua" -w '%{http_code} %{redirect_url}' "$BASE/l/ayu")
  expect_match "$loc" '^302 https://shop\.example/' "phone $i is redirected"
done
jclid=${loc##*jclid=}
expect_eq "$(metric jejak_suspicious_clicks_total)" "$susp0" "75 phones in one /24: none flagged"
last75=$(jejak clicks export | tail -75)
expect_eq "$(echo "$last75" | grep -c '"ip":"127\.0\.0\.0".*"suspicious":false')" 75 \
  "75 clicks from one anonymized /24 stored, none suspicious"
out=$(req "$BASE/postback?shop=tokoku&token=$token&clickid=$jclid&txid=NAT-1&payout=10.00&currency=USD")
expect_match "$out" '^\{"status":"recorded".*"attributed_to":"click"\} 200$' "the 75th phone's sale is attributed"
pass "75 phones behind one NAT range: none flagged, the sale attributed"

# One address and User-Agent clicking 200 times in a minute: past the default (30 a
# minute), the rest are flagged; another User-Agent from that address is counted apart.
s=$(date -u +%S)
[ "$((10#$s))" -le 45 ] || sleep "$((61 - 10#$s))"
susp0=$(metric jejak_suspicious_clicks_total)
urls=()
for _ in $(seq 1 200); do urls+=("$BASE/l/ayu"); done
codes=$(curl -s --interface 127.0.0.9 -A "$BROWSER" -o /dev/null -w '%{http_code}\n' "${urls[@]}")
expect_eq "$(echo "$codes" | grep -c '^302$')" 200 "200 clicks from one client are all redirected"
expect_eq "$(metric jejak_suspicious_clicks_total)" "$((susp0 + 170))" "the 31st to 200th are flagged"
last200=$(jejak clicks export | tail -200)
# Export order is click-id order, and ids made in one millisecond sort at random: count, do
# not rely on the position of the 30th.
expect_eq "$(echo "$last200" | grep -c '"suspicious":false')" 30 "30 of the 200 are not suspicious"
expect_eq "$(echo "$last200" | grep -c '"suspicious":true')" 170 "170 of the 200 are suspicious"
# The first 30 in time are the ones let through: no flagged click is older than the newest
# one let through (requests went one after another, so equal milliseconds tie).
ts_of() { grep "\"suspicious\":$1" | sed 's/.*"ts":\([0-9]*\).*/\1/' | sort -n; }
newest_ok=$(echo "$last200" | ts_of false | tail -1)
oldest_flagged=$(echo "$last200" | ts_of true | head -1)
expect_eq "$([ "$newest_ok" -le "$oldest_flagged" ] && echo yes)" yes "the first 30 in time are the ones let through ($newest_ok <= $oldest_flagged)"
expect_eq "$(code --interface 127.0.0.9 -A "$BROWSER Edg/120.0" "$BASE/l/ayu")" 302 "another browser on that address"
expect_eq "$(metric jejak_suspicious_clicks_total)" "$((susp0 + 170))" "another User-Agent is another client"
stop_daemon
pass "one client clicking 200 times a minute: flagged past the default limit"

# --flood-limit 0 turns it off.
start_daemon --flood-limit 0
urls=()
for _ in $(seq 1 40); do urls+=("$BASE/l/ayu"); done
curl -s -A "$BROWSER" -o /dev/null "${urls[@]}"
expect_eq "$(metric jejak_suspicious_clicks_total)" 0 "--flood-limit 0: nothing flagged"
stop_daemon
pass "--flood-limit 0 flags nothing"
