#!/bin/sh
# Installs what spotlight needs to build and test, from Debian's packages only.
# Run as root (or with sudo available). Safe to run again: apt skips what is there.
set -eu
PKGS="build-essential pkg-config libsqlite3-dev sqlite3 libjansson-dev libzip-dev \
libexpat1-dev libsodium-dev libunistring-dev zlib1g-dev iso-codes clang libclang-rt-14-dev valgrind zip unzip \
python3"
[ "${1:-}" = "--bench" ] && PKGS="$PKGS nginx-light wrk hyperfine time"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The browser test (tests/browser): node, npm and Debian's chromium. Looked up
# by command, not package: a node from another Debian repository brings its
# own npm, and Debian's npm package would conflict with it.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
