#!/usr/bin/env bash
# The user documentation is executable: every ```sh block of docs/*.md runs, in reading
# order (DOCS below, then any other doc by name), in one bash (set -euo pipefail),
# against the real daemon. `jejak` on PATH is the binary under test, JEJAK_DATA is a
# fresh data folder, and 127.0.0.1:8080 in the docs is rewritten to the daemon's real
# port. Blocks share one working directory, variables and functions, so a later block can
# use what an earlier one printed (a shop's secret, a click id). A failing block fails
# the test and is named, with its text and the last lines of output.
#
# Fences allowed in docs: ```sh (runs), ```text, ```json and ```csv (never run). Any other
# (an untagged ``` or ```bash) is refused, so that no command escapes this test.
#
# DOCS_SHOW=1 prints every block's output (useful to refresh the sample output in docs).
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOCS=(influencers.md shops.md marketers.md operators.md)

# Every doc in DOCS exists and has sh blocks (checked below); any other docs/*.md is
# checked too, and its blocks run after those of DOCS, in name order.
for name in "${DOCS[@]}"; do
  [ -f "$ROOT/docs/$name" ] || fail "docs/$name is missing"
done
EXTRA=()
for f in "$ROOT"/docs/*.md; do
  name=$(basename "$f")
  printf '%s\n' "${DOCS[@]}" | grep -qx "$name" || EXTRA+=("$name")
done

start_daemon
BLOCKS=$WORK/blocks
DOCWORK=$WORK/cwd
mkdir -p "$BLOCKS" "$DOCWORK" "$WORK/bin"
ln -s "$JEJAK" "$WORK/bin/jejak"

# Cut each doc into blocks: $BLOCKS/<doc#><block#>.sh, the first line naming the block.
# Every doc's fences are checked, whether or not it has sh blocks.
n=0
for name in "${DOCS[@]}" ${EXTRA[@]+"${EXTRA[@]}"}; do
  n=$((n + 1))
  required=0
  printf '%s\n' "${DOCS[@]}" | grep -qx "$name" && required=1
  out=$(awk -v doc="$name" -v dir="$BLOCKS" -v prefix="$(printf '%02d' "$n")" -v port="$PORT" '
    function bad(msg) { printf "docs/%s:%d: %s\n", doc, NR, msg; err = 1 }
    /^[ \t]+```/ { bad("indented fence: fences must start the line"); next }
    /^```/ {
      if (!open) {
        info = substr($0, 4)
        if (info != "sh" && info != "text" && info != "json" && info != "csv")
          bad("fence \"" $0 "\": use ```sh (runs in the test) or ```text/```json/```csv")
        open = 1; sh = (info == "sh")
        if (sh) {
          blocks++
          file = sprintf("%s/%s%03d.sh", dir, prefix, blocks)
          printf "# docs/%s block %d (line %d)\n", doc, blocks, NR > file
        }
      } else {
        if ($0 != "```") bad("a closing fence is a bare ```")
        if (sh) close(file)
        open = 0; sh = 0
      }
      next
    }
    sh {
      line = $0
      gsub(/127\.0\.0\.1:8080/, "127.0.0.1:" port, line)
      if (line ~ /:8080/) bad("port 8080 other than 127.0.0.1:8080: the test cannot redirect it")
      print line > file
    }
    END {
      if (open) bad("unclosed fence")
      if (err) exit 1
      print blocks + 0
    }' "$ROOT/docs/$name") || fail "$out"
  [ "$out" -gt 0 ] || [ "$required" = 0 ] || fail "docs/$name has no sh block"
  pass "docs/$name: $out sh blocks"
done

# One shell for all blocks, in order; STATE names the block running.
STATE=$WORK/state
cat > "$WORK/runner.sh" <<'RUNNER'
set -euo pipefail
shopt -s inherit_errexit
cd "$__DOCWORK"
for __docs_block in "$__BLOCKS"/*.sh; do
  head -1 "$__docs_block" | sed 's/^# //' > "$__STATE"
  printf '\n%s\n' "$(head -1 "$__docs_block")"
  source "$__docs_block"
done
echo "all blocks ran" > "$__STATE"
RUNNER

set +e
PATH="$WORK/bin:$PATH" __DOCWORK=$DOCWORK __BLOCKS=$BLOCKS __STATE=$STATE \
  timeout 50 bash "$WORK/runner.sh" > "$WORK/docs.log" 2>&1 </dev/null
rc=$?
set -e
[ "${DOCS_SHOW:-0}" = 1 ] && cat "$WORK/docs.log"
if [ "$rc" -ne 0 ] || [ "$(cat "$STATE")" != "all blocks ran" ]; then
  where=$(cat "$STATE" 2>/dev/null || echo "before the first block")
  block=$(grep -lxF "# $where" "$BLOCKS"/*.sh 2>/dev/null | head -1 || true)
  [ "$rc" -eq 124 ] && where="$where (timed out after 50 s)"
  {
    echo "FAIL: $where exited with status $rc"
    [ -n "$block" ] && { echo "  the block, as run:"; sed '1d; s/^/  | /' "$block"; }
    echo "  output (last 40 lines):"
    tail -n 40 "$WORK/docs.log" | sed 's/^/  > /'
  } >&2
  fail "a documented command failed"
fi
pass "every sh block of docs/ ran"

kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died while the docs ran"
stop_daemon
pass "the daemon stopped cleanly after the docs"
