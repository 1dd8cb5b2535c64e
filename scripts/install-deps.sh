#!/usr/bin/env bash
# Installs the Debian 12 packages the service, its tests and its benchmarks need. Run as root.
set -euo pipefail
packages=(
  build-essential cmake pkg-config git ca-certificates tzdata sqlite3 curl python3
  libcaf-dev libcpp-httplib-dev nlohmann-json3-dev doctest-dev libsqlite3-dev prometheus-cpp-dev
  libhowardhinnant-date-dev libssl-dev wrk nginx-light clang libclang-rt-14-dev
  prometheus  # promtool, for `promtool check metrics` in the tests
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
