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
