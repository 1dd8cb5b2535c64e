#!/usr/bin/env bash
# Configures and builds into build/ (Release). Extra arguments go to cmake, e.g. -DBOOKING_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
