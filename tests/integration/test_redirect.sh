#!/usr/bin/env bash
# The tracking link end to end: registries through the CLI, the real daemon on a loopback
# port, redirects followed with curl, and the stored clicks read back with the export.
source "$(dirname "$0")/lib.sh"

jejak influencer add ayu-ramadan --name "Ayu Ramadan" --platform instagram --handle @ayu --followers 48200 >/dev/null
jejak campaign add ramadan-2026 --name "Ramadan 2026" --start 2026-02-18 --end 2026-03-19 >/dev/null
url=$(jejak link add --influencer ayu-ramadan --campaign ramadan-2026 \
      --to 'https://shop.example/dress?ref=ig&utm_source=bio#reviews' --slug ayu)
expect_eq "$url" "http://127.0.0.1:8080/l/ayu" "link add prints the tracking URL"
pass "registries"

# Refusals store nothing.
for bad in 'ftp://shop.example/' 'shop.example/x' $'https://shop.example/a\r\nSet-Cookie: x=1' \
           'https://shop.example/a b' 'javascript:alert(1)' "https://shop.example/$(printf 'a%.0s' $(seq 2100))"; do
  if out=$(jejak link add --influencer ayu-ramadan --campaign ramadan-2026 --to "$bad" 2>&1); then
    fail "a bad destination was accepted: $bad"
  fi
  expect_match "$out" "--to refused" "the refusal names the problem"
done
jejak link add --influencer nobody --campaign ramadan-2026 --to https://shop.example/ 2>/dev/null && fail "unknown influencer accepted"
jejak link add --influencer ayu-ramadan --campaign ramadan-2026 --to https://shop.example/ --slug ayu 2>/dev/null && fail "duplicate slug accepted"
expect_eq "$(jejak link list | wc -l)" "2" "only the good link is stored"
pass "bad destinations refused, nothing stored"

start_daemon --exclude-ip 10.0.0.0/8
# A visitor from an Instagram story, with her own content tag.
hdrs=$(curl -s -o /dev/null -D - -A "$BROWSER" -H 'Accept-Language: id-ID,id;q=0.9' \
       -H 'Referer: https://l.instagram.com/?u=abc' -c "$WORK/jar" \
       "$BASE/l/ayu?utm_content=story-2&sub=a&jclid=forged")
