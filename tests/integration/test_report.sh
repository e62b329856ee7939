#!/usr/bin/env bash
# Reports end to end: clicks through the daemon, signed postbacks, imported metrics and
# costs for two influencers; the report in table, CSV and JSON agrees with numbers worked
# out by hand; a refund lowers revenue; API keys see what their role allows.
source "$(dirname "$0")/lib.sh"

jejak influencer add ayu --name "Ayu" --platform instagram --followers 48000 >/dev/null
jejak influencer add budi --name "Budi" --platform tiktok --followers 1200000 >/dev/null
jejak campaign add launch --name "Launch" >/dev/null
jejak link add --influencer ayu --campaign launch --to https://shop.example/ --slug ayu >/dev/null
jejak link add --influencer budi --campaign launch --to https://shop.example/ --slug budi >/dev/null
secret=$(jejak shop add tokoku | sed -n 's/^secret=//p')
start_daemon

# Ayu: four visitors and a link-preview bot; Budi: two visitors.
a1=$(click ayu "$WORK/v1"); a2=$(click ayu "$WORK/v2"); click ayu "$WORK/v3" >/dev/null; click ayu "$WORK/v4" >/dev/null
curl -s -o /dev/null -A 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' "$BASE/l/ayu"
b1=$(click budi "$WORK/v5"); click budi "$WORK/v6" >/dev/null
for order in "A1 $a1 300000.00" "A2 $a2 200000.00" "B1 $b1 100000.00"; do
  set -- $order
  out=$(post '{"shop":"tokoku","click_id":"'$2'","order_id":"'$1'","amount":"'$3'","currency":"IDR"}' "$secret")
  expect_match "$out" '"status":"recorded".* 200$' "postback $1"
done
today=$(date -u +%F)
cat > "$WORK/metrics.csv" <<CSV
date,influencer,campaign,impressions,reach,engagements
$today,ayu,launch,1000,800,40
$today,budi,launch,2000,,100
CSV
expect_eq "$(jejak metrics import "$WORK/metrics.csv")" "imported 2 rows from $WORK/metrics.csv" "metrics import"
jejak cost add --influencer ayu --campaign launch --amount 250000 --currency IDR >/dev/null
jejak cost model --influencer budi cpc 1500 IDR >/dev/null
pass "clicks, postbacks, metrics and costs for two influencers"

json=$(jejak report --format json)
row() { echo "$json" | jq -c ".rows[] | select(.influencer==\"$1\") | [.clicks,.unique_clicks,.bot_clicks,.impressions,.reach,.engagements,.conversions,.revenue,.cost,.ctr,.conversion_rate,.cost_per_conversion,.roi,.roas,.epc,.aov,.cpe,.engagement_rate,.engagement_basis,.currency]"; }
expect_eq "$(row ayu)" '[4,4,1,1000,800,40,2,"500000.00","250000.00",0.4,50,125000,100,2,125000,250000,6250,5,"reach","IDR"]' "ayu, by hand"
expect_eq "$(row budi)" '[2,2,0,2000,null,100,1,"100000.00","3000.00",0.1,50,3000,3233.33333333333,33.3333333333333,50000,100000,30,5,"impressions","IDR"]' "budi, by hand"
expect_eq "$(echo "$json" | jq -c '.total | [.clicks,.conversions,.revenue,.cost,.roi]')" '[6,3,"600000.00","253000.00",137.154150197628]' "total, by hand"
expect_eq "$(echo "$json" | jq -r '.model')" "last_click" "default model"
pass "JSON report agrees with the numbers worked out by hand"

csv=$(jejak report --format csv)
expect_eq "$(echo "$csv" | head -1)" "influencer,currency,impressions,reach,engagements,clicks,unique_clicks,bot_clicks,suspicious_clicks,conversions,revenue,cost,ctr,conversion_rate,cost_per_conversion,roi,roas,epc,aov,cpe,engagement_rate,engagement_basis" "csv header"
expect_eq "$(echo "$csv" | grep '^budi,')" "budi,IDR,2000,n/a,100,2,2,0,0,1,100000.00,3000.00,0.1,50,3000,3233.33333333333,33.3333333333333,50000,100000,30,5,impressions" "csv budi"
expect_eq "$(echo "$csv" | tail -1 | cut -d, -f1-12)" "total,IDR,3000,800,140,6,6,1,0,3,600000.00,253000.00" "csv total"
table=$(jejak report)
echo "$table" | grep -qE '^ayu +IDR +4 +2 +500,000\.00 +250,000\.00 +100\.00%$' || fail "table row for ayu: $table"
echo "$table" | grep -qE '^total +IDR +6 +3 +600,000\.00 +253,000\.00 +137\.15%$' || fail "table total: $table"
[ "$(echo "$table" | awk '{ if (length($0) > 80) print }' | wc -l)" = "0" ] || fail "the table is wider than 80 columns"
pass "CSV and the 80-column table agree"

