#!/usr/bin/env bash
# The simulated disk of tools/powercut.sh, on its own: libjejak_powercut.so and
# jejak-powercut-restore (tests/tools/powercut*.c) with jejak commands that write.
#   1. a committed write (jejak campaign add, under the shim) is in the durable image: after
#      the restore the store still has it;
#   2. with POWERCUT_NOSYNC=1 (every sync call a no-op) the same write is not durable: after
#      the restore the store is as before it, and `jejak check` is clean on it;
#   3. a page of data.mdb changed behind the shim's back stops the restore (exit 3);
#   4. --torn lands some of the pages of unsynced writes and reports how many.
source "$(dirname "$0")/lib.sh"
dir=$(dirname "$JEJAK")
LIB=$dir/libjejak_powercut.so
RESTORE=$dir/jejak-powercut-restore
[ -f "$LIB" ] && [ -x "$RESTORE" ] || fail "libjejak_powercut.so or jejak-powercut-restore missing in $dir"
SHADOW=$WORK/shadow
# under_shim CMD...: jejak CMD under the shim, on a fresh durable image of the folder.
under_shim() {
  rm -rf "$SHADOW" && mkdir -p "$SHADOW"
  LD_PRELOAD=$LIB POWERCUT_DIR=$JEJAK_DATA POWERCUT_SHADOW=$SHADOW \
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$JEJAK" "$@" >/dev/null
}
restore() { "$RESTORE" "$SHADOW" "$JEJAK_DATA" "$@"; }
campaigns() { jejak campaign list | awk 'NR > 1 {print $1}' | tr '\n' ' '; }

jejak influencer add ayu --name Ayu --platform instagram >/dev/null
jejak campaign add launch --name Launch >/dev/null

under_shim campaign add synced --name Synced
stats=$(tr '\n' ' ' < "$SHADOW/stats")
expect_match "$stats" 'syncs [1-9].*dsync_writes [1-9]' "the shim saw the commit's fdatasync and O_DSYNC meta write"
restore >/dev/null || fail "restore after a synced commit"
expect_eq "$(campaigns)" "launch synced " "campaigns after a cut that followed a synced commit"
pass "a committed write is durable: it survives the cut ($stats)"

POWERCUT_NOSYNC=1 under_shim campaign add lost --name Lost
stats=$(tr '\n' ' ' < "$SHADOW/stats")
expect_match "$stats" 'writes [1-9].*syncs 0 dsync_writes 0' "with POWERCUT_NOSYNC=1 the shim saw writes and no sync"
restore >/dev/null || fail "restore after an unsynced commit"
expect_eq "$(campaigns)" "launch synced " "campaigns after a cut that followed a commit with no sync"
out=$(jejak check) || fail "check after the cut of an unsynced commit: $out"
pass "a commit whose syncs do nothing is lost at the cut, and the store is as before it"

under_shim campaign add seen --name Seen
printf 'X' | dd of="$JEJAK_DATA/data.mdb" bs=1 seek=$((4096 * 3 + 100)) conv=notrunc status=none
rc=0
out=$(restore 2>&1) || rc=$?
expect_eq "$rc" 3 "restore after a write the shim did not see ($out)"
expect_match "$out" "page 3 changed with no write the shim saw" "the restore names the page"
pass "a write behind the shim's back stops the restore"

# The image is still the last durable state (with "seen"): put it back, then tear.
cp "$SHADOW/data.mdb" "$JEJAK_DATA/data.mdb"
expect_eq "$(campaigns)" "launch seen synced " "campaigns in the durable image"
POWERCUT_NOSYNC=1 under_shim campaign add torn --name Torn
out=$(restore --torn 42) || fail "torn restore: $out"
expect_match "$out" 'data.mdb: [0-9]+ bytes durable, [1-9][0-9]* unsynced writes \([1-9][0-9]* pages, [0-9]+ landed\)' "the torn restore's report"
pass "a torn restore: $(echo "$out" | grep data.mdb)"
