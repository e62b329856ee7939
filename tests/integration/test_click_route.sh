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
