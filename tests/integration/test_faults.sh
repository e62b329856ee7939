#!/usr/bin/env bash
# Faults against the real daemon on 127.0.0.1:
#   1. crashes: 20 kill -9 at random moments under mixed load (browser clicks and signed
#      postbacks, each with its own order id). After each restart every acknowledged click
#      and conversion is stored, no order is stored twice (a retried postback included),
#      the rollups equal a rebuild from the raw records, and `jejak check` is clean;
#   2. a reader that stalls in the middle of an export (and a map that must grow meanwhile):
#      writes go on, and every click acknowledged during the stall is stored;
#   3. a full disk: the data folder on a 2 MiB tmpfs with a tiny initial map, so the map
#      must grow into it; clicks go on redirecting and the loss is counted, postbacks answer
#      503, nothing is corrupted; once space is freed (remount), without a restart, clicks
#      and postbacks are stored again, and `jejak check` is clean (skipped, saying so, where
#      mount is not allowed).
# Checks that do not depend on each other record their failure and go on; the test fails at
# the end, listing them.
# Environment: CYCLES (default 20).
# The full-disk part mounts a tmpfs: run in a private mount namespace where we can, so the
# mount goes away with the test even if it is killed.
if [ -z "${JEJAK_FAULTS_NS:-}" ] && command -v unshare >/dev/null &&
   unshare --mount --propagation private true 2>/dev/null; then
  JEJAK_FAULTS_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
# the mixed load (load, stop_load, pb_body, pb_send) and the stored ids
source "$(dirname "$0")/../../tools/lib-load.sh"
CYCLES=${CYCLES:-20}
T_START=$SECONDS

FAILS=()
bad() { echo "FAIL: $*" >&2; FAILS+=("$*"); } # returns 0: set -e goes on
check_eq() { [ "$1" = "$2" ] || bad "$3: expected '$2', got '$1'"; }
check_match() { [[ "$1" =~ $2 ]] || bad "$3: '${1:0:300}' does not match /$2/"; }
# section MESSAGE: ends a part of the test: "ok - MESSAGE", or "not ok" if a check failed in it.
SECTION_FAILS=0
section() {
  if [ "${#FAILS[@]}" -gt "$SECTION_FAILS" ]; then echo "not ok - $*"; else echo "ok - $*"; fi
  SECTION_FAILS=${#FAILS[@]}
}

MNT=""
on_exit() {
  set +e # a process already gone must not end the clean-up early
  touch "$WORK/stop" 2>/dev/null
  for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -z "$DAEMON_PID" ] || kill_daemon
  if [ -n "$MNT" ]; then umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null; fi
  cleanup
}
trap on_exit EXIT
trap 'exit 143' TERM INT

