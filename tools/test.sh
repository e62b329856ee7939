#!/usr/bin/env bash
# Builds jejak with warnings as errors and runs every test: the cmocka unit tests and the
# integration tests that start the real daemon on a loopback port. With --sanitize, the
# same tests under AddressSanitizer and UndefinedBehaviorSanitizer (in build-san/).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
dir=build
flags=(-DJEJAK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-san
  flags+=(-DJEJAK_SANITIZE=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j1
