#!/usr/bin/env bash
# A corrupted store: LMDB keeps no checksums, so a flipped bit shows only as a record that
# does not decode, a B-tree that no longer holds together, or liblmdb reading outside its
# map. On copies of one store (20,000 clicks, 500 conversions, built by jejak-seed through
# the daemon's write path), each with bytes flipped in one place:
#   - `jejak check` on the intact store exits 0 (and with --rollups);
#   - on every damaged copy it exits 1, names the table, and never crashes (status <= 128),
#     also when liblmdb itself crashed in its walk ("the B-tree is damaged");
#   - `jejak clicks export` and `jejak rollups rebuild --check` on a damaged copy fail with
#     a message on stderr, never a bare signal (status <= 128).
# Places: a click record's version byte; a leaf page's flags; a branch page's child page
# number; node pointers of a clicks leaf page shifted by 8 bytes (liblmdb then reads a
# node from the middle of another: the flip that segfaulted `clicks export`).
source "$(dirname "$0")/lib.sh"
SEED=$(dirname "$JEJAK")/jejak-seed
[ -x "$SEED" ] || fail "jejak-seed not found beside $JEJAK"
"$SEED" --data "$WORK/good" --clicks 20000 --conversions 500 --days 3 --seed 7 >/dev/null 2>&1 ||
  fail "jejak-seed could not build the store"

out=$(jejak check --data "$WORK/good") || fail "check on the intact store: $out"
expect_match "$out" "no problem found" "check on the intact store"
out=$(jejak check --rollups --data "$WORK/good") || fail "check --rollups on the intact store: $out"
expect_match "$out" "rollups equal a rebuild" "check --rollups on the intact store"
pass "check: the intact store is clean ($out)"

# The page layout (LMDB on x86-64, 4 KiB pages): a page header is pgno(8) pad(2) flags(2)
# lower(2) upper(2), then the node offsets; a node is lo(2) hi(2) flags(2) ksize(2), key,
# data; flags 1 = branch, 2 = leaf. Finds the first branch page (and its first node) and
# the first leaf page whose first node has a 16-byte key and a small value (a click).
read -r BRANCH BNODE LEAF LNODE < <(od -A d -t u2 -w4096 -v "$WORK/good/data.mdb" | awk '
  { f = $7; p = $1 / 4096 }
  f == 1 && b == "" { b = p; bo = $10 }
  f == 2 && l == "" { o = $10; if ($(o / 2 + 5) == 16 && $(o / 2 + 2) < 200) { l = p; lo = o } }
  END { print b, bo, l, lo }')
[ -n "${LNODE:-}" ] || fail "no branch page and click leaf page found in the store"

# damage NAME OFFSET XOR: a copy of the store with the byte at OFFSET xor-ed with XOR.
damage() {
  rm -rf "$WORK/$1"
  cp -r "$WORK/good" "$WORK/$1"
  local b
  b=$(od -A n -t u1 -j "$2" -N 1 "$WORK/$1/data.mdb" | tr -d ' ')
  printf "\\$(printf %o $((b ^ $3)))" | dd of="$WORK/$1/data.mdb" bs=1 seek="$2" conv=notrunc status=none
}

# run_cmd CMD...: runs jejak, prints its exit status; stderr in $WORK/err.
run_cmd() {
  local rc=0
  jejak "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  echo "$rc"
}

crashes=0
cases=0
try() { # NAME OFFSET XOR
  damage "$1" "$2" "$3"
  cases=$((cases + 1))
  rc=$(run_cmd check --data "$WORK/$1")
  expect_eq "$rc" 1 "$1: jejak check exits 1 ($(head -c 300 "$WORK/out") $(head -c 300 "$WORK/err"))"
  grep -qE '^(meta|influencers|campaigns|links|clicks|visits|shops|coupons|conversions|orders|rollups|rollups_day|metrics|costs|paymodels|apikeys)[ :]' "$WORK/out" ||
    fail "$1: jejak check names no table: $(head -c 300 "$WORK/out")"
  grep -q "B-tree is damaged" "$WORK/out" && crashes=$((crashes + 1))
  for cmd in "clicks export" "rollups rebuild --check"; do
    # shellcheck disable=SC2086
    rc=$(run_cmd $cmd --data "$WORK/$1")
    [ "$rc" -le 128 ] || fail "$1: jejak $cmd died of signal $((rc - 128)): $(head -c 300 "$WORK/err")"
    if [ "$rc" -ne 0 ]; then
      [ -s "$WORK/err" ] || fail "$1: jejak $cmd exits $rc with no message"
      ! grep -q " 0 of the live rollup rows differ" "$WORK/err" ||
        fail "$1: jejak $cmd blames no rollup row: $(head -c 300 "$WORK/err")"
    fi
  done
  rm -rf "${WORK:?}/$1"
}

try value $((LEAF * 4096 + LNODE + 8 + 16)) 255
try leaf-flags $((LEAF * 4096 + 10)) 2
try branch-child $((BRANCH * 4096 + BNODE + 5)) 127
for i in $(seq 1 24); do
  try "node-pointer-$i" $((LEAF * 4096 + 16 + 2 * i)) 8
done
[ "$crashes" -gt 0 ] || fail "no damaged copy made liblmdb crash: the crash path of check is untested"
pass "check: $cases damaged copies, each reported with its table and exit 1 ($crashes of them crashed liblmdb inside check's walk); export and rebuild --check say so, never a bare signal"

# The exported message of a command that crashed names the folder and the way out.
damage crashed $((LEAF * 4096 + 16 + 2 * 8)) 8
rc=$(run_cmd clicks export --data "$WORK/crashed")
if [ "$rc" -ne 0 ] && grep -q crashed "$WORK/err"; then
  expect_match "$(cat "$WORK/err")" "run .jejak check." "the crash message of clicks export"
fi
pass "a command that crashes in liblmdb says the store is probably damaged and names jejak check"