status=$(echo "$hdrs" | head -1 | tr -d '\r')
expect_eq "$status" "HTTP/1.1 302 Found" "redirect status"
loc=$(echo "$hdrs" | sed -n 's/^Location: //p' | tr -d '\r')
expect_match "$loc" '^https://shop\.example/dress\?ref=ig&utm_source=bio&utm_medium=influencer&utm_campaign=ramadan-2026&utm_content=story-2&sub=a&jclid=[0-9A-HJKMNP-TV-Z]{26}#reviews$' "Location"
jclid=${loc##*jclid=}; jclid=${jclid%%#*}
echo "$hdrs" | grep -qi '^Cache-Control: no-store' || fail "no Cache-Control: no-store"
echo "$hdrs" | grep -qiE '^Set-Cookie: jv=[A-Za-z0-9_-]{22}; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax' || fail "visitor cookie"
pass "302 with UTM, forwarded parameters, jclid, fragment, cookie"

# The same browser again (cookie kept): same visitor, not unique any more.
curl -s -o /dev/null -A "$BROWSER" -b "$WORK/jar" "$BASE/l/ayu"
# A link-preview fetcher: redirected, stored as a bot.
bot=$(curl -s -o /dev/null -w '%{http_code}' -A 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)' "$BASE/l/ayu")
expect_eq "$bot" "302" "a bot is redirected like anyone"
# HEAD is answered, stored as a bot.
expect_eq "$(curl -s -I -o /dev/null -w '%{http_code}' -A "$BROWSER" "$BASE/l/ayu")" "302" "HEAD"
# Unknown slug: 404, and no open redirect whatever the query says.
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/l/nope?to=https://evil.example")" "404" "unknown slug"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/l/..%2f..%2fetc")" "404" "odd slug"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/l/ayu")" "405" "POST on a link"
expect_eq "$(curl -s "$BASE/healthz")" '{"status":"ok"}' "healthz"
metrics=$(curl -s "$BASE/metrics")
echo "$metrics" | grep -qx 'jejak_clicks_total 2' || fail "metrics: clicks $(echo "$metrics" | grep clicks_total)"
echo "$metrics" | grep -qx 'jejak_bot_clicks_total 2' || fail "metrics: bot clicks"
echo "$metrics" | grep -qx 'jejak_unknown_slugs_total 2' || fail "metrics: unknown slugs"
echo "$metrics" | grep -q '^jejak_request_duration_seconds_bucket{le="+Inf"}' || fail "metrics: histogram"
pass "repeat click, bot, HEAD, 404, 405, healthz, metrics"

export_json=$(jejak clicks export)
expect_eq "$(echo "$export_json" | wc -l)" "4" "four clicks stored (bots included, flagged)"
first=$(echo "$export_json" | head -1)
expect_match "$first" "^\{\"click_id\":\"$jclid\",\"ts\":[0-9]{13},\"link\":\"ayu\",\"influencer\":\"ayu-ramadan\",\"campaign\":\"ramadan-2026\",\"visitor\":\"[A-Za-z0-9_-]{22}\",\"ip\":\"127\.0\.0\.0\",\"device\":\"mobile\",\"referrer\":\"l\.instagram\.com\",\"lang\":\"id-ID\",\"bot\":false,\"unique\":true,\"suspicious\":false\}$" "first click"
visitor=$(echo "$first" | sed 's/.*"visitor":"\([^"]*\)".*/\1/')
second=$(echo "$export_json" | sed -n 2p)
expect_match "$second" "\"visitor\":\"$visitor\".*\"bot\":false,\"unique\":false" "second click: same visitor, not unique"
expect_match "$(echo "$export_json" | sed -n 3p)" '"device":"bot".*"bot":true,"unique":false' "bot click"
csv=$(jejak clicks export --format csv)
expect_eq "$(echo "$csv" | head -1)" "click_id,ts,link,influencer,campaign,visitor,ip,device,referrer,lang,bot,unique,suspicious" "csv header"
expect_eq "$(echo "$csv" | wc -l)" "5" "csv rows"
expect_eq "$(jejak clicks export --since 2999-01-01T00:00:00Z | wc -l)" "0" "--since filters"
jejak clicks export --since yesterday 2>/dev/null && fail "bad --since accepted"
jejak clicks export --since 2026-11-20 2>/dev/null && fail "--since without a zone accepted"
jejak clicks export --since 2026-11-20T10:00:00 2>/dev/null && fail "--since without a zone accepted"
expect_eq "$(jejak clicks export --since 2026-11-20T17:00:00+07:00 | wc -l)" "$(jejak clicks export | wc -l)" "--since with an offset"
pass "export while the daemon runs (jsonl, csv, --since)"

stop_daemon
grep -q "stopped cleanly" "$WORK/daemon.log" || fail "no clean stop"
pass "SIGTERM stops cleanly"

# Privacy switches.
start_daemon --no-ip --no-user-agent --no-referrer
curl -s -o /dev/null -A "$BROWSER" -H 'Referer: https://t.co/x' "$BASE/l/ayu"
last=$(jejak clicks export | tail -1)
expect_match "$last" '"ip":null,"device":"","referrer":"",' "no ip, no device, no referrer"
stop_daemon
start_daemon --exclude-ip 127.0.0.0/8
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -A "$BROWSER" "$BASE/l/ayu")" "302" "excluded address still redirected"
stop_daemon
expect_eq "$(jejak clicks export | wc -l)" "5" "excluded click not stored"
pass "privacy switches and --exclude-ip"