metric() { curl -s -m 5 "$BASE/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
jejak influencer add ayu --name Ayu --platform instagram >/dev/null
jejak campaign add launch --name Launch >/dev/null
jejak link add --influencer ayu --campaign launch --to https://shop.example/dress --slug ayu >/dev/null
secret=$(jejak shop add tokoku | sed -n 's/^secret=//p')
[ -n "$secret" ] || fail "no shop secret"

# ==== 1. kill -9 under mixed load ==========================================================
# load TAG (tools/lib-load.sh): 3 click loops and 2 signed-postback loops, their answers in
# answers.TAG.N and pb.TAG.N.
CLICKERS=3
POSTERS=2
start_daemon --flood-limit 0
total_kills=0
retried=0
for cycle in $(seq 1 "$CYCLES"); do
  load "$cycle"
  # A random moment: 0.3 to 1.5 s into the load.
  sleep "$(awk -v r="$RANDOM" 'BEGIN {printf "%.2f", 0.3 + 1.2 * r / 32767}')"
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "cycle $cycle: the daemon died under load"
  kill_daemon
  total_kills=$((total_kills + 1))
  stop_load

  cat "$WORK"/answers.*.* 2>/dev/null | grep -oE "$ID_RE" | cut -c7- | LC_ALL=C sort > "$WORK/answered" || true
  odd=$(cat "$WORK"/answers."$cycle".* 2>/dev/null | grep -vE '^(302|000) ' | head -3 || true)
  [ -z "$odd" ] || bad "cycle $cycle: click answers other than 302 (or none, once killed): $odd"
  odd=$(cat "$WORK"/pb."$cycle".* 2>/dev/null | grep -vE '^(200|202|000) ' | cut -c1-120 | head -3 || true)
  [ -z "$odd" ] || bad "cycle $cycle: postback answers other than 200/202 (or none, once killed): $odd"

  start_daemon --flood-limit 0
  check_eq "$(curl -s "$BASE/healthz")" '{"status":"ok"}' "cycle $cycle: healthz after restart"

  # The shop retries what got no answer: now it is recorded, or a duplicate if it was stored.
  while read -r code oid body; do
    [ "$code" = 000 ] || continue
    rc=$(pb_send "$body")
    retried=$((retried + 1))
    check_match "$rc" '^(200|202)$' "cycle $cycle: retry of unanswered order $oid"
    echo "$rc $oid $body" >> "$WORK/pb.retry"
  done < <(cat "$WORK"/pb."$cycle".* 2>/dev/null)
  cat "$WORK"/pb.*.* "$WORK/pb.retry" 2>/dev/null | awk '$1 == 200 || $1 == 202 {print $2}' | LC_ALL=C sort -u > "$WORK/acked"

  stored_ids > "$WORK/stored"
  dup=$(uniq -d "$WORK/stored" | head -3)
  [ -z "$dup" ] || bad "cycle $cycle: click ids stored twice: $dup"
  missing=$(LC_ALL=C comm -23 <(uniq "$WORK/answered") "$WORK/stored")
  [ -z "$missing" ] || bad "cycle $cycle: $(echo "$missing" | wc -l) acknowledged clicks lost, e.g. $(echo "$missing" | head -3 | tr '\n' ' ')"
  stored_orders > "$WORK/orders"
  dup=$(uniq -d "$WORK/orders" | head -3)
  [ -z "$dup" ] || bad "cycle $cycle: orders stored twice: $dup"
  missing=$(LC_ALL=C comm -23 "$WORK/acked" "$WORK/orders")
  [ -z "$missing" ] || bad "cycle $cycle: $(echo "$missing" | wc -l) acknowledged conversions lost, e.g. $(echo "$missing" | head -3 | tr '\n' ' ')"
  out=$(jejak rollups rebuild --check 2>&1) || bad "cycle $cycle: rollups differ from a rebuild: $out"
  out=$(jejak check 2>&1) || bad "cycle $cycle: jejak check after kill -9: $(echo "$out" | head -5)"
  [ "${#FAILS[@]}" -eq 0 ] || fail "cycle $cycle: stopping the crash loop at the first inconsistency: ${FAILS[*]}"
done
clicks_acked=$(uniq "$WORK/answered" | wc -l)
convs_acked=$(wc -l < "$WORK/acked")
[ "$clicks_acked" -gt 0 ] && [ "$convs_acked" -gt 0 ] ||
  bad "the crash loop acknowledged $clicks_acked clicks and $convs_acked conversions: no load got through"
section "$total_kills kill -9 under load: $clicks_acked acknowledged clicks among $(wc -l < "$WORK/stored") stored;" \
     "$convs_acked acknowledged conversions among $(wc -l < "$WORK/orders") stored ($retried unanswered retried), none twice; rollups = rebuild"

# ==== 2. a stalled reader (on this data folder, big enough to fill a pipe) ===================
# `jejak clicks export` into a pipe nobody reads for 10 s. The daemon restarts with a tiny
# initial map, so the map must grow while the reader is stuck. Clicks go on meanwhile.
# The export reads in chunks, each in a fresh snapshot of at most CHUNK_MS (1 s): sampled
# with mdb_stat -r, the export must not keep one snapshot for seconds while the daemon
# commits (a pinned snapshot keeps every page freed since from reuse: the file grows).
stop_daemon
export JEJAK_MAP_SIZE=262144
start_daemon --flood-limit 0
unset JEJAK_MAP_SIZE
map0=$(metric jejak_map_size_bytes)
before=$(wc -l < "$WORK/stored")
mkfifo "$WORK/fifo"
( exec 3< "$WORK/fifo"; sleep 10; cat <&3 > "$WORK/stall.out" ) &
READER_PID=$!
"$JEJAK" clicks export > "$WORK/fifo" & # not the jejak function: $! must be the reader's pid
EXPORT_PID=$!
LOAD_PIDS+=("$READER_PID" "$EXPORT_PID")
sleep 0.7
kill -0 "$EXPORT_PID" 2>/dev/null || bad "the export ended at once (nothing to stall on)"
t0=$(date +%s%N)
rm -f "$WORK/stop"
stall_pids=()
for i in 1 2 3; do
  (
    urls=()
    for _ in $(seq 1 10); do urls+=("$BASE/l/ayu"); done
    while [ ! -e "$WORK/stop" ]; do
      curl -s -m 5 -A "$BROWSER" -o /dev/null -w '%{http_code} %{redirect_url} %{time_total}\n' "${urls[@]}" \
        >> "$WORK/stall.answers.$i" 2>/dev/null || true
    done
  ) &
  stall_pids+=($!)
done
# reader_txn: the snapshot (txn id) the export's reader slot holds ("-": none), and the
# store's last committed txn id.
# (mdb_stat can fail when the daemon grows the map under it: then ask again.)
reader_txn() {
  local out
  for _ in 1 2 3 4 5; do out=$(mdb_stat -r "$JEJAK_DATA" 2>/dev/null) && break; sleep 0.05; done
  echo "$out" | awk -v p="$EXPORT_PID" '$1 == p && $3 != "-" {t = $3} END {print (t == "" ? "-" : t)}'
}
last_txn() {
  local out
  for _ in 1 2 3 4 5; do out=$(mdb_stat -e "$JEJAK_DATA" 2>/dev/null) && break; sleep 0.05; done
  echo "$out" | awk '/Last transaction ID/ {print $4}'
}
held=""
if command -v mdb_stat >/dev/null; then
  sleep 1
  r1=$(reader_txn); l1=$(last_txn)
  sleep 4
  r2=$(reader_txn); l2=$(last_txn)
  echo "# export's snapshot at +1.7 s: $r1 (store at txn $l1); at +5.7 s: $r2 (store at txn $l2)"
  kill -0 "$EXPORT_PID" 2>/dev/null || bad "the export finished before the stall ended (the pipe never filled: too few clicks?)"
  if [ "$r1" != - ] && [ "$r1" = "$r2" ] && [ "${l2:-0}" -gt "${l1:-0}" ]; then
    held="txn $r1 for >= 4 s while the daemon committed $((l2 - l1)) transactions"
  fi
else
  echo "# mdb_stat not found (package lmdb-utils): the snapshot age is not checked"
  sleep 5
  kill -0 "$EXPORT_PID" 2>/dev/null || bad "the export finished before the stall ended (the pipe never filled: too few clicks?)"
fi
# Stop the clicks before the reader lets go: all of them come while it is stalled.
sleep 0.3
touch "$WORK/stop"
for p in "${stall_pids[@]}"; do wait "$p" 2>/dev/null || true; done
stall_ms=$((($(date +%s%N) - t0) / 1000000))
export_rc=0
wait "$EXPORT_PID" || export_rc=$?
wait "$READER_PID" 2>/dev/null || true
LOAD_PIDS=()
check_eq "$export_rc" 0 "the stalled export exits 0 once read"
map1=$(metric jejak_map_size_bytes)
[ -z "$held" ] || bad "a stalled export pins its snapshot: $held (map $map0 -> $map1 bytes)"
during=$(cat "$WORK"/stall.answers.* | grep -cE "^302 .*$ID_RE" || true)
slowest=$(cat "$WORK"/stall.answers.* | awk '{if ($3 > m) m = $3} END {printf "%.3f", m}')
odd=$(cat "$WORK"/stall.answers.* | grep -vE "^302 " | head -3 || true)
[ -z "$odd" ] || bad "clicks during the stall answered other than 302: $odd"
[ "$during" -ge 100 ] || bad "only $during clicks acknowledged during the ${stall_ms} ms stall (writes stopped?)"
cat "$WORK"/stall.answers.* | grep -oE "$ID_RE" | cut -c7- | LC_ALL=C sort > "$WORK/stall.answered"
stored_ids > "$WORK/stored"
missing=$(LC_ALL=C comm -23 "$WORK/stall.answered" "$WORK/stored")
[ -z "$missing" ] || bad "$(echo "$missing" | wc -l) clicks acknowledged during the stall are not stored"
exported=$(wc -l < "$WORK/stall.out")
[ "$exported" -ge "$before" ] || bad "the stalled export wrote $exported rows, fewer than the $before stored before it"
dup=$(sed -n 's/^{"click_id":"\([0-9A-Z]*\)".*/\1/p' "$WORK/stall.out" | sort | uniq -d | head -3)
[ -z "$dup" ] || bad "the stalled export repeated click ids: $dup"
section "a reader stalled ${stall_ms} ms mid-export: $during clicks acknowledged meanwhile (slowest ${slowest} s), all stored;" \
     "the export then finished ($exported rows); map $map0 -> $map1 bytes"
stop_daemon

# ==== 3. a full disk ==========================================================================
MNT=$WORK/full
mkdir -p "$MNT"
if ! err=$(mount -t tmpfs -o size=2m tmpfs "$MNT" 2>&1); then
  echo "SKIP: disk full: cannot mount a tmpfs here ($err)"
  MNT=""
else
  export JEJAK_DATA=$MNT/data JEJAK_MAP_SIZE=262144
  jejak influencer add ayu --name Ayu --platform instagram >/dev/null
  jejak campaign add launch --name Launch >/dev/null
  jejak link add --influencer ayu --campaign launch --to https://shop.example/dress --slug ayu >/dev/null
  secret=$(jejak shop add tokoku | sed -n 's/^secret=//p')
  start_daemon --flood-limit 0
  # Fill it: rounds of 200 clicks until a whole round is lost (the first failed commits
  # free a little room for the next ones; then nothing fits any more).
  urls=()
  for _ in $(seq 1 50); do urls+=("$BASE/l/ayu"); done
  : > "$WORK/full.answers"
  errors=0
  log0=$(wc -l < "$WORK/daemon.log")
  for round in $(seq 1 150); do
    prev=$errors
    fill_pids=()
    for i in 1 2 3 4; do
      curl -s -m 10 -A "$BROWSER" -o /dev/null -w '%{http_code} %{redirect_url}\n' "${urls[@]}" > "$WORK/full.answers.$i" &
      fill_pids+=($!)
    done
    for p in "${fill_pids[@]}"; do wait "$p" || true; done
    cat "$WORK"/full.answers.? >> "$WORK/full.answers"
    errors=$(metric jejak_storage_errors_total)
    [ "$((errors - prev))" -ge 200 ] && break
  done
  sent=$(wc -l < "$WORK/full.answers")
  redirected=$(grep -cE "^302 .*$ID_RE" "$WORK/full.answers" || true)
  [ "$((errors - prev))" -ge 200 ] || fail "the disk never filled: $sent clicks, $errors lost (df: $(df -k "$MNT" | tail -1))"
  check_eq "$redirected" "$sent" "every click redirected (302 with a click id) while the disk filled"
  # Full now: a click is still redirected (and counted lost); a postback is told to retry.
  loc=$(curl -s -m 10 -A "$BROWSER" -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/l/ayu")
  check_match "$loc" "^302 .*$ID_RE" "a click on a full disk is redirected"
  full_body=$(pb_body FULL-1)
  check_eq "$(pb_send "$full_body")" 503 "a postback on a full disk answers 503"
  check_match "$(metric jejak_postback_storage_errors_total)" '^[1-9][0-9]*$' "jejak_postback_storage_errors_total counts it"
  lost=$(metric jejak_storage_errors_total)
  kept=$(( $(metric jejak_clicks_total) + $(metric jejak_bot_clicks_total) + $(metric jejak_suspicious_clicks_total) ))
  # Nothing corrupted: the store reads back, and what it holds is what the daemon committed.
  exp=$(jejak clicks export) || bad "clicks export fails on the full disk"
  check_eq "$(echo "$exp" | grep -c click_id)" "$kept" "stored clicks = clicks the daemon counted as stored"
  check_eq "$((kept + lost))" "$((redirected + 1))" "every redirected click is stored or counted lost"
  if command -v mdb_stat >/dev/null; then
    mdb_stat -a "$JEJAK_DATA" >/dev/null 2>&1 || bad "mdb_stat cannot read the data folder on the full disk"
  fi
  check_eq "$(jejak conversions export | grep -c FULL-1 || true)" 0 "the refused postback is not stored"
  echo "# disk full after $sent clicks: $kept stored, $lost lost (counted), df: $(df -k "$MNT" | tail -1 | awk '{print $3 "K used of " $2 "K"}')"
  # The losses are counted, and logged at a bounded rate: a full disk must not also flood
  # the log (which often lives on the same disk).
  logged=$(($(wc -l < "$WORK/daemon.log") - log0))
  [ "$logged" -le 50 ] || bad "the daemon wrote $logged log lines for $lost lost clicks on the full disk, e.g. '$(tail -1 "$WORK/daemon.log")'"

  # Free space, no restart: clicks and postbacks are stored again.
  mount -o remount,size=64m "$MNT" || bad "cannot remount the tmpfs bigger"
  loc=$(curl -s -m 10 -A "$BROWSER" -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/l/ayu")
  check_match "$loc" "^302 .*$ID_RE" "a click after space is freed"
  id=${loc##*jclid=}
  check_eq "$(jejak clicks export | grep -c "\"click_id\":\"$id\"" || true)" 1 "after space is freed (no restart) the next click is stored"
  check_eq "$(metric jejak_storage_errors_total)" "$lost" "no click lost once space is freed"
  check_match "$(pb_send "$full_body")" '^(200|202)$' "the postback refused on the full disk is recorded on retry"
  check_match "$(pb_send "$(pb_body FREE-1)")" '^(200|202)$' "a new postback is recorded after space is freed"
  check_eq "$(stored_orders | tr '\n' ' ')" "FREE-1 FULL-1 " "both conversions stored, once"
  out=$(jejak rollups rebuild --check 2>&1) || bad "rollups differ from a rebuild after the full disk: $out"
  out=$(jejak check 2>&1) || bad "jejak check after the full disk: $(echo "$out" | head -5)"
  echo "# jejak check after the full disk: $(echo "$out" | tail -1)"
  stop_daemon
  if command -v mdb_stat >/dev/null; then
    mdb_stat -a "$JEJAK_DATA" >/dev/null 2>&1 || bad "mdb_stat cannot read the data folder after the full disk"
  fi
  unset JEJAK_MAP_SIZE
  export JEJAK_DATA=$WORK/data
  umount "$MNT" || bad "cannot unmount $MNT"
  MNT=""
  section "disk full: clicks redirected ($lost lost, counted), postbacks 503; space freed: stored again without a restart"
fi

echo "# $((SECONDS - T_START)) s"
if [ "${#FAILS[@]}" -gt 0 ]; then
  echo "FAILED ${#FAILS[@]} check(s):" >&2
  printf '  - %s\n' "${FAILS[@]}" >&2
  exit 1
fi
