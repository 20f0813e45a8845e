#!/bin/sh
# `make demo`: a hub full of synthetic demo data in ./spotlight.db.
# (Run after `make`, which installs the dependencies and builds.)
set -eu
cd "$(dirname "$0")/.."
DB="${SPOTLIGHT_DB:-spotlight.db}"
RECORDS="${RECORDS:-20000}"
if [ -f "$DB" ]; then
  echo "demo: $DB exists; keeping it (remove it for a fresh demo hub)"
else
  ./spotlight --db "$DB" init
  ./spotlight --db "$DB" demo --records "$RECORDS" --seed 1
fi
./spotlight --db "$DB" org list
./spotlight --db "$DB" stats industries-by-year --org-region Asia --year-from 2021
if ./spotlight help serve >/dev/null 2>&1; then
  echo "demo: serving the dashboard on http://127.0.0.1:8080 (Ctrl-C to stop)"
  exec ./spotlight --db "$DB" serve --listen 127.0.0.1:8080
fi
echo "demo: try  ./spotlight --db $DB stats nationality   (spotlight help lists every command)"
