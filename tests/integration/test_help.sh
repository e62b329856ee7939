#!/usr/bin/env bash
# Help everywhere, from the one command table (tools/cli.h):
#   1. `jejak help` lists every command and subcommand, exit 0;
#   2. for each, `jejak CMD --help` (and -h, and `jejak help CMD`) prints its usage to
#      stdout, exit 0, naming exactly the options it accepts (the list below is the one the
#      old hand-written usage gave), one per line, each really accepted by the parser;
#   3. an unknown option names itself and prints the usage to stderr, exit 2; so does an
#      option without its argument, and an unknown subcommand;
#   4. asking for help reads and creates nothing.
source "$(dirname "$0")/lib.sh"
export JEJAK_DATA=$WORK/never-created

declare -A expect=(
  [serve]="listen demo no-ip no-user-agent no-referrer exclude-ip trust-proxy threads lookback-days coupon-priority flood-limit conn-limit timeout public-url"
  [influencer add]="name platform handle followers"
  [influencer list]=""
  [campaign add]="name start end"
  [campaign list]=""
  [link add]="influencer campaign to slug source medium campaign-tag content term public-url"
  [link list]=""
  [clicks export]="since format"
  [shop add]=""
  [shop list]=""
  [coupon add]="influencer campaign"
  [coupon list]=""
  [conversions export]="format"
  [report]="by model from to tz influencer campaign currency format wide"
  [metrics import]=""
  [cost add]="influencer campaign amount currency date"
  [cost model]="influencer campaign"
  [config set]=""
  [config get]=""
  [apikey add]="role"
  [rollups rebuild]="check"
  [check]="rollups"
)
sorted() { tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' '; }

out=$(jejak help) || fail "jejak help exited $?"
expect_match "$out" '^usage: jejak \[--data DIR\] COMMAND' "jejak help starts with the usage line"
listed=$(echo "$out" | sed -n '/^commands:$/,/^$/p' | sed -n 's/^  \([a-z][a-z ]*[a-z]\)  .*/\1/p' | grep -v '^help')
expect_eq "$(echo "$listed" | wc -l)" "${#expect[@]}" "jejak help lists every command and subcommand"
[ "$(jejak --help)" = "$out" ] || fail "jejak --help differs from jejak help"

while read -r cmd; do
  [ -n "${expect[$cmd]+set}" ] || fail "jejak help lists '$cmd', which this test does not know"
  # shellcheck disable=SC2086
  usage=$(jejak $cmd --help) || fail "jejak $cmd --help exited $?"
  expect_match "$usage" "^usage: jejak $cmd" "jejak $cmd --help starts with its usage line"
  # shellcheck disable=SC2086
  [ "$(jejak $cmd -h)" = "$usage" ] || fail "jejak $cmd -h differs from --help"
  # shellcheck disable=SC2086
  [ "$(jejak help $cmd)" = "$usage" ] || fail "jejak help $cmd differs from jejak $cmd --help"
  opts=$(echo "$usage" | sed -n 's/^  --\([a-z-]*\).*/\1/p' | { grep -vx 'data\|help' || true; } | sorted)
  expect_eq "$opts" "$(echo "${expect[$cmd]}" | sorted)" "the options jejak $cmd --help names"
  echo "$usage" | grep -q '^  --data DIR  ' || fail "jejak $cmd --help does not name --data DIR"
  echo "$usage" | grep -q '^  --help  ' || fail "jejak $cmd --help does not name --help"
  # Every option named is accepted: given before --help, it does not stop the parse.
  while read -r name arg; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086
    if [ -n "$arg" ]; then
      jejak $cmd "--$name" x --help >/dev/null || fail "jejak $cmd refuses its own --$name"
    else
      jejak $cmd "--$name" --help >/dev/null || fail "jejak $cmd refuses its own --$name"
    fi
  done < <(echo "$usage" | sed -n 's/^  --\([a-z-]*\) \([A-Za-z:|.-]*\)  .*/\1 \2/p; s/^  --\([a-z-]*\)  .*/\1/p')
  # shellcheck disable=SC2086
  err=$(jejak $cmd --frob 2>&1 >/dev/null) && fail "jejak $cmd --frob accepted"
  rc=$(jejak $cmd --frob >/dev/null 2>&1; echo $?)
  expect_eq "$rc" "2" "jejak $cmd --frob exit status"
  expect_eq "$(echo "$err" | head -1)" "jejak $cmd: unknown option '--frob'" "jejak $cmd names the unknown option"
  expect_match "$err" "usage: jejak $cmd" "jejak $cmd --frob prints the usage"
  # shellcheck disable=SC2086
  [ -z "$(jejak $cmd --frob=1 2>/dev/null)" ] || fail "jejak $cmd --frob wrote to stdout"
