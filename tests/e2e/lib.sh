# Shared helpers for end-to-end tests (sourced). $SPOTLIGHT is the binary
# under test (the sanitized build); $SP_SHARED the shared data folder.
set -u
: "${SPOTLIGHT:=./build/asan/spotlight}"
: "${SP_SHARED:=../shared/data}"
T=$(mktemp -d /tmp/spotlight-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
sp() { "$SPOTLIGHT" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_exit CODE CMD...: runs CMD, checks its exit status
expect_exit() {
  want=$1; shift
  set +e; "$@" >"$T/out" 2>"$T/err"; got=$?; set -e
  [ "$got" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "'$*' exited $got, expected $want"; }
}
# contains FILE TEXT
contains() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 does not contain '$2'"; }; }
