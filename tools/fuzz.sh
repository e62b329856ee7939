#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan, replays the
# known reproducers in tests/fuzz/crashes/<harness>/, then fuzzes each harness for
# FUZZ_SECONDS (default 25) over a scratch copy of its seed corpus, so the committed corpus
# is never modified. Exit 1 if any harness crashes, with the harness and the reproducer path.
#
#   tools/fuzz.sh                 all harnesses
#   tools/fuzz.sh fuzz_json ...   only these
# Environment: FUZZ_SECONDS, FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (build jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-25}
build=${FUZZ_BUILD_DIR:-build-fuzz}
case "$build" in /*) ;; *) build="$root/$build" ;; esac

command -v clang >/dev/null || { echo "fuzz.sh: clang is required" >&2; exit 2; }
CC=clang cmake -S . -B "$build" -DJEJAK_FUZZ=ON -DJEJAK_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzzers -j"${FUZZ_JOBS:-$(nproc)}" >/dev/null

if [ $# -gt 0 ]; then
  harnesses=("$@")
else
  harnesses=()
  for src in tests/fuzz/fuzz_*.c; do harnesses+=("$(basename "$src" .c)"); done
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
work=$(mktemp -d "${TMPDIR:-/tmp}/jejak-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=()

for h in "${harnesses[@]}"; do
  bin="$build/$h"
  [ -x "$bin" ] || { echo "fuzz.sh: no harness $h" >&2; exit 2; }
  artifacts="$build/fuzz-artifacts/$h"
  mkdir -p "$artifacts" "$work/$h"
  log="$artifacts/last.log"

  # Known reproducers must not crash any more.
  known=(tests/fuzz/crashes/"$h"/*)
  if [ -e "${known[0]}" ]; then
    for f in "${known[@]}"; do
      if ! "$bin" "$f" >"$artifacts/replay-${f##*/}.log" 2>&1; then
        echo "FAIL $h: known reproducer still crashes: $root/$f (log: $artifacts/replay-${f##*/}.log)"
        failed+=("$h")
      fi
    done
  fi

  if [ -d "tests/fuzz/corpus/$h" ]; then
    cp -R "tests/fuzz/corpus/$h/." "$work/$h/"
  fi
  rc=0
  timeout $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/$h" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "FAIL $h: exit $rc after ${runs:-?} runs; reproducer: ${repro:-none written}; log: $log"
    grep -m3 -E 'property failed|ERROR: (Address|Leak)Sanitizer|runtime error|SUMMARY' "$log" |
      sed 's/^/    /' || true
    [ -n "$repro" ] && echo "    replay: $bin $repro"
    failed+=("$h")
  else
    echo "ok   $h: ${runs:-?} runs in ${seconds}s, corpus $(ls "$work/$h" | wc -l) inputs"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: $(printf '%s\n' "${failed[@]}" | sort -u | tr '\n' ' ')"
  exit 1
fi
echo "fuzz.sh: all ${#harnesses[@]} harnesses clean"
