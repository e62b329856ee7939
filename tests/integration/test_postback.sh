#!/usr/bin/env bash
# Conversion postbacks against the real daemon: signed JSON and token GET forms,
# idempotency, status changes, refusals that store nothing, and credit split by model.
source "$(dirname "$0")/lib.sh"

jejak influencer add ayu --name "Ayu" --platform instagram >/dev/null
jejak influencer add budi --name "Budi" --platform tiktok >/dev/null
jejak campaign add launch --name "Launch" >/dev/null
jejak link add --influencer ayu --campaign launch --to https://shop.example/ --slug ayu >/dev/null
jejak link add --influencer budi --campaign launch --to https://shop.example/ --slug budi >/dev/null
shop=$(jejak shop add tokoku)
secret=$(echo "$shop" | sed -n 's/^secret=//p')
token=$(echo "$shop" | sed -n 's/^token=//p')
expect_match "$secret" '^[0-9a-f]{64}$' "secret is 64 hex digits"
expect_match "$token" '^[A-Za-z0-9_-]{20,}$' "token is URL-safe"
jejak shop list | grep -q "$secret" && fail "shop list shows the secret"
jejak shop list | grep -q "$token" && fail "shop list shows the token"
jejak shop add tokoku 2>/dev/null && fail "a shop added twice"
jejak coupon add AYU10 --influencer ayu --campaign launch >/dev/null
jejak coupon add ayu10 --influencer budi --campaign launch 2>/dev/null && fail "coupon codes are case-insensitive"
pass "shop secret and token printed once; coupons"

start_daemon
# One visitor: Budi's link first, then Ayu's; then she buys.
jar=$WORK/jar
click budi "$jar" >/dev/null
sleep 0.05
jclid=$(click ayu "$jar")
expect_match "$jclid" '^[0-9A-Z]{26}$' "jclid"
body='{"shop":"tokoku","click_id":"'$jclid'","order_id":"INV-1","event":"purchase","amount":"100000.00","currency":"IDR","status":"approved"}'
out=$(post "$body" "$secret")
expect_match "$out" '^\{"status":"recorded","conversion_id":"[0-9A-Z]{26}","attributed_to":"click"\} 200$' "signed purchase recorded"
out=$(post "$body" "$secret")
expect_match "$out" '"status":"duplicate".* 200$' "the same order again is a duplicate"
expect_eq "$(jejak conversions export | wc -l)" "1" "one conversion stored"
pass "signed purchase attributed; retry is a duplicate"

conv=$(jejak conversions export)
credit() { echo "$conv" | jq -c "[.credits.$1[] | {i: .influencer, a: .amount}]"; }
expect_eq "$(credit last_click)" '[{"i":"ayu","a":"100000.00"}]' "last click"
expect_eq "$(credit first_click)" '[{"i":"budi","a":"100000.00"}]' "first click"
expect_eq "$(credit linear)" '[{"i":"budi","a":"50000.00"},{"i":"ayu","a":"50000.00"}]' "linear"
expect_eq "$(credit position_based)" '[{"i":"budi","a":"50000.00"},{"i":"ayu","a":"50000.00"}]' "position-based, two clicks"
# Time decay: two clicks a moment apart weigh almost the same; the money adds up exactly.
expect_eq "$(echo "$conv" | jq -r '[.credits.time_decay[].amount | tonumber] | add')" "100000" "time decay adds up"
expect_eq "$(echo "$conv" | jq -r '.amount, .currency, .status, .shop, .order_id' | tr '\n' ' ')" "100000.00 IDR approved tokoku INV-1 " "stored fields"
pass "two influencers split the credit as each model says"

# Refund: the same order with another status updates it.
out=$(post '{"shop":"tokoku","order_id":"INV-1","status":"refunded"}' "$secret")
expect_match "$out" '"status":"updated".* 200$' "refund updates"
expect_eq "$(jejak conversions export | jq -r .status)" "refunded" "status is refunded"
pass "refund updates the conversion"

