#!/usr/bin/env bash
# Builds jejak with warnings as errors and runs every test: the cmocka unit tests and the
# integration tests that start the real daemon on a loopback port. With --sanitize, the
# same tests under AddressSanitizer and UndefinedBehaviorSanitizer (in build-san/). With
# --tsan, under ThreadSanitizer (in build-tsan/): the tests that run threads, i.e. the
# integration tests against the daemon (HTTP threads, the writer, the sweeper; the
# kill -9 loop of test_faults 5 times instead of 20) and the unit tests that start threads
# (test_store, test_report, test_writer); a race fails the test (halt_on_error, exit 66);
# latency bounds are scaled by JEJAK_TIME_SCALE=10.
# The single-threaded ones (the other unit tests, test_corrupt's 80 CLI runs) are left to
# the other two runs: under TSan they only cost time. tools/tsan.supp holds the reports
# that are a library's known false positives, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
dir=build
flags=(-DJEJAK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
select=()
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-san
  flags+=(-DJEJAK_SANITIZE=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
elif [ "${1:-}" = "--tsan" ]; then
  dir=build-tsan
  flags+=(-DJEJAK_TSAN=ON)
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tools/tsan.supp"
  export CYCLES=5
  export JEJAK_TIME_SCALE=10 # latency bounds (test_rebuild) allow for TSan's slowdown
  select=(-R 'integration/|unit/test_(store|report|writer)$' -E 'integration/test_corrupt')
elif [ -n "${1:-}" ]; then
  echo "usage: tools/test.sh [--sanitize | --tsan]" >&2
  exit 2
fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j1 ${select[@]+"${select[@]}"}
