#!/usr/bin/env bash
# The run command: installs dependencies, builds, seeds a demo database if absent, starts the server.
# Environment: DB (default data/demo.db), PORT (default 8080), USERS (default 10000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
db=${DB:-data/demo.db}
mkdir -p "$(dirname "$db")"
if [ ! -f "$db" ]; then
  build/booking-seed --db="$db" --users="${USERS:-10000}" --weeks=12 --tokens-out="$db.tokens.csv"
else
  echo "using existing database $db (tokens in $db.tokens.csv)"
fi
if [ -x build/booking-server ]; then
  exec build/booking-server --db="$db" --port="${PORT:-8080}" "$@"
fi
echo "demo data ready in $db"