# Transitions: a retry without status never changes the stored status; a status the table
# does not allow is refused with 409, and so is a repeat with another amount.
orig='{"shop":"tokoku","click_id":"'$jclid'","order_id":"INV-R","amount":"50000.00","currency":"IDR"}'
out=$(post "$orig" "$secret")
expect_match "$out" '"status":"recorded".* 200$' "order without status recorded"
expect_eq "$(jejak conversions export | jq -r 'select(.order_id=="INV-R") | .status')" "approved" "no status: approved"
out=$(post '{"shop":"tokoku","order_id":"INV-R","status":"refunded"}' "$secret")
expect_match "$out" '"status":"updated".* 200$' "INV-R refunded"
out=$(post "$orig" "$secret")
expect_match "$out" '"status":"duplicate".* 200$' "late retry of the original after a refund"
expect_eq "$(jejak conversions export | jq -r 'select(.order_id=="INV-R") | .status')" "refunded" "late retry leaves it refunded"
out=$(post '{"shop":"tokoku","order_id":"INV-R","status":"approved"}' "$secret")
expect_match "$out" '^\{"error":"[^"]*refunded[^"]*","field":"status"\} 409$' "refunded -> approved refused"
out=$(req "$BASE/postback?shop=tokoku&token=$token&txid=INV-R&status=approved")
expect_match "$out" '"field":"status"\} 409$' "GET refunded -> approved refused"
out=$(req "$BASE/postback?shop=tokoku&token=$token&txid=INV-R&payout=50000.00&currency=IDR")
expect_match "$out" '"status":"duplicate".* 200$' "GET retry without status after a refund"
out=$(post '{"shop":"tokoku","order_id":"INV-D","amount":"10.00","currency":"USD","status":"pending"}' "$secret")
expect_match "$out" ' 20[02]$' "pending order"
out=$(post '{"shop":"tokoku","order_id":"INV-D","status":"declined"}' "$secret")
expect_match "$out" '"status":"updated".* 200$' "pending -> declined"
out=$(post '{"shop":"tokoku","order_id":"INV-D","status":"approved"}' "$secret")
expect_match "$out" '"field":"status"\} 409$' "declined -> approved refused"
out=$(post '{"shop":"tokoku","order_id":"INV-D","amount":"10.00","currency":"USD"}' "$secret")
expect_match "$out" '"status":"duplicate".* 200$' "retry without status after a decline"
expect_eq "$(jejak conversions export | jq -r 'select(.order_id=="INV-D") | .status')" "declined" "still declined"
out=$(post '{"shop":"tokoku","order_id":"INV-R","amount":"60000.00","currency":"IDR"}' "$secret")
expect_match "$out" '^\{"error":"[^"]*50000.00 IDR[^"]*","field":"amount"\} 409$' "another amount refused"
out=$(post '{"shop":"tokoku","order_id":"INV-R","amount":"50000.00","currency":"USD"}' "$secret")
expect_match "$out" '"field":"currency"\} 409$' "another currency refused"
expect_eq "$(jejak conversions export | jq -r 'select(.order_id=="INV-R") | .amount + " " + .status')" "50000.00 refunded" "INV-R unchanged"
pass "retries never move a status back; transitions outside the table and other amounts: 409"

# occurred_at without a zone is refused, not read as UTC.
for at in '2026-11-30T21:00:00' '2026-12-02 02:30:00' '2026-11-30' '2026-11-30T21:00'; do
  out=$(post '{"shop":"tokoku","order_id":"INV-Z","occurred_at":"'"$at"'"}' "$secret")
  expect_match "$out" '^\{"error":"[^"]*zone[^"]*","field":"occurred_at"\} 400$' "occurred_at $at"
done
out=$(req "$BASE/postback?shop=tokoku&token=$token&txid=INV-Z&occurred_at=2026-11-30T21:00:00")
expect_match "$out" '"field":"occurred_at"\} 400$' "GET occurred_at without a zone"
ok_at=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S)
out=$(post '{"shop":"tokoku","order_id":"INV-Z","occurred_at":"'"$ok_at"'+07:00"}' "$secret")
expect_match "$out" ' 20[02]$' "occurred_at with +07:00"
pass "occurred_at needs a zone"

