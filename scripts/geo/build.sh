#!/bin/sh
# Derives geo/*.json (embedded in the binary) from world-atlas (Natural
# Earth admin-0), Natural Earth 1:10m admin-1 and geoBoundaries LAO ADM1.
# Development time only: needs node >= 18 and npm. Packages (pinned in
# package.json) go into a temporary directory, never into the tree.
# Usage: sh scripts/geo/build.sh [shared-data-dir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${1:-${SP_SHARED:-$root/../shared/data}}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$tmp/"
(cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts --silent)
NODE_PATH="$tmp/node_modules" node "$here/build.js" "$tmp/node_modules" "$shared/geo" "$root/geo"
