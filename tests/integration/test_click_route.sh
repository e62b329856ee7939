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