# A signature verifies over the header's text as sent, and a header with parts jejak does
# not read is refused.
zb='{"shop":"tokoku","order_id":"INV-S","amount":"1.00","currency":"USD"}'
now=$(date +%s)
mac=$(printf '%s' "$now.$zb" | openssl dgst -sha256 -hmac "$secret" | awk '{print $NF}')
out=$(req -H "X-Jejak-Signature: t=0$now,v1=$mac" --data-binary "$zb" "$BASE/postback")
expect_match "$out" '"field":"signature"\} 401$' "t with a leading zero is not the signed t"
out=$(req -H "X-Jejak-Signature: t=$now,v1=$(printf '0%.0s' {1..64}),v1=$mac,v1=$mac,v1=$mac,v1=$mac,v1=$mac,v1=$mac,v1=$mac,v1=$mac" --data-binary "$zb" "$BASE/postback")
expect_match "$out" '"field":"signature"\} 401$' "nine v1 values"
out=$(req -H "X-Jejak-Signature: t=$now,v1=$mac,t=1" --data-binary "$zb" "$BASE/postback")
expect_match "$out" '"field":"signature"\} 401$' "t given twice"
expect_eq "$(jejak conversions export | jq -r 'select(.order_id=="INV-S") | .order_id')" "" "nothing stored"
pass "signature over the bytes as sent; unread parts refused"

