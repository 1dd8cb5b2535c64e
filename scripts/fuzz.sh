#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz/ and runs each for
# SECONDS (default 20), growing a corpus in build-fuzz/corpus/. Fails on any crash.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
# -O1: the targets still run fast enough, and the build (every library source, instrumented) is
# a quarter shorter than at -O2.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DBOOKING_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" >/dev/null
targets=(dates json_body json_writer traceparent router)
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/$t/* "$corpus"/ 2>/dev/null || true
  log=build-fuzz/fuzz_$t.log
  if ! build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       "$corpus" >"$log" 2>&1; then
    echo "fuzz_$t FAILED:"; tail -40 "$log"; exit 1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  echo "fuzz_$t: ${secs}s, $execs runs, coverage $cov edges, corpus $(ls "$corpus" | wc -l) inputs, no crash"
done
