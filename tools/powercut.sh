#!/usr/bin/env bash
# powercut.sh: simulated power cuts under mixed load, then the checks a shop and a marketer
# rely on. `kill -9` (tests/integration/test_faults.sh) proves no process crash loses an
# answered click, but the kernel keeps what a killed process wrote; this proves the fsync
# discipline: what was not made durable before the cut is lost, or torn.
#
# The daemon ($JEJAK serve) runs with libjejak_powercut.so preloaded (tests/tools/powercut.c):
# beside the real data folder it keeps each file's durable image, which only fsync,
# fdatasync, msync (MS_SYNC) and writes through O_DSYNC/O_SYNC fds update. Each cycle:
#   1. clicks (curl, a browser User-Agent) and signed postbacks (HMAC over "<t>.<body>",
#      one new order id each, odd ones naming a click already answered) for a random 1-3 s;
#   2. the cut: kill -9, then jejak-powercut-restore puts the durable images back in the data
#      folder: on odd cuts nothing that was not synced lands; on even cuts each 4 KiB page an
#      unsynced write touched lands or not, at random (torn). It refuses (exit 3) if a page
#      changed with no write the shim saw;
#   3. on what the disk would hold, with no recovery step: `jejak check` is clean; the daemon
#      starts; the postbacks that got no answer are retried (each must be answered 200/202);
#      every answered click (302 with its jclid) and every acknowledged conversion is
#      stored, none twice; `jejak rollups rebuild --check` equals a rebuild.
#
# Exit status: 0 all cycles passed; 1 something answered was lost or the store is
# inconsistent (the checks above); 2 the harness could not run (no daemon, no load, no
# shim, a write the shim did not see).
#
# Environment: JEJAK (the binary, default build/jejak), POWERCUT_LIB and POWERCUT_RESTORE
# (default: beside $JEJAK, else in build/), CYCLES (default 6), POWERCUT_NOSYNC (passed to
# the shim: 1 turns every sync call into a no-op, data only fsync/fdatasync/msync; the run
# must then fail: that is the test of the test), KEEP=1 keeps the work folder.
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/lib-daemon.sh
source tools/lib-load.sh # the mixed load (CLICKERS, POSTERS: 2 each) and the stored ids
JEJAK=${JEJAK:-build/jejak}
CYCLES=${CYCLES:-6}
JEJAK=$(cd "$(dirname "$JEJAK")" && pwd)/$(basename "$JEJAK")
dir=$(dirname "$JEJAK")
LIB=${POWERCUT_LIB:-$([ -e "$dir/libjejak_powercut.so" ] && echo "$dir" || echo "$PWD/build")/libjejak_powercut.so}
RESTORE=${POWERCUT_RESTORE:-$([ -x "$dir/jejak-powercut-restore" ] && echo "$dir" || echo "$PWD/build")/jejak-powercut-restore}
BROWSER='Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36'

harness() { echo "powercut: $*" >&2; exit 2; }
[[ $CYCLES =~ ^[1-9][0-9]*$ ]] || harness "CYCLES must be a positive integer"
[ -x "$JEJAK" ] || harness "$JEJAK is not a program (set JEJAK, or build first)"
[ -f "$LIB" ] || harness "$LIB not found (cmake --build build builds it)"
[ -x "$RESTORE" ] || harness "$RESTORE not found"
for c in curl openssl; do command -v "$c" >/dev/null || harness "$c is not installed"; done

WORK=$(mktemp -d /tmp/jejak-powercut.XXXXXX)
export JEJAK_DATA=$WORK/data
SHADOW=$WORK/shadow
FAILS=()
on_exit() {
  touch "$WORK/stop" 2>/dev/null
  for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -n "$DAEMON_PID" ] && daemon_kill
  [ "${KEEP:-0}" = 1 ] && echo "powercut: work folder kept: $WORK" || rm -rf "$WORK"
}
trap on_exit EXIT
trap 'exit 143' TERM INT
bad() { echo "FAIL: $*" >&2; FAILS+=("$*"); }
jejak() { "$JEJAK" "$@"; }

# start_daemon: jejak serve under the shim, on a fresh durable image of the folder as it is.
start_daemon() {
  rm -rf "$SHADOW" && mkdir -p "$SHADOW"
  # (An ASan build would refuse a library preloaded before its runtime: it is not one.)
  daemon_start "$WORK/daemon.log" env LD_PRELOAD="$LIB" POWERCUT_DIR="$JEJAK_DATA" \
    POWERCUT_SHADOW="$SHADOW" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$JEJAK" serve --listen 127.0.0.1:0 --flood-limit 0 && return
  sed 's/^/  daemon: /' "$WORK/daemon.log" >&2
  return 1
}

jejak influencer add ayu --name Ayu --platform instagram >/dev/null || harness "cannot set up the store"
jejak campaign add launch --name Launch >/dev/null || harness "cannot set up the store"
jejak link add --influencer ayu --campaign launch --to https://shop.example/dress --slug ayu >/dev/null ||
  harness "cannot set up the store"
secret=$(jejak shop add tokoku | sed -n 's/^secret=//p')
[ -n "$secret" ] || harness "no shop secret"