# Refusals store nothing.
before=$(jejak conversions export | wc -l)
good='{"shop":"tokoku","order_id":"INV-2","amount":"5.00","currency":"USD"}'
out=$(req --data-binary "$good" "$BASE/postback")
expect_match "$out" '"field":"signature".* 401$' "missing signature"
sig=$(sign "$good" "$secret"); mac=${sig#*v1=}
[ "${mac:0:1}" = 0 ] && flip=1 || flip=0   # change one hex digit, whatever it was
out=$(req -H "X-Jejak-Signature: ${sig%%v1=*}v1=$flip${mac:1}" --data-binary "$good" "$BASE/postback")
expect_match "$out" '"error":"the signature does not match the body".* 401$' "wrong signature"
out=$(post "$good" "$secret" $(( $(date +%s) - 301 )))
expect_match "$out" 'more than 300 s from now.* 401$' "stale timestamp"
out=$(post '{"shop":"tokoku","order_id":"INV-3","amount":"5.001","currency":"USD"}' "$secret")
expect_match "$out" '"field":"amount"\} 400$' "malformed amount"
out=$(post '{"shop":"tokoku","order_id":"INV-3","amount":"12,5","currency":"USD"}' "$secret")
expect_match "$out" '"field":"amount"\} 400$' "amount with a comma"
out=$(post '{"shop":"nope","order_id":"INV-4"}' "$secret")
expect_match "$out" '"error":"unknown shop","field":"shop"\} 401$' "unknown shop"
out=$(post '{"shop":"tokoku","amount":"1.00","currency":"USD"}' "$secret")
expect_match "$out" '"field":"order_id"\} 400$' "missing order id"
out=$(post '{"shop":"tokoku","order_id":"X","amount":"1","currency":"ZZZ"}' "$secret")
expect_match "$out" '"field":"currency"\} 400$' "unknown currency"
out=$(post '{"shop":"tokoku","order_id":' "$secret")
expect_match "$out" 'invalid JSON.* 400$' "broken JSON"
out=$(req -H 'Content-Type: application/json' -H "X-Jejak-Signature: t=1,v1=00" --data-binary @<(head -c 70000 /dev/zero | tr '\0' 'a') "$BASE/postback")
expect_match "$out" ' 413$' "a body past 64 KiB"
out=$(req "$BASE/postback?shop=tokoku&token=wrong&txid=G1&payout=1&currency=USD")
expect_match "$out" '"field":"token"\} 401$' "wrong token"
expect_eq "$(jejak conversions export | wc -l)" "$before" "nothing stored by refused postbacks"
pass "bad signature, stale timestamp, malformed amount, unknown shop: refused, nothing stored"

# GET form with aliases; coupon; unattributed.
out=$(req "$BASE/postback?shop=tokoku&token=$token&clickid=$jclid&txid=G-1&payout=25.50&currency=USD&event=purchase")
expect_match "$out" '"status":"recorded".*"attributed_to":"click"\} 200$' "GET postback with aliases"
out=$(req "$BASE/postback?shop=tokoku&token=$token&txid=G-2&revenue=10&currency=USD&coupon=ayu10")
expect_match "$out" '"attributed_to":"coupon"\} 200$' "coupon attribution"
expect_eq "$(jejak conversions export | jq -c 'select(.order_id=="G-2") | .credits.linear')" '[{"influencer":"ayu","campaign":"launch","link":null,"share":1,"amount":"10.00"}]' "coupon gets 100%"
out=$(req "$BASE/postback?shop=tokoku&token=$token&cid=01ZZZZZZZZZZZZZZZZZZZZZZZZ&tid=G-3&payout=7&currency=USD")
expect_match "$out" '"status":"unattributed".*"attributed_to":null,"reason":"unknown_click"\} 202$' "unknown click id"
expect_eq "$(jejak conversions export | jq -r 'select(.order_id=="G-3") | .amount')" "7.00" "unattributed sale kept"
out=$(req "$BASE/postback?shop=tokoku&token=$token&cid=x&tid=G-3&payout=7&currency=USD")
expect_match "$out" '"status":"duplicate".* 200$' "unattributed retry is a duplicate"
pass "GET form, aliases, coupon, unattributed"
# Why an order is unattributed.
out=$(req "$BASE/postback?shop=tokoku&token=$token&cid=%7Bclickid%7D&tid=W-1&payout=1&currency=USD")
expect_match "$out" '"reason":"unfilled_macro"\} 202$' "unfilled macro {clickid}"
for macro in '{click_id}' 'REPLACE' '%CLICK_ID%' '[clickid]'; do
  out=$(post '{"shop":"tokoku","order_id":"W-'"$macro"'","click_id":"'"$macro"'"}' "$secret")
  expect_match "$out" '"reason":"unfilled_macro"\} 202$' "unfilled macro $macro"
done
out=$(post '{"shop":"tokoku","order_id":"W-2"}' "$secret")
expect_match "$out" '"reason":"no_click_no_coupon"\} 202$' "no click, no coupon"
out=$(post '{"shop":"tokoku","order_id":"W-3","coupon":"NOPE"}' "$secret")
expect_match "$out" '"reason":"unknown_coupon"\} 202$' "unknown coupon"
botclk=$(curl -s -o /dev/null -A 'Googlebot/2.1 (+http://www.google.com/bot.html)' -w '%{redirect_url}' "$BASE/l/ayu")
botclk=${botclk##*jclid=}; botclk=${botclk%%#*}
expect_match "$botclk" '^[0-9A-Z]{26}$' "a bot's click id"
out=$(post '{"shop":"tokoku","order_id":"W-4","click_id":"'$botclk'"}' "$secret")
expect_match "$out" '"reason":"bot_click"\} 202$' "a bot's click"
early=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
lone=$(click ayu "$WORK/jar-lone")
out=$(post '{"shop":"tokoku","order_id":"W-5","click_id":"'$lone'","occurred_at":"'$early'"}' "$secret")
expect_match "$out" '"reason":"outside_lookback"\} 202$' "a click outside the lookback (after the order)"
pass "unattributed says why"

metrics=$(curl -s "$BASE/metrics")
echo "$metrics" | grep -qx 'jejak_postbacks_total{outcome="recorded"} 16' || fail "metrics: recorded $(echo "$metrics" | grep postbacks_total)"
echo "$metrics" | grep -qx 'jejak_postbacks_unattributed_total 12' || fail "metrics: unattributed"
stop_daemon

# Coupon priority: a known coupon beats the journey.
start_daemon --coupon-priority
jclid2=$(click budi "$jar")
out=$(post '{"shop":"tokoku","click_id":"'$jclid2'","order_id":"INV-9","amount":"1000","currency":"IDR","coupon":"AYU10"}' "$secret")
expect_match "$out" '"attributed_to":"coupon"' "--coupon-priority"
stop_daemon
pass "--coupon-priority"
