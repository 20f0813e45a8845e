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
  # Accounts to try the portal with, each with a random password, kept in
  # demo-accounts.txt (readable by this user only) and printed below.
  umask 077
  : > demo-accounts.txt
  for who in "contributor@demo.org contributor" "analyst@demo.org analyst" "admin@demo.org admin"; do
    set -- $who
    pw="demo-$(head -c 15 /dev/urandom | base64 | tr '+/' '-_')"
    printf '%s\n' "$pw" | ./spotlight --db "$DB" user add "$1" --org "Demo: Lao Safe Homecoming" \
      --role "$2" --password-stdin >/dev/null
    printf '%-24s %-12s %s\n' "$1" "$2" "$pw" >> demo-accounts.txt
  done
fi
if [ -f demo-accounts.txt ]; then
  echo "demo: portal accounts (sign in at http://127.0.0.1:8080/login; also in demo-accounts.txt):"
  cat demo-accounts.txt
fi
./spotlight --db "$DB" org list
./spotlight --db "$DB" stats industries-by-year --org-region Asia --year-from 2021
if ./spotlight help serve >/dev/null 2>&1; then
  echo "demo: serving the dashboard on http://127.0.0.1:8080 (Ctrl-C to stop)"
  exec ./spotlight --db "$DB" serve --listen 127.0.0.1:8080
fi
echo "demo: try  ./spotlight --db $DB stats nationality   (spotlight help lists every command)"