echo "# powercut: $JEJAK, $CYCLES cuts${POWERCUT_NOSYNC:+, POWERCUT_NOSYNC=$POWERCUT_NOSYNC (every answer should be lost)}"
start_daemon || harness "the daemon did not start"
t0=$SECONDS
retried=0
for cycle in $(seq 1 "$CYCLES"); do
  load "$cycle"
  sleep "$(awk -v r="$RANDOM" 'BEGIN {printf "%.2f", 1 + 2 * r / 32767}')"
  kill -0 "$DAEMON_PID" 2>/dev/null || { bad "cycle $cycle: the daemon died under load"; break; }
  # The cut: the process dies, and the disk holds only what was made durable (and, torn,
  # some of what was not).
  daemon_kill
  stop_load
  stats=$(tr '\n' ' ' < "$SHADOW/stats" 2>/dev/null)
  [[ $stats =~ writes\ [1-9] ]] || harness "cycle $cycle: the shim saw no write to $JEJAK_DATA (stats: ${stats:-none}): it proves nothing"
  # Odd cuts: nothing unsynced lands (the worst case). Even cuts: torn, a random half of
  # the pages that unsynced writes touched hold their new content.
  torn=()
  ((cycle % 2)) || torn=(--torn "$RANDOM$cycle")
  restored=$("$RESTORE" "$SHADOW" "$JEJAK_DATA" "${torn[@]}" 2>&1)
  rc=$?
  [ "$rc" = 3 ] && harness "cycle $cycle: $restored"
  [ "$rc" = 0 ] || harness "cycle $cycle: the restore failed: $restored"
  echo "# cycle $cycle: shim $stats; $(echo "$restored" | grep data.mdb | sed 's/^restored //')"

  cat "$WORK"/answers.*.* 2>/dev/null | grep -oE "$ID_RE" | cut -c7- | LC_ALL=C sort -u > "$WORK/answered"
  odd=$(cat "$WORK"/answers."$cycle".* 2>/dev/null | grep -vE '^(302|000) ' | head -3)
  [ -z "$odd" ] || bad "cycle $cycle: click answers other than 302 (or none, once cut): $odd"
  odd=$(cat "$WORK"/pb."$cycle".* 2>/dev/null | grep -vE '^(200|202|000) ' | cut -c1-120 | head -3)
  [ -z "$odd" ] || bad "cycle $cycle: postback answers other than 200/202 (or none, once cut): $odd"
  [ -s "$WORK/answered" ] || harness "cycle $cycle: no click was answered: no load got through"

  # What the disk holds must open as it is: no recovery step, and a clean check.
  out=$(jejak check 2>&1)
  rc=$?
  [ "$rc" = 0 ] || bad "cycle $cycle: jejak check after the cut (exit $rc): $(echo "$out" | head -5)"
  start_daemon || { bad "cycle $cycle: the daemon does not start on what the disk held"; break; }

  # The shop retries what got no answer: now recorded, or a duplicate if it was stored.
  while read -r code oid body; do
    [ "$code" = 000 ] || continue
    retried=$((retried + 1))
    code=$(pb_send "$body")
    [[ $code =~ ^(200|202)$ ]] || bad "cycle $cycle: retry of unanswered order $oid: $code"
    echo "$code $oid $body" >> "$WORK/pb.retry"
  done < <(cat "$WORK"/pb."$cycle".* 2>/dev/null)
  cat "$WORK"/pb.*.* "$WORK/pb.retry" 2>/dev/null | awk '$1 == 200 || $1 == 202 {print $2}' | LC_ALL=C sort -u > "$WORK/acked"

  stored_ids > "$WORK/stored"
  dup=$(uniq -d "$WORK/stored" | head -3)
  [ -z "$dup" ] || bad "cycle $cycle: click ids stored twice: $dup"
  missing=$(LC_ALL=C comm -23 "$WORK/answered" <(uniq "$WORK/stored"))
  [ -z "$missing" ] || bad "cycle $cycle: $(echo "$missing" | wc -l) of $(wc -l < "$WORK/answered") answered clicks lost, e.g. $(echo "$missing" | head -3 | tr '\n' ' ')"
  stored_orders > "$WORK/orders"
  dup=$(uniq -d "$WORK/orders" | head -3)
  [ -z "$dup" ] || bad "cycle $cycle: orders stored twice: $dup"
  missing=$(LC_ALL=C comm -23 "$WORK/acked" <(uniq "$WORK/orders"))
  [ -z "$missing" ] || bad "cycle $cycle: $(echo "$missing" | wc -l) of $(wc -l < "$WORK/acked") acknowledged conversions lost, e.g. $(echo "$missing" | head -3 | tr '\n' ' ')"
  out=$(jejak rollups rebuild --check 2>&1) || bad "cycle $cycle: rollups differ from a rebuild (exit $?): $(echo "$out" | head -5)"
  if [ "${#FAILS[@]}" -gt 0 ]; then
    echo "not ok - cycle $cycle" >&2
    break
  fi
  echo "ok - cut $cycle: $(wc -l < "$WORK/answered") answered clicks among $(wc -l < "$WORK/stored") stored," \
    "$(wc -l < "$WORK/acked") acknowledged conversions among $(wc -l < "$WORK/orders") stored ($retried retried), none twice; check clean; rollups = rebuild"
done
echo "# $((SECONDS - t0)) s"
if [ "${#FAILS[@]}" -gt 0 ]; then
  echo "powercut: FAILED: ${#FAILS[@]} check(s)" >&2
  exit 1
fi
echo "powercut: $CYCLES power cuts, nothing answered was lost"