done <<< "$listed"
pass "every command and subcommand has --help naming each option it takes; an unknown option exits 2"

[ "$(jejak help report)" = "$(jejak report --help)" ] || fail "jejak help report differs"
expect_match "$(jejak report --help)" $'\n  --by KEY  +[^\n]*tier' "report's --by says what it groups by"
out=$(jejak report --by 2>&1) && fail "--by without its argument accepted"
expect_match "$out" "^jejak report: option '--by' needs an argument" "a missing argument is named"
expect_eq "$(jejak report --by >/dev/null 2>&1; echo $?)" "2" "a missing argument exits 2"
out=$(jejak report --wide=yes 2>&1) && fail "--wide=yes accepted"
expect_match "$out" "option '--wide' takes no argument" "a flag given a value"
out=$(jejak check -x 2>&1) && fail "-x accepted"
expect_match "$out" "^jejak check: unknown option '-x'" "an unknown short option"
pass "jejak help report is jejak report --help; missing and extra arguments are named"

# A command with subcommands: its help lists them; a missing or unknown one exits 2.
parent=$(jejak influencer --help) || fail "jejak influencer --help exited $?"
expect_match "$parent" $'commands:\n  add  +register an influencer\n  list  ' "jejak influencer --help lists its subcommands"
[ "$(jejak help influencer)" = "$parent" ] || fail "jejak help influencer differs"
out=$(jejak influencer 2>&1) && fail "jejak influencer without a subcommand accepted"
expect_match "$out" "^jejak influencer: missing command" "a missing subcommand"
out=$(jejak influencer frob 2>&1) && fail "jejak influencer frob accepted"
expect_match "$out" "^jejak influencer: unknown command 'frob'" "an unknown subcommand"
expect_eq "$(jejak influencer frob >/dev/null 2>&1; echo $?)" "2" "an unknown subcommand exits 2"
out=$(jejak help frob 2>&1) && fail "jejak help frob accepted"
expect_match "$out" "unknown command 'frob'" "help for an unknown command"
out=$(jejak 2>&1) && fail "jejak without a command succeeded"
expect_match "$out" "^usage: jejak" "jejak alone prints the usage"
expect_eq "$(jejak >/dev/null 2>&1; echo $?)" "2" "jejak alone exits 2"
[ ! -e "$JEJAK_DATA" ] || fail "asking for help created the data folder"
pass "subcommands listed, missing or unknown ones refused; help creates no folder"

# The parser keeps every option given: serve's 64 --exclude-ip ranges and more still reach
# serve's own checks (here the 65th range, then a bad --threads after all 64).
many=()
for i in $(seq 1 64); do many+=(--exclude-ip "10.0.$i.0/24"); done
out=$(jejak serve "${many[@]}" --exclude-ip 10.1.0.0/24 2>&1) && fail "65 --exclude-ip ranges accepted"
expect_eq "$out" "jejak: at most 64 --exclude-ip ranges" "the 65th range is refused by serve"
out=$(jejak serve "${many[@]}" --no-ip --trust-proxy --threads 999 2>&1) && fail "--threads 999 accepted"
expect_eq "$out" "jejak: --threads must be a number from 0 to 256" "options after 64 ranges are read"
[ ! -e "$JEJAK_DATA" ] || fail "a refused serve created the data folder"
pass "every option given reaches the command, however many"