# Multi-touch: a visitor who clicked Budi then Ayu and bought: linear splits it.
b2=$(click budi "$WORK/v7"); a5=$(click ayu "$WORK/v7")
post '{"shop":"tokoku","click_id":"'$a5'","order_id":"M1","amount":"50000.00","currency":"IDR"}' "$secret" >/dev/null
lin=$(jejak report --model linear --format json)
expect_eq "$(echo "$lin" | jq -c '[.rows[] | [.influencer,.conversions,.revenue]]')" '[["ayu",2.5,"525000.00"],["budi",1.5,"125000.00"]]' "linear model"
pass "linear model splits a two-touch journey"

# A refund takes revenue out.
post '{"shop":"tokoku","order_id":"A2","status":"refunded"}' "$secret" >/dev/null
expect_eq "$(jejak report --format json | jq -c '.rows[] | select(.influencer=="ayu") | [.conversions,.revenue]')" '[2,"350000.00"]' "refund lowers revenue"
pass "a refund lowers revenue and conversions"

# By day and tier, time zones.
expect_eq "$(jejak report --by tier --format json | jq -c '[.rows[].tier]')" '["mega","micro"]' "tiers"
kiri=$(TZ=Pacific/Kiritimati date +%F)
expect_eq "$(jejak report --by day --tz Pacific/Kiritimati --format json | jq -r '[.rows[] | select(.clicks > 0) | .day] | unique | join(",")')" "$kiri" "clicks fall on the local day in +14:00"
expect_eq "$(jejak report --by influencer --by day --format json | jq -c '[.rows[] | [.influencer,.day]]')" "[[\"ayu\",\"$today\"],[\"budi\",\"$today\"]]" "two --by"
jejak config set tz Asia/Jakarta >/dev/null
expect_eq "$(jejak report --format json | jq -r .tz)" "Asia/Jakarta" "config tz is the default"
jejak report --tz Mars/Olympus 2>/dev/null && fail "a bad zone accepted"
jejak report --by colour 2>/dev/null && fail "a bad --by accepted"
pass "tiers, days in the marketer's zone, nested groups"

# The CSV import is all or nothing and names the line.
printf 'date,influencer,impressions\n%s,ayu,5\n%s,ayu,lots\n%s,nobody,1\n' "$today" "$today" "$today" > "$WORK/bad.csv"
out=$(jejak metrics import "$WORK/bad.csv" 2>&1) && fail "a bad CSV was imported"
expect_match "$out" "bad.csv:3: impressions \"lots\" is not a whole number" "the bad line is named"
printf 'date,influencer,impressions\n%s,nobody,1\n' "$today" > "$WORK/bad2.csv"
out=$(jejak metrics import "$WORK/bad2.csv" 2>&1) && fail "an unknown influencer was imported"
expect_match "$out" 'bad2.csv:2: unknown influencer "nobody"' "unknown influencer named"
expect_eq "$(jejak report --tz UTC --format json | jq -c '[.rows[].impressions]')" '[1000,2000]' "nothing of the bad files stored"
pass "the CSV import rejects a bad file whole and names the line"

# Over HTTP, with API keys.
admin=$(jejak apikey add --role admin 2>/dev/null | sed -n 's/^key=//p')
budikey=$(jejak apikey add --role influencer:budi 2>/dev/null | sed -n 's/^key=//p')
out=$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?by=influencer&tz=UTC&format=json")
expect_match "$out" ' 200$' "admin report"
expect_eq "$(echo "${out% 200}" | jq -c '[.rows[].influencer]')" '["ayu","budi"]' "admin sees everyone"
out=$(req -H "Authorization: Bearer $budikey" "$BASE/api/v1/report?by=influencer&tz=UTC")
expect_eq "$(echo "${out% 200}" | jq -c '[.rows[].influencer]')" '["budi"]' "an influencer's key sees only her rows"
expect_match "$(req -H "Authorization: Bearer $budikey" "$BASE/api/v1/report?influencer=ayu")" ' 403$' "forbidden scope"
expect_match "$(req "$BASE/api/v1/report")" '"field":"authorization"\} 401$' "missing key"
expect_match "$(req -H 'Authorization: Bearer jk_wrong' "$BASE/api/v1/report")" ' 401$' "wrong key"
expect_match "$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?model=best")" '"field":"model"\} 400$' "bad model"
csvout=$(curl -s -H "Authorization: Bearer $admin" "$BASE/api/v1/report?by=influencer&tz=UTC&format=csv")
expect_eq "$(echo "$csvout" | grep '^budi,' | cut -d, -f1-12)" "budi,IDR,2000,n/a,100,3,3,0,0,1,100000.00,4500.00" "CSV over HTTP"
pass "the report API: admin, influencer scope, 401, 403"

