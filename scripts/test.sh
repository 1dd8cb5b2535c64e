#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test —
#   1. the whole suite (ctest) on the Release build,
#   2. the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/),
#   3. a short libFuzzer run of every fuzz target (build-fuzz/).
# FUZZ_SECONDS (default 8) sets the fuzzing time per target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
start=$(date +%s)

echo "== Release build and tests"
scripts/build.sh
(cd build && ctest --output-on-failure --timeout 600 -j2)

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo scripts/build.sh -DBOOKING_SANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure --timeout 900 -j2)

echo "== Fuzzing (${FUZZ_SECONDS:-8} s per target)"
scripts/fuzz.sh "${FUZZ_SECONDS:-8}"

echo "== All tests passed in $(( $(date +%s) - start )) s"