# Unknown ids are refused, not answered with an empty report (CLI and API alike).
out=$(jejak report --influencer nobody 2>&1) && fail "a report for an unknown influencer"
expect_eq "$out" "jejak: --influencer: no influencer 'nobody'" "unknown influencer named"
out=$(jejak report --campaign nope --format json 2>&1) && fail "a report for an unknown campaign"
expect_eq "$out" "jejak: --campaign: no campaign 'nope'" "unknown campaign named"
expect_match "$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?influencer=nobody")" '^\{"error":"no influencer .nobody.","field":"influencer"\} 400$' "API: unknown influencer"
expect_match "$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?campaign=nope")" '"field":"campaign"\} 400$' "API: unknown campaign"
expect_match "$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?campaign=launch&tz=UTC")" ' 200$' "API: a known campaign"
expect_match "$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?from=9999-12-31&to=9999-12-31")" '"rows":\[\].* 200$' "an empty report (no qsort of NULL)"
pass "unknown influencer and campaign ids are refused"

# The scheme is case-insensitive; empty parameter names are ignored; past 64 parameters
# the query is refused (not cut short).
expect_match "$(req -H "Authorization: bearer $admin" "$BASE/api/v1/report?tz=UTC")" '"rows":.* 200$' "lower-case bearer"
expect_match "$(req -H "Authorization: BEARER  $admin" "$BASE/api/v1/report?tz=UTC")" '"rows":.* 200$' "upper-case bearer, two spaces"
expect_match "$(req -H "Authorization: Basic $admin" "$BASE/api/v1/report")" '"field":"authorization"\} 401$' "another scheme"
expect_match "$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?&by=influencer&&tz=UTC&")" '"rows":.* 200$' "empty names ignored"
many=$(printf 'tz=UTC&%.0s' $(seq 1 64)); many=${many%&}
expect_match "$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?$many")" '"rows":.* 200$' "64 parameters"
expect_match "$(req -H "Authorization: Bearer $admin" "$BASE/api/v1/report?$many&model=best")" '^\{"error":"too many query parameters \(65; at most 64\)","field":"query"\} 400$' "65 parameters refused"
pass "bearer in any case, empty names ignored, more than 64 parameters refused"

# A sale credited to no one is still in the report: its own row, and in the total.
before=$(jejak report --tz UTC --format json | jq -r '.total.revenue')
out=$(post '{"shop":"tokoku","order_id":"U1","amount":"70000.00","currency":"IDR"}' "$secret")
expect_match "$out" '"status":"unattributed".* 202$' "an unattributed order"
json=$(jejak report --tz UTC --format json)
expect_eq "$(echo "$json" | jq -c '.rows[] | select(.influencer=="(unattributed)") | [.clicks,.conversions,.revenue]')" '[0,1,"70000.00"]' "the (unattributed) row"
expect_eq "$(echo "$json" | jq -r '.total.revenue')" "$(echo "$before" | awk '{ printf "%.2f", $1 + 70000 }')" "the total includes it"
expect_eq "$(jejak report --tz UTC --by campaign --format csv | grep '^(unattributed),' | cut -d, -f1,2,10,11)" "(unattributed),IDR,1,70000.00" "by campaign too"
expect_eq "$(jejak report --tz UTC --influencer ayu --format json | jq -r '[.rows[].influencer] | join(",")')" "ayu" "a filter leaves it out"
pass "unattributed sales have their own row and count in the total"

# Amounts past the documented maximum (10^15 minor units) are refused where they enter.
out=$(post '{"shop":"tokoku","order_id":"HUGE","amount":"40000000000000000.00","currency":"IDR"}' "$secret")
expect_eq "$out" '{"error":"amount is too large (at most 10000000000000.00 IDR)","field":"amount"} 400' "a huge order"
out=$(post '{"shop":"tokoku","order_id":"HUGE","amount":"9223372036854775807","currency":"JPY"}' "$secret")
expect_match "$out" '"field":"amount"\} 400$' "an INT64_MAX order"
out=$(jejak cost add --influencer ayu --amount 92233720368547758.07 --currency USD 2>&1) && fail "a huge cost was stored"
expect_eq "$out" "jejak: --amount: amount is too large (at most 10000000000000.00 USD)" "a huge cost"
jejak cost model --influencer ayu cpc 10000000000000.01 USD 2>/dev/null && fail "a huge price was stored"
expect_eq "$(jejak report --tz UTC --format json | jq -r '[.totals[].revenue, .totals[].cost] | join(" ")')" "$(echo "$json" | jq -r '[.totals[].revenue, .totals[].cost] | join(" ")')" "nothing of them counted"
pass "amounts past 10^15 minor units are refused (postback, cost, price)"

stop_daemon
expect_eq "$(jejak rollups rebuild --check)" "rollups match a rebuild from raw records (3 rows)" "live rollups equal a rebuild"
pass "rollups equal a rebuild from raw records"
